/* SPDX-License-Identifier: MIT */
/*
 * config - pgsift.yaml, the configuration of `pgsift tail` (and `pgsift status`):
 * the store, the log sources, how files are followed and committed, retention, and the
 * sections that other parts of pgsift read (rules, receivers, route, inhibit,
 * alerting: the rules engine; report: the daily report). Those sections are accepted
 * here as raw YAML nodes and handed to their owners through the daemon's hooks.
 *
 * Every key is a row of a field table (core/ydoc.h): the same tables validate the
 * file, fill the structs below, print the reference in docs/tail.md (checked by a test)
 * and list the accepted keys when one is unknown. Every problem is reported with
 * file:line:col, all of them, not just the first.
 *
 * Owns: the YAML document (raw sections point into it) and the strings of the structs.
 *
 * Calling sequence:
 *   config_init() -> config_load() (or config_set_paths() without a file)
 *   -> read c->... -> config_release()
 */
#ifndef SIFT_CONFIG_H
#define SIFT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/arena.h"
#include "core/diag.h"
#include "core/ydoc.h"

struct config_source {
    const char *name;    /* label in status, alerts and reports; default: its first path */
    struct ylist paths;  /* `path`: files, globs, directories */
    const char *format;  /* log format name, "auto" */
    const char *prefix;  /* log_line_prefix (stderr, syslog); NULL: detect */
    const char *tz;      /* zone for zone-less or ambiguous timestamps; NULL: none */
    const char *include; /* glob on file names in directories (default from format) */
    unsigned line, col;  /* where the source is defined (0 for command-line paths) */
};

struct config_tail {
    int64_t commit_records;     /* commit after this many records ... */
    int64_t commit_interval_us; /* ... or when the oldest unread line may be this old */
    const char *watcher;        /* auto | inotify | poll */
    int64_t poll_interval_us;
    int64_t rescan_interval_us;
    int64_t rotate_wait_us; /* keep a rotated/deleted file open this long after its
                               last write once drained */
    int64_t read_budget;    /* bytes read from one file before others get a turn */
    const char *commit_log; /* append one line per commit (benchmarks); NULL: none */
};

struct config_retention {
    int64_t minutes_us, hours_us, days_us, events_us; /* 0: the store's default */
};

struct config {
    const char *path; /* NULL when built from command-line paths */
    struct ydoc y;
    struct arena strings;

    const char *store;     /* NULL: --db / $PGSIFT_DB / ./pgsift.db */
    const char *timezone;  /* report days */
    bool timezone_invalid; /* said, with its place, by config_load(): not again by a module */
    bool keep_literals;
    struct config_source *sources;
    size_t nsources;
    struct config_tail tail;
    struct config_retention retention;
    bool retention_given; /* the file has a `retention:` section (else the store's own) */

    /* Sections owned by other modules (NULL when absent), valid until release. */
    struct ylist rules;             /* rule files (globs) */
    yaml_node_t *receivers, *route; /* the rules engine's */
    yaml_node_t *inhibit, *alerting;
    yaml_node_t *report; /* the daily report's */
};

void config_init(struct config *c);
void config_release(struct config *c);

/* Load and check @path. Problems in the file are collected in c->y (nerrors, errors:
 * one "file:line:col: message" per line); returns -1 with @d filled only when the file
 * cannot be read. */
int config_load(struct config *c, const char *path, struct diag *d);
void config_load_mem(struct config *c, const char *name, const char *buf, size_t len);

/* Replace the sources by command-line paths, a source each (named by its path), with the
 * given format/prefix/tz (NULL: auto/none) and, when @include is not NULL, that include
 * glob. The tail defaults apply when no file was loaded. Problems are recorded like file
 * errors (DIAG_USAGE material). */
void config_set_paths(struct config *c, const char *const *paths, size_t n, const char *format,
                      const char *prefix, const char *tz, const char *include);

/* Problems found (c->y.nerrors) and their text. */
unsigned config_errors(const struct config *c);
const char *config_error_text(const struct config *c);
/* Set @d (DIAG_USAGE) to "invalid configuration (N problems):" and the problems, one a
 * line, each line after the first starting "pgsift: ". Returns -1. */
int config_error_diag(const struct config *c, struct diag *d);

/* The default `include` glob for a source of @format in a directory. */
const char *config_default_include(const char *format);

/* The reference of every key, as Markdown tables (docs/tail.md shows the same). */
void config_reference_markdown(FILE *out);

#endif
