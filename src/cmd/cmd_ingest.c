/* SPDX-License-Identifier: MIT */
/*
 * pgsift ingest - load logs (plain, .gz, stdin; files, globs, directories) into the
 * store, exactly once per byte (cmd/ingest.h), then roll up what retention says.
 */
#include <errno.h>
#include <dirent.h>
#include <glob.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/ingest.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/opts.h"
#include "core/xalloc.h"
#include "pipeline.h"
#include "store/store.h"

#define INGEST_SYNOPSIS                                                   \
    "pgsift ingest [--format F] [--prefix P] [--tz Z] [--keep-literals] " \
    "[--progress|--no-progress] FILE|DIR|GLOB...|-"

struct file {
    char *path;
    struct stat st;
};

struct files {
    struct file *v;
    size_t n, alloc;
};

static void add_file(struct files *fs, const char *path, const struct stat *st)
{
    for (size_t i = 0; i < fs->n; i++)
        if (fs->v[i].st.st_dev == st->st_dev && fs->v[i].st.st_ino == st->st_ino)
            return; /* named twice (a glob and a directory, say): read once */
    XGROW(fs->v, fs->n + 1, fs->alloc);
    fs->v[fs->n].path = xstrdup(path);
    fs->v[fs->n].st = *st;
    fs->n++;
}

static int cmp_mtime(const void *a, const void *b)
{
    const struct file *x = a, *y = b;
    if (x->st.st_mtim.tv_sec != y->st.st_mtim.tv_sec)
        return x->st.st_mtim.tv_sec < y->st.st_mtim.tv_sec ? -1 : 1;
    if (x->st.st_mtim.tv_nsec != y->st.st_mtim.tv_nsec)
        return x->st.st_mtim.tv_nsec < y->st.st_mtim.tv_nsec ? -1 : 1;
    /* Same time: postgresql.log.2 is older than postgresql.log.1 (logrotate). */
    return -strcmp(x->path, y->path);
}

/* Regular files under @dir, recursively; hidden entries and symbolic links to
 * directories are skipped (no loops). */
static int walk(const char *dir, struct files *fs, int depth, struct diag *d)
{
    if (depth > 64)
        return diag_set(d, DIAG_IO, "directories nested too deep under '%s'", dir);
    DIR *dh = opendir(dir);
    if (!dh)
        return diag_errno(d, DIAG_IO, errno, "cannot read directory '%s'", dir);
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(dh))) {
        if (de->d_name[0] == '.')
            continue;
        struct sbuf path = SBUF_INIT;
        struct stat lst, st;
        if (sbuf_addf(&path, "%s/%s", dir, de->d_name) < 0)
            rc = diag_set(d, DIAG_LIMIT, "path too long under '%s'", dir);
        else if (lstat(path.buf, &lst) < 0 || stat(path.buf, &st) < 0)
            log_warn("skipping '%s': %s", path.buf, strerror(errno));
        else if (S_ISDIR(st.st_mode) && !S_ISLNK(lst.st_mode))
            rc = walk(path.buf, fs, depth + 1, d);
        else if (S_ISREG(st.st_mode))
            add_file(fs, path.buf, &st);
        sbuf_release(&path);
    }
    closedir(dh);
    return rc;
}

/* Expand one operand into files, oldest first (by modification time). */
static int expand(const char *arg, struct files *out, struct diag *d)
{
    struct files fs = { 0 };
    struct stat st;

    if (stat(arg, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            if (walk(arg, &fs, 0, d) < 0)
                goto fail;
            if (!fs.n)
                log_warn("directory '%s' holds no files", arg);
        } else {
            add_file(&fs, arg, &st);
        }
    } else if (strpbrk(arg, "*?[")) {
        glob_t g;
        int rc = glob(arg, 0, NULL, &g);
        if (rc == GLOB_NOMATCH) {
            globfree(&g);
            return diag_set(d, DIAG_IO, "no file matches '%s'", arg);
        }
        if (rc != 0) {
            globfree(&g);
            return diag_set(d, DIAG_IO, "cannot expand '%s'", arg);
        }
        for (size_t i = 0; i < g.gl_pathc; i++)
            if (stat(g.gl_pathv[i], &st) == 0 && S_ISREG(st.st_mode))
                add_file(&fs, g.gl_pathv[i], &st);
        globfree(&g);
    } else {
        return diag_errno(d, DIAG_IO, errno, "cannot open '%s'", arg);
    }
    if (fs.n)
        qsort(fs.v, fs.n, sizeof(*fs.v), cmp_mtime);
    for (size_t i = 0; i < fs.n; i++) {
        add_file(out, fs.v[i].path, &fs.v[i].st);
        free(fs.v[i].path);
    }
    free(fs.v);
    return 0;
fail:
    for (size_t i = 0; i < fs.n; i++)
        free(fs.v[i].path);
    free(fs.v);
    return -1;
}

