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
 * that the two can be compared. Where the CPU has AVX2 (checked once at start-up,
 * bytescan_avx2) the 64-byte masks take two 32-byte compares per byte value instead of
 * four, and a short window that has 64 readable bytes before its end is loaded as those
 * 64 bytes and shifted; tests turn bytescan_avx2 off to compare it with SSE2.
 *
 * Owns nothing; never reads past s + n (a short window is loaded backwards from its
 * end into bytes the caller says are readable, or copied into a padded buffer).
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

/* The CPU has AVX2: bytescan_mask64() uses bytescan_mask64_avx2(). Set before main()
 * (x86-64 with GCC or clang; false elsewhere); tests may clear it to test SSE2. */
extern bool bytescan_avx2;

/* The AVX2 code is to be used: the CPU has it and the tests have not asked for the
 * portable code. What every AVX2 choice asks (the masks below, csvlog's split). */
static inline bool bytescan_use_avx2(void)
{
    return bytescan_avx2 && !bytescan_portable_only;
}

/* bytescan_mask64() with AVX2; only call it when bytescan_avx2 is true. */
void bytescan_mask64_avx2(const char *s, size_t n, const char *lo, unsigned char a, unsigned char b,
                          uint64_t *ma, uint64_t *mb);

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

#ifdef __SSE2__
/* One 16-byte chunk at @c of which only the first @r (1..15) bytes are the caller's:
 * loaded as the 16 bytes ending at c + r when they start at or after @lo, else copied. */
static inline void bytescan_part16_(const char *c, size_t r, const char *lo, __m128i pa, __m128i pb,
                                    uint64_t *xa, uint64_t *xb)
{
    if ((size_t)(c + r - lo) >= 16) {
        const char *w = c + r - 16;
        *xa = bytescan_eq16_(w, pa) >> (16 - r);
        *xb = bytescan_eq16_(w, pb) >> (16 - r);
        return;
    }
    char pad[16];
    memset(pad, 0, sizeof(pad));
    memcpy(pad, c, r);
    *xa = bytescan_eq16_(pad, pa) & ((UINT64_C(1) << r) - 1);
    *xb = bytescan_eq16_(pad, pb) & ((UINT64_C(1) << r) - 1);
}
#endif

#ifdef __SSE2__
/* bytescan_mask64() with SSE2. */
static inline void bytescan_mask64_sse2(const char *s, size_t n, const char *lo, unsigned char a,
                                        unsigned char b, uint64_t *ma, uint64_t *mb)
{
    const __m128i pa = _mm_set1_epi8((char)a), pb = _mm_set1_epi8((char)b);
    if (n == 64) {
        *ma = bytescan_eq16_(s, pa) | bytescan_eq16_(s + 16, pa) << 16 |
              bytescan_eq16_(s + 32, pa) << 32 | bytescan_eq16_(s + 48, pa) << 48;
        *mb = bytescan_eq16_(s, pb) | bytescan_eq16_(s + 16, pb) << 16 |
              bytescan_eq16_(s + 32, pb) << 32 | bytescan_eq16_(s + 48, pb) << 48;
        return;
    }
    uint64_t xa = 0, xb = 0;
    size_t k = 0;
    for (; k + 16 <= n; k += 16) {
        xa |= bytescan_eq16_(s + k, pa) << k;
        xb |= bytescan_eq16_(s + k, pb) << k;
    }
    if (k < n) {
        uint64_t ya, yb;
        bytescan_part16_(s + k, n - k, lo, pa, pb, &ya, &yb);
        xa |= ya << k;
        xb |= yb << k;
    }
    *ma = xa;
    *mb = xb;
}
#endif

/* The masks of a and b in s[0..n) (n ≤ 64): AVX2 or SSE2 where available. The bytes from
 * @lo (≤ s) up to s are readable too: a short window is loaded ending at s + n, reaching
 * back into them, instead of being copied. */
static inline void bytescan_mask64(const char *s, size_t n, const char *lo, unsigned char a,
                                   unsigned char b, uint64_t *ma, uint64_t *mb)
{
#ifdef __SSE2__
    if (bytescan_use_avx2()) {
        bytescan_mask64_avx2(s, n, lo, a, b, ma, mb);
        return;
    }
    if (!bytescan_portable_only) {
        bytescan_mask64_sse2(s, n, lo, a, b, ma, mb);
        return;
    }
#endif
    (void)lo;
    bytescan_mask64_portable(s, n, a, b, ma, mb);
}

