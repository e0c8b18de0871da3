/* SPDX-License-Identifier: MIT */
/*
 * pgsift status - where `pgsift tail` stands: for each source and file, the committed
 * offset, the lag in bytes and seconds, and the last commit. It reads the files on
 * disk and the store (read-only), so it also tells how far behind a stopped daemon is.
 *
 * Lag in seconds is the span of writes not in the store yet: the file's last write
 * (mtime) minus the last commit of its stream, when bytes are waiting; 0 otherwise.
 */
#include <errno.h>
#include <glob.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/cmd.h"
#include "cmd/ingest.h"
#include "cmd/outfmt.h"
#include "config.h"
#include "core/path.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/opts.h"
#include "core/xalloc.h"
#include "input/input.h"
#include "store/store.h"

#define STATUS_SYNOPSIS                                                            \
    "pgsift status [--config FILE] [--include GLOB] [--format table|json|md|csv] " \
    "[PATH|GLOB...]"

struct row {
    const char *source, *file, *state;
    bool gz, known;
    uint64_t size, offset, lag_bytes;
    double lag_s;
    int64_t last_commit_us; /* INT64_MIN: never */
    uint64_t records;
    uint64_t late; /* late records committed under this file's name (docs/rules.md) */
};

static const char *state_name(const struct tail_file *f)
{
    if (f->state == TAIL_FILE_DELETED)
        return "deleted";
    /* A gzip file is a finished one, whatever found it: in a directory or glob source
     * too (QA 28: postgresql.json.1.gz showed as "live" there, "rotated" as a sibling). */
    if (f->state == TAIL_FILE_ROTATED || f->sibling || f->gzip)
        return "rotated";
    return "live";
}

static void print_row(enum outfmt fmt, const struct row *r, json_t *arr)
{
    char ts[CLOCK_RFC3339_MAX] = "never", num[4][32];
    if (r->last_commit_us != INT64_MIN)
        clock_format_rfc3339(r->last_commit_us, 3, ts);
    snprintf(num[0], sizeof(num[0]), "%" PRIu64, r->offset);
    if (r->gz) {
        snprintf(num[1], sizeof(num[1]), "-");
        snprintf(num[2], sizeof(num[2]), "-");
    } else {
        snprintf(num[1], sizeof(num[1]), "%" PRIu64, r->size);
        snprintf(num[2], sizeof(num[2]), "%" PRIu64, r->lag_bytes);
    }
    if (r->last_commit_us == INT64_MIN || r->gz)
        snprintf(num[3], sizeof(num[3]), "-");
    else
        snprintf(num[3], sizeof(num[3]), "%.1f", r->lag_s);

    switch (fmt) {
    case OUTFMT_JSON: {
        json_t *o = json_object();
        json_object_set_new(o, "source", outfmt_json_str(r->source));
        json_object_set_new(o, "file", outfmt_json_str(r->file));
        json_object_set_new(o, "state", json_string(r->state));
        json_object_set_new(o, "compressed", json_boolean(r->gz));
        json_object_set_new(o, "offset", json_integer((json_int_t)r->offset));
        json_object_set_new(o, "size", r->gz ? json_null() : json_integer((json_int_t)r->size));
        json_object_set_new(o, "lag_bytes",
                            r->gz ? json_null() : json_integer((json_int_t)r->lag_bytes));
        json_object_set_new(o, "lag_seconds",
                            r->last_commit_us == INT64_MIN || r->gz ? json_null()
                                                                    : json_real(r->lag_s));
        json_object_set_new(o, "last_commit",
                            r->last_commit_us == INT64_MIN ? json_null() : json_string(ts));
        json_object_set_new(o, "records", json_integer((json_int_t)r->records));
        json_object_set_new(o, "late_records", json_integer((json_int_t)r->late));
        json_array_append_new(arr, o);
        return;
    }
    case OUTFMT_CSV:
    case OUTFMT_MD: {
        char late[24];
        snprintf(late, sizeof(late), "%" PRIu64, r->late);
        const char *cells[] = { r->source, r->file, r->state, num[0], num[1],
                                num[2],    num[3],  ts,       late };
        /* An unknown value is an empty CSV field (JSON's null), not the table's "-" (which
         * the formula guard writes as "'-") or "never". */
        for (size_t i = 4; fmt == OUTFMT_CSV && i < ARRAY_SIZE(cells); i++)
            if ((i <= 6 && !strcmp(cells[i], "-")) || (i == 7 && r->last_commit_us == INT64_MIN))
                cells[i] = "";
        outfmt_delim_row(stdout, fmt == OUTFMT_MD, cells, ARRAY_SIZE(cells));
        return;
    }
    case OUTFMT_TABLE:
        outfmt_cell(stdout, r->source, 12, true, false);
        fputc(' ', stdout);
        outfmt_cell(stdout, r->file, 44, true, false);
        fputc(' ', stdout);
        outfmt_cell(stdout, r->state, 7, true, false);
        printf(" %12s %12s %10s %8s  %s\n", num[0], num[1], num[2], num[3], ts);
        return;
    }
}

