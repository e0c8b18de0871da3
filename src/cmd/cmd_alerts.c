/* SPDX-License-Identifier: MIT */
/*
 * cmd_alerts - `pgsift alerts` (instances, states, the delivery log, the history) and
 * `pgsift alerts deliver` (send what the outbox holds).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd/cmd.h"
#include "core/clock.h"
#include "core/lazylib.h"
#include "core/log.h"
#include "core/opts.h"
#include "rules/rules.h"

#define ALERTS_SYNOPSIS                                                \
    "pgsift alerts [--state S] [--history] [--limit N] [--format F]\n" \
    "       pgsift alerts deliver --config FILE [--once] [--max-seconds N]"

static const char *const states[] = { "pending", "firing", "recovering", "resolved", NULL };
static const char *const formats[] = { "table", "json", NULL };

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
    if (cfg.nerrors) {
        const char *p = cfg.errors.buf;
        while (*p) {
            size_t len = strcspn(p, "\n");
            fprintf(stderr, "pgsift: %.*s\n", (int)len, p);
            p += len + (p[len] == '\n');
        }
        diag_set(d, DIAG_USAGE, "%u error%s in '%s'", cfg.nerrors, cfg.nerrors == 1 ? "" : "s",
                 config);
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

int cmd_alerts(int argc, char **argv, const struct cli *cli, struct diag *d)
{
    const char *state = NULL, *format = "table";
    bool history = false;
    long limit = 20;
    const struct opt opts[] = {
        OPT_CHOICE_(0, "state", &state, "S", "only instances in this state", states),
        OPT_BOOL_(0, "history", &history, "print every transition instead, in event time order"),
        OPT_LONG_(0, "limit", &limit, "N", "deliveries shown (newest first)", 0, 100000),
        OPT_CHOICE_(0, "format", &format, "F", "table or json", formats),
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
    enum alert_print_format f = strcmp(format, "json") ? APRINT_TABLE : APRINT_JSON;
    int rc = history ? timeline_print(db, f, stdout, d)
                     : alerts_print(db, state, f, (int)limit, stdout, d);
    alertdb_close(db);
    return rc;
}
