/* SPDX-License-Identifier: MIT */
/* rules/history.c: episodes of a period rebuilt from alert_history. */
#include "check.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/limits.h"
#include "rules/rules.h"

#define MIN   (INT64_C(60) * 1000000)
#define H(hh) (INT64_C(1764000000) * 1000000 + (int64_t)(hh)*60 * MIN)

static char path[64];

static sqlite3 *fresh_store(void)
{
    struct diag d = DIAG_INIT;
    struct alertdb *db;
    sqlite3 *s = NULL;

    snprintf(path, sizeof(path), "/tmp/sift-history.XXXXXX");
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    unlink(path);
    CHECK(alertdb_open(&db, path, true, &d) == 0); /* the alert tables */
    alertdb_close(db);
    CHECK(sqlite3_open(path, &s) == SQLITE_OK);
    return s;
}

static void done(sqlite3 *s)
{
    char p[80];
    sqlite3_close(s);
    unlink(path);
    snprintf(p, sizeof(p), "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", path);
    unlink(p);
}

static void sql(sqlite3 *s, const char *q)
{
    char *err = NULL;
    CHECK_MSG(sqlite3_exec(s, q, NULL, NULL, &err) == SQLITE_OK, "%s: %s", q, err);
    sqlite3_free(err);
}

static void instance(sqlite3 *s, const char *key, const char *rule, const char *labels,
                     const char *severity, const char *ann)
{
    char *q = sqlite3_mprintf(
        "INSERT INTO alert_instances (instance_key, rule, labels, severity, state, annotations, "
        "updated_at) VALUES (%Q, %Q, %Q, %Q, 'resolved', %Q, 0)",
        key, rule, labels, severity, ann);
    sql(s, q);
    sqlite3_free(q);
}

static void transition(sqlite3 *s, const char *key, const char *rule, int64_t at, const char *t,
                       double value)
{
    char *q = sqlite3_mprintf("INSERT INTO alert_history (at, instance_key, rule, transition, "
                              "value, recorded_at) VALUES (%lld, %Q, %Q, %Q, %f, 0)",
                              (long long)at, key, rule, t, value);
    sql(s, q);
    sqlite3_free(q);
}

static void note(sqlite3 *s, const char *key, int64_t at, const char *kind, const char *status)
{
    char *q = sqlite3_mprintf("INSERT INTO notifications (receiver, instance_key, episode, kind, "
                              "group_key, alert, event_at, created_at, status) VALUES ('ops', "
                              "%Q, 1, %Q, '{}', '{}', %lld, 0, %Q)",
                              key, kind, (long long)at, status);
    sql(s, q);
    sqlite3_free(q);
}

static const struct alert_episode *find(const struct alert_history *h, const char *key,
                                        int64_t fired)
{
    for (size_t i = 0; i < h->n; i++)
        if (!strcmp(h->v[i].instance_key, key) && h->v[i].fired_at == fired)
            return &h->v[i];
    return NULL;
}

static const struct alert_rule_count *count_of(const struct alert_history *h, const char *rule)
{
    for (size_t i = 0; i < h->nrules; i++)
        if (!strcmp(h->rules[i].rule, rule))
            return &h->rules[i];
    return NULL;
}

