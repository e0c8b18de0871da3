/* SPDX-License-Identifier: MIT */
/*
 * parse - physical log lines in, one struct event per log record out, for every
 * PostgreSQL/Supabase log format (csvlog, jsonlog, stderr, syslog, supabase).
 *
 * Formats are entries of one table (parse.c formats[]): name, description, sniff and
 * per-line/per-record operations (parse_int.h). The same table validates --format,
 * drives auto-detection and lists the formats in --help and docs.
 *
 * Owns: the detected/forced format's state, records still waiting for continuation
 * lines ("pending": csvlog quoted newlines, stderr DETAIL/STATEMENT/TAB lines), the
 * queue of finished events and the reject statistics of one source.
 *
 * Calling sequence (pull style):
 *
 *   p = parser_new(&(struct parser_opts){ .format = "auto", .tz = NULL }, &d);
 *   while (input_next(in, &line, &d) == INPUT_LINE) {
 *       parser_feed(p, &line);
 *       while (parser_next(p, &ev) == PARSE_EVENT)
 *           use(ev);                      (PARSE_NEED_MORE ends the loop)
 *   }
 *   parser_end(p);
 *   while (parser_next(p, &ev) == PARSE_EVENT)
 *       use(ev);                          (PARSE_END ends the loop)
 *   parser_stats(p), parser_checkpoint(p), parser_free(p)
 *
 * Lifetime rule: an event returned by parser_next() and every span in it (they point
 * into the fed line, a joined pending record or the parser's scratch arena) are valid
 * until the next parser_feed(), parser_end() or parser_free() on the same parser. All
 * events produced by one feed are valid together. A consumer that keeps anything
 * longer copies it (e.g. into its batch arena). Every event must be pulled before the
 * next feed (feeding with undrained events is a programmer error: BUG()).
 *
 * Accounting invariant (checked in tests): every fed line ends up in exactly one of:
 * an event, a rejected record, a foreign line, a blank line or a resume skip, so
 *     lines == event_lines + reject_lines + foreign_lines + blank_lines + skipped_lines
 * once parser_end() was drained, and records == events + rejects. Nothing is dropped
 * silently: a record that cannot be parsed or exceeds a core/limits.h bound is a
 * counted reject with file:line, reason and a sample.
 *
 * Exactly-once resume (parser_checkpoint): after draining parser_next(), the
 * checkpoint (offset, line) is the start of the oldest record still pending (or the end
 * of the last fed line when nothing is pending), plus `skip`: runs of lines at or after
 * that offset that were already accounted for (emitted, rejected, foreign) because
 * records of different processes interleave (syslog, stderr without the collector).
 * Restarting input at (offset, line) with parser_opts.skip = those runs re-reads
 * exactly the lines of records not yet emitted: the totals of a resumed run plus the
 * first run equal one uninterrupted run (tested from every checkpoint of a file).
 */
#ifndef SIFT_PARSE_PARSE_H
#define SIFT_PARSE_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/diag.h"
#include "core/limits.h"
#include "core/sbuf.h"
#include "event.h"
#include "input/input.h"

/* A run of consecutive lines, starting at decoded offset `offset`, that a resumed parser
 * must skip because an earlier run already accounted for them. */
struct parse_skip {
    uint64_t offset;
    uint64_t lines;
};

struct parser_opts {
    const char *format;            /* a name from the format table; NULL or "auto": detect */
    const char *prefix;            /* log_line_prefix for stderr/syslog; NULL: detect */
    const char *tz;                /* --tz: offset for ambiguous/unknown zone abbreviations and
                                      zone-less timestamps ("UTC", "+05:30", "-03", "CET") */
    const struct parse_skip *skip; /* resume: runs from a checkpoint (sorted by offset) */
    size_t nskip;
    struct span resume_state; /* resume: parse_checkpoint.state of that checkpoint (the
                                 format and its state there); empty: none was needed */
    bool end_live;            /* parser_end_hold() ends the pending records that may only still get
                                 lines (stderr, syslog): the input has been quiet for a while (tail's
                                 flush); a csvlog record cut in a quoted field is held all the same */
};

struct parse_checkpoint {
    uint64_t offset;               /* restart input here ... */
    uint64_t line;                 /* ... with this line number */
    const struct parse_skip *skip; /* borrowed: valid until the next feed */
    size_t nskip;
    struct span state; /* borrowed, likewise: what a parser resumed here must start from
                          (parser_opts.resume_state), for a format whose lines cannot be
                          read without what came before them (the Supabase CSV export's
                          header); empty for the others */
};

enum parse_status {
    PARSE_EVENT,     /* *ev is a finished event */
    PARSE_NEED_MORE, /* feed the next line (or call parser_end()) */
    PARSE_END,       /* parser_end() was called and every event has been pulled */
};

