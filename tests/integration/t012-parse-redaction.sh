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

# Plans (text, JSON, YAML, XML): constants of filters and the Query Text are replaced,
# in the plan and in the message that carries it.
for f in postgresql.log postgresql.csv postgresql.json; do
  out=$("$PGSIFT" parse "$fx/plan-insights/$f" | jq -c 'select(.kind == "plan")')
  [[ -n $out ]] || fail "no plans in plan-insights/$f"
  expect_not_contains "$out" "customer_id = 42"
  raw=$("$PGSIFT" parse --keep-literals "$fx/plan-insights/$f" | jq -c 'select(.kind == "plan")')
  expect_contains "$raw" "customer_id = 42"
done
pass
