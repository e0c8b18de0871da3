#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's test command and what .ci/run calls: install what is missing, build the
# test build (Debug: ASan + UBSan, -Werror) and run the whole ctest suite.
# Extra arguments go to ctest (e.g. scripts/test.sh -L unit, or -LE slow).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${SIFT_TEST_BUILD_DIR:-$root/build/test}

"$root/scripts/install-deps.sh" all
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DSIFT_SANITIZE=ON -DSIFT_WERROR=ON >/dev/null
cmake --build "$build" -j "$(nproc)"
cd "$build"
ctest --output-on-failure -j "$(nproc)" "$@"
