/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "config.h"
#include "core/opts.h"

/* Keep in the order a user meets them: inspect, load, query, operate. */
const struct command commands[] = {
    { "version", cmd_version, "pgsift version",
      "show the version, build options and library versions" },
    { "parse", cmd_parse, "pgsift parse [--format F] [--prefix P] [--tz Z] [--stats] FILE...|-",
      "decode logs to NDJSON events (one per record), or count them with --stats" },
    { "fingerprint", cmd_fingerprint, "pgsift fingerprint [--lines] [--format F] [SQL...]",
      "normalize and fingerprint SQL like pg_stat_statements (literals never shown)" },
    { "ingest", cmd_ingest,
      "pgsift ingest [--format F] [--prefix P] [--tz Z] [--keep-literals] FILE|DIR|GLOB...|-",
      "load logs (plain, .gz, stdin) into the store, exactly once per byte" },
    { "top", cmd_top, "pgsift top [--since T] [--until T] [--by KEY] [--limit N] [--format F]",
      "the query table from the store: calls, time, p50/p95/p99 per statement" },
    { "plans", cmd_plans, "pgsift plans [--query FP] [--show PLAN] [--changes] [--format F]",
      "auto_explain plan shapes per query: latency per shape, plan changes, insights" },
    { "events", cmd_events, "pgsift events [--since T] [--until T] [--kind K] [--format F]",
      "errors, lock waits, deadlocks, temp files, checkpoints ... from the store" },
    { "tail", cmd_tail, "pgsift tail [--config FILE] [--check] [PATH|GLOB...]",
      "follow live logs across rotation into the store (a service next to the server)" },
    { "status", cmd_status, "pgsift status [--config FILE] [--format F] [PATH|GLOB...]",
      "per source and file: offset, lag in bytes and seconds, last commit" },
    { "report", cmd_report,
      "pgsift report [--day YYYY-MM-DD | --since T --until T] [--tz Z] [--format F] [-o FILE]",
      "the daily report: self-contained HTML, Markdown or JSON" },
    { "rules", cmd_rules, "pgsift rules check|explain|test|eval ...",
      "validate, explain, replay and evaluate alert rules" },
    { "alerts", cmd_alerts, "pgsift alerts [--state S] [--history] [--format F] | deliver ...",
      "alert instances, states and the delivery log; send notifications" },
    { "silence", cmd_silence, "pgsift silence add|list|expire ...",
      "mute notifications of matching alerts for a while" },
    { "help", cmd_help, "pgsift help [COMMAND]", "show help for pgsift or for one command" },
    { NULL, NULL, NULL, NULL },
};

const struct command *command_find(const char *name)
{
    for (const struct command *c = commands; c->name; c++)
        if (!strcmp(c->name, name))
            return c;
    return NULL;
}

void command_usage(FILE *out)
{
    fprintf(out, "usage: pgsift [--db PATH] [-q|-v] COMMAND [ARGS]\n\n"
                 "Turns PostgreSQL and Supabase server logs into per-query statistics.\n\n"
                 "Commands:\n");
    for (const struct command *c = commands; c->name; c++)
        fprintf(out, "    %-12s %s\n", c->name, c->summary);
    fprintf(out, "\nGlobal options:\n"
                 "    --db PATH    the SQLite store (default: $PGSIFT_DB, else ./pgsift.db)\n"
                 "    -q, --quiet  errors only on stderr\n"
                 "    -v, --verbose  more detail on stderr\n"
                 "    --version    same as 'pgsift version'\n"
                 "    -h, --help   this text; 'pgsift help COMMAND' for a command\n");
}

int cmd_help(int argc, char **argv, const struct cli *cli, struct diag *d)
{
    static const struct opt opts[] = { OPT_END_() };
    int n = opts_parse(opts, argc - 1, argv + 1, d);

    if (n == -2) {
        opts_usage(stdout, "pgsift help [COMMAND]", opts);
        return 0;
    }
    if (n < 0)
        return -1;
    if (n == 0) {
        command_usage(stdout);
        return 0;
    }
    const struct command *c = command_find(argv[1]);
    if (!c)
        return diag_set(d, DIAG_USAGE, "no such command '%s' (see 'pgsift --help')", argv[1]);
    /* Every command prints its own usage for --help. */
    char *sub[] = { argv[1], (char *)"--help", NULL };
    return c->run(2, sub, cli, d);
}

int cmd_config_check_rest(const char *path, const char *said, struct diag *d)
{
    struct config whole;
    int n = 0;

    config_init(&whole);
    if (config_load(&whole, path, d) < 0) {
        config_release(&whole);
        return -1;
    }
    for (const char *p = config_error_text(&whole); *p;) {
        size_t len = strcspn(p, "\n");
        /* the same place and problem (the lists of accepted keys may differ) */
        const char *x = strstr(p, " (expected");
        size_t key = x && (size_t)(x - p) < len ? (size_t)(x - p) : len;
        bool seen = false;
        for (const char *q = said ? said : ""; !seen && *q;) {
            seen = !strncmp(q, p, key);
            q += strcspn(q, "\n");
            q += *q == '\n';
        }
        if (!seen) {
            fprintf(stderr, "pgsift: %.*s\n", (int)len, p);
            n++;
        }
        p += len + (p[len] == '\n');
    }
    config_release(&whole);
    return n;
}
