/* SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "normalize/normalize.h"

#define ELLIPSIS "\xe2\x80\xa6" /* U+2026 */

static bool is_ident_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static bool is_ident_char(unsigned char c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool at_n(struct span s, size_t i, const char *lit, size_t n)
{
    return i + n <= s.len && memcmp(s.p + i, lit, n) == 0;
}

/* @lit is a string literal: its length is known at compile time. */
#define at(s, i, lit) at_n((s), (i), ("" lit), sizeof(lit) - 1)

/* The bytes redact_line() looks at: the first bytes of "parameters: ", "Key (",
 * "Failing row contains (", ")=(" (a key's values in any language), the quotes and ':'
 * (the end of "statement: "). */
static const unsigned char msg_special[256] = {
    ['p'] = 1, ['K'] = 1, ['F'] = 1, ['\''] = 1, ['"'] = 1, [':'] = 1, [')'] = 1,
};

/* "Failing row contains %s." in the languages PostgreSQL 15 ships (postgres-15.mo:
 * de, es, fr, it, ja, ka, ko, ru, sv, uk, zh_CN), up to the row's "(": a DETAIL that
 * starts with one of them holds the row's values. */
static const char *const failing_row[] = {
    "Fehlgeschlagene Zeile enthält (",
    "La fila que falla contiene (",
    "La ligne en échec contient (",
    "La riga in errore contiene (",
    "失敗した行は(",
    "შეცდომიანი მწკრივი \"(",
    "실패한 자료: (",
    "Ошибочная строка содержит (",
    "Misslyckande rad innehåller (",
    "Помилковий рядок містить (",
    "失败, 行包含(",
};

/* The first index in [i, end) of a msg_special byte, or end. Messages are mostly
 * ordinary words: 16 bytes a step where SSE2 is there. */
static size_t next_special(const char *p, size_t i, size_t end)
{
#if defined(__SSE2__)
    const __m128i vp = _mm_set1_epi8('p'), vk = _mm_set1_epi8('K'), vf = _mm_set1_epi8('F'),
                  vq = _mm_set1_epi8('\''), vd = _mm_set1_epi8('"'), vc = _mm_set1_epi8(':'),
                  vr = _mm_set1_epi8(')');
    while (end - i >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, vp), _mm_cmpeq_epi8(v, vk)),
                                 _mm_or_si128(_mm_cmpeq_epi8(v, vf), _mm_cmpeq_epi8(v, vq)));
        m = _mm_or_si128(m, _mm_or_si128(_mm_cmpeq_epi8(v, vd), _mm_cmpeq_epi8(v, vc)));
        m = _mm_or_si128(m, _mm_cmpeq_epi8(v, vr));
        unsigned mask = (unsigned)_mm_movemask_epi8(m);
        if (mask)
            return i + (size_t)__builtin_ctz(mask);
        i += 16;
    }
#endif
    while (i < end && !msg_special[(unsigned char)p[i]])
        i++;
    return i;
}

/* ---- SQL ---- */

/* End of a quoted string starting at the quote at i ('' doubles). Returns the index after
 * the closing quote, or s.len if unterminated (*closed tells which). */
static size_t skip_quoted_c(struct span s, size_t i, char q, bool *closed)
{
    *closed = true;
    for (size_t j = i + 1; j < s.len; j++) {
        if (s.p[j] == q) {
            if (j + 1 < s.len && s.p[j + 1] == q) {
                j++;
                continue;
            }
            return j + 1;
        }
    }
    *closed = false;
    return s.len;
}

/* The end of the parameter list at @i ("$1 = 'v', $2 = NULL" of the extended protocol,
 * "x = 'v'" of PL/pgSQL's print_strict_params: values quoted with '' doubled, and a value
 * may hold newlines), or the end of the text when what follows is not one: all of it is
 * then data. */
