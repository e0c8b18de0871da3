/* SPDX-License-Identifier: MIT */
/*
 * write.c - atomic report files, Git's lockfile pattern.
 *
 * "<path>.lock" is created with O_CREAT|O_EXCL (so two writers never interleave: the
 * second fails and names the lock), written in full, fsync'd, and renamed over <path>;
 * then the directory is fsync'd so the rename survives a crash. On any failure, and on
 * SIGINT/SIGTERM/SIGHUP while the lock exists, the lock file is removed. A reader of
 * <path> therefore sees the previous report or the new one, never a part of one.
 * A path that is not a regular file (/dev/null, /dev/stdout, a FIFO) is written to as it
 * is: renamed over, the device or the link would be replaced by a file. A symbolic link
 * to a regular file is followed: its target gets the report.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/path.h"
#include "report/report.h"

#define REPORT_FILE_MODE 0600 /* tenant metadata: owner only, like the store */

/* The lock being written, for the signal handler (async-signal-safe: unlink only). */
static char lock_path[4096];
static volatile sig_atomic_t lock_held;
static const int lock_signals[] = { SIGINT, SIGTERM, SIGHUP };
static struct sigaction lock_old[3];
static bool lock_hooked[3];

static void lock_on_signal(int sig)
{
    if (lock_held)
        unlink(lock_path);
    lock_held = 0;
    /* Re-raise with the default disposition so the process ends as it would have. */
    for (size_t i = 0; i < ARRAY_SIZE(lock_signals); i++)
        if (lock_signals[i] == sig)
            sigaction(sig, &lock_old[i], NULL);
    raise(sig);
}

/* Only signals that would kill the process get the clean-up handler: a daemon that
 * handles SIGTERM or SIGHUP itself (to stop after the current work, or to reload) is not
 * interrupted, and the report is finished. */
static void lock_guard(bool on)
{
    for (size_t i = 0; i < ARRAY_SIZE(lock_signals); i++) {
        if (on) {
            struct sigaction cur;
            lock_hooked[i] = false;
            if (sigaction(lock_signals[i], NULL, &cur) < 0 || cur.sa_handler != SIG_DFL)
                continue;
            struct sigaction sa;
            memset(&sa, 0, sizeof(sa));
            sa.sa_handler = lock_on_signal;
            sigemptyset(&sa.sa_mask);
            lock_hooked[i] = sigaction(lock_signals[i], &sa, &lock_old[i]) == 0;
        } else if (lock_hooked[i]) {
            sigaction(lock_signals[i], &lock_old[i], NULL);
            lock_hooked[i] = false;
        }
    }
    lock_held = on;
}

/* Write to a device, FIFO or the like in place (no lock, no rename, its mode untouched). */
static int write_in_place(const char *path, const char *p, size_t len, struct diag *d)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return diag_errno(d, DIAG_IO, errno, "cannot write '%s'", path);
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;
            close(fd);
            return diag_errno(d, DIAG_IO, e, "cannot write '%s'", path);
        }
        p += w;
        len -= (size_t)w;
    }
    if (close(fd) < 0)
        return diag_errno(d, DIAG_IO, errno, "cannot write '%s'", path);
    return 0;
}

int report_write_file(const char *path, const void *data, size_t len, struct diag *d)
{
    const char *p = data;
    struct stat st;
    char real[4096];

    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        if (S_ISDIR(st.st_mode))
            return diag_errno(d, DIAG_IO, EISDIR, "cannot write '%s'", path);
        return write_in_place(path, p, len, d);
    }
    struct stat lst;
    if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode) && realpath(path, real))
        path = real; /* the link's target, atomically */
    if (snprintf(lock_path, sizeof(lock_path), "%s.lock", path) >= (int)sizeof(lock_path))
        return diag_set(d, DIAG_IO, "path too long: '%s'", path);
    lock_guard(true);
    int fd = open(lock_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, REPORT_FILE_MODE);
    if (fd < 0) {
        int e = errno;
        lock_guard(false);
        if (e == EEXIST)
            return diag_set(d, DIAG_IO,
                            "cannot lock '%s': '%s' exists (another report is being written; "
                            "remove it if no pgsift is running)",
                            path, lock_path);
        return diag_errno(d, DIAG_IO, e, "cannot create '%s'", path);
    }
    /* The umask may have taken bits away; the mode is part of the contract. */
    if (fchmod(fd, REPORT_FILE_MODE) < 0)
        goto fail;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto fail;
        p += w;
        len -= (size_t)w;
    }
    if (fsync(fd) < 0)
        goto fail;
    if (close(fd) < 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(lock_path, path) < 0)
        goto fail;
    lock_guard(false);
    path_sync_dir(path);
    return 0;
fail : {
    int e = errno ? errno : EIO;
    if (fd >= 0)
        close(fd);
    unlink(lock_path);
    lock_guard(false);
    return diag_errno(d, DIAG_IO, e, "cannot write '%s'", path);
}
}
