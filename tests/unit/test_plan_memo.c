/* SPDX-License-Identifier: MIT */
/*
 * test_plan_memo - plan_analyze_memo() (ingest: each distinct plan body parsed once)
 * gives what plan_analyze() gives, field by field and insight by insight, for every plan
 * of every fixture (csv, jsonlog, stderr), for a body met again with another duration
 * (insights depend on it), and across the memo's emptying when it is full; and that a
 * body with the run's actual times is not kept (no real log repeats it) while one
 * without them is. A memo set to kinds only (ingest's) gives the same insight kinds in
 * the same order, with no texts.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "classify/classify.h"
#include "core/arena.h"
#include "core/sbuf.h"
#include "core/xalloc.h"
#include "pipeline.h"
#include "planfx.h"

static bool same_span(struct span a, struct span b)
{
    return (!a.p) == (!b.p) && a.len == b.len && (!a.len || !memcmp(a.p, b.p, a.len));
}

static bool same_double(double a, double b)
{
    return a == b || (a != a && b != b);
}

/* The memo under test gives the insights' kinds only (plan_memo_kinds_only()). */
static bool kinds_only;

/* Every field the memo promises, compared with plan_analyze()'s. */
static int compare(const char *what, size_t i, const struct plan_analysis *w,
                   const struct plan_analysis *g)
{
    int bad = 0;
#define FIELD(cond)                                                      \
    do {                                                                 \
        if (!(cond)) {                                                   \
            CHECK_MSG(false, "%s plan %zu: %s differs", what, i, #cond); \
            bad = 1;                                                     \
        }                                                                \
    } while (0)
    FIELD(w->format == g->format);
    FIELD(w->parsed == g->parsed);
    FIELD((!w->reason && !g->reason) || (w->reason && g->reason && !strcmp(w->reason, g->reason)));
    FIELD(w->truncated == g->truncated && w->analyzed == g->analyzed && w->timing == g->timing &&
          w->buffers == g->buffers);
    FIELD(w->fingerprint == g->fingerprint);
    FIELD(same_span(w->shape, g->shape));
    FIELD(same_span(w->query, g->query));
    FIELD(w->nodes == g->nodes && w->unknown_lines == g->unknown_lines);
    FIELD(same_double(w->total_ms, g->total_ms));
    FIELD(w->n_insights == g->n_insights);
    for (size_t k = 0; k < w->n_insights && k < g->n_insights; k++) {
        const struct plan_insight *a = &w->insights[k], *b = &g->insights[k];
        FIELD(a->kind == b->kind);
        if (kinds_only) {
            FIELD(!b->node.p && !b->explanation.p && !b->evidence.p && b->impact_ms == -1 &&
                  b->work_mem_kb == -1);
            continue;
        }
        FIELD(same_span(a->node, b->node));
        FIELD(same_span(a->explanation, b->explanation));
        FIELD(same_span(a->evidence, b->evidence));
        FIELD(same_double(a->impact_ms, b->impact_ms) &&
              same_double(a->work_mem_kb, b->work_mem_kb));
    }
    FIELD(g->n_suggestions == 0 && g->n_indexes == 0);
#undef FIELD
    return bad;
}

static void check_all(const struct fx *fx, struct plan_memo *m, const char *what)
{
    struct arena a = ARENA_INIT, b = ARENA_INIT;
    struct plan_analysis want, got;
    /* each plan three times: its duration, none, and ten times it, so that a body met
     * again with another duration is a memo hit with different insights */
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < fx->n; i++) {
            const struct fx_plan *p = &fx->v[i];
            double ms = round == 0 ? p->duration_ms : round == 1 ? -1 : p->duration_ms * 10;
            struct span body = span_make(p->body, p->len);
            plan_analyze(body, p->fmt, ms, &a, &want);
            plan_analyze_memo(m, body, p->fmt, ms, &b, &got);
            if (compare(what, i, &want, &got))
                break;
            arena_reset(&a);
            arena_reset(&b);
        }
    }
    arena_release(&a);
    arena_release(&b);
}

static void test_fixtures_agree(void)
{
    static const char *const dirs[] = { "plan-insights", "json-plans", "text-plans",
                                        "statement-log", "verbose-errors" };
    static const char *const exts[] = { "csv", "json", "log" };
    struct plan_memo *m = plan_memo_new(), *k = plan_memo_new(), *kr = plan_memo_new();
    size_t total = 0, insights = 0;
    plan_memo_kinds_only(k);
    plan_memo_kinds_only(kr);

    for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
        for (size_t e = 0; e < sizeof(exts) / sizeof(exts[0]); e++) {
            char path[256];
            struct fx fx = { 0 };
            snprintf(path, sizeof(path), "fixtures/pg15/%s/postgresql.%s", dirs[d], exts[e]);
            load(path, &fx);
            plan_memo_keep_per_run = true; /* every fixture plan has actual times */
            check_all(&fx, m, path);
            kinds_only = true;
            check_all(&fx, k, path);
            plan_memo_keep_per_run = false; /* ingest's: plans with actual times not kept */
            check_all(&fx, kr, path);
            kinds_only = false;
            total += fx.n;
            struct arena a = ARENA_INIT;
            for (size_t i = 0; i < fx.n; i++) {
                struct plan_analysis pa;
                plan_analyze(span_make(fx.v[i].body, fx.v[i].len), fx.v[i].fmt, fx.v[i].duration_ms,
                             &a, &pa);
                insights += pa.n_insights;
                arena_reset(&a);
            }
            arena_release(&a);
            fx_free(&fx);
        }
    }
    CHECK_MSG(plan_memo_count(m) > 0 && plan_memo_count(k) > 0, "the memo kept nothing");
    CHECK_EQ_INT(plan_memo_count(kr), 0);
    plan_memo_free(m);
    plan_memo_free(k);
    plan_memo_free(kr);
    CHECK_MSG(total > 300, "only %zu fixture plans", total);
    CHECK_MSG(insights > 50, "only %zu insights", insights);
}

