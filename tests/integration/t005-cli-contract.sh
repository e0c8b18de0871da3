#!/usr/bin/env bash
# Review of the command-line contract (INTERFACE.md): exit code 1 when stdout cannot be
# written (also for --help), time arguments that would print a non-RFC 3339 time, and
# error messages that name only options that exist.
. "$(dirname "$0")/lib.sh"
fixture_clock

# --help / -h to a full disk or a closed stdout is an I/O failure (exit 1), as for every
# command's own --help and for 'pgsift help'.
if [[ -w /dev/full ]]; then
  for a in --help -h; do
    rc=0; err=$("$PGSIFT" "$a" 2>&1 >/dev/full) || rc=$?
    expect_eq "exit code of 'pgsift $a' to /dev/full" 1 "$rc"
    expect_contains "$err" "pgsift: cannot write to standard output"
  done
  rc=0; "$PGSIFT" top --help >/dev/full 2>/dev/null || rc=$?
  expect_eq "exit code of 'pgsift top --help' to /dev/full" 1 "$rc"
fi
rc=0; "$PGSIFT" --help >&- 2>/dev/null || rc=$?
expect_eq "exit code of 'pgsift --help' with stdout closed" 1 "$rc"

# A store with the real fixture's statements.
fx="$SIFT_SOURCE_DIR/tests/fixtures/pg15/text-plans/postgresql.csv"
[[ -f $fx ]] || skip "pg15 fixtures absent"
"$PGSIFT" --db s.db -q ingest --no-progress "$fx"

# INTERFACE.md's --format values: the query commands take table, json, md and csv.
for cmd in "top" "events" "alerts" "alerts --history" "plans" "status $fx"; do
  for f in table json md csv; do
    # shellcheck disable=SC2086
    rc=0; err=$("$PGSIFT" --db s.db $cmd --format $f 2>&1 >/dev/null) || rc=$?
    expect_eq "exit code of '$cmd --format $f' ($err)" 0 "$rc"
  done
done

# A span back from now that reaches before the year 1 cannot be written as RFC 3339
# (JSON "since" would read "-712-12-29T..."): a usage error naming the option, for every
# command that takes time arguments. Long spans within range still work.
for cmd in "top" "events" "report --format json" "plans --format json"; do
  # shellcheck disable=SC2086
  rc=0; err=$("$PGSIFT" --db s.db $cmd --since 1000000d 2>&1 >/dev/null) || rc=$?
  expect_eq "exit code of '$cmd --since 1000000d'" 2 "$rc"
  expect_contains "$err" "pgsift: invalid time '1000000d' for option '--since'"
done
rc=0; err=$("$PGSIFT" --db s.db top --until 106751991d 2>&1) || rc=$?
expect_eq "exit code of 'top --until 106751991d'" 2 "$rc"
expect_contains "$err" "option '--until'"
out=$("$PGSIFT" --db s.db top --since 700000d --format json)
expect_contains "$out" '"since":"0110-'
out=$("$PGSIFT" --db s.db events --since 3650d --limit 1 --format json)
expect_contains "$out" '"since":"2016-11-28T00:00:00.000Z"'

# 'silence add' without a matcher names the MATCHER operands, not an option that does
# not exist.
rc=0; err=$("$PGSIFT" --db s.db silence add --for 1h --comment test 2>&1) || rc=$?
expect_eq "exit code of 'silence add' without a matcher" 2 "$rc"
expect_not_contains "$err" "--match"
expect_contains "$err" "MATCHER"
# An end RFC 3339 cannot write is refused (QA 21a: year 275817 was printed).
rc=0; err=$("$PGSIFT" --db s.db silence add --for 99999999d --comment test rule=x 2>&1) || rc=$?
expect_eq "exit code of 'silence add --for 99999999d'" 2 "$rc"
expect_contains "$err" "would end after 9999-12-31"

