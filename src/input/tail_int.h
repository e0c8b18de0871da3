/* SPDX-License-Identifier: MIT */
/*
 * tail_int - private to input/: the follower's state and the interface of its watcher
 * back-ends (tail_inotify.c, tail_poll.c), in the manner of Fluent Bit's tail_fs.h.
 *
 * A back-end only produces hints: "something in this directory or file may have
 * changed" (need_reconcile) and "a directory's entries changed" (need_rescan).
 * tail.c turns hints into facts with fstat()/stat().
 */
#ifndef SIFT_INPUT_TAIL_INT_H
#define SIFT_INPUT_TAIL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/diag.h"
#include "input/input.h"

/* A directory the sources list files from (watched for new and renamed entries). */
struct tail_dir {
    char *path;
    int wd;           /* inotify watch, -1 if none */
    int64_t mtime_ns; /* polling: a change of st_mtim means entries changed */
    bool seen;        /* still needed after the last rescan */
};

struct tail_source {
    char *name;
    char **paths;
    size_t npaths;
    char *include;
};

struct tail_backend_ops {
    const char *name;
    /* Returns 0, or -1 with @d filled when the back-end cannot work here. */
    int (*start)(struct tail *t, struct diag *d);
    void (*stop)(struct tail *t);
    void (*watch_dir)(struct tail *t, struct tail_dir *dir);
    void (*unwatch_dir)(struct tail *t, struct tail_dir *dir);
    void (*watch_file)(struct tail *t, struct tail_file *f); /* just opened */
    void (*unwatch_file)(struct tail *t, struct tail_file *f);
    /* Descriptors that become readable with hints, or -1 (polling): @structure for
     * entries appearing, moving or disappearing (always listened to, so a new file is
     * held open before it can be rotated away), else for writes (listened to only when
     * the caller wants them). */
    int (*pollfd)(const struct tail *t, bool structure);
    /* Consume pending hints; set t->need_reconcile / t->need_rescan. */
    void (*drain)(struct tail *t);
    /* Polling: the poll period passed; look at the directories. */
    void (*tick)(struct tail *t);
};

extern const struct tail_backend_ops tail_inotify_ops;
extern const struct tail_backend_ops tail_poll_ops;

struct tail {
    struct tail_opts o;
    const struct tail_backend_ops *ops;
    int ifd;      /* inotify: entries created, moved, deleted (tail_inotify.c); -1 */
    int ifd_data; /* inotify: files written; -1 */

    struct tail_source *sources;
    size_t nsources, sources_alloc;
    struct tail_file **files; /* heap entries: pointers stay valid until dropped */
    size_t nfiles, files_alloc;
    struct tail_dir *dirs;
    size_t ndirs, dirs_alloc;

    bool need_rescan;    /* a directory's entries changed (or first run) */
    bool need_reconcile; /* a hint arrived */
    int64_t next_rescan_ns, next_poll_ns;
};

#endif
