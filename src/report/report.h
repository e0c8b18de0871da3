/* SPDX-License-Identifier: MIT */
/*
 * report - the daily report: a data model of one period (a local day, or --since/--until),
 * analysed (rankings, regressions against a 7-day baseline, new query shapes) and written
 * as one self-contained HTML file, GitHub-flavoured Markdown or JSON. The three writers
 * read the same model, so they show the same numbers.
 *
 * Owns: everything hanging off struct report. Strings are copied into r->mem (an arena);
 * arrays are heap. Nothing borrowed from the caller survives a report_* call.
 *
 * Calling sequence:
 *   report_init(&r) -> report_set_period() -> fill (report_from_store(), or by hand with
 *   report_str()/report_add_*()) -> report_analyze() -> report_render() [-> report_write_file()]
 *   -> report_release()
 *
 * Tenant data: query texts in the model are normalized ($n placeholders). Error samples,
 * reject samples and statement samples may hold literal values; the writers redact them
 * (report_redact()) unless REPORT_KEEP_LITERALS is set.
 *
 * Numbers: durations in milliseconds, sizes in bytes, session and vacuum times in seconds.
 * A number the period does not have (p95 of no calls, a comparison with a day without
 * data) is NaN and is written as "–" (HTML, Markdown) or null (JSON).
 */
#ifndef SIFT_REPORT_REPORT_H
#define SIFT_REPORT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/compat.h"
#include "core/diag.h"
#include "core/sbuf.h"
#include "core/span.h"
#include "core/tz.h"
#include "core/ydoc.h"
#include "event.h"

/* Buckets of the time series: one per hour for a day (23, 24 or 25 with DST); longer
 * periods get wider buckets so there are never more than this many. */
#define REPORT_MAX_BUCKETS 48

/* Days in the trend: the report's day and the seven before it. */
#define REPORT_TREND_DAYS 8
/* Rows of the slowest executions, and of the time by database and user. */
#define REPORT_SLOWEST 20
#define REPORT_TIME_BY 50
/* Error groups (SQLSTATE, severity, message) listed, the most frequent first; the rest
 * are counted in one line (report_errors_rest()): a log of 20 000 "role ... does not
 * exist" keeps the report in its size. The classes count every error. */
#define REPORT_ERRORS_SHOWN 100

/* Headline figures, in this order everywhere. */
enum report_figure {
    RF_RECORDS = 0, /* log records read in the period */
    RF_CALLS,       /* executed statements with a duration */
    RF_DURATION_MS, /* their total time */
    RF_P95_MS,      /* p95 of their durations */
    RF_ERRORS,      /* records of severity ERROR, FATAL or PANIC */
    RF_REJECTS,     /* lines that could not be parsed */
    RF_COUNT
};

/* JSON key ("records", "calls", "duration_ms", "p95_ms", "errors", "rejects") and label. */
const char *report_figure_key(enum report_figure f);
const char *report_figure_label(enum report_figure f);

struct report_figures {
    double v[RF_COUNT]; /* NaN: unknown */
};

/* One bucket of the time series. */
struct report_bucket {
    int64_t start_us; /* UTC; the bucket ends where the next one starts (or at period.to) */
    uint64_t calls;
    double duration_ms;
    double p95_ms;   /* NaN when no calls */
    uint64_t errors; /* ERROR, FATAL, PANIC */
    uint64_t events[EV_KIND_COUNT];
};

/* One day of the trend (local day in the report's time zone). */
struct report_day {
    int64_t start_us;
    bool present; /* the store has data for that day */
    struct report_figures f;
};

struct report_query_id {
    int64_t id;
    uint64_t calls;
    double total_ms; /* execute time of those calls */
};

/* A query shape (fingerprint) over the period: the fields of `pgsift top --format json`
 * plus what the report adds. */
