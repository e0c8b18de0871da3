/* SPDX-License-Identifier: MIT */
/*
 * store - the SQLite database: schema, per-statement per-minute aggregates with latency
 * sketches, the query catalogue, events, errors, rejects, and the input positions that
 * produced them.
 *
 * Owns: the only sqlite3 handle in the process and its prepared statements (prepared
 * once, at store_open()), and the current batch: everything store_add() was given since
 * the last commit, aggregated in memory. Does not own: events passed to store_add()
 * (every field needed is copied, redacted, before it returns).
 *
 * Calling sequence:
 *   store_open()
 *     -> per source: store_source_find() -> (store_add()* -> store_commit(pos))*
 *     -> store_rollup()
 *   -> store_close()
 * store_commit() writes the batch's aggregates *and* the source position in one
 * transaction: after a crash the database holds both or neither, so running the same
 * command again neither loses nor double-counts a line. A commit whose source position
 * does not start where the stored one ends is refused (STORE_STALE) and writes nothing.
 *
 * Readers (pgsift top / events) open the store read-only and use store_top() and
 * store_events(); they never create or migrate a database.
 *
 * Tenant data: message texts, details and statement samples are redacted before they
 * are stored (literal values, Key (...)=(...) values, bind parameters) unless
 * keep_literals is set. Bind parameters are never stored.
 */
#ifndef SIFT_STORE_STORE_H
#define SIFT_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compat.h"
#include "core/diag.h"
#include "core/sbuf.h"
#include "core/span.h"
#include "event.h"

struct store;

/* How long each resolution is kept (INTERFACE.md `retention:`); 0 means the default. */
struct store_retention {
    int64_t minutes_us; /* minute rows older than this roll up into hours; default 14 d */
    int64_t hours_us;   /* hour rows older than this roll up into days; default 90 d */
    int64_t days_us;    /* day rows (and catalogue entries, sources) older are deleted; 2 y */
    int64_t events_us;  /* single events, error samples older are deleted; default = hours */
};

#define STORE_DEFAULT_MINUTES_US (INT64_C(14) * 86400 * 1000000)
#define STORE_DEFAULT_HOURS_US   (INT64_C(90) * 86400 * 1000000)
#define STORE_DEFAULT_DAYS_US    (INT64_C(730) * 86400 * 1000000)

struct store_opts {
    bool read_only;     /* never create, migrate or write (pgsift top, events, report) */
    bool keep_literals; /* store messages and samples unredacted (--keep-literals) */
    struct store_retention retention;
    /* WAL checkpoints (and their fsyncs) in a thread of their own instead of in the
     * commit that fills the log (store/checkpoint.c): for long writers (ingest, tail). */
    bool checkpoint_thread;
    /* store_run_counts() counts distinct fingerprints (`pgsift ingest`'s summary line): a
     * set that grows with them, up to SIFT_MAX_RUN_FINGERPRINTS. Off, `fingerprints`
     * stays 0 (`pgsift tail`, which runs for months and prints no summary). */
    bool run_fingerprints;
    /* @retention comes from a configuration file (pgsift.yaml `retention:`): apply it and
     * keep it in the store (schema 009, table settings). Otherwise the retention the store
     * keeps applies where @retention has 0 (the last configuration that opened it for
     * writing: a backfill with `pgsift ingest` does not roll up by the defaults what
     * `pgsift tail` keeps longer), and the defaults where it keeps none. */
    bool retention_configured;
};

/* The retention a store opened for writing applies (store_opts.retention_configured). */
const struct store_retention *store_retention_of(const struct store *s);

/* Open (read-write: create with mode 0600 and migrate) the store at @path. Returns 0 and
 * sets *out; on error returns -1 and fills @d (DIAG_IO for a missing or unreadable file,
 * DIAG_DB for SQLite errors and schema versions this binary does not know). */
SIFT_WUR int store_open(struct store **out, const char *path, const struct store_opts *opts,
                        struct diag *d);

/* For another connection to a store's file (the alert tables of `pgsift rules eval`,
 * `alerts`, `silence`): the same refusals and upgrades as store_open(), data moves
 * included. store_schema_check() before anything is written (the journal mode too):
 * it refuses a newer schema and an SQLite file that is not a store; then, the connection
 * in WAL mode, store_schema_upgrade(). */
struct sqlite3;
SIFT_WUR int store_schema_check(struct sqlite3 *db, const char *path, struct diag *d);
/* PRAGMA journal_mode = WAL, waiting (up to the busy timeout's 10 s) while another
 * process is setting the same file up. */
SIFT_WUR int store_wal_mode(struct sqlite3 *db, const char *path, struct diag *d);
SIFT_WUR int store_schema_upgrade(struct sqlite3 *db, const char *path, struct diag *d);

