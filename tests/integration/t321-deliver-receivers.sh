#!/usr/bin/env bash
# Slack, PagerDuty and e-mail (SMTP stub) deliveries; silences and inhibition mute
# notifications but not state.
# timeout: 120
. "$(dirname "$0")/lib.sh"
fixture_clock # dated data: on the real clock, weeks later, it would be rolled up or expired
. "$(dirname "$0")/data/alerts-lib.sh"
need_cmd sqlite3

ev="$SIFT_SOURCE_DIR/tests/fixtures/handmade/alerts-replay.ndjson"
start_http_stub slack "200"
start_http_stub pd "202"
start_smtp_stub mail "451,250"
export SLACK_URL="http://127.0.0.1:$slack_port/services/T0/B0/XYZ"
export SMTP_PASSWORD="hunter2"
printf 'R0UTINGKEY0123456789abcdefABCDEF\n' > pd.key
chmod 600 pd.key
deadlock_rules 15m > rules.yaml
cat >> rules.yaml <<'YAML'
  - name: long_lock_wait
    kind: event
    where: { type: [lock_acquired], wait_ms: "> 5000" }
    group_by: [database, fingerprint]
    resolve_after: 10m
    annotations: { summary: "lock wait on {{ database }}: {{ query }}" }
  - name: auth_failure_burst
    kind: threshold
    source: events
    metric: count
    window: 5m
    where: { type: [auth_failure] }
    group_by: [database, user]
    condition: ">= 10"
YAML
cat > pgsift.yaml <<YAML
rules: [rules.yaml]
receivers:
  - { name: slack, type: slack, url_env: SLACK_URL, allow_http: true }
  - { name: pd, type: pagerduty, url: "http://127.0.0.1:$pd_port/v2/enqueue",
      routing_key_file: pd.key, allow_http: true }
  - { name: mail, type: email, url: "smtp://127.0.0.1:$mail_port", starttls: false,
      allow_http: true, username: pgsift, password_env: SMTP_PASSWORD,
      from: pgsift@example.com, to: [dba@example.com, oncall@example.com] }
route:
  notify: [slack, mail]
  group_wait: 0s
  group_interval: 1m
  routes:
    - { match: { severity: critical }, notify: [pd, slack] }
inhibit:
  - { source: { rule: deadlock }, target: { rule: long_lock_wait }, equal: [database] }
YAML

# Silence the failed logins before they happen.
out=$(at 2026-11-24T10:00:00Z "$PGSIFT" silence add --for 2h --comment "pen test" \
  --author tester rule=auth_failure_burst user=~mall.*)
expect_eq "silence added" "silence 1 until 2026-11-24T12:00:00Z" "$out"
expect_exit 2 "$PGSIFT" silence add --for 2h rule=x
expect_exit 2 "$PGSIFT" silence add --for 2h --comment x "rule=~(("
expect_exit 2 "$PGSIFT" silence add --comment x rule=x

# 10:08 deadlock (critical: pd + slack), 10:13 lock wait (inhibited by the deadlock on
# the same database), 10:16 auth failures (silenced).
at 2026-11-24T10:20:00Z "$PGSIFT" rules eval --config pgsift.yaml --events "$ev" \
  --since 2026-11-24T10:00:00Z --until 2026-11-24T10:17:00Z >/dev/null
expect_eq "notification rows" "auth_failure_burst|mail|silenced
auth_failure_burst|slack|silenced
deadlock|pd|pending
deadlock|slack|pending
long_lock_wait|mail|inhibited
long_lock_wait|slack|inhibited" \
  "$(q "SELECT i.rule, n.receiver, n.status FROM notifications n JOIN alert_instances i USING (instance_key) ORDER BY 1, 2")"
expect_contains "$(q "SELECT note FROM notifications WHERE status = 'inhibited' LIMIT 1")" "inhibited by deadlock"
# State is not muted.
expect_eq "states" "auth_failure_burst|firing
deadlock|recovering
long_lock_wait|recovering" "$(q "SELECT rule, state FROM alert_instances ORDER BY rule")"
out=$("$PGSIFT" alerts)
expect_contains "$out" "NOTIFICATIONS NOT SENT: inhibited 2 pending 2 silenced 2"
# It fits a 100-column terminal: labels that do not fit go to the line below their row,
# a delivery's last error too.
printf '%s\n' "$out" >alerts.txt
expect_eq "alerts table width <= 100" 1 "$(LC_ALL=C.UTF-8 wc -L <alerts.txt | awk '{ print ($1 <= 100) }')"

