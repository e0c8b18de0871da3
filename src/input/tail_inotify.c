/* SPDX-License-Identifier: MIT */
/*
 * tail_inotify.c - the inotify watcher: prompt hints at no cost while nothing happens.
 *
 * Two inotify instances: one for the structure of the watched directories (entries
 * created, moved, deleted), which is always listened to, so that a new file is seen
 * and held open at once, before a fast rotation could rename it away; and one for
 * writes, which the daemon listens to only when no read is scheduled (a busy log then
 * costs no wake-up per write). Each open file is also watched by its inode (through
 * /proc/self/fd/N, so the watch is on the file we hold even if its name moved
 * meanwhile): a file renamed out of its directory or deleted still wakes us.
 *
 * Events are hints only (tail.c checks with fstat()/stat()), so lost or merged events
 * cost at most the rescan interval, and IN_Q_OVERFLOW simply asks for a full rescan.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "core/log.h"
#include "input/tail_int.h"

#define DIR_STRUCT_MASK                                                                    \
    (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | \
     IN_ONLYDIR)
#define DIR_DATA_MASK    (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_ONLYDIR)
#define FILE_STRUCT_MASK (IN_MOVE_SELF | IN_DELETE_SELF | IN_ATTRIB)
#define FILE_DATA_MASK   IN_MODIFY

/* The write instance's watch descriptors are not kept: adding a watch on the same inode
 * again returns the same descriptor, which is how they are found for removal. */

static int ino_start(struct tail *t, struct diag *d)
{
    /* Tests force the fallback path without needing a kernel without inotify. */
    const char *off = getenv("SIFT_TEST_NO_INOTIFY");
    if (off && *off)
        return diag_set(d, DIAG_IO, "inotify is disabled (SIFT_TEST_NO_INOTIFY)");
    t->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (t->ifd < 0)
        return diag_errno(d, DIAG_IO, errno, "cannot use inotify");
    t->ifd_data = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (t->ifd_data < 0) {
        int e = errno;
        close(t->ifd);
        t->ifd = -1;
        return diag_errno(d, DIAG_IO, e, "cannot use inotify");
    }
    return 0;
}

static void ino_stop(struct tail *t)
{
    if (t->ifd >= 0)
        close(t->ifd);
    if (t->ifd_data >= 0)
        close(t->ifd_data);
    t->ifd = t->ifd_data = -1;
}

static void ino_watch_dir(struct tail *t, struct tail_dir *dir)
{
    dir->wd = inotify_add_watch(t->ifd, dir->path, DIR_STRUCT_MASK);
    if (dir->wd < 0 || inotify_add_watch(t->ifd_data, dir->path, DIR_DATA_MASK) < 0)
        /* The watch limit (fs.inotify.max_user_watches) or a file system without
         * inotify: the rescan interval still finds what changed, only later. */
        log_warn("cannot watch '%s' (%s): changes there are noticed by the periodic rescan",
                 dir->path, strerror(errno));
}

static void ino_unwatch_dir(struct tail *t, struct tail_dir *dir)
{
    /* Watches belong to inodes; leaving a stale one costs at most a spurious hint, and
     * removing one another entry still needs would lose hints: keep shared ones. */
    if (dir->wd >= 0) {
        bool shared = false;
        for (size_t i = 0; i < t->ndirs; i++)
            if (&t->dirs[i] != dir && t->dirs[i].wd == dir->wd)
                shared = true;
        if (!shared) {
            inotify_rm_watch(t->ifd, dir->wd);
            int dwd = inotify_add_watch(t->ifd_data, dir->path, DIR_DATA_MASK);
            if (dwd >= 0)
                inotify_rm_watch(t->ifd_data, dwd);
        }
    }
    dir->wd = -1;
}

static void ino_watch_file(struct tail *t, struct tail_file *f)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", f->fd);
    f->wd = inotify_add_watch(t->ifd, path, FILE_STRUCT_MASK);
    if (f->wd >= 0)
        (void)inotify_add_watch(t->ifd_data, path, FILE_DATA_MASK);
}

static void ino_unwatch_file(struct tail *t, struct tail_file *f)
{
    if (f->wd >= 0) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", f->fd);
        int dwd = inotify_add_watch(t->ifd_data, path, FILE_DATA_MASK);
        if (dwd >= 0)
            inotify_rm_watch(t->ifd_data, dwd);
        inotify_rm_watch(t->ifd, f->wd);
    }
    f->wd = -1;
}

static int ino_pollfd(const struct tail *t, bool structure)
{
    return structure ? t->ifd : t->ifd_data;
}

/* Read pending events of one instance, bounded: a busy directory produces events as
 * fast as they are read, and one pending hint is as good as many. */
static bool drain_fd(int fd, bool *rescan)
{
    _Alignas(struct inotify_event) char buf[16384];
    bool any = false;
    for (int reads = 0; reads < 8; reads++) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        any = true;
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)(void *)p;
            if (ev->mask & (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF |
                            IN_MOVE_SELF | IN_IGNORED | IN_Q_OVERFLOW))
                *rescan = true;
            p += sizeof(*ev) + ev->len;
        }
    }
    return any;
}

static void ino_drain(struct tail *t)
{
    bool rescan = false;
    /* Both descriptors are drained every time (no short-circuit). */
    bool any = drain_fd(t->ifd, &rescan);
    any = drain_fd(t->ifd_data, &rescan) || any;
    if (any)
        t->need_reconcile = true;
    if (rescan)
        t->need_rescan = true;
}

static void ino_tick(struct tail *t)
{
    (void)t;
}

const struct tail_backend_ops tail_inotify_ops = {
    .name = "inotify",
    .start = ino_start,
    .stop = ino_stop,
    .watch_dir = ino_watch_dir,
    .unwatch_dir = ino_unwatch_dir,
    .watch_file = ino_watch_file,
    .unwatch_file = ino_unwatch_file,
    .pollfd = ino_pollfd,
    .drain = ino_drain,
    .tick = ino_tick,
};
