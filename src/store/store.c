/* SPDX-License-Identifier: MIT */
/*
 * store.c - open/close, the batch commit (one transaction: aggregates, catalogue,
 * events, rejects and the source position), and finding where a stream stopped.
 *
 * synchronous = NORMAL in WAL mode: a commit is atomic and survives the process being
 * killed at any point (the WAL is written before COMMIT returns); only an OS crash or
 * power loss can lose the last commits, and then it loses data and offsets together, so
 * the next run reads those bytes again. FULL would fsync every batch for no gain in
 * exactly-once-ness.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "core/clock.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/path.h"
#include "core/xalloc.h"
#include "store/evblock.h"
#include "store/store_int.h"

#define STORE_STR(name, text) text,
static const char *const sql_text[SQL_COUNT] = { STORE_SQL(STORE_STR) };
#undef STORE_STR

sqlite3 *store_sqlite(struct store *s)
{
    return s->db;
}

unsigned long store_checkpoints(struct store *s)
{
    unsigned long done, forced;
    ckpt_counts(s->ckpt, &done, &forced);
    return done;
}

unsigned long store_checkpoints_forced(struct store *s)
{
    unsigned long done, forced;
    ckpt_counts(s->ckpt, &done, &forced);
    return forced;
}

int store_db_error(struct store *s, struct diag *d, const char *what)
{
    return diag_set(d, DIAG_DB, "%s in store '%s': %s", what, s->path, sqlite3_errmsg(s->db));
}

sqlite3_stmt *store_stmt(struct store *s, enum store_sql which)
{
    sqlite3_stmt *st = s->stmt[which];
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

/* Step a statement that returns no row; reset it. */
static int step_done(struct store *s, sqlite3_stmt *st, const char *what, struct diag *d)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        store_db_error(s, d, what);
        sqlite3_reset(st);
        return -1;
    }
    sqlite3_reset(st);
    return 0;
}

int store_exec(struct store *s, enum store_sql which, struct diag *d)
{
    return step_done(s, store_stmt(s, which), sql_text[which], d);
}

static void bind_span(sqlite3_stmt *st, int i, struct span sp)
{
    if (sp.p)
        sqlite3_bind_text64(st, i, sp.p, sp.len, SQLITE_STATIC, SQLITE_UTF8);
    else
        sqlite3_bind_null(st, i);
}

/* ---- open / close ---- */

/* Returns 1 when the file was created here (empty), 0 when it was there, or -1. */
static int create_file(const char *path, struct diag *d)
{
    /* Created here, not by SQLite, so that the mode is 0600 whatever the umask: SQLite
     * then gives its -wal and -shm files the mode of the database file. */
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        if (fchmod(fd, 0600) < 0) {
            int e = errno;
            close(fd);
            return diag_errno(d, DIAG_IO, e, "cannot set the mode of store '%s'", path);
        }
        close(fd);
        return 1;
    }
    if (errno != EEXIST)
        return diag_errno(d, DIAG_IO, errno, "cannot create store '%s'", path);
    /* A device or FIFO is no store (--db /dev/null): refused before SQLite opens it. */
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
        return diag_set(d, DIAG_IO, "cannot open store '%s': not a regular file", path);
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return diag_errno(d, DIAG_IO, errno, "cannot open store '%s'", path);
    /* An empty file (made by `touch` or an installer) becomes a store here: 0600 as one
     * created here, whatever mode it had. A store that has data keeps the mode its owner
     * gave it. */
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0 && (st.st_mode & 077)) {
        if (fchmod(fd, 0600) < 0) {
            int e = errno;
            close(fd);
            return diag_errno(d, DIAG_IO, e, "cannot set the mode of store '%s'", path);
        }
        log_note("store '%s' was an empty file of mode %04o: now 0600 (a store holds "
                 "tenant data)",
                 path, (unsigned)(st.st_mode & 07777));
    }
    close(fd);
    return 0;
}

/* The -wal and -shm files inherit the database's mode; make sure of it. */
static void tighten_side_files(const char *path)
{
    static const char *const suffixes[] = { "-wal", "-shm", "-journal" };
    for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++) {
        char buf[4096];
        struct stat st;
        if (snprintf(buf, sizeof(buf), "%s%s", path, suffixes[i]) >= (int)sizeof(buf))
            continue;
        if (stat(buf, &st) == 0 && (st.st_mode & 077) && chmod(buf, 0600) < 0)
            log_warn("cannot restrict the mode of '%s': %s", buf, strerror(errno));
    }
}

static int pragma(struct store *s, const char *sql, struct diag *d)
{
    char *err = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK) {
        diag_set(d, DIAG_DB, "cannot open store '%s': %s", s->path,
                 err ? err : sqlite3_errmsg(s->db));
        sqlite3_free(err);
        return -1;
    }
    return 0;
}

int store_wal_mode(struct sqlite3 *db, const char *path, struct diag *d)
{
    /* Entering WAL mode is refused at once (SQLITE_BUSY, without the busy handler) while
     * another connection is in the middle of it or of creating the store: wait for it as
     * the busy timeout would. */
    int64_t until = clock_mono_ns() + INT64_C(10) * 1000000000;
    for (;;) {
        char *err = NULL;
        int rc = sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, &err);
        if (rc == SQLITE_OK)
            return 0;
        if ((rc & 0xff) != SQLITE_BUSY || clock_mono_ns() > until) {
            diag_set(d, DIAG_DB, "cannot open store '%s': %s", path,
                     err ? err : sqlite3_errmsg(db));
            sqlite3_free(err);
            return -1;
        }
        sqlite3_free(err);
        sqlite3_sleep(5);
    }
}

static void resolve_retention(struct store_retention *r)
{
    if (r->minutes_us <= 0)
        r->minutes_us = STORE_DEFAULT_MINUTES_US;
    if (r->hours_us <= 0)
        r->hours_us = STORE_DEFAULT_HOURS_US;
    if (r->days_us <= 0)
        r->days_us = STORE_DEFAULT_DAYS_US;
    /* Each resolution lives at least as long as the finer one. */
    if (r->hours_us < r->minutes_us)
        r->hours_us = r->minutes_us;
    if (r->days_us < r->hours_us)
        r->days_us = r->hours_us;
    if (r->events_us <= 0)
        r->events_us = r->hours_us;
}

/* The retention: a configured one is kept in the store for the commands without one;
 * otherwise the kept one fills what the caller left 0 (store_opts.retention_configured). */
static int settle_retention(struct store *s, struct diag *d)
{
    struct store_retention *r = &s->opts.retention;
    struct {
        const char *name;
        int64_t *v;
    } const f[] = { { "retention.minutes_us", &r->minutes_us },
                    { "retention.hours_us", &r->hours_us },
                    { "retention.days_us", &r->days_us },
                    { "retention.events_us", &r->events_us } };
    sqlite3_stmt *st = NULL;
    int rc;

    if (s->opts.retention_configured) {
        resolve_retention(r);
        static const char sql[] =
            "INSERT INTO settings (name, value) VALUES (?1, ?2), (?3, ?4), (?5, ?6), (?7, ?8) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value";
        if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
            return store_db_error(s, d, "cannot keep the retention");
        for (int i = 0; i < (int)ARRAY_SIZE(f); i++) {
            sqlite3_bind_text(st, 2 * i + 1, f[i].name, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2 * i + 2, *f[i].v);
        }
        rc =
            sqlite3_step(st) == SQLITE_DONE ? 0 : store_db_error(s, d, "cannot keep the retention");
        sqlite3_finalize(st);
        return rc;
    }
    static const char sql[] = "SELECT name, value FROM settings WHERE name GLOB 'retention.*'";
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return store_db_error(s, d, "cannot read the retention");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        for (size_t i = 0; name && i < ARRAY_SIZE(f); i++)
            if (!strcmp(name, f[i].name) && *f[i].v <= 0 &&
                sqlite3_column_type(st, 1) == SQLITE_INTEGER)
                *f[i].v = sqlite3_column_int64(st, 1);
    }
    rc = rc == SQLITE_DONE ? 0 : store_db_error(s, d, "cannot read the retention");
    sqlite3_finalize(st);
    resolve_retention(r);
    return rc;
}

