#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Lines per input (input_stats, the rules' source `ingest`): a directory's files are
# one input, named by the operand, so a rotation does not look like a log that stopped
# (log_flatline fires once, when the whole directory goes quiet, not for each rotated
# file); a rejected line counts at the newest record time read from its stream when it
# was stored (with the commit: a line that is no record has no time of its own); a file
# named as such is its own input; re-reading adds nothing.
# Hand-made stderr lines (the counts and times must be known exactly).
. "$(dirname "$0")/lib.sh"
need_cmd sqlite3
export SIFT_TEST_NOW=2026-11-24T12:00:00Z
prefix='%m [%p] '

mkdir logs
line() { printf '2026-11-24 %s UTC [7] LOG:  duration: 1.000 ms  statement: select %s\n' "$1" "$2"; }
{
  echo 'garbage before any record'
  for m in $(seq 0 19); do line "$(printf '10:%02d:30.000' "$m")" "$m"; done
} > logs/postgresql-1.log
{
  for m in $(seq 20 39); do line "$(printf '10:%02d:30.000' "$m")" "$m"; done
  echo 'garbage after the last record'
} > logs/postgresql-2.log
touch -d '2026-11-24 10:20' logs/postgresql-1.log # (oldest first)
touch -d '2026-11-24 10:40' logs/postgresql-2.log

"$PGSIFT" -q ingest --prefix "$prefix" logs
rows() { store_query "SELECT input || ' ' || (bucket / 60 % 60) || ' ' || records || ' ' || rejects FROM input_stats WHERE rejects > 0 OR bucket / 60 % 60 IN (0, 19, 20, 39) ORDER BY bucket"; }
expect_eq "one input, the operand; rejects at their commit's newest record minute" \
  "logs 0 1 0
logs 19 1 1
logs 20 1 0
logs 39 1 1" "$(rows)"
expect_eq "every line counted once" "40 2" \
  "$(store_query "SELECT sum(records) || ' ' || sum(rejects) FROM input_stats")"

# Reading again adds nothing.
"$PGSIFT" -q ingest --prefix "$prefix" logs
expect_eq "re-read" "40 2" "$(store_query "SELECT sum(records) || ' ' || sum(rejects) FROM input_stats")"

# The shipped absence rule: quiet from 10:40, so pending at 10:50 and firing at 10:55,
# and nothing at the rotation (10:20).
out=$("$PGSIFT" rules test --since 2026-11-24T10:00:00Z --until 2026-11-24T11:00:00Z \
  "$SIFT_SOURCE_DIR/rules/ingest.yaml" 2>/dev/null)
expect_eq "log_flatline over the directory" \
  "2026-11-24T10:50:00Z pending    log_flatline             critical value=0 input=logs
2026-11-24T10:55:00Z firing     log_flatline             critical value=0 input=logs" \
  "$(grep log_flatline <<<"$out")"

# The shipped threshold on rejects: 150 lines that are no record (a changed
# log_line_prefix, say) among records from 11:00 fire unparsed_lines (> 100 in 15 m).
{
  for m in $(seq 0 4); do
    line "$(printf '11:%02d:10.000' "$m")" "$m"
    for k in $(seq 1 30); do echo "11:0$m garbled line $k"; done
    line "$(printf '11:%02d:50.000' "$m")" "$m"
  done
} > logs/postgresql-3.log
touch -d '2026-11-24 11:05' logs/postgresql-3.log
"$PGSIFT" -q ingest --prefix "$prefix" logs
expect_eq "the rejects counted" "150" "$(store_query "SELECT sum(rejects) FROM input_stats WHERE bucket >= 1795518000")"
out=$("$PGSIFT" rules test --since 2026-11-24T11:00:00Z --until 2026-11-24T11:20:00Z \
  "$SIFT_SOURCE_DIR/rules/ingest.yaml" 2>/dev/null)
expect_contains "$out" "firing     unparsed_lines           warning  value=150 input=logs"

# A file named as such is its own input (its path as given), as its sources row.
rm -f "$PGSIFT_DB"*
"$PGSIFT" -q ingest --prefix "$prefix" logs/postgresql-2.log logs/postgresql-1.log
expect_eq "named files" "logs/postgresql-1.log 20 1
logs/postgresql-2.log 20 1" \
  "$(store_query "SELECT input || ' ' || sum(records) || ' ' || sum(rejects) FROM input_stats GROUP BY input ORDER BY input")"
pass
