/* SPDX-License-Identifier: MIT */
/* Unit tests for parse/line_prefix: limits, linear time, keyword recognition. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/clock.h"
#include "core/limits.h"
#include "core/sbuf.h"
#include "input/input.h"
#include "parse/line_prefix.h"

static struct line_prefix *compile(const char *text)
{
    struct diag d = DIAG_INIT;
    struct line_prefix *lp = line_prefix_new(span_cstr(text), &d);
    CHECK_MSG(lp != NULL, "'%s': %s", text, d.msg);
    return lp;
}

static void test_prefix_length_limit(void)
{
    char *buf = malloc(SIFT_MAX_PREFIX_BYTES + 2);
    struct diag d = DIAG_INIT;

    memset(buf, 'x', SIFT_MAX_PREFIX_BYTES + 1);
    struct line_prefix *lp = line_prefix_new(span_make(buf, SIFT_MAX_PREFIX_BYTES - 1), &d);
    CHECK(lp != NULL);
    line_prefix_free(lp);
    lp = line_prefix_new(span_make(buf, SIFT_MAX_PREFIX_BYTES), &d);
    CHECK(lp != NULL);
    line_prefix_free(lp);
    lp = line_prefix_new(span_make(buf, SIFT_MAX_PREFIX_BYTES + 1), &d);
    CHECK(lp == NULL);
    CHECK_EQ_INT(d.kind, DIAG_USAGE);
    CHECK(strstr(d.msg, "1025 bytes") != NULL);
    free(buf);
}

static void test_padding_limit(void)
{
    struct diag d = DIAG_INIT;
    struct line_prefix *lp = compile("%1000p|");
    line_prefix_free(lp);
    lp = line_prefix_new(span_cstr("%-1001u"), &d);
    CHECK(lp == NULL);
    CHECK(strstr(d.msg, "1001") != NULL);
}

static void test_newline_refused(void)
{
    struct diag d = DIAG_INIT;
    CHECK(line_prefix_new(span_cstr("%m\n"), &d) == NULL);
    CHECK(strstr(d.msg, "newline") != NULL);
}

static void test_field_letters(void)
{
    static const char letters[] = "audrhLbpPtmnieclsvxQ";
    for (int f = 0; f < LPF_COUNT; f++)
        CHECK_EQ_INT(lp_field_letter((enum lp_field)f), letters[f]);
    struct line_prefix *lp = compile("%m [%p] %q%u@%d ");
    CHECK(line_prefix_has(lp, LPF_TIME_MS));
    CHECK(line_prefix_has(lp, LPF_USER));
    CHECK(!line_prefix_has(lp, LPF_APP));
    CHECK(line_prefix_has_cut(lp));
    CHECK_EQ_STR(line_prefix_text(lp), "%m [%p] %q%u@%d ");
    line_prefix_free(lp);
}

static void test_keywords(void)
{
    for (int k = LPK_DEBUG; k < LPK_COUNT; k++) {
        char buf[64];
        size_t mo = 0;
        snprintf(buf, sizeof(buf), "%s:  msg", lp_keyword_name((enum lp_keyword)k));
        CHECK_EQ_INT(line_prefix_keyword(span_cstr(buf), &mo), k);
        CHECK_EQ_INT(mo, strlen(lp_keyword_name((enum lp_keyword)k)) + 3);
        CHECK_EQ_INT(lp_keyword_is_severity((enum lp_keyword)k), k <= LPK_PANIC);
    }
    size_t mo;
    CHECK_EQ_INT(line_prefix_keyword(span_cstr("LOGX:  a"), &mo), LPK_NONE);
    CHECK_EQ_INT(line_prefix_keyword(span_cstr("LOG"), &mo), LPK_NONE);
    CHECK_EQ_INT(line_prefix_keyword(span_cstr("LOG:"), &mo), LPK_LOG);
    CHECK_EQ_INT(mo, 4);
    CHECK_EQ_INT(line_prefix_keyword(span_cstr("LOG:   three"), &mo), LPK_LOG);
    CHECK_EQ_INT(mo, 6); /* the third space belongs to the message */
    CHECK_EQ_INT(line_prefix_keyword(span_cstr("DEBUG:  x"), &mo), LPK_DEBUG);
    CHECK_EQ_INT(line_prefix_keyword(span_cstr("DETAIL:x"), &mo), LPK_NONE);
}

