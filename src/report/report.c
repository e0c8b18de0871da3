/* SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/lazylib.h"
#include "core/xalloc.h"
#include "report/report_int.h"

#define HOUR_US (INT64_C(3600) * 1000000)

static const char *const figure_keys[RF_COUNT] = {
    [RF_RECORDS] = "records", [RF_CALLS] = "calls",   [RF_DURATION_MS] = "duration_ms",
    [RF_P95_MS] = "p95_ms",   [RF_ERRORS] = "errors", [RF_REJECTS] = "rejects",
};
static const char *const figure_labels[RF_COUNT] = {
    [RF_RECORDS] = "Log records", [RF_CALLS] = "Calls",   [RF_DURATION_MS] = "Total time",
    [RF_P95_MS] = "p95 latency",  [RF_ERRORS] = "Errors", [RF_REJECTS] = "Rejected lines",
};
static const char *const rank_keys[RR_COUNT] = {
    [RR_TOTAL] = "total", [RR_MEAN] = "mean",   [RR_P95] = "p95",
    [RR_P99] = "p99",     [RR_CALLS] = "calls",
};

const char *report_figure_key(enum report_figure f)
{
    return (unsigned)f < RF_COUNT ? figure_keys[f] : "";
}

const char *report_figure_label(enum report_figure f)
{
    return (unsigned)f < RF_COUNT ? figure_labels[f] : "";
}

const char *report_rank_key(enum report_rank k)
{
    return (unsigned)k < RR_COUNT ? rank_keys[k] : "";
}

bool report_format_from_name(const char *name, enum report_format *f)
{
    static const char *const names[] = {
        [REPORT_HTML] = "html", [REPORT_MD] = "md", [REPORT_JSON] = "json"
    };
    for (size_t i = 0; i < ARRAY_SIZE(names); i++)
        if (!strcmp(name, names[i])) {
            *f = (enum report_format)i;
            return true;
        }
    return false;
}

static void figures_unknown(struct report_figures *f)
{
    for (int i = 0; i < RF_COUNT; i++)
        f->v[i] = NAN;
}

void report_init(struct report *r)
{
    memset(r, 0, sizeof(*r));
    arena_init(&r->mem, 64 * 1024);
    figures_unknown(&r->totals);
    figures_unknown(&r->prev_day);
    figures_unknown(&r->avg_7d);
    for (int i = 0; i < REPORT_TREND_DAYS; i++)
        figures_unknown(&r->trend[i].f);
    struct report_stat none = { 0, 0, NAN, NAN };
    struct report_stat *stats[] = {
        &r->lock_wait_ms,
        &r->temp_bytes,
        &r->ckpt_buffers,
        &r->ckpt_write_s,
        &r->ckpt_sync_s,
        &r->ckpt_total_s,
        &r->ckpt_wal_added,
        &r->ckpt_wal_removed,
        &r->ckpt_wal_recycled,
        &r->ckpt_sync_longest_s,
        &r->ckpt_distance,
        &r->ckpt_estimate,
        &r->vacuum_s,
        &r->analyze_s,
        &r->vacuum_pages_removed,
        &r->vacuum_tuples_dead,
        &r->vacuum_buffer_reads,
        &r->vacuum_buffer_dirtied,
        &r->vacuum_wal_bytes,
        &r->session_s,
        &r->setup_ms,
        &r->setup_auth_ms,
    };
    for (size_t i = 0; i < ARRAY_SIZE(stats); i++)
        *stats[i] = none;
    report_hist_init_latency(&r->latency);
    report_hist_init_bytes(&r->temp_hist);
    report_hist_init_seconds(&r->session_hist);
    snprintf(r->generator, sizeof(r->generator), "pgsift");
    (void)tz_load(&r->tz, "UTC", NULL);
}

static void items_free(struct report_items *l)
{
    free(l->v);
    free(l->ix);
    memset(l, 0, sizeof(*l));
}

void report_release(struct report *r)
{
    for (size_t i = 0; i < r->nqueries; i++) {
        free(r->queries[i].databases);
        free(r->queries[i].users);
        free(r->queries[i].query_ids);
        free(r->queries[i].bucket_calls);
    }
    free(r->queries);
    free(r->errors);
    for (size_t i = 0; i < r->nrejects; i++)
        free(r->rejects[i].samples);
    free(r->rejects);
    free(r->alerts);
    free(r->alert_rules);
    free(r->plans);
    free(r->plan_changes);
    free(r->deadlock_samples);
    items_free(&r->locks);
    items_free(&r->checkpoint_causes);
    items_free(&r->vacuum);
    items_free(&r->sessions_by);
    items_free(&r->apps);
    items_free(&r->hosts);
    items_free(&r->commands);
    items_free(&r->time_by);
    items_free(&r->phases);
    free(r->slowest);
    items_free(&r->cancels);
    for (int k = 0; k < RR_COUNT; k++)
        free(r->rank[k]);
    free(r->regressions);
    free(r->new_queries);
    free(r->shown);
    tz_release(&r->tz);
    arena_release(&r->mem);
    memset(r, 0, sizeof(*r));
}

void report_set_period(struct report *r, int64_t from_us, int64_t to_us, struct tz *tz,
                       const char *day)
{
    tz_release(&r->tz);
    r->tz = *tz;
    memset(tz, 0, sizeof(*tz));
    r->from_us = from_us;
    r->to_us = to_us > from_us ? to_us : from_us + 1;
    r->counted_from_us = r->from_us;
    r->counted_to_us = r->to_us;
    snprintf(r->day, sizeof(r->day), "%s", day ? day : "");

    int64_t len = r->to_us - r->from_us;
    int64_t hours = (len + HOUR_US - 1) / HOUR_US;
    int64_t per = (hours + REPORT_MAX_BUCKETS - 1) / REPORT_MAX_BUCKETS;
    if (per < 1)
        per = 1;
    r->bucket_us = per * HOUR_US;
    r->nbuckets = (size_t)((len + r->bucket_us - 1) / r->bucket_us);
    if (r->nbuckets > REPORT_MAX_BUCKETS)
        r->nbuckets = REPORT_MAX_BUCKETS;
    for (size_t i = 0; i < r->nbuckets; i++) {
        memset(&r->buckets[i], 0, sizeof(r->buckets[i]));
        r->buckets[i].start_us = r->from_us + (int64_t)i * r->bucket_us;
        r->buckets[i].p95_ms = NAN;
    }
}

int report_bucket_of(const struct report *r, int64_t us)
{
    if (us < r->from_us || us >= r->to_us || !r->bucket_us)
        return -1;
    int64_t i = (us - r->from_us) / r->bucket_us;
    return i < (int64_t)r->nbuckets ? (int)i : -1;
}

struct span report_str(struct report *r, struct span s)
{
    return arena_dup_span(&r->mem, s);
}

struct report_query *report_add_query(struct report *r)
{
    XGROW(r->queries, r->nqueries + 1, r->queries_alloc);
    struct report_query *q = &r->queries[r->nqueries++];
    memset(q, 0, sizeof(*q));
    q->min_ms = q->max_ms = q->p50_ms = q->p95_ms = q->p99_ms = NAN;
    q->first_seen_us = q->last_seen_us = INT64_MIN;
    q->base_calls = q->base_total_ms = q->base_p95_ms = NAN;
    return q;
}

struct report_error *report_add_error(struct report *r)
{
    XGROW(r->errors, r->nerrors + 1, r->errors_alloc);
    struct report_error *e = &r->errors[r->nerrors++];
    memset(e, 0, sizeof(*e));
    return e;
}

size_t report_errors_rest(const struct report *r, uint64_t *count)
{
    *count = 0;
    for (size_t i = REPORT_ERRORS_SHOWN; i < r->nerrors; i++)
        *count += r->errors[i].count;
    return r->nerrors > REPORT_ERRORS_SHOWN ? r->nerrors - REPORT_ERRORS_SHOWN : 0;
}

size_t report_error_classes(const struct report *r, struct report_error_class *out, size_t max)
{
    size_t nc = 0;
    for (size_t i = 0; i < r->nerrors; i++) {
        char cls[3] = { r->errors[i].sqlstate[0],
                        r->errors[i].sqlstate[0] ? r->errors[i].sqlstate[1] : 0, 0 };
        size_t k = 0;
        while (k < nc && strcmp(out[k].cls, cls))
            k++;
        if (k == nc) {
            if (nc == max)
                continue;
            memcpy(out[nc].cls, cls, 3);
            out[nc++].count = 0;
        }
        out[k].count += r->errors[i].count;
    }
    return nc;
}

size_t report_queries_by(const struct report *r, bool lock, size_t *idx, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nqueries && max; i++) {
        const struct report_query *q = &r->queries[i];
        double v = lock ? q->lock_wait_ms : q->temp_bytes;
        if (!(lock ? q->lock_waits : q->temp_files) || !(v > 0))
            continue;
        /* insertion into a small sorted array */
        size_t pos = n;
        while (pos > 0) {
            const struct report_query *p = &r->queries[idx[pos - 1]];
            if ((lock ? p->lock_wait_ms : p->temp_bytes) >= v)
                break;
            pos--;
        }
        if (pos >= max)
            continue;
        size_t last = n < max ? n : max - 1;
        memmove(&idx[pos + 1], &idx[pos], (last - pos) * sizeof(idx[0]));
        idx[pos] = i;
        if (n < max)
            n++;
    }
    return n;
}

