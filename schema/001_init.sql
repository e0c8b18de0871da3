-- SPDX-License-Identifier: MIT
-- pgsift store, version 1. Applied by src/store/migrate.c in one transaction when
-- PRAGMA user_version < 1. docs/store.md describes every table and column.
--
-- Conventions: times of aggregates are Unix seconds (UTC) at the start of a bucket; other
-- times are Unix microseconds (UTC). 64-bit fingerprints and hashes are stored as the
-- signed INTEGER with the same bits. Texts that may carry tenant data (messages,
-- samples) are redacted before they get here unless --keep-literals was given.

-- Input streams already read: where each one stops, and how to recognise it again.
CREATE TABLE sources (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL,            -- path as last given (display only)
    dev          INTEGER NOT NULL,            -- st_dev of the file last read
    inode        INTEGER NOT NULL,            -- st_ino of the file last read
    compressed   INTEGER NOT NULL DEFAULT 0,  -- 1 when last read through gzip
    head_len     INTEGER NOT NULL,            -- bytes of the stream's start hashed
    head_hash    INTEGER NOT NULL,            -- XXH3-64 of those bytes
    offset       INTEGER NOT NULL,            -- decoded bytes consumed and committed
    line         INTEGER NOT NULL,            -- lines consumed and committed
    mark_len     INTEGER NOT NULL,            -- bytes just before offset that are hashed
    mark_hash    INTEGER NOT NULL,            -- XXH3-64 of those bytes
    checkpoint   BLOB,                        -- parser state to resume with (opaque)
    pairing      BLOB,                        -- statements waiting for their duration line
    records      INTEGER NOT NULL DEFAULT 0,  -- records stored from this stream
    first_ingest INTEGER NOT NULL,            -- µs, clock of the first commit
    last_ingest  INTEGER NOT NULL             -- µs, clock of the last commit
);
CREATE INDEX sources_head ON sources (head_len, head_hash);
CREATE INDEX sources_file ON sources (dev, inode);

-- Per statement shape, per minute (rolled up to hours and days as they age).
CREATE TABLE query_stats (
    bucket      INTEGER NOT NULL,  -- Unix seconds at the start of the bucket
    width       INTEGER NOT NULL,  -- 60 (minute), 3600 (hour) or 86400 (day)
    database    TEXT    NOT NULL,  -- '' when the log does not say
    username    TEXT    NOT NULL,  -- '' when the log does not say
    fingerprint INTEGER NOT NULL,  -- 0 when the statement text was not logged
    phase       TEXT    NOT NULL,  -- 'call' (simple/execute), 'parse', 'bind', 'plan'
    query_id    INTEGER NOT NULL,  -- PostgreSQL's query_id, 0 when not logged
    calls       INTEGER NOT NULL,  -- records with a duration in this row
    total_us    INTEGER NOT NULL,  -- sum of durations in microseconds (exact: order-free)
    min_ms      REAL,              -- NULL when calls = 0
    max_ms      REAL,
    sumsq_ms    REAL    NOT NULL,  -- sum of squared durations (ms²), for the deviation
    rows        INTEGER NOT NULL DEFAULT 0,  -- rows returned/affected, where logged
    rows_calls  INTEGER NOT NULL DEFAULT 0,  -- records that logged a row count
    errors      INTEGER NOT NULL DEFAULT 0,  -- ERROR/FATAL/PANIC records of this statement
    sketch      BLOB    NOT NULL,  -- latency sketch (src/store/sketch.h), mergeable
    PRIMARY KEY (width, bucket, database, username, fingerprint, phase, query_id)
) WITHOUT ROWID;
CREATE INDEX query_stats_fp ON query_stats (fingerprint, bucket);

-- The query catalogue: one row per fingerprint.
CREATE TABLE queries (
    fingerprint    INTEGER PRIMARY KEY,
    fingerprint_hi INTEGER NOT NULL DEFAULT 0,  -- other 64 bits of the hash
    query          TEXT    NOT NULL,            -- canonical normalized text ($n)
    sample         TEXT,                        -- first statement seen, constants redacted
    first_seen     INTEGER NOT NULL,            -- µs
    last_seen      INTEGER NOT NULL,            -- µs
    collisions     INTEGER NOT NULL DEFAULT 0   -- other statements seen under this fingerprint
);

