#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shellcheck disable=SC2016  # backticks in printf formats are Markdown, not command substitution
# gen-fixtures.sh: regenerate tests/fixtures/pg15/<run>/ from a real PostgreSQL 15 server.
#
# usage: scripts/gen-fixtures.sh [--keep-tmp] [--out DIR] [RUN...]
#
# --out DIR writes the runs under DIR instead of tests/fixtures/pg15 (the regeneration
# test uses it to compare a fresh run with the committed one).
#
# For each run (default: all of them, see RUNS below) a throw-away cluster is created with
# scripts/lib/pg.sh, configured to log everything to stderr, csvlog and jsonlog at once, fed the
# same scripted workload (pgbench in three protocols, fingerprint classes, quoting edge cases,
# errors, lock waits, a deadlock, timeouts, plans, temp files, checkpoints, autovacuum), stopped
# with a fast shutdown, and its three log files, a pg_stat_statements dump, the exact SQL sent
# (workload.sql) and a README.md are copied to tests/fixtures/pg15/<run>/.
# tests/fixtures/pg15/README.md is rewritten with an overview. Re-running replaces the runs it
# generates; only timestamps, pids, ports, durations and similar values change.
#
# Runs as root (server and clients then run as the system user "pgsift-test") or as a normal user.
# Needs /usr/lib/postgresql/15/bin (postgresql-15; override with PG_BINDIR) and perl or ss.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$SCRIPT_DIR/.." && pwd -P)
OUT="$REPO/tests/fixtures/pg15"
# shellcheck source-path=SCRIPTDIR source=lib/pg.sh
. "$SCRIPT_DIR/lib/pg.sh"

RUNS=(text-plans json-plans statement-log verbose-errors plan-insights)

die() {
	printf 'gen-fixtures: %s\n' "$*" >&2
	exit 1
}
say() {
	printf 'gen-fixtures: %s\n' "$*" >&2
}
usage_error() {
	printf 'gen-fixtures: %s\nusage: scripts/gen-fixtures.sh [--keep-tmp] [--out DIR] [RUN...]\n' "$*" >&2
	exit 2
}

keep_tmp=0
selected=()
while [ $# -gt 0 ]; do
	arg=$1
	shift
	case $arg in
	--keep-tmp) keep_tmp=1 ;;
	--out)
		[ $# -gt 0 ] || usage_error "option '--out' requires a directory"
		mkdir -p -- "$1"
		OUT=$(cd -- "$1" && pwd -P)
		shift
		;;
	-h | --help)
		sed -n '4,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
		printf 'runs: %s\n' "${RUNS[*]}"
		exit 0
		;;
	-*) usage_error "unknown option '$arg' (accepted: --keep-tmp, --out, --help)" ;;
	*)
		case " ${RUNS[*]} " in
		*" $arg "*) selected+=("$arg") ;;
		*) usage_error "unknown run '$arg' (accepted: ${RUNS[*]})" ;;
		esac
		;;
	esac
done
[ ${#selected[@]} -gt 0 ] || selected=("${RUNS[@]}")

# ---------------------------------------------------------------------------------------------
# Temporary state and cleanup (also on failure and on ^C).

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pgsift-fixtures.XXXXXX")
# The server's directory lives below WORK: the unprivileged user must be able to traverse it.
chmod 711 "$WORK"
declare -A S_FD=() S_PID=() S_OUT=() S_SEQ=()

cleanup() {
	local rc=$? name fd
	set +e
	for name in "${!S_FD[@]}"; do
		fd=${S_FD[$name]}
		exec {fd}>&-
	done
	for name in "${!S_PID[@]}"; do
		kill "${S_PID[$name]}" 2>/dev/null
	done
	pg_stop
	if [ "$rc" -ne 0 ]; then
		say "failed (exit $rc); client output follows"
		for f in "$WORK"/*/client-*.out "$WORK"/*/sess-*.out; do
			[ -f "$f" ] || continue
			printf '==> %s <==\n' "${f#"$WORK"/}" >&2
			tail -n 15 "$f" >&2
		done
		if [ -n "${PG_LOGDIR:-}" ] && [ -f "$PG_LOGDIR/postgresql.log" ]; then
			printf '==> server log (last 30 lines) <==\n' >&2
			tail -n 30 "$PG_LOGDIR/postgresql.log" >&2
		fi
	fi
	if [ "$keep_tmp" = 1 ]; then
		say "kept $WORK"
	else
		rm -rf -- "$WORK"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 141' PIPE

pg_wait_bins || exit 1
for f in auto_explain.so pg_stat_statements.so; do
	libdir=$("$PG_BINDIR/pg_config" --pkglibdir 2>/dev/null || echo /usr/lib/postgresql/15/lib)
	pg_wait_for 60 test -f "$libdir/$f" || die "'$libdir/$f' is missing (postgresql-15 / postgresql-contrib)"
done
PG_VERSION_STRING=$("$PG_BINDIR/postgres" --version)
case $PG_VERSION_STRING in
*" 15."*) ;;
*) die "expected PostgreSQL 15, found '$PG_VERSION_STRING' in $PG_BINDIR" ;;
esac

# ---------------------------------------------------------------------------------------------
# Runs: what differs between them. Everything else (COMMON_CONF, the workload) is shared.

COMMON_CONF=(
	"log_destination = 'stderr,csvlog,jsonlog'"
	"log_checkpoints = on"
	"log_connections = on"
	"log_disconnections = on"
	"log_lock_waits = on"
	"deadlock_timeout = '200ms'"
	"log_temp_files = 0"
	"log_autovacuum_min_duration = 0"
	"autovacuum_naptime = '1s'"
	"compute_query_id = on"
	"shared_preload_libraries = 'auto_explain,pg_stat_statements'"
	"pg_stat_statements.track = 'top'"
	"pg_stat_statements.track_utility = on"
	"auto_explain.log_min_duration = '50ms'"
	"auto_explain.log_analyze = on"
	"auto_explain.log_buffers = on"
)

# run_config RUN: sets RUN_CONF (array), RUN_CLIENT (socket|tcp), RUN_TXNS, RUN_TITLE, RUN_ABOUT.
run_config() {
	RUN_CLIENT=socket
	RUN_TXNS=5
	case $1 in
	text-plans)
		RUN_TITLE="stderr prefix '%m [%p] %q%u@%d/%a ', auto_explain text plans"
		RUN_ABOUT="The main run: Debian-style prefix with application name, every statement logged
with its duration (log_min_duration_statement = 0), plans in text format. psql sessions use the
unix socket (host=[local]), pgbench uses TCP (host=127.0.0.1)."
		RUN_CONF=(
			"log_line_prefix = '%m [%p] %q%u@%d/%a '"
			"log_min_duration_statement = 0"
			"auto_explain.log_format = text"
		)
		;;
	json-plans)
		RUN_CLIENT=tcp
		RUN_TITLE="Supabase-like prefix '%h %m [%p] %q%u@%d ', auto_explain JSON plans"
		RUN_ABOUT="Supabase's log_line_prefix (client host first, no application name), every
statement logged with its duration, plans in JSON format (one pretty-printed JSON object per plan,
spread over many lines). Every client connects over TCP (host=127.0.0.1)."
		RUN_CONF=(
			"log_line_prefix = '%h %m [%p] %q%u@%d '"
			"log_min_duration_statement = 0"
			"auto_explain.log_format = json"
		)
		;;
	statement-log)
		RUN_TXNS=3
		RUN_TITLE="log_statement = all + log_duration = on (statement and duration on separate lines), pgBadger-style prefix"
		RUN_ABOUT="No 'duration: ... statement:' lines: log_min_duration_statement = -1,
