/* SPDX-License-Identifier: MIT */
/*
 * json_scan.c - the strict JSON scanner of the JSON formats (json_scan.h).
 */
#include <string.h>

#include "core/bytescan.h"
#include "core/utf8.h"
#include "parse/json_scan.h"

/* Four hex digits (core/span.h hex_digit()): their value, or -1. */
static int hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hex_digit(p[i]);
        if (h < 0)
            return -1;
        v = v << 4 | h;
    }
    return v;
}

bool jscan_string(struct jscan *s, struct span *out)
{
    const char *start = s->p;
    const char *q = start + bytescan_json_special(start, (size_t)(s->end - start));

    /* the common case: no escape */
    if (q >= s->end || (unsigned char)*q < 0x20)
        return false;
    if (*q == '"') {
        *out = span_make(start, (size_t)(q - start));
        s->p = q + 1;
        return true;
    }
    /* Unescape into scratch; the result is never longer than the source. */
    char *o = arena_alloc(s->scratch, (size_t)(s->end - start) + 1);
    size_t n = (size_t)(q - start);
    memcpy(o, start, n);
    while (q < s->end) {
        /* copy the plain run up to the next '"', '\\' or control byte at once */
        size_t run = bytescan_json_special(q, (size_t)(s->end - q));
        memcpy(o + n, q, run);
        n += run;
        q += run;
        if (q >= s->end)
            break;
        char c = *q;
        if (c == '"') {
            o[n] = '\0';
            *out = span_make(o, n);
            s->p = q + 1;
            return true;
        }
        if ((unsigned char)c < 0x20)
            return false;
        if (c != '\\') {
            o[n++] = c;
            q++;
            continue;
        }
        if (q + 1 >= s->end)
            return false;
        char e = q[1];
        q += 2;
        switch (e) {
        case '"': o[n++] = '"'; break;
        case '\\': o[n++] = '\\'; break;
        case '/': o[n++] = '/'; break;
        case 'b': o[n++] = '\b'; break;
        case 'f': o[n++] = '\f'; break;
        case 'n': o[n++] = '\n'; break;
        case 'r': o[n++] = '\r'; break;
        case 't': o[n++] = '\t'; break;
        case 'u': {
            if (s->end - q < 4)
                return false;
            int cp = hex4(q);
            if (cp < 0)
                return false;
            q += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (s->end - q < 6 || q[0] != '\\' || q[1] != 'u')
                    return false;
                int lo = hex4(q + 2);
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return false;
                q += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return false;
            }
            n += utf8_encode((uint32_t)cp, o + n);
            break;
        }
        default: return false;
        }
    }
    return false;
}

bool jscan_number(struct jscan *s, struct jv *v)
{
    const char *p = s->p, *e = s->end;
    bool neg = false, integer = true;
    uint64_t mag = 0;
    bool overflow = false;

    if (p < e && *p == '-') {
        neg = true;
        p++;
    }
    if (p >= e || *p < '0' || *p > '9')
        return false;
    if (*p == '0') {
        p++;
    } else {
        while (p < e && *p >= '0' && *p <= '9') {
            unsigned d = (unsigned)(*p - '0');
            if (mag > (UINT64_MAX - d) / 10)
                overflow = true;
            else
                mag = mag * 10 + d;
            p++;
        }
    }
    if (p < e && *p == '.') {
        integer = false;
        p++;
        if (p >= e || *p < '0' || *p > '9')
            return false;
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    }
    /* A real with an exponent, or with more integer digits than int64 holds, might not
     * be finite: jansson refuses one that is not. */
    if (p < e && (*p == 'e' || *p == 'E'))
        return false;
    if (!integer && overflow)
        return false;
    if (integer) {
        if (overflow || (!neg && mag > (uint64_t)INT64_MAX) ||
            (neg && mag > (uint64_t)INT64_MAX + 1))
            return false; /* (jansson refuses it too) */
        v->type = JV_INT;
        v->i = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    } else {
        v->type = JV_REAL;
    }
    s->p = p;
    return true;
}

static bool literal(struct jscan *s, const char *lit, size_t n)
{
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
        return false;
    s->p += n;
    return true;
}

/* The rest of an object or array whose opening byte is behind the cursor. */
static bool nested(struct jscan *s, bool object, int depth)
{
    char close = object ? '}' : ']';
    struct jv v;

    if (depth > JSCAN_MAX_DEPTH)
        return false;
    jscan_ws(s);
    if (jscan_eat(s, close))
        return true;
    for (;;) {
        jscan_ws(s);
        if (object) {
            struct span key;
            if (!jscan_eat(s, '"') || !jscan_string(s, &key))
                return false;
            jscan_ws(s);
            if (!jscan_eat(s, ':'))
                return false;
            /* jansson refuses a key with a NUL byte */
            if (memchr(key.p, '\0', key.len))
                return false;
        }
        if (!jscan_value(s, &v, depth))
            return false;
        jscan_ws(s);
        if (jscan_eat(s, ','))
            continue;
        return jscan_eat(s, close);
    }
}

bool jscan_value(struct jscan *s, struct jv *v, int depth)
{
    jscan_ws(s);
    if (s->p >= s->end)
        return false;
    switch (*s->p) {
    case '"':
        s->p++;
        v->type = JV_STRING;
        return jscan_string(s, &v->s);
    case '{':
    case '[':
        v->type = *s->p == '{' ? JV_OBJECT : JV_ARRAY;
        s->p++;
        return nested(s, v->type == JV_OBJECT, depth + 1);
    case 't': v->type = JV_BOOL; return literal(s, "true", 4);
    case 'f': v->type = JV_BOOL; return literal(s, "false", 5);
    case 'n': v->type = JV_NULL; return literal(s, "null", 4);
    default: return jscan_number(s, v);
    }
}
