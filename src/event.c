/* SPDX-License-Identifier: MIT */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/arena.h"
#include "core/compat.h"
#include "event.h"

static const char *const kind_names[EV_KIND_COUNT] = {
    [EV_OTHER] = "other",
    [EV_DURATION] = "duration",
    [EV_STATEMENT] = "statement",
    [EV_PLAN] = "plan",
    [EV_ERROR] = "error",
    [EV_LOCK_WAIT] = "lock_wait",
    [EV_LOCK_ACQUIRED] = "lock_acquired",
    [EV_DEADLOCK] = "deadlock",
    [EV_TEMP_FILE] = "temp_file",
    [EV_CHECKPOINT] = "checkpoint",
    [EV_AUTOVACUUM] = "autovacuum",
    [EV_AUTOANALYZE] = "autoanalyze",
    [EV_CONNECTION] = "connection",
    [EV_AUTHENTICATED] = "authenticated",
    [EV_DISCONNECTION] = "disconnection",
    [EV_AUTH_FAILURE] = "auth_failure",
    [EV_CANCEL] = "cancel",
    [EV_TIMEOUT] = "timeout",
    [EV_TOO_MANY_CONNECTIONS] = "too_many_connections",
    [EV_STARTUP] = "startup",
    [EV_SHUTDOWN] = "shutdown",
    [EV_CRASH] = "crash",
    [EV_ARCHIVE_FAILURE] = "archive_failure",
    [EV_CONNECTION_READY] = "connection_ready",
};

static const char *const severity_names[SEV_COUNT] = {
    [SEV_NONE] = "",         [SEV_DEBUG] = "DEBUG",     [SEV_INFO] = "INFO",
    [SEV_NOTICE] = "NOTICE", [SEV_WARNING] = "WARNING", [SEV_LOG] = "LOG",
    [SEV_ERROR] = "ERROR",   [SEV_FATAL] = "FATAL",     [SEV_PANIC] = "PANIC",
};

static const char *const phase_names[PHASE_COUNT] = {
    [PHASE_NONE] = "",     [PHASE_SIMPLE] = "simple",   [PHASE_PARSE] = "parse",
    [PHASE_BIND] = "bind", [PHASE_EXECUTE] = "execute",
};

void event_clear(struct event *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->ts_us = INT64_MIN;
    ev->pid = -1;
    ev->session_line = -1;
    ev->client_port = -1;
    ev->leader_pid = -1;
    ev->txid = -1;
    ev->session_start_us = INT64_MIN;
    ev->cursor_pos = -1;
    ev->internal_pos = -1;
    ev->duration_ms = -1;
    ev->rows = -1;
    event_facts_clear(&ev->facts);
}

/* event_copy(): the record's own texts, then what classify/normalize found in or beside
 * them. */
static const size_t copy_roots[] = {
    offsetof(struct event, message),      offsetof(struct event, detail),
    offsetof(struct event, context),      offsetof(struct event, statement),
    offsetof(struct event, hint),         offsetof(struct event, internal_query),
    offsetof(struct event, src_name),     offsetof(struct event, session_id),
    offsetof(struct event, user),         offsetof(struct event, database),
    offsetof(struct event, application),  offsetof(struct event, client),
    offsetof(struct event, backend_type), offsetof(struct event, command_tag),
    offsetof(struct event, vxid),         offsetof(struct event, location),
};
static const size_t copy_inner[] = {
    offsetof(struct event, query),
    offsetof(struct event, prepared_name),
    offsetof(struct event, params),
    offsetof(struct event, plan),
    offsetof(struct event, normalized),
    offsetof(struct event, facts.cause),
    offsetof(struct event, facts.lock_mode),
    offsetof(struct event, facts.lock_object),
    offsetof(struct event, facts.lock_holders),
    offsetof(struct event, facts.lock_queue),
    offsetof(struct event, facts.temp_path),
    offsetof(struct event, facts.relation),
    offsetof(struct event, facts.host),
};

#define SPAN_AT(ev, off)  ((struct span *)(void *)((char *)(ev) + (off)))
#define CSPAN_AT(ev, off) ((const struct span *)(const void *)((const char *)(ev) + (off)))

