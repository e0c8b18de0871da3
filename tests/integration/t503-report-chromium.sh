#!/usr/bin/env bash
# The HTML report in a real browser (Debian's chromium, headless): it loads with no
# console message (no script error, no Content-Security-Policy violation), makes no
# network request, runs its sort script (allowed by hash), prints to PDF, and leaves
# screenshots (light and dark) in the build directory for a person to look at.
# Skips (77) when chromium is not installed.
# timeout: 600
. "$(dirname "$0")/lib.sh"
command -v chromium >/dev/null 2>&1 || skip "chromium not installed (apt-get install chromium)"
need_cmd timeout jq

shots=${SIFT_BUILD_DIR:-$T}
strings=$SIFT_SOURCE_DIR/tests/fixtures/handmade/hostile/strings.txt
"$SIFT_TEST_TOOL" report-synth --fingerprints 2000 --tz Europe/Paris -o normal.html 2>/dev/null
"$SIFT_TEST_TOOL" report-synth --hostile "$strings" --fingerprints 60 -o hostile.html 2>/dev/null
pages="normal hostile"
# And a report from a store holding a real server's log, when ingest is built in.
if "$PGSIFT" help ingest >/dev/null 2>&1; then
  real=$SIFT_SOURCE_DIR/tests/fixtures/pg15/text-plans/postgresql.csv
  "$PGSIFT" --db real.db ingest "$real" >/dev/null 2>&1
  "$PGSIFT" --db real.db report --day "$(head -c 10 "$real")" -o real.html
  pages="$pages real"
fi

browse() { # NAME HTML EXTRA-ARGS...: run chromium, stderr to NAME.log
  local name=$1 html=$2
  shift 2
  rm -rf "$T/profile-$name"
  timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --disable-default-apps --disable-extensions --no-default-browser-check \
    --user-data-dir="$T/profile-$name" --enable-logging=stderr --v=0 \
    --log-net-log="$T/$name.netlog.json" --net-log-capture-mode=Everything \
    "$@" "file://$T/$html" >"$T/$name.out" 2>"$T/$name.log" ||
    fail "chromium failed on $html: $(tail -n 5 "$T/$name.log")"
}

check_quiet() { # NAME: no console messages, no network
  local name=$1
  local console
  console=$(grep -E ':CONSOLE|Uncaught|Content Security Policy|Refused to' "$T/$name.log" || true)
  expect_eq "console messages ($name)" "" "$console"
  expect_eq "network requests ($name)" "" "$(page_requests "$name")"
}

# URL requests the page started (the browser's own background requests, component
# updates and the like, have initiator "not an origin" and are not the report's doing).
page_requests() {
  jq -r '.events[] | select(.params.url? and .params.initiator? and .params.initiator != "not an origin")
         | .params.url | select(test("^(file|data|about|chrome):") | not)' \
    "$T/$1.netlog.json" || echo "unreadable net log"
}

# Control: the check sees a request a page makes (so it can fail).
printf '<!DOCTYPE html><title>c</title><img src="http://192.0.2.1/x.png">' > control.html
browse control control.html --dump-dom
expect_eq "control request seen" "http://192.0.2.1/x.png" "$(page_requests control | sort -u)"

for page in $pages; do
  browse "$page-dom" "$page.html" --dump-dom
  check_quiet "$page-dom"
  dom=$(cat "$T/$page-dom.out")
  # The sort script ran (it marks <html> with class "js" and makes headers focusable).
  expect_contains "$dom" 'class=" js"'
  expect_contains "$dom" 'tabindex="0"'
  expect_contains "$dom" 'id="summary"'
  if [[ $page == hostile ]]; then
    # The hostile payloads are in the DOM as text only: no element came out of them.
    expect_not_contains "$dom" '<img'
    expect_not_contains "$dom" '<svg onload'
    expect_contains "$dom" '&lt;script&gt;alert(1)&lt;/script&gt;'
  fi
  browse "$page-shot" "$page.html" --window-size=1280,3000 --screenshot="$shots/report-$page.png"
  check_quiet "$page-shot"
  [[ -s $shots/report-$page.png ]] || fail "no screenshot written"
done
# A phone's width (390 px; headless chromium makes no window under 500 px, so the page is
# laid out in a 390 px frame): no chart runs past the right edge (the charts' grid
# wanted 420 px columns and 7 of 9 charts were cut). A copy of the page without its
# Content-Security-Policy carries a script that measures and writes the outcome into
# the frame's parent.
measure() { # HTML WIDTH: "charts=N past=M" of HTML laid out WIDTH px wide
  sed 's/<meta http-equiv="Content-Security-Policy"[^>]*>//' "$1" >measured.html
  cat >>measured.html <<'JS'
<script>(function(){var w=window.innerWidth,n=0,c=document.querySelectorAll("svg.chart");
c.forEach(function(s){if(s.getBoundingClientRect().right>w+1)n++;});
parent.document.title="charts="+c.length+" past="+n;})();</script>
JS
  printf '<!DOCTYPE html><title>x</title><body style="margin:0"><iframe src="measured.html" width="%s" height="3000" style="border:0"></iframe>' "$2" >frame.html
  browse "frame-$2" frame.html --allow-file-access-from-files --window-size=800,3000 \
    --virtual-time-budget=3000 --dump-dom
  sed -n 's/.*<title>\([^<]*\)<.*/\1/p' "$T/frame-$2.out" | head -n 1
}
narrow=$(measure real.html 390)
[[ $narrow == charts=[1-9]* ]] || fail "the phone-width check measured no chart: '$narrow'"
expect_eq "charts past the edge at 390 px" 0 "${narrow##*past=}"
printf '<!DOCTYPE html><style>svg{width:600px}</style><svg class="chart"></svg>' >control-wide.html
control=$(measure control-wide.html 390)
expect_eq "control: a 600 px chart is past the edge" "charts=1 past=1" "$control"
browse dark normal.html --force-dark-mode --blink-settings=preferredColorScheme=0 \
  --window-size=1280,1600 --screenshot="$shots/report-normal-dark.png"
check_quiet dark
browse print normal.html --print-to-pdf="$shots/report-normal.pdf" --no-pdf-header-footer
check_quiet print
[[ $(head -c 4 "$shots/report-normal.pdf") == %PDF ]] || fail "print to PDF failed"
echo "screenshots: $shots/report-{${pages// /,}}.png $shots/report-normal-dark.png $shots/report-normal.pdf"
pass