static void print_header(enum outfmt fmt)
{
    static const char *const h[] = { "source",      "file",        "state",
                                     "offset",      "size",        "lag_bytes",
                                     "lag_seconds", "last_commit", "late_records" };
    if (fmt == OUTFMT_CSV || fmt == OUTFMT_MD) {
        outfmt_delim_header(stdout, fmt == OUTFMT_MD, h, ARRAY_SIZE(h), NULL);
    } else if (fmt == OUTFMT_TABLE) {
        outfmt_cell(stdout, "SOURCE", 12, true, false);
        fputc(' ', stdout);
        outfmt_cell(stdout, "FILE", 44, true, false);
        fputc(' ', stdout);
        outfmt_cell(stdout, "STATE", 7, true, false);
        printf(" %12s %12s %10s %8s  %s\n", "OFFSET", "SIZE", "LAG", "LAG_S", "LAST_COMMIT");
    }
}

/* One file: what the store knows of its stream. Returns 0 (row filled, or *skip for a
 * rotated sibling the store never read), -1 on a store error. */
static int look(struct store *s, struct tail_file *f, struct row *r, bool *skip, struct diag *d)
{
    struct store_resume rs;
    bool gz = false;
    store_resume_init(&rs);
    *skip = false;
    if (ingest_find(s, f->name, &rs, &gz, d) < 0) {
        store_resume_release(&rs);
        if (d->kind == DIAG_IO) { /* the file went away meanwhile */
            diag_clear(d);
            *skip = true;
            return 0;
        }
        return -1;
    }
    bool known = rs.how == STORE_RESUME_SAME || rs.how == STORE_RESUME_MOVED;
    if (!known && f->sibling) {
        *skip = true;
        store_resume_release(&rs);
        return 0;
    }
    r->gz = gz;
    r->known = known;
    r->size = f->size;
    r->offset = known ? rs.offset : 0;
    r->lag_bytes = !gz && f->size > r->offset ? f->size - r->offset : 0;
    r->last_commit_us = INT64_MIN;
    if (store_late_records(s, f->name, &r->late, d) < 0) {
        store_resume_release(&rs);
        return -1;
    }
    if (known) {
        struct store_source_info info;
        if (store_source_info(s, rs.id, &info, d) < 0) {
            store_resume_release(&rs);
            return -1;
        }
        if (info.found && strcmp(info.name, f->name) != 0) {
            /* late records are kept under the name the file was read by: "./b.log" and
             * "/abs/b.log" are one file (QA 21c: status showed 0 for the other spelling) */
            uint64_t late = 0;
            if (store_late_records(s, info.name, &late, d) < 0) {
                store_resume_release(&rs);
                return -1;
            }
            r->late += late;
        }
        if (info.found) {
            r->last_commit_us = info.last_ingest_us;
            r->records = info.records;
            int64_t mtime_us = f->mtime_ns / 1000;
            r->lag_s = r->lag_bytes && mtime_us > info.last_ingest_us
                           ? (double)(mtime_us - info.last_ingest_us) / 1e6
                           : 0.0;
        }
    }
    store_resume_release(&rs);
    return 0;
}

