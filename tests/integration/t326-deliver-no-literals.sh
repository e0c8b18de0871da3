#!/usr/bin/env bash
# Payloads carry normalized query text only: statements with literals (an e-mail
# address, a number, a string in a lock wait's statement) fire alerts whose `query`
# annotation reaches a webhook, Slack and PagerDuty as `$1` placeholders; no literal of
# the log appears in any request body, nor in the alert tables.
# timeout: 60
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/data/alerts-lib.sh"
need_cmd sqlite3

cat > ev.ndjson <<'EOF2'
{"src": "pg.log:1", "ts": "2026-11-24T10:00:01.000Z", "kind": "duration", "severity": "LOG", "database": "app", "user": "web", "duration_ms": 900.0, "statement": "SELECT * FROM users WHERE email = 'alice@example.com' AND id = 4242"}
{"src": "pg.log:2", "ts": "2026-11-24T10:00:02.000Z", "kind": "lock_wait", "severity": "LOG", "database": "app", "user": "web", "wait_ms": 7000.0, "statement": "UPDATE accounts SET balance = 99.5 WHERE owner = 'Bob Secret'"}
{"src": "pg.log:3", "ts": "2026-11-24T10:05:00.000Z", "kind": "duration", "severity": "LOG", "database": "app", "user": "web", "duration_ms": 1.0, "statement": "SELECT 1"}
EOF2
start_http_stub hook "200"
start_http_stub slack "200:body=ok"
start_http_stub pd "202"
export HOOK_URL="http://127.0.0.1:$hook_port/" SLACK_URL="http://127.0.0.1:$slack_port/"
export PD_URL="http://127.0.0.1:$pd_port/" PD_KEY=0123456789abcdef0123456789abcdef
cat > pgsift.yaml <<YAML
receivers:
  - { name: hook, type: webhook, url_env: HOOK_URL, allow_http: true }
  - { name: slack, type: slack, url_env: SLACK_URL, allow_http: true }
  - { name: pd, type: pagerduty, url_env: PD_URL, routing_key_env: PD_KEY, allow_http: true }
route: { notify: [hook, slack, pd], group_wait: 0s }
YAML
cat > rules.yaml <<'YAML'
rules:
  - name: slow
    kind: threshold
    metric: max_ms
    window: 1m
    condition: "> 500"
    group_by: [database, fingerprint]
    annotations: { summary: "slow: {{ query }}" }
  - name: lock
    kind: event
    where: { type: [lock_wait], wait_ms: "> 5000" }
    group_by: [database, fingerprint]
    annotations: { summary: "lock: {{ query }}" }
YAML
at 2026-11-24T10:01:30Z "$PGSIFT" rules eval --config pgsift.yaml --events ev.ndjson \
  --since 2026-11-24T10:00:00Z --until 2026-11-24T10:01:00Z rules.yaml >/dev/null
at 2026-11-24T10:01:40Z "$PGSIFT" alerts deliver --config pgsift.yaml --once >/dev/null
for s in hook slack pd; do
  ((n = $(stub_count $s))) || true
  ((n >= 1)) || fail "nothing reached $s"
  body=$(stub_field $s body)
  expect_contains "$body" 'email = $1'
  expect_contains "$body" 'owner = $2'
  for lit in alice@example.com 4242 'Bob Secret' 99.5; do
    expect_not_contains "$body" "$lit"
  done
done
rows=$(q "SELECT group_concat(annotations, ' ') FROM alert_instances")
expect_contains "$rows" 'email = $1'
expect_not_contains "$rows" alice@example.com
expect_not_contains "$(q "SELECT group_concat(payload, ' ') FROM notifications")" 'Bob Secret'
pass
