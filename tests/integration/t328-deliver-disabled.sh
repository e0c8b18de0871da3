#!/usr/bin/env bash
# A receiver that answered 410 Gone is disabled: nothing more is sent to it, not even
# the resolve of an alert whose trigger it got before it was disabled.
# timeout: 60
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/data/alerts-lib.sh"
need_cmd sqlite3 jq

ev="$SIFT_SOURCE_DIR/tests/fixtures/handmade/alerts-replay.ndjson"
start_http_stub hook "200,410,200"
export HOOK_URL="http://127.0.0.1:$hook_port/"
cat > pgsift.yaml <<YAML
receivers:
  - { name: hook, type: webhook, url_env: HOOK_URL, allow_http: true }
route: { notify: [hook], group_wait: 0s, group_interval: 1m, group_by: [rule] }
YAML
cat > rules.yaml <<'YAML'
rules:
  - { name: deadlock, kind: event, where: { type: [deadlock] }, group_by: [database],
      resolve_after: 15m }
  - { name: long_lock_wait, kind: event, where: { type: [lock_wait, lock_acquired], wait_ms: "> 5000" },
      group_by: [database], resolve_after: 10m }
YAML
# 10:08 the deadlock fires: its trigger is delivered (200).
at 2026-11-24T10:08:30Z "$PGSIFT" rules eval --config pgsift.yaml --events "$ev" \
  --since 2026-11-24T10:00:00Z --until 2026-11-24T10:08:00Z rules.yaml >/dev/null
at 2026-11-24T10:09:00Z "$PGSIFT" alerts deliver --config pgsift.yaml --once >/dev/null 2>&1
expect_eq "deadlock trigger delivered" "delivered" "$(q "SELECT status FROM deliveries")"
# 10:13 the lock wait fires: 410 Gone disables the receiver.
at 2026-11-24T10:13:30Z "$PGSIFT" rules eval --config pgsift.yaml --events "$ev" \
  --until 2026-11-24T10:13:00Z rules.yaml >/dev/null
at 2026-11-24T10:14:00Z "$PGSIFT" alerts deliver --config pgsift.yaml --once >/dev/null 2>&1
expect_eq "second request answered 410" "410" "$(stub_field hook answered | tail -1)"
expect_eq "receiver disabled" 1 "$(q "SELECT count(*) FROM receiver_state WHERE receiver = 'hook'")"
# Both resolve; nothing more may reach the disabled receiver.
at 2026-11-24T10:31:00Z "$PGSIFT" rules eval --config pgsift.yaml --events "$ev" \
  --until 2026-11-24T10:30:00Z rules.yaml >/dev/null
expect_eq "deadlock resolved" "resolved" "$(q "SELECT state FROM alert_instances WHERE rule = 'deadlock'")"
at 2026-11-24T10:32:00Z "$PGSIFT" alerts deliver --config pgsift.yaml --once >/dev/null 2>&1
at 2026-11-24T10:40:00Z "$PGSIFT" alerts deliver --config pgsift.yaml --once >/dev/null 2>&1
expect_eq "no request to a disabled receiver" 2 "$(stub_count hook)"
expect_eq "nothing left pending or batched" 0 \
  "$(q "SELECT count(*) FROM notifications WHERE status IN ('pending', 'batched')")"
# No libcurl on the host (a library name that does not exist stands for it): one error up
# front, nothing attempted.
rc=0; err=$(SIFT_TEST_LIBCURL=libpgsift-none.so.1 "$PGSIFT" alerts deliver --config pgsift.yaml \
  --once 2>&1) || rc=$?
expect_eq "exit code without libcurl" 1 "$rc"
expect_contains "$err" "cannot load libpgsift-none.so.1"
expect_eq "no request without libcurl" 2 "$(stub_count hook)"

# Two webhook receivers on loopback stubs, and a configuration with both:
#   two_webhooks FILE NAME1 SCRIPT1 NAME2 SCRIPT2 [NAME1'S KEYS] [THE ROUTE'S KEYS]
# (the stubs' scripts as start_http_stub's; keys as ", key: value")
two_webhooks() {
  local file=$1 n1=$2 s1=$3 n2=$4 s2=$5 k1=${6:-} kr=${7:-} p1 p2
  start_http_stub "$n1" "$s1"
  start_http_stub "$n2" "$s2"
  p1=${n1}_port p2=${n2}_port
  export "${n1^^}_URL=http://127.0.0.1:${!p1}/" "${n2^^}_URL=http://127.0.0.1:${!p2}/"
  printf '%s\n' "receivers:" \
    "  - { name: $n1, type: webhook, url_env: ${n1^^}_URL, allow_http: true$k1 }" \
    "  - { name: $n2, type: webhook, url_env: ${n2^^}_URL, allow_http: true }" \
    "route: { notify: [$n1, $n2], group_wait: 0s, group_interval: 1m$kr }" >"$file"
}

