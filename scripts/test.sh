#!/bin/sh
# Builds danegate and runs every test: unit tests, the architecture check,
# the integration tests against the DNSSEC lab (Knot DNS + Unbound), and the
# Kubernetes manifest checks (not repeated under --sanitize: no C++ there).
#   scripts/test.sh             the normal build
#   scripts/test.sh --sanitize  everything again under ASan + UBSan
set -eu
cd "$(dirname "$0")/.."
scripts/build.sh "$@"
cd "$( [ "${1:-}" = "--sanitize" ] && echo build-asan || echo build )"
DANEGATE_SANITIZED=$( [ "${1:-}" = "--sanitize" ] && echo 1 || echo 0 ) \
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
LSAN_OPTIONS=suppressions=$PWD/../tests/lsan.supp \
  ctest --output-on-failure -j "$(nproc)" \
    $( [ "${1:-}" = "--sanitize" ] && echo "-LE deploy" )
