/* SPDX-License-Identifier: MIT */
/*
 * pgsift top - the query table from the store: per fingerprint over a window, calls,
 * total/mean/min/max, p50/p95/p99 (merged sketches, within 1 %), databases, users,
 * query_ids, errors (INTERFACE.md `pgsift top --format json`).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/outfmt.h"
#include "cmd/timearg.h"
#include "core/clock.h"
#include "core/opts.h"
#include "store/store.h"

#define TOP_SYNOPSIS                                                                      \
    "pgsift top [--since T] [--until T] [--by total|calls|mean|p95|p99|max] [--limit N] " \
    "[--database D] [--user U] [--format table|json|md|csv]"

/* The terminal table is at most this wide (INTERFACE.md: fits 100 columns). */
#define TABLE_WIDTH 100

static const char *const by_names[] = { "total", "calls", "mean", "p95", "p99", "max", NULL };

static void fp_hex(uint64_t fp, char buf[17])
{
    snprintf(buf, 17, "%016llx", (unsigned long long)fp);
}

static const char *query_text(const struct store_top_row *r)
{
    if (r->query && *r->query)
        return r->query;
    return r->fingerprint ? "(statement text not in the catalogue)" : "(statement not logged)";
}

/* ---- json ---- */

static json_t *str_array(char **v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, outfmt_json_str(v[i]));
    return a;
}

static json_t *time_or_null(int64_t us)
{
    char buf[CLOCK_RFC3339_MAX];
    if (us == INT64_MIN || us == INT64_MAX)
        return json_null();
    return json_string(timearg_format(us, buf));
}

static int print_json(const struct store_top *t, int64_t since, int64_t until)
{
    json_t *doc = json_object(), *qs = json_array();
    /* An open side is where the figures' data begins or ends (its first minute, hour or
     * day row); null only when nothing matched. */
    json_object_set_new(doc, "since", time_or_null(since != INT64_MIN ? since : t->first_us));
    json_object_set_new(doc, "until", time_or_null(until != INT64_MAX ? until : t->end_us));
    json_object_set_new(doc, "total", json_integer((json_int_t)t->total));
    for (size_t i = 0; i < t->n; i++) {
        const struct store_top_row *r = &t->rows[i];
        char fp[17], id[24];
        json_t *q = json_object(), *ids = json_array();
        fp_hex(r->fingerprint, fp);
        json_object_set_new(q, "fingerprint", json_string(fp));
        json_object_set_new(q, "query", outfmt_json_str(query_text(r)));
        for (size_t k = 0; k < r->n_query_ids; k++) {
            json_t *o = json_object();
            snprintf(id, sizeof(id), "%lld", (long long)r->query_ids[k].id);
            json_object_set_new(o, "id", json_string(id));
            json_object_set_new(o, "calls", json_integer((json_int_t)r->query_ids[k].calls));
            json_object_set_new(o, "total_ms",
                                outfmt_json_ms((double)r->query_ids[k].total_us / 1000, true));
            json_array_append_new(ids, o);
        }
        json_object_set_new(q, "query_ids", ids);
        json_object_set_new(q, "calls", json_integer((json_int_t)r->calls));
        json_object_set_new(q, "total_ms", outfmt_json_ms(r->total_ms, true));
        json_object_set_new(q, "mean_ms", outfmt_json_ms(r->mean_ms, true));
        json_object_set_new(q, "min_ms", outfmt_json_ms(r->min_ms, true));
        json_object_set_new(q, "max_ms", outfmt_json_ms(r->max_ms, true));
        json_object_set_new(q, "stddev_ms", outfmt_json_ms(r->stddev_ms, true));
        json_object_set_new(q, "p50_ms", outfmt_json_ms(r->p50_ms, false));
        json_object_set_new(q, "p95_ms", outfmt_json_ms(r->p95_ms, false));
        json_object_set_new(q, "p99_ms", outfmt_json_ms(r->p99_ms, false));
        json_object_set_new(q, "databases", str_array(r->databases, r->n_databases));
        json_object_set_new(q, "users", str_array(r->users, r->n_users));
        json_object_set_new(q, "errors", json_integer((json_int_t)r->errors));
        json_object_set_new(q, "first_seen", time_or_null(r->first_seen_us));
        json_object_set_new(q, "last_seen", time_or_null(r->last_seen_us));
        json_array_append_new(qs, q);
    }
    json_object_set_new(doc, "queries", qs);
    int rc = outfmt_json_dump(doc);
    json_decref(doc);
    return rc;
}

