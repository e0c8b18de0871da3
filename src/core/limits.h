/* SPDX-License-Identifier: MIT */
/*
 * limits - every bound on what untrusted input (a log record, a statement, a rule or
 * config file) can make pgsift do. One place, like SQLite's sqliteLimit.h.
 *
 * Each limit says why it exists. Raising one is a reviewed change; every limit has a
 * test at limit-1, limit and limit+1. Exceeding a limit on input is a counted reject
 * with a reason, never a crash and never a silent drop.
 */
#ifndef SIFT_CORE_LIMITS_H
#define SIFT_CORE_LIMITS_H

#include <stdint.h>

/* One log record, continuation lines included. PostgreSQL itself caps nothing, but a
 * statement over 10 MB in a log is an attack or a bug; we keep memory bounded. */
#define SIFT_MAX_RECORD_BYTES (10u << 20)

/* One physical line before it is joined into a record. */
#define SIFT_MAX_LINE_BYTES (10u << 20)

/* Statement text handed to the normalizer; longer statements are fingerprinted on
 * their first SIFT_MAX_STATEMENT_BYTES and flagged truncated. */
#define SIFT_MAX_STATEMENT_BYTES (1u << 20)

/* Lexer tokens per statement (bounds the canonical token stream). */
#define SIFT_MAX_TOKENS 200000u

/* The normalizer's text -> fingerprint cache (normalize_event()): log records repeat the
 * same few statement texts, and a hit costs a hash and a compare instead of lexing. Only
 * statements whose raw text and canonical text are each at most SIFT_FP_CACHE_TEXT_BYTES
 * are remembered, in at most SIFT_FP_CACHE_SLOTS entries holding together at most
 * SIFT_FP_CACHE_BYTES of text: memory stays bounded whatever the log holds. */
#define SIFT_FP_CACHE_SLOTS      4096u
#define SIFT_FP_CACHE_TEXT_BYTES 4096u
#define SIFT_FP_CACHE_BYTES      (4u << 20)

/* Nesting depth of an auto_explain plan (JSON objects or text indentation levels). */
#define SIFT_MAX_PLAN_DEPTH 256u

/* Nodes in one plan tree. */
#define SIFT_MAX_PLAN_NODES 10000u

/* A plan body stored as the sample of its shape (store/plans.c). Longer plans are not
 * stored whole: the sample keeps the first bytes and says it was cut. */
#define SIFT_MAX_PLAN_SAMPLE_BYTES (256u << 10)

/* Runs of plan shapes kept per (query, database) for plan-change detection: a query
 * whose plan flips back and forth would otherwise add a row per flip forever. The
 * oldest runs are dropped. */
#define SIFT_MAX_PLAN_RUNS 1000u

/* Plan records of one query an alert rule on plan changes (`source: plans`) reads at one
 * evaluation: the newest ones before the evaluation time. Every evaluation re-reads them
 * (so that the answer depends only on records before that instant); this bounds its cost
 * for a query whose plan is logged very often. */
#define SIFT_MAX_PLAN_RULE_CALLS 2000u

/* Records of one source that may be waiting for continuation lines at once
 * (interleaved stderr/syslog from many backends). */
#define SIFT_MAX_PENDING_RECORDS 4096u

/* A pending record whose last line is this many lines behind the current line is
 * complete: continuation lines of one process follow within a few lines even when
 * processes interleave (syslog), and an idle process must not hold its last record
 * (and with it the resume checkpoint) forever. */
#define SIFT_MAX_PENDING_AGE_LINES 10000u

/* Runs of already-emitted lines remembered past the resume checkpoint (interleaved
 * records). Beyond it the oldest pending record is completed early, which moves the
 * checkpoint forward; bounds memory when one record stays open for very long. */
#define SIFT_MAX_RESUME_RUNS 65536u

/* Failing lines quoted in the "nothing parsed" diagnosis (exit 3). */
#define SIFT_DIAG_LINES 5u

/* First samples kept per (source, reject reason), like GoAccess's 20 log errors. */
#define SIFT_MAX_REJECT_SAMPLES 20u

/* Bytes of a rejected line kept as its sample. */
#define SIFT_MAX_SAMPLE_BYTES 512u

/* A log_line_prefix setting. PostgreSQL's own GUC has no limit; 1 KiB is generous. */
#define SIFT_MAX_PREFIX_BYTES 1024u

