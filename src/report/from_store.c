/* SPDX-License-Identifier: MIT */
/*
 * from_store.c - fill the report model from the store for its period.
 *
 * What comes from where (docs/store.md for the tables):
 *   headline, hourly series, latency histogram  store_series() over query_stats (merged
 *                                               sketches: p95 of all calls, not of minutes)
 *   records, errors and events per kind         store_record_counts() over record_stats
 *   the 8-day trend, 7-day average, baseline    the same, over the 7 periods before
 *   query rows                                  store_top() for the period and the 7 before
 *   error groups                                store_errors() (error_stats)
 *   locks, temp files, checkpoints, vacuum,     store_events(): each event's facts
 *   sessions, cancellations
 *   rejected lines                              store_rejects() (by time of reading)
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "classify/classify.h"
#include "core/arena.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "normalize/normalize.h"
#include "report/report_int.h"
#include "store/store.h"

#define DEADLOCK_SAMPLES 5
#define REJECT_SAMPLES   5

/* Values of one kind of number, for sum / max / p95. */
struct values {
    double *v;
    size_t n, alloc;
};

static void values_add(struct values *x, double v)
{
    if (!isfinite(v) || v < 0)
        return;
    XGROW(x->v, x->n + 1, x->alloc);
    x->v[x->n++] = v;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void values_stat(struct values *x, struct report_stat *s)
{
    *s = (struct report_stat){ x->n, 0, NAN, NAN };
    if (!x->n)
        return;
    qsort(x->v, x->n, sizeof(*x->v), cmp_double);
    for (size_t i = 0; i < x->n; i++)
        s->sum += x->v[i];
    s->max = x->v[x->n - 1];
    /* Nearest rank, as an operator would count: 95 % of the values are at or below. */
    size_t rank = (size_t)ceil(0.95 * (double)x->n);
    s->p95 = x->v[rank ? rank - 1 : 0];
    free(x->v);
    memset(x, 0, sizeof(*x));
}

static uint64_t item_hash(struct span key, struct span detail)
{
    uint64_t h = XXH3_64bits(key.p, key.len);
    return detail.p ? XXH3_64bits_withSeed(detail.p, detail.len, h) : h ^ 0x9e3779b97f4a7c15u;
}

/* An item keyed by (key, detail), through the list's index: a day can have a hundred
 * thousand client hosts or database and user pairs (a scan per session made the report
 * quadratic in them, QA 22a); the lists are cut to the most frequent at the end. */
static struct report_item *item_get(struct report *r, struct report_items *l, const char *key,
                                    const char *detail)
{
    struct span k = span_cstr(key ? key : ""), dt = detail ? span_cstr(detail) : SPAN_NULL;
    if ((l->n + 1) * 2 > l->ixcap) {
        size_t cap = l->ixcap ? l->ixcap * 2 : 64;
        uint32_t *ix = xcalloc(cap, sizeof(*ix));
        for (size_t i = 0; i < l->n; i++) {
            size_t s = (size_t)item_hash(l->v[i].key, l->v[i].detail) & (cap - 1);
            while (ix[s])
                s = (s + 1) & (cap - 1);
            ix[s] = (uint32_t)i + 1;
        }
        free(l->ix);
        l->ix = ix;
        l->ixcap = cap;
    }
    size_t s = (size_t)item_hash(k, dt) & (l->ixcap - 1);
    for (; l->ix[s]; s = (s + 1) & (l->ixcap - 1)) {
        struct report_item *it = &l->v[l->ix[s] - 1];
        if (span_eq(it->key, k) && span_present(it->detail) == span_present(dt) &&
            (!dt.p || span_eq(it->detail, dt)))
            return it;
    }
    l->ix[s] = (uint32_t)l->n + 1;
    struct report_item *it = report_add_item(r, l);
    it->key = report_str(r, k);
    it->detail = report_str(r, dt);
    return it;
}

static void item_add(struct report_item *it, double v, double v2)
{
    it->count++;
    if (isfinite(v)) {
        it->sum = isnan(it->sum) ? v : it->sum + v;
        it->max = isnan(it->max) || v > it->max ? v : it->max;
    }
    if (isfinite(v2))
        it->sum2 = isnan(it->sum2) ? v2 : it->sum2 + v2;
}

static int item_cmp(const void *a, const void *b)
{
    const struct report_item *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    size_t n = x->key.len < y->key.len ? x->key.len : y->key.len;
    int c = n ? memcmp(x->key.p, y->key.p, n) : 0;
    if (c)
        return c;
    if (x->key.len != y->key.len)
        return x->key.len < y->key.len ? -1 : 1;
    n = x->detail.len < y->detail.len ? x->detail.len : y->detail.len;
    c = n ? memcmp(x->detail.p, y->detail.p, n) : 0;
    return c ? c : (x->detail.len > y->detail.len) - (x->detail.len < y->detail.len);
}

/* Most frequent first; keep @max; drop the ones never counted. */
static void items_finish(struct report_items *l, size_t max, const char *rows, const char *counted)
{
    free(l->ix); /* (the order changes: item_get() is done with the list) */
    l->ix = NULL;
    l->ixcap = 0;
    size_t k = 0;
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].count)
            l->v[k++] = l->v[i];
    l->n = k;
    if (l->n > 1)
        qsort(l->v, l->n, sizeof(*l->v), item_cmp);
    l->rows = rows;
    l->counted = counted;
    l->rest = l->n > max ? l->n - max : 0;
    l->rest_count = 0;
    for (size_t i = max; i < l->n; i++)
        l->rest_count += l->v[i].count;
    if (l->n > max)
        l->n = max;
}

