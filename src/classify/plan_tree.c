/* SPDX-License-Identifier: MIT */
/*
 * plan_tree.c - building the plan tree: nodes, the key/value setter shared by the
 * structured formats (explain.c ExplainProperty*() names), text node labels folded
 * into the same fields, and small accessors.
 */
#include <string.h>

#include "classify/classify_int.h"
#include "classify/plan.h"
#include "core/limits.h"
#include "core/sbuf.h"

/* A fresh node: every number absent, no links, the rest zero. Copied into each new node
 * (every node of every plan) instead of a memset and 40 stores. */
static const struct plan_node node_absent = {
    .startup_cost = PLAN_ABSENT,
    .total_cost = PLAN_ABSENT,
    .plan_rows = PLAN_ABSENT,
    .plan_width = PLAN_ABSENT,
    .actual_startup_ms = PLAN_ABSENT,
    .actual_total_ms = PLAN_ABSENT,
    .actual_rows = PLAN_ABSENT,
    .actual_loops = PLAN_ABSENT,
    .rows_removed_filter = PLAN_ABSENT,
    .rows_removed_join_filter = PLAN_ABSENT,
    .rows_removed_recheck = PLAN_ABSENT,
    .heap_fetches = PLAN_ABSENT,
    .exact_blocks = PLAN_ABSENT,
    .lossy_blocks = PLAN_ABSENT,
    .sort_memory_kb = PLAN_ABSENT,
    .sort_disk_kb = PLAN_ABSENT,
    .hash_buckets = PLAN_ABSENT,
    .hash_batches = PLAN_ABSENT,
    .orig_hash_batches = PLAN_ABSENT,
    .peak_memory_kb = PLAN_ABSENT,
    .hashagg_batches = PLAN_ABSENT,
    .disk_usage_kb = PLAN_ABSENT,
    .workers_planned = PLAN_ABSENT,
    .workers_launched = PLAN_ABSENT,
    .shared_hit = PLAN_ABSENT,
    .shared_read = PLAN_ABSENT,
    .shared_dirtied = PLAN_ABSENT,
    .shared_written = PLAN_ABSENT,
    .local_hit = PLAN_ABSENT,
    .local_read = PLAN_ABSENT,
    .local_dirtied = PLAN_ABSENT,
    .local_written = PLAN_ABSENT,
    .temp_read = PLAN_ABSENT,
    .temp_written = PLAN_ABSENT,
    .io_read_ms = PLAN_ABSENT,
    .io_write_ms = PLAN_ABSENT,
    .sort_pending_kb = PLAN_ABSENT,
    .parent = PLAN_NONE_IDX,
    .first_child = PLAN_NONE_IDX,
    .last_child = PLAN_NONE_IDX,
    .next_sibling = PLAN_NONE_IDX,
};

static void node_init(struct plan_node *n)
{
    *n = node_absent;
}

void plan_reset(struct plan *p, enum plan_format fmt)
{
    memset(p, 0, sizeof(*p));
    p->format = fmt;
    p->jit_functions = p->jit_generation_ms = p->jit_inlining_ms = PLAN_ABSENT;
    p->jit_optimization_ms = p->jit_emission_ms = p->jit_total_ms = PLAN_ABSENT;
}

uint32_t plan_add_node(struct plan *p, struct arena *a, uint32_t parent)
{
    if (p->n_nodes >= SIFT_MAX_PLAN_NODES) {
        p->truncated = true;
        return PLAN_NONE_IDX;
    }
    if (p->n_nodes == p->alloc_nodes) {
        uint32_t want = p->alloc_nodes ? p->alloc_nodes * 2 : 16;
        if (want > SIFT_MAX_PLAN_NODES)
            want = SIFT_MAX_PLAN_NODES;
        struct plan_node *nn = arena_alloc(a, (size_t)want * sizeof(*nn));
        if (p->n_nodes)
            memcpy(nn, p->nodes, (size_t)p->n_nodes * sizeof(*nn));
        p->nodes = nn;
        p->alloc_nodes = want;
    }
    uint32_t i = p->n_nodes++;
    struct plan_node *n = &p->nodes[i];
    node_init(n);
    n->parent = parent;
    if (parent != PLAN_NONE_IDX) {
        struct plan_node *pn = &p->nodes[parent];
        n->depth = pn->depth + 1;
        if (pn->last_child == PLAN_NONE_IDX)
            pn->first_child = i;
        else
            p->nodes[pn->last_child].next_sibling = i;
        pn->last_child = i;
    }
    return i;
}

