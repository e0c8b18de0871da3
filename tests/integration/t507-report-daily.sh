#!/usr/bin/env bash
# Daily reports into a directory (what `pgsift tail` does at report.at, and what a cron
# job does with `pgsift report --dir`): one file per format named by the day, written
# atomically, older days pruned by --keep-days (only files of that name shape), the
# paths or a short Markdown summary on stdout.
. "$(dirname "$0")/lib.sh"
need_cmd jq

awk 'BEGIN {
  for (day = 20; day <= 24; day++)
    for (i = 0; i < 50; i++)
      printf "{\"ts\":\"2026-11-%02dT%02d:%02d:00Z\",\"kind\":\"duration\",\"duration_ms\":%d.5,\"database\":\"app\",\"user\":\"web\",\"fingerprint\":\"%016x\",\"normalized\":\"SELECT * FROM t%d | x WHERE id = $1\"}\n", day, i % 24, i, 1 + i % 9, 1 + i % 4, i % 4
}' > ev.ndjson
echo '{"ts":"2026-11-24T10:00:00Z","kind":"error","severity":"ERROR","sqlstate":"23505","message":"duplicate key value violates unique constraint \"t_pkey\""}' >> ev.ndjson
"$SIFT_TEST_TOOL" store-load ev.ndjson 2>/dev/null

mkdir reports
touch reports/pgsift-report-2026-11-01.html reports/pgsift-report-2026-11-22.md reports/keep-me.html \
  reports/pgsift-report-2026-11-01.txt
export SIFT_TEST_NOW=2026-11-25T06:30:00+01:00
out=$("$PGSIFT" report --tz Europe/Paris --dir reports --keep-days 3)
# a directory pgsift creates is the owner's only, whatever the umask
out0=$(umask 000 && "$PGSIFT" report --tz Europe/Paris --dir newdir)
expect_eq "new directory mode" 700 "$(stat -c %a newdir)"
expect_eq "files in it" "600 600" "$(stat -c %a newdir/pgsift-report-2026-11-24.html newdir/pgsift-report-2026-11-24.md | paste -sd' ')"
# Missing parents too (mkdir -p), each 0700; a file in the way is said so.
(umask 000 && "$PGSIFT" report --tz Europe/Paris --dir deep/er/reports >/dev/null)
expect_eq "nested new directories' modes" "700 700 700" "$(stat -c %a deep deep/er deep/er/reports | paste -sd' ')"
[[ -f deep/er/reports/pgsift-report-2026-11-24.html ]] || fail "no report in the nested directory"
touch afile
err=$("$PGSIFT" report --tz Europe/Paris --dir afile/reports 2>&1) && fail "a file as a parent directory: $err"
expect_contains "$err" "cannot create report directory 'afile/reports': Not a directory"
expect_eq "paths written" "reports/pgsift-report-2026-11-24.html
reports/pgsift-report-2026-11-24.md" "$out"
expect_eq "mode" "600 600" "$(stat -c %a reports/pgsift-report-2026-11-24.html reports/pgsift-report-2026-11-24.md | paste -sd' ')"
expect_eq "left in the directory" \
  "keep-me.html pgsift-report-2026-11-01.txt pgsift-report-2026-11-22.md pgsift-report-2026-11-24.html pgsift-report-2026-11-24.md" \
  "$(ls reports | paste -sd' ')"
head -1 reports/pgsift-report-2026-11-24.md | grep -q '2026-11-24' || fail "markdown report of the wrong day"
grep -q 'Europe/Paris' reports/pgsift-report-2026-11-24.html || fail "html report without its zone"

# Another day, JSON too, and the summary for a chat receiver.
sum=$("$PGSIFT" report --tz Europe/Paris --day 2026-11-23 --dir reports --formats html,md,json --keep-days 2 --summary)
expect_contains "$sum" "**PostgreSQL report 2026-11-23** (Europe/Paris, UTC+01:00)"
expect_contains "$sum" "| Calls | 50 |"
expect_contains "$sum" "Full report: reports/pgsift-report-2026-11-23.html"
expect_contains "$sum" 'SELECT \* FROM t0 \| x WHERE id = $1'
jq -e '.period.day == "2026-11-23"' reports/pgsift-report-2026-11-23.json >/dev/null || fail "json report"
expect_eq "pruned to two days before the 23rd" \
  "keep-me.html pgsift-report-2026-11-01.txt pgsift-report-2026-11-22.md pgsift-report-2026-11-23.html pgsift-report-2026-11-23.json pgsift-report-2026-11-23.md pgsift-report-2026-11-24.html pgsift-report-2026-11-24.md" \
  "$(ls reports | paste -sd' ')"

