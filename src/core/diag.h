/* SPDX-License-Identifier: MIT */
/*
 * diag - the first error of an operation, curl's "first error wins" rule.
 *
 * Functions that can fail because of the environment (I/O, database, network) return -1
 * and fill a caller-provided struct diag. Only the first diag_set() on a struct is kept:
 * a later, consequential failure ("could not commit" after "disk full") does not hide
 * the cause. main.c prints it ("pgsift: <msg>") and picks the exit code from its kind.
 *
 * Bad *input* is never a diag: it is a counted reject (parse/) or a list of errors with
 * file:line:col (rules/, config). Programmer errors are BUG().
 */
#ifndef SIFT_CORE_DIAG_H
#define SIFT_CORE_DIAG_H

#include <stdbool.h>

#include "core/compat.h"

enum diag_kind {
    DIAG_OK = 0,
    DIAG_IO,      /* file system, pipes: exit 1 */
    DIAG_DB,      /* SQLite: exit 1 */
    DIAG_NET,     /* delivery: exit 1 */
    DIAG_USAGE,   /* bad flag, bad value, invalid config or rule file: exit 2 */
    DIAG_NOINPUT, /* input was read but no record parsed: exit 3 */
    DIAG_LIMIT,   /* a core/limits.h bound was hit where a reject is not possible */
    DIAG_INTERNAL,
};

/* Large enough for the "nothing parsed" diagnosis, which quotes the first failing lines. */
#define DIAG_MSG_MAX 4096

struct diag {
    enum diag_kind kind;
    char msg[DIAG_MSG_MAX];
};

#define DIAG_INIT \
    {             \
        DIAG_OK,  \
        {         \
            0     \
        }         \
    }

/* Record an error unless one is recorded already. Returns -1 so that callers can write
 * `return diag_set(d, DIAG_IO, "cannot open '%s': %s", path, strerror(errno));`.
 * @d may be NULL (the error is then dropped, for callers that only want the -1). */
int diag_set(struct diag *d, enum diag_kind kind, const char *fmt, ...) SIFT_PRINTF(3, 4);

/* Like diag_set() but appends ": <strerror(errnum)>". */
int diag_errno(struct diag *d, enum diag_kind kind, int errnum, const char *fmt, ...)
    SIFT_PRINTF(4, 5);

static inline bool diag_failed(const struct diag *d)
{
    return d->kind != DIAG_OK;
}

void diag_clear(struct diag *d);

/* The process exit code for a diag kind (INTERFACE.md: 1 environment, 2 usage,
 * 3 nothing parsed). */
int diag_exit_code(const struct diag *d);

#endif
