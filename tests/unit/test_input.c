/* SPDX-License-Identifier: MIT */
/*
 * input: lines across chunk boundaries, offsets and line numbers, CR/LF, partial last
 * lines, resume at a saved offset (plain and gzip), multi-member gzip, truncated and
 * corrupt gzip (lines before the damage kept, damage reported with offsets), lines over
 * SIFT_MAX_LINE_BYTES, identity and the XXH3 range hash.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "check.h"
#define TMPFILES_TEMPLATE "/tmp/sift-input.XXXXXX"
#include "tmpfiles.h"
#include "core/limits.h"
#include "core/sbuf.h"
#include "input/input.h"

struct got {
    struct sbuf text; /* lines joined with '\n', and "|" after partial ones */
    uint64_t lines;
    uint64_t last_end;
    bool damaged;
    struct input_damage damage;
};

/* Read the whole input; check line numbers and offsets are contiguous. */
static int read_all(const struct input_opts *o, struct got *g)
{
    struct diag d = DIAG_INIT;
    struct input *in = input_open(o, &d);
    struct input_line ln;
    uint64_t want_line = o->start_line ? o->start_line : 1, want_off = o->start_offset;

    sbuf_init(&g->text, 0);
    g->lines = 0;
    g->damaged = false;
    if (!in) {
        fprintf(stderr, "%s\n", d.msg);
        return -1;
    }
    for (;;) {
        enum input_status st = input_next(in, &ln, &d);
        if (st == INPUT_LINE) {
            CHECK_EQ_U64(ln.line, want_line);
            CHECK_EQ_U64(ln.offset, want_off);
            CHECK(ln.end > ln.offset);
            want_line++;
            want_off = ln.end;
            g->lines++;
            g->last_end = ln.end;
            CHECK(sbuf_add(&g->text, ln.text.p, ln.text.len) == 0);
            CHECK(sbuf_addstr(&g->text, ln.partial ? "|" : "\n") == 0);
            CHECK_EQ_U64(input_offset(in), ln.end);
            continue;
        }
        if (st == INPUT_DAMAGED) {
            g->damaged = true;
            g->damage = *input_damage(in);
            continue;
        }
        CHECK(st == INPUT_EOF);
        break;
    }
    input_close(in);
    return 0;
}

static void test_chunk_boundaries(void)
{
    /* Lines of every length 0..40 read with tiny chunks: every line crosses a boundary
     * somewhere. */
    struct sbuf data = SBUF_INIT;
    for (int len = 0; len <= 40; len++) {
        for (int i = 0; i < len; i++)
            CHECK(sbuf_addch(&data, (char)('a' + (len + i) % 26)) == 0);
        CHECK(sbuf_addch(&data, '\n') == 0);
    }
    const char *path = tmp_path("chunks.log");
    write_file(path, data.buf, data.len);
    for (size_t chunk = 1; chunk <= 17; chunk += 4) {
        struct got g;
        CHECK(read_all(&(struct input_opts){ .path = path, .chunk_bytes = chunk }, &g) == 0);
        CHECK_EQ_U64(g.lines, 41);
        CHECK_EQ_U64(g.last_end, data.len);
        CHECK_EQ_STR(g.text.buf, data.buf);
        sbuf_release(&g.text);
    }
    sbuf_release(&data);
}

static void test_crlf_partial_empty(void)
{
    const char *path = tmp_path("crlf.log");
    write_file(path, "a\r\nb\n\nlast", 10);
    struct got g;
    CHECK(read_all(&(struct input_opts){ .path = path }, &g) == 0);
    CHECK_EQ_STR(g.text.buf, "a\nb\n\nlast|");
    CHECK_EQ_U64(g.lines, 4);
    CHECK_EQ_U64(g.last_end, 10);
    sbuf_release(&g.text);

    /* hold_partial: a live file's unfinished last line is not returned. */
    CHECK(read_all(&(struct input_opts){ .path = path, .hold_partial = true }, &g) == 0);
    CHECK_EQ_STR(g.text.buf, "a\nb\n\n");
    sbuf_release(&g.text);

    const char *empty = tmp_path("empty.log");
    write_file(empty, "", 0);
    CHECK(read_all(&(struct input_opts){ .path = empty }, &g) == 0);
    CHECK_EQ_U64(g.lines, 0);
    sbuf_release(&g.text);
}

