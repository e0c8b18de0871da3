/* SPDX-License-Identifier: MIT */
/*
 * pipeline_par.c - one plain file parsed in parts on several threads (pipeline.h).
 *
 * Parts: the file from the start offset on is cut every part_bytes (closer together in
 * its last stretch, plan()), each cut moved to the first line after it where a record
 * may start (parser_may_start(); guess() below). Part k runs from cut k to cut k + 1. Its
 * worker maps the file (the one opened at the start, by its descriptor: a rename by
 * logrotate changes nothing) from cut k on, with a parser forked from the one that
 * detected the format (restarted for its next parts), and reads until the first line at
 * or after cut k + 1 at which the parser holds nothing pending (parser_idle()): normally
 * that is the line at cut k + 1 itself. A record that runs across the cut (a quoted field
 * with a line that looked like a record start) is read to its end, so the part ends later
 * than the next one starts: the next part began inside a record. pipeline_par_next() hands
 * the parts out in order and checks each against the end of the one before; a part that
 * does not start there is dropped and parsed again from there, in the caller's thread.
 *
 * By induction every part handed out starts where the sequential parser would have been
 * idle, so (parse.h, parser_splittable()) it holds exactly the events and rejects that
 * pipeline_run() gives for those bytes. Line numbers are counted from 1 in each part and
 * made absolute when the part is handed out (the fold's event rows: by the caller, who is
 * given the part's first line).
 *
 * Records: with a fold (pipeline_par_opts.fold: pgsift ingest's part batches, store.h)
 * the worker folds each record into the part's state until the fold refuses one; that
 * record and the part's later ones are copied into the part (part_add()), as all of them
 * are without a fold.
 *
 * Threads: the workers take part numbers in order and may run at most PAR_SPARE parts
 * ahead of the one the caller waits for (memory: each part holds its fold state and
 * copies; parts handed back are kept in a pool for the next ones, fold state included).
 * The caller is one of the workers: of pipeline_par_opts.workers, workers - 1 are
 * threads, and pipeline_par_next(), rather than wait for the part it hands out next,
 * takes the next part free to take and parses it itself (take_and_run()). So the caller's
 * own work between parts - pgsift ingest absorbs each part and commits its batches -
 * shares its core with parsing instead of taking it from a worker: on 2 cores, -j 2 runs
 * 2 threads, not 3 or 4 (docs/performance.md, session 10).
 * Each worker has its own parser, normalizer and scratch arena (the caller's: those it
 * also parses again with); what the parts share - the template parser, the file's
 * descriptor, name and size - is read-only.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "classify/classify.h"
#include "core/arena.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "input/input.h"
#include "normalize/normalize.h"
#include "parse/parse.h"
#include "pipeline.h"

/* Parts in flight beyond the workers' own: done and waiting to be handed out. */
#define PAR_SPARE 2u
/* Bytes mapped past a part's end at first: the line at the cut must be read to see it. */
#define PAR_MAP_SLACK ((uint64_t)256 << 10)
/* A part's texts (of the records the fold did not take, or all without a fold): the
 * first block; more are added as needed. */
#define PAR_ARENA_BYTES ((size_t)2 << 20)
/* guess(): bytes read at a time while looking for a record start, and how much of a
 * line's start it needs at least (csvlog's test reads the columns before the message). */
#define PAR_SCAN_BYTES  8192
#define PAR_GUESS_BYTES 1024

enum slot_state { SLOT_FREE, SLOT_RUNNING, SLOT_DONE };

struct slot {
    enum slot_state state;
    uint64_t k; /* part number */
    struct pipeline_part *part;
    int rc; /* of the part's run: 0, or -1 with d */
    struct diag d;
};

struct pipeline_par {
    struct pipeline_par_opts o;
    char *path, *name;
    int fd;        /* the file, opened once: every part reads it */
    uint64_t size; /* its size when opened */
    uint64_t dev, ino;
    struct parser *tmpl; /* detected the format; forked per part */
    size_t part_bytes;
    uint64_t nparts;
    uint64_t *at;   /* nparts + 1: where part k is cut at the earliest (plan()) */
    uint64_t *cuts; /* under mu: cut() of each part, 0 until found */

    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_done;
    pthread_t *tids;
    unsigned nthreads;
    bool quit;
    uint64_t next_take; /* the next part a worker takes */
    uint64_t next_give; /* the next part handed out */
    struct slot *slots; /* part k in slots[k % nslots] */
    size_t nslots;
    struct pipeline_part *free_parts; /* handed back by pipeline_part_free() */

