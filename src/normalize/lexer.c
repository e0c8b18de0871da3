/* SPDX-License-Identifier: MIT */
/*
 * lexer - PostgreSQL's scan.l over raw bytes. See lexer.h for what it produces; the
 * comments here say where a rule comes from in scan.l when it is not obvious.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/compat.h"
#include "core/limits.h"
#include "core/xalloc.h"
#include "normalize/lexer.h"

enum {
    CC_SPACE = 1 << 0,   /* scan.l {space}: space \t \n \r \f \v */
    CC_IDSTART = 1 << 1, /* [A-Za-z\200-\377_] */
    CC_IDCONT = 1 << 2,  /* [A-Za-z\200-\377_0-9$] */
    CC_DIGIT = 1 << 3,
    CC_OP = 1 << 4,     /* {op_chars}: ~ ! @ # ^ & | ` ? + - * / % < > = */
    CC_QUAL = 1 << 5,   /* op chars that let an operator end in + or -: ~ ! @ # ^ & | ` ? % */
    CC_HSPACE = 1 << 6, /* {horiz_space}: space \t \f */
};

static unsigned char cc[256];
static pthread_once_t cc_once = PTHREAD_ONCE_INIT;

/* Filled once per process (pthread_once: the readers of `ingest -j N` each lex). */
static void cc_fill(void)
{
    for (int c = 0; c < 256; c++) {
        unsigned char f = 0;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v')
            f |= CC_SPACE;
        if (c == ' ' || c == '\t' || c == '\f')
            f |= CC_HSPACE;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c >= 0x80)
            f |= CC_IDSTART | CC_IDCONT;
        if (c >= '0' && c <= '9')
            f |= CC_DIGIT | CC_IDCONT;
        if (c == '$')
            f |= CC_IDCONT;
        if (c && strchr("~!@#^&|`?+-*/%<>=", c))
            f |= CC_OP;
        if (c && strchr("~!@#^&|`?%", c))
            f |= CC_QUAL;
        cc[c] = f;
    }
}

static void cc_init(void)
{
    pthread_once(&cc_once, cc_fill);
}

#define IS(c, f) (cc[(unsigned char)(c)] & (f))

static void grow(struct lex *lx)
{
    uint32_t ncap = lx->cap ? lx->cap * 2 : 256;
    if (ncap > SIFT_MAX_TOKENS)
        ncap = SIFT_MAX_TOKENS;
    lx->tok = xrealloc(lx->tok, (size_t)ncap * sizeof(*lx->tok));
    lx->cap = ncap;
}

static inline struct token *push(struct lex *lx, enum tok_kind kind, size_t off, size_t len)
{
    if (SIFT_UNLIKELY(lx->n == lx->cap))
        grow(lx);
    struct token *t = &lx->tok[lx->n++];
    *t = (struct token){ .off = (uint32_t)off, .len = (uint32_t)len, .kind = (uint8_t)kind };
    return t;
}

/* At a slash-star at i: skip a nested comment (scan.l xc, depth counted). */
static size_t skip_block_comment(const char *s, size_t i, size_t len, struct lex *lx)
{
    size_t depth = 1;
    i += 2;
    while (i < len) {
        if (s[i] == '*' && i + 1 < len && s[i + 1] == '/') {
            i += 2;
            if (--depth == 0)
                return i;
        } else if (s[i] == '/' && i + 1 < len && s[i + 1] == '*') {
            i += 2;
            depth++;
        } else {
            i++;
        }
    }
    lx->flags |= LEX_UNTERMINATED;
    return len;
}

/* After "--" at i: to the end of the line (the newline is whitespace). */
static size_t skip_line_comment(const char *s, size_t i, size_t len)
{
    while (i < len && s[i] != '\n' && s[i] != '\r')
        i++;
    return i;
}

/*
 * scan.l {quotecontinue}: a closing quote followed by whitespace that contains a newline
 * (and "--" comments, but not slash-star ones) and another quote continues the same
 * string. j is just after the closing quote; returns the index of the next opening quote,
 * or 0 when the string does not continue.
 */
