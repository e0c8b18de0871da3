/* SPDX-License-Identifier: MIT */
/*
 * plan_redact.c - take tenant data out of a plan body before it is stored: the Query
 * Text and every expression the plan prints (Filter, Index Cond, Sort Key, Output, ...)
 * get their constants replaced by $n exactly like statement samples
 * (normalize_redact()); "Query Parameters" (bind values) are dropped. Everything else
 * (node lines, names, numbers, the words EXPLAIN itself prints) is kept byte for byte,
 * so the redacted body parses to the same tree and the same fingerprint.
 *
 * The rule is a list of keys whose values EXPLAIN generates itself (safe_keys); any
 * other value is treated as an expression and redacted. A new PostgreSQL key is thus
 * redacted until it is listed, never leaked.
 */
#include <string.h>

#include "classify/classify.h"
#include "classify/classify_int.h"
#include "core/escape.h"
#include "core/limits.h"
#include "normalize/normalize.h"

static const char *const safe_keys[] = {
    "Node Type",
    "Strategy",
    "Partial Mode",
    "Operation",
    "Parent Relationship",
    "Subplan Name",
    "Custom Plan Provider",
    "Relation Name",
    "Schema",
    "Alias",
    "Index Name",
    "Function Name",
    "CTE Name",
    "Table Function Name",
    "Tuplestore Name",
    "Scan Direction",
    "Join Type",
    "Command",
    "Sort Method",
    "Sort Space Type",
    "Sort Methods Used",
    "Cache Mode",
    "Storage",
    "Trigger Name",
    "Constraint Name",
    "Relation",
    "Sampling Method",
    "Format",
    /* text-format property lines whose whole value EXPLAIN writes from numbers and words */
    "Buffers",
    "I/O Timings",
    "WAL",
    "Heap Blocks",
    "Buckets",
    "Batches",
    "Planned Partitions",
    "Workers Planned",
    "Workers Launched",
    "Rows Removed by Filter",
    "Rows Removed by Join Filter",
    "Rows Removed by Index Recheck",
    "Heap Fetches",
    "Hits",
    "Full-sort Groups",
    "Pre-sorted Groups",
    "Memory",
    "Index Searches",
    "Disabled",
    "Settings",
    "Functions",
    "Options",
    "Timing",
    "Single Copy",
    "Inner Unique",
    "Tuples Inserted",
    "Conflicting Tuples",
    "Conflict Resolution",
    "Subplans Removed",
    "Serialization",
};

static bool is_safe(struct span key)
{
    for (size_t i = 0; i < ARRAY_SIZE(safe_keys); i++)
        if (span_eq(key, span_cstr(safe_keys[i])))
            return true;
    return false;
}

/* Keys whose values are expressions of the query, where a bare number is one of its
 * constants: "Output: 42" of SELECT 42, or of a custom plan made for EXECUTE p(42). */
static const char *const expr_keys[] = {
    "Output",
    "Filter",
    "Join Filter",
    "One-Time Filter",
    "Index Cond",
    "Recheck Cond",
    "Hash Cond",
    "Merge Cond",
    "TID Cond",
    "Order By",
    "Sort Key",
    "Presorted Key",
    "Group Key",
    "Cache Key",
    "Run Condition",
    "Function Call",
    "Table Function Call",
    "Sampling Parameters",
    "Repeatable Seed",
};