const struct store_retention *store_retention_of(const struct store *s)
{
    return &s->opts.retention;
}

int store_open(struct store **out, const char *path, const struct store_opts *opts, struct diag *d)
{
    struct store *s = xcalloc(1, sizeof(*s));
    int fresh = 0; /* the file was created here */

    *out = NULL;
    s->path = xstrdup(path);
    s->opts = *opts;
    s->def = store_batch_new(s);
    sbuf_init(&s->scratch, 8 * (size_t)SIFT_MAX_STORED_TEXT);
    /* a version byte and 32 bytes per waiting session (batch_pairs_encode()) */
    sbuf_init(&s->pairs, 1 + 32 * (size_t)SIFT_MAX_PAIRED_SESSIONS);

    if (opts->read_only) {
        struct stat st;
        if (stat(path, &st) < 0) {
            if (errno == ENOENT)
                diag_set(d, DIAG_IO,
                         "no store at '%s' (run 'pgsift ingest' first, or give --db PATH)", path);
            else
                diag_errno(d, DIAG_IO, errno, "cannot open store '%s'", path);
            goto fail;
        }
        if (!S_ISREG(st.st_mode)) {
            if (S_ISDIR(st.st_mode))
                diag_errno(d, DIAG_IO, EISDIR, "cannot open store '%s'", path);
            else
                diag_set(d, DIAG_IO, "cannot open store '%s': not a regular file", path);
            goto fail;
        }
    } else if ((fresh = create_file(path, d)) < 0) {
        goto fail;
    }

    /* One thread uses a store: no per-call mutex. */
    int flags =
        (opts->read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        diag_set(d, DIAG_DB, "cannot open store '%s': %s", path,
                 s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, 10000);
    /* 16 KiB pages for a new store (a no-op on an existing one, which keeps its size):
     * fewer B-tree splits and WAL frames per event row; ingest 4-5 % less CPU than 4 KiB
     * (docs/performance.md). Must come before WAL mode is entered.
     * A store created here is set up (WAL mode, schema) without an fsync: entering WAL mode
     * writes the file's first page through a rollback journal, four fsyncs, and the schema
     * would sync the new log's header, 3-6 ms before `pgsift ingest` can start. Until the
     * first checkpoint syncs the log and the file, an OS crash can only leave an empty
     * store (no page, or pages without a schema: set up again at the next open), which is
     * what the run would have started from; nothing of it was ever committed before that.
     * Then synchronous = NORMAL as for any store, and the directory is synced once. */
    if (!opts->read_only && !fresh && migrate_check(s->db, path, d) < 0)
        goto fail; /* somebody else's file, or a newer pgsift's: not even its journal mode */
    if (!opts->read_only &&
        ((fresh && pragma(s, "PRAGMA synchronous = OFF", d) < 0) ||
         pragma(s, "PRAGMA page_size = 16384", d) < 0 || store_wal_mode(s->db, path, d) < 0 ||
         (!fresh && pragma(s, "PRAGMA synchronous = NORMAL", d) < 0)))
        goto fail;
    /* A reader holding an old snapshot for long (a report of a big store while `pgsift
     * tail` writes) keeps checkpoints from reaching the log's end, and the log grows
     * meanwhile; SQLite reuses the file but never shortens it. When the log starts over,
     * it is cut back to the size at which a commit checkpoints itself. */
    if (!opts->read_only) {
        char sql[64];
        snprintf(sql, sizeof(sql), "PRAGMA journal_size_limit = %lld",
                 (long long)SIFT_WAL_FORCE_PAGES * 16384);
        if (pragma(s, sql, d) < 0)
            goto fail;
    }
    /* Page cache: 16 MiB for readers (reports scan windows of the tables); 4 MiB for a
     * writer, whose pages are mostly new event blocks written once: with 16 MiB the
     * cache grew with the file and held 8 MB more at the end of `pgsift ingest` of the
     * 212 MB benchmark (peak RSS 46 -> 37.5 MB, 20 % fewer page faults, CPU unchanged:
     * docs/performance.md). */
    if (pragma(s, opts->read_only ? "PRAGMA cache_size = -16384" : "PRAGMA cache_size = -4096", d) <
            0 ||
        pragma(s, "PRAGMA temp_store = MEMORY", d) < 0)
        goto fail;
    if (sqlfn_register(s->db) < 0) {
        store_db_error(s, d, "cannot register functions");
        goto fail;
    }
    if (migrate_run(s->db, path, opts->read_only, d) < 0)
        goto fail;
    if (fresh) {
        if (pragma(s, "PRAGMA synchronous = NORMAL", d) < 0)
            goto fail;
        path_sync_dir(path); /* the new file and its log, durable */
    }
    if (opts->read_only)
        resolve_retention(&s->opts.retention); /* read-only opens roll nothing up */
    else if (settle_retention(s, d) < 0)
        goto fail;
    if (!opts->read_only)
        tighten_side_files(path);
    if (!opts->read_only && opts->checkpoint_thread)
        s->ckpt = ckpt_start(s->db, path);
    for (int i = 0; i < SQL_COUNT; i++) {
        if (sqlite3_prepare_v3(s->db, sql_text[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i],
                               NULL) != SQLITE_OK) {
            diag_set(d, DIAG_DB, "cannot prepare a statement for store '%s': %s (%s)", path,
                     sqlite3_errmsg(s->db), sql_text[i]);
            goto fail;
        }
    }
    *out = s;
    return 0;
fail:
    store_close(s);
    return -1;
}

void store_checkpoint_eager(struct store *s)
{
    ckpt_eager(s->ckpt);
}

void store_checkpoint_last(struct store *s)
{
    ckpt_last(s->ckpt);
}

void store_close(struct store *s)
{
    if (!s)
        return;
    /* A checkpoint the thread may still run ends beside the optimize (checkpoint.c). */
    ckpt_quit(s->ckpt);
    for (int i = 0; i < SQL_COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
    if (s->db && !s->opts.read_only)
        sqlite3_exec(s->db, "PRAGMA analysis_limit = 400; PRAGMA optimize", NULL, NULL, NULL);
    ckpt_stop(s->ckpt);
    if (s->db)
        sqlite3_close(s->db);
    store_batch_free(s->def);
    sbuf_release(&s->scratch);
    sbuf_release(&s->pairs);
    free(s->path);
    free(s->seen);
    free(s);
}

/* ---- commit ---- */

/* Rows are written in the order of a key of their table: a batch of many statements then
 * walks that B-tree once, page after page, instead of landing each row on a page of its
 * own (300 000 distinct statements: 455 MB written by random order, the pages evicted
 * from the 4 MiB cache and read again). SQLite orders integer keys as signed. */
struct row_order {
    int64_t k1, k2;
    struct span s1, s2;
    uint32_t i;
};

static int row_order_cmp(const void *pa, const void *pb)
{
    const struct row_order *a = pa, *b = pb;
    int c;
    if (a->k1 != b->k1)
        return a->k1 < b->k1 ? -1 : 1;
    if ((c = span_cmp(a->s1, b->s1)) != 0 || (c = span_cmp(a->s2, b->s2)) != 0)
        return c;
    if (a->k2 != b->k2)
        return a->k2 < b->k2 ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

/* The order to write @n rows in (NULL: as they are, for a few rows); free() it. */
static uint32_t *write_order(struct row_order *o, size_t n)
{
    if (n < 2) {
        free(o);
        return NULL;
    }
    qsort(o, n, sizeof(*o), row_order_cmp);
    uint32_t *idx = xmalloc(n * sizeof(*idx));
    for (size_t i = 0; i < n; i++)
        idx[i] = o[i].i;
    free(o);
    return idx;
}

/* One query_stats row: @a at (@bucket, @width), its sketch encoded into s->scratch. */
static int agg_row(struct store *s, sqlite3_stmt *st, const struct store_batch *b,
                   const struct agg *a, int64_t bucket, int64_t width, struct diag *d)
{
    sbuf_reset(&s->scratch);
    if (sketch_encode(&a->sk, &s->scratch) < 0)
        return diag_set(d, DIAG_LIMIT, "latency sketch too large");
    sqlite3_bind_int64(st, 1, bucket);
    bind_span(st, 2, b->names[a->db].s);
    bind_span(st, 3, b->names[a->user].s);
    sqlite3_bind_int64(st, 4, (int64_t)a->fp);
    sqlite3_bind_text(st, 5, agg_phase_names[a->phase], -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, a->qid);
    sqlite3_bind_int64(st, 7, (int64_t)a->calls);
    sqlite3_bind_int64(st, 8, a->total_us);
    if (a->calls) {
        sqlite3_bind_double(st, 9, a->min);
        sqlite3_bind_double(st, 10, a->max);
    } else {
        sqlite3_bind_null(st, 9);
        sqlite3_bind_null(st, 10);
    }
    sqlite3_bind_double(st, 11, a->sumsq);
    sqlite3_bind_int64(st, 12, a->rows);
    sqlite3_bind_int64(st, 13, a->rows_calls);
    sqlite3_bind_int64(st, 14, a->errors);
    sqlite3_bind_blob64(st, 15, s->scratch.buf, s->scratch.len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 16, width);
    return step_done(s, st, "cannot write query statistics", d);
}

/* @a's figures added to @to's, sketches merged: what SQL_AGG_MERGE does to a stored row. */
static void agg_merge_into(struct agg *to, const struct agg *a)
{
    agg_add_figures(to, a);
    sketch_merge(&to->sk, &a->sk);
}

/* A query_stats row's place in the order it is written in (write_aggs()). */
struct agg_order {
    int64_t fp, bucket, qid; /* bucket: the row's (store_cut_bucket()) */
    struct span db, user;
    uint32_t phase, i;
};

static int agg_order_cmp(const void *pa, const void *pb)
{
    const struct agg_order *a = pa, *b = pb;
    int c;
    if (a->fp != b->fp)
        return a->fp < b->fp ? -1 : 1;
    if (a->bucket != b->bucket)
        return a->bucket < b->bucket ? -1 : 1;
    if ((c = span_cmp(a->db, b->db)) != 0 || (c = span_cmp(a->user, b->user)) != 0)
        return c;
    if (a->phase != b->phase)
        return a->phase < b->phase ? -1 : 1;
    if (a->qid != b->qid)
        return a->qid < b->qid ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

static bool agg_order_same_row(const struct agg_order *a, const struct agg_order *b)
{
    return a->fp == b->fp && a->bucket == b->bucket && a->phase == b->phase && a->qid == b->qid &&
           span_eq(a->db, b->db) && span_eq(a->user, b->user);
}

static int write_aggs(struct store *s, const struct store_batch *b, const struct store_cuts *cuts,
                      struct diag *d)
{
    sqlite3_stmt *st = store_stmt(s, SQL_AGG_UPSERT);
    size_t n = b->n_aggs;
    if (n == 0)
        return 0;
    /* In the order of the index query_stats_fp (fingerprint, bucket, then the key's other
     * columns), not of the key (width, bucket, ...): the key's new rows are the batch's
     * minutes, together at the end of the table whatever their order, while the index's
     * are one per fingerprint all over it. With 1 200 statements a minute, 864 000 rows:
     * 13-18 s -> 9.7 s, system time 6.5-8 s -> 1.6 s (docs/performance.md, session 23).
     * The rows are minutes, written as the hours or days they are in when retention says
     * so (store_cut_bucket()): the minutes of one row then follow each other and are
     * merged here, one upsert a row. */
    struct agg_order *o = xmalloc(n * sizeof(*o));
    for (size_t i = 0; i < n; i++) {
        const struct agg *a = &b->aggs[i];
        int64_t width;
        o[i] = (struct agg_order){ .fp = (int64_t)a->fp,
                                   .bucket = store_cut_bucket(cuts, a->bucket, &width),
                                   .qid = a->qid,
                                   .db = b->names[a->db].s,
                                   .user = b->names[a->user].s,
                                   .phase = (uint32_t)a->phase,
                                   .i = (uint32_t)i };
    }
    qsort(o, n, sizeof(*o), agg_order_cmp);
    int rc = 0;
    struct agg m;
    sketch_init(&m.sk);
    for (size_t k = 0; k < n && rc == 0;) {
        const struct agg *a = &b->aggs[o[k].i];
        int64_t width;
        int64_t bucket = store_cut_bucket(cuts, a->bucket, &width);
        size_t end = k + 1;
        while (end < n && agg_order_same_row(&o[k], &o[end]))
            end++;
        if (end == k + 1) {
            rc = agg_row(s, st, b, a, bucket, width, d);
        } else { /* minutes of an hour or day row */
            struct sketch sk = m.sk;
            m = *a;
            m.sk = sk;
            sketch_clear(&m.sk);
            m.calls = 0;
            m.total_us = 0;
            m.sumsq = 0;
            m.rows = m.rows_calls = m.errors = 0;
            for (size_t t = k; t < end; t++)
                agg_merge_into(&m, &b->aggs[o[t].i]);
            rc = agg_row(s, st, b, &m, bucket, width, d);
        }
        k = end;
    }
    sketch_release(&m.sk);
    free(o);
    return rc;
}

static int write_catalogue(struct store *s, const struct store_batch *b, struct diag *d)
{
    sqlite3_stmt *st = store_stmt(s, SQL_CAT_UPSERT);
    struct row_order *o = b->n_cats > 1 ? xmalloc(b->n_cats * sizeof(*o)) : NULL;
    for (size_t i = 0; o && i < b->n_cats; i++)
        o[i] = (struct row_order){ (int64_t)b->cats[i].fp, 0, SPAN_NULL, SPAN_NULL, (uint32_t)i };
    uint32_t *idx = write_order(o, b->n_cats);
    for (size_t k = 0; k < b->n_cats; k++) {
        const struct cat *c = &b->cats[idx ? idx[k] : k];
        sqlite3_bind_int64(st, 1, (int64_t)c->fp);
        sqlite3_bind_int64(st, 2, (int64_t)c->fp_hi);
        bind_span(st, 3, c->query.p ? c->query : SPAN_LIT(""));
        bind_span(st, 4, c->sample);
        sqlite3_bind_int64(st, 5, c->first);
        sqlite3_bind_int64(st, 6, c->last);
        sqlite3_bind_int64(st, 7, (int64_t)c->collisions);
        /* If the stored statement is another one, the batch's own are the collisions. */
        sqlite3_bind_int64(st, 8, (int64_t)c->same);
        sqlite3_bind_int64(st, 9, c->sample_key);
        if (step_done(s, st, "cannot write the query catalogue", d) < 0) {
            free(idx);
            return -1;
        }
    }
    free(idx);
    /* (fingerprint, query_id): random keys, as the catalogue's */
    st = store_stmt(s, SQL_QID_UPSERT);
    o = b->n_qids > 1 ? xmalloc(b->n_qids * sizeof(*o)) : NULL;
    for (size_t i = 0; o && i < b->n_qids; i++)
        o[i] = (struct row_order){ (int64_t)b->qids[i].fp, b->qids[i].qid, SPAN_NULL, SPAN_NULL,
                                   (uint32_t)i };
    idx = write_order(o, b->n_qids);
    for (size_t k = 0; k < b->n_qids; k++) {
        const struct qid *q = &b->qids[idx ? idx[k] : k];
        sqlite3_bind_int64(st, 1, (int64_t)q->fp);
        sqlite3_bind_int64(st, 2, q->qid);
        sqlite3_bind_int64(st, 3, (int64_t)q->calls);
        sqlite3_bind_int64(st, 4, q->first);
        sqlite3_bind_int64(st, 5, q->last);
        sqlite3_bind_int64(st, 6, q->total_us);
        if (step_done(s, st, "cannot write query ids", d) < 0) {
            free(idx);
            return -1;
        }
    }
    free(idx);
    return 0;
}

static int input_lines_row(struct store *s, const struct store_cuts *cuts, int64_t minute,
                           struct span input, uint64_t records, uint64_t rejects, struct diag *d)
{
    sqlite3_stmt *st = store_stmt(s, SQL_INP_UPSERT);
    int64_t width, bucket = store_cut_bucket(cuts, minute, &width);
    sqlite3_bind_int64(st, 1, bucket);
    sqlite3_bind_int64(st, 5, width);
    sqlite3_bind_text(st, 2, input.p, (int)input.len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (int64_t)records);
    sqlite3_bind_int64(st, 4, (int64_t)rejects);
    return step_done(s, st, "cannot write lines per input", d);
}

/* input_stats: the batch's rows (rejects; records of a batch without an input), and for a
 * batch with an input its records, from the record counts (rows of one minute mostly
 * follow each other: summed while they do). */
static int write_input_lines(struct store *s, const struct store_batch *b,
                             const struct store_cuts *cuts, struct diag *d)
{
    for (size_t i = 0; i < b->n_inps; i++) {
        const struct inp *r = &b->inps[i];
        if ((r->records || r->rejects) &&
            input_lines_row(s, cuts, r->bucket, b->names[r->name].s, r->records, r->rejects, d) < 0)
            return -1;
    }
    if (!b->input)
        return 0;
    for (size_t i = 0; i < b->n_recs;) {
        int64_t bucket = b->recs[i].bucket;
        uint64_t n = 0;
        for (; i < b->n_recs && b->recs[i].bucket == bucket; i++)
            n += b->recs[i].count;
        if (input_lines_row(s, cuts, bucket, span_cstr(b->input), n, 0, d) < 0)
            return -1;
    }
    return 0;
}

static int write_counts(struct store *s, const struct store_batch *b, const struct store_cuts *cuts,
                        struct diag *d)
{
    sqlite3_stmt *st = store_stmt(s, SQL_ERR_UPSERT);
    int64_t width;
    for (size_t i = 0; i < b->n_errs; i++) {
        const struct err *e = &b->errs[i];
        sqlite3_bind_int64(st, 1, store_cut_bucket(cuts, e->bucket, &width));
        sqlite3_bind_int64(st, 11, width);
        bind_span(st, 2, b->names[e->db].s);
        bind_span(st, 3, b->names[e->user].s);
        sqlite3_bind_text(st, 4, e->sqlstate, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, severity_name(e->sev), -1, SQLITE_STATIC);
        bind_span(st, 6, e->message);
        sqlite3_bind_int64(st, 7, (int64_t)e->count);
        bind_span(st, 8, e->sample);
        sqlite3_bind_int64(st, 9, e->sample_at);
        sqlite3_bind_int64(st, 10, e->sample_key);
        if (step_done(s, st, "cannot write error statistics", d) < 0)
            return -1;
    }
    st = store_stmt(s, SQL_REC_UPSERT);
    for (size_t i = 0; i < b->n_recs; i++) {
        const struct rec *r = &b->recs[i];
        sqlite3_bind_int64(st, 1, store_cut_bucket(cuts, r->bucket, &width));
        sqlite3_bind_int64(st, 5, width);
        sqlite3_bind_text(st, 2, event_kind_name(r->kind), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, severity_name(r->sev), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, (int64_t)r->count);
        if (step_done(s, st, "cannot write record counts", d) < 0)
            return -1;
    }
    return write_input_lines(s, b, cuts, d);
}

/* Records of @b older than the newest boundary the rules have evaluated (read in this
 * transaction, so exactly what they had seen when it commits): counted per source in
 * late_records and in the run counts (docs/rules.md, "Late records"). */
static int write_late(struct store *s, const struct store_batch *b,
                      const struct store_source_pos *pos, int64_t now, uint64_t *late,
                      int64_t *oldest, int64_t *cutoff, struct diag *d)
{
    sqlite3_stmt *st = store_stmt(s, SQL_RULES_CUTOFF);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        store_db_error(s, d, "cannot read the rules' cursors");
        sqlite3_reset(st);
        return -1;
    }
    bool have = sqlite3_column_type(st, 0) != SQLITE_NULL;
    *cutoff = have ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    *late = 0;
    *oldest = INT64_MAX;
    for (size_t i = 0; have && i < b->n_recs; i++) {
        const struct rec *r = &b->recs[i];
        if (r->bucket >= *cutoff / USEC_PER_SEC)
            continue; /* (buckets are minutes in seconds, cursors minute boundaries in µs) */
        *late += r->count;
        if (r->bucket * USEC_PER_SEC < *oldest)
            *oldest = r->bucket * USEC_PER_SEC;
    }
    if (!*late)
        return 0;
    st = store_stmt(s, SQL_LATE_UPSERT);
    sqlite3_bind_text(st, 1, pos && pos->name ? pos->name : "-", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (int64_t)*late);
    sqlite3_bind_int64(st, 3, *oldest);
    sqlite3_bind_int64(st, 4, *cutoff);
    sqlite3_bind_int64(st, 5, now);
    return step_done(s, st, "cannot write late records", d);
}

static int write_events(struct store *s, const struct store_batch *b, struct diag *d)
{
    for (const struct store_ev_chunk *c = b->ev_head; c; c = c->next)
        if (evblocks_write_chunk(s, c, d) < 0)
            return -1;
    return 0;
}

static int write_rejects(struct store *s, const struct store_batch *b, int64_t now, struct diag *d)
{
    sqlite3_stmt *st = store_stmt(s, SQL_REJ_UPSERT);
    for (size_t i = 0; i < b->n_rejs; i++) {
        const struct rej *r = &b->rejs[i];
        bind_span(st, 1, r->source);
        sqlite3_bind_text(st, 2, r->reason, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (int64_t)r->count);
        sqlite3_bind_int64(st, 4, now);
        if (step_done(s, st, "cannot write rejects", d) < 0)
            return -1;
    }
    st = store_stmt(s, SQL_REJ_SAMPLE_INSERT);
    for (size_t i = 0; i < b->n_samples; i++) {
        const struct rej_sample *sm = &b->samples[i];
        const struct rej *r = &b->rejs[sm->rej];
        bind_span(st, 1, r->source);
        sqlite3_bind_text(st, 2, r->reason, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (int64_t)sm->line);
        sqlite3_bind_int64(st, 4, (int64_t)sm->offset);
        bind_span(st, 5, sm->sample);
        sqlite3_bind_int64(st, 6, SIFT_MAX_REJECT_SAMPLES);
        if (step_done(s, st, "cannot write reject samples", d) < 0)
            return -1;
    }
    return 0;
}

static uint64_t hash_span(struct span sp)
{
    return XXH3_64bits(sp.p ? sp.p : "", sp.len);
}

/* 1 when the position may be written, 0 when it is stale, -1 on error. */
static int check_position(struct store *s, const struct store_source_pos *pos, struct diag *d)
{
    if (pos->id) {
        sqlite3_stmt *st = store_stmt(s, SQL_SRC_GET_OFFSET);
        sqlite3_bind_int64(st, 1, pos->id);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            uint64_t saved = (uint64_t)sqlite3_column_int64(st, 0);
            sqlite3_reset(st);
            return saved == pos->start;
        }
        if (rc == SQLITE_DONE) {
            sqlite3_reset(st);
            return 0; /* the row is gone (expired meanwhile): start over */
        }
        store_db_error(s, d, "cannot read a source position");
        sqlite3_reset(st);
        return -1;
    }
    /* A new stream: if another reader stored the same stream since we looked - this
     * file, or a copy of it (-j N given both, or another pgsift) - it is that reader's
     * now. A head is at most the bytes committed, so a reader that saw a short file at
     * another length stored a head of another length: the same stream when one head
     * starts the other. Ours is compared over the stored length; a stored head longer
     * than ours cannot be compared here and is taken as the same stream (refusing is
     * safe: the reader looks again, pgsift ingest once the others are done, and finds
     * the stream where it was stored). Another head as long or shorter is other content
     * (another file, or this inode reused). */
    sqlite3_stmt *st = store_stmt(s, SQL_SRC_CONCURRENT);
    sqlite3_bind_int64(st, 1, pos->seen_max_id);
    int rc, fresh = 1;
    while (fresh && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t hl = sqlite3_column_int64(st, 0);
        uint64_t hh = (uint64_t)sqlite3_column_int64(st, 1);
        if (hl < 0 || (uint64_t)hl > pos->head.len ||
            XXH3_64bits(pos->head.p ? pos->head.p : "", (size_t)hl) == hh)
            fresh = 0;
    }
    sqlite3_reset(st);
    if (!fresh)
        return 0;
    if (rc == SQLITE_DONE)
        return 1;
    return store_db_error(s, d, "cannot read source positions");
}

/* Which of @n ascending mark offsets to drop so that @n - 1 stay spread over the stream:
 * never the first (a copy shorter than every later commit still has it) nor the newest
 * SIFT_SOURCE_MARKS_NEWEST; of the others, the one whose neighbours are closest in ratio,
 * so the kept offsets tend to a geometric series. Returns its index, or n when none may go. */
static size_t marks_victim(const uint64_t *off, size_t n)
{
    size_t best = n;
    double best_ratio = 0;
    if (n <= SIFT_SOURCE_MARKS_NEWEST + 1)
        return n;
    for (size_t i = 1; i + SIFT_SOURCE_MARKS_NEWEST < n; i++) {
        double ratio = (double)off[i + 1] / (double)(off[i - 1] ? off[i - 1] : 1);
        if (best == n || ratio < best_ratio) {
            best = i;
            best_ratio = ratio;
        }
    }
    return best;
}

/* The mark of this commit joins the stream's kept marks (schema/008_source_marks.sql),
 * in the commit's transaction; beyond SIFT_SOURCE_MARKS_KEPT one is dropped
 * (marks_victim()). */
static int write_mark(struct store *s, const struct store_source_pos *pos, int64_t id,
                      struct diag *d)
{
    if (!pos->id) {
        /* A new stream: rows of an expired stream that had this id are not its. */
        sqlite3_stmt *st = store_stmt(s, SQL_MARK_CLEAR);
        sqlite3_bind_int64(st, 1, id);
        if (step_done(s, st, "cannot write a source mark", d) < 0)
            return -1;
    }
    if (pos->offset == 0)
        return 0;
    sqlite3_stmt *st = store_stmt(s, SQL_MARK_PUT);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, (int64_t)pos->offset);
    sqlite3_bind_int64(st, 3, (int64_t)pos->mark.len);
    sqlite3_bind_int64(st, 4, (int64_t)hash_span(pos->mark));
    if (step_done(s, st, "cannot write a source mark", d) < 0)
        return -1;

    /* Read newest first, at most twice the bound (a store edited by hand may hold
     * more: those older than what was read go at once). */
    uint64_t off[2 * SIFT_SOURCE_MARKS_KEPT];
    size_t n = 0;
    int rc;
    bool more = false;
    st = store_stmt(s, SQL_MARK_LIST);
    sqlite3_bind_int64(st, 1, id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == ARRAY_SIZE(off)) {
            more = true;
            break;
        }
        off[n++] = (uint64_t)sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_db_error(s, d, "cannot read source marks");
    if (n <= SIFT_SOURCE_MARKS_KEPT && !more)
        return 0;
    if (more) {
        st = store_stmt(s, SQL_MARK_DEL_BELOW);
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, (int64_t)off[n - 1]);
        if (step_done(s, st, "cannot drop source marks", d) < 0)
            return -1;
    }
    for (size_t i = 0; i < n / 2; i++) { /* ascending */
        uint64_t t = off[i];
        off[i] = off[n - 1 - i];
        off[n - 1 - i] = t;
    }
    while (n > SIFT_SOURCE_MARKS_KEPT) {
        size_t v = marks_victim(off, n);
        if (v >= n)
            BUG("no source mark to drop of %zu", n);
        st = store_stmt(s, SQL_MARK_DEL);
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, (int64_t)off[v]);
        if (step_done(s, st, "cannot drop a source mark", d) < 0)
            return -1;
        memmove(off + v, off + v + 1, (n - v - 1) * sizeof(*off));
        n--;
    }
    return 0;
}

