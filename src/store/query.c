/* SPDX-License-Identifier: MIT */
/*
 * Reading back: the query table of `pgsift top` (per fingerprint over any window, the
 * sketches of the window's rows merged, so percentiles stay within 1 %) and the events
 * of `pgsift events`.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/heap.h"
#include "core/xalloc.h"
#include "store/store_int.h"

/* Bucket starts are seconds: [since, until) in µs selects buckets starting in it. */
static int64_t bucket_bound(int64_t us)
{
    if (us == INT64_MIN || us == INT64_MAX)
        return us;
    int64_t s = us / 1000000;
    if (us % 1000000 > 0)
        s++; /* a bucket starting before `us` is not in [us, ...) */
    return s;
}

/* Sums of µs saturate at INT64_MAX as the store's own do (durations are capped, their
 * sums are not: a hostile log can pass the limit within one window). */
static int64_t add_us(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

struct strset {
    char **v;
    size_t n, alloc;
};

static void strset_add(struct strset *set, const unsigned char *s)
{
    if (!s || !*s)
        return;
    /* Consecutive rows usually repeat the last name. */
    if (set->n && !strcmp(set->v[set->n - 1], (const char *)s))
        return;
    XGROW(set->v, set->n + 1, set->alloc);
    set->v[set->n++] = xstrdup((const char *)s);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void strset_finish(struct strset *set, char ***out, size_t *n)
{
    if (set->n)
        qsort(set->v, set->n, sizeof(*set->v), cmp_str);
    size_t w = 0;
    for (size_t i = 0; i < set->n; i++) {
        if (w && !strcmp(set->v[w - 1], set->v[i]))
            free(set->v[i]);
        else
            set->v[w++] = set->v[i];
    }
    *out = set->v;
    *n = w;
    memset(set, 0, sizeof(*set));
}

struct group {
    uint64_t fp;
    uint64_t calls, errors;
    int64_t total_us;
    double min, max, sumsq;
    bool any_time;
    struct sketch sk;
    struct strset dbs, users;
    struct store_query_id *qids;
    size_t n_qids, a_qids;
    char *split_db, *split_user; /* the split's values, or NULL */
};

/* A text column, "" for NULL. */
static const char *col_str(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? (const char *)t : "";
}

static void group_start(struct group *g, uint64_t fp, sqlite3_stmt *st,
                        const struct store_top_opts *o)
{
    struct sketch sk = g->sk;
    sketch_clear(&sk);
    memset(g, 0, sizeof(*g));
    g->sk = sk;
    g->fp = fp;
    g->split_db = o->split_database ? xstrdup(col_str(st, 1)) : NULL;
    g->split_user = o->split_user ? xstrdup(col_str(st, 2)) : NULL;
}

/* Whether the row @st belongs to the group @g (rows come ordered by the group's key). */
static bool same_group(const struct group *g, uint64_t fp, sqlite3_stmt *st)
{
    return fp == g->fp && (!g->split_db || !strcmp(g->split_db, col_str(st, 1))) &&
           (!g->split_user || !strcmp(g->split_user, col_str(st, 2)));
}

static void group_row(struct group *g, sqlite3_stmt *st)
{
    uint64_t calls = (uint64_t)sqlite3_column_int64(st, 4);
    g->calls += calls;
    g->total_us = add_us(g->total_us, sqlite3_column_int64(st, 5));
    if (sqlite3_column_type(st, 6) != SQLITE_NULL) {
        double mn = sqlite3_column_double(st, 6), mx = sqlite3_column_double(st, 7);
        if (!g->any_time || mn < g->min)
            g->min = mn;
        if (!g->any_time || mx > g->max)
            g->max = mx;
        g->any_time = true;
    }
    g->sumsq += sqlite3_column_double(st, 8);
    g->errors += (uint64_t)sqlite3_column_int64(st, 9);
    strset_add(&g->dbs, sqlite3_column_text(st, 1));
    strset_add(&g->users, sqlite3_column_text(st, 2));
    int64_t qid = sqlite3_column_int64(st, 3);
    if (qid != 0 && calls) {
        size_t i = 0;
        while (i < g->n_qids && g->qids[i].id != qid)
            i++;
        if (i == g->n_qids) {
            XGROW(g->qids, g->n_qids + 1, g->a_qids);
            g->qids[g->n_qids++] = (struct store_query_id){ .id = qid };
        }
        g->qids[i].calls += calls;
        g->qids[i].total_us = add_us(g->qids[i].total_us, sqlite3_column_int64(st, 5));
    }
}

static int cmp_qid(const void *a, const void *b)
{
    const struct store_query_id *x = a, *y = b;
    if (x->calls != y->calls)
        return x->calls > y->calls ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static void group_finish(struct group *g, struct store_top_row *r)
{
    memset(r, 0, sizeof(*r));
    r->fingerprint = g->fp;
    r->calls = g->calls;
    r->errors = g->errors;
    r->total_ms = (double)g->total_us / 1000;
    if (g->calls) {
        r->mean_ms = r->total_ms / (double)g->calls;
        double var = g->sumsq / (double)g->calls - r->mean_ms * r->mean_ms;
        r->stddev_ms = var > 0 ? sqrt(var) : 0;
        r->min_ms = g->min;
        r->max_ms = g->max;
        r->p50_ms = sketch_quantile(&g->sk, 0.50);
        r->p95_ms = sketch_quantile(&g->sk, 0.95);
        r->p99_ms = sketch_quantile(&g->sk, 0.99);
    }
    strset_finish(&g->dbs, &r->databases, &r->n_databases);
    strset_finish(&g->users, &r->users, &r->n_users);
    if (g->n_qids)
        qsort(g->qids, g->n_qids, sizeof(*g->qids), cmp_qid);
    r->query_ids = g->qids;
    r->n_query_ids = g->n_qids;
    g->qids = NULL;
    g->n_qids = g->a_qids = 0;
    r->first_seen_us = r->last_seen_us = INT64_MIN;
    r->database = g->split_db;
    r->user = g->split_user;
    g->split_db = g->split_user = NULL;
}

static double sort_key(const struct store_top_row *r, enum store_top_order by)
{
    switch (by) {
    case STORE_BY_TOTAL: return r->total_ms;
    case STORE_BY_CALLS: return (double)r->calls;
    case STORE_BY_MEAN: return r->mean_ms;
    case STORE_BY_P95: return r->p95_ms;
    case STORE_BY_P99: return r->p99_ms;
    case STORE_BY_MAX: return r->max_ms;
    }
    return 0;
}

static enum store_top_order g_order; /* qsort has no context argument in C11 */

static int cmp_rows(const void *a, const void *b)
{
    const struct store_top_row *x = a, *y = b;
    double kx = sort_key(x, g_order), ky = sort_key(y, g_order);
    kx = isnan(kx) ? -INFINITY : kx; /* (an order, NaN or not: unknown goes last) */
    ky = isnan(ky) ? -INFINITY : ky;
    if (kx != ky)
        return kx > ky ? -1 : 1;
    if (x->calls != y->calls)
        return x->calls > y->calls ? -1 : 1;
    if (x->fingerprint != y->fingerprint)
        return x->fingerprint < y->fingerprint ? -1 : 1;
    int c = strcmp(x->database ? x->database : "", y->database ? y->database : "");
    return c ? c : strcmp(x->user ? x->user : "", y->user ? y->user : "");
}

static void row_release(struct store_top_row *r)
{
    free(r->query);
    for (size_t i = 0; i < r->n_databases; i++)
        free(r->databases[i]);
    for (size_t i = 0; i < r->n_users; i++)
        free(r->users[i]);
    free(r->databases);
    free(r->users);
    free(r->query_ids);
    free(r->database);
    free(r->user);
    memset(r, 0, sizeof(*r));
}

/* The finished group @r into @rows: all of them without a limit, else the best. With a
 * limit, only the best `limit` groups are kept while the rest are read: a heap
 * (core/heap.h) whose root is the worst of them (a window of a million statements kept
 * every row, 420 bytes each, for `top`'s 20: 432 MB, QA 22a). */
static void keep_row(struct store_top_row **rows, size_t *n, size_t *alloc, size_t limit,
                     struct store_top_row *r)
{
    if (!limit) {
        XGROW(*rows, *n + 1, *alloc);
        (*rows)[(*n)++] = *r;
        return;
    }
    if (*n < limit) {
        XGROW(*rows, *n + 1, *alloc);
        (*rows)[(*n)++] = *r;
        heap_up(*rows, sizeof(**rows), *n - 1, cmp_rows);
        return;
    }
    if (cmp_rows(r, &(*rows)[0]) < 0) { /* better than the worst kept */
        row_release(&(*rows)[0]);
        (*rows)[0] = *r;
        heap_down(*rows, *n, sizeof(**rows), 0, cmp_rows);
        return;
    }
    row_release(r);
}

void store_top_release(struct store_top *t)
{
    for (size_t i = 0; i < t->n; i++)
        row_release(&t->rows[i]);
    free(t->rows);
    memset(t, 0, sizeof(*t));
}

static void bind_opt_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static int catalogue(struct store *s, struct store_top_row *r, struct diag *d)
{
    sqlite3_stmt *st = store_stmt(s, SQL_TOP_CATALOGUE);
    sqlite3_bind_int64(st, 1, (int64_t)r->fingerprint);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *q = sqlite3_column_text(st, 0);
        r->query = xstrdup(q ? (const char *)q : "");
        r->first_seen_us = sqlite3_column_int64(st, 1);
        r->last_seen_us = sqlite3_column_int64(st, 2);
    } else if (rc == SQLITE_DONE) {
        r->query = xstrdup("");
    } else {
        sqlite3_reset(st);
        return store_db_error(s, d, "cannot read the query catalogue");
    }
    sqlite3_reset(st);
    return 0;
}

int store_top(struct store *s, const struct store_top_opts *o, struct store_top *out,
              struct diag *d)
{
    struct store_top_row *rows = NULL, done;
    size_t n = 0, alloc = 0, total = 0;
    struct group g;
    bool open_group = false;
    int rc;

    memset(out, 0, sizeof(*out));
    out->first_us = out->end_us = INT64_MIN;
    g_order = o->by;                            /* (keep_row() compares as it goes) */
    int64_t first = INT64_MAX, end = INT64_MIN; /* bucket seconds */
    memset(&g, 0, sizeof(g));
    sketch_init(&g.sk);
    sqlite3_stmt *st = store_stmt(s, SQL_TOP_ROWS);
    sqlite3_bind_int64(st, 1, bucket_bound(o->since_us));
    sqlite3_bind_int64(st, 2, bucket_bound(o->until_us));
    bind_opt_text(st, 3, o->database);
    bind_opt_text(st, 4, o->user);
    sqlite3_bind_int(st, 5, o->split_database);
    sqlite3_bind_int(st, 6, o->split_user);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        uint64_t fp = (uint64_t)sqlite3_column_int64(st, 0);
        if (!open_group || !same_group(&g, fp, st)) {
            if (open_group) {
                group_finish(&g, &done);
                total++;
                keep_row(&rows, &n, &alloc, o->limit, &done);
            }
            group_start(&g, fp, st, o);
            open_group = true;
        }
        group_row(&g, st);
        int64_t bucket = sqlite3_column_int64(st, 11), width = sqlite3_column_int64(st, 12);
        if (bucket < first)
            first = bucket;
        if (bucket + width > end)
            end = bucket + width;
        if (sqlite3_column_type(st, 10) != SQLITE_NULL &&
            sketch_merge_blob(&g.sk, sqlite3_column_blob(st, 10),
                              (size_t)sqlite3_column_bytes(st, 10)) < 0) {
            diag_set(d, DIAG_DB,
                     "store '%s' holds a malformed latency sketch (fingerprint %016llx)", s->path,
                     (unsigned long long)fp);
            goto fail;
        }
    }
    if (rc != SQLITE_DONE) {
        store_db_error(s, d, "cannot read query statistics");
        goto fail;
    }
    sqlite3_reset(st);
    if (open_group) {
        group_finish(&g, &done);
        total++;
        keep_row(&rows, &n, &alloc, o->limit, &done);
    }
    sketch_release(&g.sk);

    if (n)
        qsort(rows, n, sizeof(*rows), cmp_rows);
    out->total = total;
    /* (bucket seconds of stored rows: far from overflowing in µs) */
    if (first != INT64_MAX && first > INT64_MIN / USEC_PER_SEC && end < INT64_MAX / USEC_PER_SEC) {
        out->first_us = first * USEC_PER_SEC;
        out->end_us = end * USEC_PER_SEC;
    }
    if (o->limit && n > o->limit) {
        for (size_t i = o->limit; i < n; i++)
            row_release(&rows[i]);
        n = o->limit;
    }
    out->rows = rows;
    out->n = n;
    for (size_t i = 0; i < n; i++)
        if (catalogue(s, &rows[i], d) < 0) {
            store_top_release(out);
            return -1;
        }
    return 0;
fail:
    sqlite3_reset(st);
    {
        struct store_top_row tmp;
        if (open_group) {
            group_finish(&g, &tmp);
            row_release(&tmp);
        }
    }
    sketch_release(&g.sk);
    for (size_t i = 0; i < n; i++)
        row_release(&rows[i]);
    free(rows);
    return -1;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

/* ---- reports ---- */

int store_totals(struct store *s, int64_t since_us, int64_t until_us, struct store_totals *out,
                 struct diag *d)
{
    static const enum store_sql q[] = { SQL_TOTAL_RECORDS, SQL_TOTAL_CALLS, SQL_TOTAL_ERRORS };
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < ARRAY_SIZE(q); i++) {
        sqlite3_stmt *st = store_stmt(s, q[i]);
        sqlite3_bind_int64(st, 1, bucket_bound(since_us));
        sqlite3_bind_int64(st, 2, bucket_bound(until_us));
        if (sqlite3_step(st) != SQLITE_ROW) {
            store_db_error(s, d, "cannot read totals");
            sqlite3_reset(st);
            return -1;
        }
        if (q[i] == SQL_TOTAL_RECORDS) {
            out->records = (uint64_t)sqlite3_column_int64(st, 0);
        } else if (q[i] == SQL_TOTAL_CALLS) {
            out->calls = (uint64_t)sqlite3_column_int64(st, 0);
            out->duration_ms = sqlite3_column_double(st, 1) / 1000; /* total(): no overflow */
        } else {
            out->errors = (uint64_t)sqlite3_column_int64(st, 0);
        }
        sqlite3_reset(st);
    }
    sqlite3_stmt *st = store_stmt(s, SQL_REJECTS);
    sqlite3_bind_int64(st, 1, since_us);
    sqlite3_bind_int64(st, 2, until_us);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        out->rejects += (uint64_t)sqlite3_column_int64(st, 2);
    if (rc != SQLITE_DONE)
        store_db_error(s, d, "cannot read rejects");
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int store_errors(struct store *s, int64_t since_us, int64_t until_us, store_error_fn *fn, void *ctx,
                 struct diag *d)
{
    sqlite3_stmt *st = store_stmt(s, SQL_ERRORS);
    int rc;
    sqlite3_bind_int64(st, 1, bucket_bound(since_us));
    sqlite3_bind_int64(st, 2, bucket_bound(until_us));
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_error_row r = {
            .sqlstate = col_text(st, 0),
            .severity = col_text(st, 1),
            .message = col_text(st, 2),
            .count = (uint64_t)sqlite3_column_int64(st, 3),
            .sample = col_text(st, 4),
        };
        int stop = fn(ctx, &r);
        if (stop) {
            sqlite3_reset(st);
            return stop;
        }
    }
    if (rc != SQLITE_DONE)
        store_db_error(s, d, "cannot read errors");
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int store_rejects(struct store *s, int64_t since_us, int64_t until_us, store_reject_fn *fn,
                  void *ctx, struct diag *d)
{
    sqlite3_stmt *st = store_stmt(s, SQL_REJECTS);
    int rc;
    sqlite3_bind_int64(st, 1, since_us);
    sqlite3_bind_int64(st, 2, until_us);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_reject_row r = {
            .source = col_text(st, 0),
            .reason = col_text(st, 1),
            .count = (uint64_t)sqlite3_column_int64(st, 2),
            .first_seen_us = sqlite3_column_int64(st, 3),
            .last_seen_us = sqlite3_column_int64(st, 4),
            .sample = col_text(st, 5),
            .sample_line = (uint64_t)sqlite3_column_int64(st, 6),
        };
        int stop = fn(ctx, &r);
        if (stop) {
            sqlite3_reset(st);
            return stop;
        }
    }
    if (rc != SQLITE_DONE)
        store_db_error(s, d, "cannot read rejects");
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}
