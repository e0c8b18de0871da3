/* SPDX-License-Identifier: MIT */
/*
 * fuzz_event_json - arbitrary bytes as a log record, classified and normalized, then
 * written as `pgsift parse` writes it (cmd/event_json.h), redacted and with
 * --keep-literals: each line must be one JSON object (jansson parses it: valid UTF-8,
 * valid escapes) ending in one '\n' and holding no other, with the record's kind and
 * every fact classify/ found under its name, integers exact and numbers finite.
 *
 * Input layout (as fuzz_classify): byte 0 selects the severity (mod SEV_COUNT), bytes 1-5
 * the SQLSTATE (a byte 0 there means "none"; other than five of 0-9 and A-Z, it is none,
 * as the parsers have it), then message, detail and context separated
 * by NUL bytes (missing ones are absent).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "classify/classify.h"
#include "cmd/event_json.h"
#include "core/arena.h"
#include "core/sbuf.h"
#include "normalize/normalize.h"
#include "parse/parse_int.h"
#include "record_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(bool ok, const char *what, const struct sbuf *line)
{
    if (!ok) {
        fprintf(stderr, "fuzz_event_json: %s: %.*s\n", what, (int)line->len, line->buf);
        abort();
    }
}

static void check_line(const struct event *ev, const struct sbuf *out)
{
    require(out->len >= 3 && out->buf[out->len - 1] == '\n', "not one line", out);
    require(!memchr(out->buf, '\n', out->len - 1), "a newline inside the line", out);
    json_error_t je;
    /* a NUL byte of the log is written as the escape \u0000: valid JSON (RFC 8259) */
    json_t *o = json_loadb(out->buf, out->len - 1, JSON_ALLOW_NUL, &je);
    require(o && json_is_object(o), "not a JSON object", out);
    const char *kind = json_string_value(json_object_get(o, "kind"));
    require(kind && !strcmp(kind, event_kind_name(ev->kind)), "kind", out);
    struct fact_value f[EVENT_MAX_FACTS];
    size_t n = event_facts_list(&ev->facts, f);
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_object_get(o, f[i].name);
        switch (f[i].type) {
        case FACT_INT:
            require(json_is_integer(v) && json_integer_value(v) == f[i].i, f[i].name, out);
            break;
        case FACT_REAL: /* the shortest text that reads back: the same double */
            require(json_is_number(v) && json_number_value(v) == f[i].r, f[i].name, out);
            break;
        case FACT_TEXT: require(json_is_string(v), f[i].name, out); break;
        }
    }
    json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct normalizer *nz;
    struct event ev;
    struct arena a = ARENA_INIT;
    struct record_input in = { 0 };

    if (size < 6)
        return 0;
    if (!nz)
        nz = normalize_new(NULL); /* kept across inputs, as `pgsift parse` keeps it */
    record_input_read(&in, &ev, data, size);
    if (data[1]) /* as every parser sets it: five of 0-9 and A-Z, or none */
        (void)parser_set_sqlstate(&ev, span_make((const char *)data + 1, 5));
    ev.src_name = span_cstr("fuzz.log");
    ev.src_line = 1;
    ev.ts_us = 1795628689791000;
    ev.ts_frac = 3;
    classify_event(&ev, &a);
    (void)normalize_event(nz, &ev, &a);

    struct event_json_redact r = { .nz = nz, .arena = ARENA_INIT };
    struct sbuf out;
    sbuf_init(&out, 0);
    sbuf_init(&r.tmp, 0);
    sbuf_init(&r.tmp2, 0);
    if (event_json_write(&ev, &out, &r) == 0)
        check_line(&ev, &out);
    sbuf_reset(&out);
    if (event_json_write(&ev, &out, NULL) == 0)
        check_line(&ev, &out);
    sbuf_release(&out);
    sbuf_release(&r.tmp);
    sbuf_release(&r.tmp2);
    arena_release(&r.arena);
    arena_release(&a);
    record_input_free(&in);
    return 0;
}
