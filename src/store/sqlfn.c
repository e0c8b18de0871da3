/* SPDX-License-Identifier: MIT */
/*
 * SQL functions over sketch blobs, so that upserts and roll-ups merge sketches inside
 * the statement that adds the sums:
 *   sketch_merge(a, b)      the merge of two blobs (NULL counts as empty)
 *   sketch_merge_agg(x)     aggregate: the merge of all blobs of a group
 * A malformed blob is an SQL error ("malformed sketch"), never a crash.
 */
#include <stdlib.h>

#include "store/sketch.h"
#include "store/store_int.h"

static int merge_value(struct sketch *sk, sqlite3_value *v)
{
    if (sqlite3_value_type(v) == SQLITE_NULL)
        return 0;
    const void *p = sqlite3_value_blob(v);
    int n = sqlite3_value_bytes(v);
    return sketch_merge_blob(sk, p, (size_t)n);
}

static void result_sketch(sqlite3_context *ctx, const struct sketch *sk)
{
    struct sbuf out = SBUF_INIT;
    if (sketch_encode(sk, &out) < 0) {
        sbuf_release(&out);
        sqlite3_result_error_toobig(ctx);
        return;
    }
    size_t len;
    char *p = sbuf_detach(&out, &len);
    sqlite3_result_blob64(ctx, p, len, free);
}

static void fn_merge(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    struct sketch sk = SKETCH_INIT;
    for (int i = 0; i < argc; i++) {
        if (merge_value(&sk, argv[i]) < 0) {
            sketch_release(&sk);
            sqlite3_result_error(ctx, "malformed sketch", -1);
            return;
        }
    }
    result_sketch(ctx, &sk);
    sketch_release(&sk);
}

struct agg_ctx {
    struct sketch sk;
    int bad;
};

static void fn_agg_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    struct agg_ctx *a = sqlite3_aggregate_context(ctx, sizeof(*a));
    (void)argc;
    if (!a) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    /* sqlite zero-fills a new aggregate context: SKETCH_INIT is all zeros. */
    if (!a->bad && merge_value(&a->sk, argv[0]) < 0)
        a->bad = 1;
}

static void fn_agg_final(sqlite3_context *ctx)
{
    struct agg_ctx *a = sqlite3_aggregate_context(ctx, 0);
    if (!a) { /* no rows */
        struct sketch empty = SKETCH_INIT;
        result_sketch(ctx, &empty);
        return;
    }
    if (a->bad)
        sqlite3_result_error(ctx, "malformed sketch", -1);
    else
        result_sketch(ctx, &a->sk);
    sketch_release(&a->sk);
}

int sqlfn_register(sqlite3 *db)
{
    int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY;
    if (sqlite3_create_function(db, "sketch_merge", 2, flags, NULL, fn_merge, NULL, NULL) !=
        SQLITE_OK)
        return -1;
    if (sqlite3_create_function(db, "sketch_merge_agg", 1, flags, NULL, NULL, fn_agg_step,
                                fn_agg_final) != SQLITE_OK)
        return -1;
    return 0;
}
