#!/bin/sh
# Checks what `cmake --install` puts where, from a build tree: every file
# the docs and the units name is there; the flag files hold only flags the
# programs know; the systemd units are valid (systemd-analyze verify, their
# ExecStart pointed into the scratch root) and hardened (systemd-analyze
# security --offline: exposure at most 2.0 of 10). The Debian packages are
# built and installed on a clean root by deploy/build-image.sh.
#   scripts/check-packaging.sh [BUILD_DIR]   (default build)
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
DESTDIR=$root cmake --install "$build" >/dev/null
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
etc=$([ "$prefix" = /usr ] && echo /etc || echo "$prefix/etc")
fail() { echo "check-packaging: $*" >&2; exit 1; }
for f in "$prefix/bin/danegate" "$prefix/sbin/danegated" "$prefix/sbin/danegate-agent" \
         "$prefix/sbin/danegate-postfix" "$prefix/lib/danegate/danegate_exim.so" \
         "$prefix/share/danegate/exim/danegate_routers.conf" \
         "$prefix/share/danegate/exim/danegate_transports.conf" \
         "$prefix/lib/systemd/system/danegated.service" \
         "$prefix/lib/systemd/system/danegate-agent.service" \
         "$etc/danegate/danegated.flags" "$etc/danegate/agent.flags" \
         "$prefix/share/doc/danegate/copyright"; do
  [ -e "$root$f" ] || fail "not installed: $f"
done
# Unknown flags fail the expansion; --version after them ends the parse.
"$root$prefix/sbin/danegated" --flagfile="$root$etc/danegate/danegated.flags" --version >/dev/null ||
  fail "danegated.flags"
"$root$prefix/sbin/danegate-agent" --flagfile="$root$etc/danegate/agent.flags" --version >/dev/null ||
  fail "agent.flags"
mkdir "$root/units"
for unit in danegated danegate-agent; do
  sed -e "s|ExecStart=/usr/sbin/|ExecStart=$root$prefix/sbin/|" \
      -e "s|--flagfile=/etc/|--flagfile=$root$etc/|" \
      "$root$prefix/lib/systemd/system/$unit.service" >"$root/units/$unit.service"
  out=$(systemd-analyze verify --man=no "$root/units/$unit.service" 2>&1) || fail "$unit: $out"
  [ -z "$out" ] || fail "$unit: $out"
  systemd-analyze security --offline=yes --threshold=20 --no-pager "$root/units/$unit.service" \
    >"$root/security.txt" 2>&1 || { cat "$root/security.txt"; fail "$unit: exposure above 2.0"; }
  echo "check-packaging: $unit.service $(grep 'Overall exposure' "$root/security.txt" | sed 's/.*: //')"
done
echo "check-packaging: ok"
