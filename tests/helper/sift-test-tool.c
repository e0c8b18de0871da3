/* SPDX-License-Identifier: MIT */
/*
 * sift-test-tool - internals exposed to shell tests (Git's t/helper/test-tool).
 *
 * Each subcommand is one line in cmds[]; shell tests call "$SIFT_TEST_TOOL <cmd> ...".
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "core/clock.h"
#include "core/opts.h"
#include "core/span.h"
#include "core/xalloc.h"
#include "report/report.h"
#include "report/svg.h"
#include "report/synth.h"

/* now: print clock_now_us() as RFC 3339 (shows that SIFT_TEST_NOW is honoured). */
static int cmd_now(int argc, char **argv)
{
    char buf[CLOCK_RFC3339_MAX];

    (void)argc;
    (void)argv;
    puts(clock_format_rfc3339(clock_now_us(), 0, buf));
    return 0;
}

/* Hostile strings: one per line, case_unescape() escapes, '#' lines are comments. */
static struct span *read_hostile(const char *path, size_t *n, struct sbuf *store)
{
    FILE *f = fopen(path, "rb");
    char line[4096];
    size_t alloc = 0, count = 0;
    struct span *v = NULL;
    size_t *offs = NULL, *lens = NULL;

    if (!f) {
        fprintf(stderr, "sift-test-tool: cannot open '%s': %s\n", path, strerror(errno));
        return NULL;
    }
    while (fgets(line, sizeof(line), f)) {
        size_t len = strlen(line);
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        if (!len || line[0] == '#')
            continue;
        struct sbuf one = SBUF_INIT;
        size_t at = store->len;
        if (case_unescape(line, len, &one) < 0 || sbuf_addspan(store, sbuf_span(&one)) < 0) {
            fprintf(stderr, "sift-test-tool: %s: bad escape in: %s\n", path, line);
            sbuf_release(&one);
            fclose(f);
            free(offs);
            free(lens);
            return NULL;
        }
        sbuf_release(&one);
        XGROW(offs, count + 1, alloc);
        lens = xrealloc(lens, alloc * sizeof(*lens));
        offs[count] = at;
        lens[count++] = store->len - at;
    }
    fclose(f);
    v = xcalloc(count ? count : 1, sizeof(*v));
    for (size_t i = 0; i < count; i++)
        v[i] = span_make(store->buf + offs[i], lens[i]);
    free(offs);
    free(lens);
    *n = count;
    return v;
}

/* report-synth: a synthetic (optionally hostile) report model, rendered; timings on
 * stderr. The benchmark and the hostile-input tests use it until the store lands. */
