/* SPDX-License-Identifier: MIT */
/*
 * gz_int - private to input/: the gzip decoder of one input (any number of members,
 * zero padding after the last one) and the thread that can run it ahead of the reader.
 *
 * struct gzdec reads compressed bytes from a descriptor and inflates them into a caller's
 * buffer. The same decoder runs either on the reader's thread (input.c calls
 * gzdec_decode() itself) or on a decompression thread (struct gzthread), which decodes
 * into a ring of fixed buffers that input.c copies from. Both paths hand input.c the
 * same bytes and the same end (EOF, damage, read error), so lines, offsets and damage
 * reports do not depend on the path.
 *
 * The same thread also reads plain files ahead (gzdec_new_plain()), for `pgsift ingest`
 * with a spare core: the reader then copies from the ring instead of calling read().
 *
 * Owns: the zlib stream and the compressed read buffer (gzdec); the thread, the ring
 * buffers and the decoder it runs (gzthread). Neither owns the descriptor.
 */
#ifndef SIFT_INPUT_GZ_INT_H
#define SIFT_INPUT_GZ_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <isa-l/igzip_lib.h>
#include <zlib.h>

#include "core/diag.h"

enum gzdec_state {
    GZDEC_MORE,    /* more decoded bytes may come */
    GZDEC_EOF,     /* the last member ended (and only zero padding followed) */
    GZDEC_DAMAGED, /* truncated or corrupt data: damage_raw and damage_what say how */
    GZDEC_ERROR,   /* read() failed: err holds the message */
};

/* Compressed bytes read at a time. */
#define GZDEC_READ_BYTES (256u << 10)
/* ISA-L decodes into a buffer of GZDEC_HOLD_BUF bytes and hands on all but the last
 * GZDEC_HOLD_BYTES until its member's end is checked (gz.c, fall_back()). */
#define GZDEC_HOLD_BUF   (1u << 20)
#define GZDEC_HOLD_BYTES (64u << 10)

struct gzdec {
    int fd;           /* borrowed */
    const char *name; /* borrowed: for the read error message */
    bool plain;       /* no gzip: the bytes as read (read-ahead of a plain file) */
    z_stream zs;      /* zlib; its next_in/avail_in are the compressed bytes for either */
    bool zinit;
    struct inflate_state *isal; /* ISA-L's igzip, on regular files (NULL: zlib only) */
    bool fast;                  /* the current member is decoded by ISA-L */
    uint64_t member_raw;        /* compressed offset where the current member starts */
    uint64_t member_out;        /* decoded bytes handed on before it */
    uint64_t out_total;         /* decoded bytes handed on */
    uint64_t skip;              /* zlib's output to drop: what ISA-L handed on already */
    unsigned char *hold;        /* ISA-L's output, the last GZDEC_HOLD_BYTES held back */
    size_t hold_off, hold_len;  /* handed on up to hold_off; decoded up to hold_len */
    unsigned char *zbuf;        /* compressed bytes read ahead */
    bool raw_eof;
    bool member_done;
    uint64_t raw_read; /* compressed bytes read from fd */
    enum gzdec_state state;
    uint64_t damage_raw;   /* compressed offset where decoding stopped */
    char damage_what[160]; /* "truncated gzip data", "corrupt gzip data: <zlib msg>" ... */
    bool damage_cut;       /* the data ends inside a member (truncated, not corrupt) */
    struct diag err;
};

/* Start decoding: @first holds the @n (<= GZDEC_READ_BYTES) compressed bytes already read
 * from @fd. Returns NULL with @d filled when zlib cannot start. (Heap-allocated because
 * a z_stream must not move: zlib keeps a pointer back to it.) */
struct gzdec *gzdec_new(int fd, const char *name, const void *first, size_t n, struct diag *d);

/* A "decoder" that hands on the bytes of @fd as they are read, from its current
 * position: a plain file read ahead on the decoder thread (input_opts.read_ahead). Its
 * ends are GZDEC_EOF (read() returned 0) and GZDEC_ERROR. */
struct gzdec *gzdec_new_plain(int fd, const char *name);

/* Inflate into out[0, cap); stop once @enough bytes are decoded or the state leaves
 * GZDEC_MORE. Returns the bytes written (possibly 0 at the end). */
size_t gzdec_decode(struct gzdec *g, unsigned char *out, size_t cap, size_t enough);

/* Free the decoder; accepts NULL. */
void gzdec_free(struct gzdec *g);

struct gzthread;

/* Start a thread that runs @g into @nslots buffers of @slot_bytes. On success @g belongs
 * to the thread (the caller must not touch it; gzthread_stop() frees it). Returns NULL
 * when no thread could be started (@g is then still the caller's). */
struct gzthread *gzthread_start(struct gzdec *g, size_t nslots, size_t slot_bytes);

/* Copy up to @cap decoded bytes to @out. Waits only while nothing is decoded yet. Returns
 * the bytes copied; when the stream's end was reached, *end says which (GZDEC_MORE
 * otherwise), and gzthread_decoder() may be read for its details. */
size_t gzthread_read(struct gzthread *t, void *out, size_t cap, enum gzdec_state *end);

/* The decoder, for the details of an end reported by gzthread_read(). */
const struct gzdec *gzthread_decoder(const struct gzthread *t);

/* Stop the thread (wherever it is: it ends after at most one slot of decoding), join it
 * and free everything. Accepts NULL. */
void gzthread_stop(struct gzthread *t);

#endif
