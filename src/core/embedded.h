/* SPDX-License-Identifier: MIT */
/*
 * embedded - files compiled into the binary at build time (cmake/embed.cmake):
 * schema/NNN_*.sql for store migrations, the files under src/report/assets/ for self-contained
 * reports.
 *
 * The data is static and NUL-terminated (len excludes the NUL).
 */
#ifndef SIFT_CORE_EMBEDDED_H
#define SIFT_CORE_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
    const char *path; /* relative to the project root, e.g. "schema/001_init.sql" */
    const char *data;
    size_t len;
};

/* Sorted by path; terminated by an entry with path == NULL. */
extern const struct embedded_file embedded_files[];

/* Returns the file with that exact path, or NULL. */
const struct embedded_file *embedded_find(const char *path);

#endif
