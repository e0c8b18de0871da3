#!/usr/bin/env bash
# The lock waits table on the real text-plans log: three waits for a ShareLock on
# transactions 820 and 838 (lines 794 and 911, "still waiting"), acquired after
# 630.450 ms and 420.672 ms (lines 890 and 917), and on transaction 837 (line 912, the
# deadlock's victim: "detected deadlock while waiting", no "still waiting"). Redacted,
# the objects read "transaction ?": they are one row of 3 waits, not rows that look the
# same; a row's time waited is the acquired records' time, like the section's total
# (the waiting records only say when deadlock_timeout passed: 200.128 ms, ...); the
# victim's wait is counted, in the table and for its query, as `pgsift events` shows
# it. With --keep-literals, one row per transaction.
. "$(dirname "$0")/lib.sh"
need_cmd jq xmllint
fixture_clock

log=$SIFT_SOURCE_DIR/tests/fixtures/pg15/text-plans/postgresql.csv
"$PGSIFT" ingest --no-progress "$log" 2>/dev/null || fail "ingest"

"$PGSIFT" report --day 2026-11-25 --format json > r.json || fail "report"
expect_eq "rows" 1 "$(jq '.locks.by_lock | length' r.json)"
expect_eq "row" '{"mode":"ShareLock","object":"transaction ?","count":3,"wait_ms":1051.122,"max_ms":630.45}' \
  "$(jq -c '.locks.by_lock[0]' r.json)"
expect_eq "rows' time = total" "$(jq '.locks.wait_ms.sum' r.json)" \
  "$(jq '[.locks.by_lock[].wait_ms] | add' r.json)"

expect_eq "table waits = waits logged" "$(jq '.locks.waits' r.json)" \
  "$(jq '[.locks.by_lock[].count] | add' r.json)"
"$PGSIFT" events --kind lock_wait --since 2026-11-25 --until 2026-11-26 --limit 0 --format json \
  > ev.json || fail "events"
expect_eq "query's lock waits = events" \
  "$(jq -c '[.events[].fingerprint] | group_by(.) | map({(.[0]): length}) | add' ev.json)" \
  "$(jq -c '[.queries[] | select(.lock_waits > 0) | {(.fingerprint): .lock_waits}] | add' r.json)"

"$PGSIFT" report --day 2026-11-25 -o r.html || fail "report html"
expect_eq "html rows" 1 \
  "$(xmllint --xpath 'count(//*[@id="t-locks"]/*[local-name()="tbody"]/*[local-name()="tr"])' r.html)"
"$PGSIFT" report --day 2026-11-25 -o r.md || fail "report md"
expect_eq "md rows" 1 "$(grep -c '^| ShareLock | transaction ? |' r.md)"

"$PGSIFT" report --day 2026-11-25 --format json --keep-literals > k.json || fail "report kept"
expect_eq "kept rows" \
  '[{"mode":"ShareLock","object":"transaction 820","count":1,"wait_ms":630.45,"max_ms":630.45},{"mode":"ShareLock","object":"transaction 837","count":1,"wait_ms":null,"max_ms":null},{"mode":"ShareLock","object":"transaction 838","count":1,"wait_ms":420.672,"max_ms":420.672}]' \
  "$(jq -c '.locks.by_lock' k.json)"
pass
