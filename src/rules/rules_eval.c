/* SPDX-License-Identifier: MIT */
/*
 * rules_eval - one rule at one minute boundary t of event time: read the metric source,
 * decide the condition per group. No state here: alert_step() and the engine do that.
 *
 *   threshold        metric over [t - window, t) per group, compared with the condition
 *   baseline         the same over [t - exclude - baseline.window, t - exclude); ratio,
 *                    min_delta, min_calls on both sides
 *   new_fingerprint  groups of [t - window, t) not seen in [t - window - lookback,
 *                    t - window)
 *   event            any matching record in [t - every, t)
 *   absence          inputs with lines in [t - window - lookback, t - window): lines in
 *                    the window (0 when none) compared with the condition
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/xalloc.h"
#include "rules/alertdb_int.h"
#include "rules/deliver_int.h"

void eval_out_init(struct eval_out *o)
{
    memset(o, 0, sizeof(*o));
    arena_init(&o->strings, 16 * 1024);
}

void eval_out_reset(struct eval_out *o)
{
    o->n = 0;
    o->dropped = 0;
    arena_reset(&o->strings);
}

void eval_out_release(struct eval_out *o)
{
    free(o->v);
    arena_release(&o->strings);
    memset(o, 0, sizeof(*o));
}

static unsigned group_mask(const struct rule *r)
{
    unsigned m = 0;
    for (size_t i = 0; i < r->ngroup_by; i++)
        m |= 1u << r->group_by[i];
    return m;
}

void eval_item_labels(const struct rule *r, const char *const *dims, struct eval_item *it,
                      struct arena *a)
{
    it->nlabels = 0;
    it->labels[it->nlabels++] = (struct rule_label){ "rule", r->name };
    for (size_t i = 0; i < r->ngroup_by; i++) {
        const char *v = dims[r->group_by[i]];
        it->labels[it->nlabels++] = (struct rule_label){ rule_dim_name(r->group_by[i]),
                                                         v ? arena_dup(a, v, strlen(v)).p : "" };
    }
    for (size_t i = 0; i < r->nlabels; i++)
        it->labels[it->nlabels++] = r->labels[i];
    alert_labels_sort(it->labels, it->nlabels);
    alert_key_hex(it->labels, it->nlabels, it->key);
}

static struct eval_item *add_item(struct eval_out *o, const struct rule *r,
                                  const struct metric_group *g)
{
    if (o->n >= SIFT_MAX_INSTANCES_PER_RULE) {
        o->dropped++;
        return NULL;
    }
    XGROW(o->v, o->n + 1, o->alloc);
    struct eval_item *it = &o->v[o->n++];
    memset(it, 0, sizeof(*it));
    eval_item_labels(r, g->dims, it, &o->strings);
    it->value = g->value;
    it->calls = g->count;
    it->query = g->query ? arena_dup(&o->strings, g->query, strlen(g->query)).p : NULL;
    return it;
}

static bool enough(const struct rule *r, const struct metric_group *g)
{
    if (r->where.min_calls > 0 && g->count < (double)r->where.min_calls)
        return false;
    if (r->where.min_total_ms > 0 && g->total_ms < r->where.min_total_ms)
        return false;
    return true;
}

static bool same_dims(const struct metric_group *a, const struct metric_group *b, unsigned mask)
{
    for (unsigned d = 0; d < DIM_COUNT; d++) {
        if (!(mask & (1u << d)))
            continue;
        const char *x = a->dims[d] ? a->dims[d] : "", *y = b->dims[d] ? b->dims[d] : "";
        if (strcmp(x, y))
            return false;
    }
    return true;
}

void eval_cache_release(struct eval_cache *c)
{
    for (size_t i = 0; i < c->n; i++)
        metric_result_release(&c->v[i].res);
    free(c->v);
    memset(c, 0, sizeof(*c));
}

struct eval_cache *eval_cache_new(void)
{
    return xcalloc(1, sizeof(struct eval_cache));
}

void eval_cache_free(struct eval_cache *c)
{
    if (!c)
        return;
    eval_cache_release(c);
    free(c);
}

#define HOUR_US (INT64_C(3600) * USEC_PER_SEC)
#define DAY_US  (INT64_C(86400) * USEC_PER_SEC)

/* Align a long look-back [to - span, to) to the whole hour at or before @to. */
static void align_long(int64_t span, int64_t *from, int64_t *to)
{
    if (span < DAY_US)
        return;
    int64_t end = *to - (((*to % HOUR_US) + HOUR_US) % HOUR_US);
    *from -= *to - end;
    *to = end;
}

