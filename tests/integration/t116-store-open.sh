#!/usr/bin/env bash
# Every command that opens a store refuses and upgrades it the same way: the alert
# commands (`pgsift alerts`, `silence`, `rules eval`), which open their own connection to
# the store's file, move an old store's data as `pgsift ingest` does, and leave somebody
# else's SQLite file and a newer pgsift's store untouched (not even its journal mode).
# Several first runs at once on a store that does not exist yet all succeed.
# timeout: 180
. "$(dirname "$0")/lib.sh"
need_cmd sqlite3 md5sum
fixture_clock
csv="$SIFT_SOURCE_DIR/tests/fixtures/pg15/verbose-errors/postgresql.csv"
"$PGSIFT" -q --db ref.db ingest --no-progress "$csv"
events() { "$PGSIFT" --db "$1" events --limit 0 --format json | jq .total; }
want=$(events ref.db)
((want > 100)) || fail "too few events in the reference store: $want"

# A version-5 store (events as rows, plan records as rows) opened first by an alert
# command: its rows are moved into blocks, not left behind.
for cmd in "alerts" "silence list"; do
  cp ref.db v5.db
  "$SIFT_TEST_TOOL" events-downgrade v5.db
  "$SIFT_TEST_TOOL" plan-calls-downgrade v5.db
  # shellcheck disable=SC2086
  "$PGSIFT" --db v5.db $cmd >/dev/null
  expect_eq "'$cmd' upgraded a version-5 store with its events" "$want" "$(events v5.db)"
  # (every column a version-5 store has: the facts of schema 17 were never in it)
  expect_eq "'$cmd': every event, every column" \
    "$("$SIFT_TEST_TOOL" events-dump --old-columns ref.db)" \
    "$("$SIFT_TEST_TOOL" events-dump --old-columns v5.db)"
  expect_eq "'$cmd': plan records moved" \
    "$(sqlite3 ref.db 'SELECT count(*), sum(length(data)) FROM plan_call_blocks')" \
    "$(sqlite3 v5.db 'SELECT count(*), sum(length(data)) FROM plan_call_blocks')"
  rm -f v5.db*
done

# Somebody else's database (rollback journal): every command refuses it, and the file
# is the same bytes afterwards, still in its own journal mode.
sqlite3 app.db "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers VALUES (1, 'x');"
sum=$(md5sum <app.db)
printf 'version: 1\nrules:\n  - {name: errs, kind: threshold, source: errors, metric: count, window: 1m, condition: ">= 1"}\n' >r.yaml
for cmd in "ingest --no-progress $csv" "alerts" "silence list" "silence add --for 1h --comment x rule=errs" \
  "rules eval r.yaml" "top" "events"; do
  # shellcheck disable=SC2086
  out=$("$PGSIFT" --db app.db $cmd 2>&1) && fail "'$cmd' accepted somebody else's database: $out"
  expect_contains "$out" "'app.db' is an SQLite database but not a pgsift store"
  expect_eq "'$cmd': the file unchanged" "$sum" "$(md5sum <app.db)"
  [[ ! -e app.db-wal ]] || fail "'$cmd' left a WAL file beside somebody else's database"
done
expect_eq "still in its own journal mode" delete "$(sqlite3 app.db 'PRAGMA journal_mode')"

# A store of a newer pgsift: refused by all, unchanged.
cp ref.db new.db
sqlite3 new.db "PRAGMA user_version = 999"
sum=$(md5sum <new.db)
for cmd in "alerts" "silence add --for 1h --comment x rule=errs" "rules eval r.yaml" "ingest --no-progress $csv"; do
  # shellcheck disable=SC2086
  out=$("$PGSIFT" --db new.db $cmd 2>&1) && fail "'$cmd' wrote to a newer store: $out"
  expect_contains "$out" "has schema version 999, newer than this pgsift knows"
done
expect_eq "the newer store: no silence written" 0 "$(sqlite3 new.db 'SELECT count(*) FROM silences')"

# A directory given as the store: said so, by every command.
mkdir dir.db
for cmd in "top" "events" "alerts" "ingest --no-progress $csv"; do
  # shellcheck disable=SC2086
  out=$("$PGSIFT" --db dir.db $cmd 2>&1) && fail "'$cmd' accepted a directory"
  expect_contains "$out" "cannot open store 'dir.db': Is a directory"
done

# A device given as the store (--db /dev/null): refused by every command, before SQLite
# opens it, and left as it was.
if mknod dev.db c 1 3 2>/dev/null; then
  chmod 666 dev.db
  for cmd in "top" "events" "alerts" "silence list" "ingest --no-progress $csv"; do
    # shellcheck disable=SC2086
    out=$("$PGSIFT" --db dev.db $cmd 2>&1) && fail "'$cmd' accepted a device"
    expect_contains "$out" "cannot open store 'dev.db': not a regular file"
  done
  expect_eq "the device's mode" "crw-rw-rw-" "$(stat -c %A dev.db)"
fi

# First runs at once on a store that does not exist: none fails ("database is locked"
# from entering WAL mode while another creates it, or "not a pgsift store" from
# reading the half-made store's version and tables apart).
: >empty.csv
for round in $(seq 1 25); do
  rm -f n.db n.db-wal n.db-shm
  pids=()
  for k in 1 2 3 4; do
    "$PGSIFT" -q --db n.db ingest --no-progress empty.csv 2>"e$k" &
    pids+=($!)
  done
  # (each by its pid, with its exit code: a `wait -n` here once failed with no message)
  for k in 1 2 3 4; do
    rc=0
    wait "${pids[k - 1]}" || rc=$?
    ((rc == 0)) || fail "round $round: first run $k exited $rc: $(cat "e$k")"
  done
done
pass
