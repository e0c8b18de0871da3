#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The COPY oracle (issue #6 acceptance): for every real-server fixture run, the calls and
# the total execute time per query_id in the store equal those PostgreSQL itself computes
# from the same csvlog, loaded with COPY into the postgres_log table of the PostgreSQL
# documentation ("Using CSV-Format Log Output") and aggregated in SQL. Also p95 per
# fingerprint from the store within 1 % of percentile_cont(0.95) over the raw durations,
# and the same figures from the jsonlog of the run.
#
# What a call is (docs/store.md, "Calls and execute time"), the same on both sides by
# definition: one log record whose message is the duration of a statement's execution,
#   "duration: X ms  statement: ..."        (simple protocol)
#   "duration: X ms  execute <name>: ..."   (extended protocol, also "execute fetch from")
#   "duration: X ms"                        (log_duration alone) unless the record was
#                                           logged while the backend ran a Parse or Bind
#                                           message (command_tag PARSE / BIND)
# filed under the query_id column of that record (0 when the server logged none). Not
# calls: parse and bind durations (kept apart), "duration: X ms  plan:" (auto_explain's
# second record of a statement already counted), statements that failed (no duration).
# Nested statements are not logged with a duration of their own (log_min_duration_statement
# and log_duration time top-level messages only): their time is inside their caller's.
# Execute time = the sum of X over those records.
# labels: slow;pg
# timeout: 300
. "$(dirname "$0")/lib.sh"
. "$SIFT_SOURCE_DIR/scripts/lib/pg.sh"
need_cmd sqlite3 jq
F=$SIFT_SOURCE_DIR/tests/fixtures/pg15
[[ -f $F/text-plans/postgresql.csv ]] || skip "fixtures absent"
pg_server "log_min_messages = warning" "fsync = off"
pg_sql postgres 'CREATE DATABASE oracle'

# The PostgreSQL 15 csvlog columns, in order (doc: runtime-config-logging.html).
pg_sql oracle "CREATE TABLE postgres_log (
  log_time timestamp(3) with time zone, user_name text, database_name text,
  process_id integer, connection_from text, session_id text, session_line_num bigint,
  command_tag text, session_start_time timestamp with time zone,
  virtual_transaction_id text, transaction_id bigint, error_severity text,
  sql_state_code text, message text, detail text, hint text, internal_query text,
  internal_query_pos integer, context text, query text, query_pos integer, location text,
  application_name text, backend_type text, leader_pid integer, query_id bigint,
  run text, PRIMARY KEY (run, session_id, session_line_num))"

