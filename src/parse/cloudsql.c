/* SPDX-License-Identifier: MIT */
/*
 * cloudsql.c - Google Cloud SQL for PostgreSQL logs exported from Cloud Logging
 * (formats.md §6.2): one LogEntry JSON object per line, whose "textPayload" is one
 * physical stderr line ("[24667]: [1-1] db=app,user=bob LOG:  ..." with the prefix
 * '[%p]: [%l-1] db=%d,user=%u ', or a TAB continuation line). The payloads go through
 * the stderr record core (stderrlog.h) with records kept per process, because entries
 * of different processes interleave; "timestamp" (RFC 3339, microseconds) is the event
 * time, since the prefix has none. Entries without a textPayload (other services in
 * the same export) are foreign lines.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/xalloc.h"
#include "parse/stderrlog.h"

/* Entries of other processes between the lines of one record. */
#define CLOUDSQL_WINDOW 1000u

struct cloudsql_state {
    struct stderr_core *core;
};

/* The textPayload and timestamp of an entry; false if the line is not one. The
 * payload is copied into @a (the JSON document is freed before returning). */
static bool entry_fields(struct span line, struct arena *a, struct span *payload, int64_t *ts_us,
                         int *frac)
{
    if (!line.len || line.p[0] != '{')
        return false;
    json_error_t err;
    json_t *root = json_loadb(line.p, line.len, JSON_ALLOW_NUL, &err);
    if (!root)
        return false;
    json_t *tp = json_object_get(root, "textPayload");
    json_t *ts = json_object_get(root, "timestamp");
    bool ok = json_is_string(tp);
    if (ok && a) {
        size_t n = json_string_length(tp);
        char *copy = arena_alloc(a, n + 1);
        memcpy(copy, json_string_value(tp), n);
        copy[n] = '\0';
        *payload = span_make(copy, n);
    } else if (ok) {
        *payload = span_make(json_string_value(tp), json_string_length(tp));
    }
    *ts_us = INT64_MIN;
    if (ok && json_is_string(ts)) {
        struct pgtime_tz utc = { true, 0 };
        int64_t us;
        if (pgtime_parse(span_make(json_string_value(ts), json_string_length(ts)), &utc, &us, frac,
                         NULL) == PGTIME_OK)
            *ts_us = us;
    }
    json_decref(root);
    return ok;
}

static size_t cloudsql_sniff(const struct sniff_input *in, struct sbuf *note)
{
    struct arena a;
    arena_init(&a, 64 * 1024);
    struct span *payloads = xcalloc(in->n ? in->n : 1, sizeof(*payloads));
    size_t np = 0, entries = 0;

    for (size_t i = 0; i < in->n; i++) {
        int64_t ts;
        int frac;
        struct span pl;
        /* cheap test first: only Cloud Logging entries carry "textPayload" */
        if (span_find(in->lines[i], 0, SPAN_LIT("\"textPayload\"")) < 0 ||
            !entry_fields(in->lines[i], &a, &pl, &ts, &frac))
            continue;
        entries++;
        payloads[np++] = pl;
    }
    size_t score = np ? stderr_sniff_lines(payloads, np, in->opts, note, false) : 0;
    free(payloads);
    arena_release(&a);
    return score ? entries : 0;
}

static void *cloudsql_init(struct parser *p, const char *note)
{
    struct cloudsql_state *st = xcalloc(1, sizeof(*st));
    const char *given = parser_opts(p)->prefix;
    char *detected = given ? NULL : stderr_note_prefix(note);
    st->core = stderr_core_new(p, &(struct stderr_core_opts){
                                      .prefix = given ? given : detected,
                                      .forced = given != NULL,
                                      .window = CLOUDSQL_WINDOW,
                                  });
    free(detected);
    return st;
}

static void cloudsql_release(void *state)
{
    struct cloudsql_state *st = state;
    if (!st)
        return;
    stderr_core_free(st->core);
    free(st);
}

static void cloudsql_line(struct parser *p, void *state, const struct input_line *ln)
{
    struct cloudsql_state *st = state;
    struct span pl;
    int64_t ts;
    int frac = 0;

    if (ln->text.len == 0) {
        parser_blank(p);
        return;
    }
    if (!entry_fields(ln->text, parser_scratch(p), &pl, &ts, &frac)) {
        parser_foreign(p);
        return;
    }
    struct stderr_ext ext = { ts, frac, false, -1 };
    /* one entry is one physical line; a payload with newlines is taken piece by piece */
    const char *nl = memchr(pl.p, '\n', pl.len);
    struct span first = nl ? span_make(pl.p, (size_t)(nl - pl.p)) : pl;
    switch (stderr_core_take(p, st->core, first, &ext, true)) {
    case STDERR_TAKEN: break;
    case STDERR_FOREIGN: parser_foreign(p); return;
    case STDERR_ORPHAN:
        parser_reject(p, STDERR_ORPHAN_REASON, "a sub-line of a record that is not in the input");
        return;
    }
    while (nl) {
        const char *start = nl + 1;
        nl = memchr(start, '\n', (size_t)(pl.p + pl.len - start));
        struct span piece = span_make(start, (size_t)((nl ? nl : pl.p + pl.len) - start));
        (void)stderr_core_take(p, st->core, piece, &ext, false); /* joins the record */
    }
}

static void cloudsql_finish(struct parser *p, void *state, struct pending *rec)
{
    struct cloudsql_state *st = state;
    stderr_core_finish(p, st->core, rec);
}

static void cloudsql_end(struct parser *p, void *state)
{
    (void)p;
    stderr_core_end(((struct cloudsql_state *)state)->core);
}

static const char *cloudsql_prefix(const void *state)
{
    return stderr_core_prefix(((const struct cloudsql_state *)state)->core);
}

const struct log_format fmt_cloudsql = {
    .name = "cloudsql",
    .description = "Google Cloud SQL logs exported from Cloud Logging (JSON with textPayload)",
    .hint = "Cloud SQL entries are JSON objects, one per line, with a \"textPayload\" holding "
            "one stderr line (split a JSON array first: jq -c '.[]' FILE); pass the "
            "instance's log_line_prefix with --prefix if it is not the default",
    .sniff = cloudsql_sniff,
    .check_opts = NULL,
    .init = cloudsql_init,
    .release = cloudsql_release,
    .line = cloudsql_line,
    .finish = cloudsql_finish,
    .end = cloudsql_end,
    .pending_size = sizeof(struct srec),
    .prefix = cloudsql_prefix,
};