/* ---- progress ---- */

struct progress {
    bool on;
    int64_t start_ns, last_ns;
    uint64_t done_bytes; /* finished sources */
    size_t index, count;
    bool drawn;
};

static void progress_draw(struct progress *pg, const char *name, uint64_t bytes, bool force)
{
    int64_t now = clock_mono_ns();
    if (!pg->on || (!force && now - pg->last_ns < 200000000))
        return;
    pg->last_ns = now;
    double secs = (double)(now - pg->start_ns) / 1e9;
    double mb = (double)(pg->done_bytes + bytes) / 1e6;
    const char *base = strrchr(name, '/');
    fprintf(stderr, "\r\033[Kpgsift: ingesting %zu/%zu %.60s: %.1f MB, %.1f MB/s", pg->index,
            pg->count, base ? base + 1 : name, mb, secs > 0 ? mb / secs : 0.0);
    pg->drawn = true;
}

static void progress_cb(void *ctx, const char *name, uint64_t bytes)
{
    progress_draw(ctx, name, bytes, false);
}

static void progress_clear(struct progress *pg)
{
    if (pg->drawn)
        fputs("\r\033[K", stderr);
    pg->drawn = false;
}

/* Rejects are never silent: one line per source. */
static void warn_rejects(const char *name, const struct parse_stats *st)
{
    if (!st->rejects && !st->foreign_lines && !st->damaged)
        return;
    struct sbuf sb = SBUF_INIT;
    int ok = sbuf_addf(&sb, "'%s': %" PRIu64 " record%s rejected", name, st->rejects,
                       st->rejects == 1 ? "" : "s");
    for (size_t i = 0; ok == 0 && i < st->nreasons; i++)
        ok = sbuf_addf(&sb, "%s%s %" PRIu64, i ? ", " : " (", st->reasons[i].reason,
                       st->reasons[i].records);
    if (ok == 0 && st->nreasons)
        ok = sbuf_addstr(&sb, ")");
    if (ok == 0 && st->foreign_lines)
        ok = sbuf_addf(&sb, ", %" PRIu64 " foreign line%s", st->foreign_lines,
                       st->foreign_lines == 1 ? "" : "s");
    if (ok == 0 && st->damaged)
        ok = sbuf_addf(&sb, ", damaged input");
    for (size_t i = 0; ok == 0 && i < st->nreasons; i++) {
        const struct parse_reason *rs = &st->reasons[i];
        if (!rs->nsamples)
            continue;
        const struct parse_sample *s = &rs->samples[0];
        ok = sbuf_addf(&sb, "\n    first: %s:%" PRIu64 ": %s%s%s", s->source, s->line, rs->reason,
                       s->detail && *s->detail ? ": " : "", s->detail ? s->detail : "");
    }
    log_warn("%s (kept in the store with samples)", sb.buf);
    sbuf_release(&sb);
}

