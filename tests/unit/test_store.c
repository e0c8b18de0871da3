/* SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "rng.h"
#include "core/embedded.h"
#include "core/clock.h"
#include "core/limits.h"
#include "core/xalloc.h"
#include "core/embedded.h"
#include "store/store.h"
#include "store/evblock.h"
#include "store/store_int.h"

static int atoi_3(const char *p)
{
    int n = 0;
    for (int i = 0; i < 3 && p[i] >= '0' && p[i] <= '9'; i++)
        n = n * 10 + (p[i] - '0');
    return n;
}

/* The highest NNN of the embedded schema/NNN_*.sql (the version a new store gets). */
static int newest_schema(void)
{
    int newest = 0;
    for (const struct embedded_file *f = embedded_files; f->path; f++)
        if (!strncmp(f->path, "schema/", 7) && atoi_3(f->path + 7) > newest)
            newest = atoi_3(f->path + 7);
    return newest;
}

static char dir[256];
static int db_seq;

static void make_dir(void)
{
    if (dir[0])
        return;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/sift-test-store.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(1);
    }
}

static void new_path(char *buf, size_t n)
{
    make_dir();
    snprintf(buf, n, "%s/t%d.db", dir, ++db_seq);
}

static struct store *open_rw(const char *path)
{
    struct store *s = NULL;
    struct diag d = DIAG_INIT;
    struct store_opts o = { 0 };
    if (store_open(&s, path, &o, &d) < 0) {
        fprintf(stderr, "store_open: %s\n", d.msg);
        exit(1);
    }
    return s;
}

static struct store *open_ro(const char *path)
{
    struct store *s = NULL;
    struct diag d = DIAG_INIT;
    struct store_opts o = { .read_only = true };
    if (store_open(&s, path, &o, &d) < 0) {
        fprintf(stderr, "store_open: %s\n", d.msg);
        exit(1);
    }
    return s;
}

/* 2026-11-24T10:00:00Z */
/* The store's clock (retention, roll-up, what is "recent") is pinned two days after T0,
 * as the tests were written against: on the real clock, a run weeks later would see their
 * minutes rolled up into hours and their events expired. A test that moves the clock puts
 * this one back (clock_restore()). */
#define PINNED_NOW "2026-11-26T00:00:00Z"
__attribute__((constructor)) static void pin_clock(void)
{
    setenv("SIFT_TEST_NOW", PINNED_NOW, 1);
}

static void clock_restore(void)
{
    setenv("SIFT_TEST_NOW", PINNED_NOW, 1);
}

#define T0  (INT64_C(1795514400) * 1000000)
#define MIN (INT64_C(60) * 1000000)

static struct event duration(int64_t ts, const char *db, const char *user, uint64_t fp, double ms)
{
    struct event ev;
    event_clear(&ev);
    ev.ts_us = ts;
    ev.kind = EV_DURATION;
    ev.phase = PHASE_SIMPLE;
    ev.severity = SEV_LOG;
    ev.duration_ms = ms;
    ev.database = span_cstr(db);
    ev.user = span_cstr(user);
    if (fp) {
        ev.flags |= EVENT_HAS_FINGERPRINT;
        ev.fingerprint = fp;
        ev.fingerprint_hi = fp * 31;
        ev.normalized = SPAN_LIT("SELECT * FROM t WHERE id = $1");
        ev.query = SPAN_LIT("SELECT * FROM t WHERE id = 42 AND name = 'alice'");
    }
    return ev;
}

static int64_t q_int(struct store *s, const char *sql)
{
    sqlite3_stmt *st;
    int64_t v = -999;
    if (sqlite3_prepare_v2(store_sqlite(s), sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(store_sqlite(s)));
        return v;
    }
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Returns a malloc'd string (or NULL). */
static char *q_text(struct store *s, const char *sql)
{
    sqlite3_stmt *st;
    char *v = NULL;
    if (sqlite3_prepare_v2(store_sqlite(s), sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        v = xstrdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return v;
}

/* Every stored event (the events are packed in blocks: read through store_events()). */
struct ev_copy {
    int64_t ts, pid;
    char *message, *detail; /* NULL when absent */
};
struct ev_list {
    struct ev_copy *v;
    size_t n, a;
};

static int ev_collect(void *ctx, const struct store_event_row *r)
{
    struct ev_list *l = ctx;
    XGROW(l->v, l->n + 1, l->a);
    struct ev_copy *c = &l->v[l->n++];
    c->ts = r->ts_us;
    c->pid = r->pid;
    c->message = r->message ? xstrdup(r->message) : NULL;
    c->detail = r->detail ? xstrdup(r->detail) : NULL;
    return 0;
}

static void ev_list_free(struct ev_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].message);
        free(l->v[i].detail);
    }
    free(l->v);
    memset(l, 0, sizeof(*l));
}

/* Fills @l (oldest first) and returns how many events the store holds, -1 on error. */
static int64_t ev_all(struct store *s, struct ev_list *l)
{
    struct diag d = DIAG_INIT;
    struct store_events_opts o = { .since_us = INT64_MIN, .until_us = INT64_MAX };
    memset(l, 0, sizeof(*l));
    if (store_events(s, &o, ev_collect, l, &d) != 0) {
        fprintf(stderr, "store_events: %s\n", d.msg);
        return -1;
    }
    return (int64_t)l->n;
}

static int64_t ev_count(struct store *s)
{
    struct ev_list l;
    int64_t n = ev_all(s, &l);
    ev_list_free(&l);
    return n;
}

static int commit(struct store *s, struct store_source_pos *pos)
{
    struct diag d = DIAG_INIT;
    int rc = store_commit(s, pos, &d);
    if (rc < 0)
        fprintf(stderr, "commit: %s\n", d.msg);
    return rc;
}

/* ---- file modes ---- */

static mode_t mode_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

static void test_created_0600_whatever_the_umask(void)
{
    char path[300], side[320];
    new_path(path, sizeof(path));
    mode_t old = umask(0);
    struct store *s = open_rw(path);
    /* A new store is set up without fsyncs, then commits as any store: NORMAL (1). */
    CHECK_EQ_INT(q_int(s, "PRAGMA synchronous"), 1);
    struct event ev = duration(T0, "app", "u", 1, 1.0);
    store_add(s, &ev);
    CHECK_EQ_INT(commit(s, NULL), STORE_COMMITTED);
    CHECK_EQ_INT(mode_of(path), 0600);
    snprintf(side, sizeof(side), "%s-wal", path);
    CHECK_EQ_INT(mode_of(side), 0600);
    snprintf(side, sizeof(side), "%s-shm", path);
    CHECK_EQ_INT(mode_of(side), 0600);
    store_close(s);
    umask(old);
    /* WAL mode is persistent; the schema version is the newest. */
    s = open_ro(path);
    CHECK_EQ_INT(q_int(s, "PRAGMA user_version"), newest_schema());
    char *jm = q_text(s, "PRAGMA journal_mode");
    CHECK_EQ_STR(jm, "wal");
    free(jm);
    store_close(s);
    /* Opened again for writing (not created): NORMAL as well. */
    s = open_rw(path);
    CHECK_EQ_INT(q_int(s, "PRAGMA synchronous"), 1);
    store_close(s);
}

/* A reader holding an old snapshot keeps checkpoints from reaching the log's end, and the
 * log grows past SIFT_WAL_FORCE_PAGES meanwhile; once the reader is gone and the log
 * starts over, it is cut back to that size (session 17 QA: a 475 MB -wal beside `pgsift
 * tail` with slow reports, never shortened). */
