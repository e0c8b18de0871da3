/* SPDX-License-Identifier: MIT */
/*
 * pgsift plans - auto_explain plan shapes from the store (docs/plans.md): per query, the
 * shapes its plans had with calls and latency per shape, the plan changes (the dominant
 * shape switched, with the latency before and after), the insights of each shape, and
 * the index suggestions of all listed plans merged; --show prints one shape's plan with
 * every insight explained and its evidence lines.
 *
 * Insights and suggestions are computed here, from the stored samples (redacted plan
 * bodies), with classify/'s pure functions: a newer pgsift explains old plans anew.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify/classify.h"
#include "cmd/cmd.h"
#include "cmd/outfmt.h"
#include "cmd/timearg.h"
#include "core/arena.h"
#include "core/clock.h"
#include "core/opts.h"
#include "core/sbuf.h"
#include "core/utf8.h"
#include "core/xalloc.h"
#include "store/store.h"

#define PLANS_SYNOPSIS                                                                \
    "pgsift plans [--query FP] [--show PLAN] [--changes] [--database D] [--since T] " \
    "[--format table|json|md|csv]"

#define TABLE_WIDTH 100

static const char *const plans_formats[] = { "table", "json", "md", "csv", NULL };

static void fp_hex(uint64_t fp, char buf[17])
{
    snprintf(buf, 17, "%016" PRIx64, fp);
}

/* A fingerprint argument: 1 to 16 hex digits. */
static int parse_fp(const char *opt, const char *arg, uint64_t *out, struct diag *d)
{
    size_t n = strlen(arg);
    char *end;

    if (n == 0 || n > 16 || arg[strspn(arg, "0123456789abcdefABCDEF")] != '\0')
        return diag_set(d, DIAG_USAGE, "%s: expected a fingerprint of 1 to 16 hex digits, got '%s'",
                        opt, arg);
    errno = 0;
    *out = strtoull(arg, &end, 16);
    return 0;
}

static enum plan_format format_of(const char *name)
{
    if (!name)
        return PLAN_NONE;
    if (!strcmp(name, "text"))
        return PLAN_TEXT;
    if (!strcmp(name, "json"))
        return PLAN_JSON;
    if (!strcmp(name, "yaml"))
        return PLAN_YAML;
    if (!strcmp(name, "xml"))
        return PLAN_XML;
    return PLAN_NONE;
}

static const char *query_text(const struct store_plan *p)
{
    if (p->query && *p->query)
        return p->query;
    return p->fingerprint ? "(statement text not in the catalogue)" : "(plan without Query Text)";
}

/* Does query/database pair @i of @ps have a change? */
static bool has_change(const struct store_plans *ps, uint64_t fp, const char *db)
{
    for (size_t i = 0; i < ps->n_changes; i++)
        if (ps->changes[i].fingerprint == fp && !strcmp(ps->changes[i].database, db))
            return true;
    return false;
}

static bool same_query(const struct store_plan *a, const struct store_plan *b)
{
    return a->fingerprint == b->fingerprint && !strcmp(a->database, b->database);
}

static const char *ratio(double slower_by, char *buf, size_t n)
{
    if (slower_by < 0)
        snprintf(buf, n, "latency unknown");
    else if (slower_by >= 1)
        snprintf(buf, n, "%.1fx slower", slower_by);
    else if (slower_by > 0)
        snprintf(buf, n, "%.1fx faster", 1 / slower_by);
    else
        snprintf(buf, n, "faster");
    return buf;
}

/* The merged index suggestions of the listed shapes' samples, weighted by their calls. */
static struct plan_advisor *advise(const struct store_plans *ps, struct arena *a)
{
    struct plan_advisor *adv = plan_advisor_new();
    for (size_t i = 0; i < ps->n; i++) {
        const struct store_plan *p = &ps->plans[i];
        struct plan_analysis pa;
        if (!p->sample)
            continue;
        plan_analyze(span_cstr(p->sample), format_of(p->format), p->sample_ms, a, &pa);
        plan_advisor_add(adv, &pa, p->fingerprint, (double)p->calls);
        arena_reset(a);
    }
    return adv;
}