int cmd_ingest(int argc, char **argv, const struct cli *cli, struct diag *d)
{
    const char *format = NULL, *prefix = NULL, *tz = NULL;
    bool keep_literals = false, progress = isatty(STDERR_FILENO) != 0;
    const struct opt opts[] = {
        OPT_STRING_(0, "format", &format, "F",
                    "log format: auto (default), csvlog, jsonlog, stderr, ..."),
        OPT_STRING_(0, "prefix", &prefix, "P", "the server's log_line_prefix (stderr, syslog)"),
        OPT_STRING_(0, "tz", &tz, "Z", "time zone for zone-less or ambiguous timestamps"),
        OPT_BOOL_(0, "keep-literals", &keep_literals,
                  "store messages and statement samples unredacted (tenant data!)"),
        OPT_BOOL_(0, "progress", &progress, "show progress on stderr (default on a terminal)"),
        OPT_END_(),
    };
    int n = opts_parse(opts, argc - 1, argv + 1, d);
    if (n == -2) {
        opts_usage(stdout, INGEST_SYNOPSIS, opts);
        return 0;
    }
    if (n < 0)
        return -1;
    if (n == 0)
        return diag_set(d, DIAG_USAGE, "'ingest' needs a file, directory, glob or '-' (stdin)");

    struct pipeline_opts check = { .format = format, .prefix = prefix, .tz = tz };
    if (pipeline_check(&check, d) < 0)
        return -1;

    /* Operands: files in order, each directory and glob oldest first. */
    struct files fs = { 0 };
    bool use_stdin = false;
    int ret = -1;
    for (int i = 1; i <= n; i++) {
        if (!strcmp(argv[i], "-")) {
            use_stdin = true;
            continue;
        }
        if (expand(argv[i], &fs, d) < 0)
            goto out_files;
    }

    struct store *s;
    struct store_opts so = { .keep_literals = keep_literals };
    if (store_open(&s, cli->db_path, &so, d) < 0)
        goto out_files;

    struct progress pg = { .on = progress && log_get_level() != LOG_LEVEL_QUIET,
                           .start_ns = clock_mono_ns(),
                           .count = fs.n + use_stdin };
    struct ingest_opts io = { .format = format,
                              .prefix = prefix,
                              .tz = tz,
                              .progress = pg.on ? progress_cb : NULL,
                              .progress_ctx = &pg };
    /* Tests make batches small to commit (and be killed) often. */
    const char *tb = getenv("SIFT_TEST_BATCH_BYTES");
    if (tb && *tb)
        io.batch_bytes = strtoull(tb, NULL, 10);
    uint64_t records = 0, bytes = 0, rejects = 0, read_sources = 0, unchanged = 0;
    size_t nothing = 0, with_events = 0;
    struct sbuf first_diag = SBUF_INIT;
    int64_t t0 = clock_mono_ns();

    for (size_t i = 0; i < fs.n + use_stdin; i++) {
        const char *path = i < fs.n ? fs.v[i].path : "-";
        struct ingest_result r;
        ingest_result_init(&r);
        pg.index = i + 1;
        progress_draw(&pg, path, 0, true);
        int rc = ingest_source(s, &io, path, &r, d);
        progress_clear(&pg);
        pg.done_bytes += r.bytes;
        if (rc < 0) {
            ingest_result_release(&r);
            goto out_store;
        }
        records += r.stats.events;
        bytes += r.bytes;
        rejects += r.stats.rejects;
        if (r.bytes)
            read_sources++;
        else
            unchanged++;
        if (r.stats.events)
            with_events++;
        if (r.how == STORE_RESUME_REPLACED)
            log_note("'%s' was truncated or replaced since it was last read: read from the start",
                     path);
        else if (r.how == STORE_RESUME_MOVED)
            log_verbose("'%s' continues '%s' at byte %" PRIu64, path, r.prev_name, r.start_offset);
        if (r.stale)
            log_warn("'%s' is being ingested by another pgsift at the same time: left to it", path);
        if (r.held_bytes)
            log_verbose("'%s': last line has no newline yet (%" PRIu64
                        " bytes): left for the next run",
                        path, r.held_bytes);
        if (r.nothing_parsed) {
            /* The first such source becomes the exit-3 diagnosis if nothing parses at
             * all; the others (or all, if something parsed) are warnings. */
            if (nothing++ == 0) {
                if (sbuf_addf(&first_diag, "no record could be parsed in '%s'%s%s", path,
                              r.diagnosis.len ? "\n" : "", r.diagnosis.buf) < 0) {
                    /* capped: the start is kept */
                }
            } else {
                log_warn("no record could be parsed in '%s'%s%s", path, r.diagnosis.len ? "\n" : "",
                         r.diagnosis.buf);
            }
        } else {
            warn_rejects(path, &r.stats);
        }
        ingest_result_release(&r);
    }

    struct store_rollup_stats rs;
    if (store_rollup(s, clock_now_us(), &rs, d) < 0)
        goto out_store;
    if (nothing && with_events == 0) {
        /* Input was read and not one record parsed: exit 3 with the diagnosis. */
        diag_set(d, DIAG_NOINPUT, "%s", first_diag.buf);
        goto out_store;
    }
    if (nothing)
        log_warn("%s", first_diag.buf);
    double secs = (double)(clock_mono_ns() - t0) / 1e9;
    struct sbuf sum = SBUF_INIT;
    if (sbuf_addf(&sum,
                  "ingested %" PRIu64 " record%s from %" PRIu64
                  " source%s (%.1f MB in %.2f s, %.1f MB/s)",
                  records, records == 1 ? "" : "s", read_sources, read_sources == 1 ? "" : "s",
                  (double)bytes / 1e6, secs, secs > 0 ? (double)bytes / 1e6 / secs : 0.0) < 0 ||
        (unchanged && sbuf_addf(&sum, "; %" PRIu64 " unchanged", unchanged) < 0) ||
        (rejects && sbuf_addf(&sum, "; %" PRIu64 " rejected", rejects) < 0)) {
        /* unbounded */
    }
    log_note("%s", sum.buf);
    sbuf_release(&sum);
    ret = 0;
out_store:
    sbuf_release(&first_diag);
    store_close(s);
out_files:
    for (size_t i = 0; i < fs.n; i++)
        free(fs.v[i].path);
    free(fs.v);
    return ret;
}