log_statement = 'all' logs 'statement: ...' (simple protocol) or 'execute <name>: ...' (extended
protocol) before execution, and log_duration = on logs a bare 'duration: N ms' line per protocol
step (parse, bind, execute) after it. The prefix is pgBadger's classic recommendation, without %q,
so background processes print empty user/db/app/client fields. Plans in text format.
Pairing, per pid: a simple-protocol statement is 'statement: SQL' then 'duration: N ms'; an
extended-protocol statement is 'duration' (parse), 'duration' (bind), 'execute <name>: SQL' with
DETAIL 'parameters: ...', then 'duration' (execute) -- the parse and bind durations come before
the statement text. 'EXECUTE name(...)' of a PREPAREd statement is 'statement: EXECUTE ...' with
DETAIL 'prepare: PREPARE ...', then 'duration'. Errors have no duration line."
		RUN_CONF=(
			"log_line_prefix = '%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h '"
			"log_min_duration_statement = -1"
			"log_statement = 'all'"
			"log_duration = on"
			"auto_explain.log_format = text"
		)
		;;
	verbose-errors)
		RUN_TXNS=3
		RUN_TITLE="log_error_verbosity = verbose (SQLSTATE in the message line + LOCATION lines), RDS-style prefix"
		RUN_ABOUT="log_error_verbosity = verbose: in the stderr file every record's first line
carries the SQLSTATE ('ERROR:  42601: syntax error ...', also 'LOG:  00000: duration: ...') and
is followed by a 'LOCATION:  function, file.c:line' line; csvlog fills the location column and
jsonlog adds func_name/file_name/file_line_num. The prefix is Amazon RDS's
'%t:%r:%u@%d:[%p]:' (second-precision timestamps, client host(port), no %q, so background
processes print '::@:[pid]:'). Every statement logged with its duration, plans in text format."
		RUN_CONF=(
			"log_line_prefix = '%t:%r:%u@%d:[%p]:'"
			"log_min_duration_statement = 0"
			"log_error_verbosity = verbose"
			"auto_explain.log_format = text"
		)
		;;
	plan-insights)
		# ---- run plan-insights (added for issue 10, auto_explain plans) ----
		RUN_TITLE="auto_explain text then JSON plans of a workload that triggers every plan insight, with controls"
		RUN_ABOUT="Only the plan-insights workload (no pgbench, errors or locks): every plan insight
pgsift knows is triggered once, next to a control statement that must not trigger it, and a plan
change is forced by dropping and recreating an index. The workload runs twice in one session,
first with auto_explain.log_format = text, then (SET by the superuser session) json, so the same
plans exist in both formats; a few statements follow as yaml and xml plans.
auto_explain.log_triggers is on for the slow foreign-key trigger."
		RUN_CONF=(
			"log_line_prefix = '%m [%p] %q%u@%d/%a '"
			"log_min_duration_statement = 0"
			"auto_explain.log_format = text"
			"auto_explain.log_triggers = on"
		)
		;;
	*) die "no configuration for run '$1'" ;;
	esac
}

# ---------------------------------------------------------------------------------------------
# Workload plumbing.

# conninfo DB USER [APPLICATION_NAME]
conninfo() {
	local host=$PGHOST
	[ "$RUN_CLIENT" = tcp ] && host=127.0.0.1
	printf 'host=%s port=%s dbname=%s user=%s' "$host" "$PGPORT" "$1" "$2"
	[ $# -lt 3 ] || printf ' application_name=%s' "$3"
}

# note TEXT: append a line to the run's workload.sql.
note() {
	printf '%s\n' "$*" >>"$STAGE/workload.sql"
}

# step TITLE: progress message and a section header in workload.sql.
step() {
	say "$RUN: $1"
	note ""
	note "-- ================================================================================"
	note "-- $1"
}

# psql_script NAME DB USER [APP] <SQL: run one psql (simple protocol, one statement per query
# unless joined with \;) with SQL from stdin; psql does not stop on SQL errors.
psql_script() {
	local name=$1 db=$2 user=$3 app=${4:-} sql
	sql=$(cat)
	note "-- psql session '$name': database $db, user $user${app:+, application_name $app}"
	note "$sql"
	printf '%s\n' "$sql" | pg_psql -d "$(conninfo "$db" "$user" ${app:+"$app"})" \
		>>"$RUN_WORK/client-$name.out" 2>&1 ||
		die "psql session '$name' failed (see $RUN_WORK/client-$name.out)"
}

# bench NAME ARGS...: pgbench over TCP as app_rw on database app.
bench() {
	local name=$1
	shift
	note "-- pgbench -h 127.0.0.1 -U app_rw $* app"
	pg_bench -h 127.0.0.1 -p "$PGPORT" -U app_rw "$@" app >>"$RUN_WORK/client-$name.out" 2>&1 ||
		die "pgbench '$name' failed (see $RUN_WORK/client-$name.out)"
}

# Interactive sessions: a psql reading from a FIFO, so that the order of statements across
# sessions is controlled from here. sess_sync waits until everything sent so far has finished.
sess_open() { # NAME DB USER
	local name=$1 fifo="$RUN_WORK/sess-$1.fifo" fd f
	mkfifo "$fifo"
	S_OUT[$name]="$RUN_WORK/sess-$name.out"
	S_SEQ[$name]=0
	(
		# do not keep other sessions' FIFOs open, or they would never see end-of-file
		for f in "${S_FD[@]}"; do
			exec {f}>&-
		done
		pg_as stdbuf -oL -eL "$PG_BINDIR/psql" -X -d "$(conninfo "$2" "$3" "$name")"
	) <"$fifo" >"${S_OUT[$name]}" 2>&1 &
	S_PID[$name]=$!
	exec {fd}>"$fifo"
	S_FD[$name]=$fd
	note "-- session '$name' opened: database $2, user $3, application_name $name"
}

sess_send() { # NAME SQL
	local fd=${S_FD[$1]}
	note "-- [$1]"
	note "$2"
	printf '%s\n' "$2" >&"$fd"
}

sess_sync() { # NAME
	local name=$1 n fd=${S_FD[$1]} i
	n=$((S_SEQ[$name] + 1))
	S_SEQ[$name]=$n
	printf '\\echo __pgsift_sync_%s__\n' "$n" >&"$fd"
	for ((i = 0; i < 600; i++)); do
		grep -qx "__pgsift_sync_${n}__" "${S_OUT[$name]}" && return 0
		kill -0 "${S_PID[$name]}" 2>/dev/null || die "session '$name' ended unexpectedly"
		sleep 0.05
	done
	die "session '$name' did not finish its statements within 30 s"
}

sess_close() { # NAME [expect-exit]  (expect-exit: the server ends this session itself)
	local name=$1 fd=${S_FD[$1]} rc=0
	exec {fd}>&-
	unset "S_FD[$name]"
	wait "${S_PID[$name]}" || rc=$?
	unset "S_PID[$name]"
	note "-- session '$name' closed"
	if [ "${2:-}" != expect-exit ] && [ "$rc" -ne 0 ]; then
		die "session '$name' exited with $rc (see ${S_OUT[$name]})"
	fi
}

# log_count TEXT: how many lines of the stderr log contain TEXT.
log_count() {
	grep -cF -- "$1" "$PG_LOGDIR/postgresql.log" || true
}

# wait_log TEXT COUNT SECONDS: wait until TEXT appears COUNT times in the stderr log.
wait_log() {
	local i
	for ((i = 0; i < $3 * 20; i++)); do
		[ "$(log_count "$1")" -ge "$2" ] && return 0
		sleep 0.05
	done
	die "'$1' did not appear in the server log within $3 s"
}

# ---------------------------------------------------------------------------------------------
# The workload. Every run executes all of it; see workload.sql in each run for the exact text.

wl_setup() {
	step "setup: extension, role app_rw, database app"
	psql_script setup postgres postgres <<'SQL'
CREATE EXTENSION pg_stat_statements;
CREATE ROLE app_rw LOGIN;
CREATE DATABASE app OWNER app_rw;
SQL
}

wl_pgbench() {
	step "pgbench: initialise scale 1, then -M simple, -M extended, -M prepared"
	bench init -i -s 1 -q
	bench simple -M simple -c 2 -j 2 -t "$RUN_TXNS"
	bench extended -M extended -c 2 -j 2 -t "$RUN_TXNS"
	bench prepared -M prepared -c 2 -j 2 -t "$RUN_TXNS"
}

wl_schema() {
	step "schema for the custom workload (app_rw)"
	psql_script schema app app_rw <<'SQL'
CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, price numeric(10,2), flag boolean NOT NULL DEFAULT false);
INSERT INTO items SELECT g, 'item ' || g, g * 1.5, g % 2 = 0 FROM generate_series(1, 1000) AS g;
CREATE TABLE tags (item_id bigint NOT NULL, tag text);
CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL UNIQUE, name text);
CREATE TABLE orders (id serial PRIMARY KEY, user_id int NOT NULL REFERENCES users (id), amount numeric NOT NULL CHECK (amount > 0));
CREATE TABLE acct (id int PRIMARY KEY, bal int NOT NULL);
INSERT INTO acct SELECT g, 100 FROM generate_series(1, 10) AS g;
CREATE SCHEMA s2;
CREATE TABLE s2.items (id bigint PRIMARY KEY, name text);
INSERT INTO s2.items VALUES (1, 'other schema');
CREATE TABLE av_demo (id int PRIMARY KEY, v int NOT NULL);
INSERT INTO av_demo SELECT g, 0 FROM generate_series(1, 20000) AS g;
ANALYZE items, tags, users, orders, acct, s2.items;
-- 20000 dead tuples: autovacuum (naptime 1s) vacuums and analyzes av_demo while the rest runs
UPDATE av_demo SET v = v + 1;
SQL
}

