/* SPDX-License-Identifier: MIT */
/*
 * rng.h - the tests' pseudo-random numbers: xorshift generators with a fixed seed, so a
 * failing case is the same on every run (a test that wants another sequence defines
 * TEST_RNG32_SEED / TEST_RNG64_SEED before including this).
 *   rnd(n)     uniform in [0, n) (0 when n is 0), 32-bit xorshift (no short cycles in
 *              the low bits)
 *   rnd64()    64-bit xorshift
 *   uniform()  in (0, 1), from rnd64()'s top 53 bits
 */
#ifndef SIFT_TEST_RNG_H
#define SIFT_TEST_RNG_H

#include <stdint.h>

#ifndef TEST_RNG32_SEED
#define TEST_RNG32_SEED 2463534242u
#endif
#ifndef TEST_RNG64_SEED
#define TEST_RNG64_SEED 88172645463325252u
#endif

static uint32_t test_rng32 = TEST_RNG32_SEED;
static uint64_t test_rng64 = TEST_RNG64_SEED;

static inline uint32_t rnd(uint32_t n)
{
    test_rng32 ^= test_rng32 << 13;
    test_rng32 ^= test_rng32 >> 17;
    test_rng32 ^= test_rng32 << 5;
    return n ? test_rng32 % n : 0;
}

static inline uint64_t rnd64(void)
{
    test_rng64 ^= test_rng64 << 13;
    test_rng64 ^= test_rng64 >> 7;
    test_rng64 ^= test_rng64 << 17;
    return test_rng64;
}

static inline double uniform(void)
{
    return ((double)(rnd64() >> 11) + 0.5) / 9007199254740992.0;
}

#endif
