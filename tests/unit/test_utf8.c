/* SPDX-License-Identifier: MIT */
#include "check.h"
#include "core/compat.h"
#include "core/utf8.h"

static size_t dec(const char *s, size_t len, uint32_t *cp)
{
    return utf8_decode((const unsigned char *)s, len, cp);
}

static void test_decode_valid(void)
{
    uint32_t cp = 0;
    CHECK_EQ_INT(dec("A", 1, &cp), 1);
    CHECK_EQ_INT(cp, 'A');
    CHECK_EQ_INT(dec("\xc3\xa9", 2, &cp), 2); /* é */
    CHECK_EQ_INT(cp, 0xE9);
    CHECK_EQ_INT(dec("\xe6\x97\xa5", 3, &cp), 3); /* 日 */
    CHECK_EQ_INT(cp, 0x65E5);
    CHECK_EQ_INT(dec("\xf0\x9f\x98\x80", 4, &cp), 4); /* emoji */
    CHECK_EQ_INT(cp, 0x1F600);
    CHECK_EQ_INT(dec("\xe2\x80\xa8", 3, &cp), 3); /* U+2028 is valid UTF-8 */
}

static void test_decode_invalid(void)
{
    uint32_t cp;
    CHECK_EQ_INT(dec("\x80", 1, &cp), 0);             /* lone continuation */
    CHECK_EQ_INT(dec("\xc0\xaf", 2, &cp), 0);         /* overlong '/' */
    CHECK_EQ_INT(dec("\xe0\x80\xaf", 3, &cp), 0);     /* overlong */
    CHECK_EQ_INT(dec("\xed\xa0\x80", 3, &cp), 0);     /* surrogate D800 */
    CHECK_EQ_INT(dec("\xf4\x90\x80\x80", 4, &cp), 0); /* > U+10FFFF */
    CHECK_EQ_INT(dec("\xf5\x80\x80\x80", 4, &cp), 0);
    CHECK_EQ_INT(dec("\xe6\x97", 2, &cp), 0); /* truncated */
    CHECK_EQ_INT(dec("\xff", 1, &cp), 0);
}

static void test_valid_and_encode(void)
{
    CHECK(utf8_valid(span_cstr("plain ascii text, longer than eight bytes")));
    CHECK(utf8_valid(span_cstr("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac")));
    CHECK(!utf8_valid(span_cstr("abcdefgh\xff")));
    CHECK(!utf8_valid(span_make("ab\xc3", 3)));
    CHECK(utf8_valid(span_make("a\0b", 3)));
    char out[4];
    uint32_t cps[] = { 0x24, 0xA2, 0x20AC, 0x10348, 0xFFFD };
    for (size_t i = 0; i < ARRAY_SIZE(cps); i++) {
        uint32_t back = 0;
        size_t n = utf8_encode(cps[i], out);
        CHECK_EQ_INT(utf8_decode((unsigned char *)out, n, &back), n);
        CHECK_EQ_INT(back, cps[i]);
    }
}

/* What a terminal acts on: C0, DEL, C1, the bidirectional controls; not text. */
static void test_control(void)
{
    static const uint32_t yes[] = { 0x00,   0x1b,   0x0a,   0x7f,   0x80,   0x9b,   0x9f,
                                    0x061c, 0x200e, 0x200f, 0x202a, 0x202e, 0x2066, 0x2069 };
    static const uint32_t no[] = { 0x20,   'a',    0x7e,   0xa0,   0xe9,   0x200b,
                                   0x2028, 0x202f, 0x2065, 0x206a, 0x20ac, 0x1f600 };
    for (size_t i = 0; i < ARRAY_SIZE(yes); i++)
        CHECK_MSG(utf8_is_control(yes[i]), "U+%04X is a control", (unsigned)yes[i]);
    for (size_t i = 0; i < ARRAY_SIZE(no); i++)
        CHECK_MSG(!utf8_is_control(no[i]), "U+%04X is text", (unsigned)no[i]);
    CHECK_EQ_INT(utf8_control_len((const unsigned char *)"\xc2\x9b[2J", 5), 2);
    CHECK_EQ_INT(utf8_control_len((const unsigned char *)"\xe2\x80\xae", 3), 3);
    CHECK_EQ_INT(utf8_control_len((const unsigned char *)"\x1b", 1), 1);
    CHECK_EQ_INT(utf8_control_len((const unsigned char *)"\xc3\xa9", 2), 0);
    CHECK_EQ_INT(utf8_control_len((const unsigned char *)"\xc2", 1), 0); /* cut: not decoded */
}

/* Each byte of a control character overwritten, text (é, a cut sequence) left alone;
 * keep_lines keeps newline and tab. */
static void test_defang(void)
{
    char a[] = "a\x1b[2J\xc2\x9b\t\xc3\xa9\n\xe2\x80\xaez\xc2";
    char b[sizeof(a)];
    memcpy(b, a, sizeof(a));
    utf8_defang(a, sizeof(a) - 1, '?', true);
    CHECK_EQ_STR(a, "a?[2J??\t\xc3\xa9\n???z?"); /* (a cut sequence starts no character) */
    utf8_defang(b, sizeof(b) - 1, ' ', false);
    CHECK_EQ_STR(b, "a [2J   \xc3\xa9    z ");
    char c[] = "x\x9b[31m\xff\xe6\x97y\xe6\x97\xa5"; /* raw CSI, 0xff, a cut sequence */
    utf8_defang(c, sizeof(c) - 1, '?', false);
    CHECK_EQ_STR(c, "x?[31m???y\xe6\x97\xa5");
}

/* Table columns: ASCII one each, any other character two (whatever its byte length). */
static void test_columns(void)
{
    CHECK_EQ_INT(utf8_columns(""), 0);
    CHECK_EQ_INT(utf8_columns("app_rw"), 6);
    CHECK_EQ_INT(utf8_columns("caf\xc3\xa9"), 5);                  /* é: 2 bytes */
    CHECK_EQ_INT(utf8_columns("\xe2\x80\xa6x"), 3);                /* …: 3 bytes */
    CHECK_EQ_INT(utf8_columns("\xf0\x9f\x90\x98\xe6\x97\xa5"), 4); /* 4 + 3 bytes */
}

TEST_LIST = {
    { "decode_valid", test_decode_valid },
    { "control", test_control },
    { "defang", test_defang },
    { "columns", test_columns },
    { "decode_invalid", test_decode_invalid },
    { "valid_and_encode", test_valid_and_encode },
    { NULL, NULL },
};
