/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd/event_json.h"
#include "core/clock.h"
#include "core/escape.h"
#include "classify/classify.h"
#include "normalize/normalize.h"

static int str_field(struct sbuf *o, const char *key, struct span s)
{
    if (!s.p)
        return 0;
    if (sbuf_addf(o, ",\"%s\":", key) < 0)
        return -1;
    return escape_json_string(o, s);
}

static int int_field(struct sbuf *o, const char *key, int64_t v, int64_t absent)
{
    return v == absent ? 0 : sbuf_addf(o, ",\"%s\":%" PRId64, key, v);
}

/* SQL text with every constant replaced, layout kept. */
static int sql_field(struct sbuf *o, const char *key, struct span s, struct event_json_redact *r)
{
    if (!s.p || !r)
        return str_field(o, key, s);
    sbuf_reset(&r->tmp);
    normalize_redact(r->nz, s, REDACT_ALL, 0, &r->tmp);
    return str_field(o, key, sbuf_span(&r->tmp));
}

/* Message texts: quoted values, key values and parameters out. */
static int text_field(struct sbuf *o, const char *key, struct span s, struct event_json_redact *r)
{
    if (!s.p || !r)
        return str_field(o, key, s);
    sbuf_reset(&r->tmp);
    if (redact_message(&r->tmp, s) < 0)
        redact_cap(&r->tmp, r->tmp.len);
    return str_field(o, key, sbuf_span(&r->tmp));
}

/* The shortest decimal that reads back as @v (finite), as jansson writes a real. */
/* The shortest text that reads back as @v, written without an exponent where one is not
 * needed (1000, not 1e+03: QA 29; `events` shows 1000.0). */
static int real_field(struct sbuf *o, const char *key, double v)
{
    char b[48];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(b, sizeof(b), "%.*g", prec, v);
        if (strtod(b, NULL) == v)
            break;
    }
    if (strchr(b, 'e') && fabs(v) < 1e15 && fabs(v) >= 1e-6) {
        char f[48];
        for (int dec = 0; dec <= 12; dec++) {
            snprintf(f, sizeof(f), "%.*f", dec, v);
            if (strtod(f, NULL) == v) {
                memcpy(b, f, sizeof(b));
                break;
            }
        }
    }
    return sbuf_addf(o, ",\"%s\":%s", key, b);
}

/* The facts classify/ extracted (event_facts_list(): the names `pgsift events` gives
 * them), as the store keeps them: texts as logged. A fact is an identifier, a lock object
 * or a setting, never a literal of a statement (a relation named 'x' is that name: a
 * `where: relation:` must match it the same in the store and in NDJSON). */
static int facts_fields(struct sbuf *o, const struct event *ev)
{
    struct fact_value f[EVENT_MAX_FACTS];
    size_t n = event_facts_list(&ev->facts, f);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        switch (f[i].type) {
        case FACT_INT: rc = sbuf_addf(o, ",\"%s\":%" PRId64, f[i].name, f[i].i); break;
        case FACT_REAL: rc = real_field(o, f[i].name, f[i].r); break;
        case FACT_TEXT: rc = str_field(o, f[i].name, f[i].s); break;
        }
    }
    return rc;
}

static bool inside(struct span part, struct span whole)
{
    return part.p && whole.p && part.p >= whole.p && part.p + part.len <= whole.p + whole.len;
}

/* The message of a duration/statement record embeds the statement ("duration: 1.2 ms
 * statement: SELECT ..."), that of a plan record the plan: redact that part as SQL or
 * as a plan, the rest as text. */
static int message_field(struct sbuf *o, const struct event *ev, struct event_json_redact *r)
{
    struct span m = ev->message;
    bool plan = inside(ev->plan, m);
    struct span part = plan ? ev->plan : ev->query;

    if (!r || !inside(part, m))
        return text_field(o, "message", m, r);
    sbuf_reset(&r->tmp2);
    size_t head = (size_t)(part.p - m.p);
    if (redact_message(&r->tmp2, span_make(m.p, head)) < 0)
        return -1;
    if (plan) {
        arena_reset(&r->arena);
        if (plan_redact(r->nz, part, ev->plan_format, &r->arena, &r->tmp2) < 0)
            return -1;
    } else {
        normalize_redact(r->nz, part, REDACT_ALL, 0, &r->tmp2);
    }
    if (redact_message(&r->tmp2, span_make(part.p + part.len, m.len - head - part.len)) < 0)
        return -1;
    return str_field(o, "message", sbuf_span(&r->tmp2));
}

/* A JSON plan is embedded as an object when it is valid JSON, else kept as a string.
 * Redacted with plan_redact(): constants of the Query Text and of every expression
 * become $n; names, numbers and layout stay. */
