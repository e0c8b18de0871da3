/* SPDX-License-Identifier: MIT */
/*
 * plan_text.c - auto_explain text plans (explain.c ExplainNode() with
 * EXPLAIN_FORMAT_TEXT; formats.md section 8.2).
 *
 * Layout: header lines ("Query Text: ...", which may span lines, "Query Parameters:"),
 * the root node at column 0 with "  (cost=", then node lines "->  " whose arrow sits at
 * the column of their parent's properties, properties two spaces deeper than an
 * arrow's text (root: column 2), sub-plan labels ("InitPlan 1 (returns $0)",
 * "SubPlan 1", "CTE x") at the parent's property column with the node's arrow two
 * columns further, "Worker N:  ..." lines, and trailer blocks at column 0 ("Settings:",
 * "Trigger ...: time=... calls=...", "JIT:" with its lines at column 2).
 *
 * A stderr continuation line keeps the TAB the logging collector put before it: one
 * leading TAB is dropped from every line.
 */
#include <string.h>

#include "classify/classify_int.h"
#include "classify/plan.h"
#include "core/limits.h"

struct open_node {
    uint32_t idx;
    size_t prop_col; /* column of the node's properties (and of its children's arrows) */
};

struct text_parser {
    struct plan *p;
    struct arena *a;
    struct open_node stack[SIFT_MAX_PLAN_DEPTH];
    size_t depth;
    struct span label; /* pending sub-plan label */
    size_t label_col;
    bool worker; /* inside a "Worker N:" block */
    size_t worker_col;
    bool jit;        /* inside the trailer "JIT:" block */
    bool skipping;   /* a node beyond the depth/node bound: skip its subtree */
    size_t skip_col; /* ... whose arrow was at this column */
};

static struct span next_line(struct span *rest)
{
    struct span line = line_first(*rest, rest);

    if (line.len && line.p[0] == '\t')
        line = cur_skip(line, 1);
    while (line.len && line.p[line.len - 1] == '\r')
        line.len--;
    return line;
}

static size_t indent_of(struct span line)
{
    size_t i = 0;

    while (i < line.len && line.p[i] == ' ')
        i++;
    return i;
}

/* Length of the run of digits and dots at the start of @s. */
static size_t strspn_digits(struct span s)
{
    size_t n = 0;

    while (n < s.len && (is_digit(s.p[n]) || s.p[n] == '.'))
        n++;
    return n;
}

static bool is_root_line(struct span line)
{
    return line.len && line.p[0] != ' ' && span_find(line, 0, LIT("  (cost=")) >= 0;
}

/* "name=value" inside a parenthesised group: the number after "name=". */
static bool num_after(struct span s, const char *name, double *out)
{
    struct span nm = span_cstr(name);
    long i = span_find(s, 0, nm);

    while (i > 0 && s.p[i - 1] != ' ' && s.p[i - 1] != '(' && s.p[i - 1] != ',')
        i = span_find(s, (size_t)i + 1, nm);
    if (i < 0)
        return false;
    struct span v = cur_skip(s, (size_t)i + nm.len);
    size_t n = 0;
    while (n < v.len &&
           (is_digit(v.p[n]) || v.p[n] == '.' || v.p[n] == 'e' || v.p[n] == 'E' || v.p[n] == '+'))
        n++;
    /* "time=0.011..2.435": the first number ends at ".." */
    long dots = span_find(span_make(v.p, n), 0, LIT(".."));
    if (dots >= 0)
        n = (size_t)dots;
    return plan_num(span_make(v.p, n), out);
}

/* The second number of "time=a..b". */
static bool num_range_end(struct span s, const char *name, double *out)
{
    struct span nm = span_cstr(name);
    long i = span_find(s, 0, nm);

    if (i < 0)
        return false;
    long dots = span_find(s, (size_t)i, LIT(".."));
    if (dots < 0)
        return false;
    struct span v = cur_skip(s, (size_t)dots + 2);
    size_t n = 0;
    while (n < v.len && (is_digit(v.p[n]) || v.p[n] == '.'))
        n++;
    return plan_num(span_make(v.p, n), out);
}

/* The number EXPLAIN prints at the start of *@s ("12", "0.011"): digits, optionally a
 * dot and digits; moves *@s past it. */