wl_fingerprints() {
	step "fingerprint classes (simple protocol; pg_stat_statements groups these by queryid)"
	psql_script fingerprints app app_rw <<'SQL'
-- same queryid: literal values, spacing, comments, case, schema resolving to the same table, alias
SELECT * FROM items WHERE id = 1;
select * from items where id=2 /* comment */;
SELECT * FROM items WHERE id = -3;
SELECT *   FROM   items
  WHERE ID = 4;
SELECT * FROM public.items WHERE id = 5;
SELECT * FROM items AS x WHERE x.id = 6;
SELECT * FROM "items" WHERE "id" = 7;
SELECT * FROM items WHERE id IN (8);
-- different queryid: int8 constant instead of int4
SELECT * FROM items WHERE id = 3000000000;
-- IN-lists: same length -> same queryid, different length -> different queryid (PG15)
SELECT * FROM items WHERE id IN (1, 2, 3);
SELECT * FROM items WHERE id IN (4, 5);
SELECT * FROM items WHERE id IN (6, 7, 8);
SELECT * FROM items WHERE id IN (9, 10, 11, 12);
SELECT * FROM items WHERE id = ANY (ARRAY[13, 14]);
SELECT * FROM items WHERE id = ANY ('{15,16,17}');
SELECT * FROM items WHERE id NOT IN (18);
SELECT count(*) FROM items WHERE id <> 19;
-- VALUES lists with different row counts
INSERT INTO tags (item_id, tag) VALUES (1, 'a');
INSERT INTO tags (item_id, tag) VALUES (2, 'b'), (3, 'c');
INSERT INTO tags (item_id, tag) VALUES (4, 'd'), (5, 'e'), (6, NULL);
INSERT INTO tags (item_id, tag) VALUES (7, 'g');
INSERT INTO tags (item_id, tag) VALUES (8, 'h'), (9, 'i');
-- target-list order, column aliases, booleans, LIMIT/OFFSET, numeric constants
SELECT id, name FROM items WHERE id = 20;
SELECT name, id FROM items WHERE id = 21;
SELECT id AS a FROM items WHERE id = 22;
SELECT id AS b FROM items WHERE id = 23;
SELECT count(*) FROM items WHERE flag = true;
SELECT count(*) FROM items WHERE flag = false;
SELECT id FROM items ORDER BY id LIMIT 5;
SELECT id FROM items ORDER BY id LIMIT 6 OFFSET 2;
SELECT count(*) FROM items WHERE price > 10.5;
SELECT count(*) FROM items WHERE price > 99.25;
SELECT now() - interval '7 days' > now();
SELECT now() - '7 days'::interval > now();
-- same table name in another schema: a different table, a different queryid
SELECT * FROM s2.items WHERE id = 1;
SET search_path = s2, public;
SELECT * FROM items WHERE id = 1;
RESET search_path;
-- utility statements (PG15: queryid = hash of the text, constants not normalised)
SET work_mem = '8MB';
SET work_mem = '16MB';
RESET work_mem;
-- PREPARE / EXECUTE (logged as 'statement: EXECUTE ...' with DETAIL 'prepare: PREPARE ...')
PREPARE get_item (bigint) AS SELECT id, name FROM items WHERE id = $1;
EXECUTE get_item(1);
EXECUTE get_item(2);
DEALLOCATE get_item;
-- an explicit transaction
BEGIN;
UPDATE items SET price = price + 1 WHERE id = 1;
UPDATE items SET price = price + 1 WHERE id = 2;
COMMIT;
-- several statements in one query string: one duration line, queryid of the last one
SELECT 1 AS one \; SELECT 2 AS two;
SQL
}

wl_extended_custom() {
	step "custom pgbench script, extended and prepared protocol (\$n parameters)"
	local script="$PG_BASEDIR/custom.pgbench"
	cat >"$script" <<'PGBENCH'
\set id random(1, 1000)
SELECT id, name FROM items WHERE id = :id;
SELECT count(*) FROM items WHERE id IN (:id, :id + 1, :id + 2);
UPDATE items SET price = price + 0.01 WHERE id = :id;
INSERT INTO tags (item_id, tag) VALUES (:id, 'bench');
PGBENCH
	chmod 644 "$script"
	note "-- custom.pgbench:"
	note "$(sed 's/^/--   /' "$script")"
	bench custom-extended -n -M extended -c 1 -t 5 -f "$script"
	bench custom-prepared -n -M prepared -c 1 -t 5 -f "$script"
}

