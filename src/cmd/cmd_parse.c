/* SPDX-License-Identifier: MIT */
/*
 * cmd_parse - `pgsift parse`: decode logs to NDJSON events on stdout (INTERFACE.md), or
 * with --stats a summary: counts per format, kind, severity and SQLSTATE, and the
 * rejects with samples (table or JSON, --stats-format).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd/cmd.h"
#include "cmd/event_json.h"
#include "core/log.h"
#include "core/opts.h"
#include "core/escape.h"
#include "core/utf8.h"
#include "core/xalloc.h"
#include "event.h"
#include "normalize/normalize.h"
#include "parse/parse.h"
#include "pipeline.h"

#define OUT_FLUSH_BYTES (256u << 10)

struct code_count {
    char code[6];
    uint64_t n;
};

struct parse_cmd {
    bool stats_only;
    bool keep_literals;               /* --stats: reject samples unredacted */
    struct event_json_redact *redact; /* NULL with --keep-literals */
    struct sbuf out;
    bool write_failed;
    /* --stats */
    uint64_t kinds[EV_KIND_COUNT];
    uint64_t severities[SEV_COUNT];
    struct code_count *codes;
    size_t ncodes, codes_alloc;
};

static int flush_out(struct parse_cmd *c, struct diag *d)
{
    if (c->out.len && fwrite(c->out.buf, 1, c->out.len, stdout) != c->out.len)
        return diag_set(d, DIAG_IO, "cannot write to standard output");
    sbuf_reset(&c->out);
    return 0;
}

static void count_code(struct parse_cmd *c, const char *code)
{
    for (size_t i = 0; i < c->ncodes; i++) {
        if (!strcmp(c->codes[i].code, code)) {
            c->codes[i].n++;
            return;
        }
    }
    XGROW(c->codes, c->ncodes + 1, c->codes_alloc);
    memcpy(c->codes[c->ncodes].code, code, 6);
    c->codes[c->ncodes++].n = 1;
}

static int sink(void *ctx, struct event *ev, struct diag *d)
{
    struct parse_cmd *c = ctx;

    if (c->stats_only) {
        c->kinds[ev->kind < EV_KIND_COUNT ? ev->kind : EV_OTHER]++;
        c->severities[ev->severity < SEV_COUNT ? ev->severity : SEV_NONE]++;
        if (ev->sqlstate[0])
            count_code(c, ev->sqlstate);
        return 0;
    }
    if (event_json_write(ev, &c->out, c->redact) < 0)
        return diag_set(d, DIAG_LIMIT, "event too large to print at %.*s:%" PRIu64,
                        (int)ev->src_name.len, ev->src_name.p, ev->src_line);
    if (c->out.len >= OUT_FLUSH_BYTES)
        return flush_out(c, d);
    return 0;
}

/* What the events' times say of a source, with or without --stats: a log that looks
 * newest-first, records without a time. */
static void note_times(const struct pipeline_result *r)
{
    const struct parse_stats *st = &r->stats;

    if (parse_stats_newest_first(st))
        log_warn("'%s': %s", r->name, PARSE_NEWEST_FIRST_NOTE);
    if (st->undated)
        log_note("'%s': %" PRIu64 " record%s without a time (the log_line_prefix has no %%m, %%t "
                 "or %%n, and no syslog header gave one)",
                 r->name, st->undated, st->undated == 1 ? "" : "s");
}

