/* SPDX-License-Identifier: MIT */
/*
 * daemon.c - pgsift tail's loop (see daemon.h).
 *
 *   wait (watcher hint, timer or signal)
 *     -> reconcile (fstat/stat: what grew, moved, appeared, was deleted)
 *     -> for each file due, in order (rotated first, then oldest first):
 *          ingest_source() from the stored position, by descriptor when held
 *     -> hooks (rules, reports) -> close drained rotated files -> wait ...
 *
 * Everything that must survive a crash is in the store: a kill -9 anywhere loses at
 * most the batch being read, which the next start reads again from the stored
 * position, so no line is lost or counted twice. Nothing else is kept on disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cmd/daemon.h"
#include "cmd/ingest.h"
#include "core/clock.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "input/input.h"
#include "normalize/normalize.h"
#include "pipeline.h"

#define AVG_RECORD_BYTES 200 /* backlog estimate before a file has been read */
#define ROLLUP_EVERY_US  (INT64_C(3600) * USEC_PER_SEC)
#define HOLD_RECENT_US   (INT64_C(3600) * USEC_PER_SEC) /* files written this recently */
#define CHUNK_BYTES      ((size_t)256 << 10)            /* live files grow by little at a time */

/* ---- signals: flags plus a self-pipe that wakes the wait ---- */

static volatile sig_atomic_t sig_stop, sig_reload;
static int sig_pipe[2] = { -1, -1 };
static const struct daemon_hook *sig_hooks; /* their interrupt() on a stop signal */

static void on_signal(int sig)
{
    int saved = errno;
    if (sig == SIGHUP) {
        sig_reload = 1;
    } else {
        sig_stop = 1;
        for (const struct daemon_hook *h = sig_hooks; h && h->name; h++)
            if (h->interrupt)
                h->interrupt();
    }
    if (sig_pipe[1] >= 0) {
        char c = 0;
        ssize_t n = write(sig_pipe[1], &c, 1);
        (void)n; /* a full pipe already wakes the loop */
    }
    errno = saved;
}

struct saved_signals {
    struct sigaction term, intr, hup;
};

static int signals_install(struct saved_signals *old, struct diag *d)
{
    if (pipe(sig_pipe) < 0)
        return diag_errno(d, DIAG_IO, errno, "cannot create a pipe");
    for (int i = 0; i < 2; i++) {
        fcntl(sig_pipe[i], F_SETFD, FD_CLOEXEC);
        fcntl(sig_pipe[i], F_SETFL, fcntl(sig_pipe[i], F_GETFL) | O_NONBLOCK);
    }
    sig_stop = sig_reload = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, &old->term);
    sigaction(SIGINT, &sa, &old->intr);
    sigaction(SIGHUP, &sa, &old->hup);
    return 0;
}

static void signals_restore(const struct saved_signals *old)
{
    sigaction(SIGTERM, &old->term, NULL);
    sigaction(SIGINT, &old->intr, NULL);
    sigaction(SIGHUP, &old->hup, NULL);
    for (int i = 0; i < 2; i++) {
        if (sig_pipe[i] >= 0)
            close(sig_pipe[i]);
        sig_pipe[i] = -1;
    }
}

static void drain_pipe(void)
{
    char buf[64];
    while (read(sig_pipe[0], buf, sizeof(buf)) > 0)
        ;
}

/* ---- systemd readiness (Type=notify), without libsystemd ---- */

static void sd_notify(const char *msg)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !*path || (path[0] != '/' && path[0] != '@'))
        return;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    size_t len = strlen(path);
    if (len >= sizeof(sa.sun_path))
        return;
    memcpy(sa.sun_path, path, len);
    if (sa.sun_path[0] == '@')
        sa.sun_path[0] = '\0'; /* abstract socket */
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    socklen_t sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa, sl) < 0)
        log_verbose("cannot notify systemd: %s", strerror(errno));
    close(fd);
}

/* ---- per-file state kept by the daemon (tail_file.user) ---- */

struct fstate {
    char *format, *prefix, *tz; /* how to parse it (format pinned once detected) */
    char *input;                /* its source's name: lines are counted under it */
    uint64_t offset;            /* stored position after the last read */
    uint64_t read_end;          /* end of the last line read */
    bool pending;               /* records read but kept for continuation lines */
    int64_t flush_ns;           /* when to end them anyway (monotonic) */
    uint64_t bytes, records;    /* read so far: the record size estimate */
    bool warned_nothing, read_once;
    bool warned_stale;    /* said since its last commit that was not stale */
    bool noted_replaced;  /* "truncated or replaced" said, and nothing committed since */
    bool unknown_sibling; /* a rotated file the store does not know */
    int64_t unknown_ns;   /* when it was found so (monotonic): it holds back its path's
                             newer files for a while (holds_back()) */
    uint64_t rejects, foreign, damaged; /* not yet reported */
    int64_t warned_ns;                  /* last reject warning (monotonic) */
    bool order_warned;                  /* the newest-first warning was given */
    bool undated_warned;                /* ... that of records without a time */
};

