#!/usr/bin/env bash
# pgsift ingest -j N with more jobs than files commits each file's batches in a second
# thread while the next batch fills, and parses a csvlog/jsonlog file in parts on
# several threads: every table of the store must be identical to a -j 1 run (many small
# batches, statements paired with later duration lines across batch boundaries, plans,
# errors, rejects), and a re-run must add nothing.
# timeout: 300
. "$(dirname "$0")/lib.sh"
need_cmd sqlite3
F=$SIFT_SOURCE_DIR/tests/fixtures/pg15
[[ -f $F/statement-log/postgresql.csv ]] || skip "fixtures absent"

cat "$F"/*/postgresql.csv >one.csv
printf 'not a csvlog line\n' >>one.csv
cat "$F"/statement-log/postgresql.csv "$F"/*/postgresql.csv >one.csv.tmp
sed 's/^2026-11-25/2026-11-26/' one.csv.tmp >two.csv
export SIFT_TEST_NOW=2026-11-27T00:00:00Z

# Every table, every row, in a fixed order.
dump() {
  local t
  for t in $(sqlite3 "$1" "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"); do
    echo "== $t"
    if [[ $t == event_blocks ]]; then # the blobs as hex (unless $2 = decoded), and every event decoded
      [[ ${2:-} == decoded ]] ||
        sqlite3 -separator '|' "$1" "SELECT id, ts_min, ts_max, n, kinds, hex(data) FROM event_blocks" | sort
      "$SIFT_TEST_TOOL" events-dump "$1"
    elif [[ $t == source_marks ]]; then # one per commit: the newest of each stream
      sqlite3 -separator '|' "$1" "SELECT offset, mark_len, mark_hash FROM source_marks m WHERE offset = (SELECT max(offset) FROM source_marks WHERE source = m.source)" | sort
    elif [[ $t == plan_call_blocks ]]; then # blocks follow commits: as rows, then decoded
      [[ ${2:-} == decoded ]] ||
        sqlite3 -separator '|' "$1" "SELECT fingerprint, database, minute, part, n, ts_min, ts_max, hex(data) FROM plan_call_blocks" | sort
      "$SIFT_TEST_TOOL" plan-calls-dump "$1"
    else
      sqlite3 -separator '|' "$1" "SELECT * FROM \"$t\"" | sort
    fi
  done
}

unordered() {
  awk '/^== /{sec = $2; print; next}
    sec ~ /^plan/ {next}
    sec == "event_blocks" || sec == "sources" || sec == "reject_samples" {sub(/^[0-9]+\|/, "")}
    {print}' "$1" | sort
}

for batch in 40000 400000; do
  export SIFT_TEST_BATCH_BYTES=$batch
  rm -f j1.db* j2.db* j4.db*
  "$PGSIFT" -q --db j1.db ingest -j 1 one.csv two.csv
  "$PGSIFT" -q --db j2.db ingest -j 2 one.csv # one reader, one committer
  "$PGSIFT" -q --db j2.db ingest -j 2 two.csv
  "$PGSIFT" -q --db j4.db ingest -j 4 one.csv two.csv # two readers, two committers
  [[ $(sqlite3 j1.db "SELECT sum(count) FROM record_stats") -gt 1000 ]] || fail "nothing ingested"
  dump j1.db >j1.txt
  dump j2.db >j2.txt
  expect_eq "batch $batch: -j 2 on one file gives the -j 1 store" "$(cat j1.txt)" "$(cat j2.txt)"
  # Two readers commit in turns: the same rows, but row ids follow the commit order,
  # and so do the plan tables (runs, calls, samples: docs/plans.md).
  expect_eq "batch $batch: -j 4 on two files gives the -j 1 store" "$(unordered j1.txt)" \
    "$(dump j4.db >j4.txt && unordered j4.txt)"
  "$PGSIFT" -q --db j2.db ingest -j 2 one.csv two.csv
  expect_eq "batch $batch: a re-run adds nothing" "$(cat j1.txt)" "$(dump j2.db)"
