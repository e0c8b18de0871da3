/* SPDX-License-Identifier: MIT */
/*
 * input, gzip decoded on a thread of its own (src/input/gz.c) against gzip decoded on the
 * reader's thread: the same lines, line numbers, offsets, damage reports and ends, with
 * ring buffers from a few bytes (every line and member crosses a slot boundary) to the
 * default; resume at a decoded offset; closing mid-file stops and joins the thread (the
 * thread count of the process is checked, LeakSanitizer checks the memory); the
 * SIFT_GZ_THREAD environment variable and the size threshold; a failing read() after
 * some decoded bytes (the decoder itself, on a directory's descriptor) ends both ways with
 * the same bytes and the same message.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "check.h"
#define TEST_RNG32_SEED 12345u
#include "rng.h"
#define TMPFILES_TEMPLATE "/tmp/sift-input-gz.XXXXXX"
#include "tmpfiles.h"
#include "core/compat.h"
#include "core/limits.h"
#include "core/sbuf.h"
#include "input/gz_int.h"
#include "input/input.h"

static unsigned char *slurp_file(const char *path, size_t *n)
{
    struct stat st;
    CHECK(stat(path, &st) == 0);
    *n = (size_t)st.st_size;
    unsigned char *p = malloc(*n + 1);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL && fread(p, 1, *n, f) == *n);
    if (f)
        fclose(f);
    return p;
}

/* @lines lines of 0..@maxlen bytes drawn from 64 symbols (so they do not compress much:
 * damage lands mid-file), CR before some newlines, no newline after the last one. */
