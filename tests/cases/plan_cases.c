/* SPDX-License-Identifier: MIT */
/*
 * plan_cases - runner for tests/cases/plan/NAME.cases: hand-made auto_explain plans
 * (parser corner cases and the controls of each insight) and condition strings.
 *
 * A plan case:
 *
 *   from: handmade: why this plan exists     required; real plans live in tests/fixtures
 *   format: text                             text (default), json, yaml or xml
 *   duration: 12.5                           the record's duration in ms (default -1)
 *   | Query Text: select ...                 body lines, "| " stripped ("|" = empty line),
 *   | Seq Scan on t  (cost=...)              unescaped with case_unescape()
 *   =insights seq_scan_filter,row_misestimate   exact set of insight names, "-" for none
 *   =index CREATE INDEX CONCURRENTLY ON t (a);  each suggestion, in order (none: no line)
 *   =shape Aggregate > Seq Scan on t         optional: the one-line shape
 *   =nodes 2                                 optional: node count
 *   =error no plan node                      optional: the parse fails, reason starts so
 *   =truncated                               optional: a bound cut the tree
 *   =fp NAME                                 optional: fingerprint class; within a file,
 *                                            cases of one class share a fingerprint and
 *                                            cases of different classes do not
 *   =mentions TEXT                           optional: some insight explanation holds TEXT
 *
 * A condition case (plan_cond_columns()):
 *
 *   from: handmade: ...
 *   cond: ((status)::text = 'x'::text)
 *   alias: o                                 optional
 *   relation: orders                         optional
 *   =cols status=,created_at<                columns with = (equality) or < (range); "-"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "classify/classify.h"
#include "classify/plan.h"
#include "core/arena.h"
#include "core/sbuf.h"
#include "core/xalloc.h"

struct fp_seen {
    char *file, *name;
    uint64_t fp;
    unsigned line;
};
static struct fp_seen *seen;
static size_t nseen, alloc_seen;

static struct span value(const struct case_line *l, size_t skip)
{
    return span_trim(span_make(l->text + skip, l->len - skip));
}

static bool starts(const struct case_line *l, const char *pfx)
{
    size_t n = strlen(pfx);
    return l->len >= n && !memcmp(l->text, pfx, n);
}

static int cond_case(const struct case_block *b, size_t cond_line)
{
    struct arena a = ARENA_INIT;
    struct sbuf cond = SBUF_INIT, got = SBUF_INIT;
    struct span alias = SPAN_NULL, relation = SPAN_NULL, want = SPAN_NULL;
    size_t want_line = 0;
    int rc = 0;

    for (size_t i = 0; i < b->n; i++) {
        const struct case_line *l = &b->lines[i];
        if (starts(l, "alias:"))
            alias = value(l, 6);
        else if (starts(l, "relation:"))
            relation = value(l, 9);
        else if (starts(l, "=cols ")) {
            want = value(l, 6);
            want_line = i;
        }
    }
    if (!want.p) {
        case_fail(b, cond_line, "a cond case needs =cols");
        return -1;
    }
    const struct case_line *cl = &b->lines[cond_line];
    struct span raw = value(cl, 5);
    if (case_unescape(raw.p, raw.len, &cond) < 0) {
        case_fail(b, cond_line, "bad escape");
        return -1;
    }
    struct plan_cond_col cols[16];
    size_t n = plan_cond_columns(sbuf_span(&cond), alias, relation, &a, cols, 16);
    for (size_t i = 0; i < n; i++)
        (void)!sbuf_addf(&got, "%s%.*s%c", i ? "," : "", (int)cols[i].column.len, cols[i].column.p,
                         cols[i].op == PLAN_COND_EQ ? '=' : '<');
    if (!n)
        (void)!sbuf_addstr(&got, "-");
    if (!span_eq(sbuf_span(&got), want)) {
        case_fail(b, want_line, "got cols %s", got.buf);
        rc = -1;
    }
    sbuf_release(&cond);
    sbuf_release(&got);
    arena_release(&a);
    return rc;
}

static int check_fp(const struct case_block *b, size_t line, struct span name, uint64_t fp)
{
    int rc = 0;
    for (size_t i = 0; i < nseen; i++) {
        if (strcmp(seen[i].file, b->file) != 0)
            continue;
        bool same = span_eq(name, span_cstr(seen[i].name));
        if (same && seen[i].fp != fp) {
            case_fail(b, line, "fingerprint differs from class %s at line %u", seen[i].name,
                      seen[i].line);
            rc = -1;
        } else if (!same && seen[i].fp == fp) {
            case_fail(b, line, "fingerprint equals class %s at line %u", seen[i].name,
                      seen[i].line);
            rc = -1;
        }
    }
    XGROW(seen, nseen + 1, alloc_seen);
    seen[nseen].file = xstrdup(b->file);
    seen[nseen].name = xmemdupz(name.p, name.len);
    seen[nseen].fp = fp;
    seen[nseen].line = b->lines[line].lineno;
    nseen++;
    return rc;
}

static int handler(const struct case_block *b)
{
    struct arena a = ARENA_INIT;
    struct sbuf body = SBUF_INIT, line = SBUF_INIT, got = SBUF_INIT;
    enum plan_format fmt = PLAN_TEXT;
    double duration = -1;
    bool from = false, has_insights = false;
    int rc = 0;

    for (size_t i = 0; i < b->n; i++) {
        if (starts(&b->lines[i], "from:"))
            from = true;
        if (starts(&b->lines[i], "cond:")) {
            if (!from)
                case_fail(b, 0, "missing from:");
            return from ? cond_case(b, i) : -1;
        }
    }
    if (!from) {
        case_fail(b, 0, "missing from: (say where the plan comes from)");
        return -1;
    }
    for (size_t i = 0; i < b->n; i++) {
        const struct case_line *l = &b->lines[i];
        if (starts(l, "format:")) {
            struct span f = value(l, 7);
            fmt = span_eq_lit(f, "json")   ? PLAN_JSON
                  : span_eq_lit(f, "yaml") ? PLAN_YAML
                  : span_eq_lit(f, "xml")  ? PLAN_XML
                                           : PLAN_TEXT;
        } else if (starts(l, "duration:")) {
            duration = strtod(l->text + 9, NULL);
        } else if (l->len && l->text[0] == '|') {
            size_t skip = l->len >= 2 && l->text[1] == ' ' ? 2 : 1;
            if (case_unescape(l->text + skip, l->len - skip, &line) < 0) {
                case_fail(b, i, "bad escape");
                rc = -1;
            }
            if (body.len)
                (void)!sbuf_addch(&body, '\n');
            (void)!sbuf_addspan(&body, sbuf_span(&line));
        }
    }
    struct plan_analysis pa;
    plan_analyze(sbuf_span(&body), fmt, duration, &a, &pa);

    size_t want_index = 0;
    bool want_error = false, want_trunc = false;
    for (size_t i = 0; i < b->n; i++) {
        const struct case_line *l = &b->lines[i];
        if (starts(l, "=insights ")) {
            has_insights = true;
            sbuf_reset(&got);
            for (size_t k = 0; k < pa.n_insights; k++)
                (void)!sbuf_addf(&got, "%s%s", k ? "," : "",
                                 plan_insight_name(pa.insights[k].kind));
            if (!pa.n_insights)
                (void)!sbuf_addstr(&got, "-");
            if (!span_eq(sbuf_span(&got), value(l, 10))) {
                case_fail(b, i, "got insights %s", got.buf);
                for (size_t k = 0; k < pa.n_insights; k++)
                    fprintf(stderr, "    %s: %.*s\n", plan_insight_name(pa.insights[k].kind),
                            (int)pa.insights[k].explanation.len, pa.insights[k].explanation.p);
                rc = -1;
            }
        } else if (starts(l, "=index ")) {
            if (want_index >= pa.n_suggestions) {
                case_fail(b, i, "only %zu suggestions", pa.n_suggestions);
                rc = -1;
            } else if (!span_eq(pa.suggestions[want_index].ddl, value(l, 7))) {
                case_fail(b, i, "got %.*s", (int)pa.suggestions[want_index].ddl.len,
                          pa.suggestions[want_index].ddl.p);
                rc = -1;
            }
            want_index++;
        } else if (starts(l, "=shape ")) {
            if (!span_eq(pa.shape, value(l, 7))) {
                case_fail(b, i, "got shape %.*s", (int)pa.shape.len, pa.shape.p ? pa.shape.p : "");
                rc = -1;
            }
        } else if (starts(l, "=nodes ")) {
            if (pa.nodes != (uint32_t)strtoul(l->text + 7, NULL, 10)) {
                case_fail(b, i, "got %u nodes", pa.nodes);
                rc = -1;
            }
        } else if (starts(l, "=error ")) {
            want_error = true;
            struct span w = value(l, 7);
            if (pa.parsed || !pa.reason || strncmp(pa.reason, w.p, w.len) != 0) {
                case_fail(b, i, "got %s", pa.parsed ? "a parsed plan" : pa.reason);
                rc = -1;
            }
        } else if (starts(l, "=truncated")) {
            want_trunc = true;
        } else if (starts(l, "=fp ")) {
            if (check_fp(b, i, value(l, 4), pa.fingerprint) < 0)
                rc = -1;
        } else if (starts(l, "=mentions ")) {
            struct span w = value(l, 10);
            bool found = false;
            for (size_t k = 0; k < pa.n_insights && !found; k++)
                found = span_find(pa.insights[k].explanation, 0, w) >= 0 ||
                        span_find(pa.insights[k].evidence, 0, w) >= 0;
            if (!found) {
                case_fail(b, i, "no insight mentions it");
                rc = -1;
            }
        } else if (l->text[0] == '=') {
            case_fail(b, i, "unknown expectation");
            rc = -1;
        }
    }
    if (!want_error && !pa.parsed) {
        case_fail(b, 0, "plan not parsed: %s", pa.reason);
        rc = -1;
    }
    if (!want_error && !has_insights) {
        case_fail(b, 0, "a plan case must state =insights");
        rc = -1;
    }
    if (want_index != pa.n_suggestions) {
        case_fail(b, 0, "%zu suggestions, %zu expected", pa.n_suggestions, want_index);
        for (size_t k = 0; k < pa.n_suggestions; k++)
            fprintf(stderr, "    %.*s\n", (int)pa.suggestions[k].ddl.len, pa.suggestions[k].ddl.p);
        rc = -1;
    }
    if (pa.truncated != want_trunc) {
        case_fail(b, 0, "truncated is %d", pa.truncated);
        rc = -1;
    }
    sbuf_release(&body);
    sbuf_release(&line);
    sbuf_release(&got);
    arena_release(&a);
    return rc;
}

int main(int argc, char **argv)
{
    int rc = cases_main(argc, argv, handler);
    for (size_t i = 0; i < nseen; i++) {
        free(seen[i].file);
        free(seen[i].name);
    }
    free(seen);
    return rc;
}
