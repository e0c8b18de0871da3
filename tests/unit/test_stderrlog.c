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
#include "core/xalloc.h"
#include "parsetest.h"

struct rec {
    char *key; /* everything compared except the time */
    int64_t ts_us;
    int frac;
};

struct recs {
    struct rec *v;
    size_t n, alloc;
    bool any_sqlstate;
};

static void add_span(struct sbuf *sb, const char *name, struct span s)
{
    if (sbuf_addf(sb, "|%s=", name) < 0 || (s.p && sbuf_add(sb, s.p, s.len) < 0))
        return;
}

static void collect(const struct event *ev, struct recs *rs, bool with_sqlstate)
{
    struct sbuf sb = SBUF_INIT;
    int r = sbuf_addf(&sb, "pid=%lld|sev=%s|cpos=%d|ipos=%d", (long long)ev->pid,
                      severity_name(ev->severity), ev->cursor_pos, ev->internal_pos);
    if (r == 0 && with_sqlstate)
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
    XGROW(rs->v, rs->n + 1, rs->alloc);
    rs->v[rs->n++] = (struct rec){ sbuf_detach(&sb, NULL), ev->ts_us, ev->ts_frac };
    if (ev->sqlstate[0] && ev->severity != SEV_LOG) /* (LOG records have 00000 anyway) */
        rs->any_sqlstate = true;
}

static int cmp_rec(const void *a, const void *b)
{
    const struct rec *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    return x->ts_us < y->ts_us ? -1 : x->ts_us > y->ts_us;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct sbuf sb = SBUF_INIT;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        if (sbuf_add(&sb, buf, n) < 0)
            break;
    fclose(f);
    return sbuf_detach(&sb, len);
}

/* Parse a file (format detected) into records; NULL if the file is missing. */
static bool parse_file(const char *path, const char *want_format, struct recs *rs,
                       bool with_sqlstate)
{
    size_t len;
    char *data = slurp(path, &len);
    if (!data)
        return false;
    struct diag d = DIAG_INIT;
    struct parser *p = parser_new(&(struct parser_opts){ .format = "auto" }, &d);
    struct event *ev;
    size_t at = 0;
    uint64_t lineno = 1;
    while (at < len) {
        const char *nl = memchr(data + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (data + at)) : len - at;
        struct input_line ln = { .text = span_make(data + at, n),
                                 .line = lineno++,
                                 .offset = at,
                                 .end = at + n + 1,
                                 .source = SPAN_LIT("f") };
        parser_feed(p, &ln);
        while (parser_next(p, &ev) == PARSE_EVENT)
            collect(ev, rs, with_sqlstate);
        at += n + 1;
    }
    parser_end(p);
    while (parser_next(p, &ev) == PARSE_EVENT)
        collect(ev, rs, with_sqlstate);
    const struct parse_stats *st = parser_stats(p);
    CHECK_MSG(parser_format(p) && !strcmp(parser_format(p), want_format), "%s: format %s", path,
              parser_format(p) ? parser_format(p) : "(none)");
    CHECK_MSG(st->rejects == 0, "%s: %llu rejects", path, (unsigned long long)st->rejects);
    CHECK_MSG(st->foreign_lines == 0, "%s: %llu foreign lines", path,
              (unsigned long long)st->foreign_lines);
    CHECK(pt_balanced(st));
    parser_free(p);
    free(data);
    return true;
}

static void recs_free(struct recs *rs)
{
    for (size_t i = 0; i < rs->n; i++)
        free(rs->v[i].key);
    free(rs->v);
    memset(rs, 0, sizeof(*rs));
}

static void compare_run(const char *run)
{
    char lpath[256], cpath[256];
    snprintf(lpath, sizeof(lpath), "fixtures/pg15/%s/postgresql.log", run);
    snprintf(cpath, sizeof(cpath), "fixtures/pg15/%s/postgresql.csv", run);
    struct recs s = { 0 }, c = { 0 };

    /* first pass: does stderr carry SQLSTATEs (verbose errors)? */
    if (!parse_file(lpath, "stderr", &s, false)) {
        printf("skip %s: no fixture\n", run);
        return;
    }
    bool with_sqlstate = s.any_sqlstate;
    recs_free(&s);
    CHECK(parse_file(lpath, "stderr", &s, with_sqlstate));
    CHECK(parse_file(cpath, "csvlog", &c, with_sqlstate));
    CHECK_MSG(s.n == c.n, "%s: stderr %zu records, csvlog %zu", run, s.n, c.n);
    qsort(s.v, s.n, sizeof(*s.v), cmp_rec);
    qsort(c.v, c.n, sizeof(*c.v), cmp_rec);
    size_t bad = 0, boundary = 0;
    for (size_t i = 0; i < s.n && i < c.n; i++) {
        if (strcmp(s.v[i].key, c.v[i].key) != 0) {
            if (bad++ < 3)
                CHECK_MSG(0, "%s: record differs\n    stderr: %.300s\n    csvlog: %.300s", run,
                          s.v[i].key, c.v[i].key);
            continue;
        }
        if (s.v[i].frac == 3) {
            CHECK_MSG(s.v[i].ts_us == c.v[i].ts_us, "%s: time differs: %s", run, s.v[i].key);
        } else {
            /* %t: the csv time truncated to the second, or one second off: %t reads the
             * clock when the stderr line is formatted, the csv time is taken when first
             * needed (later, unless the prefix has %m) */
            int64_t csec = c.v[i].ts_us - c.v[i].ts_us % USEC_PER_SEC;
            int64_t d = s.v[i].ts_us - csec;
            CHECK_MSG(d == 0 || d == -USEC_PER_SEC || d == USEC_PER_SEC,
                      "%s: time %lld vs %lld: %.200s", run, (long long)s.v[i].ts_us,
                      (long long)c.v[i].ts_us, s.v[i].key);
            boundary += d != 0;
        }
    }
    CHECK_MSG(bad == 0, "%s: %zu records differ", run, bad);
    printf("%s: %zu records equal%s, %zu across a second boundary\n", run, s.n,
           with_sqlstate ? " (with SQLSTATE)" : "", boundary);
    recs_free(&s);
    recs_free(&c);
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
