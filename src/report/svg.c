/* SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/escape.h"
#include "report/svg.h"

#define ML 48 /* left margin: y labels (wider when a label needs it) */
/* Width of one character of a y label (10px, svg text in report.css), a bound for the
 * sans-serif faces a browser picks: DejaVu Sans digits are 6.4px wide. */
#define YLAB_CHAR_W 6.6
#define MR          8
#define MT          8
#define MB          18 /* bottom margin: x labels */

/* Coordinates with one decimal, computed from an integer so the bytes never depend on
 * printf's rounding of halves, and never "-0.0". */
static int addnum(struct sbuf *sb, double v)
{
    if (!isfinite(v))
        v = 0;
    long long t = llround(v * 10);
    const char *sign = t < 0 ? "-" : "";
    if (t < 0)
        t = -t;
    return sbuf_addf(sb, "%s%lld.%lld", sign, t / 10, t % 10);
}

static void trim_zeros(char *buf)
{
    char *dot = strchr(buf, '.');
    if (!dot)
        return;
    char *end = dot + strlen(dot);
    /* Keep a unit suffix ("1.50k" -> "1.5k"). */
    char *suffix = dot + 1;
    while (*suffix >= '0' && *suffix <= '9')
        suffix++;
    char *z = suffix;
    while (z > dot + 1 && z[-1] == '0')
        z--;
    if (z == dot + 1)
        z = dot;
    memmove(z, suffix, (size_t)(end - suffix) + 1);
}

void svg_fmt_number(char *buf, size_t size, double v)
{
    double a = fabs(v);
    if (!isfinite(v)) {
        snprintf(buf, size, "-");
        return;
    }
    if (a >= 1e9)
        snprintf(buf, size, "%.2fG", v / 1e9);
    else if (a >= 1e6)
        snprintf(buf, size, "%.2fM", v / 1e6);
    else if (a >= 1e4)
        snprintf(buf, size, "%.1fk", v / 1e3);
    else if (a >= 100 || v == floor(v))
        snprintf(buf, size, "%.0f", v);
    else if (a >= 10)
        snprintf(buf, size, "%.1f", v);
    else
        snprintf(buf, size, "%.2f", v);
    trim_zeros(buf);
    if (!strcmp(buf, "-0"))
        snprintf(buf, size, "0");
}

double svg_nice_max(double max)
{
    static const double steps[] = { 1, 2, 2.5, 5, 10 };
    if (!(max > 0) || !isfinite(max))
        return 1;
    double mag = pow(10, floor(log10(max)));
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
        if (steps[i] * mag >= max * (1 - 1e-12))
            return steps[i] * mag;
    return 10 * mag;
}

/* The same for counts (charts in the default format): a nice maximum whose half, the
 * middle label, is a whole number too (25 -> 30: a "12.5" errors tick read as a bug). */
static double count_nice_max(double max)
{
    static const double steps[] = { 1, 2, 2.5, 3, 4, 5, 6, 8, 10 };
    if (!(max > 0) || !isfinite(max))
        return 2;
    double mag = pow(10, floor(log10(max)));
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        double v = steps[i] * mag;
        if (v >= max * (1 - 1e-12) && fmod(v / 2, 1) == 0)
            return v;
    }
    return 20 * mag;
}

static int esc(struct sbuf *sb, const char *s)
{
    return escape_html(sb, span_cstr(s ? s : ""));
}

struct frame {
    double w, h, x0, x1, y0, y1, max;
    size_t n;
    svg_fmt fmt;
};

static double fx(const struct frame *f, size_t i)
{
    return f->x0 + (f->x1 - f->x0) * ((double)i + 0.5) / (double)f->n;
}

static double fy(const struct frame *f, double v)
{
    if (v < 0)
        v = 0;
    return f->y1 - (f->y1 - f->y0) * (v / f->max);
}

