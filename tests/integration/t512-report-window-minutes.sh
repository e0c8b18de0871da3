#!/usr/bin/env bash
# pgsift report --since/--until with ends inside a minute, on the real text-plans log
# (2026-11-25 17:44:49-17:44:53 UTC): the store counts calls, records and errors per
# minute while the locks, temp files and sessions sections read events. The window
# is rounded up to whole minutes so every section covers the same time (the one
# printed) and the calls agree with `pgsift top` and the events with `pgsift events`
# over that period. Before: 11 temp files counted, 4 of them with sizes; 2 locks
# acquired after a wait, none with a time waited.
. "$(dirname "$0")/lib.sh"
need_cmd jq
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
pass
