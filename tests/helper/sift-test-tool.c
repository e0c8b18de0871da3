/* SPDX-License-Identifier: MIT */
/*
 * sift-test-tool - internals exposed to shell tests (Git's t/helper/test-tool).
 *
 * Each subcommand is one line in cmds[]; shell tests call "$SIFT_TEST_TOOL <cmd> ...".
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cases.h"
#include "classify/classify.h"
#include "cmd/ingest.h"
#include "core/arena.h"
#include "core/clock.h"
#include "core/diag.h"
#include "core/limits.h"
#include "core/opts.h"
#include "core/span.h"
#include "core/xalloc.h"
#include "stubs.h"
#include "event.h"
#include "input/input.h"
#include "normalize/normalize.h"
#include "parse/parse.h"
#include "store/store.h"
#include "parse/parse_int.h"
#include "tools.h"
#include "report/report.h"
#include "report/svg.h"
#include "report/synth.h"

/* now: print clock_now_us() as RFC 3339 (shows that SIFT_TEST_NOW is honoured). */
static int cmd_now(int argc, char **argv)
{
    char buf[CLOCK_RFC3339_MAX];

    (void)argc;
    (void)argv;
    puts(clock_format_rfc3339(clock_now_us(), 0, buf));
    return 0;
}

/* Hostile strings: one per line, case_unescape() escapes, '#' lines are comments. */
static struct span *read_hostile(const char *path, size_t *n, struct sbuf *store)
{
    FILE *f = fopen(path, "rb");
    char line[4096];
    size_t alloc = 0, count = 0;
    struct span *v = NULL;
    size_t *offs = NULL, *lens = NULL;

    if (!f) {
        fprintf(stderr, "sift-test-tool: cannot open '%s': %s\n", path, strerror(errno));
        return NULL;
    }
    while (fgets(line, sizeof(line), f)) {
        size_t len = strlen(line);
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        if (!len || line[0] == '#')
            continue;
        struct sbuf one = SBUF_INIT;
        size_t at = store->len;
        if (case_unescape(line, len, &one) < 0 || sbuf_addspan(store, sbuf_span(&one)) < 0) {
            fprintf(stderr, "sift-test-tool: %s: bad escape in: %s\n", path, line);
            sbuf_release(&one);
            fclose(f);
            free(offs);
            free(lens);
            return NULL;
        }
        sbuf_release(&one);
        XGROW(offs, count + 1, alloc);
        lens = xrealloc(lens, alloc * sizeof(*lens));
        offs[count] = at;
        lens[count++] = store->len - at;
    }
    fclose(f);
    v = xcalloc(count ? count : 1, sizeof(*v));
    for (size_t i = 0; i < count; i++)
        v[i] = span_make(store->buf + offs[i], lens[i]);
    free(offs);
    free(lens);
    *n = count;
    return v;
}

/* report-synth: a synthetic (optionally hostile) report model, rendered; timings on
 * stderr. The benchmark and the hostile-input tests use it until the store lands. */
static int cmd_report_synth(int argc, char **argv)
{
    long fingerprints = 1000, top = 20, seed = 42;
    const char *tz = "UTC", *day = "2026-11-24", *format = "html", *out = NULL, *hostile = NULL;
    bool keep = false, no_script = false;
    static const char *const formats[] = { "html", "md", "json", NULL };
    const struct opt opts[] = {
        OPT_LONG_(0, "fingerprints", &fingerprints, "N", "query shapes", 1, 10000000),
        OPT_LONG_(0, "top", &top, "N", "rows per ranking", 1, 1000),
        OPT_LONG_(0, "seed", &seed, "N", "random seed", 1, 1L << 40),
        OPT_STRING_(0, "tz", &tz, "Z", "time zone"),
        OPT_STRING_(0, "day", &day, "DAY", "YYYY-MM-DD"),
        OPT_CHOICE_(0, "format", &format, "F", "html, md or json", formats),
        OPT_STRING_('o', "output", &out, "FILE", "write atomically to FILE"),
        OPT_STRING_(0, "hostile", &hostile, "FILE", "fill every text field from FILE"),
        OPT_BOOL_(0, "keep-literals", &keep, "do not redact samples"),
        OPT_BOOL_(0, "no-script", &no_script, "HTML without the sort script"),
        OPT_END_(),
    };
    struct diag d = DIAG_INIT;
    struct sbuf hs = SBUF_INIT, sb = SBUF_INIT;
    struct report r;
    size_t nh = 0;
    struct span *hv = NULL;
    enum report_format fmt;
    int rc = 1;

    if (opts_parse(opts, argc - 1, argv + 1, &d) != 0) {
        fprintf(stderr, "sift-test-tool report-synth: %s\n", d.msg[0] ? d.msg : "no operands");
        return 2;
    }
    if (hostile && !(hv = read_hostile(hostile, &nh, &hs)))
        return 1;
    (void)report_format_from_name(format, &fmt);
    int64_t t0 = clock_mono_ns();
    report_init(&r);
    struct report_synth_opts so = { (size_t)fingerprints, (uint64_t)seed, day, tz, hv, nh };
    if (report_synth(&r, &so, &d) < 0)
        goto done;
    int64_t t1 = clock_mono_ns();
    struct report_opts ro = { .top = (size_t)top,
                              .flags = (keep ? REPORT_KEEP_LITERALS : 0u) |
                                       (no_script ? REPORT_NO_SCRIPT : 0u) };
    report_analyze(&r, &ro);
    if (report_render(&r, &ro, fmt, &sb, &d) < 0)
        goto done;
    int64_t t2 = clock_mono_ns();
    if (out) {
        if (report_write_file(out, sb.buf, sb.len, &d) < 0)
            goto done;
    } else if (fwrite(sb.buf, 1, sb.len, stdout) != sb.len) {
        goto done;
    }
    int64_t t3 = clock_mono_ns();
    fprintf(stderr, "model %.1f ms, analyze+render %.1f ms, write %.1f ms, %zu bytes, %zu shapes\n",
            (double)(t1 - t0) / 1e6, (double)(t2 - t1) / 1e6, (double)(t3 - t2) / 1e6, sb.len,
            r.nqueries);
    rc = 0;
done:
    if (rc)
        fprintf(stderr, "sift-test-tool report-synth: %s\n", d.msg);
    report_release(&r);
    sbuf_release(&sb);
    sbuf_release(&hs);
    free(hv);
    return rc;
}

/* report-job: one tick of the daily report job as pgsift tail runs it, at the clock's
 * now (SIFT_TEST_NOW): prints "next <time>" and, when it wrote, the paths and the
 * summary. */
