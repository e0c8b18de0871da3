/* SPDX-License-Identifier: MIT */
/*
 * classify_cases - runner for tests/cases/classify/NAME.cases.
 *
 * A case is one log record and what classify_event() must make of it:
 *
 *   from: fixture pg15/text-plans          where the text comes from (required):
 *                                          "observed ..." (formats.md Observed excerpt),
 *                                          "fixture ..." (tests/fixtures), or
 *                                          "handmade ..." (hand-made variant: say why)
 *   severity: LOG                          DEBUG..PANIC, or "-" (unrecognised/translated)
 *   sqlstate: 00000                        five characters, or "-" (format has none)
 *   message: duration: 0.2 ms  statement: SELECT 1
 *   detail: ...                            optional; also context:, hint:,
 *                                          command_tag: (csvlog's ps display)
 *   =kind duration                         expected fields ...
 *   =duration_ms 0.2
 *   =phase simple
 *   =query SELECT 1
 *
 * Values are unescaped with case_unescape() (\n \t \xHH ...). Expectations are strict:
 * every field below that the case does not name must be absent (-1 / none / unset), so a
 * spurious extraction fails. Span values: the exact text, "(empty)" for present but
 * empty, "*" for present with any text. `=participants 1,2` lists deadlock pids;
 * `=has_params` is implied by `=params`; `=truncated` expects EVENT_TRUNCATED.
 * Each case is classified twice (the second time over the first result) to check that
 * classification is idempotent.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "classify/classify.h"
#include "core/arena.h"
#include "core/sbuf.h"

enum ftype { F_SPAN, F_NUM, F_INT };

struct field {
    const char *name;
    enum ftype type;
    size_t off; /* offsetof in struct event */
};

#define SF(n, m)                             \
    {                                        \
        n, F_SPAN, offsetof(struct event, m) \
    }
#define NF(n, m)                            \
    {                                       \
        n, F_NUM, offsetof(struct event, m) \
    }
#define IF(n, m)                            \
    {                                       \
        n, F_INT, offsetof(struct event, m) \
    }

static const struct field fields[] = {
    NF("duration_ms", duration_ms),
    SF("query", query),
    SF("prepared_name", prepared_name),
    SF("params", params),
    SF("plan", plan),
    SF("cause", facts.cause),
    NF("wait_ms", facts.wait_ms),
    SF("lock_mode", facts.lock_mode),
    SF("lock_object", facts.lock_object),
    SF("lock_holders", facts.lock_holders),
    SF("lock_queue", facts.lock_queue),
    IF("blocker_pid", facts.blocker_pid),
    IF("temp_bytes", facts.temp_bytes),
    SF("temp_path", facts.temp_path),
    IF("buffers", facts.buffers),
    NF("write_s", facts.write_s),
    NF("sync_s", facts.sync_s),
    NF("total_s", facts.total_s),
    IF("distance_kb", facts.distance_kb),
    IF("estimate_kb", facts.estimate_kb),
    IF("wal_added", facts.wal_added),
    IF("wal_removed", facts.wal_removed),
    IF("wal_recycled", facts.wal_recycled),
    IF("sync_files", facts.sync_files),
    NF("sync_longest_s", facts.sync_longest_s),
    NF("sync_average_s", facts.sync_average_s),
    SF("relation", facts.relation),
    IF("tuples_removed", facts.tuples_removed),
    IF("tuples_remain", facts.tuples_remain),
    IF("tuples_dead", facts.tuples_dead),
    IF("index_scans", facts.index_scans),
    IF("pages_removed", facts.pages_removed),
    IF("pages_remain", facts.pages_remain),
    IF("pages_scanned", facts.pages_scanned),
    IF("buffer_hits", facts.buffer_hits),
    IF("buffer_misses", facts.buffer_misses),
    IF("buffer_dirtied", facts.buffer_dirtied),
    NF("read_mb_s", facts.read_mb_s),
    NF("write_mb_s", facts.write_mb_s),
    IF("wal_records", facts.wal_records),
    IF("wal_fpi", facts.wal_fpi),
    IF("wal_bytes", facts.wal_bytes),
    NF("elapsed_s", facts.elapsed_s),
    SF("host", facts.host),
    IF("port", facts.port),
    NF("setup_ms", facts.setup_ms),
    NF("fork_ms", facts.fork_ms),
    NF("auth_ms", facts.auth_ms),
    SF("application", application),
};

#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

struct input {
    struct sbuf message, detail, context, hint, command_tag;
    bool has_message, has_detail, has_context, has_hint, has_command_tag;
};

static struct span *span_at(struct event *ev, size_t off)
{
    return (struct span *)(void *)((char *)ev + off);
}

static void show_span(char *buf, size_t n, struct span s)
{
    if (!s.p) {
        snprintf(buf, n, "(absent)");
        return;
    }
    snprintf(buf, n, "\"%.*s\"", (int)(s.len > 200 ? 200 : s.len), s.p);
}

