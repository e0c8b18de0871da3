/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/clock.h"

int64_t clock_days_from_civil(int y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void clock_civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)((int64_t)yoe + era * 400 + (*m <= 2));
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

char *clock_format_rfc3339(int64_t us, int frac, char *buf)
{
    int64_t days = floor_div(us, USEC_PER_DAY);
    int64_t rem = us - days * USEC_PER_DAY;
    int y;
    unsigned mo, d;
    clock_civil_from_days(days, &y, &mo, &d);
    int64_t secs = rem / USEC_PER_SEC;
    int64_t sub = rem % USEC_PER_SEC;
    int n = snprintf(buf, CLOCK_RFC3339_MAX, "%04d-%02u-%02uT%02d:%02d:%02d", y, mo, d,
                     (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
    if (frac == 3)
        n += snprintf(buf + n, CLOCK_RFC3339_MAX - (size_t)n, ".%03d", (int)(sub / 1000));
    else if (frac == 6)
        n += snprintf(buf + n, CLOCK_RFC3339_MAX - (size_t)n, ".%06d", (int)sub);
    snprintf(buf + n, CLOCK_RFC3339_MAX - (size_t)n, "Z");
    return buf;
}

static bool digits(struct span s, size_t at, size_t n, int *out)
{
    int v = 0;

    if (at + n > s.len)
        return false;
    for (size_t i = at; i < at + n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return false;
        v = v * 10 + (s.p[i] - '0');
    }
    *out = v;
    return true;
}

bool clock_valid_date(int y, int mo, int d)
{
    static const unsigned char mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return mo >= 1 && mo <= 12 && d >= 1 && d <= mdays[mo - 1] && (mo != 2 || d != 29 || leap);
}

bool clock_parse_rfc3339(struct span s, int64_t *us)
{
    int y, mo, d, h = 0, mi = 0, se = 0;
    int64_t frac = 0;
    int64_t off = 0;
    size_t i;

    if (!digits(s, 0, 4, &y) || s.len < 10 || s.p[4] != '-' || !digits(s, 5, 2, &mo) ||
        s.p[7] != '-' || !digits(s, 8, 2, &d))
        return false;
    if (!clock_valid_date(y, mo, d))
        return false; /* 2026-02-30 is an error, not March 2 */
    i = 10;
    if (i < s.len) {
        if ((s.p[i] != 'T' && s.p[i] != 't' && s.p[i] != ' ') || !digits(s, i + 1, 2, &h) ||
            i + 3 >= s.len || s.p[i + 3] != ':' || !digits(s, i + 4, 2, &mi))
            return false;
        i += 6;
        if (i < s.len && s.p[i] == ':') {
            if (!digits(s, i + 1, 2, &se))
                return false;
            i += 3;
        }
        if (i < s.len && s.p[i] == '.') {
            int64_t scale = 100000;
            i++;
            if (i >= s.len || s.p[i] < '0' || s.p[i] > '9')
                return false;
            for (; i < s.len && s.p[i] >= '0' && s.p[i] <= '9'; i++) {
                frac += (s.p[i] - '0') * scale;
                scale /= 10;
            }
        }
        if (h > 23 || mi > 59 || se > 60)
            return false;
        if (i < s.len && (s.p[i] == 'Z' || s.p[i] == 'z')) {
            i++;
        } else if (i < s.len && (s.p[i] == '+' || s.p[i] == '-')) {
            int oh, om = 0;
            int sign = s.p[i] == '-' ? -1 : 1;
            if (!digits(s, i + 1, 2, &oh))
                return false;
            i += 3;
            if (i < s.len && s.p[i] == ':')
                i++;
            if (i < s.len) {
                if (!digits(s, i, 2, &om))
                    return false;
                i += 2;
            }
            if (oh > 23 || om > 59) /* RFC 3339: time-numoffset is hours 00-23, minutes 00-59 */
                return false;
            off = sign * ((int64_t)oh * 3600 + om * 60);
        } else {
            return false; /* RFC 3339 requires a zone with a time */
        }
    }
    if (i != s.len)
        return false;
    int64_t days = clock_days_from_civil(y, (unsigned)mo, (unsigned)d);
    *us = ((days * 86400 + h * 3600 + mi * 60 + se) - off) * USEC_PER_SEC + frac;
    return true;
}

int64_t clock_now_us(void)
{
    const char *fake = getenv("SIFT_TEST_NOW");

    if (fake && *fake) {
        int64_t v;
        struct span s = span_cstr(fake);
        if (span_to_i64(s, &v))
            return v * USEC_PER_SEC;
        if (clock_parse_rfc3339(s, &v))
            return v;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * USEC_PER_SEC + ts.tv_nsec / 1000;
}

int64_t clock_mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
