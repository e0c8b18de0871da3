#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# kill -9 of pgsift tail while the log is written and rotated: after each restart it
# continues from the store, and every record is counted exactly once in the end.
# labels: tail
. "$(dirname "$0")/lib.sh"
. "$SIFT_SOURCE_DIR/tests/integration/tail_lib.sh"

log=$T/postgresql.log
cat >"$T/pgsift.yaml" <<YAML
sources:
  - path: $log
    format: stderr
    prefix: '%m [%p] '
tail:
  rotate_wait: 1s
  commit_interval: 200ms
  commit_records: 100
YAML
: >"$log"
tail_start --config "$T/pgsift.yaml"
"$SIFT_TEST_TOOL" append-lines --format stderr --rate 1500 --count 6000 --rotate rename \
  --every 700 --late 4 "$log" >"$T/expect" &
WRITER_PID=$!

calls() { store_query "SELECT coalesce(sum(calls), 0) FROM query_stats" 2>/dev/null || echo 0; }
# (or the writer is done: its summary in $T/expect; slow restarts may have left fewer
# than 400 calls for the last round)
more_than() { (($(calls) > $1)) || [[ -s $T/expect ]]; }
for round in 1 2 3; do
  wait_for 30 more_than "$(($(calls) + 400))"
  tail_kill9
  tail_start --config "$T/pgsift.yaml"
done
wait "$WRITER_PID" || fail "the writer failed"
WRITER_PID=
expect_counted 40
tail_stop TERM
tail_once --config "$T/pgsift.yaml"
expect_counted 5
pass
