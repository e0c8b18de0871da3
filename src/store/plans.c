/* SPDX-License-Identifier: MIT */
/*
 * plans.c - auto_explain plan shapes in the store (schema/003_plans.sql, docs/plans.md).
 *
 * Each plan record is analysed once, at ingest (classify/classify.h plan_analyze()): its
 * shape fingerprint keys a `plans` row per (query, database, shape) with calls, times,
 * a latency sketch and the slowest plan as the sample (redacted here, only when it
 * becomes the sample, unless --keep-literals). `plan_runs` keeps, per (query,
 * database), the runs of consecutive records with one shape, in ingest order: the
 * input of plan-change detection (store_plan_detect()).
 *
 * Batch side: in memory until store_commit_batch(), which calls plans_write() in its
 * transaction, so plans are exactly-once with everything else.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "classify/classify.h"
#include "core/limits.h"
#include "core/xalloc.h"
#include "normalize/normalize.h"
#include "store/store_int.h"

/* ---------------------------------------------------------------- batch */

struct shape_agg {
    uint64_t fp, plan_fp;
    struct span db, shape, sample; /* pb->arena */
    enum plan_format format;
    uint64_t insights;        /* bit per insight kind, any plan of the batch */
    unsigned sample_insights; /* insight kinds of the sample */
    double sample_ms;
    int64_t sample_ts, first, last;
    uint64_t calls, timed;
    int64_t total_us;
    double min, max;
    struct sketch sk;
};

struct run_key {
    uint64_t fp;
    struct span db;
    uint32_t last_run; /* index into runs, the newest run of this key */
    int64_t seq;       /* plans_write(): the seq of the key's newest run; -1 not read yet */
};

struct run_agg {
    uint32_t key;
    uint64_t plan_fp;
    int64_t first, last;
    uint64_t calls;
    int64_t total_us;
    struct sketch sk;
};

/* One plan record, for table plan_calls (alert rules read records before an instant). */
struct call_rec {
    uint32_t key; /* into keys */
    uint64_t plan_fp;
    int64_t ts, us; /* us < 0: no duration */
};

struct plan_share {
    unsigned refs;
    struct normalizer *nz;  /* made on the first plan, like: */
    struct plan_memo *memo; /* parsed plans by body, kept across batches */
    struct arena scratch;   /* plan_summarize(): one analysis */
};

struct plan_share *plan_share_new(void)
{
    struct plan_share *ps = xcalloc(1, sizeof(*ps));
    ps->refs = 1;
    return ps;
}

void plan_share_take(struct plan_share *ps)
{
    ps->refs++;
}

void plan_share_drop(struct plan_share *ps)
{
    if (!ps || --ps->refs)
        return;
    normalize_free(ps->nz);
    plan_memo_free(ps->memo);
    arena_release(&ps->scratch);
    free(ps);
}

static void share_ready(struct plan_share *ps)
{
    if (ps->memo)
        return;
    ps->nz = normalize_new(NULL);
    ps->memo = plan_memo_new();
    plan_memo_kinds_only(ps->memo); /* only insight_bits() and insight_kinds() are kept */
    arena_init(&ps->scratch, 64 * 1024);
}

struct plans_batch {
    bool keep_literals;
    struct call_rec *calls;
    size_t n_calls, a_calls;
    struct arena arena;   /* texts kept until the commit */
    struct arena scratch; /* one analysis, reset per record */
    struct sbuf red;
    struct htab shapes_ix, keys_ix;
    struct shape_agg *shapes;
    struct run_key *keys;
    struct run_agg *runs;
    size_t n_shapes, n_keys, n_runs, a_shapes, a_keys, a_runs;
};

static struct plans_batch *batch_new(bool keep_literals)
{
    struct plans_batch *pb = xcalloc(1, sizeof(*pb));
    pb->keep_literals = keep_literals;
    arena_init(&pb->arena, 256 * 1024);
    arena_init(&pb->scratch, 256 * 1024);
    sbuf_init(&pb->red, 2 * (size_t)SIFT_MAX_PLAN_SAMPLE_BYTES);
    return pb;
}

void plans_batch_reset(struct plans_batch *pb)
{
    if (!pb)
        return;
    for (size_t i = 0; i < pb->n_shapes; i++)
        sketch_release(&pb->shapes[i].sk);
    for (size_t i = 0; i < pb->n_runs; i++)
        sketch_release(&pb->runs[i].sk);
    pb->n_shapes = pb->n_keys = pb->n_runs = pb->n_calls = 0;
    htab_clear(&pb->shapes_ix);
    htab_clear(&pb->keys_ix);
    arena_reset(&pb->arena);
    arena_reset(&pb->scratch);
}

void plans_batch_free(struct plans_batch *pb)
{
    if (!pb)
        return;
    plans_batch_reset(pb);
    htab_release(&pb->shapes_ix);
    htab_release(&pb->keys_ix);
    free(pb->shapes);
    free(pb->keys);
    free(pb->runs);
    free(pb->calls);
    arena_release(&pb->arena);
    arena_release(&pb->scratch);
    sbuf_release(&pb->red);
    free(pb);
}

size_t plans_batch_bytes(const struct plans_batch *pb)
{
    return pb ? pb->arena.used + pb->n_calls * sizeof(struct call_rec) : 0;
}

struct shape_find {
    const struct plans_batch *pb;
    uint64_t fp, plan_fp;
    struct span db;
};

static bool shape_eq(const void *ctx, uint32_t idx)
{
    const struct shape_find *f = ctx;
    const struct shape_agg *a = &f->pb->shapes[idx];
    return a->fp == f->fp && a->plan_fp == f->plan_fp && span_eq(a->db, f->db);
}

struct key_find {
    const struct plans_batch *pb;
    uint64_t fp;
    struct span db;
};