void event_copy(struct event *dst, const struct event *src, struct arena *a)
{
    struct {
        uintptr_t from;
        size_t len;
        const char *to;
    } kept[ARRAY_SIZE(copy_roots)];
    size_t nkept = 0, total = 0;

    *dst = *src;
    /* One allocation for all of them (each NUL-terminated, as arena_dup() does). */
    for (size_t i = 0; i < ARRAY_SIZE(copy_roots); i++) {
        const struct span *s = CSPAN_AT(src, copy_roots[i]);
        if (s->p)
            total += s->len + 1;
    }
    char *to = total ? arena_alloc(a, total) : NULL;
    for (size_t i = 0; i < ARRAY_SIZE(copy_roots); i++) {
        const struct span *s = CSPAN_AT(src, copy_roots[i]);
        if (!s->p)
            continue;
        memcpy(to, s->p, s->len);
        to[s->len] = '\0';
        *SPAN_AT(dst, copy_roots[i]) = span_make(to, s->len);
        kept[nkept].from = (uintptr_t)s->p;
        kept[nkept].len = s->len;
        kept[nkept].to = to;
        nkept++;
        to += s->len + 1;
    }
    for (size_t i = 0; i < ARRAY_SIZE(copy_inner); i++) {
        const struct span *s = CSPAN_AT(src, copy_inner[i]);
        if (!s->p)
            continue;
        uintptr_t at = (uintptr_t)s->p;
        size_t k = 0;
        while (k < nkept && !(at >= kept[k].from && s->len <= kept[k].len &&
                              at - kept[k].from <= kept[k].len - s->len))
            k++;
        *SPAN_AT(dst, copy_inner[i]) = k < nkept
                                           ? span_make(kept[k].to + (at - kept[k].from), s->len)
                                           : arena_dup(a, s->p, s->len);
    }
}

#undef SPAN_AT
#undef CSPAN_AT

void event_facts_clear(struct event_facts *f)
{
    memset(f, 0, sizeof(*f));
    f->wait_ms = -1;
    f->blocker_pid = -1;
    f->temp_bytes = -1;
    f->buffers = -1;
    f->write_s = f->sync_s = f->total_s = -1;
    f->distance_kb = f->estimate_kb = -1;
    f->wal_added = f->wal_removed = f->wal_recycled = -1;
    f->sync_files = -1;
    f->sync_longest_s = f->sync_average_s = -1;
    f->tuples_removed = f->tuples_remain = f->tuples_dead = -1;
    f->index_scans = -1;
    f->pages_removed = f->pages_remain = f->pages_scanned = -1;
    f->buffer_hits = f->buffer_misses = f->buffer_dirtied = -1;
    f->read_mb_s = f->write_mb_s = -1;
    f->wal_records = f->wal_fpi = f->wal_bytes = -1;
    f->elapsed_s = -1;
    f->port = -1;
    f->setup_ms = f->fork_ms = f->auth_ms = -1;
}

#define FACT_I(n, m)                                 \
    {                                                \
        n, FACT_INT, offsetof(struct event_facts, m) \
    }
#define FACT_R(n, m)                                  \
    {                                                 \
        n, FACT_REAL, offsetof(struct event_facts, m) \
    }
#define FACT_S(n, m)                                  \
    {                                                 \
        n, FACT_TEXT, offsetof(struct event_facts, m) \
    }
static const struct {
    const char *name;
    enum fact_type type;
    size_t off;
} fact_members[] = {
    FACT_R("wait_ms", wait_ms),
    FACT_S("lock_mode", lock_mode),
    FACT_S("lock_object", lock_object),
    FACT_I("temp_bytes", temp_bytes),
    FACT_S("temp_path", temp_path),
    FACT_I("buffers", buffers),
    FACT_R("write_s", write_s),
    FACT_R("sync_s", sync_s),
    FACT_R("total_s", total_s),
    FACT_S("cause", cause),
    FACT_S("relation", relation),
    FACT_I("tuples_removed", tuples_removed),
    FACT_I("tuples_remain", tuples_remain),
    FACT_R("elapsed_s", elapsed_s),
    FACT_S("host", host),
    { "step", FACT_TEXT, (size_t)-1 }, /* an enum: its name */
    FACT_S("lock_holders", lock_holders),
    FACT_S("lock_queue", lock_queue),
    FACT_I("blocker_pid", blocker_pid),
    FACT_I("distance_kb", distance_kb),
    FACT_I("port", port),
    FACT_I("estimate_kb", estimate_kb),
    FACT_I("wal_added", wal_added),
    FACT_I("wal_removed", wal_removed),
    FACT_I("wal_recycled", wal_recycled),
    FACT_I("sync_files", sync_files),
    FACT_R("sync_longest_s", sync_longest_s),
    FACT_R("sync_average_s", sync_average_s),
    FACT_I("tuples_dead", tuples_dead),
    FACT_I("index_scans", index_scans),
    FACT_I("pages_removed", pages_removed),
    FACT_I("pages_remain", pages_remain),
    FACT_I("pages_scanned", pages_scanned),
    FACT_I("buffer_hits", buffer_hits),
    FACT_I("buffer_misses", buffer_misses),
    FACT_I("buffer_dirtied", buffer_dirtied),
    FACT_R("read_mb_s", read_mb_s),
    FACT_R("write_mb_s", write_mb_s),
    FACT_I("wal_records", wal_records),
    FACT_I("wal_fpi", wal_fpi),
    FACT_I("wal_bytes", wal_bytes),
    FACT_R("setup_ms", setup_ms),
    FACT_R("fork_ms", fork_ms),
    FACT_R("auth_ms", auth_ms),
};
#undef FACT_I
#undef FACT_R
#undef FACT_S