static int cmd_report_job(int argc, char **argv)
{
    const char *db = getenv("PGSIFT_DB"), *dir = NULL, *at = "06:00", *zone_name = "UTC";
    long keep = 0;
    const struct opt opts[] = {
        OPT_STRING_(0, "db", &db, "PATH", "store"),
        OPT_STRING_(0, "dir", &dir, "DIR", "report directory"),
        OPT_STRING_(0, "at", &at, "HH:MM", "local time"),
        OPT_STRING_(0, "tz", &zone_name, "Z", "time zone"),
        OPT_LONG_(0, "keep-days", &keep, "N", "days kept", 0, 100000),
        OPT_END_(),
    };
    struct diag d = DIAG_INIT;
    struct report_daily cfg = { .keep_days = keep,
                                .formats = (1u << REPORT_HTML) | (1u << REPORT_MD) };
    struct report_job *j = NULL;
    struct store *s = NULL;
    struct sbuf written = SBUF_INIT, summary = SBUF_INIT;
    char buf[TZ_LOCAL_MAX];
    int rc = 1;

    if (opts_parse(opts, argc - 1, argv + 1, &d) != 0 || !dir || !db ||
        !report_parse_at(at, &cfg.at_minute)) {
        fprintf(stderr, "usage: sift-test-tool report-job --db PATH --dir DIR [--at HH:MM] "
                        "[--tz Z] [--keep-days N]\n");
        return 2;
    }
    cfg.dir = dir;
    cfg.keep_days = keep;
    if (report_job_new(&j, &cfg, zone_name, NULL, "pgsift (report-job)", &d) < 0 ||
        store_open(&s, db, &(struct store_opts){ .read_only = true }, &d) < 0)
        goto done;
    report_job_set_alerts_store(j, db);
    int64_t now = clock_now_us();
    int ran = report_job_run(j, s, now, &written, &summary, &d);
    if (ran < 0)
        goto done;
    printf("%s\n", ran ? "wrote" : "not due");
    fputs(written.buf, stdout);
    fputs(summary.buf, stdout);
    struct tz tz;
    if (tz_load(&tz, zone_name, &d) < 0)
        goto done;
    printf("next %s\n", tz_format_local(&tz, report_job_next_us(j, now), buf));
    tz_release(&tz);
    rc = 0;
done:
    if (rc)
        fprintf(stderr, "report-job: %s\n", d.msg);
    store_close(s);
    report_job_free(j);
    sbuf_release(&written);
    sbuf_release(&summary);
    return rc;
}

/* svg KIND TITLE: one chart with that (possibly hostile) title, for the XML checks. */
static int cmd_svg(int argc, char **argv)
{
    static const double v[] = { 0, 1.5, NAN, 3, 12.25, 7, 0.001, 1e6, 5, NAN, NAN, 2 };
    static const uint64_t c[] = { 1, 5, 20, 7, 0, 3 };
    const char *labels[12];
    struct sbuf sb = SBUF_INIT;
    int rc = 0;

    if (argc < 3) {
        fprintf(stderr, "usage: sift-test-tool svg line|area|bars|hist|spark TITLE\n");
        return 2;
    }
    for (size_t i = 0; i < 12; i++)
        labels[i] = argv[2];
    struct svg_chart ch = { .title = argv[2], .labels = labels };
    struct svg_series s[2] = { { argv[2], v, 12 }, { "second", v + 1, 11 } };
    if (!strcmp(argv[1], "line"))
        rc = svg_line(&sb, &ch, s, 2, 0);
    else if (!strcmp(argv[1], "area"))
        rc = svg_line(&sb, &ch, s, 1, 1);
    else if (!strcmp(argv[1], "bars"))
        rc = svg_bars(&sb, &ch, v, 12);
    else if (!strcmp(argv[1], "hist"))
        rc = svg_histogram(&sb, &ch, c, 6);
    else if (!strcmp(argv[1], "spark"))
        rc = svg_sparkline(&sb, argv[2], v, 12, 0, 0);
    else
        rc = -2;
    if (rc == 0)
        fwrite(sb.buf, 1, sb.len, stdout);
    sbuf_release(&sb);
    return rc == 0 ? 0 : 2;
}

/* ---- store-load: fill a store from NDJSON events (before `pgsift ingest` exists, and as
 * a reference reader for exactly-once: --position resumes by content like ingest) ---- */

static struct span jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? span_make(json_string_value(v), json_string_length(v)) : SPAN_NULL;
}

static double jnum(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : -1;
}

static int64_t jint(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
}

static const char *json_to_event(json_t *o, struct event *ev)
{
    struct span v;
    event_clear(ev);
    if ((v = jstr(o, "ts")).p && !clock_parse_rfc3339(v, &ev->ts_us))
        return "bad ts";
    if ((v = jstr(o, "kind")).p && !event_kind_from_name(v, &ev->kind))
        return "bad kind";
    if ((v = jstr(o, "severity")).p && !severity_from_name(v, &ev->severity))
        return "bad severity";
    if ((v = jstr(o, "phase")).p) {
        static const char *const ph[] = { "", "simple", "parse", "bind", "execute" };
        ev->phase = PHASE_COUNT;
        for (int i = 1; i < 5; i++)
            if (span_eq(v, span_cstr(ph[i])))
                ev->phase = (enum event_phase)i;
        if (ev->phase == PHASE_COUNT)
            return "bad phase";
    } else if (ev->kind == EV_DURATION) {
        ev->phase = PHASE_SIMPLE;
    }
    if ((v = jstr(o, "sqlstate")).p && v.len == 5)
        memcpy(ev->sqlstate, v.p, 5);
    ev->duration_ms = jnum(o, "duration_ms");
    ev->rows = jint(o, "rows");
    ev->pid = jint(o, "pid");
    ev->database = jstr(o, "database");
    ev->user = jstr(o, "user");
    ev->application = jstr(o, "application");
    ev->message = jstr(o, "message");
    ev->detail = jstr(o, "detail");
    ev->statement = jstr(o, "statement");
    ev->query = jstr(o, "query");
    ev->normalized = jstr(o, "normalized");
    if ((ev->params = jstr(o, "params")).p)
        ev->flags |= EVENT_HAS_PARAMS;
    if ((v = jstr(o, "fingerprint")).p) {
        char buf[17];
        if (v.len != 16)
            return "bad fingerprint";
        memcpy(buf, v.p, 16);
        buf[16] = '\0';
        ev->fingerprint = strtoull(buf, NULL, 16);
        ev->fingerprint_hi = ev->fingerprint ^ 0x5bd1e995u;
        ev->flags |= EVENT_HAS_FINGERPRINT;
    }
    if ((v = jstr(o, "query_id")).p) {
        if (!span_to_i64(v, &ev->query_id))
            return "bad query_id";
        ev->has_query_id = ev->query_id != 0;
    }
    struct event_facts *f = &ev->facts;
    f->wait_ms = jnum(o, "wait_ms");
    f->lock_mode = jstr(o, "lock_mode");
    f->lock_object = jstr(o, "lock_object");
    f->temp_bytes = jint(o, "temp_bytes");
    f->temp_path = jstr(o, "temp_path");
    f->buffers = jint(o, "buffers");
    f->write_s = jnum(o, "write_s");
    f->sync_s = jnum(o, "sync_s");
    f->total_s = jnum(o, "total_s");
    f->cause = jstr(o, "cause");
    f->relation = jstr(o, "relation");
    f->tuples_removed = jint(o, "tuples_removed");
    f->tuples_remain = jint(o, "tuples_remain");
    f->elapsed_s = jnum(o, "elapsed_s");
    f->host = jstr(o, "host");
    f->distance_kb = jint(o, "distance_kb");
    f->estimate_kb = jint(o, "estimate_kb");
    f->wal_added = jint(o, "wal_added");
    f->wal_removed = jint(o, "wal_removed");
    f->wal_recycled = jint(o, "wal_recycled");
    f->sync_files = jint(o, "sync_files");
    f->sync_longest_s = jnum(o, "sync_longest_s");
    f->sync_average_s = jnum(o, "sync_average_s");
    f->tuples_dead = jint(o, "tuples_dead");
    f->index_scans = jint(o, "index_scans");
    f->pages_removed = jint(o, "pages_removed");
    f->pages_remain = jint(o, "pages_remain");
    f->pages_scanned = jint(o, "pages_scanned");
    f->buffer_hits = jint(o, "buffer_hits");
    f->buffer_misses = jint(o, "buffer_misses");
    f->buffer_dirtied = jint(o, "buffer_dirtied");
    f->read_mb_s = jnum(o, "read_mb_s");
    f->write_mb_s = jnum(o, "write_mb_s");
    f->wal_records = jint(o, "wal_records");
    f->wal_fpi = jint(o, "wal_fpi");
    f->wal_bytes = jint(o, "wal_bytes");
    return NULL;
}

