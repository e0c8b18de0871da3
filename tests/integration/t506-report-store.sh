#!/usr/bin/env bash
# pgsift report over a store filled with synthetic events (sift-test-tool store-load):
# the local day in a time zone (DST included), headline figures, the trend and 7-day
# baseline (a regression, a new shape), errors, locks, temp files, checkpoints,
# sessions, cancellations, rejects; agreement with `pgsift top --format json`; the
# three formats parse; bad arguments are usage errors.
. "$(dirname "$0")/lib.sh"
need_cmd jq xmllint awk

# Eight days in Europe/Paris (UTC+1 in November): 2026-11-17 .. 2026-11-24 local.
# fp 1: steady; fp 2: 2 ms for seven days, then 40 ms on the 24th (a regression);
# fp 3: only on the 24th (new). Calls are spread over each local day.
awk 'BEGIN {
  for (day = 17; day <= 24; day++) {
    for (i = 0; i < 240; i++) {
      # local day 2026-11-<day> 00:00 +01:00 is 2026-11-<day-1> 23:00Z
      m = 6 * i; h = int(m / 60) - 1; mi = m % 60; d = day
      if (h < 0) { h = 23; d = day - 1 }
      ts = sprintf("2026-11-%02dT%02d:%02d:%02d.000Z", d, h, mi, i % 60)
      f = 1 + i % 2
      ms = (f == 1) ? 10 + (i % 7) : (day == 24 ? 40 + (i % 5) : 2 + (i % 3) / 10)
      printf "{\"ts\":\"%s\",\"kind\":\"duration\",\"duration_ms\":%.3f,\"database\":\"app\",\"user\":\"web\",\"fingerprint\":\"%016x\",\"normalized\":\"SELECT * FROM t%d WHERE id = $1\",\"query_id\":\"-%d\"}\n", ts, ms, f, f, f + 100
      if (day == 24 && i % 4 == 0)
        printf "{\"ts\":\"%s\",\"kind\":\"duration\",\"duration_ms\":5.5,\"database\":\"app\",\"user\":\"etl\",\"fingerprint\":\"%016x\",\"normalized\":\"UPDATE jobs SET state = $1\"}\n", ts, 3
    }
  }
}' > ev.ndjson
cat >> ev.ndjson <<'JSONL'
{"ts":"2026-11-24T08:00:00Z","kind":"error","severity":"ERROR","sqlstate":"23505","database":"app","user":"web","message":"duplicate key value violates unique constraint \"t_pkey\"","detail":"Key (id)=(42) already exists."}
{"ts":"2026-11-24T08:01:00Z","kind":"error","severity":"ERROR","sqlstate":"23505","database":"app","user":"web","message":"duplicate key value violates unique constraint \"t_pkey\"","detail":"Key (id)=(43) already exists."}
{"ts":"2026-11-24T09:00:00Z","kind":"error","severity":"ERROR","sqlstate":"42P01","database":"app","user":"<script>alert(1)</script>","message":"relation \"nope\" does not exist"}
{"ts":"2026-11-24T09:30:00Z","kind":"lock_wait","severity":"LOG","database":"app","user":"web","wait_ms":1000.5,"lock_mode":"ShareLock","lock_object":"transaction 123","cause":"waiting","fingerprint":"0000000000000001"}
{"ts":"2026-11-24T09:30:02Z","kind":"lock_acquired","severity":"LOG","database":"app","user":"web","wait_ms":2500.25,"lock_mode":"ShareLock","lock_object":"transaction 123","fingerprint":"0000000000000001"}
{"ts":"2026-11-24T09:31:00Z","kind":"deadlock","severity":"ERROR","sqlstate":"40P01","database":"app","user":"web","message":"deadlock detected","detail":"Process 11 waits for ShareLock on transaction 7; blocked by process 12."}
{"ts":"2026-11-24T10:00:00Z","kind":"temp_file","severity":"LOG","database":"app","user":"web","temp_bytes":10485760,"temp_path":"base/pgsql_tmp/pgsql_tmp1.0","fingerprint":"0000000000000002"}
{"ts":"2026-11-24T10:00:01Z","kind":"temp_file","severity":"LOG","database":"app","user":"web","temp_bytes":1048576,"temp_path":"base/pgsql_tmp/pgsql_tmp1.1","fingerprint":"0000000000000002"}
{"ts":"2026-11-24T10:05:00Z","kind":"checkpoint","severity":"LOG","cause":"time"}
{"ts":"2026-11-24T10:09:30Z","kind":"checkpoint","severity":"LOG","buffers":1200,"write_s":269.9,"sync_s":0.01,"total_s":270.05,"wal_added":1,"wal_removed":2,"wal_recycled":3,"sync_files":40,"sync_longest_s":0.25,"sync_average_s":0.01,"distance_kb":16384,"estimate_kb":20000}
{"ts":"2026-11-24T11:05:00Z","kind":"checkpoint","severity":"LOG","cause":"wal"}
{"ts":"2026-11-24T11:06:00Z","kind":"checkpoint","severity":"LOG","buffers":5000,"write_s":50.5,"sync_s":0.5,"total_s":51.25,"wal_added":0,"wal_removed":5,"wal_recycled":7,"sync_longest_s":1.5,"distance_kb":32768,"estimate_kb":32768}
{"ts":"2026-11-24T11:07:00Z","kind":"checkpoint","severity":"LOG","cause":"too_frequent","elapsed_s":20}
{"ts":"2026-11-24T11:30:00Z","kind":"checkpoint","severity":"LOG","step":"end","cause":"fast force wait","buffers":10,"total_s":0.5}
{"ts":"2026-11-24T12:00:00Z","kind":"autovacuum","severity":"LOG","relation":"app.public.t1","elapsed_s":1.5,"tuples_removed":100,"tuples_dead":7,"pages_removed":3,"pages_remain":20,"buffer_hits":50,"buffer_misses":6,"buffer_dirtied":2,"wal_records":9,"wal_fpi":1,"wal_bytes":3653}
{"ts":"2026-11-24T12:00:30Z","kind":"autovacuum","severity":"LOG","relation":"app.public.t1","elapsed_s":0.5,"tuples_removed":10,"tuples_dead":0,"pages_removed":0,"buffer_misses":4,"buffer_dirtied":1,"wal_bytes":100}
{"ts":"2026-11-24T12:01:00Z","kind":"autoanalyze","severity":"LOG","relation":"app.public.t1","elapsed_s":0.25}
{"ts":"2026-11-24T13:00:00Z","kind":"connection","severity":"LOG","host":"10.0.0.1"}
{"ts":"2026-11-24T13:00:00.100Z","kind":"authenticated","severity":"LOG","database":"app","user":"web","application":"\"><svg onload=alert(1)>"}
{"ts":"2026-11-24T14:00:00Z","kind":"disconnection","severity":"LOG","database":"app","user":"web","elapsed_s":3600.5}
{"ts":"2026-11-24T15:00:00Z","kind":"cancel","severity":"ERROR","sqlstate":"57014","database":"app","user":"web","cause":"user_request","message":"canceling statement due to user request"}
{"ts":"2026-11-24T15:01:00Z","kind":"timeout","severity":"ERROR","sqlstate":"57014","database":"app","user":"web","cause":"statement_timeout","message":"canceling statement due to statement timeout"}
{"ts":"2026-11-24T09:30:03Z","kind":"plan","duration_ms":2600.5,"database":"app","user":"web","fingerprint":"0000000000000001","normalized":"SELECT * FROM t1 WHERE id = $1","plan":"Seq Scan on t1"}
{"ts":"2026-11-25T01:00:00Z","kind":"error","severity":"ERROR","sqlstate":"23505","database":"app","user":"web","message":"after the day: not counted"}
this line is not JSON
neither | is <this>
JSONL
export SIFT_TEST_NOW=2026-11-24T12:00:00Z # rejects are counted by the time they were read
"$SIFT_TEST_TOOL" store-load ev.ndjson 2>/dev/null

