/* SPDX-License-Identifier: MIT */
/*
 * ingest.c - one source into the store, exactly once (see ingest.h).
 *
 * Two views of the same decoded stream are used: the pipeline's (input -> parse ->
 * store_add(), lines with their decoded offsets) and a random-access reader (zlib's gz*
 * API, which reads plain files as they are) used to recognise the stream and, rarely,
 * to re-read the bytes before a commit offset. For a plain file the bytes just before
 * each commit offset (the "mark") and its first bytes are read back with one pread; for
 * a .gz file they come from a ring of the last lines fed, so it is not decompressed
 * twice in the common case.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "cmd/ingest.h"
#include "core/clock.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/tailbuf.h"
#include "core/varint.h"
#include "core/xalloc.h"
#include "pipeline.h"

/* Bytes of fed lines kept for marks (at least this many, core/tailbuf.h): the commit
 * offset is the start of the oldest record still waiting for continuation lines,
 * normally within the last few lines. */
#define RING_KEEP ((size_t)4 << 20)

void ingest_result_init(struct ingest_result *r)
{
    memset(r, 0, sizeof(*r));
    sbuf_init(&r->diagnosis, 64 * 1024);
}

void ingest_result_release(struct ingest_result *r)
{
    sbuf_release(&r->diagnosis);
    free(r->prev_name);
    free(r->format);
    parse_stats_release(&r->stats);
    memset(r, 0, sizeof(*r));
}

/* ---- checkpoint blob: version 1, varint count, then per run: offset - checkpoint
 * offset (varint, ascending deltas) and lines (varint); version 2 (a format that saves
 * its state, parse_checkpoint.state): the same, then that state's bytes to the end ---- */

static int put_varint(struct sbuf *out, uint64_t v)
{
    unsigned char b[VARINT_MAX_BYTES];
    return sbuf_add(out, b, (size_t)(varint_put(b, v) - b));
}

static int get_varint(const unsigned char **p, const unsigned char *end, uint64_t *out)
{
    return varint_get(p, end, out) ? 0 : -1;
}

int ingest_checkpoint_encode(const struct parse_checkpoint *cp, struct sbuf *out)
{
    unsigned char version = cp->state.len ? 2 : 1;
    uint64_t prev = cp->offset;
    if (sbuf_add(out, &version, 1) < 0 || put_varint(out, cp->nskip) < 0)
        return -1;
    for (size_t i = 0; i < cp->nskip; i++) {
        if (cp->skip[i].offset < prev)
            BUG("parse checkpoint skip runs out of order");
        if (put_varint(out, cp->skip[i].offset - prev) < 0 ||
            put_varint(out, cp->skip[i].lines) < 0)
            return -1;
        prev = cp->skip[i].offset;
    }
    return cp->state.len ? sbuf_addspan(out, cp->state) : 0;
}

int ingest_checkpoint_decode(struct span blob, uint64_t offset, struct parse_skip **skip,
                             size_t *nskip, struct span *state)
{
    const unsigned char *p = (const unsigned char *)blob.p, *end = p + blob.len;
    uint64_t n, prev = offset;

    *skip = NULL;
    *nskip = 0;
    *state = SPAN_NULL;
    if (blob.len == 0)
        return 0;
    unsigned char version = *p++;
    if ((version != 1 && version != 2) || get_varint(&p, end, &n) < 0 || n > SIFT_MAX_RESUME_RUNS)
        return -1;
    struct parse_skip *v = n ? xcalloc((size_t)n, sizeof(*v)) : NULL;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t delta, lines;
        if (get_varint(&p, end, &delta) < 0 || get_varint(&p, end, &lines) < 0 ||
            delta > UINT64_MAX - prev) {
            free(v);
            return -1;
        }
        prev += delta;
        v[i] = (struct parse_skip){ .offset = prev, .lines = lines };
    }
    if (version == 2 && p != end) {
        *state = span_make((const char *)p, (size_t)(end - p));
        p = end;
    }
    if (p != end) {
        free(v);
        return -1;
    }
    *skip = v;
    *nskip = (size_t)n;
    return 0;
}

/* ---- random access to the decoded stream ---- */

struct reader {
    const char *path;
    int fd;      /* >= 0: a plain file read with pread() (ingest_opts.have_fd, or opened here) */
    bool own_fd; /* fd was opened here (a plain file named by path): closed by reader_close() */
    /* >= 0: a .gz file opened here, for this reader alone (its file offset is zlib's):
     * read through it instead of opening @path (reader_close() closes it) */
    int gz_fd;
    gzFile gz;
    uint64_t pos;
    struct sbuf head; /* decoded bytes [0, head.len) seen, at most SIFT_SOURCE_HEAD_BYTES */
    bool cut;         /* gzip data seen to end inside a member (gzip may still be writing) */
};

static int reader_read(void *ctx, uint64_t off, void *buf, size_t len, struct diag *d)
{
    struct reader *r = ctx;
    size_t got = 0;

    if (r->fd >= 0) {
        /* A descriptor handed over by pgsift tail (plain data): the shared file
         * position is left alone. */
        while (got < len) {
            ssize_t n = pread(r->fd, (char *)buf + got, len - got, (off_t)(off + got));
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return diag_errno(d, DIAG_IO, errno, "cannot read '%s'", r->path);
            if (n == 0)
                break;
            got += (size_t)n;
        }
        goto done;
    }
    if (!r->gz) {
        /* A plain file is read with pread(): through zlib, the first seek of a stream
         * whose kind gzread() has not seen yet reads and drops every byte before it (the
         * mark before a 24 MB commit offset cost 24 MB of reads). */
        if (r->gz_fd >= 0) {
            r->gz = gzdopen(r->gz_fd, "rb"); /* (owns it now, even on failure) */
            r->gz_fd = -1;
        } else {
            int fd = open(r->path, O_RDONLY | O_CLOEXEC);
            if (fd < 0)
                return diag_errno(d, DIAG_IO, errno, "cannot open '%s'", r->path);
            if (!input_fd_is_gzip(fd)) {
                r->fd = fd;
                r->own_fd = true;
                return reader_read(r, off, buf, len, d);
            }
            close(fd);
            r->gz = gzopen(r->path, "rb");
        }
        if (!r->gz)
            return diag_errno(d, DIAG_IO, errno ? errno : ENOMEM, "cannot open '%s'", r->path);
        gzbuffer(r->gz, 256 * 1024);
        r->pos = 0;
    }
    if (off != r->pos) {
        if (off > (uint64_t)LONG_MAX)
            return 1;
        z_off_t at = gzseek(r->gz, (z_off_t)off, SEEK_SET);
        if (at < 0 || (uint64_t)at != off) {
            int err;
            (void)gzerror(r->gz, &err);
            r->cut = r->cut || err == Z_BUF_ERROR;
            gzclearerr(r->gz);
            gzrewind(r->gz);
            r->pos = 0;
            return 1; /* shorter than off (or damaged before it) */
        }
        r->pos = off;
    }
    while (got < len) {
        unsigned chunk = len - got > (1u << 30) ? (1u << 30) : (unsigned)(len - got);
        int n = gzread(r->gz, (char *)buf + got, chunk);
        if (n < 0) {
            int err;
            const char *msg = gzerror(r->gz, &err);
            if (err == Z_BUF_ERROR || err == Z_DATA_ERROR) {
                /* damaged or truncated: the stream ends here for us */
                r->cut = r->cut || err == Z_BUF_ERROR;
                gzclearerr(r->gz);
                break;
            }
            diag_set(d, DIAG_IO, "cannot read '%s': %s", r->path, msg);
            return -1;
        }
        if (n == 0) {
            /* zlib ends a read at data cut inside a member with Z_BUF_ERROR set */
            int err;
            (void)gzerror(r->gz, &err);
            r->cut = r->cut || err == Z_BUF_ERROR;
            break;
        }
        got += (size_t)n;
    }
done:
    if (off <= r->head.len && off + got > r->head.len) {
        size_t want = SIFT_SOURCE_HEAD_BYTES - r->head.len;
        size_t have = (size_t)(off + got - r->head.len);
        if (have > want)
            have = want;
        if (have && sbuf_add(&r->head, (const char *)buf + (r->head.len - off), have) < 0)
            BUG("head buffer cap");
    }
    r->pos = off + got;
    return got < len ? 1 : 0;
}