struct report_query {
    uint64_t fingerprint;
    struct span text;   /* normalized SQL */
    struct span sample; /* one raw statement (literals!), SPAN_NULL if none kept */
    uint64_t calls;
    double total_ms, min_ms, max_ms, p50_ms, p95_ms, p99_ms;
    double stddev_ms;
    uint64_t errors;                     /* failed executions attributed to this shape */
    int64_t first_seen_us, last_seen_us; /* ever (store), INT64_MIN when unknown */
    struct span *databases;
    size_t ndatabases;
    struct span *users;
    size_t nusers;
    struct report_query_id *query_ids;
    size_t nquery_ids;
    double *bucket_calls; /* nbuckets values (sparkline), or NULL */
    /* The 7 days before the period (per day averages over the days with data). */
    int base_days;        /* days of baseline data; 0 = no baseline */
    double base_calls;    /* calls per day */
    double base_total_ms; /* total time per day */
    double base_p95_ms;   /* p95 over the baseline window; NaN when none */
    /* What else happened to this shape. */
    uint64_t temp_files;
    double temp_bytes;
    uint64_t lock_waits;
    double lock_wait_ms;
    uint64_t plans; /* auto_explain plans logged */
};

/* A counted thing with optional numbers: a lock mode, a checkpoint cause, a relation, a
 * database, a cancel reason ... Which numbers mean what is said where each list is. */
struct report_item {
    struct span key;
    struct span detail; /* second column (lock object, user ...), SPAN_NULL if none */
    uint64_t count;
    double sum, max; /* of the list's number; NaN when the kind has none */
    double sum2;     /* a second number (tuples removed ...); NaN when none */
    double sum3;     /* a third (pages removed); NaN when none */
    double max2;     /* a second maximum (dead tuples not yet removable); NaN when none */
};

struct report_items {
    struct report_item *v;
    size_t n, alloc;
    /* Past the list (items_finish() keeps the largest): how many entries and their total
     * count, and what they are, for the line that says so ("12 more hosts (40
     * sessions) are not listed"). */
    size_t rest;
    uint64_t rest_count;
    const char *rows, *counted;
    /* from_store.c's index of v by key and detail while the list fills (slot: index
     * + 1, 0 empty; a power of two of them, at most half used) */
    uint32_t *ix;
    size_t ixcap;
};

/* Summary of a number across events: count, sum, max, p95 (NaN when unknown). */
struct report_stat {
    uint64_t n;
    double sum, max, p95;
};

/* A histogram with fixed upper bounds (the last bucket is "above the last bound"). */
#define REPORT_HIST_MAX 16
struct report_hist {
    size_t n;                      /* bounds; counts has n + 1 entries */
    double upper[REPORT_HIST_MAX]; /* ascending, in the list's unit */
    uint64_t count[REPORT_HIST_MAX + 1];
};

struct report_error {
    char sqlstate[6];
    enum event_severity severity;
    uint64_t count;
    struct span message; /* normalized (literals already replaced) */
    struct span sample;  /* one full message (literals!) */
};

struct report_reject {
    struct span source, reason;
    uint64_t count;
    uint64_t sample_line; /* line of samples[0] in its source, 0 if unknown */
    struct span *samples; /* literals! */
    size_t nsamples;
};

/* An alert episode (firing until resolved) that overlaps the period. */
struct report_alert {
    struct span rule, severity, status; /* status at the end of the period: firing | resolved */
    struct span labels;                 /* "database=acme, user=app" */
    struct span summary;                /* annotation (literals!) */
    int64_t starts_us, ends_us;         /* ends_us INT64_MIN while firing at the end */
    double value;
    bool fired_in_period, resolved_in_period; /* else it started before / ends after */
    uint64_t notified, failed;                /* notifications delivered / failed for good */
};

/* Alerts per rule over the period (every episode, also those not listed). */
struct report_alert_rule {
    struct span rule;
    uint64_t fired, resolved, firing_at_end;
};

/* An auto_explain plan shape of a query seen in the period (store_plans()). Its numbers
 * are those of every plan of that shape the store holds. */
struct report_plan {
    uint64_t fingerprint, plan_fp;
    struct span query; /* canonical query text, SPAN_NULL if unknown */
    struct span database;
    struct span shape;    /* "Aggregate > Seq Scan on t" */
    struct span insights; /* comma-separated names, "" when none */
    struct span format;   /* of the sample: text, json, yaml, xml */
    struct span sample;   /* the plan (redacted at ingest unless --keep-literals) */
    uint64_t calls;
    double total_ms, mean_ms, p95_ms;
    int64_t first_us, last_us;
};

/* The dominant plan of a query changed in the period. */
struct report_plan_change {
    uint64_t fingerprint, from_plan, to_plan;
    struct span query, database, from_shape, to_shape;
    int64_t at_us;
    uint64_t calls_before, calls_after;
    double before_ms, after_ms, slower_by; /* slower_by NaN when unknown */
};

