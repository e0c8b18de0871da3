/* SPDX-License-Identifier: MIT */
/*
 * supabase.c - Supabase (Logflare) Postgres log events (formats.md §9), in the shapes
 * users get them out:
 *
 *   - Logs Explorer / Management API rows: {"id", "timestamp" (Unix µs), "event_message",
 *     "metadata": [{"host", "parsed": [{csvlog-like fields}]}]} (metadata and parsed are
 *     one-element arrays), as a JSON array, one per line (NDJSON), pretty-printed
 *     ("Copy as JSON", jq), or wrapped in the API's {"result": [...], "error": ...};
 *   - log-drain bodies: the same events with plain objects ("metadata": {"parsed": {}}),
 *     as a JSON array or NDJSON; Datadog-drain wrappers {"ddsource", "data": {event}};
 *   - the Explorer's "Download CSV" (supabase_logs.csv): a header naming the selected
 *     columns, then one CSV record per row, `metadata` as JSON text;
 *   - flat rows (a query that selected parsed.* columns by name).
 *
 * Field mapping (documented names, formats.md §9.2): event_message -> message,
 * metadata.parsed.{error_severity, sql_state_code, user_name, database_name, process_id,
 * connection_from, session_id, session_line_num, command_tag, session_start_time,
 * virtual_transaction_id, transaction_id, detail, hint, context, query,
 * application_name, backend_type, leader_pid, query_id, timestamp}; the csv names
 * internal_query, internal_query_pos, query_pos and location are read too (inferred).
 * The time is parsed.timestamp (the server's log time) or else the top-level timestamp
 * (µs; 10/13/16/19 digits read as s/ms/µs/ns as Logflare normalises them).
 *
 * Events of other Supabase products (edge, auth, storage ... in a drain) are rejected
 * with reason "not a postgres event": counted and sampled, never silently dropped.
 *
 * Line accounting (parse_int.h): a record inside one line is an event of that line; a
 * record over several lines (pretty-printed JSON, CSV with newlines in a value) is a
 * pending record; lines with JSON structure only ("[", "]", "{" alone before the first
 * key, the API wrapper's keys) and the CSV header count as blank lines. A line that
 * holds several records (a compact one-line JSON array) needs the framework to emit
 * several events for one line, which it cannot yet: such a line is rejected with reason
 * "several records on one line" naming how many (docs/supabase.md shows the jq
 * one-liner that splits the array).
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/bytescan.h"
#include "core/varint.h"
#include "core/utf8.h"
#include "core/xalloc.h"
#include "parse/json_scan.h"
#include "parse/parse_int.h"

/* Columns of an Explorer CSV export we keep track of. The export has the columns of the
 * user's SELECT; 64 is far more than any useful query selects. */
#define SB_MAX_CSV_COLUMNS 64
/* Bytes of one column name (the longest documented is 22): the header is saved with each
 * checkpoint (sb_save()), so it stays small whatever a file holds. */
#define SB_MAX_CSV_NAME 256

enum sb_mode { SB_UNKNOWN, SB_JSON, SB_CSV };

/* Where the top-level JSON value stands. */
enum sb_top {
    TOP_NONE,      /* between top-level values */
    TOP_ARRAY,     /* [ rows ] */
    TOP_UNDECIDED, /* { ... before its first key: a row or the API wrapper */
    TOP_ROW,       /* { row } (NDJSON, pretty-printed single row) */
    TOP_WRAPPER,   /* {"result": [ rows ], "error": ...} */
};

/* A piece of the current line that belongs to a record. */
struct sb_seg {
    size_t start, end;
    bool opened; /* the record's '{' is on this line */
    bool closed; /* the record's '}' is on this line */
};

/* The JSON scanner's state, carried across lines (and saved with a checkpoint). */
struct sb_json {
    enum sb_top top;
    uint64_t depth;
    bool in_str, esc;
    bool in_rec;        /* inside a record object */
    uint64_t rec_depth; /* depth outside the record's '{' */
    bool deferred;      /* the record's '{' was on a line of its own (counted blank) */
    bool key_pos;       /* wrapper/undecided: the next string at depth 1 is a key */
    bool in_key;
    char key[8];
    size_t key_len;
    bool result_key; /* the last depth-1 key of the wrapper was "result" */
    bool in_result;  /* inside the wrapper's result array */
    bool ndjson;     /* a record began and ended on one line at the top level: records are
                        one per line, so a line starting with '{' starts one */
};

struct sb_state {
    enum sb_mode mode;

    /* JSON */
    struct sb_json j;
    struct sb_json j_line; /* j at the start of the current line */
    struct sb_json j_rec;  /* j at the start of the pending record's first line */
    size_t rec_indent;     /* that line's indentation (set with j_rec; a resume reads the
                              line again, so neither is saved) */
    bool rec_key_first;    /* that line is the record's first key: its '{' was alone */
    bool garbage;          /* this line has bytes that are not JSON structure */
    bool error_next;       /* this line: the API wrapper's "error" key was just read */
    bool api_error;        /* this line: its value is not null (the query failed) */
    const char *cut_why;   /* sb_cut(): why the record finished now is rejected */
    struct sb_seg *segs;
    size_t nsegs, segs_alloc;

    /* CSV */
    bool have_header;
    char *cols[SB_MAX_CSV_COLUMNS];
    size_t ncols;
    bool csv_in_quote, csv_field_start;
};

/* ------------------------------------------------------------------------------------ */
/* values                                                                               */

/* The fields of metadata.parsed (or of a flat row) that a record maps. */
enum sb_field {
    SBF_ERROR_SEVERITY,
    SBF_SQL_STATE_CODE,
    SBF_TIMESTAMP,
    SBF_USER_NAME,
    SBF_DATABASE_NAME,
    SBF_PROCESS_ID,
    SBF_CONNECTION_FROM,
    SBF_SESSION_ID,
    SBF_SESSION_LINE_NUM,
    SBF_COMMAND_TAG,
    SBF_SESSION_START_TIME,
    SBF_VIRTUAL_TRANSACTION_ID,
    SBF_TRANSACTION_ID,
    SBF_DETAIL,
    SBF_HINT,
    SBF_CONTEXT,
    SBF_QUERY,
    SBF_INTERNAL_QUERY,
    SBF_INTERNAL_QUERY_POS,
    SBF_QUERY_POS,
    SBF_LOCATION,
    SBF_APPLICATION_NAME,
    SBF_BACKEND_TYPE,
    SBF_LEADER_PID,
    SBF_QUERY_ID,
    SBF_COUNT
};

static const struct span sb_field_names[SBF_COUNT] = {
    { "error_severity", 14 },
    { "sql_state_code", 14 },
    { "timestamp", 9 },
    { "user_name", 9 },
    { "database_name", 13 },
    { "process_id", 10 },
    { "connection_from", 15 },
    { "session_id", 10 },
    { "session_line_num", 16 },
    { "command_tag", 11 },
    { "session_start_time", 18 },
    { "virtual_transaction_id", 22 },
    { "transaction_id", 14 },
    { "detail", 6 },
    { "hint", 4 },
    { "context", 7 },
    { "query", 5 },
    { "internal_query", 14 },
    { "internal_query_pos", 18 },
    { "query_pos", 9 },
    { "location", 8 },
    { "application_name", 16 },
    { "backend_type", 12 },
    { "leader_pid", 10 },
    { "query_id", 8 },
};

static int sb_field_of(struct span key)
{
    for (int i = 0; i < SBF_COUNT; i++)
        if (span_eq(key, sb_field_names[i]))
            return i;
    return -1;
}