static void test_wal_cut_back_after_a_long_reader(void)
{
    char path[300], wal[320];
    new_path(path, sizeof(path));
    snprintf(wal, sizeof(wal), "%s-wal", path);
    struct store *s = open_rw(path);
    const long long limit = (long long)SIFT_WAL_FORCE_PAGES * 16384;
    CHECK_EQ_INT(q_int(s, "PRAGMA journal_size_limit"), limit);
    sqlite3 *db = store_sqlite(s), *r = NULL;
    CHECK(sqlite3_exec(db, "CREATE TABLE scratch (b BLOB)", NULL, NULL, NULL) == SQLITE_OK);
    CHECK(sqlite3_open_v2(path, &r, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    CHECK(sqlite3_exec(r, "BEGIN; SELECT count(*) FROM sources", NULL, NULL, NULL) == SQLITE_OK);
    for (int i = 0; i < 10; i++) { /* 80 MiB in ten commits, all kept in the log */
        CHECK(sqlite3_exec(db,
                           "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE "
                           "i < 8) INSERT INTO scratch SELECT randomblob(1048576) FROM n",
                           NULL, NULL, NULL) == SQLITE_OK);
        CHECK(sqlite3_exec(db, "PRAGMA wal_checkpoint(PASSIVE)", NULL, NULL, NULL) == SQLITE_OK);
    }
    struct stat st;
    CHECK(stat(wal, &st) == 0 && st.st_size > limit);
    CHECK(sqlite3_exec(r, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(r);
    /* The checkpoint thread's pass, then the next commit starts the log over. */
    CHECK(sqlite3_exec(db, "PRAGMA wal_checkpoint(PASSIVE)", NULL, NULL, NULL) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "INSERT INTO scratch VALUES (1)", NULL, NULL, NULL) == SQLITE_OK);
    CHECK_MSG(stat(wal, &st) == 0 && st.st_size <= limit, "-wal %lld bytes", (long long)st.st_size);
    store_close(s);
}

static void test_open_errors(void)
{
    char path[300];
    struct store *s = NULL;
    struct diag d = DIAG_INIT;
    struct store_opts ro = { .read_only = true }, rw = { 0 };

    new_path(path, sizeof(path));
    CHECK(store_open(&s, path, &ro, &d) < 0);
    CHECK(s == NULL);
    CHECK_EQ_INT(d.kind, DIAG_IO);
    CHECK(strstr(d.msg, "no store at") != NULL);
    CHECK(access(path, F_OK) != 0); /* read-only never creates */

    /* Another application's SQLite database is left alone. */
    sqlite3 *db;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "CREATE TABLE mine (x)", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    diag_clear(&d);
    CHECK(store_open(&s, path, &rw, &d) < 0);
    CHECK(strstr(d.msg, "not a pgsift store") != NULL);

    /* A newer schema than this binary knows. */
    new_path(path, sizeof(path));
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    diag_clear(&d);
    CHECK(store_open(&s, path, &rw, &d) < 0);
    CHECK(strstr(d.msg, "schema version 99") != NULL);

    /* Not a database at all. */
    new_path(path, sizeof(path));
    FILE *f = fopen(path, "w");
    fputs("this is not sqlite, just some text that is long enough to have a header....", f);
    fclose(f);
    diag_clear(&d);
    CHECK(store_open(&s, path, &rw, &d) < 0);
    CHECK_EQ_INT(d.kind, DIAG_DB);

    /* An empty file opened read-only is "not a pgsift store", not a crash. */
    new_path(path, sizeof(path));
    f = fopen(path, "w");
    fclose(f);
    diag_clear(&d);
    CHECK(store_open(&s, path, &ro, &d) < 0);
    CHECK(strstr(d.msg, "not a pgsift store") != NULL);

    /* Reopening migrates nothing twice. */
    new_path(path, sizeof(path));
    s = open_rw(path);
    store_close(s);
    s = open_rw(path);
    CHECK_EQ_INT(q_int(s, "SELECT count(*) FROM sqlite_schema WHERE name = 'query_stats'"), 1);
    store_close(s);
}

/* ---- aggregates and percentiles ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double percentile_cont(double *v, size_t n, double q)
{
    qsort(v, n, sizeof(*v), cmp_double);
    double r = q * (double)(n - 1);
    size_t lo = (size_t)r;
    double f = r - (double)lo;
    return lo + 1 < n ? v[lo] + f * (v[lo + 1] - v[lo]) : v[lo];
}

/* The acceptance check: p95 per fingerprint from the store is within 1 % of the exact
 * p95 of the raw durations, over windows made of many merged minute rows. */
static void test_p95_within_one_percent(void)
{
    char path[300];
    new_path(path, sizeof(path));
    struct store *s = open_rw(path);
    enum { NFP = 5, N = 4000 };
    double *raw[NFP];
    size_t n[NFP] = { 0 };
    double total[NFP] = { 0 };

    for (int f = 0; f < NFP; f++)
        raw[f] = xmalloc(N * sizeof(double));
    for (int i = 0; i < NFP * N; i++) {
        int f = i % NFP;
        /* Log-normal with a different median per fingerprint, ms with µs resolution as
         * PostgreSQL logs them. */
        double z = sqrt(-2 * log(uniform())) * cos(2 * M_PI * uniform());
        double ms = round(exp(log(0.5 + f * 3) + 1.3 * z) * 1000) / 1000;
        int64_t ts = T0 + (int64_t)(uniform() * 180) * MIN; /* over 3 hours */
        const char *db = i % 3 ? "app" : "billing";
        struct event ev = duration(ts, db, i % 2 ? "rw" : "ro", 0x1000 + (uint64_t)f, ms);
        store_add(s, &ev);
        raw[f][n[f]++] = ms;
        total[f] += ms;
        if (i % 997 == 0)
            CHECK_EQ_INT(commit(s, NULL), STORE_COMMITTED);
    }
    CHECK_EQ_INT(commit(s, NULL), STORE_COMMITTED);
    CHECK(q_int(s, "SELECT count(*) FROM query_stats") > 500); /* many minute rows */
    store_close(s);

    s = open_ro(path);
    struct store_top top;
    struct diag d = DIAG_INIT;
    struct store_top_opts o = { .since_us = INT64_MIN, .until_us = INT64_MAX, .by = STORE_BY_P95 };
    CHECK(store_top(s, &o, &top, &d) == 0);
    CHECK_EQ_INT(top.n, NFP);
    for (size_t i = 0; i < top.n; i++) {
        const struct store_top_row *r = &top.rows[i];
        int f = (int)(r->fingerprint - 0x1000);
        CHECK(f >= 0 && f < NFP);
        if (f < 0 || f >= NFP)
            continue;
        CHECK_EQ_U64(r->calls, n[f]);
        CHECK(fabs(r->total_ms - total[f]) < 1e-6 * total[f]);
        double ex95 = percentile_cont(raw[f], n[f], 0.95);
        double ex50 = percentile_cont(raw[f], n[f], 0.50);
        double ex99 = percentile_cont(raw[f], n[f], 0.99);
        CHECK_MSG(fabs(r->p95_ms - ex95) <= 0.01 * ex95, "fp %d p95 %.6f exact %.6f", f, r->p95_ms,
                  ex95);
        CHECK_MSG(fabs(r->p50_ms - ex50) <= 0.01 * ex50, "fp %d p50 %.6f exact %.6f", f, r->p50_ms,
                  ex50);
        CHECK_MSG(fabs(r->p99_ms - ex99) <= 0.01 * ex99, "fp %d p99 %.6f exact %.6f", f, r->p99_ms,
                  ex99);
        CHECK(r->min_ms == raw[f][0]);
        CHECK(r->max_ms == raw[f][n[f] - 1]);
        CHECK_EQ_INT(r->n_databases, 2);
        CHECK_EQ_INT(r->n_users, 2);
        if (i > 0)
            CHECK(top.rows[i - 1].p95_ms >= r->p95_ms);
        CHECK_EQ_STR(r->query, "SELECT * FROM t WHERE id = $1");
    }
    store_top_release(&top);

    /* A narrower window and a filter: again within 1 % of the raw durations in it. */
    o.since_us = T0 + 60 * MIN;
    o.until_us = T0 + 120 * MIN;
    o.database = "billing";
    CHECK(store_top(s, &o, &top, &d) == 0);
    CHECK_EQ_INT(top.n, NFP);
    for (size_t i = 0; i < top.n; i++) {
        CHECK_EQ_INT(top.rows[i].n_databases, 1);
        CHECK_EQ_STR(top.rows[i].databases[0], "billing");
        CHECK(top.rows[i].calls > 0 && top.rows[i].calls < N / 3);
    }
    store_top_release(&top);
    store_close(s);
    for (int f = 0; f < NFP; f++)
        free(raw[f]);
}

static void test_window_p95_matches_raw(void)
{
    /* The same check with the window chosen so that exactly known events fall in it. */
    char path[300];
    new_path(path, sizeof(path));
    struct store *s = open_rw(path);
    double in[600];
    size_t nin = 0;
    for (int i = 0; i < 1800; i++) {
        int64_t ts = T0 + (i % 30) * MIN + i; /* 30 minutes */
        double ms = 0.001 * (1 + (i * 7919) % 100000);
        struct event ev = duration(ts, "app", "rw", 7, ms);
        store_add(s, &ev);
        if (i % 30 >= 10 && i % 30 < 20)
            in[nin++] = ms;
    }
    CHECK_EQ_INT(commit(s, NULL), STORE_COMMITTED);
    struct store_top top;
    struct diag d = DIAG_INIT;
    struct store_top_opts o = { .since_us = T0 + 10 * MIN, .until_us = T0 + 20 * MIN };
    CHECK(store_top(s, &o, &top, &d) == 0);
    CHECK_EQ_INT(top.n, 1);
    if (top.n == 1) {
        CHECK_EQ_U64(top.rows[0].calls, nin);
        double ex = percentile_cont(in, nin, 0.95);
        CHECK_MSG(fabs(top.rows[0].p95_ms - ex) <= 0.01 * ex, "p95 %.6f exact %.6f",
                  top.rows[0].p95_ms, ex);
    }
    store_top_release(&top);
    store_close(s);
}

/* Split by database and/or user (rules grouping by them): one row per fingerprint and
 * partition, the empty value ('' not logged) a partition of its own, percentiles from the
 * partition's own sketches, and the calls adding up to the unsplit row's. */
static void test_top_split(void)
{
    static const char *const dbs[] = { "app", "", "billing" }, *const users[] = { "web", "" };
    char path[300];
    new_path(path, sizeof(path));
    struct store *s = open_rw(path);
    for (int i = 0; i < 600; i++) {
        /* database i % 3, user i % 2; the '' database's statements are 10x slower */
        struct event ev = duration(T0 + i * 100000, dbs[i % 3], users[i % 2], 1 + i % 2,
                                   (i % 3 == 1 ? 100.0 : 10.0) + i % 7);
        store_add(s, &ev);
    }
    CHECK_EQ_INT(commit(s, NULL), STORE_COMMITTED);
    struct diag d = DIAG_INIT;
    struct store_top all, by_db, by_both;
    struct store_top_opts o = { .since_us = T0, .until_us = T0 + 10 * MIN };
    CHECK(store_top(s, &o, &all, &d) == 0);
    o.split_database = true;
    CHECK(store_top(s, &o, &by_db, &d) == 0);
    o.split_user = true;
    CHECK(store_top(s, &o, &by_both, &d) == 0);
    CHECK_EQ_INT(all.n, 2);
    CHECK_EQ_INT(by_db.n, 6);   /* 2 fingerprints x 3 databases */
    CHECK_EQ_INT(by_both.n, 6); /* fingerprint 1 + i % 2 fixes the user: 2 x 3 */
    CHECK(all.rows[0].database == NULL && all.rows[0].user == NULL);
    uint64_t calls = 0, empty_db = 0;
    for (size_t i = 0; i < by_db.n; i++) {
        const struct store_top_row *r = &by_db.rows[i];
        CHECK(r->database != NULL && r->user == NULL);
        calls += r->calls;
        CHECK_EQ_U64(r->calls, 100);
        if (r->database && !*r->database) {
            empty_db++;
            CHECK(r->p95_ms > 99 && r->n_databases == 0);
        } else {
            CHECK(r->p95_ms < 17 && r->n_databases == 1);
        }
    }
    CHECK_EQ_U64(calls, 600);
    CHECK_EQ_U64(empty_db, 2);
    for (size_t i = 0; i < by_both.n; i++) {
        const struct store_top_row *r = &by_both.rows[i];
        CHECK(r->database && r->user);
        if (r->user)
            CHECK_EQ_STR(r->user, r->fingerprint == 1 ? "web" : "");
    }
    /* the order is total: equal calls go by fingerprint, then database */
    CHECK(by_db.rows[0].fingerprint == 1 && by_db.rows[0].database &&
          !strcmp(by_db.rows[0].database, ""));
    store_top_release(&all);
    store_top_release(&by_db);
    store_top_release(&by_both);
    store_close(s);
}

static void test_phases_kept_apart(void)
{
    char path[300];
    new_path(path, sizeof(path));
    struct store *s = open_rw(path);
    struct event ev = duration(T0, "app", "rw", 9, 1.0);
    ev.phase = PHASE_PARSE;
    store_add(s, &ev);
    ev.phase = PHASE_BIND;
    ev.duration_ms = 2.0;
    store_add(s, &ev);
    ev.phase = PHASE_EXECUTE;
    ev.duration_ms = 4.0;
    ev.has_query_id = true;
    ev.query_id = -8745123;
    store_add(s, &ev);
    ev.kind = EV_PLAN; /* auto_explain of the same execution: not a call */
    ev.rows = 12;
    store_add(s, &ev);
    ev = duration(T0, "app", "rw", 9, 6.0);
    ev.phase = PHASE_EXECUTE;
    ev.has_query_id = true;
    ev.query_id = -8745123;
    store_add(s, &ev);
    CHECK_EQ_INT(commit(s, NULL), STORE_COMMITTED);
    CHECK_EQ_INT(q_int(s, "SELECT calls FROM query_stats WHERE phase = 'parse'"), 1);
    CHECK_EQ_INT(q_int(s, "SELECT calls FROM query_stats WHERE phase = 'bind'"), 1);
    CHECK_EQ_INT(q_int(s, "SELECT calls FROM query_stats WHERE phase = 'call'"), 2);
    CHECK_EQ_INT(q_int(s, "SELECT calls FROM query_stats WHERE phase = 'plan'"), 1);
    CHECK_EQ_INT(q_int(s, "SELECT rows FROM query_stats WHERE phase = 'plan'"), 12);
    CHECK_EQ_INT(q_int(s, "SELECT calls FROM query_ids WHERE query_id = -8745123"), 2);

    struct store_top top;
    struct diag d = DIAG_INIT;
    struct store_top_opts o = { .since_us = INT64_MIN, .until_us = INT64_MAX };
    CHECK(store_top(s, &o, &top, &d) == 0);
    CHECK_EQ_INT(top.n, 1);
    if (top.n) {
        CHECK_EQ_U64(top.rows[0].calls, 2);
        CHECK(top.rows[0].total_ms == 10.0);
        CHECK(top.rows[0].mean_ms == 5.0);
        CHECK_EQ_INT(top.rows[0].n_query_ids, 1);
        if (top.rows[0].n_query_ids) {
            CHECK_EQ_INT(top.rows[0].query_ids[0].id, -8745123);
            CHECK_EQ_U64(top.rows[0].query_ids[0].calls, 2);
        }
    }
    store_top_release(&top);
    store_close(s);
}

/* ---- exactly once ---- */

static struct store_source_pos position(const char *name, const char *content, uint64_t start,
                                        uint64_t offset)
{
    size_t hl = strlen(content) < SIFT_SOURCE_HEAD_BYTES ? strlen(content) : SIFT_SOURCE_HEAD_BYTES;
    if (hl > offset)
        hl = (size_t)offset;
    size_t ml = offset < SIFT_SOURCE_MARK_BYTES ? (size_t)offset : SIFT_SOURCE_MARK_BYTES;
    return (struct store_source_pos){
        .name = name,
        .dev = 1,
        .inode = 100,
        .start = start,
        .offset = offset,
        .line = offset / 10,
        .head = span_make(content, hl),
        .mark = span_make(content + offset - ml, ml),
        .checkpoint = SPAN_LIT("parser-state"),
    };
}

struct memfile {
    const char *data;
    size_t len;
    int reads;
};

static int mem_read(void *ctx, uint64_t off, void *buf, size_t len, struct diag *d)
{
    struct memfile *m = ctx;
    (void)d;
    m->reads++;
    if (off > m->len || len > m->len - off)
        return 1;
    memcpy(buf, m->data + off, len);
    return 0;
}

static void find(struct store *s, struct memfile *m, uint64_t dev, uint64_t inode,
                 struct store_resume *r)
{
    struct diag d = DIAG_INIT;
    struct store_probe p = { "f", dev, inode, m->len, mem_read, m };
    CHECK(store_source_find(s, &p, r, &d) == 0);
}

static char *log_text(size_t bytes, unsigned seed)
{
    char *t = xmalloc(bytes + 1);
    size_t at = 0;
    unsigned n = 0;
    while (at < bytes) {
        int w = snprintf(t + at, bytes + 1 - at, "2026-11-24 10:%02u:%02u UTC [%u] LOG:  line %u\n",
                         (n / 60) % 60, n % 60, seed, n);
        at += (size_t)w;
        n++;
    }
    t[bytes] = '\0';
    return t;
}

static void test_recommit_does_not_double_count(void)
{
    char path[300];
    new_path(path, sizeof(path));
    struct store *s = open_rw(path);
    char *content = log_text(10000, 1);

    struct store_source_pos pos = position("pg.log", content, 0, 5000);
    struct event ev = duration(T0, "app", "rw", 1, 1.0);
    store_add(s, &ev);
    CHECK_EQ_INT(commit(s, &pos), STORE_COMMITTED);
    CHECK(pos.id > 0);
    int64_t id = pos.id;

    /* The same batch again (same start): refused, nothing written. */
    struct store_source_pos again = position("pg.log", content, 0, 5000);
    again.id = id;
    store_add(s, &ev);
    CHECK_EQ_INT(commit(s, &again), STORE_STALE);
    CHECK_EQ_INT(q_int(s, "SELECT sum(calls) FROM query_stats"), 1);
    CHECK_EQ_INT(store_batch_records(s), 0); /* the refused batch is gone */

    /* A batch that starts before the saved offset: refused too. */
    struct store_source_pos overlap = position("pg.log", content, 2500, 7000);
    overlap.id = id;
    store_add(s, &ev);
    CHECK_EQ_INT(commit(s, &overlap), STORE_STALE);
    CHECK_EQ_INT(q_int(s, "SELECT sum(calls) FROM query_stats"), 1);

    /* The next batch proper. */
    struct store_source_pos next = position("pg.log", content, 5000, 10000);
    next.id = id;
    store_add(s, &ev);
    CHECK_EQ_INT(commit(s, &next), STORE_COMMITTED);
    CHECK_EQ_INT(q_int(s, "SELECT sum(calls) FROM query_stats"), 2);
    CHECK_EQ_INT(q_int(s, "SELECT offset FROM sources"), 10000);
    CHECK_EQ_INT(q_int(s, "SELECT records FROM sources"), 2);

    /* Two readers that both saw the stream as new: the second one loses, also when it
     * reads a copy (another file: -j 2 given both, or another pgsift). */
    char *other = log_text(3000, 2);
    struct memfile m = { other, 3000, 0 };
    struct store_resume r1, r2;
    store_resume_init(&r1);
    store_resume_init(&r2);
    find(s, &m, 1, 200, &r1);
    find(s, &m, 1, 200, &r2);
    CHECK_EQ_INT(r1.how, STORE_RESUME_NEW);
    struct store_source_pos p1 = position("b.log", other, 0, 3000);
    p1.inode = 200;
    p1.seen_max_id = r1.seen_max_id;
    struct store_source_pos p2 = p1;
    p2.seen_max_id = r2.seen_max_id;
    store_add(s, &ev);
    CHECK_EQ_INT(commit(s, &p1), STORE_COMMITTED);
    store_add(s, &ev);
    CHECK_EQ_INT(commit(s, &p2), STORE_STALE);
    struct store_source_pos p3 = p2;
    p3.inode = 201;
    p3.name = "b-copy.log";
    store_add(s, &ev);
    CHECK_EQ_INT(commit(s, &p3), STORE_STALE);
    CHECK_EQ_INT(q_int(s, "SELECT sum(calls) FROM query_stats"), 3);
    store_resume_release(&r1);
    store_resume_release(&r2);
    free(other);
    free(content);
    store_close(s);
}

static void test_failed_commit_changes_nothing(void)
{
    char path[300];
    new_path(path, sizeof(path));
    struct store *s = open_rw(path);
    char *content = log_text(200000, 3);
    struct store_source_pos pos = position("pg.log", content, 0, 1000);
    struct event ev = duration(T0, "app", "rw", 1, 1.0);
    store_add(s, &ev);
    CHECK_EQ_INT(commit(s, &pos), STORE_COMMITTED);
    int64_t pages = q_int(s, "PRAGMA page_count");

    /* A batch far larger than the few pages we allow: SQLITE_FULL mid-transaction. */
    char pragma[64];
    snprintf(pragma, sizeof(pragma), "PRAGMA max_page_count = %lld", (long long)pages + 2);
    CHECK(sqlite3_exec(store_sqlite(s), pragma, NULL, NULL, NULL) == SQLITE_OK);
    for (int i = 0; i < 20000; i++) {
        struct event big = duration(T0 + i * MIN, "app", "rw", 1000 + (uint64_t)i, i * 0.5);
        store_add(s, &big);
        struct event e;
        event_clear(&e);
        e.ts_us = T0 + i;
        e.kind = EV_CHECKPOINT;
        e.message = SPAN_LIT("checkpoint complete: wrote 1000 buffers (6.1%); 0 WAL file(s) added");
        store_add(s, &e);
    }
    struct store_source_pos next = position("pg.log", content, 1000, 200000);
    next.id = pos.id;
    struct diag d = DIAG_INIT;
    CHECK_EQ_INT(store_commit(s, &next, &d), -1);
    CHECK_EQ_INT(d.kind, DIAG_DB);
    CHECK_MSG(strstr(d.msg, "full") != NULL, "diag: %s", d.msg);
    CHECK_EQ_INT(q_int(s, "SELECT offset FROM sources"), 1000);
    CHECK_EQ_INT(q_int(s, "SELECT sum(calls) FROM query_stats"), 1);
    CHECK_EQ_INT(ev_count(s), 0);
    CHECK_EQ_INT(q_int(s, "SELECT count(*) FROM queries"), 1);

    /* The store stays usable: with room again the same position commits. */
    CHECK(sqlite3_exec(store_sqlite(s), "PRAGMA max_page_count = 1073741823", NULL, NULL, NULL) ==
          SQLITE_OK);
    store_add(s, &ev);
    CHECK_EQ_INT(commit(s, &next), STORE_COMMITTED);
    CHECK_EQ_INT(q_int(s, "SELECT offset FROM sources"), 200000);
    CHECK_EQ_INT(q_int(s, "SELECT sum(calls) FROM query_stats"), 2);
    free(content);
    store_close(s);
}

static void test_source_identity(void)
{
    char path[300];
    new_path(path, sizeof(path));
    struct store *s = open_rw(path);
    char *content = log_text(20000, 4);
    struct store_resume r;
    store_resume_init(&r);

    /* Ingested while plain, up to 12000 bytes. */
    struct memfile plain = { content, 12000, 0 };
    find(s, &plain, 1, 100, &r);
    CHECK_EQ_INT(r.how, STORE_RESUME_NEW);
    CHECK_EQ_INT(r.offset, 0);
    struct store_source_pos pos = position("postgresql.log.1", content, 0, 12000);
    pos.seen_max_id = r.seen_max_id;
    CHECK_EQ_INT(commit(s, &pos), STORE_COMMITTED);

    /* Same file again: continue at 12000, with the checkpoint and the mark. */
    find(s, &plain, 1, 100, &r);
    CHECK_EQ_INT(r.how, STORE_RESUME_SAME);
    CHECK_EQ_INT(r.id, pos.id);
    CHECK_EQ_INT(r.offset, 12000);
    CHECK_EQ_INT(r.line, 1200);
    CHECK_EQ_SPAN(sbuf_span(&r.checkpoint), "parser-state");
    CHECK(r.mark.len == SIFT_SOURCE_MARK_BYTES &&
          !memcmp(r.mark.buf, content + 12000 - SIFT_SOURCE_MARK_BYTES, r.mark.len));

    /* Rotated and gzipped: another inode, the decoded stream has the same start and has
     * grown by a tail: continue where the plain file stopped. */
    struct memfile gz = { content, 20000, 0 };
    find(s, &gz, 1, 555, &r);
    CHECK_EQ_INT(r.how, STORE_RESUME_MOVED);
    CHECK_EQ_INT(r.id, pos.id);
    CHECK_EQ_INT(r.offset, 12000);
    CHECK_EQ_SPAN(sbuf_span(&r.prev_name), "postgresql.log.1");

    /* Truncated and rewritten in place (same inode, other content): from 0. */
    char *rewritten = log_text(15000, 5);
    struct memfile rw = { rewritten, 15000, 0 };
    find(s, &rw, 1, 100, &r);
    CHECK_EQ_INT(r.how, STORE_RESUME_REPLACED);
    CHECK_EQ_INT(r.id, 0);
    CHECK_EQ_INT(r.offset, 0);

    /* Truncated (shorter than the saved offset), same start: from 0 as well. */
    struct memfile shorter = { content, 8000, 0 };
    find(s, &shorter, 1, 100, &r);
    CHECK_EQ_INT(r.how, STORE_RESUME_REPLACED);
    CHECK_EQ_INT(r.offset, 0);

    /* Same head, different bytes before the offset (rewritten past the head). */
    char *mixed = xstrdup(content);
    memset(mixed + 9000, 'x', 100);
    struct memfile mx = { mixed, 20000, 0 };
    find(s, &mx, 1, 100, &r);
    CHECK_EQ_INT(r.how, STORE_RESUME_REPLACED);

    /* A stream shorter than the head when committed is found again after it grew. */
    char *small = log_text(300, 6);
    struct store_source_pos sp = position("small.log", small, 0, 300);
    sp.inode = 300;
    sp.seen_max_id = q_int(s, "SELECT max(id) FROM sources"); /* (looked just now) */
    CHECK_EQ_INT(commit(s, &sp), STORE_COMMITTED);
    char *grown = log_text(6000, 6);
    CHECK(!memcmp(grown, small, 300));
    struct memfile g = { grown, 6000, 0 };
    find(s, &g, 1, 300, &r);
    CHECK_EQ_INT(r.how, STORE_RESUME_SAME);
    CHECK_EQ_INT(r.offset, 300);

    store_resume_release(&r);
    free(small);
    free(grown);
    free(mixed);
    free(rewritten);
    free(content);
    store_close(s);
}

/* Many streams shorter than the head when committed, each of another length (a
 * directory of small log files): every one is found again, however many lengths the
 * store holds (a cap on the distinct lengths looked at forgot the shortest streams,
 * which were then read again from 0: counted twice). */
static void test_many_short_streams(void)
{
    char path[300];
    new_path(path, sizeof(path));
    struct store *s = open_rw(path);
    enum { N = 150 };
    char *texts[N];
    struct store_resume r;
    store_resume_init(&r);

    for (unsigned i = 0; i < N; i++) {
        size_t len = 100 + (size_t)i * 13; /* all below the head size */
        CHECK(len < SIFT_SOURCE_HEAD_BYTES);
        texts[i] = log_text(len, 1000 + i);
        struct store_source_pos pos = position("small.log", texts[i], 0, len);
        pos.inode = 1000 + i;
        struct event ev = duration(T0, "app", "rw", 1, 1.0);
        store_add(s, &ev);
        CHECK_EQ_INT(commit(s, &pos), STORE_COMMITTED);
    }
    CHECK_EQ_INT(q_int(s, "SELECT count(DISTINCT head_len) FROM sources"), N);
    for (unsigned i = 0; i < N; i++) {
        size_t len = 100 + (size_t)i * 13;
        struct memfile m = { texts[i], len, 0 };
        find(s, &m, 1, 1000 + i, &r);
        CHECK_MSG(r.how == STORE_RESUME_SAME && r.offset == len,
                  "stream %u (%zu bytes): how %d offset %llu", i, len, (int)r.how,
                  (unsigned long long)r.offset);
    }
    store_resume_release(&r);
    for (unsigned i = 0; i < N; i++)
        free(texts[i]);
    store_close(s);
}

/* Two readers see the same short file as new, one when it held 2000 bytes, the other
 * when it held 3000: their heads differ in length (a head is at most the bytes
 * committed), and the second commit must still be refused, in either order. A file of
 * other content on the same inode (deleted, inode reused) is another stream. */
static void test_concurrent_new_short_file(void)
{
    char *content = log_text(3000, 7);
    char *other = log_text(3000, 8);
    struct event ev = duration(T0, "app", "rw", 1, 1.0);

    for (int order = 0; order < 2; order++) {
        char path[300];
        new_path(path, sizeof(path));
        struct store *s = open_rw(path);
        struct store_resume r;
        store_resume_init(&r);
        struct memfile m = { content, 2000, 0 };
        find(s, &m, 1, 100, &r);
        CHECK_EQ_INT(r.how, STORE_RESUME_NEW);
        struct store_source_pos shortp = position("pg.log", content, 0, 2000);
        struct store_source_pos longp = position("pg.log", content, 0, 3000);
        shortp.seen_max_id = longp.seen_max_id = r.seen_max_id;
        struct store_source_pos *first = order ? &longp : &shortp;
        struct store_source_pos *second = order ? &shortp : &longp;
        store_add(s, &ev);
        CHECK_EQ_INT(commit(s, first), STORE_COMMITTED);
        store_add(s, &ev);
        CHECK_EQ_INT(commit(s, second), STORE_STALE);
        CHECK_EQ_INT(q_int(s, "SELECT count(*) FROM sources"), 1);
        CHECK_EQ_INT(q_int(s, "SELECT sum(calls) FROM query_stats"), 1);

        /* Other content on the same inode, new since we looked: not the same stream. */
        struct store_source_pos op = position("pg.log", other, 0, 3000);
        op.seen_max_id = r.seen_max_id;
        store_add(s, &ev);
        CHECK_EQ_INT(commit(s, &op), STORE_COMMITTED);
        store_resume_release(&r);
        store_close(s);
    }
    free(content);
    free(other);
}

/* A file that is a SHORTER copy of a stream read past the copy's end (logrotate's
 * copytruncate copied the log before the last lines pgsift read; `gzip -k` while the
 * server wrote on): the stream's offset lies past the file's end, so its mark cannot be
 * checked. The marks of earlier commits (source_marks) tell it: all its bytes were read,
 * nothing of it is read again (before: read as new, every record counted twice). */
static void find_gz(struct store *s, struct memfile *m, uint64_t inode, struct store_resume *r)
{
    struct diag d = DIAG_INIT;
    struct store_probe p = { "f.gz", 1, inode, UINT64_MAX, mem_read, m };
    CHECK(store_source_find(s, &p, r, &d) == 0);
}

static void test_shorter_copies(void)
{
    char path[300];
    new_path(path, sizeof(path));
    struct store *s = open_rw(path);
    char *content = log_text(400000, 9);
    struct store_resume r;
    store_resume_init(&r);
    struct event ev = duration(T0, "app", "rw", 1, 1.0);

    /* Read at 10000, 20000, 30000, 40000. */
    int64_t id = 0;
    for (uint64_t off = 10000; off <= 40000; off += 10000) {
        struct store_source_pos pos = position("pg.log", content, off - 10000, off);
        pos.id = id;
        store_add(s, &ev);
        CHECK_EQ_INT(commit(s, &pos), STORE_COMMITTED);
        id = pos.id;
    }
    CHECK_EQ_INT(q_int(s, "SELECT count(*) FROM source_marks"), 4);

    /* Copies ending between two marks, exactly at one, just before the offset: read. */
    static const size_t ends[] = { 25000, 30000, 39999, 10000, 10001 };
    for (size_t i = 0; i < ARRAY_SIZE(ends); i++) {
        struct memfile m = { content, ends[i], 0 };
        find(s, &m, 1, 555, &r);
        CHECK_MSG(r.how == STORE_RESUME_MOVED && r.covered && r.id == id && r.offset == 40000,
                  "copy of %zu bytes: how %d covered %d offset %llu", ends[i], (int)r.how,
                  (int)r.covered, (unsigned long long)r.offset);
        CHECK_MSG(m.reads <= 2, "copy of %zu bytes: %d reads", ends[i], m.reads);
        /* the same through gzip (decoded size unknown) */
        struct memfile g = { content, ends[i], 0 };
        find_gz(s, &g, 556, &r);
        CHECK_MSG(r.how == STORE_RESUME_MOVED && r.covered && r.id == id,
                  "gz copy of %zu bytes: how %d covered %d", ends[i], (int)r.how, (int)r.covered);
    }

    /* Before the first kept mark: nothing but the head to go by: new. */
    struct memfile early = { content, 9000, 0 };
    find(s, &early, 1, 555, &r);
    CHECK_EQ_INT(r.how, STORE_RESUME_NEW);
    CHECK(!r.covered);
    find_gz(s, &early, 556, &r);
    CHECK_EQ_INT(r.how, STORE_RESUME_NEW);

    /* Same head, other bytes later (another server's log that starts alike): new. */
    char *other = log_text(25000, 10);
    char *mixed = xmalloc(25000);
    memcpy(mixed, content, 6000);
    memcpy(mixed + 6000, other + 6000, 25000 - 6000);
    struct memfile mx = { mixed, 25000, 0 };
    find(s, &mx, 1, 555, &r);
    CHECK_EQ_INT(r.how, STORE_RESUME_NEW);
    CHECK(!r.covered);
    find_gz(s, &mx, 556, &r);
    CHECK_EQ_INT(r.how, STORE_RESUME_NEW);

    /* The file read itself, now shorter: truncated in place, from 0 as before. */
    struct memfile trunc = { content, 25000, 0 };
    find(s, &trunc, 1, 100, &r);
    CHECK_EQ_INT(r.how, STORE_RESUME_REPLACED);
    CHECK(!r.covered);

    /* A longer copy continues where the stream stopped. */
    struct memfile longer = { content, 50000, 0 };
    find(s, &longer, 1, 557, &r);
    CHECK(r.how == STORE_RESUME_MOVED && !r.covered && r.offset == 40000);
    find_gz(s, &longer, 558, &r);
    CHECK(r.how == STORE_RESUME_MOVED && !r.covered && r.offset == 40000);

    /* The stream goes on for many commits: the kept marks stay bounded, the first one
     * and a spread of later ones stay, so copies made long ago are still recognised. */
    uint64_t off = 40000;
    for (int i = 0; i < 150; i++) {
        struct store_source_pos pos = position("pg.log", content, off, off + 2000);
        pos.id = id;
        store_add(s, &ev);
        CHECK_EQ_INT(commit(s, &pos), STORE_COMMITTED);
        off += 2000;
    }
    CHECK_EQ_INT(q_int(s, "SELECT count(*) FROM source_marks"), SIFT_SOURCE_MARKS_KEPT);
    CHECK_EQ_INT(q_int(s, "SELECT min(offset) FROM source_marks"), 10000);
    CHECK_EQ_INT(q_int(s, "SELECT max(offset) FROM source_marks"), (int64_t)off);
    CHECK_EQ_INT(q_int(s, "SELECT count(*) FROM source_marks WHERE offset > 340000 - 16000"),
                 SIFT_SOURCE_MARKS_NEWEST);
    static const size_t later[] = { 10500, 25000, 39999, 100000, 200000, 339000 };
    for (size_t i = 0; i < ARRAY_SIZE(later); i++) {
        struct memfile m = { content, later[i], 0 };
        find(s, &m, 1, 555, &r);
        CHECK_MSG(r.covered && r.offset == off, "copy of %zu bytes, later: how %d covered %d",
                  later[i], (int)r.how, (int)r.covered);
    }

    /* An expired stream's marks go with it; a new stream reusing its id starts bare. */
    CHECK(sqlite3_exec(store_sqlite(s), "UPDATE sources SET last_ingest = 0, newest_at = 0", NULL,
                       NULL, NULL) == SQLITE_OK);
    struct diag d = DIAG_INIT;
    CHECK(store_rollup(s, T0, NULL, &d) == 0);
    CHECK_EQ_INT(q_int(s, "SELECT count(*) FROM sources"), 0);
    CHECK_EQ_INT(q_int(s, "SELECT count(*) FROM source_marks"), 0);

    store_resume_release(&r);
    free(mixed);
    free(other);
    free(content);
    store_close(s);
}

/* ---- redaction ---- */

static void test_redaction_in_store(void)
{
    char path[300];
    for (int keep = 0; keep <= 1; keep++) {
        new_path(path, sizeof(path));
        struct store *s = NULL;
        struct diag d = DIAG_INIT;
        struct store_opts o = { .keep_literals = keep };
        CHECK(store_open(&s, path, &o, &d) == 0);
        struct event ev;
        event_clear(&ev);
        ev.ts_us = T0;
        ev.kind = EV_ERROR;
        ev.severity = SEV_ERROR;
        memcpy(ev.sqlstate, "23505", 6);
        ev.database = SPAN_LIT("app");
        ev.message = SPAN_LIT("duplicate key value violates unique constraint \"users_email_key\"");
        ev.detail = SPAN_LIT("Key (email)=(alice@example.com) already exists.");
        ev.statement = SPAN_LIT("INSERT INTO users (email) VALUES ('alice@example.com')");
        ev.flags |= EVENT_HAS_FINGERPRINT | EVENT_HAS_PARAMS;
        ev.fingerprint = 77;
        ev.normalized = SPAN_LIT("INSERT INTO users (email) VALUES ($1)");
        ev.params = SPAN_LIT("$1 = 'secret-param'");
        store_add(s, &ev);
        ev.detail = SPAN_LIT("Key (email)=(bob@example.com) already exists.");
        store_add(s, &ev);
        CHECK_EQ_INT(commit(s, NULL), STORE_COMMITTED);

        struct ev_list evs;
        CHECK_EQ_INT(ev_all(s, &evs), 2);
        char *detail = evs.n && evs.v[0].detail ? xstrdup(evs.v[0].detail) : NULL;
        char *sample = q_text(s, "SELECT sample FROM queries WHERE fingerprint = 77");
        char *esample = q_text(s, "SELECT sample FROM error_stats");
        if (!keep) {
            CHECK_EQ_STR(detail, "Key (email)=(\xe2\x80\xa6) already exists.");
            CHECK_EQ_STR(sample, "INSERT INTO users (email) VALUES ($1)");
            CHECK(esample && !strstr(esample, "alice"));
        } else {
            CHECK_EQ_STR(detail, "Key (email)=(alice@example.com) already exists.");
            CHECK_EQ_STR(sample, "INSERT INTO users (email) VALUES ('alice@example.com')");
        }
        /* One error group whatever the values; its key never holds them. */
        CHECK_EQ_INT(q_int(s, "SELECT count(*) FROM error_stats"), 1);
        CHECK_EQ_INT(q_int(s, "SELECT count FROM error_stats"), 2);
        CHECK_EQ_INT(q_int(s, "SELECT errors FROM query_stats WHERE fingerprint = 77"), 2);
        CHECK_EQ_INT(q_int(s, "SELECT calls FROM query_stats WHERE fingerprint = 77"), 0);
        /* Bind parameters never reach the store. */
        for (size_t i = 0; i < evs.n; i++)
            CHECK(!(evs.v[i].message && strstr(evs.v[i].message, "secret-param")) &&
                  !(evs.v[i].detail && strstr(evs.v[i].detail, "secret-param")));
        ev_list_free(&evs);
        free(detail);
        free(sample);
        free(esample);
        store_close(s);
    }
}

/* ---- events, catalogue, rejects ---- */

static int collect(void *ctx, const struct store_event_row *r)
{
    struct sbuf *sb = ctx;
    if (sbuf_addf(sb, "%s@%lld", r->kind, (long long)((r->ts_us - T0) / MIN)) < 0)
        return -1;
    for (size_t i = 0; i < r->n_facts; i++)
        if (!strcmp(r->facts[i].name, "wait_ms") && sbuf_addf(sb, ":%g", r->facts[i].r) < 0)
            return -1;
    return sbuf_addch(sb, ' ');
}

static void test_events(void)
{
    char path[300];
    new_path(path, sizeof(path));
    struct store *s = open_rw(path);
    static const enum event_kind kinds[] = { EV_LOCK_WAIT, EV_CHECKPOINT, EV_DEADLOCK,
                                             EV_CONNECTION, EV_LOCK_WAIT };
    for (int i = 0; i < 5; i++) {
        struct event ev;
        event_clear(&ev);
        ev.ts_us = T0 + i * MIN;
        ev.kind = kinds[i];
        ev.severity = SEV_LOG;
        ev.message = SPAN_LIT("some message");
        if (ev.kind == EV_LOCK_WAIT)
            ev.facts.wait_ms = 1000.5 + i;
        store_add(s, &ev);
    }
    struct event st = duration(T0, "app", "rw", 1, 1); /* not an event row */
    store_add(s, &st);
    st.kind = EV_STATEMENT;
    st.duration_ms = -1;
    store_add(s, &st);
    CHECK_EQ_INT(commit(s, NULL), STORE_COMMITTED);
    CHECK_EQ_INT(ev_count(s), 5);
    CHECK_EQ_INT(q_int(s, "SELECT sum(n) FROM event_blocks"), 5);
    CHECK_EQ_INT(q_int(s, "SELECT count(*) FROM event_blocks"), 1);
    CHECK_EQ_INT(q_int(s, "SELECT kinds FROM event_blocks"),
                 1 << EV_LOCK_WAIT | 1 << EV_CHECKPOINT | 1 << EV_DEADLOCK | 1 << EV_CONNECTION);
    CHECK_EQ_INT(q_int(s, "SELECT ts_max - ts_min FROM event_blocks"), 4 * MIN);
    CHECK_EQ_INT(q_int(s, "SELECT sum(count) FROM record_stats"), 7);

    struct sbuf out = SBUF_INIT;
    struct diag d = DIAG_INIT;
    struct store_events_opts o = { .since_us = INT64_MIN, .until_us = INT64_MAX };
    CHECK(store_events(s, &o, collect, &out, &d) == 0);
    CHECK_EQ_STR(out.buf, "lock_wait@0:1000.5 checkpoint@1 deadlock@2 connection@3 "
                          "lock_wait@4:1004.5 ");
    sbuf_reset(&out);
    o.limit = 2; /* the newest two, oldest first */
    CHECK(store_events(s, &o, collect, &out, &d) == 0);
    CHECK_EQ_STR(out.buf, "connection@3 lock_wait@4:1004.5 ");
    sbuf_reset(&out);
    o.limit = 0;
    o.kinds = 1u << EV_LOCK_WAIT | 1u << EV_DEADLOCK;
    o.since_us = T0 + 1 * MIN;
    CHECK(store_events(s, &o, collect, &out, &d) == 0);
    CHECK_EQ_STR(out.buf, "deadlock@2 lock_wait@4:1004.5 ");
    uint64_t counts[EV_KIND_COUNT];
    o.kinds = 0;
    CHECK(store_event_counts(s, &o, counts, &d) == 0);
    CHECK_EQ_U64(counts[EV_LOCK_WAIT], 1);
    CHECK_EQ_U64(counts[EV_CHECKPOINT], 1);
    CHECK_EQ_U64(counts[EV_DURATION], 0);
    sbuf_release(&out);
    store_close(s);
}

static void test_catalogue_and_collisions(void)
{
    char path[300];
    new_path(path, sizeof(path));
    struct store *s = open_rw(path);
    struct event a = duration(T0 + 5 * MIN, "app", "rw", 42, 1);
    store_add(s, &a);
    CHECK_EQ_INT(commit(s, NULL), STORE_COMMITTED);
    struct event b = duration(T0, "app", "rw", 42, 1);
    b.fingerprint_hi = 12345; /* another statement under the same 64 bits */
    store_add(s, &b);
    store_add(s, &b);
    CHECK_EQ_INT(commit(s, NULL), STORE_COMMITTED);
    CHECK_EQ_INT(q_int(s, "SELECT collisions FROM queries"), 2);
    CHECK_EQ_INT(q_int(s, "SELECT first_seen FROM queries"), T0);
    CHECK_EQ_INT(q_int(s, "SELECT last_seen FROM queries"), T0 + 5 * MIN);
    store_close(s);
}

static void test_rejects(void)
{
    char path[300];
    new_path(path, sizeof(path));
    struct store *s = open_rw(path);
    for (int batch = 0; batch < 3; batch++) {
        for (int i = 0; i < 15; i++) {
            struct store_reject r = { SPAN_LIT("pg.log"), "no log_line_prefix match",
                                      (uint64_t)(batch * 100 + i), 0,
                                      SPAN_LIT("garbage with 'a literal' in it") };
            store_add_reject(s, &r);
            r.reason = "invalid UTF-8";
            if (i % 5 == 0)
                store_add_reject(s, &r);
        }
        CHECK_EQ_INT(commit(s, NULL), STORE_COMMITTED);
    }
    CHECK_EQ_INT(q_int(s, "SELECT count FROM rejects WHERE reason = 'no log_line_prefix match'"),
                 45);
    CHECK_EQ_INT(q_int(s, "SELECT count FROM rejects WHERE reason = 'invalid UTF-8'"), 9);
    CHECK_EQ_INT(q_int(s, "SELECT count(*) FROM reject_samples WHERE reason ="
                          " 'no log_line_prefix match'"),
                 SIFT_MAX_REJECT_SAMPLES);
    CHECK_EQ_INT(q_int(s, "SELECT count(*) FROM reject_samples WHERE reason = 'invalid UTF-8'"), 9);
    char *sample = q_text(s, "SELECT sample FROM reject_samples LIMIT 1");
    CHECK_EQ_STR(sample, "garbage with '\xe2\x80\xa6' in it");
    free(sample);
    store_close(s);
}

/* ---- retention ---- */

static void test_rollup(void)
{
    char path[300];
    new_path(path, sizeof(path));
    struct store *s = NULL;
    struct diag d = DIAG_INIT;
    struct store_opts o = { .retention = { .minutes_us = 2 * 86400 * INT64_C(1000000),
                                           .hours_us = 10 * 86400 * INT64_C(1000000),
                                           .days_us = 30 * 86400 * INT64_C(1000000) } };
    CHECK(store_open(&s, path, &o, &d) == 0);
    /* 40 days of data, 3 calls every 20 minutes. */
    double *raw = xmalloc(40 * 72 * 3 * sizeof(double));
    size_t n = 0, n_recent = 0;
    int64_t start = T0 - 40 * 86400 * INT64_C(1000000);
    /* Committed 40 days ago, so all as minutes (a commit writes what retention has passed
     * as hours and days at once: test_rollup_at_commit): the roll-up does the rest. */
    char then[32];
    snprintf(then, sizeof(then), "%lld", (long long)(start / 1000000));
    setenv("SIFT_TEST_NOW", then, 1);
    int64_t day_us = 86400 * INT64_C(1000000);
    int64_t since = (T0 - 29 * day_us) / day_us * day_us; /* a day boundary */
    for (int64_t t = start; t < T0; t += 20 * MIN) {
        for (int k = 0; k < 3; k++) {
            double ms = 0.5 + (double)((n * 7919) % 1000) / 10;
            struct event ev = duration(t + k * 1000000, "app", "rw", 5, ms);
            store_add(s, &ev);
            if (t >= since)
                raw[n_recent++] = ms;
            n++;
        }
        if (store_batch_records(s) > 5000)
            CHECK_EQ_INT(commit(s, NULL), STORE_COMMITTED);
    }
    CHECK_EQ_INT(commit(s, NULL), STORE_COMMITTED);
    clock_restore();
    CHECK(q_int(s, "SELECT count(*) FROM query_stats WHERE width <> 60") == 0);

    struct store_top before, after;
    struct store_top_opts to = { .since_us = since, .until_us = INT64_MAX };
    CHECK(store_top(s, &to, &before, &d) == 0);

    struct store_rollup_stats st;
    CHECK(store_rollup(s, T0, &st, &d) == 0);
    CHECK(st.minute_rows > 0);
    CHECK(st.hour_rows > 0);
    CHECK(st.day_rows > 0);
    /* Nothing finer than an hour is older than 2 days; nothing finer than a day older
     * than 10; nothing at all older than 30 (day-aligned cut-offs). */
    int64_t t0s = T0 / 1000000;
    char sql[200];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM query_stats WHERE width = 60 AND bucket < %lld",
             (long long)(t0s - 2 * 86400 - 3600));
    CHECK_EQ_INT(q_int(s, sql), 0);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM query_stats WHERE width = 3600 AND bucket < %lld",
             (long long)(t0s - 10 * 86400 - 86400));
    CHECK_EQ_INT(q_int(s, sql), 0);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM query_stats WHERE bucket < %lld",
             (long long)(t0s - 31 * 86400));
    CHECK_EQ_INT(q_int(s, sql), 0);
    CHECK(q_int(s, "SELECT count(*) FROM query_stats WHERE width = 86400") > 0);
    CHECK(q_int(s, "SELECT count(*) FROM query_stats WHERE width = 3600") > 0);
    CHECK(q_int(s, "SELECT count(*) FROM record_stats WHERE width = 86400") > 0);

    /* Over a window that starts on a day boundary, the rolled-up store answers as
     * before: same calls and total, percentiles within 1 % of the raw durations. */
    CHECK(store_top(s, &to, &after, &d) == 0);
    CHECK_EQ_INT(after.n, 1);
    CHECK_EQ_INT(before.n, 1);
    if (after.n == 1 && before.n == 1) {
        CHECK_EQ_U64(after.rows[0].calls, before.rows[0].calls);
        CHECK(fabs(after.rows[0].total_ms - before.rows[0].total_ms) < 1e-6);
        CHECK(after.rows[0].p95_ms == before.rows[0].p95_ms);
        CHECK(after.rows[0].max_ms == before.rows[0].max_ms);
        CHECK_EQ_U64(after.rows[0].calls, n_recent);
        double ex = percentile_cont(raw, n_recent, 0.95);
        CHECK_MSG(fabs(after.rows[0].p95_ms - ex) <= 0.01 * ex, "p95 %f exact %f",
                  after.rows[0].p95_ms, ex);
    }
    store_top_release(&before);
    store_top_release(&after);

    /* Rolling up again changes nothing; the catalogue entry is still needed. */
    int64_t rows = q_int(s, "SELECT count(*) FROM query_stats");
    CHECK(store_rollup(s, T0, &st, &d) == 0);
    CHECK_EQ_INT(q_int(s, "SELECT count(*) FROM query_stats"), rows);
    CHECK_EQ_INT(q_int(s, "SELECT count(*) FROM queries"), 1);

    /* Far in the future everything expires, catalogue and sources included. */
    CHECK(store_rollup(s, T0 + 400 * 86400 * INT64_C(1000000), &st, &d) == 0);
    CHECK_EQ_INT(q_int(s, "SELECT count(*) FROM query_stats"), 0);
    CHECK_EQ_INT(q_int(s, "SELECT count(*) FROM queries"), 0);
    free(raw);
    store_close(s);
}