struct report_reject *report_add_reject(struct report *r)
{
    XGROW(r->rejects, r->nrejects + 1, r->rejects_alloc);
    struct report_reject *j = &r->rejects[r->nrejects++];
    memset(j, 0, sizeof(*j));
    return j;
}

struct report_alert *report_add_alert(struct report *r)
{
    XGROW(r->alerts, r->nalerts + 1, r->alerts_alloc);
    struct report_alert *a = &r->alerts[r->nalerts++];
    memset(a, 0, sizeof(*a));
    a->starts_us = a->ends_us = INT64_MIN;
    a->value = NAN;
    return a;
}

struct report_alert_rule *report_add_alert_rule(struct report *r)
{
    XGROW(r->alert_rules, r->nalert_rules + 1, r->alert_rules_alloc);
    struct report_alert_rule *c = &r->alert_rules[r->nalert_rules++];
    memset(c, 0, sizeof(*c));
    return c;
}

struct report_item *report_add_item(struct report *r, struct report_items *list)
{
    (void)r;
    XGROW(list->v, list->n + 1, list->alloc);
    struct report_item *it = &list->v[list->n++];
    memset(it, 0, sizeof(*it));
    it->sum = it->max = it->sum2 = it->sum3 = it->max2 = NAN;
    return it;
}

