/* SPDX-License-Identifier: MIT */
/*
 * normalize - the role pass, the canonical rewrite, the hash and redaction. The rules
 * (R1..R13) are described with their reasons in docs/fingerprint.md; the comments here
 * name the rule a piece of code implements.
 *
 * Three passes over one statement, all linear:
 *   1. lex_run(): tokens (lexer.c);
 *   2. assign_roles(): which tokens are constants, parameters, names, absorbed signs,
 *      type modifiers or ORDER BY positions; matching brackets;
 *   3. emit(): the canonical token stream, written twice at once: as a hash input (a
 *      tag byte per token, then a length-prefixed payload: unambiguous) and as the
 *      canonical text (lower case, single spaces, $n placeholders).
 * The buffers are sized once per statement from an upper bound, so emit() writes
 * without checks and allocates only when a statement is larger than any before.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/limits.h"
#include "core/utf8.h"
#include "core/xalloc.h"
#include "normalize/lexer.h"
#include "normalize/normalize.h"

#define NO_MATCH    UINT32_MAX
#define VALUES_NEST 16 /* VALUES lists tracked at once; deeper ones are not collapsed */

/* Per-depth flags (struct normalizer.lv). */
enum {
    LV_TYPMOD = 1 << 0,  /* ( or [ of a type modifier / array bound: numbers stay */
    LV_INTYPE = 1 << 1,  /* ...that belongs to a type name (the name continues after it) */
    LV_CAST = 1 << 2,    /* ( of CAST(: its AS starts a type name */
    LV_BYLIST = 1 << 3,  /* inside ORDER BY / GROUP BY items at this depth */
    LV_TL = 1 << 4,      /* inside a SELECT/RETURNING target list at this depth */
    LV_FROM = 1 << 5,    /* emission: in a FROM list, JOIN, UPDATE/DELETE/MERGE target */
    LV_GSET = 1 << 6,    /* roles: a grouping-set list (CUBE/ROLLUP/GROUPING SETS (..), a
                            set in one, a parenthesized GROUP/ORDER BY item) */
    LV_GROUPBY = 1 << 7, /* roles: the BY list is GROUP BY's */
    LV_OPTS = 1 << 6,    /* emission (LV_GSET's bit, a role-pass flag): OPTIONS (name 'v', ..) */
};

/* Per-token emission actions (struct normalizer.act), set by look-ahead. */
enum { ACT_NONE = 0, ACT_SKIP, ACT_DCOLON, ACT_ROWS };

/* Spacing class of the last token written to the canonical text. */
enum { SP_START, SP_NOSPACE_AFTER, SP_CALLABLE, SP_OTHER };

struct mark {
    size_t hlen, tlen;
    uint32_t cnum;
    uint8_t last;
};

/* An `OFFSET a LIMIT b` pair being written, to be turned into `LIMIT b OFFSET a` once the
 * LIMIT clause (tokens mid..end) has been written: the text and hash written from t0/h0
 * (OFFSET) and t1/h1 (LIMIT) swap places. */
struct swap {
    uint32_t mid, end;
    size_t t0, h0, t1, h1;
    uint8_t last1; /* spacing class after the OFFSET clause */
    bool have_mid;
};

struct vctx {
    uint32_t depth; /* depth of the VALUES key word; rows open at depth + 1 */
    bool open;      /* a row is being written */
    bool have_prev, has_sep, collapsed;
    size_t row_h;            /* hash offset where the open row starts */
    size_t prev_h0, prev_h1; /* the previous kept row in the hash buffer */
    struct mark sep;         /* state before the ',' preceding the open row */
};

/* One remembered statement of the text -> fingerprint cache (normalize_event()). */
struct fp_entry {
    uint64_t hash; /* XXH3-64 of the raw text */
    uint64_t fp, fp_hi;
    uint64_t used; /* tick of the last hit (the older of two ways is replaced) */
    char *raw;     /* raw text, then canonical text and a NUL: one allocation of cap
                      bytes, kept for the next text of the entry when large enough */
    uint32_t raw_len, canon_len, cap;
    bool valid; /* raw holds a text */
};

struct normalizer {
    struct norm_opts o;
    struct fp_entry *cache; /* SIFT_FP_CACHE_SLOTS, two ways per set; NULL until used */
    size_t cache_bytes;
    uint64_t cache_tick;
    struct fp_entry *last_entry; /* the entry the previous normalize_event() used, or NULL */
    struct norm_cache_stats cstats;
    struct lex lx;
    struct lex lx_alt; /* prepare(): the other reading of backslashes in '..' */
    const char *src;
    uint32_t *match; /* per token: index of the matching bracket or NO_MATCH */
    uint32_t *fault; /* fault[k]: brackets before token k with no match, or one of the
                        other kind ('(' closed by ']') (bracket_faults()) */
    bool balanced;   /* every bracket has its match, of its kind, and holds no ';' */
    bool read_bs;    /* prepare() read '..' with backslash escapes (NORM_BACKSLASH) */
    uint32_t *stack;
    uint8_t *lv;  /* per depth, n + 2 entries */
    uint8_t *act; /* per token */
    uint32_t acap;

    uint8_t *hb; /* hash input */
    size_t hlen, hcap;
    char *tb; /* canonical text */
    size_t tlen, tcap;

    uint32_t cnum;           /* number of the next constant placeholder */
    uint32_t nconst, nparam; /* constants and parameters of the statement */
    uint8_t last;            /* SP_* */
    unsigned flags;
    struct vctx vs[VALUES_NEST];
    unsigned nv;
    struct swap *sw; /* pending OFFSET/LIMIT reorders, innermost last (emit_all()) */
    /* skip_position_parens(): the run of '(' from pp_first to pp_num (the token after
     * it), and how many of its pairs, from the innermost out, close right after pp_num */
    uint32_t pp_first, pp_num, pp_matched;
    uint32_t nsw, swcap;
};

struct normalizer *normalize_new(const struct norm_opts *opts)
{
    struct normalizer *nz = xcalloc(1, sizeof(*nz));
    if (opts)
        nz->o = *opts;
    nz->lx = (struct lex)LEX_INIT;
    keyword_init();
    return nz;
}

void normalize_free(struct normalizer *nz)
{
    if (!nz)
        return;
    lex_release(&nz->lx);
    lex_release(&nz->lx_alt);
    if (nz->cache) {
        for (size_t i = 0; i < SIFT_FP_CACHE_SLOTS; i++)
            free(nz->cache[i].raw);
        free(nz->cache);
    }
    free(nz->match);
    free(nz->fault);
    free(nz->stack);
    free(nz->lv);
    free(nz->act);
    free(nz->hb);
    free(nz->tb);
    free(nz->sw);
    free(nz);
}

static void reserve_tokens(struct normalizer *nz)
{
    uint32_t need = nz->lx.n + 2;
    if (need <= nz->acap)
        return;
    uint32_t cap = nz->acap ? nz->acap : 256;
    while (cap < need)
        cap *= 2;
    nz->match = xrealloc(nz->match, (size_t)cap * sizeof(*nz->match));
    nz->fault = xrealloc(nz->fault, (size_t)cap * sizeof(*nz->fault));
    nz->stack = xrealloc(nz->stack, (size_t)cap * sizeof(*nz->stack));
    nz->lv = xrealloc(nz->lv, cap);
    nz->act = xrealloc(nz->act, cap);
    nz->acap = cap;
}

/* ---------------------------------------------------------------- roles */

/*
 * The key word a token is to the rules, or 0. A word with a role (a SET value, TRUE/
 * FALSE/NULL as a value, a cursor or statement name) is written as a placeholder, so in
 * the canonical text it is no key word: if it acted as one here, the text would not
 * read back the same ("SET t = ORDER BY 3" made 3 an ORDER BY position; the text
 * "set t = $1 by 3" does not - found by fuzz_lexer's fixed-point oracle).
 */
static unsigned word_kw(const struct token *t)
{
    return t->kind == TOK_WORD && t->role == ROLE_PLAIN ? t->kw : 0;
}

static bool is_kw(const struct token *t, unsigned kw)
{
    return word_kw(t) == kw && kw != 0;
}

static bool is_punct(const struct token *t, unsigned p)
{
    return t->kind == TOK_PUNCT && t->sub == p;
}

/* Is t the key word @w (one with no kw_id of its own: compared by name)? */
static bool kw_named(const struct token *t, const char *w)
{
    return word_kw(t) && !strcmp(keywords[t->kw].word, w);
}

/* A key word no rule reacts to and that cannot continue an expression: it behaves as a
 * plain name (an implicit alias, R12), and a quoted identifier spelling it is that word
 * (R3). Both rules use this one set, so that "x" and x behave alike. */
static bool plain_keyword(unsigned kw)
{
    return kw == 0 || (keywords[kw].cat == KWC_U && kw >= KW_RULE_COUNT &&
                       !(keywords[kw].flags & KWF_NOALIAS));
}

/* A key word that starts a clause (FROM, GROUP, LIMIT, ...: KWF_CLAUSE) at t[j], except
 * where it is part of an expression: the GROUP of `f() WITHIN GROUP (..)` and the FROM of
 * `a IS [NOT] DISTINCT FROM b`. Taking those for clauses ended a target list early, so
 * the later column aliases were no longer dropped (R12). */
static bool clause_word(const struct token *t, uint32_t j)
{
    unsigned kw = word_kw(&t[j]);
    if (!(keywords[kw].flags & KWF_CLAUSE))
        return false;
    if (kw == KW_GROUP && j > 0 && word_kw(&t[j - 1]) &&
        !strcmp(keywords[t[j - 1].kw].word, "within"))
        return false;
    if (kw == KW_FROM && j > 1 && is_kw(&t[j - 1], KW_DISTINCT) &&
        (is_kw(&t[j - 2], KW_IS) || (j > 2 && is_kw(&t[j - 2], KW_NOT) && is_kw(&t[j - 3], KW_IS))))
        return false;
    return true;
}

/* Does this token end an operand, so that a following '-' is binary and a following
 * bare word is a column alias? */
static bool operand_end(const struct token *t)
{
    switch (t->kind) {
    case TOK_NUMBER:
    case TOK_STRING:
    case TOK_PARAM:
    case TOK_QIDENT: return true;
    case TOK_WORD:
        return t->role == ROLE_NAME || t->role == ROLE_CONST || keyword_operand_end(t->kw);
    case TOK_PUNCT: return t->sub == P_RPAREN || t->sub == P_RBRACK;
    default: return false;
    }
}

/* A name: a word or a closed quoted identifier (an open one swallowed the rest of the
 * statement and is redacted as a constant). */
static bool nameable(const struct token *t, uint32_t j, uint32_t n)
{
    return j < n && (t[j].kind == TOK_WORD ||
                     (t[j].kind == TOK_QIDENT && !(t[j].flags & TOKF_UNTERMINATED)));
}

/*
 * R11: SET's values are constants, bare words included (`SET search_path = s2, public`,
 * `SET x = on`, `SET ROLE r`): the grammar makes them string constants, which
 * PostgreSQL 16+ (and libpg_query) normalize. DEFAULT and TIME ZONE LOCAL are not values.
 */
static void set_values(struct token *t, uint32_t n, uint32_t j)
{
    bool zone = false;
    if (j < n && (is_kw(&t[j], KW_SESSION) || is_kw(&t[j], KW_LOCAL)))
        j++;
    if (j < n && (is_kw(&t[j], KW_ROLE) || is_kw(&t[j], KW_AUTHORIZATION))) {
        j++;
    } else if (j + 1 < n && is_kw(&t[j], KW_TIME) && is_kw(&t[j + 1], KW_ZONE)) {
        j += 2;
        zone = true;
    } else if (nameable(t, j, n)) {
        j++;
        while (j + 1 < n && is_punct(&t[j], P_DOT) && nameable(t, j + 1, n))
            j += 2;
        if (j >= n || !(is_kw(&t[j], KW_TO) || (t[j].kind == TOK_OP && t[j].sub == OP_EQ)))
            return;
        if (t[j].kind == TOK_WORD)
            t[j].sub = WORD_EQUALS;
        j++;
    } else {
        return;
    }
    /* value [, value]...: each a word, a quoted name, a string or a signed number; the
     * first token that is none of these ends the list (TIME ZONE INTERVAL '1' HOUR, and
     * anything that is not SET syntax, keep their own roles). */
    for (;;) {
        if (j < n && t[j].kind == TOK_OP && (t[j].sub == OP_MINUS || t[j].sub == OP_PLUS))
            j++;
        if (j >= n)
            return;
        if (t[j].kind == TOK_WORD) {
            if (t[j].role != ROLE_PLAIN || is_kw(&t[j], KW_DEFAULT) ||
                (zone && (is_kw(&t[j], KW_LOCAL) || is_kw(&t[j], KW_INTERVAL))))
                return;
            t[j].role = ROLE_CONST;
        } else if (nameable(t, j, n)) {
            t[j].role = ROLE_CONST; /* "$user" */
        } else if (t[j].kind != TOK_STRING && t[j].kind != TOK_NUMBER) {
            return;
        }
        if (++j >= n || !is_punct(&t[j], P_COMMA))
            return;
        j++;
    }
}

/* Is t[j] the word @w (lower case), or a quoted identifier R3 folds into it? */
static bool word_is(const struct token *t, uint32_t j, uint32_t n, const char *src, const char *w)
{
    size_t len = strlen(w);
    if (j >= n || t[j].role != ROLE_PLAIN)
        return false;
    const char *p = src + t[j].off;
    if (t[j].kind == TOK_WORD) {
        if (t[j].len != len)
            return false;
        for (size_t i = 0; i < len; i++)
            if (ascii_lower((unsigned char)p[i]) != (unsigned char)w[i])
                return false;
        return true;
    }
    return t[j].kind == TOK_QIDENT && t[j].sub == QI_PLAIN && t[j].len == len + 2 &&
           !memcmp(p + 1, w, len);
}

/* A FETCH count: [+|-] and one token that is or becomes a placeholder (a number, a
 * parameter, a string, TRUE/FALSE/NULL). */
static bool fetch_count(const struct token *t, uint32_t n, uint32_t *j)
{
    uint32_t k = *j;
    /* (a second sign belongs to the number: R5 writes "+ -0" as "+ $1", found by
     * fuzz_lexer) */
    for (int sign = 0;
         sign < 2 && k < n && t[k].kind == TOK_OP && (t[k].sub == OP_MINUS || t[k].sub == OP_PLUS);
         sign++)
        k++;
    if (k >= n || !(t[k].kind == TOK_NUMBER || t[k].kind == TOK_PARAM || t[k].kind == TOK_STRING ||
                    is_kw(&t[k], KW_TRUE) || is_kw(&t[k], KW_FALSE) || is_kw(&t[k], KW_NULL)))
        return false;
    *j = k + 1;
    return true;
}

/*
 * FETCH/MOVE's direction (scan.l/gram.y fetch_args) from *j, then FROM or IN: moves *j
 * to what must be the cursor. Returns false when the tokens are not that syntax. The
 * grammar is matched, not a look at the neighbours of the last token, because the
 * canonical text changes neighbours (IN (x) -> = x, CAST(x AS t) -> x::t): "FETCH)IN(a)N"
 * made N a cursor only the second time (found by fuzz_lexer's fixed-point oracle). What
 * the grammar accepts is kept by the rewrites: constants become $n (still a count),
 * folded quoted words are the words.
 */
static bool fetch_direction(const struct token *t, uint32_t n, const char *src, uint32_t *j)
{
    static const char *const simple[] = { "next", "prior", "first", "last" };
    uint32_t k = *j;
    bool dir = false;
    for (size_t w = 0; w < ARRAY_SIZE(simple) && !dir; w++)
        dir = word_is(t, k, n, src, simple[w]);
    if (k >= n)
        return false;
    if (dir || is_kw(&t[k], KW_ALL)) {
        k++;
    } else if (word_is(t, k, n, src, "absolute") || word_is(t, k, n, src, "relative")) {
        k++;
        if (!fetch_count(t, n, &k))
            return false;
    } else if (word_is(t, k, n, src, "forward") || word_is(t, k, n, src, "backward")) {
        k++;
        if (k < n && is_kw(&t[k], KW_ALL))
            k++;
        else
            (void)fetch_count(t, n, &k);
    } else {
        (void)fetch_count(t, n, &k);
    }
    if (k < n && (is_kw(&t[k], KW_FROM) || is_kw(&t[k], KW_IN)))
        k++;
    *j = k;
    return true;
}

