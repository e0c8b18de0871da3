#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Rotations while pgsift tail is down: it stops (SIGTERM) in the middle of a generation,
# the log is rotated several times (rename, then gzip) while it is away, and on restart it
# continues the stream it was reading from the stored offset wherever that file now is
# (.N or .N.gz), reads the generations it never saw, then the current file.
# labels: tail
. "$(dirname "$0")/lib.sh"
. "$SIFT_SOURCE_DIR/tests/integration/tail_lib.sh"

log=$T/postgresql.json
cat >"$T/pgsift.yaml" <<YAML
sources:
  - path: $log
    format: jsonlog
tail:
  rotate_wait: 1s
  commit_interval: 200ms
YAML
echo 'history from before pgsift was set up' >"$log.9"
touch -d '2 days ago' "$log.9"
: >"$log"
tail_start --config "$T/pgsift.yaml"
writer --format jsonlog --rate 2000 --count 1000 --rotate rename --every 300 "$log"
expect_counted 30
tail_stop TERM

# Down: a half generation is appended, then rotations, then more.
writer --format jsonlog --rate 0 --start 1001 --count 150 "$log"
writer --format jsonlog --rate 0 --start 1151 --count 1000 --rotate rename --every 250 --late 2 "$log"
writer --format jsonlog --rate 0 --start 2151 --count 600 --rotate gzip --every 200 --late 2 "$log"
ls "$log".*.gz >/dev/null || fail "no gzipped generation"

tail_start --config "$T/pgsift.yaml"
expect_counted 30
expect_eq "history read" "" "$(store_query "SELECT name FROM sources WHERE name LIKE '%.9'")"
tail_stop TERM
tail_once --config "$T/pgsift.yaml"
expect_counted 5

# A run that commits nothing (its file not there yet) still began following the path:
# the file created and rotated while pgsift is down is read from its start when it comes
# back, the rotated generation too.
mkdir "$T/new"
cat >"$T/new.yaml" <<YAML
sources:
  - path: $T/new/postgresql.json
    format: jsonlog
tail:
  rotate_wait: 1s
  commit_interval: 200ms
YAML
tail_start --config "$T/new.yaml"
tail_stop TERM
sleep 1.1 # (the rotated generation is modified after the run began, to the second)
writer --format jsonlog --rate 0 --start 5001 --count 600 --rotate rename --every 300 "$T/new/postgresql.json"
tail_start --config "$T/new.yaml"
expect_counted 30
tail_stop TERM
pass
