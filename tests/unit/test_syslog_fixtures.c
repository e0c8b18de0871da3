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
#include "recset.h"

/* What collect() fills. */
struct collected {
    struct pt_recs recs;
    bool tabs_as_spaces;     /* render each TAB as journalctl shows it */
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

static void collect(const struct event *ev, void *ctx)
{
    struct collected *c = ctx;
    if (span_eq_lit(ev->message, "redirecting log output to logging collector process")) {
        c->before_collector++;
        return;
    }
    struct sbuf sb = SBUF_INIT;
    int r = sbuf_addf(&sb, "pid=%lld|sev=%s|cpos=%d|ipos=%d", (long long)ev->pid,
                      severity_name(ev->severity), ev->cursor_pos, ev->internal_pos);
    (void)r;
    add_span(&sb, "message", ev->message, c->tabs_as_spaces);
    add_span(&sb, "detail", ev->detail, c->tabs_as_spaces);
    add_span(&sb, "hint", ev->hint, c->tabs_as_spaces);
    add_span(&sb, "context", ev->context, c->tabs_as_spaces);
    add_span(&sb, "statement", ev->statement, c->tabs_as_spaces);
    add_span(&sb, "user", ev->user, false);
    add_span(&sb, "database", ev->database, false);
    pt_recs_add(&c->recs, sbuf_detach(&sb, NULL), ev->ts_us, ev->ts_frac);
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
    struct collected s = { 0 }, c = { .tabs_as_spaces = !strncmp(file, "journal-", 8) };

    if (!pt_parse_file(spath, "syslog", collect, &s)) {
        CHECK_MSG(0, "%s: fixture missing", spath);
        return;
    }
    CHECK(pt_parse_file(cpath, "csvlog", collect, &c));
    struct pt_recs *sr = &s.recs, *cr = &c.recs;
    CHECK_MSG(s.before_collector == 1 && c.before_collector == 0,
              "%s: %zu records before the collector (csvlog %zu)", spath, s.before_collector,
              c.before_collector);
    CHECK_MSG(sr->n == cr->n && sr->n > 30, "%s: %zu records, csvlog %zu", spath, sr->n, cr->n);
    pt_recs_sort(sr);
    pt_recs_sort(cr);
    size_t bad = 0;
    for (size_t i = 0; i < sr->n && i < cr->n; i++) {
        if (strcmp(sr->v[i].key, cr->v[i].key) != 0) {
            if (bad++ < 3)
                CHECK_MSG(0, "%s: record differs\n    syslog: %.300s\n    csvlog: %.300s", spath,
                          sr->v[i].key, cr->v[i].key);
            continue;
        }
        int64_t d = sr->v[i].ts_us - cr->v[i].ts_us;
        if (exact)
            CHECK_MSG(d == 0, "%s: time %lld vs %lld: %.200s", spath, (long long)sr->v[i].ts_us,
                      (long long)cr->v[i].ts_us, sr->v[i].key);
        else
            CHECK_MSG(d > -USEC_PER_SEC && d < USEC_PER_SEC, "%s: time %lld vs %lld: %.200s", spath,
                      (long long)sr->v[i].ts_us, (long long)cr->v[i].ts_us, sr->v[i].key);
    }
    CHECK_MSG(bad == 0, "%s: %zu records differ", spath, bad);
    printf("%s: %zu records equal\n", spath, sr->n);
    pt_recs_free(sr);
    pt_recs_free(cr);
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
