/* SPDX-License-Identifier: MIT */
/*
 * test_store_plans - plan shapes in the store (store/plans.c): shapes per query with
 * calls and latency, runs across commits, plan-change detection, the sample policy,
 * redaction (and --keep-literals), exactly-once with the batch, the SIFT_MAX_PLAN_RUNS
 * bound at limit-1, limit and limit+1, and expiry.
 *
 * The plan bodies are the shapes of the real plan-insights fixture (Bitmap Heap Scan vs
 * Seq Scan of one statement), trimmed to what the tests vary.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "classify/classify.h"
#include "core/arena.h"
#include "core/clock.h"
#include "core/limits.h"
#include "store/store.h"
#include "store/store_int.h"

static char dir[256];
static int db_seq;

static void new_path(char *buf, size_t n)
{
    if (!dir[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof(dir), "%s/sift-test-plans.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            exit(1);
        }
    }
    snprintf(buf, n, "%s/p%d.db", dir, ++db_seq);
}

static struct store *open_store(const char *path, bool ro, bool keep)
{
    struct store *s = NULL;
    struct diag d = DIAG_INIT;
    struct store_opts o = { .read_only = ro, .keep_literals = keep };
    if (store_open(&s, path, &o, &d) < 0) {
        fprintf(stderr, "store_open: %s\n", d.msg);
        exit(1);
    }
    return s;
}

#define T0 (INT64_C(1795514400) * 1000000) /* 2026-11-24T10:00:00Z */
#define FP UINT64_C(0xfc22575d2f6595b0)

/* shape A: the index */
static const char *const plan_a =
    "Query Text: SELECT sum(amount) FROM orders_pi WHERE customer_id = 42;\n"
    "Aggregate  (cost=306.88..306.89 rows=1 width=32) (actual time=0.233..0.235 rows=1 loops=1)\n"
    "  ->  Bitmap Heap Scan on orders_pi  (cost=5.07..306.63 rows=100 width=6) (actual "
    "time=0.033..0.216 rows=100 loops=1)\n"
    "        Recheck Cond: (customer_id = 42)\n"
    "        Heap Blocks: exact=100\n"
    "        ->  Bitmap Index Scan on orders_pi_customer_idx  (cost=0.00..5.04 rows=100 "
    "width=0) (actual time=0.022..0.022 rows=100 loops=1)\n"
    "              Index Cond: (customer_id = 42)";

/* shape B: the index dropped; a selective Seq Scan (seq_scan_filter) */
static const char *const plan_b =
    "Query Text: SELECT sum(amount) FROM orders_pi WHERE customer_id = 42;\n"
    "Aggregate  (cost=2387.25..2387.26 rows=1 width=32) (actual time=12.2..12.2 rows=1 loops=1)\n"
    "  ->  Seq Scan on orders_pi  (cost=0.00..2387.00 rows=100 width=6) (actual "
    "time=0.068..12.142 rows=100 loops=1)\n"
    "        Filter: (customer_id = 42)\n"
    "        Rows Removed by Filter: 99900";

/* shape B without the selective filter (no insight), for the sample policy */
static const char *const plan_b_plain =
    "Query Text: SELECT sum(amount) FROM orders_pi WHERE customer_id = 42;\n"
    "Aggregate  (cost=2387.25..2387.26 rows=1 width=32) (actual time=99.2..99.2 rows=1 loops=1)\n"
    "  ->  Seq Scan on orders_pi  (cost=0.00..2387.00 rows=90000 width=6) (actual "
    "time=0.068..99.142 rows=90000 loops=1)\n"
    "        Filter: (customer_id = 42)\n"
    "        Rows Removed by Filter: 10000";

