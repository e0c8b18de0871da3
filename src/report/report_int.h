/* SPDX-License-Identifier: MIT */
/*
 * report_int - helpers shared by the report writers (private to report/): number
 * formats, so that HTML, Markdown and JSON print the same numbers the same way, and
 * the text cuts and redaction every writer applies to tenant data.
 */
#ifndef SIFT_REPORT_REPORT_INT_H
#define SIFT_REPORT_REPORT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"
#include "report/report.h"

/* Query text shown in tables (a cut) and in detail blocks (HTML only). */
#define REPORT_SHORT_TEXT  100
#define REPORT_DETAIL_TEXT (8u << 10)
/* Samples (error, reject, deadlock) as shown. */
#define REPORT_SAMPLE_TEXT 600

/* A JSON number: integers exactly, others with 3 decimals and no trailing zeros; NaN
 * and infinities as null. HTML data-v attributes use the same text, so a test can
 * compare them byte for byte. */
SIFT_WUR int fmt_json_num(struct sbuf *sb, double v);
void fmt_plain_num(char *buf, size_t size, double v); /* same text, "" for NaN */
/* A percentile (the latency sketch's estimate, within 1 %) as `pgsift top` and `pgsift
 * plans` print it: 6 significant digits (microseconds would move a 0.066 ms p95 by more
 * than 1 %), no exponent from 1e-4 up; "" for NaN. The JSON and HTML data-v of the keys
 * fmt_key_is_estimate() names ("p50_ms", "p95_ms", "p99_ms") are written so. */
void fmt_est_num(char *buf, size_t size, double v);
bool fmt_key_is_estimate(const char *key);

/* Human formats for HTML and Markdown cells; "–" (U+2013) for NaN. */
#define FMT_MAX 48
void fmt_ms(char *buf, size_t size, double ms);   /* 0.123 ms, 12.3 ms, 1.23 s, 2.50 min, 1.20 h */
void fmt_count(char *buf, size_t size, double n); /* 1,234,567 */
/* "51 more groups (51 errors) are not listed" for the error groups past the list
 * (report_errors_rest()); false, and nothing written, when every group is listed. */
bool fmt_errors_rest(const struct report *r, char *buf, size_t size);
/* The sentence that says which time the totals cover ("The store keeps this period's
 * oldest data per hour or day ..."), when rolled-up rows make it differ from the period
 * (report.counted_from_us, counted_to_us). */
bool fmt_counted_period(const struct report *r, char *buf, size_t size);
/* "12 more client hosts (40 sessions) are not listed", when @l has a rest. */
bool fmt_items_rest(const struct report_items *l, char *buf, size_t size);
void fmt_bytes(char *buf, size_t size, double b);                 /* 512 B, 1.5 MiB */
void fmt_seconds(char *buf, size_t size, double s);               /* 12.3 s, 5.2 min */
void fmt_change(char *buf, size_t size, double cur, double base); /* +12.3%, -4.0%, new, – */
void fmt_ratio(char *buf, size_t size, double r);                 /* x2.35 */
void fmt_fingerprint(char buf[17], uint64_t fp);                  /* 16 lower-case hex digits */
void fmt_local(const struct report *r, int64_t us, char *buf, size_t size); /* 2026-11-24 10:00 */
/* The start of a store bucket of @width_s seconds, as fmt_local(), with " (that hour)" or
 * " (that day)" when the bucket is that coarse (rolled-up rows). */
void fmt_bucket_local(const struct report *r, int64_t us, int64_t width_s, char *buf, size_t size);
void fmt_bucket_label(const struct report *r, size_t i, char *buf, size_t size); /* 10:00 */
/* "1.2 s in all, max 300 ms, p95 120 ms" of @s in unit @fmt; false (nothing written)
 * when @s has no values. @buf holds FMT_STAT_MAX bytes. */
