#!/usr/bin/env bash
# The hand-made hostile csvlog (tests/fixtures/handmade/hostile/hostile.csv: users,
# databases, application names, statements and error messages made of <script>,
# "><svg onload=...>, Markdown table breakers, U+2028 ...) through `pgsift ingest` and
# `pgsift report`, with and without --keep-literals: every format parses and carries the
# strings as inert text only.
. "$(dirname "$0")/lib.sh"
fixture_clock
. "$(dirname "$0")/report-lib.sh"
need_cmd openssl base64
"$PGSIFT" help ingest >/dev/null 2>&1 || skip "pgsift ingest is not built in"

log=$SIFT_SOURCE_DIR/tests/fixtures/handmade/hostile/hostile.csv
for keep in "" --keep-literals; do
  db=$T/h$keep.db
  "$PGSIFT" --db "$db" ingest $keep "$log" >/dev/null 2>&1
  for fmt in html md json; do
    "$PGSIFT" --db "$db" report --day 2026-11-24 --tz UTC $keep -o "r$keep.$fmt"
  done
  report_check_html "r$keep.html"
  report_check_md "r$keep.md"
  report_check_json "r$keep.json"
  xp() { xmllint --xpath "$1" "r$keep.html" 2>/dev/null; }
  expect_eq "records" 24 "$(jq .totals.records "r$keep.json")"
  expect_eq "errors" 12 "$(jq .totals.errors "r$keep.json")"
  expect_eq "hostile database as text ($keep)" true \
    "$(xp 'boolean(//*[@id="t-sessions"]//*[local-name()="td"][. = "<script>alert(1)</script>"])')"
  expect_eq "hostile application as text ($keep)" true \
    "$(xp "boolean(//*[@id='t-apps']//*[local-name()='td'][. = '\"><svg onload=alert(1)>'])")"
  expect_eq "hostile error message as text ($keep)" true \
    "$(xp "boolean(//*[@id='t-errors']//*[local-name()='td'][contains(., 'relation \"</script><script>x()</script>\" does not exist')])")"
  expect_eq "json keeps the application byte for byte" true \
    "$(jq '[.sessions.by_application[].application] | any(. == "\"><svg onload=alert(1)>")' "r$keep.json")"
done
# Redaction: the duplicate key's value is a literal (tenant data) unless kept.
expect_eq "redacted key value" "Key (note)=(?) already exists." \
  "$(jq -r '.errors[] | select(.sqlstate == "23505") | .sample | split("DETAIL: ")[1]' r.json)"
expect_eq "kept key value" true \
  "$(jq '.errors[] | select(.sqlstate == "23505") | .sample | test("Key \\(note\\)=\\([^?]")' r--keep-literals.json)"
pass
