/* SPDX-License-Identifier: MIT */
/*
 * Runner for tests/cases/parse/NAME.cases: log lines in, events and rejects out.
 *
 * A case:
 *   opt: format=csvlog tz=+05:30   options (format defaults to auto)
 *   < <physical line>              input, one line each (case_unescape: \n \t \r \0 \xHH);
 *                                  "<" alone is an empty line, "<|" ends the input
 *                                  without a final newline
 *   <= <physical line>             input taken as it is (JSON with backslashes)
 *   > key=value key="text" ...     the next event has these fields (others unchecked;
 *                                  values as pt_render() writes them); "> -key" means
 *                                  the field is absent
 *   ! reason                       one reject with this reason (in any order)
 *   = events=N rejects=N foreign=N blank=N invalid_utf8=N    totals (optional)
 * The number of events must equal the number of ">" lines, the number of rejects the
 * number of "!" lines, and the accounting invariant (parse.h) must hold.
 */
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "parsetest.h"

/* Next token of an expectation line: key=value, the value possibly "quoted with \"". */
static const char *next_token(const char *s, struct sbuf *tok)
{
    sbuf_reset(tok);
    while (*s == ' ')
        s++;
    if (!*s)
        return NULL;
    bool q = false;
    for (; *s && (q || *s != ' '); s++) {
        if (q && *s == '\\' && s[1]) {
            if (sbuf_addch(tok, *s) < 0 || sbuf_addch(tok, s[1]) < 0)
                return NULL;
            s++;
            continue;
        }
        if (*s == '"')
            q = !q;
        if (sbuf_addch(tok, *s) < 0)
            return NULL;
    }
    return s;
}