static bool key_eq(const void *ctx, uint32_t idx)
{
    const struct key_find *f = ctx;
    return f->pb->keys[idx].fp == f->fp && span_eq(f->pb->keys[idx].db, f->db);
}

static int64_t add_us(int64_t total, double ms)
{
    int64_t us = llround(ms * 1000);
    return total > INT64_MAX - us ? INT64_MAX : total + us;
}

/* A duration as the store keeps it: finite, not negative, capped; -1 for none. */
static double clean_ms(double ms)
{
    if (!(ms >= 0) || !isfinite(ms))
        return -1;
    return ms > STORE_MAX_DURATION_MS ? STORE_MAX_DURATION_MS : ms;
}

static uint64_t insight_bits(const struct plan_analysis *pa)
{
    uint64_t bits = 0;
    for (size_t i = 0; i < pa->n_insights; i++)
        if ((unsigned)pa->insights[i].kind < 64)
            bits |= UINT64_C(1) << pa->insights[i].kind;
    return bits;
}

static unsigned insight_kinds(const struct plan_analysis *pa)
{
    unsigned n = 0;
    for (uint64_t bits = insight_bits(pa); bits; bits &= bits - 1)
        n++;
    return n;
}

/* The sample of @a becomes this record's plan (redacted, capped). */
static void take_sample(struct plans_batch *pb, struct normalizer *nz, struct shape_agg *a,
                        const struct event *ev, unsigned kinds, double ms, int64_t ts)
{
    struct span body = ev->plan;
    bool cut = false;

    if (!pb->keep_literals) {
        sbuf_reset(&pb->red);
        if (plan_redact(nz, body, ev->plan_format, &pb->scratch, &pb->red) < 0) {
            /* over the cap: keep what was redacted, never the raw text */
            cut = true;
        }
        body = sbuf_span(&pb->red);
    }
    if (body.len > SIFT_MAX_PLAN_SAMPLE_BYTES) {
        body.len = SIFT_MAX_PLAN_SAMPLE_BYTES;
        while (body.len && ((unsigned char)body.p[body.len] & 0xC0) == 0x80)
            body.len--;
        cut = true;
    }
    if (cut) {
        struct sbuf sb = SBUF_INIT;
        if (sbuf_addspan(&sb, body) == 0 &&
            sbuf_addf(&sb, "\n[pgsift: plan cut at %zu bytes]", body.len) == 0)
            a->sample = arena_dup(&pb->arena, sb.buf, sb.len);
        else
            a->sample = arena_dup(&pb->arena, body.p, body.len);
        sbuf_release(&sb);
    } else {
        a->sample = arena_dup(&pb->arena, body.p, body.len);
    }
    a->format = ev->plan_format;
    a->sample_ms = ms;
    a->sample_ts = ts;
    a->sample_insights = kinds;
}

void plan_summarize(struct plan_share *ps, const struct event *ev, struct plan_summary *out)
{
    struct plan_analysis pa;
    share_ready(ps);
    arena_reset(&ps->scratch);
    plan_analyze_memo(ps->memo, ev->plan, ev->plan_format, clean_ms(ev->duration_ms), &ps->scratch,
                      &pa);
    *out = (struct plan_summary){ .parsed = pa.parsed,
                                  .reason = pa.reason,
                                  .fingerprint = pa.fingerprint,
                                  .insights = insight_bits(&pa),
                                  .kinds = insight_kinds(&pa),
                                  .shape = pa.shape };
}

void plans_batch_add(struct store_batch *b, const struct event *ev, int64_t ts,
                     const struct plan_summary *sum)
{
    if (!b->plans)
        b->plans = batch_new(b->keep_literals);
    struct plans_batch *pb = b->plans;
    struct plan_share *ps = b->plan_share;
    struct plan_summary made;
    if (!sum) {
        plan_summarize(ps, ev, &made);
        sum = &made;
    }
    share_ready(ps); /* (take_sample() redacts with its normalizer) */
    uint64_t fp = (ev->flags & EVENT_HAS_FINGERPRINT) ? ev->fingerprint : 0;
    struct span db = ev->database.p ? ev->database : SPAN_LIT("");
    double ms = clean_ms(ev->duration_ms);

    if (db.len > 4096)
        db.len = 4096;
    /* An unreadable plan still counts, under shape 0, with its reason as the shape. */
    uint64_t plan_fp = sum->parsed ? sum->fingerprint : 0;
    struct span shape =
        sum->parsed ? sum->shape : span_cstr(sum->reason ? sum->reason : "not a plan");

    struct shape_find f = { pb, fp, plan_fp, db };
    uint64_t h = XXH3_64bits_withSeed(db.p, db.len, fp ^ (plan_fp * 0x9E3779B97F4A7C15ull));
    long i = htab_find(&pb->shapes_ix, h, shape_eq, &f);
    if (i < 0) {
        XGROW(pb->shapes, pb->n_shapes + 1, pb->a_shapes);
        struct shape_agg *a = &pb->shapes[pb->n_shapes];
        memset(a, 0, sizeof(*a));
        a->fp = fp;
        a->plan_fp = plan_fp;
        a->db = arena_dup(&pb->arena, db.p, db.len);
        a->shape = arena_dup(&pb->arena, shape.p, shape.len);
        a->first = a->last = ts;
        a->sample_ms = -2; /* below any duration: the first record becomes the sample */
        sketch_init(&a->sk);
        htab_insert(&pb->shapes_ix, h, (uint32_t)pb->n_shapes);
        i = (long)pb->n_shapes++;
    }
    struct shape_agg *a = &pb->shapes[i];
    a->calls++;
    a->first = ts < a->first ? ts : a->first;
    a->last = ts > a->last ? ts : a->last;
    if (ms >= 0) {
        if (!a->timed || ms < a->min)
            a->min = ms;
        if (!a->timed || ms > a->max)
            a->max = ms;
        a->timed++;
        a->total_us = add_us(a->total_us, ms);
        sketch_add(&a->sk, ms);
    }
    a->insights |= sum->insights;
    /* the sample: the plan with the most insight kinds, the slowest among those */
    unsigned kinds = sum->kinds;
    if (kinds > a->sample_insights || (kinds == a->sample_insights && ms > a->sample_ms))
        take_sample(pb, ps->nz, a, ev, kinds, ms, ts);

    /* runs */
    struct key_find kf = { pb, fp, db };
    uint64_t kh = XXH3_64bits_withSeed(db.p, db.len, fp);
    long k = htab_find(&pb->keys_ix, kh, key_eq, &kf);
    struct run_agg *r = NULL;
    if (k >= 0 && pb->runs[pb->keys[k].last_run].plan_fp == plan_fp) {
        r = &pb->runs[pb->keys[k].last_run];
    } else {
        if (k < 0) {
            XGROW(pb->keys, pb->n_keys + 1, pb->a_keys);
            pb->keys[pb->n_keys] = (struct run_key){ fp, a->db, 0, -1 };
            htab_insert(&pb->keys_ix, kh, (uint32_t)pb->n_keys);
            k = (long)pb->n_keys++;
        }
        XGROW(pb->runs, pb->n_runs + 1, pb->a_runs);
        r = &pb->runs[pb->n_runs];
        memset(r, 0, sizeof(*r));
        r->key = (uint32_t)k;
        r->plan_fp = plan_fp;
        r->first = r->last = ts;
        sketch_init(&r->sk);
        pb->keys[k].last_run = (uint32_t)pb->n_runs++;
    }
    XGROW(pb->calls, pb->n_calls + 1, pb->a_calls);
    pb->calls[pb->n_calls++] =
        (struct call_rec){ (uint32_t)k, plan_fp, ts, ms >= 0 ? add_us(0, ms) : -1 };
    r->calls++;
    r->first = ts < r->first ? ts : r->first;
    r->last = ts > r->last ? ts : r->last;
    if (ms >= 0) {
        r->total_us = add_us(r->total_us, ms);
        sketch_add(&r->sk, ms);
    }
    arena_reset(&pb->scratch);
}