report() { "$PGSIFT" report --tz Europe/Paris "$@"; }
report --day 2026-11-24 --format json > r.json
jq -e . r.json >/dev/null || fail "report JSON does not parse"
expect_eq "period" "2026-11-23T23:00:00.000Z 2026-11-24T23:00:00.000Z Europe/Paris 2026-11-24" \
  "$(jq -r '.period | "\(.from) \(.to) \(.tz) \(.day)"' r.json)"
calls=$(grep '^{' ev.ndjson | jq -s '[.[] | select(.kind == "duration" and .ts >= "2026-11-23T23:00" and .ts < "2026-11-24T23:00")] | length')
expect_eq "calls" "$calls" "$(jq .totals.calls r.json)"
expect_eq "hours" 24 "$(jq '.hourly | length' r.json)"
expect_eq "hourly calls add up" "$calls" "$(jq '[.hourly[].calls] | add' r.json)"
expect_eq "errors (ERROR and worse, deadlock and cancels included)" 6 "$(jq .totals.errors r.json)"
expect_eq "rejects" 2 "$(jq .totals.rejects r.json)"
expect_eq "reject sample and its line" "this line is not JSON:$(grep -n '^this line' ev.ndjson | cut -d: -f1)" \
  "$(jq -r '.rejects[0] | "\(.sample):\(.sample_line)"' r.json)"
