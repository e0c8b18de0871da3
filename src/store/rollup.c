/* SPDX-License-Identifier: MIT */
/*
 * Retention: minute rows roll up into hour rows, hour rows into day rows (sums added,
 * extremes combined, sketches merged, so percentiles over old windows keep their 1 %),
 * and what is older than the longest retention is deleted. One transaction: a crash
 * leaves either the old rows or the rolled-up ones, never both or neither.
 *
 * Only whole hours (days) are rolled: the cut-off is aligned down, so minute rows of the
 * hour that contains the cut-off stay minutes until the whole hour is old enough.
 */
#include "core/clock.h"
#include "store/store_int.h"

static int64_t align_down(int64_t v, int64_t unit)
{
    int64_t r = v % unit;
    return r < 0 ? v - r - unit : v - r;
}

static int run(struct store *s, enum store_sql which, int64_t a, int64_t b, int64_t c,
               uint64_t *changes, struct diag *d)
{
    sqlite3_stmt *st = store_stmt(s, which);
    int n = sqlite3_bind_parameter_count(st);
    if (n >= 1)
        sqlite3_bind_int64(st, 1, a);
    if (n >= 2)
        sqlite3_bind_int64(st, 2, b);
    if (n >= 3)
        sqlite3_bind_int64(st, 3, c);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        store_db_error(s, d, "cannot roll up old statistics");
        sqlite3_reset(st);
        return -1;
    }
    sqlite3_reset(st);
    if (changes)
        *changes += (uint64_t)sqlite3_changes64(s->db);
    return 0;
}

/* Roll rows of width `from` with bucket < cut into rows of width `to`. */
static int roll(struct store *s, int64_t from, int64_t to, int64_t cut, uint64_t *rolled,
                struct diag *d)
{
    return run(s, SQL_ROLL_AGG, from, to, cut, NULL, d) < 0 ||
                   run(s, SQL_ROLL_AGG_DEL, from, to, cut, rolled, d) < 0 ||
                   run(s, SQL_ROLL_ERR, from, to, cut, NULL, d) < 0 ||
                   run(s, SQL_ROLL_ERR_DEL, from, to, cut, NULL, d) < 0 ||
                   run(s, SQL_ROLL_REC, from, to, cut, NULL, d) < 0 ||
                   run(s, SQL_ROLL_REC_DEL, from, to, cut, NULL, d) < 0 ||
                   run(s, SQL_ROLL_INP, from, to, cut, NULL, d) < 0 ||
                   run(s, SQL_ROLL_INP_DEL, from, to, cut, NULL, d) < 0
               ? -1
               : 0;
}

void store_cuts_at(const struct store *s, int64_t now_us, struct store_cuts *c)
{
    const struct store_retention *r = &s->opts.retention;
    int64_t now_s = now_us / USEC_PER_SEC;
    c->minutes = align_down(now_s - r->minutes_us / USEC_PER_SEC, 3600);
    c->hours = align_down(now_s - r->hours_us / USEC_PER_SEC, 86400);
    c->days = align_down(now_s - r->days_us / USEC_PER_SEC, 86400);
    /* (store_open() keeps hours at least as long as minutes: hours <= minutes) */
}

/* The roll-up proper, in one transaction. */
static int rollup_tx(struct store *s, const struct store_retention *r,
                     const struct store_cuts *cuts, int64_t cut_sources, int64_t now_us,
                     struct store_rollup_stats *stats, struct diag *d)
{
    int64_t cut_minutes = cuts->minutes, cut_hours = cuts->hours, cut_days = cuts->days;
    if (store_exec(s, SQL_BEGIN, d) < 0)
        return -1;
    if (roll(s, 60, 3600, cut_minutes, &stats->minute_rows, d) < 0 ||
        roll(s, 3600, 86400, cut_hours, &stats->hour_rows, d) < 0 ||
        run(s, SQL_EXPIRE_AGG, cut_days, 0, 0, &stats->day_rows, d) < 0 ||
        run(s, SQL_EXPIRE_ERR, cut_days, 0, 0, NULL, d) < 0 ||
        run(s, SQL_EXPIRE_REC, cut_days, 0, 0, NULL, d) < 0 ||
        run(s, SQL_EXPIRE_INP, cut_days, 0, 0, NULL, d) < 0 ||
        evblocks_expire(s, now_us - r->events_us, &stats->events, d) < 0 ||
        run(s, SQL_EXPIRE_QUERIES, now_us - r->days_us, 0, 0, &stats->queries, d) < 0 ||
        run(s, SQL_EXPIRE_QIDS, now_us - r->days_us, 0, 0, NULL, d) < 0 ||
        run(s, SQL_EXPIRE_SOURCES, cut_sources, 0, 0, &stats->sources, d) < 0 ||
        run(s, SQL_EXPIRE_MARKS, 0, 0, 0, NULL, d) < 0 ||
        run(s, SQL_EXPIRE_RECORD_IDS, cut_minutes / 60, 0, 0, NULL, d) < 0 ||
        run(s, SQL_EXPIRE_REJECTS, now_us - r->events_us, 0, 0, NULL, d) < 0 ||
        run(s, SQL_EXPIRE_REJ_SAMPLES, 0, 0, 0, NULL, d) < 0 ||
        plans_expire(s, now_us - r->days_us, d) < 0 || store_exec(s, SQL_COMMIT, d) < 0) {
        if (!sqlite3_get_autocommit(s->db))
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

int store_rollup(struct store *s, int64_t now_us, struct store_rollup_stats *stats, struct diag *d)
{
    const struct store_retention *r = &s->opts.retention;
    struct store_rollup_stats local = { 0 };
    struct store_cuts cuts;
    store_cuts_at(s, now_us, &cuts);
    int64_t cut_days = cuts.days;
    /* A stream's row goes once nothing it produced can still be in the store: day rows
     * from cut_days on, events and rejects for their own retention. Until then reading
     * the file again must find it, or its records would count twice. */
    int64_t cut_sources = now_us - r->events_us;
    if (cut_days * USEC_PER_SEC < cut_sources)
        cut_sources = cut_days * USEC_PER_SEC;

    if (s->opts.read_only)
        BUG("store_rollup on a read-only store");
    if (!stats)
        stats = &local;
    *stats = local;
    /* The GROUP BYs sort every row they roll: in temporary files, not in memory as the
     * store's other statements do (temp_store = MEMORY), or a roll-up of 864 000 minute
     * rows holds 118 MB instead of 16 (docs/performance.md, session 23). */
    sqlite3_exec(s->db, "PRAGMA temp_store = FILE", NULL, NULL, NULL);
    int rc = rollup_tx(s, r, &cuts, cut_sources, now_us, stats, d);
    sqlite3_exec(s->db, "PRAGMA temp_store = MEMORY", NULL, NULL, NULL);
    return rc;
}
