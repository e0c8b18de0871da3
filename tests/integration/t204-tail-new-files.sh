#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# pgsift tail on a log directory where new files appear (PostgreSQL's collector with a
# timestamped log_filename: each rotation starts a new file, old ones are left alone),
# configured through pgsift.yaml.
# labels: tail
. "$(dirname "$0")/lib.sh"
. "$SIFT_SOURCE_DIR/tests/integration/tail_lib.sh"

mkdir "$T/log"
echo 'not a log file' >"$T/log/README"
cat >"$T/pgsift.yaml" <<YAML
store: $T/pgsift.db
sources:
  - name: main
    path: $T/log
    format: jsonlog
    include: 'postgresql-*.log'
tail:
  commit_interval: 200ms
YAML
unset PGSIFT_DB
export PGSIFT_DB_CHECK=$T/pgsift.db
tail_start --config "$T/pgsift.yaml"
PGSIFT_DB=$T/pgsift.db
writer --format jsonlog --rate 2000 --count 3000 --rotate newfile --every 300 "$T/log/postgresql"
expect_counted 30
expect_eq "files" 10 "$(ls "$T"/log/postgresql-*.log | wc -l)"
expect_eq "README never read" "" "$(store_query "SELECT name FROM sources WHERE name LIKE '%README%'")"
tail_stop TERM
pass
