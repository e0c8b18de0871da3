/* SPDX-License-Identifier: MIT */
/*
 * plan_yaml.c - auto_explain YAML plans (explain.c EXPLAIN_FORMAT_YAML): the JSON key
 * tree as block mappings and "- " sequences, strings double-quoted with JSON escapes.
 * Their events (map and sequence starts and ends, scalars) feed plan_events.c.
 *
 * Two readers give the events. EXPLAIN writes a small, fixed part of YAML
 * (explain_format.c: "Key: value" lines indented by two per level, "Key: " opening a
 * group or a list on the lines below, "- " items, values a number, true/false or a
 * string quoted by escape_json(), ExplainPropertyListNested()'s "- [...]"), and
 * fast_read() reads exactly that part and declines anything else: another byte, another
 * indentation, another escape, a comment. libyaml reads what it declines, so a body is
 * always read by the YAML library's rules; fast_read() only gives the same events sooner
 * (libyaml spends about 2 400 instructions an event, 190 a byte, on these bodies: 7 % of
 * a csvlog ingest whose plans are 1 % YAML). test_plan's yaml_readers_agree and
 * fuzz_plan_yaml_xml compare the two readers' events on every body fast_read() accepts.
 *
 * libyaml has no nesting limit and keeps a heap stack per flow level ("[[[[..."), so
 * the body is checked first: EXPLAIN never writes flow collections deeper than an
 * empty "[]", and a body nesting them more than PLAN_YAML_MAX_FLOW deep is refused.
 * A stderr continuation line's leading TAB (YAML forbids tabs in indentation) is
 * dropped from every line before parsing.
 */
#include <string.h>
#include <yaml.h>

#include "classify/classify_int.h"
#include "classify/plan.h"

#define PLAN_YAML_MAX_FLOW 16

/* The bytes prepare() must look at; runs of others are copied as they are. */
static const unsigned char yaml_special[256] = {
    ['\n'] = 1, ['\t'] = 1, ['"'] = 1, ['\''] = 1, ['['] = 1,
    ['{'] = 1,  [']'] = 1,  ['}'] = 1, ['\\'] = 1,
};

/* Copy @body into @a without one leading TAB per line; NULL if the flow nesting is
 * deeper than PLAN_YAML_MAX_FLOW. */
static char *prepare(struct span body, struct arena *a, size_t *len)
{
    char *out = arena_alloc(a, body.len + 1);
    size_t n = 0, flow = 0;
    bool bol = true;
    char quote = 0;

    for (size_t i = 0; i < body.len; i++) {
        /* a run of ordinary bytes: copied, and none is at a line's start after the first */
        size_t j = i;
        while (j < body.len && !yaml_special[(unsigned char)body.p[j]])
            j++;
        if (j > i) {
            memcpy(out + n, body.p + i, j - i);
            n += j - i;
            bol = false;
            i = j;
            if (i == body.len)
                break;
        }
        char c = body.p[i];
        if (bol && c == '\t') {
            bol = false;
            continue;
        }
        bol = c == '\n';
        out[n++] = c;
        if (quote) {
            if (c == '\\' && quote == '"' && i + 1 < body.len)
                out[n++] = body.p[++i];
            else if (c == quote)
                quote = 0;
            else if (c == '\n')
                bol = true;
            continue;
        }
        if (c == '"' || c == '\'') {
            quote = c;
        } else if (c == '[' || c == '{') {
            if (++flow > PLAN_YAML_MAX_FLOW)
                return NULL;
        } else if ((c == ']' || c == '}') && flow) {
            flow--;
        }
    }
    out[n] = '\0';
    *len = n;
    return out;
}

/* ------------------------------------------------------------ fast_read */

/* A byte fast_read() takes anywhere: printable ASCII and '\n'. (libyaml checks UTF-8
 * and refuses control characters; a body with either is left to it.) */
static inline bool plain_byte(unsigned char c)
{
    return (c >= 0x20 && c < 0x7f) || c == '\n';
}

#define FAST_MAX_FRAMES 128
#define FAST_MAX_KEY    1024 /* libyaml's bound on a simple key: longer ones are its errors */

