/* SPDX-License-Identifier: MIT */
/*
 * test_lexer - normalize/lexer.c token by token: kinds, spans and flags for the lexical
 * edge cases of scan.l, the input bounds (SIFT_MAX_STATEMENT_BYTES, SIFT_MAX_TOKENS at
 * limit-1, limit, limit+1) and linear time on inputs built to be slow.
 */
#include <time.h>

#include "check.h"
#include "cputime.h"
#include "core/limits.h"
#include "core/xalloc.h"
#include "normalize/lexer.h"

static struct lex lx = LEX_INIT;

static void lex(const char *s)
{
    keyword_init();
    lex_run(&lx, s, strlen(s), false);
}

/* The tokens as "kind:text" separated by spaces (kinds: w q s n p o x ?). */
static const char *dump(const char *s)
{
    static char out[4096];
    static const char kinds[] = "wqsnpox?";
    size_t o = 0;
    lex(s);
    out[0] = '\0';
    for (uint32_t i = 0; i < lx.n && o + 8 < sizeof(out); i++) {
        const struct token *t = &lx.tok[i];
        int w = snprintf(out + o, sizeof(out) - o, "%s%c:%.*s", i ? " " : "", kinds[t->kind],
                         (int)t->len, s + t->off);
        o += (size_t)w < sizeof(out) - o ? (size_t)w : sizeof(out) - o - 1;
    }
    return out;
}

static void test_comments(void)
{
    CHECK_EQ_STR(dump("a /* x /* nested */ still */ b -- tail"), "w:a w:b");
    CHECK_EQ_STR(dump("a--c\nb"), "w:a w:b");
    CHECK_EQ_STR(dump("2 +-- c\n3"), "n:2 o:+ n:3");
    CHECK_EQ_STR(dump("2 */* c */ 3"), "n:2 o:* n:3");
    lex("a /* open");
    CHECK_EQ_INT(lx.n, 1);
    CHECK(lx.flags & LEX_UNTERMINATED);
    lex("a /* /* */ open");
    CHECK(lx.flags & LEX_UNTERMINATED);
}

static void test_strings(void)
{
    CHECK_EQ_STR(dump("'it''s' x"), "s:'it''s' w:x");
    CHECK_EQ_STR(dump("'a\\' x"), "s:'a\\' w:x"); /* standard_conforming_strings = on */
    CHECK_EQ_STR(dump("E'a\\'b' x"), "s:E'a\\'b' w:x");
    CHECK_EQ_STR(dump("e'\\\\' x"), "s:e'\\\\' w:x");
    CHECK_EQ_STR(dump("B'01' X'1F' b'1'"), "s:B'01' s:X'1F' s:b'1'");
    CHECK_EQ_STR(dump("N'abc'"), "w:N s:'abc'");
    CHECK_EQ_STR(dump("U&'d\\0061t' UESCAPE '!' x"), "s:U&'d\\0061t' UESCAPE '!' w:x");
    CHECK_EQ_STR(dump("U&'a' uescape"), "s:U&'a' w:uescape");
    CHECK_EQ_STR(dump("u & 'a'"), "w:u o:& s:'a'");
    CHECK_EQ_STR(dump("ex'a'"), "w:ex s:'a'");
    /* Continuation needs a newline; -- comments may sit in between, slash-star not. */
    CHECK_EQ_STR(dump("'a'\n'b' x"), "s:'a'\n'b' w:x");
    CHECK_EQ_STR(dump("'a' -- c\n 'b'"), "s:'a' -- c\n 'b'");
    CHECK_EQ_STR(dump("'a' 'b'"), "s:'a' s:'b'");
    CHECK_EQ_STR(dump("'a' /* c */\n'b'"), "s:'a' s:'b'");
    CHECK_EQ_STR(dump("'a'\n-- only a comment"), "s:'a'");
    lex("'a'\n'b'");
    CHECK(lx.tok[0].flags & TOKF_CONTINUED);

    struct lex b = LEX_INIT;
    lex_run(&b, "'a\\'b' x", 8, true); /* standard_conforming_strings = off */
    CHECK_EQ_INT(b.n, 2);
    CHECK_EQ_INT(b.tok[0].len, 6);
    lex_release(&b);

    lex("'open");
    CHECK_EQ_INT(lx.n, 1);
    CHECK(lx.tok[0].flags & TOKF_UNTERMINATED);
    CHECK(lx.flags & LEX_UNTERMINATED);
    lex("E'open\\");
    CHECK_EQ_INT(lx.n, 1);
    CHECK(lx.flags & LEX_UNTERMINATED);
}

