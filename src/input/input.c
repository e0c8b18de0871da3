/* SPDX-License-Identifier: MIT */
/*
 * input.c - one buffer of decoded bytes, refilled in large chunks; lines are found with
 * memchr() and handed out as spans into the buffer, so a line costs no allocation and
 * no copy. gzip is recognised by its magic bytes (not by the file name), so a gzipped
 * stdin works too. The gzip decoder (gz.c) runs on this thread or, for a regular .gz
 * file of some size, on a thread of its own that decodes ahead into a ring of buffers;
 * fill_gz() takes decoded bytes from either the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "core/limits.h"
#include "core/xalloc.h"
#include "input/gz_int.h"
#include "input/input.h"

struct input {
    int fd;
    bool own_fd;
    char *name;
    struct span name_span;
    bool hold_partial;
    size_t chunk;

    /* Decoded bytes: buf[start, len) not yet returned; base = decoded offset of buf[0]. */
    char *buf;
    size_t cap, start, len, scan;
    uint64_t base;
    uint64_t next_line_no;
    size_t hint_nl;   /* input_hint_line(): 1 + the index of the next line's '\n'; 0 none */
    uint64_t discard; /* decoded bytes still to drop before the first line (resume) */
    bool eof;         /* no more decoded bytes will come */
    bool sniffed;     /* gzip magic checked */

    /* gzip: decoded here by dec, or ahead by gzt (which then owns the decoder) */
    bool gz;
    enum input_gz_mode gz_mode;
    size_t gz_slot_bytes;
    struct gzdec *dec;
    struct gzthread *gzt;
    bool gz_failed;  /* read error: reported once the bytes before it are returned */
    bool read_ahead; /* input_opts.read_ahead: gzt reads a plain file ahead */

    struct input_damage damage;
    int damage_state; /* 0 none, 1 to report, 2 reported */
    struct stat st;
    bool have_st;
};

static int read_fd(struct input *in, void *p, size_t n, struct diag *d)
{
    for (;;) {
        ssize_t r = read(in->fd, p, n);
        if (r >= 0)
            return (int)r;
        if (errno == EINTR)
            continue;
        return diag_errno(d, DIAG_IO, errno, "cannot read '%s'", in->name);
    }
}

/* Append decoded bytes to buf[len, cap). Returns bytes added (0: EOF), -1 on error. */
static long fill_gz(struct input *in, struct diag *d)
{
    const struct gzdec *g = in->gzt ? gzthread_decoder(in->gzt) : in->dec;
    if (in->gz_failed)
        return diag_set(d, g->err.kind, "%s", g->err.msg);
    size_t room = in->cap - in->len;
    enum gzdec_state end;
    size_t got;
    if (in->gzt) {
        got = gzthread_read(in->gzt, in->buf + in->len, room, &end);
    } else {
        got = gzdec_decode(in->dec, (unsigned char *)in->buf + in->len, room, in->chunk);
        end = in->dec->state;
    }
    in->len += got;
    switch (end) {
    case GZDEC_MORE: break;
    case GZDEC_EOF: in->eof = true; break;
    case GZDEC_DAMAGED:
        in->damage.raw_offset = g->damage_raw;
        in->damage.decoded_offset = in->base + in->len;
        snprintf(in->damage.what, sizeof(in->damage.what), "%s", g->damage_what);
        in->damage_state = 1;
        in->eof = true;
        break;
    case GZDEC_ERROR:
        /* The bytes decoded before the failed read are returned first. */
        in->gz_failed = true;
        if (got == 0)
            return diag_set(d, g->err.kind, "%s", g->err.msg);
        break;
    }
    return (long)got;
}

static int sniff_gzip(struct input *in, struct diag *d)
{
    in->sniffed = true;
    /* The first raw bytes are already in buf[len-n, len) when we get here. */
    size_t n = in->len - in->start;
    if (n < 2 || (unsigned char)in->buf[in->start] != 0x1f ||
        (unsigned char)in->buf[in->start + 1] != 0x8b)
        return 0;
    in->gz = true;
    in->dec = gzdec_new(in->fd, in->name, in->buf + in->start, n, d);
    if (!in->dec)
        return -1;
    in->len = in->start;

    /* Decode on a thread of its own only where it pays and where stopping it is prompt:
     * regular files (a pipe's read() may block indefinitely, and close must not wait for
     * it), of at least SIFT_GZ_THREAD_MIN_RAW compressed bytes unless forced. */
    bool regular = in->have_st && S_ISREG(in->st.st_mode);
    bool thread = in->gz_mode == INPUT_GZ_THREAD ? regular
                  : in->gz_mode == INPUT_GZ_INLINE
                      ? false
                      : regular && (uint64_t)in->st.st_size >= SIFT_GZ_THREAD_MIN_RAW;
    if (thread) {
        in->gzt = gzthread_start(in->dec, SIFT_GZ_RING_SLOTS, in->gz_slot_bytes);
        if (in->gzt)
            in->dec = NULL; /* the thread's now; with no thread, decode here */
    }
    return 0;
}

