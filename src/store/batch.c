/* SPDX-License-Identifier: MIT */
/*
 * The batch: store_add() folds each record into in-memory maps keyed like the tables
 * they will be upserted into, so a commit writes one row per key instead of one per
 * record. Texts are redacted here, once, into the batch arena.
 */
#include <math.h>
#include <stddef.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
/* inlined: most keys here are a few fixed-size words, hashed per record */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/clock.h"
#include "core/limits.h"
#include "core/xalloc.h"
#include "normalize/normalize.h"
#include "store/store_int.h"

static void pairs_compact(struct store_batch *b);

/* Deferred plan records and errors, in record order per kind, with their raw texts. */
struct store_work_chunk {
    struct store_work_chunk *next;
    struct arena arena;
    struct plan_rec *plans;
    struct err_rec *errs;
    size_t n_plans, a_plans, n_errs, a_errs;
};

const char *const agg_phase_names[AGG_PHASE_COUNT] = {
    [AGG_CALL] = "call",
    [AGG_PARSE] = "parse",
    [AGG_BIND] = "bind",
    [AGG_PLAN] = "plan",
};

static struct store_batch *batch_new(bool keep_literals)
{
    struct store_batch *b = xcalloc(1, sizeof(*b));
    b->keep_literals = keep_literals;
    b->last_ts = INT64_MIN;
    sbuf_init(&b->scratch, 8 * (size_t)SIFT_MAX_STORED_TEXT);
    sbuf_init(&b->scratch2, 8 * (size_t)SIFT_MAX_STORED_TEXT);
    arena_init(&b->arena, 256 * 1024);
    arena_init(&b->err_arena, 64 * 1024);
    sbuf_init(&b->err_scratch, 8 * (size_t)SIFT_MAX_STORED_TEXT);
    sbuf_init(&b->err_scratch2, 8 * (size_t)SIFT_MAX_STORED_TEXT);
    b->nz = normalize_new(NULL);
    b->plan_share = plan_share_new();
    b->evx = xmalloc(sizeof(*b->evx));
    sbuf_init(&b->ev_msg, 8 * (size_t)SIFT_MAX_STORED_TEXT);
    sbuf_init(&b->ev_detail, 8 * (size_t)SIFT_MAX_STORED_TEXT);
    return b;
}

struct store_batch *store_batch_new(const struct store *s)
{
    struct store_batch *b = batch_new(s->opts.keep_literals);
    b->key_path = xstrdup(s->path);
    return b;
}

struct store_batch *store_batch_new_part(bool keep_literals)
{
    struct store_batch *b = batch_new(keep_literals);
    b->part = true;
    return b;
}

bool store_keeps_literals(const struct store *s)
{
    return s->opts.keep_literals;
}

void batch_reset(struct store_batch *b)
{
    for (size_t i = 0; i < b->n_aggs; i++)
        sketch_release(&b->aggs[i].sk);
    b->n_names = b->n_aggs = b->n_cats = b->n_qids = b->n_errs = b->n_recs = 0;
    b->n_evs = b->n_rejs = b->n_samples = 0;
    b->n_ops = b->n_sets = b->n_bares = b->n_cat_his = 0;
    while (b->ev_head) {
        struct store_ev_chunk *c = b->ev_head;
        b->ev_head = c->next;
        ev_chunk_free(c);
    }
    b->ev_tail = NULL;
    b->ev_bytes = 0;
    htab_clear(&b->names_ix);
    htab_clear(&b->aggs_ix);
    htab_clear(&b->cats_ix);
    htab_clear(&b->qids_ix);
    htab_clear(&b->errs_ix);
    htab_clear(&b->recs_ix);
    htab_clear(&b->rejs_ix);
    b->n_inps = 0;
    htab_clear(&b->inps_ix);
    b->inp_hint = b->inp_name_hint = 0;
    b->input_interned = false; /* (the names are gone) */
    arena_reset(&b->arena);
    b->records = b->rejects = 0;
    b->n_sk_recs = 0;
    while (b->work_head) {
        struct store_work_chunk *c = b->work_head;
        b->work_head = c->next;
        store_work_chunk_free(c);
    }
    b->work_tail = NULL;
    b->work_bytes = 0;
    arena_reset(&b->err_arena);
    pairs_compact(b);
    plans_batch_reset(b->plans);
    record_ids_reset(b);
}

void store_batch_free(struct store_batch *b)
{
    if (!b)
        return;
    batch_reset(b);
    record_ids_free(b);
    plans_batch_free(b->plans);
    plan_share_drop(b->plan_share);
    htab_release(&b->names_ix);
    htab_release(&b->aggs_ix);
    htab_release(&b->cats_ix);
    htab_release(&b->qids_ix);
    htab_release(&b->errs_ix);
    htab_release(&b->recs_ix);
    htab_release(&b->rejs_ix);
    htab_release(&b->inps_ix);
    free(b->inps);
    free(b->input);
    free(b->names);
    free(b->aggs);
    free(b->cats);
    free(b->qids);
    free(b->errs);
    free(b->recs);
    free(b->rejs);
    free(b->samples);
    arena_release(&b->err_arena);
    sbuf_release(&b->err_scratch);
    sbuf_release(&b->err_scratch2);
    free(b->sk_recs);
    free(b->ops);
    free(b->sets);
    free(b->bares);
    free(b->cat_his);
    free(b->remap);
    free(b->agg_remap);
    htab_release(&b->pairs_ix);
    free(b->pairs);
    arena_release(&b->arena);
    normalize_free(b->nz);
    sbuf_release(&b->scratch);
    sbuf_release(&b->scratch2);
    sbuf_release(&b->ev_msg);
    sbuf_release(&b->ev_detail);
    free(b->evx);
    free(b->ev_slots);
    free(b);
}

static uint64_t hash_bytes(const void *p, size_t n)
{
    return XXH3_64bits(p, n);
}

/* ---- interned names (database, user) ---- */

struct name_key {
    const struct store_batch *b;
    struct span s;
};

static bool name_eq(const void *ctx, uint32_t idx)
{
    const struct name_key *k = ctx;
    return span_eq(k->b->names[idx].s, k->s);
}

static uint32_t intern_find(struct store_batch *b, struct span s)
{
    struct name_key k = { b, s };
    uint64_t h = hash_bytes(s.p, s.len);
    long i = htab_find(&b->names_ix, h, name_eq, &k);
    if (i >= 0)
        return (uint32_t)i;
    XGROW(b->names, b->n_names + 1, b->a_names);
    b->names[b->n_names].s = arena_dup(&b->arena, s.p, s.len);
    htab_insert(&b->names_ix, h, (uint32_t)b->n_names);
    return (uint32_t)b->n_names++;
}

/* @hint: the index this caller got last time (databases and users repeat record after
 * record): checked first, saves the hash and the probe. */
static uint32_t intern(struct store_batch *b, struct span s, uint32_t *hint)
{
    if (!s.p)
        s = SPAN_LIT("");
    if (s.len > SIFT_MAX_STORED_TEXT)
        s.len = SIFT_MAX_STORED_TEXT;
    if (*hint < b->n_names && span_eq(b->names[*hint].s, s))
        return *hint;
    uint32_t got = intern_find(b, s);
    *hint = got;
    return got;
}
/* ---- aggregates ---- */

struct agg_key {
    int64_t bucket;
    uint64_t fp;
    int64_t qid;
    uint32_t db, user, phase, pad;
};

struct agg_find {
    const struct store_batch *b;
    const struct agg_key *k;
};

static bool agg_eq(const void *ctx, uint32_t idx)
{
    const struct agg_find *f = ctx;
    const struct agg *a = &f->b->aggs[idx];
    return a->bucket == f->k->bucket && a->fp == f->k->fp && a->qid == f->k->qid &&
           a->db == f->k->db && a->user == f->k->user && a->phase == (enum agg_phase)f->k->phase;
}

/* The slot of a key's cheap mix in the caches of struct store_batch. */
static inline size_t cache_slot(uint64_t mix)
{
    return (size_t)((mix * UINT64_C(0x9E3779B97F4A7C15)) >> (64 - STORE_BATCH_CACHE_BITS));
}

static struct agg *agg_get(struct store_batch *b, int64_t bucket, uint32_t db, uint32_t user,
                           uint64_t fp, int64_t qid, enum agg_phase phase)
{
    size_t slot = cache_slot(fp ^ ((uint64_t)bucket * UINT64_C(0xff51afd7ed558ccd)) ^
                             ((uint64_t)qid * UINT64_C(0xc4ceb9fe1a85ec53)) ^ ((uint64_t)db << 40) ^
                             ((uint64_t)user << 20) ^ (uint64_t)phase);
    uint32_t ci = b->agg_cache[slot];
    if (ci && ci - 1 < b->n_aggs) {
        struct agg *a = &b->aggs[ci - 1];
        if (a->bucket == bucket && a->fp == fp && a->qid == qid && a->db == db && a->user == user &&
            a->phase == phase)
            return a;
    }
    struct agg_key k;
    memset(&k, 0, sizeof(k));
    k.bucket = bucket;
    k.fp = fp;
    k.qid = qid;
    k.db = db;
    k.user = user;
    k.phase = (uint32_t)phase;
    uint64_t h = hash_bytes(&k, sizeof(k));
    struct agg_find f = { b, &k };
    long i = htab_find(&b->aggs_ix, h, agg_eq, &f);
    if (i >= 0) {
        b->agg_cache[slot] = (uint32_t)i + 1;
        return &b->aggs[i];
    }
    XGROW(b->aggs, b->n_aggs + 1, b->a_aggs);
    struct agg *a = &b->aggs[b->n_aggs];
    memset(a, 0, sizeof(*a));
    a->bucket = bucket;
    a->fp = fp;
    a->qid = qid;
    a->db = db;
    a->user = user;
    a->phase = phase;
    sketch_init(&a->sk);
    htab_insert(&b->aggs_ix, h, (uint32_t)b->n_aggs);
    b->n_aggs++;
    b->agg_cache[slot] = (uint32_t)b->n_aggs;
    return a;
}

