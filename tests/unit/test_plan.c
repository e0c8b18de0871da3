/* SPDX-License-Identifier: MIT */
/*
 * test_plan - auto_explain plans on the real fixtures (tests/fixtures/pg15): the parsers
 * agree across formats, every insight fires on its fixture statement and not on its
 * control, the forced plan change shows in the fingerprints, index suggestions are
 * deduplicated and never repeat an index the plans use, redaction keeps the tree, the
 * core/limits.h bounds hold at limit-1, limit and limit+1, and plan_yaml.c's direct
 * reader of EXPLAIN's YAML gives libyaml's events on whatever it takes.
 *
 * Hand-made plans (parser corner cases, controls) are in tests/cases/plan/.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "classify/classify.h"
#include "classify/plan.h"
#include "core/arena.h"
#include "core/limits.h"
#include "core/sbuf.h"
#include "core/xalloc.h"
#include "normalize/normalize.h"
#include "pipeline.h"

#define PI "fixtures/pg15/plan-insights/postgresql"

#include "planfx.h"
#include "rng.h"

static void analyze(const struct fx_plan *p, struct arena *a, struct plan_analysis *pa)
{
    plan_analyze(span_make(p->body, p->len), p->fmt, p->duration_ms, a, pa);
}

/* The @nth (0-based) plan of format @fmt whose query starts with @q; NULL if none. */
static const struct fx_plan *find(const struct fx *fx, enum plan_format fmt, const char *q, int nth)
{
    for (size_t i = 0; i < fx->n; i++)
        if (fx->v[i].fmt == fmt && !strncmp(fx->v[i].query, q, strlen(q)) && nth-- == 0)
            return &fx->v[i];
    return NULL;
}

static bool has_insight(const struct plan_analysis *pa, enum plan_insight_kind k)
{
    for (size_t i = 0; i < pa->n_insights; i++)
        if (pa->insights[i].kind == k)
            return true;
    return false;
}

/* ---------------------------------------------------------------- formats agree */

/* Every format of the plan-insights run (text, then json passes of the same statements;
 * yaml and xml for a subset) gives the same fingerprints and the same insights. */
static void test_formats_agree(void)
{
    struct fx fx;
    struct arena a = ARENA_INIT;
    size_t ntext = 0, njson = 0, nother = 0;

    load(PI ".csv", &fx);
    const struct fx_plan *text[64], *json[64];
    for (size_t i = 0; i < fx.n; i++) {
        if (fx.v[i].fmt == PLAN_TEXT && ntext < 64)
            text[ntext++] = &fx.v[i];
        else if (fx.v[i].fmt == PLAN_JSON && njson < 64)
            json[njson++] = &fx.v[i];
    }
    CHECK(ntext >= 25);
    CHECK_EQ_INT(ntext, njson);
    for (size_t i = 0; i < ntext && i < njson; i++) {
        struct plan_analysis t, j;
        analyze(text[i], &a, &t);
        analyze(json[i], &a, &j);
        CHECK(t.parsed && j.parsed && !t.reason && !j.reason);
        CHECK_EQ_STR(text[i]->query, json[i]->query);
        CHECK_MSG(t.fingerprint == j.fingerprint, "plan %zu: %.*s vs %.*s", i, (int)t.shape.len,
                  t.shape.p, (int)j.shape.len, j.shape.p);
        CHECK_EQ_INT(t.nodes, j.nodes);
        CHECK_EQ_INT(t.n_insights, j.n_insights);
        for (size_t k = 0; k < t.n_insights && k < j.n_insights; k++)
            CHECK_EQ_INT(t.insights[k].kind, j.insights[k].kind);
        CHECK_EQ_INT(t.n_suggestions, j.n_suggestions);
        arena_reset(&a);
    }
    /* yaml and xml: each plan has the fingerprint of the text plan of the same query */
    for (size_t i = 0; i < fx.n; i++) {
        if (fx.v[i].fmt != PLAN_YAML && fx.v[i].fmt != PLAN_XML)
            continue;
        nother++;
        const struct fx_plan *t = find(&fx, PLAN_TEXT, fx.v[i].query, 0);
        CHECK_MSG(t != NULL, "no text plan for %s", fx.v[i].query);
        if (!t)
            continue;
        struct plan_analysis x, tt;
        analyze(&fx.v[i], &a, &x);
        analyze(t, &a, &tt);
        CHECK_MSG(x.parsed && !x.reason, "%s: %s", plan_format_name(fx.v[i].fmt),
                  x.reason ? x.reason : "");
        /* the JIT and trigger plans differ only in the trailers, the rest in shape */
        CHECK_MSG(x.fingerprint == tt.fingerprint, "%s %s", plan_format_name(fx.v[i].fmt),
                  fx.v[i].query);
        CHECK(x.analyzed && x.timing && x.buffers);
        arena_reset(&a);
    }
    CHECK_EQ_INT(nother, 10);
    arena_release(&a);
    fx_free(&fx);
}

/* The main runs: text-plans and json-plans are the same workload in two formats. */
static void test_main_runs_agree(void)
{
    struct fx t, j;
    struct arena a = ARENA_INIT;

    load("fixtures/pg15/text-plans/postgresql.csv", &t);
    load("fixtures/pg15/json-plans/postgresql.csv", &j);
    CHECK_EQ_INT(t.n, j.n);
    for (size_t i = 0; i < t.n && i < j.n; i++) {
        struct plan_analysis x, y;
        analyze(&t.v[i], &a, &x);
        analyze(&j.v[i], &a, &y);
        CHECK(x.parsed && y.parsed);
        CHECK_EQ_STR(t.v[i].query, j.v[i].query);
        CHECK_EQ_U64(x.fingerprint, y.fingerprint);
        arena_reset(&a);
    }
    arena_release(&a);
    fx_free(&t);
    fx_free(&j);
}

