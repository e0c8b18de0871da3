/* SPDX-License-Identifier: MIT */
/*
 * line_prefix - a log_line_prefix compiled once into a matcher (private to parse/).
 *
 * PostgreSQL renders log_line_prefix in front of every physical line of a stderr or
 * syslog record (formats.md §4.2). line_prefix_new() compiles the setting into a token
 * program: literal text and one token per escape (%a %u %d %r %h %L %b %p %P %t %m %n
 * %i %e %c %l %s %v %x %Q), with padding (%-10u, %10p) and the %q cut point.
 * line_prefix_match() runs the program over one line and, when the line is a prefixed
 * log line, returns each field as a span into the line, the keyword that follows the
 * prefix (LOG, ERROR, DETAIL, STATEMENT, ...) and where the message starts.
 *
 * How fields are delimited (formats.md §4.3): escapes with a fixed shape (pid, line
 * counter, timestamps, SQLSTATE, session id, ...) are matched by their shape; free-text
 * escapes (%u %d %a %i %b, and the host escapes %h %L) end where the literal text that
 * follows them in the prefix matches, the shortest such span first. A match is accepted
 * only if the prefix is followed by a keyword and ':' (and a space or the end of the
 * line), so "user@db" and "[unknown]" values never need a character class.
 * Ambiguity, e.g. '%u@%d' against "ann@corp.com@shop": a first pass assumes user names
 * contain no space and database names neither a space nor '@'; only if it finds no
 * match does a second pass allow any byte in %u and %d. So the '@' goes to the user
 * (e-mail style role names, Azure Entra ID), spaces go to %a/%i/%b.
 * Processes without a client connection stop the prefix at %q: the matcher tries the
 * cut shape at the %q point first, then the full shape.
 *
 * Speed: the first path of the search (the first candidate of every escape) is walked
 * without recursion first; real lines almost always match on it, and when it fails the
 * full search decides, so the result is the full search's in every case.
 *
 * Memo: from the last escape whose value changes line by line (%m %t %n %l %e %x %v %Q
 * %i) to the message, a server writes the same bytes for every line of one session and
 * kind (" [4242] ann@shop/psql LOG:  "). line_prefix_match_memo() keeps the first path's
 * result for such tails in a small table owned by the caller and, when a line's tail
 * is byte for byte one it has seen, takes that result instead of walking the tokens
 * again. The walk reads no byte past the message's start and its every test of the
 * line's length falls inside the tail, so equal tails give equal results (the tests
 * and fuzz_stderrlog compare the two on every line). A log where few tails repeat
 * (short sessions) makes it pause: it sits out 4096 lines after a window of 256 with
 * fewer than 96 hits.
 *
 * Cost: linear in the line. Backtracking is bounded by SIFT_MAX_PREFIX_STEPS per byte
 * of line; a line that exhausts it is reported as not matching.
 *
 * Owns: the compiled program (a copy of the prefix text). Spans in a match point into
 * the caller's line.
 */
#ifndef SIFT_PARSE_LINE_PREFIX_H
#define SIFT_PARSE_LINE_PREFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/diag.h"
#include "core/sbuf.h"
#include "core/span.h"

/* The escapes that carry a value, in PostgreSQL's order of documentation. */
enum lp_field {
    LPF_APP,           /* %a application_name */
    LPF_USER,          /* %u user name */
    LPF_DB,            /* %d database name */
    LPF_REMOTE,        /* %r host(port), [local] */
    LPF_HOST,          /* %h host */
    LPF_LOCAL,         /* %L local address (18+) */
    LPF_BACKEND,       /* %b backend type */
    LPF_PID,           /* %p process id */
    LPF_LEADER,        /* %P parallel group leader pid (14+) */
    LPF_TIME,          /* %t time without milliseconds */
    LPF_TIME_MS,       /* %m time with milliseconds */
    LPF_EPOCH,         /* %n Unix epoch with milliseconds */
    LPF_PS,            /* %i command tag / ps display */
    LPF_SQLSTATE,      /* %e */
    LPF_SESSION,       /* %c session id */
    LPF_LINE,          /* %l per-process line number */
    LPF_SESSION_START, /* %s session start time */
    LPF_VXID,          /* %v virtual transaction id */
    LPF_XID,           /* %x transaction id */
    LPF_QUERY_ID,      /* %Q query id (14+) */
    LPF_COUNT
};

/* The word after the prefix: a severity starts a record, the others are sub-lines. */
enum lp_keyword {
    LPK_NONE = 0,
    LPK_DEBUG,
    LPK_LOG,
    LPK_INFO,
    LPK_NOTICE,
    LPK_WARNING,
    LPK_ERROR,
    LPK_FATAL,
    LPK_PANIC,
    LPK_DETAIL, /* first sub-line keyword */
    LPK_HINT,
    LPK_QUERY,
    LPK_CONTEXT,
    LPK_LOCATION,
    LPK_BACKTRACE,
    LPK_STATEMENT,
    LPK_COUNT
};