static bool still_suggested(struct plan_advisor *all, struct span ddl);

/* ---------------------------------------------------------------- json */

static json_t *time_json(int64_t us)
{
    char buf[CLOCK_RFC3339_MAX];
    if (us == INT64_MIN || us == INT64_MAX)
        return json_null();
    return json_string(timearg_format(us, buf));
}

static json_t *ms_json(double ms, bool exact)
{
    return ms < 0 ? json_null() : outfmt_json_ms(ms, exact);
}

static json_t *names_json(const char *csv)
{
    json_t *a = json_array();
    const char *p = csv ? csv : "";
    while (*p) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        json_array_append_new(a, json_stringn(p, n));
        p += n + (c ? 1 : 0);
    }
    return a;
}

static json_t *fp_json(uint64_t fp)
{
    char buf[17];
    fp_hex(fp, buf);
    return json_string(buf);
}

static json_t *plan_stats_json(const struct store_plan *p)
{
    json_t *o = json_object();
    json_object_set_new(o, "plan", fp_json(p->plan_fp));
    json_object_set_new(o, "shape", outfmt_json_str(p->shape));
    json_object_set_new(o, "calls", json_integer((json_int_t)p->calls));
    json_object_set_new(o, "total_ms", ms_json(p->total_ms, true));
    json_object_set_new(o, "mean_ms", ms_json(p->mean_ms, true)); /* (to the µs, as top's) */
    json_object_set_new(o, "min_ms", ms_json(p->min_ms, true));
    json_object_set_new(o, "max_ms", ms_json(p->max_ms, true));
    json_object_set_new(o, "p50_ms", ms_json(p->p50_ms, false));
    json_object_set_new(o, "p95_ms", ms_json(p->p95_ms, false));
    json_object_set_new(o, "p99_ms", ms_json(p->p99_ms, false));
    json_object_set_new(o, "first_seen", time_json(p->first_seen_us));
    json_object_set_new(o, "last_seen", time_json(p->last_seen_us));
    json_object_set_new(o, "insights", names_json(p->insights));
    return o;
}

static json_t *change_json(const struct store_plan_change *c)
{
    json_t *o = json_object();
    json_object_set_new(o, "at", time_json(c->at_us));
    json_object_set_new(o, "from", fp_json(c->from_plan));
    json_object_set_new(o, "to", fp_json(c->to_plan));
    json_object_set_new(o, "calls_before", json_integer((json_int_t)c->calls_before));
    json_object_set_new(o, "calls_after", json_integer((json_int_t)c->calls_after));
    json_object_set_new(o, "before_ms", ms_json(c->before_ms, false));
    json_object_set_new(o, "after_ms", ms_json(c->after_ms, false));
    json_object_set_new(o, "slower_by",
                        c->slower_by < 0 ? json_null() : outfmt_json_ms(c->slower_by, false));
    return o;
}

static json_t *suggestions_json(struct plan_advisor *adv)
{
    const struct plan_advice *v;
    size_t n = plan_advisor_result(adv, &v);
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object(), *qs = json_array();
        json_object_set_new(o, "ddl", outfmt_json_str(v[i].ddl));
        json_object_set_new(o, "relation", outfmt_json_str(v[i].relation));
        json_object_set_new(o, "columns", outfmt_json_str(v[i].columns));
        json_object_set_new(o, "calls", json_integer((json_int_t)v[i].calls));
        json_object_set_new(o, "saving_ms", ms_json(v[i].saving_ms, false));
        json_object_set_new(o, "rows_read", json_integer((json_int_t)v[i].rows_read));
        json_object_set_new(o, "rows_returned", json_integer((json_int_t)v[i].rows_returned));
        for (size_t k = 0; k < v[i].n_queries && k < ARRAY_SIZE(v[i].query_fps); k++)
            json_array_append_new(qs, fp_json(v[i].query_fps[k]));
        json_object_set_new(o, "queries", qs);
        json_object_set_new(o, "evidence", outfmt_json_str(v[i].evidence));
        json_object_set_new(o, "heuristic", json_true());
        json_array_append_new(a, o);
    }
    return a;
}

