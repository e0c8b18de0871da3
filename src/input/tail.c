/* SPDX-License-Identifier: MIT */
/*
 * tail.c - the follower: which files each source has, which of them changed, and what
 * happened to the ones that moved (see "tail" in input.h).
 *
 * Files are identified by (dev, inode) while they are held open (the inode cannot be
 * reused then), so a renamed file keeps its entry and its descriptor; a file that is
 * not held is only a name with the (dev, inode) last seen, re-listed on every rescan.
 * Whether the *content* is the stream read before (inode reuse, truncate-and-regrow)
 * is the store's question, answered by content hashes when the file is read.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/path.h"
#include "core/sbuf.h"
#include "core/xalloc.h"
#include "input/input.h"
#include "input/tail_int.h"

#define DEFAULT_POLL_US   (250 * 1000)
#define DEFAULT_RESCAN_US (INT64_C(60) * 1000 * 1000)
#define NS_NEVER          INT64_MAX

/* Per-rescan marks, kept apart from the public struct. */
enum found { FOUND_NONE = 0, FOUND_SIBLING = 1, FOUND_PRIMARY = 2 };

static int64_t ns_of(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

struct tail *tail_new(const struct tail_opts *o, struct diag *d)
{
    struct tail *t = xcalloc(1, sizeof(*t));
    t->o = *o;
    if (t->o.poll_interval_us <= 0)
        t->o.poll_interval_us = DEFAULT_POLL_US;
    if (t->o.rescan_interval_us <= 0)
        t->o.rescan_interval_us = DEFAULT_RESCAN_US;
    t->ifd = t->ifd_data = -1;
    t->need_rescan = true;
    t->need_reconcile = true;
    t->next_rescan_ns = NS_NEVER;
    t->next_poll_ns = NS_NEVER;

    if (o->backend == TAIL_POLL) {
        t->ops = &tail_poll_ops;
    } else {
        struct diag why = DIAG_INIT;
        t->ops = &tail_inotify_ops;
        if (t->ops->start(t, &why) < 0) {
            if (o->backend == TAIL_INOTIFY) {
                diag_set(d, why.kind, "%s", why.msg);
                free(t);
                return NULL;
            }
            log_note("%s: following files by polling every %lld ms", why.msg,
                     (long long)(t->o.poll_interval_us / 1000));
            t->ops = &tail_poll_ops;
        }
    }
    if (t->ops == &tail_poll_ops && t->ops->start(t, d) < 0) {
        free(t);
        return NULL;
    }
    if (t->ops == &tail_poll_ops)
        t->next_poll_ns = clock_mono_ns() + t->o.poll_interval_us * 1000;
    return t;
}

static void file_free(struct tail *t, struct tail_file *f)
{
    if (f->fd >= 0) {
        t->ops->unwatch_file(t, f);
        close(f->fd);
    }
    if (f->user && t->o.user_free)
        t->o.user_free(f->user);
    free(f->name);
    free(f->origin);
    free(f);
}

void tail_free(struct tail *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nfiles; i++)
        file_free(t, t->files[i]);
    free(t->files);
    for (size_t i = 0; i < t->ndirs; i++) {
        t->ops->unwatch_dir(t, &t->dirs[i]);
        free(t->dirs[i].path);
    }
    free(t->dirs);
    tail_clear_sources(t);
    free(t->sources);
    t->ops->stop(t);
    free(t);
}

const char *tail_backend_name(const struct tail *t)
{
    return t->ops->name;
}

void tail_add_source(struct tail *t, const struct tail_source_spec *spec)
{
    XGROW(t->sources, t->nsources + 1, t->sources_alloc);
    struct tail_source *s = &t->sources[t->nsources++];
    s->name = xstrdup(spec->name ? spec->name : "");
    s->paths = xcalloc(spec->npaths ? spec->npaths : 1, sizeof(*s->paths));
    s->npaths = spec->npaths;
    for (size_t i = 0; i < spec->npaths; i++)
        s->paths[i] = xstrdup(spec->paths[i]);
    s->include = spec->include ? xstrdup(spec->include) : NULL;
    t->need_rescan = true;
}

