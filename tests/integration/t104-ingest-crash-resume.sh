#!/usr/bin/env bash
# pgsift ingest killed with kill -9 at >= 20 random moments (small batches, so kills
# land before, inside and after commits), then run again until it finishes: the store
# equals one from an uninterrupted run. Plain input, gzipped input, two files read
# by two threads (-j 2) and one file parsed in parts by two threads (-j 2) take turns.
# labels: slow
# timeout: 900
. "$(dirname "$0")/lib.sh"
need_cmd sqlite3 gzip jq
F=$SIFT_SOURCE_DIR/tests/fixtures/pg15
[[ -f $F/statement-log/postgresql.csv ]] || skip "fixtures absent"

for i in 1 2 3; do
  cat "$F"/statement-log/postgresql.csv "$F"/verbose-errors/postgresql.csv \
    "$F"/json-plans/postgresql.csv "$F"/text-plans/postgresql.csv
done >big.csv
gzip -c big.csv >big.csv.gz
sed 's/^2026-11-25/2026-11-26/' big.csv >big2.csv
export SIFT_TEST_BATCH_BYTES=40000

summary() {
  PGSIFT_DB=$1 store_query "SELECT (SELECT sum(count) FROM record_stats),
    (SELECT sum(n) FROM event_blocks),
    (SELECT coalesce(sum(count), 0) FROM rejects),
    (SELECT sum(calls) || '/' || sum(total_us) || '/' || count(*) FROM query_ids),
    (SELECT group_concat(offset || '/' || line || '/' || records) FROM (SELECT * FROM sources ORDER BY name)),
    (SELECT group_concat(bucket || '/' || input || '/' || records || '/' || rejects)
       FROM (SELECT * FROM input_stats ORDER BY width, bucket, input))"
  "$PGSIFT" --db "$1" events --format json --limit 0 | jq -c '[.counts, .total, [.events[] | .src]]'
  # every column of every event (src names the .gz as the plain file, for the check below)
  "$SIFT_TEST_TOOL" events-dump "$1" | sed -E 's/\|big\.csv\.gz:([0-9]+)$/|big.csv:\1/' | md5sum
  # Calls per statement, percentiles included: statements logged apart from their
  # duration line stay paired across kills.
  "$PGSIFT" --db "$1" top --format json --limit 0 | jq -S -c 'del(.queries[].stddev_ms)'
}
"$PGSIFT" -q --db ref.db ingest big.csv
summary ref.db >ref.txt
"$PGSIFT" -q --db refgz.db ingest big.csv.gz
summary refgz.db >refgz.txt
expect_eq "plain and gzip give the same store" "$(sed 's/big.csv.gz/big.csv/g' refgz.txt)" "$(cat ref.txt)"
"$PGSIFT" -q --db refpair.db ingest big.csv big2.csv
summary refpair.db >refpair.txt

kills=0 rounds=0
while ((kills < 24 || rounds < 4)); do # every variant at least once
  rounds=$((rounds + 1))
  case $((rounds % 4)) in
    1) args=(big.csv) want=ref.txt ;;
    2) args=(big.csv.gz) want=refgz.txt ;;
    3) args=(-j 2 big.csv big2.csv) want=refpair.txt ;;
    0) args=(-j 2 big.csv) want=ref.txt ;;
  esac
  # -j 2 on one file parses it in parts, commits falling at part ends: small parts, so
  # kills land between many of them.
  export SIFT_TEST_PART_BYTES=50000
  rm -f crash.db crash.db-wal crash.db-shm
  for ((run = 0; run < 300; run++)); do
    "$PGSIFT" -q --db crash.db ingest "${args[@]}" &
    pid=$!
    # (later attempts run longer: on a loaded host start-up alone could outlast a short
    # window every time, and no attempt would ever commit)
    ms=$((RANDOM % 400 + 5 + run * 10))
    sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
    if kill -9 "$pid" 2>/dev/null; then
      wait "$pid" 2>/dev/null || true
      kills=$((kills + 1))
      if [[ -e crash.db && $(PGSIFT_DB=crash.db store_query "SELECT count(*) FROM sqlite_schema WHERE name = 'sources'") == 1 ]]; then
        # Data and position were committed together.
        state=$(PGSIFT_DB=crash.db store_query "SELECT coalesce((SELECT sum(count) FROM record_stats), 0) || ' ' ||
          coalesce((SELECT sum(records) FROM sources), 0)")
        read -r counted records <<<"$state"
        expect_eq "after kill $kills: records in the store == records of the source row" "$records" "$counted"
      fi
    else
      wait "$pid" || fail "ingest failed"
      break
    fi
  done
  expect_eq "round $rounds (${args[*]}, $kills kills so far)" "$(cat "$want")" "$(summary crash.db)"
done
echo "$kills kills over $rounds rounds"
pass
