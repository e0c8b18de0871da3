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

#include "core/sbuf.h"
#include "core/span.h"
#include "event.h"

/* Append the event and a '\n' to @out. Returns 0, or -1 when @out's cap is reached. */
int event_json_write(const struct event *ev, struct sbuf *out);

#endif
