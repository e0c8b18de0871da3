/* SPDX-License-Identifier: MIT */
/*
 * tz against the C library: for several zones (northern and southern DST, half-hour
 * and 45-minute offsets, midnight transitions, a skipped day) the offset at many
 * instants and the start of many local days must match what glibc computes from the
 * same zoneinfo with TZ set. The test process may set TZ; pgsift never does.
 */
#include <stdlib.h>
#include <time.h>

#include "check.h"
#include "core/clock.h"
#include "core/tz.h"

static const char *const zones[] = {
    "Europe/Paris",   "America/New_York", "Australia/Sydney",  "Asia/Kolkata",  "America/Sao_Paulo",
    "America/Havana", "Pacific/Apia",     "Asia/Tehran",       "Europe/Dublin", "Pacific/Chatham",
    "Asia/Kathmandu", "America/St_Johns", "Africa/Casablanca", "UTC",
};

static int have_zoneinfo(const char *z)
{
    struct tz tz;
    struct diag d = DIAG_INIT;
    if (tz_load(&tz, z, &d) < 0)
        return 0;
    tz_release(&tz);
    return 1;
}

static long libc_off(time_t t)
{
    struct tm tm;
    localtime_r(&t, &tm);
    return tm.tm_gmtoff;
}

static void test_offsets_match_libc(void)
{
    for (size_t z = 0; z < ARRAY_SIZE(zones); z++) {
        struct tz tz;
        struct diag d = DIAG_INIT;
        if (!have_zoneinfo(zones[z])) {
            fprintf(stderr, "    (no zoneinfo for %s; skipped)\n", zones[z]);
            continue;
        }
        CHECK(tz_load(&tz, zones[z], &d) == 0);
        setenv("TZ", zones[z], 1);
        tzset();
        int bad = 0;
        /* 1980..2045 every 7 h 13 min: crosses every transition hour of the day. */
        for (int64_t t = 315532800; t < 2366841600 && bad < 3; t += 7 * 3600 + 13 * 60) {
            long want = libc_off((time_t)t);
            int32_t got = tz_offset_at(&tz, t * USEC_PER_SEC);
            if (got != want) {
                CHECK_MSG(got == want, "%s at %lld: got %d, libc %ld", zones[z], (long long)t, got,
                          want);
                bad++;
            }
        }
        tz_release(&tz);
    }
    unsetenv("TZ");
    tzset();
}

/* The first instant whose local date is y-m-d, by brute force with libc. */
static int64_t libc_day_start(int y, unsigned m, unsigned d)
{
    int64_t guess = clock_days_from_civil(y, m, d) * 86400 - 30 * 3600;
    for (int64_t t = guess; t < guess + 60 * 3600; t += 60) {
        struct tm tm;
        time_t tt = (time_t)t;
        localtime_r(&tt, &tm);
        if (tm.tm_year + 1900 == y && (unsigned)tm.tm_mon + 1 == m && (unsigned)tm.tm_mday == d)
            return t;
        if (tm.tm_year + 1900 > y || (tm.tm_year + 1900 == y &&
                                      ((unsigned)tm.tm_mon + 1 > m ||
                                       ((unsigned)tm.tm_mon + 1 == m && (unsigned)tm.tm_mday > d))))
            return t; /* the day was skipped: it "starts" where the next one does */
    }
    return INT64_MIN;
}

static void test_midnights_match_libc(void)
{
    static const struct {
        int y;
        unsigned m, d;
    } days[] = {
        { 2026, 3, 29 },  { 2026, 3, 30 },  { 2026, 10, 25 }, { 2026, 10, 26 }, { 2026, 11, 1 },
        { 2026, 3, 8 },   { 2026, 4, 5 },   { 2026, 10, 4 },  { 2018, 11, 4 },  { 2018, 2, 18 },
        { 2011, 12, 29 }, { 2011, 12, 30 }, { 2011, 12, 31 }, { 2016, 3, 13 },  { 2016, 11, 6 },
        { 2040, 3, 25 },  { 2040, 10, 28 }, { 2026, 11, 24 }, { 2024, 2, 29 },  { 2019, 3, 10 },
    };
    for (size_t z = 0; z < ARRAY_SIZE(zones); z++) {
        struct tz tz;
        struct diag d = DIAG_INIT;
        if (!have_zoneinfo(zones[z]))
            continue;
        CHECK(tz_load(&tz, zones[z], &d) == 0);
        setenv("TZ", zones[z], 1);
        tzset();
        for (size_t i = 0; i < ARRAY_SIZE(days); i++) {
            int64_t want = libc_day_start(days[i].y, days[i].m, days[i].d);
            int64_t got = tz_local_midnight(&tz, days[i].y, days[i].m, days[i].d) / USEC_PER_SEC;
            CHECK_MSG(got == want, "%s %d-%02u-%02u: got %lld, libc %lld", zones[z], days[i].y,
                      days[i].m, days[i].d, (long long)got, (long long)want);
        }
        tz_release(&tz);
    }
    unsetenv("TZ");
    tzset();
}

