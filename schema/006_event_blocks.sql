-- SPDX-License-Identifier: MIT
-- pgsift store, version 6: events packed in blocks. Applied by src/store/migrate.c in one
-- transaction when PRAGMA user_version < 6; after this file, still in that transaction,
-- migrate.c converts the rows of the old `events` table into blocks and drops it
-- (store/events.c, evblocks_migrate()). docs/store.md describes the encoding.
--
-- One row per chunk of events (at most 2 048, in record order) instead of one row per
-- event: SQLite's per-row cost (record, two B-tree inserts, WAL) is paid once per block.
-- Events are ordered by (ts, block id, place in the block), as they were by (ts, id).
CREATE TABLE event_blocks (
    id     INTEGER PRIMARY KEY,
    ts_min INTEGER NOT NULL,  -- µs, the block's oldest event
    ts_max INTEGER NOT NULL,  -- µs, its newest
    n      INTEGER NOT NULL,  -- events in the block
    kinds  INTEGER NOT NULL,  -- bit (1 << enum event_kind) per kind present
    data   BLOB    NOT NULL   -- src/store/evblock.h, first byte the format version
);
-- Windows (ts_max >= since AND ts_min < until) newest first, and expiry by ts_max.
CREATE INDEX event_blocks_ts ON event_blocks (ts_max);

PRAGMA user_version = 6;