-- PostgreSQL query_ids seen with each fingerprint.
CREATE TABLE query_ids (
    fingerprint INTEGER NOT NULL,
    query_id    INTEGER NOT NULL,
    calls       INTEGER NOT NULL,
    first_seen  INTEGER NOT NULL,  -- µs
    last_seen   INTEGER NOT NULL,  -- µs
    PRIMARY KEY (fingerprint, query_id)
) WITHOUT ROWID;

-- Every record that is not a statement, duration or plan: errors, lock waits,
-- deadlocks, temp files, checkpoints, autovacuum, connections, ...
CREATE TABLE events (
    id             INTEGER PRIMARY KEY,
    ts             INTEGER NOT NULL,  -- µs
    kind           TEXT    NOT NULL,  -- INTERFACE.md kind
    severity       TEXT,
    sqlstate       TEXT,
    database       TEXT,
    username       TEXT,
    application    TEXT,
    pid            INTEGER,
    fingerprint    INTEGER,           -- of the STATEMENT the record refers to, if any
    message        TEXT,              -- redacted
    detail         TEXT,              -- redacted
    wait_ms        REAL,              -- lock_wait, lock_acquired, deadlock
    lock_mode      TEXT,
    lock_object    TEXT,
    temp_bytes     INTEGER,           -- temp_file
    temp_path      TEXT,
    buffers        INTEGER,           -- checkpoint
    write_s        REAL,
    sync_s         REAL,
    total_s        REAL,
    cause          TEXT,              -- checkpoint cause, cancel/timeout cause, shutdown mode
    relation       TEXT,              -- autovacuum, autoanalyze
    tuples_removed INTEGER,
    tuples_remain  INTEGER,
    elapsed_s      REAL,              -- autovacuum/autoanalyze; session time of a disconnection
    host           TEXT,              -- connection: client host
    step           TEXT,              -- 'start' / 'end' of a two-part occurrence
    lock_holders   TEXT,              -- lock_wait: pids holding the lock ("12, 13")
    lock_queue     TEXT,              -- lock_wait: pids waiting
    blocker_pid    INTEGER,           -- lock_wait: first holder; deadlock: first blocker
    distance_kb    INTEGER,           -- checkpoint: WAL distance
    port           INTEGER,           -- connection: client port
    src            TEXT               -- file:line of the record
);
CREATE INDEX events_ts ON events (ts);


-- ERROR, FATAL and PANIC records by SQLSTATE and message, per minute (rolled up).
CREATE TABLE error_stats (
    bucket   INTEGER NOT NULL,
    width    INTEGER NOT NULL,
    database TEXT    NOT NULL,
    username TEXT    NOT NULL,
    sqlstate TEXT    NOT NULL,  -- '' when the format does not carry it
    severity TEXT    NOT NULL,
    message  TEXT    NOT NULL,  -- redacted, numbers replaced by N: the grouping key
    count    INTEGER NOT NULL,
    sample   TEXT,              -- one occurrence: message and detail, redacted
    PRIMARY KEY (width, bucket, database, username, sqlstate, severity, message)
) WITHOUT ROWID;

-- Records per kind and severity, per minute (rolled up): totals, rates, flat lines.
CREATE TABLE record_stats (
    bucket   INTEGER NOT NULL,
    width    INTEGER NOT NULL,
    kind     TEXT    NOT NULL,
    severity TEXT    NOT NULL,
    count    INTEGER NOT NULL,
    PRIMARY KEY (width, bucket, kind, severity)
) WITHOUT ROWID;

-- Lines no parser could read, per source and reason.
CREATE TABLE rejects (
    source     TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    count      INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,  -- µs, clock at ingest
    last_seen  INTEGER NOT NULL,
    PRIMARY KEY (source, reason)
) WITHOUT ROWID;

-- The first SIFT_MAX_REJECT_SAMPLES lines of each (source, reason), redacted.
CREATE TABLE reject_samples (
    id     INTEGER PRIMARY KEY,
    source TEXT    NOT NULL,
    reason TEXT    NOT NULL,
    line   INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    sample TEXT    NOT NULL
);
CREATE INDEX reject_samples_key ON reject_samples (source, reason);

PRAGMA user_version = 1;
