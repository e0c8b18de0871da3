/* SPDX-License-Identifier: MIT */
/*
 * deliver - the deliverer: turn pending notifications into messages (deliveries) and
 * send them, at least once.
 *
 * A pass:
 *   1. batching (one transaction): pending notifications of a (receiver, route group)
 *      become one delivery once group_wait (new group) or group_interval (since the
 *      group's previous message) has passed. PagerDuty gets one event per notification.
 *      A resolve waits while its trigger is still being delivered and is dropped when
 *      the trigger failed. When more groups are due for a receiver than its burst, they
 *      are folded into one digest message.
 *   2. sending: per receiver, oldest delivery first (so a trigger always goes before its
 *      resolve), within the receiver's rate limit. A delivery is marked delivered only
 *      after a 2xx (SMTP 250) in the transaction that records the attempt; a crash
 *      between the send and that commit sends it again with the same id (webhook-id,
 *      Message-ID, PagerDuty dedup_key), so receivers can drop the duplicate.
 *   3. failures: retryable ones wait (full-jitter backoff, Retry-After honoured) until
 *      alerting.max_delivery_age; then, or on a permanent failure, the delivery fails and
 *      the internal alert `pgsift_delivery_failed` fires to the other receivers. It
 *      resolves with the receiver's next successful delivery.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "rules/alertdb_int.h"
#include "rules/deliver_int.h"

#define PASS_MAX_NOTIFICATIONS      10000
#define PASS_MAX_SENDS_PER_RECEIVER 50

struct note {
    int64_t id, episode, created_at;
    char *receiver, *instance_key, *kind, *group_key, *alert;
};

static void note_free(struct note *n)
{
    free(n->receiver);
    free(n->instance_key);
    free(n->kind);
    free(n->group_key);
    free(n->alert);
}

/* ------------------------------------------------------------------------------------
 * Batching
 */

static int last_group_delivery(struct alertdb *db, const char *receiver, const char *gkey,
                               int64_t *out, struct diag *d)
{
    static const char sql[] = "SELECT max(created_at) FROM deliveries WHERE receiver = ? AND "
                              "group_key = ?";
    sqlite3_stmt *st = adb_stmt(db, sql, d);
    if (!st)
        return -1;
    adb_bind_text(st, 1, receiver);
    adb_bind_text(st, 2, gkey);
    int rc = adb_row(db, st, d);
    *out = rc > 0 && sqlite3_column_type(st, 0) != SQLITE_NULL ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc < 0 ? -1 : 0;
}

/* For a resolve: 0 = its trigger was delivered (send it), 1 = trigger still in flight
 * (wait), 2 = trigger failed or missing (drop it). */
static int trigger_state(struct alertdb *db, const struct note *n, int *out, struct diag *d)
{
    static const char sql[] =
        "SELECT sum(status = 'delivered'), sum(status IN ('pending', 'batched')) FROM "
        "notifications WHERE instance_key = ? AND receiver = ? AND episode = ? AND "
        "kind IN ('firing', 'repeat') AND id < ?";
    sqlite3_stmt *st = adb_stmt(db, sql, d);
    if (!st)
        return -1;
    adb_bind_text(st, 1, n->instance_key);
    adb_bind_text(st, 2, n->receiver);
    sqlite3_bind_int64(st, 3, n->episode);
    sqlite3_bind_int64(st, 4, n->id);
    int rc = adb_row(db, st, d);
    if (rc > 0) {
        int64_t delivered = sqlite3_column_int64(st, 0), inflight = sqlite3_column_int64(st, 1);
        *out = inflight ? 1 : delivered ? 0 : 2;
    }
    sqlite3_reset(st);
    return rc < 0 ? -1 : 0;
}

static int set_note_status(struct alertdb *db, int64_t id, const char *status, const char *delivery,
                           const char *note, struct diag *d)
{
    static const char sql[] = "UPDATE notifications SET status = ?, delivery_id = "
                              "coalesce(?, delivery_id), note = coalesce(?, note) WHERE id = ?";
    sqlite3_stmt *st = adb_stmt(db, sql, d);
    if (!st)
        return -1;
    adb_bind_text(st, 1, status);
    adb_bind_text(st, 2, delivery);
    adb_bind_text(st, 3, note);
    sqlite3_bind_int64(st, 4, id);
    return adb_done(db, st, d);
}

/* The group labels of a message from its first alert. */
static json_t *group_labels(const struct alert_config *cfg, const json_t *alert)
{
    json_t *g = json_object();
    for (size_t i = 0; cfg && i < cfg->ngroup_by; i++) {
        const char *k = cfg->group_by[i];
        json_t *v = !strcmp(k, "rule") || !strcmp(k, "severity")
                        ? json_object_get(alert, k)
                        : json_object_get(json_object_get(alert, "labels"), k);
        if (v)
            json_object_set(g, k, v);
    }
    return g;
}

