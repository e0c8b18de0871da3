/* SPDX-License-Identifier: MIT */
/*
 * rules_schema - the rule file format as data: field tables, kinds, sources, metrics,
 * dimensions, and the reference printed from them (`pgsift rules explain`, docs).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "rules/rules_int.h"

#define OFF(st, m) offsetof(struct st, m)

static const char *const kind_names[] = { "threshold", "baseline", "new_fingerprint",
                                          "event",     "absence",  NULL };
static const char *const source_names[] = {
    "queries", "errors", "events", "ingest", "plans", NULL
};
static const char *const severity_names[] = { "info", "warning", "critical", NULL };
static const char *const dim_names[] = { "database", "user",           "application", "fingerprint",
                                         "sqlstate", "sqlstate_class", "severity",    "type",
                                         "input",    "cause",          "relation" };
_Static_assert(ARRAY_SIZE(kind_names) == RULE_KIND_COUNT + 1, "kind names");
_Static_assert(ARRAY_SIZE(source_names) == RSRC_COUNT + 1, "source names");
_Static_assert(ARRAY_SIZE(severity_names) == ASEV_COUNT + 1, "severity names");
_Static_assert(ARRAY_SIZE(dim_names) == DIM_COUNT, "dim names");

static const struct {
    const char *name;
    enum metric_unit unit;
    unsigned sources;
    const char *help;
} metrics[] = {
    { "calls", UNIT_COUNT, SRC_BIT(RSRC_QUERIES), "statements executed (logged durations)" },
    { "total_ms", UNIT_MS, SRC_BIT(RSRC_QUERIES), "sum of statement durations" },
    { "mean_ms", UNIT_MS, SRC_BIT(RSRC_QUERIES), "mean statement duration" },
    { "p50_ms", UNIT_MS, SRC_BIT(RSRC_QUERIES),
      "median statement duration, per statement (group_by includes fingerprint)" },
    { "p95_ms", UNIT_MS, SRC_BIT(RSRC_QUERIES),
      "95th percentile of statement durations, per statement (group_by includes "
      "fingerprint)" },
    { "p99_ms", UNIT_MS, SRC_BIT(RSRC_QUERIES),
      "99th percentile of statement durations, per statement (group_by includes "
      "fingerprint)" },
    { "max_ms", UNIT_MS, SRC_BIT(RSRC_QUERIES), "longest statement duration" },
    { "count", UNIT_COUNT, SRC_BIT(RSRC_ERRORS) | SRC_BIT(RSRC_EVENTS),
      "number of matching records" },
    { "rate_per_min", UNIT_RATE, SRC_BIT(RSRC_ERRORS) | SRC_BIT(RSRC_EVENTS),
      "matching records per minute (count / window minutes)" },
    { "sum(size_bytes)", UNIT_BYTES, SRC_BIT(RSRC_EVENTS), "total size of temporary files" },
    { "max(size_bytes)", UNIT_BYTES, SRC_BIT(RSRC_EVENTS), "largest single temporary file" },
    { "sum(wait_ms)", UNIT_MS, SRC_BIT(RSRC_EVENTS), "total lock wait time" },
    { "max(wait_ms)", UNIT_MS, SRC_BIT(RSRC_EVENTS), "longest single lock wait" },
    { "lines", UNIT_COUNT, SRC_BIT(RSRC_INGEST), "log lines read from the input" },
    { "rejects", UNIT_COUNT, SRC_BIT(RSRC_INGEST), "log lines that could not be parsed" },
};
_Static_assert(ARRAY_SIZE(metrics) == MET_COUNT_ALL, "metric table");

static const char *const metric_names[] = {
    "calls",        "total_ms",        "mean_ms",         "p50_ms",
    "p95_ms",       "p99_ms",          "max_ms",          "count",
    "rate_per_min", "sum(size_bytes)", "max(size_bytes)", "sum(wait_ms)",
    "max(wait_ms)", "lines",           "rejects",         NULL,
};
_Static_assert(ARRAY_SIZE(metric_names) == MET_COUNT_ALL + 1, "metric names");

static const struct {
    unsigned sources;
    enum rule_source def;
    const char *help;
} kinds[] = {
    [RULE_THRESHOLD] = { ALL_SRCS & ~SRC_BIT(RSRC_PLANS), RSRC_QUERIES,
                         "a metric over a sliding window compared with a value, per group: "
                         "slow statements (p95_ms), error bursts (errors count), temp-file "
                         "spills (sum(size_bytes)), auth-failure bursts (events count)" },
    [RULE_BASELINE] = { SRC_BIT(RSRC_QUERIES) | SRC_BIT(RSRC_ERRORS) | SRC_BIT(RSRC_EVENTS),
                        RSRC_QUERIES,
                        "the window's metric against the same metric over the previous days "
                        "(ratio, minimum delta and minimum calls on both sides): regressions" },
    [RULE_NEW_FINGERPRINT] = { SRC_BIT(RSRC_QUERIES), RSRC_QUERIES,
                               "a statement shape (fingerprint) that ran in the window but not "
                               "within `lookback` before it, optionally above a cost" },
    [RULE_EVENT] = { SRC_BIT(RSRC_EVENTS) | SRC_BIT(RSRC_ERRORS) | SRC_BIT(RSRC_PLANS), RSRC_EVENTS,
                     "any matching event fires at once: a deadlock, a PANIC, a lock wait above "
                     "N ms, a query whose dominant plan changed and got `slower_by` slower "
                     "(source plans); resolves after `resolve_after` without new matches" },
    [RULE_ABSENCE] = { SRC_BIT(RSRC_INGEST), RSRC_INGEST,
                       "no (or too few) log lines from an input that produced lines before: a "
                       "dead server or a stuck tailer" },
};

static const struct {
    unsigned dims;
    const char *help;
} sources[] = {
    [RSRC_QUERIES] = { (1u << DIM_DATABASE) | (1u << DIM_USER) | (1u << DIM_FINGERPRINT),
                       "per-minute statement aggregates per (database, user, fingerprint) "
                       "with a latency sketch; needs log_min_duration_statement (0 for "
                       "complete counts)" },
    [RSRC_ERRORS] = { (1u << DIM_DATABASE) | (1u << DIM_USER) | (1u << DIM_APPLICATION) |
                          (1u << DIM_FINGERPRINT) | (1u << DIM_SQLSTATE) |
                          (1u << DIM_SQLSTATE_CLASS) | (1u << DIM_SEVERITY),
                      "log records with severity ERROR, FATAL or PANIC, by SQLSTATE" },
    [RSRC_EVENTS] = { (1u << DIM_DATABASE) | (1u << DIM_USER) | (1u << DIM_APPLICATION) |
                          (1u << DIM_FINGERPRINT) | (1u << DIM_SQLSTATE) |
                          (1u << DIM_SQLSTATE_CLASS) | (1u << DIM_SEVERITY) | (1u << DIM_TYPE) |
                          (1u << DIM_CAUSE) | (1u << DIM_RELATION),
                      "classified records (`type`: lock_wait, deadlock, temp_file, "
                      "auth_failure, checkpoint, ...) with their numbers (wait_ms, "
                      "size_bytes, tuples_dead, setup_ms)" },
    [RSRC_INGEST] = { 1u << DIM_INPUT, "lines read and rejected per input source" },
    [RSRC_PLANS] = { (1u << DIM_DATABASE) | (1u << DIM_FINGERPRINT) | (1u << DIM_TYPE),
                     "auto_explain plan records per (database, fingerprint): `type: "
                     "plan_change` is a query whose dominant plan shape changed (the rule of "
                     "`pgsift plans`: runs of at least 3 records), with the mean executor time "
                     "before and after; only kind event; needs auto_explain" },
};

/* ------------------------------------------------------------------------------------
 * Field tables
 */