struct fd_ctx {
    int fd;
};

static int fd_read(void *ctx, uint64_t off, void *buf, size_t len, struct diag *d)
{
    struct fd_ctx *c = ctx;
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(c->fd, (char *)buf + got, len - got, (off_t)(off + got));
        if (n < 0)
            return diag_errno(d, DIAG_IO, errno, "cannot read");
        if (n == 0)
            return 1;
        got += (size_t)n;
    }
    return 0;
}

static int cmd_store_load(int argc, char **argv)
{
    const char *db = getenv("PGSIFT_DB");
    long batch = 1000;
    bool position = false, keep = false;
    const struct opt opts[] = {
        OPT_STRING_(0, "db", &db, "PATH", "store (default $PGSIFT_DB)"),
        OPT_LONG_(0, "batch", &batch, "N", "records per commit", 1, 100000000L),
        OPT_BOOL_(0, "position", &position, "commit source positions, resume by content"),
        OPT_BOOL_(0, "keep-literals", &keep, "store literals"),
        OPT_END_(),
    };
    struct diag d = DIAG_INIT;
    int n = opts_parse(opts, argc - 1, argv + 1, &d);
    if (n != 1 || !db) {
        fprintf(stderr,
                "%s\nusage: sift-test-tool store-load [--db PATH] [--batch N] "
                "[--position] [--keep-literals] FILE|-\n",
                d.msg);
        return 2;
    }
    const char *name = argv[1];
    bool is_stdin = !strcmp(name, "-");
    if (is_stdin && position) {
        fprintf(stderr, "store-load: --position needs a file\n");
        return 2;
    }
    FILE *in = is_stdin ? stdin : fopen(name, "r");
    if (!in) {
        fprintf(stderr, "store-load: cannot open '%s': %s\n", name, strerror(errno));
        return 1;
    }
    struct store *s;
    struct store_opts so = { .keep_literals = keep };
    if (store_open(&s, db, &so, &d) < 0) {
        fprintf(stderr, "store-load: %s\n", d.msg);
        return 1;
    }
    struct store_resume r;
    store_resume_init(&r);
    struct store_source_pos pos = { .name = name };
    struct fd_ctx fc = { fileno(in) };
    char head[SIFT_SOURCE_HEAD_BYTES], mark[SIFT_SOURCE_MARK_BYTES];
    uint64_t offset = 0, line = 0;
    if (position) {
        struct stat st;
        if (fstat(fc.fd, &st) < 0) {
            perror("fstat");
            return 1;
        }
        struct store_probe p = {
            name, (uint64_t)st.st_dev, (uint64_t)st.st_ino, (uint64_t)st.st_size, fd_read, &fc
        };
        if (store_source_find(s, &p, &r, &d) < 0) {
            fprintf(stderr, "store-load: %s\n", d.msg);
            return 1;
        }
        pos.id = r.id;
        pos.seen_max_id = r.seen_max_id;
        pos.dev = (uint64_t)st.st_dev;
        pos.inode = (uint64_t)st.st_ino;
        offset = pos.start = r.offset;
        line = r.line;
        if (fseeko(in, (off_t)offset, SEEK_SET) < 0) {
            perror("fseeko");
            return 1;
        }
    }
    char *buf = NULL;
    size_t cap = 0;
    ssize_t len;
    uint64_t loaded = 0, commits = 0;
    int rc = 0;
    for (;;) {
        len = getline(&buf, &cap, in);
        bool eof = len < 0;
        if (!eof) {
            offset += (uint64_t)len;
            line++;
            struct span l = span_trim(span_make(buf, (size_t)len));
            if (l.len) {
                json_error_t je;
                json_t *o = json_loadb(l.p, l.len, 0, &je);
                struct event ev;
                const char *why = !json_is_object(o) ? "not a JSON object" : json_to_event(o, &ev);
                if (why) {
                    struct store_reject rj = { span_cstr(name), why, line, offset - (uint64_t)len,
                                               l };
                    store_add_reject(s, &rj);
                } else {
                    /* The record's own input, as `rules test --events` reads it ("input",
                     * else the path of "src"): lines per input are counted under it. */
                    struct span inp = jstr(o, "input"), src = jstr(o, "src");
                    const char *colon = NULL; /* (the last: "path:line") */
                    for (size_t k = 0; k < src.len; k++)
                        if (src.p[k] == ':')
                            colon = src.p + k;
                    ev.src_name = inp.p   ? inp
                                  : colon ? span_make(src.p, (size_t)(colon - src.p))
                                          : span_cstr(name);
                    ev.src_line = line;
                    store_add(s, &ev);
                    loaded++;
                }
                json_decref(o);
            }
        }
        if (!eof && store_batch_records(s) < (uint64_t)batch && !store_batch_full(s))
            continue;
        if (store_batch_records(s) == 0 && (!position || offset == pos.start)) {
            if (eof)
                break;
            continue;
        }
        int c;
        if (position) {
            size_t hl = offset < SIFT_SOURCE_HEAD_BYTES ? (size_t)offset : SIFT_SOURCE_HEAD_BYTES;
            size_t ml = offset < SIFT_SOURCE_MARK_BYTES ? (size_t)offset : SIFT_SOURCE_MARK_BYTES;
            if (fd_read(&fc, 0, head, hl, &d) != 0 ||
                fd_read(&fc, offset - ml, mark, ml, &d) != 0) {
                fprintf(stderr, "store-load: cannot re-read '%s'\n", name);
                rc = 1;
                break;
            }
            pos.head = span_make(head, hl);
            pos.mark = span_make(mark, ml);
            pos.offset = offset;
            pos.line = line;
            c = store_commit(s, &pos, &d);
            pos.start = offset;
        } else {
            c = store_commit(s, NULL, &d);
        }
        if (c < 0) {
            fprintf(stderr, "store-load: %s\n", d.msg);
            rc = 1;
            break;
        }
        if (c == STORE_STALE) {
            fprintf(stderr, "store-load: '%s' was committed by another reader\n", name);
            rc = 3;
            break;
        }
        commits++;
        if (eof)
            break;
    }
    free(buf);
    if (!is_stdin)
        fclose(in);
    store_resume_release(&r);
    store_close(s);
    if (rc == 0)
        fprintf(stderr, "store-load: %llu records, %llu commits\n", (unsigned long long)loaded,
                (unsigned long long)commits);
    return rc;
}

/* store-rollup [--db PATH]: store_rollup() at clock_now_us() (SIFT_TEST_NOW). */
static int cmd_store_rollup(int argc, char **argv)
{
    const char *db = getenv("PGSIFT_DB");
    const struct opt opts[] = {
        OPT_STRING_(0, "db", &db, "PATH", "store (default $PGSIFT_DB)"),
        OPT_END_(),
    };
    struct diag d = DIAG_INIT;
    if (opts_parse(opts, argc - 1, argv + 1, &d) != 0 || !db) {
        fprintf(stderr, "usage: sift-test-tool store-rollup [--db PATH]\n");
        return 2;
    }
    struct store *s;
    struct store_opts so = { 0 };
    struct store_rollup_stats st;
    if (store_open(&s, db, &so, &d) < 0 || store_rollup(s, clock_now_us(), &st, &d) < 0) {
        fprintf(stderr, "store-rollup: %s\n", d.msg);
        return 1;
    }
    store_close(s);
    printf("minute_rows=%llu hour_rows=%llu day_rows=%llu events=%llu queries=%llu\n",
           (unsigned long long)st.minute_rows, (unsigned long long)st.hour_rows,
           (unsigned long long)st.day_rows, (unsigned long long)st.events,
           (unsigned long long)st.queries);
    return 0;
}

