/* SPDX-License-Identifier: MIT */
/*
 * line_prefix - compile a log_line_prefix into a token program and match lines with it.
 *
 * The matcher is a small backtracking interpreter over the tokens (formats.md §4.3).
 * Tokens with a fixed shape produce at most a few candidate ends; free-text tokens try
 * every end where what follows them can start (shortest first). Matching stops at the
 * first full success, which must be followed by "KEYWORD:". A step budget proportional
 * to the line length keeps pathological lines (many repeats of a separator, nested free
 * fields) linear: they fail instead of taking quadratic time.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytescan.h"
#include "core/limits.h"
#include "core/xalloc.h"
#include "parse/line_prefix.h"

enum tok_kind { TK_LIT, TK_FIELD, TK_CUT };

/* Lexical class of a field's value. */
enum fclass {
    FC_DIGITS,     /* %p %l %x */
    FC_DIGITS_OPT, /* %P: empty for non-workers */
    FC_SIGNED,     /* %Q */
    FC_SQLSTATE,   /* %e */
    FC_SESSION,    /* %c hex.hex */
    FC_VXID,       /* %v N/N or empty */
    FC_EPOCH,      /* %n seconds.mmm */
    FC_TIME,       /* %t %m %s */
    FC_HOSTPORT,   /* %r */
    FC_NOSPACE,    /* %h %L: free text without spaces */
    FC_TEXT,       /* %a %i %b: free text, spaces allowed */
    FC_USER,       /* %u: free text; first pass: no space */
    FC_DB,         /* %d: free text; first pass: no space, no '@' */
};

/* What match_first_path() does at a token, decided when compiling: the common shapes
 * get a case of their own, anything else (padding, %r %c %v %e %n %P %Q) the general
 * step. */
enum fp_op {
    FP_LIT,    /* literal text */
    FP_CUT,    /* %q */
    FP_TIME,   /* %t %m %s without padding */
    FP_DIGITS, /* %p %l %x without padding */
    FP_FREE,   /* %u %d %a %i %b %h %L without padding */
    FP_OTHER,  /* any other field */
};

struct tok {
    enum tok_kind kind;
    enum fp_op fp;
    enum lp_field field;
    enum fclass cls;
    int pad;        /* 0: none; > 0 right-justified to pad columns; < 0 left-justified */
    size_t lit_off; /* TK_LIT: offset into lits */
    size_t lit_len;
    /* Free-text fields: bytes that can start what follows the field (a candidate end
     * must sit on one of them). */
    uint8_t follow[32];
    /* follow plus the bytes the strict pass does not allow in the value: where the
     * first-path scan of a free value stops (match_first_path()); one byte per value. */
    const uint8_t *stop; /* 256 bytes in line_prefix.stops (field tokens only): kept out
                            of the token so the tokens the matcher walks stay a few cache
                            lines (in ingest the rest of the pipeline evicts them) */
    /* The stop bytes when there are one to three of them (repeated to three), for a
     * 16-bytes-a-step search (bytescan_find3); nstop 0: more, use the table. */
    unsigned char stop3[3];
    uint8_t nstop;
};

struct line_prefix {
    char *text; /* the setting as given, NUL-terminated */
    char *lits; /* literal bytes of all TK_LIT tokens (%% already turned into %) */
    struct tok *toks;
    size_t ntok;
    uint8_t *stops;  /* 256 bytes per field token: their stop tables */
    uint32_t has;    /* bit per enum lp_field */
    bool has_cut;    /* a %q is present */
    bool has_names;  /* %u or %d present: a relaxed second pass can differ */
    size_t memo_tok; /* the token the memo's tails start at: after the last escape whose
                        value changes line by line (0: the whole prefix) */
    uint8_t memo_field[LPF_COUNT]; /* the fields of the tokens from there on, once each */
    uint8_t nmemo_field;
};

static const struct {
    char letter;
    enum lp_field field;
    enum fclass cls;
} escapes[] = {
    { 'a', LPF_APP, FC_TEXT },
    { 'u', LPF_USER, FC_USER },
    { 'd', LPF_DB, FC_DB },
    { 'r', LPF_REMOTE, FC_HOSTPORT },
    { 'h', LPF_HOST, FC_NOSPACE },
    { 'L', LPF_LOCAL, FC_NOSPACE },
    { 'b', LPF_BACKEND, FC_TEXT },
    { 'p', LPF_PID, FC_DIGITS },
    { 'P', LPF_LEADER, FC_DIGITS_OPT },
    { 't', LPF_TIME, FC_TIME },
    { 'm', LPF_TIME_MS, FC_TIME },
    { 'n', LPF_EPOCH, FC_EPOCH },
    { 'i', LPF_PS, FC_TEXT },
    { 'e', LPF_SQLSTATE, FC_SQLSTATE },
    { 'c', LPF_SESSION, FC_SESSION },
    { 'l', LPF_LINE, FC_DIGITS },
    { 's', LPF_SESSION_START, FC_TIME },
    { 'v', LPF_VXID, FC_VXID },
    { 'x', LPF_XID, FC_DIGITS },
    { 'Q', LPF_QUERY_ID, FC_SIGNED },
};
_Static_assert(ARRAY_SIZE(escapes) == LPF_COUNT, "one escape per field");

static const char *const keyword_names[LPK_COUNT] = {
    [LPK_NONE] = "",
    [LPK_DEBUG] = "DEBUG",
    [LPK_LOG] = "LOG",
    [LPK_INFO] = "INFO",
    [LPK_NOTICE] = "NOTICE",
    [LPK_WARNING] = "WARNING",
    [LPK_ERROR] = "ERROR",
    [LPK_FATAL] = "FATAL",
    [LPK_PANIC] = "PANIC",
    [LPK_DETAIL] = "DETAIL",
    [LPK_HINT] = "HINT",
    [LPK_QUERY] = "QUERY",
    [LPK_CONTEXT] = "CONTEXT",
    [LPK_LOCATION] = "LOCATION",
    [LPK_BACKTRACE] = "BACKTRACE",
    [LPK_STATEMENT] = "STATEMENT",
};

/* strlen() of keyword_names (the matcher looks a keyword up on every line). */
static const unsigned char keyword_lens[LPK_COUNT] = {
    [LPK_NONE] = 0,    [LPK_DEBUG] = 5,    [LPK_LOG] = 3,       [LPK_INFO] = 4,
    [LPK_NOTICE] = 6,  [LPK_WARNING] = 7,  [LPK_ERROR] = 5,     [LPK_FATAL] = 5,
    [LPK_PANIC] = 5,   [LPK_DETAIL] = 6,   [LPK_HINT] = 4,      [LPK_QUERY] = 5,
    [LPK_CONTEXT] = 7, [LPK_LOCATION] = 8, [LPK_BACKTRACE] = 9, [LPK_STATEMENT] = 9,
};

const char *lp_keyword_name(enum lp_keyword k)
{
    return (unsigned)k < LPK_COUNT ? keyword_names[k] : "";
}

