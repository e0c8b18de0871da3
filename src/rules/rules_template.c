/* SPDX-License-Identifier: MIT */
/*
 * rules_template - annotation templates: text with {{ variable | filter | filter(N) }}.
 *
 * Deliberately tiny (no conditionals, no loops): annotations are one-line summaries and
 * runbook links. Checked at load time, so a typo is a file:line:col error instead of an
 * empty summary at 3 a.m.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/utf8.h"
#include "rules/rules_int.h"

enum filter { F_MS, F_BYTES, F_ROUND, F_TRUNCATE, F_UPPER, F_LOWER, F_COUNT };

static const struct {
    const char *name;
    bool arg;
} filters[] = {
    [F_MS] = { "ms", false },       [F_BYTES] = { "bytes", false },
    [F_ROUND] = { "round", true },  [F_TRUNCATE] = { "truncate", true },
    [F_UPPER] = { "upper", false }, [F_LOWER] = { "lower", false },
};
_Static_assert(ARRAY_SIZE(filters) == F_COUNT, "filters");

static const char *const builtin_vars[] = { "rule",     "severity", "value", "threshold", "window",
                                            "baseline", "ratio",    "calls", NULL };

bool rule_tmpl_var_known(const struct rule *r, struct span name)
{
    enum rule_dim d;

    for (const char *const *b = builtin_vars; *b; b++)
        if (span_eq(name, span_cstr(*b)))
            return true;
    static const char *const plan_vars[] = { "from_plan",   "to_plan",    "before_ms",
                                             "after_ms",    "slower_by",  "calls_before",
                                             "calls_after", "changed_at", NULL };
    for (const char *const *b = plan_vars; *b; b++)
        if (span_eq(name, span_cstr(*b)))
            return r->source == RSRC_PLANS;
    if (span_eq_lit(name, "query")) {
        for (size_t i = 0; i < r->ngroup_by; i++)
            if (r->group_by[i] == DIM_FINGERPRINT)
                return true;
        return false;
    }
    if (rule_dim_from_name(name, &d)) {
        for (size_t i = 0; i < r->ngroup_by; i++)
            if (r->group_by[i] == d)
                return true;
        return false;
    }
    for (size_t i = 0; i < r->nlabels; i++)
        if (span_eq(name, span_cstr(r->labels[i].key)))
            return true;
    return false;
}

struct piece {
    struct span var;
    struct {
        enum filter f;
        long arg;
    } filt[8];
    int nfilt;
};

static bool ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Parse the inside of one {{ ... }}. Returns NULL or an error message (static). */
static const char *parse_expr(struct span e, struct piece *pc, char *errbuf, size_t errlen)
{
    size_t i = 0;

    memset(pc, 0, sizeof(*pc));
    e = span_trim(e);
    while (i < e.len && ident_char(e.p[i]))
        i++;
    if (i == 0)
        return "expected a variable name after '{{'";
    pc->var = span_sub(e, 0, i);
    for (;;) {
        while (i < e.len && (e.p[i] == ' ' || e.p[i] == '\t'))
            i++;
        if (i == e.len)
            return NULL;
        if (e.p[i] != '|') {
            snprintf(errbuf, errlen, "unexpected '%c' after '%.*s' (expected '|' or '}}')", e.p[i],
                     (int)pc->var.len, pc->var.p);
            return errbuf;
        }
        i++;
        while (i < e.len && (e.p[i] == ' ' || e.p[i] == '\t'))
            i++;
        size_t s = i;
        while (i < e.len && ident_char(e.p[i]))
            i++;
        struct span fname = span_sub(e, s, i - s);
        int f;
        for (f = 0; f < F_COUNT; f++)
            if (span_eq(fname, span_cstr(filters[f].name)))
                break;
        if (f == F_COUNT) {
            snprintf(errbuf, errlen,
                     "unknown filter '%.*s' (expected one of: ms, bytes, round(N), truncate(N), "
                     "upper, lower)",
                     (int)fname.len, fname.p);
            return errbuf;
        }
        long arg = -1;
        if (i < e.len && e.p[i] == '(') {
            size_t a = ++i;
            while (i < e.len && e.p[i] >= '0' && e.p[i] <= '9')
                i++;
            int64_t v;
            if (i >= e.len || e.p[i] != ')' || !span_to_i64(span_sub(e, a, i - a), &v) ||
                v > 100000) {
                snprintf(errbuf, errlen, "filter '%s' expects a number in parentheses",
                         filters[f].name);
                return errbuf;
            }
            i++;
            arg = (long)v;
        }
        if (filters[f].arg && arg < 0) {
            snprintf(errbuf, errlen, "filter '%s' needs a number: %s(N)", filters[f].name,
                     filters[f].name);
            return errbuf;
        }
        if (!filters[f].arg && arg >= 0) {
            snprintf(errbuf, errlen, "filter '%s' takes no argument", filters[f].name);
            return errbuf;
        }
        if (pc->nfilt >= (int)ARRAY_SIZE(pc->filt))
            return "too many filters";
        pc->filt[pc->nfilt].f = (enum filter)f;
        pc->filt[pc->nfilt].arg = arg;
        pc->nfilt++;
    }
}

