/* SPDX-License-Identifier: MIT */
/*
 * pgtime_parse_cached() against pgtime_parse() over every combination of one second's
 * fractions, zones and --tz, in every order (tests/cases/pgtime also runs every case
 * through both).
 */
#include <stdio.h>

#include "check.h"
#include "parse/parse_int.h"

static void test_cached_equals_uncached(void)
{
    static const char *const heads[] = { "2026-11-25 17:44:54", "2026-11-25 17:44:55",
                                         "2026-11-25T17:44:54", "2026-02-30 17:44:54",
                                         "2026-13-25 17:44:54", "2026-11-25 17:44:5x" };
    static const char *const fracs[] = { "",           ".1",          ".123", ".1234",
                                         ".123456789", ".1234567890", ".",    ".12a" };
    static const char *const tails[] = { " UTC",   " CET", " IST",  "",  "+05",
                                         "-03:30", "Z",    " UTC ", "x", " Asia/Kolkata-long-zone",
                                         " XYZ" };
    static const struct pgtime_tz tzs[] = { { false, 0 }, { true, 19800 }, { true, 0 } };
    char in[128];
    size_t total = 0;

    for (size_t t = 0; t < ARRAY_SIZE(tzs); t++) {
        struct pgtime_cache cache = { 0 };
        /* walk the combinations in two orders so that every one meets a primed cache */
        for (int order = 0; order < 2; order++) {
            for (size_t h = 0; h < ARRAY_SIZE(heads); h++)
                for (size_t z = 0; z < ARRAY_SIZE(tails); z++)
                    for (size_t f = 0; f < ARRAY_SIZE(fracs); f++) {
                        size_t zz = order ? ARRAY_SIZE(tails) - 1 - z : z;
                        snprintf(in, sizeof(in), "%s%s%s", heads[h], fracs[f], tails[zz]);
                        int64_t u1 = 0, u2 = 0;
                        int f1 = -1, f2 = -1;
                        struct span z1, z2;
                        enum pgtime_status s1 = pgtime_parse(span_cstr(in), &tzs[t], &u1, &f1, &z1);
                        enum pgtime_status s2 =
                            pgtime_parse_cached(&cache, span_cstr(in), &tzs[t], &u2, &f2, &z2);
                        CHECK_MSG(s1 == s2 && (s1 != PGTIME_OK || (u1 == u2 && f1 == f2)) &&
                                      z1.p == z2.p && z1.len == z2.len,
                                  "'%s' tz %zu: %d/%d %lld/%lld", in, t, s1, s2, (long long)u1,
                                  (long long)u2);
                        total++;
                    }
        }
        /* a cache primed under one --tz is not used under another */
        int64_t u1, u2;
        int f1, f2;
        pgtime_parse_cached(&cache, span_cstr("2026-11-25 17:44:54.1 IST"), &tzs[t], &u1, &f1,
                            NULL);
        for (size_t o = 0; o < ARRAY_SIZE(tzs); o++) {
            enum pgtime_status s1 =
                pgtime_parse(span_cstr("2026-11-25 17:44:54.2 IST"), &tzs[o], &u1, &f1, NULL);
            enum pgtime_status s2 = pgtime_parse_cached(
                &cache, span_cstr("2026-11-25 17:44:54.2 IST"), &tzs[o], &u2, &f2, NULL);
            CHECK(s1 == s2 && (s1 != PGTIME_OK || u1 == u2));
        }
    }
    CHECK(total > 1000);
}

TEST_LIST = {
    { "cached_equals_uncached", test_cached_equals_uncached },
    { NULL, NULL },
};