static void frame_init(struct frame *f, const struct svg_chart *c, size_t n, double max)
{
    f->w = c->width > 0 ? c->width : 640;
    f->h = c->height > 0 ? c->height : 160;
    f->x0 = ML;
    f->x1 = f->w - MR;
    f->y0 = MT;
    f->y1 = f->h - MB;
    f->n = n ? n : 1;
    f->max = c->fmt ? svg_nice_max(max) : count_nice_max(max);
    f->fmt = c->fmt ? c->fmt : svg_fmt_number;
    /* The y labels end 4 units left of the plot: room for the longest ("0.500 ms"
     * started left of the chart and lost its first character). */
    for (int g = 0; g <= 2; g++) {
        char lab[32];
        f->fmt(lab, sizeof(lab), f->max * g / 2);
        double need = 6 + YLAB_CHAR_W * (double)strlen(lab);
        if (need > f->x0 && need < f->x1 / 2)
            f->x0 = ceil(need);
    }
}

static int open_svg(struct sbuf *sb, const struct frame *f, const char *cls, const char *title)
{
    if (sbuf_addf(sb, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"%s\" viewBox=\"0 0 ",
                  cls) < 0 ||
        addnum(sb, f->w) < 0 || sbuf_addch(sb, ' ') < 0 || addnum(sb, f->h) < 0 ||
        sbuf_addstr(sb, "\" role=\"img\" aria-label=\"") < 0 || esc(sb, title) < 0 ||
        sbuf_addstr(sb, "\"><title>") < 0 || esc(sb, title) < 0 || sbuf_addstr(sb, "</title>") < 0)
        return -1;
    return 0;
}

/* Grid lines at 0, max/2 and max with their labels, and the x labels. */
static int axes(struct sbuf *sb, const struct frame *f, const struct svg_chart *c)
{
    for (int g = 0; g <= 2; g++) {
        double v = f->max * g / 2, y = fy(f, v);
        char lab[32];
        f->fmt(lab, sizeof(lab), v);
        if (sbuf_addstr(sb, "<line class=\"grid\" x1=\"") < 0 || addnum(sb, f->x0) < 0 ||
            sbuf_addstr(sb, "\" x2=\"") < 0 || addnum(sb, f->x1) < 0 ||
            sbuf_addstr(sb, "\" y1=\"") < 0 || addnum(sb, y) < 0 ||
            sbuf_addstr(sb, "\" y2=\"") < 0 || addnum(sb, y) < 0 ||
            sbuf_addstr(sb, "\"/><text class=\"ylab\" x=\"") < 0 || addnum(sb, f->x0 - 4) < 0 ||
            sbuf_addstr(sb, "\" y=\"") < 0 || addnum(sb, y + 3) < 0 ||
            sbuf_addstr(sb, "\" text-anchor=\"end\">") < 0 || esc(sb, lab) < 0 ||
            sbuf_addstr(sb, "</text>") < 0)
            return -1;
    }
    if (!c->labels)
        return 0;
    size_t every = c->label_every ? c->label_every : (f->n + 11) / 12;
    for (size_t i = 0; i < f->n; i += every) {
        if (sbuf_addstr(sb, "<text class=\"xlab\" x=\"") < 0 || addnum(sb, fx(f, i)) < 0 ||
            sbuf_addstr(sb, "\" y=\"") < 0 || addnum(sb, f->h - 5) < 0 ||
            sbuf_addstr(sb, "\" text-anchor=\"middle\">") < 0 || esc(sb, c->labels[i]) < 0 ||
            sbuf_addstr(sb, "</text>") < 0)
            return -1;
    }
    return 0;
}

/* "<title>03:00: 1.2k</title>" for one bar or point. */
static int point_title(struct sbuf *sb, const struct frame *f, const struct svg_chart *c,
                       const char *series, size_t i, double v)
{
    char val[32];
    f->fmt(val, sizeof(val), v);
    if (sbuf_addstr(sb, "<title>") < 0)
        return -1;
    if (series && *series && (esc(sb, series) < 0 || sbuf_addstr(sb, " ") < 0))
        return -1;
    if (c->labels && (esc(sb, c->labels[i]) < 0 || sbuf_addstr(sb, ": ") < 0))
        return -1;
    if (esc(sb, val) < 0 || sbuf_addstr(sb, "</title>") < 0)
        return -1;
    return 0;
}

