#!/usr/bin/env bash
# pgsift events: the JSON document, kinds, windows, limit (newest N, oldest first),
# md/csv/table shapes, redaction of stored messages, and errors.
. "$(dirname "$0")/lib.sh"
need_cmd jq sqlite3

cat >ev.ndjson <<'EOF'
{"ts":"2026-11-24T10:00:00Z","kind":"connection","severity":"LOG","message":"connection received: host=10.0.0.7 port=5432","host":"10.0.0.7"}
{"ts":"2026-11-24T10:01:00Z","kind":"error","severity":"ERROR","sqlstate":"23505","database":"app","user":"app_rw","pid":4242,"message":"duplicate key value violates unique constraint \"users_email_key\"","detail":"Key (email)=(alice@example.com) already exists.","fingerprint":"1f3a5b7c9d0e1f2a","normalized":"INSERT INTO users (email) VALUES ($1)","statement":"INSERT INTO users (email) VALUES ('alice@example.com')"}
{"ts":"2026-11-24T10:02:00Z","kind":"lock_wait","severity":"LOG","pid":17,"message":"process 17 still waiting for ShareLock on transaction 456 after 1000.072 ms","wait_ms":1000.072,"lock_mode":"ShareLock","lock_object":"transaction 456"}
{"ts":"2026-11-24T10:03:00Z","kind":"deadlock","severity":"ERROR","sqlstate":"40P01","message":"deadlock detected","detail":"Process 17 waits for ShareLock on transaction 456; blocked by process 18.\nProcess 18 waits for ShareLock on transaction 457; blocked by process 17.\nProcess 17: UPDATE accounts SET balance = 100 WHERE id = 'acct-1'\nProcess 18: UPDATE accounts SET balance = 200 WHERE id = 'acct-2'"}
{"ts":"2026-11-24T10:04:00Z","kind":"temp_file","severity":"LOG","message":"temporary file: path \"base/pgsql_tmp/pgsql_tmp42.0\", size 1048576","temp_bytes":1048576,"temp_path":"base/pgsql_tmp/pgsql_tmp42.0"}
{"ts":"2026-11-24T10:05:00Z","kind":"checkpoint","severity":"LOG","message":"checkpoint complete: wrote 12 buffers (0.1%)","buffers":12,"write_s":0.101,"sync_s":0.002,"total_s":0.2,"cause":"time"}
{"ts":"2026-11-24T10:06:00Z","kind":"error","severity":"ERROR","sqlstate":"22P02","message":"invalid input syntax for type integer: \"12abc\"","detail":"parameters: $1 = '12abc', $2 = 'x'"}
{"ts":"2026-11-24T10:07:00Z","kind":"duration","duration_ms":1.0,"fingerprint":"1f3a5b7c9d0e1f2a"}
EOF
"$SIFT_TEST_TOOL" store-load ev.ndjson 2>/dev/null

json=$("$PGSIFT" events --format json)
expect_eq "events (durations are not events)" 7 "$(jq '.events | length' <<<"$json")"
expect_eq "total" 7 "$(jq .total <<<"$json")"
expect_eq "counts" '{"checkpoint":1,"connection":1,"deadlock":1,"error":2,"lock_wait":1,"temp_file":1}' \
  "$(jq -c .counts <<<"$json")"
expect_eq "oldest first" "$(jq -c '[.events[].ts] | sort' <<<"$json")" "$(jq -c '[.events[].ts]' <<<"$json")"
expect_eq "lock wait facts" '{"kind":"lock_wait","wait_ms":1000.072,"lock_mode":"ShareLock","lock_object":"transaction 456","pid":17}' \
  "$(jq -c '.events[] | select(.kind == "lock_wait") | {kind, wait_ms, lock_mode, lock_object, pid}' <<<"$json")"
