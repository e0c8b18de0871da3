/* SPDX-License-Identifier: MIT */
/*
 * cmd_fingerprint - `pgsift fingerprint [--lines] [SQL...]`: normalize and fingerprint
 * SQL given as arguments (one statement each) or on standard input (all of it one
 * statement, or one per line with --lines). Prints "<fingerprint>\t<canonical>" per
 * statement, or with --format json one JSON object per line with the sample, flags and
 * tokens. Literal values never appear in the output (docs/fingerprint.md).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/limits.h"
#include "core/opts.h"
#include "core/sbuf.h"
#include "core/utf8.h"
#include "normalize/normalize.h"

/* Sample length kept by the command (the store will cap its own copy). */
#define SAMPLE_MAX (16u << 10)

struct fp_run {
    struct normalizer *nz; /* fingerprints (its tokens feed --format json) */
    struct normalizer *rz; /* samples */
    bool json, sample;
    struct sbuf out; /* one output line */
    struct sbuf red; /* the sample */
};

/* JSON string body: escapes, and U+FFFD for bytes that are not valid UTF-8 (the input
 * is raw bytes in any server encoding). */
static int json_str(struct sbuf *o, const char *p, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    if (sbuf_addch(o, '"') < 0)
        return -1;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)p[i];
        int r = 0;
        if (c == '"' || c == '\\') {
            char e[2] = { '\\', (char)c };
            r = sbuf_add(o, e, 2);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            if (c == '\n')
                r = sbuf_add(o, "\\n", 2);
            else if (c == '\t')
                r = sbuf_add(o, "\\t", 2);
            else
                r = sbuf_add(o, e, 6);
            i++;
        } else if (c < 0x80) {
            r = sbuf_addch(o, (char)c);
            i++;
        } else {
            /* Length of a well-formed UTF-8 sequence at i, or 0. */
            size_t n = c >= 0xc2 && c <= 0xdf   ? 2
                       : c >= 0xe0 && c <= 0xef ? 3
                       : c >= 0xf0 && c <= 0xf4 ? 4
                                                : 0;
            bool ok = n && i + n <= len;
            for (size_t k = 1; ok && k < n; k++)
                ok = ((unsigned char)p[i + k] & 0xc0) == 0x80;
            if (ok && n == 3) {
                unsigned char c1 = (unsigned char)p[i + 1];
                ok = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0);
            } else if (ok && n == 4) {
                unsigned char c1 = (unsigned char)p[i + 1];
                ok = !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 >= 0x90);
            }
            if (ok) {
                r = sbuf_add(o, p + i, n);
                i += n;
            } else {
                r = sbuf_add(o, "\xef\xbf\xbd", 3);
                i++;
            }
        }
        if (r < 0)
            return -1;
    }
    return sbuf_addch(o, '"');
}

/* Table output: the sample keeps the statement's layout; tabs and newlines would break
 * the one-line, tab-separated format, so they are written as \t and \n, and the other
 * characters a terminal acts on (core/utf8.h) byte by byte as \xHH. */
static int table_str(struct sbuf *o, const char *p, size_t len)
{
    for (size_t i = 0, rest = 0; i < len; i++) {
        int r;
        if (!rest) /* bytes left of a control character */
            rest = utf8_control_len((const unsigned char *)p + i, len - i);
        bool ctl = rest > 0;
        if (rest)
            rest--;
        if (p[i] == '\n')
            r = sbuf_add(o, "\\n", 2);
        else if (p[i] == '\r')
            r = sbuf_add(o, "\\r", 2);
        else if (p[i] == '\t')
            r = sbuf_add(o, "\\t", 2);
        else if (p[i] == '\\')
            r = sbuf_add(o, "\\\\", 2);
        else if (ctl)
            r = sbuf_addf(o, "\\x%02x", (unsigned char)p[i]); /* NUL, ESC, CSI: not raw */
        else
            r = sbuf_addch(o, p[i]);
        if (r < 0)
            return -1;
    }
    return 0;
}

