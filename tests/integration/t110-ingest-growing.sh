#!/usr/bin/env bash
# pgsift ingest of a csvlog file that PostgreSQL is still writing (docs/store.md, "A file
# still being written"): the log collector writes line-buffered, so a record whose quoted
# field spans lines (auto_explain plans, statements) can be seen half-written. Fed in
# 7919-byte steps with an ingest after each, in one reader (-j 1) and in parts on two
# threads (-j 2, small parts), the store holds every event, record count and reject of
# one run over the whole file: a record cut inside a quoted field waits for the next run
# (said at the normal level, with the bytes), it is neither finished nor rejected. A file
# not modified for SIFT_HOLD_LIVE_SECONDS (300 s) is complete: its cut record is rejected
# and a last line without "\n" is read.
# timeout: 300
. "$(dirname "$0")/lib.sh"
need_cmd sqlite3
F=$SIFT_SOURCE_DIR/tests/fixtures/pg15
[[ -f $F/statement-log/postgresql.csv ]] || skip "fixtures absent"
unset SIFT_TEST_NOW # the real clock: the files written here are live

# The file: every fixture csvlog (over 1 MiB: -j 2 parses in parts only a file it maps),
# then the text-plans and statement-log ones again, the part fed in steps.
mkdir whole
cat "$F"/*/postgresql.csv >base.csv
cat "$F"/text-plans/postgresql.csv "$F"/statement-log/postgresql.csv >rest.csv
cat base.csv rest.csv >whole/postgresql.csv
[[ $(stat -c %s base.csv) -gt 1048576 ]] || fail "fixtures under 1 MiB"
size=$(stat -c %s rest.csv)

# Every stored event (the source's path cut to its name), record counts and rejects.
state() {
  "$SIFT_TEST_TOOL" events-dump "$1" | sed 's#[^|]*/postgresql\.csv#postgresql.csv#g'
  sqlite3 -separator '|' "$1" "SELECT 'records', sum(records) FROM sources"
  sqlite3 -separator '|' "$1" "SELECT 'reject', reason, count FROM rejects ORDER BY reason"
  sqlite3 -separator '|' "$1" "SELECT 'kinds', kind, severity, sum(count) FROM record_stats GROUP BY kind, severity ORDER BY kind, severity"
}
count() {
  sqlite3 "$1" "SELECT coalesce(sum(records), 0) FROM sources"
}
rejects() {
  sqlite3 "$1" "SELECT coalesce(sum(count), 0) FROM rejects"
}

"$PGSIFT" -q --db ref.db ingest whole/postgresql.csv
state ref.db >ref.txt
ref_records=$(count ref.db)
[[ $ref_records -gt 5000 ]] || fail "too few records in the reference ($ref_records)"
expect_eq "reference: no reject" 0 "$(rejects ref.db)"

# 1. Stepwise feed, an ingest after each step: the store of one run over the whole file.
# -j 1 in 7919-byte steps (ends of steps that cut a record in a quoted field noted in
# cuts[]); -j 2 parses in parts only what lies past the format detection's 200 lines, so
# its steps end at those cuts only (each then read in parts: pipeline_run() alone logs
# the fingerprint cache line with -v).
feed() { # DB J END...: append rest.csv up to each END, ingest after each
  local db=$1 j=$2 at=0 end err
  shift 2
  rm -rf grow "$db"* && mkdir grow
  cp base.csv grow/postgresql.csv
  "$PGSIFT" -q --db "$db" ingest -j "$j" grow/postgresql.csv
  notes=0 cuts=() parts=0
  for end; do
    dd if=rest.csv bs=1 skip=$at count=$((end - at)) status=none iflag=skip_bytes,count_bytes \
      >>grow/postgresql.csv
    err=$("$PGSIFT" -v --db "$db" ingest -j "$j" grow/postgresql.csv 2>&1 >/dev/null) ||
      fail "-j $j: ingest at byte $end failed: $err"
    if [[ $err == *"a quoted field or a JSON object is still open"* ]]; then
      notes=$((notes + 1))
      cuts+=("$end")
      expect_contains "$err" "'grow/postgresql.csv': its last record is not complete yet"
      expect_contains "$err" "bytes are left for the next run"
      [[ $err == *"fingerprint cache"* ]] || parts=$((parts + 1))
    fi
    at=$end
  done
  state "$db" >"$db.txt"
  expect_eq "-j $j: records stored after the stepwise feed" "$ref_records" "$(count "$db")"
  expect_eq "-j $j: rejects after the stepwise feed" 0 "$(rejects "$db")"
  expect_eq "-j $j: every stored event, count and reject as one run" \
    "$(md5sum <ref.txt)" "$(md5sum <"$db.txt")"
}
ends=()
for ((off = 7919; off < size; off += 7919)); do ends+=("$off"); done
feed g1.db 1 "${ends[@]}" "$size"
[[ $notes -ge 3 ]] || fail "-j 1: only $notes steps cut a record inside a quoted field"
export SIFT_TEST_PART_BYTES=1500
feed g2.db 2 "${cuts[@]}" "$size"
unset SIFT_TEST_PART_BYTES
[[ $notes -ge 3 && $parts -ge 2 ]] || fail "-j 2: $notes cut records held, $parts of them read in parts"

