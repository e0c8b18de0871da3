#!/usr/bin/env bash
# A record that lacks a group_by dimension still counts, under the empty value. Real
# PostgreSQL 15 logs: the parallel workers of `SELECT md5(payload || id) AS h FROM
# events ORDER BY h ...` (pids 9671 and 9672 of the text-plans run) log their temporary
# files without user or database (1261568 + 1015808 bytes); the leader logs none. The
# shipped temp_file_spill rule (group_by [database, fingerprint]) dropped them, so that
# query never fired whatever it spilled.
# Statements too: over the store, the rules grouping statements by database or user
# found no group at all in a log that names neither (a stderr prefix without %d and %u),
# while the same rules over its `pgsift parse` output fired with database="".
. "$(dirname "$0")/lib.sh"
fixture_clock # dated data: on the real clock, weeks later, it would be rolled up or expired

need_cmd jq
fx=$(pg15_run text-plans)/postgresql.csv
"$PGSIFT" ingest --no-progress "$fx" 2>/dev/null
# The shipped rule with its 1 GiB threshold lowered to 2 MiB (2097152 bytes).
shipped_rules events.yaml '"> 1GiB"' '"> 2MiB"' > events.yaml

got=$("$PGSIFT" rules test --format json events.yaml 2>/dev/null)
spills=$(jq -r '.timeline[] | select(.rule == "temp_file_spill") | [.at, .transition, .value,
      (if .labels.database == "" then "-" else .labels.database end), .labels.fingerprint] | @tsv' \
    <<<"$got" | awk -F'\t' '{ printf "%s %s %d %s %s\n", $1, $2, $3, $4, $5 }' | sort -k5)
# 2220032: one file of the sort in session 9668 (database app); 2277376: the two
# workers' files, database unknown ("-" here, "" in the label).
expect_eq "both spills over 2 MiB fire" \
  "2026-11-25T17:45:00Z firing 2277376 - 51dbdb9de9964ddc
2026-11-25T17:45:00Z firing 2220032 app fc523aef64b61bfc" "$spills"

# Into the store: the annotation names the statement by its normalized text.
"$PGSIFT" rules eval --until 2026-11-25T17:46:00Z events.yaml >/dev/null 2>&1
expect_eq "annotation of the workers' spill" \
  "2.2 MiB of temp files in 15m: select md5(payload || id) from events order by h limit \$1 offset \$2" \
  "$(store_query "SELECT json_extract(annotations, '$.summary') FROM alert_instances
                  WHERE json_extract(labels, '$.database') = ''")"

# Hand-made (the edge case: PostgreSQL's default log_line_prefix '%m [%p] ' names no
# database or user): 40 minutes of one statement taking 900 ms, one a second.
rm -f "$PGSIFT_DB"*
for ((i = 0; i < 2400; i++)); do
  printf '2026-11-24 10:%02d:%02d.000 UTC [%d] LOG:  duration: 900.000 ms  statement: select pg_sleep(0.9) from t where id = %d\n' \
    $((i / 60)) $((i % 60)) $((100 + i % 5)) "$i"
done > nodb.log
"$PGSIFT" -q ingest nodb.log
"$PGSIFT" parse nodb.log > nodb.ndjson 2>/dev/null
store=$("$PGSIFT" rules test "$SIFT_SOURCE_DIR/rules/queries.yaml" 2>/dev/null)
parsed=$("$PGSIFT" rules test --events nodb.ndjson "$SIFT_SOURCE_DIR/rules/queries.yaml" 2>/dev/null)
expect_contains "$store" "firing     slow_query_p95           warning  value=900 database= fingerprint="
expect_contains "$store" "firing     query_time_hog           warning  value=810000 database= fingerprint="
expect_eq "store and parse output agree on a log without database or user" "$parsed" "$store"
pass
