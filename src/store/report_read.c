/* SPDX-License-Identifier: MIT */
/*
 * report_read.c - the reads `pgsift report` needs beyond store_top()/store_events():
 * time series with merged latency sketches (per local hour or day, overall p95, the
 * latency histogram), record counts per kind and bucket, error groups and rejects.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"
#include "normalize/normalize.h"
#include "store/htab.h"
#include "store/sketch.h"
#include "store/store_int.h"

static int64_t floor_s(int64_t us)
{
    return us / 1000000 - (us % 1000000 < 0);
}

/* Window bounds in bucket seconds, as store_top() takes them: a bucket that starts
 * before the window's start is not in it. */
static int64_t ceil_s(int64_t us)
{
    if (us == INT64_MIN || us == INT64_MAX)
        return us / 1000000;
    return -floor_s(-us);
}

/* The bucket holding instant @us (µs), or -1. */
static long bucket_of(const int64_t *edges, size_t n, int64_t us)
{
    if (!n || us < edges[0] || us >= edges[n])
        return -1;
    size_t lo = 0, hi = n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (edges[mid] <= us)
            lo = mid;
        else
            hi = mid;
    }
    return (long)lo;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static void point_finish(struct store_series_point *p, const struct sketch *sk)
{
    if (!p->calls) {
        p->p50_ms = p->p95_ms = p->p99_ms = NAN;
        return;
    }
    p->p50_ms = sketch_quantile(sk, 0.50);
    p->p95_ms = sketch_quantile(sk, 0.95);
    p->p99_ms = sketch_quantile(sk, 0.99);
}

static void histogram(const struct sketch *sk, const double *bounds, size_t nb, uint64_t *hist)
{
    hist[0] += sk->zero;
    for (uint32_t k = 0; k < sk->n; k++) {
        size_t j = 0;
        while (j < nb && sk->idx[k] > sketch_index(bounds[j]))
            j++;
        hist[j] += sk->cnt[k];
    }
}

int store_series(struct store *s, const struct store_series_opts *o, struct store_series *out,
                 struct diag *d)
{
    struct sketch *sk = xcalloc(o->n + 1, sizeof(*sk)); /* [n] is the whole window */
    struct sketch tmp = SKETCH_INIT;
    int rc, ret = -1;

    memset(out, 0, sizeof(*out));
    out->points = xcalloc(o->n ? o->n : 1, sizeof(*out->points));
    for (size_t i = 0; i <= o->n; i++)
        sketch_init(&sk[i]);
    if (!o->n) {
        ret = 0;
        goto done;
    }
    sqlite3_stmt *st = store_stmt(s, o->has_fingerprint ? SQL_REPORT_SERIES_FP : SQL_REPORT_SERIES);
    sqlite3_bind_int64(st, 1, ceil_s(o->edges[0]));
    sqlite3_bind_int64(st, 2, ceil_s(o->edges[o->n]));
    bind_text_or_null(st, 3, o->database);
    bind_text_or_null(st, 4, o->user);
    if (o->has_fingerprint)
        sqlite3_bind_int64(st, 5, (int64_t)o->fingerprint);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        long b = bucket_of(o->edges, o->n, sqlite3_column_int64(st, 0) * 1000000);
        if (b < 0)
            continue;
        struct store_series_point *p = &out->points[b];
        uint64_t calls = (uint64_t)sqlite3_column_int64(st, 1);
        double ms = sqlite3_column_double(st, 2) / 1000.0; /* total(): never overflows */
        p->calls += calls;
        p->total_ms += ms;
        out->all.calls += calls;
        out->all.total_ms += ms;
        if (sqlite3_column_type(st, 3) == SQLITE_NULL)
            continue;
        if (sketch_decode(&tmp, sqlite3_column_blob(st, 3), (size_t)sqlite3_column_bytes(st, 3)) <
            0) {
            sqlite3_reset(st);
            diag_set(d, DIAG_DB, "store '%s' holds a malformed latency sketch", s->path);
            goto done;
        }
        sketch_merge(&sk[b], &tmp);
        sketch_merge(&sk[o->n], &tmp);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        store_db_error(s, d, "cannot read the time series");
        goto done;
    }
    for (size_t i = 0; i < o->n; i++)
        point_finish(&out->points[i], &sk[i]);
    ret = 0;
