/* SPDX-License-Identifier: MIT */
/*
 * outbox - the notifications a state change causes, written inside the transaction that
 * changes the state (the transactional outbox): a crash can neither lose a transition's
 * notifications nor invent one.
 *
 * Who gets what:
 *   firing, repeat  the rule's `notify:`, else the first matching route entries, else the
 *                   route's default receivers. Each row starts 'pending' unless the alert
 *                   is silenced ('silenced'), inhibited ('inhibited'), a replay of old
 *                   logs ('replay') or the receiver was disabled by a 410 ('failed').
 *   resolved        only receivers that got (or are being sent) the trigger of this
 *                   episode. A trigger still waiting for its first attempt that resolves
 *                   within group_wait of event time is dropped together with its resolve:
 *                   the alert never reaches anyone (Alertmanager's flap damping). One that
 *                   lasted longer is sent, then its resolve: a backlog of logs evaluated in
 *                   one run (rules eval, then alerts deliver; pgsift tail catching up)
 *                   sends what live tailing would have sent.
 */
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/xalloc.h"
#include "rules/alertdb_int.h"
#include "rules/deliver_int.h"

void outbox_init(struct outbox *o, struct alertdb *db, const struct alert_config *cfg,
                 int64_t now_us)
{
    memset(o, 0, sizeof(*o));
    o->db = db;
    o->cfg = cfg;
    o->now_us = now_us;
    arena_init(&o->scratch, 4096);
}

void outbox_release(struct outbox *o)
{
    for (size_t i = 0; i < o->nsilences; i++)
        matcher_set_release(&o->silences[i].ms);
    free(o->silences);
    arena_release(&o->scratch);
}

const char *outbox_label(void *row, const char *label)
{
    const struct alert_row *r = row;
    if (!strcmp(label, "rule"))
        return r->rule;
    if (!strcmp(label, "severity"))
        return alert_severity_name(r->severity);
    return json_string_value(json_object_get(r->labels, label));
}

static char *rfc3339(int64_t us, char *buf)
{
    return clock_format_rfc3339(us, 0, buf);
}

json_t *outbox_alert_json(const struct alert_row *r, const char *status)
{
    char b1[CLOCK_RFC3339_MAX], b2[CLOCK_RFC3339_MAX];
    json_t *a = json_object(), *labels = json_object();
    const char *k;
    json_t *v;

    json_object_foreach(r->labels, k, v)
    {
        if (strcmp(k, "rule"))
            json_object_set(labels, k, v);
    }
    json_object_set_new(a, "rule", json_text(r->rule));
    json_object_set_new(a, "status", json_string(status));
    json_object_set_new(a, "severity", json_string(alert_severity_name(r->severity)));
    json_object_set_new(a, "labels", labels);
    json_object_set(a, "annotations", r->annotations ? r->annotations : json_object());
    json_object_set_new(
        a, "starts_at",
        json_string(rfc3339(r->st.fired_at ? r->st.fired_at : r->st.active_since, b1)));
    json_object_set_new(a, "ends_at",
                        strcmp(status, "resolved") ? json_null()
                                                   : json_string(rfc3339(r->st.resolved_at, b2)));
    json_object_set_new(a, "value", json_real(r->st.value));
    json_object_set_new(a, "dedup_key", json_string(r->key));
    return a;
}

size_t outbox_route(const struct alert_config *cfg, const struct alert_row *r,
                    const char *const *explicit_notify, size_t nexplicit, const char **out,
                    size_t max)
{
    size_t n = 0;

#define ADD(name)                             \
    do {                                      \
        bool dup_ = false;                    \
        for (size_t k_ = 0; k_ < n; k_++)     \
            dup_ |= !strcmp(out[k_], (name)); \
        if (!dup_ && n < max)                 \
            out[n++] = (name);                \
    } while (0)

    if (nexplicit) {
        for (size_t i = 0; i < nexplicit; i++)
            ADD(explicit_notify[i]);
        return n;
    }
    if (!cfg)
        return 0;
    bool matched = false;
    for (size_t i = 0; i < cfg->nroutes; i++) {
        if (!matcher_set_matches(&cfg->routes[i].match, outbox_label, (void *)r))
            continue;
        matched = true;
        for (size_t j = 0; j < cfg->routes[i].nnotify; j++)
            ADD(cfg->routes[i].notify[j]);
        if (!cfg->routes[i].cont)
            break;
    }
    if (!matched)
        for (size_t j = 0; j < cfg->nnotify; j++)
            ADD(cfg->notify[j]);
#undef ADD
    return n;
}

