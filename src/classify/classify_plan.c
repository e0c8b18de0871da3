/* SPDX-License-Identifier: MIT */
/*
 * classify_plan.c - auto_explain plan bodies (contrib/auto_explain explain_ExecutorEnd():
 * "duration: %.3f ms  plan:\n%s") and bind parameter lists.
 *
 * The body is EXPLAIN output in auto_explain.log_format: text ("Query Text: ..." then
 * the node tree), json (one object whose first key is "Query Text"), yaml
 * ("Query Text: \"...\"" then "Plan: ") or xml (<explain ...><Query><Query-Text>).
 * "Query Parameters" (PG16+) follows "Query Text". YAML strings use JSON escaping
 * (explain.c escape_yaml() calls escape_json()); XML escapes & < > and CR.
 */
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "classify/classify.h"
#include "classify/classify_int.h"
#include "core/utf8.h"

/* ---------------------------------------------------------------- parameters */

size_t params_scan(struct span s)
{
    size_t i = 0, good = 0;

    for (;;) {
        if (i >= s.len || s.p[i] != '$')
            return good;
        i++;
        size_t digits = i;
        while (i < s.len && is_digit(s.p[i]))
            i++;
        if (i == digits || !span_starts_with_lit(cur_skip(s, i), " = "))
            return good;
        i += 3;
        if (span_starts_with_lit(cur_skip(s, i), "NULL")) {
            i += 4;
        } else if (i < s.len && s.p[i] == '\'') {
            for (i++;; i++) {
                if (i >= s.len)
                    return good; /* unterminated */
                if (s.p[i] != '\'')
                    continue;
                if (i + 1 < s.len && s.p[i + 1] == '\'') {
                    i++;
                    continue;
                }
                i++;
                break;
            }
        } else {
            return good;
        }
        good = i;
        if (!span_starts_with_lit(cur_skip(s, i), ", "))
            return good;
        i += 2;
    }
}

static void set_params(struct event *ev, struct span p)
{
    ev->params = p;
    ev->flags |= EVENT_HAS_PARAMS;
}

/* The parameter list at @s: the scanned list, or the rest of the line when it does not
 * scan (cut or unexpected text: better too much than leaking what follows). */
static struct span params_at(struct span s)
{
    size_t n = params_scan(s);
    struct span rest;

    return n ? span_make(s.p, n) : line_first(s, &rest);
}

void classify_params(struct event *ev)
{
    struct span d = span_trim(ev->detail);

    /* errdetail("parameters: %s") PG13-16, "Parameters: %s" PG17+ */
    if (d.len > 12 && (d.p[0] == 'p' || d.p[0] == 'P') &&
        span_starts_with_lit(cur_skip(d, 1), "arameters: ")) {
        set_params(ev, cur_skip(d, 12));
        return;
    }
    /* CONTEXT "unnamed portal with parameters: %s" / "portal \"%s\" with parameters: %s"
     * (params.c ParamsErrorCallback), on any line of the context. */
    struct span c = ev->context;
    for (long i = span_find(c, 0, LIT(" with parameters: ")); i >= 0;
         i = span_find(c, (size_t)i + 1, LIT(" with parameters: "))) {
        size_t bol = (size_t)i;
        while (bol > 0 && c.p[bol - 1] != '\n')
            bol--;
        struct span line = span_trim(span_make(c.p + bol, (size_t)i - bol));
        if (!span_eq_lit(line, "unnamed portal") &&
            !(span_starts_with_lit(line, "portal \"") && span_ends_with(line, LIT("\""))))
            continue;
        set_params(ev, params_at(cur_skip(c, (size_t)i + sizeof(" with parameters: ") - 1)));
        return;
    }
}

/* ---------------------------------------------------------------- string decoding */

static bool hex4(struct span s, size_t at, unsigned *out)
{
    unsigned v = 0;

    if (at + 4 > s.len)
        return false;
    for (size_t k = 0; k < 4; k++) {
        int h = hex_digit(s.p[at + k]);
        if (h < 0)
            return false;
        v = v << 4 | (unsigned)h;
    }
    *out = v;
    return true;
}

/*
 * A JSON string starting at the '"' at the cursor: its decoded value (a sub-span when it
 * has no escapes, else a copy in @a) and the cursor moved past the closing quote.
 * Decoded text is never longer than the escaped text (\uXXXX is 6 bytes for at most 3,
 * a surrogate pair 12 for 4), so one allocation of the raw length suffices.
 */
bool classify_json_string(struct span *s, struct arena *a, struct span *out)
{
    size_t i;
    bool escaped = false;

    if (!s->len || s->p[0] != '"')
        return false;
    for (i = 1; i < s->len; i++) {
#if defined(__SSE2__)
        /* 16 bytes a step to the next '"' or '\\' */
        const __m128i vq = _mm_set1_epi8('"'), vb = _mm_set1_epi8('\\');
        while (s->len - i >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s->p + i));
            unsigned m = (unsigned)_mm_movemask_epi8(
                _mm_or_si128(_mm_cmpeq_epi8(v, vq), _mm_cmpeq_epi8(v, vb)));
            if (m) {
                i += (size_t)__builtin_ctz(m);
                break;
            }
            i += 16;
        }
        if (i >= s->len)
            break;
