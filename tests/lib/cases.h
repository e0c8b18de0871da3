/* SPDX-License-Identifier: MIT */
/*
 * cases - runner for data-driven case files (tests/cases/<module>/NAME.cases), after
 * pgbouncer's hba_test.eval, jq's jq.test and curl's tests/data.
 *
 * File format: a case is a block of consecutive non-blank lines; blocks are separated by
 * blank lines; lines starting with '#' are comments (a case line that must start with
 * '#' is written "\#"). What the lines of a block mean is up to the module's runner
 * (tests/cases/<module>_cases.c), which documents it at the top of the file.
 *
 * case_unescape() turns \n \t \r \\ \0 \xHH \# into bytes so a one-line case can hold
 * control characters, NUL bytes or invalid UTF-8.
 *
 * Failures print "<file>:<line>: <message>" and the runner keeps going; the process exits
 * 1 if any case failed and prints "N passed, N failed".
 */
#ifndef SIFT_TESTS_CASES_H
#define SIFT_TESTS_CASES_H

#include <stddef.h>

#include "core/compat.h"
#include "core/sbuf.h"

struct case_line {
    const char *text; /* NUL-terminated, without the newline, not unescaped */
    size_t len;
    unsigned lineno;
};

struct case_block {
    const char *file;
    struct case_line *lines;
    size_t n;
};

/* Report a failure of the current case at one of its lines. */
void case_fail(const struct case_block *b, size_t line_index, const char *fmt, ...)
    SIFT_PRINTF(3, 4);

/* Unescape a case line into @out (reset first). Returns -1 on a malformed escape. */
int case_unescape(const char *text, size_t len, struct sbuf *out);

/* The module's handler: check one case; report failures with case_fail(). Return 0 if
 * the case passed, -1 if it failed. */
typedef int (*case_handler)(const struct case_block *b);

/* Run the handler over every block of every *.cases file in the given files or
 * directories (argv[1..]); returns the process exit code. */
int cases_main(int argc, char **argv, case_handler handler);

#endif
