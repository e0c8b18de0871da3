#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Alerts after downtime (QA 21a): records must reach the store in log order, or the rules,
# which evaluate as data arrives, count the older ones as late and never alert on them.
#  1. Two rotations while pgsift tail is down: the generation it never saw (.1, written
#     just before the restart, so not yet quiet for rotate_wait) is read before the
#     current file, not after it; the deadlock in it fires.
#  2. The same with `tail --once`: it waits for that generation instead of returning
#     with it unread.
#  3. A fresh store: a backlog appended a second after the start is not late (the rules
#     did not move to the wall clock at once).
# The log lines are hand-made (csvlog, one statement a minute of the last 45 minutes, a
# deadlock in minute 20): this is about the order and time of reads, not about parsing.
# labels: tail
. "$(dirname "$0")/lib.sh"
. "$SIFT_SOURCE_DIR/tests/integration/tail_lib.sh"
need_cmd awk

base=$(($(date +%s) / 60 * 60 - 45 * 60))
# gen FILE FROM TO: the minutes FROM..TO-1 appended to FILE
gen() {
  awk -v base="$base" -v a="$2" -v b="$3" 'BEGIN {
    for (m = a; m < b; m++) {
      ts = strftime("%Y-%m-%d %H:%M:%S.000 UTC", base + m * 60, 1)
      printf "%s,\"app\",\"appdb\",4242,\"[local]\",6b071e91.1092,%d,\"SELECT\",2026-01-01 00:00:00 UTC,3/0,0,LOG,00000,\"duration: 1.000 ms  statement: SELECT %d\",,,,,,,,,\"psql\",\"client backend\",,777\n", ts, m + 1, m
      if (m == 20) {
        ts = strftime("%Y-%m-%d %H:%M:30.000 UTC", base + m * 60, 1)
        printf "%s,\"app\",\"appdb\",4243,\"[local]\",6b071e91.1093,1,\"UPDATE\",2026-01-01 00:00:00 UTC,3/0,838,ERROR,40P01,\"deadlock detected\",\"Process 4243 waits for ShareLock on transaction 837; blocked by process 4244.\",,,,,\"UPDATE acc SET v = 1\",,,\"psql\",\"client backend\",,778\n", ts
      }
    }
  }' >>"$1"
}
deadlock_rules 5m >"$T/rules.yaml"
config() { # DIR
  cat <<YAML
sources:
  - path: $1/pg.csv
    format: csvlog
rules: [$T/rules.yaml]
tail:
  rotate_wait: 2s
  commit_interval: 200ms
YAML
}
calls() { PGSIFT_DB=$1/s.db store_query "SELECT coalesce(sum(calls), 0) FROM query_stats" 2>/dev/null; }
fired() { "$PGSIFT" --db "$1/s.db" alerts --history --format json 2>/dev/null | jq '[.timeline[] | select(.rule == "deadlock" and .transition == "firing")] | length'; }
# (wait_for runs a command again and again: these read the store each time)
has_calls() { [[ "$(calls "$1")" == "$2" ]]; }
has_fired() { [[ "$(fired "$1")" == 1 ]]; }
# While pgsift is down: minutes 5-7, a rotation, minutes 8-25 (the deadlock), a second
# rotation (.1 -> .2, the current file -> .1), then minutes 26-43 in the new file.
rotate_twice() {
  gen "$1/pg.csv" 5 8
  mv "$1/pg.csv" "$1/pg.csv.1"
  gen "$1/pg.csv" 8 26
  mv "$1/pg.csv.1" "$1/pg.csv.2"
  mv "$1/pg.csv" "$1/pg.csv.1"
  gen "$1/pg.csv" 26 44
}

# --- 1. the daemon
D=$T/d1
mkdir "$D"
config "$D" >"$D/cfg.yaml"
gen "$D/pg.csv" 0 5
PGSIFT_DB=$D/s.db tail_start --config "$D/cfg.yaml" --commit-log "$D/commits"
wait_for 20 has_calls "$D" 5
tail_stop TERM
rotate_twice "$D"
PGSIFT_DB=$D/s.db tail_start --config "$D/cfg.yaml" --commit-log "$D/commits"
wait_for 30 has_calls "$D" 44
expect_eq "first commits of the restart: the older generation first" \
  "pg.csv.2 pg.csv.1 pg.csv" \
  "$(awk 'NR > 1 && !seen[$5]++ { n = split($5, p, "/"); printf "%s%s", (c++ ? " " : ""), p[n] }' "$D/commits")"
wait_for 20 has_fired "$D"
expect_not_contains "$(cat "$T/tail.err")" "older than the rules' last evaluation"
tail_stop TERM

# --- 2. --once
D=$T/d2
mkdir "$D"
config "$D" >"$D/cfg.yaml"
gen "$D/pg.csv" 0 5
PGSIFT_DB=$D/s.db "$PGSIFT" tail --once --config "$D/cfg.yaml" 2>>"$T/tail.err" ||
  fail "tail --once failed"
rotate_twice "$D"
PGSIFT_DB=$D/s.db "$PGSIFT" tail --once --config "$D/cfg.yaml" 2>>"$T/tail.err" ||
  fail "tail --once failed"
expect_eq "--once read every generation" 44 "$(calls "$D")"
expect_eq "status: the three files" 3 \
  "$(PGSIFT_DB=$D/s.db "$PGSIFT" status --config "$D/cfg.yaml" --format json | jq '.files | length')"

# --- 3. a fresh store, a backlog just after the start
D=$T/d3
mkdir "$D"
config "$D" >"$D/cfg.yaml"
: >"$D/pg.csv"
PGSIFT_DB=$D/s.db tail_start --config "$D/cfg.yaml"
sleep 1
gen "$D/pg.csv" 0 44
wait_for 20 has_calls "$D" 44
wait_for 20 has_fired "$D"
tail_stop TERM
pass
