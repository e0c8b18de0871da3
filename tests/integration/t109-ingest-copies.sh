#!/usr/bin/env bash
# pgsift ingest exactly once when copies of a stream exist side by side (a plain log
# gzipped with `gzip -k`, or copied, after it grew past what was read), and for a
# directory of many small logs (each under 4 KiB, all of other lengths: more distinct
# head lengths than store_source_find once looked at) read twice; copies never read
# before, given together to -j 2 and -j 4 (read by two readers at once: stored once); two
# runs on one new file, or on two copies, at the same time (stored once, each summary
# counts what it committed).
. "$(dirname "$0")/lib.sh"
need_cmd sqlite3 gzip
export SIFT_TEST_NOW=2026-11-27T00:00:00Z

# A copy of a stream read before (gzip -k, cp) holds nothing new: both are read, in
# either order, and again. (A copy SHORTER than what was read - a snapshot taken while the
# plain file grew - is t111's.)
for kind in gz copy; do
  for order in copy-first plain-first; do
    db=$kind-$order.db
    rm -rf "$kind-$order" && mkdir "$kind-$order" && cd "$kind-$order"
    snap=$(read_then_copy "$kind" "../$db")
    for run in 1 2; do
      if [[ $order == copy-first ]]; then
        "$PGSIFT" -q --db "../$db" ingest "$snap" pg.log
      else
        "$PGSIFT" -q --db "../$db" ingest pg.log "$snap"
      fi
      expect_eq "$kind $order, run $run: every record once" 400 "$(store_records "../$db")"
    done
    cd ..
  done
done

# Many small files, each of another length under 4 KiB: the second run reads nothing.
mkdir small
for ((i = 1; i <= 80; i++)); do
  stderr_lines $((i * 1000)) $((i * 1000 + (i + 1) / 2 - 1)) >small/log$i.log
  ((i % 2)) || printf '2026-11-25 00:00:00 UTC [1] LOG:  x\n' >>small/log$i.log
done
"$PGSIFT" -q --db small.db ingest small
want=$(store_records small.db)
((want == 1680)) || fail "small files: $want records"
"$PGSIFT" --db small.db ingest small 2>small.txt
expect_eq "small files read twice: once" "$want" "$(store_records small.db)"
expect_contains "$(cat small.txt)" "80 unchanged"

# Copies never read before, read at the same time by the readers of -j N: a plain file
# and its gzip -k copy, two copies, each in both orders, and a copy of its first half
# (shorter, older: read first by -j 1, then the file's tail). Stored once, as -j 1 stores
# them; the reader refused at its first commit looks again once the others are done and
# finds nothing new, or only the tail.
mkdir fresh && cd fresh
stderr_lines 1 400 >pg.log
gzip -k pg.log && cp pg.log copy.log && head -n 200 pg.log >half.log
touch -d '1 hour ago' pg.log pg.log.gz copy.log half.log
for set in "pg.log pg.log.gz" "pg.log.gz pg.log" "pg.log copy.log" "copy.log pg.log" \
  "half.log pg.log" "half.log pg.log copy.log pg.log.gz"; do
  for j in 2 4; do
    rm -f j.db*
    # shellcheck disable=SC2086 # (the set's files)
    "$PGSIFT" --db j.db ingest -j $j $set 2>j.txt
    expect_eq "-j $j $set: every record once" 400 "$(store_records j.db)"
    if [[ $set == half* ]]; then
      expect_contains "$(cat j.txt)" "ingested 400 records from 2 sources"
    else
      expect_contains "$(cat j.txt)" "ingested 400 records from 1 source:"
    fi
    # shellcheck disable=SC2086
    "$PGSIFT" -q --db j.db ingest -j $j $set
    expect_eq "-j $j $set, again: every record once" 400 "$(store_records j.db)"
  done
done
cd ..

