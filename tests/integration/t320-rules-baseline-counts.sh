#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A baseline rule on a count compares rates (QA 21c): the baseline period's calls are
# brought to the window's length. A steady load (one call a minute for a day) is not
# "fewer" than itself, and an hour at five times that rate is "more". Before, an hour's
# calls were divided by a day's: a steady load fired `ratio <= 0.5` and a burst never
# fired `ratio >= 4`.
# The log lines are hand-made (stderr, one statement): the rule engine is under test.
# labels: rules
. "$(dirname "$0")/lib.sh"
fixture_clock # dated data: on the real clock, weeks later, it would be rolled up or expired
need_cmd awk

# 2026-11-19 10:00 UTC = 1795082400
awk 'BEGIN {
  b = 1795082400
  for (m = 0; m < 1440; m++) print strftime("%Y-%m-%d %H:%M:%S.000 UTC", b + m * 60, 1) \
    " [100] web@app LOG:  duration: 100.000 ms  statement: SELECT * FROM t WHERE id = 1"
  for (s = 0; s < 3600; s += 12) print strftime("%Y-%m-%d %H:%M:%S.000 UTC", b + 86400 + s, 1) \
    " [100] web@app LOG:  duration: 100.000 ms  statement: SELECT * FROM t WHERE id = 1"
}' >a.log
head -1 a.log | grep -q '^2026-11-19 10:00:00.000 UTC' || fail "generator: $(head -1 a.log)"
cat >r.yaml <<'YAML'
version: 1
rules:
  - name: more_calls
    kind: baseline
    metric: calls
    window: 1h
    group_by: [database, fingerprint]
    baseline: { window: 1d }
    condition: { ratio: ">= 4", baseline_min_calls: 100 }
  - name: fewer_calls
    kind: baseline
    metric: calls
    window: 1h
    group_by: [database, fingerprint]
    baseline: { window: 1d }
    condition: { ratio: "<= 0.5", baseline_min_calls: 100 }
YAML
"$PGSIFT" -q ingest --format stderr --prefix '%m [%p] %q%u@%d ' a.log
out=$("$PGSIFT" rules test --since 2026-11-20T09:00:00Z --until 2026-11-20T11:00:00Z r.yaml)
expect_not_contains "$out" "fewer_calls"
expect_contains "$out" "firing     more_calls"
# The burst's first whole hour against the day before: 300 calls against 60 an hour.
expect_eq "more_calls fires within the burst hour" 1 \
  "$(grep -cE '^2026-11-20T10:[0-9]{2}:00Z firing +more_calls' <<<"$out")"
pass