static void reader_close(struct reader *r)
{
    if (r->gz)
        gzclose(r->gz);
    r->gz = NULL;
    if (r->gz_fd >= 0)
        close(r->gz_fd);
    r->gz_fd = -1;
    if (r->own_fd)
        close(r->fd);
    r->own_fd = false;
    r->fd = -1;
    sbuf_release(&r->head);
}

/* ---- the commit thread (ingest_opts.async_commit) ----
 *
 * Double buffering: the reader hands a full batch with its position to this thread and
 * goes on filling a second batch (store_batch_carry()). This thread first does the
 * batch's deferred work (store_batch_finish(): plan analysis, error grouping),
 * then writes it, so the two threads share the work about evenly. One job at a time: the reader
 * waits for the previous commit before handing over the next, and learns its outcome
 * then (the new stream id, a failure or a stale position), at the same point where a
 * synchronous commit would have told it. */
struct committer {
    pthread_t tid;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool on;        /* the thread runs */
    bool job, quit; /* under mu: a commit is queued or running */
    bool finished;  /* under mu: a job ended and its outcome was not collected */
    /* Under mu: work in order - event-row chunks (streaming, below) and the commit
     * (chunk NULL) of the batch they belong to. */
    struct cqueue {
        struct cqueue *next;
        struct store_ev_chunk *chunk;
        struct store_work_chunk *work; /* of batch wb */
        struct store_batch *wb;
    } * qhead, **qtail;
    /* The job, owned by the thread while job is true. */
    struct store *s;
    pthread_mutex_t *store_lock;
    struct store_batch *b;
    struct store_source_pos pos; /* blob, mark and head point into the sbufs below */
    struct sbuf blob, mark, head;
    uint64_t records, rejected, duplicates; /* in the job's batch */
    int rc; /* of the last job: 0 committed, 1 stale, -1 failed (d) */
    struct diag d;
    /* Thread-owned: writing a chunk of the batch being filled failed (its transaction
     * was rolled back): the batch's commit fails with chunk_d. */
    bool chunk_failed;
    struct diag chunk_d;
};

static void committer_push(struct committer *c, struct store_ev_chunk *chunk,
                           struct store_work_chunk *work, struct store_batch *wb)
{
    struct cqueue *q = xcalloc(1, sizeof(*q));
    q->chunk = chunk;
    q->work = work;
    q->wb = wb;
    *c->qtail = q;
    c->qtail = &q->next;
}

static void *committer_main(void *arg)
{
    struct committer *c = arg;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->qhead && !c->quit)
            pthread_cond_wait(&c->cv, &c->mu);
        if (c->quit)
            break; /* what is left belongs to a batch given up */
        struct cqueue *q = c->qhead;
        c->qhead = q->next;
        if (!c->qhead)
            c->qtail = &c->qhead;
        pthread_mutex_unlock(&c->mu);
        struct store_ev_chunk *chunk = q->chunk;
        struct store_work_chunk *work = q->work;
        struct store_batch *wb = q->wb;
        free(q);
        if (work) {
            /* The batch being filled: only what its reader does not touch. */
            store_batch_run_work(wb, work);
            pthread_mutex_lock(&c->mu);
            continue;
        }
        if (chunk) {
            /* Streaming (one reader, no store lock): the batch's event rows so far. */
            if (c->chunk_failed)
                store_ev_chunk_free(chunk);
            else if (store_write_events(c->s, chunk, &c->chunk_d) < 0)
                c->chunk_failed = true;
            pthread_mutex_lock(&c->mu);
            continue;
        }
        int rc;
        if (c->chunk_failed) {
            store_batch_discard(c->b);
            c->d = c->chunk_d;
            c->chunk_failed = false;
            c->chunk_d = (struct diag)DIAG_INIT;
            rc = -1;
        } else {
            store_batch_finish(c->b); /* the batch's own work, beside the reader */
            if (c->store_lock)
                pthread_mutex_lock(c->store_lock);
            rc = store_commit_batch(c->s, c->b, &c->pos, &c->d);
            if (c->store_lock)
                pthread_mutex_unlock(c->store_lock);
        }
        pthread_mutex_lock(&c->mu);
        c->rc = rc < 0 ? -1 : rc == STORE_STALE ? 1 : 0;
        c->job = false;
        c->finished = true;
        pthread_cond_broadcast(&c->cv);
    }
    /* Given up: chunks of a batch that will not be committed, and their transaction. */
    while (c->qhead) {
        struct cqueue *q = c->qhead;
        c->qhead = q->next;
        store_ev_chunk_free(q->chunk);
        store_work_chunk_free(q->work);
        free(q);
    }
    c->qtail = &c->qhead;
    pthread_mutex_unlock(&c->mu);
    if (!c->store_lock)
        store_abort(c->s);
    return NULL;
}

/* ---- one run over one source ---- */

struct run {
    struct store *s;
    struct store_batch *b; /* this source's batch */
    const struct ingest_opts *o;
    struct ingest_result *res;
    const char *path;
    bool positioned; /* a file: commit positions */
    bool continued;  /* ... read from where an earlier run of the stream stopped */
    struct store_source_pos pos;
    bool have_identity;
    bool started;  /* a line was fed */
    bool use_ring; /* compressed: keep the last lines' bytes for marks */
    struct reader rd;
    struct tailbuf ring; /* the last decoded bytes (use_ring) */
    struct sbuf head;    /* decoded bytes [0, head.len) */
    struct sbuf blob, mark;
    uint64_t fed_end, commit_fed;
    uint64_t end_hint; /* a plain regular file: its size when opened (0: unknown) */
    uint64_t lines_since_progress;
    /* rejects already handed to the store: per reason of the parser's stats, then
     * foreign lines, then damage */
    uint64_t *rej_records;
    size_t *rej_samples;
    size_t n_rej;
    /* async_commit: the batch being committed is cm.b; spare is the one to fill next */
    struct committer cm;
    struct store_batch *spare;
    bool stream; /* the commit thread writes event rows as the batch fills */
    bool eager;  /* store_checkpoint_eager() was called (checkpoint_tail) */
};

static int sink(void *ctx, struct event *ev, struct diag *d)
{
    struct run *r = ctx;
    (void)d;
    store_batch_add(r->b, ev);
    return 0;
}

