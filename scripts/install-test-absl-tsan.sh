#!/bin/sh
# Builds Abseil with ThreadSanitizer from Debian 12's own abseil source (the
# same version, patches and inline namespace as libabsl20220623), into a
# private prefix for scripts/tsan.sh. Debian's libabsl is not instrumented,
# and TSan cannot see the synchronisation of an uninstrumented absl::Mutex:
# every lock would look like a race. Loaded in its place (LD_LIBRARY_PATH),
# it serves danegate and Debian's gRPC alike. Idempotent; about 1 minute.
#   scripts/install-test-absl-tsan.sh [PREFIX]  (default /opt/danegate-test/absl-tsan)
set -eu
PREFIX=${1:-/opt/danegate-test/absl-tsan}
version=$(dpkg-query -W -f='${Version}' libabsl20220623)
if [ -f "$PREFIX/.version" ] && [ "$(cat "$PREFIX/.version")" = "$version" ]; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
src_list=/etc/apt/sources.list.d/danegate-deb-src.sources
if [ ! -f "$src_list" ]; then
  # The same mirrors as the binary packages, for source packages.
  sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources | $SUDO tee "$src_list" >/dev/null
  $SUDO apt-get update -qq
fi
dpkg-query -W -f='${Status}' dpkg-dev 2>/dev/null | grep -q "install ok installed" ||
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends dpkg-dev >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get source --download-only "abseil=$version" >/dev/null 2>&1 ||
  apt-get -o APT::Sandbox::User=root source --download-only "abseil=$version" >/dev/null
dpkg-source -x abseil_*.dsc src >/dev/null 2>&1
cmake -S src -B build -G Ninja -DCMAKE_CXX_STANDARD=17 -DBUILD_SHARED_LIBS=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS=-fsanitize=thread \
  -DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=thread -DCMAKE_INSTALL_PREFIX="$PREFIX" >/dev/null
cmake --build build >/dev/null
$SUDO cmake --install build >/dev/null
echo "$version" | $SUDO tee "$PREFIX/.version" >/dev/null
