#!/usr/bin/env bash
# `where.step` on events, on the real PostgreSQL 15 text-plans run: PostgreSQL logs every
# checkpoint twice ("checkpoint starting: ..." then "checkpoint complete: wrote ..."), and
# "checkpoints are occurring too frequently" hints besides. The run has 5 checkpoints but
# 13 checkpoint records (5 starting, 5 complete, 3 hints): `step: [end]` counts the
# "complete" records, one per checkpoint, and so does the shipped frequent_checkpoints.
# Over the store, over `pgsift parse` NDJSON (which prints the message, not the step:
# read back from it) and over `pgsift events` JSON (which prints the step).
. "$(dirname "$0")/lib.sh"
fixture_clock # dated data: on the real clock, weeks later, it would be rolled up or expired
need_cmd jq

fx=$(pg15_run text-plans)
cat > ck.yaml <<'YAML'
rules:
  - name: checkpoints
    kind: threshold
    source: events
    metric: count
    window: 5m
    where: { type: [checkpoint], step: [end] }
    condition: "> 0"
  - name: checkpoint_starts
    kind: threshold
    source: events
    metric: count
    window: 5m
    where: { type: [checkpoint], step: [start, start] }
    condition: "> 0"
  - name: checkpoint_records
    kind: threshold
    source: events
    metric: count
    window: 5m
    where: { type: [checkpoint] }
    condition: "> 0"
YAML
# The shipped rule with a threshold the run reaches (its 30m window holds the run; it
# stays pending: `for: 30m`).
shipped_rules events.yaml 'condition: "> 15"' 'condition: "> 1"' > events.yaml

summary() {
  jq -r '.timeline[] | select(.rule | test("checkpoint")) | "\(.at) \(.transition) \(.rule) \(.value)"' |
    sort
}
want="2026-11-25T17:45:00Z firing checkpoint_records 13
2026-11-25T17:45:00Z firing checkpoint_starts 5
2026-11-25T17:45:00Z firing checkpoints 5"
shipped="2026-11-25T17:45:00Z pending frequent_checkpoints 5" # for: 30m

# The fixture itself: 5 "complete" records (none of them restartpoints), 13 in all.
"$PGSIFT" parse "$fx/postgresql.csv" > events.ndjson 2>/dev/null
expect_eq "checkpoint complete records" 5 \
  "$(jq -r 'select(.kind == "checkpoint") | .message' events.ndjson |
    grep -c -E '^(checkpoint|restartpoint) complete: ')"
expect_eq "checkpoint records" 13 "$(jq -r 'select(.kind == "checkpoint")' events.ndjson |
  jq -s length)"

"$PGSIFT" ingest --no-progress "$fx/postgresql.csv" 2>/dev/null
expect_eq "where.step over the store" "$want" "$("$PGSIFT" rules test --format json ck.yaml | summary)"
expect_eq "frequent_checkpoints over the store" "$shipped" \
  "$("$PGSIFT" rules test --format json events.yaml 2>/dev/null | summary)"

expect_eq "where.step over parse NDJSON" "$want" \
  "$("$PGSIFT" rules test --format json --events events.ndjson ck.yaml | summary)"
expect_eq "frequent_checkpoints over parse NDJSON" "$shipped" \
  "$("$PGSIFT" rules test --format json --events events.ndjson events.yaml 2>/dev/null |
    summary)"

"$PGSIFT" events --format json --limit 0 | jq -c '.events[]' > store.ndjson
expect_eq "where.step over events JSON" "$want" \
  "$("$PGSIFT" rules test --format json --events store.ndjson ck.yaml | summary)"

# An unknown step is an error at its place in the file.
cat > bad.yaml <<'YAML'
rules:
  - name: checkpoints
    kind: threshold
    source: events
    metric: count
    where: { type: [checkpoint], step: [middle] }
    condition: "> 15"
YAML
rc=0; err=$("$PGSIFT" rules check bad.yaml 2>&1) || rc=$?
expect_eq "rules check exit" 2 "$rc"
expect_contains "$err" "bad.yaml:6:41: invalid step 'middle' in 'where' (expected start or end)"
pass