static void make_text(struct sbuf *s, int lines, uint32_t maxlen)
{
    static const char sym[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ,";
    for (int i = 0; i < lines; i++) {
        uint32_t len = rnd(maxlen + 1);
        for (uint32_t j = 0; j < len; j++)
            CHECK(sbuf_addch(s, sym[rnd(64)]) == 0);
        if (rnd(10) == 0)
            CHECK(sbuf_addch(s, '\r') == 0);
        if (i + 1 < lines)
            CHECK(sbuf_addch(s, '\n') == 0);
    }
}

/* Write @data as several gzip members cut at arbitrary bytes (mid-line), some empty. */
static void write_members(const char *path, const struct sbuf *data, int members)
{
    unlink(path);
    size_t at = 0;
    for (int m = 0; m < members; m++) {
        size_t n = m + 1 == members ? data->len - at : rnd((uint32_t)(2 * data->len / members));
        if (n > data->len - at)
            n = data->len - at;
        gz_append(path, data->buf + at, n);
        at += n;
    }
}

/* Everything observable of one read: "line offset end flags text" per line, then how it
 * ended (damage with both offsets and the message, or EOF, or the error message). */
static void read_record(const struct input_opts *o, struct sbuf *out)
{
    struct diag d = DIAG_INIT;
    sbuf_init(out, 0);
    struct input *in = input_open(o, &d);
    CHECK(in != NULL);
    if (!in)
        return;
    struct input_line ln;
    for (;;) {
        enum input_status st = input_next(in, &ln, &d);
        if (st == INPUT_LINE) {
            CHECK(sbuf_addf(out, "%llu %llu %llu %d%d ", (unsigned long long)ln.line,
                            (unsigned long long)ln.offset, (unsigned long long)ln.end, ln.partial,
                            ln.truncated) == 0);
            CHECK(sbuf_add(out, ln.text.p, ln.text.len) == 0);
            CHECK(sbuf_addch(out, '\n') == 0);
            continue;
        }
        if (st == INPUT_DAMAGED) {
            const struct input_damage *dm = input_damage(in);
            CHECK(sbuf_addf(out, "DAMAGED raw %llu decoded %llu: %s\n",
                            (unsigned long long)dm->raw_offset,
                            (unsigned long long)dm->decoded_offset, dm->what) == 0);
            continue;
        }
        if (st == INPUT_ERROR)
            CHECK(sbuf_addf(out, "ERROR %s\n", d.msg) == 0);
        else
            CHECK(sbuf_addf(out, "EOF at %llu\n", (unsigned long long)input_offset(in)) == 0);
        break;
    }
    input_close(in);
}

/* Read @path inline, then threaded with rings of several slot sizes and with several
 * chunk sizes: every record equals the inline one. Returns the inline record. */
static void same_both_ways(const char *path, uint64_t start_offset, uint64_t start_line,
                           struct sbuf *inline_rec)
{
    read_record(&(struct input_opts){ .path = path,
                                      .start_offset = start_offset,
                                      .start_line = start_line,
                                      .gz_mode = INPUT_GZ_INLINE },
                inline_rec);
    /* Ring slots of a few bytes cost a lock per few bytes: only with one chunk size. */
    static const struct {
        size_t slot, chunk;
    } runs[] = {
        { 3, 0 }, { 61, 7 }, { 61, 1000 }, { 4093, 0 }, { 4093, 7 }, { 0, 1000 }, { 0, 0 }
    };
    for (size_t i = 0; i < ARRAY_SIZE(runs); i++) {
        size_t slot = runs[i].slot, chunk = runs[i].chunk;
        struct sbuf rec;
        read_record(&(struct input_opts){ .path = path,
                                          .start_offset = start_offset,
                                          .start_line = start_line,
                                          .chunk_bytes = chunk,
                                          .gz_mode = INPUT_GZ_THREAD,
                                          .gz_slot_bytes = slot },
                    &rec);
        /* The inline read with the same chunk size, too. */
        struct sbuf rec2;
        read_record(&(struct input_opts){ .path = path,
                                          .start_offset = start_offset,
                                          .start_line = start_line,
                                          .chunk_bytes = chunk,
                                          .gz_mode = INPUT_GZ_INLINE },
                    &rec2);
        CHECK_MSG(rec.len == inline_rec->len && !memcmp(rec.buf, inline_rec->buf, rec.len),
                  "%s: slot %zu chunk %zu: threaded read differs", path, slot, chunk);
        CHECK_MSG(rec2.len == inline_rec->len && !memcmp(rec2.buf, inline_rec->buf, rec2.len),
                  "%s: chunk %zu: inline read differs", path, chunk);
        sbuf_release(&rec);
        sbuf_release(&rec2);
    }
}

/* Threads of this process (/proc/self/status). */
static int threads_count(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int n = -1;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "Threads: %d", &n) == 1)
            break;
    if (f)
        fclose(f);
    return n;
}

/* The process's threads once the count is @want, or after 2 s the count then. The kernel
 * counts a thread until it has left do_exit(), a little after pthread_join() returned:
 * on a loaded machine a count taken at once still saw the joined thread. */
static int threads_now_is(int want)
{
    int n = threads_count();
    for (int i = 0; i < 10000 && n != want; i++) { /* up to 10 s on a loaded machine */
        nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
        n = threads_count();
    }
    return n;
}

/* The count to compare with: the main thread alone, once the decoder threads of earlier
 * inputs have ended (one still finishing when a test began made its count one too many,
 * and the test waited in vain for it to go back down). */
static int threads_at_rest(void)
{
    return threads_now_is(1);
}

static void test_members_identical(void)
{
    struct sbuf data = SBUF_INIT;
    make_text(&data, 1500, 300);
    const char *gz = tmp_path("members.gz");
    write_members(gz, &data, 9);
    struct sbuf rec;
    same_both_ways(gz, 0, 0, &rec);
    /* The inline record is right: the text is the original's, no damage. */
    CHECK(strstr(rec.buf, "DAMAGED") == NULL);
    char last[64];
    snprintf(last, sizeof(last), "EOF at %zu\n", data.len);
    CHECK_MSG(rec.len > strlen(last) && !strcmp(rec.buf + rec.len - strlen(last), last), "%s",
              rec.buf + (rec.len > 64 ? rec.len - 64 : 0));
    sbuf_release(&rec);
    sbuf_release(&data);
}

