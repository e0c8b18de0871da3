/* SPDX-License-Identifier: MIT */
/*
 * event - the one record every stage after parse sees.
 *
 * parse/ fills the log fields, classify/ sets `kind` and the extracted numbers (`facts`),
 * normalize/ sets the fingerprint, store/ aggregates. Text fields are spans into the
 * chunk being parsed or into the batch arena: borrowed, valid until the parser's next
 * call or arena_reset() (whichever the producer documents). A stage that needs a field
 * longer copies it.
 *
 * A field the record does not carry is absent: span p == NULL, number -1 (or the
 * documented sentinel). INTERFACE.md fixes the names users see; event_kind_name() and
 * severity_name() give them.
 */
#ifndef SIFT_EVENT_H
#define SIFT_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/span.h"

/* INTERFACE.md `kind` values. Extend at the end of a group, never reuse a name. */
enum event_kind {
    EV_OTHER = 0,
    EV_DURATION,
    EV_STATEMENT,
    EV_PLAN,
    EV_ERROR,
    EV_LOCK_WAIT,
    EV_LOCK_ACQUIRED,
    EV_DEADLOCK,
    EV_TEMP_FILE,
    EV_CHECKPOINT,
    EV_AUTOVACUUM,
    EV_AUTOANALYZE,
    EV_CONNECTION,
    EV_AUTHENTICATED,
    EV_DISCONNECTION,
    EV_AUTH_FAILURE,
    EV_CANCEL,
    EV_TIMEOUT,
    EV_TOO_MANY_CONNECTIONS,
    EV_STARTUP,
    EV_SHUTDOWN,
    EV_KIND_COUNT
};

enum event_severity {
    SEV_NONE = 0,
    SEV_DEBUG,
    SEV_INFO,
    SEV_NOTICE,
    SEV_WARNING,
    SEV_LOG,
    SEV_ERROR,
    SEV_FATAL,
    SEV_PANIC,
    SEV_COUNT
};

/* Extended-protocol step of a duration/statement record. */
enum event_phase {
    PHASE_NONE = 0, /* not a statement record */
    PHASE_SIMPLE,
    PHASE_PARSE,
    PHASE_BIND,
    PHASE_EXECUTE,
    PHASE_COUNT
};

enum plan_format { PLAN_NONE = 0, PLAN_TEXT, PLAN_JSON, PLAN_YAML, PLAN_XML };

enum event_flags {
    EVENT_INVALID_UTF8 = 1 << 0, /* some field had invalid UTF-8 (replaced on output) */
    EVENT_TRUNCATED = 1 << 1,    /* a field was cut at a core/limits.h bound */
    EVENT_HAS_PARAMS = 1 << 2,   /* `params` holds bind parameters (tenant data) */
    EVENT_HAS_FINGERPRINT = 1 << 3,
};

/*
 * Numbers classify/ extracts for the kinds users chart. Which members are meaningful
 * depends on `kind`; unset ones are -1 (or SPAN_NULL). See classify/classify.h for the
 * message each comes from.
 */
struct event_facts {
    double wait_ms;          /* lock_wait/lock_acquired/deadlock: time waited */
    struct span lock_mode;   /* e.g. "ShareLock" */
    struct span lock_object; /* e.g. "transaction 1234", "relation 16384 of database 5" */
    int64_t temp_bytes;      /* temp_file: size */
    struct span temp_path;
    int64_t buffers;                 /* checkpoint: buffers written */
    double write_s, sync_s, total_s; /* checkpoint timings (seconds) */
    struct span cause;               /* checkpoint cause ("time", "wal", "immediate force wait"),
                                        cancel/timeout cause, shutdown mode */
    struct span relation;            /* autovacuum/autoanalyze: "db.schema.table" */
    int64_t tuples_removed, tuples_remain; /* autovacuum */
    double elapsed_s; /* autovacuum/autoanalyze elapsed; disconnection: session time */
    struct span host; /* connection: client host */
};

struct event {
    /* Where the record came from. */
    struct span src_name; /* file name as given, "-" for stdin */
    uint64_t src_line;    /* 1-based line of the record's first line */
    uint64_t src_offset;  /* byte offset of the record's first line in the (decoded) stream */

    /* The log record (formats.md §0). */
    int64_t ts_us;        /* UTC microseconds since the epoch; INT64_MIN if absent */
    int ts_frac;          /* fractional digits the log had: 0 (%t), 3 (%m) or 6 */
    int64_t pid;          /* -1 if absent */
    int64_t session_line; /* csv/json session_line_num, stderr %l; -1 if absent */
    struct span session_id, user, database, application, client, backend_type, command_tag;
    enum event_severity severity;
    char sqlstate[6]; /* five characters + NUL; "" when the format has none */
    struct span message, detail, hint, context;
    struct span statement;      /* STATEMENT: the client statement the record refers to */
    struct span internal_query; /* QUERY: */
    int64_t query_id;           /* exact signed 64-bit as logged */
    bool has_query_id;          /* query_id present and non-zero */
    uint32_t flags;             /* enum event_flags */

    /* Further log fields (formats.md §0), filled where the format has them. */
    int32_t client_port;      /* TCP port of `client`; -1 if absent (Unix socket) */
    int64_t leader_pid;       /* parallel workers: pid of the group leader; -1 if absent */
    int64_t txid;             /* top-level transaction id, 0 if none; -1 if absent */
    struct span vxid;         /* virtual transaction id "3/167" */
    int64_t session_start_us; /* UTC microseconds; INT64_MIN if absent */
    int32_t cursor_pos;       /* 1-based character position in `statement`; -1 */
    int32_t internal_pos;     /* 1-based character position in `internal_query`; -1 */
    struct span location;     /* "func, file.c:line" (log_error_verbosity=verbose) */

    /* classify/ */
    enum event_kind kind;
    enum event_phase phase;
    double duration_ms;        /* duration/plan records; -1 if absent */
    int64_t rows;              /* rows returned/affected when the log says (auto_explain's
                                  top node "actual rows"); -1 if absent */
    struct span query;         /* SQL text of a duration/statement/plan record */
    struct span prepared_name; /* extended protocol statement name, "" for unnamed */
    struct span params;        /* bind parameters (tenant data: redact before storing) */
    enum plan_format plan_format;
    struct span plan; /* auto_explain plan text (JSON plans: the JSON text) */
    struct event_facts facts;

    /* normalize/ */
    uint64_t fingerprint;    /* 64-bit shown to users, valid with EVENT_HAS_FINGERPRINT */
    uint64_t fingerprint_hi; /* the other 64 bits of the hash, for collision detection */
    struct span normalized;  /* canonical $n text (arena) */
};

/* Reset every field to "absent". */
void event_clear(struct event *ev);

/* INTERFACE.md names: "duration", "lock_wait", …; "LOG", "ERROR", …; "execute", … */
const char *event_kind_name(enum event_kind k);
const char *severity_name(enum event_severity s);
const char *phase_name(enum event_phase p);
const char *plan_format_name(enum plan_format f);

/* Reverse lookups; return false for an unknown name. */
bool event_kind_from_name(struct span name, enum event_kind *out);
bool severity_from_name(struct span name, enum event_severity *out);

#endif
