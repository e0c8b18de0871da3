/* SPDX-License-Identifier: MIT */
/*
 * ingest - read one log source into the store exactly once (used by `pgsift ingest`;
 * `pgsift tail` will reuse it).
 *
 * For a file: find where the store says this stream stopped (store_source_find(), by
 * content, so rotated, renamed and gzipped files continue where they were), run the
 * pipeline from there (input at the saved offset, the parser with its saved skip runs),
 * and commit every batch together with its source position: the parser checkpoint
 * (offset, line, skip runs), the hash of the stream's first bytes and of the bytes just
 * before the offset. Rejected lines are committed with the batch that read them. Until
 * a run has parsed one record from a source, nothing of it is committed: a wrong
 * --format or --prefix does not consume the file.
 * Standard input has no identity: its batches are committed without a position.
 *
 * Owns nothing between calls. ingest_source() may run in several threads at once on one
 * store when ingest_opts.lock is set.
 */
#ifndef SIFT_CMD_INGEST_H
#define SIFT_CMD_INGEST_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/diag.h"
#include "core/sbuf.h"
#include "parse/parse.h"
#include "store/store.h"

/* Commit at least every this many decoded bytes (and whenever the store's batch is
 * full): a crash costs at most this much re-reading. */
#define INGEST_BATCH_BYTES ((uint64_t)32 << 20)

struct ingest_opts {
    const char *format, *prefix, *tz; /* as for pipeline_opts */
    uint64_t batch_bytes;             /* 0: INGEST_BATCH_BYTES */
    /* Called now and then with the decoded bytes read from the current source so far
     * (progress display); may be NULL. */
    void (*progress)(void *ctx, const char *name, uint64_t bytes);
    void *progress_ctx;
    /* Sources read by several threads share the store: every store call of
     * ingest_source() holds this mutex (NULL: one thread, no locking). The batch of a
     * source is filled without it. */
    pthread_mutex_t *lock;
};

struct ingest_result {
    enum store_resume_how how; /* what the store knew of the stream */
    uint64_t start_offset;     /* where reading started */
    uint64_t bytes;            /* decoded bytes read in this run */
    uint64_t commits;
    bool stale;            /* another reader committed this stream meanwhile: stopped */
    bool nothing_parsed;   /* lines were read but no record parsed (exit 3 material) */
    struct sbuf diagnosis; /* why, when nothing_parsed */
    char *prev_name;       /* the name the stream was stored under (MOVED) */
    char *format;          /* format used, NULL if none matched */
    struct parse_stats stats;
    uint64_t held_bytes; /* a last line without "\n" left for the next run */
};

void ingest_result_init(struct ingest_result *r);
void ingest_result_release(struct ingest_result *r);

/* Ingest @path ("-" for stdin) into @s. Returns 0 (also when the source was unchanged,
 * stale, or had rejects: see @r), or -1 with @d filled on an I/O or database failure. */
SIFT_WUR int ingest_source(struct store *s, const struct ingest_opts *o, const char *path,
                           struct ingest_result *r, struct diag *d);

/* The opaque checkpoint blob stored with a position: the parser's skip runs. */
SIFT_WUR int ingest_checkpoint_encode(const struct parse_checkpoint *cp, struct sbuf *out);
/* Returns 0 and a malloc'd array (caller frees), or -1 for a malformed blob. */
SIFT_WUR int ingest_checkpoint_decode(struct span blob, uint64_t offset, struct parse_skip **skip,
                                      size_t *nskip);

#endif