/* A regression: a query shape whose p95 or total time is well above its baseline. */
enum report_metric { RM_P95 = 0, RM_TOTAL };
struct report_regression {
    size_t query; /* index into queries */
    enum report_metric metric;
    double value, baseline, ratio;
};

/* Rankings of the top queries. */
enum report_rank { RR_TOTAL = 0, RR_MEAN, RR_P95, RR_P99, RR_CALLS, RR_COUNT };
const char *report_rank_key(enum report_rank k); /* "total", "mean", "p95", "p99", "calls" */

struct report {
    struct arena mem; /* every string of the model */

    /* The period. */
    int64_t from_us, to_us; /* [from, to), UTC */
    /* The time the counted rows cover: [from, to) but where a rolled-up hour or day row
     * holds an end (store_counted_period()), that row's end */
    int64_t counted_from_us, counted_to_us;
    struct tz tz;
    char day[11];       /* "2026-11-24" for --day reports, "" otherwise */
    char generator[64]; /* "pgsift 0.1.0" */
    int64_t generated_us;

    /* Headline. */
    struct report_figures totals;
    struct report_figures prev_day;             /* the day before (NaN: no data) */
    struct report_figures avg_7d;               /* mean of the 7 days before, over days with data */
    struct report_day trend[REPORT_TREND_DAYS]; /* oldest first; the last is the period */
    size_t ntrend;

    struct report_bucket buckets[REPORT_MAX_BUCKETS];
    size_t nbuckets;
    int64_t bucket_us; /* width (1 h for a day) */

    struct report_hist latency; /* calls by duration, ms */

    /* Query shapes. The loader may leave out the long tail: `other_*` counts what is
     * not in `queries` so that the totals stay whole. */
    struct report_query *queries;
    size_t nqueries, queries_alloc;
    uint64_t other_shapes, other_calls;
    double other_total_ms;
    uint64_t shapes_total; /* distinct shapes in the period (queries + other) */
    /* The slowest executions (store_slowest()): per statement, database and user, the
     * largest per-bucket maxima of the period, slowest first. */
    struct report_slow {
        int64_t at_us;   /* start of the bucket the execution fell in */
        int64_t width_s; /* its width: 60, or 3600/86400 for rolled-up rows */
        uint64_t fingerprint;
        struct span database, user, query; /* query: canonical text, "" if unknown */
        double ms;
    } * slowest;
    size_t nslowest;
    /* The extended protocol's parse and bind steps (store_phase_times()), kept apart from
     * the calls: key = "parse" or "bind", count = records, sum = total ms. */
    struct report_items phases;
    /* Statement calls and time per database and user (store_time_by()): key = database,
     * detail = user, count = calls, sum = total ms; most time first. */
    struct report_items time_by;
    /* Calls by kind of command (pgBadger's "queries by type"), over every shape of the
     * period: key = normalize_command(), count = calls, sum = total ms, sum2 = shapes. */
    struct report_items commands;

    struct report_error *errors;
    size_t nerrors, errors_alloc;

    uint64_t events[EV_KIND_COUNT]; /* records per kind */

    /* Lock waits (items: key = lock mode, detail = object, sum/max = wait ms). */
    struct report_stat lock_wait_ms;
    struct report_items locks;
    struct span *deadlock_samples; /* DETAIL of deadlocks (literals!) */
    size_t ndeadlock_samples;

    /* Temp files (sum/max in bytes over all files). */
    struct report_stat temp_bytes;
    struct report_hist temp_hist; /* files by size, bytes */

    /* Checkpoints (items: key = cause, count = completed checkpoints with that cause,
     * sum = buffers written, max = longest total seconds). */
    uint64_t checkpoints; /* completed */
    struct report_items checkpoint_causes;
    struct report_stat ckpt_buffers, ckpt_write_s, ckpt_sync_s, ckpt_total_s;
    struct report_stat ckpt_wal_added, ckpt_wal_removed, ckpt_wal_recycled; /* WAL files */
    struct report_stat ckpt_sync_longest_s;          /* the longest file sync of each checkpoint */
    struct report_stat ckpt_distance, ckpt_estimate; /* WAL since the previous one, bytes */
    uint64_t ckpt_warnings; /* "checkpoints are occurring too frequently" */

