/* SPDX-License-Identifier: MIT */
/*
 * cmd_rules - `pgsift rules check|explain|test|eval`.
 */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/opts.h"
#include "rules/rules.h"

#define RULES_SYNOPSIS                                                                            \
    "pgsift rules check [--config FILE] FILE|DIR...\n"                                            \
    "       pgsift rules explain [--markdown] [TOPIC]\n"                                          \
    "       pgsift rules test [--events FILE] [--since T] [--until T] [--format F] FILE|DIR...\n" \
    "       pgsift rules eval [--config FILE] [--events FILE] [--since T] [--until T]\n"          \
    "                         [--replay] [--notify-old] [--live] [FILE|DIR...]"

/* Print each collected message ("file:line:col: ...") as "pgsift: ..." on stderr. */
static void print_lines(const struct sbuf *sb)
{
    const char *p = sb->buf;

    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        fprintf(stderr, "pgsift: %.*s\n", (int)len, p);
        p += len + (nl ? 1 : 0);
    }
}

/* Load rule files (and the config, if given) and report every problem. Returns the
 * number of errors; -1 on an environment failure. */
static int cmd_rules_load(struct rule_set *rs, struct alert_config *cfg, const char *config_path,
                          bool config_loaded, char **files, int nfiles, int *nloaded,
                          struct diag *d)
{
    if (config_path && !config_loaded && alert_config_load(cfg, config_path, d) < 0)
        return -1;
    int loaded = 0;
    for (int i = 0; i < nfiles; i++) {
        int k = rules_load_path(rs, files[i], d); /* (a directory: its *.yaml files) */
        if (k < 0)
            return -1;
        loaded += k;
    }
    if (nloaded)
        *nloaded = loaded;
    if (config_path && cfg->nerrors == 0)
        alert_config_check_rules(cfg, rs);
    print_lines(&cfg->errors);
    int nerr = (int)(rs->nerrors + cfg->nerrors);
    /* The rest of the file (sources, tail, retention, report ...): its problems too. */
    if (config_path) {
        int more = cmd_config_check_rest(config_path, cfg->errors.buf, d);
        if (more < 0)
            return -1;
        nerr += more;
    }
    print_lines(&rs->errors);
    print_lines(&rs->warnings);
    return nerr;
}

static int rules_check(int argc, char **argv, struct diag *d)
{
    const char *config = NULL;
    const struct opt opts[] = {
        OPT_STRING_(0, "config", &config, "FILE",
                    "also check pgsift.yaml and that every `notify:` receiver exists"),
        OPT_END_(),
    };
    int n = opts_parse(opts, argc - 1, argv + 1, d);

    if (n == -2) {
        opts_usage(stdout, "pgsift rules check [--config FILE] FILE|DIR...", opts);
        return 0;
    }
    if (n < 0)
        return -1;
    if (n == 0)
        return diag_set(d, DIAG_USAGE, "'rules check' needs at least one rule file");

    struct rule_set rs;
    struct alert_config cfg;
    rule_set_init(&rs);
    alert_config_init(&cfg);
    int nerr = cmd_rules_load(&rs, &cfg, config, false, argv + 1, n, &n, d);
    int rc = 0;
    if (nerr >= 0) { /* the secret files too, whatever else is wrong */
        struct sbuf se = SBUF_INIT;
        nerr += (int)alert_config_check_secret_files(&cfg, &se);
        print_lines(&se);
        sbuf_release(&se);
    }
    if (nerr < 0) {
        rc = -1;
    } else if (nerr > 0) {
        rc = diag_set(d, DIAG_USAGE, "%d error%s in %d rule file%s%s", nerr, nerr == 1 ? "" : "s",
                      n, n == 1 ? "" : "s", config ? " and the configuration" : "");
    } else {
        unsigned per_kind[RULE_KIND_COUNT] = { 0 };
        for (size_t i = 0; i < rs.n; i++)
            per_kind[rs.rules[i].kind]++;
        printf("ok: %zu rule%s in %d file%s (", rs.n, rs.n == 1 ? "" : "s", n, n == 1 ? "" : "s");
        bool first = true;
        for (unsigned k = 0; k < RULE_KIND_COUNT; k++) {
            if (!per_kind[k])
                continue;
            printf("%s%s %u", first ? "" : ", ", rule_kind_name((enum rule_kind)k), per_kind[k]);
            first = false;
        }
        printf(")%s\n", rs.nwarnings ? ", with warnings" : "");
        if (config)
            printf("ok: %zu receiver%s in '%s'\n", cfg.nreceivers, cfg.nreceivers == 1 ? "" : "s",
                   config);
    }
    alert_config_release(&cfg);
    rule_set_release(&rs);
    return rc;
}