static bool plain_num(struct span *s, struct span *out)
{
    size_t n = 0;

    while (n < s->len && is_digit(s->p[n]))
        n++;
    if (!n)
        return false;
    if (n + 1 < s->len && s->p[n] == '.' && is_digit(s->p[n + 1])) {
        n++;
        while (n < s->len && is_digit(s->p[n]))
            n++;
    }
    *out = span_make(s->p, n);
    *s = cur_skip(*s, n);
    return true;
}

/* "@name<a>..<b>" at the start of *@s (b: the end of "time=a..b"); moves past it. */
static bool plain_range(struct span *s, const char *name, double *a, double *b)
{
    struct span x, y;

    return cur_eat(s, span_cstr(name)) && plain_num(s, &x) && cur_eat_lit(s, "..") &&
           plain_num(s, &y) && plan_num(x, a) && plan_num(y, b);
}

/* "@name<n>" at the start of *@s; moves past it. */
static bool plain_field(struct span *s, const char *name, double *v)
{
    struct span x;

    return cur_eat(s, span_cstr(name)) && plain_num(s, &x) && plan_num(x, v);
}

/*
 * The groups as EXPLAIN prints them, read in one pass: @costs exactly "(cost=a..b rows=r
 * width=w", @actual exactly " (actual time=a..b rows=r loops=l)" or " (actual rows=r
 * loops=l)". Each number is the span the general path (num_after(), num_range_end())
 * finds in such a text, so the values are the same. Returns false, with @n untouched,
 * for anything else: the general path reads it then.
 */
static bool node_numbers_plain(struct text_parser *tp, struct plan_node *n, struct span costs,
                               struct span actual)
{
    double sc, tc, pr, pw, as = 0, at = 0, ar, al;

    if (!plain_range(&costs, "(cost=", &sc, &tc) || !cur_eat_lit(&costs, " ") ||
        !plain_field(&costs, "rows=", &pr) || !cur_eat_lit(&costs, " ") ||
        !plain_field(&costs, "width=", &pw) || costs.len)
        return false;
    if (!cur_eat_lit(&actual, " (actual "))
        return false;
    bool timing = span_starts_with_lit(actual, "time=");
    if (timing && (!plain_range(&actual, "time=", &as, &at) || !cur_eat_lit(&actual, " ")))
        return false;
    if (!plain_field(&actual, "rows=", &ar) || !cur_eat_lit(&actual, " ") ||
        !plain_field(&actual, "loops=", &al) || !span_eq_lit(actual, ")"))
        return false;
    n->startup_cost = sc;
    n->total_cost = tc;
    n->plan_rows = pr;
    n->plan_width = pw;
    if (timing) {
        n->actual_startup_ms = as;
        n->actual_total_ms = at;
        tp->p->timing = true;
    }
    n->actual_rows = ar;
    n->actual_loops = al;
    tp->p->analyzed = true;
    return true;
}

/* A node line's text (after the arrow): label, costs and actuals. */
static void node_line(struct text_parser *tp, struct plan_node *n, struct span s)
{
    long c = span_find(s, 0, LIT("  (cost="));
    struct span label, costs = SPAN_NULL, actual = SPAN_NULL;

    if (c >= 0) {
        label = span_make(s.p, (size_t)c);
        struct span rest = cur_skip(s, (size_t)c + 2);
        long e = span_find_char(rest, 0, ')');
        costs = e >= 0 ? span_make(rest.p, (size_t)e) : rest;
        actual = e >= 0 ? cur_skip(rest, (size_t)e + 1) : SPAN_NULL;
    } else {
        long e = span_find(s, 0, LIT(" (actual "));
        if (e < 0)
            e = span_find(s, 0, LIT(" (never executed)"));
        label = e >= 0 ? span_make(s.p, (size_t)e) : s;
        actual = e >= 0 ? cur_skip(s, (size_t)e) : SPAN_NULL;
    }
    plan_text_label(n, span_rtrim(label), tp->a);
    if (costs.p && actual.p && node_numbers_plain(tp, n, costs, actual))
        return;
    if (costs.p) {
        double v;
        if (num_after(costs, "cost=", &v))
            n->startup_cost = v;
        if (num_range_end(costs, "cost=", &v))
            n->total_cost = v;
        if (num_after(costs, "rows=", &v))
            n->plan_rows = v;
        if (num_after(costs, "width=", &v))
            n->plan_width = v;
    }
    if (actual.p && span_find(actual, 0, LIT("(never executed)")) >= 0) {
        n->never_executed = true;
        n->actual_rows = 0;
        n->actual_loops = 0;
        tp->p->analyzed = true;
    } else if (actual.p && span_find(actual, 0, LIT("(actual ")) >= 0) {
        double v;
        if (num_after(actual, "time=", &v)) {
            n->actual_startup_ms = v;
            tp->p->timing = true;
        }
        if (num_range_end(actual, "time=", &v))
            n->actual_total_ms = v;
        if (num_after(actual, "rows=", &v))
            n->actual_rows = v;
        if (num_after(actual, "loops=", &v))
            n->actual_loops = v;
        tp->p->analyzed = true;
    }
}

