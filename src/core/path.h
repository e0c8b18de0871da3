/* SPDX-License-Identifier: MIT */
/*
 * path - the directory part of a file path, creating directories, and making a
 * directory's entries durable.
 *
 * Owns: nothing; path_dirname()'s string is the caller's to free.
 */
#ifndef SIFT_CORE_PATH_H
#define SIFT_CORE_PATH_H

/* The directory holding @path, as dirname(1) gives it for a file: "." for a bare name,
 * "/" for a file in the root. Never NULL (dies on out of memory, as xmalloc). */
char *path_dirname(const char *path);

/* fsync() the directory holding @path, so that a file created or renamed there survives
 * an OS crash. Best effort: some file systems refuse fsync on directories. */
void path_sync_dir(const char *path);

/* mkdir -p: create @dir and the directories above it that are missing, each with @mode
 * (whatever the umask). Returns 0, or -1 with errno set (an existing path component that
 * is not a directory: ENOTDIR). */
int path_mkdirs(const char *dir, unsigned mode);

#endif
