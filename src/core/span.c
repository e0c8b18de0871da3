/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "core/span.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

static inline int lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

int span_cmp(struct span a, struct span b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int c = n ? memcmp(a.p, b.p, n) : 0;
    return c ? c : (a.len > b.len) - (a.len < b.len);
}

bool span_eq_icase(struct span a, struct span b)
{
    if (a.len != b.len)
        return false;
    for (size_t i = 0; i < a.len; i++)
        if (lower((unsigned char)a.p[i]) != lower((unsigned char)b.p[i]))
            return false;
    return true;
}

bool span_ends_with(struct span s, struct span suffix)
{
    return s.len >= suffix.len &&
           (suffix.len == 0 || memcmp(s.p + s.len - suffix.len, suffix.p, suffix.len) == 0);
}

static inline bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

struct span span_rtrim(struct span s)
{
    while (s.len && is_space(s.p[s.len - 1]))
        s.len--;
    return s;
}

struct span span_trim(struct span s)
{
    while (s.len && is_space(s.p[0])) {
        s.p++;
        s.len--;
    }
    return span_rtrim(s);
}

long span_find_char(struct span s, size_t from, char c)
{
    if (from >= s.len)
        return -1;
    const char *hit = memchr(s.p + from, c, s.len - from);
    return hit ? (long)(hit - s.p) : -1;
}

long span_find(struct span s, size_t from, struct span needle)
{
    if (needle.len == 0)
        return from <= s.len ? (long)from : -1;
#ifdef __SSE2__
    if (needle.len >= 2 && from < s.len && s.len - from >= needle.len) {
        /* The starts whose first AND last byte match the needle's, 16 at a time: the
         * needles searched for ("system usage: CPU: ", " of table \"", "elapsed: ")
         * begin with common letters, so a search per first byte stopped at most of them
         * and compared; two bytes rarely both match where the needle is not. */
        size_t n = needle.len, last = s.len - n, i = from; /* last: the last start */
        const __m128i f = _mm_set1_epi8(needle.p[0]), l = _mm_set1_epi8(needle.p[n - 1]);
        for (; i <= last && last - i >= 15; i += 16) { /* starts i..i+15, all <= last */
            __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(s.p + i));
            __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(s.p + i + n - 1));
            unsigned m = (unsigned)_mm_movemask_epi8(
                _mm_and_si128(_mm_cmpeq_epi8(a, f), _mm_cmpeq_epi8(b, l)));
            for (; m; m &= m - 1) {
                size_t k = i + (size_t)__builtin_ctz(m);
                if (!memcmp(s.p + k + 1, needle.p + 1, n - 2))
                    return (long)k;
            }
        }
        for (; i <= last; i++)
            if (s.p[i] == needle.p[0] && s.p[i + n - 1] == needle.p[n - 1] &&
                !memcmp(s.p + i + 1, needle.p + 1, n - 2))
                return (long)i;
        return -1;
    }
#endif
    while (from + needle.len <= s.len) {
        long i = span_find_char(s, from, needle.p[0]);
        if (i < 0 || (size_t)i + needle.len > s.len)
            return -1;
        if (memcmp(s.p + i, needle.p, needle.len) == 0)
            return i;
        from = (size_t)i + 1;
    }
    return -1;
}

/* The value of the eight ASCII digits at @p, or false if one is not a digit (SWAR:
 * validate all eight, then combine pairs, quads and halves with one multiply each). */
static inline bool digits8(const char *p, uint64_t *out)
{
    const unsigned char *b = (const unsigned char *)p;
    uint64_t w = (uint64_t)b[0] | (uint64_t)b[1] << 8 | (uint64_t)b[2] << 16 |
                 (uint64_t)b[3] << 24 | (uint64_t)b[4] << 32 | (uint64_t)b[5] << 40 |
                 (uint64_t)b[6] << 48 | (uint64_t)b[7] << 56;
    const uint64_t hi = UINT64_C(0xF0F0F0F0F0F0F0F0), threes = UINT64_C(0x3030303030303030);
    if ((w & hi) != threes || ((w + UINT64_C(0x0606060606060606)) & hi) != threes)
        return false;
    w = ((w & UINT64_C(0x0F0F0F0F0F0F0F0F)) * 2561) >> 8;
    w = ((w & UINT64_C(0x00FF00FF00FF00FF)) * 6553601) >> 16;
    w = ((w & UINT64_C(0x0000FFFF0000FFFF)) * UINT64_C(42949672960001)) >> 32;
    *out = w;
    return true;
}

bool span_to_u64(struct span s, uint64_t *out)
{
    uint64_t v = 0;

    if (s.len == 0)
        return false;
    if (s.len <= 19) {
        /* At most 19 digits never overflow (10^19 - 1 < 2^64): no check per digit, and
         * eight digits a step while eight are left. */
        size_t i = 0;
        for (; i + 8 <= s.len; i += 8) {
            uint64_t d8;
            if (!digits8(s.p + i, &d8))
                return false;
            v = v * 100000000u + d8;
        }
        for (; i < s.len; i++) {
            unsigned d = (unsigned char)s.p[i] - '0';
            if (d > 9)
                return false;
            v = v * 10 + d;
        }
        *out = v;
        return true;
    }
    for (size_t i = 0; i < s.len; i++) {
        unsigned d = (unsigned char)s.p[i] - '0';
        if (d > 9)
            return false;
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

bool span_to_i64(struct span s, int64_t *out)
{
    bool neg = false;
    uint64_t v;

    if (s.len && (s.p[0] == '-' || s.p[0] == '+')) {
        neg = s.p[0] == '-';
        s.p++;
        s.len--;
    }
    if (!span_to_u64(s, &v))
        return false;
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1)
            return false;
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX)
            return false;
        *out = (int64_t)v;
    }
    return true;
}

bool span_to_double(struct span s, double *out)
{
    char buf[64];
    char *end;
    double v;

    if (s.len == 0 || s.len >= sizeof(buf))
        return false;
    /* strtod accepts "inf", "nan", hex and leading space; logs never carry those. */
    for (size_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'))
            return false;
    }
    /* The common plain decimal ("12.345", "-0.5") without strtod (span.h). */
    {
        bool neg = s.p[0] == '-';
        struct span digits = s.p[0] == '-' || s.p[0] == '+' ? span_sub(s, 1, s.len - 1) : s;
        if (span_to_double_plain(digits, &v)) {
            *out = neg ? -v : v;
            return true;
        }
    }
    memcpy(buf, s.p, s.len);
    buf[s.len] = '\0';
    errno = 0;
    v = strtod(buf, &end);
    if (errno || *end || !isfinite(v))
        return false;
    *out = v;
    return true;
}
