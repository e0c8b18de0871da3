#!/usr/bin/env bash
# `pgsift plans` prints text from the logs (the database name, the query, the plan's
# relation names in the shape, insights and index DDL): in every output (table, md,
# --show) escape sequences and other control characters must not reach the terminal.
. "$(dirname "$0")/lib.sh"

printf '2026-11-25 10:00:04.001 UTC [106] u@d\033]0;EVIL\007b/app LOG:  duration: 5.000 ms  plan:\n\tQuery Text: SELECT * FROM "c\033[2Jards" WHERE num = 1\n\tSeq Scan on "c\033[2J\302\233ards"  (cost=0.00..1.01 rows=1 width=36) (actual time=0.010..0.011 rows=1 loops=1)\n\t  Filter: (num = 1)\n\t  Rows Removed by Filter: 30000\n' > "$T/pl.log"
touch -d '-1 min' "$T/pl.log" # (not being written: its last record is complete)
"$PGSIFT" ingest --no-progress --format stderr --prefix '%m [%p] %u@%d/%a ' "$T/pl.log" 2>/dev/null
pfp=$("$PGSIFT" plans --format json | grep -o '"plan":"[0-9a-f]*"' | head -1 | grep -o '[0-9a-f]\{16\}')
[[ -n $pfp ]] || fail "no plan stored"
for what in "plans" "plans --format md" "plans --show $pfp" "plans --show $pfp --format md"; do
  # shellcheck disable=SC2086
  out=$("$PGSIFT" $what 2>&1)
  expect_contains "$out" "CREATE INDEX"
  if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' <<<"$out"; then
    printf '%s\n' "$out" | cat -v | grep -E 'EVIL|2J' >&2
    fail "'pgsift $what' printed a control character from the log"
  fi
  # a C1 control (U+009B, CSI to some terminals) in the relation name
  if LC_ALL=C grep -q $'\xc2\x9b' <<<"$out"; then
    fail "'pgsift $what' printed a C1 control character from the log"
  fi
done
pass