static void hist_set(struct report_hist *h, const double *b, size_t n)
{
    memset(h, 0, sizeof(*h));
    h->n = n < REPORT_HIST_MAX ? n : REPORT_HIST_MAX;
    memcpy(h->upper, b, h->n * sizeof(*b));
}

void report_hist_init_latency(struct report_hist *h)
{
    static const double b[] = { 0.1, 0.5, 1, 5, 10, 50, 100, 500, 1000, 5000, 10000, 60000 };
    hist_set(h, b, ARRAY_SIZE(b));
}

void report_hist_init_bytes(struct report_hist *h)
{
    static const double b[] = { 1 << 20, 8 << 20, 64 << 20, 256 << 20, 1 << 30, 4.0 * (1 << 30) };
    hist_set(h, b, ARRAY_SIZE(b));
}

void report_hist_init_seconds(struct report_hist *h)
{
    static const double b[] = { 1, 10, 60, 300, 1800, 3600, 4 * 3600, 24 * 3600 };
    hist_set(h, b, ARRAY_SIZE(b));
}

void report_hist_add(struct report_hist *h, double v, uint64_t n)
{
    size_t i = 0;
    while (i < h->n && !(v <= h->upper[i]))
        i++;
    h->count[i] += n;
}

/* ---- analysis ---- */

struct keyed {
    double key; /* larger first; NaN last */
    uint64_t fp;
    size_t idx;
};

