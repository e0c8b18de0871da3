/* SPDX-License-Identifier: MIT */
/*
 * tz - time zones for day boundaries and local display: "UTC", fixed offsets
 * ("+02:00", "-0330", "+05") and IANA names ("Europe/Paris") read from the system
 * zoneinfo (TZif files, RFC 8536, including the POSIX TZ rule in their footer for
 * times after the last transition).
 *
 * The process time zone (TZ, tzset, localtime) is never read or changed: a report for
 * Europe/Paris made by a daemon running in UTC is the same as one made in Paris, and
 * nothing here is thread-unsafe.
 *
 * Owns: its transition tables (heap). Calling sequence:
 *   tz_load() -> tz_offset_at() / tz_local_midnight() / tz_format_local() -> tz_release()
 */
#ifndef SIFT_CORE_TZ_H
#define SIFT_CORE_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compat.h"
#include "core/diag.h"

/* A POSIX TZ rule ("CET-1CEST,M3.5.0,M10.5.0/3"): standard and daylight offsets and
 * when daylight time starts and ends each year. */
struct tz_rule_date {
    char kind;    /* 'J' Julian day 1..365 (no Feb 29), 'D' zero-based day 0..365,
                     'M' month.week.weekday */
    int day;      /* J/D: the day; M: weekday 0 (Sunday)..6 */
    int week;     /* M: 1..5 (5 = last) */
    int month;    /* M: 1..12 */
    int32_t time; /* seconds after local midnight (may be negative or > 24 h) */
};

struct tz_rule {
    int32_t std_off; /* seconds east of UTC */
    int32_t dst_off;
    bool has_dst;
    struct tz_rule_date start, end; /* start in standard time, end in daylight time */
};

struct tz {
    char name[64];      /* as given: "UTC", "+02:00", "Europe/Paris" */
    int64_t *trans;     /* transition instants, seconds since the epoch, ascending */
    int32_t *trans_off; /* offset in force from trans[i] on */
    size_t ntrans;
    int32_t first_off; /* before the first transition (or always, for fixed zones) */
    bool has_rule;     /* after the last transition the rule applies */
    struct tz_rule rule;
};

#define TZ_NAME_MAX 63

/* Load a zone by name: "UTC"/"Z"/"GMT", a fixed offset "+HH", "+HHMM", "+HH:MM"
 * ("-" likewise), or an IANA name looked up under $TZDIR (default
 * /usr/share/zoneinfo). Returns 0, or -1 with a DIAG_USAGE diag naming what is
 * accepted (unknown zone, malformed file). */
int tz_load(struct tz *tz, const char *name, struct diag *d);

/* Same from TZif bytes in memory (tests, fuzzing). */
int tz_load_tzif(struct tz *tz, const char *name, const void *data, size_t len, struct diag *d);

void tz_release(struct tz *tz);

/* Offset east of UTC, in seconds, in force at @utc_us. */
int32_t tz_offset_at(const struct tz *tz, int64_t utc_us);

/* The first instant (UTC µs) of local calendar day y-m-d: local midnight, or when
 * midnight does not exist that day (a DST jump at 00:00), the instant the day starts. */
int64_t tz_local_midnight(const struct tz *tz, int y, unsigned m, unsigned d);

/* Local calendar date of @utc_us. */
void tz_local_date(const struct tz *tz, int64_t utc_us, int *y, unsigned *m, unsigned *d);

/* "2026-11-24T10:00:00+01:00" (RFC 3339 with the local offset). buf must hold
 * TZ_LOCAL_MAX bytes. Returns buf. */
#define TZ_LOCAL_MAX 40
char *tz_format_local(const struct tz *tz, int64_t utc_us, char *buf);

/* "+01:00", "-03:30", "+00:00". buf must hold 8 bytes. Returns buf. */
char *tz_format_offset(int32_t off, char *buf);

/* Parse a POSIX TZ rule string (the TZif footer); false when malformed. */
bool tz_rule_parse(const char *s, size_t len, struct tz_rule *r);

#endif
