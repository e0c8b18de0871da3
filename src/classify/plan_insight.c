/* SPDX-License-Identifier: MIT */
/*
 * plan_insight.c - what a plan says is wrong, each finding with a short explanation and
 * the plan lines it rests on (docs/plans.md lists them, their thresholds and the
 * auto_explain settings they need).
 *
 * Pure functions over the tree: no I/O, no global state. Thresholds live in plan.h.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "classify/classify_int.h"
#include "classify/plan.h"

static const struct {
    const char *name, *title, *needs;
} kinds[PLAN_INSIGHT_COUNT] = {
    [PLAN_INSIGHT_SEQ_SCAN] = { "seq_scan_filter", "Sequential scan with a selective filter",
                                "log_analyze" },
    [PLAN_INSIGHT_MISESTIMATE] = { "row_misestimate", "Row estimate off by 10x or more",
                                   "log_analyze" },
    [PLAN_INSIGHT_SORT_SPILL] = { "sort_spill", "Sort spilled to disk", "log_analyze" },
    [PLAN_INSIGHT_HASH_SPILL] = { "hash_spill", "Hash spilled to disk in several batches",
                                  "log_analyze" },
    [PLAN_INSIGHT_NESTED_LOOP] = { "nested_loop_seq_scan",
                                   "Nested loop repeating a sequential scan", "log_analyze" },
    [PLAN_INSIGHT_LOSSY_BITMAP] = { "lossy_bitmap", "Lossy bitmap heap scan", "log_analyze" },
    [PLAN_INSIGHT_WORKERS] = { "workers_not_launched",
                               "Fewer parallel workers launched than planned", "log_analyze" },
    [PLAN_INSIGHT_JIT] = { "jit_time", "JIT compilation takes a large share of the time",
                           "log_analyze, log_timing" },
    [PLAN_INSIGHT_TRIGGER] = { "slow_trigger", "Slow trigger",
                               "log_analyze, log_timing, log_triggers" },
};

const char *plan_insight_name(enum plan_insight_kind k)
{
    return (unsigned)k < PLAN_INSIGHT_COUNT ? kinds[k].name : NULL;
}

const char *plan_insight_title(enum plan_insight_kind k)
{
    return (unsigned)k < PLAN_INSIGHT_COUNT ? kinds[k].title : NULL;
}

const char *plan_insight_needs(enum plan_insight_kind k)
{
    return (unsigned)k < PLAN_INSIGHT_COUNT ? kinds[k].needs : NULL;
}

/* ---------------------------------------------------------------- evidence text */

/* The node line as EXPLAIN text prints it (without indentation). */
static void ev_node(struct sbuf *sb, const struct plan_node *n)
{
    int rc = plan_node_label(n, sb);

    /* the numbers without printf (sbuf_add_fixed): plans are analysed for every record */
    if (n->total_cost >= 0) {
        rc |= sbuf_addstr(sb, "  (cost=");
        rc |= sbuf_add_fixed(sb, n->startup_cost > 0 ? n->startup_cost : 0, 2);
        rc |= sbuf_addstr(sb, "..");
        rc |= sbuf_add_fixed(sb, n->total_cost, 2);
        rc |= sbuf_addstr(sb, " rows=");
        rc |= sbuf_add_fixed(sb, n->plan_rows > 0 ? n->plan_rows : 0, 0);
        rc |= sbuf_addstr(sb, " width=");
        rc |= sbuf_add_fixed(sb, n->plan_width > 0 ? n->plan_width : 0, 0);
        rc |= sbuf_addch(sb, ')');
    }
    if (n->never_executed) {
        rc |= sbuf_addstr(sb, " (never executed)");
    } else if (n->actual_total_ms >= 0) {
        rc |= sbuf_addstr(sb, " (actual time=");
        rc |= sbuf_add_fixed(sb, n->actual_startup_ms > 0 ? n->actual_startup_ms : 0, 3);
        rc |= sbuf_addstr(sb, "..");
        rc |= sbuf_add_fixed(sb, n->actual_total_ms, 3);
        rc |= sbuf_addstr(sb, " rows=");
        rc |= sbuf_add_fixed(sb, n->actual_rows, 0);
        rc |= sbuf_addstr(sb, " loops=");
        rc |= sbuf_add_fixed(sb, n->actual_loops, 0);
        rc |= sbuf_addch(sb, ')');
    } else if (n->actual_rows >= 0) {
        rc |= sbuf_addstr(sb, " (actual rows=");
        rc |= sbuf_add_fixed(sb, n->actual_rows, 0);
        rc |= sbuf_addstr(sb, " loops=");
        rc |= sbuf_add_fixed(sb, n->actual_loops, 0);
        rc |= sbuf_addch(sb, ')');
    }
    (void)rc;
}