/* Most total time first (a report's question is where the time went), then calls. */
static int command_cmp(const void *a, const void *b)
{
    const struct report_item *x = a, *y = b;
    if (x->sum != y->sum)
        return x->sum > y->sum ? -1 : 1;
    return x->count != y->count ? (x->count > y->count ? -1 : 1) : item_cmp(a, b);
}

static void commands_finish(struct report_items *l)
{
    if (l->n > 1)
        qsort(l->v, l->n, sizeof(*l->v), command_cmp);
}

/* Query rows by fingerprint, for the events that name their statement. */
struct fp_index {
    uint64_t fp;
    size_t q;
};

static int fp_cmp(const void *a, const void *b)
{
    const struct fp_index *x = a, *y = b;
    return x->fp < y->fp ? -1 : x->fp > y->fp;
}

/* A set of pids (open addressing; 0 empty, -2 removed): the sessions open now. */
struct pidset {
    int64_t *k;
    size_t cap, n, used; /* used: n plus removed slots */
};

static size_t pid_slot(const struct pidset *s, int64_t pid, bool for_insert)
{
    size_t i = (size_t)((uint64_t)pid * UINT64_C(0x9E3779B97F4A7C15) >> 32) & (s->cap - 1);
    size_t tomb = SIZE_MAX;
    for (;; i = (i + 1) & (s->cap - 1)) {
        if (s->k[i] == pid)
            return i;
        if (s->k[i] == -2 && tomb == SIZE_MAX)
            tomb = i;
        if (s->k[i] == 0)
            return for_insert && tomb != SIZE_MAX ? tomb : i;
    }
}

/* Add @pid; false if it was there already. */
static bool pidset_add(struct pidset *s, int64_t pid)
{
    if (2 * (s->used + 1) > s->cap) {
        struct pidset old = *s;
        s->cap = old.cap ? (old.n * 4 > old.cap ? old.cap * 2 : old.cap) : 64;
        s->k = xcalloc(s->cap, sizeof(*s->k));
        s->n = s->used = 0;
        for (size_t i = 0; i < old.cap; i++)
            if (old.k[i] > 0)
                s->k[pid_slot(s, old.k[i], true)] = old.k[i], s->n++, s->used++;
        free(old.k);
    }
    size_t i = pid_slot(s, pid, true);
    if (s->k[i] == pid)
        return false;
    s->used += s->k[i] == 0;
    s->k[i] = pid;
    s->n++;
    return true;
}

/* Remove @pid; false if it was not there. */
static bool pidset_del(struct pidset *s, int64_t pid)
{
    if (!s->cap)
        return false;
    size_t i = pid_slot(s, pid, false);
    if (s->k[i] != pid)
        return false;
    s->k[i] = -2;
    s->n--;
    return true;
}

struct load {
    struct report *r;
    struct fp_index *fps;
    size_t nfps;
    struct values lock_ms, temp, buffers, write_s, sync_s, total_s, vacuum_s, analyze_s, session_s;
    struct values wal_added, wal_removed, wal_recycled, sync_longest_s, distance, estimate;
    struct values pages_removed, tuples_dead, buffer_reads, buffer_dirtied, wal_bytes;
    struct values setup_ms, setup_auth_ms;
    size_t deadlock_alloc;
    bool keep_literals;   /* REPORT_KEEP_LITERALS: lock objects keyed as logged */
    struct sbuf lock_obj; /* the redacted lock object of the current event */
    long ckpt_cause;      /* item of the checkpoint in progress, -1 if none */
    struct pidset open;   /* sessions authorized in the period and not ended yet */
    uint64_t peak;        /* most of them at once */
    bool ended;           /* a disconnection was seen: the log says when sessions end */
};

static struct report_query *query_of(struct load *L, uint64_t fp)
{
    struct fp_index key = { fp, 0 };
    struct fp_index *hit = bsearch(&key, L->fps, L->nfps, sizeof(key), fp_cmp);
    return hit ? &L->r->queries[hit->q] : NULL;
}

static const struct store_fact *fact(const struct store_event_row *e, const char *name)
{
    for (size_t i = 0; i < e->n_facts; i++)
        if (!strcmp(e->facts[i].name, name))
            return &e->facts[i];
    return NULL;
}

static double fact_num(const struct store_event_row *e, const char *name)
{
    const struct store_fact *f = fact(e, name);
    if (!f)
        return NAN;
    return f->type == STORE_FACT_INT ? (double)f->i : f->type == STORE_FACT_REAL ? f->r : NAN;
}

static const char *fact_text(const struct store_event_row *e, const char *name)
{
    const struct store_fact *f = fact(e, name);
    return f && f->type == STORE_FACT_TEXT ? f->s : NULL;
}