static size_t params_end(struct span s, size_t i)
{
    for (;;) {
        size_t name = i;
        while (i < s.len && is_ident_char((unsigned char)s.p[i]))
            i++;
        if (i == name)
            return s.len;
        if (!at(s, i, " = "))
            return s.len;
        i += 3;
        if (at(s, i, "NULL")) {
            i += 4;
        } else if (i < s.len && s.p[i] == '\'') {
            bool closed;
            i = skip_quoted_c(s, i, '\'', &closed);
            if (!closed)
                return s.len;
        } else {
            return s.len;
        }
        if (!at(s, i, ", "))
            return i;
        i += 2;
    }
}

/*
 * The statement redactor is normalize_redact() (the lexer and role pass of
 * normalize.c), in the layout-keeping mode: comments and unary minus signs stay as
 * written, TRUE/FALSE/NULL stay, type modifiers and ORDER BY positions are not values.
 * A normalizer per call: statements quoted in messages (deadlock details) are rare.
 */
int redact_sql(struct sbuf *out, struct span s)
{
    struct normalizer *nz = normalize_new(NULL);
    int rc = normalize_redact(nz, s, REDACT_STRINGS | REDACT_NUMBERS | REDACT_VERBATIM, 0, out);
    normalize_free(nz);
    return rc ? -1 : 0;
}

/* ---- messages ---- */

/* The last ')' on the line [from, eol), or -1. */
static long last_paren(struct span s, size_t from, size_t eol)
{
    for (size_t j = eol; j > from; j--)
        if (s.p[j - 1] == ')')
            return (long)(j - 1);
    return -1;
}

static bool process_prefix(struct span line, size_t *len)
{
    /* "Process 1234: " (deadlock DETAIL lines that quote a statement) */
    if (!span_starts_with_lit(line, "Process "))
        return false;
    size_t j = 8;
    while (j < line.len && is_digit((unsigned char)line.p[j]))
        j++;
    if (j == 8 || !at(line, j, ": "))
        return false;
    *len = j + 2;
    return true;
}

/* The ':' at @i ends a statement log marker - "statement: ", "execute <name>: ",
 * "parse <name>: ", "bind <name>: " (a raw log line kept as a reject sample, a message
 * quoting one): the SQL after it is data. */
static bool sql_marker(struct span s, size_t i)
{
    if (!at(s, i, ": "))
        return false;
    if (i >= 9 && !memcmp(s.p + i - 9, "statement", 9))
        return true;
    size_t n = i; /* the name: "<unnamed>", "S_1", "P_0/C_1" */
    while (n > 0 && s.p[n - 1] != ' ' && s.p[n - 1] != '\n')
        n--;
    if (n == i)
        return false;
    return (n >= 8 && !memcmp(s.p + n - 8, "execute ", 8)) ||
           (n >= 6 && !memcmp(s.p + n - 6, "parse ", 6)) ||
           (n >= 5 && !memcmp(s.p + n - 5, "bind ", 5));
}

/* Whether the quote at s[i] is an elided word's apostrophe in a translated message (French
 * "d'une", "l'index", "qu'il", Italian "dell'indice"): one to five lower-case letters, or
 * one of L D C J M S T (not the E, N, B, X and U of SQL's E'...', N'...', B'...', X'...'
 * and U&'...'), after a non-letter, and a letter (or a UTF-8 byte) after the quote. */
static bool elision(struct span s, size_t i, size_t eol)
{
    if (i == 0 || i + 1 >= eol)
        return false;
    unsigned char after = (unsigned char)s.p[i + 1];
    if (!((after >= 'a' && after <= 'z') || (after >= 'A' && after <= 'Z') || after >= 0x80))
        return false;
    size_t n = 0;
    while (n < i && n <= 5 && s.p[i - 1 - n] >= 'a' && s.p[i - 1 - n] <= 'z')
        n++;
    size_t start = i - n;
    if (n == 0 && strchr("LDCJMST", s.p[i - 1]) && s.p[i - 1] != '\0')
        n = 1, start = i - 1;
    if (n == 0 || n > 5)
        return false;
    unsigned char before = start ? (unsigned char)s.p[start - 1] : ' ';
    return !((before >= 'a' && before <= 'z') || (before >= 'A' && before <= 'Z') ||
             before >= 0x80);
}