const struct yfield rules_file_fields[] = {
    { "version", YF_INT, false, "1", "format version; only 1 exists", OFF(rules_file_raw, version),
      NULL },
    { "defaults", YF_NODE, false, NULL,
      "values applied to every rule of this file that does not set them: every, window, for, "
      "keep_firing_for, resolve_after, severity, labels (merged), notify",
      OFF(rules_file_raw, defaults), NULL },
    { "rules", YF_NODE, true, NULL, "the list of rules", OFF(rules_file_raw, rules), NULL },
};
const size_t rules_file_nfields = ARRAY_SIZE(rules_file_fields);

#define K(x) KIND_BIT(RULE_##x)
const struct yfield rule_fields[] = {
    { "name", YF_STRING, true, NULL,
      "unique rule name: a lower-case letter, then letters, digits or `_`", OFF(rule_raw, name),
      NULL },
    { "kind", YF_CHOICE, true, NULL, "what the rule watches (see the kinds above)",
      OFF(rule_raw, kind), kind_names },
    { "description", YF_STRING, false, NULL, "free text for people reading the file",
      OFF(rule_raw, description), NULL },
    { "enabled", YF_BOOL, false, "true", "false keeps the rule in the file but never evaluates it",
      OFF(rule_raw, enabled), NULL },
    { "source", YF_CHOICE, false, NULL,
      "the data the rule reads; default queries (threshold, baseline, new_fingerprint), "
      "events (event), ingest (absence)",
      OFF(rule_raw, source), source_names },
    { "metric", YF_CHOICE, false, NULL,
      "what is measured over the window (must belong to the source); required for threshold "
      "and baseline, default lines for absence",
      OFF(rule_raw, metric), metric_names },
    { "window", YF_DURATION, false, "5m",
      "span the metric is computed over, ending at the evaluation time; whole minutes",
      OFF(rule_raw, window), NULL },
    { "every", YF_DURATION, false, "1m",
      "evaluation interval, at minute boundaries of event time; whole minutes",
      OFF(rule_raw, every), NULL },
    { "group_by", YF_STRING_LIST, false, NULL,
      "dimensions that make one alert instance each (see sources); default: none (one "
      "instance), [database, fingerprint] for new_fingerprint, [input] for absence",
      OFF(rule_raw, group_by), NULL },
    { "where", YF_NODE, false, NULL, "filters applied before grouping (see `where` fields)",
      OFF(rule_raw, where), NULL },
    { "condition", YF_NODE, false, NULL,
      "threshold/absence: a comparison like `> 500`, `>= 2s`, `> 1GiB`, `< 1` in the metric's "
      "unit (absence default `< 1`); baseline: a mapping (see `condition` fields)",
      OFF(rule_raw, condition), NULL },
    { "baseline", YF_NODE, false, NULL,
      "baseline: the period compared with (see `baseline` "
      "fields)",
      OFF(rule_raw, baseline), NULL },
    { "lookback", YF_DURATION, false, "30d",
      "new_fingerprint: a fingerprint is new when it did not run within this span before the "
      "window; absence: inputs that produced lines within this span are watched; event on "
      "source plans: the plan records of this span before the evaluation are compared",
      OFF(rule_raw, lookback), NULL },
    { "warmup", YF_DURATION, false, "1d",
      "new_fingerprint: no alerts until the store holds this much history", OFF(rule_raw, warmup),
      NULL },
    { "for", YF_DURATION, false, "0s",
      "the condition must hold at every evaluation for this long before the alert fires "
      "(pending until then)",
      OFF(rule_raw, for_), NULL },
    { "keep_firing_for", YF_DURATION, false, "0s",
      "keep firing (state recovering) for this long after the first evaluation the "
      "condition fails, as Prometheus, against flapping",
      OFF(rule_raw, keep_firing_for), NULL },
    { "resolve_after", YF_DURATION, false, "15m",
      "event/new_fingerprint: resolve after this long without a new match",
      OFF(rule_raw, resolve_after), NULL },
    { "severity", YF_CHOICE, false, "warning", "sent with every notification; routes may match it",
      OFF(rule_raw, severity), severity_names },
    { "labels", YF_NODE, false, NULL,
      "extra identifying labels (key: value); merged over `defaults.labels`", OFF(rule_raw, labels),
      NULL },
    { "annotations", YF_NODE, false, NULL,
      "texts sent with the alert (summary, runbook ...), templated: `{{ value | ms }}`, "
      "`{{ database }}`, `{{ query | truncate(120) }}`",
      OFF(rule_raw, annotations), NULL },
    { "notify", YF_STRING_LIST, false, NULL,
      "receiver names; overrides the route (pgsift.yaml `route:`)", OFF(rule_raw, notify), NULL },
};
const struct rfield_meta rule_fields_meta[] = {
    { ALL_KINDS, NULL },
    { ALL_KINDS, NULL },
    { ALL_KINDS, NULL },
    { ALL_KINDS, NULL },
    { ALL_KINDS, NULL },
    { K(THRESHOLD) | K(BASELINE) | K(ABSENCE),
      "Metrics by source: queries: calls, total_ms, mean_ms, p50_ms, p95_ms, p99_ms, max_ms; "
      "errors: count, rate_per_min; events: count, rate_per_min, sum(size_bytes), "
      "max(size_bytes), sum(wait_ms), max(wait_ms); ingest: lines, rejects. Percentiles "
      "(p50_ms, p95_ms, p99_ms) are kept per statement: their rules group by fingerprint." },
    { K(THRESHOLD) | K(BASELINE) | K(NEW_FINGERPRINT) | K(ABSENCE),
      "The metric at evaluation time t covers [t - window, t)." },
    { ALL_KINDS,
      "Evaluations happen at t = multiples of `every` since the epoch, once the watermark "
      "(newest event time minus the allowed lateness) has passed t, so live tailing and a "
      "replay of the same logs evaluate the same instants." },
    { ALL_KINDS, NULL },
    { ALL_KINDS, NULL },
    { K(THRESHOLD) | K(BASELINE) | K(ABSENCE), NULL },
    { K(BASELINE), NULL },
    { K(NEW_FINGERPRINT) | K(ABSENCE) | K(EVENT),
      "For an event rule only with `source: plans`. There at most the newest 2000 plan records "
      "of a query (SIFT_MAX_PLAN_RULE_CALLS) are read at each evaluation." },
    { K(NEW_FINGERPRINT), NULL },
    { ALL_KINDS, "An instance that clears while pending never notifies." },
    { K(THRESHOLD) | K(BASELINE) | K(ABSENCE), NULL },
    { K(EVENT) | K(NEW_FINGERPRINT), NULL },
    { ALL_KINDS, NULL },
    { ALL_KINDS,
      "Instance identity is the rule name, the group_by values and these labels; label names "
      "may not reuse a dimension name, `rule` or `severity`." },
    { ALL_KINDS,
      "Variables: rule, severity, value, threshold, window, baseline, ratio, calls, query (the "
      "normalized statement text, when grouped by fingerprint), the group_by dimensions and "
      "the labels; rules on source plans also from_plan, to_plan (plan shape fingerprints, "
      "as `pgsift plans --show` takes them), before_ms, after_ms (mean executor time on "
      "either side of the change), slower_by (after / before; also `value`), calls_before, "
      "calls_after, changed_at (RFC 3339, the first record of the new plan). Filters: ms, "
      "bytes, round(N), truncate(N), upper, lower. Payloads never carry literal values: query "
      "is normalized text." },
    { ALL_KINDS, NULL },
};
#undef K
const size_t rule_nfields = ARRAY_SIZE(rule_fields);
_Static_assert(ARRAY_SIZE(rule_fields) == ARRAY_SIZE(rule_fields_meta), "rule field meta");

