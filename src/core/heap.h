/* SPDX-License-Identifier: MIT */
/*
 * heap - a binary heap over an array of fixed-size elements, for keeping the best N of a
 * stream (`pgsift top --limit`, `pgsift events --limit`): the root is the element @cmp
 * orders last (the worst kept), so a newcomer better than it replaces it.
 *
 * Owns nothing: the caller's array, grown by the caller. @cmp is a qsort() comparator.
 */
#ifndef SIFT_CORE_HEAP_H
#define SIFT_CORE_HEAP_H

#include <stddef.h>

typedef int (*heap_cmp_fn)(const void *a, const void *b);

/* Element @i of @base (@n elements of @size bytes) moved down to its place. */
void heap_down(void *base, size_t n, size_t size, size_t i, heap_cmp_fn cmp);
/* Element @i of @base moved up to its place (after appending it at @i). */
void heap_up(void *base, size_t size, size_t i, heap_cmp_fn cmp);

#endif
