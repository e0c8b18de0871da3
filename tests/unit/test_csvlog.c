/* SPDX-License-Identifier: MIT */
/*
 * csvlog: real PG 15.20 records (formats.md §2.4, Observed) and the accounting rules.
 * Field-by-field expectations live in tests/cases/parse/csvlog*.cases.
 *
 * Records spanning lines are parsed in place when the rest of the record is already read
 * (parser_feed_ahead()), else line by line (pending). The two must agree exactly: events,
 * counts, reject samples and the checkpoint after every feed, whatever the amount read
 * ahead (every window size), through the real input with tiny buffers (plain and gzip),
 * and in follow mode (a record whose last line has not arrived yet waits).
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#define TMPFILES_TEMPLATE "/tmp/sift-csvlog.XXXXXX"
#include "tmpfiles.h"
#include "input/input.h"
#include "parsetest.h"

/* Verbatim from formats.md §2.4 (PG 15.20, Observed): 9 records on 16 lines. */
static const char observed[] =
    "2026-11-24 17:25:01.470 UTC,,,3692,\"[local]\",6b05c86d.e6c,1,\"\",2026-11-24 17:25:01 "
    "UTC,,0,LOG,00000,\"connection received: host=[local]\",,,,,,,,,\"\",\"not "
    "initialized\",,0\n"
    "2026-11-24 17:25:01.817 UTC,\"postgres\",\"app\",3696,\"[local]\",6b05c86d.e70,3,"
    "\"SELECT\",2026-11-24 17:25:01 UTC,3/0,0,LOG,00000,\"duration: 0.631 ms  statement: "
    "select id,\n"
    "       v -- comment\n"
    "  from t\n"
    " where v = 'it''s \"\"q\"\" \xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac'\n"
    "   and id < 10;\",,,,,,,,,\"psql\",\"client backend\",,-759572055643369389\n"
    "2026-11-24 17:25:04.532 UTC,\"postgres\",\"app\",3749,\"[local]\",6b05c86e.ea5,7,"
    "\"UPDATE\",2026-11-24 17:25:02 UTC,3/263,803,ERROR,40P01,\"deadlock detected\",\"Process "
    "3749 waits for ShareLock on transaction 804; blocked by process 3751.\n"
    "Process 3751 waits for ShareLock on transaction 803; blocked by process 3749.\n"
    "Process 3749: update acct set bal=bal+1 where id=2\n"
    "Process 3751: update acct set bal=bal+1 where id=1\",\"See server log for query "
    "details.\",,,\"while updating tuple (0,2) in relation \"\"acct\"\"\",\"update acct set "
    "bal=bal+1 where id=2\",,,\"psql\",\"client backend\",,-1501324149581294150\n";

static void test_observed(void)
{
    struct sbuf out = SBUF_INIT;
    struct parser *p =
        pt_run(observed, sizeof(observed) - 1, &(struct parser_opts){ .format = "csvlog" }, &out);
    CHECK(p != NULL);
    if (!p)
        return;
    const struct parse_stats *st = parser_stats(p);
    CHECK_EQ_U64(st->lines, 10);
    CHECK_EQ_U64(st->events, 3);
    CHECK_EQ_U64(st->rejects, 0);
    CHECK(pt_balanced(st));
    CHECK_MSG(strstr(out.buf, "line=2 offset=") != NULL, "%s", out.buf);
    CHECK_MSG(strstr(out.buf, "where v = 'it''s \\\"q\\\" \xc3\xa9") != NULL, "%s", out.buf);
    CHECK_MSG(strstr(out.buf, "query_id=-1501324149581294150") != NULL, "%s", out.buf);
    CHECK_MSG(strstr(out.buf, "context=\"while updating tuple (0,2) in relation \\\"acct\\\"\"") !=
                  NULL,
              "%s", out.buf);
    parser_free(p);
    sbuf_release(&out);
}