static int plan_field(struct sbuf *o, const struct event *ev, struct event_json_redact *r)
{
    struct span body = ev->plan;

    if (!body.p)
        return 0;
    if (r) {
        sbuf_reset(&r->tmp);
        arena_reset(&r->arena);
        if (plan_redact(r->nz, body, ev->plan_format, &r->arena, &r->tmp) < 0)
            return -1;
        body = sbuf_span(&r->tmp);
    }
    if (ev->plan_format == PLAN_JSON) {
        json_t *j = json_loadb(body.p, body.len, 0, NULL);
        if (j) {
            char *txt = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
            json_decref(j);
            if (txt) {
                int rc = sbuf_addf(o, ",\"plan\":%s", txt);
                free(txt);
                return rc;
            }
        }
    }
    return str_field(o, "plan", body);
}

int event_json_write(const struct event *ev, struct sbuf *o, struct event_json_redact *rd)
{
    char ts[CLOCK_RFC3339_MAX];
    /* "file:line" as one string, the name escaped like any other text. */
    char num[32];
    snprintf(num, sizeof(num), ":%" PRIu64 "\"", ev->src_line);
    int r = sbuf_addstr(o, "{\"src\":\"");
    r = r ? r : escape_json(o, ev->src_name.p ? ev->src_name : SPAN_LIT("-"), 0);
    r = r ? r : sbuf_addstr(o, num);
    if (r == 0 && ev->ts_us != INT64_MIN)
        r = sbuf_addf(o, ",\"ts\":\"%s\"", clock_format_rfc3339(ev->ts_us, ev->ts_frac, ts));
    r = r ? r : int_field(o, "pid", ev->pid, -1);
    r = r ? r : int_field(o, "session_line", ev->session_line, -1);
    r = r ? r : str_field(o, "session_id", ev->session_id);
    r = r ? r : str_field(o, "user", ev->user);
    r = r ? r : str_field(o, "database", ev->database);
    r = r ? r : str_field(o, "application", ev->application);
    r = r ? r : str_field(o, "client", ev->client);
    r = r ? r : int_field(o, "client_port", ev->client_port, -1);
    r = r ? r : str_field(o, "backend_type", ev->backend_type);
    r = r ? r : str_field(o, "command_tag", ev->command_tag);
    if (r == 0 && ev->session_start_us != INT64_MIN)
        r = sbuf_addf(o, ",\"session_start\":\"%s\"",
                      clock_format_rfc3339(ev->session_start_us, 0, ts));
    r = r ? r : str_field(o, "vxid", ev->vxid);
    r = r ? r : int_field(o, "txid", ev->txid, -1);
    r = r ? r : int_field(o, "leader_pid", ev->leader_pid, -1);
    if (r == 0 && ev->severity != SEV_NONE)
        r = sbuf_addf(o, ",\"severity\":\"%s\"", severity_name(ev->severity));
    if (r == 0 && ev->sqlstate[0])
        r = sbuf_addf(o, ",\"sqlstate\":\"%s\"", ev->sqlstate);
    r = r ? r : message_field(o, ev, rd);
    r = r ? r : text_field(o, "detail", ev->detail, rd);
    r = r ? r : text_field(o, "hint", ev->hint, rd);
    r = r ? r : text_field(o, "context", ev->context, rd);
    r = r ? r : sql_field(o, "statement", ev->statement, rd);
    r = r ? r : int_field(o, "cursor_position", ev->cursor_pos, -1);
    r = r ? r : sql_field(o, "internal_query", ev->internal_query, rd);
    r = r ? r : int_field(o, "internal_position", ev->internal_pos, -1);
    r = r ? r : str_field(o, "location", ev->location);
    if (r == 0 && ev->has_query_id)
        r = sbuf_addf(o, ",\"query_id\":\"%" PRId64 "\"", ev->query_id);
    if (r == 0)
        r = sbuf_addf(o, ",\"kind\":\"%s\"", event_kind_name(ev->kind));
    if (r == 0 && ev->duration_ms >= 0 && (ev->kind == EV_DURATION || ev->kind == EV_PLAN))
        r = sbuf_addf(o, ",\"duration_ms\":%.3f", ev->duration_ms);
    r = r ? r : sql_field(o, "query", ev->query, rd);
    if (r == 0 && (ev->flags & EVENT_HAS_FINGERPRINT))
        r = sbuf_addf(o, ",\"fingerprint\":\"%016" PRIx64 "\"", ev->fingerprint);
    if (r == 0 && ev->phase != PHASE_NONE)
        r = sbuf_addf(o, ",\"phase\":\"%s\"", phase_name(ev->phase));
    if (r == 0 && ev->plan_format != PLAN_NONE)
        r = sbuf_addf(o, ",\"plan_format\":\"%s\"", plan_format_name(ev->plan_format));
    r = r ? r : plan_field(o, ev, rd);
    r = r ? r : facts_fields(o, ev);
    if (r == 0 && (ev->flags & EVENT_INVALID_UTF8))
        r = sbuf_addstr(o, ",\"invalid_utf8\":true");
    if (r == 0 && (ev->flags & EVENT_TRUNCATED))
        r = sbuf_addstr(o, ",\"truncated\":true");
    return r ? r : sbuf_addstr(o, "}\n");
}
