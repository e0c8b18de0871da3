/* SPDX-License-Identifier: MIT */
#include <stdalign.h>
#include <stdint.h>

#include "check.h"
#include "core/arena.h"

static void test_alloc_aligned_and_reset(void)
{
    struct arena a;
    arena_init(&a, 256);
    for (int i = 0; i < 1000; i++) {
        void *p = arena_alloc(&a, (size_t)(i % 37) + 1);
        CHECK(((uintptr_t)p % alignof(max_align_t)) == 0);
        memset(p, 0xab, (size_t)(i % 37) + 1);
    }
    CHECK(a.used > 0);
    arena_reset(&a);
    CHECK_EQ_INT(a.used, 0);
    CHECK_EQ_INT(arena_blocks(&a), 1);
    arena_release(&a);
    CHECK(a.head == NULL);
}

static void test_large_allocation(void)
{
    struct arena a;
    arena_init(&a, 128);
    char *small = arena_alloc(&a, 16);
    char *big = arena_alloc(&a, 10000);
    memset(big, 1, 10000);
    /* The current block keeps serving small requests after a large one. */
    char *small2 = arena_alloc(&a, 16);
    CHECK(small2 == small + 16);
    arena_release(&a);
}

static void test_dup(void)
{
    struct arena a = ARENA_INIT;
    struct span s = arena_dup(&a, "abc", 3);
    CHECK_EQ_SPAN(s, "abc");
    CHECK(s.p[3] == '\0');
    struct span absent = arena_dup_span(&a, SPAN_NULL);
    CHECK(!span_present(absent));
    arena_release(&a);
}

TEST_LIST = {
    { "alloc_aligned_and_reset", test_alloc_aligned_and_reset },
    { "large_allocation", test_large_allocation },
    { "dup", test_dup },
    { NULL, NULL },
};
