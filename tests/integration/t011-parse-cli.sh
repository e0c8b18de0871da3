#!/usr/bin/env bash
# pgsift parse from the outside: stdin through a pipe, gzip (multi-member, truncated),
# exit codes 0/1/2/3 with their messages, NDJSON validity (invalid UTF-8 repaired,
# query_id as an exact string), --stats in both formats, hostile input.
. "$(dirname "$0")/lib.sh"
need_cmd jq gzip head
fx=$SIFT_SOURCE_DIR/tests/fixtures/pg15/text-plans
[[ -f $fx/postgresql.csv ]] || skip "no fixtures"
csv=$fx/postgresql.csv
json=$fx/postgresql.json
n_csv=$("$PGSIFT" parse "$csv" | wc -l)
((n_csv > 100)) || fail "too few events from $csv: $n_csv"

# stdin through a pipe: same events, src is "-:line".
out=$(cat "$csv" | "$PGSIFT" parse -)
expect_eq "events from stdin" "$n_csv" "$(wc -l <<<"$out")"
expect_eq "src of stdin" "-:1" "$(head -1 <<<"$out" | jq -r .src)"

# gzip: one member, two members, gzipped stdin.
gzip -c "$csv" > "$T/one.gz"
{ head -c 100000 "$csv" | gzip -c; tail -c +100001 "$csv" | gzip -c; } > "$T/two.gz"
expect_eq "events from .gz" "$n_csv" "$("$PGSIFT" parse "$T/one.gz" | wc -l)"
expect_eq "events from a 2-member .gz" "$n_csv" "$("$PGSIFT" parse "$T/two.gz" | wc -l)"
expect_eq "events from gzipped stdin" "$n_csv" "$("$PGSIFT" parse - < "$T/one.gz" | wc -l)"

# Truncated .gz: the events before the damage, a warning with the byte offset, exit 0.
size=$(stat -c %s "$T/one.gz")
head -c $((size / 2)) "$T/one.gz" > "$T/cut.gz"
rc=0
"$PGSIFT" parse "$T/cut.gz" > "$T/cut.ndjson" 2> "$T/cut.err" || rc=$?
expect_eq "exit code of a truncated .gz" 0 "$rc"
got=$(wc -l < "$T/cut.ndjson")
((got > 10 && got < n_csv)) || fail "truncated .gz gave $got events (of $n_csv)"
expect_contains "$(cat "$T/cut.err")" "truncated gzip data at compressed byte $((size / 2))"
stats=$("$PGSIFT" parse --stats --stats-format json "$T/cut.gz")
expect_eq "damage in --stats" 1 "$(jq '.totals.damaged' <<<"$stats")"

# A log newest-first (QA 29: `gcloud logging read` gives newest-first unless
# --order=asc, and continuation lines then join the wrong records): a warning that says
# so, for the lines reversed, none for the log as written.
log=$fx/postgresql.log
"$PGSIFT" parse "$log" 2> "$T/fwd.err" > /dev/null
expect_not_contains "$(cat "$T/fwd.err")" "newest-first"
tac "$log" > "$T/rev.log"
"$PGSIFT" parse "$T/rev.log" 2> "$T/rev.err" > /dev/null || true
expect_contains "$(cat "$T/rev.err")" "'$T/rev.log': most records are older than a record before them: the log looks newest-first"
"$PGSIFT" parse --stats "$T/rev.log" 2> "$T/rev.err" > /dev/null || true
expect_contains "$(cat "$T/rev.err")" "(gcloud logging read --order=asc)"

# A diagnosis sample cut at 120 bytes is not cut inside a character (QA 29: the
# redaction's "…" cut there printed "??"). Hand-made line: "…" at bytes 119-121.
printf "2026-11-28 10:00:00.000 UTC [70] app@shop STATEMENT:  select * from c%s where name = 'SECRET'\n" \
  "$(printf 'x%.0s' {1..34})" > "$T/cut120.log"
err=$("$PGSIFT" parse "$T/cut120.log" 2>&1 >/dev/null || true)
expect_contains "$err" "cut120.log:1: sub-line without its record"
expect_not_contains "$err" "??"

