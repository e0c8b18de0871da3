#!/usr/bin/env bash
# The hostile fixture (tests/fixtures/handmade/hostile/strings.txt: <script>, </script>,
# quotes, "><svg onload=...>, U+2028, Markdown table breakers, invalid UTF-8, NUL) fills
# every text field of a report model; each format is then checked by PARSING it:
# HTML with the XML parser (the report is polyglot markup) and XPath, and with libxml2's
# HTML parser; Markdown by table shape; JSON with jq.
. "$(dirname "$0")/lib.sh"
need_cmd xmllint jq openssl base64

strings=$SIFT_SOURCE_DIR/tests/fixtures/handmade/hostile/strings.txt
synth() { "$SIFT_TEST_TOOL" report-synth --hostile "$strings" --fingerprints 60 --tz Europe/Paris "$@" 2>/dev/null; }

. "$(dirname "$0")/report-lib.sh"
xp() { xmllint --xpath "$1" r.html 2>/dev/null; }

for keep in "" --keep-literals; do
  synth --format html -o r.html $keep
  report_check_html r.html
  # The hostile strings are there, as text (not dropped, not markup).
  expect_eq "hostile statement shown as text" true \
    "$(xp 'boolean(//*[local-name()="a"][contains(., "<script>alert(1)</script>")])')"
  expect_eq "hostile name shown as text" true \
    "$(xp "boolean(//*[local-name()='td'][contains(., '\"><svg onload=alert(1)>')])")"
  # Alerts with hostile rule names, labels and summaries: text in their cells, one row each.
  expect_eq "hostile rule name shown as text" true \
    "$(xp 'boolean(//*[@id="t-alerts"]//*[local-name()="td"][. = "<script>alert(1)</script>"])')"
  expect_eq "alert rows" 5 "$(xp 'count(//*[@id="t-alerts"]//*[local-name()="tbody"]/*)')"
  expect_eq "alert rule rows" 5 "$(xp 'count(//*[@id="t-alert-rules"]//*[local-name()="tbody"]/*)')"
  expect_eq "alert cells" 50 "$(xp 'count(//*[@id="t-alerts"]//*[local-name()="tbody"]/*/*[local-name()="td"])')"
  synth --format md -o r.md $keep
  report_check_md r.md
  expect_eq "markdown alert rows of 10 cells" 5 \
    "$(awk -F' \\| ' '/^## Alerts/{on=1; next} /^## /{on=0} on && /^\| / && !/^\| (---|Rule)/ && NF == 10' r.md | wc -l)"
  [[ $(grep -c '^|' r.md) -gt 50 ]] || fail "markdown has too few table rows"

  synth --format json -o r.json $keep
  report_check_json r.json
  expect_eq "hostile query text round-trips" true \
    "$(jq '[.queries[].query] | any(. == "</script><script>alert(document.domain)</script>")' r.json)"
  expect_eq "hostile alert rule round-trips" true \
    "$(jq '[.alerts[].rule] | any(. == "'"'"'><img src=x onerror=alert(1)>")' r.json)"
  expect_eq "U+2028 round-trips" true "$(jq '[.. | strings] | any(contains("\u2028"))' r.json)"
done
pass