struct fast {
    const char *p, *end; /* the body (prepare()'s copy) */
    struct arena *a;
    plan_yaml_cb *cb;
    void *ctx;
    struct {
        bool seq;
        size_t col;
    } fr[FAST_MAX_FRAMES];
    size_t depth;
};

static void emit(struct fast *f, enum plan_yaml_ev t)
{
    f->cb(f->ctx, t, SPAN_NULL);
}

static void emit_scalar(struct fast *f, const char *s, size_t n)
{
    f->cb(f->ctx, PLAN_YAML_SCALAR, arena_dup(f->a, s, n));
}

static bool fast_push(struct fast *f, bool seq, size_t col)
{
    if (f->depth == FAST_MAX_FRAMES)
        return false;
    f->fr[f->depth].seq = seq;
    f->fr[f->depth].col = col;
    f->depth++;
    emit(f, seq ? PLAN_YAML_SEQ : PLAN_YAML_MAP);
    return true;
}

static inline bool is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* A double-quoted escape_json() string at *pp (at its '"'), on this line: emitted as
 * libyaml decodes it. Only the escapes escape_json() writes are taken. */
static bool fast_quoted(struct fast *f, const char **pp, const char *eol)
{
    const char *p = *pp + 1, *start = p;
    while (p < eol && *p != '"' && *p != '\\')
        p++;
    if (p < eol && *p == '"') { /* no escape: the commonest */
        emit_scalar(f, start, (size_t)(p - start));
        *pp = p + 1;
        return true;
    }
    char *out = arena_alloc(f->a, (size_t)(eol - start) + 1);
    size_t n = (size_t)(p - start);
    memcpy(out, start, n);
    while (p < eol && *p != '"') {
        if (*p != '\\') {
            out[n++] = *p++;
            continue;
        }
        if (eol - p < 2)
            return false;
        char c = p[1], d;
        p += 2;
        switch (c) {
        case '"': d = '"'; break;
        case '\\': d = '\\'; break;
        case 'b': d = '\b'; break;
        case 'f': d = '\f'; break;
        case 'n': d = '\n'; break;
        case 'r': d = '\r'; break;
        case 't': d = '\t'; break;
        case 'u': {
            if (eol - p < 4)
                return false;
            int v = 0;
            for (int k = 0; k < 4; k++) {
                int h = hex_digit(p[k]);
                if (h < 0)
                    return false;
                v = v * 16 + h;
            }
            if (v < 1 || v > 0x7f)
                return false; /* (escape_json() writes \u00XX for control characters) */
            d = (char)v;
            p += 4;
            break;
        }
        default: return false;
        }
        out[n++] = d;
    }
    if (p == eol)
        return false; /* not closed on its line */
    out[n] = '\0';
    f->cb(f->ctx, PLAN_YAML_SCALAR, span_make(out, n));
    *pp = p + 1;
    return true;
}

/* A value after "Key: " up to @eol: a quoted string or a plain number/true/false. */
static bool fast_value(struct fast *f, const char *p, const char *eol)
{
    if (*p == '"')
        return fast_quoted(f, &p, eol) && p == eol;
    if (!(is_alnum((unsigned char)*p) || (*p == '-' && p + 1 < eol && p[1] >= '0' && p[1] <= '9')))
        return false;
    const char *v = p;
    for (p++; p < eol; p++)
        if (!is_alnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != '+')
            return false;
    emit_scalar(f, v, (size_t)(eol - v));
    return true;
}

/* "Key: value" or "Key: " (a value on the lines below) at @p, a mapping's key column.
 * *open: the value is below. */
static bool fast_entry(struct fast *f, const char *p, const char *eol, bool *open)
{
    const char *k = p;
    if (!is_alnum((unsigned char)*p))
        return false;
    while (p < eol && *p != ':') {
        unsigned char c = (unsigned char)*p;
        if (!is_alnum(c) && c != ' ' && c != '/' && c != '(' && c != ')' && c != '_' && c != '-' &&
            c != '.')
            return false;
        p++;
    }
    if (p == eol || p[-1] == ' ' || (size_t)(p - k) > FAST_MAX_KEY)
        return false;
    emit_scalar(f, k, (size_t)(p - k));
    p++; /* ':' */
    if (p == eol || (p + 1 == eol && *p == ' ')) {
        *open = true; /* "Key: " at the end of the line */
        return true;
    }
    if (*p != ' ')
        return false;
    *open = false;
    return fast_value(f, p + 1, eol);
}

