/* SPDX-License-Identifier: MIT */
/* Routing, silences and the resolve rules of the outbox, on an in-memory database. */
#include "check.h"

#include "rules/alertdb_int.h"

static const char cfg_yaml[] = "receivers:\n"
                               "  - {name: a, type: webhook, url_env: A}\n"
                               "  - {name: b, type: webhook, url_env: B}\n"
                               "  - {name: c, type: webhook, url_env: C, send_resolved: false}\n"
                               "route:\n"
                               "  notify: [a]\n"
                               "  routes:\n"
                               "    - {match: {severity: critical}, notify: [b], continue: true}\n"
                               "    - {match: {database: '~shop|crm'}, notify: [c]}\n"
                               "    - {match: {rule: x}, notify: [a, b]}\n";

static void row_free(struct alert_row *r)
{
    json_decref(r->labels);
    json_decref(r->annotations);
}

static void row_init(struct alert_row *r, const char *rule, enum alert_severity sev, const char *db)
{
    memset(r, 0, sizeof(*r));
    r->rule = rule;
    r->severity = sev;
    r->labels = json_pack("{s:s}", "database", db);
    r->annotations = json_object();
    snprintf(r->key, sizeof(r->key), "%032x", (unsigned)(rule[0] + 31 * db[0] + 7 * sev));
    r->st.state = ALERT_FIRING;
    r->st.episode = 1;
}

static char *route_str(const struct alert_config *c, const struct alert_row *r)
{
    static char buf[128];
    const char *out[8];
    size_t n = outbox_route(c, r, NULL, 0, out, 8);
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++)
        snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i ? "," : "", out[i]);
    return buf;
}

static void test_route(void)
{
    struct alert_config c;
    struct alert_row r;

    alert_config_init(&c);
    alert_config_load_mem(&c, "c.yaml", cfg_yaml, sizeof(cfg_yaml) - 1);
    CHECK_MSG(c.nerrors == 0, "%s", c.errors.buf);
    row_init(&r, "y", ASEV_WARNING, "app");
    CHECK_EQ_STR(route_str(&c, &r), "a"); /* nothing matches: the default */
    row_free(&r);
    row_init(&r, "y", ASEV_CRITICAL, "app");
    CHECK_EQ_STR(route_str(&c, &r), "b"); /* continue: but nothing else matches */
    row_free(&r);
    row_init(&r, "y", ASEV_CRITICAL, "shop");
    CHECK_EQ_STR(route_str(&c, &r), "b,c"); /* continue to the regex entry, which stops */
    row_free(&r);
    row_init(&r, "x", ASEV_INFO, "crm");
    CHECK_EQ_STR(route_str(&c, &r), "c"); /* first match wins */
    row_free(&r);
    row_init(&r, "x", ASEV_INFO, "app");
    CHECK_EQ_STR(route_str(&c, &r), "a,b");
    const char *explicit_notify[] = { "c", "c", "a" };
    const char *out[8];
    CHECK_EQ_INT(outbox_route(&c, &r, explicit_notify, 3, out, 8), 2); /* deduplicated */
    row_free(&r);
    alert_config_release(&c);
}