static int write_position(struct store *s, const struct store_batch *b,
                          const struct store_source_pos *pos, int64_t now, int64_t *new_id,
                          struct diag *d)
{
    sqlite3_stmt *st = store_stmt(s, pos->id ? SQL_SRC_UPDATE : SQL_SRC_INSERT);
    sqlite3_bind_text(st, 1, pos->name ? pos->name : "-", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (int64_t)pos->dev);
    sqlite3_bind_int64(st, 3, (int64_t)pos->inode);
    sqlite3_bind_int(st, 4, pos->compressed);
    sqlite3_bind_int64(st, 5, (int64_t)pos->head.len);
    sqlite3_bind_int64(st, 6, (int64_t)hash_span(pos->head));
    sqlite3_bind_int64(st, 7, (int64_t)pos->offset);
    sqlite3_bind_int64(st, 8, (int64_t)pos->line);
    sqlite3_bind_int64(st, 9, (int64_t)pos->mark.len);
    sqlite3_bind_int64(st, 10, (int64_t)hash_span(pos->mark));
    if (pos->checkpoint.len)
        sqlite3_bind_blob64(st, 11, pos->checkpoint.p, pos->checkpoint.len, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 11);
    sqlite3_bind_int64(st, 12, (int64_t)b->records);
    sqlite3_bind_int64(st, 13, now);
    sbuf_reset(&s->pairs);
    if (batch_pairs_encode(b, &s->pairs) < 0)
        return diag_set(d, DIAG_LIMIT, "too many sessions waiting for a duration line");
    if (s->pairs.len)
        sqlite3_bind_blob64(st, 14, s->pairs.buf, s->pairs.len, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 14);
    if (pos->id)
        sqlite3_bind_int64(st, 15, pos->id);
    /* The newest record time seen (an upper bound of this stream's: the batch may have
     * seen other streams' before): the row outlives its data (store_rollup()). */
    sqlite3_bind_int64(st, 16, b->last_ts == INT64_MIN ? 0 : b->last_ts);
    sqlite3_bind_int64(st, 17, pos->born_us);
    if (step_done(s, st, "cannot write the source position", d) < 0)
        return -1;
    *new_id = pos->id ? pos->id : sqlite3_last_insert_rowid(s->db);
    return write_mark(s, pos, *new_id, d);
}