static void test_resume_offset(void)
{
    static const char data[] = "one\ntwo\nthree\nfour\n";
    const char *path = tmp_path("resume.log");
    const char *gz = tmp_path("resume.log.gz");
    write_file(path, data, sizeof(data) - 1);
    unlink(gz);
    gz_append(gz, data, 8); /* two members: the resume point is in the second */
    gz_append(gz, data + 8, sizeof(data) - 1 - 8);
    for (int k = 0; k < 2; k++) {
        struct got g;
        CHECK(read_all(
                  &(struct input_opts){
                      .path = k ? gz : path, .start_offset = 8, .start_line = 3, .chunk_bytes = 3 },
                  &g) == 0);
        CHECK_EQ_STR(g.text.buf, "three\nfour\n");
        CHECK_EQ_U64(g.lines, 2);
        sbuf_release(&g.text);
    }
    /* Past the end: nothing (the caller compares sizes to detect truncation). */
    struct got g;
    CHECK(read_all(&(struct input_opts){ .path = path, .start_offset = 1000, .start_line = 9 },
                   &g) == 0);
    CHECK_EQ_U64(g.lines, 0);
    sbuf_release(&g.text);
}

static void test_gzip_members(void)
{
    const char *gz = tmp_path("multi.gz");
    unlink(gz);
    gz_append(gz, "a\nb", 3); /* a line split across two members */
    gz_append(gz, "c\nd\n", 4);
    gz_append(gz, "", 0); /* an empty member */
    gz_append(gz, "e\n", 2);
    struct got g;
    CHECK(read_all(&(struct input_opts){ .path = gz, .chunk_bytes = 2 }, &g) == 0);
    CHECK_EQ_STR(g.text.buf, "a\nbc\nd\ne\n");
    CHECK(!g.damaged);
    sbuf_release(&g.text);

    /* Zero padding after the last member is not damage. */
    int fd = open(gz, O_WRONLY | O_APPEND);
    static const char zeros[1000];
    CHECK(write(fd, zeros, sizeof(zeros)) == (ssize_t)sizeof(zeros));
    close(fd);
    CHECK(read_all(&(struct input_opts){ .path = gz }, &g) == 0);
    CHECK_EQ_STR(g.text.buf, "a\nbc\nd\ne\n");
    CHECK(!g.damaged);
    sbuf_release(&g.text);

    /* Anything else after it is reported. */
    fd = open(gz, O_WRONLY | O_APPEND);
    CHECK(write(fd, "junk", 4) == 4);
    close(fd);
    CHECK(read_all(&(struct input_opts){ .path = gz }, &g) == 0);
    CHECK_EQ_STR(g.text.buf, "a\nbc\nd\ne\n");
    CHECK(g.damaged);
    CHECK_MSG(strstr(g.damage.what, "trailing garbage") != NULL, "%s", g.damage.what);
    sbuf_release(&g.text);
}

