/* SPDX-License-Identifier: MIT */
#include <math.h>
#include <string.h>

#include "check.h"
#define TEST_RNG64_SEED 0x9e3779b97f4a7c15u
#include "rng.h"
#include "core/limits.h"
#include "core/xalloc.h"
#include "store/sketch.h"

/* Relative error allowed: alpha plus floating-point slack at bucket edges. */
#define TOL (SKETCH_ALPHA * (1 + 1e-9))

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* percentile_cont over sorted values: the reference the sketch must be within 1 % of. */
static double exact_quantile(const double *sorted, size_t n, double q)
{
    double r = q * (double)(n - 1);
    size_t lo = (size_t)r;
    double f = r - (double)lo;
    double v = sorted[lo];
    if (f > 0 && lo + 1 < n)
        v += f * (sorted[lo + 1] - v);
    return v;
}

static bool rel_close(double got, double want, double tol)
{
    if (want == 0)
        return got == 0;
    return fabs(got - want) <= tol * fabs(want);
}

static void check_quantiles(const double *vals, size_t n, const char *what)
{
    struct sketch sk = SKETCH_INIT;
    double *sorted = xmalloc(n * sizeof(*sorted));

    for (size_t i = 0; i < n; i++) {
        sketch_add(&sk, vals[i]);
        sorted[i] = vals[i];
    }
    qsort(sorted, n, sizeof(*sorted), cmp_double);
    CHECK_EQ_U64(sk.count, n);
    static const double qs[] = { 0, 0.01, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1 };
    for (size_t i = 0; i < ARRAY_SIZE(qs); i++) {
        double want = exact_quantile(sorted, n, qs[i]);
        double got = sketch_quantile(&sk, qs[i]);
        CHECK_MSG(rel_close(got, want, TOL), "%s n=%zu q=%g: sketch %.9g, exact %.9g (%.4f%%)",
                  what, n, qs[i], got, want, want ? 100 * fabs(got - want) / want : 0.0);
    }
    free(sorted);
    sketch_release(&sk);
}

static void test_quantiles_uniform(void)
{
    size_t sizes[] = { 1, 2, 3, 10, 101, 1000, 20000 };
    for (size_t s = 0; s < ARRAY_SIZE(sizes); s++) {
        double *v = xmalloc(sizes[s] * sizeof(*v));
        for (size_t i = 0; i < sizes[s]; i++)
            v[i] = 0.05 + 20 * uniform();
        check_quantiles(v, sizes[s], "uniform");
        free(v);
    }
}

static void test_quantiles_heavy_tailed(void)
{
    size_t n = 50000;
    double *v = xmalloc(n * sizeof(*v));
    /* Log-normal (typical statement latencies). */
    for (size_t i = 0; i < n; i++) {
        double z = sqrt(-2 * log(uniform())) * cos(2 * M_PI * uniform());
        v[i] = exp(0.5 + 2.0 * z);
    }
    check_quantiles(v, n, "lognormal");
    /* Pareto alpha = 1.1 (a few statements that take hours). */
    for (size_t i = 0; i < n; i++)
        v[i] = 0.01 * pow(uniform(), -1 / 1.1);
    check_quantiles(v, n, "pareto");
    /* Values as PostgreSQL logs them: milliseconds with 3 decimals, many ties. */
    for (size_t i = 0; i < n; i++)
        v[i] = (double)(rnd64() % 5000) / 1000.0;
    check_quantiles(v, n, "µs grid with zeros");
    free(v);
}

static void test_bucket_error_bound(void)
{
    for (int i = 0; i < 200000; i++) {
        double v = exp(-20 + 55 * uniform()); /* 2e-9 .. 1.7e15 */
        if (v < SKETCH_MIN_VALUE || v > SKETCH_MAX_VALUE)
            continue;
        double est = sketch_value(sketch_index(v));
        CHECK_MSG(rel_close(est, v, TOL), "v=%.17g est=%.17g", v, est);
    }
    /* Exact powers of gamma sit on a bucket edge. */
    double g = (1 + SKETCH_ALPHA) / (1 - SKETCH_ALPHA);
    for (int k = -100; k <= 100; k++) {
        double v = pow(g, k);
        CHECK(rel_close(sketch_value(sketch_index(v)), v, TOL));
    }
}