/* ---- events-dump DB / events-downgrade DB: every stored event, whatever the table
 * (event_blocks since schema 6), as text; and a store of version 6 made a version-5 store
 * (events as rows) to test the upgrade with. ---- */

/* The columns of an event after ts: the old events table's up to the detail, then the
 * facts in the store's order (event_fact_name(): the old table's, wait_ms .. port, then
 * those of schema 17, not in the old table), then src: last, so that a line ends with it. */
static const char *const ev_base[] = { "kind",     "severity",    "sqlstate", "database",
                                       "username", "application", "pid",      "fingerprint",
                                       "message",  "detail" };
#define EV_NBASE     ARRAY_SIZE(ev_base)
#define EV_NCOLS     (EV_NBASE + EVENT_N_FACTS + 1)
#define EV_OLD_NCOLS (EV_NBASE + 21u) /* kind .. port: the old table's columns but ts, src */

static const char *ev_col(size_t c)
{
    return c < EV_NBASE ? ev_base[c] : c < EV_NCOLS - 1 ? event_fact_name(c - EV_NBASE) : "src";
}

struct ev_val {
    int type; /* SQLITE_NULL, SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT */
    int64_t i;
    double r;
    char *s;
};

struct ev_rows {
    struct ev_val (*v)[EV_NCOLS + 1]; /* [0] is ts */
    size_t n, a;
};

static void ev_text(struct ev_val *v, const char *s)
{
    if (s) {
        v->type = SQLITE_TEXT;
        v->s = xstrdup(s);
    }
}

static int ev_keep(void *ctx, const struct store_event_row *r)
{
    struct ev_rows *rows = ctx;
    XGROW(rows->v, rows->n + 1, rows->a);
    struct ev_val *v = rows->v[rows->n++];
    memset(v, 0, sizeof(*v) * (EV_NCOLS + 1));
    v[0] = (struct ev_val){ SQLITE_INTEGER, r->ts_us, 0, NULL };
    ev_text(&v[1], r->kind);
    ev_text(&v[2], r->severity);
    ev_text(&v[3], r->sqlstate);
    ev_text(&v[4], r->database);
    ev_text(&v[5], r->user);
    ev_text(&v[6], r->application);
    if (r->pid >= 0)
        v[7] = (struct ev_val){ SQLITE_INTEGER, r->pid, 0, NULL };
    if (r->has_fingerprint)
        v[8] = (struct ev_val){ SQLITE_INTEGER, (int64_t)r->fingerprint, 0, NULL };
    ev_text(&v[9], r->message);
    ev_text(&v[10], r->detail);
    for (size_t f = 0; f < r->n_facts; f++) {
        size_t c = 0;
        while (c < EV_NCOLS && strcmp(ev_col(c), r->facts[f].name))
            c++;
        if (c >= EV_NCOLS - 1)
            return -1; /* a fact this tool does not know (or named "src") */
        struct ev_val *x = &v[c + 1];
        switch (r->facts[f].type) {
        case STORE_FACT_INT: *x = (struct ev_val){ SQLITE_INTEGER, r->facts[f].i, 0, NULL }; break;
        case STORE_FACT_REAL: *x = (struct ev_val){ SQLITE_FLOAT, 0, r->facts[f].r, NULL }; break;
        case STORE_FACT_TEXT: ev_text(x, r->facts[f].s); break;
        }
    }
    ev_text(&v[EV_NCOLS], r->src);
    return 0;
}

static void ev_rows_free(struct ev_rows *rows)
{
    for (size_t i = 0; i < rows->n; i++)
        for (size_t c = 0; c <= EV_NCOLS; c++)
            free(rows->v[i][c].s);
    free(rows->v);
}

static int ev_read_all(const char *db, bool rw, struct ev_rows *rows)
{
    struct store *s;
    struct store_opts so = { .read_only = !rw };
    struct diag d = DIAG_INIT;
    struct store_events_opts o = { .since_us = INT64_MIN, .until_us = INT64_MAX };
    memset(rows, 0, sizeof(*rows));
    if (store_open(&s, db, &so, &d) < 0 || store_events(s, &o, ev_keep, rows, &d) != 0) {
        fprintf(stderr, "sift-test-tool: %s\n", d.msg[0] ? d.msg : "unknown fact column");
        return -1;
    }
    store_close(s);
    return 0;
}

/* events-dump [--old-columns] DB: one line per event, oldest first: every column (or the
 * old events table's: what a store upgraded from version 5 can have), NULL as \N, doubles
 * as C99 hex floats (bit-exact), texts with \ | and control bytes escaped. */
static int cmd_events_dump(int argc, char **argv)
{
    struct ev_rows rows;
    size_t ncols = EV_NCOLS - 1; /* but src */
    if (argc == 3 && !strcmp(argv[1], "--old-columns")) {
        ncols = EV_OLD_NCOLS;
        argc--;
        argv++;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: sift-test-tool events-dump [--old-columns] DB\n");
        return 2;
    }
    if (ev_read_all(argv[1], false, &rows) < 0)
        return 1;
    for (size_t i = 0; i < rows.n; i++) {
        for (size_t k = 0; k <= ncols + 1; k++) { /* ts, the columns, src */
            size_t c = k <= ncols ? k : EV_NCOLS;
            const struct ev_val *v = &rows.v[i][c];
            if (c)
                putchar('|');
            switch (v->type) {
            case SQLITE_INTEGER: printf("%" PRId64, v->i); break;
            case SQLITE_FLOAT: printf("%a", v->r); break;
            case SQLITE_TEXT:
                for (const unsigned char *p = (const unsigned char *)v->s; *p; p++) {
                    if (*p == '\\' || *p == '|')
                        printf("\\%c", *p);
                    else if (*p < 0x20 || *p == 0x7f)
                        printf("\\x%02x", *p);
                    else
                        putchar(*p);
                }
                break;
            default: fputs("\\N", stdout); break;
            }
        }
        putchar('\n');
    }
    ev_rows_free(&rows);
    return 0;
}

/* The events table as schema/001_init.sql made it. */
static const char events_v5[] =
    "CREATE TABLE events (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, kind TEXT NOT NULL,"
    " severity TEXT, sqlstate TEXT, database TEXT, username TEXT, application TEXT,"
    " pid INTEGER, fingerprint INTEGER, message TEXT, detail TEXT, wait_ms REAL,"
    " lock_mode TEXT, lock_object TEXT, temp_bytes INTEGER, temp_path TEXT, buffers INTEGER,"
    " write_s REAL, sync_s REAL, total_s REAL, cause TEXT, relation TEXT,"
    " tuples_removed INTEGER, tuples_remain INTEGER, elapsed_s REAL, host TEXT, step TEXT,"
    " lock_holders TEXT, lock_queue TEXT, blocker_pid INTEGER, distance_kb INTEGER,"
    " port INTEGER, src TEXT);"
    " CREATE INDEX events_ts ON events (ts);";

/* The columns versions 12 and 13 added (schema/012, 013), dropped where they are:
 * a store taken back to an older version must not have them when it is upgraded. */