struct plan_trigger *plan_add_trigger(struct plan *p, struct arena *a)
{
    if (p->n_triggers >= SIFT_MAX_PLAN_NODES) {
        p->truncated = true;
        return NULL;
    }
    if (p->n_triggers == p->alloc_triggers) {
        uint32_t want = p->alloc_triggers ? p->alloc_triggers * 2 : 4;
        struct plan_trigger *nt = arena_alloc(a, (size_t)want * sizeof(*nt));
        if (p->n_triggers)
            memcpy(nt, p->triggers, (size_t)p->n_triggers * sizeof(*nt));
        p->triggers = nt;
        p->alloc_triggers = want;
    }
    struct plan_trigger *t = &p->triggers[p->n_triggers++];
    memset(t, 0, sizeof(*t));
    t->time_ms = t->calls = PLAN_ABSENT;
    return t;
}

bool plan_num(struct span s, double *out)
{
    double v;

    s = span_trim(s);
    /* EXPLAIN's numbers are plain decimals ("0.00", "1234", "300.372"): the fast path
     * of span_to_double() without its validation pass and call; anything else takes the
     * full path below. */
    if (span_to_double_plain(s, out))
        return true;
    if (!s.len || s.p[0] == '-' || s.p[0] == '+' || !span_to_double(s, &v) || v != v)
        return false;
    *out = v;
    return true;
}

static void set_num(double *dst, struct span v)
{
    double d;

    if (plan_num(v, &d))
        *dst = d;
}

static void max_num(double *dst, struct span v)
{
    double d;

    if (plan_num(v, &d) && (*dst < 0 || d > *dst))
        *dst = d;
}

static bool is_true(struct span v)
{
    return span_eq_lit(v, "true");
}

/* Per-participant sort figures: keep the largest space of each kind. */
static void sort_space(struct plan_node *n, double kb, struct span type)
{
    if (span_eq_lit(type, "Disk")) {
        if (kb > n->sort_disk_kb)
            n->sort_disk_kb = kb;
        n->sort_spilled++;
    } else if (kb > n->sort_memory_kb) {
        n->sort_memory_kb = kb;
    }
}

/* JSON/YAML/XML give "Sort Space Used" and "Sort Space Type" as two keys (in that order,
 * but either may come first): the first one waits in the node until the other arrives. */
static void sort_pair(struct plan_node *n)
{
    if (n->sort_pending_kb >= 0 && n->sort_pending_type.p) {
        sort_space(n, n->sort_pending_kb, n->sort_pending_type);
        n->sort_pending_kb = PLAN_ABSENT;
        n->sort_pending_type = SPAN_NULL;
    }
}

