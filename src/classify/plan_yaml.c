/* SPDX-License-Identifier: MIT */
/*
 * plan_yaml.c - auto_explain YAML plans (explain.c EXPLAIN_FORMAT_YAML): the JSON key
 * tree as block mappings and "- " sequences, strings double-quoted with JSON escapes.
 * libyaml reads them; its events feed plan_events.c.
 *
 * libyaml has no nesting limit and keeps a heap stack per flow level ("[[[[..."), so
 * the body is checked first: EXPLAIN never writes flow collections deeper than an
 * empty "[]", and a body nesting them more than PLAN_YAML_MAX_FLOW deep is refused.
 * A stderr continuation line's leading TAB (YAML forbids tabs in indentation) is
 * dropped from every line before parsing.
 *
 * EXPLAIN's own YAML is a small subset (explain.c: one "key: value" or "- " per line,
 * keys are plain words, text values double-quoted by escape_json(), numbers and
 * booleans plain, nesting by two more spaces), and libyaml spends most of its time on
 * what that subset never uses (a token queue, a malloc per token and event, a copy of
 * every scalar). So a body is first read by read_subset(), which gives the same events
 * libyaml gives for it, straight from the body (scalars without escapes are sub-spans
 * of it); at the first thing outside the subset (a blank or comment line, a flow
 * collection, a quoted key, a multi-line scalar, an escape other than EXPLAIN's, a
 * byte that is not printable ASCII or plain UTF-8, nesting deeper than YAML_SUBSET_DEPTH)
 * it gives up, the partial tree is dropped, and libyaml reads the body from the start.
 * The subset is accepted only where libyaml would accept it with the same events:
 * test_plan (`yaml_subset`) and fuzz_plan_yaml_xml compare the two event streams
 * (plan_yaml_trace()).
 */
#include <string.h>
#include <yaml.h>

#include "classify/classify_int.h"
#include "classify/plan.h"
#include "core/utf8.h"

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

/* ---------------------------------------------------------------- events */

/* Where the events go: the tree builder, or (plan_yaml_trace()) a text trace. */
struct yaml_out {
    struct plan_events *ev;
    struct sbuf *trace;
};

static void out_map(struct yaml_out *o)
{
    if (o->ev)
        plan_events_map_start(o->ev);
    else
        (void)!sbuf_addch(o->trace, '{');
}

static void out_seq(struct yaml_out *o)
{
    if (o->ev)
        plan_events_seq_start(o->ev);
    else
        (void)!sbuf_addch(o->trace, '[');
}

static void out_end(struct yaml_out *o)
{
    if (o->ev)
        plan_events_end(o->ev);
    else
        (void)!sbuf_addch(o->trace, '}');
}

static void out_scalar(struct yaml_out *o, struct span v)
{
    if (o->ev)
        plan_events_scalar(o->ev, v);
    else if (sbuf_addf(o->trace, "=%zu:", v.len) == 0)
        (void)!sbuf_addspan(o->trace, v);
}

/* ---------------------------------------------------------------- the subset */

#define YAML_SUBSET_DEPTH 600u /* nested maps and sequences; deeper bodies go to libyaml */
#define YAML_SUBSET_KEY   128u /* key bytes (libyaml refuses simple keys over 1024) */

struct subset {
    const char *p;
    size_t len;
    size_t c;   /* the current line's first byte after its indentation */
    size_t ind; /* its indentation (spaces, after a dropped leading TAB) */
    bool eof;   /* no current line */
    unsigned depth;
    struct arena *a;
    struct yaml_out *out;
};

