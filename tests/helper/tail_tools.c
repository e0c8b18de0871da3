/* SPDX-License-Identifier: MIT */
/*
 * tail_tools.c - sift-test-tool subcommands for the live-tail tests and benchmark.
 *
 * append-lines is the writer of the rotation tests: it appends numbered records at a
 * steady rate (record i logs "duration: i.000 ms  statement: SELECT i", so the store's
 * calls, total and sum of squares identify exactly which records were counted) and
 * rotates the file the way PostgreSQL's collector or logrotate would.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "config.h"
#include "core/clock.h"
#include "core/diag.h"
#include "core/opts.h"
#include "core/sbuf.h"
#include "core/xalloc.h"
#include "tools.h"

/* ---- append-lines ---- */

struct writer {
    const char *path, *format, *rotate;
    long rate, count, start, every, late;
    FILE *times;
    int fd;
    uint64_t file_bytes; /* bytes written to the current file */
    long gen;            /* newfile: number of the current file */
    char *cur;           /* newfile: its name */
};

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void ts_text(int64_t us, char out[32])
{
    int64_t secs = us / 1000000, days = secs / 86400, rem = secs % 86400;
    int y;
    unsigned m, d;
    clock_civil_from_days(days, &y, &m, &d);
    snprintf(out, 32, "%04d-%02u-%02u %02d:%02d:%02d.%03d", y, m, d, (int)(rem / 3600),
             (int)(rem / 60 % 60), (int)(rem % 60), (int)(us / 1000 % 1000));
}

/* One record: a single write, as PostgreSQL writes one. */
static int format_record(const struct writer *w, long i, struct sbuf *sb)
{
    char ts[32];
    int64_t now = clock_now_us();
    ts_text(now, ts);
    sbuf_reset(sb);
    if (!strcmp(w->format, "jsonlog"))
        return sbuf_addf(sb,
                         "{\"timestamp\":\"%s UTC\",\"user\":\"app\",\"dbname\":\"shop\","
                         "\"pid\":4242,\"session_id\":\"6b05c86e.e9c\",\"line_num\":%ld,"
                         "\"error_severity\":\"LOG\",\"message\":\"duration: %ld.000 ms  "
                         "statement: SELECT %ld\",\"backend_type\":\"client backend\","
                         "\"query_id\":%ld}\n",
                         ts, i, i, i, 1000 + i % 7);
    if (!strcmp(w->format, "csvlog"))
        return sbuf_addf(sb,
                         "%s UTC,\"app\",\"shop\",4242,\"[local]\",6b05c86e.e9c,%ld,\"SELECT\","
                         "2026-01-01 00:00:00 UTC,3/1,0,LOG,00000,\"duration: %ld.000 ms  "
                         "statement: SELECT %ld\",,,,,,,,,\"psql\",\"client backend\",,%ld\n",
                         ts, i, i, i, 1000 + i % 7);
    /* stderr, prefix '%m [%p] ': two lines (a TAB continuation), so the record stays
     * pending in the parser until the next one starts. */
    return sbuf_addf(sb,
                     "%s UTC [4242] LOG:  duration: %ld.000 ms  statement: SELECT %ld\n\tFROM t\n",
                     ts, i, i);
}

static int open_log(const char *path)
{
    return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

static char *numbered(const char *path, long k, bool gz)
{
    struct sbuf sb = SBUF_INIT;
    if (sbuf_addf(&sb, "%s.%ld%s", path, k, gz ? ".gz" : "") < 0)
        abort();
    return sbuf_detach(&sb, NULL);
}

/* logrotate numbering: .k -> .k+1 (and .k.gz -> .k+1.gz), oldest first. */
static void shift(const char *path)
{
    long top = 0;
    for (long k = 1; k < 100000; k++) {
        char *a = numbered(path, k, false), *b = numbered(path, k, true);
        bool any = access(a, F_OK) == 0 || access(b, F_OK) == 0;
        free(a);
        free(b);
        if (!any)
            break;
        top = k;
    }
    for (long k = top; k >= 1; k--) {
        for (int gz = 0; gz < 2; gz++) {
            char *a = numbered(path, k, gz), *b = numbered(path, k + 1, gz);
            if (access(a, F_OK) == 0 && rename(a, b) < 0)
                perror("append-lines: rename");
            free(a);
            free(b);
        }
    }
}

static int copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY | O_CLOEXEC), out = -1;
    int rc = -1;
    char buf[65536];
    if (in < 0)
        return -1;
    out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0)
        goto done;
    for (;;) {
        ssize_t n = read(in, buf, sizeof(buf));
        if (n < 0)
            goto done;
        if (n == 0)
            break;
        if (write_all(out, buf, (size_t)n) < 0)
            goto done;
    }
    rc = 0;
done:
    close(in);
    if (out >= 0)
        close(out);
    return rc;
}