static int count(struct alertdb *db, const char *where)
{
    char sql[256];
    sqlite3_stmt *st;
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM notifications WHERE %s", where);
    if (sqlite3_prepare_v2(db->db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    return n;
}

/* The alert resolves at @at (event time). */
static int resolve_at(struct outbox *ob, struct alert_row *r, int64_t at, struct diag *d)
{
    r->st.state = ALERT_RESOLVED;
    r->st.resolved_at = at;
    return outbox_transition(ob, r, "resolved", at, NULL, 0, d);
}

static void test_resolve_rules(void)
{
    struct alert_config c;
    struct alertdb *db;
    struct diag d = DIAG_INIT;
    struct outbox ob;
    struct alert_row r;
    const int64_t now = INT64_C(1795514400) * 1000000;

    alert_config_init(&c);
    alert_config_load_mem(&c, "c.yaml", cfg_yaml, sizeof(cfg_yaml) - 1);
    CHECK_EQ_INT(alertdb_open(&db, ":memory:", true, &d), 0);
    outbox_init(&ob, db, &c, now);
    row_init(&r, "y", ASEV_CRITICAL, "shop"); /* -> b, c */
    CHECK_EQ_INT(outbox_transition(&ob, &r, "firing", now, NULL, 0, &d), 0);
    CHECK_EQ_INT(count(db, "kind = 'firing' AND status = 'pending'"), 2);
    /* b's trigger goes out; c's is still waiting when the alert resolves, 10 s of event
     * time later: within group_wait (30 s), so c never hears of it. */
    CHECK_EQ_INT(
        adb_exec(db, "UPDATE notifications SET status = 'delivered' WHERE receiver = 'b'", &d), 0);
    CHECK_EQ_INT(resolve_at(&ob, &r, now + 10000000, &d), 0);
    CHECK_EQ_INT(count(db, "kind = 'resolved' AND receiver = 'b' AND status = 'pending'"), 1);
    CHECK_EQ_INT(count(db, "kind = 'resolved' AND receiver = 'c'"), 0);
    CHECK_EQ_INT(count(db, "kind = 'firing' AND receiver = 'c' AND status = 'dropped'"), 1);
    /* The next episode lasts a minute, and neither trigger was sent yet (a backlog of logs
     * evaluated in one run, or the receivers down): both are sent, then their resolves. */
    r.st.episode = 2;
    r.st.state = ALERT_FIRING;
    CHECK_EQ_INT(outbox_transition(&ob, &r, "firing", now + 100000000, NULL, 0, &d), 0);
    CHECK_EQ_INT(resolve_at(&ob, &r, now + 160000000, &d), 0);
    CHECK_EQ_INT(count(db, "episode = 2 AND kind = 'firing' AND status = 'pending'"), 2);
    /* (c has send_resolved: false) */
    CHECK_EQ_INT(count(db, "episode = 2 AND kind = 'resolved' AND status = 'pending'"), 1);
    CHECK_EQ_INT(count(db, "episode = 2 AND kind = 'resolved' AND receiver = 'b'"), 1);
    /* A resolve for a receiver with send_resolved: false is never queued. */
    row_free(&r);
    row_init(&r, "z", ASEV_INFO, "crm"); /* -> c */
    r.st.episode = 3;
    CHECK_EQ_INT(outbox_transition(&ob, &r, "firing", now, NULL, 0, &d), 0);
    CHECK_EQ_INT(adb_exec(db, "UPDATE notifications SET status = 'delivered'", &d), 0);
    r.st.state = ALERT_RESOLVED;
    CHECK_EQ_INT(outbox_transition(&ob, &r, "resolved", now, NULL, 0, &d), 0);
    CHECK_EQ_INT(count(db, "kind = 'resolved' AND receiver = 'c'"), 0);
    /* A silence added after the outbox loaded its silences is seen by the next outbox. */
    int64_t id;
    const char *m[] = { "database=app" };
    CHECK_EQ_INT(silence_add(db, m, 1, now - 1, now + 3600000000LL, "test", NULL, now, &id, &d), 0);
    outbox_release(&ob);
    outbox_init(&ob, db, &c, now);
    row_free(&r);
    row_init(&r, "q", ASEV_WARNING, "app"); /* -> a, silenced */
    CHECK_EQ_INT(outbox_transition(&ob, &r, "firing", now, NULL, 0, &d), 0);
    CHECK_EQ_INT(count(db, "receiver = 'a' AND status = 'silenced' AND note = 'silence 1'"), 1);
    CHECK_EQ_INT(ob.enqueued, 0); /* a silenced notification is not queued for sending */
    row_free(&r);
    outbox_release(&ob);
    alertdb_close(db);
    alert_config_release(&c);
}

TEST_LIST = {
    { "route", test_route },
    { "resolve_rules", test_resolve_rules },
    { NULL, NULL },
};
