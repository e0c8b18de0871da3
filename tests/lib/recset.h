/* SPDX-License-Identifier: MIT */
/*
 * recset - compare the records two logs of the same PostgreSQL run give (stderr or syslog
 * against the run's csvlog): each record is a key, the fields a test compares rendered as
 * text by the test, plus its time; the two multisets are sorted and walked side by side.
 *
 *   struct pt_recs a = { 0 };
 *   pt_parse_file("fixtures/.../postgresql.log", "stderr", collect, &a);   (CHECKs inside)
 *   pt_recs_sort(&a);  ...  pt_recs_free(&a);
 */
#ifndef SIFT_TESTS_RECSET_H
#define SIFT_TESTS_RECSET_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/sbuf.h"
#include "core/xalloc.h"
#include "parsetest.h"

struct pt_rec {
    char *key; /* everything compared except the time */
    int64_t ts_us;
    int frac;
};

struct pt_recs {
    struct pt_rec *v;
    size_t n, alloc;
};

/* Take @key (detached from the test's sbuf) as the next record. */
static inline void pt_recs_add(struct pt_recs *rs, char *key, int64_t ts_us, int frac)
{
    XGROW(rs->v, rs->n + 1, rs->alloc);
    rs->v[rs->n++] = (struct pt_rec){ key, ts_us, frac };
}

static inline int pt_rec_cmp(const void *a, const void *b)
{
    const struct pt_rec *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    return x->ts_us < y->ts_us ? -1 : x->ts_us > y->ts_us;
}

static inline void pt_recs_sort(struct pt_recs *rs)
{
    if (rs->n)
        qsort(rs->v, rs->n, sizeof(*rs->v), pt_rec_cmp);
}

static inline void pt_recs_free(struct pt_recs *rs)
{
    for (size_t i = 0; i < rs->n; i++)
        free(rs->v[i].key);
    free(rs->v);
    memset(rs, 0, sizeof(*rs));
}

/* The whole file (an empty one as ""); NULL if it cannot be read. */
static inline char *pt_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct sbuf sb = SBUF_INIT;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        if (sbuf_add(&sb, buf, n) < 0)
            break;
    fclose(f);
    char *data = sbuf_detach(&sb, len);
    if (!data) { /* an empty file */
        *len = 0;
        data = calloc(1, 1);
    }
    return data;
}

/* Parse a file (format detected), handing every event to @each; false if the file is
 * missing. CHECKs that it was detected as @want_format, with no reject, no foreign line
 * and every line accounted for. */
static inline bool pt_parse_file(const char *path, const char *want_format,
                                 void (*each)(const struct event *, void *), void *ctx)
{
    size_t len;
    char *data = pt_slurp(path, &len);
    if (!data)
        return false;
    struct diag d = DIAG_INIT;
    struct parser *p = parser_new(&(struct parser_opts){ .format = "auto" }, &d);
    struct event *ev;
    size_t at = 0;
    uint64_t lineno = 1;
    while (at < len) {
        const char *nl = memchr(data + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (data + at)) : len - at;
        struct input_line ln = { .text = span_make(data + at, n),
                                 .line = lineno++,
                                 .offset = at,
                                 .end = at + n + 1,
                                 .source = SPAN_LIT("f") };
        parser_feed(p, &ln);
        while (parser_next(p, &ev) == PARSE_EVENT)
            each(ev, ctx);
        at += n + 1;
    }
    parser_end(p);
    while (parser_next(p, &ev) == PARSE_EVENT)
        each(ev, ctx);
    const struct parse_stats *st = parser_stats(p);
    CHECK_MSG(parser_format(p) && !strcmp(parser_format(p), want_format), "%s: format %s", path,
              parser_format(p) ? parser_format(p) : "(none)");
    CHECK_MSG(st->rejects == 0, "%s: %llu rejects", path, (unsigned long long)st->rejects);
    CHECK_MSG(st->foreign_lines == 0, "%s: %llu foreign lines", path,
              (unsigned long long)st->foreign_lines);
    CHECK(pt_balanced(st));
    parser_free(p);
    free(data);
    return true;
}

#endif
