/* SPDX-License-Identifier: MIT */
/*
 * fuzz_gz - the .gz decoder (input/gz.c) over hostile gzip files: ISA-L, with zlib for
 * the members it finds damaged, must hand on exactly what zlib alone does - the same
 * bytes, the same end, the same damage at the same offset - whatever the output sizes
 * asked for. A run that stopped at another byte than the next would make the stream's
 * stored position unreachable (docs/store.md, "Exactly once").
 *
 * The first byte picks the mode. Mode 0: the rest is the file, after a gzip magic. Mode
 * 1: the rest (after two bytes of parameters) is compressed into one to three members,
 * then damaged: bytes overwritten, or the file cut, at places the parameters pick - a
 * mostly valid stream, where random bytes would rarely get past the header.
 */
#define _GNU_SOURCE /* memfd_create */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <zlib.h>

#include "input/gz_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_gz: %s\n", what);
        abort();
    }
}

struct out {
    unsigned char *p;
    size_t len, cap;
    enum gzdec_state end;
    uint64_t damage_raw;
    char what[160];
};

/* Decode @file (a regular file: a memfd) into @o, asking for @step bytes at a time. */
static void decode(const unsigned char *file, size_t n, size_t step, bool zlib_only, struct out *o)
{
    int fd = memfd_create("fuzz.gz", 0);
    require(fd >= 0, "memfd_create");
    require(write(fd, file, n) == (ssize_t)n, "write");
    require(lseek(fd, 0, SEEK_SET) == 0, "lseek");
    unsigned char first[16];
    ssize_t k = read(fd, first, n < sizeof(first) ? n : sizeof(first));
    require(k >= 0, "read");
    if (zlib_only)
        setenv("SIFT_GZ_ZLIB_ONLY", "1", 1);
    struct diag d = DIAG_INIT;
    struct gzdec *g = gzdec_new(fd, "fuzz.gz", first, (size_t)k, &d);
    unsetenv("SIFT_GZ_ZLIB_ONLY");
    require(g != NULL, "gzdec_new");
    memset(o, 0, sizeof(*o));
    for (;;) {
        if (o->cap - o->len < step) {
            o->cap = (o->cap + step) * 2;
            o->p = realloc(o->p, o->cap);
            require(o->p != NULL, "realloc");
        }
        size_t got = gzdec_decode(g, o->p + o->len, step, step);
        require(got <= step, "more than asked");
        o->len += got;
        require(o->len <= (16u << 20), "runaway output");
        if (g->state != GZDEC_MORE)
            break;
    }
    o->end = g->state;
    if (g->state == GZDEC_DAMAGED) {
        o->damage_raw = g->damage_raw;
        snprintf(o->what, sizeof(o->what), "%s", g->damage_what);
    }
    gzdec_free(g);
    close(fd);
}

static size_t gzip_members(const uint8_t *p, size_t n, unsigned members, unsigned char **out)
{
    size_t cap = n + 64 * members + 1024, len = 0;
    *out = malloc(cap);
    require(*out != NULL, "malloc");
    for (unsigned m = 0; m < members; m++) {
        size_t a = n * m / members, b = n * (m + 1) / members;
        z_stream zs;
        memset(&zs, 0, sizeof(zs));
        require(deflateInit2(&zs, 1 + (int)(m % 9), Z_DEFLATED, 16 + MAX_WBITS, 8,
                             Z_DEFAULT_STRATEGY) == Z_OK,
                "deflateInit2");
        size_t bound = deflateBound(&zs, (uLong)(b - a));
        if (len + bound > cap) {
            cap = len + bound + 1024;
            *out = realloc(*out, cap);
            require(*out != NULL, "realloc");
        }
        zs.next_in = (Bytef *)(uintptr_t)(p + a);
        zs.avail_in = (uInt)(b - a);
        zs.next_out = *out + len;
        zs.avail_out = (uInt)(cap - len);
        require(deflate(&zs, Z_FINISH) == Z_STREAM_END, "deflate");
        len = cap - zs.avail_out;
        deflateEnd(&zs);
    }
    return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    unsigned char *file;
    size_t n;
    if (data[0] % 2 == 0) {
        n = size - 1 + 2;
        file = malloc(n);
        require(file != NULL, "malloc");
        file[0] = 0x1f;
        file[1] = 0x8b;
        memcpy(file + 2, data + 1, size - 1);
    } else {
        uint8_t a = data[1], b = data[2];
        n = gzip_members(data + 3, size - 3, 1 + a % 3, &file);
        if (n && (b & 0x80)) {
            n = n * (b & 0x7f) / 128; /* cut short */
        } else if (n) {
            size_t at = n * (b & 0x7f) / 128, len = 1 + a / 16; /* overwritten */
            for (size_t i = at; i < at + len && i < n; i++)
                file[i] ^= (unsigned char)(0x5a + i);
        }
    }
    static const size_t steps[] = { 3, 61, 4096, 262144 };
    struct out ref, got;
    decode(file, n, 65536, true, &ref);
    decode(file, n, steps[data[0] / 2 % 4], false, &got);
    require(got.len == ref.len && !memcmp(got.p, ref.p, ref.len), "other bytes than zlib's");
    require(got.end == ref.end, "another end than zlib's");
    require(got.damage_raw == ref.damage_raw && !strcmp(got.what, ref.what),
            "other damage than zlib's");
    free(ref.p);
    free(got.p);
    free(file);
    return 0;
}