/* What the batches committed through this handle held (since store_open()): records,
 * statement calls (execute phase), event rows, and distinct fingerprints. */
struct store_run_counts {
    uint64_t records, calls, events, fingerprints;
    bool fingerprints_capped; /* more than SIFT_MAX_RUN_FINGERPRINTS: at least that many */
    /* Late records: committed with an event time before the newest boundary the rules had
     * evaluated (alert_cursors), so evaluations already made did not see them; the oldest
     * one's minute and that boundary, at the last commit that had any (microseconds). */
    uint64_t late;
    int64_t late_oldest_us, late_cutoff_us;
};
void store_run_counts(const struct store *s, struct store_run_counts *out);

/* The writes of this handle are nearly done (pgsift ingest near the end of its last
 * source): with store_opts.checkpoint_thread, from now on the log of every commit is
 * copied into the database in the background, so that store_close(), which copies what
 * is left in the calling thread, has little to do. No-op without the thread. */
void store_checkpoint_eager(struct store *s);
/* The next commit is this handle's last before store_close(): it does not wake the
 * checkpoint thread (store_close() copies it, after its PRAGMA optimize: one sync of
 * the log and the database at the end, not two). A commit after that one wakes it as
 * before. No-op without the thread. */
void store_checkpoint_last(struct store *s);

/* Close; an uncommitted batch is discarded. NULL is a no-op. */
void store_close(struct store *s);

/* ---- writing: batches ---- */

/* Add one record to the current batch (copied; never fails: memory is bounded by
 * committing when store_batch_full() says so). */
void store_add(struct store *s, const struct event *ev);

/* A line no parser could read: counted per (source, reason); the first
 * SIFT_MAX_REJECT_SAMPLES samples of each are kept (redacted). */
struct store_reject {
    struct span source; /* file name as given, "-" for stdin */
    const char *reason; /* short fixed text, e.g. "no log_line_prefix match" */
    uint64_t line;      /* 1-based */
    uint64_t offset;    /* byte offset in the decoded stream */
    struct span sample; /* the line (cut at SIFT_MAX_SAMPLE_BYTES); absent: count only */
    uint64_t count;     /* rejected records this call stands for; 0 means 1 */
};
void store_add_reject(struct store *s, const struct store_reject *r);

/* True when the batch holds enough to be worth a commit (and should be committed before
 * memory grows further). */
bool store_batch_full(const struct store *s);

/* Records and rejects added since the last commit (store_add() and store_add_reject()
 * calls): 0 means the batch is empty. */
uint64_t store_batch_records(const struct store *s);

/* Drop the current batch without writing. */
void store_discard(struct store *s);

/*
 * Batches of their own, for readers in several threads (pgsift ingest -j N): each
 * thread fills its batch (no database access, no shared state), and commits go through
 * store_commit_batch() one at a time (the caller serialises them, and
 * store_source_find(), with a mutex: the store itself is not thread-safe). The store's
 * own batch above is the same thing, for the single-threaded case.
 */
struct store_batch;
struct store_batch *store_batch_new(const struct store *s); /* never NULL; free with: */
void store_batch_free(struct store_batch *b);               /* NULL is a no-op */
void store_batch_add(struct store_batch *b, const struct event *ev);
void store_batch_add_reject(struct store_batch *b, const struct store_reject *r);
/* The input its records and rejects are counted under (input_stats; copied, kept across
 * commits); NULL: each record's file (event.src_name), each reject's source. */
void store_batch_set_input(struct store_batch *b, const char *name);
bool store_batch_is_full(const struct store_batch *b);
uint64_t store_batch_count(const struct store_batch *b); /* records + rejects */
uint64_t store_batch_added(const struct store_batch *b); /* records alone */
/* Records read but not counted: their own id (Supabase's `id`) was counted before, from
 * this or another file (docs/store.md, "Exactly once"). Not in store_batch_count(). */
uint64_t store_batch_duplicates(const struct store_batch *b);
void store_batch_discard(struct store_batch *b);
/* The part of a batch's work that needs no reader state - plan analysis, error
 * grouping, latency sketches - is left by store_batch_add() for this (store_commit_batch() calls
 * it first; calling it before is a no-op for the commit). pgsift ingest -j N calls it
 * in the commit thread, outside the store lock, so that it runs beside the reader; a
 * reader of a file in parts after each part (so the last commit has only the last
 * part's left). It may be called any number of times: each runs what was left since. */
void store_batch_finish(struct store_batch *b);