static int gzip_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    char buf[65536];
    if (in < 0)
        return -1;
    /* Written under a temporary name and renamed, as gzip(1) does not: a reader that
     * sees the name sees the whole file. The test of half-written files is elsewhere. */
    struct sbuf tmp = SBUF_INIT;
    if (sbuf_addf(&tmp, "%s.tmp", to) < 0)
        abort();
    gzFile gz = gzopen(tmp.buf, "wb");
    int rc = gz ? 0 : -1;
    while (rc == 0) {
        ssize_t n = read(in, buf, sizeof(buf));
        if (n < 0)
            rc = -1;
        if (n <= 0)
            break;
        if (gzwrite(gz, buf, (unsigned)n) != (int)n)
            rc = -1;
    }
    if (gz && gzclose(gz) != Z_OK)
        rc = -1;
    close(in);
    if (rc == 0 && rename(tmp.buf, to) < 0)
        rc = -1;
    sbuf_release(&tmp);
    return rc;
}

static char *newfile_name(const char *prefix, long gen)
{
    struct sbuf sb = SBUF_INIT;
    if (sbuf_addf(&sb, "%s-%04ld.log", prefix, gen) < 0)
        abort();
    return sbuf_detach(&sb, NULL);
}

static int emit(struct writer *w, long i, struct sbuf *sb)
{
    if (format_record(w, i, sb) < 0 || write_all(w->fd, sb->buf, sb->len) < 0) {
        perror("append-lines: write");
        return -1;
    }
    w->file_bytes += sb->len;
    if (w->times)
        fprintf(w->times, "%" PRIu64 " %" PRId64 "\n", w->file_bytes, clock_now_us());
    return 0;
}

/* Rotate; records @next.. may go to the old file first (`late`), as a server that has
 * not reopened its log yet would write them. Returns the next record number. */
static long rotate(struct writer *w, long next, long last, struct sbuf *sb)
{
    const char *how = w->rotate;
    long late = 0;
    if (!strcmp(how, "copytruncate")) {
        shift(w->path);
        char *one = numbered(w->path, 1, false);
        if (copy_file(w->path, one) < 0 || ftruncate(w->fd, 0) < 0)
            perror("append-lines: copytruncate");
        free(one);
        w->file_bytes = 0;
        return next;
    }
    if (!strcmp(how, "newfile")) {
        close(w->fd);
        free(w->cur);
        w->cur = newfile_name(w->path, ++w->gen);
        w->fd = open_log(w->cur);
        w->file_bytes = 0;
        return next;
    }
    char *one = numbered(w->path, 1, false);
    if (!strcmp(how, "rename") || !strcmp(how, "gzip")) {
        shift(w->path);
        if (rename(w->path, one) < 0)
            perror("append-lines: rename");
    } else if (!strcmp(how, "delete")) {
        if (unlink(w->path) < 0)
            perror("append-lines: unlink");
    }
    /* The writer still has the old file open: a few records land there. */
    for (; late < w->late && next <= last; late++)
        if (emit(w, next++, sb) < 0)
            break;
    close(w->fd);
    w->fd = open_log(w->path);
    w->file_bytes = 0;
    if (!strcmp(how, "gzip")) {
        char *gz = numbered(w->path, 1, true);
        if (gzip_file(one, gz) < 0 || unlink(one) < 0)
            perror("append-lines: gzip");
        free(gz);
    }
    free(one);
    return next;
}

