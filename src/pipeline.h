/* SPDX-License-Identifier: MIT */
/*
 * pipeline - runs the stages in order over one log source; the only place that knows
 * the order:
 *
 *   input --line--> parse --event--> classify --> normalize --> sink (store, printer)
 *
 * Commands (parse, ingest, tail) differ only in their sink and in what they do with
 * the per-source result (stats, checkpoint, diagnosis).
 *
 * Owns nothing between calls. Events handed to the sink follow parse.h's lifetime rule:
 * valid until the sink returns for the last event of the current line.
 */
#ifndef SIFT_PIPELINE_H
#define SIFT_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/diag.h"
#include "core/sbuf.h"
#include "event.h"
#include "parse/parse.h"
#include "store/store.h"

struct pipeline_opts {
    const char *format; /* log format name or "auto"/NULL */
    const char *prefix; /* log_line_prefix */
    const char *tz;     /* --tz */
    bool normalize;     /* run stage 4 (fingerprints): the store and parse's NDJSON need
                           it; parse --stats shows none */
    bool keep_literals; /* the nothing-parsed diagnosis quotes its lines unredacted */
    /* Called once per finished event, after classify and normalize. Returns 0, or -1
     * with @d filled to stop the run. */
    int (*sink)(void *ctx, struct event *ev, struct diag *d);
    void *sink_ctx;

    /* Exactly once (ingest, tail): start at a saved checkpoint instead of the beginning
     * (start_line 0 = the beginning), skipping its runs of already-accounted lines. */
    uint64_t start_offset, start_line;
    const struct parse_skip *skip;
    size_t nskip;
    struct span resume_state; /* the checkpoint's parse_checkpoint.state */
    /* Called with the checkpoint covering every event handed to the sink so far: after
     * each `commit_lines` lines (0: never in between) and once at the end of the source.
     * The store saves it in the transaction that holds those events. Returns 0, or -1
     * with @d filled to stop the run. May be NULL. */
    int (*commit)(void *ctx, const struct parse_checkpoint *cp, struct diag *d);
    uint64_t commit_lines;
    /* The file may still grow (written now): leave its last line without "\n" and a last
     * record cut inside a quoted field (parser_end_hold()) for the next run. */
    bool hold_partial;
    /* Follow mode (tail): the source is still being written. At its current end the
     * parser is not ended, so records that may still get continuation lines stay
     * pending: the checkpoint handed to commit/line_done keeps them for the next run. */
    bool follow;
    /* follow: decide the format at the end of this run with the lines there are
     * (parser_end_detection()) instead of waiting for more */
    bool end_detection;
    bool end_live; /* parser_opts.end_live */
    bool have_fd;  /* read this open descriptor instead of opening the path (input_opts) */
    int fd;
    size_t chunk_bytes; /* input read size; 0: INPUT_CHUNK_BYTES */
    bool read_ahead;    /* input_opts.read_ahead (a plain file read on a thread of its own) */
    bool map;           /* input_opts.map (a plain file read through a mapping) */
    /* With normalize: this normalizer (borrowed; one thread at a time) instead of a fresh
     * one per run, so its text -> fingerprint cache stays warm across sources and rounds
     * (ingest's readers, the tail loop). NULL: a normalizer of the run's own. */
    struct normalizer *nz;

    /* Called with sink_ctx after each line was fed and every event it finished went to
     * the sink (@ln covers several lines when the parser took a whole record at once,
     * parser_feed_ahead(): its text and end run to the last one's), and once more at the end of the
     * source (@ln NULL) after the parser's last events. @in and @p are the open input and parser:
     * input_identity(), parser_checkpoint() are what a store commit needs (pgsift ingest uses this
     * rather than `commit` to decide itself when to commit and to see the lines' bytes). Returns 0
     * to go on, 1 to stop reading this source (not an error), or -1 with @d filled to fail. May be
     * NULL. */
    int (*line_done)(void *ctx, struct input *in, struct parser *p, const struct input_line *ln,
                     struct diag *d);
};

