/* SPDX-License-Identifier: MIT */
/*
 * sift-test-tool - internals exposed to shell tests (Git's t/helper/test-tool).
 *
 * Each subcommand is one line in cmds[]; shell tests call "$SIFT_TEST_TOOL <cmd> ...".
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "classify/classify.h"
#include "core/arena.h"
#include "core/clock.h"
#include "core/diag.h"
#include "core/span.h"
#include "input/input.h"
#include "normalize/normalize.h"
#include "parse/parse.h"
#include "parse/parse_int.h"

/* now: print clock_now_us() as RFC 3339 (shows that SIFT_TEST_NOW is honoured). */
static int cmd_now(int argc, char **argv)
{
    char buf[CLOCK_RFC3339_MAX];

    (void)argc;
    (void)argv;
    puts(clock_format_rfc3339(clock_now_us(), 0, buf));
    return 0;
}

/* parse-count [--jansson-only] FORMAT FILE: parse a file and print "events rejects"
 * (bench.sh measures the jsonlog scanner against the jansson path with it). */
static int cmd_parse_count(int argc, char **argv)
{
    int i = 1;
    if (i < argc && !strcmp(argv[i], "--jansson-only")) {
        jsonlog_jansson_only = true;
        i++;
    }
    if (argc - i != 2) {
        fprintf(stderr, "usage: sift-test-tool parse-count [--jansson-only] FORMAT FILE\n");
        return 2;
    }
    struct diag d = DIAG_INIT;
    struct parser *p = parser_new(&(struct parser_opts){ .format = argv[i] }, &d);
    struct input *in = p ? input_open(&(struct input_opts){ .path = argv[i + 1] }, &d) : NULL;
    if (!in) {
        fprintf(stderr, "%s\n", d.msg);
        parser_free(p);
        return 1;
    }
    struct input_line ln;
    struct event *ev;
    enum input_status st;
    while ((st = input_next(in, &ln, &d)) == INPUT_LINE || st == INPUT_DAMAGED) {
        if (st == INPUT_DAMAGED)
            continue;
        parser_feed(p, &ln);
        while (parser_next(p, &ev) == PARSE_EVENT)
            ;
    }
    parser_end(p);
    while (parser_next(p, &ev) == PARSE_EVENT)
        ;
    const struct parse_stats *ps = parser_stats(p);
    printf("%llu %llu\n", (unsigned long long)ps->events, (unsigned long long)ps->rejects);
    input_close(in);
    parser_free(p);
    return st == INPUT_ERROR ? 1 : 0;
}

/* classify FILE [FORMAT]: parse FILE (format auto unless given), classify every event
 * and print one tab-separated line per event: kind, phase, duration_ms, step, cause,
 * wait_ms, temp_bytes, buffers, deadlock participants, has_params, query length. Two
 * formats of the same log must print the same lines. */
static int cmd_classify(int argc, char **argv)
{
    struct diag d = DIAG_INIT;
    struct arena a = ARENA_INIT;
    struct input_line ln;
    struct event *ev;
    enum input_status st;

    if (argc < 2) {
        fprintf(stderr, "usage: sift-test-tool classify FILE [FORMAT]\n");
        return 2;
    }
    struct parser *p =
        parser_new(&(struct parser_opts){ .format = argc > 2 ? argv[2] : "auto" }, &d);
    struct input *in = p ? input_open(&(struct input_opts){ .path = argv[1] }, &d) : NULL;
    if (!in) {
        fprintf(stderr, "sift-test-tool: %s\n", d.msg);
        parser_free(p);
        return 1;
    }
    for (;;) {
        st = input_next(in, &ln, &d);
        if (st == INPUT_LINE)
            parser_feed(p, &ln);
        else if (st == INPUT_EOF || st == INPUT_ERROR)
            parser_end(p);
        while (parser_next(p, &ev) == PARSE_EVENT) {
            classify_event(ev, &a);
            printf("%s\t%s\t%.3f\t%s\t%.*s\t%.3f\t%" PRId64 "\t%" PRId64 "\t%d\t%d\t%zu\n",
                   event_kind_name(ev->kind), phase_name(ev->phase), ev->duration_ms,
                   event_step_name(ev->facts.step), (int)ev->facts.cause.len,
                   ev->facts.cause.p ? ev->facts.cause.p : "", ev->facts.wait_ms,
                   ev->facts.temp_bytes, ev->facts.buffers, ev->facts.n_participants,
                   !!(ev->flags & EVENT_HAS_PARAMS), ev->query.len);
        }
        arena_reset(&a);
        if (st != INPUT_LINE && st != INPUT_DAMAGED)
            break;
    }
    input_close(in);
    parser_free(p);
    arena_release(&a);
    if (st == INPUT_ERROR) {
        fprintf(stderr, "sift-test-tool: %s\n", d.msg);
        return 1;
    }
    return 0;
}