void tail_clear_sources(struct tail *t)
{
    for (size_t i = 0; i < t->nsources; i++) {
        struct tail_source *s = &t->sources[i];
        for (size_t k = 0; k < s->npaths; k++)
            free(s->paths[k]);
        free(s->paths);
        free(s->name);
        free(s->include);
    }
    t->nsources = 0;
    t->need_rescan = true;
}

size_t tail_count(const struct tail *t)
{
    return t->nfiles;
}

struct tail_file *tail_file_at(struct tail *t, size_t i)
{
    return i < t->nfiles ? t->files[i] : NULL;
}

int64_t tail_deadline_ns(const struct tail *t)
{
    return t->next_rescan_ns < t->next_poll_ns ? t->next_rescan_ns : t->next_poll_ns;
}

/* ---- listing ---- */

static void watch_dir(struct tail *t, const char *path)
{
    for (size_t i = 0; i < t->ndirs; i++) {
        if (!strcmp(t->dirs[i].path, path)) {
            t->dirs[i].seen = true;
            return;
        }
    }
    struct stat st;
    if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
        return; /* appears later: found by a rescan */
    XGROW(t->dirs, t->ndirs + 1, t->dirs_alloc);
    struct tail_dir *dir = &t->dirs[t->ndirs++];
    *dir = (struct tail_dir){ .path = xstrdup(path), .wd = -1, .seen = true };
    dir->mtime_ns = ns_of(&st.st_mtim);
    t->ops->watch_dir(t, dir);
}

static void watch_parent(struct tail *t, const char *path)
{
    char *dir = path_dirname(path);
    watch_dir(t, dir);
    free(dir);
}

static bool has_magic(const char *p)
{
    return strpbrk(p, "*?[") != NULL;
}

static struct tail_file *find_ino(struct tail *t, uint64_t dev, uint64_t ino)
{
    for (size_t i = 0; i < t->nfiles; i++)
        if (t->files[i]->dev == dev && t->files[i]->ino == ino)
            return t->files[i];
    return NULL;
}

/* One rescan: the marks of which way each entry was found live in the entries. */
struct scan {
    struct tail *t;
};

static void add_found(struct scan *sc, size_t source, const char *path, const struct stat *st,
                      enum found how, const char *origin)
{
    struct tail *t = sc->t;
    struct tail_file *f = find_ino(t, (uint64_t)st->st_dev, (uint64_t)st->st_ino);
    if (f) {
        bool was_found = f->seen;
        f->seen = true;
        /* A file listed twice (a directory and a glob) keeps its first name; a file
         * found under another name was renamed. A primary name beats a sibling one. */
        if ((!was_found || how > (enum found)f->found) && strcmp(f->name, path) != 0) {
            free(f->name);
            f->name = xstrdup(path);
        }
        if (how == FOUND_PRIMARY && f->sibling && f->fd < 0)
            f->sibling = false;
        if (!was_found)
            f->source = source; /* sources may have been replaced (reload) */
        if (origin && !f->origin)
            f->origin = xstrdup(origin);
        if (how > (enum found)f->found)
            f->found = (unsigned char)how;
        return;
    }
    f = xcalloc(1, sizeof(*f));
    f->name = xstrdup(path);
    f->origin = origin ? xstrdup(origin) : NULL;
    f->source = source;
    f->state = TAIL_FILE_LIVE;
    f->sibling = how == FOUND_SIBLING;
    f->fd = -1;
    f->wd = -1;
    f->dev = (uint64_t)st->st_dev;
    f->ino = (uint64_t)st->st_ino;
    f->size = (uint64_t)st->st_size;
    f->mtime_ns = ns_of(&st->st_mtim);
    f->gzip = st->st_size >= 2 && input_path_is_gzip(path);
    f->grew_ns = clock_mono_ns();
    f->changed_ns = st->st_size > 0 ? f->grew_ns : 0; /* never read: the reader decides */
    f->seen = true;
    XGROW(t->files, t->nfiles + 1, t->files_alloc);
    t->files[t->nfiles++] = f;
    f->found = (unsigned char)how;
}