wl_quoting() {
	step "multi-line statements, quoting edge cases, non-ASCII text"
	local inlist tab=$'\t'
	inlist=$(seq -s ', ' 1 600)
	psql_script quoting app app_rw <<SQL
CREATE TABLE "Mixed Case" (id int PRIMARY KEY, "Quoted ""Col""" text, "naïve" text);
INSERT INTO "Mixed Case" VALUES (1, 'it''s', 'café'), (2, E'two\\nlines', '日本語'), (3, \$\$dollar 'quoted' "text"\$\$, '🐘 emoji');
SELECT "Quoted ""Col""", "naïve" FROM "Mixed Case" WHERE "naïve" = 'café';
SELECT id,
       "naïve"   -- trailing comment with a 'quote
  FROM "Mixed Case"
 WHERE "Quoted ""Col""" = 'it''s'
   AND id < 10;
SELECT 'multi-line
string literal' AS m, E'tab\\there' AS t, U&'d\\0061t\\+000061' AS u, '\\' AS one_backslash;
SELECT 'literal${tab}tab' AS tab_in_literal;
SELECT 'first line
2026-01-01 00:00:00.000 UTC [1] LOG:  not a record, a line inside a string literal' AS fake_record;
SELECT /* block /* nested */ comment */ count(*) FROM "Mixed Case" WHERE "naïve" LIKE '%🐘%';
CREATE FUNCTION app_greet(who text) RETURNS text LANGUAGE plpgsql AS \$fn\$
BEGIN
  -- a dollar-quoted format string (tag q) nested in the function body (tag fn)
  RETURN format(\$q\$Hello, %s! It's \$x\$ o'clock\$q\$, who);
END
\$fn\$;
SELECT app_greet('Zoë'), app_greet('日本語'), app_greet('🐘');
SELECT length(repeat('é', 3)) AS n, 'Ünïcödé' ILIKE 'ü%' AS matches, '🐘🐘' || 'x' AS s;
SELECT count(*) FROM items WHERE id IN (${inlist});
SQL
}

wl_errors() {
	step "errors of several SQLSTATEs, a warning, timeouts, failed connections"
	psql_script errors app app_rw <<'SQL'
SELEC 1;
SELECT * FROM no_such_table;
SELECT no_such_column FROM items;
SELECT 1 / 0;
SELECT 'abc'::integer;
INSERT INTO users (email, name) VALUES ('ann@example.com', 'Ann');
INSERT INTO users (email, name) VALUES ('ann@example.com', 'Ann again');
INSERT INTO users (email, name) VALUES (NULL, 'Nobody');
INSERT INTO orders (user_id, amount) VALUES (424242, 10);
INSERT INTO orders (user_id, amount) VALUES (1, -5);
CREATE FUNCTION app_fail(msg text) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'app failure: %', msg USING HINT = 'raised on purpose by the fixture workload';
END
$$;
SELECT app_fail('boom');
DO $$ BEGIN RAISE WARNING 'low balance on account %', 7; END $$;
BEGIN;
SELECT 1 / 0;
SELECT 1;
ROLLBACK;
SET statement_timeout = '100ms';
SELECT pg_sleep(2);
RESET statement_timeout;
SQL
	note "-- psql 'dbname=nosuchdb user=app_rw' and 'dbname=app user=ghost': connection refused by the server"
	pg_psql -d "$(conninfo nosuchdb app_rw)" -c 'SELECT 1' >>"$RUN_WORK/client-badconn.out" 2>&1 &&
		die "connecting to database nosuchdb succeeded"
	pg_psql -d "$(conninfo app ghost)" -c 'SELECT 1' >>"$RUN_WORK/client-badconn.out" 2>&1 &&
		die "connecting as role ghost succeeded"

	step "idle_in_transaction_session_timeout"
	local before
	before=$(log_count "idle-in-transaction timeout")
	sess_open idle_tx app app_rw
	sess_send idle_tx "SET idle_in_transaction_session_timeout = '300ms';"
	sess_send idle_tx "BEGIN;"
	sess_send idle_tx "SELECT count(*) FROM acct;"
	sess_sync idle_tx
	wait_log "idle-in-transaction timeout" $((before + 1)) 20
	sess_close idle_tx expect-exit
}

wl_locks() {
	local before

	step "lock wait (> deadlock_timeout) and a lock_timeout"
	before=$(log_count "still waiting for ShareLock")
	sess_open lock_holder app app_rw
	sess_open lock_waiter app app_rw
	sess_open lock_nowait app app_rw
	sess_send lock_holder "BEGIN;"
	sess_send lock_holder "UPDATE acct SET bal = bal + 1 WHERE id = 3;"
	sess_sync lock_holder
	sess_send lock_waiter "UPDATE acct SET bal = bal + 10 WHERE id = 3;"
	wait_log "still waiting for ShareLock" $((before + 1)) 20
	sess_send lock_nowait "SET lock_timeout = '100ms';"
	sess_send lock_nowait "UPDATE acct SET bal = bal + 100 WHERE id = 3;"
	sess_send lock_nowait "RESET lock_timeout;"
	sess_sync lock_nowait
	sess_send lock_holder "SELECT pg_sleep(0.3);"
	sess_send lock_holder "COMMIT;"
	sess_sync lock_holder
	sess_sync lock_waiter
	sess_close lock_holder
	sess_close lock_waiter
	sess_close lock_nowait

	step "deadlock (the second waiter is the victim)"
	before=$(log_count "still waiting for ShareLock")
	sess_open deadlock_a app app_rw
	sess_open deadlock_b app app_rw
	sess_send deadlock_a "BEGIN;"
	sess_send deadlock_a "UPDATE acct SET bal = bal - 1 WHERE id = 1;"
	sess_sync deadlock_a
	sess_send deadlock_b "BEGIN;"
	sess_send deadlock_b "UPDATE acct SET bal = bal - 1 WHERE id = 2;"
	sess_sync deadlock_b
	sess_send deadlock_a "UPDATE acct SET bal = bal + 1 WHERE id = 2;"
	wait_log "still waiting for ShareLock" $((before + 1)) 20
	sess_send deadlock_b "UPDATE acct SET bal = bal + 1 WHERE id = 1;"
	sess_sync deadlock_b
	sess_send deadlock_b "ROLLBACK;"
	sess_sync deadlock_b
	sess_sync deadlock_a
	sess_send deadlock_a "COMMIT;"
	sess_sync deadlock_a
	sess_close deadlock_a
	sess_close deadlock_b
	grep -q 'deadlock detected' "${S_OUT[deadlock_b]}" || die "no deadlock in session deadlock_b"

	step "serialization failure (REPEATABLE READ)"
	sess_open serial_a app app_rw
	sess_open serial_b app app_rw
	sess_send serial_a "BEGIN ISOLATION LEVEL REPEATABLE READ;"
	sess_send serial_a "SELECT bal FROM acct WHERE id = 4;"
	sess_sync serial_a
	sess_send serial_b "UPDATE acct SET bal = bal + 5 WHERE id = 4;"
	sess_sync serial_b
	sess_send serial_a "UPDATE acct SET bal = bal + 7 WHERE id = 4;"
	sess_send serial_a "ROLLBACK;"
	sess_sync serial_a
	sess_close serial_a
	sess_close serial_b

	step "pg_cancel_backend and pg_terminate_backend"
	sess_open cancel_me app app_rw
	sess_open kill_me app app_rw
	sess_open admin app postgres
	sess_send cancel_me "SELECT pg_sleep(30);"
	sess_send kill_me "SELECT pg_sleep(30);"
	local who fn
	for who in cancel_me kill_me; do
		fn=pg_cancel_backend
		[ "$who" = kill_me ] && fn=pg_terminate_backend
		sess_send admin "DO \$\$
DECLARE
  target int;
BEGIN
  FOR i IN 1 .. 2000 LOOP
    PERFORM pg_stat_clear_snapshot();
    SELECT pid INTO target FROM pg_stat_activity
     WHERE application_name = '$who' AND wait_event = 'PgSleep';
    EXIT WHEN target IS NOT NULL;
    PERFORM pg_sleep(0.01);
  END LOOP;
  IF target IS NULL THEN
    RAISE EXCEPTION 'session $who is not sleeping';
  END IF;
  PERFORM $fn(target);
END
\$\$;"
		sess_sync admin
	done
	sess_sync cancel_me
	sess_close cancel_me
	sess_close kill_me expect-exit
	sess_close admin
	if grep -q 'is not sleeping' "${S_OUT[admin]}"; then
		die "pg_cancel_backend/pg_terminate_backend found no target"
	fi
}

