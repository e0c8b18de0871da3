/* SPDX-License-Identifier: MIT */
/*
 * syslog_fixtures: real PostgreSQL 15 output through syslog as a systemd host keeps it
 * (tests/fixtures/pg15-syslog, scripts/gen-syslog-fixtures.sh): journald's socket, then
 * rsyslog's three built-in file templates (RFC 3164, RFC 3339, RFC 5424) and six of
 * journalctl's output modes. Every file must be detected as syslog, with no reject and no
 * foreign line, and give the records of PostgreSQL's own csvlog of the same run: the same
 * multiset of (pid, severity, message, detail, hint, context, statement, positions, user,
 * database), and the same time: exact to the millisecond where the prefix has %m, within
 * one second of the syslog header's time where it has none (the header's clock is the
 * syslog daemon's, read when the message arrived).
 *
 * Two things differ by design, and the test says which:
 * - the syslog files have one record more, PostgreSQL's "redirecting log output to logging
 *   collector process", logged before the collector (and its csvlog) started;
 * - journalctl shows a TAB as eight spaces (without -a), so in journal-*.log a TAB inside a
 *   line of a message is eight spaces. The TAB that starts each later line of a message is
 *   PostgreSQL's, not the message's, and the parser takes eight spaces there as that TAB.
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
    size_t before_collector; /* records logged before the collector started */
};

static void add_span(struct sbuf *sb, const char *name, struct span s, bool tabs_as_spaces)
{
    if (sbuf_addf(sb, "|%s=", name) < 0 || !s.p)
        return;
    for (size_t i = 0; i < s.len; i++)
        if (sbuf_add(sb, tabs_as_spaces && s.p[i] == '\t' ? "        " : s.p + i,
                     tabs_as_spaces && s.p[i] == '\t' ? 8 : 1) < 0)
            return;
}

static void collect(const struct event *ev, struct recs *rs, bool tabs_as_spaces)
{
    if (span_eq_lit(ev->message, "redirecting log output to logging collector process")) {
        rs->before_collector++;
        return;
    }
    struct sbuf sb = SBUF_INIT;
    int r = sbuf_addf(&sb, "pid=%lld|sev=%s|cpos=%d|ipos=%d", (long long)ev->pid,
                      severity_name(ev->severity), ev->cursor_pos, ev->internal_pos);
    (void)r;
    add_span(&sb, "message", ev->message, tabs_as_spaces);
    add_span(&sb, "detail", ev->detail, tabs_as_spaces);
    add_span(&sb, "hint", ev->hint, tabs_as_spaces);
    add_span(&sb, "context", ev->context, tabs_as_spaces);
    add_span(&sb, "statement", ev->statement, tabs_as_spaces);
    add_span(&sb, "user", ev->user, false);
    add_span(&sb, "database", ev->database, false);
    XGROW(rs->v, rs->n + 1, rs->alloc);
    rs->v[rs->n++] = (struct rec){ sbuf_detach(&sb, NULL), ev->ts_us, ev->ts_frac };
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

/* Parse a file (format detected) into records; false if the file is missing. */
static bool parse_file(const char *path, const char *want_format, struct recs *rs,
                       bool tabs_as_spaces)
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
            collect(ev, rs, tabs_as_spaces);
        at += n + 1;
    }
    parser_end(p);
    while (parser_next(p, &ev) == PARSE_EVENT)
        collect(ev, rs, tabs_as_spaces);
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

static const char *const files[] = {
    "rsyslog-traditional.log",       "rsyslog-fileformat.log",
    "rsyslog-rfc5424.log",           "journal-short.log",
    "journal-short-precise.log",     "journal-short-iso.log",
    "journal-short-iso-precise.log", "journal-short-full.log",
    "journal-short-unix.log",
};

/* One syslog file of @run against the run's csvlog; @exact: the prefix has %m. */
static void compare_file(const char *run, const char *file, bool exact)
{
    char spath[256], cpath[256];
    snprintf(spath, sizeof(spath), "fixtures/pg15-syslog/%s/%s", run, file);
    snprintf(cpath, sizeof(cpath), "fixtures/pg15-syslog/%s/csvlog.csv", run);
    bool journal = !strncmp(file, "journal-", 8);
    struct recs s = { 0 }, c = { 0 };

    if (!parse_file(spath, "syslog", &s, false)) {
        CHECK_MSG(0, "%s: fixture missing", spath);
        return;
    }
    CHECK(parse_file(cpath, "csvlog", &c, journal));
    CHECK_MSG(s.before_collector == 1 && c.before_collector == 0,
              "%s: %zu records before the collector (csvlog %zu)", spath, s.before_collector,
              c.before_collector);
    CHECK_MSG(s.n == c.n && s.n > 30, "%s: %zu records, csvlog %zu", spath, s.n, c.n);
    qsort(s.v, s.n, sizeof(*s.v), cmp_rec);
    qsort(c.v, c.n, sizeof(*c.v), cmp_rec);
    size_t bad = 0;
    for (size_t i = 0; i < s.n && i < c.n; i++) {
        if (strcmp(s.v[i].key, c.v[i].key) != 0) {
            if (bad++ < 3)
                CHECK_MSG(0, "%s: record differs\n    syslog: %.300s\n    csvlog: %.300s", spath,
                          s.v[i].key, c.v[i].key);
            continue;
        }
        int64_t d = s.v[i].ts_us - c.v[i].ts_us;
        if (exact)
            CHECK_MSG(d == 0, "%s: time %lld vs %lld: %.200s", spath, (long long)s.v[i].ts_us,
                      (long long)c.v[i].ts_us, s.v[i].key);
        else
            CHECK_MSG(d > -USEC_PER_SEC && d < USEC_PER_SEC, "%s: time %lld vs %lld: %.200s", spath,
                      (long long)s.v[i].ts_us, (long long)c.v[i].ts_us, s.v[i].key);
    }
    CHECK_MSG(bad == 0, "%s: %zu records differ", spath, bad);
    recs_free(&s);
    recs_free(&c);
}

static void compare_run(const char *run, bool exact)
{
    /* RFC 3164 and journalctl's short headers have no year: the fixtures' is 2026 */
    setenv("SIFT_TEST_NOW", "2026-11-29T00:00:00Z", 1);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        compare_file(run, files[i], exact);
}

static void test_prefixed(void)
{
    compare_run("prefixed", true);
}

static void test_bare(void)
{
    compare_run("bare", false);
}

TEST_LIST = {
    { "prefixed", test_prefixed },
    { "bare", test_bare },
    { NULL, NULL },
};
