#!/bin/sh
# Shows the DANE engine on the lab's demo zones: starts the DNSSEC lab
# (Knot DNS + Unbound on loopback), asks `danegate --local` about a few
# domains, and stops the lab. Until danegated exists, this is "run".
set -eu
cd "$(dirname "$0")/.."
LAB_DIR=$(mktemp -d /tmp/danegate-lab.XXXXXX)
/usr/bin/python3 tests/integration/lab/dnslab.py --dir "$LAB_DIR/lab" >"$LAB_DIR/lab.out" 2>&1 &
LAB_PID=$!
trap 'kill "$LAB_PID" 2>/dev/null; wait "$LAB_PID" 2>/dev/null; rm -rf "$LAB_DIR"' EXIT INT TERM HUP PIPE
# The lab prints its flags once Knot and Unbound are serving.
while ! grep -q "resolver flags" "$LAB_DIR/lab.out"; do
  kill -0 "$LAB_PID" 2>/dev/null || { cat "$LAB_DIR/lab.out"; exit 1; }
  sleep 0.1
done
FLAGS=$(sed -n 's/^resolver flags: //p' "$LAB_DIR/lab.out")
DANEGATE=build/service/danegate
for domain in d-311.dane.test d-ta.dane.test d-unusable.dane.test insec.dane.test \
              d-bogus-second.dane.test d-nullmx.dane.test; do
  echo "\$ danegate policy --local $domain"
  $DANEGATE policy --local $FLAGS "$domain" || echo "(exit status $?)"
  echo
done
echo "\$ danegate verify --local d-311.dane.test --mx mx-311.dane.test --chain other.pem"
$DANEGATE verify --local $FLAGS d-311.dane.test --mx mx-311.dane.test \
  --chain "$LAB_DIR/lab/certs/other.pem" || echo "(exit status $?)"
