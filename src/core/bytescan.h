/* SPDX-License-Identifier: MIT */
/*
 * bytescan - where two given byte values occur in a 64-byte window, as bit masks.
 *
 * Parsers that look for a few structural bytes (csvlog: '"' and ',') ask for the
 * positions of both in the next 64 bytes at once and then walk the set bits, instead
 * of testing every byte or restarting memchr() per field. On x86-64 (SSE2, the
 * baseline) this is four 16-byte compares per byte value; elsewhere a portable
 * 8-bytes-a-step (SWAR) version gives the same masks. Both are always compiled;
 * bytescan_portable_only (tests, fuzz targets) routes every call to the portable one so
 * that the two can be compared.
 *
 * Owns nothing; reads exactly s[0..n) (a short window is copied into a padded local
 * buffer, never read past its end).
 */
#ifndef SIFT_CORE_BYTESCAN_H
#define SIFT_CORE_BYTESCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Tests only: use the portable code even where SIMD is available. */
extern bool bytescan_portable_only;

/* Bit i of *ma is set iff s[i] == a, of *mb iff s[i] == b, for i < n (n ≤ 64); bits
 * from n on are clear. Portable (SWAR) version. */
void bytescan_mask64_portable(const char *s, size_t n, unsigned char a, unsigned char b,
                              uint64_t *ma, uint64_t *mb);

#ifdef __SSE2__
static inline uint64_t bytescan_eq16_(const char *s, __m128i pat)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
    return (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, pat));
}
#endif

/* The masks of a and b in s[0..n) (n ≤ 64), SSE2 where available. */
static inline void bytescan_mask64(const char *s, size_t n, unsigned char a, unsigned char b,
                                   uint64_t *ma, uint64_t *mb)
{
#ifdef __SSE2__
    if (!bytescan_portable_only) {
        char pad[64];
        const char *w = s;
        if (n < 64) {
            memset(pad, 0, sizeof(pad));
            if (n)
                memcpy(pad, s, n);
            w = pad;
        }
        const __m128i pa = _mm_set1_epi8((char)a), pb = _mm_set1_epi8((char)b);
        uint64_t xa = bytescan_eq16_(w, pa) | bytescan_eq16_(w + 16, pa) << 16 |
                      bytescan_eq16_(w + 32, pa) << 32 | bytescan_eq16_(w + 48, pa) << 48;
        uint64_t xb = bytescan_eq16_(w, pb) | bytescan_eq16_(w + 16, pb) << 16 |
                      bytescan_eq16_(w + 32, pb) << 32 | bytescan_eq16_(w + 48, pb) << 48;
        if (n < 64) {
            uint64_t keep = (UINT64_C(1) << n) - 1;
            xa &= keep;
            xb &= keep;
        }
        *ma = xa;
        *mb = xb;
        return;
    }
#endif
    bytescan_mask64_portable(s, n, a, b, ma, mb);
}

/* Length of the leading run of ASCII bytes (< 0x80) of s[0..n): n when all are ASCII.
 * 16 bytes a step with SSE2, 8 with the portable code. */
size_t bytescan_ascii_len(const char *s, size_t n);

#endif
