/* SPDX-License-Identifier: MIT */
/*
 * tools - subcommands of sift-test-tool defined outside sift-test-tool.c, one file per
 * area (helper/<area>_tools.c). Each has the signature of the command table: argv[0] is
 * the subcommand name; returns the exit code.
 */
#ifndef SIFT_TESTS_HELPER_TOOLS_H
#define SIFT_TESTS_HELPER_TOOLS_H

/* tail_tools.c: the live-tail tests and benchmark */
int tool_append_lines(int argc, char **argv);
int tool_tail_latency(int argc, char **argv);
int tool_notify_listen(int argc, char **argv);
int tool_config_reference(int argc, char **argv);

#endif
