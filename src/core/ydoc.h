/* SPDX-License-Identifier: MIT */
/*
 * ydoc - YAML files (config, alert rules) loaded with libyaml's document API and
 * checked against a field table, reporting every error with file:line:col.
 *
 * A field table (struct yfield[]) names each key once: type, required, default, help
 * and where it goes in the caller's struct (offsetof). The same table validates, fills
 * the struct, prints the reference (`ydoc_fields_markdown`) and names the accepted keys
 * in "unknown key" errors (Fluent Bit's config map, Redis's standardConfig).
 *
 * Errors in the file are collected, not returned: after loading and mapping, `nerrors`
 * says how many there were and `errors` holds one "path:line:col: message" per line.
 * Only environment failures (cannot read the file) return -1 with a diag.
 *
 * Owns: the libyaml document and the strings it hands out (in @strings, an arena the
 * caller owns, so mapped structs outlive the document).
 */
#ifndef SIFT_CORE_YDOC_H
#define SIFT_CORE_YDOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <yaml.h>

#include "core/arena.h"
#include "core/diag.h"
#include "core/sbuf.h"
#include "core/span.h"

struct ydoc {
    const char *path; /* as given, for messages */
    yaml_document_t doc;
    bool loaded;
    unsigned nerrors;
    struct sbuf errors; /* "path:line:col: message\n" per error */
};

enum yfield_type {
    YF_STRING,      /* const char * (arena) */
    YF_BOOL,        /* bool: true/false/yes/no/on/off */
    YF_INT,         /* int64_t */
    YF_NUMBER,      /* double */
    YF_DURATION,    /* int64_t microseconds: 500ms, 30s, 5m, 1h, 7d, 2w */
    YF_SIZE,        /* int64_t bytes: 512, 64kB, 512MB, 1GB, 1TB (1024-based, as in
                     * postgresql.conf) or 1KiB/MiB/GiB/TiB */
    YF_CHOICE,      /* const char * pointing at one of `choices` */
    YF_STRING_LIST, /* struct ylist: a scalar or a sequence of scalars */
    YF_NODE,        /* yaml_node_t *: the caller walks it (nested maps, lists of maps) */
};

struct ylist {
    const char **v;
    size_t n;
};

struct yfield {
    const char *name;
    enum yfield_type type;
    bool required;
    const char *def;            /* default, written as it would be in the file; NULL: none */
    const char *help;           /* one line for `rules explain` and the docs */
    size_t offset;              /* offsetof(struct ..., member) */
    const char *const *choices; /* YF_CHOICE: NULL-terminated */
};

/* Read and parse @path (at most @max_bytes). Syntax errors are recorded (nerrors);
 * returns -1 only when the file cannot be read. */
int ydoc_load(struct ydoc *y, const char *path, size_t max_bytes, struct diag *d);

/* The same from memory (tests, fuzzing). @name is used in messages. */
void ydoc_load_mem(struct ydoc *y, const char *name, const char *buf, size_t len);

void ydoc_release(struct ydoc *y);

/* The document's root node, or NULL for an empty document. */
yaml_node_t *ydoc_root(struct ydoc *y);

/* Record an error at a node's position ("path:line:col: ..."). @n may be NULL. */
void ydoc_error(struct ydoc *y, const yaml_node_t *n, const char *fmt, ...) SIFT_PRINTF(3, 4);

/* Check that @map is a mapping whose keys are all in @fields, apply defaults, convert
 * values into @out. Every problem is recorded; returns the number of new errors. */
unsigned ydoc_map(struct ydoc *y, yaml_node_t *map, const struct yfield *fields, size_t nfields,
                  void *out, struct arena *strings);

/* Node helpers for YF_NODE walkers. */
yaml_node_t *ydoc_node(struct ydoc *y, int index);
struct span ydoc_scalar(const yaml_node_t *n); /* SPAN_NULL unless a scalar */
/* The value node of @key in the mapping @map; NULL when @map is no mapping or has none. */
yaml_node_t *ydoc_map_get(struct ydoc *y, yaml_node_t *map, struct span key);

/* Value converters (also used by command-line flags that take durations or sizes).
 * Return false when malformed or out of range. */
bool ydoc_parse_duration(struct span s, int64_t *us);
bool ydoc_parse_size(struct span s, int64_t *bytes);
bool ydoc_parse_bool(struct span s, bool *b);

/* The field table as a Markdown table (name, type, required, default, description). */
void ydoc_fields_markdown(FILE *out, const struct yfield *fields, size_t nfields);

#endif