static void test_gzip_truncated(void)
{
    /* 2000 numbered lines; cut the .gz file at several places: every line decoded before
     * the cut comes out (the last one possibly partial), then the damage report. */
    struct sbuf data = SBUF_INIT;
    for (int i = 0; i < 2000; i++)
        CHECK(sbuf_addf(&data, "line %d of the file with some text\n", i) == 0);
    const char *gz = tmp_path("full.gz");
    unlink(gz);
    gz_append(gz, data.buf, data.len);
    struct stat st;
    CHECK(stat(gz, &st) == 0);
    FILE *f = fopen(gz, "rb");
    unsigned char *raw = malloc((size_t)st.st_size);
    CHECK(fread(raw, 1, (size_t)st.st_size, f) == (size_t)st.st_size);
    fclose(f);
    const char *cut = tmp_path("cut.gz");
    for (off_t at = 100; at < st.st_size; at += st.st_size / 7) {
        write_file(cut, raw, (size_t)at);
        struct got g;
        CHECK(read_all(&(struct input_opts){ .path = cut, .chunk_bytes = 4096 }, &g) == 0);
        CHECK(g.damaged);
        CHECK_MSG(strstr(g.damage.what, "truncated gzip") != NULL, "%s", g.damage.what);
        CHECK_EQ_U64(g.damage.raw_offset, (uint64_t)at);
        CHECK_EQ_U64(g.damage.decoded_offset, g.last_end);
        /* What came out is a prefix of the original. */
        size_t n = g.text.len;
        if (n && g.text.buf[n - 1] == '|')
            n--;
        CHECK(n <= data.len && memcmp(g.text.buf, data.buf, n) == 0);
        CHECK(g.lines > 0 || at < 200);
        sbuf_release(&g.text);
    }
    /* Corrupt bytes in the middle: a damage report, not a crash. */
    memcpy(raw + st.st_size / 2, "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
    write_file(cut, raw, (size_t)st.st_size);
    struct got g;
    CHECK(read_all(&(struct input_opts){ .path = cut }, &g) == 0);
    CHECK(g.damaged);
    sbuf_release(&g.text);
    free(raw);
    sbuf_release(&data);
}

static void test_long_lines(void)
{
    /* One line over the limit, between two short ones; with a large and a small chunk
     * (the newline inside / outside the buffer when the limit is crossed). */
    size_t big = SIFT_MAX_LINE_BYTES + 12345;
    struct sbuf data;
    sbuf_init(&data, 0);
    CHECK(sbuf_addstr(&data, "first\n") == 0);
    CHECK(sbuf_grow(&data, big + 1) == 0);
    memset(data.buf + data.len, 'x', big);
    sbuf_setlen(&data, data.len + big);
    CHECK(sbuf_addstr(&data, "\nlast\n") == 0);
    const char *path = tmp_path("long.log");
    write_file(path, data.buf, data.len);
    for (int k = 0; k < 3; k++) {
        size_t chunk = k == 0 ? 0 : k == 1 ? 4096 : 16u << 20;
        struct diag d = DIAG_INIT;
        struct input *in =
            input_open(&(struct input_opts){ .path = path, .chunk_bytes = chunk }, &d);
        struct input_line ln;
        CHECK(input_next(in, &ln, &d) == INPUT_LINE && span_eq_lit(ln.text, "first"));
        CHECK(input_next(in, &ln, &d) == INPUT_LINE);
        CHECK(ln.truncated);
        CHECK_EQ_U64(ln.text.len, SIFT_MAX_LINE_BYTES);
        CHECK_EQ_U64(ln.offset, 6);
        CHECK_EQ_U64(ln.end, 6 + big + 1);
        CHECK(input_next(in, &ln, &d) == INPUT_LINE && span_eq_lit(ln.text, "last"));
        CHECK_EQ_U64(ln.line, 3);
        CHECK_EQ_U64(ln.offset, 6 + big + 1);
        CHECK(!ln.truncated);
        CHECK(input_next(in, &ln, &d) == INPUT_EOF);
        input_close(in);
    }
    /* Over-long and unterminated at the end of the file. */
    sbuf_setlen(&data, data.len - 6);
    write_file(path, data.buf, data.len);
    struct diag d = DIAG_INIT;
    struct input *in = input_open(&(struct input_opts){ .path = path, .chunk_bytes = 4096 }, &d);
    struct input_line ln;
    CHECK(input_next(in, &ln, &d) == INPUT_LINE);
    CHECK(input_next(in, &ln, &d) == INPUT_LINE);
    CHECK(ln.truncated && ln.partial);
    CHECK_EQ_U64(ln.end, data.len);
    CHECK(input_next(in, &ln, &d) == INPUT_EOF);
    input_close(in);
    sbuf_release(&data);
}

/* SIFT_MAX_LINE_BYTES - 1, exactly, + 1: only the last is cut. */
static void test_line_limit_boundary(void)
{
    const char *path = tmp_path("limit.log");
    for (int delta = -1; delta <= 1; delta++) {
        size_t n = (size_t)((long)SIFT_MAX_LINE_BYTES + delta);
        char *buf = malloc(n + 1);
        memset(buf, 'y', n);
        buf[n] = '\n';
        write_file(path, buf, n + 1);
        free(buf);
        struct diag d = DIAG_INIT;
        struct input *in = input_open(&(struct input_opts){ .path = path }, &d);
        struct input_line ln;
        CHECK(input_next(in, &ln, &d) == INPUT_LINE);
        CHECK_EQ_INT(ln.truncated, delta > 0);
        CHECK_EQ_U64(ln.text.len, delta > 0 ? SIFT_MAX_LINE_BYTES : n);
        CHECK_EQ_U64(ln.end, n + 1);
        CHECK(input_next(in, &ln, &d) == INPUT_EOF);
        input_close(in);
    }
}

static void test_identity_and_hash(void)
{
    static const char data[] = "2026-11-24 a\n2026-11-24 b\n2026-11-24 c\n";
    const char *path = tmp_path("id.log");
    const char *gz = tmp_path("id.log.gz");
    write_file(path, data, sizeof(data) - 1);
    unlink(gz);
    gz_append(gz, data, sizeof(data) - 1);
    struct diag d = DIAG_INIT;
    uint64_t h1, h2, h3, got;
    CHECK(input_hash_range(path, 0, 13, &h1, &got, &d) == 0);
    CHECK_EQ_U64(got, 13);
    CHECK(input_hash_range(gz, 0, 13, &h2, &got, &d) == 0);
    CHECK_EQ_U64(got, 13);
    CHECK_EQ_U64(h1, h2); /* compressed later, same logical bytes */
    CHECK(input_hash_range(path, 13, 26, &h3, &got, &d) == 0);
    CHECK(h3 != h1);
    CHECK(input_hash_range(path, 0, 1000, &h3, &got, &d) == 0);
    CHECK_EQ_U64(got, sizeof(data) - 1);

    struct input *in = input_open(&(struct input_opts){ .path = gz }, &d);
    struct input_line ln;
    CHECK(input_next(in, &ln, &d) == INPUT_LINE);
    struct input_identity id;
    input_identity(in, &id);
    struct stat st;
    CHECK(stat(gz, &st) == 0);
    CHECK(id.regular && id.compressed);
    CHECK_EQ_U64(id.ino, (uint64_t)st.st_ino);
    CHECK_EQ_U64(id.size, (uint64_t)st.st_size);
    CHECK_EQ_STR(input_name(in), gz);
    input_close(in);

    /* Errors name the file. */
    diag_clear(&d);
    CHECK(input_open(&(struct input_opts){ .path = tmp_path("missing") }, &d) == NULL);
    CHECK_EQ_INT(d.kind, DIAG_IO);
    CHECK_MSG(strstr(d.msg, "cannot open") && strstr(d.msg, "missing"), "%s", d.msg);
    diag_clear(&d);
    mk_tmpdir();
    CHECK(input_open(&(struct input_opts){ .path = tmpdir }, &d) == NULL);
    CHECK_MSG(strstr(d.msg, "is a directory") != NULL, "%s", d.msg);
}

static void cleanup(void)
{
    static const char *names[] = { "chunks.log",    "crlf.log", "empty.log", "resume.log",
                                   "resume.log.gz", "multi.gz", "full.gz",   "cut.gz",
                                   "long.log",      "id.log",   "id.log.gz", "limit.log" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        unlink(tmp_path(names[i]));
}

/* Last: every file a test made is removed (rmdir fails on leftovers). */
static void test_zz_cleanup(void)
{
    cleanup();
    CHECK(rmdir(tmpdir) == 0);
}

TEST_LIST = {
    { "chunk_boundaries", test_chunk_boundaries },
    { "crlf_partial_empty", test_crlf_partial_empty },
    { "resume_offset", test_resume_offset },
    { "gzip_members", test_gzip_members },
    { "gzip_truncated", test_gzip_truncated },
    { "long_lines", test_long_lines },
    { "line_limit_boundary", test_line_limit_boundary },
    { "identity_and_hash", test_identity_and_hash },
    { "zz_cleanup", test_zz_cleanup },
    { NULL, NULL },
};
