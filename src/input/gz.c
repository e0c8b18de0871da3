/* SPDX-License-Identifier: MIT */
/*
 * gz.c - the gzip decoder of an input, and the thread that runs it ahead of the reader.
 *
 * Two inflaters. ISA-L's igzip (libisal) inflates the benchmark's 212 MB csvlog in 0.13 s
 * of CPU where zlib takes 0.37 s (docs/performance.md, session 14), and `.gz` ingest is
 * measured against `zcat`: it decodes each member of a regular file. zlib decodes pipes,
 * and a member ISA-L finds damaged or cut short is decoded again by zlib from its start
 * (fall_back()): what is handed on before damage, and where, must not depend on buffer
 * sizes, and ISA-L's does.
 *
 * Why a thread: inflate still costs a good part of what parsing and storing do, and on
 * one thread the two add up. With the decoder on its own thread, a .gz file is read in about
 * the time of the slower of the two (on two cores).
 *
 * The ring. One mutex and two condition variables, no atomics and no busy waiting:
 *   - The decoder thread fills slots[head] (outside the lock: a slot between tail and
 *     head is the reader's, any other slot is the decoder's), then under the lock
 *     advances head, increments count and signals `filled`. When all slots are full it
 *     waits on `freed` until half of them are free again (one wake-up, several slots).
 *   - The reader copies from slots[tail] (outside the lock), and once a slot is used up
 *     it advances tail and decrements count under the lock, signalling `freed` once half
 *     the ring or more is free. It waits on `filled` only while it has copied nothing
 *     yet in this call.
 *   - Each slot records the decoder's state after its bytes. The slot whose state is not
 *     GZDEC_MORE is the last one: the thread publishes it and returns, and the reader
 *     reports that end once it has copied the slot's bytes. Everything the thread wrote
 *     (the bytes, the damage details, the error message) happens before the count++ under
 *     the lock, and the reader reads it after seeing that count under the lock, so the
 *     mutex orders every access (ThreadSanitizer-clean).
 *   - gzthread_stop() sets `stop` and signals `freed`; the thread checks it before each
 *     slot, so it ends after at most one slot of decoding, and is joined. Threads are only
 *     started on regular files, whose read() does not block indefinitely.
 * The handoff is one lock per slot (256 KiB), not per line or per read.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/xalloc.h"
#include "input/gz_int.h"

/* ---- decoder ---------------------------------------------------------------------- */

static int gz_read(struct gzdec *g, void *p, size_t n)
{
    for (;;) {
        ssize_t r = read(g->fd, p, n);
        if (r >= 0)
            return (int)r;
        if (errno == EINTR)
            continue;
        diag_errno(&g->err, DIAG_IO, errno, "cannot read '%s'", g->name);
        g->state = GZDEC_ERROR;
        return -1;
    }
}

static void set_damage(struct gzdec *g, const char *what, const char *detail)
{
    g->damage_raw = g->raw_read - g->zs.avail_in;
    snprintf(g->damage_what, sizeof(g->damage_what), "%s%s", what, detail ? detail : "");
    g->state = GZDEC_DAMAGED;
}

/* Make sure at least @n compressed bytes are available (fewer only at EOF). */
static int gz_need(struct gzdec *g, size_t n)
{
    while (g->zs.avail_in < n && !g->raw_eof) {
        if (g->zs.avail_in && g->zs.next_in != g->zbuf)
            memmove(g->zbuf, g->zs.next_in, g->zs.avail_in);
        g->zs.next_in = g->zbuf;
        int r = gz_read(g, g->zbuf + g->zs.avail_in, GZDEC_READ_BYTES - g->zs.avail_in);
        if (r < 0)
            return -1;
        if (r == 0)
            g->raw_eof = true;
        g->zs.avail_in += (unsigned)r;
        g->raw_read += (uint64_t)r;
    }
    return 0;
}

/* The member that starts at the next compressed byte: with ISA-L where it can be
 * decoded again with zlib (a regular file), else with zlib. */
static int member_start(struct gzdec *g)
{
    g->member_raw = g->raw_read - g->zs.avail_in;
    g->member_out = g->out_total;
    g->member_done = false;
    g->hold_off = g->hold_len = 0;
    /* ISA-L takes headers zlib refuses (reserved flag bits, and it does not check a
     * header CRC): only a plain header (deflate, no FHCRC, no reserved bit) goes to it. */
    if (gz_need(g, 4) < 0)
        return -1;
    const unsigned char *h = g->zs.next_in;
    g->fast = g->isal && g->zs.avail_in >= 4 && h[2] == 8 && !(h[3] & 0xe2);
    if (g->fast) {
        isal_inflate_reset(g->isal);
        g->isal->crc_flag = ISAL_GZIP; /* header parsed, the trailer's CRC-32 and size checked */
        return 0;
    }
    if (inflateReset(&g->zs) != Z_OK) {
        diag_set(&g->err, DIAG_INTERNAL, "zlib: inflateReset failed");
        g->state = GZDEC_ERROR;
        return -1;
    }
    return 0;
}

