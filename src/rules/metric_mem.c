/* SPDX-License-Identifier: MIT */
/*
 * metric_mem - a metric source over records held in memory: unit tests, and
 * `pgsift rules test --events FILE` over `pgsift parse` output.
 *
 * Records are kept sorted by time; a query scans the window's records only. Percentiles
 * are exact (nearest rank), where the store answers from its mergeable sketch.
 *
 * Texts are interned: a database, user, SQLSTATE or fingerprint is kept once however
 * many records name it, so metric_store.c can keep a sliding window of decoded events
 * here (metric_mem_drop_before()) without its texts growing with the records.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define XXH_INLINE_ALL /* short texts hashed per record */
#include <xxhash.h>

#include "core/clock.h"
#include "core/xalloc.h"
#include "classify/classify.h"
#include "event.h"
#include "normalize/normalize.h"
#include "rules/rules_int.h"

struct rec {
    int64_t ts;
    unsigned sources; /* SRC_BIT()s this record feeds */
    const char *dims[DIM_COUNT];
    const char *query;
    double duration_ms, wait_ms, setup_ms;
    int64_t size_bytes, tuples_dead;
    bool rejected;
    int kind;           /* enum event_kind or -1 */
    int64_t pid;        /* 0: unknown */
    unsigned char step; /* enum event_step */
};

struct mem {
    struct metric_source ops;
    struct arena strings; /* the interned texts */
    struct interned {
        uint64_t hash;
        const char *s; /* NULL: an empty slot */
    } * texts;
    size_t ntexts, text_cap; /* text_cap: 0 or a power of two */
    struct rec *v;
    size_t n, alloc;
    bool sorted;
    uint64_t kinds;
};

void metric_result_init(struct metric_result *r)
{
    memset(r, 0, sizeof(*r));
    arena_init(&r->strings, 16 * 1024);
}

void metric_result_reset(struct metric_result *r)
{
    r->n = 0;
    arena_reset(&r->strings);
}

void metric_result_release(struct metric_result *r)
{
    free(r->g);
    arena_release(&r->strings);
    memset(r, 0, sizeof(*r));
}

static const char *dup_opt(struct arena *a, const char *s)
{
    return s ? arena_dup(a, s, strlen(s)).p : NULL;
}

static void intern_grow(struct mem *m)
{
    size_t cap = m->text_cap ? m->text_cap * 2 : 256;
    struct interned *t = xcalloc(cap, sizeof(*t));
    for (size_t i = 0; i < m->text_cap; i++) {
        if (!m->texts[i].s)
            continue;
        size_t u = (size_t)m->texts[i].hash & (cap - 1);
        while (t[u].s)
            u = (u + 1) & (cap - 1);
        t[u] = m->texts[i];
    }
    free(m->texts);
    m->texts = t;
    m->text_cap = cap;
}

/* The one copy of the first @len bytes of @s in @m (NULL for NULL). */
static const char *intern(struct mem *m, const char *s, size_t len)
{
    if (!s)
        return NULL;
    if ((m->ntexts + 1) * 2 > m->text_cap)
        intern_grow(m);
    uint64_t h = XXH3_64bits(s, len);
    size_t u = (size_t)h & (m->text_cap - 1);
    for (; m->texts[u].s; u = (u + 1) & (m->text_cap - 1))
        if (m->texts[u].hash == h && !strncmp(m->texts[u].s, s, len) && !m->texts[u].s[len])
            return m->texts[u].s;
    m->texts[u] = (struct interned){ h, arena_dup(&m->strings, s, len).p };
    m->ntexts++;
    return m->texts[u].s;
}

static const char *intern_str(struct mem *m, const char *s)
{
    return s ? intern(m, s, strlen(s)) : NULL;
}