static bool is_regular(const char *path, struct stat *st)
{
    return stat(path, st) == 0 && S_ISREG(st->st_mode);
}

/* Files of a directory whose names match @include (hidden ones never); of twins of one
 * server's destinations (postgresql.log beside postgresql.csv), the csvlog, else the
 * jsonlog, as pgsift ingest does (docs/tail.md). */
static void scan_dir(struct scan *sc, size_t source, const char *dir, const char *include)
{
    DIR *dh = opendir(dir);
    if (!dh)
        return;
    struct dirent *de;
    char **paths = NULL;
    struct stat *st = NULL;
    size_t n = 0, alloc = 0, alloc_st = 0;
    const char *sep = dir[strlen(dir) - 1] == '/' ? "" : "/";
    while ((de = readdir(dh))) {
        if (de->d_name[0] == '.')
            continue;
        if (include && fnmatch(include, de->d_name, FNM_PERIOD) != 0)
            continue;
        struct sbuf path = SBUF_INIT;
        if (sbuf_addf(&path, "%s%s%s", dir, sep, de->d_name) < 0) {
            sbuf_release(&path);
            continue;
        }
        XGROW(paths, n + 1, alloc);
        XGROW(st, n + 1, alloc_st);
        paths[n] = sbuf_detach(&path, NULL);
        if (stat(paths[n], &st[n]) < 0)
            memset(&st[n], 0, sizeof(st[n])); /* (gone since: not regular, mtime unknown) */
        n++;
    }
    closedir(dh);
    /* (the same directory before every name: comparing whole paths compares names) */
    int64_t *mtimes = xcalloc(n ? n : 1, sizeof(*mtimes));
    for (size_t i = 0; i < n; i++)
        mtimes[i] = (int64_t)st[i].st_mtim.tv_sec;
    size_t *twin = input_dest_twins((const char *const *)paths, mtimes, NULL, n);
    for (size_t i = 0; i < n; i++) {
        if (twin[i] == SIZE_MAX && S_ISREG(st[i].st_mode))
            add_found(sc, source, paths[i], &st[i], FOUND_PRIMARY, NULL);
        free(paths[i]);
    }
    free(twin);
    free(mtimes);
    free(st);
    free(paths);
}

/* Whether @rest, what follows a log's name and one of ".-_", names a rotation of it as
 * logrotate and its kind write them: a number or a date, maybe gzipped ("1", "2.gz",
 * "20250101", "2025-01-01_12.gz"), not another file that starts with the log's name
 * (".save", ".notes", ".err": QA 29, each read as a rotated log). */
static bool rotation_suffix(const char *rest)
{
    size_t n = strlen(rest);
    if (n > 3 && !strcmp(rest + n - 3, ".gz"))
        n -= 3;
    if (!n || rest[0] < '0' || rest[0] > '9')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789.-_T:", rest[i]))
            return false;
    return true;
}

/* Rotated siblings of the file @path: same directory, name = base + [.-_] + a rotation
 * suffix (rotation_suffix()). */
static void scan_siblings(struct scan *sc, size_t source, const char *path)
{
    char *dir = path_dirname(path);
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t blen = strlen(base);
    DIR *dh = opendir(dir);
    if (dh) {
        struct dirent *de;
        struct sbuf p = SBUF_INIT;
        while ((de = readdir(dh))) {
            if (strncmp(de->d_name, base, blen) != 0 || de->d_name[blen] == '\0' ||
                !strchr(".-_", de->d_name[blen]) || !rotation_suffix(de->d_name + blen + 1))
                continue;
            struct stat st;
            sbuf_reset(&p);
            if (sbuf_addf(&p, "%s%s%s", slash ? dir : "", slash ? "/" : "", de->d_name) < 0)
                continue;
            if (is_regular(p.buf, &st))
                add_found(sc, source, p.buf, &st, FOUND_SIBLING, path);
        }
        sbuf_release(&p);
        closedir(dh);
    }
    free(dir);
}

