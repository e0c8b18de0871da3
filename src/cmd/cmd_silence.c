/* SPDX-License-Identifier: MIT */
/*
 * cmd_silence - `pgsift silence add|list|expire`: mute notifications (never state) of
 * alerts whose labels match, for a while.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/clock.h"
#include "core/opts.h"
#include "core/ydoc.h"
#include "rules/rules.h"

#define SILENCE_SYNOPSIS                                                                    \
    "pgsift silence add (--for D | --until T) [--starts T] --comment TEXT [--author NAME] " \
    "MATCHER...\n"                                                                          \
    "       pgsift silence list [--all] [--format F]\n"                                     \
    "       pgsift silence expire ID"

static const char *const formats[] = { "table", "json", NULL };

static int silence_add_cmd(int argc, char **argv, struct alertdb *db, struct diag *d)
{
    const char *dur = NULL, *until = NULL, *starts = NULL, *comment = NULL, *author = NULL;
    const struct opt opts[] = {
        OPT_STRING_(0, "for", &dur, "D", "how long, e.g. 2h"),
        OPT_STRING_(0, "until", &until, "T", "end time (RFC 3339)"),
        OPT_STRING_(0, "starts", &starts, "T", "start time (default: now)"),
        OPT_STRING_(0, "comment", &comment, "TEXT", "why (required)"),
        OPT_STRING_(0, "author", &author, "NAME", "who (default: $USER)"),
        OPT_END_(),
    };
    int n = opts_parse(opts, argc - 1, argv + 1, d);
    int64_t now = clock_now_us(), s = now, e = 0, us;

    if (n == -2) {
        opts_usage(stdout, SILENCE_SYNOPSIS, opts);
        return 0;
    }
    if (n < 0)
        return -1;
    if (!comment || !*comment)
        return diag_set(d, DIAG_USAGE, "'silence add' needs --comment TEXT (say why)");
    if (!!dur == !!until)
        return diag_set(d, DIAG_USAGE, "'silence add' needs exactly one of --for or --until");
    if (starts && !clock_parse_rfc3339(span_cstr(starts), &s))
        return diag_set(d, DIAG_USAGE,
                        "invalid --starts '%s' (expected a time, RFC 3339 like "
                        "2026-11-24T10:00:00Z, or a date)",
                        starts);
    if (dur) {
        if (!ydoc_parse_duration(span_cstr(dur), &us) || us <= 0)
            return diag_set(d, DIAG_USAGE, "invalid --for '%s' (expected a duration like 2h)", dur);
        /* an end RFC 3339 can write (QA 21a: --for 99999999d printed year 275817) */
        const int64_t last_us = INT64_C(253402300799) * 1000000; /* 9999-12-31T23:59:59Z */
        if (s > last_us || us > last_us - s)
            return diag_set(d, DIAG_USAGE,
                            "invalid --for '%s': the silence would end after 9999-12-31", dur);
        e = s + us;
    } else if (!clock_parse_rfc3339(span_cstr(until), &e)) {
        return diag_set(d, DIAG_USAGE,
                        "invalid --until '%s' (expected a time, RFC 3339 like "
                        "2026-11-24T10:00:00Z, or a date; for a length use --for)",
                        until);
    }
    if (!author) { /* $USER, else the account's name (cron and systemd set no $USER) */
        const char *u = getenv("USER");
        const struct passwd *pw = u && *u ? NULL : getpwuid(geteuid());
        author = u && *u ? u : pw && pw->pw_name && *pw->pw_name ? pw->pw_name : NULL;
    }
    int64_t id;
    if (silence_add(db, (const char *const *)argv + 1, (size_t)n, s, e, comment, author, now, &id,
                    d) < 0)
        return -1;
    char b[CLOCK_RFC3339_MAX];
    printf("silence %lld until %s\n", (long long)id, clock_format_rfc3339(e, 0, b));
    return 0;
}

int cmd_silence(int argc, char **argv, const struct cli *cli, struct diag *d)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        if (argc < 2)
            return diag_set(d, DIAG_USAGE, "usage: %s", SILENCE_SYNOPSIS);
        printf("usage: %s\n\nMATCHER: label=value, label!=value, label=~regex, label!~regex "
               "(labels: rule, severity, the group_by dimensions, rule labels).\n"
               "Options of 'add': --for, --until, --starts, --comment, --author; of 'list': "
               "--all, --format.\n",
               SILENCE_SYNOPSIS);
        return 0;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "add") && strcmp(sub, "list") && strcmp(sub, "expire"))
        return diag_set(d, DIAG_USAGE,
                        "unknown 'silence' subcommand '%s' (expected one of: add, list, expire)",
                        sub);
    bool help = argc >= 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"));
    struct alertdb *db = NULL;
    if (!help && alertdb_open(&db, cli->db_path, !strcmp(sub, "add"), d) < 0)
        return -1;
    int rc = -1;
    if (!strcmp(sub, "add")) {
        rc = silence_add_cmd(argc - 1, argv + 1, db, d);
    } else if (!strcmp(sub, "list")) {
        bool all = false;
        const char *format = "table";
        const struct opt opts[] = {
            OPT_BOOL_(0, "all", &all, "also expired silences"),
            OPT_CHOICE_(0, "format", &format, "F", "table or json", formats),
            OPT_END_(),
        };
        int n = opts_parse(opts, argc - 2, argv + 2, d);
        if (n == -2) {
            opts_usage(stdout, "pgsift silence list [--all] [--format F]", opts);
            rc = 0;
        } else if (n == 0) {
            rc = silence_list(db, all, clock_now_us(),
                              strcmp(format, "json") ? APRINT_TABLE : APRINT_JSON, stdout, d);
        } else if (n > 0) {
            rc = diag_set(d, DIAG_USAGE, "'silence list' takes no operands");
        }
    } else {
        const struct opt opts[] = { OPT_END_() };
        int n = opts_parse(opts, argc - 2, argv + 2, d);
        int64_t id;
        if (n == -2) {
            opts_usage(stdout, "pgsift silence expire ID", opts);
            rc = 0;
        } else if (n != 1 || !span_to_i64(span_cstr(argv[2]), &id)) {
            if (n >= 0)
                rc = diag_set(d, DIAG_USAGE, "'silence expire' needs one silence ID");
        } else if (silence_expire(db, id, clock_now_us(), d) == 0) {
            printf("silence %lld expired\n", (long long)id);
            rc = 0;
        }
    }
    alertdb_close(db);
    return rc;
}