/* Rows of @table (its columns @cols) in @a's store and not in the one at @path_b, plus those
 * the other way round: 0 when the two tables hold the same rows; -1 on error. */
static int64_t rows_not_in(struct store *a, const char *path_b, const char *table, const char *cols)
{
    char sql[1200];
    snprintf(sql, sizeof(sql), "ATTACH '%s' AS other", path_b);
    if (sqlite3_exec(store_sqlite(a), sql, NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    snprintf(sql, sizeof(sql),
             "SELECT (SELECT count(*) FROM (SELECT %s FROM main.%s EXCEPT SELECT %s FROM"
             " other.%s)) + (SELECT count(*) FROM (SELECT %s FROM other.%s EXCEPT SELECT %s"
             " FROM main.%s))",
             cols, table, cols, table, cols, table, cols, table);
    int64_t n = q_int(a, sql);
    sqlite3_exec(store_sqlite(a), "DETACH other", NULL, NULL, NULL);
    return n;
}

/* A commit writes records that retention has passed straight into the hour and day rows
 * the roll-up would have made (store_cut_bucket()): the same store as committing minutes
 * and rolling them up, and nothing left to roll. */
static void test_rollup_at_commit(void)
{
    char pa[300], pb[300];
    struct store_opts o = { .retention = { .minutes_us = 2 * 86400 * INT64_C(1000000),
                                           .hours_us = 10 * 86400 * INT64_C(1000000),
                                           .days_us = 30 * 86400 * INT64_C(1000000) } };
    struct diag d = DIAG_INIT;
    struct store *s[2] = { NULL, NULL };
    char clock[2][32];
    int64_t start = T0 - 40 * 86400 * INT64_C(1000000);
    snprintf(clock[0], sizeof(clock[0]), "%lld", (long long)(start / 1000000)); /* minutes */
    snprintf(clock[1], sizeof(clock[1]), "%lld", (long long)(T0 / 1000000));    /* coarse */
    new_path(pa, sizeof(pa));
    new_path(pb, sizeof(pb));
    CHECK(store_open(&s[0], pa, &o, &d) == 0);
    CHECK(store_open(&s[1], pb, &o, &d) == 0);
    if (!s[0] || !s[1])
        return;
    static const char *const dbs[] = { "app", "billing" };
    for (int k = 0; k < 2; k++) {
        setenv("SIFT_TEST_NOW", clock[k], 1);
        size_t n = 0;
        struct store_batch *b = store_batch_new(s[k]);
        store_batch_set_input(b, "pg");
        for (int64_t t = start; t < T0; t += 7 * MIN, n++) {
            struct event ev = duration(t, dbs[n % 2], "rw", 5 + n % 3, 0.5 + (double)(n % 91));
            ev.query_id = (int64_t)(n % 2);
            ev.has_query_id = true;
            store_batch_add(b, &ev);
            if (n % 5 == 0) {
                event_clear(&ev);
                ev.ts_us = t + 1000000;
                ev.kind = EV_ERROR;
                ev.severity = SEV_ERROR;
                memcpy(ev.sqlstate, "23505", 6);
                ev.database = span_cstr(dbs[n % 2]);
                ev.message = SPAN_LIT("duplicate key value violates unique constraint \"k\"");
                /* a sample that differs by minute: which minute's is kept shows */
                char detail[64];
                snprintf(detail, sizeof(detail), "attempt %zu of many", n);
                ev.detail = span_cstr(detail);
                store_batch_add(b, &ev);
            }
            /* batches of unrelated sizes: a row's minutes span commits */
            if (store_batch_count(b) >= 997) {
                CHECK_EQ_INT(store_commit_batch(s[k], b, NULL, &d), STORE_COMMITTED);
            }
        }
        CHECK_EQ_INT(store_commit_batch(s[k], b, NULL, &d), STORE_COMMITTED);
        store_batch_free(b);
        clock_restore();
    }
    CHECK(q_int(s[0], "SELECT count(*) FROM query_stats WHERE width <> 60") == 0);
    CHECK(q_int(s[1], "SELECT count(*) FROM query_stats WHERE width = 60") > 0);
    CHECK(q_int(s[1], "SELECT count(*) FROM query_stats WHERE width = 3600") > 0);
    CHECK(q_int(s[1], "SELECT count(*) FROM query_stats WHERE width = 86400") > 0);
    CHECK(q_int(s[1], "SELECT count(*) FROM error_stats WHERE width = 86400") > 0);
    CHECK(q_int(s[1], "SELECT count(*) FROM input_stats WHERE width = 3600") > 0);

    struct store_rollup_stats st[2];
    for (int k = 0; k < 2; k++)
        CHECK(store_rollup(s[k], T0, &st[k], &d) == 0);
    CHECK(st[0].minute_rows > 0);
    CHECK_EQ_U64(st[1].minute_rows, 0);
    CHECK_EQ_U64(st[1].hour_rows, 0);
    CHECK_EQ_U64(st[1].day_rows, st[0].day_rows);
    CHECK(q_int(s[1], "SELECT count(*) FROM query_stats") > 0);
    CHECK_EQ_INT(q_int(s[0], "SELECT count(*) FROM query_stats"),
                 q_int(s[1], "SELECT count(*) FROM query_stats"));
    /* every column (the sum of squares to 1e-9: floats added in another order) */
    CHECK_EQ_INT(rows_not_in(s[0], pb, "query_stats",
                             "bucket, width, database, username, fingerprint, phase, query_id,"
                             " calls, total_us, min_ms, max_ms, round(sumsq_ms, 9), rows,"
                             " rows_calls, errors, hex(sketch)"),
                 0);
    /* error samples too: the earliest of the minutes', rolled up or written at once */
    CHECK_EQ_INT(rows_not_in(s[0], pb, "error_stats", "*"), 0);
    CHECK_EQ_INT(rows_not_in(s[0], pb, "record_stats", "*"), 0);
    CHECK_EQ_INT(rows_not_in(s[0], pb, "input_stats", "*"), 0);
    CHECK(q_int(s[1], "SELECT count(*) FROM error_stats") > 0);
    CHECK(q_int(s[1], "SELECT count(*) FROM input_stats") > 0);
    store_close(s[0]);
    store_close(s[1]);
}

/* Events older than the retention go; a block straddling the cut-off is rewritten with
 * only its newer events, in their order, so counts stay exact. */
static void test_event_expiry(void)
{
    char path[300];
    new_path(path, sizeof(path));
    struct store *s = NULL;
    struct diag d = DIAG_INIT;
    int64_t day = 86400 * INT64_C(1000000);
    struct store_opts o = { .retention = { .events_us = day } };
    CHECK(store_open(&s, path, &o, &d) == 0);
    /* batch 1: all old; batch 2: old and new interleaved; batch 3: all new */
    static const int64_t when[3][6] = { { -5, -4, -4, -3, -3, -2 },
                                        { 3, -3, 2, -2, 1, 0 },
                                        { 1, 2, 3, 4, 5, 6 } };
    for (int b = 0; b < 3; b++) {
        for (int i = 0; i < 6; i++) {
            struct event ev;
            event_clear(&ev);
            ev.ts_us = T0 - day + when[b][i] * MIN;
            ev.kind = b == 1 && when[b][i] < 0 ? EV_DEADLOCK : EV_LOCK_WAIT;
            ev.pid = 100 * b + i;
            store_add(s, &ev);
        }
        CHECK_EQ_INT(commit(s, NULL), STORE_COMMITTED);
    }
    CHECK_EQ_INT(q_int(s, "SELECT count(*) FROM event_blocks"), 3);
    struct store_rollup_stats st;
    CHECK(store_rollup(s, T0, &st, &d) == 0);
    CHECK_EQ_U64(st.events, 6 + 2); /* a time at the cut-off stays */
    CHECK_EQ_INT(q_int(s, "SELECT count(*) FROM event_blocks"), 2);
    CHECK_EQ_INT(q_int(s, "SELECT sum(n) FROM event_blocks"), 10);
    CHECK_EQ_INT(q_int(s, "SELECT min(ts_min) FROM event_blocks"), T0 - day);
    CHECK_EQ_INT(q_int(s, "SELECT kinds FROM event_blocks ORDER BY id LIMIT 1"), 1 << EV_LOCK_WAIT);
    struct ev_list evs;
    CHECK_EQ_INT(ev_all(s, &evs), 10);
    static const int64_t pids[] = { 105, 104, 200, 102, 201, 100, 202, 203, 204, 205 };
    for (size_t i = 0; i < evs.n && i < ARRAY_SIZE(pids); i++)
        CHECK_EQ_INT(evs.v[i].pid, pids[i]);
    ev_list_free(&evs);
    uint64_t counts[EV_KIND_COUNT];
    struct store_events_opts eo = { .since_us = INT64_MIN, .until_us = INT64_MAX };
    CHECK(store_event_counts(s, &eo, counts, &d) == 0);
    CHECK_EQ_U64(counts[EV_LOCK_WAIT], 10);
    CHECK_EQ_U64(counts[EV_DEADLOCK], 0);
    /* again: nothing more to do */
    CHECK(store_rollup(s, T0, &st, &d) == 0);
    CHECK_EQ_U64(st.events, 0);
    CHECK_EQ_INT(q_int(s, "SELECT sum(n) FROM event_blocks"), 10);
    store_close(s);
}

/* Event rows out of time order: a row older than its chunk's others moves the block's
 * base (ts_min stays exactly the oldest event's, one block per 2 048 rows); rows in
 * falling order past the rebasing bound start new chunks. Every event comes back, in
 * time order, with its pid and message. */
static void test_event_rows_out_of_order(void)
{
    char path[300];
    new_path(path, sizeof(path));
    struct store *s = open_rw(path);
    /* batch 1: rising, with a step back every 7th row; batch 2: falling */
    for (int b = 0; b < 2; b++) {
        for (int i = 0; i < 3000; i++) {
            struct event ev;
            event_clear(&ev);
            ev.kind = EV_CHECKPOINT;
            ev.pid = 10000 * b + i;
            ev.ts_us = b == 0 ? T0 + (i % 7 == 6 ? i - 500 : i) * INT64_C(1000)
                              : T0 + (3000 - i) * INT64_C(1000000);
            ev.message = i % 2 ? SPAN_LIT("checkpoint starting: time") : SPAN_LIT("x");
            store_add(s, &ev);
        }
        CHECK_EQ_INT(commit(s, NULL), STORE_COMMITTED);
        if (b == 0) {
            CHECK_EQ_INT(q_int(s, "SELECT count(*) FROM event_blocks"), 2);
            CHECK_EQ_INT(q_int(s, "SELECT min(ts_min) FROM event_blocks"), T0 - 494 * 1000);
            CHECK_EQ_INT(q_int(s, "SELECT ts_min FROM event_blocks ORDER BY id LIMIT 1"),
                         T0 - 494 * 1000);
            CHECK_EQ_INT(q_int(s, "SELECT ts_min FROM event_blocks ORDER BY id DESC LIMIT 1"),
                         T0 + 1550 * 1000);
        }
    }
    CHECK(q_int(s, "SELECT count(*) FROM event_blocks") > 4);
    CHECK_EQ_INT(q_int(s, "SELECT sum(n) FROM event_blocks"), 6000);
    CHECK_EQ_INT(q_int(s, "SELECT min(ts_min) FROM event_blocks WHERE id > 2"),
                 T0 + 1 * INT64_C(1000000));
    struct ev_list evs;
    CHECK_EQ_INT(ev_all(s, &evs), 6000);
    int64_t prev = INT64_MIN;
    size_t seen[2] = { 0, 0 };
    for (size_t i = 0; i < evs.n; i++) {
        CHECK(evs.v[i].ts >= prev);
        prev = evs.v[i].ts;
        int64_t pid = evs.v[i].pid, k = pid % 10000;
        seen[pid >= 10000]++;
        CHECK_EQ_STR(evs.v[i].message, k % 2 ? "checkpoint starting: time" : "x");
        if (pid >= 10000)
            CHECK_EQ_INT(evs.v[i].ts, T0 + (3000 - k) * INT64_C(1000000));
        else
            CHECK_EQ_INT(evs.v[i].ts, T0 + (k % 7 == 6 ? k - 500 : k) * INT64_C(1000));
    }
    CHECK(seen[0] == 3000 && seen[1] == 3000);
    ev_list_free(&evs);
    store_close(s);
}

/* The newest N of many blocks, with filters: the same as taking the last N of all. */
static void test_event_limit_over_blocks(void)
{
    char path[300];
    new_path(path, sizeof(path));
    struct store *s = open_rw(path);
    struct diag d = DIAG_INIT;
    int n = 3 * STORE_EV_CHUNK_ROWS + 100;
    /* two "files" whose times overlap, in separate batches, with equal times */
    for (int b = 0; b < 2; b++) {
        for (int i = 0; i < n; i++) {
            struct event ev;
            event_clear(&ev);
            ev.ts_us = T0 + (int64_t)(i / 3) * 1000 + b;
            ev.kind = i % 5 == 0 ? EV_ERROR : EV_CONNECTION;
            ev.database = i % 2 ? SPAN_LIT("app") : SPAN_LIT("other");
            ev.pid = b * 100000 + i;
            store_add(s, &ev);
        }
        CHECK_EQ_INT(commit(s, NULL), STORE_COMMITTED);
    }
    struct ev_list all;
    CHECK_EQ_INT(ev_all(s, &all), 2 * n);
    for (size_t i = 1; i < all.n; i++)
        CHECK(all.v[i - 1].ts < all.v[i].ts ||
              (all.v[i - 1].ts == all.v[i].ts && all.v[i - 1].pid < all.v[i].pid));
    static const size_t limits[] = { 1, 2, 7, 2048, 5000, 100000 };
    for (size_t k = 0; k < ARRAY_SIZE(limits); k++) {
        for (int filter = 0; filter < 3; filter++) {
            struct store_events_opts o = { .since_us = T0 + 100,
                                           .until_us = T0 + 2000000,
                                           .limit = limits[k] };
            if (filter == 1)
                o.kinds = 1u << EV_ERROR;
            if (filter == 2)
                o.database = "app";
            struct ev_list got;
            memset(&got, 0, sizeof(got));
            CHECK(store_events(s, &o, ev_collect, &got, &d) == 0);
            /* the expected: filter the full list, keep the last `limit` */
            size_t want = 0, match = 0;
            for (size_t i = 0; i < all.n; i++) {
                int64_t pid = all.v[i].pid % 100000;
                bool ok = all.v[i].ts >= o.since_us && all.v[i].ts < o.until_us &&
                          (filter != 1 || pid % 5 == 0) && (filter != 2 || pid % 2 == 1);
                match += ok;
            }
            want = match < limits[k] ? match : limits[k];
            CHECK_EQ_INT(got.n, want);
            size_t j = got.n;
            for (size_t i = all.n; i-- > 0 && j > 0;) {
                int64_t pid = all.v[i].pid % 100000;
                bool ok = all.v[i].ts >= o.since_us && all.v[i].ts < o.until_us &&
                          (filter != 1 || pid % 5 == 0) && (filter != 2 || pid % 2 == 1);
                if (ok && got.v[--j].pid != all.v[i].pid) {
                    CHECK_MSG(false, "limit %zu filter %d: event %zu", limits[k], filter, j);
                    break;
                }
            }
            ev_list_free(&got);
        }
    }
    ev_list_free(&all);
    store_close(s);
}

static void test_records_without_time(void)
{
    char path[300];
    new_path(path, sizeof(path));
    struct store *s = open_rw(path);
    struct event ev = duration(T0 + 3 * MIN + 5, "app", "rw", 1, 1);
    store_add(s, &ev);
    ev.ts_us = INT64_MIN; /* e.g. a stderr prefix without %t/%m */
    store_add(s, &ev);
    CHECK_EQ_INT(commit(s, NULL), STORE_COMMITTED);
    CHECK_EQ_INT(q_int(s, "SELECT count(*) FROM query_stats"), 1);
    CHECK_EQ_INT(q_int(s, "SELECT calls FROM query_stats"), 2);
    store_close(s);
}

static void test_hostile_sketch_in_db(void)
{
    char path[300];
    new_path(path, sizeof(path));
    struct store *s = open_rw(path);
    struct event ev = duration(T0, "app", "rw", 1, 1);
    store_add(s, &ev);
    CHECK_EQ_INT(commit(s, NULL), STORE_COMMITTED);
    CHECK(sqlite3_exec(store_sqlite(s), "UPDATE query_stats SET sketch = x'01ffff'", NULL, NULL,
                       NULL) == SQLITE_OK);
    /* Merging into the corrupt row fails cleanly. */
    store_add(s, &ev);
    struct diag d = DIAG_INIT;
    CHECK_EQ_INT(store_commit(s, NULL, &d), -1);
    CHECK(strstr(d.msg, "malformed sketch") != NULL);
    struct store_top top;
    struct store_top_opts o = { .since_us = INT64_MIN, .until_us = INT64_MAX };
    diag_clear(&d);
    CHECK(store_top(s, &o, &top, &d) < 0);
    CHECK(strstr(d.msg, "malformed") != NULL);
    store_close(s);
}

/* A damaged event_blocks row (the store is a file anyone may have altered) is an error
 * naming the block, never a crash, an overflow or a silent gap. */
static void test_hostile_event_block_rows(void)
{
    static const char *const damage[] = {
        "UPDATE event_blocks SET id = 9000000000000000000", /* id * 65536 overflows */
        "UPDATE event_blocks SET id = -1",
        "UPDATE event_blocks SET n = n + 1",
        "UPDATE event_blocks SET n = n - 1",
        "UPDATE event_blocks SET n = 0",
        "UPDATE event_blocks SET ts_max = ts_max - 1",
        "UPDATE event_blocks SET ts_min = ts_min - 1",
        "UPDATE event_blocks SET ts_min = ts_max + 1",
        "UPDATE event_blocks SET data = 'text'",
    };
    for (size_t i = 0; i < ARRAY_SIZE(damage); i++) {
        char path[300];
        new_path(path, sizeof(path));
        struct store *s = open_rw(path);
        for (int k = 0; k < 3; k++) {
            struct event ev;
            event_clear(&ev);
            ev.ts_us = T0 + k * MIN;
            ev.kind = EV_CHECKPOINT;
            ev.message = SPAN_LIT("checkpoint complete");
            store_add(s, &ev);
        }
        CHECK_EQ_INT(commit(s, NULL), STORE_COMMITTED);
        CHECK_EQ_INT(ev_count(s), 3);
        CHECK(sqlite3_exec(store_sqlite(s), damage[i], NULL, NULL, NULL) == SQLITE_OK);
        struct diag d = DIAG_INIT;
        struct sbuf out = SBUF_INIT;
        struct store_events_opts o = { .since_us = INT64_MIN, .until_us = INT64_MAX };
        CHECK(store_events(s, &o, collect, &out, &d) < 0);
        if (!strstr(d.msg, "event block") || !strstr(d.msg, "is corrupt"))
            fprintf(stderr, "%s: %s\n", damage[i], d.msg);
        CHECK(strstr(d.msg, "is corrupt") != NULL);
        uint64_t counts[EV_KIND_COUNT];
        diag_clear(&d);
        CHECK(store_event_counts(s, &o, counts, &d) < 0);
        CHECK(strstr(d.msg, "is corrupt") != NULL);
        sbuf_release(&out);
        store_close(s);
    }
}

/* Expiry rewrites a block straddling the cut-off: a damaged one (here an event kept
 * without its kind) is an error naming it, never a read of a kind that is not there. */
static void test_hostile_event_block_expiry(void)
{
    char path[300];
    new_path(path, sizeof(path));
    struct store *s = NULL;
    struct diag d = DIAG_INIT;
    int64_t day = 86400 * INT64_C(1000000), cut = T0 - day;
    struct store_opts o = { .retention = { .events_us = day } };
    CHECK(store_open(&s, path, &o, &d) == 0);
    for (int i = 0; i < 2; i++) {
        struct event ev;
        event_clear(&ev);
        ev.ts_us = cut + (i ? MIN : -MIN);
        ev.kind = EV_CHECKPOINT;
        store_add(s, &ev);
    }
    CHECK_EQ_INT(commit(s, NULL), STORE_COMMITTED);
    /* the same times, no column at all */
    struct evblock_enc enc;
    struct evblock_event x = { .ts = cut - MIN };
    evblock_enc_init(&enc);
    evblock_enc_start(&enc, cut - MIN);
    CHECK_EQ_INT(evblock_enc_add(&enc, &x), 0);
    x.ts = cut + MIN;
    CHECK_EQ_INT(evblock_enc_add(&enc, &x), 0);
    struct span blob = evblock_enc_blob(&enc);
    sqlite3_stmt *st;
    CHECK(sqlite3_prepare_v2(store_sqlite(s), "UPDATE event_blocks SET data = ?1", -1, &st, NULL) ==
          SQLITE_OK);
    sqlite3_bind_blob64(st, 1, blob.p, blob.len, SQLITE_STATIC);
    CHECK(sqlite3_step(st) == SQLITE_DONE);
    sqlite3_finalize(st);
    evblock_enc_release(&enc);
    struct store_rollup_stats rs;
    CHECK(store_rollup(s, T0, &rs, &d) < 0);
    CHECK(strstr(d.msg, "event block 1 is corrupt") != NULL);
    store_close(s);

    /* A row whose count is not its blob's: expiry checks it as reads do (the count of
     * events removed must not be made of a wrong row), and removes nothing. */
    static const struct {
        const char *sql, *why;
    } wrong_n[] = {
        { "UPDATE event_blocks SET n = n + 1", "fewer events than the row says" },
        { "UPDATE event_blocks SET n = n - 1", "more events than the row says" },
        { "UPDATE event_blocks SET ts_max = ts_max - 1", "an event after the row's newest time" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(wrong_n); i++) {
        new_path(path, sizeof(path));
        d = (struct diag)DIAG_INIT;
        CHECK(store_open(&s, path, &o, &d) == 0);
        for (int k = 0; k < 3; k++) {
            struct event ev;
            event_clear(&ev);
            ev.ts_us = cut + (k - 1) * MIN; /* one before the cut-off, two after */
            ev.kind = EV_CHECKPOINT;
            store_add(s, &ev);
        }
        CHECK_EQ_INT(commit(s, NULL), STORE_COMMITTED);
        CHECK(sqlite3_exec(store_sqlite(s), wrong_n[i].sql, NULL, NULL, NULL) == SQLITE_OK);
        memset(&rs, 0, sizeof(rs));
        CHECK(store_rollup(s, T0, &rs, &d) < 0);
        CHECK(strstr(d.msg, "event block 1 is corrupt") != NULL);
        CHECK(strstr(d.msg, wrong_n[i].why) != NULL);
        CHECK_EQ_U64(rs.events, 0);
        store_close(s);
    }
}

/* ---- report reads ---- */

static int collect_error(void *ctx, const struct store_error_row *r)
{
    struct sbuf *sb = ctx;
    return sbuf_addf(sb, "%s|%s|%s|%llu|%s\n", r->sqlstate, r->severity, r->message,
                     (unsigned long long)r->count, r->sample ? r->sample : "-");
}

static int collect_reject(void *ctx, const struct store_reject_row *r)
{
    struct sbuf *sb = ctx;
    return sbuf_addf(sb, "%s|%s|%llu|%s|%llu\n", r->source, r->reason, (unsigned long long)r->count,
                     r->sample ? r->sample : "-", (unsigned long long)r->sample_line);
}

static void test_report_reads(void)
{
    char path[300];
    new_path(path, sizeof(path));
    struct store *s = open_rw(path);
    for (int i = 0; i < 5; i++) {
        struct event ev;
        event_clear(&ev);
        ev.ts_us = T0 + i * MIN;
        ev.kind = EV_ERROR;
        ev.severity = i < 3 ? SEV_ERROR : SEV_FATAL;
        memcpy(ev.sqlstate, i < 3 ? "57014" : "28P01", 6);
        ev.message = i < 3 ? SPAN_LIT("canceling statement due to statement timeout")
                           : SPAN_LIT("password authentication failed for user 'x'");
        store_add(s, &ev);
    }
    struct event dur = duration(T0, "app", "rw", 3, 2.5);
    store_add(s, &dur);
    store_add(s, &dur);
    struct store_reject rj = { SPAN_LIT("pg.log"), "bad line", 7, 70, SPAN_LIT("x 'y'"), 0 };
    store_add_reject(s, &rj);
    rj.sample = SPAN_NULL;
    rj.count = 4;
    store_add_reject(s, &rj);
    CHECK_EQ_INT(commit(s, NULL), STORE_COMMITTED);

    struct store_totals t;
    struct diag d = DIAG_INIT;
    CHECK(store_totals(s, INT64_MIN, INT64_MAX, &t, &d) == 0);
    CHECK_EQ_U64(t.records, 7);
    CHECK_EQ_U64(t.calls, 2);
    CHECK(t.duration_ms == 5.0);
    CHECK_EQ_U64(t.errors, 5);
    CHECK_EQ_U64(t.rejects, 5);
    CHECK(store_totals(s, T0 + 2 * MIN, INT64_MAX, &t, &d) == 0);
    CHECK_EQ_U64(t.errors, 3);
    CHECK_EQ_U64(t.calls, 0);

    struct sbuf out = SBUF_INIT;
    CHECK(store_errors(s, INT64_MIN, INT64_MAX, collect_error, &out, &d) == 0);
    CHECK_EQ_STR(out.buf, "57014|ERROR|canceling statement due to statement timeout|3|"
                          "canceling statement due to statement timeout\n"
                          "28P01|FATAL|password authentication failed for user '\xe2\x80\xa6'|2|"
                          "password authentication failed for user '\xe2\x80\xa6'\n");
    sbuf_reset(&out);
    CHECK(store_rejects(s, INT64_MIN, INT64_MAX, collect_reject, &out, &d) == 0);
    CHECK_EQ_STR(out.buf, "pg.log|bad line|5|x '\xe2\x80\xa6'|7\n");
    sbuf_release(&out);
    store_close(s);
}

/* log_statement + log_duration: "statement: SQL" then a bare "duration: N ms" of the same
 * session count as one call of that statement, across commits and across a resume. */
static struct event stmt_ev(int64_t ts, int64_t pid, uint64_t fp)
{
    struct event ev = duration(ts, "app", "rw", fp, -1);
    ev.kind = EV_STATEMENT;
    ev.pid = pid;
    ev.has_query_id = true;
    ev.query_id = (int64_t)fp * 10;
    return ev;
}

static struct event bare_ev(int64_t ts, int64_t pid, double ms)
{
    struct event ev = duration(ts, "app", "rw", 0, ms);
    ev.phase = PHASE_NONE;
    ev.pid = pid;
    return ev;
}

static void test_statement_duration_pairing(void)
{
    char path[300];
    new_path(path, sizeof(path));
    struct store *s = open_rw(path);
    struct event e;

    e = stmt_ev(T0, 7, 0x71);
    store_add(s, &e);
    e = stmt_ev(T0, 8, 0x81); /* another session in between */
    store_add(s, &e);
    e = bare_ev(T0 + 1, 7, 2.0); /* -> 0x71 */
    e.has_query_id = true;       /* PostgreSQL logs the query_id with the duration */
    e.query_id = 1130;
    store_add(s, &e);
    e = bare_ev(T0 + 2, 7, 3.0); /* nothing waiting: fingerprint 0 */
    store_add(s, &e);
    CHECK_EQ_INT(commit(s, NULL), STORE_COMMITTED);
    e = bare_ev(T0 + 3, 8, 5.0); /* -> 0x81, after a commit */
    store_add(s, &e);
    e = stmt_ev(T0 + 4, 9, 0x91);
    store_add(s, &e);
    e = duration(T0 + 5, "app", "rw", 0, -1); /* an error of session 9: no duration follows */
    e.kind = EV_ERROR;
    e.severity = SEV_ERROR;
    e.pid = 9;
    store_add(s, &e);
    e = bare_ev(T0 + 6, 9, 7.0); /* fingerprint 0 */
    store_add(s, &e);
    CHECK_EQ_INT(commit(s, NULL), STORE_COMMITTED);
    CHECK_EQ_INT(q_int(s, "SELECT sum(calls) FROM query_stats WHERE fingerprint = 113"), 1);
    CHECK_EQ_INT(q_int(s, "SELECT sum(calls) FROM query_stats WHERE fingerprint = 129"), 1);
    CHECK_EQ_INT(q_int(s, "SELECT sum(calls) FROM query_stats WHERE fingerprint = 0"), 2);
    CHECK_EQ_INT(q_int(s, "SELECT sum(calls) FROM query_stats"), 4);
    CHECK_EQ_INT(q_int(s, "SELECT calls FROM query_ids WHERE query_id = 1130"), 1);
    /* A duration without a query_id keeps 0: the statement line's id is not the call's
     * (PostgreSQL logs it before parse analysis: 0 or a stale one). */
    CHECK_EQ_INT(q_int(s, "SELECT query_id FROM query_stats WHERE fingerprint = 129"), 0);
    CHECK_EQ_INT(q_int(s, "SELECT count(*) FROM query_ids WHERE query_id = 1290 AND calls > 0"), 0);

    /* Kept with the source position, restored on resume. */
    char *content = log_text(5000, 9);
    struct store_batch *b = store_batch_new(s);
    e = stmt_ev(T0 + 10, 11, 0xb1);
    store_batch_add(b, &e);
    struct store_source_pos pos = position("p.log", content, 0, 2500);
    struct diag d = DIAG_INIT;
    CHECK_EQ_INT(store_commit_batch(s, b, &pos, &d), STORE_COMMITTED);
    store_batch_free(b);

    struct store_resume r;
    store_resume_init(&r);
    struct memfile m = { content, 5000, 0 };
    find(s, &m, 1, 100, &r);
    CHECK_EQ_INT(r.offset, 2500);
    CHECK(r.pairing.len > 0);
    b = store_batch_new(s);
    CHECK(store_batch_restore(b, sbuf_span(&r.pairing)) == 0);
    e = bare_ev(T0 + 11, 11, 4.0);
    store_batch_add(b, &e);
    struct store_source_pos next = position("p.log", content, 2500, 5000);
    next.id = pos.id;
    CHECK_EQ_INT(store_commit_batch(s, b, &next, &d), STORE_COMMITTED);
    CHECK_EQ_INT(q_int(s, "SELECT sum(calls) FROM query_stats WHERE fingerprint = 177"), 1);
    CHECK(store_batch_restore(b, SPAN_LIT("\x02junk")) < 0);
    store_batch_free(b);
    store_resume_release(&r);
    free(content);
    store_close(s);
}

/* SIFT_MAX_STORED_TEXT at limit-1, limit and limit+1 (and far beyond). */
static void test_stored_text_limit(void)
{
    char path[300];
    new_path(path, sizeof(path));
    struct store *s = open_rw(path);
    size_t lens[] = { SIFT_MAX_STORED_TEXT - 1, SIFT_MAX_STORED_TEXT, SIFT_MAX_STORED_TEXT + 1,
                      10 * SIFT_MAX_STORED_TEXT };
    char *text = xmalloc(10 * SIFT_MAX_STORED_TEXT);
    memset(text, 'm', 10 * SIFT_MAX_STORED_TEXT);
    text[3] = '\xc3'; /* one two-byte character near the start */
    text[4] = '\xa9';
    for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
        struct event ev;
        event_clear(&ev);
        ev.ts_us = T0 + (int64_t)i;
        ev.kind = EV_CHECKPOINT;
        ev.message = span_make(text, lens[i]);
        store_add(s, &ev);
    }
    CHECK_EQ_INT(commit(s, NULL), STORE_COMMITTED);
    struct ev_list evs;
    CHECK_EQ_INT(ev_all(s, &evs), ARRAY_SIZE(lens));
    for (size_t i = 0; i < ARRAY_SIZE(lens) && i < evs.n; i++) {
        const char *m = evs.v[i].message;
        size_t n = m ? strlen(m) : 0;
        if (lens[i] <= SIFT_MAX_STORED_TEXT) {
            CHECK_EQ_INT(n, lens[i]); /* whole */
        } else {
            CHECK(n <= SIFT_MAX_STORED_TEXT);
            CHECK(n >= SIFT_MAX_STORED_TEXT - 4);
            CHECK(m && !memcmp(m + n - 3, "\xe2\x80\xa6", 3)); /* cut, and says so */
        }
    }
    ev_list_free(&evs);
    free(text);
    store_close(s);
}

static void cleanup(void)
{
    if (!dir[0])
        return;
    char cmd[400];
    for (int i = 1; i <= db_seq; i++) {
        static const char *const sfx[] = { "", "-wal", "-shm" };
        for (int k = 0; k < 3; k++) {
            snprintf(cmd, sizeof(cmd), "%s/t%d.db%s", dir, i, sfx[k]);
            unlink(cmd);
        }
    }
    rmdir(dir);
}

static void test_zz_cleanup(void)
{
    cleanup();
}

/* Event rows written in chunks before the batch's commit (pgsift ingest -j 2 on one
 * file): the same rows as one commit; given up (store_abort), none of them. */
static void add_rows(struct store_batch *b, int n, int64_t base)
{
    for (int i = 0; i < n; i++) {
        struct event ev;
        event_clear(&ev);
        ev.ts_us = T0 + base + i;
        ev.kind = EV_CONNECTION;
        ev.severity = SEV_LOG;
        ev.message = SPAN_LIT("connection received: host=10.0.0.1 port=5432");
        ev.pid = 1000 + i;
        store_batch_add(b, &ev);
    }
}

static void test_streamed_event_rows(void)
{
    char path[300], path2[300];
    struct diag d = DIAG_INIT;
    int n = 3 * STORE_EV_CHUNK_ROWS + 17;
    new_path(path, sizeof(path));
    new_path(path2, sizeof(path2));
    struct store *s = open_rw(path), *s2 = open_rw(path2);
    struct store_batch *b = store_batch_new(s), *b2 = store_batch_new(s2);

    add_rows(b, n, 0);
    add_rows(b2, n, 0);
    struct store_ev_chunk *c = store_batch_take_events(b2); /* in order... */
    CHECK(c != NULL);
    store_ev_chunk_free(c); /* never written */
    int chunks = 0;
    while ((c = store_batch_take_events(b))) {
        CHECK_EQ_INT(store_write_events(s, c, &d), 0);
        chunks++;
    }
    CHECK_EQ_INT(chunks, 3); /* ...all but the one still filling */
    CHECK_EQ_INT(ev_count(s2), 0);
    CHECK_EQ_INT(store_commit_batch(s, b, NULL, &d), STORE_COMMITTED);
    struct ev_list evs;
    CHECK_EQ_INT(ev_all(s, &evs), n);
    CHECK(evs.n == (size_t)n && evs.v[0].pid == 1000 && evs.v[n - 1].pid == 1000 + n - 1);
    ev_list_free(&evs);
    /* One block per chunk, the same blocks as when the whole batch is committed at once. */
    CHECK_EQ_INT(q_int(s, "SELECT count(*) FROM event_blocks"), 4);
    char path3[300];
    new_path(path3, sizeof(path3));
    struct store *s3 = open_rw(path3);
    struct store_batch *b3 = store_batch_new(s3);
    add_rows(b3, n, 0);
    CHECK_EQ_INT(store_commit_batch(s3, b3, NULL, &d), STORE_COMMITTED);
    static const char blobs[] = "SELECT group_concat(hex(data), ',') FROM"
                                " (SELECT data FROM event_blocks ORDER BY id)";
    char *x = q_text(s, blobs), *y = q_text(s3, blobs);
    CHECK(x && y && !strcmp(x, y));
    free(x);
    free(y);
    store_batch_free(b3);
    store_close(s3);

    /* Given up: the chunks written are rolled back, the next batch is on its own. */
    store_batch_discard(b2);
    add_rows(b2, n, 1000000);
    while ((c = store_batch_take_events(b2)))
        CHECK_EQ_INT(store_write_events(s2, c, &d), 0);
    store_abort(s2);
    store_batch_discard(b2);
    add_rows(b2, 5, 0);
    CHECK_EQ_INT(store_commit_batch(s2, b2, NULL, &d), STORE_COMMITTED);
    CHECK_EQ_INT(ev_count(s2), 5);
    store_batch_free(b);
    store_batch_free(b2);
    store_close(s);
    store_close(s2);
}

/* One more row in test_checkpoint_thread()'s table. */
static bool insert_big(struct store *s, int v)
{
    char sql[64];
    snprintf(sql, sizeof(sql), "INSERT INTO big VALUES (%d)", v);
    return sqlite3_exec(store_sqlite(s), sql, NULL, NULL, NULL) == SQLITE_OK;
}

/* The checkpoint thread's count once it differs from @before (at most 10 s). */
static unsigned long checkpoints_after(struct store *s, unsigned long before)
{
    unsigned long n = before;
    for (int i = 0; i < 1000 && (n = store_checkpoints(s)) == before; i++)
        usleep(10000);
    return n;
}

/* store_opts.checkpoint_thread: a commit that leaves the log over
 * SIFT_WAL_CHECKPOINT_PAGES wakes the checkpoint thread, which copies the whole log
 * back; without the option SQLite checkpoints in the commit and the thread count is 0.
 * After store_checkpoint_eager() every commit wakes it; after store_checkpoint_last()
 * none does (the close checkpoints, and the data is there). */
static void test_checkpoint_thread(void)
{
    char path[300], path2[300];
    struct diag d = DIAG_INIT;
    new_path(path, sizeof(path));
    new_path(path2, sizeof(path2));
    struct store *s = NULL, *plain = open_rw(path2);
    CHECK_EQ_INT(store_open(&s, path, &(struct store_opts){ .checkpoint_thread = true }, &d), 0);
    /* 40 MB in one commit: well over 256 pages of 16 KiB, under the forced bound. */
    const char *sql = "CREATE TABLE big (x); INSERT INTO big VALUES (zeroblob(40000000))";
    CHECK(sqlite3_exec(store_sqlite(s), sql, NULL, NULL, NULL) == SQLITE_OK);
    CHECK(sqlite3_exec(store_sqlite(plain), sql, NULL, NULL, NULL) == SQLITE_OK);
    unsigned long n = checkpoints_after(s, 0);
    CHECK(n >= 1);
    CHECK_EQ_INT((int)store_checkpoints(plain), 0);
    /* Below the threshold nothing wakes it. */
    CHECK(insert_big(s, 1));
    usleep(50000);
    CHECK(store_checkpoints(s) == n);
    CHECK_EQ_INT(q_int(s, "SELECT count(*) FROM big"), 2);
    /* None of that reached the forced bound. */
    CHECK_EQ_INT((int)store_checkpoints_forced(s), 0);
    /* Near the end of a run (store_checkpoint_eager()) a small commit wakes it too. */
    store_checkpoint_eager(s);
    store_checkpoint_eager(plain); /* (no thread: nothing to do) */
    CHECK(insert_big(s, 2));
    unsigned long m = checkpoints_after(s, n);
    CHECK(m == n + 1);
    CHECK_EQ_INT((int)store_checkpoints(plain), 0);
    /* The writer's last commit (store_checkpoint_last()) does not wake it: the close
     * copies that commit, with its optimize, in one sync. One after it (another reader's)
     * wakes it again. */
    store_checkpoint_last(s);
    store_checkpoint_last(plain);
    CHECK(insert_big(s, 3));
    usleep(50000);
    CHECK(store_checkpoints(s) == m);
    CHECK(insert_big(s, 4));
    CHECK(checkpoints_after(s, m) == m + 1);
    CHECK(insert_big(s, 5));
    store_checkpoint_last(s); /* (no commit follows: the close is the same) */
    store_close(s);
    store_close(plain);
    s = open_ro(path);
    CHECK_EQ_INT(q_int(s, "SELECT length(x) FROM big WHERE rowid = 1"), 40000000);
    CHECK_EQ_INT(q_int(s, "SELECT count(*) FROM big"), 6);
    store_close(s);
}

/* The log stays bounded when the thread cannot keep up: a commit that leaves the log
 * at SIFT_WAL_FORCE_PAGES or more checkpoints in the committing connection itself (here
 * one commit of more pages than that), and the data is all there afterwards. */
static void test_checkpoint_forced(void)
{
    char path[300];
    struct diag d = DIAG_INIT;
    new_path(path, sizeof(path));
    struct store *s = NULL;
    CHECK_EQ_INT(store_open(&s, path, &(struct store_opts){ .checkpoint_thread = true }, &d), 0);
    CHECK_EQ_INT(q_int(s, "PRAGMA page_size"), 16384);
    char sql[160];
    /* SIFT_WAL_FORCE_PAGES pages of 16 KiB and a tenth more, in one commit */
    snprintf(sql, sizeof(sql), "CREATE TABLE big (x); INSERT INTO big VALUES (zeroblob(%u))",
             SIFT_WAL_FORCE_PAGES / 10 * 11 * 16384u);
    CHECK(sqlite3_exec(store_sqlite(s), sql, NULL, NULL, NULL) == SQLITE_OK);
    CHECK(store_checkpoints_forced(s) >= 1);
    store_close(s);
    s = open_ro(path);
    CHECK_EQ_INT(q_int(s, "SELECT length(x) FROM big"),
                 (int)(SIFT_WAL_FORCE_PAGES / 10 * 11 * 16384u));
    store_close(s);
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* ---- parts folded on other threads and absorbed (store_batch_fold(), store.h) ---- */

/* Every row of @table as text (REAL to 9 significant digits: sums of squares are added in
 * another order; BLOB as hex), sorted, one per line. */
static void dump_table(struct store *s, const char *table, struct sbuf *out)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT * FROM %s", table);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(store_sqlite(s), sql, -1, &st, NULL) != SQLITE_OK) {
        CHECK(0);
        return;
    }
    char **rows = NULL;
    size_t n = 0, a = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        struct sbuf row = SBUF_INIT;
        for (int c = 0; c < sqlite3_column_count(st); c++) {
            switch (sqlite3_column_type(st, c)) {
            case SQLITE_NULL: CHECK(sbuf_addstr(&row, "NULL|") == 0); break;
            case SQLITE_FLOAT:
                CHECK(sbuf_addf(&row, "%.9g|", sqlite3_column_double(st, c)) == 0);
                break;
            case SQLITE_BLOB: {
                const unsigned char *b = sqlite3_column_blob(st, c);
                for (int k = 0; k < sqlite3_column_bytes(st, c); k++)
                    CHECK(sbuf_addf(&row, "%02x", b[k]) == 0);
                CHECK(sbuf_addch(&row, '|') == 0);
                break;
            }
            default: CHECK(sbuf_addf(&row, "%s|", (const char *)sqlite3_column_text(st, c)) == 0);
            }
        }
        XGROW(rows, n + 1, a);
        rows[n++] = xstrdup(row.len ? row.buf : "");
        sbuf_release(&row);
    }
    sqlite3_finalize(st);
    if (n) /* (qsort() of NULL is undefined even for 0 rows) */
        qsort(rows, n, sizeof(*rows), cmp_str);
    CHECK(sbuf_addf(out, "== %s\n", table) == 0);
    for (size_t i = 0; i < n; i++) {
        CHECK(sbuf_addf(out, "%s\n", rows[i]) == 0);
        free(rows[i]);
    }
    free(rows);
}

