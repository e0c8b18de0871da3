#!/usr/bin/env bash
# pgsift top over a store filled with synthetic events (sift-test-tool store-load):
# the JSON document of INTERFACE.md, p95 within 1 % of the exact p95 of the raw
# durations, windows and filters, md/csv/table shapes, NO_COLOR, errors.
. "$(dirname "$0")/lib.sh"
fixture_clock
need_cmd jq sqlite3

# 3 fingerprints x 3000 calls over two hours, log-normal durations with µs resolution.
awk 'BEGIN {
  srand(42)
  for (i = 0; i < 9000; i++) {
    f = i % 3
    z = sqrt(-2 * log(rand())) * cos(6.283185307 * rand())
    ms = sprintf("%.3f", exp(log(0.5 + f * 4) + 1.2 * z))
    m = int(rand() * 120)
    ts = sprintf("2026-11-24T%02d:%02d:%02d.%03dZ", 10 + int(m / 60), m % 60, int(rand() * 60), i % 1000)
    printf "{\"ts\":\"%s\",\"kind\":\"duration\",\"phase\":\"execute\",\"duration_ms\":%s,", ts, ms
    printf "\"database\":\"db%d\",\"user\":\"u%d\",\"fingerprint\":\"%016x\",", i % 2, i % 5, f + 1
    printf "\"normalized\":\"SELECT * FROM t%d WHERE id = $1\",\"query_id\":\"-%d\"}\n", f, f + 100
    print (f + 1), ms, m > "raw.txt"
  }
}' >ev.ndjson
# A statement whose text needs escaping everywhere, and an error under fingerprint 1.
cat >>ev.ndjson <<'EOF'
{"ts":"2026-11-24T11:00:00Z","kind":"duration","duration_ms":0.5,"database":"db0","user":"u0","fingerprint":"00000000000000ff","normalized":"SELECT '|a|', \"b,c\" FROM x WHERE y = $1 -- *x* <b>"}
{"ts":"2026-11-24T11:00:00Z","kind":"error","severity":"ERROR","sqlstate":"57014","database":"db0","user":"u0","fingerprint":"0000000000000001","message":"canceling statement due to statement timeout"}
EOF
"$SIFT_TEST_TOOL" store-load --batch 700 ev.ndjson 2>/dev/null

# Exact percentile_cont(q) of the raw durations of fingerprint $1 (optionally minutes [$3, $4)).
exact() {
  awk -v f="$1" -v lo="${3:-0}" -v hi="${4:-1000}" '$1 == f && $3 >= lo && $3 < hi { print $2 }' raw.txt |
    sort -g | awk -v q="$2" '{ v[NR - 1] = $1 } END {
      r = q * (NR - 1); l = int(r); f = r - l
      x = v[l]; if (f > 0 && l + 1 < NR) x += f * (v[l + 1] - v[l]); printf "%.6f\n", x }'
}
within1pct() { # got want
  awk -v g="$1" -v w="$2" 'BEGIN { d = g - w; if (d < 0) d = -d; exit !(d <= 0.01 * w) }'
}

json=$("$PGSIFT" top --format json --limit 0)
# An open side of the window is where the data begins or ends (its first and last minute
# rows: INTERFACE.md's since/until are times); null only when nothing matched.
expect_eq "open window: the data's bounds" "2026-11-24T10:00:00.000Z 2026-11-24T12:00:00.000Z" \
  "$(jq -r '"\(.since) \(.until)"' <<<"$json")"
expect_eq "open end, nothing matched" "2030-01-01T00:00:00.000Z null" \
  "$("$PGSIFT" top --format json --since 2030-01-01 | jq -r '"\(.since) \(.until)"')"
expect_eq "statements" 4 "$(jq '.queries | length' <<<"$json")"
# The mean is total / calls, to the microsecond (it was rounded to 6 significant digits).
# Percentiles to 6 significant digits in JSON and CSV alike, never in exponent notation.
expect_eq "JSON percentiles = CSV ones" \
  "$(jq -r '.queries[].p50_ms' <<<"$json" | awk '{ printf "%.6g\n", $1 }' | sort -n | tr '\n' ' ')" \
  "$("$PGSIFT" top --format csv --limit 0 | sed 1d | cut -d, -f8 | sort -n | tr '\n' ' ')"