/*
 * What sb_map() reads of a row, from either reader: the JSON scanner (sb_scan_row()) or
 * jansson (sb_rec_from_json()). Strings live in the row's text or the scratch arena.
 * A value the row does not have is JV_ABSENT; objects and arrays keep their type only.
 */
struct sb_rec {
    bool object; /* the row is an object (else nothing else is set) */
    struct jv id, timestamp, message;
    struct jv f[SBF_COUNT]; /* metadata.parsed's, or the row's own (flat rows) */
};

static void sb_rec_init(struct sb_rec *r)
{
    r->object = false;
    r->id.type = r->timestamp.type = r->message.type = JV_ABSENT;
    for (size_t i = 0; i < SBF_COUNT; i++)
        r->f[i].type = JV_ABSENT;
}

static struct span sb_str(const struct jv *v)
{
    return v->type == JV_STRING ? v->s : SPAN_NULL;
}

/* An integer from a JSON integer, an integral real or a decimal string (CSV exports and
 * some drains stringify numbers). (Only jansson's rows hold reals: the scanner declines
 * a row with one in a field that is mapped.) */
static bool sb_int(const struct jv *v, int64_t *out)
{
    if (v->type == JV_INT) {
        *out = v->i;
        return true;
    }
    if (v->type == JV_REAL) {
        double d = v->d;
        if (d != d || d < -9.2e18 || d > 9.2e18 || d != (double)(int64_t)d)
            return false;
        *out = (int64_t)d;
        return true;
    }
    if (v->type == JV_STRING)
        return span_to_i64(v->s, out);
    return false;
}

/* Logflare's timestamp normalisation (lib/logflare/utils.ex to_microseconds): 19 digits
 * are ns, 16 µs, 13 ms, 10 s. */
static bool sb_epoch(int64_t v, int64_t *us, int *frac)
{
    int64_t a = v < 0 ? -v : v;
    int digits = 1;

    while (a >= 10 && digits < 20) {
        a /= 10;
        digits++;
    }
    switch (digits) {
    case 19:
        *us = v / 1000;
        *frac = 6;
        return true;
    case 16:
        *us = v;
        *frac = 6;
        return true;
    case 13:
        *us = v * 1000;
        *frac = 3;
        return true;
    case 10:
        *us = v * 1000000;
        *frac = 0;
        return true;
    default: return false;
    }
}

static bool sb_time(struct parser *p, const struct jv *v, int64_t *us, int *frac)
{
    int64_t n;

    if (sb_int(v, &n))
        return sb_epoch(n, us, frac);
    if (v->type != JV_STRING)
        return false;
    struct pgtime_tz utc = { true, 0 };
    /* A zone-less time from a wrapper is UTC unless --tz says otherwise. */
    const struct pgtime_tz *tz = parser_tz(p)->set ? parser_tz(p) : &utc;
    return pgtime_parse(v->s, tz, us, frac, NULL) == PGTIME_OK;
}

/* Local development (formats.md §9.4): event_message is a whole stderr line with the
 * prefix '%h %m [%p] %q%u@%d ', one event per physical line. Take the pid and the text
 * after the severity word. A DETAIL, HINT, CONTEXT, STATEMENT, QUERY or LOCATION line
 * (which stderr attaches to the record before it) stays an event of its own: its pid is
 * taken and its prefix dropped, the label kept in its message, its severity left as the
 * metadata says (SEV_NONE below). Plan continuation lines stay as they are. */
static void sb_local_line(struct event *ev)
{
    static const struct {
        struct span word;
        enum event_severity sev;
    } words[] = {
        { { "LOG:  ", 6 }, SEV_LOG },          { { "ERROR:  ", 8 }, SEV_ERROR },
        { { "FATAL:  ", 8 }, SEV_FATAL },      { { "PANIC:  ", 8 }, SEV_PANIC },
        { { "WARNING:  ", 10 }, SEV_WARNING }, { { "NOTICE:  ", 9 }, SEV_NOTICE },
        { { "INFO:  ", 7 }, SEV_INFO },        { { "DEBUG:  ", 8 }, SEV_DEBUG },
        { { "DETAIL:  ", 9 }, SEV_NONE },      { { "HINT:  ", 7 }, SEV_NONE },
        { { "CONTEXT:  ", 10 }, SEV_NONE },    { { "STATEMENT:  ", 12 }, SEV_NONE },
        { { "QUERY:  ", 8 }, SEV_NONE },       { { "LOCATION:  ", 11 }, SEV_NONE },
    };
    struct span m = ev->message;
    long open = span_find(m, 0, SPAN_LIT(" ["));

    if (open < 0)
        return;
    long close = span_find_char(m, (size_t)open + 2, ']');
    int64_t pid;
    if (close < 0 || !span_to_i64(span_sub(m, (size_t)open + 2, (size_t)(close - open - 2)), &pid))
        return;
    long best = -1;
    size_t w = 0;
    for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
        long at = span_find(m, (size_t)close, words[i].word);
        if (at >= 0 && (best < 0 || at < best)) {
            best = at;
            w = i;
        }
    }
    if (best < 0)
        return;
    ev->pid = pid;
    if (words[w].sev == SEV_NONE) {
        ev->message = span_sub(m, (size_t)best, m.len - (size_t)best);
        return;
    }
    ev->severity = words[w].sev;
    ev->message = span_sub(m, (size_t)best + words[w].word.len, m.len);
}

/* A jansson value as the mapping reads it; strings copied into the scratch arena (the
 * json_t dies before the event). */
static void sb_jv(struct parser *p, const json_t *j, struct jv *v)
{
    if (!j) {
        v->type = JV_ABSENT;
        return;
    }
    switch (json_typeof(j)) {
    case JSON_STRING:
        v->type = JV_STRING;
        v->s = arena_dup(parser_scratch(p), json_string_value(j), json_string_length(j));
        break;
    case JSON_INTEGER:
        v->type = JV_INT;
        v->i = (int64_t)json_integer_value(j);
        break;
    case JSON_REAL:
        v->type = JV_REAL;
        v->d = json_real_value(j);
        break;
    case JSON_TRUE:
    case JSON_FALSE: v->type = JV_BOOL; break;
    case JSON_NULL: v->type = JV_NULL; break;
    case JSON_OBJECT: v->type = JV_OBJECT; break;
    case JSON_ARRAY: v->type = JV_ARRAY; break;
    }
}

/* metadata / parsed are one-element arrays in Explorer rows, objects in drains. */
static json_t *sb_obj(json_t *v)
{
    if (v && json_is_array(v))
        v = json_array_size(v) ? json_array_get(v, 0) : NULL;
    return v && json_is_object(v) ? v : NULL;
}

/* What sb_map() reads of a row loaded by jansson. */
static void sb_rec_from_json(struct parser *p, json_t *row, struct sb_rec *r)
{
    sb_rec_init(r);
    if (!json_is_object(row))
        return;
    r->object = true;
    /* Datadog drain: {"message", "ddsource": "Supabase", "service", "data": {event}} */
    json_t *data = json_object_get(row, "data");
    if (json_object_get(row, "ddsource") && data && json_is_object(data))
        row = data;
    json_t *md = json_object_get(row, "metadata");
    if (md && json_is_string(md)) /* CSV export: the JSON text of the array */
        md = NULL;
    json_t *parsed = sb_obj(json_object_get(sb_obj(md), "parsed"));
    if (!parsed)
        parsed = row; /* flat rows: parsed.* selected by name */
    sb_jv(p, json_object_get(row, "id"), &r->id);
    sb_jv(p, json_object_get(row, "timestamp"), &r->timestamp);
    sb_jv(p, json_object_get(row, "event_message"), &r->message);
    for (size_t i = 0; i < SBF_COUNT; i++)
        sb_jv(p, json_object_get(parsed, sb_field_names[i].p), &r->f[i]);
}

