/* SPDX-License-Identifier: MIT */
/*
 * fuzz_jsonlog - arbitrary bytes through the jsonlog parser, with jansson as the
 * differential oracle: every line is parsed by the scanner and again with
 * jsonlog_jansson_only; whenever jansson can load the line (UTF-8 repaired, duplicate
 * keys refused), both must give the same event or the same reject reason. Also checks
 * the accounting invariant. The first byte is ignored (room for modes).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "../lib/parsetest.h"
#include "core/utf8.h"
#include "parse/parse_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Each byte that is not valid UTF-8 becomes U+FFFD (what the jansson path does). */
static void repair(struct sbuf *out, struct span s)
{
    sbuf_reset(out);
    for (size_t i = 0; i < s.len;) {
        size_t k = utf8_seq_len((const unsigned char *)s.p + i, s.len - i);
        if (sbuf_add(out, k ? s.p + i : "\xEF\xBF\xBD", k ? k : 3) < 0)
            abort();
        i += k ? k : 1;
    }
}

static void require(bool ok, const char *what, const char *a, const char *b)
{
    if (!ok) {
        fprintf(stderr, "fuzz_jsonlog: %s\n  scanner: %s\n  jansson: %s\n", what, a ? a : "",
                b ? b : "");
        abort();
    }
}

/* One line through the parser; the events rendered, or "reject: <reason>". */
static void one(const char *line, size_t n, bool jansson, struct sbuf *out)
{
    struct sbuf ev = SBUF_INIT;
    jsonlog_jansson_only = jansson;
    struct parser *p = pt_run(line, n, &(struct parser_opts){ .format = "jsonlog" }, &ev);
    jsonlog_jansson_only = false;
    require(p != NULL, "parser_new failed", NULL, NULL);
    const struct parse_stats *st = parser_stats(p);
    require(pt_balanced(st), "accounting invariant broken", NULL, NULL);
    /* Repair invalid UTF-8 the way the jansson path does, so the two renderings compare
     * byte for byte. */
    repair(out, sbuf_span(&ev));
    for (size_t i = 0; i < st->nreasons; i++)
        if (sbuf_addf(out, " reject: %s", st->reasons[i].reason) < 0)
            abort();
    parser_free(p);
    sbuf_release(&ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *buf = (const char *)data + 1;
    size_t len = size - 1;
    struct sbuf out = SBUF_INIT, a = SBUF_INIT, b = SBUF_INIT, fixed = SBUF_INIT;

    /* The whole input as one file: invariant only. */
    struct parser *p = pt_run(buf, len, &(struct parser_opts){ .format = "jsonlog" }, &out);
    require(p && pt_balanced(parser_stats(p)), "accounting invariant broken", NULL, NULL);
    parser_free(p);

    for (size_t at = 0; at < len;) {
        const char *nl = memchr(buf + at, '\n', len - at);
        size_t full = nl ? (size_t)(nl - (buf + at)) : len - at, n = full;
        if (n && buf[at + n - 1] == '\r')
            n--; /* input/ strips it */
        one(buf + at, n, false, &a);
        one(buf + at, n, true, &b);
        /* The oracle applies when jansson takes the line as it is (after the same UTF-8
         * repair the parser does) and no key repeats. */
        repair(&fixed, span_make(buf + at, n));
        json_t *o = json_loadb(fixed.buf, fixed.len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
        if (o)
            require(!strcmp(a.buf, b.buf), "scanner and jansson disagree", a.buf, b.buf);
        json_decref(o);
        at += full + (nl ? 1 : 0);
    }
    sbuf_release(&out);
    sbuf_release(&a);
    sbuf_release(&b);
    sbuf_release(&fixed);
    return 0;
}