void plan_node_set(struct plan *p, struct plan_node *n, struct span key, struct span v, bool worker)
{
    (void)worker;
    if (!key.len)
        return;
    switch (key.p[0]) {
    case 'A':
        if (span_eq_lit(key, "Actual Startup Time")) {
            set_num(&n->actual_startup_ms, v);
            p->timing = true;
        } else if (span_eq_lit(key, "Actual Total Time")) {
            if (!worker)
                set_num(&n->actual_total_ms, v);
            p->timing = true;
        } else if (span_eq_lit(key, "Actual Rows")) {
            if (!worker)
                set_num(&n->actual_rows, v);
            p->analyzed = true;
        } else if (span_eq_lit(key, "Actual Loops")) {
            if (!worker) {
                set_num(&n->actual_loops, v);
                if (n->actual_loops == 0)
                    n->never_executed = true;
            }
            p->analyzed = true;
        } else if (span_eq_lit(key, "Alias")) {
            n->alias = v;
        } else if (span_eq_lit(key, "Async Capable")) {
            n->async_capable = is_true(v);
        }
        break;
    case 'C':
        if (span_eq_lit(key, "CTE Name"))
            n->relation = v;
        else if (span_eq_lit(key, "Command"))
            n->command = v;
        else if (span_eq_lit(key, "Custom Plan Provider"))
            n->custom = v;
        break;
    case 'D':
        if (span_eq_lit(key, "Disk Usage"))
            max_num(&n->disk_usage_kb, v);
        break;
    case 'E':
        if (span_eq_lit(key, "Exact Heap Blocks"))
            set_num(&n->exact_blocks, v);
        break;
    case 'F':
        if (span_eq_lit(key, "Filter"))
            n->filter = v;
        else if (span_eq_lit(key, "Function Name"))
            n->relation = v;
        break;
    case 'G':
        if (span_eq_lit(key, "Group Key"))
            n->group_key = v;
        break;
    case 'H':
        if (span_eq_lit(key, "Hash Cond"))
            n->hash_cond = v;
        else if (span_eq_lit(key, "Hash Buckets"))
            max_num(&n->hash_buckets, v);
        else if (span_eq_lit(key, "Hash Batches"))
            max_num(&n->hash_batches, v);
        else if (span_eq_lit(key, "HashAgg Batches"))
            max_num(&n->hashagg_batches, v);
        else if (span_eq_lit(key, "Heap Fetches"))
            set_num(&n->heap_fetches, v);
        break;
    case 'I':
        if (span_eq_lit(key, "Index Name"))
            n->index = v;
        else if (span_eq_lit(key, "Index Cond"))
            n->index_cond = v;
        else if (span_eq_lit(key, "I/O Read Time") || span_eq_lit(key, "Shared I/O Read Time"))
            set_num(&n->io_read_ms, v);
        else if (span_eq_lit(key, "I/O Write Time") || span_eq_lit(key, "Shared I/O Write Time"))
            set_num(&n->io_write_ms, v);
        break;
    case 'J':
        if (span_eq_lit(key, "Join Type"))
            n->join_type = v;
        else if (span_eq_lit(key, "Join Filter"))
            n->join_filter = v;
        break;
    case 'L':
        if (span_eq_lit(key, "Lossy Heap Blocks"))
            set_num(&n->lossy_blocks, v);
        else if (span_eq_lit(key, "Local Hit Blocks"))
            set_num(&n->local_hit, v);
        else if (span_eq_lit(key, "Local Read Blocks"))
            set_num(&n->local_read, v);
        else if (span_eq_lit(key, "Local Dirtied Blocks"))
            set_num(&n->local_dirtied, v);
        else if (span_eq_lit(key, "Local Written Blocks"))
            set_num(&n->local_written, v);
        break;
    case 'M':
        if (span_eq_lit(key, "Merge Cond"))
            n->merge_cond = v;
        break;
    case 'N':
        if (span_eq_lit(key, "Node Type"))
            n->type = v;
        break;
    case 'O':
        if (span_eq_lit(key, "Operation"))
            n->operation = v;
        else if (span_eq_lit(key, "One-Time Filter"))
            n->one_time_filter = v;
        else if (span_eq_lit(key, "Original Hash Batches"))
            max_num(&n->orig_hash_batches, v);
        break;
    case 'P':
        if (span_eq_lit(key, "Plan Rows"))
            set_num(&n->plan_rows, v);
        else if (span_eq_lit(key, "Plan Width"))
            set_num(&n->plan_width, v);
        else if (span_eq_lit(key, "Parallel Aware"))
            n->parallel_aware = is_true(v);
        else if (span_eq_lit(key, "Parent Relationship"))
            n->parent_rel = v;
        else if (span_eq_lit(key, "Partial Mode"))
            n->partial_mode = v;
        else if (span_eq_lit(key, "Peak Memory Usage"))
            max_num(&n->peak_memory_kb, v);
        break;
    case 'R':
        if (span_eq_lit(key, "Relation Name"))
            n->relation = v;
        else if (span_eq_lit(key, "Recheck Cond"))
            n->recheck_cond = v;
        else if (span_eq_lit(key, "Rows Removed by Filter"))
            set_num(&n->rows_removed_filter, v);
        else if (span_eq_lit(key, "Rows Removed by Join Filter"))
            set_num(&n->rows_removed_join_filter, v);
        else if (span_eq_lit(key, "Rows Removed by Index Recheck"))
            set_num(&n->rows_removed_recheck, v);
        break;
    case 'S':
        if (span_eq_lit(key, "Startup Cost")) {
            set_num(&n->startup_cost, v);
        } else if (span_eq_lit(key, "Strategy")) {
            n->strategy = v;
        } else if (span_eq_lit(key, "Schema")) {
            n->schema = v;
        } else if (span_eq_lit(key, "Scan Direction")) {
            n->backward = span_eq_lit(v, "Backward");
        } else if (span_eq_lit(key, "Subplan Name")) {
            n->subplan_name = v;
        } else if (span_eq_lit(key, "Sort Key")) {
            n->sort_key = v;
        } else if (span_eq_lit(key, "Sort Method")) {
            if (!n->sort_method.p || span_starts_with_lit(v, "external"))
                n->sort_method = v;
        } else if (span_eq_lit(key, "Sort Space Used")) {
            set_num(&n->sort_pending_kb, v);
            sort_pair(n);
        } else if (span_eq_lit(key, "Sort Space Type")) {
            n->sort_pending_type = v;
            sort_pair(n);
        } else if (span_eq_lit(key, "Shared Hit Blocks")) {
            if (!worker)
                set_num(&n->shared_hit, v);
            p->buffers = true;
        } else if (span_eq_lit(key, "Shared Read Blocks")) {
            if (!worker)
                set_num(&n->shared_read, v);
        } else if (span_eq_lit(key, "Shared Dirtied Blocks")) {
            if (!worker)
                set_num(&n->shared_dirtied, v);
        } else if (span_eq_lit(key, "Shared Written Blocks")) {
            if (!worker)
                set_num(&n->shared_written, v);
        }
        break;
    case 'T':
        if (span_eq_lit(key, "Total Cost")) {
            set_num(&n->total_cost, v);
        } else if (span_eq_lit(key, "Table Function Name") || span_eq_lit(key, "Tuplestore Name")) {
            n->relation = v;
        } else if (span_eq_lit(key, "Temp Read Blocks")) {
            if (!worker)
                set_num(&n->temp_read, v);
        } else if (span_eq_lit(key, "Temp Written Blocks")) {
            if (!worker)
                set_num(&n->temp_written, v);
        }
        break;
    case 'W':
        if (span_eq_lit(key, "Workers Planned"))
            set_num(&n->workers_planned, v);
        else if (span_eq_lit(key, "Workers Launched"))
            set_num(&n->workers_launched, v);
        break;
    default: break;
    }
}

