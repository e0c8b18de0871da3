/* SPDX-License-Identifier: MIT */
/*
 * daemon - the loop of `pgsift tail`: follow the sources of a configuration
 * (input/ tail), read every file that changed into the store through ingest (exactly
 * once: each batch commits its records with the file's position), run the hooks of the
 * modules that work inside the daemon (rules, reports), and answer signals:
 * SIGTERM/SIGINT commit and return 0, SIGHUP reloads the configuration (a bad one is
 * reported and the old one kept).
 *
 * Batching: a file is read half a commit interval after it was first seen growing (so a
 * line waits at most about one interval), or at once when the estimated backlog holds
 * commit_records records; while reading, a commit follows every commit_records records.
 * While a read is scheduled the watcher is not listened to (its events are hints, and
 * the read looks at every file anyway), so a busy log costs two wake-ups per interval,
 * and an idle one none.
 *
 * Owns, while daemon_run() runs: the store handle, the follower and its descriptors,
 * the signal handlers (restored on return).
 */
#ifndef SIFT_CMD_DAEMON_H
#define SIFT_CMD_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "core/diag.h"
#include "store/store.h"

/*
 * Work that runs inside the daemon. The rules engine and the daily report plug in
 * here (hook table in daemon_hooks.c); every member may be NULL.
 */
struct daemon_hook {
    const char *name;
    void *ctx;
    /* Once, after the store is open and before the first configure: the store's file
     * (a hook that keeps tables of its own opens its connection here). Returns 0, or -1
     * with @d filled: the daemon fails. */
    int (*start)(void *ctx, const char *store_path, struct diag *d);
    /* The configuration was loaded (at start) or reloaded: take what you need (c->rules,
     * c->receivers, c->route, c->report ... raw nodes of c->y). Returns 0, or -1 with @d
     * filled: at start the daemon fails, on a reload the new configuration is refused
     * and the previous one stays in force. */
    int (*configure)(void *ctx, const struct config *c, struct store *s, struct diag *d);
    /* `pgsift tail --check`: check the hook's sections of @c as configure() would,
     * without a store and changing nothing; every problem printed. Returns 0, or -1 with
     * @d filled. */
    int (*check)(const struct config *c, struct diag *d);
    /* After a round of reads that committed records (the store holds them). Failures
     * are logged; the daemon goes on. */
    int (*after_commit)(void *ctx, struct store *s, int64_t now_us, struct diag *d);
    /* The next wall-clock time (µs) the hook wants tick() called (a scheduled report);
     * INT64_MAX for none. */
    int64_t (*next_tick_us)(void *ctx, int64_t now_us);
    int (*tick)(void *ctx, struct store *s, int64_t now_us, struct diag *d);
    /* The daemon stops after a run (its store still open): last words. */
    void (*stop)(void *ctx, struct store *s);
    /* The daemon stops. */
    void (*release)(void *ctx);
    /* SIGTERM or SIGINT came: called from the signal handler, so async-signal-safe (set
     * a flag): work that could hold the stop up (a send waiting for its receiver's
     * answer) ends now. */
    void (*interrupt)(void);
};

/* The hooks of this build (daemon_hooks.c), terminated by a NULL name. */
extern const struct daemon_hook daemon_hooks[];

struct daemon_opts {
    const char *config_path;  /* NULL: only command-line paths */
    const char *const *paths; /* command-line paths: replace the configuration's sources */
    size_t npaths;
    const char *format, *prefix, *tz, *include; /* for command-line paths */
    const char *db_path;                        /* --db or $PGSIFT_DB ... */
    bool db_explicit;       /* ... given (else the configuration's `store` wins) */
    const char *watcher;    /* overrides tail.watcher when not NULL */
    const char *commit_log; /* overrides tail.commit_log when not NULL */
    bool once;              /* read what is there now (every record ended), commit, return */
    const struct daemon_hook *hooks; /* NULL-name terminated; NULL: daemon_hooks */
};

/* Load the configuration (and command-line paths) the way daemon_run() would, and
 * report every problem (DIAG_USAGE with the list). Returns 0 or -1. @c is filled
 * either way (release it). */
int daemon_load_config(const struct daemon_opts *o, struct config *c, struct diag *d);
/* daemon_load_config() and every module's check (daemon_hook.check; with !@modules only
 * when the file itself has problems): each part's problems are printed to stderr
 * ("pgsift: file:line:col: ..."), and @d says how many parts have some. Returns 0 or -1;
 * @c is to be released either way. */
int daemon_check_config(const struct daemon_opts *o, struct config *c, bool modules,
                        struct diag *d);

/* Run until SIGTERM or SIGINT. Returns 0, or -1 with @d filled when the configuration
 * is invalid (DIAG_USAGE), the store cannot be opened or written (DIAG_DB/DIAG_IO). */
int daemon_run(const struct daemon_opts *o, struct diag *d);

#endif
