/* SPDX-License-Identifier: MIT */
/*
 * rules - alert rules (YAML), their evaluation over the store in event time, the state
 * of every alert instance, and the delivery of notifications (Slack, e-mail, PagerDuty,
 * generic webhooks) through a transactional outbox.
 *
 * Owns: loaded rule sets (one arena each), the receivers/route/inhibit configuration,
 * the alert tables (schema/NNN_alerts.sql: alert_instances, alert_history,
 * alert_cursors, notifications, deliveries, delivery_attempts, silences) and the
 * libcurl handles used to deliver. Does not own the store's data: it reads
 * aggregates through a struct metric_source.
 *
 * The pieces, in the order data flows:
 *
 *   rule files --rules_load()--> struct rule_set  (every error: file:line:col)
 *   metric source + rule_set --rules_eval_*()--> condition results per group
 *   results --alert_step()--> state transitions  (pure: pending/firing/recovering/resolved)
 *   transitions --alertdb (one SQLite transaction)--> alert_instances + notifications
 *   notifications --deliver_*()--> receivers  (at least once, retries, rate limits)
 *
 * Time is event time (the log's timestamps), evaluated at minute boundaries behind a
 * watermark, so replaying old logs gives the same alert history as live tailing. Delivery
 * uses the wall clock (clock_now_us(), which honours SIFT_TEST_NOW).
 *
 * Calling sequence (pgsift rules eval / alerts deliver, and a tailing daemon):
 *   alert_config_load() + rules_load_file()* -> alertdb_open()
 *   after each committed batch:  engine_run(.live = true when tailing)
 *   every second or so:          deliver_pass()  (sleep until stats.next_due_us;
 *                                                 again at once when stats.more)
 *   alertdb_close(), rule_set_release(), alert_config_release()
 */
#ifndef SIFT_RULES_RULES_H
#define SIFT_RULES_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/arena.h"
#include "core/diag.h"
#include "core/sbuf.h"
#include "core/span.h"
#include "core/ydoc.h"

/* ---------------------------------------------------------------------------------------
 * Rule vocabulary
 */

enum rule_kind {
    RULE_THRESHOLD = 0,   /* a metric over a window compared with a value */
    RULE_BASELINE,        /* window vs the same metric over earlier days */
    RULE_NEW_FINGERPRINT, /* a query shape not seen within a lookback */
    RULE_EVENT,           /* any matching event (deadlock, PANIC, long lock wait...) */
    RULE_ABSENCE,         /* no log lines from an input: dead server or stuck tailer */
    RULE_KIND_COUNT
};

enum rule_source {
    RSRC_QUERIES = 0, /* per-minute statement aggregates per (database, user, fingerprint) */
    RSRC_ERRORS,      /* error records (severity ERROR and above) */
    RSRC_EVENTS,      /* classified events: lock waits, deadlocks, temp files ... */
    RSRC_INGEST,      /* lines read per input source */
    RSRC_PLANS,       /* auto_explain plan records: plan changes per (database, fingerprint) */
    RSRC_COUNT
};

/* Dimensions a rule can group by and filter on. */
enum rule_dim {
    DIM_DATABASE = 0,
    DIM_USER,
    DIM_APPLICATION,
    DIM_FINGERPRINT,
    DIM_SQLSTATE,
    DIM_SQLSTATE_CLASS,
    DIM_SEVERITY,
    DIM_TYPE,     /* event kind: lock_wait, deadlock ... */
    DIM_INPUT,    /* source name or file */
    DIM_CAUSE,    /* an event's cause: lock_timeout, statement_timeout, user_request, wal ... */
    DIM_RELATION, /* an autovacuum's or autoanalyze's table: "db.schema.table" */
    DIM_COUNT
};

enum rule_metric {
    MET_CALLS = 0,
    MET_TOTAL_MS,
    MET_MEAN_MS,
    MET_P50_MS,
    MET_P95_MS,
    MET_P99_MS,
    MET_MAX_MS,
    MET_COUNT,        /* errors/events in the window */
    MET_RATE_PER_MIN, /* count / window minutes */
    MET_SUM_SIZE,     /* events: sum(size_bytes) (temp files) */
    MET_MAX_SIZE,     /* events: max(size_bytes) */
    MET_SUM_WAIT,     /* events: sum(wait_ms) (lock waits) */
    MET_MAX_WAIT,     /* events: max(wait_ms) */
    MET_LINES,        /* ingest: log lines read */
    MET_REJECTS,      /* ingest: lines that could not be parsed */
    MET_COUNT_ALL
};