/* The store's own random number, made the first time it is asked for (SQLite's random(),
 * seeded from the system's entropy): message ids are unique across stores, not only
 * within one - two hosts, or a store made again, number their notifications from 1. */
static int message_salt(struct alertdb *db, int64_t *salt, struct diag *d)
{
    if (adb_exec(db,
                 "INSERT OR IGNORE INTO settings (name, value) VALUES ('message.salt', random())",
                 d) < 0)
        return -1;
    sqlite3_stmt *st = adb_stmt(db, "SELECT value FROM settings WHERE name = 'message.salt'", d);
    if (!st)
        return -1;
    int rc = adb_row(db, st, d);
    *salt = rc > 0 ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc < 0 ? -1 : 0;
}

/* A message's id (webhook-id): the store's salt, the receiver and the notifications in
 * it, so a retry sends the same id and no other message has it. */
static void delivery_id(int64_t salt, const char *receiver, const struct note *const *v, size_t n,
                        char out[40])
{
    XXH3_state_t *st = XXH3_createState();
    static const char hex[] = "0123456789abcdef";

    XXH3_128bits_reset(st);
    XXH3_128bits_update(st, &salt, sizeof(salt));
    XXH3_128bits_update(st, receiver, strlen(receiver) + 1);
    for (size_t i = 0; i < n; i++)
        XXH3_128bits_update(st, &v[i]->id, sizeof(v[i]->id));
    XXH128_hash_t h = XXH3_128bits_digest(st);
    XXH3_freeState(st);
    memcpy(out, "msg_", 4);
    for (int i = 0; i < 16; i++) {
        uint64_t w = i < 8 ? h.high64 : h.low64;
        unsigned b = (unsigned)(w >> (56 - 8 * (i % 8))) & 0xff;
        out[4 + 2 * i] = hex[b >> 4];
        out[5 + 2 * i] = hex[b & 15];
    }
    out[36] = '\0';
}

static int make_delivery(struct alertdb *db, const struct alert_config *cfg, const char *receiver,
                         const char *gkey, const struct note *const *v, size_t n, int64_t now,
                         struct diag *d)
{
    static const char ins[] = "INSERT OR IGNORE INTO deliveries (id, receiver, group_key, "
                              "status, model, created_at, next_attempt_at) VALUES (?, ?, ?, "
                              "'pending', ?, ?, ?)";
    char id[40];
    int64_t salt;
    if (message_salt(db, &salt, d) < 0)
        return -1;
    json_t *m = json_object(), *alerts = json_array();
    bool firing = false;

