#!/usr/bin/env bash
# Webhook delivery against a loopback stub scripted to answer 500, 429 with
# Retry-After: 2, nothing (a timeout), then 200: attempts, their spacing, the Standard
# Webhooks signature, a webhook-id and dedup_key stable across retries, the resolve after
# the trigger; then the Alertmanager format.
# timeout: 120
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/data/alerts-lib.sh"
need_cmd sqlite3

ev="$SIFT_SOURCE_DIR/tests/fixtures/handmade/alerts-replay.ndjson"
start_http_stub hook "500,429:retry-after=2,timeout,200"
secret=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
printf '%s\n' "$secret" > hook.secret
chmod 600 hook.secret
export HOOK_URL="http://127.0.0.1:$hook_port/alerts?token=s3cr3t"
cat > pgsift.yaml <<YAML
receivers:
  - { name: hook, type: webhook, url_env: HOOK_URL, secret_file: hook.secret,
      allow_http: true, timeout: 5s, connect_timeout: 5s, github_signature: true }
route: { notify: [hook], group_wait: 0s, group_interval: 1m }
rules: [rules.yaml]
YAML
deadlock_rules 15m 'deadlock on {{ database }}: {{ value }}' > rules.yaml

# The deadlock at 10:07:30 fires at 10:08 (evaluated at 10:08:30 wall time).
at 2026-11-24T10:08:30Z "$PGSIFT" rules eval --config pgsift.yaml --events "$ev" \
  --since 2026-11-24T10:00:00Z --until 2026-11-24T10:08:00Z >/dev/null
expect_eq "one notification queued" "pending" "$(q "SELECT status FROM notifications")"

# 1: 500 -> retry after a jittered wait of 1..5 s.
at 2026-11-24T10:09:00Z "$PGSIFT" alerts deliver --config pgsift.yaml --once >/dev/null
expect_eq "attempt 1 answered" "500" "$(stub_field hook answered)"
wait1=$(q "SELECT (next_attempt_at - last_attempt_at) / 1000000.0 FROM deliveries")
expect_eq "backoff after attempt 1 within [1 s, 5 s]" 1 \
  "$(awk -v w="$wait1" 'BEGIN { print (w >= 1 && w <= 5) ? 1 : 0 }')"
# Not due yet: no request.
at 2026-11-24T10:09:00Z "$PGSIFT" alerts deliver --config pgsift.yaml --once >/dev/null
expect_eq "nothing sent before the retry is due" 1 "$(stub_count hook)"

# 2: 429 with Retry-After: 2 -> exactly 2 s later.
at 2026-11-24T10:09:10Z "$PGSIFT" alerts deliver --config pgsift.yaml --once >/dev/null
expect_eq "Retry-After honoured" "2.0" \
  "$(q "SELECT (next_attempt_at - last_attempt_at) / 1000000.0 FROM deliveries")"
at 2026-11-24T10:09:11Z "$PGSIFT" alerts deliver --config pgsift.yaml --once >/dev/null
expect_eq "not before Retry-After" 2 "$(stub_count hook)"

# 3: no answer: the 5 s timeout ends the attempt, which is retried. (5 s, not less: on a
# loaded host a slow answer to the other steps must not be taken for one.)
at 2026-11-24T10:09:12Z "$PGSIFT" alerts deliver --config pgsift.yaml --once >/dev/null
expect_eq "timeout recorded" "retry" \
  "$(q "SELECT verdict FROM delivery_attempts WHERE attempt = 3")"
expect_contains "$(q "SELECT error FROM delivery_attempts WHERE attempt = 3")" "timed out"

# 4: 200 (the backoff after 3 attempts is at most 2 min).
out=$(at 2026-11-24T10:11:12Z "$PGSIFT" alerts deliver --config pgsift.yaml --once)
expect_contains "$out" "delivered 1, attempts 1"
expect_eq "answers" "500 429 0 200" "$(stub_field hook answered | tr '\n' ' ' | sed 's/ $//')"
expect_eq "verdicts" "retry retry retry ok" \
  "$(q "SELECT group_concat(verdict, ' ') FROM (SELECT verdict FROM delivery_attempts ORDER BY id)")"
expect_eq "delivery state" "delivered|4" "$(q "SELECT status, attempts FROM deliveries")"
expect_eq "notification state" "delivered" "$(q "SELECT status FROM notifications")"

# The same webhook-id on every attempt; webhook-timestamp is each attempt's time.
expect_eq "one webhook-id for 4 attempts" 1 "$(stub_field hook header.webhook-id | sort -u | wc -l | tr -d ' ')"
id=$(stub_field hook header.webhook-id | head -1)
expect_eq "webhook-id is the delivery id" "$(q "SELECT id FROM deliveries")" "$id"
# Another store (another host, or this one made again) given the same alert numbers its
# message as this one did, but its id is its own: receivers drop duplicates by it.
at 2026-11-24T10:08:30Z "$PGSIFT" --db other.db rules eval --config pgsift.yaml --events "$ev" \
  --since 2026-11-24T10:00:00Z --until 2026-11-24T10:08:00Z >/dev/null
start_http_stub other "200"
HOOK_URL="http://127.0.0.1:$other_port/" at 2026-11-24T10:09:00Z "$PGSIFT" --db other.db \
  alerts deliver --config pgsift.yaml --once >/dev/null