enum metric_unit { UNIT_COUNT, UNIT_MS, UNIT_BYTES, UNIT_RATE };

enum rule_cmp { CMP_NONE = 0, CMP_GT, CMP_GE, CMP_LT, CMP_LE, CMP_EQ, CMP_NE };

enum alert_severity { ASEV_INFO = 0, ASEV_WARNING, ASEV_CRITICAL, ASEV_COUNT };

struct rule_cond {
    enum rule_cmp op; /* CMP_NONE: no condition */
    double value;     /* in the metric's unit (ms, bytes, count) */
};

struct rule_label {
    const char *key, *value; /* value: a template for annotations */
};

/* A `where:` block: every non-empty list must contain the group's value. */
struct rule_where {
    struct rule_strlist {
        const char **v;
        size_t n;
    } in[DIM_COUNT];
    int64_t min_calls;   /* queries: ignore groups with fewer calls in the window */
    double min_total_ms; /* queries: ignore groups with less total time in the window */
    struct rule_cond wait_ms, size_bytes, tuples_dead, setup_ms; /* events: per-event filters */
    unsigned steps;   /* events: bits (1 << enum event_step) of the steps wanted (`step:
                         [start, end]`); 0: any record, with or without a step */
    double slower_by; /* plans: mean latency after / before the change must be >= this
                         (0: any change) */
};

struct rule {
    /* As written (strings live in the rule set's arena). */
    const char *name;
    const char *description;
    bool enabled;
    enum rule_kind kind;
    enum rule_source source;
    enum rule_metric metric;
    int64_t window_us, every_us;
    int64_t for_us;
    int64_t hold_us; /* keep_firing_for (threshold, baseline, absence) or resolve_after
                        (event, new_fingerprint): quiet time before resolving */
    int64_t lookback_us, warmup_us;                  /* new_fingerprint */
    int64_t baseline_window_us, baseline_exclude_us; /* baseline */
    double ratio_min; /* baseline: value/baseline must be >= (or per ratio op) */
    enum rule_cmp ratio_op;
    double min_delta; /* baseline: value - baseline must exceed, in metric units */
    int64_t min_calls, baseline_min_calls;
    enum rule_dim group_by[DIM_COUNT];
    size_t ngroup_by;
    struct rule_where where;
    struct rule_cond cond;
    enum alert_severity severity;
    struct rule_label *labels; /* sorted by key */
    size_t nlabels;
    struct rule_label *annotations; /* in file order */
    size_t nannotations;
    const char **notify; /* receiver names; NULL/0: the route decides */
    size_t nnotify;

    /* Where it came from, for messages at evaluation time. */
    const char *file;
    unsigned line, col;
};

struct rule_set {
    struct arena strings; /* every string and array of the rules */
    struct rule *rules;
    size_t n, alloc;
    unsigned nerrors, nwarnings;
    struct sbuf errors;   /* "file:line:col: message\n" per error */
    struct sbuf warnings; /* "file:line:col: warning: message\n" */
    unsigned nfiles;
    struct rule_name_seen {
        const char *name, *file;
        unsigned line, col;
    } * seen; /* every rule name met, valid or not, for duplicate detection */
    size_t nseen, seen_alloc;
};

/* Names for messages, JSON and the docs. */
const char *rule_kind_name(enum rule_kind k);
const char *rule_source_name(enum rule_source s);
const char *rule_dim_name(enum rule_dim d);
const char *rule_metric_name(enum rule_metric m);
enum metric_unit rule_metric_unit(enum rule_metric m);
const char *alert_severity_name(enum alert_severity s);
bool rule_dim_from_name(struct span name, enum rule_dim *out);
bool alert_severity_from_name(struct span name, enum alert_severity *out);
const char *rule_cmp_name(enum rule_cmp op);
bool rule_cond_holds(const struct rule_cond *c, double v);

/* ---------------------------------------------------------------------------------------
 * Loading and checking
 */

void rule_set_init(struct rule_set *rs);
void rule_set_release(struct rule_set *rs);

