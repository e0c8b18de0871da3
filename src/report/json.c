/* SPDX-License-Identifier: MIT */
/*
 * json.c - the report as one JSON document (INTERFACE.md top-level keys: period,
 * totals, queries, errors, events, rejects, alerts; plus what the other formats show:
 * compare, hourly, latency_histogram, rankings, regressions, new_queries, locks,
 * temp_files, checkpoints, autovacuum, sessions, cancellations).
 *
 * Numbers a period does not have are null. Times are RFC 3339 UTC. query_id values are
 * strings (signed 64-bit, never through a double).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/escape.h"
#include "report/report_int.h"

static void num(struct rw *j, double v)
{
    if (!j->err)
        rw_check(j, fmt_json_num(j->sb, v));
}

/* "key": value helpers; each writes a leading comma unless it is the first. */
static void key(struct rw *j, int *first, const char *k)
{
    if (!*first)
        rw_s(j, ",");
    *first = 0;
    rw_f(j, "\"%s\":", k);
}

static void kn(struct rw *j, int *first, const char *k, double v)
{
    key(j, first, k);
    if (fmt_key_is_estimate(k)) { /* a percentile: as pgsift top prints it */
        char b[FMT_MAX];
        fmt_est_num(b, sizeof(b), v);
        rw_s(j, *b ? b : "null");
        return;
    }
    num(j, v);
}

static void ku(struct rw *j, int *first, const char *k, uint64_t v)
{
    key(j, first, k);
    rw_f(j, "%" PRIu64, v);
}

static void ks(struct rw *j, int *first, const char *k, struct span v)
{
    key(j, first, k);
    rw_e(j, v);
}

static void time_val(struct rw *j, int64_t us)
{
    char b[CLOCK_RFC3339_MAX];
    if (us == INT64_MIN)
        rw_s(j, "null");
    else
        rw_f(j, "\"%s\"", clock_format_rfc3339(us, 3, b));
}

static void kb(struct rw *j, int *first, const char *k, bool v)
{
    key(j, first, k);
    rw_s(j, v ? "true" : "false");
}

static void kt(struct rw *j, int *first, const char *k, int64_t us)
{
    key(j, first, k);
    time_val(j, us);
}

static void ksample(struct rw *j, int *first, const char *k, struct span s, size_t max)
{
    ks(j, first, k, rw_sample(j, s, max));
}

static void figures(struct rw *j, const struct report_figures *f)
{
    int first = 1;
    rw_s(j, "{");
    for (int i = 0; i < RF_COUNT; i++)
        kn(j, &first, report_figure_key((enum report_figure)i), f->v[i]);
    rw_s(j, "}");
}

static void stat(struct rw *j, int *first, const char *k, const struct report_stat *s)
{
    int f = 1;
    key(j, first, k);
    rw_s(j, "{");
    ku(j, &f, "count", s->n);
    kn(j, &f, "sum", s->n ? s->sum : 0);
    kn(j, &f, "max", s->max);
    kn(j, &f, "p95", s->p95);
    rw_s(j, "}");
}

static void hist(struct rw *j, int *first, const char *k, const char *le,
                 const struct report_hist *h)
{
    key(j, first, k);
    rw_s(j, "[");
    for (size_t i = 0; i <= h->n; i++) {
        int f = 1;
        rw_s(j, i ? ",{" : "{");
        kn(j, &f, le, i < h->n ? h->upper[i] : NAN);
        ku(j, &f, "count", h->count[i]);
        rw_s(j, "}");
    }
    rw_s(j, "]");
}

/* The JSON names of a list's columns (struct report_item); a NULL name leaves the column
 * out. The key and the count are always written. */
struct item_names {
    const char *key, *detail; /* detail: redacted as a sample when redact_detail */
    const char *sum, *max, *sum2, *sum3, *max2;
    int redact_detail;
};

