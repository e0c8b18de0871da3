/* SPDX-License-Identifier: MIT */
/*
 * pgsift ingest - load logs (plain, .gz, stdin; files, globs, directories) into the
 * store, exactly once per byte (cmd/ingest.h), then roll up what retention says.
 */
#include <errno.h>
#include <dirent.h>
#include <glob.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/ingest.h"
#include "config.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/opts.h"
#include "core/xalloc.h"
#include "input/input.h"
#include "normalize/normalize.h"
#include "pipeline.h"
#include "store/store.h"

#define INGEST_SYNOPSIS                                                                   \
    "pgsift ingest [--config FILE] [--format F] [--prefix P] [--tz Z] [--keep-literals] " \
    "[--progress|--no-progress] FILE|DIR|GLOB...|-"

struct file {
    char *path;
    struct stat st;
    bool found;          /* by a directory or a glob, not named */
    const char *operand; /* the operand that named it (argv): its input for the rules */
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
    fs->v[fs->n].found = false;
    fs->v[fs->n].operand = NULL;
    fs->n++;
}

/* The length of @name without a ".gz" ending. */
static size_t name_len_sans_gz(const char *name)
{
    size_t len = strlen(name);
    return len > 3 && !strcmp(name + len - 3, ".gz") ? len - 3 : len;
}

/* @name's first @len bytes end in a rotation number (".N", logrotate): its start (the
 * '.') in *stem and N in *num; else *stem = @len, *num = 0. */
static void rotation_number(const char *name, size_t len, size_t *stem, uint64_t *num)
{
    size_t i = len;
    while (i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9')
        i--;
    *stem = len;
    *num = 0;
    if (i == len || i == 0 || name[i - 1] != '.' || len - i > 9)
        return;
    *stem = i - 1;
    for (; i < len; i++)
        *num = *num * 10 + (uint64_t)(name[i] - '0');
}

/* Files with the same modification time (unpacked from an archive, copied with their
 * times): the names say which is older. postgresql.log.2(.gz) before postgresql.log.1
 * before postgresql.log (logrotate's numbers), postgresql.log-20261124 (logrotate's
 * dateext) before postgresql.log, else in name order: postgresql-2026-11-24_000000.log
 * before postgresql-2026-11-25_000000.log (PostgreSQL's default log_filename). */
static int cmp_names(const char *x, const char *y)
{
    size_t lx = name_len_sans_gz(x), ly = name_len_sans_gz(y), sx, sy;
    uint64_t nx, ny;
    rotation_number(x, lx, &sx, &nx);
    rotation_number(y, ly, &sy, &ny);
    if (sx == sy && !memcmp(x, y, sx) && nx != ny)
        return nx > ny ? -1 : 1;
    if (lx < ly && !memcmp(x, y, lx) && strchr("-_.", y[lx]))
        return 1; /* y is a rotated copy of x */
    if (ly < lx && !memcmp(x, y, ly) && strchr("-_.", x[ly]))
        return -1;
    return strcmp(x, y);
}

static int cmp_mtime(const void *a, const void *b)
{
    const struct file *x = a, *y = b;
    if (x->st.st_mtim.tv_sec != y->st.st_mtim.tv_sec)
        return x->st.st_mtim.tv_sec < y->st.st_mtim.tv_sec ? -1 : 1;
    if (x->st.st_mtim.tv_nsec != y->st.st_mtim.tv_nsec)
        return x->st.st_mtim.tv_nsec < y->st.st_mtim.tv_nsec ? -1 : 1;
    return cmp_names(x->path, y->path);
}

/* Regular files under @dir, recursively; hidden entries and symbolic links to
 * directories are skipped (no loops). A directory that cannot be read is said and
 * counted in *@errors; the others are still read. */
static int walk(const char *dir, struct files *fs, int depth, size_t *errors, struct diag *d)
{
    if (depth > 64)
        return diag_set(d, DIAG_IO, "directories nested too deep under '%s'", dir);
    DIR *dh = opendir(dir);
    if (!dh) {
        log_error("cannot read directory '%s': %s", dir, strerror(errno));
        ++*errors;
        return 0;
    }
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
            rc = walk(path.buf, fs, depth + 1, errors, d);
        else if (S_ISREG(st.st_mode))
            add_file(fs, path.buf, &st);
        sbuf_release(&path);
    }
    closedir(dh);
    return rc;
}

/* Of the files found in directories or by globs, drop those that another file of the
 * same name with a better destination holds (csvlog, then jsonlog, then stderr: the
 * csvlog has every field delimited), and say so: reading both would count each record
 * twice. A file named on the command line is always read (and is a twin like any). */