static int dump_event(void *ctx, const struct store_event_row *r)
{
    struct sbuf *out = ctx;
    CHECK(sbuf_addf(out, "%lld %s %s %s %s %s %s %s %lld %d %llu [%s] [%s]", (long long)r->ts_us,
                    r->kind, r->severity ? r->severity : "-", r->sqlstate ? r->sqlstate : "-",
                    r->database ? r->database : "-", r->user ? r->user : "-",
                    r->application ? r->application : "-", r->src ? r->src : "-", (long long)r->pid,
                    r->has_fingerprint, (unsigned long long)r->fingerprint,
                    r->message ? r->message : "-", r->detail ? r->detail : "-") == 0);
    for (size_t i = 0; i < r->n_facts; i++)
        CHECK(sbuf_addf(out, " %s", r->facts[i].name) == 0);
    CHECK(sbuf_addch(out, '\n') == 0);
    return 0;
}

static void dump_store(struct store *s, struct sbuf *out)
{
    static const char *const tables[] = { "query_stats", "queries", "query_ids", "record_stats",
                                          "error_stats", "plans",   "plan_runs", NULL };
    for (size_t i = 0; tables[i]; i++)
        dump_table(s, tables[i], out);
    CHECK(sbuf_addstr(out, "== events\n") == 0);
    struct diag d = DIAG_INIT;
    struct store_events_opts o = { .since_us = INT64_MIN, .until_us = INT64_MAX };
    if (store_events(s, &o, dump_event, out, &d) != 0) {
        CHECK(0);
        printf("# store_events: %s\n", d.msg);
    }
}

