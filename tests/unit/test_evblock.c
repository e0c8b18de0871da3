/* SPDX-License-Identifier: MIT */
/*
 * test_evblock - packed event blocks (store/evblock.h): every column of every event comes
 * back exactly (NULL vs "", negative and extreme integers, NaN/inf/-0 doubles bit for
 * bit, texts with NUL bytes, src split or not), repeated texts are written once, and a
 * damaged blob - any truncation, any single byte changed - is refused or decodes within
 * its bounds, never read past.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/limits.h"
#include "core/xalloc.h"
#include "store/evblock.h"

static void set_int(struct evblock_event *x, enum evb_col c, int64_t v)
{
    x->present |= evb_bit(c);
    x->c[c].i = v;
}

static void set_real(struct evblock_event *x, enum evb_col c, double v)
{
    x->present |= evb_bit(c);
    x->c[c].r = v;
}

static void set_text(struct evblock_event *x, enum evb_col c, const char *s, size_t n)
{
    x->present |= evb_bit(c);
    x->c[c].s = s;
    x->c[c].len = n;
}

#define SET_STR(x, c, lit) set_text(x, c, lit, sizeof(lit) - 1)

/* Decode @blob and compare with @want[0..n). */
static void check_decodes_to(struct span blob, const struct evblock_event *want, size_t n)
{
    struct evblock_reader r;
    struct evblock_event *got = xmalloc(sizeof(*got));
    CHECK_EQ_INT(evblock_open(&r, blob.p, blob.len), 0);
    size_t i = 0;
    int rc;
    while ((rc = evblock_next(&r, got)) == 1) {
        CHECK(i < n);
        if (i < n)
            CHECK_MSG(evblock_event_equal(got, &want[i]), "event %zu differs", i);
        /* texts are NUL-terminated where they stand */
        for (int c = 0; c < EVB_NCOLS; c++)
            if ((got->present & evb_bit((enum evb_col)c)) &&
                evb_col_type((enum evb_col)c) == EVB_TEXT)
                CHECK(got->c[c].s[got->c[c].len] == '\0');
        i++;
    }
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(i, n);
    free(got);
}

