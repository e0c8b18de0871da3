/* SPDX-License-Identifier: MIT */
/*
 * utf8 - validation of UTF-8 byte strings (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF), with an ASCII fast path.
 *
 * Log values are bytes in the server encoding of each database (formats.md §11), so
 * parsers check fields and writers replace invalid bytes with U+FFFD. Owns nothing.
 */
#ifndef SIFT_CORE_UTF8_H
#define SIFT_CORE_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when p[0, n) is valid UTF-8. */
bool utf8_valid(const char *p, size_t n);

/* Length of the valid UTF-8 sequence starting at p[0] (1..4), or 0 when the byte at p
 * starts no valid sequence within n bytes (the caller replaces that one byte). */
size_t utf8_seq_len(const unsigned char *p, size_t n);

#endif