/* A hostile line must be refused in time linear in its length. */
static void test_linear_time(void)
{
    static const char *const prefixes[] = { "%u@%d@%a@%i ", "%a%p%a%p ", "%a %a %a %a ",
                                            "%r:%h:%u:%d:" };
    static const char fills[] = "@1 :(";
    size_t len = 200000;
    char *line = malloc(len);

    for (size_t p = 0; p < ARRAY_SIZE(prefixes); p++) {
        struct line_prefix *lp = compile(prefixes[p]);
        for (size_t f = 0; f < sizeof(fills) - 1; f++) {
            for (size_t i = 0; i < len; i++)
                line[i] = (i % 2) ? fills[f] : 'a';
            struct line_prefix_match m;
            int64_t t0 = clock_mono_ns();
            bool ok = line_prefix_match(lp, span_make(line, len), &m);
            int64_t ms = (clock_mono_ns() - t0) / 1000000;
            CHECK(!ok);
            /* quadratic would be minutes; linear is a few ms even under ASan */
            CHECK_MSG(ms < 2000, "prefix '%s' fill '%c': %lld ms", prefixes[p], fills[f],
                      (long long)ms);
        }
        line_prefix_free(lp);
    }
    free(line);
}

/* The budget is generous enough for long but legitimate lines. */
static void test_long_legit_line(void)
{
    struct line_prefix *lp = compile("%m [%p] %q%u@%d/%a ");
    size_t len = 1 << 20;
    char *line = malloc(len);
    const char *head = "2025-01-02 03:04:05.678 UTC [1] u@d/some app with spaces LOG:  ";
    size_t hl = strlen(head);
    memcpy(line, head, hl);
    memset(line + hl, 'x', len - hl);
    struct line_prefix_match m;
    CHECK(line_prefix_match(lp, span_make(line, len), &m));
    CHECK_EQ_SPAN(m.field[LPF_APP], "some app with spaces");
    CHECK_EQ_INT(m.msg_off, hl);
    free(line);
    line_prefix_free(lp);
}