static int on_event(void *ctx, const struct store_event_row *e)
{
    struct load *L = ctx;
    struct report *r = L->r;
    enum event_kind kind;

    if (!e->kind || !event_kind_from_name(span_cstr(e->kind), &kind))
        return 0;
    struct report_query *q = e->has_fingerprint ? query_of(L, e->fingerprint) : NULL;
    /* A FATAL ends its process: a session refused after "connection authorized" (no such
     * database or role) logs no disconnection. */
    if (e->pid > 0 && e->severity &&
        (!strcmp(e->severity, "FATAL") || !strcmp(e->severity, "PANIC")))
        pidset_del(&L->open, e->pid);
    switch (kind) {
    case EV_LOCK_WAIT:
    case EV_LOCK_ACQUIRED:
    case EV_DEADLOCK: {
        double ms = fact_num(e, "wait_ms");
        /* The wait is logged twice ("still waiting" then "acquired"): count the time
         * once, from the acquired record, and waits from the waiting one. */
        if (kind == EV_LOCK_ACQUIRED)
            values_add(&L->lock_ms, ms);
        /* A wait counts once, from the record that starts it: "still waiting", or
         * "detected deadlock while waiting" / "avoided deadlock" when the deadlock check
         * came first (a deadlock's victim logs no "still waiting"); "failed to acquire"
         * (step end) closes a wait already counted. */
        const char *step = fact_text(e, "step");
        bool waiting = !step || !strcmp(step, "start");
        /* Rows by mode and object as the report shows the object: redacted unless
         * --keep-literals ("transaction ?"), so waits on objects that differ only by
         * their numbers are one row, not many rows that look the same. */
        const char *obj = fact_text(e, "lock_object");
        if (obj && !L->keep_literals) {
            sbuf_reset(&L->lock_obj);
            if (report_redact(&L->lock_obj, span_cstr(obj)) == 0)
                obj = L->lock_obj.buf;
        }
        if (kind == EV_LOCK_WAIT && waiting) {
            item_add(item_get(r, &r->locks, fact_text(e, "lock_mode"), obj), NAN, NAN);
            if (q)
                q->lock_waits++;
        }
        /* The row's time waited, like the total, is the acquired record's (the waiting
         * record's is only deadlock_timeout, when the wait was logged). */
        if (kind == EV_LOCK_ACQUIRED && isfinite(ms)) {
            struct report_item *it = item_get(r, &r->locks, fact_text(e, "lock_mode"), obj);
            it->sum = isnan(it->sum) ? ms : it->sum + ms;
            it->max = isnan(it->max) || ms > it->max ? ms : it->max;
        }
        if (kind == EV_LOCK_ACQUIRED && q && isfinite(ms))
            q->lock_wait_ms += ms;
        if (kind == EV_DEADLOCK && r->ndeadlock_samples < DEADLOCK_SAMPLES && e->detail) {
            XGROW(r->deadlock_samples, r->ndeadlock_samples + 1, L->deadlock_alloc);
            r->deadlock_samples[r->ndeadlock_samples++] = report_str(r, span_cstr(e->detail));
        }
        break;
    }
    case EV_TEMP_FILE: {
        double b = fact_num(e, "temp_bytes");
        values_add(&L->temp, b);
        if (isfinite(b))
            report_hist_add(&r->temp_hist, b, 1);
        if (q) {
            q->temp_files++;
            q->temp_bytes += isfinite(b) ? b : 0;
        }
        break;
    }
    case EV_CHECKPOINT: {
        /* Three records: "checkpoint starting: <flags>" (the cause), "checkpoint complete:
         * wrote N buffers ... total=" (the numbers) and "checkpoints are occurring too
         * frequently" (cause too_frequent). A checkpoint is counted when it completes. */
        const char *cause = fact_text(e, "cause");
        double buffers = fact_num(e, "buffers"), total = fact_num(e, "total_s");
        if (cause && !strcmp(cause, "too_frequent")) {
            r->ckpt_warnings++;
        } else if (isfinite(buffers) || isfinite(total)) {
            r->checkpoints++;
            values_add(&L->buffers, buffers);
            values_add(&L->write_s, fact_num(e, "write_s"));
            values_add(&L->sync_s, fact_num(e, "sync_s"));
            values_add(&L->total_s, total);
            values_add(&L->wal_added, fact_num(e, "wal_added"));
            values_add(&L->wal_removed, fact_num(e, "wal_removed"));
            values_add(&L->wal_recycled, fact_num(e, "wal_recycled"));
            values_add(&L->sync_longest_s, fact_num(e, "sync_longest_s"));
            values_add(&L->distance, 1024 * fact_num(e, "distance_kb"));
            values_add(&L->estimate, 1024 * fact_num(e, "estimate_kb"));
            /* (PG19 repeats the flags in the completion: its cause when the start is
             * before the period) */
            struct report_item *it = L->ckpt_cause >= 0
                                         ? &r->checkpoint_causes.v[L->ckpt_cause]
                                         : item_get(r, &r->checkpoint_causes,
                                                    cause ? cause : "(start not in period)", NULL);
            it->count++;
            if (isfinite(buffers))
                it->sum = isnan(it->sum) ? buffers : it->sum + buffers;
            if (isfinite(total))
                it->max = isnan(it->max) || total > it->max ? total : it->max;
            L->ckpt_cause = -1;
        } else {
            /* The cause waits for its completion (the checkpointer's next record). */
            struct report_item *it = item_get(r, &r->checkpoint_causes, cause ? cause : "", NULL);
            L->ckpt_cause = it - r->checkpoint_causes.v;
        }
        break;
    }
    case EV_AUTOVACUUM:
    case EV_AUTOANALYZE: {
        double s = fact_num(e, "elapsed_s");
        values_add(kind == EV_AUTOVACUUM ? &L->vacuum_s : &L->analyze_s, s);
        struct report_item *it = item_get(r, &r->vacuum, fact_text(e, "relation"),
                                          kind == EV_AUTOVACUUM ? "vacuum" : "analyze");
        item_add(it, s, fact_num(e, "tuples_removed"));
        if (kind == EV_AUTOVACUUM) {
            double pages = fact_num(e, "pages_removed");
            if (isfinite(pages))
                it->sum3 = isnan(it->sum3) ? pages : it->sum3 + pages;
            double dead = fact_num(e, "tuples_dead");
            if (isfinite(dead) && !(dead <= it->max2))
                it->max2 = dead;
            values_add(&L->pages_removed, pages);
            values_add(&L->tuples_dead, dead);
            values_add(&L->buffer_reads, fact_num(e, "buffer_misses"));
            values_add(&L->buffer_dirtied, fact_num(e, "buffer_dirtied"));
            values_add(&L->wal_bytes, fact_num(e, "wal_bytes"));
        }
        break;
    }
    case EV_AUTHENTICATED:
        /* Sessions at once: those authorized in the period (one open in it already is
         * not known), until their disconnection. A pid authorized again without one is
         * the same count (a session whose end was not logged). */
        if (e->pid > 0 && pidset_add(&L->open, e->pid) && L->open.n > L->peak)
            L->peak = L->open.n;
        item_add(
            item_get(r, &r->sessions_by, e->database ? e->database : "", e->user ? e->user : ""),
            NAN, NAN);
        item_add(item_get(r, &r->apps, e->application ? e->application : "", NULL), NAN, NAN);
        break;
    case EV_CONNECTION: {
        const char *host = fact_text(e, "host");
        item_add(item_get(r, &r->hosts, host ? host : "", NULL), NAN, NAN);
        break;
    }
    case EV_DISCONNECTION: {
        double s = fact_num(e, "elapsed_s");
        L->ended = true;
        if (e->pid > 0)
            pidset_del(&L->open, e->pid);
        values_add(&L->session_s, s);
        if (isfinite(s))
            report_hist_add(&r->session_hist, s, 1);
        break;
    }
    case EV_CONNECTION_READY:
        values_add(&L->setup_ms, fact_num(e, "setup_ms"));
        values_add(&L->setup_auth_ms, fact_num(e, "auth_ms"));
        break;
    case EV_CANCEL:
    case EV_TIMEOUT: {
        const char *cause = fact_text(e, "cause");
        item_add(item_get(r, &r->cancels, kind == EV_CANCEL ? "cancel" : "timeout",
                          cause ? cause : (e->message ? e->message : "")),
                 NAN, NAN);
        break;
    }
    default:
        if (e->message && strstr(e->message, "checkpoints are occurring too frequently"))
            r->ckpt_warnings++;
        break;
    }
    return 0;
}