static void group_key(const struct alert_config *cfg, const struct alert_row *r, struct sbuf *out)
{
    static const char *const def[] = { "rule" };
    const char *const *by = cfg ? cfg->group_by : def;
    size_t n = cfg ? cfg->ngroup_by : 1;

    if (sbuf_addch(out, '{') < 0)
        return;
    for (size_t i = 0; i < n; i++) {
        const char *v = outbox_label((void *)r, by[i]);
        if (sbuf_addf(out, "%s%s=\"", i ? "," : "", by[i]) < 0)
            return;
        /* Label values come from the log (database and user names): '"' and '\' are
         * escaped and a newline is written as \n, so that a value holding `",user="` cannot
         * make two groups one key. A value without them is written as it is: the keys of
         * groups that already exist do not change. */
        for (const char *c = v ? v : ""; *c; c++) {
            if ((*c == '"' || *c == '\\' || *c == '\n') && sbuf_addch(out, '\\') < 0)
                return;
            if (sbuf_addch(out, *c == '\n' ? 'n' : *c) < 0)
                return;
        }
        if (sbuf_addch(out, '"') < 0)
            return;
    }
    if (sbuf_addch(out, '}') < 0)
        return;
}

/* The matchers of a silences row (columns id, matchers of @st); false when it has no
 * valid matcher (it would match everything: ignored). */
static bool silence_of_row(struct outbox *o, sqlite3_stmt *st, struct outbox_silence *s)
{
    json_t *m = json_loads(adb_col_text(st, 1), 0, NULL);
    *s = (struct outbox_silence){ sqlite3_column_int64(st, 0), { NULL, 0 } };
    s->ms.m = xcalloc(json_array_size(m) + 1, sizeof(*s->ms.m));
    for (size_t i = 0; i < json_array_size(m); i++) {
        char err[256];
        const char *text = json_string_value(json_array_get(m, i));
        if (text && matcher_parse(text, &o->scratch, &s->ms.m[s->ms.n], err, sizeof(err)))
            s->ms.n++;
    }
    json_decref(m);
    if (s->ms.n)
        return true;
    matcher_set_release(&s->ms);
    return false;
}

int outbox_load_silences(struct outbox *o, struct diag *d)
{
    static const char sql[] = "SELECT id, matchers FROM silences WHERE expired_at IS NULL "
                              "AND starts_at <= ?1 AND ends_at > ?1 ORDER BY id";
    size_t alloc = 0;

    if (o->silences_loaded)
        return 0;
    sqlite3_stmt *st = adb_stmt(o->db, sql, d);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, o->now_us);
    int rc;
    while ((rc = adb_row(o->db, st, d)) > 0) {
        struct outbox_silence s;
        if (!silence_of_row(o, st, &s))
            continue;
        XGROW(o->silences, o->nsilences + 1, alloc);
        o->silences[o->nsilences++] = s;
    }
    sqlite3_reset(st);
    if (rc < 0)
        return -1;
    o->silences_loaded = true;
    return 0;
}

/* Whether a silence (expired ones too) was in force at @t and mutes @r. */
static int silenced_at(struct outbox *o, const struct alert_row *r, int64_t t, bool *out,
                       struct diag *d)
{
    static const char sql[] = "SELECT id, matchers FROM silences WHERE starts_at <= ?1 AND"
                              " min(ends_at, coalesce(expired_at, ends_at)) > ?1 ORDER BY id";
    *out = false;
    sqlite3_stmt *st = adb_stmt(o->db, sql, d);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, t);
    int rc = 0;
    while (!*out && (rc = adb_row(o->db, st, d)) > 0) {
        struct outbox_silence s;
        if (!silence_of_row(o, st, &s))
            continue;
        *out = matcher_set_matches(&s.ms, outbox_label, (void *)r);
        matcher_set_release(&s.ms);
    }
    sqlite3_reset(st);
    return rc < 0 ? -1 : 0;
}

/* The id of a silence muting @r, or 0. */
static int64_t silenced_by(struct outbox *o, const struct alert_row *r)
{
    for (size_t i = 0; i < o->nsilences; i++)
        if (matcher_set_matches(&o->silences[i].ms, outbox_label, (void *)r))
            return o->silences[i].id;
    return 0;
}

/* An alert of alert_instances from the rule, severity and labels columns of @st, from
 * column @col on (its labels to be released with json_decref()). */
static void row_of_instance(sqlite3_stmt *st, int col, struct alert_row *r)
{
    memset(r, 0, sizeof(*r));
    r->rule = adb_col_text(st, col);
    alert_severity_from_name(span_cstr(adb_col_text(st, col + 1)), &r->severity);
    r->labels = json_loads(adb_col_text(st, col + 2), 0, NULL);
    if (!r->labels)
        r->labels = json_object();
}

