#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Files whose content changes under the same name: truncated and rewritten in place while
# pgsift tail runs (log_truncate_on_rotation with a cyclic log_filename), truncated and
# grown back past the old size while it was down (GoAccess's snippet case: a size check
# alone would skip the new start), and a file deleted and recreated while it was down
# (the inode may well be reused: the content hash, not the inode, decides).
# labels: tail
. "$(dirname "$0")/lib.sh"
. "$SIFT_SOURCE_DIR/tests/integration/tail_lib.sh"

log=$T/postgresql-Mon.json
printf 'sources:\n  - path: %s\n    format: jsonlog\ntail:\n  commit_interval: 100ms\n' "$log" >"$T/pgsift.yaml"
: >"$log"
tail_start --config "$T/pgsift.yaml"
writer --format jsonlog --rate 0 --count 300 "$log"
expect_counted 20

# Truncated in place and rewritten (the server reopened it with "w"), longer than before.
: >"$log"
writer --format jsonlog --rate 0 --start 301 --count 500 "$log"
expect_counted 20
wait_for 10 grep -q "truncated or replaced" "$T/tail.err"
# One truncation, one note: the file is found empty first, then with its new lines
# (QA 19: both reads said it).
notes() { grep -c "truncated or replaced" "$T/tail.err"; }
n0=$(notes)
noted() { (($(notes) > n0)); }
: >"$log"
wait_for 10 noted
writer --format jsonlog --rate 0 --start 801 --count 100 "$log"
expect_counted 20
sleep 0.5
expect_eq "one note for one truncation" $((n0 + 1)) "$(notes)"
tail_stop TERM

# While down: truncated, and grown back past the old size.
: >"$log"
writer --format jsonlog --rate 0 --start 901 --count 900 "$log"
tail_start --config "$T/pgsift.yaml"
expect_counted 20
tail_stop TERM

# While down: deleted and created anew (same inode or not).
ino0=$(stat -c %i "$log")
rm "$log"
writer --format jsonlog --rate 0 --start 1801 --count 1000 "$log"
echo "inode reused: $([[ $(stat -c %i "$log") == "$ino0" ]] && echo yes || echo no)"
tail_start --config "$T/pgsift.yaml"
expect_counted 20
tail_stop TERM
tail_once --config "$T/pgsift.yaml"
expect_counted 5
pass