char lp_field_letter(enum lp_field f)
{
    return (unsigned)f < LPF_COUNT ? escapes[f].letter : '?';
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool is_hex(unsigned char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f');
}

static bool is_upper(unsigned char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool is_alpha(unsigned char c)
{
    return is_upper(c) || (c >= 'a' && c <= 'z');
}

static void set_bit(uint8_t *set, unsigned char c)
{
    set[c >> 3] |= (uint8_t)(1u << (c & 7));
}

static bool has_bit(const uint8_t *set, unsigned char c)
{
    return set[c >> 3] & (1u << (c & 7));
}

enum lp_keyword line_prefix_keyword(struct span s, size_t *msg_off)
{
    enum lp_keyword cand[2] = { LPK_NONE, LPK_NONE };

    if (s.len < 4)
        return LPK_NONE;
    switch (s.p[0]) {
    case 'B': cand[0] = LPK_BACKTRACE; break;
    case 'C': cand[0] = LPK_CONTEXT; break;
    case 'D': cand[0] = LPK_DETAIL, cand[1] = LPK_DEBUG; break;
    case 'E': cand[0] = LPK_ERROR; break;
    case 'F': cand[0] = LPK_FATAL; break;
    case 'H': cand[0] = LPK_HINT; break;
    case 'I': cand[0] = LPK_INFO; break;
    case 'L': cand[0] = LPK_LOG, cand[1] = LPK_LOCATION; break;
    case 'N': cand[0] = LPK_NOTICE; break;
    case 'P': cand[0] = LPK_PANIC; break;
    case 'Q': cand[0] = LPK_QUERY; break;
    case 'S': cand[0] = LPK_STATEMENT; break;
    case 'W': cand[0] = LPK_WARNING; break;
    default: return LPK_NONE;
    }
    for (int i = 0; i < 2 && cand[i] != LPK_NONE; i++) {
        const char *name = keyword_names[cand[i]];
        size_t len = keyword_lens[cand[i]];
        if (s.len <= len || s.p[len] != ':' || memcmp(s.p + 1, name + 1, len - 1) != 0)
            continue;
        size_t off = len + 1;
        /* PostgreSQL writes two spaces; accept one (hand-edited logs) or none at the
         * end of the line (an empty message). */
        if (off < s.len && s.p[off] != ' ')
            continue;
        for (int sp = 0; sp < 2 && off < s.len && s.p[off] == ' '; sp++)
            off++;
        *msg_off = off;
        return cand[i];
    }
    return LPK_NONE;
}

static bool byte_allowed(enum fclass cls, bool strict, unsigned char ch);

/* ---- compiling ---------------------------------------------------------------- */

static void push_tok(struct line_prefix *lp, size_t *alloc, struct tok t)
{
    XGROW(lp->toks, lp->ntok + 1, *alloc);
    lp->toks[lp->ntok++] = t;
}

/* Bytes that can start whatever follows token ti (for free-text fields). */
static void compute_follow(struct line_prefix *lp, size_t ti, uint8_t *set)
{
    static const char kw_starts[] = "BCDEFHILNPQSW";

    memset(set, 0, 32);
    for (size_t j = ti + 1;; j++) {
        if (j >= lp->ntok) {
            for (const char *k = kw_starts; *k; k++)
                set_bit(set, (unsigned char)*k);
            return;
        }
        const struct tok *t = &lp->toks[j];
        if (t->kind == TK_LIT) {
            set_bit(set, (unsigned char)lp->lits[t->lit_off]);
            return;
        }
        if (t->kind == TK_CUT) {
            for (const char *k = kw_starts; *k; k++)
                set_bit(set, (unsigned char)*k);
            continue; /* the full shape continues after %q */
        }
        /* Another field: it may start with anything (and may be empty). */
        memset(set, 0xff, 32);
        return;
    }
}

/* Does the escape's value change from one line of a session to the next? The memo's
 * tails start after the last one that does. */
static bool field_varies(enum lp_field f)
{
    switch (f) {
    case LPF_TIME:
    case LPF_TIME_MS:
    case LPF_EPOCH:
    case LPF_LINE:
    case LPF_SQLSTATE:
    case LPF_VXID:
    case LPF_XID:
    case LPF_QUERY_ID:
    case LPF_PS: return true;
    default: return false;
    }
}

static enum fp_op first_path_op(const struct tok *t)
{
    if (t->kind == TK_LIT)
        return FP_LIT;
    if (t->kind == TK_CUT)
        return FP_CUT;
    if (t->pad != 0)
        return FP_OTHER;
    switch (t->cls) {
    case FC_TIME: return FP_TIME;
    case FC_DIGITS: return FP_DIGITS;
    case FC_NOSPACE:
    case FC_TEXT:
    case FC_USER:
    case FC_DB: return FP_FREE;
    default: return FP_OTHER;
    }
}

struct line_prefix *line_prefix_new(struct span text, struct diag *d)
{
    if (text.len > SIFT_MAX_PREFIX_BYTES) {
        diag_set(d, DIAG_USAGE, "log_line_prefix is %zu bytes long (at most %u accepted)", text.len,
                 SIFT_MAX_PREFIX_BYTES);
        return NULL;
    }
    if (text.len && memchr(text.p, '\n', text.len)) {
        diag_set(d, DIAG_USAGE, "log_line_prefix contains a newline");
        return NULL;
    }

    struct line_prefix *lp = xcalloc(1, sizeof(*lp));
    lp->text = xmalloc(text.len + 1);
    if (text.len)
        memcpy(lp->text, text.p, text.len);
    lp->text[text.len] = '\0';
    lp->lits = xmalloc(text.len + 1);
    size_t nlits = 0, alloc = 0;
    size_t lit_start = 0;
    bool in_lit = false;

#define END_LIT()                                                                               \
    do {                                                                                        \
        if (in_lit) {                                                                           \
            push_tok(lp, &alloc,                                                                \
                     (struct tok){                                                              \
                         .kind = TK_LIT, .lit_off = lit_start, .lit_len = nlits - lit_start }); \
            in_lit = false;                                                                     \
        }                                                                                       \
    } while (0)
#define ADD_LIT(ch)               \
    do {                          \
        if (!in_lit) {            \
            lit_start = nlits;    \
            in_lit = true;        \
        }                         \
        lp->lits[nlits++] = (ch); \
    } while (0)

    const char *p = text.p, *end = text.p + text.len;
    while (p < end) {
        if (*p != '%') {
            ADD_LIT(*p);
            p++;
            continue;
        }
        if (++p >= end)
            break; /* a lone trailing '%' prints nothing */
        int pad = 0;
        if (*p == '-' || is_digit((unsigned char)*p)) {
            int sign = 1;
            if (*p == '-') {
                sign = -1;
                p++;
            }
            long v = 0;
            const char *digits = p;
            while (p < end && is_digit((unsigned char)*p)) {
                if (v <= 100000)
                    v = v * 10 + (*p - '0');
                p++;
            }
            if (p >= end)
                break; /* PostgreSQL stops at a padding that ends the string */
            if (v > 1000) {
                diag_set(d, DIAG_USAGE, "log_line_prefix padding %.*s is too large (at most 1000)",
                         (int)(p - digits > 40 ? 40 : p - digits), digits);
                line_prefix_free(lp);
                return NULL;
            }
            pad = sign * (int)v;
        }
        char c = *p++;
        if (c == '%') {
            ADD_LIT('%');
            continue;
        }
        if (c == 'q') {
            if (!lp->has_cut) {
                END_LIT();
                push_tok(lp, &alloc, (struct tok){ .kind = TK_CUT });
                lp->has_cut = true;
            }
            continue;
        }
        size_t e = 0;
        while (e < ARRAY_SIZE(escapes) && escapes[e].letter != c)
            e++;
        if (e == ARRAY_SIZE(escapes))
            continue; /* unknown escape: PostgreSQL ignores it */
        END_LIT();
        push_tok(
            lp, &alloc,
            (struct tok){
                .kind = TK_FIELD, .field = escapes[e].field, .cls = escapes[e].cls, .pad = pad });
        lp->has |= 1u << escapes[e].field;
        if (escapes[e].field == LPF_USER || escapes[e].field == LPF_DB)
            lp->has_names = true;
    }
    END_LIT();
#undef END_LIT
#undef ADD_LIT

    size_t nfields = 0;
    for (size_t i = 0; i < lp->ntok; i++) {
        const struct tok *t = &lp->toks[i];
        if (t->kind != TK_FIELD)
            continue;
        nfields++;
        if (field_varies(t->field))
            lp->memo_tok = i + 1;
    }
    uint32_t seen = 0;
    for (size_t i = lp->memo_tok; i < lp->ntok; i++) {
        const struct tok *t = &lp->toks[i];
        if (t->kind == TK_FIELD && !(seen & (1u << t->field))) {
            seen |= 1u << t->field;
            lp->memo_field[lp->nmemo_field++] = (uint8_t)t->field;
        }
    }
    if (nfields)
        lp->stops = xmalloc(nfields * 256); /* at most SIFT_MAX_PREFIX_BYTES / 2 fields */
    nfields = 0;
    for (size_t i = 0; i < lp->ntok; i++) {
        struct tok *t = &lp->toks[i];
        t->fp = first_path_op(t);
        if (t->kind != TK_FIELD)
            continue;
        compute_follow(lp, i, t->follow);
        unsigned nstop = 0;
        uint8_t *stop = lp->stops + 256 * nfields++;
        t->stop = stop;
        for (unsigned ch = 0; ch < 256; ch++) {
            stop[ch] = has_bit(t->follow, (unsigned char)ch) ||
                       !byte_allowed(t->cls, true, (unsigned char)ch);
            if (stop[ch] && nstop++ < 3)
                t->stop3[nstop - 1] = (unsigned char)ch;
        }
        if (nstop >= 1 && nstop <= 3) {
            for (unsigned k = nstop; k < 3; k++)
                t->stop3[k] = t->stop3[0];
            t->nstop = (uint8_t)nstop;
        }
    }
    return lp;
}

void line_prefix_free(struct line_prefix *lp)
{
    if (!lp)
        return;
    free(lp->text);
    free(lp->lits);
    free(lp->toks);
    free(lp->stops);
    free(lp);
}

const char *line_prefix_text(const struct line_prefix *lp)
{
    return lp->text;
}

bool line_prefix_has(const struct line_prefix *lp, enum lp_field f)
{
    return (unsigned)f < LPF_COUNT && (lp->has & (1u << f));
}

bool line_prefix_has_cut(const struct line_prefix *lp)
{
    return lp->has_cut;
}

/* ---- matching ------------------------------------------------------------------ */

struct mctx {
    const struct line_prefix *lp;
    const char *s;
    size_t n;
    bool strict;
    size_t budget;
    struct line_prefix_match *m;
    struct line_prefix_memo *memo; /* first path only; NULL: none */
};

#define MAX_CANDS 4

static size_t span_digits(const char *s, size_t n, size_t i)
{
    size_t j = i;
    while (j < n && is_digit((unsigned char)s[j]))
        j++;
    return j - i;
}

/* "YYYY-MM-DD HH:MM:SS[.f][ ZONE]" starting at i; candidate ends, longest first. */
static size_t time_cands(const char *s, size_t n, size_t i, size_t *out)
{
    /* the shape "dddd-dd-dd?dd:dd:dd" ('?' a space or 'T') */
    const size_t len = 19;

    if (n - i < len)
        return 0;
    const unsigned char *t = (const unsigned char *)s + i;
    /* "dddd-dd-" and "dd:dd:dd" (bytes 11-18) eight bytes at a time: XOR with the
     * shape leaves 0-9 in a digit's byte and 0 in a separator's; a digit's byte plus
     * 0x76 stays below 0x80. A carry out of a byte only comes from one already wrong
     * (0x8a or more), so the order of the bytes in the word does not matter. */
    static const char shape_a[8] = "0000-00-", shape_c[8] = "00:00:00";
    static const unsigned char dig_a[8] = { 0x80, 0x80, 0x80, 0x80, 0, 0x80, 0x80, 0 };
    static const unsigned char sep_a[8] = { 0, 0, 0, 0, 0xff, 0, 0, 0xff };
    static const unsigned char dig_c[8] = { 0x80, 0x80, 0, 0x80, 0x80, 0, 0x80, 0x80 };
    static const unsigned char sep_c[8] = { 0, 0, 0xff, 0, 0, 0xff, 0, 0 };
    uint64_t a, c, sa, sc, da, dc, pa, pc;
    memcpy(&a, t, 8);
    memcpy(&c, t + 11, 8);
    memcpy(&sa, shape_a, 8);
    memcpy(&sc, shape_c, 8);
    memcpy(&da, dig_a, 8);
    memcpy(&dc, dig_c, 8);
    memcpy(&pa, sep_a, 8);
    memcpy(&pc, sep_c, 8);
    a ^= sa;
    c ^= sc;
    const uint64_t k76 = UINT64_C(0x7676767676767676);
    if (((((a + k76) | a) & da) | (a & pa) | (((c + k76) | c) & dc) | (c & pc)) != 0 ||
        (unsigned)(t[8] - '0') > 9u || (unsigned)(t[9] - '0') > 9u ||
        (t[10] != ' ' && t[10] != 'T'))
        return 0;
    size_t e = i + len;
    if (e + 1 < n && s[e] == '.' && is_digit((unsigned char)s[e + 1])) {
        size_t nd = span_digits(s, n, e + 1);
        if (nd > 9)
            return 0;
        e += 1 + nd;
    }
    size_t nc = 0;
    if (e < n && s[e] == 'Z') {
        out[nc++] = e + 1;
    } else if (e + 1 < n && s[e] == ' ' && is_alpha((unsigned char)s[e + 1])) {
        /* an abbreviation: UTC, CEST, IST */
        size_t z = e + 1;
        while (z < n && z - e <= 16 && is_alpha((unsigned char)s[z]))
            z++;
        out[nc++] = z;
    } else if (e + 2 < n && s[e] == ' ' && (s[e + 1] == '+' || s[e + 1] == '-') &&
               is_digit((unsigned char)s[e + 2])) {
        /* a zone without abbreviation prints its offset: -03, +0545 */
        size_t nz = span_digits(s, n, e + 2);
        if (nz <= 4)
            out[nc++] = e + 2 + nz;
    }
    out[nc++] = e;
    return nc;
}

/* Candidate ends for a fixed-shape class at i. */
static size_t fixed_cands(enum fclass cls, const char *s, size_t n, size_t i, size_t *out)
{
    size_t nd, j;

    switch (cls) {
    case FC_DIGITS:
        nd = span_digits(s, n, i);
        if (!nd)
            return 0;
        out[0] = i + nd;
        return 1;
    case FC_DIGITS_OPT: out[0] = i + span_digits(s, n, i); return 1;
    case FC_SIGNED:
        j = i + (i < n && s[i] == '-');
        nd = span_digits(s, n, j);
        if (!nd)
            return 0;
        out[0] = j + nd;
        return 1;
    case FC_SQLSTATE:
        if (n - i < 5)
            return 0;
        for (size_t k = 0; k < 5; k++)
            if (!is_digit((unsigned char)s[i + k]) && !is_upper((unsigned char)s[i + k]))
                return 0;
        out[0] = i + 5;
        return 1;
    case FC_SESSION:
        j = i;
        while (j < n && is_hex((unsigned char)s[j]))
            j++;
        if (j == i || j >= n || s[j] != '.')
            return 0;
        nd = ++j;
        while (j < n && is_hex((unsigned char)s[j]))
            j++;
        if (j == nd)
            return 0;
        out[0] = j;
        return 1;
    case FC_VXID: {
        size_t nc = 0;
        nd = span_digits(s, n, i);
        if (nd && i + nd < n && s[i + nd] == '/') {
            size_t nd2 = span_digits(s, n, i + nd + 1);
            if (nd2)
                out[nc++] = i + nd + 1 + nd2;
        }
        out[nc++] = i; /* no virtual transaction */
        return nc;
    }
    case FC_EPOCH:
        nd = span_digits(s, n, i);
        if (!nd || i + nd >= n || s[i + nd] != '.')
            return 0;
        j = span_digits(s, n, i + nd + 1);
        if (!j)
            return 0;
        out[0] = i + nd + 1 + j;
        return 1;
    case FC_TIME: return time_cands(s, n, i, out);
    case FC_HOSTPORT: {
        size_t nc = 0;
        if (n - i >= 7 && memcmp(s + i, "[local]", 7) == 0)
            out[nc++] = i + 7;
        /* host(port): the first '(' of the non-space run followed by digits and ')' */
        for (j = i; j < n && j - i < 300 && s[j] != ' '; j++) { /* host names <= 253 */
            if (s[j] != '(')
                continue;
            nd = span_digits(s, n, j + 1);
            if (j > i && nd && j + 1 + nd < n && s[j + 1 + nd] == ')') {
                out[nc++] = j + 2 + nd;
                break;
            }
        }
        out[nc++] = i; /* processes without a client */
        return nc;
    }
    default: return 0;
    }
}

static bool run(struct mctx *c, size_t ti, size_t pos);

/* Pay for @n units of work (bytes scanned, tokens tried); false once the budget of
 * the line is spent, which ends matching with "no match". */
static bool charge(struct mctx *c, size_t n)
{
    if (c->budget < n) {
        c->budget = 0;
        return false;
    }
    c->budget -= n;
    return true;
}

static bool accept_at(struct mctx *c, size_t pos, bool cut)
{
    size_t mo;
    enum lp_keyword kw = line_prefix_keyword(span_make(c->s + pos, c->n - pos), &mo);
    if (kw == LPK_NONE)
        return false;
    c->m->kw = kw;
    c->m->kw_off = pos;
    c->m->msg_off = pos + mo;
    c->m->cut = cut;
    return true;
}

/* The value of token t is [vs, ve); its padded region starts at pos. */
static bool try_value(struct mctx *c, size_t ti, size_t pos, size_t vs, size_t ve)
{
    const struct tok *t = &c->lp->toks[ti];
    size_t end = ve;

    if (t->pad < 0) {
        size_t w = (size_t)-t->pad;
        if (ve - pos < w) {
            if (pos + w > c->n)
                return false;
            for (size_t k = ve; k < pos + w; k++)
                if (c->s[k] != ' ')
                    return false;
            end = pos + w;
        }
    } else if (t->pad > 0 && vs > pos && ve != pos + (size_t)t->pad) {
        return false;
    }
    struct span old = c->m->field[t->field];
    c->m->field[t->field] = span_make(c->s + vs, ve - vs);
    if (run(c, ti + 1, end))
        return true;
    c->m->field[t->field] = old;
    return false;
}

static bool byte_allowed(enum fclass cls, bool strict, unsigned char ch)
{
    switch (cls) {
    case FC_NOSPACE:
    case FC_HOSTPORT: return ch != ' ';
    case FC_USER: return !strict || ch != ' ';
    case FC_DB: return !strict || (ch != ' ' && ch != '@');
    default: return true;
    }
}

static bool run_free(struct mctx *c, size_t ti, size_t pos, size_t vs)
{
    const struct tok *t = &c->lp->toks[ti];

    /* A right-justified value shorter than its padding ends exactly at the padding. */
    if (t->pad > 0 && vs > pos) {
        size_t e = pos + (size_t)t->pad;
        if (e > c->n)
            return false;
        for (size_t k = vs; k < e; k++)
            if (!byte_allowed(t->cls, c->strict, (unsigned char)c->s[k]))
                return false;
        return try_value(c, ti, pos, vs, e);
    }
    size_t e = vs;
    if (t->cls == FC_HOSTPORT)
        e++; /* the empty value was a fixed candidate */
    /* Every match ends with a keyword, so a value never reaches the end of the line. */
    for (; e < c->n; e++) {
        if (e > vs && !byte_allowed(t->cls, c->strict, (unsigned char)c->s[e - 1]))
            return false;
        if (!charge(c, 1))
            return false;
        /* (a left-justified value is followed by its padding spaces first) */
        if (t->pad >= 0 && !has_bit(t->follow, (unsigned char)c->s[e]))
            continue;
        if (try_value(c, ti, pos, vs, e))
            return true;
    }
    return false;
}

static bool run(struct mctx *c, size_t ti, size_t pos)
{
    if (!charge(c, 1))
        return false;
    if (ti == c->lp->ntok)
        return accept_at(c, pos, false);

    const struct tok *t = &c->lp->toks[ti];
    switch (t->kind) {
    case TK_LIT:
        if (c->n - pos < t->lit_len || memcmp(c->s + pos, c->lp->lits + t->lit_off, t->lit_len))
            return false;
        return run(c, ti + 1, pos + t->lit_len);
    case TK_CUT:
        if (accept_at(c, pos, true))
            return true;
        return run(c, ti + 1, pos);
    case TK_FIELD: break;
    }

    size_t vs = pos;
    if (t->pad > 0) {
        size_t w = (size_t)t->pad;
        while (vs < c->n && vs - pos < w && c->s[vs] == ' ')
            vs++;
    }
    size_t cand[MAX_CANDS];
    size_t nc = fixed_cands(t->cls, c->s, c->n, vs, cand);
    if (nc && !charge(c, cand[0] - vs)) /* cand[0] is the longest */
        return false;
    for (size_t k = 0; k < nc; k++)
        if (try_value(c, ti, pos, vs, cand[k]))
            return true;
    if (t->cls == FC_NOSPACE || t->cls == FC_TEXT || t->cls == FC_USER || t->cls == FC_DB ||
        t->cls == FC_HOSTPORT)
        return run_free(c, ti, pos, vs);
    return false;
}

/* match_first_path() at a field token of any shape: the value [*vs, *ve) and where the
 * next token starts (*next), adding the charges to *used; false when the step fails. */
static bool first_path_field(const struct mctx *c, const struct tok *t, size_t pos, size_t *vs_out,
                             size_t *ve_out, size_t *next, size_t *used)
{
    const char *s = c->s;
    size_t n = c->n;
    size_t vs = pos;
    if (t->pad > 0) {
        size_t w = (size_t)t->pad;
        while (vs < n && vs - pos < w && s[vs] == ' ')
            vs++;
    }
    size_t cand[MAX_CANDS], ve;
    size_t nc = fixed_cands(t->cls, s, n, vs, cand);
    if (nc) {
        *used += cand[0] - vs;
        ve = cand[0];
    } else if (t->cls == FC_NOSPACE || t->cls == FC_TEXT || t->cls == FC_USER || t->cls == FC_DB ||
               t->cls == FC_HOSTPORT) {
        /* run_free()'s first candidate */
        if (t->pad > 0 && vs > pos) {
            ve = pos + (size_t)t->pad;
            if (ve > n)
                return false;
            for (size_t k = vs; k < ve; k++)
                if (!byte_allowed(t->cls, c->strict, (unsigned char)s[k]))
                    return false;
        } else {
            /* run_free() visits e = e0, e0 + 1, ...: it fails at e when s[e - 1]
             * is not allowed (for e > vs), charges 1, and tries e when s[e] is a
             * follow byte (any e when left-justified). */
            size_t e0 = vs + (t->cls == FC_HOSTPORT), e = e0;
            if (e0 >= n)
                return false;
            if (e0 > vs && !byte_allowed(t->cls, true, (unsigned char)s[vs]))
                return false;
            if (t->pad >= 0) {
                while (e < n && !t->stop[(unsigned char)s[e]])
                    e++;
                if (e >= n || !has_bit(t->follow, (unsigned char)s[e]))
                    return false; /* the end, or a byte the value cannot hold */
            }
            *used += e - e0 + 1;
            ve = e;
        }
    } else {
        return false;
    }
    /* try_value()'s checks */
    size_t end = ve;
    if (t->pad < 0) {
        size_t w = (size_t)-t->pad;
        if (ve - pos < w) {
            if (pos + w > n)
                return false;
            for (size_t k = ve; k < pos + w; k++)
                if (s[k] != ' ')
                    return false;
            end = pos + w;
        }
    } else if (t->pad > 0 && vs > pos && ve != pos + (size_t)t->pad) {
        return false;
    }
    *vs_out = vs;
    *ve_out = ve;
    *next = end;
    return true;
}

/* ---- the memo (line_prefix.h) ------------------------------------------------------ */

#define MEMO_SLOTS 16 /* a power of two: the slot is the top bits of a hash */
#define MEMO_WAYS  2
#define MEMO_BYTES 128 /* longest tail kept */
/* A miss costs about 330 instructions (the walk's result stored), a hit saves about 510
 * (docs/stderr-syslog.md): below 96 hits in 256 lines (37 %: a log of short sessions,
 * each line a new process) the memo sits out the next 4096 lines, then tries again. */
#define MEMO_WINDOW   256
#define MEMO_MIN_HITS 96
#define MEMO_PAUSE    4096

/* One tail the first path matched: its bytes (from the memo token's position through
 * the last byte the walk read) and what the walk produced, relative to that position. */
struct memo_entry {
    uint8_t len;    /* bytes of the tail (0: the entry is empty) */
    uint8_t kw_rel; /* where the keyword starts */
    uint8_t msg_rel;
    uint8_t kw;
    bool cut;
    uint8_t nf;    /* fields whose value lies in the tail */
    uint16_t used; /* run()'s charges from the memo token to the acceptance */
    uint8_t field[LPF_COUNT], off[LPF_COUNT], flen[LPF_COUNT];
    char bytes[MEMO_BYTES];
};

struct line_prefix_memo {
    const struct line_prefix *lp; /* what the entries were matched with */
    uint64_t hits, stores;
    uint32_t window, window_hits; /* lines looked up in this window, and found */
    uint32_t pause;               /* lines left to sit out */
    uint8_t victim[MEMO_SLOTS];   /* the way the next entry of a slot replaces */
    struct memo_entry e[MEMO_SLOTS][MEMO_WAYS];
};

struct line_prefix_memo *line_prefix_memo_new(void)
{
    return xcalloc(1, sizeof(struct line_prefix_memo));
}

void line_prefix_memo_reset(struct line_prefix_memo *memo)
{
    if (memo)
        memset(memo, 0, sizeof(*memo));
}

void line_prefix_memo_free(struct line_prefix_memo *memo)
{
    free(memo);
}

uint64_t line_prefix_memo_hits(const struct line_prefix_memo *memo)
{
    return memo->hits;
}

uint64_t line_prefix_memo_stores(const struct line_prefix_memo *memo)
{
    return memo->stores;
}

/* Count a matched line: found in the memo (@hit), or stored in it (a line that does
 * not match costs no more with the memo than without); at the end of a window with too
 * few hits, pause. */
static void memo_tick(struct line_prefix_memo *memo, bool hit)
{
    memo->hits += hit;
    memo->stores += !hit;
    memo->window_hits += hit;
    if (++memo->window < MEMO_WINDOW)
        return;
    if (memo->window_hits < MEMO_MIN_HITS)
        memo->pause = MEMO_PAUSE;
    memo->window = memo->window_hits = 0;
}

/* The slot of a tail: its first 8 bytes (the process id in most prefixes), hashed. */
static size_t memo_slot(const char *p)
{
    uint64_t x;
    memcpy(&x, p, 8);
    return (size_t)((x * UINT64_C(0x9e3779b97f4a7c15)) >> 60) & (MEMO_SLOTS - 1);
}
_Static_assert(MEMO_SLOTS <= 16, "memo_slot() takes the top four bits");

/* A line whose tail at @pos the memo holds: fill the match from it. @used: the first
 * path's charges so far, for the same budget test as the walk's. */
static bool memo_lookup(struct mctx *c, size_t pos, size_t used)
{
    const char *s = c->s;
    if (c->n - pos < 8)
        return false;
    struct memo_entry *row = c->memo->e[memo_slot(s + pos)];
    for (int w = 0; w < MEMO_WAYS; w++) {
        const struct memo_entry *e = &row[w];
        if (!e->len || e->len > c->n - pos || used + e->used > c->budget ||
            !span_bytes_eq_(s + pos, e->bytes, e->len))
            continue;
        struct line_prefix_match *m = c->m;
        for (unsigned i = 0; i < e->nf; i++)
            m->field[e->field[i]] = span_make(s + pos + e->off[i], e->flen[i]);
        m->kw = (enum lp_keyword)e->kw;
        m->kw_off = pos + e->kw_rel;
        m->msg_off = pos + e->msg_rel;
        m->cut = e->cut;
        return true;
    }
    return false;
}

/*
 * The first path matched with its tail starting at @pos0 and @used charges from there:
 * keep the tail. The walk read no byte past the message's first one: the keyword test
 * reads ':', then at most two spaces, and the byte after a single space (not the one
 * after two); every token before it stops on a byte of the tail, and each of its tests
 * of the line's length is of an offset no further than the last byte it read. So a
 * line with the same bytes there takes the same path, and the same result.
 */
static void memo_store(struct mctx *c, size_t pos0, size_t used)
{
    const struct line_prefix_match *m = c->m;
    size_t kwlen = keyword_lens[m->kw];
    size_t spaces = m->msg_off - (m->kw_off + kwlen + 1);
    size_t len = m->msg_off - pos0 + (spaces == 2 ? 0 : 1);
    /* an empty message (the line ends after the keyword) is not kept: its length was
     * part of the answer */
    if (spaces == 0 || len > MEMO_BYTES || len < 8 || pos0 + len > c->n || used > UINT16_MAX)
        return;
    size_t slot = memo_slot(c->s + pos0);
    struct memo_entry *e = &c->memo->e[slot][c->memo->victim[slot]];
    c->memo->victim[slot] = (uint8_t)((c->memo->victim[slot] + 1) % MEMO_WAYS);
    memo_tick(c->memo, false);
    e->len = (uint8_t)len;
    e->kw_rel = (uint8_t)(m->kw_off - pos0);
    e->msg_rel = (uint8_t)(m->msg_off - pos0);
    e->kw = (uint8_t)m->kw;
    e->cut = m->cut;
    e->used = (uint16_t)used;
    e->nf = 0;
    const char *tail = c->s + pos0;
    for (unsigned i = 0; i < c->lp->nmemo_field; i++) {
        unsigned f = c->lp->memo_field[i];
        struct span v = m->field[f];
        if (!v.p || v.p < tail)
            continue; /* after the cut, or set before the tail: the walk sets it again */
        e->field[e->nf] = (uint8_t)f;
        e->off[e->nf] = (uint8_t)(v.p - tail);
        e->flen[e->nf] = (uint8_t)v.len;
        e->nf++;
    }
    memcpy(e->bytes, tail, len);
}

/*
 * The first path of run()'s search, without recursion: at every token the first
 * candidate run() would try (the longest fixed shape, the shortest free value ending on
 * a follow byte), the same checks and the same charges. Depth-first search tries that
 * path before any other, so when it reaches the keyword it is exactly the match run()
 * returns in the strict pass; when any step fails the answer is unknown (another
 * candidate might match) and line_prefix_match() runs the full search. Almost every
 * real line matches on this path.
 *
 * The charges are summed in @used and compared with the budget where the path can
 * succeed (at %q and at the end): charges only add up, so the budget is exceeded there
 * exactly when run() would have run out of it on the way. Each token's work is chosen
 * when compiling (enum fp_op): the common escapes without padding take a case of their
 * own, the others the general step below.
 */
static bool match_first_path(struct mctx *c)
{
    const struct line_prefix *lp = c->lp;
    const char *s = c->s;
    size_t n = c->n, pos = 0, used = 0;
    size_t pos0 = SIZE_MAX, used0 = 0; /* where the tail started (the memo) */

    for (size_t ti = 0;; ti++) {
        if (ti == lp->memo_tok && c->memo) {
            struct line_prefix_memo *memo = c->memo;
            if (memo->pause) {
                memo->pause--;
            } else {
                if (memo_lookup(c, pos, used)) {
                    memo_tick(memo, true);
                    return true;
                }
                pos0 = pos;
                used0 = used;
            }
        }
        used++;               /* run()'s charge per token */
        if (ti == lp->ntok) { /* (toks is NULL for an empty prefix: no pointer end) */
            if (used > c->budget || !accept_at(c, pos, false))
                return false;
            if (pos0 != SIZE_MAX)
                memo_store(c, pos0, used - used0);
            return true;
        }
        const struct tok *t = &lp->toks[ti];
        size_t vs = pos, ve;
        switch (t->fp) {
        case FP_LIT: {
            const char *lit = lp->lits + t->lit_off;
            if (n - pos < t->lit_len || s[pos] != lit[0])
                return false;
            for (size_t k = 1; k < t->lit_len; k++)
                if (s[pos + k] != lit[k])
                    return false;
            pos += t->lit_len;
            continue;
        }
        case FP_CUT:
            if (used <= c->budget && accept_at(c, pos, true)) {
                if (pos0 != SIZE_MAX)
                    memo_store(c, pos0, used - used0);
                return true;
            }
            continue;
        case FP_TIME: {
            size_t cand[MAX_CANDS];
            if (!time_cands(s, n, pos, cand))
                return false;
            ve = cand[0];
            used += ve - vs;
            break;
        }
        case FP_DIGITS: {
            size_t nd = span_digits(s, n, pos);
            if (!nd)
                return false;
            ve = pos + nd;
            used += nd;
            break;
        }
        case FP_FREE: {
            /* run_free() visits e = vs, vs + 1, ...: it fails at e when s[e - 1] is not
             * allowed (for e > vs), charges 1, and tries e when s[e] is a follow byte. */
            size_t e = vs;
            if (e >= n)
                return false;
            if (t->nstop)
                e += bytescan_find3(s + e, n - e, t->stop3[0], t->stop3[1], t->stop3[2]);
            else
                while (e < n && !t->stop[(unsigned char)s[e]])
                    e++;
            if (e >= n || !has_bit(t->follow, (unsigned char)s[e]))
                return false; /* the end, or a byte the value cannot hold */
            used += e - vs + 1;
            ve = e;
            break;
        }
        case FP_OTHER:
        default:
            if (!first_path_field(c, t, pos, &vs, &ve, &pos, &used))
                return false;
            c->m->field[t->field] = span_make(s + vs, ve - vs);
            continue;
        }
        c->m->field[t->field] = span_make(s + vs, ve - vs);
        pos = ve;
    }
}

/* memset() of the whole match, written as 16-byte stores: a constant-size memset of
 * this size became a `rep stos` (slow to start) and a quarter of the matcher's time. */
static inline void match_clear(struct line_prefix_match *m)
{
    struct span *f = m->field;
    for (int i = 0; i < LPF_COUNT; i += 4) {
        f[i] = SPAN_NULL;
        f[i + 1] = SPAN_NULL;
        f[i + 2] = SPAN_NULL;
        f[i + 3] = SPAN_NULL;
    }
    m->kw_off = 0;
    m->kw = LPK_NONE;
    m->msg_off = 0;
    m->cut = false;
}
_Static_assert(LPF_COUNT % 4 == 0, "match_clear() clears four fields a step");

/* Tests: skip match_first_path() (to compare it with the full search). */
bool line_prefix_full_search_only;

bool line_prefix_match(const struct line_prefix *lp, struct span line, struct line_prefix_match *m)
{
    return line_prefix_match_memo(lp, NULL, line, m);
}

bool line_prefix_match_memo(const struct line_prefix *lp, struct line_prefix_memo *memo,
                            struct span line, struct line_prefix_match *m)
{
    struct mctx c = { .lp = lp, .s = line.p, .n = line.len, .m = m };
    if (memo) {
        if (memo->lp != lp) {
            line_prefix_memo_reset(memo);
            memo->lp = lp;
        }
        c.memo = memo;
    }

    m->has = lp->has;
    if (!line_prefix_full_search_only) {
        match_clear(m);
        c.strict = true;
        c.budget = SIFT_MAX_PREFIX_STEPS_BASE + SIFT_MAX_PREFIX_STEPS * line.len;
        if (match_first_path(&c))
            return true;
    }
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1 && !lp->has_names)
            break;
        match_clear(m);
        c.strict = pass == 0;
        c.budget = SIFT_MAX_PREFIX_STEPS_BASE + SIFT_MAX_PREFIX_STEPS * line.len;
        if (run(&c, 0, 0))
            return true;
    }
    match_clear(m);
    return false;
}