# 'ingest' of an empty directory: nothing to read (exit 1), said without claiming that
# "0 operands could not be read".
mkdir empty
rc=0; err=$("$PGSIFT" --db s.db ingest --no-progress empty 2>&1) || rc=$?
expect_eq "exit code of 'ingest' of an empty directory" 1 "$rc"
expect_contains "$err" "directory 'empty' holds no files"
expect_not_contains "$err" "0 operands could not be read"
expect_contains "$err" "pgsift: nothing to read: no file in the operand (above)"
# 'plans' with a filter that matches nothing does not claim the store has no plans
# (the fixture has auto_explain plans: the unfiltered list is not empty).
out=$("$PGSIFT" --db s.db plans)
expect_not_contains "$out" "no plans in the store"
out=$("$PGSIFT" --db s.db plans --database nosuchdb)
expect_not_contains "$out" "no plans in the store"
expect_contains "$out" "(no plans match --query, --database or --since)"
out=$("$PGSIFT" --db s.db plans --query 0123)
expect_contains "$out" "(no plans match --query, --database or --since)"
# 'status --format csv': unknown values (lag of a file never committed, size and lag of a
# .gz) are empty fields, as JSON's null, not "'-" (the table's dash behind the formula
# guard) or "never".
printf '2026-11-25 17:44:49.791 UTC [1] LOG:  x\n' >new.log
gzip -c new.log >new.log.gz
csv=$("$PGSIFT" --db s.db status --format csv new.log new.log.gz | tr -d '\r')
expect_not_contains "$csv" "'-"
expect_not_contains "$csv" "never"
expect_contains "$csv" "new.log,new.log,live,0,40,40,,"
expect_contains "$csv" ",new.log.gz,rotated,0,,,,"  # (a gzip file is never written again)
# 'events --format csv|md': a text fact is written whole. The fixture's autovacuum record,
# its table renamed to a long (legal: 3 x <= 63 bytes) qualified name, lost everything
# after 63 bytes of 'relation=' in CSV, Markdown and the table (JSON had it whole).
long=tenant_database_number_0042.tenant_schema_for_customer_acme.av_demo_orders_archive_by_month
sfx="$SIFT_SOURCE_DIR/tests/fixtures/pg15/text-plans/postgresql.log"
grep -A12 'automatic vacuum of table "app.public.av_demo"' "$sfx" | head -12 |
  sed "s/app\.public\.av_demo/$long/" >av.log
"$PGSIFT" --db av.db -q ingest --no-progress --format stderr --prefix '%m [%p] %q%u@%d/%a ' av.log
expect_eq "relation in JSON" "$long" "$("$PGSIFT" --db av.db events --kind autovacuum --format json | jq -r '.events[0].relation')"
expect_contains "$("$PGSIFT" --db av.db events --kind autovacuum --format csv)" "relation=$long tuples_removed=20000"
expect_contains "$("$PGSIFT" --db av.db events --kind autovacuum --format md)" "relation=${long//_/\\_} tuples\\_removed=20000"
# 'rules eval --config' and 'alerts deliver --config' use the configuration's store:
# unless --db or $PGSIFT_DB is given (INTERFACE.md: pgsift.yaml's store, used by the
# commands with --config; the precedence of docs/tail.md). They used ./pgsift.db.
mkdir cfgrun
printf 'store: %s/s.db\nrules: [%s/rules/events.yaml]\n' "$PWD" "$SIFT_SOURCE_DIR" >cfgrun/c.yaml
rc=0; out=$(cd cfgrun && env -u PGSIFT_DB "$PGSIFT" rules eval --config c.yaml 2>&1) || rc=$?
expect_eq "exit code of 'rules eval --config' with the config's store" 0 "$rc"
expect_contains "$out" "evaluated "
[[ ! -e cfgrun/pgsift.db ]] || fail "'rules eval --config' created ./pgsift.db"
rc=0; out=$(cd cfgrun && env -u PGSIFT_DB "$PGSIFT" alerts deliver --config c.yaml --once 2>&1) || rc=$?
expect_eq "exit code of 'alerts deliver --config' with the config's store" 0 "$rc"
expect_contains "$out" "delivered 0"
# --db still wins over the configuration.
rc=0; err=$(cd cfgrun && "$PGSIFT" --db other.db rules eval --config c.yaml 2>&1) || rc=$?
expect_eq "--db wins over the config's store" 1 "$rc"
expect_contains "$err" "no store at 'other.db'"
rc=0; err=$(cd cfgrun && PGSIFT_DB=env.db "$PGSIFT" alerts deliver --config c.yaml --once 2>&1) || rc=$?
expect_eq "\$PGSIFT_DB wins over the config's store" 1 "$rc"
expect_contains "$err" "no store at 'env.db'"

# Messages on stderr quote file names and log text: no control byte reaches the terminal
# (ESC, BEL, CR, and C1's CSI U+009B become '?'). Hand-made file name, the edge case.
bad=$'esc\033[2J\a\r\xc2\x9bname.log'
printf 'not a log line\n' > "$bad"
"$PGSIFT" --db s2.db ingest --no-progress "$bad" 2> msg.txt || true
expect_eq "no control bytes in messages" 0 "$(LC_ALL=C grep -c $'[\001-\010\013-\037\177]\\|\xc2\x9b' msg.txt || true)"
expect_contains "$(cat msg.txt)" "esc?[2J????name.log"

# parse --stats shows a rejected line's control characters as \xHH, C1's CSI included.
printf 'x\302\233[2Jy\n' > c1.log
expect_contains "$("$PGSIFT" parse --stats --format stderr c1.log 2>/dev/null || true)" '|x\xc2\x9b[2Jy|'

# report -o - is standard output, as without -o (it used to write a file named '-').
mkdir dash && (cd dash && "$PGSIFT" --db ../s.db report --day 2026-11-25 --format md -o - > out.md)
[[ ! -e dash/- ]] || fail "report -o - wrote a file named '-'"
expect_eq "report -o - is stdout" "$("$PGSIFT" --db s.db report --day 2026-11-25 --format md)" \
  "$(cat dash/out.md)"
pass
