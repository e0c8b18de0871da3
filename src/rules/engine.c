/* SPDX-License-Identifier: MIT */
/*
 * engine - evaluate rules at minute boundaries of event time behind a watermark and
 * persist what happens: instance states, history, cursors and the outbox, one
 * transaction per boundary.
 *
 * The watermark is the newest event time in the source minus alerting.allowed_lateness
 * (and, when tailing live, at least the wall clock minus it, so absence rules fire
 * when every input is silent). A boundary t is evaluated once, when the watermark
 * passes it, whatever the batch sizes of ingestion were: replaying logs gives the same
 * history as tailing them did.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "event.h"
#include "rules/alertdb_int.h"
#include "rules/deliver_int.h"

#define MINUTE (60 * USEC_PER_SEC)
/* A rule never evaluated starts at most this far before the watermark. */
#define BACKFILL_US (INT64_C(24) * 3600 * USEC_PER_SEC)

static int64_t floor_to(int64_t t, int64_t step)
{
    int64_t q = t / step;
    if (t % step < 0)
        q--;
    return q * step;
}

/* Settings without which a kind of record never appears in the logs. */
static const char *setting_for(enum event_kind k)
{
    switch (k) {
    case EV_DURATION: return "log_min_duration_statement = 0 (or a threshold such as 250ms)";
    case EV_LOCK_WAIT:
    case EV_LOCK_ACQUIRED: return "log_lock_waits = on";
    case EV_TEMP_FILE: return "log_temp_files = 0";
    case EV_CHECKPOINT: return "log_checkpoints = on";
    case EV_CONNECTION:
    case EV_AUTHENTICATED: return "log_connections = on";
    case EV_DISCONNECTION: return "log_disconnections = on";
    case EV_CONNECTION_READY: return "log_connections = 'setup_durations' (PostgreSQL 18)";
    case EV_AUTOVACUUM:
    case EV_AUTOANALYZE: return "log_autovacuum_min_duration = 0 (or a threshold)";
    case EV_STATEMENT: return "log_statement = all";
    case EV_PLAN: return "auto_explain";
    default: return NULL; /* logged whatever the settings: none happened yet */
    }
}

static unsigned warn_settings(const struct engine_opts *o, struct diag *d)
{
    uint64_t seen;
    unsigned n = 0;

    if (o->source->kinds_seen(o->source, &seen, d) < 0)
        return 0;
    for (size_t i = 0; i < o->rules->n; i++) {
        const struct rule *r = &o->rules->rules[i];
        if (!r->enabled)
            continue;
        enum event_kind need[16];
        size_t nneed = 0;
        if (r->source == RSRC_QUERIES)
            need[nneed++] = EV_DURATION;
        if (r->source == RSRC_PLANS)
            need[nneed++] = EV_PLAN;
        if (r->source == RSRC_EVENTS)
            for (size_t j = 0; j < r->where.in[DIM_TYPE].n && nneed < ARRAY_SIZE(need); j++)
                if (event_kind_from_name(span_cstr(r->where.in[DIM_TYPE].v[j]), &need[nneed]))
                    nneed++;
        bool any = false;
        for (size_t j = 0; j < nneed; j++)
            any |= (seen >> need[j]) & 1;
        if (any || !nneed)
            continue;
        const char *setting = setting_for(need[0]);
        if (!setting)
            continue;
        char kinds[256] = "";
        size_t kl = 0;
        for (size_t j = 0; j < nneed && kl < sizeof(kinds); j++)
            kl += (size_t)snprintf(kinds + kl, sizeof(kinds) - kl, "%s%s", j ? "/" : "",
                                   event_kind_name(need[j]));
        log_warn("%s:%u:%u: rule '%s' reads %s records, none seen in the store: set %s", r->file,
                 r->line, r->col, r->name, kinds, setting);
        n++;
    }
    return n;
}