static void test_damage_identical(void)
{
    struct sbuf data = SBUF_INIT;
    make_text(&data, 3000, 200);
    const char *gz = tmp_path("damage.gz");
    write_members(gz, &data, 3);
    size_t n;
    unsigned char *raw = slurp_file(gz, &n);
    const char *bad = tmp_path("bad.gz");

    /* Corrupt bytes at a third, half and two thirds of the file. */
    for (int k = 1; k <= 3; k++) {
        unsigned char *copy = malloc(n);
        memcpy(copy, raw, n);
        memset(copy + n * (size_t)k / 4, 0xff, 16);
        write_file(bad, copy, n);
        free(copy);
        struct sbuf rec;
        same_both_ways(bad, 0, 0, &rec);
        CHECK_MSG(strstr(rec.buf, "DAMAGED") != NULL && strstr(rec.buf, "corrupt gzip data"),
                  "corrupt at %d/4: no damage report", k);
        CHECK(rec.buf[0] == '1'); /* lines before the damage came out */
        sbuf_release(&rec);
    }
    /* Truncated at several places, one of them inside the header. */
    for (size_t at = 5; at < n; at += n / 5) {
        write_file(bad, raw, at);
        struct sbuf rec;
        same_both_ways(bad, 0, 0, &rec);
        char want[96];
        snprintf(want, sizeof(want), "DAMAGED raw %zu ", at);
        CHECK_MSG(strstr(rec.buf, want) && strstr(rec.buf, "truncated gzip data"), "cut at %zu: %s",
                  at, rec.buf + (rec.len > 80 ? rec.len - 80 : 0));
        sbuf_release(&rec);
    }
    /* Garbage after the last member. */
    unsigned char *copy = malloc(n + 4);
    memcpy(copy, raw, n);
    memcpy(copy + n, "junk", 4);
    write_file(bad, copy, n + 4);
    free(copy);
    struct sbuf rec;
    same_both_ways(bad, 0, 0, &rec);
    CHECK(strstr(rec.buf, "trailing garbage") != NULL);
    sbuf_release(&rec);
    free(raw);
    sbuf_release(&data);
}

static void test_resume_identical(void)
{
    struct sbuf data = SBUF_INIT;
    make_text(&data, 800, 120);
    const char *gz = tmp_path("resume.gz");
    write_members(gz, &data, 5);
    struct sbuf full;
    read_record(&(struct input_opts){ .path = gz, .gz_mode = INPUT_GZ_INLINE }, &full);
    /* Resume at the start of lines 2, 100, 400 and the last one: the records are the
     * tail of the full read, both ways. */
    static const int at_line[] = { 2, 100, 400, 800 };
    for (size_t i = 0; i < ARRAY_SIZE(at_line); i++) {
        char key[32];
        snprintf(key, sizeof(key), "\n%d ", at_line[i]);
        const char *p = strstr(full.buf, key);
        CHECK(p != NULL);
        if (!p)
            continue;
        unsigned long long off;
        CHECK(sscanf(p + 1, "%*d %llu", &off) == 1);
        struct sbuf rec;
        same_both_ways(gz, off, (uint64_t)at_line[i], &rec);
        CHECK_MSG(!strcmp(rec.buf, p + 1), "resume at line %d differs from the full read",
                  at_line[i]);
        sbuf_release(&rec);
    }
    /* Past the end: nothing, both ways. */
    struct sbuf rec;
    same_both_ways(gz, data.len + 10, 900, &rec);
    CHECK(!strncmp(rec.buf, "EOF", 3));
    sbuf_release(&rec);
    sbuf_release(&full);
    sbuf_release(&data);
}