static int rules_explain_cmd(int argc, char **argv, struct diag *d)
{
    bool markdown = false;
    const struct opt opts[] = {
        OPT_BOOL_(0, "markdown", &markdown, "print the whole reference as Markdown"),
        OPT_END_(),
    };
    int n = opts_parse(opts, argc - 1, argv + 1, d);

    if (n == -2) {
        opts_usage(stdout, "pgsift rules explain [--markdown] [TOPIC]", opts);
        return 0;
    }
    if (n < 0)
        return -1;
    if (n > 1)
        return diag_set(d, DIAG_USAGE, "'rules explain' takes at most one topic");
    if (markdown) {
        if (n)
            return diag_set(d, DIAG_USAGE, "--markdown prints everything; give no topic");
        rules_reference_markdown(stdout);
        return 0;
    }
    if (!rules_explain(stdout, n ? argv[1] : NULL)) {
        rules_explain(stderr, NULL);
        return diag_set(d, DIAG_USAGE, "no rule topic '%s' (see the list above)", argv[1]);
    }
    return 0;
}

static const char *const formats[] = { "table", "json", NULL };

/* The metric source: --events FILE (pgsift parse NDJSON), else the store. */
static struct metric_source *open_source(const char *events, const char *db_path, struct diag *d)
{
    if (events) {
        struct metric_source *ms = metric_mem_new();
        if (metric_mem_load_ndjson(ms, events, d) < 0) {
            ms->free(ms);
            return NULL;
        }
        return ms;
    }
    return metric_store_open(db_path, d);
}

static int parse_times(const char *since, const char *until, int64_t now, int64_t *s, int64_t *u,
                       struct diag *d)
{
    *s = *u = 0;
    if (since && !rules_parse_time_arg(since, now, s))
        return diag_set(d, DIAG_USAGE,
                        "invalid --since '%s' (expected RFC 3339, a date or a duration like 24h)",
                        since);
    if (until && !rules_parse_time_arg(until, now, u))
        return diag_set(d, DIAG_USAGE,
                        "invalid --until '%s' (expected RFC 3339, a date or a duration like 1h)",
                        until);
    if (*s && *u && *u <= *s)
        return diag_set(d, DIAG_USAGE, "--until must be after --since");
    return 0;
}