/* Period edges: the report's buckets, then its end. */
static int64_t *bucket_edges(const struct report *r)
{
    int64_t *e = xmalloc((r->nbuckets + 1) * sizeof(*e));
    for (size_t i = 0; i < r->nbuckets; i++)
        e[i] = r->buckets[i].start_us;
    e[r->nbuckets] = r->to_us;
    return e;
}

/* The 7 periods before this one and this one: local days for a day report, else
 * periods of the same length. */
static void trend_edges(const struct report *r, int64_t e[REPORT_TREND_DAYS + 1])
{
    e[REPORT_TREND_DAYS] = r->to_us;
    e[REPORT_TREND_DAYS - 1] = r->from_us;
    int y;
    unsigned m, d;
    for (int i = REPORT_TREND_DAYS - 2; i >= 0; i--) {
        if (r->day[0]) {
            tz_local_date(&r->tz, r->from_us, &y, &m, &d);
            int64_t days = clock_days_from_civil(y, m, d) - (REPORT_TREND_DAYS - 1 - i);
            clock_civil_from_days(days, &y, &m, &d);
            e[i] = tz_local_midnight(&r->tz, y, m, d);
        } else {
            e[i] = r->from_us - (int64_t)(REPORT_TREND_DAYS - 1 - i) * (r->to_us - r->from_us);
        }
    }
}

static void copy_strs(struct report *r, char **v, size_t n, struct span **out, size_t *nout)
{
    *out = n ? xcalloc(n, sizeof(**out)) : NULL;
    *nout = n;
    for (size_t i = 0; i < n; i++)
        (*out)[i] = report_str(r, span_cstr(v[i]));
}

static void shape_to_query(struct report_query *q, const struct store_shape *x)
{
    q->fingerprint = x->fingerprint;
    q->text = SPAN_NULL; /* filled for the shapes shown (load_details) */
    q->calls = x->calls;
    q->errors = x->errors;
    q->total_ms = x->total_ms;
    q->min_ms = x->min_ms;
    q->max_ms = x->max_ms;
    q->stddev_ms = x->stddev_ms;
    q->p50_ms = x->p50_ms;
    q->p95_ms = x->p95_ms;
    q->p99_ms = x->p99_ms;
    q->first_seen_us = x->first_seen_us;
    q->last_seen_us = x->last_seen_us;
    q->temp_bytes = 0;
    q->lock_wait_ms = 0;
}