/* A 26-column record around a message field given as CSV text (quotes included). */
#define HEAD(pid)                                                                              \
    "2026-11-24 17:25:01.470 UTC,\"u\",\"db\"," #pid ",\"[local]\",6b05c86d.e6c,1,\"SELECT\"," \
    "2026-11-24 17:25:01 UTC,3/0,0,LOG,00000,"
#define TAIL ",,,,,,\"select 1\",,,\"psql\",\"client backend\",,0"

/* Every way a record spans lines, and the damage the pending path resynchronises on. */
static const char multi[] =
    /* line 1: one line */
    HEAD(1) "\"one line\"" TAIL "\n"
    /* 2-5: a plan, '\"\"' inside and one at a line's end, an empty line inside */
    HEAD(2) "\"duration: 1.0 ms  plan:\n  ->  Seq Scan on \"\"t\"\"\"\"\n\n    Filter: x\"" TAIL
            "\n"
    /* 6-9: two fields spanning lines; a quote after a closing one is text */
    HEAD(3) "\"a\nb\",,,,,,\"select\n  x\"\"y\n  from t\",,,\"psql\",\"client backend\",,0\n"
    /* 10-11: "\r\n" inside the record (the pending path drops the '\r') */
    HEAD(4) "\"crlf\r\nrecord\"" TAIL "\r\n"
    /* 12-13: the first line ends "\r\n", the last "\n" */
    HEAD(5) "\"first\r\nlast\"" TAIL "\n"
    /* 14-15: the last line ends "\r\n" */
    HEAD(6) "\"x\ny\"" TAIL "\r\n"
    /* 16-17: a quote that never closes: the next record (18) resynchronises */
    HEAD(7) "\"never closed\n  more text,,,\n" HEAD(8) "\"after damage\"" TAIL "\n"
    /* 19-20: a line inside a quote that is a record start (damage: the pending path
     * cuts the record there, rejects it and the rest of the line) */
    HEAD(9) "\"t\n2026-11-24 17:25:01.470 UTC, cut\"" TAIL "\n"
    /* 21-23: a line inside a quote that looks like a time but is no record start */
    HEAD(14) "\"u\n2026-11-24 17:25:01.470 UTC, not a record\nend\"" TAIL "\n"
    /* 24-25: text after a closing quote on a later line */
    HEAD(10) "\"bad\nquote\"x" TAIL "\n"
    /* 26-27: too few columns */
    HEAD(11) "\"short\nrecord\",x\n"
             /* 28: a blank line between records */
             "\n"
    /* 29-31: a field opening at a field start after a closing quote */
    HEAD(12) "\"m\nn\",\"d\ne\",,,,,\"s\",,,\"psql\",\"client backend\",,0\n"
    /* 32-34: a line inside ends "\r\n", the first and last "\n" */
    HEAD(15) "\"p\nq\r\nr\"" TAIL "\n"
    /* 35-36: the last record, without a final newline */
    HEAD(13) "\"at\nend\"" TAIL;

/* The reference (line by line) run's output, counts and checkpoint after every line. */
struct ref {
    struct sbuf out, stats;
    struct pt_ck *cks;
    size_t nlines;
};

static void ref_run(struct ref *r, const char *data, size_t len)
{
    uint64_t feeds;
    sbuf_init(&r->out, 0);
    sbuf_init(&r->stats, 0);
    r->nlines = 1;
    for (size_t i = 0; i < len; i++)
        r->nlines += data[i] == '\n';
    r->cks = calloc(r->nlines + 1, sizeof(*r->cks));
    struct parser *p = pt_run_ahead(data, len, &(struct parser_opts){ .format = "csvlog" }, 0,
                                    &r->out, r->cks, &feeds);
    CHECK(p != NULL);
    if (!p)
        return;
    pt_stats_text(parser_stats(p), &r->stats);
    CHECK(pt_balanced(parser_stats(p)));
    parser_free(p);
}

static void ref_release(struct ref *r)
{
    sbuf_release(&r->out);
    sbuf_release(&r->stats);
    free(r->cks);
}