/* A plain regular file, asked to be read ahead: from here on (after the first chunk,
 * read here to recognise gzip) the thread reads and fill_gz() copies from its ring. With
 * no thread, reading goes on here. */
static void start_read_ahead(struct input *in)
{
    if (!in->read_ahead || !in->have_st || !S_ISREG(in->st.st_mode))
        return;
    in->dec = gzdec_new_plain(in->fd, in->name);
    in->gzt = gzthread_start(in->dec, SIFT_GZ_RING_SLOTS, in->gz_slot_bytes);
    if (!in->gzt)
        gzdec_free(in->dec);
    in->dec = NULL;
}

/* Append decoded bytes. Returns bytes added, 0 at EOF, -1 on error. */
static long fill(struct input *in, struct diag *d)
{
    if (in->eof)
        return 0;
    if (in->gz || in->gzt)
        return fill_gz(in, d);
    size_t old = in->len;
    size_t room = in->cap - in->len;
    if (room > in->chunk)
        room = in->chunk;
    if (!in->sniffed && room > GZDEC_READ_BYTES)
        room = GZDEC_READ_BYTES; /* the first read must fit the gzip read buffer */
    int r = read_fd(in, in->buf + in->len, room > (1u << 30) ? (1u << 30) : room, d);
    if (r < 0)
        return -1;
    in->len += (size_t)r;
    if (!in->sniffed) {
        /* Two bytes are needed to recognise gzip; a pipe may deliver one at a time. */
        while (r > 0 && in->len - in->start < 2) {
            r = read_fd(in, in->buf + in->len, 1, d);
            if (r < 0)
                return -1;
            in->len += (size_t)r;
        }
        if (sniff_gzip(in, d) < 0)
            return -1;
        if (in->gz)
            return fill_gz(in, d);
        start_read_ahead(in);
    }
    if (in->len == old)
        in->eof = true;
    return (long)(in->len - old);
}

/* Move unreturned bytes to the front and make room for at least one chunk. */
static void make_room(struct input *in)
{
    if (in->start > 0) {
        size_t keep = in->len - in->start;
        if (keep)
            memmove(in->buf, in->buf + in->start, keep);
        in->base += in->start;
        in->scan -= in->start;
        in->len = keep;
        in->start = 0;
    }
    if (in->cap - in->len < in->chunk) {
        /* Geometric growth: a long line read in small chunks stays linear. */
        size_t need = in->len + in->chunk;
        if (need < in->cap * 2)
            need = in->cap * 2;
        in->buf = xrealloc(in->buf, need);
        in->cap = need;
    }
}

/* Fill after making room; drop bytes still to be skipped for a resume. */
static long refill(struct input *in, struct diag *d)
{
    for (;;) {
        make_room(in);
        long r = fill(in, d);
        if (r <= 0 || in->discard == 0)
            return r;
        size_t avail = in->len - in->start;
        size_t drop = in->discard < avail ? (size_t)in->discard : avail;
        in->start += drop;
        in->scan = in->start;
        in->discard -= drop;
        if (in->start < in->len)
            return (long)(in->len - in->start);
    }
}

struct input *input_open(const struct input_opts *o, struct diag *d)
{
    bool is_stdin = !o->have_fd && !strcmp(o->path, "-");
    int fd = o->have_fd ? fcntl(o->fd, F_DUPFD_CLOEXEC, 3)
             : is_stdin ? STDIN_FILENO
                        : open(o->path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        diag_errno(d, DIAG_IO, errno, "cannot open '%s'", o->path);
        return NULL;
    }
    if (o->have_fd && lseek(fd, 0, SEEK_SET) < 0) {
        /* The shared position may be anywhere: only seekable files can be handed over. */
        diag_errno(d, DIAG_IO, errno, "cannot read '%s'", o->path);
        close(fd);
        return NULL;
    }
    struct input *in = xcalloc(1, sizeof(*in));
    in->fd = fd;
    in->own_fd = !is_stdin;
    in->name = xstrdup(o->name ? o->name : o->path);
    in->name_span = span_cstr(in->name);
    in->hold_partial = o->hold_partial;
    in->chunk = o->chunk_bytes ? o->chunk_bytes : INPUT_CHUNK_BYTES;
    in->cap = 2 * in->chunk;
    in->buf = xmalloc(in->cap);
    in->next_line_no = o->start_line ? o->start_line : 1;
    in->gz_mode = o->gz_mode;
    in->read_ahead = o->read_ahead;
    if (in->gz_mode == INPUT_GZ_AUTO) {
        const char *env = getenv("SIFT_GZ_THREAD");
        if (env && !strcmp(env, "0"))
            in->gz_mode = INPUT_GZ_INLINE;
        else if (env && !strcmp(env, "1"))
            in->gz_mode = INPUT_GZ_THREAD;
    }
    in->gz_slot_bytes = o->gz_slot_bytes ? o->gz_slot_bytes : SIFT_GZ_SLOT_BYTES;
    in->have_st = fstat(fd, &in->st) == 0;
    if (in->have_st && S_ISDIR(in->st.st_mode)) {
        diag_set(d, DIAG_IO, "cannot read '%s': is a directory", o->path);
        input_close(in);
        return NULL;
    }