static struct event plan_event(int64_t ts, const char *body, double ms, const char *db)
{
    struct event ev;
    event_clear(&ev);
    ev.ts_us = ts;
    ev.kind = EV_PLAN;
    ev.severity = SEV_LOG;
    ev.duration_ms = ms;
    ev.database = span_cstr(db);
    ev.plan = span_cstr(body);
    ev.plan_format = PLAN_TEXT;
    ev.flags |= EVENT_HAS_FINGERPRINT;
    ev.fingerprint = FP;
    ev.fingerprint_hi = 7;
    ev.query = SPAN_LIT("SELECT sum(amount) FROM orders_pi WHERE customer_id = 42;");
    ev.normalized = SPAN_LIT("select sum(amount) from orders_pi where customer_id = $1");
    return ev;
}

static void add(struct store *s, int64_t ts, const char *body, double ms)
{
    struct event ev = plan_event(ts, body, ms, "app");
    store_add(s, &ev);
}

static void commit(struct store *s)
{
    struct diag d = DIAG_INIT;
    CHECK_MSG(store_commit(s, NULL, &d) == STORE_COMMITTED, "%s", d.msg);
}

static void read_plans(const char *path, struct store_plans *ps)
{
    struct store *s = open_store(path, true, false);
    struct diag d = DIAG_INIT;
    struct store_plans_opts o = { .since_us = INT64_MIN };
    CHECK_MSG(store_plans(s, &o, ps, &d) == 0, "%s", d.msg);
    store_close(s);
}

static const struct store_plan *find_shape(const struct store_plans *ps, const char *shape)
{
    for (size_t i = 0; i < ps->n; i++)
        if (!strcmp(ps->plans[i].shape, shape))
            return &ps->plans[i];
    return NULL;
}

/* ---------------------------------------------------------------- detection (pure) */

static void test_detect(void)
{
    struct store_plan_change c[4];
    /* A3 B3 A3: two changes, with the exact means */
    struct store_plan_run r1[] = { { 1, 10, 12, 3, 3.0 },
                                   { 2, 13, 15, 3, 30.0 },
                                   { 1, 16, 18, 3, 1.5 } };
    CHECK_EQ_INT(store_plan_detect(r1, 3, c, 4), 2);
    CHECK_EQ_U64(c[0].from_plan, 1);
    CHECK_EQ_U64(c[0].to_plan, 2);
    CHECK_EQ_INT(c[0].at_us, 13);
    CHECK(c[0].before_ms == 1.0 && c[0].after_ms == 10.0 && c[0].slower_by == 10.0);
    CHECK(c[1].slower_by == 0.05);
    /* a run shorter than STORE_PLAN_CHANGE_MIN_CALLS is a blip: no change, and the runs
     * around it merge */
    struct store_plan_run r2[] = { { 1, 10, 12, 3, 3.0 },
                                   { 2, 13, 13, 2, 30.0 },
                                   { 1, 16, 18, 4, 4.0 } };
    CHECK_EQ_INT(store_plan_detect(r2, 3, c, 4), 0);
    struct store_plan_run r3[] = {
        { 1, 10, 12, 3, 3.0 }, { 2, 13, 13, 1, 9.0 }, { 1, 14, 15, 3, 3.0 }, { 2, 16, 20, 5, 50.0 }
    };
    CHECK_EQ_INT(store_plan_detect(r3, 4, c, 4), 1);
    CHECK_EQ_INT(c[0].calls_before, 6); /* the two A runs merged */
    CHECK_EQ_INT(c[0].calls_after, 5);
    CHECK(c[0].slower_by == 10.0);
    /* exactly the minimum counts; one less does not */
    struct store_plan_run r4[] = { { 1, 1, 2, STORE_PLAN_CHANGE_MIN_CALLS, 1.0 },
                                   { 2, 3, 4, STORE_PLAN_CHANGE_MIN_CALLS, 1.0 } };
    CHECK_EQ_INT(store_plan_detect(r4, 2, c, 4), 1);
    r4[1].calls = STORE_PLAN_CHANGE_MIN_CALLS - 1;
    CHECK_EQ_INT(store_plan_detect(r4, 2, c, 4), 0);
    /* no duration: the ratio is unknown */
    struct store_plan_run r5[] = { { 1, 1, 2, 3, 0.0 }, { 2, 3, 4, 3, 3.0 } };
    CHECK_EQ_INT(store_plan_detect(r5, 2, c, 4), 1);
    CHECK(c[0].slower_by < 0);
    /* more changes than room: the count is still right */
    struct store_plan_run r6[] = {
        { 1, 1, 1, 3, 3 }, { 2, 2, 2, 3, 3 }, { 1, 3, 3, 3, 3 }, { 2, 4, 4, 3, 3 }
    };
    CHECK_EQ_INT(store_plan_detect(r6, 4, c, 1), 3);
    CHECK_EQ_INT(store_plan_detect(NULL, 0, c, 1), 0);
}

