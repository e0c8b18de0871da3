/* SPDX-License-Identifier: MIT */
/*
 * bench_plan_json: why auto_explain JSON plans have a scanner of their own (docs/plans.md,
 * "Why JSON plans have their own scanner"). Every JSON plan of the real-server fixtures
 * (tests/fixtures/pg15/<run>/postgresql.csv, read through the pipeline) is parsed in a
 * loop by plan_parse_json() - which builds the whole plan tree - and by jansson's
 * json_loadb() alone, which only builds jansson's object graph; prints microseconds per
 * plan for each and the ratio. Run by scripts/bench/plans.sh on a Release build.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "classify/plan.h"
#include "core/arena.h"
#include "core/sbuf.h"
#include "core/xalloc.h"
#include "pipeline.h"

struct bodies {
    struct sbuf text; /* bodies, each followed by '\0' */
    size_t *at, *len, n, a;
};

static int keep(void *ctx, struct event *ev, struct diag *d)
{
    struct bodies *b = ctx;
    (void)d;
    if (ev->plan_format != PLAN_JSON || !ev->plan.p)
        return 0;
    XGROW(b->at, b->n + 1, b->a);
    b->len = xrealloc(b->len, b->a * sizeof(*b->len));
    b->at[b->n] = b->text.len;
    b->len[b->n] = ev->plan.len;
    b->n++;
    if (sbuf_addspan(&b->text, ev->plan) < 0 || sbuf_addch(&b->text, '\0') < 0)
        return -1;
    return 0;
}

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    const char *root = argc > 1 ? argv[1] : ".";
    static const char *const runs[] = { "json-plans", "plan-insights", "text-plans",
                                        "statement-log", "verbose-errors" };
    struct bodies b = { 0 };
    sbuf_init(&b.text, 0);
    for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/tests/fixtures/pg15/%s/postgresql.csv", root, runs[i]);
        struct pipeline_opts o = { .format = "csvlog", .sink = keep, .sink_ctx = &b };
        struct pipeline_result res;
        struct diag d = DIAG_INIT;
        if (pipeline_run(&o, path, &res, &d) < 0) {
            fprintf(stderr, "bench_plan_json: %s\n", d.msg);
            return 1;
        }
        pipeline_result_release(&res);
    }
    if (!b.n) {
        fprintf(stderr, "bench_plan_json: no JSON plan in the fixtures under '%s'\n", root);
        return 1;
    }
    size_t bytes = 0;
    for (size_t i = 0; i < b.n; i++)
        bytes += b.len[i];
    struct arena a = ARENA_INIT;
    size_t ok_ours = 0, ok_jansson = 0, rounds = 0;
    double t0 = cpu_now(), t1;
    do {
        for (size_t i = 0; i < b.n; i++) {
            struct plan p;
            memset(&p, 0, sizeof(p));
            ok_ours += plan_parse_json(&p, span_make(b.text.buf + b.at[i], b.len[i]), &a) == 0;
            arena_reset(&a);
        }
        rounds++;
    } while ((t1 = cpu_now()) - t0 < 1.0);
    double ours = (t1 - t0) / (double)(rounds * b.n) * 1e6;
    size_t rounds2 = 0;
    t0 = cpu_now();
    do {
        for (size_t i = 0; i < b.n; i++) {
            json_error_t e;
            json_t *j = json_loadb(b.text.buf + b.at[i], b.len[i], 0, &e);
            ok_jansson += j != NULL;
            json_decref(j);
        }
        rounds2++;
    } while ((t1 = cpu_now()) - t0 < 1.0);
    double jansson = (t1 - t0) / (double)(rounds2 * b.n) * 1e6;
    printf("%zu JSON plans of the fixtures, %zu bytes on average\n", b.n, bytes / b.n);
    printf("plan_parse_json (the whole plan tree)  %8.2f us/plan  (%zu parsed)\n", ours, ok_ours);
    printf("jansson json_loadb (its objects only)   %8.2f us/plan  (%zu parsed)\n", jansson,
           ok_jansson);
    printf("ratio: jansson alone takes %.1fx the time of the whole plan parse\n", jansson / ours);
    arena_release(&a);
    sbuf_release(&b.text);
    free(b.at);
    free(b.len);
    return ok_ours == rounds * b.n && ok_jansson == rounds2 * b.n ? 0 : 1;
}
