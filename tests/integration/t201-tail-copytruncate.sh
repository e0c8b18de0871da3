#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# pgsift tail across copytruncate rotation (logrotate `copytruncate`, Debian's and
# Supabase's stderr logs): the file is copied to .1 and truncated in place, the writer
# goes on at offset 0 of the same inode. Lines between the last read and the copy are
# only in the copy, which pgsift must read from where it stopped (by content), then the
# truncated original from its start.
# labels: tail
. "$(dirname "$0")/lib.sh"
. "$SIFT_SOURCE_DIR/tests/integration/tail_lib.sh"

log=$T/postgresql.csv
: >"$log"
tail_start --format csvlog "$log"
writer --format csvlog --rate 2000 --count 3000 --rotate copytruncate --every 500 "$log"
expect_counted 30
[[ -f $T/postgresql.csv.1 ]] || fail "no rotated copy: the writer did not rotate"

tail_stop INT
tail_once --format csvlog "$log"
expect_counted 5
"$PGSIFT" ingest "$T"/postgresql.csv* 2>/dev/null
expect_counted 5
pass