/* ---- detection ------------------------------------------------------------------ */

const char *const line_prefix_known[] = {
    "%m [%p] %q%u@%d ",            /* Debian/Ubuntu packages */
    "%m [%p] ",                    /* PostgreSQL default since 10 */
    "%h %m [%p] %q%u@%d ",         /* Supabase images */
    "%t:%r:%u@%d:[%p]:",           /* Amazon RDS, Aurora */
    "%t-%c-",                      /* Azure Flexible Server */
    "[%p]: [%l-1] db=%d,user=%u ", /* Google Cloud SQL */
    " sql_error_code = %e ",       /* Heroku (after the syslog header) */
    "%m [%p] %q%u@%d/%a ",         /* Debian plus application */
    "%t [%p-%l] %q%u@%d ",         /* Debian/Ubuntu before 10 (kept by pg_upgradecluster) */
    "%t [%p]: [%l-1] ",            /* pgBadger */
    "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ", /* pgBadger */
    "%t [%p]: user=%u,db=%d,app=%a,client=%h ",        /* pgBadger README */
    "%t [%p]: db=%d,user=%u,app=%a,client=%h ",        /* pgBadger */
    "%m [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ", /* pgBadger with ms */
    "db=%d,user=%u,app=%a,client=%h ",                 /* pgBadger syslog */
    "user=%u,db=%d,app=%a,client=%h ",                 /* pgBadger syslog */
    "%t [%p] ",                                        /* common before 10 */
    "%t ",                                             /* common before 10 */
    "",                                                /* the default before 10 */
    NULL,
};

