#!/usr/bin/env bash
# Exactly once across kill -9: a loader that commits source positions with its data
# (sift-test-tool store-load --position: the store's side of `pgsift ingest`) is killed
# at >= 20 random moments and restarted; after every kill the store is consistent
# (records committed == lines committed), and the final store equals one loaded without
# interruption: same calls, totals, percentiles, errors and events.
# labels: slow
# timeout: 600
. "$(dirname "$0")/lib.sh"
need_cmd jq sqlite3

awk 'BEGIN {
  srand(7)
  for (i = 0; i < 30000; i++) {
    k = i % 10; m = int(i / 300)
    ts = sprintf("2026-11-24T%02d:%02d:%02dZ", 10 + int(m / 60) % 14, m % 60, i % 60)
    if (k < 8)
      printf "{\"ts\":\"%s\",\"kind\":\"duration\",\"duration_ms\":%.3f,\"database\":\"db%d\",\"user\":\"u\",\"fingerprint\":\"%016x\",\"normalized\":\"SELECT %d\"}\n", ts, rand() * 100, i % 3, i % 50 + 1, i % 50
    else if (k == 8)
      printf "{\"ts\":\"%s\",\"kind\":\"error\",\"severity\":\"ERROR\",\"sqlstate\":\"23505\",\"message\":\"dup\",\"detail\":\"Key (id)=(%d) already exists.\",\"fingerprint\":\"%016x\"}\n", ts, i, i % 50 + 1
    else
      printf "{\"ts\":\"%s\",\"kind\":\"lock_wait\",\"severity\":\"LOG\",\"wait_ms\":%.3f,\"message\":\"waiting %d\"}\n", ts, rand() * 1000, i
  }
}' >in.ndjson
lines=$(wc -l <in.ndjson)

"$SIFT_TEST_TOOL" store-load --db ref.db --position --batch 250 in.ndjson 2>/dev/null

summary() { # db: everything that must not depend on where the loader was killed
  PGSIFT_DB=$1 store_query "SELECT (SELECT sum(calls) || '/' || sum(total_us) || '/' || sum(errors) FROM query_stats),
    (SELECT sum(n) FROM event_blocks),
    (SELECT sum(count) FROM record_stats), (SELECT sum(count) FROM error_stats),
    (SELECT offset || '/' || line || '/' || records FROM sources)"
  "$PGSIFT" --db "$1" top --format json --limit 0 | jq -S 'del(.queries[].stddev_ms)'
  "$PGSIFT" --db "$1" events --format json --limit 0
  "$SIFT_TEST_TOOL" events-dump "$1" | md5sum # every column of every event
}
summary ref.db >ref.txt
expect_contains "$(head -1 ref.txt)" "/$lines/$lines"

kills=0 rounds=0
while ((kills < 20)); do
  rounds=$((rounds + 1))
  rm -f crash.db crash.db-wal crash.db-shm
  for ((run = 0; run < 200; run++)); do
    "$SIFT_TEST_TOOL" store-load --db crash.db --position --batch 250 in.ndjson 2>/dev/null &
    pid=$!
    # (later attempts run longer: on a loaded host start-up alone could outlast a short
    # window every time, and no attempt would ever commit)
    ms=$((RANDOM % 300 + 10 + run * 10))
    sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
    if kill -9 "$pid" 2>/dev/null; then
      wait "$pid" 2>/dev/null || true
      kills=$((kills + 1))
      # Whatever was committed is whole: the records counted are those of the lines
      # the saved offset covers.
      # (Killed before the schema was created: an empty file, nothing to check.)
      if [[ -e crash.db && $(PGSIFT_DB=crash.db store_query "SELECT count(*) FROM sqlite_schema WHERE name = 'sources'") == 1 ]]; then
        state=$(PGSIFT_DB=crash.db store_query "SELECT coalesce((SELECT sum(count) FROM record_stats), 0) || ' ' ||
          coalesce((SELECT line || ' ' || records FROM sources), '0 0')")
        read -r counted line records <<<"$state"
        expect_eq "after kill $kills: records == lines committed" "$line $line" "$counted $records"
      fi
    else
      wait "$pid" || fail "store-load failed"
      break
    fi
  done
  summary crash.db >crash.txt
  expect_eq "round $rounds ($kills kills so far): same store as without kills" "$(cat ref.txt)" "$(cat crash.txt)"
done
echo "$kills kills over $rounds rounds"

# Loading the same file again changes nothing.
"$SIFT_TEST_TOOL" store-load --db crash.db --position --batch 250 in.ndjson 2>/dev/null
summary crash.db >again.txt
expect_eq "reloading changes nothing" "$(cat ref.txt)" "$(cat again.txt)"
pass
