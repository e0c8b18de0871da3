/* SPDX-License-Identifier: MIT */
/*
 * store_int - the insides of struct store, shared by the files of store/ (private).
 *
 * The batch: store_add() folds records into in-memory maps (batch.c); store_commit()
 * writes them with the prepared statements of sql.h (store.c). Texts live in the batch
 * arena until the commit.
 */
#ifndef SIFT_STORE_STORE_INT_H
#define SIFT_STORE_STORE_INT_H

#include <sqlite3.h>

#include "core/arena.h"
#include "normalize/normalize.h"
#include "store/evblock.h"
#include "store/htab.h"
#include "store/sketch.h"
#include "store/sql.h"
#include "store/store.h"

/* Batch flush thresholds (memory, not input limits: a full batch is committed). Many
 * distinct statements fill a batch with aggregates and samples long before its input
 * bytes do: 65 536 aggregates and 64 MiB let ingest reach 74 MB at 100 000 distinct
 * statements a day, half these 52 MB (a million: 29 s instead of 22, QA 22a). */
#define STORE_BATCH_MAX_AGGS   (1u << 15)
#define STORE_BATCH_MAX_EVENTS (1u << 16)
#define STORE_BATCH_MAX_BYTES  ((size_t)32 << 20)

/* A logged duration above this (ms, ~3 years) is taken as this: sums stay far from
 * int64 overflow even on hostile input. */
#define STORE_MAX_DURATION_MS 1e11

/* query_stats.phase */
enum agg_phase { AGG_CALL = 0, AGG_PARSE, AGG_BIND, AGG_PLAN, AGG_PHASE_COUNT };
extern const char *const agg_phase_names[AGG_PHASE_COUNT];

/* One query_stats row in the making. */
struct agg {
    int64_t bucket; /* Unix seconds, minute start */
    uint64_t fp;
    int64_t qid;
    uint32_t db, user; /* interned names (batch.names) */
    enum agg_phase phase;
    uint64_t calls;
    int64_t total_us; /* durations rounded to µs, summed exactly */
    double min, max, sumsq;
    int64_t rows, rows_calls, errors;
    struct sketch sk;
};
/* @from's counts, sums and extremes added to @to's (not the sketch; batch.c). */
void agg_add_figures(struct agg *to, const struct agg *from);

/* One catalogue (queries) row in the making. */
struct cat {
    uint64_t fp, fp_hi;
    struct span query, sample; /* arena (a part batch: sample is the raw statement) */
    int64_t first, last;       /* µs */
    /* The sample is the occurrence at `first` whose statement has the lowest key
     * (sample_key_of(): schema/012_sample_keys.sql). */
    int64_t sample_key;
    uint64_t same;       /* records whose other 64 bits are fp_hi */
    uint64_t collisions; /* records whose other 64 bits differ from fp_hi */
    /* A part batch counts by the other 64 bits instead (the reader's batch may have another
     * fp_hi): same counts those equal to a non-zero fp_hi, zero_hi those that are 0, and
     * batch.cat_his any others. */
    uint64_t zero_hi;
};

/* A part batch's catalogue records whose other 64 bits are neither 0 nor their cat's
 * fp_hi (a fingerprint collision within the part: about never). */
struct cat_hi {
    uint32_t cat; /* index into cats */
    uint64_t hi, count;
};

/* A part batch's effect on pairing (struct pair), in record order: a statement waiting
 * (PAIR_OP_SET), a session's wait ended (PAIR_OP_CLEAR), a bare duration line that takes
 * the waiting statement's fingerprint if there is one (PAIR_OP_BARE, bares[idx]). */
enum pair_op_kind { PAIR_OP_SET, PAIR_OP_CLEAR, PAIR_OP_BARE };
struct pair_op {
    int64_t pid;
    uint32_t kind;
    uint32_t idx; /* PAIR_OP_SET: sets[idx]; PAIR_OP_BARE: bares[idx] */
};
struct pair_set_rec {
    uint64_t fp, fp_hi;
    int64_t qid;
};
/* A duration record as its aggregate takes it (duration_add()): a part batch keeps its
 * bare durations so until store_batch_absorb() knows their fingerprints. */
struct dur_rec {
    int64_t bucket, ts, qid, rows;
    double duration_ms;
    uint32_t db, user; /* interned in the batch that holds it */
};

struct qid {
    uint64_t fp;
    int64_t qid;
    uint64_t calls;
    int64_t total_us; /* execute time of those calls */
    int64_t first, last;
};

