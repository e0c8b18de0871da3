/* SPDX-License-Identifier: MIT */
/*
 * pgsift report - the daily report from the store: one local day (--day, --tz) or a
 * window (--since/--until), as a self-contained HTML file, GitHub Markdown or JSON,
 * written atomically to -o FILE or to standard output.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/timearg.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/opts.h"
#include "core/tz.h"
#include "report/report.h"
#include "store/store.h"
#include "version.h"

#define REPORT_SYNOPSIS                                                                        \
    "pgsift report [--day YYYY-MM-DD | --since T --until T] [--tz Z] [--format html|md|json] " \
    "[-o FILE | --dir DIR [--formats LIST] [--keep-days N] [--summary]] [--top N] "            \
    "[--keep-literals] [--no-script]"

static const char *const format_names[] = { "html", "md", "json", NULL };

/* "YYYY-MM-DD" -> civil date; false when malformed or not a real date. */
static bool parse_day(const char *s, int *y, unsigned *m, unsigned *d)
{
    int64_t us;
    if (strlen(s) != 10 || !clock_parse_rfc3339(span_cstr(s), &us))
        return false;
    clock_civil_from_days(us / USEC_PER_DAY, y, m, d);
    char back[11];
    snprintf(back, sizeof(back), "%04d-%02u-%02u", *y, *m, *d);
    return !strcmp(back, s); /* 2026-02-30 is not a day */
}

/* "html,md" -> format bits. */
static int parse_formats(const char *list, unsigned *bits, struct diag *d)
{
    char buf[64];
    *bits = 0;
    if (snprintf(buf, sizeof(buf), "%s", list) >= (int)sizeof(buf))
        return diag_set(d, DIAG_USAGE, "--formats: expected a list of html, md, json");
    for (char *p = buf, *comma; p; p = comma ? comma + 1 : NULL) {
        comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        enum report_format f;
        if (!report_format_from_name(p, &f))
            return diag_set(d, DIAG_USAGE,
                            "--formats: unknown format '%s' (expected html, md, json)", p);
        *bits |= 1u << f;
    }
    return 0;
}

/* The format: --format, else from the -o extension, else html. */
static const char *pick_format(const char *format, const char *out)
{
    if (format)
        return format;
    const char *dot = out ? strrchr(out, '.') : NULL;
    if (dot && (!strcmp(dot, ".md") || !strcmp(dot, ".markdown")))
        return "md";
    if (dot && !strcmp(dot, ".json"))
        return "json";
    return "html";
}

/* @us rounded up to a whole minute (UTC; every zone's offset is whole minutes today). */
static int64_t minute_ceil(int64_t us)
{
    const int64_t m = 60 * (int64_t)1000000;
    int64_t r = us % m;
    if (r == 0)
        return us;
    return r > 0 ? (us > INT64_MAX - (m - r) ? us : us + (m - r)) : us - r;
}