/* ---------------------------------------------------------------- commit */

static const char *const format_names[] = { "", "text", "json", "yaml", "xml" };

/* The stored sample is replaced by a better one: more insight kinds, or as many and a
 * longer duration. */
#define SQL_BETTER                                                                \
    " (excluded.sample_insights > sample_insights OR (excluded.sample_insights =" \
    " sample_insights AND coalesce(excluded.sample_ms, -1) > coalesce(sample_ms, -1)))"

#define SQL_SHAPE_UPSERT                                                                      \
    "INSERT INTO plans (fingerprint, database, plan_fp, shape, first_seen, last_seen, calls," \
    " total_us, min_ms, max_ms, sketch, format, sample, sample_ms, sample_ts,"                \
    " sample_insights, insights)"                                                             \
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"    \
    " ON CONFLICT (fingerprint, database, plan_fp) DO UPDATE SET"                             \
    " first_seen = min(first_seen, excluded.first_seen),"                                     \
    " last_seen = max(last_seen, excluded.last_seen),"                                        \
    " calls = calls + excluded.calls," SQL_SAT_TOTAL_US ","                                   \
    " min_ms = coalesce(min(min_ms, excluded.min_ms), min_ms, excluded.min_ms),"              \
    " max_ms = coalesce(max(max_ms, excluded.max_ms), max_ms, excluded.max_ms),"              \
    " sketch = sketch_merge(sketch, excluded.sketch),"                                        \
    " insights = insights | excluded.insights,"                                               \
    " format = CASE WHEN" SQL_BETTER " THEN excluded.format ELSE format END,"                 \
    " sample = CASE WHEN" SQL_BETTER " THEN excluded.sample ELSE sample END,"                 \
    " sample_ts = CASE WHEN" SQL_BETTER " THEN excluded.sample_ts ELSE sample_ts END,"        \
    " sample_ms = CASE WHEN" SQL_BETTER " THEN excluded.sample_ms ELSE sample_ms END,"        \
    " sample_insights = max(sample_insights, excluded.sample_insights)"

#define SQL_RUN_LAST                                                              \
    "SELECT seq, plan_fp FROM plan_runs WHERE fingerprint = ?1 AND database = ?2" \
    " ORDER BY seq DESC LIMIT 1"
#define SQL_RUN_EXTEND                                                                       \
    "UPDATE plan_runs SET first_seen = min(first_seen, ?4), last_seen = max(last_seen, ?5)," \
    " calls = calls + ?6, total_us = CASE WHEN ?7 > 9223372036854775807 - total_us"          \
    " THEN 9223372036854775807 ELSE total_us + ?7 END, sketch = sketch_merge(sketch, ?8)"    \
    " WHERE fingerprint = ?1 AND database = ?2 AND seq = ?3"
#define SQL_RUN_INSERT                                                                 \
    "INSERT INTO plan_runs (fingerprint, database, seq, first_seen, last_seen, calls," \
    " total_us, sketch, plan_fp) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
#define SQL_RUN_TRIM "DELETE FROM plan_runs WHERE fingerprint = ?1 AND database = ?2 AND seq <= ?3"

static void bind_text(sqlite3_stmt *st, int i, struct span sp)
{
    sqlite3_bind_text64(st, i, sp.p ? sp.p : "", sp.p ? sp.len : 0, SQLITE_STATIC, SQLITE_UTF8);
}

static int prepare(struct store *s, const char *sql, sqlite3_stmt **st, struct diag *d)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
        return store_db_error(s, d, "cannot prepare a plan statement");
    return 0;
}