const char *const rule_default_keys[] = { "window",          "every",         "for",
                                          "keep_firing_for", "resolve_after", "severity",
                                          "labels",          "notify",        NULL };

#define S(x)  SRC_BIT(RSRC_##x)
#define WL(d) OFF(where_raw, in) + (d) * sizeof(struct ylist)
const struct yfield where_fields[] = {
    { "database", YF_STRING_LIST, false, NULL, "database names (any of)", WL(DIM_DATABASE), NULL },
    { "user", YF_STRING_LIST, false, NULL, "user (role) names", WL(DIM_USER), NULL },
    { "application", YF_STRING_LIST, false, NULL, "application_name values", WL(DIM_APPLICATION),
      NULL },
    { "fingerprint", YF_STRING_LIST, false, NULL, "statement fingerprints (16 hex digits)",
      WL(DIM_FINGERPRINT), NULL },
    { "sqlstate", YF_STRING_LIST, false, NULL, "SQLSTATE codes (5 characters, e.g. 40P01)",
      WL(DIM_SQLSTATE), NULL },
    { "sqlstate_class", YF_STRING_LIST, false, NULL,
      "SQLSTATE classes (2 characters, e.g. 08, 23, 40, 53, 57, 58, XX)", WL(DIM_SQLSTATE_CLASS),
      NULL },
    { "severity", YF_STRING_LIST, false, NULL, "log severities (ERROR, FATAL, PANIC, LOG ...)",
      WL(DIM_SEVERITY), NULL },
    { "type", YF_STRING_LIST, false, NULL,
      "event kinds as `pgsift parse` names them (deadlock, lock_wait, temp_file ...)", WL(DIM_TYPE),
      NULL },
    { "step", YF_STRING_LIST, false, NULL,
      "which record of an occurrence logged twice: `start` (checkpoint starting, lock still "
      "waiting, shutdown request) or `end` (checkpoint complete, lock acquired, shut down); "
      "records without a step never match",
      OFF(where_raw, step), NULL },
    { "input", YF_STRING_LIST, false, NULL, "input source names", WL(DIM_INPUT), NULL },
    { "cause", YF_STRING_LIST, false, NULL,
      "an event's cause, as `pgsift events` shows it (timeout: `lock_timeout`, "
      "`statement_timeout`, `idle_in_transaction_session_timeout` ...; cancel: "
      "`user_request`, `autovacuum` ...; checkpoint: `time`, `wal` ...); records without a "
      "cause never match",
      WL(DIM_CAUSE), NULL },
    { "relation", YF_STRING_LIST, false, NULL,
      "an autovacuum's or autoanalyze's table, `db.schema.table` as the log names it; "
      "records without one never match",
      WL(DIM_RELATION), NULL },
    { "min_calls", YF_INT, false, "0", "ignore groups with fewer calls in the window",
      OFF(where_raw, min_calls), NULL },
    { "min_total_ms", YF_NUMBER, false, "0",
      "ignore groups whose statements took less time in total in the window",
      OFF(where_raw, min_total_ms), NULL },
    { "wait_ms", YF_STRING, false, NULL, "only lock waits matching a comparison, e.g. `> 5000`",
      OFF(where_raw, wait_ms), NULL },
    { "size_bytes", YF_STRING, false, NULL,
      "only temporary files matching a comparison, e.g. `> 1GiB`", OFF(where_raw, size_bytes),
      NULL },
    { "tuples_dead", YF_STRING, false, NULL,
      "only autovacuum runs that left this many dead tuples they could not remove (an old "
      "snapshot, prepared transaction or replication slot holds them back), e.g. `> 100000`",
      OFF(where_raw, tuples_dead), NULL },
    { "setup_ms", YF_STRING, false, NULL,
      "only PostgreSQL 18 connections (type connection_ready) whose setup took this long, "
      "from the accepted connection to the first query, e.g. `> 500` or `> 1s`",
      OFF(where_raw, setup_ms), NULL },
    { "slower_by", YF_STRING, false, NULL,
      "plan changes only when the mean executor time after the change is at least this "
      "multiple of the time before: `2x`, `1.5x` (or `2`)",
      OFF(where_raw, slower_by), NULL },
};
const struct rfield_meta where_fields_meta[] = {
    { S(QUERIES) | S(ERRORS) | S(EVENTS) | S(PLANS), NULL },
    { S(QUERIES) | S(ERRORS) | S(EVENTS), NULL },
    { S(ERRORS) | S(EVENTS), NULL },
    { S(QUERIES) | S(ERRORS) | S(EVENTS) | S(PLANS), NULL },
    { S(ERRORS) | S(EVENTS), NULL },
    { S(ERRORS) | S(EVENTS), NULL },
    { S(ERRORS) | S(EVENTS), NULL },
    { S(EVENTS) | S(PLANS), "On source plans the only type is plan_change (the default)." },
    { S(EVENTS),
      "One checkpoint (or restartpoint) logs `checkpoint starting` and `checkpoint complete`: "
      "`step: [end]` counts each once; a `checkpoints are occurring too frequently` hint has "
      "no step. A lock wait logs `still waiting` (start) and `acquired` or `failed to "
      "acquire` (end); `detected deadlock while waiting` and `avoided deadlock` are start. "
      "`pgsift events` shows the step of each record." },
    { S(INGEST), NULL },
    { S(EVENTS),
      "A lock wait that ends in lock_timeout logs `still waiting` and then the timeout, with "
      "no length: `type: [timeout]` with `cause: [lock_timeout]` catches it (the shipped "
      "rule lock_timeout). `pgsift events` shows the cause of each record." },
    { S(EVENTS), NULL },
    { S(QUERIES) | S(PLANS),
      "On source plans: the plan records on each side of the change (at least 3 each in any "
      "case)." },
    { S(QUERIES), NULL },
    { S(EVENTS), NULL },
    { S(EVENTS), NULL },
    { S(EVENTS), NULL },
    { S(EVENTS),
      "Set `log_connections` to include `setup_durations` (PostgreSQL 18) for these records; "
      "`pgsift events --kind connection_ready` shows each connection's setup_ms, fork_ms "
      "and auth_ms." },
    { S(PLANS), NULL },
};
#undef S
#undef WL
const size_t where_nfields = ARRAY_SIZE(where_fields);
_Static_assert(ARRAY_SIZE(where_fields) == ARRAY_SIZE(where_fields_meta), "where meta");

