/* SPDX-License-Identifier: MIT */
/*
 * plan_index.c - index suggestions from a plan's own numbers (a heuristic, and said to
 * be one: docs/plans.md).
 *
 * Where a scan reads many rows to return few (a Seq Scan with a selective Filter, an
 * index scan whose Filter throws most fetched rows away, or the inner Seq Scan of a
 * nested loop), the columns its conditions restrict with index-usable operators make
 * a B-tree key: equality columns first (in the order the plan prints them), then one
 * range column. The estimated saving scales the scan's own time by the share of rows
 * it would still fetch, each at PLAN_INDEX_RANDOM_FACTOR the cost of a sequential one.
 *
 * Conditions are read as EXPLAIN deparses them: "((a = 1) AND (b > $1))",
 * "((status)::text = 'x'::text)", "(kind = ANY ('{1,2}'::integer[]))",
 * "(o.user_id = u.id)". Only top-level AND conjuncts of `column op value` count, where
 * value holds no column of the scanned table; OR, functions of columns, LIKE and <>
 * are skipped.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "classify/classify_int.h"
#include "classify/plan.h"

/* ---------------------------------------------------------------- lexing helpers */

static bool ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (unsigned char)c >= 0x80;
}

static bool ident_char(char c)
{
    return ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}

/* Index just past the quoted text starting at @i ('...' or "..."), doubled quotes kept
 * inside; s.len when unterminated. */
static size_t skip_quoted(struct span s, size_t i)
{
    char q = s.p[i];

    for (i++; i < s.len; i++) {
        if (s.p[i] != q)
            continue;
        if (i + 1 < s.len && s.p[i + 1] == q) {
            i++;
            continue;
        }
        return i + 1;
    }
    return s.len;
}

/* Strip parentheses enclosing the whole span. */
static struct span strip_parens(struct span s)
{
    for (;;) {
        s = span_trim(s);
        if (s.len < 2 || s.p[0] != '(' || s.p[s.len - 1] != ')')
            return s;
        size_t depth = 0, i;
        for (i = 0; i < s.len; i++) {
            char c = s.p[i];
            if (c == '\'' || c == '"') {
                i = skip_quoted(s, i) - 1;
                continue;
            }
            if (c == '(')
                depth++;
            else if (c == ')' && --depth == 0)
                break;
        }
        if (i != s.len - 1)
            return s; /* "(a) = (b)": the first ')' closes early */
        s = span_make(s.p + 1, s.len - 2);
    }
}

/* Split @s at top-level occurrences of @word (" AND "); returns the number of parts
 * (at most @max) and -1 if @other (" OR ") occurs at top level. */
static long split_top(struct span s, struct span word, struct span other, struct span *parts,
                      size_t max)
{
    size_t depth = 0, start = 0, n = 0;

    for (size_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        if (c == '\'' || c == '"') {
            i = skip_quoted(s, i) - 1;
            continue;
        }
        if (c == '(' || c == '[') {
            depth++;
        } else if ((c == ')' || c == ']') && depth) {
            depth--;
        } else if (depth == 0 && c == ' ') {
            struct span at = span_make(s.p + i, s.len - i);
            if (span_starts_with(at, other))
                return -1;
            if (span_starts_with(at, word)) {
                if (n < max)
                    parts[n++] = span_make(s.p + start, i - start);
                start = i + word.len;
                i = start - 1;
            }
        }
    }
    if (n < max)
        parts[n++] = span_make(s.p + start, s.len - start);
    return (long)n;
}

struct colref {
    struct span qual, name; /* decoded */
};

