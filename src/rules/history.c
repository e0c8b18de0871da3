/* SPDX-License-Identifier: MIT */
/*
 * history.c - the alert history of a period for readers outside the rules engine (the
 * daily report): episodes (firing -> resolved) rebuilt from alert_history, with the
 * instance's rule, severity, labels and summary from alert_instances and the counts of
 * notifications from the outbox.
 *
 * A read-only SQLite connection of its own (never the engine's struct alertdb: that one
 * migrates, and opening it writes). It writes nothing, creates nothing and works on a
 * store whose alert tables do not exist (yet): known = false, no episodes.
 */
#include <jansson.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "core/xalloc.h"
#include "rules/rules.h"

void alert_history_init(struct alert_history *h)
{
    memset(h, 0, sizeof(*h));
    arena_init(&h->strings, 16 * 1024);
}

void alert_history_release(struct alert_history *h)
{
    free(h->v);
    free(h->rules);
    arena_release(&h->strings);
    memset(h, 0, sizeof(*h));
}

struct reader {
    sqlite3 *db;
    const char *path;
    struct alert_history *h;
    int64_t since, until;
    sqlite3_stmt *inst, *notes;
};

static int db_fail(struct reader *rd, struct diag *d)
{
    return diag_set(d, DIAG_DB, "alert history in '%s': %s", rd->path, sqlite3_errmsg(rd->db));
}

static const char *keep(struct reader *rd, const char *s)
{
    return arena_dup(&rd->h->strings, s, strlen(s)).p;
}