/* Load one rule file into @rs (rules accumulate across files; names must be unique).
 * Problems in the file are recorded in rs->errors/nerrors (every one of them, with
 * file:line:col) and rs->warnings. Returns -1 with @d only when the file cannot be read. */
int rules_load_file(struct rule_set *rs, const char *path, struct diag *d);

/* rules_load_file() of a file, or of every *.yaml and *.yml file of a directory (not its
 * subdirectories, no hidden file) in name order. Returns the number of files loaded, or
 * -1 with @d (a directory without rule files is an error too). */
int rules_load_path(struct rule_set *rs, const char *path, struct diag *d);

/* The same from memory (tests, fuzzing); @name is used in messages. */
void rules_load_mem(struct rule_set *rs, const char *name, const char *buf, size_t len);

/* Find a rule by name, or NULL. */
const struct rule *rule_set_find(const struct rule_set *rs, const char *name);

/* ---------------------------------------------------------------------------------------
 * Alert instances and their state machine (pure: no I/O, time passed in)
 *
 *   inactive --true--> pending --true for `for`--> firing --false--> recovering
 *      ^                  |                          ^                  |
 *      +------false-------+  (cleared: never notified) +------true--------+
 *   recovering --false for hold (keep_firing_for / resolve_after)--> resolved
 *   resolved --true--> pending (or firing when for = 0): a new episode
 *
 * With hold = 0 a firing instance resolves at the first false evaluation. Notifications
 * go out on ALERT_TO_FIRING and ALERT_TO_RESOLVED only.
 */

enum alert_state {
    ALERT_INACTIVE = 0,
    ALERT_PENDING,
    ALERT_FIRING,
    ALERT_RECOVERING,
    ALERT_RESOLVED,
    ALERT_STATE_COUNT
};

enum alert_transition {
    ALERT_TO_NONE = 0,
    ALERT_TO_PENDING,
    ALERT_TO_FIRING,     /* notify: firing */
    ALERT_TO_RECOVERING, /* still firing for receivers */
    ALERT_TO_REFIRING,   /* recovering -> firing: no notification */
    ALERT_TO_RESOLVED,   /* notify: resolved */
    ALERT_TO_CLEARED,    /* pending -> inactive: never notified */
    ALERT_TRANSITION_COUNT
};

struct alert_timing {
    int64_t for_us;  /* condition must hold this long before firing */
    int64_t hold_us; /* quiet time before resolving */
};

struct alert_status {
    enum alert_state state;
    int64_t active_since; /* first true evaluation of the current episode; 0 if none */
    int64_t fired_at;     /* entered firing in this episode; 0 if not */
    int64_t last_true;    /* last evaluation at which the condition held */
    int64_t resolved_at;  /* 0 unless resolved */
    int64_t last_eval;    /* last evaluation time applied (later ones only) */
    int64_t episode;      /* number of times the instance started firing */
    double value;         /* the metric at the last true evaluation */
};

/* Apply the condition result at evaluation time @at (µs, event time). Evaluations at or
 * before s->last_eval are ignored (ALERT_TO_NONE), so re-running an evaluation is
 * harmless. Returns the transition taken. */
enum alert_transition alert_step(struct alert_status *s, const struct alert_timing *t, int64_t at,
                                 bool cond, double value);

const char *alert_state_name(enum alert_state s);
bool alert_state_from_name(struct span name, enum alert_state *out);
const char *alert_transition_name(enum alert_transition t);

/* Instance identity: the canonical label set (rule, group_by values, rule labels) sorted
 * by key. alert_labels_sort() sorts in place; alert_key_hex() writes the XXH3-128 of the
 * canonical encoding as 32 lower-case hex digits plus a NUL. */
void alert_labels_sort(struct rule_label *l, size_t n);
#define ALERT_KEY_HEX 33
void alert_key_hex(const struct rule_label *l, size_t n, char out[ALERT_KEY_HEX]);

/* ---------------------------------------------------------------------------------------
 * Alerting configuration (pgsift.yaml: receivers, route, inhibit, alerting)
 */

enum receiver_type { RECV_SLACK = 0, RECV_WEBHOOK, RECV_PAGERDUTY, RECV_EMAIL, RECV_TYPE_COUNT };
enum webhook_format { WEBHOOK_PGSIFT_V1 = 0, WEBHOOK_ALERTMANAGER_V4 };

