/* SPDX-License-Identifier: MIT */
/*
 * tail_poll.c - the polling watcher, for systems or file systems without inotify (NFS,
 * some containers) or when asked for (`watcher: poll`): every poll interval tail.c
 * stat()s the files, and a directory whose mtime moved is listed again. The same
 * reconcile code as with inotify decides what happened (Fluent Bit's tail_fs_stat.c
 * beside tail_fs_inotify.c).
 */
#include <sys/stat.h>

#include "input/tail_int.h"

static int poll_start(struct tail *t, struct diag *d)
{
    (void)t;
    (void)d;
    return 0;
}

static void poll_stop(struct tail *t)
{
    (void)t;
}

static void poll_watch_dir(struct tail *t, struct tail_dir *dir)
{
    (void)t;
    dir->wd = -1;
}

static void poll_unwatch_dir(struct tail *t, struct tail_dir *dir)
{
    (void)t;
    (void)dir;
}

static void poll_watch_file(struct tail *t, struct tail_file *f)
{
    (void)t;
    f->wd = -1;
}

static void poll_unwatch_file(struct tail *t, struct tail_file *f)
{
    (void)t;
    (void)f;
}

static int poll_pollfd(const struct tail *t, bool structure)
{
    (void)t;
    (void)structure;
    return -1;
}

static void poll_drain(struct tail *t)
{
    (void)t;
}

static void poll_tick(struct tail *t)
{
    for (size_t i = 0; i < t->ndirs; i++) {
        struct stat st;
        struct tail_dir *dir = &t->dirs[i];
        if (stat(dir->path, &st) < 0) {
            t->need_rescan = true;
            continue;
        }
        int64_t m = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        if (m != dir->mtime_ns) {
            dir->mtime_ns = m;
            t->need_rescan = true;
        }
    }
}

const struct tail_backend_ops tail_poll_ops = {
    .name = "poll",
    .start = poll_start,
    .stop = poll_stop,
    .watch_dir = poll_watch_dir,
    .unwatch_dir = poll_unwatch_dir,
    .watch_file = poll_watch_file,
    .unwatch_file = poll_unwatch_file,
    .pollfd = poll_pollfd,
    .drain = poll_drain,
    .tick = poll_tick,
};