static void test_every_column_round_trip(void)
{
    static const char nul_text[] = "a\0b\0";
    struct evblock_event *ev = xcalloc(6, sizeof(*ev));
    /* 0: every column, extreme values */
    ev[0].ts = INT64_C(1795628689791000);
    for (int c = 0; c < EVB_NCOLS; c++) {
        switch (evb_col_type((enum evb_col)c)) {
        case EVB_INT: set_int(&ev[0], (enum evb_col)c, c % 2 ? INT64_MIN : INT64_MAX); break;
        case EVB_REAL: set_real(&ev[0], (enum evb_col)c, c % 2 ? -0.0 : 1e308); break;
        case EVB_TEXT: set_text(&ev[0], (enum evb_col)c, nul_text, sizeof(nul_text) - 1); break;
        }
    }
    /* 1: nothing but the kind; the oldest time; an empty text is not NULL */
    ev[1].ts = INT64_MIN;
    SET_STR(&ev[1], EVB_KIND, "connection");
    SET_STR(&ev[1], EVB_DATABASE, "");
    /* 2: NaN, infinities, negatives, fingerprint with the top bit */
    ev[2].ts = INT64_MAX;
    SET_STR(&ev[2], EVB_KIND, "checkpoint");
    set_real(&ev[2], EVB_WAIT_MS, NAN);
    set_real(&ev[2], EVB_WRITE_S, INFINITY);
    set_real(&ev[2], EVB_SYNC_S, -INFINITY);
    set_real(&ev[2], EVB_TOTAL_S, 5e-324);
    set_int(&ev[2], EVB_PID, -1);
    set_int(&ev[2], EVB_FINGERPRINT, (int64_t)UINT64_C(0xdeadbeefcafef00d));
    set_int(&ev[2], EVB_PORT, 0);
    /* 3-5: src forms: split, leading zero, no number, huge number, bare number */
    ev[3].ts = 5;
    SET_STR(&ev[3], EVB_KIND, "error");
    SET_STR(&ev[3], EVB_SRC, "/var/log/postgresql/postgresql-15-main.log:123456");
    SET_STR(&ev[3], EVB_MESSAGE, "connection received: host=[local]");
    ev[4].ts = 5;
    SET_STR(&ev[4], EVB_KIND, "error");
    SET_STR(&ev[4], EVB_SRC, "/var/log/postgresql/postgresql-15-main.log:0123");
    SET_STR(&ev[4], EVB_MESSAGE, "connection received: host=[local]");
    ev[5].ts = 6;
    SET_STR(&ev[5], EVB_KIND, "error");
    SET_STR(&ev[5], EVB_SRC, "x:99999999999999999999");
    SET_STR(&ev[5], EVB_HOST, ":7");
    SET_STR(&ev[5], EVB_CAUSE, "-:0");

    struct evblock_enc enc;
    evblock_enc_init(&enc);
    evblock_enc_start(&enc, INT64_MIN);
    for (int i = 0; i < 6; i++)
        CHECK_EQ_INT(evblock_enc_add(&enc, &ev[i]), 0);
    CHECK_EQ_INT(enc.n, 6);
    CHECK(enc.ts_min == INT64_MIN && enc.ts_max == INT64_MAX);
    check_decodes_to(evblock_enc_blob(&enc), ev, 6);

    /* An event older than the block's ts_min is refused (nothing written). */
    evblock_enc_start(&enc, 10);
    size_t len = enc.blob.len;
    CHECK_EQ_INT(evblock_enc_add(&enc, &ev[3]), -1);
    CHECK_EQ_INT(enc.blob.len, len);
    CHECK_EQ_INT(enc.n, 0);

    /* A src file part longer than EVB_SRC_FILE_MAX is kept whole. */
    char *longsrc = xmalloc(EVB_SRC_FILE_MAX + 10);
    memset(longsrc, 'f', EVB_SRC_FILE_MAX + 10);
    memcpy(longsrc + EVB_SRC_FILE_MAX + 6, ":123", 4);
    struct evblock_event one = { .ts = 10 };
    SET_STR(&one, EVB_KIND, "other");
    set_text(&one, EVB_SRC, longsrc, EVB_SRC_FILE_MAX + 10);
    CHECK_EQ_INT(evblock_enc_add(&enc, &one), 0);
    check_decodes_to(evblock_enc_blob(&enc), &one, 1);
    free(longsrc);
    evblock_enc_release(&enc);
    free(ev);
}

/* Repeated texts are written once: a block of 2 048 connection events is a fraction of
 * its texts' size, and decodes to the same events whether texts are shared or not. */