/* Whether the line after the one ending at @eol is blanks and a '^' alone: libxml's mark
 * under the error in the input line it echoes (the DETAIL of XML parse errors: "line 1:
 * Opening and ending tag mismatch: a line 1 and b", the document's line, the mark). */
static bool caret_follows(struct span s, size_t eol)
{
    size_t j = eol + 1;
    if (eol >= s.len)
        return false;
    while (j < s.len && s.p[j] == ' ')
        j++;
    return j < s.len && s.p[j] == '^' && (j + 1 == s.len || s.p[j + 1] == '\n');
}

/* Whether the line [i, eol) holds a statement log marker (sql_marker()). A text's first
 * line that does ("LOG:  statement: ...", a raw line kept as a reject sample) is SQL,
 * redacted as such even when its next line is a '^' alone (SQL's exponent operator); a
 * document line under "line N: ..." (libxml's DETAIL, never a text's first line) is data
 * whatever it holds. */
static bool line_has_sql_marker(struct span s, size_t i, size_t eol)
{
    for (size_t j = i; j < eol; j++)
        if (s.p[j] == ':' && sql_marker(s, j))
            return true;
    return false;
}

/* Every append other than a copied run (FLUSH) and the newline clears *same. */
static int redact_line(struct sbuf *out, struct span s, size_t i, size_t eol, size_t *next,
                       bool *same)
{
    struct span line = span_make(s.p + i, eol - i);
    size_t plen;

    if (line.len && (i == 0 || s.p[i - 1] == '\n') && caret_follows(s, eol) &&
        (i > 0 || !line_has_sql_marker(s, i, eol))) {
        *same = false; /* the document's text: data */
        if (sbuf_addstr(out, ELLIPSIS) < 0)
            return -1;
        *next = eol;
        return 0;
    }

    if (process_prefix(line, &plen)) {
        /* The statement runs on over the next lines (a multi-line statement) up to the
         * next "Process N" line or the end of the text. */
        size_t end = eol;
        while (end < s.len) {
            size_t l = end + 1;
            if (at(s, l, "Process ") && l + 8 < s.len && is_digit((unsigned char)s.p[l + 8]))
                break;
            long e = span_find_char(s, l, '\n');
            end = e < 0 ? s.len : (size_t)e;
        }
        *same = false;
        if (sbuf_add(out, line.p, plen) < 0 ||
            redact_sql(out, span_make(line.p + plen, end - i - plen)) < 0)
            return -1;
        *next = end;
        return 0;
    }
    /* "JSON data, line N: <the input up to the bad token>" (the CONTEXT of a json/jsonb
     * input error): the rest of the line is data. */
    if (span_starts_with_lit(line, "JSON data, line ")) {
        size_t j = 16;
        while (j < line.len && is_digit((unsigned char)line.p[j]))
            j++;
        if (j > 16 && at(line, j, ": ")) {
            *same = false;
            if (sbuf_add(out, line.p, j + 2) < 0 || sbuf_addstr(out, ELLIPSIS) < 0)
                return -1;
            *next = eol;
            return 0;
        }
    }
    /* PL/pgSQL error contexts quote the SQL that failed (spi.c): dynamic SQL run with
     * EXECUTE holds the values written into it. The quoted text may span lines and hold
     * '"' (quoted names): it ends at the last '"' that ends a line before the next
     * "PL/pgSQL function" line of the context (or the end of the text). */
#define CTX(lit)             \
    {                        \
        lit, sizeof(lit) - 1 \
    }
    static const struct {
        const char *text;
        size_t len;
    } sql_ctx[] = { CTX("SQL statement \""), CTX("PL/pgSQL expression \""),
                    CTX("PL/pgSQL assignment \"") };
#undef CTX
    bool may_ctx = line.len && (line.p[0] == 'S' || line.p[0] == 'P'); /* their first bytes */
    for (size_t c = 0; may_ctx && c < ARRAY_SIZE(sql_ctx); c++) {
        size_t plen2 = sql_ctx[c].len;
        if (line.len < plen2 || memcmp(line.p, sql_ctx[c].text, plen2) != 0)
            continue;
        size_t limit = eol;
        while (limit < s.len && !at(s, limit + 1, "PL/pgSQL function ")) {
            long e = span_find_char(s, limit + 1, '\n');
            limit = e < 0 ? s.len : (size_t)e;
        }
        size_t open = i + plen2, q = limit;
        while (q > open && !(s.p[q - 1] == '"' && (q == s.len || s.p[q] == '\n')))
            q--;
        if (q == open)
            break; /* no closing quote: the ordinary rules below */
        *same = false;
        if (sbuf_add(out, line.p, plen2) < 0 ||
            redact_sql(out, span_make(s.p + open, q - 1 - open)) < 0 || sbuf_addch(out, '"') < 0)
            return -1;
        *next = q;
        return 0;
    }
    /* A translated "Failing row contains (...)": the row's values, to the last ')' (of the
     * line, else of the text: values may hold newlines). */
    unsigned char c0 = i < eol ? (unsigned char)s.p[i] : 0;
    bool may_fail_row = c0 == 'F' || c0 == 'L' || c0 == 'M' || c0 >= 0x80; /* their first bytes */
    for (size_t f = 0; may_fail_row && f < ARRAY_SIZE(failing_row); f++) {
        size_t flen = strlen(failing_row[f]), open = i + flen;
        if (!at_n(s, i, failing_row[f], flen))
            continue;
        long close = last_paren(s, open, eol);
        if (close < (long)open)
            close = last_paren(s, open, s.len);
        *same = false;
        if (sbuf_add(out, s.p + i, flen) < 0 ||
            sbuf_addstr(out, close < (long)open ? ELLIPSIS : ELLIPSIS ")") < 0)
            return -1;
        *next = close < (long)open ? s.len : (size_t)close + 1;
        return 0;
    }
    /* Ordinary bytes are copied in runs: [run, i) is pending output. */
    size_t run = i;
#define FLUSH()                                               \
    do {                                                      \
        if (i > run && sbuf_add(out, s.p + run, i - run) < 0) \
            return -1;                                        \
    } while (0)
    while (i < eol) {
        i = next_special(s.p, i, eol);
        if (i >= eol)
            break;
        unsigned char c = (unsigned char)s.p[i];
        if (c == ':') {
            if (!sql_marker(s, i)) {
                i++;
                continue;
            }
            /* the statement runs to the end of the text (it may span lines) */
            i += 2;
            FLUSH();
            *same = false;
            if (redact_sql(out, span_make(s.p + i, s.len - i)) < 0)
                return -1;
            *next = s.len;
            return 0;
        }
        if (c == 'p') {
            if (at(s, i, "parameters: ")) {
                FLUSH();
                *same = false;
                if (sbuf_addstr(out, "parameters: " ELLIPSIS) < 0)
                    return -1;
                /* to the end of the list: a value may run over lines */
                size_t end = params_end(s, i + strlen("parameters: "));
                *next = end > eol ? end : eol;
                return 0;
            }
            i++;
            continue;
        }
        if ((c == 'K' && at(s, i, "Key (")) || (c == 'F' && at(s, i, "Failing row contains (")) ||
            (c == ')' && (at(s, i, ")=(") || at(s, i, ") = (")))) {
            size_t open;
            if (c == 'K') {
                long eq = span_find(span_make(s.p, eol), i, SPAN_LIT(")=("));
                open = eq < 0 ? 0 : (size_t)eq + 3;
            } else if (c == ')') {
                /* "(cols)=(values)": the key's words in any language; "(cols) = (values)":
                 * "Partition key of the failing row contains (k) = (v)." */
                open = i + (at(s, i, ")=(") ? 3 : 5);
            } else {
                open = i + strlen("Failing row contains (");
            }
            long close = open ? last_paren(s, open, eol) : -1;
            /* Values may span lines (text with a newline): no ')' on this line, then
             * the last one of the text ends them (too much is redacted, never too little). */
            if (open && close < (long)open)
                close = last_paren(s, open, s.len);
            if (open && close >= (long)open) {
                if ((size_t)close >= eol) {
                    FLUSH();
                    *same = false;
                    if (sbuf_add(out, s.p + i, open - i) < 0 || sbuf_addstr(out, ELLIPSIS ")") < 0)
                        return -1;
                    *next = (size_t)close + 1;
                    return 0;
                }
                FLUSH();
                *same = false;
                if (sbuf_add(out, s.p + i, open - i) < 0 || sbuf_addstr(out, ELLIPSIS ")") < 0)
                    return -1;
                i = run = (size_t)close + 1;
                continue;
            }
            if (open) { /* no closing parenthesis: everything after "(" is data */
                FLUSH();
                *same = false;
                if (sbuf_add(out, s.p + i, open - i) < 0 || sbuf_addstr(out, ELLIPSIS) < 0)
                    return -1;
                *next = s.len;
                return 0;
            }
        }
        if (c == '\'' && elision(s, i, eol)) {
            i++; /* an apostrophe in a translated message ("d'une", "dell'indice") */
            continue;
        }
        if (c == '\'') {
            FLUSH();
            *same = false;
            /* Literals may span lines: search the whole rest of the text. */
            bool closed;
            size_t j = skip_quoted_c(s, i, '\'', &closed);
            if (sbuf_addstr(out, "'" ELLIPSIS) < 0)
                return -1;
            if (!closed) {
                *next = s.len; /* unterminated: the rest is data */
                return 0;
            }
            if (sbuf_addch(out, '\'') < 0)
                return -1;
            if (j > eol) {
                *next = j;
                return 0;
            }
            i = run = j;
            continue;
        }
        /* "\"1e999\" is out of range for type double precision" (float4in/float8in: the
         * line starts with the value; its last such phrase ends it) */
        if (c == '"' && s.p + i == line.p) {
            static const char oor[] = "\" is out of range for type ";
            long e = -1, f = 0;
            while ((f = span_find(line, (size_t)f + 1, span_make(oor, sizeof(oor) - 1))) > 0)
                e = f;
            if (e > 0) {
                FLUSH();
                *same = false;
                if (sbuf_addstr(out, "\"" ELLIPSIS) < 0)
                    return -1;
                i = run = i + (size_t)e;
                continue;
            }
        }
        /* "Token \"x\" is invalid." and "Expected ..., but found \"x\"." (json input
         * errors: the token may itself hold quotes) */
        bool at_end =
            c == '"' && ((i >= 2 && at(s, i - 2, ": ")) || (i >= 6 && at(s, i - 6, "Token ")) ||
                         (i >= 10 && at(s, i - 10, "but found ")));
        bool in_text = c == '"' && !at_end &&
                       ((i >= 6 && at(s, i - 6, "value ")) || (i >= 5 && at(s, i - 5, "near ")));
        if (at_end || in_text) {
            /* PostgreSQL does not escape a '"' inside the value: after ": " the value
             * ends the line (its last '"'); after "value " or "at or near " the first
             * '"' followed by a blank, '.', ',' or the end of the line. No such '"' on
             * this line: the value spans lines and the last '"' of the text ends it. */
            long q = -1;
            for (size_t j = i + 1; j < eol; j++) {
                if (s.p[j] != '"')
                    continue;
                q = (long)j;
                if (in_text &&
                    (j + 1 == eol || s.p[j + 1] == ' ' || s.p[j + 1] == '.' || s.p[j + 1] == ','))
                    break;
            }
            size_t stop = eol;
            if (q < 0) {
                for (size_t j = s.len; j > eol; j--)
                    if (s.p[j - 1] == '"') {
                        q = (long)(j - 1);
                        break;
                    }
                stop = s.len;
            }
            FLUSH();
            *same = false;
            if (sbuf_addstr(out, "\"" ELLIPSIS) < 0)
                return -1;
            if (q < 0) {
                *next = stop;
                return 0;
            }
            if (sbuf_addch(out, '"') < 0)
                return -1;
            if ((size_t)q >= eol) {
                *next = (size_t)q + 1;
                return 0;
            }
            i = run = (size_t)q + 1;
            continue;
        }
        i++;
    }
    FLUSH();
#undef FLUSH
    *next = eol;
    return 0;
}

