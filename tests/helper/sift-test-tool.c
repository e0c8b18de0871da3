/* SPDX-License-Identifier: MIT */
/*
 * sift-test-tool - internals exposed to shell tests (Git's t/helper/test-tool).
 *
 * Each subcommand is one line in cmds[]; shell tests call "$SIFT_TEST_TOOL <cmd> ...".
 */
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/span.h"
#include "stubs.h"

/* now: print clock_now_us() as RFC 3339 (shows that SIFT_TEST_NOW is honoured). */
static int cmd_now(int argc, char **argv)
{
    char buf[CLOCK_RFC3339_MAX];

    (void)argc;
    (void)argv;
    puts(clock_format_rfc3339(clock_now_us(), 0, buf));
    return 0;
}

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} cmds[] = {
    { "now", cmd_now, "print the clock's now (honours SIFT_TEST_NOW)" },
    { "http-stub", stub_http, "loopback HTTP server answering by script (see stubs.h)" },
    { "smtp-stub", stub_smtp, "loopback SMTP server answering by script (see stubs.h)" },
    { "stub-log", stub_log, "print one field of every request a stub logged" },
    { "webhook-verify", stub_webhook_verify, "check Standard Webhooks signatures in a stub log" },
};

int main(int argc, char **argv)
{
    if (argc >= 2) {
        for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
            if (!strcmp(argv[1], cmds[i].name))
                return cmds[i].fn(argc - 1, argv + 1);
    }
    fprintf(stderr, "usage: sift-test-tool COMMAND [ARGS]\n");
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        fprintf(stderr, "    %-12s %s\n", cmds[i].name, cmds[i].help);
    return 2;
}