    /* Autovacuum and autoanalyze (items: key = relation, detail = "vacuum"|"analyze",
     * sum = elapsed seconds, max = longest run, sum2 = tuples removed, max2 = most dead
     * tuples not yet removable (the table an old snapshot held back), sum3 = pages
     * removed). Per autovacuum run: heap pages truncated away, dead tuples not yet
     * removable (an old snapshot holds them back), buffers read and dirtied, WAL bytes. */
    struct report_items vacuum;
    struct report_stat vacuum_s, analyze_s;
    struct report_stat vacuum_pages_removed, vacuum_tuples_dead, vacuum_buffer_reads,
        vacuum_buffer_dirtied, vacuum_wal_bytes;

    /* Connections and sessions (items: key = database, detail = user; count =
     * connections). */
    struct report_items sessions_by;
    struct report_items apps;  /* key = application_name, count = connections */
    struct report_items hosts; /* key = client host of connections received ("[local]"
                                  for Unix sockets), count = connections */
    struct report_stat session_s;
    struct report_hist session_hist; /* sessions by length, seconds */
    /* PG18 connection_ready: setup time from the accepted connection to the first query,
     * and the authentication within it, milliseconds */
    struct report_stat setup_ms, setup_auth_ms;
    uint64_t peak_sessions; /* most sessions open at once, when known */

    /* Cancellations and timeouts (items: key = kind "cancel"|"timeout", detail =
     * cause, count). */
    struct report_items cancels;

    struct report_reject *rejects;
    size_t nrejects, rejects_alloc;

    /* Plans: shapes seen in the period (with insights first, then by total time; at most
     * opts.top), and plan changes in the period. */
    struct report_plan *plans;
    size_t nplans, plans_alloc;
    uint64_t plans_total; /* shapes seen in the period, before the cut */
    struct report_plan_change *plan_changes;
    size_t nplan_changes, plan_changes_alloc;
    bool plans_known; /* plans were read (the store has the plan tables) */

    /* Alerts (report_read_alerts()): episodes by start time; per rule by fired. */
    struct report_alert *alerts;
    size_t nalerts, alerts_alloc;
    bool alerts_known; /* the alert history was read (false: the store has no alert tables,
                          or it was not asked for) */
    struct report_alert_rule *alert_rules;
    size_t nalert_rules, alert_rules_alloc;
    uint64_t alerts_fired, alerts_resolved, alerts_firing; /* episodes: in the period, at end */
    uint64_t alerts_unlisted;                              /* beyond SIFT_MAX_REPORT_ALERTS */

    /* Filled by report_analyze(). */
    size_t *rank[RR_COUNT]; /* indexes into queries, best first */
    size_t nrank[RR_COUNT];
    struct report_regression *regressions;
    size_t nregressions;
    uint64_t regressions_total; /* before the cap */
    size_t *new_queries;
    size_t nnew;
    uint64_t new_total; /* before the cap */
    size_t *shown;      /* every query that appears in a table, ordered by total time */
    size_t nshown;
};

void report_init(struct report *r);
void report_release(struct report *r);

/* Set the period [from, to) in time zone @tz (takes ownership of @tz's tables) and lay
 * out the buckets: one per local hour when the period is at most two days, wider
 * otherwise. @day is "YYYY-MM-DD" for a day report, or NULL. */
void report_set_period(struct report *r, int64_t from_us, int64_t to_us, struct tz *tz,
                       const char *day);

/* The bucket of an instant, or -1 when outside the period. */
int report_bucket_of(const struct report *r, int64_t us);

/* Copy @s into the report's arena (absent spans stay absent). */
struct span report_str(struct report *r, struct span s);

/* Append a zeroed element (NaN numbers, INT64_MIN times) and return it; pointers are
 * valid until the next add to the same list. */
struct report_query *report_add_query(struct report *r);
struct report_error *report_add_error(struct report *r);
struct report_reject *report_add_reject(struct report *r);
struct report_alert *report_add_alert(struct report *r);
struct report_alert_rule *report_add_alert_rule(struct report *r);
struct report_item *report_add_item(struct report *r, struct report_items *list);

/* Fixed histogram bounds for latency (ms), temp file size (bytes) and session time (s). */
void report_hist_init_latency(struct report_hist *h);
void report_hist_init_bytes(struct report_hist *h);
void report_hist_init_seconds(struct report_hist *h);
void report_hist_add(struct report_hist *h, double v, uint64_t n);