static int cursor_get(struct alertdb *db, const char *rule, int64_t *out, bool *found,
                      struct diag *d)
{
    static const char sql[] = "SELECT last_eval FROM alert_cursors WHERE rule = ?";
    sqlite3_stmt *st = adb_stmt(db, sql, d);
    if (!st)
        return -1;
    adb_bind_text(st, 1, rule);
    int rc = adb_row(db, st, d);
    if (rc > 0)
        *out = sqlite3_column_int64(st, 0);
    *found = rc > 0;
    sqlite3_reset(st);
    return rc < 0 ? -1 : 0;
}

static int cursor_set(struct alertdb *db, const char *rule, int64_t t, struct diag *d)
{
    static const char sql[] = "INSERT INTO alert_cursors (rule, last_eval) VALUES (?1, ?2) "
                              "ON CONFLICT (rule) DO UPDATE SET last_eval = ?2";
    sqlite3_stmt *st = adb_stmt(db, sql, d);
    if (!st)
        return -1;
    adb_bind_text(st, 1, rule);
    sqlite3_bind_int64(st, 2, t);
    return adb_done(db, st, d);
}

struct run {
    const struct engine_opts *o;
    struct engine_stats *stats;
    /* per rule: boundaries with groups over the cap after the first (which is said at
     * once; these once at the end: a replay said it at every minute, QA 22a), the last */
    size_t *capped;
    int64_t *capped_last;
    struct outbox ob;
    struct metric_result scratch;
    struct eval_out items;
    struct eval_cache own_cache, *cache;
};

/* Apply one condition result to one instance row. */
static int step_row(struct run *R, const struct rule *r, struct alert_row *row, int64_t t,
                    bool cond, double value, const struct eval_item *it, struct diag *d)
{
    struct alert_timing tm = { r->for_us, r->hold_us };
    enum alert_state before = row->st.state;
    int64_t last_eval_before = row->st.last_eval;
    enum alert_transition tr = alert_step(&row->st, &tm, t, cond, value);
    const struct alert_config *cfg = R->o->config;
    bool save = tr != ALERT_TO_NONE;

    if (row->st.last_eval == last_eval_before)
        return 0; /* already evaluated at t (a re-run): nothing to do */
    row->severity = r->severity;
    if (tr == ALERT_TO_FIRING) {
        json_decref(row->annotations);
        row->annotations = it ? eval_annotations(r, it, t) : json_object();
        row->last_notified = t;
        if (outbox_transition(&R->ob, row, "firing", t, r->notify, r->nnotify, d) < 0)
            return -1;
    } else if (tr == ALERT_TO_RESOLVED) {
        if (outbox_transition(&R->ob, row, "resolved", t, r->notify, r->nnotify, d) < 0)
            return -1;
    } else if ((row->st.state == ALERT_FIRING || row->st.state == ALERT_RECOVERING) && cfg) {
        /* Muted when it fired (a silence, an inhibiting alert), and no longer: its
         * trigger now. Else a reminder every repeat_interval. */
        bool unmuted;
        if (outbox_unmuted(&R->ob, row, t, &unmuted, d) < 0)
            return -1;
        const char *kind = unmuted                                             ? "firing"
                           : t - row->last_notified >= cfg->repeat_interval_us ? "repeat"
                                                                               : NULL;
        if (kind) {
            row->last_notified = t;
            save = true;
            if (outbox_transition(&R->ob, row, kind, t, r->notify, r->nnotify, d) < 0)
                return -1;
        }
    }
    if (tr != ALERT_TO_NONE) {
        R->stats->transitions++;
        if (alertdb_history_add(R->o->db, t, row, tr, R->o->now_us, d) < 0)
            return -1;
    }
    /* Instances that are and stay inactive or resolved need no write every minute. */
    bool active = row->st.state == ALERT_PENDING || row->st.state == ALERT_FIRING ||
                  row->st.state == ALERT_RECOVERING;
    if (!save && !active && before == row->st.state)
        return 0;
    if (alertdb_instance_save(R->o->db, row, R->o->now_us, d) < 0)
        return -1;
    row->exists = true;
    return 0;
}

/* Active instances of rules that are gone from the rule files (or disabled) would stay
 * firing forever: resolve them (pending ones just clear) at @t, telling the receivers
 * that got their trigger. */