/* ---------------------------------------------------------------- store */

static void test_shapes_runs_changes(void)
{
    char path[512];
    struct store_plans ps;

    new_path(path, sizeof(path));
    struct store *s = open_store(path, false, false);
    /* A A A | B B (commit) B | A A A: the B run continues across the commit */
    for (int i = 0; i < 3; i++)
        add(s, T0 + i, plan_a, 0.2);
    add(s, T0 + 10, plan_b, 12.0);
    add(s, T0 + 11, plan_b, 14.0);
    commit(s);
    add(s, T0 + 12, plan_b, 16.0);
    commit(s);
    for (int i = 0; i < 3; i++)
        add(s, T0 + 20 + i, plan_a, 0.4);
    commit(s);
    store_close(s);

    read_plans(path, &ps);
    CHECK_EQ_INT(ps.n, 2);
    const struct store_plan *a =
        find_shape(&ps, "Aggregate > Bitmap Heap Scan on orders_pi > Bitmap Index Scan on "
                        "orders_pi_customer_idx");
    const struct store_plan *b = find_shape(&ps, "Aggregate > Seq Scan on orders_pi");
    CHECK(a && b);
    if (a && b) {
        CHECK_EQ_U64(a->fingerprint, FP);
        CHECK_EQ_STR(a->database, "app");
        CHECK_EQ_INT(a->calls, 6);
        CHECK_EQ_INT(b->calls, 3);
        CHECK(b->mean_ms > 13.99 && b->mean_ms < 14.01);
        CHECK(b->min_ms == 12.0 && b->max_ms == 16.0);
        CHECK(b->p50_ms > 13.8 && b->p50_ms < 14.2); /* the sketch: within 1 % */
        CHECK_EQ_INT(a->first_seen_us, T0);
        CHECK_EQ_INT(a->last_seen_us, T0 + 22);
        CHECK_EQ_STR(b->insights, "seq_scan_filter");
        CHECK_EQ_STR(a->insights, "");
        CHECK_EQ_STR(b->format, "text");
        CHECK_EQ_STR(a->query, "select sum(amount) from orders_pi where customer_id = $1");
        /* redacted by default */
        CHECK(strstr(b->sample, "customer_id = $1") != NULL);
        CHECK(strstr(b->sample, "= 42") == NULL);
        CHECK(b->sample_ms == 16.0); /* all have the same insights: the slowest */
    }
    CHECK_EQ_INT(ps.n_changes, 2);
    if (ps.n_changes == 2) {
        CHECK_EQ_U64(ps.changes[0].from_plan, a ? a->plan_fp : 0);
        CHECK_EQ_U64(ps.changes[0].to_plan, b ? b->plan_fp : 0);
        CHECK_EQ_INT(ps.changes[0].calls_after, 3); /* the B run across the commit */
        CHECK(ps.changes[0].before_ms > 0.19 && ps.changes[0].before_ms < 0.21);
        CHECK(ps.changes[0].slower_by > 69 && ps.changes[0].slower_by < 71);
        CHECK(ps.changes[1].slower_by < 1);
        CHECK_EQ_STR(ps.changes[0].database, "app");
        CHECK_EQ_INT(ps.changes[0].at_us, T0 + 10);
    }
    uint64_t b_fp = b ? b->plan_fp : 1;
    store_plans_release(&ps);

    /* filters */
    s = open_store(path, true, false);
    struct diag d = DIAG_INIT;
    struct store_plans_opts o = { .has_plan_fp = true, .plan_fp = b_fp, .since_us = INT64_MIN };
    CHECK(store_plans(s, &o, &ps, &d) == 0);
    CHECK_EQ_INT(ps.n, 1);
    store_plans_release(&ps);
    o = (struct store_plans_opts){ .has_fingerprint = true,
                                   .fingerprint = 1,
                                   .since_us = INT64_MIN };
    CHECK(store_plans(s, &o, &ps, &d) == 0);
    CHECK_EQ_INT(ps.n, 0);
    store_plans_release(&ps);
    o = (struct store_plans_opts){ .database = "other", .since_us = INT64_MIN };
    CHECK(store_plans(s, &o, &ps, &d) == 0);
    CHECK_EQ_INT(ps.n, 0);
    store_plans_release(&ps);
    o = (struct store_plans_opts){ .since_us = T0 + 21 };
    CHECK(store_plans(s, &o, &ps, &d) == 0);
    CHECK_EQ_INT(ps.n, 1); /* only A was seen that late */
    store_plans_release(&ps);
    store_close(s);
}

