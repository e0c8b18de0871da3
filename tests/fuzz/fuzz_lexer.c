/* SPDX-License-Identifier: MIT */
/*
 * fuzz_lexer - the normalizer on arbitrary bytes, with oracles (docs/fingerprint.md,
 * "Validation"). The first byte picks options (bit 0 backslash_quotes, bit 1 keep_lists,
 * bit 2 keep_values_rows); the rest is the statement. For the statement - and, with
 * SIFT_FUZZ_PREFIXES=1 (set by ctest's replay), for every prefix of it, which is what a
 * log line cut anywhere looks like - it checks:
 *   - no crash, no sanitizer report;
 *   - fixed point: the fingerprint of the canonical text equals the statement's, both
 *     with parameters merged (the text writes constants as $n);
 *   - no literal leaks: the statement with other values in its string and integer
 *     constants (same shape, see mutate()) has the same fingerprint, canonical text and
 *     sample - unless the two are read with different rules for backslashes in '..'
 *     (NORM_BACKSLASH: a statement that lexes cleanly only with backslash escapes is
 *     read with them, and what is inside a literal differs between the two readings, so
 *     changing it may change the reading; either reading replaces its own literals);
 *   - the token spans are inside the input, ordered and non-overlapping.
 * A failed check aborts (libFuzzer keeps the input; the replay test fails).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sbuf.h"
#include "normalize/normalize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *sql, size_t len)
{
    fprintf(stderr, "fuzz_lexer: %s\n  input (%zu bytes): %.*s\n", what, len,
            (int)(len > 400 ? 400 : len), sql);
    abort();
}

/*
 * The statement with the values of its constants changed but its shape kept: inside
 * every dollar-quoted body and the first quoted segment of every other string constant,
 * each byte that is not a quote, a backslash, a '$' or a line break becomes a space (so
 * no quote, escape or delimiter appears or vanishes), and every digit of a plain
 * integer constant becomes 7. The segment ends where the lexer ends it: backslash
 * escapes only in E'..' (and '..', N'..' with backslash_quotes), no '' in B'..' and
 * X'..' (otherwise "U&'\'UESCAPE''" lost its UESCAPE key word to the blanking).
 */
static void mutate(struct normalizer *nz, const char *sql, size_t len, bool backslash_quotes,
                   char *out)
{
    memcpy(out, sql, len);
    size_t n = normalize_token_count(nz);
    for (size_t i = 0; i < n; i++) {
        struct norm_token t;
        normalize_token(nz, i, &t);
        if (strcmp(t.role, "constant"))
            continue;
        char *p = out + t.offset;
        if (!strcmp(t.kind, "number")) {
            /* Only a number that stands apart: "0o1" "8" would become "0o17". */
            bool plain =
                (t.offset == 0 || !isalnum((unsigned char)sql[t.offset - 1])) &&
                (t.offset + t.length == len || !isalnum((unsigned char)sql[t.offset + t.length]));
            for (uint32_t k = 0; k < t.length; k++)
                plain &= p[k] >= '0' && p[k] <= '9';
            if (plain)
                memset(p, '7', t.length);
            continue;
        }
        if (strcmp(t.kind, "string"))
            continue;
        uint32_t from = 0, to = t.length;
        if (p[0] == '$') { /* $tag$body$tag$: only the body */
            uint32_t d = 1;
            while (d < t.length && p[d] != '$')
                d++;
            from = d + 1;
            if (!t.unterminated && to >= 2 * from)
                to -= from;
        } else {
            /* The first quoted segment only (not a UESCAPE clause or a continuation). */
            char form = p[0]; /* N'..' strings start at the quote */
            bool bs = form == 'e' || form == 'E' || (form == '\'' && backslash_quotes);
            bool dbl = !(form == 'b' || form == 'B' || form == 'x' || form == 'X');
            while (from < t.length && p[from] != '\'')
                from++; /* E'.., U&'.. prefixes */
            from++;
            for (to = from; to < t.length; to++) {
                if (bs && p[to] == '\\' && to + 1 < t.length)
                    to++;
                else if (dbl && p[to] == '\'' && to + 1 < t.length && p[to + 1] == '\'')
                    to++;
                else if (p[to] == '\'')
                    break;
            }
        }
        for (uint32_t k = from; k < to; k++)
            if (p[k] != '\'' && p[k] != '\\' && p[k] != '$' && p[k] != '\n' && p[k] != '\r')
                p[k] = ' ';
    }
}

