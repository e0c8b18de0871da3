#!/usr/bin/env bash
# A receiver that answered 410 Gone is disabled: nothing more is sent to it, not even
# the resolve of an alert whose trigger it got before it was disabled.
# timeout: 60
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/data/alerts-lib.sh"
need_cmd sqlite3

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
pass