/* Rejects, foreign lines and damage are never silent: one summary per source. */
static void warn_rejects(const struct pipeline_result *r)
{
    const struct parse_stats *st = &r->stats;

    if (r->nothing_parsed || (!st->rejects && !st->foreign_lines && !st->damaged))
        return;
    struct sbuf sb = SBUF_INIT;
    int ok = sbuf_addf(&sb, "'%s': %" PRIu64 " record%s rejected", r->name, st->rejects,
                       st->rejects == 1 ? "" : "s");
    for (size_t i = 0; ok == 0 && i < st->nreasons; i++)
        ok = sbuf_addf(&sb, "%s%s %" PRIu64, i ? ", " : " (", st->reasons[i].reason,
                       st->reasons[i].records);
    if (ok == 0 && st->nreasons)
        ok = sbuf_addstr(&sb, ")");
    if (ok == 0 && st->foreign_lines)
        ok = sbuf_addf(&sb, ", %" PRIu64 " foreign line%s", st->foreign_lines,
                       st->foreign_lines == 1 ? "" : "s");
    for (size_t i = 0; ok == 0 && i < st->damage.nsamples; i++)
        ok = sbuf_addf(&sb, "%s %s", i ? ";" : ", input damaged:", st->damage.samples[i].detail);
    for (size_t i = 0; ok == 0 && i < st->nreasons; i++) {
        const struct parse_reason *rs = &st->reasons[i];
        if (!rs->nsamples)
            continue;
        const struct parse_sample *s = &rs->samples[0];
        ok = sbuf_addf(&sb, "\n    first: %s:%" PRIu64 ": %s%s%s", s->source, s->line, rs->reason,
                       s->detail ? ": " : "", s->detail ? s->detail : "");
    }
    log_warn("%s", sb.buf);
    sbuf_release(&sb);
}

/* ---- --stats output ------------------------------------------------------------------ */

