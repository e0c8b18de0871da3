#!/usr/bin/env bash
# `pgsift rules test` replays a fixed set of events and produces a fixed, hand-checked
# alert timeline (one rule of every kind); evaluating the same events in growing
# pieces, as live tailing would, records the same history.
. "$(dirname "$0")/lib.sh"

ev="$SIFT_SOURCE_DIR/tests/fixtures/handmade/alerts-replay.ndjson"
rules="$SIFT_SOURCE_DIR/tests/integration/data/replay-rules.yaml"
export SIFT_TEST_NOW=2026-11-24T12:00:00Z

# Why each line (see the fixture's header):
#  slow_query_p95  >= 20 calls in 5 m from 10:04 (pending), for 3 m -> 10:07; fast from 10:20,
#                  so false at 10:25 (recovering), keep_firing_for 2 m -> resolved 10:27
#  deadlock        at 10:07:30 -> fires 10:08, resolve_after 15 m -> 10:23
#  long_lock_wait  6000.5 ms at 10:12:05 -> 10:13 (the 300 ms one is filtered) -> 10:23
#  auth_failure    12 in [10:11, 10:16) -> 10:16; window empty at 10:21 -> resolved
#  new_query_shape first run 10:18:02 (warmup 10 m passed) -> 10:19; seen before the
#                  window from 10:24 (recovering), resolve_after 5 m -> 10:28
#  regression      p95 20 ms vs 800 ms in [10:10, 10:20) at 10:25 (ratio <= 0.5); the
#                  baseline's p95 turns fast at 10:34
#  log_flatline    last line 10:29:55: no line in [10:30, 10:40) -> pending 10:40, for 5 m
expected=$(cat "$SIFT_SOURCE_DIR/tests/integration/data/replay-timeline.txt")

got=$("$PGSIFT" rules test --events "$ev" --until 2026-11-24T11:00:00Z "$rules")
if [[ "$got" != "$expected" ]]; then
  diff <(echo "$expected") <(echo "$got") >&2 || true
  fail "rules test timeline differs"
fi
expect_eq "the replay wrote no store" "no" "$([[ -e pgsift.db ]] && echo yes || echo no)"

# --since/--until bound the replay; JSON is one document.
got=$("$PGSIFT" rules test --events "$ev" --since 2026-11-24T10:10:00Z \
  --until 2026-11-24T10:20:00Z --format json "$rules")
if command -v jq >/dev/null; then
  # slow_query_p95 starts pending at 10:10 (its first evaluation), fires 3 m later
  expect_eq "transitions in [10:10, 10:20]" "6" "$(jq '.timeline | length' <<<"$got")"
  expect_eq "first in range" "slow_query_p95 pending 2026-11-24T10:10:00Z" \
    "$(jq -r '.timeline[0] | "\(.rule) \(.transition) \(.at)"' <<<"$got")"
  expect_eq "then" "slow_query_p95 firing 2026-11-24T10:13:00Z" \
    "$(jq -r '.timeline[2] | "\(.rule) \(.transition) \(.at)"' <<<"$got")"
  expect_eq "labels are an object" "mallory" "$(jq -r '.timeline[4].labels.user' <<<"$got")"
fi
expect_contains "$got" '"timeline"'

# Live tailing: the same events arriving in pieces, evaluated after each piece behind
# the watermark (newest event - 60 s), then to 11:00. The history is the same.
grep -v '^#' "$ev" > all.ndjson
total=$(wc -l < all.ndjson)
for n in 1 50 51 120 200 260 300 350 $((total - 3)) "$total"; do
  head -n "$n" all.ndjson > part.ndjson
  "$PGSIFT" rules eval --events part.ndjson --since 2026-11-24T10:00:00Z "$rules" \
    >/dev/null 2>&1