static void items(struct rw *j, int *first, const char *k, const struct report_items *l,
                  const struct item_names *c)
{
    key(j, first, k);
    rw_s(j, "[");
    for (size_t i = 0; i < l->n; i++) {
        const struct report_item *it = &l->v[i];
        int f = 1;
        rw_s(j, i ? ",{" : "{");
        ks(j, &f, c->key, it->key);
        if (c->detail) {
            if (c->redact_detail)
                ksample(j, &f, c->detail, it->detail, REPORT_SAMPLE_TEXT);
            else
                ks(j, &f, c->detail, it->detail);
        }
        ku(j, &f, "count", it->count);
        if (c->sum)
            kn(j, &f, c->sum, it->sum);
        if (c->max)
            kn(j, &f, c->max, it->max);
        if (c->sum2)
            kn(j, &f, c->sum2, it->sum2);
        if (c->sum3)
            kn(j, &f, c->sum3, it->sum3);
        if (c->max2)
            kn(j, &f, c->max2, it->max2);
        rw_s(j, "}");
    }
    rw_s(j, "]");
    /* The entries past the list, always present: "<k>_not_listed". */
    char nk[64];
    snprintf(nk, sizeof(nk), "%s_not_listed", k);
    key(j, first, nk);
    rw_s(j, "{");
    int f = 1;
    ku(j, &f, "groups", l->rest);
    ku(j, &f, "count", l->rest_count);
    rw_s(j, "}");
}

static void period(struct rw *j, int *first)
{
    const struct report *r = j->r;
    char b[TZ_LOCAL_MAX], ob[8];
    int f = 1;
    key(j, first, "period");
    rw_s(j, "{");
    kt(j, &f, "from", r->from_us);
    kt(j, &f, "to", r->to_us);
    kt(j, &f, "counted_from", r->counted_from_us);
    kt(j, &f, "counted_to", r->counted_to_us);
    ks(j, &f, "tz", span_cstr(r->tz.name));
    key(j, &f, "from_local");
    rw_f(j, "\"%s\"", tz_format_local(&r->tz, r->from_us, b));
    key(j, &f, "to_local");
    rw_f(j, "\"%s\"", tz_format_local(&r->tz, r->to_us, b));
    key(j, &f, "utc_offset");
    rw_f(j, "\"%s\"", tz_format_offset(tz_offset_at(&r->tz, r->from_us), ob));
    ks(j, &f, "day", r->day[0] ? span_cstr(r->day) : SPAN_NULL);
    rw_s(j, "}");
}

static void query(struct rw *j, const struct report_query *q)
{
    const struct report *r = j->r;
    char fp[17];
    int f = 1;
    fmt_fingerprint(fp, q->fingerprint);
    rw_s(j, "{");
    ks(j, &f, "fingerprint", span_cstr(fp));
    ks(j, &f, "query", q->text);
    key(j, &f, "query_ids");
    rw_s(j, "[");
    for (size_t i = 0; i < q->nquery_ids; i++) {
        rw_f(j, "%s{\"id\":\"%" PRId64 "\",\"calls\":%" PRIu64 ",\"total_ms\":", i ? "," : "",
             q->query_ids[i].id, q->query_ids[i].calls);
        num(j, q->query_ids[i].total_ms);
        rw_s(j, "}");
    }
    rw_s(j, "]");
    ku(j, &f, "calls", q->calls);
    kn(j, &f, "total_ms", q->total_ms);
    kn(j, &f, "mean_ms", query_mean(q));
    kn(j, &f, "min_ms", q->min_ms);
    kn(j, &f, "max_ms", q->max_ms);
    kn(j, &f, "stddev_ms", q->stddev_ms);
    kn(j, &f, "p50_ms", q->p50_ms);
    kn(j, &f, "p95_ms", q->p95_ms);
    kn(j, &f, "p99_ms", q->p99_ms);
    key(j, &f, "databases");
    rw_s(j, "[");
    for (size_t i = 0; i < q->ndatabases; i++) {
        if (i)
            rw_s(j, ",");
        rw_e(j, q->databases[i]);
    }
    rw_s(j, "]");
    key(j, &f, "users");
    rw_s(j, "[");
    for (size_t i = 0; i < q->nusers; i++) {
        if (i)
            rw_s(j, ",");
        rw_e(j, q->users[i]);
    }
    rw_s(j, "]");
    ku(j, &f, "errors", q->errors);
    kt(j, &f, "first_seen", q->first_seen_us);
    kt(j, &f, "last_seen", q->last_seen_us);
    key(j, &f, "new");
    rw_s(j, q->base_days <= 0 && q->first_seen_us != INT64_MIN && q->first_seen_us >= r->from_us
                ? "true"
                : "false");
    key(j, &f, "baseline");
    if (q->base_days > 0) {
        int g = 1;
        rw_s(j, "{");
        ku(j, &g, "days", (uint64_t)q->base_days);
        kn(j, &g, "calls_per_day", q->base_calls);
        kn(j, &g, "total_ms_per_day", q->base_total_ms);
        kn(j, &g, "p95_ms", q->base_p95_ms);
        rw_s(j, "}");
    } else {
        rw_s(j, "null");
    }
    ku(j, &f, "temp_files", q->temp_files);
    kn(j, &f, "temp_bytes", q->temp_bytes);
    ku(j, &f, "lock_waits", q->lock_waits);
    kn(j, &f, "lock_wait_ms", q->lock_wait_ms);
    ku(j, &f, "plans", q->plans);
    if (q->bucket_calls) {
        key(j, &f, "hourly_calls");
        rw_s(j, "[");
        for (size_t i = 0; i < r->nbuckets; i++) {
            if (i)
                rw_s(j, ",");
            num(j, q->bucket_calls[i]);
        }
        rw_s(j, "]");
    }
    if (q->sample.p && (j->flags & REPORT_KEEP_LITERALS))
        ksample(j, &f, "sample", q->sample, REPORT_DETAIL_TEXT);
    rw_s(j, "}");
}