static json_t *jstr(const char *p, size_t n)
{
    struct sbuf sb = SBUF_INIT;
    json_t *j;
    if (utf8_valid(span_make(p, n)))
        return json_stringn(p, n);
    /* escape_json_string repairs; strip its quotes and unescape via jansson. */
    if (escape_json_string(&sb, span_make(p, n)) < 0)
        return json_string("");
    j = json_loadb(sb.buf, sb.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    sbuf_release(&sb);
    return j ? j : json_string("");
}

/* A reject sample as shown: the line holds tenant data, redacted like the store's
 * reject_samples unless --keep-literals. Borrowed from @s or @tmp. */
static struct span sample_text(const struct parse_cmd *c, const struct parse_sample *s,
                               struct sbuf *tmp)
{
    struct span in = span_make(s->text, s->text_len);
    if (c->keep_literals || !s->text)
        return in;
    sbuf_reset(tmp);
    if (redact_rejected(tmp, in) < 0) {
        /* cut: what was appended is redacted */
    }
    return sbuf_span(tmp);
}

static json_t *reason_json(const struct parse_cmd *c, const struct parse_reason *r)
{
    struct sbuf tmp = SBUF_INIT;
    json_t *o = json_object();
    json_t *samples = json_array();
    json_object_set_new(o, "reason", json_string(r->reason));
    json_object_set_new(o, "count", json_integer((json_int_t)r->records));
    json_object_set_new(o, "lines", json_integer((json_int_t)r->lines));
    for (size_t i = 0; i < r->nsamples; i++) {
        const struct parse_sample *s = &r->samples[i];
        json_t *js = json_object();
        char src[64];
        snprintf(src, sizeof(src), ":%" PRIu64, s->line);
        size_t n = strlen(s->source);
        char *full = xmalloc(n + strlen(src) + 1);
        memcpy(full, s->source, n);
        memcpy(full + n, src, strlen(src) + 1);
        json_object_set_new(js, "src", jstr(full, strlen(full)));
        free(full);
        if (s->detail)
            json_object_set_new(js, "detail", jstr(s->detail, strlen(s->detail)));
        struct span text = sample_text(c, s, &tmp);
        json_object_set_new(js, "sample", jstr(text.p, text.len));
        json_array_append_new(samples, js);
    }
    sbuf_release(&tmp);
    json_object_set_new(o, "samples", samples);
    return o;
}

static json_t *stats_counts_json(const struct parse_stats *st)
{
    json_t *o = json_object();
    json_object_set_new(o, "lines", json_integer((json_int_t)st->lines));
    json_object_set_new(o, "records", json_integer((json_int_t)st->records));
    json_object_set_new(o, "events", json_integer((json_int_t)st->events));
    json_object_set_new(o, "rejects", json_integer((json_int_t)st->rejects));
    json_object_set_new(o, "reject_lines", json_integer((json_int_t)st->reject_lines));
    json_object_set_new(o, "foreign_lines", json_integer((json_int_t)st->foreign_lines));
    json_object_set_new(o, "blank_lines", json_integer((json_int_t)st->blank_lines));
    json_object_set_new(o, "invalid_utf8", json_integer((json_int_t)st->invalid_utf8));
    json_object_set_new(o, "truncated", json_integer((json_int_t)st->truncated));
    json_object_set_new(o, "forced", json_integer((json_int_t)st->forced));
    json_object_set_new(o, "damaged", json_integer((json_int_t)st->damaged));
    return o;
}

static int cmp_code(const void *a, const void *b)
{
    const struct code_count *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? 1 : -1;
    return strcmp(x->code, y->code);
}

static int print_stats_json(struct parse_cmd *c, struct pipeline_result *res, size_t n,
                            const struct parse_stats *total, struct diag *d)
{
    json_t *root = json_object();
    json_t *sources = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *s = stats_counts_json(&res[i].stats);
        json_object_set_new(s, "name", jstr(res[i].name, strlen(res[i].name)));
        json_object_set_new(s, "format", res[i].format ? json_string(res[i].format) : json_null());
        if (res[i].prefix)
            json_object_set_new(s, "prefix", jstr(res[i].prefix, strlen(res[i].prefix)));
        json_array_append_new(sources, s);
    }
    json_object_set_new(root, "sources", sources);
    json_object_set_new(root, "totals", stats_counts_json(total));
    json_t *kinds = json_object();
    for (unsigned k = 0; k < EV_KIND_COUNT; k++)
        if (c->kinds[k])
            json_object_set_new(kinds, event_kind_name(k), json_integer((json_int_t)c->kinds[k]));
    json_object_set_new(root, "kinds", kinds);
    json_t *sev = json_object();
    for (unsigned s = 0; s < SEV_COUNT; s++)
        if (c->severities[s])
            json_object_set_new(sev, s == SEV_NONE ? "unknown" : severity_name(s),
                                json_integer((json_int_t)c->severities[s]));
    json_object_set_new(root, "severities", sev);
    json_t *codes = json_object();
    for (size_t i = 0; i < c->ncodes; i++)
        json_object_set_new(codes, c->codes[i].code, json_integer((json_int_t)c->codes[i].n));
    json_object_set_new(root, "sqlstates", codes);
    json_t *rej = json_array();
    for (size_t i = 0; i < total->nreasons; i++)
        json_array_append_new(rej, reason_json(c, &total->reasons[i]));
    json_object_set_new(root, "rejects", rej);
    json_object_set_new(root, "foreign", reason_json(c, &total->foreign));
    json_object_set_new(root, "damage", reason_json(c, &total->damage));
    char *txt = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!txt)
        return diag_set(d, DIAG_INTERNAL, "cannot encode the statistics as JSON");
    int rc = printf("%s\n", txt) < 0 ? diag_set(d, DIAG_IO, "cannot write to standard output") : 0;
    free(txt);
    return rc;
}

static void print_sample(const struct parse_cmd *c, const struct parse_reason *r)
{
    struct sbuf tmp = SBUF_INIT;
    for (size_t i = 0; i < r->nsamples; i++) {
        const struct parse_sample *s = &r->samples[i];
        printf("    %s:%" PRIu64 ":%s%s ", s->source, s->line, s->detail ? " " : "",
               s->detail ? s->detail : "");
        struct span text = sample_text(c, s, &tmp);
        size_t n = text.len > 160 ? 160 : text.len;
        putchar('|');
        for (size_t k = 0, rest = 0, keep = 0; k < n; k++) {
            unsigned char ch = (unsigned char)text.p[k];
            const unsigned char *at = (const unsigned char *)text.p + k;
            if (!rest && !keep) { /* a character a terminal acts on (C0, C1, bidi) */
                rest = utf8_control_len(at, text.len - k);
                if (!rest && ch >= 0x80) {
                    keep = utf8_seq_len(at, text.len - k); /* a character, shown */
                    rest = !keep; /* a byte that starts none (raw 0x9b: CSI to some) */
                }
            }
            if (keep)
                keep--;
            if (rest) {
                rest--;
                printf("\\x%02x", ch);
            } else {
                putchar(ch);
            }
        }
        printf("|%s\n", text.len > n ? "..." : "");
    }
    sbuf_release(&tmp);
}