    if (o->start_offset) {
        /* A plain regular file is resumed with lseek; gzip data and pipes are decoded
         * and the first start_offset bytes dropped. */
        unsigned char magic[2];
        bool regular = in->have_st && S_ISREG(in->st.st_mode);
        bool gz = regular && pread(fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        if (regular && !gz && lseek(fd, (off_t)o->start_offset, SEEK_SET) >= 0) {
            in->base = o->start_offset;
            in->sniffed = true;
            start_read_ahead(in);
        } else {
            in->discard = o->start_offset;
        }
    }
    return in;
}

enum input_status input_next(struct input *in, struct input_line *ln, struct diag *d)
{
    size_t hint = in->hint_nl;
    in->hint_nl = 0;
    for (;;) {
        char *nl = hint                 ? in->buf + hint - 1
                   : in->scan < in->len ? memchr(in->buf + in->scan, '\n', in->len - in->scan)
                                        : NULL;
        hint = 0;
        size_t pending = in->len - in->start;
        if (!nl && pending > SIFT_MAX_LINE_BYTES) {
            /* Keep the first SIFT_MAX_LINE_BYTES, drop the rest of the line while reading
             * on, so the offsets and line numbers after it stay exact. */
            size_t keep = in->start + SIFT_MAX_LINE_BYTES;
            uint64_t dropped = in->len - keep;
            in->len = keep;
            in->scan = keep;
            for (;;) {
                if (in->cap - in->len < in->chunk) {
                    size_t need = in->len + in->chunk;
                    in->buf = xrealloc(in->buf, need);
                    in->cap = need;
                }
                long r = fill(in, d);
                if (r < 0)
                    return INPUT_ERROR;
                char *q = memchr(in->buf + keep, '\n', in->len - keep);
                if (q) {
                    size_t skip = (size_t)(q - (in->buf + keep));
                    dropped += skip;
                    size_t rest = in->len - keep - skip - 1;
                    memmove(in->buf + keep, q + 1, rest);
                    in->len = keep + rest;
                    ln->end = in->base + in->start + SIFT_MAX_LINE_BYTES + dropped + 1;
                    ln->partial = false;
                    break;
                }
                dropped += in->len - keep;
                in->len = keep;
                if (r == 0 || in->eof) {
                    ln->end = in->base + in->start + SIFT_MAX_LINE_BYTES + dropped;
                    ln->partial = true;
                    break;
                }
            }
            ln->text = span_make(in->buf + in->start, SIFT_MAX_LINE_BYTES);
            ln->offset = in->base + in->start;
            ln->line = in->next_line_no++;
            ln->truncated = true;
            ln->source = in->name_span;
            /* The base moves past the dropped bytes: buf[keep] is at decoded ln->end. */
            in->base = ln->end - keep;
            in->start = keep;
            in->scan = keep;
            return INPUT_LINE;
        }
        if (nl && (size_t)(nl - (in->buf + in->start)) > SIFT_MAX_LINE_BYTES) {
            /* The whole over-long line is in the buffer: return its first bytes. */
            ln->offset = in->base + in->start;
            ln->end = in->base + (size_t)(nl - in->buf) + 1;
            ln->text = span_make(in->buf + in->start, SIFT_MAX_LINE_BYTES);
            ln->line = in->next_line_no++;
            ln->partial = false;
            ln->truncated = true;
            ln->source = in->name_span;
            in->start = (size_t)(nl - in->buf) + 1;
            in->scan = in->start;
            return INPUT_LINE;
        }
        if (nl) {
            size_t n = (size_t)(nl - (in->buf + in->start));
            ln->offset = in->base + in->start;
            ln->end = ln->offset + n + 1;
            if (n && in->buf[in->start + n - 1] == '\r')
                n--;
            ln->text = span_make(in->buf + in->start, n);
            ln->line = in->next_line_no++;
            ln->partial = false;
            ln->truncated = false;
            ln->source = in->name_span;
            in->start = (size_t)(nl - in->buf) + 1;
            in->scan = in->start;
            return INPUT_LINE;
        }
        in->scan = in->len;
        if (in->eof) {
            if (in->start < in->len && !in->hold_partial) {
                size_t n = in->len - in->start;
                ln->offset = in->base + in->start;
                ln->end = ln->offset + n;
                if (in->buf[in->start + n - 1] == '\r')
                    n--;
                ln->text = span_make(in->buf + in->start, n);
                ln->line = in->next_line_no++;
                ln->partial = true;
                ln->truncated = false;
                ln->source = in->name_span;
                in->start = in->len;
                in->scan = in->len;
                return INPUT_LINE;
            }
            if (in->damage_state == 1) {
                in->damage_state = 2;
                return INPUT_DAMAGED;
            }
            return INPUT_EOF;
        }
        if (refill(in, d) < 0)
            return INPUT_ERROR;
    }
}

struct span input_ahead(const struct input *in)
{
    return span_make(in->buf + in->start, in->len - in->start);
}

void input_hint_line(struct input *in, const char *at, size_t len)
{
    in->hint_nl = 0;
    if (at == in->buf + in->start && in->scan == in->start && len <= SIFT_MAX_LINE_BYTES &&
        len < in->len - in->start && in->buf[in->start + len] == '\n')
        in->hint_nl = in->start + len + 1;
}

void input_consume(struct input *in, size_t bytes, uint64_t lines)
{
    in->hint_nl = 0;
    if (bytes > in->len - in->start || (bytes && in->buf[in->start + bytes - 1] != '\n'))
        BUG("input_consume: %zu bytes are not complete lines of the buffer", bytes);
    in->start += bytes;
    in->scan = in->start;
    in->next_line_no += lines;
}

const struct input_damage *input_damage(const struct input *in)
{
    return in->damage_state ? &in->damage : NULL;
}

bool input_fd_is_gzip(int fd)
{
    unsigned char m[2];
    return pread(fd, m, 2, 0) == 2 && m[0] == 0x1f && m[1] == 0x8b;
}

bool input_path_is_gzip(const char *path)
{
    /* O_NONBLOCK: a FIFO named like a log must not hang the caller. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return false;
    bool gz = input_fd_is_gzip(fd);
    close(fd);
    return gz;
}

void input_identity(const struct input *in, struct input_identity *id)
{
    memset(id, 0, sizeof(*id));
    if (in->have_st) {
        id->regular = S_ISREG(in->st.st_mode);
        if (id->regular) {
            id->dev = (uint64_t)in->st.st_dev;
            id->ino = (uint64_t)in->st.st_ino;
            id->size = (uint64_t)in->st.st_size;
        }
    }
    id->compressed = in->gz;
}

const char *input_name(const struct input *in)
{
    return in->name;
}

uint64_t input_offset(const struct input *in)
{
    return in->base + in->start;
}

void input_close(struct input *in)
{
    if (!in)
        return;
    gzthread_stop(in->gzt); /* before the descriptor it reads is closed */
    gzdec_free(in->dec);
    if (in->own_fd && in->fd >= 0)
        close(in->fd);
    free(in->buf);
    free(in->name);
    free(in);
}

int input_hash_range(const char *path, uint64_t from, uint64_t to, uint64_t *hash, uint64_t *got,
                     struct diag *d)
{
    struct input *in = input_open(&(struct input_opts){ .path = path, .start_offset = from }, d);
    if (!in)
        return -1;
    XXH3_state_t *st = XXH3_createState();
    if (!st)
        BUG("XXH3_createState failed");
    XXH3_64bits_reset(st);
    uint64_t want = to > from ? to - from : 0, done = 0;
    int rc = 0;
    while (done < want) {
        if (in->start == in->len) {
            long r = refill(in, d);
            if (r < 0) {
                rc = -1;
                break;
            }
            if (r == 0 && in->start == in->len)
                break;
        }
        size_t n = in->len - in->start;
        if (n > want - done)
            n = (size_t)(want - done);
        XXH3_64bits_update(st, in->buf + in->start, n);
        in->start += n;
        in->scan = in->start;
        done += n;
    }
    *hash = XXH3_64bits_digest(st);
    *got = done;
    XXH3_freeState(st);
    input_close(in);
    return rc;
}
