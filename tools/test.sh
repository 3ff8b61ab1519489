#!/usr/bin/env bash
# Builds txmsg and runs every test (unit, integration, fault) with ctest.
# The README's test command and what CI runs. Exits non-zero on any failure.
#   BUILD_DIR   build directory (default: ./build)
#   CTEST_ARGS  extra ctest arguments, e.g. "-L unit" or "-R Log"
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/setup-deps.sh

BUILD_DIR=${BUILD_DIR:-build}
# A developer's machine with ccache rebuilds in seconds; CI's fresh one has none.
launcher=()
if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTXMSG_WERROR=ON "${launcher[@]}"
cmake --build "$BUILD_DIR" -j2

# Tests use loopback ports and temp dirs, never shared state: two at a time
# fits the 2-core machine.
# shellcheck disable=SC2086
ctest --test-dir "$BUILD_DIR" --output-on-failure --timeout 600 -j2 ${CTEST_ARGS:-}