expect_eq "mean = total / calls" "[]" "$(jq -c '[.queries[] | select((.total_ms / .calls - .mean_ms) | fabs > 0.0005) | [.fingerprint, .total_ms, .calls, .mean_ms]]' <<<"$json")"
# ... rounded as the other formats round it: on a real log, means that fall on half a
# microsecond (3.665 ms over 10 calls) were 0.367 in JSON and 0.366 in CSV, table, report.
fx=$SIFT_SOURCE_DIR/tests/fixtures/pg15/text-plans/postgresql.csv
"$PGSIFT" -q --db means.db ingest "$fx"
expect_eq "JSON means = CSV means (real log)" \
  "$("$PGSIFT" --db means.db top --format csv --limit 0 --since 2026-01-01 | tr -d '\r' | sed 1d | cut -d, -f1,4 | sort)" \
  "$("$PGSIFT" --db means.db top --format json --limit 0 --since 2026-01-01 | jq -r '.queries[] | "\(.fingerprint) \(.mean_ms)"' | awk '{ printf "%s,%.3f\n", $1, $2 }' | sort)"
expect_eq "keys of a query" \
  '["calls","databases","errors","fingerprint","first_seen","last_seen","max_ms","mean_ms","min_ms","p50_ms","p95_ms","p99_ms","query","query_ids","stddev_ms","total_ms","users"]' \
  "$(jq -c '.queries[0] | keys' <<<"$json")"
expect_eq "types" "string string array number number number number number number number number array array number string string" \
  "$(jq -r '.queries[0] | [.fingerprint, .query, .query_ids, .calls, .total_ms, .mean_ms, .min_ms, .max_ms, .p50_ms, .p95_ms, .p99_ms, .databases, .users, .errors, .first_seen, .last_seen] | map(type) | join(" ")' <<<"$json")"
expect_eq "sorted by total" "$(jq -c '[.queries[].total_ms] | sort | reverse' <<<"$json")" \
  "$(jq -c '[.queries[].total_ms]' <<<"$json")"
for f in 1 2 3; do
  fp=$(printf '%016x' "$f")
  row=$(jq -c --arg fp "$fp" '.queries[] | select(.fingerprint == $fp)' <<<"$json")
  expect_eq "calls of $fp" 3000 "$(jq .calls <<<"$row")"
  for q in 50 95 99; do
    got=$(jq ".p${q}_ms" <<<"$row")
    want=$(exact "$f" "0.$q")
    within1pct "$got" "$want" || fail "p$q of $fp: store $got, exact $want (more than 1 % apart)"
  done
  expect_eq "total of $fp" "$(awk -v f="$f" '$1 == f { s += $2 } END { printf "%.3f", s }' raw.txt)" \
    "$(jq '.total_ms * 1000 | round / 1000' <<<"$row" | awk '{ printf "%.3f", $1 }')"
  expect_eq "query_ids of $fp (one id: all the calls and time)" \
    "[{\"id\":\"-$((f + 99))\",\"calls\":3000,\"total_ms\":$(jq .total_ms <<<"$row")}]" "$(jq -c .query_ids <<<"$row")"
  expect_eq "databases of $fp" '["db0","db1"]' "$(jq -c .databases <<<"$row")"
done
expect_eq "errors counted on their statement" 1 \
  "$(jq '.queries[] | select(.fingerprint == "0000000000000001") | .errors' <<<"$json")"

# A window [10:30, 11:00) and a database filter: still within 1 % of the raw durations.
json=$("$PGSIFT" top --format json --since 2026-11-24T10:30:00Z --until 2026-11-24T11:00:00Z --by p95)
expect_eq "window bounds" "2026-11-24T10:30:00.000Z 2026-11-24T11:00:00.000Z" \
  "$(jq -r '"\(.since) \(.until)"' <<<"$json")"
expect_eq "sorted by p95" "$(jq -c '[.queries[].p95_ms] | sort | reverse' <<<"$json")" \
  "$(jq -c '[.queries[].p95_ms]' <<<"$json")"
got=$(jq '.queries[] | select(.fingerprint == "0000000000000003") | .p95_ms' <<<"$json")
want=$(exact 3 0.95 30 60)
within1pct "$got" "$want" || fail "windowed p95: store $got, exact $want"
expect_eq "calls in the window" "$(awk '$1 == 3 && $3 >= 30 && $3 < 60' raw.txt | wc -l)" \
  "$(jq '.queries[] | select(.fingerprint == "0000000000000003") | .calls' <<<"$json")"
expect_eq "database filter" '["db1"]' \
  "$("$PGSIFT" top --format json --database db1 | jq -c '[.queries[].databases[]] | unique')"
expect_eq "user filter" '["u3"]' \
  "$("$PGSIFT" top --format json --user u3 | jq -c '[.queries[].users[]] | unique')"
