#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# pgsift status: per source and file, the committed offset, lag in bytes and seconds and
# the last commit, from the files and the store, while tail runs and after it stopped.
# labels: tail
. "$(dirname "$0")/lib.sh"
. "$SIFT_SOURCE_DIR/tests/integration/tail_lib.sh"
need_cmd jq

mkdir "$T/log"
log=$T/log/postgresql.json
cat >"$T/pgsift.yaml" <<YAML
sources:
  - name: main
    path: $log
    format: jsonlog
  - name: dir
    path: $T/log2
    format: csvlog
tail:
  commit_interval: 100ms
YAML
mkdir "$T/log2"
: >"$log"
: >"$T/log2/postgresql.csv"
tail_start --config "$T/pgsift.yaml"
writer --format jsonlog --rate 0 --count 200 "$log"
writer --format csvlog --rate 0 --start 201 --count 100 "$T/log2/postgresql.csv"
expect_counted 20

st=$("$PGSIFT" status --config "$T/pgsift.yaml" --format json)
size=$(stat -c %s "$log")
expect_eq "files" 2 "$(jq '.files | length' <<<"$st")"
expect_eq "main offset" "$size" "$(jq '.files[] | select(.source == "main") | .offset' <<<"$st")"
expect_eq "main lag" "0 0" "$(jq -r '.files[] | select(.source == "main") | "\(.lag_bytes) \(.lag_seconds)"' <<<"$st")"
expect_eq "main records" 200 "$(jq '.files[] | select(.source == "main") | .records' <<<"$st")"
expect_eq "dir file" "$T/log2/postgresql.csv" "$(jq -r '.files[] | select(.source == "dir") | .file' <<<"$st")"
[[ $(jq -r '.files[0].last_commit' <<<"$st") == 20*Z ]] || fail "no last commit time in: $st"
tail_stop TERM

# Stopped: what is written now is lag.
sleep_until_newer() { [[ $(date +%s%N) -gt $(($(date -d "$(jq -r '.files[] | select(.source == "main") | .last_commit' <<<"$st")" +%s%N) + 1100000000)) ]]; }
wait_for 10 sleep_until_newer
writer --format jsonlog --rate 0 --start 301 --count 50 "$log"
st=$("$PGSIFT" status --config "$T/pgsift.yaml" --format json)
new=$(stat -c %s "$log")
expect_eq "lag bytes" "$((new - size))" "$(jq '.files[] | select(.source == "main") | .lag_bytes' <<<"$st")"
jq -e '.files[] | select(.source == "main") | .lag_seconds >= 1' <<<"$st" >/dev/null ||
  fail "lag in seconds not counted: $st"

# Table, csv and md forms; a rotated file the store knows is listed.
mv "$log" "$log.1"
: >"$log"
out=$("$PGSIFT" status --config "$T/pgsift.yaml")
expect_contains "$out" "LAST_COMMIT"
expect_contains "$out" "rotated"
expect_eq "csv rows" 4 "$("$PGSIFT" status --config "$T/pgsift.yaml" --format csv | wc -l)"
expect_contains "$("$PGSIFT" status --config "$T/pgsift.yaml" --format md)" "| source | file |"
# Command-line paths; a missing store is an error.
expect_contains "$("$PGSIFT" status "$log")" "postgresql.json"
expect_exit 1 "$PGSIFT" --db "$T/none.db" status "$log"
expect_exit 2 "$PGSIFT" status
# A path that names nothing (yet) is said, not an empty table alone.
err=$("$PGSIFT" status "$T/no/such/dir" 2>&1 >/dev/null)
expect_contains "$err" "no file at '$T/no/such/dir' (yet): No such file or directory"
err=$("$PGSIFT" status "$T/nomatch*.csv" 2>&1 >/dev/null)
expect_contains "$err" "no file matches '$T/nomatch*.csv' (yet)"
# ...also beside a path that has files
err=$("$PGSIFT" status "$T/no/such/dir" "$log" 2>&1 >/dev/null)
expect_contains "$err" "no file at '$T/no/such/dir' (yet)"
# One directory given twice, spelled two ways: its files are listed once, and no path is
# said to be empty (the second spelling's files went to the first: QA 19).
err=$(cd "$T" && "$PGSIFT" status "$T/log" log 2>&1 >/dev/null)
expect_not_contains "$err" "no log file in"
# In a directory source a gzipped file is a rotated one, as it is when found as a
# sibling of a file path (QA 28: it showed as "live" there).
mkdir -p "$T/gzdir"
cp "$SIFT_SOURCE_DIR/tests/fixtures/pg15/text-plans/postgresql.csv" "$T/gzdir/postgresql.csv.1"
gzip "$T/gzdir/postgresql.csv.1"
cp "$SIFT_SOURCE_DIR/tests/fixtures/pg15/statement-log/postgresql.csv" "$T/gzdir/postgresql.csv"
touch -d '10 minutes ago' "$T/gzdir"/*
"$PGSIFT" -q --db "$T/gz.db" tail --once "$T/gzdir"
expect_eq "states in a directory source" "$T/gzdir/postgresql.csv live
$T/gzdir/postgresql.csv.1.gz rotated" \
  "$("$PGSIFT" --db "$T/gz.db" status --format json "$T/gzdir" | jq -r '.files[] | "\(.file) \(.state)"' | sort)"
pass
