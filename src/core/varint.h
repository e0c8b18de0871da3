/* SPDX-License-Identifier: MIT */
/*
 * varint - the compact integers of the store's own encodings (latency sketches, event
 * blocks, plan-call blocks, ingest checkpoints): unsigned LEB128 (seven bits a byte, low
 * first, the high bit set on every byte but the last) and zig-zag for signed values
 * (0, -1, 1, -2, ... -> 0, 1, 2, 3, ...), so small magnitudes of either sign take one byte.
 *
 * Owns nothing. Decoding is strict: a value that runs past @end or past 64 bits is an
 * error, never a truncated number (the bytes come from a file on disk: untrusted).
 */
#ifndef SIFT_CORE_VARINT_H
#define SIFT_CORE_VARINT_H

#include <stdbool.h>
#include <stdint.h>

#define VARINT_MAX_BYTES 10 /* a uint64_t takes at most ten bytes */

/* Write @v at @w (room for VARINT_MAX_BYTES); returns the byte after it. */
static inline unsigned char *varint_put(unsigned char *w, uint64_t v)
{
    while (v >= 0x80) {
        *w++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *w++ = (unsigned char)v;
    return w;
}

/* Read a value at *@p (before @end) into @out and move *@p past it; false when it runs
 * past @end or does not fit 64 bits (then *@p and @out are unspecified). */
static inline bool varint_get(const unsigned char **p, const unsigned char *end, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (*p >= end)
            return false;
        unsigned char b = *(*p)++;
        if (shift == 63 && b > 1)
            return false; /* beyond 64 bits */
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

static inline uint64_t zigzag_encode(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t zigzag_decode(uint64_t u)
{
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

#endif
