/* SPDX-License-Identifier: MIT */
/*
 * metric_store - rule metrics from the store.
 *
 *   queries          store_top() per (database, user) partition of the window: calls,
 *                    times and percentiles merged from the per-minute sketches, the
 *                    catalogue's canonical text and first_seen
 *   errors, events   store_events() of the window, aggregated like the in-memory source
 *                    (wait_ms and temp_bytes facts; canonical text from the catalogue).
 *                    The decoded events are kept (below) for the next queries.
 *   plans            store_plan_changes_at(): the newest plan change of each query with
 *                    a plan record in the period, from the plan records before its end
 *   ingest           input_stats: records and rejected lines per input and minute (or
 *                    hour and day, rolled up: a row counts in the window its start is in)
 *
 * The watermark's bounds and the catalogue's texts are read with a read-only SQLite
 * connection of our own (the store's public API has no "newest record" query); those
 * statements only touch documented columns (docs/store.md).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/limits.h"
#include "core/xalloc.h"
#include "event.h"
#include "rules/rules_int.h"
#include "store/store.h"

/* Every rule on events or errors reads its window at every boundary, so a replay of a
 * day with a 30-minute window decoded each event block 30 times per rule: decoding was
 * 80 % of `rules test`. The events of [lo, hi) are kept decoded instead, in an in-memory
 * source that each query reads its window from: a boundary's queries are served by
 * decoding what the longest window adds to the last one. It holds only the records the
 * rules read (the kinds named by rules on events; errors), not every connection logged,
 * and only what the store held: a commit to the store that added or removed event
 * blocks empties it (PRAGMA data_version says something was committed - the rules' own
 * alert state too, at every boundary of `rules eval` -, then the blocks' count and
 * newest id say whether events changed), so the daemon decodes once per round, not once
 * per rule. At most
 * SIFT_MAX_RULE_CACHED_EVENTS are kept; a window with more (a lookback of weeks) is
 * decoded for its query alone, as before. */
struct evneed {
    uint32_t kinds; /* bit (1 << enum event_kind) per kind a rule on events reads */
    bool errors;    /* ERROR, FATAL and PANIC records, any kind (rules on errors) */
};

struct evcache {
    struct metric_source *mem; /* the events of [lo, hi) that `need` says */
    struct evneed need;
    int64_t lo, hi;
    int64_t span;      /* the longest window asked for */
    int64_t version;   /* the data_version they were decoded at */
    sqlite3_stmt *dv;  /* PRAGMA data_version */
    int64_t blocks[3]; /* event_blocks' count, newest id and newest event then */
    sqlite3_stmt *bc, *bm, *bt;
    sqlite3_stmt *est; /* events in the blocks that overlap a period (at least those in it) */
    int64_t max;       /* SIFT_MAX_RULE_CACHED_EVENTS; 0: no cache (tests) */
    int64_t decoded;   /* events decoded into it, all told (tests) */
};

struct mstore {
    struct metric_source ops;
    struct store *s;
    sqlite3 *ro;
    char *path;
    struct evcache ev;
    sqlite3_stmt *canon;   /* a fingerprint's canonical text */
    sqlite3_stmt *next[2]; /* ms_next() */
    sqlite3_stmt *inp;     /* query_ingest() */
};

static int db_err(struct mstore *m, struct diag *d)
{
    return diag_set(d, DIAG_DB, "store '%s': %s", m->path, sqlite3_errmsg(m->ro));
}

/* The first column of @sql's first row, with @nbind int64 parameters, on the read-only
 * connection; *null when there is no row or it is NULL. With @cache the statement is kept
 * there for the next call, else prepared for this one. */
static int scalar(struct mstore *m, sqlite3_stmt **cache, const char *sql, const int64_t *bind,
                  int nbind, int64_t *out, bool *null, struct diag *d)
{
    sqlite3_stmt *st = cache ? *cache : NULL;
    if (!st && sqlite3_prepare_v2(m->ro, sql, -1, &st, NULL) != SQLITE_OK)
        return db_err(m, d);
    if (cache)
        *cache = st;
    for (int i = 0; i < nbind; i++)
        sqlite3_bind_int64(st, i + 1, bind[i]);
    int rc = sqlite3_step(st);
    *null = rc != SQLITE_ROW || sqlite3_column_type(st, 0) == SQLITE_NULL;
    *out = *null ? 0 : sqlite3_column_int64(st, 0);
    if (cache)
        sqlite3_reset(st);
    else
        sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_err(m, d);
}

