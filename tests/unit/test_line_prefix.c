/* SPDX-License-Identifier: MIT */
/* Unit tests for parse/line_prefix: limits, linear time, keyword recognition. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/clock.h"
#include "core/limits.h"
#include "parse/line_prefix.h"

static struct line_prefix *compile(const char *text)
{
    struct diag d = DIAG_INIT;
    struct line_prefix *lp = line_prefix_new(span_cstr(text), &d);
    CHECK_MSG(lp != NULL, "'%s': %s", text, d.msg);
    return lp;
}

static void test_prefix_length_limit(void)
{
    char *buf = malloc(SIFT_MAX_PREFIX_BYTES + 2);
    struct diag d = DIAG_INIT;

    memset(buf, 'x', SIFT_MAX_PREFIX_BYTES + 1);
    struct line_prefix *lp = line_prefix_new(span_make(buf, SIFT_MAX_PREFIX_BYTES - 1), &d);
    CHECK(lp != NULL);
    line_prefix_free(lp);
    lp = line_prefix_new(span_make(buf, SIFT_MAX_PREFIX_BYTES), &d);
    CHECK(lp != NULL);
    line_prefix_free(lp);
    lp = line_prefix_new(span_make(buf, SIFT_MAX_PREFIX_BYTES + 1), &d);
    CHECK(lp == NULL);
    CHECK_EQ_INT(d.kind, DIAG_USAGE);
    CHECK(strstr(d.msg, "1025 bytes") != NULL);
    free(buf);
}

static void test_padding_limit(void)
{
    struct diag d = DIAG_INIT;
    struct line_prefix *lp = compile("%1000p|");
    line_prefix_free(lp);
    lp = line_prefix_new(span_cstr("%-1001u"), &d);
    CHECK(lp == NULL);
    CHECK(strstr(d.msg, "1001") != NULL);
}

static void test_newline_refused(void)
{
    struct diag d = DIAG_INIT;
    CHECK(line_prefix_new(span_cstr("%m\n"), &d) == NULL);
    CHECK(strstr(d.msg, "newline") != NULL);
}

static void test_field_letters(void)
{
    static const char letters[] = "audrhLbpPtmnieclsvxQ";
    for (int f = 0; f < LPF_COUNT; f++)
        CHECK_EQ_INT(lp_field_letter((enum lp_field)f), letters[f]);
    struct line_prefix *lp = compile("%m [%p] %q%u@%d ");
    CHECK(line_prefix_has(lp, LPF_TIME_MS));
    CHECK(line_prefix_has(lp, LPF_USER));
    CHECK(!line_prefix_has(lp, LPF_APP));
    CHECK(line_prefix_has_cut(lp));
    CHECK_EQ_STR(line_prefix_text(lp), "%m [%p] %q%u@%d ");
    line_prefix_free(lp);
}

static void test_keywords(void)
{
    for (int k = LPK_DEBUG; k < LPK_COUNT; k++) {
        char buf[64];
        size_t mo = 0;
        snprintf(buf, sizeof(buf), "%s:  msg", lp_keyword_name((enum lp_keyword)k));
        CHECK_EQ_INT(line_prefix_keyword(span_cstr(buf), &mo), k);
        CHECK_EQ_INT(mo, strlen(lp_keyword_name((enum lp_keyword)k)) + 3);
        CHECK_EQ_INT(lp_keyword_is_severity((enum lp_keyword)k), k <= LPK_PANIC);
    }
    size_t mo;
    CHECK_EQ_INT(line_prefix_keyword(span_cstr("LOGX:  a"), &mo), LPK_NONE);
    CHECK_EQ_INT(line_prefix_keyword(span_cstr("LOG"), &mo), LPK_NONE);
    CHECK_EQ_INT(line_prefix_keyword(span_cstr("LOG:"), &mo), LPK_LOG);
    CHECK_EQ_INT(mo, 4);
    CHECK_EQ_INT(line_prefix_keyword(span_cstr("LOG:   three"), &mo), LPK_LOG);
    CHECK_EQ_INT(mo, 6); /* the third space belongs to the message */
    CHECK_EQ_INT(line_prefix_keyword(span_cstr("DEBUG:  x"), &mo), LPK_DEBUG);
    CHECK_EQ_INT(line_prefix_keyword(span_cstr("DETAIL:x"), &mo), LPK_NONE);
}

/* A hostile line must be refused in time linear in its length. */
static void test_linear_time(void)
{
    static const char *const prefixes[] = { "%u@%d@%a@%i ", "%a%p%a%p ", "%a %a %a %a ",
                                            "%r:%h:%u:%d:" };
    static const char fills[] = "@1 :(";
    size_t len = 200000;
    char *line = malloc(len);

    for (size_t p = 0; p < ARRAY_SIZE(prefixes); p++) {
        struct line_prefix *lp = compile(prefixes[p]);
        for (size_t f = 0; f < sizeof(fills) - 1; f++) {
            for (size_t i = 0; i < len; i++)
                line[i] = (i % 2) ? fills[f] : 'a';
            struct line_prefix_match m;
            int64_t t0 = clock_mono_ns();
            bool ok = line_prefix_match(lp, span_make(line, len), &m);
            int64_t ms = (clock_mono_ns() - t0) / 1000000;
            CHECK(!ok);
            /* quadratic would be minutes; linear is a few ms even under ASan */
            CHECK_MSG(ms < 2000, "prefix '%s' fill '%c': %lld ms", prefixes[p], fills[f],
                      (long long)ms);
        }
        line_prefix_free(lp);
    }
    free(line);
}

/* The budget is generous enough for long but legitimate lines. */
static void test_long_legit_line(void)
{
    struct line_prefix *lp = compile("%m [%p] %q%u@%d/%a ");
    size_t len = 1 << 20;
    char *line = malloc(len);
    const char *head = "2025-01-02 03:04:05.678 UTC [1] u@d/some app with spaces LOG:  ";
    size_t hl = strlen(head);
    memcpy(line, head, hl);
    memset(line + hl, 'x', len - hl);
    struct line_prefix_match m;
    CHECK(line_prefix_match(lp, span_make(line, len), &m));
    CHECK_EQ_SPAN(m.field[LPF_APP], "some app with spaces");
    CHECK_EQ_INT(m.msg_off, hl);
    free(line);
    line_prefix_free(lp);
}

TEST_LIST = {
    { "prefix_length_limit", test_prefix_length_limit },
    { "padding_limit", test_padding_limit },
    { "newline_refused", test_newline_refused },
    { "field_letters", test_field_letters },
    { "keywords", test_keywords },
    { "linear_time", test_linear_time },
    { "long_legit_line", test_long_legit_line },
    { NULL, NULL },
};