static int step(struct store *s, sqlite3_stmt *st, const char *what, struct diag *d)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return store_db_error(s, d, what);
    return 0;
}

static int write_shapes(struct store *s, struct plans_batch *pb, struct diag *d)
{
    sqlite3_stmt *st;
    int rc = 0;

    if (prepare(s, SQL_SHAPE_UPSERT, &st, d) < 0)
        return -1;
    for (size_t i = 0; i < pb->n_shapes && !rc; i++) {
        const struct shape_agg *a = &pb->shapes[i];
        sbuf_reset(&s->scratch);
        if (sketch_encode(&a->sk, &s->scratch) < 0) {
            rc = diag_set(d, DIAG_LIMIT, "latency sketch too large");
            break;
        }
        sqlite3_bind_int64(st, 1, (int64_t)a->fp);
        bind_text(st, 2, a->db);
        sqlite3_bind_int64(st, 3, (int64_t)a->plan_fp);
        bind_text(st, 4, a->shape);
        sqlite3_bind_int64(st, 5, a->first);
        sqlite3_bind_int64(st, 6, a->last);
        sqlite3_bind_int64(st, 7, (int64_t)a->calls);
        sqlite3_bind_int64(st, 8, a->total_us);
        if (a->timed) {
            sqlite3_bind_double(st, 9, a->min);
            sqlite3_bind_double(st, 10, a->max);
        } else {
            sqlite3_bind_null(st, 9);
            sqlite3_bind_null(st, 10);
        }
        sqlite3_bind_blob64(st, 11, s->scratch.buf, s->scratch.len, SQLITE_STATIC);
        sqlite3_bind_text(st, 12, format_names[(unsigned)a->format < 5 ? a->format : 0], -1,
                          SQLITE_STATIC);
        bind_text(st, 13, a->sample);
        if (a->sample_ms >= 0)
            sqlite3_bind_double(st, 14, a->sample_ms);
        else
            sqlite3_bind_null(st, 14);
        sqlite3_bind_int64(st, 15, a->sample_ts);
        sqlite3_bind_int64(st, 16, (int64_t)a->sample_insights);
        sqlite3_bind_int64(st, 17, (int64_t)a->insights);
        rc = step(s, st, "cannot write plan shapes", d);
    }
    sqlite3_finalize(st);
    return rc;
}