struct receiver {
    const char *name;
    enum receiver_type type;
    /* Secrets are named, never held here: *_env is a variable name, *_file a path. */
    const char *url, *url_env, *url_file;
    const char *secret_env, *secret_file;
    const char *routing_key_env, *routing_key_file;
    const char *username, *password_env, *password_file;
    const char *from;
    const char **to;
    size_t nto;
    enum webhook_format format;
    bool allow_http; /* plain http:// (and SMTP without TLS): loopback testing only */
    bool tls_verify; /* verify certificates (default true) */
    bool starttls;   /* e-mail over smtp://: require STARTTLS (default true) */
    bool send_resolved;
    bool github_signature; /* also X-Pgsift-Signature-256: sha256=<hex> */
    const char *ca_file;
    int64_t timeout_us, connect_timeout_us;
    double rate_per_min; /* token bucket refill */
    int64_t burst;
    int64_t max_alerts; /* alerts listed per message, the rest folded into a digest line */
    const char *file;
    unsigned line, col;
};

enum matcher_op { MATCH_EQ = 0, MATCH_NE, MATCH_RE, MATCH_NRE };

/* `label: value` (equal), `label: "!value"`, `label: "~regex"`, `label: "!~regex"`. */
struct matcher {
    const char *label, *value;
    enum matcher_op op;
    void *re; /* pcre2_code * for MATCH_RE/NRE */
};

struct matcher_set {
    struct matcher *m;
    size_t n;
};

struct route_entry {
    struct matcher_set match;
    const char **notify;
    size_t nnotify;
    bool cont; /* keep looking at later routes after a match */
};

struct inhibit_rule {
    struct matcher_set source, target;
    const char **equal;
    size_t nequal;
};

struct alert_config {
    struct arena strings;
    struct receiver *receivers;
    size_t nreceivers;
    /* receivers defined with problems (said where they are): not "unknown" where named */
    const char **refused;
    size_t nrefused, refused_alloc;
    /* route */
    const char **notify; /* default receivers */
    size_t nnotify;
    const char **group_by; /* label names; default [rule] */
    size_t ngroup_by;
    int64_t group_wait_us, group_interval_us, repeat_interval_us;
    struct route_entry *routes;
    size_t nroutes;
    struct inhibit_rule *inhibit;
    size_t ninhibit;
    /* alerting */
    int64_t allowed_lateness_us; /* watermark = newest event time - this */
    int64_t max_delivery_age_us; /* give up on a notification after this long */
    int64_t max_notify_age_us;   /* transitions older than this (event time vs now) are
                                    recorded, not sent: replays of old logs */
    const char *external_url;
    const char **rule_files; /* `rules:` globs */
    size_t nrule_files;
    const char *store; /* `store:` of a loaded file (NULL: none); --db/$PGSIFT_DB win */
    unsigned nerrors;
    struct sbuf errors;
};

void alert_config_init(struct alert_config *c);
void alert_config_release(struct alert_config *c);

/* Load pgsift.yaml (or any YAML with these top-level keys). Problems are collected in
 * c->errors (file:line:col each); returns -1 with @d only when the file cannot be read. */
int alert_config_load(struct alert_config *c, const char *path, struct diag *d);
void alert_config_load_mem(struct alert_config *c, const char *name, const char *buf, size_t len);

/* Fill @c from the sections of a pgsift.yaml another loader has read (the tail daemon's
 * configuration): @y is its document, the nodes may be NULL. Problems are recorded in
 * @y and copied to c->errors / c->nerrors. Strings are copied: @c outlives @y. */
void alert_config_from_yaml(struct alert_config *c, struct ydoc *y, const struct ylist *rules,
                            yaml_node_t *receivers, yaml_node_t *route, yaml_node_t *inhibit,
                            yaml_node_t *alerting);

const struct receiver *alert_config_receiver(const struct alert_config *c, const char *name);
/* Does the configuration define a receiver named @name, with or without problems (those
 * are said where the receiver is: where it is named it is not also "unknown")? */
bool alert_config_defines(const struct alert_config *c, const char *name);