static int print_json(const struct store_plans *ps, bool only_changes, struct arena *ar)
{
    json_t *doc = json_object(), *qs = json_array();
    for (size_t i = 0; i < ps->n;) {
        const struct store_plan *first = &ps->plans[i];
        size_t j = i;
        while (j < ps->n && same_query(&ps->plans[j], first))
            j++;
        if (only_changes && !has_change(ps, first->fingerprint, first->database)) {
            i = j;
            continue;
        }
        json_t *q = json_object(), *plans = json_array(), *changes = json_array();
        json_object_set_new(q, "fingerprint", fp_json(first->fingerprint));
        json_object_set_new(q, "database", outfmt_json_str(first->database));
        json_object_set_new(q, "query", outfmt_json_str(query_text(first)));
        for (size_t k = i; k < j; k++)
            json_array_append_new(plans, plan_stats_json(&ps->plans[k]));
        for (size_t k = 0; k < ps->n_changes; k++)
            if (ps->changes[k].fingerprint == first->fingerprint &&
                !strcmp(ps->changes[k].database, first->database))
                json_array_append_new(changes, change_json(&ps->changes[k]));
        json_object_set_new(q, "plans", plans);
        json_object_set_new(q, "changes", changes);
        json_array_append_new(qs, q);
        i = j;
    }
    json_object_set_new(doc, "queries", qs);
    struct plan_advisor *adv = advise(ps, ar);
    json_object_set_new(doc, "suggestions", suggestions_json(adv));
    plan_advisor_free(adv);
    int rc = outfmt_json_dump(doc);
    json_decref(doc);
    return rc;
}

static json_t *analysis_json(const struct plan_analysis *pa, struct plan_advisor *all)
{
    json_t *ins = json_array(), *sug = json_array();
    for (size_t i = 0; i < pa->n_insights; i++) {
        const struct plan_insight *in = &pa->insights[i];
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(plan_insight_name(in->kind)));
        json_object_set_new(o, "title", json_string(plan_insight_title(in->kind)));
        json_object_set_new(o, "needs", json_string(plan_insight_needs(in->kind)));
        json_object_set_new(o, "node",
                            in->node.p ? json_stringn(in->node.p, in->node.len) : json_null());
        json_object_set_new(o, "explanation", json_stringn(in->explanation.p, in->explanation.len));
        json_object_set_new(o, "evidence", json_stringn(in->evidence.p, in->evidence.len));
        json_object_set_new(o, "impact_ms", ms_json(in->impact_ms, false));
        json_object_set_new(o, "work_mem_kb",
                            in->work_mem_kb < 0 ? json_null()
                                                : json_integer((json_int_t)in->work_mem_kb));
        json_array_append_new(ins, o);
    }
    for (size_t i = 0; i < pa->n_suggestions; i++) {
        const struct plan_index_suggestion *s = &pa->suggestions[i];
        if (!still_suggested(all, s->ddl))
            continue;
        json_t *o = json_object();
        json_object_set_new(o, "ddl", json_stringn(s->ddl.p, s->ddl.len));
        json_object_set_new(o, "saving_ms", ms_json(s->saving_ms, false));
        json_object_set_new(o, "evidence", json_stringn(s->evidence.p, s->evidence.len));
        json_object_set_new(o, "heuristic", json_true());
        json_array_append_new(sug, o);
    }
    json_t *o = json_object();
    json_object_set_new(o, "insights", ins);
    json_object_set_new(o, "suggestions", sug);
    return o;
}