/* Every amount read ahead, from 1 byte to all: same events, counts, samples, and at each
 * feed the checkpoint the line-by-line run had after the same line. */
/* A quoted field's '""' pairs collapse to '"' (csv_value(): the pairs found by the parity
 * of 64-byte windows, the text between them copied in runs of 16): random texts of quotes,
 * commas, newlines and letters, 0 to 300 bytes (pairs across windows, runs at the end of
 * the field), each as the message of a record, parsed back to the same text. Both splits
 * are used: a one-line record is split by masks, a record spanning lines field by field. */
static void test_unescape_random(void)
{
    static const char alphabet[] = "\"\"\"ab, \nxyz\xc3\xa9";
    uint64_t seed = 0x9e3779b97f4a7c15u;
    struct sbuf rec = SBUF_INIT, out = SBUF_INIT, want = SBUF_INIT;
    int bad = 0;
    for (int round = 0; round < 3000 && bad < 3; round++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        size_t len = (size_t)(seed >> 33) % 301;
        char text[301];
        for (size_t i = 0; i < len; i++) {
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            text[i] = alphabet[(seed >> 33) % (sizeof(alphabet) - 1)];
        }
        /* at least one quote, so the field is escaped */
        if (len)
            text[(seed >> 20) % len] = '"';
        sbuf_reset(&rec);
        sbuf_reset(&out);
        sbuf_reset(&want);
        CHECK(sbuf_addstr(&rec, HEAD(1) "\"") == 0);
        for (size_t i = 0; i < len; i++)
            CHECK(sbuf_addstr(&rec, text[i] == '"' ? "\"\"" : (char[]){ text[i], 0 }) == 0);
        CHECK(sbuf_addstr(&rec, "\"" TAIL "\n") == 0);
        struct parser *p =
            pt_run(rec.buf, rec.len, &(struct parser_opts){ .format = "csvlog" }, &out);
        CHECK(p != NULL);
        if (!p)
            break;
        pt_str(&want, "message", span_make(text, len));
        if (!strstr(out.buf, want.buf)) {
            bad++;
            CHECK_MSG(false, "round %d: want%s in %s", round, want.buf, out.buf);
        }
        CHECK_EQ_U64(parser_stats(p)->events, 1);
        parser_free(p);
    }
    sbuf_release(&rec);
    sbuf_release(&out);
    sbuf_release(&want);
}

static void test_ahead_windows(void)
{
    struct ref ref;
    size_t len = sizeof(multi) - 1;
    ref_run(&ref, multi, len);
    CHECK_MSG(strstr(ref.stats.buf, "unterminated quoted field: 2 records 3 lines") != NULL, "%s",
              ref.stats.buf);
    CHECK_MSG(strstr(ref.stats.buf, "wrong number of columns: 2 records 3 lines") != NULL, "%s",
              ref.stats.buf);
    CHECK_MSG(strstr(ref.stats.buf, "text after closing quote: 1 records 2 lines") != NULL, "%s",
              ref.stats.buf);
    CHECK_MSG(strstr(ref.out.buf, "message=\"crlf\\nrecord\"") != NULL, "%s", ref.out.buf);

    struct pt_ck *cks = calloc(ref.nlines + 1, sizeof(*cks));
    for (size_t w = 1; w <= len + 1; w++) {
        size_t window = w == len + 1 ? SIZE_MAX : w;
        struct sbuf out = SBUF_INIT, stats = SBUF_INIT;
        uint64_t feeds;
        memset(cks, 0xff, (ref.nlines + 1) * sizeof(*cks));
        struct parser *p = pt_run_ahead(multi, len, &(struct parser_opts){ .format = "csvlog" },
                                        window, &out, cks, &feeds);
        CHECK(p != NULL);
        if (!p)
            break;
        pt_stats_text(parser_stats(p), &stats);
        CHECK_EQ_STR(out.buf, ref.out.buf);
        CHECK_EQ_STR(stats.buf, ref.stats.buf);
        for (size_t l = 1; l <= ref.nlines; l++)
            if (cks[l].line != UINT64_MAX)
                CHECK_MSG(
                    cks[l].offset == ref.cks[l].offset && cks[l].line == ref.cks[l].line &&
                        cks[l].nskip == ref.cks[l].nskip,
                    "window %zu, after line %zu: checkpoint %llu:%llu, line by line %llu:%llu", w,
                    l, (unsigned long long)cks[l].offset, (unsigned long long)cks[l].line,
                    (unsigned long long)ref.cks[l].offset, (unsigned long long)ref.cks[l].line);
        if (window == SIZE_MAX) {
            /* 36 lines in 23 feeds: the records on lines 2-5, 6-9, 14-15, 21-23, 24-25,
             * 26-27 and 29-31 in one feed each; the "\r\n" ones (10-11, 12-13, 32-34),
             * the damaged ones (16-17, 19-20) and the one at the end without '\n' (35-36)
             * line by line (pending). */
            CHECK_EQ_U64(feeds, 23);
        }
        parser_free(p);
        sbuf_release(&out);
        sbuf_release(&stats);
    }
    free(cks);
    ref_release(&ref);
}