static bool in_list(const struct rule_strlist *l, const char *v)
{
    if (!l || !l->n)
        return true;
    for (size_t i = 0; v && i < l->n; i++)
        if (!strcmp(l->v[i], v))
            return true;
    return false;
}

/* ---- queries ---- */

static double row_value(const struct store_top_row *r, enum rule_metric m)
{
    switch (m) {
    case MET_CALLS: return (double)r->calls;
    case MET_TOTAL_MS: return r->total_ms;
    case MET_MEAN_MS: return r->mean_ms;
    case MET_P50_MS: return r->p50_ms;
    case MET_P95_MS: return r->p95_ms;
    case MET_P99_MS: return r->p99_ms;
    case MET_MAX_MS: return r->max_ms;
    default: return 0;
    }
}

static bool same_dims(const char *const *a, const char *const *b)
{
    for (unsigned k = 0; k < DIM_COUNT; k++)
        if (!(!a[k] && !b[k]) && !(a[k] && b[k] && !strcmp(a[k], b[k])))
            return false;
    return true;
}

/* A group's value from its calls and time, where partitions add up: sums and their mean
 * (max_ms and percentiles are taken as they come). */
static void partition_value(enum rule_metric metric, struct metric_group *g)
{
    if (metric == MET_CALLS)
        g->value = g->count;
    else if (metric == MET_TOTAL_MS)
        g->value = g->total_ms;
    else if (metric == MET_MEAN_MS)
        g->value = g->count ? g->total_ms / g->count : 0;
}

/* One read of the window, split by database and/or user when the rule groups or filters
 * by them. A statement logged without a database (or user: a stderr prefix without %d
 * or %u) is in the partition of the empty value, as records are over parse output:
 * rules grouping by database fire on such logs too (label database=""). */
static int query_queries(struct mstore *m, const struct metric_query *q, struct metric_result *out,
                         struct diag *d)
{
    const struct rule_strlist *dbs = q->where ? &q->where->in[DIM_DATABASE] : NULL;
    const struct rule_strlist *users = q->where ? &q->where->in[DIM_USER] : NULL;
    const struct rule_strlist *fps = q->where ? &q->where->in[DIM_FINGERPRINT] : NULL;
    bool by_db = q->group_mask & (1u << DIM_DATABASE), by_user = q->group_mask & (1u << DIM_USER);
    bool by_fp = q->group_mask & (1u << DIM_FINGERPRINT);
    bool split_db = by_db || (dbs && dbs->n), split_user = by_user || (users && users->n);
    struct store_top top;
    struct store_top_opts o = { .since_us = q->from_us,
                                .until_us = q->to_us,
                                .by = STORE_BY_CALLS,
                                .split_database = split_db,
                                .split_user = split_user };
    size_t first = out->n;

