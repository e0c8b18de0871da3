/* SPDX-License-Identifier: MIT */
/*
 * plan_json.c - auto_explain JSON plans: one object (auto_explain turns EXPLAIN's
 * "[ {...} ]" into "{...}") with "Query Text", "Plan" (nested through "Plans"),
 * "Triggers", "JIT" and "Settings" (formats.md section 8.3).
 *
 * A small scanner over the body: strings are sub-spans of it unless they hold escapes
 * (then decoded into the arena); numbers, true/false/null are their raw text. Nesting
 * of plan nodes recurses at most SIFT_MAX_PLAN_DEPTH deep; every other value is
 * skipped without recursion, so no input can exhaust the stack.
 */
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "classify/classify_int.h"
#include "classify/plan.h"
#include "core/limits.h"

struct json_parser {
    struct plan *p;
    struct arena *a;
    struct span body;
    struct span cur;
    bool failed;
};

static void fail(struct json_parser *jp, const char *why)
{
    if (jp->failed)
        return;
    jp->failed = true;
    jp->p->error = why;
    uint32_t line = 1;
    for (const char *c = jp->body.p; c < jp->cur.p; c++)
        line += *c == '\n';
    jp->p->error_line = line;
}

static void ws_run(struct json_parser *jp)
{
    struct span *s = &jp->cur;
    size_t i = 0;

    /* auto_explain indents its JSON: a line break, then two spaces per level (nodes
     * nest, so often more than 16): 16 bytes a step while 16 are left, the first byte
     * that is not white space found by a compare per white-space byte */
#ifdef __SSE2__
    const __m128i sp = _mm_set1_epi8(' '), tab = _mm_set1_epi8('\t'), nl = _mm_set1_epi8('\n'),
                  cr = _mm_set1_epi8('\r');
    while (s->len - i >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s->p + i));
        __m128i w = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, sp), _mm_cmpeq_epi8(v, tab)),
                                 _mm_or_si128(_mm_cmpeq_epi8(v, nl), _mm_cmpeq_epi8(v, cr)));
        unsigned other = ~(unsigned)_mm_movemask_epi8(w) & 0xffffu;
        if (other) {
            *s = cur_skip(*s, i + (size_t)__builtin_ctz(other));
            return;
        }
        i += 16;
    }
#endif
    /* the last bytes: runs of spaces 8 bytes at a time */
    for (;;) {
        uint64_t w;
        while (s->len - i >= 8 && (memcpy(&w, s->p + i, 8), w == UINT64_C(0x2020202020202020)))
            i += 8;
        if (i < s->len &&
            (s->p[i] == ' ' || s->p[i] == '\t' || s->p[i] == '\n' || s->p[i] == '\r')) {
            i++;
            continue;
        }
        break;
    }
    if (i)
        *s = cur_skip(*s, i);
}

/* Skip white space. Every token is looked at through here, most often right after the
 * previous one was consumed and with no white space before it: a byte above ' ' ends
 * it at once, without a call. */
static inline void ws(struct json_parser *jp)
{
    if (jp->cur.len && (unsigned char)jp->cur.p[0] > ' ')
        return;
    ws_run(jp);
}

static inline bool peek(struct json_parser *jp, char c)
{
    ws(jp);
    return jp->cur.len && jp->cur.p[0] == c;
}

static inline bool eat(struct json_parser *jp, char c)
{
    if (!peek(jp, c))
        return false;
    jp->cur = cur_skip(jp->cur, 1);
    return true;
}

static inline bool string(struct json_parser *jp, struct span *out)
{
    ws(jp);
    if (!classify_json_string(&jp->cur, jp->a, out)) {
        fail(jp, "malformed JSON string");
        return false;
    }
    return true;
}