static void fp_list(struct rw *j, const size_t *idx, size_t n)
{
    rw_s(j, "[");
    for (size_t i = 0; i < n; i++) {
        char fp[17];
        fmt_fingerprint(fp, j->r->queries[idx[i]].fingerprint);
        rw_f(j, "%s\"%s\"", i ? "," : "", fp);
    }
    rw_s(j, "]");
}

static void queries(struct rw *j, int *first)
{
    const struct report *r = j->r;
    key(j, first, "queries");
    rw_s(j, "[");
    for (size_t i = 0; i < r->nshown; i++) {
        if (i)
            rw_s(j, ",\n");
        query(j, &r->queries[r->shown[i]]);
    }
    rw_s(j, "]");

    uint64_t calls = r->other_calls;
    double total = r->other_total_ms;
    for (size_t i = 0; i < r->nqueries; i++) {
        calls += r->queries[i].calls;
        total += r->queries[i].total_ms;
    }
    for (size_t i = 0; i < r->nshown; i++) {
        calls -= r->queries[r->shown[i]].calls;
        total -= r->queries[r->shown[i]].total_ms;
    }
    int f = 1;
    key(j, first, "other_queries");
    rw_s(j, "{");
    ku(j, &f, "shapes", r->shapes_total > r->nshown ? r->shapes_total - r->nshown : 0);
    ku(j, &f, "calls", calls);
    kn(j, &f, "total_ms", total);
    rw_s(j, "}");
    ku(j, first, "shapes", r->shapes_total);
    key(j, first, "slowest");
    rw_s(j, "[");
    for (size_t i = 0; i < r->nslowest; i++) {
        const struct report_slow *x = &r->slowest[i];
        char fp[17];
        int h = 1;
        fmt_fingerprint(fp, x->fingerprint);
        rw_s(j, i ? ",{" : "{");
        kt(j, &h, "at", x->at_us);
        ku(j, &h, "width_s", (uint64_t)x->width_s);
        kn(j, &h, "ms", x->ms);
        ks(j, &h, "fingerprint", span_cstr(fp));
        ks(j, &h, "database", x->database);
        ks(j, &h, "user", x->user);
        ks(j, &h, "query", x->query);
        rw_s(j, "}");
    }
    rw_s(j, "]");
    /* the extended protocol's parse and bind steps: {phase, count, total_ms} */
    items(j, first, "parse_bind", &r->phases,
          &(struct item_names){ .key = "phase", .sum = "total_ms" });
    /* statement calls and time per database and user: {database, user, count, total_ms} */
    items(j, first, "time_by_database_user", &r->time_by,
          &(struct item_names){ .key = "database", .detail = "user", .sum = "total_ms" });
    /* calls by kind of command: {command, count (calls), total_ms, shapes} */
    items(j, first, "commands", &r->commands,
          &(struct item_names){ .key = "command", .sum = "total_ms", .sum2 = "shapes" });

    f = 1;
    key(j, first, "rankings");
    rw_s(j, "{");
    for (int k = 0; k < RR_COUNT; k++) {
        key(j, &f, report_rank_key((enum report_rank)k));
        fp_list(j, r->rank[k], r->nrank[k]);
    }
    rw_s(j, "}");

    key(j, first, "regressions");
    rw_s(j, "[");
    for (size_t i = 0; i < r->nregressions; i++) {
        const struct report_regression *g = &r->regressions[i];
        char fp[17];
        int h = 1;
        fmt_fingerprint(fp, r->queries[g->query].fingerprint);
        rw_s(j, i ? ",{" : "{");
        ks(j, &h, "fingerprint", span_cstr(fp));
        ks(j, &h, "metric", span_cstr(g->metric == RM_P95 ? "p95_ms" : "total_ms"));
        kn(j, &h, "value", g->value);
        kn(j, &h, "baseline", g->baseline);
        kn(j, &h, "ratio", g->ratio);
        rw_s(j, "}");
    }
    rw_s(j, "]");
    ku(j, first, "regressions_total", r->regressions_total);

    f = 1;
    key(j, first, "new_queries");
    rw_s(j, "{");
    ku(j, &f, "count", r->new_total);
    key(j, &f, "fingerprints");
    fp_list(j, r->new_queries, r->nnew);
    rw_s(j, "}");
}