at 2026-11-24T10:20:10Z "$PGSIFT" alerts deliver --config pgsift.yaml --once >/dev/null
# PagerDuty: one trigger event with the routing key and the instance key as dedup_key.
expect_eq "pd requests" 1 "$(stub_count pd)"
body=$(stub_field pd body)
key=$(q "SELECT instance_key FROM alert_instances WHERE rule = 'deadlock'")
expect_contains "$body" '"routing_key":"R0UTINGKEY0123456789abcdefABCDEF"'
expect_contains "$body" '"event_action":"trigger"'
expect_contains "$body" "\"dedup_key\":\"$key\""
expect_contains "$body" '"severity":"critical"'
expect_contains "$body" '"summary":"deadlock on app"'
# Slack: Block Kit with the header as text.
expect_eq "slack requests" 1 "$(stub_count slack)"
body=$(stub_field slack body)
expect_contains "$body" '"text":"[FIRING:1] deadlock"'
expect_contains "$body" '"type":"header"'
expect_contains "$body" '"type":"mrkdwn"'
# --format csv and md (INTERFACE.md: the query commands' formats). CSV is one table, the
# instances, as the JSON document has them (labels as their JSON object); Markdown also
# has the counts not sent and the delivery log.
csv=$("$PGSIFT" alerts --format csv | tr -d '\r')
expect_eq "alerts csv header" \
  "state,severity,rule,active_since,fired_at,resolved_at,value,episode,labels,instance_key" \
  "$(head -1 <<<"$csv")"
expect_eq "alerts csv rows" "$(q "SELECT count(*) FROM alert_instances WHERE state != 'inactive'")" \
  "$(tail -n +2 <<<"$csv" | wc -l)"
rfc='%Y-%m-%dT%H:%M:%SZ'
expect_eq "alerts csv deadlock row" \
  "$(q "SELECT state || ',' || severity || ',' || rule || ',' ||
               strftime('$rfc', active_since / 1000000, 'unixepoch') || ',' ||
               strftime('$rfc', fired_at / 1000000, 'unixepoch') || ',,' ||
               printf('%g', value) || ',' || episode || ',\"' || replace(labels, '\"', '\"\"') ||
               '\",' || instance_key FROM alert_instances WHERE rule = 'deadlock'")" \
  "$(grep ",$key\$" <<<"$csv")"
md=$("$PGSIFT" alerts --format md)
expect_contains "$md" "| recovering | critical | deadlock | "
expect_contains "$md" "Notifications not sent: inhibited 2 silenced 2."
pd_id=$(q "SELECT id FROM deliveries WHERE receiver = 'pd'")
expect_contains "$md" "| ${pd_id//_/\\_} | pd | delivered | 1 | 1 | " # (Markdown escapes '_')
expect_eq "alerts --history csv rows" "$(q "SELECT count(*) FROM alert_history")" \
  "$("$PGSIFT" alerts --history --format csv | tail -n +2 | wc -l)"
expect_contains "$("$PGSIFT" alerts --history --format md)" "| at | transition | rule | severity | value | labels |"

# The routing key and the Slack URL are not in the store's delivery log.
expect_not_contains "$(sqlite3 "$PGSIFT_DB" .dump)" "R0UTINGKEY"
expect_not_contains "$(sqlite3 "$PGSIFT_DB" .dump)" "XYZ"

# Expire the silence: nothing is re-sent at once (state did not change), the silence
# list shows it expired.
expect_contains "$(at 2026-11-24T10:21:00Z "$PGSIFT" silence expire 1)" "silence 1 expired"
expect_exit 2 "$PGSIFT" silence expire 1
expect_contains "$(at 2026-11-24T10:21:00Z "$PGSIFT" silence list --all)" "expired"
expect_eq "no active silence" "" "$(at 2026-11-24T10:21:00Z "$PGSIFT" silence list | tail -n +2)"
if command -v jq >/dev/null; then
  expect_eq "silence json" "tester rule=auth_failure_burst" \
    "$(at 2026-11-24T10:21:00Z "$PGSIFT" silence list --all --format json |
      jq -r '.silences[0] | "\(.created_by) \(.matchers[0])"')"
fi

# Without $USER (cron, systemd) the author is the account's name, not null (QA 28); a
# --starts or --until that is not a time says what it takes.
env -u USER "$PGSIFT" silence add --for 1m --comment "from cron" rule=none_such >/dev/null
if command -v jq >/dev/null; then
  expect_eq "silence author without \$USER" "$(id -un)" \
    "$("$PGSIFT" silence list --all --format json | jq -r '.silences[] | select(.comment == "from cron") | .created_by')"
