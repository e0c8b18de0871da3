#!/usr/bin/env bash
# Tenant-safe by default: literal values from the fixture workload (an e-mail address in
# an INSERT and in a unique-violation DETAIL, quoted text, an emoji, an array literal)
# never appear in `pgsift parse` output unless --keep-literals is given.
. "$(dirname "$0")/lib.sh"
need_cmd jq

fx=$SIFT_SOURCE_DIR/tests/fixtures/pg15
secrets=("ann@example.com" "🐘 emoji" "{15,16,17}" "it''s")
for run in text-plans json-plans statement-log verbose-errors; do
  for f in postgresql.csv postgresql.json postgresql.log; do
    "$PGSIFT" parse "$fx/$run/$f" > "$T/out.ndjson"
    jq -e . "$T/out.ndjson" > /dev/null || fail "$run/$f: output is not NDJSON"
    out=$(cat "$T/out.ndjson")
    for s in "${secrets[@]}"; do
      expect_not_contains "$out" "$s"
    done
    # The redacted statement is still there, constants as $n, and the row data of
    # the unique violation is gone from its DETAIL.
    expect_contains "$out" 'INSERT INTO users (email, name) VALUES ($1, $2)'
    expect_contains "$out" '"detail":"Key (email)=(…) already exists."'
  done
  raw=$("$PGSIFT" parse --keep-literals "$fx/$run/postgresql.csv")
  expect_contains "$raw" "ann@example.com"
done

# JSON plans: expression fields (filters, Query Text) are redacted inside the plan object.
plans=$("$PGSIFT" parse "$fx/json-plans/postgresql.json" | jq -c 'select(.kind == "plan") | .plan')
[[ -n $plans ]] || fail "no JSON plans in json-plans"
expect_not_contains "$plans" "ann@example.com"
pass