int cmd_status(int argc, char **argv, const struct cli *cli, struct diag *d)
{
    const char *config = NULL, *format = NULL, *include = NULL;
    const struct opt opts[] = {
        OPT_STRING_(0, "config", &config, "FILE", "the pgsift.yaml `pgsift tail` runs with"),
        OPT_STRING_(0, "include", &include, "GLOB", "file names to look at in a directory PATH"),
        OPT_CHOICE_(0, "format", &format, "F", "table (default), json, md or csv", outfmt_names),
        OPT_END_(),
    };
    int n = opts_parse(opts, argc - 1, argv + 1, d);
    if (n == -2) {
        opts_usage(stdout, STATUS_SYNOPSIS, opts);
        return 0;
    }
    if (n < 0)
        return -1;
    if (n == 0 && !config)
        return diag_set(d, DIAG_USAGE, "'status' needs --config FILE or paths");

    struct config c;
    struct store *s = NULL;
    struct tail *t = NULL;
    int ret = -1;
    config_init(&c);
    if (config && config_load(&c, config, d) < 0)
        goto out;
    if (n) {
        config_set_paths(&c, (const char *const *)(argv + 1), (size_t)n, NULL, NULL, NULL, include);
    }
    if (config_errors(&c)) {
        config_error_diag(&c, d);
        goto out;
    }
    const char *db = cli_store_path(cli, c.store);
    if (store_open(&s, db, &(struct store_opts){ .read_only = true }, d) < 0)
        goto out;
    t = tail_new(&(struct tail_opts){ .backend = TAIL_POLL, .wake_fd = -1 }, d);
    if (!t)
        goto out;
    for (size_t i = 0; i < c.nsources; i++)
        tail_add_source(t, &(struct tail_source_spec){ .name = c.sources[i].name,
                                                       .paths = c.sources[i].paths.v,
                                                       .npaths = c.sources[i].paths.n,
                                                       .include = c.sources[i].include });
    if (tail_reconcile(t, true, d) < 0)
        goto out;
    /* A path that names nothing yet (pgsift tail waits for it) is said, not left as a
     * table without its row. */
    for (size_t i = 0; i < c.nsources; i++) {
        for (size_t k = 0; k < c.sources[i].paths.n; k++) {
            const char *p = c.sources[i].paths.v[k];
            struct stat st;
            if (strpbrk(p, "*?[")) {
                glob_t g;
                if (glob(p, 0, NULL, &g) != 0)
                    log_warn("no file matches '%s' (yet)", p);
                globfree(&g);
            } else if (stat(p, &st) < 0) {
                log_warn("no file at '%s' (yet): %s", p, strerror(errno));
            } else if (S_ISDIR(st.st_mode)) {
                /* (by the directory itself: another spelling of it on the command line,
                 * "$PWD/log" beside "log", took its files first) */
                bool any = false;
                for (size_t f = 0; f < tail_count(t) && !any; f++) {
                    struct stat fst;
                    const char *name = tail_file_at(t, f)->name;
                    char *dir = path_dirname(name);
                    any =
                        stat(dir, &fst) == 0 && fst.st_dev == st.st_dev && fst.st_ino == st.st_ino;
                    free(dir);
                }
                if (!any)
                    log_warn("no log file in '%s' (yet)", p);
            }
        }
    }

    enum outfmt fmt = outfmt_from_name(format);
    json_t *doc = fmt == OUTFMT_JSON ? json_object() : NULL;
    json_t *arr = fmt == OUTFMT_JSON ? json_array() : NULL;
    print_header(fmt);
    int rc = 0;
    struct row *late = NULL; /* rows with late records, for the table's list below it */
    size_t nlate = 0, alate = 0;
    for (size_t i = 0; i < tail_count(t) && rc == 0; i++) {
        struct tail_file *f = tail_file_at(t, i);
        struct row r = { .source = c.sources[f->source].name,
                         .file = f->name,
                         .state = state_name(f) };
        bool skip;
        rc = look(s, f, &r, &skip, d);
        if (rc == 0 && !skip) {
            print_row(fmt, &r, arr);
            if (r.late) {
                XGROW(late, nlate + 1, alate);
                late[nlate++] = r;
            }
        }
    }
    /* (the table has no room for a column: a list below it, when there are any) */
    if (rc == 0 && fmt == OUTFMT_TABLE && nlate) {
        printf("\nLATE RECORDS (came in after the rules had evaluated past them, docs/rules.md)\n");
        for (size_t i = 0; i < nlate; i++) {
            outfmt_cell(stdout, late[i].source, 12, true, false);
            fputc(' ', stdout);
            outfmt_cell(stdout, late[i].file, 44, true, false);
            printf(" %12" PRIu64 "\n", late[i].late);
        }
    }
    free(late);
    if (doc) {
        char now[CLOCK_RFC3339_MAX];
        json_object_set_new(doc, "now", json_string(clock_format_rfc3339(clock_now_us(), 3, now)));
        json_object_set_new(doc, "files", arr);
        if (rc == 0 && outfmt_json_dump(doc) < 0)
            rc = diag_set(d, DIAG_IO, "cannot write to standard output");
        json_decref(doc);
    }
    ret = rc;
out:
    tail_free(t);
    store_close(s);
    config_release(&c);
    return ret;
}