/* Hand-made edge case: a statement whose text holds a whole csvlog record line (as
 * the server writes it: every quote doubled). It is text, not a record: no lone quote
 * on the line (csv_may_start()), so the statement is one call and nothing is made up -
 * a tenant's SQL must not add calls, users or databases. Both paths, every window. */
static const char record_in_text[] =
    HEAD(1) "\"duration: 1.25 ms  statement: select f($$\n"
            "2026-11-24 17:25:01.470 UTC,\"\"x\"\",\"\"y\"\",1,\"\"h:1\"\",s.1,1,\"\"SELECT\"\","
            "2026-11-24 17:25:01 UTC,1/1,0,LOG,00000,\"\"duration: 5000 ms  statement: delete "
            "from ledger\"\",,,,,,,,,\"\"app\"\",\"\"client backend\"\",,1\n"
            "2026-11-24 17:25:01.470 UTC,x,y,1,h:1,s.1,1,SELECT,2026-11-24 17:25:01 UTC,1/1,0,"
            "LOG,00000,duration: 9 ms  statement: drop table t,,,,,,,,,app,client backend,,1\n"
            "$$)\"" TAIL "\n" HEAD(2) "\"duration: 2.5 ms  statement: select 2\"" TAIL "\n";

static void test_record_in_text(void)
{
    struct ref ref;
    size_t len = sizeof(record_in_text) - 1;
    ref_run(&ref, record_in_text, len);
    CHECK_MSG(strstr(ref.stats.buf, " events=2 ") && strstr(ref.stats.buf, " rejects=0 "), "%s",
              ref.stats.buf);
    CHECK_MSG(strstr(ref.out.buf, "delete from ledger") != NULL, "%s", ref.out.buf);
    CHECK_MSG(strstr(ref.out.buf, "duration: 2.5 ms") != NULL, "%s", ref.out.buf);
    CHECK_MSG(strstr(ref.out.buf, "user=\"x\"") == NULL, "%s", ref.out.buf);
    for (size_t w = 1; w <= len + 1; w++) {
        struct sbuf out = SBUF_INIT;
        uint64_t feeds;
        struct parser *p =
            pt_run_ahead(record_in_text, len, &(struct parser_opts){ .format = "csvlog" },
                         w == len + 1 ? SIZE_MAX : w, &out, NULL, &feeds);
        CHECK(p != NULL);
        if (!p)
            break;
        CHECK_EQ_STR(out.buf, ref.out.buf);
        parser_free(p);
        sbuf_release(&out);
    }
    ref_release(&ref);
}

/* Records taken in place end their open field at the quote that csv_record_end() saw
 * close it: a '""' on the field's first line (the unescaped copy), a quote pair split
 * over nothing but the field, a record ending at that quote, text after it. */
