#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# pgsift tail and the csvlog hold: a record cut inside a quoted field (a multi-line
# statement, written line by line by the log collector) is held while the file is live.
# The file is then renamed (logrotate create + pg_ctl logrotate): the server goes on
# writing to it until it reopens its log, so the record's rest lands in the renamed file,
# shortly after the rotation. The rotated file was quiet for longer than rotate_wait
# before the rotation; its last read (which ends every record) must still wait
# rotate_wait after the rotation is seen, or the record is ended half (a reject) and its
# rest is a second reject: one record lost.
# labels: tail
. "$(dirname "$0")/lib.sh"
. "$SIFT_SOURCE_DIR/tests/integration/tail_lib.sh"
unset SIFT_TEST_NOW

log=$T/postgresql.csv
cat >"$T/pgsift.yaml" <<YAML
sources:
  - path: $log
    format: csvlog
tail:
  rotate_wait: 3s
  commit_interval: 200ms
YAML
rec() { # N [STATEMENT-TEXT]
  printf '2026-11-26 06:56:21.%03d UTC,"app","shop",4242,"[local]",6b05c86e.e9c,%d,"SELECT",2026-01-01 00:00:00 UTC,3/1,0,LOG,00000,"duration: %d.000 ms  statement: %s",,,,,,,,,"psql","client backend",,%d\n' \
    "$1" "$1" "$1" "${2:-SELECT $1}" $((1000 + $1))
}
head4() { printf '2026-11-26 06:56:21.004 UTC,"app","shop",4242,"[local]",6b05c86e.e9c,4,"SELECT",2026-01-01 00:00:00 UTC,3/1,0,LOG,00000,"duration: 4.000 ms  statement: SELECT\n'; }
rest4() { printf '  4",,,,,,,,,"psql","client backend",,1004\n'; }
expect_records() { echo "records $1 sum_ms $2 sumsq_ms $3" >"$T/expect"; }

{ rec 1; rec 2; rec 3; head4; } >"$log"
tail_start --config "$T/pgsift.yaml"
expect_records 3 6 14
expect_counted 10
sleep 3.5 # flushes of the held record; the file quiet for longer than rotate_wait
expect_counted 1
# rename + create; the writer's descriptor finishes record 4 in the renamed file
mv "$log" "$log.1"
: >"$log"
sleep 0.3 # well within rotate_wait (3 s: a loaded host may stall this shell) of the rotation
rest4 >>"$log.1"
rec 5 >>"$log"
expect_records 5 15 55
expect_counted 10
sleep 4.5 # the rotated file is read to its end and closed (rotate_wait after the rotation)
expect_counted 1
tail_stop TERM
tail_once --config "$T/pgsift.yaml"
expect_counted 2
expect_eq "rejects" 0 "$(store_query "SELECT coalesce(sum(count),0) FROM rejects")"
pass
