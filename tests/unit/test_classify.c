/* SPDX-License-Identifier: MIT */
/*
 * test_classify - what the case files cannot express: a NULL arena, re-classifying a
 * record that changed, the deadlock-participant limit at limit-1/limit/limit+1, and
 * event_clear() keeping the facts in their "absent" state.
 */
#include <stdio.h>

#include "check.h"
#include "classify/classify.h"
#include "classify/classify_int.h"
#include "core/sbuf.h"

static void record(struct event *ev, enum event_severity sev, const char *state, const char *msg)
{
    event_clear(ev);
    ev->severity = sev;
    snprintf(ev->sqlstate, sizeof(ev->sqlstate), "%s", state);
    ev->message = span_cstr(msg);
}

static void test_null_arena(void)
{
    struct event ev;
    struct arena a = ARENA_INIT;
    const char *json = "duration: 1.000 ms  plan:\n{\n  \"Query Text\": \"select \\\"x\\\"\",\n"
                       "  \"Query Parameters\": \"$1 = \\\"q\\\"\",\n  \"Plan\": {}\n}";

    record(&ev, SEV_LOG, "00000", json);
    classify_event(&ev, NULL);
    CHECK_EQ_INT(ev.kind, EV_PLAN);
    CHECK_EQ_INT(ev.plan_format, PLAN_JSON);
    CHECK(!span_present(ev.query)); /* would need decoding */
    /* parameters stay flagged (raw, still escaped) so redaction never misses them */
    CHECK(ev.flags & EVENT_HAS_PARAMS);
    CHECK(span_eq_lit(ev.params, "$1 = \\\"q\\\""));

    classify_event(&ev, &a);
    CHECK(span_eq_lit(ev.query, "select \"x\""));
    CHECK(span_eq_lit(ev.params, "$1 = \"q\""));
    arena_release(&a);

    /* a plain query needs no arena */
    record(&ev, SEV_LOG, "00000",
           "duration: 1.000 ms  plan:\n{\n  \"Query Text\": \"select 1\",\n  \"Plan\": {}\n}");
    classify_event(&ev, NULL);
    CHECK(span_eq_lit(ev.query, "select 1"));
}

static void test_reclassify(void)
{
    struct event ev;

    record(&ev, SEV_LOG, "00000", "duration: 0.261 ms  bind P_1: SELECT $1");
    ev.detail = span_cstr("parameters: $1 = '1'");
    classify_event(&ev, NULL);
    CHECK_EQ_INT(ev.kind, EV_DURATION);
    CHECK(ev.flags & EVENT_HAS_PARAMS);

    /* same struct, different record: nothing of the first result may survive */
    ev.message = span_cstr("checkpoint starting: time");
    ev.detail = SPAN_NULL;
    classify_event(&ev, NULL);
    CHECK_EQ_INT(ev.kind, EV_CHECKPOINT);
    CHECK_EQ_INT(ev.phase, PHASE_NONE);
    CHECK(ev.duration_ms == -1);
    CHECK(!span_present(ev.query));
    CHECK(!span_present(ev.prepared_name));
    CHECK(!span_present(ev.params));
    CHECK(!(ev.flags & EVENT_HAS_PARAMS));
    CHECK(span_eq_lit(ev.facts.cause, "time"));
}

static void deadlock_of(unsigned n, struct event *ev, struct sbuf *detail)
{
    sbuf_reset(detail);
    for (unsigned i = 1; i <= n; i++)
        if (sbuf_addf(detail,
                      "Process %u waits for ShareLock on transaction 9; blocked by process %u.\n",
                      i, i == n ? 1 : i + 1) < 0)
            abort();
    record(ev, SEV_ERROR, "40P01", "deadlock detected");
    ev->detail = sbuf_span(detail);
    classify_event(ev, NULL);
}

