/* SPDX-License-Identifier: MIT */
/*
 * pipeline_par: one file parsed in parts on several threads hands out exactly the records
 * pipeline_run() gives, in the same order, with the same line numbers, rejects and end
 * checkpoint - on the real-server fixtures (csvlog, jsonlog) cut into parts of many sizes,
 * and on a hand-made csvlog (labelled below) whose quoted fields hold lines that look like
 * record starts, cut at every byte.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "core/xalloc.h"
#include "parsetest.h"
#include "pipeline.h"

/* What store_batch_add() reads of a light record (store.h), as text. */
static void light_text(const struct store_rec *r, struct sbuf *o)
{
    CHECK(sbuf_addf(o,
                    "L ts=%lld pid=%lld kind=%u sev=%u phase=%u flags=%u fp=%llx/%llx qid=%lld/%d "
                    "dur=%.6f rows=%lld db=%.*s user=%.*s\n",
                    (long long)r->ts_us, (long long)r->pid, r->kind, r->severity, r->phase,
                    r->flags, (unsigned long long)r->fingerprint,
                    (unsigned long long)r->fingerprint_hi, (long long)r->query_id, r->has_query_id,
                    r->duration_ms, (long long)r->rows, (int)r->database.len,
                    r->database.p ? r->database.p : "", (int)r->user.len,
                    r->user.p ? r->user.p : "") == 0);
}

static void texts_text(const struct store_rec *r, struct sbuf *o)
{
    pt_str(o, "query", r->query);
    pt_str(o, "statement", r->statement);
    pt_str(o, "normalized", r->normalized);
    CHECK(sbuf_addch(o, '\n') == 0);
}

/* One record as both sides render it; texts separately (a part keeps them only for some). */
struct seq {
    struct sbuf all;
    char **recs, **texts;
    size_t n, a;
};

static int seq_sink(void *ctx, struct event *ev, struct diag *d)
{
    struct seq *s = ctx;
    (void)d;
    struct sbuf one, t;
    sbuf_init(&one, 0);
    sbuf_init(&t, 0);
    if (store_rec_light(ev)) {
        struct store_rec r;
        struct arena a = ARENA_INIT;
        store_rec_keep(&r, ev, true, NULL, &a);
        light_text(&r, &one);
        texts_text(&r, &t);
        arena_release(&a);
    } else {
        pt_render(ev, &one);
        CHECK(sbuf_addf(&one, " line=%llu\n", (unsigned long long)ev->src_line) == 0);
    }
    XGROW(s->recs, s->n + 1, s->a);
    s->texts = xrealloc(s->texts, s->a * sizeof(*s->texts));
    s->recs[s->n] = xstrdup(one.buf ? one.buf : "");
    s->texts[s->n] = xstrdup(t.buf ? t.buf : "");
    s->n++;
    sbuf_release(&one);
    sbuf_release(&t);
    return 0;
}

static void seq_release(struct seq *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->recs[i]);
        free(s->texts[i]);
    }
    free(s->recs);
    free(s->texts);
}

struct expect {
    struct seq seq;
    struct sbuf stats;
    char *format;
};

static void expect_run(struct expect *e, const char *path, const char *format, bool hold)
{
    memset(e, 0, sizeof(*e));
    struct pipeline_opts o = { .format = format,
                               .normalize = true,
                               .sink = seq_sink,
                               .sink_ctx = &e->seq,
                               .hold_partial = hold };
    struct pipeline_result res;
    struct diag d = DIAG_INIT;
    CHECK(pipeline_run(&o, path, &res, &d) == 0);
    sbuf_init(&e->stats, 0);
    pt_stats_text(&res.stats, &e->stats);
    e->format = res.format ? xstrdup(res.format) : NULL;
    pipeline_result_release(&res);
}

static void expect_release(struct expect *e)
{
    seq_release(&e->seq);
    sbuf_release(&e->stats);
    free(e->format);
}

static uint64_t again; /* parts parsed again, over the calls */

/* Run @path in parts and compare with @e. Returns the number of parts handed out. */
static void rotate(const char *path, const char *to);

/* With @rotate_to: after the first part, @path is renamed to it and a new file put in
 * its place (logrotate); the parts must go on reading the file opened. */
