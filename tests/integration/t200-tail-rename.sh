#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# pgsift tail across rename + create rotation (PostgreSQL's collector with a fixed name and
# `pg_ctl logrotate`, logrotate's default `create`): the writer keeps writing a few records
# to the renamed file before it reopens, so the old descriptor must be drained.
# labels: tail
. "$(dirname "$0")/lib.sh"
. "$SIFT_SOURCE_DIR/tests/integration/tail_lib.sh"

log=$T/postgresql.json
: >"$log"
tail_start --format jsonlog "$log"
writer --format jsonlog --rate 2000 --count 3000 --rotate rename --every 400 --late 3 "$log"
expect_counted 30
ls "$T"/postgresql.json.* >/dev/null || fail "no rotated files: the writer did not rotate"

# A restart reads nothing again (the rotated siblings are known streams).
tail_stop TERM
tail_once --format jsonlog "$log"
expect_counted 5
# And neither does ingest over every file.
"$PGSIFT" ingest "$T"/postgresql.json* 2>/dev/null
expect_counted 5
pass