/*
 * Fill @ev from one row. Returns NULL, or the reject reason (a constant) with @why
 * naming the detail.
 */
static const char *sb_map(struct parser *p, struct event *ev, const struct sb_rec *r,
                          const char **why)
{
    const struct jv *f = r->f;
    int64_t v;
    int frac;

    *why = NULL;
    if (!r->object) {
        *why = "expected a JSON object";
        return "not a supabase event";
    }
    if (f[SBF_ERROR_SEVERITY].type == JV_ABSENT && f[SBF_SQL_STATE_CODE].type == JV_ABSENT &&
        f[SBF_SESSION_ID].type == JV_ABSENT && f[SBF_PROCESS_ID].type == JV_ABSENT) {
        *why = "no metadata.parsed.error_severity, sql_state_code, session_id or process_id";
        return "not a postgres event";
    }
    if (r->message.type != JV_STRING) {
        *why = "no event_message";
        return "not a supabase event";
    }

    ev->message = r->message.s;
    /* The row's (or drain event's) id: the same event in two overlapping exports is
     * counted once (store, record_ids). */
    if (r->id.type == JV_STRING) {
        parser_record_key(ev, r->id.s);
    } else if (r->id.type == JV_INT) { /* (the same key as the id written as text) */
        char num[24];
        int len = snprintf(num, sizeof(num), "%" PRId64, r->id.i);
        parser_record_key(ev, span_make(num, (size_t)len));
    }
    if (f[SBF_ERROR_SEVERITY].type == JV_STRING &&
        !parser_severity(f[SBF_ERROR_SEVERITY].s, &ev->severity))
        ev->severity = SEV_NONE;
    if (f[SBF_SQL_STATE_CODE].type == JV_STRING)
        parser_set_sqlstate(ev, f[SBF_SQL_STATE_CODE].s);

    if (!sb_time(p, &f[SBF_TIMESTAMP], &ev->ts_us, &ev->ts_frac) &&
        !sb_time(p, &r->timestamp, &ev->ts_us, &ev->ts_frac)) {
        *why = "neither metadata.parsed.timestamp nor timestamp is a time";
        return "bad timestamp";
    }
    ev->user = sb_str(&f[SBF_USER_NAME]);
    ev->database = sb_str(&f[SBF_DATABASE_NAME]);
    if (sb_int(&f[SBF_PROCESS_ID], &v) && v > 0)
        ev->pid = v;
    struct span from = sb_str(&f[SBF_CONNECTION_FROM]);
    if (from.p && from.len)
        parser_set_client(ev, from);
    ev->session_id = sb_str(&f[SBF_SESSION_ID]);
    if (sb_int(&f[SBF_SESSION_LINE_NUM], &v))
        ev->session_line = v;
    ev->command_tag = sb_str(&f[SBF_COMMAND_TAG]);
    if (sb_time(p, &f[SBF_SESSION_START_TIME], &v, &frac))
        ev->session_start_us = v;
    ev->vxid = sb_str(&f[SBF_VIRTUAL_TRANSACTION_ID]);
    if (sb_int(&f[SBF_TRANSACTION_ID], &v))
        ev->txid = v;
    ev->detail = sb_str(&f[SBF_DETAIL]);
    ev->hint = sb_str(&f[SBF_HINT]);
    ev->context = sb_str(&f[SBF_CONTEXT]);
    ev->statement = sb_str(&f[SBF_QUERY]);
    ev->internal_query = sb_str(&f[SBF_INTERNAL_QUERY]);
    if (sb_int(&f[SBF_INTERNAL_QUERY_POS], &v) && v > 0 && v <= INT32_MAX)
        ev->internal_pos = (int32_t)v;
    if (sb_int(&f[SBF_QUERY_POS], &v) && v > 0 && v <= INT32_MAX)
        ev->cursor_pos = (int32_t)v;
    ev->location = sb_str(&f[SBF_LOCATION]);
    ev->application = sb_str(&f[SBF_APPLICATION_NAME]);
    ev->backend_type = sb_str(&f[SBF_BACKEND_TYPE]);
    /* integer csv fields arrive as 0 when the csv value was empty (formats.md §9.2) */
    if (sb_int(&f[SBF_LEADER_PID], &v) && v > 0)
        ev->leader_pid = v;
    if (sb_int(&f[SBF_QUERY_ID], &v)) {
        ev->query_id = v;
        ev->has_query_id = v != 0;
    }
    /* Empty strings for empty csv fields: absent, like csvlog's NULLs. */
    struct span *opt[] = { &ev->user,           &ev->database,   &ev->command_tag,
                           &ev->vxid,           &ev->detail,     &ev->hint,
                           &ev->context,        &ev->statement,  &ev->location,
                           &ev->internal_query, &ev->session_id, &ev->application,
                           &ev->backend_type };
    for (size_t i = 0; i < ARRAY_SIZE(opt); i++)
        if (opt[i]->p && opt[i]->len == 0)
            *opt[i] = SPAN_NULL;

    if (f[SBF_PROCESS_ID].type == JV_ABSENT && f[SBF_SESSION_ID].type == JV_ABSENT)
        sb_local_line(ev);
    return NULL;
}

/* ------------------------------------------------------------------------------------ */
/* JSON text -> event                                                                   */

/* Replace invalid UTF-8 bytes by U+FFFD (jansson takes UTF-8 only). */
static struct span sb_repair(struct parser *p, struct span t)
{
    char *out = arena_alloc(parser_scratch(p), t.len * 3 + 1);
    size_t n = 0;

    for (size_t i = 0; i < t.len;) {
        size_t k = utf8_seq_len((const unsigned char *)t.p + i, t.len - i);
        if (k == 0) {
            memcpy(out + n, "\xEF\xBF\xBD", 3);
            n += 3;
            i++;
            continue;
        }
        memcpy(out + n, t.p + i, k);
        n += k;
        i += k;
    }
    out[n] = '\0';
    return span_make(out, n);
}

/*
 * The scanner's reading of a row (json_scan.h): what sb_rec_from_json() gives for the
 * rows it takes - the usual shapes, one pass, no allocation but for unescaped strings.
 * It declines (false), and jansson reads the row, on what it does not take and on what
 * it would have to decide like jansson to get right: a Datadog wrapper ("ddsource"), a
 * "metadata" or "parsed" key given twice, a real number in a field the mapping reads.
 * A key given twice elsewhere is read as jansson does: the last one counts.
 */
bool supabase_jansson_only;

struct sb_reading {
    struct sb_rec *r;
    bool md_seen, parsed_seen, parsed_found;
    struct jv flat[SBF_COUNT]; /* the row's own fields, for a row without parsed */
};

typedef bool sb_member_fn(struct jscan *s, struct span key, struct sb_reading *rd);

/* The members of an object whose '{' is behind the cursor; @member reads each value. */
static bool sb_members(struct jscan *s, sb_member_fn *member, struct sb_reading *rd)
{
    jscan_ws(s);
    if (jscan_eat(s, '}'))
        return true;
    for (;;) {
        struct span key;
        jscan_ws(s);
        if (!jscan_eat(s, '"') || !jscan_string(s, &key) || memchr(key.p, '\0', key.len))
            return false;
        jscan_ws(s);
        if (!jscan_eat(s, ':'))
            return false;
        jscan_ws(s);
        if (!member(s, key, rd))
            return false;
        jscan_ws(s);
        if (jscan_eat(s, ','))
            continue;
        return jscan_eat(s, '}');
    }
}