done:
    point_finish(&out->all, &sk[o->n]);
    if (o->bounds && ret == 0) {
        out->hist = xcalloc(o->nbounds + 1, sizeof(*out->hist));
        histogram(&sk[o->n], o->bounds, o->nbounds, out->hist);
    }
    for (size_t i = 0; i <= o->n; i++)
        sketch_release(&sk[i]);
    free(sk);
    sketch_release(&tmp);
    if (ret < 0)
        store_series_release(out);
    return ret;
}

void store_series_release(struct store_series *sr)
{
    free(sr->points);
    free(sr->hist);
    memset(sr, 0, sizeof(*sr));
}

int store_record_counts(struct store *s, const int64_t *edges, size_t n, uint64_t *kinds,
                        uint64_t *errors, struct diag *d)
{
    int rc;

    memset(kinds, 0, n * EV_KIND_COUNT * sizeof(*kinds));
    memset(errors, 0, n * sizeof(*errors));
    if (!n)
        return 0;
    sqlite3_stmt *st = store_stmt(s, SQL_REPORT_RECORDS);
    sqlite3_bind_int64(st, 1, ceil_s(edges[0]));
    sqlite3_bind_int64(st, 2, ceil_s(edges[n]));
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        long b = bucket_of(edges, n, sqlite3_column_int64(st, 0) * 1000000);
        const char *k = (const char *)sqlite3_column_text(st, 1);
        const char *sev = (const char *)sqlite3_column_text(st, 2);
        uint64_t c = (uint64_t)sqlite3_column_int64(st, 3);
        enum event_kind kind;
        enum event_severity severity;
        if (b < 0)
            continue;
        if (!k || !event_kind_from_name(span_cstr(k), &kind))
            kind = EV_OTHER;
        kinds[(size_t)b * EV_KIND_COUNT + kind] += c;
        if (sev && severity_from_name(span_cstr(sev), &severity) && severity >= SEV_ERROR)
            errors[b] += c;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return store_db_error(s, d, "cannot count records");
    return 0;
}

static char *dup_col(sqlite3_stmt *st, int i)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    return t ? xmemdupz(t, (size_t)sqlite3_column_bytes(st, i)) : NULL;
}

/* ---- shapes: store_top()'s numbers for every shape, grouped in a hash table ---- */

struct shapes {
    struct store_shape *v;
    struct sketch *sk;
    bool *any_time;
    size_t n, alloc;
    struct htab ix;
};

static uint64_t fp_hash(uint64_t fp)
{
    return (fp ^ (fp >> 31)) * 0x9e3779b97f4a7c15u;
}

struct fp_key {
    const struct shapes *sh;
    uint64_t fp;
};

static bool fp_eq(const void *ctx, uint32_t idx)
{
    const struct fp_key *k = ctx;
    return k->sh->v[idx].fingerprint == k->fp;
}

static long shape_find(const struct shapes *sh, uint64_t fp)
{
    struct fp_key k = { sh, fp };
    return htab_find(&sh->ix, fp_hash(fp), fp_eq, &k);
}

static size_t shape_get(struct shapes *sh, uint64_t fp)
{
    long i = shape_find(sh, fp);
    if (i >= 0)
        return (size_t)i;
    if (sh->n == sh->alloc) {
        size_t a = sh->alloc;
        XGROW(sh->v, sh->n + 1, sh->alloc);
        sh->sk = xrealloc(sh->sk, sh->alloc * sizeof(*sh->sk));
        sh->any_time = xrealloc(sh->any_time, sh->alloc * sizeof(*sh->any_time));
        (void)a;
    }
    struct store_shape *x = &sh->v[sh->n];
    memset(x, 0, sizeof(*x));
    x->fingerprint = fp;
    x->first_seen_us = x->last_seen_us = INT64_MIN;
    x->command = "other";
    sketch_init(&sh->sk[sh->n]);
    sh->any_time[sh->n] = false;
    htab_insert(&sh->ix, fp_hash(fp), (uint32_t)sh->n);
    return sh->n++;
}

static void shapes_free(struct shapes *sh)
{
    for (size_t i = 0; i < sh->n; i++)
        sketch_release(&sh->sk[i]);
    free(sh->sk);
    free(sh->any_time);
    htab_release(&sh->ix);
}