/* A scalar: string (decoded), number or literal (raw text). */
static bool scalar(struct json_parser *jp, struct span *out)
{
    ws(jp);
    if (!jp->cur.len) {
        fail(jp, "JSON value expected, end of plan found");
        return false;
    }
    if (jp->cur.p[0] == '"')
        return string(jp, out);
    size_t n = 0;
    while (n < jp->cur.len) {
        char c = jp->cur.p[n];
        if (!(is_digit(c) || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' ||
              (c >= 'a' && c <= 'z')))
            break;
        n++;
    }
    if (!n) {
        fail(jp, "JSON value expected");
        return false;
    }
    *out = span_make(jp->cur.p, n);
    jp->cur = cur_skip(jp->cur, n);
    return true;
}

/* Skip one value of any nesting without recursion; returns its raw text. */
static bool skip_value(struct json_parser *jp, struct span *raw)
{
    ws(jp);
    const char *start = jp->cur.p;
    if (!jp->cur.len || (jp->cur.p[0] != '{' && jp->cur.p[0] != '[')) {
        struct span v;
        if (!scalar(jp, &v))
            return false;
        if (raw)
            *raw = span_make(start, (size_t)(jp->cur.p - start));
        return true;
    }
    size_t depth = 0;
    while (jp->cur.len) {
        char c = jp->cur.p[0];
        if (c == '"') {
            struct span v;
            if (!classify_json_string(&jp->cur, NULL, &v)) {
                fail(jp, "malformed JSON string");
                return false;
            }
            continue;
        }
        jp->cur = cur_skip(jp->cur, 1);
        if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (--depth == 0) {
                if (raw)
                    *raw = span_make(start, (size_t)(jp->cur.p - start));
                return true;
            }
        }
    }
    fail(jp, "JSON value not closed");
    return false;
}

/* Iterate the members of an object: call with the cursor at '{' (first) or after a
 * value (next). Returns false at '}' or on an error. */
static inline bool member(struct json_parser *jp, bool *first, struct span *key)
{
    if (*first) {
        if (!eat(jp, '{')) {
            fail(jp, "JSON object expected");
            return false;
        }
        *first = false;
        if (eat(jp, '}'))
            return false;
    } else if (!eat(jp, ',')) {
        if (!eat(jp, '}'))
            fail(jp, "',' or '}' expected in a JSON object");
        return false;
    }
    if (!string(jp, key))
        return false;
    if (!eat(jp, ':')) {
        fail(jp, "':' expected after a JSON key");
        return false;
    }
    return true;
}

/* Same for the elements of an array. */
static bool element(struct json_parser *jp, bool *first)
{
    if (*first) {
        if (!eat(jp, '[')) {
            fail(jp, "JSON array expected");
            return false;
        }
        *first = false;
        return !eat(jp, ']');
    }
    if (eat(jp, ','))
        return true;
    if (!eat(jp, ']'))
        fail(jp, "',' or ']' expected in a JSON array");
    return false;
}

/* "Sort Key": ["a", "b DESC"] kept as the raw array text without its brackets. */
static struct span array_text(struct span raw)
{
    if (raw.len >= 2 && raw.p[0] == '[')
        return span_trim(span_make(raw.p + 1, raw.len - 2));
    return raw;
}

static void workers(struct json_parser *jp, struct plan_node *n)
{
    bool first = true;

    while (!jp->failed && element(jp, &first)) {
        if (!peek(jp, '{')) {
            skip_value(jp, NULL);
            continue;
        }
        bool f2 = true;
        struct span key, v;
        while (!jp->failed && member(jp, &f2, &key)) {
            if (peek(jp, '{') || peek(jp, '[')) {
                skip_value(jp, NULL);
                continue;
            }
            if (scalar(jp, &v))
                plan_node_set(jp->p, n, key, v, true);
        }
    }
}

