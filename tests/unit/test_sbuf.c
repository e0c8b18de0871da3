/* SPDX-License-Identifier: MIT */
#include "check.h"
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

TEST_LIST = {
    { "init_empty", test_init_empty },
    { "add_and_format", test_add_and_format },
    { "cap_at_boundaries", test_cap_at_boundaries },
    { "consume_detach_reset", test_consume_detach_reset },
    { "embedded_nul", test_embedded_nul },
    { NULL, NULL },
};
