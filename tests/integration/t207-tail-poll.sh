#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The polling back-end: forced with --watcher poll, and chosen by itself when inotify
# cannot be used (SIFT_TEST_NO_INOTIFY stands in for a kernel or file system without it).
# Same invariant across rename and copytruncate rotations. Rotations are slower than
# the poll interval here: a file must live at least that long to be seen by name.
# labels: tail
. "$(dirname "$0")/lib.sh"
. "$SIFT_SOURCE_DIR/tests/integration/tail_lib.sh"

log=$T/postgresql.json
: >"$log"
tail_start --watcher poll --format jsonlog "$log"
grep -q "(poll)" "$T/tail.err" || fail "not polling: $(cat "$T/tail.err")"
writer --format jsonlog --rate 1000 --count 1500 --rotate rename --every 500 "$log"
expect_counted 30
tail_stop TERM

log2=$T/other.csv
: >"$log2"
rm -f "$PGSIFT_DB"*
: >"$T/expect"
SIFT_TEST_NO_INOTIFY=1 tail_start --format csvlog "$log2"
grep -q "following files by polling" "$T/tail.err" || fail "no fallback note: $(cat "$T/tail.err")"
writer --format csvlog --rate 1000 --count 1500 --rotate copytruncate --every 500 "$log2"
expect_counted 30
tail_stop TERM

# inotify demanded but unavailable: a clear error, exit 1.
out=$(SIFT_TEST_NO_INOTIFY=1 "$PGSIFT" tail --watcher inotify "$log2" 2>&1) && fail "started without inotify"
expect_contains "$out" "inotify is disabled"
pass
