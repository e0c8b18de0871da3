#!/usr/bin/env bash
# Rules on plan changes (`source: plans`, issue 10) over the real plan-insights fixture:
# the forced plan change (DROP INDEX: 0.38 ms -> 13 ms; t120) fires one alert for the
# query at the next minute boundary, with its text, old and new plan and latencies in the
# annotations; controls (slower_by too high, min_calls above the runs, the shipped
# example's 5 calls) do not fire; stderr, csvlog and jsonlog give the same timeline; a
# store without plans warns that auto_explain is off; bad plan rules are file:line:col
# errors.
. "$(dirname "$0")/lib.sh"
fixture_clock
need_cmd jq
F=$SIFT_SOURCE_DIR/tests/fixtures/pg15/plan-insights
[[ -f $F/postgresql.csv ]] || skip "fixtures absent"

cat > plans.yaml <<'YAML'
version: 1
rules:
  - name: plan_regression
    kind: event
    source: plans
    where: { type: plan_change, slower_by: 2x }
    resolve_after: 30m
    annotations:
      summary: "{{ query }}: plan {{ from_plan }} -> {{ to_plan }}, {{ slower_by | round(1) }}x slower ({{ before_ms | ms }} -> {{ after_ms | ms }}; {{ calls_before }} then {{ calls_after }} calls) at {{ changed_at }}"
  - name: control_100x
    kind: event
    source: plans
    where: { type: plan_change, slower_by: 100x }
  - name: control_min_calls
    kind: event
    source: plans
    where: { slower_by: 2x, min_calls: 4 }
YAML
out=$("$PGSIFT" rules check plans.yaml)
expect_contains "$out" "ok: 3 rules in 1 file (event 3)"

# The changes (t120): 34.1x slower (3 then 3 calls), 54.5x faster, 63.8x slower (6 then
# 3), 38.5x faster, all within 18:32:42-18:32:45. At 18:33:00 the two slowdowns are new;
# the alert shows the newest. Neither reaches 100x; neither has 4 calls on both sides.
expected='2026-11-25T18:33:00Z firing     plan_regression          warning  value=63.7908 database=app fingerprint=fc22575d2f6595b0
2026-11-25T18:34:00Z recovering plan_regression          warning  value=63.7908 database=app fingerprint=fc22575d2f6595b0
2026-11-25T19:03:00Z resolved   plan_regression          warning  value=63.7908 database=app fingerprint=fc22575d2f6595b0'
for f in postgresql.csv postgresql.log postgresql.json; do
  rm -f "$PGSIFT_DB"*
  "$PGSIFT" -q ingest "$F/$f"
  got=$("$PGSIFT" rules test --until 2026-11-25T19:10:00Z plans.yaml 2>err.txt)
  if [[ "$got" != "$expected" ]]; then
    diff <(echo "$expected") <(echo "$got") >&2 || true
    fail "plan-change timeline from $f differs"
  fi
  expect_not_contains "$(cat err.txt)" "none seen"
done

# The control rules alone: nothing at all (and the rules did run: no skip warning).
sed -i 's/slower_by: 2x }$/slower_by: 2x, fingerprint: [0000000000000000] }/' plans.yaml
got=$("$PGSIFT" rules test --until 2026-11-25T19:10:00Z plans.yaml 2>err.txt)
expect_eq "no alert from the controls" "" "$got"
expect_not_contains "$(cat err.txt)" "skipped"
got=$("$PGSIFT" rules test --until 2026-11-25T19:10:00Z "$SIFT_SOURCE_DIR/rules/plans.yaml")
expect_eq "shipped example (min_calls 5) does not fire on 3-call runs" "" "$got"
sed -i 's/slower_by: 2x, fingerprint: \[0000000000000000\] }$/slower_by: 2x }/' plans.yaml

# Recorded with `rules eval --replay`: the annotations carry the normalized text, both
# plan shapes and the latencies; no literal of the workload (customer_id = 42).
export SIFT_TEST_NOW=2026-11-25T20:00:00Z
"$PGSIFT" rules eval --replay --since 2026-11-25T18:30:00Z --until 2026-11-25T18:40:00Z \
  plans.yaml >/dev/null
"$PGSIFT" alerts --format json > alerts.json
expect_eq "one instance" 1 "$(jq '.instances | length' alerts.json)"
summary=$(jq -r '.instances[0].annotations.summary' alerts.json)
expect_eq "summary" 'select sum(amount) from orders_pi where customer_id = $1: plan e72b0d4c0dda4999 -> 6d997935400fddee, 63.8x slower (0.24 ms -> 15 ms; 6 then 3 calls) at 2026-11-25T18:32:44Z' "$summary"
# The plan named in the alert is one `pgsift plans` knows.
expect_contains "$("$PGSIFT" plans --show 6d997935400fddee)" "Seq Scan on orders_pi"

# A store without plan records: the rule warns that auto_explain is needed.
rm -f "$PGSIFT_DB"*
printf '%s\n' '2026-11-25 18:00:00.000 UTC [1] LOG:  duration: 5.000 ms  statement: select 1' > plain.log
"$PGSIFT" -q ingest plain.log
"$PGSIFT" rules test --until 2026-11-25T18:10:00Z plans.yaml >/dev/null 2>err.txt
expect_contains "$(cat err.txt)" "plans.yaml:3:5: rule 'plan_regression' reads plan records, none seen in the store: set auto_explain"

# Mistakes in plan rules: every one, with file:line:col.
cat > bad.yaml <<'YAML'
version: 1
rules:
  - name: p1
    kind: event
    source: plans
    where: { type: deadlock, slower_by: fast }
    group_by: [database]
  - name: p2
    kind: threshold
    source: plans
    metric: calls
    condition: "> 1"
  - name: p3
    kind: event
    where: { type: deadlock, slower_by: 2x }
    lookback: 1d
    annotations: { s: "{{ to_plan }}" }
YAML
rc=0; err=$("$PGSIFT" rules check bad.yaml 2>&1 >/dev/null) || rc=$?
expect_eq "exit code" 2 "$rc"
expect_contains "$err" "bad.yaml:6:20: invalid type 'deadlock' in 'where' (expected plan_change"
expect_contains "$err" "bad.yaml:6:41: 'slower_by' expects a factor above 0 like '2x'"
expect_contains "$err" "bad.yaml:7:15: source 'plans' must group by 'fingerprint'"
expect_contains "$err" "bad.yaml:10:13: kind 'threshold' cannot read source 'plans'"
expect_contains "$err" "bad.yaml:15:30: 'where.slower_by' does not apply to source 'events'"
expect_contains "$err" "bad.yaml:16:15: 'lookback' applies to kind 'event' only with source 'plans'"
expect_contains "$err" "bad.yaml:17:23: annotation 's': unknown variable 'to_plan'"
expect_contains "$err" "7 errors in 1 rule file"

# explain knows the source and its keys.
expect_contains "$("$PGSIFT" rules explain plans)" "plan_change"
expect_contains "$("$PGSIFT" rules explain where.slower_by)" "sources: plans"
pass