static void check_pos_sane(const struct store_source_pos *pos)
{
    if (pos->head.len > SIFT_SOURCE_HEAD_BYTES || pos->mark.len > SIFT_SOURCE_MARK_BYTES ||
        pos->mark.len > pos->offset || pos->start > pos->offset ||
        (pos->mark.len && !pos->mark.p) || (pos->head.len && !pos->head.p))
        BUG("store_commit: inconsistent source position for '%s'", pos->name ? pos->name : "?");
}

int store_write_events(struct store *s, struct store_ev_chunk *c, struct diag *d)
{
    int ret = -1;
    if (s->opts.read_only)
        BUG("store_write_events on a read-only store");
    if (!s->in_batch) {
        if (store_exec(s, SQL_BEGIN, d) < 0)
            goto out;
        s->in_batch = true;
    }
    if (evblocks_write_chunk(s, c, d) < 0) {
        store_abort(s);
        goto out;
    }
    ret = 0;
out:
    ev_chunk_free(c);
    return ret;
}

void store_abort(struct store *s)
{
    if (s->in_batch && !sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    s->in_batch = false;
}

int store_commit(struct store *s, struct store_source_pos *pos, struct diag *d)
{
    return store_commit_batch(s, s->def, pos, d);
}

/* Add @fp to the run's set; false when it was there. (The index array and the copy of
 * each value that a general table keeps cost 76 MiB at a million fingerprints, QA 22a.) */
static bool seen_add(struct store *s, uint64_t fp)
{
    if (fp == 0) {
        bool was = s->seen_zero;
        s->seen_zero = true;
        return !was;
    }
    if ((s->run.fingerprints + 1) * 2 > s->seen_cap) {
        size_t cap = s->seen_cap ? s->seen_cap * 2 : 1024;
        uint64_t *v = xcalloc(cap, sizeof(*v));
        for (size_t i = 0; i < s->seen_cap; i++) {
            uint64_t x = s->seen[i];
            if (!x)
                continue;
            size_t k = (size_t)x & (cap - 1);
            while (v[k])
                k = (k + 1) & (cap - 1);
            v[k] = x;
        }
        free(s->seen);
        s->seen = v;
        s->seen_cap = cap;
    }
    size_t k = (size_t)fp & (s->seen_cap - 1);
    while (s->seen[k]) {
        if (s->seen[k] == fp)
            return false;
        k = (k + 1) & (s->seen_cap - 1);
    }
    s->seen[k] = fp;
    return true;
}

static bool seen_has(const struct store *s, uint64_t fp)
{
    if (fp == 0)
        return s->seen_zero;
    if (!s->seen_cap)
        return false;
    size_t k = (size_t)fp & (s->seen_cap - 1);
    for (; s->seen[k]; k = (k + 1) & (s->seen_cap - 1))
        if (s->seen[k] == fp)
            return true;
    return false;
}

/* What a committed batch adds to this handle's run counts (store_run_counts()). */
static void count_committed(struct store *s, const struct store_batch *b)
{
    for (size_t i = 0; i < b->n_aggs; i++)
        if (b->aggs[i].phase == AGG_CALL)
            s->run.calls += b->aggs[i].calls;
    s->run.events += b->n_evs;
    s->run.records += b->records;
    for (size_t i = 0; s->opts.run_fingerprints && i < b->n_cats; i++) {
        uint64_t fp = b->cats[i].fp;
        if (s->run.fingerprints >= SIFT_MAX_RUN_FINGERPRINTS) {
            if (!seen_has(s, fp))
                s->run.fingerprints_capped = true; /* a new one beyond the bound */
            continue;
        }
        if (seen_add(s, fp))
            s->run.fingerprints++;
    }
}

void store_run_counts(const struct store *s, struct store_run_counts *out)
{
    *out = s->run;
}

/* Tests: SIFT_TEST_STALE_AT=N refuses this process's N-th positioned commit as stale,
 * once (another pgsift committing the same records at that moment, made reproducible). */
static bool test_stale_now(void)
{
    static long at = -1, n;
    if (at < 0) {
        const char *e = getenv("SIFT_TEST_STALE_AT");
        at = e && *e ? strtol(e, NULL, 10) : 0;
    }
    return at > 0 && ++n == at;
}

int store_commit_batch(struct store *s, struct store_batch *b, struct store_source_pos *pos,
                       struct diag *d)
{
    int64_t now = clock_now_us();
    int64_t new_id = 0;
    int ret = -1;

    if (s->opts.read_only)
        BUG("store_commit on a read-only store");
    if (pos)
        check_pos_sane(pos);
    store_batch_finish(b);
    if (!s->in_batch && store_exec(s, SQL_BEGIN, d) < 0)
        goto out;
    s->in_batch = false; /* ended below, one way or the other */
    if (pos) {
        int ok = check_position(s, pos, d);
        if (ok < 0)
            goto rollback;
        if (ok == 0) {
            ret = STORE_STALE;
            goto rollback;
        }
    }
    /* Records with their own id: a stream without a position cannot be read again, so
     * there a record another reader committed meanwhile counts twice (docs/store.md). */
    int keys = record_ids_write(s, b, now, d);
    if (keys < 0)
        goto rollback;
    if ((keys > 0 && pos) || (pos && test_stale_now())) {
        ret = STORE_STALE;
        goto rollback;
    }
    uint64_t late;
    int64_t late_oldest, late_cutoff;
    struct store_cuts cuts;
    store_cuts_at(s, now, &cuts);
    if (write_aggs(s, b, &cuts, d) < 0 || write_catalogue(s, b, d) < 0 ||
        write_counts(s, b, &cuts, d) < 0 ||
        write_late(s, b, pos, now, &late, &late_oldest, &late_cutoff, d) < 0 ||
        write_events(s, b, d) < 0 || write_rejects(s, b, now, d) < 0 || plans_write(s, b, d) < 0)
        goto rollback;
    if (pos && write_position(s, b, pos, now, &new_id, d) < 0)
        goto rollback;
    if (store_exec(s, SQL_COMMIT, d) < 0)
        goto rollback;
    if (pos)
        pos->id = new_id;
    tighten_side_files(s->path);
    count_committed(s, b);
    if (late) {
        if (!s->run.late || late_oldest < s->run.late_oldest_us)
            s->run.late_oldest_us = late_oldest;
        s->run.late += late;
        s->run.late_cutoff_us = late_cutoff;
    }
    ret = STORE_COMMITTED;
    goto out;
rollback:
    /* SQLite may already have rolled back (e.g. on SQLITE_FULL). */
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
out:
    batch_reset(b);
    return ret;
}

/* ---- finding where a stream stopped ---- */

void store_resume_init(struct store_resume *r)
{
    memset(r, 0, sizeof(*r));
    sbuf_init(&r->checkpoint, 0);
    sbuf_init(&r->mark, 0);
    sbuf_init(&r->prev_name, 0);
    sbuf_init(&r->pairing, 0);
}

void store_resume_release(struct store_resume *r)
{
    sbuf_release(&r->checkpoint);
    sbuf_release(&r->mark);
    sbuf_release(&r->prev_name);
    sbuf_release(&r->pairing);
    memset(r, 0, sizeof(*r));
}

struct candidate {
    int64_t id;
    uint64_t offset, line, dev, inode;
};

/* The stream of the sources row @st is on (SQL_SRC_BY_HEAD, SQL_SRC_BY_ID). */
static struct candidate candidate_at(sqlite3_stmt *st)
{
    return (struct candidate){
        .id = sqlite3_column_int64(st, 0),
        .offset = (uint64_t)sqlite3_column_int64(st, 1),
        .line = (uint64_t)sqlite3_column_int64(st, 2),
        .dev = (uint64_t)sqlite3_column_int64(st, 6),
        .inode = (uint64_t)sqlite3_column_int64(st, 7),
    };
}

static int fill_found(struct store_resume *out, sqlite3_stmt *st, const struct candidate *c,
                      const void *mark, size_t mark_len)
{
    out->id = c->id;
    out->offset = c->offset;
    out->line = c->line;
    sbuf_reset(&out->checkpoint);
    sbuf_reset(&out->mark);
    sbuf_reset(&out->prev_name);
    sbuf_reset(&out->pairing);
    out->covered = false;
    const void *pairing = sqlite3_column_blob(st, 9);
    int pn = sqlite3_column_bytes(st, 9);
    if (pn > 0 && sbuf_add(&out->pairing, pairing, (size_t)pn) < 0)
        return -1;
    const void *cp = sqlite3_column_blob(st, 5);
    int cpn = sqlite3_column_bytes(st, 5);
    const unsigned char *name = sqlite3_column_text(st, 8);
    if ((cpn > 0 && sbuf_add(&out->checkpoint, cp, (size_t)cpn) < 0) ||
        (mark_len && sbuf_add(&out->mark, mark, mark_len) < 0) ||
        (name && sbuf_addstr(&out->prev_name, (const char *)name) < 0))
        return -1;
    return 0;
}

/* Whether the probe is a copy of candidate @c's start that ends before @c's offset: the
 * newest of its kept marks that the probe holds (at or before the probe's end) matches.
 * A plain file: that mark is looked up by the file's size and read once. A .gz (size not
 * known): the marks below @c's offset are read in ascending order (the decoder goes
 * forward) until one lies past the end; the last one read must match. The bytes between
 * that mark and the file's end are taken as the stream's (docs/store.md). @buf holds
 * SIFT_SOURCE_MARK_BYTES. Returns 1 when it is, 0 when not, -1 on error. */
static int prefix_of(struct store *s, const struct store_probe *p, const struct candidate *c,
                     unsigned char *buf, struct diag *d)
{
    bool plain = p->size != UINT64_MAX;
    sqlite3_stmt *st = store_stmt(s, plain ? SQL_MARK_LAST : SQL_MARK_UP);
    sqlite3_bind_int64(st, 1, c->id);
    sqlite3_bind_int64(st, 2, plain ? (int64_t)p->size : (int64_t)c->offset);
    int rc, matched = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t off = sqlite3_column_int64(st, 0);
        int64_t ml = sqlite3_column_int64(st, 1);
        uint64_t mh = (uint64_t)sqlite3_column_int64(st, 2);
        if (off <= 0 || ml <= 0 || ml > SIFT_SOURCE_MARK_BYTES || ml > off ||
            (uint64_t)off >= c->offset) {
            matched = 0; /* not a row we wrote: no conclusion */
            break;
        }
        int r = p->read(p->ctx, (uint64_t)(off - ml), buf, (size_t)ml, d);
        if (r < 0) {
            sqlite3_reset(st);
            return -1;
        }
        if (r > 0)
            break; /* past the end: the one before decides */
        matched = XXH3_64bits(buf, (size_t)ml) == mh;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_db_error(s, d, "cannot read source marks");
    return matched;
}

/* Whether the probe is a shorter copy of stream @id (short_copy()): not the file the
 * stream was read from (that one, found shorter, was truncated), shorter than the
 * stream's head (else the head would have found it), and prefix_of(). On a match @out is
 * filled (covered) and *@c is the stream. @buf and @mark hold SIFT_SOURCE_HEAD_BYTES and
 * SIFT_SOURCE_MARK_BYTES. Returns 1, 0 or -1 (@d). */
static int short_copy_of(struct store *s, const struct store_probe *p, int64_t id,
                         struct store_resume *out, struct candidate *c, unsigned char *buf,
                         unsigned char *mark, struct diag *d)
{
    sqlite3_stmt *st = store_stmt(s, SQL_SRC_BY_ID);
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st), ret = 0;
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? 0 : store_db_error(s, d, "cannot read source positions");
    }
    *c = candidate_at(st);
    int64_t hl = sqlite3_column_int64(st, 10);
    if ((c->dev == p->dev && c->inode == p->inode) || hl <= 0 || hl > SIFT_SOURCE_HEAD_BYTES ||
        (uint64_t)hl > c->offset)
        goto done;
    if (p->size != UINT64_MAX) {
        if (p->size >= (uint64_t)hl)
            goto done;
    } else {
        int r = p->read(p->ctx, 0, buf, (size_t)hl, d); /* (a .gz: is it shorter?) */
        if (r <= 0) {
            ret = r;
            goto done;
        }
    }
    ret = prefix_of(s, p, c, mark, d);
    if (ret == 1) {
        if (fill_found(out, st, c, NULL, 0) < 0)
            BUG("unbounded sbuf refused an append");
        out->covered = true;
    }
