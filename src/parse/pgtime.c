/* SPDX-License-Identifier: MIT */
/*
 * pgtime.c - PostgreSQL log timestamps to UTC microseconds (formats.md §1).
 *
 * PostgreSQL prints log_timezone's abbreviation (%Z) or, for zones without one, a
 * numeric offset ("-03", "+0545"). Abbreviations are resolved with the table below;
 * the ambiguous ones (IST, CST, BST, AST, ...) need --tz. The process time zone is
 * never consulted: calendar math is core/clock.h's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/tz.h"
#include "core/xalloc.h"
#include "parse/parse_int.h"

#define H(h)     ((h)*3600)
#define HM(h, m) ((h)*3600 + ((h) < 0 ? -(m) : (m)) * 60)

struct zone_abbrev {
    const char *name;
    int32_t offset_s;
    bool ambiguous;
};

/* Abbreviations current tzdata prints (and a few PostgreSQL users see in old logs).
 * Ambiguous: IST (India +05:30, Israel +02, Ireland +01), CST (US -06, China +08,
 * Cuba -05), BST (British +01, Bangladesh +06), AST (Atlantic -04, Arabia +03). PST is
 * taken as US Pacific although tzdata also uses it for the Philippines. */
static const struct zone_abbrev zones[] = {
    { "UTC", 0, false },
    { "GMT", 0, false },
    { "UCT", 0, false },
    { "UT", 0, false },
    { "Z", 0, false },
    { "WET", 0, false },
    { "WEST", H(1), false },
    { "CET", H(1), false },
    { "CEST", H(2), false },
    { "MET", H(1), false },
    { "MEST", H(2), false },
    { "EET", H(2), false },
    { "EEST", H(3), false },
    { "MSK", H(3), false },
    { "IDT", H(3), false },
    { "SAST", H(2), false },
    { "WAT", H(1), false },
    { "CAT", H(2), false },
    { "EAT", H(3), false },
    { "PKT", H(5), false },
    { "NPT", HM(5, 45), false },
    { "HKT", H(8), false },
    { "SGT", H(8), false },
    { "AWST", H(8), false },
    { "WIB", H(7), false },
    { "WITA", H(8), false },
    { "WIT", H(9), false },
    { "JST", H(9), false },
    { "KST", H(9), false },
    { "ACST", HM(9, 30), false },
    { "ACDT", HM(10, 30), false },
    { "AEST", H(10), false },
    { "AEDT", H(11), false },
    { "ChST", H(10), false },
    { "NZST", H(12), false },
    { "NZDT", H(13), false },
    { "HST", H(-10), false },
    { "HDT", H(-9), false },  /* America/Adak */
    { "SST", H(-11), false }, /* Pacific/Pago_Pago, Pacific/Midway */
    { "AKST", H(-9), false },
    { "AKDT", H(-8), false },
    { "PST", H(-8), false },
    { "PDT", H(-7), false },
    { "MST", H(-7), false },
    { "MDT", H(-6), false },
    { "CDT", H(-5), false },
    { "EST", H(-5), false },
    { "EDT", H(-4), false },
    { "ADT", H(-3), false },
    { "NST", HM(-3, 30), false },
    { "NDT", HM(-2, 30), false },
    { "IST", 0, true },
    { "CST", 0, true },
    { "BST", 0, true },
    { "AST", 0, true },
};

static const struct zone_abbrev *zone_find(struct span s)
{
    for (size_t i = 0; i < ARRAY_SIZE(zones); i++)
        if (span_eq(s, span_cstr(zones[i].name)))
            return &zones[i];
    return NULL;
}

static inline bool dig(char c)
{
    return c >= '0' && c <= '9';
}

static inline int d2(const char *p)
{
    return (p[0] - '0') * 10 + (p[1] - '0');
}

