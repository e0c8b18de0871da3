/* SPDX-License-Identifier: MIT */
/*
 * bytescan: the AVX2 and SSE2 masks, ASCII runs, find3 and json_special against the portable code
 * and a byte loop (every window offset and length, random and fixture bytes), and the csvlog parser
 * run on both paths: the fixtures' csvlogs and generated records with quotes, '""' and newlines at
 * every position across the 16- and 64-byte boundaries give the same events, and the expected
 * values.
 */
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "core/bytescan.h"
#include "parse/parse_int.h"
#include "recset.h"

static void naive(const char *s, size_t n, unsigned char a, unsigned char b, uint64_t *ma,
                  uint64_t *mb)
{
    *ma = *mb = 0;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] == a)
            *ma |= UINT64_C(1) << i;
        if ((unsigned char)s[i] == b)
            *mb |= UINT64_C(1) << i;
    }
}

static size_t naive_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return i;
    return n;
}

static size_t naive_find3(const char *s, size_t n, unsigned char a, unsigned char b,
                          unsigned char c)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] == a || (unsigned char)s[i] == b || (unsigned char)s[i] == c)
            return i;
    return n;
}

static size_t naive_json_special(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '"' || s[i] == '\\' || (unsigned char)s[i] < 0x20)
            return i;
    return n;
}

/* Every window of @buf: all three mask versions agree; ASCII runs agree. */
static int compare_windows(const char *buf, size_t len, unsigned char a, unsigned char b)
{
    int bad = 0;
    for (size_t at = 0; at < len; at++) {
        size_t max = len - at < 64 ? len - at : 64;
        for (size_t n = 0; n <= max; n += (len > 4096 ? 63 : 1)) {
            uint64_t x1, y1, x2, y2, x3, y3;
            naive(buf + at, n, a, b, &x1, &y1);
            bytescan_portable_only = false;
            /* readable from buf (reaching back) and from the window only (copied) */
            uint64_t x4, y4, x5 = x1, y5 = y1, x6 = x1, y6 = y1;
            bool avx2 = bytescan_avx2;
            bytescan_avx2 = false; /* SSE2 */
            bytescan_mask64(buf + at, n, buf, a, b, &x2, &y2);
            bytescan_mask64(buf + at, n, buf + at, a, b, &x4, &y4);
            bytescan_avx2 = avx2;
            if (avx2) { /* (where the CPU has it) */
                bytescan_mask64(buf + at, n, buf, a, b, &x5, &y5);
                bytescan_mask64(buf + at, n, buf + at, a, b, &x6, &y6);
            }
            bytescan_portable_only = true;
            bytescan_mask64(buf + at, n, buf, a, b, &x3, &y3);
            bytescan_portable_only = false;
            if (x1 != x2 || y1 != y2 || x1 != x3 || y1 != y3 || x1 != x4 || y1 != y4 || x1 != x5 ||
                y1 != y5 || x1 != x6 || y1 != y6) {
                CHECK_MSG(0, "masks differ at %zu+%zu", at, n);
                return ++bad;
            }
            /* three byte values (a, b and '\n') and the bytes >= 0x80: all five ways */
            uint64_t h1 = 0, n1 = 0, hx[5], ax[5], bx[5], nx[5];
            for (size_t i = 0; i < n; i++) {
                if ((unsigned char)buf[at + i] >= 0x80)
                    h1 |= UINT64_C(1) << i;
                if (buf[at + i] == '\n')
                    n1 |= UINT64_C(1) << i;
            }
            bytescan_avx2 = false;
            hx[0] = bytescan_mask64x(buf + at, n, buf, a, b, '\n', &ax[0], &bx[0], &nx[0]);
            hx[1] = bytescan_mask64x(buf + at, n, buf + at, a, b, '\n', &ax[1], &bx[1], &nx[1]);
            bytescan_avx2 = avx2;
            hx[2] = hx[3] = h1;
            ax[2] = ax[3] = x1;
            bx[2] = bx[3] = y1;
            nx[2] = nx[3] = n1;
            if (avx2) {
                hx[2] = bytescan_mask64x(buf + at, n, buf, a, b, '\n', &ax[2], &bx[2], &nx[2]);
                hx[3] = bytescan_mask64x(buf + at, n, buf + at, a, b, '\n', &ax[3], &bx[3], &nx[3]);
            }
            bytescan_portable_only = true;
            hx[4] = bytescan_mask64x(buf + at, n, buf, a, b, '\n', &ax[4], &bx[4], &nx[4]);
            bytescan_portable_only = false;
            for (int k = 0; k < 5; k++) {
                if (hx[k] != h1 || ax[k] != x1 || bx[k] != y1 || nx[k] != n1) {
                    CHECK_MSG(0, "masks of three bytes differ at %zu+%zu (way %d)", at, n, k);
                    return ++bad;
                }
            }
        }
        size_t rest = len - at < 200 ? len - at : 200;
        size_t r1 = naive_ascii(buf + at, rest), r2, r3;
        r2 = bytescan_ascii_len(buf + at, rest);
        bytescan_portable_only = true;
        r3 = bytescan_ascii_len(buf + at, rest);
        bytescan_portable_only = false;
        if (r1 != r2 || r1 != r3) {
            CHECK_MSG(0, "ascii runs differ at %zu: %zu %zu %zu", at, r1, r2, r3);
            return ++bad;
        }
        {
            size_t j1 = naive_json_special(buf + at, rest), j2, j3;
            j2 = bytescan_json_special(buf + at, rest);
            bytescan_portable_only = true;
            j3 = bytescan_json_special(buf + at, rest);
            bytescan_portable_only = false;
            if (j1 != j2 || j1 != j3) {
                CHECK_MSG(0, "json_special differs at %zu: %zu %zu %zu", at, j1, j2, j3);
                return ++bad;
            }
        }
        /* find3 with the pair and a third byte, and with one byte alone: every length up
         * to 48 (across the 16-byte steps), then every 13th, from every third offset */
        for (size_t n = 0; at % 3 == 0 && n <= rest; n += (len > 4096 ? 17 : n < 48 ? 1 : 13)) {
            for (int k = 0; k < 2; k++) {
                unsigned char c = k ? a : (unsigned char)(b + 1);
                unsigned char bb = k ? a : b;
                size_t f1 = naive_find3(buf + at, n, a, bb, c), f2, f3;
                f2 = bytescan_find3(buf + at, n, a, bb, c);
                bytescan_portable_only = true;
                f3 = bytescan_find3(buf + at, n, a, bb, c);
                bytescan_portable_only = false;
                if (f1 != f2 || f1 != f3) {
                    CHECK_MSG(0, "find3 differs at %zu+%zu: %zu %zu %zu", at, n, f1, f2, f3);
                    return ++bad;
                }
            }
        }
    }
    return bad;
}