static int write_runs(struct store *s, struct plans_batch *pb, struct diag *d)
{
    sqlite3_stmt *last = NULL, *extend = NULL, *insert = NULL, *trim = NULL;
    int rc = -1;

    if (prepare(s, SQL_RUN_LAST, &last, d) < 0 || prepare(s, SQL_RUN_EXTEND, &extend, d) < 0 ||
        prepare(s, SQL_RUN_INSERT, &insert, d) < 0 || prepare(s, SQL_RUN_TRIM, &trim, d) < 0)
        goto out;
    for (size_t k = 0; k < pb->n_keys; k++)
        pb->keys[k].seq = -1;
    for (size_t i = 0; i < pb->n_runs; i++) {
        struct run_agg *r = &pb->runs[i];
        struct run_key *key = &pb->keys[r->key];
        sbuf_reset(&s->scratch);
        if (sketch_encode(&r->sk, &s->scratch) < 0) {
            diag_set(d, DIAG_LIMIT, "latency sketch too large");
            goto out;
        }
        if (key->seq < 0) {
            /* the key's first run in this batch may continue the stored last run */
            sqlite3_bind_int64(last, 1, (int64_t)key->fp);
            bind_text(last, 2, key->db);
            int st = sqlite3_step(last);
            int64_t seq = 0;
            uint64_t prev_fp = 0;
            bool have = st == SQLITE_ROW;
            if (have) {
                seq = sqlite3_column_int64(last, 0);
                prev_fp = (uint64_t)sqlite3_column_int64(last, 1);
            }
            sqlite3_reset(last);
            if (st != SQLITE_ROW && st != SQLITE_DONE) {
                store_db_error(s, d, "cannot read plan runs");
                goto out;
            }
            if (have && prev_fp == r->plan_fp) {
                sqlite3_bind_int64(extend, 1, (int64_t)key->fp);
                bind_text(extend, 2, key->db);
                sqlite3_bind_int64(extend, 3, seq);
                sqlite3_bind_int64(extend, 4, r->first);
                sqlite3_bind_int64(extend, 5, r->last);
                sqlite3_bind_int64(extend, 6, (int64_t)r->calls);
                sqlite3_bind_int64(extend, 7, r->total_us);
                sqlite3_bind_blob64(extend, 8, s->scratch.buf, s->scratch.len, SQLITE_STATIC);
                if (step(s, extend, "cannot write plan runs", d) < 0)
                    goto out;
                key->seq = seq;
                continue;
            }
            key->seq = seq;
        }
        key->seq++;
        sqlite3_bind_int64(insert, 1, (int64_t)key->fp);
        bind_text(insert, 2, key->db);
        sqlite3_bind_int64(insert, 3, key->seq);
        sqlite3_bind_int64(insert, 4, r->first);
        sqlite3_bind_int64(insert, 5, r->last);
        sqlite3_bind_int64(insert, 6, (int64_t)r->calls);
        sqlite3_bind_int64(insert, 7, r->total_us);
        sqlite3_bind_blob64(insert, 8, s->scratch.buf, s->scratch.len, SQLITE_STATIC);
        sqlite3_bind_int64(insert, 9, (int64_t)r->plan_fp);
        if (step(s, insert, "cannot write plan runs", d) < 0)
            goto out;
    }
    for (size_t k = 0; k < pb->n_keys; k++) {
        const struct run_key *key = &pb->keys[k];
        if (key->seq <= (int64_t)SIFT_MAX_PLAN_RUNS)
            continue;
        sqlite3_bind_int64(trim, 1, (int64_t)key->fp);
        bind_text(trim, 2, key->db);
        sqlite3_bind_int64(trim, 3, key->seq - (int64_t)SIFT_MAX_PLAN_RUNS);
        if (step(s, trim, "cannot trim plan runs", d) < 0)
            goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(last);
    sqlite3_finalize(extend);
    sqlite3_finalize(insert);
    sqlite3_finalize(trim);
    return rc;
}

struct call_ord {
    uint32_t key, idx;
    int64_t minute;
};

static int call_ord_cmp(const void *pa, const void *pb)
{
    const struct call_ord *a = pa, *b = pb;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    if (a->minute != b->minute)
        return a->minute < b->minute ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* The batch's plan records, one plan_call_blocks row per (key, minute): grouped, each
 * group in ingest order. */
static int write_calls(struct store *s, struct plans_batch *pb, struct diag *d)
{
    sqlite3_stmt *st = NULL;
    struct call_ord *ord = NULL;
    struct plan_call *v = NULL;
    int rc = -1;

    if (!pb->n_calls)
        return 0;
    if (plan_calls_prepare(s->db, &st) < 0) {
        store_db_error(s, d, "cannot prepare a plan statement");
        goto out;
    }
    size_t a_ord = 0, a_v = 0;
    XGROW(ord, pb->n_calls, a_ord);
    XGROW(v, pb->n_calls < PLAN_CALLS_BLOCK_MAX ? pb->n_calls : PLAN_CALLS_BLOCK_MAX, a_v);
    for (size_t i = 0; i < pb->n_calls; i++)
        ord[i] =
            (struct call_ord){ pb->calls[i].key, (uint32_t)i, plan_calls_minute(pb->calls[i].ts) };
    qsort(ord, pb->n_calls, sizeof(*ord), call_ord_cmp);
    for (size_t i = 0; i < pb->n_calls;) {
        size_t n = 0;
        const struct call_ord *first = &ord[i];
        while (i < pb->n_calls && n < PLAN_CALLS_BLOCK_MAX && ord[i].key == first->key &&
               ord[i].minute == first->minute) {
            const struct call_rec *c = &pb->calls[ord[i++].idx];
            v[n++] = (struct plan_call){ c->plan_fp, c->ts, c->us };
        }
        const struct run_key *key = &pb->keys[first->key];
        int r = plan_calls_insert(st, &s->scratch, key->fp, key->db.p, key->db.len, v, n);
        if (r == -2) {
            diag_set(d, DIAG_LIMIT, "plan record block too large");
            goto out;
        }
        if (r < 0) {
            store_db_error(s, d, "cannot write plan calls");
            goto out;
        }
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    free(ord);
    free(v);
    return rc;
}

int plans_write(struct store *s, struct store_batch *b, struct diag *d)
{
    struct plans_batch *pb = b->plans;

    if (!pb || (!pb->n_shapes && !pb->n_runs))
        return 0;
    return write_shapes(s, pb, d) < 0 || write_runs(s, pb, d) < 0 || write_calls(s, pb, d) < 0 ? -1
                                                                                               : 0;
}

int plans_expire(struct store *s, int64_t before_us, struct diag *d)
{
    static const char *const sql[] = { "DELETE FROM plans WHERE last_seen < ?1",
                                       "DELETE FROM plan_runs WHERE last_seen < ?1" };
    for (size_t i = 0; i < ARRAY_SIZE(sql); i++) {
        sqlite3_stmt *st;
        if (prepare(s, sql[i], &st, d) < 0)
            return -1;
        sqlite3_bind_int64(st, 1, before_us);
        int rc = step(s, st, "cannot expire old plans", d);
        sqlite3_finalize(st);
        if (rc < 0)
            return -1;
    }
    const char *what;
    if (plan_calls_expire(s->db, before_us, &s->scratch, &what) < 0)
        return store_db_error(s, d, what);
    return 0;
}

/* ---------------------------------------------------------------- detection */

size_t store_plan_detect(const struct store_plan_run *runs, size_t n, struct store_plan_change *out,
                         size_t max)
{
    struct store_plan_run prev = { 0 }, cur = { 0 };
    bool have_prev = false, have_cur = false;
    size_t nout = 0;

    for (size_t i = 0; i <= n; i++) {
        const struct store_plan_run *r = i < n ? &runs[i] : NULL;
        if (r && r->calls < STORE_PLAN_CHANGE_MIN_CALLS)
            continue; /* a blip: neither a change nor the end of one */
        if (r && have_cur && r->plan_fp == cur.plan_fp) {
            cur.calls += r->calls;
            cur.total_ms += r->total_ms;
            cur.last_us = r->last_us > cur.last_us ? r->last_us : cur.last_us;
            continue;
        }
        /* cur is complete: a change from prev to cur */
        if (have_cur && have_prev) {
            if (nout < max) {
                struct store_plan_change *c = &out[nout];
                memset(c, 0, sizeof(*c));
                c->from_plan = prev.plan_fp;
                c->to_plan = cur.plan_fp;
                c->at_us = cur.first_us;
                c->calls_before = prev.calls;
                c->calls_after = cur.calls;
                c->before_ms = prev.calls ? prev.total_ms / (double)prev.calls : -1;
                c->after_ms = cur.calls ? cur.total_ms / (double)cur.calls : -1;
                c->slower_by =
                    c->before_ms > 0 && c->after_ms >= 0 ? c->after_ms / c->before_ms : -1;
            }
            nout++;
        }
        if (have_cur) {
            prev = cur;
            have_prev = true;
        }
        if (r) {
            cur = *r;
            have_cur = true;
        }
    }
    return nout;
}

/* ---------------------------------------------------------------- reading */

static char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? xmemdupz(t, (size_t)sqlite3_column_bytes(st, i)) : NULL;
}

/* "seq_scan_filter,row_misestimate" for a bit set (unknown bits: a newer pgsift wrote
 * them, left out). */
static char *insight_names(uint64_t bits)
{
    struct sbuf sb = SBUF_INIT;
    for (int k = 0; k < PLAN_INSIGHT_COUNT; k++)
        if (bits & (UINT64_C(1) << k))
            if ((sb.len && sbuf_addch(&sb, ',') < 0) ||
                sbuf_addstr(&sb, plan_insight_name((enum plan_insight_kind)k)) < 0)
                break;
    return sbuf_detach(&sb, NULL);
}

static bool seen_key(const struct store_plans *out, size_t upto, uint64_t fp, const char *db)
{
    for (size_t i = 0; i < upto; i++)
        if (out->plans[i].fingerprint == fp && !strcmp(out->plans[i].database, db))
            return true;
    return false;
}

/* The plan changes among @runs (one key's runs in time order), appended to @out with the
 * key (@fp, a copy of @db). */
static void append_changes(const struct store_plan_run *runs, size_t n, uint64_t fp, const char *db,
                           struct store_plans *out, size_t *alloc)
{
    size_t k = store_plan_detect(runs, n, NULL, 0);
    if (!k)
        return;
    XGROW(out->changes, out->n_changes + k, *alloc);
    store_plan_detect(runs, n, out->changes + out->n_changes, k);
    for (size_t i = 0; i < k; i++) {
        out->changes[out->n_changes + i].fingerprint = fp;
        out->changes[out->n_changes + i].database = xstrdup(db);
    }
    out->n_changes += k;
}

static int read_changes(struct store *s, uint64_t fp, const char *db, struct store_plans *out,
                        size_t *alloc, struct diag *d)
{
    sqlite3_stmt *st;
    struct store_plan_run *runs = NULL;
    size_t n = 0, a = 0;

    if (prepare(s,
                "SELECT plan_fp, first_seen, last_seen, calls, total_us FROM plan_runs"
                " WHERE fingerprint = ?1 AND database = ?2 ORDER BY seq",
                &st, d) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, (int64_t)fp);
    sqlite3_bind_text(st, 2, db, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        XGROW(runs, n + 1, a);
        runs[n].plan_fp = (uint64_t)sqlite3_column_int64(st, 0);
        runs[n].first_us = sqlite3_column_int64(st, 1);
        runs[n].last_us = sqlite3_column_int64(st, 2);
        runs[n].calls = (uint64_t)sqlite3_column_int64(st, 3);
        runs[n].total_ms = (double)sqlite3_column_int64(st, 4) / 1000.0;
        n++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(runs);
        return store_db_error(s, d, "cannot read plan runs");
    }
    append_changes(runs, n, fp, db, out, alloc);
    free(runs);
    return 0;
}

int store_plans(struct store *s, const struct store_plans_opts *o, struct store_plans *out,
                struct diag *d)
{
    sqlite3_stmt *st;
    size_t alloc = 0, alloc_c = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    if (prepare(s,
                "SELECT p.fingerprint, p.database, p.plan_fp, p.shape, p.first_seen, p.last_seen,"
                " p.calls, p.total_us, p.min_ms, p.max_ms, p.sketch, p.format, p.sample,"
                " p.sample_ms, p.sample_ts, p.insights, q.query"
                " FROM plans AS p LEFT JOIN queries AS q ON q.fingerprint = p.fingerprint"
                " WHERE (?1 IS NULL OR p.fingerprint = ?1) AND (?2 IS NULL OR p.plan_fp = ?2)"
                " AND (?3 IS NULL OR p.database = ?3) AND p.last_seen >= ?4"
                " ORDER BY p.fingerprint, p.database, p.first_seen, p.plan_fp",
                &st, d) < 0)
        return -1;
    if (o->has_fingerprint)
        sqlite3_bind_int64(st, 1, (int64_t)o->fingerprint);
    if (o->has_plan_fp)
        sqlite3_bind_int64(st, 2, (int64_t)o->plan_fp);
    if (o->database)
        sqlite3_bind_text(st, 3, o->database, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, o->since_us);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        XGROW(out->plans, out->n + 1, alloc);
        struct store_plan *p = &out->plans[out->n++];
        memset(p, 0, sizeof(*p));
        p->fingerprint = (uint64_t)sqlite3_column_int64(st, 0);
        p->database = col_text(st, 1);
        p->plan_fp = (uint64_t)sqlite3_column_int64(st, 2);
        p->shape = col_text(st, 3);
        p->first_seen_us = sqlite3_column_int64(st, 4);
        p->last_seen_us = sqlite3_column_int64(st, 5);
        p->calls = (uint64_t)sqlite3_column_int64(st, 6);
        p->total_ms = (double)sqlite3_column_int64(st, 7) / 1000.0;
        p->min_ms = sqlite3_column_type(st, 8) == SQLITE_NULL ? -1 : sqlite3_column_double(st, 8);
        p->max_ms = sqlite3_column_type(st, 9) == SQLITE_NULL ? -1 : sqlite3_column_double(st, 9);
        struct sketch sk = SKETCH_INIT;
        const void *blob = sqlite3_column_blob(st, 10);
        if (sketch_decode(&sk, blob, (size_t)sqlite3_column_bytes(st, 10)) < 0) {
            sketch_release(&sk);
            sqlite3_finalize(st);
            store_plans_release(out);
            return diag_set(d, DIAG_DB, "store '%s': malformed plan latency sketch", s->path);
        }
        p->mean_ms = sk.count ? p->total_ms / (double)sk.count : -1;
        p->p50_ms = sk.count ? sketch_quantile(&sk, 0.5) : -1;
        p->p95_ms = sk.count ? sketch_quantile(&sk, 0.95) : -1;
        p->p99_ms = sk.count ? sketch_quantile(&sk, 0.99) : -1;
        sketch_release(&sk);
        p->format = col_text(st, 11);
        p->sample = col_text(st, 12);
        p->sample_ms =
            sqlite3_column_type(st, 13) == SQLITE_NULL ? -1 : sqlite3_column_double(st, 13);
        p->sample_ts_us = sqlite3_column_int64(st, 14);
        p->insights = insight_names((uint64_t)sqlite3_column_int64(st, 15));
        p->query = col_text(st, 16);
        if (!p->database)
            p->database = xstrdup("");
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        store_plans_release(out);
        return store_db_error(s, d, "cannot read plans");
    }
    for (size_t i = 0; i < out->n; i++) {
        const struct store_plan *p = &out->plans[i];
        if (seen_key(out, i, p->fingerprint, p->database))
            continue;
        if (read_changes(s, p->fingerprint, p->database, out, &alloc_c, d) < 0) {
            store_plans_release(out);
            return -1;
        }
    }
    return 0;
}

struct call_row {
    uint64_t plan_fp;
    int64_t ts;
    double ms; /* < 0: no duration */
};

/* Work space of the readers below (decoded blocks). */
struct call_buf {
    struct plan_call *v;
    size_t n, a;
    struct call_ix {
        int64_t ts;
        uint32_t i;
    } * ix;
    size_t a_ix;
};

static int corrupt_block(struct store *s, struct diag *d)
{
    return diag_set(d, DIAG_DB, "store '%s': a plan record block (plan_call_blocks) is corrupt",
                    s->path);
}

/* By time, then by place (ingest order). */
static int ix_cmp(const void *pa, const void *pb)
{
    const struct call_ix *a = pa, *b = pb;
    if (a->ts != b->ts)
        return a->ts < b->ts ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

/* One minute's records (cb->v, in ingest order) newest first into @rows after @k, those of
 * [lo, to), up to SIFT_MAX_PLAN_RULE_CALLS in all. */
static size_t take_minute(struct call_buf *cb, int64_t lo, int64_t to, struct call_row **rows,
                          size_t k, size_t *alloc)
{
    XGROW(cb->ix, cb->n, cb->a_ix);
    for (size_t i = 0; i < cb->n; i++)
        cb->ix[i] = (struct call_ix){ cb->v[i].ts, (uint32_t)i };
    qsort(cb->ix, cb->n, sizeof(*cb->ix), ix_cmp);
    for (size_t i = cb->n; i-- > 0 && k < SIFT_MAX_PLAN_RULE_CALLS;) {
        const struct plan_call *c = &cb->v[cb->ix[i].i];
        if (c->ts < lo || c->ts >= to)
            continue;
        XGROW(*rows, k + 1, *alloc);
        (*rows)[k++] =
            (struct call_row){ c->plan_fp, c->ts, c->us >= 0 ? (double)c->us / 1000.0 : -1 };
    }
    return k;
}

/* One key's plan records of [lo, to), the newest SIFT_MAX_PLAN_RULE_CALLS, oldest first:
 * blocks newest minute first; a minute's parts (read newest first) are put back in ingest
 * order, then its records ordered by time and place, as plan_calls' (ts, id) did. */
static int key_calls(struct store *s, sqlite3_stmt *st, uint64_t fp, const char *db, int64_t lo,
                     int64_t to, struct call_buf *cb, struct call_row **rows, size_t *n,
                     size_t *alloc, struct diag *d)
{
    size_t k = 0;
    int rc;
    struct plan_call *part = NULL;
    size_t n_part = 0, a_part = 0;

    *n = 0;
    if (to <= lo)
        return 0;
    sqlite3_bind_int64(st, 1, (int64_t)fp);
    sqlite3_bind_text(st, 2, db, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, plan_calls_minute(lo));
    sqlite3_bind_int64(st, 4, plan_calls_minute(to - 1));
    int64_t minute = 0;
    cb->n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t m = sqlite3_column_int64(st, 0);
        if (cb->n && m != minute) {
            k = take_minute(cb, lo, to, rows, k, alloc);
            cb->n = 0;
            if (k >= SIFT_MAX_PLAN_RULE_CALLS)
                break;
        }
        minute = m;
        n_part = 0;
        if (plan_calls_decode(sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2), m,
                              sqlite3_column_int64(st, 1), &part, &n_part, &a_part) < 0) {
            sqlite3_reset(st);
            free(part);
            return corrupt_block(s, d);
        }
        /* parts come newest first: this one goes before what the minute has */
        XGROW(cb->v, cb->n + n_part, cb->a);
        memmove(cb->v + n_part, cb->v, cb->n * sizeof(*cb->v));
        memcpy(cb->v, part, n_part * sizeof(*cb->v));
        cb->n += n_part;
    }
    if (rc == SQLITE_DONE && cb->n)
        k = take_minute(cb, lo, to, rows, k, alloc);
    sqlite3_reset(st);
    free(part);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return store_db_error(s, d, "cannot read plan calls");
    struct call_row *v = *rows;
    for (size_t i = 0; i < k / 2; i++) { /* read newest first */
        struct call_row t = v[i];
        v[i] = v[k - 1 - i];
        v[k - 1 - i] = t;
    }
    *n = k;
    return 0;
}