static size_t check_parts_rot(const struct expect *e, const char *path, const char *format,
                              bool hold, size_t part_bytes, unsigned workers, uint64_t size,
                              const char *rotate_to)
{
    struct pipeline_par *pp;
    struct diag d = DIAG_INIT;
    struct pipeline_par_opts o = { .path = path,
                                   .format = format,
                                   .hold_partial = hold,
                                   .workers = workers,
                                   .part_bytes = part_bytes };
    int rc = pipeline_par_open(&o, &pp, &d);
    CHECK_MSG(rc == 0, "%s: part_bytes %zu: open %d (%s)", path, part_bytes, rc, d.msg);
    if (rc != 0)
        return 0;
    CHECK_EQ_STR(pipeline_par_format(pp), e->format);
    struct parse_stats total = { 0 };
    size_t i = 0, parts = 0, kept = 0;
    uint64_t expect_off = 0, expect_line = 1;
    struct pipeline_part *part;
    bool last = false;
    while ((rc = pipeline_par_next(pp, &part, &d)) == 0) {
        CHECK_EQ_U64(part->offset, expect_off);
        CHECK_EQ_U64(part->line, expect_line);
        CHECK(!last);
        expect_off = part->end;
        expect_line = part->line + part->lines;
        last = part->last;
        parse_stats_merge(&total, &part->stats);
        for (size_t k = 0; k < part->n && i < e->seq.n; k++, i++) {
            const struct pipeline_rec *r = &part->rec[k];
            struct sbuf one;
            sbuf_init(&one, 0);
            if (r->whole) {
                pt_render(&part->ev[r->whole - 1], &one);
                CHECK(sbuf_addf(&one, " line=%llu\n",
                                (unsigned long long)part->ev[r->whole - 1].src_line) == 0);
            } else {
                light_text(&r->light, &one);
            }
            CHECK_MSG(!strcmp(one.buf, e->seq.recs[i]), "%s (parts of %zu): record %zu:\n  %s  %s",
                      path, part_bytes, i, one.buf, e->seq.recs[i]);
            if (!r->whole && (r->light.query.p || r->light.normalized.p)) {
                sbuf_reset(&one);
                texts_text(&r->light, &one);
                CHECK_EQ_STR(one.buf, e->seq.texts[i]);
                kept++;
            }
            sbuf_release(&one);
        }
        if (part->n > 0 && i > e->seq.n)
            CHECK_MSG(false, "more records than pipeline_run()");
        parts++;
        pipeline_part_free(part);
        if (parts == 1 && rotate_to)
            rotate(path, rotate_to);
    }
    CHECK_MSG(rc == 1, "%s: %s", path, d.msg);
    CHECK(last);
    CHECK_EQ_U64(i, e->seq.n);
    CHECK(e->seq.n == 0 || kept > 0);
    if (!hold)
        CHECK_EQ_U64(expect_off, size);
    struct sbuf st;
    sbuf_init(&st, 0);
    pt_stats_text(&total, &st);
    CHECK_EQ_STR(st.buf, e->stats.buf);
    sbuf_release(&st);
    parse_stats_release(&total);
    again += pipeline_par_again(pp);
    pipeline_par_close(pp);
    return parts;
}

static size_t check_parts(const struct expect *e, const char *path, const char *format, bool hold,
                          size_t part_bytes, unsigned workers, uint64_t size)
{
    return check_parts_rot(e, path, format, hold, part_bytes, workers, size, NULL);
}

static uint64_t file_size(const char *path)
{
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (!f)
        return 0;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return (uint64_t)n;
}

static void test_fixtures(void)
{
    static const char *const dirs[] = { "json-plans", "plan-insights", "statement-log",
                                        "text-plans", "verbose-errors" };
    static const char *const exts[] = { "csv", "json" };
    for (size_t di = 0; di < ARRAY_SIZE(dirs); di++) {
        for (size_t xi = 0; xi < ARRAY_SIZE(exts); xi++) {
            char path[256];
            snprintf(path, sizeof(path), "fixtures/pg15/%s/postgresql.%s", dirs[di], exts[xi]);
            struct expect e;
            expect_run(&e, path, "auto", false);
            CHECK(e.seq.n > 300);
            uint64_t size = file_size(path);
            static const size_t sizes[] = { 4096, 777, 65536 };
            for (size_t si = 0; si < ARRAY_SIZE(sizes); si++)
                CHECK(check_parts(&e, path, "auto", false, sizes[si], si == 1 ? 3 : 2, size) >= 2);
            expect_release(&e);
        }
    }
}