static inline bool lp_keyword_is_severity(enum lp_keyword k)
{
    return k >= LPK_DEBUG && k <= LPK_PANIC;
}

struct line_prefix_match {
    struct span field[LPF_COUNT]; /* absent (p NULL) when the escape is not in the
                                     prefix or comes after the %q cut; padding removed */
    size_t kw_off;                /* prefix length: where the keyword starts */
    enum lp_keyword kw;
    size_t msg_off; /* where the message starts (after "KEYWORD:" and up to two spaces) */
    bool cut;       /* the line stopped at %q (a process without a client connection) */
    uint32_t has;   /* bit per enum lp_field the prefix has: the fields that can be set */
};

struct line_prefix;

/* Compile @text (the log_line_prefix setting, without quotes). Unknown escapes are
 * dropped as PostgreSQL drops them. Returns NULL and fills @d (DIAG_USAGE) when the
 * text is longer than SIFT_MAX_PREFIX_BYTES or a padding is absurd. Caller frees with
 * line_prefix_free(). */
struct line_prefix *line_prefix_new(struct span text, struct diag *d);
void line_prefix_free(struct line_prefix *lp);

/* The text it was compiled from (NUL-terminated, borrowed). */
const char *line_prefix_text(const struct line_prefix *lp);

/* Whether the prefix has the escape (before or after %q). */
bool line_prefix_has(const struct line_prefix *lp, enum lp_field f);

/* True if the prefix has a %q cut point. */
bool line_prefix_has_cut(const struct line_prefix *lp);

/* Match one line (without its newline). Returns true and fills @m when the line is
 * <prefix><KEYWORD>:<space or end>. */
bool line_prefix_match(const struct line_prefix *lp, struct span line, struct line_prefix_match *m);

/* The memo of one matcher's tails (see above); owned by the caller, one per thread.
 * Bound to the first prefix it is used with: line_prefix_memo_reset() before using it
 * with another (a prefix freed and another compiled can share an address). */
struct line_prefix_memo;
struct line_prefix_memo *line_prefix_memo_new(void);
void line_prefix_memo_reset(struct line_prefix_memo *memo);
void line_prefix_memo_free(struct line_prefix_memo *memo);

/* Lines answered from the memo, and tails it kept, since it was made or reset (tests). */
uint64_t line_prefix_memo_hits(const struct line_prefix_memo *memo);
uint64_t line_prefix_memo_stores(const struct line_prefix_memo *memo);

/* line_prefix_match() with @memo (may be NULL): the same result, faster on lines whose
 * tail the memo holds. */
bool line_prefix_match_memo(const struct line_prefix *lp, struct line_prefix_memo *memo,
                            struct span line, struct line_prefix_match *m);

/* Tests and fuzz targets: match with the full backtracking search only, without the
 * first-path shortcut (which gives the same result; the tests compare the two). */
extern bool line_prefix_full_search_only;

/* Recognise "<KEYWORD>:" followed by a space or the end at the start of @s. Returns
 * the keyword and sets *msg_off to the message start, or LPK_NONE. */
enum lp_keyword line_prefix_keyword(struct span s, size_t *msg_off);

/*
 * Auto-detection (formats.md §4.3, §6). Score every known prefix (PostgreSQL's
 * default, Debian, RDS, Supabase, Azure, Cloud SQL, Heroku and pgBadger's list) and
 * prefixes inferred from the lines themselves against @lines; the one matching the most
 * lines wins (ties: the more specific prefix). Lines starting with a TAB are ignored.
 * Returns the number of lines it matched (0: none) and writes its text into @out.
 * *@inferred tells whether it came from the lines rather than the known list.
 * @wrapped: the lines are bodies behind a syslog header (see line_prefix_infer()).
 */
size_t line_prefix_detect(const struct span *lines, size_t n, struct sbuf *out, bool *inferred,
                          bool wrapped);

/* Build a prefix from one log line by recognising timestamps, [pid], [N-1], session
 * ids, key=value pairs (user=, db=, app=, client=, host=, ...) and user@db. Writes it
 * to @out and returns true, or false when the line has no keyword to anchor on, is
 * JSON, or gives a prefix without a time (%m %t %n) or process (%p %c %l) escape (the
 * known list covers the prefixes without), or does not match the line itself. With
 * @wrapped (a body behind a syslog header, which carries the time and the pid) a
 * prefix without such an escape ('%q%u@%d ') is accepted. The result is a guess:
 * line_prefix_detect() only uses it if it matches other lines. */
bool line_prefix_infer(struct span line, struct sbuf *out, bool wrapped);

/* The known prefixes, NULL-terminated (for docs and the diagnosis). */
extern const char *const line_prefix_known[];

/* "LOG", "DETAIL", ... ("" for LPK_NONE). */
const char *lp_keyword_name(enum lp_keyword k);

/* The escape letter of a field ('a' for LPF_APP, ...). */
char lp_field_letter(enum lp_field f);

#endif