/* The stderr, csvlog and jsonlog copies of one run give the same plans. */
static void test_destinations_agree(void)
{
    struct fx l, c, j;
    struct arena a = ARENA_INIT;

    load(PI ".log", &l);
    load(PI ".csv", &c);
    load(PI ".json", &j);
    CHECK_EQ_INT(l.n, c.n);
    CHECK_EQ_INT(j.n, c.n);
    for (size_t i = 0; i < c.n && i < l.n && i < j.n; i++) {
        struct plan_analysis x, y, z;
        analyze(&l.v[i], &a, &x);
        analyze(&c.v[i], &a, &y);
        analyze(&j.v[i], &a, &z);
        CHECK_EQ_U64(x.fingerprint, y.fingerprint);
        CHECK_EQ_U64(z.fingerprint, y.fingerprint);
        CHECK_EQ_INT(x.n_insights, y.n_insights);
        CHECK_EQ_INT(z.n_insights, y.n_insights);
        arena_reset(&a);
    }
    arena_release(&a);
    fx_free(&l);
    fx_free(&c);
    fx_free(&j);
}

/* ---------------------------------------------------------------- insights */

struct insight_case {
    enum plan_insight_kind kind;
    const char *query;         /* statement prefix */
    int fires, control;        /* occurrence (per format) that fires / must not fire */
    const char *control_query; /* NULL: the same statement */
};

static const struct insight_case insight_cases[] = {
    { PLAN_INSIGHT_SEQ_SCAN, "SELECT sum(amount) FROM orders_pi WHERE customer_id = 42", 3, 0,
      NULL },
    { PLAN_INSIGHT_SEQ_SCAN, "SELECT sum(amount) FROM orders_pi WHERE customer_id = 42", 4, 0,
      "SELECT count(*) FROM orders_pi WHERE status <> 'refunded'" },
    { PLAN_INSIGHT_MISESTIMATE, "SELECT count(*) FROM corr_pi WHERE a = 1 AND b = 1", 0, 0,
      "SELECT count(*) FROM corr_pi WHERE a = 1;" },
    { PLAN_INSIGHT_SORT_SPILL, "SELECT count(*) FROM (SELECT note FROM orders_pi ORDER BY note)", 0,
      1, NULL },
    { PLAN_INSIGHT_HASH_SPILL, "SELECT count(*) FROM orders_pi AS o JOIN corr_pi", 0, 1, NULL },
    { PLAN_INSIGHT_NESTED_LOOP, "SELECT count(*) FROM orders_pi AS o JOIN customers_pi", 0, 1,
      NULL },
    { PLAN_INSIGHT_LOSSY_BITMAP, "SELECT count(*) FROM orders_pi WHERE customer_id < 300", 0, 1,
      NULL },
    { PLAN_INSIGHT_WORKERS, "SELECT count(*) FROM orders_pi WHERE note LIKE 'ab%'", 0, 1, NULL },
    { PLAN_INSIGHT_JIT, "SELECT sum(amount), avg(amount) FROM orders_pi WHERE customer_id = 7", 0,
      1, NULL },
    { PLAN_INSIGHT_TRIGGER, "DELETE FROM parent_pi WHERE id <= 10", 0, 1, NULL },
};

static void test_insights_fire_and_controls_do_not(void)
{
    struct fx fx;
    struct arena a = ARENA_INIT;
    static const enum plan_format fmts[] = { PLAN_TEXT, PLAN_JSON };
    bool seen[PLAN_INSIGHT_COUNT] = { false };

    load(PI ".csv", &fx);
    for (size_t f = 0; f < ARRAY_SIZE(fmts); f++) {
        for (size_t i = 0; i < ARRAY_SIZE(insight_cases); i++) {
            const struct insight_case *ic = &insight_cases[i];
            const struct fx_plan *yes = find(&fx, fmts[f], ic->query, ic->fires);
            const struct fx_plan *no =
                find(&fx, fmts[f], ic->control_query ? ic->control_query : ic->query, ic->control);
            CHECK_MSG(yes && no, "%s: fixture statements missing", plan_insight_name(ic->kind));
            if (!yes || !no)
                continue;
            struct plan_analysis py, pn;
            analyze(yes, &a, &py);
            analyze(no, &a, &pn);
            CHECK_MSG(has_insight(&py, ic->kind), "%s does not fire on %s (%s)",
                      plan_insight_name(ic->kind), ic->query, plan_format_name(fmts[f]));
            CHECK_MSG(!has_insight(&pn, ic->kind), "%s fires on its control %s (%s)",
                      plan_insight_name(ic->kind), no->query, plan_format_name(fmts[f]));
            for (size_t k = 0; k < py.n_insights; k++) {
                const struct plan_insight *in = &py.insights[k];
                if (in->kind != ic->kind)
                    continue;
                seen[ic->kind] = true;
                CHECK(in->explanation.len > 40);
                CHECK(in->evidence.len > 10);
            }
            arena_reset(&a);
        }
    }
    for (int k = 0; k < PLAN_INSIGHT_COUNT; k++)
        CHECK_MSG(seen[k], "insight %s never checked",
                  plan_insight_name((enum plan_insight_kind)k));
    arena_release(&a);
    fx_free(&fx);
}

/* The numbers in the explanations come from the plan. */
static void test_insight_numbers(void)
{
    struct fx fx;
    struct arena a = ARENA_INIT;
    struct plan_analysis pa;

    load(PI ".csv", &fx);
    const struct fx_plan *p = find(&fx, PLAN_TEXT, "SELECT count(*) FROM (SELECT note", 0);
    CHECK(p != NULL);
    if (p) {
        analyze(p, &a, &pa);
        for (size_t k = 0; k < pa.n_insights; k++)
            if (pa.insights[k].kind == PLAN_INSIGHT_SORT_SPILL) {
                /* work_mem: twice the largest disk sort, rounded up to whole MB */
                CHECK(pa.insights[k].work_mem_kb >= 1024);
                CHECK((int64_t)pa.insights[k].work_mem_kb % 1024 == 0);
                CHECK(span_find(pa.insights[k].evidence, 0, SPAN_LIT("Disk: ")) >= 0);
            }
    }
    p = find(&fx, PLAN_TEXT, "DELETE FROM parent_pi", 0);
    CHECK(p != NULL);
    if (p) {
        analyze(p, &a, &pa);
        CHECK_EQ_INT(pa.n_insights, 1);
        if (pa.n_insights) {
            CHECK(span_find(pa.insights[0].explanation, 0,
                            SPAN_LIT("for constraint child_pi_parent_id_fkey")) >= 0);
            CHECK(span_find(pa.insights[0].explanation, 0, SPAN_LIT("over 10 calls")) >= 0);
            CHECK(pa.insights[0].impact_ms > PLAN_TRIGGER_MIN_MS);
        }
    }
    arena_release(&a);
    fx_free(&fx);
}

