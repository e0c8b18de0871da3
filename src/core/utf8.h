/* SPDX-License-Identifier: MIT */
/*
 * utf8 - strict UTF-8 decoding (RFC 3629: no overlongs, no surrogates, max U+10FFFF).
 *
 * Log bytes are untrusted and may be in any server encoding; every writer of text
 * output (JSON, HTML, Markdown) decodes through here and replaces what does not decode
 * with U+FFFD, so output is always valid UTF-8.
 */
#ifndef SIFT_CORE_UTF8_H
#define SIFT_CORE_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/span.h"

#define UTF8_REPLACEMENT 0xFFFDu

/* Decode one code point at p[0..len). Returns its length (1-4) and sets *cp, or 0 when
 * the bytes there are not valid UTF-8 (the caller consumes one byte and substitutes
 * U+FFFD). len must be > 0. */
size_t utf8_decode(const unsigned char *p, size_t len, uint32_t *cp);

/* Length of the valid sequence at p[0] (1..4), or 0 when the byte there starts none
 * within n bytes (the caller replaces that one byte): utf8_decode() without the value. */
size_t utf8_seq_len(const unsigned char *p, size_t n);

/* Characters a terminal or a text renderer acts on rather than shows: C0 controls, DEL,
 * C1 controls (U+0080-U+009F; U+009B is CSI to some terminals) and the bidirectional
 * formatting characters (U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069: text from
 * a log could reorder what a reader sees of the rest of the line). Every writer of log
 * text to a terminal or a table uses these. */
bool utf8_is_control(uint32_t cp);
/* The length of such a character at p[0..n) (n > 0), else 0 (also where the bytes do not
 * decode: the caller's replacement covers them). */
size_t utf8_control_len(const unsigned char *p, size_t n);
/* Overwrite in place, byte for byte with @rep, every such character of s[0, len), and
 * every byte that starts no valid UTF-8 sequence (a message or a label for a terminal;
 * the length does not change). With @keep_lines a newline and a tab stay. */
void utf8_defang(char *s, size_t len, char rep, bool keep_lines);

/* Terminal columns of the NUL-terminated @s in a table: 1 per ASCII character, 2 per
 * other character (a conservative bound, so a row never passes its width). */
size_t utf8_columns(const char *s);

/* True when the whole span is valid UTF-8. ASCII runs are skipped 16 bytes at a time
 * (core/bytescan.h). */
bool utf8_valid(struct span s);

/* Encode cp (<= 0x10FFFF, not a surrogate) into out[0..4); returns the length. */
size_t utf8_encode(uint32_t cp, char out[4]);

#endif