static int retire_orphans(struct run *R, int64_t t, struct diag *d)
{
    static const char sql[] =
        "SELECT instance_key, rule FROM alert_instances WHERE state IN "
        "('pending', 'firing', 'recovering') AND rule != '" INTERNAL_RULE "' ORDER BY instance_key";
    char **keys = NULL;
    size_t n = 0, alloc = 0;
    int rc;

    sqlite3_stmt *st = adb_stmt(R->o->db, sql, d);
    if (!st)
        return -1;
    while ((rc = adb_row(R->o->db, st, d)) > 0) {
        const struct rule *r = rule_set_find(R->o->rules, adb_col_text(st, 1));
        if (r && r->enabled)
            continue;
        XGROW(keys, n + 1, alloc);
        keys[n++] = xstrdup(adb_col_text(st, 0));
    }
    sqlite3_reset(st);
    if (rc < 0 || !n)
        goto out;
    if ((rc = adb_begin(R->o->db, d)) < 0)
        goto out;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct alert_row row;
        if ((rc = alertdb_instance_load(R->o->db, keys[i], &row, d)) < 0)
            break;
        int64_t at = t > row.st.last_eval ? t : row.st.last_eval + 1;
        enum alert_transition tr = ALERT_TO_CLEARED;
        if (row.st.state == ALERT_PENDING) {
            row.st.state = ALERT_INACTIVE;
            row.st.active_since = 0;
        } else {
            row.st.state = ALERT_RESOLVED;
            row.st.resolved_at = at;
            tr = ALERT_TO_RESOLVED;
            rc = outbox_transition(&R->ob, &row, "resolved", at, NULL, 0, d);
        }
        row.st.last_eval = at;
        if (rc == 0)
            rc = alertdb_history_add(R->o->db, at, &row, tr, R->o->now_us, d);
        if (rc == 0)
            rc = alertdb_instance_save(R->o->db, &row, R->o->now_us, d);
        if (rc == 0) {
            log_note("rule '%s' is gone or disabled: its alert %s is %s", row.rule, row.key,
                     tr == ALERT_TO_RESOLVED ? "resolved" : "cleared");
            R->stats->transitions++; /* (in the summary's count, as the history has it) */
        }
        alert_row_release(&row);
    }
    if (rc == 0)
        rc = adb_commit(R->o->db, d);
    else
        adb_rollback(R->o->db);
