/* SPDX-License-Identifier: MIT */
/*
 * metric_store's events: the decoded events it keeps between queries give what decoding
 * each query's window from the store gives - windows moving forward as the engine asks
 * them, longer and shorter ones at one boundary, errors and events, under a bound that
 * forces its fallbacks - and a commit to the store is seen by the next query.
 */
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "rng.h"
#include <sqlite3.h>

#include "core/xalloc.h"
#include "event.h"
#include "rules/rules_int.h"
#include "store/store.h"

#define TMPFILES_TEMPLATE "/tmp/sift-mstore.XXXXXX"
#include "tmpfiles.h"

#define MIN (INT64_C(60) * 1000000)
#define T0  (INT64_C(1795514400) * 1000000) /* 2026-11-24T10:00:00Z */

static const char *const dbs[] = { "app", "billing", "" };
static const char *const users[] = { "web", "batch" };

static struct event random_event(int64_t ts)
{
    static const enum event_kind kinds[] = { EV_DEADLOCK,   EV_LOCK_WAIT,    EV_LOCK_ACQUIRED,
                                             EV_TEMP_FILE,  EV_CHECKPOINT,   EV_ERROR,
                                             EV_CONNECTION, EV_AUTH_FAILURE, EV_AUTHENTICATED };
    struct event ev;
    event_clear(&ev);
    ev.ts_us = ts;
    ev.kind = kinds[rnd((uint32_t)ARRAY_SIZE(kinds))];
    ev.severity = SEV_LOG;
    ev.database = span_cstr(dbs[rnd((uint32_t)ARRAY_SIZE(dbs))]);
    ev.user = span_cstr(users[rnd((uint32_t)ARRAY_SIZE(users))]);
    ev.pid = 100 + (int64_t)rnd(5);
    ev.message = SPAN_LIT("made up");
    switch (ev.kind) {
    case EV_LOCK_WAIT:
    case EV_LOCK_ACQUIRED:
        ev.facts.wait_ms = 1000.0 * (double)rnd(10);
        ev.facts.step = ev.kind == EV_LOCK_WAIT ? STEP_START : STEP_END;
        break;
    case EV_TEMP_FILE: ev.facts.temp_bytes = (int64_t)rnd(1000) << 20; break;
    case EV_CHECKPOINT: ev.facts.step = rnd(2) ? STEP_START : STEP_END; break;
    case EV_ERROR:
    case EV_AUTH_FAILURE:
        ev.severity = rnd(4) ? SEV_ERROR : SEV_FATAL;
        memcpy(ev.sqlstate, rnd(2) ? "40P01" : "53100", 6);
        break;
    default: break;
    }
    if (rnd(3) == 0) {
        ev.flags |= EVENT_HAS_FINGERPRINT;
        ev.fingerprint = 1 + rnd(4);
        ev.fingerprint_hi = ev.fingerprint * 31;
        ev.normalized = SPAN_LIT("select * from t where id = $1");
    }
    return ev;
}

/* @n random events in [from, from + span), committed. */
static void add_events(const char *path, size_t n, int64_t from, int64_t span)
{
    struct store *s = NULL;
    struct store_opts o = { 0 };
    struct diag d = DIAG_INIT;
    CHECK_EQ_INT(store_open(&s, path, &o, &d), 0);
    for (size_t i = 0; i < n; i++) {
        struct event ev = random_event(from + (int64_t)rnd((uint32_t)span));
        store_add(s, &ev);
    }
    CHECK_EQ_INT(store_commit(s, NULL, &d), STORE_COMMITTED);
    store_close(s);
}

static struct metric_source *open_ms(const char *path, const char *max)
{
    struct diag d = DIAG_INIT;
    if (max)
        setenv("SIFT_TEST_RULE_CACHED_EVENTS", max, 1);
    struct metric_source *ms = metric_store_open(path, &d);
    unsetenv("SIFT_TEST_RULE_CACHED_EVENTS");
    CHECK(ms != NULL);
    return ms;
}

