/* SPDX-License-Identifier: MIT */
/*
 * redact.c - literal values out of free text (error messages, DETAIL lines, rejected log
 * lines) for tenant-safe reports.
 *
 * PostgreSQL quotes values in single quotes ('bob@example.com'), in double quotes after
 * a colon (invalid input syntax for type integer: "abc") and in parentheses after "="
 * (Key (email)=(bob@example.com) already exists) or "row contains". Object names are in
 * double quotes after a word that says what they are (relation "users"); those are
 * schema, not tenant data, and stay. Numbers (pids, transaction ids, values) become '?',
 * which also makes messages that differ only by a number group together.
 *
 * The text first goes through the store's own redaction (normalize.h, redact_message()),
 * which the texts of a store ingested with --keep-literals never had: values holding a
 * ')' or a '"', statements quoted in deadlock details with comments or dollar quotes.
 * On a text the store redacted it changes nothing.
 */
#include <stdbool.h>
#include <string.h>

#include "normalize/normalize.h"
#include "report/report.h"

static const char *const object_words[] = {
    "relation",     "column",   "constraint", "index",     "table",      "function",
    "schema",       "database", "role",       "user",      "type",       "sequence",
    "view",         "trigger",  "operator",   "extension", "tablespace", "publication",
    "subscription", "cursor",   "statement",  "savepoint", "domain",     "collation",
    "policy",       "rule",     "aggregate",  "procedure", "server",     "slot",
    "portal",       "channel",  "parameter",  "attribute", "class",      "language",
};

static bool is_word(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           (unsigned char)c >= 0x80;
}

/* Is the word before position @i (skipping blanks) an object word? */
static bool after_object_word(struct span t, size_t i)
{
    size_t e = i;
    while (e > 0 && t.p[e - 1] == ' ')
        e--;
    size_t b = e;
    while (b > 0 && is_word(t.p[b - 1]))
        b--;
    struct span w = span_make(t.p + b, e - b);
    for (size_t k = 0; k < ARRAY_SIZE(object_words); k++)
        if (span_eq_icase(w, span_cstr(object_words[k])))
            return true;
    return false;
}

/* End of a quoted run starting at the quote t.p[i] (doubled quotes are escapes). */
static size_t quoted_end(struct span t, size_t i)
{
    char q = t.p[i];
    size_t j = i + 1;
    while (j < t.len) {
        if (t.p[j] == q) {
            if (j + 1 < t.len && t.p[j + 1] == q) {
                j += 2;
                continue;
            }
            return j + 1;
        }
        j++;
    }
    return t.len;
}

/* Matching ')' for the '(' at i, or t.len. */
static size_t paren_end(struct span t, size_t i)
{
    int depth = 0;
    for (size_t j = i; j < t.len; j++) {
        if (t.p[j] == '\'' || t.p[j] == '"') {
            j = quoted_end(t, j) - 1;
            continue;
        }
        if (t.p[j] == '(')
            depth++;
        else if (t.p[j] == ')' && --depth == 0)
            return j + 1;
    }
    return t.len;
}

static bool ends_with_ci(struct span t, size_t i, const char *lit)
{
    size_t n = strlen(lit);
    while (i > 0 && t.p[i - 1] == ' ')
        i--;
    return i >= n && span_eq_icase(span_make(t.p + i - n, n), span_make(lit, n));
}

static int redact_values(struct sbuf *out, struct span t);

int report_redact(struct sbuf *out, struct span t)
{
    struct sbuf pre = SBUF_INIT;
    int rc = redact_message(&pre, t);
    if (rc == 0 && pre.len)
        rc = redact_values(out, sbuf_span(&pre));
    sbuf_release(&pre);
    return rc;
}

static int redact_values(struct sbuf *out, struct span t)
{
    size_t run = 0;

    for (size_t i = 0; i < t.len;) {
        char c = t.p[i];
        const char *rep = NULL;
        size_t next = i + 1;

        if (c == '\'') {
            next = quoted_end(t, i);
            rep = "'?'";
        } else if (c == '"') {
            next = quoted_end(t, i);
            if (!after_object_word(t, i))
                rep = "\"?\"";
        } else if (c == '(' && ((i > 0 && t.p[i - 1] == '=') || ends_with_ci(t, i, "contains"))) {
            next = paren_end(t, i);
            rep = "(?)";
        } else if (c >= '0' && c <= '9' && (i == 0 || !is_word(t.p[i - 1]))) {
            while (next < t.len && ((t.p[next] >= '0' && t.p[next] <= '9') ||
                                    (t.p[next] == '.' && next + 1 < t.len && t.p[next + 1] >= '0' &&
                                     t.p[next + 1] <= '9')))
                next++;
            if (next < t.len && is_word(t.p[next])) {
                /* Part of a word ("2nd", "0x1f", "10ms"): a value all the same. */
                while (next < t.len && is_word(t.p[next]))
                    next++;
            }
            rep = "?";
        } else if (c >= '0' && c <= '9') {
            /* Digits inside a word (an identifier such as "t1"): kept. */
            while (next < t.len && is_word(t.p[next]))
                next++;
        }
        if (rep) {
            if (sbuf_add(out, t.p + run, i - run) < 0 || sbuf_addstr(out, rep) < 0)
                return -1;
            run = next;
        }
        i = next;
    }
    return sbuf_add(out, t.p + run, t.len - run);
}