/* Run @q, or return the cached result of the same rule and period. The returned result
 * is owned by the cache (or is @tmp when there is no cache). */
static const struct metric_result *cached_query(struct metric_source *ms,
                                                const struct metric_query *q, const struct rule *r,
                                                struct eval_cache *c, struct metric_result *tmp,
                                                struct diag *d)
{
    if (!c) {
        return ms->query(ms, q, tmp, d) < 0 ? NULL : tmp;
    }
    for (size_t i = 0; i < c->n; i++) {
        struct eval_cache_entry *e = &c->v[i];
        if (e->r != r)
            continue;
        if (e->from == q->from_us && e->to == q->to_us)
            return &e->res;
        metric_result_reset(&e->res); /* the rule moved on: reuse the entry */
        e->from = q->from_us;
        e->to = q->to_us;
        if (ms->query(ms, q, &e->res, d) < 0) {
            e->from = e->to = 0;
            return NULL;
        }
        return &e->res;
    }
    XGROW(c->v, c->n + 1, c->alloc);
    struct eval_cache_entry *e = &c->v[c->n++];
    e->r = r;
    e->from = q->from_us;
    e->to = q->to_us;
    metric_result_init(&e->res);
    if (ms->query(ms, q, &e->res, d) < 0) {
        e->from = e->to = 0;
        return NULL;
    }
    return &e->res;
}

/* Event rules on plan changes. The matching "events" of [t - every, t) are the changes of
 * a query's dominant plan that match the rule (`slower_by`, `min_calls` on either side,
 * computed from the plan records before t) and did not as of t - every; the source
 * reports one group per (database, fingerprint) with the newest of them. Like any event
 * rule the instance fires at once and resolves `resolve_after` after the last match. */
static int eval_plans(const struct rule *r, struct metric_source *ms, struct metric_query *q,
                      int64_t t, struct metric_result *scratch, struct eval_out *out,
                      struct diag *d)
{
    q->metric = MET_COUNT;
    q->from_us = t - r->every_us;
    q->lookback_us = r->lookback_us;
    if (ms->query(ms, q, scratch, d) < 0)
        return -1;
    for (size_t i = 0; i < scratch->n; i++) {
        const struct metric_group *g = &scratch->g[i];
        double need = r->where.min_calls > 0 ? (double)r->where.min_calls : 0;
        struct eval_item *it = add_item(out, r, g);
        if (!it)
            continue;
        it->has_plan = true;
        it->from_plan = g->from_plan;
        it->to_plan = g->to_plan;
        it->changed_at_us = g->changed_at_us;
        it->before_ms = g->before_ms;
        it->after_ms = g->after_ms;
        it->calls_before = g->calls_before;
        it->calls_after = g->calls_after;
        it->calls = g->calls_after;
        it->ratio = g->value;
        it->baseline = g->before_ms;
        /* the source applied the rule's where; checked again so a source that did not
         * cannot fire an alert the rule excludes */
        it->cond = g->count >= 1 && g->calls_before >= need && g->calls_after >= need &&
                   (r->where.slower_by <= 0 || (g->value > 0 && g->value >= r->where.slower_by));
    }
    return 0;
}

/* Counts and sums grow with the length of what they are taken over (a mean, a percentile,
 * a maximum or a rate does not). */
