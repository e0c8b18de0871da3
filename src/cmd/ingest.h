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
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/diag.h"
#include "core/sbuf.h"
#include "parse/parse.h"
#include "store/store.h"

/* Commit at least every this many decoded bytes (and whenever the store's batch is
 * full): a crash costs at most this much re-reading. 24 MB keeps peak RSS under 64 MB
 * for every format (32 MB: stderr and .gz reached 66 MB) at about 3 % more CPU
 * (docs/performance.md). */
#define INGEST_BATCH_BYTES ((uint64_t)24 << 20)
/* The smallest batch at the end of a file read with a commit thread (-j 2 on one file
 * that is not parsed in parts): what is left after the reader's last line is about this
 * much commit work. */
#define INGEST_TAIL_BATCH_BYTES ((uint64_t)2 << 20)

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
    /* Commit a positioned source's batches in a second thread while the next batch
     * fills (pgsift ingest -j N with more jobs than sources: a spare core). Commits
     * stay in order, one at a time, each with its position, so what is stored is the
     * same as without. Ignored with `committed` or `max_bytes`/`stop` (pgsift tail). */
    bool async_commit;
    /* Read a plain regular file of at least INPUT_MAP_MIN_BYTES through a mapping
     * (input_opts.map; not with have_fd or follow). A file truncated while mapped fails
     * the source before anything read after the truncation is committed. */
    bool map;
    /* With map: parse a csvlog or jsonlog file in parts on this many threads (>= 2;
     * pipeline_par.c), records added to the batch in file order: the same store as one
     * thread. part_bytes: their size (0: PIPELINE_PART_BYTES; tests use tiny ones). */
    unsigned parse_threads;
    size_t part_bytes;
    /* The run's last source: within INGEST_BATCH_BYTES of the end of a plain file, every
     * commit has its log copied into the database in the background
     * (store_checkpoint_eager()), so that closing the store has little left to do. */
    bool checkpoint_tail;
    /* The caller's normalizer (pipeline_opts.nz: its fingerprint cache stays warm from one
     * source to the next); NULL: one per source. Used by this call's thread only. */
    struct normalizer *nz;
    /* The name its lines are counted under for the rules' source `ingest` (input_stats):
     * the operand that named the file (a directory's files are one input, whatever their
     * rotated names), the source's name in pgsift.yaml for pgsift tail; NULL: @path. */
    const char *input;
    /* This source's parts, begun while the store was created (ingest_prefetch_start()):
     * ingest_source() takes them over or drops them, always. */
    struct ingest_prefetch *prefetch;

    /* ---- pgsift tail (all optional; added by the tail daemon) ---- */
    bool have_fd; /* read the open descriptor @fd (plain data, not gzip) instead of
                     opening @path, which is then only the name: a file renamed or
                     deleted since it was opened is still read to its end */
    int fd;
    bool follow;        /* the file is still being written: records that may still get
                           continuation lines stay pending (not committed) at its end */
    bool end_detection; /* follow: decide the format with the lines there are now */
    bool end_live;      /* the file has been quiet: end the stderr/syslog records that may only
                           still get lines (pipeline_opts.end_live) instead of holding them */
    bool final;         /* the file will not grow again: read a last line without "\n" and finish
                           a last record cut inside a quoted field (else held while the file was
                           modified less than SIFT_HOLD_LIVE_SECONDS ago) */
    bool known_only;    /* only continue a stream the store knows (r->how SAME or MOVED);
                           a new or replaced one is read (from its start) only if the
                           file was modified after @new_after_us, else left unread */
    int64_t new_after_us;
    uint64_t batch_records;            /* also commit once the batch holds this many records */
    uint64_t max_bytes;                /* stop after the commit that follows this many decoded bytes
                                          (r->more is set); 0: read to the end */
    const volatile sig_atomic_t *stop; /* stop the same way once *stop is non-zero */
    size_t chunk_bytes;                /* read size; 0: INPUT_CHUNK_BYTES */
    /* Called after each commit of a positioned source with the position written and the
     * number of records and rejects the batch held. */
    void (*committed)(void *ctx, const struct store_source_pos *pos, uint64_t records);
    void *committed_ctx;
};

