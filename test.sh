#!/usr/bin/env bash
# Installs deps, builds with AddressSanitizer + UBSan and warnings as errors, runs every test.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/deps.sh --test
BUILD_DIR=${BUILD_DIR:-build-test}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DVOLLEY_SANITIZE=ON -DVOLLEY_WERROR=ON >/dev/null
cmake --build "$BUILD_DIR"
# LSan needs ptrace-free leak checks; halt on the first UB report so it cannot scroll by.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)" "$@"
