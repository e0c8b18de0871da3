#!/usr/bin/env bash
# pgsift plans on the real plan-insights fixture (acceptance of issue 10 from outside):
# plan shapes per query with latency per shape, the forced plan change (DROP INDEX /
# CREATE INDEX) flagged with its slowdown, every insight on some shape, index suggestions
# that skip the index the other plans use, redacted samples (constants kept only with
# --keep-literals), --show with explanations and evidence, the same result from the
# stderr, csvlog and jsonlog copies, and clear errors for bad arguments.
. "$(dirname "$0")/lib.sh"
fixture_clock
need_cmd jq
F=$SIFT_SOURCE_DIR/tests/fixtures/pg15/plan-insights
[[ -f $F/postgresql.csv ]] || skip "fixtures absent"

"$PGSIFT" -q ingest "$F/postgresql.csv"
"$PGSIFT" plans --format json >plans.json
jq -e . plans.json >/dev/null || fail "plans --format json is not JSON"

# The statement run with its index, without it, and with it again.
q='select sum(amount) from orders_pi where customer_id = $1'
sel=".queries[] | select(.query == \"$q\")"
expect_eq "shapes of the forced plan change" 2 "$(jq "[$sel | .plans[]] | length" plans.json)"
expect_eq "calls per shape (20 plans)" "14 6" \
  "$(jq -r "[$sel | .plans[] | .calls] | sort | reverse | map(tostring) | join(\" \")" plans.json)"
expect_eq "the Seq Scan shape carries seq_scan_filter" '["seq_scan_filter"]' \
  "$(jq -c "$sel | .plans[] | select(.shape == \"Aggregate > Seq Scan on orders_pi\") | .insights" plans.json)"
expect_eq "plan changes (index dropped, recreated; twice)" 4 "$(jq "$sel | .changes | length" plans.json)"
slower=$(jq "$sel | .changes[0].slower_by" plans.json)
jq -e "$sel | .changes[0] | .slower_by > 5 and .calls_before == 3 and .calls_after == 3" plans.json \
  >/dev/null || fail "first change is not a >5x slowdown after 3 calls: $slower"
jq -e "$sel | .changes[1].slower_by < 0.2" plans.json >/dev/null || fail "recreating the index did not speed it up"
jq -e "$sel | .plans[] | .mean_ms > 0 and .p95_ms >= .p50_ms and .max_ms >= .min_ms" plans.json \
  >/dev/null || fail "latency per shape missing"

# Every insight fires on some shape of the fixture.
for insight in seq_scan_filter row_misestimate sort_spill hash_spill nested_loop_seq_scan \
  lossy_bitmap workers_not_launched jit_time slow_trigger; do
  n=$(jq "[.queries[].plans[].insights[] | select(. == \"$insight\")] | length" plans.json)
  ((n > 0)) || fail "insight $insight on no shape"
done

# Index suggestions: heuristic, deduplicated; none for orders_pi (customer_id), which an
# index other plans use covers; corr_pi (a) folded into (a, b).
ddls=$(jq -r '.suggestions[].ddl' plans.json)
expect_contains "$ddls" "CREATE INDEX CONCURRENTLY ON customers_pi (id);"
expect_contains "$ddls" "CREATE INDEX CONCURRENTLY ON orders_pi (region, status);"
expect_contains "$ddls" "CREATE INDEX CONCURRENTLY ON corr_pi (a, b);"
expect_not_contains "$ddls" "orders_pi (customer_id)"
expect_not_contains "$ddls" "corr_pi (a);"
expect_eq "suggestions are marked heuristic" true "$(jq '[.suggestions[].heuristic] | all' plans.json)"

# Samples are redacted: no constant of the workload in any stored plan.
samples=$(store_query "SELECT group_concat(sample, ' ') FROM plans")
expect_not_contains "$samples" "'refunded'"
expect_not_contains "$samples" "customer_id = 42"
expect_not_contains "$samples" "'ab%'"
expect_contains "$samples" "customer_id = \$1"

# The table flags the change; --changes lists only that query; markdown has its tables.
table=$("$PGSIFT" plans)
expect_contains "$table" "plan change"
expect_contains "$table" "x slower"
# It fits a 100-column terminal, as `top` does (a plan change takes two lines).
printf '%s\n' "$table" >plans.txt
expect_eq "plans table width <= 100" 1 "$(LC_ALL=C.UTF-8 wc -L <plans.txt | awk '{ print ($1 <= 100) }')"
expect_contains "$table" "INDEX SUGGESTIONS (heuristic"
changes=$("$PGSIFT" plans --changes --format json)
expect_eq "--changes: one query" 1 "$(jq '.queries | length' <<<"$changes")"
md=$("$PGSIFT" plans --format md)
expect_contains "$md" "| plan | calls | mean | p95 | max | insights | shape |"
expect_contains "$md" "### Index suggestions (heuristic)"