struct report_opts {
    size_t top;                  /* rows per ranking, regressions and new shapes; 0: 20 */
    double regress_ratio;        /* flag when value >= ratio x baseline; 0: 2.0 */
    double regress_min_p95_ms;   /* and p95 grew by at least this much; 0: 5 ms */
    double regress_min_total_ms; /* or total grew by at least this much; 0: 1000 ms */
    uint64_t regress_min_calls;  /* calls in the period; 0: 20 */
    unsigned flags;              /* enum report_flags */
};

enum report_flags {
    REPORT_KEEP_LITERALS = 1 << 0, /* show samples with their literal values */
    REPORT_NO_SCRIPT = 1 << 1,     /* HTML without the optional sort script */
};

/* Rankings, regressions and new shapes from the query rows; sorts nothing else. Call
 * once, after filling. */
void report_analyze(struct report *r, const struct report_opts *opts);

enum report_format { REPORT_HTML = 0, REPORT_MD, REPORT_JSON };

/* "html", "md", "json" -> format; false when unknown. */
bool report_format_from_name(const char *name, enum report_format *f);

/* Append the report in @fmt to @out. Returns 0, or -1 with a DIAG_LIMIT diag when the
 * output would exceed @out's cap. */
SIFT_WUR int report_render(const struct report *r, const struct report_opts *opts,
                           enum report_format fmt, struct sbuf *out, struct diag *d);

/* Write @len bytes to @path atomically (Git's lockfile: "<path>.lock" created with
 * O_CREAT|O_EXCL, mode 0600, written, fsync'd, renamed over @path; removed on failure or
 * on a SIGINT/SIGTERM/SIGHUP meanwhile that would end the process). Not thread-safe (one
 * report is written at a time). Readers see the old file or the new one, never
 * half of one. Returns 0, or -1 with a DIAG_IO diag (a lock that exists already names
 * the lock file). */
int report_write_file(const char *path, const void *data, size_t len, struct diag *d);

struct store;

/* Fill @r (after report_set_period()) from the store for its period: headline, hourly
 * series, trend and 7-day baseline, query rows, errors, events, rejects; then
 * report_analyze(@opts) and the sparklines of the shapes shown. Returns 0, or -1 with a
 * diag (DIAG_DB). */
int report_from_store(struct report *r, struct store *st, const struct report_opts *opts,
                      struct diag *d);

/* Fill the alerts of @r's period from the alert history in the store file @store_path
 * (rules/: alert_history_read(), read-only). A store without alert tables leaves
 * alerts_known false. Returns 0, or -1 with a diag (DIAG_DB). */
int report_read_alerts(struct report *r, const char *store_path, struct diag *d);

/* ---- daily reports (pgsift tail at a configured hour; pgsift report --dir) ---- */

struct report_daily {
    const char *dir;   /* files pgsift-report-YYYY-MM-DD.{html,md,json} */
    int at_minute;     /* minutes after local midnight when yesterday's report is due */
    int64_t keep_days; /* reports of days older than this are deleted; 0: keep all */
    unsigned formats;  /* bits 1 << enum report_format */
};

/* "06:00" -> 360; false unless HH:MM with 00 <= HH <= 23, 00 <= MM <= 59. */
bool report_parse_at(const char *s, int *minutes);
const char *report_format_name(enum report_format f); /* "html", "md", "json" */

/* <dir>/pgsift-report-<day>.<ext>; -1 when it does not fit @size. */
int report_daily_path(const struct report_daily *cfg, const char *day, enum report_format f,
                      char *buf, size_t size);

/* True (and @day set to yesterday, local in @tz) when the local time of @now_us is at or
 * after cfg->at_minute and one of yesterday's files is missing. The daemon calls it once
 * a minute; after a restart past the hour the report is written then. */
bool report_daily_due(const struct report_daily *cfg, const struct tz *tz, int64_t now_us,
                      char day[11]);

/* Write @r (a day report, analysed) in every format of @cfg into cfg->dir (created 0700
 * if missing), each atomically; the paths written are appended to @written (may be NULL),
 * one per line. Returns 0 or -1 with a diag. */
int report_daily_write(const struct report *r, const struct report_daily *cfg,
                       const struct report_opts *o, struct sbuf *written, struct diag *d);

/* Delete daily report files (only names of exactly that shape) of days before
 * @day - keep_days + 1. Returns 0 or -1 with a diag; *removed counts the files. */
