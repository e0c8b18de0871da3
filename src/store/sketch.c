/* SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "core/varint.h"
#include "core/xalloc.h"
#include "store/sketch.h"

/* ln(g) with g = (1 + 0.01) / (1 - 0.01) = 101/99. */
#define LN_GAMMA 0.020000666706669435
/* Bounds of the index of a value in [SKETCH_MIN_VALUE, SKETCH_MAX_VALUE], with slack:
 * a blob whose indexes fall outside is rejected. */
#define INDEX_LO (-1040)
#define INDEX_HI 1730

_Static_assert(SIFT_MAX_SKETCH_BUCKETS >= 2, "collapsing needs two buckets");

void sketch_init(struct sketch *sk)
{
    *sk = (struct sketch)SKETCH_INIT;
}

void sketch_release(struct sketch *sk)
{
    free(sk->idx);
    free(sk->cnt);
    sketch_init(sk);
}

void sketch_clear(struct sketch *sk)
{
    sk->count = sk->zero = 0;
    sk->min = sk->max = 0;
    sk->n = 0;
}

int32_t sketch_index(double v)
{
    if (v > SKETCH_MAX_VALUE)
        v = SKETCH_MAX_VALUE;
    return (int32_t)ceil(log(v) / LN_GAMMA);
}

double sketch_value(int32_t index)
{
    /* 2 g^i / (g + 1) == (1 - alpha) g^i: within alpha of all of (g^(i-1), g^i]. */
    return (1.0 - SKETCH_ALPHA) * exp((double)index * LN_GAMMA);
}

static void reserve(struct sketch *sk, uint32_t need)
{
    if (need <= sk->alloc)
        return;
    uint32_t alloc = sk->alloc ? sk->alloc : 8;
    while (alloc < need)
        alloc *= 2;
    sk->idx = xrealloc(sk->idx, alloc * sizeof(*sk->idx));
    sk->cnt = xrealloc(sk->cnt, alloc * sizeof(*sk->cnt));
    sk->alloc = alloc;
}

/* Keep at most SIFT_MAX_SKETCH_BUCKETS buckets by folding the lowest into the next. */
static void collapse(struct sketch *sk)
{
    if (sk->n <= SIFT_MAX_SKETCH_BUCKETS)
        return;
    uint32_t drop = sk->n - SIFT_MAX_SKETCH_BUCKETS;
    uint64_t folded = 0;
    for (uint32_t i = 0; i < drop; i++)
        folded += sk->cnt[i];
    sk->cnt[drop] += folded;
    memmove(sk->idx, sk->idx + drop, (sk->n - drop) * sizeof(*sk->idx));
    memmove(sk->cnt, sk->cnt + drop, (sk->n - drop) * sizeof(*sk->cnt));
    sk->n -= drop;
}

static void note_extremes(struct sketch *sk, double v)
{
    if (sk->count == 0) {
        sk->min = sk->max = v;
    } else {
        if (v < sk->min)
            sk->min = v;
        if (v > sk->max)
            sk->max = v;
    }
}