/* A JSON text (a jsonlog or Supabase line that was rejected): its keys as they are, each
 * string value through redact_message() on its own (escapes left as written), the rest
 * (structure, numbers, true/false/null) as it is. Read as one message, a spaced object
 * ("id": "x1", ...) lost everything after its first ": \"" (the rule for a JSON input
 * error's token), keys included, and a sample told nothing of what the line was. */
static int redact_json_values(struct sbuf *out, struct span s)
{
    size_t i = 0, run = 0;
    while (i < s.len) {
        if (s.p[i] != '"') {
            i++;
            continue;
        }
        size_t j = i + 1;
        bool closed = false;
        while (j < s.len) {
            if (s.p[j] == '\\') {
                j += 2;
                continue;
            }
            if (s.p[j] == '"') {
                closed = true;
                break;
            }
            j++;
        }
        if (j > s.len)
            j = s.len;
        size_t end = closed ? j + 1 : s.len, k = end;
        while (k < s.len && (s.p[k] == ' ' || s.p[k] == '\t'))
            k++;
        if (!(closed && k < s.len && s.p[k] == ':')) { /* a value, not a key */
            if (sbuf_add(out, s.p + run, i + 1 - run) < 0 ||
                redact_message(out, span_make(s.p + i + 1, j - i - 1)) < 0 ||
                (closed && sbuf_addch(out, '"') < 0))
                return -1;
            run = end;
        }
        i = end;
    }
    return sbuf_add(out, s.p + run, s.len - run);
}

