/* SPDX-License-Identifier: MIT */
/* The daily report as a hook of the tail daemon; see report_hook.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/report_hook.h"
#include "config.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "report/report.h"
#include "version.h"

/* After a failed run, wait this long before the next attempt. */
#define RETRY_US (5 * 60 * USEC_PER_SEC)

struct report_hook {
    char *store_path;
    struct report_job *job; /* NULL: no `report:` section */
    int64_t retry_at_us;    /* after a failure: not before this */
    int64_t told_us;        /* the next run last logged (-v), to log each change once */
};

struct report_hook report_hook_ctx;

int report_hook_start(void *ctx, const char *store_path, struct diag *d)
{
    struct report_hook *h = ctx;

    (void)d;
    memset(h, 0, sizeof(*h));
    h->store_path = xstrdup(store_path);
    return 0;
}

static void print_new_errors(const struct ydoc *y, size_t from)
{
    const char *p = y->errors.buf ? y->errors.buf + from : "";
    while (*p) {
        size_t len = strcspn(p, "\n");
        fprintf(stderr, "pgsift: %.*s\n", (int)len, p);
        p += len + (p[len] == '\n');
    }
}

int report_hook_configure(void *ctx, const struct config *c, struct store *s, struct diag *d)
{
    struct report_hook *h = ctx;
    struct ydoc *y = (struct ydoc *)&c->y; /* ydoc_map records its errors there */
    struct report_config rc;
    struct report_daily daily;
    struct arena strings = ARENA_INIT;
    struct report_job *job = NULL;
    const char *where = c->path ? c->path : "configuration";
    int ret = -1;

    (void)s;
    if (!c->report) {
        report_job_free(h->job);
        h->job = NULL;
        return 0;
    }
    memset(&rc, 0, sizeof(rc));
    size_t mark = y->errors.len;
    unsigned nerr =
        ydoc_map(y, c->report, report_config_fields, report_config_nfields, &rc, &strings);
    if (nerr) {
        print_new_errors(y, mark);
        diag_set(d, DIAG_USAGE, "%s: %u error%s in the report section", where, nerr,
                 nerr == 1 ? "" : "s");
        goto out;
    }
    const char *why = report_daily_from_config(&rc, &daily);
    if (why) {
        diag_set(d, DIAG_USAGE, "%s: %s", where, why);
        goto out;
    }
    struct report_opts o = { .top = (size_t)rc.top };
    char generator[64];
    snprintf(generator, sizeof(generator), "pgsift %s", SIFT_VERSION);
    if (report_job_new(&job, &daily, c->timezone ? c->timezone : "UTC", &o, generator, d) < 0)
        goto out;
    report_job_set_alerts_store(job, h->store_path);
    if (rc.notify.n)
        log_warn("%s: report.notify: sending the summary to receivers is not supported by this "
                 "build; the reports are written to '%s'",
                 where, daily.dir);
    report_job_free(h->job);
    h->job = job;
    h->retry_at_us = 0;
    h->told_us = 0;
    log_note("report: daily at %02d:%02d (%s) into '%s'", daily.at_minute / 60,
             daily.at_minute % 60, c->timezone ? c->timezone : "UTC", daily.dir);
    ret = 0;
out:
    arena_release(&strings);
    return ret;
}

int64_t report_hook_next_tick(void *ctx, int64_t now_us)
{
    struct report_hook *h = ctx;

    if (!h->job)
        return INT64_MAX;
    int64_t at = report_job_next_us(h->job, now_us);
    if (at < h->retry_at_us)
        at = h->retry_at_us;
    if (at > now_us && at != h->told_us) {
        char iso[CLOCK_RFC3339_MAX];
        log_verbose("report: next run at %s", clock_format_rfc3339(at, 0, iso));
        h->told_us = at;
    }
    return at;
}

int report_hook_tick(void *ctx, struct store *s, int64_t now_us, struct diag *d)
{
    struct report_hook *h = ctx;
    struct sbuf written = SBUF_INIT;

    if (!h->job || now_us < h->retry_at_us)
        return 0;
    int rc = report_job_run(h->job, s, now_us, &written, NULL, d);
    if (rc < 0) {
        h->retry_at_us = now_us + RETRY_US;
    } else if (rc > 0) {
        h->retry_at_us = 0;
        const char *p = written.buf ? written.buf : "";
        while (*p) {
            size_t len = strcspn(p, "\n");
            log_note("report: wrote '%.*s'", (int)len, p);
            p += len + (p[len] == '\n');
        }
    }
    sbuf_release(&written);
    return rc < 0 ? -1 : 0;
}

void report_hook_release(void *ctx)
{
    struct report_hook *h = ctx;

    if (!h->store_path)
        return; /* never started */
    report_job_free(h->job);
    free(h->store_path);
    memset(h, 0, sizeof(*h));
}
