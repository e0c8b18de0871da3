/* SPDX-License-Identifier: MIT */
/*
 * pgsift tail - follow live logs across rotation into the store (cmd/daemon.h), as a
 * service next to PostgreSQL (contrib/systemd/pgsift.service, docs/tail.md).
 */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/daemon.h"
#include "core/opts.h"

#define TAIL_SYNOPSIS                                                                    \
    "pgsift tail [--config FILE] [--check] [--once] [--format F] [--prefix P] [--tz Z] " \
    "[--include GLOB] [--watcher auto|inotify|poll] [--commit-log FILE] [PATH|GLOB...]"

int cmd_tail(int argc, char **argv, const struct cli *cli, struct diag *d)
{
    const char *config = NULL, *format = NULL, *prefix = NULL, *tz = NULL, *include = NULL;
    const char *watcher = NULL, *commit_log = NULL;
    bool check = false, once = false;
    static const char *const watchers[] = { "auto", "inotify", "poll", NULL };
    const struct opt opts[] = {
        OPT_STRING_(0, "config", &config, "FILE", "pgsift.yaml: sources, store, rules, reports"),
        OPT_BOOL_(0, "check", &check, "check the configuration, print the sources and exit"),
        OPT_BOOL_(0, "once", &once, "read what the files hold now, commit and exit"),
        OPT_STRING_(0, "format", &format, "F", "log format of PATHs (default auto)"),
        OPT_STRING_(0, "prefix", &prefix, "P", "the server's log_line_prefix (stderr, syslog)"),
        OPT_STRING_(0, "tz", &tz, "Z", "time zone for zone-less or ambiguous timestamps"),
        OPT_STRING_(0, "include", &include, "GLOB", "file names to read in a directory PATH"),
        OPT_CHOICE_(0, "watcher", &watcher, "W", "inotify, or stat() polling (default auto)",
                    watchers),
        OPT_STRING_(0, "commit-log", &commit_log, "FILE",
                    "append a line per commit: time, offsets, records, file (benchmarks)"),
        OPT_END_(),
    };
    int n = opts_parse(opts, argc - 1, argv + 1, d);
    if (n == -2) {
        opts_usage(stdout, TAIL_SYNOPSIS, opts);
        return 0;
    }
    if (n < 0)
        return -1;
    if (n == 0 && !config)
        return diag_set(d, DIAG_USAGE, "'tail' needs --config FILE or paths to follow");
    for (int i = 1; i <= n; i++)
        if (!strcmp(argv[i], "-"))
            return diag_set(d, DIAG_USAGE,
                            "'tail' follows files, not standard input (use 'pgsift ingest -')");
    if (!n && (format || prefix || tz || include))
        return diag_set(d, DIAG_USAGE,
                        "--format, --prefix, --tz and --include apply to command-line paths");

    struct daemon_opts o = {
        .config_path = config,
        .paths = (const char *const *)(argv + 1),
        .npaths = (size_t)n,
        .format = format,
        .prefix = prefix,
        .tz = tz,
        .include = include,
        .db_path = cli->db_path,
        .db_explicit = !cli->db_default,
        .watcher = watcher,
        .commit_log = commit_log,
        .once = once,
    };
    if (check) {
        struct config c;
        int rc = daemon_check_config(&o, &c, true, d);
        if (rc == 0) {
            printf("configuration ok: %zu source%s\n", c.nsources, c.nsources == 1 ? "" : "s");
            for (size_t i = 0; i < c.nsources; i++) {
                const struct config_source *s = &c.sources[i];
                printf("  %s: format %s", s->name, s->format);
                if (s->include)
                    printf(", include '%s'", s->include);
                for (size_t k = 0; k < s->paths.n; k++)
                    printf("%s%s", k ? ", " : ", paths ", s->paths.v[k]);
                putchar('\n');
            }
        }
        config_release(&c);
        return rc;
    }
    return daemon_run(&o, d);
}