/* ---------------------------------------------------------------- plan change */

/* DROP INDEX / CREATE INDEX: the same statement gets shape A three times, B three times,
 * A three times; ANALYZE on shifted data (main fixture) flips Bitmap Heap Scan to Seq Scan. */
static void test_plan_change_shapes(void)
{
    struct fx fx;
    struct arena a = ARENA_INIT;
    uint64_t fp[9];

    load(PI ".csv", &fx);
    for (int i = 0; i < 9; i++) {
        const struct fx_plan *p =
            find(&fx, PLAN_TEXT, "SELECT sum(amount) FROM orders_pi WHERE customer_id = 42", i);
        CHECK(p != NULL);
        struct plan_analysis pa;
        if (p) {
            analyze(p, &a, &pa);
            fp[i] = pa.fingerprint;
        } else {
            fp[i] = (uint64_t)i;
        }
    }
    CHECK(fp[0] == fp[1] && fp[1] == fp[2]);
    CHECK(fp[3] == fp[4] && fp[4] == fp[5]);
    CHECK(fp[6] == fp[7] && fp[7] == fp[8]);
    CHECK(fp[0] != fp[3]);
    CHECK(fp[0] == fp[6]);
    fx_free(&fx);

    load("fixtures/pg15/text-plans/postgresql.csv", &fx);
    uint64_t m[3];
    for (int i = 0; i < 3; i++) {
        const struct fx_plan *p =
            find(&fx, PLAN_TEXT, "SELECT count(*), max(payload) FROM events WHERE kind = 42", i);
        CHECK(p != NULL);
        struct plan_analysis pa;
        m[i] = (uint64_t)i;
        if (p) {
            analyze(p, &a, &pa);
            m[i] = pa.fingerprint;
        }
    }
    CHECK(m[0] != m[1]);
    CHECK(m[0] == m[2]); /* Seq Scan again after ANALYZE on shifted data */
    arena_release(&a);
    fx_free(&fx);
}

/* ---------------------------------------------------------------- index suggestions */

static bool advice_has(const struct plan_advice *v, size_t n, const char *ddl)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i].ddl, ddl))
            return true;
    return false;
}

static void test_index_advice(void)
{
    struct fx fx;
    struct arena a = ARENA_INIT;
    const struct plan_advice *adv;
    size_t n;

    load(PI ".csv", &fx);
    /* the Seq Scan plan alone argues for orders_pi (customer_id) */
    const struct fx_plan *seq =
        find(&fx, PLAN_TEXT, "SELECT sum(amount) FROM orders_pi WHERE customer_id = 42", 3);
    CHECK(seq != NULL);
    if (seq) {
        struct plan_analysis pa;
        analyze(seq, &a, &pa);
        CHECK_EQ_INT(pa.n_suggestions, 1);
        if (pa.n_suggestions) {
            CHECK_EQ_STR(pa.suggestions[0].ddl.p,
                         "CREATE INDEX CONCURRENTLY ON orders_pi (customer_id);");
            CHECK(pa.suggestions[0].saving_ms > 0);
            CHECK(pa.suggestions[0].saving_ms <= pa.suggestions[0].node_ms);
            CHECK_EQ_INT((int64_t)pa.suggestions[0].rows_read, 100000);
            CHECK_EQ_INT((int64_t)pa.suggestions[0].rows_returned, 100);
        }
        struct plan_advisor *ad = plan_advisor_new();
        plan_advisor_add(ad, &pa, 1, 3);
        plan_advisor_add(ad, &pa, 1, 2); /* the same query again: one entry, calls add up */
        plan_advisor_add(ad, &pa, 2, 1); /* another query with the same need */
        n = plan_advisor_result(ad, &adv);
        CHECK_EQ_INT(n, 1);
        if (n) {
            CHECK_EQ_INT((int64_t)adv[0].calls, 6);
            CHECK_EQ_INT(adv[0].n_queries, 2);
            CHECK(adv[0].saving_ms > pa.suggestions[0].saving_ms * 5.9);
        }
        plan_advisor_free(ad);
    }
    arena_reset(&a);

    /* all text plans of the run: the index the other plans use covers customer_id */
    struct plan_advisor *ad = plan_advisor_new();
    for (size_t i = 0; i < fx.n; i++) {
        if (fx.v[i].fmt != PLAN_TEXT)
            continue;
        struct plan_analysis pa;
        analyze(&fx.v[i], &a, &pa);
        plan_advisor_add(ad, &pa, (uint64_t)i, 1);
        arena_reset(&a);
    }
    n = plan_advisor_result(ad, &adv);
    CHECK(!advice_has(adv, n, "CREATE INDEX CONCURRENTLY ON orders_pi (customer_id);"));
    CHECK(advice_has(adv, n, "CREATE INDEX CONCURRENTLY ON orders_pi (region, status);"));
    CHECK(advice_has(adv, n, "CREATE INDEX CONCURRENTLY ON customers_pi (id);"));
    CHECK(advice_has(adv, n, "CREATE INDEX CONCURRENTLY ON corr_pi (a, b);"));
    /* (a) folded into (a, b): one index serves both queries */
    CHECK(!advice_has(adv, n, "CREATE INDEX CONCURRENTLY ON corr_pi (a);"));
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(adv[i].ddl, "CREATE INDEX CONCURRENTLY ON corr_pi (a, b);"))
            CHECK_EQ_INT(adv[i].n_queries, 2);
        if (i)
            CHECK(adv[i - 1].saving_ms >= adv[i].saving_ms);
    }
    plan_advisor_free(ad);
    arena_release(&a);
    fx_free(&fx);
}

/* ---------------------------------------------------------------- redaction */

static bool contains(struct span s, const char *needle)
{
    return span_find(s, 0, span_cstr(needle)) >= 0;
}