/* One record of a made-up session mix: durations with and without a statement, statement
 * lines and bare durations of log_statement + log_duration from a few sessions, errors,
 * connections, plans, checkpoints, records without a time, fingerprints with other high
 * bits (a collision) or none. @line: its line in the file. */
static void mix_event(struct event *ev, uint64_t line, int64_t *ts)
{
    static const char *const dbs[] = { "app", "billing", "" };
    static const char *const users[] = { "rw", "ro", "admin" };
    static const char *const texts[] = { "SELECT * FROM t WHERE id = 42",
                                         "UPDATE acct SET bal = bal + 5 WHERE id = 7",
                                         "select  *  from t where id=9",
                                         "INSERT INTO log VALUES (1, 'x')" };
    event_clear(ev);
    *ts += (int64_t)rnd(4000) * 1000 - 500000; /* mostly forward, sometimes back */
    ev->ts_us = rnd(400) == 0 ? INT64_MIN : *ts;
    ev->pid = 100 + (int64_t)rnd(6);
    ev->database = span_cstr(dbs[rnd(3)]);
    ev->user = span_cstr(users[rnd(3)]);
    ev->severity = SEV_LOG;
    static char long_name[EVB_SRC_FILE_MAX + 10];
    if (!long_name[0])
        memset(long_name, 'n', sizeof(long_name) - 1);
    ev->src_name = rnd(500) ? SPAN_LIT("postgresql.csv") : span_cstr(long_name);
    ev->src_line = rnd(300) ? line : 0; /* (0: a record that has no line: not folded) */
    uint64_t fp = 1 + rnd(5);
    unsigned what = (unsigned)rnd(100);
    if (what < 60) {
        ev->kind = what < 30 ? EV_DURATION : EV_STATEMENT;
        if (what < 30 || what >= 42) {
            ev->flags |= EVENT_HAS_FINGERPRINT;
            ev->fingerprint = fp;
            unsigned h = (unsigned)rnd(50);
            ev->fingerprint_hi = h == 0 ? 0 : h == 1 ? fp * 77 : h == 2 ? 5 : fp * 31;
            ev->normalized = rnd(9) ? SPAN_LIT("SELECT * FROM t WHERE id = $1") : SPAN_NULL;
            ev->query = span_cstr(texts[rnd(4)]);
        } else {
            ev->kind = EV_DURATION; /* a bare duration line */
            ev->phase = rnd(4) ? PHASE_EXECUTE : PHASE_PARSE;
        }
        if (ev->kind == EV_DURATION) {
            ev->duration_ms = rnd(20) ? 0.01 * (double)rnd(100000) : -1;
            ev->rows = rnd(3) ? (int64_t)rnd(1000) : -1;
        }
        if (rnd(3)) {
            ev->query_id = (int64_t)rnd(4) - 2;
            ev->has_query_id = ev->query_id != 0;
        }
    } else if (what < 70) {
        ev->kind = EV_ERROR;
        ev->severity = SEV_ERROR;
        memcpy(ev->sqlstate, "23505", 6);
        ev->message = SPAN_LIT("duplicate key value violates unique constraint \"k\"");
        ev->detail = SPAN_LIT("Key (email)=(a@b.c) already exists.");
        if (rnd(2)) {
            ev->flags |= EVENT_HAS_FINGERPRINT;
            ev->fingerprint = fp;
            ev->fingerprint_hi = fp * 31;
            ev->statement = span_cstr(texts[rnd(4)]);
        }
    } else if (what < 80) {
        ev->kind = rnd(2) ? EV_CONNECTION : EV_DISCONNECTION;
        ev->message = SPAN_LIT("connection authorized: user=rw database=app");
    } else if (what < 90) {
        ev->kind = EV_PLAN;
        ev->plan_format = PLAN_TEXT;
        ev->plan = rnd(2)
                       ? SPAN_LIT("Seq Scan on t  (cost=0.00..35.50 rows=2550 width=4)")
                       : SPAN_LIT("Index Scan using t_pkey on t  (cost=0.15..8.17 rows=1 width=4)");
        ev->duration_ms = 0.01 * (double)rnd(100000);
        ev->flags |= EVENT_HAS_FINGERPRINT;
        ev->fingerprint = fp;
        ev->fingerprint_hi = fp * 31;
        ev->query = span_cstr(texts[rnd(4)]);
    } else {
        ev->kind = EV_CHECKPOINT;
        ev->message = SPAN_LIT("checkpoint starting: time");
        ev->facts.buffers = (int64_t)rnd(500);
        if (rnd(5) == 0)
            ev->src_name = SPAN_NULL;
    }
}