static bool metric_additive(enum rule_metric m)
{
    return m == MET_CALLS || m == MET_TOTAL_MS || m == MET_COUNT || m == MET_SUM_SIZE ||
           m == MET_SUM_WAIT || m == MET_LINES || m == MET_REJECTS;
}

int eval_rule_at(const struct rule *r, struct metric_source *ms, int64_t t,
                 struct metric_result *scratch, struct eval_cache *cache, struct eval_out *out,
                 struct diag *d)
{
    struct metric_query q = {
        .source = r->source,
        .metric = r->metric,
        .from_us = t - r->window_us,
        .to_us = t,
        .group_mask = group_mask(r),
        .where = &r->where,
    };

    eval_out_reset(out);
    metric_result_reset(scratch);
    switch (r->kind) {
    case RULE_EVENT:
        if (r->source == RSRC_PLANS)
            return eval_plans(r, ms, &q, t, scratch, out, d);
        FALLTHROUGH;
    case RULE_THRESHOLD:
        if (r->kind == RULE_EVENT) {
            q.metric = MET_COUNT;
            q.from_us = t - r->every_us;
        }
        if (ms->query(ms, &q, scratch, d) < 0)
            return -1;
        /* Groups whose condition holds first: beyond SIFT_MAX_INSTANCES_PER_RULE groups,
         * those dropped are ones that would not fire (a hog with few calls among
         * thousands of busier statements still fires). */
        for (int pass = 0; pass < 2; pass++) {
            for (size_t i = 0; i < scratch->n; i++) {
                const struct metric_group *g = &scratch->g[i];
                if (!enough(r, g))
                    continue;
                bool cond =
                    r->kind == RULE_EVENT ? g->count >= 1 : rule_cond_holds(&r->cond, g->value);
                if (cond != (pass == 0))
                    continue;
                struct eval_item *it = add_item(out, r, g);
                if (it)
                    it->cond = cond;
            }
        }
        return 0;
    case RULE_BASELINE: {
        struct metric_result tmp;
        metric_result_init(&tmp);
        struct metric_query bq = q;
        bq.from_us = t - r->baseline_exclude_us - r->baseline_window_us;
        bq.to_us = t - r->baseline_exclude_us;
        align_long(r->baseline_window_us, &bq.from_us, &bq.to_us);
        const struct metric_result *base;
        if (ms->query(ms, &q, scratch, d) < 0 ||
            !(base = cached_query(ms, &bq, r, cache, &tmp, d))) {
            metric_result_release(&tmp);
            return -1;
        }
        for (size_t i = 0; i < scratch->n; i++) {
            const struct metric_group *g = &scratch->g[i];
            const struct metric_group *b = NULL;
            if (!enough(r, g) || g->count < (double)r->min_calls)
                continue;
            for (size_t j = 0; j < base->n && !b; j++)
                if (same_dims(g, &base->g[j], q.group_mask))
                    b = &base->g[j];
            if (!b || b->count < (double)r->baseline_min_calls || b->value <= 0)
                continue; /* new or rare: no baseline to compare with */
            struct eval_item *it = add_item(out, r, g);
            if (!it)
                continue;
            /* A count or a sum over the baseline period is brought to the window's length
             * (the same rate): a day's calls against an hour's would always look "fewer"
             * (QA 21c). */
            double base_v = b->value;
            if (metric_additive(r->metric) && bq.to_us > bq.from_us)
                base_v = b->value * (double)(q.to_us - q.from_us) / (double)(bq.to_us - bq.from_us);
            struct rule_cond rc = { r->ratio_op, r->ratio_min };
            it->baseline = base_v;
            it->has_baseline = true;
            it->ratio = g->value / base_v;
            bool up = r->ratio_op == CMP_GT || r->ratio_op == CMP_GE;
            double delta = up ? g->value - base_v : base_v - g->value;
            it->cond = rule_cond_holds(&rc, it->ratio) && delta >= r->min_delta;
        }
        metric_result_release(&tmp);
        return 0;
    }
    case RULE_NEW_FINGERPRINT: {
        int64_t oldest, newest;
        if (ms->bounds(ms, &oldest, &newest, d) < 0)
            return -1;
        if (!oldest || t - oldest < r->warmup_us)
            return 0; /* not enough history to call anything new */
        q.metric = MET_CALLS;
        if (ms->query(ms, &q, scratch, d) < 0)
            return -1;
        struct metric_query lq = q;
        lq.from_us = t - r->window_us - r->lookback_us;
        lq.to_us = t - r->window_us;
        for (size_t i = 0; i < scratch->n; i++) {
            const struct metric_group *g = &scratch->g[i];
            bool seen;
            if (!enough(r, g))
                continue;
            if (g->first_seen_us > 0)
                /* The catalogue remembers every fingerprint for the store's retention:
                 * new means first seen inside the window. */
                seen = g->first_seen_us < t - r->window_us;
            else if (ms->seen(ms, &lq, g->dims, &seen, d) < 0)
                return -1;
            struct eval_item *it = add_item(out, r, g);
            if (it)
                it->cond = !seen;
        }
        return 0;
    }
    case RULE_ABSENCE: {
        struct metric_result tmp, recent, known;
        struct metric_query kq = q;
        const struct metric_result *kr;
        int rc = -1;

        metric_result_init(&tmp);
        metric_result_init(&recent);
        metric_result_init(&known);
        kq.from_us = t - r->window_us - r->lookback_us;
        kq.to_us = t - r->window_us;
        kq.metric = MET_LINES;
        /* The inputs to watch: those with lines in the look-back. A long one is read in
         * two parts: up to the last whole hour (cached: read once an hour) and the
         * minutes since then (short). */
        int64_t exact_to = kq.to_us;
        align_long(r->lookback_us, &kq.from_us, &kq.to_us);
        if (ms->query(ms, &q, scratch, d) < 0 || !(kr = cached_query(ms, &kq, r, cache, &tmp, d)))
            goto absence_out;
        if (kq.to_us < exact_to) {
            struct metric_query rq = kq;
            rq.from_us = kq.to_us;
            rq.to_us = exact_to;
            if (ms->query(ms, &rq, &recent, d) < 0)
                goto absence_out;
        }
        for (int part = 0; part < 2; part++) {
            const struct metric_result *src = part ? &recent : kr;
            for (size_t j = 0; j < src->n; j++) {
                bool dup = false;
                for (size_t k = 0; k < known.n && !dup; k++)
                    dup = same_dims(&known.g[k], &src->g[j], q.group_mask);
                if (!dup)
                    metric_result_add(&known, src->g[j].dims, NULL);
            }
        }
        for (size_t i = 0; i < scratch->n; i++) {
            struct eval_item *it = add_item(out, r, &scratch->g[i]);
            if (it)
                it->cond = rule_cond_holds(&r->cond, scratch->g[i].value);
        }
        for (size_t j = 0; j < known.n; j++) {
            bool present = false;
            for (size_t i = 0; i < scratch->n && !present; i++)
                present = same_dims(&known.g[j], &scratch->g[i], q.group_mask);
            if (present)
                continue;
            struct metric_group zero = known.g[j];
            zero.value = 0;
            zero.count = 0;
            struct eval_item *it = add_item(out, r, &zero);
            if (it)
                it->cond = rule_cond_holds(&r->cond, 0);
        }
        rc = 0;
    absence_out:
        metric_result_release(&known);
        metric_result_release(&recent);
        metric_result_release(&tmp);
        return rc;
    }
    case RULE_KIND_COUNT: break;
    }
    BUG("rule kind %d", (int)r->kind);
}