static void test_single_and_empty(void)
{
    struct sketch sk = SKETCH_INIT;
    CHECK(sketch_quantile(&sk, 0.5) == 0);
    sketch_add(&sk, 3.25);
    CHECK(sketch_quantile(&sk, 0) == 3.25);
    CHECK(sketch_quantile(&sk, 0.95) == 3.25);
    CHECK(sketch_quantile(&sk, 1) == 3.25);
    sketch_add(&sk, 0);
    sketch_add(&sk, -5);    /* counts as 0 */
    sketch_add(&sk, NAN);   /* counts as 0 */
    sketch_add(&sk, 1e300); /* clamped */
    CHECK_EQ_U64(sk.count, 5);
    CHECK_EQ_U64(sk.zero, 3);
    CHECK(sk.min == 0);
    CHECK(sk.max == SKETCH_MAX_VALUE);
    CHECK(sketch_quantile(&sk, 0.5) == 0);
    sketch_release(&sk);
}

static void encode(const struct sketch *sk, struct sbuf *out)
{
    sbuf_reset(out);
    CHECK(sketch_encode(sk, out) == 0);
}

static void test_merge_equals_union(void)
{
    struct sketch a = SKETCH_INIT, b = SKETCH_INIT, all = SKETCH_INIT;
    struct sbuf x = SBUF_INIT, y = SBUF_INIT;

    for (int round = 0; round < 50; round++) {
        sketch_clear(&a);
        sketch_clear(&b);
        sketch_clear(&all);
        int na = (int)(rnd64() % 300), nb = (int)(rnd64() % 300);
        for (int i = 0; i < na; i++) {
            double v = round % 5 == 0 ? 0 : exp(8 * uniform() - 3);
            sketch_add(&a, v);
            sketch_add(&all, v);
        }
        for (int i = 0; i < nb; i++) {
            double v = exp(10 * uniform() - 2);
            sketch_add(&b, v);
            sketch_add(&all, v);
        }
        sketch_merge(&a, &b);
        encode(&a, &x);
        encode(&all, &y);
        CHECK(x.len == y.len && memcmp(x.buf, y.buf, x.len) == 0);
        /* Merging a blob into an empty sketch reproduces it. */
        struct sketch c = SKETCH_INIT;
        encode(&b, &x);
        CHECK(sketch_merge_blob(&c, x.buf, x.len) == 0);
        encode(&c, &y);
        CHECK(x.len == y.len && memcmp(x.buf, y.buf, x.len) == 0);
        sketch_release(&c);
    }
    sketch_release(&a);
    sketch_release(&b);
    sketch_release(&all);
    sbuf_release(&x);
    sbuf_release(&y);
}

static void test_round_trip(void)
{
    struct sketch sk = SKETCH_INIT, back = SKETCH_INIT;
    struct sbuf x = SBUF_INIT, y = SBUF_INIT;

    encode(&sk, &x); /* empty */
    CHECK_EQ_INT(x.len, 3);
    CHECK(sketch_decode(&back, x.buf, x.len) == 0);
    CHECK_EQ_U64(back.count, 0);
    for (int i = 0; i < 5000; i++)
        sketch_add(&sk, i % 7 == 0 ? 0 : exp(12 * uniform() - 4));
    encode(&sk, &x);
    CHECK(sketch_decode(&back, x.buf, x.len) == 0);
    encode(&back, &y);
    CHECK(x.len == y.len && memcmp(x.buf, y.buf, x.len) == 0);
    CHECK_EQ_U64(back.count, sk.count);
    CHECK_EQ_U64(back.zero, sk.zero);
    CHECK(back.min == sk.min && back.max == sk.max);
    CHECK(sketch_quantile(&back, 0.95) == sketch_quantile(&sk, 0.95));
    /* Compact: ~1 % buckets over 12 e-folds is ~600 buckets, 2-4 bytes each. */
    CHECK_MSG(x.len < 4000, "blob is %zu bytes", x.len);
    sketch_release(&sk);
    sketch_release(&back);
    sbuf_release(&x);
    sbuf_release(&y);
}

