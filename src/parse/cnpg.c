/* SPDX-License-Identifier: MIT */
/*
 * cnpg.c - CloudNativePG instance logs (formats.md §6.5): JSON lines from the instance
 * manager. A PostgreSQL record is {"logger":"postgres","msg":"record","record":{...}}
 * whose "record" holds the csvlog columns by name, every value a string, empty columns
 * left out. Before the logging collector starts, PostgreSQL's own stderr lines arrive
 * as {"logger":"postgres","msg":"<raw stderr line>"}: those go through the stderr
 * record core (stderrlog.h). Everything else (the operator's own messages: "wal-archive",
 * "setup", probes) is a foreign line.
 */
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/xalloc.h"
#include "parse/stderrlog.h"

#define CNPG_WINDOW 1000u

struct cnpg_state {
    struct stderr_core *core;
};

enum cnpg_kind { CNPG_OTHER, CNPG_RECORD, CNPG_RAW };

static enum cnpg_kind classify(json_t *root)
{
    json_t *logger = json_object_get(root, "logger");
    json_t *msg = json_object_get(root, "msg");
    if (!json_is_string(logger) || strcmp(json_string_value(logger), "postgres") != 0 ||
        !json_is_string(msg))
        return CNPG_OTHER;
    if (json_is_object(json_object_get(root, "record")))
        return CNPG_RECORD;
    return CNPG_RAW;
}

static json_t *load(struct span line)
{
    if (!line.len || line.p[0] != '{')
        return NULL;
    json_error_t err;
    json_t *root = json_loadb(line.p, line.len, JSON_ALLOW_NUL, &err);
    if (root && !json_is_object(root)) {
        json_decref(root);
        return NULL;
    }
    return root;
}

/* A string member copied into the scratch arena; absent (or empty) -> SPAN_NULL. */
static struct span str(struct arena *a, json_t *rec, const char *key)
{
    json_t *v = json_object_get(rec, key);
    if (!json_is_string(v) || json_string_length(v) == 0)
        return SPAN_NULL;
    size_t n = json_string_length(v);
    char *copy = arena_alloc(a, n + 1);
    memcpy(copy, json_string_value(v), n);
    copy[n] = '\0';
    return span_make(copy, n);
}

static bool num(json_t *rec, const char *key, int64_t *out)
{
    json_t *v = json_object_get(rec, key);
    return json_is_string(v) &&
           span_to_i64(span_make(json_string_value(v), json_string_length(v)), out);
}

/* The csvlog columns of "record" -> event; NULL or the reject reason. */
static const char *build(struct parser *p, struct event *ev, json_t *rec, const char **detail)
{
    struct arena *a = parser_scratch(p);
    int64_t v;
    int frac;
    struct span s = str(a, rec, "log_time");

    *detail = NULL;
    if (!s.p) {
        *detail = "no log_time";
        return "bad timestamp";
    }
    enum pgtime_status st = pgtime_parse(s, parser_tz(p), &ev->ts_us, &ev->ts_frac, NULL);
    if (st != PGTIME_OK) {
        *detail = pgtime_status_reason(st);
        return st == PGTIME_BAD ? "bad timestamp" : "time zone";
    }
    if (num(rec, "process_id", &v))
        ev->pid = v;
    ev->user = str(a, rec, "user_name");
    ev->database = str(a, rec, "database_name");
    if ((s = str(a, rec, "connection_from")).p)
        parser_set_client(ev, s);
    ev->session_id = str(a, rec, "session_id");
    if (num(rec, "session_line_num", &v))
        ev->session_line = v;
    ev->command_tag = str(a, rec, "command_tag");
    if ((s = str(a, rec, "session_start_time")).p &&
        pgtime_parse(s, parser_tz(p), &v, &frac, NULL) == PGTIME_OK)
        ev->session_start_us = v;
    ev->vxid = str(a, rec, "virtual_transaction_id");
    if (num(rec, "transaction_id", &v))
        ev->txid = v;
    if ((s = str(a, rec, "error_severity")).p && !parser_severity(s, &ev->severity))
        ev->severity = SEV_NONE;
    if ((s = str(a, rec, "sql_state_code")).p)
        parser_set_sqlstate(ev, s);
    ev->message = str(a, rec, "message");
    ev->detail = str(a, rec, "detail");
    ev->hint = str(a, rec, "hint");
    ev->internal_query = str(a, rec, "internal_query");
    if (num(rec, "internal_query_pos", &v) && v > 0 && v <= INT32_MAX)
        ev->internal_pos = (int32_t)v;
    ev->context = str(a, rec, "context");
    ev->statement = str(a, rec, "query");
    if (num(rec, "query_pos", &v) && v > 0 && v <= INT32_MAX)
        ev->cursor_pos = (int32_t)v;
    ev->location = str(a, rec, "location");
    ev->application = str(a, rec, "application_name");
    ev->backend_type = str(a, rec, "backend_type");
    if (num(rec, "leader_pid", &v))
        ev->leader_pid = v;
    if (json_object_get(rec, "query_id")) {
        if (!num(rec, "query_id", &v)) {
            *detail = "query_id";
            return "bad number";
        }
        ev->query_id = v;
        ev->has_query_id = v != 0;
    }
    return NULL;
}

