/* SPDX-License-Identifier: MIT */
/*
 * fuzz_sketch - arbitrary bytes as a stored latency sketch (store/sketch.h), the blob a
 * hostile or corrupt store file could hold, and as a series of durations.
 *
 * The first byte picks the mode. Mode 0: decode the rest; a blob that decodes must
 * re-encode to a blob that decodes to the same sketch, its quantiles must lie within
 * [min, max] and merging it with itself must double its count. Mode 1: the rest is a
 * series of doubles; the sketch of them must survive encode/decode unchanged and stay
 * within its bucket bound.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "store/sketch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_sketch: %s\n", what);
        abort();
    }
}

static void check_sane(const struct sketch *sk)
{
    require(sk->n <= SIFT_MAX_SKETCH_BUCKETS, "too many buckets");
    uint64_t total = sk->zero;
    for (uint32_t i = 0; i < sk->n; i++) {
        require(sk->cnt[i] > 0, "empty bucket");
        require(i == 0 || sk->idx[i] > sk->idx[i - 1], "buckets out of order");
        total += sk->cnt[i];
    }
    require(total == sk->count, "count mismatch");
    for (int q = 0; q <= 100; q += 5) {
        double v = sketch_quantile(sk, q / 100.0);
        require(sk->count == 0 || (v >= sk->min && v <= sk->max), "quantile out of range");
    }
}

static void round_trip(const struct sketch *sk)
{
    struct sbuf a = SBUF_INIT, b = SBUF_INIT;
    struct sketch back = SKETCH_INIT;
    require(sketch_encode(sk, &a) == 0, "encode failed");
    require(sketch_decode(&back, a.buf, a.len) == 0, "own blob rejected");
    require(back.count == sk->count && back.n == sk->n && back.zero == sk->zero,
            "round trip changed the sketch");
    require(sketch_encode(&back, &b) == 0 && a.len == b.len && !memcmp(a.buf, b.buf, a.len),
            "encoding not stable");
    sketch_release(&back);
    sbuf_release(&a);
    sbuf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    struct sketch sk = SKETCH_INIT;
    if (data[0] & 1) {
        for (size_t i = 1; i + 8 <= size; i += 8) {
            double v;
            memcpy(&v, data + i, 8);
            sketch_add(&sk, v);
        }
        check_sane(&sk);
        round_trip(&sk);
    } else if (sketch_decode(&sk, data + 1, size - 1) == 0) {
        check_sane(&sk);
        round_trip(&sk);
        struct sketch twice = SKETCH_INIT;
        sketch_merge(&twice, &sk);
        sketch_merge(&twice, &sk);
        require(twice.count == 2 * sk.count, "merge lost values");
        check_sane(&twice);
        sketch_release(&twice);
    } else {
        require(sk.count == 0, "a rejected blob left values");
    }
    sketch_release(&sk);
    return 0;
}
