-- SPDX-License-Identifier: MIT
-- pgsift store, version 11: the marks that cover a stream's first bytes, found by their
-- hash. Applied by src/store/migrate.c in one transaction when PRAGMA user_version < 11.
--
-- A stream is looked up by its head (sources.head_len/head_hash, up to 4 KiB). A copy
-- SHORTER than the head a stream has now - logrotate's copytruncate of a log under 4 KiB
-- after pgsift read a few more of its lines - holds no head of any stored length, and was
-- taken as new and read again. A mark of a commit at an offset of 4 KiB or less hashes
-- all the bytes before it (mark_len = offset): the stream's first bytes. This index finds
-- the streams whose first `offset` bytes are the copy's (store_source_find(),
-- docs/store.md "Exactly once").
CREATE INDEX source_marks_prefix ON source_marks (offset, mark_hash) WHERE offset = mark_len;

PRAGMA user_version = 11;