static void drop_destination_twins(struct files *fs)
{
    if (fs->n < 2)
        return;
    const char **names = xcalloc(fs->n, sizeof(*names));
    int64_t *mtimes = xcalloc(fs->n, sizeof(*mtimes));
    bool *named = xcalloc(fs->n, sizeof(*named));
    for (size_t i = 0; i < fs->n; i++) {
        names[i] = fs->v[i].path;
        mtimes[i] = (int64_t)fs->v[i].st.st_mtim.tv_sec;
        named[i] = !fs->v[i].found;
    }
    size_t *twin = input_dest_twins(names, mtimes, named, fs->n), kept = 0, dropped = 0;
    free(names);
    free(mtimes);
    free(named);
    for (size_t i = 0; i < fs->n; i++) {
        if (twin[i] == SIZE_MAX)
            continue;
        const char *path = fs->v[i].path, *by = fs->v[twin[i]].path;
        if (dropped++)
            log_verbose("skipping '%s': '%s' holds the same server's records", path, by);
        else
            log_note("skipping '%s' (and any other file found in a directory or by a glob "
                     "that has a csvlog or jsonlog twin of the same name): '%s' holds the "
                     "same server's records; name a file to read it anyway",
                     path, by);
    }
    for (size_t i = 0; i < fs->n; i++) {
        if (twin[i] == SIZE_MAX)
            fs->v[kept++] = fs->v[i];
        else
            free(fs->v[i].path);
    }
    if (dropped > 1)
        log_note("%zu files skipped in all, as twins of a csvlog or jsonlog file", dropped);
    fs->n = kept;
    free(twin);
}

/* Expand one operand into files, oldest first (by modification time). An operand that
 * names nothing readable is said and counted in *@errors (the others are still read). */
static int expand(const char *arg, struct files *out, size_t *errors, struct diag *d)
{
    struct files fs = { 0 };
    struct stat st;
    bool named = false; /* a file named as such, not found in a directory or by a glob */

    if (stat(arg, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            if (walk(arg, &fs, 0, errors, d) < 0)
                goto fail;
            if (!fs.n)
                log_warn("directory '%s' holds no files", arg);
        } else {
            if (!S_ISREG(st.st_mode))
                log_note("'%s' is not a file: pgsift cannot recognise its lines later, so "
                         "lines fed again are counted again",
                         arg);
            add_file(&fs, arg, &st);
            named = true;
        }
    } else if (strpbrk(arg, "*?[")) {
        glob_t g;
        int rc = glob(arg, 0, NULL, &g);
        if (rc != 0) {
            globfree(&g);
            log_error(rc == GLOB_NOMATCH ? "no file matches '%s'" : "cannot expand '%s'", arg);
            ++*errors;
            return 0;
        }
        for (size_t i = 0; i < g.gl_pathc; i++)
            if (stat(g.gl_pathv[i], &st) == 0 && S_ISREG(st.st_mode))
                add_file(&fs, g.gl_pathv[i], &st);
        globfree(&g);
    } else {
        log_error("cannot open '%s': %s", arg, strerror(errno));
        ++*errors;
        return 0;
    }
    if (fs.n)
        qsort(fs.v, fs.n, sizeof(*fs.v), cmp_mtime);
    for (size_t i = 0; i < fs.n; i++) {
        size_t n0 = out->n;
        add_file(out, fs.v[i].path, &fs.v[i].st);
        if (out->n > n0) {
            out->v[n0].found = !named;
            out->v[n0].operand = arg;
        }
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

/* ---- jobs and progress ---- */

struct ingest_run;

/* One source to read. */
struct job {
    struct ingest_run *run;
    const char *path;
    const char *input; /* its operand: lines are counted under it (input_stats) */
    struct ingest_result res;
    uint64_t bytes_now; /* progress: decoded bytes read so far */
    uint64_t disk;      /* progress: the file's size (0: standard input, unknown) */
    bool gz;            /* progress: compressed (decoded bytes are not disk bytes) */
    bool found;         /* found in a directory or by a glob (not named) */
    int rc;
    struct diag d;
    bool done;
    struct ingest_prefetch *prefetch; /* (the first file's, into a new store) */
    /* -j N: sources that start with the same bytes - copies, a file and its gzipped
     * rotation - are read by one reader in list order, as -j 1 reads them (same_starts()):
     * the index of the next such job (0: none; never the first), and whether this one is
     * read after another. */
    size_t then;
    bool follows;
};

/* What the threads of `-j N` share. */
struct ingest_run {
    struct store *s;
    struct ingest_opts io; /* progress_ctx is set per job */
    pthread_mutex_t store_lock, queue_lock;
    struct job *jobs;
    size_t njobs, next;
    bool failed;
    /* progress */
    bool progress;
    int64_t start_ns, last_ns;
    bool drawn;
    size_t cols;      /* the terminal's width (0: unknown, as when stderr is a file) */
    bool dumb;        /* TERM=dumb: no escape sequences (cleared with spaces) */
    size_t drawn_len; /* columns of the line on the screen */
};

/* The width of the terminal on stderr: TIOCGWINSZ, else $COLUMNS, else 0 (unknown). */
static size_t term_columns(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    const char *c = getenv("COLUMNS");
    char *end;
    long v = c && *c ? strtol(c, &end, 10) : 0;
    return v > 0 && v < 10000 && c && !*end ? (size_t)v : 0;
}

/* Append at most @max columns of a file name to @out: control bytes (a file name may hold
 * any) as '?', a name cut short ends in "..". Columns are counted per UTF-8 character. */
static int add_name(struct sbuf *out, const char *name, size_t max)
{
    size_t cols = 0, len = 0;
    for (const char *p = name; *p; p++)
        cols += ((unsigned char)*p & 0xC0) != 0x80;
    size_t keep = cols <= max ? cols : max >= 3 ? max - 2 : 0;
    for (const char *p = name; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c & 0xC0) != 0x80 && len++ == keep)
            break;
        if (sbuf_add(out, c < 0x20 || c == 0x7f ? "?" : p, 1) < 0)
            return -1;
    }
    return keep < cols && max >= 3 ? sbuf_addstr(out, "..") : 0;
}

