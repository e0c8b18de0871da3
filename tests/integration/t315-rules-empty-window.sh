#!/usr/bin/env bash
# A threshold on a count or a sum (`count < 100`, `calls < 3`) still holds when the
# window holds no record at all: the value is 0, so a firing alert stays firing instead
# of resolving (and firing again at the next record: flapping). Means, percentiles and
# maxima of nothing are unknown and clear the condition as before.
. "$(dirname "$0")/lib.sh"
fixture_clock # dated data: on the real clock, weeks later, it would be rolled up or expired

# Real PostgreSQL 15 logs over the store: the statement-log run logs its errors in
# [17:45, 17:46) (20 on app, 1 on nosuchdb); every later 1-minute window is empty, and
# 0 errors is still fewer than 100.
pg15_csvlog
"$PGSIFT" ingest --no-progress logs/postgresql.csv 2>/dev/null
cat > few.yaml <<'YAML'
rules:
  - name: few_errors
    kind: threshold
    source: errors
    metric: count
    window: 1m
    group_by: [database]
    condition: "< 100"
  - name: slow_errors
    kind: threshold
    source: queries
    metric: max_ms
    window: 1m
    group_by: [database]
    condition: "> 0"
YAML
got=$("$PGSIFT" rules test --until 2026-11-25T17:50:00Z few.yaml)
expect_eq "few_errors fires once per database and stays firing" \
  "2026-11-25T17:46:00Z firing few_errors app
2026-11-25T17:46:00Z firing few_errors nosuchdb" \
  "$(awk '$3 == "few_errors" { print $1, $2, $3, $6 }' <<<"$got" | sed 's/database=//')"
# max_ms of no statement is unknown: that alert resolves when the window empties.
expect_contains "$(awk '$3 == "slow_errors"' <<<"$got")" "resolved   slow_errors"

# Hand-made events (an edge case the fixtures do not hold): 5 calls a minute until
# 10:05, one at 10:05:10, none until 10:15:10. calls < 3 over 2 m holds from 10:07
# (value 1) and, with the window empty, at 10:08 (value 0): pending at 10:07, firing at
# 10:09 with `for: 2m`, with the annotation rendered from the instance's labels.
for m in 0 1 2 3 4; do
  for s in 00 10 20 30 40; do
    echo '{"ts":"2026-11-24T10:0'$m':'$s'Z","kind":"duration","severity":"LOG","database":"app","user":"u","duration_ms":1.0,"query":"select 1"}'
  done
done > ev.ndjson
echo '{"ts":"2026-11-24T10:05:10Z","kind":"duration","severity":"LOG","database":"app","user":"u","duration_ms":1.0,"query":"select 1"}' >> ev.ndjson
echo '{"ts":"2026-11-24T10:15:10Z","kind":"duration","severity":"LOG","database":"app","user":"u","duration_ms":1.0,"query":"select 1"}' >> ev.ndjson
cat > low.yaml <<'YAML'
rules:
  - name: few_calls
    kind: threshold
    source: queries
    metric: calls
    window: 2m
    group_by: [database]
    condition: "< 3"
    for: 2m
    labels: { team: db }
    annotations:
      summary: "{{ value }} calls on {{ database }} ({{ team }})"
YAML
got=$("$PGSIFT" rules test --events ev.ndjson --until 2026-11-24T10:20:00Z low.yaml)
expect_eq "pending, then firing on an empty window, never resolved" \
  "2026-11-24T10:07:00Z pending value=1
2026-11-24T10:09:00Z firing value=0" \
  "$(awk '{ print $1, $2, $5 }' <<<"$got")"
"$PGSIFT" rules eval --events ev.ndjson --until 2026-11-24T10:20:00Z low.yaml >/dev/null
expect_eq "the annotation of a firing on an empty window" "0 calls on app (db)" \
  "$(store_query "SELECT json_extract(annotations, '$.summary') FROM alert_instances")"
pass