static void ev_text(struct sbuf *sb, const char *key, struct span v)
{
    if (v.p)
        (void)!sbuf_addf(sb, "\n  %s: %.*s", key, (int)v.len, v.p);
}

static void ev_num(struct sbuf *sb, const char *key, double v)
{
    if (v >= 0 && sbuf_addstr(sb, "\n  ") == 0 && sbuf_addstr(sb, key) == 0 &&
        sbuf_addstr(sb, ": ") == 0)
        (void)!sbuf_add_fixed(sb, v, 0);
}

/* " key=N" */
static void ev_count(struct sbuf *sb, const char *key, double v)
{
    if (sbuf_addstr(sb, key) == 0)
        (void)!sbuf_add_fixed(sb, v, 0);
}

static void ev_buffers(struct sbuf *sb, const struct plan_node *n)
{
    if (n->shared_hit < 0 && n->shared_read < 0 && n->temp_read < 0 && n->temp_written < 0)
        return;
    (void)!sbuf_addstr(sb, "\n  Buffers:");
    if (n->shared_hit > 0 || n->shared_read > 0) {
        (void)!sbuf_addstr(sb, " shared");
        if (n->shared_hit > 0)
            ev_count(sb, " hit=", n->shared_hit);
        if (n->shared_read > 0)
            ev_count(sb, " read=", n->shared_read);
    }
    if (n->temp_read > 0 || n->temp_written > 0) {
        (void)!sbuf_addstr(sb, n->shared_hit > 0 || n->shared_read > 0 ? ", temp" : " temp");
        if (n->temp_read > 0)
            ev_count(sb, " read=", n->temp_read);
        if (n->temp_written > 0)
            ev_count(sb, " written=", n->temp_written);
    }
}

/* ---------------------------------------------------------------- output */

struct ctx {
    const struct plan *p;
    struct arena *a;
    struct plan_analysis *pa;
    size_t alloc;
    struct sbuf expl, evid, label;
    double duration_ms;
    bool kinds_only; /* plan_insight_kinds(): no texts */
};

static struct span arena_sbuf(struct arena *a, const struct sbuf *sb)
{
    return arena_dup(a, sb->buf, sb->len);
}

/* A new insight of kind @k at the end of the list, with no node, texts or numbers. */
static struct plan_insight *append(struct ctx *c, enum plan_insight_kind k)
{
    struct plan_analysis *pa = c->pa;

    if (pa->n_insights == c->alloc) {
        size_t want = c->alloc ? c->alloc * 2 : 8;
        struct plan_insight *ni = arena_alloc(c->a, want * sizeof(*ni));
        if (pa->n_insights)
            memcpy(ni, pa->insights, pa->n_insights * sizeof(*ni));
        pa->insights = ni;
        c->alloc = want;
    }
    struct plan_insight *in = &pa->insights[pa->n_insights++];
    memset(in, 0, sizeof(*in));
    in->kind = k;
    in->impact_ms = -1;
    in->work_mem_kb = -1;
    return in;
}

static struct plan_insight *emit(struct ctx *c, enum plan_insight_kind k, const struct plan_node *n)
{
    struct plan_insight *in = append(c, k);
    if (n) {
        sbuf_reset(&c->label);
        (void)!plan_node_label(n, &c->label);
        in->node = arena_sbuf(c->a, &c->label);
    }
    in->explanation = arena_sbuf(c->a, &c->expl);
    in->evidence = arena_sbuf(c->a, &c->evid);
    return in;
}