static void test_masks_random(void)
{
    static const unsigned char alphabet[] = { '"', ',', 'a', '\n', 0, 0x80, 0xff, 0x22 ^ 0x80 };
    char buf[512];
    unsigned seed = 12345;
    for (int round = 0; round < 40; round++) {
        for (size_t i = 0; i < sizeof(buf); i++) {
            seed = seed * 1103515245u + 12345u;
            unsigned r = (seed >> 16) & 0xff;
            /* vary the density: sparse in some rounds, dense in others */
            buf[i] = (char)(r % (round % 8 + 2) == 0 ? alphabet[r % sizeof(alphabet)] : 'x');
        }
        compare_windows(buf, sizeof(buf), '"', ',');
        compare_windows(buf, 130, 0, 0xff);
        compare_windows(buf, 130, 0x80, 'x');
        /* JSON string text: quotes, backslashes, control bytes, 0x20, 0x7f, 0x80, 0x9f */
        static const unsigned char js[] = { '"', '\\', 0x1f, 0x20, 0x00, 0x7f, 0x80, 0x9f, 0xff };
        char jbuf[300];
        for (size_t i = 0; i < sizeof(jbuf); i++) {
            seed = seed * 1103515245u + 12345u;
            unsigned r = (seed >> 16) & 0xff;
            jbuf[i] = (char)(r % (round % 8 + 2) == 0 ? js[r % sizeof(js)] : 'y');
        }
        compare_windows(jbuf, sizeof(jbuf), '"', '\\');
    }
}

static const char *const fixtures[] = {
    "fixtures/pg15/json-plans/postgresql.csv",     "fixtures/pg15/plan-insights/postgresql.csv",
    "fixtures/pg15/statement-log/postgresql.csv",  "fixtures/pg15/text-plans/postgresql.csv",
    "fixtures/pg15/verbose-errors/postgresql.csv",
};

