/* SPDX-License-Identifier: MIT */
/*
 * config.c - the field tables of pgsift.yaml and their checks (see config.h).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "core/limits.h"
#include "core/tz.h"
#include "core/xalloc.h"
#include "pipeline.h"

#define OFF(type, member) offsetof(struct type, member)

/* Top level. Sections of other modules are raw nodes handed over through hooks. */
struct config_raw {
    const char *store, *timezone;
    bool keep_literals;
    yaml_node_t *sources, *tail, *retention;
    struct ylist rules;
    yaml_node_t *receivers, *route, *inhibit, *alerting, *report;
};

static const struct yfield top_fields[] = {
    { "store", YF_STRING, false, NULL,
      "the SQLite store (--db and $PGSIFT_DB take precedence; default ./pgsift.db)",
      OFF(config_raw, store), NULL },
    { "timezone", YF_STRING, false, "UTC", "time zone of report days (read by the report)",
      OFF(config_raw, timezone), NULL },
    { "keep_literals", YF_BOOL, false, "false",
      "store messages and statement samples unredacted (tenant data!)",
      OFF(config_raw, keep_literals), NULL },
    { "sources", YF_NODE, false, NULL, "the logs to follow: a list of sources (below)",
      OFF(config_raw, sources), NULL },
    { "tail", YF_NODE, false, NULL, "how files are followed and committed (below)",
      OFF(config_raw, tail), NULL },
    { "retention", YF_NODE, false, NULL, "how long the store keeps data (below)",
      OFF(config_raw, retention), NULL },
    { "rules", YF_STRING_LIST, false, NULL, "alert rule files (globs), read by the rules engine",
      OFF(config_raw, rules), NULL },
    { "receivers", YF_NODE, false, NULL, "where alerts go (rules engine: docs/rules.md)",
      OFF(config_raw, receivers), NULL },
    { "route", YF_NODE, false, NULL, "which receivers get which alerts (rules engine)",
      OFF(config_raw, route), NULL },
    { "inhibit", YF_NODE, false, NULL, "alerts that mute others (rules engine)",
      OFF(config_raw, inhibit), NULL },
    { "alerting", YF_NODE, false, NULL, "evaluation settings (rules engine)",
      OFF(config_raw, alerting), NULL },
    { "report", YF_NODE, false, NULL, "the daily report: dir, at, keep_days, formats (report)",
      OFF(config_raw, report), NULL },
};

static const struct yfield source_fields[] = {
    { "name", YF_STRING, false, NULL, "label in status, alerts and reports (default: the path)",
      OFF(config_source, name), NULL },
    { "path", YF_STRING_LIST, true, NULL, "a file, glob or directory, or a list of them",
      OFF(config_source, paths), NULL },
    { "format", YF_STRING, false, "auto",
      "auto, csvlog, jsonlog, stderr, syslog, supabase ... (`pgsift parse --help`)",
      OFF(config_source, format), NULL },
    { "prefix", YF_STRING, false, NULL, "the server's log_line_prefix (stderr, syslog)",
      OFF(config_source, prefix), NULL },
    { "tz", YF_STRING, false, NULL, "zone for zone-less or ambiguous timestamps (UTC, +05:30, CET)",
      OFF(config_source, tz), NULL },
    { "include", YF_STRING, false, NULL,
      "glob on file names in a directory (default by format: csvlog *.csv*, jsonlog "
      "*.json*, stderr *.log*, others *); a stderr or jsonlog file with a csvlog (or "
      "jsonlog) twin of the same name, the same server's records, is left out",
      OFF(config_source, include), NULL },
};

static const char *const watcher_choices[] = { "auto", "inotify", "poll", NULL };

static const struct yfield tail_fields[] = {
    { "commit_records", YF_INT, false, "10000", "commit after this many records at most",
      OFF(config_tail, commit_records), NULL },
    { "commit_interval", YF_DURATION, false, "1s",
      "commit at most this long after a line is written (10ms to 1h)",
      OFF(config_tail, commit_interval_us), NULL },
    { "watcher", YF_CHOICE, false, "auto",
      "inotify when available (auto), always inotify, or stat() polling", OFF(config_tail, watcher),
      watcher_choices },
    { "poll_interval", YF_DURATION, false, "250ms", "polling: how often files are looked at",
      OFF(config_tail, poll_interval_us), NULL },
    { "rescan_interval", YF_DURATION, false, "60s",
      "list every source again this often even without events",
      OFF(config_tail, rescan_interval_us), NULL },
    { "rotate_wait", YF_DURATION, false, "5s",
      "keep a rotated or deleted file open this long after its last write",
      OFF(config_tail, rotate_wait_us), NULL },
    { "read_budget", YF_SIZE, false, "64MB", "bytes read from one file before others get a turn",
      OFF(config_tail, read_budget), NULL },
    { "commit_log", YF_STRING, false, NULL,
      "append one line per commit to this file: time, file, offsets, records (benchmarks)",
      OFF(config_tail, commit_log), NULL },
};

