/* SPDX-License-Identifier: MIT */
/*
 * parse_int - the private interface between the parse framework (parse.c) and the
 * formats (csvlog.c, jsonlog.c, stderrlog.c, syslog.c, supabase.c). Only files in
 * src/parse/ include it.
 *
 * Adding a format = one file plus one line in parse.c formats[]:
 *
 *   extern const struct log_format fmt_xyz;            (declared below)
 *   const struct log_format fmt_xyz = { .name = "xyz", .description = "...",
 *       .sniff = xyz_sniff, .init = xyz_init, .release = xyz_release,
 *       .line = xyz_line, .finish = xyz_finish, .pending_size = sizeof(struct xyz_rec) };
 *
 * How a format works. The framework calls ->line() once per physical line. While
 * handling that line the format must account for it exactly once, by one of:
 *   - parser_event_begin() ... parser_event_commit()   the line is a whole record
 *   - parser_reject()                                  the line is a bad record
 *   - parser_foreign() / parser_blank()                not a record at all
 *   - pending_start() / pending_add()                  the line joins a record that
 *                                                      continues on later lines
 * A pending record is finished by the format (pending_finish(): the next primary line
 * of the same process arrived, a csv closing quote was seen) or by the framework (end
 * of input, SIFT_MAX_PENDING_RECORDS, SIFT_MAX_PENDING_AGE_LINES); the framework then
 * calls ->finish(), which must either commit one event (parser_event_begin_pending()
 * ... parser_event_commit()) or parser_reject() it. A record that grew past
 * SIFT_MAX_RECORD_BYTES is rejected by the framework without calling ->finish().
 * A line the format fails to account for is rejected as "line not handled (bug)".
 *
 * Memory: event spans may point into the current line, into a pending record's text
 * (kept until the next feed even after finishing) or into parser_scratch() (reset at
 * every feed).
 */
#ifndef SIFT_PARSE_PARSE_INT_H
#define SIFT_PARSE_PARSE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/compat.h"
#include "core/sbuf.h"
#include "core/span.h"
#include "event.h"
#include "input/input.h"
#include "parse/parse.h"

/* What a sniff function sees: the first lines of the input (SIFT_DETECT_LINES /
 * SIFT_DETECT_BYTES), in order, without their newlines. */
struct sniff_input {
    const struct span *lines;
    size_t n;
    const struct parser_opts *opts;
};

struct pending;

struct log_format {
    const char *name;
    const char *description; /* one line for --help and docs */
    const char *hint;        /* shown in the "nothing parsed" diagnosis, e.g. how to find the
                                log_line_prefix; may be NULL */
    bool no_records;         /* recognised only so as not to be taken for another format
                                (pgbouncer): its lines are foreign, and its hint is shown
                                only when it was detected, never among the hints of every
                                format */

    /* Auto-detection: how many of the lines look like this format (0 = not this
     * format). The highest score wins; ties go to the earlier table entry. May write
     * a note for init() (e.g. the detected prefix) into @note. NULL: never detected. */
    size_t (*sniff)(const struct sniff_input *in, struct sbuf *note);

    /* Validate options at parser_new() (e.g. --prefix); return -1 with DIAG_USAGE. May be
     * NULL. Called for the forced format, or for every format when detecting. */
    int (*check_opts)(const struct parser_opts *opts, struct diag *d);

    /* Create the format's state; @note is the sniff note (NULL when forced). May be NULL
     * (no state). */
    void *(*init)(struct parser *p, const char *note);
    void (*release)(void *state);

    /* One physical line; see the accounting rule above. */
    void (*line)(struct parser *p, void *state, const struct input_line *ln);

    /* Turn a finished pending record into one event or a reject. May be NULL when the
     * format never starts pending records. */
    void (*finish)(struct parser *p, void *state, struct pending *rec);

    /* End of input, before the framework finishes the remaining pending records. May be
     * NULL. */
    void (*end)(struct parser *p, void *state);

