#!/usr/bin/env bash
# HTML, Markdown and JSON are written from one model and must show the same numbers:
# the headline figures, the top-query rankings (order and every number), the hourly
# series, errors and event counts. HTML numeric cells carry the exact value (data-v, the
# same text as JSON); Markdown shows human units, compared within their rounding.
. "$(dirname "$0")/lib.sh"
need_cmd xmllint jq awk

for fmt in html md json; do
  "$SIFT_TEST_TOOL" report-synth --fingerprints 500 --tz Europe/Paris --day 2026-10-25 \
    --top 15 --format $fmt -o r.$fmt 2>/dev/null
done
xp() { xmllint --xpath "$1" r.html 2>/dev/null; }

# A DST day in Paris has 25 hours, in every format.
expect_eq "json hours" 25 "$(jq '.hourly | length' r.json)"
expect_eq "html hours" 25 "$(xp 'count(//*[@id="t-hourly"]//*[local-name()="tbody"]/*)')"
expect_eq "md hours" 25 "$(awk '/^## Activity by hour/{on=1; next} /^## /{on=0} on && /^\| [0-9]/' r.md | wc -l)"

# Markdown human values -> plain numbers (ms for durations).
md_num() {
  awk -v s="$1" 'BEGIN {
    gsub(/,/, "", s); n = split(s, a, " "); v = a[1] + 0
    if (n > 1) { u = a[2]
      if (u == "s") v *= 1000; else if (u == "min") v *= 60000; else if (u == "h") v *= 3600000 }
    printf "%.6f\n", v }'
}
close_to() { # WHAT EXACT SHOWN: shown within 0.6 % (or 0.001): three significant digits of exact
  awk -v a="$2" -v b="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; m = (a < 0 ? -a : a) * 0.006
    exit !(d <= m || d <= 0.001) }' || fail "$1: exact $2, shown $3"
  _sift_checks=$((_sift_checks + 1))
}

# Headline figures.
row=0
for key in records calls duration_ms p95_ms errors rejects; do
  row=$((row + 1))
  j=$(jq -r ".totals.$key" r.json)
  h=$(xp "string(//*[@data-k='$key']/*[@data-k='value']/@data-v)")
  expect_eq "totals.$key html = json" "$j" "$h"
  m=$(awk -v r=$((row + 1)) '/^## Summary/{on=1; n=0; next} /^## /{on=0} on && /^\| / && !/^\| ---/{n++; if (n == r) { split($0, c, " \\| "); print c[2] } }' r.md)
  close_to "totals.$key md" "$j" "$(md_num "$m")"
  for cmp in previous_day avg_7d; do
    j=$(jq -r ".compare.$cmp.$key" r.json)
    h=$(xp "string(//*[@data-k='$key']/*[@data-k='$cmp']/@data-v)")
    [[ $j == null ]] && j=
    expect_eq "$cmp.$key html = json" "$j" "$h"
  done
done

