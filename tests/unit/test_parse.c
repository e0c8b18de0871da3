/* SPDX-License-Identifier: MIT */
/*
 * The parse framework: accounting, pending records (interleaving, limits, age),
 * detection, diagnosis and the exactly-once checkpoint. Most tests drive it with a
 * tiny test-only format ("pidlines", below) whose records interleave like syslog's; the
 * resume property is also checked with the real csvlog format.
 *
 * pidlines (hand-made, for the framework only): "<pid> <text>" starts a record of that
 * pid (finishing the pid's previous one), "<pid> +<text>" continues it, "<pid> !" ends
 * it, "<pid> BAD" is a rejected line, an empty line is blank, anything else foreign.
 */
#include <stdlib.h>

#include "check.h"
#include "core/xalloc.h"
#include "parse/parse_int.h"
#include "parsetest.h"

/* ---- the test format ------------------------------------------------------------------ */

static bool ignore_marker;

static bool split_pid(struct span t, uint64_t *pid, struct span *rest)
{
    long sp = span_find_char(t, 0, ' ');
    int64_t v;
    if (sp <= 0 || !span_to_i64(span_sub(t, 0, (size_t)sp), &v) || v < 0)
        return false;
    *pid = (uint64_t)v;
    *rest = span_sub(t, (size_t)sp + 1, t.len);
    return true;
}

static void pl_line(struct parser *p, void *state, const struct input_line *ln)
{
    uint64_t pid;
    struct span rest;
    (void)state;

    if (ln->text.len == 0) {
        parser_blank(p);
        return;
    }
    if (ignore_marker && span_find(ln->text, 0, SPAN_LIT("IGNORE")) >= 0)
        return; /* deliberately unaccounted */
    if (!split_pid(ln->text, &pid, &rest)) {
        parser_foreign(p);
        return;
    }
    struct pending *rec = pending_find(p, pid);
    if (span_eq_lit(rest, "BAD")) {
        parser_reject(p, "bad line", "pid %llu", (unsigned long long)pid);
        return;
    }
    if (span_eq_lit(rest, "!")) {
        if (!rec) {
            parser_reject(p, "orphan end", NULL);
            return;
        }
        pending_add(p, rec, SPAN_NULL);
        pending_finish(p, rec);
        return;
    }
    if (rest.len && rest.p[0] == '+') {
        if (!rec) {
            parser_reject(p, "orphan continuation", NULL);
            return;
        }
        pending_append(rec, SPAN_LIT("\n"));
        pending_add(p, rec, span_sub(rest, 1, rest.len));
        return;
    }
    pending_start(p, pid, rest);
}

static void pl_finish(struct parser *p, void *state, struct pending *rec)
{
    (void)state;
    struct event *ev = parser_event_begin_pending(p, rec);
    ev->pid = (int64_t)rec->key;
    ev->message = sbuf_span(&rec->text);
    parser_event_commit(p, ev);
}

static size_t pl_sniff(const struct sniff_input *in, struct sbuf *note)
{
    (void)note;
    (void)in;
    return 0;
}

static const struct log_format fmt_pidlines = {
    .name = "pidlines",
    .description = "test format",
    .sniff = pl_sniff,
    .line = pl_line,
    .finish = pl_finish,
};

/* ---- driving ------------------------------------------------------------------------- */

struct lines {
    const char *data;
    struct input_line *v;
    size_t n;
};

static void lines_split(struct lines *l, const char *data, size_t len)
{
    size_t at = 0, alloc = 0;
    l->data = data;
    l->v = NULL;
    l->n = 0;
    while (at < len) {
        const char *nl = memchr(data + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (data + at)) : len - at;
        XGROW(l->v, l->n + 1, alloc);
        struct input_line *ln = &l->v[l->n];
        memset(ln, 0, sizeof(*ln));
        ln->offset = at;
        ln->end = at + n + (nl ? 1 : 0);
        ln->text = span_make(data + at, n);
        ln->line = l->n + 1;
        ln->partial = !nl;
        ln->source = SPAN_LIT("t");
        l->n++;
        at = ln->end;
    }
}

static void drain_into(struct parser *p, struct sbuf *out)
{
    struct event *ev;
    while (parser_next(p, &ev) == PARSE_EVENT) {
        pt_render(ev, out);
        CHECK(sbuf_addch(out, '\n') == 0);
    }
}

