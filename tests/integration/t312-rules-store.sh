#!/usr/bin/env bash
# Rules over the store: the replay fixture loaded into a store gives the same fixed
# timeline as t310 (the absence rule too: the store counts lines per input); loading it
# in pieces with `rules eval` after each piece, as tailing does,
# records the same history; real PostgreSQL logs ingested with `pgsift ingest` fire the
# workload's deadlock like their `pgsift parse` output does.
. "$(dirname "$0")/lib.sh"

ev="$SIFT_SOURCE_DIR/tests/fixtures/handmade/alerts-replay.ndjson"
rules="$SIFT_SOURCE_DIR/tests/integration/data/replay-rules.yaml"
export SIFT_TEST_NOW=2026-11-24T12:00:00Z
grep -v '^#' "$ev" > all.ndjson

# The t310 timeline (values: p95 from the store's sketches).
expected=$(cat "$SIFT_SOURCE_DIR/tests/integration/data/replay-timeline.txt")

"$SIFT_TEST_TOOL" store-load all.ndjson >/dev/null
got=$("$PGSIFT" rules test --until 2026-11-24T11:00:00Z "$rules" 2>err.txt)
if [[ "$got" != "$expected" ]]; then
  diff <(echo "$expected") <(echo "$got") >&2 || true
  fail "timeline over the store differs"
fi
expect_not_contains "$(cat err.txt)" "is skipped"
# rules test only reads the store: no alert tables were written.
expect_eq "no alert rows" 0 "$(sqlite3 "$PGSIFT_DB" "SELECT count(*) FROM alert_history" 2>/dev/null || echo 0)"

# In pieces: the store grows (exactly once, resuming by content), rules eval after each.
rm -f "$PGSIFT_DB"*
total=$(wc -l < all.ndjson)
for n in 40 41 120 200 260 300 350 "$total"; do
  head -n "$n" all.ndjson > part.ndjson
  "$SIFT_TEST_TOOL" store-load --position part.ndjson >/dev/null
  "$PGSIFT" rules eval --since 2026-11-24T10:00:00Z "$rules" >/dev/null 2>&1
done
"$PGSIFT" rules eval --until 2026-11-24T11:00:00Z "$rules" >/dev/null 2>&1
live=$("$PGSIFT" alerts --history)
if [[ "$live" != "$expected" ]]; then
  diff <(echo "$expected") <(echo "$live") >&2 || true
  fail "history from a growing store differs from the replay"
fi

