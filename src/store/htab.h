/* SPDX-License-Identifier: MIT */
/*
 * htab - an open-addressing index from a 64-bit hash to entry numbers (private to
 * store/). The entries themselves live in the caller's arrays; the table only maps
 * (hash, equality callback) to an index, so one implementation serves every batch map.
 *
 * Owns: its slot array.
 */
#ifndef SIFT_STORE_HTAB_H
#define SIFT_STORE_HTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct htab_slot {
    uint64_t hash;
    uint32_t idx1; /* entry index + 1; 0 = empty */
};

struct htab {
    struct htab_slot *slots;
    size_t cap; /* power of two, or 0 */
    size_t used;
};

#define HTAB_INIT  \
    {              \
        NULL, 0, 0 \
    }

/* Return the index of the entry with this hash for which eq(ctx, index) is true, or -1. */
long htab_find(const struct htab *h, uint64_t hash, bool (*eq)(const void *ctx, uint32_t idx),
               const void *ctx);

/* Record entry @idx under @hash (after a failed htab_find). */
void htab_insert(struct htab *h, uint64_t hash, uint32_t idx);

void htab_clear(struct htab *h); /* empty, keep the slots */
void htab_release(struct htab *h);

#endif
