#!/usr/bin/env bash
# kill -9 of the deliverer while a request is in flight: after a restart every
# notification arrives at least once, and the duplicate carries the same idempotency key
# (webhook-id) as the request that was cut off.
# timeout: 120
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/data/alerts-lib.sh"
need_cmd sqlite3

ev="$SIFT_SOURCE_DIR/tests/fixtures/handmade/alerts-replay.ndjson"
rules="$SIFT_SOURCE_DIR/tests/integration/data/replay-rules.yaml"
# The first request is held for 4 s (the deliverer is killed meanwhile), the rest answer
# at once.
start_http_stub hook "delay=4000:200,200"
export HOOK_URL="http://127.0.0.1:$hook_port/"
cat > pgsift.yaml <<YAML
receivers:
  - { name: hook, type: webhook, url_env: HOOK_URL, allow_http: true, burst: 100,
      rate_per_min: 6000, timeout: 10s }
route: { notify: [hook], group_wait: 0s, group_by: [rule] }
alerting: { max_notify_age: 5000d, max_delivery_age: 5000d }
YAML
# Real clock from here on: the deliverer runs as a service would.
unset SIFT_TEST_NOW
"$PGSIFT" rules eval --config pgsift.yaml --events "$ev" --since 2026-11-24T10:00:00Z \
  --until 2026-11-24T10:20:00Z "$rules" >/dev/null
expect_eq "five triggers queued" 5 "$(q "SELECT count(*) FROM notifications WHERE status = 'pending'")"

"$PGSIFT" alerts deliver --config pgsift.yaml --max-seconds 60 >deliver1.out 2>&1 &
pid=$!
wait_for 20 test -s hook.log            # the first request reached the stub ...
kill -9 "$pid"                           # ... and the deliverer dies waiting for the answer
wait "$pid" 2>/dev/null || true
expect_eq "nothing recorded as delivered" 0 \
  "$(q "SELECT count(*) FROM deliveries WHERE status = 'delivered'")"
expect_eq "no attempt recorded" 0 "$(q "SELECT count(*) FROM delivery_attempts")"

# Restart: the cut-off message is sent again first, then the others.
all_delivered() { [[ $(q "SELECT count(*) FROM deliveries WHERE status != 'delivered'") == 0 ]]; }
"$PGSIFT" alerts deliver --config pgsift.yaml --max-seconds 60 >deliver2.out 2>&1 &
pid=$!
wait_for 30 all_delivered
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true

expect_eq "deliveries" 5 "$(q "SELECT count(*) FROM deliveries WHERE status = 'delivered'")"
expect_eq "notifications" 5 "$(q "SELECT count(*) FROM notifications WHERE status = 'delivered'")"
expect_eq "requests: 5 messages + 1 duplicate" 6 "$(stub_count hook)"
ids=$(stub_field hook header.webhook-id)
first=$(sed -n 1p <<<"$ids")
expect_eq "the duplicate has the same webhook-id" "$first" "$(sed -n 2p <<<"$ids")"
expect_eq "every message arrived" "$(q "SELECT id FROM deliveries ORDER BY id")" "$(sort -u <<<"$ids")"
expect_eq "identical bodies for the duplicate" "$(stub_field hook body | sed -n 1p)" \
  "$(stub_field hook body | sed -n 2p)"
expect_eq "one attempt each after the restart" "1" "$(q "SELECT DISTINCT attempts FROM deliveries")"
pass