static int print_stats_table(struct parse_cmd *c, struct pipeline_result *res, size_t n,
                             const struct parse_stats *total, struct diag *d)
{
    printf("%-40s %-9s %10s %10s %8s %8s\n", "source", "format", "lines", "events", "rejects",
           "foreign");
    for (size_t i = 0; i < n; i++)
        printf("%-40s %-9s %10" PRIu64 " %10" PRIu64 " %8" PRIu64 " %8" PRIu64 "\n", res[i].name,
               res[i].format ? res[i].format : "-", res[i].stats.lines, res[i].stats.events,
               res[i].stats.rejects, res[i].stats.foreign_lines);
    if (n > 1)
        printf("%-40s %-9s %10" PRIu64 " %10" PRIu64 " %8" PRIu64 " %8" PRIu64 "\n", "total", "",
               total->lines, total->events, total->rejects, total->foreign_lines);
    /* the log_line_prefix each was read with (detected ones cannot be told otherwise) */
    for (size_t i = 0; i < n; i++)
        if (res[i].prefix)
            printf("%s%s: log_line_prefix '%s'\n", i ? "" : "\n", res[i].name, res[i].prefix);
    printf("\nkinds:");
    for (unsigned k = 0; k < EV_KIND_COUNT; k++)
        if (c->kinds[k])
            printf(" %s %" PRIu64, event_kind_name(k), c->kinds[k]);
    printf("\nseverities:");
    for (unsigned s = 1; s < SEV_COUNT; s++)
        if (c->severities[s])
            printf(" %s %" PRIu64, severity_name(s), c->severities[s]);
    if (c->severities[SEV_NONE])
        printf(" unknown %" PRIu64, c->severities[SEV_NONE]);
    if (c->ncodes) /* qsort(NULL, 0, ...) is undefined */
        qsort(c->codes, c->ncodes, sizeof(*c->codes), cmp_code);
    printf("\nsqlstates:");
    for (size_t i = 0; i < c->ncodes; i++)
        printf(" %s %" PRIu64, c->codes[i].code, c->codes[i].n);
    printf("\ninvalid utf-8: %" PRIu64 ", truncated: %" PRIu64 ", blank lines: %" PRIu64 "\n",
           total->invalid_utf8, total->truncated, total->blank_lines);
    if (total->nreasons || total->foreign_lines) {
        printf("\nrejects:\n");
        for (size_t i = 0; i < total->nreasons; i++) {
            const struct parse_reason *r = &total->reasons[i];
            printf("  %s: %" PRIu64 " record%s, %" PRIu64 " line%s\n", r->reason, r->records,
                   r->records == 1 ? "" : "s", r->lines, r->lines == 1 ? "" : "s");
            print_sample(c, r);
        }
        if (total->foreign_lines) {
            printf("  foreign lines: %" PRIu64 "\n", total->foreign_lines);
            print_sample(c, &total->foreign);
        }
    }
    for (size_t i = 0; i < total->damage.nsamples; i++)
        printf("\ndamaged input: %s: %s\n", total->damage.samples[i].source,
               total->damage.samples[i].detail);
    if (ferror(stdout))
        return diag_set(d, DIAG_IO, "cannot write to standard output");
    return 0;
}