# The job as pgsift tail runs it: not due before report.at (next: today's at), due
# after it (writes yesterday, prunes, summary), then not again until tomorrow's at.
job() { SIFT_TEST_NOW=$1 "$SIFT_TEST_TOOL" report-job --dir jobdir --at 06:00 --tz Europe/Paris --keep-days 2; }
out=$(job 2026-11-25T05:59:00+01:00)
expect_eq "before at" "not due
next 2026-11-25T06:00:00+01:00" "$out"
out=$(job 2026-11-25T06:00:00+01:00)
expect_contains "$out" "wrote
jobdir/pgsift-report-2026-11-24.html
jobdir/pgsift-report-2026-11-24.md"
expect_contains "$out" "**PostgreSQL report 2026-11-24** (Europe/Paris, UTC+01:00)"
expect_contains "$out" "next 2026-11-26T06:00:00+01:00"
expect_eq "not twice" "not due
next 2026-11-26T06:00:00+01:00" "$(job 2026-11-25T09:00:00+01:00)"
# A daemon down at 06:00 catches up when it comes back; a missing format is rewritten.
rm jobdir/pgsift-report-2026-11-24.md
expect_contains "$(job 2026-11-25T15:00:00+01:00)" "jobdir/pgsift-report-2026-11-24.md"
# Next day: the 25th is written, and keep-days 2 drops nothing yet (24th, 25th).
job 2026-11-26T07:00:00+01:00 >/dev/null
expect_eq "job directory" "pgsift-report-2026-11-24.html pgsift-report-2026-11-24.md pgsift-report-2026-11-25.html pgsift-report-2026-11-25.md" \
  "$(ls jobdir | paste -sd' ')"
job 2026-11-27T06:30:00+01:00 >/dev/null
expect_eq "job directory after pruning" "pgsift-report-2026-11-25.html pgsift-report-2026-11-25.md pgsift-report-2026-11-26.html pgsift-report-2026-11-26.md" \
  "$(ls jobdir | paste -sd' ')"

# Usage errors.
expect_exit 2 "$PGSIFT" report --dir reports -o x.html
expect_exit 2 "$PGSIFT" report --dir reports --formats html,pdf
expect_exit 2 "$PGSIFT" report --keep-days 3
expect_exit 2 "$PGSIFT" report --dir reports --since 1d
chmod 500 reports
if [[ $(id -u) -ne 0 ]]; then
  expect_exit 1 "$PGSIFT" report --dir reports --day 2026-11-20
fi
chmod 700 reports
# -o to what is not a regular file is written to as it is, never renamed over: a device
# (/dev/null: renamed over, it became a 0600 file), a FIFO (/dev/stdout of a pipe); a
# link to a regular file gives its target the report, the link stays.
if mknod chardev c 1 3 2>/dev/null; then
  "$PGSIFT" report --tz Europe/Paris --day 2026-11-24 -o chardev
  [[ -c chardev ]] || fail "the character device was replaced: $(ls -l chardev)"
fi
mkfifo fifo
cat fifo >fifo.out &
reader=$!
"$PGSIFT" report --tz Europe/Paris --day 2026-11-24 --format md -o fifo
wait "$reader"
[[ -p fifo ]] || fail "the FIFO was replaced"
grep -q '2026-11-24' fifo.out || fail "nothing came through the FIFO"
echo old >target.md
ln -s target.md link.md
"$PGSIFT" report --tz Europe/Paris --day 2026-11-24 --format md -o link.md
[[ -L link.md ]] || fail "the link was replaced"
grep -q '2026-11-24' target.md || fail "the link's target has not the report"
pass