/* Writing a batch's event rows before its end (pgsift ingest -j 2 on one file, a
 * single reader: nobody else writes to the store meanwhile). The batch hands out its
 * rows in chunks, in record order, as they fill (NULL: no full chunk yet); its other
 * rows stay in it. store_write_events() writes one chunk inside the batch's
 * transaction, opened on the first chunk, and frees the chunk; the batch's
 * store_commit_batch() ends that transaction (a failure or a stale position rolls
 * back the chunks' rows too). -1 + @d: the transaction was rolled back. store_abort()
 * rolls back an open transaction (the batch was given up). */
struct store_ev_chunk;
struct store_ev_chunk *store_batch_take_events(struct store_batch *b);
/* Likewise the batch's deferred plan analysis and error grouping (store_batch_finish())
 * may run in chunks while the batch fills, in another thread: store_batch_run_work()
 * touches only what the reader's store_batch_add() does not (and frees @c). */
struct store_work_chunk;
struct store_work_chunk *store_batch_take_work(struct store_batch *b);
void store_batch_run_work(struct store_batch *b, struct store_work_chunk *c);
void store_work_chunk_free(struct store_work_chunk *c); /* without running; NULL: no-op */
SIFT_WUR int store_write_events(struct store *s, struct store_ev_chunk *c, struct diag *d);
void store_ev_chunk_free(struct store_ev_chunk *c); /* without writing; NULL is a no-op */
void store_abort(struct store *s);

/*
 * Statement records kept compactly between threads (pgsift ingest -j N parses the parts of
 * a file on other threads, pipeline_par.c, and adds their records here in file order).
 * A duration or statement record that is not an error is read by store_batch_add() only
 * through the fields below, so that is all a part keeps of it (about a sixth of struct
 * event, and none of the message it came in). Its texts - the query, the statement and
 * the canonical text - are read only by the first record of its fingerprint in a batch;
 * a part, whose records always go to one batch, keeps them for the first record of each
 * fingerprint that has a canonical text (and for every record without a fingerprint).
 */
struct store_rec {
    int64_t ts_us, pid, query_id, rows;
    double duration_ms;
    uint64_t fingerprint, fingerprint_hi;
    struct span database, user, query, statement, normalized;
    uint32_t flags;
    uint8_t kind, severity, phase;
    bool has_query_id;
};
struct arena;
/* @ev is such a record (else keep the whole event: event_copy()). */
bool store_rec_light(const struct event *ev);
/* Keep @ev in @r, its database and user in @a (or @prev's when they are the same text:
 * consecutive records mostly are; @prev may be NULL), and with @texts its query texts. */
void store_rec_keep(struct store_rec *r, const struct event *ev, bool texts,
                    const struct store_rec *prev, struct arena *a);
/* The event store_batch_add() sees for @r: @ev was cleared once (event_clear()) and is only
 * ever filled by this function (the fields it sets are the same each time). */
void store_rec_event(const struct store_rec *r, struct event *ev);

/*
 * Parts of one file folded on other threads (pgsift ingest -j N, pipeline_par.c): each part's
 * records go into a part batch of their own, in the part's thread, and the part batches are
 * absorbed into the reader's batch in file order. The result is the batch that adding the
 * records there one by one gives (sums of squares aside: floats added in another order).
 * What a record cannot settle alone - whether a bare "duration: N ms" line completes a
 * statement of an earlier part (log_statement + log_duration) - the part batch keeps as
 * steps that store_batch_absorb() replays in order; statement samples, made for the first
 * record of a fingerprint in a batch, are made there too. A record without a time (filed at
 * the newest time seen, which may be in an earlier part) is not taken: store_batch_fold()
 * returns false, and the caller adds that record and the part's later ones with
 * store_batch_add() after absorbing the part. A part's line numbers count from 1: its
 * event rows get their base (@line_delta, the lines before the part) when absorbed.
 */
/* A new part batch, with the store's keep_literals (store_keeps_literals()): made on
 * parsing threads, possibly before the store is open (ingest_prefetch_start()). */
struct store_batch *store_batch_new_part(bool keep_literals);
bool store_keeps_literals(const struct store *s);
SIFT_WUR bool store_batch_fold(struct store_batch *b, const struct event *ev);
/* After a part's last record, on its thread: the part batch's own deferred work (its plans'
 * analyses), so that store_batch_absorb() and the commit have less to do. */
void store_batch_part_done(struct store_batch *b);
/* Move @part's contents into @b (a reader's batch); @part is then to be discarded
 * (store_batch_discard(), in any thread) before it is filled again. */
void store_batch_absorb(struct store_batch *b, struct store_batch *part, uint64_t line_delta);