static int keyed_cmp(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    bool xn = isnan(x->key), yn = isnan(y->key);
    if (xn != yn)
        return xn ? 1 : -1;
    if (!xn && x->key != y->key)
        return x->key > y->key ? -1 : 1;
    /* Ties: the fingerprint decides, so the order never depends on load order. */
    return x->fp < y->fp ? -1 : x->fp > y->fp;
}

static double rank_key(const struct report_query *q, enum report_rank k)
{
    switch (k) {
    case RR_TOTAL: return q->total_ms;
    case RR_MEAN: return q->calls ? q->total_ms / (double)q->calls : NAN;
    case RR_P95: return q->p95_ms;
    case RR_P99: return q->p99_ms;
    case RR_CALLS: return (double)q->calls;
    case RR_COUNT: break;
    }
    return NAN;
}

/* The top @n of @keys (sorted in place) as a new index array. */
static size_t *top_of(struct keyed *keys, size_t nkeys, size_t n, size_t *nout)
{
    qsort(keys, nkeys, sizeof(*keys), keyed_cmp);
    *nout = nkeys < n ? nkeys : n;
    size_t *out = xmalloc((*nout ? *nout : 1) * sizeof(*out));
    for (size_t i = 0; i < *nout; i++)
        out[i] = keys[i].idx;
    return out;
}

static int regression_cmp(const void *a, const void *b)
{
    const struct report_regression *x = a, *y = b;
    if (x->ratio != y->ratio)
        return x->ratio > y->ratio ? -1 : 1;
    if (x->query != y->query)
        return x->query < y->query ? -1 : 1;
    return (int)x->metric - (int)y->metric;
}

void report_analyze(struct report *r, const struct report_opts *opts)
{
    size_t top = opts && opts->top ? opts->top : 20;
    double ratio = opts && opts->regress_ratio > 0 ? opts->regress_ratio : 2.0;
    double min_p95 = opts && opts->regress_min_p95_ms > 0 ? opts->regress_min_p95_ms : 5.0;
    double min_total = opts && opts->regress_min_total_ms > 0 ? opts->regress_min_total_ms : 1000.0;
    uint64_t min_calls = opts && opts->regress_min_calls ? opts->regress_min_calls : 20;
    struct keyed *keys = xmalloc((r->nqueries ? r->nqueries : 1) * sizeof(*keys));

    if (!r->shapes_total)
        r->shapes_total = r->nqueries + r->other_shapes;

    for (int k = 0; k < RR_COUNT; k++) {
        size_t n = 0;
        for (size_t i = 0; i < r->nqueries; i++) {
            const struct report_query *q = &r->queries[i];
            if (!q->calls)
                continue;
            keys[n++] = (struct keyed){ rank_key(q, (enum report_rank)k), q->fingerprint, i };
        }
        free(r->rank[k]);
        r->rank[k] = top_of(keys, n, top, &r->nrank[k]);
    }

    /* Regressions: against the 7 days before, only with enough calls on both sides for
     * the comparison to mean something. */
    free(r->regressions);
    r->regressions = NULL;
    size_t nreg = 0, areg = 0;
    for (size_t i = 0; i < r->nqueries; i++) {
        const struct report_query *q = &r->queries[i];
        if (q->base_days <= 0 || q->calls < min_calls)
            continue;
        if (q->base_p95_ms > 0 && q->p95_ms >= ratio * q->base_p95_ms &&
            q->p95_ms - q->base_p95_ms >= min_p95) {
            XGROW(r->regressions, nreg + 1, areg);
            r->regressions[nreg++] =
                (struct report_regression){ i, RM_P95, q->p95_ms, q->base_p95_ms,
                                            q->p95_ms / q->base_p95_ms };
        }
        /* A partial day is compared with a whole one: scale the baseline to the period. */
        double days = (double)(r->to_us - r->from_us) / (double)USEC_PER_DAY;
        double base_total = q->base_total_ms * (days < 1 ? days : 1);
        if (base_total > 0 && q->total_ms >= ratio * base_total &&
            q->total_ms - base_total >= min_total) {
            XGROW(r->regressions, nreg + 1, areg);
            r->regressions[nreg++] =
                (struct report_regression){ i, RM_TOTAL, q->total_ms, base_total,
                                            q->total_ms / base_total };
        }
    }
    if (nreg)
        qsort(r->regressions, nreg, sizeof(*r->regressions), regression_cmp);
    r->regressions_total = nreg;
    r->nregressions = nreg < top ? nreg : top;

    /* New shapes: first seen in the period, with nothing in the baseline. */
    size_t n = 0;
    for (size_t i = 0; i < r->nqueries; i++) {
        const struct report_query *q = &r->queries[i];
        if (q->calls && q->base_days <= 0 && q->first_seen_us != INT64_MIN &&
            q->first_seen_us >= r->from_us)
            keys[n++] = (struct keyed){ q->total_ms, q->fingerprint, i };
    }
    free(r->new_queries);
    r->new_total = n;
    r->new_queries = top_of(keys, n, top, &r->nnew);

    /* Every shape that appears in some table gets one detail block. */
    bool *seen = xcalloc(r->nqueries ? r->nqueries : 1, 1);
    n = 0;
    for (int k = 0; k < RR_COUNT; k++)
        for (size_t i = 0; i < r->nrank[k]; i++)
            seen[r->rank[k][i]] = true;
    for (size_t i = 0; i < r->nregressions; i++)
        seen[r->regressions[i].query] = true;
    for (size_t i = 0; i < r->nnew; i++)
        seen[r->new_queries[i]] = true;
    for (size_t i = 0; i < r->nqueries; i++)
        if (seen[i])
            keys[n++] = (struct keyed){ r->queries[i].total_ms, r->queries[i].fingerprint, i };
    free(seen);
    free(r->shown);
    r->shown = top_of(keys, n, n, &r->nshown);
    free(keys);
}