static bool sb_skip(struct jscan *s)
{
    struct jv v;
    return jscan_value(s, &v, 1);
}

/* A value the mapping reads (reals are jansson's to convert). */
static bool sb_take(struct jscan *s, struct jv *slot)
{
    return jscan_value(s, slot, 1) && slot->type != JV_REAL;
}

/* metadata and parsed: an object, or an array whose first element is one (sb_obj());
 * *@found (when not NULL) is set when there is one. */
static bool sb_inner(struct jscan *s, sb_member_fn *member, struct sb_reading *rd, bool *found)
{
    if (jscan_eat(s, '{')) {
        if (found)
            *found = true;
        return sb_members(s, member, rd);
    }
    if (!jscan_eat(s, '['))
        return sb_skip(s);
    jscan_ws(s);
    if (jscan_eat(s, ']'))
        return true;
    if (jscan_eat(s, '{')) {
        if (found)
            *found = true;
        if (!sb_members(s, member, rd))
            return false;
    } else if (!sb_skip(s)) {
        return false;
    }
    for (;;) {
        jscan_ws(s);
        if (jscan_eat(s, ']'))
            return true;
        if (!jscan_eat(s, ',') || !sb_skip(s))
            return false;
    }
}

static bool sb_parsed_member(struct jscan *s, struct span key, struct sb_reading *rd)
{
    int k = sb_field_of(key);
    return k >= 0 ? sb_take(s, &rd->r->f[k]) : sb_skip(s);
}

static bool sb_md_member(struct jscan *s, struct span key, struct sb_reading *rd)
{
    if (!span_eq(key, SPAN_LIT("parsed")))
        return sb_skip(s);
    if (rd->parsed_seen)
        return false;
    rd->parsed_seen = true;
    return sb_inner(s, sb_parsed_member, rd, &rd->parsed_found);
}

static bool sb_row_member(struct jscan *s, struct span key, struct sb_reading *rd)
{
    struct sb_rec *r = rd->r;
    if (span_eq(key, SPAN_LIT("id")))
        return sb_take(s, &r->id);
    if (span_eq(key, SPAN_LIT("event_message")))
        return sb_take(s, &r->message);
    if (span_eq(key, SPAN_LIT("timestamp"))) {
        if (!sb_take(s, &r->timestamp))
            return false;
        rd->flat[SBF_TIMESTAMP] = r->timestamp;
        return true;
    }
    if (span_eq(key, SPAN_LIT("metadata"))) {
        if (rd->md_seen)
            return false;
        rd->md_seen = true;
        return sb_inner(s, sb_md_member, rd, NULL);
    }
    if (span_eq(key, SPAN_LIT("ddsource")))
        return false;
    int k = sb_field_of(key);
    return k >= 0 ? sb_take(s, &rd->flat[k]) : sb_skip(s);
}

static bool sb_scan_row(struct parser *p, struct span text, struct sb_rec *r)
{
    struct jscan s = { text.p, text.p + text.len, parser_scratch(p) };
    struct sb_reading rd = { .r = r };

    sb_rec_init(r);
    for (size_t i = 0; i < SBF_COUNT; i++)
        rd.flat[i].type = JV_ABSENT;
    jscan_ws(&s);
    if (!jscan_eat(&s, '{') || !sb_members(&s, sb_row_member, &rd))
        return false;
    jscan_ws(&s);
    if (s.p != s.end)
        return false;
    r->object = true;
    if (!rd.parsed_found)
        memcpy(r->f, rd.flat, sizeof(r->f));
    return true;
}

/* Parse one record's JSON text and emit its event (or reject it). @ev is begun. */
static void sb_emit_json(struct parser *p, struct event *ev, struct span text)
{
    bool valid = utf8_valid(text);
    struct sb_rec r;
    const char *why = NULL, *reason;

    if (!valid || supabase_jansson_only || !sb_scan_row(p, text, &r)) {
        json_error_t err;
        struct span t = valid ? text : sb_repair(p, text);
        json_t *row = json_loadb(t.p, t.len, JSON_ALLOW_NUL, &err);
        if (!row) {
            parser_event_abort(p, ev);
            parser_reject(p, "bad json", "%s at column %d", err.text, err.column);
            return;
        }
        sb_rec_from_json(p, row, &r);
        json_decref(row);
    }
    reason = sb_map(p, ev, &r, &why);
    if (reason) {
        parser_event_abort(p, ev);
        parser_reject(p, reason, "%s", why ? why : "");
        return;
    }
    /* (The texts of either reader are valid UTF-8: jansson's, and the scanner's read from
     * valid text, escapes written by utf8_encode(); the repair is what is flagged.) */
    if (!valid)
        ev->flags |= EVENT_INVALID_UTF8;
    parser_event_commit(p, ev);
}

/* ------------------------------------------------------------------------------------ */
/* the JSON scanner                                                                     */

static void seg_open(struct sb_state *st, size_t at)
{
    XGROW(st->segs, st->nsegs + 1, st->segs_alloc);
    st->segs[st->nsegs++] = (struct sb_seg){ at, at, true, false };
}

static void seg_close(struct sb_state *st, size_t at)
{
    struct sb_seg *last = st->nsegs ? &st->segs[st->nsegs - 1] : NULL;
    if (last && !last->closed) {
        last->end = at + 1;
        last->closed = true;
        return;
    }
    XGROW(st->segs, st->nsegs + 1, st->segs_alloc);
    st->segs[st->nsegs++] = (struct sb_seg){ 0, at + 1, false, true };
}

static void rec_open(struct sb_state *st, size_t at)
{
    st->j.in_rec = true;
    st->j.rec_depth = st->j.depth;
    seg_open(st, at);
}

/* A key of the top-level object has been read: row or API wrapper? */
static void top_key(struct sb_state *st)
{
    bool result = st->j.key_len == 6 && !memcmp(st->j.key, "result", 6);
    bool error = st->j.key_len == 5 && !memcmp(st->j.key, "error", 5);

    if (st->j.top == TOP_UNDECIDED) {
        if (result || error) {
            st->j.top = TOP_WRAPPER;
            /* The tentative record was the wrapper itself: drop it. */
            st->j.in_rec = false;
            st->j.deferred = false;
            if (st->nsegs && st->segs[st->nsegs - 1].opened && !st->segs[st->nsegs - 1].closed)
                st->nsegs--;
        } else {
            st->j.top = TOP_ROW;
        }
    }
    if (st->j.top == TOP_WRAPPER) {
        st->j.result_key = result;
        st->error_next = error;
    }
}

