/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <string.h>

#include "core/escape.h"
#include "core/utf8.h"

static const char hex[] = "0123456789abcdef";

/* The code point at s.p[i]; *n is its length. Bytes that do not decode are reported
 * as one byte with *bad set (the caller writes U+FFFD), distinct from a real U+FFFD in
 * the input. */
static uint32_t next_cp(struct span s, size_t i, size_t *n, int *bad)
{
    uint32_t cp;

    *n = utf8_decode((const unsigned char *)s.p + i, s.len - i, &cp);
    *bad = *n == 0;
    if (*bad) {
        *n = 1;
        cp = UTF8_REPLACEMENT;
    }
    return cp;
}

static int add_cp(struct sbuf *sb, uint32_t cp)
{
    char u[4];
    return sbuf_add(sb, u, utf8_encode(cp, u));
}

static int add_u(struct sbuf *sb, uint32_t cp)
{
    char u[6] = { '\\',        'u', hex[(cp >> 12) & 15], hex[(cp >> 8) & 15], hex[(cp >> 4) & 15],
                  hex[cp & 15] };
    return sbuf_add(sb, u, sizeof(u));
}

int escape_json(struct sbuf *sb, struct span s, unsigned flags)
{
    const int script = flags & ESCAPE_JSON_SCRIPT;
    size_t run = 0; /* start of the pending run of bytes to copy as they are */

    for (size_t i = 0, n; i < s.len; i += n) {
        /* Fast path: plain printable ASCII is copied as part of the run. */
        const unsigned char c = (unsigned char)s.p[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\' &&
            !(script && (c == '<' || c == '>' || c == '&' || c == '/'))) {
            n = 1;
            continue;
        }
        int bad;
        uint32_t cp = next_cp(s, i, &n, &bad);
        const char *rep = NULL;
        int r = 0;
        int plain = !bad && cp >= 0x20 && cp != '"' && cp != '\\' &&
                    !(script && (cp == '<' || cp == '>' || cp == '&' || cp == '/' || cp == 0x2028 ||
                                 cp == 0x2029));
        if (plain)
            continue;
        if (sbuf_add(sb, s.p + run, i - run) < 0)
            return -1;
        run = i + n;
        switch (cp) {
        case '"': rep = "\\\""; break;
        case '\\': rep = "\\\\"; break;
        case '\n': rep = "\\n"; break;
        case '\r': rep = "\\r"; break;
        case '\t': rep = "\\t"; break;
        case '\b': rep = "\\b"; break;
        case '\f': rep = "\\f"; break;
        case '/': rep = "\\/"; break;
        default: break;
        }
        r = rep ? sbuf_addstr(sb, rep) : add_u(sb, cp); /* bad bytes: \ufffd */
        if (r < 0)
            return -1;
    }
    return sbuf_add(sb, s.p + run, s.len - run);
}

int escape_json_string(struct sbuf *sb, struct span s)
{
    if (!s.p)
        return sbuf_addstr(sb, "null");
    if (sbuf_addch(sb, '"') < 0 || escape_json(sb, s, 0) < 0)
        return -1;
    return sbuf_addch(sb, '"');
}

int escape_html(struct sbuf *sb, struct span s)
{
    size_t run = 0;

    for (size_t i = 0, n; i < s.len; i += n) {
        int bad;
        uint32_t cp = next_cp(s, i, &n, &bad);
        const char *rep;
        switch (cp) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        case '\t':
        case '\n':
        case '\r': continue;
        default: {
            /* C0 and C1 controls and DEL are not allowed in HTML text: U+FFFD, as for
             * bad bytes. The bidirectional controls, which would reorder what a reader
             * sees of the rest of the cell (pgsift's own text included), become a space,
             * as in escape_md(). */
            bool bidi = cp > 0x9f && utf8_is_control(cp);
            if (!bad && !bidi && !utf8_is_control(cp))
                continue;
            rep = !bad && bidi ? " " : NULL;
        }
        }
        if (sbuf_add(sb, s.p + run, i - run) < 0)
            return -1;
        run = i + n;
        if ((rep ? sbuf_addstr(sb, rep) : add_cp(sb, UTF8_REPLACEMENT)) < 0)
            return -1;
    }
    return sbuf_add(sb, s.p + run, s.len - run);
}

