/* SPDX-License-Identifier: MIT */
/*
 * classify - decide what a log record is (`ev->kind`) and extract the numbers users
 * chart (`ev->duration_ms`, `ev->query`, `ev->phase`, `ev->params`, `ev->plan`,
 * `ev->facts`), from the record parse/ produced.
 *
 * Order of evidence: the SQLSTATE first, the English message text second. A record whose
 * SQLSTATE says what it is (40P01 deadlock, 53300 too many connections, 28xxx
 * authentication, 25P03/57P05/25P04 session timeouts, 57014 query canceled) gets that
 * kind in any lc_messages language; the text only refines it (57014 "due to statement
 * timeout" is a timeout, "due to user request" a cancel) and extracts numbers. LOG
 * records (durations, statements, plans, lock waits, checkpoints, autovacuum,
 * connections, startup/shutdown) carry SQLSTATE 00000 and are recognised by their
 * English text only: under a non-English lc_messages they stay `other` (docs/classify.md
 * lists what classifies in which language).
 *
 * Owns nothing. Reads the log fields of @ev (severity, sqlstate, message, detail,
 * context); overwrites only the classify/ fields (kind, phase, duration_ms, query,
 * prepared_name, params, plan_format, plan, facts, the EVENT_HAS_PARAMS flag), resetting
 * them first, so classifying a record twice gives the same result.
 *
 * Extracted spans point into @ev's own message/detail/context (valid as long as those
 * are) or into static storage, except text that had to be decoded (a JSON/YAML/XML plan's
 * "Query Text" with escapes, a pgAudit statement with doubled quotes), which is copied
 * into @a. With @a NULL such text is left absent (the record still classifies).
 *
 * Tenant data: `params` (bind parameters) and the DETAIL/CONTEXT they come from, the
 * queries of other sessions in a deadlock DETAIL, and `query` literals are user data.
 * When EVENT_HAS_PARAMS is set, the record's `detail` (or, for parameters logged on
 * error, its `context`) holds the same values: redact it along with `params`.
 */
#ifndef SIFT_CLASSIFY_CLASSIFY_H
#define SIFT_CLASSIFY_CLASSIFY_H

#include "core/arena.h"
#include "event.h"

/* Classify one record in place. Never fails, never reads outside the spans, allocates
 * from @a only for decoded plan/audit text (see above). */
void classify_event(struct event *ev, struct arena *a);

#endif
