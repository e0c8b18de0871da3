/* SPDX-License-Identifier: MIT */
/*
 * lexer - private to normalize/: PostgreSQL's lexical rules (src/backend/parser/scan.l,
 * PostgreSQL 16's numeric forms included) over raw bytes in any server encoding.
 *
 * lex_run() cuts a statement into tokens: words (identifiers and key words), quoted
 * identifiers, every string form ('..' with '', E'..', N'..', B'..', X'..', U&'..' with
 * UESCAPE, newline-continued strings, $tag$..$tag$), numbers (integer, decimal, real,
 * 0x/0o/0b, '_' separators, "1..10" as integer + range), $n parameters, operators cut
 * the way scan.l cuts them, punctuation (:: .. := => included) and any other byte.
 * Whitespace and comments (nested slash-star, double dash) are not tokens.
 *
 * It never fails: unterminated quotes, identifiers, dollar quotes and comments yield a
 * token (or nothing, for a comment) with TOKF_UNTERMINATED and LEX_UNTERMINATED; input
 * beyond SIFT_MAX_STATEMENT_BYTES or SIFT_MAX_TOKENS is not lexed (LEX_TRUNCATED). Time
 * is linear in the input length (dollar quotes are found with memmem, operator runs are
 * cut without rescanning).
 *
 * Owns: the token array of struct lex (grown, never shrunk: no allocation per statement
 * once it is large enough). Tokens refer to the statement by offset; the statement is
 * the caller's.
 */
#ifndef SIFT_NORMALIZE_LEXER_H
#define SIFT_NORMALIZE_LEXER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tok_kind {
    TOK_WORD,   /* identifier or key word, unquoted */
    TOK_QIDENT, /* "quoted" or U&"quoted" identifier */
    TOK_STRING, /* any string constant form (sub: enum str_form) */
    TOK_NUMBER, /* sub: enum num_form */
    TOK_PARAM,  /* $n */
    TOK_OP,     /* operator, single-char (+ - * / % ^ < > =) or multi-char; sub: enum op_form */
    TOK_PUNCT,  /* sub: enum punct */
    TOK_OTHER,  /* a byte PostgreSQL would reject (e.g. '{', '\\', a lone '$') */
};

enum str_form { STR_PLAIN, STR_E, STR_N, STR_B, STR_X, STR_U, STR_DOLLAR };
enum num_form { NUM_INT, NUM_DECIMAL, NUM_REAL, NUM_HEX, NUM_OCT, NUM_BIN };
enum op_form { OP_OTHER, OP_EQ, OP_NE, OP_MINUS, OP_PLUS };
enum punct {
    P_COMMA,
    P_LPAREN,
    P_RPAREN,
    P_LBRACK,
    P_RBRACK,
    P_SEMI,
    P_COLON,
    P_DOT,
    P_DCOLON,  /* :: */
    P_DOTDOT,  /* .. */
    P_COLONEQ, /* := */
    P_ARROW,   /* => */
    P_COUNT
};
enum qident_form { QI_PLAIN, QI_U };
enum word_form {
    WORD_PLAIN,
    WORD_NCHAR,  /* the N of N'..' (scan.l returns it as NCHAR) */
    WORD_EQUALS, /* set by the role pass: SET x TO v is SET x = v */
};

enum tok_flags {
    TOKF_UNTERMINATED = 1 << 0, /* quote, identifier or dollar quote not closed */
    TOKF_UESCAPE = 1 << 1,      /* U&'..'/U&".." followed by UESCAPE 'c', part of the token */
    TOKF_CONTINUED = 1 << 2,    /* string continued on a later line ('a'\n'b') */
    TOKF_NEGATIVE = 1 << 3,     /* number after an absorbed unary minus (ROLE_SIGN) */
    TOKF_LISTMARK = 1 << 4,     /* followed by the comment slash-star ", ... " star-slash
                                   that marks a squashed list in PostgreSQL 18's
                                   pg_stat_statements texts and in our canonical text */
    TOKF_TYPENAME = 1 << 5,     /* a word of a type name after '::' or CAST(.. AS */
    TOKF_CASTMOD = 1 << 6,      /* a number in such a type's modifier or array bound */
    TOKF_TYPEARRAY = 1 << 7,    /* ARRAY or '[' of such a type's array suffix */
};