/* plan_insight_kinds() keeps only which kinds a plan shows (what ingest stores): the
 * kind is appended bare (no node, texts, impact or work_mem) and the caller returns
 * before building any text. False: build the insight in full. */
static bool bare(struct ctx *c, enum plan_insight_kind k)
{
    if (!c->kinds_only)
        return false;
    append(c, k);
    return true;
}

static void begin(struct ctx *c)
{
    sbuf_reset(&c->expl);
    sbuf_reset(&c->evid);
}

/* A size in kB for people: 900kB, 2.1MB, 1.5GB. */
static void fmt_kb(char *buf, size_t n, double kb)
{
    if (kb < 1024)
        snprintf(buf, n, "%.0fkB", kb);
    else if (kb < 1024.0 * 1024 && fmod(kb, 1024) == 0)
        snprintf(buf, n, "%.0fMB", kb / 1024);
    else if (kb < 1024.0 * 1024)
        snprintf(buf, n, "%.1fMB", kb / 1024);
    else
        snprintf(buf, n, "%.1fGB", kb / (1024.0 * 1024));
}

/* work_mem to suggest: @kb rounded up to a whole MB (at least 1MB, 4MB steps above
 * 64MB). */
static double round_mem(double kb)
{
    double mb = ceil(kb / 1024);

    if (mb < 1)
        mb = 1;
    if (mb > 64)
        mb = ceil(mb / 4) * 4;
    return mb * 1024;
}

/* ---------------------------------------------------------------- tree helpers */

static bool type_is(const struct plan_node *n, const char *t)
{
    return span_eq(n->type, span_cstr(t));
}

static bool has_ancestor(const struct plan *p, const struct plan_node *n, const char *type)
{
    for (uint32_t i = n->parent; i != PLAN_NONE_IDX; i = p->nodes[i].parent)
        if (type_is(&p->nodes[i], type))
            return true;
    return false;
}

/* ---------------------------------------------------------------- the insights */

static void seq_scan(struct ctx *c, const struct plan_node *n)
{
    if (!type_is(n, "Seq Scan") || !n->filter.p || n->actual_rows < 0 || n->never_executed)
        return;
    double read = plan_node_rows_read(n), loops = n->actual_loops > 0 ? n->actual_loops : 1;
    double returned = n->actual_rows * loops;
    /* A repeated inner scan is the nested-loop insight's; here: one big scan per call. */
    if (read / loops < PLAN_SEQ_MIN_ROWS || returned > read * PLAN_SEQ_MAX_SELECTIVITY)
        return;
    if (bare(c, PLAN_INSIGHT_SEQ_SCAN))
        return;
    begin(c);
    sbuf_reset(&c->label);
    (void)!plan_node_label(n, &c->label);
    (void)!sbuf_addf(&c->expl,
                     "%s reads %.0f rows to return %.0f (%.2g%%): the filter is selective "
                     "and the table is scanned whole; an index on the filtered columns "
                     "would read only the matching rows.",
                     c->label.buf, read, returned, read > 0 ? 100.0 * returned / read : 0.0);
    ev_node(&c->evid, n);
    ev_text(&c->evid, "Filter", n->filter);
    ev_num(&c->evid, "Rows Removed by Filter", n->rows_removed_filter);
    ev_buffers(&c->evid, n);
    emit(c, PLAN_INSIGHT_SEQ_SCAN, n)->impact_ms = plan_node_ms(n);
}

static bool misestimated(const struct plan *p, const struct plan_node *n, double *factor,
                         bool *under)
{
    if (n->actual_rows < 0 || n->plan_rows < 0 || n->never_executed || n->actual_loops <= 0)
        return false;
    double est = n->plan_rows, act = n->actual_rows;
    double hi = est > act ? est : act, lo = est > act ? act : est;
    if (hi < PLAN_MISESTIMATE_MIN_ROWS)
        return false;
    double f = hi / (lo >= 1 ? lo : 1);
    if (f < PLAN_MISESTIMATE_FACTOR)
        return false;
    *under = act > est;
    if (!*under) {
        /* Fewer rows than estimated is normal where execution stops early: below a Limit,
         * the inner side of a semi/anti join, the inputs of a merge join. */
        if (has_ancestor(p, n, "Limit"))
            return false;
        if (n->parent != PLAN_NONE_IDX) {
            const struct plan_node *par = &p->nodes[n->parent];
            if (type_is(par, "Merge Join") || span_eq_lit(par->join_type, "Semi") ||
                span_eq_lit(par->join_type, "Anti"))
                return false;
        }
    }
    *factor = f;
    return true;
}

