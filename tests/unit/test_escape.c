/* SPDX-License-Identifier: MIT */
#include "check.h"
#include "core/escape.h"
#include "core/utf8.h"

typedef int (*escaper)(struct sbuf *, struct span);

static int json_plain(struct sbuf *sb, struct span s)
{
    return escape_json(sb, s, 0);
}

static int json_script(struct sbuf *sb, struct span s)
{
    return escape_json(sb, s, ESCAPE_JSON_SCRIPT);
}

static const char *esc(escaper fn, const char *in, size_t len)
{
    static struct sbuf sb = SBUF_INIT;
    sbuf_reset(&sb);
    CHECK(fn(&sb, span_make(in, len)) == 0);
    CHECK(utf8_valid(sbuf_span(&sb)));
    return sb.buf;
}

#define E(fn, lit) esc(fn, lit, sizeof(lit) - 1)

/* Strings from the hostile fixture: every one must come out inert in every context. */
static const char *const hostile[] = {
    "<script>alert(1)</script>",
    "</script><script>x()</script>",
    "\"><svg onload=alert(1)>",
    "'onmouseover='x",
    "a | b | c\n| --- |",
    "line\xe2\x80\xa8sep\xe2\x80\xa9para",
    "bad \xff\xfe bytes \xc0\xaf",
    "nul\0byte",
    "`code` *bold* [link](http://x) <b>",
    "=cmd|' /C calc'!A0",
};

static void test_json(void)
{
    CHECK_EQ_STR(E(json_plain, "a\"b\\c\n\t\x01"), "a\\\"b\\\\c\\n\\t\\u0001");
    CHECK_EQ_STR(E(json_plain, "caf\xc3\xa9"), "caf\xc3\xa9");
    CHECK_EQ_STR(E(json_plain, "x\xffy"), "x\\ufffdy");
    CHECK_EQ_STR(E(json_plain, "nul\0!"), "nul\\u0000!");
    /* A real U+FFFD is kept as it is, unescaped. */
    CHECK_EQ_STR(E(json_plain, "\xef\xbf\xbd"), "\xef\xbf\xbd");
    CHECK_EQ_STR(E(json_script, "</script>&\xe2\x80\xa8"), "\\u003c\\/script\\u003e\\u0026\\u2028");
    struct sbuf sb = SBUF_INIT;
    CHECK(escape_json_string(&sb, SPAN_NULL) == 0);
    CHECK(escape_json_string(&sb, span_cstr("x")) == 0);
    CHECK_EQ_STR(sb.buf, "null\"x\"");
    sbuf_release(&sb);
}

