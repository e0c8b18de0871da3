-- SPDX-License-Identifier: MIT
-- pgsift store, version 3: auto_explain plan shapes (docs/plans.md). Applied by
-- src/store/migrate.c in one transaction when PRAGMA user_version < 3; written by
-- src/store/plans.c. Only new tables: independent of version 2 (alerts).
--
-- A plan shape is the fingerprint of a plan's tree (node types, relations, indexes,
-- join order; not costs, row counts or constants: src/classify/plan_shape.c). Times are
-- Unix microseconds (UTC), durations milliseconds, 64-bit fingerprints the signed
-- INTEGER with the same bits, like version 1.

-- One row per (query, database, plan shape): how often and how fast the query ran with
-- that plan, which insights its plans showed, and one plan of it to show: the one with
-- the most insights, the slowest among those (redacted unless --keep-literals).
CREATE TABLE plans (
    fingerprint INTEGER NOT NULL,  -- query fingerprint (queries.fingerprint), 0 when the
                                   -- plan carried no Query Text
    database    TEXT    NOT NULL,  -- '' when the log does not say
    plan_fp     INTEGER NOT NULL,  -- plan shape fingerprint
    shape       TEXT    NOT NULL,  -- one line: "Aggregate > Seq Scan on t"
    first_seen  INTEGER NOT NULL,  -- µs
    last_seen   INTEGER NOT NULL,  -- µs
    calls       INTEGER NOT NULL,  -- plan records of this shape
    total_us    INTEGER NOT NULL,  -- sum of their durations (executor time), µs
    min_ms      REAL,              -- NULL when no record had a duration
    max_ms      REAL,
    sketch      BLOB    NOT NULL,  -- latency sketch (src/store/sketch.h), mergeable
    format      TEXT    NOT NULL,  -- text, json, yaml or xml: the format of sample
    sample      TEXT    NOT NULL,  -- the plan body shown for this shape, redacted
    sample_ms   REAL,              -- that record's duration
    sample_ts   INTEGER NOT NULL,  -- µs
    sample_insights INTEGER NOT NULL, -- insight kinds the sample shows (its rank)
    insights    INTEGER NOT NULL,  -- bit i set: insight i (enum plan_insight_kind in
                                   -- src/classify/classify.h, numbers never reused) was
                                   -- seen in some plan of this shape
    PRIMARY KEY (fingerprint, database, plan_fp)
) WITHOUT ROWID;

-- Runs of one plan shape per (query, database), in ingest order: a new run starts when a
-- plan record's shape differs from the previous record's. Plan-change detection reads
-- these (src/store/plans.c). At most SIFT_MAX_PLAN_RUNS runs are kept per key.
CREATE TABLE plan_runs (
    fingerprint INTEGER NOT NULL,
    database    TEXT    NOT NULL,
    seq         INTEGER NOT NULL,  -- 1, 2, ... per (fingerprint, database)
    plan_fp     INTEGER NOT NULL,
    first_seen  INTEGER NOT NULL,  -- µs
    last_seen   INTEGER NOT NULL,  -- µs
    calls       INTEGER NOT NULL,
    total_us    INTEGER NOT NULL,
    sketch      BLOB    NOT NULL,
    PRIMARY KEY (fingerprint, database, seq)
) WITHOUT ROWID;

PRAGMA user_version = 3;
