#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Exactly once through syslog and stderr, with the file read while a record is half
# written (then stderr below). Syslog: a
# syslog daemon writes each piece of a record ([N-1], [N-2] ...) as a message of its own,
# so an ingest of a live file can end between two pieces. Real PostgreSQL 15 output
# through rsyslog (fixtures/pg15-syslog), cut after every line: ingest the first part,
# append the rest, ingest again, then once more when the file is no longer live. The
# store must equal one ingest of the whole file (QA 29: 7 of 46 cuts lost a record's
# later pieces as "syslog piece without its record", a statement its lines and its
# fingerprint).
. "$(dirname "$0")/lib.sh"
need_cmd jq
fx=$SIFT_SOURCE_DIR/tests/fixtures/pg15-syslog/prefixed/rsyslog-traditional.log
[[ -f $fx ]] || skip "no syslog fixtures"
export SIFT_TEST_NOW=2026-11-29T00:00:00Z # (RFC 3164 headers have no year)
later=2026-11-29T01:00:00Z                 # ... and an hour on, the file is not live

sig() {
  PGSIFT_DB=$1 "$PGSIFT" top --format json --limit 0 |
    jq -c '[.queries[] | [.fingerprint, .calls, .total_ms, .errors]] | sort'
  PGSIFT_DB=$1 "$PGSIFT" events --format json --limit 0 | jq 'length'
}
PGSIFT_DB=$T/ref.db "$PGSIFT" -q ingest "$fx"
want=$(sig "$T/ref.db")
n=$(wc -l <"$fx")
bad=0
for ((cut = 1; cut < n; cut++)); do
  rm -f "$T"/c.db* "$T/live.log"
  head -n "$cut" "$fx" >"$T/live.log"
  touch -d "$SIFT_TEST_NOW" "$T/live.log" # modified "now": live (a record at its end
  PGSIFT_DB=$T/c.db "$PGSIFT" -q ingest "$T/live.log" 2>>"$T/err" # may still get pieces)
  tail -n +$((cut + 1)) "$fx" >>"$T/live.log"
  touch -d "$SIFT_TEST_NOW" "$T/live.log"
  PGSIFT_DB=$T/c.db "$PGSIFT" -q ingest "$T/live.log" 2>>"$T/err"
  PGSIFT_DB=$T/c.db SIFT_TEST_NOW=$later "$PGSIFT" -q ingest "$T/live.log" 2>>"$T/err"
  got=$(sig "$T/c.db")
  if [[ $got != "$want" ]]; then
    bad=$((bad + 1))
    echo "cut after line $cut: $got"
  fi
done
expect_eq "cuts whose store differs from one ingest of the whole file (of $((n - 1)))" 0 "$bad"
expect_not_contains "$(cat "$T/err")" "piece without its record"

# The same for a stderr log: the collector writes line by line, so a run can end inside
# a record, even inside a line (QA 29: the rest of a record cut so became a reject, a
# statement without its continuation lines a wrong fingerprint). Real stderr of a
# PostgreSQL 15 run, fed in 7919-byte steps, an ingest after each.
log=$SIFT_SOURCE_DIR/tests/fixtures/pg15/verbose-errors/postgresql.log
PGSIFT_DB=$T/sref.db "$PGSIFT" -q ingest "$log"
want=$(sig "$T/sref.db")
size=$(stat -c %s "$log")
rm -f "$T/live.log" "$T/err"
for ((at = 7919; ; at += 7919)); do
  ((at < size)) || at=$size
  head -c "$at" "$log" >"$T/live.log"
  touch -d "$SIFT_TEST_NOW" "$T/live.log"
  PGSIFT_DB=$T/s.db "$PGSIFT" -q ingest "$T/live.log" 2>>"$T/err"
  ((at < size)) || break
done
PGSIFT_DB=$T/s.db SIFT_TEST_NOW=$later "$PGSIFT" -q ingest "$T/live.log" 2>>"$T/err"
expect_eq "stderr fed in 7919-byte steps: the store of one ingest" "$want" "$(sig "$T/s.db")"
expect_not_contains "$(cat "$T/err")" "rejected"
pass