static void hourly(struct rw *j, int *first)
{
    const struct report *r = j->r;
    key(j, first, "hourly");
    rw_s(j, "[");
    for (size_t i = 0; i < r->nbuckets; i++) {
        const struct report_bucket *b = &r->buckets[i];
        char lab[16];
        int f = 1;
        fmt_bucket_label(r, i, lab, sizeof(lab));
        rw_s(j, i ? ",\n{" : "{");
        kt(j, &f, "start", b->start_us);
        ks(j, &f, "label", span_cstr(lab));
        ku(j, &f, "calls", b->calls);
        kn(j, &f, "duration_ms", b->duration_ms);
        kn(j, &f, "p95_ms", b->p95_ms);
        ku(j, &f, "errors", b->errors);
        key(j, &f, "events");
        rw_s(j, "{");
        int g = 1;
        for (int k = 0; k < EV_KIND_COUNT; k++)
            if (b->events[k])
                ku(j, &g, event_kind_name((enum event_kind)k), b->events[k]);
        rw_s(j, "}}");
    }
    rw_s(j, "]");
}

static void compare(struct rw *j, int *first)
{
    const struct report *r = j->r;
    int f = 1;
    key(j, first, "compare");
    rw_s(j, "{");
    key(j, &f, "previous_day");
    figures(j, &r->prev_day);
    key(j, &f, "avg_7d");
    figures(j, &r->avg_7d);
    key(j, &f, "days");
    rw_s(j, "[");
    for (size_t i = 0; i < r->ntrend; i++) {
        int g = 1;
        rw_s(j, i ? ",{" : "{");
        kt(j, &g, "start", r->trend[i].start_us);
        kb(j, &g, "present", r->trend[i].present);
        for (int k = 0; k < RF_COUNT; k++)
            kn(j, &g, report_figure_key((enum report_figure)k),
               r->trend[i].present ? r->trend[i].f.v[k] : NAN);
        rw_s(j, "}");
    }
    rw_s(j, "]}");
}

static void fp_str(struct rw *j, int *first, const char *k, uint64_t fp)
{
    char b[17];
    fmt_fingerprint(b, fp);
    ks(j, first, k, span_cstr(b));
}

/* The queries that waited longest for locks (@lock) or wrote the most temp data, as the
 * HTML report lists them (report_queries_by()). */