struct err {
    int64_t bucket;
    uint32_t db, user;
    char sqlstate[6];
    enum event_severity sev;
    struct span message, sample; /* arena */
    uint64_t count;
    /* The sample is the occurrence with the earliest time, then the lowest key of its
     * message and detail (schema/012_sample_keys.sql). */
    int64_t sample_at, sample_key;
};

struct rec {
    int64_t bucket;
    enum event_kind kind;
    enum event_severity sev;
    uint64_t count;
};

/* Lines of one input in one minute (input_stats): the rejects, and the records of a batch
 * without an input of its own (with one, the commit takes them from the record counts). */
struct inp {
    int64_t bucket;
    uint32_t name; /* index into names */
    uint64_t records, rejects;
};

/* Rows per event-row chunk: the unit a commit thread may write before the batch ends. */
#define STORE_EV_CHUNK_ROWS 2048

/* Event rows in record order, encoded as they come (store_batch_add(): texts redacted,
 * capped and written into the chunk's block, struct evblock_enc) so a chunk is one
 * event_blocks row ready to insert, and can leave its batch (store_batch_take_events()).
 * The block's base time is its oldest row's (a row older than the others rebases it,
 * evblock_enc_rebase()); a row the blob's cap would not take, or one that would rebase
 * it beyond STORE_EV_REBASE_FACTOR times its bytes plus STORE_EV_REBASE_BYTES in all,
 * opens the next chunk. */
struct store_ev_chunk {
    struct store_ev_chunk *next;
    bool keep_literals;
    bool closed;    /* takes no more rows */
    uint32_t kinds; /* bit per event kind of its rows */
    size_t n;       /* rows */
    size_t rebased; /* blob bytes rewritten by rebasing */
    struct evblock_enc enc;
};
#define STORE_EV_REBASE_FACTOR 2
#define STORE_EV_REBASE_BYTES  (64u << 10)
void ev_chunk_free(struct store_ev_chunk *c);

struct rej {
    struct span source; /* arena */
    const char *reason; /* static */
    uint64_t count;
    uint32_t n_samples; /* samples of this key in batch.samples */
};

struct rej_sample {
    uint32_t rej; /* index into batch.rejs */
    uint64_t line, offset;
    struct span sample; /* arena, redacted */
};

struct name {
    struct span s; /* arena */
};

/* A session's logged statement waiting for its bare duration line (log_statement +
 * log_duration log the text and the time on separate lines). */
struct pair {
    int64_t pid;
    uint64_t fp, fp_hi;
    int64_t qid; /* 0: none */
    bool live;
};

/* The public struct store_batch: one batch in the making. Used by one thread at a time;
 * only store_commit_batch() touches the database. */
