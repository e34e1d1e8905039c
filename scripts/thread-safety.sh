#!/bin/sh
# Builds the three programs with clang's thread-safety analysis as errors:
# every ABSL_GUARDED_BY / ABSL_EXCLUSIVE_LOCKS_REQUIRED is then checked by
# the compiler, not a comment (a guarded member read without its mutex
# fails the build). Run by .ci/run.
#   scripts/thread-safety.sh            (build dir: build-tsa)
set -eu
cd "$(dirname "$0")/.."
CXX=clang++-14 CC=clang-14 cmake -S . -B build-tsa -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS="-Wthread-safety -Werror=thread-safety" >/dev/null
cmake --build build-tsa --target danegated danegate danegate-agent
echo "thread-safety: the analysis passes"
