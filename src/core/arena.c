/* SPDX-License-Identifier: MIT */
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/xalloc.h"

struct arena_block {
    struct arena_block *next;
    size_t size; /* usable bytes in data[] */
    size_t used;
    alignas(max_align_t) unsigned char data[];
};

void arena_init(struct arena *a, size_t block_size)
{
    a->head = NULL;
    a->block_size = block_size ? block_size : 64 * 1024;
    a->used = 0;
}

static struct arena_block *new_block(size_t size)
{
    size_t bytes;

    if (!st_add(sizeof(struct arena_block), size, &bytes))
        BUG("arena block size overflow");
    struct arena_block *b = xmalloc(bytes);
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

void *arena_alloc(struct arena *a, size_t n)
{
    const size_t align = alignof(max_align_t);
    struct arena_block *b = a->head;
    size_t rounded;

    if (!st_add(n, align - 1, &rounded))
        BUG("arena allocation overflow");
    rounded &= ~(align - 1);
    if (!rounded)
        rounded = align;
    if (!b || b->size - b->used < rounded) {
        /* Large requests get a block of their own, placed behind the current block so
         * the current one keeps serving small requests. */
        size_t size = rounded > a->block_size ? rounded : a->block_size;
        struct arena_block *nb = new_block(size);
        if (b && rounded > a->block_size) {
            nb->next = b->next;
            b->next = nb;
            nb->used = rounded;
            a->used += rounded;
            return nb->data;
        }
        nb->next = b;
        a->head = b = nb;
    }
    void *p = b->data + b->used;
    b->used += rounded;
    a->used += rounded;
    return p;
}

struct span arena_dup(struct arena *a, const void *p, size_t n)
{
    char *q = arena_alloc(a, n + 1);

    if (n)
        memcpy(q, p, n);
    q[n] = '\0';
    return span_make(q, n);
}

void arena_reset(struct arena *a)
{
    struct arena_block *keep = NULL;
    struct arena_block *b = a->head;

    /* Keep one standard-sized block; free the rest. */
    while (b) {
        struct arena_block *next = b->next;
        if (!keep && b->size == a->block_size) {
            keep = b;
            keep->used = 0;
            keep->next = NULL;
        } else {
            free(b);
        }
        b = next;
    }
    a->head = keep;
    a->used = 0;
}

void arena_release(struct arena *a)
{
    struct arena_block *b = a->head;

    while (b) {
        struct arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->used = 0;
}

size_t arena_blocks(const struct arena *a)
{
    size_t n = 0;

    for (const struct arena_block *b = a->head; b; b = b->next)
        n++;
    return n;
}