static void test_infer(void)
{
    static const struct {
        const char *line, *prefix;
    } t[] = {
        { "2021-02-14 01:34:02 CET [30291]: "
          "db=[unknown],user=[unknown],app=[unknown],client=[local] "
          "LOG:  connection received: host=[local]",
          "%t [%p]: %qdb=%d,user=%u,app=%a,client=%h " },
        { "2021-12-03 07:14:48.591 UTC [4913] user=user1,db=mydb LOG:  duration: 1 ms",
          "%m [%p] %quser=%u,db=%d " },
        { "2024-06-27 00:00:07 CEST [58151]: [1-1] user=,db=,host=,app= LOG:  automatic analyze",
          "%t [%p]: [%l-1] %quser=%u,db=%d,host=%h,app=%a " },
        { "2022-02-17 14:45:10.440 UTC [691] [queryid=1081270519976314062] postgres@stackoverflow "
          "LOG:  duration: 0.140 ms",
          "%m [%p] [queryid=%Q] %q%u@%d " },
        { "2023-03-07 09:06:08 CET [130096]: [247-1] [0] usr=usr6,db=progdb,appli=76ae1316 LOG:  x",
          "%t [%p]: [%l-1] [%x] %qusr=%u,db=%d,appli=%a " },
        { "2026-11-24 17:25:01.982 UTC [3708] postgres@app/psql ERROR:  boom",
          "%m [%p] %q%u@%d/%a " },
        { "1795541169.804 6b05c8b2.1325 [12] LOG:  x", "%n %c [%p] " },
        { "2020-03-11 20:41:42 CET:127.0.0.1(5432):postgres@postgres:[12835]:LOG:  x",
          "%t:%q%r:%u@%d:[%p]:" },
        /* the number in brackets is the pid, a bare one before it something else */
        { "100% [1] LOG:  x", "%x%% [%p] " },
        /* PostgreSQL 15.18, log_line_prefix '%t %c %l %e %r %h [%p] %q%u@%d ' */
        { "2026-11-27 02:58:41 UTC 6b08f1e1.55c2 3 00000 [local] [local] [21954] postgres@postgres "
          "LOG:  statement: CREATE DATABASE app",
          "%t %c %l %e %r %r [%p] %q%u@%d " },
        { "2026-11-27 02:58:41 UTC 6b08f1e1.558d 4 00000   [21901] LOG:  listening on IPv4",
          "%t %c %l %e   [%p] " },
        /* ... and '%m [%p] %q%u@%d/%a %x ' */
        { "2026-11-27 02:57:02.115 UTC [5791] postgres@app/qa 731 LOG:  duration: 0.359 ms  plan:",
          "%m [%p] %q%u@%d/%a %x " },
        { "2026-11-27 02:57:02.115 UTC [5791] postgres@app/qa 0 ERROR:  x",
          "%m [%p] %q%u@%d/%a %x " },
        /* a SQLSTATE with capitals */
        { "2026-11-27 02:57:02.115 UTC 42P01 [5791] LOG:  x", "%m %e [%p] " },
        /* PostgreSQL 15.18, '%m %c %x %v %e ' (session 29): the number after the session
         * id is not the pid (the session id has it), and 0 is no %l (it counts from 1) */
        { "2026-11-28 12:41:03.836 UTC 6b0acbdf.4196 0  00000 LOG:  starting PostgreSQL",
          "%m %c %x  %e " },
        { "2026-11-28 12:41:03.925 UTC 6b0acbdf.41a1 0 3/1 00000 LOG:  connection authorized",
          "%m %c %x %v %e " },
        /* '%n %s [%p] %q%u@%d ' (QA 29, hand-made): the epoch is the log time, the time
         * after it the session start */
        { "1795860000.123 2026-11-28 08:00:00 UTC [8000] app@shop LOG:  x", "%n %s [%p] %q%u@%d " },
        /* an RDS line behind CloudWatch's time (QA 29, hand-made): the RDS time is the
         * log time %t, not the session start */
        { "2026-11-28T10:00:01.000Z 2026-11-28 10:00:01 UTC:10.0.0.1(5432):app@shop:[4001]:LOG:  x",
          "%m %t:%q%r:%u@%d:[%p]:" },
        /* ... and '%m [%p] %b %Q ': backend types with a space, signed query ids */
        { "2026-11-28 12:41:05.668 UTC [16878] client backend -8140947058745820055 LOG:  x",
          "%m [%p] %b %Q " },
        { "2026-11-28 12:41:05.540 UTC [16871] startup 0 LOG:  database system was shut down",
          "%m [%p] %b %x " },
        { "2026-11-28 12:41:05.540 UTC [16878] client backend 4329088375928415521 LOG:  x",
          "%m [%p] %b %Q " },
    };
    struct sbuf out = SBUF_INIT;
    for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
        CHECK(line_prefix_infer(span_cstr(t[i].line), &out, false));
        CHECK_EQ_STR(out.buf, t[i].prefix);
        /* an inferred prefix matches the line it came from */
        struct diag d = DIAG_INIT;
        struct line_prefix *lp = line_prefix_new(sbuf_span(&out), &d);
        struct line_prefix_match m;
        CHECK_MSG(lp && line_prefix_match(lp, span_cstr(t[i].line), &m), "%s", t[i].line);
        line_prefix_free(lp);
    }
    CHECK(!line_prefix_infer(span_cstr("pg_ctl: could not start server"), &out, false));
    /* no time or process escape, JSON */
    CHECK(!line_prefix_infer(span_cstr(" sql_error_code = 40P01 ERROR:  deadlock"), &out, false));
    CHECK(!line_prefix_infer(span_cstr("LOG:  x"), &out, false));
    CHECK(!line_prefix_infer(span_cstr("{\"a\":\"2025-01-02 03:04:05 UTC [1] LOG:  x\"}"), &out,
                             false));
    /* a member line of pretty-printed JSON (rev11: a Cloud SQL export as one JSON array,
     * `gcloud logging read --format=json`, was read as a stderr log with the prefix
     * '    "textPayload": "[%p]: [%l-1] db=%d,user=%u ': events without time) */
    CHECK(
        !line_prefix_infer(span_cstr("    \"textPayload\": \"[24667]: [1-1] db=app,user=bob LOG:  "
                                     "connection received: host=127.0.0.1 port=59760\","),
                           &out, false));
    sbuf_release(&out);
}

