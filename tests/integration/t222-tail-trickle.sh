#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A new log that grows a line at a time, the format left to detection: its records are
# committed while it grows, not only once it goes quiet (QA 29: detection waited for 200
# lines, and the flush that decides with fewer waits for half a commit interval without a
# write, which a steady trickle never gives: nothing was committed while the lines came,
# with lines 0.3, 0.5 or 0.7 s apart). And detection looks past the first 200 lines when
# none of them is PostgreSQL's (a /var/log/syslog). Files whose names only start with
# the log's are not its rotations.
# labels: tail
. "$(dirname "$0")/lib.sh"
. "$SIFT_SOURCE_DIR/tests/integration/tail_lib.sh"

log=$T/postgresql.log
: >"$log"
tail_start "$log"
# 8 records 0.7 s apart, each its own process (as a server's client backends are)
for ((i = 1; i <= 8; i++)); do
  stderr_lines "$i" "$i" >>"$log"
  sleep 0.7
done
n=$(store_records "$PGSIFT_DB")
echo "records committed while the lines came: $n of 8"
((n >= 4)) || fail "only $n of 8 records committed while the log grew (one line every 0.7 s)"
_sift_checks=$((_sift_checks + 1))
# the last one once the log is quiet (it could still have got a DETAIL line)
all8() { [[ $(store_records "$PGSIFT_DB") == 8 ]]; }
wait_for 20 all8
tail_stop TERM

# Files next to the log whose names start with its name but are no rotation of it,
# made while tail runs (QA 29: a copy kept as .save was read as a rotated log, counted
# twice, and .notes said "was rotated" again and again), are not read.
mkdir "$T/sib"
: >"$T/sib/pg.log"
PGSIFT_DB=$T/sib.db tail_start "$T/sib/pg.log"
stderr_lines 1 5 >"$T/sib/pg.log.save"
echo "note: check disk" >"$T/sib/pg.log.notes"
stderr_lines 9 10 >>"$T/sib/pg.log"
two() { [[ $(store_records "$T/sib.db") == 2 ]]; }
wait_for 20 two
sleep 1.5 # (a read of .save would add its 5 once it is quiet for rotate_wait, 1 s)
expect_eq "records of pg.log, not of .save or .notes" 2 "$(store_records "$T/sib.db")"
expect_not_contains "$(cat "$T/tail.err")" "pg.log.save"
expect_not_contains "$(cat "$T/tail.err")" "pg.log.notes"
tail_stop TERM

# The note that syslog header times are taken as UTC, once, not at every read (QA 29:
# twice a second into the journal while the server logged).
: >"$T/sys.log"
: >"$T/tail.err"
PGSIFT_DB=$T/sys.db tail_start "$T/sys.log"
for ((i = 1; i <= 6; i++)); do
  printf 'Nov 28 12:35:%02d vm postgres[7000]: [%d-1] user=app,db=shop LOG:  duration: %d.000 ms  statement: SELECT %d\n' \
    "$i" "$i" "$i" "$i" >>"$T/sys.log"
  sleep 0.4
done
five() { [[ $(store_records "$T/sys.db") -ge 5 ]]; }
wait_for 20 five
tail_stop TERM
expect_eq "notes on header times" 1 "$(grep -c 'syslog header times have no time zone' "$T/tail.err")"

# 250 lines of another program, then the server's (syslog): parse finds them
fx=$SIFT_SOURCE_DIR/tests/fixtures/pg15-syslog/prefixed/rsyslog-traditional.log
{
  for ((i = 1; i <= 250; i++)); do
    printf 'Nov 28 12:30:00 vm CRON[%d]: (root) CMD (run-parts /etc/cron.hourly)\n' "$i"
  done
  cat "$fx"
} >"$T/syslog"
stats=$("$PGSIFT" parse --stats --stats-format json "$T/syslog" 2>/dev/null)
expect_eq "format of a syslog whose first 250 lines are CRON's" syslog "$(jq -r '.sources[0].format' <<<"$stats")"
expect_eq "its PostgreSQL records" 37 "$(jq '.totals.events' <<<"$stats")"
expect_eq "its foreign lines" 250 "$(jq '.totals.foreign_lines' <<<"$stats")"
pass
