#!/bin/sh
# Configures and builds danegate (warnings are errors).
#   scripts/build.sh             -> ./build (RelWithDebInfo)
#   scripts/build.sh --sanitize  -> ./build-asan (Debug, ASan + UBSan)
set -eu
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--sanitize" ]; then
  san="-fsanitize=address,undefined -fno-omit-frame-pointer"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DDANEGATE_WERROR=ON \
    -DCMAKE_CXX_FLAGS="$san" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
  cmake --build build-asan -j "$(nproc)"
else
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDANEGATE_WERROR=ON >/dev/null
  cmake --build build -j "$(nproc)"
fi