static double max_of(const double *v, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]) && v[i] > m)
            m = v[i];
    return m;
}

int svg_line(struct sbuf *sb, const struct svg_chart *c, const struct svg_series *s, size_t ns,
             int area)
{
    struct frame f;
    size_t n = 0;
    double max = 0;

    for (size_t k = 0; k < ns; k++) {
        if (s[k].n > n)
            n = s[k].n;
        double m = max_of(s[k].v, s[k].n);
        if (m > max)
            max = m;
    }
    frame_init(&f, c, n, max);
    if (open_svg(sb, &f, "chart line", c->title) < 0 || axes(sb, &f, c) < 0)
        return -1;
    for (size_t k = 0; k < ns; k++) {
        const struct svg_series *se = &s[k];
        /* Area under the first series: one closed path per run of finite values. */
        if (area && k == 0) {
            if (sbuf_addstr(sb, "<path class=\"area s0\" d=\"") < 0)
                return -1;
            for (size_t i = 0; i < se->n; i++) {
                if (!isfinite(se->v[i]))
                    continue;
                size_t j = i;
                while (j + 1 < se->n && isfinite(se->v[j + 1]))
                    j++;
                if (sbuf_addch(sb, 'M') < 0 || addnum(sb, fx(&f, i)) < 0 ||
                    sbuf_addch(sb, ' ') < 0 || addnum(sb, f.y1) < 0)
                    return -1;
                for (size_t p = i; p <= j; p++)
                    if (sbuf_addch(sb, 'L') < 0 || addnum(sb, fx(&f, p)) < 0 ||
                        sbuf_addch(sb, ' ') < 0 || addnum(sb, fy(&f, se->v[p])) < 0)
                        return -1;
                if (sbuf_addch(sb, 'L') < 0 || addnum(sb, fx(&f, j)) < 0 ||
                    sbuf_addch(sb, ' ') < 0 || addnum(sb, f.y1) < 0 || sbuf_addch(sb, 'Z') < 0)
                    return -1;
                i = j;
            }
            if (sbuf_addstr(sb, "\"/>") < 0)
                return -1;
        }
        if (sbuf_addf(sb, "<path class=\"stroke s%zu\" d=\"", k % 4) < 0)
            return -1;
        int pen = 0;
        for (size_t i = 0; i < se->n; i++) {
            if (!isfinite(se->v[i])) {
                pen = 0;
                continue;
            }
            if (sbuf_addch(sb, pen ? 'L' : 'M') < 0 || addnum(sb, fx(&f, i)) < 0 ||
                sbuf_addch(sb, ' ') < 0 || addnum(sb, fy(&f, se->v[i])) < 0)
                return -1;
            pen = 1;
        }
        if (sbuf_addstr(sb, "\"/>") < 0)
            return -1;
        for (size_t i = 0; i < se->n; i++) {
            if (!isfinite(se->v[i]))
                continue;
            if (sbuf_addf(sb, "<circle class=\"pt s%zu\" r=\"2\" cx=\"", k % 4) < 0 ||
                addnum(sb, fx(&f, i)) < 0 || sbuf_addstr(sb, "\" cy=\"") < 0 ||
                addnum(sb, fy(&f, se->v[i])) < 0 || sbuf_addstr(sb, "\">") < 0 ||
                point_title(sb, &f, c, ns > 1 ? se->name : NULL, i, se->v[i]) < 0 ||
                sbuf_addstr(sb, "</circle>") < 0)
                return -1;
        }
    }
    if (ns > 1) {
        double x = f.x0 + 4;
        for (size_t k = 0; k < ns; k++) {
            if (sbuf_addf(sb, "<text class=\"legend s%zu\" x=\"", k % 4) < 0 || addnum(sb, x) < 0 ||
                sbuf_addstr(sb, "\" y=\"") < 0 || addnum(sb, f.y0 + 8) < 0 ||
                sbuf_addstr(sb, "\">") < 0 || esc(sb, s[k].name) < 0 ||
                sbuf_addstr(sb, "</text>") < 0)
                return -1;
            x += 8.0 * (double)(strlen(s[k].name ? s[k].name : "") + 2);
        }
    }
    return sbuf_addstr(sb, "</svg>");
}

