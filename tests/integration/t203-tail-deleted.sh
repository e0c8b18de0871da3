#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# pgsift tail when the file is deleted while open: the writer unlinks it, still writes a
# few records to the open (now nameless) file, then creates a new one. Only the held
# descriptor reaches those records. (A generation lives 0.75 s: one pgsift has not opened
# before it is unlinked is gone, so a loaded host must get a turn within that.)
# labels: tail
. "$(dirname "$0")/lib.sh"
. "$SIFT_SOURCE_DIR/tests/integration/tail_lib.sh"

log=$T/postgresql.json
: >"$log"
tail_start --format jsonlog "$log"
writer --format jsonlog --rate 1000 --count 3000 --rotate delete --every 750 --late 5 "$log"
expect_counted 30
expect_eq "files left" "$T/postgresql.json" "$(ls "$T"/postgresql.json*)"
grep -q "was deleted" "$T/tail.err" || fail "no deletion noticed in: $(cat "$T/tail.err")"
tail_stop TERM
pass
