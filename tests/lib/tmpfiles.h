/* SPDX-License-Identifier: MIT */
/*
 * tmpfiles - for unit tests that read files: one temporary directory per test program
 * (made on first use from TMPFILES_TEMPLATE, which the test defines before including
 * this, e.g. "/tmp/sift-input.XXXXXX"), paths in it, and writing plain and gzip files.
 * The test removes what it made (its last test rmdir()s tmpdir, which fails on leftovers).
 */
#ifndef SIFT_TESTS_TMPFILES_H
#define SIFT_TESTS_TMPFILES_H

#include <stdio.h>
#include <stdlib.h>

#include <zlib.h>

#include "check.h"

static char tmpdir[64];

static inline void mk_tmpdir(void)
{
    if (tmpdir[0])
        return;
    snprintf(tmpdir, sizeof(tmpdir), "%s", TMPFILES_TEMPLATE);
    if (!mkdtemp(tmpdir))
        abort();
}

/* tmpdir/@name; the last four results stay valid. */
static inline const char *tmp_path(const char *name)
{
    static char buf[4][128];
    static int k;
    mk_tmpdir();
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof(buf[k]), "%s/%s", tmpdir, name);
    return buf[k];
}

static inline void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK(fwrite(p, 1, n, f) == n);
    fclose(f);
}

/* Append one gzip member holding @p (possibly empty) to @path. */
static inline void gz_append(const char *path, const void *p, size_t n)
{
    gzFile g = gzopen(path, "ab");
    CHECK(g != NULL);
    if (!g)
        return;
    CHECK(n == 0 || gzwrite(g, p, (unsigned)n) == (int)n);
    gzclose(g);
}

#endif
