/* SPDX-License-Identifier: MIT */
/*
 * classify_int - private to classify/: a tiny scanner over spans and the entry points of
 * the per-family recognisers (classify_text.c: LOG messages, classify_plan.c:
 * auto_explain plans, classify_params.c: bind parameter lists).
 *
 * Scanner functions take a `struct span *` as a cursor: on success they advance it past
 * what they consumed and return true; on failure they leave it unchanged.
 */
#ifndef SIFT_CLASSIFY_INT_H
#define SIFT_CLASSIFY_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/span.h"
#include "event.h"

#define LIT(s) SPAN_LIT(s)
/* For static initializers (a compound literal is not a constant expression in C11). */
#define SPAN_INIT(s)       \
    {                      \
        (s), sizeof(s) - 1 \
    }

static inline struct span cur_skip(struct span s, size_t n)
{
    return n >= s.len ? span_make(s.p ? s.p + s.len : NULL, 0) : span_make(s.p + n, s.len - n);
}

/* Consume the literal @lit at the cursor. */
static inline bool cur_eat(struct span *s, struct span lit)
{
    if (!span_starts_with(*s, lit))
        return false;
    *s = cur_skip(*s, lit.len);
    return true;
}
#define cur_eat_lit(s, lit) cur_eat((s), SPAN_LIT(lit))

static inline bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Consume an unsigned decimal integer (at most 18 digits, so it fits int64_t). */
bool cur_int(struct span *s, int64_t *out);

/* Consume an unsigned decimal number "12", "12.345" (no sign, no exponent). */
bool cur_num(struct span *s, double *out);

/* Consume up to (not including) the first occurrence of @stop; returns the consumed
 * text in @out. Fails when @stop does not occur. */
bool cur_until(struct span *s, struct span stop, struct span *out);

/* The first line of @s (without the line end) and, in @rest, what follows the line end. */
struct span line_first(struct span s, struct span *rest);

/* Index of the last occurrence of @needle in @s, or -1. */
long span_find_last(struct span s, struct span needle);

/* --- parameter lists: "$1 = 'x', $2 = NULL" (params.c BuildParamLogString) --- */

/* Length of the parameter list at the start of @s (0 when @s does not start with one):
 * `$N = 'text with '' doubled'` or `$N = NULL`, separated by ", ". */
size_t params_scan(struct span s);

/* A JSON string at the '"' at the cursor: its decoded value (a sub-span when it has no
 * escapes, else a copy in @a; absent when it has escapes and @a is NULL); the cursor
 * moves past the closing quote. Fails (cursor unchanged) on an unterminated string. */
bool classify_json_string(struct span *s, struct arena *a, struct span *out);

/* XML element text with &lt; &gt; &amp; &quot; &apos; &#N; &#xH; decoded (into @a when it
 * holds an entity; absent then if @a is NULL). */
struct span classify_xml_text(struct span raw, struct arena *a);

/* --- recognisers; each returns true when it classified the record --- */

/* LOG-level messages (00000): durations, statements, lock waits, checkpoints, ... */
bool classify_log_text(struct event *ev, struct arena *a);

/* The archiver's failures ("archive command failed with exit code 1", ...): kind
 * archive_failure, at any severity (the archiver's FATAL when the command was killed). */
bool classify_archive_text(struct event *ev);

/* English error texts, for records whose format carries no SQLSTATE. */
bool classify_error_text(struct event *ev);

/* Deadlock DETAIL: participants, the first edge's lock mode/object, the first blocker. */
void classify_deadlock_detail(struct event *ev);

/* The quote still open after the text plan piece @s when it starts inside quote @q (0,
 * '\'' or '"'): EXPLAIN prints a literal or a quoted name with its quotes doubled inside,
 * and a literal's line breaks as they are (plan_text.c). */
char plan_text_quote_after(struct span s, char q);

/* auto_explain plan body (what follows "plan:\n"): format, Query Text, parameters. */
void classify_plan_body(struct event *ev, struct span body, struct arena *a);

/* Bind parameters from DETAIL "parameters: ..." (any case) or from a CONTEXT line
 * "... with parameters: ...". */
void classify_params(struct event *ev);

#endif
