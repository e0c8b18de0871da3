#!/usr/bin/env bash
# pgsift ingest of a file that logrotate renames while it is read (and a new file with
# other records takes its name) stores where it stopped in THAT file: the first commit's
# head and mark are read from the file being read, not from what the path names by then.
# The next run over both files (the old one under its new name) stores every record of
# each exactly once - read whole, and in parts on two threads (-j 2, pipeline_par.c); and
# a .gz renamed between its lookup and its reading.
# timeout: 300
. "$(dirname "$0")/lib.sh"
need_cmd sqlite3
F=$SIFT_SOURCE_DIR/tests/fixtures/pg15
[[ -f $F/statement-log/postgresql.csv ]] || skip "fixtures absent"

for i in 1 2 3 4 5 6; do cat "$F"/*/postgresql.csv; done >big.csv
sed 's/^2026-11-2/2027-11-2/' big.csv >new.csv
export SIFT_TEST_NOW=2026-11-27T00:00:00Z

# Every stored event, without the name of its source (the old file changes its name).
events() {
  "$SIFT_TEST_TOOL" events-dump "$1" | sed 's/|[^|]*:\([0-9]*\)$/|\1/' | sort
}

"$PGSIFT" -q --db ref.db ingest big.csv new.csv
[[ $(events ref.db | wc -l) -gt 10000 ]] || fail "nothing ingested"
events ref.db >ref.txt
# How many events of each file (their times differ by a year): short to show on failure.
per_file() {
  cut -c1-4 "$1" | uniq -c | tr -s ' '
}

for mode in sync parts; do
  rm -f cut.db* work.csv work.csv.1 && cp big.csv work.csv && cp new.csv next.csv
  flag=
  # -j 2 on one file: parsed in parts, progress reported after each part
  [[ $mode == parts ]] && flag="--parts 200000"
  # renamed at the first progress report, before the first commit (one batch)
  out=$("$SIFT_TEST_TOOL" ingest-cut --db cut.db $flag --batch 100000000 --rotate next.csv \
    work.csv 1 0) || fail "$mode: ingest-cut: $out"
  expect_contains "$out" "ok"
  "$PGSIFT" -q --db cut.db ingest work.csv.1 work.csv
  events cut.db >cut.txt
  expect_eq "$mode: rotated while read: events of each file" "$(per_file ref.txt)" "$(per_file cut.txt)"
  expect_eq "$mode: rotated while read: every record of both files once" \
    "$(md5sum <ref.txt)" "$(md5sum <cut.txt)"
done

# A .gz read whole before, renamed between its lookup and its reading (the first progress
# report, with 0 bytes, comes in between) while a longer new .gz takes its name: the run
# reads the file it looked up (nothing new in it), not the new one's bytes past the old
# offset under the old file's position. Then both, under their new names: each once.
cat new.csv new.csv >new2.csv
"$PGSIFT" -q --db ref2.db ingest big.csv new2.csv
events ref2.db >ref2.txt
gzip -c big.csv >work.csv.gz
gzip -c new2.csv >next.csv.gz
rm -f work.csv.gz.1
"$PGSIFT" -q --db gz.db ingest work.csv.gz
out=$("$SIFT_TEST_TOOL" ingest-cut --db gz.db --rotate next.csv.gz work.csv.gz 0 0) ||
  fail "gz: ingest-cut: $out"
expect_contains "$out" "ok"
"$PGSIFT" -q --db gz.db ingest work.csv.gz.1 work.csv.gz
events gz.db >gz.txt
expect_eq "gz: renamed after its lookup: events of each file" "$(per_file ref2.txt)" "$(per_file gz.txt)"
expect_eq "gz: renamed after its lookup: every record of both files once" \
  "$(md5sum <ref2.txt)" "$(md5sum <gz.txt)"
pass
