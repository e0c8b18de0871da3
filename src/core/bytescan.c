/* SPDX-License-Identifier: MIT */
/*
 * bytescan.c - the portable (SWAR) masks and the ASCII check; the SSE2 masks are
 * inline in bytescan.h.
 */
#include "core/bytescan.h"

bool bytescan_portable_only;

#define BS_ONES  UINT64_C(0x0101010101010101)
#define BS_HIGHS UINT64_C(0x8080808080808080)

/* 0x80 in each byte of @w equal to the byte broadcast in @pat, exact (no false
 * positives from borrows: the classic haszero test on each byte separately). */
static inline uint64_t match8(uint64_t w, uint64_t pat)
{
    uint64_t x = w ^ pat;
    return ~(((x & ~BS_HIGHS) + ~BS_HIGHS) | x | ~BS_HIGHS);
}

/* The 0x80 bits of @m (one per byte) gathered into the low 8 bits, byte i → bit i. */
static inline uint64_t gather8(uint64_t m)
{
    return ((m >> 7) * UINT64_C(0x0102040810204080)) >> 56;
}

/* Bytes 0..7 of @p as a word with byte i in bits 8i..8i+7 (any byte order). */
static inline uint64_t load8(const unsigned char *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

void bytescan_mask64_portable(const char *s, size_t n, unsigned char a, unsigned char b,
                              uint64_t *ma, uint64_t *mb)
{
    unsigned char pad[64];
    const unsigned char *w = (const unsigned char *)s;
    uint64_t xa = 0, xb = 0;
    const uint64_t pa = BS_ONES * a, pb = BS_ONES * b;

    if (n > 64)
        n = 64;
    if (n < 64) {
        memset(pad, 0, sizeof(pad));
        if (n)
            memcpy(pad, s, n);
        w = pad;
    }
    for (unsigned i = 0; i < 64; i += 8) {
        uint64_t v = load8(w + i);
        xa |= gather8(match8(v, pa)) << i;
        xb |= gather8(match8(v, pb)) << i;
    }
    if (n < 64) {
        uint64_t keep = (UINT64_C(1) << n) - 1;
        xa &= keep;
        xb &= keep;
    }
    *ma = xa;
    *mb = xb;
}

size_t bytescan_ascii_len(const char *s, size_t n)
{
    size_t i = 0;
#ifdef __SSE2__
    if (!bytescan_portable_only) {
        for (; i + 64 <= n; i += 64) {
            const __m128i *v = (const __m128i *)(const void *)(s + i);
            __m128i o = _mm_or_si128(_mm_or_si128(_mm_loadu_si128(v), _mm_loadu_si128(v + 1)),
                                     _mm_or_si128(_mm_loadu_si128(v + 2), _mm_loadu_si128(v + 3)));
            if (_mm_movemask_epi8(o))
                break; /* the 16-byte steps below find where */
        }
        for (; i + 16 <= n; i += 16) {
            int m = _mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(const void *)(s + i)));
            if (m)
                return i + (size_t)__builtin_ctz((unsigned)m);
        }
        if (i < n && n >= 16) {
            /* the last 1..15 bytes: the 16 ending at s + n, whose bytes before s + i are
             * known to be ASCII, so the first high bit is at or after i */
            int m = _mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(const void *)(s + n - 16)));
            return m ? n - 16 + (size_t)__builtin_ctz((unsigned)m) : n;
        }
    }
#endif
    for (; i + 8 <= n; i += 8)
        if (load8((const unsigned char *)s + i) & BS_HIGHS)
            break;
    for (; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return i;
    return n;
}
