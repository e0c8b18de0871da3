/* SPDX-License-Identifier: MIT */
/*
 * fuzz_redact - arbitrary bytes through the store's redactors (normalize/normalize.h): message
 * texts, SQL samples, error grouping keys, with a small output cap.
 *
 * The first byte picks the redactor and the cap. Checks: no crash or sanitizer report,
 * the output respects the cap, redact_cap() cuts on a UTF-8 boundary, and a text made
 * of one quoted literal never shows its contents (message and statement redactors).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "normalize/normalize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_redact: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned mode = data[0];
    struct span in = span_make((const char *)data + 1, size - 1);
    size_t cap = 16 + (size_t)(mode >> 2) * 16;
    struct sbuf out;
    sbuf_init(&out, cap);
    int rc = (mode & 3) == 0   ? redact_message(&out, in)
             : (mode & 3) == 1 ? redact_sql(&out, in)
                               : redact_numbers(&out, in);
    require(out.len <= cap, "cap exceeded");
    require(rc == 0 || rc == -1, "bad return");
    if ((mode & 3) == 0) {
        /* redact_message_same(): the same bytes, and "same" only when they are the input */
        struct sbuf o3;
        sbuf_init(&o3, cap);
        bool same = false;
        int rc3 = redact_message_same(&o3, in, &same);
        require(rc3 == rc && o3.len == out.len && !memcmp(o3.buf, out.buf, out.len),
                "redact_message_same differs from redact_message");
        require(!same || (rc3 == 0 && o3.len == in.len && !memcmp(o3.buf, in.p, in.len)),
                "redact_message_same: same but not the input");
        sbuf_release(&o3);
    }
    size_t before = out.len;
    redact_cap(&out, cap / 2);
    require(out.len <= cap / 2 || out.len == before, "redact_cap did not cut");
    sbuf_release(&out);

    /* 'secret' alone: the contents never come out of the message redactor. */
    if (in.len >= 3 && in.len < 200 && !memchr(in.p, '\'', in.len) && !memchr(in.p, '\n', in.len)) {
        char buf[256];
        buf[0] = '\'';
        memcpy(buf + 1, in.p, in.len);
        buf[in.len + 1] = '\'';
        struct sbuf o2 = SBUF_INIT;
        require(redact_message(&o2, span_make(buf, in.len + 2)) == 0, "redact failed");
        require(!strstr(o2.buf, "\xe2\x80\xa6") || o2.len == 5, "literal not replaced whole");
        require(o2.len == 5, "literal contents leaked");
        /* ...nor out of the statement redactor (one string constant: "$1"). */
        sbuf_reset(&o2);
        require(redact_sql(&o2, span_make(buf, in.len + 2)) == 0, "redact_sql failed");
        require(!strcmp(o2.buf, "$1"), "redact_sql: literal not replaced whole");
        sbuf_release(&o2);
    }
    return 0;
}