static int rules_test(int argc, char **argv, const struct cli *cli, struct diag *d)
{
    const char *events = NULL, *since = NULL, *until = NULL, *format = "table";
    const struct opt opts[] = {
        OPT_STRING_(0, "events", &events, "FILE",
                    "replay over these events (pgsift parse NDJSON, '-' for stdin) instead of "
                    "the store"),
        OPT_STRING_(0, "since", &since, "T", "first evaluation (default: the oldest data)"),
        OPT_STRING_(0, "until", &until, "T", "last evaluation (default: the newest data)"),
        OPT_CHOICE_(0, "format", &format, "F", "table or json", formats),
        OPT_END_(),
    };
    int n = opts_parse(opts, argc - 1, argv + 1, d);

    if (n == -2) {
        opts_usage(stdout,
                   "pgsift rules test [--events FILE] [--since T] [--until T] [--format F] "
                   "FILE|DIR...",
                   opts);
        return 0;
    }
    if (n < 0)
        return -1;
    if (n == 0)
        return diag_set(d, DIAG_USAGE, "'rules test' needs at least one rule file");
    int64_t now = clock_now_us(), s, u;
    if (parse_times(since, until, now, &s, &u, d) < 0)
        return -1;

    struct rule_set rs;
    struct alert_config cfg;
    struct metric_source *ms = NULL;
    struct alertdb *db = NULL;
    int rc = -1;
    rule_set_init(&rs);
    alert_config_init(&cfg);
    int nerr = cmd_rules_load(&rs, &cfg, NULL, false, argv + 1, n, NULL, d);
    if (nerr != 0) {
        if (nerr > 0)
            diag_set(d, DIAG_USAGE, "%d error%s in the rule files", nerr, nerr == 1 ? "" : "s");
        goto out;
    }
    ms = open_source(events, cli->db_path, d);
    if (!ms || alertdb_open(&db, ":memory:", true, d) < 0)
        goto out;
    int64_t oldest, newest;
    if (ms->bounds(ms, &oldest, &newest, d) < 0)
        goto out;
    if (!u && newest)
        u = (newest / (60 * USEC_PER_SEC) + 1) * 60 * USEC_PER_SEC; /* data is complete */
    struct engine_opts eo = {
        .rules = &rs,
        .config = &cfg,
        .source = ms,
        .db = db,
        .no_notify = true,
        .warn_settings = true,
        .start_us = s ? s : oldest,
        .until_us = u,
        .now_us = now,
    };
    struct engine_stats st;
    if (engine_run(&eo, &st, d) < 0)
        goto out;
    rc = timeline_print(db, NULL, strcmp(format, "json") ? APRINT_TABLE : APRINT_JSON, stdout, d);
out:
    alertdb_close(db);
    if (ms)
        ms->free(ms);
    alert_config_release(&cfg);
    rule_set_release(&rs);
    return rc;
}