void plan_jit_set(struct plan *p, struct span key, struct span v)
{
    if (span_eq_lit(key, "Functions"))
        set_num(&p->jit_functions, v);
    else if (span_eq_lit(key, "Generation"))
        set_num(&p->jit_generation_ms, v);
    else if (span_eq_lit(key, "Inlining"))
        set_num(&p->jit_inlining_ms, v);
    else if (span_eq_lit(key, "Optimization"))
        set_num(&p->jit_optimization_ms, v);
    else if (span_eq_lit(key, "Emission"))
        set_num(&p->jit_emission_ms, v);
    else if (span_eq_lit(key, "Total"))
        set_num(&p->jit_total_ms, v);
}

void plan_trigger_set(struct plan_trigger *t, struct span key, struct span v)
{
    if (span_eq_lit(key, "Trigger Name"))
        t->name = v;
    else if (span_eq_lit(key, "Constraint Name"))
        t->constraint = v;
    else if (span_eq_lit(key, "Relation"))
        t->relation = v;
    else if (span_eq_lit(key, "Time"))
        set_num(&t->time_ms, v);
    else if (span_eq_lit(key, "Calls"))
        set_num(&t->calls, v);
}

/* ---------------------------------------------------------------- text labels */

/* An identifier as quote_identifier() prints it: bare up to a space, or "..." with ""
 * for a quote. Decoded into @a when it holds a doubled quote. */