# Rankings: same fingerprints in the same order, with the same numbers.
declare -A md_title=([total]="total time" [mean]="mean time" [p95]="p95 latency" [p99]="p99 latency" [calls]="calls")
for rank in total mean p95 p99 calls; do
  jfps=$(jq -r ".rankings.$rank[]" r.json)
  hfps=$(xp "//*[@id='t-top-$rank']//*[local-name()='tr']/@data-fp" | sed 's/.*data-fp="\([0-9a-f]*\)".*/\1/')
  mrows=$(awk -v t="## Top queries by ${md_title[$rank]}" '$0 == t {on=1; next} /^## /{on=0} on && /^\| [0-9]/' r.md)
  mfps=$(awk -F' \\| ' '{print $3}' <<<"$mrows")
  expect_eq "ranking $rank: html order" "$jfps" "$hfps"
  expect_eq "ranking $rank: md order" "$jfps" "$mfps"
  [[ $(wc -l <<<"$jfps") -eq 15 ]] || fail "ranking $rank has $(wc -l <<<"$jfps") rows"
  # Column by column: JSON (exact), HTML data-v (exact, same text), Markdown (human).
  col=5
  for f in calls total_ms mean_ms p50_ms p95_ms p99_ms max_ms; do
    j=$(jq -r --arg r "$rank" --arg f "$f" \
      '.rankings[$r][] as $fp | .queries[] | select(.fingerprint == $fp) | .[$f]' r.json)
    h=$(xp "//*[@id='t-top-$rank']//*[@data-k='$f']/@data-v" | sed 's/.*="\(.*\)"/\1/')
    expect_eq "ranking $rank: $f html = json" "$j" "$h"
    m=$(awk -F'|' -v c=$col '{print $c}' <<<"$mrows")
    bad=$(paste <(echo "$j") <(echo "$m") | awk -F'\t' '
      { s = $2; gsub(/,/, "", s); n = split(s, a, " "); v = a[1] + 0
        if (n > 1) { u = a[2]; if (u == "s") v *= 1000; else if (u == "min") v *= 60000; else if (u == "h") v *= 3600000 }
        d = $1 - v; if (d < 0) d = -d; lim = ($1 < 0 ? -$1 : $1) * 0.006
        if (d > lim && d > 0.001) print NR": exact "$1", shown "$2 }')
    expect_eq "ranking $rank: $f md = json" "" "$bad"
    col=$((col + 1))
  done
done

# Hourly series.
for i in 0 7 24; do
  j=$(jq -r ".hourly[$i].calls" r.json)
  h=$(xp "string((//*[@id='t-hourly']//*[local-name()='tbody']/*)[$((i + 1))]/*[@data-k='calls']/@data-v)")
  expect_eq "hour $i calls html = json" "$j" "$h"
  m=$(awk -v r=$((i + 1)) '/^## Activity by hour/{on=1; n=0; next} /^## /{on=0} on && /^\| [0-9]/{n++; if (n == r) { split($0, c, " \\| "); print c[2] } }' r.md)
  expect_eq "hour $i calls md = json" "$j" "${m//,/}"
done

# Errors and events.
expect_eq "error counts html = json" "$(jq -r '[.errors[].count] | join(",")' r.json)" \
  "$(xp "//*[@id='t-errors']//*[@data-k='count']/@data-v" | sed 's/.*="\(.*\)"/\1/' | paste -sd,)"
expect_eq "error counts md = json" "$(jq -r '[.errors[].count] | join(",")' r.json)" \
  "$(awk -F' \\| ' '/^## Errors/{on=1; next} /^## /{on=0} on && /^\| [0-9A-Z][0-9A-Z][0-9A-Z][0-9A-Z][0-9A-Z] /{gsub(/,/, "", $4); print $4}' r.md | paste -sd,)"
for kind in duration error deadlock temp_file checkpoint connection cancel timeout; do
  j=$(jq -r ".events.$kind" r.json)
  h=$(xp "string(//*[@id='t-events']//*[@data-k='$kind']/*[@data-k='count']/@data-v)")
  expect_eq "events.$kind html = json" "$j" "$h"
  m=$(awk -F' \\| ' -v k="$kind" '/^## Events/{on=1; next} /^## /{on=0} on {gsub(/\\/, "", $1)} on && $1 == "| " k {gsub(/ \|$/, "", $2); gsub(/,/, "", $2); print $2}' r.md)
  expect_eq "events.$kind md = json" "$j" "$m"
done

# Errors by SQLSTATE class, the queries that waited longest and wrote the most temp data,
# the histograms: in every format (Markdown and JSON lacked them: QA 28).
expect_eq "error classes html = json" "$(jq -r '.error_classes[] | "\(.class),\(.count)"' r.json)" \
  "$(paste -d, <(xp "//*[@id='t-error-classes']//*[local-name()='tbody']/*/*[1]/*/text()") \
    <(xp "//*[@id='t-error-classes']//*[@data-k='count']/@data-v" | sed 's/.*="\(.*\)"/\1/'))"
expect_eq "error classes md = json" "$(jq -r '.error_classes[] | "\(.class),\(.count)"' r.json)" \
  "$(awk -F' \\| ' '/^### By class/{on=1; next} /^##/{on=0} on && /^\| [0-9A-Z][0-9A-Z] /{sub(/^\| /, "", $1); gsub(/,/, "", $3); sub(/ \|$/, "", $3); print $1 "," $3}' r.md)"
