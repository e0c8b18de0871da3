/* SPDX-License-Identifier: MIT */
/*
 * stderrlog_cases - runner for the case files in tests/cases/stderrlog/: whole inputs
 * through the parser (stderr, syslog and the wrapped formats), events compared as
 * text.
 *
 * A case is a block:
 *   line 1     options: format=NAME prefix='TEXT' tz=ZONE (each optional; format
 *              defaults to auto; quotes keep spaces)
 *   lines      the input, one log line per case line (escapes of tests/lib/cases.h:
 *              \t for a TAB ...); "<blank>" stands for an empty line
 *   =>         separator
 *   lines      expectations, each one of:
 *                line=N ...      one event, exactly as tests/lib/parsetest.h renders it
 *                                without its offset; events in order, all listed
 *                stats: k=N ...  parse_stats counters: lines events rejects foreign
 *                                blank forced
 *                reject: TEXT    a reject reason with this name was counted
 *                format: NAME    the format in use (after detection)
 * Every case also checks the accounting invariant of parse.h. "Now" is
 * 2026-11-30T00:00:00Z (SIFT_TEST_NOW) for the year of syslog headers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "core/utf8.h"
#include "core/xalloc.h"
#include "parsetest.h"

struct opts_buf {
    char format[64], prefix[1100], tz[64];
    bool has_format, has_prefix, has_tz;
};

/* key=value or key='value with spaces' */
static int parse_opts(const char *s, struct opts_buf *o)
{
    while (*s) {
        while (*s == ' ')
            s++;
        if (!*s)
            break;
        const char *eq = strchr(s, '=');
        if (!eq)
            return -1;
        size_t klen = (size_t)(eq - s);
        const char *v = eq + 1, *vend;
        if (*v == '\'') {
            v++;
            vend = strchr(v, '\'');
            if (!vend)
                return -1;
            s = vend + 1;
        } else {
            vend = v + strcspn(v, " ");
            s = vend;
        }
        char *dst;
        size_t cap;
        if (klen == 6 && !strncmp(eq - 6, "format", 6)) {
            dst = o->format, cap = sizeof(o->format), o->has_format = true;
        } else if (klen == 6 && !strncmp(eq - 6, "prefix", 6)) {
            dst = o->prefix, cap = sizeof(o->prefix), o->has_prefix = true;
        } else if (klen == 2 && !strncmp(eq - 2, "tz", 2)) {
            dst = o->tz, cap = sizeof(o->tz), o->has_tz = true;
        } else {
            return -1;
        }
        if ((size_t)(vend - v) >= cap)
            return -1;
        memcpy(dst, v, (size_t)(vend - v));
        dst[vend - v] = '\0';
    }
    return 0;
}

/* Bytes that are not valid UTF-8 are shown as \xHH, so a case file can name them. */
static void show_invalid(const char *s, struct sbuf *o)
{
    size_t n = strlen(s);
    sbuf_reset(o);
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq_len((const unsigned char *)s + i, n - i);
        int r = k ? sbuf_add(o, s + i, k) : sbuf_addf(o, "\\x%02x", (unsigned char)s[i]);
        if (r < 0)
            return;
        i += k ? k : 1;
    }
}

/* Remove " offset=N" from a rendered event. */
static void drop_offset(char *line)
{
    char *o = strstr(line, " offset=");
    if (!o)
        return;
    char *e = o + 8;
    while (*e >= '0' && *e <= '9')
        e++;
    memmove(o, e, strlen(e) + 1);
}

static bool stat_value(const struct parse_stats *st, const char *key, uint64_t *v)
{
    static const struct {
        const char *name;
        size_t off;
    } keys[] = {
        { "lines", offsetof(struct parse_stats, lines) },
        { "events", offsetof(struct parse_stats, events) },
        { "rejects", offsetof(struct parse_stats, rejects) },
        { "foreign", offsetof(struct parse_stats, foreign_lines) },
        { "blank", offsetof(struct parse_stats, blank_lines) },
        { "forced", offsetof(struct parse_stats, forced) },
    };
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        if (!strcmp(keys[i].name, key)) {
            *v = *(const uint64_t *)((const char *)st + keys[i].off);
            return true;
        }
    }
    return false;
}