/* Report a misestimate where it starts: at a node none of whose descendants is itself
 * misestimated (upper nodes inherit the error). @below[i]: some descendant of node i is
 * misestimated (computed once, bottom-up). */
static void misestimate(struct ctx *c, uint32_t idx, const bool *below)
{
    const struct plan_node *n = &c->p->nodes[idx];
    double f;
    bool under;

    if (below[idx] || !misestimated(c->p, n, &f, &under))
        return;
    if (bare(c, PLAN_INSIGHT_MISESTIMATE))
        return;
    begin(c);
    sbuf_reset(&c->label);
    (void)!plan_node_label(n, &c->label);
    (void)!sbuf_addf(&c->expl,
                     "%s: the planner estimated %.0f rows per loop, %.0f came back (%.0fx %s). "
                     "Every plan choice above this node rests on the wrong count; ANALYZE the "
                     "table, raise its statistics target, or CREATE STATISTICS for "
                     "correlated columns.",
                     c->label.buf, n->plan_rows, n->actual_rows, f,
                     under ? "more than estimated" : "fewer than estimated");
    ev_node(&c->evid, n);
    ev_text(&c->evid, "Filter", n->filter);
    ev_text(&c->evid, "Index Cond", n->index_cond);
    ev_text(&c->evid, "Hash Cond", n->hash_cond);
    ev_text(&c->evid, "Join Filter", n->join_filter);
    emit(c, PLAN_INSIGHT_MISESTIMATE, n)->impact_ms = plan_node_ms(n);
}

static void sort_spill(struct ctx *c, const struct plan_node *n)
{
    if (!(type_is(n, "Sort") || type_is(n, "Incremental Sort")) || n->sort_disk_kb < 0)
        return;
    if (bare(c, PLAN_INSIGHT_SORT_SPILL))
        return;
    char disk[32], need[32];
    /* An in-memory sort holds each tuple with its SortTuple header and allocation
     * overhead: about twice the size the same tuples take on disk. */
    double want = round_mem(n->sort_disk_kb * 2);
    fmt_kb(disk, sizeof(disk), n->sort_disk_kb);
    fmt_kb(need, sizeof(need), want);
    begin(c);
    (void)!sbuf_addf(&c->expl,
                     "Sort wrote %s to disk (%.*s%s); with work_mem of about %s it would "
                     "have sorted in memory (an in-memory sort needs roughly twice the "
                     "disk size). Raise work_mem for this query or role, not globally.",
                     disk, (int)n->sort_method.len, n->sort_method.p,
                     n->sort_spilled > 1 ? ", in several workers: per worker" : "", need);
    ev_node(&c->evid, n);
    ev_text(&c->evid, "Sort Key", n->sort_key);
    (void)!sbuf_addf(&c->evid, "\n  Sort Method: %.*s  Disk: %.0fkB", (int)n->sort_method.len,
                     n->sort_method.p, n->sort_disk_kb);
    ev_buffers(&c->evid, n);
    struct plan_insight *in = emit(c, PLAN_INSIGHT_SORT_SPILL, n);
    in->impact_ms = plan_node_ms(n);
    in->work_mem_kb = want;
}

