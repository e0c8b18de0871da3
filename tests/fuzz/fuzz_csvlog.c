/* SPDX-License-Identifier: MIT */
/*
 * fuzz_csvlog - arbitrary bytes through the csvlog parser (and auto-detection).
 *
 * The first byte picks the mode: bit 0 auto-detect instead of --format csvlog, bit 1
 * --tz +05:30, bit 2 the portable byte scanner instead of SSE2 (core/bytescan.h), bits
 * 3-7 how much is read ahead of each line (1-31 bytes; 0: all the rest).
 * Checks: no crash or sanitizer report, the accounting invariant, the resume property
 * at the middle of the input (first half + resumed rest = one run), and that taking
 * records spanning lines in place (parser_feed_ahead()) gives exactly what feeding the
 * lines one by one gives: events, counts, reject samples, and the checkpoint after each
 * feed; and that one-line records split by masks alone give what walking their fields
 * gives (csvlog_walk_only).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/parsetest.h"
#include "core/bytescan.h"
#include "parse/parse_int.h"

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
    {
        struct sbuf w = SBUF_INIT, s0 = SBUF_INIT, s1 = SBUF_INIT;
        pt_stats_text(st, &s0);
        csvlog_walk_only = true;
        struct parser *pw = pt_run(buf, len, &o, &w);
        csvlog_walk_only = false;
        require(pw != NULL, "parser_new failed");
        pt_stats_text(parser_stats(pw), &s1);
        require(out.len == w.len && (!out.len || !memcmp(out.buf, w.buf, out.len)),
                "mask split events differ from the field walk");
        require(!strcmp(s0.buf, s1.buf), "mask split counts differ from the field walk");
        parser_free(pw);
        sbuf_release(&w);
        sbuf_release(&s0);
        sbuf_release(&s1);
    }
    parser_free(p);

    /* Line by line against records taken whole from what was read ahead. */
    {
        size_t nl = 2;
        for (size_t i = 0; i < len; i++)
            nl += buf[i] == '\n';
        struct pt_ck *ck0 = calloc(nl, sizeof(*ck0)), *ck1 = calloc(nl, sizeof(*ck1));
        struct sbuf o0 = SBUF_INIT, o1 = SBUF_INIT, s0 = SBUF_INIT, s1 = SBUF_INIT;
        uint64_t f0, f1;
        size_t window = (mode >> 3) ? (size_t)(mode >> 3) : SIZE_MAX;
        memset(ck1, 0xff, nl * sizeof(*ck1));
        struct parser *a = pt_run_ahead(buf, len, &o, 0, &o0, ck0, &f0);
        struct parser *b = pt_run_ahead(buf, len, &o, window, &o1, ck1, &f1);
        require(a && b, "parser_new failed");
        pt_stats_text(parser_stats(a), &s0);
        pt_stats_text(parser_stats(b), &s1);
        require(!strcmp(o0.buf, o1.buf), "read-ahead events differ from line by line");
        require(!strcmp(s0.buf, s1.buf), "read-ahead counts differ from line by line");
        require(pt_balanced(parser_stats(b)), "accounting invariant broken (read ahead)");
        for (size_t l = 0; l < nl; l++)
            require(ck1[l].line == UINT64_MAX ||
                        (ck1[l].offset == ck0[l].offset && ck1[l].line == ck0[l].line &&
                         ck1[l].nskip == ck0[l].nskip),
                    "read-ahead checkpoint differs from line by line");
        parser_free(a);
        parser_free(b);
        sbuf_release(&o0);
        sbuf_release(&o1);
        sbuf_release(&s0);
        sbuf_release(&s1);
        free(ck0);
        free(ck1);
    }

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