/* Feed lines [from, to) (with @end: then parser_end). */
static void feed_range(struct parser *p, const struct lines *l, size_t from, size_t to, bool end,
                       struct sbuf *out)
{
    for (size_t i = from; i < to; i++) {
        parser_feed(p, &l->v[i]);
        drain_into(p, out);
    }
    if (end) {
        parser_end(p);
        drain_into(p, out);
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort the rendered events (one per line) so multisets compare as text. */
static void sort_lines(struct sbuf *sb)
{
    char **v = NULL;
    size_t n = 0, alloc = 0;
    for (char *s = sb->buf; *s;) {
        char *nl = strchr(s, '\n');
        XGROW(v, n + 1, alloc);
        v[n++] = xmemdupz(s, (size_t)(nl - s));
        s = nl + 1;
    }
    if (n)
        qsort(v, n, sizeof(*v), cmp_str);
    sbuf_reset(sb);
    for (size_t i = 0; i < n; i++) {
        CHECK(sbuf_addstr(sb, v[i]) == 0 && sbuf_addch(sb, '\n') == 0);
        free(v[i]);
    }
    free(v);
}

static struct parser *new_parser(const struct log_format *fmt, const struct parser_opts *o)
{
    struct diag d = DIAG_INIT;
    struct parser *p = parser_new_format(fmt, o, &d);
    CHECK_MSG(p != NULL, "%s", d.msg);
    return p;
}

/*
 * The exactly-once property: for every prefix of k lines, a first run that stops after
 * line k (as a crash would: no parser_end) plus a second run restarted at its
 * checkpoint give the same events (with their src lines) and the same reject and
 * foreign counts as one uninterrupted run.
 */
static void check_resume_everywhere(const struct log_format *fmt, const char *format_name,
                                    const char *data, size_t len)
{
    struct lines l;
    lines_split(&l, data, len);
    struct parser_opts base = { .format = format_name };

    struct sbuf whole = SBUF_INIT;
    struct parser *p = new_parser(fmt, &base);
    if (!p)
        return;
    feed_range(p, &l, 0, l.n, true, &whole);
    struct parse_stats total = *parser_stats(p);
    CHECK(pt_balanced(&total));
    uint64_t want_rejects = total.rejects, want_foreign = total.foreign_lines;
    uint64_t want_events = total.events;
    parser_free(p);
    sort_lines(&whole);

    for (size_t k = 0; k <= l.n; k++) {
        struct sbuf got = SBUF_INIT;
        p = new_parser(fmt, &base);
        feed_range(p, &l, 0, k, false, &got);
        struct parse_checkpoint cp;
        parser_checkpoint(p, &cp);
        struct parse_skip *skip = NULL;
        if (cp.nskip) {
            skip = xmalloc(cp.nskip * sizeof(*skip));
            memcpy(skip, cp.skip, cp.nskip * sizeof(*skip));
        }
        size_t nskip = cp.nskip;
        struct sbuf state = SBUF_INIT; /* (the parser's copy dies with it) */
        CHECK(sbuf_addspan(&state, cp.state) == 0);
        uint64_t rejects1 = parser_stats(p)->rejects;
        uint64_t foreign1 = parser_stats(p)->foreign_lines;
        parser_free(p);

        /* Where to restart: the line at cp.offset (line 0: nothing was fed). */
        size_t from = 0;
        if (cp.line != 0) {
            while (from < l.n && l.v[from].offset < cp.offset)
                from++;
            CHECK_MSG(from == l.n || (l.v[from].offset == cp.offset && l.v[from].line == cp.line),
                      "k=%zu: checkpoint %llu/%llu is not a line start", k,
                      (unsigned long long)cp.offset, (unsigned long long)cp.line);
        }
        struct parser_opts o2 = base;
        o2.skip = skip;
        o2.nskip = nskip;
        o2.resume_state = sbuf_span(&state);
        p = new_parser(fmt, &o2);
        feed_range(p, &l, from, l.n, true, &got);
        const struct parse_stats *st2 = parser_stats(p);
        CHECK(pt_balanced(st2));
        CHECK_MSG(rejects1 + st2->rejects == want_rejects, "k=%zu rejects %llu+%llu != %llu", k,
                  (unsigned long long)rejects1, (unsigned long long)st2->rejects,
                  (unsigned long long)want_rejects);
        CHECK_MSG(foreign1 + st2->foreign_lines == want_foreign, "k=%zu foreign", k);
        parser_free(p);
        free(skip);
        sbuf_release(&state);
        sort_lines(&got);
        CHECK_MSG(!strcmp(got.buf, whole.buf),
                  "k=%zu (of %zu lines): resumed events differ\n%s---\n%s", k, l.n, got.buf,
                  whole.buf);
        sbuf_release(&got);
    }
    CHECK(want_events > 0);
    sbuf_release(&whole);
    free(l.v);
}

/* ---- tests ----------------------------------------------------------------------------- */

static void test_interleaved_records(void)
{
    static const char data[] = "1 a\n2 b\n1 +a2\n2 +b2\n1 c\nnoise\n\n2 BAD\n";
    struct sbuf out = SBUF_INIT;
    struct lines l;
    lines_split(&l, data, sizeof(data) - 1);
    struct parser *p = new_parser(&fmt_pidlines, &(struct parser_opts){ 0 });
    feed_range(p, &l, 0, l.n, true, &out);
    const struct parse_stats *st = parser_stats(p);
    CHECK_EQ_U64(st->lines, 8);
    CHECK_EQ_U64(st->events, 3);
    CHECK_EQ_U64(st->event_lines, 5);
    CHECK_EQ_U64(st->rejects, 1);
    CHECK_EQ_U64(st->foreign_lines, 1);
    CHECK_EQ_U64(st->blank_lines, 1);
    CHECK(pt_balanced(st));
    /* In completion order: pid 1's first record when its next one starts, then at the
     * end the rest, oldest first. */
    CHECK_EQ_STR(out.buf, "line=1 offset=0 pid=1 message=\"a\\na2\"\n"
                          "line=2 offset=4 pid=2 message=\"b\\nb2\"\n"
                          "line=5 offset=20 pid=1 message=\"c\"\n");
    CHECK_EQ_INT(st->nreasons, 1);
    CHECK_EQ_STR(st->reasons[0].reason, "bad line");
    CHECK_EQ_INT(st->reasons[0].nsamples, 1);
    CHECK_EQ_U64(st->reasons[0].samples[0].line, 8);
    CHECK_EQ_STR(st->reasons[0].samples[0].detail, "pid 2");
    CHECK_EQ_STR(st->reasons[0].samples[0].text, "2 BAD");
    CHECK_EQ_STR(st->foreign.samples[0].text, "noise");
    parser_free(p);
    sbuf_release(&out);
    free(l.v);
}

static void test_checkpoint_skip_runs(void)
{
    /* After line 5: pid 1's first record was emitted at line 5 (lines 1, 3), pid 2's is
     * pending since line 2, pid 1's second record pending since line 5. The checkpoint
     * is line 2; line 3 (emitted record) must be skipped on resume, line 4 and 5 not. */
    static const char data[] = "1 a\n2 b\n1 +a2\n2 +b2\n1 c\n";
    struct sbuf out = SBUF_INIT;
    struct lines l;
    lines_split(&l, data, sizeof(data) - 1);
    struct parser *p = new_parser(&fmt_pidlines, &(struct parser_opts){ 0 });
    struct parse_checkpoint cp;
    parser_checkpoint(p, &cp);
    CHECK_EQ_U64(cp.line, 0); /* nothing fed yet */
    feed_range(p, &l, 0, 1, false, &out);
    parser_checkpoint(p, &cp);
    CHECK_EQ_U64(cp.offset, 0);
    CHECK_EQ_U64(cp.line, 1);
    CHECK_EQ_INT(cp.nskip, 0);
    feed_range(p, &l, 1, 5, false, &out);
    parser_checkpoint(p, &cp);
    CHECK_EQ_U64(cp.offset, 4);
    CHECK_EQ_U64(cp.line, 2);
    CHECK_EQ_INT(cp.nskip, 1);
    if (cp.nskip == 1) {
        CHECK_EQ_U64(cp.skip[0].offset, 8);
        CHECK_EQ_U64(cp.skip[0].lines, 1);
    }
    parser_end(p);
    drain_into(p, &out);
    parser_checkpoint(p, &cp);
    CHECK_EQ_U64(cp.offset, sizeof(data) - 1);
    CHECK_EQ_U64(cp.line, 6);
    CHECK_EQ_INT(cp.nskip, 0);
    parser_free(p);
    sbuf_release(&out);
    free(l.v);
}

static void test_resume_interleaved(void)
{
    /* A pseudo-random interleaving of 6 processes with continuations, explicit ends,
     * rejects, foreign and blank lines. */
    struct sbuf data = SBUF_INIT;
    uint32_t x = 12345;
    for (int i = 0; i < 160; i++) {
        x = x * 1103515245u + 12345u;
        unsigned pid = (x >> 16) % 6, what = (x >> 8) % 10;
        int r;
        if (what < 4)
            r = sbuf_addf(&data, "%u m%d\n", pid, i);
        else if (what < 7)
            r = sbuf_addf(&data, "%u +c%d\n", pid, i);
        else if (what == 7)
            r = sbuf_addf(&data, "%u !\n", pid);
        else if (what == 8)
            r = sbuf_addf(&data, "%s\n", i % 2 ? "foreign text" : "");
        else
            r = sbuf_addf(&data, "%u BAD\n", pid);
        CHECK(r == 0);
    }
    check_resume_everywhere(&fmt_pidlines, NULL, data.buf, data.len);
    sbuf_release(&data);
}

/* Supabase exports resumed at every line (hand-made from the documented shapes, as in
 * test_supabase): the CSV rows need the header read before the checkpoint, and the JSON
 * lines the scanner's place (inside the array, the API wrapper's result, a record). */
static void test_resume_supabase(void)
{
#define SB_META(sev, pid) \
    "[{\"\"parsed\"\":[{\"\"error_severity\"\":\"\"" sev "\"\",\"\"process_id\"\":" pid "}]}]"
    static const char csv[] =
        "\xEF\xBB\xBF\"timestamp\",\"id\",\"event_message\",\"metadata\"\n"
        "\"1795541101817000\",\"a\",\"duration: 0.631 ms  statement: select id,\n"
        "  v from t\",\"" SB_META(
            "LOG", "3696") "\"\n"
                           "1795541104532000,b,deadlock detected,\"" SB_META(
                               "ERROR", "3749") "\"\n"
                                                "1795541104533000,c,hand-made: too few columns\n"
                                                "1795541104534000,d,\"{\"\"a json\"\": "
                                                "\"\"message\"\"}\",\"" SB_META("LOG",
                                                                                "3750") "\"\n";
#undef SB_META
    check_resume_everywhere(&fmt_supabase, "supabase", csv, sizeof(csv) - 1);

#define SB_ROW(id, msg)                                                                        \
    "\"id\": \"" id "\",\n\"timestamp\": 1795541104532000,\n\"event_message\": \"" msg "\",\n" \
    "\"metadata\": [{\"parsed\": [{\"error_severity\": \"LOG\"}]}]\n"
    static const char wrapper[] =
        "{\n\"result\": [\n{\n" SB_ROW("a", "checkpoint starting: time") "}, {\n" SB_ROW(
            "b", "checkpoint starting: wal") "}\n],\n\"error\": null\n}\n";
    check_resume_everywhere(&fmt_supabase, "supabase", wrapper, sizeof(wrapper) - 1);

    static const char array[] = "[\n  {\n" SB_ROW("a", "x") "  },\n  {\n" SB_ROW(
        "b", "y") "  }\n]\n[\n{\n" SB_ROW("c", "z") "}\n]\n";
    check_resume_everywhere(&fmt_supabase, "supabase", array, sizeof(array) - 1);
#undef SB_ROW

    /* NDJSON with two cut lines (hand-made: a line cut inside a string, one inside an
     * object): each is a reject of its own, the lines after them records again. */
#define SB_ND(id)                                                                       \
    "{\"id\":\"" id "\",\"timestamp\":1795541104532000,\"event_message\":\"m " id "\"," \
    "\"metadata\":{\"parsed\":{\"error_severity\":\"LOG\"}}}\n"
    static const char nd[] = SB_ND("a") "{\"id\":\"cut\",\"event_message\":\"dura\n" SB_ND(
        "b") "{\"id\":\"cut2\",\"metadata\":{\n" SB_ND("c") SB_ND("d");
#undef SB_ND
    check_resume_everywhere(&fmt_supabase, "supabase", nd, sizeof(nd) - 1);
}

static void test_resume_csvlog(void)
{
    /* Real records (formats.md §2.4, Observed), multi-line ones included, plus a bad
     * record and a blank line (hand-made, marked). */
    static const char data[] =
        "2026-11-24 17:25:01.470 UTC,,,3692,\"[local]\",6b05c86d.e6c,1,\"\",2026-11-24 "
        "17:25:01 UTC,,0,LOG,00000,\"connection received: host=[local]\",,,,,,,,,\"\",\"not "
        "initialized\",,0\n"
        "2026-11-24 17:25:01.817 UTC,\"postgres\",\"app\",3696,\"[local]\",6b05c86d.e70,3,"
        "\"SELECT\",2026-11-24 17:25:01 UTC,3/0,0,LOG,00000,\"duration: 0.631 ms  "
        "statement: select id,\n"
        "       v -- comment\n"
        "  from t\n"
        "   and id < 10;\",,,,,,,,,\"psql\",\"client backend\",,-759572055643369389\n"
        "hand-made: not a record\n"
        "\n"
        "2026-11-24 17:25:04.532 UTC,\"postgres\",\"app\",3749,\"[local]\",6b05c86e.ea5,7,"
        "\"UPDATE\",2026-11-24 17:25:02 UTC,3/263,803,ERROR,40P01,\"deadlock "
        "detected\",\"Process 3749 waits for ShareLock on transaction 804; blocked by "
        "process 3751.\n"
        "Process 3751: update acct set bal=bal+1 where id=1\",\"See server log for query "
        "details.\",,,\"while updating tuple (0,2) in relation \"\"acct\"\"\",\"update acct "
        "set bal=bal+1 where id=2\",,,\"psql\",\"client backend\",,-1501324149581294150\n";
    check_resume_everywhere(&fmt_csvlog, "csvlog", data, sizeof(data) - 1);
}

static void test_pending_limit(void)
{
    struct sbuf data = SBUF_INIT;
    for (unsigned i = 0; i <= SIFT_MAX_PENDING_RECORDS; i++)
        CHECK(sbuf_addf(&data, "%u x\n", i + 1) == 0);
    CHECK(sbuf_addstr(&data, "1 +late\n") == 0); /* pid 1 was evicted: orphan */
    struct sbuf out = SBUF_INIT;
    struct lines l;
    lines_split(&l, data.buf, data.len);
    struct parser *p = new_parser(&fmt_pidlines, &(struct parser_opts){ 0 });
    for (size_t i = 0; i < l.n; i++) {
        parser_feed(p, &l.v[i]);
        drain_into(p, &out);
        CHECK(pending_count(p) <= SIFT_MAX_PENDING_RECORDS);
        if (i + 1 == SIFT_MAX_PENDING_RECORDS) /* at the limit: nothing forced yet */
            CHECK_EQ_U64(parser_stats(p)->forced, 0);
    }
    parser_end(p);
    drain_into(p, &out);
    const struct parse_stats *st = parser_stats(p);
    CHECK_EQ_U64(st->forced, 1);
    CHECK_EQ_U64(st->events, SIFT_MAX_PENDING_RECORDS + 1);
    CHECK_EQ_U64(st->rejects, 1);
    CHECK_EQ_STR(st->reasons[0].reason, "orphan continuation");
    CHECK(pt_balanced(st));
    parser_free(p);
    sbuf_release(&out);
    sbuf_release(&data);
    free(l.v);
}

static void test_pending_age(void)
{
    struct sbuf data = SBUF_INIT;
    CHECK(sbuf_addstr(&data, "1 old\n") == 0);
    for (unsigned i = 0; i < SIFT_MAX_PENDING_AGE_LINES; i++)
        CHECK(sbuf_addf(&data, "2 n%u\n2 !\n", i) == 0);
    struct lines l;
    lines_split(&l, data.buf, data.len);
    struct sbuf out = SBUF_INIT;
    struct parser *p = new_parser(&fmt_pidlines, &(struct parser_opts){ 0 });
    size_t i = 0;
    /* Exactly at the age bound the record is still pending; one line later it is not. */
    for (; i < l.n && l.v[i].line <= 1 + SIFT_MAX_PENDING_AGE_LINES; i++) {
        parser_feed(p, &l.v[i]);
        drain_into(p, &out);
    }
    CHECK(pending_find(p, 1) != NULL);
    parser_feed(p, &l.v[i++]);
    drain_into(p, &out);
    CHECK(pending_find(p, 1) == NULL);
    CHECK_EQ_U64(parser_stats(p)->forced, 1);
    feed_range(p, &l, i, l.n, true, &out);
    CHECK(pt_balanced(parser_stats(p)));
    parser_free(p);
    sbuf_release(&out);
    sbuf_release(&data);
    free(l.v);
}

/* A record that stays open while other records come and go leaves runs of emitted
 * lines behind the checkpoint; past SIFT_MAX_RESUME_RUNS it is completed early. */
static void test_resume_runs_limit(void)
{
    struct sbuf data = SBUF_INIT;
    unsigned iters = SIFT_MAX_RESUME_RUNS / 2 + 10;
    CHECK(sbuf_addstr(&data, "1 start\n") == 0);
    for (unsigned i = 0; i < iters; i++)
        CHECK(sbuf_addstr(&data, "1 +c\n2 x\n") == 0);
    struct lines l;
    lines_split(&l, data.buf, data.len);
    struct sbuf out = SBUF_INIT;
    struct parser *p = new_parser(&fmt_pidlines, &(struct parser_opts){ 0 });
    size_t i = 0;
    for (; i < l.n && parser_stats(p)->forced == 0; i++) {
        parser_feed(p, &l.v[i]);
        drain_into(p, &out);
        sbuf_reset(&out);
    }
    /* Forced exactly when the runs behind pid 1's record passed the limit. */
    CHECK_EQ_U64(parser_stats(p)->forced, 1);
    CHECK(i > SIFT_MAX_RESUME_RUNS && i < SIFT_MAX_RESUME_RUNS + 4);
    CHECK(pending_find(p, 1) == NULL);
    struct parse_checkpoint cp;
    parser_checkpoint(p, &cp);
    CHECK(cp.nskip <= 1);
    feed_range(p, &l, i, l.n, true, &out);
    const struct parse_stats *st = parser_stats(p);
    CHECK(pt_balanced(st));
    CHECK_EQ_U64(st->forced, 1);
    CHECK_EQ_STR(st->reasons[0].reason, "orphan continuation");
    parser_free(p);
    sbuf_release(&out);
    sbuf_release(&data);
    free(l.v);
}

static void test_record_too_long(void)
{
    /* One record of 11 continuation lines of 1 MiB: over SIFT_MAX_RECORD_BYTES. */
    size_t piece = 1u << 20;
    struct sbuf data;
    sbuf_init(&data, 0);
    CHECK(sbuf_addstr(&data, "7 start\n") == 0);
    for (int i = 0; i < 11; i++) {
        CHECK(sbuf_addstr(&data, "7 +") == 0);
        CHECK(sbuf_grow(&data, piece) == 0);
        memset(data.buf + data.len, 'x', piece);
        sbuf_setlen(&data, data.len + piece);
        CHECK(sbuf_addch(&data, '\n') == 0);
    }
    CHECK(sbuf_addstr(&data, "8 next\n") == 0);
    struct lines l;
    lines_split(&l, data.buf, data.len);
    struct sbuf out = SBUF_INIT;
    struct parser *p = new_parser(&fmt_pidlines, &(struct parser_opts){ 0 });
    feed_range(p, &l, 0, l.n, true, &out);
    const struct parse_stats *st = parser_stats(p);
    CHECK_EQ_U64(st->rejects, 1);
    CHECK_EQ_U64(st->reject_lines, 12);
    CHECK_EQ_U64(st->events, 1);
    CHECK_EQ_STR(st->reasons[0].reason, "record too long");
    CHECK_EQ_INT(st->reasons[0].samples[0].text_len, SIFT_MAX_SAMPLE_BYTES);
    CHECK(pt_balanced(st));
    parser_free(p);
    sbuf_release(&out);
    sbuf_release(&data);
    free(l.v);
}

/* A record of exactly SIFT_MAX_RECORD_BYTES is an event; one byte more is a reject. */
static void test_record_limit_boundary(void)
{
    for (int delta = 0; delta <= 1; delta++) {
        /* text = "s" + ("\n" + piece) * 9 + "\n" + tail */
        size_t piece = 1u << 20;
        size_t tail = SIFT_MAX_RECORD_BYTES + (size_t)delta - 1 - 10 - 9 * piece;
        struct sbuf data;
        sbuf_init(&data, 0);
        CHECK(sbuf_addstr(&data, "7 s\n") == 0);
        for (int i = 0; i < 10; i++) {
            size_t n = i < 9 ? piece : tail;
            CHECK(sbuf_addstr(&data, "7 +") == 0);
            CHECK(sbuf_grow(&data, n) == 0);
            memset(data.buf + data.len, 'x', n);
            sbuf_setlen(&data, data.len + n);
            CHECK(sbuf_addch(&data, '\n') == 0);
        }
        struct lines l;
        lines_split(&l, data.buf, data.len);
        struct sbuf out = SBUF_INIT;
        struct parser *p = new_parser(&fmt_pidlines, &(struct parser_opts){ 0 });
        feed_range(p, &l, 0, l.n, true, &out);
        const struct parse_stats *st = parser_stats(p);
        CHECK_EQ_U64(st->events, delta == 0);
        CHECK_EQ_U64(st->rejects, delta == 1);
        CHECK(pt_balanced(st));
        parser_free(p);
        sbuf_release(&out);
        sbuf_release(&data);
        free(l.v);
    }
}

static void test_unhandled_line_is_counted(void)
{
    static const char data[] = "1 a\nIGNORE me\n1 +b\n";
    struct lines l;
    lines_split(&l, data, sizeof(data) - 1);
    struct sbuf out = SBUF_INIT;
    ignore_marker = true;
    struct parser *p = new_parser(&fmt_pidlines, &(struct parser_opts){ 0 });
    feed_range(p, &l, 0, l.n, true, &out);
    ignore_marker = false;
    const struct parse_stats *st = parser_stats(p);
    CHECK_EQ_U64(st->rejects, 1);
    CHECK_EQ_STR(st->reasons[0].reason, "line not handled (parser bug)");
    CHECK(pt_balanced(st));
    parser_free(p);
    sbuf_release(&out);
    free(l.v);
}

static void test_detection(void)
{
    static const char json[] =
        "{\"timestamp\":\"2026-11-24 17:25:01.470 UTC\",\"pid\":3692,\"session_id\":"
        "\"6b05c86d.e6c\",\"line_num\":1,\"session_start\":\"2026-11-24 17:25:01 UTC\","
        "\"txid\":0,\"error_severity\":\"LOG\",\"message\":\"connection received: "
        "host=[local]\",\"backend_type\":\"not initialized\",\"query_id\":0}\n";
    static const char csv[] = "2026-11-24 17:25:01.470 UTC,,,3692,\"[local]\",6b05c86d.e6c,1,"
                              "\"\",2026-11-24 17:25:01 UTC,,0,LOG,00000,\"connection "
                              "received: host=[local]\",,,,,,,,,\"\",\"not initialized\",,0\n";
    struct sbuf out = SBUF_INIT;
    struct parser *p = pt_run(json, sizeof(json) - 1, &(struct parser_opts){ 0 }, &out);
    CHECK_EQ_STR(parser_format(p), "jsonlog");
    CHECK_EQ_U64(parser_stats(p)->events, 1);
    parser_free(p);
    sbuf_reset(&out);
    p = pt_run(csv, sizeof(csv) - 1, &(struct parser_opts){ .format = "auto" }, &out);
    CHECK_EQ_STR(parser_format(p), "csvlog");
    CHECK_EQ_U64(parser_stats(p)->events, 1);
    parser_free(p);
    sbuf_reset(&out);

    /* Garbage: nothing matches, every line is a counted reject and the diagnosis names
     * the formats tried and the first failing lines. A blank line is a blank line, not
     * an unrecognised one (rev11: it was counted as a reject). */
    static const char junk[] = "hello\n\nworld\n";
    p = pt_run(junk, sizeof(junk) - 1, &(struct parser_opts){ 0 }, &out);
    CHECK(parser_format(p) == NULL);
    CHECK_EQ_U64(parser_stats(p)->rejects, 2);
    CHECK_EQ_U64(parser_stats(p)->blank_lines, 1);
    CHECK(pt_balanced(parser_stats(p)));
    struct sbuf diag = SBUF_INIT;
    parser_diagnose(p, NULL, &diag);
    CHECK_MSG(strstr(diag.buf, "formats tried") && strstr(diag.buf, "csvlog 0") &&
                  strstr(diag.buf, "test:1: unrecognised log format: hello") &&
                  strstr(diag.buf, "hint: pass --format"),
              "%s", diag.buf);
    sbuf_release(&diag);
    parser_free(p);

    /* Hand-made: lines that jsonlog's sniff takes, every one, but that are no JSON.
     * jsonlog, first in the table, has every line: no later format can win, so none is
     * sniffed (stderr's prefix search is the costly one), and the diagnosis says so. */
    static const char half_json[] = "{\"timestamp\":\"2026-11-25 17:44:49.791 UTC\", x\n"
                                    "{\"timestamp\":\"2026-11-25 17:44:50.002 UTC\", y\n";
    sbuf_reset(&out);
    p = pt_run(half_json, sizeof(half_json) - 1, &(struct parser_opts){ 0 }, &out);
    CHECK_EQ_STR(parser_format(p), "jsonlog");
    CHECK_EQ_U64(parser_stats(p)->events, 0);
    diag = (struct sbuf)SBUF_INIT;
    parser_diagnose(p, NULL, &diag);
    CHECK_MSG(strstr(diag.buf, "formats tried (lines recognised of the first lines): jsonlog 2, "
                               "csvlog -,") &&
                  strstr(diag.buf, "stderr -,") && strstr(diag.buf, "detected: jsonlog"),
              "%s", diag.buf);
    sbuf_release(&diag);
    parser_free(p);

    /* While detection holds lines back, the checkpoint stays at the first one. */
    struct diag d = DIAG_INIT;
    p = parser_new(&(struct parser_opts){ 0 }, &d);
    struct lines l;
    lines_split(&l, csv, sizeof(csv) - 1);
    l.v[0].offset = 100;
    l.v[0].line = 7;
    parser_feed(p, &l.v[0]);
    struct event *ev;
    CHECK(parser_next(p, &ev) == PARSE_NEED_MORE);
    struct parse_checkpoint cp;
    parser_checkpoint(p, &cp);
    CHECK_EQ_U64(cp.offset, 100);
    CHECK_EQ_U64(cp.line, 7);
    parser_end(p);
    CHECK(parser_next(p, &ev) == PARSE_EVENT);
    CHECK(parser_next(p, &ev) == PARSE_END);
    parser_free(p);
    free(l.v);
    sbuf_release(&out);
}

static void test_bad_options(void)
{
    struct diag d = DIAG_INIT;
    CHECK(parser_new(&(struct parser_opts){ .format = "nope" }, &d) == NULL);
    CHECK_EQ_INT(d.kind, DIAG_USAGE);
    CHECK_MSG(strstr(d.msg, "expected one of: auto, ") && strstr(d.msg, "csvlog"), "%s", d.msg);
    diag_clear(&d);
    CHECK(parser_new(&(struct parser_opts){ .tz = "Mars/Olympus" }, &d) == NULL);
    CHECK_EQ_INT(d.kind, DIAG_USAGE);
    diag_clear(&d);
    CHECK(parser_new(&(struct parser_opts){ .tz = "CST" }, &d) == NULL);
    CHECK_MSG(strstr(d.msg, "ambiguous") != NULL, "%s", d.msg);
    /* The format table is what --format validates against. */
    bool has_csv = false, has_json = false;
    for (size_t i = 0; i < parse_format_count(); i++) {
        has_csv |= !strcmp(parse_format_name(i), "csvlog");
        has_json |= !strcmp(parse_format_name(i), "jsonlog");
        CHECK(parse_format_description(i) != NULL);
    }
    CHECK(has_csv && has_json);
    CHECK(parse_format_name(parse_format_count()) == NULL);
}

static void test_stats_merge(void)
{
    static const char data[] = "1 a\n2 BAD\n3 BAD\nzz\n";
    struct lines l;
    lines_split(&l, data, sizeof(data) - 1);
    struct sbuf out = SBUF_INIT;
    struct parse_stats total = { 0 };
    for (int round = 0; round < 2; round++) {
        struct parser *p = new_parser(&fmt_pidlines, &(struct parser_opts){ 0 });
        feed_range(p, &l, 0, l.n, true, &out);
        parse_stats_merge(&total, parser_stats(p));
        parser_free(p);
    }
    CHECK_EQ_U64(total.lines, 8);
    CHECK_EQ_U64(total.events, 2);
    CHECK_EQ_U64(total.rejects, 4);
    CHECK_EQ_U64(total.foreign_lines, 2);
    CHECK_EQ_INT(total.nreasons, 1);
    CHECK_EQ_INT(total.reasons[0].nsamples, 4);
    CHECK_EQ_INT(total.foreign.nsamples, 2);
    CHECK(pt_balanced(&total));
    parse_stats_release(&total);
    sbuf_release(&out);
    free(l.v);
}

/* parser_end_hold(): at the end of a file that may still grow, a csvlog record cut inside a
 * quoted field stays pending (not finished, not rejected) with the checkpoint at its start;
 * parser_end() later rejects it. A record whose quote closed, and the pending records of a
 * format without the hook, are finished as by parser_end(). */
static void test_end_hold(void)
{
#define CSV_HEAD                                                                              \
    "2026-11-24 17:25:01.470 UTC,,,3692,\"[local]\",6b05c86d.e6c,1,\"\",2026-11-24 17:25:01 " \
    "UTC,,0,LOG,00000,"
#define CSV_TAIL ",,,,,,,,,\"\",\"client backend\",,0\n"
    static const char cut[] = CSV_HEAD "\"one\"" CSV_TAIL CSV_HEAD "\"plan:\n  Seq Scan\n";
    static const char whole[] =
        CSV_HEAD "\"one\"" CSV_TAIL CSV_HEAD "\"plan:\n  Seq Scan\"" CSV_TAIL;
    static const char *const formats[] = { "csvlog", "auto" };
    struct lines l;
    struct sbuf out = SBUF_INIT;
    struct diag d = DIAG_INIT;

    for (size_t f = 0; f < ARRAY_SIZE(formats); f++) {
        /* cut in the quoted field: held (auto: detection ends there) */
        lines_split(&l, cut, sizeof(cut) - 1);
        struct parser *p = parser_new(&(struct parser_opts){ .format = formats[f] }, &d);
        CHECK_MSG(p != NULL, "%s", d.msg);
        feed_range(p, &l, 0, l.n, false, &out);
        /* (auto: detection still holds the lines, nothing is known yet) */
        CHECK_EQ_INT(parser_unterminated(p), !strcmp(formats[f], "csvlog"));
        CHECK(parser_end_hold(p));
        CHECK(parser_unterminated(p));
        sbuf_reset(&out);
        drain_into(p, &out);
        CHECK_EQ_U64(parser_stats(p)->events, 1);
        CHECK_EQ_U64(parser_stats(p)->rejects, 0);
        struct parse_checkpoint cp;
        parser_checkpoint(p, &cp);
        CHECK_EQ_U64(cp.offset, l.v[1].offset);
        CHECK_EQ_U64(cp.line, 2);
        CHECK_EQ_INT(cp.nskip, 0);
        /* the file turned out complete: the same record is rejected */
        parser_end(p);
        drain_into(p, &out);
        CHECK(!parser_unterminated(p));
        CHECK_EQ_U64(parser_stats(p)->events, 1);
        CHECK_EQ_U64(parser_stats(p)->rejects, 1);
        CHECK_EQ_STR(parser_stats(p)->reasons[0].reason, "unterminated quoted field");
        CHECK(pt_balanced(parser_stats(p)));
        parser_free(p);
        free(l.v);

        /* its quote closed: nothing held */
        lines_split(&l, whole, sizeof(whole) - 1);
        p = parser_new(&(struct parser_opts){ .format = formats[f] }, &d);
        CHECK_MSG(p != NULL, "%s", d.msg);
        feed_range(p, &l, 0, l.n, false, &out);
        CHECK(!parser_end_hold(p));
        drain_into(p, &out);
        struct event *ev;
        CHECK(parser_next(p, &ev) == PARSE_END);
        CHECK_EQ_U64(parser_stats(p)->events, 2);
        CHECK(pt_balanced(parser_stats(p)));
        parser_free(p);
        free(l.v);
    }

    /* A format without the hook: its pending record is complete as it is. */
    static const char data[] = "1 a\n1 +b\n";
    lines_split(&l, data, sizeof(data) - 1);
    struct parser *p = new_parser(&fmt_pidlines, &(struct parser_opts){ 0 });
    feed_range(p, &l, 0, l.n, false, &out);
    CHECK(!parser_unterminated(p));
    CHECK(!parser_end_hold(p));
    drain_into(p, &out);
    CHECK_EQ_U64(parser_stats(p)->events, 1);
    CHECK(pt_balanced(parser_stats(p)));
    parser_free(p);
    free(l.v);
    sbuf_release(&out);
#undef CSV_HEAD
#undef CSV_TAIL
}

TEST_LIST = {
    { "interleaved_records", test_interleaved_records },
    { "checkpoint_skip_runs", test_checkpoint_skip_runs },
    { "resume_interleaved", test_resume_interleaved },
    { "resume_csvlog", test_resume_csvlog },
    { "resume_supabase", test_resume_supabase },
    { "pending_limit", test_pending_limit },
    { "pending_age", test_pending_age },
    { "resume_runs_limit", test_resume_runs_limit },
    { "record_too_long", test_record_too_long },
    { "record_limit_boundary", test_record_limit_boundary },
    { "unhandled_line_is_counted", test_unhandled_line_is_counted },
    { "detection", test_detection },
    { "bad_options", test_bad_options },
    { "stats_merge", test_stats_merge },
    { "end_hold", test_end_hold },
    { NULL, NULL },
};
