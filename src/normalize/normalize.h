/* SPDX-License-Identifier: MIT */
/*
 * normalize - SQL text to a fingerprint, a canonical text and a redacted sample, the way
 * pg_stat_statements groups statements (docs/fingerprint.md has every rule, its reason
 * and an example).
 *
 * Knows SQL, not logs: it takes a statement's bytes and nothing else, so classify/ may
 * use normalize_redact() on plans. One pass of PostgreSQL's lexical rules (scan.l), a
 * role pass (which token is a constant, a parameter, a name), a canonical rewrite (case
 * and whitespace folded, comments dropped, constants to placeholders, constant IN/ARRAY
 * lists and identical VALUES rows collapsed, column aliases dropped, ...), then XXH3-128
 * over the canonical token stream seeded with NORM_FP_VERSION: the low 64 bits are the
 * fingerprint (16 lower-case hex digits), the high 64 bits detect collisions.
 *
 * Literal values are tenant data: nothing this module returns contains one (constants
 * are placeholders in the canonical text, the sample and the redacted text).
 *
 * Owns: a struct normalizer's token arrays and output buffers. They grow to the largest
 * statement seen and are reused, so normalizing allocates nothing per statement in the
 * steady state. Also its text -> fingerprint cache (normalize_event(), bounded by
 * core/limits.h SIFT_FP_CACHE_*). Not thread-safe: one normalizer per thread.
 *
 * Calling sequence:
 *   nz = normalize_new(&opts) -> (normalize_fingerprint() | normalize_redact())* ->
 *   normalize_free(nz)
 *
 * Bounds (core/limits.h): only the first SIFT_MAX_STATEMENT_BYTES bytes and the first
 * SIFT_MAX_TOKENS tokens of a statement are used; the result then has NORM_TRUNCATED and
 * covers that prefix (a prefix cut inside a quote also has NORM_UNTERMINATED).
 */
#ifndef SIFT_NORMALIZE_NORMALIZE_H
#define SIFT_NORMALIZE_NORMALIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/compat.h"
#include "core/sbuf.h"
#include "core/span.h"
#include "event.h"

/* Seed of the hash. Bumped whenever a rule changes, so old and new fingerprints never
 * mix (stores keep it next to each fingerprint). */
#define NORM_FP_VERSION 1

struct norm_opts {
    /* $n parameters hash like constants (pgBadger/libpg_query style). Default off:
     * pg_stat_statements keeps `id = $1` (extended protocol) and `id = 42` apart. */
    bool merge_params;
    /* standard_conforming_strings = off: backslash escapes in '..' as in E'..'. */
    bool backslash_quotes;
    /* Keep constant IN (...) / ARRAY[...] lists at their length (PostgreSQL < 18 does). */
    bool keep_lists;
    /* Keep identical VALUES rows (pg_stat_statements has one id per row count). */
    bool keep_values_rows;
    /* Hash numeric constants by type: int4, int8 and numeric differ, as in
     * pg_stat_statements (`id = 1` vs `id = 3000000000`). Default off. */
    bool numeric_types;
};

enum norm_flags {
    NORM_TRUNCATED = 1 << 0,    /* over SIFT_MAX_STATEMENT_BYTES or SIFT_MAX_TOKENS */
    NORM_UNTERMINATED = 1 << 1, /* a quote, identifier, dollar quote or comment not closed */
    NORM_MULTI = 1 << 2,        /* several statements separated by ';' */
    NORM_EMPTY = 1 << 3,        /* no token: only white space and comments */
    NORM_LIST = 1 << 4,         /* a constant IN/ARRAY list was collapsed */
    NORM_VALUES = 1 << 5,       /* identical VALUES rows were collapsed */
    NORM_BACKSLASH = 1 << 6,    /* read with backslash escapes in '..' though not asked to
                                   (it lexes cleanly only so: docs/fingerprint.md) */
};

struct norm_result {
    uint64_t fingerprint;    /* low 64 bits of XXH3-128 */
    uint64_t fingerprint_hi; /* high 64 bits: a second text under the same fingerprint
                                with other high bits is a collision */
    struct span canonical;   /* NUL-terminated; borrowed until the next call on the
                                normalizer */
    unsigned flags;          /* enum norm_flags */
    uint32_t tokens;         /* lexer tokens */
    uint32_t constants;      /* constants replaced (before list collapsing) */
    uint32_t params;         /* $n parameters */
};