static int bars(struct sbuf *sb, const struct svg_chart *c, const double *v, size_t n, double fill,
                const char *cls)
{
    struct frame f;

    frame_init(&f, c, n, max_of(v, n));
    if (open_svg(sb, &f, cls, c->title) < 0 || axes(sb, &f, c) < 0)
        return -1;
    double slot = (f.x1 - f.x0) / (double)f.n;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i]))
            continue;
        double y = fy(&f, v[i]);
        if (sbuf_addstr(sb, "<rect class=\"bar\" x=\"") < 0 ||
            addnum(sb, f.x0 + slot * (double)i + slot * (1 - fill) / 2) < 0 ||
            sbuf_addstr(sb, "\" y=\"") < 0 || addnum(sb, y) < 0 ||
            sbuf_addstr(sb, "\" width=\"") < 0 || addnum(sb, slot * fill) < 0 ||
            sbuf_addstr(sb, "\" height=\"") < 0 || addnum(sb, f.y1 - y) < 0 ||
            sbuf_addstr(sb, "\">") < 0 || point_title(sb, &f, c, NULL, i, v[i]) < 0 ||
            sbuf_addstr(sb, "</rect>") < 0)
            return -1;
    }
    return sbuf_addstr(sb, "</svg>");
}

int svg_bars(struct sbuf *sb, const struct svg_chart *c, const double *v, size_t n)
{
    return bars(sb, c, v, n, 0.8, "chart bars");
}

int svg_histogram(struct sbuf *sb, const struct svg_chart *c, const uint64_t *count, size_t n)
{
    double v[64];
    if (n > 64)
        n = 64;
    for (size_t i = 0; i < n; i++)
        v[i] = (double)count[i];
    struct svg_chart h = *c;
    if (!h.label_every)
        h.label_every = n > 8 ? 2 : 1; /* bucket names are wide */
    return bars(sb, &h, v, n, 0.96, "chart hist");
}

int svg_sparkline(struct sbuf *sb, const char *title, const double *v, size_t n, int width,
                  int height)
{
    double w = width > 0 ? width : 96, h = height > 0 ? height : 20;
    double max = max_of(v, n);

    if (max <= 0)
        max = 1;
    if (sbuf_addstr(
            sb, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"spark\" viewBox=\"0 0 ") < 0 ||
        addnum(sb, w) < 0 || sbuf_addch(sb, ' ') < 0 || addnum(sb, h) < 0 ||
        sbuf_addstr(sb, "\" role=\"img\" aria-label=\"") < 0 || esc(sb, title) < 0 ||
        sbuf_addstr(sb, "\"><title>") < 0 || esc(sb, title) < 0 ||
        sbuf_addstr(sb, "</title><path d=\"") < 0)
        return -1;
    int pen = 0;
    double lx = 0, ly = 0;
    bool last = false;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i])) {
            pen = 0;
            continue;
        }
        double x = n > 1 ? 1 + (w - 2) * (double)i / (double)(n - 1) : w / 2;
        double y = h - 1 - (h - 2) * (v[i] > 0 ? v[i] : 0) / max;
        if (sbuf_addch(sb, pen ? 'L' : 'M') < 0 || addnum(sb, x) < 0 || sbuf_addch(sb, ' ') < 0 ||
            addnum(sb, y) < 0)
            return -1;
        pen = 1;
        lx = x;
        ly = y;
        last = i == n - 1;
    }
    if (sbuf_addstr(sb, "\"/>") < 0)
        return -1;
    /* The latest value as a dot: visible even when it is the only one. */
    if (last &&
        (sbuf_addstr(sb, "<circle r=\"1.5\" cx=\"") < 0 || addnum(sb, lx) < 0 ||
         sbuf_addstr(sb, "\" cy=\"") < 0 || addnum(sb, ly) < 0 || sbuf_addstr(sb, "\"/>") < 0))
        return -1;
    return sbuf_addstr(sb, "</svg>");
}