const struct yfield baseline_fields[] = {
    { "window", YF_DURATION, false, "7d",
      "length of the baseline period; a period of a day or more ends at a whole hour (it is "
      "read once an hour, not every minute)",
      OFF(baseline_raw, window), NULL },
    { "exclude_recent", YF_DURATION, false, NULL,
      "gap between the baseline period and the evaluation time; default: the rule's window, "
      "so the baseline is the `window` before the current one",
      OFF(baseline_raw, exclude_recent), NULL },
};
const size_t baseline_nfields = ARRAY_SIZE(baseline_fields);

const struct yfield bcond_fields[] = {
    { "ratio", YF_STRING, true, NULL,
      "comparison of value / baseline, e.g. `>= 2.0` (slower) or `<= 0.5` (fewer); for a "
      "count or a sum (calls, total_ms, count, sum(...)) the baseline is its period's total "
      "brought to the window's length (the same rate)",
      OFF(bcond_raw, ratio), NULL },
    { "min_delta", YF_STRING, false, "0",
      "value - baseline must also be at least this, in the metric's unit (`100ms`, `50`)",
      OFF(bcond_raw, min_delta), NULL },
    { "min_calls", YF_INT, false, "1", "calls (or records) needed in the window",
      OFF(bcond_raw, min_calls), NULL },
    { "baseline_min_calls", YF_INT, false, "100",
      "calls (or records) needed in the baseline period, so new or rare statements do not fire",
      OFF(bcond_raw, baseline_min_calls), NULL },
};
const size_t bcond_nfields = ARRAY_SIZE(bcond_fields);

