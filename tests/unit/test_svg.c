/* SPDX-License-Identifier: MIT */
/* svg: exact output for simple charts, determinism, gaps, escaping, no external
 * references. Well-formedness is checked by a real XML parser in
 * tests/integration/t502-report-svg.sh. */
#include <math.h>

#include "check.h"
#include "report/svg.h"

static const char *fmtn(double v)
{
    static char buf[32];
    svg_fmt_number(buf, sizeof(buf), v);
    return buf;
}

static void test_fmt_number(void)
{
    CHECK_EQ_STR(fmtn(0), "0");
    CHECK_EQ_STR(fmtn(-0.0), "0");
    CHECK_EQ_STR(fmtn(1.5), "1.5");
    CHECK_EQ_STR(fmtn(0.25), "0.25");
    CHECK_EQ_STR(fmtn(12), "12");
    CHECK_EQ_STR(fmtn(1234), "1234");
    CHECK_EQ_STR(fmtn(12345), "12.3k");
    CHECK_EQ_STR(fmtn(20000), "20k");
    CHECK_EQ_STR(fmtn(2.5e6), "2.5M");
    CHECK_EQ_STR(fmtn(3e9), "3G");
    CHECK_EQ_STR(fmtn(NAN), "-");
    CHECK_EQ_STR(fmtn(-1500), "-1500");
}

static void test_nice_max(void)
{
    CHECK(svg_nice_max(0) == 1);
    CHECK(svg_nice_max(-5) == 1);
    CHECK(svg_nice_max(NAN) == 1);
    CHECK(svg_nice_max(1) == 1);
    CHECK(svg_nice_max(1.5) == 2);
    CHECK(svg_nice_max(2.2) == 2.5);
    CHECK(svg_nice_max(7) == 10);
    CHECK(svg_nice_max(1000) == 1000);
    CHECK(svg_nice_max(4e6) == 5e6);
    CHECK(fabs(svg_nice_max(0.03) - 0.05) < 1e-12);
}

static void test_bars_exact(void)
{
    struct sbuf sb = SBUF_INIT;
    const double v[] = { 1, 2 };
    const char *labels[] = { "a", "b" };
    CHECK(svg_bars(&sb, &(struct svg_chart){ .title = "T", .labels = labels }, v, 2) == 0);
    /* 640 x 160: plot x 48..632, y 8..142, max 2; slot 292, bar 80 % of it. */
    CHECK_MSG(strstr(sb.buf, "<rect class=\"bar\" x=\"77.2\" y=\"75.0\" width=\"233.6\" "
                             "height=\"67.0\"><title>a: 1</title></rect>") != NULL,
              "%s", sb.buf);
    CHECK(strstr(sb.buf, "<rect class=\"bar\" x=\"369.2\" y=\"8.0\" width=\"233.6\" "
                         "height=\"134.0\"><title>b: 2</title></rect>") != NULL);
    const char *open = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart bars\" "
                       "viewBox=\"0 0 640.0 160.0\" role=\"img\" aria-label=\"T\"><title>T</title>";
    CHECK(strncmp(sb.buf, open, strlen(open)) == 0);
    CHECK(strstr(sb.buf, "</svg>") == sb.buf + sb.len - 6);
    sbuf_release(&sb);
}

/* Counts (no format given): the middle y label is a whole number (QA 28: an errors chart
 * with 21 at most had a "12.5" tick); other charts keep the usual nice maximum. */
static void test_count_labels(void)
{
    struct sbuf sb = SBUF_INIT;
    const double v[] = { 21, 3 };
    const char *labels[] = { "a", "b" };
    CHECK(svg_bars(&sb, &(struct svg_chart){ .title = "T", .labels = labels }, v, 2) == 0);
    CHECK_MSG(strstr(sb.buf, ">15</text>") && strstr(sb.buf, ">30</text>") &&
                  !strstr(sb.buf, ">12.5</text>"),
              "%s", sb.buf);
    sbuf_release(&sb);
    const double w[] = { 3, 1 };
    CHECK(svg_bars(&sb, &(struct svg_chart){ .title = "T", .labels = labels }, w, 2) == 0);
    CHECK_MSG(strstr(sb.buf, ">2</text>") && strstr(sb.buf, ">4</text>"), "%s", sb.buf);
    sbuf_release(&sb);
}

/* A y label wider than the margin moves the plot right (session 17 QA: "0.500 ms"
 * started left of the chart and lost its first character). */
static void fmt_wide(char *buf, size_t size, double v)
{
    snprintf(buf, size, "%.3f ms", v);
}

