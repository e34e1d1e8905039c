#!/bin/sh
# ThreadSanitizer: builds the unit tests and the programs with
# -fsanitize=thread against an Abseil built with it too
# (scripts/install-test-absl-tsan.sh), then runs the unit tests and the
# service's integration tests (danegated under load, cancelled calls, TLS
# reloads, shutdown). A report ends the process that made it
# (halt_on_error), so the test it served fails. Run by .ci/run.
#   scripts/tsan.sh            (build dir: build-tsan)
set -eu
cd "$(dirname "$0")/.."
absl=/opt/danegate-test/absl-tsan
scripts/install-test-absl-tsan.sh "$absl"
cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDANEGATE_WERROR=ON \
  -DCMAKE_PREFIX_PATH="$absl" -DCMAKE_CXX_FLAGS=-fsanitize=thread \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread -Wl,--disable-new-dtags,-rpath,$absl/lib" \
  -DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=thread >/dev/null
cmake --build build-tsan
cd build-tsan
# An RPATH (not RUNPATH: it reaches the libraries' own dependencies) makes
# gRPC load the instrumented Abseil too; Python's gRPC, in the tests, keeps
# Debian's.
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 history_size=4 suppressions=$PWD/../tests/tsan.supp"
ctest --output-on-failure -L unit -j "$(nproc)"
cd ../tests/integration
DANEGATE_BIN=../../build-tsan/service/danegate DANEGATED_BIN=../../build-tsan/service/danegated \
DANEGATE_AGENT_BIN=../../build-tsan/plugin/danegate-agent \
DANEGATE_EXIM_SO=../../build-tsan/plugin/danegate_exim.so \
  /usr/bin/python3 -m pytest -q -p no:cacheprovider test_service.py test_service_operations.py \
    test_agent.py "test_faults.py::test_a_call_past_its_deadline_stops_querying"
echo "tsan: no data race reported"
