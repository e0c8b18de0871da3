#!/usr/bin/env bash
# What pgsift refuses to do: send over plain http:// or SMTP without TLS unless allowed,
# trust a certificate it cannot verify, read a secret file others can read, notify about
# old transitions (unless asked with --notify-old).
# timeout: 120
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/data/alerts-lib.sh"
need_cmd sqlite3

ev="$SIFT_SOURCE_DIR/tests/fixtures/handmade/alerts-replay.ndjson"
cat > rules.yaml <<'YAML'
rules:
  - { name: deadlock, kind: event, where: { type: [deadlock] }, group_by: [database] }
YAML
fire() { # evaluate the 10:08 deadlock with config $1
  rm -f "$PGSIFT_DB"
  at 2026-11-24T10:08:30Z "$PGSIFT" rules eval --config "$1" --events "$ev" \
    --since 2026-11-24T10:00:00Z --until 2026-11-24T10:08:00Z rules.yaml >/dev/null
}
deliver() { at 2026-11-24T10:09:00Z "$PGSIFT" alerts deliver --config "$1" --once >/dev/null 2>&1; }

# 1. http:// without allow_http: refused by the transport, nothing reaches the server.
start_http_stub plain "200"
export PLAIN_URL="http://127.0.0.1:$plain_port/"
cat > plain.yaml <<'YAML'
receivers: [{ name: hook, type: webhook, url_env: PLAIN_URL }]
route: { notify: [hook], group_wait: 0s }
YAML
fire plain.yaml
deliver plain.yaml
expect_eq "refused at once" "failed|permanent" \
  "$(q "SELECT x.status, a.verdict FROM deliveries x JOIN delivery_attempts a ON a.delivery_id = x.id")"
expect_contains "$(q "SELECT error FROM delivery_attempts")" "plain http:// URL refused: receivers send over https only unless allow_http: true"
expect_eq "nothing sent in plain text" 0 "$(stub_count plain)"

# 2. smtp:// needs STARTTLS (the stub does not offer it): no mail is sent in clear.
start_smtp_stub mail "250"
cat > mail.yaml <<YAML
receivers:
  - { name: mail, type: email, url: "smtp://127.0.0.1:$mail_port", from: a@example.com,
      to: [b@example.com] }
route: { notify: [mail], group_wait: 0s }
YAML
fire mail.yaml
deliver mail.yaml
expect_eq "STARTTLS required" "permanent" "$(q "SELECT verdict FROM delivery_attempts")"
expect_eq "no message reached the server" 0 "$(stub_count mail)"
# And starttls: false is refused by the configuration unless allow_http says so.
sed -i 's/to: \[b@example.com\] }/to: [b@example.com], starttls: false }/' mail.yaml
rc=0; err=$("$PGSIFT" rules check --config mail.yaml rules.yaml 2>&1) || rc=$?
expect_eq "exit code" 2 "$rc"
expect_contains "$err" "URL must be smtps:// or smtp:// with starttls"

# 3. Certificates are verified (needs the openssl command for a TLS server).
if command -v openssl >/dev/null; then
  openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 \
    -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
  # Port 0: the kernel picks a free port, which s_server prints ("ACCEPT 127.0.0.1:N")
  # once it listens (no port found free and then freed, which another process could take).
  openssl s_server -accept 127.0.0.1:0 -cert cert.pem -key key.pem -www >s_server.out 2>&1 &
  _stub_pids+=($!)
  listening() { grep -q '^ACCEPT 127\.0\.0\.1:[0-9]' s_server.out; }
  wait_for 10 listening
  port=$(sed -n 's/^ACCEPT 127\.0\.0\.1:\([0-9]*\).*/\1/p' s_server.out | head -n 1)
  export TLS_URL="https://127.0.0.1:$port/"
  for variant in verify ca noverify; do
    case $variant in
      verify) extra="" ;;
      ca) extra=", ca_file: cert.pem" ;;
      noverify) extra=", tls_verify: false" ;;
    esac
    # verify must fail in the handshake, well before its timeout even on a loaded host;
    # the others wait their whole timeout (s_server -www does not answer a POST)
    t=1s
    [[ $variant == verify ]] && t=10s
    cat > tls.yaml <<YAML
receivers: [{ name: hook, type: webhook, url_env: TLS_URL, timeout: $t$extra }]
route: { notify: [hook], group_wait: 0s }
YAML
    fire tls.yaml
    deliver tls.yaml
    err=$(q "SELECT error FROM delivery_attempts")
    if [[ $variant == verify ]]; then
      expect_contains "$err" "certificate"   # self-signed: refused
    else
      expect_not_contains "$err" "certificate"  # TLS passed; s_server does not answer POSTs
    fi
  done