/* Under queue_lock. */
static void progress_draw(struct ingest_run *ir, const char *name, bool force)
{
    int64_t now = clock_mono_ns();
    if (!ir->progress || (!force && now - ir->last_ns < 200000000))
        return;
    ir->last_ns = now;
    uint64_t bytes = 0;
    size_t done = 0;
    for (size_t i = 0; i < ir->njobs; i++) {
        bytes += ir->jobs[i].done ? ir->jobs[i].res.bytes : ir->jobs[i].bytes_now;
        done += ir->jobs[i].done;
    }
    double secs = (double)(now - ir->start_ns) / 1e9, mb = (double)bytes / 1e6;
    const char *base = strrchr(name, '/');
    /* The share of the files' bytes on disk: a finished file counts whole, a plain file
     * being read by its decoded bytes, a .gz being read not yet (its decoded size is not
     * known). No bar and no ETA with standard input (its size is not known). */
    char bar[40] = "", eta[48] = "";
    bool sized = true;
    uint64_t total = 0, part = 0;
    for (size_t i = 0; i < ir->njobs; i++) {
        const struct job *j = &ir->jobs[i];
        sized = sized && j->disk > 0;
        total += j->disk;
        part += j->done ? j->disk : j->gz ? 0 : j->bytes_now < j->disk ? j->bytes_now : j->disk;
    }
    if (sized && total > 0) {
        double f = (double)part / (double)total;
        int fill = (int)(f * 20 + 0.5);
        snprintf(bar, sizeof(bar), " [%.*s%*s] %3d%%", fill, "####################", 20 - fill, "",
                 (int)(f * 100));
        if (f >= 0.01 && secs > 0) {
            long left = (long)(secs * (1 - f) / f + 0.5);
            snprintf(eta, sizeof(eta), ", ETA %ld:%02ld", left / 60, left % 60);
        }
    }
    /* One line that fits the terminal (a wrapped line is not redrawn by "\r": each
     * drawing would leave a line behind); the file name is what gives way. */
    char head[64], tail[128];
    snprintf(head, sizeof(head), "pgsift: ingesting %zu/%zu ", done, ir->njobs);
    snprintf(tail, sizeof(tail), "%s: %.1f MB, %.1f MB/s%s", bar, mb, secs > 0 ? mb / secs : 0.0,
             eta);
    size_t fixed = strlen(head) + strlen(tail), room = 60;
    if (ir->cols)
        room = ir->cols - 1 > fixed ? ir->cols - 1 - fixed : 0;
    struct sbuf line = SBUF_INIT;
    if (sbuf_addstr(&line, head) < 0 || add_name(&line, base ? base + 1 : name, room) < 0 ||
        sbuf_addstr(&line, tail) < 0) {
        sbuf_release(&line);
        return;
    }
    size_t cols = 0;
    for (size_t i = 0; i < line.len; i++)
        cols += ((unsigned char)line.buf[i] & 0xC0) != 0x80;
    if (ir->cols && cols > ir->cols - 1) {
        /* even without the name it is too wide: what is left is ASCII, cut it */
        line.len -= cols - (ir->cols - 1);
        line.buf[line.len] = '\0';
        cols = ir->cols - 1;
    }
    if (ir->dumb)
        fprintf(stderr, "\r%s%*s", line.buf, (int)(ir->drawn_len > cols ? ir->drawn_len - cols : 0),
                "");
    else
        fprintf(stderr, "\r\033[K%s", line.buf);
    ir->drawn_len = cols > ir->drawn_len ? cols : ir->drawn_len;
    sbuf_release(&line);
    ir->drawn = true;
}

static void progress_cb(void *ctx, const char *name, uint64_t bytes)
{
    struct job *j = ctx;
    pthread_mutex_lock(&j->run->queue_lock);
    j->bytes_now = bytes;
    progress_draw(j->run, name, false);
    pthread_mutex_unlock(&j->run->queue_lock);
}

static void progress_clear(struct ingest_run *ir)
{
    if (ir->drawn && ir->dumb)
        fprintf(stderr, "\r%*s\r", (int)ir->drawn_len, "");
    else if (ir->drawn)
        fputs("\r\033[K", stderr);
    ir->drawn = false;
    ir->drawn_len = 0;
}

