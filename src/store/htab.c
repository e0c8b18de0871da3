/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"
#include "store/htab.h"

long htab_find(const struct htab *h, uint64_t hash, bool (*eq)(const void *ctx, uint32_t idx),
               const void *ctx)
{
    if (!h->cap)
        return -1;
    size_t mask = h->cap - 1;
    for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
        const struct htab_slot *sl = &h->slots[i];
        if (!sl->idx1)
            return -1;
        if (sl->hash == hash && eq(ctx, sl->idx1 - 1))
            return (long)(sl->idx1 - 1);
    }
}

static void place(struct htab_slot *slots, size_t cap, uint64_t hash, uint32_t idx1)
{
    size_t mask = cap - 1;
    size_t i = (size_t)hash & mask;
    while (slots[i].idx1)
        i = (i + 1) & mask;
    slots[i].hash = hash;
    slots[i].idx1 = idx1;
}

void htab_insert(struct htab *h, uint64_t hash, uint32_t idx)
{
    /* Keep the load under 1/2: probes stay short. */
    if ((h->used + 1) * 2 > h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        struct htab_slot *slots = xcalloc(cap, sizeof(*slots));
        for (size_t i = 0; i < h->cap; i++)
            if (h->slots[i].idx1)
                place(slots, cap, h->slots[i].hash, h->slots[i].idx1);
        free(h->slots);
        h->slots = slots;
        h->cap = cap;
    }
    place(h->slots, h->cap, hash, idx + 1);
    h->used++;
}

void htab_clear(struct htab *h)
{
    if (h->cap)
        memset(h->slots, 0, h->cap * sizeof(*h->slots));
    h->used = 0;
}

void htab_release(struct htab *h)
{
    free(h->slots);
    *h = (struct htab)HTAB_INIT;
}
