#!/usr/bin/env bash
# The report's alerts section from the rules engine's real history: the replay fixture
# loaded into a store and evaluated with `pgsift rules eval` (t312's timeline), then
# reported for the day and for a window that cuts episodes at both ends; the same
# numbers in HTML, Markdown and JSON. A store without the alert tables says so
# (alerts_known false) instead of claiming there were none.
. "$(dirname "$0")/lib.sh"
need_cmd jq xmllint sqlite3

ev="$SIFT_SOURCE_DIR/tests/fixtures/handmade/alerts-replay.ndjson"
rules="$SIFT_SOURCE_DIR/tests/integration/data/replay-rules.yaml"
export SIFT_TEST_NOW=2026-11-24T12:00:00Z
grep -v '^#' "$ev" > all.ndjson
"$SIFT_TEST_TOOL" store-load all.ndjson >/dev/null
"$PGSIFT" rules eval --since 2026-11-24T10:00:00Z --until 2026-11-24T11:00:00Z "$rules" >/dev/null 2>&1

# The whole day: every episode fired and resolved in it (t312's timeline), but
# log_flatline's: the input is silent from 10:30 on, so it still fires at the end.
"$PGSIFT" report --day 2026-11-24 --format json -o day.json
expect_eq "alerts known" true "$(jq '.alerts_known' day.json)"
expect_eq "day episodes" "slow_query_p95 10:07 10:27 resolved
deadlock 10:08 10:23 resolved
long_lock_wait 10:13 10:23 resolved
auth_failure_burst 10:16 10:21 resolved
new_query_shape 10:19 10:28 resolved
regression 10:25 10:34 resolved
log_flatline 10:45 null firing" \
  "$(jq -r '.alerts[] | "\(.rule) \(.starts_at[11:16]) \(.ends_at[11:16]) \(.status)"' day.json)"
expect_eq "day counts" '{"fired":7,"resolved":6,"firing_at_end":1,"unlisted":0}' \
  "$(jq -c '.alerts_summary' day.json)"
expect_eq "deadlock labels and value" "database=app 1 critical" \
  "$(jq -r '.alerts[] | select(.rule == "deadlock") | "\(.labels) \(.value) \(.severity)"' day.json)"

# A window from 10:20 to 10:24: two episodes began before it and are still firing at its
# end, three end inside it, regression (10:25) is outside.
"$PGSIFT" report --since 2026-11-24T10:20:00Z --until 2026-11-24T10:24:00Z --format json -o w.json
expect_eq "window episodes" "slow_query_p95 firing false false
deadlock resolved false true
long_lock_wait resolved false true
auth_failure_burst resolved false true
new_query_shape firing false false" \
  "$(jq -r '.alerts[] | "\(.rule) \(.status) \(.fired_in_period) \(.resolved_in_period)"' w.json)"
expect_eq "window counts" '{"fired":0,"resolved":3,"firing_at_end":2,"unlisted":0}' \
  "$(jq -c '.alerts_summary' w.json)"
expect_eq "still firing has no end" null "$(jq '.alerts[0].ends_at' w.json)"

# HTML and Markdown show the same.
"$PGSIFT" report --since 2026-11-24T10:20:00Z --until 2026-11-24T10:24:00Z --format html -o w.html
"$PGSIFT" report --since 2026-11-24T10:20:00Z --until 2026-11-24T10:24:00Z --format md -o w.md
expect_eq "html alert rules" "$(jq -r '.alerts[].rule' w.json)" \
  "$(xmllint --xpath "//*[@id='t-alerts']//*[local-name()='tbody']/*/*[1]/text()" w.html 2>/dev/null)"
expect_eq "html firing at end" 2 \
  "$(xmllint --xpath "string(//*[@id='alert-counts']/*[@data-k='firing_at_end']/@data-v)" w.html 2>/dev/null)"
expect_contains "$(cat w.md)" "0 fired, 3 resolved, 2 still firing at the end of the period."
expect_contains "$(cat w.md)" "| auth\\_failure\\_burst | 0 | 1 | 0 |"

# A store without the alert tables (an older store): known false, and said so.
sqlite3 "$PGSIFT_DB" ".backup old.db"
sqlite3 old.db "DROP TABLE alert_history; DROP TABLE alert_instances; DROP TABLE notifications"
PGSIFT_DB=$T/old.db "$PGSIFT" report --day 2026-11-24 --format json -o old.json
expect_eq "no alert tables: known" "false 0" "$(jq -r '"\(.alerts_known) \(.alerts | length)"' old.json)"
PGSIFT_DB=$T/old.db "$PGSIFT" report --day 2026-11-24 --format md -o old.md
expect_contains "$(cat old.md)" "The store has no alert history"
# The report only read the store: the tables are still absent.
expect_eq "nothing created" 0 "$(sqlite3 old.db "SELECT count(*) FROM sqlite_master WHERE name = 'alert_history'")"
pass