static bool ident(struct span *s, struct arena *a, struct span *out)
{
    size_t i;

    if (!s->len)
        return false;
    if (s->p[0] != '"') {
        for (i = 0; i < s->len && s->p[i] != ' ' && s->p[i] != '.'; i++)
            ;
        *out = span_make(s->p, i);
        *s = cur_skip(*s, i);
        return i > 0;
    }
    bool doubled = false;
    for (i = 1;; i++) {
        if (i >= s->len)
            return false;
        if (s->p[i] != '"')
            continue;
        if (i + 1 < s->len && s->p[i + 1] == '"') {
            doubled = true;
            i++;
            continue;
        }
        break;
    }
    struct span raw = span_make(s->p + 1, i - 1);
    *s = cur_skip(*s, i + 1);
    if (!doubled) {
        *out = raw;
        return true;
    }
    char *q = arena_alloc(a, raw.len + 1);
    size_t n = 0;
    for (size_t k = 0; k < raw.len; k++) {
        q[n++] = raw.p[k];
        if (raw.p[k] == '"')
            k++;
    }
    q[n] = '\0';
    *out = span_make(q, n);
    return true;
}

/* " on [schema.]name[ alias]" (ExplainTargetRel text), the rest of a scan label. */
static void target(struct plan_node *n, struct span s, struct arena *a)
{
    struct span name;

    if (!cur_eat_lit(&s, " on "))
        return;
    if (!ident(&s, a, &name))
        return;
    if (s.len && s.p[0] == '.') {
        s = cur_skip(s, 1);
        n->schema = name;
        if (!ident(&s, a, &name))
            return;
    }
    n->relation = name;
    if (cur_eat_lit(&s, " "))
        ident(&s, a, &n->alias);
}

struct label_map {
    const char *text;  /* text pname */
    const char *type;  /* JSON Node Type */
    const char *field; /* extra: "s" strategy, "o" operation, "j" join, "t" target, "a" alias
                          only (ExplainTargetRel() names no object: "on" gives the alias) */
    const char *value; /* the extra field's value */
};

