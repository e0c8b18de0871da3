/* SPDX-License-Identifier: MIT */
/*
 * record_input - the log record a classify-level fuzz target (fuzz_classify,
 * fuzz_event_json) reads from its input: byte 0 selects the severity (mod SEV_COUNT),
 * bytes 1-5 the SQLSTATE (a byte 0 there means "none"), then message, detail and
 * context separated by NUL bytes (missing ones are absent). Each field is copied into
 * its own exact-size heap buffer, so ASan catches any overread. Included by those
 * targets only.
 */
#ifndef SIFT_FUZZ_RECORD_INPUT_H
#define SIFT_FUZZ_RECORD_INPUT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"

struct record_input {
    char *msg, *detail, *context; /* owned copies of the three fields */
};

static struct span take(const uint8_t **p, const uint8_t *end, char **owned)
{
    if (*p > end)
        return SPAN_NULL;
    const uint8_t *nul = memchr(*p, 0, (size_t)(end - *p));
    size_t n = nul ? (size_t)(nul - *p) : (size_t)(end - *p);
    char *buf = malloc(n ? n : 1);
    if (!buf)
        abort();
    if (n)
        memcpy(buf, *p, n);
    *owned = buf;
    *p = nul ? nul + 1 : end + 1;
    return span_make(buf, n);
}

/* Fill @ev (cleared first) from @data (@size >= 6): severity, message, detail and
 * context. The SQLSTATE's five bytes are left to the target: at @data + 1 (byte 0:
 * none). */
static void record_input_read(struct record_input *in, struct event *ev, const uint8_t *data,
                              size_t size)
{
    const uint8_t *p = data + 6, *end = data + size;
    event_clear(ev);
    ev->severity = (enum event_severity)(data[0] % SEV_COUNT);
    ev->message = take(&p, end, &in->msg);
    ev->detail = take(&p, end, &in->detail);
    ev->context = take(&p, end, &in->context);
}

static void record_input_free(struct record_input *in)
{
    free(in->msg);
    free(in->detail);
    free(in->context);
}

#endif