/* A batch remembers, across commits, each session's logged statement still waiting for
 * its bare "duration: N ms" line (log_statement + log_duration), so that the duration
 * counts under that statement. store_commit_batch() keeps this with the source position
 * and store_source_find() returns it (store_resume.pairing): a reader that resumes a
 * stream restores it here first. Returns -1 for malformed data (nothing restored). */
SIFT_WUR int store_batch_restore(struct store_batch *b, struct span pairing);

/* Double buffering (pgsift ingest -j N with a spare thread: one batch is committed
 * while the next fills): make @to, an empty batch, continue where @from stopped - the
 * statements waiting for their duration and the newest record time - so that filling
 * @to gives exactly what filling @from further would have. From then on the two share
 * their parsed plans (a body is parsed once per run); their plans must then be added
 * in one thread at a time (store_batch_finish(), store_batch_run_work()). */
void store_batch_carry(struct store_batch *to, const struct store_batch *from);

/*
 * Where one input stream stands after a batch. Offsets count *decoded* bytes (for .gz:
 * the decompressed stream), so a file that was rotated and then gzipped continues where
 * its plain version stopped.
 */
struct store_source_pos {
    int64_t id;             /* from store_resume.id; 0 for a new stream (store_commit sets it) */
    int64_t seen_max_id;    /* from store_resume.seen_max_id */
    const char *name;       /* path as given */
    uint64_t dev, inode;    /* of the file being read */
    int64_t born_us;        /* ... and its creation time (µs; 0: unknown, input_fd_birth_us()) */
    bool compressed;        /* read through gzip */
    uint64_t start;         /* offset this batch started at: the previous commit's offset */
    uint64_t offset;        /* decoded bytes consumed, this batch included */
    uint64_t line;          /* lines consumed */
    struct span head;       /* the stream's first bytes, at most SIFT_SOURCE_HEAD_BYTES (fewer
                               only if the stream is shorter so far) */
    struct span mark;       /* the min(offset, SIFT_SOURCE_MARK_BYTES) bytes just before offset */
    struct span checkpoint; /* opaque parser state to resume with; may be empty */
};

enum store_commit_status {
    STORE_COMMITTED = 0,
    STORE_STALE = 1, /* the stored position is not pos->start: another reader committed
                        this stream meanwhile, or the batch was committed already.
                        Nothing was written; stop reading this source. */
};

/* Write the batch and, when @pos is not NULL, the source position, in one transaction.
 * Returns STORE_COMMITTED (pos->id set for a new stream) or STORE_STALE; on error returns
 * -1 and fills @d: the database is unchanged (aggregates and position alike). The batch is
 * empty afterwards in every case. @pos NULL (stdin) stores data without a position: such
 * input is not protected against being loaded twice. */
SIFT_WUR int store_commit(struct store *s, struct store_source_pos *pos, struct diag *d);

/* The same for a batch of its own (emptied in every case). */
SIFT_WUR int store_commit_batch(struct store *s, struct store_batch *b,
                                struct store_source_pos *pos, struct diag *d);

/* ---- reading back where a stream stopped ---- */

/* Copy @len bytes at @offset of the probed stream (decoded) into @buf. Returns 0; 1 when
 * the stream ends before offset + len; -1 on an I/O error (fill @d). The store calls it
 * with ascending offsets for each candidate; a gzip reader may restart from the start
 * when asked for an earlier offset. */
typedef int store_read_fn(void *ctx, uint64_t offset, void *buf, size_t len, struct diag *d);

struct store_probe {
    const char *name;
    uint64_t dev, inode;
    uint64_t size; /* decoded length if known (plain files: st_size), else UINT64_MAX */
    store_read_fn *read;
    void *ctx;
};

enum store_resume_how {
    STORE_RESUME_NEW = 0,  /* never seen: read from 0 */
    STORE_RESUME_SAME,     /* same file (dev, inode) and content: continue */
    STORE_RESUME_MOVED,    /* same content in another file (renamed, copied, gzipped):
                              continue where the stream stopped; with
                              store_resume.covered, a shorter copy: read nothing */
    STORE_RESUME_REPLACED, /* the file we read before now holds other content (truncated
                              and rewritten, or its inode was reused): read from 0 */
};

struct store_resume {
    enum store_resume_how how;
    int64_t id;             /* 0 for a new stream */
    int64_t seen_max_id;    /* pass on in store_source_pos */
    uint64_t offset, line;  /* where to continue (0, 0 for a new stream) */
    struct sbuf checkpoint; /* parser state saved with offset (empty if none) */
    struct sbuf mark;       /* the bytes just before offset, as saved (for the next commit);
                               empty when covered */
    bool unverified;        /* NEW: a stream that begins like the file was read past
                               the file's end, and none of its marks lies in the file to
                               tell whether the file is a copy of its start */
    bool covered;           /* MOVED: the file is a copy of the stream's start that ends
                               before offset (its kept mark the file holds matched): every
                               byte of it was read; offset is the stream's, past the file's
                               end. Read nothing from it and commit nothing. */
    struct sbuf prev_name;  /* name the stream was stored under */
    int64_t replaced_born;  /* REPLACED: the creation time (µs; 0: unknown) of the file of
                               the stream that the file's (dev, inode) held */
    struct sbuf pairing;    /* for store_batch_restore() */
};