/* Longest first where one is a prefix of another. */
static const struct label_map labels[] = {
    { "Index Only Scan", "Index Only Scan", "i", NULL },
    { "Index Scan", "Index Scan", "i", NULL },
    { "Bitmap Index Scan", "Bitmap Index Scan", "b", NULL },
    { "Bitmap Heap Scan", "Bitmap Heap Scan", "t", NULL },
    { "Seq Scan", "Seq Scan", "t", NULL },
    { "Sample Scan", "Sample Scan", "t", NULL },
    { "Tid Range Scan", "Tid Range Scan", "t", NULL },
    { "Tid Scan", "Tid Scan", "t", NULL },
    { "Subquery Scan", "Subquery Scan", "a", NULL },
    { "Table Function Scan", "Table Function Scan", "t", NULL },
    { "Function Scan", "Function Scan", "t", NULL },
    { "Values Scan", "Values Scan", "a", NULL },
    { "CTE Scan", "CTE Scan", "t", NULL },
    { "Named Tuplestore Scan", "Named Tuplestore Scan", "t", NULL },
    { "WorkTable Scan", "WorkTable Scan", "t", NULL },
    { "Foreign Scan", "Foreign Scan", "t", "Select" },
    { "Foreign Insert", "Foreign Scan", "t", "Insert" },
    { "Foreign Update", "Foreign Scan", "t", "Update" },
    { "Foreign Delete", "Foreign Scan", "t", "Delete" },
    { "Custom Scan", "Custom Scan", "c", NULL },
    { "Nested Loop", "Nested Loop", "j", NULL },
    { "Merge Append", "Merge Append", "", NULL },
    { "Merge", "Merge Join", "j", NULL },
    { "Hash", "Hash Join", "j", NULL }, /* only when a join suffix follows; see below */
    { "Insert", "ModifyTable", "o", "Insert" },
    { "Update", "ModifyTable", "o", "Update" },
    { "Delete", "ModifyTable", "o", "Delete" },
    { "MixedAggregate", "Aggregate", "s", "Mixed" },
    { "HashAggregate", "Aggregate", "s", "Hashed" },
    { "GroupAggregate", "Aggregate", "s", "Sorted" },
    { "Aggregate", "Aggregate", "s", "Plain" },
    { "HashSetOp", "SetOp", "S", "Hashed" },
    { "SetOp", "SetOp", "S", "Sorted" },
    { "Gather Merge", "Gather Merge", "", NULL },
    { "Gather", "Gather", "", NULL },
    { "Incremental Sort", "Incremental Sort", "", NULL },
    { "Sort", "Sort", "", NULL },
    { "Materialize", "Materialize", "", NULL },
    { "Memoize", "Memoize", "", NULL },
    { "Result", "Result", "", NULL },
    { "ProjectSet", "ProjectSet", "", NULL },
    { "Append", "Append", "", NULL },
    { "Recursive Union", "Recursive Union", "", NULL },
    { "BitmapAnd", "BitmapAnd", "", NULL },
    { "BitmapOr", "BitmapOr", "", NULL },
    { "Group", "Group", "", NULL },
    { "WindowAgg", "WindowAgg", "", NULL },
    { "Unique", "Unique", "", NULL },
    { "LockRows", "LockRows", "", NULL },
    { "Limit", "Limit", "", NULL },
};

static const char *const join_types[] = { "Right Semi", "Right Anti", "Left", "Full",
                                          "Right",      "Semi",       "Anti" };

static bool word_end(struct span s, size_t at)
{
    return at >= s.len || s.p[at] == ' ';
}

