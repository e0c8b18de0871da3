/* SPDX-License-Identifier: MIT */
/*
 * rules_int - private to src/rules/: the field tables that define the rule file format
 * (one table per mapping) and the raw structs they fill.
 *
 * The tables are the single definition of the format: rules_load.c validates with them,
 * rules_schema.c prints `pgsift rules explain` and the Markdown reference from them, and
 * the docs test compares docs/rules.md with that output.
 */
#ifndef SIFT_RULES_RULES_INT_H
#define SIFT_RULES_RULES_INT_H

#include <stddef.h>
#include <stdint.h>

#include "core/ydoc.h"
#include "rules/rules.h"

#define KIND_BIT(k) (1u << (k))
#define ALL_KINDS   ((1u << RULE_KIND_COUNT) - 1)
#define SRC_BIT(s)  (1u << (s))
#define ALL_SRCS    ((1u << RSRC_COUNT) - 1)

/* A rule file's top level. */
struct rules_file_raw {
    int64_t version;
    yaml_node_t *defaults;
    yaml_node_t *rules;
};

/* One rule as written, before resolution into struct rule. */
struct rule_raw {
    const char *name, *description, *kind, *source, *metric, *severity;
    bool enabled;
    int64_t window, every, for_, keep_firing_for, resolve_after, lookback, warmup;
    struct ylist group_by, notify;
    yaml_node_t *where, *condition, *baseline, *labels, *annotations;
};

struct where_raw {
    struct ylist in[DIM_COUNT];
    struct ylist step;
    int64_t min_calls;
    double min_total_ms;
    const char *wait_ms, *size_bytes, *tuples_dead, *setup_ms, *slower_by;
};

struct baseline_raw {
    int64_t window, exclude_recent;
};

struct bcond_raw {
    const char *ratio, *min_delta;
    int64_t min_calls, baseline_min_calls;
};

/* A table plus, per field, which kinds (rule fields) or sources (where fields) it
 * applies to, and a longer explanation for `rules explain FIELD`. */
struct rfield_meta {
    unsigned mask;
    const char *more; /* NULL or extra paragraphs */
};

extern const struct yfield rules_file_fields[];
extern const size_t rules_file_nfields;
extern const struct yfield rule_fields[];
extern const struct rfield_meta rule_fields_meta[];
extern const size_t rule_nfields;
/* The keys a file's `defaults:` may set (a subset of rule_fields). */
extern const char *const rule_default_keys[];
extern const struct yfield where_fields[];
extern const struct rfield_meta where_fields_meta[];
extern const size_t where_nfields;
extern const struct yfield baseline_fields[];
extern const size_t baseline_nfields;
extern const struct yfield bcond_fields[];
extern const size_t bcond_nfields;

/* Which sources each kind accepts, and its default. */
unsigned rule_kind_sources(enum rule_kind k);
enum rule_source rule_kind_default_source(enum rule_kind k);
const char *rule_kind_help(enum rule_kind k);
const char *rule_source_help(enum rule_source s);
/* Dimensions and metrics each source offers. */
unsigned rule_source_dims(enum rule_source s);
unsigned rule_metric_sources(enum rule_metric m);
const char *rule_metric_help(enum rule_metric m);
bool rule_metric_from_name(struct span name, enum rule_metric *out);
bool rule_kind_from_name(struct span name, enum rule_kind *out);
bool rule_source_from_name(struct span name, enum rule_source *out);

/* Parse "> 500", ">= 2s", "< 1GiB" for a value in @unit. Returns false when malformed. */
bool rule_cond_parse(struct span s, enum metric_unit unit, struct rule_cond *out);

/* The names a template may use for a rule (built-ins, group_by dims, labels). */
bool rule_tmpl_var_known(const struct rule *r, struct span name);

#endif