    /* The caller's side (pipeline_par_next()). */
    uint64_t expect;       /* the stream offset the next part must start at */
    uint64_t line;         /* the line number there */
    bool ended;            /* a part reached the end of the file */
    uint64_t again;        /* parts parsed again (they began inside a record) */
    struct normalizer *nz; /* for parts parsed again in the caller's thread */
    struct parser *parser;
    struct arena scratch;
};

bool pipeline_par_shrank(const struct pipeline_par *pp)
{
    struct stat st;
    return fstat(pp->fd, &st) < 0 || (uint64_t)st.st_size < pp->size;
}

/* ---- cuts ---- */

/* The first line start at or after @at (at > 0) where a record may start, or UINT64_MAX
 * when none does before @limit. Reads with pread(): a guess needs no mapping. */
static uint64_t guess(const struct pipeline_par *pp, uint64_t at, uint64_t limit)
{
    char buf[PAR_SCAN_BYTES];
    uint64_t pos = at - 1; /* a line starts at @at if the byte before it is '\n' */
    for (;;) {
        if (pos >= limit || pos >= pp->size)
            return UINT64_MAX;
        ssize_t n = pread(pp->fd, buf, sizeof(buf), (off_t)pos);
        if (n <= 0)
            return UINT64_MAX;
        size_t i = 0;
        uint64_t next = pos + (uint64_t)n;
        const char *nl;
        while ((nl = memchr(buf + i, '\n', (size_t)n - i)) != NULL) {
            size_t ls = (size_t)(nl - buf) + 1;
            uint64_t start = pos + ls;
            if (start >= limit || start >= pp->size)
                return UINT64_MAX;
            size_t avail = (size_t)n - ls;
            const char *e = memchr(buf + ls, '\n', avail);
            if (!e && avail < PAR_GUESS_BYTES && (size_t)n == sizeof(buf)) {
                next = start - 1; /* the line's start is cut by this read: read from it */
                break;
            }
            if (parser_may_start(pp->tmpl,
                                 span_make(buf + ls, e ? (size_t)(e - (buf + ls)) : avail)))
                return start;
            i = ls;
        }
        pos = next;
    }
}

/* The parts' nominal starts (pp->at). Parts are part_bytes, but in the last
 * 2 * workers * part_bytes of the file each is a 2 * workers'th of what is left, down to
 * a third of part_bytes: the workers take the last parts in turn, and the first done
 * would otherwise wait up to a whole part's time for the last (measured with -j 2: the
 * reader waited 2-7 ms at the end of most runs; tapered, about 2 % less wall time:
 * docs/performance.md, session 10). */
static void plan(struct pipeline_par *pp)
{
    uint64_t part = pp->part_bytes, least = part / 3;
    uint64_t spread = 2 * (uint64_t)pp->o.workers;
    if (least == 0)
        least = 1;
    size_t n = 0, cap = 0;
    for (uint64_t pos = pp->o.start_offset;;) {
        XGROW(pp->at, n + 1, cap);
        pp->at[n++] = pos;
        if (pos >= pp->size)
            break;
        uint64_t left = pp->size - pos, step = left / spread;
        if (step > part)
            step = part;
        if (step < least)
            step = least;
        if (left - (step < left ? step : left) < least / 2)
            step = left; /* no sliver of a part at the end */
        pos += step;
    }
    pp->nparts = n - 1;
}

/* Where part @k starts (its cut), or UINT64_MAX when no record starts in its range.
 * Found once: each cut is both a part's start and the part before's end. */
static uint64_t cut(struct pipeline_par *pp, uint64_t k)
{
    if (k == 0)
        return pp->o.start_offset;
    pthread_mutex_lock(&pp->mu);
    uint64_t c = pp->cuts[k]; /* (0: not found yet; a cut is never 0) */
    pthread_mutex_unlock(&pp->mu);
    if (c)
        return c;
    c = guess(pp, pp->at[k], pp->at[k + 1]);
    pthread_mutex_lock(&pp->mu);
    pp->cuts[k] = c;
    pthread_mutex_unlock(&pp->mu);
    return c;
}

/* Where part @k ends (the next part's cut that exists), or UINT64_MAX: the file's end. */
static uint64_t part_end(struct pipeline_par *pp, uint64_t k)
{
    for (uint64_t j = k + 1; j < pp->nparts; j++) {
        uint64_t c = cut(pp, j);
        if (c != UINT64_MAX)
            return c;
    }
    return UINT64_MAX;
}