static void test_episodes(void)
{
    sqlite3 *s = fresh_store();
    struct alert_history h;
    struct diag d = DIAG_INIT;

    instance(s, "a", "deadlock", "{\"database\":\"app\",\"rule\":\"deadlock\"}", "critical",
             "{\"summary\":\"2 deadlocks on app\"}");
    instance(s, "b", "slow", "{\"database\":\"app\",\"fingerprint\":\"ff\",\"rule\":\"slow\"}",
             "warning", "{}");
    instance(s, "c", "slow", "{\"database\":\"old\",\"rule\":\"slow\"}", "warning", "{}");
    instance(s, "d", "x\"><svg onload=alert(1)>", "{\"rule\":\"x\",\"user\":\"</script>\"}", "info",
             "{\"summary\":\"<script>alert(1)</script>\"}");
    instance(s, "e", "deadlock", "{\"database\":\"other\",\"rule\":\"deadlock\"}", "critical",
             "{}");

    /* Period [H(11), H(12)). */
    transition(s, "a", "deadlock", H(10), "pending", 1);
    transition(s, "a", "deadlock", H(10), "firing", 2);
    transition(s, "a", "deadlock", H(10) + MIN, "recovering", 2);
    transition(s, "a", "deadlock", H(11) + 30 * MIN, "resolved", 2); /* ends inside */
    transition(s, "b", "slow", H(11) + 10 * MIN, "firing", 800);
    transition(s, "b", "slow", H(11) + 15 * MIN, "recovering", 800);
    transition(s, "b", "slow", H(11) + 16 * MIN, "refiring", 900);
    transition(s, "b", "slow", H(12) + 30 * MIN, "resolved", 900); /* after the end */
    transition(s, "c", "slow", H(9), "firing", 1);
    transition(s, "c", "slow", H(9) + 30 * MIN, "resolved", 1); /* before: not listed */
    transition(s, "d", "x", H(11) + 20 * MIN, "firing", 3);
    transition(s, "d", "x", H(11) + 40 * MIN, "resolved", 3);
    transition(s, "d", "x", H(11) + 50 * MIN, "firing", 4); /* a second episode */
    transition(s, "e", "deadlock", H(8), "firing", 1);      /* never resolved */
    transition(s, "e", "deadlock", H(12), "resolved", 1);   /* at the end: after it */
    note(s, "a", H(10), "firing", "delivered");
    note(s, "a", H(11) + 30 * MIN, "resolved", "failed");
    note(s, "c", H(9), "firing", "delivered");
    note(s, "d", H(11) + 20 * MIN, "firing", "delivered");
    note(s, "d", H(11) + 50 * MIN, "firing", "pending");

    alert_history_init(&h);
    CHECK_EQ_INT(alert_history_read(path, H(11), H(12), &h, &d), 0);
    CHECK(h.known);
    CHECK_EQ_INT((int)h.n, 5);
    const struct alert_episode *e = find(&h, "a", H(10));
    if (CHECK(e)) {
        CHECK_EQ_STR(e->rule, "deadlock");
        CHECK_EQ_STR(e->severity, "critical");
        CHECK_EQ_STR(e->labels, "database=app");
        CHECK_EQ_STR(e->summary, "2 deadlocks on app");
        CHECK(!e->fired_in_period && e->resolved_in_period);
        CHECK(e->resolved_at == H(11) + 30 * MIN);
        CHECK(e->value == 2);
        CHECK_EQ_INT((int)e->notified, 1);
        CHECK_EQ_INT((int)e->failed, 1);
    }
    e = find(&h, "b", H(11) + 10 * MIN);
    if (CHECK(e)) {
        CHECK(e->fired_in_period && !e->resolved_in_period && e->resolved_at == 0);
        CHECK_EQ_STR(e->labels, "database=app, fingerprint=ff");
        CHECK(e->summary == NULL);
    }
    CHECK(find(&h, "c", H(9)) == NULL);
    e = find(&h, "d", H(11) + 20 * MIN);
    if (CHECK(e)) {
        CHECK_EQ_STR(e->rule, "x\"><svg onload=alert(1)>");
        CHECK_EQ_STR(e->labels, "user=</script>");
        CHECK(e->resolved_at == H(11) + 40 * MIN);
        CHECK_EQ_INT((int)e->notified, 1);
    }
    e = find(&h, "d", H(11) + 50 * MIN);
    if (CHECK(e)) {
        CHECK(e->fired_in_period && e->resolved_at == 0);
        CHECK_EQ_INT((int)e->notified, 0); /* pending is neither sent nor failed */
        CHECK_EQ_INT((int)e->failed, 0);
    }
    e = find(&h, "e", H(8));
    if (CHECK(e))
        CHECK(!e->fired_in_period && !e->resolved_in_period && e->resolved_at == 0);

    CHECK_EQ_INT((int)h.fired, 3);
    CHECK_EQ_INT((int)h.resolved, 2);
    CHECK_EQ_INT((int)h.firing_at_end, 3);
    const struct alert_rule_count *c = count_of(&h, "deadlock");
    if (CHECK(c))
        CHECK(c->fired == 0 && c->resolved == 1 && c->firing_at_end == 1);
    c = count_of(&h, "slow");
    if (CHECK(c))
        CHECK(c->fired == 1 && c->resolved == 0 && c->firing_at_end == 1);
    CHECK(count_of(&h, "x\"><svg onload=alert(1)>") != NULL);
    alert_history_release(&h);

    /* A period without any of it. */
    alert_history_init(&h);
    CHECK_EQ_INT(alert_history_read(path, H(2), H(3), &h, &d), 0);
    CHECK(h.known);
    CHECK_EQ_INT((int)h.n, 0);
    alert_history_release(&h);
    done(s);
}

static void test_no_tables(void)
{
    sqlite3 *s;
    struct alert_history h;
    struct diag d = DIAG_INIT;

    snprintf(path, sizeof(path), "/tmp/sift-history.XXXXXX");
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    CHECK(sqlite3_open(path, &s) == SQLITE_OK);
    sql(s, "CREATE TABLE queries (x INTEGER)");
    alert_history_init(&h);
    CHECK_EQ_INT(alert_history_read(path, H(0), H(24), &h, &d), 0);
    CHECK(!h.known);
    CHECK_EQ_INT((int)h.n, 0);
    alert_history_release(&h);
    done(s);

    /* No file at all: an error naming it, nothing created. */
    alert_history_init(&h);
    CHECK_EQ_INT(alert_history_read("/nonexistent/sift.db", H(0), H(24), &h, &d), -1);
    CHECK(strstr(d.msg, "'/nonexistent/sift.db'") != NULL);
    CHECK(access("/nonexistent/sift.db", F_OK) < 0);
    alert_history_release(&h);
}

static void test_cap(void)
{
    sqlite3 *s = fresh_store();
    struct alert_history h;
    struct diag d = DIAG_INIT;
    unsigned n = SIFT_MAX_REPORT_ALERTS + 7;

    sql(s, "BEGIN");
    for (unsigned i = 0; i < n; i++) {
        char key[16];
        snprintf(key, sizeof(key), "k%05u", i);
        instance(s, key, "many", "{}", "info", "{}");
        transition(s, key, "many", H(11) + i, "firing", 1);
    }
    sql(s, "COMMIT");
    alert_history_init(&h);
    CHECK_EQ_INT(alert_history_read(path, H(11), H(12), &h, &d), 0);
    CHECK_EQ_INT((int)h.n, (int)SIFT_MAX_REPORT_ALERTS);
    CHECK_EQ_INT((int)h.dropped, 7);
    CHECK_EQ_INT((int)h.fired, (int)n);
    CHECK(h.nrules == 1 && h.rules[0].firing_at_end == n);
    alert_history_release(&h);
    done(s);
}

TEST_LIST = {
    { "episodes", test_episodes },
    { "no_tables", test_no_tables },
    { "cap", test_cap },
    { NULL, NULL },
};