static const struct yfield retention_fields[] = {
    { "minutes", YF_DURATION, false, "14d", "per-minute rows are rolled up into hours after",
      OFF(config_retention, minutes_us), NULL },
    { "hours", YF_DURATION, false, "90d", "per-hour rows are rolled up into days after",
      OFF(config_retention, hours_us), NULL },
    { "days", YF_DURATION, false, "730d", "per-day rows (and everything else) are deleted after",
      OFF(config_retention, days_us), NULL },
    { "events", YF_DURATION, false, "90d", "single events and error samples are deleted after",
      OFF(config_retention, events_us), NULL },
};

static void apply_tail_defaults(struct config *c);

void config_init(struct config *c)
{
    memset(c, 0, sizeof(*c));
    arena_init(&c->strings, 0);
    ydoc_load_mem(&c->y, "(none)", "", 0);
    apply_tail_defaults(c);
}

void config_release(struct config *c)
{
    ydoc_release(&c->y);
    arena_release(&c->strings);
    free(c->sources);
    memset(c, 0, sizeof(*c));
}

unsigned config_errors(const struct config *c)
{
    return c->y.nerrors;
}

const char *config_error_text(const struct config *c)
{
    return c->y.errors.buf;
}

int config_error_diag(const struct config *c, struct diag *d)
{
    /* each problem on a line of its own that says who speaks, as every stderr line does
     * (INTERFACE.md): the caller prints the first line with "pgsift: " */
    struct sbuf sb = SBUF_INIT;
    const char *p = c->y.errors.buf ? c->y.errors.buf : "";
    int rc = 0;
    while (*p) {
        size_t len = strcspn(p, "\n");
        rc |= sbuf_addstr(&sb, "\npgsift: ") | sbuf_add(&sb, p, len);
        p += len + (p[len] == '\n');
    }
    diag_set(d, DIAG_USAGE, "invalid configuration (%u problem%s):%s", config_errors(c),
             config_errors(c) == 1 ? "" : "s", rc == 0 && sb.buf ? sb.buf : "");
    sbuf_release(&sb);
    return -1;
}

const char *config_default_include(const char *format)
{
    if (!format)
        return NULL;
    if (!strcmp(format, "csvlog"))
        return "*.csv*";
    if (!strcmp(format, "jsonlog"))
        return "*.json*";
    if (!strcmp(format, "stderr"))
        return "*.log*";
    return NULL;
}

static void apply_tail_defaults(struct config *c)
{
    struct ydoc y;
    ydoc_load_mem(&y, "(defaults)", "{}", 2);
    ydoc_map(&y, ydoc_root(&y), tail_fields, ARRAY_SIZE(tail_fields), &c->tail, &c->strings);
    ydoc_map(&y, ydoc_root(&y), retention_fields, ARRAY_SIZE(retention_fields), &c->retention,
             &c->strings);
    if (y.nerrors)
        BUG("defaults of the tail or retention tables do not load: %s", y.errors.buf);
    ydoc_release(&y);
}

static yaml_node_t *map_value(struct ydoc *y, yaml_node_t *map, const char *key)
{
    return ydoc_map_get(y, map, span_cstr(key));
}

/* Format, prefix and time zone: the parser is the judge (its message lists the formats). */
static void check_source(struct config *c, yaml_node_t *map, struct config_source *s)
{
    struct diag d = DIAG_INIT;
    struct pipeline_opts po = { .format = s->format, .prefix = s->prefix, .tz = s->tz };
    if (pipeline_check(&po, &d) == 0)
        return;
    yaml_node_t *at = map_value(&c->y, map, "format");
    if (strstr(d.msg, "prefix") && map_value(&c->y, map, "prefix"))
        at = map_value(&c->y, map, "prefix");
    else if ((strstr(d.msg, "zone") || strstr(d.msg, "--tz")) && map_value(&c->y, map, "tz"))
        at = map_value(&c->y, map, "tz");
    ydoc_error(&c->y, at ? at : map, "%s", d.msg);
}

