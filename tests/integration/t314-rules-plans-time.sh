#!/usr/bin/env bash
# Rules on plan changes in event time, over a stderr log built from the plan-insights
# fixture's two plans of one statement, spread over minutes: a change fires at the
# boundary after its new plan's third record, not again when more records of that plan
# arrive, and again for a later change back to the slow plan; `min_calls` fires when the
# new plan reaches that many records; a change to a faster plan stays quiet. Ingested in
# pieces with `rules eval` after each, as tailing does, the history is the replay's.
. "$(dirname "$0")/lib.sh"
fixture_clock

prefix() { printf '2026-11-24 %s UTC [513] postgres@app/psql LOG:  duration: %s ms  plan:\n' "$1" "$2"; }
plan_a() { # with the index
  prefix "$1" "$2"
  printf '\t%s\n' 'Query Text: SELECT sum(amount) FROM orders_pi WHERE customer_id = 42;' \
    'Aggregate  (cost=306.88..306.89 rows=1 width=32) (actual time=0.265..0.265 rows=1 loops=1)' \
    '  ->  Bitmap Heap Scan on orders_pi  (cost=5.07..306.63 rows=100 width=6) (actual time=0.029..0.243 rows=100 loops=1)' \
    '        Recheck Cond: (customer_id = 42)' \
    '        ->  Bitmap Index Scan on orders_pi_customer_idx  (cost=0.00..5.04 rows=100 width=0) (actual time=0.016..0.016 rows=100 loops=1)' \
    '              Index Cond: (customer_id = 42)'
}
plan_b() { # the index dropped
  prefix "$1" "$2"
  printf '\t%s\n' 'Query Text: SELECT sum(amount) FROM orders_pi WHERE customer_id = 42;' \
    'Aggregate  (cost=2387.25..2387.26 rows=1 width=32) (actual time=12.2..12.2 rows=1 loops=1)' \
    '  ->  Seq Scan on orders_pi  (cost=0.00..2387.00 rows=100 width=6) (actual time=0.068..12.142 rows=100 loops=1)' \
    '        Filter: (customer_id = 42)' \
    '        Rows Removed by Filter: 99900'
}
{
  for s in 01 02 03 04; do plan_a "10:00:$s.000" 1.000; done   # A x4, 1 ms
  for s in 10 20 30; do plan_b "10:01:$s.000" 20.000; done      # B x3, 20 ms: 20x slower
  for s in 10 20; do plan_b "10:02:$s.000" 20.000; done         # B x2 more (same change)
  for s in 10 20 30; do plan_a "10:10:$s.000" 1.000; done       # back to A: faster
  for s in 10 20 30; do plan_b "10:20:$s.000" 30.000; done      # B again: 30x slower
  plan_a "10:40:00.000" 1.000                                   # moves the watermark
} > all.log

cat > rules.yaml <<'YAML'
version: 1
rules:
  - name: plan_regression
    kind: event
    source: plans
    where: { slower_by: 2x }
    resolve_after: 5m
  - name: plan_regression_4
    kind: event
    source: plans
    where: { slower_by: 2x, min_calls: 4 }
    resolve_after: 5m
YAML
"$PGSIFT" -q ingest all.log
[[ $("$PGSIFT" plans --changes) == *"plan change"* ]] || fail "the log has no plan change"
# 10:02 the first change (B's third record at 10:01:30); 10:03 with 4 calls each side (B's
# fourth at 10:02:10: plan_regression_4 fires, plan_regression does not fire again, so it
# resolves 5 min after 10:02); 10:11 the change back is faster: nothing; 10:21 the second
# slowdown (A had only 3 records, below min_calls 4).
expected='2026-11-24T10:02:00Z firing     plan_regression          warning  value=20 database=app fingerprint=fc22575d2f6595b0
2026-11-24T10:03:00Z recovering plan_regression          warning  value=20 database=app fingerprint=fc22575d2f6595b0
2026-11-24T10:03:00Z firing     plan_regression_4        warning  value=20 database=app fingerprint=fc22575d2f6595b0
2026-11-24T10:04:00Z recovering plan_regression_4        warning  value=20 database=app fingerprint=fc22575d2f6595b0
2026-11-24T10:07:00Z resolved   plan_regression          warning  value=20 database=app fingerprint=fc22575d2f6595b0
2026-11-24T10:08:00Z resolved   plan_regression_4        warning  value=20 database=app fingerprint=fc22575d2f6595b0
2026-11-24T10:21:00Z firing     plan_regression          warning  value=30 database=app fingerprint=fc22575d2f6595b0
2026-11-24T10:22:00Z recovering plan_regression          warning  value=30 database=app fingerprint=fc22575d2f6595b0
2026-11-24T10:26:00Z resolved   plan_regression          warning  value=30 database=app fingerprint=fc22575d2f6595b0'
got=$("$PGSIFT" rules test --since 2026-11-24T10:00:00Z --until 2026-11-24T10:40:00Z rules.yaml)
if [[ "$got" != "$expected" ]]; then
  diff <(echo "$expected") <(echo "$got") >&2 || true
  fail "plan-change timeline differs"
fi

# In pieces, cut inside runs (B's third record, the second B run), as tailing sees it.
rm -f "$PGSIFT_DB"*
for cut in "10:01:30" "10:02:10" "10:20:20" "end"; do
  if [[ $cut == end ]]; then cp all.log live.log
  else n=$(grep -n "^2026-11-24 $cut" all.log | head -1 | cut -d: -f1); head -n $((n + 5)) all.log > live.log
  fi
  "$PGSIFT" -q ingest live.log
  "$PGSIFT" rules eval --since 2026-11-24T10:00:00Z rules.yaml >/dev/null
done
"$PGSIFT" rules eval --until 2026-11-24T10:40:00Z rules.yaml >/dev/null
live=$("$PGSIFT" alerts --history)
if [[ "$live" != "$expected" ]]; then
  diff <(echo "$expected") <(echo "$live") >&2 || true
  fail "history from a growing store differs from the replay"
fi
pass