static void test_wide_labels(void)
{
    struct sbuf sb = SBUF_INIT;
    const double v[] = { 0.4, 1 };
    const char *labels[] = { "a", "b" };
    CHECK(svg_bars(&sb, &(struct svg_chart){ .title = "T", .labels = labels, .fmt = fmt_wide }, v,
                   2) == 0);
    /* "1.000 ms": 8 characters of at most 6.6 units, ending 4 left of the plot: x0 59. */
    CHECK_MSG(strstr(sb.buf, "<text class=\"ylab\" x=\"55.0\" y=\"11.0\" text-anchor=\"end\">"
                             "1.000 ms</text>") != NULL,
              "%s", sb.buf);
    CHECK(strstr(sb.buf, "<line class=\"grid\" x1=\"59.0\" x2=\"632.0\"") != NULL);
    sbuf_reset(&sb);
    /* Short labels keep the 48-unit margin. */
    CHECK(svg_bars(&sb, &(struct svg_chart){ .title = "T", .labels = labels }, v, 2) == 0);
    CHECK(strstr(sb.buf, "<line class=\"grid\" x1=\"48.0\"") != NULL);
    sbuf_release(&sb);
}

static void test_deterministic(void)
{
    const double v[] = { 0.1, 1.0 / 3, 2.0 / 3, 1e-9, 123456.789, NAN, 5 };
    struct sbuf a = SBUF_INIT, b = SBUF_INIT;
    struct svg_series s = { "s", v, 7 };
    CHECK(svg_line(&a, &(struct svg_chart){ .title = "x" }, &s, 1, 1) == 0);
    CHECK(svg_line(&b, &(struct svg_chart){ .title = "x" }, &s, 1, 1) == 0);
    CHECK_EQ_STR(a.buf, b.buf);
    CHECK(strstr(a.buf, "-0.0") == NULL);
    sbuf_release(&a);
    sbuf_release(&b);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static void test_gaps(void)
{
    const double v[] = { 1, 2, NAN, 3, 4, NAN, NAN, 5 };
    struct sbuf sb = SBUF_INIT;
    struct svg_series s = { "s", v, 8 };
    CHECK(svg_line(&sb, &(struct svg_chart){ .title = "g" }, &s, 1, 0) == 0);
    /* Three runs: the stroke path starts three times; five points have a circle. */
    const char *stroke = strstr(sb.buf, "class=\"stroke s0\" d=\"");
    CHECK(stroke != NULL);
    if (stroke) {
        const char *end = strchr(stroke + 21, '"');
        size_t m = 0;
        for (const char *p = stroke + 21; p < end; p++)
            m += *p == 'M';
        CHECK_EQ_INT(m, 3);
    }
    CHECK_EQ_INT(count(sb.buf, "<circle"), 5);
    sbuf_reset(&sb);
    const double none[] = { NAN, NAN };
    CHECK(svg_sparkline(&sb, "empty", none, 2, 0, 0) == 0);
    CHECK(strstr(sb.buf, "<path d=\"\"/>") != NULL);
    sbuf_release(&sb);
}

static void test_escaping(void)
{
    static const char *const titles[] = { "<script>alert(1)</script>", "\"><svg onload=alert(1)>",
                                          "a'b&c", "x\xe2\x80\xa8y" };
    const double v[] = { 1, 2, 3 };
    for (size_t i = 0; i < ARRAY_SIZE(titles); i++) {
        struct sbuf sb = SBUF_INIT;
        const char *labels[] = { titles[i], titles[i], titles[i] };
        struct svg_chart c = { .title = titles[i], .labels = labels, .label_every = 1 };
        struct svg_series s[2] = { { titles[i], v, 3 }, { titles[i], v, 3 } };
        CHECK(svg_line(&sb, &c, s, 2, 1) == 0);
        CHECK(svg_bars(&sb, &c, v, 3) == 0);
        CHECK(svg_sparkline(&sb, titles[i], v, 3, 0, 0) == 0);
        CHECK(strstr(sb.buf, "<script") == NULL);
        CHECK(strstr(sb.buf, "onload") == NULL ||
              strstr(sb.buf, "&quot;&gt;&lt;svg onload") != NULL);
        CHECK(strstr(sb.buf, "\"><svg onload") == NULL);
        CHECK(strstr(sb.buf, "a'b") == NULL);
        /* No references to anything outside the document. */
        CHECK(strstr(sb.buf, "href") == NULL);
        CHECK(strstr(sb.buf, "url(") == NULL);
        CHECK(strstr(sb.buf, "<image") == NULL);
        sbuf_release(&sb);
    }
}

static void test_cap(void)
{
    struct sbuf sb;
    const double v[] = { 1, 2, 3 };
    sbuf_init(&sb, 100);
    CHECK(svg_bars(&sb, &(struct svg_chart){ .title = "capped" }, v, 3) < 0);
    CHECK(sb.len <= 100);
    sbuf_release(&sb);
}

TEST_LIST = {
    { "fmt_number", test_fmt_number },
    { "nice_max", test_nice_max },
    { "bars_exact", test_bars_exact },
    { "count_labels", test_count_labels },
    { "wide_labels", test_wide_labels },
    { "deterministic", test_deterministic },
    { "gaps", test_gaps },
    { "escaping", test_escaping },
    { "cap", test_cap },
    { NULL, NULL },
};
