/* SPDX-License-Identifier: MIT */
/*
 * pipeline.c - the stage order, top to bottom:
 *
 *   1. input     input_next()      bytes -> numbered lines (plain, .gz, stdin)
 *   2. parse     parser_feed/next  lines -> one event per log record
 *   3. classify  classify_event()  event -> kind, duration, query, facts
 *   4. normalize normalize_event() SQL -> 64-bit fingerprint, canonical text (when
 *                                  o->normalize: parse --stats shows no fingerprint)
 *   5. sink      o->sink()         printer (pgsift parse) or store (ingest, tail)
 *
 * What classify allocates (decoded plan text) lives in a scratch arena reset after the
 * events of each fed line were handed to the sink: the same lifetime as the events
 * themselves (parse.h). The canonical SQL (ev->normalized) is the normalizer's, valid
 * until its next call: each event goes to the sink before the next is normalized.
 */
#include <stdlib.h>
#include <string.h>

#include "classify/classify.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "input/input.h"
#include "normalize/normalize.h"
#include "parse/parse.h"
#include "pipeline.h"

int pipeline_check(const struct pipeline_opts *o, struct diag *d)
{
    struct parser *p = parser_new(
        &(struct parser_opts){ .format = o->format, .prefix = o->prefix, .tz = o->tz }, d);
    if (!p)
        return -1;
    parser_free(p);
    return 0;
}

/* Stages after parse, for one event. */
static int after_parse(const struct pipeline_opts *o, struct normalizer *nz, struct event *ev,
                       struct arena *scratch, struct diag *d)
{
    /* 3. classify */
    classify_event(ev, scratch);
    /* 4. normalize */
    if (nz)
        normalize_event(nz, ev, NULL); /* ev->normalized borrowed: the sink runs first */
    /* 5. sink */
    return o->sink ? o->sink(o->sink_ctx, ev, d) : 0;
}

static int drain(const struct pipeline_opts *o, struct normalizer *nz, struct parser *p,
                 struct arena *scratch, struct diag *d)
{
    struct event *ev;
    int rc = 0;

    while (rc == 0 && parser_next(p, &ev) == PARSE_EVENT)
        rc = after_parse(o, nz, ev, scratch, d);
    arena_reset(scratch);
    return rc;
}

/* The checkpoint after everything drained so far, handed to o->commit. */
static int commit(const struct pipeline_opts *o, struct parser *p, struct diag *d)
{
    struct parse_checkpoint cp;

    if (!o->commit)
        return 0;
    parser_checkpoint(p, &cp);
    if (cp.line == 0) {
        /* Nothing fed yet: the position we started at. */
        cp.offset = o->start_line ? o->start_offset : 0;
        cp.line = o->start_line ? o->start_line : 1;
    }
    return o->commit(o->sink_ctx, &cp, d);
}

uint64_t pipeline_feed(struct input *in, struct parser *p, struct input_line *ln)
{
    uint64_t end = ln->end;
    uint64_t more = parser_feed_ahead(p, ln, input_ahead(in));
    const char *next;
    size_t next_len;
    if (more)
        input_consume(in, (size_t)(ln->end - end), more);
    else if ((next_len = parser_line_hint(p, &next)) > 0)
        input_hint_line(in, next, next_len); /* (its end is known: no search) */
    return more;
}

int pipeline_run(const struct pipeline_opts *o, const char *path, struct pipeline_result *res,
                 struct diag *d)
{
    memset(res, 0, sizeof(*res));
    sbuf_init(&res->diagnosis, 64 * 1024);
    res->name = xstrdup(path);