static void queries_by(struct rw *j, int *first, bool lock)
{
    const struct report *r = j->r;
    size_t idx[REPORT_QUERIES_BY_MAX];
    size_t n = report_queries_by(r, lock, idx, ARRAY_SIZE(idx));
    key(j, first, "queries");
    rw_s(j, "[");
    for (size_t i = 0; i < n; i++) {
        const struct report_query *q = &r->queries[idx[i]];
        int f = 1;
        rw_s(j, i ? ",{" : "{");
        fp_str(j, &f, "fingerprint", q->fingerprint);
        ks(j, &f, "query", q->text);
        if (lock) {
            ku(j, &f, "waits", q->lock_waits);
            kn(j, &f, "wait_ms", q->lock_wait_ms);
        } else {
            ku(j, &f, "files", q->temp_files);
            kn(j, &f, "bytes", q->temp_bytes);
        }
        rw_s(j, "}");
    }
    rw_s(j, "]");
}

static void plans(struct rw *j, int *first)
{
    const struct report *r = j->r;
    kb(j, first, "plans_known", r->plans_known);
    ku(j, first, "plans_total", r->plans_total);
    key(j, first, "plans");
    rw_s(j, "[");
    for (size_t i = 0; i < r->nplans; i++) {
        const struct report_plan *p = &r->plans[i];
        int f = 1;
        rw_s(j, i ? ",\n{" : "{");
        fp_str(j, &f, "fingerprint", p->fingerprint);
        fp_str(j, &f, "plan", p->plan_fp);
        ks(j, &f, "query", p->query);
        ks(j, &f, "database", p->database);
        ks(j, &f, "shape", p->shape);
        /* the insights' names, as pgsift plans lists them (a list, not one string) */
        key(j, &f, "insights");
        rw_s(j, "[");
        for (size_t k = 0, start = 0; k <= p->insights.len; k++) {
            if (k < p->insights.len && p->insights.p[k] != ',')
                continue;
            if (k > start) {
                if (start)
                    rw_s(j, ",");
                rw_e(j, span_make(p->insights.p + start, k - start));
            }
            start = k + 1;
        }
        rw_s(j, "]");
        ku(j, &f, "plans", p->calls);
        kn(j, &f, "total_ms", p->total_ms);
        kn(j, &f, "mean_ms", p->mean_ms);
        kn(j, &f, "p95_ms", p->p95_ms);
        kt(j, &f, "first_seen", p->first_us);
        kt(j, &f, "last_seen", p->last_us);
        ks(j, &f, "format", p->format);
        ks(j, &f, "sample", p->sample);
        rw_s(j, "}");
    }
    rw_s(j, "]");
    key(j, first, "plan_changes");
    rw_s(j, "[");
    for (size_t i = 0; i < r->nplan_changes; i++) {
        const struct report_plan_change *c = &r->plan_changes[i];
        int f = 1;
        rw_s(j, i ? ",\n{" : "{");
        fp_str(j, &f, "fingerprint", c->fingerprint);
        ks(j, &f, "query", c->query);
        ks(j, &f, "database", c->database);
        kt(j, &f, "at", c->at_us);
        fp_str(j, &f, "from_plan", c->from_plan);
        fp_str(j, &f, "to_plan", c->to_plan);
        ks(j, &f, "from_shape", c->from_shape);
        ks(j, &f, "to_shape", c->to_shape);
        ku(j, &f, "calls_before", c->calls_before);
        ku(j, &f, "calls_after", c->calls_after);
        kn(j, &f, "before_ms", c->before_ms);
        kn(j, &f, "after_ms", c->after_ms);
        kn(j, &f, "slower_by", c->slower_by);
        rw_s(j, "}");
    }
    rw_s(j, "]");
}