static void hash_spill(struct ctx *c, const struct plan_node *n)
{
    char mem[32], need[32];

    if (type_is(n, "Hash") && n->hash_batches > 1) {
        if (bare(c, PLAN_INSIGHT_HASH_SPILL))
            return;
        /* Peak Memory Usage is per batch: the whole table is about batches x peak. The
         * limit is work_mem x hash_mem_multiplier (2.0 by default since PG 15). */
        double total = n->peak_memory_kb > 0 ? n->peak_memory_kb * n->hash_batches : -1;
        begin(c);
        if (total > 0) {
            fmt_kb(mem, sizeof(mem), total);
            fmt_kb(need, sizeof(need), round_mem(total / 2));
            (void)!sbuf_addf(&c->expl,
                             "The hash table was split into %.0f batches (originally %.0f) and "
                             "spilled to temporary files; it needs about %s, so work_mem of "
                             "about %s (x the default hash_mem_multiplier 2.0) would keep it "
                             "in one batch.",
                             n->hash_batches,
                             n->orig_hash_batches > 0 ? n->orig_hash_batches : n->hash_batches, mem,
                             need);
        } else {
            (void)!sbuf_addf(&c->expl,
                             "The hash table was split into %.0f batches and spilled to "
                             "temporary files; raise work_mem for this query.",
                             n->hash_batches);
        }
        ev_node(&c->evid, n);
        (void)!sbuf_addf(&c->evid, "\n  Buckets: %.0f  Batches: %.0f  Memory Usage: %.0fkB",
                         n->hash_buckets > 0 ? n->hash_buckets : 0, n->hash_batches,
                         n->peak_memory_kb > 0 ? n->peak_memory_kb : 0);
        ev_buffers(&c->evid, n);
        struct plan_insight *in = emit(c, PLAN_INSIGHT_HASH_SPILL, n);
        in->impact_ms =
            n->parent != PLAN_NONE_IDX ? plan_node_ms(&c->p->nodes[n->parent]) : plan_node_ms(n);
        in->work_mem_kb = total > 0 ? round_mem(total / 2) : -1;
        return;
    }
    if (type_is(n, "Aggregate") && (n->hashagg_batches > 1 || n->disk_usage_kb > 0)) {
        if (bare(c, PLAN_INSIGHT_HASH_SPILL))
            return;
        double total = (n->peak_memory_kb > 0 ? n->peak_memory_kb : 0) +
                       (n->disk_usage_kb > 0 ? n->disk_usage_kb : 0);
        fmt_kb(mem, sizeof(mem), n->disk_usage_kb > 0 ? n->disk_usage_kb : 0);
        fmt_kb(need, sizeof(need), round_mem(total / 2));
        begin(c);
        (void)!sbuf_addf(&c->expl,
                         "Hash aggregation spilled %s to disk in %.0f batches; work_mem of "
                         "about %s (x the default hash_mem_multiplier 2.0) would keep its "
                         "groups in memory.",
                         mem, n->hashagg_batches > 0 ? n->hashagg_batches : 1, need);
        ev_node(&c->evid, n);
        (void)!sbuf_addf(&c->evid, "\n  Batches: %.0f  Memory Usage: %.0fkB  Disk Usage: %.0fkB",
                         n->hashagg_batches > 0 ? n->hashagg_batches : 1,
                         n->peak_memory_kb > 0 ? n->peak_memory_kb : 0,
                         n->disk_usage_kb > 0 ? n->disk_usage_kb : 0);
        struct plan_insight *in = emit(c, PLAN_INSIGHT_HASH_SPILL, n);
        in->impact_ms = plan_node_ms(n);
        in->work_mem_kb = round_mem(total / 2);
    }
}

/* The inner (second) child of a join, through a Materialize. */
static const struct plan_node *inner_scan(const struct plan *p, const struct plan_node *n)
{
    if (n->first_child == PLAN_NONE_IDX)
        return NULL;
    uint32_t i = p->nodes[n->first_child].next_sibling;
    if (i == PLAN_NONE_IDX)
        return NULL;
    const struct plan_node *in = &p->nodes[i];
    if (type_is(in, "Materialize") && in->first_child != PLAN_NONE_IDX)
        in = &p->nodes[in->first_child];
    return in;
}