static void test_close_early(void)
{
    struct sbuf data = SBUF_INIT;
    make_text(&data, 2000, 200);
    const char *gz = tmp_path("close.gz");
    write_members(gz, &data, 2);
    int base = threads_at_rest();
    CHECK(base >= 1);

    /* After the first line: the decoder thread is waiting on a full ring of small slots;
     * input_close() stops and joins it. The reader takes 4 KiB at a time: with the
     * default read size, gzthread_read() goes on taking slots for as long as the thread
     * keeps up, so the first read could take the whole file and the thread end before it
     * is counted (seen once in CI). */
    CHECK(data.len > 8 * SIFT_GZ_RING_SLOTS * 4096);
    struct diag d = DIAG_INIT;
    struct input_line ln;
    struct input *in = input_open(
        &(struct input_opts){
            .path = gz, .gz_mode = INPUT_GZ_THREAD, .gz_slot_bytes = 4096, .chunk_bytes = 4096 },
        &d);
    CHECK(in && input_next(in, &ln, &d) == INPUT_LINE);
    CHECK_EQ_U64(ln.line, 1);
    CHECK_EQ_INT(threads_now_is(base + 1), base + 1);
    input_close(in);
    CHECK_EQ_INT(threads_now_is(base), base);

    /* Opened, never read: no thread yet (gzip is detected on the first read). */
    in = input_open(&(struct input_opts){ .path = gz, .gz_mode = INPUT_GZ_THREAD }, &d);
    CHECK(in != NULL);
    CHECK_EQ_INT(threads_now_is(base), base);
    input_close(in);

    /* Mid-file with the default ring, repeatedly: no thread or memory left behind. */
    for (int k = 0; k < 20; k++) {
        in = input_open(&(struct input_opts){ .path = gz, .gz_mode = INPUT_GZ_THREAD }, &d);
        for (int i = 0; i < k * 50; i++)
            CHECK(input_next(in, &ln, &d) == INPUT_LINE);
        input_close(in);
    }
    CHECK_EQ_INT(threads_now_is(base), base);

    /* Read to the end, then close: the thread that already returned is joined. */
    in = input_open(&(struct input_opts){ .path = gz, .gz_mode = INPUT_GZ_THREAD }, &d);
    while (input_next(in, &ln, &d) == INPUT_LINE)
        ;
    input_close(in);
    CHECK_EQ_INT(threads_now_is(base), base);
    sbuf_release(&data);
}

/* Threads run for regular .gz files of SIFT_GZ_THREAD_MIN_RAW compressed bytes or more,
 * unless SIFT_GZ_THREAD says otherwise; plain files never get one. */
static void test_auto_and_env(void)
{
    struct sbuf small = SBUF_INIT, big = SBUF_INIT;
    make_text(&small, 50, 80);
    make_text(&big, 4000, 200);
    const char *sgz = tmp_path("small.gz"), *bgz = tmp_path("big.gz"), *plain = tmp_path("p.log");
    write_members(sgz, &small, 1);
    write_members(bgz, &big, 1);
    write_file(plain, big.buf, big.len);
    struct stat st;
    CHECK(stat(bgz, &st) == 0 && (uint64_t)st.st_size >= 2 * SIFT_GZ_THREAD_MIN_RAW);
    CHECK(stat(sgz, &st) == 0 && (uint64_t)st.st_size < SIFT_GZ_THREAD_MIN_RAW);
    int base = threads_at_rest();

    static const struct {
        const char *env;
        bool small, big;
    } want[] = { { NULL, false, true }, { "0", false, false }, { "1", true, true } };
    for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
        if (want[i].env)
            setenv("SIFT_GZ_THREAD", want[i].env, 1);
        else
            unsetenv("SIFT_GZ_THREAD");
        const char *paths[] = { sgz, bgz, plain };
        bool threaded[] = { want[i].small, want[i].big, false };
        for (int k = 0; k < 3; k++) {
            struct diag d = DIAG_INIT;
            struct input_line ln;
            struct input *in =
                input_open(&(struct input_opts){ .path = paths[k], .gz_slot_bytes = 4096 }, &d);
            CHECK(in && input_next(in, &ln, &d) == INPUT_LINE);
            /* A small ring: the thread of the big file is still waiting on it. The small
             * file's thread may have finished already: only count the others. */
            if (k > 0)
                CHECK_MSG(threads_now_is(base + threaded[k]) == base + threaded[k], "env %s, %s",
                          want[i].env ? want[i].env : "unset", paths[k]);
            input_close(in);
        }
        /* input_hash_range() reads through the same path. */
        struct diag d = DIAG_INIT;
        uint64_t h1, h2, g1, g2;
        CHECK(input_hash_range(bgz, 1000, big.len - 5, &h1, &g1, &d) == 0);
        CHECK(input_hash_range(plain, 1000, big.len - 5, &h2, &g2, &d) == 0);
        CHECK_EQ_U64(h1, h2);
        CHECK_EQ_U64(g1, big.len - 1005);
        CHECK_EQ_U64(g1, g2);
    }
    unsetenv("SIFT_GZ_THREAD");
    CHECK_EQ_INT(threads_now_is(base), base);
    sbuf_release(&small);
    sbuf_release(&big);
}