static void test_detect(void)
{
    struct sbuf out = SBUF_INIT;
    bool inf;
    struct span debian[] = {
        span_cstr("2026-11-24 17:24:34.976 UTC [3491] LOG:  starting PostgreSQL 15.20"),
        span_cstr(
            "2026-11-24 17:25:01.471 UTC [3692] postgres@postgres LOG:  connection authorized"),
        span_cstr(
            "2026-11-24 17:25:01.817 UTC [3696] postgres@app LOG:  duration: 0.631 ms  statement: "
            "select id,"),
        span_cstr("	       v -- comment"),
        span_cstr("pg_ctl: could not start server"),
    };
    CHECK_EQ_INT(line_prefix_detect(debian, ARRAY_SIZE(debian), &out, &inf, false), 3);
    CHECK_EQ_STR(out.buf, "%m [%p] %q%u@%d ");
    CHECK(!inf);

    /* the application after a '/' is explained by the more specific known prefix */
    struct span withapp[] = {
        span_cstr("2026-11-24 17:24:34.976 UTC [3491] LOG:  starting PostgreSQL 15.20"),
        span_cstr("2026-11-24 17:25:01.982 UTC [3708] postgres@app/psql ERROR:  boom"),
    };
    CHECK_EQ_INT(line_prefix_detect(withapp, ARRAY_SIZE(withapp), &out, &inf, false), 2);
    CHECK_EQ_STR(out.buf, "%m [%p] %q%u@%d/%a ");

    /* only background lines: the more general known prefix wins the tie */
    CHECK_EQ_INT(line_prefix_detect(debian, 1, &out, &inf, false), 1);
    CHECK_EQ_STR(out.buf, "%m [%p] %q%u@%d ");

    struct span rds[] = {
        span_cstr("2020-03-11 20:40:43 CET::@:[12760]:LOG:  starting PostgreSQL 12.2"),
        span_cstr("2020-03-11 20:41:42 CET:[local]:postgres@postgres:[12835]:LOG:  duration: 1 ms"),
    };
    CHECK_EQ_INT(line_prefix_detect(rds, ARRAY_SIZE(rds), &out, &inf, false), 2);
    CHECK_EQ_STR(out.buf, "%t:%r:%u@%d:[%p]:");

    struct span custom[] = {
        span_cstr("2021-12-03 07:14:48.591 UTC [4913] user=user1,db=mydb LOG:  duration: 1 ms"),
        span_cstr(
            "2021-12-03 07:14:48.593 UTC [4913] user=user1,db=mydb DETAIL:  parameters: $1 = '1'"),
        span_cstr("2021-12-03 07:14:49.000 UTC [12] user=,db= LOG:  checkpoint starting: time"),
    };
    CHECK_EQ_INT(line_prefix_detect(custom, ARRAY_SIZE(custom), &out, &inf, false), 3);
    CHECK_EQ_STR(out.buf, "%m [%p] %quser=%u,db=%d ");
    CHECK(inf);

    /* Real lines of PostgreSQL 15.18 with log_line_prefix '%t %c %l %e %r %h [%p] %q%u@%d ':
     * the session line number after %c is not the pid, the number in brackets is (every
     * line matches, not only one process's). */
    struct span sessline[] = {
        span_cstr("2026-11-27 02:58:41 UTC 6b08f1e1.558d 3 00000   [21901] LOG:  starting "
                  "PostgreSQL 15.18 (Debian 15.18-0+deb12u1) on x86_64-pc-linux-gnu"),
        span_cstr("2026-11-27 02:58:41 UTC 6b08f1e1.558d 4 00000   [21901] LOG:  listening on "
                  "IPv4 address \"127.0.0.1\", port 55931"),
        span_cstr("2026-11-27 02:58:41 UTC 6b08f1e1.55c2 1 00000 [local] [local] [21954] "
                  "[unknown]@[unknown] LOG:  connection received: host=[local]"),
        span_cstr("2026-11-27 02:58:41 UTC 6b08f1e1.55c2 2 00000 [local] [local] [21954] "
                  "postgres@postgres LOG:  connection authorized: user=postgres database=postgres"),
        span_cstr("2026-11-27 02:58:41 UTC 6b08f1e1.55c2 3 00000 [local] [local] [21954] "
                  "postgres@postgres LOG:  statement: CREATE DATABASE app"),
        span_cstr("2026-11-27 02:58:41 UTC 6b08f1e1.55c5 1 00000 [local] [local] [21957] "
                  "[unknown]@[unknown] LOG:  connection received: host=[local]"),
        span_cstr("2026-11-27 02:58:41 UTC 6b08f1e1.55c5 3 00000 [local] [local] [21957] "
                  "postgres@app LOG:  statement: DROP TABLE IF EXISTS t, u, big, accts;"),
    };
    CHECK_EQ_INT(line_prefix_detect(sessline, ARRAY_SIZE(sessline), &out, &inf, false),
                 ARRAY_SIZE(sessline));
    CHECK(inf);
    struct line_prefix *lp = line_prefix_new(sbuf_span(&out), NULL);
    struct line_prefix_match m;
    CHECK(lp && line_prefix_match(lp, sessline[5], &m));
    CHECK_EQ_SPAN(m.field[LPF_PID], "21957");
    CHECK_EQ_SPAN(m.field[LPF_LINE], "1");
    CHECK_EQ_SPAN(m.field[LPF_SQLSTATE], "00000");
    line_prefix_free(lp);

    /* ... and '%m [%p] %q%u@%d/%a %x ': the transaction id is not part of the application
     * (the known '%m [%p] %q%u@%d/%a ' matches these lines too, with "qa 731" as %a). */
    struct span txid[] = {
        span_cstr("2026-11-27 02:57:01.992 UTC [5785] [unknown]@[unknown]/[unknown] 0 LOG:  "
                  "connection received: host=[local]"),
        span_cstr("2026-11-27 02:57:02.073 UTC [5785] postgres@postgres/qa 0 LOG:  duration: "
                  "67.164 ms  statement: CREATE DATABASE app"),
        span_cstr("2026-11-27 02:57:02.115 UTC [5791] postgres@app/qa 731 LOG:  duration: 0.359 "
                  "ms  plan:"),
    };
    CHECK_EQ_INT(line_prefix_detect(txid, ARRAY_SIZE(txid), &out, &inf, false), 3);
    CHECK_EQ_STR(out.buf, "%m [%p] %q%u@%d/%a %x ");
    lp = line_prefix_new(sbuf_span(&out), NULL);
    CHECK(lp && line_prefix_match(lp, txid[2], &m));
    CHECK_EQ_SPAN(m.field[LPF_APP], "qa");
    CHECK_EQ_SPAN(m.field[LPF_XID], "731");
    line_prefix_free(lp);

    struct span none[] = { span_cstr("hello"), span_cstr("	world") };
    CHECK_EQ_INT(line_prefix_detect(none, ARRAY_SIZE(none), &out, &inf, false), 0);
    sbuf_release(&out);
}