static void test_deadlock_limit(void)
{
    struct event ev;
    struct sbuf d = SBUF_INIT;

    deadlock_of(SIFT_MAX_DEADLOCK_PROCS - 1, &ev, &d);
    CHECK_EQ_INT(ev.facts.n_participants, SIFT_MAX_DEADLOCK_PROCS - 1);
    CHECK(!(ev.flags & EVENT_TRUNCATED));
    deadlock_of(SIFT_MAX_DEADLOCK_PROCS, &ev, &d);
    CHECK_EQ_INT(ev.facts.n_participants, SIFT_MAX_DEADLOCK_PROCS);
    CHECK(!(ev.flags & EVENT_TRUNCATED));
    deadlock_of(SIFT_MAX_DEADLOCK_PROCS + 1, &ev, &d);
    CHECK_EQ_INT(ev.facts.n_participants, SIFT_MAX_DEADLOCK_PROCS);
    CHECK(ev.flags & EVENT_TRUNCATED);
    CHECK_EQ_INT(ev.facts.participants[SIFT_MAX_DEADLOCK_PROCS - 1], SIFT_MAX_DEADLOCK_PROCS);
    sbuf_release(&d);
}

static void test_clear(void)
{
    struct event ev;

    event_clear(&ev);
    CHECK_EQ_INT(ev.facts.step, STEP_NONE);
    CHECK(ev.facts.wait_ms == -1 && ev.facts.write_s == -1 && ev.facts.elapsed_s == -1);
    CHECK_EQ_INT(ev.facts.blocker_pid, -1);
    CHECK_EQ_INT(ev.facts.distance_kb, -1);
    CHECK_EQ_INT(ev.facts.port, -1);
    CHECK_EQ_INT(ev.facts.n_participants, 0);
    CHECK(!span_present(ev.facts.lock_holders) && !span_present(ev.facts.lock_queue));
    CHECK_EQ_STR(event_step_name(STEP_START), "start");
    CHECK_EQ_STR(event_step_name(STEP_END), "end");
    CHECK_EQ_STR(event_step_name(STEP_NONE), "");
}

static void test_bad_sqlstate(void)
{
    struct event ev;

    /* a non-terminated sqlstate buffer must not be read past its end */
    record(&ev, SEV_ERROR, "", "boom");
    memcpy(ev.sqlstate, "57014X", 6);
    classify_event(&ev, NULL);
    CHECK_EQ_INT(ev.kind, EV_CANCEL);
    CHECK_EQ_STR(ev.sqlstate, "57014");
    /* a short code is no SQLSTATE */
    record(&ev, SEV_ERROR, "571", "boom");
    classify_event(&ev, NULL);
    CHECK_EQ_INT(ev.kind, EV_ERROR);
}

/* cur_num()'s fused fast path against the scan + span_to_double() it replaced: value
 * (bit for bit), consumed length and failure, on random decimal texts. */
static void test_cur_num(void)
{
    uint64_t x = 88172645463325252ull;
    char buf[80];
    for (int k = 0; k < 200000; k++) {
        size_t n = 0;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t int_digits = (size_t)(x % 24), frac = (size_t)((x >> 8) % 26);
        int shape = (int)((x >> 16) % 4);
        for (size_t i = 0; i < int_digits; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            buf[n++] = (char)('0' + (i == 0 && shape == 0 ? 0 : x % 10));
        }
        if (shape != 3)
            buf[n++] = '.';
        for (size_t i = 0; shape != 3 && i < frac; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            buf[n++] = (char)('0' + x % 10);
        }
        memcpy(buf + n, " ms", 3);
        n += 3;
        struct span in = span_make(buf, n);
        /* the reference */
        size_t r = 0;
        while (r < in.len && is_digit(in.p[r]))
            r++;
        bool want_ok = r > 0;
        if (want_ok && r + 1 < in.len && in.p[r] == '.' && is_digit(in.p[r + 1])) {
            r++;
            while (r < in.len && is_digit(in.p[r]))
                r++;
        }
        double want = 0, got = 0;
        if (want_ok)
            want_ok = span_to_double(span_make(in.p, r), &want);
        struct span cur = in;
        bool ok = cur_num(&cur, &got);
        CHECK_MSG(ok == want_ok, "%.*s: ok %d, want %d", (int)n, buf, ok, want_ok);
        if (ok && want_ok) {
            CHECK_MSG(memcmp(&got, &want, sizeof(got)) == 0, "%.*s: %.17g, want %.17g", (int)n, buf,
                      got, want);
            CHECK_EQ_INT((long long)(cur.p - in.p), (long long)r);
        }
    }
}

TEST_LIST = {
    { "cur_num", test_cur_num },
    { "null_arena", test_null_arena },
    { "reclassify", test_reclassify },
    { "deadlock_limit", test_deadlock_limit },
    { "clear", test_clear },
    { "bad_sqlstate", test_bad_sqlstate },
    { NULL, NULL },
};
