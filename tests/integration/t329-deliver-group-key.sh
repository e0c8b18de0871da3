#!/usr/bin/env bash
# Two alert groups whose label values, written one after the other, read the same
# (database `a",user="b` with user `c`, and database `a` with user `b",user="c`) stay
# two groups: the group key escapes '"' and '\' in values. Hand-made events: database
# and user names with quotes are the edge case.
# timeout: 60
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/data/alerts-lib.sh"
need_cmd sqlite3

{
  printf '{"ts":"2026-11-24T10:00:10Z","kind":"auth_failure","severity":"FATAL","database":"a\\",user=\\"b","user":"c","src":"pg.log:1"}\n'
  printf '{"ts":"2026-11-24T10:00:20Z","kind":"auth_failure","severity":"FATAL","database":"a","user":"b\\",user=\\"c","src":"pg.log:2"}\n'
  printf '{"ts":"2026-11-24T10:00:30Z","kind":"auth_failure","severity":"FATAL","database":"x\\\\","user":"y","src":"pg.log:3"}\n'
} > ev.ndjson
cat > rules.yaml <<'YAML'
rules:
  - { name: login_failed, kind: event, where: { type: [auth_failure] },
      group_by: [database, user], resolve_after: 1h }
YAML
start_http_stub hook "200"
export HOOK_URL="http://127.0.0.1:$hook_port/"
cat > pgsift.yaml <<'YAML'
receivers:
  - { name: hook, type: webhook, url_env: HOOK_URL, allow_http: true }
route: { notify: [hook], group_by: [database, user], group_wait: 0s }
YAML
at 2026-11-24T10:01:10Z "$PGSIFT" rules eval --config pgsift.yaml --events ev.ndjson \
  --since 2026-11-24T10:00:00Z --until 2026-11-24T10:01:00Z rules.yaml >/dev/null
expect_eq "three alerts fire" 3 "$(q "SELECT count(*) FROM alert_instances WHERE state = 'firing'")"
at 2026-11-24T10:01:20Z "$PGSIFT" alerts deliver --config pgsift.yaml --once >/dev/null
expect_eq "three groups, three messages" 3 "$(stub_count hook)"
expect_eq "group keys, escaped" '{database="a",user="b\",user=\"c"}
{database="a\",user=\"b",user="c"}
{database="x\\",user="y"}' "$(q "SELECT group_key FROM deliveries ORDER BY group_key")"
pass
