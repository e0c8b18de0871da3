/* SPDX-License-Identifier: MIT */
/*
 * input.c - one buffer of decoded bytes, refilled in large chunks; lines are found with
 * memchr() and handed out as spans into the buffer, so a line costs no allocation and
 * no copy. gzip is recognised by its magic bytes (not by the file name), so a gzipped
 * stdin works too. The gzip decoder (gz.c) runs on this thread or, for a regular .gz
 * file of some size, on a thread of its own that decodes ahead into a ring of buffers;
 * fill_gz() takes decoded bytes from either the same way.
 *
 * A plain regular file may instead be mapped (input_opts.map): buf is then the mapping
 * of the file from base (page aligned) to its end, start/scan/hint_nl mean the same, and
 * next_mapped() finds lines in it with the read path's exact results (offsets, '\r',
 * lines over SIFT_MAX_LINE_BYTES, the last line without '\n'). At the end of the mapping
 * the file is looked at again (fstat): grown, it is mapped further; shrunk, it was
 * truncated under us. A truncation also shows as SIGBUS on a page past the new end:
 * on_sigbus() maps zero pages over the rest of the mapping and flags the input
 * (input_truncated()), whose input_next() then fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "core/limits.h"
#include "core/sbuf.h"
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
    int damage_state; /* 0 none, 1 to report, 2 reported, 3 held (a cut end, hold_partial) */
    struct stat st;
    bool have_st;

    /* input_opts.map: buf is a mapping of len bytes (the file from base on) */
    bool mapped;
    size_t dropped;    /* buf[0, dropped) was given back (MADV_DONTNEED) */
    size_t populated;  /* buf[0, populated) was asked in (MADV_POPULATE_READ) */
    size_t prefetched; /* buf[0, prefetched) was prefetched into the cache */
    struct map_guard *guard;
};

/* ---- the SIGBUS guard of mappings ---- */

/* One mapping of an open input, on the list of the thread that reads it. The handler
 * only reads base/len and writes hit: plain stores of the same thread it interrupted. */
struct map_guard {
    char *base;
    size_t len; /* page multiple */
    volatile sig_atomic_t hit;
    struct map_guard *prev;
};

/* initial-exec: the handler's TLS access must not allocate (async-signal-safe). */
static _Thread_local struct map_guard *guards __attribute__((tls_model("initial-exec")));
static struct sigaction prev_bus;
static size_t page_bytes;
static pthread_once_t bus_once = PTHREAD_ONCE_INIT;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    char *a = si->si_addr;
    for (struct map_guard *g = guards; g; g = g->prev) {
        if (a < g->base || a >= g->base + g->len)
            continue;
        char *page = (char *)((uintptr_t)a & ~(uintptr_t)(page_bytes - 1));
        size_t n = (size_t)(g->base + g->len - page);
        if (mmap(page, n, PROT_READ, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) !=
            MAP_FAILED) {
            g->hit = 1;
            return; /* the access is retried and reads zeros */
        }
        break;
    }
    /* Not ours: the fault repeats under the previous disposition (default: death). */
    sigaction(SIGBUS, &prev_bus, NULL);
}

static void bus_install(void)
{
    page_bytes = (size_t)sysconf(_SC_PAGESIZE);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGBUS, &sa, &prev_bus) < 0)
        BUG("cannot install the SIGBUS handler");
}

static size_t page_up(size_t n)
{
    return (n + page_bytes - 1) & ~(page_bytes - 1);
}

static void guard_push(struct map_guard *g)
{
    g->prev = guards;
    guards = g;
}

static void guard_pop(struct map_guard *g)
{
    for (struct map_guard **pp = &guards; *pp; pp = &(*pp)->prev)
        if (*pp == g) {
            *pp = g->prev;
            return;
        }
}

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

