/* SPDX-License-Identifier: MIT */
/*
 * plan_shape.c - the plan fingerprint: a hash of the plan's shape, so a query's plans
 * over time fall into a few classes ("Seq Scan" vs "Bitmap Heap Scan" on the same
 * table) while costs, row counts, timings, aliases and condition constants never split
 * a class.
 *
 * The canonical shape is the tree in pre-order, each node as
 *
 *   Type[/join type][/strategy][/partial mode][/operation][/command][/custom]
 *   [+parallel][+async][+backward][@InitPlan|@SubPlan|@CTE name][{relation}][[index]]
 *   [(children)]
 *
 * where only "InitPlan"/"SubPlan"/"CTE x" of the parent relationship are kept (Outer,
 * Inner, Member and Subquery follow from the order, which text plans do not print) and
 * relations are unqualified (only verbose plans print schemas). Text and JSON plans of
 * the same execution give the same string, hence the same fingerprint: XXH3-64 of it,
 * seeded with PLAN_FP_VERSION.
 */
#include <xxhash.h>

#include "classify/classify_int.h"
#include "classify/plan.h"

/* Bumped whenever the canonical shape changes, so old and new fingerprints never mix. */
#define PLAN_FP_VERSION 1

static int add_part(struct sbuf *out, char sep, struct span s)
{
    if (!s.p)
        return 0;
    if (sbuf_addch(out, sep) < 0)
        return -1;
    return sbuf_addspan(out, s);
}

static struct span subplan_kind(const struct plan_node *n)
{
    struct span name = n->subplan_name;

    if (span_starts_with_lit(name, "CTE "))
        return name;
    if (span_starts_with_lit(name, "SubPlan") || span_eq_lit(n->parent_rel, "SubPlan"))
        return LIT("SubPlan");
    if (span_starts_with_lit(name, "InitPlan") || span_eq_lit(n->parent_rel, "InitPlan"))
        return LIT("InitPlan");
    return SPAN_NULL;
}

static int node_shape(const struct plan_node *n, struct sbuf *out)
{
    int rc = 0;

    rc |= sbuf_addspan(out, n->type.p ? n->type : LIT("?"));
    rc |= add_part(out, '/', n->join_type);
    rc |= add_part(out, '/', n->strategy);
    rc |= add_part(out, '/', n->partial_mode);
    rc |= add_part(out, '/', n->operation);
    rc |= add_part(out, '/', n->command);
    rc |= add_part(out, '/', n->custom);
    if (n->parallel_aware)
        rc |= sbuf_addstr(out, "+parallel");
    if (n->async_capable)
        rc |= sbuf_addstr(out, "+async");
    if (n->backward)
        rc |= sbuf_addstr(out, "+backward");
    rc |= add_part(out, '@', subplan_kind(n));
    if (n->relation.p) {
        rc |= sbuf_addch(out, '{');
        rc |= sbuf_addspan(out, n->relation);
        rc |= sbuf_addch(out, '}');
    }
    if (n->index.p) {
        rc |= sbuf_addch(out, '[');
        rc |= sbuf_addspan(out, n->index);
        rc |= sbuf_addch(out, ']');
    }
    return rc ? -1 : 0;
}

/* Pre-order walk without recursion (depth is bounded, but a loop costs nothing). */
uint64_t plan_shape(const struct plan *p, struct sbuf *out)
{
    int rc = 0;
    uint32_t i = p->n_nodes ? 0 : PLAN_NONE_IDX;

    sbuf_reset(out);
    while (i != PLAN_NONE_IDX) {
        const struct plan_node *n = &p->nodes[i];
        rc |= node_shape(n, out);
        if (n->first_child != PLAN_NONE_IDX) {
            rc |= sbuf_addch(out, '(');
            i = n->first_child;
            continue;
        }
        /* climb until a node has a next sibling, closing parentheses */
        while (i != PLAN_NONE_IDX && p->nodes[i].next_sibling == PLAN_NONE_IDX) {
            i = p->nodes[i].parent;
            if (i != PLAN_NONE_IDX)
                rc |= sbuf_addch(out, ')');
        }
        if (i != PLAN_NONE_IDX) {
            rc |= sbuf_addch(out, ',');
            i = p->nodes[i].next_sibling;
        }
    }
    if (p->truncated)
        rc |= sbuf_addstr(out, "...truncated");
    (void)rc; /* a capped buffer hashes what it holds; the cap is far above real plans */
    return XXH3_64bits_withSeed(out->buf, out->len, PLAN_FP_VERSION);
}
