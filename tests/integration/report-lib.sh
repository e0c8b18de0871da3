# SPDX-License-Identifier: MIT
# Checks of report output by parsing it, sourced by the t5xx report tests (after lib.sh):
#   report_check_html FILE   XML parser (the report is polyglot), libxml2's HTML parser,
#                            XPath: one script (ours, no src), one style, no event handler,
#                            no link out of the page, no other element than pgsift writes
#   report_check_md FILE     every table keeps its column count; no raw '<', no links
#   report_check_json FILE   parses; INTERFACE.md top-level keys
need_cmd xmllint jq awk

# libxml2's HTML parser is HTML 4: it says "Tag X invalid" for HTML5/SVG elements, the
# only message allowed.
_report_html5='article|circle|figcaption|figure|footer|header|line|main|nav|path|rect|section|svg|text|time'
_report_elements=' html head meta title style body header h1 h2 h3 p time strong nav a main section div table thead tbody tr th td figure figcaption svg line text rect path circle span article pre code dl dt dd footer script '

report_check_html() {
  local f=$1 out msgs
  _rx() { xmllint --xpath "$1" "$f" 2>/dev/null; }
  out=$(xmllint --noout "$f" 2>&1) || fail "$f is not well-formed: $out"
  expect_eq "$f: xml parser messages" "" "$out"
  msgs=$(xmllint --html --noout "$f" 2>&1 | grep "parser error" | grep -vE "Tag ($_report_html5) invalid" || true)
  expect_eq "$f: html parser errors" "" "$msgs"
  expect_eq "$f: script elements" 1 "$(_rx 'count(//*[local-name()="script"])')"
  expect_eq "$f: scripts with src" 0 "$(_rx 'count(//*[local-name()="script"][@src])')"
  expect_eq "$f: style elements" 1 "$(_rx 'count(//*[local-name()="style"])')"
  expect_eq "$f: event-handler attributes" 0 \
    "$(_rx 'count(//@*[starts-with(translate(local-name(),"ON","on"),"on")])')"
  expect_eq "$f: links out of the page" 0 "$(_rx 'count(//@href[not(starts-with(.,"#"))])')"
  expect_eq "$f: src/srcset/xlink attributes" 0 \
    "$(_rx 'count(//@src|//@srcset|//@*[local-name()="href" and namespace-uri()!=""])')"
  expect_eq "$f: meta refresh or other http-equiv" 0 \
    "$(_rx 'count(//*[local-name()="meta"][@http-equiv and @http-equiv!="Content-Security-Policy"])')"
  expect_eq "$f: unexpected elements" 0 \
    "$(_rx "count(//*[not(contains('$_report_elements', concat(' ', local-name(), ' ')))])")"
  local csp want
  csp=$(_rx 'string(//*[local-name()="meta"][@http-equiv="Content-Security-Policy"]/@content)')
  expect_contains "$csp" "default-src 'none'"
  want=$(openssl dgst -sha256 -binary "$SIFT_SOURCE_DIR/src/report/assets/sort.js" | base64)
  expect_contains "$csp" "script-src 'sha256-$want'"
}

report_check_md() {
  local f=$1 bad
  bad=$(awk '
    /^\|/ { n = 0; esc = 0
            for (i = 1; i <= length($0); i++) { c = substr($0, i, 1)
              if (esc) { esc = 0; continue } if (c == "\\") { esc = 1; continue } if (c == "|") n++ }
            if (!intable) { want = n; intable = 1 } else if (n != want) print NR": "n" pipes, table has "want
            next }
    { intable = 0 }' "$f")
  expect_eq "$f: markdown table shape" "" "$bad"
  expect_eq "$f: raw < in markdown" 0 "$(grep -c '<' "$f" || true)"
  expect_eq "$f: markdown links" 0 "$(grep -cE '(^|[^\\])\]\(' "$f" || true)"
  expect_eq "$f: U+2028 in markdown" 0 "$(grep -c $'\xe2\x80\xa8' "$f" || true)"
}

report_check_json() {
  local f=$1
  jq -e . "$f" >/dev/null || fail "$f does not parse as JSON"
  expect_eq "$f: top-level keys" "alerts,errors,events,period,queries,rejects,totals" \
    "$(jq -r '[keys[] | select(IN("period","totals","queries","errors","events","rejects","alerts"))] | join(",")' "$f")"
}