/* Returns the µs added to total_us (the call's time as query_ids also sums it). The
 * latency sketch gets @ms in store_batch_finish(). */
static int64_t agg_add_duration(struct store_batch *b, struct agg *a, double ms)
{
    if (!(ms >= 0) || !isfinite(ms))
        ms = 0;
    if (ms > STORE_MAX_DURATION_MS)
        ms = STORE_MAX_DURATION_MS;
    if (a->calls == 0 || ms < a->min)
        a->min = ms;
    if (a->calls == 0 || ms > a->max)
        a->max = ms;
    a->calls++;
    int64_t us = llround(ms * 1000);
    a->total_us = a->total_us > INT64_MAX - us ? INT64_MAX : a->total_us + us;
    a->sumsq += ms * ms;
    XGROW(b->sk_recs, b->n_sk_recs + 1, b->a_sk_recs);
    b->sk_recs[b->n_sk_recs++] = (struct sk_rec){ .agg = (size_t)(a - b->aggs), .ms = ms };
    return us;
}

/* ---- texts ---- */

/* Copy @in into @a: redacted (unless @keep) and capped; @scratch is work space. */
static struct span stored_text_to(struct arena *a, struct sbuf *scratch, bool keep, struct span in,
                                  int (*redactor)(struct sbuf *, struct span))
{
    if (!in.p)
        return SPAN_NULL;
    /* Work on at most twice the cap: what is cut would not be stored anyway. */
    if (in.len > 2 * SIFT_MAX_STORED_TEXT)
        in.len = 2 * SIFT_MAX_STORED_TEXT;
    sbuf_reset(scratch);
    if (keep || !redactor) {
        if (sbuf_addspan(scratch, in) < 0)
            return SPAN_NULL; /* cannot happen: the scratch cap is larger */
    } else if (redactor(scratch, in) < 0) {
        /* The cap was hit: what was appended is redacted; cut below. */
    }
    redact_cap(scratch, SIFT_MAX_STORED_TEXT);
    return arena_dup(a, scratch->buf, scratch->len);
}

/* Copy @in into the batch arena: redacted (unless keep_literals) and capped. */
static struct span stored_text(struct store_batch *b, struct span in,
                               int (*redactor)(struct sbuf *, struct span))
{
    return stored_text_to(&b->arena, &b->scratch, b->keep_literals, in, redactor);
}

/* Which of a fingerprint's (or an error's) occurrences at its earliest time is the sample:
 * the lowest XXH3-64 of its text as logged, taken as signed (the store compares the
 * stored key in SQL). @b: a second text (an error's detail), or SPAN_NULL. */
static int64_t sample_key_of(struct span a, struct span b)
{
    XXH3_state_t st;
    XXH3_64bits_reset(&st);
    XXH3_64bits_update(&st, a.p ? a.p : "", a.len);
    if (b.p) {
        XXH3_64bits_update(&st, "\0", 1);
        XXH3_64bits_update(&st, b.p, b.len);
    }
    return (int64_t)XXH3_64bits_digest(&st);
}

/* A statement sample: the statement in its own layout with every constant replaced by
 * $n (normalize/normalize.h), verbatim with keep_literals. */
static struct span sample_text(struct store_batch *b, struct span raw)
{
    if (!raw.p)
        return SPAN_NULL;
    if (b->keep_literals)
        return stored_text(b, raw, NULL);
    sbuf_reset(&b->scratch);
    int cut = normalize_redact(b->nz, raw, REDACT_ALL | REDACT_STATEMENT, SIFT_MAX_STORED_TEXT - 3,
                               &b->scratch);
    if (cut && sbuf_addstr(&b->scratch, "\xe2\x80\xa6") < 0) {
        /* the scratch cap is far above SIFT_MAX_STORED_TEXT */
    }
    return arena_dup(&b->arena, b->scratch.buf, b->scratch.len);
}

/* ---- catalogue ---- */

struct fp_find {
    const struct store_batch *b;
    uint64_t fp;
};

static bool cat_eq(const void *ctx, uint32_t idx)
{
    const struct fp_find *f = ctx;
    return f->b->cats[idx].fp == f->fp;
}

/* A part batch: count a record of cats[ci] by its other 64 bits (struct cat). */
static void cat_hi_count(struct store_batch *b, uint32_t ci, uint64_t hi)
{
    struct cat *c = &b->cats[ci];
    if (!hi) {
        c->zero_hi++;
        return;
    }
    if (hi == c->fp_hi) {
        c->same++;
        return;
    }
    for (size_t k = 0; k < b->n_cat_his; k++)
        if (b->cat_his[k].cat == ci && b->cat_his[k].hi == hi) {
            b->cat_his[k].count++;
            return;
        }
    XGROW(b->cat_his, b->n_cat_his + 1, b->a_cat_his);
    b->cat_his[b->n_cat_his++] = (struct cat_hi){ .cat = ci, .hi = hi, .count = 1 };
}

static void catalogue_touch(struct store_batch *b, const struct event *ev, int64_t ts)
{
    size_t slot = cache_slot(ev->fingerprint);
    uint32_t ci = b->cat_cache[slot];
    long i = -1;
    uint64_t h = 0;
    if (ci && ci - 1 < b->n_cats && b->cats[ci - 1].fp == ev->fingerprint) {
        i = (long)ci - 1;
    } else {
        struct fp_find f = { b, ev->fingerprint };
        h = hash_bytes(&ev->fingerprint, sizeof(ev->fingerprint));
        i = htab_find(&b->cats_ix, h, cat_eq, &f);
        if (i >= 0)
            b->cat_cache[slot] = (uint32_t)i + 1;
    }
    if (i >= 0) {
        struct cat *c = &b->cats[i];
        if (ts <= c->first) {
            /* The sample is the occurrence at the earliest time with the lowest key. */
            struct span raw = ev->query.p ? ev->query : ev->statement;
            int64_t key = sample_key_of(raw, SPAN_NULL);
            if (ts < c->first || key < c->sample_key) {
                c->first = ts;
                c->sample_key = key;
                c->sample = b->part ? arena_dup_span(&b->arena, raw) : sample_text(b, raw);
            }
        }
        if (ts > c->last)
            c->last = ts;
        if (b->part)
            cat_hi_count(b, (uint32_t)i, ev->fingerprint_hi);
        else if (c->fp_hi && ev->fingerprint_hi && c->fp_hi != ev->fingerprint_hi)
            c->collisions++;
        else
            c->same++;
        if (!c->query.len && ev->normalized.len)
            c->query = stored_text(b, ev->normalized, NULL);
        return;
    }
    XGROW(b->cats, b->n_cats + 1, b->a_cats);
    struct cat *c = &b->cats[b->n_cats];
    memset(c, 0, sizeof(*c));
    c->fp = ev->fingerprint;
    c->fp_hi = ev->fingerprint_hi;
    c->first = c->last = ts;
    c->same = 1;
    if (b->part) {
        c->same = 0;
        cat_hi_count(b, (uint32_t)b->n_cats, ev->fingerprint_hi);
    }
    /* The canonical text has no literal left in it by construction. */
    c->query = ev->normalized.p ? stored_text(b, ev->normalized, NULL) : SPAN_LIT("");
    struct span raw = ev->query.p ? ev->query : ev->statement;
    /* A part batch keeps the statement: its sample is made if the reader's batch takes
     * this record as the first of its fingerprint (store_batch_absorb()). */
    c->sample = b->part ? arena_dup_span(&b->arena, raw) : sample_text(b, raw);
    c->sample_key = sample_key_of(raw, SPAN_NULL);
    htab_insert(&b->cats_ix, h, (uint32_t)b->n_cats);
    b->n_cats++;
    b->cat_cache[slot] = (uint32_t)b->n_cats;
}

struct qid_find {
    const struct store_batch *b;
    uint64_t fp;
    int64_t qid;
};

static bool qid_eq(const void *ctx, uint32_t idx)
{
    const struct qid_find *f = ctx;
    return f->b->qids[idx].fp == f->fp && f->b->qids[idx].qid == f->qid;
}