done

# Batches of several thousand event rows: with one reader the commit thread writes the
# rows in chunks (STORE_EV_CHUNK_ROWS) while the batch fills, in the batch's
# transaction; the store is still the -j 1 store. (Near the end of a file the commit
# thread's batches shrink, INGEST_TAIL_BATCH_BYTES, so the events are packed into other
# blocks: every event is compared decoded.)
for i in 1 2 3 4 5 6 7 8; do cat one.csv; done >big.csv
export SIFT_TEST_BATCH_BYTES=4000000
rm -f j1.db* j2.db*
"$PGSIFT" -q --db j1.db ingest -j 1 big.csv
"$PGSIFT" -q --db j2.db ingest -j 2 big.csv
[[ $(sqlite3 j1.db "SELECT sum(n) FROM event_blocks") -gt 6000 ]] || fail "too few event rows to stream"
expect_eq "streamed event rows: -j 2 gives the -j 1 store" "$(dump j1.db decoded)" "$(dump j2.db decoded)"

# -j 2 on one csvlog or jsonlog file parses it in parts on two threads (pipeline_par.c):
# parts of a few kB cut the fixtures at hundreds of places, commits fall at part ends.
# The store is the -j 1 store; sums of squares are added per batch, so floats are
# compared to 9 significant digits.
round9() {
  awk -F'|' -v OFS='|' '{for (i = 1; i <= NF; i++) if ($i ~ /^-?[0-9]+\.[0-9]+$/) $i = sprintf("%.9g", $i); print}'
}
cat "$F"/*/postgresql.json >one.json
for part in 3000 65536; do
  for batch in 40000 4000000; do
    export SIFT_TEST_BATCH_BYTES=$batch SIFT_TEST_PART_BYTES=$part
    for f in one.csv one.json; do
      rm -f p1.db* p2.db*
      "$PGSIFT" -q --db p1.db ingest -j 1 "$f"
      "$PGSIFT" -q --db p2.db ingest -j 2 "$f"
      expect_eq "parts of $part, batch $batch: -j 2 on $f gives the -j 1 store" \
        "$(dump p1.db decoded | round9)" "$(dump p2.db decoded | round9)"
      "$PGSIFT" -q --db p2.db ingest -j 2 "$f"
      expect_eq "parts of $part, batch $batch: a re-run of $f adds nothing" \
        "$(dump p1.db decoded | round9)" "$(dump p2.db decoded | round9)"
    done
  done
done
# Into a store not there yet, the parts are parsed while it is created (ingest.h,
# ingest_prefetch_start()); into one that is, not. --keep-literals: the parts keep them.
export SIFT_TEST_PART_BYTES=65536
rm -f p1.db* p2.db*
"$PGSIFT" -v --db p2.db ingest -j 2 one.csv 2>v.txt
expect_contains "$(cat v.txt)" "one.csv: parsing begun while the store is created"
"$PGSIFT" -v --db p2.db ingest -j 2 one.json 2>v.txt
[[ $(cat v.txt) != *"parsing begun"* ]] || fail "parts begun early into a store that exists"
"$PGSIFT" -q --db p1.db ingest -j 1 one.csv one.json
expect_eq "parts begun early: the -j 1 store" "$(dump p1.db decoded | round9)" \
  "$(dump p2.db decoded | round9)"
rm -f p1.db* p2.db*
"$PGSIFT" -q --db p1.db ingest -j 1 --keep-literals one.csv
"$PGSIFT" -q --db p2.db ingest -j 2 --keep-literals one.csv
expect_eq "parts begun early, --keep-literals: the -j 1 store" "$(dump p1.db decoded | round9)" \
  "$(dump p2.db decoded | round9)"
PGSIFT_DB=p2.db store_query "SELECT count(*) FROM queries WHERE sample LIKE '%''%'" |
  grep -qv '^0$' || fail "--keep-literals with parts: no sample kept its literals"

# A file that grows between runs continues in parts from where the first run stopped.
unset SIFT_TEST_BATCH_BYTES
export SIFT_TEST_PART_BYTES=5000
head -c 200000 one.csv | sed '$d' >grow.csv
rm -f p1.db* p2.db*
"$PGSIFT" -q --db p2.db ingest -j 2 grow.csv
cat one.csv >grow.csv
"$PGSIFT" -q --db p2.db ingest -j 2 grow.csv
"$PGSIFT" -q --db p1.db ingest -j 1 one.csv
# (another file: its inode and its birth time, the last column)
inode() { sed -E 's/^([0-9]+\|grow\.csv\|[0-9]+\|)[0-9]+/\1(inode)/; /^[0-9]+\|grow\.csv\|/ s/\|[0-9]+$/|(born)/'; }
expect_eq "parts: a grown file continues where it stopped" \
  "$(dump p1.db decoded | round9 | sed 's/one\.csv/grow.csv/g' | inode)" "$(dump p2.db decoded | round9 | inode)"
unset SIFT_TEST_PART_BYTES

# Samples do not depend on the order readers commit in: an older, long file and a newer,
# short one read at once (the short one commits first) keep the samples of -j 1 - the
# earliest occurrence of each statement and of each error (hand-made lines).
{
  printf '2026-11-25 10:00:00.000 UTC [7] LOG:  duration: 1.000 ms  statement: select 1\n'
  printf '2026-11-25 10:00:00.100 UTC [7] ERROR:  deadlock detected\n'
  printf '2026-11-25 10:00:00.100 UTC [7] DETAIL:  Process 7 waits for ShareLock on transaction 1; blocked by process 8.\n'
  for ((i = 0; i < 40000; i++)); do
    printf '2026-11-25 10:00:01.000 UTC [7] LOG:  duration: 1.000 ms  statement: SELECT a%d FROM t\n' $((i % 50))
  done
} >older.log
{
  printf '2026-11-25 10:00:30.000 UTC [9] ERROR:  deadlock detected\n'
  printf '2026-11-25 10:00:30.000 UTC [9] DETAIL:  Process 9 waits for ShareLock on transaction 2; blocked by process 10.\n'
  printf '2026-11-25 10:00:40.000 UTC [9] LOG:  duration: 1.000 ms  statement: SELECT   1\n'
} >newer.log
touch -d '2 hours ago' older.log && touch -d '1 hour ago' newer.log
samples() {
  sqlite3 "$1" "SELECT fingerprint, sample FROM queries ORDER BY 1; SELECT bucket, message, sample FROM error_stats ORDER BY 1, 2"
}
rm -f s1.db* s2.db*
"$PGSIFT" -q --db s1.db ingest -j 1 --prefix '%m [%p] ' older.log newer.log
"$PGSIFT" -q --db s2.db ingest -j 2 --prefix '%m [%p] ' older.log newer.log
expect_contains "$(samples s1.db)" "|select \$1"
expect_contains "$(samples s1.db)" "Process 7 waits for ShareLock on transaction 1; blocked by process 8."
expect_eq "-j 2: the samples of -j 1" "$(samples s1.db)" "$(samples s2.db)"
# and the other way round: the short file read first, then the long one
rm -f s3.db*
"$PGSIFT" -q --db s3.db ingest --prefix '%m [%p] ' newer.log
"$PGSIFT" -q --db s3.db ingest --prefix '%m [%p] ' older.log
expect_eq "newer file first: the samples of -j 1" "$(samples s1.db)" "$(samples s3.db)"

# One normalizer per reader: its fingerprint cache serves every source the reader reads
# (every statement of two.csv was already in one.csv).
unset SIFT_TEST_BATCH_BYTES
rm -f c.db*
"$PGSIFT" -v --db c.db ingest one.csv two.csv 2>v1.txt
expect_contains "$(grep 'one.csv: fingerprint cache' v1.txt)" "texts"
expect_contains "$(grep 'two.csv: fingerprint cache' v1.txt)" " 0 misses"
pass