int report_daily_prune(const struct report_daily *cfg, const char *day, unsigned *removed,
                       struct diag *d);

/* A short Markdown summary (headline with changes, top 5 statements, top 3 errors, counts
 * of regressions, new shapes, deadlocks, temp files) for a chat receiver, with @link to
 * the full report (may be NULL). Returns 0 or -1 on the sbuf's cap. */
SIFT_WUR int report_render_summary(const struct report *r, const struct report_opts *o,
                                   const char *link, struct sbuf *sb);

/* pgsift.yaml `report:` (INTERFACE.md), mapped with ydoc_map(report_config_fields). */
struct report_config {
    const char *dir;
    const char *at;
    int64_t keep_days;
    struct ylist formats;
    int64_t top;
    struct ylist notify; /* receiver names */
};
extern const struct yfield report_config_fields[];
extern const size_t report_config_nfields;

/* Check a mapped `report:` block: the number of problems, each in @why ("report.at:
 * expected HH:MM"); report_daily_from_config() gives the first, or NULL. */
#define REPORT_CONFIG_PROBLEMS 4
size_t report_daily_check(const struct report_config *c, struct report_daily *out,
                          const char *why[REPORT_CONFIG_PROBLEMS]);
const char *report_daily_from_config(const struct report_config *c, struct report_daily *out);

/* Fill @r with the local day @day ("YYYY-MM-DD") in zone @tzname from the store:
 * report_set_period() + report_from_store(). Returns 0, or -1 with a diag (DIAG_USAGE for
 * a bad day or zone). */
int report_build_day(struct report *r, struct store *st, const char *tzname, const char *day,
                     const struct report_opts *o, struct diag *d);

/* The daily report as a job for a daemon (pgsift tail's "report" hook):
 *   report_job_new() once per configuration;
 *   sleep until report_job_next_us(now);
 *   report_job_run(): when yesterday's report is due, build it from the store, write it
 *   in every format, prune old days, append the paths to @written and the Markdown
 *   summary (for the `notify` receivers) to @summary (either may be NULL). Returns 1
 *   when it wrote, 0 when nothing was due, -1 with a diag. */
struct report_job;
int report_job_new(struct report_job **out, const struct report_daily *cfg, const char *tzname,
                   const struct report_opts *o, const char *generator, struct diag *d);
void report_job_free(struct report_job *j);
int64_t report_job_next_us(const struct report_job *j, int64_t now_us);
/* Also read the alert history of the day from the store file @path (copied) when the
 * job runs (report_read_alerts()); without it the alerts section says it was not read. */
void report_job_set_alerts_store(struct report_job *j, const char *path);
/* The day ("YYYY-MM-DD") the last successful report_job_run() wrote, "" before. */
const char *report_job_last_day(const struct report_job *j);
int report_job_run(struct report_job *j, struct store *st, int64_t now_us, struct sbuf *written,
                   struct sbuf *summary, struct diag *d);

/* Replace literal values in free text (error messages, log lines): quoted strings,
 * numbers and bind values become '?'; object names after relation/column/constraint/...
 * are kept. Appends to @out. */
SIFT_WUR int report_redact(struct sbuf *out, struct span text);

/* Human names: "unique_violation" for "23505", "integrity constraint violation" for class
 * "23"; "" when unknown. */
const char *report_sqlstate_name(const char *sqlstate);
const char *report_sqlstate_class(const char *sqlstate);

/* The error groups past the first REPORT_ERRORS_SHOWN: how many, and their errors. */
size_t report_errors_rest(const struct report *r, uint64_t *count);

/* The errors by SQLSTATE class (its first two characters; "" for errors whose SQLSTATE
 * the log does not have), in the order the groups first name them, with their counts:
 * at most @max into @out; returns how many. Every format lists the same. */
#define REPORT_NO_SQLSTATE "SQLSTATE not in the log (log_line_prefix without %e)"
struct report_error_class {
    char cls[3];
    uint64_t count;
};
size_t report_error_classes(const struct report *r, struct report_error_class *out, size_t max);

/* The queries that waited for locks (@lock) or wrote temp files, the most time waited or
 * the most bytes first (ties in query order): at most @max indexes into r->queries;
 * returns how many. Every format lists the same. */
#define REPORT_QUERIES_BY_MAX 20
size_t report_queries_by(const struct report *r, bool lock, size_t *idx, size_t max);

#endif