/* Runs (as in plan_runs) of the records before @to, then the changes among them, appended
 * to @out with the key. */
static void detect_before(const struct call_row *rows, size_t n, int64_t to, uint64_t fp,
                          const char *db, struct store_plans *out, size_t *alloc)
{
    struct store_plan_run *runs = NULL;
    size_t k = 0, a = 0;

    for (size_t i = 0; i < n && rows[i].ts < to; i++) {
        if (!k || runs[k - 1].plan_fp != rows[i].plan_fp) {
            XGROW(runs, k + 1, a);
            runs[k++] = (struct store_plan_run){ rows[i].plan_fp, rows[i].ts, rows[i].ts, 0, 0 };
        }
        struct store_plan_run *r = &runs[k - 1];
        r->last_us = rows[i].ts;
        r->calls++;
        if (rows[i].ms >= 0)
            r->total_ms += rows[i].ms;
    }
    append_changes(runs, k, fp, db, out, alloc);
    free(runs);
}

struct plan_key {
    int64_t fp;
    char *db; /* heap */
    size_t len;
};

static int plan_key_cmp(const void *pa, const void *pb)
{
    const struct plan_key *a = pa, *b = pb;
    if (a->fp != b->fp)
        return a->fp < b->fp ? -1 : 1;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->db, b->db, n);
    return c ? c : a->len < b->len ? -1 : a->len > b->len;
}