/* "shared hit=1 read=2 dirtied=3 written=4, local ..., temp read=5 written=6" */
static void buffers(struct plan_node *n, struct span v)
{
    struct span part, rest = v;

    while (rest.len) {
        long comma = span_find(rest, 0, LIT(", "));
        part = comma >= 0 ? span_make(rest.p, (size_t)comma) : rest;
        rest = comma >= 0 ? cur_skip(rest, (size_t)comma + 2) : SPAN_NULL;
        part = span_trim(part);
        double *hit = NULL, *read = NULL, *dirtied = NULL, *written = NULL;
        if (cur_eat_lit(&part, "shared")) {
            hit = &n->shared_hit, read = &n->shared_read;
            dirtied = &n->shared_dirtied, written = &n->shared_written;
        } else if (cur_eat_lit(&part, "local")) {
            hit = &n->local_hit, read = &n->local_read;
            dirtied = &n->local_dirtied, written = &n->local_written;
        } else if (cur_eat_lit(&part, "temp")) {
            read = &n->temp_read, written = &n->temp_written;
        } else {
            continue;
        }
        double x;
        if (hit && num_after(part, "hit=", &x))
            *hit = x;
        if (read && num_after(part, "read=", &x))
            *read = x;
        if (dirtied && num_after(part, "dirtied=", &x))
            *dirtied = x;
        if (written && num_after(part, "written=", &x))
            *written = x;
    }
}

/* "Buckets: 1024 (originally 512)  Batches: 4 (originally 1)  Memory Usage: 9kB" and
 * hash aggregation's "[Planned Partitions: 4  ]Batches: 5  Memory Usage: 4145kB  Disk
 * Usage: 9000kB" (the whole property line). */
static void hash_line(struct plan_node *n, struct span line)
{
    double v;
    long i;

    if ((i = span_find(line, 0, LIT("Buckets: "))) >= 0 &&
        plan_num(span_make(line.p + i + 9, (size_t)strspn_digits(cur_skip(line, (size_t)i + 9))),
                 &v))
        n->hash_buckets = v;
    bool hashagg = n->type.p && span_eq_lit(n->type, "Aggregate");
    if ((i = span_find(line, 0, LIT("Batches: "))) >= 0) {
        struct span b = cur_skip(line, (size_t)i + 9);
        if (plan_num(span_make(b.p, strspn_digits(b)), &v)) {
            if (hashagg)
                n->hashagg_batches = v > n->hashagg_batches ? v : n->hashagg_batches;
            else
                n->hash_batches = v;
        }
        long o = span_find(b, 0, LIT("(originally "));
        long two = span_find(b, 0, LIT("  "));
        if (o >= 0 && (two < 0 || o < two)) {
            struct span ob = cur_skip(b, (size_t)o + 12);
            if (plan_num(span_make(ob.p, strspn_digits(ob)), &v))
                n->orig_hash_batches = v;
        } else if (!hashagg && n->hash_batches >= 0) {
            n->orig_hash_batches = n->hash_batches;
        }
    }
    if ((i = span_find(line, 0, LIT("Memory Usage: "))) >= 0) {
        struct span m = cur_skip(line, (size_t)i + 14);
        if (plan_num(span_make(m.p, strspn_digits(m)), &v) && v > n->peak_memory_kb)
            n->peak_memory_kb = v;
    }
    if ((i = span_find(line, 0, LIT("Disk Usage: "))) >= 0) {
        struct span m = cur_skip(line, (size_t)i + 12);
        if (plan_num(span_make(m.p, strspn_digits(m)), &v) && v > n->disk_usage_kb)
            n->disk_usage_kb = v;
    }
}