/* bytescan_mask64() for three byte values (@a, @b, @c → *ma, *mb, *mc) that also returns
 * the mask of the bytes >= 0x80 (bit i set iff s[i] >= 0x80, for i < n): a parser that
 * sees every byte of a record in its windows (csvlog: '"', ',' and '\n') knows from the
 * OR of these whether the record is ASCII, without another pass. */
uint64_t bytescan_mask64x_avx2(const char *s, size_t n, const char *lo, unsigned char a,
                               unsigned char b, unsigned char c, uint64_t *ma, uint64_t *mb,
                               uint64_t *mc);
uint64_t bytescan_mask64x_portable(const char *s, size_t n, unsigned char a, unsigned char b,
                                   unsigned char c, uint64_t *ma, uint64_t *mb, uint64_t *mc);

#ifdef __SSE2__
static inline void bytescan_eq16x_(__m128i v, __m128i pa, __m128i pb, __m128i pc, uint64_t *x)
{
    x[0] = (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, pa));
    x[1] = (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, pb));
    x[2] = (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, pc));
    x[3] = (uint64_t)(uint32_t)_mm_movemask_epi8(v);
}

/* bytescan_mask64x() with SSE2. */
static inline uint64_t bytescan_mask64x_sse2(const char *s, size_t n, const char *lo,
                                             unsigned char a, unsigned char b, unsigned char c,
                                             uint64_t *ma, uint64_t *mb, uint64_t *mc)
{
    const __m128i pa = _mm_set1_epi8((char)a), pb = _mm_set1_epi8((char)b),
                  pc = _mm_set1_epi8((char)c);
    uint64_t x[4] = { 0, 0, 0, 0 }, y[4];
    size_t k = 0;
    for (; k + 16 <= n; k += 16) {
        bytescan_eq16x_(_mm_loadu_si128((const __m128i *)(const void *)(s + k)), pa, pb, pc, y);
        for (int i = 0; i < 4; i++)
            x[i] |= y[i] << k;
    }
    if (k < n) {
        size_t r = n - k;
        const char *w = s + k;
        if ((size_t)(w + r - lo) >= 16) {
            bytescan_eq16x_(_mm_loadu_si128((const __m128i *)(const void *)(w + r - 16)), pa, pb,
                            pc, y);
            for (int i = 0; i < 4; i++)
                x[i] |= y[i] >> (16 - r) << k;
        } else {
            char pad[16];
            uint64_t keep = (UINT64_C(1) << r) - 1;
            memset(pad, 0, sizeof(pad));
            memcpy(pad, w, r);
            bytescan_eq16x_(_mm_loadu_si128((const __m128i *)(const void *)pad), pa, pb, pc, y);
            for (int i = 0; i < 4; i++)
                x[i] |= (y[i] & keep) << k;
        }
    }
    *ma = x[0];
    *mb = x[1];
    *mc = x[2];
    return x[3];
}
#endif

#if defined(__x86_64__) && defined(__SSE2__) && (defined(__GNUC__) || defined(__clang__))
#define BYTESCAN_HAVE_AVX2 1
#include <immintrin.h>

/* bytescan_mask64x_avx2() inline, for callers compiled for AVX2 themselves (a function
 * with __attribute__((target("avx2"))), called only when bytescan_avx2): csvlog's split
 * calls it once per 64 bytes, where a call and the masks passed through memory cost
 * as much as the compares. */