# Records without a time are said (QA 29: ingest filed them at the time of the ingest
# without a word). Hand-made lines, an empty log_line_prefix.
printf 'LOG:  duration: 1.000 ms  statement: select 1\nERROR:  division by zero\nSTATEMENT:  select 1/0\n' > "$T/notime.log"
touch -d '-1 min' "$T/notime.log" # (not being written: its last record is complete)
err=$("$PGSIFT" parse --prefix '' "$T/notime.log" 2>&1 >/dev/null)
expect_contains "$err" "'$T/notime.log': 2 records without a time (the log_line_prefix has no %m, %t or %n"
err=$(PGSIFT_DB=$T/notime.db "$PGSIFT" ingest --prefix '' "$T/notime.log" 2>&1)
expect_contains "$err" "2 records without a time (the log_line_prefix has no %m, %t or %n, and no syslog header gave one): stored at the time of the record before them, or of the ingest"

# A --prefix that fits no body of a syslog file (format left to detection): the hint is
# a prefix of the bodies, not one with the syslog header in it (QA 29: it suggested
# 'Nov %x %x:%x:%x vm postgres[%p]: [%x-%x] %quser=%u,...', which lost the times).
sys=$SIFT_SOURCE_DIR/tests/fixtures/pg15-syslog/bare/rsyslog-traditional.log
if [[ -f $sys ]]; then
  err=$("$PGSIFT" parse --prefix '%t [%p] %q%u@%d ' "$sys" 2>&1 >/dev/null || true)
  expect_contains "$err" "(try --prefix 'user=%u,db=%d,app=%a,client=%h ')"
  expect_contains "$err" "detected: syslog"
fi

# The log_line_prefix a text log was read with, detected (QA 29: --stats never said it).
stats=$("$PGSIFT" parse --stats --stats-format json "$fx/postgresql.log")
expect_eq "detected prefix in --stats json" '%m [%p] %q%u@%d/%a ' "$(jq -r '.sources[0].prefix' <<<"$stats")"
expect_contains "$("$PGSIFT" parse --stats "$fx/postgresql.log")" "postgresql.log: log_line_prefix '%m [%p] %q%u@%d/%a '"

# Lines with a keyword that the prefix in force does not match are foreign lines, and
# said so with what to do (QA 29: a padded prefix, which detection does not infer, lost 3
# of 5 records with "3 foreign lines" alone). Hand-made lines, '%m [%10p] %-10u %-8d '.
cat > "$T/pad.log" <<'EOF2'
2026-11-28 10:00:00.000 UTC [      6000] app        shop     LOG:  duration: 1.000 ms  statement: select 1
2026-11-28 10:00:01.000 UTC [      6001] verylonguser_name shop     LOG:  duration: 2.000 ms  statement: select 2
2026-11-28 10:00:02.000 UTC [      6002]                     LOG:  checkpoint starting: time
2026-11-28 10:00:03.000 UTC [      6003] app        analytics_db ERROR:  division by zero
2026-11-28 10:00:03.000 UTC [      6003] app        analytics_db STATEMENT:  select 1/0
EOF2
err=$("$PGSIFT" parse "$T/pad.log" 2>&1 >/dev/null)
expect_contains "$err" "3 lines with a PostgreSQL keyword did not match log_line_prefix"
expect_contains "$err" "if they are the server's, pass its setting with --prefix"
expect_eq "events with the right --prefix" 4 "$("$PGSIFT" parse --prefix '%m [%10p] %-10u %-8d ' "$T/pad.log" | wc -l)"

# A number fact without an exponent (QA 29: "wait_ms":1e+03). Hand-made line.
printf '2026-11-28 10:00:01.000 UTC [100] app@shop LOG:  process 100 acquired ShareLock on transaction 5 after 1000.000 ms\n' > "$T/wait.log"
expect_contains "$("$PGSIFT" parse "$T/wait.log")" '"wait_ms":1000,'

# Exit 3: read but nothing parsed, with the diagnosis on stderr.
printf 'this is not\na postgres log\n' > "$T/junk.log"
rc=0
err=$("$PGSIFT" parse "$T/junk.log" 2>&1 >/dev/null) || rc=$?
expect_eq "exit code when nothing parses" 3 "$rc"
expect_contains "$err" "no log record could be parsed from '$T/junk.log' (2 lines read)"
expect_contains "$err" "formats tried"
expect_contains "$err" "junk.log:1: unrecognised log format: this is not"
expect_contains "$err" "hint: pass --format"
# A long diagnosis is printed whole (its last hint is stderr's; pgbouncer's, "this is a
# pgbouncer log", only when one was detected), and a raw C1 byte (0x9b: CSI to 8-bit
# terminals) in a line is not (hand-made lines).
for i in 1 2 3 4 5 6; do
  printf '127.0.0.1 \x9b31m - - [25/Nov/2026:10:00:0%d +0000] "GET /api/v1/items?page=%d&sort=name&filter=active&include=owner,tags,comments HTTP/1.1" 200 5123 "https://example.com/dashboard" "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0"\n' "$i" "$i"