    if (store_top(m->s, &o, &top, d) < 0)
        return -1;
    for (size_t i = 0; i < top.n; i++) {
        const struct store_top_row *r = &top.rows[i];
        char hex[17];
        const char *dims[DIM_COUNT] = { NULL };
        snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)r->fingerprint);
        if (!r->fingerprint || !r->calls || !in_list(fps, hex) ||
            (split_db && !in_list(dbs, r->database)) || (split_user && !in_list(users, r->user)))
            continue;
        dims[DIM_DATABASE] = by_db ? r->database : NULL;
        dims[DIM_USER] = by_user ? r->user : NULL;
        if (by_fp) {
            dims[DIM_FINGERPRINT] = hex;
            struct metric_group *g = metric_result_add(out, dims, *r->query ? r->query : NULL);
            g->value = row_value(r, q->metric);
            g->count = (double)r->calls;
            g->total_ms = r->total_ms;
            g->first_seen_us = r->first_seen_us == INT64_MIN ? 0 : r->first_seen_us;
            continue;
        }
        /* One group per partition: sums and maxima add up, percentiles do not (the loader
         * requires group_by fingerprint for them). */
        struct metric_group *agg = NULL;
        for (size_t k = first; k < out->n && !agg; k++) /* one per partition: few */
            if (same_dims(out->g[k].dims, dims))
                agg = &out->g[k];
        if (!agg)
            agg = metric_result_add(out, dims, NULL);
        agg->count += (double)r->calls;
        agg->total_ms += r->total_ms;
        if (q->metric == MET_MAX_MS && r->max_ms > agg->value)
            agg->value = r->max_ms;
    }
    store_top_release(&top);
    if (!by_fp && q->metric != MET_MAX_MS)
        for (size_t i = first; i < out->n; i++) {
            out->g[i].value = 0; /* percentiles of a partition need group_by fingerprint */
            partition_value(q->metric, &out->g[i]);
        }
    /* Filtering by database or user without grouping by it: merge the partitions. */
    if ((split_db && !by_db) || (split_user && !by_user)) {
        size_t w = 0;
        for (size_t i = 0; i < out->n; i++) {
            size_t k = 0;
            while (k < w && !same_dims(out->g[k].dims, out->g[i].dims))
                k++;
            if (k == w) {
                out->g[w++] = out->g[i];
                continue;
            }
            /* Percentiles of merged partitions would need the sketches: the loader
             * requires grouping by what is filtered for them. */
            struct metric_group *g = &out->g[k];
            g->count += out->g[i].count;
            g->total_ms += out->g[i].total_ms;
            if (q->metric != MET_CALLS && q->metric != MET_TOTAL_MS && q->metric != MET_MEAN_MS &&
                out->g[i].value > g->value)
                g->value = out->g[i].value; /* max_ms; a bound for percentiles */
            partition_value(q->metric, g);
        }
        out->n = w;
    }
    return 0;
}

/* ---- errors and events ---- */

struct ev_ctx {
    struct metric_source *mem;
    const struct evneed *need;
    int64_t *decoded;
    const char *kind; /* the last kind text looked up, and whether it is needed */
    bool kind_needed;
    char hex[17];
};

static bool is_error(const char *severity)
{
    return severity &&
           (!strcmp(severity, "ERROR") || !strcmp(severity, "FATAL") || !strcmp(severity, "PANIC"));
}

static int on_event(void *ctx, const struct store_event_row *r)
{
    struct ev_ctx *c = ctx;
    if (r->kind != c->kind) {
        enum event_kind k;
        c->kind = r->kind;
        c->kind_needed = r->kind && event_kind_from_name(span_cstr(r->kind), &k) &&
                         (c->need->kinds & (UINT32_C(1) << k));
    }
    if (!c->kind_needed && !(c->need->errors && is_error(r->severity)))
        return 0;
    if (c->decoded)
        (*c->decoded)++;
    struct mem_record m = {
        .ts_us = r->ts_us,
        .kind = r->kind,
        .severity = r->severity,
        .database = r->database,
        .user = r->user,
        .application = r->application,
        .sqlstate = r->sqlstate,
        .duration_ms = -1,
        .wait_ms = -1,
        .size_bytes = -1,
        .tuples_dead = -1,
        .setup_ms = -1,
        .pid = r->pid > 0 ? r->pid : 0,
    };
    for (size_t i = 0; i < r->n_facts; i++) {
        if (!strcmp(r->facts[i].name, "wait_ms"))
            m.wait_ms = r->facts[i].type == STORE_FACT_REAL ? r->facts[i].r : (double)r->facts[i].i;
        else if (!strcmp(r->facts[i].name, "temp_bytes"))
            m.size_bytes = r->facts[i].i;
        else if (!strcmp(r->facts[i].name, "step") && r->facts[i].type == STORE_FACT_TEXT)
            m.step = r->facts[i].s;
        else if (!strcmp(r->facts[i].name, "cause") && r->facts[i].type == STORE_FACT_TEXT)
            m.cause = r->facts[i].s;
        else if (!strcmp(r->facts[i].name, "relation") && r->facts[i].type == STORE_FACT_TEXT)
            m.relation = r->facts[i].s;
        else if (!strcmp(r->facts[i].name, "tuples_dead") && r->facts[i].type == STORE_FACT_INT)
            m.tuples_dead = r->facts[i].i;
        else if (!strcmp(r->facts[i].name, "setup_ms") && r->facts[i].type == STORE_FACT_REAL)
            m.setup_ms = r->facts[i].r;
    }
    if (r->has_fingerprint) {
        snprintf(c->hex, sizeof(c->hex), "%016llx", (unsigned long long)r->fingerprint);
        m.fingerprint = c->hex;
    }
    metric_mem_add(c->mem, &m);
    return 0;
}

