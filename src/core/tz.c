/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/tz.h"
#include "core/xalloc.h"

/* TZif files are a few KiB; the largest in tzdata is under 10 KiB. */
#define TZ_MAX_FILE_BYTES  (256u << 10)
#define TZ_MAX_TRANSITIONS 10000u
#define TZ_MAX_OFFSET      (26 * 3600)

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int y, unsigned m)
{
    static const unsigned dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* ---- POSIX TZ rules ---- */

struct cursor {
    const char *p, *end;
};

static bool cur_digits(struct cursor *c, int maxd, int *out)
{
    int v = 0, n = 0;

    while (c->p < c->end && *c->p >= '0' && *c->p <= '9' && n < maxd) {
        v = v * 10 + (*c->p++ - '0');
        n++;
    }
    *out = v;
    return n > 0;
}

static bool cur_eat(struct cursor *c, char ch)
{
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

/* A zone abbreviation: <...> or three or more letters. */
static bool rule_name(struct cursor *c)
{
    const char *start = c->p;

    if (cur_eat(c, '<')) {
        while (c->p < c->end && *c->p != '>')
            c->p++;
        return cur_eat(c, '>') && c->p - start >= 5;
    }
    while (c->p < c->end && ((*c->p >= 'A' && *c->p <= 'Z') || (*c->p >= 'a' && *c->p <= 'z')))
        c->p++;
    return c->p - start >= 3;
}

/* [+-]hh[:mm[:ss]]; hours up to @maxh. */
static bool rule_hms(struct cursor *c, int maxh, int32_t *out)
{
    int sign = 1, h, m = 0, s = 0;

    if (cur_eat(c, '-'))
        sign = -1;
    else
        (void)cur_eat(c, '+');
    if (!cur_digits(c, 3, &h) || h > maxh)
        return false;
    if (cur_eat(c, ':')) {
        if (!cur_digits(c, 2, &m) || m > 59)
            return false;
        if (cur_eat(c, ':') && (!cur_digits(c, 2, &s) || s > 59))
            return false;
    }
    *out = sign * (h * 3600 + m * 60 + s);
    return true;
}

static bool rule_date(struct cursor *c, struct tz_rule_date *rd)
{
    int a, b, e;

    if (cur_eat(c, 'J')) {
        if (!cur_digits(c, 3, &a) || a < 1 || a > 365)
            return false;
        rd->kind = 'J';
        rd->day = a;
    } else if (cur_eat(c, 'M')) {
        if (!cur_digits(c, 2, &a) || !cur_eat(c, '.') || !cur_digits(c, 1, &b) ||
            !cur_eat(c, '.') || !cur_digits(c, 1, &e) || a < 1 || a > 12 || b < 1 || b > 5 || e > 6)
            return false;
        rd->kind = 'M';
        rd->month = a;
        rd->week = b;
        rd->day = e;
    } else {
        if (!cur_digits(c, 3, &a) || a > 365)
            return false;
        rd->kind = 'D';
        rd->day = a;
    }
    rd->time = 2 * 3600;
    if (cur_eat(c, '/') && !rule_hms(c, 167, &rd->time))
        return false;
    return true;
}

bool tz_rule_parse(const char *s, size_t len, struct tz_rule *r)
{
    struct cursor c = { s, s + len };
    int32_t off;

    memset(r, 0, sizeof(*r));
    if (!rule_name(&c) || !rule_hms(&c, 24, &off))
        return false;
    r->std_off = -off; /* POSIX offsets are positive west of Greenwich */
    if (c.p == c.end)
        return true;
    if (!rule_name(&c))
        return false;
    r->dst_off = r->std_off + 3600;
    if (c.p < c.end && *c.p != ',') {
        if (!rule_hms(&c, 24, &off))
            return false;
        r->dst_off = -off;
    }
    /* A daylight name without a rule: implementation-defined in POSIX; tzdata never
     * writes one, so refuse it rather than guess. */
    if (!cur_eat(&c, ',') || !rule_date(&c, &r->start) || !cur_eat(&c, ',') ||
        !rule_date(&c, &r->end) || c.p != c.end)
        return false;
    r->has_dst = true;
    return true;
}

/* Seconds since the epoch of a rule date in year y, as local time of offset @off. */
static int64_t rule_instant(const struct tz_rule_date *rd, int y, int32_t off)
{
    int64_t day;

    switch (rd->kind) {
    case 'J':
        day = clock_days_from_civil(y, 1, 1) + rd->day - 1 + (is_leap(y) && rd->day >= 60);
        break;
    case 'D': day = clock_days_from_civil(y, 1, 1) + rd->day; break;
    default: {
        int64_t first = clock_days_from_civil(y, (unsigned)rd->month, 1);
        int wd = (int)((first % 7 + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
        int dom = 1 + (rd->day - wd + 7) % 7 + (rd->week - 1) * 7;
        while (dom > (int)days_in_month(y, (unsigned)rd->month))
            dom -= 7;
        day = first + dom - 1;
    }
    }
    return day * 86400 + rd->time - off;
}

static int32_t rule_offset(const struct tz_rule *r, int64_t t)
{
    if (!r->has_dst)
        return r->std_off;
    int y;
    unsigned m, d;
    clock_civil_from_days(floor_div(t + r->std_off, 86400), &y, &m, &d);
    int64_t start = rule_instant(&r->start, y, r->std_off);
    int64_t end = rule_instant(&r->end, y, r->dst_off);
    bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
    return dst ? r->dst_off : r->std_off;
}

/* ---- TZif ---- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tzif_counts {
    uint32_t isut, isstd, leap, time, type, chr;
};

static bool tzif_header(const unsigned char *p, size_t len, char *version, struct tzif_counts *n)
{
    if (len < 44 || memcmp(p, "TZif", 4))
        return false;
    *version = (char)p[4];
    n->isut = be32(p + 20);
    n->isstd = be32(p + 24);
    n->leap = be32(p + 28);
    n->time = be32(p + 32);
    n->type = be32(p + 36);
    n->chr = be32(p + 40);
    return n->type >= 1 && n->type <= 256 && n->time <= TZ_MAX_TRANSITIONS &&
           n->leap <= TZ_MAX_TRANSITIONS && n->chr <= 4096 && n->isut <= n->type &&
           n->isstd <= n->type;
}

static size_t tzif_block_len(const struct tzif_counts *n, size_t tsize)
{
    return n->time * tsize + n->time + n->type * 6u + n->chr + n->leap * (tsize + 4) + n->isstd +
           n->isut;
}

static void tz_clear(struct tz *tz, const char *name)
{
    memset(tz, 0, sizeof(*tz));
    snprintf(tz->name, sizeof(tz->name), "%s", name);
}

int tz_load_tzif(struct tz *tz, const char *name, const void *data, size_t len, struct diag *d)
{
    const unsigned char *p = data;
    struct tzif_counts n;
    char version;
    size_t tsize = 4;

    tz_clear(tz, name);
    if (!tzif_header(p, len, &version, &n))
        goto bad;
    if (version >= '2') {
        /* Skip the 32-bit block; the 64-bit one follows with its own header. */
        size_t skip = 44 + tzif_block_len(&n, 4);
        if (skip > len || !tzif_header(p + skip, len - skip, &version, &n))
            goto bad;
        p += skip;
        len -= skip;
        tsize = 8;
    }
    size_t block = tzif_block_len(&n, tsize);
    if (44 + block > len)
        goto bad;
    const unsigned char *times = p + 44;
    const unsigned char *idx = times + n.time * tsize;
    const unsigned char *types = idx + n.time;
    int32_t offs[256];
    for (uint32_t i = 0; i < n.type; i++) {
        offs[i] = (int32_t)be32(types + 6 * i);
        if (offs[i] < -TZ_MAX_OFFSET || offs[i] > TZ_MAX_OFFSET)
            goto bad;
    }
    tz->first_off = offs[0];
    if (n.time) {
        tz->trans = xmalloc(n.time * sizeof(*tz->trans));
        tz->trans_off = xmalloc(n.time * sizeof(*tz->trans_off));
    }
    for (uint32_t i = 0; i < n.time; i++) {
        int64_t t = tsize == 8 ? be64(times + 8 * i) : (int32_t)be32(times + 4 * i);
        if (idx[i] >= n.type || (i && t <= tz->trans[i - 1]))
            goto bad;
        tz->trans[i] = t;
        tz->trans_off[i] = offs[idx[i]];
    }
    tz->ntrans = n.time;
    /* v2+: "\n<POSIX TZ>\n" after the 64-bit block, for times after the last
     * transition (slim TZif files rely on it for every future date). */
    if (tsize == 8 && 44 + block < len && p[44 + block] == '\n') {
        const char *f = (const char *)p + 44 + block + 1;
        const char *nl = memchr(f, '\n', len - 44 - block - 1);
        if (!nl)
            goto bad;
        if (nl > f) {
            if (!tz_rule_parse(f, (size_t)(nl - f), &tz->rule))
                goto bad;
            tz->has_rule = true;
            if (!tz->ntrans)
                tz->first_off = tz->rule.std_off;
        }
    }
    return 0;
bad:
    tz_release(tz);
    return diag_set(d, DIAG_USAGE, "time zone '%s': malformed zoneinfo file", name);
}

static bool fixed_offset(const char *s, int32_t *off)
{
    static const char *const utc[] = { "UTC", "Z", "GMT", "UT", "Etc/UTC", "utc", "z" };
    for (size_t i = 0; i < ARRAY_SIZE(utc); i++)
        if (!strcmp(s, utc[i])) {
            *off = 0;
            return true;
        }
    if (s[0] != '+' && s[0] != '-')
        return false;
    int sign = s[0] == '-' ? -1 : 1, h = 0, m = 0;
    size_t len = strlen(s);
    for (size_t i = 1; i < len; i++)
        if (!(s[i] >= '0' && s[i] <= '9') && !(i == 3 && s[i] == ':'))
            return false;
    if (len == 3) { /* +HH */
        h = (s[1] - '0') * 10 + (s[2] - '0');
    } else if (len == 5 && s[3] != ':') { /* +HHMM */
        h = (s[1] - '0') * 10 + (s[2] - '0');
        m = (s[3] - '0') * 10 + (s[4] - '0');
    } else if (len == 6 && s[3] == ':') { /* +HH:MM */
        h = (s[1] - '0') * 10 + (s[2] - '0');
        m = (s[4] - '0') * 10 + (s[5] - '0');
    } else {
        return false;
    }
    if (h > 18 || m > 59)
        return false;
    *off = sign * (h * 3600 + m * 60);
    return true;
}

/* IANA names are letters, digits and "/_+-."; no "..", no leading "/". */
static bool iana_name_ok(const char *s)
{
    size_t len = strlen(s);

    if (!len || len > TZ_NAME_MAX || s[0] == '/' || s[0] == '.' || strstr(s, ".."))
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '/' || c == '_' || c == '+' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

int tz_load(struct tz *tz, const char *name, struct diag *d)
{
    static const char accepted[] = "an IANA name such as 'Europe/Paris', 'UTC', or an offset "
                                   "such as '+02:00'";
    int32_t off;

    tz_clear(tz, name);
    if (strlen(name) > TZ_NAME_MAX)
        return diag_set(d, DIAG_USAGE, "time zone name too long (expected %s)", accepted);
    if (fixed_offset(name, &off)) {
        tz->first_off = off;
        return 0;
    }
    if (!iana_name_ok(name))
        return diag_set(d, DIAG_USAGE, "invalid time zone '%s' (expected %s)", name, accepted);

    const char *dir = getenv("TZDIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return diag_set(d, DIAG_USAGE, "unknown time zone '%s' (no '%s'; expected %s)", name, path,
                        accepted);
    unsigned char *buf = xmalloc(TZ_MAX_FILE_BYTES);
    size_t len = 0;
    for (;;) {
        ssize_t r = read(fd, buf + len, TZ_MAX_FILE_BYTES - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
        if (len == TZ_MAX_FILE_BYTES)
            break;
    }
    close(fd);
    int rc = tz_load_tzif(tz, name, buf, len, d);
    free(buf);
    return rc;
}

void tz_release(struct tz *tz)
{
    free(tz->trans);
    free(tz->trans_off);
    tz->trans = NULL;
    tz->trans_off = NULL;
    tz->ntrans = 0;
}

static int32_t offset_at_s(const struct tz *tz, int64_t t)
{
    if (!tz->ntrans || t < tz->trans[0])
        return tz->ntrans || !tz->has_rule ? tz->first_off : rule_offset(&tz->rule, t);
    size_t lo = 0, hi = tz->ntrans; /* last i with trans[i] <= t */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->trans[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    if (lo == tz->ntrans - 1 && tz->has_rule)
        return rule_offset(&tz->rule, t);
    return tz->trans_off[lo];
}

int32_t tz_offset_at(const struct tz *tz, int64_t utc_us)
{
    return offset_at_s(tz, floor_div(utc_us, USEC_PER_SEC));
}

int64_t tz_local_midnight(const struct tz *tz, int y, unsigned m, unsigned d)
{
    int64_t local = clock_days_from_civil(y, m, d) * 86400;
    /* Midnight happens at local - off for the offset in force then. Try the offsets in
     * force a day either side: the earliest instant that reads as midnight wins (a
     * repeated midnight is met first in its first occurrence). */
    int64_t cand[2] = { local - offset_at_s(tz, local - 86400 - TZ_MAX_OFFSET),
                        local - offset_at_s(tz, local + 86400 + TZ_MAX_OFFSET) };
    int64_t best = INT64_MAX;
    for (int i = 0; i < 2; i++)
        if (cand[i] + offset_at_s(tz, cand[i]) == local && cand[i] < best)
            best = cand[i];
    if (best == INT64_MAX) {
        /* Midnight was skipped (a jump forward at 00:00): the day starts at the
         * transition, the first instant whose local time is past midnight. */
        int64_t lo = cand[0] < cand[1] ? cand[0] : cand[1];
        int64_t hi = cand[0] < cand[1] ? cand[1] : cand[0];
        while (lo < hi) {
            int64_t mid = lo + (hi - lo) / 2;
            if (mid + offset_at_s(tz, mid) >= local)
                hi = mid;
            else
                lo = mid + 1;
        }
        best = lo;
    }
    return best * USEC_PER_SEC;
}

void tz_local_date(const struct tz *tz, int64_t utc_us, int *y, unsigned *m, unsigned *d)
{
    int64_t t = floor_div(utc_us, USEC_PER_SEC);
    clock_civil_from_days(floor_div(t + offset_at_s(tz, t), 86400), y, m, d);
}

char *tz_format_offset(int32_t off, char *buf)
{
    char sign = off < 0 ? '-' : '+';
    int32_t a = off < 0 ? -off : off;
    snprintf(buf, 8, "%c%02d:%02d", sign, (int)(a / 3600) % 100, (int)(a / 60 % 60));
    return buf;
}

char *tz_format_local(const struct tz *tz, int64_t utc_us, char *buf)
{
    int64_t t = floor_div(utc_us, USEC_PER_SEC);
    int32_t off = offset_at_s(tz, t);
    int64_t local = t + off;
    int64_t days = floor_div(local, 86400);
    int64_t secs = local - days * 86400;
    int y;
    unsigned m, d;
    char ob[8];
    clock_civil_from_days(days, &y, &m, &d);
    snprintf(buf, TZ_LOCAL_MAX, "%04d-%02u-%02uT%02d:%02d:%02d%s", y, m, d, (int)(secs / 3600),
             (int)(secs / 60 % 60), (int)(secs % 60), tz_format_offset(off, ob));
    return buf;
}
