/* SPDX-License-Identifier: MIT */
/*
 * tail (input/tail.c): what the follower concludes from the file system, with both
 * watchers: files of a path, a directory (include glob, hidden files) and a glob;
 * rotated siblings; rename (the held file keeps its entry under its new name, a new
 * entry appears for the name), delete while open, copytruncate (changed again), the
 * reading order, what changed since tail_file_done(), and that tail_wait() wakes for a
 * new file even when writes are not listened to.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "core/clock.h"
#include "core/diag.h"
#include "input/input.h"

static char dir[64];

static const char *path(const char *name)
{
    static char buf[8][192];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof(buf[k]), "%s/%s", dir, name);
    return buf[k];
}

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/sift-tail.XXXXXX");
    if (!mkdtemp(dir))
        abort();
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0) /* banned-ok: test cleanup of its own temporary directory */
        abort();
}

static void append(const char *name, const char *text)
{
    int fd = open(path(name), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        abort();
    close(fd);
}

static struct tail *start(enum tail_backend b, const char *const *paths, size_t n,
                          const char *include)
{
    struct diag d = DIAG_INIT;
    struct tail *t = tail_new(&(struct tail_opts){ .backend = b, .wake_fd = -1 }, &d);
    CHECK_MSG(t != NULL, "%s", d.msg);
    if (!t)
        abort();
    tail_add_source(t, &(struct tail_source_spec){
                           .name = "s", .paths = paths, .npaths = n, .include = include });
    CHECK(tail_reconcile(t, false, &d) == 0);
    return t;
}

static struct tail_file *find(struct tail *t, const char *name)
{
    for (size_t i = 0; i < tail_count(t); i++)
        if (!strcmp(tail_file_at(t, i)->name, path(name)))
            return tail_file_at(t, i);
    return NULL;
}

static void reconcile(struct tail *t)
{
    struct diag d = DIAG_INIT;
    CHECK(tail_reconcile(t, false, &d) == 0);
}

static void rename_and_delete(enum tail_backend b)
{
    setup();
    append("pg.log", "one\n");
    append("pg.log.1", "older\n");
    const char *paths[] = { path("pg.log") };
    struct tail *t = start(b, paths, 1, NULL);
    struct diag d = DIAG_INIT;

    CHECK_EQ_INT(tail_count(t), 2);
    struct tail_file *f = find(t, "pg.log"), *s = find(t, "pg.log.1");
    CHECK(f && !f->sibling && f->state == TAIL_FILE_LIVE && f->changed_ns);
    CHECK(s && s->sibling);
    CHECK_EQ_STR(f ? f->origin : NULL, path("pg.log"));
    CHECK_EQ_STR(s ? s->origin : NULL, path("pg.log"));
    /* reading order: the rotated sibling first */
    CHECK(tail_file_at(t, 0) == s);
    CHECK(tail_file_open(t, f, &d) == 0 && f->fd >= 0);
    tail_file_done(t, f, f->size, f->mtime_ns);
    CHECK(f->changed_ns == 0);

    /* rename + create: the held file keeps its entry under the new name */
    CHECK(rename(path("pg.log.1"), path("pg.log.2")) == 0);
    CHECK(rename(path("pg.log"), path("pg.log.1")) == 0);
    append("pg.log", "new\n");
    reconcile(t);
    CHECK(find(t, "pg.log.1") == f);
    CHECK(f->state == TAIL_FILE_ROTATED && f->fd >= 0 && !f->sibling);
    CHECK(find(t, "pg.log.2") == s);
    struct tail_file *n = find(t, "pg.log");
    CHECK(n && n != f && n->state == TAIL_FILE_LIVE && n->changed_ns);

    /* writes to the renamed file are seen through the descriptor */
    append("pg.log.1", "late\n");
    reconcile(t);
    CHECK(f->changed_ns != 0 && f->size == 9);

    /* delete while open: reachable only through the descriptor */
    CHECK(unlink(path("pg.log.1")) == 0);
    reconcile(t);
    CHECK(f->state == TAIL_FILE_DELETED && f->fd >= 0);
    tail_file_close(t, f);
    reconcile(t);
    CHECK(find(t, "pg.log.1") == NULL);
    CHECK_EQ_INT(tail_count(t), 2);

    /* copytruncate: the same inode shrinks, which is a change */
    CHECK(tail_file_open(t, n, &d) == 0);
    tail_file_done(t, n, n->size, n->mtime_ns);
    CHECK(truncate(path("pg.log"), 0) == 0);
    reconcile(t);
    CHECK(n->changed_ns != 0 && n->size == 0);
    tail_free(t);
    teardown();
}

static void test_rename_delete_inotify(void)
{
    rename_and_delete(TAIL_INOTIFY);
}

static void test_rename_delete_poll(void)
{
    rename_and_delete(TAIL_POLL);
}

static void test_directory_and_glob(void)
{
    setup();
    CHECK(mkdir(path("log"), 0755) == 0);
    append("log/postgresql-1.csv", "a\n");
    append("log/postgresql-1.log", "b\n");
    append("log/.hidden.csv", "c\n");
    append("other.csv", "d\n");
    const char *paths[] = { path("log"), path("*.csv") };
    struct tail *t = start(TAIL_INOTIFY, paths, 2, "*.csv*");
    CHECK_EQ_INT(tail_count(t), 2);
    CHECK(find(t, "log/postgresql-1.csv") != NULL);
    CHECK(find(t, "other.csv") != NULL);
    CHECK(find(t, "log/postgresql-1.log") == NULL);
    CHECK(find(t, "log/.hidden.csv") == NULL);
    CHECK(find(t, "other.csv") && find(t, "other.csv")->origin == NULL);

    /* a new file in the directory (timestamped log_filename) */
    append("log/postgresql-2.csv.1.gz", "\x1f\x8b");
    reconcile(t);
    struct tail_file *g = find(t, "log/postgresql-2.csv.1.gz");
    CHECK(g && g->gzip && !g->sibling);

    /* a file named twice (directory and glob) is listed once */
    const char *twice[] = { path("log"), path("log/*.csv") };
    struct tail *t2 = start(TAIL_POLL, twice, 2, "*.csv");
    CHECK_EQ_INT(tail_count(t2), 1);
    tail_free(t2);
    tail_free(t);
    teardown();
}

static void test_missing_then_created(void)
{
    setup();
    const char *paths[] = { path("later.log") };
    struct tail *t = start(TAIL_INOTIFY, paths, 1, NULL);
    CHECK_EQ_INT(tail_count(t), 0);
    append("later.log", "x\n");
    reconcile(t);
    CHECK_EQ_INT(tail_count(t), 1);
    tail_free(t);
    teardown();
}

/* With writes not listened to, a new file still ends the wait at once (so it is held
 * before a fast rotation), and a write does not. */
static void test_wait_structure_only(void)
{
    setup();
    append("pg.log", "x\n");
    const char *paths[] = { path("pg.log") };
    struct tail *t = start(TAIL_INOTIFY, paths, 1, NULL);
    struct diag d = DIAG_INIT;
    CHECK(tail_wait(t, 0, true, &d) == 0); /* drain what start-up produced */
    reconcile(t);

    append("pg.log", "write\n");
    int64_t t0 = clock_mono_ns();
    CHECK(tail_wait(t, 300 * 1000, false, &d) == 0);
    CHECK_MSG(clock_mono_ns() - t0 >= 250 * 1000000, "a write woke a wait without hints");

    append("pg.log.1", "rotated\n");
    t0 = clock_mono_ns();
    CHECK(tail_wait(t, 5 * 1000 * 1000, false, &d) == 0);
    CHECK_MSG(clock_mono_ns() - t0 < 2000 * 1000000LL, "a new file did not wake the wait");
    reconcile(t);
    CHECK(find(t, "pg.log.1") != NULL);
    tail_free(t);
    teardown();
}

static void test_hold_recent(void)
{
    setup();
    append("pg.log", "x\n");
    const char *paths[] = { path("pg.log") };
    struct diag d = DIAG_INIT;
    struct tail *t = tail_new(&(struct tail_opts){ .backend = TAIL_POLL,
                                                   .wake_fd = -1,
                                                   .hold_recent_us = 3600 * USEC_PER_SEC },
                              &d);
    tail_add_source(t, &(struct tail_source_spec){ .paths = paths, .npaths = 1 });
    CHECK(tail_reconcile(t, false, &d) == 0);
    struct tail_file *f = find(t, "pg.log");
    CHECK(f && f->fd >= 0); /* held as soon as seen */
    /* renamed before anyone read it: still reachable */
    CHECK(rename(path("pg.log"), path("pg.log.1")) == 0);
    CHECK(tail_reconcile(t, true, &d) == 0);
    CHECK(find(t, "pg.log.1") == f && f->state == TAIL_FILE_ROTATED);
    tail_free(t);
    teardown();
}

static void test_inotify_unavailable(void)
{
    setenv("SIFT_TEST_NO_INOTIFY", "1", 1);
    struct diag d = DIAG_INIT;
    struct tail *t = tail_new(&(struct tail_opts){ .backend = TAIL_INOTIFY, .wake_fd = -1 }, &d);
    CHECK(t == NULL && d.kind == DIAG_IO);
    diag_clear(&d);
    t = tail_new(&(struct tail_opts){ .backend = TAIL_AUTO, .wake_fd = -1 }, &d);
    CHECK(t && !strcmp(tail_backend_name(t), "poll"));
    tail_free(t);
    unsetenv("SIFT_TEST_NO_INOTIFY");
}

TEST_LIST = {
    { "rename_delete_inotify", test_rename_delete_inotify },
    { "rename_delete_poll", test_rename_delete_poll },
    { "directory_and_glob", test_directory_and_glob },
    { "missing_then_created", test_missing_then_created },
    { "wait_structure_only", test_wait_structure_only },
    { "hold_recent", test_hold_recent },
    { "inotify_unavailable", test_inotify_unavailable },
    { NULL, NULL },
};