/*
 * Hand-made edge case (not from a server): csvlog records whose quoted message spans
 * lines, some of which look like record starts ("2026-..."), a field with doubled quotes,
 * a rejected record, a blank line, and a last line without '\n'. Every part size from 40
 * to 400 bytes puts cuts at every byte of it.
 */
static const char edge[] =
    "2026-11-25 10:00:00.000 UTC,\"app\",\"db\",100,\"[local]\",1.1,1,\"SELECT\","
    "2026-11-25 09:00:00 UTC,3/1,0,LOG,00000,\"duration: 1.5 ms  statement: SELECT 1\",,,,,,,,,"
    "\"psql\",\"client backend\",,0\n"
    "2026-11-25 10:00:01.000 UTC,\"app\",\"db\",100,\"[local]\",1.1,2,\"SELECT\","
    "2026-11-25 09:00:00 UTC,3/1,0,LOG,00000,\"duration: 2.5 ms  statement: SELECT 'a\n"
    "2026-11-25 10:00:02.000 UTC,\"\"x\"\",\"\"db\"\",101\n"
    "2026-11-25 10:00:03.000 UTC,b' FROM t\",,,,,,,,,\"psql\",\"client backend\",,0\n"
    "2026-11-25 10:00:04.000 UTC,\"app\",\"db\",100,\"[local]\",1.1,3,\"idle\","
    "2026-11-25 09:00:00 UTC,3/1,0,ERROR,42P01,\"relation \"\"t\"\" does not exist\",,,,,,"
    "\"SELECT * FROM t\",15,,\"psql\",\"client backend\",,0\n"
    "\n"
    "2026-11-25 10:00:05.000 UTC,not,enough,columns\n"
    "2026-11-25 10:00:06.000 UTC,\"app\",\"db\",100,\"[local]\",1.1,4,\"SELECT\","
    "2026-11-25 09:00:00 UTC,3/1,0,LOG,00000,\"duration: 3.5 ms  statement: SELECT 2\n"
    "\n"
    "2026-11-25 10:00:07.000 UTC\n"
    "\",,,,,,,,,\"psql\",\"client backend\",,0\n"
    "2026-11-25 10:00:08.000 UTC,\"app\",\"db\",100,\"[local]\",1.1,5,\"SELECT\","
    "2026-11-25 09:00:00 UTC,3/1,0,LOG,00000,\"duration: 4.5 ms  statement: SELECT 3\",,,,,,,,,"
    "\"psql\",\"client backend\",,0\n"
    "2026-11-25 10:00:09.000 UTC,\"app\",\"db\",100,\"[local]\",1.1,6,\"SELECT\","
    "2026-11-25 09:00:00 UTC,3/1,0,LOG,00000,\"duration: 5.5 ms  statement: SELECT 4\",,,,,,,,,"
    "\"psql\",\"client backend\",,0";

static void test_edge_every_cut(void)
{
    char path[] = "/tmp/sift-par.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK(write(fd, edge, sizeof(edge) - 1) == (ssize_t)(sizeof(edge) - 1));
    close(fd);
    for (int hold = 0; hold <= 1; hold++) {
        struct expect e;
        expect_run(&e, path, "csvlog", hold);
        CHECK(e.seq.n >= 4);
        CHECK(strstr(e.stats.buf, "columns") != NULL);
        size_t most = 0;
        again = 0;
        for (size_t pb = 40; pb <= (sizeof(edge) - 1) / 2; pb++) {
            size_t parts = check_parts(&e, path, "csvlog", hold, pb, 2, sizeof(edge) - 1);
            if (parts > most)
                most = parts;
        }
        CHECK_MSG(most >= 5, "at most %zu parts", most);
        /* some cuts fell on the line inside the quoted field that looks like a start */
        CHECK(again > 0);
        expect_release(&e);
    }
    CHECK(unlink(path) == 0);
}