/* After a member ended: another member, trailing zero padding, or garbage. */
static int gz_next_member(struct gzdec *g)
{
    if (gz_need(g, 2) < 0)
        return -1;
    if (g->zs.avail_in == 0) {
        g->state = GZDEC_EOF;
        return 0;
    }
    if (g->zs.avail_in >= 2 && g->zs.next_in[0] == 0x1f && g->zs.next_in[1] == 0x8b)
        return member_start(g);
    /* Zero padding after the last member (tape blocks) is not data; anything else is
     * reported as damage so it is never ignored silently. */
    for (;;) {
        for (unsigned i = 0; i < g->zs.avail_in; i++) {
            if (g->zs.next_in[i] != 0) {
                g->zs.next_in += i;
                g->zs.avail_in -= i;
                set_damage(g, "trailing garbage after gzip data", NULL);
                return 0;
            }
        }
        g->zs.next_in += g->zs.avail_in;
        g->zs.avail_in = 0;
        if (gz_need(g, 1) < 0)
            return -1;
        if (g->zs.avail_in == 0) {
            g->state = GZDEC_EOF;
            return 0;
        }
    }
}

struct gzdec *gzdec_new(int fd, const char *name, const void *first, size_t n, struct diag *d)
{
    if (n > GZDEC_READ_BYTES)
        BUG("gzdec_new: %zu first bytes", n);
    struct gzdec *g = xcalloc(1, sizeof(*g));
    struct stat st;
    g->fd = fd;
    g->name = name;
    g->zbuf = xmalloc(GZDEC_READ_BYTES);
    memcpy(g->zbuf, first, n);
    g->raw_read = n;
    g->zs.next_in = g->zbuf;
    g->zs.avail_in = (unsigned)n;
    if (inflateInit2(&g->zs, 16 + MAX_WBITS) != Z_OK) {
        diag_set(d, DIAG_INTERNAL, "zlib: inflateInit2 failed");
        gzdec_free(g);
        return NULL;
    }
    g->zinit = true;
    /* ISA-L where the file can be read again from a member's start (below); the bytes
     * already read are the file's first ones (gzip is always decoded from 0). */
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && lseek(fd, 0, SEEK_CUR) == (off_t)n &&
        !getenv("SIFT_GZ_ZLIB_ONLY")) {
        g->isal = xmalloc(sizeof(*g->isal));
        g->hold = xmalloc(GZDEC_HOLD_BUF);
        isal_inflate_init(g->isal);
    }
    /* a read error here is the decoder's state (GZDEC_ERROR), reported at the first read */
    (void)member_start(g);
    return g;
}

/* ISA-L found the member damaged (or cut short): decode it again with zlib from its
 * start, dropping what was handed on already, so that the bytes handed on before the
 * damage and the damage's offsets are zlib's, whatever the read and buffer sizes were.
 * (An offset recorded by one run and not reached by the next would make the stream look
 * rewritten, docs/store.md.) ISA-L stops at the same bad code, but it may have written
 * a few bytes more before it (the bad match itself: 3 more than zlib in a case
 * fuzz_gz found), or fewer: its last GZDEC_HOLD_BYTES are held back until the member
 * ends and its CRC-32 and size are checked, so zlib always has at least what was handed
 * on to drop. */
static int fall_back(struct gzdec *g)
{
    if (lseek(g->fd, (off_t)g->member_raw, SEEK_SET) != (off_t)g->member_raw) {
        diag_errno(&g->err, DIAG_IO, errno, "cannot read '%s' again", g->name);
        g->state = GZDEC_ERROR;
        return -1;
    }
    g->raw_read = g->member_raw;
    g->raw_eof = false;
    g->zs.next_in = g->zbuf;
    g->zs.avail_in = 0;
    g->skip = g->out_total - g->member_out;
    g->fast = false;
    g->hold_off = g->hold_len = 0;
    if (inflateReset(&g->zs) != Z_OK) {
        diag_set(&g->err, DIAG_INTERNAL, "zlib: inflateReset failed");
        g->state = GZDEC_ERROR;
        return -1;
    }
    return 0;
}

/* One step of ISA-L: hand on what may be from the hold buffer into out[0, n), else
 * decode more into it. Returns the bytes handed on. */