static int add_flags(struct sbuf *o, unsigned flags)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {
        { NORM_TRUNCATED, "truncated" },         { NORM_UNTERMINATED, "unterminated" },
        { NORM_MULTI, "multi_statement" },       { NORM_EMPTY, "empty" },
        { NORM_LIST, "list_collapsed" },         { NORM_VALUES, "values_collapsed" },
        { NORM_BACKSLASH, "backslash_escapes" },
    };
    bool first = true;
    if (sbuf_addch(o, '[') < 0)
        return -1;
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        if (!(flags & names[i].bit))
            continue;
        if (sbuf_addf(o, "%s\"%s\"", first ? "" : ",", names[i].name) < 0)
            return -1;
        first = false;
    }
    return sbuf_addch(o, ']');
}

static int json_line(struct fp_run *run, struct span sql, const struct norm_result *r,
                     const char *fp)
{
    struct sbuf *o = &run->out;
    char hi[17];

    normalize_fp_hex(r->fingerprint_hi, hi);
    if (sbuf_addf(o, "{\"fingerprint\":\"%s\",\"fingerprint_hi\":\"%s\",\"version\":%d,", fp, hi,
                  NORM_FP_VERSION) < 0 ||
        sbuf_addstr(o, "\"canonical\":") < 0 || json_str(o, r->canonical.p, r->canonical.len) < 0 ||
        sbuf_addstr(o, ",\"sample\":") < 0 || json_str(o, run->red.buf, run->red.len) < 0 ||
        sbuf_addstr(o, ",\"flags\":") < 0 || add_flags(o, r->flags) < 0 ||
        sbuf_addf(o, ",\"constants\":%u,\"params\":%u,\"tokens\":[", r->constants, r->params) < 0)
        return -1;
    size_t n = normalize_token_count(run->nz);
    for (size_t i = 0; i < n; i++) {
        struct norm_token t;
        normalize_token(run->nz, i, &t);
        if (sbuf_addf(o, "%s{\"kind\":\"%s\",\"offset\":%u,\"length\":%u", i ? "," : "", t.kind,
                      t.offset, t.length) < 0)
            return -1;
        if (*t.role && sbuf_addf(o, ",\"role\":\"%s\"", t.role) < 0)
            return -1;
        if (t.unterminated && sbuf_addstr(o, ",\"unterminated\":true") < 0)
            return -1;
        /* Constants are tenant data: their text is never printed. */
        if (strcmp(t.role, "constant") != 0 &&
            (sbuf_addstr(o, ",\"text\":") < 0 || json_str(o, sql.p + t.offset, t.length) < 0))
            return -1;
        if (sbuf_addch(o, '}') < 0)
            return -1;
    }
    return sbuf_addstr(o, "]}\n");
}

static int one(struct fp_run *run, struct span sql, struct diag *d)
{
    struct norm_result r;
    char fp[17];

    normalize_fingerprint(run->nz, sql, &r);
    normalize_fp_hex(r.fingerprint, fp);
    if (run->json || run->sample) {
        sbuf_reset(&run->red);
        /* A second normalizer: the first keeps the tokens json_line() prints. */
        (void)normalize_redact(run->rz, sql, REDACT_ALL | REDACT_STATEMENT, SAMPLE_MAX, &run->red);
    }
    sbuf_reset(&run->out);
    int rc;
    if (run->json) {
        rc = json_line(run, sql, &r, fp);
    } else {
        rc = sbuf_addf(&run->out, "%s\t", fp) < 0 ||
                     table_str(&run->out, r.canonical.p, r.canonical.len) < 0 ||
                     (run->sample && (sbuf_addch(&run->out, '\t') < 0 ||
                                      table_str(&run->out, run->red.buf, run->red.len) < 0)) ||
                     sbuf_addch(&run->out, '\n') < 0
                 ? -1
                 : 0;
    }
    if (rc < 0)
        return diag_set(d, DIAG_LIMIT, "fingerprint output too long");
    if (fwrite(run->out.buf, 1, run->out.len, stdout) != run->out.len)
        return diag_errno(d, DIAG_IO, errno, "cannot write to standard output");
    return 0;
}