# CSV: one row per shape, the JSON document's plans (with their query) in its order.
csv=$("$PGSIFT" plans --format csv | tr -d '\r')
expect_eq "plans csv header" \
  "fingerprint,database,plan,calls,total_ms,mean_ms,min_ms,max_ms,p50_ms,p95_ms,p99_ms,first_seen,last_seen,insights,shape,query" \
  "$(head -1 <<<"$csv")"
expect_eq "plans csv: fingerprint, plan, calls, first_seen per shape" \
  "$(jq -r '.queries[] | .fingerprint as $f | .plans[] | "\($f),\(.plan),\(.calls),\(.first_seen)"' plans.json)" \
  "$(tail -n +2 <<<"$csv" | awk -F, '{ print $1 "," $3 "," $4 "," $12 }')"
expect_contains "$csv" ',seq_scan_filter,Aggregate > Seq Scan on orders_pi,select sum(amount) from orders_pi where customer_id = $1'
expect_eq "plans --changes csv: the shapes of that query" 2 \
  "$("$PGSIFT" plans --changes --format csv | tail -n +2 | wc -l)"

# --show: the plan with its insights explained and the evidence lines.
seq=$(jq -r "$sel | .plans[] | select(.shape == \"Aggregate > Seq Scan on orders_pi\") | .plan" plans.json)
fp=$(jq -r "$sel | .fingerprint" plans.json)
show=$("$PGSIFT" plans --show "$seq" --query "$fp")
expect_contains "$show" "INSIGHT Sequential scan with a selective filter (seq_scan_filter)"
expect_contains "$show" "Rows Removed by Filter: 99900"
expect_contains "$show" "reads 100000 rows to return 100"
expect_not_contains "$show" "CREATE INDEX CONCURRENTLY ON orders_pi (customer_id)"
sj=$("$PGSIFT" plans --show "$seq" --query "$fp" --format json)
expect_eq "--show json: one occurrence" 1 "$(jq '.occurrences | length' <<<"$sj")"
expect_eq "--show json: the insight" seq_scan_filter "$(jq -r '.occurrences[0].sample_insights[0].name' <<<"$sj")"
jq -e '.occurrences[0].sample_insights[0].evidence | test("Filter: \\(customer_id = \\$1\\)")' \
  <<<"$sj" >/dev/null || fail "--show json: evidence lines"
trig=$("$PGSIFT" plans --show "$(jq -r '.queries[].plans[] | select(.insights | index("slow_trigger")) | .plan' plans.json | head -1)")
expect_contains "$trig" "Trigger for constraint child_pi_parent_id_fkey"

# The stderr and jsonlog copies of the run give the same plans.
for f in log json; do
  PGSIFT_DB=$T/$f.db "$PGSIFT" -q ingest "$F/postgresql.$f"
  PGSIFT_DB=$T/$f.db "$PGSIFT" plans --format json | jq -S '[.queries[] | {fingerprint, plans: [.plans[] | {plan, calls, insights}], changes: [.changes[] | {from, to, calls_before, calls_after}]}]' >"$f.shapes"
done
jq -S '[.queries[] | {fingerprint, plans: [.plans[] | {plan, calls, insights}], changes: [.changes[] | {from, to, calls_before, calls_after}]}]' plans.json >csv.shapes
cmp -s csv.shapes log.shapes || fail "stderr and csvlog give different plans: $(diff csv.shapes log.shapes | head -5)"
cmp -s csv.shapes json.shapes || fail "jsonlog and csvlog give different plans"

# --keep-literals keeps the constants in the samples.
PGSIFT_DB=$T/keep.db "$PGSIFT" -q ingest --keep-literals "$F/postgresql.csv"
keep=$(PGSIFT_DB=$T/keep.db store_query "SELECT group_concat(sample, ' ') FROM plans")
expect_contains "$keep" "customer_id = 42"

# Bad arguments and empty stores.
expect_exit 2 "$PGSIFT" plans --query xyz
err=$("$PGSIFT" plans --query xyz 2>&1 || true)
expect_contains "$err" "--query: expected a fingerprint of 1 to 16 hex digits, got 'xyz'"
expect_exit 2 "$PGSIFT" plans --format yaml
expect_exit 2 "$PGSIFT" plans extra
expect_exit 2 "$PGSIFT" plans --show 0000000000000001  # not 3: no parse failure
expect_exit 1 "$PGSIFT" --db "$T/none.db" plans
"$PGSIFT" -q --db "$T/empty.db" ingest "$SIFT_SOURCE_DIR/tests/fixtures/pg15/statement-log/postgresql.csv"
empty=$("$PGSIFT" --db "$T/empty.db" plans --changes)
expect_contains "$empty" "(no plan changes)"
"$PGSIFT" plans --help | grep -q -- '--show PLAN' || fail "--help lacks --show"
pass