/* The catalogue's canonical text of a fingerprint (events carry only the fingerprint). */
static int canonical(struct mstore *m, const char *hex, char **out, struct diag *d)
{
    unsigned long long fp = strtoull(hex, NULL, 16);

    *out = NULL;
    if (!m->canon && sqlite3_prepare_v2(m->ro, "SELECT query FROM queries WHERE fingerprint = ?",
                                        -1, &m->canon, NULL) != SQLITE_OK)
        return db_err(m, d);
    sqlite3_bind_int64(m->canon, 1, (sqlite3_int64)fp);
    int rc = sqlite3_step(m->canon);
    if (rc == SQLITE_ROW && sqlite3_column_text(m->canon, 0))
        *out = xstrdup((const char *)sqlite3_column_text(m->canon, 0));
    sqlite3_reset(m->canon);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_err(m, d);
}

/* Decode the events of [from, to) that @need says into @mem. */
static int decode(struct mstore *m, struct metric_source *mem, int64_t from, int64_t to,
                  const struct evneed *need, struct diag *d)
{
    struct ev_ctx c = { .mem = mem,
                        .need = need,
                        .decoded = mem == m->ev.mem ? &m->ev.decoded : NULL };
    struct store_events_opts o = { .since_us = from, .until_us = to };
    if (!need->errors)
        o.kinds = need->kinds; /* blocks without them are not read */
    return store_events(m->s, &o, on_event, &c, d) < 0 ? -1 : 0;
}

/* At most how many events [from, to) holds: those of the blocks that overlap it. */
static int events_in(struct mstore *m, int64_t from, int64_t to, int64_t *n, struct diag *d)
{
    bool null;
    return scalar(m, &m->ev.est,
                  "SELECT total(n) FROM event_blocks WHERE ts_max >= ?1 AND ts_min < ?2",
                  (int64_t[]){ from, to }, 2, n, &null, d);
}

/* Make the cache hold every event of [from, to). Returns 1 when it does, 0 when that
 * would be more than SIFT_MAX_RULE_CACHED_EVENTS, -1 on an error. */
static int cache_cover(struct mstore *m, const struct evneed *need, int64_t from, int64_t to,
                       struct diag *d)
{
    struct evcache *c = &m->ev;
    int64_t version, lo, hi, older = 0, newer = 0;

