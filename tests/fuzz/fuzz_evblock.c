/* SPDX-License-Identifier: MIT */
/*
 * fuzz_evblock - arbitrary bytes as a stored event block (store/evblock.h), the blob a
 * hostile or corrupt store file could hold, and as events to encode.
 *
 * The first byte picks the mode. Mode 0: decode the rest (never reading outside it);
 * the events it yields must encode into a block that decodes to the same events. Mode
 * 1: the rest describes events (column mask: 4 bytes, then 3 for the columns from 32 on;
 * values, texts cut from the input); each
 * must come back exactly, with and without shared texts, and the block must be the same
 * bytes when the encoder is told the texts are stable.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"
#include "store/evblock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_EVENTS 64

static void require(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_evblock: %s\n", what);
        abort();
    }
}

/* Events as decoded borrow from the blob and the event's own src buffer: keep copies. */
struct held {
    struct evblock_event ev[MAX_EVENTS];
    char *texts[MAX_EVENTS][EVB_NCOLS];
    size_t n;
};

static void hold(struct held *h, const struct evblock_event *x)
{
    struct evblock_event *e = &h->ev[h->n];
    e->ts = x->ts;
    e->present = x->present;
    for (int c = 0; c < EVB_NCOLS; c++) {
        h->texts[h->n][c] = NULL;
        if (!(x->present & evb_bit((enum evb_col)c)))
            continue;
        e->c[c] = x->c[c];
        if (evb_col_type((enum evb_col)c) == EVB_TEXT) {
            h->texts[h->n][c] = xmalloc(x->c[c].len + 1);
            memcpy(h->texts[h->n][c], x->c[c].s, x->c[c].len + 1);
            e->c[c].s = h->texts[h->n][c];
        }
    }
    h->n++;
}

static void held_free(struct held *h)
{
    for (size_t i = 0; i < h->n; i++)
        for (int c = 0; c < EVB_NCOLS; c++)
            free(h->texts[i][c]);
}

/* Encode @h's events (ts_min: their oldest) and check they decode to themselves. */
static void round_trip(const struct held *h, bool share)
{
    struct evblock_enc enc;
    evblock_enc_init(&enc);
    enc.share_texts = share;
    int64_t ts_min = h->n ? h->ev[0].ts : 0;
    for (size_t i = 1; i < h->n; i++)
        if (h->ev[i].ts < ts_min)
            ts_min = h->ev[i].ts;
    evblock_enc_start(&enc, ts_min);
    for (size_t i = 0; i < h->n; i++)
        require(evblock_enc_add(&enc, &h->ev[i]) == 0, "encode refused an event");
    struct span blob = evblock_enc_blob(&enc);
    struct evblock_reader r;
    struct evblock_event *x = xmalloc(sizeof(*x));
    require(evblock_open(&r, blob.p, blob.len) == 0, "own block refused");
    size_t n = 0;
    int rc;
    while ((rc = evblock_next(&r, x)) == 1) {
        require(n < h->n, "more events than encoded");
        require(evblock_event_equal(x, &h->ev[n]), "an event changed in the round trip");
        n++;
    }
    require(rc == 0 && n == h->n, "own block did not decode to its end");
    free(x);
    /* The texts are held still: with stable_texts the blob is the same bytes. */
    char *first = xmalloc(blob.len + 1);
    memcpy(first, blob.p, blob.len);
    size_t first_len = blob.len;
    enc.stable_texts = true;
    evblock_enc_start(&enc, ts_min);
    for (size_t i = 0; i < h->n; i++)
        require(evblock_enc_add(&enc, &h->ev[i]) == 0, "encode refused an event");
    blob = evblock_enc_blob(&enc);
    require(blob.len == first_len && !memcmp(blob.p, first, first_len),
            "stable texts changed the block");
    free(first);
    evblock_enc_release(&enc);
}

static uint64_t take(const uint8_t **p, const uint8_t *end, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n && *p < end; i++)
        v |= (uint64_t) * (*p)++ << (8 * i);
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    struct held *h = xcalloc(1, sizeof(*h));
    if (!(data[0] & 1)) {
        /* a copy of exactly the blob's length: ASan sees any read past it */
        size_t len = size - 1;
        uint8_t *blob = xmalloc(len ? len : 1);
        memcpy(blob, data + 1, len);
        struct evblock_reader r;
        struct evblock_event *x = xmalloc(sizeof(*x));
        if (evblock_open(&r, blob, len) == 0) {
            size_t before = r.pos;
            while (h->n < MAX_EVENTS && evblock_next(&r, x) == 1) {
                require(r.pos > before && r.pos <= len, "decoder did not advance within bounds");
                before = r.pos;
                hold(h, x);
            }
        }
        free(x);
        free(blob);
    } else {
        const uint8_t *p = data + 1, *end = data + size;
        while (p < end && h->n < MAX_EVENTS) {
            struct evblock_event *e = &h->ev[h->n];
            memset(e, 0, sizeof(*e));
            e->ts = (int64_t)take(&p, end, 1 + (take(&p, end, 1) & 7));
            e->present = take(&p, end, 4); /* the 32 old columns, then the later ones */
            e->present |= (take(&p, end, 3) << 32) & (evb_bit(EVB_NCOLS) - 1);
            for (int c = 0; c < EVB_NCOLS; c++) {
                if (!(e->present & evb_bit((enum evb_col)c)))
                    continue;
                switch (evb_col_type((enum evb_col)c)) {
                case EVB_INT: e->c[c].i = (int64_t)take(&p, end, 1 + (take(&p, end, 1) & 7)); break;
                case EVB_REAL: {
                    uint64_t bits = take(&p, end, 8);
                    memcpy(&e->c[c].r, &bits, 8);
                    break;
                }
                case EVB_TEXT: {
                    size_t n = (size_t)take(&p, end, 1);
                    if (n > (size_t)(end - p))
                        n = (size_t)(end - p);
                    e->c[c].s = (const char *)p; /* texts need no NUL to be encoded */
                    e->c[c].len = n;
                    p += n;
                    break;
                }
                }
            }
            h->n++;
        }
        round_trip(h, false);
        for (size_t i = 0; i < h->n; i++)
            for (int c = 0; c < EVB_NCOLS; c++)
                h->texts[i][c] = NULL; /* borrowed from the input */
    }
    round_trip(h, true);
    held_free(h);
    free(h);
    return 0;
}
