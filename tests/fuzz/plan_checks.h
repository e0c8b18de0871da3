/* SPDX-License-Identifier: MIT */
/*
 * plan_checks - what every auto_explain plan fuzz target (text, JSON, YAML/XML) checks
 * of a parsed tree and an analysis: the core/limits.h bounds, a consistent tree (the
 * root has no parent, every other node's parent comes before it and its depth is one
 * more), and every span readable (inside the body or the arena: ASan catches a stray
 * one). Included by the fuzz_plan_*.c targets only.
 */
#ifndef SIFT_FUZZ_PLAN_CHECKS_H
#define SIFT_FUZZ_PLAN_CHECKS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify/classify.h"
#include "classify/plan.h"
#include "core/limits.h"

static void touch(struct span s)
{
    volatile unsigned char sink = 0;
    for (size_t i = 0; i < s.len; i++)
        sink ^= (unsigned char)s.p[i];
    (void)sink;
}

static void check_tree(const struct plan *p)
{
    if (p->n_nodes > SIFT_MAX_PLAN_NODES)
        abort();
    for (uint32_t i = 0; i < p->n_nodes; i++) {
        const struct plan_node *n = &p->nodes[i];
        if (n->depth >= SIFT_MAX_PLAN_DEPTH)
            abort();
        if (i == 0 ? n->parent != PLAN_NONE_IDX
                   : (n->parent >= i || p->nodes[n->parent].depth + 1 != n->depth))
            abort();
        touch(n->type);
        touch(n->relation);
        touch(n->alias);
        touch(n->index);
        touch(n->filter);
        touch(n->sort_method);
    }
    for (uint32_t i = 0; i < p->n_triggers; i++) {
        touch(p->triggers[i].name);
        touch(p->triggers[i].constraint);
    }
    touch(p->query);
}

static void check_analysis(const struct plan_analysis *pa)
{
    touch(pa->shape);
    for (size_t i = 0; i < pa->n_insights; i++) {
        if ((unsigned)pa->insights[i].kind >= PLAN_INSIGHT_COUNT)
            abort();
        touch(pa->insights[i].node);
        touch(pa->insights[i].explanation);
        touch(pa->insights[i].evidence);
    }
    for (size_t i = 0; i < pa->n_suggestions; i++) {
        touch(pa->suggestions[i].ddl);
        touch(pa->suggestions[i].evidence);
    }
}

static bool same_span(struct span x, struct span y)
{
    return x.len == y.len && (!x.len || !memcmp(x.p, y.p, x.len));
}

/* plan_analyze_memo() (ingest) gives plan_analyze()'s answer, for a body it has not met
 * and again for one it has (the memo lives across inputs, so it also fills and empties);
 * a memo set to kinds only (ingest's) gives the same insight kinds. */
static void check_memo(struct span body, enum plan_format fmt, double ms, struct arena *a)
{
    static struct plan_memo *m, *km;
    struct plan_analysis want, got;

    if (!m) {
        m = plan_memo_new();
        km = plan_memo_new();
        plan_memo_kinds_only(km);
    }
    plan_analyze(body, fmt, ms, a, &want);
    plan_analyze_memo(km, body, fmt, ms, a, &got);
    if (got.fingerprint != want.fingerprint || got.n_insights != want.n_insights)
        abort();
    for (size_t i = 0; i < got.n_insights; i++)
        if (got.insights[i].kind != want.insights[i].kind || got.insights[i].explanation.p)
            abort();
    plan_analyze(body, fmt, ms, a, &want);
    for (int k = 0; k < 2; k++) {
        plan_analyze_memo(m, body, fmt, k ? ms * 3 : ms, a, &got);
        if (k)
            plan_analyze(body, fmt, ms * 3, a, &want);
        if (got.parsed != want.parsed || got.fingerprint != want.fingerprint ||
            got.nodes != want.nodes || !same_span(got.shape, want.shape) ||
            (!got.reason != !want.reason) || (got.reason && strcmp(got.reason, want.reason)) ||
            got.n_insights != want.n_insights)
            abort();
        for (size_t i = 0; i < got.n_insights; i++)
            if (got.insights[i].kind != want.insights[i].kind ||
                !same_span(got.insights[i].explanation, want.insights[i].explanation) ||
                !same_span(got.insights[i].evidence, want.insights[i].evidence))
                abort();
    }
}

/* An exact-size heap copy of the fuzz input (so any read past the end is caught). */
static char *fuzz_copy(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    if (!buf)
        abort();
    if (size)
        memcpy(buf, data, size);
    return buf;
}

#endif