/* The sample is the plan with the most insights, then the slowest; --keep-literals keeps
 * the constants. */
static void test_sample_policy(void)
{
    char path[512];
    struct store_plans ps;

    new_path(path, sizeof(path));
    struct store *s = open_store(path, false, true);
    add(s, T0, plan_b, 12.0);           /* seq_scan_filter */
    add(s, T0 + 1, plan_b_plain, 99.0); /* slower, but no insight */
    commit(s);
    add(s, T0 + 2, plan_b_plain, 150.0);
    commit(s);
    store_close(s);
    read_plans(path, &ps);
    CHECK_EQ_INT(ps.n, 1);
    if (ps.n) {
        CHECK(ps.plans[0].sample_ms == 12.0);
        CHECK(strstr(ps.plans[0].sample, "Rows Removed by Filter: 99900") != NULL);
        CHECK(strstr(ps.plans[0].sample, "customer_id = 42") != NULL); /* kept */
        CHECK_EQ_STR(ps.plans[0].insights, "seq_scan_filter");
        CHECK(ps.plans[0].max_ms == 150.0);
    }
    store_plans_release(&ps);
}

/* A discarded batch and a stale commit write no plans: exactly once with the rest. */
static void test_exactly_once(void)
{
    char path[512];
    struct store_plans ps;
    struct diag d = DIAG_INIT;

    new_path(path, sizeof(path));
    struct store *s = open_store(path, false, false);
    add(s, T0, plan_a, 1.0);
    store_discard(s);
    add(s, T0 + 1, plan_a, 1.0);
    struct store_source_pos pos = { .name = "x.log",
                                    .dev = 1,
                                    .inode = 2,
                                    .offset = 10,
                                    .line = 1,
                                    .head = SPAN_LIT("0123456789"),
                                    .mark = SPAN_LIT("0123456789") };
    CHECK(store_commit(s, &pos, &d) == STORE_COMMITTED);
    /* the same batch again from the old start: stale, nothing written */
    add(s, T0 + 1, plan_a, 1.0);
    struct store_source_pos again = pos;
    again.start = 0;
    again.offset = 10;
    CHECK(store_commit(s, &again, &d) == STORE_STALE);
    store_close(s);
    read_plans(path, &ps);
    CHECK_EQ_INT(ps.n, 1);
    if (ps.n)
        CHECK_EQ_INT(ps.plans[0].calls, 1);
    store_plans_release(&ps);
}

