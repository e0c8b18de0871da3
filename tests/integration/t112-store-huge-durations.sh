#!/usr/bin/env bash
# Durations at the store's cap (1e11 ms each) from a hostile log: enough of them that the
# sum in µs passes INT64_MAX in a window (statements, and auto_explain plans). top and report must answer (the sum saturates
# or is read as a double), never overflow a signed integer (UBSan) nor fail with SQLite's
# "integer overflow".
. "$(dirname "$0")/lib.sh"
fixture_clock
need_cmd sqlite3

# 92 300 calls x 1e14 µs = 9.23e18 µs > INT64_MAX, over two minutes and two commits.
for half in 0 1; do
  awk -v m="$half" 'BEGIN { for (i = 0; i < 46150; i++)
    printf "2026-11-24 10:%02d:00.000 UTC [12] LOG:  duration: 100000000000.000 ms  statement: SELECT 1\n", m }' \
    >"h$half.log"
  "$PGSIFT" ingest --no-progress "h$half.log" 2>/dev/null
done
# A third file adds to the first minute's row: the upsert's sum must not turn into a REAL.
awk 'BEGIN { for (i = 0; i < 46150; i++)
  printf "2026-11-24 10:00:30.000 UTC [12] LOG:  duration: 100000000000.000 ms  statement: SELECT 1\n" }' >h2.log
"$PGSIFT" ingest --no-progress h2.log 2>/dev/null
expect_eq "rows stay integers" "integer integer" \
  "$(store_query "SELECT group_concat(typeof(total_us), ' ') FROM (SELECT total_us FROM query_stats ORDER BY bucket)")"
expect_eq "query_ids sum stays an integer" "" \
  "$(store_query "SELECT typeof(total_us) FROM query_ids WHERE typeof(total_us) <> 'integer'")"

out=$("$PGSIFT" top --format csv --limit 0 2>err.txt) || fail "top failed: $(cat err.txt)"
expect_eq "top stderr" "" "$(cat err.txt)"
expect_contains "$out" ",138450,"
"$PGSIFT" report --since 2026-11-24 --until 2026-11-25 --format json -o r.json 2>err.txt ||
  fail "report failed: $(cat err.txt)"
expect_eq "report stderr" "" "$(cat err.txt)"

# Rolled up into an hour (30 days later): the hour row saturates too and reads back.
SIFT_TEST_NOW=2026-12-24T00:00:00Z "$SIFT_TEST_TOOL" store-rollup
expect_eq "one hour row" "3600 integer" "$(store_query "SELECT group_concat(width || ' ' || typeof(total_us)) FROM query_stats")"
out=$("$PGSIFT" top --format csv --limit 0 2>err.txt) || fail "top after roll-up failed: $(cat err.txt)"
expect_contains "$out" ",138450,"

# The same for auto_explain plans (plans and plan_runs keep their own sums), over two
# commits of the same plan.
for half in 0 1; do
  awk -v m="$half" 'BEGIN { for (i = 0; i < 46150; i++)
    printf "2026-11-24 11:%02d:00.000 UTC [12] LOG:  duration: 100000000000.000 ms  plan:\n\tQuery Text: SELECT 2\n\tResult  (cost=0.00..0.01 rows=1 width=4) (actual time=0.001..0.001 rows=1 loops=1)\n", m }' \
    >"p$half.log"
  PGSIFT_DB=plans.db "$PGSIFT" -q ingest --no-progress "p$half.log"
done
expect_eq "plan sums stay integers" "92300 integer integer" \
  "$(PGSIFT_DB=plans.db store_query "SELECT p.calls || ' ' || typeof(p.total_us) || ' ' || typeof(r.total_us) FROM plans p, plan_runs r")"
PGSIFT_DB=plans.db "$PGSIFT" plans --format json >/dev/null 2>err.txt || fail "plans failed: $(cat err.txt)"
pass