static void errors(struct rw *j, int *first)
{
    const struct report *r = j->r;
    key(j, first, "errors");
    rw_s(j, "[");
    for (size_t i = 0; i < r->nerrors && i < REPORT_ERRORS_SHOWN; i++) {
        const struct report_error *e = &r->errors[i];
        int f = 1;
        rw_s(j, i ? ",\n{" : "{");
        ks(j, &f, "sqlstate", span_cstr(e->sqlstate));
        ks(j, &f, "condition", span_cstr(report_sqlstate_name(e->sqlstate)));
        ks(j, &f, "class", span_cstr(report_sqlstate_class(e->sqlstate)));
        ks(j, &f, "severity", span_cstr(severity_name(e->severity)));
        ku(j, &f, "count", e->count);
        ks(j, &f, "message", e->message);
        ksample(j, &f, "sample", e->sample, REPORT_SAMPLE_TEXT);
        rw_s(j, "}");
    }
    rw_s(j, "]");
    /* By SQLSTATE class, as the HTML report's table (the class "" for errors whose
     * SQLSTATE the log does not have). */
    struct report_error_class classes[64];
    size_t nc = report_error_classes(r, classes, ARRAY_SIZE(classes));
    key(j, first, "error_classes");
    rw_s(j, "[");
    for (size_t k = 0; k < nc; k++) {
        char st[6] = { classes[k].cls[0], classes[k].cls[1], '0', '0', '0', 0 };
        int f = 1;
        rw_s(j, k ? ",{" : "{");
        ks(j, &f, "class", span_cstr(classes[k].cls));
        ks(j, &f, "meaning",
           span_cstr(classes[k].cls[0] ? report_sqlstate_class(st) : REPORT_NO_SQLSTATE));
        ku(j, &f, "count", classes[k].count);
        rw_s(j, "}");
    }
    rw_s(j, "]");
    /* The groups past the list, always present. */
    uint64_t rest_count;
    size_t rest = report_errors_rest(r, &rest_count);
    key(j, first, "errors_not_listed");
    rw_s(j, "{");
    int f = 1;
    ku(j, &f, "groups", rest);
    ku(j, &f, "count", rest_count);
    rw_s(j, "}");
}

