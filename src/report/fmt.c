/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/embedded.h"
#include "core/escape.h"
#include "core/utf8.h"
#include "report/report_int.h"

#define DASH "\xe2\x80\x93" /* U+2013, for numbers a period does not have */

static void trim(char *buf)
{
    char *dot = strchr(buf, '.');
    if (!dot)
        return;
    size_t n = strlen(buf);
    while (n > 0 && buf[n - 1] == '0')
        buf[--n] = '\0';
    if (n > 0 && buf[n - 1] == '.')
        buf[--n] = '\0';
}

void fmt_plain_num(char *buf, size_t size, double v)
{
    if (!isfinite(v)) {
        snprintf(buf, size, "%s", "");
        return;
    }
    if (v == floor(v) && fabs(v) < 9007199254740992.0) {
        snprintf(buf, size, "%.0f", v);
    } else {
        snprintf(buf, size, "%.3f", v);
        trim(buf);
    }
    if (!strcmp(buf, "-0"))
        snprintf(buf, size, "0");
}

void fmt_est_num(char *buf, size_t size, double v)
{
    if (!isfinite(v)) {
        snprintf(buf, size, "%s", "");
        return;
    }
    char t[32];
    snprintf(t, sizeof(t), "%.6g", v);
    double r = strtod(t, NULL);
    if (fabs(r) >= 1e6)
        snprintf(buf, size, "%.0f", r); /* (not "1.22223e+06") */
    else
        snprintf(buf, size, "%s", t);
}

bool fmt_key_is_estimate(const char *key)
{
    return !strcmp(key, "p50_ms") || !strcmp(key, "p95_ms") || !strcmp(key, "p99_ms");
}

int fmt_json_num(struct sbuf *sb, double v)
{
    char buf[FMT_MAX];
    if (!isfinite(v))
        return sbuf_addstr(sb, "null");
    fmt_plain_num(buf, sizeof(buf), v);
    return sbuf_addstr(sb, buf);
}

void fmt_ms(char *buf, size_t size, double ms)
{
    if (!isfinite(ms))
        snprintf(buf, size, DASH);
    else if (ms >= 0 && ms < 0.0005)
        snprintf(buf, size, "0 ms"); /* (zero to the microsecond: not "0.000 ms" beside it) */
    else if (ms < 1)
        snprintf(buf, size, "%.3f ms", ms);
    else if (ms < 10)
        snprintf(buf, size, "%.2f ms", ms);
    else if (ms < 1000)
        snprintf(buf, size, "%.1f ms", ms);
    else if (ms < 60000)
        snprintf(buf, size, "%.2f s", ms / 1000);
    else if (ms < 3600000)
        snprintf(buf, size, "%.2f min", ms / 60000);
    else
        snprintf(buf, size, "%.2f h", ms / 3600000);
}

void fmt_ms_axis(char *buf, size_t size, double ms)
{
    if (ms == 0)
        snprintf(buf, size, "0");
    else
        fmt_ms(buf, size, ms);
}