/* Read every secret that a receiver keeps in a file (url_file, secret_file,
 * routing_key_file, password_file) as a delivery would, and wipe it: a file that is
 * empty, unreadable or readable by group or others (not 0600) is an error now (--check,
 * the daemon's start and reloads) rather than at the first alert; a file that does not
 * exist yet is a warning (it may be provisioned later). Secrets from
 * the environment are not looked at (the checking shell may not have them). Each problem
 * is appended to @errors as "file:line:col: message\n" at its receiver (naming the file,
 * never the value); returns how many there are. */
unsigned alert_config_check_secret_files(const struct alert_config *c, struct sbuf *errors);

/* Check that every receiver a rule names exists; appends errors to rs. */
void alert_config_check_rules(const struct alert_config *c, struct rule_set *rs);

/* Matchers: label lookup is a callback so any label source works. */
typedef const char *(*label_get_fn)(void *ctx, const char *label);
bool matcher_set_matches(const struct matcher_set *ms, label_get_fn get, void *ctx);
/* Parse one "label=value" / "label!=value" / "label=~re" / "label!~re" matcher
 * (the silence command line). Returns false with a message in @err. */
bool matcher_parse(const char *text, struct arena *a, struct matcher *out, char *err,
                   size_t errlen);
void matcher_set_release(struct matcher_set *ms);

/* ---------------------------------------------------------------------------------------
 * Metric sources: what rules read. The store implements one; tests and `rules test
 * --events` use an in-memory one built from `pgsift parse` NDJSON.
 */

struct metric_query {
    enum rule_source source;
    enum rule_metric metric;
    int64_t from_us, to_us;         /* [from, to), event time */
    unsigned group_mask;            /* bits of enum rule_dim */
    const struct rule_where *where; /* may be NULL */
    int64_t lookback_us;            /* plans: records of [to - lookback, to) are read */
};

struct metric_group {
    const char *dims[DIM_COUNT]; /* values of the grouped dimensions, NULL for others */
    double value;                /* the metric over the window */
    double count;                /* calls (queries) or records in the window */
    double total_ms;             /* queries: total time in the window */
    const char *query;           /* normalized statement text when grouped by fingerprint */
    int64_t first_seen_us;       /* when the fingerprint was first seen at all (the store's
                                    catalogue); 0 when the source does not know */
    /* plans: the newest change of the group's dominant plan before the query's `to`
     * (count 1), with value = slower_by (after / before, -1 unknown) */
    uint64_t from_plan, to_plan;
    int64_t changed_at_us;
    double before_ms, after_ms; /* mean executor time per call on either side */
    double calls_before, calls_after;
};

struct metric_result {
    struct metric_group *g;
    size_t n, alloc;
    struct arena strings; /* the dims and query texts */
};

void metric_result_init(struct metric_result *r);
void metric_result_reset(struct metric_result *r);
void metric_result_release(struct metric_result *r);
/* Add a group; dims/query are copied. Returns the new group. */
struct metric_group *metric_result_add(struct metric_result *r, const char *const *dims,
                                       const char *query);

struct metric_source {
    /* Groups that have data in [q->from, q->to) with their metric. Returns 0 or -1 + @d. */
    int (*query)(struct metric_source *ms, const struct metric_query *q, struct metric_result *out,
                 struct diag *d);
    /* Did the group with @dims (the grouped ones of @q) have any record in
     * [q->from, q->to)? */
    int (*seen)(struct metric_source *ms, const struct metric_query *q, const char *const *dims,
                bool *seen, struct diag *d);
    /* Oldest and newest event time held (0, 0 when empty). */
    int (*bounds)(struct metric_source *ms, int64_t *oldest_us, int64_t *newest_us, struct diag *d);
    /* Bits (1 << enum event_kind) of the record kinds ever seen, for the warnings about
     * logging settings. */
    int (*kinds_seen)(struct metric_source *ms, uint64_t *mask, struct diag *d);
    /* Bits (1 << enum rule_source) the source can answer; NULL means all. Rules on
     * other sources are skipped (with a warning). */
    unsigned (*sources)(struct metric_source *ms);
    /* A time *at_us >= @from_us before which, from @from_us on, there is no record:
     * the next record's time, or earlier (never later); INT64_MAX when none follows.
     * Lets the engine pass over minutes without data. NULL: every minute is evaluated. */
    int (*next_data)(struct metric_source *ms, int64_t from_us, int64_t *at_us, struct diag *d);
    void (*free)(struct metric_source *ms);
};