_Static_assert(sizeof(fact_members) / sizeof(fact_members[0]) == EVENT_N_FACTS,
               "EVENT_N_FACTS counts them");
_Static_assert(EVENT_N_FACTS <= EVENT_MAX_FACTS, "room for every fact");

const char *event_fact_name(size_t k)
{
    return k < EVENT_N_FACTS ? fact_members[k].name : NULL;
}

size_t event_facts_list(const struct event_facts *f, struct fact_value out[EVENT_MAX_FACTS])
{
    const char *base = (const char *)f;
    size_t n = 0;
    for (size_t k = 0; k < sizeof(fact_members) / sizeof(fact_members[0]); k++) {
        struct fact_value v = { .name = fact_members[k].name, .type = fact_members[k].type };
        if (fact_members[k].off == (size_t)-1) {
            if (f->step == STEP_NONE)
                continue;
            v.s = span_cstr(event_step_name(f->step));
        } else if (v.type == FACT_INT) {
            memcpy(&v.i, base + fact_members[k].off, sizeof(v.i));
            if (v.i < 0)
                continue;
        } else if (v.type == FACT_REAL) {
            memcpy(&v.r, base + fact_members[k].off, sizeof(v.r));
            if (!(v.r >= 0)) /* -1: absent; NaN is never a value */
                continue;
        } else {
            memcpy(&v.s, base + fact_members[k].off, sizeof(v.s));
            if (!v.s.p)
                continue;
        }
        out[n++] = v;
    }
    return n;
}

const char *event_kind_name(enum event_kind k)
{
    return (unsigned)k < EV_KIND_COUNT ? kind_names[k] : "other";
}

const char *severity_name(enum event_severity s)
{
    return (unsigned)s < SEV_COUNT ? severity_names[s] : "";
}

const char *phase_name(enum event_phase p)
{
    return (unsigned)p < PHASE_COUNT ? phase_names[p] : "";
}

const char *plan_format_name(enum plan_format f)
{
    switch (f) {
    case PLAN_TEXT: return "text";
    case PLAN_JSON: return "json";
    case PLAN_YAML: return "yaml";
    case PLAN_XML: return "xml";
    case PLAN_NONE: break;
    }
    return "";
}

const char *event_step_name(enum event_step s)
{
    switch (s) {
    case STEP_START: return "start";
    case STEP_END: return "end";
    case STEP_NONE:
    case STEP_COUNT: break;
    }
    return "";
}

bool event_step_from_name(struct span name, enum event_step *out)
{
    for (unsigned st = STEP_NONE + 1; st < STEP_COUNT; st++) {
        if (span_eq(name, span_cstr(event_step_name((enum event_step)st)))) {
            *out = (enum event_step)st;
            return true;
        }
    }
    return false;
}

bool event_kind_from_name(struct span name, enum event_kind *out)
{
    for (unsigned k = 0; k < EV_KIND_COUNT; k++) {
        if (span_eq(name, span_cstr(kind_names[k]))) {
            *out = (enum event_kind)k;
            return true;
        }
    }
    return false;
}

bool severity_from_name(struct span name, enum event_severity *out)
{
    for (unsigned s = 1; s < SEV_COUNT; s++) {
        if (span_eq_icase(name, span_cstr(severity_names[s]))) {
            *out = (enum event_severity)s;
            return true;
        }
    }
    return false;
}
