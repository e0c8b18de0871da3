/* SPDX-License-Identifier: MIT */
/*
 * daily.c - the report of each day, written into a directory at a configured hour and
 * kept N days (`pgsift tail` calls report_daily_due()/report_daily_run(); cron users run
 * `pgsift report --dir DIR`), and the short Markdown summary sent to a receiver.
 *
 * Files are named pgsift-report-YYYY-MM-DD.{html,md,json}; pruning only ever removes
 * files of exactly that shape, so a shared directory is safe.
 */
#include <dirent.h>
#include <stddef.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/escape.h"
#include "core/path.h"
#include "core/ydoc.h"
#include "report/report_int.h"

#define DAILY_PREFIX "pgsift-report-"

static const char *const ext[] = {
    [REPORT_HTML] = "html", [REPORT_MD] = "md", [REPORT_JSON] = "json"
};

const char *report_format_name(enum report_format f)
{
    return (unsigned)f < ARRAY_SIZE(ext) ? ext[f] : "";
}

bool report_parse_at(const char *s, int *minutes)
{
    if (!s || strlen(s) != 5 || s[2] != ':')
        return false;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (s[i] < '0' || s[i] > '9'))
            return false;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 23 || m > 59)
        return false;
    *minutes = h * 60 + m;
    return true;
}

int report_daily_path(const struct report_daily *cfg, const char *day, enum report_format f,
                      char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s/" DAILY_PREFIX "%s.%s", cfg->dir, day, report_format_name(f));
    return n > 0 && (size_t)n < size ? 0 : -1;
}

/* The local day before @now (YYYY-MM-DD), and @now's minutes after local midnight. */
static void yesterday(const struct tz *tz, int64_t now_us, char day[11], int *minute)
{
    int y;
    unsigned m, d;
    tz_local_date(tz, now_us, &y, &m, &d);
    int64_t midnight = tz_local_midnight(tz, y, m, d);
    *minute = (int)((now_us - midnight) / (60 * USEC_PER_SEC));
    clock_civil_from_days(clock_days_from_civil(y, m, d) - 1, &y, &m, &d);
    snprintf(day, 11, "%04d-%02u-%02u", y, m, d);
}

bool report_daily_due(const struct report_daily *cfg, const struct tz *tz, int64_t now_us,
                      char day[11])
{
    int minute;
    char path[4096];

    yesterday(tz, now_us, day, &minute);
    if (minute < cfg->at_minute || !cfg->formats)
        return false;
    for (int f = 0; f < (int)ARRAY_SIZE(ext); f++) {
        struct stat st;
        if (!(cfg->formats & (1u << f)))
            continue;
        if (report_daily_path(cfg, day, (enum report_format)f, path, sizeof(path)) < 0)
            return false;
        if (stat(path, &st) < 0 && errno == ENOENT)
            return true; /* a format of yesterday is missing: (re)write the day */
    }
    return false;
}

/* "pgsift-report-YYYY-MM-DD.<ext>" -> days since the epoch; false for other names. */
static bool daily_name(const char *name, int64_t *days)
{
    size_t plen = sizeof(DAILY_PREFIX) - 1;
    if (strncmp(name, DAILY_PREFIX, plen))
        return false;
    const char *d = name + plen, *dot = strchr(d, '.');
    if (!dot || dot - d != 10)
        return false;
    bool known = false;
    for (size_t i = 0; i < ARRAY_SIZE(ext); i++)
        known |= !strcmp(dot + 1, ext[i]);
    int64_t us;
    char day[11];
    memcpy(day, d, 10);
    day[10] = '\0';
    if (!known || !clock_parse_rfc3339(span_make(day, 10), &us))
        return false;
    *days = us / USEC_PER_DAY;
    return true;
}

int report_daily_prune(const struct report_daily *cfg, const char *day, unsigned *removed,
                       struct diag *d)
{
    int64_t today;
    unsigned n = 0;