void store_resume_init(struct store_resume *r);
void store_resume_release(struct store_resume *r);

/* Find where the probed stream stops in the store: a stored stream whose first bytes
 * and the bytes before its offset match the probe's content (read through @p->read),
 * preferring the largest offset. A file in another (dev, inode) whose first bytes match a
 * stream read past the file's end, and that holds the stream's newest kept mark at or
 * before its end, is that stream's shorter copy: MOVED with covered set (this wins over
 * the other matches: nothing of it is to be read). Returns 0 and fills @out; -1 on error. */
SIFT_WUR int store_source_find(struct store *s, const struct store_probe *p,
                               struct store_resume *out, struct diag *d);

/* What the store holds about the stream with id @id (a store_resume.id), for
 * `pgsift status`. Returns 0 (out->found false when there is no such stream), or -1
 * with @d filled. */
struct store_source_info {
    bool found;
    char name[1024];         /* path it was last read under */
    uint64_t offset, line;   /* committed position */
    uint64_t records;        /* records stored from it */
    int64_t first_ingest_us; /* clock of its first and last commit */
    int64_t last_ingest_us;
};
SIFT_WUR int store_source_info(struct store *s, int64_t id, struct store_source_info *out,
                               struct diag *d);

/* Late records committed under the name @name (late_records; 0 when none): records that
 * came in after the rules had evaluated past their time (docs/rules.md). */
SIFT_WUR int store_late_records(struct store *s, const char *name, uint64_t *count, struct diag *d);

/* When pgsift tail began following the file path @path (µs): stored the first time it
 * is asked for (as @now_us), so that it outlives a run that committed nothing. */
SIFT_WUR int store_path_watched_since(struct store *s, const char *path, int64_t now_us,
                                      int64_t *us, struct diag *d);

/* The first commit (µs) of any stream stored under @name or under a rotated sibling
 * name of it (@name followed by '.', '-' or '_'); INT64_MIN when there is none. */
SIFT_WUR int store_source_first_commit(struct store *s, const char *name, int64_t *us,
                                       struct diag *d);

/* ---- retention ---- */

struct store_rollup_stats {
    uint64_t minute_rows, hour_rows; /* rows rolled up into hours / days */
    uint64_t day_rows, events;       /* rows / events deleted as too old */
    uint64_t queries, sources;       /* catalogue entries / source rows deleted */
};

/* Roll minute rows older than the retention into hour rows, hour rows into day rows
 * (sketches merged, sums added), and delete what is older than the longest retention.
 * Only whole hours / days are rolled, so an hour row never straddles minute rows of its
 * hour. @now_us is the clock (pass clock_now_us()). @stats may be NULL. */
SIFT_WUR int store_rollup(struct store *s, int64_t now_us, struct store_rollup_stats *stats,
                          struct diag *d);

/* ---- reading: pgsift top ---- */

enum store_top_order {
    STORE_BY_TOTAL = 0,
    STORE_BY_CALLS,
    STORE_BY_MEAN,
    STORE_BY_P95,
    STORE_BY_P99,
    STORE_BY_MAX,
};

struct store_top_opts {
    int64_t since_us, until_us; /* [since, until); INT64_MIN / INT64_MAX for open ends */
    enum store_top_order by;
    size_t limit;         /* 0: all */
    const char *database; /* NULL: all */
    const char *user;     /* NULL: all */
    /* One row per fingerprint and database and/or user (rules group by them), rather than
     * one per fingerprint: the row's `database`/`user` say which ('' when not logged). */
    bool split_database, split_user;
};

struct store_query_id {
    int64_t id;
    uint64_t calls;
    int64_t total_us; /* execute time of those calls (store_top, store_shape_detail) */
};

struct store_top_row {
    uint64_t fingerprint;
    char *query; /* canonical text; "" if the catalogue has none */
    uint64_t calls, errors;
    double total_ms, mean_ms, min_ms, max_ms, stddev_ms, p50_ms, p95_ms, p99_ms;
    char **databases, **users; /* sorted, distinct; '' (not logged) is left out */
    size_t n_databases, n_users;
    struct store_query_id *query_ids; /* calls in the window, by id */
    size_t n_query_ids;
    int64_t first_seen_us, last_seen_us; /* from the catalogue; INT64_MIN if unknown */
    char *database, *user;               /* with split_database / split_user: the row's ('' when not
                                            logged); else NULL */
};