/* "+05", "-0300", "+05:30" (whole span). */
static bool parse_offset(struct span s, int32_t *off)
{
    if (s.len < 3 || (s.p[0] != '+' && s.p[0] != '-') || !dig(s.p[1]) || !dig(s.p[2]))
        return false;
    int h = d2(s.p + 1), m = 0;
    if (s.len == 5 && dig(s.p[3]) && dig(s.p[4]))
        m = d2(s.p + 3);
    else if (s.len == 6 && s.p[3] == ':' && dig(s.p[4]) && dig(s.p[5]))
        m = d2(s.p + 4);
    else if (s.len != 3)
        return false;
    if (h > 15 || m > 59)
        return false;
    *off = (s.p[0] == '-' ? -1 : 1) * (h * 3600 + m * 60);
    return true;
}

static bool is_alpha_span(struct span s)
{
    if (s.len < 1 || s.len > 6)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
            return false;
    }
    return true;
}

int pgtime_tz_parse(const char *str, struct pgtime_tz *tz, struct diag *d)
{
    struct span s = span_cstr(str);
    int32_t off;

    tz->set = false;
    tz->offset_s = 0;
    if (parse_offset(s, &off)) {
        tz->set = true;
        tz->offset_s = off;
        return 0;
    }
    const struct zone_abbrev *z = zone_find(s);
    if (z && !z->ambiguous) {
        tz->set = true;
        tz->offset_s = z->offset_s;
        return 0;
    }
    if (!z) { /* Europe/Paris, Japan, EST5EDT: tz_load() refuses paths that leave zoneinfo */
        struct tz *zone = xcalloc(1, sizeof(*zone));
        struct diag zd = DIAG_INIT;
        if (tz_load(zone, str, &zd) == 0) {
            tz->set = true;
            tz->zone = zone;
            return 0;
        }
        free(zone);
    }
    return diag_set(d, DIAG_USAGE,
                    "invalid time zone '%s' (--tz, tz: or timezone:; expected UTC, an offset like "
                    "+05:30, -0300 or -03, "
                    "an unambiguous zone abbreviation like CET, or a zone name like "
                    "Europe/Paris%s)",
                    str, z ? "; it is ambiguous, give its offset or its zone name" : "");
}

void pgtime_tz_release(struct pgtime_tz *tz)
{
    if (tz->zone) {
        tz_release(tz->zone);
        free(tz->zone);
        tz->zone = NULL;
    }
}

int32_t pgtime_tz_offset_local(const struct pgtime_tz *tz, int64_t local_secs)
{
    if (!tz->zone)
        return tz->offset_s;
    /* UTC = local - offset, where the offset is the one in force at that UTC instant:
     * try the offset of an instant a day either side (each side of a transition), and
     * keep the first that holds (the earlier instant when both do: the first pass
     * through the repeated hour). In a skipped hour neither holds: the offset before. */
    int32_t before = tz_offset_at(tz->zone, (local_secs - 86400) * USEC_PER_SEC);
    int32_t after = tz_offset_at(tz->zone, (local_secs + 86400) * USEC_PER_SEC);
    int32_t cand[2] = { before > after ? before : after, before > after ? after : before };
    for (int i = 0; i < 2; i++)
        if (tz_offset_at(tz->zone, (local_secs - cand[i]) * USEC_PER_SEC) == cand[i])
            return cand[i];
    return before;
}

/* The fraction at s[19..) (if any): adds to *sub, sets *digits; returns the index after
 * it, or 0 when it is malformed. */
static size_t parse_fraction(struct span s, int64_t *sub, int *digits)
{
    const char *p = s.p;
    size_t i = 19, n = s.len;

    *sub = 0;
    *digits = 0;
    if (i < n && p[i] == '.') {
        /* milliseconds (%m, csvlog, jsonlog) without the loop */
        if (n >= 23 && dig(p[20]) && dig(p[21]) && dig(p[22]) && (n == 23 || !dig(p[23]))) {
            *sub = (p[20] - '0') * 100000 + (p[21] - '0') * 10000 + (p[22] - '0') * 1000;
            *digits = 3;
            return 23;
        }
        i++;
        int64_t scale = 100000, v = 0;
        int nd = 0;
        while (i < n && dig(p[i])) {
            if (nd < 6) {
                v += (p[i] - '0') * scale;
                scale /= 10;
            }
            nd++;
            i++;
        }
        *sub = v;
        *digits = nd;
        if (nd == 0 || nd > 9)
            return 0;
    }
    return i;
}

