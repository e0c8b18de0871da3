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

# Elements pgsift writes; libxml2's HTML parser (HTML 4) does not know the HTML5/SVG
# ones and says "Tag X invalid" for them, which is the only message allowed.
html5='article|circle|figcaption|figure|footer|header|line|main|nav|path|rect|section|svg|text|time'
allowed=' html head meta title style body header h1 h2 h3 p time strong nav a main section div table thead tbody tr th td figure figcaption svg line text rect path circle span article pre code dl dt dd footer script '

xp() { xmllint --xpath "$1" r.html 2>/dev/null; }

for keep in "" --keep-literals; do
  synth --format html -o r.html $keep
  out=$(xmllint --noout r.html 2>&1) || fail "report is not well-formed ($keep): $out"
  expect_eq "xml parser messages" "" "$out"
  msgs=$(xmllint --html --noout r.html 2>&1 | grep "parser error" | grep -vE "Tag ($html5) invalid" || true)
  expect_eq "html parser errors ($keep)" "" "$msgs"

  expect_eq "script elements" 1 "$(xp 'count(//*[local-name()="script"])')"
  expect_eq "scripts with src" 0 "$(xp 'count(//*[local-name()="script"][@src])')"
  expect_eq "style elements" 1 "$(xp 'count(//*[local-name()="style"])')"
  expect_eq "event-handler attributes" 0 \
    "$(xp 'count(//@*[starts-with(translate(local-name(),"ON","on"),"on")])')"
  expect_eq "links out of the page" 0 "$(xp 'count(//@href[not(starts-with(.,"#"))])')"
  expect_eq "src/srcset/xlink attributes" 0 "$(xp 'count(//@src|//@srcset|//@*[local-name()="href" and namespace-uri()!=""])')"
  expect_eq "meta refresh or other http-equiv" 0 \
    "$(xp 'count(//*[local-name()="meta"][@http-equiv and @http-equiv!="Content-Security-Policy"])')"
  expect_eq "unexpected elements" 0 \
    "$(xp "count(//*[not(contains('$allowed', concat(' ', local-name(), ' ')))])")"
  # The hostile strings are there, as text (not dropped, not markup).
  expect_eq "hostile statement shown as text" true \
    "$(xp 'boolean(//*[local-name()="a"][contains(., "<script>alert(1)</script>")])')"
  expect_eq "hostile name shown as text" true \
    "$(xp "boolean(//*[local-name()='td'][contains(., '\"><svg onload=alert(1)>')])")"
  csp=$(xp 'string(//*[local-name()="meta"][@http-equiv="Content-Security-Policy"]/@content)')
  expect_contains "$csp" "default-src 'none'"
  expect_contains "$csp" "script-src 'sha256-"
  # The CSP hash is the script's: a changed script would be blocked.
  want=$(openssl dgst -sha256 -binary "$SIFT_SOURCE_DIR/src/report/assets/sort.js" | base64)
  expect_contains "$csp" "script-src 'sha256-$want'"

  synth --format md -o r.md $keep
  bad=$(awk '
    /^\|/ { n = 0; esc = 0
            for (i = 1; i <= length($0); i++) { c = substr($0, i, 1)
              if (esc) { esc = 0; continue } if (c == "\\") { esc = 1; continue } if (c == "|") n++ }
            if (!intable) { want = n; intable = 1 } else if (n != want) print NR": "n" pipes, table has "want
            next }
    { intable = 0 }' r.md)
  expect_eq "markdown table shape ($keep)" "" "$bad"
  expect_eq "raw < in markdown" 0 "$(grep -c '<' r.md || true)"
  expect_eq "markdown links" 0 "$(grep -cE '(^|[^\\])\]\(' r.md || true)"
  expect_eq "U+2028 in markdown" 0 "$(grep -c $'\xe2\x80\xa8' r.md || true)"
  [[ $(grep -c '^|' r.md) -gt 50 ]] || fail "markdown has too few table rows"

  synth --format json -o r.json $keep
  jq -e . r.json >/dev/null || fail "JSON does not parse ($keep)"
  expect_eq "json top-level keys" "alerts,errors,events,period,queries,rejects,totals" \
    "$(jq -r '[keys[] | select(IN("period","totals","queries","errors","events","rejects","alerts"))] | join(",")' r.json)"
  expect_eq "hostile query text round-trips" true \
    "$(jq '[.queries[].query] | any(. == "</script><script>alert(document.domain)</script>")' r.json)"
  expect_eq "U+2028 round-trips" true "$(jq '[.. | strings] | any(contains("\u2028"))' r.json)"
done
pass