    if (!c->max)
        return 0;
    if ((need->kinds & ~c->need.kinds) || (need->errors && !c->need.errors)) {
        c->need.kinds |= need->kinds; /* a rule reads more: read it all again */
        c->need.errors |= need->errors;
        c->lo = c->hi = 0;
    }
    if (to - from > c->span)
        c->span = to - from;
    bool null;
    if (scalar(m, &c->dv, "PRAGMA data_version", NULL, 0, &version, &null, d) < 0)
        return -1;
    if (version != c->version) {
        /* (Each an index or rowid lookup. A commit that deleted the newest block and
         * added one of the same count, id and newest event would pass unseen: expiry
         * removes blocks older than the retention, and a window that old is not read.) */
        int64_t b[3];
        if (scalar(m, &c->bc, "SELECT count(*) FROM event_blocks", NULL, 0, &b[0], &null, d) < 0 ||
            scalar(m, &c->bm, "SELECT max(id) FROM event_blocks", NULL, 0, &b[1], &null, d) < 0 ||
            scalar(m, &c->bt, "SELECT max(ts_max) FROM event_blocks", NULL, 0, &b[2], &null, d) < 0)
            return -1;
        if (!memcmp(b, c->blocks, sizeof(b)))
            c->version = version; /* other tables changed: the events did not */
        memcpy(c->blocks, b, sizeof(b));
    }
    if (!c->mem)
        c->mem = metric_mem_new();
    /* Texts of records dropped stay: many distinct ones (an application name per
     * connection) start it again rather than grow without bound. */
    if (metric_mem_texts(c->mem) > (size_t)c->max)
        c->lo = c->hi = 0;
    if (version == c->version && c->lo < c->hi && from >= c->lo && to <= c->hi)
        return 1;
    if (version != c->version || c->lo >= c->hi || to < c->lo || from > c->hi) {
        /* Start again with the longest window asked for so far, ending at @to: the
         * other rules of this boundary find theirs in it. */
        metric_mem_clear(c->mem);
        c->version = version;
        c->lo = c->hi = to;
        lo = to - c->span;
        hi = to;
    } else {
        lo = from < c->lo ? from : c->lo;
        hi = to > c->hi ? to : c->hi;
        /* Evaluations move forward: what is older than the longest window before the
         * newest end is not read again. */
        if (hi - lo > c->span && from >= hi - c->span)
            lo = hi - c->span;
        if (lo > c->lo) {
            metric_mem_drop_before(c->mem, lo);
            c->lo = lo;
        }
    }
    if ((lo < c->lo && events_in(m, lo, c->lo, &older, d) < 0) ||
        (hi > c->hi && events_in(m, c->hi, hi, &newer, d) < 0))
        return -1;
    if ((int64_t)metric_mem_count(c->mem) + older + newer > c->max) {
        /* Too many: keep this query's window alone, if it fits. */
        metric_mem_clear(c->mem);
        c->lo = c->hi = to;
        lo = from;
        hi = to;
        newer = 0;
        if (events_in(m, from, to, &older, d) < 0)
            return -1;
        if (older > c->max)
            return 0;
    }
    if ((lo < c->lo && decode(m, c->mem, lo, c->lo, &c->need, d) < 0) ||
        (hi > c->hi && decode(m, c->mem, c->hi, hi, &c->need, d) < 0)) {
        metric_mem_clear(c->mem);
        c->lo = c->hi = 0;
        return -1;
    }
    c->lo = lo;
    c->hi = hi;
    return 1;
}

static int query_events(struct mstore *m, const struct metric_query *q, struct metric_result *out,
                        struct diag *d)
{
    struct evneed need = { 0, q->source == RSRC_ERRORS };
    if (q->source == RSRC_EVENTS) {
        const struct rule_strlist *types = q->where ? &q->where->in[DIM_TYPE] : NULL;
        for (size_t i = 0; types && i < types->n; i++) {
            enum event_kind k;
            if (event_kind_from_name(span_cstr(types->v[i]), &k))
                need.kinds |= UINT32_C(1) << k;
        }
        if (!types || !types->n)
            need.kinds = ~UINT32_C(0);
    }
    int rc = cache_cover(m, &need, q->from_us, q->to_us, d);
    if (rc < 0)
        return -1;
    if (rc == 1) {
        rc = m->ev.mem->query(m->ev.mem, q, out, d);
    } else { /* too many to keep: this window's, for this query */
        struct metric_source *mem = metric_mem_new();
        rc = decode(m, mem, q->from_us, q->to_us, &need, d);
        if (rc == 0)
            rc = mem->query(mem, q, out, d);
        mem->free(mem);
    }
    if (rc < 0 || !(q->group_mask & (1u << DIM_FINGERPRINT)))
        return rc < 0 ? -1 : 0;
    for (size_t i = 0; i < out->n; i++) {
        char *text;
        if (!out->g[i].dims[DIM_FINGERPRINT] ||
            canonical(m, out->g[i].dims[DIM_FINGERPRINT], &text, d) < 0)
            continue;
        if (text)
            out->g[i].query = arena_dup(&out->strings, text, strlen(text)).p;
        free(text);
    }
    return 0;
}

/* ---- plans ---- */

/* A change that a rule's `where` accepts: `min_calls` records on either side (the
 * detection already wants 3) and `slower_by`. */
static bool change_matches(const struct store_plan_change *c, const struct rule_where *w)
{
    double need = w && w->min_calls > 0 ? (double)w->min_calls : 0;
    if ((double)c->calls_before < need || (double)c->calls_after < need)
        return false;
    return !w || w->slower_by <= 0 || (c->slower_by > 0 && c->slower_by >= w->slower_by);
}

