/* SPDX-License-Identifier: MIT */
/*
 * fuzz_plan_yaml_xml - arbitrary bytes as an auto_explain YAML (first byte even) or XML
 * (odd) plan body -> plan_analyze() and plan_redact(): no crash, no read outside the body
 * (an exact-size heap copy), the core/limits.h bounds hold, the tree is consistent, and
 * analysing twice gives the same fingerprint. YAML: whatever plan_yaml.c's own reader
 * takes, libyaml reads to the same events (the fast reader is an optimisation only).
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

static void readers_agree(struct span body, struct arena *a)
{
    struct sbuf f = SBUF_INIT, l = SBUF_INIT;
    const char *err;
    uint32_t line;
    if (plan_yaml_dump(body, PLAN_YAML_FAST, a, &f, &err, &line) == 0) {
        if (plan_yaml_dump(body, PLAN_YAML_LIBYAML, a, &l, &err, &line) != 0 || f.len != l.len ||
            memcmp(f.buf, l.buf, f.len) != 0)
            abort();
    }
    sbuf_release(&f);
    sbuf_release(&l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct normalizer *nz;
    struct arena a = ARENA_INIT;
    struct plan p;
    struct plan_analysis x, y;
    struct sbuf red = SBUF_INIT;

    if (size < 1)
        return 0;
    enum plan_format fmt = data[0] % 2 ? PLAN_XML : PLAN_YAML;
    size--;
    char *buf = fuzz_copy(data + 1, size);
    if (!nz)
        nz = normalize_new(NULL);
    struct span body = span_make(buf, size);
    if (fmt == PLAN_YAML)
        readers_agree(body, &a);
    if (plan_parse(&p, fmt, body, &a) == 0 || p.n_nodes)
        check_tree(&p);
    plan_analyze(body, fmt, 3.0, &a, &x);
    plan_analyze(body, fmt, 3.0, &a, &y);
    check_memo(body, fmt, 3.0, &a);
    if (x.fingerprint != y.fingerprint || x.n_insights != y.n_insights)
        abort();
    check_analysis(&x);
    sbuf_init(&red, 64u << 20);
    if (plan_redact(nz, body, fmt, &a, &red) == 0)
        plan_analyze(sbuf_span(&red), fmt, 3.0, &a, &y);
    sbuf_release(&red);
    arena_release(&a);
    free(buf);
    return 0;
}