static int check_span(const struct case_block *b, size_t li, const char *name, struct span got,
                      const char *want, size_t want_len)
{
    char g[256];
    bool ok;

    if (want_len == 1 && want[0] == '*')
        ok = got.p && got.len > 0;
    else if (want_len == 7 && !memcmp(want, "(empty)", 7))
        ok = got.p && got.len == 0;
    else
        ok = got.p && got.len == want_len && !memcmp(got.p, want, want_len);
    if (!ok) {
        show_span(g, sizeof(g), got);
        case_fail(b, li, "%s: expected \"%.*s\", got %s", name, (int)want_len, want, g);
    }
    return ok ? 0 : -1;
}

static void check_event(const struct case_block *b, struct event *ev, const char *pass)
{
    bool seen[NFIELDS] = { false };
    bool seen_kind = false, seen_phase = false, seen_fmt = false, seen_step = false;
    bool seen_part = false, want_trunc = false;
    struct sbuf v = SBUF_INIT;

    for (size_t i = 0; i < b->n; i++) {
        const char *t = b->lines[i].text;
        if (t[0] != '=')
            continue;
        const char *sp = strchr(t, ' ');
        size_t klen = sp ? (size_t)(sp - t - 1) : strlen(t + 1);
        const char *val = sp ? sp + 1 : "";
        if (case_unescape(val, strlen(val), &v) < 0) {
            case_fail(b, i, "bad escape in value");
            continue;
        }
#define KEY(k) (klen == sizeof(k) - 1 && !memcmp(t + 1, k, klen))
        if (KEY("kind")) {
            seen_kind = true;
            if (strcmp(event_kind_name(ev->kind), v.buf))
                case_fail(b, i, "%skind: expected %s, got %s", pass, v.buf,
                          event_kind_name(ev->kind));
        } else if (KEY("phase")) {
            seen_phase = true;
            if (strcmp(phase_name(ev->phase), v.buf))
                case_fail(b, i, "%sphase: expected %s, got \"%s\"", pass, v.buf,
                          phase_name(ev->phase));
        } else if (KEY("plan_format")) {
            seen_fmt = true;
            if (strcmp(plan_format_name(ev->plan_format), v.buf))
                case_fail(b, i, "%splan_format: expected %s, got \"%s\"", pass, v.buf,
                          plan_format_name(ev->plan_format));
        } else if (KEY("step")) {
            seen_step = true;
            if (strcmp(event_step_name(ev->facts.step), v.buf))
                case_fail(b, i, "%sstep: expected %s, got \"%s\"", pass, v.buf,
                          event_step_name(ev->facts.step));
        } else if (KEY("participants")) {
            char got[512];
            size_t n = 0;
            seen_part = true;
            got[0] = '\0';
            for (int k = 0; k < ev->facts.n_participants; k++)
                n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%" PRId64, k ? "," : "",
                                      ev->facts.participants[k]);
            if (strcmp(got, v.buf))
                case_fail(b, i, "%sparticipants: expected %s, got %s", pass, v.buf, got);
        } else if (KEY("has_params")) {
            if (!(ev->flags & EVENT_HAS_PARAMS))
                case_fail(b, i, "%sexpected EVENT_HAS_PARAMS", pass);
        } else if (KEY("truncated")) {
            want_trunc = true;
        } else {
            size_t f;
            for (f = 0; f < NFIELDS; f++)
                if (strlen(fields[f].name) == klen && !memcmp(fields[f].name, t + 1, klen))
                    break;
            if (f == NFIELDS) {
                case_fail(b, i, "unknown expectation '%.*s'", (int)klen, t + 1);
                continue;
            }
            seen[f] = true;
            if (fields[f].type == F_SPAN) {
                check_span(b, i, fields[f].name, *span_at(ev, fields[f].off), v.buf, v.len);
            } else if (fields[f].type == F_NUM) {
                double got = *(double *)(void *)((char *)ev + fields[f].off);
                char *end;
                double want = strtod(v.buf, &end);
                if (*end || fabs(got - want) > 1e-9 * (fabs(want) > 1 ? fabs(want) : 1))
                    case_fail(b, i, "%s%s: expected %s, got %.6f", pass, fields[f].name, v.buf,
                              got);
            } else {
                int64_t got = *(int64_t *)(void *)((char *)ev + fields[f].off);
                char *end;
                long long want = strtoll(v.buf, &end, 10);
                if (*end || got != want)
                    case_fail(b, i, "%s%s: expected %s, got %" PRId64, pass, fields[f].name, v.buf,
                              got);
            }
        }
#undef KEY
    }
    if (!seen_kind)
        case_fail(b, 0, "case has no =kind line");
    if (!seen_phase && ev->phase != PHASE_NONE)
        case_fail(b, 0, "%sunexpected phase %s", pass, phase_name(ev->phase));
    if (!seen_fmt && ev->plan_format != PLAN_NONE)
        case_fail(b, 0, "%sunexpected plan_format %s", pass, plan_format_name(ev->plan_format));
    if (!seen_step && ev->facts.step != STEP_NONE)
        case_fail(b, 0, "%sunexpected step %s", pass, event_step_name(ev->facts.step));
    if (!seen_part && ev->facts.n_participants)
        case_fail(b, 0, "%sunexpected participants (%d)", pass, ev->facts.n_participants);
    if (want_trunc != !!(ev->flags & EVENT_TRUNCATED))
        case_fail(b, 0, "%sEVENT_TRUNCATED: expected %d", pass, want_trunc);
    if (!!(ev->flags & EVENT_HAS_PARAMS) != !!ev->params.p)
        case_fail(b, 0, "%sEVENT_HAS_PARAMS and params disagree", pass);
    for (size_t f = 0; f < NFIELDS; f++) {
        if (seen[f])
            continue;
        char g[256];
        if (fields[f].type == F_SPAN) {
            struct span s = *span_at(ev, fields[f].off);
            if (s.p) {
                show_span(g, sizeof(g), s);
                case_fail(b, 0, "%sunexpected %s %s", pass, fields[f].name, g);
            }
        } else if (fields[f].type == F_NUM) {
            double d = *(double *)(void *)((char *)ev + fields[f].off);
            if (d != -1)
                case_fail(b, 0, "%sunexpected %s %.6f", pass, fields[f].name, d);
        } else {
            int64_t d = *(int64_t *)(void *)((char *)ev + fields[f].off);
            if (d != -1)
                case_fail(b, 0, "%sunexpected %s %" PRId64, pass, fields[f].name, d);
        }
    }
    sbuf_release(&v);
}