static int rules_eval(int argc, char **argv, const struct cli *cli, struct diag *d)
{
    const char *config = NULL, *events = NULL, *since = NULL, *until = NULL;
    bool replay = false, live = false, notify_old = false;
    const struct opt opts[] = {
        OPT_STRING_(0, "config", &config, "FILE",
                    "pgsift.yaml: receivers, route, and the rule files when none are given"),
        OPT_STRING_(0, "events", &events, "FILE", "read metrics from NDJSON events"),
        OPT_STRING_(0, "since", &since, "T",
                    "first boundary for rules never evaluated (default: up to a day back)"),
        OPT_STRING_(0, "until", &until, "T", "evaluate up to T instead of the watermark"),
        OPT_BOOL_(0, "replay", &replay, "record notifications without sending them"),
        OPT_BOOL_(0, "live", &live, "let the wall clock advance the watermark (tailing)"),
        OPT_BOOL_(0, "notify-old", &notify_old,
                  "also send transitions older than alerting.max_notify_age"),
        OPT_END_(),
    };
    int n = opts_parse(opts, argc - 1, argv + 1, d);

    if (n == -2) {
        opts_usage(stdout,
                   "pgsift rules eval [--config FILE] [--events FILE] [--since T] [--until T] "
                   "[--replay] [--notify-old] [--live] [FILE|DIR...]",
                   opts);
        return 0;
    }
    if (n < 0)
        return -1;
    int64_t now = clock_now_us(), s, u;
    if (parse_times(since, until, now, &s, &u, d) < 0)
        return -1;

    struct rule_set rs;
    struct alert_config cfg;
    struct metric_source *ms = NULL;
    struct alertdb *db = NULL;
    glob_t g;
    int rc = -1;
    memset(&g, 0, sizeof(g));
    rule_set_init(&rs);
    alert_config_init(&cfg);
    char **files = argv + 1;
    int nfiles = n;
    if (config && alert_config_load(&cfg, config, d) < 0)
        goto out;
    if (!nfiles && cfg.nrule_files) {
        for (size_t i = 0; i < cfg.nrule_files; i++)
            glob(cfg.rule_files[i], i ? GLOB_APPEND : 0, NULL, &g);
        files = g.gl_pathv;
        nfiles = (int)g.gl_pathc;
    }
    if (!nfiles) {
        diag_set(d, DIAG_USAGE, "no rule files: give rule files or 'rules:' in --config");
        goto out;
    }
    {
        int nerr = cmd_rules_load(&rs, &cfg, config, true, files, nfiles, NULL, d);
        if (nerr != 0) {
            if (nerr > 0)
                diag_set(d, DIAG_USAGE, "%d error%s in the rule files or configuration", nerr,
                         nerr == 1 ? "" : "s");
            goto out;
        }
    }
    const char *db_path = cli_store_path(cli, cfg.store);
    ms = open_source(events, db_path, d);
    if (!ms || alertdb_open(&db, db_path, true, d) < 0)
        goto out;
    struct engine_opts eo = {
        .rules = &rs,
        .config = config ? &cfg : NULL,
        .source = ms,
        .db = db,
        .replay = replay,
        .notify_old = notify_old,
        .start_us = s,
        .until_us = u,
        .now_us = now,
        .live = live,
        .warn_settings = true,
    };
    struct engine_stats st;
    if (engine_run(&eo, &st, d) < 0)
        goto out;
    char b[CLOCK_RFC3339_MAX];
    if (st.last_boundary_us)
        printf("evaluated %llu rule instants up to %s: %llu transitions, %llu notifications "
               "queued\n",
               (unsigned long long)st.evaluations, clock_format_rfc3339(st.last_boundary_us, 0, b),
               (unsigned long long)st.transitions, (unsigned long long)st.notifications);
    else if (st.transitions) /* (only the alerts of rules gone or disabled) */
        printf("evaluated 0 rule instants: %llu transitions (alerts of rules gone or "
               "disabled), %llu notifications queued\n",
               (unsigned long long)st.transitions, (unsigned long long)st.notifications);
    else if (!st.watermark_us)
        printf("evaluated 0 rule instants: no data to evaluate\n");
    else if (st.evaluated_to_us > st.watermark_us) /* (an earlier --until went further) */
        printf("evaluated 0 rule instants: none new, every rule was evaluated up to %s "
               "before\n",
               clock_format_rfc3339(st.evaluated_to_us, 0, b));
    else /* (every boundary up to it was evaluated before, or the data is that recent) */
        printf("evaluated 0 rule instants: none new up to %s (the newest data less the "
               "allowed lateness; --until T goes further)\n",
               clock_format_rfc3339(st.watermark_us, 0, b));
    rc = 0;
out:
    globfree(&g);
    alertdb_close(db);
    if (ms)
        ms->free(ms);
    alert_config_release(&cfg);
    rule_set_release(&rs);
    return rc;
}

int cmd_rules(int argc, char **argv, const struct cli *cli, struct diag *d)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        if (argc < 2)
            return diag_set(d, DIAG_USAGE, "usage: %s", RULES_SYNOPSIS);
        printf("usage: %s\n\nRun 'pgsift rules SUBCOMMAND --help' for the options of each.\n",
               RULES_SYNOPSIS);
        return 0;
    }
    if (!strcmp(argv[1], "check"))
        return rules_check(argc - 1, argv + 1, d);
    if (!strcmp(argv[1], "explain"))
        return rules_explain_cmd(argc - 1, argv + 1, d);
    if (!strcmp(argv[1], "test"))
        return rules_test(argc - 1, argv + 1, cli, d);
    if (!strcmp(argv[1], "eval"))
        return rules_eval(argc - 1, argv + 1, cli, d);
    return diag_set(d, DIAG_USAGE,
                    "unknown 'rules' subcommand '%s' (expected one of: check, explain, test, "
                    "eval)",
                    argv[1]);
}