static int load_queries(struct load *L, struct store *st, const int64_t te[], struct diag *d)
{
    struct report *r = L->r;
    struct store_shape *v;
    size_t n;

    /* Numbers for every shape (ranking needs them all); texts later, for those shown. */
    if (store_shapes(st, r->from_us, r->to_us, &v, &n, d) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        shape_to_query(report_add_query(r), &v[i]);
        if (!v[i].calls)
            continue; /* (a shape with errors only) */
        struct report_item *it = item_get(r, &r->commands, v[i].command, NULL);
        it->count += v[i].calls;
        it->sum = isnan(it->sum) ? v[i].total_ms : it->sum + v[i].total_ms;
        it->sum2 = isnan(it->sum2) ? 1 : it->sum2 + 1;
    }
    free(v);
    r->shapes_total = n;
    commands_finish(&r->commands);

    struct store_slow *sl;
    if (store_slowest(st, r->from_us, r->to_us, REPORT_SLOWEST, &sl, &n, d) < 0)
        return -1;
    r->slowest = n ? xcalloc(n, sizeof(*r->slowest)) : NULL;
    r->nslowest = n;
    for (size_t i = 0; i < n; i++)
        r->slowest[i] = (struct report_slow){
            .at_us = sl[i].bucket_us,
            .width_s = sl[i].width_s,
            .fingerprint = sl[i].fingerprint,
            .database = report_str(r, span_cstr(sl[i].database)),
            .user = report_str(r, span_cstr(sl[i].user)),
            .query = report_str(r, span_cstr(sl[i].query)),
            .ms = sl[i].ms,
        };
    store_slowest_free(sl, n);

    struct store_time_by *tb;
    if (store_time_by(st, r->from_us, r->to_us, REPORT_TIME_BY, &tb, &n, d) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) { /* (in the store's order: most time first) */
        struct report_item *it = report_add_item(r, &r->time_by);
        it->key = report_str(r, span_cstr(tb[i].database));
        it->detail = report_str(r, span_cstr(tb[i].user));
        it->count = tb[i].calls;
        it->sum = tb[i].total_ms;
    }
    store_time_by_free(tb, n);

    struct store_phase_time ph[2];
    if (store_phase_times(st, r->from_us, r->to_us, ph, &n, d) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        struct report_item *it = report_add_item(r, &r->phases);
        it->key = report_str(r, span_cstr(ph[i].phase));
        it->count = ph[i].calls;
        it->sum = ph[i].total_ms;
    }

    L->nfps = r->nqueries;
    L->fps = xmalloc((L->nfps ? L->nfps : 1) * sizeof(*L->fps));
    for (size_t i = 0; i < r->nqueries; i++)
        L->fps[i] = (struct fp_index){ r->queries[i].fingerprint, i };
    qsort(L->fps, L->nfps, sizeof(*L->fps), fp_cmp);

    /* Baseline: the 7 periods before, per shape, averaged over the periods that have data
     * and come after the shape was first seen (a statement that did not exist yet did
     * not run zero times). */
    if (store_shapes(st, te[0], r->from_us, &v, &n, d) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        struct report_query *q = query_of(L, v[i].fingerprint);
        if (!q || !v[i].calls)
            continue;
        int days = 0;
        for (int k = 0; k < REPORT_TREND_DAYS - 1; k++)
            if (r->trend[k].present &&
                (q->first_seen_us == INT64_MIN || te[k + 1] > q->first_seen_us))
                days++;
        if (!days)
            days = 1;
        q->base_days = days;
        q->base_calls = (double)v[i].calls / days;
        q->base_total_ms = v[i].total_ms / days;
        q->base_p95_ms = v[i].p95_ms;
    }
    free(v);
    return 0;
}

/* Texts, databases, users and query_ids of one shape (those the report shows). */
static int load_detail(struct report *r, struct store *st, struct report_query *q, struct diag *d)
{
    struct store_shape_detail x;

    if (q->text.p)
        return 0;
    if (store_shape_detail(st, q->fingerprint, r->from_us, r->to_us, &x, d) < 0)
        return -1;
    /* The texts `pgsift top` shows for shapes without one. */
    q->text = report_str(r, span_cstr(*x.query         ? x.query
                                      : q->fingerprint ? "(statement text not in the catalogue)"
                                                       : "(statement not logged)"));
    q->sample = x.sample ? report_str(r, span_cstr(x.sample)) : SPAN_NULL;
    q->plans = x.plans;
    copy_strs(r, x.databases, x.n_databases, &q->databases, &q->ndatabases);
    copy_strs(r, x.users, x.n_users, &q->users, &q->nusers);
    if (x.n_query_ids) {
        q->query_ids = xcalloc(x.n_query_ids, sizeof(*q->query_ids));
        q->nquery_ids = x.n_query_ids;
        for (size_t k = 0; k < x.n_query_ids; k++)
            q->query_ids[k] = (struct report_query_id){ x.query_ids[k].id, x.query_ids[k].calls,
                                                        (double)x.query_ids[k].total_us / 1000 };
    }
    store_shape_detail_release(&x);
    return 0;
}

static int load_series(struct report *r, struct store *st, const int64_t *edges, const int64_t te[],
                       struct diag *d)
{
    struct store_series s;
    size_t n = r->nbuckets;
    uint64_t *kinds = xcalloc(n * EV_KIND_COUNT + 1, sizeof(*kinds));
    uint64_t *errs = xcalloc(n + 1, sizeof(*errs));
    int rc = -1;

    if (store_series(
            st,
            &(struct store_series_opts){
                .edges = edges, .n = n, .bounds = r->latency.upper, .nbounds = r->latency.n },
            &s, d) < 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        r->buckets[i].calls = s.points[i].calls;
        r->buckets[i].duration_ms = s.points[i].total_ms;
        r->buckets[i].p95_ms = s.points[i].p95_ms;
    }
    r->totals.v[RF_CALLS] = (double)s.all.calls;
    r->totals.v[RF_DURATION_MS] = s.all.total_ms;
    r->totals.v[RF_P95_MS] = s.all.p95_ms;
    for (size_t i = 0; i <= r->latency.n; i++)
        r->latency.count[i] = s.hist[i];
    store_series_release(&s);