static int drop_added_columns(sqlite3 *db)
{
    /* (version 12: the sample keys; 13: sources.newest_at; 15: sources.born) */
    static const char *const cols[][2] = { { "queries", "sample_key" },
                                           { "error_stats", "sample_at" },
                                           { "error_stats", "sample_key" },
                                           { "sources", "newest_at" },
                                           { "sources", "born" } };
    for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, "SELECT count(*) FROM pragma_table_info(?1) WHERE name = ?2", -1,
                               &st, NULL) != SQLITE_OK)
            return -1;
        sqlite3_bind_text(st, 1, cols[i][0], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, cols[i][1], -1, SQLITE_STATIC);
        int have = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
        sqlite3_finalize(st);
        char sql[128];
        snprintf(sql, sizeof(sql), "ALTER TABLE %s DROP COLUMN %s", cols[i][0], cols[i][1]);
        if (have && sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
            return -1;
    }
    return 0;
}

/* events-downgrade DB: the store's events back into an events table of rows (in the
 * order store_events() gives them, so ids follow it), event_blocks dropped, version 5. */
static int cmd_events_downgrade(int argc, char **argv)
{
    struct ev_rows rows;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int ret = 1;
    if (argc != 2) {
        fprintf(stderr, "usage: sift-test-tool events-downgrade DB\n");
        return 2;
    }
    if (ev_read_all(argv[1], true, &rows) < 0)
        return 1;
    char ins[1024];
    int k = snprintf(ins, sizeof(ins), "INSERT INTO events (ts");
    for (size_t c = 0; c < EV_OLD_NCOLS; c++)
        k += snprintf(ins + k, sizeof(ins) - (size_t)k, ", %s", ev_col(c));
    k += snprintf(ins + k, sizeof(ins) - (size_t)k, ", src) VALUES (?1");
    for (size_t c = 0; c <= EV_OLD_NCOLS; c++)
        k += snprintf(ins + k, sizeof(ins) - (size_t)k, ", ?%zu", c + 2);
    snprintf(ins + k, sizeof(ins) - (size_t)k, ")");
    if (sqlite3_open(argv[1], &db) != SQLITE_OK ||
        sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(db, events_v5, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, ins, -1, &st, NULL) != SQLITE_OK)
        goto out;
    for (size_t i = 0; i < rows.n; i++) {
        for (size_t n = 0; n <= EV_OLD_NCOLS + 1; n++) { /* the later facts have no column */
            const struct ev_val *v = &rows.v[i][n <= EV_OLD_NCOLS ? n : EV_NCOLS];
            int p = (int)n + 1;
            switch (v->type) {
            case SQLITE_INTEGER: sqlite3_bind_int64(st, p, v->i); break;
            case SQLITE_FLOAT: sqlite3_bind_double(st, p, v->r); break;
            case SQLITE_TEXT: sqlite3_bind_text(st, p, v->s, -1, SQLITE_STATIC); break;
            default: sqlite3_bind_null(st, p); break;
            }
        }
        if (sqlite3_step(st) != SQLITE_DONE)
            goto out;
        sqlite3_reset(st);
    }
    /* (source_marks came with version 8, settings with 9, late_records with 10, the
     * sample keys with 12, sources.newest_at with 13, record_ids with 14, input_stats with
     * 16) */
    if (drop_added_columns(db) < 0 ||
        sqlite3_exec(db,
                     "DROP TABLE event_blocks; DROP TABLE IF EXISTS source_marks;"
                     " DROP TABLE IF EXISTS settings; DROP TABLE IF EXISTS late_records;"
                     " DROP TABLE IF EXISTS record_ids; DROP TABLE IF EXISTS input_stats;"
                     " PRAGMA user_version = 5; COMMIT",
                     NULL, NULL, NULL) != SQLITE_OK)
        goto out;
    ret = 0;
out:
    if (ret)
        fprintf(stderr, "events-downgrade: %s\n", db ? sqlite3_errmsg(db) : "cannot open");
    sqlite3_finalize(st);
    sqlite3_close(db);
    ev_rows_free(&rows);
    return ret;
}

/* ---- plan-calls-dump DB / plan-calls-downgrade DB: every stored plan record, whatever
 * the table (plan_call_blocks since schema 7, decoded here on its own from docs/store.md),
 * and a version-7 store made a version-6 one (plan_calls rows), for upgrade tests. ---- */

struct pc_row {
    int64_t fp, ts, plan_fp, us; /* us < 0: none */
    char *db;
    bool has_us;
};

struct pc_rows {
    struct pc_row *v;
    size_t n, a;
};