/* Keys of "key=value" pairs people put in prefixes, and the escape they stand for. */
static const struct {
    const char *key;
    char esc;
} infer_keys[] = {
    { "user", 'u' },
    { "usr", 'u' },
    { "username", 'u' },
    { "user_name", 'u' },
    { "u", 'u' },
    { "db", 'd' },
    { "database", 'd' },
    { "dbname", 'd' },
    { "d", 'd' },
    { "app", 'a' },
    { "appli", 'a' },
    { "application", 'a' },
    { "application_name", 'a' },
    { "a", 'a' },
    { "client", 'h' },
    { "host", 'h' },
    { "remote", 'r' },
    { "h", 'h' },
    { "pid", 'p' },
    { "session", 'c' },
    { "sid", 'c' },
    { "line", 'l' },
    { "sqlstate", 'e' },
    { "sql_error_code", 'e' },
    { "state", 'e' },
    { "e", 'e' },
    { "queryid", 'Q' },
    { "query_id", 'Q' },
    { "vxid", 'v' },
    { "xid", 'x' },
    { "txid", 'x' },
    { "backend", 'b' },
    { "backend_type", 'b' },
    { "tag", 'i' },
    { "leader", 'P' },
};

static bool is_ident(unsigned char c)
{
    return is_alpha(c) || is_digit(c) || c == '_';
}

