/* SPDX-License-Identifier: MIT */
/*
 * cmd - the command table: the one place that lists every pgsift command.
 *
 * The table drives `pgsift --help`, `pgsift help COMMAND`, dispatch in main.c and the
 * docs check (tests/check-docs.sh reads `pgsift --help`). A command is listed only when
 * it works; later features add their line here.
 *
 * Commands sit above the pipeline: they may include any stage header. A command's run()
 * returns 0 on success; on failure it returns -1 and fills @d, and main.c prints
 * "pgsift: <msg>" and exits with diag_exit_code(). Commands write machine output to
 * stdout only and never call exit().
 */
#ifndef SIFT_CMD_CMD_H
#define SIFT_CMD_CMD_H

#include <stdbool.h>
#include <stdio.h>

#include "core/diag.h"
#include "core/log.h"

/* Global options, parsed by main.c before the command name. */
struct cli {
    const char *db_path; /* --db, else $PGSIFT_DB, else ./pgsift.db */
    bool db_default;     /* neither --db nor $PGSIFT_DB: a config's `store:` may win */
    enum log_level level;
};

/* The store a command opens: --db, else $PGSIFT_DB, else the configuration's `store:`
 * (@config_store, NULL: none), else ./pgsift.db. */
static inline const char *cli_store_path(const struct cli *cli, const char *config_store)
{
    return cli->db_default && config_store ? config_store : cli->db_path;
}

/* The problems of the configuration file @path as `tail` and `ingest` read it (sources,
 * tail, retention, report ...), printed, but for those @said already holds (the same
 * place and problem: lines of "file:line:col: message"; the alerting sections' errors of
 * rules check and alerts deliver). Returns how many were printed, or -1 with @d filled
 * when the file cannot be read. */
int cmd_config_check_rest(const char *path, const char *said, struct diag *d);

struct command {
    const char *name;
    int (*run)(int argc, char **argv, const struct cli *cli, struct diag *d);
    const char *synopsis; /* "pgsift parse [--format F] FILE..." */
    const char *summary;  /* one line for --help */
};

/* The table, terminated by an entry with name == NULL. */
extern const struct command commands[];

const struct command *command_find(const char *name);

/* Print the top-level usage with the command list. */
void command_usage(FILE *out);

/* Command implementations (cmd_<name>.c). argv[0] is the command name. */
int cmd_fingerprint(int argc, char **argv, const struct cli *cli, struct diag *d);
int cmd_help(int argc, char **argv, const struct cli *cli, struct diag *d);
int cmd_version(int argc, char **argv, const struct cli *cli, struct diag *d);
int cmd_rules(int argc, char **argv, const struct cli *cli, struct diag *d);
int cmd_alerts(int argc, char **argv, const struct cli *cli, struct diag *d);
int cmd_silence(int argc, char **argv, const struct cli *cli, struct diag *d);
int cmd_parse(int argc, char **argv, const struct cli *cli, struct diag *d);
int cmd_ingest(int argc, char **argv, const struct cli *cli, struct diag *d);
int cmd_top(int argc, char **argv, const struct cli *cli, struct diag *d);
int cmd_events(int argc, char **argv, const struct cli *cli, struct diag *d);
int cmd_tail(int argc, char **argv, const struct cli *cli, struct diag *d);
int cmd_status(int argc, char **argv, const struct cli *cli, struct diag *d);
int cmd_plans(int argc, char **argv, const struct cli *cli, struct diag *d);
int cmd_report(int argc, char **argv, const struct cli *cli, struct diag *d);

#endif