fi
rc=0; err=$("$PGSIFT" silence add --until 24h --comment x rule=none_such 2>&1) || rc=$?
expect_eq "silence --until 24h: usage" 2 "$rc"
expect_contains "$err" "expected a time, RFC 3339 like 2026-11-24T10:00:00Z, or a date; for a length use --for"

# The deadlock resolves at 10:23: PagerDuty resolve with the same dedup_key. The lock
# wait's trigger was never sent, so its resolve goes nowhere.
at 2026-11-24T10:24:00Z "$PGSIFT" rules eval --config pgsift.yaml --events "$ev" \
  --until 2026-11-24T10:23:00Z >/dev/null
at 2026-11-24T10:24:10Z "$PGSIFT" alerts deliver --config pgsift.yaml --once >/dev/null
body=$(stub_field pd body | tail -1)
expect_contains "$body" '"event_action":"resolve"'
expect_contains "$body" "\"dedup_key\":\"$key\""
expect_eq "pd requests" 2 "$(stub_count pd)"
expect_eq "no resolve for muted alerts" 0 \
  "$(q "SELECT count(*) FROM notifications n JOIN alert_instances i USING (instance_key) WHERE i.rule != 'deadlock' AND n.kind = 'resolved'")"

# E-mail: a warning routed to slack and mail (auth failures again, no silence now).
rm -f "$PGSIFT_DB"
at 2026-11-24T10:20:00Z "$PGSIFT" rules eval --config pgsift.yaml --events "$ev" \
  --since 2026-11-24T10:15:00Z --until 2026-11-24T10:16:00Z >/dev/null
at 2026-11-24T10:20:10Z "$PGSIFT" alerts deliver --config pgsift.yaml --once >/dev/null
expect_eq "smtp 451 is retried" "retry" \
  "$(q "SELECT a.verdict FROM delivery_attempts a JOIN deliveries x ON x.id = a.delivery_id WHERE x.receiver = 'mail'")"
at 2026-11-24T10:30:00Z "$PGSIFT" alerts deliver --config pgsift.yaml --once >/dev/null
expect_eq "mail delivered" "delivered" "$(q "SELECT status FROM deliveries WHERE receiver = 'mail'")"
expect_eq "two messages reached the SMTP stub" "451 250" \
  "$(stub_field mail answered | tr '\n' ' ' | sed 's/ $//')"
expect_eq "envelope" "<pgsift@example.com>" "$(stub_field mail from | sort -u)"
expect_eq "recipients" '["<dba@example.com>","<oncall@example.com>"]' "$(stub_field mail rcpt | tail -1)"
expect_contains "$(stub_field mail auth | tail -1)" "AUTH"
data=$(stub_field mail data)
expect_contains "$data" "Subject: [pgsift] FIRING:1 auth_failure_burst"
mid=$(q "SELECT id FROM deliveries WHERE receiver = 'mail'")
expect_contains "$data" "Message-ID: <$mid@pgsift>"
expect_eq "same Message-ID on both attempts" 1 \
  "$(stub_field mail data | grep -o 'Message-ID: <[^>]*>' | sort -u | wc -l | tr -d ' ')"
expect_contains "$data" "FIRING auth_failure_burst [warning] database=app, user=mallory"
expect_not_contains "$data" "hunter2"

# Inhibition does not depend on the order of the rules: a PANIC and an error in the same
# minute fire a source (event) and a target (threshold) at the same boundary; the
# target is inhibited whichever rule the file lists first, and gets no resolve (hand-made
# lines).
printf '%s\n' \
  '2026-11-24 10:00:10.000 UTC [100] app@db1 ERROR:  division by zero' \
  '2026-11-24 10:00:14.000 UTC [104] app@db1 PANIC:  could not write to file "pg_wal/x": No space left on device' \
  '2026-11-24 10:10:00.000 UTC [100] app@db1 LOG:  checkpoint starting: time' >inh.log
cat >inh.yaml <<'YAML'
receivers: [{ name: hook, type: webhook, url_env: SLACK_URL, allow_http: true }]
route: { notify: [hook], group_wait: 0s }
inhibit: [{ source: { rule: panic }, target: { rule: "!panic" }, equal: [database] }]
alerting: { max_notify_age: 1000d }
YAML
panic='  - {name: panic, kind: event, source: errors, where: {severity: [PANIC]}, group_by: [database]}'
errs='  - {name: errs, kind: threshold, source: errors, metric: count, window: 1m, group_by: [database], condition: ">= 1"}'
printf 'version: 1\nrules:\n%s\n%s\n' "$panic" "$errs" >source-first.yaml
printf 'version: 1\nrules:\n%s\n%s\n' "$errs" "$panic" >target-first.yaml
for order in source-first target-first; do
  rm -f inh.db*
  "$PGSIFT" -q --db inh.db ingest --prefix '%m [%p] %q%u@%d ' inh.log
  at 2026-11-25T12:00:00Z "$PGSIFT" --db inh.db rules eval --config inh.yaml $order.yaml >/dev/null
  expect_eq "$order: the target's notifications" "firing|inhibited" \
    "$(sqlite3 inh.db "SELECT kind || '|' || status FROM notifications WHERE json_extract(alert, '$.rule') = 'errs'")"