static void feed_ring(struct run *r, const struct input_line *ln)
{
    uint64_t nl = ln->end - ln->offset - ln->text.len;
    if (ln->offset != tailbuf_end(&r->ring) || ln->truncated || nl > 2) {
        tailbuf_reset(&r->ring, ln->end); /* cannot reproduce these bytes: re-read if needed */
        return;
    }
    if (tailbuf_add(&r->ring, ln->text.p, ln->text.len) < 0 ||
        (nl && tailbuf_add(&r->ring, &"\r\n"[2 - nl], nl) < 0)) {
        tailbuf_reset(&r->ring, ln->end);
        return;
    }
    /* The stream's first bytes, while the ring still starts at 0. */
    uint64_t end = tailbuf_end(&r->ring);
    if (r->head.len < SIFT_SOURCE_HEAD_BYTES && tailbuf_start(&r->ring) == 0 && end > r->head.len) {
        size_t n = end < SIFT_SOURCE_HEAD_BYTES ? (size_t)end : SIFT_SOURCE_HEAD_BYTES;
        struct sbuf tmp = SBUF_INIT; /* (not used: the first bytes are in one buffer) */
        struct span add;
        if (!tailbuf_get(&r->ring, r->head.len, n - r->head.len, &tmp, &add) ||
            sbuf_addspan(&r->head, add) < 0)
            BUG("head buffer cap");
        sbuf_release(&tmp);
    }
}

/* Hand the parser's rejects since the last call to the store's batch. */
static void add_rejects(struct run *r, const struct parse_stats *st)
{
    size_t n = st->nreasons + 2;
    if (n > r->n_rej) {
        r->rej_records = xrealloc(r->rej_records, n * sizeof(*r->rej_records));
        r->rej_samples = xrealloc(r->rej_samples, n * sizeof(*r->rej_samples));
        for (size_t i = r->n_rej; i < n; i++) {
            r->rej_records[i] = 0;
            r->rej_samples[i] = 0;
        }
        /* foreign and damage keep the last two slots: move their counts up */
        if (r->n_rej >= 2) {
            for (size_t k = 0; k < 2; k++) {
                size_t from = r->n_rej - 2 + k, to = n - 2 + k;
                uint64_t rec = r->rej_records[from];
                size_t smp = r->rej_samples[from];
                r->rej_records[from] = 0;
                r->rej_samples[from] = 0;
                r->rej_records[to] = rec;
                r->rej_samples[to] = smp;
            }
        }
        r->n_rej = n;
    }
    for (size_t i = 0; i < n; i++) {
        const struct parse_reason *rs = i < st->nreasons    ? &st->reasons[i]
                                        : i == st->nreasons ? &st->foreign
                                                            : &st->damage;
        const char *reason = rs->reason          ? rs->reason
                             : i == st->nreasons ? "foreign line"
                                                 : "damaged input";
        uint64_t delta = rs->records - r->rej_records[i];
        for (size_t k = r->rej_samples[i]; k < rs->nsamples && delta; k++, delta--) {
            const struct parse_sample *sm = &rs->samples[k];
            struct store_reject rj = {
                .source = span_cstr(sm->source ? sm->source : r->path),
                .reason = reason,
                .line = sm->line,
                .offset = sm->offset,
                /* (a damage report has no line: its detail says where it is) */
                .sample = sm->text && sm->text_len ? span_make(sm->text, sm->text_len)
                                                   : span_cstr(sm->detail ? sm->detail : ""),
            };
            store_batch_add_reject(r->b, &rj);
        }
        if (delta) {
            struct store_reject rj = { .source = span_cstr(r->path),
                                       .reason = reason,
                                       .count = delta };
            store_batch_add_reject(r->b, &rj);
        }
        r->rej_records[i] = rs->records;
        r->rej_samples[i] = rs->nsamples;
    }
}

/* The store is shared by the readers of `-j N`: one database call at a time. */
static void lock(const struct run *r)
{
    if (r->o->lock)
        pthread_mutex_lock(r->o->lock);
}

static void unlock(const struct run *r)
{
    if (r->o->lock)
        pthread_mutex_unlock(r->o->lock);
}

static int commit_locked(struct run *r, struct store_source_pos *pos, struct diag *d)
{
    store_batch_finish(r->b); /* outside the lock: other readers commit meanwhile */
    lock(r);
    int rc = store_commit_batch(r->s, r->b, pos, d);
    unlock(r);
    return rc;
}

/* Wait for the commit thread's job, if any, and take in its outcome the way a
 * synchronous commit would have. Returns 0, 1 (stale: stop), or -1 with @d filled. */
static int async_collect(struct run *r, struct diag *d)
{
    struct committer *c = &r->cm;
    if (!c->on)
        return 0;
    pthread_mutex_lock(&c->mu);
    while (c->job)
        pthread_cond_wait(&c->cv, &c->mu);
    bool finished = c->finished;
    c->finished = false;
    pthread_mutex_unlock(&c->mu);
    if (!finished)
        return 0;
    r->spare = c->b; /* store_commit_batch() emptied it */
    c->b = NULL;
    if (c->rc < 0)
        return diag_set(d, c->d.kind, "%s", c->d.msg);
    if (c->rc > 0) {
        r->res->stale = true;
        return 1;
    }
    r->pos.id = c->pos.id;
    r->pos.start = c->pos.offset;
    r->res->commits++;
    r->res->records += c->records;
    r->res->rejected += c->rejected;
    r->res->duplicates += c->duplicates;
    return 0;
}

static void async_start(struct run *r)
{
    struct committer *c = &r->cm;
    c->s = r->s;
    c->store_lock = r->o->lock;
    sbuf_init(&c->blob, 0);
    sbuf_init(&c->mark, 0);
    sbuf_init(&c->head, SIFT_SOURCE_HEAD_BYTES);
    c->d = (struct diag)DIAG_INIT;
    c->chunk_d = (struct diag)DIAG_INIT;
    c->qhead = NULL;
    c->qtail = &c->qhead;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    if (pthread_create(&c->tid, NULL, committer_main, c) != 0) {
        /* no thread: commit synchronously */
        pthread_cond_destroy(&c->cv);
        pthread_mutex_destroy(&c->mu);
        return;
    }
    c->on = true;
    r->spare = store_batch_new(r->s);
    store_batch_set_input(r->spare, r->o->input ? r->o->input : r->path);
}

/* Hand r->b with r->pos to the commit thread (the previous job was collected). */
static int async_submit(struct run *r, struct diag *d)
{
    struct committer *c = &r->cm;
    sbuf_reset(&c->blob);
    sbuf_reset(&c->mark);
    sbuf_reset(&c->head);
    if (sbuf_addspan(&c->blob, r->pos.checkpoint) < 0 || sbuf_addspan(&c->mark, r->pos.mark) < 0 ||
        sbuf_addspan(&c->head, r->pos.head) < 0)
        return diag_set(d, DIAG_LIMIT, "source position of '%s' too large", r->path);
    c->pos = r->pos;
    c->pos.checkpoint = sbuf_span(&c->blob);
    c->pos.mark = sbuf_span(&c->mark);
    c->pos.head = sbuf_span(&c->head);
    c->records = store_batch_added(r->b);
    c->rejected = store_batch_count(r->b) - c->records;
    c->duplicates = store_batch_duplicates(r->b);
    c->b = r->b;
    r->b = r->spare;
    r->spare = NULL;
    store_batch_carry(r->b, c->b);
    pthread_mutex_lock(&c->mu);
    c->job = true;
    committer_push(c, NULL, NULL, NULL);
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return 0;
}

