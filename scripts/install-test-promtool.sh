#!/bin/sh
# Unpacks promtool from Debian 12's prometheus package into a private prefix
# for the alert-rule tests, without installing the package (which would add
# and start a Prometheus server). Idempotent.
#   scripts/install-test-promtool.sh [PREFIX]   (default /opt/danegate-test/prometheus)
set -eu
PREFIX=${1:-/opt/danegate-test/prometheus}
if [ -x "$PREFIX/usr/bin/promtool" ]; then
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"  # apt's download runs as _apt
(cd "$work" && apt-get download prometheus >/dev/null 2>&1) ||
  (cd "$work" && apt-get -o APT::Sandbox::User=root download prometheus >/dev/null)
mkdir -p "$work/x" "$PREFIX/usr/bin"
dpkg-deb -x "$work"/prometheus_*.deb "$work/x"
cp "$work/x/usr/bin/promtool" "$PREFIX/usr/bin/promtool"
"$PREFIX/usr/bin/promtool" --version 2>&1 | head -1 | sed "s|^|installed in $PREFIX: |"