/* Both paths parse @data into the same events; returns the rendered output. */
static void both_paths(const char *data, size_t len, const char *what, struct sbuf *out)
{
    struct sbuf simd = SBUF_INIT, port = SBUF_INIT;
    const struct parser_opts o = { .format = "csvlog" };

    struct sbuf sse2 = SBUF_INIT;
    bool avx2 = bytescan_avx2;
    bytescan_portable_only = false;
    struct parser *sp = pt_run(data, len, &o, &simd);
    struct sbuf sst = SBUF_INIT, wst = SBUF_INIT;
    pt_stats_text(parser_stats(sp), &sst);
    parser_free(sp);
    bytescan_avx2 = false;
    parser_free(pt_run(data, len, &o, &sse2));
    bytescan_avx2 = avx2;
    bytescan_portable_only = true;
    parser_free(pt_run(data, len, &o, &port));
    bytescan_portable_only = false;
    struct sbuf walk = SBUF_INIT;
    csvlog_walk_only = true; /* every record split by walking its fields */
    struct parser *wp = pt_run(data, len, &o, &walk);
    pt_stats_text(parser_stats(wp), &wst);
    parser_free(wp);
    csvlog_walk_only = false;
    CHECK_MSG(simd.len == walk.len && (!simd.len || !memcmp(simd.buf, walk.buf, simd.len)),
              "%s: mask split and field walk differ", what);
    CHECK_MSG(sst.len == wst.len && !memcmp(sst.buf, wst.buf, sst.len),
              "%s: mask split and field walk count differently:\n%s\n%s", what, sst.buf, wst.buf);
    sbuf_release(&walk);
    sbuf_release(&wst);
    /* read ahead (each next line split while the one before is handled), all the rest
     * and 100 bytes at a time */
    static const size_t windows[] = { SIZE_MAX, 100 };
    for (size_t i = 0; i < ARRAY_SIZE(windows); i++) {
        struct sbuf ahead = SBUF_INIT, ast = SBUF_INIT;
        uint64_t feeds;
        struct parser *ap = pt_run_ahead(data, len, &o, windows[i], &ahead, NULL, &feeds);
        pt_stats_text(parser_stats(ap), &ast);
        parser_free(ap);
        CHECK_MSG(simd.len == ahead.len && (!simd.len || !memcmp(simd.buf, ahead.buf, simd.len)),
                  "%s: split ahead differs (window %zu)", what, windows[i]);
        CHECK_MSG(sst.len == ast.len && !memcmp(sst.buf, ast.buf, sst.len),
                  "%s: split ahead counts differently (window %zu):\n%s\n%s", what, windows[i],
                  sst.buf, ast.buf);
        sbuf_release(&ahead);
        sbuf_release(&ast);
    }
    sbuf_release(&sst);
    CHECK_MSG(simd.len == port.len && (!simd.len || !memcmp(simd.buf, port.buf, simd.len)),
              "%s: SIMD and portable paths differ", what);
    CHECK_MSG(sse2.len == port.len && (!sse2.len || !memcmp(sse2.buf, port.buf, sse2.len)),
              "%s: SSE2 and portable paths differ", what);
    sbuf_release(&sse2);
    if (out)
        *out = simd;
    else
        sbuf_release(&simd);
    sbuf_release(&port);
}

static void test_fixtures(void)
{
    for (size_t i = 0; i < ARRAY_SIZE(fixtures); i++) {
        size_t len;
        char *data = pt_slurp(fixtures[i], &len);
        CHECK_MSG(data != NULL, "cannot read %s", fixtures[i]);
        if (!data)
            continue;
        CHECK(len > 1000);
        compare_windows(data, len, '"', ',');
        struct sbuf out;
        both_paths(data, len, fixtures[i], &out);
        CHECK_MSG(out.len > 1000, "%s: no events", fixtures[i]);
        sbuf_release(&out);
        free(data);
    }
}

/* A record whose message (column 14) is @msg, quoted and escaped as PostgreSQL does. */
static void csv_record(struct sbuf *o, const char *pad, const char *msg, bool close)
{
    int r = sbuf_addf(o,
                      "2026-11-25 17:44:54.819 UTC,\"postgres\",\"%s\",9825,\"127.0.0.1:49338\","
                      "6b071e96.2661,2,\"SELECT\",2026-11-25 17:44:54 UTC,3/1,0,LOG,00000,\"",
                      pad);
    for (const char *c = msg; r == 0 && *c; c++)
        r = *c == '"' ? sbuf_addstr(o, "\"\"") : sbuf_addch(o, *c);
    if (r == 0 && close)
        r = sbuf_addstr(o, "\",,,,,,,,,\"psql\",\"client backend\",,0");
    if (r == 0)
        r = sbuf_addch(o, '\n');
    CHECK(r == 0);
}

