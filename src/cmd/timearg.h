/* SPDX-License-Identifier: MIT */
/*
 * timearg - the time arguments of INTERFACE.md (--since, --until): RFC 3339
 * ("2026-11-24T10:00:00Z"), a date ("2026-11-24", midnight UTC), "now", or a span back
 * from now ("90s", "15m", "24h", "7d", "2w"), now being clock_now_us() so SIFT_TEST_NOW
 * applies.
 */
#ifndef SIFT_CMD_TIMEARG_H
#define SIFT_CMD_TIMEARG_H

#include <stdint.h>

#include "core/compat.h"
#include "core/diag.h"

/* Parse @arg (the value of option @opt) into UTC microseconds. Returns 0, or -1 with a
 * DIAG_USAGE diag that names the option and the accepted forms. */
SIFT_WUR int timearg_parse(const char *opt, const char *arg, int64_t now_us, int64_t *out,
                           struct diag *d);

/* The --since/--until pair: each given bound parsed into *@since_us / *@until_us (left
 * as they are when absent, so callers preset the open window INT64_MIN..INT64_MAX).
 * Returns 0, or -1 with a DIAG_USAGE diag, also when the window is empty. */
SIFT_WUR int timearg_window(const char *since, const char *until, int64_t now_us, int64_t *since_us,
                            int64_t *until_us, struct diag *d);

/* Format a window bound for output: RFC 3339 with milliseconds, or microseconds when
 * the value has them. @buf holds CLOCK_RFC3339_MAX bytes. */
const char *timearg_format(int64_t us, char *buf);

#endif