/* The store at @path, read-only (the alert tables are written through struct alertdb).
 * Returns NULL + @d when it cannot be opened or is not a pgsift store. Answers queries,
 * errors and events; not ingest (the store keeps no lines per input). */
struct metric_source *metric_store_open(const char *path, struct diag *d);
/* Events it decoded into the events it keeps between queries, all told (tests). */
int64_t metric_store_events_decoded(const struct metric_source *ms);

/* In-memory source. Records are added with metric_mem_add_* or loaded from NDJSON as
 * `pgsift parse` prints it (INTERFACE.md fields; `fingerprint` and `normalized` are
 * read when present, else computed from `query` or `statement` with normalize/, whose
 * raw text is not kept; `input` defaults to the file part of `src`). */
struct metric_source *metric_mem_new(void);
struct mem_record {
    int64_t ts_us;
    const char *kind;     /* INTERFACE.md kind name: duration, error, lock_wait, ... */
    const char *severity; /* ERROR, FATAL, ... or NULL */
    const char *database, *user, *application, *sqlstate, *fingerprint, *input;
    const char *query;           /* normalized text */
    double duration_ms, wait_ms; /* -1 when absent */
    int64_t size_bytes;          /* -1 when absent */
    const char *step;            /* "start", "end" or NULL (the record has no step) */
    const char *cause;           /* the event's cause (classify.md) or NULL */
    const char *relation;        /* autovacuum/autoanalyze: the table, or NULL */
    int64_t tuples_dead;         /* autovacuum: dead tuples not yet removable; -1 absent */
    double setup_ms;             /* connection_ready: setup time (read for that kind only) */
    bool rejected;               /* a line that could not be parsed (ingest rejects) */
    int64_t pid;                 /* the server process; 0 when absent */
};
void metric_mem_add(struct metric_source *ms, const struct mem_record *r);
/* Records held, and distinct texts; drop the records before @ts_us (their texts stay,
 * interned); drop all. */
size_t metric_mem_count(const struct metric_source *ms);
size_t metric_mem_texts(const struct metric_source *ms);
void metric_mem_drop_before(struct metric_source *ms, int64_t ts_us);
void metric_mem_clear(struct metric_source *ms);
/* Load NDJSON events; every line must parse (errors name file:line). */
int metric_mem_load_ndjson(struct metric_source *ms, const char *path, struct diag *d);

/* ---------------------------------------------------------------------------------------
 * Alert database: instances, history, outbox, deliveries, silences (schema/002_alerts.sql)
 */

struct alertdb;

/* Open the alert tables in the SQLite file @path ("" or ":memory:" for a private
 * in-memory database, as `rules test` uses). With @create a missing file is created
 * (0600); without, a missing file is an error (DIAG_IO) naming it. Applies the embedded
 * schema migrations. Returns 0 or -1 + @d. */
int alertdb_open(struct alertdb **out, const char *path, bool create, struct diag *d);
void alertdb_close(struct alertdb *db);

/* ---------------------------------------------------------------------------------------
 * Evaluation engine: rules x minute boundaries of event time -> states and outbox
 */

struct engine_opts {
    const struct rule_set *rules;
    const struct alert_config *config; /* receivers, route, inhibit; NULL: no routing */
    struct metric_source *source;
    struct alertdb *db;
    bool replay;              /* record notifications as 'replay' instead of sending them */
    bool notify_old;          /* send transitions older than alerting.max_notify_age too */
    bool no_notify;           /* `rules test`: no notifications at all */
    int64_t start_us;         /* first boundary for rules never evaluated (0: the watermark) */
    int64_t until_us;         /* evaluate boundaries <= this (0: the watermark) */
    int64_t now_us;           /* wall clock for silences, replay age, timestamps */
    bool live;                /* also advance with the wall clock (tailing): now - lateness */
    bool warn_settings;       /* warn about rules reading record kinds never seen (once per
                                 process, not on every call of a daemon) */
    struct eval_cache *cache; /* a daemon's cache of long look-backs across calls
                                 (eval_cache_new()); NULL: one per call */
};

/* Long look-backs (baselines and watched inputs of a day or more) are read once an hour;
 * a daemon keeps their results across engine_run() calls in one of these (entries are
 * keyed by the rule's address: free the cache when the rule set is reloaded). */
