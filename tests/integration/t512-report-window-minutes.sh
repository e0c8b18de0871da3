#!/usr/bin/env bash
# pgsift report --since/--until with ends inside a minute, on the real text-plans log
# (2026-11-25 17:44:49-17:44:53 UTC): the store counts calls, records and errors per
# minute while the locks, temp files and sessions sections read events. The window
# is rounded up to whole minutes so every section covers the same time (the one
# printed) and the calls agree with `pgsift top` and the events with `pgsift events`
# over that period. Before: 11 temp files counted, 4 of them with sizes; 2 locks
# acquired after a wait, none with a time waited.
. "$(dirname "$0")/lib.sh"
need_cmd jq sqlite3
fixture_clock

log=$SIFT_SOURCE_DIR/tests/fixtures/pg15/text-plans/postgresql.csv
"$PGSIFT" ingest --no-progress "$log" 2>/dev/null || fail "ingest"

since=2026-11-25T17:43:30Z until=2026-11-25T17:44:51Z
"$PGSIFT" report --since "$since" --until "$until" --format json > r.json || fail "report"

# One period for every section.
expect_eq "temp files with a size = temp files counted" \
  "$(jq '.temp_files.count' r.json)" "$(jq '.temp_files.bytes.count' r.json)"
expect_eq "lock waits with a time = locks acquired" \
  "$(jq '.locks.acquired' r.json)" "$(jq '.locks.wait_ms.count' r.json)"
expect_eq "from, rounded up" "2026-11-25T17:44:00.000Z" "$(jq -r '.period.from' r.json)"
expect_eq "to, rounded up" "2026-11-25T17:45:00.000Z" "$(jq -r '.period.to' r.json)"
expect_eq "temp files" 11 "$(jq '.temp_files.count' r.json)"
expect_eq "records" 947 "$(jq '.totals.records' r.json)"

# The same numbers as pgsift top (same arguments) and pgsift events (the printed period).
"$PGSIFT" top --since "$since" --until "$until" --limit 0 --format json > top.json || fail "top"
expect_eq "calls = top" "$(jq '[.queries[].calls] | add' top.json)" "$(jq '.totals.calls' r.json)"
"$PGSIFT" events --since "$(jq -r .period.from r.json)" --until "$(jq -r .period.to r.json)" \
  --limit 0 --format json > ev.json || fail "events"
for k in temp_file lock_wait lock_acquired deadlock error connection; do
  expect_eq "events $k" "$(jq ".counts.$k // 0" ev.json)" "$(jq ".events.$k" r.json)"
done
expect_eq "minute rows: the time counted is the period" \
  "$(jq -c '[.period.from, .period.to]' r.json)" "$(jq -c '[.period.counted_from, .period.counted_to]' r.json)"

# Rows rolled up to hours (older than the minute retention) hold a day's ends in a zone
# at a half-hour offset: an hour is counted whole in the day it starts in, and the
# report says which time it counted (hand-made csvlog lines: errors at 23:50 and 00:10
# in Asia/Kolkata, one in each day; read a month later, when they are rolled up).
L='2026-11-01 %s UTC,"u","d",100,"h:1",6b.1,1,"SELECT",2026-11-01 00:00:00 UTC,3/1,0,ERROR,42P01,"relation ""t"" does not exist",,,,,,,,,"app",client backend,,0\n'
printf "$L$L" '18:20:00.000' '18:40:00.000' >rolled.csv
export SIFT_TEST_NOW=2026-12-01T00:00:00Z
"$PGSIFT" --db rolled.db ingest rolled.csv 2>/dev/null
expect_eq "rolled up" "3600" "$(PGSIFT_DB=rolled.db store_query "SELECT DISTINCT width FROM record_stats")"
"$PGSIFT" --db rolled.db report --day 2026-11-01 --tz Asia/Kolkata --format json >k1.json
expect_eq "day 1 counts the hour that starts in it" 2 "$(jq .totals.errors k1.json)"
expect_eq "day 1: the time counted" '["2026-10-31T18:30:00.000Z","2026-11-01T19:00:00.000Z"]' \
  "$(jq -c '[.period.counted_from, .period.counted_to]' k1.json)"
"$PGSIFT" --db rolled.db report --day 2026-11-01 --tz Asia/Kolkata --format md >k1.md
expect_contains "$(cat k1.md)" "charts cover 2026-11-01 00:00 to 2026-11-02 00:30; the sections read from single events"
"$PGSIFT" --db rolled.db report --day 2026-11-01 --tz Asia/Kolkata --format html >k1.html
expect_contains "$(cat k1.html)" 'id="counted">The store keeps this period'
"$PGSIFT" --db rolled.db report --day 2026-11-02 --tz Asia/Kolkata --format json >k2.json
expect_eq "day 2: the hour was day 1's" 0 "$(jq .totals.errors k2.json)"
expect_eq "day 2: the time counted" '["2026-11-01T19:00:00.000Z","2026-11-02T18:30:00.000Z"]' \
  "$(jq -c '[.period.counted_from, .period.counted_to]' k2.json)"
"$PGSIFT" --db rolled.db report --day 2026-11-01 --tz UTC --format md >u.md
expect_not_contains "$(cat u.md)" "The store keeps this period"
pass