/* One property line of @n (after its indentation and any "Worker N:  " prefix). */
static void property(struct text_parser *tp, struct plan_node *n, struct span line, bool worker)
{
    long colon = span_find(line, 0, LIT(": "));
    struct span key, v;

    if (colon < 0) {
        if (span_starts_with_lit(line, "actual ")) /* verbose worker actuals */
            return;
        tp->p->unknown_lines++;
        return;
    }
    key = span_make(line.p, (size_t)colon);
    v = cur_skip(line, (size_t)colon + 2);
    if (span_eq_lit(key, "Sort Method")) {
        /* "external merge  Disk: 2168kB" / "quicksort  Memory: 25kB" */
        long two = span_find(v, 0, LIT("  "));
        struct span method = two >= 0 ? span_make(v.p, (size_t)two) : v;
        plan_node_set(tp->p, n, key, method, worker);
        if (two >= 0) {
            struct span sp = cur_skip(v, (size_t)two + 2);
            long c = span_find(sp, 0, LIT(": "));
            if (c >= 0) {
                struct span num = cur_skip(sp, (size_t)c + 2);
                double kb;
                if (plan_num(span_make(num.p, strspn_digits(num)), &kb)) {
                    n->sort_pending_kb = kb;
                    n->sort_pending_type = span_make(sp.p, (size_t)c);
                    plan_node_set(tp->p, n, LIT("Sort Space Type"), n->sort_pending_type, worker);
                }
            }
        }
    } else if (span_eq_lit(key, "Heap Blocks")) {
        double x;
        if (num_after(v, "exact=", &x))
            n->exact_blocks = x;
        if (num_after(v, "lossy=", &x))
            n->lossy_blocks = x;
        if (n->exact_blocks < 0)
            n->exact_blocks = 0;
        if (n->lossy_blocks < 0)
            n->lossy_blocks = 0;
    } else if (span_eq_lit(key, "Buckets") || span_eq_lit(key, "Batches") ||
               span_eq_lit(key, "Planned Partitions")) {
        hash_line(n, line);
    } else if (span_eq_lit(key, "Buffers")) {
        if (!worker)
            buffers(n, v);
        tp->p->buffers = true;
    } else if (span_eq_lit(key, "I/O Timings")) {
        double x;
        if (!worker && num_after(v, "read=", &x))
            n->io_read_ms = x;
        if (!worker && num_after(v, "write=", &x))
            n->io_write_ms = x;
    } else {
        /* Filter, Index Cond, Rows Removed by ..., Workers Planned/Launched, Sort Key,
         * Heap Fetches, ...: the same names and values as the structured formats. */
        plan_node_set(tp->p, n, key, v, worker);
    }
}

/* "Trigger NAME[ for constraint CON][ on REL]: time=X calls=Y" (report_triggers()); the
 * name is left out in text for constraint triggers unless verbose. */
static void trigger_line(struct text_parser *tp, struct span line)
{
    long colon = span_find_last(line, LIT(": "));
    struct plan_trigger *t;

    if (colon < 0 || !(t = plan_add_trigger(tp->p, tp->a)))
        return;
    struct span head = span_make(line.p + 7, (size_t)colon - 7); /* after "Trigger" */
    struct span stats = cur_skip(line, (size_t)colon + 2);
    long on = span_find_last(head, LIT(" on "));
    long fc = span_find(head, 0, LIT(" for constraint "));
    if (on >= 0 && on > fc) {
        t->relation = cur_skip(head, (size_t)on + 4);
        head = span_make(head.p, (size_t)on);
    }
    if (fc >= 0) {
        t->constraint = cur_skip(head, (size_t)fc + 16);
        head = span_make(head.p, (size_t)fc);
    }
    head = span_trim(head);
    if (head.len)
        t->name = head;
    double x;
    if (num_after(stats, "time=", &x))
        t->time_ms = x;
    if (num_after(stats, "calls=", &x))
        t->calls = x;
}