/* More distinct bodies than the memo keeps: it empties itself and stays right. */
static void test_memo_overflow(void)
{
    struct fx fx = { 0 };
    struct plan_memo *m = plan_memo_new();

    plan_memo_keep_per_run = true; /* the bodies below have actual times */
    for (int i = 0; i < 9000; i++) {
        char buf[512];
        int n = snprintf(buf, sizeof(buf),
                         "Query Text: select * from t%d where a = %d\n"
                         "Seq Scan on t%d  (cost=0.00..%d.00 rows=%d width=4) (actual "
                         "time=0.010..%d.500 rows=%d loops=1)\n  Filter: (a = %d)\n"
                         "  Rows Removed by Filter: %d\n",
                         i % 50, i, i % 50, i + 10, i % 7 + 1, i % 90 + 1, i % 3, i, i * 100);
        XGROW(fx.v, fx.n + 1, fx.alloc);
        fx.v[fx.n++] = (struct fx_plan){ xmemdupz(buf, (size_t)n), (size_t)n, PLAN_TEXT,
                                         (double)(i % 100), NULL };
    }
    check_all(&fx, m, "synthetic");
    fx_free(&fx);
    plan_memo_free(m);
    plan_memo_keep_per_run = false;
}

/* What is kept: a body without the run's times (log_analyze off, or log_timing off) is
 * kept and met again; one with them (text, JSON, YAML, XML) is analysed every time and
 * never kept, also when it repeats, as it does only in a log concatenated with itself. */
static void test_per_run_not_kept(void)
{
    static const struct {
        enum plan_format fmt;
        const char *body;
        bool kept;
    } cases[] = {
        { PLAN_TEXT,
          "Query Text: select * from t where a = $1\n"
          "Seq Scan on t  (cost=0.00..35.50 rows=10 width=4)\n  Filter: (a = $1)\n",
          true },
        { PLAN_TEXT,
          "Query Text: select * from t where a = $1\n"
          "Seq Scan on t  (cost=0.00..35.50 rows=10 width=4) (actual rows=3 loops=1)\n"
          "  Filter: (a = $1)\n  Rows Removed by Filter: 97\n",
          true },
        { PLAN_TEXT,
          "Query Text: select * from t where a = $1\n"
          "Seq Scan on t  (cost=0.00..35.50 rows=10 width=4) (actual time=0.010..0.500 "
          "rows=3 loops=1)\n  Filter: (a = $1)\n  Rows Removed by Filter: 97\n",
          false },
        { PLAN_JSON,
          "{\"Query Text\": \"select 1\", \"Plan\": {\"Node Type\": \"Result\", "
          "\"Startup Cost\": 0.00, \"Total Cost\": 0.01, \"Plan Rows\": 1, \"Plan Width\": 4, "
          "\"Actual Startup Time\": 0.001, \"Actual Total Time\": 0.002, \"Actual Rows\": 1, "
          "\"Actual Loops\": 1}}",
          false },
        { PLAN_YAML,
          "Query Text: \"select 1\"\nPlan: \n  Node Type: \"Result\"\n  Startup Cost: 0.00\n"
          "  Total Cost: 0.01\n  Plan Rows: 1\n  Plan Width: 4\n  Actual Startup Time: 0.001\n"
          "  Actual Total Time: 0.002\n  Actual Rows: 1\n  Actual Loops: 1\n",
          false },
        { PLAN_XML,
          "<explain xmlns=\"http://www.postgresql.org/2009/explain\">\n  <Query>\n    <Plan>\n"
          "      <Node-Type>Result</Node-Type>\n      "
          "<Actual-Total-Time>0.002</Actual-Total-Time>\n"
          "    </Plan>\n  </Query>\n</explain>",
          false },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct plan_memo *m = plan_memo_new();
        struct arena a = ARENA_INIT, b = ARENA_INIT;
        struct span body = span_make(cases[i].body, strlen(cases[i].body));
        for (int round = 0; round < 2; round++) {
            struct plan_analysis want, got;
            plan_analyze(body, cases[i].fmt, 5.0, &a, &want);
            plan_analyze_memo(m, body, cases[i].fmt, 5.0, &b, &got);
            compare("per-run", i, &want, &got);
            arena_reset(&a);
            arena_reset(&b);
        }
        CHECK_MSG(plan_memo_count(m) == (cases[i].kept ? 1u : 0u), "case %zu: %zu kept", i,
                  plan_memo_count(m));
        arena_release(&a);
        arena_release(&b);
        plan_memo_free(m);
    }
}

TEST_LIST = {
    { "fixtures_agree", test_fixtures_agree },
    { "memo_overflow", test_memo_overflow },
    { "per_run_not_kept", test_per_run_not_kept },
    { NULL, NULL },
};