/* Every fixture plan redacts to a body with the same tree (fingerprint, insights) and no
 * constant of its conditions or query. */
static void test_redaction_keeps_tree(void)
{
    static const char *const files[] = { PI ".log", PI ".csv", PI ".json",
                                         "fixtures/pg15/text-plans/postgresql.csv",
                                         "fixtures/pg15/json-plans/postgresql.json" };
    struct normalizer *nz = normalize_new(NULL);
    struct arena a = ARENA_INIT;
    struct sbuf out = SBUF_INIT;

    for (size_t f = 0; f < ARRAY_SIZE(files); f++) {
        struct fx fx;
        load(files[f], &fx);
        for (size_t i = 0; i < fx.n; i++) {
            struct plan_analysis x, y;
            struct span body = span_make(fx.v[i].body, fx.v[i].len);
            sbuf_reset(&out);
            CHECK(plan_redact(nz, body, fx.v[i].fmt, &a, &out) == 0);
            analyze(&fx.v[i], &a, &x);
            plan_analyze(sbuf_span(&out), fx.v[i].fmt, fx.v[i].duration_ms, &a, &y);
            CHECK_MSG(y.parsed && x.fingerprint == y.fingerprint, "%s plan %zu (%s)", files[f], i,
                      y.reason ? y.reason : "");
            CHECK_EQ_INT(x.n_insights, y.n_insights);
            CHECK_EQ_INT(x.n_suggestions, y.n_suggestions);
            CHECK(!contains(sbuf_span(&out), "'refunded'"));
            CHECK(!contains(sbuf_span(&out), "customer_id = 42"));
            CHECK(!contains(sbuf_span(&out), "(kind = 42)"));
            CHECK(!contains(sbuf_span(&out), "'ab%'"));
            if (contains(body, "customer_id = 42"))
                CHECK(contains(sbuf_span(&out), "customer_id = $1"));
            arena_reset(&a);
        }
        fx_free(&fx);
    }
    sbuf_release(&out);
    arena_release(&a);
    normalize_free(nz);
}

/* Hand-made (no fixture statement has a literal with a line break): a text plan whose
 * Query Text and Filter hold a multi-line literal, as auto_explain prints it, plain and
 * with stderr's TAB before each continuation line. Every line of the literal is tenant
 * data; redacted line by line, the later lines looked like names and were kept. */
static void test_redaction_multiline_literal(void)
{
    static const char *const bodies[] = {
        "Query Text: select * from t join u using (id) where note = 'first\n"
        "secret second line 7' and k = 1\n"
        "Hash Join  (cost=1.00..2.00 rows=1 width=4)\n"
        "  Hash Cond: (t.id = u.id)\n"
        "  ->  Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)\n"
        "        Filter: ((k = 1) AND (note = 'first\n"
        "secret second line 7'::text))\n"
        "  ->  Hash  (cost=0.50..0.50 rows=1 width=4)\n"
        "        ->  Seq Scan on u  (cost=0.00..0.50 rows=1 width=4)",
        "Query Text: select * from t join u using (id) where note = 'first\n"
        "\tsecret second line 7' and k = 1\n"
        "\tHash Join  (cost=1.00..2.00 rows=1 width=4)\n"
        "\t  Hash Cond: (t.id = u.id)\n"
        "\t  ->  Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)\n"
        "\t        Filter: ((k = 1) AND (note = 'first\n"
        "\tsecret second line 7'::text))\n"
        "\t  ->  Hash  (cost=0.50..0.50 rows=1 width=4)\n"
        "\t        ->  Seq Scan on u  (cost=0.00..0.50 rows=1 width=4)\n",
    };
    struct normalizer *nz = normalize_new(NULL);
    struct arena a = ARENA_INIT;
    struct sbuf out = SBUF_INIT;

    for (size_t i = 0; i < ARRAY_SIZE(bodies); i++) {
        sbuf_reset(&out);
        CHECK(plan_redact(nz, span_cstr(bodies[i]), PLAN_TEXT, &a, &out) == 0);
        CHECK_MSG(!contains(sbuf_span(&out), "secret"), "body %zu: %.*s", i, (int)out.len, out.buf);
        CHECK(!contains(sbuf_span(&out), "first"));
        CHECK(contains(sbuf_span(&out), "Hash Cond: (t.id = u.id)"));
        struct plan_analysis x, y;
        plan_analyze(span_cstr(bodies[i]), PLAN_TEXT, -1, &a, &x);
        plan_analyze(sbuf_span(&out), PLAN_TEXT, -1, &a, &y);
        CHECK_EQ_INT(x.nodes, 4);
        CHECK(y.parsed && x.fingerprint == y.fingerprint);
        arena_reset(&a);
    }
    sbuf_release(&out);
    arena_release(&a);
    normalize_free(nz);
}

static void test_redaction_parameters(void)
{
    struct normalizer *nz = normalize_new(NULL);
    struct arena a = ARENA_INIT;
    struct sbuf out = SBUF_INIT;
    /* handmade: a PG16+ text plan with a Query Parameters line (a value spans two lines) */
    const char *text = "Query Text: select * from t where a = $1 and b = 'x'\n"
                       "Query Parameters: $1 = 'secret\nvalue'\n"
                       "Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)\n"
                       "  Filter: ((a = $1) AND (b = 'x'::text) AND (c > 42))";
    CHECK(plan_redact(nz, span_cstr(text), PLAN_TEXT, &a, &out) == 0);
    CHECK(!contains(sbuf_span(&out), "secret"));
    CHECK(!contains(sbuf_span(&out), "value'"));
    CHECK(!contains(sbuf_span(&out), "'x'"));
    CHECK(!contains(sbuf_span(&out), "42"));
    CHECK(contains(sbuf_span(&out), "Query Parameters: (redacted)"));
    CHECK(contains(sbuf_span(&out), "Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)"));
    /* handmade JSON with parameters, a Sort Key array and an Output list */
    const char *json = "{\"Query Text\": \"select 'k' from t where a = 7\", \"Query Parameters\": "
                       "\"$1 = 'secret'\", \"Plan\": {\"Node Type\": \"Sort\", \"Sort Key\": "
                       "[\"(a || 'zz')\"], \"Plan Rows\": 5, \"Plans\": [{\"Node Type\": \"Seq "
                       "Scan\", \"Relation Name\": \"t\", \"Filter\": \"(a = 7)\", \"Output\": "
                       "[\"'lit'::text\"]}]}}";
    sbuf_reset(&out);
    CHECK(plan_redact(nz, span_cstr(json), PLAN_JSON, &a, &out) == 0);
    CHECK(!contains(sbuf_span(&out), "secret"));
    CHECK(!contains(sbuf_span(&out), "'zz'"));
    CHECK(!contains(sbuf_span(&out), "'lit'"));
    CHECK(!contains(sbuf_span(&out), "= 7"));
    CHECK(!contains(sbuf_span(&out), "'k'"));
    CHECK(contains(sbuf_span(&out), "\"Relation Name\": \"t\""));
    CHECK(contains(sbuf_span(&out), "\"Plan Rows\": 5"));
    struct plan_analysis pa;
    plan_analyze(sbuf_span(&out), PLAN_JSON, -1, &a, &pa);
    CHECK(pa.parsed && pa.nodes == 2);
    sbuf_release(&out);
    arena_release(&a);
    normalize_free(nz);
}

