/* SPDX-License-Identifier: MIT */
/*
 * alertdb - the SQLite handle of the alert tables: open (0600, WAL), migrations from the
 * embedded schema/NNN_*.sql files, cached statements, and alert instance rows.
 *
 * The alert tables live in the store's database file; this is a second connection to
 * it, so alert transactions never hold the ingest's write lock longer than a state
 * change takes (busy timeout: 10 s).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/xalloc.h"
#include "rules/alertdb_int.h"
#include "store/store.h"

int adb_exec(struct alertdb *db, const char *sql, struct diag *d)
{
    char *err = NULL;
    if (sqlite3_exec(db->db, sql, NULL, NULL, &err) != SQLITE_OK) {
        diag_set(d, DIAG_DB, "alert database '%s': %s", db->path, err ? err : "error");
        sqlite3_free(err);
        return -1;
    }
    return 0;
}

sqlite3_stmt *adb_stmt(struct alertdb *db, const char *sql, struct diag *d)
{
    for (size_t i = 0; i < db->ncache; i++) {
        if (db->cache[i].sql == sql) {
            sqlite3_reset(db->cache[i].st);
            sqlite3_clear_bindings(db->cache[i].st);
            return db->cache[i].st;
        }
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->db, sql, -1, &st, NULL) != SQLITE_OK) {
        diag_set(d, DIAG_DB, "alert database '%s': %s", db->path, sqlite3_errmsg(db->db));
        return NULL;
    }
    if (db->ncache == ARRAY_SIZE(db->cache))
        BUG("alertdb statement cache full");
    db->cache[db->ncache].sql = sql;
    db->cache[db->ncache].st = st;
    db->ncache++;
    return st;
}

int adb_row(struct alertdb *db, sqlite3_stmt *st, struct diag *d)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return diag_set(d, DIAG_DB, "alert database '%s': %s", db->path, sqlite3_errmsg(db->db));
}

int adb_done(struct alertdb *db, sqlite3_stmt *st, struct diag *d)
{
    int rc = adb_row(db, st, d);
    sqlite3_reset(st);
    return rc < 0 ? -1 : 0;
}

int adb_begin(struct alertdb *db, struct diag *d)
{
    return adb_exec(db, "BEGIN IMMEDIATE", d);
}

int adb_commit(struct alertdb *db, struct diag *d)
{
    return adb_exec(db, "COMMIT", d);
}

void adb_rollback(struct alertdb *db)
{
    if (!sqlite3_get_autocommit(db->db))
        sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
}

void adb_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

const char *adb_col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

int alertdb_open(struct alertdb **out, const char *path, bool create, struct diag *d)
{
    struct alertdb *db = xcalloc(1, sizeof(*db));
    bool mem = !path || !*path || !strcmp(path, ":memory:");

    db->path = xstrdup(mem ? ":memory:" : path);
    if (!mem) {
        /* Create a missing file 0600 before SQLite does (SQLite would use the umask).
         * Never open and close an existing one: closing any descriptor of a file drops
         * every POSIX lock this process holds on it, including those of a store
         * connection already open in this process (the tail daemon's), after which
         * another process may checkpoint and delete the WAL under it. */
        struct stat st;
        if (stat(path, &st) < 0) {
            int e = errno, fd = -1;
            if (e == ENOENT && create) {
                fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                e = fd < 0 && errno != EEXIST ? errno : 0;
            }
            if (e || (fd < 0 && !create)) {
                free(db->path);
                free(db);
                if (e == ENOENT)
                    return diag_set(d, DIAG_IO,
                                    "no store at '%s' (give --db, or evaluate rules first)", path);
                return diag_errno(d, DIAG_IO, e, "cannot open store '%s'", path);
            }
            if (fd >= 0)
                close(fd); /* it did not exist: nobody had it open */
        } else if (!S_ISREG(st.st_mode)) {
            free(db->path);
            free(db);
            if (S_ISDIR(st.st_mode))
                return diag_errno(d, DIAG_IO, EISDIR, "cannot open store '%s'", path);
            return diag_set(d, DIAG_IO, "cannot open store '%s': not a regular file", path);
        }
    }
    if (sqlite3_open_v2(db->path, &db->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        diag_set(d, DIAG_DB, "cannot open store '%s': %s", db->path,
                 db->db ? sqlite3_errmsg(db->db) : "out of memory");
        alertdb_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db->db, 10000);
    /* The store's own checks and upgrades (store_open()'s): somebody else's SQLite file
     * or a newer pgsift's store is refused before anything is written to it. */
    if (store_schema_check(db->db, db->path, d) < 0 ||
        (!mem && store_wal_mode(db->db, db->path, d) < 0) ||
        adb_exec(db, "PRAGMA synchronous = NORMAL", d) < 0 ||
        store_schema_upgrade(db->db, db->path, d) < 0) {
        alertdb_close(db);
        return -1;
    }
    *out = db;
    return 0;
}

