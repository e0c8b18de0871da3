/* SPDX-License-Identifier: MIT */
/*
 * input_map: a plain file read through a mapping (input_opts.map) gives exactly what
 * read() gives - lines, numbers, offsets, partial and over-long lines, '\r', the
 * look-ahead bytes, hints and consumed lines - on random files at every resume offset;
 * a file that grows while mapped is read on; a file truncated under the mapping makes
 * input_next() fail with a clear message (no SIGBUS death), with no byte that is not
 * the file's handed out; a SIGBUS outside any input's mapping still kills.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "rng.h"
#define TMPFILES_TEMPLATE "/tmp/sift-inmap.XXXXXX"
#include "tmpfiles.h"
#include "core/limits.h"
#include "core/sbuf.h"
#include "input/input.h"

/* Random lines: empty ones, "\r\n" endings, and (when @tail) a last line without "\n". */
static void make_random(struct sbuf *s, size_t lines, uint32_t maxlen, bool tail)
{
    sbuf_reset(s);
    for (size_t i = 0; i < lines; i++) {
        uint32_t n = rnd(4) == 0 ? 0 : rnd(maxlen);
        for (uint32_t k = 0; k < n; k++)
            CHECK(sbuf_addch(s, (char)('a' + rnd(26))) == 0);
        if (rnd(5) == 0)
            CHECK(sbuf_addch(s, '\r') == 0);
        CHECK(sbuf_addch(s, '\n') == 0);
    }
    if (tail)
        for (uint32_t k = 1 + rnd(maxlen); k; k--)
            CHECK(sbuf_addch(s, rnd(9) ? 'x' : '\r') == 0);
}

/* Read the file both ways in lock step, doing the same hints and consumes (decided on
 * the bytes both inputs show ahead), and compare everything. Returns the number of the
 * last line read. */
static uint64_t same_both_ways(const char *path, const struct sbuf *data, uint64_t off,
                               uint64_t line, bool hold, size_t chunk)
{
    struct diag d = DIAG_INIT;
    struct input_opts o = { .path = path,
                            .start_offset = off,
                            .start_line = line,
                            .hold_partial = hold,
                            .chunk_bytes = chunk };
    struct input *a = input_open(&o, &d);
    o.map = true;
    o.chunk_bytes = 0;
    struct input *b = input_open(&o, &d);
    uint64_t n = 0;
    if (!CHECK(a && b)) {
        input_close(a);
        input_close(b);
        return 0;
    }
    CHECK(!input_mapped(a));
    CHECK(input_mapped(b) == (off < data->len));
    for (;;) {
        struct input_line la, lb;
        enum input_status sa = input_next(a, &la, &d), sb = input_next(b, &lb, &d);
        CHECK_EQ_INT(sb, sa);
        if (sa != INPUT_LINE || sb != INPUT_LINE)
            break;
        n = la.line; /* the lines covered so far, consumed ones included */
        CHECK(lb.text.len == la.text.len && !memcmp(lb.text.p, la.text.p, la.text.len));
        CHECK_EQ_U64(lb.line, la.line);
        CHECK_EQ_U64(lb.offset, la.offset);
        CHECK_EQ_U64(lb.end, la.end);
        CHECK(lb.partial == la.partial && lb.truncated == la.truncated);
        CHECK_EQ_U64(input_offset(b), input_offset(a));
        /* The bytes ahead: the file's from the line's end (the mapped input may show
         * more, up to INPUT_MAP_AHEAD_BYTES). */
        struct span xa = input_ahead(a), xb = input_ahead(b);
        CHECK(xb.len <= INPUT_MAP_AHEAD_BYTES);
        CHECK(xb.len >= xa.len || xb.len == INPUT_MAP_AHEAD_BYTES);
        size_t m = xa.len < xb.len ? xa.len : xb.len;
        CHECK(la.end + m <= data->len && !memcmp(xa.p, data->buf + la.end, m) &&
              !memcmp(xb.p, data->buf + la.end, m));
        const char *nl = m ? memchr(xa.p, '\n', m) : NULL;
        uint32_t op = rnd(4);
        if (nl && op == 0) {
            /* the parser's hint: the next line's length */
            input_hint_line(a, xa.p, (size_t)(nl - xa.p));
            input_hint_line(b, xb.p, (size_t)(nl - xa.p));
        } else if (nl && op == 1) {
            /* the parser took whole lines from ahead */
            size_t bytes = 0;
            uint64_t k = 0;
            for (const char *q = xa.p; k < 1 + rnd(3);) {
                const char *e = memchr(q, '\n', m - (size_t)(q - xa.p));
                if (!e)
                    break;
                k++;
                bytes = (size_t)(e - xa.p) + 1;
                q = e + 1;
            }
            input_consume(a, bytes, k);
            input_consume(b, bytes, k);
            n += k;
        } else if (nl && op == 2) {
            input_hint_line(a, xa.p + 1, (size_t)(nl - xa.p) - 1); /* not at the start: */
            input_hint_line(b, xb.p + 1, (size_t)(nl - xa.p) - 1); /* ignored */
        }
    }
    CHECK(!input_truncated(b));
    input_close(a);
    input_close(b);
    return n;
}

