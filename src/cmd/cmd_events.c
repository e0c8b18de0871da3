/* SPDX-License-Identifier: MIT */
/*
 * pgsift events - errors, lock waits, deadlocks, temp files, checkpoints, autovacuum,
 * connections ... from the store, newest `--limit` of the window, oldest first.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/outfmt.h"
#include "cmd/timearg.h"
#include "core/clock.h"
#include "core/opts.h"
#include "core/sbuf.h"
#include "store/store.h"

#define EVENTS_SYNOPSIS                                                                   \
    "pgsift events [--since T] [--until T] [--kind K[,K...]] [--limit N] [--database D] " \
    "[--user U] [--format table|json|md|csv]"

#define TABLE_WIDTH 100

/* Kinds that are statements, not events: they live in `pgsift top`. */
static bool statement_kind(enum event_kind k)
{
    return k == EV_DURATION || k == EV_STATEMENT || k == EV_PLAN;
}

static int parse_kinds(const char *arg, uint32_t *mask, struct diag *d)
{
    struct span s = span_cstr(arg);
    size_t i = 0;
    *mask = 0;
    while (i <= s.len) {
        long comma = span_find_char(s, i, ',');
        size_t end = comma < 0 ? s.len : (size_t)comma;
        struct span name = span_trim(span_sub(s, i, end - i));
        enum event_kind k;
        if (!event_kind_from_name(name, &k) || statement_kind(k)) {
            struct sbuf list = SBUF_INIT;
            for (int j = 0; j < EV_KIND_COUNT; j++)
                if (!statement_kind((enum event_kind)j) &&
                    (sbuf_addstr(&list, list.len ? ", " : "") < 0 ||
                     sbuf_addstr(&list, event_kind_name((enum event_kind)j)) < 0))
                    break;
            diag_set(d, DIAG_USAGE,
                     "invalid kind '%.*s' for option '--kind' (expected one of: %s%s)",
                     (int)name.len, name.p, list.buf,
                     statement_kind(k) && name.len ? "; statements are in 'pgsift top'" : "");
            sbuf_release(&list);
            return -1;
        }
        *mask |= UINT32_C(1) << k;
        i = end + 1;
    }
    return 0;
}

static void fp_hex(uint64_t fp, char buf[17])
{
    snprintf(buf, 17, "%016llx", (unsigned long long)fp);
}

/* A fact's value as text: numbers formatted into @buf, a text fact itself (whole: a
 * relation name "db.schema.table" or a lock holder list can be longer than @buf). */
static const char *fact_text(const struct store_fact *f, char *buf, size_t n)
{
    switch (f->type) {
    case STORE_FACT_INT: snprintf(buf, n, "%lld", (long long)f->i); break;
    case STORE_FACT_REAL: snprintf(buf, n, "%.6g", f->r); break;
    case STORE_FACT_TEXT: return f->s ? f->s : "";
    }
    return buf;
}

struct printer {
    enum outfmt fmt;
    bool color, first;
    uint64_t shown;
};

static json_t *event_json(const struct store_event_row *r)
{
    char buf[CLOCK_RFC3339_MAX], fp[17];
    json_t *o = json_object();
    json_object_set_new(o, "ts", json_string(timearg_format(r->ts_us, buf)));
    json_object_set_new(o, "kind", outfmt_json_str(r->kind));
#define OPT_STR(key, v)                                      \
    do {                                                     \
        if (v)                                               \
            json_object_set_new(o, key, outfmt_json_str(v)); \
    } while (0)
    OPT_STR("severity", r->severity);
    OPT_STR("sqlstate", r->sqlstate);
    OPT_STR("database", r->database);
    OPT_STR("user", r->user);
    OPT_STR("application", r->application);
    if (r->pid >= 0)
        json_object_set_new(o, "pid", json_integer(r->pid));
    if (r->has_fingerprint) {
        fp_hex(r->fingerprint, fp);
        json_object_set_new(o, "fingerprint", json_string(fp));
    }
    OPT_STR("message", r->message);
    OPT_STR("detail", r->detail);
    for (size_t i = 0; i < r->n_facts; i++) {
        const struct store_fact *f = &r->facts[i];
        switch (f->type) {
        case STORE_FACT_INT: json_object_set_new(o, f->name, json_integer(f->i)); break;
        case STORE_FACT_REAL: json_object_set_new(o, f->name, json_real(f->r)); break;
        case STORE_FACT_TEXT: json_object_set_new(o, f->name, outfmt_json_str(f->s)); break;
        }
    }
    OPT_STR("src", r->src);
#undef OPT_STR
    return o;
}