expect_eq "error groups" "23505:2 42P01:1" "$(jq -r '[.errors[] | select(.sqlstate == "23505" or .sqlstate == "42P01") | "\(.sqlstate):\(.count)"] | join(" ")' r.json)"
expect_eq "events" "1 1 1 2 6 1 1" \
  "$(jq -r '.events | "\(.lock_wait) \(.lock_acquired) \(.deadlock) \(.temp_file) \(.checkpoint) \(.cancel) \(.timeout)"' r.json)"
expect_eq "lock wait time" 2500.25 "$(jq .locks.wait_ms.sum r.json)"
expect_eq "temp bytes" 11534336 "$(jq .temp_files.bytes.sum r.json)"
expect_eq "checkpoints completed, warnings" "3 1" "$(jq -r '.checkpoints | "\(.count) \(.warnings)"' r.json)"
# (PG19's completion names its flags: the cause of one whose start is not in the period)
expect_eq "checkpoint causes" "fast force wait:1:10 time:1:1200 wal:1:5000" \
  "$(jq -r '[.checkpoints.by_cause[] | "\(.cause):\(.count):\(.buffers)"] | sort | join(" ")' r.json)"
expect_eq "vacuum" "2 1" "$(jq -r '.autovacuum | "\(.vacuums) \(.analyzes)"' r.json)"
# the checkpoint's and vacuum's further numbers (schema 17): totals, max, per relation
expect_eq "checkpoint WAL files, longest sync, distance" "1 7 10 1.5 50331648 32768 54034432" \
  "$(jq -r '.checkpoints | "\(.wal_added.sum) \(.wal_removed.sum) \(.wal_recycled.sum) \(.sync_longest_s.max) \(.distance_bytes.sum) \(.distance_bytes.max / 1024) \(.estimate_bytes.sum)"' r.json)"
expect_eq "vacuum pages, dead tuples, buffers, WAL" "3 7 10 3 3753 2" \
  "$(jq -r '.autovacuum | "\(.pages_removed.sum) \(.tuples_dead.max) \(.buffer_reads.sum) \(.buffer_dirtied.sum) \(.wal_bytes.sum) \(.tuples_dead.count)"' r.json)"
expect_eq "vacuum per relation" "app.public.t1 vacuum 2 110 3 7" \
  "$(jq -r '.autovacuum.by_relation[] | select(.kind == "vacuum") | "\(.relation) \(.kind) \(.count) \(.tuples_removed) \(.pages_removed) \(.max_tuples_dead)"' r.json)"
# Markdown and HTML: a sum where it means something, a mean where it does not (the
# longest sync, the estimate, dead tuples still there)
md=$(report --day 2026-11-24 --format md)
expect_contains "$md" "| WAL files recycled | 10 in all, max 7, p95 7 |"
expect_contains "$md" "| WAL estimate | mean 25.8 MiB, max 32.0 MiB, p95 32.0 MiB |"
expect_contains "$md" "| Longest file sync | mean 875.0 ms, max 1.50 s, p95 1.50 s |"
expect_contains "$md" "| app.public.t1 | vacuum | 2 | 2.00 s | 1.50 s | 110 | 3 | 7 |"
expect_eq "session time" 3600.5 "$(jq .sessions.session_s.max r.json)"
expect_eq "connections by client host" "10.0.0.1:1" \
  "$(jq -r '[.sessions.by_host[] | "\(.host):\(.count)"] | join(" ")' r.json)"
