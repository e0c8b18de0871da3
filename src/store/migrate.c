/* SPDX-License-Identifier: MIT */
/*
 * Schema migrations: schema/NNN_*.sql, embedded in the binary, applied in order, all in
 * one transaction, when NNN is above PRAGMA user_version. Each file ends by setting
 * user_version itself, so no number is ever formatted into SQL here.
 */
#include <string.h>

#include "core/embedded.h"
#include "store/store_int.h"

static int schema_number(const char *path)
{
    const char *p = path + strlen("schema/");
    int n = 0, digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 6) {
        n = n * 10 + (*p++ - '0');
        digits++;
    }
    return digits == 3 && *p == '_' ? n : -1;
}

static bool is_schema(const char *path)
{
    size_t n = strlen(path);
    return !strncmp(path, "schema/", 7) && n > 11 && !strcmp(path + n - 4, ".sql");
}

static int user_version(sqlite3 *db, const char *path, int *out, struct diag *d)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return diag_set(d, DIAG_DB, "cannot read store '%s': %s", path, sqlite3_errmsg(db));
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        diag_set(d, DIAG_DB, "cannot read store '%s': %s", path, sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return -1;
    }
    *out = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return 0;
}

static int fail_apply(sqlite3 *db, const char *path, const char *file, char *err, struct diag *d)
{
    diag_set(d, DIAG_DB, "cannot apply %s to store '%s': %s", file, path,
             err ? err : sqlite3_errmsg(db));
    sqlite3_free(err);
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

/* One file's SQL and its data moves, inside the caller's transaction; the file ends by
 * setting user_version to its number. */
static int apply(sqlite3 *db, const char *path, const struct embedded_file *f, int n,
                 struct diag *d)
{
    char *err = NULL;
    int now;

    if (sqlite3_exec(db, f->data, NULL, NULL, &err) != SQLITE_OK)
        return fail_apply(db, path, f->path, err, d);
    /* 006 made event_blocks: the old events rows move there (C: the encoding) */
    if (n == 6 && evblocks_migrate(db, d) < 0)
        return fail_apply(db, path, f->path, NULL, d); /* d says why */
    /* 007 made plan_call_blocks: the old plan_calls rows move there */
    if (n == 7 && plan_calls_migrate(db, d) < 0)
        return fail_apply(db, path, f->path, NULL, d);
    if (user_version(db, path, &now, d) < 0)
        return fail_apply(db, path, f->path, NULL, d);
    if (now != n)
        BUG("%s does not end with PRAGMA user_version = %d", f->path, n);
    return 0;
}

static int latest_version(void)
{
    int latest = 0;
    for (const struct embedded_file *f = embedded_files; f->path; f++) {
        if (!is_schema(f->path))
            continue;
        int n = schema_number(f->path);
        if (n < 0)
            BUG("embedded schema file '%s' is not named schema/NNN_name.sql", f->path);
        if (n > latest)
            latest = n;
    }
    return latest;
}

/* Objects in the database (tables, indexes...): an unversioned file with any is somebody
 * else's. */
static int object_count(sqlite3 *db, const char *path, int *out, struct diag *d)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_schema", -1, &st, NULL) != SQLITE_OK)
        return diag_set(d, DIAG_DB, "cannot read store '%s': %s", path, sqlite3_errmsg(db));
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return diag_set(d, DIAG_DB, "cannot read store '%s': %s", path, sqlite3_errmsg(db));
    return 0;
}

/* Refuse a newer schema and somebody else's database, from the version and the objects
 * seen together (in the caller's transaction, or one snapshot of them). */
static int refuse(sqlite3 *db, const char *path, int have, int latest, struct diag *d)
{
    if (have > latest)
        return diag_set(d, DIAG_DB,
                        "store '%s' has schema version %d, newer than this pgsift knows (%d): "
                        "upgrade pgsift",
                        path, have, latest);
    if (have == 0) {
        /* Never write our tables into somebody else's database. */
        int objects;
        if (object_count(db, path, &objects, d) < 0)
            return -1;
        if (objects != 0)
            return diag_set(d, DIAG_DB, "'%s' is an SQLite database but not a pgsift store", path);
    }
    return 0;
}

int migrate_check(sqlite3 *db, const char *path, struct diag *d)
{
    int have;
    /* One read transaction: a pgsift creating the store commits its whole schema with
     * its version, never one without the other. */
    char *err = NULL;
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, &err) != SQLITE_OK) {
        diag_set(d, DIAG_DB, "cannot read store '%s': %s", path, err ? err : sqlite3_errmsg(db));
        sqlite3_free(err);
        return -1;
    }
    int rc =
        user_version(db, path, &have, d) < 0 ? -1 : refuse(db, path, have, latest_version(), d);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    return rc;
}

int migrate_run(sqlite3 *db, const char *path, bool read_only, struct diag *d)
{
    int have, latest = latest_version();

    if (user_version(db, path, &have, d) < 0)
        return -1;
    if (have == latest)
        return 0;
    if (read_only) {
        if (refuse(db, path, have, latest, d) < 0)
            return -1;
        if (have == 0)
            return diag_set(d, DIAG_DB, "'%s' is not a pgsift store (run 'pgsift ingest' first)",
                            path);
        return diag_set(d, DIAG_DB,
                        "store '%s' has schema version %d and this pgsift needs %d: run "
                        "'pgsift ingest' once to upgrade it",
                        path, have, latest);
    }
    /* All the files in one transaction: an upgrade is whole or not at all, and a new store
     * costs one commit, not one per file. The version (and whether the file is ours) is
     * decided inside it: another process may have created or migrated the store
     * meanwhile. embedded_files is sorted by path, so by number. */
    char *err = NULL;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &err) != SQLITE_OK)
        return fail_apply(db, path, "the schema", err, d);
    if (user_version(db, path, &have, d) < 0)
        return fail_apply(db, path, "the schema", NULL, d);
    if (refuse(db, path, have, latest, d) < 0) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    for (const struct embedded_file *f = embedded_files; f->path; f++) {
        if (!is_schema(f->path))
            continue;
        int n = schema_number(f->path);
        if (n > have && apply(db, path, f, n, d) < 0)
            return -1;
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, &err) != SQLITE_OK)
        return fail_apply(db, path, "the schema", err, d);
    return 0;
}

int store_schema_check(struct sqlite3 *db, const char *path, struct diag *d)
{
    return migrate_check(db, path, d);
}

int store_schema_upgrade(struct sqlite3 *db, const char *path, struct diag *d)
{
    return migrate_run(db, path, false, d);
}