static int decode_bytes(const unsigned char *p, size_t n)
{
    struct sketch sk = SKETCH_INIT;
    int rc = sketch_decode(&sk, p, n);
    if (rc == 0) {
        /* Whatever decoded must be usable. */
        (void)sketch_quantile(&sk, 0.99);
        CHECK(sk.n <= SIFT_MAX_SKETCH_BUCKETS);
    } else {
        CHECK_EQ_U64(sk.count, 0);
    }
    sketch_release(&sk);
    return rc;
}

static void test_hostile_blobs(void)
{
    struct sketch sk = SKETCH_INIT;
    struct sbuf x = SBUF_INIT;

    for (int i = 0; i < 100; i++)
        sketch_add(&sk, 1 + i);
    encode(&sk, &x);
    CHECK(decode_bytes((const unsigned char *)x.buf, x.len) == 0);
    /* Every truncation and one trailing byte are rejected. */
    for (size_t n = 0; n < x.len; n++)
        CHECK_MSG(decode_bytes((const unsigned char *)x.buf, n) < 0, "prefix of %zu bytes", n);
    CHECK(sbuf_addch(&x, 0) == 0);
    CHECK(decode_bytes((const unsigned char *)x.buf, x.len) < 0);
    sbuf_setlen(&x, x.len - 1);
    /* Bit flips never crash. */
    unsigned char *copy = xmalloc(x.len);
    for (size_t i = 0; i < x.len * 8; i++) {
        memcpy(copy, x.buf, x.len);
        copy[i / 8] ^= (unsigned char)(1u << (i % 8));
        (void)decode_bytes(copy, x.len);
    }
    free(copy);
    /* Crafted ones. */
    static const unsigned char wrong_version[] = { 2, 0, 0 };
    static const unsigned char overlong[] = { 1,    0x80, 0x80, 0x80, 0x80, 0x80,
                                              0x80, 0x80, 0x80, 0x80, 0x80, 0x01 };
    static const unsigned char too_many[] = { 1, 0, 0xff, 0xff, 0x03 };
    unsigned char zero_count[] = { 1,    0,    1, 0, 0, 0, 0,    0,    0,
                                   0xf0, 0x3f, /* min 1.0 */
                                   0,    0,    0, 0, 0, 0, 0xf0, 0x3f, /* max 1.0 */ 0,
                                   0 };
    unsigned char min_gt_max[] = { 1, 1, 0, 0, 0, 0, 0,    0,   0, 0x00, 0x40, /* min 2 */
                                   0, 0, 0, 0, 0, 0, 0xf0, 0x3f /* max 1 */ };
    unsigned char nan_min[] = {
        1, 1, 0, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f
    };
    unsigned char index_out_of_range[] = { 1, 0, 1, 0, 0, 0,    0,    0,    0,    0xf0, 0x3f, 0,
                                           0, 0, 0, 0, 0, 0xf0, 0x3f, 0xff, 0xff, 0x03, 1 };
    unsigned char ok_one[] = { 1, 0, 1, 0, 0, 0, 0,    0,    0, 0xf0, 0x3f,
                               0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 1 };
    unsigned char count_overflow[] = { 1,    0,    2,    0,    0,    0,    0,    0,    0,
                                       0xf0, 0x3f, 0,    0,    0,    0,    0,    0,    0xf0,
                                       0x3f, 0,    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                       0xff, 0xff, 0x01, 0,    0xff, 0xff, 0xff, 0xff, 0xff,
                                       0xff, 0xff, 0xff, 0xff, 0x01 };
    CHECK(decode_bytes(wrong_version, sizeof(wrong_version)) < 0);
    CHECK(decode_bytes(overlong, sizeof(overlong)) < 0);
    CHECK(decode_bytes(too_many, sizeof(too_many)) < 0);
    CHECK(decode_bytes(zero_count, sizeof(zero_count)) < 0);
    CHECK(decode_bytes(min_gt_max, sizeof(min_gt_max)) < 0);
    CHECK(decode_bytes(nan_min, sizeof(nan_min)) < 0);
    CHECK(decode_bytes(index_out_of_range, sizeof(index_out_of_range)) < 0);
    CHECK(decode_bytes(count_overflow, sizeof(count_overflow)) < 0);
    CHECK(decode_bytes(ok_one, sizeof(ok_one)) == 0);
    /* Random garbage. */
    unsigned char junk[64];
    for (int i = 0; i < 20000; i++) {
        size_t n = rnd64() % sizeof(junk);
        for (size_t j = 0; j < n; j++)
            junk[j] = (unsigned char)rnd64();
        if (n)
            junk[0] = 1; /* get past the version byte */
        (void)decode_bytes(junk, n);
    }
    /* merge_blob leaves dst unchanged on a bad blob. */
    uint64_t before = sk.count;
    CHECK(sketch_merge_blob(&sk, too_many, sizeof(too_many)) < 0);
    CHECK_EQ_U64(sk.count, before);
    sketch_release(&sk);
    sbuf_release(&x);
}

