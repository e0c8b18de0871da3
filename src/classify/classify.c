/* SPDX-License-Identifier: MIT */
/*
 * classify.c - the dispatch (SQLSTATE first, text second), the SQLSTATE table, English
 * error texts for formats without SQLSTATE, the deadlock DETAIL, and the scanner helpers.
 *
 * Message texts are PostgreSQL's (13-18) format strings, see
 * ../shared/research/formats.md section 7; docs/classify.md is the user-facing table.
 */
#include <stdint.h>
#include <string.h>

#include "classify/classify.h"
#include "classify/classify_int.h"

/* ---------------------------------------------------------------- scanner */

bool cur_int(struct span *s, int64_t *out)
{
    size_t n = 0;
    int64_t v = 0;

    while (n < s->len && is_digit(s->p[n]) && n < 18)
        v = v * 10 + (s->p[n++] - '0');
    if (n == 0 || (n < s->len && is_digit(s->p[n])))
        return false;
    *out = v;
    *s = cur_skip(*s, n);
    return true;
}

bool cur_num(struct span *s, double *out)
{
    size_t n = 0, decimals = 0;
    uint64_t m = 0; /* the digits as an integer while they fit 15 (below 2^53) */

    while (n < s->len && is_digit(s->p[n]))
        m = m * 10 + (uint64_t)(s->p[n++] - '0');
    if (n == 0)
        return false;
    if (n + 1 < s->len && s->p[n] == '.' && is_digit(s->p[n + 1])) {
        n++;
        while (n < s->len && is_digit(s->p[n])) {
            m = m * 10 + (uint64_t)(s->p[n++] - '0');
            decimals++;
        }
    }
    /* span_to_double()'s fast path, fused with the scan (durations: every record): at
     * most 15 digits and 22 decimals, one correctly rounded division is strtod's result. */
    static const double pow10[23] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                      1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
    size_t digits = n - (decimals ? 1 : 0);
    if (digits <= 15 && decimals <= 22)
        *out = (double)m / pow10[decimals];
    else if (!span_to_double(span_make(s->p, n), out))
        return false;
    *s = cur_skip(*s, n);
    return true;
}

bool cur_until(struct span *s, struct span stop, struct span *out)
{
    long i = span_find(*s, 0, stop);

    if (i < 0)
        return false;
    *out = span_make(s->p, (size_t)i);
    *s = cur_skip(*s, (size_t)i);
    return true;
}

struct span line_first(struct span s, struct span *rest)
{
    long nl = span_find_char(s, 0, '\n');
    struct span line;

    if (nl < 0) {
        line = s;
        *rest = cur_skip(s, s.len);
    } else {
        line = span_make(s.p, (size_t)nl);
        *rest = cur_skip(s, (size_t)nl + 1);
    }
    if (line.len && line.p[line.len - 1] == '\r')
        line.len--;
    return line;
}

long span_find_last(struct span s, struct span needle)
{
    if (needle.len == 0 || needle.len > s.len)
        return -1;
    for (size_t i = s.len - needle.len + 1; i-- > 0;)
        if (s.p[i] == needle.p[0] && memcmp(s.p + i, needle.p, needle.len) == 0)
            return (long)i;
    return -1;
}

/* ---------------------------------------------------------------- SQLSTATE */

static bool sqlstate_is(const struct event *ev, const char *code)
{
    return memcmp(ev->sqlstate, code, 6) == 0;
}

/* A SQLSTATE that says something: present and not of class 00 (success), 01 (warning)
 * or 02 (no data). LOG lines carry 00000, WARNINGs 01xxx. */
static bool sqlstate_informative(const struct event *ev)
{
    const char *s = ev->sqlstate;

    /* five characters (sqlstate[5] is the terminator): strlen(s) == 5, per record */
    if (!s[0] || !s[1] || !s[2] || !s[3] || !s[4])
        return false;
    return !(s[0] == '0' && (s[1] == '0' || s[1] == '1' || s[1] == '2'));
}

static void set_cause(struct event *ev, struct span cause)
{
    ev->facts.cause = cause;
}

/* The texts that refine 57014 / 55P03 / 40001 / 40P01 / 57P04 (and stand alone when the
 * format has no SQLSTATE): message prefix, kind, cause. */