static bool is_session_escape(char e)
{
    return e == 'u' || e == 'd' || e == 'a' || e == 'h' || e == 'r' || e == 'i';
}

/* What %b prints (PostgreSQL 13-18: GetBackendTypeDesc(), "postmaster", and the
 * bgw_type of core background workers), longest first where one starts another. */
static const char *const backend_types[] = {
    "logical replication tablesync worker",
    "logical replication parallel worker",
    "logical replication apply worker",
    "logical replication launcher",
    "logical replication worker",
    "dead-end client backend",
    "autovacuum launcher",
    "autovacuum worker",
    "background writer",
    "background worker",
    "standalone backend",
    "not initialized",
    "slotsync worker",
    "parallel worker",
    "client backend",
    "WAL summarizer",
    "checkpointer",
    "walreceiver",
    "postmaster",
    "walsender",
    "walwriter",
    "io worker",
    "archiver",
    "startup",
    "logger",
};

/* Length of the backend type (%b) at s[j], followed by a non-identifier byte; 0 if none. */
static size_t backend_type_len(const char *s, size_t n, size_t j)
{
    for (size_t t = 0; t < ARRAY_SIZE(backend_types); t++) {
        size_t k = strlen(backend_types[t]);
        if (n - j >= k && memcmp(s + j, backend_types[t], k) == 0 &&
            (j + k == n || !is_ident((unsigned char)s[j + k])))
            return k;
    }
    return 0;
}