#define FMT_STAT_MAX (4 * FMT_MAX)
bool fmt_stat(char *buf, size_t size, const struct report_stat *s,
              void (*fmt)(char *, size_t, double));
/* The same with the mean first, for numbers whose sum says nothing (a longest sync, an
 * estimate, dead tuples still there): "mean X, max Y, p95 Z". */
bool fmt_stat_mean(char *buf, size_t size, const struct report_stat *s,
                   void (*fmt)(char *, size_t, double));

/* Bucket bounds: "0.5 ms", "5 s", "64 MiB" (%g, for round numbers). */
void fmt_short_ms(char *buf, size_t size, double ms);
void fmt_short_s(char *buf, size_t size, double s);
void fmt_short_bytes(char *buf, size_t size, double b);
/* Bucket @i of @h: "≤10ms" (its upper bound, by @fmt), the last one ">10s". */
void fmt_hist_label(char *buf, size_t size, const struct report_hist *h, size_t i,
                    void (*fmt)(char *, size_t, double));

/* svg_fmt adapters. */
void fmt_ms_axis(char *buf, size_t size, double ms);

double query_mean(const struct report_query *q);

/* At most @max bytes of @s, cut on a UTF-8 boundary; *cut says whether it was cut. */
struct span text_cut(struct span s, size_t max, int *cut);

/* The text a writer may show for a sample: redacted unless REPORT_KEEP_LITERALS, cut to
 * @max bytes. Resets and fills @tmp; returns its span (or -1 via *err on cap). */
struct span sample_text(struct sbuf *tmp, struct span s, unsigned flags, size_t max, int *err);

/* The number shown for a figure (counts as counts, durations as ms). */
void fmt_figure(char *buf, size_t size, enum report_figure f, double v);

/*
 * The writers' output (html.c, md.c, json.c): appends that stop at the first failure
 * (the sbuf's cap), remembered in w->err, which the render function returns once at the
 * end; so no call site checks a result. @esc is the format's escaping (core/escape.h),
 * applied by rw_e()/rw_ec(); everything from the model goes through it or rw_sample().
 */
struct rw {
    struct sbuf *sb;
    const struct report *r;
    const struct report_opts *o; /* may be NULL */
    unsigned flags;              /* o->flags, or 0 */
    struct sbuf tmp;             /* scratch for samples */
    int err;                     /* 0, or -1 once an append failed */
    int (*esc)(struct sbuf *sb, struct span s);
};

void rw_init(struct rw *w, struct sbuf *sb, const struct report *r, const struct report_opts *o,
             int (*esc)(struct sbuf *sb, struct span s));
/* Release the scratch; returns w->err. */
int rw_finish(struct rw *w);
void rw_s(struct rw *w, const char *s);                          /* verbatim (markup, fixed text) */
void rw_raw(struct rw *w, const void *p, size_t n);              /* verbatim bytes */
void rw_f(struct rw *w, const char *fmt, ...) SIFT_PRINTF(2, 3); /* verbatim, formatted */
void rw_e(struct rw *w, struct span s);  /* escaped; absent: JSON null, else nothing */
void rw_ec(struct rw *w, const char *s); /* escaped; NULL writes nothing */
void rw_check(struct rw *w, int rc);     /* record a failure of another writer */
/* sample_text() of @s into w->tmp (redacted unless --keep-literals, cut to @max). */
struct span rw_sample(struct rw *w, struct span s, size_t max);

/* Alerts by start time, rules by how many episodes they had (report_read_alerts() and
 * models built by hand). */
void report_sort_alerts(struct report *r);

/* Style sheet and sort script (embedded from src/report/assets/). */
const char *report_css(size_t *len);
const char *report_js(size_t *len);

int report_render_html(const struct report *r, const struct report_opts *o, struct sbuf *sb);
int report_render_md(const struct report *r, const struct report_opts *o, struct sbuf *sb);
int report_render_json(const struct report *r, const struct report_opts *o, struct sbuf *sb);

#endif
