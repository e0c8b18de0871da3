/* SPDX-License-Identifier: MIT */
/*
 * events.c - the event_blocks table (schema/006_event_blocks.sql): writing a chunk of
 * event rows as one packed block (evblock.h), reading the events of a window back in
 * the order and with the filters the old per-event table had, expiry, and converting
 * the rows of stores older than version 6.
 *
 * Order: events come back by (ts, block id, place in the block). Blocks are written in
 * record order and hold their chunk's events in record order, so this is the old
 * (ts, id) order. With a limit, blocks are read newest ts_max first and the reading
 * stops as soon as no further block can hold one of the newest `limit` events.
 */
#include <stdlib.h>
#include <string.h>

#include "core/heap.h"
#include "core/limits.h"
#include "core/xalloc.h"
#include "store/evblock.h"
#include "store/store_int.h"

/* ---- writing ---- */

static int insert_block(sqlite3 *db, sqlite3_stmt *st, const struct evblock_enc *enc,
                        uint32_t kinds, struct diag *d)
{
    struct span blob = evblock_enc_blob(enc);
    sqlite3_bind_int64(st, 1, enc->ts_min);
    sqlite3_bind_int64(st, 2, enc->ts_max);
    sqlite3_bind_int64(st, 3, (int64_t)enc->n);
    sqlite3_bind_int64(st, 4, kinds);
    sqlite3_bind_blob64(st, 5, blob.p, blob.len, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_bind_null(st, 5);
    if (rc != SQLITE_DONE)
        return diag_set(d, DIAG_DB, "cannot write events: %s", sqlite3_errmsg(db));
    return 0;
}

/* The event's kind bit, from its name (0 for a name this build does not know). */
static uint32_t kind_bit(const struct evb_cell *k)
{
    enum event_kind kind;
    if (k->s && event_kind_from_name(span_make(k->s, k->len), &kind))
        return UINT32_C(1) << kind;
    return 0;
}

/* Add one event to the open block; a block that would grow beyond its cap is written
 * first and a new one started. */
static int block_add(sqlite3 *db, sqlite3_stmt *st, struct evblock_enc *enc, uint32_t *kinds,
                     const struct evblock_event *x, uint32_t bit, int64_t ts_min, struct diag *d)
{
    if (evblock_enc_add(enc, x) == 0) {
        *kinds |= bit;
        return 0;
    }
    if (!enc->n)
        return diag_set(d, DIAG_DB, "cannot write events: one event exceeds %u bytes",
                        SIFT_MAX_EVBLOCK_BYTES);
    if (insert_block(db, st, enc, *kinds, d) < 0)
        return -1;
    evblock_enc_start(enc, ts_min);
    *kinds = 0;
    return block_add(db, st, enc, kinds, x, bit, ts_min, d);
}

int evblocks_write_chunk(struct store *s, const struct store_ev_chunk *c, struct diag *d)
{
    if (!c->n)
        return 0;
    return insert_block(s->db, store_stmt(s, SQL_EVB_INSERT), &c->enc, c->kinds, d);
}

/* ---- reading ---- */

/* The fact columns, in the order a row lists them: every column after the detail but
 * src, each with its type (evb_col_type()), named by event_fact_name() (the names of
 * `pgsift parse`, docs/classify.md) in the same order. */
static const struct {
    enum evb_col col;
    enum store_fact_type type;
} fact_cols[] = {
    { EVB_WAIT_MS, STORE_FACT_REAL },
    { EVB_LOCK_MODE, STORE_FACT_TEXT },
    { EVB_LOCK_OBJECT, STORE_FACT_TEXT },
    { EVB_TEMP_BYTES, STORE_FACT_INT },
    { EVB_TEMP_PATH, STORE_FACT_TEXT },
    { EVB_BUFFERS, STORE_FACT_INT },
    { EVB_WRITE_S, STORE_FACT_REAL },
    { EVB_SYNC_S, STORE_FACT_REAL },
    { EVB_TOTAL_S, STORE_FACT_REAL },
    { EVB_CAUSE, STORE_FACT_TEXT },
    { EVB_RELATION, STORE_FACT_TEXT },
    { EVB_TUPLES_REMOVED, STORE_FACT_INT },
    { EVB_TUPLES_REMAIN, STORE_FACT_INT },
    { EVB_ELAPSED_S, STORE_FACT_REAL },
    { EVB_HOST, STORE_FACT_TEXT },
    { EVB_STEP, STORE_FACT_TEXT },
    { EVB_LOCK_HOLDERS, STORE_FACT_TEXT },
    { EVB_LOCK_QUEUE, STORE_FACT_TEXT },
    { EVB_BLOCKER_PID, STORE_FACT_INT },
    { EVB_DISTANCE_KB, STORE_FACT_INT },
    { EVB_PORT, STORE_FACT_INT },
    { EVB_ESTIMATE_KB, STORE_FACT_INT },
    { EVB_WAL_ADDED, STORE_FACT_INT },
    { EVB_WAL_REMOVED, STORE_FACT_INT },
    { EVB_WAL_RECYCLED, STORE_FACT_INT },
    { EVB_SYNC_FILES, STORE_FACT_INT },
    { EVB_SYNC_LONGEST_S, STORE_FACT_REAL },
    { EVB_SYNC_AVERAGE_S, STORE_FACT_REAL },
    { EVB_TUPLES_DEAD, STORE_FACT_INT },
    { EVB_INDEX_SCANS, STORE_FACT_INT },
    { EVB_PAGES_REMOVED, STORE_FACT_INT },
    { EVB_PAGES_REMAIN, STORE_FACT_INT },
    { EVB_PAGES_SCANNED, STORE_FACT_INT },
    { EVB_BUFFER_HITS, STORE_FACT_INT },
    { EVB_BUFFER_MISSES, STORE_FACT_INT },
    { EVB_BUFFER_DIRTIED, STORE_FACT_INT },
    { EVB_READ_MB_S, STORE_FACT_REAL },
    { EVB_WRITE_MB_S, STORE_FACT_REAL },
    { EVB_WAL_RECORDS, STORE_FACT_INT },
    { EVB_WAL_FPI, STORE_FACT_INT },
    { EVB_WAL_BYTES, STORE_FACT_INT },
    { EVB_SETUP_MS, STORE_FACT_REAL },
    { EVB_FORK_MS, STORE_FACT_REAL },
    { EVB_AUTH_MS, STORE_FACT_REAL },
};

/* every column but the 10 before wait_ms and src */
_Static_assert(ARRAY_SIZE(fact_cols) == EVB_NCOLS - EVB_WAIT_MS - 1, "one entry per fact column");
_Static_assert(ARRAY_SIZE(fact_cols) == EVENT_N_FACTS, "a name for each (event_fact_name())");
_Static_assert(ARRAY_SIZE(fact_cols) <= STORE_MAX_FACTS, "room for every fact");
_Static_assert(EV_KIND_COUNT <= 32, "kinds fit the block mask");

static const char *cell_s(const struct evblock_event *x, enum evb_col c)
{
    return x->present & evb_bit(c) ? x->c[c].s : NULL;
}

static void fill_row(const struct evblock_event *x, int64_t id, struct store_event_row *r)
{
    memset(r, 0, sizeof(*r));
    r->id = id;
    r->ts_us = x->ts;
    r->kind = cell_s(x, EVB_KIND);
    r->severity = cell_s(x, EVB_SEVERITY);
    r->sqlstate = cell_s(x, EVB_SQLSTATE);
    r->database = cell_s(x, EVB_DATABASE);
    r->user = cell_s(x, EVB_USERNAME);
    r->application = cell_s(x, EVB_APPLICATION);
    r->pid = x->present & evb_bit(EVB_PID) ? x->c[EVB_PID].i : -1;
    r->has_fingerprint = (x->present & evb_bit(EVB_FINGERPRINT)) != 0;
    r->fingerprint = r->has_fingerprint ? (uint64_t)x->c[EVB_FINGERPRINT].i : 0;
    r->message = cell_s(x, EVB_MESSAGE);
    r->detail = cell_s(x, EVB_DETAIL);
    for (size_t i = 0; i < ARRAY_SIZE(fact_cols); i++) {
        enum evb_col c = fact_cols[i].col;
        if (!(x->present & evb_bit(c)))
            continue;
        struct store_fact *f = &r->facts[r->n_facts++];
        f->name = event_fact_name(i);
        f->type = fact_cols[i].type;
        switch (f->type) {
        case STORE_FACT_INT: f->i = x->c[c].i; break;
        case STORE_FACT_REAL: f->r = x->c[c].r; break;
        case STORE_FACT_TEXT: f->s = x->c[c].s; break;
        }
    }
    r->src = cell_s(x, EVB_SRC);
}

/* An event's place: ordered by (ts, block, index). */
struct evref {
    int64_t ts, bid;
    uint32_t idx, blk; /* place in the block; index into the scan's blocks */
    size_t off;        /* where the event starts in the block */
};

static int ref_cmp(const struct evref *a, const struct evref *b)
{
    if (a->ts != b->ts)
        return a->ts < b->ts ? -1 : 1;
    if (a->bid != b->bid)
        return a->bid < b->bid ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int ref_qcmp(const void *a, const void *b)
{
    return ref_cmp(a, b);
}

struct blk {
    int64_t id;
    unsigned char *data;
    size_t len;
};

struct scan {
    const struct store_events_opts *o;
    size_t db_len, user_len;
    const char *kind_ptr; /* the last kind text looked up (texts repeat by reference) */
    uint32_t kind_bit;
    struct blk *blks;
    size_t n_blks, a_blks;
    struct evref *refs; /* with a limit: a min-heap of the newest `limit` */
    size_t n_refs, a_refs;
    uint64_t *counts; /* store_event_counts(): count instead of collecting */
    struct evblock_event *x;
};

static bool text_eq(const struct evblock_event *x, enum evb_col c, const char *want, size_t n)
{
    return (x->present & evb_bit(c)) && x->c[c].len == n && !memcmp(x->c[c].s, want, n);
}

/* The old SQL filter: ts in [since, until), kind in the list, database, user equal. */
static bool wanted(struct scan *sc, const struct evblock_event *x, uint32_t *bit)
{
    const struct store_events_opts *o = sc->o;
    if (x->ts < o->since_us || x->ts >= o->until_us)
        return false;
    if (o->kinds || sc->counts) {
        const struct evb_cell *k = &x->c[EVB_KIND];
        if (k->s != sc->kind_ptr) {
            sc->kind_ptr = k->s;
            sc->kind_bit = kind_bit(k);
        }
        *bit = sc->kind_bit;
        if (o->kinds && !(sc->kind_bit & o->kinds))
            return false;
    }
    if (o->database && !text_eq(x, EVB_DATABASE, o->database, sc->db_len))
        return false;
    if (o->user && !text_eq(x, EVB_USERNAME, o->user, sc->user_len))
        return false;
    return true;
}

/* The heap of the newest `limit` events (core/heap.h): the oldest kept at its root. */
static int ref_newer_first(const void *a, const void *b)
{
    return ref_cmp(b, a);
}

static void keep_ref(struct scan *sc, const struct evref *r)
{
    size_t limit = sc->o->limit;
    if (!limit) {
        XGROW(sc->refs, sc->n_refs + 1, sc->a_refs);
        sc->refs[sc->n_refs++] = *r;
        return;
    }
    if (sc->n_refs < limit) {
        XGROW(sc->refs, sc->n_refs + 1, sc->a_refs);
        sc->refs[sc->n_refs] = *r;
        heap_up(sc->refs, sizeof(*sc->refs), sc->n_refs++, ref_newer_first);
    } else if (ref_cmp(r, &sc->refs[0]) > 0) {
        sc->refs[0] = *r;
        heap_down(sc->refs, sc->n_refs, sizeof(*sc->refs), 0, ref_newer_first);
    }
}

static int corrupt(struct store *s, int64_t id, const char *why, struct diag *d)
{
    return diag_set(d, DIAG_DB, "store '%s': event block %lld is corrupt (%s)", s->path,
                    (long long)id, why);
}

/* A row of event_blocks as selected (id, ts_min, ts_max, n, data), and the checks every
 * reader of a block makes: the row's own figures, the blob's header, and then each event
 * against them (blk_row_next()), so that a damaged block is an error naming it, whether
 * it is read for a report or rewritten by expiry. */
struct blk_row {
    int64_t id, ts_min, ts_max, n;
    const void *data;
    size_t len;
};

static void blk_row_get(struct blk_row *row, sqlite3_stmt *st)
{
    row->id = sqlite3_column_int64(st, 0);
    row->ts_min = sqlite3_column_int64(st, 1);
    row->ts_max = sqlite3_column_int64(st, 2);
    row->n = sqlite3_column_int64(st, 3);
    row->data = sqlite3_column_blob(st, 4);
    row->len = (size_t)sqlite3_column_bytes(st, 4);
}

static int blk_row_open(struct store *s, const struct blk_row *row, struct evblock_reader *rd,
                        struct diag *d)
{
    /* id: the events' ids are id * SIFT_MAX_EVBLOCK_EVENTS + place (store_events()) */
    if (row->id <= 0 || row->id > INT64_MAX / (int64_t)SIFT_MAX_EVBLOCK_EVENTS || row->n <= 0 ||
        row->n > (int64_t)SIFT_MAX_EVBLOCK_EVENTS || row->ts_min > row->ts_max)
        return corrupt(s, row->id, "bad row", d);
    if (evblock_open(rd, row->data, row->len) < 0)
        return corrupt(s, row->id, "unknown version or bad header", d);
    if (rd->ts_min != row->ts_min)
        return corrupt(s, row->id, "oldest time differs from the row's", d);
    return 0;
}

/* The event after @i others: 1 (in *x), 0 at the end of the blob, -1 (@d) damaged. */
static int blk_row_next(struct store *s, const struct blk_row *row, struct evblock_reader *rd,
                        int64_t i, struct evblock_event *x, struct diag *d)
{
    int rc = evblock_next(rd, x);
    if (rc == 0)
        return 0;
    if (rc < 0 || i >= row->n)
        return corrupt(s, row->id, rc < 0 ? "bad event" : "more events than the row says", d);
    if (x->ts > row->ts_max)
        return corrupt(s, row->id, "an event after the row's newest time", d);
    if (!(x->present & evb_bit(EVB_KIND)))
        return corrupt(s, row->id, "an event without a kind", d);
    return 1;
}

/* One block of the window: every event checked, the wanted ones kept (or counted). */
static int scan_block(struct store *s, struct scan *sc, sqlite3_stmt *st, struct diag *d)
{
    struct blk_row row;
    blk_row_get(&row, st);
    int64_t id = row.id, n = row.n;
    size_t len = row.len;
    struct evblock_reader rd;

    if (blk_row_open(s, &row, &rd, d) < 0)
        return -1;
    sc->kind_ptr = NULL; /* a pointer into the previous block's memory means nothing here */
    uint32_t blk = UINT32_MAX;
    if (!sc->counts) { /* the block is read again to emit its events: keep a copy */
        XGROW(sc->blks, sc->n_blks + 1, sc->a_blks);
        blk = (uint32_t)sc->n_blks;
        struct blk *b = &sc->blks[sc->n_blks++];
        b->id = id;
        b->len = len;
        b->data = xmalloc(len);
        memcpy(b->data, row.data, len);
        if (evblock_open(&rd, b->data, len) < 0)
            BUG("evblock_open of a copy");
    }
    int64_t i = 0;
    for (;; i++) {
        size_t off = rd.pos;
        int rc = blk_row_next(s, &row, &rd, i, sc->x, d);
        if (rc < 0)
            return -1;
        if (rc == 0)
            break;
        uint32_t bit = 0;
        if (!wanted(sc, sc->x, &bit))
            continue;
        if (sc->counts) {
            if (bit) /* one bit, of a kind this build knows (kind_bit()) */
                sc->counts[__builtin_ctz(bit)]++;
            continue;
        }
        keep_ref(sc, &(struct evref){ sc->x->ts, id, (uint32_t)i, blk, off });
    }
    if (i != n)
        return corrupt(s, id, "fewer events than the row says", d);
    return 0;
}

static void scan_release(struct scan *sc)
{
    for (size_t i = 0; i < sc->n_blks; i++)
        free(sc->blks[i].data);
    free(sc->blks);
    free(sc->refs);
    free(sc->x);
}

/* Read the window's blocks newest first until no further one can matter. */
static int scan_window(struct store *s, struct scan *sc, struct diag *d)
{
    const struct store_events_opts *o = sc->o;
    sqlite3_stmt *st = store_stmt(s, SQL_EVB_WINDOW);
    int rc, ret = 0;

    sc->db_len = o->database ? strlen(o->database) : 0;
    sc->user_len = o->user ? strlen(o->user) : 0;
    sc->x = xmalloc(sizeof(*sc->x));
    sqlite3_bind_int64(st, 1, o->since_us);
    sqlite3_bind_int64(st, 2, o->until_us);
    sqlite3_bind_int64(st, 3, o->kinds);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        /* every later block ends before the oldest of the newest `limit` kept */
        if (!sc->counts && o->limit && sc->n_refs == o->limit &&
            sqlite3_column_int64(st, 2) < sc->refs[0].ts)
            break;
        if (scan_block(s, sc, st, d) < 0) {
            ret = -1;
            break;
        }
    }
    if (!ret && rc != SQLITE_ROW && rc != SQLITE_DONE)
        ret = store_db_error(s, d, "cannot read events");
    sqlite3_reset(st);
    return ret;
}

int store_events(struct store *s, const struct store_events_opts *o, store_event_fn *fn, void *ctx,
                 struct diag *d)
{
    struct scan sc = { .o = o };
    int ret = scan_window(s, &sc, d);
    if (ret == 0) {
        if (sc.n_refs)
            qsort(sc.refs, sc.n_refs, sizeof(*sc.refs), ref_qcmp);
        for (size_t i = 0; i < sc.n_refs; i++) {
            const struct evref *r = &sc.refs[i];
            const struct blk *b = &sc.blks[r->blk];
            struct evblock_reader rd;
            struct store_event_row row;
            if (evblock_open(&rd, b->data, b->len) < 0)
                BUG("event block read twice differs");
            rd.pos = r->off;
            if (evblock_next(&rd, sc.x) != 1)
                BUG("event block read twice differs");
            /* a stable id of the event: its block and place (events have no row of
             * their own any more) */
            fill_row(sc.x, r->bid * (int64_t)SIFT_MAX_EVBLOCK_EVENTS + r->idx, &row);
            int stop = fn(ctx, &row);
            if (stop) {
                ret = stop;
                break;
            }
        }
    }
    scan_release(&sc);
    return ret;
}

int store_event_counts(struct store *s, const struct store_events_opts *o,
                       uint64_t counts[EV_KIND_COUNT], struct diag *d)
{
    memset(counts, 0, EV_KIND_COUNT * sizeof(*counts));
    struct scan sc = { .o = o, .counts = counts };
    int ret = scan_window(s, &sc, d);
    scan_release(&sc);
    return ret;
}

/* ---- expiry ---- */

int evblocks_expire(struct store *s, int64_t before_us, uint64_t *removed, struct diag *d)
{
    sqlite3_stmt *st = store_stmt(s, SQL_EXPIRE_EVB_COUNT);
    int rc;

    sqlite3_bind_int64(st, 1, before_us);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && removed)
        *removed += (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return store_db_error(s, d, "cannot expire events");
    st = store_stmt(s, SQL_EXPIRE_EVB_DEL);
    sqlite3_bind_int64(st, 1, before_us);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return store_db_error(s, d, "cannot expire events");

    /* Blocks straddling the cut-off lose their old events (rewritten under the same id,
     * so the order of what stays is unchanged). Read them all first: the table is
     * written below. */
    struct blk_row *rows = NULL;
    size_t n_cut = 0, a_rows = 0;
    st = store_stmt(s, SQL_EXPIRE_EVB_CUT);
    sqlite3_bind_int64(st, 1, before_us);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        XGROW(rows, n_cut + 1, a_rows);
        struct blk_row *row = &rows[n_cut++];
        blk_row_get(row, st);
        void *copy = xmalloc(row->len + 1);
        if (row->len)
            memcpy(copy, row->data, row->len);
        row->data = copy;
    }
    sqlite3_reset(st);
    int ret = 0;
    if (rc != SQLITE_DONE)
        ret = store_db_error(s, d, "cannot expire events");
    struct evblock_event *x = xmalloc(sizeof(*x));
    struct evblock_enc enc;
    evblock_enc_init(&enc);
    /* One pass per block, with the checks of a read: the events kept are re-encoded from
     * the first one's time, and an older one kept after it moves the base down
     * (evblock_enc_rebase(): the blob is then as if started at the oldest). */
    for (size_t i = 0; i < n_cut && !ret; i++) {
        const struct blk_row *row = &rows[i];
        struct evblock_reader rd;
        uint32_t kinds = 0;
        uint64_t gone = 0;
        bool started = false;
        int64_t k = 0;
        if ((ret = blk_row_open(s, row, &rd, d)) < 0)
            break;
        for (;; k++) {
            if ((rc = blk_row_next(s, row, &rd, k, x, d)) <= 0) {
                ret = rc;
                break;
            }
            if (x->ts < before_us) {
                gone++;
                continue;
            }
            if (!started) {
                evblock_enc_start(&enc, x->ts);
                started = true;
            } else if (x->ts < enc.ts_min && evblock_enc_rebase(&enc, x->ts) < 0) {
                ret = corrupt(s, row->id, "cannot re-encode", d);
                break;
            }
            if (evblock_enc_add(&enc, x) < 0) { /* it fitted before */
                ret = corrupt(s, row->id, "cannot re-encode", d);
                break;
            }
            kinds |= kind_bit(&x->c[EVB_KIND]);
        }
        if (ret)
            break;
        if (k != row->n) {
            ret = corrupt(s, row->id, "fewer events than the row says", d);
            break;
        }
        if (!started) { /* nothing newer after all (the row's ts_max was wrong) */
            ret = corrupt(s, row->id, "no event at the row's newest time", d);
            break;
        }
        if (removed)
            *removed += gone;
        struct span blob = evblock_enc_blob(&enc);
        st = store_stmt(s, SQL_EVB_UPDATE);
        sqlite3_bind_int64(st, 1, row->id);
        sqlite3_bind_int64(st, 2, enc.ts_min);
        sqlite3_bind_int64(st, 3, enc.ts_max);
        sqlite3_bind_int64(st, 4, (int64_t)enc.n);
        sqlite3_bind_int64(st, 5, kinds);
        sqlite3_bind_blob64(st, 6, blob.p, blob.len, SQLITE_STATIC);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        sqlite3_bind_null(st, 6);
        if (rc != SQLITE_DONE)
            ret = store_db_error(s, d, "cannot expire events");
    }
    evblock_enc_release(&enc);
    free(x);
    for (size_t i = 0; i < n_cut; i++)
        free((void *)rows[i].data);
    free(rows);
    return ret;
}

