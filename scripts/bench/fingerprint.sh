#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fingerprinting speed (docs/fingerprint.md, "Speed"): builds the Release build
# (-O3, no sanitizers) and runs tests/bench/bench_fingerprint.c pinned to one core. It
# fingerprints every fixture statement (tests/fixtures/pg15/<run>/postgresql.json, or
# $SIFT_FIXTURES_DIR/pg15/) with pgsift and, in the same run, with libpg_query's
# pg_query_fingerprint when libpg-query-dev is installed, and prints both rates and the
# ratio. Exit status 1 if the timed pgsift loop allocated memory.
#
#   scripts/bench/fingerprint.sh [--seconds S]     (default 2 s of CPU per tool)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${SIFT_BENCH_BUILD:-$root/build/bench}
seconds=2
while (($#)); do
  case $1 in
    --seconds) seconds=${2:?--seconds needs a value}; shift 2 ;;
    -h | --help) sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/fingerprint.sh: unknown option '$1' (expected: --seconds S)" >&2; exit 2 ;;
  esac
done
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target bench_fingerprint pgsift >/dev/null
pin=()
if command -v taskset >/dev/null 2>&1; then
  pin=(taskset -c "$(taskset -pc $$ | sed 's/.*: //; s/[,-].*//')")
fi
echo "bench fingerprint: $(uname -m), $(nproc) cores, one used; $("$build/pgsift" version | head -2 | tr '\n' ' ')"
exec "${pin[@]}" "$build/tests/bench_fingerprint" "$root" --seconds "$seconds"
