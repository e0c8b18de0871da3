/* SPDX-License-Identifier: MIT */
/*
 * stderrlog - assembling PostgreSQL's stderr records (private to parse/).
 *
 * A stderr record (formats.md §4.1) is a primary line "<prefix>SEVERITY:  message",
 * TAB-indented continuation lines (multi-line values), and sub-lines with the same
 * prefix ("DETAIL:  ", "HINT:  ", "QUERY:  ", "CONTEXT:  ", "LOCATION:  ",
 * "BACKTRACE:  ", "STATEMENT:  ", in that order). The same record shape arrives through
 * syslog (syslog.c), Cloud SQL's JSON entries (cloudsql.c) and CloudNativePG's raw
 * lines (cnpg.c), so this file offers the pieces as a "core" those wrappers drive:
 *
 *   c = stderr_core_new(p, &opts)             a prefix (given, detected or found on the fly)
 *   per logical line:
 *     stderr_core_match(c, text, &m)          is it "<prefix>KEYWORD:"?
 *     stderr_rec_begin(p, c, key, ...)        a primary line starts a pending record
 *     stderr_rec_subline(p, c, rec, ...)      a sub-line joins the record of its process
 *     stderr_rec_cont(p, rec, text, sep)      a continuation extends the last value
 *   fmt->finish: stderr_core_finish(p, c, rec) turns the record into one event
 *
 * Each of begin/subline/cont accounts the current physical line to the record (the
 * parse_int.h accounting rule); the caller accounts the lines it does not hand over.
 *
 * The prefix adapts: without --prefix, a line with a keyword that the current prefix
 * does not match is tried against the prefixes seen before and the known list; with
 * or without --prefix, a `parameter "log_line_prefix" changed to "..."` message
 * switches to the new setting (a reload changes the prefix mid-file, formats.md §4.3).
 */
#ifndef SIFT_PARSE_STDERRLOG_H
#define SIFT_PARSE_STDERRLOG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/span.h"
#include "parse/line_prefix.h"
#include "parse/parse_int.h"

struct stderr_core_opts {
    const char *prefix; /* log_line_prefix; NULL: detect from the lines */
    bool forced;        /* the user gave --prefix: do not adapt (except on reload) */
    /* Records of different processes interleave (syslog, Cloud SQL): keep records
     * pending by process for this many lines. 0: records are contiguous (stderr
     * files), a primary line completes every other pending record. */
    unsigned window;
    bool wrapped; /* bodies behind a syslog header: inferred prefixes need no %t/%p */
};

/* What a wrapper knows about a line besides its text. */
struct stderr_ext {
    int64_t ts_us;   /* the wrapper's time (UTC µs), INT64_MIN if none */
    int ts_frac;     /* its fractional digits */
    bool ts_partial; /* syslog's header time: no year, no zone; prefix time wins */
    int64_t pid;     /* the wrapper's process id (syslog header), -1 if none */
};

#define STDERR_EXT_NONE ((struct stderr_ext){ INT64_MIN, 0, false, -1 })

struct stderr_core;

struct stderr_core *stderr_core_new(struct parser *p, const struct stderr_core_opts *o);
void stderr_core_free(struct stderr_core *c);

/* Match @text against the current prefix, adapting as described above. */
bool stderr_core_match(struct stderr_core *c, struct span text, struct line_prefix_match *m);
/* Whether the current prefix has a time (%m, %t, %n): it wins over a wrapper's. */
bool stderr_core_has_time(const struct stderr_core *c);
/* Match @text against the current prefix alone: nothing else tried, nothing counted. */
bool stderr_core_match_current(struct stderr_core *c, struct span text,
                               struct line_prefix_match *m);

/* End of input: when not one line matched, say on stderr which prefix the lines
 * look like (the "--prefix to pass" of the diagnosis). */
void stderr_core_end(struct stderr_core *c);

/* The key records of this line's process are kept under: the pid from the prefix (or
 * from @ext), else the session id, else 0; mixed with @stream (a wrapper's host/ident
 * hash). */