/* Backtracking steps the log_line_prefix matcher may take on one line: a base plus a
 * number per byte of the line. Free-text escapes (%u %d %a ...) are matched by trying
 * each place the following literal occurs; a hostile line full of separators could
 * otherwise make matching quadratic. A line that exhausts the budget does not match
 * (it is counted as a foreign line, never silently dropped). */
#define SIFT_MAX_PREFIX_STEPS_BASE 256u
#define SIFT_MAX_PREFIX_STEPS      8u

/* Rule and config files. */
#define SIFT_MAX_RULE_FILE_BYTES   (1u << 20)
#define SIFT_MAX_CONFIG_FILE_BYTES (1u << 20)

/* Rules per rule set (all files together): each is evaluated every minute. */
#define SIFT_MAX_RULES 1000u
/* Labels or annotations per rule, and the bytes of one label value or annotation
 * template (a summary line, a runbook URL). */
#define SIFT_MAX_RULE_LABELS     32u
#define SIFT_MAX_RULE_TEXT_BYTES 4096u
/* A rule's window: per-minute aggregates are merged over it every evaluation. */
#define SIFT_MAX_RULE_WINDOW_US (INT64_C(31) * 86400 * 1000000)
/* Baseline periods and new_fingerprint lookbacks (read from hourly/daily data). */
#define SIFT_MAX_RULE_BASELINE_US (INT64_C(400) * 86400 * 1000000)
/* Alert instances one rule may produce per evaluation (group_by cardinality guard);
 * groups beyond it are counted and reported, not evaluated. */
#define SIFT_MAX_INSTANCES_PER_RULE 1000u

/* Events that rule evaluation over the store keeps decoded between evaluations (about
 * 150 bytes each; rules/metric_store.c). A window with more is decoded per query. */
#define SIFT_MAX_RULE_CACHED_EVENTS 200000u
/* Alert episodes listed in one report (rules/history.c); a rule set firing per query
 * shape could produce thousands a day. More are counted per rule, not listed. */
#define SIFT_MAX_REPORT_ALERTS 500u
/* Alerts listed in one notification; the rest are folded into "and N more". */
#define SIFT_MAX_ALERTS_PER_MESSAGE 100u
/* Body of one outgoing webhook/alert notification. */
#define SIFT_MAX_WEBHOOK_BODY (256u << 10)

/* Distinct processes kept from one deadlock report's DETAIL (PostgreSQL's own cycle has
 * no fixed bound, but real cycles involve two to a handful of sessions); more are counted
 * in n_participants only up to this bound and the event is flagged truncated. */
#define SIFT_MAX_DEADLOCK_PROCS 16u

/* A file modified less than this long before pgsift ingest looked at it may still be
 * written (the log collector writes line-buffered, so a record can be seen half-written):
 * its last line without "\n" and a csvlog record whose quoted field is still open at its
 * end are left for the next run. An older file is complete (a server crash leaves a cut
 * record for ever; a rotated file never grows again): they are read and finished, else
 * its last record would be hidden for ever. 5 minutes: far longer than PostgreSQL takes
 * to write one record, far shorter than a log is kept. */
#define SIFT_HOLD_LIVE_SECONDS 300
/* A file modified less than this long ago is being written: a stderr or syslog record at
 * its end may still get lines (ingest holds it for the next run; parser_opts.end_live). */
#define SIFT_HOLD_WRITE_SECONDS 2

/* Lines of the first bytes of an input inspected by format auto-detection. */
#define SIFT_DETECT_LINES 200u
#define SIFT_DETECT_BYTES (256u << 10)
/* When no format recognises a line of the first SIFT_DETECT_LINES (a /var/log/syslog
 * whose first lines are other programs'), detection goes on with twice the lines, up to
 * this many lines or bytes. */
#define SIFT_DETECT_MAX_LINES 51200u
#define SIFT_DETECT_MAX_BYTES (16u << 20)

/* Decompression thread of a .gz input (input/gz.c): it inflates ahead into a ring of
 * SIFT_GZ_RING_SLOTS buffers of SIFT_GZ_SLOT_BYTES decoded bytes each, so a reader that
 * stalls (a slow store) holds at most 1 MiB of decoded text in the ring, whatever the
 * file's compression ratio. Smaller .gz files (compressed size) are decoded on the
 * reader's thread: for them the thread start costs more than the overlap saves. */