/* Where the text of a rejected line starts: after its first "KEYWORD:  " (LOG, ERROR,
 * STATEMENT, DEBUG1 ...: 3 to 10 capitals or digits, the first a capital), else after a
 * syslog piece number ("[5-3] "); SIZE_MAX when it has neither (a line of another
 * program, shown as it is). What comes before is the line's prefix or wrapper: times,
 * process ids, names, kept for the reader. */
static size_t rejected_text_start(struct span s)
{
    for (size_t i = 0; i + 3 < s.len; i++) {
        if (s.p[i] != ':' || s.p[i + 1] != ' ' || s.p[i + 2] != ' ')
            continue;
        size_t k = i;
        while (k > 0 && i - k < 10 &&
               ((s.p[k - 1] >= 'A' && s.p[k - 1] <= 'Z') || is_digit((unsigned char)s.p[k - 1])))
            k--;
        while (k < i && is_digit((unsigned char)s.p[k]))
            k++;
        if (i - k >= 3 && (k == 0 || !is_ident_char((unsigned char)s.p[k - 1])))
            return i + 3;
    }
    for (size_t i = 0; i + 4 < s.len; i++) {
        if (s.p[i] != '[' || !is_digit((unsigned char)s.p[i + 1]))
            continue;
        size_t k = i + 1;
        while (k < s.len && (is_digit((unsigned char)s.p[k]) || s.p[k] == '-'))
            k++;
        if (k + 1 < s.len && s.p[k] == ']' && s.p[k + 1] == ' ')
            return k + 2;
    }
    return SIZE_MAX;
}

