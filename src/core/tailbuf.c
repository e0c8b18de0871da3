/* SPDX-License-Identifier: MIT */
/*
 * tailbuf.c - the last bytes of an appended stream, in two buffers (tailbuf.h).
 */
#include "core/tailbuf.h"

void tailbuf_init(struct tailbuf *t, size_t keep)
{
    sbuf_init(&t->old, 0);
    sbuf_init(&t->cur, 0);
    t->base = 0;
    t->keep = keep ? keep : 1;
}

void tailbuf_release(struct tailbuf *t)
{
    sbuf_release(&t->old);
    sbuf_release(&t->cur);
    t->base = 0;
}

void tailbuf_reset(struct tailbuf *t, uint64_t offset)
{
    sbuf_reset(&t->old);
    sbuf_reset(&t->cur);
    t->base = offset;
}

int tailbuf_add(struct tailbuf *t, const void *p, size_t n)
{
    if (sbuf_add(&t->cur, p, n) < 0) {
        tailbuf_reset(t, tailbuf_end(t) + n);
        return -1;
    }
    if (t->cur.len >= t->keep) { /* the older bytes go, the newer become the older */
        struct sbuf s = t->old;
        t->base += t->old.len;
        t->old = t->cur;
        t->cur = s;
        sbuf_reset(&t->cur);
    }
    return 0;
}

bool tailbuf_get(const struct tailbuf *t, uint64_t from, size_t len, struct sbuf *tmp,
                 struct span *out)
{
    uint64_t mid = t->base + t->old.len;
    if (from < t->base || from > tailbuf_end(t) || len > tailbuf_end(t) - from)
        return false;
    if (from + len <= mid) {
        *out = span_make(t->old.buf + (from - t->base), len);
        return true;
    }
    if (from >= mid) {
        *out = span_make(t->cur.buf + (from - mid), len);
        return true;
    }
    size_t first = (size_t)(mid - from);
    sbuf_reset(tmp);
    if (sbuf_add(tmp, t->old.buf + (from - t->base), first) < 0 ||
        sbuf_add(tmp, t->cur.buf, len - first) < 0)
        return false;
    *out = sbuf_span(tmp);
    return true;
}