done
"$PGSIFT" rules eval --events all.ndjson --until 2026-11-24T11:00:00Z "$rules" >/dev/null 2>&1
live=$("$PGSIFT" alerts --history)
if [[ "$live" != "$expected" ]]; then
  diff <(echo "$expected") <(echo "$live") >&2 || true
  fail "history from evaluating in pieces differs from the replay"
fi
# Evaluating again is a no-op: every boundary was done once.
out=$("$PGSIFT" rules eval --events all.ndjson --until 2026-11-24T11:00:00Z "$rules" 2>/dev/null)
expect_eq "a second evaluation says so" "evaluated 0 rule instants: none new up to 2026-11-24T11:00:00Z (the newest data less the allowed lateness; --until T goes further)" "$out"
expect_eq "history unchanged" "$expected" "$("$PGSIFT" alerts --history)"
# Without --until the data's watermark is earlier than the cursors: it says how far the
# rules were evaluated (QA 28: it named the watermark, as if 11:00 had not been done).
out=$("$PGSIFT" rules eval --events all.ndjson "$rules" 2>/dev/null)
expect_eq "evaluated further before" "evaluated 0 rule instants: none new, every rule was evaluated up to 2026-11-24T11:00:00Z before" "$out"
# --history --state: the transitions to that state only (QA 21a: --state was ignored).
expect_eq "--history --state firing" "$(grep -E '^[^ ]+ firing ' <<<"$expected")" \
  "$("$PGSIFT" alerts --history --state firing)"
n=$(grep -cE '^[^ ]+ firing ' <<<"$expected")
expect_eq "--history --state firing, json: all firing, all of them" "$n $n" \
  "$("$PGSIFT" alerts --history --state firing --format json | jq '[.timeline[] | select(.transition == "firing")] | length') $("$PGSIFT" alerts --history --state firing --format json | jq '.timeline | length')"

# States as `pgsift alerts` shows them.
out=$("$PGSIFT" alerts)
expect_contains "$out" "firing     critical log_flatline"
expect_contains "$out" "resolved   warning  slow_query_p95"
expect_eq "--state firing" "1" "$("$PGSIFT" alerts --state firing | grep -c '^firing')"

# A rule removed from the files: its firing alert resolves (and a pending one would clear).
sed '/name: log_flatline/,/severity: critical/d' "$rules" > fewer.yaml
expect_not_contains "$(cat fewer.yaml)" "log_flatline"
"$PGSIFT" rules eval --events all.ndjson --until 2026-11-24T11:00:00Z fewer.yaml >out.txt 2>err.txt
err=$(cat err.txt)
expect_contains "$err" "rule 'log_flatline' is gone or disabled"
# ... counted in the summary (QA 28: "0 transitions" beside the alert it resolved)
expect_contains "$(cat out.txt)" "evaluated 0 rule instants: 1 transitions (alerts of rules gone or disabled)"
expect_eq "log_flatline resolved" "resolved" \
  "$("$PGSIFT" alerts --format json | sed -n 's/.*"state": "\([a-z]*\)".*/\1/p' | sort -u | tr '\n' ' ' | sed 's/ $//')"

# A warning when a rule reads records the logs never had.
grep -v lock_acquired all.ndjson > nolocks.ndjson
err=$("$PGSIFT" rules test --events nolocks.ndjson "$rules" 2>&1 >/dev/null)
expect_contains "$err" "rule 'long_lock_wait' reads lock_wait/lock_acquired records, none seen in the store: set log_lock_waits = on"

# Bad input: a line that is not JSON names file:line; bad times are usage errors.
printf '{"ts":"2026-11-24T10:00:00Z","kind":"error"}\nnot json\n' > bad.ndjson
rc=0; err=$("$PGSIFT" rules test --events bad.ndjson "$rules" 2>&1) || rc=$?
expect_eq "exit code for bad events" 2 "$rc"
expect_contains "$err" "bad.ndjson:2: not a JSON object"
expect_exit 2 "$PGSIFT" rules test --events "$ev" --since yesterdayish "$rules"
pass
