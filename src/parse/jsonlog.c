/* SPDX-License-Identifier: MIT */
/*
 * jsonlog.c - PostgreSQL jsonlog (PG 15+, formats.md §3): one flat JSON object per line,
 * string and number values only.
 *
 * Two paths produce the same fields:
 *   - a specialised scanner for exactly that shape (one level, strings/numbers/literals),
 *     byte-tolerant (raw invalid UTF-8 inside strings is kept and flagged), integers
 *     parsed from their text so query_id stays an exact int64;
 *   - jansson for everything else the scanner does not take (nested values, odd
 *     whitespace it does not expect, syntax errors): a line jansson cannot load either
 *     is a reject. jansson needs valid UTF-8, so bad bytes are replaced by U+FFFD first
 *     and the event is flagged.
 * Both feed json_field(), so they cannot disagree on the mapping; tests and the fuzz
 * target run both on the same lines (jsonlog_jansson_only) and compare the events.
 * docs/formats.md has the measurements behind keeping the scanner.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/arena.h"
#include "core/utf8.h"
#include "core/xalloc.h"
#include "parse/json_scan.h"
#include "parse/parse_int.h"

bool jsonlog_jansson_only;

/* What a record collected; turned into the event once the object is complete. */
struct jrec {
    bool have_ts;
    struct span ts;
    struct span remote_host;
    int64_t remote_port;
    struct span func, file;
    int64_t file_line;
    bool have_state;
    struct span session_start;
    const char *bad; /* reject reason (a field of the wrong type) */
};

/* { .remote_port = -1, .file_line = -1 } field by field: the initializer became a
 * `rep stos` (slow to start) on every line. */
static inline void jrec_init(struct jrec *r)
{
    r->have_ts = false;
    r->ts = SPAN_NULL;
    r->remote_host = SPAN_NULL;
    r->remote_port = -1;
    r->func = SPAN_NULL;
    r->file = SPAN_NULL;
    r->file_line = -1;
    r->have_state = false;
    r->session_start = SPAN_NULL;
    r->bad = NULL;
}

static bool key_is(struct span k, const char *lit, size_t n)
{
    return k.len == n && memcmp(k.p, lit, n) == 0;
}
#define KEY(k, lit) key_is((k), (lit), sizeof(lit) - 1)

static void want_int(struct jrec *r, const struct jv *v, int64_t *out)
{
    if (v->type == JV_INT)
        *out = v->i;
    else if (v->type != JV_NULL)
        r->bad = "bad number";
}

static void want_str(struct jrec *r, const struct jv *v, struct span *out)
{
    if (v->type == JV_STRING)
        *out = v->s;
    else if (v->type != JV_NULL)
        r->bad = "bad string";
}

/* Map one key/value onto the event. Unknown keys are ignored (later versions may add
 * some); a known key with the wrong type makes the record a reject. */
static void json_field(struct event *ev, struct jrec *r, struct span k, const struct jv *v)
{
    int64_t n;

    switch (k.len) {
    case 2:
        if (KEY(k, "ps"))
            want_str(r, v, &ev->command_tag);
        break;
    case 3:
        if (KEY(k, "pid"))
            want_int(r, v, &ev->pid);
        break;
    case 4:
        if (KEY(k, "user"))
            want_str(r, v, &ev->user);
        else if (KEY(k, "vxid"))
            want_str(r, v, &ev->vxid);
        else if (KEY(k, "txid"))
            want_int(r, v, &ev->txid);
        else if (KEY(k, "hint"))
            want_str(r, v, &ev->hint);
        break;
    case 6:
        if (KEY(k, "dbname"))
            want_str(r, v, &ev->database);
        else if (KEY(k, "detail"))
            want_str(r, v, &ev->detail);
        break;
    case 7:
        if (KEY(k, "message"))
            want_str(r, v, &ev->message);
        else if (KEY(k, "context"))
            want_str(r, v, &ev->context);
        break;
    case 8:
        if (KEY(k, "line_num"))
            want_int(r, v, &ev->session_line);
        else if (KEY(k, "query_id")) {
            n = 0;
            want_int(r, v, &n);
            ev->query_id = n;
            ev->has_query_id = n != 0;
        }
        break;
    case 9:
        if (KEY(k, "timestamp")) {
            r->have_ts = v->type == JV_STRING;
            r->ts = v->s;
            if (!r->have_ts)
                r->bad = "bad timestamp";
        } else if (KEY(k, "func_name")) {
            want_str(r, v, &r->func);
        } else if (KEY(k, "file_name")) {
            want_str(r, v, &r->file);
        } else if (KEY(k, "statement")) {
            want_str(r, v, &ev->statement);
        }
        break;
    case 10:
        if (KEY(k, "session_id"))
            want_str(r, v, &ev->session_id);
        else if (KEY(k, "state_code")) {
            if (v->type == JV_STRING) {
                r->have_state = true;
                parser_set_sqlstate(ev, v->s);
            } else if (v->type != JV_NULL) {
                r->bad = "bad string";
            }
        } else if (KEY(k, "leader_pid"))
            want_int(r, v, &ev->leader_pid);
        break;
    case 11:
        if (KEY(k, "remote_host"))
            want_str(r, v, &r->remote_host);
        else if (KEY(k, "remote_port"))
            want_int(r, v, &r->remote_port);
        break;
    case 12:
        if (KEY(k, "backend_type"))
            want_str(r, v, &ev->backend_type);
        break;
    case 13:
        if (KEY(k, "session_start")) {
            want_str(r, v, &r->session_start);
        } else if (KEY(k, "file_line_num")) {
            want_int(r, v, &r->file_line);
        }
        break;
    case 14:
        if (KEY(k, "error_severity")) {
            if (v->type == JV_STRING) {
                if (!parser_severity(v->s, &ev->severity))
                    ev->severity = SEV_NONE;
            } else if (v->type != JV_NULL) {
                r->bad = "bad string";
            }
        } else if (KEY(k, "internal_query")) {
            want_str(r, v, &ev->internal_query);
        }
        break;
    case 15:
        if (KEY(k, "cursor_position")) {
            n = -1;
            want_int(r, v, &n);
            if (n > 0 && n <= INT32_MAX)
                ev->cursor_pos = (int32_t)n;
        }
        break;
    case 16:
        if (KEY(k, "application_name"))
            want_str(r, v, &ev->application);
        break;
    case 17:
        if (KEY(k, "internal_position")) {
            n = -1;
            want_int(r, v, &n);
            if (n > 0 && n <= INT32_MAX)
                ev->internal_pos = (int32_t)n;
        }
        break;
    default: break;
    }
}