/* What one source produced. */
struct pipeline_result {
    char *name;               /* source name ("-" for stdin) */
    bool stopped;             /* line_done() returned 1 */
    char *format;             /* format used, NULL if none matched */
    char *prefix;             /* its log_line_prefix at the end (parser_prefix()), or NULL */
    struct parse_stats stats; /* counts and reject samples */
    bool nothing_parsed;      /* lines were read but no event came out */
    bool resumed;             /* the format came from the saved state (parser_resumed()) */
    struct sbuf diagnosis;    /* why, when nothing_parsed (parser_diagnose()) */
};

/* Check the options once before any source is opened (DIAG_USAGE on a bad --format,
 * --tz or --prefix). */
int pipeline_check(const struct pipeline_opts *o, struct diag *d);

/* Run one source ("-" = stdin) to its end. Returns 0 (also when records were rejected:
 * see res->stats), or -1 with @d filled on an I/O failure or when the sink fails.
 * @res is filled either way; release it with pipeline_result_release(). */
int pipeline_run(const struct pipeline_opts *o, const char *path, struct pipeline_result *res,
                 struct diag *d);

void pipeline_result_release(struct pipeline_result *res);

/* Stage 2 for one line from input_next(): fed with the input's read-ahead
 * (parser_feed_ahead()); lines the parser took with it are consumed from the input, or
 * the next line's end it found is passed on (input_hint_line()). Returns how many lines
 * it took beyond @ln (which then covers them). For pipeline_run() and pipeline_par.c. */
struct input;
uint64_t pipeline_feed(struct input *in, struct parser *p, struct input_line *ln);

/*
 * One plain file parsed in parts on several threads (pipeline_par.c; pgsift ingest -j N on
 * one file). Workers run input, parse, classify and normalize over parts of about
 * part_bytes, cut where a record may start, into the caller's fold (below) or copies of
 * their records (what the store reads of them: struct pipeline_rec); pipeline_par_next()
 * hands the parts out in file order, each checked to start where the one before ended (a
 * part that began inside a record is parsed again from there). So the events, their order, the
 * rejects and the checkpoints are those pipeline_run() gives, with line numbers made absolute as
 * each part is handed out (those of records in a fold: by the caller, from pipeline_part.line).
 * Only for formats whose records delimit themselves (parser_splittable(): csvlog, jsonlog).
 *
 * With a fold (struct pipeline_fold), the workers also fold their part's records into a
 * state of the caller's (the store's part batch) instead of copying them into the part:
 * only the records after the first one the fold refuses are copied.
 */
#define PIPELINE_PART_BYTES ((size_t)6 << 20)

struct pipeline_par;

struct pipeline_par_opts {
    const char *path; /* a plain regular file */
    bool have_fd;     /* read this open descriptor of it instead of the path */
    int fd;
    const char *name;                 /* shown in events and samples; NULL: path */
    const char *format, *prefix, *tz; /* as for pipeline_opts */
    /* Start here: a checkpoint without skip runs (start_line 0: the beginning). */
    uint64_t start_offset, start_line;
    bool hold_partial;                /* as for pipeline_opts */
    unsigned workers;                 /* parsing threads, >= 2: the caller and workers - 1 */
    size_t part_bytes;                /* 0: PIPELINE_PART_BYTES */
    const struct pipeline_fold *fold; /* NULL: every record is copied */
};

/* The caller's per-part state and how workers fill it. Every function but take() runs on
 * any thread, one at a time per state; take() on a worker, in record order. A state is
 * made once per pooled part and reused: reset() empties it (before each part), free()
 * at the end. take() returns false for a record it cannot fold: the part then copies that
 * record and all its later ones (pipeline_part.rec), to be added after the state. The
 * records' line numbers count from 1 at the part's start. done(), if set, runs on the worker
 * after the part's last record (whether the state took them all or not). */