struct infer {
    struct sbuf *out;
    size_t word_start; /* where in @out the current space-separated word starts */
    /* Where %q goes: the word of the first session escape after the last time, pid or
     * session id escape (q_after; "%t %c %l %r %h [%p] %q%u@%d ": the postmaster prints
     * %r and %h empty), else of the first session escape (q_first). */
    size_t q_first, q_after;
    bool have_q, have_q_after, have_pid, have_time, have_session;
    bool anchored;     /* a time, pid or session escape: enough to tell records apart */
    char last;         /* the last escape added */
    char wrapper_time; /* the escape given to a shipper's time ('T'), while no other came */
    bool ok;
};

static void infer_lit(struct infer *in, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '%')
            in->ok &= sbuf_addch(in->out, '%') == 0;
        in->ok &= sbuf_addch(in->out, p[i]) == 0;
        if (p[i] == ' ' || p[i] == ':')
            in->word_start = in->out->len;
    }
}

static void infer_esc(struct infer *in, char e)
{
    if (e == 'p')
        in->have_pid = true;
    if (e == 'c')
        in->have_session = true;
    if (strchr("mtnpcl", e)) {
        in->anchored = true;
        in->have_q_after = false;
    }
    if (is_session_escape(e) && !in->have_q) {
        in->q_first = in->word_start;
        in->have_q = true;
    }
    if (is_session_escape(e) && !in->have_q_after) {
        in->q_after = in->word_start;
        in->have_q_after = true;
    }
    in->last = e;
    in->ok &= sbuf_addch(in->out, '%') == 0;
    in->ok &= sbuf_addch(in->out, e) == 0;
}

