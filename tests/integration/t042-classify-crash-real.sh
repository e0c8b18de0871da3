#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A real PostgreSQL server's crash and archiver failure, classified: a backend killed
# with SIGKILL makes the postmaster log "server process (PID n) was terminated by
# signal 9: Killed", "terminating any other active server processes" and "all server
# processes terminated; reinitializing" (kind crash), and an archive_command that fails
# logs "archive command failed with exit code 1" (kind archive_failure). The shipped
# event rules fire on both (QA 22b: both were `other`).
# labels: pg
# timeout: 240
. "$(dirname "$0")/lib.sh"
. "$SIFT_SOURCE_DIR/scripts/lib/pg.sh"
need_cmd jq
pg_server \
  "log_destination = 'csvlog'" \
  "archive_mode = on" \
  "archive_command = 'exit 1'" \
  "restart_after_crash = on"

# An archive attempt: a WAL segment to archive.
pg_sql postgres 'SELECT pg_switch_wal()' >/dev/null
pg_sql postgres 'CREATE TABLE t AS SELECT 1 AS a' >/dev/null
pg_sql postgres 'SELECT pg_switch_wal()' >/dev/null
has_archive_failure() { grep -q 'archive command failed' "$PG_LOGDIR"/postgresql.csv; }
pg_wait_for 60 has_archive_failure || fail "the server logged no archive failure"

# A backend killed with SIGKILL: the server resets.
pg_sql postgres 'SELECT pg_sleep(60)' >/dev/null 2>&1 &
sleeper=$!
backend() { pg_sql postgres "SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%' AND pid <> pg_backend_pid()"; }
has_backend() { [[ -n $(backend) ]]; }
pg_wait_for 30 has_backend || true
pid=$(backend)
[[ -n $pid ]] || fail "no backend to kill"
kill -9 "$pid"
wait "$sleeper" 2>/dev/null || true
reinit() { grep -q 'all server processes terminated; reinitializing' "$PG_LOGDIR"/postgresql.csv; }
pg_wait_for 60 reinit || fail "the server did not reinitialize"
pg_wait_for 60 pg_sql postgres 'SELECT 1' >/dev/null 2>&1 || fail "the server did not come back"
pg_stop

SIFT_TEST_NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
export SIFT_TEST_NOW
"$PGSIFT" -q ingest --no-progress "$PG_LOGDIR"/postgresql.csv
crash=$("$PGSIFT" events --kind crash --format json --limit 0)
expect_eq "crash events: the killed backend, the reset's start and end" \
  "signal reset reset" "$(jq -r '[.events[].cause] | join(" ")' <<<"$crash")"
expect_contains "$(jq -r '.events[0].message' <<<"$crash")" "server process (PID $pid) was terminated by signal 9: Killed"
expect_eq "the reset's steps" "null start end" "$(jq -r '[.events[] | .step // "null"] | join(" ")' <<<"$crash")"
arch=$("$PGSIFT" events --kind archive_failure --format json --limit 0)
(($(jq '.total' <<<"$arch") >= 1)) || fail "no archive_failure event"
expect_eq "the archive failure's cause" "exit_code" "$(jq -r '.events[0].cause' <<<"$arch")"

# The shipped rules fire on both.
# (to the minute boundaries after the records)
out=$("$PGSIFT" rules test --until "$(date -u -d '+2 min' +%Y-%m-%dT%H:%M:00Z)" \
  "$SIFT_SOURCE_DIR/rules/events.yaml" 2>/dev/null)
expect_contains "$out" "firing     server_crash             critical"
expect_contains "$out" "firing     archive_failing          warning"
pass
