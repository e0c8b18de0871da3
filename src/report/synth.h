/* SPDX-License-Identifier: MIT */
/*
 * synth - a deterministic synthetic report model, for the benchmark (100 000 query
 * shapes in a day) and for the hostile-input tests (every text field of the model
 * filled from a list of hostile strings). Not used by pgsift itself; it lives in the
 * library so unit tests, sift-test-tool and the benchmark build the same model.
 */
#ifndef SIFT_REPORT_SYNTH_H
#define SIFT_REPORT_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "report/report.h"

struct report_synth_opts {
    size_t fingerprints;        /* query shapes (0: 1000) */
    uint64_t seed;              /* same seed, same model */
    const char *day;            /* "2026-11-24" (NULL: that) */
    const char *tz;             /* "UTC" (NULL: that) */
    const struct span *hostile; /* when set, every text field cycles through these */
    size_t nhostile;
};

/* Fill @r (freshly report_init()ed). Returns 0, or -1 with a diag (bad day or tz). */
int report_synth(struct report *r, const struct report_synth_opts *o, struct diag *d);

#endif