static void test_repeated_texts_written_once(void)
{
    size_t n = 2048, raw = 0;
    struct evblock_event *ev = xcalloc(n, sizeof(*ev));
    char(*src)[64] = xcalloc(n, 64);
    for (size_t i = 0; i < n; i++) {
        ev[i].ts = 1000000 + (int64_t)i * 1000;
        SET_STR(&ev[i], EVB_KIND, "authenticated");
        SET_STR(&ev[i], EVB_SEVERITY, "LOG");
        SET_STR(&ev[i], EVB_SQLSTATE, "00000");
        SET_STR(&ev[i], EVB_DATABASE, "app");
        SET_STR(&ev[i], EVB_USERNAME, "app_rw");
        SET_STR(&ev[i], EVB_APPLICATION, "psql");
        set_int(&ev[i], EVB_PID, 10000 + (int64_t)i % 50);
        SET_STR(&ev[i], EVB_MESSAGE,
                "connection authorized: user=app_rw database=app "
                "application_name=psql");
        int k = snprintf(src[i], 64, "/var/log/postgresql/postgresql.log:%zu", 7 * i + 1);
        set_text(&ev[i], EVB_SRC, src[i], (size_t)k);
        raw += 13 + 3 + 5 + 3 + 6 + 4 + 8 + 67 + (size_t)k;
    }
    struct evblock_enc enc;
    evblock_enc_init(&enc);
    evblock_enc_start(&enc, ev[0].ts);
    for (size_t i = 0; i < n; i++)
        CHECK_EQ_INT(evblock_enc_add(&enc, &ev[i]), 0);
    size_t shared = enc.blob.len;
    CHECK_MSG(shared * 5 < raw, "%zu bytes for %zu bytes of values", shared, raw);
    check_decodes_to(evblock_enc_blob(&enc), ev, n);

    enc.share_texts = false;
    evblock_enc_start(&enc, ev[0].ts);
    for (size_t i = 0; i < n; i++)
        CHECK_EQ_INT(evblock_enc_add(&enc, &ev[i]), 0);
    CHECK(enc.blob.len > 3 * shared);
    check_decodes_to(evblock_enc_blob(&enc), ev, n);

    /* Many distinct texts: the table fills, the rest are literals, all come back. */
    enc.share_texts = true;
    char(*msg)[32] = xcalloc(3 * n, 32);
    evblock_enc_start(&enc, ev[0].ts);
    for (size_t i = 0; i < n; i++) {
        for (int j = 0; j < 3; j++) {
            int k = snprintf(msg[3 * i + (size_t)j], 32, "text %zu/%d", i, j);
            set_text(&ev[i],
                     j == 0   ? EVB_MESSAGE
                     : j == 1 ? EVB_DETAIL
                              : EVB_RELATION,
                     msg[3 * i + (size_t)j], (size_t)k);
        }
        CHECK_EQ_INT(evblock_enc_add(&enc, &ev[i]), 0);
    }
    check_decodes_to(evblock_enc_blob(&enc), ev, n);
    /* A new block starts with an empty table: nothing refers into the previous one. */
    evblock_enc_start(&enc, ev[0].ts);
    CHECK_EQ_INT(evblock_enc_add(&enc, &ev[5]), 0);
    check_decodes_to(evblock_enc_blob(&enc), &ev[5], 1);
    free(msg);
    free(src);
    evblock_enc_release(&enc);
    free(ev);
}

/* Encode @n events into a new block of @enc; returns a copy of the blob (free it). */
static char *encode_copy(struct evblock_enc *enc, const struct evblock_event *ev, size_t n,
                         size_t *len)
{
    evblock_enc_start(enc, ev[0].ts);
    for (size_t i = 0; i < n; i++)
        CHECK_EQ_INT(evblock_enc_add(enc, &ev[i]), 0);
    *len = enc->blob.len;
    char *copy = xmalloc(*len + 1);
    memcpy(copy, enc->blob.buf, *len);
    return copy;
}

/* The batch's fast path gives src split (file, line) and marks its texts stable (a text
 * at the address of the column's previous one is that text): the blob is byte for byte
 * the one the joined "file:line" texts give with every text hashed, also when the text
 * table is full (a repeated text then may have no literal to refer to), for lines with
 * 18 digits or more and files of EVB_SRC_FILE_MAX bytes (then written joined). */