/* Is @r muted by a firing source alert of an inhibit rule? Fills @why. */
static int inhibited(struct outbox *o, const struct alert_row *r, char *why, size_t len, bool *out,
                     struct diag *d)
{
    static const char sql[] = "SELECT instance_key, rule, severity, labels FROM alert_instances "
                              "WHERE state IN ('firing', 'recovering') AND instance_key != ?";
    *out = false;
    if (!o->cfg || !o->cfg->ninhibit)
        return 0;
    bool any_target = false;
    for (size_t i = 0; i < o->cfg->ninhibit; i++)
        any_target |= matcher_set_matches(&o->cfg->inhibit[i].target, outbox_label, (void *)r);
    if (!any_target)
        return 0;
    sqlite3_stmt *st = adb_stmt(o->db, sql, d);
    if (!st)
        return -1;
    adb_bind_text(st, 1, r->key);
    int rc = 0;
    while (!*out && (rc = adb_row(o->db, st, d)) > 0) {
        struct alert_row src;
        row_of_instance(st, 1, &src);
        for (size_t i = 0; i < o->cfg->ninhibit && !*out; i++) {
            const struct inhibit_rule *ir = &o->cfg->inhibit[i];
            if (!matcher_set_matches(&ir->target, outbox_label, (void *)r) ||
                !matcher_set_matches(&ir->source, outbox_label, &src))
                continue;
            /* As Alertmanager: a label an alert lacks has the empty value, so a label
             * missing from both alerts is equal. */
            bool equal = true;
            for (size_t k = 0; k < ir->nequal && equal; k++) {
                const char *a = outbox_label((void *)r, ir->equal[k]);
                const char *b = outbox_label(&src, ir->equal[k]);
                equal = !strcmp(a ? a : "", b ? b : "");
            }
            if (equal) {
                *out = true;
                snprintf(why, len, "inhibited by %s (%s)", src.rule, adb_col_text(st, 0));
            }
        }
        json_decref(src.labels);
    }
    sqlite3_reset(st);
    return rc < 0 ? -1 : 0;
}

static int receiver_disabled(struct outbox *o, const char *receiver, bool *out, struct diag *d)
{
    static const char sql[] = "SELECT 1 FROM receiver_state WHERE receiver = ? AND "
                              "disabled_at IS NOT NULL";
    sqlite3_stmt *st = adb_stmt(o->db, sql, d);
    if (!st)
        return -1;
    adb_bind_text(st, 1, receiver);
    int rc = adb_row(o->db, st, d);
    sqlite3_reset(st);
    if (rc < 0)
        return -1;
    *out = rc > 0;
    return 0;
}

static const char SQL_INSERT[] =
    "INSERT INTO notifications (receiver, instance_key, episode, kind, group_key, alert, "
    "event_at, created_at, status, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

static int insert(struct outbox *o, const char *receiver, const struct alert_row *r,
                  const char *kind, const char *gkey, const char *alert, int64_t at,
                  const char *status, const char *note, struct diag *d)
{
    sqlite3_stmt *st = adb_stmt(o->db, SQL_INSERT, d);
    if (!st)
        return -1;
    adb_bind_text(st, 1, receiver);
    adb_bind_text(st, 2, r->key);
    sqlite3_bind_int64(st, 3, r->st.episode);
    adb_bind_text(st, 4, kind);
    adb_bind_text(st, 5, gkey);
    adb_bind_text(st, 6, alert);
    sqlite3_bind_int64(st, 7, at);
    sqlite3_bind_int64(st, 8, o->now_us);
    adb_bind_text(st, 9, status);
    adb_bind_text(st, 10, note);
    if (adb_done(o->db, st, d) < 0)
        return -1;
    if (!strcmp(status, "pending"))
        o->enqueued++;
    return 0;
}

