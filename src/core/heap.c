/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "core/heap.h"

#define AT(i) ((char *)base + (i)*size)

static void swap(char *a, char *b, size_t size)
{
    char t[256];
    while (size) {
        size_t k = size < sizeof(t) ? size : sizeof(t);
        memcpy(t, a, k);
        memcpy(a, b, k);
        memcpy(b, t, k);
        a += k;
        b += k;
        size -= k;
    }
}

void heap_down(void *base, size_t n, size_t size, size_t i, heap_cmp_fn cmp)
{
    for (;;) {
        size_t w = i, l = 2 * i + 1, r = l + 1;
        if (l < n && cmp(AT(l), AT(w)) > 0)
            w = l;
        if (r < n && cmp(AT(r), AT(w)) > 0)
            w = r;
        if (w == i)
            return;
        swap(AT(i), AT(w), size);
        i = w;
    }
}

void heap_up(void *base, size_t size, size_t i, heap_cmp_fn cmp)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (cmp(AT(i), AT(p)) <= 0)
            return;
        swap(AT(i), AT(p), size);
        i = p;
    }
}