/* One kept sample of a rejected record or foreign line. */
struct parse_sample {
    char *source; /* file name ("-" for stdin) */
    uint64_t line, offset;
    char *detail; /* what exactly was wrong, e.g. "expected 23, 24 or 26 columns, got 25" */
    char *text;   /* the first SIFT_MAX_SAMPLE_BYTES bytes of the record, as read */
    size_t text_len;
};

/* Rejects of one reason (reasons are short stable phrases, e.g. "unterminated quoted
 * field"; formats name them, see parse_int.h). */
struct parse_reason {
    char *reason;
    uint64_t records, lines;
    struct parse_sample samples[SIFT_MAX_REJECT_SAMPLES];
    size_t nsamples;
};

struct parse_stats {
    uint64_t lines;         /* physical lines fed */
    uint64_t records;       /* records recognised: events + rejects */
    uint64_t events;        /* events emitted */
    uint64_t event_lines;   /* lines that went into events */
    uint64_t rejects;       /* records rejected */
    uint64_t reject_lines;  /* lines that went into rejected records */
    uint64_t foreign_lines; /* lines of other programs in the log (stderr files) */
    uint64_t blank_lines;   /* empty lines between records */
    uint64_t skipped_lines; /* resume: already accounted for by an earlier run */
    uint64_t forced;        /* pending records completed early (pending-count or age
                               bound): still emitted, but a later continuation line of
                               the same process becomes a reject */
    uint64_t invalid_utf8;  /* events carrying EVENT_INVALID_UTF8 */
    uint64_t truncated;     /* events carrying EVENT_TRUNCATED */
    uint64_t damaged;       /* input damage reports (truncated .gz ...), see parser_damage() */
    uint64_t undated;       /* events without a time (a prefix without %m, %t or %n) */
    uint64_t dated;         /* events with a time, each after the first lines of those before */
    uint64_t older;         /* ... more than PARSE_OLDER_US older than one of those */
    struct parse_reason *reasons; /* reject reasons in order of first appearance */
    size_t nreasons;
    struct parse_reason foreign; /* samples of foreign lines (reason "foreign line") */
    struct parse_reason damage;  /* damage reports (reason "damaged input"): not records */
};

struct parser;

/* Create a parser. Fails with DIAG_USAGE for an unknown format (the message lists the
 * valid ones), an invalid --tz or a prefix the format rejects. */
struct parser *parser_new(const struct parser_opts *opts, struct diag *d);

/* Feed one physical line (from input_next()). The line must stay valid until the next
 * feed/end; see the lifetime rule above. */
void parser_feed(struct parser *p, const struct input_line *line);

/* parser_feed() of a line followed by @ahead: the bytes after the line's end that the
 * input has already read (input_ahead(); the last line there may be incomplete). A format
 * may take complete lines of @ahead into the line's record (csvlog: a record whose quoted
 * field spans lines is found and parsed in place, one unit instead of a line at a time).
 * Returns how many lines it took (0: just the line). Then *ln is extended over them: text
 * runs from the line's start to the end of the last one's text (the newlines between them
 * included), end past its "\n"; line and offset stay the first line's. The caller must
 * consume the taken bytes (input_consume(in, new end - old end, n)) so that they are not
 * fed again. Accounting, events and checkpoints are exactly those of feeding the lines one
 * by one. */
uint64_t parser_feed_ahead(struct parser *p, struct input_line *ln, struct span ahead);

/* After parser_feed_ahead() returned 0: the format found where the next line ends while
 * looking ahead (csvlog splits it then): the line at *at (the start of the ahead bytes)
 * is that many bytes long, followed by '\n'. 0 when it did not. Pass it to
 * input_hint_line() so that input_next() does not search for the '\n' again. */
size_t parser_line_hint(const struct parser *p, const char **at);

/* The log_line_prefix the parser reads with now (stderr and the formats that wrap its
 * lines), NULL for the others or before the format is known. Valid until the next feed. */
const char *parser_prefix(const struct parser *p);

/* The input ended: finish every pending record. */
void parser_end(struct parser *p);

/* Decide the format now from the lines held for detection (with fewer than it waits
 * for: a live log that grows a line at a time), then go on; pending records stay
 * pending. No-op once the format is known. */
void parser_end_detection(struct parser *p);

/* The input ended for now, but it may still grow (a log file being written, read once by
 * pgsift ingest): as parser_end(), except that a last record cut where it cannot end
 * (parser_unterminated(): csvlog, inside a quoted field) is left pending, neither
 * finished nor rejected, and true is returned: the checkpoint then stays at its start, so
 * the next run reads it whole. The parser is not ended then (drain it; parser_end() may
 * follow). False: parser_end() was done. Format detection still buffering lines ends here
 * as in parser_end() (its events are then to be pulled). */
bool parser_end_hold(struct parser *p);

/* A record is pending whose text ends where the format says no record can end (csvlog:
 * inside a quoted field); false while the format is not known yet. */
bool parser_unterminated(const struct parser *p);