/* Read one statement from @f: the rest of the input, or one line. Bytes beyond
 * SIFT_MAX_STATEMENT_BYTES + 1 are read and dropped (the normalizer flags the statement
 * truncated). Returns 1 when a statement was read, 0 at the end, -1 on error. */
static int read_statement(FILE *f, bool line, struct sbuf *sb, struct diag *d)
{
    int c;
    bool any = false;

    sbuf_reset(sb);
    while ((c = getc(f)) != EOF) {
        any = true;
        if (line && c == '\n')
            break;
        if (sb->len <= SIFT_MAX_STATEMENT_BYTES && sbuf_addch(sb, (char)c) < 0)
            return diag_set(d, DIAG_LIMIT, "statement too long");
    }
    if (ferror(f))
        return diag_errno(d, DIAG_IO, errno, "cannot read standard input");
    return any;
}

int cmd_fingerprint(int argc, char **argv, const struct cli *cli, struct diag *d)
{
    static const char *const formats[] = { "table", "json", NULL };
    static const char synopsis[] = "pgsift fingerprint [--lines] [--format F] [SQL...]";
    bool lines = false, sample = false;
    struct norm_opts no = { 0 };
    const char *format = "table";
    const struct opt opts[] = {
        OPT_BOOL_(0, "lines", &lines, "standard input holds one statement per line"),
        OPT_CHOICE_(0, "format", &format, "F", "table (default) or json (one object per line)",
                    formats),
        OPT_BOOL_(0, "sample", &sample, "table: add the statement with its constants replaced"),
        OPT_BOOL_(0, "merge-params", &no.merge_params, "$n parameters hash like constants"),
        OPT_BOOL_(0, "keep-lists", &no.keep_lists, "do not collapse constant IN/ARRAY lists"),
        OPT_BOOL_(0, "keep-values", &no.keep_values_rows, "do not collapse identical VALUES rows"),
        OPT_BOOL_(0, "numeric-types", &no.numeric_types,
                  "int4, int8 and numeric constants differ (as in pg_stat_statements)"),
        OPT_BOOL_(0, "backslash-quotes", &no.backslash_quotes,
                  "standard_conforming_strings = off: backslash escapes in '...'"),
        OPT_END_(),
    };

    (void)cli;
    int n = opts_parse(opts, argc - 1, argv + 1, d);
    if (n == -2) {
        opts_usage(stdout, synopsis, opts);
        return 0;
    }
    if (n < 0)
        return -1;

    struct fp_run run = { .nz = normalize_new(&no),
                          .rz = normalize_new(&no),
                          .json = !strcmp(format, "json"),
                          .sample = sample,
                          .out = SBUF_INIT,
                          .red = SBUF_INIT };
    struct sbuf in = SBUF_INIT;
    int rc = 0;

    if (n > 0) {
        if (lines) {
            rc = diag_set(d, DIAG_USAGE, "--lines reads standard input; give no SQL arguments");
            goto out;
        }
        for (int i = 1; i <= n && rc == 0; i++)
            rc = one(&run, span_cstr(argv[i]), d);
    } else {
        int got;
        while ((got = read_statement(stdin, lines, &in, d)) > 0) {
            if (lines && span_trim(sbuf_span(&in)).len == 0)
                continue; /* blank lines are not statements */
            if ((rc = one(&run, sbuf_span(&in), d)) < 0)
                break;
            if (!lines)
                break;
        }
        if (got < 0)
            rc = -1;
    }
out:
    sbuf_release(&in);
    sbuf_release(&run.out);
    sbuf_release(&run.red);
    normalize_free(run.nz);
    normalize_free(run.rz);
    return rc;
}
