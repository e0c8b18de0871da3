/* SPDX-License-Identifier: MIT */
/*
 * plan_calls.c - plan records packed per (query, database, minute): table plan_call_blocks
 * (schema/007_plan_call_blocks.sql, docs/store.md).
 *
 * One row per commit and (query, database, minute) instead of one row per plan record:
 * SQLite's per-row cost (record, B-tree inserts, WAL) is paid per block. A block's data
 * (version 1):
 *   byte 1, then per record, to the end of the blob:
 *   varint (ts - minute * 60 000 000) << 1 | same, where same = 1 says the record has the
 *     plan shape of the record before it in the block (the first record never has it);
 *   unless same: its plan shape fingerprint, 8 bytes little-endian;
 *   varint duration in µs + 1 (0: the record had none).
 * Records of a key are in ingest order in (minute, part, place in the block); ordered by
 * time, the records of a key with the same time keep that order, as plan_calls' id did.
 */
#include <stdlib.h>
#include <string.h>

#include "core/varint.h"
#include "core/xalloc.h"
#include "store/store_int.h"

#define MINUTE_US INT64_C(60000000)

int64_t plan_calls_minute(int64_t ts)
{
    int64_t m = ts / MINUTE_US;
    return ts % MINUTE_US < 0 ? m - 1 : m;
}

int plan_calls_encode(struct sbuf *out, int64_t minute, const struct plan_call *v, size_t n)
{
    /* at most 1 + n * (10 + 8 + 10) bytes */
    if (n > ((size_t)1 << 24) || sbuf_grow(out, 1 + n * 28) < 0)
        return -1;
    unsigned char *w0 = (unsigned char *)out->buf + out->len, *w = w0;
    int64_t base = minute * MINUTE_US;
    *w++ = 1;
    for (size_t i = 0; i < n; i++) {
        bool same = i > 0 && v[i].plan_fp == v[i - 1].plan_fp;
        w = varint_put(w, ((uint64_t)(v[i].ts - base) << 1) | same);
        if (!same) {
            uint64_t fp = v[i].plan_fp;
            for (int b = 0; b < 8; b++)
                *w++ = (unsigned char)(fp >> (8 * b));
        }
        w = varint_put(w, v[i].us >= 0 ? (uint64_t)v[i].us + 1 : 0);
    }
    sbuf_setlen(out, out->len + (size_t)(w - w0));
    return 0;
}

int plan_calls_decode(const void *data, size_t len, int64_t minute, int64_t n, struct plan_call **v,
                      size_t *nv, size_t *alloc)
{
    const unsigned char *r = data, *end = r + len;
    int64_t base;
    uint64_t fp = 0;
    size_t k = 0;

    if (!data || len < 1 || *r++ != 1 || n < 0 || minute < INT64_MIN / MINUTE_US + 1 ||
        minute > INT64_MAX / MINUTE_US - 1)
        return -1;
    base = minute * MINUTE_US;
    while (r < end) {
        uint64_t a, us;
        if (!varint_get(&r, end, &a) || (a >> 1) >= (uint64_t)MINUTE_US)
            return -1;
        if (!(a & 1)) {
            if (end - r < 8)
                return -1;
            fp = 0;
            for (int b = 0; b < 8; b++)
                fp |= (uint64_t)r[b] << (8 * b);
            r += 8;
        } else if (!k) {
            return -1; /* "same as the record before" on the first record */
        }
        if (!varint_get(&r, end, &us) || us > (uint64_t)INT64_MAX)
            return -1;
        XGROW(*v, *nv + 1, *alloc);
        (*v)[(*nv)++] = (struct plan_call){ fp, base + (int64_t)(a >> 1), (int64_t)us - 1 };
        k++;
    }
    return (int64_t)k == n ? 0 : -1;
}

#define SQL_BLOCK_INSERT                                                                    \
    "INSERT INTO plan_call_blocks (fingerprint, database, minute, part, n, ts_min, ts_max," \
    " data) VALUES (?1, ?2, ?3, (SELECT coalesce(max(part) + 1, 0) FROM plan_call_blocks"   \
    " WHERE fingerprint = ?1 AND database = ?2 AND minute = ?3), ?4, ?5, ?6, ?7)"

int plan_calls_prepare(sqlite3 *db, sqlite3_stmt **st)
{
    return sqlite3_prepare_v2(db, SQL_BLOCK_INSERT, -1, st, NULL) == SQLITE_OK ? 0 : -1;
}