/* Length of a value that runs to the next ',', ' ' or ']' (or the end); a value in
 * brackets ("[unknown]", "[local]") runs past its ']'. */
static size_t value_len(const char *s, size_t n, size_t i)
{
    size_t j = i;
    if (j < n && s[j] == '[') {
        while (j < n && s[j] != ']' && s[j] != ' ')
            j++;
        j += j < n && s[j] == ']';
    }
    while (j < n && s[j] != ',' && s[j] != ' ' && s[j] != ']')
        j++;
    return j - i;
}

/* Whether s[0, n) holds a number in brackets, "[4913]": where prefixes put the pid
 * ("[%p]"), so that a bare number before it is something else ("%c %l"). */
static bool has_bracketed_number(const char *s, size_t n)
{
    for (const char *b = memchr(s, '[', n); b; b = memchr(b + 1, '[', n - (size_t)(b + 1 - s))) {
        size_t i = (size_t)(b - s) + 1, nd = span_digits(s, n, i);
        if (nd && i + nd < n && s[i + nd] == ']')
            return true;
        if (i >= n)
            break;
    }
    return false;
}

/* Length of a SQLSTATE-shaped word at s[j]: five digits or capitals, starting with a
 * digit ("00000", "42P01"), then no identifier character; 0 if there is none. */
static size_t sqlstate_len(const char *s, size_t n, size_t j)
{
    size_t k = j;
    while (k < n && k - j < 6 && (is_digit((unsigned char)s[k]) || is_upper((unsigned char)s[k])))
        k++;
    return k - j == 5 && is_digit((unsigned char)s[j]) && (k == n || !is_ident((unsigned char)s[k]))
               ? 5
               : 0;
}

static bool is_json_member(struct span line)
{
    size_t i = 0;
    while (i < line.len && line.p[i] == ' ')
        i++;
    if (i == line.len || line.p[i++] != '"')
        return false;
    while (i < line.len && (is_ident((unsigned char)line.p[i]) || line.p[i] == '-'))
        i++;
    if (i == line.len || line.p[i++] != '"')
        return false;
    while (i < line.len && line.p[i] == ' ')
        i++;
    return i < line.len && line.p[i] == ':';
}