/* ---- one part ---- */

static void part_add(struct pipeline_part *part, struct event *ev)
{
    XGROW(part->rec, part->n + 1, part->a_rec);
    struct pipeline_rec *r = &part->rec[part->n];
    if (store_rec_light(ev)) {
        /* The query texts of the first record of each fingerprint (store.h). */
        bool texts = true;
        if ((ev->flags & EVENT_HAS_FINGERPRINT) && ev->fingerprint) {
            uint64_t *seen = &part->seen[(ev->fingerprint * UINT64_C(0x9e3779b97f4a7c15)) >> 54];
            if (*seen == ev->fingerprint)
                texts = false;
            else if (ev->normalized.len)
                *seen = ev->fingerprint;
        }
        r->whole = 0;
        store_rec_keep(&r->light, ev, texts,
                       part->prev_light ? &part->rec[part->prev_light - 1].light : NULL,
                       &part->arena);
        part->prev_light = ++part->n;
        return;
    }
    struct span name = ev->src_name;
    ev->src_name = SPAN_NULL; /* the part's name, not one copy per event */
    XGROW(part->ev, part->n_ev + 1, part->a_ev);
    event_copy(&part->ev[part->n_ev], ev, &part->arena);
    part->ev[part->n_ev].src_name = part->name;
    ev->src_name = name;
    r->whole = ++part->n_ev;
    part->n++;
}

/* A record of @part: to the fold while it takes them, else kept in the part. */
static void part_record(struct pipeline_part *part, struct event *ev)
{
    if (part->folding && part->fold_by->take(part->fold_by->ctx, part->fold, ev))
        return;
    part->folding = false;
    part_add(part, ev);
}

void pipeline_part_free(struct pipeline_part *part)
{
    if (!part)
        return;
    struct pipeline_par *pp = part->pool;
    parse_stats_release(&part->stats);
    if (pp) {
        /* Kept for the next part: its memory is already mapped in (no page faults). */
        arena_reset(&part->arena);
        memset(&part->stats, 0, sizeof(part->stats));
        part->n = part->n_ev = part->prev_light = 0;
        memset(part->seen, 0, sizeof(part->seen));
        part->offset = part->end = part->line = part->lines = 0;
        part->last = part->held = part->truncated = false;
        pthread_mutex_lock(&pp->mu);
        part->next_free = pp->free_parts;
        pp->free_parts = part;
        pthread_mutex_unlock(&pp->mu);
        return;
    }
    if (part->fold)
        part->fold_by->free(part->fold_by->ctx, part->fold);
    free(part->rec);
    free(part->ev);
    arena_release(&part->arena);
    free(part);
}

/* A part from the pool, or a new one. */
static struct pipeline_part *part_take(struct pipeline_par *pp)
{
    pthread_mutex_lock(&pp->mu);
    struct pipeline_part *part = pp->free_parts;
    if (part)
        pp->free_parts = part->next_free;
    pthread_mutex_unlock(&pp->mu);
    if (!part) {
        part = xcalloc(1, sizeof(*part));
        arena_init(&part->arena, PAR_ARENA_BYTES);
        part->name = span_cstr(pp->name);
        part->pool = pp;
    }
    part->next_free = NULL;
    /* The fold's state: made once, emptied for each part (here, on the part's thread). */
    part->fold_by = pp->o.fold;
    if (pp->o.fold && !part->fold)
        part->fold = pp->o.fold->make(pp->o.fold->ctx);
    else if (part->fold)
        pp->o.fold->reset(pp->o.fold->ctx, part->fold);
    part->folding = part->fold != NULL;
    return part;
}

/* The parser for a part: @keep's (the thread's previous part's) made new again, or a new
 * fork. */
static struct parser *part_parser(struct pipeline_par *pp, struct parser **keep, struct diag *d)
{
    if (*keep && parser_restart(*keep))
        return *keep;
    parser_free(*keep);
    *keep = parser_fork(pp->tmpl, d);
    return *keep;
}

/* Parse [from, until) (until UINT64_MAX: to the end) into a new part. */
static int run_part(struct pipeline_par *pp, struct parser **keep, struct normalizer *nz,
                    struct arena *scratch, uint64_t from, uint64_t until,
                    struct pipeline_part **out, struct diag *d)
{
    struct pipeline_part *part = part_take(pp);
    part->offset = from;
    *out = part;