/* Walk one line, updating the state and collecting the record pieces in st->segs. */
static void sb_scan(struct sb_state *st, struct span t)
{
    st->nsegs = 0;
    st->garbage = false;
    st->error_next = st->api_error = false;
    for (size_t i = 0; i < t.len; i++) {
        if (st->j.in_str && !st->j.esc && !st->j.in_key) {
            /* a value's text: nothing in it but '"' and '\\' changes the state */
            i += bytescan_json_special(t.p + i, t.len - i);
            if (i >= t.len)
                break;
        }
        char c = t.p[i];
        if (st->j.in_str) {
            if (st->j.esc) {
                st->j.esc = false;
            } else if (c == '\\') {
                st->j.esc = true;
            } else if (c == '"') {
                st->j.in_str = false;
                if (st->j.in_key) {
                    st->j.in_key = false;
                    top_key(st);
                }
            } else if (st->j.in_key) {
                if (st->j.key_len < sizeof(st->j.key))
                    st->j.key[st->j.key_len++] = c;
                else
                    st->j.key_len = sizeof(st->j.key) + 1; /* longer than any key we look for */
            }
            continue;
        }
        if (st->error_next && c != ' ' && c != '\t' && c != '\r' && c != ':') {
            st->api_error = c != 'n'; /* anything but null: an error string or object */
            st->error_next = false;
        }
        switch (c) {
        case '"':
            st->j.in_str = true;
            if (st->j.depth == 1 && st->j.key_pos &&
                (st->j.top == TOP_UNDECIDED || st->j.top == TOP_WRAPPER)) {
                st->j.in_key = true;
                st->j.key_len = 0;
                st->j.key_pos = false;
            } else if (!st->j.in_rec && !(st->j.top == TOP_WRAPPER && st->j.depth >= 1)) {
                st->garbage = true;
            }
            break;
        case '{':
            if (!st->j.in_rec) {
                if (st->j.depth == 0 && st->j.top == TOP_NONE) {
                    st->j.top = TOP_UNDECIDED;
                    rec_open(st, i);
                    st->j.key_pos = true;
                } else if ((st->j.depth == 1 && st->j.top == TOP_ARRAY) ||
                           (st->j.depth == 2 && st->j.top == TOP_WRAPPER && st->j.in_result)) {
                    rec_open(st, i);
                }
            }
            st->j.depth++;
            break;
        case '[':
            if (st->j.depth == 0 && st->j.top == TOP_NONE)
                st->j.top = TOP_ARRAY;
            else if (st->j.depth == 1 && st->j.top == TOP_WRAPPER && st->j.result_key)
                st->j.in_result = true;
            else if (!st->j.in_rec && st->j.top != TOP_WRAPPER)
                st->garbage = true;
            st->j.depth++;
            break;
        case '}':
        case ']':
            if (st->j.depth == 0) {
                st->garbage = true;
                break;
            }
            st->j.depth--;
            if (st->j.in_rec && c == '}' && st->j.depth == st->j.rec_depth) {
                st->j.in_rec = false;
                seg_close(st, i);
                if (st->j.top == TOP_UNDECIDED)
                    st->j.top = TOP_ROW; /* "{}" */
            }
            if (st->j.depth == 1 && st->j.top == TOP_WRAPPER && c == ']')
                st->j.in_result = false;
            if (st->j.depth == 0)
                st->j.top = TOP_NONE;
            break;
        case ',':
            if (st->j.depth == 1 && (st->j.top == TOP_WRAPPER || st->j.top == TOP_UNDECIDED))
                st->j.key_pos = true;
            else if (st->j.depth == 0)
                st->garbage = true;
            break;
        case ' ':
        case '\t':
        case '\r':
        case '\n':
        case ':': break;
        default:
            /* scalars outside records: the wrapper's "error": null is structure too */
            if (!st->j.in_rec && !(st->j.top == TOP_WRAPPER && st->j.depth >= 1))
                st->garbage = true;
            break;
        }
    }
    /* A record still open at the end of the line: its piece runs to the end. */
    if (st->j.in_rec) {
        struct sb_seg *last = st->nsegs ? &st->segs[st->nsegs - 1] : NULL;
        if (last && last->opened && !last->closed) {
            last->end = t.len;
        } else {
            XGROW(st->segs, st->nsegs + 1, st->segs_alloc);
            st->segs[st->nsegs++] = (struct sb_seg){ 0, t.len, false, false };
        }
    }
}

static void sb_reset_json(struct sb_state *st)
{
    st->j = (struct sb_json){ .top = TOP_NONE, .ndjson = st->j.ndjson };
}

/* The record being read is cut (the file was cut, or lines were lost): reject what there
 * is of it, naming why, and read on from the next line as from a record's end. */
static void sb_cut(struct parser *p, struct sb_state *st, const char *why)
{
    struct pending *rec = pending_oldest(p);
    if (rec) {
        st->cut_why = why;
        pending_finish(p, rec);
        st->cut_why = NULL;
    }
    sb_reset_json(st);
}

/* The white space that starts @t. */
static size_t indent_of(struct span t)
{
    size_t i = 0;
    while (i < t.len && (t.p[i] == ' ' || t.p[i] == '\t'))
        i++;
    return i;
}

/* Is everything after the '{' at @seg.start white space? */
static bool seg_only_brace(struct span t, const struct sb_seg *seg)
{
    return span_trim(span_sub(t, seg->start + 1, seg->end - seg->start - 1)).len == 0;
}

static void sb_json_piece(struct parser *p, struct sb_state *st, const struct input_line *ln,
                          struct pending *rec);

static void sb_json_line_scan(struct parser *p, struct sb_state *st, const struct input_line *ln)
{
    struct span t = ln->text;
    struct pending *rec = pending_oldest(p);

    if (ln->truncated) {
        if (rec)
            pending_finish(p, rec); /* incomplete: rejected by the JSON parser */
        sb_reset_json(st);
        parser_reject(p, "line too long", "longer than %u bytes", SIFT_MAX_LINE_BYTES);
        return;
    }
    sb_scan(st, t);

    if (st->nsegs == 0) {
        if (st->api_error) /* the wrapper's "error": a failed query, not a quiet window */
            parser_reject(p, "API error",
                          "the response's \"error\" is not null: its query failed (no rows "
                          "is not a quiet window here)");
        else if (st->garbage)
            parser_reject(p, "not json", "text outside of a JSON value");
        else
            parser_blank(p);
        return;
    }
    /* "}, {" (pretty-printed arrays): the "{" that ends the line is structure; the next
     * record starts with its first key. */
    bool defer_next = false;
    if (st->nsegs > 1) {
        const struct sb_seg *last = &st->segs[st->nsegs - 1];
        if (last->opened && !last->closed && seg_only_brace(t, last)) {
            st->nsegs--;
            defer_next = true;
        }
    }
    if (st->nsegs > 1) {
        /* Needs several events for one line (see the header). A record continued from
         * earlier lines ends here without this line: it is rejected as incomplete. */
        if (rec)
            pending_finish(p, rec);
        st->j.deferred = defer_next;
        parser_reject(p, "several records on one line",
                      "%zu records; split the array into one record per line first "
                      "(jq -c '.[]' or jq -c '.result[]')",
                      st->nsegs + defer_next);
        return;
    }
    sb_json_piece(p, st, ln, rec);
    if (defer_next)
        st->j.deferred = true;
}

/*
 * One line of JSON. A record is cut where a line ends inside a string (JSON strings hold
 * no raw line break: what follows is not the string's) and, once records are one per
 * line (NDJSON), where a line starts with '{' while one is open: the lines after a cut
 * are read as records of their own, not appended to it.
 */
static void sb_json_line(struct parser *p, struct sb_state *st, const struct input_line *ln)
{
    if (!ln->truncated) {
        struct span t = span_trim(ln->text);
        /* ...and before records are known to be one per line, where a line starts with
         * '{' in its first column while a record begun at the top level is open: JSON
         * written over several lines indents what is inside a record, so that is the
         * next record and the open one was cut (the first line of a file, QA 20b: it
         * swallowed every record after it). */
        /* So is such a line while a record whose first line was indented is open, at
         * any depth: a record of a pretty-printed array or API response, cut, then the
         * next response ("{" then "result": [...]; QA 28: every record of the next page
         * was swallowed). And a '{' indented less than the open record's first key, its
         * '{' alone on the line before: pretty-printers indent everything inside a
         * record at least as far as its keys, so that '{' opens the next record of the
         * array and lines were lost in between. JSON written with no indentation at all
         * (indent=0) has nested '{' in the first column: there the record's first line
         * is not indented either. */
        size_t ind = indent_of(ln->text);
        bool brace = ind < ln->text.len && ln->text.p[ind] == '{' && pending_oldest(p) != NULL;
        bool top_brace = brace && ind == 0 && (st->j_rec.depth == 0 || st->rec_indent > 0);
        bool next_brace = brace && ind > 0 && st->rec_key_first && ind < st->rec_indent;
        if (st->j.in_rec && t.len && t.p[0] == '{' && (st->j.ndjson || top_brace)) {
            sb_cut(p, st, "cut: the next line starts a record");
        } else if (st->j.in_rec && next_brace) {
            /* the next record of the same array: read on where the cut one began */
            struct sb_json back = st->j_rec;
            sb_cut(p, st, "cut: the next line starts a record");
            back.depth = back.rec_depth;
            back.in_rec = back.deferred = back.in_str = back.esc = false;
            back.in_key = back.key_pos = false;
            back.ndjson = st->j.ndjson;
            st->j = back;
        }
        st->j_line = st->j;
    }
    sb_json_line_scan(p, st, ln);
    if (st->j.in_str)
        sb_cut(p, st, "cut: a line ends inside a string");
}