/* ---- SQLSTATE names (PostgreSQL errcodes appendix) ---- */

static const struct {
    const char *code, *name;
} sqlstates[] = {
    { "00000", "successful_completion" },
    { "01000", "warning" },
    { "08000", "connection_exception" },
    { "08003", "connection_does_not_exist" },
    { "08006", "connection_failure" },
    { "08P01", "protocol_violation" },
    { "0A000", "feature_not_supported" },
    { "21000", "cardinality_violation" },
    { "22001", "string_data_right_truncation" },
    { "22003", "numeric_value_out_of_range" },
    { "22007", "invalid_datetime_format" },
    { "22008", "datetime_field_overflow" },
    { "22012", "division_by_zero" },
    { "22P02", "invalid_text_representation" },
    { "23502", "not_null_violation" },
    { "23503", "foreign_key_violation" },
    { "23505", "unique_violation" },
    { "23514", "check_violation" },
    { "23P01", "exclusion_violation" },
    { "25001", "active_sql_transaction" },
    { "25006", "read_only_sql_transaction" },
    { "25P01", "no_active_sql_transaction" },
    { "25P02", "in_failed_sql_transaction" },
    { "25P03", "idle_in_transaction_session_timeout" },
    { "28000", "invalid_authorization_specification" },
    { "28P01", "invalid_password" },
    { "2BP01", "dependent_objects_still_exist" },
    { "34000", "invalid_cursor_name" },
    { "3D000", "invalid_catalog_name" },
    { "3F000", "invalid_schema_name" },
    { "40001", "serialization_failure" },
    { "40P01", "deadlock_detected" },
    { "42501", "insufficient_privilege" },
    { "42601", "syntax_error" },
    { "42602", "invalid_name" },
    { "42701", "duplicate_column" },
    { "42702", "ambiguous_column" },
    { "42703", "undefined_column" },
    { "42704", "undefined_object" },
    { "42710", "duplicate_object" },
    { "42803", "grouping_error" },
    { "42804", "datatype_mismatch" },
    { "42809", "wrong_object_type" },
    { "42830", "invalid_foreign_key" },
    { "42883", "undefined_function" },
    { "42P01", "undefined_table" },
    { "42P02", "undefined_parameter" },
    { "42P07", "duplicate_table" },
    { "53000", "insufficient_resources" },
    { "53100", "disk_full" },
    { "53200", "out_of_memory" },
    { "53300", "too_many_connections" },
    { "54000", "program_limit_exceeded" },
    { "55000", "object_not_in_prerequisite_state" },
    { "55006", "object_in_use" },
    { "55P03", "lock_not_available" },
    { "57014", "query_canceled" },
    { "57P01", "admin_shutdown" },
    { "57P02", "crash_shutdown" },
    { "57P03", "cannot_connect_now" },
    { "57P05", "idle_session_timeout" },
    { "58000", "system_error" },
    { "58030", "io_error" },
    { "58P01", "undefined_file" },
    { "P0001", "raise_exception" },
    { "P0002", "no_data_found" },
    { "XX000", "internal_error" },
    { "XX001", "data_corrupted" },
    { "XX002", "index_corrupted" },
};

