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
#include "rules/rules.h"
#include "version.h"

/* After a failed run, wait this long before the next attempt. */
#define RETRY_US (5 * 60 * USEC_PER_SEC)

/* A summary that failed to go out is tried again after these waits, then given up. */
static const int64_t send_backoff_us[] = { 60 * USEC_PER_SEC, 5 * 60 * USEC_PER_SEC,
                                           15 * 60 * USEC_PER_SEC, 60 * 60 * USEC_PER_SEC };

/* A summary waiting to be sent to one receiver. */
struct pending {
    char *receiver;
    char day[11];
    struct sbuf text;
    unsigned attempts;
    int64_t next_us;
};

struct report_hook {
    char *store_path;
    struct report_job *job;   /* NULL: no `report:` section */
    struct alert_config recv; /* the receivers (notify names are checked against them) */
    char **notify;            /* receiver names sent the summary */
    size_t nnotify;
    struct pending *pending; /* summaries not sent yet */
    size_t npending, pending_alloc;
    int64_t retry_at_us; /* after a failure: not before this */
    int64_t told_us;     /* the next run last logged (-v), to log each change once */
};

struct report_hook report_hook_ctx;

/* The value node of the key that @why ("report.<key>: ...") names in the mapping @map;
 * @map itself when there is none. */
static yaml_node_t *key_value(struct ydoc *y, yaml_node_t *map, const char *why)
{
    if (strncmp(why, "report.", 7) != 0)
        return map;
    yaml_node_t *v = ydoc_map_get(y, map, span_make(why + 7, strcspn(why + 7, ":")));
    return v ? v : map;
}

int report_hook_start(void *ctx, const char *store_path, struct diag *d)
{
    struct report_hook *h = ctx;

    (void)d;
    memset(h, 0, sizeof(*h));
    h->store_path = xstrdup(store_path);
    alert_config_init(&h->recv);
    return 0;
}

