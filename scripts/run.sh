#!/bin/sh
# Starts danegated in the foreground (Ctrl-C or SIGTERM stops it).
#   scripts/run.sh [danegated flags]   resolve from the root (the default)
#   scripts/run.sh --lab [flags]       resolve through the DNSSEC lab's demo
#                                      zones (Knot DNS + Unbound on loopback)
# gRPC on 127.0.0.1:50051, Prometheus metrics on 127.0.0.1:9464/metrics.
set -eu
cd "$(dirname "$0")/.."
DANEGATED=build/service/danegated
[ -x "$DANEGATED" ] || scripts/build.sh
DEFAULTS="--listen=127.0.0.1:50051 --metrics-listen=127.0.0.1:9464"
if [ "${1:-}" != "--lab" ]; then
  exec "$DANEGATED" $DEFAULTS "$@"
fi
shift
LAB_DIR=$(mktemp -d /tmp/danegate-lab.XXXXXX)
/usr/bin/python3 tests/integration/lab/dnslab.py --dir "$LAB_DIR/lab" >"$LAB_DIR/lab.out" 2>&1 &
LAB_PID=$!
trap 'kill "$DG_PID" "$LAB_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$LAB_DIR"' EXIT INT TERM HUP
while ! grep -q "resolver flags" "$LAB_DIR/lab.out"; do
  kill -0 "$LAB_PID" 2>/dev/null || { cat "$LAB_DIR/lab.out"; exit 1; }
  sleep 0.1
done
FLAGS=$(sed -n 's/^resolver flags: //p' "$LAB_DIR/lab.out")
cat <<MSG
DNSSEC lab up; danegated starting on 127.0.0.1:50051. Try, in another shell:
  build/service/danegate policy --server=127.0.0.1:50051 d-311.dane.test
  build/service/danegate verify --server=127.0.0.1:50051 d-311.dane.test \\
      --mx mx-311.dane.test --chain $LAB_DIR/lab/certs/ee.pem
  curl -s http://127.0.0.1:9464/metrics
Lab domains: tests/integration/lab/scenarios.py. The lab serves dane.test
only: any other domain gets defer/dns_failure here (run without --lab to
resolve from the root). Ctrl-C stops everything.
MSG
"$DANEGATED" $DEFAULTS $FLAGS "$@" &
DG_PID=$!
wait "$DG_PID"
