#!/usr/bin/env bash
# PostgreSQL 18's connection setup times (log_connections = 'setup_durations'): the line
# "connection ready: setup total=… ms, fork=… ms, authentication=… ms" is the kind
# connection_ready with the facts setup_ms, fork_ms and auth_ms; pgsift parse and
# pgsift events give the same facts; the report counts the connections that got ready and
# gives the setup and authentication times (count, sum, max, p95).
# HANDMADE log lines: no PostgreSQL 18 server on the test machine (Debian 12 ships 15).
# They follow postgres.c's format string and the stderr layout of the pg15 fixtures.
. "$(dirname "$0")/lib.sh"
need_cmd jq

cat >pg18.log <<'LOG'
2026-11-28 10:00:00.100 UTC [201] [unknown]@[unknown] LOG:  connection received: host=10.0.0.7 port=51000
2026-11-28 10:00:00.104 UTC [201] app@app LOG:  connection authorized: user=app database=app application_name=web
2026-11-28 10:00:00.105 UTC [201] app@app LOG:  connection ready: setup total=5.112 ms, fork=0.310 ms, authentication=3.920 ms
2026-11-28 10:00:01.000 UTC [202] [unknown]@[unknown] LOG:  connection received: host=10.0.0.8 port=51002
2026-11-28 10:00:03.420 UTC [202] etl@app LOG:  connection authorized: user=etl database=app
2026-11-28 10:00:03.421 UTC [202] etl@app LOG:  connection ready: setup total=2421.500 ms, fork=0.402 ms, authentication=2415.250 ms
2026-11-28 10:00:04.000 UTC [201] app@app LOG:  disconnection: session time: 0:00:03.900 user=app database=app host=10.0.0.7 port=51000
2026-11-28 10:00:05.000 UTC [203] [unknown]@[unknown] LOG:  connection received: host=[local]
2026-11-28 10:00:05.001 UTC [203] postgres@postgres LOG:  connection ready: setup total=0.950 ms, fork=0.120 ms, authentication=0.051 ms
LOG
prefix='%m [%p] %q%u@%d '

# parse: the kind and its facts
"$PGSIFT" parse --format stderr --prefix "$prefix" pg18.log >p.ndjson
expect_eq "parse: three connection_ready events with their times" \
  '{"pid":201,"setup_ms":5.112,"fork_ms":0.31,"auth_ms":3.92}
{"pid":202,"setup_ms":2421.5,"fork_ms":0.402,"auth_ms":2415.25}
{"pid":203,"setup_ms":0.95,"fork_ms":0.12,"auth_ms":0.051}' \
  "$(jq -c 'select(.kind == "connection_ready") | {pid, setup_ms, fork_ms, auth_ms}' p.ndjson)"
expect_eq "parse: every line a record of its kind, none rejected" \
  "connection authenticated connection_ready connection authenticated connection_ready disconnection connection connection_ready" \
  "$(jq -r '.kind' p.ndjson | tr '\n' ' ' | sed 's/ $//')"

# the store: the same facts through pgsift events
export SIFT_TEST_NOW=2026-11-28T12:00:00Z
"$PGSIFT" -q ingest --no-progress --format stderr --prefix "$prefix" pg18.log
"$PGSIFT" events --kind connection_ready --since 2026-11-28T00:00:00Z --format json --limit 0 >e.json
expect_eq "events: the same facts as parse" \
  "$(jq -c 'select(.kind == "connection_ready") | {src, setup_ms, fork_ms, auth_ms}' p.ndjson)" \
  "$(jq -c '.events[] | {src, setup_ms, fork_ms, auth_ms}' e.json | sort -t: -k2 -n)"

