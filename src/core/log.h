/* SPDX-License-Identifier: MIT */
/*
 * log - diagnostics on stderr, Git style: "pgsift: <what>", lower case, no trailing
 * period, the subject quoted. Machine output never goes through here (stdout only).
 *
 * The level is process-wide and set once by main.c from -q / -v. The tail daemon's
 * messages go to stderr too, for journald.
 */
#ifndef SIFT_CORE_LOG_H
#define SIFT_CORE_LOG_H

#include "core/compat.h"

enum log_level {
    LOG_LEVEL_QUIET = 0, /* errors only */
    LOG_LEVEL_NORMAL,    /* errors, warnings, notes */
    LOG_LEVEL_VERBOSE,   /* and progress details */
    LOG_LEVEL_DEBUG,
};

void log_set_level(enum log_level level);
enum log_level log_get_level(void);

void log_error(const char *fmt, ...) SIFT_PRINTF(1, 2);   /* "pgsift: ..." always */
void log_warn(const char *fmt, ...) SIFT_PRINTF(1, 2);    /* "pgsift: warning: ..." */
void log_note(const char *fmt, ...) SIFT_PRINTF(1, 2);    /* "pgsift: ..." unless -q */
void log_verbose(const char *fmt, ...) SIFT_PRINTF(1, 2); /* only with -v */

#endif
