/* SPDX-License-Identifier: MIT */
/*
 * arena - per-batch bump allocator (pgbouncer's CxMem pools, libpg_query's memory
 * contexts).
 *
 * Parsed events, joined multi-line records, normalized text and plan trees of one batch
 * live here and die together at arena_reset(), so the hot path never frees field by
 * field. Long-lived objects use xmalloc() with an explicit _free.
 *
 * Owns: its blocks. Memory returned by arena_alloc() is borrowed until arena_reset()
 * or arena_release().
 */
#ifndef SIFT_CORE_ARENA_H
#define SIFT_CORE_ARENA_H

#include <stddef.h>

#include "core/span.h"

struct arena_block;

struct arena {
    struct arena_block *head; /* current block; older blocks chained behind it */
    size_t block_size;        /* default size of new blocks */
    size_t used;              /* bytes handed out since the last reset (for stats) */
};

#define ARENA_INIT         \
    {                      \
        NULL, 64 * 1024, 0 \
    }

void arena_init(struct arena *a, size_t block_size);

/* Returns n bytes aligned for any type; never NULL (dies on out-of-memory). */
void *arena_alloc(struct arena *a, size_t n);

/* Copy bytes into the arena; the result is NUL-terminated (len excludes the NUL). */
struct span arena_dup(struct arena *a, const void *p, size_t n);
static inline struct span arena_dup_span(struct arena *a, struct span s)
{
    return s.p ? arena_dup(a, s.p, s.len) : s;
}

/* Free everything handed out; keeps one block for reuse (no allocation per batch in
 * steady state). */
void arena_reset(struct arena *a);

/* Number of blocks currently held (stats and tests). */
size_t arena_blocks(const struct arena *a);

/* Free all blocks. */
void arena_release(struct arena *a);

#endif