/* What normalize.c decided a token is (set by its role pass; 0 after lexing). */
enum tok_role {
    ROLE_PLAIN = 0,
    ROLE_CONST,    /* replaced by a placeholder */
    ROLE_PARAM,    /* $n */
    ROLE_NAME,     /* prepared statement / cursor / savepoint / channel name */
    ROLE_SIGN,     /* unary minus absorbed into the next constant */
    ROLE_TYPMOD,   /* number in a type modifier or array bound: kept */
    ROLE_POSITION, /* ORDER BY / GROUP BY position: kept */
};

struct token {
    uint32_t off; /* byte offset in the statement */
    uint32_t len; /* bytes; for U&'..' UESCAPE 'c' the whole clause */
    uint8_t kind; /* enum tok_kind */
    uint8_t sub;  /* enum str_form / num_form / op_form / punct / word_form */
    uint8_t flags;
    uint8_t role;
    uint16_t kw;   /* TOK_WORD: index into keywords[], 0 if not a key word */
    uint8_t marks; /* enum tok_mark: what the role pass (normalize.c) noted; 0 from the lexer */
    uint8_t pad;
};

enum tok_mark {
    TOKM_IN_TYPMOD = 1 << 0, /* inside the brackets of a type modifier or array bound */
};

enum lex_flags {
    LEX_UNTERMINATED = 1 << 0, /* some token or comment was not closed */
    LEX_TRUNCATED = 1 << 1,    /* input over SIFT_MAX_STATEMENT_BYTES or SIFT_MAX_TOKENS */
};

struct lex {
    struct token *tok;
    uint32_t n, cap;
    unsigned flags;     /* enum lex_flags */
    uint32_t max_param; /* highest $n seen (capped at 10^9) */
};

#define LEX_INIT         \
    {                    \
        NULL, 0, 0, 0, 0 \
    }

/* Lex s[0..len). backslash_quotes: standard_conforming_strings = off ('..' behaves as
 * E'..'). Replaces the previous contents of @lx. */
void lex_run(struct lex *lx, const char *s, size_t len, bool backslash_quotes);
void lex_release(struct lex *lx);

/* ---- key words (keywords.c) ---- */

enum kw_cat { KWC_U = 1, KWC_C, KWC_T, KWC_R }; /* unreserved, col_name, type_func_name, reserved */