/* read() fails (EISDIR) once the bytes handed to the decoder are used up: both ways give
 * every byte decoded from them, then the same error. */
static void test_read_error(void)
{
    struct sbuf data = SBUF_INIT;
    make_text(&data, 3000, 200);
    const char *gz = tmp_path("err.gz");
    write_members(gz, &data, 1);
    size_t n;
    unsigned char *raw = slurp_file(gz, &n);
    size_t first = n / 2 < GZDEC_READ_BYTES ? n / 2 : GZDEC_READ_BYTES;
    int dirfd = open(tmpdir, O_RDONLY | O_DIRECTORY);
    CHECK(dirfd >= 0);
    struct sbuf out[2];
    char msg[2][DIAG_MSG_MAX];
    for (int k = 0; k < 2; k++) {
        struct diag d = DIAG_INIT;
        sbuf_init(&out[k], 0);
        struct gzdec *g = gzdec_new(dirfd, "err.gz", raw, first, &d);
        CHECK(g != NULL);
        struct gzthread *t = k ? gzthread_start(g, 2, 1000) : NULL;
        CHECK(!k || t != NULL);
        enum gzdec_state end = GZDEC_MORE;
        unsigned char buf[777];
        while (end == GZDEC_MORE) {
            size_t got;
            if (t) {
                got = gzthread_read(t, buf, sizeof(buf), &end);
            } else {
                got = gzdec_decode(g, buf, sizeof(buf), sizeof(buf));
                end = g->state;
            }
            CHECK(sbuf_add(&out[k], buf, got) == 0);
        }
        CHECK_EQ_INT(end, GZDEC_ERROR);
        const struct gzdec *dg = t ? gzthread_decoder(t) : g;
        snprintf(msg[k], sizeof(msg[k]), "%s", dg->err.msg);
        CHECK_EQ_INT(dg->err.kind, DIAG_IO);
        if (t)
            gzthread_stop(t);
        else
            gzdec_free(g);
    }
    CHECK_MSG(strstr(msg[0], "cannot read 'err.gz'") != NULL, "%s", msg[0]);
    CHECK_EQ_STR(msg[1], msg[0]);
    CHECK(out[0].len > 1000 && out[0].len < data.len);
    CHECK(out[1].len == out[0].len && !memcmp(out[1].buf, out[0].buf, out[0].len));
    CHECK(!memcmp(out[0].buf, data.buf, out[0].len));
    close(dirfd);
    sbuf_release(&out[0]);
    sbuf_release(&out[1]);
    free(raw);
    sbuf_release(&data);
}

/* Last: every file a test made is removed (rmdir fails on leftovers). */
/* input_opts.read_ahead: a plain regular file read on the decoder thread gives the same
 * lines, offsets and end as read here, from the start and resumed, holding a partial
 * last line or not, with rings of small and default slots; the thread is there while
 * reading and gone after close, also when closed mid-file. */