static void fstate_free(void *p)
{
    struct fstate *fs = p;
    if (!fs)
        return;
    free(fs->format);
    free(fs->prefix);
    free(fs->tz);
    free(fs->input);
    free(fs);
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

/* ---- the daemon ---- */

struct daemon {
    const struct daemon_opts *o;
    const struct daemon_hook *hooks;
    struct config cfg;
    struct store *store;
    char *store_path;
    struct normalizer *nz; /* every source's rounds: a warm fingerprint cache */
    struct tail *tail;
    FILE *commit_log;
    char *commit_log_path;
    int64_t next_rollup_us;
    uint64_t round_records; /* committed in the current round */
    int64_t start_us;       /* wall clock at start */
    struct since {          /* per file path of a source: see since_of() */
        char *origin;
        int64_t us;
    } * since;
    size_t nsince, since_alloc;
    bool fatal; /* a store failure: stop with the diag */
};

int daemon_load_config(const struct daemon_opts *o, struct config *c, struct diag *d)
{
    config_init(c);
    if (o->config_path && config_load(c, o->config_path, d) < 0)
        return -1;
    if (o->npaths)
        config_set_paths(c, o->paths, o->npaths, o->format, o->prefix, o->tz, o->include);
    if (o->npaths) {
        /* Command-line values are checked by the parser, as the file's are. */
        struct pipeline_opts po = { .format = o->format, .prefix = o->prefix, .tz = o->tz };
        if (pipeline_check(&po, d) < 0)
            return -1;
    }
    if (config_errors(c))
        return config_error_diag(c, d);
    if (c->nsources == 0)
        return diag_set(d, DIAG_USAGE, "nothing to follow: give paths or 'sources:' in %s",
                        o->config_path ? o->config_path : "a configuration file (--config)");
    if (o->watcher) {
        static const char *const w[] = { "auto", "inotify", "poll" };
        bool ok = false;
        for (size_t i = 0; i < ARRAY_SIZE(w); i++)
            if (!strcmp(o->watcher, w[i]))
                c->tail.watcher = w[i], ok = true;
        if (!ok)
            return diag_set(d, DIAG_USAGE,
                            "invalid --watcher '%s' (expected one of: auto, inotify, poll)",
                            o->watcher);
    }
    if (o->commit_log)
        c->tail.commit_log = o->commit_log;
    return 0;
}

/* The last line after each part's problems were printed: how many parts have some. */
static int parts_with_problems(struct diag *d, enum diag_kind kind, const char *where, unsigned bad)
{
    return diag_set(d, kind, "%s: %u part%s of the configuration with problems (above)", where, bad,
                    bad == 1 ? "" : "s");
}

int daemon_check_config(const struct daemon_opts *o, struct config *c, bool modules, struct diag *d)
{
    unsigned bad = 0; /* parts with problems: each is checked and said, not the first only */
    int rc = daemon_load_config(o, c, d);
    if (rc < 0 && o->config_path && !c->y.loaded)
        return -1; /* not read or not YAML: nothing more to check */
    if (rc == 0 && !modules)
        return 0;
    if (rc < 0) {
        fprintf(stderr, "pgsift: %s\n", d->msg);
        diag_clear(d);
        bad++;
    }
    /* and what the daemon's modules take from it: rules, alerting, report */
    for (const struct daemon_hook *h = o->hooks ? o->hooks : daemon_hooks; h->name; h++) {
        struct diag hd = DIAG_INIT;
        if (h->check && h->check(c, &hd) < 0) {
            fprintf(stderr, "pgsift: %s\n", hd.msg);
            bad++;
        }
    }
    if (bad)
        return parts_with_problems(d, DIAG_USAGE,
                                   o->config_path ? o->config_path : "the command line", bad);
    return 0;
}

static struct store_opts store_opts_of(const struct config *c)
{
    struct store_opts so = { .keep_literals = c->keep_literals, .checkpoint_thread = true };
    /* A `retention:` section is applied and kept in the store; without one, the store's
     * kept retention (else the defaults) applies (store_opts.retention_configured). */
    if (c->retention_given)
        so.retention = (struct store_retention){ .minutes_us = c->retention.minutes_us,
                                                 .hours_us = c->retention.hours_us,
                                                 .days_us = c->retention.days_us,
                                                 .events_us = c->retention.events_us };
    so.retention_configured = c->retention_given;
    return so;
}

static const char *store_path_of(const struct daemon *dm, const struct config *c)
{
    if (!dm->o->db_explicit && c->store)
        return c->store;
    return dm->o->db_path;
}

static void on_committed(void *ctx, const struct store_source_pos *pos, uint64_t records)
{
    struct daemon *dm = ctx;
    dm->round_records += records;
    if (dm->commit_log) {
        fprintf(dm->commit_log, "%" PRId64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %s\n",
                clock_now_us(), pos->start, pos->offset, records, pos->name ? pos->name : "-");
        fflush(dm->commit_log);
    }
}

static void add_sources(struct daemon *dm)
{
    for (size_t i = 0; i < dm->cfg.nsources; i++) {
        const struct config_source *s = &dm->cfg.sources[i];
        tail_add_source(dm->tail, &(struct tail_source_spec){ .name = s->name,
                                                              .paths = s->paths.v,
                                                              .npaths = s->paths.n,
                                                              .include = s->include });
    }
}

static int open_commit_log(struct daemon *dm, struct diag *d)
{
    const char *want = dm->cfg.tail.commit_log;
    if (dm->commit_log_path && want && !strcmp(dm->commit_log_path, want))
        return 0;
    if (dm->commit_log)
        fclose(dm->commit_log);
    dm->commit_log = NULL;
    free(dm->commit_log_path);
    dm->commit_log_path = NULL;
    if (!want)
        return 0;
    int fd = open(want, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return diag_errno(d, DIAG_IO, errno, "cannot open the commit log '%s'", want);
    dm->commit_log = fdopen(fd, "a");
    if (!dm->commit_log) {
        close(fd);
        return diag_errno(d, DIAG_IO, errno, "cannot open the commit log '%s'", want);
    }
    dm->commit_log_path = xstrdup(want);
    return 0;
}

/* Give @c to every module. @all: go on after a module refuses it, so that each one's
 * problems are said (at start, where nothing is to be kept): one refusal is returned as
 * it is; with more, each is printed and @d says how many (its kind that of the first
 * that is not the configuration's fault: a missing library exits 1, not 2). Else stop at
 * the first (a reload goes back). */
static int configure_hooks(struct daemon *dm, const struct config *c, bool all, struct diag *d)
{
    unsigned bad = 0;
    struct diag first = DIAG_INIT;
    enum diag_kind kind = DIAG_USAGE;
    for (const struct daemon_hook *h = dm->hooks; h->name; h++) {
        struct diag hd = DIAG_INIT;
        if (!h->configure || h->configure(h->ctx, c, dm->store, &hd) == 0)
            continue;
        if (!all) {
            *d = hd;
            return -1;
        }
        if (kind == DIAG_USAGE && hd.kind != DIAG_USAGE)
            kind = hd.kind;
        if (bad == 1)
            fprintf(stderr, "pgsift: %s\n", first.msg);
        if (bad >= 1)
            fprintf(stderr, "pgsift: %s\n", hd.msg);
        else
            first = hd;
        bad++;
    }
    if (bad == 1) {
        *d = first;
        return -1;
    }
    if (bad)
        return parts_with_problems(d, kind, c->path ? c->path : "the configuration", bad);
    return 0;
}

static bool have_hook(const struct daemon *dm, const char *name)
{
    for (const struct daemon_hook *h = dm->hooks; h->name; h++)
        if (!strcmp(h->name, name))
            return true;
    return false;
}

/* Sections whose module is not in this build are not silently ignored. */
static void warn_unhandled(const struct daemon *dm, const struct config *c)
{
    if ((c->rules.n || c->receivers || c->route || c->inhibit || c->alerting) &&
        !have_hook(dm, "rules"))
        log_warn("%s: rules, receivers, route, inhibit and alerting are not used: this build "
                 "of pgsift tail has no rules engine yet",
                 c->path ? c->path : "configuration");
    if (c->report && !have_hook(dm, "report"))
        log_warn("%s: report is not used: this build of pgsift tail does not write reports yet",
                 c->path ? c->path : "configuration");
}

static enum tail_backend backend_of(const char *w)
{
    if (w && !strcmp(w, "inotify"))
        return TAIL_INOTIFY;
    if (w && !strcmp(w, "poll"))
        return TAIL_POLL;
    return TAIL_AUTO;
}

/* SIGHUP: a new configuration replaces the old one only if it is valid, the store it
 * names opens and every hook accepts it. */
static void reload(struct daemon *dm)
{
    struct config c;
    struct diag d = DIAG_INIT;
    struct store *ns = NULL;

    char msg[64];
    snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%lld",
             (long long)(clock_mono_ns() / 1000));
    sd_notify(msg);
    log_note("reloading the configuration");
    if (daemon_load_config(dm->o, &c, &d) < 0)
        goto refuse;
    /* Every module checks the new configuration before any takes it: a refusal then
     * leaves them all as they were (no going back to the old configuration, whose rule
     * files may be the ones just broken; QA 21a). */
    for (const struct daemon_hook *h = dm->hooks; h->name; h++)
        if (h->check && h->check(&c, &d) < 0)
            goto refuse;
    const char *sp = store_path_of(dm, &c);
    if (strcmp(sp, dm->store_path) != 0) {
        struct store_opts so = store_opts_of(&c);
        if (store_open(&ns, sp, &so, &d) < 0)
            goto refuse;
    }
    bool reopened = ns != NULL;
    {
        struct store *keep = dm->store;
        if (ns)
            dm->store = ns;
        if (configure_hooks(dm, &c, false, &d) < 0) {
            dm->store = keep;
            /* Checked, yet refused (a library missing, a file changed since): the hooks
             * that took it are told the old configuration again. */
            struct diag ignore = DIAG_INIT;
            if (configure_hooks(dm, &dm->cfg, false, &ignore) < 0)
                log_error("going back to the previous configuration failed too (%s): each "
                          "module keeps the last configuration it accepted",
                          ignore.msg);
            goto refuse;
        }
        if (ns) {
            store_close(keep);
            free(dm->store_path);
            dm->store_path = xstrdup(sp);
            ns = NULL;
        }
    }
    if (strcmp(c.tail.watcher, dm->cfg.tail.watcher) != 0 ||
        c.tail.poll_interval_us != dm->cfg.tail.poll_interval_us ||
        c.tail.rescan_interval_us != dm->cfg.tail.rescan_interval_us)
        log_warn("tail.watcher, poll_interval and rescan_interval change at the next start");
    /* The store keeps the options it was opened with (a new `store:` opens a new one). */
    if (!reopened &&
        (c.keep_literals != dm->cfg.keep_literals || c.retention_given != dm->cfg.retention_given ||
         memcmp(&c.retention, &dm->cfg.retention, sizeof(c.retention)) != 0))
        log_warn("keep_literals and retention change at the next start");
    warn_unhandled(dm, &c);
    config_release(&dm->cfg);
    dm->cfg = c;
    tail_clear_sources(dm->tail);
    add_sources(dm);
    if (open_commit_log(dm, &d) < 0)
        log_error("%s", d.msg);
    log_note("configuration reloaded: %zu source%s", dm->cfg.nsources,
             dm->cfg.nsources == 1 ? "" : "s");
    sd_notify("READY=1");
    return;
refuse:
    store_close(ns);
    log_error("%s", d.msg);
    log_error("reload refused: the previous configuration stays in force");
    config_release(&c);
    sd_notify("READY=1");
}

/* The source options for a file, from its source while a name of it reaches the file
 * (a reload may change them), else those it was read with. */
static struct fstate *state_of(struct daemon *dm, struct tail_file *f)
{
    struct fstate *fs = f->user;
    if (!fs) {
        fs = xcalloc(1, sizeof(*fs));
        f->user = fs;
    }
    if (f->state == TAIL_FILE_LIVE && f->source < dm->cfg.nsources) {
        const struct config_source *s = &dm->cfg.sources[f->source];
        if (s->name && (!fs->input || strcmp(fs->input, s->name))) {
            free(fs->input);
            fs->input = xstrdup(s->name);
        }
        bool same = fs->prefix ? s->prefix && !strcmp(fs->prefix, s->prefix) : !s->prefix;
        same = same && (fs->tz ? s->tz && !strcmp(fs->tz, s->tz) : !s->tz);
        bool pinned_ok =
            fs->format && (!strcmp(s->format, "auto") || !strcmp(s->format, fs->format));
        if (!same || !pinned_ok) {
            free(fs->format);
            free(fs->prefix);
            free(fs->tz);
            fs->format = strcmp(s->format, "auto") ? xstrdup(s->format) : NULL;
            fs->prefix = dup_or_null(s->prefix);
            fs->tz = dup_or_null(s->tz);
        }
    }
    return fs;
}

struct timing {
    int64_t delay_ns;  /* half the commit interval */
    int64_t rotate_ns; /* rotate_wait */
    int64_t settle_ns; /* a .gz file must be quiet this long before it is read */
};

static struct timing timing_of(const struct config *c)
{
    struct timing tm;
    tm.delay_ns = c->tail.commit_interval_us * 500;
    tm.rotate_ns = c->tail.rotate_wait_us * 1000;
    tm.settle_ns = tm.rotate_ns < tm.delay_ns * 2 ? tm.rotate_ns : tm.delay_ns * 2;
    return tm;
}

/* Bytes not read yet (plain files), for the early-read estimate. */
static uint64_t backlog(const struct tail_file *f, const struct fstate *fs)
{
    if (f->gzip || !fs || f->size <= fs->read_end)
        return 0;
    return f->size - fs->read_end;
}

static uint64_t early_bytes(const struct config *c, const struct fstate *fs)
{
    uint64_t per = fs && fs->records ? fs->bytes / fs->records : AVG_RECORD_BYTES;
    if (per == 0)
        per = 1;
    return (uint64_t)c->tail.commit_records * per;
}

enum due { DUE_NO = 0, DUE_READ, DUE_FLUSH, DUE_FINAL };

/* How long ago @f was last modified (wall clock against its mtime). */
static int64_t unmodified_ns(const struct tail_file *f)
{
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    return (int64_t)wall.tv_sec * 1000000000 + wall.tv_nsec - f->mtime_ns;
}

/* Is @f to be read now? Sets *next to the next time it will be (or INT64_MAX). */
static enum due due_of(struct daemon *dm, struct tail_file *f, const struct timing *tm, int64_t now,
                       bool first, int64_t *next)
{
    struct fstate *fs = f->user;
    *next = INT64_MAX;
    if (f->state != TAIL_FILE_LIVE && f->fd >= 0) {
        /* Rotated or deleted: read as it grows; once quiet for rotate_wait, a last read
         * that ends every record, then it is closed. Quiet since the rotation was seen
         * too: the server writes to the renamed file until it reopens its log, and a
         * file idle before its rotation may hold a record cut half-written (the csvlog
         * hold) whose rest is still to come. */
        int64_t last = f->grew_ns > f->gone_ns ? f->grew_ns : f->gone_ns;
        int64_t quiet = last + tm->rotate_ns;
        if (now >= quiet)
            return DUE_FINAL;
        *next = quiet;
    }
    if (f->changed_ns && fs && fs->unknown_sibling) {
        /* A rotated file pgsift has never seen (see since_of()): read once it has not
         * been modified for rotate_wait, so a copy or a compression still in progress is
         * never taken for new content. */
        int64_t left = tm->rotate_ns - unmodified_ns(f);
        if (left <= 0)
            return DUE_READ;
        if (now + left < *next)
            *next = now + left;
        return DUE_NO;
    }
    if (f->changed_ns) {
        if (f->gzip) {
            /* --once: one round, in a process that saw no growth: settled is what has
             * not been modified for the settle time (it waited for growth seen in this
             * round, so no run ever read the file). */
            if (dm->o->once && unmodified_ns(f) >= tm->settle_ns)
                return DUE_READ;
            int64_t settled = f->grew_ns + tm->settle_ns;
            if (now < settled) {
                if (settled < *next)
                    *next = settled;
                return DUE_NO;
            }
            return DUE_READ;
        }
        int64_t at = f->changed_ns + tm->delay_ns;
        if (first || now >= at || backlog(f, fs) >= early_bytes(&dm->cfg, fs))
            return DUE_READ;
        if (at < *next)
            *next = at;
    }
    /* Records that may still get lines are ended once the file has been quiet since the
     * read that left them: not while it grows (the read due above takes what came, and
     * waits again). */
    if (fs && fs->pending && !f->changed_ns) {
        if (now >= fs->flush_ns)
            return DUE_FLUSH;
        if (fs->flush_ns < *next)
            *next = fs->flush_ns;
    }
    return DUE_NO;
}

/* Rejects are never silent, but a log full of them must not flood the journal: one
 * warning per file per minute with the counts since the last one. */
static void report_rejects(struct fstate *fs, const char *name, const struct parse_stats *st)
{
    if (!fs->undated_warned && st->undated) {
        fs->undated_warned = true;
        log_warn("'%s': %" PRIu64 " record%s %s", name, st->undated, st->undated == 1 ? "" : "s",
                 PARSE_UNDATED_NOTE);
    }
    if (!fs->order_warned && parse_stats_newest_first(st)) {
        fs->order_warned = true;
        log_warn("'%s': %s", name, PARSE_NEWEST_FIRST_NOTE);
    }
    fs->rejects += st->rejects;
    fs->foreign += st->foreign_lines;
    fs->damaged += st->damaged;
    if (!fs->rejects && !fs->foreign && !fs->damaged)
        return;
    int64_t now = clock_mono_ns();
    if (fs->warned_ns && now - fs->warned_ns < INT64_C(60) * 1000000000)
        return;
    fs->warned_ns = now;
    log_warn("'%s': %" PRIu64 " record%s rejected, %" PRIu64 " foreign line%s%s (kept in the "
             "store with samples)",
             name, fs->rejects, fs->rejects == 1 ? "" : "s", fs->foreign,
             fs->foreign == 1 ? "" : "s", fs->damaged ? ", damaged input" : "");
    fs->rejects = fs->foreign = fs->damaged = 0;
}

/*
 * A rotated sibling (postgresql.log.1, .2.gz ...) whose stream the store does not know
 * is read from its start only when it was modified after pgsift began reading its file
 * path: the first commit of any stream of that path, or when a run first followed the
 * path (store_path_watched_since(): a run may commit nothing - the file empty, or not
 * there yet - and stop), whichever came first. Modified later, it holds lines pgsift never
 * committed (a rotation while pgsift was down, crashed, or faster than it looked), since whatever
 * pgsift committed is recognised by content; modified before, it is history from before pgsift was
 * set up, which tail does not load (`pgsift ingest` does). Taken once per path.
 */
static int since_of(struct daemon *dm, const char *origin, int64_t *us, struct diag *d)
{
    for (size_t i = 0; i < dm->nsince; i++) {
        if (!strcmp(dm->since[i].origin, origin)) {
            *us = dm->since[i].us;
            return 0;
        }
    }
    /* The earlier of its first commit and when a run first followed it (a run that
     * committed nothing - the file empty or not there yet - began following it too). */
    int64_t first, watched;
    if (store_source_first_commit(dm->store, origin, &first, d) < 0 ||
        store_path_watched_since(dm->store, origin, dm->start_us, &watched, d) < 0)
        return -1;
    XGROW(dm->since, dm->nsince + 1, dm->since_alloc);
    dm->since[dm->nsince].origin = xstrdup(origin);
    dm->since[dm->nsince].us = first != INT64_MIN && first < watched ? first : watched;
    *us = dm->since[dm->nsince++].us;
    return 0;
}

/* Take since_of() for every file path before the first read: those of the files found,
 * and those of the configuration that are no file yet (followed from now on: a file
 * created and rotated while pgsift is down is read when it comes back). */
static int prime_since(struct daemon *dm, struct diag *d)
{
    int64_t us;
    for (size_t i = 0; i < tail_count(dm->tail); i++) {
        const struct tail_file *f = tail_file_at(dm->tail, i);
        if (f->origin && since_of(dm, f->origin, &us, d) < 0)
            return -1;
    }
    for (size_t i = 0; i < dm->cfg.nsources; i++) {
        const struct config_source *s = &dm->cfg.sources[i];
        for (size_t k = 0; k < s->paths.n; k++) {
            struct stat st;
            const char *p = s->paths.v[k];
            if (!strpbrk(p, "*?[") && !(stat(p, &st) == 0 && S_ISDIR(st.st_mode)) &&
                since_of(dm, p, &us, d) < 0)
                return -1;
        }
    }
    return 0;
}

/* Read one file from its stored position. Returns 0, or -1 when the store failed. */
static int read_file(struct daemon *dm, struct tail_file *f, enum due due, int64_t now,
                     struct diag *d)
{
    const struct timing tm = timing_of(&dm->cfg);
    struct fstate *fs = state_of(dm, f);

    if (f->state == TAIL_FILE_LIVE && !f->sibling && !f->gzip && f->fd < 0) {
        int rc = tail_file_open(dm->tail, f, d);
        if (rc < 0) {
            log_error("%s", d->msg);
            diag_clear(d);
            tail_file_done(dm->tail, f, f->size, f->mtime_ns);
            return 0;
        }
        if (rc > 0) {
            f->changed_ns = clock_mono_ns(); /* its name moved: try after a reconcile */
            return 0;
        }
    }
    uint64_t size0 = f->size;
    int64_t mtime0 = f->mtime_ns;
    bool final = due == DUE_FINAL;
    /* Siblings: continue known streams; read an unknown one from its start only when it
     * is newer than what pgsift read of its path, and quiet (due_of()). */
    int64_t since = INT64_MAX, new_after = INT64_MAX;
    if (f->sibling && f->origin && since_of(dm, f->origin, &since, d) < 0)
        return -1;
    bool quiet = unmodified_ns(f) >= tm.rotate_ns;
again:
    if (fs->unknown_sibling && quiet)
        new_after = since;
    struct ingest_opts io = {
        .format = fs->format,
        .prefix = fs->prefix,
        .tz = fs->tz,
        .have_fd = f->fd >= 0 && !f->gzip,
        .fd = f->fd,
        .follow = due == DUE_READ && !dm->o->once,
        /* A file whose format an earlier read left undecided (fewer lines than detection
         * waits for: a new log that grows a line at a time) is decided now: otherwise
         * nothing of it is committed until it is quiet for half a commit interval
         * (the flush), which a steady trickle of lines never gives (QA 29). */
        .end_detection = !fs->format && fs->read_once,
        /* the flush: quiet since the read that left records pending, which are complete
         * now (at a read, ingest holds those of a live file for the next one) */
        .end_live = due == DUE_FLUSH,
        .final = final,
        .known_only = f->sibling,
        .new_after_us = new_after,
        .batch_records = (uint64_t)dm->cfg.tail.commit_records,
        .max_bytes = (uint64_t)dm->cfg.tail.read_budget,
        .stop = &sig_stop,
        .chunk_bytes = CHUNK_BYTES,
        .committed = on_committed,
        .committed_ctx = dm,
        .nz = dm->nz,
        .input = fs->input,
    };
    struct ingest_result r;
    ingest_result_init(&r);
    int rc = ingest_source(dm->store, &io, f->name, &r, d);
    if (rc < 0) {
        bool db = d->kind == DIAG_DB || d->kind == DIAG_INTERNAL;
        ingest_result_release(&r);
        if (db)
            return -1;
        /* The file, not the store: say so, and try again when it changes. */
        log_error("%s", d->msg);
        diag_clear(d);
        tail_file_done(dm->tail, f, size0, mtime0);
        return 0;
    }
    fs->read_once = true;
    bool unknown = f->sibling && (r.how == STORE_RESUME_NEW || r.how == STORE_RESUME_REPLACED);
    if (unknown && r.bytes == 0 && f->mtime_ns / 1000 > since && !fs->unknown_sibling) {
        fs->unknown_sibling = true; /* to be read from its start once quiet */
        fs->unknown_ns = clock_mono_ns();
        ingest_result_release(&r);
        if (quiet)
            goto again;
        return 0;
    }
    fs->unknown_sibling = false;
    fs->offset = r.offset;
    fs->read_end = r.read_end > r.offset ? r.read_end : r.offset;
    fs->bytes += r.bytes;
    fs->records += r.stats.events + r.stats.rejects;
    fs->pending = !final && r.offset < r.read_end;
    if (fs->pending && (due == DUE_READ || !fs->flush_ns || now >= fs->flush_ns))
        fs->flush_ns = clock_mono_ns() + tm.delay_ns;
    if (fs->pending && r.held_record) {
        /* A record cut inside a quoted field at the end (the csvlog hold) is ended by
         * its rest, which a write brings (the file then changes: read at once), or once
         * the file has been quiet for SIFT_HOLD_LIVE_SECONDS: no flush before then (each
         * one only re-read the held bytes). */
        int64_t left = SIFT_HOLD_LIVE_SECONDS * INT64_C(1000000000) - unmodified_ns(f);
        if (left > tm.delay_ns)
            fs->flush_ns = clock_mono_ns() + left;
    }
    if (!fs->pending)
        fs->flush_ns = 0;
    if (!fs->format && r.format && f->state == TAIL_FILE_LIVE)
        fs->format = xstrdup(r.format);
    if (f->sibling && (r.how == STORE_RESUME_NEW || r.how == STORE_RESUME_REPLACED) && r.bytes)
        log_note("'%s' was rotated from '%s' after pgsift last read it: read from its start",
                 f->name, f->origin);
    else if (r.how == STORE_RESUME_REPLACED && r.new_inode)
        log_verbose("'%s' is a new file (its inode number held a log read before): read from "
                    "the start",
                    f->name);
    else if (r.how == STORE_RESUME_REPLACED && !fs->noted_replaced)
        log_note("'%s' was truncated or replaced: read from the start", f->name);
    else if (r.how == STORE_RESUME_MOVED && r.bytes)
        log_note("'%s' continues '%s' at byte %" PRIu64, f->name, r.prev_name, r.start_offset);
    /* A file truncated (copytruncate) is found empty first, then with its first new
     * lines: one truncation, one note (QA 19: two were said). */
    fs->noted_replaced = r.how == STORE_RESUME_REPLACED && !r.commits;
    /* Another pgsift committed what this read was about to (the same file, or records
     * with the same Supabase ids): nothing of the batch was stored, so its bytes are
     * pending (offset < read_end) and read again at the flush, from where the store
     * now says (t118). */
    if (r.stale && !fs->warned_stale)
        log_warn("'%s': another pgsift committed some of the same records at the same time "
                 "(it reads this file too, or an export that overlaps it): read again",
                 f->name);
    fs->warned_stale = r.stale;
    if (r.duplicates)
        log_note("'%s': %" PRIu64 " record%s already counted (the same Supabase id, in "
                 "overlapping exports): not counted again",
                 f->name, r.duplicates, r.duplicates == 1 ? "" : "s");
    if (r.nothing_parsed && !fs->warned_nothing) {
        fs->warned_nothing = true;
        if (r.diagnosis.len) /* (its first line names the file) */
            log_warn("%s", r.diagnosis.buf);
        else
            log_warn("no record could be parsed in '%s'", f->name);
    }
    if (!r.nothing_parsed) /* (said above; a run that parsed nothing stored nothing) */
        report_rejects(fs, f->name, &r.stats);
    if (r.more) {
        f->changed_ns = 1; /* left over: due at once */
    } else {
        tail_file_done(dm->tail, f, size0, mtime0);
    }
    if (final && !r.more && f->fd >= 0) {
        log_note("'%s' (%s) read to its end and closed", f->name,
                 f->state == TAIL_FILE_DELETED ? "deleted" : "rotated");
        tail_file_close(dm->tail, f);
    }
    ingest_result_release(&r);
    return 0;
}

/* Live files that are drained and quiet hold no descriptor, except the newest of each
 * source (it is the one being written). */
static void close_idle(struct daemon *dm, const struct timing *tm, int64_t now)
{
    size_t n = tail_count(dm->tail);
    for (size_t i = 0; i < n; i++) {
        struct tail_file *f = tail_file_at(dm->tail, i);
        struct fstate *fs = f->user;
        if (f->fd < 0 || f->state != TAIL_FILE_LIVE || f->changed_ns || (fs && fs->pending) ||
            now < f->grew_ns + tm->rotate_ns)
            continue;
        bool newest = true;
        for (size_t k = 0; k < n && newest; k++) {
            struct tail_file *g = tail_file_at(dm->tail, k);
            if (g != f && g->source == f->source && g->state == TAIL_FILE_LIVE && !g->sibling &&
                g->mtime_ns > f->mtime_ns)
                newest = false;
        }
        if (!newest)
            tail_file_close(dm->tail, f);
    }
}

static void run_hooks_after_commit(struct daemon *dm)
{
    int64_t now = clock_now_us();
    for (const struct daemon_hook *h = dm->hooks; h->name; h++) {
        struct diag d = DIAG_INIT;
        if (h->after_commit && h->after_commit(h->ctx, dm->store, now, &d) < 0)
            log_error("%s: %s", h->name, d.msg);
    }
}

static int64_t run_hook_ticks(struct daemon *dm)
{
    int64_t now = clock_now_us(), next = INT64_MAX;
    for (const struct daemon_hook *h = dm->hooks; h->name; h++) {
        if (!h->next_tick_us || !h->tick)
            continue;
        int64_t at = h->next_tick_us(h->ctx, now);
        if (at <= now) {
            struct diag d = DIAG_INIT;
            if (h->tick(h->ctx, dm->store, now, &d) < 0)
                log_error("%s: %s", h->name, d.msg);
            at = h->next_tick_us(h->ctx, clock_now_us());
        }
        if (at < next)
            next = at;
    }
    if (now >= dm->next_rollup_us) {
        struct diag d = DIAG_INIT;
        struct store_rollup_stats rs;
        if (store_rollup(dm->store, now, &rs, &d) < 0)
            log_error("%s", d.msg);
        dm->next_rollup_us = now + ROLLUP_EVERY_US;
    }
    return next < dm->next_rollup_us ? next : dm->next_rollup_us;
}

/*
 * A rotated file pgsift never saw, waiting to be quiet (due_of()), holds back the newer
 * files of its path: read after them, its records would come in behind what the rules
 * already evaluated, and their alerts would never fire (QA 21a: two rotations while
 * pgsift was down, the live file read 5 s before the older `.1`). Reading order is
 * oldest first, so the files after it in the round wait too. Not for ever: a sibling
 * still changing after 4 rotate_wait (a slow compression) stops holding them back.
 */
static bool holds_back(const struct tail_file *f, const struct timing *tm, int64_t now)
{
    const struct fstate *fs = f->user;
    return fs && fs->unknown_sibling && f->origin && now - fs->unknown_ns < 4 * tm->rotate_ns;
}

/* Is @f held back by one of the files holds_back() found in this round (not itself)? */
static bool held_back(const struct tail_file *f, struct tail_file *const *held, size_t nheld)
{
    for (size_t i = 0; f->origin && i < nheld; i++)
        if (held[i] != f && !strcmp(held[i]->origin, f->origin))
            return true;
    return false;
}

static int loop(struct daemon *dm, struct diag *d)
{
    bool first = true;

    for (;;) {
        if (sig_stop)
            return 0;
        if (sig_reload) {
            sig_reload = 0;
            reload(dm);
        }
        if (tail_reconcile(dm->tail, false, d) < 0)
            return -1;
        if (first && prime_since(dm, d) < 0)
            return -1;
        const struct timing tm = timing_of(&dm->cfg);
        int64_t now = clock_mono_ns(), next = INT64_MAX;
        dm->round_records = 0;
        bool any_changed = false;
        /* One round: every file that is due, in reading order, but none after a rotated
         * file of its path that waits to be read (holds_back()). */
        struct tail_file *held[16];
        size_t nheld = 0;
        for (size_t i = 0; i < tail_count(dm->tail) && !sig_stop; i++) {
            struct tail_file *f = tail_file_at(dm->tail, i);
            int64_t at;
            if (held_back(f, held, nheld))
                continue; /* (the waiting file's due time wakes the loop) */
            enum due due = due_of(dm, f, &tm, now, first, &at);
            if (due != DUE_NO && read_file(dm, f, due, now, d) < 0)
                return -1;
            if (due == DUE_NO && at < next)
                next = at;
            if (holds_back(f, &tm, clock_mono_ns()) && nheld < ARRAY_SIZE(held))
                held[nheld++] = f;
        }
        if (dm->round_records)
            run_hooks_after_commit(dm);
        if (dm->o->once) {
            /* One round, unless a read budget ran out (go on), or a rotated file pgsift
             * never saw is not quiet yet: --once waits for it (and what it holds back),
             * so that nothing is left to read when it returns (QA 21a). */
            bool left = false;
            int64_t wait_ns = INT64_MAX;
            for (size_t i = 0; i < tail_count(dm->tail); i++) {
                struct tail_file *f = tail_file_at(dm->tail, i);
                const struct fstate *fs = f->user;
                if (f->changed_ns == 1)
                    left = true;
                if (fs && fs->unknown_sibling && f->changed_ns &&
                    clock_mono_ns() - fs->unknown_ns < 4 * tm.rotate_ns) {
                    int64_t w = tm.rotate_ns - unmodified_ns(f);
                    if (w < wait_ns)
                        wait_ns = w;
                }
            }
            if (sig_stop || (!left && wait_ns == INT64_MAX))
                return 0;
            if (!left && wait_ns > 0) {
                struct timespec ts = { (time_t)(wait_ns / 1000000000),
                                       (long)(wait_ns % 1000000000) + 1000000 };
                if (ts.tv_nsec >= 1000000000) {
                    ts.tv_sec++;
                    ts.tv_nsec -= 1000000000;
                }
                nanosleep(&ts, NULL); /* (a signal ends it early: sig_stop is seen above) */
            }
            continue;
        }
        first = false;
        close_idle(dm, &tm, clock_mono_ns());
        int64_t hook_at = run_hook_ticks(dm);
        /* What is left to do, and when. */
        now = clock_mono_ns();
        for (size_t i = 0; i < tail_count(dm->tail); i++) {
            struct tail_file *f = tail_file_at(dm->tail, i);
            int64_t at;
            if (f->changed_ns)
                any_changed = true;
            if (held_back(f, held, nheld))
                continue; /* due when what holds it back is read */
            if (due_of(dm, f, &tm, now, false, &at) != DUE_NO)
                at = now;
            if (at < next)
                next = at;
            if (f->state == TAIL_FILE_LIVE && f->fd >= 0 && !f->changed_ns) {
                int64_t idle = f->grew_ns + tm.rotate_ns;
                if (idle > now && idle < next)
                    next = idle; /* close_idle() then */
            }
        }
        int64_t timeout_us = -1;
        if (next != INT64_MAX)
            timeout_us = next > now ? (next - now + 999) / 1000 : 0;
        if (hook_at != INT64_MAX) {
            int64_t w = hook_at - clock_now_us();
            if (w < 0)
                w = 0;
            if (timeout_us < 0 || w < timeout_us)
                timeout_us = w;
        }
        if (timeout_us == 0)
            continue;
        /* While a read is scheduled, watcher hints add nothing: the read looks at every
         * file. Listening again only when nothing is scheduled keeps a busy log at two
         * wake-ups per commit interval. */
        if (tail_wait(dm->tail, timeout_us, !any_changed, d) < 0)
            return -1;
        drain_pipe();
    }
}

int daemon_run(const struct daemon_opts *o, struct diag *d)
{
    struct daemon dm = { .o = o, .hooks = o->hooks ? o->hooks : daemon_hooks };
    struct saved_signals old;
    int ret = -1;

    /* Every problem of every part said at once, as --check says them (QA 21c): the
     * modules' problems too when the file has some (else configure_hooks() says them). */
    if (daemon_check_config(o, &dm.cfg, false, d) < 0) {
        config_release(&dm.cfg);
        return -1;
    }
    /* Rotated files stay open until drained, and every directory is watched: allow
     * as many descriptors as the hard limit does. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
    sig_hooks = dm.hooks;
    if (signals_install(&old, d) < 0) {
        config_release(&dm.cfg);
        return -1;
    }
    dm.store_path = xstrdup(store_path_of(&dm, &dm.cfg));
    dm.nz = normalize_new(NULL);
    struct store_opts so = store_opts_of(&dm.cfg);
    if (store_open(&dm.store, dm.store_path, &so, d) < 0)
        goto out;
    dm.tail = tail_new(&(struct tail_opts){ .backend = backend_of(dm.cfg.tail.watcher),
                                            .poll_interval_us = dm.cfg.tail.poll_interval_us,
                                            .rescan_interval_us = dm.cfg.tail.rescan_interval_us,
                                            .wake_fd = sig_pipe[0],
                                            .hold_recent_us = HOLD_RECENT_US,
                                            .user_free = fstate_free },
                       d);
    if (!dm.tail)
        goto out;
    add_sources(&dm);
    for (const struct daemon_hook *h = dm.hooks; h->name; h++)
        if (h->start && h->start(h->ctx, dm.store_path, d) < 0)
            goto out;
    if (open_commit_log(&dm, d) < 0 || configure_hooks(&dm, &dm.cfg, true, d) < 0)
        goto out;
    warn_unhandled(&dm, &dm.cfg);
    log_note("following %zu source%s (%s) into '%s'", dm.cfg.nsources,
             dm.cfg.nsources == 1 ? "" : "s", tail_backend_name(dm.tail), dm.store_path);
    for (size_t i = 0; i < dm.cfg.nsources; i++)
        for (size_t k = 0; k < dm.cfg.sources[i].paths.n; k++)
            if (access(dm.cfg.sources[i].paths.v[k], F_OK) < 0 &&
                !strpbrk(dm.cfg.sources[i].paths.v[k], "*?["))
                log_note("'%s' does not exist yet: waiting for it", dm.cfg.sources[i].paths.v[k]);
    dm.next_rollup_us = clock_now_us();
    dm.start_us = clock_now_us();
    sd_notify("READY=1");
    ret = loop(&dm, d);
    sd_notify("STOPPING=1");
    for (const struct daemon_hook *h = dm.hooks; ret == 0 && h->name; h++)
        if (h->stop)
            h->stop(h->ctx, dm.store);
    if (ret == 0)
        log_note("stopped");
out:
    for (const struct daemon_hook *h = dm.hooks; h->name; h++)
        if (h->release)
            h->release(h->ctx);
    tail_free(dm.tail);
    normalize_free(dm.nz);
    store_close(dm.store);
    if (dm.commit_log)
        fclose(dm.commit_log);
    free(dm.commit_log_path);
    free(dm.store_path);
    for (size_t i = 0; i < dm.nsince; i++)
        free(dm.since[i].origin);
    free(dm.since);
    config_release(&dm.cfg);
    signals_restore(&old);
    return ret;
}