/* Walk @tmpl: literal text goes to @lit, each {{ }} to @expr. Stops at the first
 * syntax error when @errors is NULL. */
typedef int (*lit_fn)(void *ctx, struct span text);
typedef int (*expr_fn)(void *ctx, const struct piece *pc);

static unsigned walk(const char *tmpl, lit_fn lit, expr_fn expr, void *ctx, struct sbuf *errors)
{
    struct span t = span_cstr(tmpl);
    size_t i = 0;
    unsigned nerr = 0;

    while (i < t.len) {
        long open = span_find(t, i, SPAN_LIT("{{"));
        if (open < 0) {
            if (lit && lit(ctx, span_sub(t, i, t.len - i)) < 0)
                return nerr + 1;
            break;
        }
        if (lit && lit(ctx, span_sub(t, i, (size_t)open - i)) < 0)
            return nerr + 1;
        long close = span_find(t, (size_t)open + 2, SPAN_LIT("}}"));
        if (close < 0) {
            if (errors && sbuf_addstr(errors, "'{{' without a closing '}}'\n") < 0)
                return nerr + 1;
            return nerr + 1;
        }
        struct piece pc;
        char eb[200];
        const char *err = parse_expr(span_sub(t, (size_t)open + 2, (size_t)(close - open - 2)), &pc,
                                     eb, sizeof(eb));
        if (err) {
            nerr++;
            if (errors && sbuf_addf(errors, "%s\n", err) < 0)
                return nerr;
        } else if (expr) {
            int rc = expr(ctx, &pc);
            if (rc < 0)
                return nerr + 1;
            nerr += (unsigned)rc;
        }
        i = (size_t)close + 2;
    }
    return nerr;
}

struct check_ctx {
    bool (*known)(void *ctx, struct span name);
    void *kctx;
    struct sbuf *errors;
};

static int check_expr(void *ctx, const struct piece *pc)
{
    struct check_ctx *c = ctx;

    if (c->known(c->kctx, pc->var))
        return 0;
    if (sbuf_addf(c->errors,
                  "unknown variable '%.*s' (use rule, severity, value, threshold, window, "
                  "baseline, ratio, calls, a group_by dimension, query when grouped by "
                  "fingerprint, a label, or on source plans from_plan, to_plan, before_ms, "
                  "after_ms, slower_by, calls_before, calls_after, changed_at)\n",
                  (int)pc->var.len, pc->var.p) < 0)
        return -1;
    return 1;
}

unsigned tmpl_check(const char *tmpl, bool (*known)(void *ctx, struct span name), void *ctx,
                    struct sbuf *errors)
{
    struct check_ctx c = { known, ctx, errors };
    return walk(tmpl, NULL, check_expr, &c, errors);
}

/* ---- rendering ---- */

void rule_fmt_value(char *buf, size_t len, double v)
{
    if (isfinite(v) && (v == floor(v) || fabs(v) >= 1e6) && fabs(v) < 1e15)
        snprintf(buf, len, "%.0f", v);
    else
        snprintf(buf, len, "%.6g", v);
}