static void test_split_src_and_stable_texts_same_blob(void)
{
    size_t n = 6144; /* 8 500 distinct texts: more than the table's 8 192 slots */
    struct evblock_event *joined = xcalloc(n, sizeof(*joined));
    struct evblock_event *split = xcalloc(n, sizeof(*split));
    char(*msg)[32] = xcalloc(5 * n, 32);
    char(*src)[EVB_SRC_FILE_MAX + 32] = xcalloc(8, EVB_SRC_FILE_MAX + 32);
    static const char *const files[] = { "/var/log/pg.log", "pg15.log", "", "data/log 7" };
    static const uint64_t lines[] = { 1,         0, 17, 999999999999999999u, 1000000000000000000u,
                                      UINT64_MAX };
    char *long_file = xmalloc(EVB_SRC_FILE_MAX + 1);
    memset(long_file, 'f', EVB_SRC_FILE_MAX);
    for (size_t i = 0; i < n; i++) {
        struct evblock_event *j = &joined[i], *x = &split[i];
        j->ts = x->ts = 5000 + (int64_t)(i % 7) * 3;
        /* one address for runs of 3 events, then a new copy of the same bytes */
        SET_STR(j, EVB_KIND, "checkpoint");
        SET_STR(j, EVB_DATABASE, "app");
        set_int(j, EVB_PID, (int64_t)i);
        for (int k = 0; k < 5; k++) {
            char *m = msg[5 * (i / 3 * 3) + (size_t)k];
            if (i % 3 == 0)
                snprintf(m, 32, "t%zu/%d", i < n / 6 * 5 ? i : i % 64, k);
            set_text(j,
                     k == 0   ? EVB_MESSAGE
                     : k == 1 ? EVB_DETAIL
                     : k == 2 ? EVB_RELATION
                     : k == 3 ? EVB_LOCK_OBJECT
                              : EVB_HOST,
                     m, strlen(m));
        }
        *x = *j;
        size_t f = i % 6;
        const char *file = f < 4 ? files[f] : long_file;
        size_t flen = f < 4 ? strlen(file) : f == 4 ? EVB_SRC_FILE_MAX - 1 : EVB_SRC_FILE_MAX;
        uint64_t line = lines[i % ARRAY_SIZE(lines)];
        char *buf = src[i % 8];
        memcpy(buf, file, flen);
        int k = snprintf(buf + flen, 32, ":%llu", (unsigned long long)line);
        char *jt = xmalloc(flen + (size_t)k + 1);
        memcpy(jt, buf, flen + (size_t)k + 1);
        set_text(j, EVB_SRC, jt, flen + (size_t)k);
        set_text(x, EVB_SRC, file, flen);
        x->c[EVB_SRC].i = (int64_t)line;
        x->src_split = true;
    }
    struct evblock_enc enc;
    evblock_enc_init(&enc);
    size_t la, lb;
    char *a = encode_copy(&enc, joined, n, &la);
    enc.stable_texts = true;
    char *b = encode_copy(&enc, split, n, &lb);
    CHECK_EQ_INT((long long)la, (long long)lb);
    CHECK(la == lb && !memcmp(a, b, la));
    check_decodes_to(span_make(b, lb), joined, n);
    /* a file beyond EVB_SRC_FILE_MAX cannot be given split */
    split[0].c[EVB_SRC].len = EVB_SRC_FILE_MAX + 1;
    evblock_enc_start(&enc, split[0].ts);
    CHECK_EQ_INT(evblock_enc_add(&enc, &split[0]), -1);
    for (size_t i = 0; i < n; i++)
        free((char *)joined[i].c[EVB_SRC].s);
    free(a);
    free(b);
    free(long_file);
    free(src);
    free(msg);
    free(split);
    free(joined);
    evblock_enc_release(&enc);
}

/* Events added in any time order, the base moved down (evblock_enc_rebase()) whenever
 * one is older than the block's base, give byte for byte the blob of a block started at
 * the oldest time: texts repeated within and across columns, runs of one text in a
 * column, more distinct texts than the table holds, src lines, times falling by one µs
 * or by years. A base above the current one is refused and changes nothing. */
