#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Idle costs nothing: with inotify, pgsift tail blocks until something happens (no timer
# while all files are read and quiet), and a burst of writes costs a bounded number of
# wake-ups, not one per line.
# labels: tail
. "$(dirname "$0")/lib.sh"
. "$SIFT_SOURCE_DIR/tests/integration/tail_lib.sh"
[[ -r /proc/self/status ]] || skip "no /proc"

log=$T/postgresql.json
printf 'sources:\n  - path: %s\n    format: jsonlog\ntail:\n  rotate_wait: 200ms\n' "$log" >"$T/pgsift.yaml"
: >"$log"
tail_start --config "$T/pgsift.yaml"
grep -q "(inotify)" "$T/tail.err" || skip "inotify is not available here"
writer --format jsonlog --rate 0 --count 10 "$log"
expect_counted 10

switches() { awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$TAIL_PID/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$TAIL_PID/stat"; }
# Let the last read's timers run out (flush, idle close), then measure a quiet window
# (a measurement interval, not a wait for a condition).
settled() { local a; a=$(switches); sleep 0.5; [[ $(switches) == "$a" ]]; }
wait_for 10 settled
s0=$(switches) c0=$(cpu_ticks)
sleep 3
s1=$(switches) c1=$(cpu_ticks)
expect_eq "wake-ups while idle for 3 s" 0 "$((s1 - s0))"
expect_eq "CPU ticks while idle for 3 s" 0 "$((c1 - c0))"

# 2000 records written one by one over 2 s: wake-ups are bounded by the commit interval,
# not by the number of writes.
s0=$(switches)
writer --format jsonlog --rate 1000 --start 11 --count 2000 "$log"
expect_counted 10
s1=$(switches)
echo "wake-ups for 2000 writes: $((s1 - s0))"
((s1 - s0 < 200)) || fail "$((s1 - s0)) wake-ups for 2000 writes in 2 s"
_sift_checks=$((_sift_checks + 1))
tail_stop TERM
pass