static const struct cancel_text {
    const char *prefix;
    enum event_kind kind;
    const char *cause;
} cancel_texts[] = {
    { "canceling statement due to statement timeout", EV_TIMEOUT, "statement_timeout" },
    { "canceling statement due to lock timeout", EV_TIMEOUT, "lock_timeout" },
    { "canceling statement due to user request", EV_CANCEL, "user_request" },
    { "canceling statement due to conflict with recovery", EV_CANCEL, "recovery_conflict" },
    { "canceling autovacuum task", EV_CANCEL, "autovacuum" },
    { "canceling authentication due to timeout", EV_TIMEOUT, "authentication_timeout" },
    { "terminating connection due to idle-in-transaction timeout", EV_TIMEOUT,
      "idle_in_transaction_session_timeout" },
    { "terminating connection due to idle-session timeout", EV_TIMEOUT, "idle_session_timeout" },
    { "terminating connection due to transaction timeout", EV_TIMEOUT, "transaction_timeout" },
    { "terminating connection due to conflict with recovery", EV_CANCEL, "recovery_conflict" },
};

/* Returns true when the message is one of cancel_texts (and sets kind and cause). */
static bool classify_cancel_text(struct event *ev)
{
    for (size_t i = 0; i < ARRAY_SIZE(cancel_texts); i++) {
        if (span_starts_with(ev->message, span_cstr(cancel_texts[i].prefix))) {
            ev->kind = cancel_texts[i].kind;
            set_cause(ev, span_cstr(cancel_texts[i].cause));
            return true;
        }
    }
    return false;
}

/*
 * Kinds a SQLSTATE decides by itself (any language), refined by English text where one
 * code covers several situations. Returns false for codes with no specific kind.
 */
static bool classify_sqlstate(struct event *ev)
{
    const char *s = ev->sqlstate;

    switch (s[0]) {
    case '2':
        if (sqlstate_is(ev, "28000") || sqlstate_is(ev, "28P01")) {
            ev->kind = EV_AUTH_FAILURE; /* invalid_authorization_specification, invalid_password */
            return true;
        }
        if (sqlstate_is(ev, "25P03")) {
            ev->kind = EV_TIMEOUT; /* idle_in_transaction_session_timeout */
            set_cause(ev, LIT("idle_in_transaction_session_timeout"));
            return true;
        }
        if (sqlstate_is(ev, "25P04")) {
            ev->kind = EV_TIMEOUT; /* transaction_timeout (PG17+) */
            set_cause(ev, LIT("transaction_timeout"));
            return true;
        }
        return false;
    case '4':
        if (sqlstate_is(ev, "40P01")) {
            /* The standby's buffer-pin deadlock is a cancel, not a lock cycle. */
            if (classify_cancel_text(ev))
                return true;
            ev->kind = EV_DEADLOCK;
            classify_deadlock_detail(ev);
            return true;
        }
        if (sqlstate_is(ev, "40001"))
            return classify_cancel_text(ev); /* else a serialization failure: error */
        return false;
    case '5':
        if (sqlstate_is(ev, "53300")) {
            ev->kind = EV_TOO_MANY_CONNECTIONS;
            return true;
        }
        if (sqlstate_is(ev, "57014")) {
            /* query_canceled: statement timeout, user request, autovacuum task,
             * authentication timeout. Without English text we only know "canceled". */
            if (!classify_cancel_text(ev))
                ev->kind = EV_CANCEL;
            return true;
        }
        if (sqlstate_is(ev, "57P05")) {
            ev->kind = EV_TIMEOUT; /* idle_session_timeout (PG14+) */
            set_cause(ev, LIT("idle_session_timeout"));
            return true;
        }
        if (sqlstate_is(ev, "55P03") || sqlstate_is(ev, "57P04"))
            return classify_cancel_text(ev); /* else NOWAIT / dropped database: error */
        return false;
    default: return false;
    }
}

/* ---------------------------------------------------------------- English error texts */

static bool fatal_auth_text(struct span m)
{
    if (span_starts_with_lit(m, "no pg_hba.conf entry for ") ||
        span_starts_with_lit(m, "pg_hba.conf rejects connection for ") ||
        span_find(m, 0, LIT(" authentication failed for user ")) >= 0)
        return true;
    /* FATAL only: ERROR 42704 uses the same text for DROP ROLE and friends. */
    if (span_starts_with_lit(m, "role \"") &&
        (span_ends_with(span_rtrim(m), LIT("\" does not exist")) ||
         span_ends_with(span_rtrim(m), LIT("\" is not permitted to log in"))))
        return true;
    return false;
}

