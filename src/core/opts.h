/* SPDX-License-Identifier: MIT */
/*
 * opts - command-line option tables (Git's parse-options in miniature).
 *
 * A command declares its options once, as a table; the same table parses argv, prints
 * the usage, names the valid options when one is unknown, and is what the docs check
 * compares with README.md (every long option must be documented).
 *
 * Parsing permutes: options and operands may be mixed; "--" ends options; "-" alone is an
 * operand (stdin). Long options take "--name=value" or "--name value"; short options
 * "-x value" or "-xvalue". Bad usage fills a DIAG_USAGE diag (exit 2).
 */
#ifndef SIFT_CORE_OPTS_H
#define SIFT_CORE_OPTS_H

#include <stdbool.h>
#include <stdio.h>

#include "core/diag.h"

enum opt_type {
    OPT_END = 0,
    OPT_BOOL,   /* bool *: set true; "--no-NAME" sets false */
    OPT_COUNT,  /* int *: incremented per occurrence (-v -v) */
    OPT_STRING, /* const char **: points into argv */
    OPT_LONG,   /* long *: decimal, range-checked by min/max */
    OPT_CHOICE, /* const char **: one of a NULL-terminated list in `choices` */
};

struct opt {
    enum opt_type type;
    char short_name; /* 0 if none */
    const char *long_name;
    void *value;
    const char *argh; /* argument name in usage, e.g. "PATH" */
    const char *help;
    long min, max;              /* OPT_LONG bounds */
    const char *const *choices; /* OPT_CHOICE values */
};

#define OPT_BOOL_(s, l, v, h)                          \
    {                                                  \
        OPT_BOOL, (s), (l), (v), NULL, (h), 0, 0, NULL \
    }
#define OPT_COUNT_(s, l, v, h)                          \
    {                                                   \
        OPT_COUNT, (s), (l), (v), NULL, (h), 0, 0, NULL \
    }
#define OPT_STRING_(s, l, v, a, h)                      \
    {                                                   \
        OPT_STRING, (s), (l), (v), (a), (h), 0, 0, NULL \
    }
#define OPT_LONG_(s, l, v, a, h, lo, hi)                    \
    {                                                       \
        OPT_LONG, (s), (l), (v), (a), (h), (lo), (hi), NULL \
    }
#define OPT_CHOICE_(s, l, v, a, h, c)                  \
    {                                                  \
        OPT_CHOICE, (s), (l), (v), (a), (h), 0, 0, (c) \
    }
#define OPT_END_()                                     \
    {                                                  \
        OPT_END, 0, NULL, NULL, NULL, NULL, 0, 0, NULL \
    }

/* Parse argv[0..argc) (argv[0] is NOT skipped: pass argv + 1 for a command's own
 * arguments). Operands are moved, in order, to the front of argv; their count is
 * returned. On a usage error returns -1 and fills @d. `--help`/`-h` return -2 when the
 * table has no option of that name (the caller prints usage). */
int opts_parse(const struct opt *opts, int argc, char **argv, struct diag *d);

/* Print "usage: <synopsis>" and the option list. */
void opts_usage(FILE *out, const char *synopsis, const struct opt *opts);

#endif