static void check_fields_utf8(struct event *ev)
{
    struct span f[] = { ev->user,   ev->database,       ev->application, ev->message,
                        ev->detail, ev->hint,           ev->context,     ev->statement,
                        ev->client, ev->internal_query, ev->command_tag, ev->location };
    for (size_t i = 0; i < ARRAY_SIZE(f); i++)
        parser_check_utf8(ev, f[i]);
}

static size_t cnpg_sniff(const struct sniff_input *in, struct sbuf *note)
{
    size_t score = 0;
    (void)note;
    for (size_t i = 0; i < in->n; i++) {
        /* cheap test first: the instance manager tags every line with the pod */
        if (span_find(in->lines[i], 0, SPAN_LIT("\"logging_pod\"")) < 0)
            continue;
        json_t *root = load(in->lines[i]);
        if (root)
            score++;
        json_decref(root);
    }
    return score;
}

static void *cnpg_init(struct parser *p, const char *note)
{
    (void)note;
    struct cnpg_state *st = xcalloc(1, sizeof(*st));
    const char *given = parser_opts(p)->prefix;
    st->core = stderr_core_new(p, &(struct stderr_core_opts){
                                      .prefix = given,
                                      .forced = given != NULL,
                                      .window = CNPG_WINDOW,
                                  });
    return st;
}

static void cnpg_release(void *state)
{
    struct cnpg_state *st = state;
    if (!st)
        return;
    stderr_core_free(st->core);
    free(st);
}

static void cnpg_line(struct parser *p, void *state, const struct input_line *ln)
{
    struct cnpg_state *st = state;

    if (ln->text.len == 0) {
        parser_blank(p);
        return;
    }
    json_t *root = load(ln->text);
    enum cnpg_kind k = root ? classify(root) : CNPG_OTHER;
    if (k == CNPG_RECORD) {
        struct event *ev = parser_event_begin(p, ln);
        const char *detail;
        const char *reason = build(p, ev, json_object_get(root, "record"), &detail);
        if (reason) {
            parser_event_abort(p, ev);
            parser_reject(p, reason, "%s", detail ? detail : "");
        } else {
            check_fields_utf8(ev);
            parser_event_commit(p, ev);
        }
    } else if (k == CNPG_RAW) {
        struct span msg = str(parser_scratch(p), root, "msg");
        json_t *ts = json_object_get(root, "ts");
        struct stderr_ext ext = STDERR_EXT_NONE;
        double secs = json_is_number(ts) ? json_number_value(ts) : NAN;
        if (isfinite(secs) && fabs(secs) < 9.2e12) { /* (µs that fit int64_t) */
            ext.ts_us = (int64_t)(secs * 1e6);
            ext.ts_frac = 6;
        }
        switch (msg.p ? stderr_core_take(p, st->core, msg, &ext, true) : STDERR_FOREIGN) {
        case STDERR_TAKEN: break;
        case STDERR_FOREIGN: parser_foreign(p); break;
        case STDERR_ORPHAN:
            parser_reject(p, STDERR_ORPHAN_REASON,
                          "a sub-line of a record that is not in the input");
            break;
        }
    } else {
        parser_foreign(p);
    }
    json_decref(root);
}

static void cnpg_finish(struct parser *p, void *state, struct pending *rec)
{
    struct cnpg_state *st = state;
    stderr_core_finish(p, st->core, rec);
}

static const char *cnpg_prefix(const void *state)
{
    return stderr_core_prefix(((const struct cnpg_state *)state)->core);
}

const struct log_format fmt_cnpg = {
    .name = "cnpg",
    .description = "CloudNativePG instance manager JSON lines (csvlog columns under \"record\")",
    .hint = "CloudNativePG lines are JSON objects with \"logging_pod\" and, for PostgreSQL "
            "records, \"record\" (kubectl logs <pod>)",
    .sniff = cnpg_sniff,
    .init = cnpg_init,
    .release = cnpg_release,
    .line = cnpg_line,
    .finish = cnpg_finish,
    .pending_size = sizeof(struct srec),
    .prefix = cnpg_prefix,
};