/* Hand-made: a new file put where the old one was, with records of another year. */
static void rotate(const char *path, const char *to)
{
    CHECK(rename(path, to) == 0);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f)
        return;
    for (int i = 0; i < 20000; i++)
        fprintf(f,
                "2099-01-01 00:00:%02d.000 UTC,\"new\",\"new\",1,\"[local]\",9.9,%d,"
                "\"SELECT\",2099-01-01 00:00:00 UTC,3/1,0,LOG,00000,"
                "\"duration: 1.0 ms  statement: SELECT 99\",,,,,,,,,\"psql\","
                "\"client backend\",,0\n",
                i % 60, i + 1);
    fclose(f);
}

/* logrotate while the parts are read: every part reads the file opened at the start. */
static void test_rotated_while_read(void)
{
    char path[] = "/tmp/sift-par-rot.XXXXXX", old[64];
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    FILE *in = fopen("fixtures/pg15/text-plans/postgresql.csv", "rb");
    CHECK(in != NULL);
    char buf[65536];
    size_t n;
    while (in && (n = fread(buf, 1, sizeof(buf), in)) > 0)
        CHECK(write(fd, buf, n) == (ssize_t)n);
    if (in)
        fclose(in);
    close(fd);
    snprintf(old, sizeof(old), "%s.1", path);
    struct expect e;
    expect_run(&e, path, "auto", false);
    size_t parts = check_parts_rot(&e, path, "auto", false, 4096, 2, file_size(path), old);
    CHECK(parts > 20);
    expect_release(&e);
    CHECK(unlink(path) == 0);
    CHECK(unlink(old) == 0);
}

static void test_not_for_this(void)
{
    struct pipeline_par *pp = (struct pipeline_par *)1;
    struct diag d = DIAG_INIT;
    /* stderr records are not self-delimiting: read it whole */
    CHECK(pipeline_par_open(
              &(struct pipeline_par_opts){ .path = "fixtures/pg15/text-plans/postgresql.log",
                                           .format = "auto",
                                           .workers = 2,
                                           .part_bytes = 4096 },
              &pp, &d) == 1);
    CHECK(pp == NULL);
    /* one worker, or a file of less than two parts */
    CHECK(pipeline_par_open(
              &(struct pipeline_par_opts){ .path = "fixtures/pg15/text-plans/postgresql.csv",
                                           .workers = 1,
                                           .part_bytes = 4096 },
              &pp, &d) == 1);
    CHECK(pipeline_par_open(
              &(struct pipeline_par_opts){ .path = "fixtures/pg15/text-plans/postgresql.csv",
                                           .workers = 2 },
              &pp, &d) == 1);
    CHECK(pp == NULL);
}

/* The caller is one of the workers: while the part it hands out next is still being
 * parsed, pipeline_par_next() parses the next free part itself. The fold holds the worker
 * thread in its first record until a record was folded on the caller's thread, and the
 * caller in its first until the worker folded one (at most 10 s each: without the
 * caller's help the parts still come, and the check fails). */
struct helped {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t caller;
    unsigned long on_caller, on_worker;
    bool gave_up; /* waited 10 s in vain: the next records do not wait */
};

static void *helped_make(void *ctx)
{
    (void)ctx;
    return xcalloc(1, 1);
}

static bool helped_take(void *ctx, void *state, const struct event *ev)
{
    struct helped *h = ctx;
    (void)state;
    (void)ev;
    pthread_mutex_lock(&h->mu);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    if (pthread_equal(pthread_self(), h->caller)) {
        h->on_caller++;
        pthread_cond_broadcast(&h->cv);
        /* and the other way round: an optimised build parses the whole file on the
         * caller's thread before the worker thread has begun its first part */
        while (h->on_worker == 0 && !h->gave_up)
            h->gave_up = pthread_cond_timedwait(&h->cv, &h->mu, &until) != 0;
    } else {
        while (h->on_caller == 0 && !h->gave_up)
            h->gave_up = pthread_cond_timedwait(&h->cv, &h->mu, &until) != 0;
        h->on_worker++;
        pthread_cond_broadcast(&h->cv);
    }
    pthread_mutex_unlock(&h->mu);
    return true;
}

static void helped_reset(void *ctx, void *state)
{
    (void)ctx;
    (void)state;
}

static void helped_free(void *ctx, void *state)
{
    (void)ctx;
    free(state);
}