/* One reader on the store: hand the batch's full chunks of event rows to the commit
 * thread, which writes them inside the batch's transaction while the batch fills, and
 * its full chunks of deferred work (plan analysis, error grouping), which it runs. */
static void async_stream(struct run *r)
{
    struct committer *c = &r->cm;
    struct store_ev_chunk *chunk = store_batch_take_events(r->b);
    struct store_work_chunk *work = store_batch_take_work(r->b);
    if (!chunk && !work)
        return;
    pthread_mutex_lock(&c->mu);
    while (chunk || work) {
        if (work)
            committer_push(c, NULL, work, r->b);
        if (chunk)
            committer_push(c, chunk, NULL, NULL);
        chunk = store_batch_take_events(r->b);
        work = store_batch_take_work(r->b);
    }
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

/* Wait for the last job and end the thread; returns async_collect()'s result. */
static int async_stop(struct run *r, struct diag *d)
{
    struct committer *c = &r->cm;
    if (!c->on)
        return 0;
    int rc = async_collect(r, d);
    pthread_mutex_lock(&c->mu);
    c->quit = true;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->tid, NULL);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    c->on = false;
    sbuf_release(&c->blob);
    sbuf_release(&c->mark);
    sbuf_release(&c->head);
    return rc;
}

/* Where the source stands, for a commit: from the input and parser (pipeline_run()) or
 * from the parts handed out so far (pipeline_par_next()). */
struct src_at {
    bool truncated;                  /* the file shrank under the mapping */
    const struct parse_stats *stats; /* everything parsed so far */
    bool resumed;                    /* in the format an earlier run saved (parser_resumed()) */
    struct parse_checkpoint cp;      /* after the last record handed to the batch */
    struct input_identity id;
};

static void at_input(struct src_at *at, struct input *in, struct parser *p)
{
    at->truncated = input_truncated(in);
    at->stats = parser_stats(p);
    at->resumed = parser_resumed(p);
    parser_checkpoint(p, &at->cp);
    input_identity(in, &at->id);
}

static int commit(struct run *r, struct src_at *at, bool last, struct diag *d)
{
    struct parse_checkpoint cp = at->cp;

    /* A mapped file truncated under us: what was read since the last commit may be
     * zeros, not the file's. The batch is given up (with its streamed event rows, inside
     * its open transaction); the next run re-reads from the last commit. */
    if (at->truncated)
        return diag_set(d, DIAG_IO,
                        "'%s' shrank while being read (copytruncate?): it is read again from "
                        "the last commit next run",
                        r->path);

    /* Until one record parses, nothing is marked as read: a wrong --format or --prefix
     * must not consume the file (run again with the right one). The rejects wait too -
     * except one alone in a stream an earlier run parsed records of (r->continued): a
     * record held while the file was written and cut for good (a crash) is all that is
     * left of it; it is stored once, not reported again at every run. (More rejects and
     * no record is what a wrong --format gives: they wait.) Nor do they wait when the
     * parser reads on in the format the earlier run saved its state in (at->resumed):
     * the format is right, and the new lines are rejects of their own (a Supabase drain
     * that brought only other products' events since). */
    if (at->stats->events == 0 && !(r->continued && (at->stats->rejects == 1 || at->resumed)))
        return 0;
    add_rejects(r, at->stats);
    if (cp.line == 0 && store_batch_count(r->b) == 0)
        return 0; /* nothing fed yet */
    if (!r->positioned) {
        uint64_t n = store_batch_added(r->b), rej = store_batch_count(r->b) - n,
                 dups = store_batch_duplicates(r->b);
        int rc = commit_locked(r, NULL, d);
        if (rc < 0)
            return -1;
        r->res->commits++;
        r->res->records += n;
        r->res->rejected += rej;
        r->res->duplicates += dups; /* (a pipe of Supabase exports counts each id once) */
        r->commit_fed = r->fed_end;
        return 0;
    }
    /* The previous batch's commit (async_commit) ends first: its outcome (stale, the
     * stream id, the start of this batch) is needed below. */
    int arc = async_collect(r, d);
    if (arc != 0)
        return arc;
    if (cp.line == 0) {
        /* Records without a line fed cannot happen; keep the start position. */
        cp.offset = r->pos.start;
        cp.line = r->pos.line;
    }
    if (store_batch_count(r->b) == 0 && cp.offset == r->pos.start)
        return 0;
    if (!r->have_identity) {
        r->pos.dev = at->id.dev;
        r->pos.inode = at->id.ino;
        r->pos.compressed = at->id.compressed;
        r->have_identity = true;
    }
    sbuf_reset(&r->blob);
    if (ingest_checkpoint_encode(&cp, &r->blob) < 0)
        return diag_set(d, DIAG_LIMIT, "parser checkpoint of '%s' too large", r->path);
    size_t ml = cp.offset < SIFT_SOURCE_MARK_BYTES ? (size_t)cp.offset : SIFT_SOURCE_MARK_BYTES;
    uint64_t from = cp.offset - ml;
    if (!tailbuf_get(&r->ring, from, ml, &r->mark, &r->pos.mark)) {
        sbuf_reset(&r->mark);
        if (sbuf_grow(&r->mark, ml) < 0)
            BUG("mark buffer cap");
        int rc = reader_read(&r->rd, from, r->mark.buf, ml, d);
        if (rc < 0)
            return -1;
        if (rc > 0)
            return diag_set(d, DIAG_IO, "'%s' shrank while it was being read", r->path);
        sbuf_setlen(&r->mark, ml);
        r->pos.mark = sbuf_span(&r->mark);
    }
    size_t hl = cp.offset < SIFT_SOURCE_HEAD_BYTES ? (size_t)cp.offset : SIFT_SOURCE_HEAD_BYTES;
    if (r->head.len < hl) {
        char tmp[SIFT_SOURCE_HEAD_BYTES];
        int hr = reader_read(&r->rd, 0, tmp, hl, d);
        if (hr < 0)
            return -1;
        if (hr > 0)
            return diag_set(d, DIAG_IO, "'%s' shrank while it was being read", r->path);
        sbuf_reset(&r->head);
        if (sbuf_add(&r->head, tmp, hl) < 0)
            BUG("head buffer cap");
    }
    r->pos.head = sbuf_span(&r->head);
    r->pos.offset = cp.offset;
    r->pos.line = cp.line;
    r->pos.checkpoint = sbuf_span(&r->blob);
    /* The last source within a batch of its end: this commit and the next ones have
     * their log copied into the database in the background (checkpoint_tail). */
    if (r->o->checkpoint_tail && !r->eager && r->end_hint > cp.offset &&
        r->end_hint - cp.offset <= INGEST_BATCH_BYTES) {
        store_checkpoint_eager(r->s);
        r->eager = true;
    }
    if (r->o->checkpoint_tail && last)
        store_checkpoint_last(r->s);
    uint64_t records = store_batch_count(r->b), added = store_batch_added(r->b),
             dups = store_batch_duplicates(r->b);
    if (r->cm.on) {
        if (async_submit(r, d) < 0)
            return -1;
        r->commit_fed = r->fed_end;
        return last ? async_collect(r, d) : 0;
    }
    int rc = commit_locked(r, &r->pos, d);
    if (rc < 0)
        return -1;
    if (rc == STORE_STALE) {
        r->res->stale = true;
        return 1;
    }
    if (r->o->committed)
        r->o->committed(r->o->committed_ctx, &r->pos, records);
    r->pos.start = cp.offset;
    r->res->commits++;
    r->res->records += added;
    r->res->rejected += records - added;
    r->res->duplicates += dups;
    r->commit_fed = r->fed_end;
    return 0;
}