struct metric_group *metric_result_add(struct metric_result *r, const char *const *dims,
                                       const char *query)
{
    XGROW(r->g, r->n + 1, r->alloc);
    struct metric_group *g = &r->g[r->n++];
    memset(g, 0, sizeof(*g));
    for (unsigned d = 0; d < DIM_COUNT; d++)
        g->dims[d] = dims ? dup_opt(&r->strings, dims[d]) : NULL;
    g->query = dup_opt(&r->strings, query);
    g->first_seen_us = 0;
    return g;
}

static int rec_cmp(const void *a, const void *b)
{
    const struct rec *x = a, *y = b;
    return x->ts < y->ts ? -1 : x->ts > y->ts;
}

static void ensure_sorted(struct mem *m)
{
    if (!m->sorted && m->n > 1)
        qsort(m->v, m->n, sizeof(*m->v), rec_cmp); /* ties keep no order: results are sums */
    m->sorted = true;
}

static size_t lower_bound(const struct mem *m, int64_t ts)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->v[mid].ts < ts)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool in_list(const struct rule_strlist *l, const char *v)
{
    if (!l->n)
        return true;
    if (!v)
        return false;
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i], v))
            return true;
    return false;
}

/* A per-event filter of `where:` (wait_ms, size_bytes, ...): none, or a record with the
 * number (>= 0; -1: absent, which never matches) that satisfies it. */
static bool fact_passes(const struct rule_cond *c, double v)
{
    return c->op == CMP_NONE || (v >= 0 && rule_cond_holds(c, v));
}

static bool rec_matches(const struct rec *r, const struct metric_query *q)
{
    if (!(r->sources & SRC_BIT(q->source)))
        return false;
    if (q->source == RSRC_INGEST)
        return !q->where || in_list(&q->where->in[DIM_INPUT], r->dims[DIM_INPUT]);
    if (q->where) {
        for (unsigned d = 0; d < DIM_COUNT; d++)
            if (!in_list(&q->where->in[d], r->dims[d]))
                return false;
        if (!fact_passes(&q->where->wait_ms, r->wait_ms) ||
            !fact_passes(&q->where->size_bytes, (double)r->size_bytes) ||
            !fact_passes(&q->where->tuples_dead, (double)r->tuples_dead) ||
            !fact_passes(&q->where->setup_ms, r->setup_ms))
            return false;
        /* STEP_NONE's bit is never in the mask: a record without a step never matches. */
        if (q->where->steps && !(q->where->steps & (1u << r->step)))
            return false;
    }
    return true;
}

/* Per-group accumulator. */
struct acc {
    const struct rec *first;
    double count, sum, max, lines, rejects, total_ms;
    double *samples;
    size_t ns, nalloc;
};

static bool same_group(const struct rec *a, const struct rec *b, unsigned mask)
{
    for (unsigned d = 0; d < DIM_COUNT; d++) {
        if (!(mask & (1u << d)))
            continue;
        /* an absent dimension (no database logged) is the empty value, as in labels */
        const char *x = a->dims[d] ? a->dims[d] : "", *y = b->dims[d] ? b->dims[d] : "";
        if (x != y && strcmp(x, y)) /* texts are interned: mostly the same pointer */
            return false;
    }
    return true;
}