    /* At the end of an input that may still grow (parser_end_hold()): must the pending
     * records wait for the rest? csvlog: when one is cut inside a quoted field; stderr and
     * syslog: always, unless parser_opts.end_live (their records may still get lines:
     * the collector writes line by line, syslog piece by piece). NULL: pending records are
     * complete as they are. */
    bool (*unterminated)(const struct parser *p, const void *state);

    /* The log_line_prefix in force (given, detected, or switched to on the way), for
     * `parse --stats`; NULL: the format has none. */
    const char *(*prefix)(const void *state);

    /* Resume (parser_checkpoint(), parser_opts.resume_state): write the state a parser
     * restarted at the checkpoint must have - at the start of the oldest pending record's
     * first line, or after the last line when nothing is pending. NULL: the lines after a
     * checkpoint are read alike without it. restore() sets a new state from those bytes;
     * -1 when they are not such a state. */
    void (*save)(struct parser *p, const void *state, struct sbuf *out);
    int (*restore)(void *state, struct span in);

    /* Bytes of per-record format data in pending->data (zeroed at pending_start()). */
    size_t pending_size;

    /* Records delimit themselves (parser_splittable()): could one start at this line? A
     * cheap guess; NULL for formats whose records cannot be told apart without what came
     * before (stderr continuation lines, syslog's split messages). */
    bool (*may_start)(struct span line);
};

/* The table entries, one per format file. The stderr/syslog/supabase owners add theirs
 * here and in parse.c formats[] (see the EXTENSION POINT comment there). */
extern const struct log_format fmt_csvlog;
extern const struct log_format fmt_jsonlog;
extern const struct log_format fmt_supabase;
extern const struct log_format fmt_stderr;
extern const struct log_format fmt_syslog;
extern const struct log_format fmt_cloudsql;
extern const struct log_format fmt_cnpg;
extern const struct log_format fmt_pgbouncer;

/* Tests and the fuzz target: route every jsonlog line through jansson (the fallback
 * path) to compare it with the scanner. Never set in the program. */
extern bool jsonlog_jansson_only;
/* The same for Supabase JSON rows (supabase.c: the scanner or jansson). */
extern bool supabase_jansson_only;

/* Tests and the fuzz target: split every csvlog line by walking its fields (csv_split())
 * instead of trying the mask-only split of plain one-line records first, to compare
 * them. Never set in the program. */
extern bool csvlog_walk_only;

/* --- options and shared state ------------------------------------------------------ */

/* parser_new() with a format given directly (@fmt NULL: detect). For tests, which
 * drive the framework with formats of their own. */
struct parser *parser_new_format(const struct log_format *fmt, const struct parser_opts *opts,
                                 struct diag *d);

const struct parser_opts *parser_opts(const struct parser *p);
const struct pgtime_tz *parser_tz(const struct parser *p);

/* Scratch memory for unescaped values; reset at every feed. */
struct arena *parser_scratch(struct parser *p);

/* The line being handled by ->line() (NULL inside ->finish() for a forced flush). */
const struct input_line *parser_current_line(const struct parser *p);

/* The complete lines after the current one that the caller of parser_feed_ahead() has
 * already read, when the current line may take some of them into its unit: inside
 * ->line(), with no record pending and no resume skip run among them. An empty span
 * otherwise. The last line in it may be incomplete. */
struct span parser_ahead(const struct parser *p);

/* Extend the current line (in ->line(), no record pending) over the next @lines lines of
 * parser_ahead(): its first @bytes, ending with the last line's '\n'. Returns the extended
 * line (text from the current line's start to the end of the last line's text, without a
 * "\r" before its '\n'), to parse and to pass to parser_event_begin(); the unit then counts
 * 1 + @lines lines and must end as an event or a reject. */
const struct input_line *parser_extend(struct parser *p, size_t bytes, uint64_t lines);

/* Inside ->line(), after accounting the current line: the next line of parser_ahead()
 * starts at @at (the end of the current line) and is @len bytes long, its '\n' right
 * after them (@len <= SIFT_MAX_LINE_BYTES, not ending in '\r'): the format found its end
 * while looking ahead. The caller of the feed may pass it to the input
 * (parser_line_hint()). */