static const struct {
    const char *cls, *name;
} sqlclasses[] = {
    { "00", "successful completion" },
    { "01", "warning" },
    { "02", "no data" },
    { "03", "SQL statement not yet complete" },
    { "08", "connection exception" },
    { "09", "triggered action exception" },
    { "0A", "feature not supported" },
    { "0B", "invalid transaction initiation" },
    { "0F", "locator exception" },
    { "0L", "invalid grantor" },
    { "0P", "invalid role specification" },
    { "0Z", "diagnostics exception" },
    { "20", "case not found" },
    { "21", "cardinality violation" },
    { "22", "data exception" },
    { "23", "integrity constraint violation" },
    { "24", "invalid cursor state" },
    { "25", "invalid transaction state" },
    { "26", "invalid SQL statement name" },
    { "27", "triggered data change violation" },
    { "28", "invalid authorization specification" },
    { "2B", "dependent privilege descriptors still exist" },
    { "2D", "invalid transaction termination" },
    { "2F", "SQL routine exception" },
    { "34", "invalid cursor name" },
    { "38", "external routine exception" },
    { "39", "external routine invocation exception" },
    { "3B", "savepoint exception" },
    { "3D", "invalid catalog name" },
    { "3F", "invalid schema name" },
    { "40", "transaction rollback" },
    { "42", "syntax error or access rule violation" },
    { "44", "WITH CHECK OPTION violation" },
    { "53", "insufficient resources" },
    { "54", "program limit exceeded" },
    { "55", "object not in prerequisite state" },
    { "57", "operator intervention" },
    { "58", "system error" },
    { "72", "snapshot failure" },
    { "F0", "configuration file error" },
    { "HV", "foreign data wrapper error" },
    { "P0", "PL/pgSQL error" },
    { "XX", "internal error" },
};

const char *report_sqlstate_name(const char *sqlstate)
{
    for (size_t i = 0; i < ARRAY_SIZE(sqlstates); i++)
        if (!strcmp(sqlstate, sqlstates[i].code))
            return sqlstates[i].name;
    return "";
}

const char *report_sqlstate_class(const char *sqlstate)
{
    if (strlen(sqlstate) < 2)
        return "";
    for (size_t i = 0; i < ARRAY_SIZE(sqlclasses); i++)
        if (!strncmp(sqlstate, sqlclasses[i].cls, 2))
            return sqlclasses[i].name;
    return "";
}

int report_render(const struct report *r, const struct report_opts *opts, enum report_format fmt,
                  struct sbuf *out, struct diag *d)
{
    int rc;
    switch (fmt) {
    case REPORT_HTML:
        if (!lazylib_crypto(d)) /* the Content-Security-Policy's SHA-256 hashes */
            return -1;
        rc = report_render_html(r, opts, out);
        break;
    case REPORT_MD: rc = report_render_md(r, opts, out); break;
    case REPORT_JSON: rc = report_render_json(r, opts, out); break;
    default: BUG("unknown report format %d", (int)fmt);
    }
    if (rc < 0)
        return diag_set(d, DIAG_LIMIT, "report larger than %zu bytes", out->max);
    return 0;
}