static const char multi_close[] =
    HEAD(1) "\"say \"\"hi\"\"\nthere\"" TAIL "\n" HEAD(2) "\"\"\"\n\"\"\"\"\"" TAIL "\n" HEAD(
        3) "\"ends\nhere\"\n" HEAD(4) "\"text\nafter\"x,\"y\"" TAIL
                                      "\n" HEAD(5) "\"last\nfield\",,,,,,,,,,,,\"q\nq\"\n";

static void test_ahead_close(void)
{
    struct ref ref;
    size_t len = sizeof(multi_close) - 1;
    ref_run(&ref, multi_close, len);
    CHECK_MSG(strstr(ref.out.buf, "message=\"say \\\"hi\\\"\\nthere\"") != NULL, "%s", ref.out.buf);
    CHECK_MSG(strstr(ref.out.buf, "message=\"\\\"\\n\\\"\\\"\"") != NULL, "%s", ref.out.buf);
    struct sbuf out = SBUF_INIT, stats = SBUF_INIT;
    uint64_t feeds;
    struct pt_ck *cks = calloc(ref.nlines + 1, sizeof(*cks));
    struct parser *p = pt_run_ahead(multi_close, len, &(struct parser_opts){ .format = "csvlog" },
                                    SIZE_MAX, &out, cks, &feeds);
    CHECK(p != NULL);
    if (p) {
        pt_stats_text(parser_stats(p), &stats);
        CHECK_EQ_STR(out.buf, ref.out.buf);
        CHECK_EQ_STR(stats.buf, ref.stats.buf);
        CHECK_EQ_U64(feeds, 5); /* every record in place */
        parser_free(p);
    }
    sbuf_release(&out);
    sbuf_release(&stats);
    free(cks);
    ref_release(&ref);
}

/* Through the real input (input_ahead/input_consume), as pipeline_run() does: tiny read
 * sizes so that records cross the buffer's end everywhere; plain and gzip (inline and on
 * the decoder thread with tiny ring slots). */
static void run_input(const char *path, size_t chunk, enum input_gz_mode gz, size_t slot, bool hold,
                      struct sbuf *out, struct sbuf *stats, struct parse_checkpoint *last,
                      uint64_t start_offset, uint64_t start_line)
{
    struct diag d = DIAG_INIT;
    struct input *in = input_open(&(struct input_opts){ .path = path,
                                                        .chunk_bytes = chunk,
                                                        .gz_mode = gz,
                                                        .gz_slot_bytes = slot,
                                                        .hold_partial = hold,
                                                        .start_offset = start_offset,
                                                        .start_line = start_line },
                                  &d);
    struct parser *p = parser_new(&(struct parser_opts){ .format = "csvlog" }, &d);
    CHECK(in != NULL && p != NULL);
    if (!in || !p) {
        input_close(in);
        parser_free(p);
        return;
    }
    struct input_line ln;
    struct event *ev;
    enum input_status st;
    while ((st = input_next(in, &ln, &d)) == INPUT_LINE) {
        uint64_t end = ln.end;
        uint64_t n = parser_feed_ahead(p, &ln, input_ahead(in));
        const char *next;
        size_t next_len;
        if (n)
            input_consume(in, (size_t)(ln.end - end), n);
        else if ((next_len = parser_line_hint(p, &next)) > 0)
            input_hint_line(in, next, next_len); /* as pipeline_run() does */
        CHECK_EQ_U64(input_offset(in), ln.end);
        while (parser_next(p, &ev) == PARSE_EVENT) {
            pt_render(ev, out);
            CHECK(sbuf_addch(out, '\n') == 0);
        }
    }
    CHECK(st == INPUT_EOF);
    if (!hold)
        parser_end(p);
    while (parser_next(p, &ev) == PARSE_EVENT) {
        pt_render(ev, out);
        CHECK(sbuf_addch(out, '\n') == 0);
    }
    if (last)
        parser_checkpoint(p, last);
    pt_stats_text(parser_stats(p), stats);
    parser_free(p);
    input_close(in);
}