void parser_hint_line(struct parser *p, const char *at, size_t len);

/* --- accounting ---------------------------------------------------------------------- */

/* Start an event for the current line / for the pending record being finished: a
 * cleared slot (event_clear()) whose src_* fields are set. Fill it, then commit it, or
 * abort it and reject. */
struct event *parser_event_begin(struct parser *p, const struct input_line *ln);
struct event *parser_event_begin_pending(struct parser *p, const struct pending *rec);
void parser_event_commit(struct parser *p, struct event *ev);
void parser_event_abort(struct parser *p, struct event *ev);

/* Reject the current unit (the line in ->line(), the record in ->finish()). @reason is a
 * short stable phrase (a string constant: it groups the counts); @fmt adds the details
 * of this one. The sample is the line / the record's text. */
void parser_reject(struct parser *p, const char *reason, const char *fmt, ...) SIFT_PRINTF(3, 4);

/* The current line belongs to no record: another program's output in the log. */
void parser_foreign(struct parser *p);

/* The current line is empty and between records. */
void parser_blank(struct parser *p);

/* --- pending records (multi-line and interleaved records) --------------------------- */

struct pending {
    uint64_t key;          /* format-defined: pid, hash of (host, pid), 0 for "the" record */
    uint64_t first_line;   /* where the record starts */
    uint64_t first_offset; /* decoded offset of its first line */
    uint64_t last_line;    /* line number of the most recent line added */
    uint64_t nlines;       /* lines accounted to this record */
    struct sbuf text;      /* format-defined bytes, capped at SIFT_MAX_RECORD_BYTES */
    bool overflow;         /* an append hit the cap: the record will be rejected */
    bool truncated_line;   /* a line of the record was cut at SIFT_MAX_LINE_BYTES */
    void *data;            /* log_format.pending_size bytes for the format */

    /* framework bookkeeping */
    uint64_t serial;
    struct pending *older, *newer;       /* creation order (checkpoint) */
    struct pending *lru_prev, *lru_next; /* activity order (age, eviction) */
    struct pending *hnext;               /* hash chain */
    struct pending *next_free;
};

/* The pending record of @key, or NULL. */
struct pending *pending_find(struct parser *p, uint64_t key);

/* The oldest pending record (by first line), or NULL. Formats whose records never
 * interleave (csvlog) keep at most one and use this instead of a key. */
struct pending *pending_oldest(struct parser *p);

/* Start a record at the current line (accounting it to the record) and append @bytes to
 * its text. If @key already has a pending record, that one is finished first. If
 * SIFT_MAX_PENDING_RECORDS are pending, the least recently active is finished first
 * (counted in stats.forced). Never NULL. */
struct pending *pending_start(struct parser *p, uint64_t key, struct span bytes);

/* Account the current line to @rec and append @bytes to its text. */
void pending_add(struct parser *p, struct pending *rec, struct span bytes);

/* Append bytes (a separator, a decoded piece) without accounting a line. */
void pending_append(struct pending *rec, struct span bytes);

/* The record is complete: ->finish() turns it into an event or a reject now. @rec is
 * invalid for the format afterwards (its text stays readable until the next feed). */
void pending_finish(struct parser *p, struct pending *rec);

/* Number of pending records. */
size_t pending_count(const struct parser *p);

/* --- helpers shared by formats ------------------------------------------------------- */

/* Flag @ev EVENT_INVALID_UTF8 when @s is not valid UTF-8 (ASCII fast path). */
void parser_check_utf8(struct event *ev, struct span s);

/* Copy up to 5 characters of @s into ev->sqlstate (NUL-terminated); false if @s is not
 * five [0-9A-Z] characters (the field is then left empty). */
bool parser_set_sqlstate(struct event *ev, struct span s);

/* ev->record_key from the record's own id text (Supabase's `id`); an empty id gives none. */
void parser_record_key(struct event *ev, struct span id);

