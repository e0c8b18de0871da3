/* SPDX-License-Identifier: MIT */
/*
 * main - argv to command. The only file that prints final errors and chooses the exit
 * code (INTERFACE.md: 0 success, 1 environment, 2 usage, 3 nothing parsed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/diag.h"
#include "core/log.h"

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "pgsift: %s '%s'\n", what, arg);
    return 2;
}

/* Machine output must have reached stdout: a full disk or a closed stdout is an I/O
 * failure (exit 1), never a silent success. */
static int flush_stdout(void)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        log_error("cannot write to standard output");
        return 1;
    }
    return 0;
}

static void list_commands(FILE *out)
{
    fputs("valid commands:", out);
    for (const struct command *c = commands; c->name; c++)
        fprintf(out, " %s", c->name);
    fputc('\n', out);
}

int main(int argc, char **argv)
{
    struct cli cli = { .db_path = NULL, .level = LOG_LEVEL_NORMAL };
    struct diag d = DIAG_INIT;
    int i = 1;

    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--db")) {
            if (++i >= argc)
                return usage_error("missing value for option", a);
            cli.db_path = argv[i];
        } else if (!strncmp(a, "--db=", 5)) {
            cli.db_path = a + 5;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            cli.level = LOG_LEVEL_QUIET;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            cli.level = cli.level >= LOG_LEVEL_VERBOSE ? LOG_LEVEL_DEBUG : LOG_LEVEL_VERBOSE;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            command_usage(stdout);
            return flush_stdout();
        } else if (!strcmp(a, "--version")) {
            argv[i] = (char *)"version";
            break;
        } else {
            fprintf(stderr,
                    "pgsift: unknown option '%s' (expected one of: --db, -q, -v, --help, "
                    "--version)\n",
                    a);
            return 2;
        }
    }
    if (!cli.db_path) {
        const char *env = getenv("PGSIFT_DB");
        cli.db_path = env && *env ? env : "pgsift.db";
        cli.db_default = !(env && *env);
    }
    log_set_level(cli.level);

    if (i >= argc) {
        command_usage(stderr);
        return 2;
    }
    const struct command *c = command_find(argv[i]);
    if (!c) {
        fprintf(stderr, "pgsift: '%s' is not a pgsift command (see 'pgsift --help')\n", argv[i]);
        list_commands(stderr);
        return 2;
    }
    if (c->run(argc - i, argv + i, &cli, &d) < 0 || diag_failed(&d)) {
        if (!diag_failed(&d))
            diag_set(&d, DIAG_INTERNAL, "command '%s' failed without a reason", c->name);
        log_error("%s", d.msg);
        return diag_exit_code(&d);
    }
    return flush_stdout();
}
