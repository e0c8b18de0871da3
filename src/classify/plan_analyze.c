/* SPDX-License-Identifier: MIT */
/*
 * plan_analyze.c - the public entry points of the plan modules (classify.h): one plan
 * body to a plan_analysis, and the advisor that merges index suggestions over many
 * plans.
 */
#include <stdlib.h>
#include <string.h>

#include "classify/classify_int.h"
#include "classify/plan.h"
#include "core/sbuf.h"
#define XXH_INLINE_ALL
#include <xxhash.h>
#include "core/xalloc.h"

/* The one-line display shape: labels in pre-order, children in parentheses when a node
 * has several ("Hash Join (Seq Scan on corr c, Hash > Seq Scan on events e)"), " > "
 * down a single chain. Cut at @max bytes with "...". */
static void display_shape(const struct plan *p, struct sbuf *out, size_t max)
{
    uint32_t i = p->n_nodes ? 0 : PLAN_NONE_IDX;
    int rc = 0;

    sbuf_reset(out);
    while (i != PLAN_NONE_IDX && out->len < max) {
        const struct plan_node *n = &p->nodes[i];
        rc |= plan_node_label(n, out);
        if (n->first_child != PLAN_NONE_IDX) {
            bool several = p->nodes[n->first_child].next_sibling != PLAN_NONE_IDX;
            rc |= sbuf_addstr(out, several ? " (" : " > ");
            i = n->first_child;
            continue;
        }
        while (i != PLAN_NONE_IDX && p->nodes[i].next_sibling == PLAN_NONE_IDX) {
            i = p->nodes[i].parent;
            if (i != PLAN_NONE_IDX &&
                p->nodes[p->nodes[i].first_child].next_sibling != PLAN_NONE_IDX)
                rc |= sbuf_addch(out, ')');
        }
        if (i != PLAN_NONE_IDX) {
            rc |= sbuf_addstr(out, ", ");
            i = p->nodes[i].next_sibling;
        }
    }
    if (out->len > max) {
        size_t cut = max;
        while (cut > 0 && ((unsigned char)out->buf[cut] & 0xC0) == 0x80)
            cut--;
        sbuf_setlen(out, cut);
        rc |= sbuf_addstr(out, "...");
    } else if (i != PLAN_NONE_IDX) {
        rc |= sbuf_addstr(out, "...");
    }
    (void)rc;
}

/* What plan_analyze() gives before the insights, from the parse of @body in @a. */
static int analyze_tree(struct plan *p, struct span body, enum plan_format fmt, struct arena *a,
                        struct plan_analysis *out)
{
    struct sbuf sb = SBUF_INIT;

    memset(out, 0, sizeof(*out));
    out->format = fmt;
    out->total_ms = -1;
    if (plan_parse(p, fmt, body, a) < 0) {
        out->reason = p->error ? p->error : "not a plan";
        out->query = p->query;
        return -1;
    }
    out->parsed = true;
    out->reason = p->error; /* parsed in part */
    out->truncated = p->truncated;
    out->analyzed = p->analyzed;
    out->timing = p->timing;
    out->buffers = p->buffers;
    out->query = p->query;
    out->nodes = p->n_nodes;
    out->unknown_lines = p->unknown_lines;
    out->total_ms = plan_node_ms(&p->nodes[0]);
    out->fingerprint = plan_shape(p, &sb);
    display_shape(p, &sb, 480);
    out->shape = arena_dup(a, sb.buf, sb.len);
    sbuf_release(&sb);
    return 0;
}

void plan_analyze(struct span body, enum plan_format fmt, double duration_ms, struct arena *a,
                  struct plan_analysis *out)
{
    struct plan p;

    if (analyze_tree(&p, body, fmt, a, out) < 0)
        return;
    plan_insights(&p, duration_ms, a, out);
    plan_index_advice(&p, a, out);
}

/* ---------------------------------------------------------------- memo */

#define PLAN_MEMO_BYTES    ((size_t)16 << 20) /* arena bytes (body copies and trees), at most */
#define PLAN_MEMO_PLANS    4096u              /* bodies, at most (a power of two) */
#define PLAN_MEMO_MAX_BODY ((size_t)1 << 20)  /* larger bodies are not kept */

