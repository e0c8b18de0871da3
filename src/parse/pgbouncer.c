/* SPDX-License-Identifier: MIT */
/*
 * pgbouncer.c - recognise pgbouncer's own log so that it is not mistaken for a
 * PostgreSQL log: "2018-09-12 16:08:54.775 3392 LOG C-0x...: ..." (1.9) or
 * "2023-12-19 03:06:13.586 CET [10384] LOG C-0x...: ..." (1.21). The level is followed
 * by a space, never by PostgreSQL's ':', so no stderr prefix matches these lines anyway;
 * this entry exists so that detection names the file for what it is. Every line is
 * counted as a foreign line: there are no PostgreSQL records in it, and the "nothing
 * parsed" diagnosis says why (exit 3).
 */
#include <string.h>

#include "parse/parse_int.h"

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* "<YYYY-MM-DD HH:MM:SS.mmm>[ ZONE] <pid>|[<pid>] <LEVEL> " */
static bool pgbouncer_line(struct span l)
{
    static const char *const levels[] = { "LOG ",   "WARNING ", "ERROR ", "FATAL ",
                                          "NOISE ", "DEBUG ",   "INFO " };
    if (l.len < 30 || l.p[4] != '-' || l.p[10] != ' ' || l.p[19] != '.')
        return false;
    int64_t us;
    int frac;
    struct pgtime_tz any = { true, 0 };
    if (pgtime_parse(span_make(l.p, 23), &any, &us, &frac, NULL) != PGTIME_OK)
        return false;
    size_t i = 23;
    if (i < l.len && l.p[i] == ' ' && i + 1 < l.len && !is_digit(l.p[i + 1]) &&
        l.p[i + 1] != '[') { /* a zone */
        i++;
        while (i < l.len && l.p[i] != ' ')
            i++;
    }
    if (i >= l.len || l.p[i] != ' ')
        return false;
    i++;
    bool br = i < l.len && l.p[i] == '[';
    i += br;
    size_t d = i;
    while (i < l.len && is_digit(l.p[i]))
        i++;
    if (i == d || (br && (i >= l.len || l.p[i++] != ']')) || i >= l.len || l.p[i] != ' ')
        return false;
    i++;
    for (size_t k = 0; k < ARRAY_SIZE(levels); k++) {
        size_t n = strlen(levels[k]);
        if (l.len - i >= n && !memcmp(l.p + i, levels[k], n))
            return true;
    }
    return false;
}

static size_t pgbouncer_sniff(const struct sniff_input *in, struct sbuf *note)
{
    size_t n = 0;
    (void)note;
    for (size_t i = 0; i < in->n; i++)
        n += pgbouncer_line(in->lines[i]);
    return n;
}

static void pgbouncer_line_fn(struct parser *p, void *state, const struct input_line *ln)
{
    (void)state;
    if (ln->text.len == 0)
        parser_blank(p);
    else
        parser_foreign(p);
}

const struct log_format fmt_pgbouncer = {
    .name = "pgbouncer",
    .description = "pgbouncer's own log: recognised so it is not taken for PostgreSQL's; "
                   "every line is counted as foreign",
    .hint = "this is a pgbouncer log, not a PostgreSQL server log: it has no PostgreSQL "
            "records (point pgsift at the server's log instead)",
    .no_records = true,
    .sniff = pgbouncer_sniff,
    .line = pgbouncer_line_fn,
};