/* opts may be NULL (all defaults off). Never returns NULL. */
struct normalizer *normalize_new(const struct norm_opts *opts);
void normalize_free(struct normalizer *nz);

/* Fingerprint @sql. Returns out->fingerprint. */
uint64_t normalize_fingerprint(struct normalizer *nz, struct span sql, struct norm_result *out);

/*
 * Fingerprint the SQL an event carries - ev->query (duration, statement and plan
 * records), else ev->statement (the STATEMENT of an error or a temp file) - and set
 * ev->fingerprint, ev->fingerprint_hi, EVENT_HAS_FINGERPRINT and ev->normalized (the
 * canonical text, copied into @a; borrowed until the next call on @nz when @a is NULL).
 * Returns false, leaving the event alone, when it carries no SQL.
 */
bool normalize_event(struct normalizer *nz, struct event *ev, struct arena *a);

/* normalize_event() remembers the result per distinct statement text (raw text up to
 * SIFT_FP_CACHE_TEXT_BYTES, core/limits.h), so a repeated text is hashed and compared,
 * not lexed again; the result is the same either way. What the cache did so far: */
struct norm_cache_stats {
    uint64_t hits, misses; /* normalize_event() calls with SQL */
    size_t entries, bytes; /* texts held, and the bytes of the buffers that hold them */
};
void normalize_cache_stats(const struct normalizer *nz, struct norm_cache_stats *out);

enum redact_flags {
    REDACT_STRINGS = 1 << 0,   /* string constants of every form */
    REDACT_NUMBERS = 1 << 1,   /* numeric constants (with their unary minus) */
    REDACT_KEYWORDS = 1 << 2,  /* TRUE, FALSE and NULL used as values */
    REDACT_STATEMENT = 1 << 3, /* trim white space and a trailing ';' (a statement sample) */
    REDACT_VERBATIM = 1 << 4,  /* only constants (and comments) change: the unary minus of
                                  a number stays as written, the N of N'..' goes with its
                                  string (redact_sql) */
    REDACT_ALL = REDACT_STRINGS | REDACT_NUMBERS | REDACT_KEYWORDS,
};

/*
 * Append @text to @out in its own layout (white space, case, names kept; comments
 * dropped unless REDACT_VERBATIM) with the constants selected by @flags replaced by $n,
 * numbered from one more than the highest $n parameter in the text, like
 * pg_stat_statements' query texts; "- 5" is one constant unless REDACT_VERBATIM. With
 * REDACT_ALL | REDACT_STATEMENT this is the sample of a statement. Type modifiers
 * (varchar(20)) and ORDER/GROUP BY positions are not constants and stay.
 *
 * Stops before the piece that would make @out exceed @max bytes (0: no limit beyond
 * @out's cap), so the output is never cut inside a placeholder. Returns 0, or 1 when the
 * output was cut (by @max, the cap, or the input bounds of core/limits.h).
 */
int normalize_redact(struct normalizer *nz, struct span text, unsigned flags, size_t max,
                     struct sbuf *out);

/* 16 lower-case hex digits and a NUL. */
void normalize_fp_hex(uint64_t fp, char out[17]);

/*
 * The kind of command a statement is, from its first keyword, as pgBadger counts its
 * "queries by type": "select" (also TABLE and VALUES), "insert", "update", "delete",
 * "merge", "copy", "cte" (WITH ...), "ddl" (CREATE, ALTER, DROP, TRUNCATE, COMMENT,
 * GRANT, REVOKE, REINDEX, REFRESH, CLUSTER, SECURITY LABEL), "tcl" (BEGIN, START, COMMIT,
 * END, ROLLBACK, ABORT, SAVEPOINT, RELEASE), "cursor" (DECLARE, FETCH, MOVE, CLOSE) or
 * "other". White space, comments and opening parentheses before it are skipped (the
 * lexer's tokens of the first 4 KiB); case does not matter. Static strings;
 * NORMALIZE_COMMANDS lists them in this order.
 */
const char *normalize_command(struct span sql);
#define NORMALIZE_COMMANDS \
    "select", "insert", "update", "delete", "merge", "copy", "cte", "ddl", "tcl", "cursor", "other"