static int show_json(const struct store_plans *ps, struct plan_advisor *all, struct arena *ar)
{
    json_t *doc = json_object(), *occ = json_array();
    if (ps->n)
        json_object_set_new(doc, "plan", fp_json(ps->plans[0].plan_fp));
    for (size_t i = 0; i < ps->n; i++) {
        const struct store_plan *p = &ps->plans[i];
        struct plan_analysis pa;
        json_t *o = plan_stats_json(p);
        json_object_set_new(o, "fingerprint", fp_json(p->fingerprint));
        json_object_set_new(o, "database", outfmt_json_str(p->database));
        json_object_set_new(o, "query", outfmt_json_str(query_text(p)));
        json_object_set_new(o, "format", outfmt_json_str(p->format));
        json_object_set_new(o, "sample", outfmt_json_str(p->sample));
        json_object_set_new(o, "sample_ms", ms_json(p->sample_ms, true));
        plan_analyze(span_cstr(p->sample ? p->sample : ""), format_of(p->format), p->sample_ms, ar,
                     &pa);
        json_t *an = analysis_json(&pa, all);
        json_object_set(o, "sample_insights", json_object_get(an, "insights"));
        json_object_set(o, "suggestions", json_object_get(an, "suggestions"));
        json_decref(an);
        json_array_append_new(occ, o);
        arena_reset(ar);
    }
    json_object_set_new(doc, "occurrences", occ);
    int rc = outfmt_json_dump(doc);
    json_decref(doc);
    return rc;
}

/* ---------------------------------------------------------------- csv */

/* One row per plan shape, for scripts: the JSON document's plan objects with their query
 * (its changes and the suggestions are in json and the table). A time or latency the
 * store does not have is an empty field. */
static void print_csv(const struct store_plans *ps, bool only_changes)
{
    static const char *const cols[] = { "fingerprint", "database", "plan",   "calls",
                                        "total_ms",    "mean_ms",  "min_ms", "max_ms",
                                        "p50_ms",      "p95_ms",   "p99_ms", "first_seen",
                                        "last_seen",   "insights", "shape",  "query" };
    char fp[17], pfp[17], num[8][32], t[2][CLOCK_RFC3339_MAX];

    outfmt_delim_header(stdout, false, cols, ARRAY_SIZE(cols), NULL);
    for (size_t k = 0; k < ps->n; k++) {
        const struct store_plan *p = &ps->plans[k];
        if (only_changes && !has_change(ps, p->fingerprint, p->database))
            continue;
        const double ms[] = { p->total_ms, p->mean_ms, p->min_ms, p->max_ms,
                              p->p50_ms,   p->p95_ms,  p->p99_ms };
        fp_hex(p->fingerprint, fp);
        fp_hex(p->plan_fp, pfp);
        snprintf(num[0], sizeof(num[0]), "%" PRIu64, p->calls);
        for (size_t i = 0; i < ARRAY_SIZE(ms); i++) {
            /* exact sums and extremes to the microsecond, estimates to 6 digits (as top) */
            bool exact = i == 0 || i == 2 || i == 3;
            if (ms[i] < 0)
                num[i + 1][0] = '\0';
            else
                snprintf(num[i + 1], sizeof(num[0]), exact ? "%.3f" : "%.6g", ms[i]);
        }
        for (size_t i = 0; i < 2; i++) {
            int64_t us = i ? p->last_seen_us : p->first_seen_us;
            if (us == INT64_MIN)
                t[i][0] = '\0';
            else
                timearg_format(us, t[i]);
        }
        const char *row[] = { fp,     p->database, pfp,      num[0],       num[1], num[2],
                              num[3], num[4],      num[5],   num[6],       num[7], t[0],
                              t[1],   p->insights, p->shape, query_text(p) };
        outfmt_delim_row(stdout, false, row, ARRAY_SIZE(row));
    }
}

/* ---------------------------------------------------------------- table / md */

/* Text from the logs (database names, queries, shapes, relation names in index DDL and
 * insights) on one line or, with @keep_nl, several: the characters a terminal acts on
 * (core/utf8.h: C0, DEL, C1, bidi) are shown as '?' so that escape sequences never reach
 * the terminal (a tab stays). */
static void put_text(struct span text, bool keep_nl)
{
    const unsigned char *p = (const unsigned char *)text.p;
    for (size_t i = 0; i < text.len; i++) {
        size_t n = utf8_control_len(p + i, text.len - i);
        if (n && !(p[i] == '\t' || (p[i] == '\n' && keep_nl))) {
            fputc('?', stdout);
            i += n - 1;
            continue;
        }
        fputc(p[i], stdout);
    }
}

