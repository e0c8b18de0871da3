#!/usr/bin/env bash
# pgsift fingerprint from the outside (docs/fingerprint.md): the acceptance pair gives one
# fingerprint and the literal never shows up in any output format; arguments, stdin,
# --lines, --format json (valid JSON, token details without constant text), --sample,
# the options, usage errors, and every fixture statement through --lines without a crash.
. "$(dirname "$0")/lib.sh"
need_cmd jq

a=$(echo "SELECT * FROM t WHERE id IN (1,2,3) AND name = 'x'" | "$PGSIFT" fingerprint)
b=$(echo "SELECT * FROM t WHERE id IN (4,5) AND name = 'y'" | "$PGSIFT" fingerprint)
expect_eq "same fingerprint for both IN-lists and names" "${a%%$'\t'*}" "${b%%$'\t'*}"
[[ ${a%%$'\t'*} =~ ^[0-9a-f]{16}$ ]] || fail "fingerprint is not 16 lower-case hex digits: $a"
expect_eq "canonical text" "select * from t where id in (\$1 /*, ... */) and name = \$2" "${a#*$'\t'}"

# 'x' (and x) appear in no output of any format.
sql="SELECT * FROM t WHERE id IN (1,2,3) AND name = 'x'"
for args in "" "--sample" "--format json" "--merge-params --keep-lists --keep-values --numeric-types"; do
  # shellcheck disable=SC2086
  out=$("$PGSIFT" fingerprint $args "$sql")
  expect_not_contains "$out" "'x'"
  expect_not_contains "$out" "= 'x"
  [[ $args == "--format json" ]] || expect_not_contains "$(cut -f2- <<<"$out")" "x'"
done
json=$("$PGSIFT" fingerprint --format json "$sql")
jq -e . >/dev/null <<<"$json" || fail "not JSON: $json"
expect_eq "json fingerprint" "${a%%$'\t'*}" "$(jq -r .fingerprint <<<"$json")"
expect_eq "json sample" "SELECT * FROM t WHERE id IN (\$1,\$2,\$3) AND name = \$4" "$(jq -r .sample <<<"$json")"
expect_eq "json flags" '["list_collapsed"]' "$(jq -c .flags <<<"$json")"
expect_eq "json constants" "4" "$(jq -r .constants <<<"$json")"
expect_eq "constants carry no text" "0" "$(jq '[.tokens[] | select(.role == "constant" and has("text"))] | length' <<<"$json")"
expect_eq "other tokens carry their text" "SELECT" "$(jq -r '.tokens[0].text' <<<"$json")"
expect_eq "json version" "1" "$(jq -r .version <<<"$json")"
[[ $(jq -r .fingerprint_hi <<<"$json") =~ ^[0-9a-f]{16}$ ]] || fail "fingerprint_hi: $json"

# Several arguments: one line each, in order. --sample adds the statement's own layout.
out=$("$PGSIFT" fingerprint "SELECT 1" "select 2" "SELECT \$1")
expect_eq "lines for three arguments" 3 "$(wc -l <<<"$out")"
expect_eq "literals merge" "$(sed -n 1p <<<"$out" | cut -f1)" "$(sed -n 2p <<<"$out" | cut -f1)"
[[ $(sed -n 1p <<<"$out" | cut -f1) != $(sed -n 3p <<<"$out" | cut -f1) ]] || fail "a parameter must differ from a constant: $out"
expect_eq "--merge-params" 1 "$("$PGSIFT" fingerprint --merge-params "SELECT 1" "SELECT \$1" | cut -f1 | sort -u | wc -l)"
out=$(printf "SELECT a,\n  'v' -- note\nFROM t;\n" | "$PGSIFT" fingerprint --sample)
expect_eq "--sample column" 'SELECT a,\n  $1\nFROM t' "$(cut -f3 <<<"$out")"

# Whole stdin is one statement; --lines is one per line (blank lines skipped).
expect_eq "stdin is one statement" 1 "$(printf 'SELECT 1\nFROM t\n' | "$PGSIFT" fingerprint | wc -l)"
expect_eq "--lines" 2 "$(printf 'SELECT 1\n\n  \nSELECT 2 FROM t\n' | "$PGSIFT" fingerprint --lines | wc -l)"
expect_eq "--lines --format json" 2 "$(printf 'SELECT 1\nSELECT 2\n' | "$PGSIFT" fingerprint --lines --format json | jq -c .fingerprint | wc -l)"

# Options change the grouping the documented way.
expect_eq "--keep-lists" 2 "$("$PGSIFT" fingerprint --keep-lists "SELECT 1 WHERE a IN (1,2)" "SELECT 1 WHERE a IN (1,2,3)" | cut -f1 | sort -u | wc -l)"
expect_eq "--keep-values" 2 "$("$PGSIFT" fingerprint --keep-values "INSERT INTO t VALUES (1)" "INSERT INTO t VALUES (1), (2)" | cut -f1 | sort -u | wc -l)"
expect_eq "--numeric-types" 2 "$("$PGSIFT" fingerprint --numeric-types "SELECT 1" "SELECT 3000000000" | cut -f1 | sort -u | wc -l)"
expect_eq "--backslash-quotes" "select \$1, \$2" "$("$PGSIFT" fingerprint --backslash-quotes "SELECT 'a\\'b', 'c'" | cut -f2)"

# Unterminated input is fingerprinted and flagged, never echoed.
json=$("$PGSIFT" fingerprint --format json "SELECT * FROM t WHERE secret = 'abc")
expect_eq "unterminated flag" '["unterminated"]' "$(jq -c .flags <<<"$json")"
expect_not_contains "$json" "abc"

# Usage errors: exit 2 with the reason.
rc=0; err=$("$PGSIFT" fingerprint --lines "SELECT 1" 2>&1) || rc=$?
expect_eq "--lines with arguments" 2 "$rc"
expect_contains "$err" "--lines reads standard input"
rc=0; err=$("$PGSIFT" fingerprint --format xml "SELECT 1" 2>&1) || rc=$?
expect_eq "bad --format" 2 "$rc"
expect_contains "$("$PGSIFT" help fingerprint)" "usage: pgsift fingerprint"

# Every statement of the fixtures, one per line: one output line each, no crash.
fx=$SIFT_SOURCE_DIR/tests/fixtures/pg15/text-plans/postgresql.json
if [[ -f $fx ]]; then
  jq -r 'select(.message | test("^duration: .* (statement|execute [^:]*): ")) | .message | sub("^duration: [0-9.]+ ms  (statement|execute [^:]*): "; "") | gsub("\n"; " ")' "$fx" > "$T/stmts.sql"
  n=$(wc -l < "$T/stmts.sql")
  ((n > 100)) || fail "too few fixture statements: $n"
  expect_eq "one line per fixture statement" "$n" "$("$PGSIFT" fingerprint --lines < "$T/stmts.sql" | wc -l)"
fi

# Table output is one line per statement, with no raw control byte: a quoted name holding
# a newline, ESC and NUL (hand-made, the edge case) is written with escapes, as documented.
out=$(printf 'select "a\nb\033[2J\000c\302\233d" from t' | "$PGSIFT" fingerprint)
expect_eq "canonical text escaped in table output" 'select "a\nb\x1b[2J\x00c\xc2\x9bd" from t' "${out#*$'\t'}"
pass