/* call_us: the time of a call (execute phase) to count, or -1 when the record is none. */
static void qid_touch(struct store_batch *b, uint64_t fp, int64_t qid, int64_t call_us, int64_t ts)
{
    size_t slot = cache_slot(fp ^ ((uint64_t)qid * UINT64_C(0xc4ceb9fe1a85ec53)));
    uint32_t ci = b->qid_cache[slot];
    long i = -1;
    uint64_t h = 0;
    if (ci && ci - 1 < b->n_qids && b->qids[ci - 1].fp == fp && b->qids[ci - 1].qid == qid) {
        i = (long)ci - 1;
    } else {
        struct qid_find f = { b, fp, qid };
        uint64_t key[2] = { fp, (uint64_t)qid };
        h = hash_bytes(key, sizeof(key));
        i = htab_find(&b->qids_ix, h, qid_eq, &f);
    }
    struct qid *q;
    if (i >= 0) {
        q = &b->qids[i];
        if (ts < q->first)
            q->first = ts;
        if (ts > q->last)
            q->last = ts;
    } else {
        XGROW(b->qids, b->n_qids + 1, b->a_qids);
        q = &b->qids[b->n_qids];
        *q = (struct qid){ .fp = fp, .qid = qid, .first = ts, .last = ts };
        htab_insert(&b->qids_ix, h, (uint32_t)b->n_qids);
        i = (long)b->n_qids++;
    }
    b->qid_cache[slot] = (uint32_t)i + 1;
    if (call_us >= 0) {
        q->calls++;
        q->total_us = q->total_us > INT64_MAX - call_us ? INT64_MAX : q->total_us + call_us;
    }
}

/* ---- record counts ---- */

struct rec_find {
    const struct store_batch *b;
    int64_t bucket;
    enum event_kind kind;
    enum event_severity sev;
};

static bool rec_eq(const void *ctx, uint32_t idx)
{
    const struct rec_find *f = ctx;
    const struct rec *r = &f->b->recs[idx];
    return r->bucket == f->bucket && r->kind == f->kind && r->sev == f->sev;
}

static void record_count(struct store_batch *b, int64_t bucket, enum event_kind kind,
                         enum event_severity sev, uint64_t n)
{
    uint32_t hint = b->rec_hint[kind];
    if (hint && hint - 1 < b->n_recs) {
        struct rec *r = &b->recs[hint - 1];
        if (r->bucket == bucket && r->kind == kind && r->sev == sev) {
            r->count += n;
            return;
        }
    }
    struct rec_find f = { b, bucket, kind, sev };
    int64_t key[3] = { bucket, (int64_t)kind, (int64_t)sev };
    uint64_t h = hash_bytes(key, sizeof(key));
    long i = htab_find(&b->recs_ix, h, rec_eq, &f);
    if (i < 0) {
        XGROW(b->recs, b->n_recs + 1, b->a_recs);
        b->recs[b->n_recs] = (struct rec){ .bucket = bucket, .kind = kind, .sev = sev };
        htab_insert(&b->recs_ix, h, (uint32_t)b->n_recs);
        i = (long)b->n_recs++;
    }
    b->recs[i].count += n;
    b->rec_hint[kind] = (uint32_t)i + 1;
}

/* ---- lines per input ---- */

struct inp_find {
    const struct store_batch *b;
    int64_t bucket;
    uint32_t name;
};

static bool inp_eq(const void *ctx, uint32_t idx)
{
    const struct inp_find *f = ctx;
    const struct inp *r = &f->b->inps[idx];
    return r->bucket == f->bucket && r->name == f->name;
}

static void inp_count(struct store_batch *b, int64_t bucket, uint32_t name, uint64_t records,
                      uint64_t rejects)
{
    uint32_t hint = b->inp_hint;
    if (hint && hint - 1 < b->n_inps && b->inps[hint - 1].bucket == bucket &&
        b->inps[hint - 1].name == name) {
        b->inps[hint - 1].records += records;
        b->inps[hint - 1].rejects += rejects;
        return;
    }
    struct inp_find f = { b, bucket, name };
    int64_t key[2] = { bucket, (int64_t)name };
    uint64_t h = hash_bytes(key, sizeof(key));
    long i = htab_find(&b->inps_ix, h, inp_eq, &f);
    if (i < 0) {
        XGROW(b->inps, b->n_inps + 1, b->a_inps);
        b->inps[b->n_inps] = (struct inp){ .bucket = bucket, .name = name };
        htab_insert(&b->inps_ix, h, (uint32_t)b->n_inps);
        i = (long)b->n_inps++;
    }
    b->inps[i].records += records;
    b->inps[i].rejects += rejects;
    b->inp_hint = (uint32_t)i + 1;
}

static int64_t minute_of(int64_t ts_us)
{
    return (ts_us < 0 ? 0 : ts_us) / USEC_PER_SEC / 60 * 60;
}

/* The input of a line: the batch's (store_batch_set_input()), else @name (a record's file,
 * a reject's source). */
static uint32_t inp_name(struct store_batch *b, struct span name)
{
    if (b->input) {
        if (!b->input_interned) {
            b->input_idx = intern_find(b, span_cstr(b->input));
            b->input_interned = true;
        }
        return b->input_idx;
    }
    return intern(b, name.p ? name : SPAN_LIT("-"), &b->inp_name_hint);
}

void store_batch_set_input(struct store_batch *b, const char *name)
{
    free(b->input);
    b->input = name ? xstrdup(name) : NULL;
    b->input_interned = false;
}

/* ---- errors ---- */

struct err_find {
    const struct store_batch *b;
    const struct err *k;
};

static bool err_eq(const void *ctx, uint32_t idx)
{
    const struct err_find *f = ctx;
    const struct err *e = &f->b->errs[idx];
    return e->bucket == f->k->bucket && e->db == f->k->db && e->user == f->k->user &&
           e->sev == f->k->sev && !strcmp(e->sqlstate, f->k->sqlstate) &&
           span_eq(e->message, f->k->message);
}

/* An error record waiting for store_batch_finish(): message and detail are raw copies
 * (cut at the stored cap, as error_count() reads them). */
struct err_rec {
    int64_t bucket, ts;
    uint32_t db, user;
    enum event_severity sev;
    char sqlstate[6];
    struct span message, detail;
};

/* Finished chunks kept for reuse (work chunks below, event-row chunks further down):
 * what a chunk allocates (arena blocks, block buffers) is allocated once. Chunks move
 * between threads (a commit thread frees what a reader filled), hence the lock; it is
 * taken once per chunk. */
#define CHUNK_POOL_SLOTS 16
struct chunk_pool {
    pthread_mutex_t mu;
    size_t max; /* <= CHUNK_POOL_SLOTS */
    size_t n;
    void *free[CHUNK_POOL_SLOTS];
};

/* A kept chunk, or NULL. */
static void *pool_take(struct chunk_pool *pl)
{
    void *c = NULL;
    pthread_mutex_lock(&pl->mu);
    if (pl->n)
        c = pl->free[--pl->n];
    pthread_mutex_unlock(&pl->mu);
    return c;
}

/* Keep @c if there is room; false: the caller frees it. */
static bool pool_put(struct chunk_pool *pl, void *c)
{
    pthread_mutex_lock(&pl->mu);
    bool kept = pl->n < pl->max;
    if (kept)
        pl->free[pl->n++] = c;
    pthread_mutex_unlock(&pl->mu);
    return kept;
}

static struct chunk_pool work_pool = { PTHREAD_MUTEX_INITIALIZER, 4, 0, { NULL } };

static struct store_work_chunk *work_chunk_new(void)
{
    struct store_work_chunk *c = pool_take(&work_pool);
    if (c) {
        arena_reset(&c->arena);
        c->next = NULL;
        c->n_plans = c->n_errs = 0;
        return c;
    }
    c = xcalloc(1, sizeof(*c));
    /* one block holds a full chunk (STORE_WORK_CHUNK_BYTES and the record that passes
     * it, up to 64 KiB): arena_reset() keeps it */
    arena_init(&c->arena, STORE_WORK_CHUNK_BYTES + 64 * 1024);
    return c;
}

void store_work_chunk_free(struct store_work_chunk *c)
{
    if (!c || pool_put(&work_pool, c))
        return;
    arena_release(&c->arena);
    free(c->plans);
    free(c->errs);
    free(c);
}

/* The open work chunk, a new one when the last is full. */
static struct store_work_chunk *work_open(struct store_batch *b)
{
    struct store_work_chunk *c = b->work_tail;
    if (c && c->n_plans + c->n_errs < STORE_WORK_CHUNK_RECS &&
        c->arena.used < STORE_WORK_CHUNK_BYTES)
        return c;
    if (c)
        b->work_bytes += c->arena.used;
    c = work_chunk_new();
    if (b->work_tail)
        b->work_tail->next = c;
    else
        b->work_head = c;
    b->work_tail = c;
    return c;
}

struct store_work_chunk *store_batch_take_work(struct store_batch *b)
{
    struct store_work_chunk *c = b->work_head;
    if (!c || c == b->work_tail)
        return NULL; /* the last chunk is still filling */
    b->work_head = c->next;
    c->next = NULL;
    return c;
}