static void fmt_ms(char *buf, size_t len, double ms)
{
    if (ms >= 3600e3)
        snprintf(buf, len, "%.1f h", ms / 3600e3);
    else if (ms >= 60e3)
        snprintf(buf, len, "%.1f min", ms / 60e3);
    else if (ms >= 1e3)
        snprintf(buf, len, "%.2f s", ms / 1e3);
    else if (ms >= 10)
        snprintf(buf, len, "%.0f ms", ms);
    else
        snprintf(buf, len, "%.2f ms", ms);
}

static void fmt_bytes(char *buf, size_t len, double b)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
    unsigned u = 0;

    while (b >= 1024 && u + 1 < ARRAY_SIZE(units)) {
        b /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%.0f B", b);
    else
        snprintf(buf, len, "%.1f %s", b, units[u]);
}

struct render_ctx {
    const struct tmpl_vars *vars;
    struct sbuf *out;
};

static int render_lit(void *ctx, struct span text)
{
    struct render_ctx *r = ctx;
    return sbuf_addspan(r->out, text);
}

static int render_expr(void *ctx, const struct piece *pc)
{
    struct render_ctx *r = ctx;
    double num = 0;
    bool is_num = false;
    const char *v = r->vars->get(r->vars->ctx, pc->var, &num, &is_num);
    struct sbuf cur = SBUF_INIT;
    char nb[64];
    int rc = 0;

    if (!v)
        v = "";
    if (is_num) {
        rule_fmt_value(nb, sizeof(nb), num);
        v = nb;
    }
    if (sbuf_addstr(&cur, v) < 0)
        goto fail;
    for (int i = 0; i < pc->nfilt; i++) {
        long arg = pc->filt[i].arg;
        switch (pc->filt[i].f) {
        case F_MS:
        case F_BYTES:
        case F_ROUND:
            if (!is_num)
                break; /* filters on text leave it alone */
            if (pc->filt[i].f == F_MS)
                fmt_ms(nb, sizeof(nb), num);
            else if (pc->filt[i].f == F_BYTES)
                fmt_bytes(nb, sizeof(nb), num);
            else
                snprintf(nb, sizeof(nb), "%.*f", (int)(arg > 12 ? 12 : arg), num);
            is_num = false;
            sbuf_reset(&cur);
            if (sbuf_addstr(&cur, nb) < 0)
                goto fail;
            break;
        case F_TRUNCATE: {
            /* Cut at a code point boundary after `arg` code points. */
            size_t pos = 0, n = 0;
            while (pos < cur.len && n < (size_t)arg) {
                uint32_t cp;
                size_t l = utf8_decode((const unsigned char *)cur.buf + pos, cur.len - pos, &cp);
                pos += l ? l : 1;
                n++;
            }
            if (pos < cur.len) {
                sbuf_setlen(&cur, pos);
                if (sbuf_addstr(&cur, "\xE2\x80\xA6") < 0) /* U+2026 ellipsis */
                    goto fail;
            }
            break;
        }
        case F_UPPER:
        case F_LOWER:
            for (size_t j = 0; j < cur.len; j++) {
                char c = cur.buf[j];
                if (pc->filt[i].f == F_UPPER && c >= 'a' && c <= 'z')
                    cur.buf[j] = (char)(c - 32);
                else if (pc->filt[i].f == F_LOWER && c >= 'A' && c <= 'Z')
                    cur.buf[j] = (char)(c + 32);
            }
            break;
        case F_COUNT: break;
        }
    }
    if (sbuf_addspan(r->out, sbuf_span(&cur)) < 0)
        goto fail;
    sbuf_release(&cur);
    return 0;
fail:
    sbuf_release(&cur);
    rc = -1;
    return rc;
}

int tmpl_render(const char *tmpl, const struct tmpl_vars *vars, struct sbuf *out)
{
    struct render_ctx r = { vars, out };
    return walk(tmpl, render_lit, render_expr, &r, NULL) ? -1 : 0;
}