/* ---- the first-path shortcut gives the full search's answer ---------------------- */

static const char *const extra_prefixes[] = {
    "%m [%p] %q%u@%d/%a ",
    " %m [%p] %q%u@%d/%a ",
    "%m [%p] %q[%l] %u@%d ",
    "%-10u %5p %m ",
    "%10u|%-8d|%p ",
    "%t [%p-%l] %q%u@%d,app=%a,client=%r ",
    "%n [%p] %c %v %x %e %Q ",
    "%s %b %i %P %L %h ",
    "%m %u %d %a ",
    "%p:%u:%d:%a:",
    "%m [%p] user=%u db=%d %q ",
};

static bool same_match(bool r1, const struct line_prefix_match *a, bool r2,
                       const struct line_prefix_match *b)
{
    if (r1 != r2)
        return false;
    if (!r1)
        return true;
    if (a->kw != b->kw || a->kw_off != b->kw_off || a->msg_off != b->msg_off || a->cut != b->cut)
        return false;
    for (int f = 0; f < LPF_COUNT; f++)
        if (a->field[f].p != b->field[f].p || a->field[f].len != b->field[f].len)
            return false;
    return true;
}

/* Every line of @path against every prefix, three ways (the first path, the first
 * path with the memo that lives across the file's lines, the full search); returns the
 * lines compared. */
static size_t compare_file(const char *path, struct line_prefix *const *lps,
                           struct line_prefix_memo *const *memos, size_t nlp, size_t *matched,
                           size_t *matched_by)
{
    struct diag d = DIAG_INIT;
    struct input *in = input_open(&(struct input_opts){ .path = path }, &d);
    if (!in)
        return 0;
    struct input_line ln;
    enum input_status st;
    size_t lines = 0;
    while ((st = input_next(in, &ln, &d)) == INPUT_LINE || st == INPUT_DAMAGED) {
        if (st == INPUT_DAMAGED)
            continue;
        lines++;
        for (size_t i = 0; i < nlp; i++) {
            struct line_prefix_match a, b, c;
            line_prefix_full_search_only = false;
            bool r1 = line_prefix_match(lps[i], ln.text, &a);
            bool r3 = line_prefix_match_memo(lps[i], memos[i], ln.text, &c);
            line_prefix_full_search_only = true;
            bool r2 = line_prefix_match(lps[i], ln.text, &b);
            line_prefix_full_search_only = false;
            *matched += r1;
            matched_by[i] += r1;
            if (!same_match(r1, &a, r2, &b) || !same_match(r3, &c, r2, &b)) {
                CHECK_MSG(0, "%s:%llu: prefix '%s': %s and full search differ", path,
                          (unsigned long long)ln.line, line_prefix_text(lps[i]),
                          same_match(r1, &a, r2, &b) ? "memo" : "shortcut");
                input_close(in);
                return lines;
            }
        }
    }
    input_close(in);
    return lines;
}