static void test_dollar_quotes(void)
{
    CHECK_EQ_STR(dump("$$a'b$$ x"), "s:$$a'b$$ w:x");
    CHECK_EQ_STR(dump("$fn$ $q$ x $q$ $$ $fn$ y"), "s:$fn$ $q$ x $q$ $$ $fn$ w:y");
    CHECK_EQ_STR(dump("$a$x$ab$y$a$ z"), "s:$a$x$ab$y$a$ w:z");
    CHECK_EQ_STR(dump("$1 $2x"), "p:$1 p:$2 w:x");
    CHECK_EQ_STR(dump("$1$"), "p:$1 ?:$");
    CHECK_EQ_STR(dump("$a b"), "?:$ w:a w:b");  /* {dolqfailed} */
    CHECK_EQ_STR(dump("a$b$ c"), "w:a$b$ w:c"); /* $ continues an identifier */
    lex("$x$ open");
    CHECK_EQ_INT(lx.n, 1);
    CHECK(lx.tok[0].flags & TOKF_UNTERMINATED);
    lex("$12");
    CHECK_EQ_INT(lx.max_param, 12);
}

static void test_numbers(void)
{
    CHECK_EQ_STR(dump("1 1.5 .5 1. 1e10 1.5E-3 1.e5"),
                 "n:1 n:1.5 n:.5 n:1. n:1e10 n:1.5E-3 n:1.e5");
    CHECK_EQ_STR(dump("0x1F 0o17 0b101 1_000_000 0x_FF"),
                 "n:0x1F n:0o17 n:0b101 n:1_000_000 n:0x_FF");
    CHECK_EQ_STR(dump("1..10"), "n:1 x:.. n:10");
    CHECK_EQ_STR(dump("123abc 0xZZ 1e"), "n:123 w:abc n:0 w:xZZ n:1 w:e");
    CHECK_EQ_STR(dump("1_ 1__2 ._5"), "n:1 w:_ n:1 w:__2 x:. w:_5");
    CHECK_EQ_STR(dump("a.5"), "w:a n:.5");
    lex("0x1F 1.5 1e3");
    CHECK_EQ_INT(lx.tok[0].sub, NUM_HEX);
    CHECK_EQ_INT(lx.tok[1].sub, NUM_DECIMAL);
    CHECK_EQ_INT(lx.tok[2].sub, NUM_REAL);
}

static void test_operators(void)
{
    CHECK_EQ_STR(dump("a=-1"), "w:a o:= o:- n:1");
    CHECK_EQ_STR(dump("a?-b a@-b a+-b"), "w:a o:?- w:b w:a o:@- w:b w:a o:+ o:- w:b");
    CHECK_EQ_STR(dump("a<=>b a->>b a!=b a<>b"),
                 "w:a o:<=> w:b w:a o:->> w:b w:a o:!= w:b w:a o:<> w:b");
    CHECK_EQ_STR(dump("a::int b:=1 c=>2 d[1:2]"),
                 "w:a x::: w:int w:b x::= n:1 w:c x:=> n:2 w:d x:[ n:1 x:: n:2 x:]");
    CHECK_EQ_STR(dump("-+-+-"), "o:- o:+ o:- o:+ o:-");
    CHECK_EQ_STR(dump("<+-+-"), "o:< o:+ o:- o:+ o:-");
    CHECK_EQ_STR(dump("~+-"), "o:~+-");
    lex("a != b <> c");
    CHECK_EQ_INT(lx.tok[1].sub, OP_NE);
    CHECK_EQ_INT(lx.tok[3].sub, OP_NE);
}

static void test_identifiers(void)
{
    CHECK_EQ_STR(dump("\"Quoted \"\"Col\"\"\" x"), "q:\"Quoted \"\"Col\"\"\" w:x");
    CHECK_EQ_STR(dump("U&\"d\\0061t\" UESCAPE '!' x"), "q:U&\"d\\0061t\" UESCAPE '!' w:x");
    CHECK_EQ_STR(dump("café 日本語"), "w:café w:日本語");
    lex("SELECT FrOm xyz");
    CHECK_EQ_INT(lx.tok[0].kw, KW_SELECT);
    CHECK_EQ_INT(lx.tok[1].kw, KW_FROM);
    CHECK_EQ_INT(lx.tok[2].kw, 0);
    lex("\"open");
    CHECK(lx.tok[0].flags & TOKF_UNTERMINATED);
    CHECK_EQ_STR(dump("{ } \\ \x01"), "?:{ ?:} ?:\\ ?:\x01");
}

