/* SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sbuf.h"
#include "core/xalloc.h"

char sbuf_empty[1];

void sbuf_init(struct sbuf *sb, size_t max)
{
    sb->buf = sbuf_empty;
    sb->len = 0;
    sb->alloc = 0;
    sb->max = max;
}

void sbuf_release(struct sbuf *sb)
{
    if (sb->alloc)
        free(sb->buf);
    sbuf_init(sb, sb->max);
}

void sbuf_reset(struct sbuf *sb)
{
    sb->len = 0;
    if (sb->alloc)
        sb->buf[0] = '\0';
}

static size_t cap(const struct sbuf *sb)
{
    return sb->max ? sb->max : SBUF_DEFAULT_MAX;
}

int sbuf_grow(struct sbuf *sb, size_t n)
{
    size_t need;

    if (!st_add(sb->len, n, &need) || need > cap(sb))
        return -1;
    if (need + 1 <= sb->alloc)
        return 0;
    size_t alloc = sb->alloc < 64 ? 64 : sb->alloc;
    while (alloc < need + 1)
        alloc = alloc > ((size_t)-1) / 2 ? need + 1 : alloc * 2;
    if (sb->alloc) {
        sb->buf = xrealloc(sb->buf, alloc);
    } else {
        sb->buf = xmalloc(alloc);
        sb->buf[0] = '\0';
    }
    sb->alloc = alloc;
    return 0;
}

void sbuf_setlen(struct sbuf *sb, size_t len)
{
    if (len > (sb->alloc ? sb->alloc - 1 : 0))
        BUG("sbuf_setlen(%zu) beyond alloc %zu", len, sb->alloc);
    sb->len = len;
    if (sb->alloc)
        sb->buf[len] = '\0';
}

int sbuf_add(struct sbuf *sb, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    /* (room for the bytes and the NUL already, within the cap: sbuf_grow() would
     * return 0 without growing) */
    if (!(n < sb->alloc - sb->len && sb->len + n <= cap(sb)) && sbuf_grow(sb, n) < 0)
        return -1;
    memcpy(sb->buf + sb->len, p, n);
    sb->len += n;
    sb->buf[sb->len] = '\0';
    return 0;
}

int sbuf_addstr(struct sbuf *sb, const char *s)
{
    return sbuf_add(sb, s, strlen(s));
}

int sbuf_addch(struct sbuf *sb, char c)
{
    /* the common case without a call: room for it and the NUL, within the cap */
    if (1 < sb->alloc - sb->len && sb->len < cap(sb)) {
        sb->buf[sb->len++] = c;
        sb->buf[sb->len] = '\0';
        return 0;
    }
    return sbuf_add(sb, &c, 1);
}

int sbuf_addspan(struct sbuf *sb, struct span s)
{
    return sbuf_add(sb, s.p, s.len);
}

int sbuf_vaddf(struct sbuf *sb, const char *fmt, va_list ap)
{
    va_list cp;
    char small[256];

    va_copy(cp, ap);
    int n = vsnprintf(small, sizeof(small), fmt, cp);
    va_end(cp);
    if (n < 0)
        return -1;
    if ((size_t)n < sizeof(small))
        return sbuf_add(sb, small, (size_t)n);
    if (sbuf_grow(sb, (size_t)n) < 0)
        return -1;
    vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
    sb->len += (size_t)n;
    return 0;
}

/*
 * The fast path: m = v * 10^decimals rounded to a double. When m is a whole number below
 * 2^40, the exact product is within half an ulp of m (at most 2^-13), so rounding v to
 * @decimals places, as printf does, gives m: its digits are the answer.
 */
int sbuf_add_fixed(struct sbuf *sb, double v, int decimals)
{
    static const double scale[] = { 1, 10, 100, 1000, 10000, 100000, 1000000 };

    if (decimals < 0 || decimals >= (int)(sizeof(scale) / sizeof(scale[0])) || !(v >= 0) ||
        (v == 0 && signbit(v)))
        return sbuf_addf(sb, "%.*f", decimals, v);
    double m = v * scale[decimals];
    if (!(m < 1099511627776.0) || m != (double)(uint64_t)m)
        return sbuf_addf(sb, "%.*f", decimals, v);
    uint64_t u = (uint64_t)m;
    char tmp[32];
    size_t i = sizeof(tmp);
    for (int k = 0; k < decimals; k++) {
        tmp[--i] = (char)('0' + u % 10);
        u /= 10;
    }
    if (decimals)
        tmp[--i] = '.';
    do {
        tmp[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    return sbuf_add(sb, tmp + i, sizeof(tmp) - i);
}

int sbuf_addf(struct sbuf *sb, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    int r = sbuf_vaddf(sb, fmt, ap);
    va_end(ap);
    return r;
}

void sbuf_consume(struct sbuf *sb, size_t n)
{
    if (n >= sb->len) {
        sbuf_reset(sb);
        return;
    }
    memmove(sb->buf, sb->buf + n, sb->len - n);
    sbuf_setlen(sb, sb->len - n);
}

char *sbuf_detach(struct sbuf *sb, size_t *len)
{
    char *p;

    if (len)
        *len = sb->len;
    p = sb->alloc ? sb->buf : xstrdup("");
    sbuf_init(sb, sb->max);
    return p;
}