static void sleep_until(int64_t mono_ns)
{
    struct timespec ts = { .tv_sec = mono_ns / 1000000000, .tv_nsec = mono_ns % 1000000000 };
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

int tool_append_lines(int argc, char **argv)
{
    struct writer w = { .format = "jsonlog",
                        .rotate = "none",
                        .rate = 1000,
                        .count = 1000,
                        .start = 1,
                        .every = 0,
                        .late = -1,
                        .fd = -1 };
    const char *times = NULL;
    struct diag d = DIAG_INIT;
    static const char *const formats[] = { "jsonlog", "csvlog", "stderr", NULL };
    static const char *const rotations[] = { "none",    "rename", "copytruncate", "gzip", "delete",
                                             "newfile", NULL };
    const struct opt opts[] = {
        OPT_CHOICE_(0, "format", &w.format, "F", "jsonlog (default), csvlog, stderr", formats),
        OPT_LONG_(0, "rate", &w.rate, "N", "records per second (0: as fast as possible)", 0,
                  10000000),
        OPT_LONG_(0, "count", &w.count, "N", "records to write", 0, 1000000000),
        OPT_LONG_(0, "start", &w.start, "N", "number of the first record (default 1)", 1,
                  1000000000),
        OPT_CHOICE_(0, "rotate", &w.rotate, "HOW",
                    "none, rename, copytruncate, gzip, delete, newfile", rotations),
        OPT_LONG_(0, "every", &w.every, "N", "rotate after every N records", 0, 1000000000),
        OPT_LONG_(0, "late", &w.late, "N",
                  "records still written to the old file after a rename/delete (default 2)", 0,
                  1000000),
        OPT_STRING_(0, "times", &times, "FILE", "write 'end_offset write_us' per record"),
        OPT_END_(),
    };
    int n = opts_parse(opts, argc - 1, argv + 1, &d);
    if (n == -2) {
        opts_usage(stdout, "sift-test-tool append-lines [options] FILE", opts);
        return 0;
    }
    if (n != 1) {
        fprintf(stderr, "append-lines: %s\n", n < 0 ? d.msg : "expected one FILE");
        return 2;
    }
    w.path = argv[1];
    if (w.late < 0)
        w.late = 2;
    if (!strcmp(w.rotate, "newfile")) {
        w.gen = 1;
        w.cur = newfile_name(w.path, w.gen);
    }
    w.fd = open_log(w.cur ? w.cur : w.path);
    if (w.fd < 0) {
        perror("append-lines: open");
        return 1;
    }
    if (times && !(w.times = fopen(times, "w"))) {
        perror("append-lines: times");
        return 1;
    }
    /* A stop request (SIGTERM) ends the run cleanly after the current record. */
    struct sbuf sb = SBUF_INIT;
    long last = w.start + w.count - 1, written = 0;
    int64_t t0 = clock_mono_ns();
    int rc = 0;
    for (long i = w.start; i <= last && rc == 0;) {
        if (w.rate > 0) {
            int64_t at = t0 + (int64_t)((double)(i - w.start) * 1e9 / (double)w.rate);
            if (clock_mono_ns() < at)
                sleep_until(at);
        }
        if (emit(&w, i, &sb) < 0) {
            rc = 1;
            break;
        }
        written++;
        i++;
        if (w.every && written % w.every == 0 && i <= last && strcmp(w.rotate, "none")) {
            long before = i;
            i = rotate(&w, i, last, &sb);
            written += i - before;
        }
    }
    if (w.fd >= 0)
        close(w.fd);
    if (w.times)
        fclose(w.times);
    double sum = 0, sumsq = 0;
    for (long i = w.start; i <= last; i++) {
        sum += (double)i;
        sumsq += (double)i * (double)i;
    }
    printf("records %ld sum_ms %.0f sumsq_ms %.0f\n", w.count, sum, sumsq);
    sbuf_release(&sb);
    free(w.cur);
    return rc;
}

/* ---- tail-latency ---- */

struct commit_row {
    int64_t us;
    uint64_t end;
};

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int tool_tail_latency(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: sift-test-tool tail-latency COMMIT_LOG TIMES\n");
        return 2;
    }
    FILE *cl = fopen(argv[1], "r"), *tf = fopen(argv[2], "r");
    if (!cl || !tf) {
        perror("tail-latency");
        return 1;
    }
    struct commit_row *c = NULL;
    size_t nc = 0, ac = 0;
    char line[4096];
    while (fgets(line, sizeof(line), cl)) {
        long long us;
        unsigned long long start, end, recs;
        if (sscanf(line, "%lld %llu %llu %llu", &us, &start, &end, &recs) != 4)
            continue;
        XGROW(c, nc + 1, ac);
        c[nc++] = (struct commit_row){ .us = us, .end = end };
    }
    int64_t *lat = NULL;
    size_t nl = 0, al = 0, missing = 0, k = 0;
    unsigned long long end;
    long long wus;
    while (fscanf(tf, "%llu %lld", &end, &wus) == 2) {
        while (k < nc && c[k].end < end)
            k++;
        if (k == nc) {
            missing++;
            continue;
        }
        XGROW(lat, nl + 1, al);
        lat[nl++] = c[k].us - wus;
    }
    fclose(cl);
    fclose(tf);
    if (nl)
        qsort(lat, nl, sizeof(*lat), cmp_i64);
    double p50 = nl ? (double)lat[nl / 2] / 1000 : 0;
    double p99 = nl ? (double)lat[(size_t)((double)(nl - 1) * 0.99)] / 1000 : 0;
    double mx = nl ? (double)lat[nl - 1] / 1000 : 0;
    printf("lines %zu commits %zu p50_ms %.1f p99_ms %.1f max_ms %.1f uncommitted %zu\n", nl, nc,
           p50, p99, mx, missing);
    free(c);
    free(lat);
    return 0;
}

/* ---- notify-listen: a stand-in for systemd's notification socket ---- */

static volatile sig_atomic_t listen_stop;

static void on_term(int sig)
{
    (void)sig;
    listen_stop = 1;
}

int tool_notify_listen(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: sift-test-tool notify-listen SOCKET OUT\n");
        return 2;
    }
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(argv[1]) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "notify-listen: socket path too long\n");
        return 2;
    }
    memcpy(sa.sun_path, argv[1], strlen(argv[1]));
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    unlink(argv[1]);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        perror("notify-listen");
        return 1;
    }
    FILE *out = fopen(argv[2], "a");
    if (!out) {
        perror("notify-listen");
        return 1;
    }
    struct sigaction act = { .sa_handler = on_term };
    sigaction(SIGTERM, &act, NULL);
    char buf[4096];
    while (!listen_stop) {
        ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
        if (n < 0)
            continue;
        buf[n] = '\0';
        for (char *p = buf; *p; p++)
            if (*p == '\n')
                *p = ';';
        fprintf(out, "%s\n", buf);
        fflush(out);
    }
    fclose(out);
    close(fd);
    unlink(argv[1]);
    return 0;
}

/* ---- config-reference ---- */

int tool_config_reference(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    config_reference_markdown(stdout);
    return 0;
}