static void load_sources(struct config *c, yaml_node_t *seq)
{
    if (!seq)
        return;
    if (seq->type != YAML_SEQUENCE_NODE) {
        ydoc_error(&c->y, seq, "'sources' expects a list of sources (- path: ...)");
        return;
    }
    size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    c->sources = xcalloc(n ? n : 1, sizeof(*c->sources));
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *m = ydoc_node(&c->y, seq->data.sequence.items.start[i]);
        struct config_source *s = &c->sources[c->nsources];
        memset(s, 0, sizeof(*s)); /* the slot of a source skipped for its errors */
        if (!m)
            continue;
        unsigned bad = ydoc_map(&c->y, m, source_fields, ARRAY_SIZE(source_fields), s, &c->strings);
        if (bad && (m->type != YAML_MAPPING_NODE || !s->format))
            continue;
        s->line = (unsigned)m->start_mark.line + 1;
        s->col = (unsigned)m->start_mark.column + 1;
        if (bad) {
            check_source(c, m, s); /* the other problems of this source too */
            continue;
        }
        if (s->paths.n == 0) {
            ydoc_error(&c->y, map_value(&c->y, m, "path"), "'path' is empty");
            continue;
        }
        for (size_t k = 0; k < s->paths.n; k++) {
            if (!*s->paths.v[k]) {
                ydoc_error(&c->y, map_value(&c->y, m, "path"), "'path' holds an empty path");
                break;
            }
        }
        if (!s->name)
            s->name = s->paths.v[0];
        for (size_t k = 0; k < c->nsources; k++)
            if (!strcmp(c->sources[k].name, s->name))
                ydoc_error(&c->y, map_value(&c->y, m, "name") ? map_value(&c->y, m, "name") : m,
                           "duplicate source name '%s' (first at line %u)", s->name,
                           c->sources[k].line);
        if (!s->include)
            s->include = config_default_include(s->format);
        check_source(c, m, s);
        c->nsources++;
    }
}

static void range(struct config *c, yaml_node_t *map, const char *key, int64_t v, int64_t lo,
                  int64_t hi, const char *what)
{
    if (v >= lo && v <= hi)
        return;
    yaml_node_t *at = map_value(&c->y, map, key);
    ydoc_error(&c->y, at ? at : map, "'%s' must be %s", key, what);
}

static void load_root(struct config *c)
{
    struct config_raw raw = { 0 };
    yaml_node_t *root = ydoc_root(&c->y);

    apply_tail_defaults(c);
    if (!root) {
        if (c->y.loaded)
            ydoc_error(&c->y, NULL, "the file is empty (expected at least 'sources:')");
        return;
    }
    if (ydoc_map(&c->y, root, top_fields, ARRAY_SIZE(top_fields), &raw, &c->strings) &&
        root->type != YAML_MAPPING_NODE)
        return;
    c->store = raw.store;
    c->timezone = raw.timezone;
    c->keep_literals = raw.keep_literals;
    c->rules = raw.rules;
    c->receivers = raw.receivers;
    c->route = raw.route;
    c->inhibit = raw.inhibit;
    c->alerting = raw.alerting;
    c->report = raw.report;
    if (raw.store && !*raw.store)
        ydoc_error(&c->y, map_value(&c->y, root, "store"), "'store' is empty");
    if (raw.timezone) {
        /* checked here, with its place, even when no report reads it yet */
        struct tz tz;
        struct diag d = DIAG_INIT;
        if (tz_load(&tz, raw.timezone, &d) < 0) {
            ydoc_error(&c->y, map_value(&c->y, root, "timezone"), "'timezone': %s", d.msg);
            c->timezone_invalid = true;
        } else
            tz_release(&tz);
    }
    load_sources(c, raw.sources);
    if (raw.tail) {
        /* Values that did not convert kept their defaults: the ranges hold for them. */
        ydoc_map(&c->y, raw.tail, tail_fields, ARRAY_SIZE(tail_fields), &c->tail, &c->strings);
        const int64_t ms = 1000, s = 1000 * ms, h = 3600 * s;
        range(c, raw.tail, "commit_records", c->tail.commit_records, 1, 10000000,
              "between 1 and 10000000");
        range(c, raw.tail, "commit_interval", c->tail.commit_interval_us, 10 * ms, h,
              "between 10ms and 1h");
        range(c, raw.tail, "poll_interval", c->tail.poll_interval_us, 10 * ms, h,
              "between 10ms and 1h");
        range(c, raw.tail, "rescan_interval", c->tail.rescan_interval_us, 100 * ms, 24 * h,
              "between 100ms and 24h");
        range(c, raw.tail, "rotate_wait", c->tail.rotate_wait_us, 0, 24 * h, "between 0s and 24h");
        range(c, raw.tail, "read_budget", c->tail.read_budget, 64 * 1024, INT64_C(1) << 40,
              "between 64kB and 1TB");
    }
    c->retention_given = raw.retention != NULL;
    if (raw.retention)
        ydoc_map(&c->y, raw.retention, retention_fields, ARRAY_SIZE(retention_fields),
                 &c->retention, &c->strings);
}