/* Key words rules refer to by name; their index in keywords[] is the enum value. */
enum kw_id {
    KW_NONE = 0, /* not a key word */
    KW_ALL,
    KW_ANALYZE,
    KW_AND,
    KW_ANY,
    KW_ARRAY,
    KW_AS,
    KW_ASC,
    KW_AUTHORIZATION,
    KW_BETWEEN,
    KW_BIGINT,
    KW_BIT,
    KW_BOOLEAN,
    KW_BY,
    KW_CACHE,
    KW_CAST,
    KW_CHAR,
    KW_CHARACTER,
    KW_CLOSE,
    KW_CURRENT_CATALOG,
    KW_CURRENT_DATE,
    KW_CURRENT_ROLE,
    KW_CURRENT_SCHEMA,
    KW_CURRENT_TIME,
    KW_CURRENT_TIMESTAMP,
    KW_CURRENT_USER,
    KW_DAY,
    KW_DEALLOCATE,
    KW_DEC,
    KW_DECIMAL,
    KW_DECLARE,
    KW_DEFAULT,
    KW_DESC,
    KW_DISTINCT,
    KW_END,
    KW_EXCEPT,
    KW_EXECUTE,
    KW_EXPLAIN,
    KW_FALSE,
    KW_FETCH,
    KW_FLOAT,
    KW_FOR,
    KW_FROM,
    KW_GROUP,
    KW_HAVING,
    KW_HOUR,
    KW_IN,
    KW_INCREMENT,
    KW_INT,
    KW_INTEGER,
    KW_INTERSECT,
    KW_INTERVAL,
    KW_INTO,
    KW_IS,
    KW_ISNULL,
    KW_LIMIT,
    KW_LISTEN,
    KW_LOCAL,
    KW_LOCALTIME,
    KW_LOCALTIMESTAMP,
    KW_MAXVALUE,
    KW_MINUTE,
    KW_MINVALUE,
    KW_MONTH,
    KW_MOVE,
    KW_NCHAR,
    KW_NOT,
    KW_NOTIFY,
    KW_NOTNULL,
    KW_NULL,
    KW_NULLS,
    KW_NUMERIC,
    KW_OFFSET,
    KW_ON,
    KW_OR,
    KW_ORDER,
    KW_OVER,
    KW_PRECISION,
    KW_PREPARE,
    KW_REAL,
    KW_RELEASE,
    KW_RESTART,
    KW_RETURN,
    KW_RETURNING,
    KW_ROLE,
    KW_ROLLBACK,
    KW_ROW,
    KW_SAVEPOINT,
    KW_SECOND,
    KW_SELECT,
    KW_SESSION,
    KW_SESSION_USER,
    KW_SET,
    KW_SMALLINT,
    KW_SOME,
    KW_TEXT,
    KW_THEN,
    KW_TIME,
    KW_TIMESTAMP,
    KW_TO,
    KW_TRANSACTION,
    KW_TRUE,
    KW_UESCAPE,
    KW_UNION,
    KW_UNLISTEN,
    KW_USER,
    KW_VALUES,
    KW_VARCHAR,
    KW_VARYING,
    KW_VERBOSE,
    KW_WHEN,
    KW_WHERE,
    KW_WINDOW,
    KW_WITH,
    KW_WITHOUT,
    KW_WORK,
    KW_YEAR,
    KW_ZONE,
    KW_RULE_COUNT
};

enum kw_flags {
    KWF_EXPR_START = 1 << 0,  /* unreserved/col_name word after which an operand starts */
    KWF_OPERAND_END = 1 << 1, /* reserved/type_func word that is itself an operand (NULL) */
    KWF_TYPMOD = 1 << 2,      /* a type that takes a modifier: char(22), numeric(10,2) */
    KWF_TYPELIT = 1 << 3,     /* may prefix a typed literal: interval '1 day' */
    KWF_TYPEWORD = 1 << 4,    /* may continue a multi-word type name after :: */
    KWF_CLAUSE = 1 << 5,      /* ends a SELECT target list or an ORDER/GROUP BY list */
    KWF_NOALIAS = 1 << 6,     /* continues an expression after an operand (WITHIN GROUP,
                                 FILTER (..), IS NFC NORMALIZED, LIKE .. ESCAPE): never a
                                 bare column alias */
};

struct keyword {
    const char *word; /* lower case */
    uint8_t len;
    uint8_t cat;   /* enum kw_cat */
    uint8_t flags; /* enum kw_flags */
};

/* PostgreSQL 15's key words (pg_get_keywords()); [0] is a placeholder. */
extern const struct keyword keywords[];
extern const unsigned keyword_count;

/* Can a word with key word index k (0: not a key word) end an operand, so that a '-'
 * after it is a binary minus? Unreserved and col_name words can be column names. */
static inline bool keyword_operand_end(unsigned k)
{
    if (k == 0)
        return true;
    if (keywords[k].cat == KWC_U || keywords[k].cat == KWC_C)
        return !(keywords[k].flags & KWF_EXPR_START);
    return keywords[k].flags & KWF_OPERAND_END;
}

/* Longest key word ("current_timestamp"). */
#define KEYWORD_MAX_LEN 17

/* Build the lookup table (idempotent, thread-safe). Call before keyword_lookup():
 * lex_run() and normalize_new() do. */
void keyword_init(void);

/* Index of the key word spelled s[0..len) in any letter case, or 0. */
unsigned keyword_lookup(const char *s, size_t len);

static inline unsigned char ascii_lower(unsigned char c)
{
    return (unsigned char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
}

#endif
