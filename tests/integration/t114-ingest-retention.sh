#!/usr/bin/env bash
# Retention: a configuration's `retention:` (pgsift ingest --config, pgsift tail --config)
# is applied and kept in the store, and a later run without a configuration applies the
# kept one instead of the defaults: a backfill with `pgsift ingest DIR` does not delete
# or roll up what the configured daemon keeps longer. Fixtures ingested with the clock
# ~190 days after them (past the default 90-day event retention, within 400 days).
# timeout: 120
. "$(dirname "$0")/lib.sh"
need_cmd sqlite3
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
# A bad configuration: exit 2, file:line:col.
printf 'retention: { minutes: soon }\n' > bad.yaml
expect_exit 2 "$PGSIFT" ingest --no-progress --config bad.yaml "$fx/statement-log/postgresql.csv"
expect_contains "$("$PGSIFT" ingest --no-progress --config bad.yaml "$fx/statement-log/postgresql.csv" 2>&1 || true)" "bad.yaml:1:"
pass