/* The whole parse; *secs_out = the UTC seconds (before the fraction) for the cache. */
static enum pgtime_status parse_full(struct span s, const struct pgtime_tz *tz, int64_t *us,
                                     int *frac, struct span *zone_out, int64_t *secs_out)
{
    const char *p = s.p;
    size_t n = s.len;

    if (zone_out)
        *zone_out = SPAN_NULL;
    /* YYYY-MM-DD?HH:MM:SS */
    if (n < 19 || !dig(p[0]) || !dig(p[1]) || !dig(p[2]) || !dig(p[3]) || p[4] != '-' ||
        !dig(p[5]) || !dig(p[6]) || p[7] != '-' || !dig(p[8]) || !dig(p[9]) ||
        (p[10] != ' ' && p[10] != 'T') || !dig(p[11]) || !dig(p[12]) || p[13] != ':' ||
        !dig(p[14]) || !dig(p[15]) || p[16] != ':' || !dig(p[17]) || !dig(p[18]))
        return PGTIME_BAD;
    int y = d2(p) * 100 + d2(p + 2);
    int mo = d2(p + 5), d = d2(p + 8), h = d2(p + 11), mi = d2(p + 14), se = d2(p + 17);
    if (!clock_valid_date(y, mo, d) || h > 23 || mi > 59 || se > 60)
        return PGTIME_BAD; /* (2026-02-29 is an error, not March 1) */
    int64_t sub;
    int digits;
    size_t i = parse_fraction(s, &sub, &digits);
    if (!i)
        return PGTIME_BAD;
    *frac = digits == 0 ? 0 : digits <= 3 ? 3 : 6;

    int32_t off = 0;
    struct span zone = span_sub(s, i, n - i);
    if (zone.len && zone.p[0] == ' ')
        zone = span_sub(zone, 1, zone.len - 1);
    else if (zone.len && zone.p[0] != 'Z' && zone.p[0] != '+' && zone.p[0] != '-')
        return PGTIME_BAD;
    if (zone_out)
        *zone_out = zone;
    int64_t days = clock_days_from_civil(y, (unsigned)mo, (unsigned)d);
    int64_t local = days * 86400 + h * 3600 + mi * 60 + se;
    if (zone.len == 0) {
        if (!tz->set)
            return PGTIME_NO_ZONE;
        off = pgtime_tz_offset_local(tz, local);
    } else if (!parse_offset(zone, &off)) {
        if (zone.len == 3 && zone.p[0] == 'U' && zone.p[1] == 'T' && zone.p[2] == 'C') {
            off = 0; /* the common case, without the table walk */
        } else {
            if (!is_alpha_span(zone))
                return PGTIME_BAD;
            const struct zone_abbrev *z = zone_find(zone);
            if (z && !z->ambiguous)
                off = z->offset_s;
            else if (tz->set)
                off = pgtime_tz_offset_local(tz, local);
            else
                return z ? PGTIME_AMBIGUOUS : PGTIME_UNKNOWN;
        }
    }
    int64_t secs = local - off;
    *us = secs * USEC_PER_SEC + sub;
    if (secs_out)
        *secs_out = secs;
    return PGTIME_OK;
}

enum pgtime_status pgtime_parse(struct span s, const struct pgtime_tz *tz, int64_t *us, int *frac,
                                struct span *zone_out)
{
    return parse_full(s, tz, us, frac, zone_out, NULL);
}

