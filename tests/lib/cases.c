/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cases.h"
#include "core/xalloc.h"

static int failures;
static int current_failed;

void case_fail(const struct case_block *b, size_t i, const char *fmt, ...)
{
    va_list ap;
    unsigned line = i < b->n ? b->lines[i].lineno : (b->n ? b->lines[0].lineno : 0);

    fprintf(stderr, "%s:%u: ", b->file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    current_failed = 1;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int case_unescape(const char *t, size_t len, struct sbuf *out)
{
    sbuf_reset(out);
    for (size_t i = 0; i < len; i++) {
        char c = t[i];
        if (c != '\\') {
            if (sbuf_addch(out, c) < 0)
                return -1;
            continue;
        }
        if (++i >= len)
            return -1;
        switch (t[i]) {
        case 'n': c = '\n'; break;
        case 't': c = '\t'; break;
        case 'r': c = '\r'; break;
        case '0': c = '\0'; break;
        case '\\': c = '\\'; break;
        case '#': c = '#'; break;
        case 'x': {
            int h = i + 1 < len ? hexval(t[i + 1]) : -1;
            int l = i + 2 < len ? hexval(t[i + 2]) : -1;
            if (h < 0 || l < 0)
                return -1;
            c = (char)(h * 16 + l);
            i += 2;
            break;
        }
        default: return -1;
        }
        if (sbuf_addch(out, c) < 0)
            return -1;
    }
    return 0;
}

static void run_file(const char *path, case_handler handler, int *passed)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned lineno = 0;
    struct case_line *lines = NULL;
    size_t nlines = 0, alloc = 0;

    if (!f) {
        fprintf(stderr, "%s: cannot open\n", path);
        failures++;
        return;
    }
    for (;;) {
        n = getline(&line, &cap, f);
        if (n >= 0) {
            lineno++;
            while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                line[--n] = '\0';
            if (n > 0 && line[0] == '#')
                continue;
        }
        if (n > 0) {
            XGROW(lines, nlines + 1, alloc);
            lines[nlines].text = xmemdupz(line, (size_t)n);
            lines[nlines].len = (size_t)n;
            lines[nlines].lineno = lineno;
            nlines++;
            continue;
        }
        if (nlines) {
            struct case_block b = { path, lines, nlines };
            current_failed = 0;
            if (handler(&b) < 0 || current_failed) {
                if (!current_failed)
                    case_fail(&b, 0, "case failed");
                failures++;
            } else {
                (*passed)++;
            }
            for (size_t i = 0; i < nlines; i++)
                free((char *)lines[i].text);
            nlines = 0;
        }
        if (n < 0)
            break;
    }
    free(lines);
    free(line);
    fclose(f);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_path(const char *path, case_handler handler, int *passed, int *files)
{
    struct stat st;

    if (stat(path, &st) < 0) {
        fprintf(stderr, "%s: no such file or directory\n", path);
        failures++;
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        (*files)++;
        run_file(path, handler, passed);
        return;
    }
    DIR *dir = opendir(path);
    struct dirent *de;
    char **names = NULL;
    size_t n = 0, alloc = 0;
    if (!dir)
        return;
    while ((de = readdir(dir))) {
        size_t l = strlen(de->d_name);
        if (l > 6 && !strcmp(de->d_name + l - 6, ".cases")) {
            XGROW(names, n + 1, alloc);
            size_t sz = strlen(path) + l + 2;
            names[n] = xmalloc(sz);
            snprintf(names[n], sz, "%s/%s", path, de->d_name);
            n++;
        }
    }
    closedir(dir);
    qsort(names, n, sizeof(*names), cmp_str);
    for (size_t i = 0; i < n; i++) {
        (*files)++;
        run_file(names[i], handler, passed);
        free(names[i]);
    }
    free(names);
}

int cases_main(int argc, char **argv, case_handler handler)
{
    int passed = 0, files = 0;

    for (int i = 1; i < argc; i++)
        run_path(argv[i], handler, &passed, &files);
    if (files == 0) {
        fprintf(stderr, "no case files found\n");
        return 1;
    }
    printf("%d passed, %d failed\n", passed, failures);
    return failures ? 1 : (passed ? 0 : 1);
}
