#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# pgsift tail as a service: systemd notifications (Type=notify), SIGHUP reloads the
# configuration (a bad one is reported with file:line:col and the old one kept, a good
# one takes effect), SIGTERM and SIGINT commit and exit 0, and the unit file is valid.
# labels: tail
. "$(dirname "$0")/lib.sh"
. "$SIFT_SOURCE_DIR/tests/integration/tail_lib.sh"

a=$T/a.json b=$T/b.json
: >"$a"
: >"$b"
conf() { # conf PATH...
  {
    echo "sources:"
    for p in "$@"; do printf '  - path: %s\n    format: jsonlog\n' "$p"; done
    printf 'tail:\n  commit_interval: 100ms\n'
  } >"$T/pgsift.yaml"
}
conf "$a"

"$SIFT_TEST_TOOL" notify-listen "$T/notify.sock" "$T/notify.log" &
listener=$!
wait_for 10 test -S "$T/notify.sock"
NOTIFY_SOCKET=$T/notify.sock tail_start --config "$T/pgsift.yaml"
wait_for 10 grep -q "READY=1" "$T/notify.log"

writer --format jsonlog --rate 0 --count 100 "$a"
expect_counted 20

# A bad configuration is refused: every problem with its place, the old one stays.
printf 'sources:\n  - path: %s\n    format: jsonlog\n    colour: blue\ntail:\n  commit_interval: 5 minutes\n' "$b" >"$T/pgsift.yaml"
kill -HUP "$TAIL_PID"
wait_for 10 grep -q "reload refused" "$T/tail.err"
expect_contains "$(cat "$T/tail.err")" "pgsift.yaml:4:5: unknown key 'colour'"
expect_contains "$(cat "$T/tail.err")" "pgsift.yaml:6:20: 'commit_interval' expects a duration"
wait_for 10 grep -q "RELOADING=1" "$T/notify.log"
writer --format jsonlog --rate 0 --start 101 --count 100 "$a"
expect_counted 20

# A good one takes effect: b.json is followed too.
conf "$a" "$b"
kill -HUP "$TAIL_PID"
wait_for 10 grep -q "configuration reloaded: 2 sources" "$T/tail.err"
writer --format jsonlog --rate 0 --start 201 --count 100 "$b"
expect_counted 20
expect_not_contains "$(cat "$T/tail.err")" "retention change at the next start"

# A changed retention or keep_literals is said to wait for the next start, not dropped
# silently (the store keeps the options it was opened with).
conf "$a" "$b"
printf 'retention: { hours: 120d }
' >>"$T/pgsift.yaml"
kill -HUP "$TAIL_PID"
wait_for 10 grep -q "keep_literals and retention change at the next start" "$T/tail.err"

# SIGINT and SIGTERM: exit 0 (tail_stop checks), after STOPPING=1.
tail_stop INT
wait_for 10 grep -q "STOPPING=1" "$T/notify.log"
NOTIFY_SOCKET=$T/notify.sock tail_start --config "$T/pgsift.yaml"
writer --format jsonlog --rate 0 --start 301 --count 100 "$a"
expect_counted 20
tail_stop TERM
kill "$listener"
wait "$listener" || true

# A rule file broken under a running daemon: the reload is refused with the problem said
# once, and the rules in force stay (QA 21a: it was said twice, then "hooks refused the
# previous configuration too", as if the running rules had been dropped).
deadlock_rules 5m >"$T/rules.yaml"
conf "$a"
printf 'rules: [%s]\n' "$T/rules.yaml" >>"$T/pgsift.yaml"
: >"$T/tail.err"
tail_start --config "$T/pgsift.yaml"
sed -i 's/kind: event/kind: evnt/' "$T/rules.yaml"
kill -HUP "$TAIL_PID"
wait_for 10 grep -q "reload refused" "$T/tail.err"
expect_eq "the rule file's problem, said once" 1 "$(grep -c "rules.yaml:3:11: invalid value 'evnt'" "$T/tail.err")"
expect_not_contains "$(cat "$T/tail.err")" "previous configuration too"
expect_not_contains "$(cat "$T/tail.err")" "going back"
tail_stop TERM

# An invalid configuration at start: exit 2, nothing started.
printf 'sources: []\nstore: ""\n' >"$T/bad.yaml"
expect_exit 2 "$PGSIFT" tail --config "$T/bad.yaml"

# The systemd unit: hardening present, and systemd's own check when it is installed.
unit=$SIFT_SOURCE_DIR/contrib/systemd/pgsift.service
for key in Type=notify NoNewPrivileges=yes ProtectSystem=strict User=pgsift ExecReload= \
  ProtectHome=yes PrivateTmp=yes CapabilityBoundingSet= "ExecStart=/usr/local/bin/pgsift tail"; do
  grep -q "^$key" "$unit" || fail "pgsift.service lacks $key"
done
if command -v systemd-analyze >/dev/null 2>&1; then
  sed "s|/usr/local/bin/pgsift|$PGSIFT|" "$unit" >"$T/pgsift.service"
  out=$(systemd-analyze verify "$T/pgsift.service" 2>&1 | grep -v -e "Failed to open" -e "No such file" || true)
  expect_eq "systemd-analyze verify" "" "$out"
fi
pass