static void scan_path(struct scan *sc, size_t source, const char *path, const char *include)
{
    struct tail *t = sc->t;
    struct stat st;

    if (has_magic(path)) {
        /* Watch the deepest directory without wildcards: new matches appear there. */
        const char *magic = strpbrk(path, "*?[");
        const char *slash = magic;
        while (slash > path && *slash != '/')
            slash--;
        if (*slash == '/') {
            char *fixed = slash == path ? xstrdup("/") : xmemdupz(path, (size_t)(slash - path));
            watch_dir(t, fixed);
            free(fixed);
        } else {
            watch_dir(t, ".");
        }
        glob_t g;
        if (glob(path, 0, NULL, &g) == 0) {
            for (size_t i = 0; i < g.gl_pathc; i++) {
                if (is_regular(g.gl_pathv[i], &st)) {
                    add_found(sc, source, g.gl_pathv[i], &st, FOUND_PRIMARY, NULL);
                    watch_parent(t, g.gl_pathv[i]);
                }
            }
        }
        globfree(&g);
        return;
    }
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        watch_dir(t, path);
        scan_dir(sc, source, path, include);
        return;
    }
    watch_parent(t, path);
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
        add_found(sc, source, path, &st, FOUND_PRIMARY, path);
    scan_siblings(sc, source, path);
}

/* Where did the file behind @f's descriptor go? Look for its inode in its directory. */
static void find_new_name(struct tail_file *f)
{
    char *dir = path_dirname(f->name);
    DIR *dh = opendir(dir);
    if (dh) {
        struct dirent *de;
        struct sbuf p = SBUF_INIT;
        while ((de = readdir(dh))) {
            if ((uint64_t)de->d_ino != f->ino)
                continue;
            struct stat st;
            sbuf_reset(&p);
            if (sbuf_addf(&p, "%s%s%s", strchr(f->name, '/') ? dir : "",
                          strchr(f->name, '/') ? "/" : "", de->d_name) < 0)
                continue;
            if (stat(p.buf, &st) == 0 && (uint64_t)st.st_dev == f->dev &&
                (uint64_t)st.st_ino == f->ino) {
                free(f->name);
                f->name = sbuf_detach(&p, NULL);
                break;
            }
        }
        sbuf_release(&p);
        closedir(dh);
    }
    free(dir);
}

static void drop_at(struct tail *t, size_t i)
{
    file_free(t, t->files[i]);
    memmove(t->files + i, t->files + i + 1, (t->nfiles - i - 1) * sizeof(*t->files));
    t->nfiles--;
}

/* Files that may still be written are held open as soon as they are seen, so that a
 * rotation right after they appeared cannot take them out of reach before they are read
 * (their descriptor keeps them). Old files (a directory's history) are not: they are read
 * by name and no longer written. */
static void hold_new(struct tail *t)
{
    if (t->o.hold_recent_us <= 0)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = ns_of(&ts);
    for (size_t i = 0; i < t->nfiles; i++) {
        struct tail_file *f = t->files[i];
        if (f->fd >= 0 || f->sibling || f->gzip || f->state != TAIL_FILE_LIVE || f->held_once ||
            now - f->mtime_ns > t->o.hold_recent_us * 1000)
            continue;
        struct diag d = DIAG_INIT;
        f->held_once = true;
        if (tail_file_open(t, f, &d) < 0)
            log_warn("%s", d.msg);
    }
}