    if (store_record_counts(st, edges, n, kinds, errs, d) < 0)
        goto out;
    double records = 0, errors = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(r->buckets[i].events, &kinds[i * EV_KIND_COUNT], sizeof(r->buckets[i].events));
        r->buckets[i].errors = errs[i];
        errors += (double)errs[i];
        for (int k = 0; k < EV_KIND_COUNT; k++) {
            r->events[k] += kinds[i * EV_KIND_COUNT + k];
            records += (double)kinds[i * EV_KIND_COUNT + k];
        }
    }
    r->totals.v[RF_RECORDS] = records;
    r->totals.v[RF_ERRORS] = errors;

    /* The trend: 7 periods before and this one. */
    uint64_t tk[REPORT_TREND_DAYS * EV_KIND_COUNT], te_err[REPORT_TREND_DAYS];
    if (store_series(st, &(struct store_series_opts){ .edges = te, .n = REPORT_TREND_DAYS - 1 }, &s,
                     d) < 0)
        goto out;
    if (store_record_counts(st, te, REPORT_TREND_DAYS, tk, te_err, d) < 0) {
        store_series_release(&s);
        goto out;
    }
    r->ntrend = REPORT_TREND_DAYS;
    for (int i = 0; i < REPORT_TREND_DAYS; i++) {
        struct report_day *day = &r->trend[i];
        day->start_us = te[i];
        if (i == REPORT_TREND_DAYS - 1) {
            day->present = true;
            day->f = r->totals;
            continue;
        }
        double recs = 0;
        for (int k = 0; k < EV_KIND_COUNT; k++)
            recs += (double)tk[i * EV_KIND_COUNT + k];
        day->present = recs > 0 || s.points[i].calls > 0;
        day->f.v[RF_RECORDS] = recs;
        day->f.v[RF_CALLS] = (double)s.points[i].calls;
        day->f.v[RF_DURATION_MS] = s.points[i].total_ms;
        day->f.v[RF_P95_MS] = s.points[i].p95_ms;
        day->f.v[RF_ERRORS] = (double)te_err[i];
        struct store_totals tt;
        if (store_totals(st, te[i], te[i + 1], &tt, d) < 0) {
            store_series_release(&s);
            goto out;
        }
        day->f.v[RF_RECORDS] = (double)tt.records;
        day->f.v[RF_ERRORS] = (double)tt.errors;
        day->f.v[RF_REJECTS] = (double)tt.rejects; /* by the time they were read */
    }
    if (r->trend[REPORT_TREND_DAYS - 2].present)
        r->prev_day = r->trend[REPORT_TREND_DAYS - 2].f;
    for (int f = 0; f < RF_COUNT; f++) {
        double sum = 0;
        int days = 0;
        for (int i = 0; i < REPORT_TREND_DAYS - 1; i++)
            if (r->trend[i].present && isfinite(r->trend[i].f.v[f])) {
                sum += r->trend[i].f.v[f];
                days++;
            }
        r->avg_7d.v[f] = days ? sum / days : NAN;
    }
    /* The p95 of the 7 days is the p95 of all their calls (merged sketch), not the mean
     * of daily p95s. */
    r->avg_7d.v[RF_P95_MS] = s.all.p95_ms;
    store_series_release(&s);
    rc = 0;
out:
    free(kinds);
    free(errs);
    return rc;
}

static int on_error(void *ctx, const struct store_error_row *row)
{
    struct report *r = ctx;
    struct report_error *e = report_add_error(r);
    snprintf(e->sqlstate, sizeof(e->sqlstate), "%s", row->sqlstate ? row->sqlstate : "");
    if (!row->severity || !severity_from_name(span_cstr(row->severity), &e->severity))
        e->severity = SEV_ERROR;
    e->count = row->count;
    e->message = report_str(r, span_cstr(row->message ? row->message : ""));
    e->sample = row->sample ? report_str(r, span_cstr(row->sample)) : SPAN_NULL;
    return 0;
}

static int on_reject(void *ctx, const struct store_reject_row *row)
{
    struct report *r = ctx;
    struct report_reject *j = report_add_reject(r);
    j->source = report_str(r, span_cstr(row->source ? row->source : ""));
    j->reason = report_str(r, span_cstr(row->reason ? row->reason : ""));
    j->count = row->count;
    j->sample_line = row->sample_line;
    if (row->sample) {
        j->samples = xcalloc(1, sizeof(*j->samples));
        j->samples[0] = report_str(r, span_cstr(row->sample));
        j->nsamples = 1;
    }
    return 0;
}

static int load_errors_rejects(struct report *r, struct store *st, struct diag *d)
{
    struct store_totals t;

    if (store_errors(st, r->from_us, r->to_us, on_error, r, d) < 0 ||
        store_rejects(st, r->from_us, r->to_us, on_reject, r, d) < 0 ||
        store_totals(st, r->from_us, r->to_us, &t, d) < 0)
        return -1;
    /* The store's definitions of the headline counts (docs/store.md). */
    r->totals.v[RF_RECORDS] = (double)t.records;
    r->totals.v[RF_ERRORS] = (double)t.errors;
    r->totals.v[RF_REJECTS] = (double)t.rejects;
    r->trend[REPORT_TREND_DAYS - 1].f = r->totals;
    return 0;
}

/* ---- plans ---- */

struct plan_key {
    const struct store_plan *p;
};

static int plan_cmp(const void *a, const void *b)
{
    const struct store_plan *x = ((const struct plan_key *)a)->p,
                            *y = ((const struct plan_key *)b)->p;
    bool xi = x->insights && *x->insights, yi = y->insights && *y->insights;
    if (xi != yi)
        return xi ? -1 : 1;
    if (x->total_ms != y->total_ms)
        return x->total_ms > y->total_ms ? -1 : 1;
    if (x->fingerprint != y->fingerprint)
        return x->fingerprint < y->fingerprint ? -1 : 1;
    return x->plan_fp < y->plan_fp ? -1 : x->plan_fp > y->plan_fp;
}