/*
 * R11: the SET of ALTER SYSTEM SET, ALTER ROLE|USER name [IN DATABASE db] SET, ALTER
 * DATABASE name SET and ALTER FUNCTION|PROCEDURE|ROUTINE name[(args)] ... SET (one or
 * more) takes the same values as SET: constants, TO written =. (ALTER .. SET SCHEMA s,
 * SET TABLESPACE t, SET x FROM CURRENT and RESET have no value: set_values() leaves them.)
 */
static void alter_set(struct token *t, uint32_t n, uint32_t i)
{
    uint32_t j = i + 1;
    if (j >= n)
        return;
    if (kw_named(&t[j], "system")) {
        if (j + 1 < n && is_kw(&t[j + 1], KW_SET))
            set_values(t, n, j + 2);
    } else if (is_kw(&t[j], KW_ROLE) || is_kw(&t[j], KW_USER) || kw_named(&t[j], "database")) {
        j += 2; /* the role or database */
        if (j + 2 < n && is_kw(&t[j], KW_IN) && kw_named(&t[j + 1], "database"))
            j += 3;
        if (j < n && is_kw(&t[j], KW_SET))
            set_values(t, n, j + 1);
    } else if (kw_named(&t[j], "function") || kw_named(&t[j], "procedure") ||
               kw_named(&t[j], "routine")) {
        /* Every SET outside the argument list, to the end of the statement. */
        uint32_t depth = 0;
        for (j++; j < n && !is_punct(&t[j], P_SEMI); j++) {
            if (is_punct(&t[j], P_LPAREN))
                depth++;
            else if (is_punct(&t[j], P_RPAREN) && depth)
                depth--;
            else if (depth == 0 && is_kw(&t[j], KW_SET))
                set_values(t, n, j + 1);
        }
    }
}

/* R11: names of prepared statements, cursors, savepoints and channels, at the start of
 * a statement (i), become a NAME placeholder; SET values become constants. */
static void statement_roles(struct token *t, uint32_t n, const char *src, uint32_t i)
{
    uint32_t j = i + 1;
    switch (t[i].kw) {
    case KW_SET: set_values(t, n, j); break;
    case KW_EXPLAIN:
        while (j < n && (is_kw(&t[j], KW_ANALYZE) || is_kw(&t[j], KW_VERBOSE)))
            j++;
        if (j < n && is_kw(&t[j], KW_EXECUTE) && nameable(t, j + 1, n))
            t[j + 1].role = ROLE_NAME;
        break;
    case KW_PREPARE:
        if (nameable(t, j, n) && !is_kw(&t[j], KW_TRANSACTION))
            t[j].role = ROLE_NAME;
        break;
    case KW_EXECUTE:
    case KW_DECLARE:
    case KW_SAVEPOINT:
    case KW_LISTEN:
    case KW_UNLISTEN:
    case KW_NOTIFY:
        if (nameable(t, j, n))
            t[j].role = ROLE_NAME;
        break;
    case KW_DEALLOCATE:
        if (j < n && is_kw(&t[j], KW_PREPARE))
            j++;
        FALLTHROUGH;
    case KW_CLOSE:
        if (nameable(t, j, n) && !is_kw(&t[j], KW_ALL))
            t[j].role = ROLE_NAME;
        break;
    case KW_RELEASE:
        if (j < n && is_kw(&t[j], KW_SAVEPOINT))
            j++;
        if (nameable(t, j, n))
            t[j].role = ROLE_NAME;
        break;
    case KW_ROLLBACK:
        if (j < n && (is_kw(&t[j], KW_WORK) || is_kw(&t[j], KW_TRANSACTION)))
            j++;
        if (j < n && is_kw(&t[j], KW_TO)) {
            j++;
            if (j < n && is_kw(&t[j], KW_SAVEPOINT))
                j++;
            if (nameable(t, j, n))
                t[j].role = ROLE_NAME;
        }
        break;
    case KW_FETCH:
    case KW_MOVE:
        /* FETCH [direction] [FROM|IN] cursor: the cursor is the statement's last token. */
        if (fetch_direction(t, n, src, &j)) {
            uint32_t k = j;
            while (k < n && !is_punct(&t[k], P_SEMI))
                k++;
            if (k == j + 1 && nameable(t, j, n))
                t[j].role = ROLE_NAME;
        }
        break;
    default:
        if (kw_named(&t[i], "alter"))
            alter_set(t, n, i);
        break;
    }
}

/* The token after an ORDER/GROUP BY item: a ',', a ')', a ';', the end, or a reserved
 * word (ASC, DESC, USING, LIMIT, ...) or NULLS. */
static bool item_ends(const struct token *t, uint32_t j, uint32_t n)
{
    if (j >= n)
        return true;
    if (t[j].kind == TOK_PUNCT)
        return t[j].sub == P_COMMA || t[j].sub == P_RPAREN || t[j].sub == P_SEMI;
    if (kw_named(&t[j], "using")) /* ORDER BY 1 USING < (QA 19: a position, measured) */
        return true;
    /* Only the key words that may follow an ORDER/GROUP BY item end it. Any other
     * word continues an expression, and the canonical text rewrites some of those
     * (CAST(x AS t) -> x::t, IN (a) -> = a), so accepting them would canonicalise
     * "ORDER BY 2CAST(..)" or "ORDER BY 5IN(a)" differently the second time (found by
     * fuzz_lexer's fixed-point oracle). */
    switch (word_kw(&t[j])) {
    case KW_ASC:
    case KW_DESC:
    case KW_NULLS:
    case KW_LIMIT:
    case KW_OFFSET:
    case KW_FETCH:
    case KW_FOR:
    case KW_UNION:
    case KW_INTERSECT:
    case KW_EXCEPT:
    case KW_WINDOW:
    case KW_HAVING:
    case KW_ORDER:
    case KW_RETURNING:
    case KW_ON:
    case KW_INTO: return true;
    default: return false;
    }
}

/* Is t[i] the form of `a IS [NOT] NFC NORMALIZED` or `normalize(a, NFC)` (@open: the
 * innermost open '(')? The grammar makes it a string constant (is_normalized(a, 'NFC')),
 * which pg_stat_statements replaces like any other: the forms are one group. */
static bool normal_form(const struct token *t, uint32_t n, uint32_t i, uint32_t open)
{
    const char *w = keywords[t[i].kw].word;
    if (t[i].kw == 0 || w[0] != 'n' || w[1] != 'f' ||
        !(!strcmp(w, "nfc") || !strcmp(w, "nfd") || !strcmp(w, "nfkc") || !strcmp(w, "nfkd")))
        return false;
    if (i > 0 && i + 1 < n && word_kw(&t[i + 1]) &&
        !strcmp(keywords[t[i + 1].kw].word, "normalized"))
        return is_kw(&t[i - 1], KW_IS) ||
               (i > 1 && is_kw(&t[i - 1], KW_NOT) && is_kw(&t[i - 2], KW_IS));
    return i > 0 && is_punct(&t[i - 1], P_COMMA) && i + 1 < n && is_punct(&t[i + 1], P_RPAREN) &&
           open != NO_MATCH && open > 0 && word_kw(&t[open - 1]) &&
           !strcmp(keywords[t[open - 1].kw].word, "normalize");
}

/*
 * Does the '(' at t[i] (@outer: the flags of the depth it opens in) hold grouping items,
 * whose whole-item integers are column positions as in GROUP BY 1 (LV_GSET)? The parser
 * resolves them so (pg_stat_statements keeps `CUBE (1, 2)` as written; CUBE (1, 2) and
 * CUBE (2, 1) have two query ids): CUBE (..), ROLLUP (..) and GROUPING SETS (..) in a
 * GROUP BY list, a set in one of those, and a parenthesized GROUP BY item, which the
 * parser flattens (a row of items, or one item: parentheses make no node). In ORDER BY
 * only parentheses around nothing but an integer: ORDER BY (1) is ORDER BY 1, but
 * ORDER BY (1, 2) sorts by a row. Never a subquery's parentheses.
 */
static bool grouping_paren(const struct token *t, uint32_t n, uint32_t i, uint8_t outer)
{
    if (i == 0 || i + 1 >= n || is_kw(&t[i + 1], KW_SELECT) || is_kw(&t[i + 1], KW_VALUES) ||
        is_kw(&t[i + 1], KW_WITH) || kw_named(&t[i + 1], "table"))
        return false;
    const struct token *p = &t[i - 1];
    bool item = is_kw(p, KW_BY) || is_punct(p, P_COMMA);
    if (outer & LV_GROUPBY) {
        if (item || kw_named(p, "cube") || kw_named(p, "rollup") ||
            (kw_named(p, "sets") && i > 1 && kw_named(&t[i - 2], "grouping")))
            return true;
    } else if ((outer & LV_BYLIST) && item) {
        /* (every '(' closed right after the number: "ORDER BY((2),)" is a row, found by
         * fuzz_lexer) */
        uint32_t j = i;
        while (j < n && is_punct(&t[j], P_LPAREN))
            j++;
        if (j >= n || t[j].kind != TOK_NUMBER)
            return false;
        for (uint32_t d = 1; d <= j - i; d++)
            if (j + d >= n || !is_punct(&t[j + d], P_RPAREN))
                return false;
        return true;
    }
    if (outer & LV_GSET)
        return is_punct(p, P_LPAREN) || is_punct(p, P_COMMA) || kw_named(p, "cube") ||
               kw_named(p, "rollup") ||
               (kw_named(p, "sets") && i > 1 && kw_named(&t[i - 2], "grouping"));
    return false;
}

/*
 * Is an ORDER BY at the depth opened by stack[sp - 1] a sort of a window (OVER (..),
 * WINDOW w AS (..)) or of an aggregate's input (string_agg(x, ',' ORDER BY ..), WITHIN
 * GROUP (ORDER BY ..))? The parser reads those with SQL99's rules (transformSortClause's
 * useSQL99): an integer there is a value, not a column position, and pg_stat_statements
 * replaces it like any other constant. Only a query's own ORDER BY (at the top, or in
 * parentheses that hold a query: (SELECT ..), ((SELECT ..) UNION ..)) sorts by position.
 */
static bool sql99_sort(const struct token *t, uint32_t n, const uint32_t *stack, uint32_t sp)
{
    if (sp == 0)
        return false;
    uint32_t j = stack[sp - 1];
    while (j < n && is_punct(&t[j], P_LPAREN))
        j++;
    return !(j < n && (is_kw(&t[j], KW_SELECT) || is_kw(&t[j], KW_VALUES) ||
                       is_kw(&t[j], KW_WITH) || kw_named(&t[j], "table")));
}

/* Does a string option value start at t[j]: [AS] a string, or the parameter the canonical
 * text writes for it? (COPY .. WITH NULL AS 'x', (FORMAT csv, NULL 'x').) */
static bool option_string(const struct token *t, uint32_t n, uint32_t j)
{
    if (j < n && is_kw(&t[j], KW_AS))
        j++;
    return j < n && (t[j].kind == TOK_STRING || t[j].kind == TOK_PARAM);
}

enum { TS_NONE, TS_START, TS_NAME, TS_AFTER };

static void assign_roles(struct normalizer *nz)
{
    struct token *t = nz->lx.tok;
    uint32_t n = nz->lx.n, depth = 0, sp = 0, stmt = 0;
    uint8_t *lv = nz->lv;
    int ts = TS_NONE; /* where we are in a type name after '::' or CAST(.. AS */
    uint32_t consts = 0, params = 0;

    lv[0] = 0;
    nz->balanced = true;
    for (uint32_t i = 0; i < n; i++) {
        struct token *k = &t[i];
        int ts_next = TS_NONE;
        nz->match[i] = NO_MATCH;

        switch (k->kind) {
        case TOK_PUNCT:
            switch (k->sub) {
            case P_LPAREN:
            case P_LBRACK: {
                uint8_t f = 0;
                if (ts == TS_NAME || ts == TS_AFTER) {
                    f = LV_TYPMOD | LV_INTYPE;
                    if (k->sub == P_LBRACK)
                        k->flags |= TOKF_TYPEARRAY;
                } else if (k->sub == P_LPAREN && i > 0 && t[i - 1].kind == TOK_WORD &&
                           t[i - 1].role == ROLE_PLAIN &&
                           (keywords[t[i - 1].kw].flags & KWF_TYPMOD))
                    f = LV_TYPMOD; /* char(22), numeric(10,2) in DDL */
                if (k->sub == P_LPAREN && i > 0 && is_kw(&t[i - 1], KW_CAST))
                    f |= LV_CAST;
                if (k->sub == P_LPAREN && grouping_paren(t, n, i, lv[depth]))
                    f |= LV_GSET;
                /* DISTINCT ON (1, 2): the parser reads its integers as positions, as in
                 * ORDER BY (QA 19: two query ids for ON (1) and ON (2), measured). */
                if (k->sub == P_LPAREN && i > 1 && is_kw(&t[i - 1], KW_ON) &&
                    is_kw(&t[i - 2], KW_DISTINCT))
                    f |= LV_GSET;
                nz->stack[sp++] = i;
                lv[++depth] = f;
                break;
            }
            case P_RPAREN:
            case P_RBRACK:
                if (sp > 0) {
                    uint32_t j = nz->stack[--sp];
                    nz->match[i] = j;
                    nz->match[j] = i;
                    if ((t[j].sub == P_LPAREN) != (k->sub == P_RPAREN))
                        nz->balanced = false;
                    if (lv[depth] & LV_INTYPE)
                        ts_next = TS_AFTER;
                    depth--;
                } else {
                    nz->balanced = false;
                }
                break;
            case P_DCOLON: ts_next = TS_START; break;
            case P_DOT:
                if (ts == TS_NAME)
                    ts_next = TS_START;
                break;
            case P_SEMI:
                stmt = i + 1;
                lv[depth] = 0;
                if (sp > 0)
                    nz->balanced = false; /* a statement ends inside a bracket */
                break;
            default: break;
            }
            break;

        case TOK_QIDENT:
            if (ts == TS_START)
                ts_next = TS_NAME;
            if (k->role == ROLE_PLAIN && (k->flags & TOKF_UNTERMINATED))
                k->role = ROLE_CONST; /* it swallowed the rest: may hold literals */
            break;

        case TOK_WORD:
            if (lv[depth] & LV_TYPMOD)
                k->marks |= TOKM_IN_TYPMOD;
            if (ts == TS_START)
                ts_next = TS_NAME;
            else if ((ts == TS_NAME || ts == TS_AFTER) && (keywords[k->kw].flags & KWF_TYPEWORD))
                ts_next = TS_NAME;
            else if ((ts == TS_NAME || ts == TS_AFTER) && k->kw == KW_ARRAY) {
                ts_next = TS_AFTER; /* int ARRAY, int ARRAY[4]: the SQL-standard int[] */
                k->flags |= TOKF_TYPEARRAY;
            }
            if (ts_next == TS_NAME && !(k->flags & TOKF_TYPEARRAY))
                k->flags |= TOKF_TYPENAME; /* (ARRAY is no word of the name: int ARRAY is int[]) */
            if (k->role != ROLE_PLAIN)
                break;
            if (i == stmt)
                statement_roles(t, n, nz->src, i);
            /* A word read as a type's name is a name, even TRUE, FALSE or NULL (not SQL:
             * "::NULL(1)" made NULL a constant and (1) its modifier, which the text read
             * back, "::$1 (1", does not have - fuzz_lexer). */
            if ((k->flags & TOKF_TYPENAME) &&
                (k->kw == KW_TRUE || k->kw == KW_FALSE || k->kw == KW_NULL))
                break;
            switch (k->kw) {
            case KW_TRUE:
            case KW_FALSE:
                /* R4: booleans are constants, except in IS [NOT] TRUE/FALSE. */
                if (!(i > 0 && is_kw(&t[i - 1], KW_IS)) &&
                    !(i > 1 && is_kw(&t[i - 1], KW_NOT) && is_kw(&t[i - 2], KW_IS)))
                    k->role = ROLE_CONST;
                break;
            case KW_NULL:
                /* R4: NULL is a constant, except in IS [NOT] NULL and NOT NULL, and
                 * COPY's NULL [AS] 'string' option (or the $n the text writes for the string). */
                if (!(i > 0 && (is_kw(&t[i - 1], KW_IS) || is_kw(&t[i - 1], KW_NOT))) &&
                    !option_string(t, n, i + 1))
                    k->role = ROLE_CONST;
                break;
            case KW_AS:
                if (lv[depth] & LV_CAST)
                    ts_next = TS_START;
                break;
            case KW_BY:
                if (lv[depth] & LV_TYPMOD)
                    break; /* not SQL: "x::r(GROUP BY (0)" has no positions (fuzz_lexer) */
                if (i > 0 && is_kw(&t[i - 1], KW_ORDER) && !sql99_sort(t, n, nz->stack, sp))
                    lv[depth] = (uint8_t)((lv[depth] & ~LV_GROUPBY) | LV_BYLIST);
                else if (i > 0 && is_kw(&t[i - 1], KW_ORDER))
                    lv[depth] &= (uint8_t) ~(LV_BYLIST | LV_GROUPBY);
                else if (i > 0 && is_kw(&t[i - 1], KW_GROUP))
                    lv[depth] |= LV_BYLIST | LV_GROUPBY;
                break;
            default:
                if (clause_word(t, i))
                    lv[depth] &= (uint8_t) ~(LV_BYLIST | LV_GROUPBY);
                if (normal_form(t, n, i, sp ? nz->stack[sp - 1] : NO_MATCH))
                    k->role = ROLE_CONST;
                break;
            }
            break;

        case TOK_NUMBER:
            if (lv[depth] & LV_TYPMOD) {
                k->role = ROLE_TYPMOD; /* varchar(20), int[3]: not a value */
                if (lv[depth] & LV_INTYPE)
                    k->flags |= TOKF_CASTMOD;
                break;
            }
            /* Only an integer is a position (the server: "non-integer constant in ORDER
             * BY"), and one that fits an int4; any other number is a value (R4). */
            if (i > 0 && item_ends(t, i + 1, n) && k->sub != NUM_DECIMAL && k->sub != NUM_REAL &&
                k->len <= 10 &&
                (((lv[depth] & LV_BYLIST) &&
                  (is_kw(&t[i - 1], KW_BY) || is_punct(&t[i - 1], P_COMMA) ||
                   ((lv[depth] & LV_GROUPBY) && i > 1 && is_kw(&t[i - 2], KW_BY) &&
                    (is_kw(&t[i - 1], KW_ALL) || is_kw(&t[i - 1], KW_DISTINCT))))) ||
                 ((lv[depth] & LV_GSET) &&
                  (is_punct(&t[i - 1], P_LPAREN) || is_punct(&t[i - 1], P_COMMA))))) {
                k->role = ROLE_POSITION; /* ORDER BY 1, CUBE (1, 2): a column position */
                break;
            }
            k->role = ROLE_CONST;
            /* R5: a unary minus before a number belongs to the constant (the grammar
             * folds it: doNegate), unless '::' or '[' binds tighter. */
            if (i > 0 && t[i - 1].kind == TOK_OP && t[i - 1].sub == OP_MINUS &&
                t[i - 1].role == ROLE_PLAIN && (i < 2 || !operand_end(&t[i - 2])) &&
                !(i + 1 < n && (is_punct(&t[i + 1], P_DCOLON) || is_punct(&t[i + 1], P_LBRACK)))) {
                t[i - 1].role = ROLE_SIGN;
                k->flags |= TOKF_NEGATIVE;
            }
            break;

        case TOK_STRING:
            if (k->role == ROLE_PLAIN)
                k->role = ROLE_CONST;
            break;
        case TOK_PARAM: k->role = ROLE_PARAM; break;
        default: break;
        }
        ts = ts_next;
    }
    if (sp > 0)
        nz->balanced = false;
    /* Roles of earlier tokens are final now (later tokens only change their own or a
     * following token's role, except a sign, which is not counted). */
    for (uint32_t i = 0; i < n; i++) {
        consts += t[i].role == ROLE_CONST;
        params += t[i].role == ROLE_PARAM;
    }
    nz->nconst = consts;
    nz->nparam = params;
}