static const char *col(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

/* {"database":"app","rule":"x"} -> "database=app" (sorted by key; rule left out: it has
 * its own column). Values that are not strings are written as JSON. */
static const char *labels_text(struct reader *rd, const char *json)
{
    json_t *o = json_loads(json, 0, NULL);
    struct sbuf sb = SBUF_INIT;
    const char *out;

    if (json_is_object(o)) {
        const char *k;
        json_t *v;
        /* jansson iterates in insertion order; the engine stores them sorted. */
        json_object_foreach(o, k, v)
        {
            if (!strcmp(k, "rule"))
                continue;
            int rc = sbuf_addf(&sb, "%s%s=", sb.len ? ", " : "", k);
            if (rc == 0 && json_is_string(v)) {
                rc = sbuf_addstr(&sb, json_string_value(v));
            } else if (rc == 0) {
                char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
                rc = sbuf_addstr(&sb, t ? t : "");
                free(t);
            }
            if (rc < 0)
                break;
        }
    }
    out = keep(rd, sb.len ? sb.buf : "");
    sbuf_release(&sb);
    json_decref(o);
    return out;
}

static const char *summary_text(struct reader *rd, const char *json)
{
    json_t *o = json_loads(json, 0, NULL);
    json_t *s = json_object_get(o, "summary");
    const char *out = json_is_string(s) ? keep(rd, json_string_value(s)) : NULL;
    json_decref(o);
    return out;
}

static struct alert_rule_count *rule_count(struct reader *rd, const char *rule)
{
    struct alert_history *h = rd->h;
    for (size_t i = 0; i < h->nrules; i++)
        if (!strcmp(h->rules[i].rule, rule))
            return &h->rules[i];
    XGROW(h->rules, h->nrules + 1, h->rules_alloc);
    struct alert_rule_count *c = &h->rules[h->nrules++];
    memset(c, 0, sizeof(*c));
    c->rule = keep(rd, rule);
    return c;
}

static const char SQL_INSTANCE[] =
    "SELECT rule, labels, severity, annotations FROM alert_instances WHERE instance_key = ?";

/* Notifications of one episode: those of the instance with an event time from its
 * firing to its end (its resolution, or the end of the period). */
static const char SQL_NOTES[] =
    "SELECT coalesce(sum(status = 'delivered'), 0), coalesce(sum(status = 'failed'), 0) "
    "FROM notifications WHERE instance_key = ?1 AND event_at >= ?2 AND event_at <= ?3";

/* One episode that overlaps the period. */
static int add_episode(struct reader *rd, const char *key, int64_t fired, int64_t resolved,
                       double value, struct diag *d)
{
    struct alert_history *h = rd->h;
    struct alert_episode e = { .fired_at = fired, .value = value };
    const char *rule = "", *labels = "{}", *severity = "", *ann = "{}";

    if (resolved && resolved < rd->until)
        e.resolved_at = resolved;
    e.fired_in_period = fired >= rd->since;
    e.resolved_in_period = e.resolved_at != 0;

    sqlite3_reset(rd->inst);
    sqlite3_bind_text(rd->inst, 1, key, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(rd->inst);
    if (rc == SQLITE_ROW) {
        rule = col(rd->inst, 0);
        labels = col(rd->inst, 1);
        severity = col(rd->inst, 2);
        ann = col(rd->inst, 3);
    } else if (rc != SQLITE_DONE) {
        return db_fail(rd, d);
    }
    struct alert_rule_count *c = rule_count(rd, rule);
    c->fired += e.fired_in_period;
    c->resolved += e.resolved_in_period;
    c->firing_at_end += !e.resolved_at;
    h->fired += e.fired_in_period;
    h->resolved += e.resolved_in_period;
    h->firing_at_end += !e.resolved_at;
    if (h->n >= SIFT_MAX_REPORT_ALERTS) {
        h->dropped++;
        return 0;
    }
    e.rule = c->rule;
    e.instance_key = keep(rd, key);
    e.severity = keep(rd, severity);
    e.labels = labels_text(rd, labels);
    e.summary = summary_text(rd, ann);

    sqlite3_reset(rd->notes);
    sqlite3_bind_text(rd->notes, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(rd->notes, 2, fired);
    sqlite3_bind_int64(rd->notes, 3, e.resolved_at ? e.resolved_at : rd->until - 1);
    rc = sqlite3_step(rd->notes);
    if (rc != SQLITE_ROW)
        return db_fail(rd, d);
    e.notified = (uint64_t)sqlite3_column_int64(rd->notes, 0);
    e.failed = (uint64_t)sqlite3_column_int64(rd->notes, 1);
    XGROW(h->v, h->n + 1, h->alloc);
    h->v[h->n++] = e;
    return 0;
}

/*
 * Firing and resolved transitions of every instance, in order: the last one before the
 * period (an episode still open when the period starts) and those inside it. Each
 * "firing" opens an episode, the next "resolved" closes it (refiring and recovering
 * happen inside an episode and do not matter here).
 */
static const char SQL_TRANSITIONS[] =
    "SELECT instance_key, at, transition, value, id FROM ("
    "  SELECT instance_key, at, transition, value, id, row_number() OVER ("
    "    PARTITION BY instance_key ORDER BY at DESC, id DESC) AS rn"
    "  FROM alert_history WHERE transition IN ('firing', 'resolved') AND at < ?1)"
    " WHERE rn = 1 AND transition = 'firing' "
    "UNION ALL "
    "SELECT instance_key, at, transition, value, id FROM alert_history "
    " WHERE transition IN ('firing', 'resolved') AND at >= ?1 AND at < ?2 "
    "ORDER BY 1, 2, 5";

static int read_episodes(struct reader *rd, struct diag *d)
{
    sqlite3_stmt *st;
    char key[ALERT_KEY_HEX * 2] = "";
    int64_t open_at = 0;
    double open_value = 0;
    bool open = false;
    int rc;

    if (sqlite3_prepare_v2(rd->db, SQL_TRANSITIONS, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(rd->db, SQL_INSTANCE, -1, &rd->inst, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(rd->db, SQL_NOTES, -1, &rd->notes, NULL) != SQLITE_OK)
        return db_fail(rd, d);
    sqlite3_bind_int64(st, 1, rd->since);
    sqlite3_bind_int64(st, 2, rd->until);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *k = col(st, 0);
        int64_t at = sqlite3_column_int64(st, 1);
        bool firing = !strcmp(col(st, 2), "firing");
        double value = sqlite3_column_double(st, 3);

        if (strcmp(k, key)) {
            /* The previous instance's open episode is still firing at the end. */
            if (open && add_episode(rd, key, open_at, 0, open_value, d) < 0)
                goto fail;
            open = false;
            snprintf(key, sizeof(key), "%s", k);
        }
        if (firing && !open) {
            open = true;
            open_at = at;
            open_value = value;
        } else if (!firing && open) {
            open = false;
            if (add_episode(rd, key, open_at, at, open_value, d) < 0)
                goto fail;
        }
        /* A second "firing" while open (cannot happen: refiring has its own name) or a
         * "resolved" without its firing in the period (it ended an episode that began
         * before and was not open at the start: impossible too) change nothing. */
    }
    if (rc != SQLITE_DONE) {
        db_fail(rd, d);
        goto fail;
    }
    if (open && add_episode(rd, key, open_at, 0, open_value, d) < 0)
        goto fail;
    sqlite3_finalize(st);
    return 0;
fail:
    sqlite3_finalize(st);
    return -1;
}

static int tables_exist(struct reader *rd, bool *yes, struct diag *d)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(rd->db,
                           "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                           "('alert_history', 'alert_instances', 'notifications')",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(rd, d);
    int rc = sqlite3_step(st);
    *yes = rc == SQLITE_ROW && sqlite3_column_int(st, 0) == 3;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : db_fail(rd, d);
}

int alert_history_read(const char *store_path, int64_t since_us, int64_t until_us,
                       struct alert_history *out, struct diag *d)
{
    struct reader rd = { .path = store_path, .h = out, .since = since_us, .until = until_us };
    bool exists = false;
    int rc = -1;

    out->known = false;
    /* No stat()/open() of our own: closing a descriptor of the store file would drop the
     * POSIX locks another connection of this process holds (SQLite shares them). */
    if (sqlite3_open_v2(store_path, &rd.db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        diag_set(d, DIAG_DB, "cannot open store '%s': %s", store_path,
                 rd.db ? sqlite3_errmsg(rd.db) : "out of memory");
        sqlite3_close(rd.db);
        return -1;
    }
    sqlite3_busy_timeout(rd.db, 10000);
    /* One read transaction: the episodes and their instances are of one moment. */
    if (sqlite3_exec(rd.db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        db_fail(&rd, d);
        goto done;
    }
    if (tables_exist(&rd, &exists, d) < 0)
        goto done;
    if (exists) {
        if (read_episodes(&rd, d) < 0)
            goto done;
        out->known = true;
    }
    rc = 0;
done:
    sqlite3_finalize(rd.inst);
    sqlite3_finalize(rd.notes);
    sqlite3_exec(rd.db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(rd.db);
    return rc;
}
