#!/usr/bin/env bash
# Supabase exports of overlapping time windows hold the same events: each is counted once,
# by its `id` (docs/store.md "Exactly once", docs/supabase.md). Exports in every shape
# (the API's {"result": [...]}, the Explorer's CSV download, drain NDJSON, a pretty array
# holding two pages that overlap), read one by one, together with -j 2 and small batches
# (two readers holding the same record at once: the second commit is refused as stale and
# read again), and again unchanged: the store always equals one run over the 400 events.
# The inputs are HAND-MADE from the documented shapes (formats.md section 9): we have no
# real Supabase export.
# timeout: 300
. "$(dirname "$0")/lib.sh"
fixture_clock # dated data: on the real clock, weeks later, it would be rolled up or expired
need_cmd sqlite3
need_cmd python3

python3 - <<'PY'
import csv, io, json
rows = []
for i in range(400):
    sev = "ERROR" if i % 7 == 3 else "LOG"
    msg = ("duplicate key value violates unique constraint \"users_email_key\"" if sev == "ERROR"
           else "duration: %d.%03d ms  statement: select id, v from t%d where id = %d" % (i % 50, i, i % 3, i))
    parsed = {"timestamp": "2026-11-24 17:%02d:%02d.%03d UTC" % (i // 60, i % 60, i % 1000),
              "error_severity": sev, "sql_state_code": "23505" if sev == "ERROR" else "00000",
              "process_id": 3000 + i, "user_name": "authenticator", "database_name": "postgres",
              "application_name": "postgrest", "session_id": "6b05c86d.%x" % i}
    rows.append({"id": "5f3c%04d-7d1e-4a6b-9c1d-%012d" % (i, i), "timestamp": 1795539600000000 + i * 1000000,
                 "event_message": msg, "metadata": [{"host": "db-abc", "parsed": [parsed]}]})

def api(rs, name):
    open(name, "w").write(json.dumps({"result": rs, "error": None}, indent=2) + "\n")

def explorer_csv(rs, name):
    out = io.StringIO()
    w = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    w.writerow(["timestamp", "id", "event_message", "metadata"])
    for r in rs:
        w.writerow([r["timestamp"], r["id"], r["event_message"], json.dumps(r["metadata"])])
    open(name, "w", encoding="utf-8").write("\ufeff" + out.getvalue())

def drain(rs, name):
    with open(name, "w") as f:
        for r in rs:
            f.write(json.dumps(dict(r, metadata={"host": "db-abc",
                                                 "parsed": r["metadata"][0]["parsed"][0]})) + "\n")

api(rows, "all.json")
api(rows[0:250], "page1.json")
explorer_csv(rows[150:400], "download.csv")
drain(rows[100:320], "drain.ndjson")
open("pages.json", "w").write(json.dumps(rows[0:250] + rows[200:400], indent=2) + "\n")
PY

state() { # DB: calls and time per statement, errors, events, record ids
  "$PGSIFT" --db "$1" top --format json --limit 0 |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(sorted((q["query"], q["calls"], round(q["total_ms"], 3)) for q in d["queries"]))'
  sqlite3 -separator '|' "$1" "SELECT 'errors', sqlstate, sum(count) FROM error_stats GROUP BY sqlstate"
  sqlite3 -separator '|' "$1" "SELECT 'records', kind, sum(count) FROM record_stats GROUP BY kind"
  "$PGSIFT" --db "$1" events --since 2026-11-24T00:00:00Z --until 2026-11-25T00:00:00Z --format csv | wc -l
  sqlite3 "$1" "SELECT 'ids', count(*) FROM record_ids"
}

"$PGSIFT" -q --db ref.db ingest all.json
state ref.db >ref.txt
expect_contains "$(cat ref.txt)" "ids|400"
expect_contains "$(cat ref.txt)" "errors|23505|57"

# One by one: the summary says how many were seen before.
out=$("$PGSIFT" --db one.db ingest page1.json download.csv drain.ndjson 2>&1)
expect_contains "$out" "ingested 400 records from 3 sources"
expect_contains "$out" "; 320 records already counted (the same Supabase id, in overlapping exports)"
expect_eq "exports one by one = one export" "$(cat ref.txt)" "$(state one.db)"
"$PGSIFT" -q --db one.db ingest page1.json download.csv drain.ndjson pages.json
expect_eq "again, and the overlapping pages" "$(cat ref.txt)" "$(state one.db)"

# Through a pipe (no position is kept): ids still count once, and the summary says how
# many were already counted (it said nothing, and the note said all lines count again).
# shellcheck disable=SC2002 # (a pipe, not a file on stdin: that one has a position)
out=$(cat drain.ndjson | "$PGSIFT" --db one.db ingest - 2>&1)
expect_contains "$out" "ingested 0 records from 1 source"
expect_contains "$out" "; 220 records already counted (the same Supabase id"
expect_contains "$out" "but for records with an id of their own (Supabase)"
expect_eq "a pipe of exports read before" "$(cat ref.txt)" "$(state one.db)"

# An id written as a JSON number is the same id as its text (HAND-MADE edge case: real
# ids are UUID strings); rows without an id all count.
python3 - <<'PY'
import json
ev = lambda i, idv: json.dumps(dict({"timestamp": 1795539600000000 + i, "event_message": "connection received: host=[local]",
    "metadata": {"parsed": {"error_severity": "LOG", "process_id": 100 + i, "timestamp": "2026-11-24 17:00:%02d.000 UTC" % i}}},
    **({} if idv is None else {"id": idv})))
open("num.ndjson", "w").write("\n".join([ev(1, 12345), ev(1, "12345"), ev(2, 12345), ev(3, None), ev(3, None), ev(4, "")]) + "\n")
PY
out=$("$PGSIFT" --db num.db ingest num.ndjson 2>&1)
expect_contains "$out" "ingested 4 records"
expect_contains "$out" "; 2 records already counted"

# Two pages that overlap, in one file.
"$PGSIFT" -q --db pages.db ingest pages.json
expect_eq "overlapping pages in one file" "$(cat ref.txt)" "$(state pages.db)"

# Two readers, small batches, in both orders: the same records meet at once.
for order in "page1.json download.csv drain.ndjson pages.json" "pages.json drain.ndjson download.csv page1.json"; do
  for round in 1 2 3; do
    rm -f par.db*
    # shellcheck disable=SC2086
    SIFT_TEST_BATCH_BYTES=4096 "$PGSIFT" -q --db par.db ingest -j 2 $order
    expect_eq "-j 2 ($order, round $round)" "$(cat ref.txt)" "$(state par.db)"
  done
done

# pgsift tail over a directory of them (a drain capture beside exports): the same, said.
mkdir -p drains && cp drain.ndjson page1.json drains/
touch -d '10 minutes ago' drains/*
"$PGSIFT" --db tail.db tail --once --format supabase drains 2>tail.err || fail "tail --once"
expect_contains "$(cat tail.err)" "records already counted (the same Supabase id, in overlapping exports)"
"$PGSIFT" -q --db tail.db ingest download.csv
expect_eq "tail, then ingest" "$(cat ref.txt)" "$(state tail.db)"

# pgsift tail reading a drain capture while pgsift ingest commits overlapping exports
# with small batches: a commit that meets ids the other committed since it looked is
# refused (stale) and read again, by either of them; the store ends as one run's. The
# race is rare, so each also has one commit refused on purpose (SIFT_TEST_STALE_AT): the
# tail's first (it may have only one: a batch of records all counted before holds
# nothing until the file's end), and ingest's first, second or third. The tail's file
# is read again then, and ingest reads its source again.
mkdir -p live
drained() {
  [[ $(sqlite3 race.db "SELECT count(*) FROM sources WHERE name LIKE '%drain.ndjson'
                        AND offset = $(stat -c %s live/drain.ndjson)" 2>/dev/null) = 1 ]]
}
for round in 1 2 3; do
  rm -f race.db* live/*
  cp drain.ndjson live/
  cat >race.yaml <<YAML
sources:
  - name: drains
    path: $PWD/live
    format: supabase
tail:
  commit_records: 7
  commit_interval: 50ms
YAML
  rm -f race.err
  SIFT_TEST_STALE_AT=1 "$PGSIFT" -v --db race.db tail --config race.yaml >race.err 2>&1 &
  tail_pid=$!
  trap 'rc=$?; kill -KILL $tail_pid 2>/dev/null; (exit $rc); _sift_cleanup' EXIT
  SIFT_TEST_STALE_AT=$round SIFT_TEST_BATCH_BYTES=2048 \
    "$PGSIFT" -q --db race.db ingest -j 2 page1.json download.csv
  # (the daemon has read the whole capture once its source row stands at the end)
  wait_for 30 drained
  kill -TERM $tail_pid
  wait $tail_pid || fail "pgsift tail exited $?"
  trap _sift_cleanup EXIT
  expect_eq "tail and ingest at once (round $round)" "$(cat ref.txt)" "$(state race.db)"
  expect_contains "$(cat race.err)" "committed some of the same records at the same time"
done

# The ids go with the data they stand for: the roll-up deletes them once nothing of their
# time is kept (here: retention of 1 day, a clock a year on).
cat >short.yaml <<'YAML'
retention:
  minutes: 1d
  hours: 1d
  days: 1d
  events: 1d
YAML
SIFT_TEST_NOW=2027-12-01T00:00:00Z "$PGSIFT" -q --db one.db ingest --config short.yaml all.json
expect_eq "ids past the retention" "0" "$(sqlite3 one.db 'SELECT count(*) FROM record_ids')"
# ...counted from when they were read, not from the records' time: records older than the
# retention, read twice an hour apart, count once (QA 19: they were deleted at once).
cat >keep.yaml <<'YAML'
retention:
  minutes: 1d
  hours: 400d
  days: 400d
  events: 400d
YAML
SIFT_TEST_NOW=2026-12-20T00:00:00Z "$PGSIFT" -q --db late.db ingest --config keep.yaml page1.json
SIFT_TEST_NOW=2026-12-20T01:00:00Z "$PGSIFT" -q --db late.db ingest --config keep.yaml download.csv drain.ndjson
expect_eq "old records, read twice an hour apart" "$(sed -n 1p ref.txt)" "$(state late.db | sed -n 1p)"
pass
