/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/diag.h"

static void vset(struct diag *d, enum diag_kind kind, int errnum, const char *fmt, va_list ap)
    SIFT_PRINTF(4, 0);
static void vset(struct diag *d, enum diag_kind kind, int errnum, const char *fmt, va_list ap)
{
    if (!d || d->kind != DIAG_OK)
        return;
    d->kind = kind;
    int n = vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
    if (errnum && n >= 0 && (size_t)n < sizeof(d->msg))
        snprintf(d->msg + n, sizeof(d->msg) - (size_t)n, ": %s", strerror(errnum));
}

int diag_set(struct diag *d, enum diag_kind kind, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vset(d, kind, 0, fmt, ap);
    va_end(ap);
    return -1;
}

int diag_errno(struct diag *d, enum diag_kind kind, int errnum, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vset(d, kind, errnum, fmt, ap);
    va_end(ap);
    return -1;
}

void diag_clear(struct diag *d)
{
    d->kind = DIAG_OK;
    d->msg[0] = '\0';
}

int diag_exit_code(const struct diag *d)
{
    switch (d->kind) {
    case DIAG_OK: return 0;
    case DIAG_USAGE: return 2;
    case DIAG_NOINPUT: return 3;
    case DIAG_IO:
    case DIAG_DB:
    case DIAG_NET:
    case DIAG_LIMIT:
    case DIAG_INTERNAL: break;
    }
    return 1;
}