/* The result as one comparable text: groups in order, with their values. */
static void dump(const struct metric_result *res, struct sbuf *out)
{
    sbuf_reset(out);
    for (size_t i = 0; i < res->n; i++) {
        const struct metric_group *g = &res->g[i];
        for (unsigned k = 0; k < DIM_COUNT; k++)
            CHECK(sbuf_addf(out, "%s|", g->dims[k] ? g->dims[k] : "-") == 0);
        CHECK(sbuf_addf(out, "%.6f %.0f %s\n", g->value, g->count, g->query ? g->query : "-") == 0);
    }
}

static void query_text(struct metric_source *ms, const struct metric_query *q, struct sbuf *out)
{
    struct metric_result res;
    struct diag d = DIAG_INIT;
    metric_result_init(&res);
    CHECK_EQ_INT(ms->query(ms, q, &res, &d), 0);
    dump(&res, out);
    metric_result_release(&res);
}

struct rq {
    enum rule_source source;
    enum rule_metric metric;
    int64_t window;
    unsigned group_mask;
    const char *type; /* where type: [type], or NULL */
    double wait_over; /* where wait_ms > this, or < 0 */
};

static const struct rq rule_queries[] = {
    { RSRC_EVENTS, MET_COUNT, MIN, 1u << DIM_DATABASE, "deadlock", -1 },
    { RSRC_EVENTS, MET_SUM_SIZE, 15 * MIN, (1u << DIM_DATABASE) | (1u << DIM_FINGERPRINT),
      "temp_file", -1 },
    { RSRC_ERRORS, MET_COUNT, 5 * MIN, (1u << DIM_DATABASE) | (1u << DIM_SQLSTATE_CLASS), NULL,
      -1 },
    { RSRC_EVENTS, MET_SUM_WAIT, 10 * MIN, 1u << DIM_DATABASE, "lock_wait", 2000 },
    { RSRC_EVENTS, MET_COUNT, 30 * MIN, 0, "checkpoint", -1 },
    { RSRC_EVENTS, MET_MAX_WAIT, 2 * MIN, 1u << DIM_USER, NULL, -1 },
};

static void make_query(const struct rq *x, int64_t t, struct rule_where *w, const char **type,
                       struct metric_query *q)
{
    memset(w, 0, sizeof(*w));
    if (x->type) {
        *type = x->type;
        w->in[DIM_TYPE].v = type;
        w->in[DIM_TYPE].n = 1;
    }
    if (x->wait_over >= 0) {
        w->wait_ms.op = CMP_GT;
        w->wait_ms.value = x->wait_over;
    }
    *q = (struct metric_query){ x->source, x->metric, t - x->window, t, x->group_mask, w, 0 };
}

/* Boundaries one minute apart, every rule at each, as the engine asks: the kept events
 * answer each query as a fresh read of its window does. */
static void compare_at_boundaries(const char *path, const char *max, int64_t from, int64_t to,
                                  int64_t most_decoded)
{
    struct metric_source *kept = open_ms(path, max), *fresh = open_ms(path, "0");
    struct sbuf a = SBUF_INIT, b = SBUF_INIT;
    size_t nonempty = 0;

    for (int64_t t = from; t <= to; t += MIN) {
        for (size_t i = 0; i < ARRAY_SIZE(rule_queries); i++) {
            struct rule_where w;
            const char *type;
            struct metric_query q;
            make_query(&rule_queries[i], t, &w, &type, &q);
            query_text(kept, &q, &a);
            query_text(fresh, &q, &b);
            if (strcmp(a.buf ? a.buf : "", b.buf ? b.buf : "")) {
                fprintf(stderr, "max %s, t %+lld min, query %zu:\nkept:\n%s\nfresh:\n%s\n", max,
                        (long long)((t - T0) / MIN), i, a.buf ? a.buf : "", b.buf ? b.buf : "");
                CHECK(!"kept events differ from the store's");
                goto out;
            }
            nonempty += a.len > 0;
        }
    }
    CHECK(nonempty > 100); /* the comparison saw results, not only empty windows */
    if (most_decoded) {
        /* each event read once, not once per rule and minute of its window */
        int64_t n = metric_store_events_decoded(kept);
        if (n > most_decoded)
            fprintf(stderr, "decoded %lld events, more than %lld\n", (long long)n,
                    (long long)most_decoded);
        CHECK(n > 0 && n <= most_decoded);
    }
out:
    sbuf_release(&a);
    sbuf_release(&b);
    kept->free(kept);
    fresh->free(fresh);
}

