#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A stderr record whose TAB-indented statement lines arrive one by one, 0.3 s apart - the
# file never quiet for half the commit interval (4 s here: 2 s, room for a loaded host
# to stall the writer) - waits for them: it is committed
# whole when the next record starts, as `pgsift ingest` of the same lines stores it, with
# nothing rejected (real server lines: a DO block from the text-plans fixture, written
# line by line the way a slow writer would).
# labels: tail
. "$(dirname "$0")/lib.sh"
. "$SIFT_SOURCE_DIR/tests/integration/tail_lib.sh"
need_cmd sqlite3
src=$SIFT_SOURCE_DIR/tests/fixtures/pg15/text-plans/postgresql.log
[[ -f $src ]] || skip "fixtures absent"
prefix='%m [%p] %q%u@%d/%a '

# The DO record (17 lines) and the six records after it.
at=$(grep -n 'statement: DO \$\$$' "$src" | head -1 | cut -d: -f1)
[[ -n $at ]] || fail "no DO block in the fixture"
sed -n "${at},$((at + 22))p" "$src" >"$T/src.log"
expect_eq "lines taken" 23 "$(wc -l <"$T/src.log" | tr -d ' ')"
"$PGSIFT" -q --db "$T/ref.db" ingest --format stderr --prefix "$prefix" "$T/src.log"

log=$T/postgresql.log
: >"$log"
cat >"$T/p.yaml" <<YAML
sources:
  - path: $log
    format: stderr
    prefix: '$prefix'
tail:
  commit_interval: 4s
YAML
tail_start --config "$T/p.yaml"
while IFS= read -r line; do
  printf '%s\n' "$line" >>"$log"
  sleep 0.3
done <"$T/src.log"
sum() { sqlite3 "$1" "SELECT (SELECT sum(count) FROM record_stats) || ' ' || (SELECT coalesce(sum(count), 0) FROM rejects) || ' ' || (SELECT group_concat(query, '|') FROM (SELECT query FROM queries ORDER BY 1))"; }
want=$(sum "$T/ref.db")
stored() { [[ "$(sum "$PGSIFT_DB" 2>/dev/null)" == "$want" ]]; }
for ((i = 0; i < 400; i++)); do stored && break; sleep 0.05; done
tail_stop TERM
expect_eq "records, rejects and statements as ingest" "$want" "$(sum "$PGSIFT_DB")"
pass