/* `pgsift ingest -j N` into a store that does not exist yet: nothing was ever read into
 * it, so the first source starts at 0, and its parts (pipeline_par.c) are parsed while the
 * store is created (its schema: about 5 ms, in which the other threads would wait).
 * ingest_source() takes the parts over if the store finds the file new (another process
 * may have made the store meanwhile) and the file, the format options and keep_literals
 * are those it would use; else it drops them and reads as usual. Returns NULL when @path
 * is not a file parsed in parts (@o as for ingest_source(): format, prefix, tz, final,
 * parse_threads, part_bytes). */
struct ingest_prefetch;
struct ingest_prefetch *ingest_prefetch_start(const char *path, const struct ingest_opts *o,
                                              bool keep_literals);
void ingest_prefetch_drop(struct ingest_prefetch *pf); /* NULL is a no-op */

struct ingest_result {
    enum store_resume_how how; /* what the store knew of the stream */
    bool new_inode;            /* REPLACED by a file created after the last commit of the
                                  stream its inode held: a new file reusing a freed inode
                                  number (after a rotation), not a truncated one */
    uint64_t start_offset;     /* where reading started */
    uint64_t bytes;            /* decoded bytes read in this run */
    uint64_t commits;
    uint64_t records;      /* records committed (parsed ones of a stale batch are not) */
    uint64_t rejected;     /* rejected records committed (stats.rejects: all found) */
    uint64_t duplicates;   /* records read and not counted: their own id was counted before */
    bool stale;            /* another reader committed this stream meanwhile: stopped */
    bool nothing_parsed;   /* lines were read but no record parsed (exit 3 material) */
    struct sbuf diagnosis; /* why, when nothing_parsed */
    char *prev_name;       /* the name the stream was stored under (MOVED) */
    bool covered;          /* MOVED: a shorter copy of a stream read past its end
                              (store_resume.covered): nothing read */
    char *format;          /* format used, NULL if none matched */
    struct parse_stats stats;
    /* Bytes at the end left for the next run: the file may still be written (modified
     * less than SIFT_HOLD_LIVE_SECONDS ago, not @final): a last line without "\n" and,
     * with @held_record, a last record cut inside a quoted field (csvlog) before it. */
    uint64_t held_bytes;
    bool held_record;
    bool held_gz;      /* gzip data whose last line has no "\n" (more to come): its end */
    bool held_gz_cut;  /* ...and that ends inside a member (being compressed) */
    uint64_t offset;   /* the stored position after the run (where the next one starts) */
    uint64_t read_end; /* decoded offset just past the last line read */
    bool more;         /* stopped early by max_bytes or *stop: data is left */
};

/* Say that @n records of the run counted in @rc came in after the rules had evaluated
 * past their time (docs/rules.md, "Late records"): one warning, the same for `pgsift
 * ingest` at its end and `pgsift tail` as they come. */
void ingest_warn_late(uint64_t n, const struct store_run_counts *rc);

void ingest_result_init(struct ingest_result *r);
void ingest_result_release(struct ingest_result *r);

/* Ingest @path ("-" for stdin) into @s. Returns 0 (also when the source was unchanged,
 * stale, or had rejects: see @r), or -1 with @d filled on an I/O or database failure. */
SIFT_WUR int ingest_source(struct store *s, const struct ingest_opts *o, const char *path,
                           struct ingest_result *r, struct diag *d);

/* Where the store says the stream in @path stands, without reading past what the
 * store compares (pgsift status). *gz tells whether the file is gzip data (its size
 * is then not the decoded length). Returns 0, or -1 with @d filled. */
SIFT_WUR int ingest_find(struct store *s, const char *path, struct store_resume *out, bool *gz,
                         struct diag *d);

/* The opaque checkpoint blob stored with a position: the parser's skip runs and, for a
 * format that needs it, its state (parse_checkpoint.state). */
SIFT_WUR int ingest_checkpoint_encode(const struct parse_checkpoint *cp, struct sbuf *out);
/* Returns 0, a malloc'd array (caller frees) and *state pointing into @blob (empty when
 * none was saved), or -1 for a malformed blob. */
SIFT_WUR int ingest_checkpoint_decode(struct span blob, uint64_t offset, struct parse_skip **skip,
                                      size_t *nskip, struct span *state);

#endif