expect_eq "cancel causes" "cancel/user_request timeout/statement_timeout" \
  "$(jq -r '[.cancellations.by_cause[] | "\(.kind)/\(.cause)"] | sort | join(" ")' r.json)"

# The baseline: fp 2 regressed (p95 2.2 ms -> 44 ms), fp 3 is new, fp 1 is neither.
expect_eq "regressed shapes" "0000000000000002" \
  "$(jq -r '[.regressions[] | select(.metric == "p95_ms") | .fingerprint] | join(" ")' r.json)"
expect_eq "new shapes" "0000000000000003" "$(jq -r '.new_queries.fingerprints | join(" ")' r.json)"
expect_eq "plans of fp 1" 1 "$(jq '.queries[] | select(.fingerprint == "0000000000000001") | .plans' r.json)"
expect_eq "baseline days of fp 1" 7 "$(jq '.queries[] | select(.fingerprint == "0000000000000001") | .baseline.days' r.json)"
expect_eq "previous day calls" 240 "$(jq .compare.previous_day.calls r.json)"
# Queries by type (pgBadger's): every shape's calls by its command, most time first:
# fp 1 and fp 2 are SELECTs, fp 3 an UPDATE (60 calls of 5.5 ms).
expect_eq "commands" "select:240:2 update:60:1:330" \
  "$(jq -r '[.commands[] | "\(.command):\(.count):\(.shapes)" + (if .command == "update" then ":\(.total_ms)" else "" end)] | join(" ")' r.json)"
expect_eq "commands add up to the calls" "$calls" "$(jq '[.commands[].count] | add' r.json)"
# Time by database and user: web ran fp 1 and fp 2, etl fp 3.
expect_eq "time by database and user" "app/web:240 app/etl:60:330" \
  "$(jq -r '[.time_by_database_user[] | "\(.database)/\(.user):\(.count)" + (if .user == "etl" then ":\(.total_ms)" else "" end)] | join(" ")' r.json)"
# Slowest executions: the largest per-minute maxima, slowest first, then earliest. fp 2
# ran 44 ms in 24 minutes of the 24th (i = 9, 19, ...), so the first 20 rows are those.
expect_eq "slowest rows" 20 "$(jq '.slowest | length' r.json)"
expect_eq "slowest: all fp 2 at 44 ms" '["0000000000000002:44:app:web"]' \
  "$(jq -c '[.slowest[] | "\(.fingerprint):\(.ms):\(.database):\(.user)"] | unique' r.json)"
expect_eq "slowest: the first one" "2026-11-23T23:54:00.000Z 60 SELECT * FROM t2 WHERE id = \$1" \
  "$(jq -r '.slowest[0] | "\(.at) \(.width_s) \(.query)"' r.json)"
expect_eq "7-day average calls" 240 "$(jq .compare.avg_7d.calls r.json)"
expect_eq "trend days" 8 "$(jq '[.compare.days[] | select(.present)] | length' r.json)"

# The same numbers as pgsift top over the same window.
top=$("$PGSIFT" top --since 2026-11-23T23:00:00Z --until 2026-11-24T23:00:00Z --limit 0 --format json)
# (every field of top's: the report's lacked stddev_ms and each query_id's total_ms, QA 28)
fields='[.calls, .total_ms, .mean_ms, .stddev_ms, .p50_ms, .p95_ms, .p99_ms, .max_ms, .min_ms, .databases, .users, .query_ids, .query, .errors, .first_seen, .last_seen]'
for fp in $(jq -r '.queries[].fingerprint' r.json); do
  a=$(jq -c --arg fp "$fp" ".queries[] | select(.fingerprint == \$fp) | $fields" r.json)
  b=$(jq -c --arg fp "$fp" ".queries[] | select(.fingerprint == \$fp) | $fields" <<<"$top")
  # the same figures exactly, percentiles too: both print them to 6 significant digits
  # (QA 21b: the report printed them to the microsecond, 1222232.213 against top's
  # 1222230)
  expect_eq "report = top for $fp" "$b" "$a"