static void test_html(void)
{
    CHECK_EQ_STR(E(escape_html, "<a href=\"x\" title='y'>&</a>"),
                 "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
    CHECK_EQ_STR(E(escape_html, "tab\tnl\n"), "tab\tnl\n");
    CHECK_EQ_STR(E(escape_html, "bell\x07 del\x7f bad\xff"),
                 "bell\xef\xbf\xbd del\xef\xbf\xbd bad\xef\xbf\xbd");
    /* As in Markdown: a right-to-left override from a log reversed the rest of its table
     * cell in the browser (session 17 QA): bidirectional controls are a space, C1
     * controls U+FFFD; other characters stay. */
    CHECK_EQ_STR(E(escape_html, "\"abc\xe2\x80\xaegpj.exe\" \xe2\x81\xa6x\xe2\x80\x8f"),
                 "&quot;abc gpj.exe&quot;  x ");
    CHECK_EQ_STR(E(escape_html, "a\xc2\x9b"
                                "2Jb caf\xc3\xa9 \xe2\x82\xac"),
                 "a\xef\xbf\xbd"
                 "2Jb caf\xc3\xa9 \xe2\x82\xac");
    for (size_t i = 0; i < ARRAY_SIZE(hostile); i++) {
        const char *out = esc(escape_html, hostile[i], strlen(hostile[i]));
        CHECK(!strchr(out, '<') && !strchr(out, '>') && !strchr(out, '"') && !strchr(out, '\''));
    }
}

static void test_md(void)
{
    CHECK_EQ_STR(E(escape_md, "a|b\nc"), "a\\|b c");
    CHECK_EQ_STR(E(escape_md, "*x* _y_ `z` [l]"), "\\*x\\* \\_y\\_ \\`z\\` \\[l\\]");
    CHECK_EQ_STR(E(escape_md, "<script>"), "&lt;script&gt;");
    CHECK_EQ_STR(E(escape_md, "p\xe2\x80\xa8q"), "p q");
    /* No mention, no autolink: "@name", "http://", "www." and e-mail addresses stay text
     * ("a:b", "x.www.y" and "awww.b" are not links and stay as they are). */
    CHECK_EQ_STR(E(escape_md, "ping @alice at bob@example.com"),
                 "ping \\@alice at bob\\@example.com");
    CHECK_EQ_STR(E(escape_md, "see https://x.example/a and www.example.com"),
                 "see https\\://x.example/a and www\\.example.com");
    CHECK_EQ_STR(E(escape_md, "a:b x.www.y awww.b"), "a:b x.www\\.y awww.b");
    /* Bidirectional controls (U+202E right-to-left override, U+2066 isolate) would
     * reorder the rest of the row: a space; C1 controls (U+009B is CSI): U+FFFD. */
    CHECK_EQ_STR(E(escape_md, "a\xe2\x80\xae"
                              "b\xe2\x81\xa6"
                              "c"),
                 "a b c");
    CHECK_EQ_STR(E(escape_md, "a\xc2\x9b"
                              "2Jb"),
                 "a\xef\xbf\xbd"
                 "2Jb");
    CHECK_EQ_STR(E(escape_md, "caf\xc3\xa9 \xe2\x82\xac"), "caf\xc3\xa9 \xe2\x82\xac");
    for (size_t i = 0; i < ARRAY_SIZE(hostile); i++) {
        const char *out = esc(escape_md, hostile[i], strlen(hostile[i]));
        /* A cell never breaks the table: no newline and no unescaped pipe. */
        CHECK(!strchr(out, '\n') && !strchr(out, '<'));
        for (const char *p = strchr(out, '|'); p; p = strchr(p + 1, '|'))
            CHECK(p > out && p[-1] == '\\');
    }
}

static void test_csv(void)
{
    CHECK_EQ_STR(E(escape_csv, "plain"), "plain");
    /* signed numbers, and a list of query_id:calls pairs, are data, not formulas */
    CHECK_EQ_STR(E(escape_csv, "-4346743483857008810:1 42:7"), "-4346743483857008810:1 42:7");
    CHECK_EQ_STR(E(escape_csv, "-1.5e-05"), "-1.5e-05");
    CHECK_EQ_STR(E(escape_csv, "-2+3+cmd|' /C calc'!A0"), "\"'-2+3+cmd|' /C calc'!A0\"");
    CHECK_EQ_STR(E(escape_csv, "+HYPERLINK(1)"), "\"'+HYPERLINK(1)\"");
    CHECK_EQ_STR(E(escape_csv, "a,b"), "\"a,b\"");
    CHECK_EQ_STR(E(escape_csv, "say \"hi\"\n"), "\"say \"\"hi\"\"\n\"");
    CHECK_EQ_STR(E(escape_csv, "=1+2"), "\"'=1+2\"");
    CHECK_EQ_STR(E(escape_csv, "-3+cmd"), "\"'-3+cmd\"");
    CHECK_EQ_STR(E(escape_csv, "-8745123"), "-8745123"); /* a negative query_id */
}

static void test_cap(void)
{
    struct sbuf sb;
    sbuf_init(&sb, 8);
    CHECK(escape_html(&sb, span_cstr("<<<")) == -1);
    CHECK(sb.len <= 8);
    sbuf_release(&sb);
}

TEST_LIST = {
    { "json", test_json }, { "html", test_html }, { "md", test_md },
    { "csv", test_csv },   { "cap", test_cap },   { NULL, NULL },
};