static void run_job(struct job *j, struct normalizer *nz)
{
    struct ingest_opts io = j->run->io;
    io.progress_ctx = j;
    io.nz = nz;
    /* The last source: near its end the store's log is checkpointed at every commit, so
     * that closing the store has little left to copy. */
    io.checkpoint_tail = j == &j->run->jobs[j->run->njobs - 1];
    io.prefetch = j->prefetch; /* (ingest_source() consumes it) */
    io.input = j->input;
    j->prefetch = NULL;
    j->d = (struct diag)DIAG_INIT;
    j->rc = ingest_source(j->run->s, &io, j->path, &j->res, &j->d);
}

/* The source could not be read (opened, read, decoded): said, and the other sources are
 * still read; the run exits 1 at the end. Anything else (the store) stops the run. */
static bool source_failure(const struct diag *d)
{
    return d->kind == DIAG_IO;
}

/*
 * A source found stale: another reader committed its stream since this one looked -
 * another source of this run with the same content (a copy, or the file and its gzipped
 * rotation, read at the same time by -j N), or another pgsift; or a record with the same
 * id (Supabase exports that overlap) was committed since this batch looked. Called once the run's
 * readers are done, it looks once more: the stream is found where the other stored it,
 * and only what is past that is read (nothing, for a copy). Still stale means another
 * pgsift is reading it: left to it. What the first attempt committed stays counted; its
 * parse stats (of batches refused as well) give way to the second's. j->rc and j->d are
 * the second attempt's.
 */
static void retry_stale(struct job *j, struct normalizer *nz)
{
    struct ingest_result first = j->res;
    ingest_result_init(&j->res);
    run_job(j, nz);
    j->res.bytes += first.bytes;
    j->res.commits += first.commits;
    j->res.records += first.records;
    j->res.rejected += first.rejected;
    j->res.duplicates += first.duplicates;
    ingest_result_release(&first);
}

/* Bytes of a source's start compared by same_starts(). */
#define SAME_START_BYTES 256

/*
 * Chain the jobs whose sources start with the same SAME_START_BYTES decoded bytes (or
 * are the same shorter content): each chain is read by one reader, in list order. Two
 * readers given copies of one stream at once would both find it new; the store refuses
 * the second at its first commit (it then looks again, retry_stale()), but which one
 * commits first would decide what is read: a copy of the file's first half, older and
 * listed first, must be read before the whole file - then the file's tail is all that is
 * new - as -j 1 reads them. Sources that cannot be read here are left alone (their
 * reader says why).
 */
struct start_key {
    uint64_t hash, got;
    size_t job;
};

static int start_key_cmp(const void *a, const void *b)
{
    const struct start_key *x = a, *y = b;
    if (x->hash != y->hash)
        return x->hash < y->hash ? -1 : 1;
    if (x->got != y->got)
        return x->got < y->got ? -1 : 1;
    return x->job < y->job ? -1 : x->job > y->job;
}

static void same_starts(struct ingest_run *ir)
{
    struct start_key *k = xcalloc(ir->njobs ? ir->njobs : 1, sizeof(*k));
    size_t n = 0;
    for (size_t i = 0; i < ir->njobs; i++) {
        struct diag d = DIAG_INIT;
        if (ir->jobs[i].disk &&
            input_hash_range(ir->jobs[i].path, 0, SAME_START_BYTES, &k[n].hash, &k[n].got, &d) ==
                0 &&
            k[n].got > 0)
            k[n++].job = i;
    }
    /* Sorted by start, then list order: each run of equal starts is one chain. */
    qsort(k, n, sizeof(*k), start_key_cmp);
    for (size_t i = 1; i < n; i++)
        if (k[i].hash == k[i - 1].hash && k[i].got == k[i - 1].got) {
            ir->jobs[k[i - 1].job].then = k[i].job;
            ir->jobs[k[i].job].follows = true;
        }
    free(k);
}

/* A reader thread of `-j N`: take the next source (and those chained to it,
 * same_starts()) until none is left (or one failed). */
static void *worker(void *arg)
{
    struct ingest_run *ir = arg;
    /* One normalizer per reader: its fingerprint cache serves every source it reads. */
    struct normalizer *nz = normalize_new(NULL);
    for (;;) {
        pthread_mutex_lock(&ir->queue_lock);
        while (ir->next < ir->njobs && ir->jobs[ir->next].follows)
            ir->next++;
        struct job *j = ir->failed || ir->next >= ir->njobs ? NULL : &ir->jobs[ir->next++];
        pthread_mutex_unlock(&ir->queue_lock);
        if (!j) {
            normalize_free(nz);
            return NULL;
        }
        for (; j; j = j->then ? &ir->jobs[j->then] : NULL) {
            pthread_mutex_lock(&ir->queue_lock);
            bool stop = ir->failed;
            if (!stop)
                progress_draw(ir, j->path, true);
            pthread_mutex_unlock(&ir->queue_lock);
            if (stop)
                break;
            run_job(j, nz);
            pthread_mutex_lock(&ir->queue_lock);
            j->done = true;
            if (j->rc < 0 && !source_failure(&j->d))
                ir->failed = true;
            pthread_mutex_unlock(&ir->queue_lock);
        }
    }
}