wl_plans() {
	step "plans: plan change, misestimate, spilling sort and hash, parallel workers, nested statement"
	psql_script plans app postgres <<'SQL'
SET auto_explain.log_min_duration = 0;
CREATE TABLE events (id int, kind int, payload text);
INSERT INTO events SELECT g, g % 1000, md5(g::text) FROM generate_series(1, 50000) AS g;
ANALYZE events;
-- the same statement three times: Seq Scan, then an index scan, then Seq Scan on shifted data
SELECT count(*), max(payload) FROM events WHERE kind = 42;
CREATE INDEX events_kind_idx ON events (kind);
SELECT count(*), max(payload) FROM events WHERE kind = 42;
UPDATE events SET kind = 42 WHERE id <= 40000;
ANALYZE events;
SELECT count(*), max(payload) FROM events WHERE kind = 42;
-- misestimate: correlated columns (estimated 10 rows, actually 1000)
CREATE TABLE corr AS SELECT g AS id, g % 100 AS a, g % 100 AS b FROM generate_series(1, 100000) AS g;
ANALYZE corr;
SELECT count(*) FROM corr WHERE a = 1 AND b = 1;
-- a sort spilling to a temporary file
SET work_mem = '64kB';
SET max_parallel_workers_per_gather = 0;
SELECT count(*) FROM (SELECT payload FROM events ORDER BY payload) AS s;
-- parallel workers sorting (their temp files are logged with their own pid)
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET parallel_leader_participation = off;
SELECT md5(payload || id) AS h FROM events ORDER BY h LIMIT 3 OFFSET 40000;
-- a hash join in a few batches (temporary files)
SET work_mem = '1MB';
SET max_parallel_workers_per_gather = 0;
SELECT count(*) FROM events AS e JOIN corr AS c ON c.id = e.id;
RESET ALL;
-- a statement inside a function (plan logged with a CONTEXT line)
SET auto_explain.log_min_duration = 0;
SET auto_explain.log_nested_statements = on;
DO $$ BEGIN PERFORM count(*) FROM events WHERE kind = 7; END $$;
SQL
}

wl_misc() {
	step "same statement in two databases"
	psql_script crossdb-postgres postgres postgres <<'SQL'
SELECT count(*) FROM pg_class WHERE relkind = 'r';
SQL
	psql_script crossdb-app app postgres <<'SQL'
SELECT count(*) FROM pg_class WHERE relkind = 'r';
SQL

	step "checkpoints: CHECKPOINT, reload with max_wal_size = 32MB, ~50 MB of WAL, reset, CHECKPOINT"
	local before_wal before_freq
	before_wal=$(log_count "checkpoint starting: wal")
	before_freq=$(log_count "checkpoints are occurring too frequently")
	psql_script checkpoint app postgres <<'SQL'
CHECKPOINT;
ALTER SYSTEM SET max_wal_size = '32MB';
SELECT pg_reload_conf();
SQL
	wait_log 'parameter "max_wal_size" changed to "32MB"' 1 10
	psql_script wal-burn app postgres <<'SQL'
CREATE TABLE wal_burn AS SELECT g AS id, repeat('x', 400) AS filler FROM generate_series(1, 120000) AS g;
SQL
	wait_log "checkpoint starting: wal" $((before_wal + 1)) 30
	wait_log "checkpoints are occurring too frequently" $((before_freq + 1)) 10
	psql_script checkpoint2 app postgres <<'SQL'
DROP TABLE wal_burn;
ALTER SYSTEM RESET max_wal_size;
SELECT pg_reload_conf();
CHECKPOINT;
SQL
	# initdb writes max_wal_size = 1GB into postgresql.conf, so this is a change back to 1GB
	wait_log 'parameter "max_wal_size" changed to "1GB"' 1 10

	step "autovacuum and autoanalyze of av_demo"
	wait_log 'automatic vacuum of table "app.public.av_demo"' 1 60
	wait_log 'automatic analyze of table "app.public.av_demo"' 1 60
}

wl_pgss_dump() {
	step "pg_stat_statements dump (pg_stat_statements.csv)"
	local sql="COPY (SELECT s.queryid, s.calls, s.total_exec_time, s.query, d.datname AS dbname, r.rolname AS username, s.toplevel, s.rows FROM pg_stat_statements AS s LEFT JOIN pg_database AS d ON d.oid = s.dbid LEFT JOIN pg_roles AS r ON r.oid = s.userid ORDER BY d.datname, r.rolname, s.queryid) TO STDOUT WITH CSV HEADER"
	note "-- psql -d postgres -c \"$sql\" > pg_stat_statements.csv"
	pg_psql -q -v ON_ERROR_STOP=1 -d "$(conninfo postgres postgres)" -c "$sql" \
		>"$STAGE/pg_stat_statements.csv" 2>>"$RUN_WORK/client-pgss.out" ||
		die "pg_stat_statements dump failed"
}

# ---------------------------------------------------------------------------------------------
# Run plan-insights (issue 10): one plan session whose statements each trigger one plan insight
# (or are its control), run once with text plans and once with JSON plans.

