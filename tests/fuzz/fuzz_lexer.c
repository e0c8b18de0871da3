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
 *   - no literal leaks: the text of a string constant of 3 bytes or more appears in
 *     neither the canonical text nor the sample unless the statement also holds it
 *     outside constants;
 *   - the token spans are inside the input, ordered and non-overlapping.
 * A failed check aborts (libFuzzer keeps the input; the replay test fails).
 */
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

static bool contains(const char *hay, size_t hn, const char *needle, size_t nn)
{
    if (nn == 0 || nn > hn)
        return false;
    for (size_t i = 0; i + nn <= hn; i++)
        if (hay[i] == needle[0] && !memcmp(hay + i, needle, nn))
            return true;
    return false;
}

static void check(struct normalizer *nz, struct normalizer *nz2, const char *sql, size_t len)
{
    struct norm_result r, r2;
    struct span in = span_make(sql, len);
    normalize_fingerprint(nz, in, &r);

    /* Token spans: inside the input, in order. */
    size_t n = normalize_token_count(nz), prev_end = 0;
    struct sbuf outside = SBUF_INIT; /* text of the tokens that are not constants */
    for (size_t i = 0; i < n; i++) {
        struct norm_token t;
        normalize_token(nz, i, &t);
        if (t.offset < prev_end || (size_t)t.offset + t.length > len || t.length == 0)
            fail("token span out of order or out of the input", sql, len);
        prev_end = (size_t)t.offset + t.length;
        if (strcmp(t.role, "constant") && sbuf_add(&outside, sql + t.offset, t.length) < 0)
            abort();
    }

    struct sbuf canon = SBUF_INIT, sample = SBUF_INIT;
    if (sbuf_add(&canon, r.canonical.p, r.canonical.len) < 0)
        abort();
    (void)normalize_redact(nz2, in, REDACT_ALL | REDACT_STATEMENT, 0, &sample);

    /* No literal leaks (checked on the tokens of the first call, before nz is reused). */
    normalize_fingerprint(nz, in, &r);
    for (size_t i = 0; i < n; i++) {
        struct norm_token t;
        normalize_token(nz, i, &t);
        if (strcmp(t.role, "constant") || strcmp(t.kind, "string") || t.length < 3)
            continue;
        const char *c = sql + t.offset;
        if (contains(outside.buf, outside.len, c, t.length))
            continue;
        if (contains(canon.buf, canon.len, c, t.length))
            fail("a string constant appears in the canonical text", sql, len);
        if (contains(sample.buf, sample.len, c, t.length))
            fail("a string constant appears in the sample", sql, len);
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
    sbuf_release(&outside);
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

    if (env && *env == '1')
        for (size_t k = 0; k < len; k++)
            check(nz, nz2, sql, k);
    check(nz, nz2, sql, len);
    normalize_free(nz);
    normalize_free(nz2);
    return 0;
}