# 2. The same file cut inside a quoted field, live and then old. Find a cut: the end of
# the first line of a record whose quoted field spans lines.
cut=$(LC_ALL=C awk '/^20[0-9][0-9]-/ && (gsub(/"/, "&") % 2) == 1 {print bytes + length($0) + 1; exit} {bytes += length($0) + 1}' whole/postgresql.csv)
[[ -n $cut && $cut -gt 0 ]] || fail "no multi-line record found"
rm -rf cutf c.db* && mkdir cutf
head -c "$cut" whole/postgresql.csv >cutf/postgresql.csv
err=$("$PGSIFT" --db c.db ingest cutf/postgresql.csv 2>&1 >/dev/null)
expect_contains "$err" "a quoted field or a JSON object is still open"
expect_eq "live: the cut record is held, not rejected" 0 "$(rejects c.db)"
before=$(count c.db)
[[ $before -gt 0 ]] || fail "live: the records before the cut record were not stored"
# Modified 10 minutes ago: complete, the cut record is finished and rejected with a sample.
touch -d '10 minutes ago' cutf/postgresql.csv
err=$("$PGSIFT" --db c.db ingest cutf/postgresql.csv 2>&1 >/dev/null)
expect_not_contains "$err" "a quoted field or a JSON object is still open"
expect_eq "old: the cut record is rejected" 1 "$(rejects c.db)"
expect_eq "old: as unterminated" "unterminated quoted field|1" \
  "$(sqlite3 -separator '|' c.db "SELECT reason, count FROM rejects")"
expect_eq "old: with a sample" 1 "$(sqlite3 c.db "SELECT count(*) FROM reject_samples")"
expect_eq "old: the records before it are stored once" "$before" "$(count c.db)"
# More records, read with a wrong --format: rejects and no record are not stored and the
# position stays (exit 3), unlike one cut record alone; the right format reads them.
off=$(sqlite3 c.db "SELECT offset FROM sources")
grep -m 3 '^20[0-9][0-9]-.*,LOG,00000,"[^"]*",' whole/postgresql.csv >three.csv
[[ $(grep -c '' three.csv) == 3 ]] || fail "no three one-line records"
cat three.csv >>cutf/postgresql.csv
touch -d '10 minutes ago' cutf/postgresql.csv
expect_exit 3 "$PGSIFT" -q --db c.db ingest --format jsonlog cutf/postgresql.csv
expect_eq "wrong format: rejects alone are not stored" 1 "$(rejects c.db)"
expect_eq "wrong format: the position stays" "$off" "$(sqlite3 c.db "SELECT offset FROM sources")"
"$PGSIFT" -q --db c.db ingest cutf/postgresql.csv
expect_eq "then read with the right one" "$((before + 3))" "$(count c.db)"

# 3. A last line without "\n": held while the file is live, read once it is old.
rm -rf pl pl.db* && mkdir pl
lines=$(grep -c '' "$F"/statement-log/postgresql.csv)
head -n 200 "$F"/statement-log/postgresql.csv >pl/postgresql.csv
last=$(tail -n 1 pl/postgresql.csv)
[[ $last == 20* && $(($(tr -cd '"' <<<"$last" | wc -c) % 2)) == 0 ]] || fail "line 200 is not a one-line record"
head -c -1 pl/postgresql.csv >pl/x && mv pl/x pl/postgresql.csv
"$PGSIFT" -q --db pl.db ingest pl/postgresql.csv
n1=$(count pl.db)
touch -d '10 minutes ago' pl/postgresql.csv
"$PGSIFT" -q --db pl.db ingest pl/postgresql.csv
expect_eq "old: a last line without newline is read" "$((n1 + 1))" "$(count pl.db)"
expect_eq "no reject" 0 "$(rejects pl.db)"
[[ $lines -gt 200 ]] || fail "fixture too short"
pass
