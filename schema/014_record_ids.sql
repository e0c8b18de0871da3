-- SPDX-License-Identifier: MIT
-- pgsift store, version 14: the records already counted, by their own id, for formats
-- whose records carry one (Supabase: every Logs Explorer / API row and drain event has an
-- `id`). Applied by src/store/migrate.c in one transaction when PRAGMA user_version < 14.
--
-- Two Supabase exports of overlapping time windows (API pages, a download repeated a day
-- later) hold the same events; a file's identity (sources) cannot see that, since each
-- export is a stream of its own. A record whose id is here is read and not counted again
-- (docs/store.md, "Exactly once"). The id is kept as a 64-bit hash of its text, written in
-- the same transaction as the aggregates the record went to, and kept for the `minutes`
-- retention from when it was read (store_rollup(); 14 days by default; about 20 bytes a
-- record).
CREATE TABLE record_ids (
    id INTEGER PRIMARY KEY,  -- XXH3-64 of the record's id text (never 0)
    minute INTEGER NOT NULL  -- when it was committed, in minutes since the epoch (UTC)
);

PRAGMA user_version = 14;
