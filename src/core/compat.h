/* SPDX-License-Identifier: MIT */
/*
 * compat - compiler attributes and tiny macros used everywhere.
 *
 * Owns nothing. Knows nothing of Postgres (core/ rule: no stage headers here).
 */
#ifndef SIFT_CORE_COMPAT_H
#define SIFT_CORE_COMPAT_H

#if defined(__GNUC__) || defined(__clang__)
#define SIFT_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define SIFT_WUR               __attribute__((warn_unused_result))
#define SIFT_NORETURN          __attribute__((noreturn))
#define SIFT_UNUSED            __attribute__((unused))
#define SIFT_LIKELY(x)         __builtin_expect(!!(x), 1)
#define SIFT_UNLIKELY(x)       __builtin_expect(!!(x), 0)
#define FALLTHROUGH            __attribute__((fallthrough))
#else
#define SIFT_PRINTF(fmt, args)
#define SIFT_WUR
#define SIFT_NORETURN _Noreturn
#define SIFT_UNUSED
#define SIFT_LIKELY(x)   (x)
#define SIFT_UNLIKELY(x) (x)
#define FALLTHROUGH      ((void)0)
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Programmer error: print where and abort. Never used for bad input. */
#define BUG(...) bug_fl(__FILE__, __LINE__, __VA_ARGS__)
SIFT_NORETURN void bug_fl(const char *file, int line, const char *fmt, ...) SIFT_PRINTF(3, 4);

#endif