static int run_case(const struct case_block *b)
{
    struct input in = { SBUF_INIT, SBUF_INIT, SBUF_INIT, SBUF_INIT, SBUF_INIT,
                        false,     false,     false,     false,     false };
    struct sbuf v = SBUF_INIT;
    struct event ev;
    struct arena a = ARENA_INIT;
    bool has_from = false, has_sev = false;
    int rc = 0;

    event_clear(&ev);
    for (size_t i = 0; i < b->n; i++) {
        const char *t = b->lines[i].text;
        if (t[0] == '=')
            continue;
        const char *colon = strstr(t, ": ");
        if (!colon) {
            case_fail(b, i, "expected 'key: value' or '=field value'");
            rc = -1;
            continue;
        }
        size_t klen = (size_t)(colon - t);
        const char *val = colon + 2;
        if (case_unescape(val, strlen(val), &v) < 0) {
            case_fail(b, i, "bad escape");
            rc = -1;
            continue;
        }
#define KEY(k) (klen == sizeof(k) - 1 && !memcmp(t, k, klen))
        if (KEY("from")) {
            has_from = !strncmp(val, "observed", 8) || !strncmp(val, "fixture", 7) ||
                       !strncmp(val, "handmade", 8);
            if (!has_from)
                case_fail(b, i, "from: must start with observed, fixture or handmade");
        } else if (KEY("severity")) {
            has_sev = true;
            if (strcmp(v.buf, "-") && !severity_from_name(sbuf_span(&v), &ev.severity))
                case_fail(b, i, "unknown severity '%s'", v.buf);
        } else if (KEY("sqlstate")) {
            if (strcmp(v.buf, "-")) {
                if (v.len != 5)
                    case_fail(b, i, "sqlstate must have 5 characters");
                memcpy(ev.sqlstate, v.buf, v.len < 5 ? v.len : 5);
            }
        } else if (KEY("message") || KEY("detail") || KEY("context") || KEY("hint")) {
            struct sbuf *dst = KEY("message")   ? &in.message
                               : KEY("detail")  ? &in.detail
                               : KEY("context") ? &in.context
                                                : &in.hint;
            if (sbuf_addspan(dst, sbuf_span(&v)) < 0)
                abort();
            if (KEY("message"))
                in.has_message = true;
            else if (KEY("detail"))
                in.has_detail = true;
            else if (KEY("context"))
                in.has_context = true;
            else
                in.has_hint = true;
        } else if (KEY("command_tag")) {
            if (sbuf_addspan(&in.command_tag, sbuf_span(&v)) < 0)
                abort();
            in.has_command_tag = true;
        } else {
            case_fail(b, i, "unknown key '%.*s'", (int)klen, t);
        }
#undef KEY
    }
    if (!has_from)
        case_fail(b, 0, "case has no valid from: line");
    if (!has_sev)
        case_fail(b, 0, "case has no severity: line");
    if (in.has_message)
        ev.message = sbuf_span(&in.message);
    if (in.has_detail)
        ev.detail = sbuf_span(&in.detail);
    if (in.has_context)
        ev.context = sbuf_span(&in.context);
    if (in.has_hint)
        ev.hint = sbuf_span(&in.hint);
    if (in.has_command_tag)
        ev.command_tag = sbuf_span(&in.command_tag);

    classify_event(&ev, &a);
    check_event(b, &ev, "");
    classify_event(&ev, &a);
    check_event(b, &ev, "(second pass) ");

    arena_release(&a);
    sbuf_release(&v);
    sbuf_release(&in.message);
    sbuf_release(&in.detail);
    sbuf_release(&in.context);
    sbuf_release(&in.hint);
    sbuf_release(&in.command_tag);
    return rc;
}

int main(int argc, char **argv)
{
    return cases_main(argc, argv, run_case);
}
