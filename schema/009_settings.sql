-- SPDX-License-Identifier: MIT
-- pgsift store, version 9: settings the store keeps for every command that writes it.
-- Applied by src/store/migrate.c in one transaction when PRAGMA user_version < 9.
--
-- The retention (INTERFACE.md `retention:`): the roll-up at the end of every
-- `pgsift ingest` and in `pgsift tail` deletes and rolls up by it, and what it removes
-- cannot come back. So the retention of the configuration that last opened the store
-- for writing (`pgsift tail --config`, `pgsift ingest --config`) is kept here, and a
-- command without a configuration (a backfill with `pgsift ingest DIR`) applies that
-- one instead of the defaults (docs/store.md, "Retention and roll-up").
-- Names: retention.minutes_us, retention.hours_us, retention.days_us,
-- retention.events_us; values in microseconds.
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;

PRAGMA user_version = 9;
