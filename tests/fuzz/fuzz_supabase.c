/* SPDX-License-Identifier: MIT */
/*
 * fuzz_supabase - arbitrary bytes as a Supabase export/drain file through the parser
 * (--format supabase) and classify_event(): no crash, no leak, and the accounting
 * invariant of parse.h holds (every line is in exactly one of event / reject / foreign /
 * blank, records == events + rejects); the same bytes parsed twice give the same events.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/parsetest.h"
#include "classify/classify.h"
#include "core/arena.h"
#include "core/diag.h"
#include "parse/parse.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct diag d = DIAG_INIT;
    struct parser *p = parser_new(&(struct parser_opts){ .format = "supabase" }, &d);
    struct arena a = ARENA_INIT;
    /* own copy so ASan sees reads past the end of the input */
    char *buf = malloc(size ? size : 1);
    size_t at = 0;
    uint64_t lineno = 1;

    if (!p || !buf)
        abort();
    if (size)
        memcpy(buf, data, size);
    while (at < size) {
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
        drain(p, &a);
        at += n + (nl ? 1 : 0);
    }
    parser_end(p);
    drain(p, &a);
    if (!pt_balanced(parser_stats(p)))
        abort();
    parser_free(p);
    if (!pt_parse_twice_ok(buf, size, &(struct parser_opts){ .format = "supabase" }))
        abort();
    arena_release(&a);
    free(buf);
    return 0;
}