/* ------------------------------------------------------------------------------------
 * Names
 */

const char *rule_kind_name(enum rule_kind k)
{
    return (unsigned)k < RULE_KIND_COUNT ? kind_names[k] : "?";
}

const char *rule_source_name(enum rule_source s)
{
    return (unsigned)s < RSRC_COUNT ? source_names[s] : "?";
}

const char *rule_dim_name(enum rule_dim d)
{
    return (unsigned)d < DIM_COUNT ? dim_names[d] : "?";
}

const char *rule_metric_name(enum rule_metric m)
{
    return (unsigned)m < MET_COUNT_ALL ? metrics[m].name : "?";
}

enum metric_unit rule_metric_unit(enum rule_metric m)
{
    return (unsigned)m < MET_COUNT_ALL ? metrics[m].unit : UNIT_COUNT;
}

const char *rule_metric_help(enum rule_metric m)
{
    return (unsigned)m < MET_COUNT_ALL ? metrics[m].help : "?";
}

unsigned rule_metric_sources(enum rule_metric m)
{
    return (unsigned)m < MET_COUNT_ALL ? metrics[m].sources : 0;
}

const char *alert_severity_name(enum alert_severity s)
{
    return (unsigned)s < ASEV_COUNT ? severity_names[s] : "?";
}