out:
    for (size_t i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
    return rc < 0 ? -1 : 0;
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool source_ok(const struct engine_opts *o, const struct rule *r)
{
    return !o->source->sources || (o->source->sources(o->source) & SRC_BIT(r->source));
}

/* Sums and counts of a window without a record are 0, not unknown: a threshold on them
 * (`calls < 3`) still holds for an instance whose group had no record at all (unless
 * groups were dropped over SIFT_MAX_INSTANCES_PER_RULE: then absent is not empty). Means,
 * percentiles and maxima of nothing are unknown, and `min_calls`/`min_total_ms` say a
 * group with too little data is not judged: those conditions are false. */
static bool zero_when_empty(const struct rule *r)
{
    if (r->kind != RULE_THRESHOLD || r->where.min_calls > 0 || r->where.min_total_ms > 0)
        return false;
    switch (r->metric) {
    case MET_CALLS:
    case MET_TOTAL_MS:
    case MET_COUNT:
    case MET_RATE_PER_MIN:
    case MET_SUM_SIZE:
    case MET_SUM_WAIT:
    case MET_LINES:
    case MET_REJECTS: return true;
    default: return false;
    }
}

/* The result of an active instance whose group had no record in the window: its labels
 * (from the stored row) and a value of 0. */
static void empty_item(const struct rule *r, const struct alert_row *row, struct eval_item *it)
{
    const char *k;
    json_t *v;

    memset(it, 0, sizeof(*it));
    it->labels[it->nlabels++] = (struct rule_label){ "rule", r->name };
    json_object_foreach(row->labels, k, v)
    {
        if (it->nlabels < ARRAY_SIZE(it->labels) && json_is_string(v))
            it->labels[it->nlabels++] = (struct rule_label){ k, json_string_value(v) };
    }
    alert_labels_sort(it->labels, it->nlabels);
    memcpy(it->key, row->key, sizeof(it->key));
    it->cond = rule_cond_holds(&r->cond, 0);
}

static int eval_one(struct run *R, const struct rule *r, int64_t t, struct diag *d)
{
    static const char active_sql[] = "SELECT instance_key FROM alert_instances WHERE rule = ? "
                                     "AND state IN ('pending', 'firing', 'recovering') "
                                     "ORDER BY instance_key";
    struct eval_out *out = &R->items;
    char **keys = NULL;
    size_t nkeys = 0, kalloc = 0;
    int rc = 0;

    if (eval_rule_at(r, R->o->source, t, &R->scratch, R->cache, out, d) < 0)
        return -1;
    R->stats->evaluations++;
    if (out->dropped) {
        size_t ri = (size_t)(r - R->o->rules->rules);
        char at[CLOCK_RFC3339_MAX];
        if (R->capped[ri]++ == 0)
            log_warn("%s:%u:%u: rule '%s' has more than %u groups at %s; %zu not evaluated "
                     "(those whose condition holds are evaluated first)",
                     r->file, r->line, r->col, r->name, SIFT_MAX_INSTANCES_PER_RULE,
                     clock_format_rfc3339(t, 0, at), out->dropped);
        R->capped_last[ri] = t;
    }
    for (size_t i = 0; i < out->n && rc == 0; i++) {
        const struct eval_item *it = &out->v[i];
        struct alert_row row;
        if (alertdb_instance_load(R->o->db, it->key, &row, d) < 0)
            return -1;
        if (!row.exists) {
            row.rule = xstrdup(r->name);
            row.labels = json_object();
            for (size_t k = 0; k < it->nlabels; k++)
                if (strcmp(it->labels[k].key, "rule"))
                    json_object_set_new(row.labels, it->labels[k].key,
                                        json_text(it->labels[k].value));
            row.annotations = json_object();
            row.severity = r->severity;
        }
        rc = step_row(R, r, &row, t, it->cond, it->value, it, d);
        alert_row_release(&row);
    }
    if (rc < 0)
        return -1;
    /* Active instances without a result this time: the condition does not hold. */
    sqlite3_stmt *st = adb_stmt(R->o->db, active_sql, d);
    if (!st)
        return -1;
    adb_bind_text(st, 1, r->name);
    while ((rc = adb_row(R->o->db, st, d)) > 0) {
        XGROW(keys, nkeys + 1, kalloc);
        keys[nkeys++] = xstrdup(adb_col_text(st, 0));
    }
    sqlite3_reset(st);
    if (rc < 0)
        goto out;
    const char **mine = xmalloc((out->n ? out->n : 1) * sizeof(*mine));
    for (size_t i = 0; i < out->n; i++)
        mine[i] = out->v[i].key;
    qsort(mine, out->n, sizeof(*mine), key_cmp);
    for (size_t i = 0; i < nkeys && rc == 0; i++) {
        if (out->n && bsearch(&keys[i], mine, out->n, sizeof(*mine), key_cmp))
            continue;
        struct alert_row row;
        if (alertdb_instance_load(R->o->db, keys[i], &row, d) < 0) {
            rc = -1;
            break;
        }
        if (row.exists && zero_when_empty(r) && !out->dropped) {
            struct eval_item it;
            empty_item(r, &row, &it);
            rc = step_row(R, r, &row, t, it.cond, 0, &it, d);
        } else if (row.exists) {
            rc = step_row(R, r, &row, t, false, row.st.value, NULL, d);
        }
        alert_row_release(&row);
    }
    free(mine);
out:
    for (size_t i = 0; i < nkeys; i++)
        free(keys[i]);
    free(keys);
    return rc < 0 ? -1 : 0;
}

static int any_active(struct alertdb *db, bool *active, struct diag *d)
{
    static const char sql[] = "SELECT 1 FROM alert_instances WHERE state IN ('pending', "
                              "'firing', 'recovering') AND rule != '" INTERNAL_RULE "' LIMIT 1";
    sqlite3_stmt *st = adb_stmt(db, sql, d);
    if (!st)
        return -1;
    int rc = adb_row(db, st, d);
    sqlite3_reset(st);
    *active = rc > 0;
    return rc < 0 ? -1 : 0;
}

/* Minutes without a record change nothing while no instance is active: every kind but
 * absence makes its groups from the records of its window (a threshold, the current
 * window of a baseline, the new fingerprints of a window, the plan changes of a period),
 * and only active instances are judged without records. From @t on, while nothing is
 * active, the boundaries up to the minute of the next record (for the longest window
 * @span) can be passed over: their cursors move as if they had been evaluated. Returns
 * the last boundary passed over (< t: none), or INT64_MIN on an error. */
static int64_t quiet_until(const struct engine_opts *o, int64_t t, int64_t span, int64_t w,
                           struct diag *d)
{
    bool active;
    int64_t next;
    if (any_active(o->db, &active, d) < 0)
        return INT64_MIN;
    if (active)
        return t - MINUTE;
    if (o->source->next_data(o->source, t - span, &next, d) < 0)
        return INT64_MIN;
    if (next < t)
        return t - MINUTE;
    /* a record at `next` is first in the window of the boundary after its minute */
    int64_t last = next == INT64_MAX ? w : floor_to(next, MINUTE);
    return last < w ? last : w;
}

int engine_run(const struct engine_opts *o, struct engine_stats *stats, struct diag *d)
{
    struct engine_stats local;
    int64_t oldest, newest;
    int64_t lateness = o->config ? o->config->allowed_lateness_us : 60 * USEC_PER_SEC;
    struct run R = { 0 };
    size_t n = o->rules->n;
    int rc = -1;

    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof(*stats));
    if (o->source->bounds(o->source, &oldest, &newest, d) < 0)
        return -1;
    int64_t w = newest ? newest - lateness : 0;
    if (o->live && o->now_us - lateness > w)
        w = o->now_us - lateness;
    if (o->until_us)
        w = o->until_us;
    w = floor_to(w, MINUTE);
    stats->watermark_us = w;
    if (!w)
        return 0;
    if (o->warn_settings) {
        stats->warnings = warn_settings(o, d);
        for (size_t i = 0; i < n; i++) {
            const struct rule *r = &o->rules->rules[i];
            if (r->enabled && !source_ok(o, r)) {
                log_warn("%s:%u:%u: rule '%s' is skipped: its source '%s' is not available "
                         "here",
                         r->file, r->line, r->col, r->name, rule_source_name(r->source));
                stats->warnings++;
            }
        }
    }

    int64_t *cursor = xcalloc(n, sizeof(*cursor));
    int64_t first = INT64_MAX, span = MINUTE;
    bool pass_quiet = o->source->next_data && !getenv("SIFT_TEST_EVERY_MINUTE");
    for (size_t i = 0; i < n; i++) {
        const struct rule *r = &o->rules->rules[i];
        bool found;
        if (cursor_get(o->db, r->name, &cursor[i], &found, d) < 0) {
            free(cursor);
            return -1;
        }
        if (!found) {
            int64_t start = o->start_us ? o->start_us : oldest;
            if (!o->start_us && start < w - BACKFILL_US)
                start = w - BACKFILL_US;
            /* The first boundary at or after start is the first one evaluated. */
            cursor[i] = floor_to(start - 1, r->every_us);
        }
        if (r->enabled && source_ok(o, r) && cursor[i] + MINUTE < first)
            first = cursor[i] + MINUTE;
        if (r->enabled && source_ok(o, r)) {
            if (r->kind == RULE_ABSENCE)
                pass_quiet = false; /* fires on silence */
            span = r->window_us > span ? r->window_us : span;
            span = r->every_us > span ? r->every_us : span;
        }
    }
    memset(&R, 0, sizeof(R));
    R.o = o;
    R.stats = stats;
    outbox_init(&R.ob, o->db, o->config, o->now_us);
    R.ob.replay = o->replay;
    R.ob.no_notify = o->no_notify;
    R.ob.notify_old = o->notify_old;
    metric_result_init(&R.scratch);
    eval_out_init(&R.items);
    R.capped = xcalloc(n ? n : 1, sizeof(*R.capped));
    R.capped_last = xcalloc(n ? n : 1, sizeof(*R.capped_last));
    R.cache = o->cache ? o->cache : &R.own_cache;
    if (!o->no_notify && retire_orphans(&R, w, d) < 0)
        goto out;
    first = floor_to(first, MINUTE);
    for (int64_t t = first; t <= w; t += MINUTE) {
        bool any = false;
        int64_t quiet = pass_quiet ? quiet_until(o, t, span, w, d) : t - MINUTE;
        if (quiet == INT64_MIN)
            goto out;
        if (quiet >= t) {
            /* The cursors move to the last boundary of each rule up to `quiet`. */
            int64_t moved = 0;
            for (size_t i = 0; i < n; i++) {
                const struct rule *r = &o->rules->rules[i];
                int64_t last = floor_to(quiet, r->every_us);
                if (!r->enabled || last <= cursor[i] || !source_ok(o, r))
                    continue;
                if (!any && adb_begin(o->db, d) < 0)
                    goto out;
                any = true;
                if (cursor_set(o->db, r->name, last, d) < 0) {
                    adb_rollback(o->db);
                    goto out;
                }
                cursor[i] = last;
                moved = last > moved ? last : moved;
            }
            if (any) {
                if (adb_commit(o->db, d) < 0)
                    goto out;
                stats->last_boundary_us = moved;
            }
            t = quiet; /* the loop goes on at the next minute */
            continue;
        }
        int64_t first_note = -1; /* the boundary's notifications come after it */
        for (size_t i = 0; i < n; i++) {
            const struct rule *r = &o->rules->rules[i];
            if (!r->enabled || t <= cursor[i] || floor_to(t, r->every_us) != t || !source_ok(o, r))
                continue;
            if (!any) {
                if (adb_begin(o->db, d) < 0)
                    goto out;
                any = true;
                if (o->config && o->config->ninhibit && outbox_last_id(&R.ob, &first_note, d) < 0) {
                    adb_rollback(o->db);
                    goto out;
                }
            }
            if (eval_one(&R, r, t, d) < 0 || cursor_set(o->db, r->name, t, d) < 0) {
                adb_rollback(o->db);
                goto out;
            }
            cursor[i] = t;
        }
        /* Every rule has stepped to t: inhibition by the states at t, whatever the order
         * of the rules (a source evaluated after its target). */
        if (any && first_note >= 0 && outbox_recheck_inhibited(&R.ob, first_note, d) < 0) {
            adb_rollback(o->db);
            goto out;
        }
        if (any) {
            if (adb_commit(o->db, d) < 0)
                goto out;
            stats->last_boundary_us = t;
        }
    }
    stats->notifications = R.ob.enqueued;
    rc = 0;
out:
    for (size_t i = 0; i < n; i++) {
        const struct rule *r = &o->rules->rules[i];
        char last[CLOCK_RFC3339_MAX];
        if (R.capped[i] > 1)
            log_warn("%s:%u:%u: rule '%s' had more than %u groups at %zu more boundaries, up "
                     "to %s",
                     r->file, r->line, r->col, r->name, SIFT_MAX_INSTANCES_PER_RULE,
                     R.capped[i] - 1, clock_format_rfc3339(R.capped_last[i], 0, last));
    }
    stats->evaluated_to_us = 0;
    for (size_t i = 0; i < n; i++) {
        const struct rule *r = &o->rules->rules[i];
        if (r->enabled && source_ok(o, r) &&
            (!stats->evaluated_to_us || cursor[i] < stats->evaluated_to_us))
            stats->evaluated_to_us = cursor[i];
    }
    free(R.capped);
    free(R.capped_last);
    free(cursor);
    outbox_release(&R.ob);
    metric_result_release(&R.scratch);
    eval_out_release(&R.items);
    eval_cache_release(&R.own_cache);
    return rc;
}