static uint64_t group_hash(const struct rec *r, unsigned mask)
{
    uint64_t h = 1469598103934665603ull;
    for (unsigned d = 0; d < DIM_COUNT; d++) {
        if (!(mask & (1u << d)))
            continue;
        for (const char *p = r->dims[d] ? r->dims[d] : ""; *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ull;
        h = (h ^ 0x1f) * 1099511628211ull;
    }
    return h;
}

/* The accumulator of @r's group in an open-addressing table of indexes into *accs. */
static struct acc *find_or_add(size_t **slots, size_t *cap, struct acc **accs, size_t *n,
                               size_t *alloc, const struct rec *r, unsigned mask)
{
    size_t t = (size_t)group_hash(r, mask) & (*cap - 1);

    while ((*slots)[t] != SIZE_MAX) {
        if (same_group((*accs)[(*slots)[t]].first, r, mask))
            return &(*accs)[(*slots)[t]];
        t = (t + 1) & (*cap - 1);
    }
    XGROW(*accs, *n + 1, *alloc);
    memset(&(*accs)[*n], 0, sizeof(**accs));
    (*accs)[*n].first = r;
    (*slots)[t] = (*n)++;
    if (*n * 2 > *cap) {
        size_t ncap = *cap * 2;
        size_t *ns = xmalloc(ncap * sizeof(*ns));
        for (size_t k = 0; k < ncap; k++)
            ns[k] = SIZE_MAX;
        for (size_t g = 0; g < *n; g++) {
            size_t u = (size_t)group_hash((*accs)[g].first, mask) & (ncap - 1);
            while (ns[u] != SIZE_MAX)
                u = (u + 1) & (ncap - 1);
            ns[u] = g;
        }
        free(*slots);
        *slots = ns;
        *cap = ncap;
    }
    return &(*accs)[*n - 1];
}

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* As PostgreSQL's percentile_cont, which the store's percentiles follow (docs/store.md):
 * between the two samples around p * (n - 1), interpolated. */
static double percentile(struct acc *a, double p)
{
    if (!a->ns)
        return 0;
    qsort(a->samples, a->ns, sizeof(double), dbl_cmp);
    double pos = p * (double)(a->ns - 1);
    if (!(pos > 0))
        return a->samples[0];
    size_t lo = (size_t)pos;
    if (lo >= a->ns - 1)
        return a->samples[a->ns - 1];
    double f = pos - (double)lo;
    return a->samples[lo] + (a->samples[lo + 1] - a->samples[lo]) * f;
}

static double sample_of(const struct rec *r, enum rule_metric m)
{
    switch (m) {
    case MET_SUM_SIZE:
    case MET_MAX_SIZE: return r->size_bytes > 0 ? (double)r->size_bytes : 0;
    case MET_SUM_WAIT:
    case MET_MAX_WAIT: return r->wait_ms > 0 ? r->wait_ms : 0;
    default: return r->duration_ms > 0 ? r->duration_ms : 0;
    }
}

/* The lock wait a process is in: its accumulator and the time counted for it. */
struct wait_seen {
    int64_t pid; /* 0: free slot */
    size_t acc;
    double ms;
    int64_t start_us; /* the record's time minus its wait */
};

/* Two records of one process tell of the same wait when the waits began at the same
 * time (the log time and the wait are taken a few µs apart); a later wait begins after
 * the earlier one ended, at least deadlock_timeout after it began. */
#define SAME_WAIT_SLACK_US (100 * 1000)

/* sum(wait_ms): PostgreSQL logs one lock wait several times, each time with the time
 * waited so far: "still waiting for ... after 1000 ms" (deadlock_timeout), maybe
 * "detected deadlock while waiting ... after 1000.2 ms", then "acquired ... after
 * 4000 ms". A lock record of the same process and the same start as the previous one
 * in the window is the same wait, and replaces the time counted for it (4000 ms in all,
 * not 6000.2). Returns the time to take back from accumulator *@prev (none when *@prev
 * is SIZE_MAX). */
static double wait_replaces(struct wait_seen **tab, size_t *cap, size_t *n, const struct rec *r,
                            size_t acc, size_t *prev)
{
    *prev = SIZE_MAX;
    if (r->pid <= 0 || !(r->wait_ms > 0))
        return 0;
    if (!*tab || (*n + 1) * 2 > *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        struct wait_seen *nt = xcalloc(ncap, sizeof(*nt));
        for (size_t i = 0; i < *cap; i++) {
            if (!(*tab)[i].pid)
                continue;
            size_t u = (size_t)(*tab)[i].pid & (ncap - 1);
            while (nt[u].pid)
                u = (u + 1) & (ncap - 1);
            nt[u] = (*tab)[i];
        }
        free(*tab);
        *tab = nt;
        *cap = ncap;
    }
    size_t u = (size_t)r->pid & (*cap - 1);
    while ((*tab)[u].pid && (*tab)[u].pid != r->pid)
        u = (u + 1) & (*cap - 1);
    double back = 0;
    int64_t start = r->ts - (int64_t)(r->wait_ms * 1000.0);
    if (!(*tab)[u].pid) {
        (*n)++;
    } else if (r->wait_ms >= (*tab)[u].ms && start - (*tab)[u].start_us <= SAME_WAIT_SLACK_US &&
               (*tab)[u].start_us - start <= SAME_WAIT_SLACK_US) {
        *prev = (*tab)[u].acc;
        back = (*tab)[u].ms;
    }
    (*tab)[u] = (struct wait_seen){ r->pid, acc, r->wait_ms, start };
    return back;
}

static int mem_query(struct metric_source *ms, const struct metric_query *q,
                     struct metric_result *out, struct diag *d)
{
    struct mem *m = (struct mem *)ms;
    size_t cap = 64, ngroups = 0;
    size_t *slots;
    struct acc *accs = NULL;
    size_t acc_alloc = 0;
    struct wait_seen *waits = NULL;
    size_t wcap = 0, nwaits = 0;

    (void)d;
    ensure_sorted(m);
    slots = xmalloc(cap * sizeof(*slots));
    for (size_t i = 0; i < cap; i++)
        slots[i] = SIZE_MAX;
    for (size_t i = lower_bound(m, q->from_us); i < m->n && m->v[i].ts < q->to_us; i++) {
        const struct rec *r = &m->v[i];
        if (!rec_matches(r, q))
            continue;
        /* A grouped dimension the record lacks (a parallel worker logs no database, a
         * stderr prefix without %e no SQLSTATE) groups it under the empty value: the
         * record still counts, in an instance labelled database="". Only a statement
         * without a fingerprint (no SQL logged) makes no group by fingerprint. */
        if ((q->group_mask & (1u << DIM_FINGERPRINT)) && !r->dims[DIM_FINGERPRINT])
            continue;
        struct acc *a = find_or_add(&slots, &cap, &accs, &ngroups, &acc_alloc, r, q->group_mask);
        double v = sample_of(r, q->metric);
        a->count++;
        a->sum += v;
        if (q->metric == MET_SUM_WAIT) {
            size_t prev;
            double back = wait_replaces(&waits, &wcap, &nwaits, r, (size_t)(a - accs), &prev);
            if (prev != SIZE_MAX)
                accs[prev].sum -= back;
        }
        if (v > a->max)
            a->max = v;
        if (r->duration_ms > 0)
            a->total_ms += r->duration_ms;
        a->rejects += r->rejected;
        a->lines++;
        if (q->metric == MET_P50_MS || q->metric == MET_P95_MS || q->metric == MET_P99_MS) {
            XGROW(a->samples, a->ns + 1, a->nalloc);
            a->samples[a->ns++] = v;
        }
    }
    double minutes = (double)(q->to_us - q->from_us) / (60.0 * (double)USEC_PER_SEC);
    for (size_t g = 0; g < ngroups; g++) {
        struct acc *a = &accs[g];
        const char *dims[DIM_COUNT] = { NULL };
        for (unsigned dd = 0; dd < DIM_COUNT; dd++)
            if (q->group_mask & (1u << dd))
                dims[dd] = a->first->dims[dd];
        struct metric_group *mg = metric_result_add(
            out, dims, (q->group_mask & (1u << DIM_FINGERPRINT)) ? a->first->query : NULL);
        mg->count = a->count;
        mg->total_ms = a->total_ms;
        switch (q->metric) {
        case MET_CALLS:
        case MET_COUNT: mg->value = a->count; break;
        case MET_TOTAL_MS:
        case MET_SUM_SIZE:
        case MET_SUM_WAIT: mg->value = a->sum; break;
        case MET_MEAN_MS: mg->value = a->count ? a->sum / a->count : 0; break;
        case MET_P50_MS: mg->value = percentile(a, 0.50); break;
        case MET_P95_MS: mg->value = percentile(a, 0.95); break;
        case MET_P99_MS: mg->value = percentile(a, 0.99); break;
        case MET_MAX_MS:
        case MET_MAX_SIZE:
        case MET_MAX_WAIT: mg->value = a->max; break;
        case MET_RATE_PER_MIN: mg->value = minutes > 0 ? a->count / minutes : 0; break;
        case MET_LINES: mg->value = a->lines; break;
        case MET_REJECTS: mg->value = a->rejects; break;
        case MET_COUNT_ALL: break;
        }
        free(a->samples);
    }
    free(accs);
    free(slots);
    free(waits);
    return 0;
}

static int mem_seen(struct metric_source *ms, const struct metric_query *q, const char *const *dims,
                    bool *seen, struct diag *d)
{
    struct mem *m = (struct mem *)ms;

    (void)d;
    ensure_sorted(m);
    *seen = false;
    size_t lo = lower_bound(m, q->from_us), hi = lower_bound(m, q->to_us);
    for (size_t i = hi; i > lo; i--) {
        const struct rec *r = &m->v[i - 1];
        if (!rec_matches(r, q))
            continue;
        bool same = true;
        for (unsigned dd = 0; dd < DIM_COUNT && same; dd++)
            if (q->group_mask & (1u << dd))
                same = !strcmp(r->dims[dd] ? r->dims[dd] : "", dims[dd] ? dims[dd] : "");
        if (same) {
            *seen = true;
            return 0;
        }
    }
    return 0;
}

static int mem_bounds(struct metric_source *ms, int64_t *oldest, int64_t *newest, struct diag *d)
{
    struct mem *m = (struct mem *)ms;
    (void)d;
    ensure_sorted(m);
    *oldest = m->n ? m->v[0].ts : 0;
    *newest = m->n ? m->v[m->n - 1].ts : 0;
    return 0;
}

static int mem_next(struct metric_source *ms, int64_t from_us, int64_t *at_us, struct diag *d)
{
    struct mem *m = (struct mem *)ms;
    (void)d;
    ensure_sorted(m);
    size_t k = lower_bound(m, from_us);
    *at_us = k < m->n ? m->v[k].ts : INT64_MAX;
    return 0;
}

static int mem_kinds(struct metric_source *ms, uint64_t *mask, struct diag *d)
{
    (void)d;
    *mask = ((struct mem *)ms)->kinds;
    return 0;
}

static void mem_free(struct metric_source *ms)
{
    struct mem *m = (struct mem *)ms;
    if (!m)
        return;
    free(m->v);
    free(m->texts);
    arena_release(&m->strings);
    free(m);
}

static unsigned mem_sources(struct metric_source *ms)
{
    (void)ms;
    /* plan changes need the store's plan records (plan shapes are made at ingest) */
    return ALL_SRCS & ~SRC_BIT(RSRC_PLANS);
}

struct metric_source *metric_mem_new(void)
{
    struct mem *m = xcalloc(1, sizeof(*m));
    m->ops.query = mem_query;
    m->ops.seen = mem_seen;
    m->ops.bounds = mem_bounds;
    m->ops.kinds_seen = mem_kinds;
    m->ops.sources = mem_sources;
    m->ops.next_data = mem_next;
    m->ops.free = mem_free;
    arena_init(&m->strings, 64 * 1024);
    m->sorted = true;
    return &m->ops;
}

void metric_mem_add(struct metric_source *ms, const struct mem_record *in)
{
    struct mem *m = (struct mem *)ms;
    struct rec r;
    enum event_kind k = EV_OTHER;
    bool known = in->kind && event_kind_from_name(span_cstr(in->kind), &k);

    memset(&r, 0, sizeof(r));
    r.ts = in->ts_us;
    r.kind = known ? (int)k : -1;
    r.duration_ms = in->duration_ms;
    r.wait_ms = in->wait_ms;
    r.size_bytes = in->size_bytes;
    r.tuples_dead = in->tuples_dead;
    r.setup_ms = known && k == EV_CONNECTION_READY && in->setup_ms >= 0 ? in->setup_ms : -1;
    r.rejected = in->rejected;
    r.pid = in->pid > 0 ? in->pid : 0;
    enum event_step st = STEP_NONE;
    if (in->step && event_step_from_name(span_cstr(in->step), &st))
        r.step = (unsigned char)st;
    r.dims[DIM_DATABASE] = intern_str(m, in->database);
    r.dims[DIM_USER] = intern_str(m, in->user);
    r.dims[DIM_APPLICATION] = intern_str(m, in->application);
    r.dims[DIM_FINGERPRINT] = intern_str(m, in->fingerprint);
    r.dims[DIM_SQLSTATE] = intern_str(m, in->sqlstate);
    if (in->sqlstate && strlen(in->sqlstate) >= 2)
        r.dims[DIM_SQLSTATE_CLASS] = intern(m, in->sqlstate, 2);
    r.dims[DIM_SEVERITY] = intern_str(m, in->severity);
    r.dims[DIM_TYPE] = intern_str(m, in->kind);
    r.dims[DIM_INPUT] = intern_str(m, in->input ? in->input : "-");
    r.dims[DIM_CAUSE] = intern_str(m, in->cause);
    r.dims[DIM_RELATION] = intern_str(m, in->relation);
    r.query = intern_str(m, in->query);
    r.sources = SRC_BIT(RSRC_INGEST);
    if (!in->rejected) {
        if (known && k == EV_DURATION && in->duration_ms >= 0)
            r.sources |= SRC_BIT(RSRC_QUERIES);
        else if (known && k != EV_STATEMENT && k != EV_PLAN && k != EV_DURATION)
            r.sources |= SRC_BIT(RSRC_EVENTS);
        if (in->severity && (!strcmp(in->severity, "ERROR") || !strcmp(in->severity, "FATAL") ||
                             !strcmp(in->severity, "PANIC")))
            r.sources |= SRC_BIT(RSRC_ERRORS);
        if (known)
            m->kinds |= UINT64_C(1) << k;
    }
    XGROW(m->v, m->n + 1, m->alloc);
    if (m->n && r.ts < m->v[m->n - 1].ts)
        m->sorted = false;
    m->v[m->n++] = r;
}

size_t metric_mem_count(const struct metric_source *ms)
{
    return ((const struct mem *)ms)->n;
}

size_t metric_mem_texts(const struct metric_source *ms)
{
    return ((const struct mem *)ms)->ntexts;
}

void metric_mem_drop_before(struct metric_source *ms, int64_t ts_us)
{
    struct mem *m = (struct mem *)ms;
    ensure_sorted(m);
    size_t k = lower_bound(m, ts_us);
    if (k)
        memmove(m->v, m->v + k, (m->n - k) * sizeof(*m->v));
    m->n -= k;
}

void metric_mem_clear(struct metric_source *ms)
{
    struct mem *m = (struct mem *)ms;
    m->n = 0;
    m->sorted = true;
    m->kinds = 0;
    m->ntexts = 0;
    if (m->text_cap)
        memset(m->texts, 0, m->text_cap * sizeof(*m->texts));
    arena_reset(&m->strings);
}

static const char *jget(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static double jnum(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : -1;
}

/* `pgsift parse` prints the facts classify/ read from a record's text (since schema 17's
 * pgsift; docs/formats.md), but NDJSON from an older one, or written by hand, may have
 * the text alone: a lock wait's time ("... after 6000.5 ms"), a temporary file's size
 * ("..., size 1048576"), the step of a record that starts or ends an occurrence
 * ("checkpoint starting:" / "checkpoint complete:"), a cause, an autovacuum's table and
 * dead tuples are then read back from the message, as the store has them. */
struct text_bufs {
    char cause[64];
    char relation[256]; /* 3 names of at most 63 bytes, their dots and quotes */
};

static void facts_from_text(json_t *o, struct mem_record *r, struct text_bufs *b)
{
    struct event ev;
    const char *msg = jget(o, "message");

    if (!msg || !r->kind)
        return;
    bool wait = !strcmp(r->kind, "lock_wait") || !strcmp(r->kind, "lock_acquired");
    bool temp = !strcmp(r->kind, "temp_file");
    /* The kinds classify/ gives a step (checkpoint, restartpoint, lock waits, shutdown). */
    bool step = !json_object_get(o, "step") &&
                (wait || !strcmp(r->kind, "checkpoint") || !strcmp(r->kind, "shutdown"));
    /* ... and a cause (classify.md: timeouts, cancellations, checkpoints ...), for the
     * records of source events only (a statement's or duration's cause is no rule's:
     * the bulk of a log is not classified again). */
    bool cause = !r->cause && strcmp(r->kind, "duration") && strcmp(r->kind, "statement") &&
                 strcmp(r->kind, "plan");
    bool vacuum = !strcmp(r->kind, "autovacuum");
    bool vac = (vacuum || !strcmp(r->kind, "autoanalyze")) &&
               (!r->relation || (vacuum && r->tuples_dead < 0));
    bool ready = !strcmp(r->kind, "connection_ready") && !(r->setup_ms >= 0);
    if (!(wait && r->wait_ms < 0) && !(temp && r->size_bytes < 0) && !step && !cause && !vac &&
        !ready)
        return;
    event_clear(&ev);
    const char *sev = jget(o, "severity"), *st = jget(o, "sqlstate");
    if (sev)
        severity_from_name(span_cstr(sev), &ev.severity);
    if (st && strlen(st) == 5)
        memcpy(ev.sqlstate, st, 6);
    ev.message = span_cstr(msg);
    if (jget(o, "detail"))
        ev.detail = span_cstr(jget(o, "detail"));
    if (jget(o, "context"))
        ev.context = span_cstr(jget(o, "context"));
    classify_event(&ev, NULL);
    if (wait && ev.facts.wait_ms >= 0)
        r->wait_ms = ev.facts.wait_ms;
    if (temp && ev.facts.temp_bytes >= 0)
        r->size_bytes = ev.facts.temp_bytes;
    if (step && !strcmp(event_kind_name(ev.kind), r->kind) && ev.facts.step != STEP_NONE)
        r->step = event_step_name(ev.facts.step); /* static text */
    bool same = !strcmp(event_kind_name(ev.kind), r->kind);
    if (cause && same && ev.facts.cause.len && ev.facts.cause.len < sizeof(b->cause)) {
        memcpy(b->cause, ev.facts.cause.p, ev.facts.cause.len);
        b->cause[ev.facts.cause.len] = '\0';
        r->cause = b->cause;
    }
    if (vac && same && !r->relation && ev.facts.relation.p &&
        ev.facts.relation.len < sizeof(b->relation)) {
        memcpy(b->relation, ev.facts.relation.p, ev.facts.relation.len);
        b->relation[ev.facts.relation.len] = '\0';
        r->relation = b->relation;
    }
    if (vac && same && vacuum && r->tuples_dead < 0)
        r->tuples_dead = ev.facts.tuples_dead;
    if (ready && same)
        r->setup_ms = ev.facts.setup_ms;
}

int metric_mem_load_ndjson(struct metric_source *ms, const char *path, struct diag *d)
{
    struct normalizer *nz = NULL;
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    char *line = NULL;
    size_t cap = 0;
    unsigned long lineno = 0;
    int rc = 0;

    if (!f)
        return diag_errno(d, DIAG_IO, errno, "cannot open '%s'", path);
    while (getline(&line, &cap, f) > 0) {
        lineno++;
        struct span s = span_trim(span_cstr(line));
        if (!s.len || s.p[0] == '#')
            continue;
        json_error_t je;
        /* a text with a NUL byte is written "\u0000", valid JSON that jansson refuses
         * unless told */
        json_t *o = json_loadb(s.p, s.len, JSON_ALLOW_NUL, &je);
        struct mem_record r;
        memset(&r, 0, sizeof(r));
        if (!o || !json_is_object(o)) {
            rc = diag_set(d, DIAG_USAGE, "%s:%lu: not a JSON object (%s)", path, lineno,
                          o ? "another JSON value" : je.text);
            json_decref(o);
            break;
        }
        const char *ts = jget(o, "ts");
        if (!ts || !clock_parse_rfc3339(span_cstr(ts), &r.ts_us)) {
            rc = diag_set(d, DIAG_USAGE, "%s:%lu: missing or invalid \"ts\" (RFC 3339 expected)",
                          path, lineno);
            json_decref(o);
            break;
        }
        char input[512] = "";
        const char *src = jget(o, "src");
        r.input = jget(o, "input");
        if (!r.input && src) { /* "path:line": the path (which may hold a ':') */
            const char *colon = strrchr(src, ':');
            snprintf(input, sizeof(input), "%.*s",
                     (int)(colon ? colon - src : (ptrdiff_t)strlen(src)), src);
            r.input = input;
        }
        r.kind = jget(o, "kind");
        r.severity = jget(o, "severity");
        r.database = jget(o, "database");
        r.user = jget(o, "user");
        r.application = jget(o, "application");
        r.sqlstate = jget(o, "sqlstate");
        r.fingerprint = jget(o, "fingerprint");
        r.query = jget(o, "normalized");
        /* The SQL of the record is tenant data: only its canonical text ($n for every
         * constant) and fingerprint are kept, computed here when the line lacks them. */
        const char *sql = jget(o, "query");
        char fphex[17];
        if (!sql)
            sql = jget(o, "statement");
        if (sql && (!r.query || !r.fingerprint)) {
            struct norm_result nr;
            if (!nz)
                nz = normalize_new(NULL);
            normalize_fingerprint(nz, span_cstr(sql), &nr);
            if (!(nr.flags & NORM_EMPTY)) {
                if (!r.fingerprint) {
                    normalize_fp_hex(nr.fingerprint, fphex);
                    r.fingerprint = fphex;
                }
                if (!r.query)
                    r.query = nr.canonical.p;
            }
        }
        r.duration_ms = jnum(o, "duration_ms");
        r.wait_ms = jnum(o, "wait_ms");
        double sz = jnum(o, "size_bytes");
        if (sz < 0)
            sz = jnum(o, "temp_bytes");
        r.size_bytes = sz < 0 ? -1 : (int64_t)sz;
        r.step = jget(o, "step");
        r.cause = jget(o, "cause");
        r.relation = jget(o, "relation");
        double dead = jnum(o, "tuples_dead");
        r.tuples_dead = dead < 0 ? -1 : (int64_t)dead;
        r.setup_ms = jnum(o, "setup_ms");
        r.rejected = json_is_true(json_object_get(o, "rejected"));
        struct text_bufs bufs;
        facts_from_text(o, &r, &bufs);
        json_t *pid = json_object_get(o, "pid");
        r.pid = json_is_integer(pid) ? (int64_t)json_integer_value(pid) : 0;
        const char *phase = jget(o, "phase");
        if (phase && (!strcmp(phase, "parse") || !strcmp(phase, "bind")))
            r.duration_ms = -1; /* only the execute step is a call */
        metric_mem_add(ms, &r);
        json_decref(o);
    }
    free(line);
    normalize_free(nz);
    if (f != stdin)
        fclose(f);
    return rc;
}