/* plans [--redacted] FILE [FORMAT]: every auto_explain plan of FILE analysed: its line,
 * format, fingerprint, shape, then indented insights (name, node, explanation) and index
 * suggestions (DDL). --redacted: print each plan redacted and analyse that instead. */
static int cmd_plans(int argc, char **argv)
{
    struct diag d = DIAG_INIT;
    struct arena a = ARENA_INIT;
    struct input_line ln;
    struct event *ev;
    enum input_status st;
    struct normalizer *nz = NULL;
    struct sbuf red = SBUF_INIT;

    if (argc > 1 && !strcmp(argv[1], "--redacted")) {
        nz = normalize_new(NULL);
        argc--;
        argv++;
    }
    if (argc < 2) {
        fprintf(stderr, "usage: sift-test-tool plans FILE [FORMAT]\n");
        return 2;
    }
    struct parser *p =
        parser_new(&(struct parser_opts){ .format = argc > 2 ? argv[2] : "auto" }, &d);
    struct input *in = p ? input_open(&(struct input_opts){ .path = argv[1] }, &d) : NULL;
    if (!in) {
        fprintf(stderr, "sift-test-tool: %s\n", d.msg);
        parser_free(p);
        return 1;
    }
    for (;;) {
        st = input_next(in, &ln, &d);
        if (st == INPUT_LINE)
            parser_feed(p, &ln);
        else if (st == INPUT_EOF || st == INPUT_ERROR)
            parser_end(p);
        while (parser_next(p, &ev) == PARSE_EVENT) {
            classify_event(ev, &a);
            if (ev->kind != EV_PLAN)
                continue;
            struct plan_analysis pa;
            struct span body = ev->plan;
            if (nz) {
                sbuf_reset(&red);
                if (plan_redact(nz, body, ev->plan_format, &a, &red) < 0)
                    fprintf(stderr, "sift-test-tool: redaction cut\n");
                body = sbuf_span(&red);
                printf("%s\n", red.buf);
            }
            plan_analyze(body, ev->plan_format, ev->duration_ms, &a, &pa);
            printf("line %" PRIu64 "\t%s\t%016" PRIx64 "\t%s\t%.*s\n", ev->src_line,
                   plan_format_name(ev->plan_format), pa.fingerprint,
                   pa.parsed ? "parsed" : pa.reason, (int)pa.shape.len,
                   pa.shape.p ? pa.shape.p : "");
            for (size_t i = 0; i < pa.n_insights; i++)
                printf("  insight %s\t%.*s\t%.*s\n", plan_insight_name(pa.insights[i].kind),
                       (int)pa.insights[i].node.len,
                       pa.insights[i].node.p ? pa.insights[i].node.p : "",
                       (int)pa.insights[i].explanation.len, pa.insights[i].explanation.p);
            for (size_t i = 0; i < pa.n_suggestions; i++)
                printf("  index %.*s\tsaving %.3f ms\n", (int)pa.suggestions[i].ddl.len,
                       pa.suggestions[i].ddl.p, pa.suggestions[i].saving_ms);
        }
        arena_reset(&a);
        if (st != INPUT_LINE && st != INPUT_DAMAGED)
            break;
    }
    input_close(in);
    parser_free(p);
    arena_release(&a);
    sbuf_release(&red);
    normalize_free(nz);
    if (st == INPUT_ERROR) {
        fprintf(stderr, "sift-test-tool: %s\n", d.msg);
        return 1;
    }
    return 0;
}

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} cmds[] = {
    { "now", cmd_now, "print the clock's now (honours SIFT_TEST_NOW)" },
    { "parse-count", cmd_parse_count,
      "[--jansson-only] FORMAT FILE: parse, print events and rejects" },
    { "classify", cmd_classify, "parse FILE [FORMAT], classify, one line of facts per event" },
    { "plans", cmd_plans, "parse FILE [FORMAT], analyse every plan: fingerprint, insights" },
};

int main(int argc, char **argv)
{
    if (argc >= 2) {
        for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
            if (!strcmp(argv[1], cmds[i].name))
                return cmds[i].fn(argc - 1, argv + 1);
    }
    fprintf(stderr, "usage: sift-test-tool COMMAND [ARGS]\n");
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        fprintf(stderr, "    %-12s %s\n", cmds[i].name, cmds[i].help);
    return 2;
}
