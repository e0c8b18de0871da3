#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# classify over the real PostgreSQL 15 fixtures (tests/fixtures/pg15/*):
#  - csvlog and jsonlog of the same run classify identically (kind and every extracted
#    number; compared as sorted lists: the collector may interleave processes differently
#    in the two files);
#  - the kind counts of each run equal an independent oracle: jq over the jsonlog
#    (message prefixes and SQLSTATEs, written from formats.md §7, not from classify.c);
#  - what the workload README promises: one deadlock with two participants, a statement
#    timeout, a lock timeout, an idle-in-transaction timeout, a cancel, an auth failure.
. "$(dirname "$0")/lib.sh"
need_cmd jq

fixtures=$SIFT_SOURCE_DIR/tests/fixtures/pg15
[[ -d $fixtures ]] || skip "no fixtures in $fixtures"

oracle='
  def m: (.message // "");
  def st: (.state_code // "00000");
  def sev: .error_severity;
  def err: (sev == "ERROR" or sev == "FATAL" or sev == "PANIC");
  if st == "40P01" then "deadlock"
  elif st == "28000" or st == "28P01" then "auth_failure"
  elif st == "53300" then "too_many_connections"
  elif st == "25P03" or st == "57P05" or st == "25P04" then "timeout"
  elif st == "57014" and (m | test("timeout")) then "timeout"
  elif st == "57014" then "cancel"
  elif st == "55P03" and (m | test("^canceling statement due to lock timeout")) then "timeout"
  elif err then "error"
  elif (m | test("^duration: [0-9.]+ ms  plan:")) then "plan"
  elif (m | test("^duration: [0-9.]+ ms")) then "duration"
  elif (m | test("^(statement: |execute )")) then "statement"
  elif (m | test("^process [0-9]+ acquired ")) then "lock_acquired"
  elif (m | test("^process [0-9]+ (still waiting for|detected deadlock|avoided deadlock|failed to acquire) ")) then "lock_wait"
  elif (m | test("^temporary file: ")) then "temp_file"
  elif (m | test("^(checkpoint|restartpoint) (starting|complete):|^checkpoints are occurring too frequently")) then "checkpoint"
  elif (m | test("^automatic analyze of table ")) then "autoanalyze"
  elif (m | test("^automatic (aggressive )?vacuum ")) then "autovacuum"
  elif (m | test("^connection received: ")) then "connection"
  elif (m | test("^(replication )?connection authorized: ")) then "authenticated"
  elif (m | test("^disconnection: ")) then "disconnection"
  elif (m | test("^database system is ready to accept ")) then "startup"
  elif (m | test("^(received (smart|fast|immediate) shutdown request|database system is shut down)$")) then "shutdown"
  else "other" end'

runs=0
for dir in "$fixtures"/*/; do
  [[ -f $dir/postgresql.json && -f $dir/postgresql.csv ]] || continue
  run=$(basename "$dir")
  runs=$((runs + 1))
  "$SIFT_TEST_TOOL" classify "$dir/postgresql.json" jsonlog >"$T/$run.json.facts"
  "$SIFT_TEST_TOOL" classify "$dir/postgresql.csv" csvlog >"$T/$run.csv.facts"
  expect_eq "$run: records" "$(wc -l <"$dir/postgresql.json")" "$(wc -l <"$T/$run.json.facts")"
  sort "$T/$run.json.facts" >"$T/$run.json.sorted"
  sort "$T/$run.csv.facts" >"$T/$run.csv.sorted"
  if ! cmp -s "$T/$run.json.sorted" "$T/$run.csv.sorted"; then
    diff "$T/$run.json.sorted" "$T/$run.csv.sorted" | head -5 >&2
    fail "$run: csvlog and jsonlog classify differently"
  fi
  got=$(cut -f1 "$T/$run.json.facts" | sort | uniq -c | sed 's/^ *//')
  want=$(jq -r "$oracle" "$dir/postgresql.json" | sort | uniq -c | sed 's/^ *//')
  expect_eq "$run: kind counts (classify vs jq oracle)" "$want" "$got"

  f=$T/$run.json.facts
  # run plan-insights (plans only) sends none of the shared workload promised below
  if [[ $run == plan-insights ]]; then
    expect_eq "$run: plans" 64 "$(awk -F'\t' '$1 == "plan"' "$f" | wc -l)"
    expect_eq "$run: every plan has a duration and its Query Text" 0 \
      "$(awk -F'\t' '$1 == "plan" && ($3 < 0 || $11 == 0)' "$f" | wc -l)"
    continue
  fi
  expect_eq "$run: deadlocks" 1 "$(awk -F'\t' '$1 == "deadlock"' "$f" | wc -l)"
  expect_eq "$run: deadlock participants" 2 "$(awk -F'\t' '$1 == "deadlock" {print $9}' "$f")"
  expect_eq "$run: timeouts" "idle_in_transaction_session_timeout lock_timeout statement_timeout" \
    "$(awk -F'\t' '$1 == "timeout" {print $5}' "$f" | sort | xargs)"
  expect_eq "$run: cancels" "user_request" "$(awk -F'\t' '$1 == "cancel" {print $5}' "$f" | xargs)"
  expect_eq "$run: auth failures" 1 "$(awk -F'\t' '$1 == "auth_failure"' "$f" | wc -l)"
  expect_eq "$run: lock waits have a wait time" 0 \
    "$(awk -F'\t' '($1 == "lock_wait" || $1 == "lock_acquired") && $6 < 0' "$f" | wc -l)"
  expect_eq "$run: temp files have a size" 0 "$(awk -F'\t' '$1 == "temp_file" && $7 < 0' "$f" | wc -l)"
  expect_eq "$run: completed checkpoints have buffers" \
    "$(awk -F'\t' '$1 == "checkpoint" && $4 == "end"' "$f" | wc -l)" \
    "$(awk -F'\t' '$1 == "checkpoint" && $4 == "end" && $8 >= 0' "$f" | wc -l)"
  expect_eq "$run: every duration/plan has a duration" 0 \
    "$(awk -F'\t' '($1 == "duration" || $1 == "plan") && $3 < 0' "$f" | wc -l)"
  expect_eq "$run: every plan has its Query Text" 0 "$(awk -F'\t' '$1 == "plan" && $11 == 0' "$f" | wc -l)"
  # bind/execute DETAILs with parameters: all flagged as tenant data
  expect_eq "$run: records with bind parameters" \
    "$(jq -r 'select((.detail // "") | test("^[Pp]arameters: ")) | 1' "$dir/postgresql.json" | wc -l)" \
    "$(awk -F'\t' '$10 == 1' "$f" | wc -l)"
done
((runs > 0)) || skip "no fixture runs with postgresql.json and postgresql.csv"
pass