static void test_collapse_bounds_buckets(void)
{
    struct sketch sk = SKETCH_INIT;
    size_t n = 100000;
    double *v = xmalloc(n * sizeof(*v));

    /* 1e-9 .. 1e15 ms: ~2,760 buckets wanted, 2,048 allowed. */
    for (size_t i = 0; i < n; i++) {
        v[i] = exp(log(1e-9) + (log(1e15) - log(1e-9)) * uniform());
        sketch_add(&sk, v[i]);
    }
    CHECK(sk.n <= SIFT_MAX_SKETCH_BUCKETS);
    CHECK(sk.n >= SIFT_MAX_SKETCH_BUCKETS - 1);
    qsort(v, n, sizeof(*v), cmp_double);
    /* The high quantiles keep their accuracy. */
    CHECK(rel_close(sketch_quantile(&sk, 0.5), exact_quantile(v, n, 0.5), TOL));
    CHECK(rel_close(sketch_quantile(&sk, 0.99), exact_quantile(v, n, 0.99), TOL));
    /* Merging two collapsed sketches stays bounded too. */
    struct sketch other = SKETCH_INIT;
    for (size_t i = 0; i < 1000; i++)
        sketch_add(&other, 1e-9 * (1 + (double)i));
    sketch_merge(&sk, &other);
    CHECK(sk.n <= SIFT_MAX_SKETCH_BUCKETS);
    CHECK_EQ_U64(sk.count, n + 1000);
    free(v);
    sketch_release(&sk);
    sketch_release(&other);
}

/* sketch_add() puts each value in its own bucket (sketch_index()): after every add of
 * values from a few hundred distinct buckets, in random order and with repeats, the
 * buckets are strictly ascending and each count is the number of values added with that
 * index (a plain histogram), at every sketch size from empty to a few hundred buckets. */
static void test_buckets_exact(void)
{
    enum { LO = -400, HI = 600 };
    static uint64_t want[HI - LO];
    struct sketch sk = SKETCH_INIT;

    memset(want, 0, sizeof(want));
    for (size_t k = 0; k < 20000; k++) {
        double v = exp((double)((int)(rnd64() % (HI - LO - 2)) + LO + 1) * 0.0200006667 -
                       0.01 * uniform());
        int32_t i = sketch_index(v);
        CHECK(i > LO && i < HI);
        if (i <= LO || i >= HI)
            break;
        sketch_add(&sk, v);
        want[i - LO]++;
        if (k % 97 && k > 2000)
            continue;
        uint32_t b = 0;
        for (int32_t x = LO; x < HI; x++) {
            if (!want[x - LO])
                continue;
            CHECK_MSG(b < sk.n && sk.idx[b] == x && sk.cnt[b] == want[x - LO],
                      "after %zu adds: bucket %u", k + 1, b);
            b++;
        }
        CHECK_EQ_U64(b, sk.n);
    }
    sketch_release(&sk);
}

TEST_LIST = {
    { "quantiles_uniform", test_quantiles_uniform },
    { "quantiles_heavy_tailed", test_quantiles_heavy_tailed },
    { "bucket_error_bound", test_bucket_error_bound },
    { "single_and_empty", test_single_and_empty },
    { "merge_equals_union", test_merge_equals_union },
    { "round_trip", test_round_trip },
    { "hostile_blobs", test_hostile_blobs },
    { "collapse_bounds_buckets", test_collapse_bounds_buckets },
    { "buckets_exact", test_buckets_exact },
    { NULL, NULL },
};
