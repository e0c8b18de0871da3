#!/usr/bin/env bash
# pgsift ingest exactly once when copies of a stream exist side by side (a plain log
# gzipped with `gzip -k`, or copied, after it grew past what was read), and for a
# directory of many small logs (each under 4 KiB, all of other lengths: more distinct
# head lengths than store_source_find once looked at) read twice; two runs on one new
# file at the same time (stored once, each summary counts what it committed).
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

# Two runs on one new file at the same time (the store's write lock held while both
# start): one stores it, the other is refused at its commit and its summary counts what
# it committed, nothing (it said what it had parsed before).
stderr_lines 1 300 >both.log
"$PGSIFT" -q --db both.db ingest /dev/null
(printf 'BEGIN IMMEDIATE;\nCREATE TABLE hold(x);\n.shell sleep 3\nROLLBACK;\n' | sqlite3 both.db) &
sleep 0.5
"$PGSIFT" --db both.db ingest both.log 2>both1.txt &
"$PGSIFT" --db both.db ingest both.log 2>both2.txt &
wait
expect_eq "two runs at once: stored once" 300 "$(store_records both.db)"
sum=$(cat both1.txt both2.txt)
expect_contains "$sum" "is being ingested by another pgsift at the same time: left to it"
expect_contains "$sum" "ingested 300 records from 1 source"
expect_contains "$sum" "ingested 0 records from 0 sources"
pass