void plan_text_label(struct plan_node *n, struct span label, struct arena *a)
{
    struct span s = label;

    if (cur_eat_lit(&s, "Parallel "))
        n->parallel_aware = true;
    if (cur_eat_lit(&s, "Async "))
        n->async_capable = true;
    if (cur_eat_lit(&s, "Partial "))
        n->partial_mode = LIT("Partial");
    else if (cur_eat_lit(&s, "Finalize "))
        n->partial_mode = LIT("Finalize");
    /* "Merge" (MERGE INTO) and "Merge Join"/"Merge Left Join" share a prefix: a
     * ModifyTable Merge is followed by " on". */
    if (span_starts_with_lit(s, "Merge on ")) {
        n->type = LIT("ModifyTable");
        n->operation = LIT("Merge");
        target(n, cur_skip(s, 5), a);
        return;
    }
    for (size_t i = 0; i < ARRAY_SIZE(labels); i++) {
        const struct label_map *m = &labels[i];
        if (!s.len || s.p[0] != m->text[0]) /* most labels differ at once */
            continue;
        size_t len = strlen(m->text);
        if (s.len < len || memcmp(s.p, m->text, len) != 0 || !word_end(s, len))
            continue;
        struct span rest = cur_skip(s, len);
        char f = m->field[0];
        if (f == 'j') {
            /* " Join" (inner), " <Type> Join", or nothing (Nested Loop, plain Hash) */
            struct span jt = LIT("Inner");
            bool join = false;
            if (cur_eat_lit(&rest, " Join")) {
                join = true;
            } else {
                for (size_t k = 0; k < ARRAY_SIZE(join_types); k++) {
                    struct span t = span_cstr(join_types[k]);
                    if (rest.len > t.len + 1 && rest.p[0] == ' ' &&
                        memcmp(rest.p + 1, t.p, t.len) == 0 &&
                        span_starts_with_lit(cur_skip(rest, t.len + 1), " Join")) {
                        jt = t;
                        rest = cur_skip(rest, t.len + 1 + 5);
                        join = true;
                        break;
                    }
                }
            }
            if (!join && strcmp(m->text, "Hash") == 0) {
                n->type = LIT("Hash");
                return;
            }
            if (!join && strcmp(m->text, "Merge") == 0)
                continue; /* not a join: try the next labels (none match) */
            n->type = span_cstr(m->type);
            n->join_type = jt;
            return;
        }
        n->type = span_cstr(m->type);
        switch (f) {
        case 's':
            n->strategy = span_cstr(m->value);
            if (!n->partial_mode.p)
                n->partial_mode = LIT("Simple");
            break;
        case 'S':
            n->strategy = span_cstr(m->value);
            if (rest.len > 1 && rest.p[0] == ' ')
                n->command = cur_skip(rest, 1);
            break;
        case 'o':
            n->operation = span_cstr(m->value);
            target(n, rest, a);
            break;
        case 't':
            if (m->value)
                n->operation = span_cstr(m->value);
            target(n, rest, a);
            break;
        case 'a':
            if (cur_eat_lit(&rest, " on "))
                ident(&rest, a, &n->alias);
            break;
        case 'i':
            if (cur_eat_lit(&rest, " Backward"))
                n->backward = true;
            if (cur_eat_lit(&rest, " using ") && ident(&rest, a, &n->index))
                target(n, rest, a);
            break;
        case 'b': {
            if (cur_eat_lit(&rest, " on "))
                ident(&rest, a, &n->index);
            break;
        }
        case 'c':
            /* "Custom Scan (Provider) on rel" */
            if (rest.len > 2 && rest.p[0] == ' ' && rest.p[1] == '(') {
                long e = span_find_char(rest, 2, ')');
                if (e > 2) {
                    n->custom = span_make(rest.p + 2, (size_t)e - 2);
                    rest = cur_skip(rest, (size_t)e + 1);
                }
            }
            target(n, rest, a);
            break;
        default: break;
        }
        return;
    }
    n->type = s; /* unknown: keep the label */
}

/* ---------------------------------------------------------------- accessors */

double plan_node_rows_read(const struct plan_node *n)
{
    double loops = n->actual_loops > 0 ? n->actual_loops : 1;
    double rows = n->actual_rows > 0 ? n->actual_rows : 0;

    if (n->rows_removed_filter > 0)
        rows += n->rows_removed_filter;
    if (n->rows_removed_recheck > 0)
        rows += n->rows_removed_recheck;
    return rows * loops;
}

double plan_node_ms(const struct plan_node *n)
{
    if (n->actual_total_ms < 0)
        return PLAN_ABSENT;
    return n->actual_total_ms * (n->actual_loops > 0 ? n->actual_loops : 1);
}

static int add_ident(struct sbuf *out, struct span id)
{
    bool plain = id.len > 0;

    for (size_t i = 0; i < id.len && plain; i++) {
        char c = id.p[i];
        plain = (c >= 'a' && c <= 'z') || c == '_' || (i && c >= '0' && c <= '9');
    }
    if (plain)
        return sbuf_addspan(out, id);
    if (sbuf_addch(out, '"') < 0)
        return -1;
    for (size_t i = 0; i < id.len; i++)
        if ((id.p[i] == '"' && sbuf_addch(out, '"') < 0) || sbuf_addch(out, id.p[i]) < 0)
            return -1;
    return sbuf_addch(out, '"');
}

