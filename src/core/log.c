/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/utf8.h"

static enum log_level level = LOG_LEVEL_NORMAL;

void log_set_level(enum log_level l)
{
    level = l;
}

enum log_level log_get_level(void)
{
    return level;
}

static void vlog(const char *tag, const char *fmt, va_list ap) SIFT_PRINTF(2, 0);
static void vlog(const char *tag, const char *fmt, va_list ap)
{
    /* One fprintf-equivalent per message keeps lines whole when the daemon's stderr is
     * shared with other writers. */
    char buf[8192]; /* (diag.h's messages, DIAG_MSG_MAX, and what callers add) */
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    if (n < 0)
        return;
    /* Messages quote log text, file names and inferred prefixes: no character of them may
     * control the terminal (core/utf8.h): each such byte is written '?' (newline and tab
     * stay). */
    utf8_defang(buf, strlen(buf), '?', true);
    fprintf(stderr, "pgsift: %s%s\n", tag, buf);
}

#define DEFINE_LOG(name, min, tag)  \
    void name(const char *fmt, ...) \
    {                               \
        va_list ap;                 \
        if (level < (min))          \
            return;                 \
        va_start(ap, fmt);          \
        vlog(tag, fmt, ap);         \
        va_end(ap);                 \
    }

DEFINE_LOG(log_error, LOG_LEVEL_QUIET, "")
DEFINE_LOG(log_warn, LOG_LEVEL_NORMAL, "warning: ")
DEFINE_LOG(log_note, LOG_LEVEL_NORMAL, "")
DEFINE_LOG(log_verbose, LOG_LEVEL_VERBOSE, "")