struct eval_cache *eval_cache_new(void);
void eval_cache_free(struct eval_cache *c);

struct engine_stats {
    uint64_t evaluations, transitions, notifications;
    int64_t watermark_us, last_boundary_us;
    int64_t evaluated_to_us; /* every enabled rule evaluated up to here (its cursor) */
    unsigned warnings;
};

/* Evaluate every rule at every boundary after its cursor up to the watermark (or
 * @until). Each boundary is one transaction: states, history, outbox rows and the
 * cursors. Warnings (a rule reading events never seen) go to stderr once per call. */
int engine_run(const struct engine_opts *o, struct engine_stats *stats, struct diag *d);

/* ---------------------------------------------------------------------------------------
 * Delivery: batch due notifications into messages and send them
 */

struct deliver_opts {
    const struct alert_config *config;
    struct alertdb *db;
    int64_t now_us;
};

struct deliver_stats {
    unsigned batched, attempts, delivered, retried, failed, gave_up, waiting;
    int64_t next_due_us; /* earliest next attempt among pending deliveries, 0 if none */
    bool more;           /* a receiver had more due than one pass sends: pass again now */
};

/* One pass: form messages from notifications that are due (group_wait/group_interval),
 * send the due ones (oldest first per receiver, rate-limited), record every attempt.
 * Returns 0 (send failures are results, recorded and retried) or -1 + @d for database
 * errors. */
int deliver_pass(const struct deliver_opts *o, struct deliver_stats *stats, struct diag *d);

/* A stop signal (async-signal-safe: sets a flag): the sends in flight end at once instead
 * of waiting for the receiver's answer or timeout, and deliver_pass() records none of
 * them, so they stay due and are sent again by the next start (at least once). Every
 * later send ends at once too: the process is stopping. */
void deliver_interrupt(void);

/* A plain message (not an alert) to the receiver named @receiver of @c, outside the
 * outbox: the daily report's summary (src/rules/deliver_message.c). @id names the message
 * across retries (webhook-id, Message-ID); @title is one line (the e-mail subject); @text
 * is Markdown. Slack gets {"text"}, a pgsift_v1 webhook {"version":"1","kind":"message",
 * "id","title","text"} signed like alert messages, e-mail a text/plain message;
 * PagerDuty and alertmanager_v4 webhooks take alerts only (refused). One attempt, now.
 * Returns 0 when delivered; 1 when a later attempt may succeed (network, 429, 5xx, a
 * missing secret), -1 when it cannot; @d says why in both cases. */
int deliver_message(const struct alert_config *c, const char *receiver, const char *id,
                    const char *title, struct span text, int64_t now_us, struct diag *d);

/* ---------------------------------------------------------------------------------------
 * Alert history of a period, read-only (src/rules/history.c): for readers outside the
 * engine, such as the daily report.
 *
 * Owns: everything hanging off struct alert_history (strings in h->strings, arrays on
 * the heap) until alert_history_release(). Reads the store file with a read-only SQLite
 * connection of its own; never writes, creates or migrates anything.
 */

/* One episode of an alert instance (firing until resolved) that overlaps the period. */
struct alert_episode {
    const char *rule, *severity;
    const char *instance_key; /* 32 hex digits: the instance (rule + group + labels) */
    const char *labels;       /* "database=app, user=x" (sorted by key, without rule) */
    const char *summary;      /* the `summary` annotation as last rendered; NULL if none */
    int64_t fired_at;         /* event time (µs); may be before the period */
    int64_t resolved_at;      /* event time; 0 when still firing at the end of the period */
    bool fired_in_period, resolved_in_period;
    double value;              /* the metric when it fired */
    uint64_t notified, failed; /* notifications of the episode delivered / failed for good */
};

/* Per rule, over every episode of the period (also those beyond the cap). */
struct alert_rule_count {
    const char *rule;
    uint64_t fired, resolved, firing_at_end;
};

struct alert_history {
    bool known; /* the store has the alert tables (false: none read, not "no alerts") */
    struct alert_episode *v; /* by instance key, then fired_at */
    size_t n, alloc;
    uint64_t dropped; /* episodes beyond SIFT_MAX_REPORT_ALERTS (counted, not listed) */
    struct alert_rule_count *rules; /* in order of first appearance */
    size_t nrules, rules_alloc;
    uint64_t fired, resolved, firing_at_end; /* totals of the period */
    struct arena strings;
};

