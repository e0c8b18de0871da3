/* SPDX-License-Identifier: MIT */
/*
 * svg - charts as inline SVG text (private to report/): line/area charts, bar charts,
 * histograms and sparklines.
 *
 * Pure functions from arrays of doubles to SVG appended to an sbuf: no state, no I/O,
 * no external references (no href, no fonts, no scripts), numbers printed with fixed
 * decimals so the same input always gives the same bytes. Every chart is
 * role="img" with an aria-label and a <title> (escaped with core/escape.h), and every
 * bar or point has its own <title> so a pointer shows the value without JavaScript.
 * Colours come from CSS classes (report.css), so dark mode and print restyle them.
 * NaN values are gaps.
 *
 * All functions return 0, or -1 when the sbuf's cap was reached.
 */
#ifndef SIFT_REPORT_SVG_H
#define SIFT_REPORT_SVG_H

#include <stddef.h>
#include <stdint.h>

#include "core/compat.h"
#include "core/sbuf.h"

/* Formats a value for axis labels and tooltips ("1.2 s", "3 400"). */
typedef void (*svg_fmt)(char *buf, size_t size, double v);

struct svg_chart {
    const char *title;         /* accessible name and visible caption (escaped) */
    const char *const *labels; /* x label per point (escaped), or NULL */
    size_t label_every;        /* draw every k-th label (0: choose) */
    svg_fmt fmt;               /* y values; NULL: svg_fmt_number */
    int width, height;         /* viewBox size; 0: 640 x 160 */
};

struct svg_series {
    const char *name; /* for tooltips and the legend (escaped) */
    const double *v;
    size_t n;
};

/* Line chart of one or more series over the same x points; @area fills under the first
 * series. */
SIFT_WUR int svg_line(struct sbuf *sb, const struct svg_chart *c, const struct svg_series *s,
                      size_t ns, int area);

/* Vertical bars, one per value. */
SIFT_WUR int svg_bars(struct sbuf *sb, const struct svg_chart *c, const double *v, size_t n);

/* Histogram: bars touching, one per bucket; labels name the buckets. */
SIFT_WUR int svg_histogram(struct sbuf *sb, const struct svg_chart *c, const uint64_t *count,
                           size_t n);

/* A small line without axes for table cells (width x height, 0: 96 x 20). */
SIFT_WUR int svg_sparkline(struct sbuf *sb, const char *title, const double *v, size_t n, int width,
                           int height);

/* "0", "12", "1.5k", "2.3M", "0.25" - compact, deterministic. */
void svg_fmt_number(char *buf, size_t size, double v);

/* The "nice" axis maximum for data whose largest value is @max (1, 2, 2.5, 5 x 10^k). */
double svg_nice_max(double max);

#endif
