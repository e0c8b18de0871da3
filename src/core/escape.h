/* SPDX-License-Identifier: MIT */
/*
 * escape - one function per output context, all appending to an sbuf (GoAccess's
 * clean_output / escape_json_output split, taken further).
 *
 * Every byte from a log is untrusted: a statement, user name, application name or
 * error message may contain "</script>", quotes, U+2028, Markdown table breakers or
 * invalid UTF-8. Each escaper makes the text inert *in its context* and always emits
 * valid UTF-8 (undecodable bytes become U+FFFD). Contexts:
 *
 *   escape_json    inside a JSON string (no quotes added); with ESCAPE_JSON_SCRIPT also
 *                  safe inside an HTML <script> block (< > & / U+2028 U+2029 escaped)
 *   escape_html    HTML text and double- or single-quoted attribute values; also SVG/XML
 *                  text and attributes
 *   escape_md      one cell of a GitHub-flavoured Markdown table (or inline text)
 *   escape_csv     one RFC 4180 field (quotes added when needed)
 *
 * All return 0, or -1 when the sbuf's cap was reached (the sbuf then holds a prefix
 * of the output that ends on a whole escape sequence).
 */
#ifndef SIFT_CORE_ESCAPE_H
#define SIFT_CORE_ESCAPE_H

#include "core/compat.h"
#include "core/sbuf.h"
#include "core/span.h"

enum escape_flags {
    ESCAPE_JSON_SCRIPT = 1 << 0,
};

SIFT_WUR int escape_json(struct sbuf *sb, struct span s, unsigned flags);
SIFT_WUR int escape_html(struct sbuf *sb, struct span s);
SIFT_WUR int escape_md(struct sbuf *sb, struct span s);
SIFT_WUR int escape_csv(struct sbuf *sb, struct span s);

/* A JSON string with its quotes: "..." (absent spans give null). */
SIFT_WUR int escape_json_string(struct sbuf *sb, struct span s);

#endif
