#!/usr/bin/env bash
# `pgsift tail` writes the daily report: with `report:` in its configuration and the
# clock (SIFT_TEST_NOW) past `at` in the configured zone, it writes the previous LOCAL
# day's report into the directory (atomically, mode 0600, with the alerts of that day),
# prunes days beyond keep_days (only files named like its reports), and does not write
# the day again when restarted. No waiting for a real day: the clock is set.
# labels: tail
# timeout: 120
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tail_lib.sh"
need_cmd jq stat

pg15_csvlog
mkdir reports
# Old reports: one beyond keep_days (pruned), one within (kept), a file that only looks
# alike and one of someone else (both kept).
for f in pgsift-report-2026-10-01.html pgsift-report-2026-10-01.md pgsift-report-2026-11-22.md \
  pgsift-report-2026-10-01.html.bak notes.txt; do
  echo old > "reports/$f"
done
deadlock_rules 1h > rules.yaml
cat > pgsift.yaml <<YAML
store: $T/pgsift.db
timezone: Asia/Tokyo
sources:
  - { name: main, path: $T/logs/postgresql.csv, format: csvlog }
rules: [$T/rules.yaml]
alerting: { allowed_lateness: 0s }
report:
  dir: $T/reports
  at: "06:30"
  keep_days: 7
  formats: [html, md, json]
YAML
unset PGSIFT_DB
# 2026-11-26T22:00Z is 07:00 on the 27th in Tokyo: past 06:30, so the report due is the
# Tokyo day 2026-11-26 (the UTC date would say the 25th). The fixture's records (UTC
# 2026-11-25 ~17:45) are 02:45 on the 26th in Tokyo.
export SIFT_TEST_NOW=2026-11-26T22:00:00Z
day=2026-11-26
written() { [[ -f reports/pgsift-report-$day.html && -f reports/pgsift-report-$day.md && -f reports/pgsift-report-$day.json ]]; }
next_logged() { (($(grep -c "report: next run at" "$T/tail.err" || true) >= $1)); }

tail_start --config pgsift.yaml
wait_for 30 written
wait_for 10 next_logged 1
tail_stop
err=$(cat "$T/tail.err")
expect_contains "$err" "report: daily at 06:30 (Asia/Tokyo) into '$T/reports'"
expect_contains "$err" "report: wrote '$T/reports/pgsift-report-$day.html'"
expect_contains "$err" "report: next run at 2026-11-27T21:30:00Z"
expect_not_contains "$err" "report is not used"

for ext in html md json; do
  expect_eq "mode of .$ext" 600 "$(stat -c %a "reports/pgsift-report-$day.$ext")"
done
expect_eq "no lock files left" "" "$(ls reports | grep '\.lock$' || true)"
expect_eq "the Tokyo day" "$day" "$(jq -r '.period.day' "reports/pgsift-report-$day.json")"
expect_eq "period starts at Tokyo midnight" "2026-11-25T15:00:00.000Z" \
  "$(jq -r '.period.from' "reports/pgsift-report-$day.json")"
[[ $(jq '.totals.records' "reports/pgsift-report-$day.json") -gt 0 ]] || fail "the report has no records"
expect_eq "alerts of the day" "true deadlock" \
  "$(jq -r '"\(.alerts_known) \([.alerts[].rule] | unique | join(","))"' "reports/pgsift-report-$day.json")"
expect_eq "kept and pruned" "notes.txt
pgsift-report-2026-10-01.html.bak
pgsift-report-2026-11-22.md
pgsift-report-$day.html
pgsift-report-$day.json
pgsift-report-$day.md" "$(ls reports | LC_ALL=C sort)"

# A restart on the same day: the report exists, nothing is written again.
before=$(stat -c '%i %Y' reports/pgsift-report-$day.*)
: > "$T/tail.err"
_tail_n=0
tail_start --config pgsift.yaml
wait_for 10 next_logged 1
tail_stop
expect_not_contains "$(cat "$T/tail.err")" "report: wrote"
expect_eq "files untouched after a restart" "$before" "$(stat -c '%i %Y' reports/pgsift-report-$day.*)"

# A bad report section keeps the daemon from starting, and says where.
sed -i 's/at: "06:30"/at: "6h30"/' pgsift.yaml
rc=0; out=$("$PGSIFT" tail --config pgsift.yaml 2>&1) || rc=$?
expect_eq "exit code with a bad report.at" 2 "$rc"
expect_contains "$out" "report.at: expected HH:MM"
pass