# the report: counted, and the times' statistics
"$PGSIFT" report --since 2026-11-28T00:00:00Z --until 2026-11-29T00:00:00Z --format json >r.json
expect_eq "report: connections ready, setup and authentication times" \
  '{"ready":3,"setup":{"count":3,"sum":2427.562,"max":2421.5},"auth":{"count":3,"sum":2419.221,"max":2415.25}}' \
  "$(jq -c '.sessions | {ready, setup: (.setup_ms | {count, sum: (.sum * 1000 | round / 1000), max}),
    auth: (.setup_auth_ms | {count, sum: (.sum * 1000 | round / 1000), max})}' r.json)"
expect_eq "report: the kind in the event counts" 3 "$(jq '.events.connection_ready' r.json)"
"$PGSIFT" report --since 2026-11-28T00:00:00Z --until 2026-11-29T00:00:00Z --format md >r.md
expect_contains "$(cat r.md)" "Connection setup (PostgreSQL 18)"
expect_contains "$(cat r.md)" "Authentication in the setup"

# The shipped rule slow_connection_setup: 5 connections of one user over 1 s within 5
# minutes fire it, from the store and from parse output alike; fast ones (app@app's, at
# most 5.1 ms) and a user with 4 slow ones (ops) do not.
{
  for i in 1 2 3 4 5 6; do
    printf '2026-11-28 10:0%d:10.000 UTC [3%02d] etl@app LOG:  connection ready: setup total=1%d00.250 ms, fork=0.300 ms, authentication=1%d90.000 ms\n' \
      "$i" "$i" "$i" "$i"
    printf '2026-11-28 10:0%d:20.000 UTC [4%02d] app@app LOG:  connection ready: setup total=5.100 ms, fork=0.300 ms, authentication=4.000 ms\n' \
      "$i" "$i"
  done
  for i in 1 2 3 4; do
    printf '2026-11-28 10:0%d:30.000 UTC [5%02d] ops@app LOG:  connection ready: setup total=3000.000 ms, fork=0.300 ms, authentication=2990.000 ms\n' \
      "$i" "$i"
  done
} | sort >slow.log
rm -f "$PGSIFT_DB"*
"$PGSIFT" -q ingest --no-progress --format stderr --prefix "$prefix" slow.log
from_store=$("$PGSIFT" rules test --format json --until 2026-11-28T10:15:00Z \
  "$SIFT_SOURCE_DIR/rules/events.yaml" 2>/dev/null |
  jq -c '[.timeline[] | select(.rule == "slow_connection_setup") | {at, transition, value,
    database: .labels.database, user: .labels.user}]')
expect_eq "slow_connection_setup fires for etl@app at the first evaluation after its fifth slow connection" \
  '{"at":"2026-11-28T10:06:00Z","transition":"firing","value":5,"database":"app","user":"etl"}' \
  "$(jq -c '.[] | select(.transition == "firing")' <<<"$from_store")"
"$PGSIFT" parse --format stderr --prefix "$prefix" slow.log >slow.ndjson
from_parse=$("$PGSIFT" rules test --format json --events slow.ndjson --until 2026-11-28T10:15:00Z \
  "$SIFT_SOURCE_DIR/rules/events.yaml" 2>/dev/null |
  jq -c '[.timeline[] | select(.rule == "slow_connection_setup") | {at, transition, value,
    database: .labels.database, user: .labels.user}]')
expect_eq "the same timeline from parse output" "$from_store" "$from_parse"
# A parse record without its numbers (an older pgsift's output, a hand-edited file):
# the rule reads the message again.
jq -c 'del(.setup_ms, .fork_ms, .auth_ms)' slow.ndjson >bare.ndjson
expect_eq "the same timeline from messages alone" "$from_store" \
  "$("$PGSIFT" rules test --format json --events bare.ndjson --until 2026-11-28T10:15:00Z \
    "$SIFT_SOURCE_DIR/rules/events.yaml" 2>/dev/null |
    jq -c '[.timeline[] | select(.rule == "slow_connection_setup") | {at, transition, value,
      database: .labels.database, user: .labels.user}]')"
pass
