#!/usr/bin/env bash
# The daily report's Markdown summary goes to the `report.notify` receivers when
# `pgsift tail` writes the report: a signed pgsift_v1 webhook message (kind "message"),
# Slack text and an e-mail; a receiver that answers 503 is retried later (logged), and a
# receiver that takes alerts only (PagerDuty) or does not exist is refused at start.
# labels: tail
# timeout: 120
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/data/alerts-lib.sh"
need_cmd jq

pg15_csvlog
start_http_stub hook "200"
start_http_stub chat "200"
start_http_stub down "503"
start_smtp_stub mail "250"
secret=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
printf '%s\n' "$secret" > hook.secret
chmod 600 hook.secret
export HOOK_URL="http://127.0.0.1:$hook_port/r" CHAT_URL="http://127.0.0.1:$chat_port/s"
export DOWN_URL="http://127.0.0.1:$down_port/d"
write_config() {
  cat > pgsift.yaml <<YAML
store: $T/pgsift.db
timezone: UTC
sources:
  - { name: main, path: $T/logs/postgresql.csv, format: csvlog }
receivers:
  - { name: hook, type: webhook, url_env: HOOK_URL, secret_file: hook.secret, allow_http: true }
  - { name: chat, type: slack, url_env: CHAT_URL, allow_http: true }
  - { name: down, type: webhook, url_env: DOWN_URL, allow_http: true }
  - { name: mail, type: email, url: "smtp://127.0.0.1:$mail_port", starttls: false,
      allow_http: true, from: pgsift@example.com, to: [dba@example.com] }
  - { name: pd, type: pagerduty, url: "http://127.0.0.1:9/", routing_key_file: hook.secret,
      allow_http: true }
report:
  dir: $T/reports
  at: "05:00"
  formats: [html, md]
  notify: [$1]
YAML
}
unset PGSIFT_DB
export SIFT_TEST_NOW=2026-11-26T06:00:00Z
write_config "hook, chat, down, mail"
"$PGSIFT" -v tail --config pgsift.yaml 2>tail.err &
pid=$!
sent() { [[ $(stub_count hook) -ge 1 && $(stub_count chat) -ge 1 && $(stub_count mail) -ge 1 ]] && grep -q "trying again" tail.err; }
wait_for 30 sent
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
expect_eq "tail exit code" 0 "$rc"
err=$(cat tail.err)
for r in hook chat mail; do
  expect_contains "$err" "report: summary of 2026-11-25 sent to '$r'"
done
expect_contains "$err" "report: summary of 2026-11-25 not sent (receiver 'down': HTTP 503"
expect_contains "$err" "trying again in 60 s"

body=$(stub_field hook body)
expect_eq "webhook message" "message 1 pgsift-report-2026-11-25 PostgreSQL report 2026-11-25" \
  "$(jq -r '"\(.kind) \(.version) \(.id) \(.title)"' <<<"$body")"
expect_contains "$(jq -r .text <<<"$body")" "**PostgreSQL report 2026-11-25"
expect_contains "$(jq -r .text <<<"$body")" "$T/reports/pgsift-report-2026-11-25.html"
expect_eq "webhook-id" "pgsift-report-2026-11-25" "$(stub_field hook header.webhook-id)"
"$SIFT_TEST_TOOL" webhook-verify hook.log "$secret" >verify.txt || fail "bad signature: $(cat verify.txt)"
expect_contains "$(stub_field chat body | jq -r .text)" "*PostgreSQL report 2026-11-25*"
data=$(stub_field mail data)
expect_contains "$data" "Subject: PostgreSQL report 2026-11-25"
expect_contains "$data" "Message-ID: <pgsift-report-2026-11-25@pgsift>"
expect_eq "mail recipients" "<dba@example.com>" "$(stub_field mail rcpt | jq -r '.[]')"

# Receivers that cannot take the summary keep the daemon from starting.
write_config "pd"
rc=0; out=$("$PGSIFT" tail --config pgsift.yaml 2>&1) || rc=$?
expect_eq "exit code, pagerduty" 2 "$rc"
expect_contains "$out" "report.notify: receiver 'pd' takes alerts only"
write_config "nobody"
rc=0; out=$("$PGSIFT" tail --config pgsift.yaml 2>&1) || rc=$?
expect_eq "exit code, unknown receiver" 2 "$rc"
expect_contains "$out" "report.notify: no receiver named 'nobody' in receivers"
pass
