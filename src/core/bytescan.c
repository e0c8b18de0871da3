/* SPDX-License-Identifier: MIT */
/*
 * bytescan.c - the portable (SWAR) masks, the AVX2 ones behind a call, and the ASCII
 * check; the SSE2 masks and the three-byte AVX2 mask are inline in bytescan.h.
 */
#include "core/bytescan.h"

bool bytescan_portable_only;
bool bytescan_avx2;

#ifdef BYTESCAN_HAVE_AVX2
__attribute__((constructor)) static void bytescan_detect(void)
{
    __builtin_cpu_init();
    bytescan_avx2 = __builtin_cpu_supports("avx2");
}

__attribute__((target("avx2"))) static inline void
mask64_avx2(const char *s, unsigned char a, unsigned char b, uint64_t *ma, uint64_t *mb)
{
    const __m256i pa = _mm256_set1_epi8((char)a), pb = _mm256_set1_epi8((char)b);
    __m256i v0 = _mm256_loadu_si256((const __m256i *)(const void *)s);
    __m256i v1 = _mm256_loadu_si256((const __m256i *)(const void *)(s + 32));
    *ma = (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v0, pa)) |
          (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v1, pa)) << 32;
    *mb = (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v0, pb)) |
          (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v1, pb)) << 32;
}

__attribute__((target("avx2"))) void bytescan_mask64_avx2(const char *s, size_t n, const char *lo,
                                                          unsigned char a, unsigned char b,
                                                          uint64_t *ma, uint64_t *mb)
{
    if (n == 64) {
        mask64_avx2(s, a, b, ma, mb);
        return;
    }
    if (n && (size_t)(s + n - lo) >= 64) {
        /* the 64 bytes ending at s + n, reaching back into readable bytes */
        uint64_t xa, xb;
        mask64_avx2(s + n - 64, a, b, &xa, &xb);
        *ma = xa >> (64 - n);
        *mb = xb >> (64 - n);
        return;
    }
    bytescan_mask64_sse2(s, n, lo, a, b, ma, mb); /* a short window at the start */
}

__attribute__((target("avx2"))) uint64_t
bytescan_mask64x_avx2(const char *s, size_t n, const char *lo, unsigned char a, unsigned char b,
                      unsigned char c, uint64_t *ma, uint64_t *mb, uint64_t *mc)
{
    return bytescan_mask64x_avx2_inline(s, n, lo, a, b, c, ma, mb, mc);
}
#else
uint64_t bytescan_mask64x_avx2(const char *s, size_t n, const char *lo, unsigned char a,
                               unsigned char b, unsigned char c, uint64_t *ma, uint64_t *mb,
                               uint64_t *mc)
{
    (void)lo;
    return bytescan_mask64x_portable(s, n, a, b, c, ma, mb, mc);
}

void bytescan_mask64_avx2(const char *s, size_t n, const char *lo, unsigned char a, unsigned char b,
                          uint64_t *ma, uint64_t *mb)
{
    (void)lo;
    bytescan_mask64_portable(s, n, a, b, ma, mb);
}
#endif

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

uint64_t bytescan_mask64x_portable(const char *s, size_t n, unsigned char a, unsigned char b,
                                   unsigned char c, uint64_t *ma, uint64_t *mb, uint64_t *mc)
{
    uint64_t xh = 0, dummy;
    unsigned char pad[64];
    const unsigned char *w = (const unsigned char *)s;

    if (n > 64)
        n = 64;
    bytescan_mask64_portable(s, n, a, b, ma, mb);
    bytescan_mask64_portable(s, n, c, c, mc, &dummy);
    if (n < 64) {
        memset(pad, 0, sizeof(pad));
        if (n)
            memcpy(pad, s, n);
        w = pad;
    }
    for (unsigned i = 0; i < 64; i += 8)
        xh |= gather8(load8(w + i) & BS_HIGHS) << i;
    return xh;
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
