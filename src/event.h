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

#include "core/limits.h"
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
    EV_CRASH, /* (appended: the numbers above are stored in event block masks) */
    EV_ARCHIVE_FAILURE,
    EV_CONNECTION_READY, /* PG18 log_connections = setup_durations */
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
 * Which end of an occurrence a record is, for kinds where one occurrence logs two
 * records (count occurrences as records whose step is not STEP_END).
 */
enum event_step {
    STEP_NONE = 0, /* the record is the whole occurrence */
    STEP_START,    /* checkpoint starting, shutdown request, lock wait begins */
    STEP_END,      /* checkpoint complete, database system is shut down, lock wait ends */
    STEP_COUNT
};

/*
 * What classify/ extracts for the kinds users chart (docs/classify.md lists the message
 * each member comes from). Which members are meaningful depends on `kind`; unset ones
 * are -1 (numbers), SPAN_NULL (spans) or 0 (step, n_participants). Spans point into the
 * record's own message/detail/context, into static text, or (decoded plan text) into the
 * arena given to classify_event().
 */
struct event_facts {
    enum event_step step;
    struct span cause; /* timeout: the setting ("statement_timeout", ...); cancel: "user_request",
                          "autovacuum", "recovery_conflict"; checkpoint: flag words
                          ("time", "immediate force wait"); shutdown: "fast"/"smart"/
                          "immediate"; lock_wait: "waiting", "deadlock_detected",
                          "deadlock_avoided", "failed"; autovacuum: "aggressive",
                          "wraparound", "aggressive_wraparound"; startup: "read_only";
                          statement: "fetch" (execute fetch from), "pgaudit"; crash:
                          "signal", "exception", "exit_code", "reset" (the other
                          processes' end, then the restart); archive_failure:
                          "exit_code", "signal", "exception", "status",
                          "too_many_failures" */

    /* lock_wait, lock_acquired, deadlock */
    double wait_ms;           /* time waited so far (milliseconds) */
    struct span lock_mode;    /* e.g. "ShareLock" */
    struct span lock_object;  /* e.g. "transaction 1234", "relation 16384 of database 5" */
    struct span lock_holders; /* DETAIL "Process(es) holding the lock: 12, 13." -> "12, 13" */
    struct span lock_queue;   /* DETAIL "Wait queue: 14." -> "14" ("" when empty) */
    int64_t blocker_pid;      /* first holder (lock_wait) / first blocker (deadlock) */
    int n_participants;       /* deadlock: distinct pids of the cycle */
    int64_t participants[SIFT_MAX_DEADLOCK_PROCS];

    /* temp_file */
    int64_t temp_bytes; /* size in bytes */
    struct span temp_path;

    /* checkpoint (complete) */
    int64_t buffers;                 /* buffers written */
    double write_s, sync_s, total_s; /* seconds */
    int64_t distance_kb;             /* WAL distance since the previous checkpoint, kB */
    int64_t estimate_kb;             /* the checkpointer's estimate of the distance, kB */
    int64_t wal_added, wal_removed, wal_recycled; /* WAL segment files */
    int64_t sync_files;                           /* files fsync'ed */
    double sync_longest_s, sync_average_s;        /* seconds per file sync */

    /* autovacuum / autoanalyze */
    struct span relation;                  /* "db.schema.table" */
    int64_t tuples_removed, tuples_remain; /* autovacuum */
    int64_t tuples_dead; /* autovacuum: dead but not yet removable (an old xmin holds them) */
    int64_t index_scans; /* autovacuum: index vacuuming passes */
    int64_t pages_removed, pages_remain; /* autovacuum: heap pages truncated away / left */
    int64_t pages_scanned;               /* autovacuum: heap pages scanned (PG15+) */
    int64_t buffer_hits, buffer_misses, buffer_dirtied; /* buffers found, read ("misses";
                                                           PG18 "reads"), dirtied (shared;
                                                           PG17+ local ones too) */
    double read_mb_s, write_mb_s;                       /* average I/O rates, MB/s */
    int64_t wal_records, wal_fpi, wal_bytes; /* WAL written: records, full page images, bytes */
    double elapsed_s; /* autovacuum/autoanalyze elapsed; disconnection: session time;
                         checkpoint "occurring too frequently": seconds apart */

    /* connection, disconnection */
    struct span host; /* client host, "[local]" for Unix sockets */
    int64_t port;     /* client port; -1 for Unix sockets */

    /* connection_ready (PG18 "connection ready: setup total=…, fork=…, authentication=…"):
     * milliseconds from the postmaster accepting the connection to the backend being
     * ready for its first query, of which forking the backend and authenticating it */
    double setup_ms, fork_ms, auth_ms;
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
    uint64_t record_key;      /* the record's own id where the format gives one (Supabase's
                                 `id`), hashed by parser_record_key(); 0 if none. The store
                                 counts a record with a key once, whatever file holds it. */

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
    bool classified; /* classify_event() ran on it: a second run clears what the first set
                        (facts are cleared by event_clear(), so the first run need not) */

    /* normalize/ */
    uint64_t fingerprint;    /* 64-bit shown to users, valid with EVENT_HAS_FINGERPRINT */
    uint64_t fingerprint_hi; /* the other 64 bits of the hash, for collision detection */
    struct span normalized;  /* canonical $n text (arena) */
};

/* Reset every field to "absent". */
void event_clear(struct event *ev);

/* A copy of @src whose texts live in @a: valid as long as @a is, whatever becomes of what
 * @src pointed into. A span inside another of @src's texts (the query inside the message,
 * a fact inside the detail) points into that text's copy; each text is copied once. */
struct arena;
void event_copy(struct event *dst, const struct event *src, struct arena *a);

/* Reset the facts to "absent" (event_clear() does this too). */
void event_facts_clear(struct event_facts *f);

/* One fact of an event as `pgsift parse` and `pgsift events` show it: its name
 * (docs/classify.md) and value. */
enum fact_type { FACT_INT, FACT_REAL, FACT_TEXT };
struct fact_value {
    const char *name;
    enum fact_type type;
    int64_t i;
    double r;
    struct span s; /* borrowed from the event, or static ("start", "end") */
};
#define EVENT_MAX_FACTS 48
/* The facts there are (event_fact_name(0 .. EVENT_N_FACTS - 1)). */
#define EVENT_N_FACTS 44
const char *event_fact_name(size_t k);

/* The facts @f has (a number >= 0, a text present, a step), in the order the store lists
 * them (src/store/events.c); returns how many it wrote to @out. The deadlock's
 * participants are not among them (the DETAIL has them). */
size_t event_facts_list(const struct event_facts *f, struct fact_value out[EVENT_MAX_FACTS]);

/* INTERFACE.md names: "duration", "lock_wait", …; "LOG", "ERROR", …; "execute", … */
const char *event_kind_name(enum event_kind k);
const char *severity_name(enum event_severity s);
const char *phase_name(enum event_phase p);
const char *plan_format_name(enum plan_format f);
const char *event_step_name(enum event_step s); /* "", "start", "end" */

/* Reverse lookups; return false for an unknown name. */
bool event_kind_from_name(struct span name, enum event_kind *out);
bool severity_from_name(struct span name, enum event_severity *out);
/* "start" or "end" (STEP_NONE has no name). */
bool event_step_from_name(struct span name, enum event_step *out);

#endif
