/* SPDX-License-Identifier: MIT */
/*
 * span - a non-owning view of bytes (pointer + length), like curl's Curl_str.
 *
 * Parsers produce spans into the chunk they read or into the batch arena; nothing is
 * copied on the hot path. A span is borrowed: it is valid as long as the memory it
 * points into (see the producer's header). Spans are not NUL-terminated.
 */
#ifndef SIFT_CORE_SPAN_H
#define SIFT_CORE_SPAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct span {
    const char *p;
    size_t len;
};

#define SPAN_NULL   ((struct span){ NULL, 0 })
#define SPAN_LIT(s) ((struct span){ (s), sizeof(s) - 1 })

static inline struct span span_make(const char *p, size_t len)
{
    return (struct span){ p, len };
}

static inline struct span span_cstr(const char *s)
{
    return (struct span){ s, s ? strlen(s) : 0 };
}

/* The value of the hex digit @c (0-9, a-f, A-F), or -1. */
static inline int hex_digit(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* A span with p == NULL is "absent"; a span with len == 0 and p != NULL is "empty".
 * Formats that distinguish the two (csvlog's empty vs absent fields) rely on this. */
static inline bool span_present(struct span s)
{
    return s.p != NULL;
}

/* memcmp(a, b, n) == 0 in 8-byte words (the last one overlapping), 4-byte words or
 * bytes: unrolled in place when @n is a constant (span_eq_lit(), span_starts_with_lit()),
 * where a memcmp() of a long literal would stay a library call. */
static inline bool span_bytes_eq_(const char *a, const char *b, size_t n)
{
    uint64_t x, y;
    uint32_t u, v;
    if (n >= 8) {
        for (size_t i = 0; i + 8 <= n; i += 8) {
            memcpy(&x, a + i, 8);
            memcpy(&y, b + i, 8);
            if (x != y)
                return false;
        }
        memcpy(&x, a + n - 8, 8);
        memcpy(&y, b + n - 8, 8);
        return x == y;
    }
    if (n >= 4) {
        memcpy(&u, a, 4);
        memcpy(&v, b, 4);
        if (u != v)
            return false;
        memcpy(&u, a + n - 4, 4);
        memcpy(&v, b + n - 4, 4);
        return u == v;
    }
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

/* Inline, comparing b.len bytes, so that with a literal for @b the length is a constant. */
static inline bool span_eq(struct span a, struct span b)
{
    return a.len == b.len && span_bytes_eq_(a.p, b.p, b.len);
}

#define span_eq_lit(s, lit) span_eq((s), SPAN_LIT(lit))

/* Byte order, then the shorter first (SQLite's BINARY collation; memcmp() order): < 0, 0
 * or > 0. */
int span_cmp(struct span a, struct span b);

bool span_eq_icase(struct span a, struct span b);
/* Inline for the same reason as span_eq(): span_starts_with_lit() compares a constant
 * number of bytes. */
static inline bool span_starts_with(struct span s, struct span prefix)
{
    return s.len >= prefix.len && span_bytes_eq_(s.p, prefix.p, prefix.len);
}
#define span_starts_with_lit(s, lit) span_starts_with((s), SPAN_LIT(lit))
bool span_ends_with(struct span s, struct span suffix);

/* Return the sub-span [from, from+n) clamped to s. (Inline: called per record by the
 * parsers and the store, where the call cost more than the clamping.) */
static inline struct span span_sub(struct span s, size_t from, size_t n)
{
    if (from > s.len)
        from = s.len;
    if (n > s.len - from)
        n = s.len - from;
    return span_make(s.p ? s.p + from : NULL, n);
}

/* Strip ASCII white space on both ends / on the right. */
struct span span_trim(struct span s);
struct span span_rtrim(struct span s);

/* Index of the first occurrence of c or of needle at or after `from`, or -1. */
long span_find_char(struct span s, size_t from, char c);
long span_find(struct span s, size_t from, struct span needle);

/* Parse a whole span as a decimal integer (optional sign). Returns false on empty
 * input, trailing garbage or overflow; *out untouched then. */
bool span_to_i64(struct span s, int64_t *out);
bool span_to_u64(struct span s, uint64_t *out);

/* span_to_i64() with the short unsigned numbers (1 to 9 digits: pids, line counters,
 * transaction ids) converted inline, without the call; anything else (a sign, more
 * digits, garbage) goes to span_to_i64(), so the result is always span_to_i64()'s. */
static inline bool span_to_i64_short(struct span s, int64_t *out)
{
    if (s.len == 0 || s.len > 9)
        return span_to_i64(s, out);
    int64_t v = 0;
    for (size_t i = 0; i < s.len; i++) {
        unsigned d = (unsigned)(unsigned char)s.p[i] - '0';
        if (d > 9)
            return span_to_i64(s, out);
        v = v * 10 + (int64_t)d;
    }
    *out = v;
    return true;
}

/* Parse a decimal number like "12.345" or "1e3" (whole span). */
bool span_to_double(struct span s, double *out);

/* The fast path of span_to_double() alone, for callers that meet plain decimals by the
 * million (EXPLAIN's numbers): @s is exactly digits with at most one '.', at most 15
 * digits and 22 decimals; then the value is the integer mantissa divided by an exact
 * power of ten, one correctly rounded division, so exactly strtod's double (Clinger's
 * fast path). False (nothing written) for anything else, including a sign. */
static inline bool span_to_double_plain(struct span s, double *out)
{
    static const double pow10[23] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                      1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
    size_t i = 0, digits = 0, decimals = 0;
    uint64_t m = 0;
    bool dot = false;

    for (; i < s.len; i++) {
        char c = s.p[i];
        if (c >= '0' && c <= '9') {
            m = m * 10 + (uint64_t)(c - '0');
            digits++;
            decimals += dot;
        } else if (c == '.' && !dot) {
            dot = true;
        } else {
            return false;
        }
    }
    if (digits == 0 || digits > 15 || decimals > 22)
        return false;
    *out = (double)m / pow10[decimals];
    return true;
}

#endif