/* A batch filled record by record and one filled part by part - each part's records
 * folded into a part batch (line numbers from 1 in the part) until one is refused, then
 * absorbed, the rest added - commit the same store. Parts of random sizes, from one
 * record to hundreds, so that pairs, collisions, first samples and minutes cross them. */
/* Two new stores: @a filled record by record, @b by absorbing @part's (a part batch). */
struct add_absorb {
    struct store *sa, *sb;
    struct store_batch *a, *b, *part;
};

static void add_absorb_open(struct add_absorb *x)
{
    char pa[300], pb[300];
    new_path(pa, sizeof(pa));
    new_path(pb, sizeof(pb));
    x->sa = open_rw(pa);
    x->sb = open_rw(pb);
    x->a = store_batch_new(x->sa);
    x->b = store_batch_new(x->sb);
    x->part = store_batch_new_part(store_keeps_literals(x->sb));
}

/* Commit both and require the same tables (@label names the case). @dump gets them, for
 * the caller's own checks. */
static void add_absorb_check(struct add_absorb *x, const char *label, struct sbuf *dump)
{
    struct diag d = DIAG_INIT;
    CHECK_EQ_INT(store_commit_batch(x->sa, x->a, NULL, &d), STORE_COMMITTED);
    CHECK_EQ_INT(store_commit_batch(x->sb, x->b, NULL, &d), STORE_COMMITTED);
    struct sbuf da = SBUF_INIT, db = SBUF_INIT;
    dump_store(x->sa, &da);
    dump_store(x->sb, &db);
    if (da.len != db.len || memcmp(da.buf, db.buf, da.len)) {
        CHECK(0);
        size_t at = 0;
        while (at < da.len && at < db.len && da.buf[at] == db.buf[at])
            at++;
        size_t from = at > 200 ? at - 200 : 0;
        printf("# %s: the stores differ at byte %zu:\n# add:    %.300s\n# absorb: %.300s\n", label,
               at, da.buf + from, db.buf + from);
    }
    *dump = da;
    sbuf_release(&db);
}