    if (removed)
        *removed = 0;
    if (cfg->keep_days <= 0)
        return 0;
    int64_t us;
    if (!clock_parse_rfc3339(span_cstr(day), &us))
        return diag_set(d, DIAG_USAGE, "invalid day '%s'", day);
    today = us / USEC_PER_DAY;
    DIR *dir = opendir(cfg->dir);
    if (!dir)
        return diag_errno(d, DIAG_IO, errno, "cannot read report directory '%s'", cfg->dir);
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(dir))) {
        int64_t days;
        char path[4096];
        /* Keep the day itself and the keep_days - 1 before it. */
        if (!daily_name(e->d_name, &days) || days > today - cfg->keep_days)
            continue;
        if (snprintf(path, sizeof(path), "%s/%s", cfg->dir, e->d_name) >= (int)sizeof(path))
            continue;
        if (unlink(path) < 0 && errno != ENOENT) {
            rc = diag_errno(d, DIAG_IO, errno, "cannot remove old report '%s'", path);
            break;
        }
        n++;
    }
    closedir(dir);
    if (removed)
        *removed = n;
    return rc;
}

int report_daily_write(const struct report *r, const struct report_daily *cfg,
                       const struct report_opts *o, struct sbuf *written, struct diag *d)
{
    struct sbuf out = SBUF_INIT;
    char path[4096];
    int rc = 0;

    if (!r->day[0])
        BUG("daily reports are for a day");
    if (path_mkdirs(cfg->dir, 0700) < 0)
        return diag_errno(d, DIAG_IO, errno, "cannot create report directory '%s'", cfg->dir);
    for (int f = 0; f < (int)ARRAY_SIZE(ext) && rc == 0; f++) {
        if (!(cfg->formats & (1u << f)))
            continue;
        sbuf_reset(&out);
        if (report_daily_path(cfg, r->day, (enum report_format)f, path, sizeof(path)) < 0) {
            rc = diag_set(d, DIAG_IO, "report directory path too long: '%s'", cfg->dir);
            break;
        }
        rc = report_render(r, o, (enum report_format)f, &out, d);
        if (rc == 0)
            rc = report_write_file(path, out.buf, out.len, d);
        if (rc == 0 && written && (sbuf_addstr(written, path) < 0 || sbuf_addch(written, '\n') < 0))
            rc = diag_set(d, DIAG_LIMIT, "too many report files");
    }
    sbuf_release(&out);
    return rc;
}

/* ---- pgsift.yaml `report:` ---- */

const struct yfield report_config_fields[] = {
    { "dir", YF_STRING, true, NULL, "directory the daily reports are written to",
      offsetof(struct report_config, dir), NULL },
    { "at", YF_STRING, false, "06:00",
      "local time (HH:MM, in `timezone`) when the previous day's report is written",
      offsetof(struct report_config, at), NULL },
    { "keep_days", YF_INT, false, "30", "reports older than this many days are deleted (0: keep)",
      offsetof(struct report_config, keep_days), NULL },
    { "formats", YF_STRING_LIST, false, NULL, "html, md and/or json (default: html and md)",
      offsetof(struct report_config, formats), NULL },
    { "top", YF_INT, false, "20", "rows per ranking", offsetof(struct report_config, top), NULL },
    { "notify", YF_STRING_LIST, false, NULL,
      "receivers sent a Markdown summary when the report is written",
      offsetof(struct report_config, notify), NULL },
};
const size_t report_config_nfields = ARRAY_SIZE(report_config_fields);

size_t report_daily_check(const struct report_config *c, struct report_daily *out,
                          const char *why[REPORT_CONFIG_PROBLEMS])
{
    size_t n = 0;
#define PROBLEM(text)                   \
    do {                                \
        if (n < REPORT_CONFIG_PROBLEMS) \
            why[n++] = text;            \
    } while (0)
    memset(out, 0, sizeof(*out));
    out->dir = c->dir;
    out->keep_days = c->keep_days;
    out->at_minute = 6 * 60;
    if (c->at && !report_parse_at(c->at, &out->at_minute))
        PROBLEM("report.at: expected HH:MM (00:00 to 23:59)");
    if (c->keep_days < 0 || c->keep_days > 100000)
        PROBLEM("report.keep_days: expected 0 (keep all) to 100000");
    if (c->top < 0 || c->top > 1000)
        PROBLEM("report.top: expected 1 to 1000");
    if (!c->formats.n)
        out->formats = (1u << REPORT_HTML) | (1u << REPORT_MD);
    for (size_t i = 0; i < c->formats.n; i++) {
        enum report_format f;
        if (!report_format_from_name(c->formats.v[i], &f)) {
            PROBLEM("report.formats: expected html, md or json");
            break;
        }
        out->formats |= 1u << f;
    }
#undef PROBLEM
    return n;
}

const char *report_daily_from_config(const struct report_config *c, struct report_daily *out)
{
    const char *why[REPORT_CONFIG_PROBLEMS];
    return report_daily_check(c, out, why) ? why[0] : NULL;
}

