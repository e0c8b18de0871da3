/* SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/compat.h"
#include "core/sbuf.h"

/* Invariants after every operation (Git's assert_sane_strbuf). */
static void assert_sane(const struct sbuf *sb)
{
    CHECK(sb->buf != NULL);
    CHECK(sb->buf[sb->len] == '\0');
    CHECK(sb->alloc == 0 ? sb->len == 0 : sb->len < sb->alloc);
}

static void test_init_empty(void)
{
    struct sbuf sb = SBUF_INIT;
    assert_sane(&sb);
    CHECK_EQ_STR(sb.buf, "");
    sbuf_release(&sb);
    assert_sane(&sb);
}

static void test_add_and_format(void)
{
    struct sbuf sb = SBUF_INIT;
    CHECK(sbuf_addstr(&sb, "abc") == 0);
    CHECK(sbuf_addch(&sb, '-') == 0);
    CHECK(sbuf_addf(&sb, "%d:%s", 42, "x") == 0);
    assert_sane(&sb);
    CHECK_EQ_STR(sb.buf, "abc-42:x");
    /* A formatted string longer than the internal small buffer. */
    char big[600];
    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    CHECK(sbuf_addf(&sb, "%s", big) == 0);
    CHECK_EQ_INT(sb.len, 8 + 599);
    assert_sane(&sb);
    sbuf_release(&sb);
}

static void test_cap_at_boundaries(void)
{
    struct sbuf sb;
    sbuf_init(&sb, 10);
    CHECK(sbuf_add(&sb, "123456789", 9) == 0); /* limit - 1 */
    CHECK(sbuf_addch(&sb, '0') == 0);          /* limit */
    CHECK_EQ_INT(sb.len, 10);
    CHECK(sbuf_addch(&sb, 'x') == -1); /* limit + 1 fails, buffer unchanged */
    CHECK_EQ_STR(sb.buf, "1234567890");
    CHECK(sbuf_addf(&sb, "%s", "y") == -1);
    CHECK_EQ_INT(sb.len, 10);
    assert_sane(&sb);
    sbuf_release(&sb);
}

static void test_consume_detach_reset(void)
{
    struct sbuf sb = SBUF_INIT;
    CHECK(sbuf_addstr(&sb, "hello world") == 0);
    sbuf_consume(&sb, 6);
    CHECK_EQ_STR(sb.buf, "world");
    assert_sane(&sb);
    size_t len;
    char *s = sbuf_detach(&sb, &len);
    CHECK_EQ_STR(s, "world");
    CHECK_EQ_INT(len, 5);
    free(s);
    assert_sane(&sb);
    CHECK_EQ_INT(sb.len, 0);
    CHECK(sbuf_addstr(&sb, "again") == 0);
    sbuf_reset(&sb);
    assert_sane(&sb);
    CHECK_EQ_STR(sb.buf, "");
    sbuf_release(&sb);
}

static void test_embedded_nul(void)
{
    struct sbuf sb = SBUF_INIT;
    CHECK(sbuf_add(&sb, "a\0b", 3) == 0);
    CHECK_EQ_INT(sb.len, 3);
    CHECK(memcmp(sb.buf, "a\0b", 4) == 0);
    sbuf_release(&sb);
}

/* sbuf_add_fixed() against snprintf("%.*f") on the values plans carry (decimals read
 * from text, whole counts) and on its edges (ties, huge, negative, -0, NaN, inf). */
static void check_fixed(double v, int dec)
{
    char want[512];
    struct sbuf sb = SBUF_INIT;
    snprintf(want, sizeof(want), "%.*f", dec, v);
    CHECK(sbuf_add_fixed(&sb, v, dec) == 0);
    if (strcmp(sb.buf, want) != 0)
        CHECK_EQ_STR(sb.buf, want);
    sbuf_release(&sb);
}

static void test_add_fixed(void)
{
    static const double edges[] = {
        0,     -0.0, 0.5,    1.5,  2.5,      0.125,           0.0005,
        0.1,   0.7,  99.995, 1e12, 1.5e12,   1099511627775.0, 4503599627370497.0,
        1e300, -1,   -0.4,   NAN,  INFINITY, -INFINITY
    };
    for (size_t i = 0; i < ARRAY_SIZE(edges); i++)
        for (int dec = 0; dec <= 7; dec++)
            check_fixed(edges[i], dec);
    uint64_t x = 88172645463325252u;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        /* a decimal with 0-4 places as EXPLAIN prints it, parsed like the plan reader */
        char txt[64];
        int places = (int)(x % 5);
        uint64_t digits = (x >> 8) % (i % 3 ? 100000000u : 1000000000000000u);
        snprintf(txt, sizeof(txt), "%llu", (unsigned long long)digits);
        size_t len = strlen(txt);
        if (places) {
            while (len <= (size_t)places) {
                memmove(txt + 1, txt, len + 1);
                txt[0] = '0';
                len++;
            }
            memmove(txt + len - places + 1, txt + len - places, (size_t)places + 1);
            txt[len - places] = '.';
        }
        double v = strtod(txt, NULL);
        check_fixed(v, (int)((x >> 60) % 4));
        check_fixed(v / 3, (int)((x >> 58) % 4));
    }
}

TEST_LIST = {
    { "init_empty", test_init_empty },
    { "add_and_format", test_add_and_format },
    { "cap_at_boundaries", test_cap_at_boundaries },
    { "consume_detach_reset", test_consume_detach_reset },
    { "embedded_nul", test_embedded_nul },
    { "add_fixed", test_add_fixed },
    { NULL, NULL },
};
