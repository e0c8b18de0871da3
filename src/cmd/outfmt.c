/* SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/outfmt.h"
#include "core/escape.h"
#include "core/sbuf.h"
#include "core/utf8.h"

const char *const outfmt_names[] = { "table", "json", "md", "csv", NULL };

enum outfmt outfmt_from_name(const char *name)
{
    for (int i = 0; name && outfmt_names[i]; i++)
        if (!strcmp(name, outfmt_names[i]))
            return (enum outfmt)i;
    return OUTFMT_TABLE;
}

bool outfmt_color(FILE *f)
{
    const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
    if (nc && *nc)
        return false;
    if (term && !strcmp(term, "dumb"))
        return false;
    return isatty(fileno(f));
}

size_t outfmt_cell(FILE *f, const char *s, size_t width, bool pad, bool rpad)
{
    struct sbuf out = SBUF_INIT;
    size_t cols = 0, n = s ? strlen(s) : 0;
    bool space = false, cut = false;
    const unsigned char *p = (const unsigned char *)(s ? s : "");

    for (size_t i = 0; i < n;) {
        size_t len = utf8_seq_len(p + i, n - i);
        size_t w = len == 1 ? 1 : 2;
        if (len == 1 && (p[i] < 0x20 || p[i] == 0x7f || p[i] == ' ')) {
            space = true;
            i++;
            continue;
        }
        if (len > 1 && utf8_control_len(p + i, len)) { /* C1, bidi: a space, as C0 are */
            space = true;
            i += len;
            continue;
        }
        size_t need = w + (space && cols ? 1 : 0);
        if (cols + need > width) {
            cut = true;
            break;
        }
        if (space && cols) {
            if (sbuf_addch(&out, ' ') < 0)
                break;
            cols++;
        }
        space = false;
        if (len == 0) { /* invalid byte: show U+FFFD */
            if (sbuf_addstr(&out, "\xef\xbf\xbd") < 0)
                break;
            i++;
        } else {
            if (sbuf_add(&out, p + i, len) < 0)
                break;
            i += len;
        }
        cols += w;
    }
    if (cut && width >= 1) {
        /* Make room for the ellipsis (1 column). */
        while (cols + 1 > width && out.len) {
            size_t k = out.len - 1;
            while (k > 0 && ((unsigned char)out.buf[k] & 0xc0) == 0x80)
                k--;
            cols -= (unsigned char)out.buf[k] < 0x80 ? 1 : 2;
            sbuf_setlen(&out, k);
        }
        if (sbuf_addstr(&out, "\xe2\x80\xa6") == 0)
            cols++;
    }
    if (rpad)
        for (size_t i = cols; i < width; i++)
            fputc(' ', f);
    fwrite(out.buf, 1, out.len, f);
    if (pad && !rpad)
        for (size_t i = cols; i < width; i++)
            fputc(' ', f);
    sbuf_release(&out);
    return (pad || rpad) && cols < width ? width : cols;
}

/* Write an escaped text through core/escape.h (the project's one escaper per context). */
static void put_escaped(FILE *f, const char *s, int (*esc)(struct sbuf *, struct span))
{
    struct sbuf sb = SBUF_INIT;
    if (esc(&sb, span_cstr(s ? s : "")) < 0) {
        /* default cap is 1 GiB: not reached by stored texts (16 KiB each) */
    }
    fwrite(sb.buf, 1, sb.len, f);
    sbuf_release(&sb);
}

void outfmt_csv(FILE *f, const char *s)
{
    put_escaped(f, s, escape_csv);
}

void outfmt_md(FILE *f, const char *s)
{
    put_escaped(f, s, escape_md);
}

void outfmt_delim_header(FILE *f, bool md, const char *const *names, size_t n, const char *right)
{
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%s", md ? (i ? " | " : "| ") : (i ? "," : ""), names[i]);
    if (!md) {
        fputs("\r\n", f);
        return;
    }
    fputs(" |\n|", f);
    for (size_t i = 0; i < n; i++) {
        bool r = right && *right == 'r';
        if (right && *right)
            right++;
        fputs(r ? "---:|" : "---|", f);
    }
    fputc('\n', f);
}

void outfmt_delim_row(FILE *f, bool md, const char *const *cells, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fputs(md ? (i ? " | " : "| ") : (i ? "," : ""), f);
        if (md)
            outfmt_md(f, cells[i]);
        else
            outfmt_csv(f, cells[i]);
    }
    fputs(md ? " |\n" : "\r\n", f);
}

json_t *outfmt_json_str(const char *s)
{
    if (!s)
        return json_null();
    json_t *j = json_string(s);
    if (j)
        return j;
    /* Invalid UTF-8: replace the bad bytes. */
    struct sbuf out = SBUF_INIT;
    size_t n = strlen(s);
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t len = utf8_seq_len(p + i, n - i);
        int rc = len ? sbuf_add(&out, p + i, len) : sbuf_addstr(&out, "\xef\xbf\xbd");
        if (rc < 0)
            break;
        i += len ? len : 1;
    }
    j = json_string(out.buf);
    sbuf_release(&out);
    return j ? j : json_string("");
}

json_t *outfmt_json_ms(double ms, bool exact)
{
    if (!isfinite(ms))
        return json_null();
    /* Rounded by printf, as the table, CSV and Markdown print it (and the report): a mean
     * of 0.3665 ms is 0.366 in all of them (round(ms * 1000) made it 0.367 here alone). */
    char buf[400];
    snprintf(buf, sizeof(buf), exact ? "%.3f" : "%.6g", ms);
    return json_real(strtod(buf, NULL));
}

int outfmt_json_dump(json_t *doc)
{
    int rc = json_dumpf(doc, stdout, JSON_COMPACT | JSON_REAL_PRECISION(15));
    if (rc == 0 && fputc('\n', stdout) == EOF)
        rc = -1;
    return rc;
}

const char *outfmt_duration(double ms, char *buf, size_t n)
{
    if (ms < 1)
        snprintf(buf, n, "%.3fms", ms);
    else if (ms < 100)
        snprintf(buf, n, "%.2fms", ms);
    else if (ms < 1000)
        snprintf(buf, n, "%.0fms", ms);
    else if (ms < 60e3)
        snprintf(buf, n, "%.2fs", ms / 1e3);
    else if (ms < 3600e3)
        snprintf(buf, n, "%.1fm", ms / 60e3);
    else if (ms < 1000 * 3600e3)
        snprintf(buf, n, "%.1fh", ms / 3600e3);
    else
        snprintf(buf, n, "%.0fh", ms / 3600e3);
    return buf;
}

const char *outfmt_count(unsigned long long v, char *buf, size_t n)
{
    if (v < 10000000ULL)
        snprintf(buf, n, "%llu", v);
    else if (v < 1000000000ULL)
        snprintf(buf, n, "%.1fM", (double)v / 1e6);
    else if (v < 1000000000000ULL)
        snprintf(buf, n, "%.1fG", (double)v / 1e9);
    else
        snprintf(buf, n, "%.1fT", (double)v / 1e12);
    return buf;
}