/* QA 20, bodies as PostgreSQL 15's auto_explain wrote them (log_verbose, log_settings):
 * a bare number in Output is the query's constant (SELECT 987654507, or the parameter of
 * EXECUTE p2(987654508) folded into a custom plan), and search_path may name a tenant.
 * Names and the planner's own settings stay; the tree and its fingerprint do not change. */
static void test_redaction_output_settings(void)
{
    static const struct {
        enum plan_format fmt;
        const char *body;
    } bodies[] = {
        { PLAN_TEXT, "Query Text: PREPARE p2(int) AS SELECT $1;\n"
                     "Result  (cost=0.00..0.01 rows=1 width=4) (actual time=0.000..0.001 rows=1 "
                     "loops=1)\n"
                     "  Output: 987654508\n"
                     "Settings: search_path = 'qxsecret233, public', work_mem = '64kB'" },
        { PLAN_XML, "<explain xmlns=\"http://www.postgresql.org/2009/explain\">\n"
                    "  <Query-Text>PREPARE p2(int) AS SELECT $1;</Query-Text>\n"
                    "  <Plan>\n"
                    "    <Node-Type>Result</Node-Type>\n"
                    "    <Parallel-Aware>false</Parallel-Aware>\n"
                    "    <Async-Capable>false</Async-Capable>\n"
                    "    <Startup-Cost>0.00</Startup-Cost>\n"
                    "    <Total-Cost>0.01</Total-Cost>\n"
                    "    <Plan-Rows>1</Plan-Rows>\n"
                    "    <Plan-Width>4</Plan-Width>\n"
                    "    <Actual-Startup-Time>0.001</Actual-Startup-Time>\n"
                    "    <Actual-Total-Time>0.001</Actual-Total-Time>\n"
                    "    <Actual-Rows>1</Actual-Rows>\n"
                    "    <Actual-Loops>1</Actual-Loops>\n"
                    "    <Output>\n"
                    "      <Item>987654508</Item>\n"
                    "    </Output>\n"
                    "  </Plan>\n"
                    "  <Settings>\n"
                    "    <search_path>qxsecret233, public</search_path>\n"
                    "    <work_mem>64kB</work_mem>\n"
                    "  </Settings>\n"
                    "</explain>" },
        { PLAN_JSON, "{\n  \"Query Text\": \"SELECT 1\",\n  \"Plan\": {\n    \"Node Type\": "
                     "\"Result\",\n    \"Plan Rows\": 1,\n    \"Output\": [\"987654508\"]\n  },\n"
                     "  \"Settings\": {\n    \"search_path\": \"qxsecret233, public\",\n"
                     "    \"work_mem\": \"64kB\"\n  }\n}" },
    };
    struct normalizer *nz = normalize_new(NULL);
    struct arena a = ARENA_INIT;
    struct sbuf out = SBUF_INIT;

    for (size_t i = 0; i < ARRAY_SIZE(bodies); i++) {
        sbuf_reset(&out);
        CHECK(plan_redact(nz, span_cstr(bodies[i].body), bodies[i].fmt, &a, &out) == 0);
        struct span r = sbuf_span(&out);
        CHECK_MSG(!contains(r, "987654508"), "body %zu: %.*s", i, (int)r.len, r.p);
        CHECK_MSG(!contains(r, "qxsecret233"), "body %zu: %.*s", i, (int)r.len, r.p);
        /* (JSON and XML redact the values of every setting: too much, not a leak) */
        CHECK_MSG((bodies[i].fmt != PLAN_TEXT || contains(r, "64kB")) &&
                      contains(r, "search_path") && contains(r, "(redacted)"),
                  "body %zu: %.*s", i, (int)r.len, r.p);
        struct plan_analysis x, y;
        plan_analyze(span_cstr(bodies[i].body), bodies[i].fmt, -1, &a, &x);
        plan_analyze(r, bodies[i].fmt, -1, &a, &y);
        CHECK_MSG(x.parsed && y.parsed && x.fingerprint == y.fingerprint && x.nodes == y.nodes,
                  "body %zu: %d %d %d %d", i, x.parsed, y.parsed, (int)x.nodes, (int)y.nodes);
        arena_reset(&a);
    }
    sbuf_release(&out);
    arena_release(&a);
    normalize_free(nz);
}

/* ---------------------------------------------------------------- limits */

/* A text plan nested @levels deep (a chain of Sort nodes over a Seq Scan). */
static void deep_text(struct sbuf *sb, unsigned levels)
{
    sbuf_reset(sb);
    CHECK(sbuf_addstr(sb, "Query Text: select 1\nSort  (cost=0.00..1.00 rows=1 width=4)\n") == 0);
    for (unsigned d = 1; d < levels; d++) {
        size_t col = 6 * d - 4;
        for (size_t k = 0; k < col; k++)
            CHECK(sbuf_addch(sb, ' ') == 0);
        CHECK(sbuf_addstr(sb, d + 1 == levels
                                  ? "->  Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)\n"
                                  : "->  Sort  (cost=0.00..1.00 rows=1 width=4)\n") == 0);
    }
}