static bool pc_varint(const unsigned char **r, const unsigned char *end, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned sh = 0; sh < 64 && *r < end; sh += 7) {
        unsigned char c = *(*r)++;
        v |= (uint64_t)(c & 0x7F) << sh;
        if (!(c & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

/* Records per key in (ts, ingest order): from plan_calls by (key, ts, id); from blocks by
 * (key, minute, part, place) then, within a minute, stably by ts. */
static int pc_read(sqlite3 *db, struct pc_rows *out)
{
    sqlite3_stmt *st;
    bool old = sqlite3_prepare_v2(db,
                                  "SELECT fingerprint, database, ts, plan_fp, us FROM plan_calls"
                                  " ORDER BY fingerprint, database, ts, id",
                                  -1, &st, NULL) == SQLITE_OK;
    if (old) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            XGROW(out->v, out->n + 1, out->a);
            struct pc_row *r = &out->v[out->n++];
            r->fp = sqlite3_column_int64(st, 0);
            r->db = xstrdup((const char *)sqlite3_column_text(st, 1));
            r->ts = sqlite3_column_int64(st, 2);
            r->plan_fp = sqlite3_column_int64(st, 3);
            r->has_us = sqlite3_column_type(st, 4) != SQLITE_NULL;
            r->us = r->has_us ? sqlite3_column_int64(st, 4) : -1;
        }
        sqlite3_finalize(st);
        return 0;
    }
    if (sqlite3_prepare_v2(db,
                           "SELECT fingerprint, database, minute, n, data FROM plan_call_blocks"
                           " ORDER BY fingerprint, database, minute, part",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    size_t group = 0; /* first row of the current (key, minute) */
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t fp = sqlite3_column_int64(st, 0), minute = sqlite3_column_int64(st, 2);
        const char *dbn = (const char *)sqlite3_column_text(st, 1);
        const unsigned char *r = sqlite3_column_blob(st, 4), *end = r + sqlite3_column_bytes(st, 4);
        int64_t n = sqlite3_column_int64(st, 3), got = 0;
        uint64_t plan_fp = 0;
        if (out->n > group && (out->v[group].fp != fp || strcmp(out->v[group].db, dbn) ||
                               (out->v[group].ts - ((out->v[group].ts % 60000000) + 60000000) %
                                                       60000000) != minute * 60000000))
            group = out->n;
        if (!r || r == end || *r++ != 1) {
            fprintf(stderr, "plan-calls-dump: bad block version\n");
            sqlite3_finalize(st);
            return -1;
        }
        while (r < end) {
            uint64_t a, us;
            if (!pc_varint(&r, end, &a))
                break;
            if (!(a & 1)) {
                if (end - r < 8)
                    break;
                plan_fp = 0;
                for (int b = 0; b < 8; b++)
                    plan_fp |= (uint64_t)r[b] << (8 * b);
                r += 8;
            }
            if (!pc_varint(&r, end, &us))
                break;
            XGROW(out->v, out->n + 1, out->a);
            struct pc_row *x = &out->v[out->n++];
            x->fp = fp;
            x->db = xstrdup(dbn);
            x->ts = minute * 60000000 + (int64_t)(a >> 1);
            x->plan_fp = (int64_t)plan_fp;
            x->has_us = us != 0;
            x->us = (int64_t)us - 1;
            got++;
            /* stable insertion by ts within the (key, minute) group */
            for (size_t i = out->n - 1; i > group && out->v[i - 1].ts > out->v[i].ts; i--) {
                struct pc_row t = out->v[i - 1];
                out->v[i - 1] = out->v[i];
                out->v[i] = t;
            }
        }
        if (got != n || r != end) {
            fprintf(stderr, "plan-calls-dump: corrupt block\n");
            sqlite3_finalize(st);
            return -1;
        }
    }
    sqlite3_finalize(st);
    return 0;
}

static void pc_free(struct pc_rows *rows)
{
    for (size_t i = 0; i < rows->n; i++)
        free(rows->v[i].db);
    free(rows->v);
}

static int cmd_plan_calls_dump(int argc, char **argv)
{
    sqlite3 *db = NULL;
    struct pc_rows rows = { 0 };
    if (argc != 2) {
        fprintf(stderr, "usage: sift-test-tool plan-calls-dump DB\n");
        return 2;
    }
    int ret = sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
              pc_read(db, &rows) < 0;
    for (size_t i = 0; i < rows.n && !ret; i++) {
        const struct pc_row *r = &rows.v[i];
        printf("%" PRId64 "|%s|%" PRId64 "|%" PRId64 "|", r->fp, r->db, r->ts, r->plan_fp);
        if (r->has_us)
            printf("%" PRId64, r->us);
        putchar('\n');
    }
    if (ret)
        fprintf(stderr, "plan-calls-dump: %s\n", db ? sqlite3_errmsg(db) : "cannot open");
    sqlite3_close(db);
    pc_free(&rows);
    return ret;
}

static int cmd_plan_calls_downgrade(int argc, char **argv)
{
    static const char v6[] =
        "CREATE TABLE plan_calls (id INTEGER PRIMARY KEY, fingerprint INTEGER NOT NULL,"
        " database TEXT NOT NULL, ts INTEGER NOT NULL, plan_fp INTEGER NOT NULL, us INTEGER);"
        " CREATE INDEX plan_calls_key ON plan_calls (fingerprint, database, ts);"
        " CREATE INDEX plan_calls_ts ON plan_calls (ts);";
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    struct pc_rows rows = { 0 };
    int ret = 1;
    if (argc != 2) {
        fprintf(stderr, "usage: sift-test-tool plan-calls-downgrade DB\n");
        return 2;
    }
    if (sqlite3_open(argv[1], &db) != SQLITE_OK || pc_read(db, &rows) < 0 ||
        sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(db, v6, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO plan_calls (fingerprint, database, ts, plan_fp, us)"
                           " VALUES (?1, ?2, ?3, ?4, ?5)",
                           -1, &st, NULL) != SQLITE_OK)
        goto out;
    for (size_t i = 0; i < rows.n; i++) {
        const struct pc_row *r = &rows.v[i];
        sqlite3_bind_int64(st, 1, r->fp);
        sqlite3_bind_text(st, 2, r->db, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, r->ts);
        sqlite3_bind_int64(st, 4, r->plan_fp);
        if (r->has_us)
            sqlite3_bind_int64(st, 5, r->us);
        else
            sqlite3_bind_null(st, 5);
        if (sqlite3_step(st) != SQLITE_DONE)
            goto out;
        sqlite3_reset(st);
    }
    /* after events-downgrade (which opens the store, so upgrades it first) the version
     * stays 5 */
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_exec(db,
                     "DROP TABLE plan_call_blocks; DROP TABLE IF EXISTS source_marks; DROP TABLE "
                     "IF EXISTS settings; DROP TABLE IF EXISTS late_records; DROP TABLE IF "
                     "EXISTS record_ids; DROP TABLE IF EXISTS input_stats",
                     NULL, NULL, NULL) != SQLITE_OK ||
        drop_added_columns(db) < 0 ||
        sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        goto out;
    int v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    if ((v > 6 && sqlite3_exec(db, "PRAGMA user_version = 6", NULL, NULL, NULL) != SQLITE_OK) ||
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto out;
    ret = 0;
out:
    if (ret)
        fprintf(stderr, "plan-calls-downgrade: %s\n", db ? sqlite3_errmsg(db) : "cannot open");
    sqlite3_finalize(st);
    sqlite3_close(db);
    pc_free(&rows);
    return ret;
}

/* parse-count [--jansson-only] FORMAT FILE: parse a file and print "events rejects"
 * (bench.sh measures the jsonlog scanner against the jansson path with it). */
static int cmd_parse_count(int argc, char **argv)
{
    int i = 1;
    if (i < argc && !strcmp(argv[i], "--jansson-only")) {
        jsonlog_jansson_only = true;
        i++;
    }
    if (argc - i != 2) {
        fprintf(stderr, "usage: sift-test-tool parse-count [--jansson-only] FORMAT FILE\n");
        return 2;
    }
    struct diag d = DIAG_INIT;
    struct parser *p = parser_new(&(struct parser_opts){ .format = argv[i] }, &d);
    struct input *in = p ? input_open(&(struct input_opts){ .path = argv[i + 1] }, &d) : NULL;
    if (!in) {
        fprintf(stderr, "%s\n", d.msg);
        parser_free(p);
        return 1;
    }
    struct input_line ln;
    struct event *ev;
    enum input_status st;
    while ((st = input_next(in, &ln, &d)) == INPUT_LINE || st == INPUT_DAMAGED) {
        if (st == INPUT_DAMAGED)
            continue;
        parser_feed(p, &ln);
        while (parser_next(p, &ev) == PARSE_EVENT)
            ;
    }
    parser_end(p);
    while (parser_next(p, &ev) == PARSE_EVENT)
        ;
    const struct parse_stats *ps = parser_stats(p);
    printf("%llu %llu\n", (unsigned long long)ps->events, (unsigned long long)ps->rejects);
    input_close(in);
    parser_free(p);
    return st == INPUT_ERROR ? 1 : 0;
}

/* Parse FILE in FORMAT ("auto" when NULL), classify every event and call @fn with it
 * (the arena is reset after each line's events). Returns 0, or 1 after printing the
 * input's or parser's error. */
static int each_classified_event(const char *path, const char *format,
                                 void (*fn)(struct event *ev, struct arena *a, void *ctx),
                                 void *ctx)
{
    struct diag d = DIAG_INIT;
    struct arena a = ARENA_INIT;
    struct input_line ln;
    struct event *ev;
    enum input_status st;

    struct parser *p = parser_new(&(struct parser_opts){ .format = format ? format : "auto" }, &d);
    struct input *in = p ? input_open(&(struct input_opts){ .path = path }, &d) : NULL;
    if (!in) {
        fprintf(stderr, "sift-test-tool: %s\n", d.msg);
        parser_free(p);
        return 1;
    }
    for (;;) {
        st = input_next(in, &ln, &d);
        if (st == INPUT_LINE)
            parser_feed(p, &ln);
        else if (st == INPUT_EOF || st == INPUT_ERROR)
            parser_end(p);
        while (parser_next(p, &ev) == PARSE_EVENT) {
            classify_event(ev, &a);
            fn(ev, &a, ctx);
        }
        arena_reset(&a);
        if (st != INPUT_LINE && st != INPUT_DAMAGED)
            break;
    }
    input_close(in);
    parser_free(p);
    arena_release(&a);
    if (st == INPUT_ERROR) {
        fprintf(stderr, "sift-test-tool: %s\n", d.msg);
        return 1;
    }
    return 0;
}

static void print_facts(struct event *ev, struct arena *a, void *ctx)
{
    (void)a;
    (void)ctx;
    printf("%s\t%s\t%.3f\t%s\t%.*s\t%.3f\t%" PRId64 "\t%" PRId64 "\t%d\t%d\t%zu\n",
           event_kind_name(ev->kind), phase_name(ev->phase), ev->duration_ms,
           event_step_name(ev->facts.step), (int)ev->facts.cause.len,
           ev->facts.cause.p ? ev->facts.cause.p : "", ev->facts.wait_ms, ev->facts.temp_bytes,
           ev->facts.buffers, ev->facts.n_participants, !!(ev->flags & EVENT_HAS_PARAMS),
           ev->query.len);
}

/* classify FILE [FORMAT]: parse FILE (format auto unless given), classify every event
 * and print one tab-separated line per event: kind, phase, duration_ms, step, cause,
 * wait_ms, temp_bytes, buffers, deadlock participants, has_params, query length. Two
 * formats of the same log must print the same lines. */
static int cmd_classify(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: sift-test-tool classify FILE [FORMAT]\n");
        return 2;
    }
    return each_classified_event(argv[1], argc > 2 ? argv[2] : NULL, print_facts, NULL);
}

struct plans_ctx {
    struct normalizer *nz; /* --redacted */
    struct sbuf red;
};

static void print_plan(struct event *ev, struct arena *a, void *ctx)
{
    struct plans_ctx *c = ctx;
    if (ev->kind != EV_PLAN)
        return;
    struct plan_analysis pa;
    struct span body = ev->plan;
    if (c->nz) {
        sbuf_reset(&c->red);
        if (plan_redact(c->nz, body, ev->plan_format, a, &c->red) < 0)
            fprintf(stderr, "sift-test-tool: redaction cut\n");
        body = sbuf_span(&c->red);
        printf("%s\n", c->red.buf);
    }
    plan_analyze(body, ev->plan_format, ev->duration_ms, a, &pa);
    printf("line %" PRIu64 "\t%s\t%016" PRIx64 "\t%s\t%.*s\n", ev->src_line,
           plan_format_name(ev->plan_format), pa.fingerprint, pa.parsed ? "parsed" : pa.reason,
           (int)pa.shape.len, pa.shape.p ? pa.shape.p : "");
    for (size_t i = 0; i < pa.n_insights; i++)
        printf("  insight %s\t%.*s\t%.*s\n", plan_insight_name(pa.insights[i].kind),
               (int)pa.insights[i].node.len, pa.insights[i].node.p ? pa.insights[i].node.p : "",
               (int)pa.insights[i].explanation.len, pa.insights[i].explanation.p);
    for (size_t i = 0; i < pa.n_suggestions; i++)
        printf("  index %.*s\tsaving %.3f ms\n", (int)pa.suggestions[i].ddl.len,
               pa.suggestions[i].ddl.p, pa.suggestions[i].saving_ms);
}

/* plans [--redacted] FILE [FORMAT]: every auto_explain plan of FILE analysed: its line,
 * format, fingerprint, shape, then indented insights (name, node, explanation) and index
 * suggestions (DDL). --redacted: print each plan redacted and analyse that instead. */
static int cmd_plans(int argc, char **argv)
{
    struct plans_ctx c = { NULL, SBUF_INIT };

    if (argc > 1 && !strcmp(argv[1], "--redacted")) {
        c.nz = normalize_new(NULL);
        argc--;
        argv++;
    }
    if (argc < 2) {
        fprintf(stderr, "usage: sift-test-tool plans FILE [FORMAT]\n");
        normalize_free(c.nz);
        return 2;
    }
    int rc = each_classified_event(argv[1], argc > 2 ? argv[2] : NULL, print_plan, &c);
    sbuf_release(&c.red);
    normalize_free(c.nz);
    return rc;
}

/* ---- ingest-cut: ingest a file (mapped) that is truncated while it is read ---- */

struct cut {
    const char *path;
    uint64_t after, to; /* truncate to @to once @after bytes were read */
    uint64_t at;        /* bytes read when it was truncated */
    bool done;          /* it was */
    const char *rotate; /* instead: rename path to path.1 and this file to path */
};

static void cut_progress(void *ctx, const char *name, uint64_t bytes)
{
    struct cut *c = ctx;
    (void)name;
    if (c->done || bytes < c->after)
        return;
    c->done = true;
    if (c->rotate) {
        char old[4096];
        snprintf(old, sizeof(old), "%s.1", c->path);
        if (rename(c->path, old) != 0 || rename(c->rotate, c->path) != 0) {
            perror("rename");
            exit(1);
        }
        c->at = bytes;
        return;
    }
    if (truncate(c->path, (off_t)c->to) != 0) {
        perror("truncate");
        exit(1);
    }
    c->at = bytes;
}

/* ingest-cut --db PATH [--async] [--parts BYTES] [--batch BYTES] [--rotate NEW] FILE AFTER
 * TO: `pgsift ingest FILE` (csvlog, the file mapped; --parts: parsed in parts of BYTES on
 * two threads, as -j 2 does) in this process, truncating FILE to TO bytes at the first
 * progress report (every 16384 lines, or every part; one with 0 bytes once the file is
 * open and looked up in the store) after AFTER bytes (--rotate: instead FILE is renamed to
 * FILE.1 and NEW to FILE there, as logrotate does; a .gz FILE is read as such). Prints "cut_at=N"
 * (bytes read when cut), then "ok" or "failed: <message>"; exit 0 either way (1: setup
 * failed). */
static int cmd_ingest_cut(int argc, char **argv)
{
    const char *db = getenv("PGSIFT_DB");
    bool async = false;
    long batch = 400000, parts = 0;
    const char *rotate = NULL;
    const struct opt opts[] = {
        OPT_STRING_(0, "db", &db, "PATH", "store (default $PGSIFT_DB)"),
        OPT_BOOL_(0, "async", &async, "commit in a second thread (ingest -j 2)"),
        OPT_LONG_(0, "parts", &parts, "BYTES", "parse in parts of BYTES on two threads", 1,
                  1L << 30),
        OPT_LONG_(0, "batch", &batch, "BYTES", "batch size", 1, 1L << 30),
        OPT_STRING_(0, "rotate", &rotate, "NEW", "rename FILE to FILE.1 and NEW to FILE"),
        OPT_END_(),
    };
    struct diag d = DIAG_INIT;
    int n = opts_parse(opts, argc - 1, argv + 1, &d);
    if (n != 3 || !db) {
        fprintf(
            stderr,
            "usage: sift-test-tool ingest-cut --db PATH [--async] [--parts BYTES] FILE AFTER TO\n");
        return 2;
    }
    struct cut c = { .path = argv[1],
                     .after = strtoull(argv[2], NULL, 10),
                     .to = strtoull(argv[3], NULL, 10),
                     .rotate = rotate };
    struct store *s;
    if (store_open(&s, db, &(struct store_opts){ 0 }, &d) < 0) {
        fprintf(stderr, "ingest-cut: %s\n", d.msg);
        return 1;
    }
    struct ingest_opts io = { .format = "csvlog",
                              .batch_bytes = (uint64_t)batch,
                              .async_commit = async || parts,
                              .map = true,
                              .parse_threads = parts ? 2 : 0,
                              .part_bytes = (size_t)parts,
                              .progress = cut_progress,
                              .progress_ctx = &c };
    struct ingest_result r;
    ingest_result_init(&r);
    int rc = ingest_source(s, &io, c.path, &r, &d);
    printf("cut_at=%llu\n", (unsigned long long)c.at);
    if (rc < 0)
        printf("failed: %s\n", d.msg);
    else
        printf("ok\n");
    ingest_result_release(&r);
    store_close(s);
    return 0;
}

/* rusage OUT CMD [ARG...]: run CMD (with our standard streams), wait for it and write
 * "USER SYS MAXRSS" to OUT from wait4(): user and system CPU seconds to the microsecond,
 * peak RSS in KiB. The benchmarks time with it: GNU time prints hundredths of a second,
 * truncated, so each of its user and system times was up to 10 ms short (2 % of a
 * 0.5 s run, scripts/bench/lib.sh). Exits with CMD's exit code, 128 + the signal that
 * killed it, or 127 when it cannot be run. */
static int tool_rusage(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: sift-test-tool rusage OUT CMD [ARG...]\n");
        return 2;
    }
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "sift-test-tool rusage: fork: %s\n", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        fprintf(stderr, "sift-test-tool rusage: cannot run '%s': %s\n", argv[2], strerror(errno));
        _exit(127);
    }
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "sift-test-tool rusage: wait4: %s\n", strerror(errno));
            return 1;
        }
    }
    FILE *f = fopen(argv[1], "w");
    if (!f ||
        fprintf(f, "%ld.%06ld %ld.%06ld %ld\n", (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec,
                (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec, ru.ru_maxrss) < 0 ||
        fclose(f) != 0) {
        fprintf(stderr, "sift-test-tool rusage: cannot write '%s'\n", argv[1]);
        return 1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* cores [ROUNDS]: how much two threads get out of the machine's CPUs together,
 * against one alone, on a loop of loads and arithmetic over 256 KiB of its own (a
 * parser's kind of work, in the caches: no memory bandwidth involved). Prints
 * "scaling S alone A ms both B ms": S = 2 A / B, about 2 on two cores of their own,
 * 1.0-1.3 when the two CPUs are hyperthreads of one core (they share its execution
 * units and caches) or the host runs them on one core. `-j 2` can only be as much
 * faster than `-j 1` as the two CPUs are (docs/performance.md, session 13). Medians of
 * ROUNDS (default 9) rounds, each alone then both. */
#define CORES_BYTES ((size_t)256 << 10)
static volatile uint64_t cores_sink;

struct cores_run {
    unsigned char *buf;
    uint64_t sum;
    pthread_barrier_t *go;
    double start, end; /* (taken by the thread: the caller may wait for a CPU) */
};

static double cores_now(void);

static void *cores_loop(void *arg)
{
    struct cores_run *r = arg;
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    pthread_barrier_wait(r->go);
    r->start = cores_now();
    for (int round = 0; round < 6000; round++)
        for (size_t i = 0; i < CORES_BYTES; i += 32) {
            s0 += r->buf[i] * 3u;
            s1 ^= r->buf[i + 8] + s0;
            s2 += (uint64_t)r->buf[i + 16] << 1;
            s3 += r->buf[(i * 7919) % CORES_BYTES];
        }
    r->sum = s0 + s1 + s2 + s3;
    r->end = cores_now();
    return NULL;
}

static double cores_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int tool_cores(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 9;
    if (rounds < 1 || rounds > 99) {
        fprintf(stderr, "usage: sift-test-tool cores [ROUNDS (1-99)]\n");
        return 2;
    }
    struct cores_run run[2];
    for (int k = 0; k < 2; k++) {
        run[k].buf = malloc(CORES_BYTES + 32);
        if (!run[k].buf)
            return 1;
        for (size_t i = 0; i < CORES_BYTES + 32; i++)
            run[k].buf[i] = (unsigned char)(i * 131 + (size_t)k);
    }
    double alone[99], both[99];
    uint64_t sink = 0;
    for (int i = 0; i < 2 * rounds; i++) {
        int n = i % 2 ? 2 : 1; /* alone, then both, in turn */
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, (unsigned)n + 1);
        pthread_t tid[2];
        for (int k = 0; k < n; k++) {
            run[k].go = &go;
            if (pthread_create(&tid[k], NULL, cores_loop, &run[k]) != 0)
                return 1;
        }
        pthread_barrier_wait(&go); /* (the threads start together) */
        double t0 = 1e300, t1 = 0;
        for (int k = 0; k < n; k++) {
            pthread_join(tid[k], NULL);
            sink += run[k].sum;
            t0 = run[k].start < t0 ? run[k].start : t0;
            t1 = run[k].end > t1 ? run[k].end : t1;
        }
        (n == 1 ? alone : both)[i / 2] = t1 - t0;
        pthread_barrier_destroy(&go);
    }
    qsort(alone, (size_t)rounds, sizeof(double), cmp_double);
    qsort(both, (size_t)rounds, sizeof(double), cmp_double);
    double a = alone[rounds / 2], b = both[rounds / 2];
    cores_sink = sink; /* (the sums are used: the loop is not optimised away) */
    printf("scaling %.2f alone %.1f ms both %.1f ms\n", 2 * a / b, a * 1000, b * 1000);
    free(run[0].buf);
    free(run[1].buf);
    return 0;
}

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} cmds[] = {
    { "now", cmd_now, "print the clock's now (honours SIFT_TEST_NOW)" },
    { "report-synth", cmd_report_synth, "render a synthetic (or hostile) report model" },
    { "report-job", cmd_report_job, "one tick of the daily report job (pgsift tail)" },
    { "svg", cmd_svg, "print one SVG chart (line|area|bars|hist|spark TITLE)" },
    { "http-stub", stub_http, "loopback HTTP server answering by script (see stubs.h)" },
    { "smtp-stub", stub_smtp, "loopback SMTP server answering by script (see stubs.h)" },
    { "stub-log", stub_log, "print one field of every request a stub logged" },
    { "webhook-verify", stub_webhook_verify, "check Standard Webhooks signatures in a stub log" },
    { "store-load", cmd_store_load, "load NDJSON events into the store (--position: resume)" },
    { "store-rollup", cmd_store_rollup, "run the store's roll-up at the clock's now" },
    { "events-dump", cmd_events_dump,
      "[--old-columns] DB: every stored event, one line each, all columns" },
    { "events-downgrade", cmd_events_downgrade,
      "DB: make a version-6 store a version-5 one (events as rows), for upgrade tests" },
    { "plan-calls-dump", cmd_plan_calls_dump,
      "DB: every stored plan record (key, time, shape, µs), per key in time and ingest order" },
    { "plan-calls-downgrade", cmd_plan_calls_downgrade,
      "DB: make a version-7 store a version-6 one (plan_calls rows), for upgrade tests" },
    { "parse-count", cmd_parse_count,
      "[--jansson-only] FORMAT FILE: parse, print events and rejects" },
    { "classify", cmd_classify, "parse FILE [FORMAT], classify, one line of facts per event" },
    { "append-lines", tool_append_lines,
      "write numbered log records at a steady rate, rotating (tail tests, bench)" },
    { "tail-latency", tool_tail_latency,
      "COMMIT_LOG TIMES: write-to-commit latency percentiles of appended lines" },
    { "notify-listen", tool_notify_listen, "SOCKET OUT: record systemd notifications" },
    { "config-reference", tool_config_reference, "print the pgsift.yaml key reference" },
    { "plans", cmd_plans, "parse FILE [FORMAT], analyse every plan: fingerprint, insights" },
    { "cores", tool_cores, "[ROUNDS]: how two threads scale on the first two CPUs" },
    { "rusage", tool_rusage,
      "OUT CMD [ARG...]: run CMD, write its user and system CPU seconds (µs) and peak RSS (KiB)" },
    { "ingest-cut", cmd_ingest_cut,
      "--db DB [--async] [--parts BYTES] FILE AFTER TO: ingest FILE (mapped), truncated to TO "
      "while read" },
};

int main(int argc, char **argv)
{
    if (argc >= 2) {
        for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
            if (!strcmp(argv[1], cmds[i].name))
                return cmds[i].fn(argc - 1, argv + 1);
    }
    fprintf(stderr, "usage: sift-test-tool COMMAND [ARGS]\n");
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        fprintf(stderr, "    %-12s %s\n", cmds[i].name, cmds[i].help);
    return 2;
}