/* ---- the summary for a chat receiver ---- */

static int add_md(struct sbuf *sb, struct span s)
{
    return escape_md(sb, s);
}

int report_render_summary(const struct report *r, const struct report_opts *o, const char *link,
                          struct sbuf *sb)
{
    char b[FMT_MAX], c[FMT_MAX], ob[8];
    int err = 0;
#define ADD(x)        \
    do {              \
        if ((x) < 0)  \
            err = -1; \
    } while (0)

    ADD(sbuf_addstr(sb, "**PostgreSQL report "));
    ADD(add_md(sb, span_cstr(r->day[0] ? r->day : "")));
    ADD(sbuf_addstr(sb, "** ("));
    ADD(add_md(sb, span_cstr(r->tz.name)));
    ADD(sbuf_addf(sb, ", UTC%s)\n\n", tz_format_offset(tz_offset_at(&r->tz, r->from_us), ob)));
    ADD(sbuf_addstr(sb, "| | This period | vs previous day | vs 7-day average |\n"
                        "| --- | ---: | ---: | ---: |\n"));
    for (int f = 0; f < RF_COUNT; f++) {
        if (f == RF_RECORDS)
            continue;
        fmt_figure(b, sizeof(b), (enum report_figure)f, r->totals.v[f]);
        ADD(sbuf_addf(sb, "| %s | %s |", report_figure_label((enum report_figure)f), b));
        fmt_change(b, sizeof(b), r->totals.v[f], r->prev_day.v[f]);
        fmt_change(c, sizeof(c), r->totals.v[f], r->avg_7d.v[f]);
        ADD(sbuf_addf(sb, " %s | %s |\n", b, c));
    }
    size_t n = r->nrank[RR_TOTAL] < 5 ? r->nrank[RR_TOTAL] : 5;
    if (n) {
        ADD(sbuf_addstr(sb, "\nTop statements by total time:\n\n| Query | Calls | Total | p95 |\n"
                            "| --- | ---: | ---: | ---: |\n"));
        for (size_t i = 0; i < n; i++) {
            const struct report_query *q = &r->queries[r->rank[RR_TOTAL][i]];
            int cut;
            ADD(sbuf_addstr(sb, "| "));
            ADD(add_md(sb, text_cut(q->text, 60, &cut)));
            if (cut)
                ADD(sbuf_addstr(sb, "\xe2\x80\xa6"));
            fmt_count(b, sizeof(b), (double)q->calls);
            ADD(sbuf_addf(sb, " | %s |", b));
            fmt_ms(b, sizeof(b), q->total_ms);
            fmt_ms(c, sizeof(c), q->p95_ms);
            ADD(sbuf_addf(sb, " %s | %s |\n", b, c));
        }
    }
    if (r->nerrors) {
        ADD(sbuf_addstr(sb, "\nMost frequent errors:\n\n| SQLSTATE | Count | Message |\n"
                            "| --- | ---: | --- |\n"));
        for (size_t i = 0; i < r->nerrors && i < 3; i++) {
            int cut;
            fmt_count(b, sizeof(b), (double)r->errors[i].count);
            ADD(sbuf_addstr(sb, "| "));
            ADD(add_md(sb, span_cstr(r->errors[i].sqlstate)));
            ADD(sbuf_addf(sb, " | %s | ", b));
            ADD(add_md(sb, text_cut(r->errors[i].message, 80, &cut)));
            ADD(sbuf_addstr(sb, " |\n"));
        }
    }
    ADD(sbuf_addf(
        sb,
        "\n%llu regression%s, %llu new statement shape%s, %zu plan change%s, %llu deadlock%s, "
        "%llu temp file%s.",
        (unsigned long long)r->regressions_total, r->regressions_total == 1 ? "" : "s",
        (unsigned long long)r->new_total, r->new_total == 1 ? "" : "s", r->nplan_changes,
        r->nplan_changes == 1 ? "" : "s", (unsigned long long)r->events[EV_DEADLOCK],
        r->events[EV_DEADLOCK] == 1 ? "" : "s", (unsigned long long)r->events[EV_TEMP_FILE],
        r->events[EV_TEMP_FILE] == 1 ? "" : "s"));
    if (link && *link) {
        ADD(sbuf_addstr(sb, " Full report: "));
        ADD(add_md(sb, span_cstr(link)));
    }
    ADD(sbuf_addch(sb, '\n'));
    (void)o;
#undef ADD
    return err;
}
