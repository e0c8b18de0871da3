#!/usr/bin/env bash
# Plans in a report without --keep-literals carry no literal values even when the store
# was filled with `pgsift ingest --keep-literals` (its plans keep their constants and
# parameters): the report redacts them as ingest would, so it shows the same plans as
# the report of a redacted store. Real log: tests/fixtures/pg15/plan-insights (its
# auto_explain plans hold "customer_id = 42", "customer_id = 7", ...).
. "$(dirname "$0")/lib.sh"
need_cmd jq
fixture_clock

log=$SIFT_SOURCE_DIR/tests/fixtures/pg15/plan-insights/postgresql.csv
"$PGSIFT" --db kept.db ingest --keep-literals --no-progress "$log" 2>/dev/null || fail "ingest kept"
"$PGSIFT" --db red.db ingest --no-progress "$log" 2>/dev/null || fail "ingest redacted"

"$PGSIFT" --db kept.db report --since 2020-01-01 --format json > k.json || fail "report"
expect_eq "literals" redacted "$(jq -r .literals k.json)"
expect_eq "plans shown" true "$(jq '.plans | length > 0' k.json)"
expect_eq "no literal in plans" 0 "$(jq -r '.plans[].sample' k.json | grep -c 'customer_id = 42')"
"$PGSIFT" --db red.db report --since 2020-01-01 --format json > r.json || fail "report red"
expect_eq "same plans as a redacted store" "$(jq -cS .plans r.json)" "$(jq -cS .plans k.json)"
"$PGSIFT" --db kept.db report --since 2020-01-01 -o k.html || fail "report html"
expect_eq "no literal in html" 0 "$(grep -c 'customer_id = 42' k.html)"
expect_eq "redacted plan in html" true "$(grep -q 'customer_id = \$1' k.html && echo true)"

# --keep-literals shows them.
"$PGSIFT" --db kept.db report --since 2020-01-01 --format json --keep-literals > kk.json ||
  fail "report kept"
expect_eq "literals kept" true "$(jq -r '[.plans[].sample] | any(contains("customer_id = 42"))' kk.json)"
pass