/* Pull the next finished event. The event may be modified by later stages (classify
 * sets kind, normalize the fingerprint) until the next feed. */
enum parse_status parser_next(struct parser *p, struct event **ev);

/* Count damaged input (input_next() returned INPUT_DAMAGED) in stats.damaged, with the
 * description (what, compressed offset, decoded offset) as a sample in stats.damage.
 * Damage is not a record: the lines decoded before it were parsed as usual. */
void parser_damage(struct parser *p, const char *source, const struct input_damage *dmg);

/* The resume point; see the header comment. Call after draining parser_next(). Before
 * the first line was fed it returns line 0: keep the position you started at. */
void parser_checkpoint(struct parser *p, struct parse_checkpoint *cp);

const struct parse_stats *parser_stats(const struct parser *p);

/* The format in use ("csvlog" ...), or NULL while auto-detection still buffers lines or
 * when no format matched. */
const char *parser_format(const struct parser *p);

/* Why nothing parsed, for exit 3 (DIAG_NOINPUT): the formats tried with their scores,
 * the first failing lines with their reasons, and a hint (e.g. the --prefix to pass).
 * The lines quoted hold tenant data: when @redact is not NULL each goes through it first
 * (the caller's redactor, e.g. redact_message(); NULL: --keep-literals). */
void parser_diagnose(const struct parser *p, int (*redact)(struct sbuf *, struct span),
                     struct sbuf *out);

/* Free; accepts NULL. */
void parser_free(struct parser *p);

/*
 * Parsing one file in parts, on several threads (pipeline_par.c). Allowed only where the
 * format's records delimit themselves (csvlog, jsonlog): each record starts at a line
 * start, and a parser holding nothing pending carries nothing from one record to the
 * next, so a parser started fresh at a record start gives exactly the events and rejects
 * that the parser which read everything before it would.
 */
/* The format is known (given or detected) and its files may be parsed in parts. */
bool parser_splittable(const struct parser *p);
/* With parser_splittable(): could a record start at this line? A guess (csvlog: a log time and
 * the columns up to the SQLSTATE, as when resynchronising); a part starting at a wrong guess is
 * found out by the previous part not ending there, and parsed again. */
bool parser_may_start(const struct parser *p, struct span line);
/* Nothing is pending (and detection is over): the checkpoint is the end of the last line
 * fed, with no skip runs. */
bool parser_idle(const struct parser *p);
/* The format is the one the saved state of an earlier run belongs to
 * (parser_opts.resume_state): that run parsed records of the stream in it. */
bool parser_resumed(const struct parser *p);
/* A fresh parser for another part of the same stream: @p's options and format (with what
 * detection noted for it) without its state. NULL + @d on failure. */
struct parser *parser_fork(const struct parser *p, struct diag *d);
/* Make an idle parser (parser_idle(), every event pulled) what parser_fork() would give:
 * no position, no stats, the format's state new; its memory is kept. False when it is
 * not idle (fork a new one). */
bool parser_restart(struct parser *p);

/* Add the counts and samples of @src to @dst (samples beyond SIFT_MAX_REJECT_SAMPLES per
 * reason are counted, not kept). */
void parse_stats_merge(struct parse_stats *dst, const struct parse_stats *src);

/* A second: a server writes its records in the order of their times, give or take the
 * moments between taking a time and writing, so a record more than this older than one
 * whose first line came before it is out of order (a file newest-first: `gcloud logging
 * read` without --order=asc, `tac`; or the server's clock was set back). */
#define PARSE_OLDER_US INT64_C(1000000)
/* Whether most dated events (and at least 10) came after a newer one: the input looks
 * newest-first, and its multi-line records were joined to the wrong lines. */
bool parse_stats_newest_first(const struct parse_stats *st);
/* What to say of st->undated records, after "'<source>': <N> record(s) ". */
#define PARSE_UNDATED_NOTE                                                                 \
    "without a time (the log_line_prefix has no %m, %t or %n, and no syslog header gave "  \
    "one): stored at the time of the record before them, or of the ingest; put %m in the " \
    "server's log_line_prefix"
/* The note to print then, after "'<source>': ". */
#define PARSE_NEWEST_FIRST_NOTE                                                             \
    "most records are older than a record before them: the log looks newest-first. pgsift " \
    "reads a log oldest-first (its continuation lines go with the record before them); "    \
    "reverse the file (tac), or export oldest-first (gcloud logging read --order=asc)"
/* The same with @line_delta added to the line of each sample taken (a part of a stream
 * counted its lines from 1). */
void parse_stats_merge_at(struct parse_stats *dst, const struct parse_stats *src,
                          uint64_t line_delta);
void parse_stats_release(struct parse_stats *st);

/* The format table, for --help and docs: names in table order, NULL-terminated. */
size_t parse_format_count(void);
const char *parse_format_name(size_t i);
const char *parse_format_description(size_t i);

#endif
