#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# scripts/bench.sh tail [SECONDS]: `pgsift tail` on a Release build while records are
# appended to a jsonlog file at 1 000 and 10 000 records/s for SECONDS (default 60).
# Prints, per rate, the latency from each record's write to the commit that holds it
# (p50, p99, max; pgsift's commit log gives each batch's commit time and end offset,
# the writer each record's end offset and write time), commits per second, and pgsift's
# CPU time as a percentage of one core over the run (user + system, from /proc).
# Goals: p99 <= 1 s; CPU <= 2 % of a core at 1 000 records/s.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${SIFT_BENCH_BUILD:-$root/build/release}
secs=${1:-60}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pgsift-bench.XXXXXX")
pid=
trap '[[ -n $pid ]] && kill "$pid" 2>/dev/null; [[ -n ${SIFT_KEEP_TMP:-} ]] && echo "kept $tmp" || rm -rf "$tmp"' EXIT

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target pgsift sift-test-tool >/dev/null
pgsift=$build/pgsift
tool=$build/tests/sift-test-tool
hz=$(getconf CLK_TCK)

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

printf '%-10s %8s %9s %8s %8s %8s %10s %8s\n' "rate/s" "records" "commits/s" "p50 ms" "p99 ms" \
  "max ms" "cpu %core" "counted"
for rate in 1000 10000; do
  d=$tmp/$rate
  mkdir -p "$d"
  : >"$d/postgresql.json"
  cat >"$d/pgsift.yaml" <<YAML
store: $d/pgsift.db
sources:
  - path: $d/postgresql.json
    format: jsonlog
tail:
  commit_log: $d/commits.log
YAML
  (unset PGSIFT_DB; exec "$pgsift" tail --config "$d/pgsift.yaml" 2>"$d/tail.err") &
  pid=$!
  until grep -q following "$d/tail.err" 2>/dev/null; do sleep 0.05; done
  count=$((rate * secs))
  t0=$(date +%s.%N)
  c0=$(ticks "$pid")
  "$tool" append-lines --format jsonlog --rate "$rate" --count "$count" \
    --times "$d/times" "$d/postgresql.json" >/dev/null
  size=$(stat -c %s "$d/postgresql.json")
  # Until the last commit covers the whole file (bounded: a stuck daemon fails the run).
  for _ in $(seq 1 600); do
    last=$(tail -n 1 "$d/commits.log" 2>/dev/null | awk '{print $3}')
    [[ ${last:-0} -ge $size ]] && break
    sleep 0.05
  done
  t1=$(date +%s.%N)
  c1=$(ticks "$pid")
  kill -TERM "$pid"
  wait "$pid" || true
  pid=
  read -r _ lines _ commits _ p50 _ p99 _ mx _ missing < <("$tool" tail-latency "$d/commits.log" "$d/times")
  counted=$(sqlite3 "$d/pgsift.db" "SELECT sum(calls) FROM query_stats")
  wall=$(echo "$t1 - $t0" | bc -l)
  printf '%-10s %8d %9.1f %8.1f %8.1f %8.1f %10.2f %8s\n' "$rate" "$lines" \
    "$(echo "$commits / $wall" | bc -l)" "$p50" "$p99" "$mx" \
    "$(echo "($c1 - $c0) * 100 / $hz / $wall" | bc -l)" "$counted"
  ((missing == 0)) || echo "  $missing records were never committed" >&2
done