unsigned rule_kind_sources(enum rule_kind k)
{
    return kinds[k].sources;
}

enum rule_source rule_kind_default_source(enum rule_kind k)
{
    return kinds[k].def;
}

const char *rule_kind_help(enum rule_kind k)
{
    return kinds[k].help;
}

const char *rule_source_help(enum rule_source s)
{
    return sources[s].help;
}

unsigned rule_source_dims(enum rule_source s)
{
    return sources[s].dims;
}

static bool lookup(const char *const *names, size_t n, struct span name, unsigned *out)
{
    for (size_t i = 0; i < n; i++) {
        if (names[i] && span_eq(name, span_cstr(names[i]))) {
            *out = (unsigned)i;
            return true;
        }
    }
    return false;
}

bool rule_dim_from_name(struct span name, enum rule_dim *out)
{
    unsigned i;
    if (!lookup(dim_names, DIM_COUNT, name, &i))
        return false;
    *out = (enum rule_dim)i;
    return true;
}

bool alert_severity_from_name(struct span name, enum alert_severity *out)
{
    unsigned i;
    if (!lookup(severity_names, ASEV_COUNT, name, &i))
        return false;
    *out = (enum alert_severity)i;
    return true;
}

bool rule_metric_from_name(struct span name, enum rule_metric *out)
{
    unsigned i;
    if (!lookup(metric_names, MET_COUNT_ALL, name, &i))
        return false;
    *out = (enum rule_metric)i;
    return true;
}

bool rule_kind_from_name(struct span name, enum rule_kind *out)
{
    unsigned i;
    if (!lookup(kind_names, RULE_KIND_COUNT, name, &i))
        return false;
    *out = (enum rule_kind)i;
    return true;
}

bool rule_source_from_name(struct span name, enum rule_source *out)
{
    unsigned i;
    if (!lookup(source_names, RSRC_COUNT, name, &i))
        return false;
    *out = (enum rule_source)i;
    return true;
}

const char *rule_cmp_name(enum rule_cmp op)
{
    static const char *const n[] = { "", ">", ">=", "<", "<=", "==", "!=" };
    return (unsigned)op < ARRAY_SIZE(n) ? n[op] : "?";
}

bool rule_cond_holds(const struct rule_cond *c, double v)
{
    switch (c->op) {
    case CMP_NONE: return true;
    case CMP_GT: return v > c->value;
    case CMP_GE: return v >= c->value;
    case CMP_LT: return v < c->value;
    case CMP_LE: return v <= c->value;
    case CMP_EQ: return v == c->value;
    case CMP_NE: return v != c->value;
    }
    return false;
}

bool rule_cond_parse(struct span s, enum metric_unit unit, struct rule_cond *out)
{
    static const struct {
        const char *text;
        enum rule_cmp op;
    } ops[] = {
        { ">=", CMP_GE }, { "<=", CMP_LE }, { "==", CMP_EQ }, { "!=", CMP_NE },
        { ">", CMP_GT },  { "<", CMP_LT },  { "=", CMP_EQ },
    };
    size_t i;

    s = span_trim(s);
    for (i = 0; i < ARRAY_SIZE(ops); i++)
        if (span_starts_with(s, span_cstr(ops[i].text)))
            break;
    if (i == ARRAY_SIZE(ops))
        return false;
    struct span v = span_trim(span_sub(s, strlen(ops[i].text), s.len));
    double num;
    int64_t n64;

    if (v.len == 0)
        return false;
    switch (unit) {
    case UNIT_MS:
        if (span_to_double(v, &num))
            break;
        if (!ydoc_parse_duration(v, &n64))
            return false;
        num = (double)n64 / 1000.0;
        break;
    case UNIT_BYTES:
        if (!ydoc_parse_size(v, &n64))
            return false;
        num = (double)n64;
        break;
    case UNIT_COUNT:
    case UNIT_RATE:
        if (!span_to_double(v, &num))
            return false;
        break;
    }
    if (num != num || num < -1e300 || num > 1e300)
        return false;
    out->op = ops[i].op;
    out->value = num;
    return true;
}