/* Lines of @text (a plan, an insight's evidence), each prefixed by @indent and written
 * with put_text(). */
static void print_indented(const char *indent, struct span text)
{
    size_t at = 0;
    while (at < text.len) {
        const char *nl = memchr(text.p + at, '\n', text.len - at);
        size_t n = nl ? (size_t)(nl - (text.p + at)) : text.len - at;
        fputs(indent, stdout);
        put_text(span_make(text.p + at, n), false);
        fputc('\n', stdout);
        at += n + 1;
    }
}

static void put_str(const char *s, bool keep_nl)
{
    put_text(span_cstr(s ? s : ""), keep_nl);
}

static void print_suggestions_table(struct plan_advisor *adv, bool md)
{
    const struct plan_advice *v;
    size_t n = plan_advisor_result(adv, &v);
    char ms[32];

    if (!n)
        return;
    if (md) {
        printf("\n### Index suggestions (heuristic)\n\n"
               "Derived from the plans' own row counts and times; check them against the "
               "table's real indexes and write load before creating one.\n\n"
               "| index | calls | est. saving | queries |\n|---|---:|---:|---:|\n");
        for (size_t i = 0; i < n; i++) {
            printf("| `");
            put_str(v[i].ddl, false);
            printf("` | %.0f | %s | %zu |\n", v[i].calls,
                   v[i].saving_ms >= 0 ? outfmt_duration(v[i].saving_ms, ms, sizeof(ms)) : "?",
                   v[i].n_queries);
        }
        return;
    }
    printf("\nINDEX SUGGESTIONS (heuristic: from the plans' own numbers; check before creating)\n");
    for (size_t i = 0; i < n; i++) {
        fputs("  ", stdout);
        put_str(v[i].ddl, false);
        fputc('\n', stdout);
        printf("    saves ~%s over %.0f calls of %zu quer%s; reads %.0f rows to return %.0f\n",
               v[i].saving_ms >= 0 ? outfmt_duration(v[i].saving_ms, ms, sizeof(ms)) : "?",
               v[i].calls, v[i].n_queries, v[i].n_queries == 1 ? "y" : "ies", v[i].rows_read,
               v[i].rows_returned);
        print_indented("      ", span_cstr(v[i].evidence));
    }
}

static void print_table(const struct store_plans *ps, bool only_changes, bool filtered, bool md,
                        struct arena *ar)
{
    size_t shown = 0;
    char buf[4][32], fp[17], from[17], to[17], when[CLOCK_RFC3339_MAX], r[48];