/* After bytes up to @end were read and their records added (or a part absorbed,
 * run_parts()): is a commit due? Sets *stop when pgsift tail's budget or signal ends the
 * run here. */
static bool commit_due(struct run *r, uint64_t end, bool *stop)
{
    r->fed_end = end;
    if (r->stream)
        async_stream(r);
    uint64_t batch = r->o->batch_bytes ? r->o->batch_bytes : INGEST_BATCH_BYTES;
    /* With a commit thread, the commit of the batch that ends the file is waited for: near
     * the end batches shrink (a quarter of what is left, at least INGEST_TAIL_BATCH_BYTES),
     * so each commit overlaps the filling of the next and the last one is small. */
    if (r->cm.on && r->fed_end - r->commit_fed >= INGEST_TAIL_BATCH_BYTES &&
        r->end_hint > r->commit_fed) { /* (no smaller batch ends before: one compare a line) */
        uint64_t left = (r->end_hint - r->commit_fed) / 4;
        if (left < INGEST_TAIL_BATCH_BYTES)
            left = INGEST_TAIL_BATCH_BYTES;
        if (left < batch)
            batch = left;
    }
    /* pgsift tail: stop early (a byte budget per round, or a signal) after a commit. */
    *stop = (r->o->max_bytes && r->res->bytes >= r->o->max_bytes) || (r->o->stop && *r->o->stop);
    return *stop || store_batch_is_full(r->b) || r->fed_end - r->commit_fed >= batch ||
           (r->o->batch_records && store_batch_count(r->b) >= r->o->batch_records);
}

static int line_done(void *ctx, struct input *in, struct parser *p, const struct input_line *ln,
                     struct diag *d)
{
    struct run *r = ctx;
    struct src_at at;

    if (!ln) { /* end of the source */
        at_input(&at, in, p);
        if (r->positioned) {
            struct input_identity id;
            input_identity(in, &id);
            uint64_t from = input_offset(in), size = id.size;
            /* a record cut in a quoted field left pending (parser_end_hold()); its lines
             * were read (the size seen at the open may be older) */
            if (!r->o->follow && at.cp.line && parser_unterminated(p)) {
                r->res->held_record = true;
                from = at.cp.offset;
                if (size < r->fed_end)
                    size = r->fed_end;
            }
            uint64_t decoded;
            bool held = input_end_held(in, &decoded);
            if (id.compressed && held) /* gzip data cut inside a member: being compressed */
                size = decoded > r->fed_end ? decoded : r->fed_end;
            r->res->held_gz = id.compressed && held;
            r->res->held_gz_cut = r->res->held_gz && input_end_cut(in);
            if ((r->res->held_gz || (!id.compressed && id.regular)) && size > from)
                r->res->held_bytes = size - from;
        }
        return commit(r, &at, true, d);
    }
    if (r->positioned && !r->started) {
        struct input_identity id; /* the first line: gzip is known now */
        input_identity(in, &id);
        r->use_ring = id.compressed;
        if (id.regular && !id.compressed)
            r->end_hint = id.size;
    }
    r->started = true;
    if (r->use_ring)
        feed_ring(r, ln);
    r->res->bytes += ln->end - ln->offset;
    if (r->o->progress && ++r->lines_since_progress >= 16384) {
        r->lines_since_progress = 0;
        r->o->progress(r->o->progress_ctx, r->path, r->res->bytes);
    }
    bool stop;
    if (!commit_due(r, ln->end, &stop))
        return 0;
    at_input(&at, in, p);
    int rc = commit(r, &at, stop, d);
    if (rc == 0 && stop) {
        r->res->more = true;
        return 1;
    }
    return rc;
}

/* ---- one file in parts (ingest_opts.parse_threads) ----
 *
 * pipeline_par.c parses the parts on their threads; here they are added to the batch in
 * file order, and commits fall due as in line_done(), at part ends. Returns 0, 1 (a stale
 * position: stopped), 2 when no record parsed at all (nothing was added or committed: the
 * caller reads the source again with pipeline_run() for its diagnosis), or -1 + @d. */
static int run_parts(struct run *r, struct pipeline_par *pp, uint64_t start, uint64_t line,
                     struct pipeline_result *pr, struct diag *d)
{
    struct parse_stats total = { 0 };
    struct src_at at = { .stats = &total, .cp = { .offset = start, .line = line } };
    struct pipeline_part *part;
    struct event light; /* the light records' event (store_rec_event()) */
    int rc = 0, nrc;

    event_clear(&light);
    pipeline_par_identity(pp, &at.id);
    r->started = true;
    r->end_hint = at.id.size;
    while ((nrc = pipeline_par_next(pp, &part, d)) == 0) {
        if (part->fold)
            store_batch_absorb(r->b, part->fold, part->line - 1);
        for (size_t i = 0; i < part->n; i++) {
            const struct pipeline_rec *pk = &part->rec[i];
            if (pk->whole) {
                store_batch_add(r->b, &part->ev[pk->whole - 1]);
            } else {
                store_rec_event(&pk->light, &light);
                store_batch_add(r->b, &light);
            }
        }
        /* Its sketches and deferred work now, in order: the commit after the last part
         * waits only for that part's (the other thread may still parse meanwhile). */
        store_batch_finish(r->b);
        parse_stats_merge(&total, &part->stats);
        at.truncated |= part->truncated;
        at.cp.offset = part->end;
        at.cp.line = part->line + part->lines;
        r->res->bytes += part->end - part->offset;
        r->res->held_record |= part->held;
        pipeline_part_free(part);
        if (r->o->progress)
            r->o->progress(r->o->progress_ctx, r->path, r->res->bytes);
        bool stop;
        if (commit_due(r, at.cp.offset, &stop)) {
            at.truncated |= pipeline_par_shrank(pp);
            if ((rc = commit(r, &at, false, d)) != 0)
                break;
        }
    }
    if (nrc < 0) {
        rc = -1;
    } else if (rc == 0 && total.events == 0 &&
               total.lines > total.blank_lines + total.skipped_lines) {
        rc = 2;
    } else if (rc == 0) { /* every part was handed out */
        uint64_t size = pipeline_par_size_now(pp);
        if (size > at.cp.offset)
            r->res->held_bytes = size - at.cp.offset;
        at.truncated |= pipeline_par_shrank(pp);
        rc = commit(r, &at, true, d);
    }
    memset(pr, 0, sizeof(*pr));
    sbuf_init(&pr->diagnosis, 64 * 1024);
    pr->name = xstrdup(r->path);
    pr->format = xstrdup(pipeline_par_format(pp));
    parse_stats_merge(&pr->stats, &total);
    parse_stats_release(&total);
    return rc;
}