/* Errors in file order (the field tables find them level by level). */
static int cmp_errors(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    unsigned long lx = 0, cx = 0, ly = 0, cy = 0;
    const char *px = strchr(x, ':'), *py = strchr(y, ':');
    if (px)
        sscanf(px, ":%lu:%lu:", &lx, &cx);
    if (py)
        sscanf(py, ":%lu:%lu:", &ly, &cy);
    if (lx != ly)
        return lx < ly ? -1 : 1;
    if (cx != cy)
        return cx < cy ? -1 : 1;
    return 0;
}

static void sort_errors(struct config *c)
{
    struct sbuf *e = &c->y.errors;
    if (c->y.nerrors < 2 || !e->len)
        return;
    char *text = xmemdupz(e->buf, e->len);
    size_t n = 0, alloc = 0;
    char **lines = NULL;
    for (char *p = text; *p;) {
        char *nl = strchr(p, '\n');
        XGROW(lines, n + 1, alloc);
        lines[n++] = p;
        if (!nl)
            break;
        *nl = '\0';
        p = nl + 1;
    }
    /* Stable for equal positions: qsort is not, so compare the original order last. */
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0 && cmp_errors(&lines[k - 1], &lines[k]) > 0; k--) {
            char *t = lines[k];
            lines[k] = lines[k - 1];
            lines[k - 1] = t;
        }
    sbuf_reset(e);
    for (size_t i = 0; i < n; i++)
        if (sbuf_addstr(e, lines[i]) < 0 || sbuf_addch(e, '\n') < 0)
            break;
    free(lines);
    free(text);
}

int config_load(struct config *c, const char *path, struct diag *d)
{
    ydoc_release(&c->y);
    c->path = arena_dup(&c->strings, path, strlen(path)).p;
    if (ydoc_load(&c->y, c->path, SIFT_MAX_CONFIG_FILE_BYTES, d) < 0)
        return -1;
    load_root(c);
    sort_errors(c);
    return 0;
}

void config_load_mem(struct config *c, const char *name, const char *buf, size_t len)
{
    ydoc_release(&c->y);
    c->path = arena_dup(&c->strings, name, strlen(name)).p;
    ydoc_load_mem(&c->y, c->path, buf, len);
    load_root(c);
    sort_errors(c);
}

void config_set_paths(struct config *c, const char *const *paths, size_t n, const char *format,
                      const char *prefix, const char *tz, const char *include)
{
    free(c->sources);
    c->nsources = n ? n : 1;
    c->sources = xcalloc(c->nsources, sizeof(*c->sources));
    for (size_t i = 0; i < c->nsources; i++) {
        struct config_source *s = &c->sources[i];
        s->paths.v = arena_alloc(&c->strings, sizeof(*s->paths.v));
        s->paths.n = i < n;
        if (i < n)
            s->paths.v[0] = arena_dup(&c->strings, paths[i], strlen(paths[i])).p;
        s->name = i < n ? s->paths.v[0] : "";
        s->format = format ? format : "auto";
        s->prefix = prefix;
        s->tz = tz;
        s->include = include ? include : config_default_include(s->format);
    }
}

void config_reference_markdown(FILE *out)
{
    fprintf(out, "Top level:\n\n");
    ydoc_fields_markdown(out, top_fields, ARRAY_SIZE(top_fields));
    fprintf(out, "\nEach entry of `sources:`:\n\n");
    ydoc_fields_markdown(out, source_fields, ARRAY_SIZE(source_fields));
    fprintf(out, "\n`tail:`:\n\n");
    ydoc_fields_markdown(out, tail_fields, ARRAY_SIZE(tail_fields));
    fprintf(out, "\n`retention:`:\n\n");
    ydoc_fields_markdown(out, retention_fields, ARRAY_SIZE(retention_fields));
}