    for (size_t i = 0; i < ps->n;) {
        const struct store_plan *first = &ps->plans[i];
        size_t j = i;
        while (j < ps->n && same_query(&ps->plans[j], first))
            j++;
        if (only_changes && !has_change(ps, first->fingerprint, first->database)) {
            i = j;
            continue;
        }
        shown++;
        fp_hex(first->fingerprint, fp);
        if (md) {
            printf("%s### Query `%s`%s", shown > 1 ? "\n" : "", fp, *first->database ? " in " : "");
            put_str(first->database, false);
            printf("\n\n```sql\n");
            put_str(query_text(first), true);
            printf("\n```\n\n");
            printf("| plan | calls | mean | p95 | max | insights | shape |\n"
                   "|---|---:|---:|---:|---:|---|---|\n");
        } else {
            printf("%sQUERY %s ", shown > 1 ? "\n" : "", fp);
            put_str(first->database, false);
            fputs("  ", stdout);
            /* "QUERY ", the fingerprint, a space, the database, two spaces: 25 and its name */
            size_t used = 25 + utf8_columns(first->database);
            outfmt_cell(stdout, query_text(first),
                        used + 20 < TABLE_WIDTH ? TABLE_WIDTH - used : 20, false, false);
            printf("\n  %-16s %7s %8s %8s %8s  INSIGHTS / SHAPE\n", "PLAN", "CALLS", "MEAN", "P95",
                   "MAX");
        }
        for (size_t k = i; k < j; k++) {
            const struct store_plan *p = &ps->plans[k];
            char pfp[17];
            fp_hex(p->plan_fp, pfp);
            outfmt_duration(p->mean_ms < 0 ? 0 : p->mean_ms, buf[0], sizeof(buf[0]));
            outfmt_duration(p->p95_ms < 0 ? 0 : p->p95_ms, buf[1], sizeof(buf[1]));
            outfmt_duration(p->max_ms < 0 ? 0 : p->max_ms, buf[2], sizeof(buf[2]));
            outfmt_count(p->calls, buf[3], sizeof(buf[3]));
            if (md) {
                printf("| `%s` | %s | %s | %s | %s | ", pfp, buf[3], buf[0], buf[1], buf[2]);
                outfmt_md(stdout, p->insights);
                fputs(" | ", stdout);
                outfmt_md(stdout, p->shape);
                fputs(" |\n", stdout);
            } else {
                printf("  %-16s %7s %8s %8s %8s  ", pfp, buf[3], buf[0], buf[1], buf[2]);
                outfmt_cell(stdout, p->insights && *p->insights ? p->insights : "-",
                            TABLE_WIDTH - 54, false, false);
                fputs("\n      ", stdout);
                outfmt_cell(stdout, p->shape, TABLE_WIDTH - 6, false, false);
                fputc('\n', stdout);
            }
        }
        if (md)
            fputc('\n', stdout);
        for (size_t k = 0; k < ps->n_changes; k++) {
            const struct store_plan_change *c = &ps->changes[k];
            if (c->fingerprint != first->fingerprint || strcmp(c->database, first->database))
                continue;
            fp_hex(c->from_plan, from);
            fp_hex(c->to_plan, to);
            outfmt_duration(c->before_ms < 0 ? 0 : c->before_ms, buf[0], sizeof(buf[0]));
            outfmt_duration(c->after_ms < 0 ? 0 : c->after_ms, buf[1], sizeof(buf[1]));
            /* (the table's takes two lines: one is 110-135 columns) */
            printf("%s plan change %s: %s -> %s, %s%s(mean %s -> %s; %" PRIu64 " then %" PRIu64
                   " calls)\n",
                   md ? "-" : "  !", timearg_format(c->at_us, when), from, to,
                   ratio(c->slower_by, r, sizeof(r)), md ? " " : "\n      ", buf[0], buf[1],
                   c->calls_before, c->calls_after);
        }
        i = j;
    }
    if (!shown) {
        /* With --query/--database/--since the store may hold plans, just none of these. */
        printf(only_changes ? "(no plan changes)\n"
               : filtered   ? "(no plans match --query, --database or --since)\n"
                            : "(no plans in the store: log them with auto_explain, see "
                              "docs/plans.md)\n");
        return;
    }
    struct plan_advisor *adv = advise(ps, ar);
    print_suggestions_table(adv, md);
    plan_advisor_free(adv);
}

/* Is @ddl among the merged suggestions of every stored plan (so no index another plan
 * uses covers it)? */
static bool still_suggested(struct plan_advisor *all, struct span ddl)
{
    const struct plan_advice *v;
    size_t n = plan_advisor_result(all, &v);
    for (size_t i = 0; i < n; i++)
        if (span_eq(span_cstr(v[i].ddl), ddl))
            return true;
    return false;
}

static void show_table(const struct store_plans *ps, struct plan_advisor *all, bool md,
                       struct arena *ar)
{
    char fp[17], pfp[17], buf[4][32], when[2][CLOCK_RFC3339_MAX];

