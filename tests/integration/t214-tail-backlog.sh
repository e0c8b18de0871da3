#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Catching up: two sources with a backlog each (written before pgsift tail starts) and a
# small read_budget: both advance in turns, commits follow every commit_records records,
# SIGTERM in the middle of the catch-up commits what was read and a restart finishes it.
# labels: tail
. "$(dirname "$0")/lib.sh"
. "$SIFT_SOURCE_DIR/tests/integration/tail_lib.sh"

cat >"$T/pgsift.yaml" <<YAML
sources:
  - {name: a, path: $T/a.json, format: jsonlog}
  - {name: b, path: $T/b.csv, format: csvlog}
tail:
  read_budget: 256kB
  commit_records: 500
  commit_log: $T/commits.log
YAML
writer --format jsonlog --rate 0 --count 20000 "$T/a.json"
writer --format csvlog --rate 0 --start 20001 --count 20000 "$T/b.csv"
tail_start --config "$T/pgsift.yaml"
some() { [[ $(wc -l <"$T/commits.log" 2>/dev/null || echo 0) -ge 10 ]]; }
wait_for 30 some
tail_stop TERM
tail_start --config "$T/pgsift.yaml"
expect_counted 60
tail_stop TERM

# Turns: b gets its turn within the first commits (a alone holds 40 commits' worth),
# and no commit exceeds 500 records.
order=$(awk '{print $5}' "$T/commits.log" | head -6 | sed 's#.*/##' | tr '\n' ' ')
expect_contains "$order" "b.csv"
expect_eq "largest commit" 500 "$(awk '$4 > m {m = $4} END {print m}' "$T/commits.log")"
pass
