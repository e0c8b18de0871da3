/* SPDX-License-Identifier: MIT */
/*
 * plan - private to classify/: one auto_explain plan as a tree of nodes, built by the
 * text (plan_text.c), JSON (plan_json.c), YAML (plan_yaml.c) and XML (plan_xml.c)
 * parsers, and the pure functions over it: the shape fingerprint (plan_shape.c),
 * insights (plan_insight.c) and index suggestions (plan_index.c). classify.h exposes
 * what later stages need (plan_analyze(), the advisor, plan_redact()).
 *
 * One tree for every format: node types use the JSON "Node Type" names ("Hash Join"
 * with join_type "Left", "Aggregate" with strategy "Hashed"), so the text line "Hash
 * Left Join" and the JSON object {"Node Type": "Hash Join", "Join Type": "Left"} give
 * the same node and the same fingerprint.
 *
 * Owns nothing: nodes, spans and decoded strings live in the arena given to the parser
 * (or point into the plan body, which must outlive the tree).
 *
 * Bounds (core/limits.h): at most SIFT_MAX_PLAN_NODES nodes and SIFT_MAX_PLAN_DEPTH
 * levels; what lies beyond is skipped and the plan is flagged truncated (its
 * fingerprint then covers the kept part, and says so).
 */
#ifndef SIFT_CLASSIFY_PLAN_H
#define SIFT_CLASSIFY_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "classify/classify.h"
#include "core/arena.h"
#include "core/limits.h"
#include "core/sbuf.h"
#include "core/span.h"

#define PLAN_NONE_IDX UINT32_MAX

/* Numbers the plan does not carry are PLAN_ABSENT. */
#define PLAN_ABSENT (-1.0)

struct plan_node {
    /* --- shape (what the fingerprint hashes) --- */
    struct span type;         /* JSON "Node Type": "Seq Scan", "Hash Join", "ModifyTable" */
    struct span join_type;    /* "Inner", "Left", "Semi", ... (Nested Loop, Hash/Merge Join) */
    struct span strategy;     /* Aggregate/SetOp: "Plain", "Sorted", "Hashed", "Mixed" */
    struct span partial_mode; /* Aggregate: "Simple", "Partial", "Finalize" */
    struct span operation;    /* ModifyTable/Foreign Scan: "Insert", "Update", ... */
    struct span command;      /* SetOp: "Intersect", "Except All", ... */
    struct span relation;     /* Relation/Function/CTE/Table Function/Tuplestore Name */
    struct span schema;       /* verbose plans only */
    struct span alias;        /* JSON always; text only when it differs from the name */
    struct span index;        /* Index Name */
    struct span parent_rel;   /* "Outer", "Inner", "InitPlan", "SubPlan", ... */
    struct span subplan_name; /* "InitPlan 1 (returns $0)", "SubPlan 2", "CTE name" */
    struct span custom;       /* Custom Plan Provider */
    bool parallel_aware, async_capable, backward;

    /* --- estimates --- */
    double startup_cost, total_cost, plan_rows, plan_width;

    /* --- actuals (log_analyze); per loop, as EXPLAIN prints them --- */
    double actual_startup_ms, actual_total_ms; /* absent without log_timing */
    double actual_rows, actual_loops;
    bool never_executed;

    /* --- conditions (text as printed; tenant data until redacted) --- */
    struct span filter, index_cond, recheck_cond, join_filter, hash_cond, merge_cond;
    struct span one_time_filter, sort_key, group_key;
    double rows_removed_filter, rows_removed_join_filter, rows_removed_recheck;
    double heap_fetches;
    double exact_blocks, lossy_blocks; /* Bitmap Heap Scan "Heap Blocks" */

    /* --- sort (leader and workers: largest space of each kind) --- */
    struct span sort_method; /* the leader's, or a spilling worker's */
    double sort_memory_kb, sort_disk_kb;
    unsigned sort_spilled;         /* participants (leader, workers) whose sort went to disk */
    double sort_pending_kb;        /* structured formats: a space waiting for its type */
    struct span sort_pending_type; /* ... or a type waiting for its space */

    /* --- hash (Hash node) and hash aggregation --- */
    double hash_buckets, hash_batches, orig_hash_batches, peak_memory_kb;
    double hashagg_batches, disk_usage_kb;

    /* --- parallelism --- */
    double workers_planned, workers_launched;

    /* --- buffers (log_buffers), blocks --- */
    double shared_hit, shared_read, shared_dirtied, shared_written;
    double local_hit, local_read, local_dirtied, local_written;
    double temp_read, temp_written;
    double io_read_ms, io_write_ms;

    /* --- tree --- */
    uint32_t parent, first_child, last_child, next_sibling;
    uint32_t depth;  /* root 0 */
    uint32_t lineno; /* text plans: 1-based line in the body of the node line; else 0 */
};

struct plan_trigger {
    struct span name;       /* trigger name; absent for text "Trigger for constraint x" */
    struct span constraint; /* constraint name (FK triggers) */
    struct span relation;
    double time_ms; /* absent without log_timing */
    double calls;
};