struct memo_entry {
    uint64_t hash;
    struct span body; /* copy in arena */
    enum plan_format fmt;
    int rc;
    struct plan p;             /* parsed from body, strings in arena */
    struct plan_analysis base; /* analyze_tree()'s result, spans in arena */
    bool fixed;                /* insights do not depend on the duration: */
    bool have_insights;        /* ... and these are they (copies in arena) */
    struct plan_insight *insights;
    size_t n_insights;
};

struct plan_memo {
    struct arena arena;
    void (*insights)(const struct plan *, double, struct arena *, struct plan_analysis *);
    struct memo_entry *e;
    uint32_t n;
    uint32_t slots[2 * PLAN_MEMO_PLANS]; /* index + 1 into e; 0: empty */
};

struct plan_memo *plan_memo_new(void)
{
    struct plan_memo *m = xcalloc(1, sizeof(*m));
    arena_init(&m->arena, 256 * 1024);
    m->e = xcalloc(PLAN_MEMO_PLANS, sizeof(*m->e));
    m->insights = plan_insights;
    return m;
}

void plan_memo_kinds_only(struct plan_memo *m)
{
    m->insights = plan_insight_kinds;
}

void plan_memo_free(struct plan_memo *m)
{
    if (!m)
        return;
    arena_release(&m->arena);
    free(m->e);
    free(m);
}

static struct span keep_span(struct arena *a, struct span s)
{
    return s.p ? arena_dup(a, s.p, s.len) : s;
}

size_t plan_memo_count(const struct plan_memo *m)
{
    return m->n;
}

static void memo_clear(struct plan_memo *m)
{
    arena_reset(&m->arena);
    m->n = 0;
    memset(m->slots, 0, sizeof(m->slots));
}

/*
 * Whether @body carries the run's own actual times (log_analyze with log_timing): such a
 * text differs from run to run, so a real log never repeats it and keeping it would only
 * cost memory. (A benchmark that concatenates one log many times repeats every text; the
 * memo must not make it look faster than a real log of that size would be.) The words
 * are EXPLAIN's: "actual time=" (text), "Actual Total Time" (JSON, YAML),
 * "Actual-Total-Time" (XML). A query text that happens to contain them only makes its
 * plan uncached; the result is the same either way.
 */
bool plan_memo_keep_per_run;

static bool per_run_text(struct span body, enum plan_format fmt)
{
    if (plan_memo_keep_per_run)
        return false;
    switch (fmt) {
    case PLAN_TEXT: return span_find(body, 0, SPAN_LIT("actual time=")) >= 0;
    case PLAN_XML: return span_find(body, 0, SPAN_LIT("Actual-Total-Time")) >= 0;
    default: return span_find(body, 0, SPAN_LIT("Actual Total Time")) >= 0;
    }
}