static void test_first_path_equals_full_search(void)
{
    struct line_prefix *lps[64];
    size_t nlp = 0;
    for (size_t i = 0; line_prefix_known[i] && nlp < ARRAY_SIZE(lps); i++)
        lps[nlp++] = line_prefix_new(span_cstr(line_prefix_known[i]), NULL);
    for (size_t i = 0; i < ARRAY_SIZE(extra_prefixes) && nlp < ARRAY_SIZE(lps); i++)
        lps[nlp++] = line_prefix_new(span_cstr(extra_prefixes[i]), NULL);
    struct line_prefix_memo *memos[64];
    for (size_t i = 0; i < nlp; i++) {
        CHECK(lps[i] != NULL);
        memos[i] = line_prefix_memo_new();
    }

    static const char *const fixtures[] = {
        "fixtures/pg15/json-plans/postgresql.log",     "fixtures/pg15/plan-insights/postgresql.log",
        "fixtures/pg15/statement-log/postgresql.log",  "fixtures/pg15/text-plans/postgresql.log",
        "fixtures/pg15/verbose-errors/postgresql.log",
    };
    size_t lines = 0, matched = 0, matched_by[64] = { 0 };
    for (size_t i = 0; i < ARRAY_SIZE(fixtures); i++) {
        size_t n = compare_file(fixtures[i], lps, memos, nlp, &matched, matched_by);
        CHECK_MSG(n > 100, "%s: %zu lines", fixtures[i], n);
        lines += n;
    }
    CHECK_MSG(matched > 10000, "only %zu matches", matched);

    /* pgBadger's test logs (../shared, not in the repository) when present */
    static const char *const peer[] = {
        "anonymize.log", "begin_end.log",  "multiline_param.log",        "pg-timezones.log",
        "stmt_type.log", "weeknumber.log", "postgresql_param_range.log", "queryid.log.gz",
        "logplex.gz",    "pg-syslog.2.gz", "tempfile_only.log.gz",
    };
    const char *src = getenv("SIFT_SOURCE_DIR");
    char path[4096];
    size_t peer_lines = 0;
    for (size_t i = 0; src && i < ARRAY_SIZE(peer); i++) {
        snprintf(path, sizeof(path), "%s/../shared/peer-logs/pgbadger/%s", src, peer[i]);
        peer_lines += compare_file(path, lps, memos, nlp, &matched, matched_by);
    }
    printf("    first path (with and without the memo) vs full search: %zu fixture lines, "
           "%zu peer lines, %zu prefixes, %zu matches\n",
           lines, peer_lines, nlp, matched);
    /* Debian's prefix (the first known) matches most stderr lines of the fixtures and
     * peer logs: most of them must come from the memo (the others are a session's
     * first line of a kind, or a tail pushed out by other sessions) */
    uint64_t hits = line_prefix_memo_hits(memos[0]);
    CHECK_MSG(hits > matched_by[0] / 2, "the memo answered %llu of the %zu lines '%s' matched",
              (unsigned long long)hits, matched_by[0], line_prefix_text(lps[0]));
    printf("    the memo answered %llu of the %zu lines '%s' matched\n", (unsigned long long)hits,
           matched_by[0], line_prefix_text(lps[0]));
    for (size_t i = 0; i < nlp; i++) {
        line_prefix_free(lps[i]);
        line_prefix_memo_free(memos[i]);
    }
}

/* ---- the memo ---------------------------------------------------------------------- */

/* Handmade lines (not from a server) built so that a line's tail equals an earlier
 * one's up to a byte the matcher reads or a length it tests: each is matched with one
 * memo that lives across all of them and compared with the full search. */
