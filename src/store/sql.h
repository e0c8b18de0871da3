/* SPDX-License-Identifier: MIT */
/*
 * sql - every SQL statement of the store, in one place (Fluent Bit's tail_sql.h).
 *
 * Each is prepared once, at store_open(), and values are always bound (?N), never
 * formatted into the text. The tables are described in schema/001_init.sql and
 * docs/store.md.
 */
#ifndef SIFT_STORE_SQL_H
#define SIFT_STORE_SQL_H

/* total_us + excluded.total_us for the non-negative INTEGER µs sums, saturating at
 * INT64_MAX like the batch does: SQLite turns an overflowing + into a REAL, which the
 * readers cannot sum again. */
#define SQL_SAT_TOTAL_US                                                       \
    " total_us = CASE WHEN excluded.total_us > 9223372036854775807 - total_us" \
    " THEN 9223372036854775807 ELSE total_us + excluded.total_us END"

/* The upsert tail shared by batch commits and roll-ups: sums add, extremes combine,
 * sketches merge (sketch_merge() is registered by sqlfn.c). */
#define SQL_AGG_MERGE                                                                    \
    " ON CONFLICT DO UPDATE SET calls = calls + excluded.calls," SQL_SAT_TOTAL_US ","    \
    " min_ms = coalesce(min(min_ms, excluded.min_ms), min_ms, excluded.min_ms),"         \
    " max_ms = coalesce(max(max_ms, excluded.max_ms), max_ms, excluded.max_ms),"         \
    " sumsq_ms = sumsq_ms + excluded.sumsq_ms, rows = rows + excluded.rows,"             \
    " rows_calls = rows_calls + excluded.rows_calls, errors = errors + excluded.errors," \
    " sketch = sketch_merge(sketch, excluded.sketch)"

/* Does the batch's sample replace the stored one? Its occurrence is earlier, or as early
 * with a lower key (schema/012_sample_keys.sql); a row without a key (written before
 * version 12) takes it. The values of the row before the update, as SQLite's upsert
 * gives them. */
#define SQL_QUERY_SAMPLE_NEW                                                    \
    "(excluded.sample IS NOT NULL AND (sample IS NULL OR sample_key IS NULL"    \
    " OR excluded.first_seen < first_seen OR (excluded.first_seen = first_seen" \
    " AND excluded.sample_key < sample_key)))"
#define SQL_ERROR_SAMPLE_NEW                                                \
    "(excluded.sample IS NOT NULL AND (sample IS NULL OR sample_at IS NULL" \
    " OR excluded.sample_at < sample_at OR (excluded.sample_at = sample_at" \
    " AND excluded.sample_key < sample_key)))"

#define SQL_AGG_COLS                                                                    \
    "bucket, width, database, username, fingerprint, phase, query_id, calls, total_us," \
    " min_ms, max_ms, sumsq_ms, rows, rows_calls, errors, sketch"

