#!/bin/sh
# Runs every benchmark against the current build and prints the figures.
set -eu
cd "$(dirname "$0")/.."
[ -x build/plugin/danegate_exim.so ] || scripts/build.sh
echo "== Exim plugin overhead (bench/exim_plugin.py)"
/usr/bin/python3 bench/exim_plugin.py "$@"