static void nested_loop(struct ctx *c, const struct plan_node *n)
{
    if (!type_is(n, "Nested Loop"))
        return;
    const struct plan_node *in = inner_scan(c->p, n);
    if (!in || !type_is(in, "Seq Scan") || in->actual_loops < 0)
        return;
    /* Under a Materialize the scan itself runs once; the loops are the Materialize's. */
    const struct plan_node *looped =
        in->parent != PLAN_NONE_IDX && type_is(&c->p->nodes[in->parent], "Materialize")
            ? &c->p->nodes[in->parent]
            : in;
    double loops = looped->actual_loops;
    double rows =
        type_is(looped, "Materialize") ? looped->actual_rows * loops : plan_node_rows_read(in);
    if (loops < PLAN_NESTLOOP_MIN_LOOPS || rows < PLAN_NESTLOOP_MIN_ROWS)
        return;
    if (bare(c, PLAN_INSIGHT_NESTED_LOOP))
        return;
    bool mat = looped != in;
    const struct plan_node *outer = &c->p->nodes[n->first_child];
    double outer_rows = outer->actual_rows * (outer->actual_loops > 0 ? outer->actual_loops : 1);
    double factor;
    bool under;
    sbuf_reset(&c->label);
    (void)!plan_node_label(in, &c->label);
    begin(c);
    if (mat)
        (void)!sbuf_addf(&c->expl,
                         "The nested loop reads its inner side (%s, kept by a Materialize: "
                         "the scan ran once) %.0f times, going through %.0f rows in total. ",
                         c->label.buf, loops, rows);
    else
        (void)!sbuf_addf(&c->expl,
                         "The nested loop runs its inner side (%s) %.0f times, going through "
                         "%.0f rows in total. ",
                         c->label.buf, loops, rows);
    (void)!sbuf_addstr(&c->expl, "An index on the join columns of the inner table turns each "
                                 "loop into an index lookup");
    /* The outer side's estimate decides whether the planner was misled into the loop. */
    if (misestimated(c->p, outer, &factor, &under) && under)
        (void)!sbuf_addf(&c->expl,
                         "; the outer side returned %.0f rows where %.0f were estimated, "
                         "which may also have made the planner pick a nested loop over a "
                         "hash join.",
                         outer_rows,
                         outer->plan_rows * (outer->actual_loops > 0 ? outer->actual_loops : 1));
    else
        (void)!sbuf_addf(&c->expl, " (the outer side returned %.0f rows).", outer_rows);
    ev_node(&c->evid, n);
    ev_text(&c->evid, "Join Filter", n->join_filter);
    ev_num(&c->evid, "Rows Removed by Join Filter", n->rows_removed_join_filter);
    (void)!sbuf_addstr(&c->evid, "\n  ->  ");
    if (mat) {
        ev_node(&c->evid, looped);
        (void)!sbuf_addstr(&c->evid, "\n        ->  ");
    }
    ev_node(&c->evid, in);
    ev_text(&c->evid, "Filter", in->filter);
    ev_num(&c->evid, "Rows Removed by Filter", in->rows_removed_filter);
    emit(c, PLAN_INSIGHT_NESTED_LOOP, n)->impact_ms = plan_node_ms(n);
}

static void lossy(struct ctx *c, const struct plan_node *n)
{
    if (!type_is(n, "Bitmap Heap Scan") || n->lossy_blocks <= 0)
        return;
    if (bare(c, PLAN_INSIGHT_LOSSY_BITMAP))
        return;
    double exact = n->exact_blocks > 0 ? n->exact_blocks : 0;
    begin(c);
    (void)!sbuf_addf(&c->expl,
                     "The bitmap did not fit in work_mem and went lossy on %.0f of %.0f heap "
                     "blocks: every row of a lossy block is rechecked against the condition%s. "
                     "Raise work_mem for this query, or make the condition more selective.",
                     n->lossy_blocks, n->lossy_blocks + exact,
                     n->rows_removed_recheck > 0 ? " (see Rows Removed by Index Recheck)" : "");
    ev_node(&c->evid, n);
    ev_text(&c->evid, "Recheck Cond", n->recheck_cond);
    ev_num(&c->evid, "Rows Removed by Index Recheck", n->rows_removed_recheck);
    (void)!sbuf_addf(&c->evid, "\n  Heap Blocks: exact=%.0f lossy=%.0f", exact, n->lossy_blocks);
    emit(c, PLAN_INSIGHT_LOSSY_BITMAP, n)->impact_ms = plan_node_ms(n);
}