static void test_memo_edges(void)
{
    static const char *const prefixes[] = {
        "%m [%p] %q%u@%d/%a ",
        "%t [%p]: [%l-1] user=%u,db=%d ",
        "%m %v %u ",
        "%m %p %p %q%u ",
        "%p %u ",
        "%m [%p] %r %q%i ",
    };
    static const char *const lines[] = {
        /* the same tail, two spaces then one, then a message that starts with a space */
        "2026-11-25 17:44:49.887 UTC [9367] ann@shop/psql LOG:  duration: 1 ms",
        "2026-11-25 17:44:49.888 UTC [9367] ann@shop/psql LOG:  connection",
        "2026-11-25 17:44:49.889 UTC [9367] ann@shop/psql LOG: x",
        "2026-11-25 17:44:49.890 UTC [9367] ann@shop/psql LOG: y",
        "2026-11-25 17:44:49.891 UTC [9367] ann@shop/psql LOG:   three spaces",
        /* empty messages: the line ends after the keyword and its spaces */
        "2026-11-25 17:44:49.892 UTC [9367] ann@shop/psql LOG:  ",
        "2026-11-25 17:44:49.893 UTC [9367] ann@shop/psql LOG: ",
        "2026-11-25 17:44:49.894 UTC [9367] ann@shop/psql LOG:",
        "2026-11-25 17:44:49.895 UTC [9367] ann@shop/psql LOG:  after the empty ones",
        /* the keyword cut short, or a different one on the same tail */
        "2026-11-25 17:44:49.896 UTC [9367] ann@shop/psql LO",
        "2026-11-25 17:44:49.897 UTC [9367] ann@shop/psql STATEMENT:  select 1",
        "2026-11-25 17:44:49.898 UTC [9367] ann@shop/psql STATEMENT:  select 2",
        /* a process without a client (the %q cut), then the same pid with one */
        "2026-11-25 17:44:49.899 UTC [9367] LOG:  checkpoint starting: time",
        "2026-11-25 17:44:49.900 UTC [9367] LOG:  checkpoint complete",
        "2026-11-25 17:44:49.901 UTC [9367] ann@shop/psql LOG:  duration: 2 ms",
        /* a time without a fraction or zone, and with another fraction length */
        "2026-11-25 17:44:49 [9367] ann@shop/psql LOG:  duration: 3 ms",
        "2026-11-25 17:44:49.5 UTC [9367] ann@shop/psql LOG:  duration: 4 ms",
        /* %l changes, the rest stays */
        "2026-11-25 17:44:49 UTC [77]: [1-1] user=ann,db=shop LOG:  one",
        "2026-11-25 17:44:49 UTC [77]: [2-1] user=ann,db=shop LOG:  two",
        "2026-11-25 17:44:49 UTC [77]: [2-1] user=ann,db=shop LOG: three",
        /* a tail longer than the memo keeps */
        "2026-11-25 17:44:49.902 UTC [9367] ann@shop/"
        "a-very-long-application-name-a-very-long-application-name-a-very-long-application-"
        "name-a-very-long-application-name LOG:  long",
        "2026-11-25 17:44:49.903 UTC [9367] ann@shop/"
        "a-very-long-application-name-a-very-long-application-name-a-very-long-application-"
        "name-a-very-long-application-name LOG:  long again",
        /* %v empty and not, the same pid twice (the second token wins) */
        "2026-11-25 17:44:49.904 UTC  ann LOG:  no vxid",
        "2026-11-25 17:44:49.905 UTC 3/4 ann LOG:  vxid",
        "2026-11-25 17:44:49.906 UTC  ann LOG:  no vxid again",
        "2026-11-25 17:44:49.907 UTC 12 13 ann LOG:  two pids",
        "2026-11-25 17:44:49.908 UTC 12 13 ann LOG:  two pids again",
        "2026-11-25 17:44:49.909 UTC 12 13 LOG:  two pids, cut",
        "2026-11-25 17:44:49.910 UTC 12 13 LOG:  two pids, cut again",
        /* no escape that changes by line: the memo starts at the first byte */
        "4242 ann LOG:  whole prefix",
        "4242 ann LOG:  whole prefix again",
        "4242 ann LOG:",
        "4242 ann LOG: one space",
        /* %r and %i: host(port), [local], an empty command tag */
        "2026-11-25 17:44:49.911 UTC [1] 10.0.0.1(5432) SELECT LOG:  a",
        "2026-11-25 17:44:49.912 UTC [1] 10.0.0.1(5432) SELECT LOG:  b",
        "2026-11-25 17:44:49.913 UTC [1] [local] idle LOG:  c",
        "2026-11-25 17:44:49.914 UTC [1] [local]  LOG:  d",
        "2026-11-25 17:44:49.915 UTC [1] [local]  LOG:  e",
    };
    size_t compared = 0, matched = 0;
    for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++) {
        struct line_prefix *lp = compile(prefixes[i]);
        struct line_prefix_memo *memo = line_prefix_memo_new();
        for (int round = 0; round < 2; round++) {
            for (size_t j = 0; j < ARRAY_SIZE(lines); j++) {
                struct line_prefix_match a, b;
                struct span line = span_cstr(lines[j]);
                bool r1 = line_prefix_match_memo(lp, memo, line, &a);
                line_prefix_full_search_only = true;
                bool r2 = line_prefix_match(lp, line, &b);
                line_prefix_full_search_only = false;
                CHECK_MSG(same_match(r1, &a, r2, &b),
                          "prefix '%s', line %zu (round %d): memo %d, full %d", prefixes[i], j,
                          round, r1, r2);
                compared++;
                matched += r1;
            }
        }
        line_prefix_memo_free(memo);
        line_prefix_free(lp);
    }
    CHECK_MSG(matched > 60, "only %zu of %zu matched", matched, compared);
}

/* The memo answers from its table: a line whose tail it holds is not walked again, and
 * a memo used with another prefix forgets the first one's tails. */