static const char *const columns[] = { "ts",       "kind",   "severity", "sqlstate",
                                       "database", "user",   "pid",      "fingerprint",
                                       "message",  "detail", "facts",    "src" };

static int print_row(void *ctx, const struct store_event_row *r)
{
    struct printer *p = ctx;
    char ts[CLOCK_RFC3339_MAX], fp[17] = "", pid[24] = "", v[64];

    timearg_format(r->ts_us, ts);
    if (r->has_fingerprint)
        fp_hex(r->fingerprint, fp);
    if (r->pid >= 0)
        snprintf(pid, sizeof(pid), "%lld", (long long)r->pid);
    struct sbuf facts = SBUF_INIT;
    for (size_t i = 0; i < r->n_facts; i++) {
        const char *val = fact_text(&r->facts[i], v, sizeof(v));
        if (sbuf_addf(&facts, "%s%s=%s", i ? " " : "", r->facts[i].name, val) < 0)
            break;
    }
    p->shown++;
    switch (p->fmt) {
    case OUTFMT_JSON: {
        json_t *o = event_json(r);
        fputs(p->first ? "" : ",", stdout);
        int rc = json_dumpf(o, stdout, JSON_COMPACT | JSON_REAL_PRECISION(15));
        json_decref(o);
        p->first = false;
        if (rc < 0) {
            sbuf_release(&facts);
            return 1;
        }
        break;
    }
    case OUTFMT_MD:
    case OUTFMT_CSV: {
        const char *cells[] = { ts,  r->kind, r->severity, r->sqlstate, r->database, r->user,
                                pid, fp,      r->message,  r->detail,   facts.buf,   r->src };
        outfmt_delim_row(stdout, p->fmt == OUTFMT_MD, cells, ARRAY_SIZE(cells));
        break;
    }
    case OUTFMT_TABLE: {
        /* 2026-11-24T10:00:00.123Z: 24 columns */
        outfmt_cell(stdout, ts, 24, true, false);
        fputc(' ', stdout);
        outfmt_cell(stdout, r->kind, 13, true, false);
        fputc(' ', stdout);
        outfmt_cell(stdout, r->severity ? r->severity : "", 7, true, false);
        fputc(' ', stdout);
        struct sbuf msg = SBUF_INIT;
        if (sbuf_addstr(&msg, r->message ? r->message : "") < 0 ||
            (facts.len && sbuf_addf(&msg, " [%s]", facts.buf) < 0)) {
            /* unbounded sbuf: cannot fail */
        }
        outfmt_cell(stdout, msg.buf, TABLE_WIDTH - 24 - 13 - 7 - 3, false, false);
        sbuf_release(&msg);
        fputc('\n', stdout);
        break;
    }
    }
    sbuf_release(&facts);
    return ferror(stdout) ? 1 : 0; /* 1: stop, output failed */
}