static void deep_json(struct sbuf *sb, unsigned levels)
{
    sbuf_reset(sb);
    CHECK(sbuf_addstr(sb, "{\"Query Text\": \"select 1\", \"Plan\": ") == 0);
    for (unsigned d = 0; d < levels; d++)
        CHECK(sbuf_addstr(sb, d + 1 == levels ? "{\"Node Type\": \"Seq Scan\""
                                              : "{\"Node Type\": \"Sort\", \"Plans\": [") == 0);
    for (unsigned d = 0; d < levels; d++)
        CHECK(sbuf_addstr(sb, d == 0 ? "}" : "]}") == 0);
    CHECK(sbuf_addch(sb, '}') == 0);
}

static void deep_yaml(struct sbuf *sb, unsigned levels)
{
    sbuf_reset(sb);
    CHECK(sbuf_addstr(sb, "Query Text: \"select 1\"\nPlan: \n") == 0);
    for (unsigned d = 0; d < levels; d++) {
        size_t col = 2 + 4 * (size_t)d;
        for (size_t k = 0; k + 2 < col; k++)
            CHECK(sbuf_addch(sb, ' ') == 0);
        CHECK(sbuf_addstr(sb, d ? "- " : "  ") == 0);
        CHECK(sbuf_addf(sb, "Node Type: \"%s\"\n", d + 1 == levels ? "Seq Scan" : "Sort") == 0);
        if (d + 1 < levels) {
            for (size_t k = 0; k < col; k++)
                CHECK(sbuf_addch(sb, ' ') == 0);
            CHECK(sbuf_addstr(sb, "Plans: \n") == 0);
        }
    }
}

static void deep_xml(struct sbuf *sb, unsigned levels)
{
    sbuf_reset(sb);
    CHECK(sbuf_addstr(sb, "<explain xmlns=\"http://www.postgresql.org/2009/explain\">\n"
                          "<Query-Text>select 1</Query-Text>\n<Plan>") == 0);
    for (unsigned d = 0; d < levels; d++) {
        if (d)
            CHECK(sbuf_addstr(sb, "<Plans><Plan>") == 0);
        CHECK(sbuf_addf(sb, "<Node-Type>%s</Node-Type>", d + 1 == levels ? "Seq Scan" : "Sort") ==
              0);
    }
    for (unsigned d = 0; d < levels; d++)
        CHECK(sbuf_addstr(sb, d + 1 == levels ? "</Plan>" : "</Plan></Plans>") == 0);
    CHECK(sbuf_addstr(sb, "</explain>") == 0);
}

static void test_depth_limit(void)
{
    struct arena a = ARENA_INIT;
    struct sbuf sb = SBUF_INIT;
    struct plan p;
    void (*gen[])(struct sbuf *, unsigned) = { deep_text, deep_json, deep_yaml, deep_xml };
    static const enum plan_format fmts[] = { PLAN_TEXT, PLAN_JSON, PLAN_YAML, PLAN_XML };

    for (size_t f = 0; f < ARRAY_SIZE(fmts); f++) {
        for (unsigned levels = SIFT_MAX_PLAN_DEPTH - 1; levels <= SIFT_MAX_PLAN_DEPTH + 1;
             levels++) {
            gen[f](&sb, levels);
            CHECK_MSG(plan_parse(&p, fmts[f], sbuf_span(&sb), &a) == 0, "%s %u levels: %s",
                      plan_format_name(fmts[f]), levels, p.error ? p.error : "");
            unsigned want = levels > SIFT_MAX_PLAN_DEPTH ? SIFT_MAX_PLAN_DEPTH : levels;
            CHECK_MSG(p.n_nodes == want, "%s %u levels: %u nodes", plan_format_name(fmts[f]),
                      levels, p.n_nodes);
            CHECK_MSG(p.truncated == (levels > SIFT_MAX_PLAN_DEPTH), "%s %u levels",
                      plan_format_name(fmts[f]), levels);
            uint32_t maxd = 0;
            for (uint32_t i = 0; i < p.n_nodes; i++)
                maxd = p.nodes[i].depth > maxd ? p.nodes[i].depth : maxd;
            CHECK(maxd < SIFT_MAX_PLAN_DEPTH);
            arena_reset(&a);
        }
    }
    sbuf_release(&sb);
    arena_release(&a);
}

/* A flat Append with @n members: 1 + n nodes. */
static void wide_text(struct sbuf *sb, unsigned members)
{
    sbuf_reset(sb);
    CHECK(sbuf_addstr(sb, "Append  (cost=0.00..1.00 rows=1 width=4)\n") == 0);
    for (unsigned i = 0; i < members; i++)
        CHECK(sbuf_addf(sb, "  ->  Seq Scan on t%u  (cost=0.00..1.00 rows=1 width=4)\n", i) == 0);
}

static void wide_json(struct sbuf *sb, unsigned members)
{
    sbuf_reset(sb);
    CHECK(sbuf_addstr(sb, "{\"Plan\": {\"Node Type\": \"Append\", \"Plans\": [") == 0);
    for (unsigned i = 0; i < members; i++)
        CHECK(sbuf_addf(sb, "%s{\"Node Type\": \"Seq Scan\", \"Relation Name\": \"t%u\"}",
                        i ? "," : "", i) == 0);
    CHECK(sbuf_addstr(sb, "]}}") == 0);
}

static void test_node_limit(void)
{
    struct arena a = ARENA_INIT;
    struct sbuf sb = SBUF_INIT;
    struct plan p;

    for (unsigned total = SIFT_MAX_PLAN_NODES - 1; total <= SIFT_MAX_PLAN_NODES + 1; total++) {
        for (int f = 0; f < 2; f++) {
            (f ? wide_json : wide_text)(&sb, total - 1);
            CHECK(plan_parse(&p, f ? PLAN_JSON : PLAN_TEXT, sbuf_span(&sb), &a) == 0);
            unsigned want = total > SIFT_MAX_PLAN_NODES ? SIFT_MAX_PLAN_NODES : total;
            CHECK_MSG(p.n_nodes == want, "%u nodes: got %u", total, p.n_nodes);
            CHECK(p.truncated == (total > SIFT_MAX_PLAN_NODES));
            struct plan_analysis pa;
            plan_analyze(sbuf_span(&sb), f ? PLAN_JSON : PLAN_TEXT, -1, &a, &pa);
            CHECK(pa.parsed && pa.truncated == (total > SIFT_MAX_PLAN_NODES));
            arena_reset(&a);
        }
    }
    sbuf_release(&sb);
    arena_release(&a);
}

