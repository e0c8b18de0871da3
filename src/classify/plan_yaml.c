/* SPDX-License-Identifier: MIT */
/*
 * plan_yaml.c - auto_explain YAML plans (explain.c EXPLAIN_FORMAT_YAML): the JSON key
 * tree as block mappings and "- " sequences, strings double-quoted with JSON escapes.
 * libyaml reads them; its events feed plan_events.c.
 *
 * libyaml has no nesting limit and keeps a heap stack per flow level ("[[[[..."), so
 * the body is checked first: EXPLAIN never writes flow collections deeper than an
 * empty "[]", and a body nesting them more than PLAN_YAML_MAX_FLOW deep is refused.
 * A stderr continuation line's leading TAB (YAML forbids tabs in indentation) is
 * dropped from every line before parsing.
 */
#include <string.h>
#include <yaml.h>

#include "classify/classify_int.h"
#include "classify/plan.h"

#define PLAN_YAML_MAX_FLOW 16

/* The bytes prepare() must look at; runs of others are copied as they are. */
static const unsigned char yaml_special[256] = {
    ['\n'] = 1, ['\t'] = 1, ['"'] = 1, ['\''] = 1, ['['] = 1,
    ['{'] = 1,  [']'] = 1,  ['}'] = 1, ['\\'] = 1,
};

/* Copy @body into @a without one leading TAB per line; NULL if the flow nesting is
 * deeper than PLAN_YAML_MAX_FLOW. */
static char *prepare(struct span body, struct arena *a, size_t *len)
{
    char *out = arena_alloc(a, body.len + 1);
    size_t n = 0, flow = 0;
    bool bol = true;
    char quote = 0;

    for (size_t i = 0; i < body.len; i++) {
        /* a run of ordinary bytes: copied, and none is at a line's start after the first */
        size_t j = i;
        while (j < body.len && !yaml_special[(unsigned char)body.p[j]])
            j++;
        if (j > i) {
            memcpy(out + n, body.p + i, j - i);
            n += j - i;
            bol = false;
            i = j;
            if (i == body.len)
                break;
        }
        char c = body.p[i];
        if (bol && c == '\t') {
            bol = false;
            continue;
        }
        bol = c == '\n';
        out[n++] = c;
        if (quote) {
            if (c == '\\' && quote == '"' && i + 1 < body.len)
                out[n++] = body.p[++i];
            else if (c == quote)
                quote = 0;
            else if (c == '\n')
                bol = true;
            continue;
        }
        if (c == '"' || c == '\'') {
            quote = c;
        } else if (c == '[' || c == '{') {
            if (++flow > PLAN_YAML_MAX_FLOW)
                return NULL;
        } else if ((c == ']' || c == '}') && flow) {
            flow--;
        }
    }
    out[n] = '\0';
    *len = n;
    return out;
}

int plan_parse_yaml(struct plan *p, struct span body, struct arena *a)
{
    yaml_parser_t parser;
    yaml_event_t event;
    struct plan_events ev;
    size_t len;
    bool done = false;

    plan_reset(p, PLAN_YAML);
    char *buf = prepare(body, a, &len);
    if (!buf) {
        p->error = "YAML nested too deeply";
        return -1;
    }
    if (!yaml_parser_initialize(&parser)) {
        p->error = "out of memory";
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    plan_events_init(&ev, p, a);
    while (!done) {
        if (!yaml_parser_parse(&parser, &event)) {
            p->error = "malformed YAML";
            p->error_line = (uint32_t)parser.problem_mark.line + 1;
            break;
        }
        switch (event.type) {
        case YAML_MAPPING_START_EVENT: plan_events_map_start(&ev); break;
        case YAML_SEQUENCE_START_EVENT: plan_events_seq_start(&ev); break;
        case YAML_MAPPING_END_EVENT:
        case YAML_SEQUENCE_END_EVENT: plan_events_end(&ev); break;
        case YAML_SCALAR_EVENT:
            plan_events_scalar(&ev,
                               arena_dup(a, event.data.scalar.value, event.data.scalar.length));
            break;
        case YAML_STREAM_END_EVENT: done = true; break;
        default: break;
        }
        yaml_event_delete(&event);
    }
    plan_events_release(&ev);
    yaml_parser_delete(&parser);
    if (!p->n_nodes) {
        if (!p->error)
            p->error = "no \"Plan\" mapping";
        return -1;
    }
    return 0;
}
