/* SPDX-License-Identifier: MIT */
/*
 * fuzz_classify - arbitrary bytes as a log record -> classify_event(): no crash, no read
 * outside the fields, every extracted span inside its source field or the arena.
 *
 * Input layout: record_input.h; the SQLSTATE's five bytes are taken as they are.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify/classify.h"
#include "core/arena.h"
#include "core/compat.h"
#include "record_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool inside(struct span s, struct span field)
{
    return !s.p || (field.p && s.p >= field.p && s.p + s.len <= field.p + field.len);
}

static void check(struct span s, const struct event *ev, struct arena *a)
{
    (void)a;
    if (!s.p || s.len == 0)
        return;
    if (inside(s, ev->message) || inside(s, ev->detail) || inside(s, ev->context))
        return;
    /* static text (causes) or arena copies: touching every byte lets ASan check them */
    volatile unsigned char sink = 0;
    for (size_t i = 0; i < s.len; i++)
        sink ^= (unsigned char)s.p[i];
    (void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct event ev;
    struct arena a = ARENA_INIT;
    struct record_input in = { 0 };

    if (size < 6)
        return 0;
    record_input_read(&in, &ev, data, size);
    if (data[1]) {
        memcpy(ev.sqlstate, data + 1, 5);
        ev.sqlstate[5] = '\0';
    }

    for (int pass = 0; pass < 2; pass++) {
        classify_event(&ev, pass ? NULL : &a);
        if ((unsigned)ev.kind >= EV_KIND_COUNT || ev.facts.n_participants < 0 ||
            (unsigned)ev.facts.n_participants > SIFT_MAX_DEADLOCK_PROCS)
            abort();
        check(ev.query, &ev, &a);
        check(ev.prepared_name, &ev, &a);
        check(ev.params, &ev, &a);
        check(ev.plan, &ev, &a);
        check(ev.facts.cause, &ev, &a);
        check(ev.facts.lock_mode, &ev, &a);
        check(ev.facts.lock_object, &ev, &a);
        check(ev.facts.lock_holders, &ev, &a);
        check(ev.facts.lock_queue, &ev, &a);
        check(ev.facts.temp_path, &ev, &a);
        check(ev.facts.relation, &ev, &a);
        check(ev.facts.host, &ev, &a);
        if (!!(ev.flags & EVENT_HAS_PARAMS) != !!ev.params.p)
            abort();
    }
    arena_release(&a);
    record_input_free(&in);
    return 0;
}