    /* A part beyond the end of a file cut short would just be empty: fail as a mapping
     * cut under the reader does (input.c). */
    if (pipeline_par_shrank(pp)) {
        part->truncated = true;
        return diag_set(d, DIAG_IO,
                        "'%s' shrank while being read (copytruncate?): it is read again from "
                        "the last commit next run",
                        pp->name);
    }
    struct parser *p = part_parser(pp, keep, d);
    if (!p)
        return -1;
    uint64_t map_bytes = until == UINT64_MAX ? 0 : until - from + PAR_MAP_SLACK;
    /* The file opened at the start, not the path: it may have been rotated since. */
    struct input *in = input_open(&(struct input_opts){ .path = pp->path,
                                                        .name = pp->name,
                                                        .have_fd = true,
                                                        .fd = pp->fd,
                                                        .start_offset = from,
                                                        .start_line = 1,
                                                        .hold_partial = pp->o.hold_partial,
                                                        .map = true,
                                                        .map_bytes = map_bytes },
                                  d);
    if (!in)
        return -1;
    int rc = 0;
    struct input_line ln;
    struct event *ev;
    for (;;) {
        enum input_status st = input_next(in, &ln, d);
        if (st == INPUT_LINE) {
            if (ln.offset >= until && parser_idle(p))
                break; /* the next part's first line */
            pipeline_feed(in, p, &ln);
            while (parser_next(p, &ev) == PARSE_EVENT) {
                classify_event(ev, scratch);
                normalize_event(nz, ev, NULL);
                part_record(part, ev);
            }
            arena_reset(scratch);
            continue;
        }
        if (st == INPUT_DAMAGED) { /* (not for a plain file; kept for completeness) */
            parser_damage(p, input_name(in), input_damage(in));
            continue;
        }
        if (st == INPUT_ERROR) {
            rc = -1;
            break;
        }
        /* The end of the file: this part is the last. A record cut inside a quoted field
         * of a file that may still grow stays pending: the part ends at its start. */
        if (pp->o.hold_partial)
            part->held = parser_end_hold(p);
        else
            parser_end(p);
        while (parser_next(p, &ev) == PARSE_EVENT) {
            classify_event(ev, scratch);
            normalize_event(nz, ev, NULL);
            part_record(part, ev);
        }
        arena_reset(scratch);
        part->last = true;
        break;
    }
    if (part->fold && part->fold_by->done)
        part->fold_by->done(part->fold_by->ctx, part->fold);
    struct parse_checkpoint cp;
    parser_checkpoint(p, &cp);
    part->end = cp.line ? cp.offset : from;
    part->lines = cp.line ? cp.line - 1 : 0;
    part->truncated = input_truncated(in);
    parse_stats_merge(&part->stats, parser_stats(p));
    input_close(in);
    return rc;
}

/* ---- workers ---- */

/* Under pp->mu: is there a part to take, within PAR_SPARE of the one handed out next? */
static bool can_take(const struct pipeline_par *pp)
{
    return pp->next_take < pp->nparts && pp->next_take < pp->next_give + pp->nslots;
}

/* Under pp->mu (released while the part runs), with can_take(): take the next part, run
 * it with this thread's parser, normalizer and scratch arena, and leave its outcome in
 * its slot. */
static void take_and_run(struct pipeline_par *pp, struct parser **p, struct normalizer *nz,
                         struct arena *scratch)
{
    uint64_t k = pp->next_take++;
    struct slot *s = &pp->slots[k % pp->nslots];
    s->state = SLOT_RUNNING;
    s->k = k;
    pthread_mutex_unlock(&pp->mu);

    struct pipeline_part *part = NULL;
    struct diag d = DIAG_INIT;
    int rc = 0;
    uint64_t from = cut(pp, k);
    if (from != UINT64_MAX) /* (else no record starts in its range: it is empty) */
        rc = run_part(pp, p, nz, scratch, from, part_end(pp, k), &part, &d);

    pthread_mutex_lock(&pp->mu);
    s->part = part;
    s->rc = rc;
    s->d = d;
    s->state = SLOT_DONE;
    pthread_cond_broadcast(&pp->cv_done);
}

static void *worker_main(void *arg)
{
    struct pipeline_par *pp = arg;

    struct normalizer *nz = normalize_new(NULL);
    struct arena scratch = ARENA_INIT;
    struct parser *p = NULL;

    pthread_mutex_lock(&pp->mu);
    for (;;) {
        while (!pp->quit && !can_take(pp) && pp->next_take < pp->nparts)
            pthread_cond_wait(&pp->cv_work, &pp->mu);
        if (pp->quit || !can_take(pp))
            break;
        take_and_run(pp, &p, nz, &scratch);
    }
    pthread_mutex_unlock(&pp->mu);
    parser_free(p);
    arena_release(&scratch);
    normalize_free(nz);
    return NULL;
}

