/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

static SIFT_NORETURN void die_oom(size_t n)
{
    fprintf(stderr, "pgsift: out of memory allocating %zu bytes\n", n);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (!p)
        die_oom(n);
    return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

    if (!p)
        die_oom(nmemb * size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (!q)
        die_oom(n);
    return q;
}

char *xmemdupz(const void *p, size_t n)
{
    char *s = xmalloc(n + 1);

    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

char *xstrdup(const char *s)
{
    return xmemdupz(s, strlen(s));
}

void xgrow(void **arr, size_t elsz, size_t need, size_t *alloc)
{
    size_t n, bytes;

    if (need <= *alloc)
        return;
    n = *alloc < 8 ? 8 : *alloc;
    while (n < need) {
        if (!st_mult(n, 2, &n))
            die_oom((size_t)-1);
    }
    if (!st_mult(n, elsz, &bytes))
        die_oom((size_t)-1);
    *arr = xrealloc(*arr, bytes);
    *alloc = n;
}

void bug_fl(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "pgsift: BUG: %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}