static size_t quote_continues(const char *s, size_t j, size_t len)
{
    for (;;) { /* {horiz_whitespace}* */
        if (j < len && IS(s[j], CC_HSPACE))
            j++;
        else if (j + 1 < len && s[j] == '-' && s[j + 1] == '-')
            j = skip_line_comment(s, j, len);
        else
            break;
    }
    if (j >= len || (s[j] != '\n' && s[j] != '\r'))
        return 0;
    j++;
    for (;;) { /* {special_whitespace}* */
        if (j < len && IS(s[j], CC_SPACE)) {
            j++;
        } else if (j + 1 < len && s[j] == '-' && s[j + 1] == '-') {
            j = skip_line_comment(s, j, len);
            if (j >= len)
                return 0;
        } else {
            break;
        }
    }
    return j < len && s[j] == '\'' ? j : 0;
}

/*
 * The body of a quoted string or identifier starting after the opening quote at i+1:
 * q is the quote character, doubling it escapes it; with backslash, \x escapes any byte
 * (E'..'); with doubling false (B'..', X'..') the first quote ends the body. Returns the
 * index after the closing quote, or len with *unterminated set.
 */
static size_t scan_body(const char *s, size_t i, size_t len, char q, bool backslash, bool doubling,
                        bool *unterminated)
{
    for (;;) {
        if (!backslash) {
            const char *p = memchr(s + i, q, len - i);
            if (!p)
                break;
            i = (size_t)(p - s) + 1;
        } else {
            while (i < len && s[i] != q) {
                if (s[i] == '\\' && i + 1 < len)
                    i++;
                i++;
            }
            if (i >= len)
                break;
            i++;
        }
        if (doubling && i < len && s[i] == q) {
            i++;
            continue;
        }
        return i;
    }
    *unterminated = true;
    return len;
}

/* A string of any quoted form whose opening quote is at q: its body, then scan.l's
 * quote continuation. Returns the end; sets token flags. */
static size_t scan_string(const char *s, size_t q, size_t len, bool backslash, bool doubling,
                          struct token *t)
{
    for (;;) {
        bool unterminated = false;
        size_t end = scan_body(s, q + 1, len, '\'', backslash, doubling, &unterminated);
        if (unterminated) {
            t->flags |= TOKF_UNTERMINATED;
            return len;
        }
        size_t next = quote_continues(s, end, len);
        if (!next)
            return end;
        t->flags |= TOKF_CONTINUED;
        q = next;
    }
}

/* Skip whitespace and comments from j (for the UESCAPE look-ahead). */
static size_t skip_space(const char *s, size_t j, size_t len)
{
    for (;;) {
        if (j < len && IS(s[j], CC_SPACE)) {
            j++;
        } else if (j + 1 < len && s[j] == '-' && s[j + 1] == '-') {
            j = skip_line_comment(s, j, len);
        } else if (j + 1 < len && s[j] == '/' && s[j + 1] == '*') {
            size_t depth = 1;
            j += 2;
            while (j < len && depth) {
                if (s[j] == '*' && j + 1 < len && s[j + 1] == '/') {
                    depth--;
                    j += 2;
                } else if (s[j] == '/' && j + 1 < len && s[j + 1] == '*') {
                    depth++;
                    j += 2;
                } else {
                    j++;
                }
            }
        } else {
            return j;
        }
    }
}

/* U&'..' or U&".." may be followed by UESCAPE '<c>' (parser.c looks ahead for it): the
 * clause belongs to the constant/identifier. Returns the end of the clause or 0. */
static size_t uescape_clause(const char *s, size_t j, size_t len)
{
    j = skip_space(s, j, len);
    if (j + 7 > len || keyword_lookup(s + j, 7) != KW_UESCAPE ||
        (j + 7 < len && IS(s[j + 7], CC_IDCONT)))
        return 0;
    j = skip_space(s, j + 7, len);
    if (j >= len || s[j] != '\'')
        return 0;
    bool unterminated = false;
    size_t end = scan_body(s, j + 1, len, '\'', false, true, &unterminated);
    return unterminated ? 0 : end;
}

/* Digits of a decinteger with single '_' between digits (PostgreSQL 16). */
static size_t scan_digits(const char *s, size_t j, size_t len, int base)
{
    for (;;) {
        size_t k = j;
        if (k < len && s[k] == '_')
            k++;
        if (k >= len)
            return j;
        unsigned char c = (unsigned char)s[k];
        bool ok;
        switch (base) {
        case 16:
            ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
            break;
        case 8: ok = c >= '0' && c <= '7'; break;
        case 2: ok = c == '0' || c == '1'; break;
        default: ok = c >= '0' && c <= '9'; break;
        }
        if (!ok)
            return j;
        j = k + 1;
    }
}

