/* SPDX-License-Identifier: MIT */
/*
 * stderrlog: the stderr file of each real PostgreSQL 15 fixture run (tests/fixtures/pg15,
 * four log_line_prefix styles) must give the same records as the csvlog file of the same
 * run: same count, 0 rejects, and the same multiset of (pid, severity, message, detail,
 * hint, context, statement, internal query, positions, location, user, database) -
 * plus the SQLSTATE where stderr has it (log_error_verbosity = verbose) - with the same
 * time: exact for %m, and for %t within one second (%t is taken from time(NULL)
 * separately from the csv time, fixtures README). Other fields
 * (session line, query id, backend type ...) are not in these prefixes.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "recset.h"

/* What collect() fills: the records, and whether any carried a SQLSTATE. */
struct collected {
    struct pt_recs recs;
    bool with_sqlstate; /* render the SQLSTATE into the keys */
    bool any_sqlstate;
};

static void add_span(struct sbuf *sb, const char *name, struct span s)
{
    if (sbuf_addf(sb, "|%s=", name) < 0 || (s.p && sbuf_add(sb, s.p, s.len) < 0))
        return;
}

static void collect(const struct event *ev, void *ctx)
{
    struct collected *c = ctx;
    struct sbuf sb = SBUF_INIT;
    int r = sbuf_addf(&sb, "pid=%lld|sev=%s|cpos=%d|ipos=%d", (long long)ev->pid,
                      severity_name(ev->severity), ev->cursor_pos, ev->internal_pos);
    if (r == 0 && c->with_sqlstate)
        r = sbuf_addf(&sb, "|sqlstate=%s", ev->sqlstate);
    (void)r;
    add_span(&sb, "message", ev->message);
    add_span(&sb, "detail", ev->detail);
    add_span(&sb, "hint", ev->hint);
    add_span(&sb, "context", ev->context);
    add_span(&sb, "statement", ev->statement);
    add_span(&sb, "query", ev->internal_query);
    add_span(&sb, "location", ev->location);
    add_span(&sb, "user", ev->user);
    add_span(&sb, "database", ev->database);
    pt_recs_add(&c->recs, sbuf_detach(&sb, NULL), ev->ts_us, ev->ts_frac);
    if (ev->sqlstate[0] && ev->severity != SEV_LOG) /* (LOG records have 00000 anyway) */
        c->any_sqlstate = true;
}

static void compare_run(const char *run)
{
    char lpath[256], cpath[256];
    snprintf(lpath, sizeof(lpath), "fixtures/pg15/%s/postgresql.log", run);
    snprintf(cpath, sizeof(cpath), "fixtures/pg15/%s/postgresql.csv", run);
    struct collected s = { 0 }, c = { 0 };

    /* first pass: does stderr carry SQLSTATEs (verbose errors)? */
    if (!pt_parse_file(lpath, "stderr", collect, &s)) {
        printf("skip %s: no fixture\n", run);
        return;
    }
    bool with_sqlstate = s.any_sqlstate;
    pt_recs_free(&s.recs);
    s.with_sqlstate = c.with_sqlstate = with_sqlstate;
    CHECK(pt_parse_file(lpath, "stderr", collect, &s));
    CHECK(pt_parse_file(cpath, "csvlog", collect, &c));
    struct pt_recs *sr = &s.recs, *cr = &c.recs;
    CHECK_MSG(sr->n == cr->n, "%s: stderr %zu records, csvlog %zu", run, sr->n, cr->n);
    pt_recs_sort(sr);
    pt_recs_sort(cr);
    size_t bad = 0, boundary = 0;
    for (size_t i = 0; i < sr->n && i < cr->n; i++) {
        if (strcmp(sr->v[i].key, cr->v[i].key) != 0) {
            if (bad++ < 3)
                CHECK_MSG(0, "%s: record differs\n    stderr: %.300s\n    csvlog: %.300s", run,
                          sr->v[i].key, cr->v[i].key);
            continue;
        }
        if (sr->v[i].frac == 3) {
            CHECK_MSG(sr->v[i].ts_us == cr->v[i].ts_us, "%s: time differs: %s", run, sr->v[i].key);
        } else {
            /* %t: the csv time truncated to the second, or one second off: %t reads the
             * clock when the stderr line is formatted, the csv time is taken when first
             * needed (later, unless the prefix has %m) */
            int64_t csec = cr->v[i].ts_us - cr->v[i].ts_us % USEC_PER_SEC;
            int64_t d = sr->v[i].ts_us - csec;
            CHECK_MSG(d == 0 || d == -USEC_PER_SEC || d == USEC_PER_SEC,
                      "%s: time %lld vs %lld: %.200s", run, (long long)sr->v[i].ts_us,
                      (long long)cr->v[i].ts_us, sr->v[i].key);
            boundary += d != 0;
        }
    }
    CHECK_MSG(bad == 0, "%s: %zu records differ", run, bad);
    printf("%s: %zu records equal%s, %zu across a second boundary\n", run, sr->n,
           with_sqlstate ? " (with SQLSTATE)" : "", boundary);
    pt_recs_free(sr);
    pt_recs_free(cr);
}

static void test_fixtures_text_plans(void)
{
    compare_run("text-plans");
}

static void test_fixtures_json_plans(void)
{
    compare_run("json-plans");
}

static void test_fixtures_statement_log(void)
{
    compare_run("statement-log");
}

static void test_fixtures_verbose_errors(void)
{
    compare_run("verbose-errors");
}

TEST_LIST = {
    { "fixtures_text_plans", test_fixtures_text_plans },
    { "fixtures_json_plans", test_fixtures_json_plans },
    { "fixtures_statement_log", test_fixtures_statement_log },
    { "fixtures_verbose_errors", test_fixtures_verbose_errors },
    { NULL, NULL },
};
