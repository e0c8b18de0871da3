#!/usr/bin/env bash
# pgsift ingest exactly once when a file is a SHORTER copy of a stream read past the
# copy's end: (a) `gzip -k` or `cp` of a log that pgsift then read further, both ingested
# in either order; (b) logrotate's copytruncate (Debian's default for PostgreSQL) after
# pgsift read lines written between the copy and the truncation: the .1 (and later its
# .2.gz) holds only bytes read before, the truncated log new ones. Every line once.
# (Before schema 008, the shorter copy was taken as new and read from 0: counted twice.)
. "$(dirname "$0")/lib.sh"
need_cmd sqlite3 gzip
export SIFT_TEST_NOW=2026-11-27T00:00:00Z

# (a) 300 lines read, a copy at 400, the log grown to 500: both read, in either order,
# twice: 500 records.
for kind in gz copy; do
  for order in copy-first plain-first; do
    db=$PWD/a-$kind-$order.db
    rm -rf "a-$kind-$order" && mkdir "a-$kind-$order" && cd "a-$kind-$order"
    snap=$(read_then_copy "$kind" "$db")
    stderr_lines 401 500 >>pg.log
    if [[ $order == plain-first ]]; then
      "$PGSIFT" -q --db "$db" ingest pg.log
      expect_eq "$kind $order: the log read" 500 "$(store_records "$db")"
    fi
    for run in 1 2; do
      if [[ $order == copy-first ]]; then
        "$PGSIFT" -q --db "$db" ingest "$snap" pg.log
      else
        "$PGSIFT" -v --db "$db" ingest pg.log "$snap" 2>"../a-$kind-$run.txt"
        expect_contains "$(cat "../a-$kind-$run.txt")" "'$snap' is a copy of "
        expect_contains "$(cat "../a-$kind-$run.txt")" "2 unchanged"
      fi
      expect_eq "$kind $order, run $run: every record once" 500 "$(store_records "$db")"
    done
    cd ..
  done
done

# copytruncate DIR A B C D: lines 1-A of DIR/postgresql.log read into DIR.db; lines to B
# written; logrotate copies the log to .1; lines to C written and read by pgsift before
# the truncation; the log truncated in place and lines to D written.
copytruncate() {
  local d=$1 inode
  mkdir "$d"
  stderr_lines 1 "$2" >"$d/postgresql.log"
  "$PGSIFT" -q --db "$d.db" ingest "$d"
  stderr_lines $(($2 + 1)) "$3" >>"$d/postgresql.log"
  cp "$d/postgresql.log" "$d/postgresql.log.1"
  stderr_lines $(($3 + 1)) "$4" >>"$d/postgresql.log"
  "$PGSIFT" -q --db "$d.db" ingest "$d/postgresql.log"
  expect_eq "$d: read past the copy" "$4" "$(store_records "$d.db")"
  inode=$(stat -c %i "$d/postgresql.log")
  : >"$d/postgresql.log" # truncate in place, as copytruncate does
  stderr_lines $(($4 + 1)) "$5" >>"$d/postgresql.log"
  expect_eq "$d: truncated in place" "$inode" "$(stat -c %i "$d/postgresql.log")"
}

# (b) copytruncate: 300 lines read, 100 more, the copy, 50 more read, the truncation, 50
# new lines. The directory read twice, then with .1 compressed to .2.gz (rotated once
# more): every line once, 500.
copytruncate b 300 400 450 500
for run in 1 2; do
  "$PGSIFT" -v --db b.db ingest b 2>"b-$run.txt"
  expect_eq "copytruncate, run $run: every line once" 500 "$(store_records b.db)"
  expect_contains "$(cat "b-$run.txt")" "'b/postgresql.log.1' is a copy of "
done
expect_contains "$(cat b-1.txt)" "'b/postgresql.log' was truncated or replaced"
gzip -c b/postgresql.log.1 >b/postgresql.log.2.gz && rm b/postgresql.log.1
stderr_lines 501 520 >>b/postgresql.log
for run in 1 2; do
  "$PGSIFT" -q --db b.db ingest b
  expect_eq "copytruncate, .2.gz, run $run: every line once" 520 "$(store_records b.db)"
done
# (c) The same with a log under 4 KiB (a quiet server's), whose head pgsift stored is
# longer than the copy: no stored head is the copy's first bytes, but the mark of the
# first commit (lines 1-10, all the bytes before it) is (schema 011). Every line once,
# plain and gzipped. (Before, the copy was read again: 35 records.)
copytruncate c 10 15 18 20
(($(stat -c %s c/postgresql.log.1) < 4096)) || fail "the copy is not under 4 KiB"
for run in 1 2; do
  "$PGSIFT" -v --db c.db ingest c 2>"c-$run.txt"
  expect_eq "small copytruncate, run $run: every line once" 20 "$(store_records c.db)"
  expect_contains "$(cat "c-$run.txt")" "'c/postgresql.log.1' is a copy of "
done
gzip c/postgresql.log.1
"$PGSIFT" -v --db c.db ingest c 2>c-gz.txt
expect_eq "small copytruncate, .gz: every line once" 20 "$(store_records c.db)"
expect_contains "$(cat c-gz.txt)" "'c/postgresql.log.1.gz' is a copy of "
# A small file that starts with other lines is read as new (two records more).
{ stderr_lines 101 102; stderr_lines 1 10; } >c/other.log
"$PGSIFT" -q --db c.db ingest c/other.log
expect_eq "a small file of other first lines" 32 "$(store_records c.db)"

# The kept marks of a stream stay bounded however many commits it has.
max=$(PGSIFT_DB=b.db store_query "SELECT max(n) FROM (SELECT count(*) AS n FROM source_marks GROUP BY source)")
((max >= 1 && max <= 32)) || fail "marks kept per stream: $max"
pass