/* A truncated plan never shares a fingerprint with the kept part alone. */
static void test_truncated_fingerprint(void)
{
    struct arena a = ARENA_INIT;
    struct sbuf sb = SBUF_INIT;
    struct plan_analysis x, y;

    deep_text(&sb, SIFT_MAX_PLAN_DEPTH);
    plan_analyze(sbuf_span(&sb), PLAN_TEXT, -1, &a, &x);
    deep_text(&sb, SIFT_MAX_PLAN_DEPTH + 1);
    plan_analyze(sbuf_span(&sb), PLAN_TEXT, -1, &a, &y);
    CHECK(!x.truncated && y.truncated);
    CHECK(x.fingerprint != y.fingerprint);
    sbuf_release(&sb);
    arena_release(&a);
}

/* The query is what follows the FIRST "Query Text: " up to "Query Parameters: " or the
 * root node; a later "Query Text: " line once moved the start past the end (fuzz). */
static void test_text_query_span(void)
{
    struct arena a = ARENA_INIT;
    struct plan p;
    static const char two[] = "Query Text: select 1\nQuery Parameters: $1 = '2'\n"
                              "Query Text: select 3\n"
                              "Result  (cost=0.00..0.01 rows=1 width=4)\n";
    CHECK(plan_parse(&p, PLAN_TEXT, span_make(two, sizeof(two) - 1), &a) == 0);
    CHECK_EQ_SPAN(p.query, "select 1");
    CHECK_EQ_INT(p.n_nodes, 1);

    static const char multi[] = "Query Text: select 'a\nQuery Text: b'\n"
                                "Result  (cost=0.00..0.01 rows=1 width=4)\n";
    CHECK(plan_parse(&p, PLAN_TEXT, span_make(multi, sizeof(multi) - 1), &a) == 0);
    CHECK_EQ_SPAN(p.query, "select 'a\nQuery Text: b'");

    static const char fuzz[] = "Query Text: \nQuery Parameters: \nQuery Text: ";
    CHECK(plan_parse(&p, PLAN_TEXT, span_make(fuzz, sizeof(fuzz) - 1), &a) == -1);
    CHECK(p.error != NULL);
    arena_release(&a);
}

/* A NUL byte is never JSON (jansson 2.14 accepts one right after a number, see
 * tests/fuzz/fuzz_plan_json.c): the parse stops there with an error, keeping the node
 * read before it, as after any other malformed JSON. */
static void test_json_nul_byte(void)
{
    struct arena a = ARENA_INIT;
    struct plan p;
    static const char body[] = "{\"Plan\":{\"Node Type\":\"Result\",\"\":0\0}}";
    CHECK(plan_parse(&p, PLAN_JSON, span_make(body, sizeof(body) - 1), &a) == 0);
    CHECK(p.error != NULL);
    CHECK_EQ_INT(p.n_nodes, 1);
    static const char first[] = "\0{\"Plan\":{\"Node Type\":\"Result\"}}";
    CHECK(plan_parse(&p, PLAN_JSON, span_make(first, sizeof(first) - 1), &a) == -1);
    CHECK(p.error != NULL);
    arena_release(&a);
}

/* ------------------------------------------------------- the two YAML readers */

/* Read @body with the fast reader and, when it takes it, with libyaml: the same events.
 * Returns whether the fast reader took it. */
static bool yaml_agree(const char *body, size_t len, struct arena *a)
{
    struct sbuf f = SBUF_INIT, l = SBUF_INIT;
    const char *err;
    uint32_t line;
    struct span b = span_make(body, len);

    int rc = plan_yaml_dump(b, PLAN_YAML_FAST, a, &f, &err, &line);
    CHECK(rc == 0 || rc == 1 || (rc == -1 && err));
    if (rc == 0) {
        int lrc = plan_yaml_dump(b, PLAN_YAML_LIBYAML, a, &l, &err, &line);
        CHECK_MSG(lrc == 0, "libyaml refuses what the fast reader took (%s, line %u): %.*s",
                  err ? err : "", line, (int)len, body);
        CHECK_MSG(f.len == l.len && !memcmp(f.buf, l.buf, f.len),
                  "events differ on:\n%.*s\nfast:    %.*s\nlibyaml: %.*s", (int)len, body,
                  (int)f.len, f.buf, (int)l.len, l.buf);
    }
    sbuf_release(&f);
    sbuf_release(&l);
    return rc == 0;
}

/* plan_yaml.c reads EXPLAIN's own YAML directly and leaves the rest to libyaml: on the
 * server's YAML plans, on hand-made corner cases and on mutations of both, whatever the
 * fast reader takes gives libyaml's events exactly; the server's plans and EXPLAIN's
 * other shapes are taken (else the fast path is silently lost); what EXPLAIN never
 * writes is declined. */