# pi_pass FORMAT: the SQL of one pass, plans in auto_explain.log_format FORMAT.
pi_pass() {
	cat <<SQL
SET auto_explain.log_format = $1;
SET auto_explain.log_min_duration = 0;
-- plan change forced by dropping and recreating an index: Bitmap Heap Scan, Seq Scan, Bitmap Heap Scan
SELECT sum(amount) FROM orders_pi WHERE customer_id = 42;
SELECT sum(amount) FROM orders_pi WHERE customer_id = 42;
SELECT sum(amount) FROM orders_pi WHERE customer_id = 42;
DROP INDEX orders_pi_customer_idx;
SELECT sum(amount) FROM orders_pi WHERE customer_id = 42;
SELECT sum(amount) FROM orders_pi WHERE customer_id = 42;
SELECT sum(amount) FROM orders_pi WHERE customer_id = 42;
CREATE INDEX orders_pi_customer_idx ON orders_pi (customer_id);
SELECT sum(amount) FROM orders_pi WHERE customer_id = 42;
SELECT sum(amount) FROM orders_pi WHERE customer_id = 42;
SELECT sum(amount) FROM orders_pi WHERE customer_id = 42;
-- control for seq_scan_filter: a sequential scan whose filter keeps almost every row
SELECT count(*) FROM orders_pi WHERE status <> 'refunded';
-- an index (region) whose rows are mostly thrown away by a filter (status): extend the index
SELECT count(*) FROM orders_pi WHERE region = 2 AND status = 'refunded';
-- row_misestimate on correlated columns (estimated 1, actually 1000), control: one column
SELECT count(*) FROM corr_pi WHERE a = 1 AND b = 1;
SELECT count(*) FROM corr_pi WHERE a = 1;
-- sort_spill with work_mem = 64kB, control with 16MB
SET work_mem = '64kB';
SELECT count(*) FROM (SELECT note FROM orders_pi ORDER BY note) AS s;
SET work_mem = '16MB';
SELECT count(*) FROM (SELECT note FROM orders_pi ORDER BY note) AS s;
-- hash_spill with work_mem = 256kB, control with 16MB
SET work_mem = '256kB';
SELECT count(*) FROM orders_pi AS o JOIN corr_pi AS c ON c.id = o.id;
SET work_mem = '16MB';
SELECT count(*) FROM orders_pi AS o JOIN corr_pi AS c ON c.id = o.id;
RESET work_mem;
-- nested_loop_seq_scan: a forced nested loop over an unindexed join column, control: hash join
SET max_parallel_workers_per_gather = 0;
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SET enable_material = off;
SELECT count(*) FROM orders_pi AS o JOIN customers_pi AS c ON c.id = o.customer_id + 0 WHERE o.customer_id < 2;
RESET enable_hashjoin;
RESET enable_mergejoin;
RESET enable_material;
SELECT count(*) FROM orders_pi AS o JOIN customers_pi AS c ON c.id = o.customer_id + 0 WHERE o.customer_id < 2;
-- lossy_bitmap with work_mem = 64kB, control with the default work_mem
SET work_mem = '64kB';
SET enable_seqscan = off;
SET enable_indexscan = off;
SELECT count(*) FROM orders_pi WHERE customer_id < 300;
RESET work_mem;
SELECT count(*) FROM orders_pi WHERE customer_id < 300;
RESET enable_seqscan;
RESET enable_indexscan;
-- workers_not_launched: max_parallel_workers = 0 leaves a planned Gather without workers, control: 8
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers = 0;
SELECT count(*) FROM orders_pi WHERE note LIKE 'ab%';
RESET max_parallel_workers;
SELECT count(*) FROM orders_pi WHERE note LIKE 'ab%';
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
-- jit_time: JIT forced on a short query, control: the same query with jit = off
SET jit = on;
SET jit_above_cost = 0;
SET jit_inline_above_cost = 0;
SET jit_optimize_above_cost = 0;
SELECT sum(amount), avg(amount) FROM orders_pi WHERE customer_id = 7;
SET jit = off;
SELECT sum(amount), avg(amount) FROM orders_pi WHERE customer_id = 7;
RESET jit;
RESET jit_above_cost;
RESET jit_inline_above_cost;
RESET jit_optimize_above_cost;
-- slow_trigger: a foreign key without an index on the referencing column, control: with one
BEGIN;
DELETE FROM parent_pi WHERE id <= 10;
ROLLBACK;
CREATE INDEX child_pi_parent_idx ON child_pi (parent_id);
BEGIN;
DELETE FROM parent_pi WHERE id <= 10;
ROLLBACK;
DROP INDEX child_pi_parent_idx;
RESET ALL;
SQL
}

# pi_short FORMAT: a few of the statements above (YAML and XML plans are parsed too).
pi_short() {
	cat <<SQL
SET auto_explain.log_format = $1;
SET auto_explain.log_min_duration = 0;
SELECT sum(amount) FROM orders_pi WHERE customer_id = 42;
SELECT count(*) FROM corr_pi WHERE a = 1 AND b = 1;
SET work_mem = '64kB';
SELECT count(*) FROM (SELECT note FROM orders_pi ORDER BY note) AS s;
RESET work_mem;
SET jit = on;
SET jit_above_cost = 0;
SELECT sum(amount), avg(amount) FROM orders_pi WHERE customer_id = 7;
RESET jit;
RESET jit_above_cost;
BEGIN;
DELETE FROM parent_pi WHERE id <= 10;
ROLLBACK;
RESET ALL;
SQL
}

wl_plan_insights() {
	step "plan insights: schema and data (no plans logged)"
	psql_script pi-schema app postgres <<'SQL'
SET auto_explain.log_min_duration = -1;
CREATE TABLE orders_pi (id int PRIMARY KEY, customer_id int NOT NULL, region int NOT NULL, status text NOT NULL, amount numeric NOT NULL, note text NOT NULL);
INSERT INTO orders_pi SELECT g, (g * 37) % 1000, g % 4, CASE WHEN g % 200 = 0 THEN 'refunded' WHEN g % 10 = 0 THEN 'open' ELSE 'done' END, (g % 500) + 0.5, md5(g::text) FROM generate_series(1, 100000) AS g;
CREATE INDEX orders_pi_customer_idx ON orders_pi (customer_id);
CREATE INDEX orders_pi_region_idx ON orders_pi (region);
CREATE TABLE customers_pi (id int NOT NULL, name text NOT NULL);
INSERT INTO customers_pi SELECT g, 'customer ' || g FROM generate_series(1, 2000) AS g;
CREATE TABLE corr_pi AS SELECT g AS id, g % 100 AS a, g % 100 AS b FROM generate_series(1, 100000) AS g;
CREATE TABLE parent_pi (id int PRIMARY KEY);
INSERT INTO parent_pi SELECT g FROM generate_series(1, 1000) AS g;
CREATE TABLE child_pi (id int NOT NULL, parent_id int NOT NULL REFERENCES parent_pi (id));
INSERT INTO child_pi SELECT g, 51 + g % 950 FROM generate_series(1, 100000) AS g;
VACUUM ANALYZE orders_pi, customers_pi, corr_pi, parent_pi, child_pi;
SQL
	step "plan insights: every insight and its control, text plans"
	pi_pass text | psql_script pi-text app postgres
	step "plan insights: the same statements, JSON plans"
	pi_pass json | psql_script pi-json app postgres
	step "plan insights: a few of them as YAML and XML plans"
	pi_short yaml | psql_script pi-yaml app postgres
	pi_short xml | psql_script pi-xml app postgres
}

plan_insights_summary() {
	cat <<'EOF'
1. Setup as postgres: `CREATE EXTENSION pg_stat_statements`, role `app_rw`, database `app`.
2. Schema and data with plans off (`auto_explain.log_min_duration = -1` in that session):
   `orders_pi` (100000 rows, indexes on `customer_id` and `region`), `customers_pi` (2000
   rows, no index), `corr_pi` (100000 rows, columns `a` = `b`), `parent_pi` / `child_pi` (a
   foreign key whose referencing column has no index), `VACUUM ANALYZE`.
3. As postgres with `auto_explain.log_min_duration = 0`, once with `log_format = text`, then the
   same statements with `log_format = json` (see workload.sql; each insight next to its control):
   - plan change: `SELECT sum(amount) FROM orders_pi WHERE customer_id = 42` three times, then
     `DROP INDEX orders_pi_customer_idx` and three times (Seq Scan, selective filter), then
     `CREATE INDEX` again and three times;
   - a non-selective Seq Scan (control); an index on `region` whose rows a `status` filter drops;
   - `row_misestimate` on correlated columns (control: one column);
   - `sort_spill` (work_mem 64kB; control 16MB); `hash_spill` (256kB; control 16MB);
   - `nested_loop_seq_scan` (hash and merge joins and materialize off; control: hash join);
   - `lossy_bitmap` (work_mem 64kB, bitmap scans forced; control: default work_mem);
   - `workers_not_launched` (`max_parallel_workers = 0`; control: default);
   - `jit_time` (JIT forced with all costs 0; control: `jit = off`);
   - `slow_trigger`: `DELETE` of 10 parent rows in a rolled-back transaction, whose foreign-key
     check scans the unindexed `child_pi` (control: the same after `CREATE INDEX` on it).
4. A few of them again with `log_format = yaml` and with `log_format = xml` (an index scan,
   the misestimate, the spilling sort, JIT, the slow trigger).
5. Dump `pg_stat_statements`, fast shutdown.
EOF
}
# ---- end of run plan-insights ----

# ---------------------------------------------------------------------------------------------
# One run, into $WORK/<run>/stage, then moved to $OUT/<run>.