bool line_prefix_infer(struct span line, struct sbuf *out, bool wrapped)
{
    size_t kpos = line.len, mo;

    for (size_t i = 0; i < line.len && i < SIFT_MAX_PREFIX_BYTES; i++) {
        if (!is_upper((unsigned char)line.p[i]) ||
            (i > 0 && is_ident((unsigned char)line.p[i - 1])))
            continue;
        if (line_prefix_keyword(span_make(line.p + i, line.len - i), &mo) != LPK_NONE) {
            kpos = i;
            break;
        }
    }
    /* JSON is never a stderr line (the jsonlog, cloudsql and cnpg formats read it), nor
     * is a member line of pretty-printed JSON: spaces, "name", ':' */
    if (kpos == line.len || (line.len && line.p[0] == '{') || is_json_member(line))
        return false;

    const char *s = line.p;
    size_t n = kpos, j = 0;
    struct infer in = { .out = out, .ok = true };
    bool bracket_pid = has_bracketed_number(s, n);
    sbuf_reset(out);

    while (j < n) {
        size_t cand[MAX_CANDS];
        unsigned char c = (unsigned char)s[j];
        bool word_start = j == 0 || !is_ident((unsigned char)s[j - 1]);

        /* timestamps: the first is the log time, a second one the session start */
        if (is_digit(c) && time_cands(s, n, j, cand)) {
            size_t e = cand[0];
            bool ms = memchr(s + j, '.', e - j) != NULL;
            char esc = ms ? 'm' : 't';
            /* A time with a 'T' is no PostgreSQL escape's but a shipper's (CloudWatch's
             * "2026-11-28T10:00:01.000Z " before an RDS line): a PostgreSQL time after it
             * is the log time, not the session start, when its escape is free (QA 29). */
            if (in.have_time)
                esc = in.wrapper_time && esc != in.wrapper_time ? esc : 's';
            infer_esc(&in, esc);
            in.wrapper_time = !in.have_time && e - j > 10 && s[j + 10] == 'T' ? esc : 0;
            in.have_time = true;
            j = e;
            continue;
        }
        /* session id: 8 hex digits (start time), '.', hex pid */
        if (word_start && is_hex(c)) {
            size_t h = j;
            while (h < n && is_hex((unsigned char)s[h]))
                h++;
            size_t h2 = h + 1;
            while (h < n && s[h] == '.' && h2 < n && is_hex((unsigned char)s[h2]))
                h2++;
            if (h - j == 8 && h < n && s[h] == '.' && h2 > h + 1 &&
                (h2 == n || !is_ident((unsigned char)s[h2])) && (h2 == n || s[h2] != '.')) {
                infer_esc(&in, 'c');
                j = h2;
                continue;
            }
        }
        /* epoch with milliseconds */
        if (word_start && is_digit(c)) {
            size_t nd = span_digits(s, n, j);
            if (nd >= 9 && nd <= 11 && j + nd < n && s[j + nd] == '.' &&
                span_digits(s, n, j + nd + 1) == 3) {
                infer_esc(&in, 'n');
                in.have_time = true; /* (a time after it is the session start, %s) */
                j += nd + 4;
                continue;
            }
        }
        /* [N-1]: pgBadger's imitation of syslog sequence numbers */
        if (c == '[' && j + 1 < n && is_digit((unsigned char)s[j + 1])) {
            size_t nd = span_digits(s, n, j + 1);
            size_t k = j + 1 + nd;
            if (k + 2 < n && s[k] == '-' && s[k + 1] == '1' && s[k + 2] == ']') {
                infer_lit(&in, "[", 1);
                infer_esc(&in, 'l');
                infer_lit(&in, "-1]", 3);
                j = k + 3;
                continue;
            }
        }
        /* IPv4 address, with (port) for %r */
        if (word_start && is_digit(c)) {
            size_t k = j;
            int dots = 0;
            while (k < n && (is_digit((unsigned char)s[k]) || s[k] == '.'))
                dots += s[k++] == '.';
            if (dots == 3) {
                size_t nd = k < n && s[k] == '(' ? span_digits(s, n, k + 1) : 0;
                if (nd && k + 1 + nd < n && s[k + 1 + nd] == ')') {
                    infer_esc(&in, 'r');
                    j = k + 2 + nd;
                } else {
                    infer_esc(&in, 'h');
                    j = k;
                }
                continue;
            }
        }
        /* %v: backend id '/' local transaction id ("3/15"; empty outside a transaction) */
        if (word_start && is_digit(c)) {
            size_t nd = span_digits(s, n, j), nd2 = 0;
            if (j + nd < n && s[j + nd] == '/')
                nd2 = span_digits(s, n, j + nd + 1);
            if (nd2 && (j + nd + 1 + nd2 == n || !is_ident((unsigned char)s[j + nd + 1 + nd2]))) {
                infer_esc(&in, 'v');
                j += nd + 1 + nd2;
                continue;
            }
        }
        /* %Q: a query id is a signed 64-bit hash, so mostly 16 or more digits, negative
         * half of the time (0 where there is none: taken below as another number) */
        if (word_start &&
            (is_digit(c) || (c == '-' && j + 1 < n && is_digit((unsigned char)s[j + 1])))) {
            size_t neg = c == '-', nd = span_digits(s, n, j + neg);
            if ((neg || nd >= 16) &&
                (j + neg + nd == n || !is_ident((unsigned char)s[j + neg + nd]))) {
                infer_esc(&in, 'Q');
                j += neg + nd;
                continue;
            }
        }
        /* %b: the backend type ("client backend", "checkpointer") */
        if (word_start && is_alpha(c)) {
            size_t bl = backend_type_len(s, n, j);
            if (bl) {
                infer_esc(&in, 'b');
                j += bl;
                continue;
            }
        }
        /* The pid: the first number in brackets if there is one ("[%p]"), else the first
         * free-standing number, but none after a session id, which has the pid in it
         * ("%c %l", "%m %c %x %v %e ") */
        if (word_start && is_digit(c) && !in.have_pid &&
            (bracket_pid ? j && s[j - 1] == '[' : !in.have_session)) {
            size_t nd = span_digits(s, n, j);
            if (j + nd == n || !is_ident((unsigned char)s[j + nd])) {
                infer_esc(&in, 'p');
                j += nd;
                continue;
            }
        }
        /* Other free-standing numbers: a SQLSTATE's shape is %e ("00000" of a LOG line,
         * "42P01"), a number after the session id its line number (%c %l), any other the
         * transaction id (%x): escapes, so that every line matches, not only those with
         * the same number. */
        if (word_start && is_digit(c)) {
            size_t nd = span_digits(s, n, j), se = sqlstate_len(s, n, j);
            if (se || j + nd == n || !is_ident((unsigned char)s[j + nd])) {
                /* (%l counts from 1: a 0 after the session id is %x) */
                bool zero = nd == 1 && s[j] == '0';
                infer_esc(&in, se ? 'e' : in.last == 'c' && !zero ? 'l' : 'x');
                j += se ? se : nd;
                continue;
            }
        }
        /* [local] alone is %r */
        if (c == '[' && n - j >= 7 && memcmp(s + j, "[local]", 7) == 0) {
            infer_esc(&in, 'r');
            j += 7;
            continue;
        }
        /* key=value, also "key = value" (Heroku) */
        if (word_start && is_alpha(c)) {
            size_t k = j;
            while (k < n && is_ident((unsigned char)s[k]))
                k++;
            size_t eq = k;
            while (eq < n && s[eq] == ' ')
                eq++;
            if (eq < n && s[eq] == '=') {
                char esc = 0;
                for (size_t t = 0; t < ARRAY_SIZE(infer_keys) && !esc; t++)
                    if (strlen(infer_keys[t].key) == k - j &&
                        memcmp(infer_keys[t].key, s + j, k - j) == 0)
                        esc = infer_keys[t].esc;
                if (esc) {
                    size_t vs = eq + 1;
                    if (eq > k && vs < n && s[vs] == ' ')
                        vs++; /* "key = value" */
                    infer_lit(&in, s + j, vs - j);
                    infer_esc(&in, esc);
                    j = vs + value_len(s, n, vs);
                    continue;
                }
            }
        }
        /* user@database, user@database/application */
        if (word_start && (j == 0 || s[j - 1] == ' ' || s[j - 1] == ':')) {
            size_t k = j;
            while (k < n && s[k] != ' ' && s[k] != '@' && s[k] != ':')
                k++;
            if (k < n && s[k] == '@') {
                size_t r = k + 1;
                while (r < n && s[r] != ' ' && s[r] != '/' && s[r] != ':')
                    r++;
                infer_esc(&in, 'u');
                infer_lit(&in, "@", 1);
                infer_esc(&in, 'd');
                if (r < n && s[r] == '/') {
                    infer_lit(&in, "/", 1);
                    infer_esc(&in, 'a');
                    r++;
                    while (r < n && s[r] != ' ')
                        r++;
                }
                j = r;
                continue;
            }
        }
        infer_lit(&in, s + j, 1);
        j++;
    }
    if (in.have_q && in.ok) {
        /* Processes without a client stop at %q: put it before the word of a session
         * field (struct infer), so both shapes match. */
        size_t q_at = in.have_q_after ? in.q_after : in.q_first;
        size_t tail = out->len - q_at;
        in.ok &= sbuf_grow(out, 2) == 0;
        if (in.ok) {
            memmove(out->buf + q_at + 2, out->buf + q_at, tail);
            memcpy(out->buf + q_at, "%q", 2);
            sbuf_setlen(out, out->len + 2);
        }
    }
    /* like pgBadger, a usable prefix has a time or a process escape; behind a syslog
     * header, which has both, it needs neither */
    if (!in.ok || (!in.anchored && !wrapped))
        return false;
    /* a guess that does not even match its own line (a "key=" whose value does not have
     * the escape's shape) is no guess */
    struct line_prefix *lp = line_prefix_new(sbuf_span(out), NULL);
    struct line_prefix_match m;
    bool ok = lp && line_prefix_match(lp, line, &m);
    line_prefix_free(lp);
    return ok;
}

#define DETECT_INFER_MAX 16

size_t line_prefix_detect(const struct span *lines, size_t n, struct sbuf *out, bool *inferred,
                          bool wrapped)
{
    size_t best = 0, best_lit = 0;
    struct sbuf cand = SBUF_INIT;
    char *seen[DETECT_INFER_MAX];
    size_t nseen = 0, nknown = 0;

    while (line_prefix_known[nknown])
        nknown++;
    sbuf_reset(out);
    *inferred = false;

    /* Known prefixes first, then up to DETECT_INFER_MAX distinct inferred ones. */
    size_t li = 0;
    for (size_t ci = 0;; ci++) {
        bool inf = ci >= nknown;
        struct span text;
        if (!inf) {
            text = span_cstr(line_prefix_known[ci]);
        } else {
            bool got = false;
            while (!got && li < n && nseen < DETECT_INFER_MAX) {
                struct span l = lines[li++];
                if (!l.len || l.p[0] == '\t' || !line_prefix_infer(l, &cand, wrapped))
                    continue;
                got = true;
                for (size_t k = 0; k < nseen && got; k++)
                    got = strcmp(seen[k], cand.buf) != 0;
                for (size_t k = 0; k < nknown && got; k++)
                    got = strcmp(line_prefix_known[k], cand.buf) != 0;
            }
            if (!got)
                break;
            seen[nseen++] = xstrdup(cand.buf);
            text = span_cstr(seen[nseen - 1]);
        }
        struct line_prefix *lp = line_prefix_new(text, NULL);
        if (!lp)
            continue;
        size_t score = 0, lit = 0;
        for (size_t i = 0; i < n; i++) {
            struct line_prefix_match m;
            if (!lines[i].len || lines[i].p[0] == '\t' || !line_prefix_match(lp, lines[i], &m))
                continue;
            /* PostgreSQL's %m always has its milliseconds: a time without them is another
             * escape's (QA 29: '%h %m [%p] ' took "1795860000.123 2026-11-28 08:00:00 UTC"
             * of '%n %s [%p] ', the epoch as the host and the session start as the time) */
            struct span ms = m.field[LPF_TIME_MS];
            if (ms.p && !memchr(ms.p, '.', ms.len))
                continue;
            score++;
            lit += m.kw_off;
            for (int f = 0; f < LPF_COUNT; f++)
                lit -= m.field[f].len;
        }
        /* More lines win; then the prefix that explains more of them with literal text
         * (user@db/app beats user@db when the lines have the "/"); then the earlier. */
        if (score > best || (score == best && score && lit > best_lit)) {
            best = score;
            best_lit = lit;
            sbuf_reset(out);
            if (sbuf_addspan(out, text) < 0)
                best = 0;
            *inferred = inf;
        }
        line_prefix_free(lp);
    }
    for (size_t k = 0; k < nseen; k++)
        free(seen[k]);
    sbuf_release(&cand);
    return best;
}