# Per query_id: calls, execute time in ms (3 decimals, as logged). ORACLE_SQL_CALLS may be
# set to another predicate to check that the comparison fails when the SQL side is wrong.
calls_pred=${ORACLE_SQL_CALLS:-"message ~ '^duration: [0-9.]+ ms  (statement|execute [^:]*): '
  OR (message ~ '^duration: [0-9.]+ ms\$' AND coalesce(command_tag, '') NOT IN ('PARSE', 'BIND'))"}
sql_per_qid() { # run [nonzero]: "query_id calls total_ms" lines
  pg_sql oracle "SELECT query_id || ' ' || count(*) || ' ' ||
      to_char(sum(substring(message from '^duration: ([0-9.]+) ms')::numeric), 'FM999999999990.000')
    FROM postgres_log WHERE run = '$1' AND ($calls_pred) ${2:+AND query_id <> 0}
    GROUP BY query_id ORDER BY query_id"
}
store_fmt="query_id || ' ' || sum(calls) || ' ' || printf('%.3f', sum(total_us) / 1000.0)"

compared=0
for dir in "$F"/*/; do
  run=$(basename "$dir")
  csv=$dir/postgresql.csv
  [[ -f $csv ]] || continue
  db=$T/$run.db

  # pgsift's side.
  "$PGSIFT" -q --db "$db" ingest "$csv" 2>"$T/$run.err" ||
    { cat "$T/$run.err" >&2; fail "$run: pgsift ingest failed"; }
  expect_eq "$run: rejects" 0 "$(PGSIFT_DB=$db store_query 'SELECT coalesce(sum(count), 0) FROM rejects')"

  # PostgreSQL's side: COPY the very same bytes (stdin: the server user cannot read $F
  # when we are root), tagged with the run so one table holds them all.
  pg_as "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -d oracle \
    -c "CREATE TEMP TABLE x (LIKE postgres_log)" -c "ALTER TABLE x DROP COLUMN run" \
    -c "COPY x FROM STDIN WITH (FORMAT csv)" \
    -c "INSERT INTO postgres_log SELECT *, '$run' FROM x" <"$csv"
  lines=$(pg_sql oracle "SELECT count(*) FROM postgres_log WHERE run = '$run'")
  expect_eq "$run: records loaded by COPY == records stored by pgsift" \
    "$(PGSIFT_DB=$db store_query 'SELECT sum(count) FROM record_stats')" "$lines"

  want=$(sql_per_qid "$run")
  n=$(wc -l <<<"$want")
  ((n >= 20)) || fail "$run: only $n query_ids in the oracle"

  # 1. The aggregates (what pgsift top and reports read), every query_id including 0.
  got=$(PGSIFT_DB=$db store_query "SELECT $store_fmt FROM query_stats WHERE phase = 'call'
    GROUP BY query_id HAVING sum(calls) > 0 ORDER BY query_id")
  if [[ $got != "$want" ]]; then
    diff <(echo "$want") <(echo "$got") | sed 's/^/  /' >&2 || true
    fail "$run: calls/execute time per query_id differ (< PostgreSQL, > query_stats)"
  fi
  _sift_checks=$((_sift_checks + 1))

  # 1b. The jsonlog of the same run (same records, another parser) gives the same.
  if [[ -f $dir/postgresql.json ]]; then
    "$PGSIFT" -q --db "$T/$run-json.db" ingest "$dir/postgresql.json" 2>"$T/$run.err" ||
      { cat "$T/$run.err" >&2; fail "$run: pgsift ingest of the jsonlog failed"; }
    got=$(PGSIFT_DB=$T/$run-json.db store_query "SELECT $store_fmt FROM query_stats WHERE phase = 'call'
      GROUP BY query_id HAVING sum(calls) > 0 ORDER BY query_id")
    if [[ $got != "$want" ]]; then
      diff <(echo "$want") <(echo "$got") | sed 's/^/  /' >&2 || true
      fail "$run: calls/execute time per query_id differ (< PostgreSQL, > query_stats from the jsonlog)"
    fi
    _sift_checks=$((_sift_checks + 1))
  fi

  # 2. The query catalogue: query_ids, summed over the fingerprints each maps to.
  want_nz=$(sql_per_qid "$run" nonzero)
  got=$(PGSIFT_DB=$db store_query "SELECT $store_fmt FROM query_ids
    GROUP BY query_id HAVING sum(calls) > 0 ORDER BY query_id")
  if [[ $got != "$want_nz" ]]; then
    diff <(echo "$want_nz") <(echo "$got") | sed 's/^/  /' >&2 || true
    fail "$run: calls/execute time per query_id differ (< PostgreSQL, > query_ids)"
  fi
  _sift_checks=$((_sift_checks + 1))

  # 3. pgsift top --format json: query_ids[] of every statement, summed per id.
  json=$("$PGSIFT" --db "$db" top --format json --limit 0)
  got=$(jq -r '[.queries[].query_ids[]] | group_by(.id) | map([.[0].id, (map(.calls) | add),
      (map(.total_ms) | add)]) | sort_by(.[0] | tonumber) | .[] | "\(.[0]) \(.[1]) \(.[2])"' <<<"$json" |
    awk '{ printf "%s %s %.3f\n", $1, $2, $3 }')
  if [[ $got != "$want_nz" ]]; then
    diff <(echo "$want_nz") <(echo "$got") | sed 's/^/  /' >&2 || true
    fail "$run: calls/execute time per query_id differ (< PostgreSQL, > pgsift top)"
  fi
  _sift_checks=$((_sift_checks + 1))

  # 4. p95 per fingerprint within 1 % of the exact percentile_cont(0.95) of the raw
  # durations, for every fingerprint whose calls all carry one query_id that no other
  # fingerprint has (PostgreSQL knows query_ids, not fingerprints).
  one=$(PGSIFT_DB=$db store_query "SELECT printf('%016x', fingerprint), query_id FROM query_stats s
    WHERE phase = 'call' AND calls > 0 AND fingerprint <> 0 AND query_id <> 0
      AND NOT EXISTS (SELECT 1 FROM query_stats o WHERE o.phase = 'call' AND o.calls > 0 AND
        ((o.fingerprint = s.fingerprint AND o.query_id <> s.query_id) OR
         (o.query_id = s.query_id AND o.fingerprint <> s.fingerprint)))
    GROUP BY fingerprint, query_id" | tr '|' ' ')
  exact=$(pg_sql oracle "SELECT query_id || ' ' || percentile_cont(0.95) WITHIN GROUP
      (ORDER BY substring(message from '^duration: ([0-9.]+) ms')::float8)
    FROM postgres_log WHERE run = '$run' AND ($calls_pred) GROUP BY query_id")
  checked=0
  while read -r fp qid; do
    [[ -n $fp ]] || continue
    p95=$(jq -r --arg fp "$fp" '.queries[] | select(.fingerprint == $fp) | .p95_ms' <<<"$json")
    ex=$(awk -v q="$qid" '$1 == q { print $2 }' <<<"$exact")
    [[ -n $ex && -n $p95 ]] || fail "$run: fingerprint $fp / query_id $qid missing (store '$p95', exact '$ex')"
    awk -v g="$p95" -v w="$ex" 'BEGIN { d = g - w; if (d < 0) d = -d; exit !(d <= 0.01 * w + 1e-9) }' ||
      fail "$run: p95 of $fp (query_id $qid): store $p95, exact $ex (more than 1 % apart)"
    checked=$((checked + 1))
  done <<<"$one"
  ((checked >= 10)) || fail "$run: only $checked fingerprints could be checked for p95"
  _sift_checks=$((_sift_checks + 1))

  calls=$(awk '{ s += $2 } END { print s }' <<<"$want")
  echo "$run: $n query_ids ($calls calls) equal in query_stats (csvlog and jsonlog), $(wc -l <<<"$want_nz") in query_ids and top; p95 of $checked fingerprints within 1 %"
  compared=$((compared + 1))
done
((compared >= 4)) || fail "only $compared fixture runs compared"
pass