static void error_defer(struct store_batch *b, const struct event *ev, int64_t bucket, uint32_t db,
                        uint32_t user)
{
    struct store_work_chunk *c = work_open(b);
    XGROW(c->errs, c->n_errs + 1, c->a_errs);
    struct err_rec *er = &c->errs[c->n_errs++];
    struct span msg = ev->message.p ? ev->message : SPAN_LIT("");
    if (msg.len > SIFT_MAX_STORED_TEXT)
        msg.len = SIFT_MAX_STORED_TEXT;
    *er = (struct err_rec){
        .bucket = bucket, .ts = ev->ts_us, .db = db, .user = user, .sev = ev->severity
    };
    memcpy(er->sqlstate, ev->sqlstate, sizeof(er->sqlstate));
    er->sqlstate[5] = '\0';
    er->message = arena_dup(&c->arena, msg.p, msg.len);
    er->detail = ev->detail.p
                     ? arena_dup_span(&c->arena, span_sub(ev->detail, 0, SIFT_MAX_STORED_TEXT))
                     : SPAN_NULL;
}

static void error_count(struct store_batch *b, const struct err_rec *er)
{
    struct err k = { .bucket = er->bucket, .db = er->db, .user = er->user, .sev = er->sev };
    memcpy(k.sqlstate, er->sqlstate, sizeof(k.sqlstate));
    int64_t bucket = er->bucket;
    uint32_t db = er->db, user = er->user;

    /* Grouping key: the redacted message with numbers replaced (always redacted: the key
     * must not split per literal value even with --keep-literals). */
    struct span msg = er->message;
    sbuf_reset(&b->err_scratch2);
    sbuf_reset(&b->err_scratch);
    if (redact_message(&b->err_scratch2, msg) < 0 ||
        redact_numbers(&b->err_scratch, sbuf_span(&b->err_scratch2)) < 0) {
        /* the cap was hit: what was appended is redacted; cut below */
    }
    redact_cap(&b->err_scratch, SIFT_MAX_STORED_TEXT);
    k.message = sbuf_span(&b->err_scratch);

    uint64_t h = XXH3_64bits_withSeed(k.message.p, k.message.len,
                                      (uint64_t)bucket ^ ((uint64_t)db << 20) ^
                                          ((uint64_t)user << 40) ^ (uint64_t)er->sev);
    h ^= hash_bytes(k.sqlstate, sizeof(k.sqlstate));
    struct err_find f = { b, &k };
    long i = htab_find(&b->errs_ix, h, err_eq, &f);
    struct err *e = i >= 0 ? &b->errs[i] : &k;
    if (i >= 0) {
        e->count++;
        /* Another occurrence: the sample if it is earlier, or as early with a lower key
         * (the key only then: occurrences at another time cost a comparison). */
        if (er->ts > e->sample_at)
            return;
        int64_t key = sample_key_of(er->message, er->detail);
        if (er->ts == e->sample_at && key >= e->sample_key)
            return;
        e->sample_key = key;
    } else {
        k.message = arena_dup(&b->err_arena, k.message.p, k.message.len);
        k.count = 1;
        k.sample_key = sample_key_of(er->message, er->detail);
    }
    e->sample_at = er->ts;
    /* The sample: message and detail of this occurrence, redacted unless opted in. */
    sbuf_reset(&b->err_scratch2);
    if (sbuf_addspan(&b->err_scratch2, msg) < 0 ||
        (er->detail.p && (sbuf_addstr(&b->err_scratch2, "\nDETAIL: ") < 0 ||
                          sbuf_addspan(&b->err_scratch2, er->detail) < 0))) {
        /* cannot happen: scratch2 holds more than two capped texts */
    }
    e->sample = stored_text_to(&b->err_arena, &b->err_scratch, b->keep_literals,
                               sbuf_span(&b->err_scratch2), redact_message);
    if (i >= 0)
        return;
    XGROW(b->errs, b->n_errs + 1, b->a_errs);
    b->errs[b->n_errs] = k;
    htab_insert(&b->errs_ix, h, (uint32_t)b->n_errs);
    b->n_errs++;
}

/* ---- events ---- */

/* Event-row chunks kept for reuse: their block buffer is allocated once. */
static struct chunk_pool ev_pool = { PTHREAD_MUTEX_INITIALIZER, CHUNK_POOL_SLOTS, 0, { NULL } };

void ev_chunk_free(struct store_ev_chunk *c)
{
    if (!c || pool_put(&ev_pool, c))
        return;
    c->enc.slots = NULL; /* the batch's (ev_chunk_new()) */
    evblock_enc_release(&c->enc);
    free(c);
}

/* An empty chunk whose block starts at @ts_min: from the pool, else new. Its encoder
 * uses the batch's text table (one table the batch's chunks fill in turn stays in the
 * cache; a table per chunk missed it on most lookups), with generations counted on
 * from the previous chunk's so no entry of an earlier block is taken for this one's. */
static struct store_ev_chunk *ev_chunk_new(struct store_batch *b, int64_t ts_min)
{
    struct store_ev_chunk *c = pool_take(&ev_pool);
    if (!c) {
        c = xcalloc(1, sizeof(*c));
        evblock_enc_init(&c->enc);
        free(c->enc.slots);
    }
    if (!b->ev_slots)
        b->ev_slots = xcalloc(EVB_TABLE_SLOTS, sizeof(*b->ev_slots));
    c->next = NULL;
    c->closed = false;
    c->kinds = 0;
    c->n = 0;
    c->rebased = 0;
    c->keep_literals = b->keep_literals;
    c->enc.slots = b->ev_slots;
    c->enc.gen = b->ev_gen;
    c->enc.line_base = b->part; /* a part's lines are numbered from 1: absorb sets the base */
    evblock_enc_start(&c->enc, ts_min); /* the next generation (the table cleared on wrap) */
    b->ev_gen = c->enc.gen;
    return c;
}

void store_ev_chunk_free(struct store_ev_chunk *c)
{
    ev_chunk_free(c);
}

/* The open chunk for a row at @ts: a new one when the last is full or closed. A row
 * older than the chunk's others moves its block's base down (evblock_enc_rebase(): a
 * pass over the block; in all at most STORE_EV_REBASE_FACTOR times the block's bytes
 * plus STORE_EV_REBASE_BYTES, so rows in falling time order cost no more than that:
 * they close the chunk instead). */
static struct store_ev_chunk *ev_chunk_open(struct store_batch *b, int64_t ts)
{
    struct store_ev_chunk *c = b->ev_tail;
    if (c && !c->closed && c->n < STORE_EV_CHUNK_ROWS) {
        if (ts >= c->enc.ts_min)
            return c;
        size_t len = c->enc.blob.len;
        if (c->rebased <= STORE_EV_REBASE_FACTOR * len + STORE_EV_REBASE_BYTES &&
            evblock_enc_rebase(&c->enc, ts) == 0) {
            c->rebased += len;
            b->ev_gen = c->enc.gen; /* it took a generation of the shared table */
            return c;
        }
    }
    if (c) {
        c->closed = true;
        b->ev_bytes += c->enc.blob.len;
    }
    c = ev_chunk_new(b, ts);
    if (b->ev_tail)
        b->ev_tail->next = c;
    else
        b->ev_head = c;
    b->ev_tail = c;
    return c;
}

struct store_ev_chunk *store_batch_take_events(struct store_batch *b)
{
    struct store_ev_chunk *c = b->ev_head;
    if (!c || c == b->ev_tail)
        return NULL; /* the last chunk is still filling */
    b->ev_head = c->next;
    c->next = NULL;
    return c;
}

static void cell_text(struct evblock_event *x, enum evb_col c, struct span sp)
{
    if (!sp.p)
        return;
    x->present |= evb_bit(c);
    x->c[c].s = sp.p;
    x->c[c].len = sp.len;
}

/* A text as stored: cut at SIFT_MAX_STORED_TEXT (NULL stays NULL). */
static void cell_capped(struct evblock_event *x, enum evb_col c, struct span sp)
{
    cell_text(x, c, span_sub(sp, 0, SIFT_MAX_STORED_TEXT));
}

static void cell_cstr(struct evblock_event *x, enum evb_col c, const char *s)
{
    x->present |= evb_bit(c);
    x->c[c].s = s;
    x->c[c].len = strlen(s);
}

/* A negative value is NULL. */
static void cell_int(struct evblock_event *x, enum evb_col c, int64_t v)
{
    if (v < 0)
        return;
    x->present |= evb_bit(c);
    x->c[c].i = v;
}

/* Negative is NULL; so is NaN (SQLite stored a bound NaN as NULL). */
static void cell_real(struct evblock_event *x, enum evb_col c, double v)
{
    if (!(v >= 0))
        return;
    x->present |= evb_bit(c);
    x->c[c].r = v;
}

/* A message or detail as stored: redacted (unless @keep) and capped, in @scratch, or
 * @in itself when that is the same bytes (most messages have nothing to redact). */
static struct span event_text(struct sbuf *scratch, bool keep, struct span in)
{
    if (!in.p)
        return SPAN_NULL;
    /* Work on at most twice the cap: what is cut would not be stored anyway. */
    if (in.len > 2 * SIFT_MAX_STORED_TEXT)
        in.len = 2 * SIFT_MAX_STORED_TEXT;
    bool same = false;
    sbuf_reset(scratch);
    if (keep) {
        same = true;
    } else if (redact_message_same(scratch, in, &same) < 0) {
        same = false; /* the cap was hit: what was appended is redacted; cut below */
    }
    if (same && in.len <= SIFT_MAX_STORED_TEXT)
        return in;
    if (keep && sbuf_addspan(scratch, in) < 0)
        return SPAN_NULL; /* cannot happen: the scratch cap is larger */
    redact_cap(scratch, SIFT_MAX_STORED_TEXT);
    return sbuf_span(scratch);
}