/* memcmp(a, b, 19) == 0 as three word compares (a library call otherwise). */
static inline bool eq19(const char *a, const char *b)
{
    uint64_t x[3], y[3];
    memcpy(&x[0], a, 8);
    memcpy(&x[1], a + 8, 8);
    memcpy(&x[2], a + 11, 8);
    memcpy(&y[0], b, 8);
    memcpy(&y[1], b + 8, 8);
    memcpy(&y[2], b + 11, 8);
    return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2])) == 0;
}

enum pgtime_status pgtime_parse_cached(struct pgtime_cache *c, struct span s,
                                       const struct pgtime_tz *tz, int64_t *us, int *frac,
                                       struct span *zone_out)
{
    if (c->valid && s.len >= 19 && tz->set == c->tz_set && tz->offset_s == c->tz_offset_s &&
        tz->zone == c->tz_zone && eq19(s.p, c->head)) {
        int64_t sub;
        int digits;
        size_t i = parse_fraction(s, &sub, &digits);
        /* The same seconds and the same bytes after the fraction (the zone) under the
         * same --tz: the same offset, so only the fraction differs. */
        bool same = i && s.len - i == c->tail_len;
        for (size_t k = 0; same && k < c->tail_len; k++) /* " UTC": shorter than a call */
            same = s.p[i + k] == c->tail[k];
        if (same) {
            *frac = digits == 0 ? 0 : digits <= 3 ? 3 : 6;
            *us = c->secs * USEC_PER_SEC + sub;
            if (zone_out) {
                struct span zone = span_sub(s, i, s.len - i);
                if (zone.len && zone.p[0] == ' ')
                    zone = span_sub(zone, 1, zone.len - 1);
                *zone_out = zone;
            }
            return PGTIME_OK;
        }
    }
    int64_t secs;
    enum pgtime_status st = parse_full(s, tz, us, frac, zone_out, &secs);
    if (st != PGTIME_OK)
        return st;
    int64_t sub;
    int digits;
    size_t i = parse_fraction(s, &sub, &digits);
    if (s.len - i > sizeof(c->tail))
        return st; /* a zone too long to remember: not cached */
    memcpy(c->head, s.p, 19);
    c->tail_len = (unsigned char)(s.len - i);
    memcpy(c->tail, s.p + i, s.len - i);
    c->secs = secs;
    c->tz_set = tz->set;
    c->tz_offset_s = tz->offset_s;
    c->tz_zone = tz->zone;
    c->valid = true;
    return st;
}

enum pgtime_status pgtime_parse_epoch(struct span s, int64_t *us, int *frac)
{
    size_t i = 0;
    int64_t secs = 0, sub = 0;
    int digits = 0;

    if (s.len == 0 || !dig(s.p[0]))
        return PGTIME_BAD;
    while (i < s.len && dig(s.p[i])) {
        if (secs > INT64_C(100000000000)) /* year ~5138: not a log time */
            return PGTIME_BAD;
        secs = secs * 10 + (s.p[i++] - '0');
    }
    if (i < s.len && s.p[i] == '.') {
        int64_t scale = 100000;
        i++;
        while (i < s.len && dig(s.p[i]) && digits < 6) {
            sub += (s.p[i++] - '0') * scale;
            scale /= 10;
            digits++;
        }
        if (digits == 0)
            return PGTIME_BAD;
    }
    if (i != s.len)
        return PGTIME_BAD;
    *us = secs * USEC_PER_SEC + sub;
    *frac = digits == 0 ? 0 : digits <= 3 ? 3 : 6;
    return PGTIME_OK;
}

const char *pgtime_status_reason(enum pgtime_status st)
{
    switch (st) {
    case PGTIME_OK: return "ok";
    case PGTIME_BAD: return "bad timestamp";
    case PGTIME_AMBIGUOUS: return "ambiguous time zone (pass --tz)";
    case PGTIME_UNKNOWN: return "unknown time zone (pass --tz)";
    case PGTIME_NO_ZONE: return "timestamp without time zone (pass --tz)";
    }
    return "bad timestamp";
}