    struct parser *p = parser_new(&(struct parser_opts){ .format = o->format,
                                                         .prefix = o->prefix,
                                                         .tz = o->tz,
                                                         .skip = o->skip,
                                                         .nskip = o->nskip,
                                                         .resume_state = o->resume_state,
                                                         .end_live = o->end_live },
                                  d);
    if (!p)
        return -1;
    /* 1. input */
    struct input *in =
        input_open(&(struct input_opts){ .path = path,
                                         .start_offset = o->start_line ? o->start_offset : 0,
                                         .start_line = o->start_line,
                                         .hold_partial = o->hold_partial,
                                         .have_fd = o->have_fd,
                                         .fd = o->fd,
                                         .chunk_bytes = o->chunk_bytes,
                                         .read_ahead = o->read_ahead,
                                         .map = o->map },
                   d);
    if (!in) {
        parser_free(p);
        return -1;
    }
    int rc = 0;
    uint64_t since_commit = 0;
    struct normalizer *own = o->normalize && !o->nz ? normalize_new(NULL) : NULL;
    struct normalizer *nz = o->normalize ? (o->nz ? o->nz : own) : NULL;
    struct norm_cache_stats cs0 = { 0 };
    if (nz)
        normalize_cache_stats(nz, &cs0);
    struct input_line ln;
    struct arena scratch = ARENA_INIT;
    for (;;) {
        enum input_status st = input_next(in, &ln, d);
        if (st == INPUT_LINE) {
            /* 2. parse (a record spanning lines already in the input's buffer may be
             * taken whole: ln then covers its lines, which the input skips) */
            uint64_t more = pipeline_feed(in, p, &ln);
            since_commit += more;
            if (drain(o, nz, p, &scratch, d) < 0 ||
                (o->commit_lines && ++since_commit >= o->commit_lines && commit(o, p, d) < 0)) {
                rc = -1;
                break;
            }
            if (since_commit >= o->commit_lines)
                since_commit = 0;
            if (o->line_done && (rc = o->line_done(o->sink_ctx, in, p, &ln, d)) != 0)
                break;
            continue;
        }
        if (st == INPUT_DAMAGED) {
            parser_damage(p, input_name(in), input_damage(in));
            continue;
        }
        if (st == INPUT_ERROR)
            rc = -1;
        break;
    }
    bool held = false; /* a record cut in a quoted field waits for the rest (hold_partial) */
    if (rc == 0) {
        /* (follow: pending records wait for their continuation lines) */
        uint64_t end;
        if (!o->follow && o->hold_partial && input_end_held(in, &end))
            held = parser_end_hold(p);
        else if (!o->follow)
            parser_end(p);
        else if (o->end_detection)
            parser_end_detection(p);
        rc = drain(o, nz, p, &scratch, d);
        if (rc == 0 && o->line_done)
            rc = o->line_done(o->sink_ctx, in, p, NULL, d);
    }
    if (rc == 0)
        rc = commit(o, p, d);
    if (rc > 0) {
        res->stopped = true;
        rc = 0;
    }
    arena_release(&scratch);
    if (nz) {
        struct norm_cache_stats cs;
        normalize_cache_stats(nz, &cs);
        log_verbose("%s: fingerprint cache: %llu hits, %llu misses, %zu texts (%zu bytes)", path,
                    (unsigned long long)(cs.hits - cs0.hits),
                    (unsigned long long)(cs.misses - cs0.misses), cs.entries, cs.bytes);
    }
    normalize_free(own);
    const struct parse_stats *st = parser_stats(p);
    parse_stats_merge(&res->stats, st);
    if (parser_format(p))
        res->format = xstrdup(parser_format(p));
    if (parser_prefix(p))
        res->prefix = xstrdup(parser_prefix(p));
    res->resumed = parser_resumed(p);
    /* In follow mode the parser may still be collecting lines to detect the format:
     * only a run that ended the parser can say nothing parses. */
    if (rc == 0 && !o->follow && !held && st->events == 0 &&
        st->lines > st->blank_lines + st->skipped_lines) {
        res->nothing_parsed = true;
        parser_diagnose(p, o->keep_literals ? NULL : redact_rejected, &res->diagnosis);
    }
    input_close(in);
    parser_free(p);
    return rc;
}

void pipeline_result_release(struct pipeline_result *res)
{
    free(res->name);
    free(res->format);
    free(res->prefix);
    parse_stats_release(&res->stats);
    sbuf_release(&res->diagnosis);
    memset(res, 0, sizeof(*res));
}