done > "$T/access.log"
rc=0
err=$("$PGSIFT" parse "$T/access.log" 2>&1 >/dev/null) || rc=$?
expect_eq "exit code of an access log" 3 "$rc"
expect_contains "$err" "stderr: pass the server's log_line_prefix with --prefix (SHOW log_line_prefix;), e.g. --prefix '%m [%p] %q%u@%d '"
expect_not_contains "$err" "this is a pgbouncer log"
[[ $err != *$'\x9b'* ]] || fail "a raw 0x9b byte reached stderr"
stats=$("$PGSIFT" parse --stats "$T/access.log" 2>/dev/null) || true
expect_contains "$stats" '127.0.0.1 \x9b31m - -'
# Times the prefix was found in but whose zone is ambiguous (IST: India, Israel, Ireland):
# the hint is --tz, not --prefix (hand-made lines, as PostgreSQL writes them with
# log_timezone = 'Asia/Kolkata').
printf '2026-11-25 17:44:49.791 IST [9352] LOG:  hello\n2026-11-25 17:44:50.002 IST [9352] LOG:  again\n' >"$T/ist.log"
rc=0
err=$("$PGSIFT" parse "$T/ist.log" 2>&1 >/dev/null) || rc=$?
expect_eq "exit code of an ambiguous zone" 3 "$rc"
expect_contains "$err" "ambiguous time zone (pass --tz)"
expect_contains "$err" "hint: the lines' times have an abbreviation that names more than one zone"
expect_not_contains "$err" "--prefix (SHOW log_line_prefix;)"
expect_eq "with --tz" 2 "$("$PGSIFT" parse --tz Asia/Kolkata "$T/ist.log" | wc -l)"
# A --prefix that fits no line, the format left to detection: the hint names the prefix
# that fits, as --format stderr's does (QA 28: only --format stderr said it). Hand-made
# lines of the Debian default prefix.
printf '2024-06-10 14:03:22.000 UTC [4001] ann@shop LOG:  duration: 1.000 ms  statement: select 1\n2024-06-10 14:03:23.000 UTC [4001] ann@shop ERROR:  division by zero\n' >"$T/deb.log"
rc=0
err=$("$PGSIFT" parse --prefix '%m %p: ' "$T/deb.log" 2>&1 >/dev/null) || rc=$?
expect_eq "exit code of a wrong --prefix" 3 "$rc"
expect_contains "$err" "hint: no line matched log_line_prefix '%m %p: '; 2 of the first 2 lines match '%m [%p] %q%u@%d ' (try --prefix '%m [%p] %q%u@%d ')"
rc=0
err=$("$PGSIFT" parse --format jsonlog "$csv" 2>&1 >/dev/null) || rc=$?
expect_eq "exit code of the wrong --format" 3 "$rc"
expect_contains "$err" "format: jsonlog (from --format)"
expect_contains "$err" "postgresql.csv:1: invalid JSON"
# With several files, exit 3 only when none gave an event; a file that gave none among
# good ones is a warning with its diagnosis.
rc=0
err=$("$PGSIFT" parse "$csv" "$T/junk.log" 2>&1 >/dev/null) || rc=$?
expect_eq "exit code: good file + junk file" 0 "$rc"
expect_contains "$err" "warning: no log record could be parsed from '$T/junk.log'"
rc=0
err=$("$PGSIFT" parse "$T/junk.log" "$T/junk.log" 2>&1 >/dev/null) || rc=$?
expect_eq "exit code: two junk files" 3 "$rc"
expect_contains "$err" "warning: no log record could be parsed"
# Binary garbage is the same case, never a crash.
head -c 300000 /dev/urandom > "$T/random.bin"
expect_exit 3 "$PGSIFT" parse "$T/random.bin"
# An empty file read nothing: exit 0, no output.
: > "$T/empty.log"
expect_eq "output of an empty file" "" "$("$PGSIFT" parse "$T/empty.log")"

