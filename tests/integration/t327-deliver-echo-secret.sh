#!/usr/bin/env bash
# A receiver whose error page echoes the request ("Cannot POST /hooks/<secret>?...", the
# path's last segment, the decoded query, the Authorization header) must not put the
# webhook URL's secret path, query, host or credentials into the store, `pgsift alerts`
# output or the -v log; long URLs (cut short by the 1 KiB response buffer), the
# percent-decoded path and the form-decoded query included.
# timeout: 60
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/data/alerts-lib.sh"
need_cmd sqlite3

ev="$SIFT_SOURCE_DIR/tests/fixtures/handmade/alerts-replay.ndjson"
cat > rules.yaml <<'YAML'
rules:
  - { name: deadlock, kind: event, where: { type: [deadlock] }, group_by: [database] }
YAML
cat > hook.yaml <<'YAML'
receivers: [{ name: hook, type: webhook, url_env: ECHO_URL, allow_http: true }]
route: { notify: [hook], group_wait: 0s }
YAML
long=$(printf 'L%.0s' {1..1100})
for variant in short pct long host form userinfo; do
  host=127.0.0.1
  case $variant in
    short) path="/hooks/T0SECRETPATH/B1?token=QSECRETQ" ;;
    pct) path="/hooks/T0SEC%52ETPATH?token=QSECRETQ" ;;
    long) path="/hooks/T0SECRETPATH$long" ;;
    # the secret is the host name: curl sends *.localhost to the loopback itself, and the
    # test HTTP server's error page (start_http_stub) prints the Host header it got
    host) path="/hook" host=T0SECRETHOST.localhost ;;
    # '+' and '/' percent-encoded: the page shows "Q+SECRET/1", form-decoded "Q SECRET/1"
    form) path="/hooks/PATHONLYSECRET?sig=Q%2BSECRET%2F1&x=WSECRETW+SECRETW" ;;
    # curl sends the URL's credentials as "Authorization: Basic base64(user:password)"
    userinfo) path="/hook" host="hookuser:PWSECRET@127.0.0.1" ;;
  esac
  rm -f "$PGSIFT_DB" echo_$variant.log
  start_http_stub echo_$variant "404:echo"
  port_var=echo_${variant}_port
  export ECHO_URL="http://$host:${!port_var}$path"
  at 2026-11-24T10:08:30Z "$PGSIFT" rules eval --config hook.yaml --events "$ev" \
    --since 2026-11-24T10:00:00Z --until 2026-11-24T10:08:00Z rules.yaml >/dev/null
  out=$(at 2026-11-24T10:09:00Z "$PGSIFT" -v alerts deliver --config hook.yaml --once 2>&1) || true
  expect_eq "$variant: the receiver was reached" 1 "$(stub_count echo_$variant)"
  stored=$(q "SELECT error FROM delivery_attempts; SELECT last_error FROM deliveries")
  expect_contains "$stored" "Cannot handle POST"
  shown=$(at 2026-11-24T10:09:00Z "$PGSIFT" alerts --config hook.yaml 2>&1 || true)
  for text in "$out" "$stored" "$shown"; do
    # base64 of hookuser:PWSECRET
    for s in SECRETPATH SECRETQ SECRET LLLL aG9va3VzZXI6UFdTRUNSRVQ hookuser; do
      if [[ $text == *"$s"* ]]; then
        printf '%s\n' "$text" | grep -o ".\{0,40\}$s.\{0,10\}" | head -3 >&2
        fail "$variant: secret '$s' leaked"
      fi
    done
  done
done
pass
