/* SPDX-License-Identifier: MIT */
/*
 * fuzz_redact - arbitrary bytes through the store's redactors (normalize/normalize.h): message
 * texts, SQL samples, error grouping keys, with a small output cap.
 *
 * The first byte picks the redactor and the cap. Checks: no crash or sanitizer report,
 * the output respects the cap, redact_cap() cuts on a UTF-8 boundary, and a text made
 * of one quoted literal never shows its contents (message and statement redactors), and
 * redact_sql() shows no digit of a constant: with every digit inside the string and
 * plain number constants the lexer finds changed to '7' (the shape is kept: no quote,
 * escape, tag or number form appears or vanishes), the output is the same bytes; a
 * statement log line ("LOG:  statement: " and the input) comes out of the message
 * redactor as the prefix and redact_sql()'s output.
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

static bool is_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           (unsigned char)c >= 0x80;
}

/* redact_sql(@in) must not depend on the digits of its constants. */
static void check_sql_digits(struct span in)
{
    static struct normalizer *nz;
    struct norm_result r;
    if (!nz)
        nz = normalize_new(NULL);
    normalize_fingerprint(nz, in, &r);
    if (r.flags & NORM_TRUNCATED)
        return;
    char *m = malloc(in.len ? in.len : 1);
    if (!m)
        abort();
    memcpy(m, in.p, in.len);
    bool changed = false;
    for (size_t i = 0; i < normalize_token_count(nz); i++) {
        struct norm_token t;
        normalize_token(nz, i, &t);
        if (strcmp(t.role, "constant"))
            continue;
        char *p = m + t.offset;
        size_t from = 0;
        if (!strcmp(t.kind, "number")) {
            /* only a number that stands apart and is digits only ("0x1F", "1e5" keep) */
            bool plain = (t.offset == 0 || !is_alnum(in.p[t.offset - 1])) &&
                         (t.offset + t.length == in.len || !is_alnum(in.p[t.offset + t.length]));
            for (uint32_t k = 0; k < t.length; k++)
                plain &= p[k] >= '0' && p[k] <= '9';
            if (!plain)
                continue;
        } else if (!strcmp(t.kind, "string")) {
            if (p[0] == '$') { /* the body only, not the tag */
                from = 1;
                while (from < t.length && p[from] != '$')
                    from++;
                from++;
            } else {
                while (from < t.length && p[from] != '\'')
                    from++;
            }
        } else {
            continue;
        }
        size_t to = t.length;
        if (p[0] == '$' && !t.unterminated && to >= 2 * from)
            to -= from;
        for (size_t k = from; k < to; k++)
            if (p[k] >= '0' && p[k] <= '9' && p[k] != '7') {
                p[k] = '7';
                changed = true;
            }
    }
    if (changed) {
        struct sbuf a = SBUF_INIT, b = SBUF_INIT;
        int ra = redact_sql(&a, in), rb = redact_sql(&b, span_make(m, in.len));
        if (ra != rb || a.len != b.len || (a.len && memcmp(a.buf, b.buf, a.len))) {
            fprintf(stderr, "  redacted: %s\n  mutated:  %s\n", a.buf ? a.buf : "",
                    b.buf ? b.buf : "");
            require(false, "redact_sql output depends on a digit of a constant");
        }
        sbuf_release(&a);
        sbuf_release(&b);
    }
    free(m);
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
             : (mode & 3) == 2 ? redact_numbers(&out, in)
                               : redact_rejected(&out, in);
    require(out.len <= cap, "cap exceeded");
    require(rc == 0 || rc == -1, "bad return");
    if ((mode & 3) == 1)
        check_sql_digits(in);
    if ((mode & 3) == 1 && in.len < 4096) {
        /* a raw statement log line: its SQL redacted as redact_sql() does it */
        static const char head[] = "LOG:  statement: ";
        char *line = malloc(sizeof(head) + in.len);
        if (!line)
            abort();
        memcpy(line, head, sizeof(head) - 1);
        memcpy(line + sizeof(head) - 1, in.p, in.len);
        struct sbuf a = SBUF_INIT, b = SBUF_INIT;
        int ra = redact_message(&a, span_make(line, sizeof(head) - 1 + in.len));
        int rb = sbuf_addstr(&b, head) < 0 ? -1 : redact_sql(&b, in);
        require(ra == rb && a.len == b.len && (!a.len || !memcmp(a.buf, b.buf, a.len)),
                "redact_message: a statement line is not redacted as redact_sql() does");
        sbuf_release(&a);
        sbuf_release(&b);
        free(line);
    }
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