static size_t step_isal(struct gzdec *g, unsigned char *out, uint32_t n)
{
    struct inflate_state *s = g->isal;
    bool finished = s->block_state == ISAL_BLOCK_FINISH;
    size_t held = g->hold_len - g->hold_off;
    size_t may = finished ? held : held > GZDEC_HOLD_BYTES ? held - GZDEC_HOLD_BYTES : 0;

    if (may) {
        size_t k = may < n ? may : n;
        memcpy(out, g->hold + g->hold_off, k);
        g->hold_off += k;
        return k;
    }
    if (finished) {
        g->member_done = true; /* checked and all handed on */
        return 0;
    }
    if (g->hold_off) {
        memmove(g->hold, g->hold + g->hold_off, held);
        g->hold_off = 0;
        g->hold_len = held;
    }
    s->next_in = g->zs.next_in;
    s->avail_in = g->zs.avail_in;
    s->next_out = g->hold + g->hold_len;
    s->avail_out = (uint32_t)(GZDEC_HOLD_BUF - g->hold_len);
    int ret = isal_inflate(s);
    size_t got = GZDEC_HOLD_BUF - g->hold_len - s->avail_out;
    bool progress = got || s->avail_in != g->zs.avail_in;
    g->zs.next_in = s->next_in;
    g->zs.avail_in = s->avail_in;
    g->hold_len += got;
    if (ret < 0 ||
        (!progress && s->block_state != ISAL_BLOCK_FINISH && (g->zs.avail_in || g->raw_eof)))
        fall_back(g);
    return 0;
}

/* One step of zlib into out[0, n): the bytes written (after those to skip). */
static size_t step_zlib(struct gzdec *g, unsigned char *out, uint32_t n)
{
    unsigned char scratch[16384];
    bool skipping = g->skip > 0;
    g->zs.next_out = skipping ? scratch : out;
    g->zs.avail_out =
        skipping ? (uint32_t)(g->skip < sizeof(scratch) ? g->skip : sizeof(scratch)) : n;
    uint32_t want = g->zs.avail_out;
    /* Called even with no input left: zlib may still hold decoded bytes (the rest of a
     * match that did not fit the last output buffer). */
    int ret = inflate(&g->zs, Z_NO_FLUSH);
    size_t got = want - g->zs.avail_out;
    if (ret == Z_STREAM_END) {
        g->member_done = true;
    } else if (ret == Z_BUF_ERROR) {
        /* No progress possible: it needs input, and there is none. */
        if (g->zs.avail_in == 0 && g->raw_eof) {
            g->damage_cut = true;
            set_damage(g, "truncated gzip data", NULL);
        } else if (g->zs.avail_in != 0) {
            set_damage(g, "corrupt gzip data", NULL);
        }
    } else if (ret != Z_OK) {
        char msg[128];
        snprintf(msg, sizeof(msg), ": %s", g->zs.msg ? g->zs.msg : "inflate failed");
        set_damage(g, "corrupt gzip data", msg);
    }
    if (!skipping)
        return got;
    g->skip -= got;
    return 0;
}

struct gzdec *gzdec_new_plain(int fd, const char *name)
{
    struct gzdec *g = xcalloc(1, sizeof(*g));
    g->fd = fd;
    g->name = name;
    g->plain = true;
    return g;
}

static size_t plain_read(struct gzdec *g, unsigned char *out, size_t cap, size_t enough)
{
    size_t got = 0;
    while (got < cap && got < enough) {
        size_t n = cap - got > (1u << 30) ? (1u << 30) : cap - got;
        int r = gz_read(g, out + got, n);
        if (r < 0)
            break; /* GZDEC_ERROR, after the bytes read before */
        if (r == 0) {
            g->state = GZDEC_EOF;
            break;
        }
        got += (size_t)r;
        g->raw_read += (uint64_t)r;
    }
    return got;
}

size_t gzdec_decode(struct gzdec *g, unsigned char *out, size_t cap, size_t enough)
{
    if (g->state != GZDEC_MORE)
        return 0;
    if (g->plain)
        return plain_read(g, out, cap, enough);
    uint32_t want = (uint32_t)(cap > (1u << 30) ? (1u << 30) : cap), got = 0;

    while (got < want && g->state == GZDEC_MORE) {
        if (g->member_done) {
            if (gz_next_member(g) < 0)
                break;
            continue;
        }
        if (g->zs.avail_in == 0 && !g->raw_eof && gz_need(g, 1) < 0)
            break;
        size_t n =
            g->fast ? step_isal(g, out + got, want - got) : step_zlib(g, out + got, want - got);
        got += (uint32_t)n;
        g->out_total += n;
        /* Hand decoded bytes on promptly once enough are there. */
        if (got >= enough)
            break;
    }
    return got;
}

void gzdec_free(struct gzdec *g)
{
    if (!g)
        return;
    if (g->zinit)
        inflateEnd(&g->zs);
    free(g->isal);
    free(g->hold);
    free(g->zbuf);
    free(g);
}

/* ---- thread and ring -------------------------------------------------------------- */

