#!/usr/bin/env bash
# Every kind of chart, titled and labelled with hostile strings, is well-formed XML
# (checked by xmllint's parser) with no script, no event handler and no reference to
# anything outside the document.
. "$(dirname "$0")/lib.sh"
need_cmd xmllint

titles=('<script>alert(1)</script>' '"><svg onload=alert(1)>' "'><img src=x onerror=alert(1)>"
        $'line\xe2\x80\xa8sep' $'bad \xff\xfe utf8' '&amp; &lt; ]]> <![CDATA[' 'plain title')
for kind in line area bars hist spark; do
  for t in "${titles[@]}"; do
    "$SIFT_TEST_TOOL" svg "$kind" "$t" > c.svg || fail "svg $kind failed"
    out=$(xmllint --noout c.svg 2>&1) || fail "svg $kind with title '$t' is not well-formed: $out"
    x() { xmllint --xpath "$1" c.svg; }
    expect_eq "$kind: root is svg" svg "$(x 'local-name(/*)')"
    expect_eq "$kind: scripts" 0 "$(x 'count(//*[local-name()="script" or local-name()="foreignObject"])')"
    expect_eq "$kind: handlers" 0 "$(x 'count(//@*[starts-with(translate(local-name(),"ON","on"),"on")])')"
    expect_eq "$kind: references" 0 "$(x 'count(//@*[local-name()="href" or local-name()="src"])')"
    expect_eq "$kind: accessible name" true "$(x 'boolean(/*/@aria-label and /*/*[local-name()="title"])')"
    [[ $t == *$'\xff'* ]] ||
      expect_eq "$kind: title kept as text" "$t" "$(x 'string(/*/*[local-name()="title"])')"
  done
done
pass