static void test_memo_reuse(void)
{
    struct line_prefix *lp = compile("%m [%p] %q%u@%d/%a ");
    struct line_prefix *other = compile("%m [%p] %q%u@%d ");
    struct line_prefix_memo *memo = line_prefix_memo_new();
    struct line_prefix_match m;
    const char *line = "2026-11-25 17:44:49.887 UTC [9367] ann@shop/psql LOG:  duration: 1 ms";

    CHECK(line_prefix_match_memo(lp, memo, span_cstr(line), &m));
    CHECK_EQ_INT(m.field[LPF_APP].len, 4);
    CHECK_EQ_INT(line_prefix_memo_hits(memo), 0);
    CHECK(line_prefix_match_memo(lp, memo, span_cstr(line), &m));
    CHECK_EQ_INT(line_prefix_memo_hits(memo), 1);
    CHECK_EQ_INT(m.field[LPF_APP].len, 4);
    CHECK(m.field[LPF_APP].p == line + 44);
    CHECK_EQ_INT(m.kw, LPK_LOG);
    CHECK_EQ_INT(m.msg_off, 55);
    /* the next line of the session: another time, the same tail */
    const char *next = "2026-11-25 17:44:50.001 UTC [9367] ann@shop/psql LOG:  duration: 2 ms";
    CHECK(line_prefix_match_memo(lp, memo, span_cstr(next), &m));
    CHECK_EQ_INT(line_prefix_memo_hits(memo), 2);
    CHECK(m.field[LPF_USER].p == next + 35 && m.field[LPF_USER].len == 3);
    CHECK(m.field[LPF_TIME_MS].p == next && m.field[LPF_TIME_MS].len == 27);
    /* the other prefix reads the same line differently ('shop/psql' is the database) */
    CHECK(line_prefix_match_memo(other, memo, span_cstr(line), &m));
    CHECK_EQ_INT(line_prefix_memo_hits(memo), 0);
    CHECK(m.field[LPF_APP].p == NULL);
    CHECK_EQ_INT(m.field[LPF_DB].len, 9);
    CHECK(line_prefix_match_memo(lp, memo, span_cstr(line), &m));
    CHECK_EQ_INT(m.field[LPF_DB].len, 4);
    line_prefix_memo_free(memo);
    line_prefix_free(other);
    line_prefix_free(lp);
}

/* Lines whose tails never repeat (each from a new process): after one window of lookups
 * the memo stops keeping tails for a while, then comes back for repeating ones. The
 * answers are the full search's throughout. */
static void test_memo_pause(void)
{
    struct line_prefix *lp = compile("%m [%p] %q%u@%d/%a ");
    struct line_prefix_memo *memo = line_prefix_memo_new();
    char line[128];
    size_t matched = 0;
    for (int i = 0; i < 2000; i++) {
        snprintf(line, sizeof(line), "2026-11-25 17:44:49.887 UTC [%d] ann@shop/psql LOG:  x",
                 10000 + i);
        struct line_prefix_match a, b;
        bool r1 = line_prefix_match_memo(lp, memo, span_cstr(line), &a);
        line_prefix_full_search_only = true;
        bool r2 = line_prefix_match(lp, span_cstr(line), &b);
        line_prefix_full_search_only = false;
        CHECK(same_match(r1, &a, r2, &b));
        matched += r1;
    }
    CHECK_EQ_INT(matched, 2000);
    CHECK_EQ_INT(line_prefix_memo_hits(memo), 0);
    /* one window of 256 stored, then the pause */
    CHECK_EQ_INT(line_prefix_memo_stores(memo), 256);
    /* one session's lines: the pause runs out, the memo stores the tail once and then
     * answers from it */
    snprintf(line, sizeof(line), "2026-11-25 17:44:49.887 UTC [4242] ann@shop/psql LOG:  x");
    for (int i = 0; i < 6000; i++) {
        struct line_prefix_match a;
        CHECK(line_prefix_match_memo(lp, memo, span_cstr(line), &a));
    }
    CHECK_EQ_INT(line_prefix_memo_stores(memo), 257);
    CHECK_EQ_INT(line_prefix_memo_hits(memo), 6000 - (4096 - (2000 - 256)) - 1);
    line_prefix_memo_free(memo);
    line_prefix_free(lp);
}

TEST_LIST = {
    { "prefix_length_limit", test_prefix_length_limit },
    { "padding_limit", test_padding_limit },
    { "newline_refused", test_newline_refused },
    { "field_letters", test_field_letters },
    { "keywords", test_keywords },
    { "linear_time", test_linear_time },
    { "long_legit_line", test_long_legit_line },
    { "infer", test_infer },
    { "detect", test_detect },
    { "first_path_equals_full_search", test_first_path_equals_full_search },
    { "memo_edges", test_memo_edges },
    { "memo_reuse", test_memo_reuse },
    { "memo_pause", test_memo_pause },
    { NULL, NULL },
};
