-- SPDX-License-Identifier: MIT
-- pgsift store, version 4: one row per auto_explain plan record (docs/plans.md, "Plan
-- changes in alert rules"). Applied by src/store/migrate.c when PRAGMA user_version < 4;
-- written by src/store/plans.c in the batch's transaction, expired with `plans`.
--
-- plan_runs (version 3) aggregates consecutive records of one shape in ingest order, so
-- it cannot say what a run looked like at an earlier instant. Alert rules on plan changes
-- (`source: plans`) are evaluated at minute boundaries of event time and must see only
-- the records before each boundary, whatever was ingested after it, so that a replay and
-- live tailing give the same alert history: they read these rows.
CREATE TABLE plan_calls (
    id          INTEGER PRIMARY KEY,  -- ingest order
    fingerprint INTEGER NOT NULL,     -- query fingerprint (0: the plan had no Query Text)
    database    TEXT    NOT NULL,     -- '' when the log does not say
    ts          INTEGER NOT NULL,     -- µs
    plan_fp     INTEGER NOT NULL,     -- plan shape fingerprint (0: unreadable plan)
    us          INTEGER               -- the record's duration (executor time), µs; NULL
                                      -- when the record had none
);
CREATE INDEX plan_calls_key ON plan_calls (fingerprint, database, ts);
CREATE INDEX plan_calls_ts ON plan_calls (ts);

PRAGMA user_version = 4;