static bool same_change(const struct store_plan_change *a, const struct store_plan_change *b)
{
    return a->fingerprint == b->fingerprint && !strcmp(a->database, b->database) &&
           a->from_plan == b->from_plan && a->to_plan == b->to_plan && a->at_us == b->at_us;
}

/* Plan changes that began to match the rule in [q->from, q->to): matching as of q->to
 * (records before it) and not as of q->from. One group per (database, fingerprint) with
 * the newest such change; count = how many. */
static int query_plans(struct mstore *m, const struct metric_query *q, struct metric_result *out,
                       struct diag *d)
{
    struct store_plans now, before;
    const struct rule_strlist *dbs = q->where ? &q->where->in[DIM_DATABASE] : NULL;
    int rc = 0;

    if (store_plan_changes_at(m->s, q->from_us, q->to_us, q->lookback_us,
                              dbs && dbs->n == 1 ? dbs->v[0] : NULL, &now, &before, d) < 0)
        return -1;
    for (size_t i = 0; i < now.n_changes && rc == 0; i++) {
        const struct store_plan_change *c = &now.changes[i];
        if (!change_matches(c, q->where))
            continue;
        bool old = false;
        for (size_t j = 0; j < before.n_changes && !old; j++)
            old =
                same_change(c, &before.changes[j]) && change_matches(&before.changes[j], q->where);
        if (old)
            continue;
        char hex[17];
        snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)c->fingerprint);
        if (q->where && (!in_list(&q->where->in[DIM_DATABASE], c->database) ||
                         !in_list(&q->where->in[DIM_FINGERPRINT], hex)))
            continue;
        const char *dims[DIM_COUNT] = { 0 };
        if (q->group_mask & (1u << DIM_DATABASE))
            dims[DIM_DATABASE] = c->database;
        if (q->group_mask & (1u << DIM_FINGERPRINT))
            dims[DIM_FINGERPRINT] = hex;
        if (q->group_mask & (1u << DIM_TYPE))
            dims[DIM_TYPE] = "plan_change";
        /* changes are in key order, oldest first: a later one of the same group wins */
        struct metric_group *g = NULL;
        for (size_t k = 0; k < out->n && !g; k++) {
            bool same = true;
            for (unsigned dd = 0; dd < DIM_COUNT && same; dd++)
                same = !dims[dd] == !out->g[k].dims[dd] &&
                       (!dims[dd] || !strcmp(dims[dd], out->g[k].dims[dd]));
            if (same)
                g = &out->g[k];
        }
        if (!g) {
            char *text = NULL;
            if (q->group_mask & (1u << DIM_FINGERPRINT))
                rc = canonical(m, hex, &text, d);
            g = metric_result_add(out, dims, text);
            free(text);
        }
        g->count++;
        g->value = c->slower_by;
        g->from_plan = c->from_plan;
        g->to_plan = c->to_plan;
        g->changed_at_us = c->at_us;
        g->before_ms = c->before_ms;
        g->after_ms = c->after_ms;
        g->calls_before = (double)c->calls_before;
        g->calls_after = (double)c->calls_after;
    }
    store_plans_release(&now);
    store_plans_release(&before);
    return rc;
}

/* ---- ingest ---- */

static int query_ingest(struct mstore *m, const struct metric_query *q, struct metric_result *out,
                        struct diag *d)
{
    const struct rule_strlist *inputs = q->where ? &q->where->in[DIM_INPUT] : NULL;
    bool by_input = q->group_mask & (1u << DIM_INPUT);
    sqlite3_stmt *st = m->inp;
    if (!st && sqlite3_prepare_v2(m->ro,
                                  "SELECT input, sum(records), sum(rejects) FROM input_stats"
                                  " WHERE bucket >= ?1 AND bucket < ?2 GROUP BY input"
                                  " ORDER BY input",
                                  -1, &st, NULL) != SQLITE_OK)
        return db_err(m, d);
    m->inp = st;
    /* (whole seconds: the boundaries are minutes) */
    sqlite3_bind_int64(st, 1, q->from_us / USEC_PER_SEC);
    sqlite3_bind_int64(st, 2, q->to_us / USEC_PER_SEC);
    struct metric_group *all = NULL;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *input = (const char *)sqlite3_column_text(st, 0);
        if (!in_list(inputs, input))
            continue;
        const char *dims[DIM_COUNT] = { NULL };
        dims[DIM_INPUT] = by_input ? input : NULL;
        struct metric_group *g = by_input ? metric_result_add(out, dims, NULL) : all;
        if (!g)
            g = all = metric_result_add(out, dims, NULL);
        double records = (double)sqlite3_column_int64(st, 1);
        double rejects = (double)sqlite3_column_int64(st, 2);
        /* as the in-memory source counts them: a line is a record or a rejected line */
        g->count += records + rejects;
        g->value += q->metric == MET_REJECTS ? rejects : records + rejects;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : db_err(m, d);
}