static void workers(struct ctx *c, const struct plan_node *n)
{
    if (n->workers_planned <= 0 || n->workers_launched < 0 ||
        n->workers_launched >= n->workers_planned)
        return;
    if (bare(c, PLAN_INSIGHT_WORKERS))
        return;
    begin(c);
    (void)!sbuf_addf(&c->expl,
                     "%.*s planned %.0f parallel workers but launched %.0f: the pool "
                     "(max_parallel_workers, max_worker_processes) was exhausted when the "
                     "query started, so it ran with less parallelism than its plan assumed.",
                     (int)n->type.len, n->type.p, n->workers_planned, n->workers_launched);
    ev_node(&c->evid, n);
    ev_num(&c->evid, "Workers Planned", n->workers_planned);
    ev_num(&c->evid, "Workers Launched", n->workers_launched);
    emit(c, PLAN_INSIGHT_WORKERS, n)->impact_ms = plan_node_ms(n);
}

/* Execution time the shares are taken of: the record's duration, else the root's time. */
static double base_ms(const struct ctx *c)
{
    if (c->duration_ms > 0)
        return c->duration_ms;
    return c->p->n_nodes ? plan_node_ms(&c->p->nodes[0]) : -1;
}

static void jit(struct ctx *c)
{
    const struct plan *p = c->p;
    double base = base_ms(c);

    if (p->jit_total_ms < PLAN_JIT_MIN_MS || base <= 0 ||
        p->jit_total_ms < base * PLAN_JIT_MIN_SHARE)
        return;
    if (bare(c, PLAN_INSIGHT_JIT))
        return;
    begin(c);
    (void)!sbuf_addf(&c->expl,
                     "JIT compilation took %.1f ms of the %.1f ms execution (%.0f%%), more than "
                     "it could save on a query this short. Raise jit_above_cost (and "
                     "jit_inline_above_cost, jit_optimize_above_cost) or set jit = off for "
                     "this workload.",
                     p->jit_total_ms, base, 100.0 * p->jit_total_ms / base);
    (void)!sbuf_addstr(&c->evid, "JIT:");
    if (p->jit_functions >= 0)
        (void)!sbuf_addf(&c->evid, "\n  Functions: %.0f", p->jit_functions);
    (void)!sbuf_addstr(&c->evid, "\n  Timing:");
    if (p->jit_generation_ms >= 0)
        (void)!sbuf_addf(&c->evid, " Generation %.3f ms,", p->jit_generation_ms);
    if (p->jit_inlining_ms >= 0)
        (void)!sbuf_addf(&c->evid, " Inlining %.3f ms,", p->jit_inlining_ms);
    if (p->jit_optimization_ms >= 0)
        (void)!sbuf_addf(&c->evid, " Optimization %.3f ms,", p->jit_optimization_ms);
    if (p->jit_emission_ms >= 0)
        (void)!sbuf_addf(&c->evid, " Emission %.3f ms,", p->jit_emission_ms);
    (void)!sbuf_addf(&c->evid, " Total %.3f ms", p->jit_total_ms);
    emit(c, PLAN_INSIGHT_JIT, NULL)->impact_ms = p->jit_total_ms;
}