uint64_t stderr_core_key(const struct line_prefix_match *m, struct span text,
                         const struct stderr_ext *ext, uint64_t stream);

/* Start a record with a primary line (m->kw is a severity). In contiguous mode every
 * other pending record is completed first. */
struct pending *stderr_rec_begin(struct parser *p, struct stderr_core *c, uint64_t key,
                                 struct span text, const struct line_prefix_match *m,
                                 const struct stderr_ext *ext);

/* Add a sub-line (m->kw is DETAIL...STATEMENT). Returns false, accounting nothing,
 * when the keyword cannot follow what the record already has (the record it belongs
 * to is missing). With @account false the bytes are added without accounting a line
 * (a second piece of one physical line: syslog with embedded newlines). */
bool stderr_rec_subline(struct parser *p, struct pending *rec, struct span text,
                        const struct line_prefix_match *m, bool account);

/* Extend the last value of the record with @sep ("\n" for a continuation line, "" for
 * a syslog piece cut for length) and @text, accounting the current line if @account. */
void stderr_rec_cont(struct parser *p, struct pending *rec, struct span sep, struct span text,
                     bool account);

/* Two numbers a wrapper keeps with a record (syslog: sequence number, last piece
 * length); zero at stderr_rec_begin(). */
uint64_t *stderr_rec_wrapper(struct pending *rec);

/* Bytes of the last value so far (syslog's length-split heuristic). */
size_t stderr_rec_last_len(const struct pending *rec);

/* The stderr rules for one logical line: a TAB line continues the record of the
 * previous line, a primary line starts a record, a sub-line joins its process's
 * record. With @account false the text is a further piece of a physical line already
 * accounted for (a JSON payload with embedded newlines): nothing is accounted, a
 * primary line cannot start a record, and a piece that is no record line continues
 * the last value of the line's record (STDERR_TAKEN). */
enum stderr_take {
    STDERR_TAKEN,   /* the line went into a record */
    STDERR_FOREIGN, /* not a line of a record: the caller counts it (parser_foreign) */
    STDERR_ORPHAN,  /* a sub-line whose record is not pending: the caller rejects it */
};
enum stderr_take stderr_core_take(struct parser *p, struct stderr_core *c, struct span text,
                                  const struct stderr_ext *ext, bool account);

/* Reject reason for STDERR_ORPHAN. */
#define STDERR_ORPHAN_REASON "sub-line without its record"

/* log_format.finish for every format built on the core. */
void stderr_core_finish(struct parser *p, struct stderr_core *c, struct pending *rec);

/* Per-record data (pending->data; log_format.pending_size = sizeof(struct srec)).
 * Only stderrlog.c looks inside. */
#define SREC_MAX_SEGS 8 /* the primary line and the seven sub-line kinds, in order */

struct srec_seg {
    uint8_t kw; /* enum lp_keyword */
    uint32_t off, len;
};

struct srec {
    uint32_t fo[LPF_COUNT], fl[LPF_COUNT]; /* prefix fields: offset, length in text */
    uint32_t fmask;                        /* bit per field present */
    struct srec_seg seg[SREC_MAX_SEGS];
    uint8_t nseg;
    struct stderr_ext ext;
    uint64_t wrap[2]; /* the wrapper's (stderr_rec_wrapper) */
};

/* The prefix in use (for notes and diagnoses), "" before one is known. */
const char *stderr_core_prefix(const struct stderr_core *c);

/* Sniff helper: score @lines (after any wrapper is removed) for stderr records, writing
 * "prefix '<text>'" into @note. Uses opts->prefix when given. @wrapped as in
 * struct stderr_core_opts. */
size_t stderr_sniff_lines(const struct span *lines, size_t n, const struct parser_opts *opts,
                          struct sbuf *note, bool wrapped);

/* Read back a note written by stderr_sniff_lines() (NULL: none); returns a malloc'd
 * prefix text or NULL. */
char *stderr_note_prefix(const char *note);

#endif
