#!/usr/bin/env bash
# Route grouping: alerts of one group inside group_wait share a message; a later alert of
# the group waits group_interval after the group's previous message; a firing alert is
# repeated every repeat_interval (event time). Rules with every: 5m evaluate at 5-minute
# boundaries only.
# timeout: 120
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/data/alerts-lib.sh"
need_cmd sqlite3

# Failed logins: alice and bob at 10:00:10, carol at 10:02:10; then quiet.
{
  for u in alice bob; do
    printf '{"ts":"2026-11-24T10:00:10Z","kind":"auth_failure","severity":"FATAL","database":"app","user":"%s","src":"pg.log:1"}\n' "$u"
  done
  printf '{"ts":"2026-11-24T10:02:10Z","kind":"auth_failure","severity":"FATAL","database":"app","user":"carol","src":"pg.log:2"}\n'
  printf '{"ts":"2026-11-24T11:00:00Z","kind":"other","src":"pg.log:3"}\n'
} > ev.ndjson
cat > rules.yaml <<'YAML'
rules:
  - name: login_failed
    kind: event
    where: { type: [auth_failure] }
    group_by: [user]
    resolve_after: 1h
  - name: failures_5m
    kind: threshold
    source: events
    metric: count
    every: 5m
    window: 5m
    where: { type: [auth_failure] }
    condition: ">= 1"
    notify: [other]
YAML
start_http_stub hook "200"
start_http_stub other "200"
export HOOK_URL="http://127.0.0.1:$hook_port/" OTHER_URL="http://127.0.0.1:$other_port/"
cat > pgsift.yaml <<'YAML'
receivers:
  - { name: hook, type: webhook, url_env: HOOK_URL, allow_http: true }
  - { name: other, type: webhook, url_env: OTHER_URL, allow_http: true }
route: { notify: [hook], group_by: [rule], group_wait: 30s, group_interval: 5m,
         repeat_interval: 20m }
YAML
step() { # evaluate up to $1 (at $1 + 10 s), then deliver at $2
  at "${1%Z}:10Z" "$PGSIFT" rules eval --config pgsift.yaml --events ev.ndjson \
    --since 2026-11-24T10:00:00Z --until "$1:00Z" rules.yaml >/dev/null
  at "$2" "$PGSIFT" alerts deliver --config pgsift.yaml --once >/dev/null
}
# alice and bob fire at 10:01: one message after group_wait (30 s).
step 2026-11-24T10:01 2026-11-24T10:01:20Z
expect_eq "not before group_wait" 0 "$(stub_count hook)"
step 2026-11-24T10:01 2026-11-24T10:01:40Z
expect_eq "one message" 1 "$(stub_count hook)"
expect_contains "$(stub_field hook body)" '"user":"alice"'
expect_contains "$(stub_field hook body)" '"user":"bob"'
# carol fires at 10:03: the group had a message at 10:01:40, so she waits until 10:06:40.
step 2026-11-24T10:03 2026-11-24T10:03:30Z
step 2026-11-24T10:03 2026-11-24T10:06:30Z
expect_eq "group_interval holds the next message" 1 "$(stub_count hook)"
step 2026-11-24T10:03 2026-11-24T10:06:45Z
expect_eq "then it goes" 2 "$(stub_count hook)"
body=$(stub_field hook body | tail -1)
expect_contains "$body" '"user":"carol"'
expect_not_contains "$body" '"user":"alice"'
# Still firing 20 minutes later (event time): one reminder per instance (repeat).
step 2026-11-24T10:21 2026-11-24T10:21:30Z
expect_eq "repeats queued" "alice bob" \
  "$(q "SELECT group_concat(json_extract(alert, '$.labels.user'), ' ') FROM (SELECT alert FROM notifications WHERE kind = 'repeat' ORDER BY 1)")"
expect_eq "repeat sent" 3 "$(stub_count hook)"
# every: 5m: failures_5m is evaluated at 10:00, 10:05, ... only; at 10:05 it sees 3,
# at 10:10 none.
expect_eq "5-minute boundaries only" "2026-11-24 10:05:00|firing|3.0
2026-11-24 10:10:00|resolved|3.0" \
  "$(q "SELECT datetime(h.at / 1000000, 'unixepoch'), h.transition, h.value FROM alert_history h WHERE rule = 'failures_5m'")"
expect_eq "the rule's notify: wins over the route" "other" \
  "$(q "SELECT DISTINCT n.receiver FROM notifications n JOIN alert_instances i USING (instance_key) WHERE i.rule = 'failures_5m'")"
pass
