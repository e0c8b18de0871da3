/* SPDX-License-Identifier: MIT */
/*
 * job.c - the daily report as a job a daemon runs: "at HH:MM local time, write
 * yesterday's report into the directory, prune old ones, hand out a summary". The
 * daemon (pgsift tail) only asks when to wake up next and calls run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/xalloc.h"
#include "report/report_int.h"

struct report_job {
    struct report_daily cfg;
    char dir[4096];
    struct tz tz;
    struct report_opts opts;
    char generator[64];
    char *alerts_store; /* NULL: alerts not read */
    char last_day[11];  /* written by the last run */
};

int report_build_day(struct report *r, struct store *st, const char *tzname, const char *day,
                     const struct report_opts *o, struct diag *d)
{
    struct tz tz;
    int64_t us;
    int y;
    unsigned m, dd;

    if (!day || strlen(day) != 10 || !clock_parse_rfc3339(span_cstr(day), &us))
        return diag_set(d, DIAG_USAGE, "invalid day '%s' (expected YYYY-MM-DD)", day ? day : "");
    clock_civil_from_days(us / USEC_PER_DAY, &y, &m, &dd);
    char back[11];
    snprintf(back, sizeof(back), "%04d-%02u-%02u", y, m, dd);
    if (strcmp(back, day))
        return diag_set(d, DIAG_USAGE, "invalid day '%s' (expected YYYY-MM-DD)", day);
    if (tz_load(&tz, tzname, d) < 0)
        return -1;
    int64_t from = tz_local_midnight(&tz, y, m, dd);
    clock_civil_from_days(clock_days_from_civil(y, m, dd) + 1, &y, &m, &dd);
    int64_t to = tz_local_midnight(&tz, y, m, dd);
    report_set_period(r, from, to, &tz, day);
    return report_from_store(r, st, o, d);
}

int report_job_new(struct report_job **out, const struct report_daily *cfg, const char *tzname,
                   const struct report_opts *o, const char *generator, struct diag *d)
{
    struct report_job *j = xcalloc(1, sizeof(*j));

    if (!cfg->dir || !*cfg->dir ||
        snprintf(j->dir, sizeof(j->dir), "%s", cfg->dir) >= (int)sizeof(j->dir)) {
        free(j);
        return diag_set(d, DIAG_USAGE, "report.dir: expected a directory");
    }
    if (tz_load(&j->tz, tzname ? tzname : "UTC", d) < 0) {
        free(j);
        return -1;
    }
    j->cfg = *cfg;
    j->cfg.dir = j->dir;
    if (o)
        j->opts = *o;
    snprintf(j->generator, sizeof(j->generator), "%s", generator ? generator : "pgsift");
    *out = j;
    return 0;
}

void report_job_free(struct report_job *j)
{
    if (!j)
        return;
    tz_release(&j->tz);
    free(j->alerts_store);
    free(j);
}

void report_job_set_alerts_store(struct report_job *j, const char *path)
{
    free(j->alerts_store);
    j->alerts_store = path ? xstrdup(path) : NULL;
}

const char *report_job_last_day(const struct report_job *j)
{
    return j->last_day;
}

int64_t report_job_next_us(const struct report_job *j, int64_t now_us)
{
    char day[11];
    int y;
    unsigned m, d;

    if (report_daily_due(&j->cfg, &j->tz, now_us, day))
        return now_us;
    /* Today's `at` if it is still ahead, else tomorrow's. */
    tz_local_date(&j->tz, now_us, &y, &m, &d);
    int64_t at = tz_local_midnight(&j->tz, y, m, d) + (int64_t)j->cfg.at_minute * 60 * USEC_PER_SEC;
    if (at > now_us)
        return at;
    clock_civil_from_days(clock_days_from_civil(y, m, d) + 1, &y, &m, &d);
    return tz_local_midnight(&j->tz, y, m, d) + (int64_t)j->cfg.at_minute * 60 * USEC_PER_SEC;
}

int report_job_run(struct report_job *j, struct store *st, int64_t now_us, struct sbuf *written,
                   struct sbuf *summary, struct diag *d)
{
    char day[11];
    struct report r;
    int rc;

    if (!report_daily_due(&j->cfg, &j->tz, now_us, day))
        return 0;
    report_init(&r);
    snprintf(r.generator, sizeof(r.generator), "%s", j->generator);
    rc = report_build_day(&r, st, j->tz.name, day, &j->opts, d);
    if (rc == 0 && j->alerts_store)
        rc = report_read_alerts(&r, j->alerts_store, d);
    if (rc == 0)
        rc = report_daily_write(&r, &j->cfg, &j->opts, written, d);
    if (rc == 0)
        rc = report_daily_prune(&j->cfg, day, NULL, d);
    if (rc == 0 && summary) {
        char link[4096];
        bool html = j->cfg.formats & (1u << REPORT_HTML);
        if (report_daily_path(&j->cfg, day, html ? REPORT_HTML : REPORT_MD, link, sizeof(link)) <
                0 ||
            report_render_summary(&r, &j->opts, link, summary) < 0)
            rc = diag_set(d, DIAG_LIMIT, "report summary too large");
    }
    report_release(&r);
    if (rc == 0)
        snprintf(j->last_day, sizeof(j->last_day), "%s", day);
    return rc < 0 ? -1 : 1;
}
