#!/usr/bin/env bash
# labels: slow;pg
# timeout: 300
# The plan-insights fixture is reproducible, not a lucky run: regenerate it from a real
# PostgreSQL 15 server and check that every insight still fires in the text and in the
# JSON pass (and each control stays quiet, as tests/unit/test_plan.c checks on the
# committed run), and that the forced plan change is still detected.
. "$(dirname "$0")/lib.sh"
need_cmd jq
[[ -x /usr/lib/postgresql/15/bin/postgres ]] || skip "postgresql-15 not installed"

run=plan-insights
"$SIFT_SOURCE_DIR/scripts/gen-fixtures.sh" --out "$T/out" "$run" 2>"$T/gen.err" ||
  fail "gen-fixtures.sh failed: $(grep '^gen-fixtures:' "$T/gen.err" | tail -5)"
fresh=$T/out/$run
"$SIFT_TEST_TOOL" plans "$fresh/postgresql.csv" csvlog >analysis
for fmt in text json; do
  for insight in seq_scan_filter row_misestimate sort_spill hash_spill nested_loop_seq_scan \
    lossy_bitmap workers_not_launched jit_time slow_trigger; do
    n=$(awk -v f="$fmt" -v i="$insight" '/^line /{cur=$3} /^  insight /{if (cur == f && $2 == i) n++} END{print n+0}' analysis)
    ((n > 0)) || fail "regenerated run: $insight does not fire in the $fmt plans"
  done
done
# (not counting a plan of the generator's pg_stat_statements dump: auto_explain logs any
# statement over 50 ms, and on a loaded host that COPY can be one)
expect_eq "plans in the regenerated run" 64 \
  "$(grep '^line ' analysis | grep -vc 'on pg_stat_statements')"
"$PGSIFT" -q ingest "$fresh/postgresql.csv"
q='select sum(amount) from orders_pi where customer_id = $1'
expect_eq "plan changes detected" 4 \
  "$("$PGSIFT" plans --format json | jq ".queries[] | select(.query == \"$q\") | .changes | length")"
pass