expect_eq "the other store's message" 1 "$(stub_count other)"
[[ $(stub_field other header.webhook-id) != "$id" ]] || fail "two stores sent the same webhook-id"
expect_eq "timestamps of the attempts" "1795514940 1795514950 1795514952 1795515072" \
  "$(stub_field hook header.webhook-timestamp | tr '\n' ' ' | sed 's/ $//')"
# Signatures verify with the secret (and fail with another one).
"$SIFT_TEST_TOOL" webhook-verify hook.log "$secret" > verify.txt || fail "bad signature: $(cat verify.txt)"
expect_eq "signatures checked" 4 "$(grep -c ' ok$' verify.txt)"
expect_exit 1 "$SIFT_TEST_TOOL" webhook-verify hook.log whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
expect_contains "$(stub_field hook header.x-pgsift-signature-256 | head -1)" "sha256="
expect_eq "content type" "application/json" "$(stub_field hook header.content-type | sort -u)"
expect_eq "path and query kept" "/alerts?token=s3cr3t" "$(stub_field hook path | sort -u)"

# The body: pgsift_v1, stable across retries (same bytes every time).
expect_eq "one body for 4 attempts" 1 "$(stub_field hook body | sort -u | wc -l | tr -d ' ')"
body=$(stub_field hook body | head -1)
if command -v jq >/dev/null; then
  expect_eq "version" "1" "$(jq -r .version <<<"$body")"
  expect_eq "status" "firing" "$(jq -r .status <<<"$body")"
  expect_eq "alert" "deadlock critical app" \
    "$(jq -r '.alerts[0] | "\(.rule) \(.severity) \(.labels.database)"' <<<"$body")"
  expect_eq "summary rendered" "deadlock on app: 1" "$(jq -r '.alerts[0].annotations.summary' <<<"$body")"
  expect_eq "starts_at" "2026-11-24T10:08:00Z" "$(jq -r '.alerts[0].starts_at' <<<"$body")"
  expect_eq "ends_at" "null" "$(jq -r '.alerts[0].ends_at' <<<"$body")"
fi
key=$(q "SELECT instance_key FROM alert_instances WHERE rule = 'deadlock'")
expect_contains "$body" "\"dedup_key\":\"$key\""

# The secret URL never shows: not in errors, not in the delivery log.
expect_not_contains "$(q "SELECT group_concat(coalesce(error, ''), '|') FROM delivery_attempts")" "s3cr3t"
expect_not_contains "$("$PGSIFT" alerts --format json)" "s3cr3t"

# Resolve at 10:23 (15 m without a new deadlock): sent after the trigger, same dedup_key.
at 2026-11-24T10:23:30Z "$PGSIFT" rules eval --config pgsift.yaml --events "$ev" \
  --until 2026-11-24T10:23:00Z >/dev/null
at 2026-11-24T10:23:40Z "$PGSIFT" alerts deliver --config pgsift.yaml --once >/dev/null
expect_eq "requests" 5 "$(stub_count hook)"
body=$(stub_field hook body | tail -1)
expect_contains "$body" '"status":"resolved"'
expect_contains "$body" "\"dedup_key\":\"$key\""
expect_contains "$body" '"ends_at":"2026-11-24T10:23:00Z"'
id2=$(stub_field hook header.webhook-id | tail -1)
[[ $id2 != "$id" ]] || fail "the resolve reuses the trigger's webhook-id"
"$SIFT_TEST_TOOL" webhook-verify hook.log "$secret" >/dev/null || fail "resolve signature"

# Alertmanager format for the same alert (a new stub that answers 200).
start_http_stub am "200"
export AM_URL="http://127.0.0.1:$am_port/"
cat > am.yaml <<YAML
receivers:
  - { name: am, type: webhook, url_env: AM_URL, format: alertmanager_v4, allow_http: true }
route: { notify: [am], group_wait: 0s, group_by: [rule, database] }
alerting: { external_url: "https://pgsift.example/" }
YAML
rm -f "$PGSIFT_DB"
at 2026-11-24T10:08:30Z "$PGSIFT" rules eval --config am.yaml --events "$ev" \
  --since 2026-11-24T10:00:00Z --until 2026-11-24T10:08:00Z rules.yaml >/dev/null
at 2026-11-24T10:09:00Z "$PGSIFT" alerts deliver --config am.yaml --once >/dev/null
body=$(stub_field am body)
expect_eq "no signature without a secret" "" "$(stub_field am header.webhook-signature)"
if command -v jq >/dev/null; then
  expect_eq "am version" "4" "$(jq -r .version <<<"$body")"
  expect_eq "am groupKey" '{rule="deadlock",database="app"}' "$(jq -r .groupKey <<<"$body")"
  expect_eq "am alertname" "deadlock" "$(jq -r '.alerts[0].labels.alertname' <<<"$body")"
  expect_eq "am groupLabels" "app" "$(jq -r '.groupLabels.database' <<<"$body")"
  expect_eq "am endsAt" "0001-01-01T00:00:00Z" "$(jq -r '.alerts[0].endsAt' <<<"$body")"
  expect_eq "am externalURL" "https://pgsift.example/" "$(jq -r '.externalURL' <<<"$body")"
fi
pass
