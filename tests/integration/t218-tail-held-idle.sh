#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A csvlog record cut inside a quoted field at the end of a followed file is held
# (SIFT_HOLD_LIVE_SECONDS) until its rest is written, which the watcher reports. Holding
# it costs nothing meanwhile: no read every half commit interval (each one re-reading
# the held bytes, and for a rotated copy logging "continues ... at byte N" again).
# labels: tail
. "$(dirname "$0")/lib.sh"
. "$SIFT_SOURCE_DIR/tests/integration/tail_lib.sh"
[[ -r /proc/self/status ]] || skip "no /proc"
unset SIFT_TEST_NOW # the real clock: the file is live

log=$T/postgresql.csv
cat >"$T/pgsift.yaml" <<YAML
sources:
  - path: $log
    format: csvlog
tail:
  rotate_wait: 200ms
YAML
rec() { # N
  printf '2026-11-26 06:56:21.%03d UTC,"app","shop",4242,"[local]",6b05c86e.e9c,%d,"SELECT",2026-01-01 00:00:00 UTC,3/1,0,LOG,00000,"duration: %d.000 ms  statement: SELECT %d",,,,,,,,,"psql","client backend",,%d\n' \
    "$1" "$1" "$1" "$1" $((1000 + $1))
}
head_of() { # N: the record's first line, cut inside its quoted message
  printf '2026-11-26 06:56:21.%03d UTC,"app","shop",4242,"[local]",6b05c86e.e9c,%d,"SELECT",2026-01-01 00:00:00 UTC,3/1,0,LOG,00000,"duration: %d.000 ms  statement: SELECT\n' \
    "$1" "$1" "$1"
}
rest_of() { printf '  %d",,,,,,,,,"psql","client backend",,%d\n' "$1" $((1000 + $1)); }
expect_records() { echo "records $1 sum_ms $2 sumsq_ms $3" >"$T/expect"; }
switches() { awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$TAIL_PID/status"; }

{ rec 1; rec 2; rec 3; head_of 4; } >"$log"
tail_start --config "$T/pgsift.yaml"
grep -q "(inotify)" "$T/tail.err" || skip "inotify is not available here"
expect_records 3 6 14
expect_counted 10
sleep 1.5 # the first flush holds record 4
s0=$(switches)
sleep 3
s1=$(switches)
echo "wake-ups in 3 s with a held record: $((s1 - s0))"
(((s1 - s0) <= 1)) || fail "$((s1 - s0)) wake-ups in 3 s while a record is held (expected none)"
_sift_checks=$((_sift_checks + 1))
rest_of 4 >>"$log"
expect_records 4 10 30
expect_counted 10

# copytruncate of a file whose last record is cut: the copy continues the stream and
# holds the cut record; it is read once, not again and again.
head_of 5 >>"$log"
sleep 1.5
cp "$log" "$log.1"
: >"$log"
rec 6 >>"$log"
expect_records 5 16 66
expect_counted 10
sleep 3
n=$(grep -c "'$log.1' continues" "$T/tail.err")
echo "'continues' notes in 3 s: $n"
((n <= 2)) || fail "the held copy was read $n times in 3 s (its note repeated)"
_sift_checks=$((_sift_checks + 1))
tail_stop TERM
# Its cut record ends as a reject once the copy is quiet for good (modified long ago).
touch -d '1 hour ago' "$log.1"
tail_once --config "$T/pgsift.yaml"
expect_eq "rejects" 1 "$(store_query "SELECT coalesce(sum(count),0) FROM rejects")"
expect_counted 1
pass