void plan_analyze_memo(struct plan_memo *m, struct span body, enum plan_format fmt,
                       double duration_ms, struct arena *a, struct plan_analysis *out)
{
    if (body.len > PLAN_MEMO_MAX_BODY || !body.p || per_run_text(body, fmt)) {
        struct plan p;
        if (analyze_tree(&p, body, fmt, a, out) == 0)
            m->insights(&p, duration_ms, a, out);
        return;
    }
    uint64_t h = XXH3_64bits_withSeed(body.p, body.len, (uint64_t)fmt);
    uint32_t mask = 2 * PLAN_MEMO_PLANS - 1, i = (uint32_t)h & mask;
    struct memo_entry *e = NULL;
    for (; m->slots[i]; i = (i + 1) & mask) {
        struct memo_entry *x = &m->e[m->slots[i] - 1];
        if (x->hash == h && x->fmt == fmt && span_eq(x->body, body)) {
            e = x;
            break;
        }
    }
    if (!e) {
        if (m->n == PLAN_MEMO_PLANS || m->arena.used > PLAN_MEMO_BYTES) {
            memo_clear(m);
            for (i = (uint32_t)h & mask; m->slots[i]; i = (i + 1) & mask)
                ;
        }
        e = &m->e[m->n];
        e->hash = h;
        e->fmt = fmt;
        e->body = arena_dup(&m->arena, body.p, body.len);
        e->rc = analyze_tree(&e->p, e->body, fmt, &m->arena, &e->base);
        e->fixed = e->rc == 0 && !plan_insights_use_duration(&e->p);
        e->have_insights = false;
        m->slots[i] = ++m->n;
    }
    *out = e->base;
    if (e->rc < 0)
        return;
    if (e->have_insights) {
        out->insights = e->insights;
        out->n_insights = e->n_insights;
        return;
    }
    m->insights(&e->p, duration_ms, a, out);
    if (e->fixed) { /* kept for the next records of this body */
        e->n_insights = out->n_insights;
        e->insights = arena_alloc(&m->arena, (out->n_insights + 1) * sizeof(*e->insights));
        for (size_t k = 0; k < out->n_insights; k++) {
            struct plan_insight in = out->insights[k];
            in.node = keep_span(&m->arena, in.node);
            in.explanation = keep_span(&m->arena, in.explanation);
            in.evidence = keep_span(&m->arena, in.evidence);
            e->insights[k] = in;
        }
        e->have_insights = true;
    }
}

/* ---------------------------------------------------------------- advisor */

struct known_index {
    char *relation, *columns;
};

struct plan_advisor {
    struct plan_advice *items;
    size_t n, alloc;
    struct known_index *known;
    size_t nknown, alloc_known;
    bool done;
    struct plan_advice *out;
    size_t nout;
};

struct plan_advisor *plan_advisor_new(void)
{
    return xcalloc(1, sizeof(struct plan_advisor));
}

static bool eq_span_str(struct span s, const char *c)
{
    return strlen(c) == s.len && memcmp(c, s.p, s.len) == 0;
}

void plan_advisor_add(struct plan_advisor *adv, const struct plan_analysis *pa, uint64_t query_fp,
                      double calls)
{
    if (calls <= 0)
        calls = 1;
    for (size_t i = 0; i < pa->n_indexes; i++) {
        const struct plan_index_use *u = &pa->indexes[i];
        bool dup = false;
        for (size_t k = 0; k < adv->nknown && !dup; k++)
            dup = eq_span_str(u->relation, adv->known[k].relation) &&
                  eq_span_str(u->columns, adv->known[k].columns);
        if (dup)
            continue;
        XGROW(adv->known, adv->nknown + 1, adv->alloc_known);
        adv->known[adv->nknown].relation = xmemdupz(u->relation.p, u->relation.len);
        adv->known[adv->nknown].columns = xmemdupz(u->columns.p, u->columns.len);
        adv->nknown++;
    }
    for (size_t i = 0; i < pa->n_suggestions; i++) {
        const struct plan_index_suggestion *s = &pa->suggestions[i];
        struct plan_advice *it = NULL;
        for (size_t k = 0; k < adv->n && !it; k++)
            if (eq_span_str(s->relation, adv->items[k].relation) &&
                eq_span_str(s->columns, adv->items[k].columns))
                it = &adv->items[k];
        if (!it) {
            XGROW(adv->items, adv->n + 1, adv->alloc);
            it = &adv->items[adv->n++];
            memset(it, 0, sizeof(*it));
            it->relation = xmemdupz(s->relation.p, s->relation.len);
            it->columns = xmemdupz(s->columns.p, s->columns.len);
            it->ddl = xmemdupz(s->ddl.p, s->ddl.len);
            it->evidence = xmemdupz(s->evidence.p, s->evidence.len);
            it->saving_ms = -1;
        }
        it->calls += calls;
        if (s->saving_ms >= 0)
            it->saving_ms = (it->saving_ms < 0 ? 0 : it->saving_ms) + s->saving_ms * calls;
        if (s->rows_read > it->rows_read) {
            it->rows_read = s->rows_read;
            it->rows_returned = s->rows_returned;
            free(it->evidence);
            it->evidence = xmemdupz(s->evidence.p, s->evidence.len);
        }
        bool seen = false;
        for (size_t k = 0; k < it->n_queries && k < ARRAY_SIZE(it->query_fps) && !seen; k++)
            seen = it->query_fps[k] == query_fp;
        if (!seen) {
            if (it->n_queries < ARRAY_SIZE(it->query_fps))
                it->query_fps[it->n_queries] = query_fp;
            it->n_queries++;
        }
    }
    adv->done = false;
}