/* "Timing: Generation 1.2 ms[ (Deform 0.1 ms)], Inlining 0.0 ms, ..., Total 5.6 ms" */
static void jit_line(struct text_parser *tp, struct span line)
{
    static const char *const names[] = { "Generation", "Inlining", "Optimization", "Emission",
                                         "Total" };
    long colon = span_find(line, 0, LIT(": "));

    if (colon < 0)
        return;
    struct span key = span_make(line.p, (size_t)colon), v = cur_skip(line, (size_t)colon + 2);
    if (span_eq_lit(key, "Functions")) {
        plan_jit_set(tp->p, key, v);
        return;
    }
    if (!span_eq_lit(key, "Timing"))
        return;
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        struct span nm = span_cstr(names[i]);
        long at = span_find(v, 0, nm);
        while (at > 0 && v.p[at - 1] != ' ')
            at = span_find(v, (size_t)at + 1, nm);
        if (at < 0)
            continue;
        struct span num = cur_skip(v, (size_t)at + nm.len);
        if (!cur_eat_lit(&num, " "))
            continue;
        size_t n = 0;
        while (n < num.len && (is_digit(num.p[n]) || num.p[n] == '.'))
            n++;
        plan_jit_set(tp->p, nm, span_make(num.p, n));
    }
}

char plan_text_quote_after(struct span s, char q)
{
    for (size_t i = 0; i < s.len; i++) {
        if (q) {
            if (s.p[i] == q)
                q = 0;
        } else if (s.p[i] == '\'' || s.p[i] == '"') {
            q = s.p[i];
        }
    }
    return q;
}

static bool is_subplan_label(struct span s)
{
    return (span_starts_with_lit(s, "InitPlan ") || span_starts_with_lit(s, "SubPlan ") ||
            span_starts_with_lit(s, "CTE ")) &&
           span_find(s, 0, LIT(": ")) < 0;
}

static void open_node(struct text_parser *tp, struct span text, size_t arrow_col, uint32_t lineno)
{
    struct plan *p = tp->p;

    while (tp->depth && tp->stack[tp->depth - 1].prop_col > arrow_col)
        tp->depth--;
    if (!tp->depth) {
        p->unknown_lines++;
        return;
    }
    if (tp->depth >= SIFT_MAX_PLAN_DEPTH) {
        p->truncated = true;
        tp->skipping = true;
        tp->skip_col = arrow_col;
        return;
    }
    /* The arrow sits at the parent's property column, or two further after a sub-plan
     * label at that column; anything else is not EXPLAIN's layout. */
    size_t pcol = tp->stack[tp->depth - 1].prop_col;
    if (arrow_col != pcol && !(tp->label.p && tp->label_col == pcol && arrow_col == pcol + 2)) {
        p->unknown_lines++;
        tp->skipping = true;
        tp->skip_col = arrow_col;
        return;
    }
    uint32_t parent = tp->stack[tp->depth - 1].idx;
    uint32_t idx = plan_add_node(p, tp->a, parent);
    if (idx == PLAN_NONE_IDX) {
        tp->skipping = true;
        tp->skip_col = arrow_col;
        return;
    }
    struct plan_node *n = &p->nodes[idx];
    n->lineno = lineno;
    node_line(tp, n, text);
    if (tp->label.p && tp->label_col + 2 == arrow_col) {
        n->subplan_name = tp->label;
        n->parent_rel =
            span_starts_with_lit(tp->label, "SubPlan ") ? LIT("SubPlan") : LIT("InitPlan");
    }
    tp->label = SPAN_NULL;
    tp->worker = false;
    tp->stack[tp->depth++] = (struct open_node){ idx, arrow_col + 6 };
}

