#!/usr/bin/env bash
# Plans in the report (the real plan-insights fixture: auto_explain plans with insights
# and plan changes): the plan changes and plan shapes agree with `pgsift plans`, and the
# formats parse.
. "$(dirname "$0")/lib.sh"
fixture_clock
. "$(dirname "$0")/report-lib.sh"
need_cmd openssl base64
"$PGSIFT" help plans >/dev/null 2>&1 || skip "pgsift plans is not built in"
log=$SIFT_SOURCE_DIR/tests/fixtures/pg15/plan-insights/postgresql.csv
[[ -f $log ]] || skip "fixture $log is missing"

"$PGSIFT" ingest "$log" >/dev/null 2>&1
day=$(head -c 10 "$log")
for fmt in html md json; do "$PGSIFT" report --day "$day" --top 50 -o "r.$fmt"; done
report_check_html r.html
report_check_md r.md
report_check_json r.json
"$PGSIFT" plans --format json > plans.json

expect_eq "plans known" true "$(jq .plans_known r.json)"
expect_eq "plan shapes: report = pgsift plans" \
  "$(jq -c '[.queries[] | .fingerprint as $f | .plans[] | [$f, .plan, .shape, .calls, .insights, .total_ms, .mean_ms]] | sort' plans.json)" \
  "$(jq -c '[.plans[] | [.fingerprint, .plan, .shape, .plans, .insights, .total_ms, .mean_ms]] | sort' r.json)"
expect_eq "plan changes: report = pgsift plans" \
  "$(jq -c '[.queries[] | .fingerprint as $f | .changes[]? | [$f, .from, .to, .calls_before, .calls_after, (.slower_by * 100 | round)]] | sort' plans.json)" \
  "$(jq -c '[.plan_changes[] | [.fingerprint, .from_plan, .to_plan, .calls_before, .calls_after, (.slower_by * 100 | round)]] | sort' r.json)"
[[ $(jq '.plan_changes | length' r.json) -ge 1 ]] || fail "the fixture's plan change is missing"
expect_eq "shapes with insights first" true \
  "$(jq '[.plans[] | .insights != []] | . == (sort | reverse)' r.json)"
expect_eq "plan changes in the html" "$(jq '.plan_changes | length' r.json)" \
  "$(xmllint --xpath 'count(//*[@id="t-plan-changes"]//*[local-name()="tbody"]/*)' r.html)"
expect_contains "$(cat r.md)" "## Plans"
# Each shape row names its database (QA 21b: one query in two databases gave two rows
# that differed only in their numbers).
n=$(jq '.plans | length' r.json)
html_dbs=$(for ((i = 1; i <= n; i++)); do
  xmllint --xpath "string((//*[@id='t-plans']//*[local-name()='tbody']/*)[$i]/*[2])" r.html |
    tr -d '\n'
  echo
done)
expect_eq "plan shapes: html database column = json" "$(jq -r '.plans[].database' r.json)" "$html_dbs"
expect_contains "$(cat r.md)" "| Query | Fingerprint | Database | Plan | Shape |"
# A day without plans: the section says so.
expect_eq "no plans on another day" 0 "$("$PGSIFT" report --day 2020-01-01 --format json | jq '.plans | length')"
pass