void sketch_add(struct sketch *sk, double v)
{
    if (!(v > 0)) /* NaN, negative, zero */
        v = 0;
    if (v > SKETCH_MAX_VALUE)
        v = SKETCH_MAX_VALUE;
    note_extremes(sk, v);
    sk->count++;
    if (v < SKETCH_MIN_VALUE) {
        sk->zero++;
        return;
    }
    /* sketch_index() is a log() per value; durations repeat (logged to the µs), so a
     * small per-thread table remembers the last index per value (keyed by its bits). */
    static _Thread_local struct {
        uint64_t bits;
        int32_t index;
        bool set;
    } memo[256];
    uint64_t bits;
    memcpy(&bits, &v, sizeof(bits));
    size_t slot = (size_t)((bits * 0x9E3779B97F4A7C15ull) >> 56);
    int32_t i;
    if (memo[slot].set && memo[slot].bits == bits) {
        i = memo[slot].index;
    } else {
        i = sketch_index(v);
        memo[slot].bits = bits;
        memo[slot].index = i;
        memo[slot].set = true;
    }
    /* The first bucket >= i: a binary search whose step is a conditional move, not a
     * branch (the durations of one key scatter over its buckets, so a branch on the
     * compare is mispredicted half the time). The answer stays in [lo, lo + len]. */
    uint32_t lo = 0, len = sk->n;
    while (len > 1) {
        uint32_t half = len / 2;
        lo = sk->idx[lo + half - 1] < i ? lo + half : lo;
        len -= half;
    }
    if (len == 1 && sk->idx[lo] < i)
        lo++;
    if (lo < sk->n && sk->idx[lo] == i) {
        sk->cnt[lo]++;
        return;
    }
    reserve(sk, sk->n + 1);
    memmove(sk->idx + lo + 1, sk->idx + lo, (sk->n - lo) * sizeof(*sk->idx));
    memmove(sk->cnt + lo + 1, sk->cnt + lo, (sk->n - lo) * sizeof(*sk->cnt));
    sk->idx[lo] = i;
    sk->cnt[lo] = 1;
    sk->n++;
    collapse(sk);
}

void sketch_merge(struct sketch *dst, const struct sketch *src)
{
    if (src->count == 0)
        return;
    if (dst->count == 0) {
        dst->min = src->min;
        dst->max = src->max;
    } else {
        if (src->min < dst->min)
            dst->min = src->min;
        if (src->max > dst->max)
            dst->max = src->max;
    }
    dst->count += src->count;
    dst->zero += src->zero;
    if (src->n == 0)
        return;

    /* Merge from the back so that dst can be extended in place. */
    uint32_t common = 0;
    for (uint32_t a = 0, b = 0; a < dst->n && b < src->n;) {
        if (dst->idx[a] == src->idx[b]) {
            common++;
            a++;
            b++;
        } else if (dst->idx[a] < src->idx[b]) {
            a++;
        } else {
            b++;
        }
    }
    uint32_t total = dst->n + src->n - common;
    reserve(dst, total);
    int64_t a = (int64_t)dst->n - 1, b = (int64_t)src->n - 1, w = (int64_t)total - 1;
    while (b >= 0) {
        if (a >= 0 && dst->idx[a] > src->idx[b]) {
            dst->idx[w] = dst->idx[a];
            dst->cnt[w] = dst->cnt[a];
            a--;
        } else if (a >= 0 && dst->idx[a] == src->idx[b]) {
            dst->idx[w] = dst->idx[a];
            dst->cnt[w] = dst->cnt[a] + src->cnt[b];
            a--;
            b--;
        } else {
            dst->idx[w] = src->idx[b];
            dst->cnt[w] = src->cnt[b];
            b--;
        }
        w--;
    }
    dst->n = total;
    collapse(dst);
}

/* The value at 0-based rank k (k < count). */
static double value_at(const struct sketch *sk, uint64_t k)
{
    if (k == 0)
        return sk->min;
    if (k + 1 >= sk->count)
        return sk->max;
    double v = sk->max;
    uint64_t c = sk->zero;
    if (k < c) {
        v = 0;
    } else {
        for (uint32_t i = 0; i < sk->n; i++) {
            c += sk->cnt[i];
            if (k < c) {
                v = sketch_value(sk->idx[i]);
                break;
            }
        }
    }
    if (v < sk->min)
        v = sk->min;
    if (v > sk->max)
        v = sk->max;
    return v;
}

double sketch_quantile(const struct sketch *sk, double q)
{
    if (sk->count == 0)
        return 0;
    if (!(q > 0))
        q = 0;
    if (q > 1)
        q = 1;
    double r = q * (double)(sk->count - 1);
    /* (double)(count - 1) rounds up to 2^64 for counts near UINT64_MAX (a corrupt or
     * hostile blob): converting that back is undefined, so clamp in double first. */
    uint64_t lo = r >= 0x1p64 ? sk->count - 1 : (uint64_t)r;
    if (lo > sk->count - 1)
        lo = sk->count - 1;
    double f = r - (double)lo;
    double v = value_at(sk, lo);
    if (f > 0 && lo + 1 < sk->count)
        v += f * (value_at(sk, lo + 1) - v);
    return v;
}