static void check(struct normalizer *nz, struct normalizer *nz2, const char *sql, size_t len,
                  bool backslash_quotes, char *scratch)
{
    struct norm_result r, r2;
    struct span in = span_make(sql, len);
    normalize_fingerprint(nz, in, &r);

    /* Token spans: inside the input, in order. */
    size_t n = normalize_token_count(nz), prev_end = 0;
    for (size_t i = 0; i < n; i++) {
        struct norm_token t;
        normalize_token(nz, i, &t);
        if (t.offset < prev_end || (size_t)t.offset + t.length > len || t.length == 0)
            fail("token span out of order or out of the input", sql, len);
        prev_end = (size_t)t.offset + t.length;
    }

    /* No literal leaks: other values, same canonical text, sample and fingerprint. */
    struct sbuf canon = SBUF_INIT, sample = SBUF_INIT, sample2 = SBUF_INIT;
    if (sbuf_add(&canon, r.canonical.p, r.canonical.len) < 0)
        abort();
    mutate(nz, sql, len, backslash_quotes || (r.flags & NORM_BACKSLASH), scratch);
    normalize_fingerprint(nz, span_make(scratch, len), &r2);
    bool same_reading = (r.flags & NORM_BACKSLASH) == (r2.flags & NORM_BACKSLASH);
    if (same_reading && (r2.fingerprint != r.fingerprint || r2.canonical.len != canon.len ||
                         memcmp(r2.canonical.p, canon.buf, canon.len))) {
        fprintf(stderr, "  canonical: %s\n  mutated:   %.*s\n", canon.buf, (int)r2.canonical.len,
                r2.canonical.p);
        fail("the canonical text depends on a literal value", sql, len);
    }
    (void)normalize_redact(nz2, in, REDACT_ALL | REDACT_STATEMENT, 0, &sample);
    (void)normalize_redact(nz2, span_make(scratch, len), REDACT_ALL | REDACT_STATEMENT, 0,
                           &sample2);
    if (same_reading &&
        (sample.len != sample2.len || memcmp(sample.buf, sample2.buf, sample.len))) {
        fprintf(stderr, "  sample:  %s\n  mutated: %s\n", sample.buf, sample2.buf);
        fail("the sample depends on a literal value", sql, len);
    }

    /* Fixed point, parameters merged. */
    normalize_fingerprint(nz2, in, &r);
    struct sbuf c2 = SBUF_INIT;
    if (sbuf_add(&c2, r.canonical.p, r.canonical.len) < 0)
        abort();
    normalize_fingerprint(nz2, sbuf_span(&c2), &r2);
    if (!(r.flags & NORM_TRUNCATED) && r.fingerprint != r2.fingerprint) {
        fprintf(stderr, "  canonical: %s\n  again:     %.*s\n", c2.buf, (int)r2.canonical.len,
                r2.canonical.p);
        fail("the canonical text is not a fixed point", sql, len);
    }
    sbuf_release(&c2);
    sbuf_release(&canon);
    sbuf_release(&sample);
    sbuf_release(&sample2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    struct norm_opts o = { .backslash_quotes = data[0] & 1,
                           .keep_lists = data[0] & 2,
                           .keep_values_rows = data[0] & 4 };
    struct norm_opts om = o;
    om.merge_params = true;
    struct normalizer *nz = normalize_new(&o), *nz2 = normalize_new(&om);
    const char *sql = (const char *)data + 1;
    size_t len = size - 1;
    const char *env = getenv("SIFT_FUZZ_PREFIXES");

    char *scratch = malloc(len + 1);
    if (!scratch)
        abort();
    if (env && *env == '1')
        for (size_t k = 0; k < len; k++)
            check(nz, nz2, sql, k, o.backslash_quotes, scratch);
    check(nz, nz2, sql, len, o.backslash_quotes, scratch);
    free(scratch);
    normalize_free(nz);
    normalize_free(nz2);
    return 0;
}
