/* SPDX-License-Identifier: MIT */
/*
 * planfx.h - the auto_explain plans of a fixture log, loaded through the real pipeline
 * (parse + classify), for the plan tests: each plan's body, format, duration and query
 * as classify_event() extracted them. Header-only, one test program per include.
 */
#ifndef SIFT_TESTS_PLANFX_H
#define SIFT_TESTS_PLANFX_H

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "classify/classify.h"
#include "core/xalloc.h"
#include "pipeline.h"

struct fx_plan {
    char *body;
    size_t len;
    enum plan_format fmt;
    double duration_ms;
    char *query; /* as classify_event() extracted it */
};

struct fx {
    struct fx_plan *v;
    size_t n, alloc;
};

static int planfx_sink(void *ctx, struct event *ev, struct diag *d)
{
    struct fx *fx = ctx;

    (void)d;
    if (ev->kind != EV_PLAN)
        return 0;
    XGROW(fx->v, fx->n + 1, fx->alloc);
    struct fx_plan *p = &fx->v[fx->n++];
    p->body = xmemdupz(ev->plan.p, ev->plan.len);
    p->len = ev->plan.len;
    p->fmt = ev->plan_format;
    p->duration_ms = ev->duration_ms;
    p->query = ev->query.p ? xmemdupz(ev->query.p, ev->query.len) : xstrdup("");
    return 0;
}

static void load(const char *path, struct fx *fx)
{
    struct pipeline_opts o = { .format = "auto", .sink = planfx_sink, .sink_ctx = fx };
    struct pipeline_result res;
    struct diag d = DIAG_INIT;

    memset(fx, 0, sizeof(*fx));
    CHECK_MSG(pipeline_run(&o, path, &res, &d) == 0, "%s: %s", path, d.msg);
    pipeline_result_release(&res);
    CHECK_MSG(fx->n > 0, "%s: no plans", path);
}

static void fx_free(struct fx *fx)
{
    for (size_t i = 0; i < fx->n; i++) {
        free(fx->v[i].body);
        free(fx->v[i].query);
    }
    free(fx->v);
}

#endif