/* Key bytes: letters, digits, space, '_', '-', '/' (explain.c's labels). */
static const unsigned char key_byte[256] = {
    [' '] = 1, ['_'] = 1, ['-'] = 1, ['/'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1,
    ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['A'] = 1, ['B'] = 1,
    ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1,
    ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
    ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
};

static bool is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* Plain value bytes: numbers and booleans ("306.88", "-1", "1e+06", "true"). */
static bool plain_byte(unsigned char c)
{
    return is_alnum(c) || c == '.' || c == '+' || c == '-';
}

/* The line starting at @s becomes the current one. False when it is blank (YAML would
 * fold or skip it: not the subset). */
static bool line_at(struct subset *y, size_t s)
{
    if (s >= y->len) {
        y->eof = true;
        return true;
    }
    if (y->p[s] == '\t')
        s++;
    size_t c = s;
    while (c < y->len && y->p[c] == ' ')
        c++;
    if (c == y->len || y->p[c] == '\n')
        return false;
    y->c = c;
    y->ind = c - s;
    return true;
}

/* Past the end of the line holding @i (which must be its end: '\n' or the body's end). */
static bool next_line(struct subset *y, size_t i)
{
    return i >= y->len ? (y->eof = true) : line_at(y, i + 1);
}

/* A key at @i: "word: " or "word:" at the line's end; its end (the ':') in *colon. */
static bool key_at(const struct subset *y, size_t i, size_t *colon)
{
    size_t j = i;

    if (j >= y->len || !is_alnum((unsigned char)y->p[j]))
        return false;
    while (j < y->len && key_byte[(unsigned char)y->p[j]] && j - i <= YAML_SUBSET_KEY)
        j++;
    if (j >= y->len || y->p[j] != ':' || y->p[j - 1] == ' ' || j - i > YAML_SUBSET_KEY)
        return false;
    if (j + 1 < y->len && y->p[j + 1] != ' ' && y->p[j + 1] != '\n')
        return false;
    *colon = j;
    return true;
}

/* A code point libyaml takes as it is inside a quoted scalar: not a control, not a line
 * break (U+0085, U+2028, U+2029), not a BOM. */
static bool plain_cp(uint32_t cp)
{
    return (cp >= 0xA0 && cp <= 0xD7FF && cp != 0x2028 && cp != 0x2029) ||
           (cp >= 0xE000 && cp <= 0xFFFD && cp != 0xFEFF) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

static int hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The double-quoted scalar at @i (its '"'), which must end its line: its value in *v, the
 * line's end in *end. Escapes: escape_json()'s (\" \\ \/ \b \f \n \r \t, \u00XX below
 * 0x80). */
static bool quoted_at(struct subset *y, size_t i, struct span *v, size_t *end)
{
    const unsigned char *p = (const unsigned char *)y->p;
    size_t j = i + 1, escapes = 0;

    for (;;) {
        if (j >= y->len)
            return false;
        unsigned char c = p[j];
        if (c == '"')
            break;
        if (c == '\\') {
            if (j + 1 >= y->len)
                return false;
            switch (p[j + 1]) {
            case '"':
            case '\\':
            case '/':
            case 'b':
            case 'f':
            case 'n':
            case 'r':
            case 't': j += 2; break;
            case 'u': {
                if (j + 5 >= y->len || p[j + 2] != '0' || p[j + 3] != '0' ||
                    hex_digit(p[j + 4]) < 0 || hex_digit(p[j + 4]) > 7 || hex_digit(p[j + 5]) < 0)
                    return false;
                j += 6;
                break;
            }
            default: return false;
            }
            escapes++;
            continue;
        }
        if (c < 0x20 || c == 0x7F)
            return false;
        if (c < 0x80) {
            j++;
            continue;
        }
        uint32_t cp;
        size_t n = utf8_decode(p + j, y->len - j, &cp);
        if (n == 0 || !plain_cp(cp))
            return false;
        j += n;
    }
    size_t close = j;
    if (close + 1 < y->len && p[close + 1] != '\n')
        return false;
    *end = close + 1;
    if (!escapes) {
        *v = span_make(y->p + i + 1, close - i - 1);
        return true;
    }
    char *d = arena_alloc(y->a, close - i);
    size_t n = 0;
    for (j = i + 1; j < close;) {
        if (p[j] != '\\') {
            d[n++] = (char)p[j++];
            continue;
        }
        switch (p[j + 1]) {
        case 'b': d[n++] = '\b'; break;
        case 'f': d[n++] = '\f'; break;
        case 'n': d[n++] = '\n'; break;
        case 'r': d[n++] = '\r'; break;
        case 't': d[n++] = '\t'; break;
        case 'u': d[n++] = (char)(hex_digit(p[j + 4]) * 16 + hex_digit(p[j + 5])); break;
        default: d[n++] = (char)p[j + 1]; break;
        }
        j += p[j + 1] == 'u' ? 6 : 2;
    }
    d[n] = '\0';
    *v = span_make(d, n);
    return true;
}

/* A scalar at @i that ends its line (quoted, or a plain number/boolean): sent, and the
 * next line made current. */
static bool scalar_at(struct subset *y, size_t i)
{
    struct span v;
    size_t end;

    if (i >= y->len)
        return false;
    if (y->p[i] == '"') {
        if (!quoted_at(y, i, &v, &end))
            return false;
    } else {
        unsigned char c0 = (unsigned char)y->p[i];
        if (!is_alnum(c0) &&
            !(c0 == '-' && i + 1 < y->len && y->p[i + 1] >= '0' && y->p[i + 1] <= '9'))
            return false;
        end = i + 1;
        while (end < y->len && plain_byte((unsigned char)y->p[end]))
            end++;
        if (end < y->len && y->p[end] != '\n')
            return false;
        v = span_make(y->p + i, end - i);
    }
    out_scalar(y->out, v);
    return next_line(y, end);
}

static bool block_map(struct subset *y, size_t col, size_t i);
static bool block_seq(struct subset *y, size_t col);

/* The value under a key whose line ended after the ':' (the current line is the next
 * one): a more indented map or "- " sequence, else an empty scalar. */
static bool nested(struct subset *y, size_t col, size_t at)
{
    if (y->eof || y->ind <= col) {
        out_scalar(y->out, span_make(y->p + at, 0));
        return true;
    }
    if (++y->depth > YAML_SUBSET_DEPTH)
        return false;
    size_t c = y->c;
    bool ok = y->p[c] == '-' ? block_seq(y, y->ind) : block_map(y, y->ind, c);
    y->depth--;
    return ok;
}

/* A block map whose keys are at column @col, the first at byte @i of the current line. */
static bool block_map(struct subset *y, size_t col, size_t i)
{
    out_map(y->out);
    for (;;) {
        size_t colon;
        if (!key_at(y, i, &colon))
            return false;
        out_scalar(y->out, span_make(y->p + i, colon - i));
        size_t v = colon + 1;
        while (v < y->len && y->p[v] == ' ')
            v++;
        if (v >= y->len || y->p[v] == '\n') {
            if (!next_line(y, v) || !nested(y, col, colon))
                return false;
        } else if (!scalar_at(y, v)) {
            return false;
        }
        if (y->eof || y->ind < col)
            break;
        if (y->ind > col)
            return false;
        i = y->c;
    }
    out_end(y->out);
    return true;
}

/* A block sequence whose "- " are at column @col (the current line holds the first). */
static bool block_seq(struct subset *y, size_t col)
{
    out_seq(y->out);
    for (;;) {
        size_t c = y->c, colon;
        if (c + 2 >= y->len || y->p[c] != '-' || y->p[c + 1] != ' ')
            return false;
        if (key_at(y, c + 2, &colon)) {
            if (++y->depth > YAML_SUBSET_DEPTH || !block_map(y, col + 2, c + 2))
                return false;
            y->depth--;
        } else if (!scalar_at(y, c + 2)) {
            return false;
        }
        if (y->eof || y->ind < col)
            break;
        if (y->ind > col)
            return false;
    }
    out_end(y->out);
    return true;
}

/* The whole body as EXPLAIN's subset: a block map or sequence at column 0. */
static bool read_subset(struct span body, struct arena *a, struct yaml_out *out)
{
    struct subset y = { body.p, body.len, 0, 0, false, 0, a, out };

    if (!body.len || !line_at(&y, 0) || y.eof || y.ind)
        return false;
    size_t c = y.c;
    if (!(y.p[c] == '-' ? block_seq(&y, 0) : block_map(&y, 0, c)))
        return false;
    return y.eof;
}

/* ---------------------------------------------------------------- libyaml */

/* The events of @body by libyaml; -1 (with p->error and p->error_line when @p) when it
 * fails. */
static int read_libyaml(struct span body, struct arena *a, struct yaml_out *out, struct plan *p)
{
    yaml_parser_t parser;
    yaml_event_t event;
    size_t len;
    int rc = 0;
    bool done = false;

    char *buf = prepare(body, a, &len);
    if (!buf) {
        if (p)
            p->error = "YAML nested too deeply";
        return -1;
    }
    if (!yaml_parser_initialize(&parser)) {
        if (p)
            p->error = "out of memory";
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    while (!done) {
        if (!yaml_parser_parse(&parser, &event)) {
            if (p) {
                p->error = "malformed YAML";
                p->error_line = (uint32_t)parser.problem_mark.line + 1;
            }
            rc = -1;
            break;
        }
        switch (event.type) {
        case YAML_MAPPING_START_EVENT: out_map(out); break;
        case YAML_SEQUENCE_START_EVENT: out_seq(out); break;
        case YAML_MAPPING_END_EVENT:
        case YAML_SEQUENCE_END_EVENT: out_end(out); break;
        case YAML_SCALAR_EVENT:
            out_scalar(out, arena_dup(a, event.data.scalar.value, event.data.scalar.length));
            break;
        case YAML_STREAM_END_EVENT: done = true; break;
        default: break;
        }
        yaml_event_delete(&event);
    }
    yaml_parser_delete(&parser);
    return rc;
}

bool plan_yaml_no_subset;

int plan_yaml_trace(struct span body, bool subset, struct arena *a, struct sbuf *trace)
{
    struct yaml_out out = { NULL, trace };

    sbuf_reset(trace);
    if (subset)
        return read_subset(body, a, &out) ? 0 : 1;
    return read_libyaml(body, a, &out, NULL);
}

int plan_parse_yaml(struct plan *p, struct span body, struct arena *a)
{
    struct plan_events ev;
    struct yaml_out out = { &ev, NULL };

    plan_reset(p, PLAN_YAML);
    plan_events_init(&ev, p, a);
    if (plan_yaml_no_subset || !read_subset(body, a, &out)) {
        /* outside the subset: what was built from its start is dropped */
        plan_events_release(&ev);
        plan_reset(p, PLAN_YAML);
        plan_events_init(&ev, p, a);
        (void)read_libyaml(body, a, &out, p);
    }
    plan_events_release(&ev);
    if (!p->n_nodes) {
        if (!p->error)
            p->error = "no \"Plan\" mapping";
        return -1;
    }
    return 0;
}
