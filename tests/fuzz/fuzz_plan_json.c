/* SPDX-License-Identifier: MIT */
/*
 * fuzz_plan_json - arbitrary bytes as an auto_explain JSON plan body -> plan_parse_json(),
 * plan_analyze() and plan_redact(): no crash, no read outside the body, the bounds hold,
 * and jansson is the oracle: when it reads the body (duplicate keys rejected) as an
 * object whose "Plan" is an object and every "Plans" an array, within the depth and
 * node bounds, our parser reads it without error and finds the same number of nodes;
 * the redacted body then parses to the same fingerprint.
 *
 * Documented difference: a body holding a NUL byte is never valid JSON (RFC 8259 allows
 * no raw control character, in a string or between tokens) and our parser rejects it,
 * but jansson 2.14 accepts a NUL right after a number ("{\"Plan\":{\"\":0\0}}"): its
 * lexer un-reads the byte that ended the number and then takes the NUL for the end of
 * its refill buffer, so the byte vanishes. The oracle is not applied to such bodies.
 */
#include <jansson.h>
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

/* Nodes under @node (itself included), or -1 when "Plans" is not an array somewhere or
 * a bound is passed. */
static long count_nodes(json_t *node, unsigned depth)
{
    if (depth > SIFT_MAX_PLAN_DEPTH)
        return -1;
    long n = 1;
    json_t *plans = json_object_get(node, "Plans");
    if (!plans)
        return n;
    if (!json_is_array(plans))
        return -1;
    size_t i;
    json_t *child;
    json_array_foreach(plans, i, child)
    {
        if (!json_is_object(child))
            continue;
        long c = count_nodes(child, depth + 1);
        if (c < 0)
            return -1;
        n += c;
    }
    return n;
}

/* Keys whose non-container value our parser would also take as a container: keep the
 * oracle to inputs where each is what EXPLAIN writes. */
static bool well_typed(json_t *top)
{
    json_t *v;
    if ((v = json_object_get(top, "Triggers")) && !json_is_array(v))
        return false;
    if ((v = json_object_get(top, "JIT")) && !json_is_object(v))
        return false;
    return true;
}

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
    int rc = plan_parse_json(&p, body, &a);
    check_tree(&p);

    json_error_t err;
    json_t *root = size && memchr(buf, '\0', size)
                       ? NULL
                       : json_loadb(buf, size, JSON_REJECT_DUPLICATES, &err);
    json_t *plan = root && json_is_object(root) ? json_object_get(root, "Plan") : NULL;
    if (plan && json_is_object(plan) && well_typed(root)) {
        long want = count_nodes(plan, 1);
        if (want > 0 && want <= (long)SIFT_MAX_PLAN_NODES) {
            if (rc != 0 || p.error || p.truncated || (long)p.n_nodes != want)
                abort();
            plan_analyze(body, PLAN_JSON, 5.0, &a, &x);
            sbuf_init(&red, 64u << 20);
            if (plan_redact(nz, body, PLAN_JSON, &a, &red) != 0)
                abort();
            plan_analyze(sbuf_span(&red), PLAN_JSON, 5.0, &a, &y);
            /* Redaction changes no shape: what parsed parses the same, and a plan whose top
             * node has no type (5cccfe4: shape 0 with the reason) stays unparsed. */
            if (y.parsed != x.parsed ||
                (x.parsed && (y.fingerprint != x.fingerprint || y.nodes != x.nodes)))
                abort();
        }
    }
    json_decref(root);

    plan_analyze(body, PLAN_JSON, 5.0, &a, &x);
    check_analysis(&x);
    check_memo(body, PLAN_JSON, 5.0, &a);
    sbuf_reset(&red);
    (void)plan_redact(nz, body, PLAN_JSON, &a, &red);
    sbuf_release(&red);
    arena_release(&a);
    free(buf);
    return 0;
}