static void triggers(struct ctx *c)
{
    const struct plan *p = c->p;
    double base = base_ms(c);

    for (uint32_t i = 0; i < p->n_triggers; i++) {
        const struct plan_trigger *t = &p->triggers[i];
        if (t->time_ms < PLAN_TRIGGER_MIN_MS || base <= 0 ||
            t->time_ms < base * PLAN_TRIGGER_MIN_SHARE)
            continue;
        if (bare(c, PLAN_INSIGHT_TRIGGER))
            continue;
        begin(c);
        /* A constraint trigger's own name (RI_ConstraintTrigger_a_16445) is internal: text
         * plans leave it out, so do we. */
        bool named = t->name.p && !t->constraint.p;
        (void)!sbuf_addstr(&c->expl, "Trigger");
        if (named)
            (void)!sbuf_addf(&c->expl, " %.*s", (int)t->name.len, t->name.p);
        if (t->constraint.p)
            (void)!sbuf_addf(&c->expl, " for constraint %.*s", (int)t->constraint.len,
                             t->constraint.p);
        if (t->relation.p)
            (void)!sbuf_addf(&c->expl, " on %.*s", (int)t->relation.len, t->relation.p);
        (void)!sbuf_addf(&c->expl,
                         " took %.1f ms over %.0f calls (%.0f%% of the %.1f ms "
                         "execution).",
                         t->time_ms, t->calls > 0 ? t->calls : 0, 100.0 * t->time_ms / base, base);
        if (t->constraint.p)
            (void)!sbuf_addstr(&c->expl,
                               " A foreign key's check runs once per row; without an index on "
                               "the referencing columns each check scans the referencing "
                               "table.");
        (void)!sbuf_addstr(&c->evid, "Trigger");
        if (named)
            (void)!sbuf_addf(&c->evid, " %.*s", (int)t->name.len, t->name.p);
        if (t->constraint.p)
            (void)!sbuf_addf(&c->evid, " for constraint %.*s", (int)t->constraint.len,
                             t->constraint.p);
        if (t->relation.p)
            (void)!sbuf_addf(&c->evid, " on %.*s", (int)t->relation.len, t->relation.p);
        (void)!sbuf_addf(&c->evid, ": time=%.3f calls=%.0f", t->time_ms,
                         t->calls > 0 ? t->calls : 0);
        struct plan_insight *in = emit(c, PLAN_INSIGHT_TRIGGER, NULL);
        in->impact_ms = t->time_ms;
        struct sbuf nm = SBUF_INIT;
        (void)!sbuf_addstr(&nm, "Trigger");
        if (named)
            (void)!sbuf_addf(&nm, " %.*s", (int)t->name.len, t->name.p);
        else if (t->constraint.p)
            (void)!sbuf_addf(&nm, " for constraint %.*s", (int)t->constraint.len, t->constraint.p);
        in->node = arena_sbuf(c->a, &nm);
        sbuf_release(&nm);
    }
}

bool plan_insights_use_duration(const struct plan *p)
{
    /* the negations of the first tests of jit() and triggers(), NaN included */
    if (!(p->jit_total_ms < PLAN_JIT_MIN_MS))
        return true;
    for (uint32_t i = 0; i < p->n_triggers; i++)
        if (!(p->triggers[i].time_ms < PLAN_TRIGGER_MIN_MS))
            return true;
    return false;
}

static void insights(const struct plan *p, double duration_ms, struct arena *a,
                     struct plan_analysis *pa, bool kinds_only)
{
    struct ctx c = { p, a, pa, 0, SBUF_INIT, SBUF_INIT, SBUF_INIT, duration_ms, kinds_only };

    pa->insights = NULL;
    pa->n_insights = 0;
    sbuf_init(&c.expl, 64 << 10);
    sbuf_init(&c.evid, 64 << 10);
    sbuf_init(&c.label, 4 << 10);
    /* Children follow their parent in the node array: one backward pass fills below[]. */
    bool *below = arena_alloc(a, (size_t)p->n_nodes + 1);
    memset(below, 0, (size_t)p->n_nodes + 1);
    for (uint32_t i = p->n_nodes; i-- > 1;) {
        double f;
        bool under, self = misestimated(p, &p->nodes[i], &f, &under);
        uint32_t par = p->nodes[i].parent;
        if (par != PLAN_NONE_IDX && (self || below[i]))
            below[par] = true;
    }
    for (uint32_t i = 0; i < p->n_nodes; i++) {
        const struct plan_node *n = &p->nodes[i];
        seq_scan(&c, n);
        misestimate(&c, i, below);
        sort_spill(&c, n);
        hash_spill(&c, n);
        nested_loop(&c, n);
        lossy(&c, n);
        workers(&c, n);
    }
    jit(&c);
    triggers(&c);
    sbuf_release(&c.expl);
    sbuf_release(&c.evid);
    sbuf_release(&c.label);
}

void plan_insights(const struct plan *p, double duration_ms, struct arena *a,
                   struct plan_analysis *pa)
{
    insights(p, duration_ms, a, pa, false);
}

void plan_insight_kinds(const struct plan *p, double duration_ms, struct arena *a,
                        struct plan_analysis *pa)
{
    insights(p, duration_ms, a, pa, true);
}