struct gzslot {
    unsigned char *p;
    size_t len;           /* decoded bytes in p */
    enum gzdec_state end; /* the decoder's state after them */
};

struct gzthread {
    struct gzdec *dec; /* the thread's until it published its last slot */
    pthread_t tid;
    pthread_mutex_t mu;
    pthread_cond_t filled; /* count went up */
    pthread_cond_t freed;  /* count went down, or stop */
    struct gzslot *slots;
    size_t nslots, slot_bytes;
    /* under mu */
    size_t head, count;
    bool stop;
    /* the reader's own */
    size_t tail, rpos;
    bool holding; /* slots[tail] is known to be filled */
    bool ended;
    enum gzdec_state end;
};

static void *gz_main(void *arg)
{
    struct gzthread *t = arg;
    pthread_mutex_lock(&t->mu);
    for (;;) {
        /* Full: wait until half the ring is free, so that each wake-up decodes several
         * slots (fewer switches between the threads). */
        if (t->count == t->nslots)
            while (t->count > t->nslots / 2 && !t->stop)
                pthread_cond_wait(&t->freed, &t->mu);
        if (t->stop)
            break;
        struct gzslot *s = &t->slots[t->head];
        pthread_mutex_unlock(&t->mu);
        s->len = gzdec_decode(t->dec, s->p, t->slot_bytes, t->slot_bytes);
        s->end = t->dec->state;
        pthread_mutex_lock(&t->mu);
        t->head = (t->head + 1) % t->nslots;
        t->count++;
        pthread_cond_signal(&t->filled);
        if (s->end != GZDEC_MORE)
            break;
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

struct gzthread *gzthread_start(struct gzdec *g, size_t nslots, size_t slot_bytes)
{
    if (nslots < 2 || slot_bytes == 0)
        BUG("gzthread_start: %zu slots of %zu bytes", nslots, slot_bytes);
    struct gzthread *t = xcalloc(1, sizeof(*t));
    t->dec = g;
    t->nslots = nslots;
    t->slot_bytes = slot_bytes;
    t->slots = xcalloc(nslots, sizeof(*t->slots));
    for (size_t i = 0; i < nslots; i++)
        t->slots[i].p = xmalloc(slot_bytes);
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->filled, NULL);
    pthread_cond_init(&t->freed, NULL);

    /* Signals stay with the threads that handle them (the daemon's self-pipe, ingest's
     * interrupt): the decoder thread blocks them all. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&t->tid, NULL, gz_main, t);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        t->dec = NULL;
        gzthread_stop(t); /* frees the ring; no thread to join */
        return NULL;
    }
    return t;
}

size_t gzthread_read(struct gzthread *t, void *out, size_t cap, enum gzdec_state *end)
{
    size_t got = 0;
    *end = GZDEC_MORE;
    if (t->ended) {
        *end = t->end;
        return 0;
    }
    while (got < cap) {
        if (!t->holding) {
            pthread_mutex_lock(&t->mu);
            while (t->count == 0 && got == 0)
                pthread_cond_wait(&t->filled, &t->mu);
            t->holding = t->count > 0;
            pthread_mutex_unlock(&t->mu);
            if (!t->holding)
                break; /* return what we have rather than wait */
        }
        struct gzslot *s = &t->slots[t->tail];
        size_t n = s->len - t->rpos;
        if (n > cap - got)
            n = cap - got;
        memcpy((char *)out + got, s->p + t->rpos, n);
        got += n;
        t->rpos += n;
        if (t->rpos < s->len)
            break; /* @out is full */
        if (s->end != GZDEC_MORE) {
            /* The last slot: the thread has returned (it is joined in gzthread_stop). */
            t->ended = true;
            t->end = s->end;
            *end = s->end;
            break;
        }
        t->rpos = 0;
        t->holding = false;
        pthread_mutex_lock(&t->mu);
        t->tail = (t->tail + 1) % t->nslots;
        t->count--;
        if (t->count <= t->nslots / 2)
            pthread_cond_signal(&t->freed);
        pthread_mutex_unlock(&t->mu);
    }
    return got;
}

const struct gzdec *gzthread_decoder(const struct gzthread *t)
{
    return t->dec;
}

void gzthread_stop(struct gzthread *t)
{
    if (!t)
        return;
    if (t->dec) {
        pthread_mutex_lock(&t->mu);
        t->stop = true;
        pthread_cond_signal(&t->freed);
        pthread_mutex_unlock(&t->mu);
        pthread_join(t->tid, NULL);
        gzdec_free(t->dec);
    }
    pthread_cond_destroy(&t->freed);
    pthread_cond_destroy(&t->filled);
    pthread_mutex_destroy(&t->mu);
    for (size_t i = 0; i < t->nslots; i++)
        free(t->slots[i].p);
    free(t->slots);
    free(t);
}