write_run_readme() {
	local f=$1 line
	{
		printf '# Fixture run `%s`: %s\n\n' "$RUN" "$RUN_TITLE"
		printf '%s\n\n' "$RUN_ABOUT"
		printf 'Generated by `scripts/gen-fixtures.sh %s` on %s with %s.\n' \
			"$RUN" "$(date -u +%Y-%m-%d)" "$PG_VERSION_STRING"
		printf 'Do not edit these files by hand: re-run the script (see ../README.md).\n\n'
		printf '## Files\n\n'
		printf '| file | what |\n|---|---|\n'
		printf '| `postgresql.log` | stderr destination (the `log_line_prefix` format) |\n'
		printf '| `postgresql.csv` | csvlog destination, same records |\n'
		printf '| `postgresql.json` | jsonlog destination, same records, one JSON object per line |\n'
		printf '| `pg_stat_statements.csv` | `pg_stat_statements` at the end of the run (before shutdown): queryid, calls, total_exec_time, query, dbname, username, toplevel, rows |\n'
		printf '| `workload.sql` | the exact SQL sent by every session, in order, with the pgbench commands |\n\n'
		printf 'The three log files were written by one server through one logging collector, each\n'
		printf 'from its first record ("starting PostgreSQL ...") to its last ("database system is shut\n'
		printf 'down"); nothing before the collector started is in them. No rotation happened.\n\n'
		printf '## Server settings\n\n'
		printf '`initdb --nosync --auth=trust -U postgres -E UTF8 --locale=C`, then these lines appended\n'
		printf 'to `postgresql.conf` (later lines win):\n\n```\n'
		for line in "${CONF_ALL[@]}"; do
			printf '%s\n' "$line"
		done
		printf '```\n\n'
		printf 'Port and socket directory change on every run. Roles: `postgres` (superuser, runs the\n'
		printf 'setup, plan, checkpoint and admin sessions) and `app_rw` (owner of database `app`, runs\n'
		printf 'pgbench and the application sessions). Client connections: psql over %s,\n' \
			"$([ "$RUN_CLIENT" = tcp ] && echo 'TCP to 127.0.0.1' || echo 'the unix socket')"
		printf 'pgbench over TCP to 127.0.0.1.\n\n'
		printf '## Workload, in order\n\n'
		if [ "$RUN" = plan-insights ]; then plan_insights_summary; else workload_summary; fi
	} >"$f"
}