/* The record's event row, encoded into the open chunk's block: the columns of the old
 * events table (evblock.h), every text as stored (redacted, capped). */
static void event_row(struct store_batch *b, const struct event *ev, int64_t ts)
{
    struct evblock_event *x = b->evx;
    const struct event_facts *f = &ev->facts;
    char sqlstate[6];
    x->ts = ts;
    x->present = 0;
    cell_cstr(x, EVB_KIND, event_kind_name(ev->kind));
    if (ev->severity != SEV_NONE)
        cell_cstr(x, EVB_SEVERITY, severity_name(ev->severity));
    memcpy(sqlstate, ev->sqlstate, sizeof(sqlstate));
    sqlstate[5] = '\0';
    if (sqlstate[0])
        cell_cstr(x, EVB_SQLSTATE, sqlstate);
    cell_capped(x, EVB_DATABASE, ev->database);
    cell_capped(x, EVB_USERNAME, ev->user);
    cell_capped(x, EVB_APPLICATION, ev->application);
    cell_int(x, EVB_PID, ev->pid);
    if (ev->flags & EVENT_HAS_FINGERPRINT) {
        x->present |= evb_bit(EVB_FINGERPRINT);
        x->c[EVB_FINGERPRINT].i = (int64_t)ev->fingerprint;
    }
    cell_text(x, EVB_MESSAGE, event_text(&b->ev_msg, b->keep_literals, ev->message));
    cell_text(x, EVB_DETAIL, event_text(&b->ev_detail, b->keep_literals, ev->detail));
    cell_real(x, EVB_WAIT_MS, f->wait_ms);
    cell_capped(x, EVB_LOCK_MODE, f->lock_mode);
    cell_capped(x, EVB_LOCK_OBJECT, f->lock_object);
    cell_int(x, EVB_TEMP_BYTES, f->temp_bytes);
    cell_capped(x, EVB_TEMP_PATH, f->temp_path);
    cell_int(x, EVB_BUFFERS, f->buffers);
    cell_real(x, EVB_WRITE_S, f->write_s);
    cell_real(x, EVB_SYNC_S, f->sync_s);
    cell_real(x, EVB_TOTAL_S, f->total_s);
    cell_capped(x, EVB_CAUSE, f->cause);
    cell_capped(x, EVB_RELATION, f->relation);
    cell_int(x, EVB_TUPLES_REMOVED, f->tuples_removed);
    cell_int(x, EVB_TUPLES_REMAIN, f->tuples_remain);
    cell_real(x, EVB_ELAPSED_S, f->elapsed_s);
    cell_capped(x, EVB_HOST, f->host);
    if (f->step != STEP_NONE)
        cell_cstr(x, EVB_STEP, event_step_name(f->step));
    cell_capped(x, EVB_LOCK_HOLDERS, f->lock_holders);
    cell_capped(x, EVB_LOCK_QUEUE, f->lock_queue);
    cell_int(x, EVB_BLOCKER_PID, f->blocker_pid);
    cell_int(x, EVB_DISTANCE_KB, f->distance_kb);
    cell_int(x, EVB_PORT, f->port);
    if (ev->kind == EV_CHECKPOINT) {
        cell_int(x, EVB_ESTIMATE_KB, f->estimate_kb);
        cell_int(x, EVB_WAL_ADDED, f->wal_added);
        cell_int(x, EVB_WAL_REMOVED, f->wal_removed);
        cell_int(x, EVB_WAL_RECYCLED, f->wal_recycled);
        cell_int(x, EVB_SYNC_FILES, f->sync_files);
        cell_real(x, EVB_SYNC_LONGEST_S, f->sync_longest_s);
        cell_real(x, EVB_SYNC_AVERAGE_S, f->sync_average_s);
    } else if (ev->kind == EV_AUTOVACUUM || ev->kind == EV_AUTOANALYZE) {
        cell_int(x, EVB_TUPLES_DEAD, f->tuples_dead);
        cell_int(x, EVB_INDEX_SCANS, f->index_scans);
        cell_int(x, EVB_PAGES_REMOVED, f->pages_removed);
        cell_int(x, EVB_PAGES_REMAIN, f->pages_remain);
        cell_int(x, EVB_PAGES_SCANNED, f->pages_scanned);
        cell_int(x, EVB_BUFFER_HITS, f->buffer_hits);
        cell_int(x, EVB_BUFFER_MISSES, f->buffer_misses);
        cell_int(x, EVB_BUFFER_DIRTIED, f->buffer_dirtied);
        cell_real(x, EVB_READ_MB_S, f->read_mb_s);
        cell_real(x, EVB_WRITE_MB_S, f->write_mb_s);
        cell_int(x, EVB_WAL_RECORDS, f->wal_records);
        cell_int(x, EVB_WAL_FPI, f->wal_fpi);
        cell_int(x, EVB_WAL_BYTES, f->wal_bytes);
    } else if (ev->kind == EV_CONNECTION_READY) {
        cell_real(x, EVB_SETUP_MS, f->setup_ms);
        cell_real(x, EVB_FORK_MS, f->fork_ms);
        cell_real(x, EVB_AUTH_MS, f->auth_ms);
    }
    /* src: name (cut at EVB_SRC_FILE_MAX) and line, joined by the encoder's rules */
    x->src_split = true;
    if (ev->src_name.p) {
        cell_text(x, EVB_SRC, span_sub(ev->src_name, 0, EVB_SRC_FILE_MAX));
        x->c[EVB_SRC].i = (int64_t)ev->src_line;
    }

    struct store_ev_chunk *c = ev_chunk_open(b, ts);
    if (evblock_enc_add(&c->enc, x) < 0) {
        /* the block's cap: the row opens the next chunk (one row is far below it) */
        c->closed = true;
        c = ev_chunk_open(b, ts);
        if (evblock_enc_add(&c->enc, x) < 0)
            BUG("an event row exceeds SIFT_MAX_EVBLOCK_BYTES");
    }
    c->kinds |= UINT32_C(1) << ev->kind;
    c->n++;
    b->n_evs++;
}

/* ---- statements waiting for their duration line ---- */

struct pid_find {
    const struct store_batch *b;
    int64_t pid;
};

static bool pair_eq(const void *ctx, uint32_t idx)
{
    const struct pid_find *f = ctx;
    return f->b->pairs[idx].pid == f->pid;
}

static struct pair *pair_find(struct store_batch *b, int64_t pid)
{
    struct pid_find f = { b, pid };
    long i = htab_find(&b->pairs_ix, hash_bytes(&pid, sizeof(pid)), pair_eq, &f);
    return i < 0 ? NULL : &b->pairs[i];
}

static void pair_set(struct store_batch *b, int64_t pid, uint64_t fp, uint64_t fp_hi, int64_t qid)
{
    struct pair *p = pair_find(b, pid);
    if (!p) {
        if (b->live_pairs >= SIFT_MAX_PAIRED_SESSIONS)
            return; /* its duration will count under fingerprint 0 */
        XGROW(b->pairs, b->n_pairs + 1, b->a_pairs);
        p = &b->pairs[b->n_pairs];
        p->pid = pid;
        p->live = false;
        htab_insert(&b->pairs_ix, hash_bytes(&pid, sizeof(pid)), (uint32_t)b->n_pairs);
        b->n_pairs++;
    }
    if (!p->live)
        b->live_pairs++;
    p->live = true;
    p->fp = fp;
    p->fp_hi = fp_hi;
    p->qid = qid;
}

static void pair_clear(struct store_batch *b, int64_t pid)
{
    if (!b->live_pairs)
        return; /* nothing waits: the common case, no lookup */
    struct pair *p = pair_find(b, pid);
    if (p && p->live) {
        p->live = false;
        b->live_pairs--;
    }
}

/* A bare "duration: N ms" line of session @pid: the fingerprint of the statement that
 * session left waiting, if any (its wait ends). */
static bool pair_take(struct store_batch *b, int64_t pid, uint64_t *fp)
{
    struct pair *p = b->live_pairs ? pair_find(b, pid) : NULL;
    if (!p || !p->live)
        return false;
    *fp = p->fp;
    p->live = false;
    b->live_pairs--;
    return true;
}

/* A part batch's pairing step (struct pair_op); @set for PAIR_OP_SET. A bare duration's
 * op refers to the bare record added next (bares[n_bares]). */
static void pair_op(struct store_batch *b, int64_t pid, enum pair_op_kind kind,
                    const struct pair_set_rec *set)
{
    uint32_t idx = 0;
    if (kind == PAIR_OP_SET) {
        XGROW(b->sets, b->n_sets + 1, b->a_sets);
        b->sets[b->n_sets] = *set;
        idx = (uint32_t)b->n_sets++;
    } else if (kind == PAIR_OP_BARE) {
        idx = (uint32_t)b->n_bares;
    }
    XGROW(b->ops, b->n_ops + 1, b->a_ops);
    b->ops[b->n_ops++] = (struct pair_op){ .pid = pid, .kind = (uint32_t)kind, .idx = idx };
}

