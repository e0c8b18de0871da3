#!/usr/bin/env bash
# The shipped example rules over real PostgreSQL 15 logs (tests/fixtures/pg15) decoded
# by `pgsift parse`: the workload's deadlock fires at the next minute boundary and
# resolves 15 minutes later; csvlog and jsonlog of the same run give the same timeline.
. "$(dirname "$0")/lib.sh"

fx="$SIFT_SOURCE_DIR/tests/fixtures/pg15/text-plans"
[[ -f $fx/postgresql.json && -f $fx/postgresql.csv ]] || skip "pg15 fixtures absent"
"$PGSIFT" parse "$fx/postgresql.json" > json.ndjson 2>/dev/null
"$PGSIFT" parse "$fx/postgresql.csv" > csv.ndjson 2>/dev/null

# When the deadlock was logged (the ERROR 40P01 record), and the boundaries it implies.
ts=$(grep '"kind":"deadlock"' json.ndjson | grep '"severity":"ERROR"' | head -1 |
  sed 's/.*"ts":"\([^"]*\)".*/\1/')
[[ -n $ts ]] || fail "the fixture has no deadlock record"
epoch() { date -u -d "$1" +%s; }
fmt() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
t=$(epoch "$ts")
fire=$(fmt $(((t / 60 + 1) * 60)))
resolve=$(fmt $(((t / 60 + 16) * 60)))
until=$(fmt $(((t / 60 + 20) * 60)))

out=$("$PGSIFT" rules test --events json.ndjson --until "$until" "$SIFT_SOURCE_DIR"/rules/*.yaml)
expect_contains "$out" "$fire firing     deadlock                 critical value=1 database=app"
expect_contains "$out" "$resolve resolved   deadlock                 critical value=1 database=app"
# The fixture's single failed login is no burst; its few errors are no error storm.
expect_not_contains "$out" "auth_failure_burst"
expect_not_contains "$out" "errors_by_class"

csv=$("$PGSIFT" rules test --events csv.ndjson --until "$until" "$SIFT_SOURCE_DIR"/rules/*.yaml)
expect_eq "csvlog and jsonlog give the same timeline" "$(sed 's/postgresql\.json/LOG/g' <<<"$out")" \
  "$(sed 's/postgresql\.csv/LOG/g' <<<"$csv")"
pass