static void add_absorb_close(struct add_absorb *x)
{
    store_batch_free(x->a);
    store_batch_free(x->b);
    store_batch_free(x->part);
    store_close(x->sa);
    store_close(x->sb);
}

static void test_absorb_equals_add(void)
{
    enum { N = 6000 };
    struct event *evs = xcalloc(N, sizeof(*evs));
    int64_t ts = T0;
    for (size_t i = 0; i < N; i++)
        mix_event(&evs[i], 1 + 3 * i, &ts);

    for (int round = 0; round < 4; round++) {
        struct add_absorb x;
        add_absorb_open(&x);
        struct store_batch *a = x.a, *b = x.b, *part = x.part;
        for (size_t i = 0; i < N; i++)
            store_batch_add(a, &evs[i]);

        size_t folded = 0, refused = 0;
        for (size_t i = 0; i < N;) {
            size_t len = 1 + rnd(round == 0 ? 3 : round == 1 ? 40 : 400);
            if (len > N - i)
                len = N - i;
            uint64_t delta = 3 * i; /* the lines before the part (record k is on line 1 + 3k) */
            size_t k = i;
            for (; k < i + len; k++) {
                struct event e = evs[k];
                if (e.src_name.p && e.src_line)
                    e.src_line -= delta; /* numbered from 1 in the part */
                if (!store_batch_fold(part, &e))
                    break;
                folded++;
            }
            /* the part's plans analysed on its thread (pgsift ingest), or left for the
             * commit (in rounds 1 and 3): the same rows either way */
            if (round % 2 == 0)
                store_batch_part_done(part);
            store_batch_absorb(b, part, delta);
            store_batch_discard(part);
            for (; k < i + len; k++, refused++)
                store_batch_add(b, &evs[k]);
            i += len;
        }
        printf("# round %d: %zu records folded, %zu added after a refusal\n", round, folded,
               refused);
        CHECK(folded > N / 2 && refused > 10);
        CHECK_EQ_U64(store_batch_added(a), store_batch_added(b));
        struct sbuf ea = SBUF_INIT, eb = SBUF_INIT;
        CHECK(batch_pairs_encode(a, &ea) == 0 && batch_pairs_encode(b, &eb) == 0);
        CHECK(ea.len == eb.len && !memcmp(ea.buf, eb.buf, ea.len));
        CHECK(ea.len > 1); /* statements were left waiting */
        sbuf_release(&ea);
        sbuf_release(&eb);

        char label[32];
        snprintf(label, sizeof(label), "round %d", round);
        struct sbuf da;
        add_absorb_check(&x, label, &da);
        CHECK(da.len > 10000);
        CHECK(strstr(da.buf, "postgresql.csv:") != NULL);
        sbuf_release(&da);
        add_absorb_close(&x);
    }
    free(evs);
}