void fmt_count(char *buf, size_t size, double n)
{
    if (!isfinite(n)) {
        snprintf(buf, size, DASH);
        return;
    }
    char digits[32];
    snprintf(digits, sizeof(digits), "%.0f", fabs(n));
    size_t len = strlen(digits), o = 0;
    if (n < 0 && o + 1 < size)
        buf[o++] = '-';
    for (size_t i = 0; i < len && o + 2 < size; i++) {
        if (i && (len - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
}

void fmt_bytes(char *buf, size_t size, double b)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
    size_t u = 0;
    if (!isfinite(b)) {
        snprintf(buf, size, DASH);
        return;
    }
    while (fabs(b) >= 1024 && u + 1 < ARRAY_SIZE(units)) {
        b /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, size, "%.0f B", b);
    else
        snprintf(buf, size, "%.*f %s", fabs(b) < 10 ? 2 : 1, b, units[u]);
}

void fmt_seconds(char *buf, size_t size, double s)
{
    if (!isfinite(s))
        snprintf(buf, size, DASH);
    else
        fmt_ms(buf, size, s * 1000);
}

void fmt_change(char *buf, size_t size, double cur, double base)
{
    if (!isfinite(cur) || !isfinite(base))
        snprintf(buf, size, DASH);
    else if (base == 0)
        snprintf(buf, size, cur == 0 ? "0%%" : "new");
    else if (fabs((cur - base) / base * 100) < 0.05)
        snprintf(buf, size, "0.0%%"); /* never "-0.0%" */
    else
        snprintf(buf, size, "%+.1f%%", (cur - base) / base * 100);
}

void fmt_ratio(char *buf, size_t size, double r)
{
    if (!isfinite(r))
        snprintf(buf, size, DASH);
    else
        snprintf(buf, size, "x%.2f", r);
}

void fmt_fingerprint(char buf[17], uint64_t fp)
{
    snprintf(buf, 17, "%016" PRIx64, fp);
}

void fmt_bucket_local(const struct report *r, int64_t us, int64_t width_s, char *buf, size_t size)
{
    fmt_local(r, us, buf, size);
    size_t len = strlen(buf);
    if (width_s >= 86400)
        snprintf(buf + len, size - len, " (that day)");
    else if (width_s >= 3600)
        snprintf(buf + len, size - len, " (that hour)");
}

void fmt_local(const struct report *r, int64_t us, char *buf, size_t size)
{
    char t[TZ_LOCAL_MAX];
    if (us == INT64_MIN) {
        snprintf(buf, size, DASH);
        return;
    }
    tz_format_local(&r->tz, us, t);
    /* "2026-11-24T10:00:00+01:00" -> "2026-11-24 10:00" (the zone is in the header) */
    snprintf(buf, size, "%.10s %.5s", t, t + 11);
}

void fmt_bucket_label(const struct report *r, size_t i, char *buf, size_t size)
{
    char t[TZ_LOCAL_MAX], u[TZ_LOCAL_MAX];
    tz_format_local(&r->tz, r->buckets[i].start_us, t);
    if (r->bucket_us <= INT64_C(3600) * 1000000 &&
        r->to_us - r->from_us <= USEC_PER_DAY + 3600 * USEC_PER_SEC) {
        /* The hour a clock goes back is there twice ("02:00" of the 25-hour day): both
         * get their offset, "02:00+02" and "02:00+01" ("+05:30" where it has minutes). */
        bool twice = false;
        for (size_t k = i ? i - 1 : i + 1; k <= i + 1 && k < r->nbuckets && !twice; k += 2)
            twice = !memcmp(tz_format_local(&r->tz, r->buckets[k].start_us, u) + 11, t + 11, 5);
        size_t off = strlen(t) - 6; /* "+02:00" */
        if (twice)
            snprintf(buf, size, "%.5s%.*s", t + 11, strcmp(t + off + 3, ":00") ? 6 : 3, t + off);
        else
            snprintf(buf, size, "%.5s", t + 11);
    } else {
        snprintf(buf, size, "%.5s %.2s", t + 5, t + 11);
    }
}

void fmt_figure(char *buf, size_t size, enum report_figure f, double v)
{
    if (f == RF_DURATION_MS || f == RF_P95_MS)
        fmt_ms(buf, size, v);
    else
        fmt_count(buf, size, v);
}

double query_mean(const struct report_query *q)
{
    return q->calls ? q->total_ms / (double)q->calls : NAN;
}

struct span text_cut(struct span s, size_t max, int *cut)
{
    *cut = 0;
    if (!s.p || s.len <= max)
        return s;
    size_t n = max;
    /* Back off continuation bytes so a code point is never split. */
    while (n > 0 && ((unsigned char)s.p[n] & 0xC0) == 0x80)
        n--;
    *cut = 1;
    return span_make(s.p, n);
}

struct span sample_text(struct sbuf *tmp, struct span s, unsigned flags, size_t max, int *err)
{
    int cut;
    sbuf_reset(tmp);
    if (!s.p)
        return SPAN_NULL;
    /* Cut first (bounded work on a huge sample), then redact, then cut again: the
     * placeholders can make a text longer. */
    struct span in = text_cut(s, max * 4, &cut);
    int rc = flags & REPORT_KEEP_LITERALS ? sbuf_addspan(tmp, in) : report_redact(tmp, in);
    if (rc < 0) {
        *err = -1;
        return SPAN_NULL;
    }
    struct span out = text_cut(sbuf_span(tmp), max, &cut);
    if (cut || out.len < tmp->len) {
        sbuf_setlen(tmp, out.len);
        if (sbuf_addstr(tmp, "\xe2\x80\xa6") < 0) /* U+2026 */
            *err = -1;
    }
    return sbuf_span(tmp);
}

const char *report_css(size_t *len)
{
    const struct embedded_file *f = embedded_find("src/report/assets/report.css");
    *len = f ? f->len : 0;
    return f ? f->data : "";
}

const char *report_js(size_t *len)
{
    const struct embedded_file *f = embedded_find("src/report/assets/sort.js");
    *len = f ? f->len : 0;
    return f ? f->data : "";
}

void fmt_short_ms(char *buf, size_t size, double ms)
{
    if (ms < 1000)
        snprintf(buf, size, "%g ms", ms);
    else if (ms < 60000)
        snprintf(buf, size, "%g s", ms / 1000);
    else if (ms < 3600000)
        snprintf(buf, size, "%g min", ms / 60000);
    else
        snprintf(buf, size, "%g h", ms / 3600000);
}

void fmt_short_s(char *buf, size_t size, double s)
{
    fmt_short_ms(buf, size, s * 1000);
}

void fmt_short_bytes(char *buf, size_t size, double b)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    size_t u = 0;
    while (b >= 1024 && u + 1 < ARRAY_SIZE(units)) {
        b /= 1024;
        u++;
    }
    snprintf(buf, size, "%g %s", b, units[u]);
}

/* ---- the writers' sticky-error output ---- */

void rw_init(struct rw *w, struct sbuf *sb, const struct report *r, const struct report_opts *o,
             int (*esc)(struct sbuf *sb, struct span s))
{
    *w = (struct rw){
        .sb = sb, .r = r, .o = o, .flags = o ? o->flags : 0, .tmp = SBUF_INIT, .esc = esc
    };
}

int rw_finish(struct rw *w)
{
    sbuf_release(&w->tmp);
    return w->err;
}

void rw_check(struct rw *w, int rc)
{
    if (rc < 0)
        w->err = -1;
}

void rw_s(struct rw *w, const char *s)
{
    if (!w->err && sbuf_addstr(w->sb, s) < 0)
        w->err = -1;
}

void rw_raw(struct rw *w, const void *p, size_t n)
{
    if (!w->err && sbuf_add(w->sb, p, n) < 0)
        w->err = -1;
}

void rw_f(struct rw *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (!w->err && sbuf_vaddf(w->sb, fmt, ap) < 0)
        w->err = -1;
    va_end(ap);
}

void rw_e(struct rw *w, struct span s)
{
    /* An absent span is JSON's null; the other formats show nothing for it. */
    if (!s.p && w->esc != escape_json_string)
        return;
    if (!w->err && w->esc(w->sb, s) < 0)
        w->err = -1;
}

void rw_ec(struct rw *w, const char *s)
{
    if (s)
        rw_e(w, span_cstr(s));
}

struct span rw_sample(struct rw *w, struct span s, size_t max)
{
    int err = 0;
    struct span t = sample_text(&w->tmp, s, w->flags, max, &err);
    if (err)
        w->err = -1;
    return t;
}

/* "<lead>, max Y, p95 Z": the lead is the sum ("X in all") or, @mean, "mean X". */
static bool stat_line(char *buf, size_t size, const struct report_stat *s,
                      void (*fmt)(char *, size_t, double), bool mean)
{
    char b[FMT_MAX], c[FMT_MAX], p[FMT_MAX];
    if (!s->n)
        return false;
    fmt(b, sizeof(b), mean ? s->sum / (double)s->n : s->sum);
    fmt(c, sizeof(c), s->max);
    fmt(p, sizeof(p), s->p95);
    snprintf(buf, size, mean ? "mean %s, max %s, p95 %s" : "%s in all, max %s, p95 %s", b, c, p);
    return true;
}

bool fmt_stat(char *buf, size_t size, const struct report_stat *s,
              void (*fmt)(char *, size_t, double))
{
    return stat_line(buf, size, s, fmt, false);
}

bool fmt_stat_mean(char *buf, size_t size, const struct report_stat *s,
                   void (*fmt)(char *, size_t, double))
{
    return stat_line(buf, size, s, fmt, true);
}

bool fmt_counted_period(const struct report *r, char *buf, size_t size)
{
    if (r->counted_from_us == r->from_us && r->counted_to_us == r->to_us)
        return false;
    char from[FMT_MAX], to[FMT_MAX];
    fmt_local(r, r->counted_from_us, from, sizeof(from));
    fmt_local(r, r->counted_to_us, to, sizeof(to));
    snprintf(buf, size,
             "The store keeps this period's oldest data per hour or day (docs/store.md, "
             "retention): an hour or day is counted whole in the period it starts in, so the "
             "totals, queries, errors, record counts and charts cover %s to %s; the sections "
             "read from single events (locks, temp files, checkpoints, vacuum, sessions, "
             "cancellations) cover the period exactly.",
             from, to);
    return true;
}

bool fmt_items_rest(const struct report_items *l, char *buf, size_t size)
{
    if (!l->rest)
        return false;
    char g[FMT_MAX], c[FMT_MAX];
    fmt_count(g, sizeof(g), (double)l->rest);
    fmt_count(c, sizeof(c), (double)l->rest_count);
    snprintf(buf, size, "%s more %s (%s %s) are not listed", g, l->rows, c, l->counted);
    return true;
}

bool fmt_errors_rest(const struct report *r, char *buf, size_t size)
{
    uint64_t count;
    size_t rest = report_errors_rest(r, &count);
    if (!rest)
        return false;
    char g[FMT_MAX], c[FMT_MAX];
    fmt_count(g, sizeof(g), (double)rest);
    fmt_count(c, sizeof(c), (double)count);
    snprintf(buf, size, "%s more groups (%s errors) are not listed", g, c);
    return true;
}

void fmt_hist_label(char *buf, size_t size, const struct report_hist *h, size_t i,
                    void (*fmt)(char *, size_t, double))
{
    char b[FMT_MAX];
    fmt(b, sizeof(b), i < h->n ? h->upper[i] : h->upper[h->n - 1]);
    snprintf(buf, size, "%s%s", i < h->n ? "\xe2\x89\xa4" : ">", b);
}
