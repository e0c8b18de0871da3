/* SPDX-License-Identifier: MIT */
/*
 * tailbuf: after any sequence of appends (of any sizes, across the two buffers' turns)
 * every range of the stream that is still held reads back as the stream's own bytes,
 * the newest `keep` bytes are always held, nothing older than twice that is kept, and
 * ranges outside what is held are refused.
 */
#include "check.h"
#define TEST_RNG32_SEED 88172645u
#include "rng.h"
#include "core/sbuf.h"
#include "core/tailbuf.h"

/* The stream's byte at @off (any function of the offset will do). */
static char byte_at(uint64_t off)
{
    return (char)('a' + (off * 7 + off / 13) % 26);
}

static void fill(char *p, uint64_t off, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = byte_at(off + i);
}

/* Every held range that starts or ends near the turn and some at random: right bytes. */
static void check_ranges(const struct tailbuf *t, struct sbuf *tmp)
{
    uint64_t s = tailbuf_start(t), e = tailbuf_end(t), mid = s + t->old.len;
    uint64_t at[] = { s, s < e ? s + 1 : e, mid > s ? mid - 1 : s, mid, mid < e ? mid + 1 : e, e };
    for (size_t i = 0; i < ARRAY_SIZE(at); i++)
        for (size_t j = 0; j < ARRAY_SIZE(at); j++) {
            if (at[i] > at[j])
                continue;
            struct span out;
            size_t len = (size_t)(at[j] - at[i]);
            CHECK(tailbuf_get(t, at[i], len, tmp, &out));
            CHECK_EQ_U64(out.len, len);
            for (size_t k = 0; k < out.len; k++)
                if (out.p[k] != byte_at(at[i] + k)) {
                    CHECK(!"a byte read back differs");
                    return;
                }
        }
    for (int r = 0; r < 8 && e > s; r++) {
        uint64_t a = s + rnd((uint32_t)(e - s));
        size_t len = rnd((uint32_t)(e - a) + 1);
        struct span out;
        CHECK(tailbuf_get(t, a, len, tmp, &out));
        CHECK(len == 0 || (out.p[0] == byte_at(a) && out.p[len - 1] == byte_at(a + len - 1)));
    }
}

static void test_random_appends(void)
{
    static const size_t keeps[] = { 1, 7, 100, 4096 };
    struct sbuf tmp = SBUF_INIT;
    char chunk[600];
    for (size_t k = 0; k < ARRAY_SIZE(keeps); k++) {
        struct tailbuf t;
        size_t keep = keeps[k];
        tailbuf_init(&t, keep);
        uint64_t off = 0;
        for (int step = 0; step < 3000; step++) {
            size_t n = rnd(5) == 0 ? 0 : rnd(rnd(4) == 0 ? sizeof(chunk) : 40);
            fill(chunk, off, n);
            CHECK_EQ_INT(tailbuf_add(&t, chunk, n), 0);
            off += n;
            CHECK_EQ_U64(tailbuf_end(&t), off);
            /* the newest `keep` bytes (or all there are) are held; at most about twice */
            CHECK(off - tailbuf_start(&t) >= (off < keep ? off : keep));
            CHECK(off - tailbuf_start(&t) < 2 * keep + sizeof(chunk));
            CHECK(t.cur.len < keep);
            check_ranges(&t, &tmp);
        }
        tailbuf_release(&t);
    }
    sbuf_release(&tmp);
}

static void test_refused_and_reset(void)
{
    struct tailbuf t;
    struct sbuf tmp = SBUF_INIT;
    struct span out;
    char b[64];
    tailbuf_init(&t, 16);
    tailbuf_reset(&t, 1000); /* a stream resumed at byte 1000 */
    CHECK(tailbuf_get(&t, 1000, 0, &tmp, &out));
    CHECK(!tailbuf_get(&t, 999, 1, &tmp, &out));
    CHECK(!tailbuf_get(&t, 1000, 1, &tmp, &out));
    fill(b, 1000, 40);
    CHECK_EQ_INT(tailbuf_add(&t, b, 40), 0); /* turns: [1000, 1040) all in the older one */
    CHECK_EQ_U64(tailbuf_start(&t), 1000);
    CHECK_EQ_U64(t.cur.len, 0);
    fill(b, 1040, 10);
    CHECK_EQ_INT(tailbuf_add(&t, b, 10), 0);
    CHECK(tailbuf_get(&t, 1035, 10, &tmp, &out)); /* across both: from tmp */
    CHECK(out.p == tmp.buf);
    CHECK(out.p[0] == byte_at(1035) && out.p[9] == byte_at(1044));
    CHECK(!tailbuf_get(&t, 1041, 10, &tmp, &out));          /* past the end */
    CHECK(!tailbuf_get(&t, UINT64_MAX - 2, 5, &tmp, &out)); /* no wrap-around */
    fill(b, 1050, 10);
    CHECK_EQ_INT(tailbuf_add(&t, b, 10), 0); /* turns again: [1000, 1040) is gone */
    CHECK_EQ_U64(tailbuf_start(&t), 1040);
    CHECK(!tailbuf_get(&t, 1039, 2, &tmp, &out));
    CHECK(tailbuf_get(&t, 1040, 20, &tmp, &out));
    CHECK(out.p[0] == byte_at(1040) && out.p[19] == byte_at(1059));
    tailbuf_reset(&t, 5);
    CHECK_EQ_U64(tailbuf_start(&t), 5);
    CHECK_EQ_U64(tailbuf_end(&t), 5);
    tailbuf_release(&t);
    sbuf_release(&tmp);
}

TEST_LIST = {
    { "random_appends", test_random_appends },
    { "refused_and_reset", test_refused_and_reset },
    { NULL, NULL },
};