/* ---- the caller's side ---- */

/* Detect the format the way pipeline_run() would: a parser fed the first lines from the
 * start offset until it knows. */
static int detect(struct pipeline_par *pp, struct diag *d)
{
    struct parser *p = parser_new(
        &(struct parser_opts){ .format = pp->o.format, .prefix = pp->o.prefix, .tz = pp->o.tz }, d);
    if (!p)
        return -1;
    struct input *in = input_open(&(struct input_opts){ .path = pp->path,
                                                        .have_fd = true,
                                                        .fd = pp->fd,
                                                        .start_offset = pp->o.start_offset,
                                                        .start_line = pp->o.start_line,
                                                        .chunk_bytes = 64 * 1024 },
                                  d);
    if (!in) {
        parser_free(p);
        return -1;
    }
    struct input_line ln;
    struct event *ev;
    enum input_status st = INPUT_LINE;
    /* (until a format is chosen, or detection is over without one: parser_idle()) */
    while (!parser_format(p) && !parser_idle(p) && (st = input_next(in, &ln, d)) == INPUT_LINE) {
        parser_feed(p, &ln);
        while (parser_next(p, &ev) == PARSE_EVENT)
            ;
    }
    input_close(in);
    pp->tmpl = p;
    return st == INPUT_ERROR ? -1 : 0;
}

int pipeline_par_open(const struct pipeline_par_opts *o, struct pipeline_par **out, struct diag *d)
{
    *out = NULL;
    const char *env = getenv("SIFT_NO_MMAP");
    if (o->workers < 2 || (env && !strcmp(env, "1")))
        return 1;
    int fd = o->have_fd ? fcntl(o->fd, F_DUPFD_CLOEXEC, 3) : open(o->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 1; /* pipeline_run() says why */
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || input_fd_is_gzip(fd)) {
        close(fd);
        return 1;
    }
    size_t part_bytes = o->part_bytes ? o->part_bytes : PIPELINE_PART_BYTES;
    uint64_t size = (uint64_t)st.st_size;
    if (size <= o->start_offset || size - o->start_offset < 2 * (uint64_t)part_bytes) {
        close(fd);
        return 1; /* too little to share */
    }
    struct pipeline_par *pp = xcalloc(1, sizeof(*pp));
    pp->o = *o;
    pp->path = xstrdup(o->path);
    pp->name = xstrdup(o->name ? o->name : o->path);
    pp->fd = fd;
    pp->size = size;
    pp->dev = (uint64_t)st.st_dev;
    pp->ino = (uint64_t)st.st_ino;
    pp->part_bytes = part_bytes;
    if (detect(pp, d) < 0) {
        pipeline_par_close(pp);
        return -1;
    }
    if (!parser_splittable(pp->tmpl)) {
        pipeline_par_close(pp);
        return 1;
    }
    plan(pp); /* (the last part reads on to the end of the file if it grew) */
    pp->expect = o->start_offset;
    pp->line = o->start_line ? o->start_line : 1;
    pp->nz = normalize_new(NULL);
    arena_init(&pp->scratch, 64 * 1024);
    pp->cuts = xcalloc(pp->nparts, sizeof(*pp->cuts));
    pp->nslots = o->workers + PAR_SPARE;
    pp->slots = xcalloc(pp->nslots, sizeof(*pp->slots));
    pthread_mutex_init(&pp->mu, NULL);
    pthread_cond_init(&pp->cv_work, NULL);
    pthread_cond_init(&pp->cv_done, NULL);
    pp->tids = xcalloc(o->workers - 1, sizeof(*pp->tids)); /* (workers >= 2, above) */
    for (; pp->nthreads < o->workers - 1; pp->nthreads++)  /* (the caller is one more) */
        if (pthread_create(&pp->tids[pp->nthreads], NULL, worker_main, pp) != 0)
            break;
    if (pp->nthreads == 0) {
        pipeline_par_close(pp);
        return 1;
    }
    *out = pp;
    return 0;
}

const char *pipeline_par_format(const struct pipeline_par *pp)
{
    return parser_format(pp->tmpl);
}

void pipeline_par_identity(const struct pipeline_par *pp, struct input_identity *id)
{
    memset(id, 0, sizeof(*id));
    id->regular = true;
    id->dev = pp->dev;
    id->ino = pp->ino;
    id->size = pp->size;
}

