-- SPDX-License-Identifier: MIT
-- pgsift store, version 16: log lines per input and minute. Applied by src/store/migrate.c
-- in one transaction when PRAGMA user_version < 16.
--
-- The rules' source 'ingest' (absence rules: a server or tailer gone silent; lines no
-- parser could read) reads these: per input (the file a line came from, as the rejects
-- and the sources name it) and minute, the records read from it and its rejected lines.
-- A record is counted at its own time; a rejected line has none: it counts at the newest
-- record time read from its stream when it was stored (with the commit that stores
-- it). Rolled up and expired with
-- record_stats (src/store/rollup.c). Stores of earlier versions start with none: an
-- input is watched from its first lines read after the upgrade.
CREATE TABLE input_stats (
    bucket  INTEGER NOT NULL,  -- s since the epoch, a multiple of width
    width   INTEGER NOT NULL,  -- 60, 3600 or 86400
    input   TEXT    NOT NULL,
    records INTEGER NOT NULL,
    rejects INTEGER NOT NULL,
    PRIMARY KEY (width, bucket, input)
) WITHOUT ROWID;

PRAGMA user_version = 16;
