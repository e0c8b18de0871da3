/* SPDX-License-Identifier: MIT */
/*
 * json_scan - the strict JSON scanner the JSON formats read their usual records with
 * (jsonlog.c, supabase.c), before they fall back to jansson for anything it declines.
 *
 * It takes a subset of what jansson takes and gives the same values for it: strings
 * (escapes decoded, surrogate pairs joined, "\u0000" kept as a NUL byte), integers that
 * fit in int64, reals without an exponent (reported, not converted), true/false/null,
 * and skips nested values. It declines, so the caller asks jansson, on anything else: a
 * raw control character or a bad escape in a string, a lone surrogate, a number outside
 * the JSON grammar, an integer that does not fit or a real that might not be finite
 * (one with an exponent or over 19 integer digits), nesting deeper than JSCAN_MAX_DEPTH,
 * a key with a NUL byte, or any other byte where a value or a separator must be. Bytes >= 0x80
 * inside strings are kept as they are: a caller that needs valid UTF-8 checks the text first.
 *
 * Owns: nothing; unescaped strings are written to the caller's arena.
 */
#ifndef SIFT_PARSE_JSON_SCAN_H
#define SIFT_PARSE_JSON_SCAN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/span.h"

#define JSCAN_MAX_DEPTH 64

enum jv_type { JV_ABSENT, JV_NULL, JV_BOOL, JV_INT, JV_REAL, JV_STRING, JV_OBJECT, JV_ARRAY };

/* A scalar value, or the type alone of a nested one. */
struct jv {
    enum jv_type type;
    struct span s; /* JV_STRING: the (unescaped) value */
    int64_t i;     /* JV_INT */
    double d;      /* JV_REAL, when the caller converts jansson's value (the scanner does not) */
};

struct jscan {
    const char *p, *end;
    struct arena *scratch; /* unescaped strings */
};

/* Skip JSON white space (space, tab, CR, LF). */
static inline void jscan_ws(struct jscan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\r' || *s->p == '\n'))
        s->p++;
}

/* The byte at the cursor is @c: step over it (and return true). */
static inline bool jscan_eat(struct jscan *s, char c)
{
    if (s->p >= s->end || *s->p != c)
        return false;
    s->p++;
    return true;
}

/* A string, the cursor just after its opening quote: *out is the value (into the text
 * when it has no escape, else into the scratch arena). false: declined. */
bool jscan_string(struct jscan *s, struct span *out);
/* A number: JV_INT with v->i, or JV_REAL. false: declined. */
bool jscan_number(struct jscan *s, struct jv *v);
/* A scalar value at the cursor (after white space), or a nested one skipped whole with
 * its type in v->type. false: declined. */
bool jscan_value(struct jscan *s, struct jv *v, int depth);

#endif