/* "- [...]": ExplainPropertyListNested()'s flow list of strings. */
static bool fast_flow(struct fast *f, const char *p, const char *eol)
{
    emit(f, PLAN_YAML_SEQ);
    p++;
    if (p < eol && *p == ']')
        p++;
    else
        for (;;) {
            if (p == eol || *p != '"' || !fast_quoted(f, &p, eol))
                return false;
            if (p < eol && *p == ']') {
                p++;
                break;
            }
            if (eol - p < 2 || p[0] != ',' || p[1] != ' ')
                return false;
            p += 2;
        }
    emit(f, PLAN_YAML_END);
    return p == eol;
}

/* Read the body as explain.c writes it: true when every byte was taken (the events
 * given), false when it holds anything else (some events may have been given). */
static bool fast_read(struct fast *f)
{
    const char *p = f->p, *end = f->end;
    bool open = false; /* a "Key: " waits for its value on the lines below */
    size_t open_col = 0;

    bool started = false;

    for (const char *q = p; q < end; q++)
        if (!plain_byte((unsigned char)*q))
            return false;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        const char *c = p;
        while (c < eol && *c == ' ')
            c++;
        if (c == eol) {
            if (c != p)
                return false; /* spaces only */
            p = eol + 1;
            continue; /* an empty line */
        }
        size_t col = (size_t)(c - p);
        bool dash = eol - c >= 2 && c[0] == '-' && c[1] == ' ';
        if (open) {
            open = false;
            if (col > open_col) {
                if (!fast_push(f, dash, col))
                    return false;
            } else {
                emit_scalar(f, "", 0); /* "Key: " and nothing below: null */
            }
        } else if (!f->depth) {
            if (started || !fast_push(f, dash, col))
                return false; /* (a second top-level collection) */
            started = true;
        }
        while (f->depth && f->fr[f->depth - 1].col > col) {
            f->depth--;
            emit(f, PLAN_YAML_END);
        }
        if (!f->depth || f->fr[f->depth - 1].col != col || f->fr[f->depth - 1].seq != dash)
            return false;
        if (dash) {
            c += 2;
            if (*c == '"') {
                if (!fast_quoted(f, &c, eol) || c != eol)
                    return false;
            } else if (*c == '[') {
                if (!fast_flow(f, c, eol))
                    return false;
            } else {
                col += 2; /* "- Key: ...": a mapping whose first key is on this line */
                if (!fast_push(f, false, col))
                    return false;
                if (!fast_entry(f, c, eol, &open))
                    return false;
            }
        } else if (!fast_entry(f, c, eol, &open)) {
            return false;
        }
        if (open)
            open_col = col;
        p = eol + 1;
    }
    if (!f->depth)
        return false; /* nothing: libyaml says what */
    if (open)
        emit_scalar(f, "", 0);
    while (f->depth) {
        f->depth--;
        emit(f, PLAN_YAML_END);
    }
    return true;
}

/* ------------------------------------------------------------- libyaml */