void alert_history_init(struct alert_history *h);
void alert_history_release(struct alert_history *h);

/* Episodes that fired or resolved in [@since_us, @until_us) (event time), or were firing
 * during it, from the store at @store_path. A store without alert tables gives no
 * episodes with h->known false. Returns 0, or -1 with @d (DIAG_DB) when the file cannot
 * be opened or read. */
int alert_history_read(const char *store_path, int64_t since_us, int64_t until_us,
                       struct alert_history *out, struct diag *d);

/* ---------------------------------------------------------------------------------------
 * Reports and operator commands over the alert database
 */

enum alert_print_format { APRINT_TABLE = 0, APRINT_JSON };

/* `pgsift alerts`: instances (all, or of one state), then the delivery log (the last
 * @limit deliveries with their attempts). */
int alerts_print(struct alertdb *db, const char *state, enum alert_print_format f, int limit,
                 FILE *out, struct diag *d);

/* `pgsift rules test` and `alerts --history`: the transitions recorded in the history, in
 * time order; only those to @transition ("firing" ...) unless it is NULL. */
int timeline_print(struct alertdb *db, const char *transition, enum alert_print_format f, FILE *out,
                   struct diag *d);

/* The documents alerts_print() and timeline_print() print for APRINT_JSON, for other
 * renderings (`pgsift alerts --format md|csv`). NULL with @d set on failure; the caller
 * owns the reference. */
struct json_t; /* jansson's */
struct json_t *alerts_doc(struct alertdb *db, const char *state, int limit, struct diag *d);
struct json_t *timeline_doc(struct alertdb *db, const char *transition, struct diag *d);

/* Silences: add (matcher texts as `label=value`, `label!=value`, `label=~re`,
 * `label!~re`; checked here), list, expire. Times are wall clock. */
int silence_add(struct alertdb *db, const char *const *matchers, size_t n, int64_t starts_us,
                int64_t ends_us, const char *comment, const char *author, int64_t now_us,
                int64_t *id, struct diag *d);
int silence_list(struct alertdb *db, bool all, int64_t now_us, enum alert_print_format f, FILE *out,
                 struct diag *d);
int silence_expire(struct alertdb *db, int64_t id, int64_t now_us, struct diag *d);

/* A time argument: RFC 3339, a date, or a duration before @now ("15m", "24h", "7d").
 * Returns false when malformed. */
bool rules_parse_time_arg(const char *s, int64_t now_us, int64_t *out);

/* ---------------------------------------------------------------------------------------
 * Reference: the field tables printed for `pgsift rules explain` and docs/rules.md
 */

/* Print the whole reference as Markdown (the block docs/rules.md must contain). */
void rules_reference_markdown(FILE *out);
void rules_config_reference_markdown(FILE *out);
bool rules_config_explain(FILE *out, const char *topic);

/* Explain one topic: a kind ("threshold"), a field ("keep_firing_for", "where.min_calls",
 * "receiver.url_env") or a source ("queries"). NULL prints the overview. Returns false
 * when the topic is unknown (a list of topics is printed to @out then). */
bool rules_explain(FILE *out, const char *topic);

/* ---------------------------------------------------------------------------------------
 * Annotation templates: "p95 {{ value | ms }} on {{ database }}"
 */

/* Variable lookup for rendering: returns the value's text or NULL when unknown. */
struct tmpl_vars {
    const char *(*get)(void *ctx, struct span name, double *num, bool *is_num);
    void *ctx;
};

/* Check a template; appends one message per problem to @errors (without position) and
 * returns the number of problems. @known says whether a variable name is valid. */
unsigned tmpl_check(const char *tmpl, bool (*known)(void *ctx, struct span name), void *ctx,
                    struct sbuf *errors);

/* Render into @out. Unknown variables render as empty text. Returns -1 when @out's cap
 * was reached. */
int tmpl_render(const char *tmpl, const struct tmpl_vars *vars, struct sbuf *out);

/* A rule's value as people read it, in messages and alert histories: an integer, or a
 * value of a million or more, to the unit ("1256789012", not "1.25679e+09"); anything
 * else to six significant digits ("63.7908"). @len: 32 is enough. */
void rule_fmt_value(char *buf, size_t len, double v);

#endif