/* Does the rendered event have the token (" key=value" followed by space or end)? */
static bool has_token(const char *ev, const char *tok)
{
    size_t n = strlen(tok);
    for (const char *p = ev; (p = strstr(p, tok)); p++) {
        if ((p == ev || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return true;
    }
    return false;
}

static bool has_key(const char *ev, const char *key)
{
    size_t n = strlen(key);
    for (const char *p = ev; (p = strstr(p, key)); p++)
        if ((p == ev || p[-1] == ' ') && p[n] == '=')
            return true;
    return false;
}

static bool total_ok(const struct case_block *b, size_t i, const char *tok,
                     const struct parse_stats *st)
{
    static const struct {
        const char *name;
        size_t off;
    } keys[] = {
        { "events", offsetof(struct parse_stats, events) },
        { "rejects", offsetof(struct parse_stats, rejects) },
        { "foreign", offsetof(struct parse_stats, foreign_lines) },
        { "blank", offsetof(struct parse_stats, blank_lines) },
        { "lines", offsetof(struct parse_stats, lines) },
        { "invalid_utf8", offsetof(struct parse_stats, invalid_utf8) },
        { "truncated", offsetof(struct parse_stats, truncated) },
        { "reject_lines", offsetof(struct parse_stats, reject_lines) },
    };
    const char *eq = strchr(tok, '=');
    for (size_t k = 0; eq && k < sizeof(keys) / sizeof(keys[0]); k++) {
        if (strlen(keys[k].name) == (size_t)(eq - tok) && !strncmp(tok, keys[k].name, eq - tok)) {
            uint64_t got = *(const uint64_t *)((const char *)st + keys[k].off);
            if (got != strtoull(eq + 1, NULL, 10)) {
                case_fail(b, i, "%s: got %llu", tok, (unsigned long long)got);
                return false;
            }
            return true;
        }
    }
    case_fail(b, i, "unknown total '%s'", tok);
    return false;
}

static int handle(const struct case_block *b)
{
    struct sbuf input = SBUF_INIT, line = SBUF_INIT, tok = SBUF_INIT, out = SBUF_INIT;
    struct sbuf fmt = SBUF_INIT, tz = SBUF_INIT;
    struct parser_opts o = { 0 };
    size_t nexpect = 0, nreject = 0;
    int rc = 0;

    for (size_t i = 0; i < b->n; i++) {
        const struct case_line *l = &b->lines[i];
        if (l->text[0] == '<') {
            if (l->len == 2 && l->text[1] == '|') {
                if (input.len && input.buf[input.len - 1] == '\n')
                    sbuf_setlen(&input, input.len - 1);
                continue;
            }
            bool raw = l->len > 1 && l->text[1] == '=';
            const char *t = l->len > 2 ? l->text + (raw ? 3 : 2) : "";
            if (raw) {
                sbuf_reset(&line);
                if (sbuf_addstr(&line, t) < 0)
                    goto out;
            } else if (case_unescape(t, strlen(t), &line) < 0) {
                case_fail(b, i, "bad escape");
                rc = -1;
                goto out;
            }
            if (sbuf_addspan(&input, sbuf_span(&line)) < 0 || sbuf_addch(&input, '\n') < 0)
                goto out;
        } else if (!strncmp(l->text, "opt:", 4)) {
            for (const char *s = l->text + 4; (s = next_token(s, &tok));) {
                if (!strncmp(tok.buf, "format=", 7))
                    rc |= sbuf_addstr(&fmt, tok.buf + 7);
                else if (!strncmp(tok.buf, "tz=", 3))
                    rc |= sbuf_addstr(&tz, tok.buf + 3);
                else
                    case_fail(b, i, "unknown option '%s'", tok.buf);
            }
        } else if (l->text[0] == '>') {
            nexpect++;
        } else if (l->text[0] == '!') {
            nreject++;
        } else if (l->text[0] != '=') {
            case_fail(b, i, "unknown case line (expected opt:, <, >, !, =)");
        }
    }
    if (fmt.len)
        o.format = fmt.buf;
    if (tz.len)
        o.tz = tz.buf;
    struct parser *p = pt_run(input.buf, input.len, &o, &out);
    if (!p) {
        case_fail(b, 0, "parser_new failed");
        rc = -1;
        goto out;
    }
    const struct parse_stats *st = parser_stats(p);
    if (!pt_balanced(st))
        case_fail(b, 0, "accounting invariant broken: lines %llu", (unsigned long long)st->lines);
    if (st->events != nexpect)
        case_fail(b, 0, "%llu events, %zu expected:\n%s", (unsigned long long)st->events, nexpect,
                  out.buf);
    if (st->rejects != nreject) {
        case_fail(b, 0, "%llu rejects, %zu expected", (unsigned long long)st->rejects, nreject);
        for (size_t r = 0; r < st->nreasons; r++)
            fprintf(stderr, "    reject: %s (%llu)%s%s\n", st->reasons[r].reason,
                    (unsigned long long)st->reasons[r].records,
                    st->reasons[r].samples[0].detail ? ": " : "",
                    st->reasons[r].samples[0].detail ? st->reasons[r].samples[0].detail : "");
    }
    /* Events in order. */
    const char *ev = out.buf;
    for (size_t i = 0; i < b->n; i++) {
        const struct case_line *l = &b->lines[i];
        if (l->text[0] == '!') {
            const char *want = l->text + 2;
            bool found = false;
            for (size_t r = 0; r < st->nreasons; r++)
                found |= !strcmp(st->reasons[r].reason, want);
            if (!found)
                case_fail(b, i, "no reject with reason '%s'", want);
            continue;
        }
        if (l->text[0] == '=') {
            for (const char *s = l->text + 1; (s = next_token(s, &tok));)
                total_ok(b, i, tok.buf, st);
            continue;
        }
        if (l->text[0] != '>')
            continue;
        if (!ev || !*ev) {
            case_fail(b, i, "no event left");
            continue;
        }
        const char *nl = strchr(ev, '\n');
        char *one = strndup(ev, (size_t)(nl - ev));
        ev = nl + 1;
        for (const char *s = l->text + 1; (s = next_token(s, &tok));) {
            if (tok.buf[0] == '-') {
                if (has_key(one, tok.buf + 1))
                    case_fail(b, i, "field '%s' present in: %s", tok.buf + 1, one);
            } else if (!has_token(one, tok.buf)) {
                case_fail(b, i, "expected %s in: %s", tok.buf, one);
            }
        }
        free(one);
    }
    parser_free(p);
out:
    sbuf_release(&input);
    sbuf_release(&line);
    sbuf_release(&tok);
    sbuf_release(&out);
    sbuf_release(&fmt);
    sbuf_release(&tz);
    return rc;
}

int main(int argc, char **argv)
{
    return cases_main(argc, argv, handle);
}
