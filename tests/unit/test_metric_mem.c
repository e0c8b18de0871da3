/* SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"

#include "event.h"
#include "rules/rules.h"

#define MIN (INT64_C(60) * 1000000)
#define T0  (INT64_C(1795514400) * 1000000) /* 2026-11-24T10:00:00Z */

static struct mem_record rec(int64_t ts, const char *kind)
{
    struct mem_record r = { .ts_us = ts,
                            .kind = kind,
                            .duration_ms = -1,
                            .wait_ms = -1,
                            .size_bytes = -1,
                            .tuples_dead = -1,
                            .database = "app",
                            .user = "web",
                            .input = "pg.log" };
    return r;
}

static const struct metric_group *one(struct metric_source *ms, struct metric_query *q,
                                      struct metric_result *res)
{
    struct diag d = DIAG_INIT;
    metric_result_reset(res);
    CHECK_EQ_INT(ms->query(ms, q, res, &d), 0);
    return res->n == 1 ? &res->g[0] : NULL;
}

static void test_queries(void)
{
    struct metric_source *ms = metric_mem_new();
    struct metric_result res;
    /* 1..100 ms, in reverse time order (the source sorts) */
    for (int i = 100; i >= 1; i--) {
        struct mem_record r = rec(T0 + i * 1000000, "duration");
        r.duration_ms = i;
        r.fingerprint = "1f3a5c7e9b2d4f60";
        r.query = "SELECT $1";
        metric_mem_add(ms, &r);
    }
    struct mem_record bind = rec(T0 + 5 * 1000000, "statement"); /* not a call */
    metric_mem_add(ms, &bind);
    metric_result_init(&res);
    struct metric_query q = {
        RSRC_QUERIES, MET_P95_MS, T0, T0 + 5 * MIN, (1u << DIM_DATABASE) | (1u << DIM_FINGERPRINT),
        NULL
    };
    static const struct {
        enum rule_metric m;
        double v;
    } want[] = { /* percentiles as percentile_cont: interpolated */
                 { MET_CALLS, 100 },   { MET_TOTAL_MS, 5050 }, { MET_MEAN_MS, 50.5 },
                 { MET_P50_MS, 50.5 }, { MET_P95_MS, 95.05 },  { MET_P99_MS, 99.01 },
                 { MET_MAX_MS, 100 }
    };
    for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
        q.metric = want[i].m;
        const struct metric_group *g = one(ms, &q, &res);
        if (CHECK(g != NULL)) {
            CHECK_MSG(fabs(g->value - want[i].v) < 1e-9, "%s: %g", rule_metric_name(want[i].m),
                      g->value);
            CHECK(g->count == 100);
            CHECK_EQ_STR(g->query, "SELECT $1");
            CHECK_EQ_STR(g->dims[DIM_DATABASE], "app");
            CHECK(g->dims[DIM_USER] == NULL); /* not grouped by user */
        }
    }
    /* The window is [from, to): the record at exactly `to` is not in it. */
    q.metric = MET_CALLS;
    q.to_us = T0 + 100 * 1000000;
    const struct metric_group *g = one(ms, &q, &res);
    CHECK(g && g->value == 99);
    /* seen(): in [from, to) for these dims */
    const char *dims[DIM_COUNT] = { "app", NULL, NULL, "1f3a5c7e9b2d4f60" };
    const char *other[DIM_COUNT] = { "shop", NULL, NULL, "1f3a5c7e9b2d4f60" };
    bool seen = false;
    struct diag d = DIAG_INIT;
    q.from_us = T0 + 50 * 1000000;
    q.to_us = T0 + 51 * 1000000;
    CHECK_EQ_INT(ms->seen(ms, &q, dims, &seen, &d), 0);
    CHECK(seen);
    CHECK_EQ_INT(ms->seen(ms, &q, other, &seen, &d), 0);
    CHECK(!seen);
    q.from_us = T0 - MIN;
    q.to_us = T0;
    CHECK_EQ_INT(ms->seen(ms, &q, dims, &seen, &d), 0);
    CHECK(!seen);
    int64_t lo, hi;
    uint64_t kinds;
    CHECK_EQ_INT(ms->bounds(ms, &lo, &hi, &d), 0);
    CHECK_EQ_INT(lo, T0 + 1000000);
    CHECK_EQ_INT(hi, T0 + 100 * 1000000);
    CHECK_EQ_INT(ms->kinds_seen(ms, &kinds, &d), 0);
    CHECK_EQ_U64(kinds, (UINT64_C(1) << EV_DURATION) | (UINT64_C(1) << EV_STATEMENT));
    metric_result_release(&res);
    ms->free(ms);
}