/* After the object: derived fields, required fields. Returns NULL or a reject reason. */
static const char *json_complete(struct parser *p, struct event *ev, struct jrec *r)
{
    if (r->bad)
        return r->bad;
    if (!r->have_ts)
        return "missing timestamp";
    enum pgtime_status st = pgtime_parse(r->ts, parser_tz(p), &ev->ts_us, &ev->ts_frac, NULL);
    if (st != PGTIME_OK)
        return pgtime_status_reason(st);
    if (r->session_start.p) {
        int64_t us;
        int frac;
        if (pgtime_parse(r->session_start, parser_tz(p), &us, &frac, NULL) == PGTIME_OK)
            ev->session_start_us = us;
    }
    /* state_code is written only when the SQLSTATE is not 00000 (formats.md §3.1). */
    if (!r->have_state)
        memcpy(ev->sqlstate, "00000", 6);
    if (r->remote_host.p) {
        ev->client = r->remote_host;
        if (r->remote_port >= 0 && r->remote_port <= 65535)
            ev->client_port = (int32_t)r->remote_port;
    }
    if (r->func.p || r->file.p) {
        /* The same text csvlog's location column carries: "func, file:line". */
        struct sbuf sb;
        sbuf_init(&sb, 4096);
        int ok = 0;
        if (r->func.p)
            ok |= sbuf_addspan(&sb, r->func);
        if (r->func.p && r->file.p)
            ok |= sbuf_addstr(&sb, ", ");
        if (r->file.p)
            ok |= sbuf_addspan(&sb, r->file);
        if (r->file.p && r->file_line >= 0)
            ok |= sbuf_addf(&sb, ":%lld", (long long)r->file_line);
        if (ok == 0)
            ev->location = arena_dup(parser_scratch(p), sb.buf, sb.len);
        sbuf_release(&sb);
    }
    return NULL;
}

/* ------------------------------------------------------------------------------------ */
/* the scanner                                                                          */

/* The whole line as one flat object. Returns false when the scanner declines (the
 * event is untouched in the fields it did not reach; the caller starts over). */
static bool scan_object(struct jscan *s, struct event *ev, struct jrec *r)
{
    jscan_ws(s);
    if (!jscan_eat(s, '{'))
        return false;
    jscan_ws(s);
    if (jscan_eat(s, '}'))
        goto done;
    for (;;) {
        struct span key;
        struct jv v = { JV_NULL, SPAN_NULL, 0 };
        jscan_ws(s);
        if (!jscan_eat(s, '"') || !jscan_string(s, &key))
            return false;
        jscan_ws(s);
        if (!jscan_eat(s, ':') || !jscan_value(s, &v, 1) || memchr(key.p, '\0', key.len))
            return false;
        if (v.type == JV_OBJECT || v.type == JV_ARRAY)
            return false; /* not jsonlog's shape: jansson decides */
        json_field(ev, r, key, &v);
        jscan_ws(s);
        if (jscan_eat(s, ','))
            continue;
        if (jscan_eat(s, '}'))
            break;
        return false;
    }
done:
    jscan_ws(s);
    return s->p == s->end;
}

