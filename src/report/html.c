/* SPDX-License-Identifier: MIT */
/*
 * html.c - the report as one self-contained HTML file.
 *
 * No network: the style sheet and the optional sort script are embedded, charts are
 * inline SVG, and a Content-Security-Policy meta tag allows nothing but that style
 * sheet and that script (by their SHA-256), so even a string that escaped its escaping
 * could not load or run anything. Every table is complete and pre-sorted without the
 * script (each ranking is its own table); the script only adds click-to-sort. Numeric
 * cells carry their exact value in data-v (the same text as the JSON output).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/escape.h"
#include "core/lazylib.h"
#include "report/report_int.h"
#include "report/svg.h"

/* A numeric cell: exact value in data-v (as the JSON has it: a percentile by its key, or
 * with @est), human text shown. */
static void num_cell_as(struct rw *h, const char *key, double v, const char *shown, bool est)
{
    char exact[FMT_MAX];
    if (est || fmt_key_is_estimate(key))
        fmt_est_num(exact, sizeof(exact), v);
    else
        fmt_plain_num(exact, sizeof(exact), v);
    rw_f(h, "<td class=\"n\" data-k=\"%s\"", key);
    if (*exact)
        rw_f(h, " data-v=\"%s\"", exact);
    rw_s(h, ">");
    rw_ec(h, shown);
    rw_s(h, "</td>");
}

static void num_cell(struct rw *h, const char *key, double v, const char *shown)
{
    num_cell_as(h, key, v, shown, false);
}

static void ms_cell(struct rw *h, const char *key, double ms)
{
    char b[FMT_MAX];
    fmt_ms(b, sizeof(b), ms);
    num_cell(h, key, ms, b);
}

static void count_cell(struct rw *h, const char *key, double n)
{
    char b[FMT_MAX];
    fmt_count(b, sizeof(b), n);
    num_cell(h, key, n, b);
}

static void text_cell(struct rw *h, struct span s)
{
    rw_s(h, "<td>");
    rw_e(h, s);
    rw_s(h, "</td>");
}

static void sample(struct rw *h, struct span s, size_t max)
{
    rw_e(h, rw_sample(h, s, max));
}

/* report_render() has loaded libcrypto before it calls the renderer. */
static void sha256_b64(struct rw *h, const char *data, size_t len)
{
    const struct lib_crypto *L = lazylib_crypto(NULL);
    unsigned char md[EVP_MAX_MD_SIZE], out[(EVP_MAX_MD_SIZE + 2) / 3 * 4 + 1];
    unsigned int mdlen = 0;
    if (!L || !L->digest(data, len, md, &mdlen, L->sha256(), NULL)) {
        h->err = -1;
        return;
    }
    L->encode_block(out, md, (int)mdlen);
    rw_s(h, (const char *)out);
}

static void empty_note(struct rw *h, const char *what)
{
    rw_s(h, "<p class=\"note\">");
    rw_ec(h, what);
    rw_s(h, "</p>\n");
}

static void query_link(struct rw *h, const struct report_query *q)
{
    char fp[17];
    int cut;
    fmt_fingerprint(fp, q->fingerprint);
    rw_f(h, "<a class=\"sql\" href=\"#q-%s\">", fp);
    rw_e(h, text_cut(q->text, REPORT_SHORT_TEXT, &cut));
    if (cut)
        rw_s(h, "\xe2\x80\xa6");
    rw_s(h, "</a>");
}

/* ---- header and summary ---- */