# Real logs through `pgsift ingest`, and the same logs through `pgsift parse`.
fx="$SIFT_SOURCE_DIR/tests/fixtures/pg15/statement-log"
if [[ -f $fx/postgresql.csv ]]; then
  rm -f "$PGSIFT_DB"*
  "$PGSIFT" ingest "$fx/postgresql.csv" >/dev/null 2>&1
  "$PGSIFT" parse "$fx/postgresql.csv" > parsed.ndjson 2>/dev/null
  until=2026-11-26T00:00:00Z
  store=$("$PGSIFT" rules test --until "$until" "$SIFT_SOURCE_DIR"/rules/*.yaml 2>/dev/null)
  parsed=$("$PGSIFT" rules test --events parsed.ndjson --until "$until" \
    "$SIFT_SOURCE_DIR"/rules/*.yaml 2>/dev/null)
  expect_contains "$store" "firing     deadlock                 critical value=1 database=app"
  # the log ends at 17:46: no line from it in [17:46, 17:56), for 5 m
  expect_contains "$store" "2026-11-25T18:01:00Z firing     log_flatline             critical value=0 input=$fx/postgresql.csv"
  expect_eq "store and parse output give the same timeline" "$parsed" "$store"
fi

# A store whose logs never had a lock wait, a temp file or a plan (log_lock_waits,
# log_temp_files, auto_explain evidently off): the rules that read them warn, with
# their position and the setting, instead of silently never firing.
rm -f "$PGSIFT_DB"*
printf '%s\n' '2026-11-24 10:00:00.000 UTC [7] LOG:  duration: 5.000 ms  statement: select 1' > plain.log
"$PGSIFT" -q ingest plain.log
"$PGSIFT" rules test --until 2026-11-24T10:10:00Z "$SIFT_SOURCE_DIR"/rules/*.yaml >/dev/null 2>err.txt
err=$(cat err.txt)
expect_contains "$err" "rules/events.yaml:32:5: rule 'long_lock_wait' reads lock_wait/lock_acquired records, none seen in the store: set log_lock_waits = on"
expect_contains "$err" "rule 'temp_file_spill' reads temp_file records, none seen in the store: set log_temp_files = 0"
expect_contains "$err" "rule 'plan_regression' reads plan records, none seen in the store: set auto_explain"
expect_contains "$err" "rule 'slow_connection_setup' reads connection_ready records, none seen in the store: set log_connections = 'setup_durations' (PostgreSQL 18)"
expect_not_contains "$err" "rule 'slow_query_p95' reads"  # durations are there
# the same from the daemon's path: rules eval
"$PGSIFT" rules eval --until 2026-11-24T10:10:00Z "$SIFT_SOURCE_DIR"/rules/events.yaml >/dev/null 2>err.txt
expect_contains "$(cat err.txt)" "rule 'long_lock_wait' reads lock_wait/lock_acquired records, none seen"

# Minutes without a record are passed over while no alert is active (engine.c,
# quiet_until()): the replay with a three-hour gap after 10:12 gives the timeline and the
# store's history of evaluating every minute, over the store and over parse output, in
# fewer evaluations.
rm -f "$PGSIFT_DB"*
jq -c 'if .ts >= "2026-11-24T10:12" then .ts = ((.ts[0:19] + "Z" | fromdateiso8601) + 10800
       | todateiso8601 | sub("Z$"; ".000Z")) else . end' all.ndjson > gap.ndjson
"$SIFT_TEST_TOOL" store-load gap.ndjson >/dev/null
# (an absence rule keeps every minute evaluated: the rules without it here, the shipped
# ones without ingest.yaml over parse output)
shipped=("$SIFT_SOURCE_DIR"/rules/{errors,events,plans,queries}.yaml)
sed '/- name: log_flatline/,/severity: critical/d' "$rules" >quiet-rules.yaml
grep -q 'kind: absence' quiet-rules.yaml && fail "quiet-rules.yaml still has the absence rule"
rules=$PWD/quiet-rules.yaml
for src in store events; do
  args=("$rules")
  [[ $src == events ]] && args=(--events gap.ndjson "${shipped[@]}")
  quick=$("$PGSIFT" rules test --until 2026-11-24T14:00:00Z "${args[@]}" 2>/dev/null)
  every=$(SIFT_TEST_EVERY_MINUTE=1 "$PGSIFT" rules test --until 2026-11-24T14:00:00Z "${args[@]}" 2>/dev/null)
  expect_eq "$src: passing over quiet minutes changes nothing" "$every" "$quick"
  expect_contains "$quick" "2026-11-24T13:1"  # the records after the gap were evaluated
done
cp "$PGSIFT_DB" every.db
ev=$("$PGSIFT" rules eval --since 2026-11-24T10:00:00Z --until 2026-11-24T14:00:00Z "$rules" 2>/dev/null)
SIFT_TEST_EVERY_MINUTE=1 PGSIFT_DB=every.db "$PGSIFT" rules eval --since 2026-11-24T10:00:00Z \
  --until 2026-11-24T14:00:00Z "$rules" >every.txt 2>/dev/null
expect_eq "history" "$(PGSIFT_DB=every.db "$PGSIFT" alerts --history)" "$("$PGSIFT" alerts --history)"
expect_eq "cursors" "$(sqlite3 every.db "SELECT rule, last_eval FROM alert_cursors ORDER BY rule")" \
  "$(sqlite3 "$PGSIFT_DB" "SELECT rule, last_eval FROM alert_cursors ORDER BY rule")"
n_quick=$(sed -n 's/^evaluated \([0-9]*\) .*/\1/p' <<<"$ev")
n_every=$(sed -n 's/^evaluated \([0-9]*\) .*/\1/p' every.txt)
((n_quick > 0 && n_quick * 2 < n_every)) || fail "evaluations: $n_quick passing over quiet minutes, $n_every every minute"
expect_contains "$ev" "up to 2026-11-24T14:00:00Z"

# Percentiles over --events are the store's (percentile_cont): two calls of 100 and
# 1000 ms have a p50 of 550 and a p95 of 955 both ways (hand-made lines).
printf '%s\n' \
  '2026-11-24 10:00:10.000 UTC [1] app@db1 LOG:  duration: 100.000 ms  statement: select * from t where id = 1' \
  '2026-11-24 10:00:20.000 UTC [1] app@db1 LOG:  duration: 1000.000 ms  statement: select * from t where id = 2' \
  '2026-11-24 10:10:00.000 UTC [1] app@db1 LOG:  duration: 1.000 ms  statement: select 1' >pct.log
cat >pct.yaml <<'YAML'
version: 1
rules:
  - {name: p50_slow, kind: threshold, metric: p50_ms, window: 5m, group_by: [fingerprint], condition: "> 500"}
  - {name: p95_slow, kind: threshold, metric: p95_ms, window: 5m, group_by: [fingerprint], condition: "> 980"}
YAML
"$PGSIFT" parse --prefix '%m [%p] %q%u@%d ' pct.log >pct.ndjson
"$PGSIFT" -q --db pct.db ingest --prefix '%m [%p] %q%u@%d ' pct.log
from_events=$("$PGSIFT" rules test --events pct.ndjson pct.yaml)
expect_contains "$from_events" "firing     p50_slow"
expect_contains "$from_events" "value=550 "
expect_not_contains "$from_events" "p95_slow"
expect_eq "percentiles: --events as the store" "$from_events" "$("$PGSIFT" --db pct.db rules test pct.yaml)"
pass
