/* SPDX-License-Identifier: MIT */
/*
 * check - a tiny unit-test harness (acutest-style, one header).
 *
 * A test file defines `static void test_x(void)` functions and ends with
 *
 *     TEST_LIST = { { "x", test_x }, ..., { NULL, NULL } };
 *
 * CHECK*() report "file:line: ..." and keep going; the process exits 1 if any check
 * failed. `./test_foo NAME...` runs only the named tests.
 */
#ifndef SIFT_TESTS_CHECK_H
#define SIFT_TESTS_CHECK_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/span.h"

struct test_entry {
    const char *name;
    void (*fn)(void);
};

extern const struct test_entry test_list_[];
#define TEST_LIST const struct test_entry test_list_[]

static int check_failures_;
static const char *check_current_;

static inline int check_fail_(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: [%s] check failed: %s\n", file, line, check_current_, what);
    check_failures_++;
    return 0;
}

#define CHECK(cond) ((cond) ? 1 : check_fail_(__FILE__, __LINE__, #cond))

#define CHECK_MSG(cond, ...)                        \
    do {                                            \
        if (!(cond)) {                              \
            check_fail_(__FILE__, __LINE__, #cond); \
            fprintf(stderr, "    ");                \
            fprintf(stderr, __VA_ARGS__);           \
            fputc('\n', stderr);                    \
        }                                           \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                          \
    do {                                                                            \
        int64_t a_ = (int64_t)(a), b_ = (int64_t)(b);                               \
        if (a_ != b_) {                                                             \
            check_fail_(__FILE__, __LINE__, #a " == " #b);                          \
            fprintf(stderr, "    got %" PRId64 ", expected %" PRId64 "\n", a_, b_); \
        }                                                                           \
    } while (0)

#define CHECK_EQ_U64(a, b)                                                          \
    do {                                                                            \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                            \
        if (a_ != b_) {                                                             \
            check_fail_(__FILE__, __LINE__, #a " == " #b);                          \
            fprintf(stderr, "    got %" PRIu64 ", expected %" PRIu64 "\n", a_, b_); \
        }                                                                           \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                               \
    do {                                                                                 \
        const char *a_ = (a), *b_ = (b);                                                 \
        if (!a_ || !b_ || strcmp(a_, b_)) {                                              \
            check_fail_(__FILE__, __LINE__, #a " == " #b);                               \
            fprintf(stderr, "    got \"%s\"\n    expected \"%s\"\n", a_ ? a_ : "(null)", \
                    b_ ? b_ : "(null)");                                                 \
        }                                                                                \
    } while (0)

#define CHECK_EQ_SPAN(s, lit)                                                         \
    do {                                                                              \
        struct span s_ = (s);                                                         \
        const char *l_ = (lit);                                                       \
        if (!s_.p || s_.len != strlen(l_) || memcmp(s_.p, l_, s_.len)) {              \
            check_fail_(__FILE__, __LINE__, #s " == " #lit);                          \
            fprintf(stderr, "    got \"%.*s\"%s\n    expected \"%s\"\n", (int)s_.len, \
                    s_.p ? s_.p : "", s_.p ? "" : " (absent)", l_);                   \
        }                                                                             \
    } while (0)

static inline int test_selected_(int argc, char **argv, const char *name)
{
    if (argc < 2)
        return 1;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], name))
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    int ran = 0;

    for (const struct test_entry *t = test_list_; t->name; t++) {
        if (!test_selected_(argc, argv, t->name))
            continue;
        int before = check_failures_;
        check_current_ = t->name;
        t->fn();
        ran++;
        printf("%s %s\n", check_failures_ == before ? "ok  " : "FAIL", t->name);
    }
    printf("%d tests, %d failed checks\n", ran, check_failures_);
    return check_failures_ ? 1 : (ran ? 0 : 1);
}

#endif
