/* SPDX-License-Identifier: MIT */
/*
 * Runner for tests/cases/pgtime/NAME.cases: PostgreSQL log timestamps (parse/pgtime.c).
 *
 * A case:
 *   in: <timestamp as logged>        (or "epoch: <%n value>", or "tzopt: <--tz value>")
 *   tz: <--tz value>                 (optional)
 *   out: <RFC 3339 UTC with the log's precision>
 *   err: bad|ambiguous|unknown|no_zone|usage
 */
#include <stdio.h>
#include <string.h>

#include "cases.h"
#include "core/clock.h"
#include "parse/parse_int.h"

static const char *status_name(enum pgtime_status st)
{
    switch (st) {
    case PGTIME_OK: return "ok";
    case PGTIME_BAD: return "bad";
    case PGTIME_AMBIGUOUS: return "ambiguous";
    case PGTIME_UNKNOWN: return "unknown";
    case PGTIME_NO_ZONE: return "no_zone";
    }
    return "?";
}

static const char *value(const struct case_line *l, const char *key)
{
    size_t n = strlen(key);
    return l->len > n + 1 && !strncmp(l->text, key, n) && l->text[n] == ':' ? l->text + n + 2
                                                                            : NULL;
}

static struct pgtime_tz zone;

static int handle_zone(const struct case_block *b)
{
    const char *in = NULL, *epoch = NULL, *tzopt = NULL, *tz = NULL, *out = NULL, *err = NULL;
    size_t in_at = 0;

    for (size_t i = 0; i < b->n; i++) {
        const struct case_line *l = &b->lines[i];
        const char *v;
        if ((v = value(l, "in")))
            in = v, in_at = i;
        else if ((v = value(l, "epoch")))
            epoch = v, in_at = i;
        else if ((v = value(l, "tzopt")))
            tzopt = v, in_at = i;
        else if ((v = value(l, "tz")))
            tz = v;
        else if ((v = value(l, "out")))
            out = v;
        else if ((v = value(l, "err")))
            err = v;
        else
            case_fail(b, i, "unknown case line (expected in:, epoch:, tzopt:, tz:, out:, err:)");
    }
    if ((!in && !epoch && !tzopt) || (!out && !err)) {
        case_fail(b, 0, "a case needs in:/epoch:/tzopt: and out:/err:");
        return -1;
    }
    struct diag d = DIAG_INIT;
    if (tz && pgtime_tz_parse(tz, &zone, &d) < 0) {
        case_fail(b, 0, "bad tz: line: %s", d.msg);
        return -1;
    }
    if (tzopt) {
        int rc = pgtime_tz_parse(tzopt, &zone, &d);
        if (err && rc == 0)
            case_fail(b, in_at, "expected --tz '%s' to be refused", tzopt);
        if (out) {
            char want[64];
            if (rc < 0)
                case_fail(b, in_at, "--tz '%s' refused: %s", tzopt, d.msg);
            snprintf(want, sizeof(want), "%d", zone.offset_s);
            if (rc == 0 && strcmp(want, out))
                case_fail(b, in_at, "offset %s, expected %s", want, out);
        }
        return 0;
    }
    struct sbuf raw = SBUF_INIT;
    const char *src = in ? in : epoch;
    if (case_unescape(src, strlen(src), &raw) < 0) {
        case_fail(b, in_at, "bad escape");
        return -1;
    }
    int64_t us = 0;
    int frac = -1;
    enum pgtime_status st = in ? pgtime_parse(sbuf_span(&raw), &zone, &us, &frac, NULL)
                               : pgtime_parse_epoch(sbuf_span(&raw), &us, &frac);
    if (in) {
        /* The cached parse gives the same answer, primed by the earlier cases (a cache
         * of another zone or --tz) and then by this one (a hit). */
        static struct pgtime_cache cache;
        if (zone.zone)
            memset(&cache, 0, sizeof(cache)); /* (a zone freed by an earlier case) */
        for (int k = 0; k < 2; k++) {
            int64_t cus = 0;
            int cfrac = -1;
            struct span z1, z2;
            pgtime_parse(sbuf_span(&raw), &zone, &us, &frac, &z1);
            enum pgtime_status cst =
                pgtime_parse_cached(&cache, sbuf_span(&raw), &zone, &cus, &cfrac, &z2);
            if (cst != st || (st == PGTIME_OK && (cus != us || cfrac != frac)) || z1.p != z2.p ||
                z1.len != z2.len)
                case_fail(b, in_at, "cached parse differs (pass %d)", k + 1);
        }
    }
    sbuf_release(&raw);
    if (err) {
        if (st == PGTIME_OK || strcmp(status_name(st), err))
            case_fail(b, in_at, "got %s, expected error %s", status_name(st), err);
        return 0;
    }
    char got[CLOCK_RFC3339_MAX];
    if (st != PGTIME_OK) {
        case_fail(b, in_at, "got error %s, expected %s", status_name(st), out);
        return -1;
    }
    clock_format_rfc3339(us, frac, got);
    if (strcmp(got, out))
        case_fail(b, in_at, "got %s, expected %s", got, out);
    return 0;
}

static int handle(const struct case_block *b)
{
    zone = (struct pgtime_tz){ 0 };
    int rc = handle_zone(b);
    pgtime_tz_release(&zone);
    return rc;
}

int main(int argc, char **argv)
{
    return cases_main(argc, argv, handle);
}