/* ------------------------------------------------------------------------------------
 * Reference output
 */

static void mask_list(FILE *out, unsigned mask, const char *const *names, unsigned n)
{
    bool first = true;
    for (unsigned i = 0; i < n; i++) {
        if (!(mask & (1u << i)))
            continue;
        fprintf(out, "%s%s", first ? "" : ", ", names[i]);
        first = false;
    }
}

static void md_applies_table(FILE *out)
{
    fprintf(out, "| key |");
    for (unsigned k = 0; k < RULE_KIND_COUNT; k++)
        fprintf(out, " %s |", kind_names[k]);
    fprintf(out, "\n|---|");
    for (unsigned k = 0; k < RULE_KIND_COUNT; k++)
        fprintf(out, "---|");
    fputc('\n', out);
    for (size_t i = 0; i < rule_nfields; i++) {
        fprintf(out, "| `%s` |", rule_fields[i].name);
        for (unsigned k = 0; k < RULE_KIND_COUNT; k++)
            fprintf(out, " %s |", rule_fields_meta[i].mask & KIND_BIT(k) ? "yes" : "");
        fputc('\n', out);
    }
}

void rules_reference_markdown(FILE *out)
{
    fprintf(out, "### Kinds\n\n| kind | sources | what it does |\n|---|---|---|\n");
    for (unsigned k = 0; k < RULE_KIND_COUNT; k++) {
        fprintf(out, "| `%s` | ", kind_names[k]);
        mask_list(out, kinds[k].sources, source_names, RSRC_COUNT);
        fprintf(out, " | %s |\n", kinds[k].help);
    }
    fprintf(out, "\n### Sources, dimensions and metrics\n\n"
                 "| source | group_by / where dimensions | metrics | data |\n|---|---|---|---|\n");
    for (unsigned s = 0; s < RSRC_COUNT; s++) {
        fprintf(out, "| `%s` | ", source_names[s]);
        mask_list(out, sources[s].dims, dim_names, DIM_COUNT);
        fprintf(out, " | ");
        bool first = true;
        for (unsigned m = 0; m < MET_COUNT_ALL; m++) {
            if (!(metrics[m].sources & SRC_BIT(s)))
                continue;
            fprintf(out, "%s`%s`", first ? "" : ", ", metrics[m].name);
            first = false;
        }
        if (first)
            fprintf(out, "none (event rules)");
        fprintf(out, " | %s |\n", sources[s].help);
    }
    fprintf(out, "\n| metric | unit | meaning |\n|---|---|---|\n");
    for (unsigned m = 0; m < MET_COUNT_ALL; m++) {
        static const char *const units[] = { "count", "ms", "bytes", "per minute" };
        fprintf(out, "| `%s` | %s | %s |\n", metrics[m].name, units[metrics[m].unit],
                metrics[m].help);
    }
    fprintf(out, "\n### File\n\n");
    ydoc_fields_markdown(out, rules_file_fields, rules_file_nfields);
    fprintf(out, "\n### Rule fields\n\n");
    ydoc_fields_markdown(out, rule_fields, rule_nfields);
    fprintf(out, "\nWhich keys apply to which kind (a key set on another kind is an error):\n\n");
    md_applies_table(out);
    fprintf(out, "\n### `where` fields\n\n");
    ydoc_fields_markdown(out, where_fields, where_nfields);
    fprintf(out, "\nSources each `where` key applies to:");
    for (size_t i = 0; i < where_nfields; i++) {
        fprintf(out, "%s `%s`: ", i ? ";" : "", where_fields[i].name);
        mask_list(out, where_fields_meta[i].mask, source_names, RSRC_COUNT);
    }
    fprintf(out, ".\n\n### `baseline` fields (kind baseline)\n\n");
    ydoc_fields_markdown(out, baseline_fields, baseline_nfields);
    fprintf(out, "\n### `condition` fields (kind baseline)\n\n");
    ydoc_fields_markdown(out, bcond_fields, bcond_nfields);
    rules_config_reference_markdown(out);
}