static void test_random_every_offset(void)
{
    struct sbuf s = SBUF_INIT;
    const char *path = tmp_path("random.log");
    for (int round = 0; round < 12; round++) {
        bool tail = round % 2;
        make_random(&s, 200 + rnd(400), round < 6 ? 80 : 9000, tail);
        write_file(path, s.buf, s.len);
        /* every line start (the resume points a store saves), with its line number */
        uint64_t line = 1;
        for (size_t off = 0; off < s.len;) {
            bool hold = rnd(2);
            same_both_ways(path, &s, off, line, hold, 64 + rnd(5000));
            const char *nl = memchr(s.buf + off, '\n', s.len - off);
            if (!nl)
                break;
            off = (size_t)(nl - s.buf) + 1;
            line++;
        }
        same_both_ways(path, &s, s.len, line, false, 0); /* at the end: read(), EOF */
    }
    /* a file over the look-ahead cap, read whole */
    make_random(&s, 60000, 120, true);
    write_file(path, s.buf, s.len);
    CHECK(same_both_ways(path, &s, 0, 1, false, 0) == 60001);
    CHECK(same_both_ways(path, &s, 3 * 4096 + 7, 1, true, 0) > 0);
    sbuf_release(&s);
    unlink(path);
}

static void test_long_lines(void)
{
    /* lines of MAX - 1, MAX, MAX + 1 (+ "\r"), MAX + 5000 bytes, short ones between,
     * and an over-long last line without "\n" */
    struct sbuf s = SBUF_INIT;
    const size_t M = SIFT_MAX_LINE_BYTES;
    size_t lens[] = { M - 1, M, M + 1, 3, M + 5000 };
    CHECK(sbuf_addstr(&s, "first\n") == 0);
    for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
        size_t at = s.len;
        CHECK(sbuf_grow(&s, lens[i] + 2) == 0);
        memset(s.buf + at, 'a' + (int)i, lens[i]);
        sbuf_setlen(&s, at + lens[i]);
        if (i == 2)
            s.buf[s.len - 1] = '\r';
        CHECK(sbuf_addstr(&s, "\nshort\n") == 0);
    }
    size_t at = s.len;
    CHECK(sbuf_grow(&s, M + 10) == 0);
    memset(s.buf + at, 'z', M + 10);
    sbuf_setlen(&s, at + M + 10);
    const char *path = tmp_path("long.log");
    write_file(path, s.buf, s.len);
    CHECK_EQ_INT(same_both_ways(path, &s, 0, 1, false, 0), 12);
    CHECK_EQ_INT(same_both_ways(path, &s, 0, 1, true, 0), 12); /* (over-long: returned) */
    CHECK_EQ_INT(same_both_ways(path, &s, 6 + M, 3, false, 0), 12);
    sbuf_release(&s);
    unlink(path);
}