fi

# 4. A secret file readable by others is refused, and named, never shown.
start_http_stub signed "200"
export SIGNED_URL="http://127.0.0.1:$signed_port/"
printf 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n' > open.secret
chmod 644 open.secret
cat > secret.yaml <<'YAML'
receivers: [{ name: hook, type: webhook, url_env: SIGNED_URL, secret_file: open.secret,
              allow_http: true }]
route: { notify: [hook], group_wait: 0s }
YAML
fire secret.yaml
deliver secret.yaml
err=$(q "SELECT error FROM delivery_attempts")
expect_contains "$err" "receiver 'hook': signing key file 'open.secret' is readable by group or others"
expect_not_contains "$err" "MfKQ9r8"
# ...and the checks say it before any alert: rules check --config, tail --check.
mkdir -p logs
printf 'sources: [{ path: logs }]\nrules: [rules.yaml]\n' | cat - secret.yaml >secret-tail.yaml
for check in "rules check --config secret.yaml rules.yaml" "tail --check --config secret-tail.yaml"; do
  rc=0
  err=$("$PGSIFT" $check 2>&1) || rc=$?
  expect_eq "$check: exit code" 2 "$rc"
  expect_contains "$err" "signing key file 'open.secret' is readable by group or others (mode 644); chmod 600 it"
  expect_not_contains "$err" "MfKQ9r8"
done
# A named pipe as a secret file is refused at once (opening it waited for a writer).
mkfifo pipe.secret && chmod 600 pipe.secret
sed 's/open.secret/pipe.secret/' secret.yaml >pipe.yaml
rc=0
err=$(timeout 20 "$PGSIFT" rules check --config pipe.yaml rules.yaml 2>&1) || rc=$?
expect_eq "a FIFO secret: exit code" 2 "$rc"
expect_contains "$err" "signing key file 'pipe.secret' is not a regular file"
expect_eq "not sent unsigned" 0 "$(stub_count signed)"
expect_eq "kept for a retry (the operator can fix the mode)" "pending" "$(q "SELECT status FROM deliveries")"
chmod 600 open.secret
at 2026-11-24T10:30:00Z "$PGSIFT" alerts deliver --config secret.yaml --once >/dev/null
expect_eq "sent once fixed" "delivered" "$(q "SELECT status FROM deliveries")"
expect_contains "$(stub_field signed header.webhook-signature)" "v1,"

# 5. Transitions older than max_notify_age (here: evaluated 2 h later) are recorded, not
#    queued; --notify-old queues them.
rm -f "$PGSIFT_DB"
at 2026-11-24T12:08:30Z "$PGSIFT" rules eval --config secret.yaml --events "$ev" \
  --since 2026-11-24T10:00:00Z --until 2026-11-24T10:08:00Z rules.yaml >/dev/null
expect_eq "old: recorded as replay" "replay" "$(q "SELECT status FROM notifications")"
expect_contains "$(q "SELECT note FROM notifications")" "max_notify_age"
rm -f "$PGSIFT_DB"
at 2026-11-24T12:08:30Z "$PGSIFT" rules eval --config secret.yaml --events "$ev" --notify-old \
  --since 2026-11-24T10:00:00Z --until 2026-11-24T10:08:00Z rules.yaml >/dev/null
expect_eq "--notify-old: queued" "pending" "$(q "SELECT status FROM notifications")"
rm -f "$PGSIFT_DB"
at 2026-11-24T10:08:30Z "$PGSIFT" rules eval --config secret.yaml --events "$ev" --replay \
  --since 2026-11-24T10:00:00Z --until 2026-11-24T10:08:00Z rules.yaml >/dev/null
expect_eq "--replay: recorded only" "replay" "$(q "SELECT status FROM notifications")"
# ... and a deliverer never sends what a replay recorded.
before=$(stub_count signed)
at 2026-11-24T10:09:00Z "$PGSIFT" alerts deliver --config secret.yaml --once >/dev/null
at 2026-11-24T10:30:00Z "$PGSIFT" alerts deliver --config secret.yaml --once >/dev/null
expect_eq "nothing sent from a replay" "$before" "$(stub_count signed)"
expect_eq "no delivery made from it" 0 "$(q "SELECT count(*) FROM deliveries")"
pass