struct store_top {
    struct store_top_row *rows; /* sorted by opts.by, descending; then by fingerprint */
    size_t n;
    size_t total; /* fingerprints in the window before the limit */
    /* The time the rows cover: the start of their first bucket and the end of their last
     * (a minute, hour or day row), µs; INT64_MIN when there is none. */
    int64_t first_us, end_us;
};

SIFT_WUR int store_top(struct store *s, const struct store_top_opts *o, struct store_top *out,
                       struct diag *d);
void store_top_release(struct store_top *t);

/* ---- reading: pgsift events ---- */

enum store_fact_type { STORE_FACT_INT, STORE_FACT_REAL, STORE_FACT_TEXT };

struct store_fact {
    const char *name; /* column name: "wait_ms", "lock_mode", ... */
    enum store_fact_type type;
    int64_t i;
    double r;
    const char *s;
};

#define STORE_MAX_FACTS 48

/* One stored event; strings borrowed until the callback returns, NULL when absent. */
struct store_event_row {
    int64_t id, ts_us;
    const char *kind, *severity, *sqlstate, *database, *user, *application, *src;
    int64_t pid; /* -1 if absent */
    bool has_fingerprint;
    uint64_t fingerprint;
    const char *message, *detail;
    struct store_fact facts[STORE_MAX_FACTS]; /* the facts the event carries */
    size_t n_facts;
};

struct store_events_opts {
    int64_t since_us, until_us; /* [since, until) */
    uint32_t kinds;             /* bit (1 << enum event_kind) per kind wanted; 0: all */
    const char *database, *user;
    size_t limit; /* the newest `limit` events (0: all), still returned oldest first */
};

typedef int store_event_fn(void *ctx, const struct store_event_row *row);

/* Call @fn for each event in the window, oldest first; a non-zero return from @fn stops
 * and is returned. Returns 0, or -1 with @d filled on a database error. */
SIFT_WUR int store_events(struct store *s, const struct store_events_opts *o, store_event_fn *fn,
                          void *ctx, struct diag *d);

/* Events per kind in the window (ignoring the limit). */
SIFT_WUR int store_event_counts(struct store *s, const struct store_events_opts *o,
                                uint64_t counts[EV_KIND_COUNT], struct diag *d);

/* ---- reading: reports ---- */

/* Over [since, until) (bucket starts, as for store_top; rejects by the ingest clock). */
struct store_totals {
    uint64_t records; /* every record, statements included */
    uint64_t calls;   /* as in store_top */
    double duration_ms;
    uint64_t errors;  /* ERROR, FATAL and PANIC records */
    uint64_t rejects; /* rejected records whose last occurrence was ingested in the window */
};
SIFT_WUR int store_totals(struct store *s, int64_t since_us, int64_t until_us,
                          struct store_totals *out, struct diag *d);

/* Errors grouped by (sqlstate, severity, message), most frequent first. Strings are
 * borrowed until the callback returns; sqlstate is "" when the log had none. A non-zero
 * return from @fn stops and is returned. */
struct store_error_row {
    const char *sqlstate, *severity, *message, *sample;
    uint64_t count;
};
typedef int store_error_fn(void *ctx, const struct store_error_row *row);
SIFT_WUR int store_errors(struct store *s, int64_t since_us, int64_t until_us, store_error_fn *fn,
                          void *ctx, struct diag *d);

/* Rejects per (source, reason) with their first sample (redacted), most first. */
struct store_reject_row {
    const char *source, *reason, *sample; /* sample NULL when none was kept */
    uint64_t count, sample_line;
    int64_t first_seen_us, last_seen_us;
};
typedef int store_reject_fn(void *ctx, const struct store_reject_row *row);
SIFT_WUR int store_rejects(struct store *s, int64_t since_us, int64_t until_us, store_reject_fn *fn,
                           void *ctx, struct diag *d);
/* ---- reading: pgsift report (report_read.c) ---- */

/* Calls, total time and merged latency sketches of the window, cut into buckets at
 * @edges (n + 1 ascending instants, µs: bucket i is [edges[i], edges[i+1]); local hours
 * and days of any length). A stored row belongs to the bucket holding its start. */
struct store_series_opts {
    const int64_t *edges;
    size_t n;
    bool has_fingerprint; /* one statement shape only */
    uint64_t fingerprint;
    const char *database, *user; /* NULL: all */
    const double *bounds;        /* histogram upper bounds (ms, ascending), or NULL */
    size_t nbounds;
};

