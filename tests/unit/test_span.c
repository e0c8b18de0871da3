/* SPDX-License-Identifier: MIT */
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
}

TEST_LIST = {
    { "compare", test_compare },
    { "find_sub_trim", test_find_sub_trim },
    { "integers", test_integers },
    { "doubles", test_doubles },
    { NULL, NULL },
};
