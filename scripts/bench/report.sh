#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark: the daily HTML report for a day with 100 000 query shapes must be written
# in at most 2 s and weigh at most 2 MB (issue 9). Prints the figures; exits 1 when a
# limit is exceeded. `scripts/bench.sh report` dispatches here.
#
# Until the store lands, the day is a synthetic report model built in memory
# (sift-test-tool report-synth: 100 000 shapes, errors, events, rejects); the time
# measured is model + analysis + rendering + the atomic write.
#
#   scripts/bench/report.sh [--fingerprints N] [--runs N]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${SIFT_BENCH_BUILD_DIR:-$root/build/release}
fingerprints=100000
runs=3
while (($#)); do
  case $1 in
    --fingerprints) fingerprints=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "usage: $0 [--fingerprints N] [--runs N]" >&2; exit 2 ;;
  esac
done

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target sift-test-tool pgsift >/dev/null
tool=$build/tests/sift-test-tool
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

max_ms=2000
max_bytes=$((2 * 1000 * 1000))
best=
for ((i = 1; i <= runs; i++)); do
  rm -f "$tmp/report.html"
  t0=$(date +%s%N)
  "$tool" report-synth --fingerprints "$fingerprints" --format html -o "$tmp/report.html" 2>"$tmp/detail"
  t1=$(date +%s%N)
  ms=$(((t1 - t0) / 1000000))
  [[ -z $best || $ms -lt $best ]] && best=$ms
  echo "run $i: ${ms} ms wall ($(cat "$tmp/detail"))"
done
bytes=$(stat -c %s "$tmp/report.html")
"$tool" report-synth --fingerprints "$fingerprints" --format md -o "$tmp/report.md" 2>/dev/null
"$tool" report-synth --fingerprints "$fingerprints" --format json -o "$tmp/report.json" 2>/dev/null
echo "report: $fingerprints query shapes in a day"
echo "  html: best ${best} ms wall (limit ${max_ms} ms), $bytes bytes (limit $max_bytes)"
echo "  md:   $(stat -c %s "$tmp/report.md") bytes; json: $(stat -c %s "$tmp/report.json") bytes"
status=0
((best <= max_ms)) || { echo "report: too slow" >&2; status=1; }
((bytes <= max_bytes)) || { echo "report: too large" >&2; status=1; }
exit $status
