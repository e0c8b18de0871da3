#!/usr/bin/env bash
# pgsift ingest reads plain files of >= 1 MiB through a mapping (docs/formats.md,
# "Input"): the store is the one read() gives (SIFT_NO_MMAP=1), and a file truncated
# while it is read (copytruncate) fails the source with a clear error, without a crash
# (SIGBUS) and without committing anything read after the truncation; once the file is
# back, the next run continues from the last commit and every record is stored once.
# timeout: 300
. "$(dirname "$0")/lib.sh"
need_cmd sqlite3
F=$SIFT_SOURCE_DIR/tests/fixtures/pg15
[[ -f $F/statement-log/postgresql.csv ]] || skip "fixtures absent"

for i in 1 2 3 4 5 6; do cat "$F"/*/postgresql.csv; done >big.csv
size=$(stat -c %s big.csv)
[[ $size -gt 6000000 ]] || fail "test file too small ($size)"
export SIFT_TEST_NOW=2026-11-27T00:00:00Z

# Every table but the ingest clock times of sources; sums of µs as floats rounded (they
# are added per batch, and a run cut short has other batches).
dump() {
  dump_exact "$@" | awk -F'|' -v OFS='|' '{for (i = 1; i <= NF; i++) if ($i ~ /^-?[0-9]+\.[0-9]+$/) $i = sprintf("%.9g", $i); print}'
}
dump_exact() {
  local t
  for t in $(sqlite3 "$1" "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"); do
    echo "== $t"
    if [[ $t == sources ]]; then
      sqlite3 -separator '|' "$1" "SELECT name, head_len, head_hash, offset, line, mark_len, mark_hash, hex(checkpoint), hex(pairing), records FROM sources"
    elif [[ $t == event_blocks ]]; then
      "$SIFT_TEST_TOOL" events-dump "$1"
    elif [[ $t == source_marks ]]; then # one per commit: the newest of each stream
      sqlite3 -separator '|' "$1" "SELECT offset, mark_len, mark_hash FROM source_marks m WHERE offset = (SELECT max(offset) FROM source_marks WHERE source = m.source)" | sort
    elif [[ $t == plan_call_blocks ]]; then
      "$SIFT_TEST_TOOL" plan-calls-dump "$1"
    else
      sqlite3 -separator '|' "$1" "SELECT * FROM \"$t\"" | sort
    fi
  done
}

# 1. mapped = read(), with one reader and with the commit thread (-j 2: a mapped file is
# also parsed in parts, whose sums of squares are added part by part: rounded)
for j in 1 2; do
  rm -f ref.db* map.db*
  SIFT_NO_MMAP=1 "$PGSIFT" -q --db ref.db ingest -j $j big.csv
  "$PGSIFT" -q --db map.db ingest -j $j big.csv
  [[ $(sqlite3 map.db "SELECT sum(count) FROM record_stats") -gt 10000 ]] || fail "nothing ingested"
  how=dump_exact
  [[ $j == 2 ]] && how=dump
  expect_eq "-j $j: the mapped file gives the read() store" "$($how ref.db)" "$($how map.db)"
done
dump ref.db >whole.txt

# 2. truncated while read: after ~2.2 MB (the first progress report; in parts: the
# first after 1 MB), cut to 1 MB
for mode in sync async parts; do
  rm -f cut.db* && cp big.csv work.csv
  flag=
  [[ $mode == async ]] && flag=--async
  after=1
  # -j 2 on one file: parsed in parts, progress reported after each part
  [[ $mode == parts ]] && flag="--parts 200000" after=1000001
  out=$("$SIFT_TEST_TOOL" ingest-cut --db cut.db $flag work.csv $after 1000000) || fail "$mode: ingest-cut: $out"
  expect_contains "$out" "failed: 'work.csv' shrank while being read (copytruncate?)"
  cut_at=$(sed -n 's/^cut_at=//p' <<<"$out")
  [[ $cut_at -gt 1000000 ]] || fail "$mode: truncated too early ($cut_at)"
  offset=$(sqlite3 cut.db "SELECT offset FROM sources")
  [[ -n $offset && $offset -gt 0 && $offset -le $cut_at ]] ||
    fail "$mode: committed offset '$offset' is not before the cut at $cut_at"
  expect_eq "$mode: nothing rejected (no zero bytes parsed)" \
    "$(sqlite3 cut.db "SELECT count(*) FROM rejects")" "0"
  # the file is back (rewritten in place): the next run continues, exactly once
  cat big.csv >work.csv
  "$PGSIFT" -q --db cut.db ingest $([[ $mode != sync ]] && echo -j 2) work.csv
  expect_eq "$mode: truncated, re-read: every record once" \
    "$(dump cut.db | sed 's/work\.csv/big.csv/g')" "$(cat whole.txt)"
done
pass