static void head(struct rw *h)
{
    const struct report *r = h->r;
    size_t css_len, js_len;
    const char *css = report_css(&css_len);
    const char *js = report_js(&js_len);
    bool script = !(h->flags & REPORT_NO_SCRIPT) && js_len;
    char from[FMT_MAX], ob[8];

    fmt_local(r, r->from_us, from, sizeof(from));
    /* Polyglot markup: HTML5 that is also well-formed XML (void elements closed, every
     * attribute quoted, only XML's entities), so tests can check it with an XML parser. */
    rw_s(h, "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n"
            "<meta charset=\"utf-8\"/>\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "style-src 'sha256-");
    sha256_b64(h, css, css_len);
    rw_s(h, "'; script-src ");
    if (script) {
        rw_s(h, "'sha256-");
        sha256_b64(h, js, js_len);
        rw_s(h, "'");
    } else {
        rw_s(h, "'none'");
    }
    rw_s(h, "; img-src data:; base-uri 'none'; form-action 'none'\"/>\n"
            "<meta name=\"color-scheme\" content=\"light dark\"/>\n<meta name=\"generator\" "
            "content=\"");
    rw_ec(h, r->generator);
    rw_s(h, "\"/>\n<title>PostgreSQL log report ");
    rw_ec(h, r->day[0] ? r->day : from);
    rw_s(h, " (");
    rw_ec(h, r->tz.name);
    rw_s(h, ")</title>\n<style>");
    rw_raw(h, css, css_len);
    rw_s(h, "</style>\n</head>\n<body>\n<header>\n<h1>PostgreSQL log report");
    if (r->day[0]) {
        rw_s(h, " \xe2\x80\x94 ");
        rw_ec(h, r->day);
    }
    rw_s(h, "</h1>\n<p class=\"period\">Period: ");
    char b[FMT_MAX], iso[CLOCK_RFC3339_MAX];
    rw_f(h, "<time datetime=\"%s\">", clock_format_rfc3339(r->from_us, 0, iso));
    rw_ec(h, from);
    rw_s(h, "</time> to ");
    fmt_local(r, r->to_us, b, sizeof(b));
    rw_f(h, "<time datetime=\"%s\">", clock_format_rfc3339(r->to_us, 0, iso));
    rw_ec(h, b);
    rw_s(h, "</time> (end excluded). Time zone: <strong id=\"tz\">");
    rw_ec(h, r->tz.name);
    rw_s(h, "</strong> (UTC");
    rw_s(h, tz_format_offset(tz_offset_at(&r->tz, r->from_us), ob));
    int32_t off_end = tz_offset_at(&r->tz, r->to_us - 1);
    if (off_end != tz_offset_at(&r->tz, r->from_us)) {
        rw_s(h, ", then UTC");
        rw_s(h, tz_format_offset(off_end, ob));
    }
    rw_s(h, "); every time in this report is in this zone.</p>\n");
    char counted[512];
    if (fmt_counted_period(r, counted, sizeof(counted)))
        rw_f(h, "<p class=\"note\" id=\"counted\">%s</p>\n", counted);
    rw_s(h, "<nav aria-label=\"Sections\"><a href=\"#summary\">Summary</a><a "
            "href=\"#activity\">Activity</a><a href=\"#queries\">Top queries</a><a "
            "href=\"#slowest\">Slowest executions</a><a href=\"#types\">Queries by type</a><a "
            "href=\"#regressions\">Regressions</a><a href=\"#new\">New queries</a><a "
            "href=\"#plans\">Plans</a><a "
            "href=\"#errors\">Errors</a><a href=\"#locks\">Locks</a><a href=\"#temp\">Temp "
            "files</a><a href=\"#checkpoints\">Checkpoints</a><a "
            "href=\"#vacuum\">Autovacuum</a><a href=\"#sessions\">Connections</a><a "
            "href=\"#cancels\">Cancellations</a><a href=\"#events\">Events</a><a "
            "href=\"#rejects\">Rejected lines</a><a href=\"#alerts\">Alerts</a><a "
            "href=\"#details\">Query details</a></nav>\n</header>\n<main>\n");
}

static bool bad_when_up(enum report_figure f)
{
    return f != RF_RECORDS && f != RF_CALLS;
}

static void change_cell(struct rw *h, enum report_figure f, const char *key, double cur,
                        double base)
{
    char b[FMT_MAX];
    const char *cls = "";
    fmt_change(b, sizeof(b), cur, base);
    if (isfinite(cur) && isfinite(base) && base > 0 && bad_when_up(f)) {
        double c = (cur - base) / base;
        cls = c > 0.1 ? " up" : c < -0.1 ? " down" : "";
    }
    double exact = isfinite(cur) && isfinite(base) && base != 0 ? (cur - base) / base * 100 : NAN;
    char e[FMT_MAX];
    fmt_plain_num(e, sizeof(e), exact);
    rw_f(h, "<td class=\"n%s\" data-k=\"%s\"", cls, key);
    if (*e)
        rw_f(h, " data-v=\"%s\"", e);
    rw_s(h, ">");
    rw_ec(h, b);
    rw_s(h, "</td>");
}

static void summary(struct rw *h)
{
    const struct report *r = h->r;

    rw_s(h, "<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"wrap\"><table "
            "class=\"figures\" id=\"t-figures\">\n<thead><tr><th>Figure</th><th "
            "class=\"n\">This period</th><th class=\"n\">Previous day</th><th "
            "class=\"n\">Change</th><th class=\"n\">7-day average</th><th "
            "class=\"n\">Change</th><th>Last 8 days</th></tr></thead>\n<tbody>\n");
    for (int f = 0; f < RF_COUNT; f++) {
        char b[FMT_MAX];
        const char *key = report_figure_key((enum report_figure)f);
        rw_f(h, "<tr data-k=\"%s\"><th scope=\"row\">", key);
        rw_ec(h, report_figure_label((enum report_figure)f));
        rw_s(h, "</th>");
        bool est = fmt_key_is_estimate(key);
        fmt_figure(b, sizeof(b), (enum report_figure)f, r->totals.v[f]);
        num_cell_as(h, "value", r->totals.v[f], b, est);
        fmt_figure(b, sizeof(b), (enum report_figure)f, r->prev_day.v[f]);
        num_cell_as(h, "previous_day", r->prev_day.v[f], b, est);
        change_cell(h, (enum report_figure)f, "change_previous_day", r->totals.v[f],
                    r->prev_day.v[f]);
        fmt_figure(b, sizeof(b), (enum report_figure)f, r->avg_7d.v[f]);
        num_cell_as(h, "avg_7d", r->avg_7d.v[f], b, est);
        change_cell(h, (enum report_figure)f, "change_avg_7d", r->totals.v[f], r->avg_7d.v[f]);
        rw_s(h, "<td>");
        if (r->ntrend) {
            double v[REPORT_TREND_DAYS];
            for (size_t i = 0; i < r->ntrend; i++)
                v[i] = r->trend[i].present ? r->trend[i].f.v[f] : NAN;
            char t[96];
            snprintf(t, sizeof(t), "%s, last %zu days", report_figure_label((enum report_figure)f),
                     r->ntrend);
            if (!h->err)
                rw_check(h, svg_sparkline(h->sb, t, v, r->ntrend, 0, 0));
        }
        rw_s(h, "</td></tr>\n");
    }
    rw_s(h, "</tbody></table></div>\n");
    char b[FMT_MAX];
    fmt_count(b, sizeof(b), (double)r->shapes_total);
    rw_s(h, "<p>");
    rw_ec(h, b);
    rw_s(h, r->shapes_total == 1 ? " distinct query shape ran in this period."
                                 : " distinct query shapes ran in this period.");
    if (r->regressions_total || r->new_total) {
        rw_f(h,
             " <a href=\"#regressions\">%llu regression%s</a>, <a href=\"#new\">%llu new "
             "shape%s</a>.",
             (unsigned long long)r->regressions_total, r->regressions_total == 1 ? "" : "s",
             (unsigned long long)r->new_total, r->new_total == 1 ? "" : "s");
    }
    rw_s(h, "</p>\n</section>\n");
}

/* ---- charts ---- */

static void figure_open(struct rw *h, const char *caption)
{
    rw_s(h, "<figure><figcaption>");
    rw_ec(h, caption);
    rw_s(h, "</figcaption>");
}

static void activity(struct rw *h)
{
    const struct report *r = h->r;
    size_t n = r->nbuckets;
    double calls[REPORT_MAX_BUCKETS], dur[REPORT_MAX_BUCKETS], p95[REPORT_MAX_BUCKETS],
        errs[REPORT_MAX_BUCKETS];
    char lab[REPORT_MAX_BUCKETS][16];
    const char *labels[REPORT_MAX_BUCKETS];
    const char *unit = r->bucket_us > INT64_C(3600) * 1000000 ? "bucket" : "hour";
    char cap[96];

    for (size_t i = 0; i < n; i++) {
        calls[i] = (double)r->buckets[i].calls;
        dur[i] = r->buckets[i].duration_ms;
        p95[i] = r->buckets[i].p95_ms;
        errs[i] = (double)r->buckets[i].errors;
        fmt_bucket_label(r, i, lab[i], sizeof(lab[i]));
        labels[i] = lab[i];
    }
    rw_s(h, "<section id=\"activity\">\n<h2>Activity</h2>\n<div class=\"charts\">\n");
    snprintf(cap, sizeof(cap), "Calls per %s", unit);
    figure_open(h, cap);
    rw_check(h, svg_bars(h->sb, &(struct svg_chart){ .title = cap, .labels = labels }, calls, n));
    rw_s(h, "</figure>\n");
    snprintf(cap, sizeof(cap), "Total time per %s", unit);
    figure_open(h, cap);
    rw_check(h, svg_line(h->sb,
                         &(struct svg_chart){ .title = cap, .labels = labels, .fmt = fmt_ms_axis },
                         &(struct svg_series){ "total", dur, n }, 1, 1));
    rw_s(h, "</figure>\n");
    snprintf(cap, sizeof(cap), "p95 latency per %s", unit);
    figure_open(h, cap);
    rw_check(h, svg_line(h->sb,
                         &(struct svg_chart){ .title = cap, .labels = labels, .fmt = fmt_ms_axis },
                         &(struct svg_series){ "p95", p95, n }, 1, 0));
    rw_s(h, "</figure>\n");
    snprintf(cap, sizeof(cap), "Errors per %s", unit);
    figure_open(h, cap);
    rw_check(h, svg_bars(h->sb, &(struct svg_chart){ .title = cap, .labels = labels }, errs, n));
    rw_s(h, "</figure>\n");

    if (r->ntrend) {
        double tp95[REPORT_TREND_DAYS], tcalls[REPORT_TREND_DAYS];
        char tl[REPORT_TREND_DAYS][16];
        const char *tlabels[REPORT_TREND_DAYS];
        for (size_t i = 0; i < r->ntrend; i++) {
            char iso[TZ_LOCAL_MAX];
            tz_format_local(&r->tz, r->trend[i].start_us, iso);
            snprintf(tl[i], sizeof(tl[i]), "%.5s", iso + 5);
            tlabels[i] = tl[i];
            tp95[i] = r->trend[i].present ? r->trend[i].f.v[RF_P95_MS] : NAN;
            tcalls[i] = r->trend[i].present ? r->trend[i].f.v[RF_CALLS] : NAN;
        }
        figure_open(h, "p95 latency, last 8 days");
        rw_check(h, svg_line(h->sb,
                             &(struct svg_chart){ .title = "p95 latency, last 8 days",
                                                  .labels = tlabels,
                                                  .label_every = 1,
                                                  .fmt = fmt_ms_axis },
                             &(struct svg_series){ "p95", tp95, r->ntrend }, 1, 0));
        rw_s(h, "</figure>\n");
        figure_open(h, "Calls per day, last 8 days");
        rw_check(h, svg_bars(h->sb,
                             &(struct svg_chart){ .title = "Calls per day, last 8 days",
                                                  .labels = tlabels,
                                                  .label_every = 1 },
                             tcalls, r->ntrend));
        rw_s(h, "</figure>\n");
    }

    /* Latency histogram. */
    char hl[REPORT_HIST_MAX + 1][FMT_MAX + 4];
    const char *hlabels[REPORT_HIST_MAX + 1];
    for (size_t i = 0; i <= r->latency.n; i++) {
        fmt_hist_label(hl[i], sizeof(hl[i]), &r->latency, i, fmt_short_ms);
        hlabels[i] = hl[i];
    }
    figure_open(h, "Calls by duration");
    rw_check(h, svg_histogram(
                    h->sb, &(struct svg_chart){ .title = "Calls by duration", .labels = hlabels },
                    r->latency.count, r->latency.n + 1));
    rw_s(h, "</figure>\n</div>\n");

    /* The same numbers as a table (screen readers, copy and paste). */
    rw_s(h, "<h3>By hour</h3>\n<div class=\"wrap\"><table class=\"sortable\" "
            "id=\"t-hourly\">\n<thead><tr><th>Start</th><th class=\"n\">Calls</th><th "
            "class=\"n\">Total time</th><th class=\"n\">p95</th><th "
            "class=\"n\">Errors</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < n; i++) {
        char iso[CLOCK_RFC3339_MAX];
        rw_f(h, "<tr><td data-v=\"%zu\"><time datetime=\"%s\">", i,
             clock_format_rfc3339(r->buckets[i].start_us, 0, iso));
        rw_ec(h, lab[i]);
        rw_s(h, "</time></td>");
        count_cell(h, "calls", calls[i]);
        ms_cell(h, "duration_ms", dur[i]);
        ms_cell(h, "p95_ms", p95[i]);
        count_cell(h, "errors", errs[i]);
        rw_s(h, "</tr>\n");
    }
    rw_s(h, "</tbody></table></div>\n</section>\n");
}

/* ---- queries ---- */

static const char *const rank_titles[RR_COUNT] = {
    [RR_TOTAL] = "By total time", [RR_MEAN] = "By mean time", [RR_P95] = "By p95 latency",
    [RR_P99] = "By p99 latency",  [RR_CALLS] = "By calls",
};

static void query_row(struct rw *h, size_t pos, const struct report_query *q)
{
    const struct report *r = h->r;
    char fp[17], b[FMT_MAX];
    fmt_fingerprint(fp, q->fingerprint);
    rw_f(h, "<tr data-fp=\"%s\"><td class=\"n\" data-v=\"%zu\">%zu</td><td>", fp, pos, pos);
    query_link(h, q);
    rw_s(h, "</td>");
    count_cell(h, "calls", (double)q->calls);
    ms_cell(h, "total_ms", q->total_ms);
    double share =
        r->totals.v[RF_DURATION_MS] > 0 ? q->total_ms / r->totals.v[RF_DURATION_MS] * 100 : NAN;
    if (isfinite(share))
        snprintf(b, sizeof(b), "%.1f%%", share);
    else
        snprintf(b, sizeof(b), "\xe2\x80\x93");
    num_cell(h, "share_pct", share, b);
    ms_cell(h, "mean_ms", query_mean(q));
    ms_cell(h, "p50_ms", q->p50_ms);
    ms_cell(h, "p95_ms", q->p95_ms);
    ms_cell(h, "p99_ms", q->p99_ms);
    ms_cell(h, "max_ms", q->max_ms);
    rw_s(h, "<td>");
    if (q->bucket_calls)
        rw_check(h, svg_sparkline(h->sb, "calls per hour", q->bucket_calls, r->nbuckets, 0, 0));
    rw_s(h, "</td></tr>\n");
}

static void queries(struct rw *h)
{
    const struct report *r = h->r;
    char b[FMT_MAX];

    rw_s(h, "<section id=\"queries\">\n<h2>Top queries</h2>\n<p class=\"tabs\">Rankings: ");
    for (int k = 0; k < RR_COUNT; k++)
        rw_f(h, "<a href=\"#top-%s\">%s</a>", report_rank_key((enum report_rank)k),
             rank_titles[k] + 3);
    rw_s(h, "</p>\n");
    for (int k = 0; k < RR_COUNT; k++) {
        const char *key = report_rank_key((enum report_rank)k);
        rw_f(h, "<h3 id=\"top-%s\">%s</h3>\n", key, rank_titles[k]);
        if (!r->nrank[k]) {
            empty_note(h, "No statements with a duration in this period.");
            continue;
        }
        rw_f(h,
             "<div class=\"wrap\"><table class=\"sortable q\" id=\"t-top-%s\">\n"
             "<thead><tr><th class=\"n\">#</th><th>Query</th><th class=\"n\">Calls</th><th "
             "class=\"n\">Total</th><th class=\"n\">%% of time</th><th class=\"n\">Mean</th><th "
             "class=\"n\">p50</th><th class=\"n\">p95</th><th class=\"n\">p99</th><th "
             "class=\"n\">Max</th><th>Calls per hour</th></tr></thead>\n<tbody>\n",
             key);
        for (size_t i = 0; i < r->nrank[k]; i++)
            query_row(h, i + 1, &r->queries[r->rank[k][i]]);
        rw_s(h, "</tbody></table></div>\n");
    }
    uint64_t listed = r->shapes_total > r->nshown ? r->shapes_total - r->nshown : 0;
    uint64_t calls = 0;
    double total = 0;
    for (size_t i = 0; i < r->nqueries; i++) {
        calls += r->queries[i].calls;
        total += r->queries[i].total_ms;
    }
    for (size_t i = 0; i < r->nshown; i++) {
        calls -= r->queries[r->shown[i]].calls;
        total -= r->queries[r->shown[i]].total_ms;
    }
    calls += r->other_calls;
    total += r->other_total_ms;
    rw_s(h, "<p id=\"other-queries\">The tables show ");
    fmt_count(b, sizeof(b), (double)r->nshown);
    rw_ec(h, b);
    rw_s(h, " query shapes. The other <span data-k=\"other_shapes\">");
    fmt_count(b, sizeof(b), (double)listed);
    rw_ec(h, b);
    rw_s(h, "</span> shapes ran <span data-k=\"other_calls\">");
    fmt_count(b, sizeof(b), (double)calls);
    rw_ec(h, b);
    rw_s(h, "</span> calls for ");
    fmt_ms(b, sizeof(b), total);
    rw_ec(h, b);
    rw_s(h, " in total.</p>\n</section>\n");
}

static void short_text_cell(struct rw *h, struct span s, size_t max);

/* The slowest executions: per statement, database and user, the largest maxima. */
static void slowest(struct rw *h)
{
    const struct report *r = h->r;
    rw_s(h, "<section id=\"slowest\">\n<h2>Slowest executions</h2>\n<p class=\"note\">The "
            "slowest run of each statement, database and user in each minute of the period "
            "(hour or day once the store has rolled the minutes up).</p>\n");
    if (!r->nslowest) {
        empty_note(h, "No statements with a duration in this period.");
        rw_s(h, "</section>\n");
        return;
    }
    rw_s(h, "<div class=\"wrap\"><table class=\"sortable q\" id=\"t-slowest\">\n<thead><tr><th "
            "class=\"n\">#</th><th>When</th><th class=\"n\">Duration</th><th>Query</th><th>"
            "Fingerprint</th><th>Database</th><th>User</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < r->nslowest; i++) {
        const struct report_slow *x = &r->slowest[i];
        char b[2 * FMT_MAX], fp[17];
        rw_f(h, "<tr><td class=\"n\">%zu</td>", i + 1);
        fmt_bucket_local(r, x->at_us, x->width_s, b, sizeof(b));
        rw_s(h, "<td>");
        rw_ec(h, b);
        rw_s(h, "</td>");
        ms_cell(h, "ms", x->ms);
        short_text_cell(h, x->query, REPORT_SHORT_TEXT);
        fmt_fingerprint(fp, x->fingerprint);
        text_cell(h, span_cstr(fp));
        text_cell(h, x->database);
        text_cell(h, x->user);
        rw_s(h, "</tr>\n");
    }
    rw_s(h, "</tbody></table></div>\n</section>\n");
}

/* Calls by kind of command (pgBadger's "queries by type"), every shape of the period. */
static void commands(struct rw *h)
{
    const struct report *r = h->r;
    rw_s(h, "<section id=\"types\">\n<h2>Queries by type</h2>\n");
    if (!r->commands.n) {
        empty_note(h, "No statements with a duration in this period.");
        rw_s(h, "</section>\n");
        return;
    }
    double all = 0;
    for (size_t i = 0; i < r->commands.n; i++)
        all += r->commands.v[i].sum;
    rw_s(h, "<div class=\"wrap\"><table class=\"sortable\" id=\"t-types\">\n<thead><tr><th>"
            "Command</th><th class=\"n\">Calls</th><th class=\"n\">Total</th><th "
            "class=\"n\">% of time</th><th class=\"n\">Shapes</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < r->commands.n; i++) {
        const struct report_item *it = &r->commands.v[i];
        char b[FMT_MAX];
        double pct = all > 0 ? 100 * it->sum / all : 0;
        rw_s(h, "<tr>");
        text_cell(h, it->key);
        count_cell(h, "calls", (double)it->count);
        ms_cell(h, "total_ms", it->sum);
        snprintf(b, sizeof(b), "%.1f %%", pct);
        num_cell(h, "share", pct, b);
        count_cell(h, "shapes", it->sum2);
        rw_s(h, "</tr>\n");
    }
    rw_s(h, "</tbody></table></div>\n");
    if (r->phases.n) {
        rw_s(h, "<h3>Parse and bind (extended protocol, not counted as calls)</h3>\n<div "
                "class=\"wrap\"><table class=\"sortable\" id=\"t-parse-bind\">\n<thead><tr><th>"
                "Step</th><th class=\"n\">Records</th><th class=\"n\">Total</th></tr></thead>\n"
                "<tbody>\n");
        for (size_t i = 0; i < r->phases.n; i++) {
            rw_s(h, "<tr>");
            text_cell(h, r->phases.v[i].key);
            count_cell(h, "count", (double)r->phases.v[i].count);
            ms_cell(h, "total_ms", r->phases.v[i].sum);
            rw_s(h, "</tr>\n");
        }
        rw_s(h, "</tbody></table></div>\n");
    }
    if (r->time_by.n) {
        rw_s(h, "<h3>By database and user</h3>\n<div class=\"wrap\"><table class=\"sortable\" "
                "id=\"t-time-by\">\n<thead><tr><th>Database</th><th>User</th><th "
                "class=\"n\">Calls</th><th class=\"n\">Total</th></tr></thead>\n<tbody>\n");
        for (size_t i = 0; i < r->time_by.n; i++) {
            const struct report_item *it = &r->time_by.v[i];
            rw_s(h, "<tr>");
            text_cell(h, it->key);
            text_cell(h, it->detail);
            count_cell(h, "calls", (double)it->count);
            ms_cell(h, "total_ms", it->sum);
            rw_s(h, "</tr>\n");
        }
        rw_s(h, "</tbody></table></div>\n");
    }
    rw_s(h, "</section>\n");
}

static void regressions(struct rw *h)
{
    const struct report *r = h->r;
    rw_s(h, "<section id=\"regressions\">\n<h2>Regressions</h2>\n<p class=\"note\">Query shapes "
            "whose p95 latency or total time is at least ");
    char b[FMT_MAX];
    fmt_plain_num(b, sizeof(b), h->o && h->o->regress_ratio > 0 ? h->o->regress_ratio : 2.0);
    rw_ec(h, b);
    rw_s(h, " times their level over the 7 days before.</p>\n");
    if (!r->nregressions) {
        empty_note(h, "No regressions against the 7-day baseline.");
        rw_s(h, "</section>\n");
        return;
    }
    rw_s(h, "<div class=\"wrap\"><table class=\"sortable\" id=\"t-regressions\">\n<thead><tr><th>"
            "Query</th><th>Metric</th><th class=\"n\">This period</th><th "
            "class=\"n\">Baseline</th><th class=\"n\">Ratio</th><th "
            "class=\"n\">Calls</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < r->nregressions; i++) {
        const struct report_regression *g = &r->regressions[i];
        const struct report_query *q = &r->queries[g->query];
        char fp[17];
        fmt_fingerprint(fp, q->fingerprint);
        rw_f(h, "<tr data-fp=\"%s\"><td>", fp);
        query_link(h, q);
        rw_s(h, g->metric == RM_P95 ? "</td><td>p95</td>" : "</td><td>total time</td>");
        ms_cell(h, "value", g->value);
        ms_cell(h, "baseline", g->baseline);
        fmt_ratio(b, sizeof(b), g->ratio);
        num_cell(h, "ratio", g->ratio, b);
        count_cell(h, "calls", (double)q->calls);
        rw_s(h, "</tr>\n");
    }
    rw_s(h, "</tbody></table></div>\n");
    if (r->regressions_total > r->nregressions)
        rw_f(h, "<p class=\"note\">%llu more not shown.</p>\n",
             (unsigned long long)(r->regressions_total - r->nregressions));
    rw_s(h, "</section>\n");
}

static void new_queries(struct rw *h)
{
    const struct report *r = h->r;
    char b[FMT_MAX];
    rw_s(h, "<section id=\"new\">\n<h2>New query shapes</h2>\n");
    if (!r->nnew) {
        empty_note(h, "No query shape was seen for the first time in this period.");
        rw_s(h, "</section>\n");
        return;
    }
    fmt_count(b, sizeof(b), (double)r->new_total);
    rw_s(h, "<p><span data-k=\"new_total\">");
    rw_ec(h, b);
    rw_s(h, "</span> shapes were seen for the first time; the busiest:</p>\n<div "
            "class=\"wrap\"><table class=\"sortable\" id=\"t-new\">\n<thead><tr><th>Query</th><th "
            "class=\"n\">Calls</th><th class=\"n\">Total</th><th class=\"n\">Mean</th><th "
            "class=\"n\">p95</th><th>First seen</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < r->nnew; i++) {
        const struct report_query *q = &r->queries[r->new_queries[i]];
        char fp[17];
        fmt_fingerprint(fp, q->fingerprint);
        rw_f(h, "<tr data-fp=\"%s\"><td>", fp);
        query_link(h, q);
        rw_s(h, "</td>");
        count_cell(h, "calls", (double)q->calls);
        ms_cell(h, "total_ms", q->total_ms);
        ms_cell(h, "mean_ms", query_mean(q));
        ms_cell(h, "p95_ms", q->p95_ms);
        fmt_local(r, q->first_seen_us, b, sizeof(b));
        rw_s(h, "<td>");
        rw_ec(h, b);
        rw_s(h, "</td></tr>\n");
    }
    rw_s(h, "</tbody></table></div>\n</section>\n");
}

static void fp_code(struct rw *h, uint64_t fp)
{
    char b[17];
    fmt_fingerprint(b, fp);
    rw_f(h, "<code>%s</code>", b);
}

static void short_text_cell(struct rw *h, struct span s, size_t max)
{
    int cut;
    rw_s(h, "<td class=\"sql\">");
    rw_e(h, text_cut(s, max, &cut));
    if (cut)
        rw_s(h, "\xe2\x80\xa6");
    rw_s(h, "</td>");
}

static void plans(struct rw *h)
{
    const struct report *r = h->r;
    char b[FMT_MAX];
    rw_s(h, "<section id=\"plans\">\n<h2>Plans</h2>\n");
    if (!r->plans_known) {
        empty_note(h, "No plan information in this store.");
        rw_s(h, "</section>\n");
        return;
    }
    rw_s(h, "<h3>Plan changes</h3>\n");
    if (!r->nplan_changes) {
        empty_note(h, "No query changed its plan in this period.");
    } else {
        rw_s(h, "<div class=\"wrap\"><table class=\"sortable\" id=\"t-plan-changes\">\n<thead><tr>"
                "<th>Query</th><th>Database</th><th>Changed at</th><th>From</th><th>To</th><th "
                "class=\"n\">Mean before</th><th class=\"n\">Mean after</th><th "
                "class=\"n\">Slower by</th></tr></thead>\n<tbody>\n");
        for (size_t i = 0; i < r->nplan_changes; i++) {
            const struct report_plan_change *c = &r->plan_changes[i];
            rw_s(h, "<tr><td>");
            fp_code(h, c->fingerprint);
            rw_s(h, " ");
            int cut;
            rw_e(h, text_cut(c->query, REPORT_SHORT_TEXT, &cut));
            if (cut)
                rw_s(h, "\xe2\x80\xa6");
            rw_s(h, "</td>");
            text_cell(h, c->database);
            fmt_local(r, c->at_us, b, sizeof(b));
            rw_s(h, "<td>");
            rw_ec(h, b);
            rw_s(h, "</td>");
            short_text_cell(h, c->from_shape, REPORT_SHORT_TEXT);
            short_text_cell(h, c->to_shape, REPORT_SHORT_TEXT);
            ms_cell(h, "before_ms", c->before_ms);
            ms_cell(h, "after_ms", c->after_ms);
            fmt_ratio(b, sizeof(b), c->slower_by);
            num_cell(h, "slower_by", c->slower_by, b);
            rw_s(h, "</tr>\n");
        }
        rw_s(h, "</tbody></table></div>\n");
    }
    rw_s(h, "<h3>Plan shapes seen</h3>\n");
    if (!r->nplans) {
        empty_note(h, "No auto_explain plan in this period.");
        rw_s(h, "</section>\n");
        return;
    }
    rw_f(h,
         "<p class=\"note\">%llu plan shape%s seen in this period; those with insights first, "
         "then by total time. Numbers are over every plan of the shape in the store; "
         "<code>pgsift plans --show PLAN</code> explains a shape.</p>\n",
         (unsigned long long)r->plans_total, r->plans_total == 1 ? "" : "s");
    rw_s(h,
         "<div class=\"wrap\"><table class=\"sortable\" id=\"t-plans\">\n<thead><tr><th>Query</th>"
         "<th>Database</th><th>Plan</th><th>Shape</th><th>Insights</th><th "
         "class=\"n\">Plans</th><th "
         "class=\"n\">Mean</th><th class=\"n\">p95</th><th>Last seen</th></tr></thead>\n"
         "<tbody>\n");
    for (size_t i = 0; i < r->nplans; i++) {
        const struct report_plan *p = &r->plans[i];
        rw_s(h, "<tr><td>");
        fp_code(h, p->fingerprint);
        rw_s(h, " ");
        int cut;
        rw_e(h, text_cut(p->query, REPORT_SHORT_TEXT, &cut));
        if (cut)
            rw_s(h, "\xe2\x80\xa6");
        rw_s(h, "</td>");
        text_cell(h, p->database);
        rw_s(h, "<td>");
        fp_code(h, p->plan_fp);
        rw_s(h, "</td>");
        short_text_cell(h, p->shape, 200);
        text_cell(h, p->insights);
        count_cell(h, "calls", (double)p->calls);
        ms_cell(h, "mean_ms", p->mean_ms);
        ms_cell(h, "p95_ms", p->p95_ms);
        fmt_local(r, p->last_us, b, sizeof(b));
        rw_s(h, "<td>");
        rw_ec(h, b);
        rw_s(h, "</td></tr>\n");
    }
    rw_s(h, "</tbody></table></div>\n");
    /* The plans behind the insights (as stored: redacted at ingest unless
     * --keep-literals). */
    for (size_t i = 0, shown = 0; i < r->nplans && shown < 5; i++) {
        const struct report_plan *p = &r->plans[i];
        int cut;
        if (!p->insights.len || !p->sample.p)
            continue;
        shown++;
        rw_s(h, "<h3>Plan ");
        fp_code(h, p->plan_fp);
        rw_s(h, " in ");
        rw_e(h, p->database);
        rw_s(h, ": ");
        rw_e(h, p->insights);
        rw_s(h, "</h3>\n<pre>");
        rw_e(h, text_cut(p->sample, REPORT_DETAIL_TEXT, &cut));
        if (cut)
            rw_s(h, "\n\xe2\x80\xa6");
        rw_s(h, "</pre>\n");
    }
    rw_s(h, "</section>\n");
}

static void dl_item(struct rw *h, const char *k, const char *v)
{
    rw_s(h, "<dt>");
    rw_ec(h, k);
    rw_s(h, "</dt><dd>");
    rw_ec(h, v);
    rw_s(h, "</dd>");
}

static void dl_spans(struct rw *h, const char *k, const struct span *v, size_t n)
{
    rw_s(h, "<dt>");
    rw_ec(h, k);
    rw_s(h, "</dt><dd>");
    for (size_t i = 0; i < n; i++) {
        if (i)
            rw_s(h, ", ");
        rw_e(h, v[i]);
    }
    if (!n)
        rw_s(h, "\xe2\x80\x93");
    rw_s(h, "</dd>");
}

static void details(struct rw *h)
{
    const struct report *r = h->r;
    rw_s(h, "<section id=\"details\">\n<h2>Query details</h2>\n");
    if (!r->nshown)
        empty_note(h, "No query shapes in this period.");
    for (size_t i = 0; i < r->nshown; i++) {
        const struct report_query *q = &r->queries[r->shown[i]];
        char fp[17], b[FMT_MAX], c[FMT_MAX];
        int cut;
        fmt_fingerprint(fp, q->fingerprint);
        rw_f(h, "<article class=\"qd\" id=\"q-%s\"><h3>Query <code>%s</code>", fp, fp);
        if (q->base_days <= 0 && q->first_seen_us != INT64_MIN && q->first_seen_us >= r->from_us)
            rw_s(h, " <span class=\"badge\">new</span>");
        for (size_t g = 0; g < r->nregressions; g++)
            if (r->regressions[g].query == r->shown[i]) {
                rw_s(h, " <span class=\"badge up\">regression</span>");
                break;
            }
        rw_s(h, "</h3>\n<pre class=\"sql\">");
        rw_e(h, text_cut(q->text, REPORT_DETAIL_TEXT, &cut));
        if (cut)
            rw_f(h, "\n\xe2\x80\xa6 (%zu bytes in all)", q->text.len);
        rw_s(h, "</pre>\n<dl class=\"kv\">");
        fmt_count(b, sizeof(b), (double)q->calls);
        dl_item(h, "Calls", b);
        fmt_ms(b, sizeof(b), q->total_ms);
        dl_item(h, "Total time", b);
        fmt_ms(b, sizeof(b), query_mean(q));
        dl_item(h, "Mean", b);
        fmt_ms(b, sizeof(b), q->min_ms);
        fmt_ms(c, sizeof(c), q->max_ms);
        char mm[2 * FMT_MAX + 8];
        snprintf(mm, sizeof(mm), "%s / %s", b, c);
        dl_item(h, "Min / max", mm);
        char pp[3 * FMT_MAX + 8], p2[FMT_MAX];
        fmt_ms(b, sizeof(b), q->p50_ms);
        fmt_ms(c, sizeof(c), q->p95_ms);
        fmt_ms(p2, sizeof(p2), q->p99_ms);
        snprintf(pp, sizeof(pp), "%s / %s / %s", b, c, p2);
        dl_item(h, "p50 / p95 / p99", pp);
        fmt_count(b, sizeof(b), (double)q->errors);
        dl_item(h, "Errors", b);
        dl_spans(h, "Databases", q->databases, q->ndatabases);
        dl_spans(h, "Users", q->users, q->nusers);
        rw_s(h, "<dt>query_id</dt><dd>");
        for (size_t k = 0; k < q->nquery_ids; k++)
            rw_f(h, "%s<code>%lld</code> (%llu calls)", k ? ", " : "",
                 (long long)q->query_ids[k].id, (unsigned long long)q->query_ids[k].calls);
        if (!q->nquery_ids)
            rw_s(h, "\xe2\x80\x93");
        rw_s(h, "</dd>");
        fmt_local(r, q->first_seen_us, b, sizeof(b));
        dl_item(h, "First seen", b);
        fmt_local(r, q->last_seen_us, b, sizeof(b));
        dl_item(h, "Last seen", b);
        if (q->base_days > 0) {
            char bb[4 * FMT_MAX];
            fmt_count(b, sizeof(b), q->base_calls);
            fmt_ms(c, sizeof(c), q->base_total_ms);
            fmt_ms(p2, sizeof(p2), q->base_p95_ms);
            snprintf(bb, sizeof(bb), "%s calls and %s a day, p95 %s (%d day%s)", b, c, p2,
                     q->base_days, q->base_days == 1 ? "" : "s");
            dl_item(h, "7-day baseline", bb);
        }
        if (q->temp_files) {
            fmt_bytes(c, sizeof(c), q->temp_bytes);
            snprintf(mm, sizeof(mm), "%llu (%s)", (unsigned long long)q->temp_files, c);
            dl_item(h, "Temp files", mm);
        }
        if (q->lock_waits) {
            fmt_ms(c, sizeof(c), q->lock_wait_ms);
            snprintf(mm, sizeof(mm), "%llu (%s waited)", (unsigned long long)q->lock_waits, c);
            dl_item(h, "Lock waits", mm);
        }
        if (q->plans) {
            fmt_count(b, sizeof(b), (double)q->plans);
            dl_item(h, "Plans logged", b);
        }
        if (q->sample.p && (h->flags & REPORT_KEEP_LITERALS)) {
            rw_s(h, "<dt>Sample</dt><dd><code>");
            sample(h, q->sample, REPORT_DETAIL_TEXT);
            rw_s(h, "</code></dd>");
        }
        rw_s(h, "</dl></article>\n");
    }
    rw_s(h, "</section>\n");
}

/* ---- errors and events ---- */

static void errors(struct rw *h)
{
    const struct report *r = h->r;
    rw_s(h, "<section id=\"errors\">\n<h2>Errors</h2>\n");
    if (!r->nerrors) {
        empty_note(h, "No errors in this period.");
        rw_s(h, "</section>\n");
        return;
    }
    struct report_error_class classes[64];
    size_t nc = report_error_classes(r, classes, ARRAY_SIZE(classes));
    rw_s(h, "<h3>By class</h3>\n<div class=\"wrap\"><table class=\"sortable\" "
            "id=\"t-error-classes\">\n<thead><tr><th>Class</th><th>Meaning</th><th "
            "class=\"n\">Count</th></tr></thead>\n<tbody>\n");
    for (size_t k = 0; k < nc; k++) {
        char st[6] = { classes[k].cls[0], classes[k].cls[1], '0', '0', '0', 0 };
        rw_s(h, "<tr><td><code>");
        rw_ec(h, classes[k].cls);
        rw_s(h, "</code></td><td>");
        rw_ec(h, classes[k].cls[0] ? report_sqlstate_class(st) : REPORT_NO_SQLSTATE);
        rw_s(h, "</td>");
        count_cell(h, "count", (double)classes[k].count);
        rw_s(h, "</tr>\n");
    }
    rw_s(h, "</tbody></table></div>\n<h3>By SQLSTATE and message</h3>\n<div "
            "class=\"wrap\"><table class=\"sortable\" id=\"t-errors\">\n<thead><tr><th>SQLSTATE</"
            "th><th>Severity</th><th "
            "class=\"n\">Count</th><th>Message</th><th>Sample</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < r->nerrors && i < REPORT_ERRORS_SHOWN; i++) {
        const struct report_error *e = &r->errors[i];
        rw_s(h, "<tr><td><code>");
        rw_ec(h, e->sqlstate);
        rw_s(h, "</code> ");
        rw_ec(h, report_sqlstate_name(e->sqlstate));
        rw_s(h, "</td><td>");
        rw_ec(h, severity_name(e->severity));
        rw_s(h, "</td>");
        count_cell(h, "count", (double)e->count);
        rw_s(h, "<td>");
        int cut;
        rw_e(h, text_cut(e->message, REPORT_SAMPLE_TEXT, &cut));
        rw_s(h, "</td><td><code>");
        sample(h, e->sample, REPORT_SAMPLE_TEXT);
        rw_s(h, "</code></td></tr>\n");
    }
    rw_s(h, "</tbody></table></div>\n");
    char note[3 * FMT_MAX];
    if (fmt_errors_rest(r, note, sizeof(note)))
        rw_f(h, "<p class=\"note\">%s: <code>pgsift events --kind error</code> has each one.</p>\n",
             note);
    rw_s(h, "</section>\n");
}

/* After a table of @l: the line that counts what it does not list. */
static void items_rest(struct rw *h, const struct report_items *l)
{
    char note[4 * FMT_MAX];
    if (fmt_items_rest(l, note, sizeof(note)))
        rw_f(h, "<p class=\"note\">%s.</p>\n", note);
}

static void stat_items(struct rw *h, const char *label, const struct report_stat *s,
                       void (*fmt)(char *, size_t, double))
{
    char line[FMT_STAT_MAX];
    if (fmt_stat(line, sizeof(line), s, fmt))
        dl_item(h, label, line);
}

static void stat_items_mean(struct rw *h, const char *label, const struct report_stat *s,
                            void (*fmt)(char *, size_t, double))
{
    char line[FMT_STAT_MAX];
    if (fmt_stat_mean(line, sizeof(line), s, fmt))
        dl_item(h, label, line);
}

static void kind_count(struct rw *h, const char *label, enum event_kind k)
{
    char b[FMT_MAX];
    fmt_count(b, sizeof(b), (double)h->r->events[k]);
    rw_f(h, "<dt>");
    rw_ec(h, label);
    rw_f(h, "</dt><dd data-k=\"%s\" data-v=\"%llu\">", event_kind_name(k),
         (unsigned long long)h->r->events[k]);
    rw_ec(h, b);
    rw_s(h, "</dd>");
}

/* Queries ranked by a per-query number (lock wait, temp bytes). */
static void queries_by(struct rw *h, const char *id, const char *what, int lock)
{
    const struct report *r = h->r;
    size_t idx[REPORT_QUERIES_BY_MAX];
    size_t n = report_queries_by(r, lock, idx, ARRAY_SIZE(idx));
    if (!n)
        return;
    rw_s(h, "<h3>");
    rw_ec(h, what);
    rw_f(h,
         "</h3>\n<div class=\"wrap\"><table class=\"sortable\" id=\"%s\">\n<thead><tr><th>"
         "Query</th><th class=\"n\">%s</th><th class=\"n\">%s</th></tr></thead>\n<tbody>\n",
         id, lock ? "Waits" : "Files", lock ? "Time waited" : "Size");
    for (size_t i = 0; i < n; i++) {
        const struct report_query *q = &r->queries[idx[i]];
        char b[FMT_MAX];
        rw_s(h, "<tr><td>");
        if (q->text.p)
            query_link(h, q);
        rw_s(h, "</td>");
        count_cell(h, "count", (double)(lock ? q->lock_waits : q->temp_files));
        if (lock) {
            ms_cell(h, "wait_ms", q->lock_wait_ms);
        } else {
            fmt_bytes(b, sizeof(b), q->temp_bytes);
            num_cell(h, "bytes", q->temp_bytes, b);
        }
        rw_s(h, "</tr>\n");
    }
    rw_s(h, "</tbody></table></div>\n");
}

static void locks(struct rw *h)
{
    const struct report *r = h->r;
    rw_s(h, "<section id=\"locks\">\n<h2>Lock waits and deadlocks</h2>\n<dl class=\"kv\">");
    kind_count(h, "Lock waits logged", EV_LOCK_WAIT);
    kind_count(h, "Locks acquired after a wait", EV_LOCK_ACQUIRED);
    kind_count(h, "Deadlocks", EV_DEADLOCK);
    stat_items(h, "Time waited", &r->lock_wait_ms, fmt_ms);
    rw_s(h, "</dl>\n");
    if (r->locks.n) {
        rw_s(h,
             "<div class=\"wrap\"><table class=\"sortable\" id=\"t-locks\">\n<thead><tr><th>Lock "
             "mode</th><th>Object</th><th class=\"n\">Waits</th><th class=\"n\">Time "
             "waited</th><th class=\"n\">Longest</th></tr></thead>\n<tbody>\n");
        for (size_t i = 0; i < r->locks.n; i++) {
            const struct report_item *it = &r->locks.v[i];
            rw_s(h, "<tr>");
            text_cell(h, it->key);
            rw_s(h, "<td>");
            sample(h, it->detail, REPORT_SAMPLE_TEXT);
            rw_s(h, "</td>");
            count_cell(h, "count", (double)it->count);
            ms_cell(h, "wait_ms", it->sum);
            ms_cell(h, "max_ms", it->max);
            rw_s(h, "</tr>\n");
        }
        rw_s(h, "</tbody></table></div>\n");
        items_rest(h, &r->locks);
    }
    queries_by(h, "t-lock-queries", "Queries that waited longest", 1);
    if (r->ndeadlock_samples) {
        rw_s(h, "<h3>Deadlocks</h3>\n");
        for (size_t i = 0; i < r->ndeadlock_samples; i++) {
            rw_s(h, "<pre>");
            sample(h, r->deadlock_samples[i], REPORT_SAMPLE_TEXT * 4);
            rw_s(h, "</pre>\n");
        }
    }
    rw_s(h, "</section>\n");
}

static void hist_labels(const struct report_hist *hi, void (*fmt)(char *, size_t, double),
                        char lab[][FMT_MAX + 4], const char **labels)
{
    for (size_t i = 0; i <= hi->n; i++) {
        fmt_hist_label(lab[i], FMT_MAX + 4, hi, i, fmt);
        labels[i] = lab[i];
    }
}

static void temp_files(struct rw *h)
{
    const struct report *r = h->r;
    rw_s(h, "<section id=\"temp\">\n<h2>Temp files</h2>\n<dl class=\"kv\">");
    kind_count(h, "Temp files", EV_TEMP_FILE);
    stat_items(h, "Size", &r->temp_bytes, fmt_bytes);
    rw_s(h, "</dl>\n");
    if (r->events[EV_TEMP_FILE]) {
        char lab[REPORT_HIST_MAX + 1][FMT_MAX + 4];
        const char *labels[REPORT_HIST_MAX + 1];
        hist_labels(&r->temp_hist, fmt_short_bytes, lab, labels);
        figure_open(h, "Temp files by size");
        rw_check(
            h, svg_histogram(h->sb,
                             &(struct svg_chart){ .title = "Temp files by size", .labels = labels },
                             r->temp_hist.count, r->temp_hist.n + 1));
        rw_s(h, "</figure>\n");
    }
    queries_by(h, "t-temp-queries", "Queries writing the most temp data", 0);
    rw_s(h, "</section>\n");
}

static void checkpoints(struct rw *h)
{
    const struct report *r = h->r;
    char b[FMT_MAX];
    rw_s(h, "<section id=\"checkpoints\">\n<h2>Checkpoints</h2>\n<dl class=\"kv\">");
    fmt_count(b, sizeof(b), (double)r->checkpoints);
    rw_s(h, "<dt>Checkpoints completed</dt><dd data-k=\"checkpoints\" data-v=\"");
    rw_f(h, "%llu\">", (unsigned long long)r->checkpoints);
    rw_ec(h, b);
    rw_s(h, "</dd>");
    kind_count(h, "Checkpoint records", EV_CHECKPOINT);
    stat_items(h, "Buffers written", &r->ckpt_buffers, fmt_count);
    stat_items(h, "Write time", &r->ckpt_write_s, fmt_seconds);
    stat_items(h, "Sync time", &r->ckpt_sync_s, fmt_seconds);
    stat_items(h, "Total time", &r->ckpt_total_s, fmt_seconds);
    stat_items_mean(h, "Longest file sync", &r->ckpt_sync_longest_s, fmt_seconds);
    stat_items(h, "WAL files added", &r->ckpt_wal_added, fmt_count);
    stat_items(h, "WAL files removed", &r->ckpt_wal_removed, fmt_count);
    stat_items(h, "WAL files recycled", &r->ckpt_wal_recycled, fmt_count);
    stat_items(h, "WAL distance", &r->ckpt_distance, fmt_bytes);
    stat_items_mean(h, "WAL estimate", &r->ckpt_estimate, fmt_bytes);
    fmt_count(b, sizeof(b), (double)r->ckpt_warnings);
    dl_item(h, "\"Occurring too frequently\" warnings", b);
    rw_s(h, "</dl>\n");
    if (r->checkpoint_causes.n) {
        rw_s(h,
             "<div class=\"wrap\"><table class=\"sortable\" id=\"t-checkpoints\">\n<thead><tr><th>"
             "Cause</th><th class=\"n\">Count</th><th class=\"n\">Buffers</th><th "
             "class=\"n\">Longest</th></tr></thead>\n<tbody>\n");
        for (size_t i = 0; i < r->checkpoint_causes.n; i++) {
            const struct report_item *it = &r->checkpoint_causes.v[i];
            rw_s(h, "<tr>");
            text_cell(h, it->key);
            count_cell(h, "count", (double)it->count);
            count_cell(h, "buffers", it->sum);
            fmt_seconds(b, sizeof(b), it->max);
            num_cell(h, "max_s", it->max, b);
            rw_s(h, "</tr>\n");
        }
        rw_s(h, "</tbody></table></div>\n");
        items_rest(h, &r->checkpoint_causes);
    }
    rw_s(h, "</section>\n");
}

static void vacuum(struct rw *h)
{
    const struct report *r = h->r;
    char b[FMT_MAX];
    rw_s(h, "<section id=\"vacuum\">\n<h2>Autovacuum and autoanalyze</h2>\n<dl class=\"kv\">");
    kind_count(h, "Autovacuum runs", EV_AUTOVACUUM);
    kind_count(h, "Autoanalyze runs", EV_AUTOANALYZE);
    stat_items(h, "Vacuum time", &r->vacuum_s, fmt_seconds);
    stat_items(h, "Analyze time", &r->analyze_s, fmt_seconds);
    stat_items(h, "Heap pages removed", &r->vacuum_pages_removed, fmt_count);
    stat_items_mean(h, "Dead tuples not yet removable", &r->vacuum_tuples_dead, fmt_count);
    stat_items(h, "Buffers read", &r->vacuum_buffer_reads, fmt_count);
    stat_items(h, "Buffers dirtied", &r->vacuum_buffer_dirtied, fmt_count);
    stat_items(h, "WAL written", &r->vacuum_wal_bytes, fmt_bytes);
    rw_s(h, "</dl>\n");
    if (r->vacuum.n) {
        rw_s(h,
             "<div class=\"wrap\"><table class=\"sortable\" id=\"t-vacuum\">\n<thead><tr><th>"
             "Relation</th><th>Kind</th><th class=\"n\">Runs</th><th class=\"n\">Time</th><th "
             "class=\"n\">Longest</th><th class=\"n\">Tuples removed</th><th class=\"n\">Pages "
             "removed</th><th class=\"n\" title=\"the most dead tuples a run could not remove "
             "yet: an old transaction, prepared transaction or replication slot held them\">Dead, "
             "not removable</th></tr></thead>\n<tbody>\n");
        for (size_t i = 0; i < r->vacuum.n; i++) {
            const struct report_item *it = &r->vacuum.v[i];
            rw_s(h, "<tr>");
            text_cell(h, it->key);
            text_cell(h, it->detail);
            count_cell(h, "count", (double)it->count);
            fmt_seconds(b, sizeof(b), it->sum);
            num_cell(h, "time_s", it->sum, b);
            fmt_seconds(b, sizeof(b), it->max);
            num_cell(h, "max_s", it->max, b);
            count_cell(h, "tuples_removed", it->sum2);
            count_cell(h, "pages_removed", it->sum3);
            count_cell(h, "max_tuples_dead", it->max2);
            rw_s(h, "</tr>\n");
        }
        rw_s(h, "</tbody></table></div>\n");
        items_rest(h, &r->vacuum);
    }
    rw_s(h, "</section>\n");
}

static void item_table(struct rw *h, const char *id, const char *k1, const char *k2,
                       const struct report_items *l)
{
    if (!l->n)
        return;
    rw_f(h, "<div class=\"wrap\"><table class=\"sortable\" id=\"%s\">\n<thead><tr><th>%s</th>", id,
         k1);
    if (k2)
        rw_f(h, "<th>%s</th>", k2);
    rw_s(h, "<th class=\"n\">Count</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < l->n; i++) {
        rw_s(h, "<tr>");
        text_cell(h, l->v[i].key);
        if (k2)
            text_cell(h, l->v[i].detail);
        count_cell(h, "count", (double)l->v[i].count);
        rw_s(h, "</tr>\n");
    }
    rw_s(h, "</tbody></table></div>\n");
    items_rest(h, l);
}

static void sessions(struct rw *h)
{
    const struct report *r = h->r;
    char b[FMT_MAX];
    rw_s(h, "<section id=\"sessions\">\n<h2>Connections and sessions</h2>\n<dl class=\"kv\">");
    kind_count(h, "Connections received", EV_CONNECTION);
    kind_count(h, "Connections authorized", EV_AUTHENTICATED);
    kind_count(h, "Disconnections", EV_DISCONNECTION);
    kind_count(h, "Authentication failures", EV_AUTH_FAILURE);
    kind_count(h, "Too many connections", EV_TOO_MANY_CONNECTIONS);
    if (r->peak_sessions) {
        fmt_count(b, sizeof(b), (double)r->peak_sessions);
        dl_item(h, "Most sessions at once", b);
    }
    if (r->session_s.n) {
        char m[FMT_MAX], line[3 * FMT_MAX];
        fmt_seconds(b, sizeof(b), r->session_s.sum / (double)r->session_s.n);
        fmt_seconds(m, sizeof(m), r->session_s.max);
        snprintf(line, sizeof(line), "mean %s, longest %s", b, m);
        dl_item(h, "Session time", line);
    }
    stat_items(h, "Connection setup (PostgreSQL 18)", &r->setup_ms, fmt_ms);
    stat_items(h, "Authentication in the setup", &r->setup_auth_ms, fmt_ms);
    rw_s(h, "</dl>\n");
    if (r->session_s.n) {
        char lab[REPORT_HIST_MAX + 1][FMT_MAX + 4];
        const char *labels[REPORT_HIST_MAX + 1];
        hist_labels(&r->session_hist, fmt_short_s, lab, labels);
        figure_open(h, "Sessions by length");
        rw_check(
            h, svg_histogram(h->sb,
                             &(struct svg_chart){ .title = "Sessions by length", .labels = labels },
                             r->session_hist.count, r->session_hist.n + 1));
        rw_s(h, "</figure>\n");
    }
    if (r->sessions_by.n)
        rw_s(h, "<h3>By database and user</h3>\n");
    item_table(h, "t-sessions", "Database", "User", &r->sessions_by);
    if (r->apps.n)
        rw_s(h, "<h3>By application</h3>\n");
    item_table(h, "t-apps", "Application", NULL, &r->apps);
    if (r->hosts.n)
        rw_s(h, "<h3>By client host (connections received)</h3>\n");
    item_table(h, "t-hosts", "Client host", NULL, &r->hosts);
    rw_s(h, "</section>\n");
}

static void cancels(struct rw *h)
{
    const struct report *r = h->r;
    rw_s(h, "<section id=\"cancels\">\n<h2>Cancellations and timeouts</h2>\n<dl class=\"kv\">");
    kind_count(h, "Cancelled statements", EV_CANCEL);
    kind_count(h, "Timeouts", EV_TIMEOUT);
    rw_s(h, "</dl>\n");
    item_table(h, "t-cancels", "Kind", "Cause", &r->cancels);
    rw_s(h, "</section>\n");
}

static void events(struct rw *h)
{
    const struct report *r = h->r;
    rw_s(h,
         "<section id=\"events\">\n<h2>Events</h2>\n<div class=\"wrap\"><table class=\"sortable\" "
         "id=\"t-events\">\n<thead><tr><th>Kind</th><th "
         "class=\"n\">Records</th></tr></thead>\n<tbody>\n");
    for (int k = 0; k < EV_KIND_COUNT; k++) {
        rw_f(h, "<tr data-k=\"%s\"><td><code>%s</code></td>", event_kind_name((enum event_kind)k),
             event_kind_name((enum event_kind)k));
        count_cell(h, "count", (double)r->events[k]);
        rw_s(h, "</tr>\n");
    }
    rw_s(h, "</tbody></table></div>\n</section>\n");
}

static void rejects(struct rw *h)
{
    const struct report *r = h->r;
    rw_s(h, "<section id=\"rejects\">\n<h2>Rejected lines</h2>\n");
    if (!r->nrejects) {
        empty_note(h, "Every line was parsed.");
        rw_s(h, "</section>\n");
        return;
    }
    rw_s(h,
         "<div class=\"wrap\"><table class=\"sortable\" id=\"t-rejects\">\n<thead><tr><th>Source"
         "</th><th>Reason</th><th class=\"n\">Lines</th><th>Samples</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < r->nrejects; i++) {
        const struct report_reject *j = &r->rejects[i];
        rw_s(h, "<tr>");
        text_cell(h, j->source);
        text_cell(h, j->reason);
        count_cell(h, "count", (double)j->count);
        rw_s(h, "<td>");
        for (size_t k = 0; k < j->nsamples && k < 5; k++) {
            if (k == 0 && j->sample_line)
                rw_f(h, "<span class=\"muted\">line %llu</span>",
                     (unsigned long long)j->sample_line);
            rw_s(h, "<pre>");
            sample(h, j->samples[k], REPORT_SAMPLE_TEXT);
            rw_s(h, "</pre>");
        }
        rw_s(h, "</td></tr>\n");
    }
    rw_s(h, "</tbody></table></div>\n</section>\n");
}

static void alerts(struct rw *h)
{
    const struct report *r = h->r;
    char b[FMT_MAX];
    rw_s(h, "<section id=\"alerts\">\n<h2>Alerts</h2>\n");
    if (!r->alerts_known) {
        empty_note(h, "The store has no alert history (the rules engine never ran on it): see "
                      "'pgsift rules'.");
        rw_s(h, "</section>\n");
        return;
    }
    if (!r->nalerts && !r->nalert_rules) {
        empty_note(h, "No alert fired, resolved or was firing in this period.");
        rw_s(h, "</section>\n");
        return;
    }
    rw_f(h,
         "<p id=\"alert-counts\" class=\"note\"><span data-k=\"fired\" data-v=\"%llu\">%llu</span> "
         "fired, <span data-k=\"resolved\" data-v=\"%llu\">%llu</span> resolved, <span "
         "data-k=\"firing_at_end\" data-v=\"%llu\">%llu</span> still firing at the end of the "
         "period.</p>\n",
         (unsigned long long)r->alerts_fired, (unsigned long long)r->alerts_fired,
         (unsigned long long)r->alerts_resolved, (unsigned long long)r->alerts_resolved,
         (unsigned long long)r->alerts_firing, (unsigned long long)r->alerts_firing);
    rw_s(h, "<div class=\"wrap\"><table class=\"sortable\" id=\"t-alert-rules\">\n<thead><tr><th>"
            "Rule</th><th class=\"n\">Fired</th><th class=\"n\">Resolved</th><th "
            "class=\"n\">Firing at end</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < r->nalert_rules; i++) {
        const struct report_alert_rule *c = &r->alert_rules[i];
        rw_s(h, "<tr>");
        text_cell(h, c->rule);
        count_cell(h, "fired", (double)c->fired);
        count_cell(h, "resolved", (double)c->resolved);
        count_cell(h, "firing_at_end", (double)c->firing_at_end);
        rw_s(h, "</tr>\n");
    }
    rw_s(h, "</tbody></table></div>\n");
    rw_s(h, "<div class=\"wrap\"><table class=\"sortable\" id=\"t-alerts\">\n<thead><tr><th>Rule</"
            "th><th>Severity</th><th>Status</th><th>Labels</th><th>Started</th><th>Ended</"
            "th><th class=\"n\">Value</th><th class=\"n\">Sent</th><th "
            "class=\"n\">Failed</th><th>Summary</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < r->nalerts; i++) {
        const struct report_alert *a = &r->alerts[i];
        rw_s(h, "<tr>");
        text_cell(h, a->rule);
        text_cell(h, a->severity);
        text_cell(h, a->status);
        text_cell(h, a->labels);
        fmt_local(r, a->starts_us, b, sizeof(b));
        rw_s(h, a->fired_in_period ? "<td>" : "<td title=\"before the period\">");
        rw_ec(h, b);
        rw_s(h, "</td><td>");
        fmt_local(r, a->ends_us, b, sizeof(b));
        rw_ec(h, b);
        rw_s(h, "</td>");
        char v[FMT_MAX];
        fmt_plain_num(v, sizeof(v), a->value);
        num_cell(h, "value", a->value, *v ? v : "\xe2\x80\x93");
        count_cell(h, "notified", (double)a->notified);
        count_cell(h, "failed", (double)a->failed);
        rw_s(h, "<td>");
        sample(h, a->summary, REPORT_SAMPLE_TEXT);
        rw_s(h, "</td></tr>\n");
    }
    rw_s(h, "</tbody></table></div>\n");
    if (r->alerts_unlisted)
        rw_f(h, "<p class=\"note\">%llu more not shown.</p>\n",
             (unsigned long long)r->alerts_unlisted);
    rw_s(h, "</section>\n");
}

static void foot(struct rw *h)
{
    const struct report *r = h->r;
    char iso[CLOCK_RFC3339_MAX];
    size_t js_len;
    const char *js = report_js(&js_len);

    rw_s(h, "</main>\n<footer><p>Generated by ");
    rw_ec(h, r->generator);
    rw_f(h, " at <time datetime=\"%s\">", clock_format_rfc3339(r->generated_us, 0, iso));
    rw_ec(h, iso);
    rw_s(h, "</time>. Times are in ");
    rw_ec(h, r->tz.name);
    rw_s(h, ". ");
    rw_s(h, h->flags & REPORT_KEEP_LITERALS
                ? "Samples show literal values (--keep-literals)."
                : "Literal values in samples are replaced by ? (tenant-safe default; "
                  "--keep-literals shows them).");
    rw_s(h, " Tables sort by a click on their header when scripts run; each ranking is "
            "also its own table.</p></footer>\n");
    if (!(h->flags & REPORT_NO_SCRIPT) && js_len) {
        rw_s(h, "<script>");
        rw_raw(h, js, js_len);
        rw_s(h, "</script>\n");
    }
    rw_s(h, "</body>\n</html>\n");
}

int report_render_html(const struct report *r, const struct report_opts *o, struct sbuf *sb)
{
    struct rw h;

    rw_init(&h, sb, r, o, escape_html);

    head(&h);
    summary(&h);
    activity(&h);
    queries(&h);
    slowest(&h);
    commands(&h);
    regressions(&h);
    new_queries(&h);
    plans(&h);
    errors(&h);
    locks(&h);
    temp_files(&h);
    checkpoints(&h);
    vacuum(&h);
    sessions(&h);
    cancels(&h);
    events(&h);
    rejects(&h);
    alerts(&h);
    details(&h);
    foot(&h);
    return rw_finish(&h);
}
