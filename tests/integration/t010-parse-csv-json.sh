#!/usr/bin/env bash
# The csvlog and jsonlog files of each real PG 15 fixture run (tests/fixtures/pg15/*,
# same server, same records) give the same events: 0 rejects, the same counts per
# severity and SQLSTATE, and the same set of events field by field (src aside).
# The stderr owner extends this to postgresql.log.
. "$(dirname "$0")/lib.sh"
need_cmd jq
fixtures=$SIFT_SOURCE_DIR/tests/fixtures/pg15
[[ -d $fixtures ]] || skip "no fixtures in $fixtures"

runs=0
for dir in "$fixtures"/*/; do
  [[ -f $dir/postgresql.csv && -f $dir/postgresql.json ]] || continue
  run=$(basename "$dir")
  runs=$((runs + 1))
  for f in csv json; do
    "$PGSIFT" parse --stats --stats-format json "$dir/postgresql.$f" > "$T/$run.$f.stats"
    expect_eq "$run $f rejects" 0 "$(jq '.totals.rejects' "$T/$run.$f.stats")"
    expect_eq "$run $f foreign" 0 "$(jq '.totals.foreign_lines' "$T/$run.$f.stats")"
    "$PGSIFT" parse "$dir/postgresql.$f" > "$T/$run.$f.ndjson"
  done
  expect_eq "$run csv format" csvlog "$(jq -r '.sources[0].format' "$T/$run.csv.stats")"
  expect_eq "$run json format" jsonlog "$(jq -r '.sources[0].format' "$T/$run.json.stats")"
  csv_events=$(jq '.totals.events' "$T/$run.csv.stats")
  json_events=$(jq '.totals.events' "$T/$run.json.stats")
  expect_eq "$run events" "$json_events" "$csv_events"
  # json has one record per line: the event count is the line count.
  expect_eq "$run json events = lines" "$(wc -l < "$dir/postgresql.json")" "$json_events"
  expect_eq "$run severities" "$(jq -c '.severities' "$T/$run.json.stats")" \
    "$(jq -c '.severities' "$T/$run.csv.stats")"
  expect_eq "$run sqlstates" "$(jq -cS '.sqlstates' "$T/$run.json.stats")" \
    "$(jq -cS '.sqlstates' "$T/$run.csv.stats")"
  # The (timestamp, pid, message) set, then every field but src.
  jq -c '[.ts, .pid, .message]' "$T/$run.csv.ndjson" | sort > "$T/a"
  jq -c '[.ts, .pid, .message]' "$T/$run.json.ndjson" | sort > "$T/b"
  expect_eq "$run (ts, pid, message) set" "" "$(diff "$T/a" "$T/b" | head -5)"
  jq -cS 'del(.src)' "$T/$run.csv.ndjson" | sort > "$T/a"
  jq -cS 'del(.src)' "$T/$run.json.ndjson" | sort > "$T/b"
  expect_eq "$run events field by field" "" "$(diff "$T/a" "$T/b" | head -5)"
  # Every line of the NDJSON output is one JSON object with src and ts.
  expect_eq "$run ndjson objects" "$csv_events" \
    "$(jq -c 'select(type == "object" and has("src") and has("ts"))' "$T/$run.csv.ndjson" | wc -l)"
done
((runs > 0)) || fail "no fixture run with postgresql.csv and postgresql.json"
pass
