/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>

#include "core/log.h"

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
    char buf[2048];
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    if (n < 0)
        return;
    /* Messages quote log text, file names and inferred prefixes: no byte of them may
     * control the terminal. C0 controls but newline and tab, DEL, and the C1 controls
     * (U+0080-U+009F, UTF-8 C2 80-9F: U+009B is CSI to some terminals) become '?'. */
    for (unsigned char *c = (unsigned char *)buf; *c; c++) {
        if ((*c < 0x20 && *c != '\n' && *c != '\t') || *c == 0x7f)
            *c = '?';
        else if (*c == 0xc2 && c[1] >= 0x80 && c[1] <= 0x9f)
            c[0] = '?', c[1] = '?';
    }
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