static struct span opt_str(struct report *r, const char *s)
{
    return s ? report_str(r, span_cstr(s)) : SPAN_NULL;
}

static const char *shape_of(const struct store_plans *sp, uint64_t fp, uint64_t plan_fp)
{
    for (size_t i = 0; i < sp->n; i++)
        if (sp->plans[i].fingerprint == fp && sp->plans[i].plan_fp == plan_fp)
            return sp->plans[i].shape;
    return NULL;
}

/* The plan as the report may show it: a store filled with --keep-literals keeps the
 * constants and parameters of its plans, so without REPORT_KEEP_LITERALS they are taken
 * out here (plan_redact(), as ingest does), like every other sample. A plan that cannot
 * be redacted is not shown. */
static struct span plan_sample(struct report *r, const char *sample, bool keep,
                               struct normalizer **nz, struct arena *a, struct sbuf *red)
{
    if (!sample || keep)
        return opt_str(r, sample);
    if (!*nz)
        *nz = normalize_new(NULL);
    struct span body = span_cstr(sample);
    arena_reset(a);
    sbuf_reset(red);
    if (plan_redact(*nz, body, plan_detect_format(body), a, red) < 0)
        return SPAN_NULL;
    return report_str(r, sbuf_span(red));
}

static int load_plans(struct report *r, struct store *st, size_t top, bool keep, struct diag *d)
{
    struct store_plans sp;
    struct normalizer *nz = NULL;
    struct arena a;
    struct sbuf red = SBUF_INIT;

    if (store_plans(st, &(struct store_plans_opts){ .since_us = r->from_us }, &sp, d) < 0)
        return -1;
    arena_init(&a, 64 * 1024);
    struct plan_key *keys = xmalloc((sp.n ? sp.n : 1) * sizeof(*keys));
    size_t n = 0;
    for (size_t i = 0; i < sp.n; i++)
        if (sp.plans[i].first_seen_us < r->to_us && sp.plans[i].last_seen_us >= r->from_us)
            keys[n++] = (struct plan_key){ &sp.plans[i] };
    qsort(keys, n, sizeof(*keys), plan_cmp);
    r->plans_total = n;
    for (size_t i = 0; i < n && i < top; i++) {
        const struct store_plan *p = keys[i].p;
        XGROW(r->plans, r->nplans + 1, r->plans_alloc);
        struct report_plan *x = &r->plans[r->nplans++];
        *x = (struct report_plan){
            .fingerprint = p->fingerprint,
            .plan_fp = p->plan_fp,
            .query = opt_str(r, p->query),
            .database = opt_str(r, p->database),
            .shape = opt_str(r, p->shape),
            .insights = opt_str(r, p->insights ? p->insights : ""),
            .format = opt_str(r, p->format),
            .sample = plan_sample(r, p->sample, keep, &nz, &a, &red),
            .calls = p->calls,
            .total_ms = p->total_ms,
            .mean_ms = p->mean_ms,
            .p95_ms = p->p95_ms,
            .first_us = p->first_seen_us,
            .last_us = p->last_seen_us,
        };
    }
    free(keys);
    if (nz)
        normalize_free(nz);
    arena_release(&a);
    sbuf_release(&red);
    for (size_t i = 0; i < sp.n_changes; i++) {
        const struct store_plan_change *c = &sp.changes[i];
        if (c->at_us < r->from_us || c->at_us >= r->to_us)
            continue;
        const char *q = NULL;
        for (size_t k = 0; k < sp.n && !q; k++)
            if (sp.plans[k].fingerprint == c->fingerprint)
                q = sp.plans[k].query;
        XGROW(r->plan_changes, r->nplan_changes + 1, r->plan_changes_alloc);
        r->plan_changes[r->nplan_changes++] = (struct report_plan_change){
            .fingerprint = c->fingerprint,
            .from_plan = c->from_plan,
            .to_plan = c->to_plan,
            .query = opt_str(r, q),
            .database = opt_str(r, c->database),
            .from_shape = opt_str(r, shape_of(&sp, c->fingerprint, c->from_plan)),
            .to_shape = opt_str(r, shape_of(&sp, c->fingerprint, c->to_plan)),
            .at_us = c->at_us,
            .calls_before = c->calls_before,
            .calls_after = c->calls_after,
            .before_ms = c->before_ms,
            .after_ms = c->after_ms,
            .slower_by = c->slower_by < 0 ? NAN : c->slower_by,
        };
    }
    r->plans_known = true;
    store_plans_release(&sp);
    return 0;
}

int report_from_store(struct report *r, struct store *st, const struct report_opts *opts,
                      struct diag *d)
{
    struct load L;
    int64_t *edges = bucket_edges(r);
    int64_t te[REPORT_TREND_DAYS + 1];
    int rc = -1;