expect_eq "checkpoint facts" '[12,0.101,0.002,0.2,"time"]' \
  "$(jq -c '.events[] | select(.kind == "checkpoint") | [.buffers, .write_s, .sync_s, .total_s, .cause]' <<<"$json")"
expect_eq "error fields" '["23505","app","app_rw","1f3a5b7c9d0e1f2a","ev.ndjson:2"]' \
  "$(jq -c '.events[1] | [.sqlstate, .database, .user, .fingerprint, .src]' <<<"$json")"

# Tenant data is redacted in what the store keeps.
expect_eq "Key detail" "Key (email)=(…) already exists." "$(jq -r '.events[1].detail' <<<"$json")"
expect_eq "parameters dropped" "parameters: …" \
  "$(jq -r '.events[] | select(.sqlstate == "22P02") | .detail' <<<"$json")"
expect_eq "value in message" 'invalid input syntax for type integer: "…"' \
  "$(jq -r '.events[] | select(.sqlstate == "22P02") | .message' <<<"$json")"
expect_contains "$(jq -r '.events[] | select(.kind == "deadlock") | .detail' <<<"$json")" \
  'Process 17: UPDATE accounts SET balance = $1 WHERE id = $2'
dump=$(sqlite3 -batch "$PGSIFT_DB" .dump)
for secret in alice@example.com 12abc acct-1 "balance = 100"; do
  expect_not_contains "$dump" "$secret"
done

# Filters and the limit.
expect_eq "kind filter" '["deadlock","error","error"]' \
  "$("$PGSIFT" events --kind error,deadlock --format json | jq -c '[.events[].kind] | sort')"
expect_eq "--kind given twice: both lists" \
  "$("$PGSIFT" events --kind error,deadlock --format json | jq -c '[.events[].kind] | sort')" \
  "$("$PGSIFT" events --kind error --kind=deadlock --format json | jq -c '[.events[].kind] | sort')"
expect_eq "window" '["lock_wait","deadlock"]' \
  "$("$PGSIFT" events --since 2026-11-24T10:02:00Z --until 2026-11-24T10:04:00Z --format json | jq -c '[.events[].kind]')"
expect_eq "database filter" '["error"]' "$("$PGSIFT" events --database app --format json | jq -c '[.events[].kind]')"
expect_eq "newest two, oldest first" '["checkpoint","error"]' \
  "$("$PGSIFT" events --limit 2 --format json | jq -c '[.events[].kind]')"
expect_eq "counts ignore the limit" 7 "$("$PGSIFT" events --limit 2 --format json | jq .total)"

# csv parses back; md has a cell count per row; the table fits 100 columns.
"$PGSIFT" events --format csv >ev.csv
expect_eq "csv rows" 7 "$(sqlite3 -batch :memory: ".import --csv ev.csv t" "SELECT count(*) FROM t")"
expect_eq "csv multi-line detail survives" 4 \
  "$(sqlite3 -batch :memory: ".import --csv ev.csv t" "SELECT detail FROM t WHERE kind = 'deadlock'" | wc -l)"
"$PGSIFT" events --format md >ev.md
expect_eq "md cells per row" 14 "$(sed 's/\\|//g' ev.md | awk -F'|' '{ print NF }' | sort -u)"
expect_eq "md lines" 9 "$(wc -l <ev.md)"
"$PGSIFT" events >ev.txt
expect_eq "table width <= 100" 1 "$(LC_ALL=C.UTF-8 wc -L <ev.txt | awk '{ print ($1 <= 100) }')"
expect_eq "table rows" 8 "$(wc -l <ev.txt)"

# Errors.
expect_exit 2 "$PGSIFT" events --kind duration
expect_exit 2 "$PGSIFT" events --kind nosuch
expect_exit 2 "$PGSIFT" events --until 2026-13-01
expect_exit 1 "$PGSIFT" --db "$T/none.db" events
expect_contains "$("$PGSIFT" events --since 2027-01-01)" "(no events in this window)"
pass
