/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "core/embedded.h"

const struct embedded_file *embedded_find(const char *path)
{
    for (const struct embedded_file *f = embedded_files; f->path; f++)
        if (!strcmp(f->path, path))
            return f;
    return NULL;
}
