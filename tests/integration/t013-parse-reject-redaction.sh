#!/usr/bin/env bash
# Lines no parser reads (a wrong --prefix, foreign lines between records) still hold
# tenant data: bind parameters and quoted values. Their samples in `pgsift parse --stats`
# (table and JSON) and in the "no record could be parsed" diagnosis (parse, ingest) are
# redacted like the store's reject_samples unless --keep-literals is given.
. "$(dirname "$0")/lib.sh"

card=4111111111111111
cat > "$T/two.log" <<EOF2
2026-11-25 10:00:00.001 UTC [101] LOG:  duration: 12.345 ms  execute S_1: SELECT * FROM cards WHERE num = \$1 AND name = \$2
2026-11-25 10:00:00.001 UTC [101] DETAIL:  parameters: \$1 = '$card', \$2 = 'Alice Marker'
EOF2
{ printf '2026-11-25 10:00:01.001 UTC [102] ERROR:  boom\n'
  printf "xx DETAIL:  parameters: \$1 = '%s', \$2 = 'Alice Marker'\n" "$card"; } > "$T/mix.log"

# 1. The wrong prefix: nothing parses, the diagnosis quotes the first lines.
rc=0; err=$("$PGSIFT" parse --format stderr --prefix '%m [%p] %u@%d ' "$T/two.log" 2>&1) || rc=$?
expect_eq "parse: nothing parsed" 3 "$rc"
expect_contains "$err" "first failing lines"
expect_contains "$err" "parameters: …"
expect_not_contains "$err" "$card"
expect_not_contains "$err" "Alice Marker"
rc=0; err=$("$PGSIFT" --db "$T/s.db" ingest --no-progress --format stderr \
  --prefix '%m [%p] %u@%d ' "$T/two.log" 2>&1) || rc=$?
expect_eq "ingest: nothing parsed" 3 "$rc"
expect_contains "$err" "parameters: …"
expect_not_contains "$err" "$card"
expect_not_contains "$err" "Alice Marker"
# Opted in: the line as it is.
err=$("$PGSIFT" parse --keep-literals --format stderr --prefix '%m [%p] %u@%d ' "$T/two.log" 2>&1) || true
expect_contains "$err" "$card"

# 2. parse --stats: the samples of foreign lines, table and JSON.
for f in table json; do
  out=$("$PGSIFT" parse --stats --stats-format $f --format stderr --prefix '%m [%p] ' "$T/mix.log" 2>&1)
  expect_contains "$out" "parameters: …"
  expect_not_contains "$out" "$card"
  expect_not_contains "$out" "Alice Marker"
  out=$("$PGSIFT" parse --stats --stats-format $f --keep-literals --format stderr \
    --prefix '%m [%p] ' "$T/mix.log" 2>&1)
  expect_contains "$out" "$card"
done

# 3. A file that starts inside a statement (rotated mid-record): its first line is the
# rest of the statement, SQL whose bare numbers are values. Redacted in the store, in
# parse --stats and in the diagnosis; kept with --keep-literals (hand-made lines).
printf '\tAND card_number = %s\n2026-11-25 17:45:04 UTC [1] LOG:  duration: 1.000 ms  statement: SELECT 1\n' \
  "$card" > "$T/orphan.log"
touch -d '-1 min' "$T/orphan.log" # (not being written: its last record is complete)
"$PGSIFT" -q --db "$T/o.db" ingest --prefix '%t [%p] ' "$T/orphan.log"
expect_eq "stored sample" "$(printf '\tAND card_number = N')" \
  "$(PGSIFT_DB="$T/o.db" store_query "SELECT sample FROM reject_samples")"
out=$("$PGSIFT" parse --stats --prefix '%t [%p] ' "$T/orphan.log" 2>&1)
expect_contains "$out" "AND card_number = N"
expect_not_contains "$out" "$card"
head -n 1 "$T/orphan.log" > "$T/orphan1.log"
err=$("$PGSIFT" parse --prefix '%t [%p] ' "$T/orphan1.log" 2>&1) || true
expect_not_contains "$err" "$card"
out=$("$PGSIFT" parse --stats --keep-literals --prefix '%t [%p] ' "$T/orphan.log" 2>&1)
expect_contains "$out" "$card"
pass