struct plan {
    enum plan_format format;
    struct span query; /* "Query Text" (decoded), absent when missing */
    struct plan_node *nodes;
    uint32_t n_nodes, alloc_nodes;
    struct plan_trigger *triggers;
    uint32_t n_triggers, alloc_triggers;
    struct span settings; /* text "Settings:" line value or raw JSON object */

    double jit_functions; /* JIT summary; absent when no JIT happened */
    double jit_generation_ms, jit_inlining_ms, jit_optimization_ms, jit_emission_ms;
    double jit_total_ms;

    bool analyzed;          /* actual rows present (log_analyze) */
    bool timing;            /* actual times present (log_timing) */
    bool buffers;           /* buffer counts present (log_buffers) */
    bool truncated;         /* SIFT_MAX_PLAN_NODES / SIFT_MAX_PLAN_DEPTH cut the tree */
    uint32_t unknown_lines; /* text: lines that fit no known layout (kept, not fatal) */
    const char *error;      /* static text: why parsing stopped; NULL when it did not */
    uint32_t error_line;    /* 1-based line of the body (JSON: of the offending byte) */
};

/* Parsers. Each resets @p, fills it and returns 0, or -1 when the body holds no plan
 * tree at all (p->error says why). A tree cut by a bound or by bad input after its
 * first node returns 0 with p->truncated or p->error set. Nothing is read outside
 * @body; decoded strings go to @a. */
int plan_parse_text(struct plan *p, struct span body, struct arena *a);
int plan_parse_json(struct plan *p, struct span body, struct arena *a);
int plan_parse_yaml(struct plan *p, struct span body, struct arena *a);
int plan_parse_xml(struct plan *p, struct span body, struct arena *a);

/* The events of a YAML body (plan_yaml.c), as plan_parse_yaml() takes them; the reader is
 * chosen for tests, which compare the two. PLAN_YAML_ANY: explain.c's own subset read
 * directly, anything else by libyaml (after a PLAN_YAML_RESTART: forget the events so
 * far). Returns 0; -1 when libyaml stopped at an error (*err, *err_line; the events
 * before it were given); 1 when PLAN_YAML_FAST declined the body. */
enum plan_yaml_reader { PLAN_YAML_ANY, PLAN_YAML_FAST, PLAN_YAML_LIBYAML };
enum plan_yaml_ev {
    PLAN_YAML_MAP,
    PLAN_YAML_SEQ,
    PLAN_YAML_END,
    PLAN_YAML_SCALAR,
    PLAN_YAML_RESTART
};
typedef void plan_yaml_cb(void *ctx, enum plan_yaml_ev t, struct span v);
int plan_yaml_read(struct span body, enum plan_yaml_reader how, struct arena *a, plan_yaml_cb *cb,
                   void *ctx, const char **err, uint32_t *err_line);
/* The same, with the events written to @out as text (M, S, E for map and sequence starts
 * and ends, s<len>:<bytes> for a scalar): what tests compare. */
int plan_yaml_dump(struct span body, enum plan_yaml_reader how, struct arena *a, struct sbuf *out,
                   const char **err, uint32_t *err_line);

/* Parse @body in @fmt (the four above). */
int plan_parse(struct plan *p, enum plan_format fmt, struct span body, struct arena *a);

/* --- building (plan_tree.c; used by the parsers) --- */

void plan_reset(struct plan *p, enum plan_format fmt);

/* Append a node under @parent (PLAN_NONE_IDX for the root). Returns its index, or
 * PLAN_NONE_IDX when SIFT_MAX_PLAN_NODES is reached (p->truncated is set then). */
uint32_t plan_add_node(struct plan *p, struct arena *a, uint32_t parent);

/* Append a trigger; NULL when the plan already holds SIFT_MAX_PLAN_NODES of them. */
struct plan_trigger *plan_add_trigger(struct plan *p, struct arena *a);

/* A key/value of a structured format (JSON/YAML/XML key names, spaces not hyphens).
 * Numbers arrive as text and are parsed here; unknown keys are ignored. @worker: the
 * pair is inside a "Workers" entry (per-worker sort/hash figures). */
void plan_node_set(struct plan *p, struct plan_node *n, struct span key, struct span value,
                   bool worker);

/* A JIT summary key ("Functions", "Generation", "Total", ...). */
void plan_jit_set(struct plan *p, struct span key, struct span value);

/* A trigger key ("Trigger Name", "Constraint Name", "Relation", "Time", "Calls"). */
void plan_trigger_set(struct plan_trigger *t, struct span key, struct span value);

/* Fold a text node label ("Parallel Hash Left Join", "Index Scan Backward using i on
 * t x", "Partial HashAggregate") into the node's shape fields. Unknown labels keep the
 * whole label as the type. */
void plan_text_label(struct plan_node *n, struct span label, struct arena *a);

