/* SPDX-License-Identifier: MIT */
/*
 * plan_events.c - build the plan tree from map/sequence/scalar events (YAML and XML
 * plans; see plan.h). The frame kinds mirror plan_json.c's functions.
 */
#include <string.h>

#include "classify/classify_int.h"
#include "classify/plan.h"

enum frame_kind {
    F_TOP = 1, /* the plan object: Query Text, Plan, Triggers, JIT, Settings */
    F_NODE,    /* a plan node */
    F_PLANS,   /* a node's "Plans" list */
    F_WORKERS, /* a node's "Workers" list */
    F_WORKER,  /* one worker entry */
    F_TRIGGERS,
    F_TRIGGER,
    F_JIT,
    F_TIMING,
    F_GEN,     /* JIT Timing "Generation" as an object (PG 17+) */
    F_KEYLIST, /* "Sort Key" / "Group Key" items */
    F_SKIP,    /* a value nobody needs, with its nesting */
};

static bool is_map(unsigned char k)
{
    return k == F_TOP || k == F_NODE || k == F_WORKER || k == F_TRIGGER || k == F_JIT ||
           k == F_TIMING || k == F_GEN;
}

void plan_events_init(struct plan_events *e, struct plan *p, struct arena *a)
{
    e->p = p;
    e->a = a;
    e->depth = 0;
    sbuf_init(&e->list, 64 << 10);
}

void plan_events_release(struct plan_events *e)
{
    sbuf_release(&e->list);
}

static struct plan_ev_frame *top(struct plan_events *e)
{
    return e->depth ? &e->stack[e->depth - 1] : NULL;
}

static void push(struct plan_events *e, unsigned char kind, uint32_t node)
{
    /* The last frame is kept for a skip: a skip frame absorbs everything nested in its
     * value (open_container() counts instead of pushing), so the stack never overflows. */
    if (e->depth >= PLAN_EV_FRAMES - 1 && kind != F_SKIP) {
        e->p->truncated = true;
        kind = F_SKIP;
    }
    struct plan_ev_frame *f = &e->stack[e->depth++];
    memset(f, 0, sizeof(*f));
    f->kind = kind;
    f->node = node;
    f->key = SPAN_NULL;
    f->skip = kind == F_SKIP ? 1 : 0;
}

/* A new container inside the top frame: which frame does it open? */
static void open_container(struct plan_events *e, bool map)
{
    struct plan_ev_frame *t = top(e);

    if (!t) {
        push(e, map ? F_TOP : F_SKIP, 0);
        return;
    }
    if (t->kind == F_SKIP) {
        t->skip++;
        return;
    }
    struct span key = t->key;
    t->key = SPAN_NULL;
    struct plan *p = e->p;
    if (is_map(t->kind)) {
        if (!key.p) { /* a container as a key: not a plan */
            push(e, F_SKIP, 0);
            return;
        }
        if (t->kind == F_TOP && map && span_eq_lit(key, "Plan") && !p->n_nodes) {
            uint32_t idx = plan_add_node(p, e->a, PLAN_NONE_IDX);
            push(e, idx == PLAN_NONE_IDX ? F_SKIP : F_NODE, idx);
        } else if (t->kind == F_TOP && !map && span_eq_lit(key, "Triggers")) {
            push(e, F_TRIGGERS, 0);
        } else if (t->kind == F_TOP && map && span_eq_lit(key, "JIT")) {
            push(e, F_JIT, 0);
        } else if (t->kind == F_NODE && !map && span_eq_lit(key, "Plans")) {
            push(e, F_PLANS, t->node);
        } else if (t->kind == F_NODE && !map && span_eq_lit(key, "Workers")) {
            push(e, F_WORKERS, t->node);
        } else if (t->kind == F_NODE && !map &&
                   (span_eq_lit(key, "Sort Key") || span_eq_lit(key, "Group Key"))) {
            sbuf_reset(&e->list);
            push(e, F_KEYLIST, t->node);
            if (e->depth && top(e)->kind == F_KEYLIST)
                top(e)->key = key;
        } else if (t->kind == F_JIT && map && span_eq_lit(key, "Timing")) {
            push(e, F_TIMING, 0);
        } else if (t->kind == F_TIMING && map && span_eq_lit(key, "Generation")) {
            push(e, F_GEN, 0);
        } else {
            push(e, F_SKIP, 0);
        }
        return;
    }
    /* inside a list */
    if (t->kind == F_PLANS && map) {
        if (p->nodes[t->node].depth + 1 >= SIFT_MAX_PLAN_DEPTH) {
            p->truncated = true;
            push(e, F_SKIP, 0);
            return;
        }
        uint32_t idx = plan_add_node(p, e->a, t->node);
        push(e, idx == PLAN_NONE_IDX ? F_SKIP : F_NODE, idx);
    } else if (t->kind == F_WORKERS && map) {
        push(e, F_WORKER, t->node);
    } else if (t->kind == F_TRIGGERS && map) {
        struct plan_trigger *tr = plan_add_trigger(p, e->a);
        push(e, tr ? F_TRIGGER : F_SKIP, p->n_triggers - 1);
    } else {
        push(e, F_SKIP, 0);
    }
}

void plan_events_map_start(struct plan_events *e)
{
    open_container(e, true);
}

void plan_events_seq_start(struct plan_events *e)
{
    open_container(e, false);
}

void plan_events_end(struct plan_events *e)
{
    struct plan_ev_frame *t = top(e);

    if (!t)
        return;
    if (t->kind == F_SKIP && --t->skip > 0)
        return;
    if (t->kind == F_KEYLIST && t->node < e->p->n_nodes)
        plan_node_set(e->p, &e->p->nodes[t->node], t->key,
                      arena_dup(e->a, e->list.buf, e->list.len), false);
    e->depth--;
}

void plan_events_scalar(struct plan_events *e, struct span v)
{
    struct plan_ev_frame *t = top(e);
    struct plan *p = e->p;

    if (!t || t->kind == F_SKIP)
        return;
    if (t->kind == F_KEYLIST) {
        if (e->list.len && sbuf_addstr(&e->list, ", ") < 0)
            return;
        (void)!sbuf_addspan(&e->list, v);
        return;
    }
    if (!is_map(t->kind))
        return; /* a scalar in a list of nodes/workers/triggers */
    if (!t->key.p) {
        t->key = v.p ? v : LIT("");
        return;
    }
    struct span key = t->key;
    t->key = SPAN_NULL;
    switch (t->kind) {
    case F_TOP:
        if (span_eq_lit(key, "Query Text"))
            p->query = v;
        else if (span_eq_lit(key, "Settings"))
            p->settings = v;
        break;
    case F_NODE: plan_node_set(p, &p->nodes[t->node], key, v, false); break;
    case F_WORKER: plan_node_set(p, &p->nodes[t->node], key, v, true); break;
    case F_TRIGGER: plan_trigger_set(&p->triggers[t->node], key, v); break;
    case F_JIT:
    case F_TIMING: plan_jit_set(p, key, v); break;
    case F_GEN:
        if (span_eq_lit(key, "Total"))
            plan_jit_set(p, LIT("Generation"), v);
        break;
    default: break;
    }
}