static bool read_ident(struct span s, size_t *i, struct arena *a, struct span *out)
{
    if (*i >= s.len)
        return false;
    if (s.p[*i] == '"') {
        size_t end = skip_quoted(s, *i);
        if (end > s.len || end < *i + 2 || s.p[end - 1] != '"')
            return false;
        struct span raw = span_make(s.p + *i + 1, end - *i - 2);
        *i = end;
        if (span_find(raw, 0, LIT("\"\"")) < 0) {
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
    if (!ident_start(s.p[*i]))
        return false;
    size_t b = *i;
    while (*i < s.len && ident_char(s.p[*i]))
        (*i)++;
    *out = span_make(s.p + b, *i - b);
    return true;
}

/* Drop a trailing top-level cast "::type" (types may have spaces: "timestamp without
 * time zone", "character varying"). */
static struct span strip_cast(struct span s)
{
    size_t depth = 0;
    long cast = -1;

    for (size_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        if (c == '\'' || c == '"') {
            i = skip_quoted(s, i) - 1;
            continue;
        }
        if (c == '(' || c == '[')
            depth++;
        else if ((c == ')' || c == ']') && depth)
            depth--;
        else if (depth == 0 && c == ':' && i + 1 < s.len && s.p[i + 1] == ':' && cast < 0)
            cast = (long)i;
    }
    return cast >= 0 ? span_make(s.p, (size_t)cast) : s;
}

/* A bare column reference (after parentheses and casts): ident or ident.ident. */
static bool as_colref(struct span s, struct arena *a, struct colref *out)
{
    s = strip_parens(strip_cast(strip_parens(s)));
    size_t i = 0;
    struct span first;

    if (!read_ident(s, &i, a, &first))
        return false;
    out->qual = SPAN_NULL;
    out->name = first;
    if (i < s.len && s.p[i] == '.') {
        i++;
        if (!read_ident(s, &i, a, &out->name))
            return false;
        out->qual = first;
    }
    return i == s.len && !span_eq_icase(out->name, LIT("null")) &&
           !span_eq_icase(out->name, LIT("true")) && !span_eq_icase(out->name, LIT("false"));
}

static bool is_own(const struct colref *c, struct span alias, struct span relation)
{
    return !c->qual.p || (alias.p && span_eq(c->qual, alias)) ||
           (relation.p && span_eq(c->qual, relation));
}

static const char *const value_words[] = {
    "null",         "true",
    "false",        "and",
    "or",           "not",
    "any",          "all",
    "array",        "current_date",
    "current_time", "current_timestamp",
    "localtime",    "localtimestamp",
    "current_user", "session_user",
    "interval",     "is",
    "distinct",     "from",
};

/* True when @s holds no column of the scanned table: constants, parameters, function
 * calls, casts, and columns qualified with another alias (a nested loop's outer side). */
static bool is_value(struct span s, struct span alias, struct span relation, struct arena *a)
{
    for (size_t i = 0; i < s.len;) {
        char c = s.p[i];
        if (c == '\'') {
            i = skip_quoted(s, i);
            continue;
        }
        if (c == ':' && i + 1 < s.len && s.p[i + 1] == ':') {
            /* a cast: skip the type name (words, spaces, dots, brackets, typmods) */
            i += 2;
            while (i < s.len && (ident_char(s.p[i]) || s.p[i] == ' ' || s.p[i] == '.' ||
                                 s.p[i] == '[' || s.p[i] == ']' || s.p[i] == '"'))
                i++;
            continue;
        }
        if (c == '$' || (c >= '0' && c <= '9')) {
            while (i < s.len && (ident_char(s.p[i]) || s.p[i] == '.'))
                i++;
            continue;
        }
        if (!(ident_start(c) || c == '"')) {
            i++;
            continue;
        }
        struct colref ref;
        struct span word;
        if (!read_ident(s, &i, a, &word))
            return false;
        ref.qual = SPAN_NULL;
        ref.name = word;
        if (i < s.len && s.p[i] == '.') {
            i++;
            ref.qual = word;
            if (!read_ident(s, &i, a, &ref.name))
                return false;
        }
        if (i < s.len && s.p[i] == '(')
            continue; /* function name */
        if (!ref.qual.p) {
            bool kw = false;
            for (size_t k = 0; k < ARRAY_SIZE(value_words) && !kw; k++)
                kw = span_eq_icase(word, span_cstr(value_words[k]));
            if (kw)
                continue;
        }
        if (is_own(&ref, alias, relation))
            return false;
    }
    return true;
}

struct opdef {
    const char *text;
    enum plan_cond_op op; /* 0: not index-usable */
};

/* Longest first. */
static const struct opdef ops[] = {
    { " IS NOT NULL", 0 },
    { " IS NULL", PLAN_COND_EQ },
    { " = ANY ", PLAN_COND_EQ },
    { " <> ", 0 },
    { " != ", 0 },
    { " <= ", PLAN_COND_RANGE },
    { " >= ", PLAN_COND_RANGE },
    { " < ", PLAN_COND_RANGE },
    { " > ", PLAN_COND_RANGE },
    { " = ", PLAN_COND_EQ },
};

/* One conjunct "col op value" (or "value op col"). */
static bool conjunct(struct span c, struct span alias, struct span relation, struct arena *a,
                     struct plan_cond_col *out)
{
    size_t depth = 0;

    c = strip_parens(c);
    for (size_t i = 0; i < c.len; i++) {
        char ch = c.p[i];
        if (ch == '\'' || ch == '"') {
            i = skip_quoted(c, i) - 1;
            continue;
        }
        if (ch == '(' || ch == '[') {
            depth++;
            continue;
        }
        if ((ch == ')' || ch == ']') && depth) {
            depth--;
            continue;
        }
        if (depth || ch != ' ')
            continue;
        struct span at = span_make(c.p + i, c.len - i);
        for (size_t k = 0; k < ARRAY_SIZE(ops); k++) {
            struct span op = span_cstr(ops[k].text);
            if (!span_starts_with(at, op))
                continue;
            if (!ops[k].op)
                return false;
            struct span lhs = span_make(c.p, i), rhs = cur_skip(at, op.len);
            struct colref ref;
            bool unary = span_eq_lit(op, " IS NULL");
            if (unary) {
                if (span_trim(rhs).len || !as_colref(lhs, a, &ref) ||
                    !is_own(&ref, alias, relation))
                    return false;
            } else if (as_colref(lhs, a, &ref) && is_own(&ref, alias, relation) &&
                       is_value(rhs, alias, relation, a)) {
                /* col op value */
            } else if (ops[k].op == PLAN_COND_EQ && !span_eq_lit(op, " = ANY ") &&
                       as_colref(rhs, a, &ref) && is_own(&ref, alias, relation) &&
                       is_value(lhs, alias, relation, a)) {
                /* value = col */
            } else if (ops[k].op == PLAN_COND_RANGE && as_colref(rhs, a, &ref) &&
                       is_own(&ref, alias, relation) && is_value(lhs, alias, relation, a)) {
                /* value < col */
            } else {
                return false;
            }
            out->column = ref.name;
            out->op = ops[k].op;
            return true;
        }
    }
    return false;
}

static size_t collect(struct span cond, struct span alias, struct span relation, struct arena *a,
                      struct plan_cond_col *out, size_t n, size_t max, unsigned depth)
{
    struct span parts[32];

    if (depth > 8)
        return n;
    long k = split_top(strip_parens(cond), LIT(" AND "), LIT(" OR "), parts, ARRAY_SIZE(parts));
    if (k < 0)
        return n;
    for (long i = 0; i < k && n < max; i++) {
        struct span part = strip_parens(parts[i]);
        struct span sub[2];
        if (split_top(part, LIT(" AND "), LIT(" OR "), sub, 2) > 1) {
            n = collect(part, alias, relation, a, out, n, max, depth + 1);
            continue;
        }
        if (conjunct(part, alias, relation, a, &out[n]))
            n++;
    }
    return n;
}

size_t plan_cond_columns(struct span cond, struct span alias, struct span relation, struct arena *a,
                         struct plan_cond_col *out, size_t max)
{
    if (!cond.p || !max)
        return 0;
    return collect(cond, alias, relation, a, out, 0, max, 0);
}

/* ---------------------------------------------------------------- suggestions */

static bool type_is(const struct plan_node *n, const char *t)
{
    return span_eq(n->type, span_cstr(t));
}

static int add_ident(struct sbuf *out, struct span id)
{
    bool plain = id.len > 0 && !(id.p[0] >= '0' && id.p[0] <= '9');

    for (size_t i = 0; i < id.len && plain; i++) {
        char c = id.p[i];
        plain = (c >= 'a' && c <= 'z') || c == '_' || (c >= '0' && c <= '9');
    }
    if (plain)
        return sbuf_addspan(out, id);
    int rc = sbuf_addch(out, '"');
    for (size_t i = 0; i < id.len; i++) {
        if (id.p[i] == '"')
            rc |= sbuf_addch(out, '"');
        rc |= sbuf_addch(out, id.p[i]);
    }
    return rc | sbuf_addch(out, '"');
}

struct adv {
    const struct plan *p;
    struct arena *a;
    struct plan_analysis *pa;
    size_t alloc_s, alloc_i;
};

/* Merge condition columns into the key: equality columns (deduplicated) first, then the
 * first range column not already in it. */
static size_t make_key(const struct plan_cond_col *cols, size_t n, struct span *key)
{
    size_t k = 0;

    for (size_t i = 0; i < n && k < PLAN_INDEX_MAX_COLUMNS; i++) {
        if (cols[i].op != PLAN_COND_EQ)
            continue;
        bool dup = false;
        for (size_t j = 0; j < k && !dup; j++)
            dup = span_eq(key[j], cols[i].column);
        if (!dup)
            key[k++] = cols[i].column;
    }
    for (size_t i = 0; i < n && k < PLAN_INDEX_MAX_COLUMNS; i++) {
        if (cols[i].op != PLAN_COND_RANGE)
            continue;
        bool dup = false;
        for (size_t j = 0; j < k && !dup; j++)
            dup = span_eq(key[j], cols[i].column);
        if (!dup) {
            key[k++] = cols[i].column;
            break;
        }
    }
    return k;
}

static struct span join_cols(struct arena *a, const struct span *cols, size_t n)
{
    struct sbuf sb = SBUF_INIT;
    int rc = 0;

    for (size_t i = 0; i < n; i++) {
        if (i)
            rc |= sbuf_addstr(&sb, ", ");
        rc |= add_ident(&sb, cols[i]);
    }
    (void)rc;
    struct span out = arena_dup(a, sb.buf, sb.len);
    sbuf_release(&sb);
    return out;
}

static struct span rel_name(struct arena *a, const struct plan_node *n)
{
    struct sbuf sb = SBUF_INIT;
    int rc = 0;

    if (n->schema.p) {
        rc |= add_ident(&sb, n->schema);
        rc |= sbuf_addch(&sb, '.');
    }
    rc |= add_ident(&sb, n->relation);
    (void)rc;
    struct span out = arena_dup(a, sb.buf, sb.len);
    sbuf_release(&sb);
    return out;
}

/* Is @cols (a key) covered by an index the plan uses on the same relation? */
static bool covered(const struct plan_analysis *pa, struct span relation, struct span columns)
{
    for (size_t i = 0; i < pa->n_indexes; i++) {
        const struct plan_index_use *u = &pa->indexes[i];
        if (span_eq(u->relation, relation) && u->columns.len >= columns.len &&
            memcmp(u->columns.p, columns.p, columns.len) == 0 &&
            (u->columns.len == columns.len || u->columns.p[columns.len] == ','))
            return true;
    }
    return false;
}

static void suggest(struct adv *ad, const struct plan_node *scan, const struct plan_cond_col *cols,
                    size_t ncols, double rows_read, double rows_returned, double ms,
                    const struct plan_node *evid_node)
{
    struct span key[PLAN_INDEX_MAX_COLUMNS];
    size_t k = make_key(cols, ncols, key);
    struct plan_analysis *pa = ad->pa;

    if (!k || !scan->relation.p)
        return;
    struct span rel = rel_name(ad->a, scan), columns = join_cols(ad->a, key, k);
    if (covered(pa, rel, columns))
        return;
    for (size_t i = 0; i < pa->n_suggestions; i++)
        if (span_eq(pa->suggestions[i].relation, rel) &&
            span_eq(pa->suggestions[i].columns, columns))
            return; /* the same key twice in one plan */
    if (pa->n_suggestions == ad->alloc_s) {
        size_t want = ad->alloc_s ? ad->alloc_s * 2 : 4;
        struct plan_index_suggestion *ns = arena_alloc(ad->a, want * sizeof(*ns));
        if (pa->n_suggestions)
            memcpy(ns, pa->suggestions, pa->n_suggestions * sizeof(*ns));
        pa->suggestions = ns;
        ad->alloc_s = want;
    }
    struct plan_index_suggestion *s = &pa->suggestions[pa->n_suggestions++];
    memset(s, 0, sizeof(*s));
    s->relation = rel;
    s->columns = columns;
    s->rows_read = rows_read;
    s->rows_returned = rows_returned;
    s->node_ms = ms;
    s->saving_ms = -1;
    if (ms >= 0 && rows_read > 0) {
        double share = rows_returned / rows_read * PLAN_INDEX_RANDOM_FACTOR;
        s->saving_ms = ms * (1 - (share < 1 ? share : 1));
    }
    struct sbuf sb = SBUF_INIT;
    int rc = sbuf_addf(&sb, "CREATE INDEX CONCURRENTLY ON %.*s (%.*s);", (int)rel.len, rel.p,
                       (int)columns.len, columns.p);
    s->ddl = arena_dup(ad->a, sb.buf, sb.len);
    sbuf_reset(&sb);
    rc |= plan_node_label(evid_node, &sb);
    if (evid_node->actual_rows >= 0)
        rc |= sbuf_addf(&sb, " (actual rows=%.0f loops=%.0f)", evid_node->actual_rows,
                        evid_node->actual_loops);
    if (evid_node->join_filter.p)
        rc |= sbuf_addf(&sb, "\n  Join Filter: %.*s", (int)evid_node->join_filter.len,
                        evid_node->join_filter.p);
    if (scan != evid_node) {
        rc |= sbuf_addstr(&sb, "\n  ->  ");
        rc |= plan_node_label(scan, &sb);
        if (scan->actual_rows >= 0)
            rc |= sbuf_addf(&sb, " (actual rows=%.0f loops=%.0f)", scan->actual_rows,
                            scan->actual_loops);
    }
    if (scan->index_cond.p)
        rc |= sbuf_addf(&sb, "\n  Index Cond: %.*s", (int)scan->index_cond.len, scan->index_cond.p);
    if (scan->filter.p)
        rc |= sbuf_addf(&sb, "\n  Filter: %.*s", (int)scan->filter.len, scan->filter.p);
    if (scan->rows_removed_filter >= 0)
        rc |= sbuf_addf(&sb, "\n  Rows Removed by Filter: %.0f", scan->rows_removed_filter);
    (void)rc;
    s->evidence = arena_dup(ad->a, sb.buf, sb.len);
    sbuf_release(&sb);
}

/* The relation node a Bitmap Index Scan serves: its Bitmap Heap Scan ancestor. */
static const struct plan_node *bitmap_heap(const struct plan *p, const struct plan_node *n)
{
    for (uint32_t i = n->parent; i != PLAN_NONE_IDX; i = p->nodes[i].parent)
        if (type_is(&p->nodes[i], "Bitmap Heap Scan"))
            return &p->nodes[i];
    return NULL;
}

static void index_uses(struct adv *ad)
{
    const struct plan *p = ad->p;
    struct plan_analysis *pa = ad->pa;

    for (uint32_t i = 0; i < p->n_nodes; i++) {
        const struct plan_node *n = &p->nodes[i], *rel = n;
        if (!n->index.p)
            continue;
        if (type_is(n, "Bitmap Index Scan") && !(rel = bitmap_heap(p, n)))
            continue;
        if (!rel->relation.p)
            continue;
        struct plan_cond_col cols[PLAN_INDEX_MAX_COLUMNS * 2];
        size_t nc = plan_cond_columns(n->index_cond, rel->alias, rel->relation, ad->a, cols,
                                      ARRAY_SIZE(cols));
        struct span key[ARRAY_SIZE(cols)];
        for (size_t k = 0; k < nc; k++)
            key[k] = cols[k].column;
        if (pa->n_indexes == ad->alloc_i) {
            size_t want = ad->alloc_i ? ad->alloc_i * 2 : 4;
            struct plan_index_use *nu = arena_alloc(ad->a, want * sizeof(*nu));
            if (pa->n_indexes)
                memcpy(nu, pa->indexes, pa->n_indexes * sizeof(*nu));
            pa->indexes = nu;
            ad->alloc_i = want;
        }
        struct plan_index_use *u = &pa->indexes[pa->n_indexes++];
        u->relation = rel_name(ad->a, rel);
        u->index = n->index;
        u->columns = join_cols(ad->a, key, nc);
    }
}

static bool selective(double read, double returned)
{
    return read >= PLAN_SEQ_MIN_ROWS && returned <= read * PLAN_SEQ_MAX_SELECTIVITY;
}

void plan_index_advice(const struct plan *p, struct arena *a, struct plan_analysis *pa)
{
    struct adv ad = { p, a, pa, 0, 0 };
    struct plan_cond_col cols[PLAN_INDEX_MAX_COLUMNS * 4];

    pa->suggestions = NULL;
    pa->n_suggestions = 0;
    pa->indexes = NULL;
    pa->n_indexes = 0;
    index_uses(&ad);
    for (uint32_t i = 0; i < p->n_nodes; i++) {
        const struct plan_node *n = &p->nodes[i];
        if (n->actual_rows < 0 || n->never_executed || !n->relation.p)
            continue;
        double loops = n->actual_loops > 0 ? n->actual_loops : 1;
        double read = plan_node_rows_read(n), returned = n->actual_rows * loops;
        if (type_is(n, "Seq Scan") && n->filter.p && selective(read, returned)) {
            size_t nc =
                plan_cond_columns(n->filter, n->alias, n->relation, a, cols, ARRAY_SIZE(cols));
            suggest(&ad, n, cols, nc, read, returned, plan_node_ms(n), n);
        } else if ((type_is(n, "Index Scan") || type_is(n, "Index Only Scan") ||
                    type_is(n, "Bitmap Heap Scan")) &&
                   n->filter.p && n->rows_removed_filter > 0 && selective(read, returned)) {
            /* the index finds too much and the filter throws it away: extend the key */
            struct span cond = n->index_cond;
            if (type_is(n, "Bitmap Heap Scan"))
                cond = n->recheck_cond;
            size_t nc = plan_cond_columns(cond, n->alias, n->relation, a, cols, ARRAY_SIZE(cols));
            nc += plan_cond_columns(n->filter, n->alias, n->relation, a, cols + nc,
                                    ARRAY_SIZE(cols) - nc);
            suggest(&ad, n, cols, nc, read, returned, plan_node_ms(n), n);
        }
    }
    /* A nested loop filtering a repeated inner Seq Scan (or its Materialize) with a Join
     * Filter: the join columns of the inner table. */
    for (uint32_t i = 0; i < p->n_nodes; i++) {
        const struct plan_node *n = &p->nodes[i];
        if (!type_is(n, "Nested Loop") || !n->join_filter.p || n->first_child == PLAN_NONE_IDX)
            continue;
        uint32_t in = p->nodes[n->first_child].next_sibling;
        if (in == PLAN_NONE_IDX)
            continue;
        const struct plan_node *inner = &p->nodes[in], *looped = inner;
        if (type_is(inner, "Materialize") && inner->first_child != PLAN_NONE_IDX)
            inner = &p->nodes[inner->first_child];
        if (!type_is(inner, "Seq Scan") || looped->actual_loops < PLAN_NESTLOOP_MIN_LOOPS)
            continue;
        double read = looped->actual_rows * looped->actual_loops;
        double returned = n->actual_rows * (n->actual_loops > 0 ? n->actual_loops : 1);
        if (!selective(read, returned))
            continue;
        size_t nc = plan_cond_columns(n->join_filter, inner->alias, inner->relation, a, cols,
                                      ARRAY_SIZE(cols));
        suggest(&ad, inner, cols, nc, read, returned, plan_node_ms(n), n);
    }
}
