/* SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "core/span.h"

static void test_compare(void)
{
    CHECK(span_eq_lit(span_cstr("LOG"), "LOG"));
    CHECK(!span_eq_lit(span_cstr("LOG"), "LOGS"));
    CHECK(span_eq_icase(span_cstr("Error"), span_cstr("ERROR")));
    CHECK(span_starts_with_lit(span_cstr("duration: 1 ms"), "duration:"));
    CHECK(span_ends_with(span_cstr("file.gz"), SPAN_LIT(".gz")));
    CHECK(!span_present(SPAN_NULL));
    CHECK(span_present(span_make("", 0)));
}

/* span_eq() and span_starts_with() compare in words (the last one overlapping): every
 * length up to 40 with one differing byte at each position, against memcmp(). */
static void test_compare_words(void)
{
    char a[41], b[41];
    for (size_t n = 0; n <= 40; n++) {
        for (size_t k = 0; k < n; k++)
            a[k] = b[k] = (char)('a' + k % 26);
        CHECK(span_eq(span_make(a, n), span_make(b, n)));
        CHECK(span_starts_with(span_make(a, n), span_make(b, n)));
        CHECK(n == 0 || !span_starts_with(span_make(a, n - 1), span_make(b, n)));
        for (size_t d = 0; d < n; d++) {
            b[d] ^= 0x20;
            bool want = memcmp(a, b, n) == 0;
            CHECK_MSG(!want, "n %zu d %zu", n, d);
            CHECK_MSG(!span_eq(span_make(a, n), span_make(b, n)), "span_eq n %zu d %zu", n, d);
            CHECK_MSG(!span_starts_with(span_make(a, n), span_make(b, n)),
                      "span_starts_with n %zu d %zu", n, d);
            b[d] ^= 0x20;
        }
    }
    CHECK(
        span_starts_with_lit(span_cstr("Failing row contains (1, 2)."), "Failing row contains ("));
    CHECK(
        !span_starts_with_lit(span_cstr("Failing row contains [1, 2)."), "Failing row contains ("));
    CHECK(!span_eq_lit(span_cstr("could not serialize access due to"),
                       "could not serialize access due tO"));
}

static void test_find_sub_trim(void)
{
    struct span s = span_cstr("  a=b; c=d  ");
    CHECK_EQ_INT(span_find_char(s, 0, '='), 3);
    CHECK_EQ_INT(span_find_char(s, 4, '='), 8);
    CHECK_EQ_INT(span_find_char(s, 100, '='), -1);
    CHECK_EQ_INT(span_find(s, 0, SPAN_LIT("c=")), 7);
    CHECK_EQ_INT(span_find(s, 0, SPAN_LIT("zz")), -1);
    CHECK_EQ_SPAN(span_trim(s), "a=b; c=d");
    CHECK_EQ_SPAN(span_sub(s, 2, 3), "a=b");
    CHECK_EQ_INT(span_sub(s, 50, 3).len, 0);
    /* empty and absent spans trim to themselves without touching memory */
    CHECK(!span_present(span_rtrim(SPAN_NULL)) && span_rtrim(SPAN_NULL).len == 0);
    CHECK(!span_present(span_trim(SPAN_NULL)) && span_trim(SPAN_NULL).len == 0);
    CHECK_EQ_INT(span_trim(span_make("", 0)).len, 0);
    CHECK_EQ_INT(span_trim(span_cstr(" \t\n")).len, 0);
}

static long naive_find(struct span s, size_t from, struct span needle)
{
    for (size_t i = from; i + needle.len <= s.len; i++)
        if (!memcmp(s.p + i, needle.p, needle.len))
            return (long)i;
    return needle.len == 0 && from <= s.len ? (long)from : -1;
}

/* span_find() (16 starts a step where SSE2 is there, then one by one) against a naive
 * search: every start offset and needle length over texts of a few letters, so that
 * first and last bytes match often, matches fall at every place of a step and at the
 * text's end, and the search range is shorter, equal and longer than a step. */
static void test_find_random(void)
{
    char text[80], nd[24];
    uint64_t x = 88172645463325252u;
    for (int round = 0; round < 3000; round++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t len = (size_t)(x % sizeof(text)), nlen = (size_t)((x >> 8) % sizeof(nd));
        unsigned letters = 2 + (unsigned)((x >> 16) % 3);
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            text[i] = (char)('a' + x % letters);
        }
        for (size_t i = 0; i < nlen; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            nd[i] = (char)('a' + x % letters);
        }
        if (len && nlen && nlen <= len && (x >> 40) % 2) /* often a needle that occurs */
            memcpy(nd, text + (size_t)((x >> 20) % (len - nlen + 1)), nlen);
        struct span s = span_make(text, len), n = span_make(nd, nlen);
        for (size_t from = 0; from <= len + 1; from++)
            if (span_find(s, from, n) != naive_find(s, from, n)) {
                CHECK_EQ_INT(span_find(s, from, n), naive_find(s, from, n));
                return;
            }
    }
}