struct store_batch {
    bool keep_literals;
    struct normalizer *nz;         /* statement samples (normalize_redact) */
    int64_t last_ts;               /* newest record time seen, for records without one */
    struct sbuf scratch, scratch2; /* redaction */
    struct arena arena;
    uint64_t records, rejects;
    struct htab names_ix, aggs_ix, cats_ix, qids_ix, errs_ix, recs_ix, rejs_ix;
    struct name *names;
    uint32_t db_hint, user_hint; /* intern(): the last database and user */
    /* Recent rows by a cheap mix of their key (index + 1; checked against the row's key
     * before use, so never stale): most records hit one of a few hundred keys, found here
     * without the hash table's hash and probe. */
#define STORE_BATCH_CACHE_BITS 9
    uint32_t agg_cache[1u << STORE_BATCH_CACHE_BITS];
    uint32_t cat_cache[1u << STORE_BATCH_CACHE_BITS];
    uint32_t qid_cache[1u << STORE_BATCH_CACHE_BITS];
    uint32_t rec_hint[EV_KIND_COUNT]; /* record_count(): the last row per kind, +1 */
    struct agg *aggs;
    struct cat *cats;
    struct qid *qids;
    struct err *errs;
    struct rec *recs;
    /* Lines per input and minute: rows, their index, the last row used (+1) and name. */
    struct inp *inps;
    struct htab inps_ix;
    size_t n_inps, a_inps;
    uint32_t inp_hint, inp_name_hint;
    char *input; /* store_batch_set_input() (owned); NULL: each record's file */
    bool input_interned;
    uint32_t input_idx; /* (input_interned) its index in names */
    /* Event rows: chunks in record order (the last one open); n_evs counts this batch's
     * rows, ev_bytes the block bytes of its closed chunks (store_batch_is_full()). */
    struct store_ev_chunk *ev_head, *ev_tail;
    size_t ev_bytes;
    struct evblock_event *evx;     /* event_row(): the row being encoded */
    struct evb_slot *ev_slots;     /* the chunks' encoders' text table (ev_chunk_new()) */
    uint32_t ev_gen;               /* its last generation */
    struct sbuf ev_msg, ev_detail; /* event_row(): redacted message and detail */
    struct rej *rejs;
    struct rej_sample *samples;
    /* Carried across commits (not part of a batch's data): see struct pair. */
    struct htab pairs_ix;
    struct pair *pairs;
    size_t n_pairs, a_pairs, live_pairs;
    size_t n_names, n_aggs, n_cats, n_qids, n_errs, n_recs, n_evs, n_rejs, n_samples;
    size_t a_names, a_aggs, a_cats, a_qids, a_errs, a_recs, a_rejs, a_samples;
    struct plans_batch *plans;     /* plans.c: plan shapes and runs, made on the first plan */
    struct plan_share *plan_share; /* plans.c: parsed plans, shared (store_batch_carry()) */
    /* Work left for store_batch_finish(): pending plan records for plan analysis, pending errors
     * for their grouping (raw copies in arena), durations for the aggregates' sketches. */
    struct sk_rec {
        size_t agg; /* index into aggs */
        double ms;
    } * sk_recs;
    size_t n_sk_recs, a_sk_recs;
    /* Plan records and errors wait in work chunks (own arenas, so a chunk can be run
     * while the batch fills: store_batch_take_work()); work_bytes counts the arena
     * bytes of the closed ones. What running them builds - plans, errs, err_arena -
     * is touched by nothing else before the commit (err_scratch is its work space). */
    struct store_work_chunk *work_head, *work_tail;
    size_t work_bytes;
    struct arena err_arena;
    struct sbuf err_scratch, err_scratch2;
    /* A part batch (store_batch_new_part()): what store_batch_absorb() settles. */
    bool part;
    struct pair_op *ops;
    struct pair_set_rec *sets;
    struct dur_rec *bares;
    struct cat_hi *cat_his;
    size_t n_ops, n_sets, n_bares, n_cat_his;
    size_t a_ops, a_sets, a_bares, a_cat_his;
    /* Records with their own id (event.record_key, record_ids.c): this batch's keys, each
     * counted once; the records not counted because their key was seen. */
    struct htab keys_ix;
    uint64_t *keys;
    size_t n_keys, a_keys;
    uint64_t duplicates;
    char *key_path;            /* the store's file (NULL: a part batch takes no key) */
    struct key_lookup *lookup; /* record_ids.c: this batch's read connection, opened lazily */
    uint32_t *remap;           /* store_batch_absorb(): a part's names as this batch's */
    size_t *agg_remap;         /* ... and its aggregates */
    size_t a_remap, a_agg_remap;
};

/* Plan records and errors per work chunk, at most. */
#define STORE_WORK_CHUNK_RECS  1024
#define STORE_WORK_CHUNK_BYTES ((size_t)1 << 20)

/* What plans_batch_add() takes of a plan's analysis. A part batch makes it on its own
 * thread (store_batch_part_done()), so the reader only files it. */
struct plan_summary {
    bool parsed;
    const char *reason; /* static */
    uint64_t fingerprint, insights;
    unsigned kinds;
    struct span shape; /* (where the caller copied it) */
};

/* A plan record waiting for its analysis (store_batch_finish()). */
struct plan_rec {
    int64_t ts;
    uint64_t fp;
    double duration_ms;
    struct span database, plan; /* arena copies */
    enum plan_format format;
    bool has_fp;
    bool summarized; /* summary was made (a part batch's) */
    struct plan_summary summary;
};

struct store {
    sqlite3 *db;
    bool in_batch; /* a batch's transaction is open (store_write_events()) */
    char *path;
    struct store_opts opts;
    sqlite3_stmt *stmt[SQL_COUNT];
    struct store_batch *def;     /* the batch of store_add() and store_commit() */
    struct sbuf scratch;         /* blob encoding at commit */
    struct sbuf pairs;           /* the waiting statements at commit (batch_pairs_encode()) */
    struct store_ckpt *ckpt;     /* opts.checkpoint_thread: checkpoint.c, or NULL */
    struct store_run_counts run; /* committed through this handle (store_run_counts()) */
    /* The fingerprints run.fingerprints counts: a set of the values themselves (8 bytes
     * a slot, at most half full; 0 apart), 8 MiB at SIFT_MAX_RUN_FINGERPRINTS. */
    uint64_t *seen;
    size_t seen_cap; /* power of two, or 0 */
    bool seen_zero;
};