/* The line holds exactly one piece of a record (st->segs[0]). */
static void sb_json_piece(struct parser *p, struct sb_state *st, const struct input_line *ln,
                          struct pending *rec)
{
    struct span t = ln->text;
    const struct sb_seg *seg = &st->segs[0];
    struct span piece = span_sub(t, seg->start, seg->end - seg->start);
    if (seg->opened && seg->closed) {
        if (rec)
            pending_finish(p, rec); /* a stray earlier piece: rejected */
        if (st->j_line.depth == 0)
            st->j.ndjson = true;
        if (st->garbage) { /* a record and text that is not JSON: not read as half of it */
            parser_reject(p, "not json", "text outside of a JSON value beside the record");
            return;
        }
        sb_emit_json(p, parser_event_begin(p, ln), piece);
        return;
    }
    if (seg->opened) {
        if (rec)
            pending_finish(p, rec);
        if (seg_only_brace(t, seg)) {
            /* "{" alone (pretty-printed): the record starts with its first key. */
            st->j.deferred = true;
            parser_blank(p);
            return;
        }
        st->j.deferred = false;
        st->j_rec = st->j_line;
        st->rec_indent = indent_of(t);
        st->rec_key_first = false;
        pending_start(p, 0, piece);
        return;
    }
    /* a continuation of the open record */
    if (st->j.deferred || !rec) {
        st->j_rec = st->j_line;
        st->rec_indent = indent_of(t);
        st->rec_key_first = st->j.deferred;
        rec = pending_start(p, 0, SPAN_LIT("{\n"));
        pending_append(rec, piece);
        st->j.deferred = false;
    } else {
        pending_append(rec, SPAN_LIT("\n"));
        pending_add(p, rec, piece);
    }
    if (seg->closed) {
        st->cut_why = st->garbage ? "text outside of a JSON value after the record" : NULL;
        pending_finish(p, rec);
        st->cut_why = NULL;
    }
}

/* ------------------------------------------------------------------------------------ */
/* CSV (the Explorer's "Download CSV")                                                  */

/* Split a complete CSV record into at most @max fields ('"' quoting, '""' escapes).
 * Returns the field count, or -1 on a quote that does not close / text after a closing
 * quote / too many fields. Fields with '""' are copied into the scratch arena. */
static long csv_split(struct parser *p, struct span t, struct span *f, size_t max)
{
    size_t n = 0, i = 0;

    for (;;) {
        if (n == max)
            return -1;
        if (i < t.len && t.p[i] == '"') {
            size_t start = ++i;
            bool esc = false;
            for (;; i++) {
                if (i >= t.len)
                    return -1;
                if (t.p[i] != '"')
                    continue;
                if (i + 1 < t.len && t.p[i + 1] == '"') {
                    esc = true;
                    i++;
                    continue;
                }
                break;
            }
            struct span v = span_make(t.p + start, i - start);
            if (esc) {
                char *q = arena_alloc(parser_scratch(p), v.len + 1);
                size_t k = 0;
                for (size_t j = 0; j < v.len; j++) {
                    q[k++] = v.p[j];
                    if (v.p[j] == '"' && j + 1 < v.len && v.p[j + 1] == '"')
                        j++;
                }
                q[k] = '\0';
                v = span_make(q, k);
            }
            f[n++] = v;
            i++; /* closing quote */
            if (i == t.len)
                return (long)n;
            if (t.p[i] != ',')
                return -1;
            i++;
        } else {
            size_t start = i;
            while (i < t.len && t.p[i] != ',')
                i++;
            f[n++] = span_make(t.p + start, i - start);
            if (i == t.len)
                return (long)n;
            i++;
        }
    }
}

/* Carry the quote state over one more line of a CSV record. */
static void csv_scan(struct sb_state *st, struct span t)
{
    for (size_t i = 0; i < t.len; i++) {
        char c = t.p[i];
        if (st->csv_in_quote) {
            if (c != '"')
                continue;
            if (i + 1 < t.len && t.p[i + 1] == '"') {
                i++;
                continue;
            }
            st->csv_in_quote = false;
            st->csv_field_start = false;
            continue;
        }
        if (c == ',')
            st->csv_field_start = true;
        else if (c == '"' && st->csv_field_start)
            st->csv_in_quote = true;
        else
            st->csv_field_start = false;
    }
}

/* The Explorer's CSV download starts with a UTF-8 byte order mark (react-csv's
 * CSVLink adds one by default); the header line is read without it. */
static struct span skip_bom(struct span t)
{
    return span_starts_with_lit(t, "\xEF\xBB\xBF") ? span_sub(t, 3, t.len - 3) : t;
}

static void csv_header(struct parser *p, struct sb_state *st, struct span t)
{
    struct span f[SB_MAX_CSV_COLUMNS];
    long n = csv_split(p, skip_bom(t), f, SB_MAX_CSV_COLUMNS);

    if (n < 0) {
        parser_reject(p, "bad csv header", "expected at most %d comma-separated column names",
                      SB_MAX_CSV_COLUMNS);
        return;
    }
    for (long i = 0; i < n; i++)
        if (f[i].len > SB_MAX_CSV_NAME) {
            parser_reject(p, "bad csv header", "column %ld's name is longer than %d bytes", i + 1,
                          SB_MAX_CSV_NAME);
            return;
        }
    for (size_t i = 0; i < st->ncols; i++)
        free(st->cols[i]); /* (none: ncols is 0 until a header is read) */
    for (long i = 0; i < n; i++)
        st->cols[i] = xmemdupz(f[i].p, f[i].len);
    st->ncols = (size_t)n;
    st->have_header = true;
    parser_blank(p); /* the header is structure, not a record */
}