/* Rejects are never silent: one line per source. The count is what the summary line adds
 * up: records rejected, foreign lines and damage reports, each kind named (the damage
 * with where it is), then the first sample of each reason. @stored: the run committed
 * them (a source of which nothing could be read commits nothing). */
static void warn_rejects(const char *name, const struct parse_stats *st, bool stored)
{
    if (parse_stats_newest_first(st))
        log_warn("'%s': %s", name, PARSE_NEWEST_FIRST_NOTE);
    if (st->undated)
        log_warn("'%s': %" PRIu64 " record%s %s", name, st->undated, st->undated == 1 ? "" : "s",
                 PARSE_UNDATED_NOTE);
    uint64_t total = st->rejects + st->foreign_lines + st->damaged;
    if (!total)
        return;
    struct sbuf sb = SBUF_INIT;
    int ok = sbuf_addf(&sb, "'%s': %" PRIu64 " rejected", name, total);
    const char *sep = " (";
    for (size_t i = 0; ok == 0 && i < st->nreasons; i++, sep = ", ")
        ok = sbuf_addf(&sb, "%s%s %" PRIu64, sep, st->reasons[i].reason, st->reasons[i].records);
    if (ok == 0 && st->foreign_lines) {
        ok = sbuf_addf(&sb, "%s%" PRIu64 " foreign line%s", sep, st->foreign_lines,
                       st->foreign_lines == 1 ? "" : "s");
        sep = ", ";
    }
    for (size_t i = 0; ok == 0 && i < st->damage.nsamples; i++, sep = ", ")
        ok = sbuf_addf(&sb, "%sdamaged input: %s", sep, st->damage.samples[i].detail);
    if (ok == 0 && st->damaged > st->damage.nsamples)
        ok = sbuf_addf(&sb, "%sdamaged input", sep);
    if (ok == 0)
        ok = sbuf_addstr(&sb, ")");
    for (size_t i = 0; ok == 0 && i < st->nreasons; i++) {
        const struct parse_reason *rs = &st->reasons[i];
        if (!rs->nsamples)
            continue;
        const struct parse_sample *s = &rs->samples[0];
        ok = sbuf_addf(&sb, "\n    first: %s:%" PRIu64 ": %s%s%s", s->source, s->line, rs->reason,
                       s->detail && *s->detail ? ": " : "", s->detail ? s->detail : "");
    }
    log_warn("%s%s", sb.buf, stored ? " (kept in the store with samples)" : "");
    sbuf_release(&sb);
}