static void test_same_as_fresh(void)
{
    const char *path = tmp_path("same.db");
    /* three hours, committed in pieces as ingest does, one piece out of time order */
    add_events(path, 3000, T0, 60 * MIN);
    add_events(path, 3000, T0 + 60 * MIN, 120 * MIN);
    add_events(path, 500, T0 + 30 * MIN, 60 * MIN);
    compare_at_boundaries(path, NULL, T0, T0 + 185 * MIN, 6500);
    /* a bound under one window's events: windows are read alone, or for their query */
    compare_at_boundaries(path, "40", T0, T0 + 185 * MIN, 0);
    compare_at_boundaries(path, "400", T0, T0 + 185 * MIN, 0);
    unlink(path);
}

/* The daemon keeps its metric source open while ingest commits: a window read before a
 * commit and again after it has the new events. */
static void test_commit_seen(void)
{
    const char *path = tmp_path("grow.db");
    add_events(path, 200, T0, 10 * MIN);
    struct metric_source *ms = open_ms(path, NULL);
    struct metric_query q = { RSRC_EVENTS, MET_COUNT, T0, T0 + 10 * MIN, 0, NULL, 0 };
    struct metric_result res;
    struct diag d = DIAG_INIT;
    metric_result_init(&res);
    CHECK_EQ_INT(ms->query(ms, &q, &res, &d), 0);
    CHECK(res.n == 1);
    double before = res.n ? res.g[0].value : 0;
    add_events(path, 50, T0 + 5 * MIN, MIN);
    metric_result_reset(&res);
    CHECK_EQ_INT(ms->query(ms, &q, &res, &d), 0);
    CHECK(res.n == 1 && before > 0 && res.g[0].value > before);
    /* the same count as a fresh read */
    struct metric_source *fresh = open_ms(path, "0");
    struct metric_result res2;
    metric_result_init(&res2);
    CHECK_EQ_INT(fresh->query(fresh, &q, &res2, &d), 0);
    CHECK(res2.n == 1 && res.n == 1 && res2.g[0].value == res.g[0].value);
    /* A commit to other tables (the rules' own alert state, at every boundary of `rules
     * eval`) keeps the decoded events: nothing is decoded again. */
    sqlite3 *db;
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_EQ_INT(
        sqlite3_exec(db, "CREATE TABLE other (x); INSERT INTO other VALUES (1)", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    int64_t decoded = metric_store_events_decoded(ms);
    metric_result_reset(&res);
    CHECK_EQ_INT(ms->query(ms, &q, &res, &d), 0);
    CHECK(res.n == 1 && res2.n == 1 && res.g[0].value == res2.g[0].value);
    CHECK_EQ_INT(metric_store_events_decoded(ms), decoded);
    metric_result_release(&res);
    metric_result_release(&res2);
    fresh->free(fresh);
    ms->free(ms);
    unlink(path);
}

static void cleanup(void)
{
    char side[160];
    const char *names[] = { "same.db", "grow.db" };
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        snprintf(side, sizeof(side), "%s-wal", tmp_path(names[i]));
        unlink(side);
        snprintf(side, sizeof(side), "%s-shm", tmp_path(names[i]));
        unlink(side);
    }
    CHECK_EQ_INT(rmdir(tmpdir), 0);
}

TEST_LIST = {
    { "same_as_fresh", test_same_as_fresh },
    { "commit_seen", test_commit_seen },
    { "cleanup", cleanup },
    { NULL, NULL },
};