/* The (query, database) keys with a record in [from, to) (of @database unless NULL), in
 * (fingerprint, database) order, each once. */
static int window_keys(struct store *s, int64_t from, int64_t to, const char *database,
                       struct call_buf *cb, struct plan_key **out, size_t *nout, struct diag *d)
{
    sqlite3_stmt *st;
    struct plan_key *v = NULL;
    size_t n = 0, a = 0;
    int rc;

    *out = NULL;
    *nout = 0;
    if (to <= from)
        return 0;
    if (prepare(s,
                "SELECT fingerprint, database, minute, n, ts_min, ts_max, data"
                " FROM plan_call_blocks WHERE minute >= ?1 AND minute <= ?2 AND ts_max >= ?3"
                " AND ts_min < ?4 AND (?5 IS NULL OR database = ?5)",
                &st, d) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, plan_calls_minute(from));
    sqlite3_bind_int64(st, 2, plan_calls_minute(to - 1));
    sqlite3_bind_int64(st, 3, from);
    sqlite3_bind_int64(st, 4, to);
    if (database)
        sqlite3_bind_text(st, 5, database, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        bool in = sqlite3_column_int64(st, 4) >= from && sqlite3_column_int64(st, 5) < to;
        if (!in) { /* straddles the window: does a record fall in it? */
            cb->n = 0;
            if (plan_calls_decode(sqlite3_column_blob(st, 6), (size_t)sqlite3_column_bytes(st, 6),
                                  sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3), &cb->v,
                                  &cb->n, &cb->a) < 0) {
                rc = -2;
                break;
            }
            for (size_t i = 0; i < cb->n && !in; i++)
                in = cb->v[i].ts >= from && cb->v[i].ts < to;
        }
        if (!in)
            continue;
        const unsigned char *t = sqlite3_column_text(st, 1);
        XGROW(v, n + 1, a);
        v[n].fp = sqlite3_column_int64(st, 0);
        v[n].len = t ? (size_t)sqlite3_column_bytes(st, 1) : 0;
        v[n].db = xmemdupz(t ? (const char *)t : "", v[n].len);
        n++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        for (size_t i = 0; i < n; i++)
            free(v[i].db);
        free(v);
        return rc == -2 ? corrupt_block(s, d) : store_db_error(s, d, "cannot read plan calls");
    }
    if (n)
        qsort(v, n, sizeof(*v), plan_key_cmp);
    size_t u = 0;
    for (size_t i = 0; i < n; i++) {
        if (u && !plan_key_cmp(&v[u - 1], &v[i])) {
            free(v[i].db);
            continue;
        }
        v[u++] = v[i];
    }
    *out = v;
    *nout = u;
    return 0;
}

