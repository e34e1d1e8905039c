#!/bin/sh
# Builds the danegated image offline with podman and checks that it works:
# started read-only, as its non-root user, with every capability dropped,
# resolving through the DNSSEC lab, its health service answers SERVING on the
# plaintext health port, the Validator answers over gRPC, and SIGTERM makes
# it exit 0. Run by .ci/run (about 3 minutes from nothing, seconds when cached).
#   deploy/build-image.sh [TAG]       (default localhost/danegated:dev)
set -eu
cd "$(dirname "$0")/.."
TAG=${1:-localhost/danegated:dev}
BASE=docker.io/library/debian:bookworm-slim
export CONTAINERS_CONF=$PWD/deploy/containers.conf
if ! command -v podman >/dev/null || ! command -v runc >/dev/null ||
   ! command -v debootstrap >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    podman runc debootstrap >/dev/null
fi

# No registry here: the Dockerfile's base is made with debootstrap, once.
if ! podman image exists "$BASE"; then
  root=$(mktemp -d)
  echo "build-image: debootstrap bookworm (minbase) for $BASE"
  debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >/dev/null
  tar -C "$root" -c . | podman import - "$BASE" >/dev/null
  rm -rf "$root"
fi

start=$(date +%s)
podman build --pull=never --isolation=chroot --build-arg BASE_IMAGE="$BASE" \
  -f deploy/Dockerfile -t "$TAG" .
echo "build-image: built $TAG in $(( $(date +%s) - start )) s, $(podman image inspect "$TAG" --format '{{.Size}}') bytes"

# The image is the danegate package installed on a clean Debian root:
# the package's files are there, its user kept the fixed uid.
installed=$(podman run --rm --entrypoint /bin/sh "$TAG" -c '
  dpkg -s danegate | grep -q "^Status: install ok installed" &&
  for f in /usr/sbin/danegated /usr/sbin/danegate-agent /usr/bin/danegate \
           /usr/lib/systemd/system/danegated.service /etc/danegate/danegated.flags; do
    [ -e "$f" ] || { echo "missing $f"; exit 1; }
  done &&
  [ "$(id -u danegate)" = 10001 ] && /usr/sbin/danegated --version') ||
  { echo "build-image: the package is not installed as it should be: $installed"; exit 1; }
echo "build-image: package installed: $installed"

# Run it the way the Deployment does, against the lab.
work=$(mktemp -d)
lab_pid=""
cleanup() {
  [ -n "${cid:-}" ] && podman rm -f "$cid" >/dev/null 2>&1
  [ -n "$lab_pid" ] && kill "$lab_pid" 2>/dev/null && wait "$lab_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
/usr/bin/python3 tests/integration/lab/dnslab.py --dir "$work/lab" >"$work/lab.out" 2>&1 &
lab_pid=$!
while ! grep -q "resolver flags" "$work/lab.out"; do
  kill -0 "$lab_pid" 2>/dev/null || { cat "$work/lab.out"; exit 1; }
  sleep 0.1
done
flags=$(sed -n 's/^resolver flags: //p' "$work/lab.out" | sed "s|$work/lab|/lab|g")
chmod -R a+rX "$work"
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
health=$((port + 1))
# shellcheck disable=SC2086
cid=$(podman run -d --network=host --read-only --cap-drop=ALL --security-opt=no-new-privileges \
  -v "$work/lab:/lab:ro" "$TAG" --listen=127.0.0.1:$port --health-listen=127.0.0.1:$health \
  --metrics-listen=127.0.0.1:0 $flags)
echo "build-image: container $cid, user $(podman inspect "$cid" --format '{{.Config.User}}')"
/usr/bin/python3 deploy/image_probe.py "127.0.0.1:$health" "127.0.0.1:$port"
podman kill --signal TERM "$cid" >/dev/null
status=$(podman wait "$cid")
podman logs "$cid" 2>&1 | tail -3
[ "$status" = 0 ] || { echo "build-image: exit status $status after SIGTERM"; exit 1; }
echo "build-image: SERVING, answered, SIGTERM -> exit 0"