int redact_rejected(struct sbuf *out, struct span s)
{
    if (s.len && s.p[0] == '{')
        return redact_json_values(out, s);
    /* A rejected line is a record's piece without the rest: a sub-line without its
     * record (STATEMENT:, QUERY:, CONTEXT: of a file cut mid-record), a continuation
     * line ("\tAND card = 4111111111111111", "[5-3] #011and pin = 9876"), the rest of a
     * syslog piece cut for length. Its text may be SQL, whose bare numbers are values
     * too: after redact_message(), every number of the text is redacted; the prefix or
     * wrapper before it keeps its times and process ids. A line with neither a keyword
     * nor a piece number, not a continuation line either, is another program's (an
     * access log given by mistake): redact_message() alone, so that it can be told. */
    size_t at = s.len && (s.p[0] == ' ' || s.p[0] == '\t') ? 0 : rejected_text_start(s);
    if (at == SIZE_MAX)
        return redact_message(out, s);
    int rc = redact_message(out, span_make(s.p, at));
    struct sbuf tmp = SBUF_INIT;
    sbuf_init(&tmp, out->max ? out->max : 0);
    if (redact_message(&tmp, span_make(s.p + at, s.len - at)) < 0)
        rc = -1;
    if (redact_numbers(out, sbuf_span(&tmp)) < 0)
        rc = -1;
    sbuf_release(&tmp);
    return rc;
}