    for (size_t i = 0; i < ps->n; i++) {
        const struct store_plan *p = &ps->plans[i];
        struct plan_analysis pa;
        fp_hex(p->fingerprint, fp);
        fp_hex(p->plan_fp, pfp);
        outfmt_duration(p->mean_ms < 0 ? 0 : p->mean_ms, buf[0], sizeof(buf[0]));
        outfmt_duration(p->p95_ms < 0 ? 0 : p->p95_ms, buf[1], sizeof(buf[1]));
        outfmt_duration(p->max_ms < 0 ? 0 : p->max_ms, buf[2], sizeof(buf[2]));
        printf("%s%sPLAN %s of query %s%s", i ? "\n" : "", md ? "### " : "", pfp, fp,
               *p->database ? " in " : "");
        put_str(p->database, false);
        printf("\n%squery: ", md ? "- " : "  ");
        put_str(query_text(p), true);
        printf("\n%sshape: ", md ? "- " : "  ");
        put_str(p->shape, false);
        fputc('\n', stdout);
        printf("%s%" PRIu64 " calls, mean %s, p95 %s, max %s; seen %s to %s\n", md ? "- " : "  ",
               p->calls, buf[0], buf[1], buf[2], timearg_format(p->first_seen_us, when[0]),
               timearg_format(p->last_seen_us, when[1]));
        plan_analyze(span_cstr(p->sample ? p->sample : ""), format_of(p->format), p->sample_ms, ar,
                     &pa);
        if (!pa.parsed)
            printf("%sthe plan could not be read: %s\n", md ? "- " : "  ", pa.reason);
        for (size_t k = 0; k < pa.n_insights; k++) {
            const struct plan_insight *in = &pa.insights[k];
            printf("\n%s%s (%s)\n", md ? "#### " : "  INSIGHT ", plan_insight_title(in->kind),
                   plan_insight_name(in->kind));
            fputs(md ? "" : "    ", stdout);
            put_text(in->explanation, true);
            fputc('\n', stdout);
            if (md)
                printf("\n```\n");
            print_indented(md ? "" : "      | ", in->evidence);
            if (md)
                printf("```\n");
        }
        for (size_t k = 0; k < pa.n_suggestions; k++) {
            const struct plan_index_suggestion *s = &pa.suggestions[k];
            if (!still_suggested(all, s->ddl))
                continue;
            outfmt_duration(s->saving_ms < 0 ? 0 : s->saving_ms, buf[3], sizeof(buf[3]));
            printf("\n%sINDEX (heuristic): ", md ? "- " : "  ");
            put_text(s->ddl, false);
            printf("  saves ~%s per call\n", s->saving_ms < 0 ? "?" : buf[3]);
        }
        printf("\n%sthe plan (%s, %s%s):\n", md ? "" : "  ", p->format,
               p->sample_ms >= 0 ? outfmt_duration(p->sample_ms, buf[3], sizeof(buf[3]))
                                 : "no duration",
               pa.n_insights ? ", the one with the most insights" : ", the slowest");
        if (md)
            printf("\n```\n");
        print_indented(md ? "" : "    ", span_cstr(p->sample ? p->sample : ""));
        if (md)
            printf("```\n");
        arena_reset(ar);
    }
}

/* Order the queries: those with a plan change first, then by total time over all their
 * shapes; the shapes of one query stay together in first-seen order. */
struct group {
    size_t from, to;
    bool changed;
    double total_ms;
};

static int by_group(const void *a, const void *b)
{
    const struct group *x = a, *y = b;
    if (x->changed != y->changed)
        return x->changed ? -1 : 1;
    if (x->total_ms != y->total_ms)
        return x->total_ms > y->total_ms ? -1 : 1;
    return x->from < y->from ? -1 : 1;
}

static void order_queries(struct store_plans *ps)
{
    struct group *g = NULL;
    size_t ng = 0, ag = 0;

    for (size_t i = 0; i < ps->n;) {
        size_t j = i;
        double total = 0;
        while (j < ps->n && same_query(&ps->plans[j], &ps->plans[i]))
            total += ps->plans[j++].total_ms;
        XGROW(g, ng + 1, ag);
        g[ng++] =
            (struct group){ i, j, has_change(ps, ps->plans[i].fingerprint, ps->plans[i].database),
                            total };
        i = j;
    }
    if (ng > 1) {
        qsort(g, ng, sizeof(*g), by_group);
        struct store_plan *sorted = xmalloc(ps->n * sizeof(*sorted));
        size_t k = 0;
        for (size_t i = 0; i < ng; i++)
            for (size_t j = g[i].from; j < g[i].to; j++)
                sorted[k++] = ps->plans[j];
        free(ps->plans);
        ps->plans = sorted;
    }
    free(g);
}

