/* SPDX-License-Identifier: MIT */
/*
 * tailbuf - the last bytes of a stream that is only appended to.
 *
 * Keeps at least `keep` of the stream's newest bytes (once that many were added) and at
 * most about twice that, in two buffers that take turns: when the newer one reaches
 * `keep` bytes the older one is emptied and becomes the newer. Each byte is copied once
 * and never moved (a single buffer trimmed at the front moves what it keeps every time).
 * ingest.c keeps the decoded bytes of a compressed source in one, for the marks of its
 * commits (the bytes before a committed offset, which may lie a few lines back).
 *
 * Owns: both buffers. Calling sequence: tailbuf_init() -> tailbuf_reset() / _add() /
 * _get()* -> tailbuf_release().
 */
#ifndef SIFT_CORE_TAILBUF_H
#define SIFT_CORE_TAILBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compat.h"
#include "core/sbuf.h"
#include "core/span.h"

struct tailbuf {
    struct sbuf old, cur; /* the stream's bytes [base, base + old.len), then cur's */
    uint64_t base;
    size_t keep;
};

/* Empty, the next byte added being the stream's byte 0. @keep >= 1. */
void tailbuf_init(struct tailbuf *t, size_t keep);
void tailbuf_release(struct tailbuf *t);
/* Forget everything; the next byte added is the stream's byte @offset. */
void tailbuf_reset(struct tailbuf *t, uint64_t offset);

/* The stream offsets held: [tailbuf_start(), tailbuf_end()). */
static inline uint64_t tailbuf_start(const struct tailbuf *t)
{
    return t->base;
}
static inline uint64_t tailbuf_end(const struct tailbuf *t)
{
    return t->base + t->old.len + t->cur.len;
}

/* Append the stream's next @n bytes. Returns 0, or -1 when they do not fit a buffer's cap
 * (SBUF_DEFAULT_MAX): then nothing is held any more (tailbuf_reset() to the end after
 * them). */
SIFT_WUR int tailbuf_add(struct tailbuf *t, const void *p, size_t n);

/* The stream's bytes [from, from + len) into *out. They are borrowed from the tailbuf
 * until its next change, or from @tmp (overwritten) when they lie across its two
 * buffers. Returns false when any of them is not held. */
bool tailbuf_get(const struct tailbuf *t, uint64_t from, size_t len, struct sbuf *tmp,
                 struct span *out);

#endif