static void test_fixed_offsets(void)
{
    struct tz tz;
    struct diag d = DIAG_INIT;
    char buf[TZ_LOCAL_MAX], ob[8];

    CHECK(tz_load(&tz, "+05:30", &d) == 0);
    CHECK_EQ_INT(tz_offset_at(&tz, 0), 5 * 3600 + 1800);
    CHECK_EQ_STR(tz_format_local(&tz, 0, buf), "1970-01-01T05:30:00+05:30");
    CHECK_EQ_INT(tz_local_midnight(&tz, 2026, 11, 24) / USEC_PER_SEC,
                 clock_days_from_civil(2026, 11, 24) * 86400 - 19800);
    tz_release(&tz);
    CHECK(tz_load(&tz, "-03", &d) == 0);
    CHECK_EQ_INT(tz_offset_at(&tz, 0), -3 * 3600);
    tz_release(&tz);
    CHECK(tz_load(&tz, "-0330", &d) == 0);
    CHECK_EQ_STR(tz_format_offset(tz_offset_at(&tz, 0), ob), "-03:30");
    tz_release(&tz);
    CHECK(tz_load(&tz, "UTC", &d) == 0);
    CHECK_EQ_STR(tz_format_local(&tz, INT64_C(1795514400) * USEC_PER_SEC, buf),
                 "2026-11-24T10:00:00+00:00");
    tz_release(&tz);
}

static void test_bad_names(void)
{
    static const char *const bad[] = { "../etc/passwd", "/etc/localtime",
                                       "Nowhere/City",  "+25:00",
                                       "+1:00",         "",
                                       "Europe/../UTC", "a b" };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct tz tz;
        struct diag d = DIAG_INIT;
        CHECK_MSG(tz_load(&tz, bad[i], &d) < 0, "'%s' accepted", bad[i]);
        CHECK_EQ_INT(d.kind, DIAG_USAGE);
        CHECK(strstr(d.msg, "time zone") != NULL);
        tz_release(&tz);
    }
}

static bool rule(const char *s, struct tz_rule *r)
{
    return tz_rule_parse(s, strlen(s), r);
}

static void test_rule_parse(void)
{
    struct tz_rule r;

    CHECK(rule("CET-1CEST,M3.5.0,M10.5.0/3", &r));
    CHECK_EQ_INT(r.std_off, 3600);
    CHECK_EQ_INT(r.dst_off, 7200);
    CHECK_EQ_INT(r.end.time, 3 * 3600);
    CHECK(rule("<+0330>-3:30", &r));
    CHECK_EQ_INT(r.std_off, 3 * 3600 + 1800);
    CHECK(!r.has_dst);
    CHECK(rule("EST5EDT,M3.2.0,M11.1.0", &r));
    CHECK_EQ_INT(r.std_off, -5 * 3600);
    CHECK(rule("<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", &r));
    CHECK_EQ_INT(r.start.time, -2 * 3600);
    /* Malformed rules are refused, never half-read. */
    CHECK(!rule("CET", &r));
    CHECK(!rule("CET-1CEST", &r));
    CHECK(!rule("CET-1CEST,M13.5.0,M10.5.0", &r));
    CHECK(!rule("CET-1CEST,M3.5.0", &r));
    CHECK(!rule("C-1", &r));
}

static void test_malformed_tzif(void)
{
    static const unsigned char junk[] = "TZif2\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\xff\xff\xff\xff";
    struct tz tz;
    struct diag d = DIAG_INIT;

    CHECK(tz_load_tzif(&tz, "x", junk, sizeof(junk), &d) < 0);
    CHECK(strstr(d.msg, "malformed") != NULL);
    diag_clear(&d);
    CHECK(tz_load_tzif(&tz, "x", "TZi", 3, &d) < 0);
    /* Every truncation of a real file is refused or loads without reading past it. */
    FILE *f = fopen("/usr/share/zoneinfo/Europe/Paris", "rb");
    if (!f)
        return;
    unsigned char buf[8192];
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    for (size_t cut = 0; cut < n; cut += 7) {
        unsigned char *copy = malloc(cut ? cut : 1);
        memcpy(copy, buf, cut);
        diag_clear(&d);
        if (tz_load_tzif(&tz, "cut", copy, cut, &d) == 0)
            tz_release(&tz);
        free(copy);
    }
}

TEST_LIST = {
    { "offsets_match_libc", test_offsets_match_libc },
    { "midnights_match_libc", test_midnights_match_libc },
    { "fixed_offsets", test_fixed_offsets },
    { "bad_names", test_bad_names },
    { "rule_parse", test_rule_parse },
    { "malformed_tzif", test_malformed_tzif },
    { NULL, NULL },
};