/* batch.c */
void batch_reset(struct store_batch *b);

/* record_ids.c: has a record with this key been counted - in this batch, or committed to
 * the store? If not, the batch takes the key (written by record_ids_write()). */
bool record_seen(struct store_batch *b, uint64_t key);
/* Write the batch's keys in the commit's transaction: 0, 1 when one of them was committed
 * since record_seen() looked (another pgsift read the same record: the batch is stale),
 * -1 on error. */
SIFT_WUR int record_ids_write(struct store *s, const struct store_batch *b, int64_t now,
                              struct diag *d);
void record_ids_reset(struct store_batch *b); /* forget the keys, keep the connection */
void record_ids_free(struct store_batch *b);
/* The statements waiting for their duration, to keep with a source position. */
SIFT_WUR int batch_pairs_encode(const struct store_batch *b, struct sbuf *out);

/* migrate.c: bring the schema to the newest embedded version (or, read-only, check
 * that it is that version). migrate_check(): before anything is written to an existing
 * file (even its journal mode), refuse a newer schema and an SQLite file that is not a
 * store. */
SIFT_WUR int migrate_run(sqlite3 *db, const char *path, bool read_only, struct diag *d);
SIFT_WUR int migrate_check(sqlite3 *db, const char *path, struct diag *d);

/* sqlfn.c: sketch_merge(a, b) and the aggregate sketch_merge_agg(x). */
SIFT_WUR int sqlfn_register(sqlite3 *db);

/* checkpoint.c: start checkpointing @writer's store (at @path) in a thread of its own;
 * NULL if that cannot be done (then SQLite's automatic checkpoints go on). ckpt_stop()
 * ends the thread (NULL is a no-op); call it before closing @writer. */
struct store_ckpt;
struct store_ckpt *ckpt_start(sqlite3 *writer, const char *path);
void ckpt_stop(struct store_ckpt *c);
/* From now on every commit wakes the thread (not only a long log). NULL: no-op. */
void ckpt_eager(struct store_ckpt *c);
/* The next commit does not wake the thread: it is the writer's last, the close copies
 * it. ckpt_quit(): no commit wakes it any more, and it ends after the checkpoint it may
 * be running (ckpt_stop() waits for it). NULL: no-op. */
void ckpt_last(struct store_ckpt *c);
void ckpt_quit(struct store_ckpt *c);
/* Tests: checkpoints the thread ran to the end of the log (@done) and those the
 * committing connection ran itself because the log had reached SIFT_WAL_FORCE_PAGES
 * (@forced); both 0 for NULL. */
void ckpt_counts(struct store_ckpt *c, unsigned long *done, unsigned long *forced);

/* Retention's cut-offs at a time (rollup.c), in Unix seconds: buckets before @hours are
 * kept as days, before @minutes as hours (both whole: @minutes an hour's start, @hours
 * and @days a day's), and rows before @days are deleted. store_rollup() rolls rows up to
 * them; a commit writes a record older than them at its width at once (the same rows
 * the roll-up at the end of the run would make: a backfill of months of logs never
 * writes the minute rows only to roll them up). */
struct store_cuts {
    int64_t minutes, hours, days;
};
void store_cuts_at(const struct store *s, int64_t now_us, struct store_cuts *c);

/* The row a minute bucket is written to: its own minute, or, past the cut-offs, the hour or
 * the day it is in (*width 60, 3600 or 86400). */
static inline int64_t store_cut_bucket(const struct store_cuts *c, int64_t minute, int64_t *width)
{
    if (minute >= c->minutes) {
        *width = 60;
        return minute;
    }
    *width = minute >= c->hours ? 3600 : 86400;
    return minute - minute % *width; /* (minute >= 0: buckets start at the epoch) */
}

/* store.c helpers shared with query.c / rollup.c */
int store_db_error(struct store *s, struct diag *d, const char *what);
sqlite3_stmt *store_stmt(struct store *s, enum store_sql which);
SIFT_WUR int store_exec(struct store *s, enum store_sql which, struct diag *d);