/* Drop cleared entries (each connection brings a new pid). */
static void pairs_compact(struct store_batch *b)
{
    if (b->n_pairs < 2 * b->live_pairs + 1024)
        return;
    size_t w = 0;
    htab_clear(&b->pairs_ix);
    for (size_t i = 0; i < b->n_pairs; i++) {
        if (!b->pairs[i].live)
            continue;
        b->pairs[w] = b->pairs[i];
        htab_insert(&b->pairs_ix, hash_bytes(&b->pairs[w].pid, sizeof(int64_t)), (uint32_t)w);
        w++;
    }
    b->n_pairs = w;
}

static int put_u64(struct sbuf *out, uint64_t v)
{
    unsigned char buf[8];
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)(v >> (8 * i));
    return sbuf_add(out, buf, 8);
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Version 1: then per waiting statement pid, fp, fp_hi, query_id (8 bytes each, little
 * endian). */
int batch_pairs_encode(const struct store_batch *b, struct sbuf *out)
{
    if (!b->live_pairs)
        return 0;
    if (sbuf_addch(out, 1) < 0)
        return -1;
    for (size_t i = 0; i < b->n_pairs; i++) {
        const struct pair *p = &b->pairs[i];
        if (p->live && (put_u64(out, (uint64_t)p->pid) < 0 || put_u64(out, p->fp) < 0 ||
                        put_u64(out, p->fp_hi) < 0 || put_u64(out, (uint64_t)p->qid) < 0))
            return -1;
    }
    return 0;
}

int store_batch_restore(struct store_batch *b, struct span state)
{
    const unsigned char *p = (const unsigned char *)state.p;
    for (size_t i = 0; i < b->n_pairs; i++)
        b->pairs[i].live = false;
    b->live_pairs = 0;
    pairs_compact(b);
    if (!state.len)
        return 0;
    if (p[0] != 1 || (state.len - 1) % 32 != 0 || (state.len - 1) / 32 > SIFT_MAX_PAIRED_SESSIONS)
        return -1;
    for (size_t at = 1; at < state.len; at += 32)
        pair_set(b, (int64_t)get_u64(p + at), get_u64(p + at + 8), get_u64(p + at + 16),
                 (int64_t)get_u64(p + at + 24));
    return 0;
}

void store_batch_carry(struct store_batch *to, const struct store_batch *from)
{
    to->n_pairs = to->live_pairs = 0;
    htab_clear(&to->pairs_ix);
    /* In order: batch_pairs_encode() then writes the same bytes as @from would. */
    for (size_t i = 0; i < from->n_pairs; i++) {
        const struct pair *p = &from->pairs[i];
        if (p->live)
            pair_set(to, p->pid, p->fp, p->fp_hi, p->qid);
    }
    to->last_ts = from->last_ts;
    if (to->plan_share != from->plan_share) {
        plan_share_drop(to->plan_share);
        to->plan_share = from->plan_share;
        plan_share_take(to->plan_share);
    }
}

/* ---- deferred work ---- */

static void plan_defer(struct store_batch *b, const struct event *ev, int64_t ts)
{
    struct store_work_chunk *c = work_open(b);
    XGROW(c->plans, c->n_plans + 1, c->a_plans);
    struct plan_rec *pr = &c->plans[c->n_plans++];
    struct span db = ev->database;
    if (db.p && db.len > 4096)
        db.len = 4096; /* what plans_batch_add() keeps */
    *pr = (struct plan_rec){
        .ts = ts,
        .fp = ev->fingerprint,
        .duration_ms = ev->duration_ms,
        .database = db.p ? arena_dup(&c->arena, db.p, db.len) : SPAN_NULL,
        .plan = ev->plan.p ? arena_dup(&c->arena, ev->plan.p, ev->plan.len) : SPAN_NULL,
        .format = ev->plan_format,
        .has_fp = (ev->flags & EVENT_HAS_FINGERPRINT) != 0,
    };
}

void store_batch_part_done(struct store_batch *b)
{
    /* A part batch's plans are analysed on its thread, after its last record: in one run,
     * not between the records (a plan analysis between two records made both slower: the
     * caches held the other's code and data). The reader only files them. */
    struct event ev;
    memset(&ev, 0, sizeof(ev));
    for (struct store_work_chunk *c = b->work_head; c; c = c->next) {
        for (size_t i = 0; i < c->n_plans; i++) {
            struct plan_rec *pr = &c->plans[i];
            if (pr->summarized)
                continue;
            ev.kind = EV_PLAN;
            ev.duration_ms = pr->duration_ms;
            ev.plan = pr->plan;
            ev.plan_format = pr->format;
            plan_summarize(b->plan_share, &ev, &pr->summary);
            pr->summary.shape = arena_dup_span(&c->arena, pr->summary.shape);
            pr->summarized = true;
        }
    }
}

void store_batch_run_work(struct store_batch *b, struct store_work_chunk *c)
{
    for (size_t i = 0; i < c->n_errs; i++)
        error_count(b, &c->errs[i]);
    struct event ev;
    memset(&ev, 0, sizeof(ev));
    for (size_t i = 0; i < c->n_plans; i++) {
        const struct plan_rec *pr = &c->plans[i];
        /* the fields plans_batch_add() reads */
        ev.kind = EV_PLAN;
        ev.flags = pr->has_fp ? EVENT_HAS_FINGERPRINT : 0;
        ev.fingerprint = pr->fp;
        ev.duration_ms = pr->duration_ms;
        ev.database = pr->database;
        ev.plan = pr->plan;
        ev.plan_format = pr->format;
        plans_batch_add(b, &ev, pr->ts, pr->summarized ? &pr->summary : NULL);
    }
    store_work_chunk_free(c);
}

void store_batch_finish(struct store_batch *b)
{
    for (size_t i = 0; i < b->n_sk_recs; i++)
        sketch_add(&b->aggs[b->sk_recs[i].agg].sk, b->sk_recs[i].ms);
    b->n_sk_recs = 0;
    while (b->work_head) {
        struct store_work_chunk *c = b->work_head;
        b->work_head = c->next;
        store_batch_run_work(b, c);
    }
    b->work_tail = NULL;
    b->work_bytes = 0; /* (the chunks are gone: store_batch_is_full()) */
}

/* ---- store_add ---- */

static enum agg_phase duration_phase(enum event_phase p)
{
    switch (p) {
    case PHASE_PARSE: return AGG_PARSE;
    case PHASE_BIND: return AGG_BIND;
    case PHASE_NONE:
    case PHASE_SIMPLE:
    case PHASE_EXECUTE:
    case PHASE_COUNT: break;
    }
    return AGG_CALL;
}

/* A duration or plan record (@r: db and user interned in @b) into its aggregate, and into
 * its query_id's calls when @touch (it has a fingerprint, or took a waiting statement's). */
static void duration_add(struct store_batch *b, const struct dur_rec *r, uint64_t fp,
                         enum agg_phase ph, bool touch)
{
    struct agg *a = agg_get(b, r->bucket, r->db, r->user, fp, r->qid, ph);
    int64_t us = r->duration_ms >= 0 ? agg_add_duration(b, a, r->duration_ms) : -1;
    if (r->rows >= 0) {
        a->rows += r->rows;
        a->rows_calls++;
    }
    if (touch && r->qid)
        qid_touch(b, fp, r->qid, ph == AGG_CALL ? us : -1, r->ts);
}