done
expect_eq "every key of top's queries in the report's" "" \
  "$(jq -rn --argjson t "$(jq '.queries[0] | keys' <<<"$top")" --argjson r "$(jq '.queries[0] | keys' r.json)" '$t - $r | join(",")')"
expect_eq "report shapes = top shapes" "$(jq '.queries | length' <<<"$top")" "$(jq .shapes r.json)"

# HTML and Markdown from the store parse; -o writes atomically with mode 0600.
report --day 2026-11-24 -o r.html
expect_eq "html mode" 600 "$(stat -c %a r.html)"
xmllint --noout r.html || fail "HTML report is not well-formed"
expect_eq "script elements" 1 "$(xmllint --xpath 'count(//*[local-name()="script"])' r.html)"
expect_eq "calls in html" "$calls" "$(xmllint --xpath 'string(//*[@data-k="calls"]/*[@data-k="value"]/@data-v)' r.html)"
expect_eq "html time by database and user rows" 2 "$(xmllint --xpath 'count(//*[@id="t-time-by"]//*[local-name()="tbody"]/*)' r.html)"
expect_eq "html slowest rows" 20 "$(xmllint --xpath 'count(//*[@id="t-slowest"]//*[local-name()="tbody"]/*)' r.html)"
expect_eq "html vacuum per relation" "app.public.t1 vacuum 2 2.00 s 1.50 s 110 3 7" \
  "$(xmllint --xpath '//*[@id="t-vacuum"]//*[local-name()="tbody"]/*[1]/*' r.html | sed 's/<[^>]*>/ /g' | xargs)"
expect_eq "html connections by client host" "10.0.0.1 1" \
  "$(xmllint --xpath '//*[@id="t-hosts"]//*[local-name()="tbody"]/*/*' r.html | sed 's/<[^>]*>/ /g' | xargs)"
expect_eq "html queries by type" "select 240 update 60" \
  "$(xmllint --xpath '//*[@id="t-types"]//*[local-name()="tbody"]/*/*[position() <= 2]' r.html | sed 's/<[^>]*>/ /g' | xargs)"
report --day 2026-11-24 -o r.md
head -1 r.md | grep -q '^# PostgreSQL log report' || fail "-o r.md is not Markdown"
expect_contains "$(cat r.md)" "Europe/Paris"
expect_contains "$(cat r.md)" "| update | 60 | 330.0 ms | 4.8 % | 1 |"
expect_contains "$(cat r.md)" "| 10.0.0.1 | 1 |"
expect_contains "$(cat r.md)" "| app | etl | 60 | 330.0 ms |"
expect_contains "$(cat r.md)" "| 1 | 2026-11-24 00:54 | 44.0 ms | SELECT \\* FROM t2 WHERE id = \$1 | 0000000000000002 | app | web |"
expect_not_contains "$(cat r.md)" "<script>"

# A DST day has 25 local hours; the default day is yesterday in --tz.
expect_eq "hours on 2026-10-25" 25 "$(report --day 2026-10-25 --format json | jq '.hourly | length')"
expect_eq "default day" "2026-11-23" "$(report --format json | jq -r .period.day)"
expect_eq "--since/--until window" "2026-11-24T10:00:00.000Z null" \
  "$(report --since 2026-11-24T10:00:00Z --until 2026-11-24T12:00:00Z --format json | jq -r '"\(.period.from) \(.period.day)"')"

# Usage errors (2) and environment errors (1).
expect_exit 2 "$PGSIFT" report --day 2026-02-30
expect_exit 2 "$PGSIFT" report --day 2026-11-24 --since 1d
expect_exit 2 "$PGSIFT" report --tz Nowhere/City
expect_exit 2 "$PGSIFT" report --format pdf
expect_exit 2 "$PGSIFT" report --since 2026-11-25 --until 2026-11-24
rc=0; err=$("$PGSIFT" --db "$T/none.db" report 2>&1) || rc=$?
expect_eq "missing store" 1 "$rc"
expect_contains "$err" "none.db"
# Error groups: the most frequent REPORT_ERRORS_SHOWN (100) are listed, the rest in one
# line with their count (a scan of 150 role names does not make a 150-row table); the
# classes count every error. (Synthetic events: store-load.)
awk 'BEGIN { for (i = 0; i < 150; i++)
  printf "{\"ts\":\"2026-11-24T12:%02d:%02dZ\",\"kind\":\"error\",\"severity\":\"FATAL\",\"sqlstate\":\"28000\",\"message\":\"role \\\"scan%03d\\\" does not exist\"}\n", int(i / 60), i % 60, i
  for (i = 0; i < 3; i++)
    printf "{\"ts\":\"2026-11-24T13:00:%02dZ\",\"kind\":\"error\",\"severity\":\"ERROR\",\"sqlstate\":\"42P01\",\"message\":\"relation \\\"nope\\\" does not exist\"}\n", i }' >scan.ndjson