/* An index known from some plan whose Index Cond columns start with @columns. */
static bool known_covers(const struct plan_advisor *adv, const char *relation, const char *columns)
{
    size_t cl = strlen(columns);

    for (size_t k = 0; k < adv->nknown; k++) {
        const struct known_index *ki = &adv->known[k];
        if (strcmp(ki->relation, relation) != 0 || strncmp(ki->columns, columns, cl) != 0)
            continue;
        if (ki->columns[cl] == '\0' || ki->columns[cl] == ',')
            return true;
    }
    return false;
}

static int by_saving(const void *a, const void *b)
{
    const struct plan_advice *x = a, *y = b;

    if (x->saving_ms != y->saving_ms)
        return x->saving_ms > y->saving_ms ? -1 : 1;
    if (x->calls != y->calls)
        return x->calls > y->calls ? -1 : 1;
    return strcmp(x->ddl, y->ddl);
}

size_t plan_advisor_result(struct plan_advisor *adv, const struct plan_advice **out)
{
    if (!adv->done) {
        free(adv->out);
        adv->out = adv->n ? xmalloc(adv->n * sizeof(*adv->out)) : NULL;
        adv->nout = 0;
        for (size_t i = 0; i < adv->n; i++)
            if (!known_covers(adv, adv->items[i].relation, adv->items[i].columns))
                adv->out[adv->nout++] = adv->items[i];
        /* An index on (a, b) also serves the queries that asked for (a): fold a suggestion
         * into a longer one on the same relation that starts with its columns. */
        for (size_t i = 0; i < adv->nout; i++) {
            struct plan_advice *shorter = &adv->out[i];
            size_t cl = strlen(shorter->columns);
            for (size_t j = 0; j < adv->nout; j++) {
                struct plan_advice *longer = &adv->out[j];
                if (j == i || strcmp(shorter->relation, longer->relation) != 0 ||
                    strncmp(longer->columns, shorter->columns, cl) != 0 ||
                    longer->columns[cl] != ',')
                    continue;
                longer->calls += shorter->calls;
                if (shorter->saving_ms >= 0)
                    longer->saving_ms =
                        (longer->saving_ms < 0 ? 0 : longer->saving_ms) + shorter->saving_ms;
                for (size_t q = 0; q < shorter->n_queries && q < ARRAY_SIZE(shorter->query_fps);
                     q++) {
                    bool seen = false;
                    for (size_t r = 0;
                         r < longer->n_queries && r < ARRAY_SIZE(longer->query_fps) && !seen; r++)
                        seen = longer->query_fps[r] == shorter->query_fps[q];
                    if (seen)
                        continue;
                    if (longer->n_queries < ARRAY_SIZE(longer->query_fps))
                        longer->query_fps[longer->n_queries] = shorter->query_fps[q];
                    longer->n_queries++;
                }
                adv->out[i] = adv->out[--adv->nout];
                i--;
                break;
            }
        }
        if (adv->nout > 1)
            qsort(adv->out, adv->nout, sizeof(*adv->out), by_saving);
        adv->done = true;
    }
    *out = adv->out;
    return adv->nout;
}

void plan_advisor_free(struct plan_advisor *adv)
{
    if (!adv)
        return;
    for (size_t i = 0; i < adv->n; i++) {
        free(adv->items[i].relation);
        free(adv->items[i].columns);
        free(adv->items[i].ddl);
        free(adv->items[i].evidence);
    }
    for (size_t k = 0; k < adv->nknown; k++) {
        free(adv->known[k].relation);
        free(adv->known[k].columns);
    }
    free(adv->items);
    free(adv->known);
    free(adv->out);
    free(adv);
}
