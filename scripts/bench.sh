#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmarks on a Release build (-O3 with LTO, no sanitizers). One mode per stage; each prints
# throughput and peak RSS (from wait4(), through `sift-test-tool rusage`).
#
#   scripts/bench.sh parse [MB]    csvlog and jsonlog parsing (`pgsift parse --stats`)
#                                  on >= MB (default 200) built from tests/fixtures/pg15,
#                                  the jansson-only jsonlog path, .gz against `zcat`, and
#                                  peak RSS at a quarter of the size (must not grow)
#   scripts/bench.sh MODE [ARGS]   any other mode runs scripts/bench/MODE.sh (fingerprint,
#                                  ingest, tail, report: each prints pgsift beside its peer)
#
# Inputs are built in a temporary directory (removed at exit; SIFT_KEEP_TMP=1 keeps it).
# The machine is shared: run one benchmark at a time and keep them short.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${SIFT_BENCH_BUILD:-$root/build/bench}

usage() {
  sed -n '4,12p' "$0" | sed 's/^# \{0,1\}//'
  ls "$root"/scripts/bench/*.sh 2>/dev/null | sed 's#.*/#  available: #; s#\.sh$##'
  exit 2
}

release_build() {
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSIFT_TESTS=ON >/dev/null
  cmake --build "$build" -j2 --target pgsift sift-test-tool >/dev/null
}

# Concatenate the fixture files matching $1 until the output ($2) holds >= $3 MB.
build_input() {
  local pattern=$1 out=$2 mb=$3 want
  local files=("$root"/tests/fixtures/pg15/*/"$pattern")
  [[ -f ${files[0]} ]] || { echo "bench: no fixtures matching $pattern" >&2; exit 1; }
  want=$((mb * 1024 * 1024))
  cat "${files[@]}" > "$out.unit"
  : > "$out"
  while (($(stat -c %s "$out") < want)); do
    cat "$out.unit" "$out.unit" "$out.unit" "$out.unit" >> "$out"
  done
  rm -f "$out.unit"
}

# run LABEL BYTES CMD...: MB/s of CMD (stdout discarded) by CPU time (user + sys: the
# machine is shared, so wall time includes waiting for a core) and by wall time, and
# its peak RSS.
run() {
  local label=$1 bytes=$2 t0 t1 wall cpu rss user sys
  shift 2
  t0=$(date +%s.%N)
  # (CPU time and peak RSS from wait4(), to the microsecond: GNU time prints hundredths,
  # truncated)
  "$build/tests/sift-test-tool" rusage "$tmp/rusage.txt" "$@" > /dev/null
  t1=$(date +%s.%N)
  wall=$(echo "$t1 - $t0" | bc -l)
  read -r user sys rss <"$tmp/rusage.txt"
  cpu=$(echo "c = $user + $sys; if (c < 0.001) 0.001 else c" | bc -l)
  printf '%-30s %7.1f MB  cpu %6.2f s %7.1f MB/s  wall %6.2f s %7.1f MB/s  %7d KB RSS\n' \
    "$label" "$(echo "$bytes / 1048576" | bc -l)" "$cpu" "$(echo "$bytes / 1048576 / $cpu" | bc -l)" \
    "$wall" "$(echo "$bytes / 1048576 / $wall" | bc -l)" "$rss"
  last_cpu=$cpu
  last_rss=$rss
}

bench_parse() {
  local mb=${1:-200}
  release_build
  local pgsift=$build/pgsift tool=$build/tests/sift-test-tool
  echo "building inputs of >= $mb MB from tests/fixtures/pg15 in $tmp"
  build_input postgresql.csv "$tmp/big.csv" "$mb"
  build_input postgresql.json "$tmp/big.json" "$mb"
  build_input postgresql.csv "$tmp/quarter.csv" $((mb / 4))
  gzip -c "$tmp/big.csv" > "$tmp/big.csv.gz"
  local csv_bytes json_bytes q_bytes
  csv_bytes=$(stat -c %s "$tmp/big.csv")
  json_bytes=$(stat -c %s "$tmp/big.json")
  q_bytes=$(stat -c %s "$tmp/quarter.csv")
  cat "$tmp/big.csv" "$tmp/big.json" > /dev/null # warm the page cache

  echo
  echo "pgsift parse --stats: input, parse, classify, counting (one core, Release" \
    "$(git -C "$root" rev-parse --short HEAD))"
  run "csvlog" "$csv_bytes" "$pgsift" parse --stats --format csvlog "$tmp/big.csv"
  local csv_rss=$last_rss
  run "csvlog (auto-detected)" "$csv_bytes" "$pgsift" parse --stats "$tmp/big.csv"
  run "csvlog, 1/4 size (RSS check)" "$q_bytes" "$pgsift" parse --stats --format csvlog \
    "$tmp/quarter.csv"
  local q_rss=$last_rss
  run "jsonlog (scanner)" "$json_bytes" "$pgsift" parse --stats --format jsonlog "$tmp/big.json"
  echo "parse stage only (sift-test-tool parse-count: input + parse, no classify, no counting)"
  run "csvlog" "$csv_bytes" "$tool" parse-count csvlog "$tmp/big.csv"
  run "jsonlog (scanner)" "$json_bytes" "$tool" parse-count jsonlog "$tmp/big.json"
  run "jsonlog (jansson only)" "$json_bytes" "$tool" parse-count --jansson-only jsonlog \
    "$tmp/big.json"
  echo "gzip"
  run "zcat big.csv.gz" "$csv_bytes" zcat "$tmp/big.csv.gz"
  local zcat_secs=$last_cpu
  run "csvlog .gz" "$csv_bytes" "$pgsift" parse --stats --format csvlog "$tmp/big.csv.gz"
  local gz_secs=$last_cpu
  run "NDJSON output, csvlog" "$csv_bytes" "$pgsift" parse --format csvlog "$tmp/big.csv"
  echo
  printf '.gz throughput vs zcat (cpu): %.0f %%\n' "$(echo "100 * $zcat_secs / $gz_secs" | bc -l)"
  printf 'peak RSS at full / quarter size: %d / %d KB\n' "$csv_rss" "$q_rss"
}

mode=${1:-}
[[ -n $mode ]] || usage
shift
if [[ $mode != parse && -x $root/scripts/bench/$mode.sh ]]; then
  exec "$root/scripts/bench/$mode.sh" "$@"
fi
command -v bc >/dev/null || { echo "bench: needs bc" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pgsift-bench.XXXXXX")
trap '[[ -n ${SIFT_KEEP_TMP:-} ]] && echo "kept $tmp" || rm -rf "$tmp"' EXIT
case $mode in
  parse) bench_parse "$@" ;;
  *) usage ;;
esac