workload_summary() {
	cat <<EOF
1. Setup as postgres: \`CREATE EXTENSION pg_stat_statements\`, role \`app_rw\`, database \`app\`.
2. \`pgbench -i -s 1 -q\`, then \`pgbench -c 2 -j 2 -t $RUN_TXNS\` with \`-M simple\`, \`-M extended\`,
   \`-M prepared\` (built-in TPC-B-like script; extended protocol logs parse/bind/execute steps
   with \`parameters: \$1 = '...'\` details).
3. Schema (\`items\`, \`tags\`, \`users\` with a unique \`email\`, \`orders\` with FK and CHECK,
   \`acct\`, \`s2.items\`, \`av_demo\`), and 20000 updated rows in \`av_demo\` for autovacuum.
4. Fingerprint classes (simple protocol): literal/spacing/comment/case/alias/schema-qualified
   variants of one query (same queryid); int4 vs int8 constant; IN-lists of 1, 2, 3, 3 and 4
   elements; \`= ANY (ARRAY[...])\` and \`= ANY ('{...}')\`; VALUES with 1, 2, 3, 1, 2 rows;
   target-list order; column aliases; booleans; LIMIT vs LIMIT/OFFSET; numeric constants;
   \`interval '7 days'\` vs \`'7 days'::interval\`; the same table name in schema \`s2\` (also via
   \`search_path\`); \`SET work_mem\` twice with different values; \`PREPARE\`/\`EXECUTE\`/
   \`DEALLOCATE\`; an explicit transaction; two statements in one query string (\`SELECT 1 \\; SELECT 2\`).
5. A custom pgbench script (\`id = \$1\`, \`IN (\$1, \$2 + 1, \$3 + 2)\`, UPDATE, INSERT) with
   \`-M extended\` and \`-M prepared\`, 5 transactions each.
6. Quoting and text: quoted identifiers (\`"Mixed Case"\`, \`"Quoted ""Col"""\`, \`"naïve"\`),
   \`'it''s'\`, \`E'two\\nlines'\`, \`\$\$...\$\$\`, a \`\$fn\$\` function body containing \`\$q\$...\$q\$\`,
   a string literal spanning two lines, a literal TAB inside a string, a literal whose second
   line looks like a log record (\`2026-01-01 00:00:00.000 UTC [1] LOG:  not a record...\`), \`U&'...'\`, nested
   \`/* /* */ */\` and \`--\` comments, é / 日本語 / 🐘 in literals and identifiers, a 600-element
   IN-list (one long line).
7. Errors (app_rw): 42601 syntax error, 42P01 undefined table, 42703 undefined column, 22012
   division by zero, 22P02 invalid integer input, 23505 unique violation
   (\`Key (email)=(ann@example.com) already exists.\`), 23502 not-null, 23503 foreign key, 23514
   check constraint, P0001 \`RAISE EXCEPTION\` with HINT and CONTEXT, a \`RAISE WARNING\`, 25P02
   (statement in an aborted transaction), 57014 statement timeout; FATAL 3D000 (database
   "nosuchdb" does not exist) and FATAL 28000 (role "ghost" does not exist) at connection time;
   FATAL 25P03 idle-in-transaction timeout.
8. Concurrency (coordinated sessions): a lock wait longer than deadlock_timeout (\`still waiting
   for ShareLock on transaction\` ... \`acquired ShareLock\`), a 55P03 lock_timeout while queued
   behind it, a deadlock (40P01, victim logs \`detected deadlock while waiting\`), a 40001
   serialization failure, a 57014 cancel by \`pg_cancel_backend\` and a FATAL 57P01 by
   \`pg_terminate_backend\`.
9. Plans (as postgres, \`auto_explain.log_min_duration = 0\` in that session, 50ms elsewhere):
   the same query before \`CREATE INDEX\`, after it, and after \`ANALYZE\` on shifted data (three
   plans, one queryid); a row misestimate on correlated columns; with \`work_mem = 64kB\` a
   sort spilling to a temporary file (\`Sort Method: external merge\`) and a parallel sort
   (\`parallel_leader_participation = off\`) whose two workers log their own temporary files
   (backend_type \`parallel worker\`, leader_pid, their own pid and session);
   with \`work_mem = 1MB\` a hash join in several batches (temporary files); a nested statement
   in a DO block (\`log_nested_statements\`, plan with a CONTEXT).
10. The same statement in databases \`postgres\` and \`app\`.
11. \`CHECKPOINT\` (\`checkpoint starting: immediate force wait\`); \`ALTER SYSTEM SET
    max_wal_size = '32MB'\` + \`pg_reload_conf()\` (\`received SIGHUP\`, \`parameter "max_wal_size"
    changed to "32MB"\`); ~50 MB of WAL (\`checkpoints are occurring too frequently\` + HINT,
    \`checkpoint starting: wal\`); \`ALTER SYSTEM RESET\` + reload (\`parameter "max_wal_size" changed
    to "1GB"\`, the value initdb wrote to postgresql.conf) and \`CHECKPOINT\`; then wait until autovacuum has
    logged \`automatic vacuum\` and \`automatic analyze\` of \`app.public.av_demo\`.
12. Dump \`pg_stat_statements\`, fast shutdown (\`checkpoint starting: shutdown immediate\`).
EOF
}

do_run() {
	RUN=$1
	run_config "$RUN"
	RUN_WORK="$WORK/$RUN"
	STAGE="$RUN_WORK/stage"
	mkdir -p "$STAGE"
	chmod 711 "$RUN_WORK"
	CONF_ALL=("${COMMON_CONF[@]}" "${RUN_CONF[@]}")
	say "$RUN: starting server"
	pg_start "$RUN_WORK/pg" "${CONF_ALL[@]}"
	: >"$STAGE/workload.sql"
	note "-- Workload of fixture run '$RUN', generated by scripts/gen-fixtures.sh."
	note "-- Statements sent by psql sessions are shown as sent; '-- [name]' marks interleaved"
	note "-- statements of concurrently open sessions, in the order they were sent."

	if [ "$RUN" = plan-insights ]; then
		wl_setup
		wl_plan_insights
		wl_pgss_dump
	else
		wl_setup
		wl_pgbench
		wl_schema
		wl_fingerprints
		wl_extended_custom
		wl_quoting
		wl_errors
		wl_locks
		wl_plans
		wl_misc
		wl_pgss_dump
	fi

	say "$RUN: stopping server"
	pg_stop || die "the server did not stop cleanly"
	local f
	for f in postgresql.log postgresql.csv postgresql.json; do
		[ -s "$PG_LOGDIR/$f" ] || die "$PG_LOGDIR/$f is missing or empty"
		cp "$PG_LOGDIR/$f" "$STAGE/$f"
	done
	for f in "$PG_LOGDIR"/*; do
		case ${f##*/} in
		postgresql.log | postgresql.csv | postgresql.json) ;;
		*) die "unexpected file in the log directory (rotation?): $f" ;;
		esac
	done
	grep -q 'database system is shut down' "$STAGE/postgresql.log" || die "no clean shutdown in the log"
	chmod 644 "$STAGE"/*
	write_run_readme "$STAGE/README.md"

	rm -rf -- "${OUT:?}/$RUN"
	mkdir -p "$OUT"
	cp -R "$STAGE" "$OUT/$RUN"
	pg_destroy
	say "$RUN: done ($(du -sh "$OUT/$RUN" | cut -f1))"
}

write_overview() {
	local run
	{
		cat <<'EOF'
# PostgreSQL 15 log fixtures (real server output)

Everything under this directory is produced by `scripts/gen-fixtures.sh` from a real
PostgreSQL 15 server (Debian's `postgresql-15`) started by `scripts/lib/pg.sh` on 127.0.0.1.
Do not edit these files by hand; regenerate them:

```sh
scripts/gen-fixtures.sh              # all runs (about 20 seconds); as root or as a normal user
scripts/gen-fixtures.sh json-plans   # one run
```

Every run is its own directory with the output of **one server, one workload**:

- `postgresql.log`, `postgresql.csv`, `postgresql.json`: the stderr, csvlog and jsonlog
  destinations of the same logging collector (`log_destination = 'stderr,csvlog,jsonlog'`,
  fixed `log_filename`, no rotation), so the three files hold the same records, from
  "starting PostgreSQL" to "database system is shut down" (see "Comparing the three formats").
- `pg_stat_statements.csv`: `pg_stat_statements` dumped just before the shutdown
  (`queryid, calls, total_exec_time, query, dbname, username, toplevel, rows`; `queryid` is the
  signed 64-bit value also logged as `query_id` in csv/json). The oracle for fingerprint grouping.
- `workload.sql`: the exact SQL each session sent, in order.
- `README.md`: the exact server settings and the workload of that run.

All runs share these settings: `lc_messages = 'C'`, `log_timezone = 'UTC'`,
`log_min_duration_statement = 0` (except `statement-log`), `log_checkpoints`,
`log_connections`, `log_disconnections`, `log_lock_waits` on, `deadlock_timeout = 200ms`,
`log_temp_files = 0`, `log_autovacuum_min_duration = 0`, `autovacuum_naptime = 1s`,
`compute_query_id = on`,
`shared_preload_libraries = 'auto_explain,pg_stat_statements'`,
`auto_explain.log_min_duration = 50ms` (0 in the plan session), `log_analyze` and
`log_buffers` on. They also share the workload (see any run's README.md): pgbench in the
simple, extended and prepared protocols, fingerprint classes, quoting and non-ASCII edge cases,
errors of many SQLSTATEs, lock waits, a deadlock, timeouts, cancel/terminate, plan changes,
temporary files, checkpoints and autovacuum.

| run | stderr `log_line_prefix` | what is special |
|---|---|---|
EOF
		for run in "${RUNS[@]}"; do
			run_config "$run"
			printf '| [`%s`](%s/README.md) | `%s` | %s |\n' "$run" "$run" \
				"$(printf '%s\n' "${RUN_CONF[@]}" | sed -n "s/^log_line_prefix = '\(.*\)'$/\1/p")" \
				"$RUN_TITLE"
		done
		cat <<'EOF'

## Comparing the three formats

Checked on the committed files: each run's csv, json and stderr files hold the same number of
records and the same multiset of (pid, severity, message), and **per pid** the sequences are
identical. The **global order is not**: a process writes its stderr, csvlog and jsonlog copies
of a record to the collector's pipe as three separate messages, so records of two processes
logged at nearly the same moment can be interleaved differently in each file (a few dozen
positions per run). Compare per pid (or as multisets), not line by line. Other differences
that are PostgreSQL's, not the fixtures':

- stderr appends ` at character N` to the message of errors with a cursor position; csv/json
  keep the message clean and give `cursor_position`.
- With `log_error_verbosity = verbose` (run `verbose-errors`) the stderr message line starts
  with the SQLSTATE (`ERROR:  42601: syntax error ...`, `LOG:  00000: duration: ...`) and every
  record gets a `LOCATION:  func, file.c:N` line; csv has a location column, json
  `func_name`/`file_name`/`file_line_num`.
- The postmaster's first two messages ("redirecting log output to logging collector process"
  and its HINT) go to the postmaster's original stderr, not to these files, but they are
  counted by `%l`: in stderr the postmaster's `%l` starts at 3 while csv/json `line_num` start
  at 1. Other processes number identically in all three.
- Background processes have no host: with a `%h` first (run `json-plans`) their stderr lines
  start with a space; prefixes without `%q` print empty user/db/app/client fields.
- Multi-line messages (plans, autovacuum reports, deadlock DETAIL, SQL with newlines) continue
  on TAB-prefixed lines in stderr; csv quotes them with raw newlines; json escapes `\n`.

## What is stable across regenerations

Timestamps, pids, ports, socket paths (`/tmp/pgsift-fixtures.*`), durations, buffer counts and
transaction ids change every time. The statements, their order within each session, the
errors, lock waits, deadlock, plans of the plan session and the temp files are the same every
time. So far the `query_id`/`queryid` values were identical across runs and regenerations too
(they depend on table OIDs, which a fresh cluster assigns in the same order), but read them
from `pg_stat_statements.csv` rather than hard-coding them. Incidental records whose number varies a little between
regenerations: autovacuum/autoanalyze of catalog and pgbench tables, WAL-triggered checkpoints
and their `checkpoints are occurring too frequently` warnings (2-3 per run), plans of
statements outside the plan session that happened to take longer than 50 ms, and a
`FATAL:  terminating autovacuum process due to administrator command` at shutdown when an
autovacuum worker was still busy.
EOF
	} >"$OUT/README.md"
}

for run in "${selected[@]}"; do
	do_run "$run"
done
write_overview
say "fixtures written to ${OUT#"$REPO"/}: ${selected[*]}"
