/* SPDX-License-Identifier: MIT */
/*
 * normalize_cases - runner for tests/cases/normalize/ *.cases: the normalizer's rules as
 * data (docs/fingerprint.md lists them).
 *
 * A block is one case. Lines are case_unescape()d (\n, \t, \xHH, \#). Forms:
 *
 *   SQL...               one or more inputs, then the canonical text they all give
 *   => canonical         (and so they all have the same fingerprint)
 *
 *   :same                every input has the same fingerprint
 *   SQL...
 *
 *   :different           every input has a fingerprint different from all others
 *   SQL...
 *
 *   :sample              normalize_redact(REDACT_ALL | REDACT_STATEMENT): the statement
 *   SQL                  in its own layout with its constants replaced
 *   => sample
 *
 *   :flags               the result's flags, space separated ("-" for none)
 *   SQL
 *   => unterminated multi_statement
 *
 * A block may start with ":opts NAME..." (merge_params keep_lists keep_values_rows
 * numeric_types backslash_quotes) that applies to it alone, and with
 * ":oracle-skip REASON": tests/oracle/oracle_literals.c leaves its inputs out because
 * libpg_query is known to disagree (the reason says why); this runner ignores it.
 *
 * Every input of every block is also checked for the invariant the fuzz target checks
 * (fuzz_lexer.c): normalizing the canonical text again (parameters merged with
 * constants, since the text writes constants as $n) gives the same fingerprint.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "core/sbuf.h"
#include "normalize/normalize.h"

static const char *flag_names[] = { "truncated",        "unterminated",
                                    "multi_statement",  "empty",
                                    "list_collapsed",   "values_collapsed",
                                    "backslash_escapes" };

static int parse_opts(const struct case_block *b, const char *s, struct norm_opts *o)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", s);
    for (char *save, *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        if (!strcmp(w, "merge_params"))
            o->merge_params = true;
        else if (!strcmp(w, "keep_lists"))
            o->keep_lists = true;
        else if (!strcmp(w, "keep_values_rows"))
            o->keep_values_rows = true;
        else if (!strcmp(w, "numeric_types"))
            o->numeric_types = true;
        else if (!strcmp(w, "backslash_quotes"))
            o->backslash_quotes = true;
        else {
            case_fail(b, 0, "unknown option '%s'", w);
            return -1;
        }
    }
    return 0;
}

static void flags_text(unsigned f, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
        if (!(f & (1u << i)))
            continue;
        size_t l = strlen(out);
        snprintf(out + l, cap - l, "%s%s", l ? " " : "", flag_names[i]);
    }
    if (!out[0])
        snprintf(out, cap, "-");
}

/* The fuzz oracle, on every case input: the canonical text is a fixed point of the
 * fingerprint when placeholders and parameters are the same kind. */
static void check_idempotent(const struct case_block *b, size_t li, struct span sql,
                             const struct norm_opts *o)
{
    struct norm_opts m = *o;
    m.merge_params = true;
    m.numeric_types = false; /* $n does not say which type its constant had */
    struct normalizer *nz = normalize_new(&m);
    struct norm_result r1, r2;
    normalize_fingerprint(nz, sql, &r1);
    struct sbuf canon = SBUF_INIT;
    if (sbuf_add(&canon, r1.canonical.p, r1.canonical.len) < 0)
        abort();
    normalize_fingerprint(nz, sbuf_span(&canon), &r2);
    if (r1.fingerprint != r2.fingerprint && !(r1.flags & NORM_TRUNCATED))
        case_fail(b, li, "canonical text is not a fixed point: '%s' -> '%.*s'", canon.buf,
                  (int)r2.canonical.len, r2.canonical.p);
    sbuf_release(&canon);
    normalize_free(nz);
}