[[ $(jq '.error_classes | length' r.json) -ge 5 ]] || fail "too few error classes in the model"
for by in temp lock; do
  case $by in
    temp) jq_q=.temp_files.queries n=files v=bytes id=t-temp-queries title="Queries writing the most temp data" ;;
    lock) jq_q=.locks.queries n=waits v=wait_ms id=t-lock-queries title="Queries that waited longest" ;;
  esac
  [[ $(jq "$jq_q | length" r.json) -ge 10 ]] || fail "$by: too few queries in the model"
  expect_eq "$by queries html = json" "$(jq -r "$jq_q[] | \"\(.fingerprint),\(.$n),\(.$v)\"" r.json)" \
    "$(paste -d, <(xp "//*[@id='$id']//*[local-name()='a']/@href" | sed 's/.*#q-\([0-9a-f]*\)".*/\1/') \
      <(xp "//*[@id='$id']//*[@data-k='count']/@data-v" | sed 's/.*="\(.*\)"/\1/') \
      <(xp "//*[@id='$id']//*[@data-k='$([[ $by == temp ]] && echo bytes || echo wait_ms)']/@data-v" | sed 's/.*="\(.*\)"/\1/'))"
  expect_eq "$by queries md = json" "$(jq -r "$jq_q[] | \"\(.fingerprint),\(.$n)\"" r.json)" \
    "$(awk -F' \\| ' -v t="### $title" '$0 == t {on=1; next} /^##/{on=0} on && /^\| / && !/^\| (---|Query)/ {gsub(/,/, "", $3); print $2 "," $3}' r.md)"
done
expect_eq "latency histogram md = json" "$(jq -r '.latency_histogram[] | select(.count > 0) | .count' r.json)" \
  "$(awk -F' \\| ' '/^### Calls by duration/{on=1; next} /^##/{on=0} on && /^\| / && !/^\| (---|Duration)/ {gsub(/,/, "", $2); sub(/ \|$/, "", $2); print $2}' r.md)"

# Alerts: the counts of the period, per rule, and every episode (rule, status, value,
# notifications sent and failed) in the same order.
for k in fired resolved firing_at_end; do
  expect_eq "alerts $k html = json" "$(jq -r ".alerts_summary.$k" r.json)" \
    "$(xp "string(//*[@id='alert-counts']/*[@data-k='$k']/@data-v)")"
done
expect_eq "alert counts md = json" \
  "$(jq -r '.alerts_summary | "\(.fired) fired, \(.resolved) resolved, \(.firing_at_end) still firing at the end of the period."' r.json)" \
  "$(awk '/^## Alerts/{on=1; next} /^## /{on=0} on && / fired, /' r.md)"
[[ $(jq '.alerts | length' r.json) -ge 4 ]] || fail "the synthetic model has too few alerts"
mrules=$(awk -F' \\| ' '/^## Alerts/{on=1; next} /^## /{on=0} on && /^\| / && !/^\| (---|Rule)/ && NF == 4 {sub(/^\| /, "", $1); gsub(/\\/, "", $1); gsub(/ \|$/, "", $4); print $1 "," $2 "," $3 "," $4}' r.md)
expect_eq "alerts by rule md = json" \
  "$(jq -r '.alerts_by_rule[] | "\(.rule),\(.fired),\(.resolved),\(.firing_at_end)"' r.json)" "$mrules"
for k in fired resolved firing_at_end; do
  expect_eq "alerts by rule $k html = json" "$(jq -r "[.alerts_by_rule[].$k] | join(\",\")" r.json)" \
    "$(xp "//*[@id='t-alert-rules']//*[@data-k='$k']/@data-v" | sed 's/.*="\(.*\)"/\1/' | paste -sd,)"
done
expect_eq "alert rules html = json" "$(jq -r '.alerts[].rule' r.json)" \
  "$(xp "//*[@id='t-alerts']//*[local-name()='tbody']/*/*[1]/text()")"
mal=$(awk -F' \\| ' '/^## Alerts/{on=1; next} /^## /{on=0} on && /^\| / && !/^\| (---|Rule)/ && NF == 10 {sub(/^\| /, "", $1); gsub(/\\/, "", $1); print $1 "," $3 "," $7 "," $8 "," $9}' r.md)
expect_eq "alert episodes md = json" \
  "$(jq -r '.alerts[] | "\(.rule),\(.status),\(.value),\(.notified),\(.failed)"' r.json)" "$mal"
for k in value notified failed; do
  expect_eq "alert $k html = json" "$(jq -r "[.alerts[].$k] | join(\",\")" r.json)" \
    "$(xp "//*[@id='t-alerts']//*[@data-k='$k']/@data-v" | sed 's/.*="\(.*\)"/\1/' | paste -sd,)"
done
pass