struct store_series_point {
    uint64_t calls;
    double total_ms;
    double p50_ms, p95_ms, p99_ms; /* NaN when no calls */
};

struct store_series {
    struct store_series_point *points; /* n */
    struct store_series_point all;     /* the whole window (one merged sketch) */
    uint64_t *hist; /* nbounds + 1 counts (values <= bound, the last: above); NULL if no
                       bounds. From the sketch: a bucket straddling a bound (1 %) counts
                       on the side its index falls. */
};

SIFT_WUR int store_series(struct store *s, const struct store_series_opts *o,
                          struct store_series *out, struct diag *d);
void store_series_release(struct store_series *sr);

/* Every statement shape that ran in [since, until): the numbers of store_top() (same
 * rows, same sketches, so the same values) without its texts, for ranking tens of
 * thousands of shapes cheaply; store_shape_detail() then gives the texts of the few that
 * are shown. Unordered. */
struct store_shape {
    uint64_t fingerprint;
    uint64_t calls, errors;
    double total_ms, min_ms, max_ms, p50_ms, p95_ms, p99_ms; /* NaN when no calls */
    double stddev_ms;                                        /* as store_top(); 0 when no calls */
    int64_t first_seen_us, last_seen_us;                     /* catalogue; INT64_MIN when unknown */
    const char *command; /* normalize_command() of the catalogue's text; "other" if none */
};

SIFT_WUR int store_shapes(struct store *s, int64_t since_us, int64_t until_us,
                          struct store_shape **out, size_t *n, struct diag *d);

/*
 * The slowest executions of [@since_us, @until_us): the statement rows (call phase) with
 * the largest max_ms, at most @limit, slowest first. Each is the slowest execution of its
 * statement, database and user in its bucket (a minute; an hour or a day once rolled
 * up), so two slow runs in one bucket show as one. @query is the catalogue's canonical
 * text ($1, $2 ... where the constants were), or "" when the catalogue holds none for it:
 * never in a store pgsift wrote (both are committed together, and a catalogue row
 * expires only with the last statistics of it), but the row is kept from a store
 * edited by hand.
 */
struct store_slow {
    int64_t bucket_us;
    int64_t width_s;
    uint64_t fingerprint;
    char *database, *user, *query;
    double ms;
};
SIFT_WUR int store_slowest(struct store *s, int64_t since_us, int64_t until_us, size_t limit,
                           struct store_slow **out, size_t *n, struct diag *d);
void store_slowest_free(struct store_slow *v, size_t n);

/* Statement calls and executor time of [@since_us, @until_us) per database and user,
 * most time first, at most @limit rows (pgBadger's queries by database and by user). */
struct store_time_by {
    char *database, *user;
    uint64_t calls;
    double total_ms;
};
SIFT_WUR int store_time_by(struct store *s, int64_t since_us, int64_t until_us, size_t limit,
                           struct store_time_by **out, size_t *n, struct diag *d);
void store_time_by_free(struct store_time_by *v, size_t n);

/* The extended protocol's parse and bind steps of [@since_us, @until_us), kept apart
 * from execution: records with a duration and their time, "parse" first. @out holds at
 * most two rows. */
struct store_phase_time {
    char phase[8];
    uint64_t calls;
    double total_ms;
};
SIFT_WUR int store_phase_times(struct store *s, int64_t since_us, int64_t until_us,
                               struct store_phase_time out[2], size_t *n, struct diag *d);

struct store_shape_detail {
    char *query;               /* canonical text, "" if the catalogue has none */
    char *sample;              /* first statement seen (redacted unless --keep-literals), or NULL */
    char **databases, **users; /* sorted, distinct, '' left out (as store_top) */
    size_t n_databases, n_users;
    struct store_query_id *query_ids; /* by calls, then id (as store_top) */
    size_t n_query_ids;
    uint64_t plans; /* auto_explain plans logged (phase 'plan') */
};

SIFT_WUR int store_shape_detail(struct store *s, uint64_t fingerprint, int64_t since_us,
                                int64_t until_us, struct store_shape_detail *out, struct diag *d);
void store_shape_detail_release(struct store_shape_detail *x);

/* What a window [since, until) counts of the rolled-up rows (docs/store.md, "Retention
 * and roll-up"): a row is counted when it starts in the window, so where an hour or day
 * row holds one of its ends, the rows counted cover up to that row's end instead. Sets
 * *from_us and *to_us to the ends of the time the counted rows cover (the window's own
 * ends, in whole seconds, where no such row holds them). */
SIFT_WUR int store_counted_period(struct store *s, int64_t since_us, int64_t until_us,
                                  int64_t *from_us, int64_t *to_us, struct diag *d);