/* ---- the source ---- */

static int ms_query(struct metric_source *ms, const struct metric_query *q,
                    struct metric_result *out, struct diag *d)
{
    struct mstore *m = (struct mstore *)ms;

    switch (q->source) {
    case RSRC_QUERIES: return query_queries(m, q, out, d);
    case RSRC_ERRORS:
    case RSRC_EVENTS: return query_events(m, q, out, d);
    case RSRC_PLANS: return query_plans(m, q, out, d);
    case RSRC_INGEST: return query_ingest(m, q, out, d);
    case RSRC_COUNT: break;
    }
    return diag_set(d, DIAG_USAGE, "no such source");
}

static int ms_seen(struct metric_source *ms, const struct metric_query *q, const char *const *dims,
                   bool *seen, struct diag *d)
{
    struct metric_result r;
    metric_result_init(&r);
    int rc = ms_query(ms, q, &r, d);
    *seen = false;
    for (size_t i = 0; rc == 0 && i < r.n && !*seen; i++) {
        bool same = true;
        for (unsigned dd = 0; dd < DIM_COUNT && same; dd++)
            if (q->group_mask & (1u << dd))
                same = !strcmp(r.g[i].dims[dd] ? r.g[i].dims[dd] : "", dims[dd] ? dims[dd] : "");
        *seen = same;
    }
    metric_result_release(&r);
    return rc;
}

static int ms_bounds(struct metric_source *ms, int64_t *oldest, int64_t *newest, struct diag *d)
{
    /* Statements by minute/hour/day bucket (start and end), other records by time. The
     * (width, bucket) key makes each of these an index lookup. */
    static const char *const lo[] = {
        "SELECT min(bucket) * 1000000 FROM query_stats WHERE width = 60",
        "SELECT min(bucket) * 1000000 FROM query_stats WHERE width = 3600",
        "SELECT min(bucket) * 1000000 FROM query_stats WHERE width = 86400",
        "SELECT min(ts_min) FROM event_blocks",
    };
    static const char *const hi[] = {
        "SELECT max(last_seen) FROM queries",
        "SELECT max(ts_max) FROM event_blocks",
        ("SELECT max(ts_max) FROM plan_call_blocks"
         " WHERE minute = (SELECT max(minute) FROM plan_call_blocks)"),
    };
    struct mstore *m = (struct mstore *)ms;
    int64_t v;
    bool null;

    *oldest = *newest = 0;
    for (size_t i = 0; i < ARRAY_SIZE(lo); i++) {
        if (scalar(m, NULL, lo[i], NULL, 0, &v, &null, d) < 0)
            return -1;
        if (!null && (!*oldest || v < *oldest))
            *oldest = v;
    }
    for (size_t i = 0; i < ARRAY_SIZE(hi); i++) {
        if (scalar(m, NULL, hi[i], NULL, 0, &v, &null, d) < 0)
            return -1;
        if (!null && v > *newest)
            *newest = v;
    }
    return 0;
}

/* The first record at or after @from_us: record_stats counts every record (statements,
 * events, plans) per minute, or per hour or day once rolled up (a bucket that began
 * before @from_us may hold a record at it), and keeps them longer than the event and plan
 * blocks are kept. (Event blocks would not do: one block of a batch can span a quiet
 * night.) query_stats the same, in case. */
