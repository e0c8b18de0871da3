/* SPDX-License-Identifier: MIT */
/*
 * fuzz_classify - arbitrary bytes as a log record -> classify_event(): no crash, no read
 * outside the fields, every extracted span inside its source field or the arena.
 *
 * Input layout: byte 0 selects the severity (mod SEV_COUNT), bytes 1-5 the SQLSTATE (a
 * byte 0 there means "none"), then message, detail and context separated by NUL bytes
 * (missing ones are absent). Each field is copied into its own exact-size heap buffer so
 * ASan catches any overread.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify/classify.h"
#include "core/arena.h"
#include "core/compat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct span take(const uint8_t **p, const uint8_t *end, char **owned)
{
    if (*p > end)
        return SPAN_NULL;
    const uint8_t *nul = memchr(*p, 0, (size_t)(end - *p));
    size_t n = nul ? (size_t)(nul - *p) : (size_t)(end - *p);
    char *buf = malloc(n ? n : 1);
    if (!buf)
        abort();
    if (n)
        memcpy(buf, *p, n);
    *owned = buf;
    *p = nul ? nul + 1 : end + 1;
    return span_make(buf, n);
}

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
    char *msg = NULL, *detail = NULL, *context = NULL;
    const uint8_t *p = data, *end = data + size;

    if (size < 6)
        return 0;
    event_clear(&ev);
    ev.severity = (enum event_severity)(data[0] % SEV_COUNT);
    if (data[1]) {
        memcpy(ev.sqlstate, data + 1, 5);
        ev.sqlstate[5] = '\0';
    }
    p = data + 6;
    ev.message = take(&p, end, &msg);
    ev.detail = take(&p, end, &detail);
    ev.context = take(&p, end, &context);

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
    free(msg);
    free(detail);
    free(context);
    return 0;
}