/* A number at i (a digit, or '.' followed by a digit). */
static size_t scan_number(const char *s, size_t i, size_t len, uint8_t *form)
{
    if (s[i] == '0' && i + 2 < len) {
        int base = 0;
        uint8_t f = NUM_INT;
        switch (s[i + 1]) {
        case 'x':
        case 'X':
            base = 16;
            f = NUM_HEX;
            break;
        case 'o':
        case 'O':
            base = 8;
            f = NUM_OCT;
            break;
        case 'b':
        case 'B':
            base = 2;
            f = NUM_BIN;
            break;
        default: break;
        }
        if (base) {
            /* 0x_FF is allowed: the separator may follow the prefix. */
            size_t j = scan_digits(s, i + 2, len, base);
            if (j > i + 2) {
                *form = f;
                return j;
            }
            /* "0x" without digits: scan.l's hexfail is an error; lex "0" then a word. */
        }
    }
    size_t j = i;
    *form = NUM_INT;
    if (IS(s[j], CC_DIGIT))
        j = scan_digits(s, j, len, 10);
    if (j < len && s[j] == '.') {
        if (j + 1 < len && s[j + 1] == '.' && j > i)
            return j; /* {numericfail}: 1..10 is 1, .., 10 */
        j++;
        /* {numeric}: the fraction is a decinteger, which starts with a digit. */
        if (j < len && IS(s[j], CC_DIGIT))
            j = scan_digits(s, j, len, 10);
        *form = NUM_DECIMAL;
    }
    if (j < len && (s[j] == 'e' || s[j] == 'E')) {
        size_t k = j + 1;
        if (k < len && (s[k] == '+' || s[k] == '-'))
            k++;
        if (k < len && IS(s[k], CC_DIGIT)) {
            j = scan_digits(s, k, len, 10);
            *form = NUM_REAL;
        }
    }
    return j;
}

/*
 * An operator run starting at i (s[i] is an op char and does not start a comment).
 * scan.l's {operator} rule: the longest run of op chars, cut before an embedded
 * slash-star or double dash; a multi-char operator may not end in '+' or '-' unless it
 * contains one of ~ ! @ # ^ & | ` ? % (so "=-" is "=" then "-"). The run is cut here
 * into all its tokens in one pass, so long runs stay linear.
 */
static size_t scan_operators(struct lex *lx, const char *s, size_t i, size_t len)
{
    size_t cut = i;
    while (cut < len && IS(s[cut], CC_OP)) {
        if (cut > i && cut + 1 < len &&
            ((s[cut] == '/' && s[cut + 1] == '*') || (s[cut] == '-' && s[cut + 1] == '-')))
            break;
        cut++;
    }
    size_t lastq = SIZE_MAX; /* last qualifying char in [i, cut) */
    for (size_t k = i; k < cut; k++)
        if (IS(s[k], CC_QUAL))
            lastq = k;
    size_t q = cut; /* start of the maximal run of '+'/'-' ending at cut */
    while (q > i && (s[q - 1] == '+' || s[q - 1] == '-'))
        q--;

    size_t pos = i;
    while (pos < cut && lx->n < SIFT_MAX_TOKENS) {
        size_t end = cut;
        if (cut - pos > 1 && (s[cut - 1] == '+' || s[cut - 1] == '-') &&
            !(lastq != SIZE_MAX && lastq >= pos))
            end = q > pos ? q : pos + 1;
        size_t n = end - pos;
        struct token *t;
        if (n == 2 && s[pos] == '=' && s[pos + 1] == '>') {
            t = push(lx, TOK_PUNCT, pos, n);
            t->sub = P_ARROW;
        } else {
            t = push(lx, TOK_OP, pos, n);
            if (n == 1)
                t->sub = s[pos] == '='   ? OP_EQ
                         : s[pos] == '-' ? OP_MINUS
                         : s[pos] == '+' ? OP_PLUS
                                         : OP_OTHER;
            else if (n == 2 &&
                     ((s[pos] == '!' && s[pos + 1] == '=') || (s[pos] == '<' && s[pos + 1] == '>')))
                t->sub = OP_NE;
        }
        pos = end;
    }
    return pos;
}

/*
 * The first "$tag$" at or after from. The tag holds no '$', so after a partial match the
 * next '$' can only be at or after the mismatch: every byte is looked at a bounded
 * number of times however long the tag is (linear, unlike a naive search).
 */
