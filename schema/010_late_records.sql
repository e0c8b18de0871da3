-- SPDX-License-Identifier: MIT
-- pgsift store, version 10: records that came in after the rules had evaluated past them.
-- Applied by src/store/migrate.c in one transaction when PRAGMA user_version < 10.
--
-- Rules are evaluated once per boundary of event time (alert_cursors.last_eval), so a
-- record committed with an event time before the newest boundary the rules have
-- evaluated was not seen by the evaluations already made (a source that lags the others
-- by more than alerting.allowed_lateness, an old file ingested into a store the rules run
-- on). Counted in the transaction that commits the record, per source name (as rejects):
-- docs/rules.md, "Late records".
CREATE TABLE late_records (
    source     TEXT    PRIMARY KEY,
    count      INTEGER NOT NULL,
    oldest     INTEGER NOT NULL,  -- event time of the oldest such record's minute (µs)
    cutoff     INTEGER NOT NULL,  -- the rules' newest evaluated boundary at the last one (µs)
    first_seen INTEGER NOT NULL,  -- ingest clock (µs)
    last_seen  INTEGER NOT NULL
) WITHOUT ROWID;

PRAGMA user_version = 10;