static void event_sections(struct rw *j, int *first)
{
    const struct report *r = j->r;
    int f;

    key(j, first, "events");
    rw_s(j, "{");
    f = 1;
    for (int k = 0; k < EV_KIND_COUNT; k++)
        ku(j, &f, event_kind_name((enum event_kind)k), r->events[k]);
    rw_s(j, "}");

    key(j, first, "locks");
    rw_s(j, "{");
    f = 1;
    ku(j, &f, "waits", r->events[EV_LOCK_WAIT]);
    ku(j, &f, "acquired", r->events[EV_LOCK_ACQUIRED]);
    ku(j, &f, "deadlocks", r->events[EV_DEADLOCK]);
    stat(j, &f, "wait_ms", &r->lock_wait_ms);
    items(j, &f, "by_lock", &r->locks,
          &(struct item_names){ .key = "mode",
                                .detail = "object",
                                .sum = "wait_ms",
                                .max = "max_ms",
                                .redact_detail = 1 });
    key(j, &f, "deadlock_samples");
    rw_s(j, "[");
    for (size_t i = 0; i < r->ndeadlock_samples; i++) {
        if (i)
            rw_s(j, ",");
        rw_e(j, rw_sample(j, r->deadlock_samples[i], REPORT_SAMPLE_TEXT * 4));
    }
    rw_s(j, "]");
    queries_by(j, &f, true);
    rw_s(j, "}");

    key(j, first, "temp_files");
    rw_s(j, "{");
    f = 1;
    ku(j, &f, "count", r->events[EV_TEMP_FILE]);
    stat(j, &f, "bytes", &r->temp_bytes);
    hist(j, &f, "histogram", "le_bytes", &r->temp_hist);
    queries_by(j, &f, false);
    rw_s(j, "}");

    key(j, first, "checkpoints");
    rw_s(j, "{");
    f = 1;
    ku(j, &f, "count", r->checkpoints);
    ku(j, &f, "records", r->events[EV_CHECKPOINT]);
    ku(j, &f, "warnings", r->ckpt_warnings);
    stat(j, &f, "buffers", &r->ckpt_buffers);
    stat(j, &f, "write_s", &r->ckpt_write_s);
    stat(j, &f, "sync_s", &r->ckpt_sync_s);
    stat(j, &f, "total_s", &r->ckpt_total_s);
    stat(j, &f, "sync_longest_s", &r->ckpt_sync_longest_s);
    stat(j, &f, "wal_added", &r->ckpt_wal_added);
    stat(j, &f, "wal_removed", &r->ckpt_wal_removed);
    stat(j, &f, "wal_recycled", &r->ckpt_wal_recycled);
    stat(j, &f, "distance_bytes", &r->ckpt_distance);
    stat(j, &f, "estimate_bytes", &r->ckpt_estimate);
    items(j, &f, "by_cause", &r->checkpoint_causes,
          &(struct item_names){ .key = "cause", .sum = "buffers", .max = "max_total_s" });
    rw_s(j, "}");

    key(j, first, "autovacuum");
    rw_s(j, "{");
    f = 1;
    ku(j, &f, "vacuums", r->events[EV_AUTOVACUUM]);
    ku(j, &f, "analyzes", r->events[EV_AUTOANALYZE]);
    stat(j, &f, "vacuum_s", &r->vacuum_s);
    stat(j, &f, "analyze_s", &r->analyze_s);
    stat(j, &f, "pages_removed", &r->vacuum_pages_removed);
    stat(j, &f, "tuples_dead", &r->vacuum_tuples_dead);
    stat(j, &f, "buffer_reads", &r->vacuum_buffer_reads);
    stat(j, &f, "buffer_dirtied", &r->vacuum_buffer_dirtied);
    stat(j, &f, "wal_bytes", &r->vacuum_wal_bytes);
    items(j, &f, "by_relation", &r->vacuum,
          &(struct item_names){ .key = "relation",
                                .detail = "kind",
                                .sum = "elapsed_s",
                                .max = "max_s",
                                .sum2 = "tuples_removed",
                                .sum3 = "pages_removed",
                                .max2 = "max_tuples_dead" });
    rw_s(j, "}");

    key(j, first, "sessions");
    rw_s(j, "{");
    f = 1;
    ku(j, &f, "connections", r->events[EV_CONNECTION]);
    ku(j, &f, "authenticated", r->events[EV_AUTHENTICATED]);
    ku(j, &f, "disconnections", r->events[EV_DISCONNECTION]);
    ku(j, &f, "auth_failures", r->events[EV_AUTH_FAILURE]);
    ku(j, &f, "too_many_connections", r->events[EV_TOO_MANY_CONNECTIONS]);
    kn(j, &f, "peak", r->peak_sessions ? (double)r->peak_sessions : NAN);
    stat(j, &f, "session_s", &r->session_s);
    hist(j, &f, "histogram", "le_s", &r->session_hist);
    ku(j, &f, "ready", r->events[EV_CONNECTION_READY]);
    stat(j, &f, "setup_ms", &r->setup_ms);
    stat(j, &f, "setup_auth_ms", &r->setup_auth_ms);
    items(j, &f, "by_database_user", &r->sessions_by,
          &(struct item_names){ .key = "database", .detail = "user" });
    items(j, &f, "by_application", &r->apps, &(struct item_names){ .key = "application" });
    items(j, &f, "by_host", &r->hosts, &(struct item_names){ .key = "host" });
    rw_s(j, "}");

    key(j, first, "cancellations");
    rw_s(j, "{");
    f = 1;
    ku(j, &f, "cancels", r->events[EV_CANCEL]);
    ku(j, &f, "timeouts", r->events[EV_TIMEOUT]);
    items(j, &f, "by_cause", &r->cancels, &(struct item_names){ .key = "kind", .detail = "cause" });
    rw_s(j, "}");
}