#endif
        if (s->p[i] == '"')
            break;
        if (s->p[i] == '\\') {
            escaped = true;
            i++;
        }
    }
    if (i >= s->len)
        return false;
    struct span raw = span_make(s->p + 1, i - 1);
    *s = cur_skip(*s, i + 1);
    if (!escaped) {
        *out = raw;
        return true;
    }
    if (!a) {
        *out = SPAN_NULL;
        return true;
    }
    char *q = arena_alloc(a, raw.len + 1);
    size_t n = 0;
    for (size_t k = 0; k < raw.len; k++) {
        char c = raw.p[k];
        if (c != '\\' || k + 1 >= raw.len) {
            q[n++] = c;
            continue;
        }
        c = raw.p[++k];
        switch (c) {
        case 'n': q[n++] = '\n'; break;
        case 't': q[n++] = '\t'; break;
        case 'r': q[n++] = '\r'; break;
        case 'b': q[n++] = '\b'; break;
        case 'f': q[n++] = '\f'; break;
        case 'u': {
            unsigned cp, lo;
            if (!hex4(raw, k + 1, &cp)) {
                q[n++] = 'u';
                break;
            }
            k += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && k + 2 < raw.len && raw.p[k + 1] == '\\' &&
                raw.p[k + 2] == 'u' && hex4(raw, k + 3, &lo) && lo >= 0xDC00 && lo < 0xE000) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                k += 6;
            } else if (cp >= 0xD800 && cp < 0xE000) {
                cp = 0xFFFD; /* lone surrogate */
            }
            n += utf8_encode(cp, q + n);
            break;
        }
        default: q[n++] = c; break; /* \" \\ \/ and anything unknown: the character */
        }
    }
    q[n] = '\0';
    *out = span_make(q, n);
    return true;
}

/* The still-escaped contents of the JSON string that classify_json_string() moved @from to @to. */
static struct span json_raw(struct span from, struct span to)
{
    return span_make(from.p + 1, (size_t)(to.p - from.p) - 2);
}

/* XML element text: &lt; &gt; &amp; &quot; &apos; &#xHH; &#NN; decoded into @a. */
struct span classify_xml_text(struct span raw, struct arena *a)
{
    if (span_find_char(raw, 0, '&') < 0)
        return raw;
    if (!a)
        return SPAN_NULL;
    static const struct {
        struct span ent;
        char c;
    } ents[] = {
        { SPAN_INIT("&lt;"), '<' },   { SPAN_INIT("&gt;"), '>' },    { SPAN_INIT("&amp;"), '&' },
        { SPAN_INIT("&quot;"), '"' }, { SPAN_INIT("&apos;"), '\'' },
    };
    char *q = arena_alloc(a, raw.len + 1);
    size_t n = 0;
    for (size_t k = 0; k < raw.len;) {
        struct span at = cur_skip(raw, k);
        size_t e;
        if (raw.p[k] != '&')
            goto literal;
        for (e = 0; e < sizeof(ents) / sizeof(ents[0]); e++)
            if (span_starts_with(at, ents[e].ent))
                break;
        if (e < sizeof(ents) / sizeof(ents[0])) {
            q[n++] = ents[e].c;
            k += ents[e].ent.len;
            continue;
        }
        if (at.len > 3 && at.p[1] == '#') {
            unsigned cp = 0;
            size_t j = 2, start;
            bool hex = at.p[2] == 'x' || at.p[2] == 'X';
            if (hex)
                j++;
            start = j;
            while (j < at.len && j < start + 6 &&
                   (hex ? hex_digit(at.p[j]) >= 0 : is_digit(at.p[j]))) {
                cp = cp * (hex ? 16u : 10u) + (unsigned)(hex ? hex_digit(at.p[j]) : at.p[j] - '0');
                j++;
            }
            if (j > start && j < at.len && at.p[j] == ';' && cp > 0 && cp < 0x110000 &&
                !(cp >= 0xD800 && cp < 0xE000)) {
                /* "&#N;" is at least 4 bytes, its UTF-8 at most 4: still fits. */
                n += utf8_encode(cp, q + n);
                k += j + 1;
                continue;
            }
        }
    literal:
        q[n++] = raw.p[k++];
    }
    q[n] = '\0';
    return span_make(q, n);
}

/* ---------------------------------------------------------------- formats */

static void skip_ws(struct span *s)
{
    while (s->len && (s->p[0] == ' ' || s->p[0] == '\t' || s->p[0] == '\n' || s->p[0] == '\r'))
        *s = cur_skip(*s, 1);
}