/* Statements crafted so that their fingerprints share the low 64 bits: a part batch keeps
 * at most SIFT_MAX_PART_FP_COLLISIONS of them apart, then refuses the part's later records,
 * which the reader adds; the store is the one of adding every record. */
static void test_part_collisions_bounded(void)
{
    enum { N = 3 * SIFT_MAX_PART_FP_COLLISIONS };
    struct add_absorb x;
    add_absorb_open(&x);
    struct event evs[N];
    for (size_t i = 0; i < N; i++) {
        evs[i] = duration(T0 + (int64_t)i * 1000, "app", "u", 7, 1.0 + (double)i);
        evs[i].fingerprint_hi = 1000 + i; /* every record another statement */
        store_batch_add(x.a, &evs[i]);
    }
    size_t k = 0;
    while (k < N && store_batch_fold(x.part, &evs[k]))
        k++;
    /* the first record, then one per collision up to the bound */
    CHECK_EQ_U64(k, SIFT_MAX_PART_FP_COLLISIONS + 1);
    store_batch_part_done(x.part);
    store_batch_absorb(x.b, x.part, 0);
    for (; k < N; k++)
        store_batch_add(x.b, &evs[k]);
    struct sbuf da;
    add_absorb_check(&x, "collisions", &da);
    sbuf_release(&da);
    CHECK_EQ_INT(q_int(x.sb, "SELECT collisions FROM queries"), N - 1);
    add_absorb_close(&x);
}

TEST_LIST = {
    { "created_0600_whatever_the_umask", test_created_0600_whatever_the_umask },
    { "wal_cut_back_after_a_long_reader", test_wal_cut_back_after_a_long_reader },
    { "part_collisions_bounded", test_part_collisions_bounded },
    { "open_errors", test_open_errors },
    { "p95_within_one_percent", test_p95_within_one_percent },
    { "window_p95_matches_raw", test_window_p95_matches_raw },
    { "top_split", test_top_split },
    { "phases_kept_apart", test_phases_kept_apart },
    { "recommit_does_not_double_count", test_recommit_does_not_double_count },
    { "failed_commit_changes_nothing", test_failed_commit_changes_nothing },
    { "source_identity", test_source_identity },
    { "many_short_streams", test_many_short_streams },
    { "concurrent_new_short_file", test_concurrent_new_short_file },
    { "shorter_copies", test_shorter_copies },
    { "redaction_in_store", test_redaction_in_store },
    { "events", test_events },
    { "event_rows_out_of_order", test_event_rows_out_of_order },
    { "event_expiry", test_event_expiry },
    { "event_limit_over_blocks", test_event_limit_over_blocks },
    { "catalogue_and_collisions", test_catalogue_and_collisions },
    { "rejects", test_rejects },
    { "rollup", test_rollup },
    { "rollup_at_commit", test_rollup_at_commit },
    { "records_without_time", test_records_without_time },
    { "hostile_sketch_in_db", test_hostile_sketch_in_db },
    { "hostile_event_block_rows", test_hostile_event_block_rows },
    { "hostile_event_block_expiry", test_hostile_event_block_expiry },
    { "report_reads", test_report_reads },
    { "stored_text_limit", test_stored_text_limit },
    { "statement_duration_pairing", test_statement_duration_pairing },
    { "absorb_equals_add", test_absorb_equals_add },
    { "streamed_event_rows", test_streamed_event_rows },
    { "checkpoint_thread", test_checkpoint_thread },
    { "checkpoint_forced", test_checkpoint_forced },
    { "zz_cleanup", test_zz_cleanup },
    { NULL, NULL },
};
