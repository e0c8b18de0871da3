/* SPDX-License-Identifier: MIT */
/*
 * xalloc - allocation wrappers that die on out-of-memory (Git, Redis, GoAccess).
 *
 * pgsift never tries to survive a failed allocation: the risk on untrusted input is
 * bounded by core/limits.h instead. Sizes computed from input go through st_add() /
 * st_mult(), which report overflow instead of wrapping.
 */
#ifndef SIFT_CORE_XALLOC_H
#define SIFT_CORE_XALLOC_H

#include <stdbool.h>
#include <stddef.h>

#include "core/compat.h"

/* Return a new allocation (caller frees with free()); never NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xmemdupz(const void *p, size_t n); /* n bytes plus a NUL */

/* Grow *arr (of element size elsz) so that at least `need` elements fit; *alloc holds
 * the capacity. Geometric growth. */
void xgrow(void **arr, size_t elsz, size_t need, size_t *alloc);
#define XGROW(arr, need, alloc) xgrow((void **)&(arr), sizeof(*(arr)), (need), &(alloc))

/* Overflow-checked size arithmetic: returns false (and leaves *out alone) on overflow. */
static inline SIFT_WUR bool st_add(size_t a, size_t b, size_t *out)
{
    if (a > (size_t)-1 - b)
        return false;
    *out = a + b;
    return true;
}

static inline SIFT_WUR bool st_mult(size_t a, size_t b, size_t *out)
{
    if (b && a > (size_t)-1 / b)
        return false;
    *out = a * b;
    return true;
}

#define FREE_AND_NULL(p) \
    do {                 \
        free(p);         \
        (p) = NULL;      \
    } while (0)

#endif