static void plan_json(struct event *ev, struct span s, struct arena *a)
{
    struct span v;

    s = cur_skip(s, 1); /* '{' */
    skip_ws(&s);
    if (!cur_eat_lit(&s, "\"Query Text\""))
        return;
    skip_ws(&s);
    if (!cur_eat_lit(&s, ":"))
        return;
    skip_ws(&s);
    if (!classify_json_string(&s, a, &v))
        return;
    ev->query = v;
    skip_ws(&s);
    if (!cur_eat_lit(&s, ","))
        return;
    skip_ws(&s);
    if (!cur_eat_lit(&s, "\"Query Parameters\""))
        return;
    skip_ws(&s);
    if (cur_eat_lit(&s, ":")) {
        skip_ws(&s);
        struct span start = s;
        if (classify_json_string(&s, a, &v))
            set_params(ev, span_present(v) ? v : json_raw(start, s));
    }
}

static void plan_yaml(struct event *ev, struct span s, struct arena *a)
{
    struct span v, rest;

    s = cur_skip(s, sizeof("Query Text: ") - 1);
    if (!classify_json_string(&s, a, &v))
        return;
    ev->query = v;
    line_first(s, &rest);
    if (cur_eat_lit(&rest, "Query Parameters: ")) {
        struct span start = rest;
        if (classify_json_string(&rest, a, &v))
            set_params(ev, span_present(v) ? v : json_raw(start, rest));
    }
}

static void plan_xml(struct event *ev, struct span s, struct arena *a)
{
    long i = span_find(s, 0, LIT("<Query-Text>")), e;

    if (i < 0)
        return;
    s = cur_skip(s, (size_t)i + sizeof("<Query-Text>") - 1);
    e = span_find(s, 0, LIT("</Query-Text>"));
    if (e < 0)
        return;
    ev->query = classify_xml_text(span_make(s.p, (size_t)e), a);
    s = cur_skip(s, (size_t)e + sizeof("</Query-Text>") - 1);
    skip_ws(&s);
    if (cur_eat_lit(&s, "<Query-Parameters>")) {
        e = span_find(s, 0, LIT("</Query-Parameters>"));
        if (e >= 0) {
            struct span raw = span_make(s.p, (size_t)e), v = classify_xml_text(raw, a);
            set_params(ev, span_present(v) ? v : raw);
        }
    }
}

/* A line of a text plan, without the TAB a stderr continuation line may keep. */
static struct span plan_line(struct span s, struct span *rest)
{
    struct span line = line_first(s, rest);

    if (line.len && line.p[0] == '\t')
        line = cur_skip(line, 1);
    return line;
}

/* Where the root node starts: a line at column 0 with "  (cost=" (auto_explain always
 * prints costs). */
static bool is_root_node(struct span line)
{
    return line.len && line.p[0] != ' ' && span_find(line, 0, LIT("  (cost=")) >= 0;
}

static void plan_text(struct event *ev, struct span s)
{
    struct span rest, line, q;

    s = cur_skip(s, sizeof("Query Text: ") - 1);
    q = line_first(s, &rest);
    /* "Query Text" is the raw source and may span lines: it ends before "Query
     * Parameters:" or the root node. Without either, keep the first line only. */
    for (struct span r = rest; r.len;) {
        const char *bol = r.p;
        line = plan_line(r, &r);
        if (span_starts_with_lit(line, "Query Parameters: ")) {
            q = span_rtrim(span_make(s.p, (size_t)(bol - s.p)));
            /* The list may hold newlines inside quoted values: scan to the body's end. */
            const char *from = line.p + sizeof("Query Parameters: ") - 1;
            set_params(ev, params_at(span_make(from, (size_t)(s.p + s.len - from))));
            break;
        }
        if (is_root_node(line)) {
            q = span_rtrim(span_make(s.p, (size_t)(bol - s.p)));
            break;
        }
    }
    ev->query = q;
}

enum plan_format plan_detect_format(struct span body)
{
    struct span s = body;

    skip_ws(&s);
    if (!s.len)
        return PLAN_NONE;
    if (s.p[0] == '{')
        return PLAN_JSON;
    if (s.p[0] == '<')
        return PLAN_XML;
    if (span_starts_with_lit(s, "Query Text: \"") &&
        (span_find(s, 0, LIT("\nPlan: ")) >= 0 || span_find(s, 0, LIT("\nPlan:\n")) >= 0 ||
         span_find(s, 0, LIT("\n\tPlan: ")) >= 0))
        return PLAN_YAML;
    return PLAN_TEXT;
}

void classify_plan_body(struct event *ev, struct span body, struct arena *a)
{
    struct span s = body;

    ev->plan = body;
    ev->plan_format = plan_detect_format(body);
    skip_ws(&s);
    switch (ev->plan_format) {
    case PLAN_JSON: plan_json(ev, s, a); break;
    case PLAN_XML: plan_xml(ev, s, a); break;
    case PLAN_YAML: plan_yaml(ev, s, a); break;
    case PLAN_TEXT:
        if (span_starts_with_lit(s, "Query Text: "))
            plan_text(ev, s);
        break;
    default: break;
    }
}
