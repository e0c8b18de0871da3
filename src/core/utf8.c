/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "core/bytescan.h"
#include "core/utf8.h"

size_t utf8_decode(const unsigned char *p, size_t len, uint32_t *cp)
{
    unsigned char c = p[0];

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c < 0xC2)
        return 0; /* continuation byte or overlong 2-byte lead */
    if (c < 0xE0) {
        if (len < 2 || (p[1] & 0xC0) != 0x80)
            return 0;
        *cp = ((uint32_t)(c & 0x1F) << 6) | (p[1] & 0x3F);
        return 2;
    }
    if (c < 0xF0) {
        if (len < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
            return 0;
        if (c == 0xE0 && p[1] < 0xA0)
            return 0; /* overlong */
        if (c == 0xED && p[1] >= 0xA0)
            return 0; /* surrogate */
        *cp = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
        return 3;
    }
    if (c < 0xF5) {
        if (len < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && p[1] < 0x90)
            return 0; /* overlong */
        if (c == 0xF4 && p[1] >= 0x90)
            return 0; /* above U+10FFFF */
        *cp = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(p[1] & 0x3F) << 12) |
              ((uint32_t)(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
        return 4;
    }
    return 0;
}

size_t utf8_seq_len(const unsigned char *p, size_t n)
{
    uint32_t cp;

    return utf8_decode(p, n, &cp);
}

bool utf8_valid(struct span s)
{
    const unsigned char *p = (const unsigned char *)s.p;
    size_t i = 0;

    while (i < s.len) {
        i += bytescan_ascii_len(s.p + i, s.len - i);
        if (i == s.len)
            break;
        uint32_t cp;
        size_t n = utf8_decode(p + i, s.len - i, &cp);
        if (!n)
            return false;
        i += n;
    }
    return true;
}

size_t utf8_encode(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

bool utf8_is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c || cp == 0x200e ||
           cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

size_t utf8_control_len(const unsigned char *p, size_t n)
{
    uint32_t cp;
    size_t len = utf8_decode(p, n, &cp);
    return len && utf8_is_control(cp) ? len : 0;
}

size_t utf8_columns(const char *s)
{
    size_t w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x80)
            w++;
        else if ((*p & 0xc0) != 0x80) /* (a continuation byte is part of the character) */
            w += 2;
    return w;
}

void utf8_defang(char *s, size_t len, char rep, bool keep_lines)
{
    unsigned char *p = (unsigned char *)s;
    for (size_t i = 0; i < len; i++) {
        size_t n = utf8_control_len(p + i, len - i);
        if (!n && p[i] >= 0x80) {
            size_t seq = utf8_seq_len(p + i, len - i);
            if (seq) { /* a character shown as it is */
                i += seq - 1;
                continue;
            }
            n = 1; /* a byte that starts no character: raw 0x9b is CSI to 8-bit terminals */
        }
        if (!n || (keep_lines && (p[i] == '\n' || p[i] == '\t')))
            continue;
        memset(p + i, rep, n);
        i += n - 1;
    }
}
