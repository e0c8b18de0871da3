-- SPDX-License-Identifier: MIT
-- pgsift store, version 8: the marks of a stream's recent commits. Applied by
-- src/store/migrate.c in one transaction when PRAGMA user_version < 8.
--
-- `sources` keeps one mark per stream: the bytes just before its offset. A file that is a
-- SHORTER copy of a stream (logrotate's copytruncate copied the log before pgsift read
-- its last lines; `gzip -k` or `cp` while the server went on writing) cannot have that
-- mark checked: the offset lies past its end. With the marks of earlier commits kept
-- here, store_source_find() checks the newest one the file still holds; when it matches,
-- every byte of the file was read as part of that stream and nothing of it is read again
-- (docs/store.md, "Exactly once"). At most SIFT_SOURCE_MARKS_KEPT rows per stream
-- (core/limits.h): the newest ones and older ones spread over the stream.
CREATE TABLE source_marks (
    source    INTEGER NOT NULL,  -- sources.id
    offset    INTEGER NOT NULL,  -- a committed offset of the stream (decoded bytes)
    mark_len  INTEGER NOT NULL,  -- bytes just before offset that are hashed
    mark_hash INTEGER NOT NULL,  -- XXH3-64 of those bytes
    PRIMARY KEY (source, offset)
) WITHOUT ROWID;

-- A store of an older version has each stream's newest mark only.
INSERT INTO source_marks (source, offset, mark_len, mark_hash)
    SELECT id, offset, mark_len, mark_hash FROM sources WHERE offset > 0;

PRAGMA user_version = 8;