int cmd_ingest(int argc, char **argv, const struct cli *cli, struct diag *d)
{
    const char *format = NULL, *prefix = NULL, *tz = NULL, *config = NULL;
    bool keep_literals = false, progress = isatty(STDERR_FILENO) != 0;
    long jobs = 1;
    const struct opt opts[] = {
        OPT_STRING_(0, "config", &config, "FILE",
                    "pgsift.yaml: its store, retention and keep_literals (not its sources)"),
        OPT_STRING_(0, "format", &format, "F",
                    "log format: auto (default), csvlog, jsonlog, stderr, ..."),
        OPT_STRING_(0, "prefix", &prefix, "P", "the server's log_line_prefix (stderr, syslog)"),
        OPT_STRING_(0, "tz", &tz, "Z", "time zone for zone-less or ambiguous timestamps"),
        OPT_BOOL_(0, "keep-literals", &keep_literals,
                  "store messages and statement samples unredacted (tenant data!)"),
        OPT_BOOL_(0, "progress", &progress, "show progress on stderr (default on a terminal)"),
        OPT_LONG_('j', "jobs", &jobs, "N",
                  "read N sources at a time; a csvlog or jsonlog file with N threads (default 1)",
                  1, 64),
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

    /* --config: the store (unless --db or $PGSIFT_DB), the retention (applied, and kept in
     * the store) and keep_literals of a pgsift.yaml. Without it, the retention the store
     * keeps applies (store_opts.retention_configured). */
    struct store_opts so = { .keep_literals = keep_literals,
                             .checkpoint_thread = true,
                             .run_fingerprints = true };
    const char *db_path = cli->db_path;
    struct config cfg;
    config_init(&cfg);
    if (config) {
        if (config_load(&cfg, config, d) < 0) {
            config_release(&cfg);
            return -1;
        }
        if (config_errors(&cfg)) {
            config_error_diag(&cfg, d);
            config_release(&cfg);
            return -1;
        }
        so.keep_literals = so.keep_literals || cfg.keep_literals;
        so.retention_configured = cfg.retention_given;
        if (cfg.retention_given)
            so.retention = (struct store_retention){ .minutes_us = cfg.retention.minutes_us,
                                                     .hours_us = cfg.retention.hours_us,
                                                     .days_us = cfg.retention.days_us,
                                                     .events_us = cfg.retention.events_us };
        db_path = cli_store_path(cli, cfg.store);
    }

    /* Operands: files in order, each directory and glob oldest first. */
    struct files fs = { 0 };
    bool use_stdin = false;
    int ret = -1;
    size_t errors = 0; /* sources (operands) that could not be read */
    for (int i = 1; i <= n; i++) {
        if (!strcmp(argv[i], "-")) {
            /* A file given on stdin is that file (found again by its identity, read in
             * parts, mapped); a pipe has no identity: what it brings is counted as new. */
            struct stat st0;
            if (fstat(STDIN_FILENO, &st0) == 0 && S_ISREG(st0.st_mode)) {
                add_file(&fs, "/dev/stdin", &st0);
                fs.v[fs.n - 1].operand = "-";
            } else if (!use_stdin) {
                use_stdin = true;
                log_note("stdin is not a file: pgsift cannot recognise its lines later, so "
                         "lines fed again are counted again, but for records with an id of "
                         "their own (Supabase) (name the file instead)");
            }
            continue;
        }
        if (expand(argv[i], &fs, &errors, d) < 0)
            goto out_files;
    }
    drop_destination_twins(&fs);
    if (!fs.n && !use_stdin) {
        if (errors)
            diag_set(d, DIAG_IO, "nothing to read: %zu operand%s could not be read (above)", errors,
                     errors == 1 ? "" : "s");
        else /* only empty directories: "0 operands could not be read" would be wrong */
            diag_set(d, DIAG_IO, "nothing to read: no file in the operand%s (above)",
                     n == 1 ? "" : "s");
        goto out_files;
    }

    /* Read: in this thread one by one, or with `-j N` in N threads (stdin, last in the
     * list, goes to whichever thread is free). Results are reported in list order.
     * Jobs beyond one per reader parse the reader's csvlog/jsonlog files in parts
     * (pipeline_par.c): -j 2 on one file uses both cores for parsing too. */
    size_t njobs = fs.n + use_stdin;
    size_t threads = (size_t)jobs < njobs ? (size_t)jobs : njobs;
    unsigned parse_threads =
        threads > 0 && (size_t)jobs / threads >= 2 ? (unsigned)((size_t)jobs / threads) : 0;
    /* SIFT_TEST_PART_BYTES sets the part size (tests cut small files into many parts). */
    size_t part_bytes = 0;
    const char *pb = getenv("SIFT_TEST_PART_BYTES");
    if (pb && *pb) {
        unsigned long long v = strtoull(pb, NULL, 10);
        part_bytes = v < 1 ? 1 : v > (1ull << 30) ? (size_t)1 << 30 : (size_t)v;
    }
    /* A store not there yet: the first file's parts are parsed while it is created. */
    struct ingest_prefetch *prefetch = NULL;
    if (parse_threads && fs.n && access(db_path, F_OK) < 0 && errno == ENOENT)
        prefetch = ingest_prefetch_start(fs.v[0].path,
                                         &(struct ingest_opts){ .format = format,
                                                                .prefix = prefix,
                                                                .tz = tz,
                                                                .parse_threads = parse_threads,
                                                                .part_bytes = part_bytes },
                                         so.keep_literals);

    struct store *s;
    if (store_open(&s, db_path, &so, d) < 0) {
        ingest_prefetch_drop(prefetch);
        goto out_files;
    }

    struct ingest_run ir = {
        .s = s,
        .io = { .format = format, .prefix = prefix, .tz = tz },
        .njobs = njobs,
        .progress = progress && log_get_level() != LOG_LEVEL_QUIET,
        .start_ns = clock_mono_ns(),
        .cols = term_columns(),
        .dumb = getenv("TERM") && !strcmp(getenv("TERM"), "dumb"),
    };
    if (ir.progress)
        ir.io.progress = progress_cb;
    /* Tests make batches small to commit (and be killed) often. */
    const char *tb = getenv("SIFT_TEST_BATCH_BYTES");
    if (tb && *tb)
        ir.io.batch_bytes = strtoull(tb, NULL, 10);
    pthread_mutex_init(&ir.store_lock, NULL);
    pthread_mutex_init(&ir.queue_lock, NULL);
    ir.jobs = xcalloc(ir.njobs ? ir.njobs : 1, sizeof(*ir.jobs));
    for (size_t i = 0; i < ir.njobs; i++) {
        ir.jobs[i].run = &ir;
        ir.jobs[i].path = i < fs.n ? fs.v[i].path : "-";
        ir.jobs[i].found = i < fs.n && fs.v[i].found;
        ir.jobs[i].input = i < fs.n ? fs.v[i].operand : "-";
        if (i < fs.n && S_ISREG(fs.v[i].st.st_mode)) {
            ir.jobs[i].disk = (uint64_t)fs.v[i].st.st_size;
            ir.jobs[i].gz = input_path_is_gzip(fs.v[i].path);
        }
        ingest_result_init(&ir.jobs[i].res);
    }
    if (ir.njobs)
        ir.jobs[0].prefetch = prefetch;
    uint64_t records = 0, bytes = 0, rejects = 0, read_sources = 0, unchanged = 0, empty = 0,
             duplicates = 0;
    size_t nothing = 0, with_events = 0;
    struct sbuf first_diag = SBUF_INIT;
    int64_t t0 = clock_mono_ns();

    /* Twice as many jobs as readers: each reader commits in a second thread while it
     * fills the next batch (the same result, sooner). */
    ir.io.async_commit = threads > 0 && (size_t)jobs >= 2 * threads;
    /* Plain files are read through a mapping: no read() copy (SIFT_NO_MMAP=1: read()). */
    ir.io.map = true;
    ir.io.parse_threads = parse_threads;
    ir.io.part_bytes = part_bytes;
    /* Several readers share one reader's memory: each commits every 1/N of the batch
     * size (at least 4 MB), so peak RSS stays about that of -j 1 (docs/performance.md). */
    if (threads > 1 && !ir.io.batch_bytes) {
        ir.io.batch_bytes = INGEST_BATCH_BYTES / threads;
        if (ir.io.batch_bytes < ((uint64_t)4 << 20))
            ir.io.batch_bytes = (uint64_t)4 << 20;
    }
    if (threads > 1) {
        same_starts(&ir);
        ir.io.lock = &ir.store_lock;
        pthread_t *tids = xcalloc(threads, sizeof(*tids));
        size_t started = 0;
        for (; started < threads; started++)
            if (pthread_create(&tids[started], NULL, worker, &ir) != 0)
                break;
        if (started == 0)
            worker(&ir); /* no thread could start: read here */
        for (size_t i = 0; i < started; i++)
            pthread_join(tids[i], NULL);
        free(tids);
    }
    bool failed = false;
    struct normalizer *nz = threads <= 1 ? normalize_new(NULL) : NULL; /* as worker() */
    for (size_t i = 0; i < ir.njobs && !failed; i++) {
        struct job *j = &ir.jobs[i];
        if (threads <= 1) {
            progress_draw(&ir, j->path, true);
            run_job(j, nz);
            j->done = true;
        }
        progress_clear(&ir);
        if (!j->done)
            break; /* a thread failed before this one was read */
        if (j->rc == 0 && j->res.stale)
            retry_stale(j, nz);
        if (j->rc < 0 && source_failure(&j->d) && j->found && access(j->path, F_OK) < 0 &&
            errno == ENOENT) {
            /* Renamed or removed since its directory was listed (a rotation while the
             * run read the others): its stream is found under its new name next time. */
            log_note("'%s' is gone since it was listed (rotated?): %s", j->path, j->d.msg);
            continue;
        }
        if (j->rc < 0 && source_failure(&j->d)) {
            log_error("%s", j->d.msg);
            errors++;
            continue;
        }
        if (j->rc < 0) {
            diag_set(d, j->d.kind, "%s", j->d.msg);
            failed = true;
            break;
        }
        const struct ingest_result *r = &j->res;
        const char *path = j->path;
        records += r->records; /* committed: a batch refused as stale is not */
        bytes += r->bytes;
        rejects += r->rejected; /* committed, as records (those of nothing parsed wait) */
        duplicates += r->duplicates;
        if (r->commits)
            read_sources++;
        else if (r->nothing_parsed || r->stale)
            ; /* said by its own warning (or the exit-3 diagnosis) */
        else if (r->how == STORE_RESUME_NEW && !r->held_bytes)
            empty++; /* never read before, and no record in it (no byte, or only a CSV
                        header, an API page of a quiet window) */
        else
            unchanged++;
        if (r->stats.events)
            with_events++;
        if (r->how == STORE_RESUME_REPLACED && r->new_inode)
            log_verbose("'%s' is a new file (its inode number held a log read before): read "
                        "from the start",
                        path);
        else if (r->how == STORE_RESUME_REPLACED)
            log_note("'%s' was truncated or replaced since it was last read: read from the start",
                     path);
        else if (r->covered)
            log_verbose("'%s' is a copy of '%s' that ends before byte %" PRIu64
                        ", where it was read to: nothing to read",
                        path, r->prev_name, r->start_offset);
        else if (r->how == STORE_RESUME_MOVED)
            log_verbose("'%s' continues '%s' at byte %" PRIu64, path, r->prev_name,
                        r->start_offset);
        if (r->stale)
            log_warn("'%s': another pgsift committed some of the same records at the same time "
                     "(it reads this file too, or an export that overlaps it): left to it; the "
                     "next run reads what is left",
                     path);
        if (r->held_gz && !r->held_gz_cut)
            log_verbose("'%s': its gzip data ends inside a line (more members to come?): its "
                        "last %" PRIu64 " decoded bytes are left for the next run",
                        path, r->held_bytes);
        else if (r->held_gz)
            log_note("'%s': its gzip data ends early (still being compressed?): its last %" PRIu64
                     " decoded bytes are left for the next run",
                     path, r->held_bytes);
        else if (r->held_record && r->format &&
                 (!strcmp(r->format, "syslog") || !strcmp(r->format, "stderr")))
            log_note("'%s' is being written (modified less than %d s ago): its last records may "
                     "still get lines, so its last %" PRIu64 " bytes are left for the next run",
                     path, SIFT_HOLD_WRITE_SECONDS, r->held_bytes);
        else if (r->held_record)
            log_note("'%s': its last record is not complete yet (a quoted field or a JSON "
                     "object is still open): its last %" PRIu64 " bytes are left for the next run",
                     path, r->held_bytes);
        else if (r->held_bytes)
            log_verbose("'%s': last line has no newline yet (%" PRIu64
                        " bytes): left for the next run",
                        path, r->held_bytes);
        if (r->nothing_parsed) {
            /* The first such source becomes the exit-3 diagnosis if nothing parses at
             * all; the others (or all, if something parsed) are warnings. The diagnosis's
             * first line names the file ("no log record could be parsed from '...' (N
             * lines read)"): it is said as it is. */
            if (nothing++ == 0) {
                if ((r->diagnosis.len
                         ? sbuf_add(&first_diag, r->diagnosis.buf, r->diagnosis.len)
                         : sbuf_addf(&first_diag, "no record could be parsed in '%s'", path)) < 0) {
                    /* capped: the start is kept */
                }
            } else if (r->diagnosis.len) {
                log_warn("%s", r->diagnosis.buf);
            } else {
                log_warn("no record could be parsed in '%s'", path);
            }
        } else {
            warn_rejects(path, &r->stats, r->commits > 0);
        }
    }
    normalize_free(nz);
    progress_clear(&ir);
    for (size_t i = 0; i < ir.njobs; i++) {
        ingest_prefetch_drop(ir.jobs[i].prefetch); /* (a run that stopped before it) */
        ingest_result_release(&ir.jobs[i].res);
    }
    free(ir.jobs);
    pthread_mutex_destroy(&ir.store_lock);
    pthread_mutex_destroy(&ir.queue_lock);
    if (failed)
        goto out_store;

    struct store_rollup_stats rs;
    if (store_rollup(s, clock_now_us(), &rs, d) < 0)
        goto out_store;
    if (nothing && with_events == 0 && !errors) {
        /* Input was read and not one record parsed: exit 3 with the diagnosis. */
        diag_set(d, DIAG_NOINPUT, "%s", first_diag.buf);
        goto out_store;
    }
    if (nothing)
        log_warn("%s", first_diag.buf);
    double secs = (double)(clock_mono_ns() - t0) / 1e9;
    struct sbuf sum = SBUF_INIT;
    struct store_run_counts tot;
    store_run_counts(s, &tot);
    if (sbuf_addf(&sum,
                  "ingested %" PRIu64 " record%s from %" PRIu64 " source%s: %" PRIu64
                  " call%s of %s%" PRIu64 " fingerprint%s, %" PRIu64 " event%s, %" PRIu64
                  " rejected (%.1f MB in %.2f s, %.1f MB/s)",
                  records, records == 1 ? "" : "s", read_sources, read_sources == 1 ? "" : "s",
                  tot.calls, tot.calls == 1 ? "" : "s", tot.fingerprints_capped ? "at least " : "",
                  tot.fingerprints, tot.fingerprints == 1 ? "" : "s", tot.events,
                  tot.events == 1 ? "" : "s", rejects, (double)bytes / 1e6, secs,
                  secs > 0 ? (double)bytes / 1e6 / secs : 0.0) < 0 ||
        (duplicates && sbuf_addf(&sum,
                                 "; %" PRIu64 " record%s already counted (the same Supabase "
                                 "id, in overlapping exports): not counted again",
                                 duplicates, duplicates == 1 ? "" : "s") < 0) ||
        (unchanged && sbuf_addf(&sum, "; %" PRIu64 " unchanged", unchanged) < 0) ||
        (empty && sbuf_addf(&sum, "; %" PRIu64 " empty", empty) < 0)) {
        /* unbounded */
    }
    log_note("%s", sum.buf);
    sbuf_release(&sum);
    /* Records older than what the rules have evaluated (an old file ingested into a store
     * they run on): stored and counted, but no evaluation already made saw them. */
    if (tot.late)
        ingest_warn_late(tot.late, &tot);
    /* The roll-up deletes what is past the retention, old lines of this run included
     * (an old log ingested today): said, not silent. */
    if (rs.events || rs.day_rows)
        log_note("deleted as older than the retention (docs/store.md): %" PRIu64
                 " event%s, %" PRIu64 " day row%s of statistics",
                 rs.events, rs.events == 1 ? "" : "s", rs.day_rows, rs.day_rows == 1 ? "" : "s");
    if (errors) {
        diag_set(d, DIAG_IO, "%zu source%s could not be read (above); the others were ingested",
                 errors, errors == 1 ? "" : "s");
        goto out_store;
    }
    ret = 0;
out_store:
    sbuf_release(&first_diag);
    store_close(s);
out_files:
    for (size_t i = 0; i < fs.n; i++)
        free(fs.v[i].path);
    free(fs.v);
    config_release(&cfg);
    return ret;
}