static int handler(const struct case_block *b)
{
    struct norm_opts o = { 0 };
    size_t first = 0;
    if (b->n && !strncmp(b->lines[0].text, ":oracle-skip", 12))
        first++;
    if (b->n > first && !strncmp(b->lines[first].text, ":opts ", 6)) {
        if (parse_opts(b, b->lines[first].text + 6, &o) < 0)
            return -1;
        first++;
    }
    if (first >= b->n) {
        case_fail(b, 0, "empty case");
        return -1;
    }
    const char *mode = "canonical";
    if (b->lines[first].text[0] == ':') {
        mode = b->lines[first].text + 1;
        first++;
    }
    bool expects = b->n > first && !strncmp(b->lines[b->n - 1].text, "=> ", 3);
    bool expects_empty = b->n > first && !strcmp(b->lines[b->n - 1].text, "=>");
    size_t last = (expects || expects_empty) ? b->n - 1 : b->n; /* inputs: [first, last) */
    struct sbuf want = SBUF_INIT;
    if (expects &&
        case_unescape(b->lines[b->n - 1].text + 3, b->lines[b->n - 1].len - 3, &want) < 0) {
        case_fail(b, b->n - 1, "bad escape");
        return -1;
    }
    if (last <= first) {
        case_fail(b, first, "no input");
        return -1;
    }

    struct normalizer *nz = normalize_new(&o);
    struct sbuf in = SBUF_INIT, out = SBUF_INIT;
    uint64_t *fps = calloc(b->n, sizeof(*fps));
    int rc = 0;

    for (size_t i = first; i < last; i++) {
        if (case_unescape(b->lines[i].text, b->lines[i].len, &in) < 0) {
            case_fail(b, i, "bad escape");
            rc = -1;
            continue;
        }
        struct norm_result r;
        fps[i] = normalize_fingerprint(nz, sbuf_span(&in), &r);
        check_idempotent(b, i, sbuf_span(&in), &o);

        if (!strcmp(mode, "canonical")) {
            if (!expects && !expects_empty) {
                case_fail(b, i, "missing '=> canonical text'");
                rc = -1;
            } else if (r.canonical.len != want.len || memcmp(r.canonical.p, want.buf, want.len)) {
                case_fail(b, i, "canonical text\n    got:      %.*s\n    expected: %s",
                          (int)r.canonical.len, r.canonical.p, want.buf);
                rc = -1;
            }
        } else if (!strcmp(mode, "sample")) {
            sbuf_reset(&out);
            (void)normalize_redact(nz, sbuf_span(&in), REDACT_ALL | REDACT_STATEMENT, 0, &out);
            if (out.len != want.len || memcmp(out.buf, want.buf, want.len)) {
                case_fail(b, i, "sample\n    got:      %s\n    expected: %s", out.buf, want.buf);
                rc = -1;
            }
        } else if (!strcmp(mode, "flags")) {
            char got[256];
            flags_text(r.flags, got, sizeof(got));
            if (strcmp(got, want.buf)) {
                case_fail(b, i, "flags: got '%s', expected '%s'", got, want.buf);
                rc = -1;
            }
        } else if (strcmp(mode, "same") && strcmp(mode, "different")) {
            case_fail(b, first - 1, "unknown directive ':%s'", mode);
            rc = -1;
            break;
        }
    }
    for (size_t i = first; i < last && rc == 0; i++) {
        for (size_t j = first; j < i; j++) {
            bool eq = fps[i] == fps[j];
            if ((!strcmp(mode, "canonical") || !strcmp(mode, "same")) && !eq) {
                case_fail(b, i, "fingerprint differs from line %u's", b->lines[j].lineno);
                rc = -1;
            } else if (!strcmp(mode, "different") && eq) {
                case_fail(b, i, "same fingerprint as line %u", b->lines[j].lineno);
                rc = -1;
            }
        }
    }
    free(fps);
    sbuf_release(&in);
    sbuf_release(&out);
    sbuf_release(&want);
    normalize_free(nz);
    return rc;
}

int main(int argc, char **argv)
{
    return cases_main(argc, argv, handler);
}
