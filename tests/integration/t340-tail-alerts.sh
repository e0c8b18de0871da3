#!/usr/bin/env bash
# `pgsift tail` evaluates the rules of its configuration and delivers: real PostgreSQL
# logs with a deadlock are followed into the store, the deadlock alert reaches a webhook
# (the wall clock moves the watermark once the input is quiet), state and delivery log
# are in the store, and a bad rule file keeps the daemon from starting.
# labels: tail
# timeout: 120
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/data/alerts-lib.sh"
need_cmd sqlite3

pg15_csvlog
start_http_stub hook "200"
export HOOK_URL="http://127.0.0.1:$hook_port/"
deadlock_rules 3650d > rules.yaml
cat > pgsift.yaml <<YAML
store: $T/pgsift.db
sources:
  - { name: main, path: $T/logs/postgresql.csv, format: csvlog }
rules: [$T/rules.yaml]
receivers:
  - { name: hook, type: webhook, url_env: HOOK_URL, allow_http: true }
route: { notify: [hook], group_wait: 0s, repeat_interval: 100000d }
alerting: { allowed_lateness: 0s, max_notify_age: 100000d }
retention: { minutes: 3650d, hours: 3650d, days: 3650d, events: 3650d }
YAML
unset PGSIFT_DB
# The daemon runs on the real clock (its timers need time to pass); the fixture's
# deadlock (2026-11-25 17:45:02) is old, hence the large max_notify_age, repeat_interval,
# resolve_after and retention above: whenever the test runs, the alert has fired once
# and not resolved, and the event is still in the store.
unset SIFT_TEST_NOW
"$PGSIFT" -v tail --config pgsift.yaml 2>tail.err &
pid=$!
sent() { [[ $(stub_count hook) -ge 1 ]]; }
wait_for 30 sent
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
expect_eq "tail exit code" 0 "$rc"
expect_contains "$(cat tail.err)" "alerting: 1 rule, 1 receiver"
expect_not_contains "$(cat tail.err)" "are not used"
body=$(stub_field hook body)
expect_contains "$body" '"rule":"deadlock"'
expect_contains "$body" '"summary":"deadlock on app"'
expect_contains "$body" '"starts_at":"2026-11-25T17:46:00Z"'
export PGSIFT_DB="$T/pgsift.db"
expect_eq "instance (fired, no deadlock since)" "deadlock|recovering" "$(q "SELECT rule, state FROM alert_instances")"
expect_eq "delivered" "delivered" "$(q "SELECT status FROM deliveries")"
expect_contains "$("$PGSIFT" alerts)" "recovering critical deadlock"

# A broken rule file: the daemon does not start, and says where.
printf 'rules:\n  - {name: x, kind: event, where: {type: [nope]}}\n' > rules.yaml
rc=0; err=$("$PGSIFT" tail --config pgsift.yaml 2>&1) || rc=$?
expect_eq "exit code with a broken rule file" 2 "$rc"
expect_contains "$err" "rules.yaml:2:43: invalid type 'nope' in 'where'"

# No libcurl on the host (a library name that does not exist stands for it): receivers
# cannot send, so the daemon does not start, and says why, rather than failing the first
# alert hours later.
deadlock_rules 3650d > rules.yaml
rc=0; err=$(SIFT_TEST_LIBCURL=libpgsift-none.so.1 "$PGSIFT" tail --config pgsift.yaml 2>&1) || rc=$?
expect_eq "exit code without libcurl" 1 "$rc"
expect_contains "$err" "cannot load libpgsift-none.so.1"
expect_contains "$err" "alert delivery needs libcurl"
pass