int cmd_plans(int argc, char **argv, const struct cli *cli, struct diag *d)
{
    const char *query = NULL, *show = NULL, *database = NULL, *since = NULL, *format = "table";
    bool changes = false;
    const struct opt opts[] = {
        OPT_STRING_(0, "query", &query, "FP", "only this query fingerprint (16 hex digits)"),
        OPT_STRING_(0, "show", &show, "PLAN",
                    "show this plan shape: the plan, its insights and evidence"),
        OPT_BOOL_(0, "changes", &changes, "only queries whose plan changed"),
        OPT_STRING_(0, "database", &database, "D", "only this database"),
        OPT_STRING_(0, "since", &since, "T", "only shapes last seen at or after T"),
        OPT_CHOICE_(0, "format", &format, "F", "table (default), json, md or csv", plans_formats),
        OPT_END_(),
    };
    int n = opts_parse(opts, argc - 1, argv + 1, d);
    if (n == -2) {
        opts_usage(stdout, PLANS_SYNOPSIS, opts);
        return 0;
    }
    if (n < 0)
        return -1;
    if (n > 0)
        return diag_set(d, DIAG_USAGE, "'plans' takes no operands (got '%s')", argv[1]);

    struct store_plans_opts o = { .database = database, .since_us = INT64_MIN };
    if (query && parse_fp("--query", query, &o.fingerprint, d) < 0)
        return -1;
    o.has_fingerprint = query != NULL;
    if (show && parse_fp("--show", show, &o.plan_fp, d) < 0)
        return -1;
    o.has_plan_fp = show != NULL;
    if (since && timearg_parse("--since", since, clock_now_us(), &o.since_us, d) < 0)
        return -1;

    struct store *s;
    struct store_opts so = { .read_only = true };
    if (store_open(&s, cli->db_path, &so, d) < 0)
        return -1;
    struct store_plans ps;
    int rc = store_plans(s, &o, &ps, d);
    store_close(s);
    if (rc < 0)
        return -1;
    if (show && ps.n == 0) {
        store_plans_release(&ps);
        /* A plan that is not there is a bad value of --show (2): INTERFACE.md keeps 3 for
         * input that was read and could not be parsed. */
        return diag_set(d, DIAG_USAGE, "no plan %s in the store%s", show,
                        query ? " for that query" : "");
    }
    order_queries(&ps);
    struct arena ar = ARENA_INIT;
    bool md = !strcmp(format, "md");
    /* --show: the suggestions of that plan that no index of any stored plan covers */
    struct plan_advisor *all = NULL;
    if (show) {
        struct store_plans every;
        struct store_plans_opts eo = { .since_us = INT64_MIN };
        if (store_open(&s, cli->db_path, &so, d) < 0 || store_plans(s, &eo, &every, d) < 0) {
            store_close(s);
            store_plans_release(&ps);
            return -1;
        }
        store_close(s);
        all = advise(&every, &ar);
        store_plans_release(&every);
    }
    if (!strcmp(format, "json")) {
        if ((show ? show_json(&ps, all, &ar) : print_json(&ps, changes, &ar)) < 0)
            rc = diag_set(d, DIAG_IO, "cannot write to standard output");
    } else if (!strcmp(format, "csv")) {
        print_csv(&ps, changes);
    } else if (show) {
        show_table(&ps, all, md, &ar);
    } else {
        print_table(&ps, changes, query || database || since, md, &ar);
    }
    if (fflush(stdout) != 0 && rc == 0)
        rc = diag_set(d, DIAG_IO, "cannot write to standard output");
    plan_advisor_free(all);
    arena_release(&ar);
    store_plans_release(&ps);
    return rc;
}
