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
 * Neither is part of this build yet: the table is empty and the daemon warns when the
 * configuration has their sections (see cmd_tail.c).
 */
#include <stddef.h>

#include "cmd/daemon.h"

const struct daemon_hook daemon_hooks[] = {
    { .name = NULL },
};
