/* SPDX-License-Identifier: MIT */
/*
 * cmd_alerts - `pgsift alerts` (instances, states, the delivery log, the history) and
 * `pgsift alerts deliver` (send what the outbox holds).
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd/cmd.h"
#include "cmd/outfmt.h"
#include "core/clock.h"
#include "core/lazylib.h"
#include "core/log.h"
#include "core/opts.h"
#include "rules/rules.h"

#define ALERTS_SYNOPSIS                                                \
    "pgsift alerts [--state S] [--history] [--limit N] [--format F]\n" \
    "       pgsift alerts deliver --config FILE [--once] [--max-seconds N]"

static const char *const states[] = { "pending", "firing", "recovering", "resolved", NULL };

static int alerts_deliver(int argc, char **argv, const struct cli *cli, struct diag *d)
{
    const char *config = NULL;
    bool once = false;
    long max_seconds = 0;
    const struct opt opts[] = {
        OPT_STRING_(0, "config", &config, "FILE", "pgsift.yaml with receivers and route"),
        OPT_BOOL_(0, "once", &once, "send what is due now, then exit"),
        OPT_LONG_(0, "max-seconds", &max_seconds, "N", "stop after N seconds (0: run until killed)",
                  0, 100000000),
        OPT_END_(),
    };
    int n = opts_parse(opts, argc - 1, argv + 1, d);

    if (n == -2) {
        opts_usage(stdout, "pgsift alerts deliver --config FILE [--once] [--max-seconds N]", opts);
        return 0;
    }
    if (n < 0)
        return -1;
    if (n > 0)
        return diag_set(d, DIAG_USAGE, "'alerts deliver' takes no operands");
    if (!config)
        return diag_set(d, DIAG_USAGE, "'alerts deliver' needs --config FILE (the receivers)");

    struct alert_config cfg;
    struct alertdb *db = NULL;
    int rc = -1;
    alert_config_init(&cfg);
    if (alert_config_load(&cfg, config, d) < 0)
        goto out;
    const char *p = cfg.errors.buf;
    while (*p) {
        size_t len = strcspn(p, "\n");
        fprintf(stderr, "pgsift: %.*s\n", (int)len, p);
        p += len + (p[len] == '\n');
    }
    /* and the rest of the file, as tail reads it */
    int more = cmd_config_check_rest(config, cfg.errors.buf, d);
    if (more < 0)
        goto out;
    if (cfg.nerrors || more) {
        unsigned nerr = cfg.nerrors + (unsigned)more;
        diag_set(d, DIAG_USAGE, "%u error%s in '%s'", nerr, nerr == 1 ? "" : "s", config);
        goto out;
    }
    /* Every receiver sends through libcurl: a missing library is one error, up front. */
    if ((cfg.nreceivers && !lazylib_curl(d)) ||
        alertdb_open(&db, cli_store_path(cli, cfg.store), false, d) < 0)
        goto out;
    int64_t started = clock_mono_ns();
    unsigned delivered = 0, attempts = 0, failed = 0;
    for (;;) {
        struct deliver_opts o = { .config = &cfg, .db = db, .now_us = clock_now_us() };
        struct deliver_stats st;
        if (deliver_pass(&o, &st, d) < 0)
            goto out;
        delivered += st.delivered;
        attempts += st.attempts;
        failed += st.failed + st.gave_up;
        if (st.more || st.batched)
            continue; /* more is due right now (a capped pass, or fresh messages) */
        if (once)
            break;
        if (max_seconds && clock_mono_ns() - started >= max_seconds * INT64_C(1000000000))
            break;
        /* Wait for the next due attempt, but look for new notifications every second. */
        int64_t wait = st.next_due_us ? st.next_due_us - clock_now_us() : USEC_PER_SEC;
        if (wait > USEC_PER_SEC || wait < 0)
            wait = USEC_PER_SEC;
        if (wait < 10000)
            wait = 10000;
        struct timespec ts = { (time_t)(wait / USEC_PER_SEC), (long)(wait % USEC_PER_SEC) * 1000 };
        nanosleep(&ts, NULL);
    }
    printf("delivered %u, attempts %u, failed %u\n", delivered, attempts, failed);
    rc = 0;