/* Lines appended while mapped (the line at the end completed): read on, as read() would. */
static void test_grow(void)
{
    const char *path = tmp_path("grow.log");
    struct sbuf s = SBUF_INIT;
    make_random(&s, 3000, 200, false);
    CHECK(sbuf_addstr(&s, "half a li") == 0);
    write_file(path, s.buf, s.len);
    struct diag d = DIAG_INIT;
    struct input *in =
        input_open(&(struct input_opts){ .path = path, .map = true, .hold_partial = true }, &d);
    CHECK(in && input_mapped(in));
    struct input_line ln;
    for (int i = 0; i < 2990; i++)
        CHECK_EQ_INT(input_next(in, &ln, &d), INPUT_LINE);
    int fd = open(path, O_WRONLY | O_APPEND);
    CHECK(fd >= 0);
    const char more[] = "ne\nand another\nheld";
    CHECK(write(fd, more, sizeof(more) - 1) == (ssize_t)sizeof(more) - 1);
    close(fd);
    for (int i = 0; i < 10; i++)
        CHECK_EQ_INT(input_next(in, &ln, &d), INPUT_LINE);
    CHECK_EQ_INT(input_next(in, &ln, &d), INPUT_LINE);
    CHECK_EQ_SPAN(ln.text, "half a line");
    CHECK_EQ_U64(ln.offset, s.len - 9);
    CHECK_EQ_INT(input_next(in, &ln, &d), INPUT_LINE);
    CHECK_EQ_SPAN(ln.text, "and another");
    CHECK_EQ_INT(input_next(in, &ln, &d), INPUT_EOF); /* "held": hold_partial */
    CHECK_EQ_U64(input_offset(in), s.len - 9 + 12 + 12);
    input_close(in);
    sbuf_release(&s);
    unlink(path);
}

/* Truncated to @cut after reading @before lines (the access past the end may come from
 * input_next() or from a look at input_ahead()): an error, not a crash, and no line
 * holds a byte that is not the file's. */
static void truncated_case(size_t cut, int before, bool touch_ahead)
{
    const char *path = tmp_path("cut.log");
    struct sbuf s = SBUF_INIT;
    make_random(&s, 60000, 150, false); /* ~4.5 MB */
    write_file(path, s.buf, s.len);
    struct diag d = DIAG_INIT;
    struct input *in = input_open(&(struct input_opts){ .path = path, .map = true }, &d);
    CHECK(in && input_mapped(in));
    struct input_line ln;
    for (int i = 0; i < before; i++)
        CHECK_EQ_INT(input_next(in, &ln, &d), INPUT_LINE);
    CHECK(truncate(path, (off_t)cut) == 0);
    if (touch_ahead) {
        /* what the parser's look-ahead does: read every byte ahead */
        struct span x = input_ahead(in);
        unsigned sum = 0;
        for (size_t i = 0; i < x.len; i += 512)
            sum += (unsigned char)x.p[i];
        CHECK(sum < ~0u);
    }
    enum input_status st;
    uint64_t lines = 0;
    while ((st = input_next(in, &ln, &d)) == INPUT_LINE) {
        lines++;
        CHECK(ln.end <= cut && !ln.partial);
        CHECK(!memchr(ln.text.p, 0, ln.text.len));
        CHECK(!memcmp(ln.text.p, s.buf + ln.offset, ln.text.len));
    }
    CHECK_EQ_INT(st, INPUT_ERROR);
    CHECK_MSG(strstr(d.msg, "shrank while being read") && strstr(d.msg, "cut.log"), "%s", d.msg);
    CHECK(input_truncated(in));
    diag_clear(&d);
    CHECK_EQ_INT(input_next(in, &ln, &d), INPUT_ERROR); /* sticky */
    diag_clear(&d);
    input_close(in);
    sbuf_release(&s);
    unlink(path);
}

static void test_truncated(void)
{
    truncated_case(2 * 1000 * 1000 + 123, 100, false); /* SIGBUS in input_next() */
    truncated_case(3 * 1000 * 1000, 10, true);         /* SIGBUS in the look-ahead */
    truncated_case(0, 5, false);
    truncated_case(4096 * 3, 5, false); /* on a page boundary */
}

/* The parser took lines ahead (parser_feed_ahead()), then the file was cut before the
 * input consumed them: their bytes read as zeros now. No abort: nothing is consumed and
 * the input fails as for any truncation (seen with -j 2 in parts, where the file is cut
 * by another thread while a worker is between the two steps). */
static void test_truncated_before_consume(void)
{
    const char *path = tmp_path("cutconsume.log");
    struct sbuf s = SBUF_INIT;
    make_random(&s, 60000, 150, false);
    write_file(path, s.buf, s.len);
    struct diag d = DIAG_INIT;
    struct input *in = input_open(&(struct input_opts){ .path = path, .map = true }, &d);
    CHECK(in && input_mapped(in));
    struct input_line ln;
    for (int i = 0; i < 10; i++)
        CHECK_EQ_INT(input_next(in, &ln, &d), INPUT_LINE);
    struct span x = input_ahead(in);
    const char *nl = memchr(x.p + 20000, '\n', x.len - 20000); /* a few pages ahead */
    CHECK(nl != NULL);
    size_t bytes = (size_t)(nl - x.p) + 1;
    CHECK(truncate(path, (off_t)(ln.end + 100)) == 0);
    input_consume(in, bytes, 7);
    CHECK(input_truncated(in));
    CHECK_EQ_INT(input_next(in, &ln, &d), INPUT_ERROR);
    CHECK_MSG(strstr(d.msg, "shrank while being read") != NULL, "%s", d.msg);
    diag_clear(&d);
    input_close(in);
    sbuf_release(&s);
    unlink(path);
}

