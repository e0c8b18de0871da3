/* SPDX-License-Identifier: MIT */
/*
 * redact - take tenant data out of texts before they are stored (private to store/).
 *
 * Literal values and bind parameters are tenant data (README: tenant-safe by default).
 * These are the store's own small redactors for message texts; statement samples use
 * them too until normalize/ offers its "replace constants in this text" entry point.
 *
 * All functions append to @out and return 0, or -1 when @out's cap is hit (the text
 * appended so far stays; callers cut it with redact_cap()).
 */
#ifndef SIFT_STORE_REDACT_H
#define SIFT_STORE_REDACT_H

#include <stddef.h>

#include "core/compat.h"
#include "core/sbuf.h"
#include "core/span.h"

/* A message, detail or raw log line:
 *   'literal'                        -> '…'
 *   Key (col, ...)=(values) ...      -> Key (col, ...)=(…)
 *   Failing row contains (values)    -> Failing row contains (…)
 *   ...parameters: $1 = 'x', ...     -> ...parameters: …
 *   : "value" and Token "value"      -> : "…", Token "…"
 *   Process 123: <statement>         -> the statement with constants replaced
 * An unterminated quote redacts to the end of the text. */
SIFT_WUR int redact_message(struct sbuf *out, struct span in);

/* A SQL statement with every constant (strings of every form, dollar-quoted strings,
 * numbers) replaced by $n, numbered after the highest $n already in the text; layout,
 * identifiers, comments and existing parameters are kept. */
SIFT_WUR int redact_sql(struct sbuf *out, struct span in);

/* A grouping key from a redacted message: standalone numbers become N, so "PID 123"
 * and "PID 456" group together while identifiers like t_123 stay. */
SIFT_WUR int redact_numbers(struct sbuf *out, struct span in);

/* Cut @sb to at most @max bytes at a UTF-8 character boundary; when cut, the last bytes
 * are replaced by "…" (still within @max). */
void redact_cap(struct sbuf *sb, size_t max);

#endif
