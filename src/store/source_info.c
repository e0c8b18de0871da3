/* SPDX-License-Identifier: MIT */
/*
 * source_info.c - what the store knows about one input stream, for `pgsift status`
 * (added for the tail daemon; kept apart from store.c's commit path).
 */
#include <stdio.h>
#include <string.h>

#include "store/store_int.h"

int store_source_info(struct store *s, int64_t id, struct store_source_info *out, struct diag *d)
{
    static const char sql[] = "SELECT name, offset, line, records, first_ingest, last_ingest"
                              " FROM sources WHERE id = ?1";
    sqlite3_stmt *st;

    memset(out, 0, sizeof(*out));
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return store_db_error(s, d, "cannot read source positions");
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *name = sqlite3_column_text(st, 0);
        snprintf(out->name, sizeof(out->name), "%s", name ? (const char *)name : "");
        out->offset = (uint64_t)sqlite3_column_int64(st, 1);
        out->line = (uint64_t)sqlite3_column_int64(st, 2);
        out->records = (uint64_t)sqlite3_column_int64(st, 3);
        out->first_ingest_us = sqlite3_column_int64(st, 4);
        out->last_ingest_us = sqlite3_column_int64(st, 5);
        out->found = true;
    } else if (rc != SQLITE_DONE) {
        store_db_error(s, d, "cannot read source positions");
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    return 0;
}

int store_late_records(struct store *s, const char *name, uint64_t *count, struct diag *d)
{
    static const char sql[] = "SELECT count FROM late_records WHERE source = ?1";
    sqlite3_stmt *st;

    *count = 0;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return store_db_error(s, d, "cannot read late records");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *count = (uint64_t)sqlite3_column_int64(st, 0);
    else if (rc != SQLITE_DONE)
        store_db_error(s, d, "cannot read late records");
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int store_path_watched_since(struct store *s, const char *path, int64_t now_us, int64_t *us,
                             struct diag *d)
{
    /* In `settings` (schema/009), named "tail.watched:" and the path. */
    static const char ins[] = "INSERT OR IGNORE INTO settings (name, value)"
                              " VALUES ('tail.watched:' || ?1, ?2)";
    static const char sel[] = "SELECT value FROM settings WHERE name = 'tail.watched:' || ?1";
    sqlite3_stmt *st;
    int rc;

    *us = now_us;
    if (sqlite3_prepare_v2(s->db, ins, -1, &st, NULL) != SQLITE_OK)
        return store_db_error(s, d, "cannot record a followed path");
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now_us);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return store_db_error(s, d, "cannot record a followed path");
    if (sqlite3_prepare_v2(s->db, sel, -1, &st, NULL) != SQLITE_OK)
        return store_db_error(s, d, "cannot read a followed path");
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *us = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_db_error(s, d, "cannot read a followed path");
    return 0;
}

int store_source_first_commit(struct store *s, const char *name, int64_t *us, struct diag *d)
{
    /* The stream named @name or one of its rotated siblings (name.1, name-2024..., name_x). */
    static const char sql[] = "SELECT min(first_ingest) FROM sources WHERE name = ?1"
                              " OR (length(name) > length(?1) AND substr(name, 1, length(?1)) = ?1"
                              " AND substr(name, length(?1) + 1, 1) IN ('.', '-', '_'))";
    sqlite3_stmt *st;

    *us = INT64_MIN;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return store_db_error(s, d, "cannot read source positions");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        *us = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_db_error(s, d, "cannot read source positions");
    return 0;
}
