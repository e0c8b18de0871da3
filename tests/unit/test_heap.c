/* SPDX-License-Identifier: MIT */
/* core/heap: the best N of a stream kept in a heap are a full sort's first N. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/heap.h"

/* Wider than heap.c's swap buffer (256 bytes), as `top`'s rows are: swapped in pieces. */
struct wide {
    int64_t key;
    unsigned char pad[300];
    int64_t tail; /* == key: a swap that moved only part of an element shows */
};

static int by_key(const void *a, const void *b)
{
    const struct wide *x = a, *y = b;
    return (x->key > y->key) - (x->key < y->key);
}

static void keep_best(struct wide *h, size_t *n, size_t limit, const struct wide *w)
{
    if (*n < limit) {
        h[*n] = *w;
        heap_up(h, sizeof(*h), (*n)++, by_key);
    } else if (by_key(w, &h[0]) < 0) { /* better (lower) than the worst kept */
        h[0] = *w;
        heap_down(h, *n, sizeof(*h), 0, by_key);
    }
}

static void test_best_n(void)
{
    uint64_t seed = 42;
    for (size_t limit = 1; limit <= 40; limit += 13) {
        for (size_t total = 0; total <= 500; total += 167) {
            struct wide *all = calloc(total + 1, sizeof(*all));
            struct wide *h = calloc(limit, sizeof(*h));
            size_t n = 0;
            for (size_t i = 0; i < total; i++) {
                seed = seed * 6364136223846793005u + 1442695040888963407u;
                all[i].key = (int64_t)(seed >> 40) % 1000; /* with ties */
                all[i].tail = all[i].key;
                keep_best(h, &n, limit, &all[i]);
            }
            size_t want = total < limit ? total : limit;
            CHECK_EQ_U64(n, want);
            qsort(all, total, sizeof(*all), by_key);
            qsort(h, n, sizeof(*h), by_key);
            for (size_t i = 0; i < n && i < want; i++) {
                CHECK_EQ_INT(h[i].key, all[i].key);
                CHECK_EQ_INT(h[i].tail, h[i].key);
            }
            free(all);
            free(h);
        }
    }
}

TEST_LIST = {
    { "best_n", test_best_n },
    { NULL, NULL },
};