/*
 * The structured formats as a stream of events (plan_events.c): YAML (libyaml's
 * events) and XML (elements) describe the same key tree as JSON ("Plan" -> node,
 * "Plans" -> list of nodes, "Workers", "Triggers", "JIT" -> "Timing"), so one consumer
 * builds the tree from map/sequence starts and ends and scalars. Keys of a map arrive
 * as scalars before their values. Nesting is bounded by the frame stack: deeper values
 * are skipped and the plan is flagged truncated.
 */
#define PLAN_EV_FRAMES (2 * SIFT_MAX_PLAN_DEPTH + 16)

struct plan_ev_frame {
    unsigned char kind;
    uint32_t node; /* node (NODE, PLANS, WORKERS, WORKER, KEYLIST) or trigger index */
    uint32_t skip; /* SKIP: nesting inside the skipped value */
    struct span key;
};

struct plan_events {
    struct plan *p;
    struct arena *a;
    struct plan_ev_frame stack[PLAN_EV_FRAMES];
    size_t depth;
    struct sbuf list; /* the items of the Sort Key / Group Key list being read */
};

void plan_events_init(struct plan_events *e, struct plan *p, struct arena *a);
void plan_events_map_start(struct plan_events *e);
void plan_events_seq_start(struct plan_events *e);
void plan_events_end(struct plan_events *e); /* of a map or a sequence */
void plan_events_scalar(struct plan_events *e, struct span v);
void plan_events_release(struct plan_events *e);

/* Parse a whole span as a non-negative number (EXPLAIN never prints negative ones). */
bool plan_num(struct span s, double *out);

/* Node accessors. */
static inline struct plan_node *plan_node_at(const struct plan *p, uint32_t i)
{
    return i < p->n_nodes ? &p->nodes[i] : NULL;
}

/* Rows the node read per call: (rows + rows removed by filter and recheck) x loops. */
double plan_node_rows_read(const struct plan_node *n);

/* Time the node took per call (actual total time x loops), or PLAN_ABSENT. */
double plan_node_ms(const struct plan_node *n);

/* Type name as EXPLAIN text prints it, with its target: "Seq Scan on events",
 * "Hash Left Join", "Index Scan using t_pkey on t". Appends to @out. */
int plan_node_label(const struct plan_node *n, struct sbuf *out);

/* --- pure functions over the tree --- */

/* The canonical shape text (what the fingerprint hashes) into @out, and its hash. */
uint64_t plan_shape(const struct plan *p, struct sbuf *out);

/* Insights (plan_insight.c) and index suggestions (plan_index.c) into @pa (arena). */
void plan_insights(const struct plan *p, double duration_ms, struct arena *a,
                   struct plan_analysis *pa);
void plan_index_advice(const struct plan *p, struct arena *a, struct plan_analysis *pa);
/* plan_insights() without the texts: the same kinds in the same order, each with no
 * node, explanation, evidence, impact or work_mem (ingest stores only the kinds). */
void plan_insight_kinds(const struct plan *p, double duration_ms, struct arena *a,
                        struct plan_analysis *pa);
/* Whether plan_insights() on @p depends on its duration_ms (only JIT and trigger shares
 * do, and only past their minimum times); false: the insights are the same for any. */
bool plan_insights_use_duration(const struct plan *p);

/* --- conditions (plan_index.c) --- */

enum plan_cond_op { PLAN_COND_EQ = 1, PLAN_COND_RANGE = 2 };

struct plan_cond_col {
    struct span column; /* decoded (quotes removed) */
    enum plan_cond_op op;
};

/* Columns of the relation scanned as @alias/@relation that @cond restricts with an
 * index-usable operator, in order of appearance (at most @max). Top-level AND only;
 * OR branches, functions of columns and LIKE are skipped. Returns the count. */
size_t plan_cond_columns(struct span cond, struct span alias, struct span relation, struct arena *a,
                         struct plan_cond_col *out, size_t max);

/* Insight thresholds (docs/plans.md explains each). */
#define PLAN_SEQ_MIN_ROWS         10000.0 /* rows read per call: a "large" relation */
#define PLAN_SEQ_MAX_SELECTIVITY  0.10    /* at most 10% of the rows read come back */
#define PLAN_MISESTIMATE_FACTOR   10.0    /* estimate and actual rows differ this much */
#define PLAN_MISESTIMATE_MIN_ROWS 100.0   /* the larger of the two, per loop */
#define PLAN_NESTLOOP_MIN_LOOPS   100.0   /* inner seq scan executed this often */
#define PLAN_NESTLOOP_MIN_ROWS    10000.0 /* rows the inner seq scan read in total */
#define PLAN_JIT_MIN_SHARE        0.20    /* JIT time / execution time */
#define PLAN_JIT_MIN_MS           10.0
#define PLAN_TRIGGER_MIN_SHARE    0.10 /* trigger time / execution time */
#define PLAN_TRIGGER_MIN_MS       5.0
/* Index suggestions: random heap fetches cost about random_page_cost / seq_page_cost
 * (4.0 / 1.0 by default) times a sequential read; used to estimate the saving. */
#define PLAN_INDEX_RANDOM_FACTOR 4.0
#define PLAN_INDEX_MAX_COLUMNS   4u

#endif