/* Token details of the last normalize_fingerprint() call (pgsift fingerprint --format
 * json). Strings are static; offsets index the statement given to that call. */
struct norm_token {
    const char *kind; /* "word", "keyword", "quoted_identifier", "string", "number",
                         "parameter", "operator", "punctuation", "other" */
    const char *role; /* "", "constant", "parameter", "name", "sign", "typmod", "position" */
    uint32_t offset, length;
    bool unterminated;
};
size_t normalize_token_count(const struct normalizer *nz);
void normalize_token(const struct normalizer *nz, size_t i, struct norm_token *out);

/*
 * Text redactors (normalize/redact.c): take tenant data out of log *message* texts
 * before they are stored or printed (literal values and bind parameters are tenant
 * data). Whole statements go through normalize_redact(); redact_sql() is its
 * layout-keeping mode for SQL quoted inside a message (deadlock details). All append to @out and
 * return 0, or -1 when @out's cap is hit (the text appended so far stays; callers cut
 * it with redact_cap()).
 */
/* A message, detail or raw log line:
 *   'literal'                        -> '…'
 *   Key (col, ...)=(values) ...      -> Key (col, ...)=(…)
 *   Failing row contains (values)    -> Failing row contains (…)
 *   ...parameters: $1 = 'x', ...     -> ...parameters: …
 *   : "value" and Token "value"      -> : "…", Token "…" (the line's last '"' ends it)
 *   but found "token"                -> but found "…" (json input errors, same rule)
 *   "v" is out of range for type t   -> "…" is out of range for type t (floats)
 *   JSON data, line N: text          -> JSON data, line N: … (json input error CONTEXT)
 *   value "v", at or near "v"        -> value "…", at or near "…"
 *   Process 123: <statement>         -> the statement (up to the next "Process N" line)
 *                                       with constants replaced
 *   SQL statement "<statement>"      -> the statement with constants replaced (also
 *                                       PL/pgSQL expression/assignment "...")
 *   statement: <statement>           -> the statement (to the end of the text) with
 *                                       constants replaced; also "execute <name>: ",
 *                                       "parse <name>: ", "bind <name>: " (raw log lines)
 * Values may span lines; a value or quote not closed redacts to the end of the text. */
SIFT_WUR int redact_message(struct sbuf *out, struct span in);
/* A rejected log line (reject samples: the store's, parse --stats, the nothing-parsed
 * diagnosis): redact_message(), and the numbers of its text redacted too
 * (redact_numbers()): the text is what follows the first "KEYWORD:  " (a sub-line
 * without its record: "STATEMENT:  ... card = 4111111111111111") or a syslog piece
 * number ("[5-3] #011and pin = 9876"), or all of a line that starts with a space or a tab
 * (the rest of a statement whose first line is not there); what comes before it, the
 * line's prefix or wrapper, keeps its times and process ids. A line with none of these
 * (another program's) gets redact_message() alone. A line that starts with '{' (JSON) keeps its
 * keys, each string value redacted on its own. */
SIFT_WUR int redact_rejected(struct sbuf *out, struct span in);
/* The same, and *@same tells whether what was appended is @in byte for byte (nothing
 * redacted; false when in doubt): the caller may then keep @in instead. */
SIFT_WUR int redact_message_same(struct sbuf *out, struct span in, bool *same);

/* A SQL statement with every constant (strings of every form, dollar-quoted strings,
 * numbers, unterminated quoted identifiers) replaced by $n, numbered after the highest
 * $n already in the text, and comments dropped (they can carry tenant data: tags,
 * commented-out values); layout, identifiers, signs, TRUE/FALSE/NULL, type modifiers and
 * existing parameters are kept: normalize_redact(REDACT_STRINGS |
 * REDACT_NUMBERS | REDACT_VERBATIM). Returns -1 when the output was cut (the cap, or a
 * statement over the bounds of core/limits.h). */
SIFT_WUR int redact_sql(struct sbuf *out, struct span in);

/* A grouping key from a redacted message: standalone numbers become N, so "PID 123"
 * and "PID 456" group together while identifiers like t_123 stay. */
SIFT_WUR int redact_numbers(struct sbuf *out, struct span in);

/* Cut @sb to at most @max bytes at a UTF-8 character boundary; when cut, the last bytes
 * are replaced by "…" (still within @max). */
void redact_cap(struct sbuf *sb, size_t max);

#endif
