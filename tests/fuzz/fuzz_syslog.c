/* SPDX-License-Identifier: MIT */
/*
 * fuzz_syslog - the syslog format (RFC 3164/3339 headers, logplex, [N-M] pieces, #ooo
 * escapes, embedded newlines) on top of the stderr record core.
 *
 * Input: byte 0 picks the prefix (even: the detected one, odd: line 1 after byte 0, up
 * to the first '\n'); the rest are syslog lines. Checks: no crash or sanitizer report
 * and the parse.h accounting invariant; the same bytes parsed twice give the same events.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/parsetest.h"
#include "core/limits.h"
#include "parse/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool given = data[0] & 1;
    const char *text = (const char *)data + 1;
    size_t len = size - 1, at = 0;
    char *prefix = NULL;
    if (given) {
        const char *nl = memchr(text, '\n', len);
        size_t plen = nl ? (size_t)(nl - text) : len;
        if (plen > SIFT_MAX_PREFIX_BYTES)
            plen = SIFT_MAX_PREFIX_BYTES;
        prefix = malloc(plen + 1);
        memcpy(prefix, text, plen);
        prefix[plen] = '\0';
        at = nl ? (size_t)(nl - text) + 1 : len;
    }
    struct parser_opts o = { .format = (data[0] & 2) ? "auto" : "syslog", .prefix = prefix };
    if (!pt_parse_twice_ok(text + at, len - at, &o))
        abort();
    free(prefix);
    return 0;
}