static void rescan(struct tail *t)
{
    struct scan sc = { .t = t };

    for (size_t i = 0; i < t->nfiles; i++) {
        t->files[i]->seen = false;
        t->files[i]->found = FOUND_NONE;
    }
    for (size_t i = 0; i < t->ndirs; i++)
        t->dirs[i].seen = false;
    for (size_t s = 0; s < t->nsources; s++)
        for (size_t k = 0; k < t->sources[s].npaths; k++)
            scan_path(&sc, s, t->sources[s].paths[k], t->sources[s].include);

    for (size_t i = 0; i < t->nfiles;) {
        struct tail_file *f = t->files[i];
        enum found how = (enum found)f->found;
        if (how == FOUND_PRIMARY || (how == FOUND_SIBLING && f->sibling)) {
            f->state = TAIL_FILE_LIVE;
            f->gone_ns = 0;
        } else if (how == FOUND_SIBLING && f->fd < 0) {
            /* Renamed to a rotated name after it was read and closed. */
            f->sibling = true;
            f->state = TAIL_FILE_LIVE;
            f->gone_ns = 0;
        } else if (f->fd >= 0) {
            /* Not named by its source any more (or only as a rotated sibling of it). */
            struct stat st;
            bool gone = fstat(f->fd, &st) == 0 && st.st_nlink == 0;
            enum tail_file_state was = f->state;
            f->state = gone ? TAIL_FILE_DELETED : TAIL_FILE_ROTATED;
            if (was == TAIL_FILE_LIVE)
                f->gone_ns = clock_mono_ns();
            if (was == TAIL_FILE_LIVE && !gone && how == FOUND_NONE)
                find_new_name(f);
            if (was != f->state)
                log_verbose("'%s' was %s: reading it to its end", f->name,
                            gone ? "deleted" : "rotated");
        } else {
            drop_at(t, i);
            continue;
        }
        i++;
    }
    for (size_t i = 0; i < t->ndirs;) {
        if (!t->dirs[i].seen) {
            t->ops->unwatch_dir(t, &t->dirs[i]);
            free(t->dirs[i].path);
            t->dirs[i] = t->dirs[--t->ndirs];
            continue;
        }
        i++;
    }
    t->need_rescan = false;
    hold_new(t);
    t->next_rescan_ns = clock_mono_ns() + t->o.rescan_interval_us * 1000;
}

/* ---- reconcile ---- */

static int cmp_files(const void *a, const void *b)
{
    const struct tail_file *x = *(struct tail_file *const *)a, *y = *(struct tail_file *const *)b;
    if (x->source != y->source)
        return x->source < y->source ? -1 : 1;
    int rx = x->state != TAIL_FILE_LIVE || x->sibling,
        ry = y->state != TAIL_FILE_LIVE || y->sibling;
    if (rx != ry)
        return rx ? -1 : 1; /* rotated away: older than what is named now */
    if (x->mtime_ns != y->mtime_ns)
        return x->mtime_ns < y->mtime_ns ? -1 : 1;
    /* Same time: name.2 is older than name.1 (logrotate numbering). */
    return -strcmp(x->name, y->name);
}

/* Update one file from @st; returns true when it changed. */
static void observe(struct tail_file *f, const struct stat *st, int64_t now)
{
    uint64_t size = (uint64_t)st->st_size;
    int64_t mtime = ns_of(&st->st_mtim);
    if (size != f->size || mtime != f->mtime_ns) {
        f->grew_ns = now;
        if (!f->gzip && f->size < 2 && size >= 2)
            f->gzip = f->fd >= 0 ? input_fd_is_gzip(f->fd) : input_path_is_gzip(f->name);
    }
    f->size = size;
    f->mtime_ns = mtime;
    bool differs = !f->done_valid || size != f->done_size || mtime != f->done_mtime_ns;
    if (!differs)
        f->changed_ns = 0;
    else if (!f->changed_ns && (f->done_valid || size > 0))
        f->changed_ns = now;
}