# Exit 2 and 1.
rc=0; err=$("$PGSIFT" parse --format nope "$csv" 2>&1) || rc=$?
expect_eq "exit code of an unknown format" 2 "$rc"
expect_contains "$err" "unknown log format 'nope' (expected one of: auto, "
rc=0; err=$("$PGSIFT" parse --tz IST "$csv" 2>&1) || rc=$?
expect_eq "exit code of an ambiguous --tz" 2 "$rc"
expect_exit 2 "$PGSIFT" parse --stats-format xml "$csv"
expect_exit 2 "$PGSIFT" parse
rc=0; err=$("$PGSIFT" parse "$T/missing.csv" 2>&1) || rc=$?
expect_eq "exit code of a missing file" 1 "$rc"
expect_contains "$err" "cannot open '$T/missing.csv'"

# Hostile records: invalid UTF-8, NUL bytes, an unterminated quote, a 10 MB+ line.
good=$(head -1 "$json")
{
  printf '%s\n' "$good"
  printf '{"timestamp":"2026-11-24 17:25:01.470 UTC","pid":7,"message":"caf\xe9 \x00x"}\n'
  printf '{"timestamp":"2026-11-24 17:25:01.470 UTC","pid":8,"message":"'
  head -c 11000000 /dev/zero | tr '\0' 'a'
  printf '"}\n'
  printf '%s\n' "$good"
} > "$T/hostile.json"
rc=0
"$PGSIFT" parse --format jsonlog "$T/hostile.json" > "$T/h.ndjson" 2> "$T/h.err" || rc=$?
expect_eq "exit code with hostile records" 0 "$rc"
expect_eq "hostile: good events" 2 "$(jq -c 'select(.pid != 7)' "$T/h.ndjson" | wc -l)"
expect_contains "$(cat "$T/h.err")" "invalid JSON 1"
expect_contains "$(cat "$T/h.err")" "line too long 1"
# The raw NUL ends nothing and the invalid byte is U+FFFD in valid JSON.
expect_eq "jsonlog line with a raw NUL" "invalid JSON" \
  "$("$PGSIFT" parse --stats --stats-format json --format jsonlog "$T/hostile.json" | jq -r '.rejects[0].reason')"
printf '{"timestamp":"2026-11-24 17:25:01.470 UTC","pid":7,"message":"caf\xe9","query_id":-9223372036854775808}\n' > "$T/latin1.json"
line=$("$PGSIFT" parse "$T/latin1.json")
expect_eq "invalid UTF-8 replaced" "caf"$'\xef\xbf\xbd' "$(jq -r .message <<<"$line")"
expect_eq "invalid_utf8 flag" true "$(jq -r .invalid_utf8 <<<"$line")"
expect_eq "query_id exact" '"-9223372036854775808"' "$(jq -c .query_id <<<"$line")"

# csvlog: a quoted statement of 11 MB over many lines is one "record too long" reject;
# the records around it parse.
first=$(head -1 "$csv")
{
  printf '%s\n' "$first"
  printf '2026-11-24 17:25:01.470 UTC,,,1,,6b05c86d.a,1,,2026-11-24 17:25:01 UTC,,0,LOG,00000,"huge\n'
  for i in $(seq 1 11); do head -c 1000000 /dev/zero | tr '\0' 'b'; printf '\n'; done
  printf '",,,,,,,,,"","checkpointer",,0\n'
  printf '%s\n' "$first"
} > "$T/huge.csv"
stats=$("$PGSIFT" parse --stats --stats-format json "$T/huge.csv")
expect_eq "huge csv record: events" 2 "$(jq '.totals.events' <<<"$stats")"
expect_eq "huge csv record: reject" "record too long" "$(jq -r '.rejects[0].reason' <<<"$stats")"
expect_eq "huge csv record: its lines" 13 "$(jq '.rejects[0].lines' <<<"$stats")"

# --stats: table and JSON agree.
table=$("$PGSIFT" parse --stats "$csv" "$json")
expect_contains "$table" "csvlog"
expect_contains "$table" "jsonlog"
expect_contains "$table" "severities: "
js=$("$PGSIFT" parse --stats --stats-format json "$csv" "$json")
expect_eq "stats events" $((n_csv * 2)) "$(jq '.totals.events' <<<"$js")"
expect_eq "stats kinds add up" $((n_csv * 2)) "$(jq '[.kinds[]] | add' <<<"$js")"
expect_eq "stats sources" 2 "$(jq '.sources | length' <<<"$js")"
expect_contains "$("$PGSIFT" help parse)" "--stats-format"
pass
