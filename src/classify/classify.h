/* SPDX-License-Identifier: MIT */
/*
 * classify - decide what a log record is (`ev->kind`) and extract the numbers users
 * chart (`ev->duration_ms`, `ev->query`, `ev->phase`, `ev->params`, `ev->plan`,
 * `ev->facts`), from the record parse/ produced.
 *
 * Order of evidence: the SQLSTATE first, the English message text second. A record whose
 * SQLSTATE says what it is (40P01 deadlock, 53300 too many connections, 28xxx
 * authentication, 25P03/57P05/25P04 session timeouts, 57014 query canceled) gets that
 * kind in any lc_messages language; the text only refines it (57014 "due to statement
 * timeout" is a timeout, "due to user request" a cancel) and extracts numbers. LOG
 * records (durations, statements, plans, lock waits, checkpoints, autovacuum,
 * connections, startup/shutdown) carry SQLSTATE 00000 and are recognised by their
 * English text only: under a non-English lc_messages they stay `other` (docs/classify.md
 * lists what classifies in which language).
 *
 * Owns nothing. Reads the log fields of @ev (severity, sqlstate, message, detail,
 * context); overwrites only the classify/ fields (kind, phase, duration_ms, query,
 * prepared_name, params, plan_format, plan, facts, the EVENT_HAS_PARAMS flag), resetting
 * them first, so classifying a record twice gives the same result.
 *
 * Extracted spans point into @ev's own message/detail/context (valid as long as those
 * are) or into static storage, except text that had to be decoded (a JSON/YAML/XML plan's
 * "Query Text" with escapes, a pgAudit statement with doubled quotes), which is copied
 * into @a. With @a NULL such text is left absent (the record still classifies).
 *
 * Tenant data: `params` (bind parameters) and the DETAIL/CONTEXT they come from, the
 * queries of other sessions in a deadlock DETAIL, and `query` literals are user data.
 * When EVENT_HAS_PARAMS is set, the record's `detail` (or, for parameters logged on
 * error, its `context`) holds the same values: redact it along with `params`.
 */
#ifndef SIFT_CLASSIFY_CLASSIFY_H
#define SIFT_CLASSIFY_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/sbuf.h"
#include "core/span.h"
#include "event.h"

/* Classify one record in place. Never fails, never reads outside the spans, allocates
 * from @a only for decoded plan/audit text (see above). */
void classify_event(struct event *ev, struct arena *a);

/* ------------------------------------------------------------------------------------
 * auto_explain plans (classify/plan*.c, docs/plans.md): a plan body (ev->plan) parsed
 * into a tree, its shape fingerprint, insights and index suggestions. Pure functions:
 * nothing is stored here; store/ keeps plan shapes per query, report/ and `pgsift
 * plans` show them.
 * ------------------------------------------------------------------------------------ */

enum plan_insight_kind {
    PLAN_INSIGHT_SEQ_SCAN = 0, /* seq_scan_filter: large seq scan, selective filter */
    PLAN_INSIGHT_MISESTIMATE,  /* row_misestimate: estimate off by >= 10x at a node */
    PLAN_INSIGHT_SORT_SPILL,   /* sort_spill: sort went to disk */
    PLAN_INSIGHT_HASH_SPILL,   /* hash_spill: hash join / aggregate in several batches */
    PLAN_INSIGHT_NESTED_LOOP,  /* nested_loop_seq_scan: seq scan repeated many times */
    PLAN_INSIGHT_LOSSY_BITMAP, /* lossy_bitmap: bitmap heap scan went lossy */
    PLAN_INSIGHT_WORKERS,      /* workers_not_launched: fewer workers than planned */
    PLAN_INSIGHT_JIT,          /* jit_time: JIT compilation a large share of the time */
    PLAN_INSIGHT_TRIGGER,      /* slow_trigger: trigger time a large share */
    PLAN_INSIGHT_COUNT
};

/* "seq_scan_filter", ...; NULL for an out-of-range value. */
const char *plan_insight_name(enum plan_insight_kind k);
/* One line: "Sequential scan with a selective filter". */
const char *plan_insight_title(enum plan_insight_kind k);
/* The auto_explain settings the insight needs ("log_analyze", "log_analyze, log_buffers"). */
const char *plan_insight_needs(enum plan_insight_kind k);

struct plan_insight {
    enum plan_insight_kind kind;
    struct span node;        /* the node as EXPLAIN prints it: "Seq Scan on events" */
    struct span explanation; /* one or two sentences with the numbers */
    struct span evidence;    /* the plan lines it rests on, '\n'-separated */
    double impact_ms;        /* time attributable per call (node, JIT, trigger); -1 unknown */
    double work_mem_kb;      /* spills: work_mem that would have kept it in memory; else -1 */
};

/* A CREATE INDEX the plan's own numbers argue for (a heuristic: docs/plans.md). */
struct plan_index_suggestion {
    struct span relation; /* as the plan names it (schema-qualified in verbose plans) */
    struct span columns;  /* "kind, created_at": equality columns first, then one range */
    struct span ddl;      /* CREATE INDEX CONCURRENTLY ON relation (columns); */
    double rows_read;     /* per call, all loops */
    double rows_returned; /* per call, all loops */
    double node_ms;       /* scan time per call; -1 without log_timing */
    double saving_ms;     /* estimated saving per call; -1 without log_timing */
    struct span evidence; /* node line, Filter, Rows Removed by Filter */
};

