/* SPDX-License-Identifier: MIT */
/*
 * fuzz_supabase - arbitrary bytes as a Supabase export/drain file through the parser
 * (--format supabase) and classify_event(): no crash, no leak, and the accounting
 * invariant of parse.h holds (every line is in exactly one of event / reject / foreign /
 * blank, records == events + rejects); the same bytes parsed twice give the same events.
 * Resume: a parser restarted at a checkpoint half way, with the state saved there, is
 * made (the state restores), saves that same state again, and keeps the invariant; and
 * arbitrary bytes as a saved state are refused or restored, never a crash. The JSON
 * scanner is checked against jansson as its oracle: the bytes parsed with every row
 * read by jansson (supabase_jansson_only) give the same events, rejects and counts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/parsetest.h"
#include "classify/classify.h"
#include "core/arena.h"
#include "core/diag.h"
#include "parse/parse.h"
#include "parse/parse_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void drain(struct parser *p, struct arena *a)
{
    struct event *ev;

    while (parser_next(p, &ev) == PARSE_EVENT) {
        classify_event(ev, a);
        if ((unsigned)ev->kind >= EV_KIND_COUNT)
            abort();
    }
    arena_reset(a);
}

/* Feed @p the lines of buf[from, size), at most @stop_after of them, numbered from
 * @lineno; returns the offset after the last line fed. */
static size_t feed_lines(struct parser *p, const char *buf, size_t from, size_t size,
                         uint64_t lineno, size_t stop_after, struct arena *a)
{
    size_t at = from, fed = 0;
    while (at < size && fed < stop_after) {
        const char *nl = memchr(buf + at, '\n', size - at);
        size_t n = nl ? (size_t)(nl - (buf + at)) : size - at;
        struct input_line ln = { 0 };
        ln.offset = at;
        ln.end = at + n + (nl ? 1 : 0);
        ln.text = span_make(buf + at, n && buf[at + n - 1] == '\r' ? n - 1 : n);
        ln.line = lineno++;
        ln.partial = !nl;
        ln.source = SPAN_LIT("fuzz");
        parser_feed(p, &ln);
        drain(p, a);
        at += n + (nl ? 1 : 0);
        fed++;
    }
    return at;
}

static void check_resume(const char *buf, size_t size, struct arena *a)
{
    struct diag d = DIAG_INIT;
    struct parser_opts o = { .format = "supabase" };
    struct parser *p = parser_new(&o, &d);
    if (!p)
        abort();
    size_t lines = 0;
    for (size_t i = 0; i < size; i++)
        lines += buf[i] == '\n';
    feed_lines(p, buf, 0, size, 1, lines / 2 + 1, a);
    struct parse_checkpoint cp;
    parser_checkpoint(p, &cp);
    struct sbuf state = SBUF_INIT;
    if (sbuf_addspan(&state, cp.state) < 0)
        abort();
    uint64_t offset = cp.line ? cp.offset : 0, line = cp.line ? cp.line : 1;
    parser_free(p);

    o.resume_state = sbuf_span(&state);
    p = parser_new(&o, &d);
    if (!p)
        abort(); /* a state the parser saved must restore */
    parser_checkpoint(p, &cp);
    if (cp.state.len != state.len || (state.len && memcmp(cp.state.p, state.buf, state.len)))
        abort(); /* restored, it saves the same */
    if (offset <= size)
        feed_lines(p, buf, (size_t)offset, size, line, SIZE_MAX, a);
    parser_end(p);
    drain(p, a);
    if (!pt_balanced(parser_stats(p)))
        abort();
    parser_free(p);
    sbuf_release(&state);

    /* Arbitrary bytes as the saved state of the format. */
    struct sbuf junk = SBUF_INIT;
    if (sbuf_add(&junk, "supabase", 9) < 0 || sbuf_add(&junk, buf, size < 96 ? size : 96) < 0)
        abort();
    o.resume_state = sbuf_span(&junk);
    p = parser_new(&o, &d);
    if (p) {
        feed_lines(p, buf, 0, size, 1, 4, a);
        parser_end(p);
        drain(p, a);
        parser_free(p);
    }
    sbuf_release(&junk);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct diag d = DIAG_INIT;
    struct parser *p = parser_new(&(struct parser_opts){ .format = "supabase" }, &d);
    struct arena a = ARENA_INIT;
    /* own copy so ASan sees reads past the end of the input */
    char *buf = malloc(size ? size : 1);

    if (!p || !buf)
        abort();
    if (size)
        memcpy(buf, data, size);
    feed_lines(p, buf, 0, size, 1, SIZE_MAX, &a);
    parser_end(p);
    drain(p, &a);
    if (!pt_balanced(parser_stats(p)))
        abort();
    parser_free(p);
    if (!pt_parse_twice_ok(buf, size, &(struct parser_opts){ .format = "supabase" }))
        abort();
    struct sbuf scanned = SBUF_INIT, oracle = SBUF_INIT;
    for (int k = 0; k < 2; k++) {
        struct sbuf *out = k ? &oracle : &scanned;
        supabase_jansson_only = k == 1;
        p = pt_run(buf, size, &(struct parser_opts){ .format = "supabase" }, out);
        supabase_jansson_only = false;
        if (!p)
            abort();
        pt_stats_text(parser_stats(p), out);
        parser_free(p);
    }
    if (scanned.len != oracle.len ||
        (scanned.len && memcmp(scanned.buf, oracle.buf, scanned.len))) {
        fprintf(stderr,
                "fuzz_supabase: the scanner and jansson disagree\nscanner:\n%s\njansson:\n%s\n",
                scanned.buf, oracle.buf);
        abort();
    }
    sbuf_release(&scanned);
    sbuf_release(&oracle);
    check_resume(buf, size, &a);
    arena_release(&a);
    free(buf);
    return 0;
}
