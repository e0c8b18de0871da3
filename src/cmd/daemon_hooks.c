/* SPDX-License-Identifier: MIT */
/*
 * daemon_hooks.c - the work that runs inside `pgsift tail` besides reading logs.
 *
 * One line per module, in the order they run after each commit:
 *   rules   evaluate alert rules over what was just committed, deliver notifications
 *           (the rules engine: src/rules/, configured from rules/receivers/route/
 *           inhibit/alerting)
 *   report  write the daily report at `report.at` (src/report/, configured from
 *           report:)
 * A module not in this build has no line, and the daemon warns when the configuration
 * has its sections (see daemon.c).
 */
#include <stddef.h>

#include "cmd/daemon.h"
#include "cmd/report_hook.h"
#include "cmd/rules_hook.h"
#include "rules/rules.h"

const struct daemon_hook daemon_hooks[] = {
    { .name = "rules",
      .ctx = &rules_hook_ctx,
      .start = rules_hook_start,
      .configure = rules_hook_configure,
      .check = rules_hook_check,
      .after_commit = rules_hook_after_commit,
      .next_tick_us = rules_hook_next_tick,
      .tick = rules_hook_tick,
      .stop = rules_hook_stop,
      .release = rules_hook_release,
      .interrupt = deliver_interrupt },
    { .name = "report",
      .ctx = &report_hook_ctx,
      .start = report_hook_start,
      .configure = report_hook_configure,
      .check = report_hook_check,
      .next_tick_us = report_hook_next_tick,
      .tick = report_hook_tick,
      .release = report_hook_release },
    { .name = NULL },
};