/* ---------------------------------------------------------------- emission */

static inline uint8_t *put_varint(uint8_t *p, uint32_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

static void hash_tag(struct normalizer *nz, uint8_t tag)
{
    nz->hb[nz->hlen++] = tag;
}

static void hash_bytes(struct normalizer *nz, uint8_t tag, const void *p, size_t len)
{
    uint8_t *h = nz->hb + nz->hlen;
    *h++ = tag;
    h = put_varint(h, (uint32_t)len);
    memcpy(h, p, len);
    nz->hlen = (size_t)(h - nz->hb) + len;
}

/* Whether the text ends in a word (a name such as s2 or t1, which "." may follow as in
 * s2.items) rather than a number or a parameter ($1, 5: "5.x" would lex as "5." "x"):
 * the run of word bytes at its end starts with a letter, '_' or a non-ASCII byte. */
static bool ends_word(const struct normalizer *nz)
{
    size_t i = nz->tlen;
    while (i > 0) {
        unsigned char c = (unsigned char)nz->tb[i - 1];
        if (!(c >= 0x80 || c == '_' || c == '$' || (c >= '0' && c <= '9') ||
              (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
            break;
        i--;
    }
    if (i == nz->tlen)
        return false;
    unsigned char c0 = (unsigned char)nz->tb[i];
    return c0 >= 0x80 || c0 == '_' || (c0 >= 'a' && c0 <= 'z') || (c0 >= 'A' && c0 <= 'Z');
}

/* A separator before the next text token (whose first byte is @first) unless one side
 * forbids it - and even then when the two would lex as one token (". ." is not "..",
 * ": =" is not ":=", ".5" is not ". 5"): the canonical text must lex back to itself. */
static void text_space(struct normalizer *nz, bool tight_before, char first)
{
    if (nz->last == SP_START)
        return;
    if (nz->last != SP_NOSPACE_AFTER && !tight_before) {
        nz->tb[nz->tlen++] = ' ';
        return;
    }
    char last = nz->tb[nz->tlen - 1];
    bool digit = first >= '0' && first <= '9';
    if ((last == '.' && (first == '.' || digit)) ||
        (last == ':' && (first == ':' || first == '=')) ||
        (last >= '0' && last <= '9' && first == '.' && !ends_word(nz)))
        nz->tb[nz->tlen++] = ' ';
}

static void text_raw(struct normalizer *nz, const char *p, size_t len)
{
    memcpy(nz->tb + nz->tlen, p, len);
    nz->tlen += len;
}

/* Identifiers are truncated to NAMEDATALEN - 1 = 63 bytes (at a character boundary),
 * as PostgreSQL does: two names equal in their first 63 bytes are the same name. */
static size_t ident_len(const char *p, size_t len)
{
    if (len <= 63)
        return len;
    /* Back up over at most 3 continuation bytes (a UTF-8 character has at most 4). */
    size_t cut = 63;
    while (cut > 60 && ((unsigned char)p[cut] & 0xc0) == 0x80)
        cut--;
    return ((unsigned char)p[cut] & 0xc0) == 0x80 ? 63 : cut;
}

/* R2: a word, lower-cased (ASCII only, like downcase_identifier for UTF-8). */
static void emit_word_text(struct normalizer *nz, const char *p, size_t len, unsigned kw)
{
    len = ident_len(p, len);
    text_space(nz, false, len ? p[0] : ' ');
    char *o = nz->tb + nz->tlen;
    for (size_t i = 0; i < len; i++)
        o[i] = (char)ascii_lower((unsigned char)p[i]);
    hash_bytes(nz, 'w', o, len);
    nz->tlen += len;
    bool callable = kw == 0 ||
                    ((keywords[kw].cat == KWC_U || keywords[kw].cat == KWC_C) && kw != KW_VALUES) ||
                    kw == KW_ANY || kw == KW_ALL || kw == KW_SOME || kw == KW_ARRAY;
    nz->last = callable ? SP_CALLABLE : SP_OTHER;
}

static void emit_lit_word(struct normalizer *nz, const char *w, unsigned kw)
{
    emit_word_text(nz, w, strlen(w), kw);
}

static const char *const punct_text[P_COUNT] = {
    [P_COMMA] = ",",   [P_LPAREN] = "(",  [P_RPAREN] = ")",   [P_LBRACK] = "[",
    [P_RBRACK] = "]",  [P_SEMI] = ";",    [P_COLON] = ":",    [P_DOT] = ".",
    [P_DCOLON] = "::", [P_DOTDOT] = "..", [P_COLONEQ] = ":=", [P_ARROW] = "=>",
};

static void emit_punct(struct normalizer *nz, unsigned p)
{
    bool tight;
    switch (p) {
    case P_LPAREN: tight = nz->last == SP_CALLABLE; break;
    case P_COMMA:
    case P_RPAREN:
    case P_LBRACK:
    case P_RBRACK:
    case P_SEMI:
    case P_DOT:
    case P_DCOLON:
    case P_COLON: tight = true; break;
    default: tight = false; break;
    }
    const char *s = punct_text[p];
    text_space(nz, tight, s[0]);
    text_raw(nz, s, strlen(s));
    nz->hb[nz->hlen++] = 'P';
    nz->hb[nz->hlen++] = (uint8_t)p;
    nz->last = (p == P_LPAREN || p == P_LBRACK || p == P_DOT || p == P_DCOLON || p == P_COLON)
                   ? SP_NOSPACE_AFTER
                   : SP_OTHER;
}

/* What emit_punct() hashes for @p, without its text. */
static void emit_hash_punct(struct normalizer *nz, unsigned p)
{
    nz->hb[nz->hlen++] = 'P';
    nz->hb[nz->hlen++] = (uint8_t)p;
}

static void emit_op(struct normalizer *nz, const char *p, size_t len)
{
    text_space(nz, false, p[0]);
    text_raw(nz, p, len);
    hash_bytes(nz, 'o', p, len);
    nz->last = SP_OTHER;
}

static void text_number(struct normalizer *nz, uint32_t v)
{
    char buf[12];
    int k = sizeof(buf);
    do {
        buf[--k] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    text_raw(nz, buf + k, sizeof(buf) - (size_t)k);
}

/* The value of an integer literal (@form: NUM_INT, NUM_HEX, NUM_OCT or NUM_BIN, '_'
 * between digits, "0x" / "0o" / "0b" in either case): false when a character is no digit
 * of its base or the value exceeds UINT64_MAX. */
static bool int_literal(const char *p, size_t len, unsigned form, uint64_t *out)
{
    unsigned base = form == NUM_HEX ? 16 : form == NUM_OCT ? 8 : form == NUM_BIN ? 2 : 10;
    size_t i = 0;
    if (form != NUM_INT && form != NUM_HEX && form != NUM_OCT && form != NUM_BIN)
        return false;
    if (base != 10) {
        if (len < 3 || p[0] != '0')
            return false;
        i = 2;
    }
    uint64_t v = 0;
    bool any = false;
    for (; i < len; i++) {
        unsigned d;
        char c = p[i];
        if (c == '_')
            continue;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return false;
        if (d >= base || v > (UINT64_MAX - d) / base)
            return false;
        v = v * base + d;
        any = true;
    }
    *out = v;
    return any;
}

/* Type class of a numeric constant for norm_opts.numeric_types: int4, int8 or numeric,
 * as parse analysis types it. */
static uint8_t number_class(const char *p, size_t len, uint8_t form, bool neg)
{
    uint64_t v;
    if (!int_literal(p, len, form, &v))
        return 'n';
    if (v <= (neg ? 2147483648u : 2147483647u))
        return '4';
    if (v <= (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
        return '8';
    return 'n';
}

/* The decimal text of a position's integer literal into @out; false when it is not one
 * or does not fit an int4 (the server then reads no position either). */
static bool position_value(const char *p, size_t len, unsigned form, char out[24])
{
    uint64_t v;
    if (!int_literal(p, len, form, &v) || v > INT32_MAX)
        return false;
    snprintf(out, 24, "%" PRIu64, v);
    return true;
}

/* R4: a constant placeholder. */
static void emit_const(struct normalizer *nz, const struct token *k)
{
    text_space(nz, false, '$');
    nz->tb[nz->tlen++] = '$';
    text_number(nz, nz->cnum++);
    hash_tag(nz, 'c');
    if (nz->o.numeric_types) {
        uint8_t cls = 's';
        if (k->kind == TOK_NUMBER)
            cls = number_class(nz->src + k->off, k->len, k->sub, k->flags & TOKF_NEGATIVE);
        else if (k->kind == TOK_WORD)
            cls = k->kw == KW_NULL ? 'u' : (k->kw == KW_TRUE || k->kw == KW_FALSE) ? 'b' : 's';
        hash_tag(nz, cls);
    }
    nz->last = SP_OTHER;
}

/* R8: a collapsed list of constants, or of parameters (@first: the first one's token,
 * shown as written; NULL for constants, shown as the next placeholder). */
static void emit_list(struct normalizer *nz, bool param, const struct token *first)
{
    static const char more[] = " /*, ... */";
    text_space(nz, false, '$');
    if (first) {
        text_raw(nz, nz->src + first->off, first->len);
    } else {
        nz->tb[nz->tlen++] = '$';
        text_number(nz, nz->cnum++);
    }
    text_raw(nz, more, sizeof(more) - 1);
    hash_tag(nz, 'l');
    hash_tag(nz, param && !nz->o.merge_params ? 'p' : 'c');
    nz->last = SP_OTHER;
    nz->flags |= NORM_LIST;
}

/* R6: parameters keep their number and stay distinct from constants. */
static void emit_param(struct normalizer *nz, const struct token *k)
{
    text_space(nz, false, '$');
    text_raw(nz, nz->src + k->off, k->len);
    if (nz->o.merge_params) {
        hash_tag(nz, 'c');
    } else {
        uint32_t v = 0;
        /* Inside VALUES rows the number is not hashed, so batches of
         * ($1, $2), ($3, $4) collapse like constant rows (R9). */
        if (nz->nv == 0)
            for (uint32_t i = 1; i < k->len; i++)
                if (nz->src[k->off + i] != '_')
                    v = v * 10 + (uint32_t)(nz->src[k->off + i] - '0');
        uint8_t *h = nz->hb + nz->hlen;
        *h++ = 'p';
        nz->hlen = (size_t)(put_varint(h, v) - nz->hb);
    }
    nz->last = SP_OTHER;
}

static void emit_name(struct normalizer *nz)
{
    text_space(nz, false, '"');
    text_raw(nz, "\"...\"", 5); /* a quoted identifier: re-normalizes to a NAME */
    hash_tag(nz, 'n');
    nz->last = SP_CALLABLE;
}

/* Type names that are other names of one type to the server (parse analysis resolves them
 * to one type OID): "a" (with a cast's words lower-cased) is hashed as "b". */
static const struct type_alias {
    const char *a, *b;
} type_aliases[] = {
    { "timestamp without time zone", "timestamp" },
    { "timestamp with time zone", "timestamptz" },
    { "time without time zone", "time" },
    { "time with time zone", "timetz" },
    { "character varying", "varchar" },
    { "double precision", "float8" },
    { "char varying", "varchar" },
    { "bit varying", "varbit" },
    { "character", "bpchar" },
    { "smallint", "int2" },
    { "integer", "int4" },
    { "boolean", "bool" },
    { "decimal", "numeric" },
    { "bigint", "int8" },
    { "float", "float8" }, /* (float(p) is float4 or float8 by p: kept as written) */
    { "char", "bpchar" },
    { "real", "float4" },
    { "dec", "numeric" },
    { "int", "int4" },
};

/* Whether t[i] (ROW) starts a row constructor of two or more elements: '(' follows, with a
 * comma at its own depth before its ')'. Nested brackets are stepped over by their match
 * (the roles pass's), so nested rows cost each token once. */
static bool row_list(const struct normalizer *nz, uint32_t i, uint32_t n)
{
    const struct token *t = nz->lx.tok;
    if (i + 1 >= n || !is_punct(&t[i + 1], P_LPAREN) || nz->match[i + 1] == NO_MATCH)
        return false;
    for (uint32_t j = i + 2, end = nz->match[i + 1]; j < end; j++) {
        if (t[j].kind != TOK_PUNCT)
            continue;
        if ((t[j].sub == P_LPAREN || t[j].sub == P_LBRACK) && nz->match[j] != NO_MATCH &&
            nz->match[j] > j)
            j = nz->match[j];
        else if (t[j].sub == P_COMMA)
            return true;
    }
    return false;
}

/* A number token's digits as a small integer (-1: not 1-3 digits). */
static int small_number(const struct normalizer *nz, const struct token *k)
{
    int v = 0;
    if (k->kind != TOK_NUMBER || k->len > 3)
        return -1;
    for (uint32_t c = 0; c < k->len; c++) {
        char ch = nz->src[k->off + c];
        if (ch < '0' || ch > '9')
            return -1;
        v = v * 10 + (ch - '0');
    }
    return v;
}

/* Whether t[j..j+2] is a type modifier "(N)". */
static bool typmod_at(const struct normalizer *nz, uint32_t j, uint32_t hi)
{
    const struct token *t = nz->lx.tok;
    return j + 2 < hi && is_punct(&t[j], P_LPAREN) && t[j + 1].kind == TOK_NUMBER &&
           is_punct(&t[j + 2], P_RPAREN);
}

/*
 * A type name at t[i] (a word of a cast's type, or a typed literal's type), when its
 * words up to @hi spell another name of a type: written as it is, hashed as the type's
 * name, so that 1::int, 1::integer and 1::int4 are one group, as the server makes them.
 * A modifier after the first word of a longer name (timestamp(3) with time zone) is
 * hashed after the name, as timestamptz(3) is; float(p) is float4 for p <= 24 and float8
 * up to 53, the server's rule (its p is no modifier). Returns the index after the name,
 * or 0 (nothing emitted) for any other name.
 */
static uint32_t emit_type_name(struct normalizer *nz, uint32_t i, uint32_t hi)
{
    const struct token *t = nz->lx.tok;
    char words[48];
    size_t len = 0;
    uint32_t end = i, best_end = 0, mod = 0;
    const char *best = NULL;
    if (i > 0 && is_punct(&t[i - 1], P_DOT))
        return 0; /* pg_catalog.int4 and the like: a qualified name, as written */
    for (uint32_t j = i;
         j < hi && j < i + 7 && t[j].kind == TOK_WORD && (j == i || (t[j].flags & TOKF_TYPENAME));
         j++) {
        if (len + (j > i) + t[j].len >= sizeof(words))
            break;
        if (j > i)
            words[len++] = ' ';
        for (uint32_t c = 0; c < t[j].len; c++)
            words[len++] = (char)ascii_lower((unsigned char)nz->src[t[j].off + c]);
        end = j + 1;
        for (size_t a = 0; a < ARRAY_SIZE(type_aliases); a++)
            if (strlen(type_aliases[a].a) == len && !memcmp(type_aliases[a].a, words, len)) {
                best = type_aliases[a].b;
                best_end = end;
            }
        /* timestamp(3) with time zone: the modifier, then the name goes on */
        if (j == i && typmod_at(nz, j + 1, hi) && j + 4 < hi && t[j + 4].kind == TOK_WORD &&
            (t[j + 4].flags & TOKF_TYPENAME)) {
            mod = j + 1;
            j += 3;
        }
    }
    if (best && mod && best_end <= mod)
        return 0; /* the modifier belongs to the first word alone: as written */
    int p = -1;
    if (best && !strcmp(best, "float8") && best_end - i == 1 && best_end < nz->lx.n &&
        is_punct(&t[best_end], P_LPAREN)) {
        /* float(p) */
        p = typmod_at(nz, best_end, hi) ? small_number(nz, &t[best_end + 1]) : -1;
        if (p < 1 || p > 53)
            return 0;
        best = p <= 24 ? "float4" : "float8";
        best_end += 3;
    }
    if (!best)
        return 0;
    /* The text as written (each word lower-cased, the modifier's number kept), the hash
     * of the type's name, then of a modifier as a cast's: a constant. */
    size_t h = nz->hlen;
    for (uint32_t j = i; j < best_end; j++) {
        if (t[j].kind == TOK_WORD) {
            emit_word_text(nz, nz->src + t[j].off, t[j].len, t[j].kw);
        } else if (t[j].kind == TOK_PUNCT) {
            emit_punct(nz, t[j].sub);
        } else {
            text_space(nz, false, nz->src[t[j].off]);
            text_raw(nz, nz->src + t[j].off, t[j].len);
            nz->last = SP_OTHER;
        }
    }
    nz->hlen = h;
    hash_bytes(nz, 'w', best, strlen(best));
    if (mod) {
        emit_hash_punct(nz, P_LPAREN);
        if (t[mod + 1].flags & TOKF_CASTMOD)
            hash_tag(nz, 'm');
        else
            hash_bytes(nz, 'i', nz->src + t[mod + 1].off, t[mod + 1].len);
        emit_hash_punct(nz, P_RPAREN);
    }
    return best_end;
}

/* The content @c of a quoted identifier, when it is what an unquoted word folds to: that
 * word (R3). */
static bool emit_folded(struct normalizer *nz, const char *c, size_t len)
{
    bool ok = len > 0 && c[0] != '$' && !(c[0] >= '0' && c[0] <= '9');
    for (size_t i = 0; ok && i < len; i++) {
        unsigned char ch = (unsigned char)c[i];
        ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '$' ||
             ch >= 0x80;
    }
    if (!ok)
        return false;
    /* Not a key word a rule reacts to: "by", "zone" or "text" stay quoted. */
    unsigned kw = keyword_lookup(c, len);
    if (!plain_keyword(kw))
        return false;
    emit_word_text(nz, c, len, kw);
    return true;
}

/* Decode a Unicode identifier (U&"d\0061ta", with an optional UESCAPE 'c') into @out
 * (@cap bytes), as the server's lexer does: a doubled quote is one quote, the escape
 * character and four hex digits, or the escape, '+' and six hex digits, is a code point
 * (a surrogate pair is one), and the escape twice is the escape character. Returns the length, or
 * -1 when an escape is invalid or the result does not fit (the token is then kept as written). */
static long uident_decode(const char *p, size_t len, char *out, size_t cap)
{
    char esc = '\\';
    size_t end = 3, o = 0; /* after U&" */
    while (end < len && !(p[end] == '"' && (end + 1 >= len || p[end + 1] != '"')))
        end += p[end] == '"' ? 2 : 1;
    if (end >= len)
        return -1;
    if (end + 1 < len) { /* UESCAPE '<c>': the character between its quotes */
        const char *q = memchr(p + end + 1, '\'', len - end - 1);
        if (!q || q + 2 >= p + len || q[2] != '\'')
            return -1;
        esc = q[1];
    }
    uint32_t high = 0; /* a pending high surrogate */
    for (size_t i = 3; i < end;) {
        uint32_t cp;
        size_t n = 1;
        if (p[i] == '"') {
            cp = '"';
            n = 2;
        } else if (p[i] != esc) {
            if (high || o >= cap)
                return -1;
            out[o++] = p[i++];
            continue;
        } else if (i + 1 < end && p[i + 1] == esc) {
            cp = (unsigned char)esc;
            n = 2;
        } else {
            size_t digits = i + 1 < end && p[i + 1] == '+' ? 6 : 4;
            size_t at = i + 1 + (digits == 6);
            cp = 0;
            for (size_t d = 0; d < digits; d++) {
                int v = at + d < end ? hex_digit(p[at + d]) : -1;
                if (v < 0)
                    return -1;
                cp = cp * 16 + (uint32_t)v;
            }
            n = at + digits - i;
        }
        if (cp >= 0xd800 && cp <= 0xdbff) {
            if (high)
                return -1;
            high = cp;
            i += n;
            continue;
        }
        if (cp >= 0xdc00 && cp <= 0xdfff) {
            if (!high)
                return -1;
            cp = 0x10000 + ((high - 0xd800) << 10) + (cp - 0xdc00);
            high = 0;
        } else if (high) {
            return -1;
        }
        char u[4];
        size_t ul = cp == 0 || cp > 0x10ffff ? 0 : utf8_encode(cp, u);
        if (!ul || o + ul > cap)
            return -1;
        memcpy(out + o, u, ul);
        o += ul;
        i += n;
    }
    return high ? -1 : (long)o;
}

/* R3: a quoted identifier whose content is what the unquoted word would fold to is
 * that word; anything else stays a distinct quoted identifier. U&"name" is the name it
 * spells: U&"\0069d" and "id" are id. */
static void emit_qident(struct normalizer *nz, const struct token *k)
{
    const char *p = nz->src + k->off;
    if (k->sub == QI_PLAIN && k->len > 2 && emit_folded(nz, p + 1, k->len - 2))
        return;
    if (k->sub == QI_U && !(k->flags & TOKF_UNTERMINATED)) {
        char name[256];
        long n = uident_decode(p, k->len, name, sizeof(name));
        if (n > 0 && emit_folded(nz, name, (size_t)n))
            return;
        if (n > 0) { /* as a quoted identifier writes it: a quote doubled */
            text_space(nz, false, '"');
            char *o = nz->tb + nz->tlen;
            size_t w = 0;
            o[w++] = '"';
            for (long i = 0; i < n; i++) {
                o[w++] = name[i];
                if (name[i] == '"')
                    o[w++] = '"';
            }
            o[w++] = '"';
            nz->tlen += w;
            hash_bytes(nz, 'q', o, w);
            nz->last = SP_CALLABLE;
            return;
        }
    }
    text_space(nz, false, p[0]);
    char *o = nz->tb + nz->tlen;
    text_raw(nz, p, k->len);
    if (k->sub == QI_U)
        o[0] = 'u'; /* U&".." and u&".." are the same */
    hash_bytes(nz, 'q', o, k->len);
    nz->last = SP_CALLABLE;
}

static struct mark mark_take(const struct normalizer *nz)
{
    return (struct mark){ nz->hlen, nz->tlen, nz->cnum, nz->last };
}

static void mark_restore(struct normalizer *nz, const struct mark *m)
{
    nz->hlen = m->hlen;
    nz->tlen = m->tlen;
    nz->cnum = m->cnum;
    nz->last = m->last;
}

/* ---- look-ahead helpers for lists (all bounded by the range they are given) ---- */

static bool typename_word(const struct token *t)
{
    if (t->kind == TOK_QIDENT)
        return !(t->flags & TOKF_UNTERMINATED);
    return t->kind == TOK_WORD && t->role == ROLE_PLAIN &&
           (t->kw == 0 || keywords[t->kw].cat != KWC_R || (keywords[t->kw].flags & KWF_TYPEWORD));
}

/* A type name after '::' in [j, hi): words, dots, modifiers, array bounds. */
static uint32_t skip_type(const struct normalizer *nz, uint32_t j, uint32_t hi)
{
    const struct token *t = nz->lx.tok;
    if (j >= hi || !typename_word(&t[j]))
        return NO_MATCH;
    j++;
    for (;;) {
        if (j + 1 < hi && is_punct(&t[j], P_DOT) && typename_word(&t[j + 1])) {
            j += 2;
        } else if (j < hi &&
                   ((keywords[word_kw(&t[j])].flags & KWF_TYPEWORD) || is_kw(&t[j], KW_ARRAY))) {
            j++;
        } else if (j < hi && (is_punct(&t[j], P_LPAREN) || is_punct(&t[j], P_LBRACK))) {
            uint32_t m = nz->match[j];
            if (m == NO_MATCH || m >= hi)
                return NO_MATCH;
            j = m + 1;
        } else {
            return j;
        }
    }
}

/*
 * Does t[j] continue a type name written just before it after '::'? '(' and '[' (a
 * modifier or array bound: numbers in them stop being constants), '.' (a qualified
 * name) and words like WITH, VARYING or an interval field. The two rewrites that move a
 * type behind '::' (type 'literal' and CAST(x AS type), both to x::type) must not apply
 * before such a token, or the canonical text would read back with a longer type the
 * second time: "CAST(x AS t)[1]" is not "x::t[1]" (found by fuzz_lexer's fixed-point
 * oracle). This is the set skip_type() and assign_roles()'s type-name states accept.
 */
static bool continues_type(const struct token *t, uint32_t j, uint32_t n)
{
    if (j >= n)
        return false;
    const struct token *a = &t[j];
    return is_punct(a, P_LPAREN) || is_punct(a, P_LBRACK) || is_punct(a, P_DOT) ||
           is_kw(a, KW_ARRAY) || (keywords[word_kw(a)].flags & KWF_TYPEWORD);
}

/*
 * Can an operand start after t? An operator, '(', ',', '[', or a key word after which an
 * expression follows. A word that is no key word before a string is a typed literal
 * (`date '2024-01-01'`) only there: elsewhere it is an option name followed by its value
 * (CREATE DATABASE x LOCALE 'sv_SE', ENCODING 'UTF8' LC_COLLATE 'C'), which was written
 * $1::locale. The set holds the words the canonical text writes in their place too
 * (TO is =, FETCH FIRST is LIMIT), so the text reads back the same.
 */
static bool expr_start(const struct token *t)
{
    if (t->kind == TOK_OP)
        return true;
    if (t->kind == TOK_PUNCT)
        return t->sub == P_LPAREN || t->sub == P_COMMA || t->sub == P_LBRACK ||
               t->sub == P_COLONEQ || t->sub == P_ARROW;
    switch (word_kw(t)) {
    case KW_SELECT:
    case KW_WHERE:
    case KW_AND:
    case KW_OR:
    case KW_NOT:
    case KW_WHEN:
    case KW_THEN:
    case KW_HAVING:
    case KW_RETURNING:
    case KW_BETWEEN:
    case KW_DEFAULT:
    case KW_LIMIT:
    case KW_OFFSET:
    case KW_DISTINCT:
    case KW_ALL:
    case KW_BY:
    case KW_FROM:
    case KW_TO:
    case KW_RETURN: return true;
    case 0: return false;
    default:
        return kw_named(t, "else") || kw_named(t, "case") || kw_named(t, "like") ||
               kw_named(t, "ilike") || kw_named(t, "first") || kw_named(t, "next");
    }
}

static bool typelit_word(const struct token *t)
{
    return t->kind == TOK_WORD && t->role == ROLE_PLAIN &&
           (t->kw == 0 || (keywords[t->kw].flags & KWF_TYPELIT));
}

/*
 * type 'literal' (a typed literal: the grammar makes it the same TypeCast as
 * 'literal'::type). Not after '.' or '::' (part of another name or type), and not before
 * what would continue the type name once it is written after '::' - '(', '[', '.', or a
 * word like WITH, VARYING or an interval field (interval '1' day) - so that the canonical
 * text reads back the same.
 */
static bool typed_literal(const struct token *t, uint32_t i, uint32_t n)
{
    if (!typelit_word(&t[i]) || i + 1 >= n || t[i + 1].kind != TOK_STRING)
        return false;
    if (i > 0 && (is_punct(&t[i - 1], P_DOT) || is_punct(&t[i - 1], P_DCOLON)))
        return false;
    if (t[i].kw == 0 && t[i].sub != WORD_NCHAR && !(i > 0 && expr_start(&t[i - 1])))
        return false;
    return !continues_type(t, i + 2, n);
}

/*
 * One list element that is a constant or a parameter: [-]const, $n, TRUE/FALSE/NULL,
 * type 'literal', CAST(element AS type) (one level), each optionally followed by
 * ::type casts. Returns the index after it, or NO_MATCH.
 */
static uint32_t const_elem(const struct normalizer *nz, uint32_t j, uint32_t hi, unsigned *param,
                           bool allow_cast)
{
    const struct token *t = nz->lx.tok;
    if (j < hi && t[j].role == ROLE_SIGN)
        j++;
    if (j >= hi)
        return NO_MATCH;
    if (t[j].role == ROLE_CONST && t[j].kind != TOK_QIDENT) {
        j++;
    } else if (t[j].role == ROLE_PARAM) {
        ++*param;
        j++;
    } else if (typed_literal(t, j, hi)) {
        j += 2;
    } else if (allow_cast && is_kw(&t[j], KW_CAST) && j + 1 < hi && is_punct(&t[j + 1], P_LPAREN)) {
        uint32_t m = nz->match[j + 1];
        if (m == NO_MATCH || m >= hi)
            return NO_MATCH;
        uint32_t e = const_elem(nz, j + 2, m, param, false);
        if (e == NO_MATCH || e >= m || !is_kw(&t[e], KW_AS) || skip_type(nz, e + 1, m) != m)
            return NO_MATCH;
        j = m + 1;
    } else {
        return NO_MATCH;
    }
    while (j < hi && is_punct(&t[j], P_DCOLON)) {
        j = skip_type(nz, j + 1, hi);
        if (j == NO_MATCH)
            return NO_MATCH;
    }
    return j;
}

/* nz->fault: the brackets const_list() refuses, counted up to each token. */
static void bracket_faults(struct normalizer *nz)
{
    const struct token *t = nz->lx.tok;
    uint32_t c = 0;
    for (uint32_t k = 0; k < nz->lx.n; k++) {
        nz->fault[k] = c;
        if (t[k].kind != TOK_PUNCT || !(t[k].sub == P_LPAREN || t[k].sub == P_RPAREN ||
                                        t[k].sub == P_LBRACK || t[k].sub == P_RBRACK))
            continue;
        uint32_t m = nz->match[k];
        c += m == NO_MATCH || ((t[k].sub == P_LPAREN || t[k].sub == P_RPAREN) !=
                               (t[m].sub == P_LPAREN || t[m].sub == P_RPAREN));
    }
    nz->fault[nz->lx.n] = c;
}

struct list_info {
    int count;       /* elements; a trailing list marker counts as more */
    unsigned params; /* elements that are parameters */
    const struct token *first_param;
};

static bool const_elems(const struct normalizer *nz, uint32_t lo, uint32_t hi,
                        struct list_info *li);

/* Is [lo, hi) a list whose elements are all constants or parameters? */
static bool const_list(const struct normalizer *nz, uint32_t lo, uint32_t hi, struct list_info *li)
{
    const struct token *t = nz->lx.tok;
    *li = (struct list_info){ 0 };
    if (lo >= hi)
        return false;
    /* Every bracket inside is matched inside, '(' by ')' and '[' by ']': collapsed, a
     * mismatched one would leave the text balanced otherwise than it was
     * ("IN('',CAST(''AS i[))", found by fuzz_lexer). Inside a pair of brackets every
     * matched one is matched inside (pairs nest): the faults' count says it at once;
     * looking at each bracket made ARRAY[ARRAY[..]] quadratic in the depth (QA 22a). */
    if (lo > 0 && nz->match[lo - 1] == hi)
        return nz->fault[hi] == nz->fault[lo] && const_elems(nz, lo, hi, li);
    for (uint32_t k = lo; k < hi; k++) {
        if (t[k].kind != TOK_PUNCT || !(t[k].sub == P_LPAREN || t[k].sub == P_RPAREN ||
                                        t[k].sub == P_LBRACK || t[k].sub == P_RBRACK))
            continue;
        uint32_t m = nz->match[k];
        if (m == NO_MATCH || m < lo || m >= hi ||
            ((t[k].sub == P_LPAREN || t[k].sub == P_RPAREN) !=
             (t[m].sub == P_LPAREN || t[m].sub == P_RPAREN)))
            return false;
    }
    return const_elems(nz, lo, hi, li);
}

static bool const_elems(const struct normalizer *nz, uint32_t lo, uint32_t hi, struct list_info *li)
{
    const struct token *t = nz->lx.tok;
    for (uint32_t j = lo;;) {
        unsigned before = li->params;
        uint32_t e = const_elem(nz, j, hi, &li->params, true);
        if (e == NO_MATCH)
            return false;
        if (li->params > before && !li->first_param)
            for (uint32_t k = j; k < e && !li->first_param; k++)
                if (t[k].role == ROLE_PARAM)
                    li->first_param = &t[k];
        /* "$1 /\*, ... *\/" (a squashed list written by us or PostgreSQL 18) is a list. */
        li->count += (t[e - 1].flags & TOKF_LISTMARK) ? 2 : 1;
        if (e == hi)
            return true;
        if (!is_punct(&t[e], P_COMMA) || e + 1 >= hi)
            return false;
        j = e + 1;
    }
}

/* The list placeholder: a parameter list shows its first parameter, a constant list
 * the next constant number; mixed lists hash as parameter lists. */
static void emit_list_of(struct normalizer *nz, const struct list_info *li)
{
    bool all = li->params == (unsigned)li->count ||
               (li->first_param && li->params + 1 == (unsigned)li->count &&
                (li->first_param->flags & TOKF_LISTMARK));
    emit_list(nz, li->params > 0, all && !nz->o.merge_params ? li->first_param : NULL);
}

/* A single simple operand filling [lo, hi): a constant element or a column reference. */
static bool simple_operand(const struct normalizer *nz, uint32_t lo, uint32_t hi)
{
    const struct token *t = nz->lx.tok;
    unsigned param = 0;
    if (const_elem(nz, lo, hi, &param, true) == hi)
        return true;
    for (uint32_t j = lo; j < hi; j += 2) {
        bool col = (t[j].kind == TOK_WORD && t[j].role == ROLE_PLAIN &&
                    (t[j].kw == 0 || keywords[t[j].kw].cat == KWC_U)) ||
                   (t[j].kind == TOK_QIDENT && t[j].role == ROLE_PLAIN);
        if (!col)
            return false;
        if (j + 1 == hi)
            return true;
        if (!is_punct(&t[j + 1], P_DOT))
            return false;
    }
    return false;
}

static void emit_in_list(struct normalizer *nz, bool negated, const struct list_info *li)
{
    if (negated)
        emit_lit_word(nz, "not", KW_NOT);
    emit_lit_word(nz, "in", KW_IN);
    emit_punct(nz, P_LPAREN);
    emit_list_of(nz, li);
    emit_punct(nz, P_RPAREN);
}

/*
 * R7/R8 at IN (index in; negated: NOT IN): a list of >= 2 constants collapses to
 * IN ($n /\*, ... *\/); a single simple element becomes "= x" ("<> x"). Returns the
 * index to continue at, or 0 when the pattern does not apply.
 */
static uint32_t try_in(struct normalizer *nz, uint32_t in, bool negated)
{
    const struct token *t = nz->lx.tok;
    uint32_t p = in + 1;
    if (p >= nz->lx.n || !is_punct(&t[p], P_LPAREN) || nz->match[p] == NO_MATCH ||
        !is_punct(&t[nz->match[p]], P_RPAREN))
        return 0; /* (a '(' closed by ']' is no list: dropping both would balance the rest) */
    if (t[in].flags & TOKF_TYPENAME)
        return 0; /* "::in(o)": a type name and its modifier (found by fuzz_lexer) */
    if (in >= 2 && is_kw(&t[in - 2], KW_SET))
        return 0; /* "SET x IN (v)" written "set x = v" would make v a SET value (R11) */
    uint32_t m = nz->match[p];
    if (!nz->o.keep_lists) {
        struct list_info li;
        if (const_list(nz, p + 1, m, &li) && li.count >= 2) {
            emit_in_list(nz, negated, &li);
            return m + 1;
        }
    }
    /* (not before what would continue the element once its parentheses are gone: a
     * typed literal's $n::c followed by '[' reads as an array type, c[...]) */
    bool continues =
        m + 1 < nz->lx.n && (is_punct(&t[m + 1], P_LBRACK) || is_punct(&t[m + 1], P_LPAREN) ||
                             is_punct(&t[m + 1], P_DOT) || is_punct(&t[m + 1], P_DCOLON) ||
                             /* (a type word: "IN(C'')to[..." read "$1::c to[", and
                              * ARRAY: "IN(C'')array" read "$1::c array", the type c[];
                              * found by fuzz_lexer) */
                             (word_kw(&t[m + 1]) && (keywords[t[m + 1].kw].flags & KWF_TYPEWORD)) ||
                             is_kw(&t[m + 1], KW_ARRAY));
    if (m > p + 1 && !continues && simple_operand(nz, p + 1, m)) {
        emit_op(nz, negated ? "<>" : "=", negated ? 2 : 1);
        nz->act[p] = ACT_SKIP;
        nz->act[m] = ACT_SKIP;
        return p;
    }
    return 0;
}

/* R7: "= ANY (ARRAY[consts])" is IN (consts), "<> ALL (ARRAY[consts])" NOT IN. */
static uint32_t try_any_array(struct normalizer *nz, uint32_t i)
{
    const struct token *t = nz->lx.tok;
    uint32_t n = nz->lx.n;
    if (nz->o.keep_lists || i + 5 >= n)
        return 0;
    bool eq = t[i].sub == OP_EQ, ne = t[i].sub == OP_NE;
    const struct token *q = &t[i + 1];
    if (!((eq && (is_kw(q, KW_ANY) || is_kw(q, KW_SOME))) || (ne && is_kw(q, KW_ALL))))
        return 0;
    uint32_t p = i + 2, b = i + 4;
    if (!is_punct(&t[p], P_LPAREN) || !is_kw(&t[i + 3], KW_ARRAY) || !is_punct(&t[b], P_LBRACK))
        return 0;
    uint32_t mp = nz->match[p], mb = nz->match[b];
    if (mp == NO_MATCH || mb == NO_MATCH || mb + 1 != mp)
        return 0;
    struct list_info li;
    if (!const_list(nz, b + 1, mb, &li))
        return 0;
    emit_in_list(nz, ne, &li);
    return mp + 1;
}

/* R8: ARRAY[consts] of any length is ARRAY[$n /\*, ... *\/]. */
/*
 * A type's array suffix after '::' or CAST(.. AS: '[]', '[n]', repeated, or the
 * SQL-standard ARRAY and ARRAY[n]. Every spelling is the one array type to the server
 * (x::int[3][4], x::int ARRAY[4] and x::int[] are one query id, measured), so all are
 * written and hashed as '[]'. Returns the index after the suffix, or 0 when t[i] does
 * not start one (a '[' not closed, or closed after more than a number).
 */
static uint32_t try_type_array(struct normalizer *nz, uint32_t i)
{
    const struct token *t = nz->lx.tok;
    uint32_t j = i, n = nz->lx.n;
    while (j < n && (t[j].flags & TOKF_TYPEARRAY)) {
        if (t[j].kind == TOK_WORD) {
            j++;
        } else if ((nz->match[j] == j + 1 ||
                    (nz->match[j] == j + 2 && t[j + 1].kind == TOK_NUMBER)) &&
                   is_punct(&t[nz->match[j]], P_RBRACK)) {
            j = nz->match[j] + 1; /* '[]' or '[n]' */
        } else {
            break;
        }
    }
    if (j == i)
        return 0;
    emit_punct(nz, P_LBRACK);
    emit_punct(nz, P_RBRACK);
    return j;
}

static uint32_t try_array(struct normalizer *nz, uint32_t i)
{
    const struct token *t = nz->lx.tok;
    uint32_t b = i + 1;
    if (nz->o.keep_lists || b >= nz->lx.n || !is_punct(&t[b], P_LBRACK) || nz->match[b] == NO_MATCH)
        return 0;
    uint32_t mb = nz->match[b];
    /* (a '[' closed by ')' is no array: written "[...]", the text read back would have its
     * brackets matched and its other rules would read it otherwise - "WHERE(ARRAY[3))"
     * lost its parentheses, found by fuzz_lexer) */
    if (!is_punct(&t[mb], P_RBRACK))
        return 0;
    struct list_info li;
    if (!const_list(nz, b + 1, mb, &li))
        return 0;
    emit_lit_word(nz, "array", KW_ARRAY);
    emit_punct(nz, P_LBRACK);
    emit_list_of(nz, &li);
    emit_punct(nz, P_RBRACK);
    return mb + 1;
}

/* CAST(x AS type) with a simple x is x::type (the grammar makes both a TypeCast). */
static uint32_t try_cast(struct normalizer *nz, uint32_t i)
{
    const struct token *t = nz->lx.tok;
    uint32_t p = i + 1, n = nz->lx.n;
    /* (a '(' closed by ']' is no call: dropping both would balance the rest, whose
     * rules then read it otherwise: found by fuzz_lexer) */
    if (p >= n || !is_punct(&t[p], P_LPAREN) || nz->match[p] == NO_MATCH ||
        !is_punct(&t[nz->match[p]], P_RPAREN))
        return 0;
    uint32_t m = nz->match[p];
    /* The operand is short: look for AS among the next few tokens only. */
    for (uint32_t as = p + 2; as < m && as <= p + 6; as++) {
        if (!is_kw(&t[as], KW_AS))
            continue;
        if (!simple_operand(nz, p + 1, as) || skip_type(nz, as + 1, m) != m ||
            continues_type(t, m + 1, n))
            return 0;
        nz->act[p] = ACT_SKIP;
        nz->act[as] = ACT_DCOLON;
        nz->act[m] = ACT_SKIP;
        return p;
    }
    return 0;
}

/* R12: the token after a target-list item. */
static bool tl_item_ends(const struct token *t, uint32_t j, uint32_t n)
{
    if (j >= n)
        return true;
    if (t[j].kind == TOK_PUNCT)
        return t[j].sub == P_COMMA || t[j].sub == P_RPAREN || t[j].sub == P_SEMI;
    return clause_word(t, j);
}

/* A word that may be an implicit alias: a plain name, an unreserved key word no rule
 * reacts to, or a closed quoted identifier - the same set R3 folds quoted names into,
 * so that "if" and if behave alike. */
static bool aliasable(const struct token *t)
{
    if (t->kind == TOK_QIDENT)
        return !(t->flags & TOKF_UNTERMINATED);
    return t->kind == TOK_WORD && plain_keyword(t->kw);
}

/* A word that has the shape of an alias: a bare word or quoted identifier right after
 * an operand, or any word after AS. Two of them in a row (`x a b`, `x AS a AS b`) is
 * not SQL; dropping either would make what is left look like an alias in turn, so the
 * canonical text would not be a fixed point: aliases after such a word are kept. */
static bool alias_shaped(const struct token *t, uint32_t i)
{
    if ((t[i].kind != TOK_WORD && t[i].kind != TOK_QIDENT) || t[i].role != ROLE_PLAIN || i == 0)
        return false;
    return is_kw(&t[i - 1], KW_AS) || (aliasable(&t[i]) && operand_end(&t[i - 1]));
}

/* R12: is t[i] (a bare word or quoted identifier) an implicit column alias? Not when
 * the word before it has an alias's shape too (`a b c` is not SQL): dropping both would
 * depend on what follows, and the canonical text would not be a fixed point. */
static bool implicit_alias(const struct normalizer *nz, uint32_t i)
{
    const struct token *t = nz->lx.tok;
    if (i == 0 || !operand_end(&t[i - 1]) || !tl_item_ends(t, i + 1, nz->lx.n) ||
        alias_shaped(t, i - 1))
        return false;
    /* After a reserved word (`SELECT DISTINCT x`, `CASE .. END x`) or OVER (a window
     * name) the word is not an alias; after a type (`x::text y`) it is, and so it is after
     * the NULL/TRUE/FALSE of a test (`a IS NULL y`, a plain word here: a value is a
     * constant) and after ISNULL/NOTNULL, which the text writes as such a test. */
    unsigned pk = t[i - 1].kind == TOK_WORD && t[i - 1].role == ROLE_PLAIN ? t[i - 1].kw : 0;
    bool test_end =
        pk == KW_NULL || pk == KW_TRUE || pk == KW_FALSE || pk == KW_ISNULL || pk == KW_NOTNULL;
    if (pk != 0 && !test_end &&
        (keywords[pk].cat == KWC_R || keywords[pk].cat == KWC_T || pk == KW_OVER))
        return false;
    if (is_punct(&t[i - 1], P_RPAREN)) {
        uint32_t o = nz->match[i - 1];
        if (o != NO_MATCH && o > 0 && is_kw(&t[o - 1], KW_ON))
            return false; /* SELECT DISTINCT ON (a) b: b is the first column */
        /* Nor after parentheses around nothing but a position (not SQL: "ORDER BY x
         * SELECT, (2) r"): they are dropped only at an item's end, which the alias is
         * not, and "(2)" without it read back as "2" (fuzz_lexer). */
        uint32_t d = 0;
        while (d < i - 1 && is_punct(&t[i - 1 - d], P_RPAREN))
            d++;
        if (d < i - 1 && t[i - 1 - d].role == ROLE_POSITION)
            return false;
    }
    return true;
}

/* A name that can be a table, or a table alias (ColId): a word that is no key word or an
 * unreserved or column-name one, or a closed quoted identifier. */
static bool colid(const struct token *t)
{
    if (t->role != ROLE_PLAIN)
        return false;
    if (t->kind == TOK_QIDENT)
        return !(t->flags & TOKF_UNTERMINATED);
    return t->kind == TOK_WORD &&
           (t->kw == 0 || keywords[t->kw].cat == KWC_U || keywords[t->kw].cat == KWC_C);
}

/*
 * R13: the AS at t[i] before a table alias is optional syntax (`FROM items AS i` and
 * `FROM items i`, `(SELECT ..) AS x`, `UPDATE t AS o`, `JOIN u AS v`: one parse tree,
 * measured one query id), so it is dropped; the alias name stays. Only in a FROM list or
 * a statement's target table (LV_FROM), between a table name or a ')' and a name that is
 * followed by what may follow a table alias: a column alias list '(', ',', ')', ';', the
 * end, SET (UPDATE) or a reserved or type-function key word (JOIN, ON, WHERE, USING, ...).
 * Not after JOIN .. USING (a): that alias needs its AS.
 */
static bool table_alias_as(const struct normalizer *nz, uint32_t i)
{
    const struct token *t = nz->lx.tok;
    uint32_t n = nz->lx.n;
    if (i == 0 || i + 1 >= n || !colid(&t[i + 1]))
        return false;
    /* Not the AS of CAST( ... AS type), whatever came before it in the parentheses. */
    for (uint32_t j = i; j-- > 0;) {
        if ((is_punct(&t[j], P_RPAREN) || is_punct(&t[j], P_RBRACK)) && nz->match[j] != NO_MATCH &&
            nz->match[j] < j) {
            j = nz->match[j]; /* a closed group before the AS */
            continue;
        }
        if (is_punct(&t[j], P_LPAREN) || is_punct(&t[j], P_LBRACK)) {
            if (nz->match[j] != NO_MATCH && nz->match[j] < i)
                continue; /* closed before the AS (by a bracket the skip above did not see) */
            /* no table in brackets (a type's array bounds), and CAST's own AS */
            if (is_punct(&t[j], P_LBRACK) || (j > 0 && is_kw(&t[j - 1], KW_CAST)))
                return false;
            break;
        }
    }
    const struct token *p = &t[i - 1];
    if (is_punct(p, P_RPAREN)) {
        uint32_t o = nz->match[i - 1];
        if (o == NO_MATCH || (o > 0 && kw_named(&t[o - 1], "using")))
            return false;
    } else if (!colid(p) || (i >= 2 && is_punct(&t[i - 2], P_DCOLON))) {
        return false; /* (x::l AS m: a type, as the typed literal l'..' it is written for) */
    }
    if (i + 2 >= n)
        return true;
    const struct token *a = &t[i + 2];
    if (a->kind == TOK_PUNCT)
        return a->sub == P_LPAREN || a->sub == P_COMMA || a->sub == P_RPAREN || a->sub == P_SEMI;
    unsigned kw = word_kw(a);
    return kw == KW_SET || (kw && (keywords[kw].cat == KWC_R || keywords[kw].cat == KWC_T));
}

/* R9: a VALUES row was closed; compare it with the previous kept row. */
static void values_row_closed(struct normalizer *nz, uint32_t i)
{
    const struct token *t = nz->lx.tok;
    struct vctx *v = &nz->vs[nz->nv - 1];
    size_t h0 = v->row_h, h1 = nz->hlen;
    v->open = false;
    if (v->have_prev && v->has_sep && h1 - h0 == v->prev_h1 - v->prev_h0 &&
        memcmp(nz->hb + h0, nz->hb + v->prev_h0, h1 - h0) == 0) {
        mark_restore(nz, &v->sep);
        v->collapsed = true;
        nz->flags |= NORM_VALUES;
    } else {
        v->prev_h0 = h0;
        v->prev_h1 = h1;
        v->have_prev = true;
    }
    if (i + 2 < nz->lx.n && is_punct(&t[i + 1], P_COMMA) && is_punct(&t[i + 2], P_LPAREN))
        return; /* another row follows */
    if (v->collapsed) {
        static const char more[] = " /*, ... */";
        text_raw(nz, more, sizeof(more) - 1);
        nz->last = SP_OTHER;
    }
    nz->nv--;
}

/* Parentheses around the whole condition of a WHERE or HAVING (the key word at @kw) make
 * no node (one of the rewrites after R13 in docs/fingerprint.md): `WHERE (a = 1 AND b = 2)`
 * is `WHERE a = 1 AND b = 2`, one query id, measured. They are skipped, as many pairs as
 * enclose it, when the condition ends at the closing parenthesis (the statement, a ';', an
 * enclosing ')' or a clause key word follows) and the inside is not a subquery, whose
 * parentheses are syntax. Not in a text whose brackets do not all pair up or span a ';'
 * (not SQL): which pairs a removal leaves could differ in the canonical text, which must
 * be its own canonical text. */
static bool limit_stop(const struct token *t, uint32_t j);

static void skip_condition_parens(struct normalizer *nz, uint32_t kw)
{
    const struct token *t = nz->lx.tok;
    uint32_t n = nz->lx.n, p = kw + 1;
    /* (nor WHERE read as a type name, whose parentheses hold its modifier: "CAST(AS
     * WHERE(2))", found by fuzz_lexer) */
    if (!nz->balanced || (t[kw].flags & TOKF_TYPENAME) || (t[kw].marks & TOKM_IN_TYPMOD))
        return; /* (nor inside a type's modifier: "c(WHERE(x GROUP BY(0)))", fuzz_lexer) */
    while (p < n && is_punct(&t[p], P_LPAREN) && nz->match[p] != NO_MATCH) {
        uint32_t m = nz->match[p], a = m + 1;
        /* What follows the pair in the canonical text: past the pairs skipped already
         * (so the canonical text, read again, skips no more: a fixed point). */
        while (a < n && nz->act[a] == ACT_SKIP)
            a++;
        bool ends = a >= n || is_punct(&t[a], P_SEMI) || is_punct(&t[a], P_RPAREN) ||
                    is_kw(&t[a], KW_ORDER) || is_kw(&t[a], KW_GROUP) || is_kw(&t[a], KW_HAVING) ||
                    is_kw(&t[a], KW_WINDOW) || is_kw(&t[a], KW_LIMIT) || is_kw(&t[a], KW_OFFSET) ||
                    is_kw(&t[a], KW_FETCH) || is_kw(&t[a], KW_FOR) || is_kw(&t[a], KW_RETURNING) ||
                    is_kw(&t[a], KW_UNION) || is_kw(&t[a], KW_EXCEPT) || is_kw(&t[a], KW_INTERSECT);
        if (!ends)
            return;
        /* (a LIMIT, OFFSET or FETCH at the pair's own depth: without the pair, the
         * OFFSET/LIMIT reorder would read the text otherwise) */
        for (uint32_t j = p + 1; j < m; j++) {
            if ((is_punct(&t[j], P_LPAREN) || is_punct(&t[j], P_LBRACK)) &&
                nz->match[j] != NO_MATCH && nz->match[j] < m) {
                j = nz->match[j];
                continue;
            }
            if (is_kw(&t[j], KW_LIMIT) || is_kw(&t[j], KW_OFFSET) || is_kw(&t[j], KW_FETCH))
                return;
        }
        /* (nor what starts with a clause's key word, no condition: "WHERE(GROUP BY 1)"
         * kept 1 as a position, which without the pair it is not - fuzz_lexer) */
        if (m == p + 1 || is_kw(&t[p + 1], KW_SELECT) || is_kw(&t[p + 1], KW_VALUES) ||
            is_kw(&t[p + 1], KW_WITH) || limit_stop(t, p + 1) ||
            (t[p + 1].kind == TOK_WORD && word_is(t, p + 1, n, nz->src, "table")))
            return;
        nz->act[p] = ACT_SKIP;
        nz->act[m] = ACT_SKIP;
        p++;
    }
}

/* GROUP BY (1), 2 is GROUP BY 1, 2 (parentheses make no node; measured one query id):
 * the parentheses around nothing but a position, at t[i] and on, are skipped. */
static void skip_position_parens(struct normalizer *nz, uint32_t i)
{
    const struct token *t = nz->lx.tok;
    uint32_t n = nz->lx.n;
    /* Every '(' of a run asks: the run is counted and its pairs matched once, at its
     * first '(' (counting again for each made "((((1))))" quadratic in the depth: 20 s
     * for one statement 200 000 deep, QA 22a). */
    if (!(i > nz->pp_first && i < nz->pp_num && is_punct(&t[i - 1], P_LPAREN))) {
        uint32_t k = 0, d = 0;
        while (i + k < n && is_punct(&t[i + k], P_LPAREN))
            k++;
        while (d < k && nz->match[i + k - 1 - d] == i + k + 1 + d)
            d++;
        nz->pp_first = i;
        nz->pp_num = i + k;
        nz->pp_matched = d;
    }
    uint32_t num = nz->pp_num, k = num - i;
    if (k == 0 || num >= n || t[num].role != ROLE_POSITION)
        return;
    /* Only parentheses that are a whole item: after BY, ',' or '(' (not CUBE's, ROLLUP's
     * or SETS' own), and followed by the item's end ("GROUP BY (2) e" is no position). */
    if (i == 0 ||
        !(is_kw(&t[i - 1], KW_BY) || is_punct(&t[i - 1], P_COMMA) ||
          (is_punct(&t[i - 1], P_LPAREN) && nz->match[i - 1] != NO_MATCH) ||
          is_kw(&t[i - 1], KW_ALL) || is_kw(&t[i - 1], KW_DISTINCT)) ||
        !item_ends(t, num + 1 + k, n))
        return; /* (an enclosing '(' never closed: "GROUP BY((2)" keeps its text) */
    if (nz->pp_matched < k)
        return; /* (the pairs of this '(' and those inside it: the run's innermost k) */
    for (uint32_t d = 0; d < k; d++) {
        nz->act[num - 1 - d] = ACT_SKIP;
        nz->act[num + 1 + d] = ACT_SKIP;
    }
}

/* ---- LIMIT / OFFSET / FETCH FIRST (R13: one parse tree, one group) ---- */

enum { LIM_NONE, LIM_COUNT, LIM_OFFSET, LIM_TIES };

struct lim {
    uint8_t kind;
    bool fetch;    /* FETCH FIRST|NEXT ... */
    uint32_t val;  /* first token of the value (== rows: FETCH FIRST ROW ONLY, no value) */
    uint32_t rows; /* ROW/ROWS after the value, or NO_MATCH */
    uint32_t end;  /* first token after the clause */
};

/* A word that ends a LIMIT/OFFSET value at its own depth. */
static bool limit_stop(const struct token *t, uint32_t j)
{
    switch (word_kw(&t[j])) {
    case KW_LIMIT:
    case KW_OFFSET:
    case KW_FETCH:
    case KW_FOR:
    case KW_ON:
    case KW_WITH:
    case KW_RETURNING:
    case KW_UNION:
    case KW_INTERSECT:
    case KW_EXCEPT:
    case KW_INTO:
    case KW_WINDOW:
    case KW_ORDER:
    case KW_GROUP:
    case KW_HAVING:
    case KW_WHERE:
    case KW_SELECT: return true;
    case KW_FROM: return clause_word(t, j);
    default: return false;
    }
}

static bool is_rows(const struct token *t)
{
    return is_kw(t, KW_ROW) || kw_named(t, "rows");
}

/*
 * The LIMIT, OFFSET or FETCH clause at t[i], after a query (not the FETCH statement):
 * LIMIT value | OFFSET value [ROW|ROWS] | FETCH FIRST|NEXT [value] ROW|ROWS ONLY|WITH TIES.
 * A value runs to ',', ')', ';', the end or a clause word at its own depth, and holds its
 * brackets' matches. Returns false when t[i] starts no such clause.
 */
static bool limit_clause(const struct normalizer *nz, uint32_t i, struct lim *c)
{
    const struct token *t = nz->lx.tok;
    uint32_t n = nz->lx.n, j;
    *c = (struct lim){ .kind = LIM_NONE, .rows = NO_MATCH };
    if (i >= n)
        return false;
    unsigned kw = word_kw(&t[i]);
    if (kw != KW_LIMIT && kw != KW_OFFSET && kw != KW_FETCH)
        return false;
    if (kw == KW_FETCH) {
        if (i == 0 || is_punct(&t[i - 1], P_SEMI) || i + 2 >= n ||
            !(kw_named(&t[i + 1], "first") || kw_named(&t[i + 1], "next")))
            return false;
        c->fetch = true;
        c->val = i + 2;
    } else {
        c->val = i + 1;
    }
    /* A value starts an expression: not a byte PostgreSQL rejects, nor SELECT (what the
     * canonical text would move then reads back otherwise: found by fuzz_lexer). */
    if (c->val < n && (t[c->val].kind == TOK_OTHER || is_kw(&t[c->val], KW_SELECT)))
        return false;
    for (j = c->val; j < n;) {
        const struct token *a = &t[j];
        if (kw == KW_FETCH && is_rows(a) && j + 1 < n) {
            if (kw_named(&t[j + 1], "only")) {
                c->kind = LIM_COUNT;
                c->end = j + 2;
            } else if (j + 2 < n && is_kw(&t[j + 1], KW_WITH) && kw_named(&t[j + 2], "ties")) {
                c->kind = LIM_TIES;
                c->end = j + 3;
            }
            if (c->kind != LIM_NONE) {
                c->rows = j;
                return true;
            }
        }
        if (is_punct(a, P_LPAREN) || is_punct(a, P_LBRACK)) {
            if (nz->match[j] == NO_MATCH || nz->match[j] < j)
                return false;
            j = nz->match[j] + 1;
            continue;
        }
        if (a->kind == TOK_PUNCT &&
            (a->sub == P_RPAREN || a->sub == P_RBRACK || a->sub == P_SEMI || a->sub == P_COMMA))
            break;
        if (limit_stop(t, j))
            break;
        /* Not SQL, and R9 would collapse a VALUES list's rows, whose ',' ends the value
         * here: read back, the value would run on ("OFFSET ~VALUES(1),(2)row", found by
         * fuzz_lexer). */
        if (is_kw(a, KW_VALUES))
            return false;
        /* Nor JOIN anywhere in it, which no expression holds: moved after the LIMIT
         * clause, "offset 0 join select ..." read back as a join, whose alias AS is
         * dropped ("OFFSET 0JOIN LIMIT 1SELECT''e AS u", found by fuzz_lexer). */
        if (kw_named(a, "join"))
            return false;
        /* Nor AS in an OFFSET value at its own depth (only CAST(... AS ...), in brackets,
         * has one): dropping the ROW after such a value changes how its AS reads ("OFFSET
         * update AS e row", found by fuzz_lexer). Not for LIMIT: its AS may be an alias's
         * that R12 drops, and the clause would then be one in the text read back. */
        if (kw == KW_OFFSET && is_kw(a, KW_AS))
            return false;
        j++;
    }
    if (kw == KW_FETCH || j == c->val)
        return false;
    c->end = j;
    c->kind = kw == KW_LIMIT ? LIM_COUNT : LIM_OFFSET;
    /* (Not when the value would then end with ROW/ROWS itself: the text read back would
     * drop that one too - "OFFSET ? row row", found by fuzz_lexer.) */
    if (kw == KW_OFFSET && j - c->val >= 2 && is_rows(&t[j - 1]) && !is_rows(&t[j - 2]))
        c->rows = j - 1;
    return true;
}

/* The constant 1 the grammar puts in FETCH FIRST ROW ONLY, which has no token. */
static void emit_const_one(struct normalizer *nz)
{
    text_space(nz, false, '$');
    nz->tb[nz->tlen++] = '$';
    text_number(nz, nz->cnum++);
    hash_tag(nz, 'c');
    if (nz->o.numeric_types)
        hash_tag(nz, '4');
    nz->last = SP_OTHER;
}

/* Whether a count clause that OFFSET may be moved after ends at t[i] as SQL's do: at the
 * end, at ';', at a ')' that closes something, or at a word that starts another clause. */
static bool swap_end_ok(const struct normalizer *nz, uint32_t i)
{
    const struct token *t = nz->lx.tok;
    if (i >= nz->lx.n)
        return true;
    if (t[i].kind == TOK_PUNCT)
        return t[i].sub == P_SEMI || (t[i].sub == P_RPAREN && nz->match[i] != NO_MATCH);
    return limit_stop(t, i);
}

/*
 * R13: the clause at t[i] in its canonical form. The parser makes LIMIT n, FETCH FIRST n
 * ROW[S] ONLY and FETCH NEXT n ROWS ONLY one limitCount (FETCH FIRST ROW ONLY the constant
 * 1), OFFSET n ROWS OFFSET n, and keeps them in two fields, so their order does not
 * matter: one query id each way (measured on PostgreSQL 15). Written `limit n`,
 * `offset n` and, WITH TIES being another limit option, `fetch first n rows with ties`; an
 * OFFSET directly followed by the one count clause of the query is written after it
 * (a pending swap, done by emit_all() once the count clause is written). Returns the
 * index to continue at, or 0 to write t[i] as it is.
 */
static uint32_t try_limit(struct normalizer *nz, uint32_t i)
{
    struct lim c, c2, c3;
    if (!limit_clause(nz, i, &c))
        return 0;
    if (c.rows != NO_MATCH && c.kind != LIM_TIES)
        nz->act[c.rows] = ACT_SKIP;
    if (c.kind == LIM_OFFSET) {
        /* (Not when the count clause ends where no SQL clause does - at a ')' that closes
         * nothing, at a ',': the text read back after the swap puts another word before
         * it, and reads what follows otherwise - "OFFSET `JOIN LIMIT x) y AS z" and
         * "OFFSET () JOIN LIMIT u, a AS u" lost their aliases, found by fuzz_lexer.) */
        if (limit_clause(nz, c.end, &c2) && c2.kind != LIM_OFFSET &&
            !limit_clause(nz, c2.end, &c3) && swap_end_ok(nz, c2.end)) {
            if (nz->nsw == nz->swcap) {
                nz->swcap = nz->swcap ? nz->swcap * 2 : 8;
                nz->sw = xrealloc(nz->sw, nz->swcap * sizeof(*nz->sw));
            }
            nz->sw[nz->nsw++] =
                (struct swap){ .mid = c.end, .end = c2.end, .t0 = nz->tlen, .h0 = nz->hlen };
        }
        return 0;
    }
    if (!c.fetch)
        return 0;
    nz->act[i + 1] = ACT_SKIP; /* FIRST|NEXT */
    if (c.kind == LIM_COUNT) {
        emit_lit_word(nz, "limit", KW_LIMIT);
        nz->act[c.rows + 1] = ACT_SKIP; /* ONLY */
    } else {
        emit_lit_word(nz, "fetch", KW_FETCH);
        emit_lit_word(nz, "first", 0);
        nz->act[c.rows] = ACT_ROWS;
    }
    if (c.val == c.rows)
        emit_const_one(nz);
    return i + 1;
}

static void reverse_bytes(void *buf, size_t a, size_t b)
{
    uint8_t *p = buf;
    while (a + 1 < b) {
        uint8_t x = p[a];
        p[a++] = p[--b];
        p[b] = x;
    }
}

/* [a, m) and [m, b) of @buf change places. */
static void rotate_bytes(void *buf, size_t a, size_t m, size_t b)
{
    reverse_bytes(buf, a, m);
    reverse_bytes(buf, m, b);
    reverse_bytes(buf, a, b);
}

/* Pending OFFSET/LIMIT swaps at token @i: the LIMIT clause starts (its text and hash
 * offsets are noted) or has been written (the two clauses change places). A swap whose
 * boundary was stepped over is dropped, and so is one whose clauses do not both start with
 * a space in the text (they would not read back the same once swapped). */
static void swaps_at(struct normalizer *nz, uint32_t i)
{
    while (nz->nsw) {
        struct swap *w = &nz->sw[nz->nsw - 1];
        if (!w->have_mid) {
            if (i < w->mid)
                return;
            if (i > w->mid) {
                nz->nsw--;
                continue;
            }
            w->have_mid = true;
            w->t1 = nz->tlen;
            w->h1 = nz->hlen;
            w->last1 = nz->last;
            return;
        }
        if (i < w->end)
            return;
        if (i == w->end && w->t0 < w->t1 && w->t1 < nz->tlen && nz->tb[w->t0] == ' ' &&
            nz->tb[w->t1] == ' ') {
            rotate_bytes(nz->tb, w->t0, w->t1, nz->tlen);
            rotate_bytes(nz->hb, w->h0, w->h1, nz->hlen);
            nz->last = w->last1;
        }
        nz->nsw--;
    }
}

static void emit_all(struct normalizer *nz)
{
    const struct token *t = nz->lx.tok;
    const char *s = nz->src;
    uint32_t n = nz->lx.n, depth = 0;
    uint8_t *lv = nz->lv, *act = nz->act;
    uint32_t last_real = NO_MATCH; /* last token that is not ';' */

    memset(act, 0, n);
    for (uint32_t i = 0; i < n; i++)
        if (!is_punct(&t[i], P_SEMI))
            last_real = i;
    lv[0] = 0;

    nz->nsw = 0;
    nz->pp_first = nz->pp_num = nz->pp_matched = 0;
    for (uint32_t i = 0; i < n;) {
        const struct token *k = &t[i];
        uint32_t next = 0;

        if (nz->nsw)
            swaps_at(nz, i);
        /* Bracket depth first, for every token including skipped ones. */
        bool opens = k->kind == TOK_PUNCT && (k->sub == P_LPAREN || k->sub == P_LBRACK);
        bool closes = k->kind == TOK_PUNCT && (k->sub == P_RPAREN || k->sub == P_RBRACK) &&
                      nz->match[i] != NO_MATCH;
        if (opens && act[i] == ACT_NONE && k->sub == P_LPAREN)
            skip_position_parens(nz, i);
        if (act[i] == ACT_SKIP) {
            if (opens)
                lv[++depth] = 0;
            else if (closes)
                depth--;
            i++;
            continue;
        }
        if (act[i] == ACT_DCOLON) {
            emit_punct(nz, P_DCOLON);
            i++;
            continue;
        }
        if (act[i] == ACT_ROWS) {
            emit_lit_word(nz, "rows", 0);
            i++;
            continue;
        }

        switch (k->kind) {
        case TOK_PUNCT:
            if ((k->flags & TOKF_TYPEARRAY) && (next = try_type_array(nz, i)) != 0)
                break;
            if (opens) {
                if (nz->nv && nz->vs[nz->nv - 1].depth == depth && k->sub == P_LPAREN &&
                    !nz->vs[nz->nv - 1].open) {
                    nz->vs[nz->nv - 1].open = true;
                    nz->vs[nz->nv - 1].row_h = nz->hlen;
                }
                emit_punct(nz, k->sub);
                lv[++depth] = i > 0 && kw_named(&t[i - 1], "options") ? LV_OPTS : 0;
            } else if (closes) {
                depth--;
                emit_punct(nz, k->sub);
                if (nz->nv && nz->vs[nz->nv - 1].depth == depth && nz->vs[nz->nv - 1].open)
                    values_row_closed(nz, i);
            } else if (k->sub == P_SEMI) {
                /* R10: a trailing ';' (and empty statements) are dropped. */
                lv[depth] = 0;
                if (i < last_real && nz->tlen && nz->tb[nz->tlen - 1] != ';') {
                    emit_punct(nz, P_SEMI);
                    nz->flags |= NORM_MULTI;
                }
            } else {
                if (k->sub == P_COMMA && nz->nv && nz->vs[nz->nv - 1].depth == depth) {
                    nz->vs[nz->nv - 1].sep = mark_take(nz);
                    nz->vs[nz->nv - 1].has_sep = true;
                }
                emit_punct(nz, k->sub);
            }
            break;

        case TOK_WORD:
            if (k->role == ROLE_NAME) {
                emit_name(nz);
                break;
            }
            if (k->sub == WORD_EQUALS) {
                emit_op(nz, "=", 1);
                break;
            }
            if (k->role == ROLE_CONST) {
                emit_const(nz, k);
                break;
            }
            if (k->flags & TOKF_TYPEARRAY) {
                next = try_type_array(nz, i);
                break;
            }
            switch (k->kw) {
            case KW_NOT:
                if (i + 1 < n && is_kw(&t[i + 1], KW_IN))
                    next = try_in(nz, i + 1, true);
                break;
            case KW_IN: next = try_in(nz, i, false); break;
            case KW_ISNULL:
            case KW_NOTNULL:
                /* R2: `a ISNULL` is `a IS NULL` (one NullTest node, measured: one query
                 * id), and `a NOTNULL` is `a IS NOT NULL`. */
                emit_lit_word(nz, "is", KW_IS);
                if (k->kw == KW_NOTNULL)
                    emit_lit_word(nz, "not", KW_NOT);
                emit_lit_word(nz, "null", KW_NULL);
                next = i + 1;
                break;
            case KW_ARRAY: next = try_array(nz, i); break;
            case KW_CAST: next = try_cast(nz, i); break;
            case KW_AS:
                /* R12: AS <label> in a target list is a column alias. */
                if ((lv[depth] & LV_TL) && i + 1 < n &&
                    (t[i + 1].kind == TOK_WORD || t[i + 1].kind == TOK_QIDENT) &&
                    t[i + 1].role == ROLE_PLAIN && tl_item_ends(t, i + 2, n) &&
                    !(i > 0 && alias_shaped(t, i - 1)))
                    next = i + 2;
                else if ((lv[depth] & LV_FROM) && table_alias_as(nz, i))
                    next = i + 1; /* R13: FROM items AS i is FROM items i */
                break;
            case KW_VALUES:
                lv[depth] &= (uint8_t)~LV_TL; /* rows have no aliases */
                if (!nz->o.keep_values_rows && nz->nv < VALUES_NEST && i + 1 < n &&
                    is_punct(&t[i + 1], P_LPAREN)) {
                    emit_word_text(nz, s + k->off, k->len, k->kw);
                    nz->vs[nz->nv++] = (struct vctx){ .depth = depth };
                    next = i + 1;
                }
                break;
            case KW_WHERE:
            case KW_HAVING:
                lv[depth] &= (uint8_t) ~(LV_TL | LV_FROM);
                skip_condition_parens(nz, i);
                break;
            case KW_SELECT:
            case KW_RETURNING:
                emit_word_text(nz, s + k->off, k->len, k->kw);
                lv[depth] = (uint8_t)((lv[depth] & ~LV_TL) | LV_TL);
                next = i + 1;
                break;
            case KW_ROW:
                /* ROW(a, b) is (a, b) to the server (one RowExpr; a single element
                 * needs the ROW): kept in the text, not hashed. */
                if (row_list(nz, i, n)) {
                    size_t h = nz->hlen;
                    emit_word_text(nz, s + k->off, k->len, k->kw);
                    nz->hlen = h;
                    next = i + 1;
                    break;
                }
                FALLTHROUGH; /* a ROW that is not a row list: as any key word */
            default:
                if (clause_word(t, i))
                    lv[depth] &= (uint8_t) ~(LV_TL | LV_FROM);
                if ((k->kw == KW_LIMIT || k->kw == KW_OFFSET || k->kw == KW_FETCH) &&
                    (next = try_limit(nz, i)) != 0)
                    break;
                /* Where a table and its alias may follow (table_alias_as()). */
                if ((k->kw == KW_FROM && clause_word(t, i)) || kw_named(k, "join") ||
                    kw_named(k, "using") || kw_named(k, "update") ||
                    (k->kw == KW_INTO && i > 0 && kw_named(&t[i - 1], "merge")))
                    lv[depth] |= LV_FROM;
                if (typed_literal(t, i, n) && !(lv[depth] & LV_OPTS)) {
                    emit_const(nz, &t[i + 1]);
                    emit_punct(nz, P_DCOLON);
                    if (k->sub == WORD_NCHAR)
                        emit_lit_word(nz, "nchar", KW_NCHAR);
                    else if (!emit_type_name(nz, i, i + 1))
                        emit_word_text(nz, s + k->off, k->len, k->kw);
                    next = i + 2;
                } else if ((k->flags & TOKF_TYPENAME) && (next = emit_type_name(nz, i, n)) != 0) {
                    /* (a type's other name: one group with it) */
                } else if (aliasable(k) && (lv[depth] & LV_TL) && implicit_alias(nz, i)) {
                    next = i + 1;
                }
                break;
            }
            if (!next)
                emit_word_text(nz, s + k->off, k->len, k->kw);
            break;

        case TOK_QIDENT:
            if (k->role == ROLE_NAME)
                emit_name(nz);
            else if (k->role == ROLE_CONST)
                emit_const(nz, k);
            else if (!((lv[depth] & LV_TL) && implicit_alias(nz, i)))
                emit_qident(nz, k);
            break;

        case TOK_STRING: emit_const(nz, k); break;

        case TOK_NUMBER:
            if (k->role == ROLE_CONST) {
                emit_const(nz, k);
            } else {
                const char *num = s + k->off;
                size_t nlen = k->len;
                char val[24];
                /* A position is its value: ORDER BY 01 is ORDER BY 1 (QA 19, measured),
                 * and so are 0x1F, 0o17, 0b1 and 1_000 (PostgreSQL 16), written in
                 * decimal. */
                if (k->role == ROLE_POSITION && position_value(num, nlen, k->sub, val)) {
                    num = val;
                    nlen = strlen(val);
                }
                text_space(nz, false, num[0]);
                text_raw(nz, num, nlen);
                /* A cast's type modifier is a constant to the server: varchar(10) and
                 * varchar(20) casts are one group (the number stays in the text); an
                 * array bound is not even that: int[3] is int[]. */
                if (k->flags & TOKF_CASTMOD) {
                    if (!(i > 0 && is_punct(&t[i - 1], P_LBRACK)))
                        hash_tag(nz, 'm');
                } else
                    hash_bytes(nz, 'i', num, nlen);
                nz->last = SP_OTHER;
            }
            break;

        case TOK_PARAM: emit_param(nz, k); break;

        case TOK_OP:
            if (k->role == ROLE_SIGN)
                break;
            if (k->sub == OP_EQ || k->sub == OP_NE)
                next = try_any_array(nz, i);
            if (!next) {
                if (k->sub == OP_NE)
                    emit_op(nz, "<>", 2); /* R2: != is <> */
                else
                    emit_op(nz, s + k->off, k->len);
            }
            break;

        default: /* TOK_OTHER */
            text_space(nz, false, s[k->off]);
            text_raw(nz, s + k->off, k->len);
            hash_bytes(nz, 'z', s + k->off, k->len);
            nz->last = SP_OTHER;
            break;
        }
        i = next ? next : i + 1;
    }
    if (nz->nsw)
        swaps_at(nz, n);
    /* VALUES lists left open by unbalanced input: nothing to add. */
    nz->nv = 0;
}

static void reserve_bytes(void **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return;
    size_t c = *cap ? *cap : 4096;
    while (c < need)
        c *= 2; /* bounded: need is at most ~40 MiB (core/limits.h) */
    *buf = xrealloc(*buf, c);
    *cap = c;
}

/* Whether @lx read @s as SQL can be: no quote left open, no backslash outside a quote
 * (PostgreSQL rejects one there). */
static bool lex_clean(const struct lex *lx, const char *s)
{
    if (lx->flags & LEX_UNTERMINATED)
        return false;
    for (uint32_t i = 0; i < lx->n; i++)
        if (lx->tok[i].kind == TOK_OTHER && s[lx->tok[i].off] == '\\')
            return false;
    return true;
}

/*
 * A server with standard_conforming_strings = off (backslash_quotes not said) writes
 * 'it\'s' for "it's": read with the default rules, the quote after the backslash ends
 * the literal and the rest of it reads as SQL - words that would be kept as names in the
 * canonical text and the samples (tenant data, QA 20). A statement that does not lex
 * cleanly with the default rules but does with backslash escapes is read with them.
 * A statement valid under the default rules is never read otherwise, so its grouping
 * stays pg_stat_statements' (docs/fingerprint.md).
 */
static void prepare(struct normalizer *nz, struct span sql)
{
    size_t len = sql.p ? sql.len : 0;
    nz->src = sql.p ? sql.p : "";
    lex_run(&nz->lx, nz->src, len, nz->o.backslash_quotes);
    nz->read_bs = false;
    if (!nz->o.backslash_quotes &&
        memchr(nz->src, '\\', len < SIFT_MAX_STATEMENT_BYTES ? len : SIFT_MAX_STATEMENT_BYTES) &&
        !lex_clean(&nz->lx, nz->src)) {
        lex_run(&nz->lx_alt, nz->src, len, true);
        if (lex_clean(&nz->lx_alt, nz->src)) {
            struct lex t = nz->lx;
            nz->lx = nz->lx_alt;
            nz->lx_alt = t;
            nz->read_bs = true;
        }
    }
    reserve_tokens(nz);
    assign_roles(nz);
    bracket_faults(nz);
}

uint64_t normalize_fingerprint(struct normalizer *nz, struct span sql, struct norm_result *out)
{
    prepare(nz, sql);
    size_t len =
        sql.p ? (sql.len < SIFT_MAX_STATEMENT_BYTES ? sql.len : SIFT_MAX_STATEMENT_BYTES) : 0;
    size_t n = nz->lx.n;
    /* Upper bounds of what emit_all() can write (see the emit_* functions): every input
     * byte at most once, plus per token at most 16 hash bytes (tag, length, class) and
     * 40 text bytes (a separator and a list placeholder with its marker, "nchar", "::"). */
    reserve_bytes((void **)&nz->hb, &nz->hcap, len + 16 * n + 64);
    reserve_bytes((void **)&nz->tb, &nz->tcap, len + 40 * n + 64);

    nz->hlen = 0;
    nz->tlen = 0;
    nz->last = SP_START;
    nz->nv = 0;
    nz->flags = 0;
    nz->cnum = nz->lx.max_param + 1;
    emit_all(nz);
    nz->tb[nz->tlen] = '\0';

    XXH128_hash_t h = XXH3_128bits_withSeed(nz->hb, nz->hlen, NORM_FP_VERSION);
    *out = (struct norm_result){ .fingerprint = h.low64, .fingerprint_hi = h.high64 };
    out->canonical = span_make(nz->tb, nz->tlen);
    out->flags = nz->flags;
    if (nz->lx.flags & LEX_TRUNCATED)
        out->flags |= NORM_TRUNCATED;
    if (nz->lx.flags & LEX_UNTERMINATED)
        out->flags |= NORM_UNTERMINATED;
    if (n == 0)
        out->flags |= NORM_EMPTY;
    if (nz->read_bs)
        out->flags |= NORM_BACKSLASH;
    out->tokens = (uint32_t)n;
    out->constants = nz->nconst;
    out->params = nz->nparam;
    return out->fingerprint;
}

/* The text -> fingerprint cache: two ways per set, chosen by the raw text's hash; a hit
 * compares the whole text, so a hash collision only costs a miss. */
static struct fp_entry *cache_find(struct normalizer *nz, struct span sql, uint64_t h)
{
    struct fp_entry *set = &nz->cache[(h % (SIFT_FP_CACHE_SLOTS / 2)) * 2];
    for (int w = 0; w < 2; w++) {
        struct fp_entry *e = &set[w];
        if (e->valid && e->hash == h && e->raw_len == sql.len && !memcmp(e->raw, sql.p, sql.len))
            return e;
    }
    return NULL;
}

static void cache_put(struct normalizer *nz, struct span sql, uint64_t h,
                      const struct norm_result *r)
{
    if (r->canonical.len > SIFT_FP_CACHE_TEXT_BYTES)
        return;
    struct fp_entry *set = &nz->cache[(h % (SIFT_FP_CACHE_SLOTS / 2)) * 2];
    struct fp_entry *e = !set[0].valid                ? &set[0]
                         : !set[1].valid              ? &set[1]
                         : set[0].used <= set[1].used ? &set[0]
                                                      : &set[1];
    size_t need = sql.len + r->canonical.len + 1;
    if (e == nz->last_entry)
        nz->last_entry = NULL;
    if (e->valid) {
        e->valid = false;
        nz->cstats.entries--;
    }
    /* Statements that differ by their literals replace each other with texts of about
     * the same size: the buffer is reused when large enough (no free and malloc a miss). */
    if (e->raw && e->cap < need) {
        nz->cache_bytes -= e->cap;
        free(e->raw);
        e->raw = NULL;
        e->cap = 0;
    }
    if (!e->raw) {
        if (nz->cache_bytes + need > SIFT_FP_CACHE_BYTES)
            return; /* full of texts: this one is fingerprinted each time */
        e->raw = xmalloc(need);
        e->cap = (uint32_t)need;
        nz->cache_bytes += need;
    }
    memcpy(e->raw, sql.p, sql.len);
    memcpy(e->raw + sql.len, r->canonical.p, r->canonical.len);
    e->raw[sql.len + r->canonical.len] = '\0';
    e->raw_len = (uint32_t)sql.len;
    e->canon_len = (uint32_t)r->canonical.len;
    e->hash = h;
    e->fp = r->fingerprint;
    e->fp_hi = r->fingerprint_hi;
    e->used = ++nz->cache_tick;
    e->valid = true;
    nz->cstats.entries++;
    nz->last_entry = e;
}

bool normalize_event(struct normalizer *nz, struct event *ev, struct arena *a)
{
    struct span sql = span_present(ev->query) ? ev->query : ev->statement;
    struct norm_result r;
    if (!span_present(sql))
        return false;
    bool cacheable = sql.len <= SIFT_FP_CACHE_TEXT_BYTES;
    uint64_t h = 0;
    struct fp_entry *e = NULL;
    if (cacheable) {
        /* The statement of the previous record first: a log repeats a text on
         * consecutive records (parse/bind/execute of one prepared statement, its
         * "statement:" and "duration:" lines, a plan after its duration), and this
         * check needs neither the hash nor a look into the table. */
        struct fp_entry *l = nz->last_entry;
        if (l && l->valid && l->raw_len == sql.len && !memcmp(l->raw, sql.p, sql.len)) {
            e = l;
        } else {
            if (!nz->cache)
                nz->cache = xcalloc(SIFT_FP_CACHE_SLOTS, sizeof(*nz->cache));
            h = XXH3_64bits(sql.p, sql.len);
            e = cache_find(nz, sql, h);
        }
    }
    if (e) {
        nz->last_entry = e;
        nz->cstats.hits++;
        e->used = ++nz->cache_tick;
        r.fingerprint = e->fp;
        r.fingerprint_hi = e->fp_hi;
        r.canonical = span_make(e->raw + e->raw_len, e->canon_len);
    } else {
        nz->cstats.misses++;
        normalize_fingerprint(nz, sql, &r);
        if (cacheable)
            cache_put(nz, sql, h, &r);
    }
    ev->fingerprint = r.fingerprint;
    ev->fingerprint_hi = r.fingerprint_hi;
    ev->normalized = a ? arena_dup(a, r.canonical.p, r.canonical.len) : r.canonical;
    ev->flags |= EVENT_HAS_FINGERPRINT;
    return true;
}

void normalize_cache_stats(const struct normalizer *nz, struct norm_cache_stats *out)
{
    *out = nz->cstats;
    out->bytes = nz->cache_bytes;
}

/* ---------------------------------------------------------------- redaction */

struct redactor {
    struct sbuf *out;
    size_t max;
    bool cut;
    bool verbatim; /* REDACT_VERBATIM */
};

/* Append a piece unless it would pass the limit; once cut, nothing more is added. */
static void piece(struct redactor *r, const char *p, size_t len)
{
    if (r->cut || len == 0)
        return;
    if ((r->max && r->out->len + len > r->max) || sbuf_add(r->out, p, len) < 0)
        r->cut = true;
}

/*
 * The gap between two tokens holds only white space and comments. Without comments it
 * is kept as it is. Comments are dropped (they can carry values: commented-out code,
 * tags); the white space after the last comment is kept, or one space between two
 * tokens that must stay apart. @edge: the gap starts or ends the text.
 */
static void gap(struct redactor *r, const char *s, size_t i, size_t end, bool edge)
{
    size_t from = i, ws0 = i, ws1 = i; /* [ws0, ws1): the last white space run */
    bool comment = false;
    while (i < end) {
        if (s[i] == '-' && i + 1 < end && s[i + 1] == '-') {
            while (i < end && s[i] != '\n' && s[i] != '\r')
                i++;
            comment = true;
            ws0 = ws1 = i;
        } else if (s[i] == '/' && i + 1 < end && s[i + 1] == '*') {
            size_t depth = 1;
            i += 2;
            while (i < end && depth) {
                if (s[i] == '*' && i + 1 < end && s[i + 1] == '/') {
                    depth--;
                    i += 2;
                } else if (s[i] == '/' && i + 1 < end && s[i + 1] == '*') {
                    depth++;
                    i += 2;
                } else {
                    i++;
                }
            }
            comment = true;
            ws0 = ws1 = i;
        } else {
            if (ws1 != i)
                ws0 = i;
            ws1 = ++i;
        }
    }
    if (!comment) {
        piece(r, s + from, end - from);
        return;
    }
    if (ws1 > ws0)
        piece(r, s + ws0, ws1 - ws0);
    else if (!edge)
        piece(r, " ", 1);
}

static bool is_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static bool redacted(const struct token *k, unsigned flags)
{
    if (k->role != ROLE_CONST)
        return false;
    switch (k->kind) {
    case TOK_NUMBER: return flags & REDACT_NUMBERS;
    case TOK_WORD: return flags & REDACT_KEYWORDS;
    default: return flags & REDACT_STRINGS; /* strings, unterminated identifiers */
    }
}

int normalize_redact(struct normalizer *nz, struct span text, unsigned flags, size_t max,
                     struct sbuf *out)
{
    prepare(nz, text);
    const struct token *t = nz->lx.tok;
    const char *s = nz->src;
    size_t n = nz->lx.n;
    size_t start = 0, end = text.p ? text.len : 0;
    size_t base = out->len;
    struct redactor r = { out, max ? out->len + max : 0, false, flags & REDACT_VERBATIM };

    if (nz->lx.flags & LEX_TRUNCATED)
        end = n ? t[n - 1].off + t[n - 1].len : 0; /* never copy what was not lexed */
    if (flags & REDACT_STATEMENT) {
        while (n > 0 && is_punct(&t[n - 1], P_SEMI))
            end = t[--n].off;
        while (start < end && is_space(s[start]))
            start++;
    }

    uint32_t num = nz->lx.max_param + 1;
    size_t pos = start;
    for (size_t i = 0; i < n && !r.cut; i++) {
        const struct token *k = &t[i];
        gap(&r, s, pos, k->off, i == 0);
        bool sign = k->role == ROLE_SIGN && !r.verbatim;
        /* The N of N'..' is a prefix like the E of E'..': N'x' is replaced as a whole (kept,
         * N$1 would read back as one identifier). */
        bool nchar = k->kind == TOK_WORD && k->sub == WORD_NCHAR;
        if ((sign || nchar) && i + 1 < n && redacted(&t[i + 1], flags)) {
            k = &t[++i]; /* "- 5" is one constant (R5): one placeholder */
            char buf[16];
            int w = snprintf(buf, sizeof(buf), "$%u", num++);
            piece(&r, buf, (size_t)w);
        } else if (redacted(k, flags)) {
            char buf[16];
            int w = snprintf(buf, sizeof(buf), "$%u", num++);
            piece(&r, buf, (size_t)w);
        } else {
            piece(&r, s + k->off, k->len);
        }
        pos = k->off + k->len;
    }
    gap(&r, s, pos, end, true);
    if (flags & REDACT_STATEMENT) {
        /* White space left by dropped comments at either end. */
        size_t lead = base;
        while (lead < out->len && is_space(out->buf[lead]))
            lead++;
        memmove(out->buf + base, out->buf + lead, out->len - lead);
        out->len -= lead - base;
        while (out->len > base && is_space(out->buf[out->len - 1]))
            out->len--;
        out->buf[out->len] = '\0';
    }
    return r.cut || (nz->lx.flags & LEX_TRUNCATED) ? 1 : 0;
}

/* ---------------------------------------------------------------- misc */

void normalize_fp_hex(uint64_t fp, char out[17])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--) {
        out[i] = hex[fp & 15];
        fp >>= 4;
    }
    out[16] = '\0';
}

size_t normalize_token_count(const struct normalizer *nz)
{
    return nz->lx.n;
}

void normalize_token(const struct normalizer *nz, size_t i, struct norm_token *out)
{
    static const char *const roles[] = { "",     "constant", "parameter", "name",
                                         "sign", "typmod",   "position" };
    const struct token *k = &nz->lx.tok[i];
    const char *kind;
    switch (k->kind) {
    case TOK_WORD: kind = k->kw ? "keyword" : "word"; break;
    case TOK_QIDENT: kind = "quoted_identifier"; break;
    case TOK_STRING: kind = "string"; break;
    case TOK_NUMBER: kind = "number"; break;
    case TOK_PARAM: kind = "parameter"; break;
    case TOK_OP: kind = "operator"; break;
    case TOK_PUNCT: kind = "punctuation"; break;
    default: kind = "other"; break;
    }
    *out = (struct norm_token){ .kind = kind,
                                .role = k->role < ARRAY_SIZE(roles) ? roles[k->role] : "",
                                .offset = k->off,
                                .length = k->len,
                                .unterminated = k->flags & TOKF_UNTERMINATED };
}

const char *normalize_command(struct span sql)
{
    static const struct {
        const char *word, *command;
    } words[] = {
        { "select", "select" }, { "table", "select" },   { "values", "select" },
        { "insert", "insert" }, { "update", "update" },  { "delete", "delete" },
        { "merge", "merge" },   { "copy", "copy" },      { "with", "cte" },
        { "create", "ddl" },    { "alter", "ddl" },      { "drop", "ddl" },
        { "truncate", "ddl" },  { "comment", "ddl" },    { "grant", "ddl" },
        { "revoke", "ddl" },    { "reindex", "ddl" },    { "refresh", "ddl" },
        { "cluster", "ddl" },   { "security", "ddl" },   { "begin", "tcl" },
        { "start", "tcl" },     { "commit", "tcl" },     { "end", "tcl" },
        { "rollback", "tcl" },  { "abort", "tcl" },      { "savepoint", "tcl" },
        { "release", "tcl" },   { "declare", "cursor" }, { "fetch", "cursor" },
        { "move", "cursor" },   { "close", "cursor" },
    };
    /* The lexer's tokens (no white space or comment is one): the first that is not an
     * opening parenthesis. Only the statement's first bytes matter: a comment before it
     * longer than that leaves "other". */
    struct lex lx = LEX_INIT;
    size_t len = sql.p ? (sql.len < 4096 ? sql.len : 4096) : 0;
    lex_run(&lx, sql.p ? sql.p : "", len, false);
    const char *command = "other";
    size_t i = 0;
    while (i < lx.n && lx.tok[i].kind == TOK_PUNCT && lx.tok[i].sub == P_LPAREN)
        i++;
    if (i < lx.n && lx.tok[i].kind == TOK_WORD) {
        const char *w = sql.p + lx.tok[i].off;
        size_t n = lx.tok[i].len;
        for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++)
            if (strlen(words[k].word) == n && !strncasecmp(w, words[k].word, n)) {
                command = words[k].command;
                break;
            }
    }
    lex_release(&lx);
    return command;
}
