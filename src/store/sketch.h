/* SPDX-License-Identifier: MIT */
/*
 * sketch - a mergeable latency sketch with bounded relative error (DDSketch-style).
 *
 * Values (milliseconds) fall into logarithmic buckets: bucket i holds (g^(i-1), g^i]
 * with g = (1 + a) / (1 - a), a = SKETCH_ALPHA = 1 %. A bucket is answered by
 * 2 g^i / (g + 1), which is within a of every value in it, so any quantile read from a
 * sketch is within 1 % of the true value at that rank. Buckets are counts only, so two
 * sketches merge by adding counts: the sketch of minutes merged is the sketch of the
 * hour, exactly (the property roll-ups and arbitrary windows rely on).
 *
 * Values below SKETCH_MIN_VALUE (including 0) go to a zero bucket; values above
 * SKETCH_MAX_VALUE are clamped. The exact min and max are kept, and quantiles are
 * clamped into [min, max]. The number of buckets is bounded by SIFT_MAX_SKETCH_BUCKETS
 * (core/limits.h): beyond it the lowest buckets are collapsed into one, which costs
 * accuracy at the low quantiles only (p50/p95/p99 keep theirs).
 *
 * Owns: its bucket arrays (heap). Calling sequence:
 *   sketch_init() -> (sketch_add() | sketch_merge() | sketch_decode())* ->
 *   sketch_quantile() / sketch_encode() -> sketch_release()
 */
#ifndef SIFT_STORE_SKETCH_H
#define SIFT_STORE_SKETCH_H

#include <stddef.h>
#include <stdint.h>

#include "core/compat.h"
#include "core/sbuf.h"

#define SKETCH_ALPHA     0.01
#define SKETCH_MIN_VALUE 1e-9 /* ms: below is "zero" (durations are logged in µs) */
#define SKETCH_MAX_VALUE 1e15 /* ms: ~31,700 years; larger values are clamped */

/* Encoding version byte (the first byte of every blob). A new alpha or layout gets a
 * new version; old blobs stay readable. */
#define SKETCH_VERSION 1

struct sketch {
    uint64_t count; /* all values, zero bucket included */
    uint64_t zero;  /* values < SKETCH_MIN_VALUE */
    double min, max;
    int32_t *idx;  /* bucket indexes, strictly ascending */
    uint64_t *cnt; /* counts, each >= 1 */
    uint32_t n, alloc;
};

#define SKETCH_INIT                  \
    {                                \
        0, 0, 0, 0, NULL, NULL, 0, 0 \
    }

void sketch_init(struct sketch *sk);
void sketch_release(struct sketch *sk); /* frees; sk is empty and reusable */
void sketch_clear(struct sketch *sk);   /* empties, keeps the arrays */

/* Add one value (NaN and negative values count as 0). */
void sketch_add(struct sketch *sk, double v);

/* dst += src. */
void sketch_merge(struct sketch *dst, const struct sketch *src);

/* The q-quantile (0 <= q <= 1), interpolated linearly between the values at ranks
 * floor(q (n-1)) and ceil(q (n-1)) as PostgreSQL's percentile_cont() does. Returns 0
 * for an empty sketch. */
double sketch_quantile(const struct sketch *sk, double q);

/* Append the serialised sketch to @out: version byte, varint zero count, varint bucket
 * count, min and max (IEEE doubles, 8 bytes little endian, when there is any value), then
 * per bucket the index (the first zig-zag encoded, then the gap to the previous minus
 * one, so indexes are ascending by construction) and the count, as varints. Returns -1
 * if @out's cap is hit. */
SIFT_WUR int sketch_encode(const struct sketch *sk, struct sbuf *out);

/* Replace @sk by the blob's sketch. Returns 0, or -1 for a malformed blob (wrong
 * version, truncated, bad varint, indexes out of order or range, too many buckets,
 * count overflow, trailing bytes); @sk is then empty. Never reads past len. */
SIFT_WUR int sketch_decode(struct sketch *sk, const void *blob, size_t len);

/* Merge a serialised sketch into @dst (decode + merge, without a temporary when the
 * caller keeps one around). Returns -1 for a malformed blob (dst unchanged). */
SIFT_WUR int sketch_merge_blob(struct sketch *dst, const void *blob, size_t len);

/* The bucket a value falls into and the value a bucket answers (for tests). */
int32_t sketch_index(double v);
double sketch_value(int32_t index);

#endif