static void test_events_and_where(void)
{
    struct metric_source *ms = metric_mem_new();
    struct metric_result res;
    struct rule_set rs;
    static const char y[] =
        "rules:\n"
        "  - {name: a, kind: threshold, source: errors, metric: rate_per_min, window: 5m,\n"
        "     group_by: [sqlstate_class], where: {sqlstate_class: ['40']}, condition: '> 1'}\n"
        "  - {name: b, kind: event, where: {type: [lock_wait], wait_ms: '> 5s'}}\n"
        "  - {name: c, kind: threshold, source: events, metric: 'max(size_bytes)',\n"
        "     where: {type: temp_file, database: [app]}, condition: '> 1MB'}\n";

    for (int i = 0; i < 10; i++) {
        struct mem_record r = rec(T0 + i * 20 * 1000000, "deadlock");
        r.severity = "ERROR";
        r.sqlstate = "40P01";
        metric_mem_add(ms, &r);
    }
    struct mem_record other = rec(T0, "error");
    other.severity = "ERROR";
    other.sqlstate = "23505";
    metric_mem_add(ms, &other);
    struct mem_record w1 = rec(T0 + 1000000, "lock_wait"), w2 = rec(T0 + 2000000, "lock_wait");
    w1.wait_ms = 6000;
    w2.wait_ms = 200;
    metric_mem_add(ms, &w1);
    metric_mem_add(ms, &w2);
    struct mem_record t1 = rec(T0 + 3000000, "temp_file"), t2 = rec(T0 + 4000000, "temp_file");
    t1.size_bytes = 2 << 20;
    t2.size_bytes = 3 << 20;
    t2.database = "shop";
    metric_mem_add(ms, &t1);
    metric_mem_add(ms, &t2);

    rule_set_init(&rs);
    rules_load_mem(&rs, "w.yaml", y, sizeof(y) - 1);
    CHECK_MSG(rs.nerrors == 0, "%s", rs.errors.buf);
    metric_result_init(&res);
    struct metric_query q = { RSRC_ERRORS,  MET_RATE_PER_MIN,         T0,
                              T0 + 5 * MIN, 1u << DIM_SQLSTATE_CLASS, &rs.rules[0].where };
    const struct metric_group *g = one(ms, &q, &res);
    if (CHECK(g != NULL)) {
        CHECK(g->value == 2.0); /* 10 in 5 minutes; the 23505 is another class */
        CHECK_EQ_STR(g->dims[DIM_SQLSTATE_CLASS], "40");
    }
    struct metric_query q2 = { RSRC_EVENTS, MET_COUNT, T0, T0 + MIN, 0, &rs.rules[1].where };
    g = one(ms, &q2, &res);
    CHECK(g && g->value == 1); /* only the 6 s wait */
    struct metric_query q3 = { RSRC_EVENTS, MET_MAX_SIZE, T0, T0 + MIN, 0, &rs.rules[2].where };
    g = one(ms, &q3, &res);
    CHECK(g && g->value == 2 << 20); /* the 3 MB file was in another database */
    /* Group by a dimension the records lack: they still count, under the empty value
     * (the label database="" or application=""), not dropped. */
    struct metric_query q4 = { RSRC_EVENTS, MET_COUNT, T0, T0 + MIN, 1u << DIM_APPLICATION, NULL };
    struct diag d = DIAG_INIT;
    metric_result_reset(&res);
    CHECK_EQ_INT(ms->query(ms, &q4, &res, &d), 0);
    CHECK_EQ_INT(res.n, 1);
    if (res.n == 1) {
        CHECK(res.g[0].dims[DIM_APPLICATION] == NULL);
        CHECK(res.g[0].value == 8); /* 3 deadlocks, the error, 2 waits, 2 files */
    }
    metric_result_release(&res);
    rule_set_release(&rs);
    ms->free(ms);
}

