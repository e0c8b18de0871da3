#!/usr/bin/env bash
# Retention: a configuration's `retention:` (pgsift ingest --config, pgsift tail --config)
# is applied and kept in the store, and a later run without a configuration applies the
# kept one instead of the defaults: a backfill with `pgsift ingest DIR` does not delete
# or roll up what the configured daemon keeps longer. Fixtures ingested with the clock
# ~190 days after them (past the default 90-day event retention, within 400 days).
# timeout: 120
. "$(dirname "$0")/lib.sh"
need_cmd sqlite3 jq
fx="$SIFT_SOURCE_DIR/tests/fixtures/pg15"
export SIFT_TEST_NOW=2027-06-01T00:00:00Z
cat > long.yaml <<'YAML'
retention: { minutes: 30d, hours: 400d, events: 400d }
YAML
events() { store_query "SELECT coalesce(sum(n), 0) FROM event_blocks"; }
hour_rows() { store_query "SELECT count(*) FROM query_stats WHERE width = 3600"; }

# The defaults first, in a store of its own: the old events are deleted at once, and say so.
out=$(PGSIFT_DB=defaults.db "$PGSIFT" ingest --no-progress "$fx/verbose-errors/postgresql.csv" 2>&1)
expect_contains "$out" "deleted as older than the retention"
expect_eq "defaults: no event left" 0 "$(PGSIFT_DB=defaults.db events)"

# --config: kept, and the retention is kept in the store.
"$PGSIFT" -q ingest --no-progress --config long.yaml "$fx/verbose-errors/postgresql.csv"
kept=$(events)
[[ $kept -gt 0 ]] || fail "no event kept with a 400-day retention"
expect_eq "retention kept in the store" \
  "retention.days_us|63072000000000
retention.events_us|34560000000000
retention.hours_us|34560000000000
retention.minutes_us|2592000000000" "$(store_query "SELECT name, value FROM settings ORDER BY name")"

# A backfill without a configuration applies the store's retention: nothing of the first
# file is deleted, and the second file's events are kept too.
out=$("$PGSIFT" ingest --no-progress "$fx/statement-log/postgresql.csv" 2>&1)
expect_not_contains "$out" "deleted as older than the retention"
[[ $(events) -gt $kept ]] || fail "the backfill lost events: $(events) after, $kept before"
# Hour rows: the defaults (90 days) rolled them into days; 400 days keeps them.
expect_eq "defaults: hours rolled into days" 0 "$(PGSIFT_DB=defaults.db hour_rows)"
[[ $(hour_rows) -gt 0 ]] || fail "the backfill rolled hour rows into days"

# pgsift tail --config with a retention section keeps its retention too; one without
# leaves the store's alone.
cat > tail.yaml <<YAML
sources: [ { path: $T/none.csv } ]
retention: { hours: 500d }
YAML
: > none.csv
"$PGSIFT" -q tail --config tail.yaml --once >/dev/null 2>&1
expect_eq "tail --config keeps its retention" 43200000000000 \
  "$(store_query "SELECT value FROM settings WHERE name = 'retention.hours_us'")"
cat > tail2.yaml <<YAML
sources: [ { path: $T/none.csv } ]
YAML
"$PGSIFT" -q tail --config tail2.yaml --once >/dev/null 2>&1
expect_eq "tail without retention: the store's stays" 43200000000000 \
  "$(store_query "SELECT value FROM settings WHERE name = 'retention.hours_us'")"

# The configuration's store is used when neither --db nor $PGSIFT_DB is given.
cat > store.yaml <<YAML
store: $T/from-config.db
YAML
(unset PGSIFT_DB; "$PGSIFT" -q ingest --no-progress --config store.yaml "$fx/statement-log/postgresql.csv")
[[ -s from-config.db ]] || fail "the configuration's store was not used"
# A stream's row lives as long as what it produced: the fixture's day (2026-11-25) is kept
# as a day row until the cut-off aligned to its day passes, so a file read once and then
# found again unchanged (cron over the log directory) is recognised until then - not read
# again and counted twice once `days` have passed since its last commit. After that the
# day row and the stream go together, and reading the file again leaves nothing either.
printf 'retention: { minutes: 1d, hours: 2d, days: 3d }\n' >short.yaml
csv="$fx/verbose-errors/postgresql.csv"
day_calls() {
  "$PGSIFT" --db expiry.db top --format json --limit 0 --since 2026-11-25 --until 2026-11-26 | jq '[.queries[].calls] | add // 0'
}
SIFT_TEST_NOW=2026-11-25T18:00:00Z "$PGSIFT" -q --db expiry.db ingest --no-progress --config short.yaml "$csv"
first=$(day_calls)
((first > 100)) || fail "too few calls on the fixture's day: $first"
for now in 2026-11-28T18:10:00Z 2026-11-28T23:50:00Z; do
  SIFT_TEST_NOW=$now "$PGSIFT" -q --db expiry.db ingest --no-progress "$csv"
  expect_eq "$now: the unchanged file is not counted again" "$first" "$(day_calls)"
  expect_eq "$now: its stream is kept" 1 "$(sqlite3 expiry.db 'SELECT count(*) FROM sources')"
done
SIFT_TEST_NOW=2026-11-29T00:10:00Z "$PGSIFT" -q --db expiry.db ingest --no-progress "$csv"
expect_eq "the day past the retention: nothing of it" 0 "$(day_calls)"

# A bad configuration: exit 2, file:line:col.
printf 'retention: { minutes: soon }\n' > bad.yaml
expect_exit 2 "$PGSIFT" ingest --no-progress --config bad.yaml "$fx/statement-log/postgresql.csv"
expect_contains "$("$PGSIFT" ingest --no-progress --config bad.yaml "$fx/statement-log/postgresql.csv" 2>&1 || true)" "bad.yaml:1:"
pass
