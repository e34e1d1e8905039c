#!/bin/sh
# Unpacks Debian 12's Postfix 3.7 into a private prefix for the end-to-end
# tests, without installing the package: it conflicts with exim4, which the
# Exim tests need. Adds the libraries it links and the postfix user and
# postdrop group its daemons run as. Idempotent.
#   scripts/install-test-postfix.sh [PREFIX]   (default /opt/danegate-test/postfix)
set -eu
PREFIX=${1:-/opt/danegate-test/postfix}
if [ -x "$PREFIX/usr/lib/postfix/sbin/master" ] && [ -f /etc/ld.so.conf.d/danegate-test-postfix.conf ]; then
  exit 0
fi
# The libraries it links are in scripts/setup.sh's list.
getent group postdrop >/dev/null || groupadd --system postdrop
getent passwd postfix >/dev/null ||
  useradd --system --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin postfix
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"  # apt's download runs as _apt
(cd "$work" && apt-get download postfix >/dev/null 2>&1) ||
  (cd "$work" && apt-get -o APT::Sandbox::User=root download postfix >/dev/null)
mkdir -p "$PREFIX"
dpkg-deb -x "$work"/postfix_*.deb "$PREFIX"
# As the package's postinst does: the queue commands are set-gid postdrop.
chgrp postdrop "$PREFIX/usr/sbin/postqueue" "$PREFIX/usr/sbin/postdrop"
chmod 2755 "$PREFIX/usr/sbin/postqueue" "$PREFIX/usr/sbin/postdrop"
# Its programs' RUNPATH is /usr/lib/postfix, which is not there: the dynamic
# linker learns the prefix (set-gid programs ignore LD_LIBRARY_PATH).
echo "$PREFIX/usr/lib/postfix" >/etc/ld.so.conf.d/danegate-test-postfix.conf
ldconfig
"$PREFIX/usr/sbin/postconf" -c "$work" -d mail_version \
  2>/dev/null | sed 's/^/installed Postfix in '"$(echo "$PREFIX" | sed 's/[\/&]/\\&/g')"': /'
