/* SPDX-License-Identifier: MIT */
/*
 * fuzz_plan_text - arbitrary bytes as an auto_explain text plan body -> plan_analyze()
 * and plan_redact(): no crash, no read outside the body (an exact-size heap copy), the
 * core/limits.h bounds hold, the tree is consistent (parents before children, depths
 * one more than the parent's), every span lies inside the body or the arena, and
 * analysing twice gives the same fingerprint.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify/classify.h"
#include "classify/plan.h"
#include "core/arena.h"
#include "core/limits.h"
#include "core/sbuf.h"
#include "normalize/normalize.h"
#include "plan_checks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct normalizer *nz;
    struct arena a = ARENA_INIT;
    struct plan p;
    struct plan_analysis x, y;
    struct sbuf red = SBUF_INIT;
    char *buf = fuzz_copy(data, size);

    if (!nz)
        nz = normalize_new(NULL);
    struct span body = span_make(buf, size);
    if (plan_parse_text(&p, body, &a) == 0)
        check_tree(&p);
    plan_analyze(body, PLAN_TEXT, 10.0, &a, &x);
    plan_analyze(body, PLAN_TEXT, 10.0, &a, &y);
    check_memo(body, PLAN_TEXT, 10.0, &a);
    if (x.fingerprint != y.fingerprint || x.n_insights != y.n_insights)
        abort();
    check_analysis(&x);
    sbuf_init(&red, 64u << 20);
    if (plan_redact(nz, body, PLAN_TEXT, &a, &red) == 0) {
        plan_analyze(sbuf_span(&red), PLAN_TEXT, 10.0, &a, &y);
        check_analysis(&y);
    }
    struct plan_advisor *adv = plan_advisor_new();
    const struct plan_advice *out;
    plan_advisor_add(adv, &x, 1, 2);
    plan_advisor_add(adv, &x, 2, 1);
    (void)plan_advisor_result(adv, &out);
    plan_advisor_free(adv);
    sbuf_release(&red);
    arena_release(&a);
    free(buf);
    return 0;
}