/* The parts' records are folded into part batches on the parsing threads (store.h):
 * run_parts() absorbs each into the reader's batch. The fold's ctx: whether the store
 * keeps literals (folds[]); parts may be parsed before the store is open
 * (ingest_prefetch_start()). */
static void *fold_make(void *ctx)
{
    return store_batch_new_part(ctx != NULL);
}

static bool fold_take(void *ctx, void *state, const struct event *ev)
{
    (void)ctx;
    return store_batch_fold(state, ev);
}

static void fold_done(void *ctx, void *state)
{
    (void)ctx;
    store_batch_part_done(state);
}

static void fold_reset(void *ctx, void *state)
{
    (void)ctx;
    store_batch_discard(state);
}

static void fold_free(void *ctx, void *state)
{
    (void)ctx;
    store_batch_free(state);
}

static char keeps_literals; /* (its address: the ctx of the fold that keeps them) */
#define FOLD(ctx_)                                                              \
    {                                                                           \
        .ctx = (ctx_), .make = fold_make, .take = fold_take, .done = fold_done, \
        .reset = fold_reset, .free = fold_free                                  \
    }
static const struct pipeline_fold folds[2] = { FOLD(NULL), FOLD(&keeps_literals) };
#undef FOLD

/* How @path is parsed in parts from its start (the caller sets where else to start). */
static struct pipeline_par_opts par_opts(const struct ingest_opts *o, const char *path,
                                         bool hold_partial, bool keep_literals)
{
    return (struct pipeline_par_opts){
        .path = path,
        .format = o->format,
        .prefix = o->prefix,
        .tz = o->tz,
        .hold_partial = hold_partial,
        .workers = o->parse_threads,
        .part_bytes = o->part_bytes,
        .fold = &folds[keep_literals],
    };
}

/* A file modified lately may still be written: its cut end is held
 * (SIFT_HOLD_LIVE_SECONDS; pipeline_opts.hold_partial), unless the caller knows better. */
static bool may_grow(const struct ingest_opts *o, const struct stat *st)
{
    int64_t mtime_us = (int64_t)st->st_mtim.tv_sec * 1000000 + st->st_mtim.tv_nsec / 1000;
    return !o->final && clock_now_us() - mtime_us < SIFT_HOLD_LIVE_SECONDS * USEC_PER_SEC;
}

/* Is @st being written right now (modified less than SIFT_HOLD_WRITE_SECONDS ago by the
 * clock)? Then a stderr or syslog record at its end may still get lines: the collector
 * writes a record line by line, a syslog daemon piece by piece, moments apart. */
static bool being_written(const struct ingest_opts *o, const struct stat *st)
{
    int64_t mtime_us = (int64_t)st->st_mtim.tv_sec * 1000000 + st->st_mtim.tv_nsec / 1000;
    int64_t age = clock_now_us() - mtime_us;
    return !o->final && age >= 0 && age < SIFT_HOLD_WRITE_SECONDS * USEC_PER_SEC;
}

struct ingest_prefetch {
    struct pipeline_par *pp;
    bool hold_partial, keep_literals;
};

struct ingest_prefetch *ingest_prefetch_start(const char *path, const struct ingest_opts *o,
                                              bool keep_literals)
{
    struct stat st;
    if (o->parse_threads < 2 || stat(path, &st) < 0 || !S_ISREG(st.st_mode) ||
        (uint64_t)st.st_size < INPUT_MAP_MIN_BYTES)
        return NULL;
    struct ingest_prefetch *pf = xcalloc(1, sizeof(*pf));
    pf->hold_partial = may_grow(o, &st);
    pf->keep_literals = keep_literals;
    struct diag d = DIAG_INIT;
    struct pipeline_par_opts ppo = par_opts(o, path, pf->hold_partial, keep_literals);
    /* (not in parts, or an error: ingest_source() finds it again and says why) */
    if (pipeline_par_open(&ppo, &pf->pp, &d) != 0) {
        free(pf);
        return NULL;
    }
    log_verbose("%s: parsing begun while the store is created", path);
    return pf;
}

void ingest_prefetch_drop(struct ingest_prefetch *pf)
{
    if (!pf)
        return;
    pipeline_par_close(pf->pp);
    free(pf);
}

/* The parts begun early (@pf), if they are what ingest_source() would start now: the
 * file opened (@st) from its start, with the same options. Consumes @pf. */
static struct pipeline_par *prefetched(struct ingest_prefetch *pf, const struct stat *st,
                                       const struct store_resume *rs, bool hold_partial,
                                       bool keep_literals)
{
    if (!pf)
        return NULL;
    struct input_identity id;
    pipeline_par_identity(pf->pp, &id);
    struct pipeline_par *pp = NULL;
    if (rs->offset == 0 && id.dev == (uint64_t)st->st_dev && id.ino == (uint64_t)st->st_ino &&
        pf->hold_partial == hold_partial && pf->keep_literals == keep_literals) {
        pp = pf->pp;
        pf->pp = NULL;
    }
    ingest_prefetch_drop(pf);
    return pp;
}

static bool source_is_gzip(const struct ingest_opts *o, const char *path)
{
    return o->have_fd ? input_fd_is_gzip(o->fd) : input_path_is_gzip(path);
}

int ingest_find(struct store *s, const char *path, struct store_resume *out, bool *gz,
                struct diag *d)
{
    struct reader rd = { .path = path, .fd = -1, .gz_fd = -1 };
    struct stat st;
    int ret = -1;

    sbuf_init(&rd.head, SIFT_SOURCE_HEAD_BYTES);
    if (stat(path, &st) < 0) {
        diag_errno(d, DIAG_IO, errno, "cannot open '%s'", path);
        goto out;
    }
    *gz = input_path_is_gzip(path);
    struct store_probe probe = {
        .name = path,
        .dev = (uint64_t)st.st_dev,
        .inode = (uint64_t)st.st_ino,
        .size = *gz ? UINT64_MAX : (uint64_t)st.st_size,
        .read = reader_read,
        .ctx = &rd,
    };
    ret = store_source_find(s, &probe, out, d);
out:
    reader_close(&rd);
    return ret;
}

static void run_release(struct run *r)
{
    reader_close(&r->rd);
    tailbuf_release(&r->ring);
    sbuf_release(&r->head);
    sbuf_release(&r->blob);
    sbuf_release(&r->mark);
    free(r->rej_records);
    free(r->rej_samples);
    store_batch_free(r->b);
    store_batch_free(r->spare);
}

/* A second open file description of the file open as @fd (the reader of a .gz reads
 * through zlib, which moves its file offset): @path again if it still names that file,
 * else the file itself through /proc (renamed meanwhile). Returns it, or -1. */
static int reopen_same(int fd, const char *path, const struct stat *st)
{
    char self[64];
    snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
    const char *names[] = { path, self };
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        struct stat st2;
        int fd2 = open(names[i], O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd2 < 0)
            continue;
        if (fstat(fd2, &st2) == 0 && st2.st_dev == st->st_dev && st2.st_ino == st->st_ino)
            return fd2;
        close(fd2);
    }
    return -1;
}