static void free_notify(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void pending_drop(struct report_hook *h, size_t i)
{
    free(h->pending[i].receiver);
    sbuf_release(&h->pending[i].text);
    h->pending[i] = h->pending[--h->npending];
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
        free_notify(h->notify, h->nnotify);
        h->notify = NULL;
        h->nnotify = 0;
        return 0;
    }
    memset(&rc, 0, sizeof(rc));
    /* Every problem of the section, not the first one only. */
    size_t mark = y->errors.len;
    unsigned nerr =
        ydoc_map(y, c->report, report_config_fields, report_config_nfields, &rc, &strings);
    const char *why[REPORT_CONFIG_PROBLEMS];
    size_t nwhy = report_daily_check(&rc, &daily, why);
    for (size_t i = 0; i < nwhy; i++) /* at the key's value, else at the section */
        ydoc_error(y, key_value(y, c->report, why[i]), "%s", why[i]);
    nerr += (unsigned)nwhy;
    /* The receivers the summary goes to (the rules hook checks the section itself). */
    struct alert_config recv;
    alert_config_init(&recv);
    if (rc.notify.n) {
        /* (the rules hook reports the receivers' own problems: not twice) */
        size_t elen = y->errors.len;
        unsigned en = y->nerrors;
        alert_config_from_yaml(&recv, y, NULL, c->receivers, NULL, NULL, NULL);
        sbuf_setlen(&y->errors, elen);
        y->nerrors = en;
    }
    for (size_t i = 0; i < rc.notify.n; i++) {
        const struct receiver *rv = alert_config_receiver(&recv, rc.notify.v[i]);
        if (!rv && alert_config_defines(&recv, rc.notify.v[i]))
            continue; /* (defined with problems, which the rules hook says) */
        if (!rv || rv->type == RECV_PAGERDUTY ||
            (rv->type == RECV_WEBHOOK && rv->format == WEBHOOK_ALERTMANAGER_V4)) {
            ydoc_error(y, key_value(y, c->report, "report.notify:"),
                       rv ? "report.notify: receiver '%s' takes alerts only (pagerduty, "
                            "alertmanager_v4), not the report's summary"
                          : "report.notify: no receiver named '%s' in receivers",
                       rc.notify.v[i]);
            nerr++;
        }
    }
    if (nerr) {
        print_new_errors(y, mark);
        diag_set(d, DIAG_USAGE, "%s: %u error%s in the report section", where, nerr,
                 nerr == 1 ? "" : "s");
        alert_config_release(&recv);
        goto out;
    }
    if (c->timezone_invalid) { /* (said by the configuration, with its place) */
        alert_config_release(&recv);
        ret = 0;
        goto out;
    }
    struct report_opts o = { .top = (size_t)rc.top };
    char generator[64];
    snprintf(generator, sizeof(generator), "pgsift %s", SIFT_VERSION);
    if (report_job_new(&job, &daily, c->timezone ? c->timezone : "UTC", &o, generator, d) < 0) {
        alert_config_release(&recv);
        goto out;
    }
    report_job_set_alerts_store(job, h->store_path);
    alert_config_release(&h->recv);
    h->recv = recv;
    free_notify(h->notify, h->nnotify);
    h->notify = xcalloc(rc.notify.n ? rc.notify.n : 1, sizeof(*h->notify));
    h->nnotify = rc.notify.n;
    for (size_t i = 0; i < rc.notify.n; i++)
        h->notify[i] = xstrdup(rc.notify.v[i]);
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

int report_hook_check(const struct config *c, struct diag *d)
{
    struct report_hook h;
    if (report_hook_start(&h, "", d) < 0)
        return -1;
    int rc = report_hook_configure(&h, c, NULL, d);
    report_hook_release(&h);
    return rc;
}

int64_t report_hook_next_tick(void *ctx, int64_t now_us)
{
    struct report_hook *h = ctx;
    int64_t send_at = INT64_MAX;

    for (size_t i = 0; i < h->npending; i++)
        if (h->pending[i].next_us < send_at)
            send_at = h->pending[i].next_us;
    if (!h->job)
        return send_at;
    int64_t at = report_job_next_us(h->job, now_us);
    if (at < h->retry_at_us)
        at = h->retry_at_us;
    if (at > now_us && at != h->told_us) {
        char iso[CLOCK_RFC3339_MAX];
        log_verbose("report: next run at %s", clock_format_rfc3339(at, 0, iso));
        h->told_us = at;
    }
    return at < send_at ? at : send_at;
}

/* Send the summaries that are due; failures are logged here (the report was written). */
static void send_due(struct report_hook *h, int64_t now_us)
{
    for (size_t i = 0; i < h->npending;) {
        struct pending *p = &h->pending[i];
        if (p->next_us > now_us) {
            i++;
            continue;
        }
        struct diag d = DIAG_INIT;
        char id[64], title[64];
        snprintf(id, sizeof(id), "pgsift-report-%s", p->day);
        snprintf(title, sizeof(title), "PostgreSQL report %s", p->day);
        int rc = deliver_message(&h->recv, p->receiver, id, title, sbuf_span(&p->text), now_us, &d);
        if (rc == 0) {
            log_note("report: summary of %s sent to '%s'", p->day, p->receiver);
        } else if (rc > 0 && p->attempts < ARRAY_SIZE(send_backoff_us)) {
            log_warn("report: summary of %s not sent (%s); trying again in %lld s", p->day, d.msg,
                     (long long)(send_backoff_us[p->attempts] / USEC_PER_SEC));
            p->next_us = now_us + send_backoff_us[p->attempts++];
            i++;
            continue;
        } else {
            log_error("report: summary of %s not sent, giving up: %s", p->day, d.msg);
        }
        pending_drop(h, i);
    }
}

int report_hook_tick(void *ctx, struct store *s, int64_t now_us, struct diag *d)
{
    struct report_hook *h = ctx;
    struct sbuf written = SBUF_INIT, summary = SBUF_INIT;

    send_due(h, now_us);
    if (!h->job || now_us < h->retry_at_us)
        return 0;
    int rc = report_job_run(h->job, s, now_us, &written, h->nnotify ? &summary : NULL, d);
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
        for (size_t i = 0; i < h->nnotify; i++) {
            XGROW(h->pending, h->npending + 1, h->pending_alloc);
            struct pending *q = &h->pending[h->npending++];
            memset(q, 0, sizeof(*q));
            q->text = (struct sbuf)SBUF_INIT;
            q->receiver = xstrdup(h->notify[i]);
            snprintf(q->day, sizeof(q->day), "%s", report_job_last_day(h->job));
            q->next_us = now_us;
            if (sbuf_addspan(&q->text, sbuf_span(&summary)) < 0)
                BUG("report summary larger than a buffer");
        }
        send_due(h, now_us);
    }
    sbuf_release(&written);
    sbuf_release(&summary);
    return rc < 0 ? -1 : 0;
}

void report_hook_release(void *ctx)
{
    struct report_hook *h = ctx;

    if (!h->store_path)
        return; /* never started */
    report_job_free(h->job);
    alert_config_release(&h->recv);
    free_notify(h->notify, h->nnotify);
    while (h->npending)
        pending_drop(h, 0);
    free(h->pending);
    free(h->store_path);
    memset(h, 0, sizeof(*h));
}