static void test_integers(void)
{
    int64_t v = 0;
    uint64_t u = 0;
    CHECK(span_to_i64(span_cstr("-9223372036854775808"), &v) && v == INT64_MIN);
    CHECK(span_to_i64(span_cstr("9223372036854775807"), &v) && v == INT64_MAX);
    CHECK(!span_to_i64(span_cstr("9223372036854775808"), &v));
    CHECK(!span_to_i64(span_cstr("-9223372036854775809"), &v));
    CHECK(span_to_u64(span_cstr("18446744073709551615"), &u) && u == UINT64_MAX);
    CHECK(!span_to_u64(span_cstr("18446744073709551616"), &u));
    CHECK(!span_to_i64(span_cstr(""), &v));
    CHECK(!span_to_i64(span_cstr("-"), &v));
    CHECK(!span_to_i64(span_cstr("12a"), &v));
}

static void test_doubles(void)
{
    double d = 0;
    CHECK(span_to_double(span_cstr("12.345"), &d) && d > 12.3449 && d < 12.3451);
    CHECK(!span_to_double(span_cstr("inf"), &d));
    CHECK(!span_to_double(span_cstr("nan"), &d));
    CHECK(!span_to_double(span_cstr(" 1"), &d));
    CHECK(!span_to_double(span_cstr("1e999"), &d));
    CHECK(!span_to_double(span_cstr(""), &d));
    CHECK(!span_to_double(span_cstr("."), &d));
    CHECK(!span_to_double(span_cstr("-"), &d));
    CHECK(!span_to_double(span_cstr("1.2.3"), &d));
    CHECK(span_to_double(span_cstr("-0"), &d) && d == 0 && signbit(d));

    /* The decimal fast path gives exactly strtod's double. */
    static const char *const fixed[] = { "0.1",
                                         "0.3",
                                         "1.",
                                         ".5",
                                         "+7.25",
                                         "-0.01",
                                         "123456.789",
                                         "999999999999999",
                                         "1e3",
                                         "1.5E-2",
                                         "0.000000000000000000001",
                                         "9007199254740993",
                                         "1234567890123456.5" };
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        CHECK(span_to_double(span_cstr(fixed[i]), &d));
        CHECK_MSG(d == strtod(fixed[i], NULL), "%s", fixed[i]);
    }
    uint64_t x = 88172645463325252u;
    char buf[64];
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        unsigned digits = 1 + (unsigned)(x % 17), point = (unsigned)((x >> 8) % (digits + 1));
        size_t n = 0;
        if (x & (1u << 20))
            buf[n++] = '-';
        uint64_t y = x >> 24;
        for (unsigned k = 0; k < digits; k++) {
            if (k == point)
                buf[n++] = '.';
            buf[n++] = (char)('0' + (y % 10));
            y = y / 10 ? y / 10 : x >> 3;
        }
        buf[n] = '\0';
        CHECK(span_to_double(span_make(buf, n), &d));
        /* the fast path alone: no sign, else strtod's double or nothing */
        double f = -1;
        bool plain = span_to_double_plain(span_make(buf, n), &f);
        CHECK_MSG(buf[0] == '-' ? !plain && f == -1 : !plain || f == d, "plain %s: %.17g", buf, f);
        if (d != strtod(buf, NULL)) {
            CHECK_MSG(0, "%s: %.17g vs strtod %.17g", buf, d, strtod(buf, NULL));
            break;
        }
    }
}

/* span_to_u64 (and span_to_i64_short against span_to_i64) against a digit-by-digit reference with
 * an overflow check: every length to 22, digits mixed with the bytes around '0'..'9' at every
 * position. */
static bool ref_u64(const char *p, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (!n)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned char)p[i] - '0';
        if (d > 9 || v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static void test_integers_random(void)
{
    static const char odd[] = { '/', ':', '0' - 16, '9' + 16, ' ', '-', (char)0xb0, (char)0x39 };
    char buf[24];
    unsigned seed = 7;
    size_t ok = 0;
    for (int round = 0; round < 200000; round++) {
        seed = seed * 1103515245u + 12345u;
        size_t n = (seed >> 8) % 23;
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            unsigned r = seed >> 16;
            buf[i] = (char)(r % 97 == 0 ? odd[r % sizeof(odd)] : '0' + (char)(r % 10));
        }
        if (round % 7 == 0 && n) /* all nines and max-like values */
            memset(buf, '9', n);
        uint64_t a = 1, b = 2;
        bool ra = ref_u64(buf, n, &a), rb = span_to_u64(span_make(buf, n), &b);
        ok += ra;
        if (ra != rb || (ra && a != b)) {
            CHECK_MSG(0, "span_to_u64 '%.*s': %d %d", (int)n, buf, ra, rb);
            return;
        }
        /* span_to_i64_short() is span_to_i64(), also with a sign in front */
        for (int sign = 0; sign < 2; sign++) {
            struct span sp = span_make(buf, n);
            char sb[25];
            if (sign) {
                sb[0] = round % 2 ? '-' : '+';
                memcpy(sb + 1, buf, n);
                sp = span_make(sb, n + 1);
            }
            int64_t x = 3, y = 4;
            bool rx = span_to_i64(sp, &x), ry = span_to_i64_short(sp, &y);
            if (rx != ry || (rx && x != y)) {
                CHECK_MSG(0, "span_to_i64_short '%.*s': %d %d", (int)sp.len, sp.p, rx, ry);
                return;
            }
        }
    }
    CHECK(ok > 100000);
}

TEST_LIST = {
    { "compare", test_compare },
    { "compare_words", test_compare_words },
    { "find_sub_trim", test_find_sub_trim },
    { "find_random", test_find_random },
    { "integers", test_integers },
    { "integers_random", test_integers_random },
    { "doubles", test_doubles },
    { NULL, NULL },
};