struct pipeline_fold {
    void *ctx;
    void *(*make)(void *ctx);
    bool (*take)(void *ctx, void *state, const struct event *ev);
    void (*done)(void *ctx, void *state);
    void (*reset)(void *ctx, void *state);
    void (*free)(void *ctx, void *state);
};

/* A record of a part: a duration or statement record kept light (store_rec_light()), or
 * the whole event. */
struct pipeline_rec {
    size_t whole; /* 0: @light; else 1 + its index in the part's ev[] */
    struct store_rec light;
};

#define PIPELINE_PART_SEEN 1024 /* fingerprints whose texts a part kept (a cache) */

/* One part, in file order. Its records' texts live in the part (src_name in the handle):
 * valid until pipeline_part_free(), and no longer than the handle. Parts are freed before
 * the handle is closed (their memory goes back to its pool for the next parts). */
struct pipeline_part {
    struct pipeline_rec *rec; /* the records of bytes [offset, end), in order */
    size_t n, a_rec;
    struct event *ev; /* those kept whole (event_copy()) */
    size_t n_ev, a_ev;
    uint64_t offset, end;
    uint64_t line, lines;     /* the first line's number, lines read */
    struct parse_stats stats; /* of this part (samples with absolute line numbers) */
    bool last;                /* it read to the end of the file (the parser was ended) */
    bool held;      /* ... and its last record, cut inside a quoted field, was left for the next
                       run (hold_partial, parser_end_hold()): @end is that record's start */
    bool truncated; /* the file shrank while it was read (input_truncated()) */
    struct arena arena;
    struct span name;
    uint64_t seen[PIPELINE_PART_SEEN];
    size_t prev_light;         /* 1 + the last light record's index (its database and user) */
    struct pipeline_par *pool; /* pipeline_part_free() hands it back there */
    void *fold;                /* the fold's state for the records before rec[0] (NULL: no fold) */
    const struct pipeline_fold *fold_by;
    bool folding; /* (the worker's: records still go to the fold) */
    struct pipeline_part *next_free;
};

/* Start the workers. The file is opened once here (or o->fd duplicated): every part reads
 * that file, even if the path is renamed or replaced meanwhile (logrotate). Returns 0 and *out; 1
 * and *out NULL when the source is not for this (not a plain regular file of at least two parts, a
 * format that is not splittable, SIFT_NO_MMAP=1, fewer than two workers): read it with
 * pipeline_run(); -1 + @d (a bad option, the file unreadable). */
int pipeline_par_open(const struct pipeline_par_opts *o, struct pipeline_par **out, struct diag *d);
/* The next part: 0 and *part (free it with pipeline_part_free()), 1 after the last one, or
 * -1 + @d (the file could not be read: nothing of that part is handed out). While that
 * part is not done, the calling thread parses the next part free to take (if any) itself:
 * it is one of the workers. */
int pipeline_par_next(struct pipeline_par *pp, struct pipeline_part **part, struct diag *d);
void pipeline_part_free(struct pipeline_part *part); /* NULL: no-op */
const char *pipeline_par_format(const struct pipeline_par *pp);
/* The file's identity as input_identity() gives it (its size: when it was opened), and
 * its size now (it may have grown). */
void pipeline_par_identity(const struct pipeline_par *pp, struct input_identity *id);
uint64_t pipeline_par_size_now(const struct pipeline_par *pp);
/* Parts parsed again so far because they began inside a record. */
uint64_t pipeline_par_again(const struct pipeline_par *pp);
/* The file is now shorter than when it was opened: truncated (copytruncate) while its
 * parts were read, so what was read of it may not be its bytes. */
bool pipeline_par_shrank(const struct pipeline_par *pp);
/* Stop the workers and free; NULL: no-op. */
void pipeline_par_close(struct pipeline_par *pp);

#endif
