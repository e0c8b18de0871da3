-- SPDX-License-Identifier: MIT
-- pgsift store, version 5: execute time per query_id in the query catalogue. Applied by
-- src/store/migrate.c in one transaction when PRAGMA user_version < 5; maintained by
-- src/store/batch.c and store.c with query_ids.calls (docs/store.md, "Calls and execute
-- time").
--
-- total_us is the sum of the execute-phase durations counted in query_ids.calls, in
-- microseconds like query_stats.total_us (an integer: a sum that does not depend on the
-- order or batching of the records, so a resumed ingest gives the same figure).
ALTER TABLE query_ids ADD COLUMN total_us INTEGER NOT NULL DEFAULT 0;

-- Stores written by versions 3 and 4 counted the same calls in query_stats (phase 'call', by
-- fingerprint and query_id): take their time from there. Rows whose minutes have since
-- expired keep 0 (their calls stay).
UPDATE query_ids SET total_us = coalesce((SELECT sum(s.total_us) FROM query_stats s
    WHERE s.phase = 'call' AND s.fingerprint = query_ids.fingerprint
      AND s.query_id = query_ids.query_id), 0);

PRAGMA user_version = 5;
