/* SPDX-License-Identifier: MIT */
/*
 * fuzz_stderrlog - the log_line_prefix matcher and the stderr-family formats.
 *
 * Input (like Git's fuzz-date, the first bytes pick the mode):
 *   byte 0      format: % 5 -> stderr, cloudsql, cnpg, auto, stderr with adaptation
 *   line 1      the log_line_prefix (after byte 0, up to the first '\n'); ignored for
 *               modes 3 and 4, which detect it
 *   the rest    log lines
 * Checks: no crash or sanitizer report; the matcher's first-path shortcut, with and
 * without the memo of tails (kept across the input's lines), gives the full search's
 * answer; every match has its fields inside the line and in order; an inferred prefix
 * compiles and matches the line it came from; the parse.h accounting invariant holds and
 * the same bytes parsed twice give the same events (pt_parse_twice_ok()).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/parsetest.h"
#include "core/sbuf.h"
#include "parse/line_prefix.h"
#include "parse/parse.h"

static bool same(bool ok, const struct line_prefix_match *m, bool full_ok,
                 const struct line_prefix_match *full)
{
    return ok == full_ok &&
           (!ok || (m->kw == full->kw && m->kw_off == full->kw_off && m->msg_off == full->msg_off &&
                    m->cut == full->cut && memcmp(m->field, full->field, sizeof(m->field)) == 0));
}

/* @memo lives across the input's lines. */
static void check_match(const struct line_prefix *lp, struct line_prefix_memo *memo,
                        struct span line)
{
    struct line_prefix_match m, full, mm;
    line_prefix_full_search_only = true;
    bool full_ok = line_prefix_match(lp, line, &full);
    line_prefix_full_search_only = false;
    bool ok = line_prefix_match(lp, line, &m);
    bool memo_ok = line_prefix_match_memo(lp, memo, line, &mm);
    /* the first-path shortcut, with or without the memo, gives the full search's answer */
    if (!same(ok, &m, full_ok, &full) || !same(memo_ok, &mm, full_ok, &full))
        abort();
    if (!ok)
        return;
    if (m.kw == LPK_NONE || m.kw_off > m.msg_off || m.msg_off > line.len)
        abort();
    for (int f = 0; f < LPF_COUNT; f++) {
        struct span s = m.field[f];
        if (s.p && (s.p < line.p || s.p + s.len > line.p + m.kw_off))
            abort();
    }
}

static void check_infer(struct span line, struct sbuf *tmp)
{
    if (!line_prefix_infer(line, tmp, (line.len & 1) != 0))
        return;
    struct line_prefix *lp = line_prefix_new(sbuf_span(tmp), NULL);
    struct line_prefix_match m;
    if (!lp || !line_prefix_match(lp, line, &m))
        abort();
    line_prefix_free(lp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const formats[] = { "stderr", "cloudsql", "cnpg", "auto", "stderr" };
    if (size < 1)
        return 0;
    unsigned mode = data[0] % 5;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    const char *nl = memchr(text, '\n', len);
    size_t plen = nl ? (size_t)(nl - text) : len;
    if (plen > SIFT_MAX_PREFIX_BYTES)
        plen = SIFT_MAX_PREFIX_BYTES;
    char *prefix = malloc(plen + 1);
    memcpy(prefix, text, plen);
    prefix[plen] = '\0';
    size_t at = nl ? (size_t)(nl - text) + 1 : len;

    struct line_prefix *lp = line_prefix_new(span_make(prefix, strlen(prefix)), NULL);
    struct line_prefix_memo *memo = line_prefix_memo_new();
    struct sbuf tmp = SBUF_INIT;
    struct parser_opts o = { .format = formats[mode], .prefix = mode < 3 ? prefix : NULL };

    for (size_t i = at; i < len;) {
        const char *e = memchr(text + i, '\n', len - i);
        size_t n = e ? (size_t)(e - (text + i)) : len - i;
        struct span line = span_make(text + i, n);
        if (lp)
            check_match(lp, memo, line);
        check_infer(line, &tmp);
        i += n + 1;
    }
    if (!pt_parse_twice_ok(text + at, len - at, &o))
        abort();
    line_prefix_free(lp);
    line_prefix_memo_free(memo);
    sbuf_release(&tmp);
    free(prefix);
    return 0;
}