static int check_case(const struct case_block *b)
{
    struct opts_buf ob = { 0 };
    struct sbuf input = SBUF_INIT, line = SBUF_INIT, out = SBUF_INIT;
    size_t sep = 0;
    int ret = -1;
    struct parser *p = NULL;

    if (parse_opts(b->lines[0].text, &ob) < 0) {
        case_fail(b, 0, "bad options line (format=, prefix='...', tz=)");
        goto out;
    }
    for (sep = 1; sep < b->n && strcmp(b->lines[sep].text, "=>") != 0; sep++) {
        if (!strcmp(b->lines[sep].text, "<blank>")) {
            sbuf_reset(&line);
        } else if (case_unescape(b->lines[sep].text, b->lines[sep].len, &line) < 0) {
            case_fail(b, sep, "malformed escape");
            goto out;
        }
        if (sbuf_addspan(&input, sbuf_span(&line)) < 0 || sbuf_addch(&input, '\n') < 0)
            goto out;
    }
    if (sep == b->n) {
        case_fail(b, 0, "no '=>' line");
        goto out;
    }
    struct parser_opts po = {
        .format = ob.has_format ? ob.format : "auto",
        .prefix = ob.has_prefix ? ob.prefix : NULL,
        .tz = ob.has_tz ? ob.tz : NULL,
    };
    p = pt_run(input.buf, input.len, &po, &out);
    if (!p) {
        case_fail(b, 0, "parser_new failed");
        goto out;
    }
    const struct parse_stats *st = parser_stats(p);
    bool failed = false;
    if (!pt_balanced(st)) {
        case_fail(b, 0,
                  "accounting invariant broken: lines=%llu events=%llu/%llu rejects=%llu/%llu "
                  "foreign=%llu blank=%llu",
                  (unsigned long long)st->lines, (unsigned long long)st->events,
                  (unsigned long long)st->event_lines, (unsigned long long)st->rejects,
                  (unsigned long long)st->reject_lines, (unsigned long long)st->foreign_lines,
                  (unsigned long long)st->blank_lines);
        failed = true;
    }

    char *cursor = out.buf;
    for (size_t i = sep + 1; i < b->n; i++) {
        const char *t = b->lines[i].text;
        if (!strncmp(t, "stats:", 6)) {
            char *dup = xstrdup(t + 6);
            for (char *tok = dup, *next; tok && *tok; tok = next) {
                while (*tok == ' ')
                    tok++;
                next = strchr(tok, ' ');
                if (next)
                    *next++ = '\0';
                char *eq = strchr(tok, '=');
                uint64_t got;
                if (!eq) {
                    if (*tok)
                        case_fail(b, i, "bad stats item '%s'", tok), failed = true;
                    continue;
                }
                *eq = '\0';
                if (!stat_value(st, tok, &got)) {
                    case_fail(b, i, "unknown stat '%s'", tok);
                    failed = true;
                } else if (got != strtoull(eq + 1, NULL, 10)) {
                    case_fail(b, i, "expected %s=%s, got %llu", tok, eq + 1,
                              (unsigned long long)got);
                    failed = true;
                }
            }
            free(dup);
        } else if (!strncmp(t, "reject: ", 8)) {
            bool found = false;
            for (size_t r = 0; r < st->nreasons; r++)
                found |= !strcmp(st->reasons[r].reason, t + 8) && st->reasons[r].records;
            if (!found) {
                case_fail(b, i, "no reject with reason '%s'", t + 8);
                failed = true;
            }
        } else if (!strncmp(t, "format: ", 8)) {
            const char *f = parser_format(p);
            if (!f || strcmp(f, t + 8)) {
                case_fail(b, i, "expected format %s, got %s", t + 8, f ? f : "(none)");
                failed = true;
            }
        } else {
            char *nl = cursor && *cursor ? strchr(cursor, '\n') : NULL;
            if (!nl) {
                case_fail(b, i, "expected event %s, got no more events", t);
                failed = true;
                continue;
            }
            *nl = '\0';
            drop_offset(cursor);
            show_invalid(cursor, &line);
            if (strcmp(line.buf, t) != 0) {
                case_fail(b, i, "event differs\n    expected: %s\n    got:      %s", t, line.buf);
                failed = true;
            }
            cursor = nl + 1;
        }
    }
    if (cursor && *cursor) {
        char *nl = strchr(cursor, '\n');
        if (nl)
            *nl = '\0';
        drop_offset(cursor);
        case_fail(b, sep, "unexpected event: %s", cursor);
        failed = true;
    }
    ret = failed ? -1 : 0;
out:
    parser_free(p);
    sbuf_release(&input);
    sbuf_release(&line);
    sbuf_release(&out);
    return ret;
}

int main(int argc, char **argv)
{
    /* syslog headers have no year: it comes from "now" */
    setenv("SIFT_TEST_NOW", "2026-11-30T00:00:00Z", 1);
    return cases_main(argc, argv, check_case);
}