/* ---- stores older than version 6 ---- */

#define MIG_COLS                                                                            \
    "ts, kind, severity, sqlstate, database, username, application, pid, fingerprint,"      \
    " message, detail, wait_ms, lock_mode, lock_object, temp_bytes, temp_path, buffers,"    \
    " write_s, sync_s, total_s, cause, relation, tuples_removed, tuples_remain, elapsed_s," \
    " host, step, lock_holders, lock_queue, blocker_pid, distance_kb, port, src, id"

static int mig_err(sqlite3 *db, struct diag *d)
{
    return diag_set(d, DIAG_DB, "cannot convert events into blocks: %s", sqlite3_errmsg(db));
}

/* The row's columns as an event: each value read as its column's declared type (what
 * the old reader did: sqlite3_column_int64/double/text). Returns -1 (@d) for a row whose
 * time is not a number (a store edited by hand: the old reader would have read 0 or the
 * text's leading digits). */
static int mig_cells(sqlite3_stmt *st, struct evblock_event *x, struct diag *d)
{
    int type = sqlite3_column_type(st, 0);
    if (type != SQLITE_INTEGER && type != SQLITE_FLOAT)
        return diag_set(d, DIAG_DB,
                        "cannot convert events into blocks: event row %lld has a time (ts) "
                        "that is not a number but %s",
                        (long long)sqlite3_column_int64(st, EVB_NARROW_COLS + 1),
                        type == SQLITE_TEXT   ? "text"
                        : type == SQLITE_BLOB ? "a blob"
                                              : "NULL");
    x->ts = sqlite3_column_int64(st, 0);
    x->present = 0;
    x->src_split = false;
    for (int c = 0; c < EVB_NARROW_COLS; c++) { /* the old table's columns */
        int col = c + 1;
        if (sqlite3_column_type(st, col) == SQLITE_NULL)
            continue;
        x->present |= evb_bit(c);
        switch (evb_col_type((enum evb_col)c)) {
        case EVB_INT: x->c[c].i = sqlite3_column_int64(st, col); break;
        case EVB_REAL: x->c[c].r = sqlite3_column_double(st, col); break;
        case EVB_TEXT:
            x->c[c].s = (const char *)sqlite3_column_text(st, col);
            x->c[c].len = (size_t)sqlite3_column_bytes(st, col);
            break;
        }
    }
    return 0;
}