/* Records per kind and bucket (record_stats), and ERROR/FATAL/PANIC records per bucket.
 * @kinds holds n * EV_KIND_COUNT counts (row-major), @errors n counts; both zeroed
 * first. */
SIFT_WUR int store_record_counts(struct store *s, const int64_t *edges, size_t n, uint64_t *kinds,
                                 uint64_t *errors, struct diag *d);

/* ---- reading: auto_explain plan shapes (store/plans.c, docs/plans.md) ---- */

/* One plan shape of one query in one database. Strings are owned by the result. */
struct store_plan {
    uint64_t fingerprint; /* query fingerprint; 0 when the plan had no Query Text */
    char *database;       /* "" when the log does not say */
    char *query;          /* canonical text from the catalogue; NULL when unknown */
    uint64_t plan_fp;     /* plan shape fingerprint (0: the plan could not be read) */
    char *shape;          /* one line: "Aggregate > Seq Scan on t" */
    char *insights;       /* insights seen in any plan of this shape, comma-separated names
                             in enum plan_insight_kind order ("" if none) */
    char *format;         /* format of the sample: text, json, yaml, xml */
    char *sample;         /* the plan shown: the one with the most insights, the slowest
                             among those (redacted unless --keep-literals) */
    int64_t first_seen_us, last_seen_us, sample_ts_us;
    uint64_t calls;
    double total_ms, mean_ms, min_ms, max_ms, p50_ms, p95_ms, p99_ms; /* executor time */
    double sample_ms; /* -1 when the sample record had no duration */
};

/*
 * A plan change: the dominant plan of a query changed. The runs of one shape (plan
 * records in a row with that shape, in ingest order) that count are those of at least
 * STORE_PLAN_CHANGE_MIN_CALLS records; shorter runs (a one-off generic plan) are left
 * out, and neighbouring runs of the same shape merge. Each switch between two merged
 * runs is a change, with the mean executor time on either side.
 */
#define STORE_PLAN_CHANGE_MIN_CALLS 3

struct store_plan_run {
    uint64_t plan_fp;
    int64_t first_us, last_us;
    uint64_t calls;
    double total_ms;
};

struct store_plan_change {
    uint64_t fingerprint;
    char *database; /* owned (NULL from store_plan_detect()) */
    uint64_t from_plan, to_plan;
    int64_t at_us; /* first record of the new plan */
    uint64_t calls_before, calls_after;
    double before_ms, after_ms; /* mean executor time per call */
    double slower_by;           /* after_ms / before_ms; < 1 when it got faster; -1 unknown */
};

/* The rule on runs in ingest order; writes at most @max changes, returns how many
 * there are. Pure (tests, rules). */
size_t store_plan_detect(const struct store_plan_run *runs, size_t n, struct store_plan_change *out,
                         size_t max);

struct store_plans_opts {
    bool has_fingerprint; /* only this query */
    uint64_t fingerprint;
    bool has_plan_fp; /* only this shape */
    uint64_t plan_fp;
    const char *database; /* NULL: all */
    int64_t since_us;     /* shapes last seen at or after; INT64_MIN: all */
};

struct store_plans {
    struct store_plan *plans; /* by query, database, then first seen */
    size_t n;
    struct store_plan_change *changes; /* of the queries in plans, oldest first */
    size_t n_changes;
};

/*
 * Plan changes as of an instant, for alert rules (`source: plans`). For every (query,
 * database) with a plan record in [@from_us, @to_us) (and in @database unless NULL), its
 * plan records of [@to_us - @lookback_us, @to_us) (the newest SIFT_MAX_PLAN_RULE_CALLS),
 * in time order, are cut into runs and passed through store_plan_detect(): @now gets the
 * changes among all of them (with the numbers as of @to_us), @before the changes among
 * those before @from_us (as of @from_us), so a caller can tell what is new in the period.
 * Only the @plans member stays empty; release both with store_plans_release(). Only
 * records before @to_us are read, so the answer for an instant does not depend on what
 * was ingested after it: a replay of old logs and live tailing agree. Returns 0 or -1
 * with @d filled.
 */
SIFT_WUR int store_plan_changes_at(struct store *s, int64_t from_us, int64_t to_us,
                                   int64_t lookback_us, const char *database,
                                   struct store_plans *now, struct store_plans *before,
                                   struct diag *d);

/* Read plan shapes and the changes of their queries. Returns 0 (release @out with
 * store_plans_release()), or -1 with @d filled. */
SIFT_WUR int store_plans(struct store *s, const struct store_plans_opts *o, struct store_plans *out,
                         struct diag *d);
void store_plans_release(struct store_plans *p);

#endif