done:
    sqlite3_reset(st);
    return ret;
}

/* A file under SIFT_SOURCE_HEAD_BYTES that no stored head starts: is it a shorter copy
 * of a stream whose head is longer (logrotate's copytruncate of a log under 4 KiB, after
 * pgsift read lines written between the copy and the truncation)? The marks of a
 * stream's commits at 4 KiB or less hash all the bytes before them (mark_len = offset):
 * its first bytes. The probe's first bytes at each such length, longest first, find the
 * streams they start (schema/011_source_prefix_marks.sql), and short_copy_of() decides.
 * Returns 1 with @out and *@c filled, 0 when it is none, -1 (@d). */
static int short_copy(struct store *s, const struct store_probe *p, struct store_resume *out,
                      struct candidate *c, unsigned char *buf, unsigned char *mark, struct diag *d)
{
    uint64_t limit = p->size < SIFT_SOURCE_HEAD_BYTES ? p->size : SIFT_SOURCE_HEAD_BYTES;
    if (p->size == UINT64_MAX) {
        /* A .gz: only one shorter than the head (what a plain file's size says) */
        int r = p->read(p->ctx, 0, buf, SIFT_SOURCE_HEAD_BYTES, d);
        if (r <= 0)
            return r;
    }
    int64_t *lens = xmalloc((size_t)SIFT_SOURCE_HEAD_BYTES * sizeof(*lens));
    size_t n = 0;
    int rc, ret = -1;
    sqlite3_stmt *st = store_stmt(s, SQL_MARK_PREFIX_LENS);
    sqlite3_bind_int64(st, 1, (int64_t)limit);
    while (n < SIFT_SOURCE_HEAD_BYTES && (rc = sqlite3_step(st)) == SQLITE_ROW)
        lens[n++] = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (n < SIFT_SOURCE_HEAD_BYTES && rc != SQLITE_DONE) {
        store_db_error(s, d, "cannot read source marks");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (lens[i] <= 0 || (uint64_t)lens[i] > limit)
            continue;
        int r = p->read(p->ctx, 0, buf, (size_t)lens[i], d);
        if (r < 0)
            goto out;
        if (r > 0)
            continue; /* (a .gz shorter than that) */
        st = store_stmt(s, SQL_MARK_BY_PREFIX);
        sqlite3_bind_int64(st, 1, lens[i]);
        sqlite3_bind_int64(st, 2, (int64_t)XXH3_64bits(buf, (size_t)lens[i]));
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            r = short_copy_of(s, p, sqlite3_column_int64(st, 0), out, c, buf, mark, d);
            if (r != 0) {
                sqlite3_reset(st);
                ret = r;
                goto out;
            }
        }
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
            store_db_error(s, d, "cannot read source marks");
            goto out;
        }
    }
    ret = 0;