#define STORE_SQL(X)                                                                               \
    X(SQL_BEGIN, "BEGIN IMMEDIATE")                                                                \
    X(SQL_COMMIT, "COMMIT")                                                                        \
    X(SQL_ROLLBACK, "ROLLBACK")                                                                    \
    /* batch commit */                                                                             \
    X(SQL_AGG_UPSERT, "INSERT INTO query_stats (" SQL_AGG_COLS ") VALUES"                          \
                      " (?1, ?16, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"        \
                      " ?15)" SQL_AGG_MERGE)                                                       \
    X(SQL_CAT_UPSERT,                                                                              \
      "INSERT INTO queries (fingerprint, fingerprint_hi, query, sample, first_seen,"               \
      " last_seen, collisions, sample_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?9)"                \
      " ON CONFLICT (fingerprint) DO UPDATE SET"                                                   \
      " collisions = collisions + CASE WHEN fingerprint_hi <> 0 AND"                               \
      " excluded.fingerprint_hi <> 0 AND fingerprint_hi <> excluded.fingerprint_hi"                \
      " THEN ?8 ELSE excluded.collisions END,"                                                     \
      " query = CASE WHEN query = '' THEN excluded.query ELSE query END,"                          \
      " fingerprint_hi = CASE WHEN fingerprint_hi = 0 THEN excluded.fingerprint_hi"                \
      " ELSE fingerprint_hi END,"                                                                  \
      " sample = CASE WHEN " SQL_QUERY_SAMPLE_NEW " THEN excluded.sample ELSE sample END,"         \
      " sample_key = CASE WHEN " SQL_QUERY_SAMPLE_NEW " THEN excluded.sample_key"                  \
      " ELSE sample_key END,"                                                                      \
      " first_seen = min(first_seen, excluded.first_seen),"                                        \
      " last_seen = max(last_seen, excluded.last_seen)")                                           \
    X(SQL_QID_UPSERT,                                                                              \
      "INSERT INTO query_ids (fingerprint, query_id, calls, first_seen, last_seen, total_us)"      \
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO UPDATE SET"                                 \
      " calls = calls + excluded.calls," SQL_SAT_TOTAL_US ","                                      \
      " first_seen = min(first_seen, excluded.first_seen),"                                        \
      " last_seen = max(last_seen, excluded.last_seen)")                                           \
    X(SQL_ERR_UPSERT,                                                                              \
      "INSERT INTO error_stats (bucket, width, database, username, sqlstate, severity,"            \
      " message, count, sample, sample_at, sample_key)"                                            \
      " VALUES (?1, ?11, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"                                     \
      " ON CONFLICT DO UPDATE SET count = count + excluded.count,"                                 \
      " sample = CASE WHEN " SQL_ERROR_SAMPLE_NEW " THEN excluded.sample ELSE sample END,"         \
      " sample_at = CASE WHEN " SQL_ERROR_SAMPLE_NEW " THEN excluded.sample_at"                    \
      " ELSE sample_at END,"                                                                       \
      " sample_key = CASE WHEN " SQL_ERROR_SAMPLE_NEW " THEN excluded.sample_key"                  \
      " ELSE sample_key END")                                                                      \
    X(SQL_REC_UPSERT,                                                                              \
      "INSERT INTO record_stats (bucket, width, kind, severity, count)"                            \
      " VALUES (?1, ?5, ?2, ?3, ?4) ON CONFLICT DO UPDATE SET count = count + excluded.count")     \
    X(SQL_INP_UPSERT, "INSERT INTO input_stats (bucket, width, input, records, rejects)"           \
                      " VALUES (?1, ?5, ?2, ?3, ?4) ON CONFLICT DO UPDATE SET records = records +" \
                      " excluded.records, rejects = rejects + excluded.rejects")                   \
    X(SQL_EVB_INSERT, "INSERT INTO event_blocks (ts_min, ts_max, n, kinds, data)"                  \
                      " VALUES (?1, ?2, ?3, ?4, ?5)")                                              \
    /* record_ids.c: a record's own id, counted once (schema/014_record_ids.sql) */                \
    X(SQL_RECORD_ID_ADD, "INSERT INTO record_ids (id, minute) VALUES (?1, ?2)"                     \
                         " ON CONFLICT (id) DO NOTHING")                                           \
    X(SQL_EXPIRE_RECORD_IDS, "DELETE FROM record_ids WHERE minute < ?1")                           \
    X(SQL_REJ_UPSERT, "INSERT INTO rejects (source, reason, count, first_seen, last_seen)"         \
                      " VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT DO UPDATE SET"                     \
                      " count = count + excluded.count, last_seen = excluded.last_seen")           \
    X(SQL_RULES_CUTOFF, "SELECT max(last_eval) FROM alert_cursors")                                \
    X(SQL_LATE_UPSERT,                                                                             \
      "INSERT INTO late_records (source, count, oldest, cutoff, first_seen, last_seen)"            \
      " VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT DO UPDATE SET count = count + excluded.count," \
      " oldest = min(oldest, excluded.oldest), cutoff = excluded.cutoff,"                          \
      " last_seen = excluded.last_seen")                                                           \
    X(SQL_REJ_SAMPLE_INSERT,                                                                       \
      "INSERT INTO reject_samples (source, reason, line, offset, sample)"                          \
      " SELECT ?1, ?2, ?3, ?4, ?5 WHERE (SELECT count(*) FROM reject_samples"                      \
      " WHERE source = ?1 AND reason = ?2) < ?6")                                                  \
    /* source positions */                                                                         \
    X(SQL_SRC_GET_OFFSET, "SELECT offset FROM sources WHERE id = ?1")                              \
    X(SQL_SRC_CONCURRENT, "SELECT head_len, head_hash FROM sources WHERE id > ?1")                 \
    X(SQL_SRC_INSERT,                                                                              \
      "INSERT INTO sources (name, dev, inode, compressed, head_len, head_hash, offset,"            \
      " line, mark_len, mark_hash, checkpoint, records, first_ingest, last_ingest, pairing,"       \
      " newest_at, born) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13,"     \
      " ?14, ?16, ?17)")                                                                           \
    X(SQL_SRC_UPDATE,                                                                              \
      "UPDATE sources SET name = ?1, dev = ?2, inode = ?3, compressed = ?4, head_len = ?5,"        \
      " head_hash = ?6, offset = ?7, line = ?8, mark_len = ?9, mark_hash = ?10,"                   \
      " checkpoint = ?11, records = records + ?12, last_ingest = ?13, pairing = ?14,"              \
      " newest_at = max(newest_at, ?16), born = ?17 WHERE id = ?15")                               \
    X(SQL_SRC_HEAD_LENS, "SELECT DISTINCT head_len FROM sources WHERE head_len BETWEEN 0 AND ?1"   \
                         " ORDER BY head_len DESC")                                                \
    X(SQL_SRC_BY_HEAD,                                                                             \
      "SELECT id, offset, line, mark_len, mark_hash, checkpoint, dev, inode, name, pairing"        \
      " FROM sources WHERE head_len = ?1 AND head_hash = ?2 ORDER BY offset DESC, id DESC")        \
    X(SQL_SRC_BY_FILE, "SELECT born FROM sources WHERE dev = ?1 AND inode = ?2"                    \
                       " ORDER BY last_ingest DESC, id DESC LIMIT 1")                              \
    X(SQL_SRC_BY_ID,                                                                               \
      "SELECT id, offset, line, mark_len, mark_hash, checkpoint, dev, inode, name, pairing,"       \
      " head_len FROM sources WHERE id = ?1")                                                      \
    X(SQL_SRC_MAX_ID, "SELECT coalesce(max(id), 0) FROM sources")                                  \
    /* marks of a stream's earlier commits (schema/008_source_marks.sql) */                        \
    X(SQL_MARK_PUT, "INSERT OR REPLACE INTO source_marks (source, offset, mark_len, mark_hash)"    \
                    " VALUES (?1, ?2, ?3, ?4)")                                                    \
    X(SQL_MARK_CLEAR, "DELETE FROM source_marks WHERE source = ?1")                                \
    X(SQL_MARK_LIST, "SELECT offset FROM source_marks WHERE source = ?1 ORDER BY offset DESC")     \
    X(SQL_MARK_DEL, "DELETE FROM source_marks WHERE source = ?1 AND offset = ?2")                  \
    X(SQL_MARK_DEL_BELOW, "DELETE FROM source_marks WHERE source = ?1 AND offset < ?2")            \
    X(SQL_MARK_LAST, "SELECT offset, mark_len, mark_hash FROM source_marks"                        \
                     " WHERE source = ?1 AND offset <= ?2 ORDER BY offset DESC LIMIT 1")           \
    X(SQL_MARK_UP, "SELECT offset, mark_len, mark_hash FROM source_marks"                          \
                   " WHERE source = ?1 AND offset < ?2 ORDER BY offset")                           \
    /* marks of a stream's first bytes (mark_len = offset; schema/011_source_prefix_marks.sql) */  \
    /* (INDEXED BY: with offset = ?1 beside offset = mark_len, SQLite 3.40 scans the table) */     \
    X(SQL_MARK_PREFIX_LENS, "SELECT DISTINCT offset FROM source_marks INDEXED BY"                  \
                            " source_marks_prefix WHERE offset = mark_len"                         \
                            " AND offset BETWEEN 1 AND ?1 ORDER BY offset DESC")                   \
    X(SQL_MARK_BY_PREFIX, "SELECT source FROM source_marks INDEXED BY source_marks_prefix"         \
                          " WHERE offset = mark_len AND offset = ?1 AND mark_hash = ?2")           \
    /* roll-up: ?1 width from, ?2 width to, ?3 cut-off (seconds) */                                \
    X(SQL_ROLL_AGG, "INSERT INTO query_stats (" SQL_AGG_COLS ")"                                   \
                    " SELECT bucket - bucket % ?2, ?2, database, username, fingerprint,"           \
                    " phase, query_id, sum(calls), CAST(total(total_us) AS INTEGER), min(min_ms)," \
                    " max(max_ms), sum(sumsq_ms), sum(rows), sum(rows_calls), sum(errors),"        \
                    " sketch_merge_agg(sketch) FROM query_stats"                                   \
                    " WHERE width = ?1 AND bucket < ?3"                                            \
                    " GROUP BY 1, database, username, fingerprint, phase, query_id" SQL_AGG_MERGE) \
    X(SQL_ROLL_AGG_DEL, "DELETE FROM query_stats WHERE width = ?1 AND bucket < ?3")                \
    /* (the sample: the earliest of the minutes', as a commit keeps it; then the upsert's) */      \
    X(SQL_ROLL_ERR,                                                                                \
      "INSERT INTO error_stats (bucket, width, database, username, sqlstate, severity,"            \
      " message, count, sample, sample_at, sample_key) SELECT b, ?2, database, username,"          \
      " sqlstate, severity, message, n, sample, sample_at, sample_key FROM"                        \
      " (SELECT bucket - bucket % ?2 AS b, database, username, sqlstate, severity, message,"       \
      " sum(count) OVER g AS n, sample, sample_at, sample_key, row_number() OVER (g ORDER BY"      \
      " sample IS NULL, sample_at IS NULL, sample_at, sample_key IS NULL, sample_key) AS r"        \
      " FROM error_stats WHERE width = ?1 AND bucket < ?3 WINDOW g AS (PARTITION BY"               \
      " bucket - bucket % ?2, database, username, sqlstate, severity, message)) WHERE r = 1"       \
      " ON CONFLICT DO UPDATE SET count = count + excluded.count,"                                 \
      " sample = CASE WHEN " SQL_ERROR_SAMPLE_NEW " THEN excluded.sample ELSE sample END,"         \
      " sample_at = CASE WHEN " SQL_ERROR_SAMPLE_NEW " THEN excluded.sample_at"                    \
      " ELSE sample_at END,"                                                                       \
      " sample_key = CASE WHEN " SQL_ERROR_SAMPLE_NEW " THEN excluded.sample_key"                  \
      " ELSE sample_key END")                                                                      \
    X(SQL_ROLL_ERR_DEL, "DELETE FROM error_stats WHERE width = ?1 AND bucket < ?3")                \
    X(SQL_ROLL_REC, "INSERT INTO record_stats (bucket, width, kind, severity, count)"              \
                    " SELECT bucket - bucket % ?2, ?2, kind, severity, sum(count)"                 \
                    " FROM record_stats WHERE width = ?1 AND bucket < ?3"                          \
                    " GROUP BY 1, kind, severity"                                                  \
                    " ON CONFLICT DO UPDATE SET count = count + excluded.count")                   \
    X(SQL_ROLL_REC_DEL, "DELETE FROM record_stats WHERE width = ?1 AND bucket < ?3")               \
    X(SQL_ROLL_INP, "INSERT INTO input_stats (bucket, width, input, records, rejects)"             \
                    " SELECT bucket - bucket % ?2, ?2, input, sum(records), sum(rejects)"          \
                    " FROM input_stats WHERE width = ?1 AND bucket < ?3 GROUP BY 1, input"         \
                    " ON CONFLICT DO UPDATE SET records = records + excluded.records,"             \
                    " rejects = rejects + excluded.rejects")                                       \
    X(SQL_ROLL_INP_DEL, "DELETE FROM input_stats WHERE width = ?1 AND bucket < ?3")                \
    /* expiry: ?1 cut-off */                                                                       \
    X(SQL_EXPIRE_AGG, "DELETE FROM query_stats WHERE width IN (60, 3600, 86400) AND bucket < ?1")  \
    X(SQL_EXPIRE_ERR, "DELETE FROM error_stats WHERE width IN (60, 3600, 86400) AND bucket < ?1")  \
    X(SQL_EXPIRE_REC, "DELETE FROM record_stats WHERE width IN (60, 3600, 86400) AND bucket < ?1") \
    X(SQL_EXPIRE_INP, "DELETE FROM input_stats WHERE width IN (60, 3600, 86400) AND bucket < ?1")  \
    X(SQL_EXPIRE_EVB_COUNT, "SELECT coalesce(sum(n), 0) FROM event_blocks WHERE ts_max < ?1")      \
    X(SQL_EXPIRE_EVB_DEL, "DELETE FROM event_blocks WHERE ts_max < ?1")                            \
    X(SQL_EXPIRE_EVB_CUT, "SELECT id, ts_min, ts_max, n, data FROM event_blocks"                   \
                          " WHERE ts_min < ?1 AND ts_max >= ?1")                                   \
    X(SQL_EVB_UPDATE, "UPDATE event_blocks SET ts_min = ?2, ts_max = ?3, n = ?4, kinds = ?5,"      \
                      " data = ?6 WHERE id = ?1")                                                  \
    X(SQL_EXPIRE_QUERIES, "DELETE FROM queries WHERE last_seen < ?1 AND NOT EXISTS"                \
                          " (SELECT 1 FROM query_stats q WHERE q.fingerprint ="                    \
                          " queries.fingerprint)")                                                 \
    X(SQL_EXPIRE_QIDS, "DELETE FROM query_ids WHERE last_seen < ?1")                               \
    /* ?1: older than all the store keeps (store_rollup()): its data is gone */                    \
    X(SQL_EXPIRE_SOURCES, "DELETE FROM sources WHERE max(last_ingest, newest_at) < ?1")            \
    X(SQL_EXPIRE_MARKS, "DELETE FROM source_marks WHERE source NOT IN (SELECT id FROM sources)")   \
    X(SQL_EXPIRE_REJECTS, "DELETE FROM rejects WHERE last_seen < ?1")                              \
    X(SQL_EXPIRE_REJ_SAMPLES, "DELETE FROM reject_samples WHERE NOT EXISTS (SELECT 1 FROM"         \
                              " rejects r WHERE r.source = reject_samples.source AND"              \
                              " r.reason = reject_samples.reason)")                                \
    /* pgsift top: ?1 ?2 bucket range (seconds), ?3 database, ?4 user; rows split by               \
     * database when ?5, by user when ?6 (rules grouping by them; NULL: not) */                    \
    X(SQL_TOP_ROWS,                                                                                \
      "SELECT fingerprint, database, username, query_id, calls, total_us, min_ms, max_ms,"         \
      " sumsq_ms, errors, sketch, bucket, width FROM query_stats WHERE phase = 'call'"             \
      " AND width IN (60, 3600, 86400) AND bucket >= ?1 AND bucket < ?2"                           \
      " AND (?3 IS NULL OR database = ?3) AND (?4 IS NULL OR username = ?4)"                       \
      " ORDER BY fingerprint, CASE WHEN ?5 THEN database END, CASE WHEN ?6 THEN username END")     \
    X(SQL_TOP_CATALOGUE,                                                                           \
      "SELECT query, first_seen, last_seen FROM queries WHERE fingerprint = ?1")                   \
    /* pgsift events: blocks overlapping [?1, ?2) holding a kind of the mask ?3 (0: any),          \
     * newest first (store/events.c filters their events) */                                       \
    X(SQL_EVB_WINDOW, "SELECT id, ts_min, ts_max, n, data FROM event_blocks"                       \
                      " WHERE ts_max >= ?1 AND ts_min < ?2 AND (?3 = 0 OR (kinds & ?3) <> 0)"      \
                      " ORDER BY ts_max DESC, id DESC")                                            \
    /* reports: ?1 ?2 bucket range (seconds) */                                                    \
    X(SQL_TOTAL_RECORDS, "SELECT coalesce(sum(count), 0) FROM record_stats"                        \
                         " WHERE width IN (60, 3600, 86400) AND bucket >= ?1 AND bucket < ?2")     \
    X(SQL_TOTAL_CALLS, "SELECT coalesce(sum(calls), 0), total(total_us)"                           \
                       " FROM query_stats WHERE phase = 'call' AND"                                \
                       " width IN (60, 3600, 86400) AND bucket >= ?1"                              \
                       " AND bucket < ?2")                                                         \
    X(SQL_TOTAL_ERRORS, "SELECT coalesce(sum(count), 0) FROM error_stats"                          \
                        " WHERE width IN (60, 3600, 86400) AND bucket >= ?1 AND bucket < ?2")      \
    X(SQL_ERRORS,                                                                                  \
      "SELECT sqlstate, severity, message, sum(count), max(sample)"                                \
      " FROM error_stats WHERE width IN (60, 3600, 86400) AND bucket >= ?1 AND bucket < ?2"        \
      " GROUP BY sqlstate, severity, message ORDER BY 4 DESC, 1, 3")                               \
    /* rejects: ?1 ?2 µs range of last_seen (ingest clock) */                                     \
    X(SQL_REJECTS, "SELECT r.source, r.reason, r.count, r.first_seen, r.last_seen,"                \
                   " (SELECT s.sample FROM reject_samples s WHERE s.source = r.source"             \
                   " AND s.reason = r.reason ORDER BY s.id LIMIT 1),"                              \
                   " (SELECT s.line FROM reject_samples s WHERE s.source = r.source"               \
                   " AND s.reason = r.reason ORDER BY s.id LIMIT 1)"                               \
                   " FROM rejects r WHERE r.last_seen >= ?1 AND r.last_seen < ?2"                  \
                   " ORDER BY r.count DESC, r.source, r.reason")                                   \
    /* pgsift report (report_read.c): a row of width ?1 holding the instant ?2 (seconds) but       \
     * starting before it */                                                                       \
    X(SQL_REPORT_STRADDLE,                                                                         \
      "SELECT EXISTS (SELECT 1 FROM record_stats WHERE width = ?1 AND bucket > ?2 - ?1 AND"        \
      " bucket < ?2) OR EXISTS (SELECT 1 FROM query_stats WHERE width = ?1 AND bucket > ?2 - ?1"   \
      " AND bucket < ?2)")                                                                         \
    /* pgsift report (report_read.c): ?1 ?2 bucket range (seconds) */                              \
    X(SQL_REPORT_SERIES,                                                                           \
      "SELECT bucket, sum(calls), total(total_us), sketch_merge_agg(sketch) FROM query_stats"      \
      " WHERE phase = 'call' AND bucket >= ?1 AND bucket < ?2 AND (?3 IS NULL OR"                  \
      " database = ?3) AND (?4 IS NULL OR username = ?4) GROUP BY bucket ORDER BY bucket")         \
    X(SQL_REPORT_SERIES_FP,                                                                        \
      "SELECT bucket, sum(calls), total(total_us), sketch_merge_agg(sketch) FROM query_stats"      \
      " WHERE fingerprint = ?5 AND bucket >= ?1 AND bucket < ?2 AND phase = 'call' AND"            \
      " (?3 IS NULL OR database = ?3) AND (?4 IS NULL OR username = ?4)"                           \
      " GROUP BY bucket ORDER BY bucket")                                                          \
    X(SQL_REPORT_SHAPES,                                                                           \
      "SELECT fingerprint, calls, total_us, min_ms, max_ms, errors, sketch, sumsq_ms"              \
      " FROM query_stats WHERE phase = 'call' AND bucket >= ?1 AND bucket < ?2")                   \
    X(SQL_REPORT_SLOWEST,                                                                          \
      "SELECT s.bucket, s.width, s.fingerprint, s.database, s.username, s.max_ms,"                 \
      " substr(coalesce(q.query, ''), 1, 4096) FROM query_stats s"                                 \
      " LEFT JOIN queries q ON q.fingerprint = s.fingerprint"                                      \
      " WHERE s.phase = 'call' AND s.bucket >= ?1 AND s.bucket < ?2 AND s.max_ms IS NOT NULL"      \
      " ORDER BY s.max_ms DESC, s.bucket, s.fingerprint, s.database, s.username LIMIT ?3")         \
    X(SQL_REPORT_TIME_BY,                                                                          \
      "SELECT database, username, sum(calls), total(total_us) FROM query_stats"                    \
      " WHERE phase = 'call' AND bucket >= ?1 AND bucket < ?2 GROUP BY database, username"         \
      " HAVING sum(calls) > 0 ORDER BY total(total_us) DESC, database, username LIMIT ?3")         \
    X(SQL_REPORT_PHASES,                                                                           \
      "SELECT phase, sum(calls), total(total_us) FROM query_stats WHERE phase IN ('parse', "       \
      "'bind')"                                                                                    \
      " AND bucket >= ?1 AND bucket < ?2 GROUP BY phase HAVING sum(calls) > 0 ORDER BY phase"      \
      " DESC LIMIT ?3")                                                                            \
    X(SQL_REPORT_CATALOGUE,                                                                        \
      "SELECT fingerprint, first_seen, last_seen, substr(query, 1, 64) FROM queries")              \
    X(SQL_REPORT_SHAPE_ROWS,                                                                       \
      "SELECT database, username, query_id, sum(calls), total(total_us) FROM query_stats"          \
      " WHERE fingerprint = ?1"                                                                    \
      " AND bucket >= ?2 AND bucket < ?3 AND phase = 'call'"                                       \
      " GROUP BY database, username, query_id")                                                    \
    X(SQL_REPORT_SHAPE_TEXT, "SELECT query, sample FROM queries WHERE fingerprint = ?1")           \
    X(SQL_REPORT_SHAPE_PLANS, "SELECT coalesce(sum(calls), 0) FROM query_stats WHERE"              \
                              " fingerprint = ?1 AND bucket >= ?2 AND bucket < ?3"                 \
                              " AND phase = 'plan'")                                               \
    X(SQL_REPORT_RECORDS, "SELECT bucket, kind, severity, sum(count) FROM record_stats"            \
                          " WHERE bucket >= ?1 AND bucket < ?2 GROUP BY bucket, kind, severity")

#define STORE_SQL_ENUM(name, text) name,
enum store_sql { STORE_SQL(STORE_SQL_ENUM) SQL_COUNT };
#undef STORE_SQL_ENUM

#endif
