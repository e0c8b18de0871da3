/* SPDX-License-Identifier: MIT */
/*
 * report_hook - the daily report inside `pgsift tail` (a struct daemon_hook): the
 * `report:` section of the configuration (dir, at, keep_days, formats, top, notify) and
 * `timezone` make a report job (report/report.h); the daemon wakes it at `at` local time
 * (wall clock, SIFT_TEST_NOW honoured) and it writes the previous local day's report into
 * `dir`, with the alerts of that day, prunes days beyond keep_days, and logs the paths.
 *
 * A failed run (directory not writable, store busy) is logged and tried again five
 * minutes later, not in a tight loop. After a run, the Markdown summary goes to each
 * `notify` receiver (rules/rules.h: deliver_message(), the receivers of the same file);
 * a failed send is retried after 1, 5, 15 and 60 minutes, then given up (logged). The
 * retries live in memory: a restart meanwhile does not send that summary again.
 */
#ifndef SIFT_CMD_REPORT_HOOK_H
#define SIFT_CMD_REPORT_HOOK_H

#include <stdint.h>

#include "cmd/daemon.h"

extern struct report_hook report_hook_ctx;

int report_hook_start(void *ctx, const char *store_path, struct diag *d);
int report_hook_configure(void *ctx, const struct config *c, struct store *s, struct diag *d);
int report_hook_check(const struct config *c, struct diag *d);
int64_t report_hook_next_tick(void *ctx, int64_t now_us);
int report_hook_tick(void *ctx, struct store *s, int64_t now_us, struct diag *d);
void report_hook_release(void *ctx);

#endif