int store_shapes(struct store *s, int64_t since_us, int64_t until_us, struct store_shape **out,
                 size_t *n, struct diag *d)
{
    struct shapes sh;
    int rc;

    memset(&sh, 0, sizeof(sh));
    sqlite3_stmt *st = store_stmt(s, SQL_REPORT_SHAPES);
    sqlite3_bind_int64(st, 1, ceil_s(since_us));
    sqlite3_bind_int64(st, 2, ceil_s(until_us));
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        size_t i = shape_get(&sh, (uint64_t)sqlite3_column_int64(st, 0));
        struct store_shape *x = &sh.v[i];
        x->calls += (uint64_t)sqlite3_column_int64(st, 1);
        x->total_ms += (double)sqlite3_column_int64(st, 2); /* µs until the end */
        if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
            double mn = sqlite3_column_double(st, 3), mx = sqlite3_column_double(st, 4);
            if (!sh.any_time[i] || mn < x->min_ms)
                x->min_ms = mn;
            if (!sh.any_time[i] || mx > x->max_ms)
                x->max_ms = mx;
            sh.any_time[i] = true;
        }
        x->errors += (uint64_t)sqlite3_column_int64(st, 5);
        x->stddev_ms += sqlite3_column_double(st, 7); /* the sum of squares until the end */
        if (sqlite3_column_type(st, 6) != SQLITE_NULL &&
            sketch_merge_blob(&sh.sk[i], sqlite3_column_blob(st, 6),
                              (size_t)sqlite3_column_bytes(st, 6)) < 0) {
            sqlite3_reset(st);
            shapes_free(&sh);
            free(sh.v);
            return diag_set(d, DIAG_DB, "store '%s' holds a malformed latency sketch", s->path);
        }
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        shapes_free(&sh);
        free(sh.v);
        return store_db_error(s, d, "cannot read query statistics");
    }
    for (size_t i = 0; i < sh.n; i++) {
        struct store_shape *x = &sh.v[i];
        x->total_ms /= 1000; /* exact: total_us are integers summed before the division */
        if (!x->calls || !sh.any_time[i]) {
            x->min_ms = x->max_ms = NAN;
        }
        if (x->calls) {
            /* as store_top() (query.c): sqrt(E[x^2] - E[x]^2) */
            double mean = x->total_ms / (double)x->calls;
            double var = x->stddev_ms / (double)x->calls - mean * mean;
            x->stddev_ms = var > 0 ? sqrt(var) : 0;
            x->p50_ms = sketch_quantile(&sh.sk[i], 0.50);
            x->p95_ms = sketch_quantile(&sh.sk[i], 0.95);
            x->p99_ms = sketch_quantile(&sh.sk[i], 0.99);
        } else {
            x->stddev_ms = 0;
            x->p50_ms = x->p95_ms = x->p99_ms = NAN;
        }
    }
    /* First and last seen, from the catalogue. */
    st = store_stmt(s, SQL_REPORT_CATALOGUE);
    while (sh.n && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        long i = shape_find(&sh, (uint64_t)sqlite3_column_int64(st, 0));
        if (i >= 0) {
            sh.v[i].first_seen_us = sqlite3_column_int64(st, 1);
            sh.v[i].last_seen_us = sqlite3_column_int64(st, 2);
            const char *q = (const char *)sqlite3_column_text(st, 3);
            sh.v[i].command = normalize_command(span_cstr(q ? q : ""));
        }
    }
    sqlite3_reset(st);
    shapes_free(&sh);
    if (sh.n && rc != SQLITE_DONE) {
        free(sh.v);
        return store_db_error(s, d, "cannot read the query catalogue");
    }
    *out = sh.v;
    *n = sh.n;
    return 0;
}

/* Run @which over [since, until) with a row limit (?1, ?2, ?3), calling @row on each
 * row; the rows it keeps are the caller's, also on failure (it frees them). */
/* The end of the time counted for a window end at @at_s: @at_s, or the end of the
 * widest rolled-up row that holds it. */
static int counted_edge(struct store *s, int64_t at_s, int64_t *out_s, struct diag *d)
{
    static const int64_t widths[] = { 86400, 3600 };
    *out_s = at_s;
    for (size_t i = 0; i < sizeof(widths) / sizeof(widths[0]); i++) {
        sqlite3_stmt *st = store_stmt(s, SQL_REPORT_STRADDLE);
        sqlite3_bind_int64(st, 1, widths[i]);
        sqlite3_bind_int64(st, 2, at_s);
        int rc = sqlite3_step(st);
        bool hit = rc == SQLITE_ROW && sqlite3_column_int(st, 0);
        sqlite3_reset(st);
        if (rc != SQLITE_ROW)
            return store_db_error(s, d, "cannot read the store's roll-up");
        if (hit) {
            /* rows of a width start at its multiples (UTC): up to the next one */
            *out_s = at_s + (widths[i] - at_s % widths[i]) % widths[i];
            return 0;
        }
    }
    return 0;
}