/* One complete CSV row -> a JSON object keyed by the header -> sb_map(). */
static void csv_emit(struct parser *p, struct sb_state *st, struct event *ev, struct span text)
{
    struct span f[SB_MAX_CSV_COLUMNS];
    long n = csv_split(p, text, f, SB_MAX_CSV_COLUMNS);

    if (n < 0) {
        parser_event_abort(p, ev);
        parser_reject(p, "bad csv", "unterminated quote, text after a quote or too many fields");
        return;
    }
    if ((size_t)n != st->ncols) {
        parser_event_abort(p, ev);
        parser_reject(p, "wrong number of columns", "expected %zu (the header), got %ld", st->ncols,
                      n);
        return;
    }
    json_t *row = json_object();
    bool valid = true;
    for (size_t i = 0; i < st->ncols; i++) {
        struct span v = f[i];
        if (!utf8_valid(v)) {
            v = sb_repair(p, v);
            valid = false;
        }
        json_t *jv = NULL;
        /* metadata (and any other column holding a JSON object/array) is JSON text; the
         * message and the id are text whatever they hold (a RAISE LOG of a JSON document,
         * a message that reads "null") */
        bool as_text = !strcmp(st->cols[i], "event_message") || !strcmp(st->cols[i], "id");
        if (!as_text && v.len && (v.p[0] == '[' || v.p[0] == '{')) {
            json_error_t err;
            jv = json_loadb(v.p, v.len, JSON_ALLOW_NUL, &err);
            if (!jv && !strcmp(st->cols[i], "metadata")) {
                json_decref(row);
                parser_event_abort(p, ev);
                parser_reject(p, "bad json", "metadata: %s at column %d", err.text, err.column);
                return;
            }
        }
        if (!jv && (as_text || !(v.len == 4 && !memcmp(v.p, "null", 4))))
            jv = json_stringn_nocheck(v.p, v.len);
        if (jv)
            json_object_set_new(row, st->cols[i], jv);
    }
    const char *why = NULL;
    struct sb_rec r;
    sb_rec_from_json(p, row, &r);
    json_decref(row);
    const char *reason = sb_map(p, ev, &r, &why);
    if (reason) {
        parser_event_abort(p, ev);
        parser_reject(p, reason, "%s", why ? why : "");
        return;
    }
    if (!valid)
        ev->flags |= EVENT_INVALID_UTF8;
    parser_event_commit(p, ev);
}

/* Could @t be the first line of a row, whole? Its first column (timestamp or id, as the
 * header names it) holds such a value - digits of a Unix time, or a UUID - and the line
 * is a complete CSV record of the header's columns. A quoted field still open when such a
 * line comes was cut (a download stopped, lines lost): the next row does not go into it. */
static bool csv_row_start(struct parser *p, const struct sb_state *st, struct span t)
{
    if (!st->ncols || !t.len || t.len > 64 * 1024)
        return false;
    bool ts = !strcmp(st->cols[0], "timestamp"), id = !strcmp(st->cols[0], "id");
    if (!ts && !id)
        return false;
    /* the first field, quoted or not, before any split */
    size_t i = t.p[0] == '"' ? 1 : 0, j = i;
    while (j < t.len && t.p[j] != '"' && t.p[j] != ',')
        j++;
    struct span v = span_make(t.p + i, j - i);
    if (ts) {
        if (v.len < 10 || v.len > 19)
            return false;
        for (size_t k = 0; k < v.len; k++)
            if (v.p[k] < '0' || v.p[k] > '9')
                return false;
    } else {
        /* a UUID: 36 bytes, 32 hex digits with '-' after the 8th, 12th, 16th and 20th */
        if (v.len != 36)
            return false;
        for (size_t k = 0; k < v.len; k++) {
            bool dash = k == 8 || k == 13 || k == 18 || k == 23;
            if (dash ? v.p[k] != '-' : hex_digit(v.p[k]) < 0)
                return false;
        }
    }
    struct span f[SB_MAX_CSV_COLUMNS];
    return csv_split(p, t, f, SB_MAX_CSV_COLUMNS) == (long)st->ncols;
}

static void sb_csv_line(struct parser *p, struct sb_state *st, const struct input_line *ln)
{
    struct pending *rec = pending_oldest(p);

    if (rec && !ln->truncated && csv_row_start(p, st, ln->text)) {
        st->cut_why = "cut: the next line starts a row";
        pending_finish(p, rec);
        st->cut_why = NULL;
        rec = NULL;
    }
    if (rec) {
        pending_append(rec, SPAN_LIT("\n"));
        pending_add(p, rec, ln->text);
        csv_scan(st, ln->text);
        if (!st->csv_in_quote)
            pending_finish(p, rec);
        return;
    }
    if (ln->text.len == 0) {
        parser_blank(p);
        return;
    }
    if (ln->truncated) {
        parser_reject(p, "line too long", "longer than %u bytes", SIFT_MAX_LINE_BYTES);
        return;
    }
    if (!st->have_header) {
        csv_header(p, st, ln->text);
        return;
    }
    st->csv_in_quote = false;
    st->csv_field_start = true;
    csv_scan(st, ln->text);
    if (st->csv_in_quote) {
        pending_start(p, 0, ln->text);
        return;
    }
    csv_emit(p, st, parser_event_begin(p, ln), ln->text);
}

/* ------------------------------------------------------------------------------------ */
/* format ops                                                                           */

static bool is_json_start(struct span t)
{
    t = span_trim(t);
    return t.len && (t.p[0] == '[' || t.p[0] == '{');
}

/* A CSV header: comma-separated column names (optionally quoted), one of them
 * event_message. */
static bool is_csv_header(struct span t)
{
    bool found = false;

    t = skip_bom(t);
    if (is_json_start(t))
        return false;
    for (size_t i = 0; i <= t.len;) {
        size_t start = i;
        while (i < t.len && t.p[i] != ',')
            i++;
        struct span name = span_trim(span_make(t.p + start, i - start));
        if (name.len >= 2 && name.p[0] == '"' && name.p[name.len - 1] == '"')
            name = span_sub(name, 1, name.len - 2);
        if (name.len == 0)
            return false;
        for (size_t k = 0; k < name.len; k++) {
            char c = name.p[k];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '.' ||
                  (k > 0 && c >= '0' && c <= '9')))
                return false;
        }
        found |= span_eq_lit(name, "event_message");
        i++;
    }
    return found;
}

/* The value after "@key": on @t (white space and the ':' skipped), or an empty span. */
static struct span key_value_at(struct span t, struct span key)
{
    long at = span_find(t, 0, key);
    if (at < 0)
        return SPAN_NULL;
    struct span rest = span_trim(span_sub(t, (size_t)at + key.len, t.len - (size_t)at - key.len));
    if (!rest.len || rest.p[0] != ':')
        return SPAN_NULL;
    return span_trim(span_sub(rest, 1, rest.len - 1));
}

/* A key of the API's wrapper: "result": [ (rows, or none), "result": null or "error": (a
 * failed query, which the parser rejects by name). */
static bool has_wrapper_key(struct span t)
{
    struct span v = key_value_at(t, SPAN_LIT("\"result\""));
    if (v.len && (v.p[0] == '[' || span_starts_with_lit(v, "null")))
        return true;
    return key_value_at(t, SPAN_LIT("\"error\"")).len > 0;
}

static size_t sb_sniff(const struct sniff_input *in, struct sbuf *note)
{
    size_t n = 0, first = 0;

    (void)note;
    while (first < in->n && span_trim(in->lines[first]).len == 0)
        first++;
    if (first < in->n && is_csv_header(in->lines[first]))
        return in->n; /* the Explorer CSV: every line belongs to it */
    for (size_t i = 0; i < in->n; i++)
        if (span_find(in->lines[i], 0, SPAN_LIT("\"event_message\"")) >= 0)
            n++;
    if (n == 0 && first < in->n) {
        /* An API page without rows (a quiet window): {"result": [], "error": null},
         * on one line or pretty-printed; or the response of a failed query. */
        struct span t = span_trim(in->lines[first]);
        bool opens = t.len && t.p[0] == '{' &&
                     (t.len == 1 ||
                      span_starts_with_lit(span_trim(span_sub(t, 1, t.len - 1)), "\"result\"") ||
                      span_starts_with_lit(span_trim(span_sub(t, 1, t.len - 1)), "\"error\""));
        for (size_t i = first; opens && i < in->n && i < first + 3; i++)
            if (has_wrapper_key(in->lines[i]))
                return in->n;
    }
    return n;
}