int cmd_parse(int argc, char **argv, const struct cli *cli, struct diag *d)
{
    static const char *const stats_formats[] = { "table", "json", NULL };
    static const char synopsis[] = "pgsift parse [--format F] [--prefix P] [--tz Z] "
                                   "[--keep-literals] [--stats [--stats-format table|json]] "
                                   "FILE...|-";
    const char *format = "auto", *prefix = NULL, *tz = NULL, *stats_format = "table";
    bool stats = false, keep_literals = false;
    const struct opt opts[] = {
        OPT_STRING_(0, "format", &format, "F", "log format: auto (default) or one listed below"),
        OPT_STRING_(0, "prefix", &prefix, "P", "the server's log_line_prefix (stderr, syslog)"),
        OPT_STRING_(0, "tz", &tz, "Z",
                    "offset for ambiguous zone abbreviations (IST, CST) and zone-less times"),
        OPT_BOOL_(0, "keep-literals", &keep_literals,
                  "print literal values (tenant data; redacted by default)"),
        OPT_BOOL_(0, "stats", &stats, "print counts and rejects instead of events"),
        OPT_CHOICE_(0, "stats-format", &stats_format, "table|json",
                    "output of --stats (default table)", stats_formats),
        OPT_END_(),
    };
    (void)cli;

    int n = opts_parse(opts, argc - 1, argv + 1, d);
    if (n == -2) {
        opts_usage(stdout, synopsis, opts);
        printf("\nlog formats:\n");
        for (size_t i = 0; i < parse_format_count(); i++)
            printf("    %-12s %s\n", parse_format_name(i), parse_format_description(i));
        return 0;
    }
    if (n < 0)
        return -1;
    if (n == 0)
        return diag_set(d, DIAG_USAGE, "parse: no input given (FILE... or - for stdin)");
    char **files = argv + 1;

    struct parse_cmd c = { .stats_only = stats, .keep_literals = keep_literals };
    struct event_json_redact redact = { .nz = NULL, .arena = ARENA_INIT };
    sbuf_init(&c.out, 0);
    sbuf_init(&redact.tmp, 0);
    sbuf_init(&redact.tmp2, 0);
    if (!keep_literals && !stats) {
        redact.nz = normalize_new(NULL);
        c.redact = &redact;
    }
    struct pipeline_opts po = {
        .format = format,
        .prefix = prefix,
        .tz = tz,
        .sink = sink,
        .sink_ctx = &c,
        .normalize = !stats, /* --stats shows no fingerprint */
        .keep_literals = keep_literals,
    };
    if (pipeline_check(&po, d) < 0) {
        sbuf_release(&c.out);
        normalize_free(redact.nz);
        return -1;
    }

    struct pipeline_result *res = xcalloc((size_t)n, sizeof(*res));
    struct parse_stats total = { 0 };
    int rc = 0;
    size_t done = 0;
    for (int i = 0; i < n; i++) {
        int r = pipeline_run(&po, files[i], &res[i], d);
        done++;
        parse_stats_merge(&total, &res[i].stats);
        if (r < 0) {
            rc = -1;
            break;
        }
        note_times(&res[i]);
        if (!stats)
            warn_rejects(&res[i]);
    }
    if (rc == 0 && !stats)
        rc = flush_out(&c, d);
    if (rc == 0 && stats)
        rc = !strcmp(stats_format, "json") ? print_stats_json(&c, res, done, &total, d)
                                           : print_stats_table(&c, res, done, &total, d);
    /* A source that had lines but gave no event is never silent: its diagnosis is a
     * warning, or, when no source gave an event at all, the exit-3 error (the last such
     * source's diagnosis; the others are warnings). */
    size_t last_np = done;
    for (size_t i = 0; i < done; i++)
        if (res[i].nothing_parsed)
            last_np = i;
    bool exit3 = rc == 0 && total.events == 0 && last_np < done;
    for (size_t i = 0; rc == 0 && i < done; i++)
        if (res[i].nothing_parsed && !(exit3 && i == last_np))
            log_warn("%s", res[i].diagnosis.buf);
    if (exit3)
        rc = diag_set(d, DIAG_NOINPUT, "%s", res[last_np].diagnosis.buf);
    for (size_t i = 0; i < (size_t)n; i++)
        pipeline_result_release(&res[i]);
    free(res);
    free(c.codes);
    parse_stats_release(&total);
    sbuf_release(&c.out);
    sbuf_release(&redact.tmp);
    sbuf_release(&redact.tmp2);
    arena_release(&redact.arena);
    normalize_free(redact.nz);
    return rc;
}