static void test_rebase_same_blob(void)
{
    size_t n = 9000;
    struct evblock_event *ev = xcalloc(n, sizeof(*ev));
    char(*msg)[24] = xcalloc(n, 24);
    char(*src)[24] = xcalloc(n, 24);
    static const char *const dbs[] = { "app", "app", "app", "reporting", "", "x" };
    uint64_t seed = 12345;
    int64_t t = 1000000000000;
    for (size_t i = 0; i < n; i++) {
        struct evblock_event *x = &ev[i];
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        unsigned r = (unsigned)(seed >> 33);
        /* mostly rising, sometimes one step back, rarely far back */
        if (r % 16 == 0)
            t -= (int64_t)(r % 5000);
        else if (r % 509 == 0)
            t -= INT64_C(1) << 40;
        else
            t += (int64_t)(r % 300);
        x->ts = t < 0 ? 0 : t;
        SET_STR(x, EVB_KIND, "connection");
        const char *db = dbs[(r >> 4) % ARRAY_SIZE(dbs)];
        set_text(x, EVB_DATABASE, db, strlen(db));
        set_int(x, EVB_PID, (int64_t)(r % 70000));
        if (r % 3)
            snprintf(msg[i], 24, "m%zu", i);
        else
            snprintf(msg[i], 24, "m%u", r % 40);
        set_text(x, EVB_MESSAGE, msg[i], strlen(msg[i]));
        if (r % 7 == 0)
            set_text(x, EVB_DETAIL, msg[i / 2], strlen(msg[i / 2]));
        if (r % 5 == 0)
            set_real(x, EVB_WAIT_MS, (double)r / 7);
        if (r % 11 == 0) /* columns of the wide mask's high part */
            set_int(x, EVB_WAL_BYTES, (int64_t)r);
        if (r % 13 == 0)
            set_real(x, EVB_READ_MB_S, (double)r / 3);
        snprintf(src[i], 24, "pg.log:%zu", i + 1); /* written as line + 1 and "pg.log" */
        set_text(x, EVB_SRC, src[i], strlen(src[i]));
    }
    for (size_t len = 1; len <= n; len = len < 64 ? len + 1 : len * 3) {
        int64_t min = ev[0].ts;
        for (size_t i = 1; i < len; i++)
            if (ev[i].ts < min)
                min = ev[i].ts;
        struct evblock_enc a, b;
        evblock_enc_init(&a);
        evblock_enc_init(&b);
        evblock_enc_start(&a, min);
        evblock_enc_start(&b, ev[0].ts);
        size_t rebases = 0;
        for (size_t i = 0; i < len; i++) {
            CHECK_EQ_INT(evblock_enc_add(&a, &ev[i]), 0);
            if (ev[i].ts < b.ts_min) {
                CHECK_EQ_INT(evblock_enc_rebase(&b, ev[i].ts), 0);
                rebases++;
            }
            CHECK_EQ_INT(evblock_enc_add(&b, &ev[i]), 0);
        }
        CHECK_EQ_INT((long long)a.blob.len, (long long)b.blob.len);
        CHECK(a.blob.len == b.blob.len && !memcmp(a.blob.buf, b.blob.buf, a.blob.len));
        CHECK(len < 100 || rebases > 3);
        check_decodes_to(sbuf_span(&b.blob), ev, len);
        /* upwards: refused, nothing changed */
        size_t before = b.blob.len;
        CHECK_EQ_INT(evblock_enc_rebase(&b, b.ts_min + 1), -1);
        CHECK_EQ_INT(evblock_enc_rebase(&b, b.ts_min), 0);
        CHECK(b.blob.len == before && !memcmp(a.blob.buf, b.blob.buf, before));
        evblock_enc_release(&a);
        evblock_enc_release(&b);
    }
    free(src);
    free(msg);
    free(ev);
}

/* Decode a damaged blob to its end: it either fails or yields events, never more than
 * it has bytes for (ASan/UBSan catch any read outside it: the copy is exactly len). */
static int decode_all(const unsigned char *p, size_t len)
{
    unsigned char *copy = xmalloc(len ? len : 1);
    memcpy(copy, p, len);
    struct evblock_reader r;
    struct evblock_event *x = xmalloc(sizeof(*x));
    int rc = evblock_open(&r, copy, len);
    size_t n = 0;
    if (rc == 0)
        while ((rc = evblock_next(&r, x)) == 1)
            if (++n > len)
                break;
    free(x);
    free(copy);
    CHECK(n <= len);
    return rc;
}

