#!/usr/bin/env bash
# pgsift ingest of Supabase exports that grow or are still being written (docs/supabase.md,
# docs/store.md "Exactly once"). Each shape - the Explorer's CSV download (header, a
# statement over several lines in a quoted field), a pretty-printed JSON array, the
# Management API's {"result": [...]} wrapper and drain NDJSON - is appended to in small
# steps with an ingest after each: the resumed runs need the CSV header and the JSON
# scanner's place from before their checkpoint (saved with it), and a record cut at the
# end of the file waits for its rest. The store then equals one run over the whole file,
# and a run over the unchanged file changes nothing. The inputs are HAND-MADE from the
# documented shapes (formats.md section 9): we have no real Supabase export.
# timeout: 300
. "$(dirname "$0")/lib.sh"
need_cmd sqlite3
need_cmd python3
unset SIFT_TEST_NOW # the real clock: the files written here are live

python3 - <<'EOF'
import csv, io, json
rows = []
for i in range(24):
    sev = "ERROR" if i % 7 == 3 else "LOG"
    msg = ("duplicate key value violates unique constraint \"users_email_key\"" if sev == "ERROR"
           else "duration: %d.%03d ms  statement: select id,\n  v from t%d where id = %d" % (i, i, i % 3, i))
    parsed = {"timestamp": "2026-11-24 17:%02d:%02d.%03d UTC" % (25 + i // 60, i % 60, i),
              "error_severity": sev, "sql_state_code": "23505" if sev == "ERROR" else "00000",
              "process_id": 3000 + i, "user_name": "authenticator", "database_name": "postgres",
              "application_name": "postgrest", "session_id": "6b05c86d.%x" % i}
    rows.append({"id": "id-%d" % i, "timestamp": 1795541101000000 + i * 1000000,
                 "event_message": msg, "metadata": [{"host": "db-abc", "parsed": [parsed]}]})
# The Explorer's CSV download: BOM, every field quoted, metadata as JSON text.
out = io.StringIO()
w = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
w.writerow(["timestamp", "id", "event_message", "metadata"])
for r in rows:
    w.writerow([r["timestamp"], r["id"], r["event_message"], json.dumps(r["metadata"])])
open("export.csv", "w", encoding="utf-8").write("\ufeff" + out.getvalue())
open("array.json", "w").write(json.dumps(rows, indent=2) + "\n")
open("api.json", "w").write(json.dumps({"result": rows, "error": None}, indent=2) + "\n")
with open("drain.ndjson", "w") as f:
    for r in rows:
        d = dict(r, metadata={"host": "db-abc", "parsed": r["metadata"][0]["parsed"][0]})
        f.write(json.dumps(d) + "\n")
EOF

state() { # DB: calls and time per statement, records, rejects, errors
  "$PGSIFT" --db "$1" top --format json --limit 0 |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(sorted((q["query"], q["calls"], round(q["total_ms"], 3)) for q in d["queries"]))'
  sqlite3 -separator '|' "$1" "SELECT 'records', coalesce(sum(records), 0) FROM sources"
  sqlite3 -separator '|' "$1" "SELECT 'rejects', coalesce(sum(count), 0) FROM rejects"
  sqlite3 -separator '|' "$1" "SELECT 'errors', sqlstate, sum(count) FROM error_stats GROUP BY sqlstate"
}

for f in export.csv array.json api.json drain.ndjson; do
  "$PGSIFT" -q --db "ref-$f.db" ingest "$f"
  state "ref-$f.db" >"ref-$f.txt"
  expect_contains "$(cat "ref-$f.txt")" "records|24"
  expect_contains "$(cat "ref-$f.txt")" "rejects|0"

  # Grown in 173-byte steps (cuts inside lines, strings, records and the header), an
  # ingest after each.
  mkdir -p "grow-$f" && : >"grow-$f/$f"
  size=$(stat -c %s "$f")
  for ((at = 0; at < size; at += 173)); do
    dd if="$f" bs=173 skip=$((at / 173)) count=1 status=none >>"grow-$f/$f"
    "$PGSIFT" -q --db "grow-$f.db" ingest "grow-$f/$f" || fail "$f: ingest at $at exited $?"
  done
  cmp -s "$f" "grow-$f/$f" || fail "$f: the grown copy differs"
  expect_eq "$f: grown in steps = one run" "$(cat "ref-$f.txt")" "$(state "grow-$f.db")"

  # Unchanged, then no longer live (a last line without a newline is read then): the
  # same store.
  "$PGSIFT" -q --db "grow-$f.db" ingest "grow-$f/$f"
  touch -d '10 minutes ago' "grow-$f/$f"
  "$PGSIFT" -q --db "grow-$f.db" ingest "grow-$f/$f"
  expect_eq "$f: re-read unchanged" "$(cat "ref-$f.txt")" "$(state "grow-$f.db")"
done

# A pretty-printed export cut inside a record while it is written: said, in words that
# fit JSON (they spoke of a quoted field).
head -n 40 api.json >half.json
out=$("$PGSIFT" --db half.db ingest half.json 2>&1)
expect_contains "$out" "'half.json': its last record is not complete yet (a quoted field or a JSON object is still open)"

# Exports with no record (the Explorer's CSV of a quiet window: its header alone; an API
# page of one) are new empty sources, not "unchanged" ones.
head -n 1 export.csv >header-only.csv
printf '{"result": [], "error": null}\n' >quiet.json
touch -d '10 minutes ago' header-only.csv quiet.json
out=$("$PGSIFT" --db quiet.db ingest header-only.csv quiet.json 2>&1)
expect_contains "$out" "ingested 0 records from 0 sources"
expect_contains "$out" "; 2 empty"
expect_not_contains "$out" "unchanged"

# A JSON export without a final newline (json.dump, a saved API response), complete: read
# once, and a second run adds no reject for its closing bracket.
head -c -1 api.json >nonl.json
touch -d '10 minutes ago' nonl.json
"$PGSIFT" -q --db nonl.db ingest nonl.json
"$PGSIFT" -q --db nonl.db ingest nonl.json
expect_eq "no final newline: re-read" "$(cat ref-api.json.txt)" "$(state nonl.db)"

# A drain capture that brought only other products' events since the last run (QA 20,
# hand-made lines of the documented shape): their rejects are stored and the file is
# marked read, once - not "no record could be parsed" (exit 3) at every run.
pg='{"id":"a","timestamp":1795541101000000,"event_message":"checkpoint starting: time","metadata":{"parsed":{"timestamp":"2026-11-24 17:25:01.817 UTC","error_severity":"LOG","process_id":1}}}'
edge='{"id":"e%d","timestamp":1795541101000000,"event_message":"GET /rest/v1/t","metadata":[{"request":[{"method":"GET"}]}]}\n'
echo "$pg" >drain-edge.json
touch -d '15 minutes ago' drain-edge.json
"$PGSIFT" -q --db edge.db ingest drain-edge.json
printf "$edge" 1 2 >>drain-edge.json
touch -d '15 minutes ago' drain-edge.json
"$PGSIFT" -q --db edge.db ingest drain-edge.json || fail "only other events since: ingest exited $?"
expect_eq "only other events since: rejects stored" "2" \
  "$(sqlite3 edge.db "SELECT sum(count) FROM rejects WHERE reason = 'not a postgres event'")"
out=$("$PGSIFT" --db edge.db ingest drain-edge.json 2>&1) || fail "again: exited $?"
expect_contains "$out" "1 unchanged"
expect_eq "only other events since: read once" "2" \
  "$(sqlite3 edge.db "SELECT sum(count) FROM rejects WHERE reason = 'not a postgres event'")"
pass
