#!/usr/bin/env bash
# log_statement without log_duration (an audit setup): every session's last statement
# waits for a duration line that never comes, so a day of short connections leaves
# thousands waiting (SIFT_MAX_PAIRED_SESSIONS, core/limits.h). Each commit stores them
# with the source position: ingest must not fail for that, and the next run must still
# pair a late duration line with its statement.
# timeout: 120
. "$(dirname "$0")/lib.sh"
need_cmd sqlite3
export SIFT_TEST_NOW=2026-11-27T00:00:00Z

# 5000 sessions (pids), one logged statement each.
awk 'BEGIN {
  for (i = 0; i < 5000; i++)
    printf "2026-11-25 10:%02d:%02d.%03d UTC,\"app\",\"app\",%d,\"[local]\",6b071e9b.%x,1,\"idle\",2026-11-25 09:00:00 UTC,3/2,0,LOG,00000,\"statement: SELECT %d FROM t\",,,,,,,,,\"psql\",\"client backend\",,0\n",
      int(i / 60000) % 60, int(i / 1000) % 60, i % 1000, 100000 + i, i, i
}' >audit.csv

for j in 1 2; do
  rm -f s$j.db*
  expect_exit 0 "$PGSIFT" -q --db s$j.db ingest -j $j audit.csv
  expect_eq "-j $j: every statement counted" 5000 \
    "$(sqlite3 s$j.db "SELECT sum(count) FROM record_stats WHERE kind = 'statement'")"
done

# The first session's duration line comes in the next run: it takes the statement the
# first run left waiting.
printf '2026-11-25 10:05:00.000 UTC,"app","app",100000,"[local]",6b071e9b.0,2,"SELECT",2026-11-25 09:00:00 UTC,3/0,0,LOG,00000,"duration: 7.000 ms",,,,,,,,,"psql","client backend",,0\n' >>audit.csv
for j in 1 2; do
  expect_exit 0 "$PGSIFT" -q --db s$j.db ingest -j $j audit.csv
  expect_eq "-j $j: the late duration counts under its statement" 'select $1 from t|1|7000' \
    "$(sqlite3 s$j.db "SELECT q.query, s.calls, s.total_us FROM query_stats s JOIN queries q ON q.fingerprint = s.fingerprint WHERE s.phase = 'call' AND s.width = 60")"
done
pass
