#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# pgsift tail next to a real PostgreSQL server: logging_collector on, csvlog, a small
# log_rotation_size and pg_rotate_logfile() calls while pgbench runs; pgsift tail is
# killed with SIGKILL twice mid-run and restarted. In the end the calls per query_id in
# its store equal those of `pgsift ingest` over the same files into a fresh store.
# labels: slow;pg;tail
# timeout: 600
. "$(dirname "$0")/lib.sh"
. "$SIFT_SOURCE_DIR/tests/integration/tail_lib.sh"
. "$SIFT_SOURCE_DIR/scripts/lib/pg.sh"
need_cmd sqlite3
[[ -x $PG_BINDIR/pg_ctl && -x $PG_BINDIR/pgbench ]] || skip "PostgreSQL binaries not in $PG_BINDIR"

# pg.sh runs the server as an unprivileged user when we are root: it needs to reach $T.
chmod 711 "$T"
trap '_tail_rc=$?; set +e; _tail_kill_all; pg_destroy; (exit $_tail_rc); _sift_cleanup' EXIT
pg_start "$T/pg" \
  "log_destination = 'csvlog'" \
  "log_filename = 'postgresql-%Y-%m-%d_%H%M%S.log'" \
  "log_rotation_size = '256kB'" \
  "log_min_duration_statement = 0" \
  "compute_query_id = on" \
  "log_lock_waits = on" \
  "log_temp_files = 0"
pg_sql postgres 'CREATE DATABASE bench'
pg_bench -i -q -s 1 bench >/dev/null 2>&1

cat >"$T/pgsift.yaml" <<YAML
store: $T/tail.db
sources:
  - name: pg
    path: $PG_LOGDIR
    format: csvlog
tail:
  commit_interval: 500ms
  rotate_wait: 1s
YAML
unset PGSIFT_DB
export PGSIFT_DB=$T/tail.db
tail_start --config "$T/pgsift.yaml"

# 25 s of pgbench at a bounded rate, with manual rotations every second.
pg_bench -c 4 -j 2 -T 25 -R 150 bench >"$T/pgbench.out" 2>&1 &
bench=$!
(while kill -0 "$bench" 2>/dev/null; do
  pg_sql postgres 'SELECT pg_rotate_logfile()' >/dev/null 2>&1
  sleep 1
done) &
rotator=$!

calls() { store_query "SELECT coalesce(sum(calls), 0) FROM query_stats" 2>/dev/null || echo 0; }
more_than() { (($(calls) > $1)); }
for round in 1 2; do
  wait_for 60 more_than "$(($(calls) + 2000))"
  tail_kill9
  tail_start --config "$T/pgsift.yaml"
done
wait "$bench" || { cat "$T/pgbench.out" >&2; fail "pgbench failed"; }
wait "$rotator" || true
pg_stop # every line flushed to the files
files=$(ls "$PG_LOGDIR"/*.csv | wc -l)
((files >= 5)) || fail "only $files csv files: the server did not rotate"

# The reference: the same files, loaded at once into a fresh store.
"$PGSIFT" --db "$T/ref.db" ingest --format csvlog "$PG_LOGDIR"/*.csv 2>"$T/ingest.err" ||
  { cat "$T/ingest.err" >&2; fail "pgsift ingest failed"; }
per_qid() { sqlite3 -batch -noheader "$1" "SELECT query_id, sum(calls) FROM query_stats GROUP BY query_id ORDER BY query_id"; }
ref=$(per_qid "$T/ref.db")
total=$(sqlite3 "$T/ref.db" "SELECT sum(calls) FROM query_stats")
((total > 10000)) || fail "only $total calls in the reference"
[[ $(wc -l <<<"$ref") -ge 5 ]] || fail "too few query_ids: $ref"
deadline=$((SECONDS + 60))
until [[ "$(per_qid "$T/tail.db")" == "$ref" ]]; do
  if ((SECONDS >= deadline)); then
    diff <(echo "$ref") <(per_qid "$T/tail.db") >&2 || true
    tail -n 30 "$T/tail.err" >&2
    fail "calls per query_id differ between pgsift tail and pgsift ingest"
  fi
  sleep 0.1
done
_sift_checks=$((_sift_checks + 1))
tail_stop TERM
tail_once --config "$T/pgsift.yaml"
expect_eq "calls per query_id after a restart" "$ref" "$(per_qid "$T/tail.db")"
expect_eq "rejects" 0 "$(sqlite3 "$T/tail.db" "SELECT coalesce(sum(count), 0) FROM rejects")"
# Lines per input: every rotated file under the source's name, each record once.
expect_eq "inputs of the lines" "pg $(sqlite3 "$T/ref.db" "SELECT sum(count) FROM record_stats")" \
  "$(sqlite3 "$T/tail.db" "SELECT group_concat(input) || ' ' || sum(n) FROM (SELECT input, sum(records) AS n FROM input_stats GROUP BY input)")"
echo "pgsift tail counted $total calls over $files rotated files, killed twice"
pass
