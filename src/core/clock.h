/* SPDX-License-Identifier: MIT */
/*
 * clock - the one source of "now", and UTC calendar arithmetic.
 *
 * clock_now_us() honours SIFT_TEST_NOW (Unix seconds, or RFC 3339 like
 * 2026-11-24T10:00:00Z), like Git's GIT_TEST_DATE_NOW, so that rule windows, repeat
 * intervals and report day boundaries are tested without sleeping. Monotonic time is
 * for measuring elapsed time only and is never faked.
 *
 * All times are int64 microseconds since the Unix epoch, UTC. No function here reads
 * the process time zone.
 */
#ifndef SIFT_CORE_CLOCK_H
#define SIFT_CORE_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/span.h"

#define USEC_PER_SEC INT64_C(1000000)
#define USEC_PER_DAY (INT64_C(86400) * USEC_PER_SEC)

/* Wall-clock now in UTC microseconds (SIFT_TEST_NOW when set and valid). */
int64_t clock_now_us(void);

/* Monotonic nanoseconds, for elapsed times. */
int64_t clock_mono_ns(void);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant's
 * algorithms; valid for years 0..9999). */
int64_t clock_days_from_civil(int y, unsigned m, unsigned d);
void clock_civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d);

/* Format `us` as RFC 3339 UTC with `frac` fractional digits (0, 3 or 6), e.g.
 * 2026-11-24T10:00:00.123Z. buf must hold CLOCK_RFC3339_MAX bytes. Returns buf. */
#define CLOCK_RFC3339_MAX 40
char *clock_format_rfc3339(int64_t us, int frac, char *buf);

/* Parse RFC 3339 ("2026-11-24T10:00:00Z", "...T10:00:00.5+02:00", also a space for T)
 * or a bare date ("2026-11-24", midnight UTC). Returns false if malformed. */
bool clock_parse_rfc3339(struct span s, int64_t *us);

/* Is y-mo-d a day of the Gregorian calendar (2026-02-29 is not)? */
bool clock_valid_date(int y, int mo, int d);

#endif