static void rejects(struct rw *j, int *first)
{
    const struct report *r = j->r;
    key(j, first, "rejects");
    rw_s(j, "[");
    for (size_t i = 0; i < r->nrejects; i++) {
        const struct report_reject *x = &r->rejects[i];
        int f = 1;
        rw_s(j, i ? ",\n{" : "{");
        ks(j, &f, "source", x->source);
        ks(j, &f, "reason", x->reason);
        ku(j, &f, "count", x->count);
        ksample(j, &f, "sample", x->nsamples ? x->samples[0] : SPAN_NULL, REPORT_SAMPLE_TEXT);
        key(j, &f, "sample_line");
        if (x->sample_line)
            rw_f(j, "%" PRIu64, x->sample_line);
        else
            rw_s(j, "null");
        key(j, &f, "samples");
        rw_s(j, "[");
        for (size_t k = 0; k < x->nsamples; k++) {
            if (k)
                rw_s(j, ",");
            rw_e(j, rw_sample(j, x->samples[k], REPORT_SAMPLE_TEXT));
        }
        rw_s(j, "]}");
    }
    rw_s(j, "]");
}

static void alerts(struct rw *j, int *first)
{
    const struct report *r = j->r;
    int f = 1;
    kb(j, first, "alerts_known", r->alerts_known);
    key(j, first, "alerts_summary");
    rw_s(j, "{");
    ku(j, &f, "fired", r->alerts_fired);
    ku(j, &f, "resolved", r->alerts_resolved);
    ku(j, &f, "firing_at_end", r->alerts_firing);
    ku(j, &f, "unlisted", r->alerts_unlisted);
    rw_s(j, "}");
    key(j, first, "alerts_by_rule");
    rw_s(j, "[");
    for (size_t i = 0; i < r->nalert_rules; i++) {
        const struct report_alert_rule *c = &r->alert_rules[i];
        f = 1;
        rw_s(j, i ? ",{" : "{");
        ks(j, &f, "rule", c->rule);
        ku(j, &f, "fired", c->fired);
        ku(j, &f, "resolved", c->resolved);
        ku(j, &f, "firing_at_end", c->firing_at_end);
        rw_s(j, "}");
    }
    rw_s(j, "]");
    key(j, first, "alerts");
    rw_s(j, "[");
    for (size_t i = 0; i < r->nalerts; i++) {
        const struct report_alert *a = &r->alerts[i];
        f = 1;
        rw_s(j, i ? ",\n{" : "{");
        ks(j, &f, "rule", a->rule);
        ks(j, &f, "severity", a->severity);
        ks(j, &f, "status", a->status);
        ks(j, &f, "labels", a->labels);
        kt(j, &f, "starts_at", a->starts_us);
        kt(j, &f, "ends_at", a->ends_us);
        kb(j, &f, "fired_in_period", a->fired_in_period);
        kb(j, &f, "resolved_in_period", a->resolved_in_period);
        kn(j, &f, "value", a->value);
        ku(j, &f, "notified", a->notified);
        ku(j, &f, "failed", a->failed);
        ksample(j, &f, "summary", a->summary, REPORT_SAMPLE_TEXT);
        rw_s(j, "}");
    }
    rw_s(j, "]");
}

int report_render_json(const struct report *r, const struct report_opts *o, struct sbuf *sb)
{
    struct rw j;

    rw_init(&j, sb, r, o, escape_json_string);
    int first = 1;

    rw_s(&j, "{");
    ks(&j, &first, "generator", span_cstr(r->generator));
    kt(&j, &first, "generated_at", r->generated_us);
    key(&j, &first, "literals");
    rw_s(&j, j.flags & REPORT_KEEP_LITERALS ? "\"kept\"" : "\"redacted\"");
    rw_s(&j, "\n");
    period(&j, &first);
    rw_s(&j, "\n");
    key(&j, &first, "totals");
    figures(&j, &r->totals);
    rw_s(&j, "\n");
    compare(&j, &first);
    rw_s(&j, "\n");
    hourly(&j, &first);
    rw_s(&j, "\n");
    hist(&j, &first, "latency_histogram", "le_ms", &r->latency);
    rw_s(&j, "\n");
    queries(&j, &first);
    rw_s(&j, "\n");
    plans(&j, &first);
    rw_s(&j, "\n");
    errors(&j, &first);
    rw_s(&j, "\n");
    event_sections(&j, &first);
    rw_s(&j, "\n");
    rejects(&j, &first);
    rw_s(&j, "\n");
    alerts(&j, &first);
    rw_s(&j, "}\n");
    return rw_finish(&j);
}