uint64_t pipeline_par_again(const struct pipeline_par *pp)
{
    return pp->again;
}

uint64_t pipeline_par_size_now(const struct pipeline_par *pp)
{
    struct stat st;
    return fstat(pp->fd, &st) == 0 ? (uint64_t)st.st_size : pp->size;
}

/* Make @part's line numbers absolute (its first line is pp->line) and move on. */
static void place(struct pipeline_par *pp, struct pipeline_part *part)
{
    uint64_t delta = pp->line - 1;
    part->line = pp->line;
    if (delta) {
        for (size_t i = 0; i < part->n_ev; i++)
            part->ev[i].src_line += delta;
        struct parse_stats st = { 0 };
        parse_stats_merge_at(&st, &part->stats, delta);
        parse_stats_release(&part->stats);
        part->stats = st;
    }
    pp->expect = part->end;
    pp->line += part->lines;
    if (part->last)
        pp->ended = true;
}

int pipeline_par_next(struct pipeline_par *pp, struct pipeline_part **out, struct diag *d)
{
    *out = NULL;
    for (;;) {
        if (pp->ended)
            return 1;
        pthread_mutex_lock(&pp->mu);
        if (pp->next_give >= pp->nparts) {
            pthread_mutex_unlock(&pp->mu);
            pp->ended = true; /* (the last part always reaches the end: not reached) */
            return 1;
        }
        struct slot *s = &pp->slots[pp->next_give % pp->nslots];
        while (!(s->state == SLOT_DONE && s->k == pp->next_give)) {
            if (can_take(pp)) /* a worker too, rather than wait */
                take_and_run(pp, &pp->parser, pp->nz, &pp->scratch);
            else
                pthread_cond_wait(&pp->cv_done, &pp->mu);
        }
        struct pipeline_part *part = s->part;
        int rc = s->rc;
        struct diag sd = s->d;
        uint64_t k = pp->next_give;
        s->part = NULL;
        s->state = SLOT_FREE;
        pp->next_give++;
        pthread_cond_broadcast(&pp->cv_work);
        pthread_mutex_unlock(&pp->mu);

        if (!part) {
            if (rc < 0) {
                *d = sd;
                return -1;
            }
            continue; /* an empty range */
        }
        if (part->offset == pp->expect) {
            if (rc < 0) {
                pipeline_part_free(part);
                *d = sd;
                return -1;
            }
            place(pp, part);
            *out = part;
            return 0;
        }
        /* The part before ran past this one's cut: this one began inside a record. */
        uint64_t until = part_end(pp, k), began = part->offset;
        pipeline_part_free(part);
        if (pp->expect >= until)
            continue; /* wholly read by the part before */
        log_verbose("%s: a part began inside a record at byte %llu: parsed again from %llu",
                    pp->name, (unsigned long long)began, (unsigned long long)pp->expect);
        pp->again++;
        rc = run_part(pp, &pp->parser, pp->nz, &pp->scratch, pp->expect, until, &part, d);
        if (rc < 0) {
            pipeline_part_free(part);
            return -1;
        }
        place(pp, part);
        *out = part;
        return 0;
    }
}

void pipeline_par_close(struct pipeline_par *pp)
{
    if (!pp)
        return;
    if (pp->nthreads) {
        pthread_mutex_lock(&pp->mu);
        pp->quit = true;
        pthread_cond_broadcast(&pp->cv_work);
        pthread_mutex_unlock(&pp->mu);
        for (unsigned i = 0; i < pp->nthreads; i++)
            pthread_join(pp->tids[i], NULL);
    }
    if (pp->slots) {
        for (size_t i = 0; i < pp->nslots; i++)
            pipeline_part_free(pp->slots[i].part);
        while (pp->free_parts) {
            struct pipeline_part *part = pp->free_parts;
            pp->free_parts = part->next_free;
            part->pool = NULL;
            pipeline_part_free(part);
        }
        pthread_cond_destroy(&pp->cv_done);
        pthread_cond_destroy(&pp->cv_work);
        pthread_mutex_destroy(&pp->mu);
    }
    free(pp->slots);
    free(pp->cuts);
    free(pp->at);
    free(pp->tids);
    normalize_free(pp->nz);
    parser_free(pp->parser);
    arena_release(&pp->scratch);
    parser_free(pp->tmpl);
    if (pp->fd >= 0)
        close(pp->fd);
    free(pp->path);
    free(pp->name);
    free(pp);
}