static int cmd_report_synth(int argc, char **argv)
{
    long fingerprints = 1000, top = 20, seed = 42;
    const char *tz = "UTC", *day = "2026-11-24", *format = "html", *out = NULL, *hostile = NULL;
    bool keep = false, no_script = false;
    static const char *const formats[] = { "html", "md", "json", NULL };
    const struct opt opts[] = {
        OPT_LONG_(0, "fingerprints", &fingerprints, "N", "query shapes", 1, 10000000),
        OPT_LONG_(0, "top", &top, "N", "rows per ranking", 1, 1000),
        OPT_LONG_(0, "seed", &seed, "N", "random seed", 1, 1L << 40),
        OPT_STRING_(0, "tz", &tz, "Z", "time zone"),
        OPT_STRING_(0, "day", &day, "DAY", "YYYY-MM-DD"),
        OPT_CHOICE_(0, "format", &format, "F", "html, md or json", formats),
        OPT_STRING_('o', "output", &out, "FILE", "write atomically to FILE"),
        OPT_STRING_(0, "hostile", &hostile, "FILE", "fill every text field from FILE"),
        OPT_BOOL_(0, "keep-literals", &keep, "do not redact samples"),
        OPT_BOOL_(0, "no-script", &no_script, "HTML without the sort script"),
        OPT_END_(),
    };
    struct diag d = DIAG_INIT;
    struct sbuf hs = SBUF_INIT, sb = SBUF_INIT;
    struct report r;
    size_t nh = 0;
    struct span *hv = NULL;
    enum report_format fmt;
    int rc = 1;

    if (opts_parse(opts, argc - 1, argv + 1, &d) != 0) {
        fprintf(stderr, "sift-test-tool report-synth: %s\n", d.msg[0] ? d.msg : "no operands");
        return 2;
    }
    if (hostile && !(hv = read_hostile(hostile, &nh, &hs)))
        return 1;
    (void)report_format_from_name(format, &fmt);
    int64_t t0 = clock_mono_ns();
    report_init(&r);
    struct report_synth_opts so = { (size_t)fingerprints, (uint64_t)seed, day, tz, hv, nh };
    if (report_synth(&r, &so, &d) < 0)
        goto done;
    int64_t t1 = clock_mono_ns();
    struct report_opts ro = { .top = (size_t)top,
                              .flags = (keep ? REPORT_KEEP_LITERALS : 0u) |
                                       (no_script ? REPORT_NO_SCRIPT : 0u) };
    report_analyze(&r, &ro);
    if (report_render(&r, &ro, fmt, &sb, &d) < 0)
        goto done;
    int64_t t2 = clock_mono_ns();
    if (out) {
        if (report_write_file(out, sb.buf, sb.len, &d) < 0)
            goto done;
    } else if (fwrite(sb.buf, 1, sb.len, stdout) != sb.len) {
        goto done;
    }
    int64_t t3 = clock_mono_ns();
    fprintf(stderr, "model %.1f ms, analyze+render %.1f ms, write %.1f ms, %zu bytes, %zu shapes\n",
            (double)(t1 - t0) / 1e6, (double)(t2 - t1) / 1e6, (double)(t3 - t2) / 1e6, sb.len,
            r.nqueries);
    rc = 0;
done:
    if (rc)
        fprintf(stderr, "sift-test-tool report-synth: %s\n", d.msg);
    report_release(&r);
    sbuf_release(&sb);
    sbuf_release(&hs);
    free(hv);
    return rc;
}

/* svg KIND TITLE: one chart with that (possibly hostile) title, for the XML checks. */
static int cmd_svg(int argc, char **argv)
{
    static const double v[] = { 0, 1.5, NAN, 3, 12.25, 7, 0.001, 1e6, 5, NAN, NAN, 2 };
    static const uint64_t c[] = { 1, 5, 20, 7, 0, 3 };
    const char *labels[12];
    struct sbuf sb = SBUF_INIT;
    int rc = 0;

    if (argc < 3) {
        fprintf(stderr, "usage: sift-test-tool svg line|area|bars|hist|spark TITLE\n");
        return 2;
    }
    for (size_t i = 0; i < 12; i++)
        labels[i] = argv[2];
    struct svg_chart ch = { .title = argv[2], .labels = labels };
    struct svg_series s[2] = { { argv[2], v, 12 }, { "second", v + 1, 11 } };
    if (!strcmp(argv[1], "line"))
        rc = svg_line(&sb, &ch, s, 2, 0);
    else if (!strcmp(argv[1], "area"))
        rc = svg_line(&sb, &ch, s, 1, 1);
    else if (!strcmp(argv[1], "bars"))
        rc = svg_bars(&sb, &ch, v, 12);
    else if (!strcmp(argv[1], "hist"))
        rc = svg_histogram(&sb, &ch, c, 6);
    else if (!strcmp(argv[1], "spark"))
        rc = svg_sparkline(&sb, argv[2], v, 12, 0, 0);
    else
        rc = -2;
    if (rc == 0)
        fwrite(sb.buf, 1, sb.len, stdout);
    sbuf_release(&sb);
    return rc == 0 ? 0 : 2;
}

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} cmds[] = {
    { "now", cmd_now, "print the clock's now (honours SIFT_TEST_NOW)" },
    { "report-synth", cmd_report_synth, "render a synthetic (or hostile) report model" },
    { "svg", cmd_svg, "print one SVG chart (line|area|bars|hist|spark TITLE)" },
};

int main(int argc, char **argv)
{
    if (argc >= 2) {
        for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
            if (!strcmp(argv[1], cmds[i].name))
                return cmds[i].fn(argc - 1, argv + 1);
    }
    fprintf(stderr, "usage: sift-test-tool COMMAND [ARGS]\n");
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        fprintf(stderr, "    %-12s %s\n", cmds[i].name, cmds[i].help);
    return 2;
}
