#!/usr/bin/env bash
# A receiver down for a simulated hour loses nothing and gets everything in order when
# it is back; a receiver that stays down makes its messages give up after
# max_delivery_age and raises pgsift_delivery_failed to the other receivers; more
# groups than a receiver's burst are folded into one digest message.
# timeout: 180
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/data/alerts-lib.sh"
need_cmd sqlite3

ev="$SIFT_SOURCE_DIR/tests/fixtures/handmade/alerts-replay.ndjson"
rules="$SIFT_SOURCE_DIR/tests/integration/data/replay-rules.yaml"
minutes() { # print RFC 3339 times from $1 every $3 minutes up to $2 (all on 2026-11-24)
  local h m t
  for ((t = $1; t <= $2; t += $3)); do
    h=$((t / 60)); m=$((t % 60))
    printf '2026-11-24T%02d:%02d:00Z\n' "$h" "$m"
  done
}

# ---- A: down for an hour --------------------------------------------------------------
start_http_stub down "503"
export HOOK_URL="http://127.0.0.1:$down_port/"
cat > pgsift.yaml <<YAML
receivers:
  - { name: hook, type: webhook, url_env: HOOK_URL, allow_http: true, burst: 100,
      rate_per_min: 6000 }
route: { notify: [hook], group_wait: 0s, group_interval: 1m, group_by: [rule] }
YAML
# Five alerts fire between 10:07 and 10:19 ...
at 2026-11-24T10:20:30Z "$PGSIFT" rules eval --config pgsift.yaml --events "$ev" \
  --since 2026-11-24T10:00:00Z --until 2026-11-24T10:20:00Z "$rules" >/dev/null
expect_eq "triggers queued" 5 "$(q "SELECT count(*) FROM notifications WHERE kind = 'firing'")"
# ... the receiver answers 503 for an hour, while evaluation goes on: the five resolve,
# and `regression` fires at 10:25 and resolves at 10:34, both seen by one evaluation
# while nothing can be sent: it lasted longer than group_wait, so its trigger is kept and
# its resolve queued after it (what live tailing would have sent; docs/alerting.md).
for t in $(minutes $((10 * 60 + 21)) $((11 * 60 + 21)) 5); do
  at "$t" "$PGSIFT" alerts deliver --config pgsift.yaml --once >/dev/null
  if [[ $t == 2026-11-24T10:41:00Z ]]; then
    at 2026-11-24T10:41:00Z "$PGSIFT" rules eval --config pgsift.yaml --events "$ev" \
      --until 2026-11-24T10:40:00Z "$rules" >/dev/null
  fi
done
expect_eq "notifications" "batched|6
pending|6" "$(q "SELECT status, count(*) FROM notifications GROUP BY status ORDER BY count(*), status")"
queued=12
expect_eq "nothing delivered, nothing given up" "0|0" \
  "$(q "SELECT sum(status = 'delivered'), sum(status IN ('failed', 'gave_up')) FROM deliveries")"
expect_eq "the stub only said 503" "503" "$(stub_field down answered | sort -u)"
tries=$(stub_count down)
# Backoff: 13 passes, but far fewer attempts (5 s, 30 s, 2 m, 10 m, 30 m, 1 h caps).
(( tries >= 4 && tries <= 13 )) || fail "attempts during the outage: $tries"

# Back up (a new server on another port: the URL is read at every attempt).
start_http_stub up "200"
export HOOK_URL="http://127.0.0.1:$up_port/"
for t in $(minutes $((11 * 60 + 35)) $((12 * 60 + 50)) 5); do
  at "$t" "$PGSIFT" alerts deliver --config pgsift.yaml --once >/dev/null
done
expect_eq "every notification delivered" "$queued" \
  "$(q "SELECT count(*) FROM notifications WHERE status = 'delivered'")"
expect_eq "every delivery delivered" 0 "$(q "SELECT count(*) FROM deliveries WHERE status != 'delivered'")"
# Every (instance, kind) arrived; triggers before resolves.
want=$(q "SELECT instance_key || ' ' || kind FROM notifications WHERE status != 'dropped' ORDER BY 1")
if command -v jq >/dev/null; then
  got=$(stub_field up body | jq -r '.alerts[] | "\(.dedup_key) \(if .status == "resolved" then "resolved" else "firing" end)"')
  expect_eq "all alerts received" "$want" "$(sort <<<"$got")"
  while read -r key; do
    seq=$(grep "^$key " <<<"$got" | awk '{print $2}' | tr '\n' ' ')
    expect_eq "order for $key" "firing resolved " "$seq"
  done < <(q "SELECT DISTINCT instance_key FROM notifications WHERE status != 'dropped'")