/* An index the plan uses, with the columns its Index Cond shows (in index order). */
struct plan_index_use {
    struct span relation, index;
    struct span columns; /* ", "-separated; may be empty (no condition, e.g. ORDER BY) */
};

struct plan_analysis {
    enum plan_format format;
    bool parsed;          /* a plan tree was read; false: `reason` says why */
    const char *reason;   /* static text when not parsed or parsed only in part; else NULL */
    bool truncated;       /* a core/limits.h bound cut the tree */
    bool analyzed;        /* actual rows present (auto_explain.log_analyze) */
    bool timing;          /* actual times present (log_timing) */
    bool buffers;         /* buffer counts present (log_buffers) */
    uint64_t fingerprint; /* plan shape (node types, relations, indexes, order); 0 if not parsed */
    struct span shape;    /* one line: "Aggregate > Seq Scan on events" (pre-order) */
    struct span query;    /* "Query Text" as the plan carries it (tenant data: redact) */
    uint32_t nodes;
    uint32_t unknown_lines; /* text plans: lines that fit no plan layout (skipped) */
    double total_ms;        /* root node's actual total time; -1 without log_timing */
    struct plan_insight *insights;
    size_t n_insights;
    struct plan_index_suggestion *suggestions;
    size_t n_suggestions;
    struct plan_index_use *indexes;
    size_t n_indexes;
};

/* Parse and analyse one plan body (ev->plan) of format @fmt; @duration_ms is the plan
 * record's duration (executor time; -1 if unknown), the base of time shares. Everything
 * in @out lives in @a and points into @body. Never fails: an unreadable body gives
 * out->parsed false with the reason. */
void plan_analyze(struct span body, enum plan_format fmt, double duration_ms, struct arena *a,
                  struct plan_analysis *out);

/* Plan analysis for ingest, each distinct body parsed once: a plan_memo keeps the trees
 * of recent bodies (their own copies; bounded by PLAN_MEMO_BYTES and PLAN_MEMO_PLANS,
 * then emptied) so that a body seen again (auto_explain without log_analyze logs the
 * same text for every run of a plan) skips parsing and the shape. Bodies with the run's
 * actual times (log_analyze + log_timing) are never kept: no real log repeats them.
 * plan_analyze_memo()
 * gives what plan_analyze() gives (insights are computed per record, with its
 * duration), except the index advice: n_suggestions and n_indexes are 0. out->query
 * and spans into the tree point into the memo: valid until the next call. Owns its
 * copies; one thread at a time. */
struct plan_memo;
struct plan_memo *plan_memo_new(void);
void plan_memo_free(struct plan_memo *m); /* NULL is a no-op */
void plan_analyze_memo(struct plan_memo *m, struct span body, enum plan_format fmt,
                       double duration_ms, struct arena *a, struct plan_analysis *out);
/* From now on @m gives the insights' kinds only (plan_insight_kinds(): no node, texts,
 * impact or work_mem): what ingest stores of them (plans_batch_add()); the texts are
 * built when an insight is shown, from the stored plan. */
void plan_memo_kinds_only(struct plan_memo *m);
/* Bodies kept now (tests). */
size_t plan_memo_count(const struct plan_memo *m);
/* Tests only: keep bodies with actual times too (every fixture plan has them), so the
 * memo's own path is compared with plan_analyze() on real plans. Never set in the program. */
extern bool plan_memo_keep_per_run;

/*
 * Append @body to @out with its tenant data taken out (plan_redact.c): the Query Text
 * and every expression the plan prints (Filter, Index Cond, Sort Key, Output, ...) get
 * their constants replaced by $n like statement samples (normalize_redact()); Query
 * Parameters are replaced by "(redacted)". Names, numbers and layout are kept, so the
 * result parses to the same tree and fingerprint. Decoding scratch goes to @a. Returns
 * 0, or -1 when @out's cap was hit (what was appended stays; discard it).
 */
struct normalizer;
int plan_redact(struct normalizer *nz, struct span body, enum plan_format fmt, struct arena *a,
                struct sbuf *out);

/* Format of a plan body as classify_event() decides it (PLAN_NONE for an empty body). */
enum plan_format plan_detect_format(struct span body);

/*
 * The advisor merges the index suggestions of many plans (one per plan shape, weighted
 * by its calls) into a deduplicated list: one entry per (relation, columns), savings
 * and calls summed, never a suggestion that an index seen in any of the plans already
 * covers (its Index Cond columns start with the suggested columns).
 *
 * Owns copies of everything it was given. Calling sequence: plan_advisor_new() ->
 * plan_advisor_add()* -> plan_advisor_result() -> plan_advisor_free().
 */
struct plan_advice {
    char *relation, *columns, *ddl, *evidence;
    double calls;                    /* calls of the plans that argue for it */
    double saving_ms;                /* estimated total saving over those calls; -1 unknown */
    double rows_read, rows_returned; /* per call, of the largest contributor */
    size_t n_queries;                /* distinct query fingerprints */
    uint64_t query_fps[8];           /* the first eight of them */
};

struct plan_advisor;
struct plan_advisor *plan_advisor_new(void);
void plan_advisor_add(struct plan_advisor *adv, const struct plan_analysis *pa, uint64_t query_fp,
                      double calls);
/* The merged list, largest saving (then calls) first; valid until plan_advisor_free(). */
size_t plan_advisor_result(struct plan_advisor *adv, const struct plan_advice **out);
void plan_advisor_free(struct plan_advisor *adv);

#endif