static void test_corrupt_blobs(void)
{
    struct evblock_event ev[3] = { { .ts = 100 }, { .ts = 200 }, { .ts = 300 } };
    for (int i = 0; i < 3; i++) {
        SET_STR(&ev[i], EVB_KIND, "lock_wait");
        SET_STR(&ev[i], EVB_DATABASE, "app");
        set_real(&ev[i], EVB_WAIT_MS, 1000.5 + i);
        set_int(&ev[i], EVB_PID, 4242);
        SET_STR(&ev[i], EVB_SRC, "pg.log:17");
    }
    struct evblock_enc enc;
    evblock_enc_init(&enc);
    evblock_enc_start(&enc, 100);
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(evblock_enc_add(&enc, &ev[i]), 0);
    struct span blob = evblock_enc_blob(&enc);
    const unsigned char *p = (const unsigned char *)blob.p;

    CHECK_EQ_INT(decode_all(p, blob.len), 0);
    /* Every truncation: refused, or a shorter list of whole events. */
    size_t failed = 0;
    for (size_t len = 0; len < blob.len; len++)
        failed += decode_all(p, len) < 0;
    CHECK(failed > blob.len / 2);
    /* Every single byte changed to each of a few values. */
    unsigned char *m = xmalloc(blob.len);
    static const unsigned char vals[] = { 0x00, 0x01, 0x7f, 0x80, 0xff };
    for (size_t i = 0; i < blob.len; i++)
        for (size_t v = 0; v < ARRAY_SIZE(vals); v++) {
            memcpy(m, p, blob.len);
            m[i] = vals[v];
            (void)decode_all(m, blob.len);
        }
    free(m);

    /* Hand-made: other version, a version 2 or 4 header cut short, overlong varint, reference
     * forwards, reference to a reference, literal without its NUL, mask with no room, a wide
     * mask without its high part or naming a column past the last. */
    static const unsigned char v5[] = { 5, 0 };
    static const unsigned char v0[] = { 0, 0 };
    static const unsigned char v2[] = { 2, 0, 0, 0, 0, 0, 0, 0, 0 };
    static const unsigned char v4[] = { 4, 0, 0, 0, 0, 0, 0, 0, 0 };
    static const unsigned char wide_cut[] = { 3, 0, 0, 1, 0, 0, 0 };
    /* high part 1 << (EVB_NCOLS - 32): the column EVB_NCOLS */
    static const unsigned char wide_past[] = {
        3,
        0,
        0,
        0,
        0,
        0,
        0,
        (unsigned char)(0x80 | ((1u << (EVB_NCOLS - 32)) & 0x7f)),
        (unsigned char)(0x80 | (((1u << (EVB_NCOLS - 32)) >> 7) & 0x7f)),
        (unsigned char)(0x80 | (((1u << (EVB_NCOLS - 32)) >> 14) & 0x7f)),
        (unsigned char)((1u << (EVB_NCOLS - 32)) >> 21)
    };
    static const unsigned char overlong[] = { 1,    0,    0xff, 0xff, 0xff, 0xff,
                                              0xff, 0xff, 0xff, 0xff, 0xff, 0x7f };
    static const unsigned char fwd[] = { 1, 0, 0, 1, 0, 0, 0, 0x21, 'x', 0 };
    static const unsigned char self[] = { 1, 0, 0, 1, 0, 0, 0, 0x0f }; /* ref to itself */
    static const unsigned char
        refref[] = { 1,    0, 0, 3, 0, 0,   0, 0x04, 'a', 'b', 0, /* kind "ab" at 7 */
                     0x0f,                                        /* database: ref to 7 */
                     0,    1, 0, 0, 0, 0x17 /* kind: ref to 11, a ref */ };
    static const unsigned char nonul[] = { 1, 0, 0, 1, 0, 0, 0, 0x04, 'a', 'b', 'c' };
    static const unsigned char nomask[] = { 1, 0, 0, 1, 0 };
    static const unsigned char big_ts[] = { 1,    0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                            0xff, 0xff, 0x01, 0x02, 0,    0,    0,    0 };
    _Static_assert(EVB_NCOLS - 32 >= 22 && EVB_NCOLS - 32 < 28, "wide_past's varint is 4 bytes");
    CHECK_EQ_INT(decode_all(v5, sizeof(v5)), -1);
    CHECK_EQ_INT(decode_all(v0, sizeof(v0)), -1);
    CHECK_EQ_INT(decode_all(v2, sizeof(v2)), -1);
    CHECK_EQ_INT(decode_all(v4, sizeof(v4)), -1);
    CHECK_EQ_INT(decode_all(wide_cut, sizeof(wide_cut)), -1);
    CHECK_EQ_INT(decode_all(wide_past, sizeof(wide_past)), -1);
    unsigned char wide_last[sizeof(wide_past)]; /* the last column: a double, here 0.0 */
    memcpy(wide_last, wide_past, sizeof(wide_past));
    wide_last[7] = (unsigned char)(0x80 | ((1u << (EVB_NCOLS - 33)) & 0x7f));
    wide_last[8] = (unsigned char)(0x80 | (((1u << (EVB_NCOLS - 33)) >> 7) & 0x7f));
    wide_last[9] = (unsigned char)(0x80 | (((1u << (EVB_NCOLS - 33)) >> 14) & 0x7f));
    wide_last[10] = (unsigned char)((1u << (EVB_NCOLS - 33)) >> 21);
    CHECK_EQ_INT(evb_col_type((enum evb_col)(EVB_NCOLS - 1)), EVB_REAL);
    unsigned char wide_last0[sizeof(wide_last) + 8] = { 0 };
    memcpy(wide_last0, wide_last, sizeof(wide_last));
    CHECK_EQ_INT(decode_all(wide_last, sizeof(wide_last)), -1);       /* its value cut off */
    CHECK_EQ_INT(decode_all(wide_last0, sizeof(wide_last0) - 1), -1); /* a byte short */
    CHECK_EQ_INT(decode_all(wide_last0, sizeof(wide_last0)), 0);
    CHECK_EQ_INT(decode_all(overlong, sizeof(overlong)), -1);
    CHECK_EQ_INT(decode_all(fwd, sizeof(fwd)), -1);
    CHECK_EQ_INT(decode_all(self, sizeof(self)), -1);
    CHECK_EQ_INT(decode_all(refref, sizeof(refref)), -1);
    CHECK_EQ_INT(decode_all(nonul, sizeof(nonul)), -1);
    CHECK_EQ_INT(decode_all(nomask, sizeof(nomask)), -1);
    CHECK_EQ_INT(decode_all(big_ts, sizeof(big_ts)), -1); /* INT64_MAX + 1 */
    evblock_enc_release(&enc);
}