int store_counted_period(struct store *s, int64_t since_us, int64_t until_us, int64_t *from_us,
                         int64_t *to_us, struct diag *d)
{
    int64_t f, t;
    if (counted_edge(s, ceil_s(since_us), &f, d) < 0 ||
        counted_edge(s, ceil_s(until_us), &t, d) < 0)
        return -1;
    *from_us = f == ceil_s(since_us) ? since_us : f * 1000000;
    *to_us = t == ceil_s(until_us) ? until_us : t * 1000000;
    return 0;
}

static int window_rows(struct store *s, enum store_sql which, int64_t since_us, int64_t until_us,
                       size_t limit, void (*row)(sqlite3_stmt *, void *), void *ctx, struct diag *d)
{
    int rc;
    sqlite3_stmt *st = store_stmt(s, which);
    sqlite3_bind_int64(st, 1, ceil_s(since_us));
    sqlite3_bind_int64(st, 2, ceil_s(until_us));
    sqlite3_bind_int64(st, 3, (int64_t)limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        row(st, ctx);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : store_db_error(s, d, "cannot read query statistics");
}

static char *col_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return xstrdup(t ? (const char *)t : "");
}

struct slow_rows {
    struct store_slow *v;
    size_t n, alloc;
};

static void slow_row(sqlite3_stmt *st, void *ctx)
{
    struct slow_rows *r = ctx;
    XGROW(r->v, r->n + 1, r->alloc);
    r->v[r->n++] = (struct store_slow){
        .bucket_us = sqlite3_column_int64(st, 0) * 1000000,
        .width_s = sqlite3_column_int64(st, 1),
        .fingerprint = (uint64_t)sqlite3_column_int64(st, 2),
        .database = col_dup(st, 3),
        .user = col_dup(st, 4),
        .ms = sqlite3_column_double(st, 5),
        .query = col_dup(st, 6),
    };
}

int store_slowest(struct store *s, int64_t since_us, int64_t until_us, size_t limit,
                  struct store_slow **out, size_t *n, struct diag *d)
{
    struct slow_rows r = { 0 };
    if (window_rows(s, SQL_REPORT_SLOWEST, since_us, until_us, limit, slow_row, &r, d) < 0) {
        store_slowest_free(r.v, r.n);
        return -1;
    }
    *out = r.v;
    *n = r.n;
    return 0;
}

void store_slowest_free(struct store_slow *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].database);
        free(v[i].user);
        free(v[i].query);
    }
    free(v);
}

struct time_by_rows {
    struct store_time_by *v;
    size_t n, alloc;
};

static void time_by_row(sqlite3_stmt *st, void *ctx)
{
    struct time_by_rows *r = ctx;
    XGROW(r->v, r->n + 1, r->alloc);
    /* total(): a float sum, which cannot overflow as sum() of huge durations does (t112);
     * exact up to 2^53 µs, as store_shapes()'s own sums */
    r->v[r->n++] = (struct store_time_by){
        .database = col_dup(st, 0),
        .user = col_dup(st, 1),
        .calls = (uint64_t)sqlite3_column_int64(st, 2),
        .total_ms = sqlite3_column_double(st, 3) / 1000,
    };
}

int store_time_by(struct store *s, int64_t since_us, int64_t until_us, size_t limit,
                  struct store_time_by **out, size_t *n, struct diag *d)
{
    struct time_by_rows r = { 0 };
    if (window_rows(s, SQL_REPORT_TIME_BY, since_us, until_us, limit, time_by_row, &r, d) < 0) {
        store_time_by_free(r.v, r.n);
        return -1;
    }
    *out = r.v;
    *n = r.n;
    return 0;
}

void store_time_by_free(struct store_time_by *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].database);
        free(v[i].user);
    }
    free(v);
}

struct phase_rows {
    struct store_phase_time *v;
    size_t n;
};