static void *sb_init(struct parser *p, const char *note)
{
    (void)p;
    (void)note;
    return xcalloc(1, sizeof(struct sb_state));
}

static void sb_release(void *state)
{
    struct sb_state *st = state;

    for (size_t i = 0; i < st->ncols; i++)
        free(st->cols[i]);
    free(st->segs);
    free(st);
}

static void sb_line(struct parser *p, void *state, const struct input_line *ln)
{
    struct sb_state *st = state;

    if (st->mode == SB_UNKNOWN) {
        if (span_trim(ln->text).len == 0) {
            parser_blank(p);
            return;
        }
        st->mode = is_json_start(ln->text) || !is_csv_header(ln->text) ? SB_JSON : SB_CSV;
    }
    if (st->mode == SB_CSV)
        sb_csv_line(p, st, ln);
    else
        sb_json_line(p, st, ln);
}

static void sb_finish(struct parser *p, void *state, struct pending *rec)
{
    struct sb_state *st = state;
    struct event *ev = parser_event_begin_pending(p, rec);

    if (st->mode == SB_CSV && st->cut_why) {
        st->csv_in_quote = false;
        parser_event_abort(p, ev);
        parser_reject(p, "bad csv", "%s", st->cut_why);
    } else if (st->mode == SB_CSV) {
        st->csv_in_quote = false;
        csv_emit(p, st, ev, sbuf_span(&rec->text));
    } else if (st->cut_why) {
        parser_event_abort(p, ev);
        parser_reject(p, "bad json", "%s", st->cut_why);
    } else {
        sb_emit_json(p, ev, sbuf_span(&rec->text));
    }
}

/* A record left open at the end of a file still written: its rest is to come. */
static bool sb_unterminated(const struct parser *p, const void *state)
{
    const struct sb_state *st = state;
    (void)p;
    return st->mode == SB_CSV ? st->csv_in_quote : st->j.in_rec;
}

/* ---- resume: the state at a checkpoint (version 1) ----
 * mode; JSON: top, flags, depth, rec_depth, key; CSV: the header's column names. A
 * checkpoint with a record pending is that record's first line: the scanner as it was
 * there (j_rec; a CSV record starts outside quotes). */

enum {
    SBF_IN_STR = 1 << 0,
    SBF_ESC = 1 << 1,
    SBF_IN_REC = 1 << 2,
    SBF_DEFERRED = 1 << 3,
    SBF_KEY_POS = 1 << 4,
    SBF_IN_KEY = 1 << 5,
    SBF_RESULT_KEY = 1 << 6,
    SBF_IN_RESULT = 1 << 7,
    SBF_NDJSON = 1 << 8,
    SBF_ALL = (1 << 9) - 1,
};

static void put_u64(struct sbuf *out, uint64_t v)
{
    unsigned char b[VARINT_MAX_BYTES];
    if (sbuf_add(out, b, (size_t)(varint_put(b, v) - b)) < 0)
        BUG("parser state buffer");
}

static void sb_save(struct parser *p, const void *state, struct sbuf *out)
{
    const struct sb_state *st = state;
    put_u64(out, 1);
    put_u64(out, st->mode);
    if (st->mode == SB_JSON) {
        const struct sb_json *j = pending_oldest(p) ? &st->j_rec : &st->j;
        unsigned f = (j->in_str ? SBF_IN_STR : 0) | (j->esc ? SBF_ESC : 0) |
                     (j->in_rec ? SBF_IN_REC : 0) | (j->deferred ? SBF_DEFERRED : 0) |
                     (j->key_pos ? SBF_KEY_POS : 0) | (j->in_key ? SBF_IN_KEY : 0) |
                     (j->result_key ? SBF_RESULT_KEY : 0) | (j->in_result ? SBF_IN_RESULT : 0) |
                     (j->ndjson ? SBF_NDJSON : 0);
        put_u64(out, j->top);
        put_u64(out, f);
        put_u64(out, j->depth);
        put_u64(out, j->rec_depth);
        put_u64(out, j->key_len);
        if (sbuf_add(out, j->key, j->key_len < sizeof(j->key) ? j->key_len : sizeof(j->key)) < 0)
            BUG("parser state buffer");
    } else if (st->mode == SB_CSV) {
        put_u64(out, st->have_header);
        put_u64(out, st->ncols);
        for (size_t i = 0; i < st->ncols; i++) {
            put_u64(out, strlen(st->cols[i]));
            if (sbuf_addstr(out, st->cols[i]) < 0)
                BUG("parser state buffer");
        }
    }
}

static int sb_restore(void *state, struct span in)
{
    struct sb_state *st = state;
    const unsigned char *r = (const unsigned char *)in.p, *end = r + in.len;
    uint64_t v, mode;
    if (!varint_get(&r, end, &v) || v != 1 || !varint_get(&r, end, &mode) || mode > SB_CSV)
        return -1;
    st->mode = (enum sb_mode)mode;
    if (mode == SB_JSON) {
        uint64_t top, f, depth, rec_depth, key_len;
        if (!varint_get(&r, end, &top) || top > TOP_WRAPPER || !varint_get(&r, end, &f) ||
            (f & ~(uint64_t)SBF_ALL) || !varint_get(&r, end, &depth) ||
            !varint_get(&r, end, &rec_depth) || !varint_get(&r, end, &key_len) ||
            key_len > sizeof(st->j.key) + 1)
            return -1;
        size_t kb = key_len < sizeof(st->j.key) ? (size_t)key_len : sizeof(st->j.key);
        if ((size_t)(end - r) < kb)
            return -1;
        struct sb_json *j = &st->j;
        *j = (struct sb_json){ .top = (enum sb_top)top,
                               .depth = depth,
                               .rec_depth = rec_depth,
                               .key_len = (size_t)key_len,
                               .in_str = f & SBF_IN_STR,
                               .esc = f & SBF_ESC,
                               .in_rec = f & SBF_IN_REC,
                               .deferred = f & SBF_DEFERRED,
                               .key_pos = f & SBF_KEY_POS,
                               .in_key = f & SBF_IN_KEY,
                               .result_key = f & SBF_RESULT_KEY,
                               .in_result = f & SBF_IN_RESULT,
                               .ndjson = f & SBF_NDJSON };
        memcpy(j->key, r, kb);
        r += kb;
    } else if (mode == SB_CSV) {
        uint64_t have, n;
        if (!varint_get(&r, end, &have) || have > 1 || !varint_get(&r, end, &n) ||
            n > SB_MAX_CSV_COLUMNS || (!have && n))
            return -1; /* (columns come with a header, sb_save() writes no others) */
        for (uint64_t i = 0; i < n; i++) {
            uint64_t len;
            if (!varint_get(&r, end, &len) || len > SB_MAX_CSV_NAME || len > (uint64_t)(end - r))
                return -1;
            st->cols[st->ncols++] = xmemdupz(r, (size_t)len);
            r += len;
        }
        st->have_header = have;
    }
    return r == end ? 0 : -1;
}

const struct log_format fmt_supabase = {
    .name = "supabase",
    .description = "Supabase/Logflare Postgres events: Logs Explorer JSON or CSV export, "
                   "Management API rows, log-drain batches (JSON array or NDJSON)",
    .hint = "Supabase events are JSON objects with event_message and metadata.parsed, or "
            "the Logs Explorer CSV whose header names event_message; a compact JSON array "
            "on one line must be split first: jq -c '.[]' FILE",
    .sniff = sb_sniff,
    .init = sb_init,
    .release = sb_release,
    .line = sb_line,
    .finish = sb_finish,
    .unterminated = sb_unterminated,
    .save = sb_save,
    .restore = sb_restore,
};
