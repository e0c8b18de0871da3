-- SPDX-License-Identifier: MIT
-- pgsift store, version 7: plan records packed per (query, database, minute). Applied by
-- src/store/migrate.c in one transaction when PRAGMA user_version < 7; after this file,
-- still in that transaction, migrate.c moves the rows of version 4's `plan_calls` (one row
-- per record, three B-tree inserts each) into blocks and drops it (src/store/plan_calls.c,
-- plan_calls_migrate()). docs/store.md describes the encoding.
--
-- Same information as plan_calls: per plan record its query, database, time, plan shape and
-- duration, and for records of one query and database with the same time, their ingest
-- order (the blob's order, then part). Alert rules with `source: plans` read them
-- (docs/plans.md, "Plan changes in alert rules").
CREATE TABLE plan_call_blocks (
    fingerprint INTEGER NOT NULL,  -- query fingerprint (0: the plan had no Query Text)
    database    TEXT    NOT NULL,  -- '' when the log does not say
    minute      INTEGER NOT NULL,  -- floor(ts / 60 000 000): the records' minute
    part        INTEGER NOT NULL,  -- 0, 1, ... per (fingerprint, database, minute), in
                                   -- ingest order (a commit adds the next one)
    n           INTEGER NOT NULL,  -- records in data
    ts_min      INTEGER NOT NULL,  -- µs, the oldest record
    ts_max      INTEGER NOT NULL,  -- µs, the newest
    data        BLOB    NOT NULL,  -- the records in ingest order (src/store/plan_calls.c)
    PRIMARY KEY (fingerprint, database, minute, part)
) WITHOUT ROWID;
-- The keys with records in a window, the newest record (rules), expiry.
CREATE INDEX plan_call_blocks_minute ON plan_call_blocks (minute);

PRAGMA user_version = 7;