void store_batch_add(struct store_batch *b, const struct event *ev)
{
    int64_t ts = ev->ts_us;

    /* A record without a time is filed at the newest time seen (or now): it still counts. */
    if (ts == INT64_MIN)
        ts = b->last_ts != INT64_MIN ? b->last_ts : clock_now_us();
    else if (ts > b->last_ts)
        b->last_ts = ts;
    if (ts < 0)
        ts = 0;
    /* A record with its own id counts once, whatever file holds it (record_ids.c). */
    if (ev->record_key && record_seen(b, ev->record_key)) {
        b->duplicates++;
        return;
    }
    int64_t bucket = minute_of(ts);
    enum event_kind kind = (unsigned)ev->kind < EV_KIND_COUNT ? ev->kind : EV_OTHER;
    enum event_severity sev = (unsigned)ev->severity < SEV_COUNT ? ev->severity : SEV_NONE;
    bool has_fp = (ev->flags & EVENT_HAS_FINGERPRINT) != 0;
    uint64_t fp = has_fp ? ev->fingerprint : 0;
    int64_t qid = ev->has_query_id ? ev->query_id : 0;
    bool is_error = sev >= SEV_ERROR && sev <= SEV_PANIC;
    bool paired = false, bare = false;

    /* log_statement + log_duration: the text comes first ("statement: ..."), the time in
     * a bare "duration: N ms" line of the same session after it. (A part batch keeps
     * these steps for store_batch_absorb(), which knows what the parts before left.) */
    if (ev->pid >= 0) {
        if (kind == EV_STATEMENT && has_fp) {
            if (b->part)
                pair_op(b, ev->pid, PAIR_OP_SET,
                        &(struct pair_set_rec){ ev->fingerprint, ev->fingerprint_hi, qid });
            else
                pair_set(b, ev->pid, ev->fingerprint, ev->fingerprint_hi, qid);
        } else if (kind == EV_DURATION && !has_fp && !ev->query.p && b->part) {
            bare = duration_phase(ev->phase) == AGG_CALL; /* (else it pairs with nothing) */
        } else if (kind == EV_DURATION && !has_fp && !ev->query.p) {
            /* Bare parse/bind durations come before the execute's statement line. The
             * query_id stays the duration record's own: PostgreSQL logs the statement
             * line before parse analysis, with 0 or a stale id. */
            paired = duration_phase(ev->phase) == AGG_CALL && pair_take(b, ev->pid, &fp);
        } else if (kind == EV_DURATION || is_error || kind == EV_CONNECTION ||
                   kind == EV_DISCONNECTION || kind == EV_AUTHENTICATED) {
            if (b->part)
                pair_op(b, ev->pid, PAIR_OP_CLEAR, NULL);
            else
                pair_clear(b, ev->pid); /* completed, failed, or a new session */
        }
    }

    b->records++;
    record_count(b, bucket, kind, sev, 1);
    /* Records per input: a batch with its input set has them in its record counts
     * (store.c writes them from those at the commit: nothing to do per record here); a
     * part's are its reader's, whose input that is. */
    if (!b->input && !b->part)
        inp_count(b, bucket, inp_name(b, ev->src_name), 1, 0);
    if (has_fp)
        catalogue_touch(b, ev, ts);

    if (kind == EV_DURATION || kind == EV_PLAN) {
        uint32_t db = intern(b, ev->database, &b->db_hint),
                 user = intern(b, ev->user, &b->user_hint); /* (in this order) */
        struct dur_rec r = { .bucket = bucket,
                             .ts = ts,
                             .qid = qid,
                             .rows = ev->rows,
                             .duration_ms = ev->duration_ms,
                             .db = db,
                             .user = user };
        if (bare) {
            /* Its fingerprint is the waiting statement's, if any: store_batch_absorb(). */
            XGROW(b->bares, b->n_bares + 1, b->a_bares);
            b->bares[b->n_bares] = r;
            pair_op(b, ev->pid, PAIR_OP_BARE, NULL);
            b->n_bares++;
        } else {
            enum agg_phase ph = kind == EV_PLAN ? AGG_PLAN : duration_phase(ev->phase);
            duration_add(b, &r, fp, ph, has_fp || paired);
        }
        if (kind == EV_PLAN)
            plan_defer(b, ev, ts); /* plan shapes: plans.c, in store_batch_finish() */
    } else if (kind == EV_STATEMENT) {
        if (has_fp && ev->has_query_id)
            qid_touch(b, fp, qid, -1, ts);
    } else {
        event_row(b, ev, ts);
    }

    if (is_error) {
        uint32_t db = intern(b, ev->database, &b->db_hint),
                 user = intern(b, ev->user, &b->user_hint);
        error_defer(b, ev, bucket, db, user); /* error_count() in store_batch_finish() */
        if (has_fp)
            agg_get(b, bucket, db, user, fp, qid, AGG_CALL)->errors++;
    }
}

/* ---- parts folded on other threads (store.h) ---- */

bool store_batch_fold(struct store_batch *b, const struct event *ev)
{
    /* Filed at the newest time seen before it, maybe in a part before this one. */
    if (ev->ts_us == INT64_MIN)
        return false;
    /* An event row's line is written relative to the part (evblock.h, version 2): not
     * for one without a line, or whose line would be written into its text. */
    if (ev->src_name.p && (ev->src_line == 0 || ev->src_name.len >= EVB_SRC_FILE_MAX))
        return false;
    /* cat_hi_count() and cat_absorb() scan the part's collisions (core/limits.h). */
    if (b->n_cat_his >= SIFT_MAX_PART_FP_COLLISIONS)
        return false;
    /* A record with its own id is checked against the store by the reader's batch. */
    if (ev->record_key)
        return false;
    store_batch_add(b, ev);
    return true;
}

/* Count @n records whose other 64 bits are @hi as catalogue_touch() would have. */
static void cat_count(struct cat *c, uint64_t hi, uint64_t n)
{
    if (c->fp_hi && hi && hi != c->fp_hi)
        c->collisions += n;
    else
        c->same += n;
}

static void cat_absorb(struct store_batch *b, const struct store_batch *part, uint32_t pi)
{
    const struct cat *pc = &part->cats[pi];
    struct fp_find f = { b, pc->fp };
    uint64_t h = hash_bytes(&pc->fp, sizeof(pc->fp));
    long i = htab_find(&b->cats_ix, h, cat_eq, &f);
    struct cat *c;
    if (i >= 0) {
        c = &b->cats[i];
        if (pc->first < c->first || (pc->first == c->first && pc->sample_key < c->sample_key)) {
            c->first = pc->first;
            c->sample_key = pc->sample_key;
            c->sample = sample_text(b, pc->sample); /* (the part kept the statement) */
        }
        if (pc->last > c->last)
            c->last = pc->last;
        if (!c->query.len && pc->query.len)
            c->query = arena_dup_span(&b->arena, pc->query);
    } else {
        XGROW(b->cats, b->n_cats + 1, b->a_cats);
        c = &b->cats[b->n_cats];
        memset(c, 0, sizeof(*c));
        c->fp = pc->fp;
        c->fp_hi = pc->fp_hi; /* its first record's */
        c->first = pc->first;
        c->last = pc->last;
        c->query = arena_dup_span(&b->arena, pc->query);
        c->sample = sample_text(b, pc->sample); /* (the part kept the statement) */
        c->sample_key = pc->sample_key;
        htab_insert(&b->cats_ix, h, (uint32_t)b->n_cats);
        b->n_cats++;
    }
    cat_count(c, 0, pc->zero_hi);
    cat_count(c, pc->fp_hi, pc->same);
    for (size_t k = 0; k < part->n_cat_his; k++)
        if (part->cat_his[k].cat == pi)
            cat_count(c, part->cat_his[k].hi, part->cat_his[k].count);
}

static void qid_absorb(struct store_batch *b, const struct qid *pq)
{
    struct qid_find f = { b, pq->fp, pq->qid };
    uint64_t key[2] = { pq->fp, (uint64_t)pq->qid };
    uint64_t h = hash_bytes(key, sizeof(key));
    long i = htab_find(&b->qids_ix, h, qid_eq, &f);
    if (i < 0) {
        XGROW(b->qids, b->n_qids + 1, b->a_qids);
        b->qids[b->n_qids] = *pq;
        htab_insert(&b->qids_ix, h, (uint32_t)b->n_qids);
        b->n_qids++;
        return;
    }
    struct qid *q = &b->qids[i];
    if (pq->first < q->first)
        q->first = pq->first;
    if (pq->last > q->last)
        q->last = pq->last;
    q->calls += pq->calls;
    q->total_us = q->total_us > INT64_MAX - pq->total_us ? INT64_MAX : q->total_us + pq->total_us;
}

void agg_add_figures(struct agg *a, const struct agg *pa)
{
    if (pa->calls) {
        if (a->calls == 0 || pa->min < a->min)
            a->min = pa->min;
        if (a->calls == 0 || pa->max > a->max)
            a->max = pa->max;
    }
    a->calls += pa->calls;
    a->total_us = a->total_us > INT64_MAX - pa->total_us ? INT64_MAX : a->total_us + pa->total_us;
    a->sumsq += pa->sumsq;
    a->rows += pa->rows;
    a->rows_calls += pa->rows_calls;
    a->errors += pa->errors;
}

/* Returns the batch's index of the aggregate. */
static size_t agg_absorb(struct store_batch *b, const struct agg *pa, const uint32_t *names)
{
    struct agg *a =
        agg_get(b, pa->bucket, names[pa->db], names[pa->user], pa->fp, pa->qid, pa->phase);
    agg_add_figures(a, pa);
    return (size_t)(a - b->aggs); /* (the sketch: its durations follow in sk_recs) */
}

/* A part's pairing steps, in order, on the batch's waiting statements (store_batch_add()). */
static void pairs_replay(struct store_batch *b, const struct store_batch *part,
                         const uint32_t *names)
{
    for (size_t k = 0; k < part->n_ops; k++) {
        const struct pair_op *op = &part->ops[k];
        if (op->kind == PAIR_OP_SET) {
            const struct pair_set_rec *st = &part->sets[op->idx];
            pair_set(b, op->pid, st->fp, st->fp_hi, st->qid);
        } else if (op->kind == PAIR_OP_CLEAR) {
            pair_clear(b, op->pid);
        } else {
            struct dur_rec br = part->bares[op->idx];
            uint64_t fp = 0;
            bool paired = pair_take(b, op->pid, &fp);
            br.db = names[br.db];
            br.user = names[br.user];
            duration_add(b, &br, fp, AGG_CALL, paired);
        }
    }
}