/* A value made only of a number, true/false/null: nothing to redact. */
static bool is_plain_value(struct span v)
{
    v = span_trim(v);
    if (!v.len)
        return true;
    if (span_eq_lit(v, "true") || span_eq_lit(v, "false") || span_eq_lit(v, "null"))
        return true;
    for (size_t i = 0; i < v.len; i++) {
        char c = v.p[i];
        if (!(is_digit(c) || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'))
            return false;
    }
    return true;
}

/* A value kept as it is: a plain value of a key that is no expression. */
static bool is_plain(struct span key, struct span v)
{
    if (!is_plain_value(v))
        return false;
    for (size_t i = 0; key.p && i < ARRAY_SIZE(expr_keys); i++)
        if (span_eq(key, span_cstr(expr_keys[i])))
            return false;
    return true;
}

static int redact(struct normalizer *nz, struct span v, struct sbuf *out)
{
    size_t before = out->len;

    if (normalize_redact(nz, v, REDACT_ALL, 0, out) < 0) {
        sbuf_setlen(out, before);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- text */

static bool text_root(struct span line)
{
    return line.len && line.p[0] != ' ' && span_find(line, 0, LIT("  (cost=")) >= 0;
}

/* Node lines, labels, trailers (after their indentation): names and numbers, kept. */
static bool text_verbatim(struct span t)
{
    return span_starts_with_lit(t, "->  ") || span_find(t, 0, LIT("  (cost=")) >= 0 ||
           span_starts_with_lit(t, "Trigger ") || span_eq_lit(t, "JIT:") ||
           span_starts_with_lit(t, "InitPlan ") || span_starts_with_lit(t, "SubPlan ") ||
           span_starts_with_lit(t, "CTE ");
}

/* The settings that changed ("Settings: work_mem = '64MB', search_path = 'tenant_42,
 * public'"): names and planner values are kept; search_path's schemas, which may name
 * a tenant (the fingerprint takes SET search_path's value as a constant), are not. */
static bool redacted_setting(struct span name)
{
    return span_eq_lit(name, "search_path");
}

static int settings_text(struct span v, struct sbuf *out)
{
    static const char marker[] = "search_path = '";
    long at = span_find(v, 0, LIT(marker));
    size_t i = 0;
    int rc = 0;

    while (at >= 0) {
        size_t open = (size_t)at + sizeof(marker) - 1, j = open;
        for (; j < v.len; j++) { /* the closing quote ('' doubles one) */
            if (v.p[j] != '\'')
                continue;
            if (j + 1 < v.len && v.p[j + 1] == '\'') {
                j++;
                continue;
            }
            break;
        }
        rc |= sbuf_add(out, v.p + i, open - i);
        rc |= sbuf_addstr(out, "(redacted)");
        i = j; /* the closing quote, or the end */
        at = span_find(v, i, LIT(marker));
    }
    return rc | sbuf_add(out, v.p + i, v.len - i);
}

/* One property or expression line of the tree, after its indentation (several lines
 * when a quoted literal in it has line breaks: the key is on the first). */
static int text_tree_line(struct normalizer *nz, struct span t, struct sbuf *out)
{
    long c = span_find(t, 0, LIT(": "));

    if (text_verbatim(t))
        return sbuf_addspan(out, t);
    if (c > 0 && span_find_char(span_make(t.p, (size_t)c), 0, '\n') >= 0)
        c = -1;
    if (c <= 0)
        return redact(nz, t, out);
    struct span key = span_make(t.p, (size_t)c), v = cur_skip(t, (size_t)c + 2);
    if (span_starts_with_lit(key, "Worker ")) {
        /* "Worker 0:  Sort Method: external merge  Disk: 1232kB" */
        long c2 = span_find(t, 0, LIT(":  "));
        if (c2 > 0) {
            int rc = sbuf_add(out, t.p, (size_t)c2 + 3);
            struct span w = cur_skip(t, (size_t)c2 + 3);
            return rc | (span_starts_with_lit(w, "actual ") ? sbuf_addspan(out, w)
                                                            : text_tree_line(nz, w, out));
        }
    }
    int rc = sbuf_add(out, t.p, (size_t)c + 2);
    if (span_eq_lit(key, "Settings"))
        return rc | settings_text(v, out);
    if (is_safe(key) || is_plain(key, v))
        return rc | sbuf_addspan(out, v);
    return rc | redact(nz, v, out);
}

static size_t indent(struct span t)
{
    size_t col = 0;

    while (col < t.len && t.p[col] == ' ')
        col++;
    return col;
}

/* Extend @t (a line ending where *@rest starts) over the next lines while a quote it
 * opens is not closed: a literal with line breaks is one value, redacted as a whole
 * (line by line, its later lines would look like names and be kept). */
static struct span text_join_quoted(struct span t, struct span *rest)
{
    char q = plan_text_quote_after(t, 0);

    while (q && rest->len) {
        struct span line = line_first(*rest, rest);
        t = span_make(t.p, (size_t)(line.p + line.len - t.p));
        q = plan_text_quote_after(line, q);
    }
    return t;
}

/* The Query Text starting at @q (after "Query Text: "): up to the "Query Parameters: " or
 * root node line, as plan_parse_text() reads it; *@rest moves to that line. */
static struct span text_query(struct span q, struct span *rest)
{
    struct span r = *rest, end = *rest;

    while (r.len) {
        struct span line = line_first(r, &r);
        struct span t = cur_skip(line, line.len && line.p[0] == '\t' ? 1 : 0);
        if (text_root(t) || span_starts_with_lit(t, "Query Parameters: "))
            break;
        q = span_make(q.p, (size_t)(line.p + line.len - q.p));
        end = r;
    }
    *rest = end;
    return q;
}

static int redact_text(struct normalizer *nz, struct span body, struct sbuf *out)
{
    struct span rest = body;
    bool tree = false, in_params = false, query_seen = false;
    int rc = 0;

    while (rest.len && !rc) {
        const char *bol = rest.p;
        struct span line = line_first(rest, &rest);
        size_t lead = line.len && line.p[0] == '\t' ? 1 : 0; /* stderr continuation */
        struct span t = cur_skip(line, lead);

        if (!tree && text_root(t))
            tree = true;
        if (!tree && !in_params && !query_seen && span_starts_with_lit(t, "Query Text: ")) {
            struct span q = text_query(cur_skip(t, 12), &rest);
            t = span_make(t.p, (size_t)(q.p + q.len - t.p));
            query_seen = true;
        } else if (tree && !text_verbatim(cur_skip(t, indent(t)))) {
            t = text_join_quoted(t, &rest);
        }
        bool has_nl = rest.p && rest.p > t.p + t.len;
        if (!tree && in_params && !span_starts_with_lit(t, "Query Text: "))
            continue; /* a continuation line of the dropped parameter list */
        rc |= sbuf_add(out, bol, lead);
        if (!tree) {
            in_params = false;
            if (span_starts_with_lit(t, "Query Text: ")) {
                rc |= sbuf_addstr(out, "Query Text: ");
                rc |= redact(nz, cur_skip(t, 12), out);
            } else if (span_starts_with_lit(t, "Query Parameters: ")) {
                in_params = true;
                rc |= sbuf_addstr(out, "Query Parameters: (redacted)");
            } else {
                rc |= redact(nz, t, out); /* a later line of a multi-line Query Text */
            }
        } else {
            size_t col = indent(t);
            rc |= sbuf_add(out, t.p, col);
            rc |= text_tree_line(nz, cur_skip(t, col), out);
        }
        if (has_nl)
            rc |= sbuf_addch(out, '\n');
    }
    return rc ? -1 : 0;
}

/* ---------------------------------------------------------------- JSON */

/* Copy JSON while redacting the string values of unsafe keys (and the strings of arrays
 * under them). Strings are decoded, redacted and escaped again; the layout is kept.
 * Containers nested deeper than the stack are copied with the innermost known key. */
static int redact_json(struct normalizer *nz, struct span body, struct arena *a, struct sbuf *out)
{
    enum { MAXD = 2 * SIFT_MAX_PLAN_DEPTH + 16 };
    struct frame {
        bool array;
        struct span key; /* arrays: the key they are the value of */
    } stack[MAXD];
    size_t depth = 0;
    struct span cur = body, key = SPAN_NULL; /* key: the member whose value comes next */
    struct sbuf tmp = SBUF_INIT;
    int rc = 0;

    while (cur.len && !rc) {
        char c = cur.p[0];
        if (c == '"') {
            struct span start = cur, v;
            if (!classify_json_string(&cur, a, &v)) {
                rc |= sbuf_addstr(out, "\"(redacted)\""); /* unterminated: drop the rest */
                break;
            }
            struct span raw = span_make(start.p, (size_t)(cur.p - start.p));
            const struct frame *top = depth && depth <= MAXD ? &stack[depth - 1] : NULL;
            bool in_array = top && top->array;
            struct span after = cur;
            while (after.len && (after.p[0] == ' ' || after.p[0] == '\n' || after.p[0] == '\t' ||
                                 after.p[0] == '\r'))
                after = cur_skip(after, 1);
            if (!in_array && after.len && after.p[0] == ':') {
                key = v.p ? v : LIT("?");
                rc |= sbuf_addspan(out, raw);
                continue;
            }
            struct span k = in_array ? top->key : key;
            key = SPAN_NULL;
            if (k.p && (span_eq_lit(k, "Query Parameters") || redacted_setting(k))) {
                rc |= sbuf_addstr(out, "\"(redacted)\"");
            } else if (k.p && is_safe(k)) {
                rc |= sbuf_addspan(out, raw);
            } else {
                sbuf_reset(&tmp);
                rc |= redact(nz, v.p ? v : LIT(""), &tmp);
                rc |= escape_json_string(out, sbuf_span(&tmp)); /* quotes included */
            }
            continue;
        }
        if (c == '{' || c == '[') {
            if (depth < MAXD)
                stack[depth] = (struct frame){ c == '[', c == '[' ? key : SPAN_NULL };
            depth++;
            key = SPAN_NULL;
        } else if (c == '}' || c == ']') {
            if (depth)
                depth--;
            key = SPAN_NULL;
        }
        rc |= sbuf_addch(out, c);
        cur = cur_skip(cur, 1);
    }
    sbuf_release(&tmp);
    return rc ? -1 : 0;
}

/* ---------------------------------------------------------------- YAML */

/* Lines "<indent>[- ]Key: value" and "<indent>- value". A double-quoted value uses JSON
 * escapes (explain.c escape_yaml() calls escape_json()). */
static int redact_yaml(struct normalizer *nz, struct span body, struct arena *a, struct sbuf *out)
{
    struct span rest = body;
    struct span list_key = SPAN_NULL; /* the key of the list being written */
    size_t list_col = 0;
    struct sbuf tmp = SBUF_INIT;
    int rc = 0;

    while (rest.len && !rc) {
        const char *bol = rest.p;
        struct span line = line_first(rest, &rest);
        bool has_nl = rest.p && rest.p > line.p + line.len;
        size_t col = 0;
        while (col < line.len && (line.p[col] == ' ' || line.p[col] == '\t'))
            col++;
        struct span t = cur_skip(line, col);
        rc |= sbuf_add(out, bol, col);
        bool item = span_starts_with_lit(t, "- ");
        if (item) {
            rc |= sbuf_addstr(out, "- ");
            t = cur_skip(t, 2);
        }
        long c = span_find(t, 0, LIT(": "));
        struct span key = SPAN_NULL, v = t;
        if (c > 0 && t.p[0] != '"') {
            key = span_make(t.p, (size_t)c);
            v = cur_skip(t, (size_t)c + 2);
            rc |= sbuf_add(out, t.p, (size_t)c + 2);
        } else if (span_ends_with(t, LIT(":")) && t.p[0] != '"') {
            key = span_make(t.p, t.len - 1);
            v = SPAN_NULL;
            rc |= sbuf_addspan(out, t);
        }
        if (key.p && !span_trim(v).len) {
            list_key = key; /* "Sort Key: " then "- ..." lines */
            list_col = col;
            rc |= sbuf_addspan(out, v.p ? v : LIT(""));
        } else {
            /* a list item takes the key of its list */
            struct span k = key.p ? key : (item && col >= list_col ? list_key : SPAN_NULL);
            bool quoted = v.len >= 2 && v.p[0] == '"';
            if (k.p && (span_eq_lit(k, "Query Parameters") || redacted_setting(k))) {
                rc |= sbuf_addstr(out, "\"(redacted)\"");
            } else if (is_plain(k, v) || (k.p && is_safe(k))) {
                rc |= sbuf_addspan(out, v);
            } else {
                struct span cur = v, dec;
                if (!quoted || !classify_json_string(&cur, a, &dec) || !dec.p) {
                    rc |= sbuf_addstr(out, "\"(redacted)\"");
                } else {
                    sbuf_reset(&tmp);
                    rc |= redact(nz, dec, &tmp);
                    rc |= escape_json_string(out, sbuf_span(&tmp)); /* quoted */
                }
            }
        }
        if (has_nl)
            rc |= sbuf_addch(out, '\n');
    }
    sbuf_release(&tmp);
    return rc ? -1 : 0;
}

/* ---------------------------------------------------------------- XML */

/* "<Tag>text</Tag>": the text of elements with unsafe names (and <Item>s inside them) is
 * decoded, redacted and escaped again; tags and layout are kept. */
static int redact_xml(struct normalizer *nz, struct span body, struct arena *a, struct sbuf *out)
{
    struct span container = SPAN_NULL; /* the element whose <Item>s follow */
    struct sbuf tmp = SBUF_INIT, name = SBUF_INIT;
    size_t i = 0;
    int rc = 0;

    while (i < body.len && !rc) {
        long lt = span_find_char(body, i, '<');
        if (lt < 0) {
            rc |= sbuf_add(out, body.p + i, body.len - i);
            break;
        }
        long gt = span_find_char(body, (size_t)lt, '>');
        if (gt < 0) {
            rc |= sbuf_add(out, body.p + i, body.len - i);
            break;
        }
        /* the text between the previous tag and this one */
        struct span text = span_make(body.p + i, (size_t)lt - i);
        struct span tag = span_make(body.p + lt + 1, (size_t)(gt - lt - 1));
        bool closing = tag.len && tag.p[0] == '/';
        struct span tname = closing ? cur_skip(tag, 1) : tag;
        size_t nl = 0;
        while (nl < tname.len && tname.p[nl] != ' ' && tname.p[nl] != '/')
            nl++;
        tname.len = nl;
        if (closing && span_trim(text).len) {
            /* text of the element this tag closes */
            sbuf_reset(&name);
            for (size_t k = 0; k < tname.len; k++)
                rc |= sbuf_addch(&name, tname.p[k] == '-' ? ' ' : tname.p[k]);
            struct span key = span_eq_lit(tname, "Item") ? container : sbuf_span(&name);
            if (span_eq_lit(tname, "Query-Parameters") || redacted_setting(tname)) {
                rc |= sbuf_addstr(out, "(redacted)");
            } else if (is_plain(key, text) || (key.p && is_safe(key))) {
                rc |= sbuf_addspan(out, text);
            } else {
                struct span dec = classify_xml_text(text, a);
                sbuf_reset(&tmp);
                rc |= redact(nz, dec.p ? dec : LIT(""), &tmp);
                rc |= escape_html(out, sbuf_span(&tmp));
            }
        } else {
            rc |= sbuf_addspan(out, text);
        }
        if (!closing && gt > lt + 1 && body.p[gt - 1] != '/') {
            /* remember the last opened element for its <Item>s */
            sbuf_reset(&name);
            if (!span_eq_lit(tname, "Item")) {
                container = SPAN_NULL;
                for (size_t k = 0; k < tname.len; k++)
                    rc |= sbuf_addch(&name, tname.p[k] == '-' ? ' ' : tname.p[k]);
                container = arena_dup(a, name.buf, name.len);
            }
        }
        rc |= sbuf_add(out, body.p + lt, (size_t)(gt - lt) + 1);
        i = (size_t)gt + 1;
    }
    sbuf_release(&tmp);
    sbuf_release(&name);
    return rc ? -1 : 0;
}

int plan_redact(struct normalizer *nz, struct span body, enum plan_format fmt, struct arena *a,
                struct sbuf *out)
{
    switch (fmt) {
    case PLAN_TEXT: return redact_text(nz, body, out);
    case PLAN_JSON: return redact_json(nz, body, a, out);
    case PLAN_YAML: return redact_yaml(nz, body, a, out);
    case PLAN_XML: return redact_xml(nz, body, a, out);
    default: break;
    }
    return redact(nz, body, out);
}
