/* SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/xalloc.h"
#include "report/report_int.h"
#include "report/synth.h"

struct gen {
    uint64_t s;
    struct report *r;
    const struct report_synth_opts *o;
    size_t h; /* next hostile string */
};

static uint64_t next(struct gen *g)
{
    /* splitmix64: deterministic on every platform. */
    uint64_t z = (g->s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static double unit(struct gen *g)
{
    return (double)(next(g) >> 11) / 9007199254740992.0;
}

static double round3(double v)
{
    return round(v * 1000) / 1000;
}

/* A text field: hostile when asked for, else @fmt (always a literal in this file). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static struct span text(struct gen *g, const char *fmt, long a, long b)
{
    if (g->o->nhostile)
        return report_str(g->r, g->o->hostile[g->h++ % g->o->nhostile]);
    char buf[512];
    int n = snprintf(buf, sizeof(buf), fmt, a, b);
    return report_str(g->r, span_make(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1));
}
#pragma GCC diagnostic pop

static const char *const tables[] = { "orders",   "customers",  "invoices", "events",
                                      "sessions", "line_items", "products", "audit_log" };

static struct span query_text(struct gen *g, size_t i)
{
    if (g->o->nhostile)
        return text(g, "", 0, 0);
    char buf[600];
    size_t cols = 1 + i % 7;
    int n = snprintf(buf, sizeof(buf), "SELECT");
    for (size_t c = 0; c < cols; c++)
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s c%zu_%zu", c ? "," : "", c, i);
    n += snprintf(buf + n, sizeof(buf) - (size_t)n, " FROM %s t%zu WHERE id = $1",
                  tables[i % ARRAY_SIZE(tables)], i);
    if (i % 3 == 0)
        n +=
            snprintf(buf + n, sizeof(buf) - (size_t)n, " AND created_at > $2 ORDER BY id LIMIT $3");
    return report_str(g->r, span_make(buf, (size_t)n));
}

static void add_query(struct gen *g, size_t i)
{
    struct report *r = g->r;
    struct report_query *q = report_add_query(r);
    q->fingerprint = next(g);
    q->text = query_text(g, i);
    if (g->o->nhostile)
        q->sample = text(g, "", 0, 0);
    /* A Zipf-like call distribution with a lognormal-ish latency per shape. */
    q->calls = 1 + (uint64_t)(2e6 / pow((double)i + 1, 1.05) * (0.5 + unit(g)));
    double mean = round3(0.05 + 40 * pow(unit(g), 3));
    q->total_ms = round3(mean * (double)q->calls);
    q->min_ms = round3(mean * 0.2);
    q->p50_ms = round3(mean * 0.8);
    q->p95_ms = round3(mean * (2 + unit(g)));
    q->p99_ms = round3(q->p95_ms * 1.6);
    q->max_ms = round3(q->p99_ms * (1.2 + 3 * unit(g)));
    q->stddev_ms = round3(mean * 0.7);
    q->errors = i % 17 == 0 ? q->calls / 100 : 0;
    q->ndatabases = 1 + i % 2;
    q->databases = xcalloc(q->ndatabases, sizeof(*q->databases));
    for (size_t k = 0; k < q->ndatabases; k++)
        q->databases[k] = text(g, k ? "billing" : "app", 0, 0);
    q->nusers = 1 + (i % 5 == 0);
    q->users = xcalloc(q->nusers, sizeof(*q->users));
    for (size_t k = 0; k < q->nusers; k++)
        q->users[k] = text(g, k ? "etl" : "app_rw", 0, 0);
    q->nquery_ids = 1 + (i % 11 == 0);
    q->query_ids = xcalloc(q->nquery_ids, sizeof(*q->query_ids));
    for (size_t k = 0; k < q->nquery_ids; k++) {
        q->query_ids[k].id = (int64_t)next(g);
        q->query_ids[k].calls =
            k ? q->calls / 3 : q->calls - (q->nquery_ids > 1 ? q->calls / 3 : 0);
        q->query_ids[k].total_ms = round3(mean * (double)q->query_ids[k].calls);
    }
    bool is_new = i % 10 == 7;
    q->first_seen_us = is_new ? r->from_us + (int64_t)(unit(g) * 20 * 3600) * USEC_PER_SEC
                              : r->from_us - (int64_t)(1 + i % 30) * USEC_PER_DAY;
    q->last_seen_us = r->to_us - (int64_t)(unit(g) * 3600) * USEC_PER_SEC;
    if (q->last_seen_us < q->first_seen_us)
        q->last_seen_us = q->first_seen_us;
    if (!is_new) {
        q->base_days = 7;
        double f = i % 13 == 0 ? 0.3 : 0.9;
        q->base_calls = round3((double)q->calls * (0.8 + 0.4 * unit(g)));
        q->base_total_ms = round3(q->total_ms * f);
        q->base_p95_ms = round3(q->p95_ms * f);
    }
    if (i % 9 == 0) {
        q->temp_files = 1 + i % 4;
        q->temp_bytes = (double)q->temp_files * (1 << 20) * (1 + i % 50);
    }
    if (i % 14 == 0) {
        q->lock_waits = 1 + i % 3;
        q->lock_wait_ms = round3(1000 + 500 * unit(g));
    }
    q->plans = i % 20 == 0 ? 2 : 0;
    if (i < 500) {
        q->bucket_calls = xcalloc(r->nbuckets ? r->nbuckets : 1, sizeof(double));
        for (size_t b = 0; b < r->nbuckets; b++)
            q->bucket_calls[b] = floor((double)q->calls / (double)r->nbuckets *
                                       (0.4 + sin((double)b / 4) * 0.3 + 0.6 * unit(g)));
    }
    r->totals.v[RF_CALLS] += (double)q->calls;
    r->totals.v[RF_DURATION_MS] += q->total_ms;
    report_hist_add(&r->latency, q->p50_ms, q->calls / 2);
    report_hist_add(&r->latency, q->p95_ms, q->calls - q->calls / 2);
}

static void add_item(struct gen *g, struct report_items *l, const char *k, const char *d,
                     uint64_t count, double sum, double max, double sum2)
{
    struct report_item *it = report_add_item(g->r, l);
    it->key = text(g, k, 0, 0);
    it->detail = d ? text(g, d, 0, 0) : SPAN_NULL;
    it->count = count;
    it->sum = sum;
    it->max = max;
    it->sum2 = sum2;
}

static void stat(struct report_stat *s, uint64_t n, double sum, double max, double p95)
{
    *s = (struct report_stat){ n, sum, max, p95 };
}

static void synth_alerts(struct gen *g);

static void events(struct gen *g)
{
    struct report *r = g->r;
    static const char *const states[] = { "23505", "40P01", "57014", "42P01", "42703", "22P02",
                                          "53300", "28P01", "40001", "XX000", "0A000", "P0001" };
    uint64_t errors = 0;
    for (size_t i = 0; i < 30; i++) {
        struct report_error *e = report_add_error(r);
        snprintf(e->sqlstate, sizeof(e->sqlstate), "%s", states[i % ARRAY_SIZE(states)]);
        e->severity = i % 7 == 6 ? SEV_FATAL : SEV_ERROR;
        e->count = 1 + (uint64_t)(500 / (i + 1));
        e->message =
            text(g, "duplicate key value violates unique constraint \"t%ld_pkey\"", (long)i, 0);
        e->sample = text(g, "Key (id)=(%ld) already exists; email 'user%ld@example.com'",
                         (long)i * 7, (long)i);
        errors += e->count;
    }
    r->totals.v[RF_ERRORS] = (double)errors;

    uint64_t *ev = r->events;
    ev[EV_DURATION] = (uint64_t)r->totals.v[RF_CALLS];
    ev[EV_ERROR] = errors;
    ev[EV_LOCK_WAIT] = 42;
    ev[EV_LOCK_ACQUIRED] = 40;
    ev[EV_DEADLOCK] = 2;
    ev[EV_TEMP_FILE] = 120;
    ev[EV_CHECKPOINT] = 96;
    ev[EV_AUTOVACUUM] = 55;
    ev[EV_AUTOANALYZE] = 31;
    ev[EV_CONNECTION] = 5000;
    ev[EV_AUTHENTICATED] = 4990;
    ev[EV_DISCONNECTION] = 4985;
    ev[EV_CONNECTION_READY] = 4990;
    ev[EV_AUTH_FAILURE] = 10;
    ev[EV_CANCEL] = 7;
    ev[EV_TIMEOUT] = 3;
    ev[EV_TOO_MANY_CONNECTIONS] = 1;
    ev[EV_STARTUP] = 1;
    ev[EV_SHUTDOWN] = 1;
    ev[EV_OTHER] = 321;
    uint64_t records = 0;
    for (int k = 0; k < EV_KIND_COUNT; k++)
        records += ev[k];
    r->totals.v[RF_RECORDS] = (double)records;

    stat(&r->lock_wait_ms, 42, 61234.5, 9876.5, 4000);
    add_item(g, &r->locks, "ShareLock", "transaction %ld", 30, 40000, 9876.5, NAN);
    add_item(g, &r->locks, "AccessExclusiveLock", "relation 16384 of database 5", 12, 21234.5, 5000,
             NAN);
    r->deadlock_samples = xcalloc(2, sizeof(*r->deadlock_samples));
    r->ndeadlock_samples = 2;
    for (size_t i = 0; i < 2; i++)
        r->deadlock_samples[i] =
            text(g, "Process %ld waits for ShareLock on transaction %ld; blocked by process 4242.",
                 (long)(1000 + i), (long)(777 + i));

    stat(&r->temp_bytes, 120, 120.0 * 48 * (1 << 20), 2.0 * (1 << 30), 512.0 * (1 << 20));
    for (int i = 0; i < 120; i++)
        report_hist_add(&r->temp_hist, (double)(1 << 20) * (1 + i * i % 3000), 1);

    add_item(g, &r->checkpoint_causes, "time", NULL, 90, 180000, 150.2, NAN);
    add_item(g, &r->checkpoint_causes, "wal", NULL, 6, 90000, 40.5, NAN);
    stat(&r->ckpt_buffers, 96, 270000, 30000, 12000);
    stat(&r->ckpt_write_s, 96, 96 * 120.5, 150.1, 140);
    stat(&r->ckpt_sync_s, 96, 96 * 0.5, 2.25, 1.5);
    stat(&r->ckpt_total_s, 96, 96 * 121.5, 152.4, 142);
    stat(&r->ckpt_sync_longest_s, 96, 96 * 0.05, 0.9, 0.4);
    stat(&r->ckpt_wal_added, 96, 12, 3, 1);
    stat(&r->ckpt_wal_removed, 96, 40, 6, 2);
    stat(&r->ckpt_wal_recycled, 96, 300, 9, 6);
    stat(&r->ckpt_distance, 96, 96.0 * 40 * (1 << 20), 512.0 * (1 << 20), 300.0 * (1 << 20));
    stat(&r->ckpt_estimate, 96, 96.0 * 60 * (1 << 20), 512.0 * (1 << 20), 320.0 * (1 << 20));
    r->ckpt_warnings = 3;
    r->checkpoints = 96;

    for (size_t i = 0; i < 8; i++) {
        /* text() formats the key with two longs: the table name goes in first */
        char key[64];
        snprintf(key, sizeof(key), "app.public.%s", tables[i]);
        add_item(g, &r->vacuum, key, i % 2 ? "analyze" : "vacuum", 3 + (uint64_t)i,
                 12.5 * (double)(i + 1), 4.25 * (double)(i + 1), (double)(1000 * i));
        if (!(i % 2)) {
            r->vacuum.v[r->vacuum.n - 1].sum3 = (double)(40 * i);
            r->vacuum.v[r->vacuum.n - 1].max2 = (double)(25000 * i);
        }
    }
    stat(&r->vacuum_pages_removed, 28, 1200, 400, 300);
    stat(&r->vacuum_tuples_dead, 28, 56000, 25000, 20000);
    stat(&r->vacuum_buffer_reads, 28, 90000, 30000, 20000);
    stat(&r->vacuum_buffer_dirtied, 28, 45000, 15000, 9000);
    stat(&r->vacuum_wal_bytes, 28, 28.0 * 8 * (1 << 20), 64.0 * (1 << 20), 40.0 * (1 << 20));
    stat(&r->vacuum_s, 28, 450.5, 34.0, 30);
    stat(&r->analyze_s, 27, 50.25, 4.5, 4);

    add_item(g, &r->sessions_by, "app", "app_rw", 4000, NAN, NAN, NAN);
    add_item(g, &r->sessions_by, "billing", "etl", 985, NAN, NAN, NAN);
    add_item(g, &r->apps, "web-%ld", NULL, 3000, NAN, NAN, NAN);
    add_item(g, &r->apps, "psql", NULL, 1985, NAN, NAN, NAN);
    stat(&r->session_s, 4985, 4985 * 42.5, 86000, 600);
    for (int i = 0; i < 4985; i++)
        report_hist_add(&r->session_hist, (double)(i % 700) * (i % 5 ? 1 : 60), 1);
    r->peak_sessions = 87;
    stat(&r->setup_ms, 4990, 4990 * 6.5, 2417.3, 14.2);
    stat(&r->setup_auth_ms, 4990, 4990 * 3.1, 2401.0, 9.8);

    add_item(g, &r->cancels, "cancel", "user request", 7, NAN, NAN, NAN);
    add_item(g, &r->cancels, "timeout", "statement timeout", 3, NAN, NAN, NAN);

    struct report_reject *j = report_add_reject(r);
    j->source = text(g, "/var/log/postgresql/postgresql-%ld.log", 15, 0);
    j->reason = text(g, "line does not match the log_line_prefix", 0, 0);
    j->count = 12;
    j->sample_line = 42;
    j->nsamples = 3;
    j->samples = xcalloc(3, sizeof(*j->samples));
    for (size_t i = 0; i < 3; i++)
        j->samples[i] = text(g, "garbage line %ld with 'secret-%ld'", (long)i, (long)i);
    r->totals.v[RF_REJECTS] = 12;

    r->plans_known = true;
    r->plans_total = 3;
    for (size_t i = 0; i < 3 && r->nqueries; i++) {
        XGROW(r->plans, r->nplans + 1, r->plans_alloc);
        struct report_plan *p = &r->plans[r->nplans++];
        *p = (struct report_plan){ .fingerprint = r->queries[i].fingerprint, .plan_fp = next(g) };
        p->query = r->queries[i].text;
        p->database = text(g, "app", 0, 0);
        p->shape = text(g, "Aggregate > Seq Scan on t%ld", (long)i, 0);
        p->insights = i == 0 ? text(g, "seq_scan_filter,disk_sort", 0, 0) : SPAN_NULL;
        if (!p->insights.p)
            p->insights = report_str(r, SPAN_LIT(""));
        p->format = report_str(r, SPAN_LIT("text"));
        p->sample =
            text(g, "Aggregate (actual rows=%ld loops=1)\n  ->  Seq Scan on t%ld", 1, (long)i);
        p->calls = 10 + i;
        p->total_ms = 1000.0 / (double)(i + 1);
        p->mean_ms = p->total_ms / (double)p->calls;
        p->p95_ms = p->mean_ms * 2;
        p->first_us = r->from_us;
        p->last_us = r->to_us - USEC_PER_SEC;
    }
    if (r->nplans) {
        XGROW(r->plan_changes, r->nplan_changes + 1, r->plan_changes_alloc);
        r->plan_changes[r->nplan_changes++] =
            (struct report_plan_change){ .fingerprint = r->plans[0].fingerprint,
                                         .from_plan = r->plans[1].plan_fp,
                                         .to_plan = r->plans[0].plan_fp,
                                         .query = r->plans[0].query,
                                         .database = r->plans[0].database,
                                         .from_shape = r->plans[1].shape,
                                         .to_shape = r->plans[0].shape,
                                         .at_us = r->from_us + 9 * 3600 * USEC_PER_SEC,
                                         .calls_before = 40,
                                         .calls_after = 12,
                                         .before_ms = 2.5,
                                         .after_ms = 85,
                                         .slower_by = 34 };
    }
    synth_alerts(g);
    /* (after the alerts: the hostile strings are dealt out in turn, and t501 expects
     * the alerts' where they were) */
    add_item(g, &r->hosts, "10.0.%ld.7", NULL, 4200, NAN, NAN, NAN);
    add_item(g, &r->hosts, "[local]", NULL, 785, NAN, NAN, NAN);
    static const char *const steps[] = { "parse", "bind" }; /* (fixed names: not log text) */
    for (size_t k = 0; k < ARRAY_SIZE(steps); k++) {
        struct report_item *it = report_add_item(r, &r->phases);
        it->key = report_str(r, span_cstr(steps[k]));
        it->count = 1200 - 200 * k;
        it->sum = 84.5 + 10 * (double)k;
    }
    add_item(g, &r->time_by, "app", "app_rw", 41000, 3.5e6, NAN, NAN);
    add_item(g, &r->time_by, "billing", "etl", 985, 2.25e5, NAN, NAN);
    /* The slowest executions: the busiest shapes' maxima, one bucket each. */
    r->nslowest = r->nqueries < 5 ? r->nqueries : 5;
    r->slowest = r->nslowest ? xcalloc(r->nslowest, sizeof(*r->slowest)) : NULL;
    for (size_t i = 0; i < r->nslowest; i++) {
        const struct report_query *q = &r->queries[i];
        r->slowest[i] = (struct report_slow){
            .at_us = r->from_us + (int64_t)(3 + i) * 3600 * USEC_PER_SEC,
            .width_s = i == 4 ? 3600 : 60,
            .fingerprint = q->fingerprint,
            .database = report_str(r, span_cstr(i % 2 ? "billing" : "app")),
            .user = report_str(r, span_cstr("app_rw")),
            .query = q->text,
            .ms = isfinite(q->max_ms) ? q->max_ms : 1000.0 / (double)(i + 1),
        };
    }
    for (size_t i = 1; i < r->nslowest; i++) /* slowest first, as the store gives them */
        for (size_t k = i; k > 0 && r->slowest[k].ms > r->slowest[k - 1].ms; k--) {
            struct report_slow t = r->slowest[k];
            r->slowest[k] = r->slowest[k - 1];
            r->slowest[k - 1] = t;
        }
}

/* Alert episodes of every kind: fired and resolved in the period, fired before and
 * resolved in it, fired in it and still firing, firing all through; with the per-rule
 * counts report_read_alerts() would compute. */
static void synth_alerts(struct gen *g)
{
    struct report *r = g->r;
    static const struct {
        const char *rule, *sev;
        int start_h, end_h; /* hours from the period's start; end -1: still firing */
        int notified, failed;
    } ep[] = {
        { "deadlock", "critical", 5, 6, 2, 0 },       { "deadlock", "critical", 9, 9, 1, 1 },
        { "slow_p95", "warning", -3, 2, 1, 0 },       { "slow_p95", "warning", 20, -1, 0, 1 },
        { "new_query_shape", "info", -30, -1, 0, 0 },
    };
    struct span rules[ARRAY_SIZE(ep)];
    r->alerts_known = true;
    for (size_t i = 0; i < ARRAY_SIZE(ep); i++) {
        struct report_alert *a = report_add_alert(r);
        a->rule = rules[i] = i && !g->o->nhostile && !strcmp(ep[i].rule, ep[i - 1].rule)
                                 ? rules[i - 1]
                                 : text(g, ep[i].rule, 0, 0);
        a->severity = report_str(r, span_cstr(ep[i].sev));
        a->labels = text(g, "database=app, user=u%ld", (long)i, 0);
        a->summary = text(g, "value %ld on database 'app'", 2 + (long)i, 0);
        a->starts_us = r->from_us + ep[i].start_h * 3600 * USEC_PER_SEC + 60 * USEC_PER_SEC;
        a->fired_in_period = ep[i].start_h >= 0;
        if (ep[i].end_h >= 0) {
            a->ends_us = r->from_us + ep[i].end_h * 3600 * USEC_PER_SEC + 600 * USEC_PER_SEC;
            a->resolved_in_period = true;
        }
        a->status = span_cstr(a->resolved_in_period ? "resolved" : "firing");
        a->value = 2 + (double)i;
        a->notified = (uint64_t)ep[i].notified;
        a->failed = (uint64_t)ep[i].failed;
        r->alerts_fired += a->fired_in_period;
        r->alerts_resolved += a->resolved_in_period;
        r->alerts_firing += !a->resolved_in_period;
        struct report_alert_rule *c = NULL;
        for (size_t k = 0; k < r->nalert_rules && !c; k++)
            if (span_eq(r->alert_rules[k].rule, a->rule))
                c = &r->alert_rules[k];
        if (!c) {
            c = report_add_alert_rule(r);
            c->rule = a->rule;
        }
        c->fired += a->fired_in_period;
        c->resolved += a->resolved_in_period;
        c->firing_at_end += !a->resolved_in_period;
    }
    report_sort_alerts(r);
}

int report_synth(struct report *r, const struct report_synth_opts *o, struct diag *d)
{
    struct gen g = { o->seed ? o->seed : 42, r, o, 0 };
    const char *day = o->day ? o->day : "2026-11-24";
    int64_t dus;
    struct tz tz;

    if (!clock_parse_rfc3339(span_cstr(day), &dus) || strlen(day) != 10)
        return diag_set(d, DIAG_USAGE, "invalid day '%s' (expected YYYY-MM-DD)", day);
    if (tz_load(&tz, o->tz ? o->tz : "UTC", d) < 0)
        return -1;
    int y;
    unsigned m, dd;
    clock_civil_from_days(dus / USEC_PER_DAY, &y, &m, &dd);
    int64_t from = tz_local_midnight(&tz, y, m, dd);
    clock_civil_from_days(dus / USEC_PER_DAY + 1, &y, &m, &dd);
    int64_t to = tz_local_midnight(&tz, y, m, dd);
    report_set_period(r, from, to, &tz, day);
    snprintf(r->generator, sizeof(r->generator), "pgsift (synthetic)");
    r->generated_us = to + 6 * 3600 * USEC_PER_SEC;

    for (int f = 0; f < RF_COUNT; f++)
        r->totals.v[f] = 0;
    size_t n = o->fingerprints ? o->fingerprints : 1000;
    for (size_t i = 0; i < n; i++)
        add_query(&g, i);
    r->shapes_total = n;
    /* Queries by type: the shapes' calls and time split among three kinds, so that the
     * sums stay those of the day. */
    uint64_t calls = 0;
    double total = 0;
    for (size_t i = 0; i < r->nqueries; i++) {
        calls += r->queries[i].calls;
        total += r->queries[i].total_ms;
    }
    static const char *const kinds[] = { "select", "update", "other" };
    const uint64_t kc[] = { calls - calls / 2, calls / 2 - calls / 8, calls / 8 };
    const double kt[] = { total * 0.6, total * 0.3, total * 0.1 };
    const size_t ks[] = { n - n / 2, n / 2 - n / 8, n / 8 };
    for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) { /* (fixed names: not log text) */
        struct report_item *it = report_add_item(r, &r->commands);
        it->key = report_str(r, span_cstr(kinds[k]));
        it->count = kc[k];
        it->sum = kt[k];
        it->sum2 = (double)ks[k];
    }
    events(&g);
    /* The one p95 of the day, from the histogram's shape: close to the busiest shapes'. */
    r->totals.v[RF_P95_MS] = r->nqueries ? r->queries[0].p95_ms : NAN;

    for (size_t b = 0; b < r->nbuckets; b++) {
        double w = (0.5 + 0.5 * sin((double)b / 24 * 6.283)) / (double)r->nbuckets * 2;
        r->buckets[b].calls = (uint64_t)(r->totals.v[RF_CALLS] * w);
        r->buckets[b].duration_ms = round3(r->totals.v[RF_DURATION_MS] * w);
        r->buckets[b].p95_ms = round3(r->totals.v[RF_P95_MS] * (0.8 + 0.4 * unit(&g)));
        r->buckets[b].errors = (uint64_t)(r->totals.v[RF_ERRORS] * w);
        r->buckets[b].events[EV_DURATION] = r->buckets[b].calls;
    }
    r->ntrend = REPORT_TREND_DAYS;
    for (int t = 0; t < REPORT_TREND_DAYS; t++) {
        struct report_day *dd2 = &r->trend[t];
        dd2->start_us = from - (int64_t)(REPORT_TREND_DAYS - 1 - t) * USEC_PER_DAY;
        dd2->present = t != 2; /* one day without data */
        for (int f = 0; f < RF_COUNT; f++)
            dd2->f.v[f] = t == REPORT_TREND_DAYS - 1 ? r->totals.v[f]
                                                     : round3(r->totals.v[f] * (0.7 + 0.05 * t));
    }
    r->prev_day = r->trend[REPORT_TREND_DAYS - 2].f;
    for (int f = 0; f < RF_COUNT; f++) {
        double sum = 0;
        int days = 0;
        for (int t = 0; t < REPORT_TREND_DAYS - 1; t++)
            if (r->trend[t].present) {
                sum += r->trend[t].f.v[f];
                days++;
            }
        r->avg_7d.v[f] = days ? round3(sum / days) : NAN;
    }
    return 0;
}
