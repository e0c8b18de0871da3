#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark: the daily HTML report for a day with 100 000 query shapes must be written
# in at most 2 s and weigh at most 2 MB (issue 9). Prints the figures; exits 1 when a
# limit is exceeded. `scripts/bench.sh report` dispatches here.
#
# The day is a synthetic store: 100 000 statement shapes on 2026-11-24 (1 to 3 calls
# each, spread over the day, three databases, seven users) and 60 000 of them on each
# of the two days before (the baseline), loaded with `sift-test-tool store-load` (not
# timed). Timed: `pgsift report --day 2026-11-24 -o report.html` (store reads, analysis,
# rendering, the atomic write), best of --runs. A second figure renders an in-memory
# model of the same size (sift-test-tool report-synth), i.e. without the store.
#
#   scripts/bench/report.sh [--fingerprints N] [--runs N] [--keep DIR]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${SIFT_BENCH_BUILD:-$root/build/release}
fingerprints=100000
runs=3
keep=
while (($#)); do
  case $1 in
    --fingerprints) fingerprints=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    *) echo "usage: $0 [--fingerprints N] [--runs N] [--keep DIR]" >&2; exit 2 ;;
  esac
done

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSIFT_TESTS=ON >/dev/null
cmake --build "$build" -j2 --target sift-test-tool pgsift >/dev/null
tool=$build/tests/sift-test-tool
pgsift=$build/pgsift
tmp=${keep:-$(mktemp -d)}
mkdir -p "$tmp"
[[ -n $keep ]] || trap 'rm -rf "$tmp"' EXIT

ms_now() { echo $(($(date +%s%N) / 1000000)); }

t0=$(ms_now)
awk -v n="$fingerprints" 'BEGIN {
  srand(7)
  for (day = 22; day <= 24; day++) {
    m = (day == 24) ? n : int(n * 0.6)
    for (f = 1; f <= m; f++) {
      c = (day == 24) ? 1 + (f % 3) : 1
      for (k = 0; k < c; k++) {
        s = (f * 37 + k * 911) % 86400
        printf "{\"ts\":\"2026-11-%02dT%02d:%02d:%02d.%03dZ\",\"kind\":\"duration\",", day, int(s / 3600), int(s / 60) % 60, s % 60, k
        printf "\"duration_ms\":%.3f,\"database\":\"db%d\",\"user\":\"u%d\",", 0.05 + (f % 97) * rand(), f % 3, f % 7
        printf "\"fingerprint\":\"%08x%08x\",", f, (f * 40503) % 65536
        printf "\"normalized\":\"SELECT c%d, c%d FROM t%d WHERE id = $1 AND x > $2\"}\n", f, f % 13, f % 50
      }
    }
  }
}' > "$tmp/events.ndjson"
rm -f "$tmp/bench.db"
"$tool" store-load --db "$tmp/bench.db" --batch 1000000 "$tmp/events.ndjson" >/dev/null 2>&1
t1=$(ms_now)
echo "setup: $(wc -l < "$tmp/events.ndjson") events loaded in $((t1 - t0)) ms ($(stat -c %s "$tmp/bench.db") bytes of store)"

max_ms=2000
max_bytes=$((2 * 1000 * 1000))
best=
for ((i = 1; i <= runs; i++)); do
  rm -f "$tmp/report.html"
  a=$(ms_now)
  "$pgsift" -v --db "$tmp/bench.db" report --day 2026-11-24 --tz UTC -o "$tmp/report.html" 2>"$tmp/detail"
  b=$(ms_now)
  ms=$((b - a))
  [[ -z $best || $ms -lt $best ]] && best=$ms
  echo "run $i: ${ms} ms ($(sed 's/^pgsift: report: //' "$tmp/detail"))"
done
bytes=$(stat -c %s "$tmp/report.html")
shapes=$("$pgsift" --db "$tmp/bench.db" report --day 2026-11-24 --format json | jq .shapes 2>/dev/null || echo "?")
"$pgsift" --db "$tmp/bench.db" report --day 2026-11-24 -o "$tmp/report.md"
"$pgsift" --db "$tmp/bench.db" report --day 2026-11-24 -o "$tmp/report.json"
model=$("$tool" report-synth --fingerprints "$fingerprints" -o "$tmp/model.html" 2>&1)

echo "report: $shapes query shapes in the day"
echo "  html from the store: best ${best} ms (limit ${max_ms} ms), $bytes bytes (limit $max_bytes)"
echo "  md: $(stat -c %s "$tmp/report.md") bytes, json: $(stat -c %s "$tmp/report.json") bytes"
echo "  in-memory model of the same size: $model"
status=0
((best <= max_ms)) || { echo "report: too slow" >&2; status=1; }
((bytes <= max_bytes)) || { echo "report: too large" >&2; status=1; }
exit $status
