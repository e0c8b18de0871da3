/* SPDX-License-Identifier: MIT */
/*
 * fuzz_syslog - the syslog format (RFC 3164/3339 headers, logplex, [N-M] pieces, #ooo
 * escapes, embedded newlines) on top of the stderr record core.
 *
 * Input: byte 0 picks the prefix (even: the detected one, odd: line 1 after byte 0, up
 * to the first '\n'); the rest are syslog lines. Checks: no crash or sanitizer report
 * and the parse.h accounting invariant; the same bytes parsed twice give the same events.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/parsetest.h"
#include "core/limits.h"
#include "parse/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool given = data[0] & 1;
    const char *text = (const char *)data + 1;
    size_t len = size - 1, at = 0;
    char *prefix = NULL;
    if (given) {
        const char *nl = memchr(text, '\n', len);
        size_t plen = nl ? (size_t)(nl - text) : len;
        if (plen > SIFT_MAX_PREFIX_BYTES)
            plen = SIFT_MAX_PREFIX_BYTES;
        prefix = malloc(plen + 1);
        memcpy(prefix, text, plen);
        prefix[plen] = '\0';
        at = nl ? (size_t)(nl - text) + 1 : len;
    }
    struct diag d = DIAG_INIT;
    struct parser *p = parser_new(
        &(struct parser_opts){ .format = (data[0] & 2) ? "auto" : "syslog", .prefix = prefix }, &d);
    struct event *ev;
    uint64_t lineno = 1;
    for (size_t i = at; p && i < len;) {
        const char *e = memchr(text + i, '\n', len - i);
        size_t n = e ? (size_t)(e - (text + i)) : len - i;
        struct input_line ln = { .text = span_make(text + i, n),
                                 .line = lineno++,
                                 .offset = i,
                                 .end = i + n + (e ? 1 : 0),
                                 .partial = !e,
                                 .source = SPAN_LIT("fuzz") };
        parser_feed(p, &ln);
        while (parser_next(p, &ev) == PARSE_EVENT)
            ;
        i += n + 1;
    }
    if (p) {
        parser_end(p);
        while (parser_next(p, &ev) == PARSE_EVENT)
            ;
        const struct parse_stats *st = parser_stats(p);
        if (st->lines != st->event_lines + st->reject_lines + st->foreign_lines + st->blank_lines +
                             st->skipped_lines ||
            st->records != st->events + st->rejects)
            abort();
        parser_free(p);
        if (!pt_same_twice(text + at, len - at,
                           &(struct parser_opts){ .format = (data[0] & 2) ? "auto" : "syslog",
                                                  .prefix = prefix }))
            abort();
    }
    free(prefix);
    return 0;
}