int plan_node_label(const struct plan_node *n, struct sbuf *out)
{
    int rc = 0;
    struct span t = n->type;

    if (n->parallel_aware)
        rc |= sbuf_addstr(out, "Parallel ");
    if (n->partial_mode.p && !span_eq_lit(n->partial_mode, "Simple"))
        rc |= sbuf_addf(out, "%.*s ", (int)n->partial_mode.len, n->partial_mode.p);
    if (span_eq_lit(t, "Aggregate") && n->strategy.p && !span_eq_lit(n->strategy, "Plain")) {
        const char *pre = span_eq_lit(n->strategy, "Hashed")   ? "Hash"
                          : span_eq_lit(n->strategy, "Sorted") ? "Group"
                                                               : "Mixed";
        rc |= sbuf_addf(out, "%sAggregate", pre);
    } else if (span_eq_lit(t, "ModifyTable") && n->operation.p) {
        rc |= sbuf_addspan(out, n->operation);
    } else if ((span_eq_lit(t, "Hash Join") || span_eq_lit(t, "Merge Join") ||
                span_eq_lit(t, "Nested Loop")) &&
               n->join_type.p && !span_eq_lit(n->join_type, "Inner")) {
        size_t base = span_eq_lit(t, "Nested Loop") ? t.len : t.len - 5;
        rc |=
            sbuf_addf(out, "%.*s %.*s Join", (int)base, t.p, (int)n->join_type.len, n->join_type.p);
    } else {
        rc |= sbuf_addspan(out, t);
    }
    if (n->backward)
        rc |= sbuf_addstr(out, " Backward");
    if (n->index.p && !span_eq_lit(t, "Bitmap Index Scan")) {
        rc |= sbuf_addstr(out, " using ");
        rc |= add_ident(out, n->index);
    } else if (n->index.p) {
        rc |= sbuf_addstr(out, " on ");
        rc |= add_ident(out, n->index);
    }
    if (n->relation.p) {
        rc |= sbuf_addstr(out, " on ");
        if (n->schema.p) {
            rc |= add_ident(out, n->schema);
            rc |= sbuf_addch(out, '.');
        }
        rc |= add_ident(out, n->relation);
        if (n->alias.p && !span_eq(n->alias, n->relation)) {
            rc |= sbuf_addch(out, ' ');
            rc |= add_ident(out, n->alias);
        }
    }
    return rc ? -1 : 0;
}

/* ---------------------------------------------------------------- dispatch */

int plan_parse(struct plan *p, enum plan_format fmt, struct span body, struct arena *a)
{
    int rc;
    switch (fmt) {
    case PLAN_TEXT: rc = plan_parse_text(p, body, a); break;
    case PLAN_JSON: rc = plan_parse_json(p, body, a); break;
    case PLAN_YAML: rc = plan_parse_yaml(p, body, a); break;
    case PLAN_XML: rc = plan_parse_xml(p, body, a); break;
    default:
        plan_reset(p, fmt);
        p->error = "not a plan";
        return -1;
    }
    if (rc < 0)
        return -1;
    /* A plan cut (or malformed) inside a node before its type: a top node without one is
     * no plan that can be read (shape 0, with the reason); a node further down is kept
     * as "?", so that the part read keeps its shape. */
    if (!p->nodes[0].type.len) {
        if (!p->error)
            p->error = "plan node without a \"Node Type\"";
        return -1;
    }
    for (uint32_t i = 1; i < p->n_nodes; i++)
        if (!p->nodes[i].type.len) {
            p->nodes[i].type = SPAN_LIT("?");
            if (!p->error)
                p->error = "plan node without a \"Node Type\"";
        }
    return 0;
}
