-- SPDX-License-Identifier: MIT
-- pgsift store, version 12: which occurrence a sample is, so that the sample does not
-- depend on the order batches are committed in. Applied by src/store/migrate.c in one
-- transaction when PRAGMA user_version < 12.
--
-- queries.sample was the first statement committed and error_stats.sample the first
-- occurrence committed: with `-j N` (readers committing in any order) or batches cut at
-- other places, two stores of the same logs could show other samples. The sample is now
-- the occurrence with the earliest time, and of those at that time the one whose text
-- (as logged, before redaction) has the lowest XXH3-64 (signed): for queries the time is
-- first_seen, for error_stats sample_at. Every commit keeps the lower of the stored and
-- the batch's (docs/store.md). Rows written before this version have no key: the next
-- commit's sample replaces theirs. Rolled-up error rows (hours, days) keep the highest
-- of their minutes' samples, as before, and no key.
ALTER TABLE queries ADD COLUMN sample_key INTEGER;
ALTER TABLE error_stats ADD COLUMN sample_at INTEGER;  -- µs of the sample's record
ALTER TABLE error_stats ADD COLUMN sample_key INTEGER;

PRAGMA user_version = 12;