expect_eq "limit" 2 "$("$PGSIFT" top --format json --limit 2 | jq '.queries | length')"
expect_eq "total before the limit" 4 "$("$PGSIFT" top --format json --limit 2 | jq '.total')"
# Relative windows are computed from the clock (SIFT_TEST_NOW).
json=$(SIFT_TEST_NOW=2026-11-24T13:00:00Z "$PGSIFT" top --format json --since 3h --until 2h)
expect_eq "relative window" "2026-11-24T10:00:00.000Z 2026-11-24T11:00:00.000Z 3" \
  "$(jq -r '"\(.since) \(.until) \(.queries | length)"' <<<"$json")"

# CSV: RFC 4180, parsed back by sqlite3's CSV reader.
"$PGSIFT" top --format csv --limit 0 >top.csv
expect_eq "CRLF line ends" 5 "$(grep -c $'\r$' top.csv)"
sqlite3 -batch :memory: ".import --csv top.csv t" "SELECT count(*), sum(calls) FROM t" >csv.out
expect_eq "csv rows and calls" "4|9001" "$(cat csv.out)"
expect_eq "csv field with quotes and commas" "SELECT '|a|', \"b,c\" FROM x WHERE y = \$1 -- *x* <b>" \
  "$(sqlite3 -batch :memory: ".import --csv top.csv t" "SELECT query FROM t WHERE fingerprint = '00000000000000ff'")"

# Markdown: a header, a separator, one row per statement, every row with the same
# number of unescaped cell separators.
"$PGSIFT" top --format md --limit 0 >top.md
expect_eq "md lines" 6 "$(wc -l <top.md)"
expect_contains "$(sed -n 2p top.md)" "|---|---:|"
cells=$(sed 's/\\|//g' top.md | awk -F'|' '{ print NF }' | sort -u)
expect_eq "md cells per row" 19 "$cells"
expect_contains "$(cat top.md)" "SELECT '\\|a\\|', \"b,c\" FROM x WHERE y = \$1 -- \\*x\\* &lt;b&gt;"

# Table: fits 100 columns, no colour when not a terminal.
"$PGSIFT" top --limit 0 >top.txt
expect_eq "table width <= 100" 1 "$(LC_ALL=C.UTF-8 wc -L <top.txt | awk '{ print ($1 <= 100) }')"
expect_contains "$(head -1 top.txt)" "FINGERPRINT"
expect_not_contains "$(cat top.txt)" $'\033'
if command -v script >/dev/null; then
  tty=$(TERM=xterm script -qec "'$PGSIFT' top" /dev/null)
  expect_contains "$tty" $'\033[1m'
  tty=$(NO_COLOR=1 TERM=xterm script -qec "'$PGSIFT' top" /dev/null)
  expect_not_contains "$tty" $'\033'
fi

# Text a terminal would act on (hand-made lines, this edge case only): C1 CSI (U+009B)
# and bidi overrides (U+202E, U+2066) from a log are shown as spaces in tables.
printf '2026-11-24 10:00:00.000 UTC [12] LOG:  duration: 1.000 ms  statement: SELECT "x\xc2\x9b31my\xe2\x80\xaez" FROM t\n2026-11-24 10:00:01.000 UTC [12] ERROR:  relation "q\xc2\x9b2Jw\xe2\x81\xa6v" does not exist\n' >ctl.log
PGSIFT_DB=ctl.db "$PGSIFT" -q ingest ctl.log
for cmd in top events; do
  PGSIFT_DB=ctl.db "$PGSIFT" $cmd --format table >ctl.txt
  expect_eq "$cmd: no C1 or bidi control in the table" 0 \
    "$(LC_ALL=C grep -c $'\xc2\x9b\|\xe2\x80\xae\|\xe2\x81\xa6' ctl.txt)"
done
expect_contains "$(PGSIFT_DB=ctl.db "$PGSIFT" events --format table)" 'relation "q 2Jw v" does not exist'

# Errors: no store (1), bad arguments (2); read-only commands never create a store.
expect_exit 1 "$PGSIFT" --db "$T/none.db" top
[[ ! -e $T/none.db ]] || fail "top created a store"
expect_exit 2 "$PGSIFT" top --since yesterday
expect_exit 2 "$PGSIFT" top --by speed
expect_exit 2 "$PGSIFT" top --format xml
expect_exit 2 "$PGSIFT" top --since 1h --until 2h
expect_contains "$("$PGSIFT" top --help)" "--database"
pass