/* ---- annotations ---- */

struct tvars {
    const struct rule *r;
    const struct eval_item *it;
    char buf[64];
};

static void fmt_duration(char *buf, size_t len, int64_t us)
{
    int64_t s = us / USEC_PER_SEC;
    if (s % 86400 == 0 && s)
        snprintf(buf, len, "%lldd", (long long)(s / 86400));
    else if (s % 3600 == 0 && s)
        snprintf(buf, len, "%lldh", (long long)(s / 3600));
    else if (s % 60 == 0 && s)
        snprintf(buf, len, "%lldm", (long long)(s / 60));
    else
        snprintf(buf, len, "%llds", (long long)s);
}

static const char *tvar_get(void *ctx, struct span name, double *num, bool *is_num)
{
    struct tvars *v = ctx;
    const struct rule *r = v->r;
    const struct eval_item *it = v->it;

    if (span_eq_lit(name, "value") || span_eq_lit(name, "threshold") ||
        span_eq_lit(name, "baseline") || span_eq_lit(name, "ratio") || span_eq_lit(name, "calls")) {
        *is_num = true;
        *num = span_eq_lit(name, "value")       ? it->value
               : span_eq_lit(name, "threshold") ? (r->kind == RULE_BASELINE  ? r->ratio_min
                                                   : r->source == RSRC_PLANS ? r->where.slower_by
                                                                             : r->cond.value)
               : span_eq_lit(name, "baseline")  ? it->baseline
               : span_eq_lit(name, "ratio")     ? it->ratio
                                                : it->calls;
        if (!isfinite(*num))
            *num = 0;
        return "";
    }
    if (it->has_plan) {
        static const char *const nums[] = { "before_ms",    "after_ms",    "slower_by",
                                            "calls_before", "calls_after", NULL };
        const double vals[] = { it->before_ms, it->after_ms, it->ratio, it->calls_before,
                                it->calls_after };
        for (size_t i = 0; nums[i]; i++) {
            if (span_eq(name, span_cstr(nums[i]))) {
                *is_num = true;
                *num = isfinite(vals[i]) ? vals[i] : 0;
                return "";
            }
        }
        if (span_eq_lit(name, "from_plan") || span_eq_lit(name, "to_plan")) {
            snprintf(
                v->buf, sizeof(v->buf), "%016llx",
                (unsigned long long)(span_eq_lit(name, "from_plan") ? it->from_plan : it->to_plan));
            return v->buf;
        }
        if (span_eq_lit(name, "changed_at")) {
            _Static_assert(sizeof(((struct tvars *)0)->buf) >= CLOCK_RFC3339_MAX, "buf");
            return clock_format_rfc3339(it->changed_at_us, 0, v->buf);
        }
    }
    if (span_eq_lit(name, "rule"))
        return r->name;
    if (span_eq_lit(name, "severity"))
        return alert_severity_name(r->severity);
    if (span_eq_lit(name, "window")) {
        fmt_duration(v->buf, sizeof(v->buf), r->window_us);
        return v->buf;
    }
    if (span_eq_lit(name, "query"))
        return it->query ? it->query : "";
    for (size_t i = 0; i < it->nlabels; i++)
        if (span_eq(name, span_cstr(it->labels[i].key)))
            return it->labels[i].value;
    return NULL;
}

json_t *eval_annotations(const struct rule *r, const struct eval_item *it, int64_t t)
{
    json_t *o = json_object();
    struct tvars v = { r, it, "" };
    struct tmpl_vars tv = { tvar_get, &v };
    struct sbuf sb;

    (void)t;
    sbuf_init(&sb, SIFT_MAX_RULE_TEXT_BYTES * 4);
    for (size_t i = 0; i < r->nannotations; i++) {
        sbuf_reset(&sb);
        if (tmpl_render(r->annotations[i].value, &tv, &sb) < 0)
            continue; /* over the cap: the annotation is left out rather than cut */
        json_object_set_new(o, r->annotations[i].key, json_text(sb.buf));
    }
    sbuf_release(&sb);
    return o;
}