/* A regular file named by @path is opened once (*st becomes its fstat()): the probe, the
 * marks and heads of the commits and the parsing all read this file, even when logrotate
 * renames it and puts a new one at @path meanwhile (the position saved must be this
 * file's). A plain file: rd->fd, pread() by the reader and handed to the pipeline. A .gz
 * file: *gz_fd for the pipeline, and rd->gz_fd, a second description of the same file,
 * for the reader. Something that is no longer a regular file is left to be opened by name
 * (the pipeline says what it is). Returns 0, or -1 + @d. */
static int open_once(struct reader *rd, const char *path, struct stat *st, int *gz_fd,
                     struct diag *d)
{
    /* O_NONBLOCK: a FIFO put at @path since the stat() must not block the open */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0 || fstat(fd, st) < 0) {
        diag_errno(d, DIAG_IO, errno, "cannot open '%s'", path);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (!S_ISREG(st->st_mode) || fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
        close(fd);
        return 0;
    }
    if (!input_fd_is_gzip(fd)) {
        rd->fd = fd;
        rd->own_fd = true;
        return 0;
    }
    int fd2 = reopen_same(fd, path, st);
    if (fd2 < 0) {
        close(fd);
        return diag_errno(d, DIAG_IO, errno ? errno : ENOENT, "cannot open '%s' a second time",
                          path);
    }
    fl = fcntl(fd2, F_GETFL);
    if (fl >= 0)
        (void)fcntl(fd2, F_SETFL, fl & ~O_NONBLOCK);
    *gz_fd = fd;
    rd->gz_fd = fd2;
    return 0;
}

int ingest_source(struct store *s, const struct ingest_opts *o, const char *path,
                  struct ingest_result *res, struct diag *d)
{
    struct run r = { .s = s, .o = o, .res = res, .path = path, .b = store_batch_new(s) };
    store_batch_set_input(r.b, o->input ? o->input : path);
    tailbuf_init(&r.ring, RING_KEEP);
    struct store_resume rs;
    struct parse_skip *skip = NULL;
    struct span resume_state = SPAN_NULL; /* points into rs.checkpoint */
    size_t nskip = 0;
    int gz_fd = -1; /* a .gz file opened once (open_once()): what the pipeline reads */
    bool gz = false;
    int ret = -1;

    store_resume_init(&rs);
    r.rd.path = path;
    r.rd.fd = -1;
    r.rd.gz_fd = -1;
    sbuf_init(&r.rd.head, SIFT_SOURCE_HEAD_BYTES);
    sbuf_init(&r.head, SIFT_SOURCE_HEAD_BYTES);
    r.pos.name = path;
    r.positioned = strcmp(path, "-") != 0;
    bool map = false;
    bool live = false;      /* may still be written: hold its cut end (SIFT_HOLD_LIVE_SECONDS) */
    bool writing = false;   /* ... and was written just now (being_written()) */
    struct stat st = { 0 }; /* (r.positioned) what is read */
    struct ingest_prefetch *pf = o->prefetch; /* consumed: taken over below, or dropped */

    int stream_fd = -1; /* a named pipe or device: opened once, read as stdin is */
    if (r.positioned && !o->have_fd) {
        struct stat pst;
        if (stat(path, &pst) == 0 && !S_ISREG(pst.st_mode) && !S_ISDIR(pst.st_mode)) {
            /* A FIFO, a process substitution's /dev/fd/N, a character device: no offset
             * to come back to, and opening it twice would wait for a second writer. */
            stream_fd = open(path, O_RDONLY | O_CLOEXEC);
            if (stream_fd < 0) {
                diag_errno(d, DIAG_IO, errno, "cannot open '%s'", path);
                goto out;
            }
            r.positioned = false;
        }
    }

    if (r.positioned) {
        if ((o->have_fd ? fstat(o->fd, &st) : stat(path, &st)) < 0) {
            diag_errno(d, DIAG_IO, errno, "cannot open '%s'", path);
            goto out;
        }
        if (!o->have_fd && S_ISREG(st.st_mode) && open_once(&r.rd, path, &st, &gz_fd, d) < 0)
            goto out;
        /* (what was opened, not what @path names by now) */
        gz = gz_fd >= 0 || (!r.rd.own_fd && source_is_gzip(o, path));
        map = o->map && !o->have_fd && !o->follow && !gz && S_ISREG(st.st_mode) &&
              (uint64_t)st.st_size >= INPUT_MAP_MIN_BYTES;
        if (o->have_fd) {
            if (gz) {
                diag_set(d, DIAG_INTERNAL, "'%s': gzip data handed over by descriptor", path);
                goto out;
            }
            r.rd.fd = o->fd;
        }
        struct store_probe probe = {
            .name = path,
            .dev = (uint64_t)st.st_dev,
            .inode = (uint64_t)st.st_ino,
            .size = gz ? UINT64_MAX : (uint64_t)st.st_size,
            .read = reader_read,
            .ctx = &r.rd,
        };
        lock(&r);
        int found = store_source_find(s, &probe, &rs, d);
        unlock(&r);
        if (found < 0)
            goto out;
        res->how = rs.how;
        /* The file's birth time, kept with the position: a file on a (dev, inode) that a
         * stream had, born otherwise, is a new file, not that one truncated. */
        int64_t born = 0;
        if (!input_fd_birth_us(r.rd.fd >= 0 ? r.rd.fd : gz_fd, &born))
            born = 0;
        r.pos.born_us = born;
        res->new_inode =
            rs.how == STORE_RESUME_REPLACED && born && rs.replaced_born && born != rs.replaced_born;
        res->start_offset = rs.offset;
        res->offset = res->read_end = rs.offset;
        int64_t mtime_us = (int64_t)st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000;
        live = may_grow(o, &st);
        writing = being_written(o, &st);
        if (o->known_only && (rs.how == STORE_RESUME_NEW || rs.how == STORE_RESUME_REPLACED) &&
            mtime_us <= o->new_after_us) {
            ret = 0; /* not a continuation of a stream we read: leave it */
            goto out;
        }
        if (gz && rs.unverified && r.rd.cut &&
            (rs.how == STORE_RESUME_NEW || rs.how == STORE_RESUME_REPLACED)) {
            /* A .gz still being written (logrotate's compress) of a stream read past its
             * end so far: no mark of that stream lies in it yet to tell whether it is a
             * copy of it. Reading it as new would count that stream twice. */
            if (live)
                log_note("'%s' is still being compressed (its gzip data ends early) and begins "
                         "like a log pgsift read further: left until it is complete",
                         path);
            else
                log_warn("'%s' is cut (its gzip data ends early, and it has been quiet for "
                         "%d s) and begins like a log pgsift read further: taken as a damaged "
                         "copy of that log's start, not read",
                         path, SIFT_HOLD_LIVE_SECONDS);
            res->covered = true;
            ret = 0;
            goto out;
        }
        if (rs.how == STORE_RESUME_MOVED)
            res->prev_name = xstrdup(rs.prev_name.buf);
        if (rs.covered) {
            /* A shorter copy of a stream read past its end: all of it was read. */
            res->covered = true;
            ret = 0;
            goto out;
        }
        r.pos.id = rs.id;
        r.pos.seen_max_id = rs.seen_max_id;
        r.pos.start = rs.offset;
        r.pos.line = rs.line;
        r.continued = rs.offset > 0;
        if (ingest_checkpoint_decode(sbuf_span(&rs.checkpoint), rs.offset, &skip, &nskip,
                                     &resume_state) < 0) {
            diag_set(d, DIAG_DB, "malformed parser checkpoint stored for '%s'", path);
            goto out;
        }
        if (store_batch_restore(r.b, sbuf_span(&rs.pairing)) < 0) {
            diag_set(d, DIAG_DB, "malformed statement pairing stored for '%s'", path);
            goto out;
        }
        /* The stream's first bytes (for the next commits) and the bytes before the
         * offset (the ring starts with them). */
        size_t hl = rs.offset < SIFT_SOURCE_HEAD_BYTES ? (size_t)rs.offset : SIFT_SOURCE_HEAD_BYTES;
        if (r.rd.head.len < hl) {
            char tmp[SIFT_SOURCE_HEAD_BYTES];
            int rc = reader_read(&r.rd, 0, tmp, hl, d);
            if (rc < 0)
                goto out;
            if (rc > 0) {
                diag_set(d, DIAG_IO, "'%s' shrank while it was being read", path);
                goto out;
            }
        }
        if (sbuf_add(&r.head, r.rd.head.buf, hl) < 0)
            BUG("head buffer cap");
        tailbuf_reset(&r.ring, rs.offset - rs.mark.len);
        if (tailbuf_add(&r.ring, rs.mark.buf, rs.mark.len) < 0)
            BUG("ring buffer cap");
        /* Nothing new in an unchanged plain file: do not even open it. */
        if (rs.how != STORE_RESUME_NEW && probe.size != UINT64_MAX && probe.size == rs.offset &&
            nskip == 0) {
            ret = 0;
            goto out;
        }
    }
    r.fed_end = r.commit_fed = rs.offset;
    /* Opened and looked up: a progress display names it from now on. */
    if (o->progress)
        o->progress(o->progress_ctx, path, 0);

