#!/usr/bin/env bash
# SIGTERM to `pgsift tail` while a notification is in flight to a receiver that does not
# answer: the daemon stops at once (it waited for the receiver's timeout, 30 s by
# default, the shipped unit's TimeoutStopSec, so systemd killed it), exits 0, records no
# attempt for the cut-off send, and the next start sends it again with the same
# webhook-id (at least once). Hand-made csvlog lines: one deadlock.
# timeout: 120
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/data/alerts-lib.sh"
need_cmd sqlite3 python3

# The first request is never answered (the stub holds it until the client goes), the
# second is.
start_http_stub hook "timeout,200"
export HOOK_URL="http://127.0.0.1:$hook_port/"
unset SIFT_TEST_NOW # the real clock: the daemon runs as a service would
mkdir log
python3 - log/postgresql.csv <<'PY'
import datetime as dt, sys
now = dt.datetime.now(dt.timezone.utc)
def ts(t): return t.strftime('%Y-%m-%d %H:%M:%S.%f')[:-3] + ' UTC'
a = now - dt.timedelta(minutes=3)
open(sys.argv[1], 'w').write(
    f'{ts(a)},"u","app",11,"127.0.0.1:5000",6b0916d1.1,4,"UPDATE",{ts(a)},7/7,0,ERROR,40P01,'
    '"deadlock detected",,,,,,"update t set v = 1 where id = 2",8,,"psql","client backend",,0\n'
    f'{ts(now)},"u","app",11,"127.0.0.1:5000",6b0916d1.1,5,"idle",{ts(a)},,0,LOG,00000,'
    '"disconnection: session time: 0:03:00.000 user=u database=app host=127.0.0.1 port=1",'
    ',,,,,,,,"psql","client backend",,0\n')
PY
deadlock_rules 15m >rules.yaml
cat >pgsift.yaml <<YAML
store: $T/store.db
sources: [{ name: pg, path: $T/log, format: csvlog }]
rules: [$T/rules.yaml]
receivers:
  - { name: hook, type: webhook, url_env: HOOK_URL, allow_http: true, timeout: 60s }
route: { notify: [hook], group_wait: 0s }
alerting: { allowed_lateness: 10s }
YAML
export PGSIFT_DB=$T/store.db

"$PGSIFT" tail --config pgsift.yaml >tail1.out 2>tail1.err &
pid=$!
wait_for 60 test -s hook.log # the request reached the stub, which does not answer
sleep 1
start=$SECONDS
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
expect_eq "exit status after SIGTERM" 0 "$rc"
[[ $((SECONDS - start)) -le 15 ]] || fail "SIGTERM took $((SECONDS - start)) s (the receiver's timeout is 60 s)"
expect_eq "no attempt recorded for the cut-off send" 0 "$(q "SELECT count(*) FROM delivery_attempts")"
expect_eq "the delivery is still pending" "pending|0" "$(q "SELECT status, attempts FROM deliveries")"

# The next start sends it again, and the receiver answers this time.
"$PGSIFT" tail --config pgsift.yaml >tail2.out 2>tail2.err &
pid=$!
delivered() { [[ $(q "SELECT status FROM deliveries") == delivered ]]; }
wait_for 60 delivered
kill -TERM "$pid"
wait "$pid" || fail "second tail exited $?"
expect_eq "requests: the cut-off one and its repeat" 2 "$(stub_count hook)"
ids=$(stub_field hook header.webhook-id)
expect_eq "the repeat has the same webhook-id" "$(sed -n 1p <<<"$ids")" "$(sed -n 2p <<<"$ids")"
expect_eq "one attempt, delivered" "1|ok" \
  "$(q "SELECT count(*), group_concat(verdict) FROM delivery_attempts")"
pass
