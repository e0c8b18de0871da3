/* SPDX-License-Identifier: MIT */
#include "check.h"
#include "core/clock.h"

static void test_civil_roundtrip(void)
{
    CHECK_EQ_INT(clock_days_from_civil(1970, 1, 1), 0);
    CHECK_EQ_INT(clock_days_from_civil(2000, 3, 1), 11017);
    for (int64_t z = -800000; z < 800000; z += 997) {
        int y;
        unsigned m, d;
        clock_civil_from_days(z, &y, &m, &d);
        CHECK_EQ_INT(clock_days_from_civil(y, m, d), z);
    }
}

static void test_format(void)
{
    char buf[CLOCK_RFC3339_MAX];
    CHECK_EQ_STR(clock_format_rfc3339(0, 0, buf), "1970-01-01T00:00:00Z");
    CHECK_EQ_STR(clock_format_rfc3339(1795514400123456, 3, buf), "2026-11-24T10:00:00.123Z");
    CHECK_EQ_STR(clock_format_rfc3339(1795514400123456, 6, buf), "2026-11-24T10:00:00.123456Z");
    CHECK_EQ_STR(clock_format_rfc3339(-1, 6, buf), "1969-12-31T23:59:59.999999Z");
    /* Leap day. */
    CHECK_EQ_STR(clock_format_rfc3339(951782400 * USEC_PER_SEC, 0, buf), "2000-02-29T00:00:00Z");
}

static void test_parse(void)
{
    int64_t us = 0;
    CHECK(clock_parse_rfc3339(span_cstr("2026-11-24T10:00:00Z"), &us));
    CHECK_EQ_INT(us, 1795514400 * USEC_PER_SEC);
    CHECK(clock_parse_rfc3339(span_cstr("2026-11-24T11:30:00.5+01:30"), &us));
    CHECK_EQ_INT(us, 1795514400 * USEC_PER_SEC + 500000);
    CHECK(clock_parse_rfc3339(span_cstr("2026-11-24"), &us));
    CHECK_EQ_INT(us, (1795514400 - 36000) * USEC_PER_SEC);
    CHECK(!clock_parse_rfc3339(span_cstr("2026-11-24T10:00:00"), &us)); /* no zone */
    CHECK(!clock_parse_rfc3339(span_cstr("2026-13-24"), &us));
    CHECK(!clock_parse_rfc3339(span_cstr("2026-11-24T25:00:00Z"), &us));
    CHECK(!clock_parse_rfc3339(span_cstr("2026-11-24T10:00:00Zjunk"), &us));
    CHECK(!clock_parse_rfc3339(span_cstr(""), &us));
    /* Days past the month's end and impossible zone offsets are errors, not silently
     * moved into the next month or hours away (--since 2026-02-30 was March 2). */
    CHECK(!clock_parse_rfc3339(span_cstr("2026-02-30"), &us));
    CHECK(!clock_parse_rfc3339(span_cstr("2026-02-29T10:00:00Z"), &us));
    CHECK(!clock_parse_rfc3339(span_cstr("2026-04-31"), &us));
    CHECK(clock_parse_rfc3339(span_cstr("2028-02-29"), &us)); /* leap year */
    CHECK(!clock_parse_rfc3339(span_cstr("2100-02-29"), &us));
    CHECK(clock_parse_rfc3339(span_cstr("2000-02-29"), &us));
    CHECK(!clock_parse_rfc3339(span_cstr("2026-11-24T10:00:00+02:75"), &us));
    CHECK(!clock_parse_rfc3339(span_cstr("2026-11-24T10:00:00+99:00"), &us));
    CHECK(clock_parse_rfc3339(span_cstr("2026-11-24T10:00:00-12:00"), &us));
    CHECK_EQ_INT(us, (1795514400 + 12 * 3600) * USEC_PER_SEC);
}

static void test_now_fake(void)
{
    setenv("SIFT_TEST_NOW", "1795514400", 1);
    CHECK_EQ_INT(clock_now_us(), 1795514400 * USEC_PER_SEC);
    setenv("SIFT_TEST_NOW", "2026-11-24T10:00:01Z", 1);
    CHECK_EQ_INT(clock_now_us(), 1795514401 * USEC_PER_SEC);
    unsetenv("SIFT_TEST_NOW");
    CHECK(clock_now_us() > 1795514400 * USEC_PER_SEC - 400 * USEC_PER_DAY);
    int64_t a = clock_mono_ns(), b = clock_mono_ns();
    CHECK(b >= a);
}

TEST_LIST = {
    { "civil_roundtrip", test_civil_roundtrip },
    { "format", test_format },
    { "parse", test_parse },
    { "now_fake", test_now_fake },
    { NULL, NULL },
};