void alertdb_close(struct alertdb *db)
{
    if (!db)
        return;
    for (size_t i = 0; i < db->ncache; i++)
        sqlite3_finalize(db->cache[i].st);
    sqlite3_close(db->db);
    free(db->path);
    free(db);
}

/* ---- instances ---- */

void alert_row_release(struct alert_row *r)
{
    json_decref(r->labels);
    json_decref(r->annotations);
    free((char *)r->rule);
    memset(r, 0, sizeof(*r));
}

static const char SQL_LOAD[] =
    "SELECT rule, labels, severity, state, active_since, fired_at, last_true, resolved_at, "
    "last_eval, episode, value, annotations, last_notified FROM alert_instances "
    "WHERE instance_key = ?";

int alertdb_instance_load(struct alertdb *db, const char *key, struct alert_row *out,
                          struct diag *d)
{
    sqlite3_stmt *st = adb_stmt(db, SQL_LOAD, d);
    if (!st)
        return -1;
    memset(out, 0, sizeof(*out));
    snprintf(out->key, sizeof(out->key), "%s", key);
    adb_bind_text(st, 1, key);
    int rc = adb_row(db, st, d);
    if (rc <= 0) {
        sqlite3_reset(st);
        return rc;
    }
    out->exists = true;
    out->rule = xstrdup(adb_col_text(st, 0));
    out->labels = json_loads(adb_col_text(st, 1), 0, NULL);
    alert_severity_from_name(span_cstr(adb_col_text(st, 2)), &out->severity);
    alert_state_from_name(span_cstr(adb_col_text(st, 3)), &out->st.state);
    out->st.active_since = sqlite3_column_int64(st, 4);
    out->st.fired_at = sqlite3_column_int64(st, 5);
    out->st.last_true = sqlite3_column_int64(st, 6);
    out->st.resolved_at = sqlite3_column_int64(st, 7);
    out->st.last_eval = sqlite3_column_int64(st, 8);
    out->st.episode = sqlite3_column_int64(st, 9);
    out->st.value = sqlite3_column_double(st, 10);
    out->annotations = json_loads(adb_col_text(st, 11), 0, NULL);
    out->last_notified = sqlite3_column_int64(st, 12);
    if (!out->labels)
        out->labels = json_object();
    if (!out->annotations)
        out->annotations = json_object();
    sqlite3_reset(st);
    return 0;
}

static const char SQL_SAVE[] =
    "INSERT INTO alert_instances (instance_key, rule, labels, severity, state, active_since, "
    "fired_at, last_true, resolved_at, last_eval, episode, value, annotations, last_notified, "
    "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) "
    "ON CONFLICT (instance_key) DO UPDATE SET severity = ?4, state = ?5, active_since = ?6, "
    "fired_at = ?7, last_true = ?8, resolved_at = ?9, last_eval = ?10, episode = ?11, "
    "value = ?12, annotations = ?13, last_notified = ?14, updated_at = ?15";

int alertdb_instance_save(struct alertdb *db, const struct alert_row *r, int64_t now_us,
                          struct diag *d)
{
    sqlite3_stmt *st = adb_stmt(db, SQL_SAVE, d);
    if (!st)
        return -1;
    char *labels = json_dumps(r->labels, JSON_COMPACT | JSON_SORT_KEYS);
    char *ann = json_dumps(r->annotations, JSON_COMPACT);
    adb_bind_text(st, 1, r->key);
    adb_bind_text(st, 2, r->rule);
    adb_bind_text(st, 3, labels ? labels : "{}");
    adb_bind_text(st, 4, alert_severity_name(r->severity));
    adb_bind_text(st, 5, alert_state_name(r->st.state));
    sqlite3_bind_int64(st, 6, r->st.active_since);
    sqlite3_bind_int64(st, 7, r->st.fired_at);
    sqlite3_bind_int64(st, 8, r->st.last_true);
    sqlite3_bind_int64(st, 9, r->st.resolved_at);
    sqlite3_bind_int64(st, 10, r->st.last_eval);
    sqlite3_bind_int64(st, 11, r->st.episode);
    sqlite3_bind_double(st, 12, r->st.value);
    adb_bind_text(st, 13, ann ? ann : "{}");
    sqlite3_bind_int64(st, 14, r->last_notified);
    sqlite3_bind_int64(st, 15, now_us);
    free(labels);
    free(ann);
    return adb_done(db, st, d);
}

static const char SQL_HISTORY[] =
    "INSERT INTO alert_history (at, instance_key, rule, transition, value, recorded_at) "
    "VALUES (?, ?, ?, ?, ?, ?)";

int alertdb_history_add(struct alertdb *db, int64_t at, const struct alert_row *r,
                        enum alert_transition t, int64_t now_us, struct diag *d)
{
    sqlite3_stmt *st = adb_stmt(db, SQL_HISTORY, d);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, at);
    adb_bind_text(st, 2, r->key);
    adb_bind_text(st, 3, r->rule);
    adb_bind_text(st, 4, alert_transition_name(t));
    sqlite3_bind_double(st, 5, r->st.value);
    sqlite3_bind_int64(st, 6, now_us);
    return adb_done(db, st, d);
}