static void field_text(FILE *out, const char *prefix, const struct yfield *f,
                       const struct rfield_meta *meta, const char *const *mask_names,
                       unsigned mask_n, const char *mask_what)
{
    fprintf(out, "%s%s\n", prefix, f->name);
    fprintf(out, "  %s\n", f->help);
    if (f->type == YF_CHOICE) {
        fprintf(out, "  one of:");
        for (const char *const *c = f->choices; *c; c++)
            fprintf(out, " %s", *c);
        fputc('\n', out);
    }
    fprintf(out, "  required: %s", f->required ? "yes" : "no");
    if (f->def)
        fprintf(out, ", default: %s", f->def);
    fputc('\n', out);
    if (meta) {
        fprintf(out, "  %s: ", mask_what);
        mask_list(out, meta->mask, mask_names, mask_n);
        fputc('\n', out);
        if (meta->more)
            fprintf(out, "  %s\n", meta->more);
    }
}

static bool explain_in(FILE *out, const char *prefix, const struct yfield *t, size_t n,
                       const struct rfield_meta *meta, const char *const *mask_names,
                       unsigned mask_n, const char *mask_what, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(t[i].name, name))
            continue;
        field_text(out, prefix, &t[i], meta ? &meta[i] : NULL, mask_names, mask_n, mask_what);
        return true;
    }
    return false;
}

bool rules_explain(FILE *out, const char *topic)
{
    struct span t = span_cstr(topic);
    enum rule_kind k;
    enum rule_source s;
    enum rule_metric m;

    if (!topic) {
        fprintf(out, "A rule file is a mapping with `version`, optional `defaults` and a list "
                     "of `rules`.\n\nKinds:\n");
        for (unsigned i = 0; i < RULE_KIND_COUNT; i++)
            fprintf(out, "  %-16s %s\n", kind_names[i], kinds[i].help);
        fprintf(out, "\nSources:\n");
        for (unsigned i = 0; i < RSRC_COUNT; i++)
            fprintf(out, "  %-16s %s\n", source_names[i], sources[i].help);
        fprintf(out, "\nRule keys:");
        for (size_t i = 0; i < rule_nfields; i++)
            fprintf(out, " %s", rule_fields[i].name);
        fprintf(out, "\n\nMore: pgsift rules explain KIND | SOURCE | METRIC | KEY | where.KEY | "
                     "baseline.KEY | condition.KEY | receiver.KEY | route.KEY\n"
                     "      pgsift rules explain --markdown   (the whole reference)\n");
        return true;
    }
    if (rule_kind_from_name(t, &k)) {
        fprintf(out, "kind %s: %s\n\nsources: ", kind_names[k], kinds[k].help);
        mask_list(out, kinds[k].sources, source_names, RSRC_COUNT);
        fprintf(out, " (default %s)\n\nkeys:\n", source_names[kinds[k].def]);
        for (size_t i = 0; i < rule_nfields; i++) {
            if (!(rule_fields_meta[i].mask & KIND_BIT(k)))
                continue;
            const struct yfield *f = &rule_fields[i];
            fprintf(out, "  %-16s %s%s%s%s%s\n", f->name, f->required ? "(required) " : "",
                    f->def ? "(default " : "", f->def ? f->def : "", f->def ? ") " : "", f->help);
        }
        return true;
    }
    if (rule_source_from_name(t, &s)) {
        fprintf(out, "source %s: %s\n\ndimensions: ", source_names[s], sources[s].help);
        mask_list(out, sources[s].dims, dim_names, DIM_COUNT);
        fprintf(out, "\nmetrics:\n");
        bool any = false;
        for (unsigned i = 0; i < MET_COUNT_ALL; i++)
            if (metrics[i].sources & SRC_BIT(s)) {
                fprintf(out, "  %-16s %s\n", metrics[i].name, metrics[i].help);
                any = true;
            }
        if (!any)
            fprintf(out, "  none: only event rules read this source\n");
        return true;
    }
    if (rule_metric_from_name(t, &m)) {
        fprintf(out, "metric %s: %s\nsources: ", metrics[m].name, metrics[m].help);
        mask_list(out, metrics[m].sources, source_names, RSRC_COUNT);
        fputc('\n', out);
        return true;
    }
    if (explain_in(out, "", rule_fields, rule_nfields, rule_fields_meta, kind_names,
                   RULE_KIND_COUNT, "kinds", topic))
        return true;
    if (!strncmp(topic, "where.", 6) &&
        explain_in(out, "where.", where_fields, where_nfields, where_fields_meta, source_names,
                   RSRC_COUNT, "sources", topic + 6))
        return true;
    if (!strncmp(topic, "baseline.", 9) &&
        explain_in(out, "baseline.", baseline_fields, baseline_nfields, NULL, NULL, 0, NULL,
                   topic + 9))
        return true;
    if (!strncmp(topic, "condition.", 10) &&
        explain_in(out, "condition.", bcond_fields, bcond_nfields, NULL, NULL, 0, NULL, topic + 10))
        return true;
    if (rules_config_explain(out, topic))
        return true;
    return false;
}
