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

#include "core/diag.h"
#include "core/sbuf.h"
#include "event.h"
#include "parse/parse.h"

struct pipeline_opts {
    const char *format; /* log format name or "auto"/NULL */
    const char *prefix; /* log_line_prefix */
    const char *tz;     /* --tz */
    bool normalize;     /* run stage 4 (fingerprints): the store and parse's NDJSON need
                           it; parse --stats shows none */
    /* Called once per finished event, after classify and normalize. Returns 0, or -1
     * with @d filled to stop the run. */
    int (*sink)(void *ctx, struct event *ev, struct diag *d);
    void *sink_ctx;

    /* Exactly once (ingest, tail): start at a saved checkpoint instead of the beginning
     * (start_line 0 = the beginning), skipping its runs of already-accounted lines. */
    uint64_t start_offset, start_line;
    const struct parse_skip *skip;
    size_t nskip;
    /* Called with the checkpoint covering every event handed to the sink so far: after
     * each `commit_lines` lines (0: never in between) and once at the end of the source.
     * The store saves it in the transaction that holds those events. Returns 0, or -1
     * with @d filled to stop the run. May be NULL. */
    int (*commit)(void *ctx, const struct parse_checkpoint *cp, struct diag *d);
    uint64_t commit_lines;
    bool hold_partial; /* leave a last line without "\n" for the next run */
    /* Follow mode (tail): the source is still being written. At its current end the
     * parser is not ended, so records that may still get continuation lines stay
     * pending: the checkpoint handed to commit/line_done keeps them for the next run. */
    bool follow;
    bool have_fd; /* read this open descriptor instead of opening the path (input_opts) */
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
    struct parse_stats stats; /* counts and reject samples */
    bool nothing_parsed;      /* lines were read but no event came out */
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

#endif
