/* SPDX-License-Identifier: MIT */
/*
 * birth.c - when a file was created (statx(2)'s STATX_BTIME), where the filesystem keeps
 * it (ext4, xfs, btrfs, tmpfs). It tells a new file that reuses a freed inode number
 * apart from the file that held it and was truncated: see input_fd_birth_us().
 *
 * Owns: nothing (one system call).
 */
#define _GNU_SOURCE /* statx() */
#include <fcntl.h>
#include <sys/stat.h>

#include "input/input.h"

bool input_fd_birth_us(int fd, int64_t *us)
{
    struct statx sx;
    if (fd < 0 || statx(fd, "", AT_EMPTY_PATH, STATX_BTIME, &sx) != 0 ||
        !(sx.stx_mask & STATX_BTIME))
        return false;
    *us = (int64_t)sx.stx_btime.tv_sec * 1000000 + sx.stx_btime.tv_nsec / 1000;
    return true;
}
