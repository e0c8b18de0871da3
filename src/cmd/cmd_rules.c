/* SPDX-License-Identifier: MIT */
/*
 * cmd_rules - `pgsift rules check|explain|test|eval`.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/log.h"
#include "core/opts.h"
#include "rules/rules.h"

#define RULES_SYNOPSIS                             \
    "pgsift rules check [--config FILE] FILE...\n" \
    "       pgsift rules explain [--markdown] [TOPIC]"

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
                          char **files, int nfiles, struct diag *d)
{
    if (config_path && alert_config_load(cfg, config_path, d) < 0)
        return -1;
    for (int i = 0; i < nfiles; i++)
        if (rules_load_file(rs, files[i], d) < 0)
            return -1;
    if (config_path && cfg->nerrors == 0)
        alert_config_check_rules(cfg, rs);
    print_lines(&cfg->errors);
    print_lines(&rs->errors);
    print_lines(&rs->warnings);
    return (int)(rs->nerrors + cfg->nerrors);
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
        opts_usage(stdout, "pgsift rules check [--config FILE] FILE...", opts);
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
    int nerr = cmd_rules_load(&rs, &cfg, config, argv + 1, n, d);
    int rc = 0;
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

int cmd_rules(int argc, char **argv, const struct cli *cli, struct diag *d)
{
    (void)cli;
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
    return diag_set(d, DIAG_USAGE,
                    "unknown 'rules' subcommand '%s' (expected one of: check, explain)", argv[1]);
}