static void phase_row(sqlite3_stmt *st, void *ctx)
{
    struct phase_rows *r = ctx;
    const unsigned char *ph = sqlite3_column_text(st, 0);
    if (r->n == 2)
        return; /* (the query has two phases at most) */
    struct store_phase_time *x = &r->v[r->n++];
    snprintf(x->phase, sizeof(x->phase), "%s", ph ? (const char *)ph : "");
    x->calls = (uint64_t)sqlite3_column_int64(st, 1);
    x->total_ms = sqlite3_column_double(st, 2) / 1000; /* total(): see time_by_row() */
}

int store_phase_times(struct store *s, int64_t since_us, int64_t until_us,
                      struct store_phase_time out[2], size_t *n, struct diag *d)
{
    struct phase_rows r = { out, 0 };
    *n = 0;
    if (window_rows(s, SQL_REPORT_PHASES, since_us, until_us, 2, phase_row, &r, d) < 0)
        return -1;
    *n = r.n;
    return 0;
}

static void strs_add(char ***v, size_t *n, size_t *alloc, const unsigned char *t)
{
    if (!t || !*t)
        return;
    for (size_t i = 0; i < *n; i++)
        if (!strcmp((*v)[i], (const char *)t))
            return;
    XGROW(*v, *n + 1, *alloc);
    (*v)[(*n)++] = xstrdup((const char *)t);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_qid(const void *a, const void *b)
{
    const struct store_query_id *x = a, *y = b;
    if (x->calls != y->calls)
        return x->calls > y->calls ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

int store_shape_detail(struct store *s, uint64_t fingerprint, int64_t since_us, int64_t until_us,
                       struct store_shape_detail *out, struct diag *d)
{
    size_t adb = 0, au = 0, aq = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    sqlite3_stmt *st = store_stmt(s, SQL_REPORT_SHAPE_ROWS);
    sqlite3_bind_int64(st, 1, (int64_t)fingerprint);
    sqlite3_bind_int64(st, 2, ceil_s(since_us));
    sqlite3_bind_int64(st, 3, ceil_s(until_us));
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        strs_add(&out->databases, &out->n_databases, &adb, sqlite3_column_text(st, 0));
        strs_add(&out->users, &out->n_users, &au, sqlite3_column_text(st, 1));
        int64_t qid = sqlite3_column_int64(st, 2);
        uint64_t calls = (uint64_t)sqlite3_column_int64(st, 3);
        if (!qid || !calls)
            continue;
        size_t i = 0;
        while (i < out->n_query_ids && out->query_ids[i].id != qid)
            i++;
        if (i == out->n_query_ids) {
            XGROW(out->query_ids, out->n_query_ids + 1, aq);
            out->query_ids[out->n_query_ids++] = (struct store_query_id){ .id = qid };
        }
        out->query_ids[i].calls += calls;
        out->query_ids[i].total_us += sqlite3_column_int64(st, 4);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        store_shape_detail_release(out);
        return store_db_error(s, d, "cannot read query statistics");
    }
    if (out->n_databases > 1)
        qsort(out->databases, out->n_databases, sizeof(char *), cmp_str);
    if (out->n_users > 1)
        qsort(out->users, out->n_users, sizeof(char *), cmp_str);
    if (out->n_query_ids > 1)
        qsort(out->query_ids, out->n_query_ids, sizeof(*out->query_ids), cmp_qid);

    st = store_stmt(s, SQL_REPORT_SHAPE_PLANS);
    sqlite3_bind_int64(st, 1, (int64_t)fingerprint);
    sqlite3_bind_int64(st, 2, ceil_s(since_us));
    sqlite3_bind_int64(st, 3, ceil_s(until_us));
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        out->plans = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW) {
        store_shape_detail_release(out);
        return store_db_error(s, d, "cannot count plans");
    }

    st = store_stmt(s, SQL_REPORT_SHAPE_TEXT);
    sqlite3_bind_int64(st, 1, (int64_t)fingerprint);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->query = dup_col(st, 0);
        out->sample = dup_col(st, 1);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        store_shape_detail_release(out);
        return store_db_error(s, d, "cannot read the query catalogue");
    }
    if (!out->query)
        out->query = xstrdup("");
    return 0;
}

void store_shape_detail_release(struct store_shape_detail *x)
{
    for (size_t i = 0; i < x->n_databases; i++)
        free(x->databases[i]);
    for (size_t i = 0; i < x->n_users; i++)
        free(x->users[i]);
    free(x->databases);
    free(x->users);
    free(x->query_ids);
    free(x->query);
    free(x->sample);
    memset(x, 0, sizeof(*x));
}