#define SIFT_GZ_RING_SLOTS     4u
#define SIFT_GZ_SLOT_BYTES     (256u << 10)
#define SIFT_GZ_THREAD_MIN_RAW (64u << 10)

/* Buckets of one latency sketch (store/sketch.h). With 1 % buckets, 1 µs .. 1 day spans
 * ~1,000 buckets; beyond 2,048 the lowest buckets are folded together, so a hostile
 * spread of durations cannot grow a sketch (or a stored blob) without bound. */
#define SIFT_MAX_SKETCH_BUCKETS 2048u

/* Identity of an input stream (store/store.h): the first bytes of a stream and the bytes
 * just before the saved offset are hashed to recognise it again after a rotation,
 * rename or gzip. 4 KiB holds dozens of log lines with timestamps and pids: two
 * different streams do not share them. */
#define SIFT_SOURCE_HEAD_BYTES 4096u
#define SIFT_SOURCE_MARK_BYTES 4096u

/* Marks kept per stream (store/store.c, schema/008_source_marks.sql): the bytes before
 * each of its commit offsets, hashed, to recognise a shorter copy of the stream (a
 * copytruncate'd `.1`, a `gzip -k` made while the server wrote on) as read. The newest
 * SIFT_SOURCE_MARKS_NEWEST are always kept; older ones are thinned to stay spread over
 * the stream (log-spaced, the first commit's kept), so a copy made long ago is still
 * recognised. One row (~40 bytes) each: 1.3 KiB per stream at most. */
#define SIFT_SOURCE_MARKS_KEPT   32u
#define SIFT_SOURCE_MARKS_NEWEST 8u

/* Sessions whose logged statement ("statement: ..." with log_statement) waits for its bare
 * "duration: N ms" line (log_duration), per source: about one per server connection.
 * Beyond it a duration line is counted without its statement (fingerprint 0). */
#define SIFT_MAX_PAIRED_SESSIONS 65536u

/* A part batch (pgsift ingest -j N on one file) counts the records whose fingerprint's
 * other 64 bits are neither 0 nor those of the fingerprint's first record in a list it
 * scans per record: a collision of 64-bit fingerprints, about never unless statements are
 * crafted for it. Past this many (fingerprint, other bits) pairs in one part, the part's
 * later records are added by the reader instead (store_batch_fold() refuses them), so a
 * crafted log costs no more than one thread. */
#define SIFT_MAX_PART_FP_COLLISIONS 64u

/* Texts kept in the store per item: a canonical statement, a redacted sample, an event
 * message or detail. Longer ones are cut at a UTF-8 boundary and end in "...". */
#define SIFT_MAX_STORED_TEXT (16u << 10)

/* A packed event block (store/evblock.h): at most this many bytes (a writer starts a new
 * block beyond it, so no event is lost) and events; a stored block beyond either is
 * reported as corrupt rather than decoded. */
#define SIFT_MAX_EVBLOCK_BYTES  (64u << 20)
#define SIFT_MAX_EVBLOCK_EVENTS 65536u

/* The store's write-ahead log (store/checkpoint.c): past this many pages (16 KiB each in
 * a new store: 4 MiB, the size of SQLite's own threshold of 1 000 pages of its default
 * 4 KiB) a commit wakes the checkpoint thread; past the second, should that thread fall
 * behind a disk slower than ingest, the committing connection checkpoints itself, so the
 * log stays bounded (64 MiB at 16 KiB pages). At 1 000 pages (16 MiB) a 200 MB csvlog
 * was checkpointed only near its end, and the close synced the whole store
 * (docs/performance.md, session 10). */
#define SIFT_WAL_CHECKPOINT_PAGES 256
#define SIFT_WAL_FORCE_PAGES      4000

/* Distinct fingerprints counted for `pgsift ingest`'s summary line (store_run_counts()):
 * a log of hostile, ever-different statements must not grow that set without bound
 * (8 MiB at this many: with the batch's, peak RSS stays under 64 MB at a million
 * distinct statements, QA 22a); beyond it the summary says "at least". */
#define SIFT_MAX_RUN_FINGERPRINTS (1u << 19)

#endif
