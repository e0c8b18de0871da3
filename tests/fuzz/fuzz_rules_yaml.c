/* SPDX-License-Identifier: MIT */
/*
 * fuzz_rules_yaml - arbitrary bytes as a rule file and as a pgsift.yaml: loading never
 * crashes, every error is one "file:line:col: message" line, and every loaded rule's
 * annotations render (no read outside the template).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *no_vars(void *ctx, struct span name, double *num, bool *is_num)
{
    (void)ctx;
    if (span_eq_lit(name, "value")) {
        *num = 1234.5;
        *is_num = true;
        return "";
    }
    return "text";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rule_set rs;
    struct alert_config c;
    struct tmpl_vars tv = { no_vars, NULL };
    char *copy = malloc(size ? size : 1);

    if (!copy)
        abort();
    memcpy(copy, data, size); /* exact size: ASan sees any overread */
    rule_set_init(&rs);
    rules_load_mem(&rs, "fuzz.yaml", copy, size);
    for (const char *p = rs.errors.buf; *p; p = strchr(p, '\n') + 1) {
        if (strncmp(p, "fuzz.yaml:", 10) || !strchr(p, '\n'))
            abort();
    }
    for (size_t i = 0; i < rs.n; i++) {
        for (size_t j = 0; j < rs.rules[i].nannotations; j++) {
            struct sbuf out = SBUF_INIT;
            (void)tmpl_render(rs.rules[i].annotations[j].value, &tv, &out);
            sbuf_release(&out);
        }
    }
    alert_config_init(&c);
    alert_config_load_mem(&c, "fuzz.yaml", copy, size);
    alert_config_check_rules(&c, &rs);
    alert_config_release(&c);
    rule_set_release(&rs);
    free(copy);
    return 0;
}
