#!/bin/sh
# Installs what danegate needs to build, test and run on Debian 12, skipping
# packages already present. Run as root (or with sudo available).
set -eu

PACKAGES="g++ cmake ninja-build pkg-config ccache
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc grpc-proto
  libabsl-dev libssl-dev libgetdns-dev libunbound-dev libevent-dev libmicrohttpd-dev libgtest-dev libgmock-dev libbenchmark-dev dns-root-data
  knot knot-dnsutils unbound ldnsutils python3 python3-pytest python3-cryptography
  python3-grpcio python3-grpc-tools
  exim4-daemon-heavy iproute2 openssl clang-14 clang-format-14 libclang-rt-14-dev systemd
  libdb5.3 libicu72 libnsl2 libsasl2-2"
# node and npm for the Kubernetes manifest checks (deploy/check.sh), unless
# the machine has them already (e.g. from NodeSource).
command -v node >/dev/null && command -v npm >/dev/null || PACKAGES="$PACKAGES nodejs npm"

missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing="$missing $p"
done
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
if [ -n "$missing" ]; then
  echo "setup: installing$missing"
  $SUDO apt-get update -qq
  # The knot and unbound packages are used as programs only; no service starts.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# Postfix for its end-to-end tests, unpacked beside Exim (the packages conflict).
$SUDO "$(dirname "$0")/install-test-postfix.sh"
# Exim linked with OpenSSL, beside Debian's GnuTLS exim4: the Exim tests run
# against both.
$SUDO "$(dirname "$0")/install-test-exim-openssl.sh"
# promtool, for the alert-rule tests (the prometheus package unpacked; no
# server installed or started).
$SUDO "$(dirname "$0")/install-test-promtool.sh"