/* The file shrinks within its last page: the read reaches the end of the mapping and
 * finds the file shorter (no fault: the page's tail reads as zeros). */
static void test_truncated_last_page(void)
{
    const char *path = tmp_path("cutend.log");
    struct sbuf s = SBUF_INIT;
    make_random(&s, 20000, 100, false);
    write_file(path, s.buf, s.len);
    struct diag d = DIAG_INIT;
    struct input *in = input_open(&(struct input_opts){ .path = path, .map = true }, &d);
    CHECK(in && input_mapped(in));
    CHECK(truncate(path, (off_t)(s.len - 3)) == 0);
    struct input_line ln;
    enum input_status st;
    while ((st = input_next(in, &ln, &d)) == INPUT_LINE)
        CHECK(!memchr(ln.text.p, 0, ln.text.len) && !ln.partial);
    CHECK_EQ_INT(st, INPUT_ERROR);
    CHECK_MSG(strstr(d.msg, "shrank") != NULL, "%s", d.msg);
    CHECK(input_truncated(in));
    input_close(in);
    sbuf_release(&s);
    unlink(path);
}

/* A SIGBUS that is not about an input's mapping still ends the process (the handler
 * is installed: an input was mapped in this process before). */
static void test_other_sigbus_kills(void)
{
    const char *path = tmp_path("other.bin");
    char page[8192] = { 1 };
    write_file(path, page, sizeof(page));
    struct diag d = DIAG_INIT;
    struct input *in = input_open(&(struct input_opts){ .path = path, .map = true }, &d);
    CHECK(in && input_mapped(in));
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 2); /* (ASan, if its handler comes first, reports it) */
        int fd = open(path, O_RDWR);
        volatile char *p = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
        if (ftruncate(fd, 0) != 0)
            _exit(3);
        char c = p[4096]; /* SIGBUS */
        _exit(c == 99 ? 4 : 0);
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    /* killed by SIGBUS, or (ASan's handler before ours) a reported error: abort() or an
     * error exit - never on past the access */
    CHECK_MSG(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0 &&
                                      WEXITSTATUS(status) != 3 && WEXITSTATUS(status) != 4),
              "status %d", status);
    input_close(in);
    unlink(path);
}

/* SIFT_NO_MMAP=1 turns the mapping off; gzip data and small resumes past the end are
 * read(). */
static void test_off_switch(void)
{
    const char *path = tmp_path("off.log");
    write_file(path, "a\nb\n", 4);
    struct diag d = DIAG_INIT;
    setenv("SIFT_NO_MMAP", "1", 1);
    struct input *in = input_open(&(struct input_opts){ .path = path, .map = true }, &d);
    CHECK(in && !input_mapped(in));
    input_close(in);
    unsetenv("SIFT_NO_MMAP");
    in = input_open(&(struct input_opts){ .path = path, .map = true, .start_offset = 9 }, &d);
    CHECK(in && !input_mapped(in));
    input_close(in);
    unlink(path);
    const char *gz = tmp_path("off.log.gz");
    unlink(gz);
    gz_append(gz, "a\nb\n", 4);
    in = input_open(&(struct input_opts){ .path = gz, .map = true }, &d);
    CHECK(in && !input_mapped(in));
    struct input_line ln;
    CHECK_EQ_INT(input_next(in, &ln, &d), INPUT_LINE);
    CHECK_EQ_SPAN(ln.text, "a");
    input_close(in);
    unlink(gz);
}

static void test_zz_cleanup(void)
{
    CHECK(rmdir(tmpdir) == 0);
}

TEST_LIST = {
    { "random_every_offset", test_random_every_offset },
    { "long_lines", test_long_lines },
    { "grow", test_grow },
    { "truncated", test_truncated },
    { "truncated_before_consume", test_truncated_before_consume },
    { "truncated_last_page", test_truncated_last_page },
    { "other_sigbus_kills", test_other_sigbus_kills },
    { "off_switch", test_off_switch },
    { "zz_cleanup", test_zz_cleanup },
    { NULL, NULL },
};