out:
    alertdb_close(db);
    alert_config_release(&cfg);
    return rc;
}

/* ---- --format md and csv: rendered from the JSON document ---- */

struct cellbuf {
    char b[6][64]; /* the numbers of a row, in turn (a row has fewer than six) */
    unsigned n;
    char *labels; /* the last labels_cell() (json_dumps() or a k=v line), for free() */
};

/* A member of @o as cell text: a string as it is, a number in short form (15 digits in
 * CSV, enough for any value a rule compares), null or absent as @null_text. */
static const char *cell(struct cellbuf *c, json_t *o, const char *key, bool md,
                        const char *null_text)
{
    json_t *v = json_object_get(o, key);
    if (json_is_string(v))
        return json_string_value(v);
    char *b = c->b[c->n % ARRAY_SIZE(c->b)];
    if (json_is_number(v))
        c->n++;
    if (json_is_integer(v))
        snprintf(b, sizeof(c->b[0]), "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(b, sizeof(c->b[0]), md ? "%g" : "%.15g", json_real_value(v));
    else
        return null_text;
    return b;
}

/* The labels as one cell: `name=value name=value` in Markdown (as the table shows
 * them), the JSON object in CSV (exact for scripts, whatever the values hold). */
static const char *labels_cell(struct cellbuf *c, json_t *o, bool md)
{
    json_t *l = json_object_get(o, "labels");
    free(c->labels);
    c->labels = NULL;
    if (!md) {
        c->labels = json_dumps(l, JSON_COMPACT);
    } else {
        struct sbuf sb = SBUF_INIT;
        const char *k;
        json_t *v;
        json_object_foreach(l, k, v)
        {
            if (sbuf_addf(&sb, "%s%s=%s", sb.len ? " " : "", k,
                          json_is_string(v) ? json_string_value(v) : "") < 0)
                break;
        }
        c->labels = sbuf_detach(&sb, NULL);
    }
    return c->labels ? c->labels : "";
}

static void print_alerts(json_t *doc, bool md)
{
    static const char *const icols[] = { "state",    "severity",    "rule",  "active_since",
                                         "fired_at", "resolved_at", "value", "episode",
                                         "labels",   "instance_key" };
    static const char *const dcols[] = { "id",     "receiver",   "status",       "attempts",
                                         "alerts", "created_at", "delivered_at", "last_error" };
    const char *none = md ? "-" : "";
    struct cellbuf c = { .n = 0 };
    size_t i;
    json_t *x;

    if (md)
        fputs("## Alerts\n\n", stdout);
    outfmt_delim_header(stdout, md, icols, ARRAY_SIZE(icols), "------rr");
    json_array_foreach(json_object_get(doc, "instances"), i, x)
    {
        const char *row[] = {
            cell(&c, x, "state", md, none),
            cell(&c, x, "severity", md, none),
            cell(&c, x, "rule", md, none),
            cell(&c, x, "active_since", md, none),
            cell(&c, x, "fired_at", md, none),
            cell(&c, x, "resolved_at", md, none),
            cell(&c, x, "value", md, none),
            cell(&c, x, "episode", md, none),
            labels_cell(&c, x, md),
            cell(&c, x, "instance_key", md, none),
        };
        outfmt_delim_row(stdout, md, row, ARRAY_SIZE(row));
    }
    if (md) { /* CSV is one table: the instances (json has the rest) */
        const char *k;
        json_t *v;
        json_t *held = json_object_get(doc, "not_sent");
        fputs("\nNotifications not sent:", stdout);
        if (!json_object_size(held))
            fputs(" none", stdout);
        json_object_foreach(held, k, v)
        {
            printf(" %s %lld", k, (long long)json_integer_value(v));
        }
        fputs(".\n\n## Deliveries (newest first)\n\n", stdout);
        outfmt_delim_header(stdout, md, dcols, ARRAY_SIZE(dcols), "---rr");
        json_array_foreach(json_object_get(doc, "deliveries"), i, x)
        {
            const char *row[] = {
                cell(&c, x, "id", md, none),           cell(&c, x, "receiver", md, none),
                cell(&c, x, "status", md, none),       cell(&c, x, "attempts", md, none),
                cell(&c, x, "alerts", md, none),       cell(&c, x, "created_at", md, none),
                cell(&c, x, "delivered_at", md, none), cell(&c, x, "last_error", md, none),
            };
            outfmt_delim_row(stdout, md, row, ARRAY_SIZE(row));
        }
    }
    free(c.labels);
}

static void print_timeline(json_t *doc, bool md)
{
    static const char *const cols[] = { "at", "transition", "rule", "severity", "value", "labels" };
    const char *none = md ? "-" : "";
    struct cellbuf c = { .n = 0 };
    size_t i;
    json_t *x;

    outfmt_delim_header(stdout, md, cols, ARRAY_SIZE(cols), "----r");
    json_array_foreach(json_object_get(doc, "timeline"), i, x)
    {
        const char *row[] = {
            cell(&c, x, "at", md, none),    cell(&c, x, "transition", md, none),
            cell(&c, x, "rule", md, none),  cell(&c, x, "severity", md, none),
            cell(&c, x, "value", md, none), labels_cell(&c, x, md),
        };
        outfmt_delim_row(stdout, md, row, ARRAY_SIZE(row));
    }
    free(c.labels);
}

int cmd_alerts(int argc, char **argv, const struct cli *cli, struct diag *d)
{
    const char *state = NULL, *format = "table";
    bool history = false;
    long limit = 20;
    const struct opt opts[] = {
        OPT_CHOICE_(0, "state", &state, "S", "only instances in this state", states),
        OPT_BOOL_(0, "history", &history, "print every transition instead, in event time order"),
        OPT_LONG_(0, "limit", &limit, "N", "deliveries shown (newest first)", 0, 100000),
        OPT_CHOICE_(0, "format", &format, "F", "table (default), json, md or csv", outfmt_names),
        OPT_END_(),
    };

    if (argc >= 2 && !strcmp(argv[1], "deliver"))
        return alerts_deliver(argc - 1, argv + 1, cli, d);
    int n = opts_parse(opts, argc - 1, argv + 1, d);
    if (n == -2) {
        opts_usage(stdout, ALERTS_SYNOPSIS, opts);
        return 0;
    }
    if (n < 0)
        return -1;
    if (n > 0)
        return diag_set(d, DIAG_USAGE, "unknown 'alerts' subcommand '%s' (expected: deliver)",
                        argv[1]);
    struct alertdb *db;
    if (alertdb_open(&db, cli->db_path, false, d) < 0)
        return -1;
    enum outfmt f = outfmt_from_name(format);
    int rc;
    if (f == OUTFMT_MD || f == OUTFMT_CSV) {
        json_t *doc = history ? timeline_doc(db, state, d) : alerts_doc(db, state, (int)limit, d);
        rc = doc ? 0 : -1;
        if (doc && history)
            print_timeline(doc, f == OUTFMT_MD);
        else if (doc)
            print_alerts(doc, f == OUTFMT_MD);
        json_decref(doc);
    } else {
        enum alert_print_format af = f == OUTFMT_JSON ? APRINT_JSON : APRINT_TABLE;
        rc = history ? timeline_print(db, state, af, stdout, d)
                     : alerts_print(db, state, af, (int)limit, stdout, d);
    }
    alertdb_close(db);
    return rc;
}