    delivery_id(salt, receiver, v, n, id);
    for (size_t i = 0; i < n; i++) {
        json_t *a = json_loads(v[i]->alert, 0, NULL);
        if (!a)
            continue;
        if (strcmp(v[i]->kind, "resolved"))
            firing = true;
        json_array_append_new(alerts, a);
    }
    json_object_set_new(m, "version", json_string("1"));
    json_object_set_new(m, "id", json_string(id));
    json_object_set_new(m, "status", json_string(firing ? "firing" : "resolved"));
    json_object_set_new(m, "receiver", json_text(receiver));
    json_object_set_new(m, "group_key", json_text(gkey));
    json_object_set_new(m, "group_labels",
                        strcmp(gkey, "{digest}") ? group_labels(cfg, json_array_get(alerts, 0))
                                                 : json_object());
    json_object_set_new(m, "alerts", alerts);
    char *model = json_dumps(m, JSON_COMPACT);
    json_decref(m);
    sqlite3_stmt *st = adb_stmt(db, ins, d);
    if (!st) {
        free(model);
        return -1;
    }
    adb_bind_text(st, 1, id);
    adb_bind_text(st, 2, receiver);
    adb_bind_text(st, 3, gkey);
    adb_bind_text(st, 4, model);
    sqlite3_bind_int64(st, 5, now);
    sqlite3_bind_int64(st, 6, now);
    free(model);
    if (adb_done(db, st, d) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (set_note_status(db, v[i]->id, "batched", id, NULL, d) < 0)
            return -1;
    return 0;
}

static int batch(const struct deliver_opts *o, struct deliver_stats *stats, struct diag *d)
{
    static const char sel[] = "SELECT id, receiver, instance_key, episode, kind, group_key, "
                              "alert, created_at FROM notifications WHERE status = 'pending' "
                              "ORDER BY receiver, id LIMIT ?";
    struct alertdb *db = o->db;
    const struct alert_config *cfg = o->config;
    struct note *v = NULL;
    size_t n = 0, alloc = 0;
    int rc;

    sqlite3_stmt *st = adb_stmt(db, sel, d);
    if (!st)
        return -1;
    sqlite3_bind_int(st, 1, PASS_MAX_NOTIFICATIONS);
    while ((rc = adb_row(db, st, d)) > 0) {
        XGROW(v, n + 1, alloc);
        struct note *x = &v[n++];
        x->id = sqlite3_column_int64(st, 0);
        x->receiver = xstrdup(adb_col_text(st, 1));
        x->instance_key = xstrdup(adb_col_text(st, 2));
        x->episode = sqlite3_column_int64(st, 3);
        x->kind = xstrdup(adb_col_text(st, 4));
        x->group_key = xstrdup(adb_col_text(st, 5));
        x->alert = xstrdup(adb_col_text(st, 6));
        x->created_at = sqlite3_column_int64(st, 7);
    }
    sqlite3_reset(st);
    if (rc < 0 || !n)
        goto out;
    if ((rc = adb_begin(db, d)) < 0)
        goto out;
    /* Per receiver (rows are ordered by receiver): decide each notification, then group. */
    for (size_t i = 0; i < n && rc == 0;) {
        size_t j = i;
        while (j < n && !strcmp(v[j].receiver, v[i].receiver))
            j++;
        const struct receiver *rv = cfg ? alert_config_receiver(cfg, v[i].receiver) : NULL;
        const struct note **ready = xmalloc((j - i) * sizeof(*ready));
        size_t nready = 0;
        for (size_t k = i; k < j && rc == 0; k++) {
            struct note *x = &v[k];
            if (!rv) {
                rc = set_note_status(db, x->id, "failed", NULL,
                                     "no such receiver in the configuration", d);
                continue;
            }
            if (!strcmp(x->kind, "resolved")) {
                int ts = 0;
                if ((rc = trigger_state(db, x, &ts, d)) < 0)
                    break;
                if (ts == 1)
                    continue; /* trigger still on its way: resolve after it */
                if (ts == 2) {
                    rc = set_note_status(db, x->id, "dropped", NULL,
                                         "its trigger was not delivered", d);
                    continue;
                }
            }
            ready[nready++] = x;
        }
        /* Groups that are due. */
        const struct note **due = xmalloc((nready ? nready : 1) * sizeof(*due));
        size_t ndue = 0, ngroups = 0;
        for (size_t a = 0; a < nready && rc == 0; a++) {
            if (!ready[a])
                continue;
            const char *g = ready[a]->group_key;
            int64_t first = ready[a]->created_at, last = 0;
            for (size_t b = a + 1; b < nready; b++)
                if (ready[b] && !strcmp(ready[b]->group_key, g) && ready[b]->created_at < first)
                    first = ready[b]->created_at;
            if ((rc = last_group_delivery(db, rv->name, g, &last, d)) < 0)
                break;
            /* Alertmanager's timing: group_wait for a new group, then group_interval
             * after the group's previous message. */
            int64_t when = last ? last + cfg->group_interval_us : first + cfg->group_wait_us;
            bool is_due = when <= o->now_us;
            if (is_due)
                ngroups++;
            for (size_t b = a; b < nready; b++) {
                if (!ready[b] || strcmp(ready[b]->group_key, g))
                    continue;
                if (is_due)
                    due[ndue++] = ready[b];
                if (b != a)
                    ready[b] = NULL;
            }
            if (!is_due)
                stats->waiting++;
        }
        if (rc == 0 && ndue) {
            if (rv->type == RECV_PAGERDUTY) {
                for (size_t a = 0; a < ndue && rc == 0; a++) {
                    rc = make_delivery(db, cfg, rv->name, due[a]->group_key, &due[a], 1, o->now_us,
                                       d);
                    stats->batched++;
                }
            } else if (ngroups > (size_t)rv->burst) {
                /* More groups than the receiver takes at once: one digest message. */
                rc = make_delivery(db, cfg, rv->name, "{digest}", due, ndue, o->now_us, d);
                stats->batched++;
            } else {
                for (size_t a = 0; a < ndue && rc == 0;) {
                    size_t b = a;
                    while (b < ndue && !strcmp(due[b]->group_key, due[a]->group_key))
                        b++;
                    rc = make_delivery(db, cfg, rv->name, due[a]->group_key, due + a, b - a,
                                       o->now_us, d);
                    stats->batched++;
                    a = b;
                }
            }
        }
        free(due);
        free(ready);
        i = j;
    }
    if (rc == 0)
        rc = adb_commit(db, d);
    else
        adb_rollback(db);
out:
    for (size_t i = 0; i < n; i++)
        note_free(&v[i]);
    free(v);
    return rc < 0 ? -1 : 0;
}

/* ------------------------------------------------------------------------------------
 * Sending
 */

struct delivery {
    char *id, *receiver, *model;
    int64_t created_at, next_attempt_at;
    int attempts;
};

static void delivery_free(struct delivery *x)
{
    free(x->id);
    free(x->receiver);
    free(x->model);
}

static int oldest_pending(struct alertdb *db, const char *receiver, struct delivery *out,
                          bool *found, struct diag *d)
{
    static const char sql[] = "SELECT id, model, created_at, next_attempt_at, attempts FROM "
                              "deliveries WHERE receiver = ? AND status = 'pending' "
                              "ORDER BY created_at, rowid LIMIT 1";
    sqlite3_stmt *st = adb_stmt(db, sql, d);
    if (!st)
        return -1;
    adb_bind_text(st, 1, receiver);
    int rc = adb_row(db, st, d);
    *found = rc > 0;
    if (rc > 0) {
        out->id = xstrdup(adb_col_text(st, 0));
        out->receiver = xstrdup(receiver);
        out->model = xstrdup(adb_col_text(st, 1));
        out->created_at = sqlite3_column_int64(st, 2);
        out->next_attempt_at = sqlite3_column_int64(st, 3);
        out->attempts = sqlite3_column_int(st, 4);
    }
    sqlite3_reset(st);
    return rc < 0 ? -1 : 0;
}

/* Sliding-window rate limit kept in the database, so restarts do not reset it: at most
 * `burst` attempts within burst * 60 / rate_per_min seconds. Returns the µs to wait. */
static int rate_wait(struct alertdb *db, const struct receiver *rv, int64_t now, int64_t *wait,
                     struct diag *d)
{
    static const char sql[] =
        "SELECT a.at FROM delivery_attempts a JOIN deliveries x ON x.id = a.delivery_id "
        "WHERE x.receiver = ? AND a.at > ? ORDER BY a.at DESC LIMIT 1 OFFSET ?";
    int64_t span = (int64_t)((double)rv->burst * 60.0 / rv->rate_per_min * (double)USEC_PER_SEC);
    sqlite3_stmt *st = adb_stmt(db, sql, d);
    if (!st)
        return -1;
    adb_bind_text(st, 1, rv->name);
    sqlite3_bind_int64(st, 2, now - span);
    sqlite3_bind_int64(st, 3, rv->burst - 1);
    int rc = adb_row(db, st, d);
    *wait = rc > 0 ? sqlite3_column_int64(st, 0) + span - now : 0;
    sqlite3_reset(st);
    return rc < 0 ? -1 : 0;
}

struct attempt {
    long status;
    bool interrupted; /* deliver_interrupt(): ended unanswered, not recorded */
    enum deliver_verdict verdict;
    char error[512];
    int64_t retry_after_us;
};

static void send_one(const struct receiver *rv, const struct alert_config *cfg,
                     const struct delivery *x, int64_t now, struct attempt *at)
{
    struct diag d = DIAG_INIT;
    struct sbuf url = SBUF_INIT, secret = SBUF_INIT, pass = SBUF_INIT;
    struct payload p;
    struct http_result res;
    json_t *m = json_loads(x->model, 0, NULL);

    memset(at, 0, sizeof(*at));
    at->retry_after_us = -1;
    payload_init(&p);
    http_result_init(&res);
    if (!m) {
        at->verdict = DELIVER_PERMANENT;
        snprintf(at->error, sizeof(at->error), "stored message is not valid JSON");
        goto out;
    }
    int kr = secret_read(rv, SECRET_URL, &url, &d);
    if (kr == 1 && rv->type == RECV_PAGERDUTY) {
        sbuf_reset(&url);
        if (sbuf_addstr(&url, "https://events.pagerduty.com/v2/enqueue") < 0)
            kr = -1;
        else
            kr = 0;
    }
    if (kr != 0 ||
        (rv->type == RECV_PAGERDUTY && secret_read(rv, SECRET_ROUTING_KEY, &secret, &d) != 0) ||
        (rv->type == RECV_WEBHOOK && secret_read(rv, SECRET_SIGNING_KEY, &secret, &d) < 0) ||
        (rv->type == RECV_EMAIL && secret_read(rv, SECRET_PASSWORD, &pass, &d) < 0)) {
        /* A missing secret may be fixed by the operator: retry until max age. */
        at->verdict = DELIVER_RETRY;
        snprintf(at->error, sizeof(at->error), "%.500s", diag_failed(&d) ? d.msg : "no URL");
        goto out;
    }
    if (payload_render(rv, m, cfg->external_url,
                       rv->type == RECV_PAGERDUTY ? sbuf_span(&secret) : SPAN_NULL, now, &p,
                       &d) < 0) {
        at->verdict = DELIVER_PERMANENT;
        snprintf(at->error, sizeof(at->error), "%.500s", d.msg);
        goto out;
    }
    switch (deliver_send(rv, url.buf, pass.len ? pass.buf : NULL, sbuf_span(&secret),
                         rv->github_signature, x->id, sbuf_span(&p.body), now, &res)) {
    case SEND_NO_TLS:
        at->verdict = DELIVER_PERMANENT;
        snprintf(at->error, sizeof(at->error),
                 "refusing to send e-mail without TLS (set starttls: true, or allow_http "
                 "for a loopback test server)");
        goto out;
    case SEND_BAD_KEY:
        at->verdict = DELIVER_PERMANENT;
        snprintf(at->error, sizeof(at->error),
                 "receiver '%s': signing key is not valid whsec_<base64>", rv->name);
        goto out;
    case SEND_DONE: break;
    }
    at->status = res.status;
    at->retry_after_us = res.retry_after_us;
    at->interrupted = res.interrupted;
    at->verdict = deliver_classify(rv->type, &res);
    if (at->verdict != DELIVER_OK)
        deliver_failure_text(rv->type, &res, at->error, sizeof(at->error));
out:
    json_decref(m);
    payload_release(&p);
    http_result_release(&res);
    secret_release(&url);
    secret_release(&secret);
    secret_release(&pass);
}

static const char SQL_ATTEMPT[] =
    "INSERT INTO delivery_attempts (delivery_id, attempt, at, duration_ms, status, verdict, "
    "error, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_DELIVERY[] =
    "UPDATE deliveries SET status = ?, attempts = ?, last_attempt_at = ?, next_attempt_at = ?, "
    "delivered_at = ?, last_error = ? WHERE id = ?";
static const char SQL_NOTES[] = "UPDATE notifications SET status = ?, note = coalesce(?, note) "
                                "WHERE delivery_id = ? AND status = 'batched'";

/* Fire or resolve the internal alert about a receiver, routed to every other receiver. */
static int internal_alert(const struct deliver_opts *o, const char *receiver, bool firing,
                          const char *error, int64_t now, struct diag *d)
{
    struct rule_label l[] = { { "receiver", receiver }, { "rule", INTERNAL_RULE } };
    struct alert_row row;
    char key[ALERT_KEY_HEX];

    alert_labels_sort(l, 2);
    alert_key_hex(l, 2, key);
    if (alertdb_instance_load(o->db, key, &row, d) < 0)
        return -1;
    bool active = row.exists && (row.st.state == ALERT_FIRING || row.st.state == ALERT_RECOVERING);
    if (firing == active) {
        alert_row_release(&row);
        return 0;
    }
    if (!row.exists) {
        row.rule = xstrdup(INTERNAL_RULE);
        row.labels = json_pack("{s:s}", "receiver", receiver);
        row.annotations = json_object();
    }
    row.severity = ASEV_CRITICAL;
    struct alert_timing tm = { 0, 0 };
    if (row.st.last_eval >= now)
        now = row.st.last_eval + 1;
    enum alert_transition tr = alert_step(&row.st, &tm, now, firing, firing ? 1 : 0);
    if (firing) {
        char summary[700];
        snprintf(summary, sizeof(summary), "notifications to receiver '%s' are failing: %s",
                 receiver, error ? error : "");
        json_decref(row.annotations);
        row.annotations = json_pack("{s:s}", "summary", summary);
        if (!row.annotations)
            row.annotations = json_object();
    }
    const char *others[64];
    size_t n = 0;
    for (size_t i = 0; o->config && i < o->config->nreceivers && n < ARRAY_SIZE(others); i++)
        if (strcmp(o->config->receivers[i].name, receiver))
            others[n++] = o->config->receivers[i].name;
    struct outbox ob;
    outbox_init(&ob, o->db, o->config, now);
    int rc = 0;
    if (tr == ALERT_TO_FIRING || tr == ALERT_TO_RESOLVED) {
        row.last_notified = now;
        if (n)
            rc = outbox_transition(&ob, &row, firing ? "firing" : "resolved", now, others, n, d);
        if (rc == 0)
            rc = alertdb_history_add(o->db, now, &row, tr, now, d);
    }
    if (rc == 0)
        rc = alertdb_instance_save(o->db, &row, now, d);
    outbox_release(&ob);
    alert_row_release(&row);
    if (firing && rc == 0)
        log_warn("notifications to receiver '%s' failed: %s", receiver, error ? error : "");
    return rc;
}

static int record(const struct deliver_opts *o, const struct receiver *rv, const struct delivery *x,
                  const struct attempt *at, int64_t now, double duration_ms,
                  struct deliver_stats *stats, struct diag *d)
{
    int attempts = x->attempts + 1;
    const char *status = "pending", *verdict = deliver_verdict_name(at->verdict);
    int64_t next = 0;
    bool failed = false;