/* ------------------------------------------------------------------------------------ */
/* the jansson path                                                                     */

/* Replace invalid UTF-8 bytes by U+FFFD (jansson accepts UTF-8 only). */
static struct span repair_utf8(struct parser *p, struct span t)
{
    char *o = arena_alloc(parser_scratch(p), t.len * 3 + 1);
    size_t n = 0;
    for (size_t i = 0; i < t.len;) {
        size_t k = utf8_seq_len((const unsigned char *)t.p + i, t.len - i);
        if (k) {
            memcpy(o + n, t.p + i, k);
            n += k;
            i += k;
        } else {
            memcpy(o + n, "\xEF\xBF\xBD", 3);
            n += 3;
            i++;
        }
    }
    o[n] = '\0';
    return span_make(o, n);
}

/* Returns NULL on success, else the reject reason; @err receives jansson's message. */
static const char *jansson_object(struct parser *p, struct span t, struct event *ev, struct jrec *r,
                                  json_error_t *err)
{
    json_t *root = json_loadb(t.p, t.len, JSON_ALLOW_NUL, err);
    if (!root)
        return "invalid JSON";
    if (!json_is_object(root)) {
        json_decref(root);
        snprintf(err->text, sizeof(err->text), "top-level value is not an object");
        return "invalid JSON";
    }
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val)
    {
        struct jv v = { JV_NULL, SPAN_NULL, 0 };
        switch (json_typeof(val)) {
        case JSON_STRING:
            v.type = JV_STRING;
            v.s = arena_dup(parser_scratch(p), json_string_value(val), json_string_length(val));
            break;
        case JSON_INTEGER:
            v.type = JV_INT;
            v.i = (int64_t)json_integer_value(val);
            break;
        case JSON_REAL: v.type = JV_REAL; break;
        case JSON_TRUE:
        case JSON_FALSE: v.type = JV_BOOL; break;
        case JSON_NULL: v.type = JV_NULL; break;
        default:
            /* Nested object/array: not jsonlog's shape; a known key with it is bad. */
            v.type = JV_BOOL;
            break;
        }
        json_field(ev, r, span_cstr(key), &v);
    }
    json_decref(root);
    return NULL;
}

/* ------------------------------------------------------------------------------------ */

static void json_line(struct parser *p, void *state, const struct input_line *ln)
{
    struct span t = ln->text;
    (void)state;

    if (span_trim(t).len == 0) {
        parser_blank(p);
        return;
    }
    if (ln->truncated) {
        parser_reject(p, "line too long", "longer than %u bytes", SIFT_MAX_LINE_BYTES);
        return;
    }
    struct event *ev = parser_event_begin(p, ln);
    struct jrec r;
    jrec_init(&r);
    struct jscan s = { t.p, t.p + t.len, parser_scratch(p) };
    bool valid = utf8_valid(t);

    if (!valid)
        ev->flags |= EVENT_INVALID_UTF8;
    if (jsonlog_jansson_only || !scan_object(&s, ev, &r)) {
        /* Start over on the general path. */
        uint32_t flags = ev->flags;
        event_clear(ev);
        ev->src_name = ln->source;
        ev->src_line = ln->line;
        ev->src_offset = ln->offset;
        ev->flags = flags;
        r = (struct jrec){ .remote_port = -1, .file_line = -1 };
        json_error_t err;
        const char *why = jansson_object(p, valid ? t : repair_utf8(p, t), ev, &r, &err);
        if (why) {
            parser_event_abort(p, ev);
            parser_reject(p, why, "%s at column %d", err.text, err.column);
            return;
        }
    }
    const char *why = json_complete(p, ev, &r);
    if (why) {
        parser_event_abort(p, ev);
        parser_reject(p, why, NULL);
        return;
    }
    parser_event_commit(p, ev);
}

static size_t json_sniff(const struct sniff_input *in, struct sbuf *note)
{
    size_t n = 0;
    (void)note;
    for (size_t i = 0; i < in->n; i++) {
        struct span l = in->lines[i];
        if (span_starts_with_lit(l, "{\"timestamp\":\"") && l.len > 33 && l.p[14] >= '0' &&
            l.p[14] <= '9' && l.p[18] == '-')
            n++;
    }
    return n;
}

/* One line, one record (or one rejected line): every line starts one. */
static bool json_may_start(struct span line)
{
    (void)line;
    return true;
}

const struct log_format fmt_jsonlog = {
    .name = "jsonlog",
    .description = "PostgreSQL jsonlog (log_destination = 'jsonlog'), PG 15+",
    .hint = "jsonlog lines are objects starting with {\"timestamp\":...; "
            "Supabase/Logflare exports use --format supabase",
    .sniff = json_sniff,
    .line = json_line,
    .may_start = json_may_start,
};
