#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# pgsift tail across rotate-then-gzip (logrotate `compress` without `delaycompress`): the
# file is renamed to .1, the writer still puts a few records there, then .1 is gzipped to
# .1.gz and removed. The held descriptor drains the deleted .1; the .gz is recognised as
# the same stream by content and adds nothing. stderr format, whose records span two lines:
# the last record of every read stays pending until the next one starts.
# labels: tail
. "$(dirname "$0")/lib.sh"
. "$SIFT_SOURCE_DIR/tests/integration/tail_lib.sh"

log=$T/postgresql.log
: >"$log"
tail_start --format stderr --prefix '%m [%p] ' "$log"
writer --format stderr --rate 2000 --count 3000 --rotate gzip --every 400 --late 3 "$log"
expect_counted 30
ls "$T"/postgresql.log.*.gz >/dev/null || fail "no gzipped files: the writer did not rotate"
[[ ! -e $T/postgresql.log.1 ]] || fail "postgresql.log.1 should have been gzipped away"

tail_stop TERM
tail_once --format stderr --prefix '%m [%p] ' "$log"
expect_counted 5
"$PGSIFT" ingest --format stderr --prefix '%m [%p] ' "$T"/postgresql.log* 2>/dev/null
expect_counted 5
pass