bool classify_error_text(struct event *ev)
{
    struct span m = ev->message;

    if (span_starts_with_lit(m, "deadlock detected")) {
        ev->kind = EV_DEADLOCK;
        classify_deadlock_detail(ev);
        return true;
    }
    if (classify_cancel_text(ev))
        return true;
    if (span_starts_with_lit(m, "sorry, too many clients already") ||
        span_starts_with_lit(m, "remaining connection slots are reserved for ") ||
        span_starts_with_lit(m, "too many connections for role \"") ||
        span_starts_with_lit(m, "too many connections for database \"")) {
        ev->kind = EV_TOO_MANY_CONNECTIONS;
        return true;
    }
    if ((ev->severity == SEV_FATAL || ev->severity == SEV_NONE) && fatal_auth_text(m)) {
        /* SEV_NONE: a translated severity word; the texts above are English anyway. The
         * role texts are also ERROR 42704 texts, so they need FATAL. */
        if (ev->severity == SEV_NONE && span_starts_with_lit(m, "role \""))
            return false;
        ev->kind = EV_AUTH_FAILURE;
        return true;
    }
    return false;
}

/* ---------------------------------------------------------------- deadlock DETAIL */

static void add_participant(struct event *ev, int64_t pid)
{
    struct event_facts *f = &ev->facts;

    for (int i = 0; i < f->n_participants; i++)
        if (f->participants[i] == pid)
            return;
    if ((unsigned)f->n_participants >= SIFT_MAX_DEADLOCK_PROCS) {
        ev->flags |= EVENT_TRUNCATED;
        return;
    }
    f->participants[f->n_participants++] = pid;
}

/*
 * "Process %d waits for %s on %s; blocked by process %d." per cycle member, then
 * "Process %d: <query>" per member (deadlock.c DeadLockReport), '\n'-joined (stderr
 * continuation lines may keep a leading TAB).
 */
void classify_deadlock_detail(struct event *ev)
{
    struct span rest = ev->detail;
    bool first = true;

    while (rest.len) {
        struct span line = span_trim(line_first(rest, &rest));
        int64_t pid, blocker;
        struct span mode, object;

        if (!cur_eat_lit(&line, "Process ") || !cur_int(&line, &pid) ||
            !cur_eat_lit(&line, " waits for ") || !cur_until(&line, LIT(" on "), &mode))
            continue;
        line = cur_skip(line, 4);
        if (!cur_until(&line, LIT("; blocked by process "), &object))
            continue;
        line = cur_skip(line, sizeof("; blocked by process ") - 1);
        if (!cur_int(&line, &blocker))
            continue;
        add_participant(ev, pid);
        add_participant(ev, blocker);
        if (first) {
            ev->facts.lock_mode = mode;
            ev->facts.lock_object = object;
            ev->facts.blocker_pid = blocker;
            first = false;
        }
    }
}

/* ---------------------------------------------------------------- dispatch */

static void reset_outputs(struct event *ev)
{
    ev->kind = EV_OTHER;
    ev->phase = PHASE_NONE;
    ev->duration_ms = -1;
    ev->query = SPAN_NULL;
    ev->prepared_name = SPAN_NULL;
    ev->params = SPAN_NULL;
    ev->flags &= ~(uint32_t)EVENT_HAS_PARAMS;
    ev->plan_format = PLAN_NONE;
    ev->plan = SPAN_NULL;
    /* A parsed record arrives with its facts cleared (event_clear()); only a record
     * classified before may hold some. (~370 bytes per record otherwise.) */
    if (ev->classified)
        event_facts_clear(&ev->facts);
    ev->classified = true;
}

void classify_event(struct event *ev, struct arena *a)
{
    bool has_state, error_like;

    reset_outputs(ev);
    ev->sqlstate[sizeof(ev->sqlstate) - 1] = '\0';
    has_state = ev->sqlstate[0] != '\0';
    /* SEV_NONE: the parser did not recognise the severity word (a translated one). */
    error_like = ev->severity >= SEV_ERROR ||
                 (ev->severity == SEV_NONE && has_state && sqlstate_informative(ev));

    if (sqlstate_informative(ev) && classify_sqlstate(ev))
        goto out;
    if (!has_state && (error_like || ev->severity == SEV_NONE) && classify_error_text(ev))
        goto out;
    if (ev->severity < SEV_ERROR && classify_log_text(ev, a))
        goto out;
    if (ev->severity == SEV_FATAL && classify_archive_text(ev))
        goto out; /* (still an error for the rules' errors source: they go by severity) */
    if (error_like)
        ev->kind = EV_ERROR;
out:
    /* Bind parameters: DETAIL of duration/statement lines, CONTEXT of a failing
     * statement (log_parameter_max_length_on_error). Plans set them themselves. */
    if (!(ev->flags & EVENT_HAS_PARAMS))
        classify_params(ev);
}
