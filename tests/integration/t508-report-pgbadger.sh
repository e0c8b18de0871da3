#!/usr/bin/env bash
# The report's totals against pgBadger's on the same real logs (tests/fixtures/pg15, each
# run's csvlog): deadlocks, temp files (count and bytes), checkpoints, connections and
# sessions are equal; errors per message are equal; every other difference is one that
# docs/report.md ("Comparison with pgBadger") explains, checked here as an exact formula
# over the log lines that cause it, so the note cannot silently go stale.
# labels: slow
# timeout: 300
. "$(dirname "$0")/lib.sh"
fixture_clock
need_cmd pgbadger jq
"$PGSIFT" help ingest >/dev/null 2>&1 || skip "pgsift ingest is not built in"

for run in text-plans json-plans statement-log verbose-errors; do
  log=$SIFT_SOURCE_DIR/tests/fixtures/pg15/$run/postgresql.csv
  [[ -f $log ]] || skip "fixture $log is missing"
  db=$T/$run.db
  "$PGSIFT" --db "$db" ingest "$log" >/dev/null 2>&1
  day=$(head -c 10 "$log")
  "$PGSIFT" --db "$db" report --day "$day" --tz UTC --format json > "$run.ours.json"
  # (--pid-dir: pgBadger refuses to start while another holds /tmp/pgbadger.pid, say a
  # benchmark or a second test run on the same machine)
  pgbadger -q --pid-dir "$T" -f csv -x json -o "$run.pgb.json" "$log" >pgb.err 2>&1 ||
    fail "pgbadger failed on $log: $(cat pgb.err)"
  # Our own reading of the same log, for the explained differences.
  "$PGSIFT" parse "$log" 2>/dev/null > "$run.ndjson"
  count() { jq -s "[.[] | select($1)] | length" "$run.ndjson"; }
  o() { jq -r "$1" "$run.ours.json"; }
  p() { jq -r "$1" "$run.pgb.json"; }

  # Equal.
  expect_eq "$run: deadlocks" \
    "$(p '[.error_info.postgres | to_entries[] | select(.key | test("deadlock detected")) | .value.count] | add')" \
    "$(o .events.deadlock)"
  expect_eq "$run: temp files" "$(p .tempfile_info.postgres.count)" "$(o .temp_files.count)"
  expect_eq "$run: temp file bytes" "$(p .tempfile_info.postgres.size)" "$(o .temp_files.bytes.sum)"
  expect_eq "$run: checkpoints" "$(p '[.checkpoint_info.starting[]] | add')" "$(o .checkpoints.count)"
  expect_eq "$run: connections" "$(p .connection_info.postgres.count)" "$(o .sessions.connections)"
  expect_eq "$run: sessions" "$(p .session_info.postgres.count)" "$(o .sessions.disconnections)"

  # Calls. pgBadger counts a query per "statement:" line *and* per "duration:" line
  # (log_statement = all with log_duration), one per auto_explain plan (besides the
  # duration of the same execution), counts the bare "duration:" lines of the extended
  # protocol's Parse and Bind messages (log_duration; command tag PARSE/BIND), and skips
  # "statement: DEALLOCATE". pgsift counts one call per execution with a duration:
  # simple or execute, never parse/bind/plan.
  plans=$(o .events.plan)
  stmts=$(o .events.statement)
  dealloc=$(count '(.message // "") | test("statement: DEALLOCATE")')
  bare_pb=$(count '.kind == "duration" and (.phase == "parse" or .phase == "bind") and .query == null')
  # Parse and bind records are in the report apart from the calls (parse_bind), every one.
  expect_eq "$run: report's parse and bind records" \
    "$(count '.kind == "duration" and (.phase == "parse" or .phase == "bind")')" \
    "$(o '[.parse_bind[].count] | add // 0')"
  expect_eq "$run: pgBadger queries = calls + plans + statement lines + bare parse/bind durations - DEALLOCATE" \
    "$(p .overall_stat.queries_number)" "$(($(o .totals.calls) + plans + stmts + bare_pb - dealloc))"

  # Errors. pgBadger's "errors" also hold WARNINGs and LOG lines it re-labels
  # (change_log_level: still waiting for, parameter "…" changed to, database system was,
  # ...); pgsift counts ERROR, FATAL and PANIC records.
  warnings=$(count '.severity == "WARNING"')
  relabelled=$(count '.severity == "LOG" and ((.message // "") | test("still waiting for|parameter \"[^\"]+\" changed to \"[^\"]+\"|database system was|recovery has paused|ending cancel to blocking autovacuum|skipping analyze of|using stale statistics|replication command:|server process.*was terminated by signal|could not (receive|send) data (from|to) client"))')
  expect_eq "$run: pgBadger errors = errors + warnings + re-labelled LOG lines" \
    "$(p .overall_stat.errors_number)" "$(($(o .totals.errors) + warnings + relabelled))"

  # Errors per message: every pgBadger ERROR/FATAL/PANIC entry ("..." for what it
  # normalized away) matches pgsift error groups with the same total count.
  bad=$(jq -n --slurpfile p "$run.pgb.json" --slurpfile o "$run.ours.json" '
    [$o[0].errors[] | {m: "\(.severity):  \(.message)", c: .count}] as $ours
    | [$p[0].error_info.postgres | to_entries[]
       | select(.key | test("^(ERROR|FATAL|PANIC):  "))
       | select(.key | test("still waiting for|parameter \"...\" changed to|database system was") | not)
       | .key as $k | .value.count as $n
       | ($k | gsub("(?<c>[\\\\.*+?()\\[\\]{}|^$])"; "\\\(.c)") | gsub("\\\\\\.\\\\\\.\\\\\\."; ".*")) as $re
       | ([$ours[] | select(.m | gsub("…"; "...") | test("^" + $re + "$")) | .c] | add // 0) as $got
       | select($got != $n) | "\($k): pgBadger \($n), pgsift \($got)"] | .[]')
  expect_eq "$run: errors per message" "" "$bad"

  # Checkpoint warnings: pgBadger matches "(\d+) seconds apart" only, so PostgreSQL's
  # singular "(1 second apart)" is not counted.
  singular=$(count '(.message // "") | test("too frequently \\(1 second apart\\)")')
  expect_eq "$run: pgBadger checkpoint warnings = warnings - singular ones" \
    "$(p .overall_checkpoint.checkpoint_warning)" "$(($(o .checkpoints.warnings) - singular))"

  # Sessions by application: the name is in the "connection authorized" message (the
  # server sets application_name after that line, so its own column is empty there).
  expect_eq "$run: sessions by application" \
    "$(jq -s -r '[.[] | select(.kind == "authenticated") | .message | capture("application_name=(?<a>[^ ]+)").a]
       | group_by(.) | map("\(.[0]):\(length)") | sort | join(" ")' "$run.ndjson")" \
    "$(o '[.sessions.by_application[] | "\(.application):\(.count)"] | sort | join(" ")')"
  # Most sessions at once: authorized until their disconnection or a FATAL of the pid
  # (refused after authorization: no such database or role).
  expect_eq "$run: most sessions at once" \
    "$(jq -s '[foreach (.[] | select(.pid != null)) as $e ({open: {}, peak: 0};
        if $e.kind == "authenticated" then .open[$e.pid | tostring] = 1
        elif $e.kind == "disconnection" or $e.severity == "FATAL" then del(.open[$e.pid | tostring])
        else . end | .peak = ([.peak, (.open | length)] | max); .peak)] | max' "$run.ndjson")" \
    "$(o .sessions.peak)"
done
pass