/* ---- serialisation ---- */

static int put_varint(struct sbuf *out, uint64_t v)
{
    unsigned char b[VARINT_MAX_BYTES];
    return sbuf_add(out, b, (size_t)(varint_put(b, v) - b));
}

static int put_double(struct sbuf *out, double d)
{
    uint64_t u;
    unsigned char b[8];
    memcpy(&u, &d, sizeof(u));
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(u >> (8 * i));
    return sbuf_add(out, b, 8);
}

int sketch_encode(const struct sketch *sk, struct sbuf *out)
{
    unsigned char version = SKETCH_VERSION;
    if (sbuf_add(out, &version, 1) < 0 || put_varint(out, sk->zero) < 0 ||
        put_varint(out, sk->n) < 0)
        return -1;
    if (sk->count > 0 && (put_double(out, sk->min) < 0 || put_double(out, sk->max) < 0))
        return -1;
    for (uint32_t i = 0; i < sk->n; i++) {
        /* The first index absolute (zig-zag), then gaps minus one: strictly ascending by
         * construction. */
        uint64_t d =
            i == 0 ? zigzag_encode(sk->idx[0]) : (uint64_t)(sk->idx[i] - sk->idx[i - 1] - 1);
        if (put_varint(out, d) < 0 || put_varint(out, sk->cnt[i]) < 0)
            return -1;
    }
    return 0;
}

struct reader {
    const unsigned char *p, *end;
};

static int get_varint(struct reader *r, uint64_t *out)
{
    return varint_get(&r->p, r->end, out) ? 0 : -1;
}

static int get_double(struct reader *r, double *out)
{
    if (r->end - r->p < 8)
        return -1;
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u |= (uint64_t)r->p[i] << (8 * i);
    r->p += 8;
    memcpy(out, &u, sizeof(*out));
    return 0;
}

int sketch_decode(struct sketch *sk, const void *blob, size_t len)
{
    struct reader r = { blob, (const unsigned char *)blob + len };
    uint64_t zero, n;

    sketch_clear(sk);
    if (len < 1 || *r.p++ != SKETCH_VERSION || get_varint(&r, &zero) < 0 ||
        get_varint(&r, &n) < 0 || n > SIFT_MAX_SKETCH_BUCKETS)
        goto bad;
    double mn = 0, mx = 0;
    if (zero > 0 || n > 0) {
        if (get_double(&r, &mn) < 0 || get_double(&r, &mx) < 0)
            goto bad;
        if (!(mn >= 0) || !(mx >= mn) || !(mx <= SKETCH_MAX_VALUE))
            goto bad;
    }
    reserve(sk, (uint32_t)n);
    uint64_t count = zero;
    int64_t prev = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t d, c;
        if (get_varint(&r, &d) < 0 || get_varint(&r, &c) < 0 || c == 0)
            goto bad;
        int64_t idx;
        if (i == 0) {
            idx = zigzag_decode(d);
        } else {
            if (d > (uint64_t)(INDEX_HI - INDEX_LO))
                goto bad;
            idx = prev + 1 + (int64_t)d;
        }
        if (idx < INDEX_LO || idx > INDEX_HI || count > UINT64_MAX - c)
            goto bad;
        count += c;
        sk->idx[i] = (int32_t)idx;
        sk->cnt[i] = c;
        prev = idx;
    }
    if (r.p != r.end)
        goto bad;
    sk->n = (uint32_t)n;
    sk->zero = zero;
    sk->count = count;
    sk->min = mn;
    sk->max = mx;
    return 0;
bad:
    sketch_clear(sk);
    return -1;
}

int sketch_merge_blob(struct sketch *dst, const void *blob, size_t len)
{
    struct sketch tmp = SKETCH_INIT;
    int rc = sketch_decode(&tmp, blob, len);
    if (rc == 0)
        sketch_merge(dst, &tmp);
    sketch_release(&tmp);
    return rc;
}