/* Blocks an older pgsift wrote (versions 1 and 2: the 32-bit mask), byte by byte as
 * docs/store.md describes them, still decode; the encoder writes the wide versions. */
static void test_narrow_blocks_still_read(void)
{
    /* ts_min 1000 (zigzag 2000); one event at +5: kind "checkpoint", pid 42, src line 7
     * (written 8) of "pg.csv" */
#define NARROW_EVENT                                                                             \
    0xd0, 0x0f, 0x05, 0x41, 0x00, 0x00, 0x80, 0x14, 'c', 'h', 'e', 'c', 'k', 'p', 'o', 'i', 'n', \
        't', 0x00, 0x54, 0x08, 0x0c, 'p', 'g', '.', 'c', 's', 'v', 0x00
    static const unsigned char v1[] = { 1, NARROW_EVENT };
    static const unsigned char v2[] = { 2, 100, 0, 0, 0, 0, 0, 0, 0, NARROW_EVENT };
#undef NARROW_EVENT
    struct evblock_event want = { .ts = 1005 };
    SET_STR(&want, EVB_KIND, "checkpoint");
    set_int(&want, EVB_PID, 42);
    SET_STR(&want, EVB_SRC, "pg.csv:7");
    check_decodes_to((struct span){ (const char *)v1, sizeof(v1) }, &want, 1);
    SET_STR(&want, EVB_SRC, "pg.csv:107"); /* the base, 100, plus 7 */
    check_decodes_to((struct span){ (const char *)v2, sizeof(v2) }, &want, 1);

    /* The same event encoded now: version 3, the low word then a high part of 0; with a
     * fact past the 32 old columns, the high part holds its bit. */
    struct evblock_enc enc;
    evblock_enc_init(&enc);
    evblock_enc_start(&enc, 1000);
    SET_STR(&want, EVB_SRC, "pg.csv:7");
    CHECK_EQ_INT(evblock_enc_add(&enc, &want), 0);
    struct span blob = evblock_enc_blob(&enc);
    CHECK_EQ_INT(blob.len, sizeof(v1) + 1);
    CHECK_EQ_INT((unsigned char)blob.p[0], EVBLOCK_VERSION);
    CHECK(!memcmp(blob.p + 1, v1 + 1, 7));     /* ts_min, dt, low word */
    CHECK_EQ_INT((unsigned char)blob.p[8], 0); /* high part */
    CHECK(!memcmp(blob.p + 9, v1 + 8, sizeof(v1) - 8));
    set_int(&want, EVB_WAL_BYTES, 3653);
    evblock_enc_start(&enc, 1000);
    CHECK_EQ_INT(evblock_enc_add(&enc, &want), 0);
    blob = evblock_enc_blob(&enc);
    _Static_assert(EVB_WAL_BYTES - 32 >= 14 && EVB_WAL_BYTES - 32 < 21, "a 3-byte high part");
    uint32_t hi = 1u << (EVB_WAL_BYTES - 32);
    CHECK_EQ_INT(blob.len, sizeof(v1) + 3 + 2); /* + 3653 as a zigzag varint */
    CHECK_EQ_INT((unsigned char)blob.p[8], 0x80 | (hi & 0x7f));
    CHECK_EQ_INT((unsigned char)blob.p[9], 0x80 | ((hi >> 7) & 0x7f));
    CHECK_EQ_INT((unsigned char)blob.p[10], hi >> 14);
    check_decodes_to(blob, &want, 1);
    evblock_enc_release(&enc);
}

