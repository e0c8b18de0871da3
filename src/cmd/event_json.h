/* SPDX-License-Identifier: MIT */
/*
 * event_json - one event as one NDJSON line, the `pgsift parse` output of INTERFACE.md.
 *
 * Fields the event does not have are omitted; strings are JSON-escaped and always valid
 * UTF-8 (each invalid byte becomes U+FFFD and the event says "invalid_utf8": true);
 * query_id is a decimal string (exact int64); ts is RFC 3339 UTC with the log's own
 * sub-second digits. Owns nothing.
 */
#ifndef SIFT_CMD_EVENT_JSON_H
#define SIFT_CMD_EVENT_JSON_H

#include "core/arena.h"
#include "core/sbuf.h"
#include "core/span.h"
#include "event.h"

struct normalizer;

/* Tenant data is redacted unless @redact is NULL (--keep-literals): constants in
 * `query`, `statement` and `internal_query` become $n (normalize_redact, layout kept);
 * the SQL inside `message` likewise; quoted values, key values and bind parameters in
 * `message`, `detail`, `hint` and `context` become "…" (redact_message); plans go
 * through plan_redact() (every expression and the Query Text). `params` is never
 * printed. @nz is the normalizer used for SQL; the rest is scratch. */
struct event_json_redact {
    struct normalizer *nz;
    struct sbuf tmp, tmp2;
    struct arena arena;
};

/* Append the event and a '\n' to @out. Returns 0, or -1 when @out's cap is reached. */
int event_json_write(const struct event *ev, struct sbuf *out, struct event_json_redact *redact);

#endif
