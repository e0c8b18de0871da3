#!/usr/bin/env bash
# pgsift parse writes the facts classify/ extracted (wait_ms, temp_bytes, a checkpoint's
# WAL files and syncs, an autovacuum's pages, buffers and WAL, ...) under the names that
# pgsift events gives them. For every event of the real PostgreSQL 15 fixtures (csvlog
# and jsonlog), the facts parse writes equal the facts the store returns for the same
# record after pgsift ingest; and pgsift events has no fact this test does not know.
. "$(dirname "$0")/lib.sh"
fixture_clock # dated data: on the real clock, weeks later, it would be rolled up or expired
need_cmd jq

# The fact names, in the order the store lists them (src/store/events.c fact_cols).
names='["wait_ms","lock_mode","lock_object","temp_bytes","temp_path","buffers","write_s",
  "sync_s","total_s","cause","relation","tuples_removed","tuples_remain","elapsed_s","host",
  "step","lock_holders","lock_queue","blocker_pid","distance_kb","port","estimate_kb",
  "wal_added","wal_removed","wal_recycled","sync_files","sync_longest_s","sync_average_s",
  "tuples_dead","index_scans","pages_removed","pages_remain","pages_scanned","buffer_hits",
  "buffer_misses","buffer_dirtied","read_mb_s","write_mb_s","wal_records","wal_fpi",
  "wal_bytes","setup_ms","fork_ms","auth_ms"]'
base='["ts","kind","severity","sqlstate","database","user","application","pid",
  "fingerprint","message","detail","src"]'
# src and the facts of each event, one line each, sorted by src
facts_of() {
  jq -c --argjson n "$names" '{src: .src, f: (. as $e | [$n[] | select($e[.] != null) |
    {(.): $e[.]}] | add // {})}' | sort
}

checked=0
for run in statement-log verbose-errors json-plans text-plans; do
  fx=$(pg15_run "$run")
  for log in postgresql.csv postgresql.json; do
    cp "$fx/$log" "$run-$log"
    "$PGSIFT" parse "$run-$log" |
      jq -c 'select(.kind != "duration" and .kind != "statement" and .kind != "plan")' |
      facts_of >parse.txt
    rm -f s.db s.db-wal s.db-shm
    "$PGSIFT" -q --db s.db ingest --no-progress "$run-$log"
    "$PGSIFT" --db s.db events --format json --limit 0 >events.json
    jq -c '.events[]' events.json | facts_of >store.txt
    expect_eq "$run/$log: the same facts from parse and from the store" \
      "$(cat store.txt)" "$(cat parse.txt)"
    expect_eq "$run/$log: no fact outside the list" "" \
      "$(jq -r --argjson n "$names" --argjson b "$base" \
        '.events[] | keys[] | select(. as $k | ($n + $b | index($k)) == null)' events.json |
        sort -u)"
    checked=$((checked + $(wc -l <parse.txt)))
  done
done
((checked > 500)) || fail "too few events compared: $checked"

# The new facts are there: every completed checkpoint has its WAL files and syncs, every
# PostgreSQL 15 autovacuum its pages and buffers.
fx=$(pg15_run json-plans)
"$PGSIFT" parse "$fx/postgresql.csv" >p.ndjson
expect_eq "checkpoints complete without WAL file counts" 0 \
  "$(jq -c 'select(.kind == "checkpoint" and .step == "end" and
    (.wal_recycled == null or .sync_files == null or .estimate_kb == null))' p.ndjson | wc -l)"
expect_eq "autovacuums without pages or buffers" 0 \
  "$(jq -c 'select(.kind == "autovacuum" and (.pages_scanned == null or
    .buffer_hits == null or .wal_bytes == null or .tuples_dead == null))' p.ndjson | wc -l)"
(($(jq -c 'select(.kind == "autovacuum")' p.ndjson | wc -l) > 0)) || fail "no autovacuum"
pass