int plan_calls_insert(sqlite3_stmt *st, struct sbuf *buf, uint64_t fp, const char *db,
                      size_t db_len, const struct plan_call *v, size_t n)
{
    int64_t minute = plan_calls_minute(v[0].ts), lo = v[0].ts, hi = v[0].ts;
    for (size_t i = 1; i < n; i++) {
        lo = v[i].ts < lo ? v[i].ts : lo;
        hi = v[i].ts > hi ? v[i].ts : hi;
    }
    sbuf_reset(buf);
    if (plan_calls_encode(buf, minute, v, n) < 0)
        return -2;
    sqlite3_bind_int64(st, 1, (int64_t)fp);
    sqlite3_bind_text64(st, 2, db ? db : "", db ? db_len : 0, SQLITE_STATIC, SQLITE_UTF8);
    sqlite3_bind_int64(st, 3, minute);
    sqlite3_bind_int64(st, 4, (int64_t)n);
    sqlite3_bind_int64(st, 5, lo);
    sqlite3_bind_int64(st, 6, hi);
    sqlite3_bind_blob64(st, 7, buf->buf, buf->len, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* ---------------------------------------------------------------- expiry */

int plan_calls_expire(sqlite3 *db, int64_t before_us, struct sbuf *buf, const char **what)
{
    /* Whole minutes before the cut go at once; the cut's own minute is rewritten
     * without its records older than the cut. */
    int64_t cut = plan_calls_minute(before_us);
    sqlite3_stmt *del = NULL, *sel = NULL, *upd = NULL, *rm = NULL;
    struct plan_call *v = NULL;
    size_t nv = 0, a = 0;
    int ret = -1, rc;

    *what = "cannot expire old plan records";
    if (sqlite3_prepare_v2(db, "DELETE FROM plan_call_blocks WHERE minute < ?1", -1, &del, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "SELECT fingerprint, database, part, n, data FROM plan_call_blocks"
                           " WHERE minute = ?1 AND ts_min < ?2",
                           -1, &sel, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "UPDATE plan_call_blocks SET n = ?5, ts_min = ?6, ts_max = ?7,"
                           " data = ?8 WHERE fingerprint = ?1 AND database = ?2 AND minute = ?3"
                           " AND part = ?4",
                           -1, &upd, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "DELETE FROM plan_call_blocks WHERE fingerprint = ?1 AND database = ?2"
                           " AND minute = ?3 AND part = ?4",
                           -1, &rm, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_int64(del, 1, cut);
    if (sqlite3_step(del) != SQLITE_DONE)
        goto out;
    /* The straddling blocks are read first, then changed (no write under a live read). */
    struct straddle {
        int64_t fp, part, n;
        char *db;
        size_t db_len;
        void *data;
        size_t len;
    } *sv = NULL;
    size_t ns = 0, as = 0;
    sqlite3_bind_int64(sel, 1, cut);
    sqlite3_bind_int64(sel, 2, before_us);
    while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
        XGROW(sv, ns + 1, as);
        struct straddle *x = &sv[ns++];
        x->fp = sqlite3_column_int64(sel, 0);
        const unsigned char *t = sqlite3_column_text(sel, 1);
        x->db_len = (size_t)sqlite3_column_bytes(sel, 1);
        x->db = xmemdupz(t ? (const char *)t : "", t ? x->db_len : 0);
        x->part = sqlite3_column_int64(sel, 2);
        x->n = sqlite3_column_int64(sel, 3);
        const void *b = sqlite3_column_blob(sel, 4);
        x->len = (size_t)sqlite3_column_bytes(sel, 4);
        x->data = xmemdupz(b ? b : "", b ? x->len : 0);
    }
    ret = rc == SQLITE_DONE ? 0 : -1;
    for (size_t i = 0; i < ns && ret == 0; i++) {
        struct straddle *x = &sv[i];
        nv = 0;
        if (plan_calls_decode(x->data, x->len, cut, x->n, &v, &nv, &a) < 0) {
            *what = "a plan record block is corrupt";
            ret = -1;
            break;
        }
        size_t keep = 0;
        int64_t lo = INT64_MAX, hi = INT64_MIN;
        for (size_t j = 0; j < nv; j++) {
            if (v[j].ts < before_us)
                continue;
            lo = v[j].ts < lo ? v[j].ts : lo;
            hi = v[j].ts > hi ? v[j].ts : hi;
            v[keep++] = v[j];
        }
        sqlite3_stmt *st = keep ? upd : rm;
        sqlite3_bind_int64(st, 1, x->fp);
        sqlite3_bind_text64(st, 2, x->db, x->db_len, SQLITE_STATIC, SQLITE_UTF8);
        sqlite3_bind_int64(st, 3, cut);
        sqlite3_bind_int64(st, 4, x->part);
        if (keep) {
            sbuf_reset(buf);
            if (plan_calls_encode(buf, cut, v, keep) < 0) {
                ret = -1;
                break;
            }
            sqlite3_bind_int64(st, 5, (int64_t)keep);
            sqlite3_bind_int64(st, 6, lo);
            sqlite3_bind_int64(st, 7, hi);
            sqlite3_bind_blob64(st, 8, buf->buf, buf->len, SQLITE_STATIC);
        }
        if (sqlite3_step(st) != SQLITE_DONE)
            ret = -1;
        sqlite3_reset(st);
    }
    for (size_t i = 0; i < ns; i++) {
        free(sv[i].db);
        free(sv[i].data);
    }
    free(sv);
out:
    sqlite3_finalize(del);
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    sqlite3_finalize(rm);
    free(v);
    return ret;
}

/* ---------------------------------------------------------------- migration */

static int mig_err(sqlite3 *db, struct diag *d)
{
    return diag_set(d, DIAG_DB, "cannot convert plan records into blocks: %s", sqlite3_errmsg(db));
}

int plan_calls_migrate(sqlite3 *db, struct diag *d)
{
    /* Rows by key, time's minute, then id (ingest order); a block per (key, minute),
     * split at PLAN_CALLS_BLOCK_MAX records. */
    static const char q_rows[] =
        "SELECT fingerprint, database, ts, plan_fp, us FROM plan_calls"
        " ORDER BY fingerprint, database, (ts - ((ts % 60000000) + 60000000) % 60000000), id";
    sqlite3_stmt *rows = NULL, *ins = NULL;
    struct plan_call *v = NULL;
    size_t nv = 0, a = 0;
    struct sbuf buf;
    char *kdb = NULL;
    size_t kdb_len = 0;
    int64_t kfp = 0, kmin = 0;
    int ret = -1, rc;

    sbuf_init(&buf, 0);
    if (sqlite3_prepare_v2(db, q_rows, -1, &rows, NULL) != SQLITE_OK ||
        plan_calls_prepare(db, &ins) < 0) {
        mig_err(db, d);
        goto out;
    }
    for (;;) {
        rc = sqlite3_step(rows);
        bool row = rc == SQLITE_ROW;
        int64_t fp = 0, ts = 0;
        const unsigned char *t = NULL;
        size_t t_len = 0;
        if (row) {
            fp = sqlite3_column_int64(rows, 0);
            t = sqlite3_column_text(rows, 1);
            t_len = t ? (size_t)sqlite3_column_bytes(rows, 1) : 0;
            ts = sqlite3_column_int64(rows, 2);
        }
        bool flush = nv && (!row || nv == PLAN_CALLS_BLOCK_MAX || fp != kfp ||
                            plan_calls_minute(ts) != kmin || t_len != kdb_len ||
                            (t_len && memcmp(t, kdb, t_len)));
        if (flush) {
            int r = plan_calls_insert(ins, &buf, (uint64_t)kfp, kdb, kdb_len, v, nv);
            if (r < 0) {
                if (r == -2)
                    diag_set(d, DIAG_LIMIT, "plan record block too large");
                else
                    mig_err(db, d);
                goto out;
            }
            nv = 0;
        }
        if (!row)
            break;
        if (!nv) {
            free(kdb);
            kdb = xmemdupz(t ? (const char *)t : "", t_len);
            kdb_len = t_len;
            kfp = fp;
            kmin = plan_calls_minute(ts);
        }
        XGROW(v, nv + 1, a);
        v[nv++] = (struct plan_call){ (uint64_t)sqlite3_column_int64(rows, 3), ts,
                                      sqlite3_column_type(rows, 4) == SQLITE_NULL
                                          ? -1
                                          : sqlite3_column_int64(rows, 4) };
        if (v[nv - 1].us < 0)
            v[nv - 1].us = -1;
    }
    if (rc != SQLITE_DONE) {
        mig_err(db, d);
        goto out;
    }
    sqlite3_finalize(rows);
    rows = NULL;
    if (sqlite3_exec(db, "DROP TABLE plan_calls", NULL, NULL, NULL) != SQLITE_OK) {
        mig_err(db, d);
        goto out;
    }
    ret = 0;
out:
    sqlite3_finalize(rows);
    sqlite3_finalize(ins);
    sbuf_release(&buf);
    free(kdb);
    free(v);
    return ret;
}