done
# A label that neither alert has is equal in both (Alertmanager's empty value).
cat >nolabel.yaml <<'YAML'
version: 1
rules:
  - {name: panic, kind: event, source: errors, where: {severity: [PANIC]}}
  - {name: errs, kind: threshold, source: errors, metric: count, window: 1m, condition: ">= 1"}
YAML
rm -f inh.db*
"$PGSIFT" -q --db inh.db ingest --prefix '%m [%p] %q%u@%d ' inh.log
at 2026-11-25T12:00:00Z "$PGSIFT" --db inh.db rules eval --config inh.yaml nolabel.yaml >/dev/null
expect_eq "no database label on either: the target's notifications" "firing|inhibited" \
  "$(sqlite3 inh.db "SELECT kind || '|' || status FROM notifications WHERE json_extract(alert, '$.rule') = 'errs'")"

# A muted alert that is still firing when it is muted no longer is sent then, as
# Alertmanager does; its resolve follows. Inhibition: the PANIC (source) resolves 5m after
# 10:00:14 while errors go on every minute until 10:12 (hand-made lines): the target is
# sent once the source resolved, at event time. Silence: the deadlock fires at 10:08
# during a silence that ends at 10:10; evaluated later, it is sent from the boundary at
# or after the silence's end, not before (it was muted then).
{
  printf '2026-11-24 10:00:14.000 UTC [104] app@db1 PANIC:  could not write to file "pg_wal/x": No space left on device\n'
  for m in 00 01 02 03 04 05 06 07 08 09 10 11 12; do
    printf '2026-11-24 10:%s:30.000 UTC [100] app@db1 ERROR:  division by zero\n' "$m"
  done
} >unmute.log
rm -f inh.db*
"$PGSIFT" -q --db inh.db ingest --prefix '%m [%p] %q%u@%d ' unmute.log
sed 's/group_by: \[database\]}/group_by: [database], resolve_after: 5m}/' source-first.yaml >unmute.yaml
at 2026-11-24T10:14:00Z "$PGSIFT" --db inh.db rules eval --config inh.yaml unmute.yaml --until 2026-11-24T10:13:00Z >/dev/null
expect_eq "inhibited while the PANIC fired, sent once it resolved" \
  "firing|inhibited|2026-11-24 10:01:00
firing|pending|2026-11-24 10:06:00" \
  "$(sqlite3 inh.db "SELECT kind || '|' || status || '|' || datetime(event_at / 1000000, 'unixepoch') FROM notifications WHERE json_extract(alert, '$.rule') = 'errs' ORDER BY id")"

rm -f "$PGSIFT_DB"
at 2026-11-24T10:05:00Z "$PGSIFT" silence add --for 5m --comment maintenance rule=deadlock >/dev/null
at 2026-11-24T10:09:00Z "$PGSIFT" rules eval --config pgsift.yaml --events "$ev" --until 2026-11-24T10:08:00Z >/dev/null
at 2026-11-24T10:16:00Z "$PGSIFT" rules eval --config pgsift.yaml --events "$ev" --until 2026-11-24T10:15:00Z >/dev/null
at 2026-11-24T10:24:00Z "$PGSIFT" rules eval --config pgsift.yaml --events "$ev" --until 2026-11-24T10:23:00Z >/dev/null
expect_eq "silenced when it fired, sent from the silence's end, then resolved" \
  "firing|pd|silenced|2026-11-24 10:08:00
firing|slack|silenced|2026-11-24 10:08:00
firing|pd|pending|2026-11-24 10:10:00
firing|slack|pending|2026-11-24 10:10:00
resolved|pd|pending|2026-11-24 10:23:00
resolved|slack|pending|2026-11-24 10:23:00" \
  "$(q "SELECT n.kind || '|' || n.receiver || '|' || n.status || '|' || datetime(n.event_at / 1000000, 'unixepoch') FROM notifications n JOIN alert_instances i USING (instance_key) WHERE i.rule = 'deadlock' ORDER BY n.id")"
pass
