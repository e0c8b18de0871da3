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

struct tok {
    enum tok_kind kind;
    enum lp_field field;
    enum fclass cls;
    int pad;        /* 0: none; > 0 right-justified to pad columns; < 0 left-justified */
    size_t lit_off; /* TK_LIT: offset into lits */
    size_t lit_len;
    /* Free-text fields: bytes that can start what follows the field (a candidate end
     * must sit on one of them). */
    uint8_t follow[32];
};

struct line_prefix {
    char *text; /* the setting as given, NUL-terminated */
    char *lits; /* literal bytes of all TK_LIT tokens (%% already turned into %) */
    struct tok *toks;
    size_t ntok;
    uint32_t has;   /* bit per enum lp_field */
    bool has_cut;   /* a %q is present */
    bool has_names; /* %u or %d present: a relaxed second pass can differ */
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
        size_t len = strlen(name);
        if (s.len <= len || memcmp(s.p, name, len) != 0 || s.p[len] != ':')
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
            while (p < end && is_digit((unsigned char)*p)) {
                if (v <= 100000)
                    v = v * 10 + (*p - '0');
                p++;
            }
            if (p >= end)
                break; /* PostgreSQL stops at a padding that ends the string */
            if (v > 1000) {
                diag_set(d, DIAG_USAGE, "log_line_prefix padding %ld is too large (at most 1000)",
                         v);
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

    for (size_t i = 0; i < lp->ntok; i++)
        if (lp->toks[i].kind == TK_FIELD)
            compute_follow(lp, i, lp->toks[i].follow);
    return lp;
}

void line_prefix_free(struct line_prefix *lp)
{
    if (!lp)
        return;
    free(lp->text);
    free(lp->lits);
    free(lp->toks);
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
    static const char shape[] = "dddd-dd-dd?dd:dd:dd";
    size_t len = sizeof(shape) - 1;

    if (n - i < len)
        return 0;
    for (size_t k = 0; k < len; k++) {
        unsigned char c = (unsigned char)s[i + k];
        if (shape[k] == 'd') {
            if (!is_digit(c))
                return 0;
        } else if (shape[k] == '?') {
            if (c != ' ' && c != 'T')
                return 0;
        } else if (c != (unsigned char)shape[k]) {
            return 0;
        }
    }
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

bool line_prefix_match(const struct line_prefix *lp, struct span line, struct line_prefix_match *m)
{
    struct mctx c = { .lp = lp, .s = line.p, .n = line.len, .m = m };

    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1 && !lp->has_names)
            break;
        memset(m, 0, sizeof(*m));
        c.strict = pass == 0;
        c.budget = SIFT_MAX_PREFIX_STEPS_BASE + SIFT_MAX_PREFIX_STEPS * line.len;
        if (run(&c, 0, 0))
            return true;
    }
    memset(m, 0, sizeof(*m));
    return false;
}