static void test_keywords(void)
{
    keyword_init();
    CHECK_EQ_INT(keyword_lookup("select", 6), KW_SELECT);
    CHECK_EQ_INT(keyword_lookup("CURRENT_TIMESTAMP", 17), KW_CURRENT_TIMESTAMP);
    CHECK_EQ_INT(keyword_lookup("selec", 5), 0);
    CHECK_EQ_INT(keyword_lookup("select1", 7), 0);
    CHECK_EQ_INT(keyword_lookup("", 0), 0);
    /* Every key word is found by its own spelling, in any case. */
    for (unsigned k = 1; k < keyword_count; k++) {
        char up[32];
        for (unsigned i = 0; i < keywords[k].len; i++)
            up[i] = (char)(keywords[k].word[i] - (keywords[k].word[i] >= 'a' ? 32 : 0));
        CHECK_EQ_INT(keyword_lookup(keywords[k].word, keywords[k].len), k);
        CHECK_EQ_INT(keyword_lookup(up, keywords[k].len), k);
    }
    CHECK(keyword_operand_end(0));
    CHECK(keyword_operand_end(KW_NULL));
    CHECK(!keyword_operand_end(KW_SELECT));
    CHECK(!keyword_operand_end(KW_BY));
    CHECK(keyword_operand_end(KW_INT));
}

/* SIFT_MAX_STATEMENT_BYTES and SIFT_MAX_TOKENS at limit-1, limit and limit+1. */
static void test_limits(void)
{
    size_t max = SIFT_MAX_STATEMENT_BYTES;
    char *s = xmalloc(max + 2);
    memset(s, ' ', max + 1);
    for (size_t len = max - 1; len <= max + 1; len++) {
        s[len - 1] = 'x';
        lex_run(&lx, s, len, false);
        CHECK_EQ_INT(lx.n, len <= max ? 1 : 0); /* the 'x' past the limit is not read */
        CHECK_EQ_INT(!!(lx.flags & LEX_TRUNCATED), len > max);
        s[len - 1] = ' ';
    }
    /* "a " per token */
    size_t tmax = SIFT_MAX_TOKENS;
    for (size_t ntok = tmax - 1; ntok <= tmax + 1; ntok++) {
        for (size_t i = 0; i < ntok; i++) {
            s[2 * i] = 'a';
            s[2 * i + 1] = ' ';
        }
        lex_run(&lx, s, 2 * ntok, false);
        CHECK_EQ_INT(lx.n, ntok <= tmax ? ntok : tmax);
        CHECK_EQ_INT(!!(lx.flags & LEX_TRUNCATED), ntok > tmax);
    }
    free(s);
}

/* Time for n bytes of a pattern, and for 4n: linear time means about 4x (quadratic
 * would be 16x). The patterns defeat naive dollar-quote searches, operator rescans and
 * comment scans. The least of 5 runs each, taken in turn (test_least_time()). */
static double ratio(const char *start, const char *unit, size_t n)
{
    char *s[2];
    size_t len[2];
    for (int r = 0; r < 2; r++) {
        size_t ul = strlen(unit), sl = strlen(start);
        len[r] = r ? 4 * n : n;
        s[r] = xmalloc(len[r] + 1);
        memcpy(s[r], start, sl);
        for (size_t i = sl; i < len[r]; i++)
            s[r][i] = unit[(i - sl) % ul];
    }
    double t[2] = { TEST_NO_TIME, TEST_NO_TIME };
    for (int k = 0; k < 5; k++)
        for (int r = 0; r < 2; r++) {
            double t0 = test_cpu_seconds();
            lex_run(&lx, s[r], len[r], false);
            test_least_time(&t[r], test_cpu_seconds() - t0);
        }
    free(s[0]);
    free(s[1]);
    return test_time_ratio(t[0], t[1]);
}

static void test_linear_time(void)
{
    size_t n = 200000;
    static char tag[1000];
    tag[0] = '$';
    memset(tag + 1, 'q', sizeof(tag) - 3);
    tag[sizeof(tag) - 2] = '$';
    static char body[1000];
    memcpy(body, tag, sizeof(tag) - 2); /* "$qqq...q" without the closing '$' */
    body[sizeof(tag) - 2] = 'x';
    CHECK(ratio(tag, body, n) < 10);    /* a long tag, many near-matches */
    CHECK(ratio("", "<+-+-", n) < 10);  /* operator runs trimmed one by one */
    CHECK(ratio("/*", "/*", n) < 10);   /* ever deeper nested comment */
    CHECK(ratio("'", "''", n) < 10);    /* doubled quotes */
    CHECK(ratio("", "'a'\n", n) < 10);  /* continued strings */
    CHECK(ratio("", "U&'a' ", n) < 10); /* UESCAPE look-ahead */
}

static void test_cleanup(void)
{
    lex_release(&lx);
    CHECK(lx.tok == NULL);
}

TEST_LIST = {
    { "comments", test_comments },
    { "strings", test_strings },
    { "dollar_quotes", test_dollar_quotes },
    { "numbers", test_numbers },
    { "operators", test_operators },
    { "identifiers", test_identifiers },
    { "keywords", test_keywords },
    { "limits", test_limits },
    { "linear_time", test_linear_time },
    { "cleanup", test_cleanup },
    { NULL, NULL },
};