/* Version 2: events added with lines counted from 1 (a part of a file parsed on another
 * thread) decode with the base set afterwards, rebased or not; version 3 stays version 3;
 * a base that would push a line past INT64_MAX is refused. */
static void test_line_base(void)
{
    enum { N = 300 };
    struct evblock_event *ev = xcalloc(N, sizeof(*ev)), *want = xcalloc(N, sizeof(*want));
    char(*src)[40] = xcalloc(N, 40);
    for (size_t i = 0; i < N; i++) {
        struct evblock_event *x = &ev[i];
        x->ts = 1000000 + (int64_t)(i % 7 == 3 ? i * 10 - 5000 : i * 10);
        SET_STR(x, EVB_KIND, "checkpoint");
        set_int(x, EVB_PID, (int64_t)i);
        x->src_split = true;
        SET_STR(x, EVB_SRC, "postgresql.csv");
        x->c[EVB_SRC].i = (int64_t)(1 + 2 * i); /* relative to the part */
        want[i] = *x;
        want[i].src_split = false;
        snprintf(src[i], 40, "postgresql.csv:%zu", (size_t)(41 + 2 * i));
        set_text(&want[i], EVB_SRC, src[i], strlen(src[i]));
    }
    for (int rebase = 0; rebase < 2; rebase++) {
        struct evblock_enc enc;
        evblock_enc_init(&enc);
        enc.line_base = true;
        evblock_enc_start(&enc, rebase ? ev[0].ts : 0);
        for (size_t i = 0; i < N; i++) {
            if (ev[i].ts < enc.ts_min)
                CHECK_EQ_INT(evblock_enc_rebase(&enc, ev[i].ts), 0);
            CHECK_EQ_INT(evblock_enc_add(&enc, &ev[i]), 0);
        }
        evblock_enc_set_line_base(&enc, 40);
        struct span blob = evblock_enc_blob(&enc);
        CHECK_EQ_INT((unsigned char)blob.p[0], EVBLOCK_VERSION_BASED);
        check_decodes_to(blob, want, N);
        /* a base beyond what a line can be */
        evblock_enc_set_line_base(&enc, (uint64_t)INT64_MAX - 100);
        CHECK_EQ_INT(decode_all((const unsigned char *)blob.p, blob.len), -1);
        evblock_enc_set_line_base(&enc, UINT64_MAX);
        CHECK_EQ_INT(decode_all((const unsigned char *)blob.p, blob.len), -1);
        evblock_enc_release(&enc);
    }
    /* Without line_base: version 3, lines as given. */
    struct evblock_enc enc;
    evblock_enc_init(&enc);
    evblock_enc_start(&enc, 0);
    CHECK_EQ_INT(evblock_enc_add(&enc, &ev[0]), 0);
    CHECK_EQ_INT((unsigned char)evblock_enc_blob(&enc).p[0], EVBLOCK_VERSION);
    struct evblock_event one = want[0];
    SET_STR(&one, EVB_SRC, "postgresql.csv:1");
    check_decodes_to(evblock_enc_blob(&enc), &one, 1);
    evblock_enc_release(&enc);
    free(src);
    free(ev);
    free(want);
}

TEST_LIST = {
    { "every_column_round_trip", test_every_column_round_trip },
    { "narrow_blocks_still_read", test_narrow_blocks_still_read },
    { "repeated_texts_written_once", test_repeated_texts_written_once },
    { "split_src_and_stable_texts_same_blob", test_split_src_and_stable_texts_same_blob },
    { "corrupt_blobs", test_corrupt_blobs },
    { "rebase_same_blob", test_rebase_same_blob },
    { "line_base", test_line_base },
    { NULL, NULL },
};