/* plans.c: auto_explain plan shapes (the plans branch; docs/plans.md). The batch part
 * is made on the first plan record; plans_write() runs inside store_commit_batch()'s
 * transaction, plans_expire() inside store_rollup()'s. */
struct plans_batch;
/* What a reader's batches share for plan analysis: the memo of parsed plans and the
 * normalizer for samples. The batches a reader fills in turn (store_batch_carry()) share
 * one, so a plan body is parsed once per run, not once per batch; all their plans are
 * added in one thread at a time (the reader's, or its commit thread). The contents are
 * made on the first plan; references are taken and dropped by the reader's thread. */
struct plan_share;
struct plan_share *plan_share_new(void);
void plan_share_take(struct plan_share *ps);
void plan_share_drop(struct plan_share *ps); /* NULL is a no-op */
/* Analyse @ev's plan (ev->plan, plan_format, duration_ms) with @ps's memo; out->shape points
 * into @ps: valid until the next call. */
void plan_summarize(struct plan_share *ps, const struct event *ev, struct plan_summary *out);
/* @sum: the plan's summary if made already (else made here). */
void plans_batch_add(struct store_batch *b, const struct event *ev, int64_t ts,
                     const struct plan_summary *sum);
void plans_batch_reset(struct plans_batch *pb); /* NULL is a no-op */
void plans_batch_free(struct plans_batch *pb);  /* NULL is a no-op */
size_t plans_batch_bytes(const struct plans_batch *pb);
SIFT_WUR int plans_write(struct store *s, struct store_batch *b, struct diag *d);
SIFT_WUR int plans_expire(struct store *s, int64_t before_us, struct diag *d);

/* plan_calls.c: plan records packed per (query, database, minute) in table
 * plan_call_blocks (schema/007). A record: its plan shape, time, duration in µs (< 0:
 * none). plan_calls_insert() adds one block (records of one key and one minute, in ingest
 * order; the next part) with @st from plan_calls_prepare(), encoding into @buf: 0, -1 on
 * an SQLite error, -2 when the block is too large. plan_calls_decode() appends a block's
 * @n records to *@v: -1 when the blob is not a valid block of @n records of @minute.
 * plan_calls_expire() drops records older than @before_us (-1: *@what says why, with
 * sqlite3_errmsg). plan_calls_migrate(): migrate.c, schema 007. */
#define PLAN_CALLS_BLOCK_MAX 2048 /* records per block, at most */
struct plan_call {
    uint64_t plan_fp;
    int64_t ts, us;
};
int64_t plan_calls_minute(int64_t ts);
SIFT_WUR int plan_calls_encode(struct sbuf *out, int64_t minute, const struct plan_call *v,
                               size_t n);
SIFT_WUR int plan_calls_decode(const void *data, size_t len, int64_t minute, int64_t n,
                               struct plan_call **v, size_t *nv, size_t *alloc);
SIFT_WUR int plan_calls_prepare(sqlite3 *db, sqlite3_stmt **st);
SIFT_WUR int plan_calls_insert(sqlite3_stmt *st, struct sbuf *buf, uint64_t fp, const char *db,
                               size_t db_len, const struct plan_call *v, size_t n);
SIFT_WUR int plan_calls_expire(sqlite3 *db, int64_t before_us, struct sbuf *buf, const char **what);
SIFT_WUR int plan_calls_migrate(sqlite3 *db, struct diag *d);

/* events.c: the event_blocks table (schema/006_event_blocks.sql, evblock.h). A chunk's
 * events become one block (more if one would exceed SIFT_MAX_EVBLOCK_BYTES), written
 * inside the caller's transaction. evblocks_expire() deletes the events older than
 * @before_us (blocks straddling it are rewritten) and adds their number to *removed;
 * evblocks_migrate() converts the rows of the pre-006 events table into blocks and drops
 * it (migrate.c, inside 006's transaction). */
SIFT_WUR int evblocks_write_chunk(struct store *s, const struct store_ev_chunk *c, struct diag *d);
SIFT_WUR int evblocks_expire(struct store *s, int64_t before_us, uint64_t *removed, struct diag *d);
SIFT_WUR int evblocks_migrate(sqlite3 *db, struct diag *d);

/* Tests only: the connection (e.g. to set PRAGMA max_page_count). */
sqlite3 *store_sqlite(struct store *s);
/* Tests only: ckpt_counts() of the store's checkpoint thread. */
unsigned long store_checkpoints(struct store *s);
unsigned long store_checkpoints_forced(struct store *s);

#endif
