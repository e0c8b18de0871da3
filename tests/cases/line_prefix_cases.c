/* SPDX-License-Identifier: MIT */
/*
 * line_prefix_cases - runner for the case files in tests/cases/line_prefix/.
 *
 * A case is a block:
 *   line 1   the log_line_prefix; wrap it in single quotes to make a trailing space
 *            visible ('%m [%p] '); escapes of tests/lib/cases.h apply (\t, \x20 ...)
 *   line 2   a log line (escapes apply)
 *   line 3+  expectations, one per line, the value running to the end of the line:
 *              <letter>=<value>  the field of escape %<letter> (a u d r h L b p P t m n
 *                                i e c l s v x Q), padding removed; "u=" is empty
 *              kw=<KEYWORD>      the keyword after the prefix (LOG, DETAIL, ...)
 *              msg=<text>        the message (from after "KEYWORD:  " to the end)
 *              cut=yes|no        whether the line stopped at %q
 *              nomatch           the line must not match (alone)
 *            Every field present in the match must be listed, so a value that
 *            landed in the wrong field fails the case.
 * A block of two lines "<prefix>" / "error=<text>" expects compilation to fail with a
 * message containing <text>.
 */
#include <stdio.h>
#include <string.h>

#include "cases.h"
#include "core/diag.h"
#include "core/sbuf.h"
#include "parse/line_prefix.h"

static int unescape_line(const struct case_block *b, size_t i, struct sbuf *out)
{
    if (case_unescape(b->lines[i].text, b->lines[i].len, out) < 0) {
        case_fail(b, i, "malformed escape");
        return -1;
    }
    return 0;
}

static int field_of_letter(char c)
{
    for (int f = 0; f < LPF_COUNT; f++)
        if (lp_field_letter((enum lp_field)f) == c)
            return f;
    return -1;
}

static int check_case(const struct case_block *b)
{
    struct sbuf prefix = SBUF_INIT, line = SBUF_INIT, val = SBUF_INIT;
    struct line_prefix *lp = NULL;
    struct diag d = DIAG_INIT;
    int ret = -1;

    if (b->n < 2) {
        case_fail(b, 0, "a case needs a prefix line and a log line");
        goto out;
    }
    if (unescape_line(b, 0, &prefix) < 0 || unescape_line(b, 1, &line) < 0)
        goto out;
    struct span pt = sbuf_span(&prefix);
    if (pt.len >= 2 && pt.p[0] == '\'' && pt.p[pt.len - 1] == '\'')
        pt = span_make(pt.p + 1, pt.len - 2);

    lp = line_prefix_new(pt, &d);
    if (!strncmp(b->lines[1].text, "error=", 6)) {
        if (lp) {
            case_fail(b, 1, "prefix compiled, expected an error");
            goto out;
        }
        if (!strstr(d.msg, b->lines[1].text + 6)) {
            case_fail(b, 1, "error \"%s\" does not contain \"%s\"", d.msg, b->lines[1].text + 6);
            goto out;
        }
        ret = 0;
        goto out;
    }
    if (!lp) {
        case_fail(b, 0, "prefix does not compile: %s", d.msg);
        goto out;
    }

    struct line_prefix_match m, full;
    line_prefix_full_search_only = true;
    bool full_ok = line_prefix_match(lp, sbuf_span(&line), &full);
    line_prefix_full_search_only = false;
    bool ok = line_prefix_match(lp, sbuf_span(&line), &m);
    /* the first-path shortcut gives the full search's answer, field for field */
    bool same = ok == full_ok;
    for (int f = 0; same && ok && f < LPF_COUNT; f++)
        same = m.field[f].p == full.field[f].p && m.field[f].len == full.field[f].len;
    if (!same || (ok && (m.kw != full.kw || m.kw_off != full.kw_off || m.msg_off != full.msg_off ||
                         m.cut != full.cut))) {
        case_fail(b, 1, "the first-path shortcut and the full search differ");
        goto out;
    }
    if (b->n == 3 && !strcmp(b->lines[2].text, "nomatch")) {
        if (ok)
            case_fail(b, 1, "expected no match, got keyword %s at %zu", lp_keyword_name(m.kw),
                      m.kw_off);
        else
            ret = 0;
        goto out;
    }
    if (!ok) {
        case_fail(b, 1, "line does not match '%s'", line_prefix_text(lp));
        goto out;
    }

    bool listed[LPF_COUNT] = { false };
    bool failed = false;
    for (size_t i = 2; i < b->n; i++) {
        const char *t = b->lines[i].text;
        const char *eq = strchr(t, '=');
        if (!eq) {
            case_fail(b, i, "expected key=value");
            failed = true;
            continue;
        }
        if (case_unescape(eq + 1, strlen(eq + 1), &val) < 0) {
            case_fail(b, i, "malformed escape");
            failed = true;
            continue;
        }
        size_t klen = (size_t)(eq - t);
        struct span got;
        char buf[32];
        if (klen == 1 && field_of_letter(t[0]) >= 0) {
            int f = field_of_letter(t[0]);
            listed[f] = true;
            got = m.field[f];
            if (!got.p) {
                case_fail(b, i, "expected %c=%s, got %c absent", t[0], val.buf, t[0]);
                failed = true;
                continue;
            }
        } else if (klen == 2 && !strncmp(t, "kw", 2)) {
            got = span_cstr(lp_keyword_name(m.kw));
        } else if (klen == 3 && !strncmp(t, "msg", 3)) {
            got = span_make(line.buf + m.msg_off, line.len - m.msg_off);
        } else if (klen == 3 && !strncmp(t, "cut", 3)) {
            snprintf(buf, sizeof(buf), "%s", m.cut ? "yes" : "no");
            got = span_cstr(buf);
        } else {
            case_fail(b, i, "unknown key '%.*s'", (int)klen, t);
            failed = true;
            continue;
        }
        if (!span_eq(got, sbuf_span(&val))) {
            case_fail(b, i, "expected %.*s=%s, got %.*s=%.*s", (int)klen, t, val.buf, (int)klen, t,
                      (int)got.len, got.p);
            failed = true;
        }
    }
    for (int f = 0; f < LPF_COUNT; f++) {
        if (m.field[f].p && !listed[f]) {
            case_fail(b, 1, "field %c=%.*s is present but not listed", lp_field_letter(f),
                      (int)m.field[f].len, m.field[f].p);
            failed = true;
        }
    }
    ret = failed ? -1 : 0;
out:
    line_prefix_free(lp);
    sbuf_release(&prefix);
    sbuf_release(&line);
    sbuf_release(&val);
    return ret;
}

int main(int argc, char **argv)
{
    return cases_main(argc, argv, check_case);
}
