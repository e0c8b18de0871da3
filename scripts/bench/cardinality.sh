#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark: ingest of many distinct statements (docs/performance.md, "High cardinality").
# The files of `scripts/bench.sh ingest` repeat a few hundred statement shapes; these
# write a statistics row per statement and minute:
#
#   recent    N distinct statements every minute for M minutes, two days old (all minute
#             rows: the store's write path, its B-trees and their page cache);
#   backfill  the same 40 days old (older than the minute retention: written as hour rows
#             at the commit, nothing left for the roll-up; docs/store.md);
#   distinct  D statements each seen once, over a day (a new fingerprint per record: the
#             catalogue, query ids and the fingerprint index grow with every record).
#
# The files are synthetic, made here with awk in PostgreSQL 15's csvlog shape (one
# duration line per record, `SELECT a, b FROM t_<k> WHERE id = <m>`), not fixtures from
# a server: what is measured is the number of distinct rows, not the parser. Times are
# CPU (user + sys) and wall of one `pgsift ingest -j 1` into a new store, with its peak
# RSS. No issue sets a goal for these; the figures are for comparing commits.
#
#   scripts/bench/cardinality.sh [--statements N] [--minutes M] [--distinct D] [--keep DIR]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${SIFT_BENCH_BUILD:-$root/build/bench}
statements=1200
minutes=720
distinct=1000000
keep=
while (($#)); do
  case $1 in
    --statements) statements=$2; shift 2 ;;
    --minutes) minutes=$2; shift 2 ;;
    --distinct) distinct=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    *) echo "usage: $0 [--statements N] [--minutes M] [--distinct D] [--keep DIR]" >&2; exit 2 ;;
  esac
done
command -v bc >/dev/null || { echo "bench: needs bc" >&2; exit 1; }

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSIFT_TESTS=ON >/dev/null
cmake --build "$build" -j2 --target sift-test-tool pgsift >/dev/null
tool=$build/tests/sift-test-tool
pgsift=$build/pgsift
# the generated logs and the store: --keep DIR keeps them, else a directory removed at exit
work=${keep:-$(mktemp -d "${TMPDIR:-/tmp}/pgsift-cardinality.XXXXXX")}
mkdir -p "$work"
[[ -n $keep ]] || trap 'rm -rf "$work"' EXIT

# gen START_EPOCH COUNT PER_MINUTE STEP_SECONDS > file: PER_MINUTE records a minute for
# COUNT minutes, or (PER_MINUTE 0) COUNT records of as many statements, one every
# STEP_SECONDS seconds.
gen() {
  awk -v start="$1" -v count="$2" -v per="$3" -v step="$4" '
    function two(n) { return (n < 10 ? "0" : "") n }
    # Unix seconds to "YYYY-MM-DD HH:MM:SS" (days to a civil date: H. Hinnant)
    function stamp(t,    days, secs, z, era, doe, yoe, doy, mp, d, m, y) {
      days = int(t / 86400); secs = t - days * 86400
      z = days + 719468; era = int(z / 146097); doe = z - era * 146097
      yoe = int((doe - int(doe / 1460) + int(doe / 36524) - int(doe / 146096)) / 365)
      doy = doe - (365 * yoe + int(yoe / 4) - int(yoe / 100)); mp = int((5 * doy + 2) / 153)
      d = doy - int((153 * mp + 2) / 5) + 1; m = mp < 10 ? mp + 3 : mp - 9
      y = yoe + era * 400 + (m <= 2)
      return y "-" two(m) "-" two(d) " " two(int(secs / 3600)) ":" two(int(secs % 3600 / 60)) \
             ":" two(secs % 60)
    }
    function record(t, k, m, n,    ts) {
      ts = stamp(t)
      printf "%s.%03d UTC,\"app\",\"app\",%d,\"127.0.0.1:5000\",6b071e96.2661,%d,\"SELECT\"," \
             "%s UTC,3/0,0,LOG,00000,\"duration: %.3f ms  statement: SELECT a, b FROM t_%d " \
             "WHERE id = %d\",,,,,,,,,\"psql\",\"client backend\",,%d\n",
             ts, k % 1000, 1000 + k % 50, n, ts, k % 97 + 0.123, k, m, 1000000 + k
    }
    BEGIN {
      n = 0
      if (per > 0) {
        for (m = 0; m < count; m++)
          for (k = 0; k < per; k++)
            record(start + m * 60, k, m, ++n)
      } else {
        for (k = 0; k < count; k++)
          record(start + int(k * step), k, 1, ++n)
      }
    }'
}

now=$(date +%s)
day=86400
gen $(((now - 2 * day) / 60 * 60)) "$minutes" "$statements" 0 >"$work/recent.csv"
gen $(((now - 40 * day) / 60 * 60)) "$minutes" "$statements" 0 >"$work/backfill.csv"
gen $(((now - 2 * day) / 60 * 60)) "$distinct" 0 "$(echo "$day / $distinct" | bc -l)" \
  >"$work/distinct.csv"

echo "pgsift ingest, many distinct statements (Release" \
  "$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'), load $(cut -d' ' -f1 /proc/loadavg))"
rows_sql="SELECT sum(n) || ' rows (' || group_concat(width || ' s: ' || n, ', ') || ')'
          FROM (SELECT width, count(*) AS n FROM query_stats GROUP BY width)"
for name in recent backfill distinct; do
  f=$work/$name.csv
  rm -f "$work/store.db"*
  t0=$(date +%s.%N)
  "$tool" rusage "$work/rusage.txt" "$pgsift" --db "$work/store.db" ingest --no-progress "$f" \
    >/dev/null 2>"$work/err.txt" || { cat "$work/err.txt" >&2; exit 1; }
  t1=$(date +%s.%N)
  read -r user sys rss <"$work/rusage.txt"
  if command -v sqlite3 >/dev/null; then
    rows=$(sqlite3 "$work/store.db" "$rows_sql")
  else
    rows="(sqlite3 not installed: rows not counted)"
  fi
  printf '%-9s %8d records %7.1f MB  cpu %6.2f s (sys %5.2f)  wall %6.2f s  %6d KB RSS  %s\n' \
    "$name" "$(wc -l <"$f")" "$(echo "$(stat -c %s "$f") / 1048576" | bc -l)" \
    "$(echo "$user + $sys" | bc -l)" "$sys" "$(echo "$t1 - $t0" | bc -l)" "$rss" "$rows"
done