static void test_plain_read_ahead(void)
{
    struct sbuf data = SBUF_INIT;
    make_text(&data, 1200, 250);
    CHECK(sbuf_addstr(&data, "a last line without newline") == 0);
    const char *path = tmp_path("plain.log");
    write_file(path, data.buf, data.len);
    static const size_t slots[] = { 5, 4093, 0 };
    static const size_t chunks[] = { 7, 0 };
    static const uint64_t from[] = { 0, 1, 7777 };
    for (size_t h = 0; h < 2; h++)
        for (size_t f = 0; f < ARRAY_SIZE(from); f++) {
            struct sbuf want;
            /* Resuming needs the start of a line: take the one after @from. */
            uint64_t off = 0, line = 0;
            if (from[f]) {
                const char *nl = memchr(data.buf + from[f], '\n', data.len - from[f]);
                CHECK(nl != NULL);
                off = (uint64_t)(nl + 1 - data.buf);
                line = 1;
                for (const char *q = data.buf; q < nl; q++)
                    line += *q == '\n';
                line++;
            }
            read_record(
                &(struct input_opts){
                    .path = path, .start_offset = off, .start_line = line, .hold_partial = h },
                &want);
            CHECK(want.len > 1000);
            for (size_t i = 0; i < ARRAY_SIZE(slots); i++)
                for (size_t c = 0; c < ARRAY_SIZE(chunks); c++) {
                    struct sbuf got;
                    read_record(&(struct input_opts){ .path = path,
                                                      .start_offset = off,
                                                      .start_line = line,
                                                      .hold_partial = h,
                                                      .read_ahead = true,
                                                      .chunk_bytes = chunks[c],
                                                      .gz_slot_bytes = slots[i] },
                                &got);
                    CHECK_MSG(got.len == want.len && !memcmp(got.buf, want.buf, got.len),
                              "read ahead (slot %zu, chunk %zu, from %llu, hold %zu) differs",
                              slots[i], chunks[c], (unsigned long long)off, h);
                    sbuf_release(&got);
                }
            sbuf_release(&want);
        }

    /* The reader takes 4 KiB at a time, so after one line the thread is still there,
     * waiting for room in its ring of 4 KiB slots (the file is much longer): with the
     * default read size the reader could take the whole file at once and the thread end
     * before it is counted. */
    CHECK(data.len > 8 * SIFT_GZ_RING_SLOTS * 4096);
    int base = threads_at_rest();
    struct diag d = DIAG_INIT;
    struct input_line ln;
    struct input *in = input_open(
        &(struct input_opts){
            .path = path, .read_ahead = true, .gz_slot_bytes = 4096, .chunk_bytes = 4096 },
        &d);
    CHECK(in && input_next(in, &ln, &d) == INPUT_LINE);
    CHECK_EQ_INT(threads_now_is(base + 1), base + 1);
    input_close(in);
    CHECK_EQ_INT(threads_now_is(base), base);
    /* Without the option, no thread. */
    in = input_open(&(struct input_opts){ .path = path }, &d);
    CHECK(in && input_next(in, &ln, &d) == INPUT_LINE);
    CHECK_EQ_INT(threads_now_is(base), base);
    input_close(in);
    sbuf_release(&data);
}

static void test_zz_cleanup(void)
{
    static const char *names[] = { "members.gz", "damage.gz", "bad.gz", "resume.gz", "close.gz",
                                   "small.gz",   "big.gz",    "p.log",  "err.gz",    "plain.log" };
    for (size_t i = 0; i < ARRAY_SIZE(names); i++)
        unlink(tmp_path(names[i]));
    CHECK(rmdir(tmpdir) == 0);
}

TEST_LIST = {
    { "plain_read_ahead", test_plain_read_ahead },
    { "members_identical", test_members_identical },
    { "damage_identical", test_damage_identical },
    { "resume_identical", test_resume_identical },
    { "close_early", test_close_early },
    { "auto_and_env", test_auto_and_env },
    { "read_error", test_read_error },
    { "zz_cleanup", test_zz_cleanup },
    { NULL, NULL },
};
