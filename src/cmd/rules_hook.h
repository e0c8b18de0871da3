/* SPDX-License-Identifier: MIT */
/*
 * rules_hook - the rules engine inside `pgsift tail` (a struct daemon_hook): rule files
 * and receivers from the daemon's configuration, evaluation after every commit, delivery
 * on a timer.
 *
 * Event time moves the watermark while records are being committed; when nothing has
 * been committed for alerting.allowed_lateness, the wall clock moves it too, so absence
 * rules fire when every input is silent, and a backlog being read never makes the
 * engine evaluate minutes whose lines have not been read yet.
 */
#ifndef SIFT_CMD_RULES_HOOK_H
#define SIFT_CMD_RULES_HOOK_H

#include <stdint.h>

#include "cmd/daemon.h"

extern struct rules_hook rules_hook_ctx;

int rules_hook_start(void *ctx, const char *store_path, struct diag *d);
int rules_hook_configure(void *ctx, const struct config *c, struct store *s, struct diag *d);
int rules_hook_check(const struct config *c, struct diag *d);
int rules_hook_after_commit(void *ctx, struct store *s, int64_t now_us, struct diag *d);
int64_t rules_hook_next_tick(void *ctx, int64_t now_us);
int rules_hook_tick(void *ctx, struct store *s, int64_t now_us, struct diag *d);
void rules_hook_stop(void *ctx, struct store *s);
void rules_hook_release(void *ctx);

#endif