static void test_ndjson(void)
{
    char path[] = "/tmp/sift-mem-XXXXXX";
    int fd = mkstemp(path);
    static const char text[] =
        "# comment\n"
        "{\"ts\":\"2026-11-24T10:00:01Z\",\"kind\":\"duration\",\"duration_ms\":5,"
        "\"phase\":\"execute\",\"src\":\"a.log:1\"}\n"
        "{\"ts\":\"2026-11-24T10:00:02Z\",\"kind\":\"duration\",\"duration_ms\":7,"
        "\"phase\":\"bind\",\"src\":\"a.log:2\"}\n"
        "\n"
        "{\"ts\":\"2026-11-24T10:00:03Z\",\"kind\":\"other\",\"src\":\"b.log:7\"}\n"
        /* pgsift parse writes a NUL byte of the log as \u0000 (fuzz_event_json) */
        "{\"ts\":\"2026-11-24T10:00:03Z\",\"kind\":\"other\",\"message\":\"a\\u0000b\","
        "\"src\":\"b.log:8\"}\n"
        "{\"ts\":\"2026-11-24T10:00:04Z\",\"kind\":\"duration\",\"duration_ms\":3,"
        "\"query\":\"SELECT * FROM t WHERE id = 42 AND name = 'bob'\",\"src\":\"a.log:3\"}\n";
    CHECK(write(fd, text, sizeof(text) - 1) == (ssize_t)(sizeof(text) - 1));
    close(fd);
    struct metric_source *ms = metric_mem_new();
    struct metric_result res;
    struct diag d = DIAG_INIT;
    CHECK_EQ_INT(metric_mem_load_ndjson(ms, path, &d), 0);
    metric_result_init(&res);
    struct metric_query q = { RSRC_QUERIES, MET_CALLS, T0, T0 + MIN, 0, NULL };
    const struct metric_group *g = one(ms, &q, &res);
    CHECK(g && g->value == 2); /* the bind step is not a call */
    /* SQL without a fingerprint is normalized on load: literals never reach a group. */
    q.group_mask = 1u << DIM_FINGERPRINT;
    metric_result_reset(&res);
    CHECK_EQ_INT(ms->query(ms, &q, &res, &d), 0);
    CHECK_EQ_INT(res.n, 1); /* the first duration had no SQL */
    if (res.n == 1) {
        CHECK_EQ_STR(res.g[0].dims[DIM_FINGERPRINT], "40c06dbb50fdfd5a");
        CHECK_EQ_STR(res.g[0].query, "select * from t where id = $1 and name = $2");
    }
    struct metric_query l = { RSRC_INGEST, MET_LINES, T0, T0 + MIN, 1u << DIM_INPUT, NULL };
    metric_result_reset(&res);
    CHECK_EQ_INT(ms->query(ms, &l, &res, &d), 0);
    CHECK_EQ_INT(res.n, 2); /* inputs a.log and b.log, from src */
    metric_result_release(&res);
    ms->free(ms);

    FILE *f = fopen(path, "a");
    fputs("{\"kind\":\"error\"}\n", f);
    fclose(f);
    ms = metric_mem_new();
    CHECK_EQ_INT(metric_mem_load_ndjson(ms, path, &d), -1);
    CHECK_MSG(strstr(d.msg, ":8: missing or invalid \"ts\"") != NULL, "%s", d.msg);
    ms->free(ms);
    unlink(path);
}

/* Hand-made (one process, two separate waits): sum(wait_ms) counts a wait once, with its
 * longest report, and a later wait of the same process apart. */
static void test_wait_sum(void)
{
    struct metric_source *ms = metric_mem_new();
    struct metric_result res;
    static const struct {
        int64_t at_ms;
        const char *kind;
        double wait_ms;
        int64_t pid;
    } v[] = {
        { 1200, "lock_wait", 200, 7 },      /* wait 1 began at 1.0 s: still waiting */
        { 1250, "lock_wait", 200, 8 },      /* another process: its own wait */
        { 1300, "lock_acquired", 300, 7 },  /* wait 1 ends: 300 ms in all */
        { 10200, "lock_wait", 200, 7 },     /* wait 2 began at 10.0 s */
        { 10500, "lock_acquired", 500, 0 }, /* no pid: counted as it is */
    };
    for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
        struct mem_record r = rec(T0 + v[i].at_ms * 1000, v[i].kind);
        r.wait_ms = v[i].wait_ms;
        r.pid = v[i].pid;
        metric_mem_add(ms, &r);
    }
    metric_result_init(&res);
    struct metric_query q = { RSRC_EVENTS, MET_SUM_WAIT, T0, T0 + MIN, 0, NULL };
    const struct metric_group *g = one(ms, &q, &res);
    CHECK(g && g->value == 300 + 200 + 200 + 500);
    q.metric = MET_COUNT;
    g = one(ms, &q, &res);
    CHECK(g && g->value == 5); /* count is still every record */
    metric_result_release(&res);
    ms->free(ms);
}