    memset(&L, 0, sizeof(L));
    L.r = r;
    L.ckpt_cause = -1;
    L.keep_literals = opts && (opts->flags & REPORT_KEEP_LITERALS);
    sbuf_init(&L.lock_obj, 0);
    trend_edges(r, te);
    r->generated_us = clock_now_us();
    for (int f = 0; f < RF_COUNT; f++)
        r->totals.v[f] = 0;
    int64_t t0 = clock_mono_ns();
    if (store_counted_period(st, r->from_us, r->to_us, &r->counted_from_us, &r->counted_to_us, d) <
            0 ||
        load_series(r, st, edges, te, d) < 0)
        goto out;
    int64_t t1 = clock_mono_ns();
    if (load_queries(&L, st, te, d) < 0)
        goto out;
    int64_t t2 = clock_mono_ns();
    if (load_errors_rejects(r, st, d) < 0 ||
        load_plans(r, st, opts && opts->top ? opts->top : 20,
                   opts && (opts->flags & REPORT_KEEP_LITERALS), d) < 0)
        goto out;
    if (store_events(st,
                     &(struct store_events_opts){ .since_us = r->from_us, .until_us = r->to_us },
                     on_event, &L, d) < 0)
        goto out;
    int64_t t3 = clock_mono_ns();
    values_stat(&L.lock_ms, &r->lock_wait_ms);
    values_stat(&L.temp, &r->temp_bytes);
    values_stat(&L.buffers, &r->ckpt_buffers);
    values_stat(&L.write_s, &r->ckpt_write_s);
    values_stat(&L.sync_s, &r->ckpt_sync_s);
    values_stat(&L.total_s, &r->ckpt_total_s);
    values_stat(&L.wal_added, &r->ckpt_wal_added);
    values_stat(&L.wal_removed, &r->ckpt_wal_removed);
    values_stat(&L.wal_recycled, &r->ckpt_wal_recycled);
    values_stat(&L.sync_longest_s, &r->ckpt_sync_longest_s);
    values_stat(&L.distance, &r->ckpt_distance);
    values_stat(&L.estimate, &r->ckpt_estimate);
    values_stat(&L.pages_removed, &r->vacuum_pages_removed);
    values_stat(&L.tuples_dead, &r->vacuum_tuples_dead);
    values_stat(&L.buffer_reads, &r->vacuum_buffer_reads);
    values_stat(&L.buffer_dirtied, &r->vacuum_buffer_dirtied);
    values_stat(&L.wal_bytes, &r->vacuum_wal_bytes);
    values_stat(&L.vacuum_s, &r->vacuum_s);
    values_stat(&L.analyze_s, &r->analyze_s);
    values_stat(&L.session_s, &r->session_s);
    values_stat(&L.setup_ms, &r->setup_ms);
    values_stat(&L.setup_auth_ms, &r->setup_auth_ms);
    /* Known only when the log says when sessions end (log_disconnections). */
    r->peak_sessions = L.ended ? L.peak : 0;
    items_finish(&r->locks, 50, "lock modes and objects", "waits");
    items_finish(&r->checkpoint_causes, 20, "causes", "checkpoints");
    items_finish(&r->vacuum, 50, "relations", "runs");
    items_finish(&r->sessions_by, 50, "database and user pairs", "sessions");
    items_finish(&r->apps, 50, "applications", "sessions");
    items_finish(&r->hosts, 50, "client hosts", "sessions");
    items_finish(&r->cancels, 50, "kinds and causes", "cancellations");

    report_analyze(r, opts);

    /* Texts for the shapes the report shows, and for those named by lock waits and temp
     * files (at most a few thousand indexed look-ups). */
    size_t extra = 0;
    for (size_t i = 0; i < r->nqueries; i++) {
        struct report_query *q = &r->queries[i];
        if ((q->lock_waits || q->temp_files) && extra++ < 2000 && load_detail(r, st, q, d) < 0)
            goto out;
    }
    /* Sparklines for the shapes the report shows. */
    for (size_t i = 0; i < r->nshown; i++) {
        struct report_query *q = &r->queries[r->shown[i]];
        struct store_series s;
        if (load_detail(r, st, q, d) < 0)
            goto out;
        if (store_series(st,
                         &(struct store_series_opts){ .edges = edges,
                                                      .n = r->nbuckets,
                                                      .has_fingerprint = true,
                                                      .fingerprint = q->fingerprint },
                         &s, d) < 0)
            goto out;
        q->bucket_calls = xcalloc(r->nbuckets ? r->nbuckets : 1, sizeof(double));
        for (size_t b = 0; b < r->nbuckets; b++)
            q->bucket_calls[b] = (double)s.points[b].calls;
        store_series_release(&s);
    }
    log_verbose("report: series and trend %.0f ms, %zu query shapes and baseline %.0f ms, "
                "errors/rejects/events %.0f ms, analysis and %zu sparklines %.0f ms",
                (double)(t1 - t0) / 1e6, r->nqueries, (double)(t2 - t1) / 1e6,
                (double)(t3 - t2) / 1e6, r->nshown, (double)(clock_mono_ns() - t3) / 1e6);
    rc = 0;
out:
    free(L.fps);
    free(L.lock_ms.v);
    sbuf_release(&L.lock_obj);
    free(L.temp.v);
    free(L.buffers.v);
    free(L.write_s.v);
    free(L.sync_s.v);
    free(L.total_s.v);
    struct values *more[] = { &L.wal_added,      &L.wal_removed, &L.wal_recycled,
                              &L.sync_longest_s, &L.distance,    &L.estimate,
                              &L.pages_removed,  &L.tuples_dead, &L.buffer_reads,
                              &L.buffer_dirtied, &L.wal_bytes,   &L.setup_ms,
                              &L.setup_auth_ms };
    for (size_t i = 0; i < ARRAY_SIZE(more); i++)
        free(more[i]->v);
    free(L.vacuum_s.v);
    free(L.analyze_s.v);
    free(L.session_s.v);
    free(L.open.k);
    free(edges);
    return rc;
}
