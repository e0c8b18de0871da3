-- SPDX-License-Identifier: MIT
-- pgsift store, version 15: when the file a stream was last committed from was created, to
-- tell a truncated file from a new one. Applied by src/store/migrate.c in one transaction
-- when PRAGMA user_version < 15.
--
-- A file whose (dev, inode) a stored stream had, and whose content is not that stream's,
-- was truncated and rewritten - or it is a new file that got a freed inode number, as the
-- new log of a rename rotation often does on ext4. pgsift said "truncated or replaced"
-- for both, at every such rotation. The file's birth time (statx(2) STATX_BTIME, where the
-- filesystem keeps one) tells them apart: another birth time is another file
-- (docs/store.md, "Exactly once"). Rows of earlier versions have none (0: unknown).
ALTER TABLE sources ADD COLUMN born INTEGER NOT NULL DEFAULT 0;  -- µs; 0: unknown

PRAGMA user_version = 15;
