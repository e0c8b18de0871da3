/* SPDX-License-Identifier: MIT */
/*
 * record_ids.c - records counted once by their own id: table record_ids
 * (schema/014_record_ids.sql, docs/store.md "Exactly once").
 *
 * A file is read once by its identity (sources), but two Supabase exports of overlapping
 * time windows are two files holding the same events. Their records carry an id (the
 * parser hashes it into event.record_key), so the store counts each id once:
 *
 *   - store_batch_add() asks record_seen() first. A key already taken by this batch, or
 *     found in the store, makes the record a duplicate: read, reported, not counted.
 *     The store is looked up through a read-only connection of the batch's own (the
 *     batch fills on its reader's thread while the writer connection may be committing
 *     another reader's batch); in WAL mode it sees every committed transaction.
 *   - store_commit_batch() writes the batch's keys in the transaction of the aggregates
 *     they went to. A key that is there already was committed after record_seen() looked
 *     (two readers, or two processes, with the same record at once): the batch is stale
 *     and rolled back, and its reader reads it again, now finding the key.
 *
 * Owns: the batch's keys and its lookup connection.
 */
#include <sqlite3.h>
#include <stdlib.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "store/store_int.h"

struct key_lookup {
    sqlite3 *db;
    sqlite3_stmt *q;
    bool failed; /* could not open or read: every key is taken as new (the commit checks) */
    bool in_txn; /* a read transaction is open: one snapshot for the batch's lookups */
};

struct key_find {
    const struct store_batch *b;
    uint64_t key;
};

static bool key_eq(const void *ctx, uint32_t idx)
{
    const struct key_find *f = ctx;
    return f->b->keys[idx] == f->key;
}

static void lookup_close(struct key_lookup *l)
{
    if (l->in_txn)
        (void)sqlite3_exec(l->db, "COMMIT", NULL, NULL, NULL);
    l->in_txn = false;
    sqlite3_finalize(l->q);
    sqlite3_close(l->db);
    l->q = NULL;
    l->db = NULL;
}

/* Said once per batch; from then on every key is taken as new (the commit checks). */
static void lookup_fail(const struct store_batch *b, struct key_lookup *l)
{
    log_warn("store '%s': cannot look up record ids (%s): records are checked when committed",
             b->key_path, l->db ? sqlite3_errmsg(l->db) : "out of memory");
    lookup_close(l);
    l->failed = true;
}

static struct key_lookup *lookup_open(struct store_batch *b)
{
    struct key_lookup *l = xcalloc(1, sizeof(*l));
    b->lookup = l;
    if (sqlite3_open_v2(b->key_path, &l->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK ||
        sqlite3_busy_timeout(l->db, 10000) != SQLITE_OK ||
        sqlite3_prepare_v2(l->db, "SELECT 1 FROM record_ids WHERE id = ?1", -1, &l->q, NULL) !=
            SQLITE_OK)
        lookup_fail(b, l);
    return l;
}

/* 1 when the store holds @key, 0 when not (or it cannot be asked). The lookups of one
 * batch share one read transaction (record_ids_reset() ends it): a statement outside a
 * transaction takes and drops the WAL read lock and checks the file every time, system
 * calls that were most of the cost of a lookup. The snapshot is as good as a fresh one:
 * a key committed after it is the commit's conflict either way. */
static int stored(struct store_batch *b, uint64_t key)
{
    struct key_lookup *l = b->lookup ? b->lookup : lookup_open(b);
    if (l->failed)
        return 0;
    if (!l->in_txn) {
        if (sqlite3_exec(l->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
            lookup_fail(b, l);
            return 0;
        }
        l->in_txn = true;
    }
    sqlite3_bind_int64(l->q, 1, (int64_t)key);
    int rc = sqlite3_step(l->q);
    sqlite3_reset(l->q);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc != SQLITE_DONE)
        lookup_fail(b, l);
    return 0;
}

bool record_seen(struct store_batch *b, uint64_t key)
{
    struct key_find f = { b, key };
    if (htab_find(&b->keys_ix, key, key_eq, &f) >= 0)
        return true;
    if (b->key_path && stored(b, key))
        return true;
    XGROW(b->keys, b->n_keys + 1, b->a_keys);
    b->keys[b->n_keys] = key;
    htab_insert(&b->keys_ix, key, (uint32_t)b->n_keys);
    b->n_keys++;
    return false;
}

int record_ids_write(struct store *s, const struct store_batch *b, int64_t now, struct diag *d)
{
    if (!b->n_keys)
        return 0;
    /* Kept from when they were read (an old export read twice a week apart counts once),
     * not from the records' own time. */
    int64_t minute = (now < 0 ? 0 : now) / (60 * USEC_PER_SEC);
    sqlite3_stmt *st = store_stmt(s, SQL_RECORD_ID_ADD);
    int stale = 0;
    for (size_t i = 0; i < b->n_keys; i++) {
        sqlite3_bind_int64(st, 1, (int64_t)b->keys[i]);
        sqlite3_bind_int64(st, 2, minute);
        if (sqlite3_step(st) != SQLITE_DONE) {
            store_db_error(s, d, "cannot write record ids");
            sqlite3_reset(st);
            return -1;
        }
        sqlite3_reset(st);
        if (sqlite3_changes(s->db) == 0)
            stale = 1; /* committed by another reader since record_seen() */
    }
    return stale;
}

void record_ids_reset(struct store_batch *b)
{
    struct key_lookup *l = b->lookup;
    if (l && l->in_txn) { /* the next batch's lookups see what was committed since */
        l->in_txn = false;
        if (sqlite3_exec(l->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
            lookup_fail(b, l);
    }
    b->n_keys = 0;
    b->duplicates = 0;
    htab_clear(&b->keys_ix);
}

void record_ids_free(struct store_batch *b)
{
    htab_release(&b->keys_ix);
    free(b->keys);
    free(b->key_path);
    if (b->lookup)
        lookup_close(b->lookup);
    free(b->lookup);
    b->keys = NULL;
    b->key_path = NULL;
    b->lookup = NULL;
}
