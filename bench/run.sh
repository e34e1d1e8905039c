#!/bin/sh
# Runs every benchmark against the current build and prints the figures:
# in-process baselines, the service under load (ratios to the empty-RPC
# ceiling of the same run), cold path, coalescing, cache memory, and the
# Exim plugin's cost per delivery, the Postfix lookup latency.
set -eu
cd "$(dirname "$0")/.."
[ -x build/bench/danegate-loadgen ] || scripts/build.sh
echo "== In-process baselines (Google Benchmark)"
build/bench/danegate-engine-bench --benchmark_min_time=0.3
echo
echo "== danegated under load (bench/service_bench.py)"
/usr/bin/python3 bench/service_bench.py
echo
echo "== Exim plugin overhead (bench/exim_plugin.py)"
/usr/bin/python3 bench/exim_plugin.py
echo
echo "== Lookup latency through danegate-agent, Postfix and Exim tables (bench/agent_lookup.py)"
/usr/bin/python3 bench/agent_lookup.py
echo
echo "== Memory under sustained load (bench/soak.py)"
/usr/bin/python3 bench/soak.py