static void print_header(const struct printer *p, const struct store_events_opts *o,
                         const uint64_t counts[EV_KIND_COUNT])
{
    char buf[CLOCK_RFC3339_MAX];
    switch (p->fmt) {
    case OUTFMT_JSON: {
        fputs("{\"since\":", stdout);
        if (o->since_us == INT64_MIN)
            fputs("null", stdout);
        else
            printf("\"%s\"", timearg_format(o->since_us, buf));
        fputs(",\"until\":", stdout);
        if (o->until_us == INT64_MAX)
            fputs("null", stdout);
        else
            printf("\"%s\"", timearg_format(o->until_us, buf));
        json_t *c = json_object();
        uint64_t total = 0;
        for (int k = 0; k < EV_KIND_COUNT; k++) {
            if (!counts[k])
                continue;
            total += counts[k];
            json_object_set_new(c, event_kind_name((enum event_kind)k),
                                json_integer((json_int_t)counts[k]));
        }
        fputs(",\"counts\":", stdout);
        if (json_dumpf(c, stdout, JSON_COMPACT | JSON_SORT_KEYS) < 0) {
            /* reported through ferror(stdout) by main */
        }
        json_decref(c);
        printf(",\"total\":%llu,\"events\":[", (unsigned long long)total);
        break;
    }
    case OUTFMT_MD:
    case OUTFMT_CSV:
        outfmt_delim_header(stdout, p->fmt == OUTFMT_MD, columns, ARRAY_SIZE(columns), NULL);
        break;
    case OUTFMT_TABLE:
        if (p->color)
            fputs("\033[1m", stdout);
        outfmt_cell(stdout, "TIME", 24, true, false);
        fputc(' ', stdout);
        outfmt_cell(stdout, "KIND", 13, true, false);
        fputc(' ', stdout);
        outfmt_cell(stdout, "LEVEL", 7, true, false);
        fputc(' ', stdout);
        fputs("MESSAGE", stdout);
        if (p->color)
            fputs("\033[0m", stdout);
        fputc('\n', stdout);
        break;
    }
}

int cmd_events(int argc, char **argv, const struct cli *cli, struct diag *d)
{
    const char *since = NULL, *until = NULL, *kind = NULL, *format = "table";
    const char *database = NULL, *user = NULL;
    long limit = 100;
    const struct opt opts[] = {
        OPT_STRING_(0, "since", &since, "T", "window start: RFC 3339, date, or 15m/24h/7d ago"),
        OPT_STRING_(0, "until", &until, "T", "window end (exclusive); default: open"),
        OPT_STRING_(0, "kind", &kind, "K[,K...]", "only these kinds (error, lock_wait, ...)"),
        OPT_LONG_(0, "limit", &limit, "N", "the newest N events (default 100, 0 = all)", 0,
                  1000000000L),
        OPT_STRING_(0, "database", &database, "D", "only this database"),
        OPT_STRING_(0, "user", &user, "U", "only this user"),
        OPT_CHOICE_(0, "format", &format, "F", "table (default), json, md or csv", outfmt_names),
        OPT_END_(),
    };
    int n = opts_parse(opts, argc - 1, argv + 1, d);
    if (n == -2) {
        opts_usage(stdout, EVENTS_SYNOPSIS, opts);
        return 0;
    }
    if (n < 0)
        return -1;
    if (n > 0)
        return diag_set(d, DIAG_USAGE, "'events' takes no operands (got '%s')", argv[1]);

    int64_t now = clock_now_us();
    struct store_events_opts o = { .since_us = INT64_MIN,
                                   .until_us = INT64_MAX,
                                   .limit = (size_t)limit,
                                   .database = database,
                                   .user = user };
    if (timearg_window(since, until, now, &o.since_us, &o.until_us, d) < 0)
        return -1;
    if (kind && parse_kinds(kind, &o.kinds, d) < 0)
        return -1;

    struct store *s;
    struct store_opts so = { .read_only = true };
    if (store_open(&s, cli->db_path, &so, d) < 0)
        return -1;
    struct printer p = { .fmt = outfmt_from_name(format),
                         .color = outfmt_color(stdout),
                         .first = true };
    uint64_t counts[EV_KIND_COUNT];
    int rc = store_event_counts(s, &o, counts, d);
    if (rc == 0) {
        print_header(&p, &o, counts);
        rc = store_events(s, &o, print_row, &p, d);
        if (rc > 0)
            rc = diag_set(d, DIAG_IO, "cannot write to standard output");
    }
    store_close(s);
    if (rc < 0)
        return -1;
    if (p.fmt == OUTFMT_JSON)
        fputs("]}\n", stdout);
    if (p.fmt == OUTFMT_TABLE && p.shown == 0)
        puts("(no events in this window)");
    return 0;
}
