/* SPDX-License-Identifier: MIT */
/*
 * alertdb_int - private to src/rules/: the SQLite side of alerting (alert instances,
 * history, cursors, outbox, deliveries, silences) and the evaluation pieces that feed it.
 *
 * Only files of src/rules/ see sqlite3; everything else goes through rules.h.
 */
#ifndef SIFT_RULES_ALERTDB_INT_H
#define SIFT_RULES_ALERTDB_INT_H

#include <jansson.h>
#include <sqlite3.h>

#include "core/limits.h"
#include "rules/rules_int.h"

struct alertdb {
    sqlite3 *db;
    char *path;
    struct {
        const char *sql;
        sqlite3_stmt *st;
    } cache[48];
    size_t ncache;
};

/* Run SQL without results. Returns 0 or -1 + @d (DIAG_DB). */
int adb_exec(struct alertdb *db, const char *sql, struct diag *d);

/* A prepared statement for @sql (a string literal: cached by address), reset and with
 * cleared bindings. NULL + @d on error. */
sqlite3_stmt *adb_stmt(struct alertdb *db, const char *sql, struct diag *d);

/* Step a statement that returns no rows. */
int adb_done(struct alertdb *db, sqlite3_stmt *st, struct diag *d);
/* Step: 1 for a row, 0 when done, -1 + @d on error. */
int adb_row(struct alertdb *db, sqlite3_stmt *st, struct diag *d);

int adb_begin(struct alertdb *db, struct diag *d);
int adb_commit(struct alertdb *db, struct diag *d);
void adb_rollback(struct alertdb *db);

/* Bind helpers (text is copied: SQLITE_TRANSIENT). */
void adb_bind_text(sqlite3_stmt *st, int i, const char *s);
const char *adb_col_text(sqlite3_stmt *st, int i); /* "" for NULL */

/* The internal alert raised when a receiver's messages fail for good. */
#define INTERNAL_RULE "pgsift_delivery_failed"

/* ---- alert instances ---- */

struct alert_row {
    char key[ALERT_KEY_HEX];
    const char *rule;
    json_t *labels;      /* owned: object */
    json_t *annotations; /* owned: object */
    enum alert_severity severity;
    struct alert_status st;
    int64_t last_notified;
    bool exists; /* loaded from the database */
};

void alert_row_release(struct alert_row *r);
int alertdb_instance_load(struct alertdb *db, const char *key, struct alert_row *out,
                          struct diag *d);
int alertdb_instance_save(struct alertdb *db, const struct alert_row *r, int64_t now_us,
                          struct diag *d);
int alertdb_history_add(struct alertdb *db, int64_t at, const struct alert_row *r,
                        enum alert_transition t, int64_t now_us, struct diag *d);

/* ---- evaluation ---- */

/* One group's result at one evaluation. */
struct eval_item {
    struct rule_label labels[DIM_COUNT + SIFT_MAX_RULE_LABELS + 1]; /* sorted, incl. rule */
    size_t nlabels;
    char key[ALERT_KEY_HEX];
    bool cond;
    double value, baseline, ratio, calls;
    bool has_baseline;
    const char *query;
    /* source plans: the change (metric_group's fields) */
    bool has_plan;
    uint64_t from_plan, to_plan;
    int64_t changed_at_us;
    double before_ms, after_ms, calls_before, calls_after;
};

struct eval_out {
    struct eval_item *v;
    size_t n, alloc;
    struct arena strings;
    size_t dropped; /* groups beyond SIFT_MAX_INSTANCES_PER_RULE */
};

void eval_out_init(struct eval_out *o);
void eval_out_reset(struct eval_out *o);
void eval_out_release(struct eval_out *o);

/* Results of long look-backs (baselines, the inputs an absence rule watches) that do
 * not change from one minute to the next: periods of a day or more end at a whole hour,
 * so they are read once an hour instead of every minute. */
struct eval_cache {
    struct eval_cache_entry {
        const struct rule *r;
        int64_t from, to;
        struct metric_result res;
    } * v;
    size_t n, alloc;
};

void eval_cache_release(struct eval_cache *c);

/* Evaluate @r at boundary @t into @out. @cache may be NULL. Returns 0 or -1 + @d. */
int eval_rule_at(const struct rule *r, struct metric_source *ms, int64_t t,
                 struct metric_result *scratch, struct eval_cache *cache, struct eval_out *out,
                 struct diag *d);

/* Render a rule's annotations for one item (JSON object, new reference). */
json_t *eval_annotations(const struct rule *r, const struct eval_item *it, int64_t t);

/* Build the labels of an instance (group dims + rule labels + rule) into @it. */
void eval_item_labels(const struct rule *r, const char *const *dims, struct eval_item *it,
                      struct arena *a);

/* ---- the outbox ---- */

struct outbox_silence {
    int64_t id;
    struct matcher_set ms;
};

struct outbox {
    struct alertdb *db;
    const struct alert_config *cfg;
    int64_t now_us;
    bool replay, no_notify;
    bool notify_old;                 /* queue transitions older than max_notify_age too */
    struct outbox_silence *silences; /* active at now_us, loaded on first use */
    size_t nsilences;
    bool silences_loaded;
    struct arena scratch;
    unsigned enqueued;
};

/* Labels of an instance for matchers: its labels plus rule and severity. */
const char *outbox_label(void *row, const char *label);

/* Load silences active at @now_us (for `pgsift alerts` too). */
int outbox_load_silences(struct outbox *o, struct diag *d);

void outbox_init(struct outbox *o, struct alertdb *db, const struct alert_config *cfg,
                 int64_t now_us);
void outbox_release(struct outbox *o);

/* The last notification id (0: none): where a boundary's notifications begin. */
int outbox_last_id(struct outbox *o, int64_t *id, struct diag *d);
/* Decide inhibition again for the triggers queued after @from_id (one boundary of every
 * rule): a source evaluated after its target at that boundary mutes it, and a source that
 * stopped firing there no longer does, whatever the order of the rules. */
int outbox_recheck_inhibited(struct outbox *o, int64_t from_id, struct diag *d);
/* Write the notifications a transition causes (firing, resolved) or a reminder (repeat)
 * for the instance @r (state already updated), at event time @at. Inside the caller's
 * transaction. @explicit_notify: receivers named by the rule (NULL: the route decides). */
int outbox_transition(struct outbox *o, const struct alert_row *r, const char *kind, int64_t at,
                      const char *const *explicit_notify, size_t nexplicit, struct diag *d);
/* Whether the active instance @r's episode was muted for every receiver (its triggers
 * silenced or inhibited, none sent or waiting) and is muted no longer: its silence ended,
 * or the alert that inhibited it stopped firing, at the boundary @at (event time) and now.
 * The caller then sends its trigger, as Alertmanager does once an alert still firing is
 * no longer muted. */
int outbox_unmuted(struct outbox *o, const struct alert_row *r, int64_t at, bool *out,
                   struct diag *d);

/* The alert object receivers get, from an instance row. */
json_t *outbox_alert_json(const struct alert_row *r, const char *status);

/* Route: receivers for labels (rule notify > route entries > default). */
size_t outbox_route(const struct alert_config *cfg, const struct alert_row *r,
                    const char *const *explicit_notify, size_t nexplicit, const char **out,
                    size_t max);

#endif