void store_batch_absorb(struct store_batch *b, struct store_batch *part, uint64_t line_delta)
{
    /* The part's names as the batch's. */
    XGROW(b->remap, part->n_names, b->a_remap);
    for (size_t i = 0; i < part->n_names; i++)
        b->remap[i] = intern(b, part->names[i].s, &b->db_hint);

    for (size_t i = 0; i < part->n_recs; i++)
        record_count(b, part->recs[i].bucket, part->recs[i].kind, part->recs[i].sev,
                     part->recs[i].count);
    /* A part's lines per input: its records come in its record counts (above: the commit
     * writes them under this batch's input; without one they are counted here, under
     * "-", a part knowing no file), its rejects, if a caller gave it any, at their minute. */
    for (size_t i = 0; !b->input && i < part->n_recs; i++)
        inp_count(b, part->recs[i].bucket, inp_name(b, SPAN_NULL), part->recs[i].count, 0);
    for (size_t i = 0; i < part->n_inps; i++)
        inp_count(b, part->inps[i].bucket, inp_name(b, SPAN_NULL), 0, part->inps[i].rejects);
    for (size_t i = 0; i < part->n_cats; i++)
        cat_absorb(b, part, (uint32_t)i);
    XGROW(b->agg_remap, part->n_aggs, b->a_agg_remap);
    for (size_t i = 0; i < part->n_aggs; i++)
        b->agg_remap[i] = agg_absorb(b, &part->aggs[i], b->remap);
    /* The durations for the sketches, filled in store_batch_finish() as the batch's own. */
    XGROW(b->sk_recs, b->n_sk_recs + part->n_sk_recs, b->a_sk_recs);
    for (size_t i = 0; i < part->n_sk_recs; i++)
        b->sk_recs[b->n_sk_recs++] =
            (struct sk_rec){ .agg = b->agg_remap[part->sk_recs[i].agg], .ms = part->sk_recs[i].ms };
    for (size_t i = 0; i < part->n_qids; i++)
        qid_absorb(b, &part->qids[i]);
    pairs_replay(b, part, b->remap);
    b->records += part->records;
    if (part->last_ts > b->last_ts)
        b->last_ts = part->last_ts;

    /* Event rows: the part's chunks follow the batch's, which is closed (its encoder's
     * text table is the batch's); so is the part's last (its table is the part's). */
    if (part->ev_head) {
        for (struct store_ev_chunk *c = part->ev_head; c; c = c->next)
            evblock_enc_set_line_base(&c->enc, line_delta);
        if (b->ev_tail) {
            b->ev_tail->closed = true;
            b->ev_bytes += b->ev_tail->enc.blob.len;
            b->ev_tail->next = part->ev_head;
        } else {
            b->ev_head = part->ev_head;
        }
        part->ev_tail->closed = true;
        b->ev_tail = part->ev_tail;
        b->ev_bytes += part->ev_bytes;
        b->n_evs += part->n_evs;
        part->ev_head = part->ev_tail = NULL;
        part->ev_bytes = 0;
        part->n_evs = 0;
    }
    /* Deferred work: errors name their database and user by the batch's numbers. */
    if (part->work_head) {
        for (struct store_work_chunk *c = part->work_head; c; c = c->next)
            for (size_t i = 0; i < c->n_errs; i++) {
                c->errs[i].db = b->remap[c->errs[i].db];
                c->errs[i].user = b->remap[c->errs[i].user];
            }
        if (b->work_tail) {
            b->work_bytes += b->work_tail->arena.used;
            b->work_tail->next = part->work_head;
        } else {
            b->work_head = part->work_head;
        }
        b->work_tail = part->work_tail;
        b->work_bytes += part->work_bytes;
        part->work_head = part->work_tail = NULL;
        part->work_bytes = 0;
    }
}

/* ---- records kept between threads (store.h) ----
 * Every field store_batch_add() and what it calls read of a duration or statement record
 * that is not an error: keep this list and store_batch_add() in step (t106 compares the
 * store of parts with that of whole events). */

bool store_rec_light(const struct event *ev)
{
    return (ev->kind == EV_DURATION || ev->kind == EV_STATEMENT) &&
           !(ev->severity >= SEV_ERROR && ev->severity <= SEV_PANIC);
}

static struct span keep_same(struct span s, struct span prev, struct arena *a)
{
    if (s.p && prev.p && s.len == prev.len && !memcmp(s.p, prev.p, s.len))
        return prev;
    return arena_dup_span(a, s);
}

void store_rec_keep(struct store_rec *r, const struct event *ev, bool texts,
                    const struct store_rec *prev, struct arena *a)
{
    struct span db =
        prev ? keep_same(ev->database, prev->database, a) : arena_dup_span(a, ev->database);
    struct span user = prev ? keep_same(ev->user, prev->user, a) : arena_dup_span(a, ev->user);
    *r = (struct store_rec){
        .ts_us = ev->ts_us,
        .pid = ev->pid,
        .query_id = ev->query_id,
        .rows = ev->rows,
        .duration_ms = ev->duration_ms,
        .fingerprint = ev->fingerprint,
        .fingerprint_hi = ev->fingerprint_hi,
        .database = db,
        .user = user,
        .flags = ev->flags,
        .kind = (uint8_t)ev->kind,
        .severity = (uint8_t)ev->severity,
        .phase = (uint8_t)ev->phase,
        .has_query_id = ev->has_query_id,
    };
    if (texts) {
        r->query = arena_dup_span(a, ev->query);
        r->statement = arena_dup_span(a, ev->statement);
        r->normalized = arena_dup_span(a, ev->normalized);
    }
}

void store_rec_event(const struct store_rec *r, struct event *ev)
{
    ev->ts_us = r->ts_us;
    ev->pid = r->pid;
    ev->query_id = r->query_id;
    ev->rows = r->rows;
    ev->duration_ms = r->duration_ms;
    ev->fingerprint = r->fingerprint;
    ev->fingerprint_hi = r->fingerprint_hi;
    ev->database = r->database;
    ev->user = r->user;
    ev->query = r->query;
    ev->statement = r->statement;
    ev->normalized = r->normalized;
    ev->flags = r->flags;
    ev->kind = (enum event_kind)r->kind;
    ev->severity = (enum event_severity)r->severity;
    ev->phase = (enum event_phase)r->phase;
    ev->has_query_id = r->has_query_id;
}

/* ---- rejects ---- */

struct rej_find {
    const struct store_batch *b;
    struct span source;
    const char *reason;
};

static bool rej_eq(const void *ctx, uint32_t idx)
{
    const struct rej_find *f = ctx;
    const struct rej *r = &f->b->rejs[idx];
    return span_eq(r->source, f->source) && !strcmp(r->reason, f->reason);
}

void store_batch_add_reject(struct store_batch *b, const struct store_reject *r)
{
    struct span source = r->source.p ? r->source : SPAN_LIT("-");
    const char *reason = r->reason ? r->reason : "unreadable";
    if (source.len > 4096)
        source.len = 4096;
    struct rej_find f = { b, source, reason };
    uint64_t h = XXH3_64bits_withSeed(source.p, source.len, hash_bytes(reason, strlen(reason)));
    long i = htab_find(&b->rejs_ix, h, rej_eq, &f);
    if (i < 0) {
        XGROW(b->rejs, b->n_rejs + 1, b->a_rejs);
        b->rejs[b->n_rejs] = (struct rej){
            .source = arena_dup(&b->arena, source.p, source.len),
            .reason = reason,
        };
        htab_insert(&b->rejs_ix, h, (uint32_t)b->n_rejs);
        i = (long)b->n_rejs++;
    }
    struct rej *rj = &b->rejs[i];
    uint64_t n = r->count ? r->count : 1;
    rj->count += n;
    b->rejects += n;
    /* A rejected line has no time: the newest record time read so far, or now. */
    inp_count(b, minute_of(b->last_ts != INT64_MIN ? b->last_ts : clock_now_us()),
              inp_name(b, source), 0, n);
    if (r->sample.p && rj->n_samples < SIFT_MAX_REJECT_SAMPLES) {
        XGROW(b->samples, b->n_samples + 1, b->a_samples);
        struct span sample = r->sample;
        if (sample.len > SIFT_MAX_SAMPLE_BYTES)
            sample.len = SIFT_MAX_SAMPLE_BYTES;
        b->samples[b->n_samples++] = (struct rej_sample){
            .rej = (uint32_t)i,
            .line = r->line,
            .offset = r->offset,
            .sample = stored_text(b, sample, redact_rejected),
        };
        rj->n_samples++;
    }
}

bool store_batch_is_full(const struct store_batch *b)
{
    return b->n_aggs >= STORE_BATCH_MAX_AGGS || b->n_evs >= STORE_BATCH_MAX_EVENTS ||
           b->arena.used + b->ev_bytes + (b->ev_tail ? b->ev_tail->enc.blob.len : 0) +
                   b->work_bytes + (b->work_tail ? b->work_tail->arena.used : 0) >=
               STORE_BATCH_MAX_BYTES;
}

uint64_t store_batch_count(const struct store_batch *b)
{
    return b->records + b->rejects;
}

uint64_t store_batch_added(const struct store_batch *b)
{
    return b->records;
}

uint64_t store_batch_duplicates(const struct store_batch *b)
{
    return b->duplicates;
}

void store_batch_discard(struct store_batch *b)
{
    batch_reset(b);
}

/* The store's own batch. */

void store_add(struct store *s, const struct event *ev)
{
    store_batch_add(s->def, ev);
}

void store_add_reject(struct store *s, const struct store_reject *r)
{
    store_batch_add_reject(s->def, r);
}

bool store_batch_full(const struct store *s)
{
    return store_batch_is_full(s->def);
}

uint64_t store_batch_records(const struct store *s)
{
    return store_batch_count(s->def);
}

void store_discard(struct store *s)
{
    batch_reset(s->def);
}
