/* SPDX-License-Identifier: MIT */
/*
 * fuzz_csvlog - arbitrary bytes through the csvlog parser (and auto-detection).
 *
 * The first byte picks the mode: bit 0 auto-detect instead of --format csvlog, bit 1
 * --tz +05:30, bit 2 the portable byte scanner instead of SSE2 (core/bytescan.h).
 * Checks: no crash or sanitizer report, the accounting invariant, and the resume
 * property at the middle of the input (first half + resumed rest = one run).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../lib/parsetest.h"
#include "core/bytescan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_csvlog: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned mode = data[0];
    const char *buf = (const char *)data + 1;
    size_t len = size - 1;
    bytescan_portable_only = (mode & 4) != 0;
    struct parser_opts o = { .format = (mode & 1) ? "auto" : "csvlog",
                             .tz = (mode & 2) ? "+05:30" : NULL };
    struct sbuf out = SBUF_INIT;
    struct parser *p = pt_run(buf, len, &o, &out);
    require(p != NULL, "parser_new failed");
    const struct parse_stats *st = parser_stats(p);
    require(pt_balanced(st), "accounting invariant broken");
    uint64_t events = st->events, rejects = st->rejects;
    parser_free(p);

    /* Resume at the checkpoint after the first half of the lines (forced format only:
     * detection would see different first lines). */
    if (!(mode & 1)) {
        struct diag d = DIAG_INIT;
        struct sbuf first = SBUF_INIT, second = SBUF_INIT;
        p = parser_new(&o, &d);
        size_t at = 0, half = len / 2;
        uint64_t lineno = 1;
        while (at < half) {
            const char *nl = memchr(buf + at, '\n', len - at);
            size_t n = nl ? (size_t)(nl - (buf + at)) : len - at;
            pt_feed(p, buf, at, n, lineno++, !nl, &first);
            at += n + (nl ? 1 : 0);
        }
        struct parse_checkpoint cp;
        parser_checkpoint(p, &cp);
        uint64_t ev1 = parser_stats(p)->events, rj1 = parser_stats(p)->rejects;
        require(cp.nskip == 0, "csvlog records do not interleave");
        parser_free(p);
        p = parser_new(&o, &d);
        at = cp.line ? cp.offset : 0;
        lineno = cp.line ? cp.line : 1;
        while (at < len) {
            const char *nl = memchr(buf + at, '\n', len - at);
            size_t n = nl ? (size_t)(nl - (buf + at)) : len - at;
            pt_feed(p, buf, at, n, lineno++, !nl, &second);
            at += n + (nl ? 1 : 0);
        }
        parser_end(p);
        struct event *ev;
        while (parser_next(p, &ev) == PARSE_EVENT)
            ;
        require(pt_balanced(parser_stats(p)), "accounting invariant broken (resumed)");
        /* A record cut by the checkpoint cannot exist (the checkpoint is a record
         * start), so the counts add up exactly. */
        require(ev1 + parser_stats(p)->events == events, "resume changed the event count");
        require(rj1 + parser_stats(p)->rejects == rejects, "resume changed the reject count");
        parser_free(p);
        sbuf_release(&first);
        sbuf_release(&second);
    }
    sbuf_release(&out);
    return 0;
}