static const char *dollar_end(const char *s, size_t from, size_t len, const char *tag,
                              size_t taglen)
{
    size_t p = from;
    while (p < len) {
        const char *d = memchr(s + p, '$', len - p);
        if (!d)
            return NULL;
        p = (size_t)(d - s);
        size_t i = 0;
        while (i < taglen && p + 1 + i < len && s[p + 1 + i] == tag[i])
            i++;
        if (i == taglen && p + 1 + i < len && s[p + 1 + i] == '$')
            return d;
        p += 1 + i;
    }
    return NULL;
}

static uint32_t param_value(const char *s, size_t i, size_t end)
{
    uint32_t v = 0;
    for (; i < end; i++) {
        if (s[i] == '_')
            continue;
        v = v * 10 + (uint32_t)(s[i] - '0');
        if (v > 1000000000u)
            return 1000000000u;
    }
    return v;
}

static const uint8_t punct_of[256] = {
    [','] = P_COMMA + 1,  ['('] = P_LPAREN + 1, [')'] = P_RPAREN + 1,
    ['['] = P_LBRACK + 1, [']'] = P_RBRACK + 1, [';'] = P_SEMI + 1,
};

void lex_run(struct lex *lx, const char *s, size_t len, bool backslash_quotes)
{
    cc_init();
    keyword_init();
    lx->n = 0;
    lx->flags = 0;
    lx->max_param = 0;
    if (len > SIFT_MAX_STATEMENT_BYTES) {
        len = SIFT_MAX_STATEMENT_BYTES;
        lx->flags |= LEX_TRUNCATED;
    }

    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (IS(c, CC_SPACE)) {
            i++;
            continue;
        }
        if (c == '-' && i + 1 < len && s[i + 1] == '-') {
            i = skip_line_comment(s, i, len);
            continue;
        }
        if (c == '/' && i + 1 < len && s[i + 1] == '*') {
            static const char mark[] = "/*, ... */";
            if (lx->n > 0 && len - i >= sizeof(mark) - 1 && !memcmp(s + i, mark, sizeof(mark) - 1))
                lx->tok[lx->n - 1].flags |= TOKF_LISTMARK;
            i = skip_block_comment(s, i, len, lx);
            continue;
        }
        if (lx->n >= SIFT_MAX_TOKENS) {
            lx->flags |= LEX_TRUNCATED;
            break;
        }
        size_t start = i;
        struct token *t;

        if (IS(c, CC_IDSTART)) {
            unsigned char c1 = i + 1 < len ? (unsigned char)s[i + 1] : 0;
            if (c1 == '\'') {
                switch (c) {
                case 'e':
                case 'E':
                    t = push(lx, TOK_STRING, start, 0);
                    t->sub = STR_E;
                    i = scan_string(s, i + 1, len, true, true, t);
                    t->len = (uint32_t)(i - start);
                    goto next;
                case 'b':
                case 'B':
                case 'x':
                case 'X':
                    t = push(lx, TOK_STRING, start, 0);
                    t->sub = (c == 'b' || c == 'B') ? STR_B : STR_X;
                    i = scan_string(s, i + 1, len, false, false, t);
                    t->len = (uint32_t)(i - start);
                    goto next;
                case 'n':
                case 'N':
                    /* scan.l {xnstart}: NCHAR, then an ordinary string from the quote. */
                    t = push(lx, TOK_WORD, start, 1);
                    t->sub = WORD_NCHAR;
                    t->kw = KW_NCHAR;
                    if (lx->n >= SIFT_MAX_TOKENS) {
                        lx->flags |= LEX_TRUNCATED;
                        i = len;
                        goto done;
                    }
                    t = push(lx, TOK_STRING, start + 1, 0);
                    t->sub = STR_N;
                    i = scan_string(s, i + 1, len, backslash_quotes, true, t);
                    t->len = (uint32_t)(i - start - 1);
                    goto next;
                default: break;
                }
            }
            if ((c == 'u' || c == 'U') && c1 == '&' && i + 2 < len &&
                (s[i + 2] == '\'' || s[i + 2] == '"')) {
                bool ident = s[i + 2] == '"';
                t = push(lx, ident ? TOK_QIDENT : TOK_STRING, start, 0);
                t->sub = ident ? QI_U : STR_U;
                if (ident) {
                    bool unterminated = false;
                    i = scan_body(s, i + 3, len, '"', false, true, &unterminated);
                    if (unterminated)
                        t->flags |= TOKF_UNTERMINATED;
                } else {
                    i = scan_string(s, i + 2, len, false, true, t);
                }
                if (!(t->flags & TOKF_UNTERMINATED)) {
                    size_t u = uescape_clause(s, i, len);
                    if (u) {
                        i = u;
                        t->flags |= TOKF_UESCAPE;
                    }
                }
                t->len = (uint32_t)(i - start);
                goto next;
            }
            i++;
            while (i < len && IS(s[i], CC_IDCONT))
                i++;
            t = push(lx, TOK_WORD, start, i - start);
            t->kw = (uint16_t)keyword_lookup(s + start, i - start);
            goto next;
        }
        if (IS(c, CC_DIGIT) || (c == '.' && i + 1 < len && IS(s[i + 1], CC_DIGIT))) {
            uint8_t form;
            i = scan_number(s, i, len, &form);
            t = push(lx, TOK_NUMBER, start, i - start);
            t->sub = form;
            goto next;
        }
        switch (c) {
        case '\'':
            t = push(lx, TOK_STRING, start, 0);
            t->sub = backslash_quotes ? STR_E : STR_PLAIN;
            i = scan_string(s, i, len, backslash_quotes, true, t);
            t->len = (uint32_t)(i - start);
            goto next;
        case '"': {
            bool unterminated = false;
            t = push(lx, TOK_QIDENT, start, 0);
            i = scan_body(s, i + 1, len, '"', false, true, &unterminated);
            if (unterminated)
                t->flags |= TOKF_UNTERMINATED;
            t->len = (uint32_t)(i - start);
            goto next;
        }
        case '$': {
            size_t j = i + 1;
            if (j < len && IS(s[j], CC_DIGIT)) {
                j = scan_digits(s, j, len, 10);
                t = push(lx, TOK_PARAM, start, j - start);
                uint32_t v = param_value(s, start + 1, j);
                if (v > lx->max_param)
                    lx->max_param = v;
                i = j;
                goto next;
            }
            /* {dolqdelim}: $tag$ with tag = identifier chars but no '$', not a digit first. */
            if (j < len && IS(s[j], CC_IDSTART)) {
                j++;
                while (j < len && IS(s[j], CC_IDCONT) && s[j] != '$')
                    j++;
            }
            if (j < len && s[j] == '$') {
                size_t dlen = j + 1 - start;
                t = push(lx, TOK_STRING, start, 0);
                t->sub = STR_DOLLAR;
                /* The first occurrence of the same delimiter ends the body. */
                const char *e = dollar_end(s, j + 1, len, s + start + 1, dlen - 2);
                if (e) {
                    i = (size_t)(e - s) + dlen;
                } else {
                    i = len;
                    t->flags |= TOKF_UNTERMINATED;
                }
                t->len = (uint32_t)(i - start);
                goto next;
            }
            /* {dolqfailed} or a lone '$': scan.l returns the '$' alone. */
            push(lx, TOK_OTHER, start, 1);
            i++;
            continue;
        }
        case ':':
            t = push(lx, TOK_PUNCT, start, 1);
            t->sub = P_COLON;
            if (i + 1 < len && s[i + 1] == ':') {
                t->sub = P_DCOLON;
                t->len = 2;
            } else if (i + 1 < len && s[i + 1] == '=') {
                t->sub = P_COLONEQ;
                t->len = 2;
            }
            i += t->len;
            continue;
        case '.':
            t = push(lx, TOK_PUNCT, start, 1);
            t->sub = P_DOT;
            if (i + 1 < len && s[i + 1] == '.') {
                t->sub = P_DOTDOT;
                t->len = 2;
            }
            i += t->len;
            continue;
        default: break;
        }
        if (punct_of[c]) {
            t = push(lx, TOK_PUNCT, start, 1);
            t->sub = (uint8_t)(punct_of[c] - 1);
            i++;
            continue;
        }
        if (IS(c, CC_OP)) {
            i = scan_operators(lx, s, i, len);
            continue;
        }
        push(lx, TOK_OTHER, start, 1);
        i++;
        continue;
    next:
        if (t->flags & TOKF_UNTERMINATED)
            lx->flags |= LEX_UNTERMINATED;
    }
done:
    return;
}

void lex_release(struct lex *lx)
{
    free(lx->tok);
    *lx = (struct lex)LEX_INIT;
}