int plan_parse_text(struct plan *p, struct span body, struct arena *a)
{
    struct text_parser tp;
    struct span rest = body, line;
    uint32_t lineno = 0;
    bool root = false;
    const char *qbeg = NULL, *qend = NULL;

    plan_reset(p, PLAN_TEXT);
    memset(&tp, 0, sizeof(tp));
    tp.p = p;
    tp.a = a;

    /* Header: up to the root node. */
    while (rest.len) {
        const char *bol = rest.p;
        line = next_line(&rest);
        lineno++;
        if (is_root_line(line)) {
            if (qbeg && !qend) /* keep the end "Query Parameters: " set */
                qend = bol;
            uint32_t idx = plan_add_node(p, a, PLAN_NONE_IDX);
            struct plan_node *n = &p->nodes[idx];
            n->lineno = lineno;
            node_line(&tp, n, line);
            tp.stack[tp.depth++] = (struct open_node){ idx, 2 };
            root = true;
            break;
        }
        if (!qbeg && span_starts_with_lit(line, "Query Text: ")) {
            /* The first one only: a later "Query Text: " line is part of the query (a
             * multi-line literal) or junk, and must not move qbeg past a qend already
             * set by "Query Parameters: ". */
            qbeg = line.p + 12;
        } else if (span_starts_with_lit(line, "Query Parameters: ") && qbeg && !qend) {
            qend = bol;
        }
    }
    if (qbeg)
        p->query = span_rtrim(span_make(qbeg, (size_t)((qend ? qend : body.p + body.len) - qbeg)));
    if (!root) {
        p->error = "no plan node (a line with \"  (cost=\" at column 0)";
        p->error_line = lineno;
        return -1;
    }

    while (rest.len) {
        line = next_line(&rest);
        lineno++;
        if (!span_trim(line).len)
            continue;
        size_t col = indent_of(line);
        struct span text = cur_skip(line, col);
        if (!span_starts_with_lit(text, "->  ") && !span_starts_with_lit(text, "Trigger ")) {
            /* a literal with line breaks ("Filter: (note = 'a<LF>b'::text)"): its
             * later lines belong to this one, whatever their indentation */
            for (char q = plan_text_quote_after(text, 0); q && rest.len;) {
                struct span more = next_line(&rest);
                lineno++;
                text = span_make(text.p, (size_t)(more.p + more.len - text.p));
                q = plan_text_quote_after(more, q);
            }
        }

        if (tp.skipping) {
            if (col > tp.skip_col)
                continue;
            tp.skipping = false;
        }
        if (col == 0) {
            tp.jit = false;
            tp.depth = 0; /* the tree is over */
            if (span_eq_lit(text, "JIT:"))
                tp.jit = true;
            else if (span_starts_with_lit(text, "Trigger "))
                trigger_line(&tp, text);
            else if (span_starts_with_lit(text, "Settings: "))
                p->settings = cur_skip(text, 10);
            else if (span_find(text, 0, LIT(": ")) < 0)
                p->unknown_lines++;
            continue;
        }
        if (tp.jit) {
            jit_line(&tp, text);
            continue;
        }
        if (span_starts_with_lit(text, "->  ")) {
            open_node(&tp, cur_skip(text, 4), col, lineno);
            continue;
        }
        if (!tp.depth) {
            p->unknown_lines++;
            continue;
        }
        struct open_node *top = &tp.stack[tp.depth - 1];
        if (col > top->prop_col) {
            /* verbose per-worker blocks continue two columns deeper */
            if (tp.worker && col > tp.worker_col)
                property(&tp, &p->nodes[top->idx], text, true);
            else
                p->unknown_lines++;
            continue;
        }
        while (tp.depth > 1 && tp.stack[tp.depth - 1].prop_col > col)
            tp.depth--;
        top = &tp.stack[tp.depth - 1];
        if (top->prop_col != col) {
            p->unknown_lines++;
            continue;
        }
        struct plan_node *n = &p->nodes[top->idx];
        if (is_subplan_label(text)) {
            tp.label = text;
            tp.label_col = col;
            continue;
        }
        if (span_starts_with_lit(text, "Worker ")) {
            long c = span_find(text, 0, LIT(":  "));
            if (c > 0) {
                tp.worker = true;
                tp.worker_col = col;
                property(&tp, n, cur_skip(text, (size_t)c + 3), true);
                continue;
            }
        }
        tp.worker = false;
        property(&tp, n, text, false);
    }
    return 0;
}