static int libyaml_read(const char *buf, size_t len, struct arena *a, plan_yaml_cb *cb, void *ctx,
                        const char **err, uint32_t *err_line)
{
    yaml_parser_t parser;
    yaml_event_t event;
    int rc = 0;

    if (!yaml_parser_initialize(&parser)) {
        *err = "out of memory";
        *err_line = 0;
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    for (bool done = false; !done;) {
        if (!yaml_parser_parse(&parser, &event)) {
            *err = "malformed YAML";
            *err_line = (uint32_t)parser.problem_mark.line + 1;
            rc = -1;
            break;
        }
        switch (event.type) {
        case YAML_MAPPING_START_EVENT: cb(ctx, PLAN_YAML_MAP, SPAN_NULL); break;
        case YAML_SEQUENCE_START_EVENT: cb(ctx, PLAN_YAML_SEQ, SPAN_NULL); break;
        case YAML_MAPPING_END_EVENT:
        case YAML_SEQUENCE_END_EVENT: cb(ctx, PLAN_YAML_END, SPAN_NULL); break;
        case YAML_SCALAR_EVENT:
            cb(ctx, PLAN_YAML_SCALAR,
               arena_dup(a, event.data.scalar.value, event.data.scalar.length));
            break;
        case YAML_STREAM_END_EVENT: done = true; break;
        default: break;
        }
        yaml_event_delete(&event);
    }
    yaml_parser_delete(&parser);
    return rc;
}

int plan_yaml_read(struct span body, enum plan_yaml_reader how, struct arena *a, plan_yaml_cb *cb,
                   void *ctx, const char **err, uint32_t *err_line)
{
    size_t len;
    char *buf = prepare(body, a, &len);

    *err = NULL;
    *err_line = 0;
    if (!buf) {
        *err = "YAML nested too deeply";
        return -1;
    }
    if (how != PLAN_YAML_LIBYAML) {
        struct fast f = { .p = buf, .end = buf + len, .a = a, .cb = cb, .ctx = ctx };
        if (fast_read(&f))
            return 0;
        if (how == PLAN_YAML_FAST)
            return 1;
        cb(ctx, PLAN_YAML_RESTART, SPAN_NULL);
    }
    return libyaml_read(buf, len, a, cb, ctx, err, err_line);
}

/* plan_yaml_dump(): the events written out. */
struct dump_ctx {
    struct sbuf *out;
    int rc;
};

static void to_text(void *ctx, enum plan_yaml_ev t, struct span v)
{
    struct dump_ctx *c = ctx;
    struct sbuf *sb = c->out;
    switch (t) {
    case PLAN_YAML_MAP: c->rc |= sbuf_addch(sb, 'M'); break;
    case PLAN_YAML_SEQ: c->rc |= sbuf_addch(sb, 'S'); break;
    case PLAN_YAML_END: c->rc |= sbuf_addch(sb, 'E'); break;
    case PLAN_YAML_SCALAR: c->rc |= sbuf_addf(sb, "s%zu:", v.len) | sbuf_addspan(sb, v); break;
    case PLAN_YAML_RESTART: sbuf_reset(sb); break;
    }
}

int plan_yaml_dump(struct span body, enum plan_yaml_reader how, struct arena *a, struct sbuf *out,
                   const char **err, uint32_t *err_line)
{
    struct dump_ctx c = { out, 0 };
    int rc = plan_yaml_read(body, how, a, to_text, &c, err, err_line);
    if (c.rc) {
        *err = "out of memory";
        return -1;
    }
    return rc;
}

struct parse_ctx {
    struct plan *p;
    struct plan_events ev;
};

static void to_plan(void *ctx, enum plan_yaml_ev t, struct span v)
{
    struct parse_ctx *c = ctx;
    switch (t) {
    case PLAN_YAML_MAP: plan_events_map_start(&c->ev); break;
    case PLAN_YAML_SEQ: plan_events_seq_start(&c->ev); break;
    case PLAN_YAML_END: plan_events_end(&c->ev); break;
    case PLAN_YAML_SCALAR: plan_events_scalar(&c->ev, v); break;
    case PLAN_YAML_RESTART: /* the fast reader declined: libyaml reads it all again */
        plan_events_release(&c->ev);
        plan_reset(c->p, PLAN_YAML);
        plan_events_init(&c->ev, c->p, c->ev.a);
        break;
    }
}

int plan_parse_yaml(struct plan *p, struct span body, struct arena *a)
{
    struct parse_ctx c = { .p = p };
    const char *err;
    uint32_t line;

    plan_reset(p, PLAN_YAML);
    plan_events_init(&c.ev, p, a);
    int rc = plan_yaml_read(body, PLAN_YAML_ANY, a, to_plan, &c, &err, &line);
    plan_events_release(&c.ev);
    if (rc < 0) {
        p->error = err;
        p->error_line = line;
    }
    if (!p->n_nodes) {
        if (!p->error)
            p->error = "no \"Plan\" mapping";
        return -1;
    }
    return 0;
}
