#!/usr/bin/env bash
# Lock waits and temporary files in rules, on the real PostgreSQL 15 text-plans run:
#  - sum(wait_ms) counts each wait once. PostgreSQL logs a wait again and again with the
#    time waited so far: process 9502 "still waiting ... after 200.128 ms" then
#    "acquired ... after 630.450 ms", 9574 200.144 then 420.672 ms, 9575 "detected
#    deadlock while waiting ... after 200.304 ms" (no acquired: it is the victim).
#    Total 630.450 + 420.672 + 200.304 = 1251.426 ms, not the 1651.698 of every record.
#  - `rules test --events` over `pgsift parse` NDJSON (which prints the message, not the
#    wait time or file size) fires the shipped long_lock_wait and temp_file_spill rules
#    as it does over the store.
. "$(dirname "$0")/lib.sh"
fixture_clock # dated data: on the real clock, weeks later, it would be rolled up or expired
need_cmd jq

fx=$(pg15_run text-plans)
cat > waits.yaml <<'YAML'
rules:
  - name: lock_wait_total
    kind: threshold
    source: events
    metric: sum(wait_ms)
    window: 5m
    where: { type: [lock_wait, lock_acquired] }
    condition: "> 0"
YAML
# where.step on lock waits: 9502 and 9574 log "still waiting" (start) then "acquired"
# (end), 9575 "detected deadlock while waiting" (start) only.
cat > steps.yaml <<'YAML'
rules:
  - { name: lock_wait_starts, kind: threshold, source: events, metric: count, window: 5m,
      where: { type: [lock_wait, lock_acquired], step: [start] }, condition: "> 0" }
  - { name: lock_wait_ends, kind: threshold, source: events, metric: count, window: 5m,
      where: { type: [lock_wait, lock_acquired], step: [end] }, condition: "> 0" }
YAML
steps="2026-11-25T17:45:00Z firing lock_wait_ends 2.000 - -
2026-11-25T17:45:00Z firing lock_wait_starts 3.000 - -"
# The shipped rules with lower thresholds: lock waits over 500 ms, spills over 2 MiB.
shipped_rules events.yaml '"> 5000"' '"> 500"' '"> 1GiB"' '"> 2MiB"' > events.yaml

summary() {
  jq -r '.timeline[] | [.at, .transition, .rule, .value,
      ((.labels.database // "-") | if . == "" then "-" else . end),
      (.labels.fingerprint // "-")] | @tsv' |
    awk -F'\t' '{ printf "%s %s %s %.3f %s %s\n", $1, $2, $3, $4, $5, $6 }' | sort
}

"$PGSIFT" ingest --no-progress "$fx/postgresql.csv" 2>/dev/null
expect_eq "sum(wait_ms) over the store" \
  "2026-11-25T17:45:00Z firing lock_wait_total 1251.426 - -" \
  "$("$PGSIFT" rules test --format json waits.yaml | summary)"
expect_eq "where.step of lock waits over the store" "$steps" \
  "$("$PGSIFT" rules test --format json steps.yaml | summary)"
store=$("$PGSIFT" rules test --format json events.yaml 2>/dev/null | summary)
expect_eq "shipped rules over the store" \
  "2026-11-25T17:45:00Z firing deadlock 1.000 app -
2026-11-25T17:45:00Z firing lock_timeout 1.000 app 39feb980049d9190
2026-11-25T17:45:00Z firing long_lock_wait 1.000 app 39feb980049d9190
2026-11-25T17:45:00Z firing temp_file_spill 2220032.000 app fc523aef64b61bfc
2026-11-25T17:45:00Z firing temp_file_spill 2277376.000 - 51dbdb9de9964ddc" "$store"

"$PGSIFT" parse "$fx/postgresql.log" > events.ndjson 2>/dev/null
expect_eq "sum(wait_ms) over parse NDJSON" \
  "2026-11-25T17:45:00Z firing lock_wait_total 1251.426 - -" \
  "$("$PGSIFT" rules test --format json --events events.ndjson waits.yaml | summary)"
expect_eq "where.step of lock waits over parse NDJSON" "$steps" \
  "$("$PGSIFT" rules test --format json --events events.ndjson steps.yaml | summary)"
expect_eq "shipped rules over parse NDJSON fire as over the store" "$store" \
  "$("$PGSIFT" rules test --format json --events events.ndjson events.yaml 2>/dev/null | summary)"
pass
