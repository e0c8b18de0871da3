#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# auto_explain JSON plans (docs/plans.md, "Why JSON plans have their own scanner"):
# builds the Release build (-O3, no sanitizers) and runs tests/bench/bench_plan_json.c,
# which parses every JSON plan of the fixtures with plan_parse_json() and with jansson's
# json_loadb() alone, and prints microseconds per plan and the ratio.
#
#   scripts/bench/plans.sh
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${SIFT_BENCH_BUILD:-$root/build/bench}
case ${1:-} in
  -h | --help) sed -n '2,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
  "") ;;
  *) echo "bench/plans.sh: unknown argument '$1'" >&2; exit 2 ;;
esac
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target bench_plan_json >/dev/null
echo "bench plans: $(uname -m), $(nproc) cores; jansson $(pkg-config --modversion jansson 2>/dev/null || echo '?')"
exec "$build/tests/bench_plan_json" "$root"