static int enqueue_resolved(struct outbox *o, const struct alert_row *r, const char *gkey,
                            const char *alert, int64_t at, struct diag *d)
{
    /* Per receiver: did it get (or is it getting) the trigger? A trigger still waiting
     * counts when it fired group_wait or longer before this resolve: it is sent, and the
     * resolve after it. One that resolves sooner is dropped with its resolve. */
    static const char sel[] =
        "SELECT receiver, max(status IN ('batched', 'delivered') OR ?3 - event_at >= ?4)"
        " FROM notifications WHERE instance_key = ?1 AND episode = ?2 AND kind IN ('firing',"
        " 'repeat') AND status IN ('pending', 'batched', 'delivered') GROUP BY receiver"
        " ORDER BY receiver";
    static const char drop[] =
        "UPDATE notifications SET status = 'dropped', note = 'resolved within group_wait'"
        " WHERE instance_key = ?1 AND episode = ?2 AND kind IN ('firing', 'repeat') AND"
        " status = 'pending' AND ?3 - event_at < ?4";
    /* (without a configuration nothing is sent: nothing waits either) */
    int64_t wait = o->cfg ? o->cfg->group_wait_us : INT64_MAX;
    struct heard {
        char *receiver;
        bool sent;
    } *v = NULL;
    size_t n = 0, alloc = 0;
    int rc = 0;

    sqlite3_stmt *st = adb_stmt(o->db, sel, d);
    if (!st)
        return -1;
    adb_bind_text(st, 1, r->key);
    sqlite3_bind_int64(st, 2, r->st.episode);
    sqlite3_bind_int64(st, 3, at);
    sqlite3_bind_int64(st, 4, wait);
    while ((rc = adb_row(o->db, st, d)) > 0) {
        XGROW(v, n + 1, alloc);
        v[n].receiver = xstrdup(adb_col_text(st, 0));
        v[n].sent = sqlite3_column_int(st, 1) != 0;
        n++;
    }
    sqlite3_reset(st);
    sqlite3_stmt *u = rc == 0 ? adb_stmt(o->db, drop, d) : NULL;
    if (u) {
        adb_bind_text(u, 1, r->key);
        sqlite3_bind_int64(u, 2, r->st.episode);
        sqlite3_bind_int64(u, 3, at);
        sqlite3_bind_int64(u, 4, wait);
        rc = adb_done(o->db, u, d);
    } else if (rc == 0) {
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (!v[i].sent)
            continue; /* nobody heard of it: nothing to resolve */
        const struct receiver *rv = o->cfg ? alert_config_receiver(o->cfg, v[i].receiver) : NULL;
        if (rv && !rv->send_resolved)
            continue;
        bool disabled = false;
        if ((rc = receiver_disabled(o, v[i].receiver, &disabled, d)) < 0)
            break;
        rc = insert(o, v[i].receiver, r, "resolved", gkey, alert, at,
                    disabled ? "failed" : "pending",
                    disabled ? "receiver disabled (410 Gone)" : NULL, d);
    }
    for (size_t i = 0; i < n; i++)
        free(v[i].receiver);
    free(v);
    return rc < 0 ? -1 : 0;
}

int outbox_last_id(struct outbox *o, int64_t *id, struct diag *d)
{
    sqlite3_stmt *st = adb_stmt(o->db, "SELECT coalesce(max(id), 0) FROM notifications", d);
    if (!st)
        return -1;
    int rc = adb_row(o->db, st, d);
    *id = rc > 0 ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc < 0 ? -1 : 0;
}

int outbox_recheck_inhibited(struct outbox *o, int64_t from_id, struct diag *d)
{
    static const char sel[] =
        "SELECT n.id, n.status, i.instance_key, i.rule, i.severity, i.labels FROM notifications n"
        " JOIN alert_instances i ON i.instance_key = n.instance_key WHERE n.id > ? AND"
        " n.kind IN ('firing', 'repeat') AND (n.status = 'pending' OR (n.status = 'inhibited'"
        " AND n.note LIKE 'inhibited by %')) ORDER BY n.id";
    static const char upd[] = "UPDATE notifications SET status = ?, note = ? WHERE id = ?";
    struct change {
        int64_t id;
        bool inh;
        char why[256];
    } *ch = NULL;
    size_t n = 0, alloc = 0;
    int rc;

    if (!o->cfg || !o->cfg->ninhibit || o->no_notify)
        return 0;
    sqlite3_stmt *st = adb_stmt(o->db, sel, d);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, from_id);
    /* Read every row first (inhibited() steps a statement of its own), then change them. */
    while ((rc = adb_row(o->db, st, d)) > 0) {
        struct alert_row r;
        row_of_instance(st, 3, &r);
        snprintf(r.key, sizeof(r.key), "%s", adb_col_text(st, 2));
        bool was = !strcmp(adb_col_text(st, 1), "inhibited"), inh = false;
        char why[256] = "";
        int64_t id = sqlite3_column_int64(st, 0);
        rc = inhibited(o, &r, why, sizeof(why), &inh, d);
        json_decref(r.labels);
        if (rc < 0)
            break;
        if (inh != was) {
            XGROW(ch, n + 1, alloc);
            ch[n] = (struct change){ .id = id, .inh = inh };
            snprintf(ch[n].why, sizeof(ch[n].why), "%s", why);
            n++;
        }
    }
    sqlite3_reset(st);
    for (size_t i = 0; rc >= 0 && i < n; i++) {
        sqlite3_stmt *u = adb_stmt(o->db, upd, d);
        if (!u) {
            rc = -1;
            break;
        }
        adb_bind_text(u, 1, ch[i].inh ? "inhibited" : "pending");
        if (ch[i].inh)
            adb_bind_text(u, 2, ch[i].why);
        else
            sqlite3_bind_null(u, 2);
        sqlite3_bind_int64(u, 3, ch[i].id);
        if (adb_done(o->db, u, d) < 0)
            rc = -1;
        else if (ch[i].inh)
            o->enqueued--;
        else
            o->enqueued++;
    }
    free(ch);
    return rc < 0 ? -1 : 0;
}

