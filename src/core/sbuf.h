/* SPDX-License-Identifier: MIT */
/*
 * sbuf - an owned, growable, always NUL-terminated byte buffer with a size cap.
 *
 * Git's strbuf (the handle is a struct, so appends never move the caller's pointer;
 * buf is never NULL) plus curl's dynbuf cap (appends that would exceed `max` fail and
 * leave the buffer unchanged, so input can never grow one without bound).
 *
 * Owns: sb->buf (heap, or a shared empty string before the first append).
 * Calling sequence: sbuf_init() -> sbuf_add*()* / sbuf_reset() -> sbuf_release().
 */
#ifndef SIFT_CORE_SBUF_H
#define SIFT_CORE_SBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/compat.h"
#include "core/span.h"

struct sbuf {
    char *buf;  /* never NULL; buf[len] == '\0' */
    size_t len; /* bytes used, excluding the NUL */
    size_t alloc;
    size_t max; /* appends beyond max bytes fail; 0 means SBUF_DEFAULT_MAX */
};

#define SBUF_DEFAULT_MAX ((size_t)1 << 30)

extern char sbuf_empty[];
#define SBUF_INIT           \
    {                       \
        sbuf_empty, 0, 0, 0 \
    }

void sbuf_init(struct sbuf *sb, size_t max);
void sbuf_release(struct sbuf *sb); /* frees; sb is ready for reuse */
void sbuf_reset(struct sbuf *sb);   /* len = 0, keeps the allocation */

/* Appends. Return 0, or -1 when the result would exceed the cap (buffer unchanged). */
SIFT_WUR int sbuf_add(struct sbuf *sb, const void *p, size_t n);
SIFT_WUR int sbuf_addstr(struct sbuf *sb, const char *s);
SIFT_WUR int sbuf_addch(struct sbuf *sb, char c);
SIFT_WUR int sbuf_addspan(struct sbuf *sb, struct span s);
SIFT_WUR int sbuf_addf(struct sbuf *sb, const char *fmt, ...) SIFT_PRINTF(2, 3);
SIFT_WUR int sbuf_vaddf(struct sbuf *sb, const char *fmt, va_list ap) SIFT_PRINTF(2, 0);
/* Exactly what sbuf_addf(sb, "%.*f", decimals, v) appends, without printf when v is a
 * non-negative whole number of 10^-decimals below 2^40 (plan timings, row counts). */
SIFT_WUR int sbuf_add_fixed(struct sbuf *sb, double v, int decimals);

/* Make room for n more bytes (for writers that fill sb->buf + sb->len directly and then
 * call sbuf_setlen). Returns -1 when that would exceed the cap. */
SIFT_WUR int sbuf_grow(struct sbuf *sb, size_t n);
void sbuf_setlen(struct sbuf *sb, size_t len);

/* Remove n bytes from the front (consumed input). */
void sbuf_consume(struct sbuf *sb, size_t n);

/* Take the buffer: returns a heap string the caller frees with free(); sb is reset to
 * empty. Never NULL. */
char *sbuf_detach(struct sbuf *sb, size_t *len);

static inline struct span sbuf_span(const struct sbuf *sb)
{
    return span_make(sb->buf, sb->len);
}

#endif
