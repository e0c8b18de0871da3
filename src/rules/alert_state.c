/* SPDX-License-Identifier: MIT */
/*
 * alert_state - the per-instance state machine (Prometheus pending/firing with
 * keep_firing_for, Grafana's recovering) and instance identity. Pure functions: the
 * caller persists struct alert_status and passes evaluation times in.
 */
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "rules/rules.h"

static const char *const state_names[] = { "inactive", "pending", "firing", "recovering",
                                           "resolved" };
static const char *const transition_names[] = { "none",     "pending",  "firing", "recovering",
                                                "refiring", "resolved", "cleared" };
_Static_assert(sizeof(state_names) / sizeof(state_names[0]) == ALERT_STATE_COUNT, "states");
_Static_assert(sizeof(transition_names) / sizeof(transition_names[0]) == ALERT_TRANSITION_COUNT,
               "transitions");

const char *alert_state_name(enum alert_state s)
{
    return (unsigned)s < ALERT_STATE_COUNT ? state_names[s] : "?";
}

bool alert_state_from_name(struct span name, enum alert_state *out)
{
    for (unsigned i = 0; i < ALERT_STATE_COUNT; i++) {
        if (span_eq(name, span_cstr(state_names[i]))) {
            *out = (enum alert_state)i;
            return true;
        }
    }
    return false;
}

const char *alert_transition_name(enum alert_transition t)
{
    return (unsigned)t < ALERT_TRANSITION_COUNT ? transition_names[t] : "?";
}

static enum alert_transition start(struct alert_status *s, const struct alert_timing *t, int64_t at)
{
    s->active_since = at;
    s->fired_at = 0;
    s->resolved_at = 0;
    if (t->for_us > 0) {
        s->state = ALERT_PENDING;
        return ALERT_TO_PENDING;
    }
    s->state = ALERT_FIRING;
    s->fired_at = at;
    s->episode++;
    return ALERT_TO_FIRING;
}

enum alert_transition alert_step(struct alert_status *s, const struct alert_timing *t, int64_t at,
                                 bool cond, double value)
{
    if (s->last_eval && at <= s->last_eval)
        return ALERT_TO_NONE;
    s->last_eval = at;
    if (cond) {
        s->last_true = at;
        s->value = value;
    }
    switch (s->state) {
    case ALERT_INACTIVE:
    case ALERT_RESOLVED: return cond ? start(s, t, at) : ALERT_TO_NONE;
    case ALERT_PENDING:
        if (!cond) {
            s->state = ALERT_INACTIVE;
            s->active_since = 0;
            return ALERT_TO_CLEARED;
        }
        if (at - s->active_since < t->for_us)
            return ALERT_TO_NONE;
        s->state = ALERT_FIRING;
        s->fired_at = at;
        s->episode++;
        return ALERT_TO_FIRING;
    case ALERT_FIRING:
    case ALERT_RECOVERING:
        if (cond) {
            if (s->state == ALERT_FIRING)
                return ALERT_TO_NONE;
            s->state = ALERT_FIRING;
            return ALERT_TO_REFIRING;
        }
        if (at - s->last_true >= t->hold_us) {
            s->state = ALERT_RESOLVED;
            s->resolved_at = at;
            return ALERT_TO_RESOLVED;
        }
        if (s->state == ALERT_RECOVERING)
            return ALERT_TO_NONE;
        s->state = ALERT_RECOVERING;
        return ALERT_TO_RECOVERING;
    case ALERT_STATE_COUNT: break;
    }
    BUG("alert state %d", (int)s->state);
}

static int label_cmp(const void *a, const void *b)
{
    const struct rule_label *x = a, *y = b;
    return strcmp(x->key, y->key);
}

void alert_labels_sort(struct rule_label *l, size_t n)
{
    if (n > 1)
        qsort(l, n, sizeof(*l), label_cmp);
}

void alert_key_hex(const struct rule_label *l, size_t n, char out[ALERT_KEY_HEX])
{
    XXH3_state_t *st = XXH3_createState();
    static const char hex[] = "0123456789abcdef";

    if (!st)
        BUG("XXH3_createState failed");
    XXH3_128bits_reset(st);
    /* key NUL value NUL ...: NUL cannot occur inside a C string, so the encoding is
     * unambiguous. */
    for (size_t i = 0; i < n; i++) {
        XXH3_128bits_update(st, l[i].key, strlen(l[i].key) + 1);
        XXH3_128bits_update(st, l[i].value, strlen(l[i].value) + 1);
    }
    XXH128_hash_t h = XXH3_128bits_digest(st);
    XXH3_freeState(st);
    for (int i = 0; i < 16; i++) {
        uint64_t w = i < 8 ? h.high64 : h.low64;
        unsigned byte = (unsigned)(w >> (56 - 8 * (i % 8))) & 0xff;
        out[2 * i] = hex[byte >> 4];
        out[2 * i + 1] = hex[byte & 15];
    }
    out[32] = '\0';
}