/* ---- csv / md ---- */

static const char *const columns[] = {
    "fingerprint", "calls",     "total_ms",   "mean_ms",   "min_ms", "max_ms",
    "stddev_ms",   "p50_ms",    "p95_ms",     "p99_ms",    "errors", "databases",
    "users",       "query_ids", "first_seen", "last_seen", "query",
};

/* Cell values of one row, as text. */
struct cells {
    char v[ARRAY_SIZE(columns) - 1][64];
    char *lists[3]; /* databases, users, query_ids */
};

static char *join(char **v, size_t n)
{
    struct sbuf sb = SBUF_INIT;
    for (size_t i = 0; i < n; i++)
        if ((i && sbuf_addch(&sb, ' ') < 0) || sbuf_addstr(&sb, v[i]) < 0)
            break;
    return sbuf_detach(&sb, NULL);
}

/* A percentile: 6 significant digits (the sketch is within 1 %; microseconds would round
 * a 0.0662 ms p95 by more than that), never in exponent notation. */
static void sig6(char *buf, double ms)
{
    snprintf(buf, 64, ms < 1e6 ? "%.6g" : "%.0f", ms);
}

static void fill_cells(const struct store_top_row *r, struct cells *c)
{
    char buf[CLOCK_RFC3339_MAX];
    fp_hex(r->fingerprint, c->v[0]);
    snprintf(c->v[1], 64, "%llu", (unsigned long long)r->calls);
    snprintf(c->v[2], 64, "%.3f", r->total_ms);
    snprintf(c->v[3], 64, "%.3f", r->mean_ms);
    snprintf(c->v[4], 64, "%.3f", r->min_ms);
    snprintf(c->v[5], 64, "%.3f", r->max_ms);
    snprintf(c->v[6], 64, "%.3f", r->stddev_ms);
    sig6(c->v[7], r->p50_ms);
    sig6(c->v[8], r->p95_ms);
    sig6(c->v[9], r->p99_ms);
    snprintf(c->v[10], 64, "%llu", (unsigned long long)r->errors);
    c->lists[0] = join(r->databases, r->n_databases);
    c->lists[1] = join(r->users, r->n_users);
    struct sbuf sb = SBUF_INIT;
    for (size_t i = 0; i < r->n_query_ids; i++)
        if (sbuf_addf(&sb, "%s%lld:%llu", i ? " " : "", (long long)r->query_ids[i].id,
                      (unsigned long long)r->query_ids[i].calls) < 0)
            break;
    c->lists[2] = sbuf_detach(&sb, NULL);
    snprintf(c->v[11], 64, "%s",
             r->first_seen_us == INT64_MIN ? "" : timearg_format(r->first_seen_us, buf));
    snprintf(c->v[12], 64, "%s",
             r->last_seen_us == INT64_MIN ? "" : timearg_format(r->last_seen_us, buf));
}

static const char *cell(const struct cells *c, const struct store_top_row *r, size_t col)
{
    if (col <= 10)
        return c->v[col];
    if (col <= 13)
        return c->lists[col - 11];
    if (col <= 15)
        return c->v[col - 3];
    return query_text(r);
}

static void print_delimited(const struct store_top *t, bool md)
{
    enum { NCOL = ARRAY_SIZE(columns) };
    const char *row[NCOL];
    /* the numbers (columns 1-10) align right in Markdown */
    outfmt_delim_header(stdout, md, columns, NCOL, "-rrrrrrrrrr");
    for (size_t k = 0; k < t->n; k++) {
        const struct store_top_row *r = &t->rows[k];
        struct cells c;
        fill_cells(r, &c);
        for (size_t i = 0; i < NCOL; i++)
            row[i] = cell(&c, r, i);
        outfmt_delim_row(stdout, md, row, NCOL);
        for (int i = 0; i < 3; i++)
            free(c.lists[i]);
    }
}

/* ---- table ---- */

