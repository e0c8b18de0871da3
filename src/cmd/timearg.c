/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "cmd/timearg.h"
#include "core/clock.h"
#include "core/span.h"

static int64_t unit_us(char u)
{
    switch (u) {
    case 's': return USEC_PER_SEC;
    case 'm': return 60 * USEC_PER_SEC;
    case 'h': return 3600 * USEC_PER_SEC;
    case 'd': return USEC_PER_DAY;
    case 'w': return 7 * USEC_PER_DAY;
    default: return 0;
    }
}

int timearg_parse(const char *opt, const char *arg, int64_t now_us, int64_t *out, struct diag *d)
{
    struct span s = span_cstr(arg);
    int64_t n, unit;

    if (span_eq_lit(s, "now")) {
        *out = now_us;
        return 0;
    }
    if (s.len >= 2 && (unit = unit_us(s.p[s.len - 1])) != 0 &&
        span_to_i64(span_make(s.p, s.len - 1), &n) && n >= 0 && s.p[0] >= '0' && s.p[0] <= '9' &&
        n <= INT64_MAX / unit) {
        /* Output writes the bound as RFC 3339, whose years are 0001-9999: a span that
         * reaches before the year 1 ("-712-12-29T...") is refused, not printed. */
        int64_t year1 = clock_days_from_civil(1, 1, 1) * USEC_PER_DAY;
        if (now_us - year1 < n * unit)
            return diag_set(d, DIAG_USAGE,
                            "invalid time '%s' for option '%s' (reaches back before the year "
                            "1; leave the option out for an open window)",
                            arg, opt);
        *out = now_us - n * unit;
        return 0;
    }
    if (clock_parse_rfc3339(s, out))
        return 0;
    return diag_set(d, DIAG_USAGE,
                    "invalid time '%s' for option '%s' (expected RFC 3339 like "
                    "2026-11-24T10:00:00Z, a date like 2026-11-24, 'now', or a span back from "
                    "now like 15m, 24h, 7d)",
                    arg, opt);
}

const char *timearg_format(int64_t us, char *buf)
{
    return clock_format_rfc3339(us, us % 1000 ? 6 : 3, buf);
}

int timearg_window(const char *since, const char *until, int64_t now_us, int64_t *since_us,
                   int64_t *until_us, struct diag *d)
{
    if (since && timearg_parse("--since", since, now_us, since_us, d) < 0)
        return -1;
    if (until && timearg_parse("--until", until, now_us, until_us, d) < 0)
        return -1;
    if (*since_us >= *until_us)
        return diag_set(d, DIAG_USAGE, "empty window: --since is not before --until");
    return 0;
}