out:
    free(lens);
    return ret;
}

int store_source_find(struct store *s, const struct store_probe *p, struct store_resume *out,
                      struct diag *d)
{
    /* Every distinct head length the probe could match: 0 to SIFT_SOURCE_HEAD_BYTES, so
     * the array holds them all (a cap forgot the streams committed while shortest, which
     * were then read again from 0). */
    int64_t *lens = xmalloc(((size_t)SIFT_SOURCE_HEAD_BYTES + 1) * sizeof(*lens));
    size_t n_lens = 0;
    unsigned char *head = xmalloc(SIFT_SOURCE_HEAD_BYTES);
    unsigned char *mark = xmalloc(SIFT_SOURCE_MARK_BYTES);
    struct candidate best = { 0 };
    int ret = -1;

    out->how = STORE_RESUME_NEW;
    out->covered = false;
    out->unverified = false;
    out->id = 0;
    out->offset = out->line = 0;
    sbuf_reset(&out->checkpoint);
    sbuf_reset(&out->mark);
    sbuf_reset(&out->prev_name);
    sbuf_reset(&out->pairing);

    sqlite3_stmt *st = store_stmt(s, SQL_SRC_MAX_ID);
    if (sqlite3_step(st) != SQLITE_ROW) {
        store_db_error(s, d, "cannot read source positions");
        goto out;
    }
    out->seen_max_id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);

    /* Head lengths differ only for streams that were shorter than the head when last
     * committed (a directory of small files holds many). */
    st = store_stmt(s, SQL_SRC_HEAD_LENS);
    sqlite3_bind_int64(st, 1,
                       p->size < SIFT_SOURCE_HEAD_BYTES ? (int64_t)p->size
                                                        : (int64_t)SIFT_SOURCE_HEAD_BYTES);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && n_lens <= SIFT_SOURCE_HEAD_BYTES)
        lens[n_lens++] = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        store_db_error(s, d, "cannot read source positions");
        goto out;
    }

    for (size_t li = 0; li < n_lens; li++) {
        int64_t hl = lens[li];
        if (hl < 0 || hl > SIFT_SOURCE_HEAD_BYTES ||
            (p->size != UINT64_MAX && (uint64_t)hl > p->size))
            continue;
        int r = p->read(p->ctx, 0, head, (size_t)hl, d);
        if (r < 0)
            goto out;
        if (r > 0)
            continue;
        st = store_stmt(s, SQL_SRC_BY_HEAD);
        sqlite3_bind_int64(st, 1, hl);
        sqlite3_bind_int64(st, 2, (int64_t)XXH3_64bits(head, (size_t)hl));
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            struct candidate c = candidate_at(st);
            int64_t ml = sqlite3_column_int64(st, 3);
            uint64_t mh = (uint64_t)sqlite3_column_int64(st, 4);
            if (best.id && c.offset <= best.offset)
                break; /* ordered by offset: nothing better follows */
            if (ml < 0 || ml > SIFT_SOURCE_MARK_BYTES || (uint64_t)ml > c.offset)
                continue; /* not a row we wrote */
            bool past_end = p->size != UINT64_MAX && c.offset > p->size;
            if (!past_end) {
                r = p->read(p->ctx, c.offset - (uint64_t)ml, mark, (size_t)ml, d);
                if (r < 0) {
                    sqlite3_reset(st);
                    goto out;
                }
                past_end = r > 0;
                if (!past_end && XXH3_64bits(mark, (size_t)ml) != mh)
                    continue;
            }
            if (past_end) {
                /* Shorter than what was read of this stream: a copy of its start? Not
                 * for the file we read (same dev, inode): that one was truncated. */
                if (c.dev == p->dev && c.inode == p->inode)
                    continue;
                r = prefix_of(s, p, &c, mark, d);
                if (r < 0) {
                    sqlite3_reset(st);
                    goto out;
                }
                if (r == 0) {
                    out->unverified = true;
                    continue;
                }
                best = c;
                if (fill_found(out, st, &c, NULL, 0) < 0)
                    BUG("unbounded sbuf refused an append");
                out->covered = true;
                break;
            }
            best = c;
            if (fill_found(out, st, &c, mark, (size_t)ml) < 0)
                BUG("unbounded sbuf refused an append");
            break;
        }
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            store_db_error(s, d, "cannot read source positions");
            sqlite3_reset(st);
            goto out;
        }
        sqlite3_reset(st);
        if (out->covered)
            break; /* nothing beats reading nothing */
    }

    if (!best.id && (p->size == UINT64_MAX || p->size < SIFT_SOURCE_HEAD_BYTES)) {
        int r = short_copy(s, p, out, &best, head, mark, d);
        if (r < 0)
            goto out;
        if (r == 0)
            best.id = 0;
    }
    if (best.id) {
        out->how =
            best.dev == p->dev && best.inode == p->inode ? STORE_RESUME_SAME : STORE_RESUME_MOVED;
    } else {
        st = store_stmt(s, SQL_SRC_BY_FILE);
        sqlite3_bind_int64(st, 1, (int64_t)p->dev);
        sqlite3_bind_int64(st, 2, (int64_t)p->inode);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            out->replaced_born = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            store_db_error(s, d, "cannot read source positions");
            goto out;
        }
        out->how = rc == SQLITE_ROW ? STORE_RESUME_REPLACED : STORE_RESUME_NEW;
    }
    ret = 0;
out:
    free(lens);
    free(head);
    free(mark);
    return ret;
}