PGSIFT_DB=scan.db "$SIFT_TEST_TOOL" store-load scan.ndjson 2>/dev/null
PGSIFT_DB=scan.db "$PGSIFT" report --day 2026-11-24 --tz UTC --format json >scan.json
expect_eq "error groups listed" 100 "$(jq '.errors | length' scan.json)"
expect_eq "the most frequent first" '42P01 3' "$(jq -r '.errors[0] | "\(.sqlstate) \(.count)"' scan.json)"
expect_eq "the rest, counted" '{"groups":51,"count":51}' "$(jq -c .errors_not_listed scan.json)"
expect_eq "every error in the totals" 153 "$(jq .totals.errors scan.json)"
PGSIFT_DB=scan.db "$PGSIFT" report --day 2026-11-24 --tz UTC -o scan.html
expect_contains "$(cat scan.html)" "51 more groups (51 errors) are not listed"
expect_eq "HTML rows" 100 "$(grep -c '<td><code>28000\|<td><code>42P01' scan.html)"
expect_contains "$(cat scan.html)" '<code>28</code></td><td>invalid authorization specification</td><td class="n" data-k="count" data-v="150">150</td>'
PGSIFT_DB=scan.db "$PGSIFT" report --day 2026-11-24 --tz UTC -o scan.md
expect_contains "$(cat scan.md)" "51 more groups (51 errors) are not listed"
# Sessions by database and user, application and client host: 50 rows each, and the
# rest counted (120 sessions of distinct users, applications and hosts, hand-made csvlog
# lines in the server's shape; they were cut at 50 without a word).
awk 'BEGIN { for (i = 0; i < 120; i++) {
  t = sprintf("2026-11-24 10:%02d:%02d.000 UTC", int(i / 60), i % 60); pid = 2000 + i
  printf "%s,,,%d,\"10.0.0.%d:5000\",6b.%x,1,\"\",%s,,0,LOG,00000,\"connection received: host=10.0.0.%d port=5000\",,,,,,,,,\"\",not initialized,,0\n", t, pid, i, pid, t, i
  printf "%s,\"u%03d\",\"db\",%d,\"10.0.0.%d:5000\",6b.%x,2,\"authentication\",%s,3/1,0,LOG,00000,\"connection authorized: user=u%03d database=db application_name=app%03d\",,,,,,,,,\"app%03d\",client backend,,0\n", t, i, pid, i, pid, t, i, i, i } }' >sessions.csv
"$PGSIFT" -q --db sessions.db ingest sessions.csv
"$PGSIFT" --db sessions.db report --day 2026-11-24 --tz UTC --format json >sessions.json
for k in by_database_user by_application by_host; do
  expect_eq "$k listed" 50 "$(jq ".sessions.$k | length" sessions.json)"
  expect_eq "$k: the rest counted" '{"groups":70,"count":70}' "$(jq -c ".sessions.${k}_not_listed" sessions.json)"
done
"$PGSIFT" --db sessions.db report --day 2026-11-24 --tz UTC -o sessions.html
"$PGSIFT" --db sessions.db report --day 2026-11-24 --tz UTC -o sessions.md
for f in sessions.html sessions.md; do
  expect_contains "$(cat $f)" "70 more applications (70 sessions) are not listed"
  expect_contains "$(cat $f)" "70 more client hosts (70 sessions) are not listed"
  expect_contains "$(cat $f)" "70 more database and user pairs (70 sessions) are not listed"
done
err=$("$PGSIFT" report --tz Nowhere/City 2>&1 || true)
expect_contains "$err" "unknown time zone 'Nowhere/City'"
pass
