#!/bin/sh
# Builds Exim linked with OpenSSL (upstream's default, as RHEL/EPEL and
# FreeBSD ship it) from Debian 12's own exim4 source, into a private prefix
# for the end-to-end tests: Debian's exim4 uses GnuTLS, and the two TLS
# builds obey a denied certificate differently. The binary is also reachable
# as exim4 there (bounces re-exec "exim4 -t"). Idempotent; about 1 minute.
#   scripts/install-test-exim-openssl.sh [PREFIX]  (default /opt/danegate-test/exim-openssl)
set -eu
PREFIX=${1:-/opt/danegate-test/exim-openssl}
if [ -x "$PREFIX/bin/exim4" ] && "$PREFIX/bin/exim4" -bV 2>/dev/null | grep -q OpenSSL; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
need=""
for p in dpkg-dev libssl-dev libpcre2-dev libdb5.3-dev make gcc; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need="$need $p"
done
src_list=/etc/apt/sources.list.d/danegate-deb-src.sources
if [ ! -f "$src_list" ]; then
  # The same mirrors as the binary packages, for source packages.
  sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources | $SUDO tee "$src_list" >/dev/null
  $SUDO apt-get update -qq
fi
if [ -n "$need" ]; then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
cd "$work"
# The installed exim4's version first; a version can be missing on one
# mirror, so every version apt knows is tried.
for v in $(dpkg-query -W -f='${Version}' exim4-base 2>/dev/null) \
         $(apt-cache showsrc exim4 | sed -n 's/^Version: //p'); do
  if apt-get source --download-only "exim4=$v" >/dev/null 2>&1 ||
     apt-get -o APT::Sandbox::User=root source --download-only "exim4=$v" >/dev/null 2>&1; then
    break
  fi
done
dsc=$(ls exim4_*.dsc | head -n 1)
dpkg-source -x "$dsc" src >/dev/null 2>&1
cd src
getent passwd Debian-exim >/dev/null || { echo "no Debian-exim user (install exim4 first)" >&2; exit 1; }
sed -e 's/^# *USE_OPENSSL=yes/USE_OPENSSL=yes/' \
    -e 's/^# *TLS_LIBS=-lssl -lcrypto/TLS_LIBS=-lssl -lcrypto/' \
    -e 's/^# *EXPAND_DLFUNC=yes/EXPAND_DLFUNC=yes/' \
    -e 's/^# *DISABLE_DKIM=yes/DISABLE_DKIM=yes/' \
    -e 's/^# *HAVE_IPV6=yes/HAVE_IPV6=yes/' \
    -e 's/^PCRE2_CONFIG=.*/# &/' \
    -e 's|^BIN_DIRECTORY=.*|BIN_DIRECTORY='"$PREFIX"'/bin|' \
    -e 's|^CONFIGURE_FILE=.*|CONFIGURE_FILE='"$PREFIX"'/configure|' \
    -e 's|^# *SPOOL_DIRECTORY=.*|SPOOL_DIRECTORY='"$PREFIX"'/spool|' \
    -e 's|^SPOOL_DIRECTORY=.*|SPOOL_DIRECTORY='"$PREFIX"'/spool|' \
    -e 's|^EXIM_USER=.*|EXIM_USER=ref:Debian-exim|' \
    src/EDITME > Local/Makefile
cat >> Local/Makefile <<'EOF'
PCRE_LIBS=-lpcre2-8
EVENT_ACTION=yes
SUPPORT_DANE=yes
EOF
make -j"$(nproc)" >build.log 2>&1 || { tail -40 build.log >&2; exit 1; }
$SUDO mkdir -p "$PREFIX/bin" "$PREFIX/spool"
$SUDO install -m 4755 build-*/exim "$PREFIX/bin/exim"
$SUDO ln -sf exim "$PREFIX/bin/exim4"
$SUDO touch "$PREFIX/configure"
"$PREFIX/bin/exim4" -bV 2>/dev/null | grep -m1 "^Support for:.*OpenSSL" | sed "s|^|installed OpenSSL Exim in $PREFIX: |"
