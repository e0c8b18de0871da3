/* SPDX-License-Identifier: MIT */
/*
 * checkpoint.c - WAL checkpoints in a thread of their own (store_opts.checkpoint_thread).
 *
 * In WAL mode SQLite copies the log back into the database ("checkpoint") when a commit
 * leaves the log over 1 000 pages, in the committing thread, and with synchronous =
 * NORMAL that is where the store's fsyncs happen: a commit that checkpoints waits for
 * the disk (tens of ms; longer when the disk is busy). `pgsift ingest` and `pgsift tail`
 * hold the store while committing, so every reader of `-j N`, or the tail loop, waited.
 *
 * Here the committing connection only notices that the log is long (its WAL hook, which
 * replaces the automatic checkpoint; SIFT_WAL_CHECKPOINT_PAGES, 4 MiB) and wakes a thread
 * that runs a PASSIVE checkpoint on a second connection to the same file. A passive
 * checkpoint never blocks writers and is never blocked by them (it copies what no reader
 * still needs, and the next commit after a complete one restarts the log from its start),
 * so the fsyncs leave the commit path. Durability and exactly-once are as before: each
 * commit is still one transaction in the log, synced at the checkpoint that copies it, as
 * SQLite's own checkpoint does.
 *
 * The log stays bounded: should the thread fall behind (the disk slower than ingest) and
 * the log reach SIFT_WAL_FORCE_PAGES, the committing connection checkpoints itself, as
 * SQLite would have done. A failed checkpoint is reported once (log_warn) and retried at
 * the next wake-up; the data is safe in the log meanwhile, and closing the store
 * checkpoints what is left, as before.
 *
 * Near the end of a writer's work (ckpt_eager()) every commit wakes the thread, so
 * that closing the store - which checkpoints what is left, in the closing thread - has
 * little left to copy. Its last commit does not (ckpt_last(): the next commit skips
 * its wake-up): the close checkpoints anyway, after PRAGMA optimize has committed too,
 * and each checkpoint that copies anything syncs the log - the thread's round would come
 * on top of the close's. (Only a hint: should another writer of the run commit after
 * it, that commit wakes the thread as before.) The close does not wait for the thread
 * before its own work either (ckpt_quit(), then ckpt_stop()): a checkpoint still
 * running finishes beside the optimize.
 *
 * Locking: mu guards want/quit/wake_pages/skip_one; the hook only takes mu and signals.
 */
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "core/limits.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "store/store_int.h"

struct store_ckpt {
    sqlite3 *db; /* the thread's own connection */
    sqlite3 *writer;
    char *path;
    pthread_t tid;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool want, quit;      /* under mu */
    int wake_pages;       /* under mu: log pages that wake the thread (ckpt_eager()) */
    bool skip_one;        /* under mu: the next commit does not wake it (ckpt_last()) */
    unsigned long done;   /* under mu: checkpoints run to completion */
    unsigned long forced; /* under mu: checkpoints the committing connection ran itself */
    bool warned;          /* thread-owned */
};

static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
    struct store_ckpt *c = arg;
    (void)name;
    if (pages >= SIFT_WAL_FORCE_PAGES) {
        /* The thread fell behind: do what SQLite's automatic checkpoint would. */
        sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_lock(&c->mu);
        c->forced++;
        pthread_mutex_unlock(&c->mu);
        return SQLITE_OK;
    }
    pthread_mutex_lock(&c->mu);
    if (c->skip_one)
        c->skip_one = false; /* (ckpt_last()) */
    else if (pages >= c->wake_pages) {
        c->want = true;
        pthread_cond_signal(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    return SQLITE_OK;
}

static void *ckpt_main(void *arg)
{
    struct store_ckpt *c = arg;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->want && !c->quit)
            pthread_cond_wait(&c->cv, &c->mu);
        if (c->quit)
            break;
        c->want = false;
        pthread_mutex_unlock(&c->mu);
        int log = -1, copied = -2;
        int rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY && !c->warned) {
            log_warn("cannot checkpoint store '%s' (its log keeps the data; retried): %s", c->path,
                     sqlite3_errmsg(c->db));
            c->warned = true;
        }
        pthread_mutex_lock(&c->mu);
        if (rc == SQLITE_OK && log == copied)
            c->done++;
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

struct store_ckpt *ckpt_start(sqlite3 *writer, const char *path)
{
    struct store_ckpt *c = xcalloc(1, sizeof(*c));
    c->writer = writer;
    c->path = xstrdup(path);
    if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(c->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_close(c->db);
        free(c->path);
        free(c);
        return NULL; /* checkpoints stay automatic */
    }
    sqlite3_busy_timeout(c->db, 0);
    c->wake_pages = SIFT_WAL_CHECKPOINT_PAGES;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    if (pthread_create(&c->tid, NULL, ckpt_main, c) != 0) {
        pthread_cond_destroy(&c->cv);
        pthread_mutex_destroy(&c->mu);
        sqlite3_close(c->db);
        free(c->path);
        free(c);
        return NULL;
    }
    sqlite3_wal_hook(writer, wal_hook, c);
    return c;
}

void ckpt_counts(struct store_ckpt *c, unsigned long *done, unsigned long *forced)
{
    *done = *forced = 0;
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    *done = c->done;
    *forced = c->forced;
    pthread_mutex_unlock(&c->mu);
}

void ckpt_eager(struct store_ckpt *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->wake_pages = 1;
    pthread_mutex_unlock(&c->mu);
}

void ckpt_last(struct store_ckpt *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->skip_one = true;
    pthread_mutex_unlock(&c->mu);
}

void ckpt_quit(struct store_ckpt *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->quit = true;
    c->wake_pages = INT_MAX;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

void ckpt_stop(struct store_ckpt *c)
{
    if (!c)
        return;
    ckpt_quit(c);
    pthread_join(c->tid, NULL);
    sqlite3_wal_autocheckpoint(c->writer, 1000); /* SQLite's own hook again */
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    sqlite3_close(c->db);
    free(c->path);
    free(c);
}
