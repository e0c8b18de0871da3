#!/usr/bin/env bash
# labels: slow;pg
# timeout: 300
# scripts/gen-fixtures.sh reproduces fixtures of the same shape: regenerate one run from a
# real PostgreSQL 15 server into a temp dir and compare it with the committed run.
. "$(dirname "$0")/lib.sh"
need_cmd jq
[[ -x /usr/lib/postgresql/15/bin/postgres ]] || skip "postgresql-15 not installed"

run=text-plans
committed=$SIFT_SOURCE_DIR/tests/fixtures/pg15/$run
"$SIFT_SOURCE_DIR/scripts/gen-fixtures.sh" --out "$T/out" "$run" 2>"$T/gen.err" ||
  fail "gen-fixtures.sh failed: $(grep '^gen-fixtures:' "$T/gen.err" | tail -5)"
fresh=$T/out/$run

for f in postgresql.log postgresql.csv postgresql.json pg_stat_statements.csv workload.sql README.md; do
  [[ -s $fresh/$f ]] || fail "regenerated run lacks $f"
done
expect_contains "$(tail -n 3 "$fresh/postgresql.log")" "database system is shut down"

# The same SQLSTATEs occur (errors, timeouts, deadlock ...), and the same workload SQL.
states() { jq -r '.state_code // "00000"' "$1/postgresql.json" | sort -u | tr '\n' ' '; }
expect_eq "SQLSTATEs of a regenerated run" "$(states "$committed")" "$(states "$fresh")"
# (Temp directory names in comments differ.)
workload() { sed -E 's#/tmp/pgsift-fixtures\.[A-Za-z0-9]+#TMP#g' "$1/workload.sql"; }
expect_eq "workload.sql" "$(workload "$committed")" "$(workload "$fresh")"

# Duration records within 10 % (a few plans and autovacuum records vary run to run).
durations() { jq -r 'select(.message | startswith("duration:")) | .pid' "$1/postgresql.json" | wc -l; }
a=$(durations "$committed") b=$(durations "$fresh")
((b * 10 >= a * 9 && b * 10 <= a * 11)) || fail "duration records: committed $a, regenerated $b"

# pg_stat_statements is the grouping oracle: nearly every normalized statement must
# recur. (The queryid values themselves depend on relation OIDs, which concurrent
# sessions can be assigned in another order under load, so compare the texts.)
need_cmd sqlite3
texts() {
  sqlite3 -batch :memory: ".import --csv '$1/pg_stat_statements.csv' pss" \
    "SELECT DISTINCT replace(query, char(10), ' ') FROM pss ORDER BY 1;"
}
total=$(texts "$committed" | wc -l)
common=$(comm -12 <(texts "$committed") <(texts "$fresh") | wc -l)
((total > 50)) || fail "pg_stat_statements.csv of the committed run has only $total statements"
((common * 10 >= total * 9)) || fail "only $common of $total statements recur in a regenerated run"
pass
