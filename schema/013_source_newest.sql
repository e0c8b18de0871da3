-- SPDX-License-Identifier: MIT
-- pgsift store, version 13: how new the data a stream produced is, so that its row (what
-- recognises the file when it is read again) lives as long as that data. Applied by
-- src/store/migrate.c in one transaction when PRAGMA user_version < 13.
--
-- The roll-up deleted a stream's row once it had not been read for the `days` retention
-- (last_ingest), while the day rows its records went to are kept until the day-aligned
-- cut-off, and records may be newer than the clock of their commit: for up to a day the
-- statistics were there and the stream was not, and reading the unchanged file again
-- counted it twice. A stream's row is now deleted only when both its last commit and its
-- newest record are older than everything the store still keeps (docs/store.md,
-- "Retention and roll-up"). Rows of earlier versions take their last commit's clock.
ALTER TABLE sources ADD COLUMN newest_at INTEGER NOT NULL DEFAULT 0;  -- µs, newest record time
UPDATE sources SET newest_at = last_ingest;

PRAGMA user_version = 13;