int cmd_report(int argc, char **argv, const struct cli *cli, struct diag *d)
{
    const char *day = NULL, *since = NULL, *until = NULL, *tzname = "UTC", *format = NULL;
    const char *out = NULL, *dir = NULL, *formats = "html,md";
    long top = 20, keep_days = 0;
    bool keep = false, no_script = false, summary = false;
    const struct opt opts[] = {
        OPT_STRING_(0, "day", &day, "YYYY-MM-DD",
                    "the local day to report (default: yesterday in --tz)"),
        OPT_STRING_(0, "since", &since, "T", "window start instead of a day (RFC 3339, date, 24h)"),
        OPT_STRING_(0, "until", &until, "T", "window end, exclusive (default: now)"),
        OPT_STRING_(0, "tz", &tzname, "Z",
                    "time zone of the day and of times shown: IANA name, UTC or +HH:MM"),
        OPT_CHOICE_(0, "format", &format, "F", "html, md or json (default: from -o, else html)",
                    format_names),
        OPT_STRING_('o', "output", &out, "FILE", "write FILE atomically (default: stdout)"),
        OPT_STRING_(0, "dir", &dir, "DIR",
                    "write the day's report into DIR as pgsift-report-DAY.EXT (for cron)"),
        OPT_STRING_(0, "formats", &formats, "LIST", "with --dir: html,md,json (default html,md)"),
        OPT_LONG_(0, "keep-days", &keep_days, "N",
                  "with --dir: delete reports of days before the last N (0: keep all)", 0, 100000),
        OPT_BOOL_(0, "summary", &summary,
                  "with --dir: print a short Markdown summary instead of the paths"),
        OPT_LONG_(0, "top", &top, "N", "rows per ranking, regressions and new shapes (20)", 1,
                  1000),
        OPT_BOOL_(0, "keep-literals", &keep, "show literal values in samples (tenant data)"),
        OPT_BOOL_(0, "no-script", &no_script, "HTML without the optional sort script"),
        OPT_END_(),
    };
    int n = opts_parse(opts, argc - 1, argv + 1, d);
    if (n == -2) {
        opts_usage(stdout, REPORT_SYNOPSIS, opts);
        return 0;
    }
    if (n < 0)
        return -1;
    if (n > 0)
        return diag_set(d, DIAG_USAGE, "'report' takes no operands (got '%s')", argv[1]);
    if (out && !strcmp(out, "-"))
        out = NULL; /* -o -: standard output, as without -o */
    if (day && (since || until))
        return diag_set(d, DIAG_USAGE, "--day and --since/--until cannot be combined");
    if (until && !since)
        return diag_set(d, DIAG_USAGE, "--until needs --since");
    if (dir && (out || since || format))
        return diag_set(d, DIAG_USAGE,
                        "--dir writes one day in --formats: no -o, --since, --format");
    if (!dir && (keep_days || summary))
        return diag_set(d, DIAG_USAGE, "--keep-days and --summary go with --dir");
    struct report_daily daily = { .dir = dir, .keep_days = keep_days };
    if (dir && parse_formats(formats, &daily.formats, d) < 0)
        return -1;

    struct tz tz;
    if (tz_load(&tz, tzname, d) < 0)
        return -1;
    int64_t now = clock_now_us(), from, to;
    char dayname[11] = "";
    if (since) {
        from = INT64_MIN, to = now;
        if (timearg_window(since, until, now, &from, &to, d) < 0) {
            tz_release(&tz);
            return -1;
        }
        /* The store counts calls, records and errors per minute (a bucket is read when it
         * starts in the window, as pgsift top reads it): round both ends up to a minute
         * so the events read for the locks, temp files and sessions sections cover the
         * same time as those counts, and the period shown is the one counted. */
        from = minute_ceil(from);
        to = minute_ceil(to);
    } else {
        int y;
        unsigned m, dd;
        if (day) {
            if (!parse_day(day, &y, &m, &dd)) {
                tz_release(&tz);
                return diag_set(d, DIAG_USAGE, "invalid --day '%s' (expected YYYY-MM-DD)", day);
            }
        } else {
            /* Yesterday, in the report's time zone. */
            tz_local_date(&tz, now, &y, &m, &dd);
            clock_civil_from_days(clock_days_from_civil(y, m, dd) - 1, &y, &m, &dd);
        }
        snprintf(dayname, sizeof(dayname), "%04d-%02u-%02u", y, m, dd);
        from = tz_local_midnight(&tz, y, m, dd);
        clock_civil_from_days(clock_days_from_civil(y, m, dd) + 1, &y, &m, &dd);
        to = tz_local_midnight(&tz, y, m, dd);
    }

    enum report_format fmt;
    (void)report_format_from_name(pick_format(format, out), &fmt);
    struct report_opts ro = { .top = (size_t)top,
                              .flags = (keep ? REPORT_KEEP_LITERALS : 0u) |
                                       (no_script ? REPORT_NO_SCRIPT : 0u) };
    struct store *s;
    struct store_opts so = { .read_only = true };
    if (store_open(&s, cli->db_path, &so, d) < 0) {
        tz_release(&tz);
        return -1;
    }
    struct report r;
    struct sbuf sb = SBUF_INIT;
    report_init(&r);
    report_set_period(&r, from, to, &tz, dayname[0] ? dayname : NULL);
    snprintf(r.generator, sizeof(r.generator), "pgsift %s", SIFT_VERSION);
    int rc = report_from_store(&r, s, &ro, d);
    store_close(s);
    if (rc == 0)
        rc = report_read_alerts(&r, cli->db_path, d);
    if (rc == 0 && dir) {
        unsigned removed = 0;
        rc = report_daily_write(&r, &daily, &ro, &sb, d);
        if (rc == 0)
            rc = report_daily_prune(&daily, dayname, &removed, d);
        if (rc == 0 && summary) {
            char link[4096];
            bool html = daily.formats & (1u << REPORT_HTML);
            (void)report_daily_path(&daily, dayname, html ? REPORT_HTML : REPORT_MD, link,
                                    sizeof(link));
            sbuf_reset(&sb);
            if (report_render_summary(&r, &ro, link, &sb) < 0)
                rc = diag_set(d, DIAG_LIMIT, "summary too large");
        }
        if (rc == 0 && removed)
            log_verbose("removed %u report file%s older than %ld days", removed,
                        removed == 1 ? "" : "s", keep_days);
        if (rc == 0 && (fwrite(sb.buf, 1, sb.len, stdout) != sb.len || fflush(stdout) != 0))
            rc = diag_set(d, DIAG_IO, "cannot write to standard output");
    } else if (rc == 0) {
        rc = report_render(&r, &ro, fmt, &sb, d);
    }
    if (rc == 0 && !dir) {
        if (out)
            rc = report_write_file(out, sb.buf, sb.len, d);
        else if (fwrite(sb.buf, 1, sb.len, stdout) != sb.len || fflush(stdout) != 0)
            rc = diag_set(d, DIAG_IO, "cannot write to standard output");
    }
    report_release(&r);
    sbuf_release(&sb);
    return rc;
}