static int64_t count_rows(const char *path, const char *sql)
{
    struct store *s = open_store(path, true, false);
    sqlite3_stmt *st;
    int64_t n = -1;
    if (sqlite3_prepare_v2(store_sqlite(s), sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    store_close(s);
    return n;
}

static int64_t count_runs(const char *path)
{
    return count_rows(path, "SELECT count(*) FROM plan_runs");
}

/* Alternating shapes: one run per shape switch, at most SIFT_MAX_PLAN_RUNS kept. */
static void test_runs_limit(void)
{
    for (unsigned runs = SIFT_MAX_PLAN_RUNS - 1; runs <= SIFT_MAX_PLAN_RUNS + 1; runs++) {
        char path[512];
        new_path(path, sizeof(path));
        struct store *s = open_store(path, false, false);
        for (unsigned r = 0; r < runs; r++) {
            add(s, T0 + r, r % 2 ? plan_b : plan_a, 1.0);
            if (r % 300 == 299)
                commit(s); /* trimming works across commits too */
        }
        commit(s);
        store_close(s);
        int64_t want = runs > SIFT_MAX_PLAN_RUNS ? SIFT_MAX_PLAN_RUNS : runs;
        CHECK_EQ_INT(count_runs(path), want);
    }
}

static void test_expire(void)
{
    char path[512];
    struct store_plans ps;
    struct diag d = DIAG_INIT;

    new_path(path, sizeof(path));
    struct store *s = open_store(path, false, false);
    add(s, T0, plan_a, 1.0);
    commit(s);
    CHECK(store_rollup(s, T0 + STORE_DEFAULT_DAYS_US - 1000000, NULL, &d) == 0);
    store_close(s);
    read_plans(path, &ps);
    CHECK_EQ_INT(ps.n, 1); /* younger than the retention */
    store_plans_release(&ps);
    s = open_store(path, false, false);
    CHECK(store_rollup(s, T0 + STORE_DEFAULT_DAYS_US + 1000000, NULL, &d) == 0);
    store_close(s);
    read_plans(path, &ps);
    CHECK_EQ_INT(ps.n, 0);
    store_plans_release(&ps);
    CHECK_EQ_INT(count_runs(path), 0);
    CHECK_EQ_INT(count_rows(path, "SELECT coalesce(sum(n), 0) FROM plan_call_blocks"), 0);
}

#define SEC INT64_C(1000000)
#define MIN (60 * SEC)

static void changes_at(const char *path, int64_t from, int64_t to, struct store_plans *now,
                       struct store_plans *before)
{
    struct store *s = open_store(path, true, false);
    struct diag d = DIAG_INIT;
    CHECK_MSG(store_plan_changes_at(s, from, to, 7 * 24 * 60 * MIN, NULL, now, before, &d) == 0,
              "%s", d.msg);
    store_close(s);
}

/* Plan changes as of an instant (alert rules): only records before it count, whatever
 * was ingested after it, and @before holds what was already known at @from. */
static void test_changes_at(void)
{
    char path[512];
    struct store_plans now, before;

    new_path(path, sizeof(path));
    struct store *s = open_store(path, false, false);
    for (int i = 0; i < 4; i++)
        add(s, T0 + i * SEC, plan_a, 1.0);    /* minute 0: A x4 */
    add(s, T0 + MIN + 1 * SEC, plan_b, 20.0); /* minute 1: B x2 */
    add(s, T0 + MIN + 2 * SEC, plan_b, 20.0);
    commit(s);
    add(s, T0 + 2 * MIN + 5 * SEC, plan_b, 30.0); /* minute 2: B x2 more */
    add(s, T0 + 2 * MIN + 6 * SEC, plan_b, 30.0);
    commit(s);
    store_close(s);
    CHECK_EQ_INT(count_rows(path, "SELECT coalesce(sum(n), 0) FROM plan_call_blocks"), 8);

    /* minute 1: B has 2 records before its end, below the 3-record rule */
    changes_at(path, T0 + MIN, T0 + 2 * MIN, &now, &before);
    CHECK_EQ_INT(now.n_changes, 0);
    store_plans_release(&now);
    store_plans_release(&before);

    /* minute 2: A -> B, 4 then 4 calls, 25x; not known at the start of the minute */
    struct store_plan_change first;
    changes_at(path, T0 + 2 * MIN, T0 + 3 * MIN, &now, &before);
    CHECK_EQ_INT(now.n_changes, 1);
    CHECK_EQ_INT(before.n_changes, 0);
    if (now.n_changes == 1) {
        first = now.changes[0];
        CHECK_EQ_U64(first.fingerprint, FP);
        CHECK_EQ_STR(first.database, "app");
        CHECK_EQ_INT(first.calls_before, 4);
        CHECK_EQ_INT(first.calls_after, 4);
        CHECK_EQ_INT(first.at_us, T0 + MIN + 1 * SEC);
        CHECK(first.slower_by > 24.9 && first.slower_by < 25.1);
        CHECK(first.from_plan != first.to_plan);
    }
    store_plans_release(&now);
    store_plans_release(&before);

    /* later records (A again, minute 3) change nothing about minute 2: a replay that
     * ingested everything first answers as live tailing did */
    s = open_store(path, false, false);
    for (int i = 0; i < 3; i++)
        add(s, T0 + 3 * MIN + i * SEC, plan_a, 1.0);
    commit(s);
    store_close(s);
    changes_at(path, T0 + 2 * MIN, T0 + 3 * MIN, &now, &before);
    CHECK_EQ_INT(now.n_changes, 1);
    if (now.n_changes == 1) {
        CHECK_EQ_INT(now.changes[0].calls_after, 4);
        CHECK_EQ_INT(now.changes[0].at_us, T0 + MIN + 1 * SEC);
    }
    store_plans_release(&now);
    store_plans_release(&before);

    /* minute 3: both changes now, the first already known at the minute's start */
    changes_at(path, T0 + 3 * MIN, T0 + 4 * MIN, &now, &before);
    CHECK_EQ_INT(now.n_changes, 2);
    CHECK_EQ_INT(before.n_changes, 1);
    if (now.n_changes == 2 && before.n_changes == 1) {
        CHECK_EQ_INT(before.changes[0].at_us, now.changes[0].at_us);
        CHECK(now.changes[1].slower_by < 0.1); /* back on the index */
    }
    store_plans_release(&now);
    store_plans_release(&before);

    /* a minute without plan records of the query: nothing to report */
    changes_at(path, T0 + 5 * MIN, T0 + 6 * MIN, &now, &before);
    CHECK_EQ_INT(now.n_changes, 0);
    store_plans_release(&now);
    store_plans_release(&before);
}

/* An unreadable plan body still counts, under shape 0 with the reason. */
static void test_unreadable(void)
{
    char path[512];
    struct store_plans ps;

    new_path(path, sizeof(path));
    struct store *s = open_store(path, false, false);
    add(s, T0, "Query Text: select 1\nUtility statements have no plan structure", 1.0);
    commit(s);
    store_close(s);
    read_plans(path, &ps);
    CHECK_EQ_INT(ps.n, 1);
    if (ps.n) {
        CHECK_EQ_U64(ps.plans[0].plan_fp, 0);
        CHECK(strstr(ps.plans[0].shape, "no plan node") != NULL);
        CHECK_EQ_INT(ps.plans[0].calls, 1);
    }
    store_plans_release(&ps);
}

/* Last: the store files of this run are removed (and nothing else was left behind). */
/* Plan records are packed per (query, database, minute) and commit (plan_call_blocks):
 * records with the same time keep their ingest order across commits, and expiry cuts a
 * minute's block in the middle. */
static void test_call_blocks(void)
{
    char path[512];
    struct store_plans now, before;
    struct diag d = DIAG_INIT;
    struct arena a = ARENA_INIT;
    struct plan_analysis pa_a, pa_b;

    plan_analyze(span_cstr(plan_a), PLAN_TEXT, 1.0, &a, &pa_a);
    plan_analyze(span_cstr(plan_b), PLAN_TEXT, 1.0, &a, &pa_b);
    CHECK(pa_a.parsed && pa_b.parsed && pa_a.fingerprint != pa_b.fingerprint);

    new_path(path, sizeof(path));
    struct store *s = open_store(path, false, false);
    for (int i = 0; i < 3; i++)
        add(s, T0 + SEC, plan_a, 1.0); /* one instant: A x3, then B x3 in the next commit */
    commit(s);
    for (int i = 0; i < 3; i++)
        add(s, T0 + SEC, plan_b, 20.0);
    commit(s);
    store_close(s);
    CHECK_EQ_INT(count_rows(path, "SELECT count(*) FROM plan_call_blocks"), 2);
    changes_at(path, T0, T0 + MIN, &now, &before);
    CHECK_EQ_INT(now.n_changes, 1);
    if (now.n_changes == 1) { /* ingest order: A then B, not B then A */
        CHECK(now.changes[0].from_plan == pa_a.fingerprint);
        CHECK(now.changes[0].to_plan == pa_b.fingerprint);
    }
    store_plans_release(&now);
    store_plans_release(&before);

    /* a damaged block is an error saying so, never a crash or a silent gap */
    sqlite3 *db;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "UPDATE plan_call_blocks SET data = substr(data, 1, 5) WHERE part = 1",
                       NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    s = open_store(path, true, false);
    CHECK(store_plan_changes_at(s, T0, T0 + MIN, 7 * 24 * 60 * MIN, NULL, &now, &before, &d) < 0);
    CHECK(strstr(d.msg, "plan record block") != NULL);
    store_close(s);
    d = (struct diag)DIAG_INIT;

    /* a block of T0+10s, +20s, +50s expired at T0+30s keeps +50s */
    new_path(path, sizeof(path));
    s = open_store(path, false, false);
    add(s, T0 + 10 * SEC, plan_a, 1.0);
    add(s, T0 + 20 * SEC, plan_a, 1.0);
    add(s, T0 + 50 * SEC, plan_b, 1.0);
    add(s, T0 + 2 * MIN, plan_b, 1.0);
    add(s, T0 - 5 * MIN, plan_b, 1.0);
    commit(s);
    CHECK_EQ_INT(count_rows(path, "SELECT count(*) FROM plan_call_blocks"), 3);
    CHECK(store_rollup(s, T0 + STORE_DEFAULT_DAYS_US + 30 * SEC, NULL, &d) == 0);
    store_close(s);
    CHECK_EQ_INT(count_rows(path, "SELECT coalesce(sum(n), 0) FROM plan_call_blocks"), 2);
    char sql[200];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM plan_call_blocks WHERE ts_min = %" PRId64 " AND n = 1",
             T0 + 50 * SEC);
    CHECK_EQ_INT(count_rows(path, sql), 1);
    arena_release(&a);
}

static void test_cleanup(void)
{
    static const char *const ext[] = { "", "-wal", "-shm" };
    for (int i = 1; i <= db_seq; i++)
        for (size_t k = 0; k < ARRAY_SIZE(ext); k++) {
            char f[700];
            snprintf(f, sizeof(f), "%s/p%d.db%s", dir, i, ext[k]);
            unlink(f);
        }
    CHECK(!dir[0] || rmdir(dir) == 0);
}

TEST_LIST = {
    { "detect", test_detect },
    { "shapes_runs_changes", test_shapes_runs_changes },
    { "sample_policy", test_sample_policy },
    { "exactly_once", test_exactly_once },
    { "runs_limit", test_runs_limit },
    { "expire", test_expire },
    { "unreadable", test_unreadable },
    { "changes_at", test_changes_at },
    { "call_blocks", test_call_blocks },
    { "cleanup", test_cleanup },
    { NULL, NULL },
};