/* Whether the end is left for a later read (input_opts.hold_partial): a last line without
 * '\n' of a plain file, or of gzip data that ends inside a member (being compressed) or
 * at the end of a member (rsyslog's zipped output, `gzip -c >>`: the line's rest comes in
 * the next member). Not after damage. */
static bool hold_end(const struct input *in)
{
    return in->hold_partial && (!in->gz || in->damage_state == 3 || in->damage_state == 0);
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
        in->damage.cut = g->damage_cut;
        /* A live file cut inside a member is being compressed: its end comes later. */
        in->damage_state = in->hold_partial && g->damage_cut ? 3 : 1;
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

/* Bytes given back behind the reader at a time (keeps the resident set small). */
#define MAP_DROP_BYTES (4u << 20)
/* Pages asked in at a time, once the reader is this close to the end of those asked. */
#define MAP_POP_BYTES      (4u << 20)
#define MAP_POP_AHEAD      (4u << 20)
#define MAP_PREFETCH_BYTES (16u << 10)

/* Map the file from @off (page aligned) to @size into buf. Returns 0, -1 (not mapped). */
static int map_range(struct input *in, uint64_t off, uint64_t size)
{
    if (size <= off || size - off > SIZE_MAX / 2)
        return -1;
    size_t n = (size_t)(size - off);
    void *p = mmap(NULL, n, PROT_READ, MAP_PRIVATE, in->fd, (off_t)off);
    if (p == MAP_FAILED)
        return -1;
    (void)madvise(p, n, MADV_SEQUENTIAL);
    in->buf = p;
    in->len = n;
    in->cap = n;
    in->base = off;
    in->guard->base = p;
    in->guard->len = page_up(n);
    return 0;
}

/* input_opts.map: map a plain regular file from @start on. Returns true if mapped. */
static bool map_open(struct input *in, uint64_t start, uint64_t bytes)
{
    const char *env = getenv("SIFT_NO_MMAP");
    if ((env && !strcmp(env, "1")) || !in->have_st || !S_ISREG(in->st.st_mode) ||
        start >= (uint64_t)in->st.st_size || input_fd_is_gzip(in->fd))
        return false;
    pthread_once(&bus_once, bus_install);
    in->guard = xcalloc(1, sizeof(*in->guard));
    uint64_t off = start & ~(uint64_t)(page_bytes - 1);
    /* Registered before the first access: from here on a truncation is caught. */
    guard_push(in->guard);
    uint64_t size = (uint64_t)in->st.st_size;
    if (bytes && bytes < size - start)
        size = start + bytes;
    if (map_range(in, off, size) < 0) {
        guard_pop(in->guard);
        free(in->guard);
        in->guard = NULL;
        in->buf = NULL;
        in->len = in->cap = 0;
        in->base = 0;
        return false;
    }
    in->mapped = true;
    in->sniffed = true;
    in->start = in->scan = (size_t)(start - off);
    in->dropped = in->populated = in->prefetched = in->start & ~(page_bytes - 1);
    return true;
}

/* At the end of the mapping: look at the file again. Returns 1 when it grew (mapped
 * further: buf may have moved, indices stay), 0 at its end, -1 (@d filled) when it is
 * shorter than what was mapped (truncated) or cannot be looked at. */
static int map_grow(struct input *in, struct diag *d)
{
    struct stat st;
    if (fstat(in->fd, &st) < 0)
        return diag_errno(d, DIAG_IO, errno, "cannot read '%s'", in->name);
    uint64_t end = in->base + in->len;
    if ((uint64_t)st.st_size < end)
        in->guard->hit = 1;
    if (in->guard->hit)
        return -1;
    if ((uint64_t)st.st_size == end)
        return 0;
    char *old = in->buf;
    size_t old_len = in->len, keep_start = in->start, keep_scan = in->scan;
    uint64_t base = in->base;
    /* The new mapping is made before the old one goes: a failure keeps reading valid. */
    if (map_range(in, base, (uint64_t)st.st_size) < 0)
        return diag_errno(d, DIAG_IO, errno, "cannot map '%s'", in->name);
    munmap(old, old_len);
    in->start = keep_start;
    in->scan = keep_scan;
    in->dropped = 0;
    in->populated = 0;
    in->prefetched = 0;
    return 1;
}

static enum input_status map_truncated(struct input *in, struct diag *d)
{
    diag_set(d, DIAG_IO,
             "'%s' shrank while being read (copytruncate?): it is read again from the last "
             "commit next run",
             in->name);
    return INPUT_ERROR;
}

static void map_fill_line(struct input *in, struct input_line *ln, size_t at, size_t n,
                          uint64_t end, bool partial, bool truncated)
{
    ln->offset = in->base + at;
    ln->end = end;
    if (!truncated && n && in->buf[at + n - 1] == '\r')
        n--;
    ln->text = span_make(in->buf + at, truncated ? SIFT_MAX_LINE_BYTES : n);
    ln->line = in->next_line_no++;
    ln->partial = partial;
    ln->truncated = truncated;
    ln->source = in->name_span;
}

/* Map the pages ahead of the reader in a window at a time (one call instead of a fault
 * every few pages), and give those behind it back (they stay in the page cache). */
static void map_window(struct input *in)
{
    /* The parser's scans start cold in each page (hardware prefetchers stop at page
     * ends): keep up to MAP_PREFETCH_BYTES ahead in the cache, a few lines a call (a
     * burst would fill the line buffers and stall). */
    if (in->prefetched < in->start)
        in->prefetched = in->start & ~(size_t)63;
    if (in->prefetched < in->start + MAP_PREFETCH_BYTES && in->prefetched + 256 <= in->len) {
        __builtin_prefetch(in->buf + in->prefetched);
        __builtin_prefetch(in->buf + in->prefetched + 64);
        __builtin_prefetch(in->buf + in->prefetched + 128);
        __builtin_prefetch(in->buf + in->prefetched + 192);
        in->prefetched += 256;
    }
#ifdef MADV_POPULATE_READ
    if (in->populated < in->len && in->start + MAP_POP_AHEAD > in->populated) {
        size_t from = in->populated & ~(page_bytes - 1);
        size_t n = in->len - from < MAP_POP_BYTES ? in->len - from : MAP_POP_BYTES;
        if (madvise(in->buf + from, page_up(n), MADV_POPULATE_READ) < 0)
            in->populated = in->len; /* (an old kernel, or the file shrank: faults do) */
        else
            in->populated = from + n;
    }
#endif
    if (in->start - in->dropped < 2 * MAP_DROP_BYTES)
        return;
    size_t to = (in->start - MAP_DROP_BYTES) & ~(page_bytes - 1);
    size_t from = in->dropped & ~(page_bytes - 1);
    if (to > from)
        (void)madvise(in->buf + from, to - from, MADV_DONTNEED);
    in->dropped = to;
}

static enum input_status next_mapped(struct input *in, struct input_line *ln, struct diag *d)
{
    size_t hint = in->hint_nl;
    in->hint_nl = 0;
    if (in->guard->hit)
        return map_truncated(in, d);
    map_window(in);
    for (;;) {
        size_t at = in->start;
        size_t avail = in->len - at;
        /* A line of more than SIFT_MAX_LINE_BYTES has no '\n' in its first MAX + 1 bytes. */
        size_t lim = avail < (size_t)SIFT_MAX_LINE_BYTES + 1 ? avail : SIFT_MAX_LINE_BYTES + 1;
        const char *nl = NULL;
        if (hint) {
            nl = in->buf + hint - 1;
        } else if (in->scan - at < lim) {
            nl = memchr(in->buf + in->scan, '\n', lim - (in->scan - at));
            if (in->guard->hit)
                return map_truncated(in, d);
        }
        hint = 0;
        if (nl) {
            size_t n = (size_t)(nl - (in->buf + at));
            map_fill_line(in, ln, at, n, in->base + at + n + 1, false, false);
            in->start = in->scan = at + n + 1;
            return INPUT_LINE;
        }
        in->scan = at + lim;
        if (lim > SIFT_MAX_LINE_BYTES) {
            /* Over-long: its first bytes, offsets exact; find its end (maybe past the
             * end of the mapping as it is now). */
            size_t q = at + lim;
            for (;;) {
                size_t step = in->len - q < INPUT_CHUNK_BYTES ? in->len - q : INPUT_CHUNK_BYTES;
                const char *e = step ? memchr(in->buf + q, '\n', step) : NULL;
                if (in->guard->hit)
                    return map_truncated(in, d);
                if (e) {
                    size_t stop = (size_t)(e - in->buf) + 1;
                    map_fill_line(in, ln, at, 0, in->base + stop, false, true);
                    in->start = in->scan = stop;
                    return INPUT_LINE;
                }
                q += step;
                if (q < in->len)
                    continue;
                int g = in->eof ? 0 : map_grow(in, d);
                if (g < 0)
                    return in->guard->hit ? map_truncated(in, d) : INPUT_ERROR;
                if (g == 0) {
                    in->eof = true;
                    map_fill_line(in, ln, at, 0, in->base + in->len, true, true);
                    in->start = in->scan = in->len;
                    return INPUT_LINE;
                }
            }
        }
        /* The end of the mapping, inside a line or after the last one. */
        int g = in->eof ? 0 : map_grow(in, d);
        if (g < 0)
            return in->guard->hit ? map_truncated(in, d) : INPUT_ERROR;
        if (g > 0)
            continue;
        in->eof = true;
        if (avail && !in->hold_partial) {
            map_fill_line(in, ln, at, avail, in->base + in->len, true, false);
            in->start = in->scan = in->len;
            return INPUT_LINE;
        }
        return INPUT_EOF;
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
    struct stat fst;
    bool handed_stream = o->have_fd && fd >= 0 && fstat(fd, &fst) == 0 && !S_ISREG(fst.st_mode);
    if (o->have_fd && !handed_stream && lseek(fd, 0, SEEK_SET) < 0) {
        /* The shared position may be anywhere: only seekable files can be handed over
         * (a pipe or device is read on from where it stands, as stdin is). */
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

    if (o->map && !is_stdin) {
        free(in->buf);
        in->buf = NULL;
        if (map_open(in, o->start_offset, o->map_bytes))
            return in;
        in->buf = xmalloc(in->cap);
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
    if (in->mapped)
        return next_mapped(in, ln, d);
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
            if (in->start < in->len && !hold_end(in)) {
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
    size_t n = in->len - in->start;
    if (in->mapped && n > INPUT_MAP_AHEAD_BYTES)
        n = INPUT_MAP_AHEAD_BYTES;
    return span_make(in->buf + in->start, n);
}

bool input_truncated(const struct input *in)
{
    return in->mapped && in->guard->hit;
}

bool input_mapped(const struct input *in)
{
    return in->mapped;
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
    if (bytes > in->len - in->start || (bytes && in->buf[in->start + bytes - 1] != '\n')) {
        /* The file was cut under the mapping after the parser read those lines (their
         * pages read as zeros now): not the caller's mistake. input_next() fails. */
        if (in->mapped && in->guard->hit)
            return;
        BUG("input_consume: %zu bytes are not complete lines of the buffer", bytes);
    }
    in->start += bytes;
    in->scan = in->start;
    in->next_line_no += lines;
}

const struct input_damage *input_damage(const struct input *in)
{
    return in->damage_state == 1 || in->damage_state == 2 ? &in->damage : NULL;
}

bool input_end_held(const struct input *in, uint64_t *end)
{
    *end = in->gz ? in->base + in->len : 0;
    return hold_end(in);
}

bool input_end_cut(const struct input *in)
{
    return in->damage_state == 3;
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
    if (in->mapped) {
        munmap(in->buf, in->len);
        guard_pop(in->guard); /* (after: a late access would still be caught) */
        free(in->guard);
        in->buf = NULL;
    }
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

/* What a file's name says of its destination (input_dest_twins()). */
struct input_dest {
    int kind;          /* 0 csvlog, 1 jsonlog, 2 stderr (".log", or no extension): the
                          order of preference */
    size_t stem_len;   /* the name before the extension */
    size_t suffix_at;  /* the rotation suffix after it (".1", "-20261124"), */
    size_t suffix_len; /* without a last ".gz" */
    int64_t mtime;     /* the file's modification time (s); 0: unknown */
};

static void log_destination(const char *path, struct input_dest *out)
{
    static const char *const exts[] = { ".csv", ".json", ".log" };
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t len = strlen(path);
    /* no destination extension: the stderr file of a log_filename that does not end in
     * ".log" (PostgreSQL then appends ".csv" / ".json" for the others) */
    *out = (struct input_dest){ .kind = 2, .stem_len = len, .suffix_at = len, .suffix_len = 0 };
    int best = -1;
    size_t at = 0, el = 0;
    for (int k = 0; k < 3; k++) {
        size_t n = strlen(exts[k]);
        for (const char *p = base; (p = strstr(p, exts[k])); p++) {
            char after = p[n];
            /* the extension, then the end or a rotation suffix (.1, .gz, -20261124) */
            if ((after == '\0' || after == '.' || after == '-' || after == '_') &&
                (best < 0 || (size_t)(p - path) > at)) {
                best = k;
                at = (size_t)(p - path);
                el = n;
            }
        }
    }
    if (best < 0)
        return;
    out->kind = best;
    out->stem_len = at;
    out->suffix_at = at + el;
    out->suffix_len = len - out->suffix_at;
    if (out->suffix_len >= 3 && !memcmp(path + len - 3, ".gz", 3))
        out->suffix_len -= 3; /* compressed or not, the same rotation */
}

/* Whether @path (@d) holds what @other (@o), a better destination of the same server,
 * holds. */
static bool dest_twin(const char *path, const struct input_dest *d, const char *other,
                      const struct input_dest *o)
{
    if (o->kind >= d->kind || o->stem_len != d->stem_len || memcmp(path, other, d->stem_len) != 0)
        return false;
    /* the same rotation (x.log.1 and x.csv.1), or the live file while the other's live
     * file is being rotated (x.log beside x.csv.1 alone) */
    if (d->suffix_len == o->suffix_len &&
        !memcmp(path + d->suffix_at, other + o->suffix_at, d->suffix_len))
        return true;
    int64_t apart = d->mtime > o->mtime ? d->mtime - o->mtime : o->mtime - d->mtime;
    return d->suffix_len == 0 && d->mtime && o->mtime && apart <= SIFT_HOLD_LIVE_SECONDS;
}

size_t *input_dest_twins(const char *const *names, const int64_t *mtimes, const bool *named,
                         size_t n)
{
    size_t *twin = xcalloc(n ? n : 1, sizeof(*twin));
    struct input_dest *dest = xcalloc(n ? n : 1, sizeof(*dest));
    for (size_t i = 0; i < n; i++) {
        log_destination(names[i], &dest[i]);
        dest[i].mtime = mtimes[i];
    }
    for (size_t i = 0; i < n; i++) {
        twin[i] = SIZE_MAX;
        for (size_t j = 0; j < n && !(named && named[i]); j++)
            if (j != i && dest_twin(names[i], &dest[i], names[j], &dest[j]) &&
                (twin[i] == SIZE_MAX || dest[j].kind < dest[twin[i]].kind))
                twin[i] = j;
    }
    free(dest);
    return twin;
}