static void node(struct json_parser *jp, uint32_t parent, uint32_t depth)
{
    if (depth > SIFT_MAX_PLAN_DEPTH) {
        jp->p->truncated = true;
        skip_value(jp, NULL);
        return;
    }
    uint32_t idx = plan_add_node(jp->p, jp->a, parent);
    if (idx == PLAN_NONE_IDX) {
        skip_value(jp, NULL);
        return;
    }
    bool first = true;
    struct span key, v;
    while (!jp->failed && member(jp, &first, &key)) {
        if (span_eq_lit(key, "Plans")) {
            bool f2 = true;
            while (!jp->failed && element(jp, &f2)) {
                if (peek(jp, '{'))
                    node(jp, idx, depth + 1);
                else
                    skip_value(jp, NULL);
            }
        } else if (span_eq_lit(key, "Workers") && peek(jp, '[')) {
            workers(jp, &jp->p->nodes[idx]);
        } else if (peek(jp, '[')) {
            struct span raw;
            if (skip_value(jp, &raw) &&
                (span_eq_lit(key, "Sort Key") || span_eq_lit(key, "Group Key")))
                plan_node_set(jp->p, &jp->p->nodes[idx], key, array_text(raw), false);
        } else if (peek(jp, '{')) {
            skip_value(jp, NULL);
        } else if (scalar(jp, &v)) {
            plan_node_set(jp->p, &jp->p->nodes[idx], key, v, false);
        }
    }
}

static void triggers(struct json_parser *jp)
{
    bool first = true;

    while (!jp->failed && element(jp, &first)) {
        struct plan_trigger *t;
        if (!peek(jp, '{') || !(t = plan_add_trigger(jp->p, jp->a))) {
            skip_value(jp, NULL);
            continue;
        }
        bool f2 = true;
        struct span key, v;
        while (!jp->failed && member(jp, &f2, &key)) {
            if (peek(jp, '{') || peek(jp, '['))
                skip_value(jp, NULL);
            else if (scalar(jp, &v))
                plan_trigger_set(t, key, v);
        }
    }
}

/* "JIT": {"Functions": 3, "Options": {...}, "Timing": {"Generation": 1.2 | {"Deform":
 * .., "Total": ..}, "Inlining": .., "Optimization": .., "Emission": .., "Total": ..}} */
static void jit(struct json_parser *jp)
{
    bool first = true;
    struct span key, v;

    while (!jp->failed && member(jp, &first, &key)) {
        if (span_eq_lit(key, "Timing") && peek(jp, '{')) {
            bool f2 = true;
            struct span k2;
            while (!jp->failed && member(jp, &f2, &k2)) {
                if (span_eq_lit(k2, "Generation") && peek(jp, '{')) {
                    bool f3 = true;
                    struct span k3;
                    while (!jp->failed && member(jp, &f3, &k3)) {
                        if (peek(jp, '{') || peek(jp, '['))
                            skip_value(jp, NULL);
                        else if (scalar(jp, &v) && span_eq_lit(k3, "Total"))
                            plan_jit_set(jp->p, k2, v);
                    }
                } else if (peek(jp, '{') || peek(jp, '[')) {
                    skip_value(jp, NULL);
                } else if (scalar(jp, &v)) {
                    plan_jit_set(jp->p, k2, v);
                }
            }
        } else if (peek(jp, '{') || peek(jp, '[')) {
            skip_value(jp, NULL);
        } else if (scalar(jp, &v)) {
            plan_jit_set(jp->p, key, v);
        }
    }
}

int plan_parse_json(struct plan *p, struct span body, struct arena *a)
{
    struct json_parser jp = { p, a, body, body, false };
    bool first = true;
    struct span key, v;

    plan_reset(p, PLAN_JSON);
    while (!jp.failed && member(&jp, &first, &key)) {
        if (span_eq_lit(key, "Query Text") && peek(&jp, '"')) {
            if (string(&jp, &v))
                p->query = v;
        } else if (span_eq_lit(key, "Plan") && peek(&jp, '{')) {
            if (p->n_nodes)
                skip_value(&jp, NULL); /* one plan per object */
            else
                node(&jp, PLAN_NONE_IDX, 1);
        } else if (span_eq_lit(key, "Triggers") && peek(&jp, '[')) {
            triggers(&jp);
        } else if (span_eq_lit(key, "JIT") && peek(&jp, '{')) {
            jit(&jp);
        } else if (span_eq_lit(key, "Settings")) {
            if (skip_value(&jp, &v))
                p->settings = v;
        } else {
            skip_value(&jp, NULL);
        }
    }
    if (!p->n_nodes) {
        if (!p->error)
            p->error = "no \"Plan\" object";
        return -1;
    }
    return 0;
}
