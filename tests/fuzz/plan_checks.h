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