# A receiver taken out of the configuration while its trigger waits for a retry (500):
# what was queued for it fails, so that it is neither pending for ever nor sent, without
# its resolve, when a receiver of that name comes back. The other receiver gets both.
rm -f "$PGSIFT_DB"
two_webhooks two.yaml a "500,200,200" b "200,200"
cat >one.yaml <<'YAML'
receivers:
  - { name: b, type: webhook, url_env: B_URL, allow_http: true }
route: { notify: [b], group_wait: 0s, group_interval: 1m }
YAML
at 2026-11-24T10:08:30Z "$PGSIFT" rules eval --config two.yaml --events "$ev" \
  --since 2026-11-24T10:00:00Z --until 2026-11-24T10:08:00Z rules.yaml >/dev/null
at 2026-11-24T10:09:00Z "$PGSIFT" alerts deliver --config two.yaml --once >/dev/null 2>&1
expect_eq "a answered 500" 500 "$(stub_field a answered)"
at 2026-11-24T10:24:00Z "$PGSIFT" rules eval --config one.yaml --events "$ev" \
  --until 2026-11-24T10:23:00Z rules.yaml >/dev/null
out=$(at 2026-11-24T10:24:10Z "$PGSIFT" alerts deliver --config one.yaml --once 2>&1)
expect_contains "$out" "receiver 'a' is not in the configuration: what was queued for it fails"
at 2026-11-24T10:40:00Z "$PGSIFT" alerts deliver --config two.yaml --once >/dev/null 2>&1
expect_eq "a: only the first attempt" 1 "$(stub_count a)"
expect_eq "b: the deadlock's and the lock wait's triggers and resolves" "firing firing resolved resolved" \
  "$(stub_field b body | jq -r .status | paste -sd' ')"
expect_eq "nothing queued for a" "" \
  "$(q "SELECT status FROM deliveries WHERE receiver = 'a' AND status = 'pending' UNION ALL SELECT status FROM notifications WHERE receiver = 'a' AND status IN ('pending', 'batched')")"

# A receiver that does not answer (timeout) does not hold back the others: receivers send
# at the same time (the first in the configuration, it hangs 2 s; the second is answered
# meanwhile), and one whose queue is being retried is served after the others.
rm -f "$PGSIFT_DB"
two_webhooks slow.yaml slow "timeout,timeout,timeout" fast "200,200" ", timeout: 2s"
at 2026-11-24T10:08:30Z "$PGSIFT" rules eval --config slow.yaml --events "$ev" \
  --since 2026-11-24T10:00:00Z --until 2026-11-24T10:08:00Z rules.yaml >/dev/null
at 2026-11-24T10:09:00Z "$PGSIFT" alerts deliver --config slow.yaml --once >/dev/null 2>&1
fast1=$(stub_field fast t_ms) slow1=$(stub_field slow t_ms)
((fast1 - slow1 < 1000)) || fail "the second receiver waited for the first one's timeout: fast at $fast1 ms, slow at $slow1 ms"
expect_eq "the answered receiver's delivery" delivered "$(q "SELECT status FROM deliveries WHERE receiver = 'fast'")"
at 2026-11-24T10:13:30Z "$PGSIFT" rules eval --config slow.yaml --events "$ev" \
  --until 2026-11-24T10:13:00Z rules.yaml >/dev/null
at 2026-11-24T10:14:00Z "$PGSIFT" alerts deliver --config slow.yaml --once >/dev/null 2>&1
expect_eq "requests: slow, fast" "2 2" "$(stub_count slow) $(stub_count fast)"
fast2=$(stub_field fast t_ms | tail -1) slow2=$(stub_field slow t_ms | tail -1)
((fast2 < slow2)) || fail "the receiver being retried went first: fast at $fast2 ms, slow at $slow2 ms"

# A receiver that answers, but slowly (2 s), does not set the pace of the others: the
# quick one sends its two notifications (two groups) well within the slow one's delay
# (1.5 s: room for a loaded host, and still less than the 2 s it would wait behind it).
rm -f "$PGSIFT_DB"
two_webhooks pace.yaml slowok "delay=2000:200,delay=2000:200" quick "200,200" "" ", group_by: [rule]"
at 2026-11-24T10:13:30Z "$PGSIFT" rules eval --config pace.yaml --events "$ev" \
  --since 2026-11-24T10:00:00Z --until 2026-11-24T10:13:00Z rules.yaml >/dev/null
at 2026-11-24T10:14:00Z "$PGSIFT" alerts deliver --config pace.yaml --once >/dev/null 2>&1
expect_eq "requests: slowok, quick" "2 2" "$(stub_count slowok) $(stub_count quick)"
q1=$(stub_field quick t_ms | head -1) q2=$(stub_field quick t_ms | tail -1)
((q2 - q1 < 1500)) || fail "the quick receiver waited for the slow one: its requests at $q1 and $q2 ms"
pass