    struct pipeline_opts po = {
        .format = o->format,
        .prefix = o->prefix,
        .tz = o->tz,
        .normalize = true,
        .sink = sink,
        .sink_ctx = &r,
        .start_offset = rs.offset,
        .start_line = rs.line,
        .skip = skip,
        .nskip = nskip,
        .resume_state = resume_state,
        /* A file may still be written (modified lately): its last line is read once it is
         * complete, and a last record cut inside a quoted field once the rest is there (a
         * .gz only when its data ends inside a member: gzip is writing it). A file quiet
         * for SIFT_HOLD_LIVE_SECONDS is complete: what is cut stays cut. */
        .hold_partial = live,
        .line_done = line_done,
        .follow = o->follow,
        .end_detection = o->end_detection,
        .end_live = o->end_live || !writing,
        .have_fd = o->have_fd || r.rd.own_fd || gz_fd >= 0 || stream_fd >= 0,
        .fd = o->have_fd       ? o->fd
              : r.rd.own_fd    ? r.rd.fd
              : stream_fd >= 0 ? stream_fd
                               : gz_fd,
        .chunk_bytes = o->chunk_bytes,
        .nz = o->nz,
    };
    /* -j N on one plain file: parsed in parts on N threads (csvlog, jsonlog). */
    struct pipeline_par *pp = NULL;
    bool in_parts = map && o->parse_threads >= 2 && nskip == 0 && resume_state.len == 0 &&
                    !o->committed && !o->max_bytes && !o->stop;
    if (in_parts)
        pp = prefetched(pf, &st, &rs, po.hold_partial, store_keeps_literals(s));
    else
        ingest_prefetch_drop(pf);
    pf = NULL;
    if (in_parts && !pp) {
        struct pipeline_par_opts ppo = par_opts(o, path, po.hold_partial, store_keeps_literals(s));
        ppo.have_fd = r.rd.own_fd;
        ppo.fd = r.rd.fd;
        ppo.start_offset = rs.offset;
        ppo.start_line = rs.line;
        if (pipeline_par_open(&ppo, &pp, d) < 0)
            goto out;
    }
    /* No commit thread for a file read in parts: the reader parses parts too, and commits
     * between them (pipeline_par.c, "Threads"): a third thread would only take its turns
     * on the parsers' cores (-j 2: about 6 % more wall time, 3 % more CPU;
     * docs/performance.md, session 10). */
    if (!pp && r.positioned && o->async_commit && !o->committed && !o->max_bytes && !o->stop) {
        async_start(&r);
        /* Alone on the store: its transaction may stay open while the batch fills. */
        r.stream = r.cm.on && !o->lock;
        /* The reader is the busier of the two threads: read() goes to a third. */
        po.read_ahead = r.cm.on && !o->follow;
    }
    po.map = map; /* (read_ahead is then not used) */
    struct pipeline_result pr;
    int rc = 2;
    if (pp) {
        rc = run_parts(&r, pp, rs.offset, rs.line ? rs.line : 1, &pr, d);
        pipeline_par_close(pp);
        if (rc == 1)
            rc = 0; /* stale: res->stale says so */
        if (rc == 2) {
            /* Nothing parsed: read it the usual way, for the diagnosis. */
            pipeline_result_release(&pr);
            r.started = false;
            r.fed_end = r.commit_fed = rs.offset;
            res->bytes = 0;
        }
    }
    if (rc == 2)
        rc = pipeline_run(&po, path, &pr, d);
    /* A failed run still waits for the commit in flight (its batch must not be freed
     * under it); a failure or stale stop that commit reports counts like any other. */
    int arc = async_stop(&r, d);
    if (rc == 0 && arc < 0)
        rc = -1;
    if (arc > 0)
        res->stale = true;
    parse_stats_merge(&res->stats, &pr.stats);
    /* (rejects of a continued stream are stored: commit()) */
    res->nothing_parsed =
        pr.nothing_parsed && !(r.continued && (pr.stats.rejects == 1 || pr.resumed));
    if (pr.nothing_parsed && sbuf_addspan(&res->diagnosis, sbuf_span(&pr.diagnosis)) < 0) {
        /* capped: the start of the diagnosis is kept */
    }
    if (pr.format)
        res->format = xstrdup(pr.format);
    pipeline_result_release(&pr);
    store_batch_discard(r.b); /* after a failure or a stale stop, nothing stays */
    if (rc < 0)
        goto out;
    res->offset = r.positioned ? r.pos.start : 0;
    res->read_end = r.fed_end;
    ret = 0;
out:
    ingest_prefetch_drop(pf);
    if (gz_fd >= 0)
        close(gz_fd);
    if (stream_fd >= 0)
        close(stream_fd);
    free(skip);
    store_resume_release(&rs);
    run_release(&r);
    return ret;
}

void ingest_warn_late(uint64_t n, const struct store_run_counts *rc)
{
    char oldest[CLOCK_RFC3339_MAX], cutoff[CLOCK_RFC3339_MAX];
    log_warn("%" PRIu64 " record%s came in older than the rules' last evaluation (%s; the "
             "oldest from %s): the evaluations already made did not see %s (docs/rules.md, "
             "\"Late records\")",
             n, n == 1 ? "" : "s", clock_format_rfc3339(rc->late_cutoff_us, 0, cutoff),
             clock_format_rfc3339(rc->late_oldest_us, 0, oldest), n == 1 ? "it" : "them");
}