/* Autovacuum runs that left dead tuples they could not remove, by table (where
 * tuples_dead, group_by relation): from records, from NDJSON with the facts as `pgsift
 * parse` prints them, and from NDJSON of an older pgsift, with the message alone. */
static void test_vacuum_dead_tuples(void)
{
    struct metric_source *ms = metric_mem_new();
    struct metric_result res;
    struct rule_set rs;
    struct diag d = DIAG_INIT;
    static const char y[] = "rules:\n"
                            "  - {name: v, kind: event, group_by: [relation],\n"
                            "     where: {type: [autovacuum], tuples_dead: '> 100000'}}\n";
    static const char *const rel[] = { "app.public.a", "app.public.b", "app.public.a", NULL };
    static const int64_t dead[] = { 200000, 100000, 150000, 500000 };
    for (int i = 0; i < 4; i++) {
        struct mem_record r = rec(T0 + i * 1000000, "autovacuum");
        r.relation = rel[i];
        r.tuples_dead = dead[i];
        metric_mem_add(ms, &r);
    }
    struct mem_record absent = rec(T0 + 5000000, "autovacuum"); /* no number: no match */
    absent.relation = "app.public.c";
    metric_mem_add(ms, &absent);

    rule_set_init(&rs);
    rules_load_mem(&rs, "v.yaml", y, sizeof(y) - 1);
    CHECK_MSG(rs.nerrors == 0, "%s", rs.errors.buf);
    metric_result_init(&res);
    struct metric_query q = { RSRC_EVENTS, MET_COUNT,          T0,
                              T0 + MIN,    1u << DIM_RELATION, &rs.rules[0].where };
    CHECK_EQ_INT(ms->query(ms, &q, &res, &d), 0);
    CHECK_EQ_INT(res.n, 2); /* a (twice), and the run without a table; b is not above */
    for (size_t i = 0; i < res.n; i++) {
        const char *k = res.g[i].dims[DIM_RELATION];
        CHECK(k == NULL ? res.g[i].value == 1 : !strcmp(k, "app.public.a") && res.g[i].value == 2);
    }
    metric_result_release(&res);
    ms->free(ms);

    char path[] = "/tmp/sift-vac-XXXXXX";
    int fd = mkstemp(path);
    static const char text[] =
        "{\"ts\":\"2026-11-24T10:00:01Z\",\"kind\":\"autovacuum\",\"src\":\"a.log:1\","
        "\"relation\":\"app.public.t\",\"tuples_dead\":300000}\n"
        "{\"ts\":\"2026-11-24T10:00:02Z\",\"kind\":\"autovacuum\",\"severity\":\"LOG\","
        "\"src\":\"a.log:2\",\"message\":\"automatic vacuum of table \\\"app.public.t\\\": index "
        "scans: 0\\npages: 0 removed, 10 remain, 10 scanned (100.00% of total)\\ntuples: 0 "
        "removed, 900 remain, 400000 are dead but not yet removable\"}\n"
        "{\"ts\":\"2026-11-24T10:00:03Z\",\"kind\":\"autovacuum\",\"severity\":\"LOG\","
        "\"src\":\"a.log:3\",\"message\":\"automatic vacuum of table \\\"app.public.u\\\": index "
        "scans: 0\\ntuples: 0 removed, 900 remain, 5 are dead but not yet removable\"}\n";
    CHECK(write(fd, text, sizeof(text) - 1) == (ssize_t)(sizeof(text) - 1));
    close(fd);
    ms = metric_mem_new();
    CHECK_EQ_INT(metric_mem_load_ndjson(ms, path, &d), 0);
    metric_result_init(&res);
    CHECK_EQ_INT(ms->query(ms, &q, &res, &d), 0);
    CHECK_EQ_INT(res.n, 1);
    if (res.n == 1) { /* the facts as printed, and read back from the older line's text */
        CHECK_EQ_STR(res.g[0].dims[DIM_RELATION], "app.public.t");
        CHECK(res.g[0].value == 2);
    }
    metric_result_release(&res);
    ms->free(ms);
    rule_set_release(&rs);
    unlink(path);
}

TEST_LIST = {
    { "wait_sum", test_wait_sum },
    { "queries", test_queries },
    { "events_and_where", test_events_and_where },
    { "ndjson", test_ndjson },
    { "vacuum_dead_tuples", test_vacuum_dead_tuples },
    { NULL, NULL },
};