static void test_generated(void)
{
    static const char *const inserts[] = { "\"", "\"\"", ",", "\n", ",\"", "\",", "\"\n" };
    char msg[256], pad[80];
    for (size_t shift = 0; shift < 66; shift += 1) {
        /* the database name shifts the message across the 16/64-byte windows */
        memset(pad, 'd', shift);
        pad[shift] = '\0';
        for (size_t k = 0; k < ARRAY_SIZE(inserts); k++) {
            for (size_t at = 0; at < 140; at += 1 + (shift > 3) * 4) {
                memset(msg, 'm', 150);
                msg[150] = '\0';
                size_t il = strlen(inserts[k]);
                memcpy(msg + at, inserts[k], il);
                struct sbuf in = SBUF_INIT, out;
                csv_record(&in, pad, msg, true);
                both_paths(in.buf, in.len, "generated", &out);
                struct sbuf want = SBUF_INIT;
                pt_str(&want, "message", span_cstr(msg));
                CHECK_MSG(out.buf && strstr(out.buf, want.buf) != NULL,
                          "shift %zu insert %zu at %zu: %s", shift, k, at, out.buf);
                sbuf_release(&in);
                sbuf_release(&out);
                sbuf_release(&want);
            }
        }
        /* a line ending inside a quote: the record is never closed */
        struct sbuf in = SBUF_INIT;
        csv_record(&in, pad, "open \"\" quote", false);
        csv_record(&in, pad, "next", true);
        both_paths(in.buf, in.len, "open quote", NULL);
        sbuf_release(&in);
    }
}

/* One-line records whose fields take every shape the mask split must either parse as
 * the field walk does or leave to it: quotes in unquoted fields, text after a closing
 * quote, '""' at a field's start and end, empty quoted fields, commas and high bytes
 * (valid and invalid UTF-8) inside quotes, too few and too many columns, fields moved
 * across the 64-byte windows. Both give the same events and counts (both_paths()). */
static void test_split_shapes(void)
{
    static const char *const shapes[] = {
        "\"a\"",        "\"\"",     "\"\"\"\"", "\"\"\"a\"",
        "\"a\"\"\"",    "\"a,b\"",  "a\"b",     "\"a\"b",
        "\"a\"\"b\"",   "\"a\"\"",  "\"",       "a\"",
        "\"\xc3\xa9\"", "\"\xff\"", "\xc3\xa9", "\xe2\x82",
        "\"a\"\"\",\"", "x,y",      ",",        "\"a,\"\",b\"",
        "\"\",\"\"",    "",         "\"\"\"",   "\"\xc3\"\"\xa9\"",
    };
    static const char *const head =
        "2026-11-25 17:44:54.819 UTC,\"postgres\",\"db\",9825,\"127.0.0.1:49338\","
        "6b071e96.2661,2,\"SELECT\",2026-11-25 17:44:54 UTC,3/1,0,LOG,00000,";
    struct sbuf in = SBUF_INIT;
    int r = 0;
    for (size_t pad = 0; pad < 70 && r == 0; pad++) {
        for (size_t k = 0; k < ARRAY_SIZE(shapes) && r == 0; k++) {
            for (int col = 13; col < 26 && r == 0; col += 3) {
                /* columns 1-13 fixed, then 13 more with the shape in one of them and
                 * @pad bytes of message before it */
                r = sbuf_addstr(&in, head);
                for (int c = 13; c < 26 && r == 0; c++) {
                    if (c > 13)
                        r = sbuf_addch(&in, ',');
                    if (c == 13)
                        for (size_t i = 0; i < pad && r == 0; i++)
                            r = sbuf_addch(&in, 'm');
                    if (r == 0 && c == col)
                        r = sbuf_addstr(&in, shapes[k]);
                    else if (r == 0 && c == 25)
                        r = sbuf_addstr(&in, "-42");
                }
                if (r == 0)
                    r = sbuf_addch(&in, '\n');
            }
        }
    }
    /* 22, 25, 27, 28 and 40 columns */
    static const int ncols[] = { 22, 25, 27, 28, 40 };
    for (size_t k = 0; k < ARRAY_SIZE(ncols) && r == 0; k++) {
        r = sbuf_addstr(&in, head);
        for (int c = 13; c < ncols[k] && r == 0; c++)
            r = sbuf_addstr(&in, c + 1 < ncols[k] ? "\"x\"," : "\"x\"");
        if (r == 0)
            r = sbuf_addch(&in, '\n');
    }
    CHECK(r == 0);
    struct sbuf out;
    both_paths(in.buf, in.len, "split shapes", &out);
    CHECK(out.len > 1000);
    CHECK(strstr(out.buf, "invalid_utf8=1") != NULL);
    sbuf_release(&out);
    sbuf_release(&in);
}

/* The CPU's AVX2 is found and used (fails on an AVX2 machine if detection breaks). */
static void test_avx2_detected(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    CHECK(bytescan_avx2 == (__builtin_cpu_supports("avx2") != 0));
#endif
    printf("# bytescan: AVX2 %s\n", bytescan_avx2 ? "used" : "not available");
}

TEST_LIST = {
    { "masks_random", test_masks_random }, { "avx2_detected", test_avx2_detected },
    { "split_shapes", test_split_shapes }, { "fixtures", test_fixtures },
    { "generated", test_generated },       { NULL, NULL },
};