# Two runs at the same time (the store's write lock held while both start), on one new
# file and on two copies of it: one stores it, the other is refused at its commit, looks
# again once the first is done and finds nothing new; each summary counts what it
# committed.
stderr_lines 1 300 >both.log
cp both.log both-copy.log
for second in both.log both-copy.log; do
  rm -f both.db* held
  "$PGSIFT" -q --db both.db ingest /dev/null
  # (both runs start while the lock is held: the marker says it is)
  (printf 'BEGIN IMMEDIATE;\nCREATE TABLE hold(x);\n.shell touch held; sleep 3\nROLLBACK;\n' |
    sqlite3 both.db) &
  wait_for 10 test -e held
  "$PGSIFT" --db both.db ingest both.log 2>both1.txt &
  "$PGSIFT" --db both.db ingest "$second" 2>both2.txt &
  wait
  expect_eq "two runs at once on $second: stored once" 300 "$(store_records both.db)"
  sum=$(cat both1.txt both2.txt)
  expect_contains "$sum" "ingested 300 records from 1 source"
  expect_contains "$sum" "ingested 0 records from 0 sources"
done

# logrotate's compress while a cron ingest runs: the log was read whole (one commit) while
# plain, then gzip writes postgresql.csv.1.gz. A run that meets the .gz half written
# (its data ends inside the member, before any mark of the stream) leaves it until it is
# complete; it was read from its start as a new stream: every record in it counted twice.
F=$SIFT_SOURCE_DIR/tests/fixtures/pg15/text-plans/postgresql.csv
mkdir -p cz/logs && cp "$F" cz/logs/postgresql.csv
"$PGSIFT" -q --db cz.db ingest cz/logs
want=$(PGSIFT_DB=cz.db store_query 'SELECT sum(count) FROM record_stats')
mv cz/logs/postgresql.csv cz/logs/postgresql.csv.1 && : >cz/logs/postgresql.csv
gzip -c cz/logs/postgresql.csv.1 >cz/full.gz
head -c $(($(stat -c %s cz/full.gz) / 3)) cz/full.gz >cz/logs/postgresql.csv.1.gz
"$PGSIFT" --db cz.db ingest cz/logs 2>cz.err
expect_contains "$(cat cz.err)" "'cz/logs/postgresql.csv.1.gz' is still being compressed"
# Quiet for long (gzip was killed): a damaged copy of that log's start, said, not read.
SIFT_TEST_NOW=2026-12-31T00:00:00Z "$PGSIFT" --db cz.db ingest cz/logs 2>cz2.err
expect_contains "$(cat cz2.err)" "'cz/logs/postgresql.csv.1.gz' is cut (its gzip data ends early, and it has been quiet for 300 s)"
expect_eq "a cut copy: counted once" "$want" \
  "$(PGSIFT_DB=cz.db store_query 'SELECT sum(count) FROM record_stats')"
mv cz/full.gz cz/logs/postgresql.csv.1.gz && rm cz/logs/postgresql.csv.1
"$PGSIFT" -q --db cz.db ingest cz/logs
expect_eq "a .gz met half written: counted once" "$want" \
  "$(PGSIFT_DB=cz.db store_query 'SELECT sum(count) FROM record_stats')"

# A .gz that grows by whole gzip members (rsyslog's zipped output, `gzip -c >>`), read
# after each member, members ending inside a line: the line's start waits for its rest
# (it was read as a line, and its rest rejected next run: records lost or wrong).
for fmt in csv log; do
  src=$SIFT_SOURCE_DIR/tests/fixtures/pg15/text-plans/postgresql.$fmt
  rm -rf mm && mkdir mm
  size=$(stat -c %s "$src") off=0
  for k in 1 2 3 4; do
    end=$((size * k / 4 - 37))
    ((k == 4)) && end=$size
    head -c "$end" "$src" | tail -c +$((off + 1)) | gzip -c >>mm/postgresql.$fmt.gz
    off=$end
    "$PGSIFT" -q --db mm-$fmt.db ingest mm
  done
  "$PGSIFT" -q --db mm-ref-$fmt.db ingest "$src"
  q="SELECT (SELECT sum(count) FROM record_stats) || ' ' || (SELECT coalesce(sum(count), 0) FROM rejects) || ' ' || (SELECT sum(calls) FROM query_stats)"
  expect_eq "$fmt: a .gz grown by members" "$(PGSIFT_DB=mm-ref-$fmt.db store_query "$q")" \
    "$(PGSIFT_DB=mm-$fmt.db store_query "$q")"
done
pass