static void test_ahead_input(void)
{
    struct ref ref;
    size_t len = sizeof(multi) - 1;
    ref_run(&ref, multi, len);
    const char *plain = tmp_path("multi.csv"), *gz = tmp_path("multi.csv.gz");
    write_file(plain, multi, len);
    unlink(gz);
    gz_append(gz, multi, len);
    for (size_t chunk = 1; chunk <= len + 1; chunk += chunk < 80 ? 1 : 97) {
        for (int k = 0; k < 3; k++) {
            struct sbuf out = SBUF_INIT, stats = SBUF_INIT;
            if (k == 0)
                run_input(plain, chunk, INPUT_GZ_AUTO, 0, false, &out, &stats, NULL, 0, 0);
            else
                run_input(gz, chunk, k == 1 ? INPUT_GZ_INLINE : INPUT_GZ_THREAD, 1 + chunk % 61,
                          false, &out, &stats, NULL, 0, 0);
            CHECK_MSG(!strcmp(out.buf, ref.out.buf) && !strcmp(stats.buf, ref.stats.buf),
                      "chunk %zu (%s): got\n%s%s\nwant\n%s%s", chunk, k ? "gzip" : "plain", out.buf,
                      stats.buf, ref.out.buf, ref.stats.buf);
            sbuf_release(&out);
            sbuf_release(&stats);
        }
    }
    unlink(plain);
    unlink(gz);
    ref_release(&ref);
}

/* Follow mode: the last record's last line has not arrived: it waits (no event, the
 * checkpoint at its first line); once it arrives, the resumed run emits it, and the two
 * runs add up to one run over the whole file. Cut at every byte of the last records. */
static void test_ahead_follow(void)
{
    size_t len = sizeof(multi) - 1;
    const char *path = tmp_path("follow.csv");
    struct sbuf all = SBUF_INIT, all_stats = SBUF_INIT;
    struct ref ref;
    ref_run(&ref, multi, len);
    /* the whole file with the final newline: every record complete */
    char *full = malloc(len + 1);
    memcpy(full, multi, len);
    full[len] = '\n';
    write_file(path, full, len + 1);
    run_input(path, 7, INPUT_GZ_AUTO, 0, true, &all, &all_stats, NULL, 0, 0);
    CHECK_EQ_STR(all.buf, ref.out.buf);
    size_t from = len - 300;
    for (size_t cut = from; cut <= len + 1; cut++) {
        struct sbuf a = SBUF_INIT, b = SBUF_INIT, sa = SBUF_INIT, sb = SBUF_INIT;
        struct parse_checkpoint cp;
        write_file(path, full, cut);
        run_input(path, 5 + cut % 13, INPUT_GZ_AUTO, 0, true, &a, &sa, &cp, 0, 0);
        /* the checkpoint is a record start (or the end of the data read) */
        CHECK(cp.offset <= cut && (cp.offset == 0 || full[cp.offset - 1] == '\n'));
        write_file(path, full, len + 1);
        run_input(path, 3 + cut % 11, INPUT_GZ_AUTO, 0, true, &b, &sb, NULL, cp.offset, cp.line);
        CHECK(sbuf_addspan(&a, sbuf_span(&b)) == 0);
        CHECK_MSG(!strcmp(a.buf, ref.out.buf), "cut at %zu: got\n%s\nwant\n%s", cut, a.buf,
                  ref.out.buf);
        sbuf_release(&a);
        sbuf_release(&b);
        sbuf_release(&sa);
        sbuf_release(&sb);
    }
    unlink(path);
    free(full);
    sbuf_release(&all);
    sbuf_release(&all_stats);
    ref_release(&ref);
    CHECK(rmdir(tmpdir) == 0);
}

TEST_LIST = {
    { "observed", test_observed },
    { "unescape_random", test_unescape_random },
    { "ahead_windows", test_ahead_windows },
    { "ahead_close", test_ahead_close },
    { "ahead_input", test_ahead_input },
    { "ahead_follow", test_ahead_follow },
    { "record_in_text", test_record_in_text },
    { NULL, NULL },
};