int store_plan_changes_at(struct store *s, int64_t from_us, int64_t to_us, int64_t lookback_us,
                          const char *database, struct store_plans *now, struct store_plans *before,
                          struct diag *d)
{
    sqlite3_stmt *calls = NULL;
    struct call_row *rows = NULL;
    struct call_buf cb = { 0 };
    struct plan_key *keys = NULL;
    size_t nkeys = 0, nrows = 0, arows = 0, alloc_now = 0, alloc_before = 0;
    int rc = -1;

    memset(now, 0, sizeof(*now));
    memset(before, 0, sizeof(*before));
    if (window_keys(s, from_us, to_us, database, &cb, &keys, &nkeys, d) < 0 ||
        prepare(s,
                "SELECT minute, n, data FROM plan_call_blocks WHERE fingerprint = ?1"
                " AND database = ?2 AND minute >= ?3 AND minute <= ?4"
                " ORDER BY minute DESC, part DESC",
                &calls, d) < 0)
        goto out;
    int64_t lo = lookback_us > 0 ? to_us - lookback_us : INT64_MIN; /* bounded by the caller */
    for (size_t i = 0; i < nkeys; i++) {
        uint64_t fp = (uint64_t)keys[i].fp;
        const char *db = keys[i].db;
        if (key_calls(s, calls, fp, db, lo, to_us, &cb, &rows, &nrows, &arows, d) < 0)
            goto out;
        detect_before(rows, nrows, to_us, fp, db, now, &alloc_now);
        detect_before(rows, nrows, from_us, fp, db, before, &alloc_before);
    }
    rc = 0;
out:
    sqlite3_finalize(calls);
    for (size_t i = 0; i < nkeys; i++)
        free(keys[i].db);
    free(keys);
    free(rows);
    free(cb.v);
    free(cb.ix);
    if (rc < 0) {
        store_plans_release(now);
        store_plans_release(before);
    }
    return rc;
}

void store_plans_release(struct store_plans *p)
{
    for (size_t i = 0; i < p->n; i++) {
        struct store_plan *x = &p->plans[i];
        free(x->database);
        free(x->query);
        free(x->shape);
        free(x->insights);
        free(x->format);
        free(x->sample);
    }
    for (size_t i = 0; i < p->n_changes; i++)
        free(p->changes[i].database);
    free(p->plans);
    free(p->changes);
    memset(p, 0, sizeof(*p));
}