int tail_reconcile(struct tail *t, bool want_rescan, struct diag *d)
{
    (void)d;
    int64_t now = clock_mono_ns();
    t->ops->drain(t);
    if (want_rescan || t->need_rescan || now >= t->next_rescan_ns)
        rescan(t);

    for (int pass = 0; pass < 2; pass++) {
        bool moved = false;
        for (size_t i = 0; i < t->nfiles; i++) {
            struct tail_file *f = t->files[i];
            struct stat st, nst;
            if (f->fd >= 0) {
                if (fstat(f->fd, &st) < 0)
                    continue;
                if (st.st_nlink == 0 && f->state != TAIL_FILE_DELETED) {
                    if (f->state == TAIL_FILE_LIVE)
                        f->gone_ns = now;
                    f->state = TAIL_FILE_DELETED;
                    log_verbose("'%s' was deleted: reading it to its end", f->name);
                }
                /* Does its name still lead to it? If not, it was rotated: list again. */
                if (f->state == TAIL_FILE_LIVE &&
                    (stat(f->name, &nst) < 0 || (uint64_t)nst.st_dev != f->dev ||
                     (uint64_t)nst.st_ino != f->ino))
                    moved = true;
                observe(f, &st, now);
                continue;
            }
            if (stat(f->name, &st) < 0 || (uint64_t)st.st_dev != f->dev ||
                (uint64_t)st.st_ino != f->ino) {
                moved = true; /* gone or replaced: the rescan drops or re-adds it */
                continue;
            }
            observe(f, &st, now);
        }
        if (!moved || pass == 1)
            break;
        rescan(t);
    }
    if (t->nfiles > 1)
        qsort(t->files, t->nfiles, sizeof(*t->files), cmp_files);
    t->need_reconcile = false;
    return 0;
}

int tail_wait(struct tail *t, int64_t timeout_us, bool hints, struct diag *d)
{
    int64_t now = clock_mono_ns();
    int64_t until = timeout_us < 0 ? NS_NEVER : now + timeout_us * 1000;
    if (t->next_rescan_ns < until)
        until = t->next_rescan_ns;
    if (t->next_poll_ns < until)
        until = t->next_poll_ns; /* polling: directories are checked even without hints */

    struct pollfd pfd[3];
    nfds_t n = 0;
    if (t->o.wake_fd >= 0)
        pfd[n++] = (struct pollfd){ .fd = t->o.wake_fd, .events = POLLIN };
    int sfd = t->ops->pollfd(t, true), dfd = hints ? t->ops->pollfd(t, false) : -1;
    if (sfd >= 0)
        pfd[n++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
    if (dfd >= 0)
        pfd[n++] = (struct pollfd){ .fd = dfd, .events = POLLIN };
    int ms = -1;
    if (until != NS_NEVER) {
        int64_t left = until > now ? (until - now + 999999) / 1000000 : 0;
        ms = left > 86400000 ? 86400000 : (int)left;
    }
    int rc = poll(pfd, n, ms);
    if (rc < 0 && errno != EINTR)
        return diag_errno(d, DIAG_IO, errno, "cannot wait for file changes");
    now = clock_mono_ns();
    if (now >= t->next_poll_ns) {
        t->ops->tick(t);
        t->need_reconcile = true;
        t->next_poll_ns = now + t->o.poll_interval_us * 1000;
    }
    return 0;
}

/* ---- per file ---- */

int tail_file_open(struct tail *t, struct tail_file *f, struct diag *d)
{
    if (f->fd >= 0 || f->gzip)
        return 0;
    int fd = open(f->name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT) {
            t->need_rescan = true;
            return 1;
        }
        return diag_errno(d, DIAG_IO, errno, "cannot open '%s'", f->name);
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || (uint64_t)st.st_dev != f->dev || (uint64_t)st.st_ino != f->ino) {
        close(fd);
        t->need_rescan = true;
        return 1;
    }
    /* Reads must block on nothing: regular files never do, the flag only guarded the
     * open against a FIFO put in place of a log. */
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    f->fd = fd;
    t->ops->watch_file(t, f);
    observe(f, &st, clock_mono_ns());
    return 0;
}

void tail_file_done(struct tail *t, struct tail_file *f, uint64_t size, int64_t mtime_ns)
{
    (void)t;
    f->done_size = size;
    f->done_mtime_ns = mtime_ns;
    f->done_valid = true;
    if (f->size == size && f->mtime_ns == mtime_ns)
        f->changed_ns = 0;
    else if (!f->changed_ns)
        f->changed_ns = clock_mono_ns();
}

void tail_file_close(struct tail *t, struct tail_file *f)
{
    if (f->fd < 0)
        return;
    t->ops->unwatch_file(t, f);
    close(f->fd);
    f->fd = -1;
    if (f->state != TAIL_FILE_LIVE)
        t->need_rescan = true; /* drop it unless a name of its source reaches it */
}