static int ms_next(struct metric_source *ms, int64_t from_us, int64_t *at_us, struct diag *d)
{
    static const char *const sql[] = {
        "SELECT min(bucket) * 1000000 FROM record_stats WHERE width = ?2 AND bucket > ?1 - ?2",
        "SELECT min(bucket) * 1000000 FROM query_stats WHERE width = ?2 AND bucket > ?1 - ?2",
    };
    static const int64_t widths[] = { 60, 3600, 86400 };
    struct mstore *m = (struct mstore *)ms;
    int64_t from_s = from_us >= 0 ? from_us / 1000000 : -((-from_us + 999999) / 1000000);

    *at_us = INT64_MAX;
    for (size_t i = 0; i < ARRAY_SIZE(sql); i++) {
        for (size_t w = 0; w < ARRAY_SIZE(widths); w++) {
            int64_t t;
            bool null;
            if (scalar(m, &m->next[i], sql[i], (int64_t[]){ from_s, widths[w] }, 2, &t, &null, d) <
                0)
                return -1;
            if (!null && t < *at_us)
                *at_us = t;
        }
    }
    if (*at_us < from_us)
        *at_us = from_us;
    return 0;
}

static int ms_kinds(struct metric_source *ms, uint64_t *mask, struct diag *d)
{
    struct mstore *m = (struct mstore *)ms;
    sqlite3_stmt *st;

    *mask = 0;
    if (sqlite3_prepare_v2(m->ro, "SELECT DISTINCT kind FROM record_stats", -1, &st, NULL) !=
        SQLITE_OK)
        return db_err(m, d);
    while (sqlite3_step(st) == SQLITE_ROW) {
        enum event_kind k;
        const char *name = (const char *)sqlite3_column_text(st, 0);
        if (name && event_kind_from_name(span_cstr(name), &k))
            *mask |= UINT64_C(1) << k;
    }
    sqlite3_finalize(st);
    return 0;
}

static unsigned ms_sources(struct metric_source *ms)
{
    (void)ms;
    return SRC_BIT(RSRC_QUERIES) | SRC_BIT(RSRC_ERRORS) | SRC_BIT(RSRC_EVENTS) |
           SRC_BIT(RSRC_PLANS) | SRC_BIT(RSRC_INGEST);
}

static void ms_free(struct metric_source *ms)
{
    struct mstore *m = (struct mstore *)ms;
    if (!m)
        return;
    if (m->ev.mem)
        m->ev.mem->free(m->ev.mem);
    sqlite3_finalize(m->ev.dv);
    sqlite3_finalize(m->ev.est);
    sqlite3_finalize(m->ev.bc);
    sqlite3_finalize(m->ev.bm);
    sqlite3_finalize(m->ev.bt);
    sqlite3_finalize(m->canon);
    sqlite3_finalize(m->inp);
    for (size_t i = 0; i < ARRAY_SIZE(m->next); i++)
        sqlite3_finalize(m->next[i]);
    store_close(m->s);
    sqlite3_close(m->ro);
    free(m->path);
    free(m);
}

int64_t metric_store_events_decoded(const struct metric_source *ms)
{
    return ((const struct mstore *)ms)->ev.decoded;
}

struct metric_source *metric_store_open(const char *path, struct diag *d)
{
    struct mstore *m = xcalloc(1, sizeof(*m));
    struct store_opts so = { .read_only = true };

    m->path = xstrdup(path);
    if (store_open(&m->s, path, &so, d) < 0) {
        free(m->path);
        free(m);
        return NULL;
    }
    if (sqlite3_open_v2(path, &m->ro, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        diag_set(d, DIAG_DB, "cannot open store '%s': %s", path,
                 m->ro ? sqlite3_errmsg(m->ro) : "out of memory");
        ms_free(&m->ops);
        return NULL;
    }
    sqlite3_busy_timeout(m->ro, 10000);
    /* Tests: another bound, to read past it; 0 to compare with no cache at all. */
    const char *max = getenv("SIFT_TEST_RULE_CACHED_EVENTS");
    m->ev.max = max ? strtoll(max, NULL, 10) : SIFT_MAX_RULE_CACHED_EVENTS;
    m->ops.query = ms_query;
    m->ops.seen = ms_seen;
    m->ops.bounds = ms_bounds;
    m->ops.kinds_seen = ms_kinds;
    m->ops.sources = ms_sources;
    m->ops.next_data = ms_next;
    m->ops.free = ms_free;
    return &m->ops;
}