static void test_yaml_readers_agree(void)
{
    struct fx fx;
    struct arena a = ARENA_INIT;
    size_t server = 0, taken = 0, tried = 0;

    load(PI ".csv", &fx);
    for (size_t i = 0; i < fx.n; i++) {
        if (fx.v[i].fmt != PLAN_YAML)
            continue;
        server++;
        CHECK_MSG(yaml_agree(fx.v[i].body, fx.v[i].len, &a), "not taken:\n%s", fx.v[i].body);
        arena_reset(&a);
    }
    CHECK(server >= 5);

    /* EXPLAIN's shapes the fixtures lack (explain_format.c), hand-made */
    static const char *const take[] = {
        "Query Text: \"select 1\"\nPlan: \n  Node Type: \"Result\"\n  Plan Rows: 1",
        "Plan: \n  Node Type: \"Sort\"\n  Sort Key: \n    - \"a\"\n    - \"(b || \\\"c\\\")\"\n"
        "  Plans: \n    - Node Type: \"Seq Scan\"\n      Filter: \"(x = -1)\"\n",
        "Plan: \n  Node Type: \"MixedAggregate\"\n  Group Key: \n  Grouping Sets: \n"
        "    - Group Keys: \n        - [\"a\", \"b\"]\n        - [\"c\"]\n        - []\n",
        "Query Text: \"a\\nb\\t\\\\ \\u0001\\\"\"\nPlan: \n  Node Type: \"Result\"\n"
        "  Startup Cost: -0.00\n  Total Cost: 1e+06\n  Parallel Aware: false\n",
        "Plan:\n  Node Type: \"Result\"\n\n  Workers: \n    - Worker Number: 0\n"
        "      Actual Rows: 5\n    - Worker Number: 1\nTriggers: \nJIT: \n  Functions: 3\n"
        "  Options: \n    Inlining: false\n  Timing: \n    Generation: \n      Total: 0.1",
        "Settings: \n  work_mem: \"64MB\"\n  plpgsql.extra_warnings: \"all\"\nPlan: \n"
        "  Node Type: \"Result\"\n  Output: \n    - \"1\"\n    - \"'#x'::text\"",
        "- Plan: \n    Node Type: \"Result\"\n- \"dummy\"",
    };
    for (size_t i = 0; i < ARRAY_SIZE(take); i++) {
        CHECK_MSG(yaml_agree(take[i], strlen(take[i]), &a), "not taken:\n%s", take[i]);
        arena_reset(&a);
    }
    /* not EXPLAIN's: left to libyaml */
    static const char *const decline[] = {
        "Plan: \n  Node Type: 'Result'",            /* single quotes */
        "Plan: \n  Node Type: \"R\" # c",           /* a comment */
        "Plan: \n  \tNode Type: \"R\"",             /* a tab (a line's first is dropped) */
        "Plan: \r\n  Node Type: \"R\"",             /* CR */
        "Plan: \n  Node Type: \"R\xc3\xa9\"",       /* UTF-8 */
        "Plan: \n  Node Type: {a: 1}",              /* flow mapping */
        "Plan: \n  Sort Key: [\"a\"]",              /* flow list as a value */
        "Plans: \n- Node Type: \"R\"",              /* a list at its key's indent */
        "Plan: \n  Node Type: \"a\\/b\"",           /* an escape escape_json() never writes */
        "Plan: \n  Node Type: \"\\u00e9\"",         /* \u beyond ASCII */
        "Plan: \n  Node Type: \"Result\n  x\"",     /* a quote across lines */
        "Plan: \n  Node Type: Seq Scan",            /* a plain value with a space */
        "Plan: \n  Node Type: \"R\"\n    More: 1",  /* deeper with no key above */
        "Plan: \n  Node Type: \"R\"\n ",            /* spaces only */
        "Plan: \n  Node Type: \"R\"\n---\nPlan: 1", /* a second document */
        "Plan: \n  Node Type : \"R\"",              /* a space before ':' */
        "",
    };
    for (size_t i = 0; i < ARRAY_SIZE(decline); i++) {
        struct sbuf sb = SBUF_INIT;
        const char *err;
        uint32_t line;
        CHECK_MSG(plan_yaml_dump(span_make(decline[i], strlen(decline[i])), PLAN_YAML_FAST, &a, &sb,
                                 &err, &line) == 1,
                  "taken: %s", decline[i]);
        sbuf_release(&sb);
        arena_reset(&a);
    }
    char long_key[1100 + 64];
    memset(long_key, 'k', 1100);
    memcpy(long_key + 1100, ": 1\nPlan: 2", 12);
    CHECK(!yaml_agree(long_key, strlen(long_key), &a));

    /* mutations: whatever is taken agrees */
    static const char bytes[] = " \n-:\"\\[],#a1.'\t{";
    for (size_t i = 0; i < fx.n + ARRAY_SIZE(take); i++) {
        const char *src = i < fx.n ? fx.v[i].body : take[i - fx.n];
        if (i < fx.n && fx.v[i].fmt != PLAN_YAML)
            continue;
        size_t n = strlen(src);
        char *m = xmalloc(n + 8);
        for (int round = 0; round < 150; round++) {
            size_t len = n;
            memcpy(m, src, n);
            for (uint32_t k = 0, edits = 1 + rnd(3); k < edits && len; k++) {
                size_t at = rnd((uint32_t)len);
                switch (rnd(3)) {
                case 0: memmove(m + at, m + at + 1, len - at - 1), len--; break;
                case 1:
                    memmove(m + at + 1, m + at, len - at), len++;
                    m[at] = bytes[rnd(sizeof(bytes) - 1)];
                    break;
                default: m[at] = bytes[rnd(sizeof(bytes) - 1)]; break;
                }
                if (len > n + 4)
                    break;
            }
            tried++;
            taken += yaml_agree(m, len, &a);
            arena_reset(&a);
        }
        free(m);
    }
    CHECK_MSG(taken * 10 >= tried, "%zu of %zu mutations taken", taken, tried);
    arena_release(&a);
    fx_free(&fx);
}

TEST_LIST = {
    { "formats_agree", test_formats_agree },
    { "main_runs_agree", test_main_runs_agree },
    { "destinations_agree", test_destinations_agree },
    { "insights_fire_and_controls_do_not", test_insights_fire_and_controls_do_not },
    { "insight_numbers", test_insight_numbers },
    { "plan_change_shapes", test_plan_change_shapes },
    { "index_advice", test_index_advice },
    { "redaction_keeps_tree", test_redaction_keeps_tree },
    { "redaction_parameters", test_redaction_parameters },
    { "redaction_output_settings", test_redaction_output_settings },
    { "redaction_multiline_literal", test_redaction_multiline_literal },
    { "depth_limit", test_depth_limit },
    { "node_limit", test_node_limit },
    { "truncated_fingerprint", test_truncated_fingerprint },
    { "text_query_span", test_text_query_span },
    { "json_nul_byte", test_json_nul_byte },
    { "yaml_readers_agree", test_yaml_readers_agree },
    { NULL, NULL },
};
