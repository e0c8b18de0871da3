#!/usr/bin/env bash
# Secrets are never written in the configuration: a literal 'url' (accepted for e-mail
# and PagerDuty because a server address is not a secret) must not carry credentials
# (smtps://user:password@host); the error names the receiver, never the password.
. "$(dirname "$0")/lib.sh"

cat > rules.yaml <<'YAML'
rules:
  - { name: deadlock, kind: event, where: { type: [deadlock] } }
YAML
for url in "smtps://ops:LITPW99@smtp.example.com:465" "smtps://ops%40x:LITPW99@smtp.example.com"; do
  cat > mail.yaml <<YAML
receivers:
  - { name: mail, type: email, url: "$url", from: a@example.com, to: [b@example.com] }
route: { notify: [mail] }
YAML
  rc=0; err=$("$PGSIFT" rules check --config mail.yaml rules.yaml 2>&1) || rc=$?
  expect_eq "refused" 2 "$rc"
  expect_contains "$err" "receiver 'mail': 'url' must not hold credentials"
  expect_not_contains "$err" "LITPW99"
  rc=0; err=$("$PGSIFT" tail --check --config mail.yaml 2>&1) || rc=$?
  expect_eq "tail --check refuses it too" 2 "$rc"
  expect_not_contains "$err" "LITPW99"
done
cat > pd.yaml <<'YAML'
receivers:
  - { name: pd, type: pagerduty, routing_key_env: RK, url: "https://k:LITPW99@events.example.com/v2/enqueue" }
route: { notify: [pd] }
YAML
rc=0; err=$("$PGSIFT" rules check --config pd.yaml rules.yaml 2>&1) || rc=$?
expect_eq "pagerduty: refused" 2 "$rc"
expect_contains "$err" "receiver 'pd': 'url' must not hold credentials"
# A user name alone in 'username', an '@' in the path or query: accepted.
cat > ok.yaml <<'YAML'
receivers:
  - { name: mail, type: email, url: "smtps://smtp.example.com:465/x@y?a=b@c", from: a@example.com,
      to: [b@example.com], username: ops, password_env: SMTP_PW }
route: { notify: [mail] }
YAML
"$PGSIFT" rules check --config ok.yaml rules.yaml >/dev/null
pass