fi

# ---- B: give up after max_delivery_age, alert the others ------------------------------
rm -f "$PGSIFT_DB"
start_http_stub dead "500"
start_http_stub ops "200"
export DEAD_URL="http://127.0.0.1:$dead_port/" OPS_URL="http://127.0.0.1:$ops_port/"
cat > b.yaml <<YAML
receivers:
  - { name: dead, type: webhook, url_env: DEAD_URL, allow_http: true }
  - { name: ops, type: webhook, url_env: OPS_URL, allow_http: true }
route: { notify: [dead], group_wait: 0s }
alerting: { max_delivery_age: 1h }
YAML
cat > b-rules.yaml <<'YAML'
rules:
  - { name: deadlock, kind: event, where: { type: [deadlock] }, group_by: [database] }
YAML
at 2026-11-24T10:09:00Z "$PGSIFT" rules eval --config b.yaml --events "$ev" \
  --since 2026-11-24T10:00:00Z --until 2026-11-24T10:08:00Z b-rules.yaml >/dev/null
for t in $(minutes $((10 * 60 + 10)) $((12 * 60 + 30)) 10); do
  at "$t" "$PGSIFT" alerts deliver --config b.yaml --once >/dev/null 2>&1
done
expect_eq "the dead receiver's message gave up" "gave_up" \
  "$(q "SELECT status FROM deliveries WHERE receiver = 'dead'")"
expect_eq "its notification failed" "failed" \
  "$(q "SELECT n.status FROM notifications n JOIN alert_instances i USING (instance_key) WHERE i.rule = 'deadlock'")"
expect_eq "internal alert firing" "firing|critical" \
  "$(q "SELECT state, severity FROM alert_instances WHERE rule = 'pgsift_delivery_failed'")"
body=$(stub_field ops body | head -1)
expect_contains "$body" '"rule":"pgsift_delivery_failed"'
expect_contains "$body" '"receiver":"dead"'
expect_contains "$body" "notifications to receiver 'dead' are failing"
expect_eq "nothing else reached ops" 1 "$(stub_count ops)"
out=$("$PGSIFT" alerts)
expect_contains "$out" "firing     critical pgsift_delivery_failed"
expect_contains "$out" "gave_up"
# The deadlock resolves (15 min later); the receiver is back, but it never got the
# trigger, so it does not get the resolve either (none is queued for it).
start_http_stub back "200"
export DEAD_URL="http://127.0.0.1:$back_port/"
at 2026-11-24T12:31:00Z "$PGSIFT" rules eval --config b.yaml --events "$ev" --notify-old \
  --until 2026-11-24T10:30:00Z b-rules.yaml >/dev/null
expect_eq "resolved" "resolved" "$(q "SELECT state FROM alert_instances WHERE rule = 'deadlock'")"
expect_eq "no resolve queued for a receiver whose trigger failed" 0 \
  "$(q "SELECT count(*) FROM notifications WHERE receiver = 'dead' AND kind = 'resolved'")"
at 2026-11-24T12:32:00Z "$PGSIFT" alerts deliver --config b.yaml --once >/dev/null 2>&1
at 2026-11-24T12:40:00Z "$PGSIFT" alerts deliver --config b.yaml --once >/dev/null 2>&1
expect_eq "no resolve without its trigger" 0 "$(stub_count back)"

# ---- C: more groups than the burst: one digest ----------------------------------------
rm -f "$PGSIFT_DB"
start_http_stub digest "200"
export DIGEST_URL="http://127.0.0.1:$digest_port/"
cat > c.yaml <<YAML
receivers:
  - { name: hook, type: webhook, url_env: DIGEST_URL, allow_http: true, burst: 2,
      max_alerts: 3 }
route: { notify: [hook], group_wait: 1m, group_by: [rule] }
YAML
at 2026-11-24T10:20:00Z "$PGSIFT" rules eval --config c.yaml --events "$ev" \
  --since 2026-11-24T10:00:00Z --until 2026-11-24T10:20:00Z "$rules" >/dev/null
at 2026-11-24T10:21:30Z "$PGSIFT" alerts deliver --config c.yaml --once >/dev/null
expect_eq "one message" 1 "$(stub_count digest)"
body=$(stub_field digest body)
expect_contains "$body" '"group_key":"{digest}"'
expect_contains "$body" '"truncated_alerts":2'
expect_eq "all five in one delivery" 5 \
  "$(q "SELECT count(*) FROM notifications WHERE status = 'delivered'")"
pass
