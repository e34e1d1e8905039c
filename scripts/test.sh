#!/bin/sh
# Builds danegate and runs every test: unit tests, the architecture check,
# and the integration tests against the DNSSEC lab (Knot DNS + Unbound).
set -eu
cd "$(dirname "$0")/.."
scripts/build.sh
cd build
ctest --output-on-failure -j "$(nproc)"