int redact_message(struct sbuf *out, struct span s)
{
    bool same;
    return redact_message_same(out, s, &same);
}

int redact_message_same(struct sbuf *out, struct span s, bool *same)
{
    size_t i = 0;
    *same = true;
    while (i < s.len) {
        long nl = span_find_char(s, i, '\n');
        size_t eol = nl < 0 ? s.len : (size_t)nl;
        size_t next;
        if (redact_line(out, s, i, eol, &next, same) < 0) {
            *same = false;
            return -1;
        }
        i = next;
        if (i == eol && i < s.len) { /* the newline itself */
            if (sbuf_addch(out, '\n') < 0) {
                *same = false;
                return -1;
            }
            i++;
        }
    }
    return 0;
}

/* Append the run of bytes that redact_numbers() copies one by one: at once, or, when
 * that would pass @out's cap, byte by byte as far as they fit (what appending each byte
 * leaves). */
static int add_bytes(struct sbuf *out, const char *p, size_t n)
{
    if (sbuf_add(out, p, n) == 0)
        return 0;
    for (size_t k = 0; k < n; k++)
        if (sbuf_addch(out, p[k]) < 0)
            return -1;
    return 0;
}

int redact_numbers(struct sbuf *out, struct span s)
{
    size_t run = 0; /* [run, i): bytes copied as they are, not yet appended */
    for (size_t i = 0; i < s.len;) {
        unsigned char c = (unsigned char)s.p[i];
        if (is_digit(c) && (i == 0 || !is_ident_char((unsigned char)s.p[i - 1]))) {
            size_t j = i;
            while (j < s.len && (is_digit((unsigned char)s.p[j]) || s.p[j] == '.'))
                j++;
            if (add_bytes(out, s.p + run, i - run) < 0)
                return -1;
            if (j == s.len || !is_ident_char((unsigned char)s.p[j])) {
                if (sbuf_addch(out, 'N') < 0)
                    return -1;
            } else if (sbuf_add(out, s.p + i, j - i) < 0) {
                return -1;
            }
            i = run = j;
            continue;
        }
        i++;
    }
    return add_bytes(out, s.p + run, s.len - run);
}

void redact_cap(struct sbuf *sb, size_t max)
{
    if (sb->len <= max)
        return;
    size_t keep = max >= 3 ? max - 3 : 0;
    /* Back up to the start of a UTF-8 character. */
    while (keep > 0 && ((unsigned char)sb->buf[keep] & 0xc0) == 0x80)
        keep--;
    sbuf_setlen(sb, keep);
    if (max >= 3 && sbuf_addstr(sb, ELLIPSIS) < 0)
        return; /* cannot happen: we just freed 3 bytes */
}