static void test_caller_parses_too(void)
{
    struct helped h = { .caller = pthread_self() };
    pthread_mutex_init(&h.mu, NULL);
    pthread_cond_init(&h.cv, NULL);
    struct pipeline_fold fold = { .ctx = &h,
                                  .make = helped_make,
                                  .take = helped_take,
                                  .reset = helped_reset,
                                  .free = helped_free };
    struct pipeline_par *pp = NULL;
    struct diag d = DIAG_INIT;
    CHECK(pipeline_par_open(
              &(struct pipeline_par_opts){ .path = "fixtures/pg15/text-plans/postgresql.csv",
                                           .format = "auto",
                                           .workers = 2,
                                           .part_bytes = 4096,
                                           .fold = &fold },
              &pp, &d) == 0);
    struct pipeline_part *part;
    size_t parts = 0;
    while (pp && pipeline_par_next(pp, &part, &d) == 0) {
        pipeline_part_free(part);
        parts++;
    }
    pipeline_par_close(pp);
    CHECK(parts > 20);
    CHECK(h.on_caller > 0);
    CHECK(h.on_worker > 0);
    pthread_cond_destroy(&h.cv);
    pthread_mutex_destroy(&h.mu);
}

/* The taper (pipeline_par.c, plan()): in the file's last 2 * workers * part_bytes, each
 * part is a 2 * workers'th of what is left, down to a third of part_bytes, and the last
 * one is no sliver. A file of one short record repeated (a fixture's, so that parts are
 * cut near where planned): the sizes the parts come back with show it. */
static void test_taper(void)
{
    FILE *f = fopen("fixtures/pg15/text-plans/postgresql.csv", "rb");
    CHECK(f != NULL);
    if (!f)
        return;
    char line[4096] = "";
    while (fgets(line, sizeof(line), f))
        if (line[0] >= '0' && line[0] <= '9' && strlen(line) < 200 &&
            line[strlen(line) - 1] == '\n')
            break;
    fclose(f);
    size_t len = strlen(line);
    CHECK(len > 50 && len < 200);
    char path[] = "/tmp/sift-taper-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    FILE *w = fdopen(fd, "wb");
    while (w && (uint64_t)ftell(w) < 200 * 1024)
        fputs(line, w);
    uint64_t size = w ? (uint64_t)ftell(w) : 0;
    if (w)
        fclose(w);

    const size_t pb = 8192, least = pb / 3;
    const unsigned workers = 2;
    const uint64_t tail = 2 * workers * pb;
    struct pipeline_par *pp = NULL;
    struct diag d = DIAG_INIT;
    CHECK(pipeline_par_open(
              &(struct pipeline_par_opts){
                  .path = path, .format = "csvlog", .workers = workers, .part_bytes = pb },
              &pp, &d) == 0);
    struct pipeline_part *part;
    uint64_t in_tail = 0, prev = UINT64_MAX, last_size = 0, end = 0;
    while (pp && pipeline_par_next(pp, &part, &d) == 0) {
        uint64_t n = part->end - part->offset;
        CHECK_MSG(n <= pb + len, "part at %llu: %llu bytes", (unsigned long long)part->offset,
                  (unsigned long long)n);
        if (size - part->offset <= tail) {
            in_tail++;
            /* a quarter of what is left (or the least), give or take a line */
            uint64_t left = size - part->offset, want = left / (2 * workers);
            if (want < least)
                want = least;
            if (!part->last)
                CHECK_MSG(n <= want + len && n + len >= (want < left ? want : left),
                          "tail part at %llu: %llu bytes, planned %llu",
                          (unsigned long long)part->offset, (unsigned long long)n,
                          (unsigned long long)want);
            CHECK(prev == UINT64_MAX || n <= prev + len);
            prev = n;
        }
        last_size = n;
        end = part->end;
        pipeline_part_free(part);
    }
    pipeline_par_close(pp);
    CHECK_EQ_U64(end, size);
    CHECK_MSG(in_tail >= 6, "%llu parts in the last %llu bytes", (unsigned long long)in_tail,
              (unsigned long long)tail);
    CHECK_MSG(last_size + len >= least / 2, "a sliver at the end: %llu bytes",
              (unsigned long long)last_size);
    unlink(path);
}

TEST_LIST = {
    { "fixtures", test_fixtures },
    { "edge_every_cut", test_edge_every_cut },
    { "rotated_while_read", test_rotated_while_read },
    { "not_for_this", test_not_for_this },
    { "caller_parses_too", test_caller_parses_too },
    { "taper", test_taper },
    { NULL, NULL },
};