static int is_word_byte(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

int escape_md(struct sbuf *sb, struct span s)
{
    size_t run = 0;

    for (size_t i = 0, n; i < s.len; i += n) {
        int bad;
        uint32_t cp = next_cp(s, i, &n, &bad);
        const char *rep;
        switch (cp) {
        /* Table structure and inline markup: a cell must stay one cell of plain text. */
        case '|': rep = "\\|"; break;
        case '\\': rep = "\\\\"; break;
        case '`': rep = "\\`"; break;
        case '*': rep = "\\*"; break;
        case '_': rep = "\\_"; break;
        case '[': rep = "\\["; break;
        case ']': rep = "\\]"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '&': rep = "&amp;"; break;
        case '\n':
        case '\r':
        case '\t': rep = " "; break;
        /* Autolinks and mentions: GitHub turns "@name" into a notification and bare
         * "http://x", "www.x" and "a@b.c" into links. A log's text stays text. */
        case '@': rep = "\\@"; break;
        case ':':
            if (i + 2 >= s.len || s.p[i + 1] != '/' || s.p[i + 2] != '/')
                continue;
            rep = "\\:";
            break;
        case '.':
            if (i < 3 || memcmp(s.p + i - 3, "www", 3) != 0 ||
                (i > 3 && is_word_byte((unsigned char)s.p[i - 4])))
                continue;
            rep = "\\.";
            break;
        default: {
            /* C0 and C1 controls, DEL and undecodable bytes become U+FFFD; line
             * separators and the bidirectional controls (which reorder what a reader
             * sees of the rest of the line) a space. */
            bool sep = cp == 0x2028 || cp == 0x2029 || (cp > 0x9f && utf8_is_control(cp));
            if (!bad && !sep && !utf8_is_control(cp))
                continue;
            rep = !bad && sep ? " " : NULL;
        }
        }
        if (sbuf_add(sb, s.p + run, i - run) < 0)
            return -1;
        run = i + n;
        if ((rep ? sbuf_addstr(sb, rep) : add_cp(sb, UTF8_REPLACEMENT)) < 0)
            return -1;
    }
    return sbuf_add(sb, s.p + run, s.len - run);
}

int escape_csv(struct sbuf *sb, struct span s)
{
    int quote = 0;

    for (size_t i = 0; i < s.len && !quote; i++)
        quote = s.p[i] == '"' || s.p[i] == ',' || s.p[i] == '\n' || s.p[i] == '\r';
    /* Cells starting with = + - @ are formulas to spreadsheet programs; quote them
     * too and prefix a ' so a log line can never run as a formula (CSV injection).
     * Signed numbers stay as they are, and so does a cell of nothing but digits, signs,
     * '.', 'e', ':' and spaces ("-8745...:120 42:3", a statement's query_ids and calls):
     * it can call no function, and a ' would change the data. */
    int formula = s.len && (s.p[0] == '=' || s.p[0] == '+' || s.p[0] == '-' || s.p[0] == '@');
    if (formula && (s.p[0] == '-' || s.p[0] == '+')) {
        formula = 0;
        for (size_t i = 0; i < s.len && !formula; i++)
            formula = !strchr("0123456789+-.eE: ", s.p[i]) || !s.p[i];
    }
    if ((quote || formula) && sbuf_addch(sb, '"') < 0)
        return -1;
    if (formula && sbuf_addch(sb, '\'') < 0)
        return -1;
    for (size_t i = 0, n; i < s.len; i += n) {
        int bad;
        uint32_t cp = next_cp(s, i, &n, &bad);
        int r;
        if (cp == '"')
            r = sbuf_addstr(sb, "\"\"");
        else if (bad)
            r = add_cp(sb, UTF8_REPLACEMENT);
        else
            r = sbuf_add(sb, s.p + i, n);
        if (r < 0)
            return -1;
    }
    if ((quote || formula) && sbuf_addch(sb, '"') < 0)
        return -1;
    return 0;
}