__attribute__((target("avx2"))) static inline uint64_t
bytescan_mask64x_avx2_inline(const char *s, size_t n, const char *lo, unsigned char a,
                             unsigned char b, unsigned char c, uint64_t *ma, uint64_t *mb,
                             uint64_t *mc)
{
    if (n == 64 || (n && (size_t)(s + n - lo) >= 64)) {
        /* the window, or the 64 bytes ending at s + n reaching back into readable bytes */
        const __m256i pa = _mm256_set1_epi8((char)a), pb = _mm256_set1_epi8((char)b),
                      pc = _mm256_set1_epi8((char)c);
        const char *w = s + n - 64;
        __m256i v0 = _mm256_loadu_si256((const __m256i *)(const void *)w);
        __m256i v1 = _mm256_loadu_si256((const __m256i *)(const void *)(w + 32));
#define BS_MASK2(x0, x1)                                                                         \
    ((uint64_t)(uint32_t)_mm256_movemask_epi8(x0) | (uint64_t)(uint32_t)_mm256_movemask_epi8(x1) \
                                                        << 32)
        uint64_t xa = BS_MASK2(_mm256_cmpeq_epi8(v0, pa), _mm256_cmpeq_epi8(v1, pa));
        uint64_t xb = BS_MASK2(_mm256_cmpeq_epi8(v0, pb), _mm256_cmpeq_epi8(v1, pb));
        uint64_t xc = BS_MASK2(_mm256_cmpeq_epi8(v0, pc), _mm256_cmpeq_epi8(v1, pc));
        uint64_t xh = BS_MASK2(v0, v1);
#undef BS_MASK2
        unsigned sh = (unsigned)(64 - n);
        *ma = xa >> sh;
        *mb = xb >> sh;
        *mc = xc >> sh;
        return xh >> sh;
    }
    return bytescan_mask64x_sse2(s, n, lo, a, b, c, ma, mb, mc); /* a short window at the start */
}
#endif

static inline uint64_t bytescan_mask64x(const char *s, size_t n, const char *lo, unsigned char a,
                                        unsigned char b, unsigned char c, uint64_t *ma,
                                        uint64_t *mb, uint64_t *mc)
{
#ifdef __SSE2__
    if (bytescan_use_avx2())
        return bytescan_mask64x_avx2(s, n, lo, a, b, c, ma, mb, mc);
    if (!bytescan_portable_only)
        return bytescan_mask64x_sse2(s, n, lo, a, b, c, ma, mb, mc);
#endif
    (void)lo;
    return bytescan_mask64x_portable(s, n, a, b, c, ma, mb, mc);
}

/* Index of the first byte of s[0..n) equal to @a, @b or @c (repeat one to look for
 * fewer), or n. 16 bytes a step with SSE2 while 16 are left, then byte by byte; the
 * portable code goes byte by byte. For short searches that usually end early (the
 * log_line_prefix matcher's free values). */
static inline size_t bytescan_find3(const char *s, size_t n, unsigned char a, unsigned char b,
                                    unsigned char c)
{
    size_t i = 0;
#ifdef __SSE2__
    if (!bytescan_portable_only) {
        const __m128i pa = _mm_set1_epi8((char)a), pb = _mm_set1_epi8((char)b),
                      pc = _mm_set1_epi8((char)c);
        for (; i + 16 <= n; i += 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
            __m128i eq = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, pa), _mm_cmpeq_epi8(v, pb)),
                                      _mm_cmpeq_epi8(v, pc));
            int m = _mm_movemask_epi8(eq);
            if (m)
                return i + (size_t)__builtin_ctz((unsigned)m);
        }
    }
#endif
    for (; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == a || ch == b || ch == c)
            return i;
    }
    return n;
}

/* Index of the first byte of s[0..n) that ends a run of plain JSON string text: '"',
 * '\\' or a control byte (< 0x20); n when there is none. 16 bytes a step with SSE2 while
 * 16 are left, then byte by byte (the portable code byte by byte). */
static inline size_t bytescan_json_special(const char *s, size_t n)
{
    size_t i = 0;
#ifdef __SSE2__
    if (!bytescan_portable_only) {
        const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
                      ctl = _mm_set1_epi8(0x1f);
        for (; i + 16 <= n; i += 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
            /* v <= 0x1f unsigned: min(v, 0x1f) == v */
            __m128i sp =
                _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                             _mm_cmpeq_epi8(_mm_min_epu8(v, ctl), v));
            int m = _mm_movemask_epi8(sp);
            if (m)
                return i + (size_t)__builtin_ctz((unsigned)m);
        }
    }
#endif
    for (; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\' || ch < 0x20)
            return i;
    }
    return n;
}

/* Length of the leading run of ASCII bytes (< 0x80) of s[0..n): n when all are ASCII.
 * 64 bytes a step with SSE2 (then 16 to find the byte, and the last 1..15 bytes as the 16
 * ending at s + n), 8 with the portable code. */
size_t bytescan_ascii_len(const char *s, size_t n);

#endif