int outbox_unmuted(struct outbox *o, const struct alert_row *r, int64_t at, bool *out,
                   struct diag *d)
{
    static const char sql[] =
        "SELECT coalesce(max(status IN ('silenced', 'inhibited')), 0), coalesce(max(status NOT"
        " IN ('silenced', 'inhibited')), 0) FROM notifications WHERE instance_key = ?1 AND"
        " episode = ?2 AND kind IN ('firing', 'repeat')";
    *out = false;
    if (o->no_notify)
        return 0;
    sqlite3_stmt *st = adb_stmt(o->db, sql, d);
    if (!st)
        return -1;
    adb_bind_text(st, 1, r->key);
    sqlite3_bind_int64(st, 2, r->st.episode);
    int rc = adb_row(o->db, st, d);
    bool muted = rc > 0 && sqlite3_column_int(st, 0) && !sqlite3_column_int(st, 1);
    sqlite3_reset(st);
    if (rc < 0)
        return -1;
    if (!muted || outbox_load_silences(o, d) < 0)
        return muted ? -1 : 0;
    /* Muted still: by a silence in force now, or at the boundary @at (a backlog is
     * evaluated after a silence ended; the alert is not unmuted at a time it covered). */
    bool sil = silenced_by(o, r) != 0;
    if (sil || silenced_at(o, r, at, &sil, d) < 0 || sil)
        return sil ? 0 : -1;
    char why[256];
    bool inh = false;
    if (inhibited(o, r, why, sizeof(why), &inh, d) < 0)
        return -1;
    *out = !inh;
    return 0;
}

int outbox_transition(struct outbox *o, const struct alert_row *r, const char *kind, int64_t at,
                      const char *const *explicit_notify, size_t nexplicit, struct diag *d)
{
    struct sbuf gkey = SBUF_INIT;
    bool resolved = !strcmp(kind, "resolved");
    json_t *a = outbox_alert_json(r, resolved ? "resolved" : "firing");
    char *alert = json_dumps(a, JSON_COMPACT);
    int rc = 0;

    json_decref(a);
    if (o->no_notify)
        goto out;
    group_key(o->cfg, r, &gkey);
    if (resolved) {
        rc = enqueue_resolved(o, r, gkey.buf, alert, at, d);
        goto out;
    }
    const char *recv[64];
    size_t n = outbox_route(o->cfg, r, explicit_notify, nexplicit, recv, ARRAY_SIZE(recv));
    if (!n)
        goto out;
    if (outbox_load_silences(o, d) < 0) {
        rc = -1;
        goto out;
    }
    char why[256] = "";
    bool inh = false;
    int64_t sil = silenced_by(o, r);
    if (!sil && inhibited(o, r, why, sizeof(why), &inh, d) < 0) {
        rc = -1;
        goto out;
    }
    bool old = o->cfg && !o->notify_old && o->now_us - at > o->cfg->max_notify_age_us;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *status = "pending", *note = NULL;
        char nb[64];
        bool disabled = false;
        if (receiver_disabled(o, recv[i], &disabled, d) < 0) {
            rc = -1;
            break;
        }
        if (o->replay || old) {
            status = "replay";
            note = o->replay ? "replayed from old logs: recorded, not sent"
                             : "older than alerting.max_notify_age: recorded, not sent";
        } else if (sil) {
            status = "silenced";
            snprintf(nb, sizeof(nb), "silence %lld", (long long)sil);
            note = nb;
        } else if (inh) {
            status = "inhibited";
            note = why;
        } else if (disabled) {
            status = "failed";
            note = "receiver disabled (410 Gone)";
        } else if (o->cfg && !alert_config_receiver(o->cfg, recv[i])) {
            status = "failed";
            note = "no such receiver in the configuration";
        }
        rc = insert(o, recv[i], r, kind, gkey.buf, alert, at, status, note, d);
    }
out:
    free(alert);
    sbuf_release(&gkey);
    return rc;
}
