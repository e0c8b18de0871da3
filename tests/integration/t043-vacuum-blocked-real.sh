#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A real PostgreSQL server's autovacuum that cannot remove dead tuples: a session holds
# a REPEATABLE READ snapshot while 150 000 rows are deleted, so autovacuum reports them
# as "dead but not yet removable". pgsift stores that number (tuples_dead) with the table
# and the run's pages, buffers and WAL; pgsift parse prints the same; the report counts
# it; and the shipped rule vacuum_blocked fires for that table.
# labels: pg
# timeout: 240
. "$(dirname "$0")/lib.sh"
. "$SIFT_SOURCE_DIR/scripts/lib/pg.sh"
need_cmd jq
pg_server \
  "log_destination = 'csvlog'" \
  "log_autovacuum_min_duration = 0" \
  "autovacuum_naptime = 1"

pg_sql postgres 'CREATE TABLE bloat (id int) WITH (autovacuum_vacuum_threshold = 1000,
  autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_insert_threshold = -1)' >/dev/null
pg_sql postgres 'INSERT INTO bloat SELECT g FROM generate_series(1, 150000) g' >/dev/null

# A snapshot held open (the xmin horizon), then every row deleted.
pg_sql postgres 'BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM bloat;
  SELECT pg_sleep(120); COMMIT' >/dev/null 2>&1 &
holder=$!
# The session is asleep in pg_sleep with an xmin: its count(*) took the snapshot. (A
# session only 'active' may not have taken it yet; a DELETE that slipped in first would
# be vacuumed away, as CI once saw.)
holding() {
  [[ -n $(pg_sql postgres "SELECT pid FROM pg_stat_activity
    WHERE query LIKE 'BEGIN ISOLATION LEVEL REPEATABLE READ%' AND state = 'active'
      AND wait_event = 'PgSleep' AND backend_xmin IS NOT NULL") ]]
}
pg_wait_for 30 holding || fail "no session holds a snapshot"
pg_sql postgres 'DELETE FROM bloat' >/dev/null
blocked() {
  grep -q 'automatic vacuum of table ""postgres.public.bloat"".*' "$PG_LOGDIR"/postgresql.csv &&
    grep -Eq 'tuples: 0 removed, [0-9]+ remain, 150000 are dead but not yet removable' \
      "$PG_LOGDIR"/postgresql.csv
}
if ! pg_wait_for 60 blocked; then
  grep -A3 'automatic vacuum of table ""postgres.public.bloat""' "$PG_LOGDIR"/postgresql.csv >&2 ||
    pg_sql postgres "SELECT n_dead_tup, last_autovacuum, autovacuum_count FROM pg_stat_user_tables
      WHERE relname = 'bloat'" >&2 || true
  fail "autovacuum logged no dead tuples it could not remove (its runs of bloat above)"
fi
pg_sql postgres "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
  WHERE query LIKE 'BEGIN ISOLATION LEVEL REPEATABLE READ%'" >/dev/null
wait "$holder" 2>/dev/null || true
pg_stop

SIFT_TEST_NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
export SIFT_TEST_NOW
"$PGSIFT" -q ingest --no-progress "$PG_LOGDIR"/postgresql.csv
runs=$("$PGSIFT" events --kind autovacuum --format json --limit 0 |
  jq -c '.events[] | select(.relation == "postgres.public.bloat" and .tuples_dead == 150000)')
[[ -n $runs ]] || fail "no stored autovacuum of postgres.public.bloat with 150000 dead tuples"
first=$(head -1 <<<"$runs")
expect_eq "the blocked run: nothing removed, its pages, buffers and WAL stored" \
  "0 true true true true" \
  "$(jq -r '"\(.tuples_removed) \(.pages_remain > 0) \(.pages_scanned > 0) \(.buffer_hits + .buffer_misses > 0) \(.wal_bytes >= 0)"' <<<"$first")"
# pgsift parse gives the same facts for the same record.
src=$(jq -r '.src' <<<"$first")
expect_eq "parse: the same facts" "$(jq -cS 'del(.ts, .message)' <<<"$first" |
  jq -cS 'with_entries(select(.key | IN("relation","tuples_dead","tuples_removed",
    "pages_remain","pages_scanned","buffer_hits","buffer_misses","wal_bytes")))')" \
  "$("$PGSIFT" parse "$PG_LOGDIR"/postgresql.csv | jq -cS --arg s "$src" 'select(.src == $s) |
    with_entries(select(.key | IN("relation","tuples_dead","tuples_removed",
    "pages_remain","pages_scanned","buffer_hits","buffer_misses","wal_bytes")))')"

# The report counts the dead tuples of the period.
"$PGSIFT" report --since "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)" \
  --until "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)" --format json >r.json
expect_eq "report: dead tuples not yet removable, at most" 150000 \
  "$(jq '.autovacuum.tuples_dead.max' r.json)"
expect_eq "report: the table they were in" "postgres.public.bloat 150000" \
  "$(jq -r '.autovacuum.by_relation[] | select(.kind == "vacuum" and .max_tuples_dead > 0) |
    "\(.relation) \(.max_tuples_dead)"' r.json)"

# The shipped rule fires for that table.
out=$("$PGSIFT" rules test --until "$(date -u -d '+2 min' +%Y-%m-%dT%H:%M:00Z)" \
  "$SIFT_SOURCE_DIR/rules/events.yaml" 2>/dev/null)
grep -Eq ' firing +vacuum_blocked +warning .*relation=postgres\.public\.bloat$' <<<"$out" ||
  fail "vacuum_blocked did not fire for postgres.public.bloat: $out"
pass
