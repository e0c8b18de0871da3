/* SPDX-License-Identifier: MIT */
/*
 * alerts.c - the report's alerts section from the rules engine's history
 * (rules/rules.h: alert_history_read()): episodes that fired or resolved in the period
 * or were firing during it, by start time, and the counts per rule.
 */
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"
#include "rules/rules.h"

static int by_start(const void *pa, const void *pb)
{
    const struct report_alert *a = pa, *b = pb;
    if (a->starts_us != b->starts_us)
        return a->starts_us < b->starts_us ? -1 : 1;
    int c = span_cmp(a->rule, b->rule);
    return c ? c : span_cmp(a->labels, b->labels);
}

/* Most episodes first, then by name: the noisy rules lead the table. */
static int by_count(const void *pa, const void *pb)
{
    const struct report_alert_rule *a = pa, *b = pb;
    uint64_t na = a->fired + a->firing_at_end, nb = b->fired + b->firing_at_end;
    if (na != nb)
        return na > nb ? -1 : 1;
    return span_cmp(a->rule, b->rule);
}

static struct span copy(struct report *r, const char *s)
{
    return s ? report_str(r, span_cstr(s)) : SPAN_NULL;
}

int report_read_alerts(struct report *r, const char *store_path, struct diag *d)
{
    struct alert_history h;

    alert_history_init(&h);
    if (alert_history_read(store_path, r->from_us, r->to_us, &h, d) < 0) {
        alert_history_release(&h);
        return -1;
    }
    r->alerts_known = h.known;
    for (size_t i = 0; i < h.n; i++) {
        const struct alert_episode *e = &h.v[i];
        struct report_alert *a = report_add_alert(r);
        a->rule = copy(r, e->rule);
        a->severity = copy(r, e->severity);
        a->status = span_cstr(e->resolved_at ? "resolved" : "firing");
        a->labels = copy(r, e->labels);
        a->summary = copy(r, e->summary);
        a->starts_us = e->fired_at;
        a->ends_us = e->resolved_at ? e->resolved_at : INT64_MIN;
        a->value = e->value;
        a->fired_in_period = e->fired_in_period;
        a->resolved_in_period = e->resolved_in_period;
        a->notified = e->notified;
        a->failed = e->failed;
    }
    for (size_t i = 0; i < h.nrules; i++) {
        struct report_alert_rule *c = report_add_alert_rule(r);
        c->rule = copy(r, h.rules[i].rule);
        c->fired = h.rules[i].fired;
        c->resolved = h.rules[i].resolved;
        c->firing_at_end = h.rules[i].firing_at_end;
    }
    r->alerts_fired = h.fired;
    r->alerts_resolved = h.resolved;
    r->alerts_firing = h.firing_at_end;
    r->alerts_unlisted = h.dropped;
    alert_history_release(&h);
    report_sort_alerts(r);
    return 0;
}

void report_sort_alerts(struct report *r)
{
    if (r->nalerts > 1)
        qsort(r->alerts, r->nalerts, sizeof(*r->alerts), by_start);
    if (r->nalert_rules > 1)
        qsort(r->alert_rules, r->nalert_rules, sizeof(*r->alert_rules), by_count);
}
