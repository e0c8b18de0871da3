/* SPDX-License-Identifier: MIT */
/*
 * path.c - see path.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/path.h"
#include "core/xalloc.h"

char *path_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return xstrdup(".");
    if (slash == path)
        return xstrdup("/");
    return xmemdupz(path, (size_t)(slash - path));
}

void path_sync_dir(const char *path)
{
    char *dir = path_dirname(path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(dir);
}

int path_mkdirs(const char *dir, unsigned mode)
{
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return 0;
        errno = ENOTDIR;
        return -1;
    }
    if (errno != ENOENT)
        return -1;
    char *up = path_dirname(dir);
    int rc = strcmp(up, dir) != 0 ? path_mkdirs(up, mode) : 0;
    free(up);
    if (rc < 0)
        return -1;
    if (mkdir(dir, (mode_t)mode) < 0)
        return errno == EEXIST ? 0 : -1; /* made meanwhile by another process */
    return chmod(dir, (mode_t)mode);     /* not the umask's */
}