static void print_table(const struct store_top *t)
{
    static const char *const heads[] = { "FINGERPRINT", "CALLS", "TOTAL", "MEAN",
                                         "P95",         "P99",   "MAX",   "QUERY" };
    static const size_t widths[] = { 16, 7, 7, 7, 7, 7, 7, 0 };
    size_t fixed = 0;
    for (size_t i = 0; i + 1 < ARRAY_SIZE(widths); i++)
        fixed += widths[i] + 1;
    size_t qwidth = TABLE_WIDTH - fixed;
    bool color = outfmt_color(stdout);

    if (color)
        fputs("\033[1m", stdout);
    for (size_t i = 0; i < ARRAY_SIZE(heads); i++) {
        bool last = i + 1 == ARRAY_SIZE(heads);
        outfmt_cell(stdout, heads[i], last ? qwidth : widths[i], i == 0, i >= 1 && !last);
        if (!last)
            fputc(' ', stdout);
    }
    if (color)
        fputs("\033[0m", stdout);
    fputc('\n', stdout);
    for (size_t k = 0; k < t->n; k++) {
        const struct store_top_row *r = &t->rows[k];
        char fp[17], v[6][24];
        fp_hex(r->fingerprint, fp);
        outfmt_count(r->calls, v[0], sizeof(v[0]));
        outfmt_duration(r->total_ms, v[1], sizeof(v[1]));
        outfmt_duration(r->mean_ms, v[2], sizeof(v[2]));
        outfmt_duration(r->p95_ms, v[3], sizeof(v[3]));
        outfmt_duration(r->p99_ms, v[4], sizeof(v[4]));
        outfmt_duration(r->max_ms, v[5], sizeof(v[5]));
        outfmt_cell(stdout, fp, widths[0], false, false);
        for (int i = 0; i < 6; i++) {
            fputc(' ', stdout);
            outfmt_cell(stdout, v[i], widths[i + 1], false, true);
        }
        fputc(' ', stdout);
        outfmt_cell(stdout, query_text(r), qwidth, false, false);
        fputc('\n', stdout);
    }
    if (t->n < t->total)
        printf("(%zu of %zu statements; --limit 0 shows all)\n", t->n, t->total);
    else if (t->n == 0)
        printf("(no statements in this window)\n");
}

int cmd_top(int argc, char **argv, const struct cli *cli, struct diag *d)
{
    const char *since = NULL, *until = NULL, *by = "total", *format = "table";
    const char *database = NULL, *user = NULL;
    long limit = 20;
    const struct opt opts[] = {
        OPT_STRING_(0, "since", &since, "T", "window start: RFC 3339, date, or 15m/24h/7d ago"),
        OPT_STRING_(0, "until", &until, "T", "window end (exclusive); default: open"),
        OPT_CHOICE_(0, "by", &by, "KEY", "sort by total|calls|mean|p95|p99|max (default total)",
                    by_names),
        OPT_LONG_(0, "limit", &limit, "N", "statements to show (default 20, 0 = all)", 0,
                  1000000000L),
        OPT_STRING_(0, "database", &database, "D", "only this database"),
        OPT_STRING_(0, "user", &user, "U", "only this user"),
        OPT_CHOICE_(0, "format", &format, "F", "table (default), json, md or csv", outfmt_names),
        OPT_END_(),
    };
    int n = opts_parse(opts, argc - 1, argv + 1, d);
    if (n == -2) {
        opts_usage(stdout, TOP_SYNOPSIS, opts);
        return 0;
    }
    if (n < 0)
        return -1;
    if (n > 0)
        return diag_set(d, DIAG_USAGE, "'top' takes no operands (got '%s')", argv[1]);

    int64_t now = clock_now_us();
    struct store_top_opts o = { .since_us = INT64_MIN,
                                .until_us = INT64_MAX,
                                .limit = (size_t)limit,
                                .database = database,
                                .user = user };
    if (timearg_window(since, until, now, &o.since_us, &o.until_us, d) < 0)
        return -1;
    for (int i = 0; by_names[i]; i++)
        if (!strcmp(by, by_names[i]))
            o.by = (enum store_top_order)i;

    struct store *s;
    struct store_opts so = { .read_only = true };
    if (store_open(&s, cli->db_path, &so, d) < 0)
        return -1;
    struct store_top t;
    int rc = store_top(s, &o, &t, d);
    store_close(s);
    if (rc < 0)
        return -1;
    switch (outfmt_from_name(format)) {
    case OUTFMT_JSON:
        if (print_json(&t, o.since_us, o.until_us) < 0)
            rc = diag_set(d, DIAG_IO, "cannot write to standard output");
        break;
    case OUTFMT_MD: print_delimited(&t, true); break;
    case OUTFMT_CSV: print_delimited(&t, false); break;
    case OUTFMT_TABLE: print_table(&t); break;
    }
    store_top_release(&t);
    return rc;
}