    switch (at->verdict) {
    case DELIVER_OK:
        status = "delivered";
        stats->delivered++;
        break;
    case DELIVER_RETRY:
        next = now + deliver_backoff(attempts, at->retry_after_us, deliver_random());
        if (next - x->created_at > o->config->max_delivery_age_us) {
            status = "gave_up";
            verdict = "gave_up";
            next = 0;
            failed = true;
            stats->gave_up++;
        } else {
            stats->retried++;
        }
        break;
    case DELIVER_PERMANENT:
    case DELIVER_DISABLE:
        status = "failed";
        failed = true;
        stats->failed++;
        break;
    }
    if (adb_begin(o->db, d) < 0)
        return -1;
    sqlite3_stmt *st = adb_stmt(o->db, SQL_ATTEMPT, d);
    if (!st)
        goto fail;
    adb_bind_text(st, 1, x->id);
    sqlite3_bind_int(st, 2, attempts);
    sqlite3_bind_int64(st, 3, now);
    sqlite3_bind_double(st, 4, duration_ms);
    if (at->status)
        sqlite3_bind_int64(st, 5, at->status);
    adb_bind_text(st, 6, verdict);
    adb_bind_text(st, 7, at->verdict == DELIVER_OK ? NULL : at->error);
    if (next)
        sqlite3_bind_int64(st, 8, next);
    if (adb_done(o->db, st, d) < 0)
        goto fail;
    st = adb_stmt(o->db, SQL_DELIVERY, d);
    if (!st)
        goto fail;
    adb_bind_text(st, 1, status);
    sqlite3_bind_int(st, 2, attempts);
    sqlite3_bind_int64(st, 3, now);
    sqlite3_bind_int64(st, 4, next ? next : now);
    if (at->verdict == DELIVER_OK)
        sqlite3_bind_int64(st, 5, now);
    adb_bind_text(st, 6, at->verdict == DELIVER_OK ? NULL : at->error);
    adb_bind_text(st, 7, x->id);
    if (adb_done(o->db, st, d) < 0)
        goto fail;
    if (at->verdict == DELIVER_OK || failed) {
        st = adb_stmt(o->db, SQL_NOTES, d);
        if (!st)
            goto fail;
        adb_bind_text(st, 1, at->verdict == DELIVER_OK ? "delivered" : "failed");
        adb_bind_text(st, 2,
                      failed ? (at->verdict == DELIVER_RETRY ? "gave up: max_delivery_age"
                                                             : "failed permanently")
                             : NULL);
        adb_bind_text(st, 3, x->id);
        if (adb_done(o->db, st, d) < 0)
            goto fail;
    }
    if (at->verdict == DELIVER_DISABLE) {
        static const char dis[] =
            "INSERT INTO receiver_state (receiver, disabled_at, reason) VALUES (?1, ?2, ?3) "
            "ON CONFLICT (receiver) DO UPDATE SET disabled_at = ?2, reason = ?3";
        /* Everything still queued for the receiver fails with it, notifications included:
         * a 'batched' one left behind would hold its resolve back forever, a 'pending'
         * one (a resolve waiting for group_interval) would still be sent. */
        static const char notes[] =
            "UPDATE notifications SET status = 'failed', note = 'receiver disabled (410 Gone)' "
            "WHERE receiver = ?1 AND (status = 'pending' OR (status = 'batched' AND delivery_id "
            "IN (SELECT id FROM deliveries WHERE receiver = ?1 AND status = 'pending')))";
        static const char rest[] =
            "UPDATE deliveries SET status = 'failed', last_error = 'receiver disabled (410 Gone)' "
            "WHERE receiver = ? AND status = 'pending'";
        st = adb_stmt(o->db, dis, d);
        if (!st)
            goto fail;
        adb_bind_text(st, 1, rv->name);
        sqlite3_bind_int64(st, 2, now);
        adb_bind_text(st, 3, at->error);
        if (adb_done(o->db, st, d) < 0)
            goto fail;
        const char *const queued[] = { notes, rest };
        for (size_t k = 0; k < ARRAY_SIZE(queued); k++) {
            st = adb_stmt(o->db, queued[k], d);
            if (!st)
                goto fail;
            adb_bind_text(st, 1, rv->name);
            if (adb_done(o->db, st, d) < 0)
                goto fail;
        }
    }
    if (strcmp(rv->name, "") && (failed || at->verdict == DELIVER_OK) &&
        internal_alert(o, rv->name, failed, at->error, now, d) < 0)
        goto fail;
    return adb_commit(o->db, d);
fail:
    adb_rollback(o->db);
    return -1;
}

/* Receivers in the order a pass serves them: those whose queue is being retried (down,
 * slow, timing out) after the others, so that one that hangs until its timeout does not
 * hold back the healthy ones' notifications (a pass sends one receiver at a time). */
static int pass_order(const struct deliver_opts *o, size_t *order, struct diag *d)
{
    static const char sql[] =
        "SELECT 1 FROM deliveries WHERE receiver = ? AND status = 'pending' AND attempts > 0"
        " LIMIT 1";
    const struct alert_config *cfg = o->config;
    size_t n = 0, late = cfg->nreceivers;
    for (size_t i = 0; i < cfg->nreceivers; i++) {
        sqlite3_stmt *st = adb_stmt(o->db, sql, d);
        if (!st)
            return -1;
        adb_bind_text(st, 1, cfg->receivers[i].name);
        int rc = adb_row(o->db, st, d);
        sqlite3_reset(st);
        if (rc < 0)
            return -1;
        if (rc == 0)
            order[n++] = i;
        else
            order[--late] = i;
    }
    /* (the retried ones in configuration order too) */
    for (size_t a = late, b = cfg->nreceivers; a + 1 < b; a++, b--) {
        size_t t = order[a];
        order[a] = order[b - 1];
        order[b - 1] = t;
    }
    return 0;
}

/* One receiver's part of a pass: its deliveries one after another, each sent on a thread
 * of its own while the other receivers send theirs (send_one() touches no shared state:
 * the store is read and written on the pass's thread only, by next_turn() and record()). */
struct turn {
    size_t oi; /* in the pass's order */
    const struct receiver *rv;
    const struct alert_config *cfg;
    struct delivery x;
    int64_t now;
    struct attempt at;
    double ms;
    pthread_t th;
    bool threaded, running, done;
    int sends;
    struct pass_sync *sync;
};

/* What the sending threads tell the pass's thread: a send is back. */
struct pass_sync {
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static void *turn_send(void *arg)
{
    struct turn *t = arg;
    int64_t t0 = clock_mono_ns();
    send_one(t->rv, t->cfg, &t->x, t->now, &t->at);
    t->ms = (double)(clock_mono_ns() - t0) / 1e6;
    pthread_mutex_lock(&t->sync->mu);
    t->done = true;
    pthread_cond_signal(&t->sync->cv);
    pthread_mutex_unlock(&t->sync->mu);
    return NULL;
}

/* The receiver's next delivery, sending: 1 when one was started, 0 when it has nothing
 * due (its queue empty or not due yet, its rate limit says wait, or this pass's share
 * sent), -1 on a store error. */
static int next_turn(const struct deliver_opts *o, struct turn *t, struct deliver_stats *stats,
                     struct diag *d)
{
    bool found;
    int64_t wait;
    if (t->sends == PASS_MAX_SENDS_PER_RECEIVER) {
        stats->more = true; /* the next pass goes on */
        return 0;
    }
    memset(&t->x, 0, sizeof(t->x));
    if (oldest_pending(o->db, t->rv->name, &t->x, &found, d) < 0)
        return -1;
    if (!found)
        return 0;
    int64_t now = clock_now_us();
    if (now < o->now_us)
        now = o->now_us;
    if (t->x.next_attempt_at > now) {
        if (!stats->next_due_us || t->x.next_attempt_at < stats->next_due_us)
            stats->next_due_us = t->x.next_attempt_at;
        delivery_free(&t->x);
        return 0;
    }
    if (rate_wait(o->db, t->rv, now, &wait, d) < 0) {
        delivery_free(&t->x);
        return -1;
    }
    if (wait > 0) {
        if (!stats->next_due_us || now + wait < stats->next_due_us)
            stats->next_due_us = now + wait;
        delivery_free(&t->x);
        return 0;
    }
    t->now = now;
    t->sends++;
    t->done = false;
    t->running = true;
    memset(&t->at, 0, sizeof(t->at));
    t->threaded = pthread_create(&t->th, NULL, turn_send, t) == 0;
    if (!t->threaded)
        turn_send(t); /* no thread to be had: here, and done */
    return 1;
}

/* Every receiver sends its due deliveries in order, one at a time, and the receivers
 * send at the same time: one that is slow or hangs until its timeout holds back only
 * itself (and the end of the pass). Each answer is recorded as it comes back, and the
 * receiver's next delivery started; after a retry a receiver sends nothing newer in this
 * pass. */
static int send_due(const struct deliver_opts *o, struct deliver_stats *stats, struct diag *d)
{
    const struct alert_config *cfg = o->config;
    size_t n = cfg->nreceivers;
    size_t *order = xmalloc((n + 1) * sizeof(*order));
    struct turn *turns = xcalloc(n + 1, sizeof(*turns));
    struct pass_sync sync;
    size_t running = 0;
    int ret = pass_order(o, order, d);

    pthread_mutex_init(&sync.mu, NULL);
    pthread_cond_init(&sync.cv, NULL);
    for (size_t oi = 0; oi < n && ret == 0; oi++) {
        struct turn *t = &turns[oi];
        t->oi = oi;
        t->rv = &cfg->receivers[order[oi]];
        t->cfg = cfg;
        t->sync = &sync;
        int r = next_turn(o, t, stats, d);
        if (r < 0)
            ret = -1;
        running += r > 0;
    }
    while (running) {
        /* the first send back (in the pass's order when several are) */
        struct turn *t = NULL;
        pthread_mutex_lock(&sync.mu);
        for (;;) {
            for (size_t oi = 0; oi < n && !t; oi++)
                if (turns[oi].running && turns[oi].done)
                    t = &turns[oi];
            if (t)
                break;
            pthread_cond_wait(&sync.cv, &sync.mu);
        }
        pthread_mutex_unlock(&sync.mu);
        if (t->threaded)
            pthread_join(t->th, NULL);
        t->running = false;
        running--;
        if (ret == 0 && t->at.interrupted) {
            /* the process stops: due as it was, sent again by the next start */
            log_verbose("receiver '%s': %s attempt %d: interrupted (stopping)", t->rv->name,
                        t->x.id, t->x.attempts + 1);
            t->at.verdict = DELIVER_RETRY; /* (no next turn) */
        } else if (ret == 0) {
            stats->attempts++;
            log_verbose("receiver '%s': %s attempt %d: %s%s%s", t->rv->name, t->x.id,
                        t->x.attempts + 1, deliver_verdict_name(t->at.verdict),
                        t->at.error[0] ? ": " : "", t->at.error);
            if (record(o, t->rv, &t->x, &t->at, t->now, t->ms, stats, d) < 0)
                ret = -1;
        }
        bool more = ret == 0 && t->at.verdict != DELIVER_RETRY;
        delivery_free(&t->x);
        if (more) {
            int r = next_turn(o, t, stats, d);
            if (r < 0)
                ret = -1;
            running += r > 0;
        }
    }
    pthread_cond_destroy(&sync.cv);
    pthread_mutex_destroy(&sync.mu);
    free(turns);
    free(order);
    return ret;
}

/* Receivers taken out of the configuration: what was queued for them (a delivery being
 * retried, its notifications, a resolve waiting for its group) fails now, as for a
 * disabled receiver, rather than wait for ever unseen, or be sent without its resolve if
 * a receiver of that name comes back (the resolve of an alert that ends meanwhile fails
 * at once: batch()). */
static int fail_unconfigured(const struct deliver_opts *o, struct diag *d)
{
    static const char who[] =
        "SELECT receiver FROM deliveries WHERE status = 'pending' UNION SELECT receiver FROM"
        " notifications WHERE status IN ('pending', 'batched') ORDER BY 1";
    static const char notes[] =
        "UPDATE notifications SET status = 'failed', note = 'no such receiver in the "
        "configuration' WHERE receiver = ?1 AND (status = 'pending' OR (status = 'batched' AND "
        "delivery_id IN (SELECT id FROM deliveries WHERE receiver = ?1 AND status = "
        "'pending')))";
    static const char rest[] =
        "UPDATE deliveries SET status = 'failed', last_error = 'no such receiver in the "
        "configuration' WHERE receiver = ? AND status = 'pending'";
    char **gone = NULL;
    size_t n = 0, alloc = 0;
    int rc;

    sqlite3_stmt *st = adb_stmt(o->db, who, d);
    if (!st)
        return -1;
    while ((rc = adb_row(o->db, st, d)) > 0) {
        const char *name = adb_col_text(st, 0);
        if (alert_config_receiver(o->config, name))
            continue;
        XGROW(gone, n + 1, alloc);
        gone[n++] = xstrdup(name);
    }
    sqlite3_reset(st);
    if (rc == 0 && n && (rc = adb_begin(o->db, d)) == 0) {
        for (size_t i = 0; i < n && rc == 0; i++) {
            log_warn("receiver '%s' is not in the configuration: what was queued for it fails",
                     gone[i]);
            const char *const queued[] = { notes, rest };
            for (size_t k = 0; k < ARRAY_SIZE(queued) && rc == 0; k++) {
                sqlite3_stmt *u = adb_stmt(o->db, queued[k], d);
                if (!u) {
                    rc = -1;
                    break;
                }
                adb_bind_text(u, 1, gone[i]);
                rc = adb_done(o->db, u, d);
            }
        }
        if (rc == 0)
            rc = adb_commit(o->db, d);
        else
            adb_rollback(o->db);
    }
    for (size_t i = 0; i < n; i++)
        free(gone[i]);
    free(gone);
    return rc < 0 ? -1 : 0;
}

int deliver_pass(const struct deliver_opts *o, struct deliver_stats *stats, struct diag *d)
{
    struct deliver_stats local;

    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof(*stats));
    if (!o->config)
        return diag_set(d, DIAG_USAGE, "delivery needs a configuration with receivers");
    if (fail_unconfigured(o, d) < 0 || batch(o, stats, d) < 0)
        return -1;
    return send_due(o, stats, d);
}