int evblocks_migrate(sqlite3 *db, struct diag *d)
{
    /* Chunks of STORE_EV_CHUNK_ROWS rows in id order: first their oldest time (the
     * block header needs it), then the rows. */
    static const char q_min[] = "SELECT min(ts), max(id) FROM (SELECT id, ts FROM events"
                                " WHERE id > ?1 ORDER BY id LIMIT ?2)";
    static const char q_rows[] = "SELECT " MIG_COLS " FROM events WHERE id > ?1 AND id <= ?2"
                                 " ORDER BY id";
    static const char q_ins[] = "INSERT INTO event_blocks (ts_min, ts_max, n, kinds, data)"
                                " VALUES (?1, ?2, ?3, ?4, ?5)";
    sqlite3_stmt *smin = NULL, *srows = NULL, *sins = NULL;
    struct evblock_enc enc;
    struct evblock_event *x = xmalloc(sizeof(*x));
    int64_t last = INT64_MIN;
    int ret = -1;

    evblock_enc_init(&enc);
    if (sqlite3_prepare_v2(db, q_min, -1, &smin, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, q_rows, -1, &srows, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, q_ins, -1, &sins, NULL) != SQLITE_OK) {
        mig_err(db, d);
        goto out;
    }
    for (;;) {
        sqlite3_bind_int64(smin, 1, last);
        sqlite3_bind_int64(smin, 2, STORE_EV_CHUNK_ROWS);
        if (sqlite3_step(smin) != SQLITE_ROW) {
            mig_err(db, d);
            goto out;
        }
        if (sqlite3_column_type(smin, 0) == SQLITE_NULL) {
            sqlite3_reset(smin);
            break; /* no rows left */
        }
        int64_t ts_min = sqlite3_column_int64(smin, 0), upto = sqlite3_column_int64(smin, 1);
        sqlite3_reset(smin);
        evblock_enc_start(&enc, ts_min);
        uint32_t kinds = 0;
        sqlite3_bind_int64(srows, 1, last);
        sqlite3_bind_int64(srows, 2, upto);
        int rc;
        while ((rc = sqlite3_step(srows)) == SQLITE_ROW) {
            if (mig_cells(srows, x, d) < 0) {
                sqlite3_reset(srows);
                goto out;
            }
            if (!(x->present & evb_bit(EVB_KIND)))
                continue; /* NOT NULL in the old table */
            if (block_add(db, sins, &enc, &kinds, x, kind_bit(&x->c[EVB_KIND]), ts_min, d) < 0) {
                sqlite3_reset(srows);
                goto out;
            }
        }
        sqlite3_reset(srows);
        if (rc != SQLITE_DONE) {
            mig_err(db, d);
            goto out;
        }
        if (enc.n && insert_block(db, sins, &enc, kinds, d) < 0)
            goto out;
        last = upto;
    }
    if (sqlite3_exec(db, "DROP TABLE events", NULL, NULL, NULL) != SQLITE_OK) {
        mig_err(db, d);
        goto out;
    }
    ret = 0;
out:
    sqlite3_finalize(smin);
    sqlite3_finalize(srows);
    sqlite3_finalize(sins);
    evblock_enc_release(&enc);
    free(x);
    return ret;
}