/* Severity keyword (English, as csv/json/stderr print it; a few translations are also
 * known). false if unknown. */
bool parser_severity(struct span s, enum event_severity *out);

/* Split a client address "host:port" (csv connection_from; IPv6 "::1:5432" splits on
 * the last colon) into ev->client and ev->client_port. "[local]" has no port. */
void parser_set_client(struct event *ev, struct span s);

/* --- timestamps (pgtime.c) ----------------------------------------------------------- */

/* A fixed UTC offset from --tz, applied to zone abbreviations that are ambiguous (IST,
 * CST, BST, AST) or unknown, and to timestamps without a zone. */
struct tz;

struct pgtime_tz {
    bool set;
    int32_t offset_s; /* seconds east of UTC (a fixed --tz) */
    struct tz *zone;  /* an IANA --tz ("Europe/Paris"): the offset in force at each local
                         time, daylight saving included (owned: pgtime_tz_release()) */
};

enum pgtime_status {
    PGTIME_OK = 0,
    PGTIME_BAD,       /* not a timestamp */
    PGTIME_AMBIGUOUS, /* a zone abbreviation with several meanings and no --tz */
    PGTIME_UNKNOWN,   /* an unknown zone abbreviation and no --tz */
    PGTIME_NO_ZONE,   /* no zone and no --tz */
};

/* Parse --tz: "UTC", "Z", "+05:30", "+0530", "-03", an unambiguous abbreviation ("CET"),
 * or an IANA name ("Europe/Paris", read from the system's zoneinfo). Returns -1 with
 * DIAG_USAGE otherwise. */
int pgtime_tz_parse(const char *s, struct pgtime_tz *tz, struct diag *d);
void pgtime_tz_release(struct pgtime_tz *tz);

/* The offset (seconds east of UTC) of a zone-less local time @local_secs (seconds since
 * the epoch as if local time were UTC) under @tz: the fixed offset, or the IANA zone's
 * offset in force then (in the hour repeated when clocks go back, the first). */
int32_t pgtime_tz_offset_local(const struct pgtime_tz *tz, int64_t local_secs);

/* "2026-11-24 17:25:01.817 UTC" (%m, csv, json), "2026-11-24 17:25:01 UTC" (%t, %s),
 * numeric zones "-03" "+0545" "+05:30", 'T' instead of the space and "Z" (RFC 3339
 * wrappers). Up to 9 fractional digits (kept to microseconds). The whole span must
 * match. *frac = fractional digits for output: 0, 3 (1..3 digits) or 6 (4..9).
 * @zone_out (may be NULL) receives the zone text for messages. */
enum pgtime_status pgtime_parse(struct span s, const struct pgtime_tz *tz, int64_t *us, int *frac,
                                struct span *zone_out);

/* The last parsed time's seconds, for pgtime_parse_cached(). Zero it to start. */
struct pgtime_cache {
    bool valid;
    bool tz_set;
    int32_t tz_offset_s;
    const struct tz *tz_zone;
    char head[19]; /* "YYYY-MM-DD HH:MM:SS" */
    char tail[14]; /* the bytes after the fraction (" UTC", "+05:30") */
    unsigned char tail_len;
    int64_t secs; /* UTC seconds of head + tail */
};

/* pgtime_parse() that remembers the last time parsed: records of the same second share
 * the date, the time to the second and the zone, so only the fraction is parsed again.
 * Exactly pgtime_parse()'s result (tests/unit/test_pgtime.c compares them). */
enum pgtime_status pgtime_parse_cached(struct pgtime_cache *c, struct span s,
                                       const struct pgtime_tz *tz, int64_t *us, int *frac,
                                       struct span *zone_out);

/* %n: "1795541169.804" (Unix seconds with up to 6 fractional digits). */
enum pgtime_status pgtime_parse_epoch(struct span s, int64_t *us, int *frac);

/* Human message for a status, e.g. "ambiguous time zone 'IST' (pass --tz)". */
const char *pgtime_status_reason(enum pgtime_status st);

#endif
