/* SPDX-License-Identifier: MIT */
/*
 * classify_text.c - LOG-level messages (SQLSTATE 00000), recognised by their English
 * text: statement durations and statement logging (tcop/postgres.c), lock waits
 * (storage/lmgr/proc.c), temporary files (storage/file/fd.c), checkpoints
 * (access/transam/xlog.c), autovacuum/autoanalyze (vacuumlazy.c, analyze.c), connections
 * (postmaster, postinit.c), startup/shutdown (postmaster.c) and pgAudit lines.
 *
 * Every recogniser checks the whole shape it relies on before setting anything it cannot
 * take back: a message that starts like a known one but is cut or garbled still gets its
 * kind when the leading words are unambiguous, and only the numbers it really has.
 */
#include <string.h>

#include "core/compat.h"
#include "classify/classify_int.h"

/* ---------------------------------------------------------------- statements */

/*
 * "<step> <name>: <query>" where step is parse, bind, execute or "execute fetch from",
 * name is the statement name ("<unnamed>" for the unnamed one) optionally followed by
 * "/<portal>" (postgres.c: "%s %s%s%s: %s").
 */
static bool statement_step(struct event *ev, struct span s)
{
    struct span name;

    if (cur_eat_lit(&s, "execute fetch from ")) {
        ev->phase = PHASE_EXECUTE;
        ev->facts.cause = LIT("fetch");
    } else if (cur_eat_lit(&s, "execute ")) {
        ev->phase = PHASE_EXECUTE;
    } else if (cur_eat_lit(&s, "parse ")) {
        ev->phase = PHASE_PARSE;
    } else if (cur_eat_lit(&s, "bind ")) {
        ev->phase = PHASE_BIND;
    } else {
        return false;
    }
    if (!cur_until(&s, LIT(": "), &name)) {
        ev->phase = PHASE_NONE;
        ev->facts.cause = SPAN_NULL;
        return false;
    }
    long slash = span_find_char(name, 0, '/');
    if (slash >= 0)
        name.len = (size_t)slash; /* drop "/<portal>" */
    if (span_eq_lit(name, "<unnamed>"))
        name.len = 0;
    ev->prepared_name = name;
    ev->query = cur_skip(s, 2);
    return true;
}

/* "duration: %s ms" [ "  statement: %s" | "  plan:\n%s" | "  <step> <name>: %s" ] */
static bool log_duration(struct event *ev, struct span m, struct arena *a)
{
    struct span s = cur_skip(m, sizeof("duration: ") - 1);
    double ms;

    if (!cur_num(&s, &ms) || !cur_eat_lit(&s, " ms"))
        return false;
    ev->kind = EV_DURATION;
    ev->duration_ms = ms;
    /* (two spaces, as postgres.c writes them; one where a log went through hands that
     * squeeze spaces: pgBadger's pg-timezones.log) */
    if (!cur_eat_lit(&s, "  ") &&
        !(s.len > 1 && s.p[0] == ' ' && s.p[1] != ' ' && cur_eat_lit(&s, " "))) {
        /* log_duration alone: the statement was logged before. The extended protocol
         * logs one for each Parse, Bind and Execute message; the first two run under
         * the ps display (command_tag) "PARSE" and "BIND" (postgres.c). */
        if (span_eq_lit(ev->command_tag, "PARSE"))
            ev->phase = PHASE_PARSE;
        else if (span_eq_lit(ev->command_tag, "BIND"))
            ev->phase = PHASE_BIND;
        return true;
    }
    if (cur_eat_lit(&s, "statement: ")) {
        ev->phase = PHASE_SIMPLE;
        ev->query = s;
        return true;
    }
    if (cur_eat_lit(&s, "plan:")) {
        ev->kind = EV_PLAN;
        if (cur_eat_lit(&s, "\r\n") || cur_eat_lit(&s, "\n") || s.len == 0)
            classify_plan_body(ev, s, a);
        return true;
    }
    statement_step(ev, s); /* otherwise an unknown tail: still a duration */
    return true;
}

static bool log_statement(struct event *ev, struct span m)
{
    if (span_starts_with_lit(m, "statement: ")) {
        ev->kind = EV_STATEMENT;
        ev->phase = PHASE_SIMPLE;
        ev->query = cur_skip(m, sizeof("statement: ") - 1);
        return true;
    }
    /* Without a duration, "parse %s: %s" is DEBUG2 only (postgres.c); at other levels
     * such a text is someone else's message ("parse error: ..."). */
    if ((m.p[0] == 'p' || m.p[0] == 'b') && ev->severity != SEV_DEBUG)
        return false;
    if (statement_step(ev, m)) {
        ev->kind = EV_STATEMENT;
        return true;
    }
    return false;
}

/*
 * pgAudit: "AUDIT: <type>,<statement id>,<substatement id>,<class>,<command>,<object
 * type>,<object name>,<statement>,<parameter>" with CSV quoting ('"' doubled) where a
 * field needs it (pgaudit README). No duration: a statement record, cause "pgaudit".
 */
static bool csv_field(struct span *s, struct span *out, bool *doubled)
{
    size_t i = 0;

    *doubled = false;
    if (s->len && s->p[0] == '"') {
        for (i = 1; i < s->len; i++) {
            if (s->p[i] != '"')
                continue;
            if (i + 1 < s->len && s->p[i + 1] == '"') {
                *doubled = true;
                i++;
                continue;
            }
            *out = span_make(s->p + 1, i - 1);
            *s = cur_skip(*s, i + 1);
            return s->len == 0 || cur_eat_lit(s, ",");
        }
        return false; /* unterminated quote */
    }
    while (i < s->len && s->p[i] != ',')
        i++;
    *out = span_make(s->p, i);
    *s = cur_skip(*s, i);
    if (s->len)
        *s = cur_skip(*s, 1);
    return true;
}

static struct span undouble(struct span v, struct arena *a)
{
    if (!a)
        return SPAN_NULL;
    char *q = arena_alloc(a, v.len + 1);
    size_t n = 0;
    for (size_t i = 0; i < v.len; i++) {
        q[n++] = v.p[i];
        if (v.p[i] == '"' && i + 1 < v.len && v.p[i + 1] == '"')
            i++;
    }
    q[n] = '\0';
    return span_make(q, n);
}

static bool log_pgaudit(struct event *ev, struct span m, struct arena *a)
{
    struct span s = cur_skip(m, sizeof("AUDIT: ") - 1), f = SPAN_NULL;
    bool doubled = false;

    ev->kind = EV_STATEMENT;
    ev->phase = PHASE_SIMPLE;
    ev->facts.cause = LIT("pgaudit");
    for (int i = 0; i < 8; i++)
        if (!csv_field(&s, &f, &doubled))
            return true; /* cut or malformed: kind only */
    if (!span_eq_lit(f, "<previously logged>"))
        ev->query = doubled ? undouble(f, a) : f;
    struct span param = span_rtrim(s);
    if (param.len && !span_eq_lit(param, "<none>") && !span_eq_lit(param, "<not logged>")) {
        ev->params = param;
        ev->flags |= EVENT_HAS_PARAMS;
    }
    return true;
}

/* ---------------------------------------------------------------- lock waits */

/* DETAIL "Process holding the lock: 3749. Wait queue: 3751." (or "Processes ...: a, b.") */
static void lock_detail(struct event *ev)
{
    struct span d = span_trim(ev->detail), holders, queue;

    if (!cur_eat_lit(&d, "Process holding the lock: ") &&
        !cur_eat_lit(&d, "Processes holding the lock: "))
        return;
    if (!cur_until(&d, LIT(". Wait queue: "), &holders))
        return;
    d = cur_skip(d, sizeof(". Wait queue: ") - 1);
    queue = d;
    if (queue.len && queue.p[queue.len - 1] == '.')
        queue.len--;
    ev->facts.lock_holders = holders;
    ev->facts.lock_queue = queue;
    int64_t pid;
    if (cur_int(&holders, &pid))
        ev->facts.blocker_pid = pid;
}

/* "process %d <verb> %s on %s after %ld.%03d ms" (proc.c ProcSleep) */
static bool log_lock(struct event *ev, struct span m)
{
    static const struct {
        struct span verb;
        enum event_kind kind;
        enum event_step step;
        struct span cause;
    } verbs[] = {
        { SPAN_INIT(" still waiting for "), EV_LOCK_WAIT, STEP_START, SPAN_INIT("waiting") },
        { SPAN_INIT(" acquired "), EV_LOCK_ACQUIRED, STEP_END, { NULL, 0 } },
        { SPAN_INIT(" detected deadlock while waiting for "), EV_LOCK_WAIT, STEP_START,
          SPAN_INIT("deadlock_detected") },
        { SPAN_INIT(" avoided deadlock for "), EV_LOCK_WAIT, STEP_START,
          SPAN_INIT("deadlock_avoided") },
        { SPAN_INIT(" failed to acquire "), EV_LOCK_WAIT, STEP_END, SPAN_INIT("failed") },
    };
    struct span s = cur_skip(m, sizeof("process ") - 1), mode, object;
    int64_t pid;
    size_t v;

    if (!cur_int(&s, &pid))
        return false;
    for (v = 0; v < ARRAY_SIZE(verbs); v++)
        if (cur_eat(&s, verbs[v].verb))
            break;
    if (v == ARRAY_SIZE(verbs) || !cur_until(&s, LIT(" on "), &mode))
        return false;
    s = cur_skip(s, 4);
    long after = span_find_last(s, LIT(" after "));
    if (after < 0)
        return false;
    object = span_make(s.p, (size_t)after);
    s = cur_skip(s, (size_t)after + sizeof(" after ") - 1);
    if (span_ends_with(object, LIT(" by rearranging queue order")))
        object.len -= sizeof(" by rearranging queue order") - 1;

    ev->kind = verbs[v].kind;
    ev->facts.step = verbs[v].step;
    ev->facts.cause = verbs[v].cause;
    ev->facts.lock_mode = mode;
    ev->facts.lock_object = object;
    double ms;
    if (cur_num(&s, &ms) && span_starts_with_lit(s, " ms"))
        ev->facts.wait_ms = ms;
    lock_detail(ev);
    return true;
}

/* ---------------------------------------------------------------- temp files */

/* "temporary file: path \"%s\", size %lu" (fd.c ReportTemporaryFileUsage) */
static bool log_temp_file(struct event *ev, struct span m)
{
    struct span s = cur_skip(m, sizeof("temporary file: ") - 1);

    ev->kind = EV_TEMP_FILE;
    if (!cur_eat_lit(&s, "path \""))
        return true;
    long end = span_find_last(s, LIT("\", size "));
    if (end < 0)
        return true;
    ev->facts.temp_path = span_make(s.p, (size_t)end);
    s = cur_skip(s, (size_t)end + sizeof("\", size ") - 1);
    int64_t size;
    if (cur_int(&s, &size))
        ev->facts.temp_bytes = size;
    return true;
}

/* ---------------------------------------------------------------- checkpoints */

/* The seconds after @key ("write=") anywhere in @m: a number, then " s" ("write=1e308 s"
 * is not 1 second). */
static bool key_num(struct span m, struct span key, double *out)
{
    long i = span_find(m, 0, key);

    if (i < 0)
        return false;
    struct span s = cur_skip(m, (size_t)i + key.len);
    return cur_num(&s, out) && span_starts_with_lit(s, " s");
}

/* The longest flag words a checkpoint's "complete:" may carry: all of them, " shutdown
 * end-of-recovery immediate force wait wal time flush-all", are 65 bytes. */
#define CKPT_FLAGS_MAX 96

static bool log_checkpoint(struct event *ev, struct span m)
{
    struct span s = m;

    if (!cur_eat_lit(&s, "checkpoint ") && !cur_eat_lit(&s, "restartpoint "))
        return false;
    if (cur_eat_lit(&s, "starting:")) {
        /* Flag words, each with a leading space: " immediate force wait". */
        ev->kind = EV_CHECKPOINT;
        ev->facts.step = STEP_START;
        struct span flags = span_trim(s);
        if (flags.len)
            ev->facts.cause = flags;
        return true;
    }
    if (!cur_eat_lit(&s, "complete:"))
        return false;
    /* "wrote %d buffers (%.1f%%)[, wrote %d SLRU buffers]; %d WAL file(s) added, %d removed,
     * %d recycled; write=%ld.%03d s, sync=..., total=...; sync files=%d, longest=%ld.%03d s,
     * average=%ld.%03d s; distance=%d kB, estimate=%d kB[; lsn=%X/%X, redo lsn=%X/%X]"
     * (xlog.c LogCheckpointEnd; the SLRU part is PG18's, lsn= PG16's). No user text.
     * PG19's format is "checkpoint complete:%s: wrote ...": flag words (a-z, '-'), each
     * with a leading space, as after "starting:", then ':'. They are the cause, as there. */
    ev->kind = EV_CHECKPOINT;
    ev->facts.step = STEP_END;
    if (!span_starts_with_lit(s, " wrote ")) {
        size_t k = 0;
        while (k < s.len && k < CKPT_FLAGS_MAX &&
               ((s.p[k] >= 'a' && s.p[k] <= 'z') || s.p[k] == ' ' || s.p[k] == '-'))
            k++;
        if (k > 1 && k < s.len && s.p[k] == ':' && s.p[0] == ' ') {
            ev->facts.cause = span_trim(span_make(s.p, k));
            s = cur_skip(s, k + 1);
        }
    }
    int64_t n;
    double v;
    if (cur_eat_lit(&s, " wrote ") && cur_int(&s, &n) && cur_eat_lit(&s, " buffers"))
        ev->facts.buffers = n;
    long i = span_find(s, 0, LIT("; "));
    if (i >= 0) {
        struct span w = cur_skip(s, (size_t)i + 2);
        if (cur_int(&w, &n) && cur_eat_lit(&w, " WAL file(s) added, ")) {
            ev->facts.wal_added = n;
            if (cur_int(&w, &n) && cur_eat_lit(&w, " removed, ")) {
                ev->facts.wal_removed = n;
                if (cur_int(&w, &n) && cur_eat_lit(&w, " recycled"))
                    ev->facts.wal_recycled = n;
            }
        }
    }
    if (key_num(s, LIT("write="), &v))
        ev->facts.write_s = v;
    if (key_num(s, LIT("sync="), &v))
        ev->facts.sync_s = v;
    if (key_num(s, LIT("total="), &v))
        ev->facts.total_s = v;
    i = span_find(s, 0, LIT("sync files="));
    if (i >= 0) {
        struct span f = cur_skip(s, (size_t)i + sizeof("sync files=") - 1);
        if (cur_int(&f, &n) && cur_eat_lit(&f, ", longest=")) {
            ev->facts.sync_files = n;
            if (cur_num(&f, &v) && cur_eat_lit(&f, " s, average=")) {
                ev->facts.sync_longest_s = v;
                if (cur_num(&f, &v) && span_starts_with_lit(f, " s"))
                    ev->facts.sync_average_s = v;
            }
        }
    }
    i = span_find(s, 0, LIT("distance="));
    if (i >= 0) {
        struct span d = cur_skip(s, (size_t)i + sizeof("distance=") - 1);
        if (cur_int(&d, &n) && cur_eat_lit(&d, " kB")) {
            ev->facts.distance_kb = n;
            if (cur_eat_lit(&d, ", estimate=") && cur_int(&d, &n) && span_starts_with_lit(d, " kB"))
                ev->facts.estimate_kb = n;
        }
    }
    return true;
}

/* "checkpoints are occurring too frequently (%d second(s) apart)" (checkpointer.c) */
static bool log_checkpoint_frequent(struct event *ev, struct span m)
{
    struct span s = cur_skip(m, sizeof("checkpoints are occurring too frequently (") - 1);
    double secs;

    ev->kind = EV_CHECKPOINT;
    ev->facts.cause = LIT("too_frequent");
    if (cur_num(&s, &secs) && cur_eat_lit(&s, " second"))
        ev->facts.elapsed_s = secs;
    return true;
}

/* ---------------------------------------------------------------- autovacuum */

/*
 * The report lines of an autovacuum/autoanalyze record (vacuumlazy.c heap_vacuum_rel(),
 * analyze.c do_analyze_rel()). Each number is read from its own line, whose first word
 * says what it is: a line starts after a '\n' (csvlog, jsonlog) or after "\n\t" (stderr
 * keeps the TAB of a continuation line), never inside a relation or index name, which sit
 * after other text on their line. Only the first line of each sort counts; a number is
 * set when it and the word after it are there.
 */

/* "%u removed, %u remain, %u scanned (%.2f%% of total)[, %u eagerly scanned]" (PG15+;
 * PG18 adds the eager part) or "%u removed, %u remain, %u skipped due to pins, %u skipped
 * frozen" (PG13-14: no scanned count) */
static void vacuum_pages(struct event *ev, struct span s)
{
    int64_t n;

    if (!cur_int(&s, &n) || !cur_eat_lit(&s, " removed, "))
        return;
    ev->facts.pages_removed = n;
    if (!cur_int(&s, &n) || !cur_eat_lit(&s, " remain"))
        return;
    ev->facts.pages_remain = n;
    if (cur_eat_lit(&s, ", ") && cur_int(&s, &n) && cur_eat_lit(&s, " scanned"))
        ev->facts.pages_scanned = n;
}

/* "%lld removed, %lld remain, %lld are dead but not yet removable[, oldest xmin: %u]"
 * (PG13 prints the counts with "%.0f", PG13-14 add the xmin) */
static void vacuum_tuples(struct event *ev, struct span s)
{
    int64_t removed, remain, dead;

    if (!cur_int(&s, &removed) || !cur_eat_lit(&s, " removed, ") || !cur_int(&s, &remain) ||
        !cur_eat_lit(&s, " remain"))
        return;
    ev->facts.tuples_removed = removed;
    ev->facts.tuples_remain = remain;
    if (cur_eat_lit(&s, ", ") && cur_int(&s, &dead) && cur_eat_lit(&s, " are dead"))
        ev->facts.tuples_dead = dead;
}

/* "%lld hits, %lld misses, %lld dirtied" (PG13-17) or "... reads, ..." (PG18) */
static void vacuum_buffers(struct event *ev, struct span s)
{
    int64_t n;

    if (!cur_int(&s, &n) || !cur_eat_lit(&s, " hits, "))
        return;
    ev->facts.buffer_hits = n;
    if (!cur_int(&s, &n) || (!cur_eat_lit(&s, " misses, ") && !cur_eat_lit(&s, " reads, ")))
        return;
    ev->facts.buffer_misses = n;
    if (cur_int(&s, &n) && cur_eat_lit(&s, " dirtied"))
        ev->facts.buffer_dirtied = n;
}

/* "%.3f MB/s, avg write rate: %.3f MB/s" */
static void vacuum_rates(struct event *ev, struct span s)
{
    double v;

    if (!cur_num(&s, &v) || !cur_eat_lit(&s, " MB/s, avg write rate: "))
        return;
    ev->facts.read_mb_s = v;
    if (cur_num(&s, &v) && cur_eat_lit(&s, " MB/s"))
        ev->facts.write_mb_s = v;
}

/* "%lld records, %lld full page images, %llu bytes[, %lld buffers full]" (PG18 adds the
 * buffers) */
static void vacuum_wal(struct event *ev, struct span s)
{
    int64_t n;

    if (!cur_int(&s, &n) || !cur_eat_lit(&s, " records, "))
        return;
    ev->facts.wal_records = n;
    if (!cur_int(&s, &n) || !cur_eat_lit(&s, " full page images, "))
        return;
    ev->facts.wal_fpi = n;
    if (cur_int(&s, &n) && cur_eat_lit(&s, " bytes"))
        ev->facts.wal_bytes = n;
}

/* "CPU: user: %d.%02d s, system: %d.%02d s, elapsed: %d.%02d s" (pg_rusage_show()) */
static void vacuum_elapsed(struct event *ev, struct span s)
{
    double v;

    if (!cur_eat_lit(&s, "CPU: "))
        return;
    long e = span_find(s, 0, LIT("elapsed: "));
    if (e < 0)
        return;
    s = cur_skip(s, (size_t)e + sizeof("elapsed: ") - 1);
    if (cur_num(&s, &v) && span_starts_with_lit(s, " s"))
        ev->facts.elapsed_s = v;
}

enum {
    VL_PAGES = 1,
    VL_TUPLES = 2,
    VL_BUFFERS = 4,
    VL_RATES = 8,
    VL_WAL = 16,
    VL_SYSTEM = 32,
};

/*
 * One report line @l (line end and leading TAB gone); @seen: the sorts already read.
 * The pages and tuples lines come first in the report (PG13-18): the first of each
 * counts. The I/O, buffer, WAL and system usage lines come after the per-index lines
 * (PG14+), whose index names may hold a newline and such a line: the last of each sort
 * counts, its numbers read afresh.
 */
static void vacuum_line(struct event *ev, struct span l, unsigned *seen)
{
    unsigned bit;

    if (l.len == 0)
        return;
    switch (l.p[0]) {
    case 'p': bit = cur_eat_lit(&l, "pages: ") ? VL_PAGES : 0; break;
    case 't': bit = cur_eat_lit(&l, "tuples: ") ? VL_TUPLES : 0; break;
    case 'b': bit = cur_eat_lit(&l, "buffer usage: ") ? VL_BUFFERS : 0; break;
    case 'a': bit = cur_eat_lit(&l, "avg read rate: ") ? VL_RATES : 0; break;
    case 'W': bit = cur_eat_lit(&l, "WAL usage: ") ? VL_WAL : 0; break;
    case 's': bit = cur_eat_lit(&l, "system usage: ") ? VL_SYSTEM : 0; break;
    default: return;
    }
    if (!bit || (*seen & bit & (VL_PAGES | VL_TUPLES)))
        return;
    *seen |= bit;
    /* A later line of the other sorts replaces what an earlier one set. */
    struct event_facts *f = &ev->facts;
    switch (bit) {
    case VL_PAGES: vacuum_pages(ev, l); break;
    case VL_TUPLES: vacuum_tuples(ev, l); break;
    case VL_BUFFERS:
        f->buffer_hits = f->buffer_misses = f->buffer_dirtied = -1;
        vacuum_buffers(ev, l);
        break;
    case VL_RATES:
        f->read_mb_s = f->write_mb_s = -1;
        vacuum_rates(ev, l);
        break;
    case VL_WAL:
        f->wal_records = f->wal_fpi = f->wal_bytes = -1;
        vacuum_wal(ev, l);
        break;
    default:
        f->elapsed_s = -1;
        vacuum_elapsed(ev, l);
        break;
    }
}

/* The lines of @body, what follows the report's first line. An autoanalyze has no pages
 * or tuples lines: @seen starts with them for it. */
static void vacuum_report(struct event *ev, struct span body, unsigned seen)
{
    while (body.len) {
        struct span l = line_first(body, &body);
        if (l.len && l.p[0] == '\t')
            l = cur_skip(l, 1);
        vacuum_line(ev, l, &seen);
    }
}

/*
 * The relation is written as it is ("%s.%s.%s" of the database, schema and table names),
 * and a name may hold anything but NUL: quotes, newlines, a line such as "tuples: 0
 * removed, 0 remain, 999999 are dead". Its end is found by what must follow it, and only
 * within the longest relation PostgreSQL can write (three names of NAMEDATALEN - 1 = 63
 * bytes, two dots) of its start: the last such place there, since the real one comes
 * after anything the name holds, and the report after it holds no quote.
 */
#define VACUUM_REL_MAX (3 * 63 + 2)

/* Autovacuum: the offset in @s (after the opening quote) of the last "\": index scans: N"
 * (digits, then a newline or the end; or nothing: a record cut there) within
 * VACUUM_REL_MAX bytes, or -1. A longer name (a server built with a larger NAMEDATALEN)
 * ends at the last such place of the first line. */
static long vacuum_rel_end(struct span s)
{
    static const char key[] = "\": index scans: ";
    struct span win = span_sub(s, 0, VACUUM_REL_MAX + sizeof(key) + 20);
    long best = -1;
    for (long i = span_find(win, 0, LIT(key)); i >= 0 && i <= VACUUM_REL_MAX;
         i = span_find(win, (size_t)i + 1, LIT(key))) {
        struct span n = cur_skip(s, (size_t)i + sizeof(key) - 1);
        int64_t scans;
        if (!n.len || (cur_int(&n, &scans) && (n.len == 0 || n.p[0] == '\n')))
            best = i;
    }
    if (best < 0) {
        struct span rest, line = line_first(s, &rest);
        best = span_find_last(line, LIT(key));
    }
    return best;
}

/* Autoanalyze: the offset of the last '"' within VACUUM_REL_MAX bytes that ends the line
 * or the message (PG14+: the report follows) or is followed by " system usage: " (PG13's
 * one line), or -1. */
static long analyze_rel_end(struct span s)
{
    struct span win = span_sub(s, 0, VACUUM_REL_MAX + 1);
    long best = -1;
    for (long i = span_find_char(win, 0, '"'); i >= 0;
         i = span_find_char(win, (size_t)i + 1, '"')) {
        struct span after = cur_skip(s, (size_t)i + 1);
        if (!after.len || after.p[0] == '\n' || span_starts_with_lit(after, " system usage: "))
            best = i;
    }
    if (best < 0) { /* a longer name: the first line's end, or PG13's separator on it */
        struct span rest, line = line_first(s, &rest);
        best = span_ends_with(line, LIT("\"")) ? (long)line.len - 1
                                               : span_find_last(line, LIT("\" system usage: "));
    }
    return best;
}

/*
 * "automatic [aggressive ]vacuum[ to prevent wraparound] of table \"%s.%s.%s\": index
 * scans: %d\n..." and "automatic analyze of table \"%s.%s.%s\"[\n...| system usage: ...]"
 * (PG13 analyze is one line).
 */
static bool log_autovacuum(struct event *ev, struct span m)
{
    struct span s = cur_skip(m, sizeof("automatic ") - 1), what, rest;

    if (!cur_until(&s, LIT(" of table \""), &what))
        return false;
    s = cur_skip(s, sizeof(" of table \"") - 1);
    if (span_eq_lit(what, "analyze")) {
        ev->kind = EV_AUTOANALYZE;
    } else if (span_eq_lit(what, "vacuum")) {
        ev->kind = EV_AUTOVACUUM;
    } else if (span_eq_lit(what, "aggressive vacuum")) {
        ev->kind = EV_AUTOVACUUM;
        ev->facts.cause = LIT("aggressive");
    } else if (span_eq_lit(what, "vacuum to prevent wraparound")) {
        ev->kind = EV_AUTOVACUUM;
        ev->facts.cause = LIT("wraparound");
    } else if (span_eq_lit(what, "aggressive vacuum to prevent wraparound")) {
        ev->kind = EV_AUTOVACUUM;
        ev->facts.cause = LIT("aggressive_wraparound");
    } else {
        return false;
    }
    if (ev->kind == EV_AUTOVACUUM) {
        long end = vacuum_rel_end(s);
        if (end < 0)
            return true; /* no report to read: the name's end is not known */
        ev->facts.relation = span_make(s.p, (size_t)end);
        struct span n = cur_skip(s, (size_t)end + sizeof("\": index scans: ") - 1);
        int64_t scans;
        if (cur_int(&n, &scans))
            ev->facts.index_scans = scans;
        (void)line_first(n, &rest);
        vacuum_report(ev, rest, 0);
        return true;
    }
    unsigned seen = VL_PAGES | VL_TUPLES;
    long end = analyze_rel_end(s);
    if (end < 0)
        return true;
    ev->facts.relation = span_make(s.p, (size_t)end);
    struct span line = line_first(cur_skip(s, (size_t)end + 1), &rest);
    if (line.len) /* PG13: " system usage: ..." on the same line */
        vacuum_line(ev, cur_skip(line, 1), &seen);
    vacuum_report(ev, rest, seen);
    return true;
}

/* ---------------------------------------------------------------- connections */

/* "host=%s[ port=%s]" from @s (a client host never contains a space). */
static void host_port(struct event *ev, struct span s)
{
    long i = span_find_last(s, LIT("host="));

    if (i < 0)
        return;
    s = cur_skip(s, (size_t)i + sizeof("host=") - 1);
    size_t n = 0;
    while (n < s.len && s.p[n] != ' ' && s.p[n] != '\n')
        n++;
    ev->facts.host = span_make(s.p, n);
    s = cur_skip(s, n);
    int64_t port;
    if (cur_eat_lit(&s, " port=") && cur_int(&s, &port))
        ev->facts.port = port;
}

/* "[replication ]connection authorized: user=%s[ database=%s][ application_name=%s][ SSL
 * enabled (...)][ GSS (...)]" (postinit.c). The server sets application_name after this
 * line, so its own application field is empty there (csvlog, jsonlog, %a): the client's
 * name is taken from the message. It may contain spaces ("PostgreSQL JDBC Driver"); it
 * ends where the SSL or GSS part starts. */
static bool log_authorized(struct event *ev, struct span m)
{
    ev->kind = EV_AUTHENTICATED;
    long i = span_find(m, 0, LIT(" application_name="));
    if (i < 0 || ev->application.len)
        return true;
    struct span s = cur_skip(m, (size_t)i + sizeof(" application_name=") - 1), app;
    size_t n = line_first(s, &(struct span){ 0 }).len;
    long ssl = span_find(span_make(s.p, n), 0, LIT(" SSL enabled (")),
         gss = span_find(span_make(s.p, n), 0, LIT(" GSS ("));
    if (ssl >= 0)
        n = (size_t)ssl;
    if (gss >= 0 && (size_t)gss < n)
        n = (size_t)gss;
    app = span_make(s.p, n);
    if (app.len && !span_eq_lit(app, "[unknown]"))
        ev->application = app;
    return true;
}

/* "disconnection: session time: %d:%02d:%02d.%03d user=%s database=%s host=%s[ port=%s]" */
static bool log_disconnection(struct event *ev, struct span m)
{
    struct span s = cur_skip(m, sizeof("disconnection: ") - 1);
    int64_t h, mi;
    double sec;

    ev->kind = EV_DISCONNECTION;
    if (cur_eat_lit(&s, "session time: ") && cur_int(&s, &h) && cur_eat_lit(&s, ":") &&
        cur_int(&s, &mi) && cur_eat_lit(&s, ":") && cur_num(&s, &sec))
        ev->facts.elapsed_s = (double)h * 3600.0 + (double)mi * 60.0 + sec;
    host_port(ev, s);
    return true;
}

/* PG18 (log_connections = setup_durations, postgres.c): "connection ready: setup
 * total=%.3f ms, fork=%.3f ms, authentication=%.3f ms", once per backend when it is
 * ready for its first query. Each number is read where it is well-formed; a text whose
 * numbers are not is still this kind, without them. */
static bool log_ready(struct event *ev, struct span m)
{
    struct span s = cur_skip(m, sizeof("connection ready: ") - 1);
    double total_ms, fork_ms, auth_ms;

    ev->kind = EV_CONNECTION_READY;
    if (!cur_eat_lit(&s, "setup total=") || !cur_num(&s, &total_ms) || !cur_eat_lit(&s, " ms"))
        return true;
    ev->facts.setup_ms = total_ms;
    if (!cur_eat_lit(&s, ", fork=") || !cur_num(&s, &fork_ms) || !cur_eat_lit(&s, " ms"))
        return true;
    ev->facts.fork_ms = fork_ms;
    if (cur_eat_lit(&s, ", authentication=") && cur_num(&s, &auth_ms) && cur_eat_lit(&s, " ms"))
        ev->facts.auth_ms = auth_ms;
    return true;
}

/* ---------------------------------------------------------------- crashes, archiving */

/* How a child process or the archive command ended (postmaster.c LogChildExit(),
 * pgarch.c / shell_archive.c): "was terminated by signal %d: %s", "was terminated by
 * exception 0x%X", "exited with exit code %d", "exited with unrecognized status %d".
 * Returns the cause, SPAN_NULL for none of them; *code: the number. */
static struct span child_exit(struct span s, int64_t *code)
{
    if (cur_eat_lit(&s, "was terminated by signal "))
        return cur_int(&s, code) ? LIT("signal") : SPAN_NULL;
    if (cur_eat_lit(&s, "was terminated by exception "))
        return LIT("exception");
    if (cur_eat_lit(&s, "exited with exit code "))
        return cur_int(&s, code) ? LIT("exit_code") : SPAN_NULL;
    if (cur_eat_lit(&s, "exited with unrecognized status "))
        return LIT("status");
    return SPAN_NULL;
}

/* The archiver's failures (pgarch.c, shell_archive.c): "archive command failed with exit
 * code %d", "archive command was terminated by ...", "archiving write-ahead log file
 * \"%s\" failed too many times, will try again later". */
bool classify_archive_text(struct event *ev)
{
    struct span m = ev->message, cause;
    int64_t code = -1;

    if (span_starts_with_lit(m, "archive command ")) {
        struct span s = cur_skip(m, sizeof("archive command ") - 1);
        if (cur_eat_lit(&s, "failed with exit code "))
            cause = LIT("exit_code");
        else
            cause = child_exit(s, &code);
        if (!cause.p)
            return false;
        ev->kind = EV_ARCHIVE_FAILURE;
        ev->facts.cause = cause;
        return true;
    }
    if (span_starts_with_lit(m, "archiving write-ahead log file \"") &&
        span_find(m, 0, LIT("\" failed too many times, will try again later")) > 0) {
        ev->kind = EV_ARCHIVE_FAILURE;
        ev->facts.cause = LIT("too_many_failures");
        return true;
    }
    return false;
}

/* The postmaster's LOG lines when a child dies and the server resets (postmaster.c,
 * PostgreSQL 12 to 18): "%s (PID %d) was terminated by signal %d: %s" (or an exception,
 * or an exit code other than 0 and 1: a backend's FATAL exits with 1, and a background
 * worker's exit with 1 is its normal end), then "terminating any other active server
 * processes" and "all server processes terminated; reinitializing". */
static bool log_crash(struct event *ev, struct span m)
{
    int64_t code = -1;
    struct span cause;

    if (ev->severity != SEV_LOG)
        return false;
    if (span_starts_with_lit(m, "terminating any other active server processes")) {
        ev->kind = EV_CRASH;
        ev->facts.cause = LIT("reset");
        ev->facts.step = STEP_START;
        return true;
    }
    if (span_starts_with_lit(m, "all server processes terminated; reinitializing")) {
        ev->kind = EV_CRASH;
        ev->facts.cause = LIT("reset");
        ev->facts.step = STEP_END;
        return true;
    }
    /* "<process name> (PID %d) <how it ended>" on the message's first line (the last
     * " (PID ": a background worker's quoted name may hold one) */
    struct span line = line_first(m, &(struct span){ 0 });
    long at = span_find_last(line, LIT(" (PID "));
    if (at <= 0)
        return false;
    struct span s = cur_skip(line, (size_t)at + sizeof(" (PID ") - 1);
    int64_t pid;
    if (!cur_int(&s, &pid) || !cur_eat_lit(&s, ") "))
        return false;
    cause = child_exit(s, &code);
    if (!cause.p || (span_eq_lit(cause, "exit_code") && (code == 0 || code == 1)))
        return false;
    ev->kind = EV_CRASH;
    ev->facts.cause = cause;
    return true;
}

/* ---------------------------------------------------------------- dispatch */

static bool log_text_by_prefix(struct event *ev, struct arena *a);

bool classify_log_text(struct event *ev, struct arena *a)
{
    if (log_text_by_prefix(ev, a))
        return true;
    /* (messages that start with any word: tried last, on what nothing else took) */
    return ev->message.len >= 6 && (classify_archive_text(ev) || log_crash(ev, ev->message));
}

static bool log_text_by_prefix(struct event *ev, struct arena *a)
{
    struct span m = ev->message;

    if (m.len < 6)
        return false;
    switch (m.p[0]) {
    case 'd':
        if (span_starts_with_lit(m, "duration: "))
            return log_duration(ev, m, a);
        if (span_starts_with_lit(m, "disconnection: "))
            return log_disconnection(ev, m);
        if (span_starts_with_lit(m, "database system is ready to accept ")) {
            struct span s = cur_skip(m, sizeof("database system is ready to accept ") - 1);
            if (span_starts_with_lit(s, "connections")) {
                ev->kind = EV_STARTUP;
                return true;
            }
            if (span_starts_with_lit(s, "read-only connections")) {
                ev->kind = EV_STARTUP;
                ev->facts.cause = LIT("read_only");
                return true;
            }
            return false;
        }
        if (span_eq_lit(span_rtrim(m), "database system is shut down")) {
            ev->kind = EV_SHUTDOWN;
            ev->facts.step = STEP_END;
            return true;
        }
        return false;
    case 's':
    case 'e':
    case 'p':
    case 'b':
        if (m.p[0] == 'p' && span_starts_with_lit(m, "process "))
            return log_lock(ev, m);
        return log_statement(ev, m);
    case 't':
        if (span_starts_with_lit(m, "temporary file: "))
            return log_temp_file(ev, m);
        return false;
    case 'c':
        if (span_starts_with_lit(m, "checkpoints are occurring too frequently ("))
            return log_checkpoint_frequent(ev, m);
        if (span_starts_with_lit(m, "checkpoint "))
            return log_checkpoint(ev, m);
        if (span_starts_with_lit(m, "connection received: ")) {
            ev->kind = EV_CONNECTION;
            host_port(ev, cur_skip(m, sizeof("connection received: ") - 1));
            return true;
        }
        if (span_starts_with_lit(m, "connection authorized: "))
            return log_authorized(ev, m);
        if (span_starts_with_lit(m, "connection ready: "))
            return log_ready(ev, m);
        return false;
    case 'r':
        if (span_starts_with_lit(m, "restartpoint "))
            return log_checkpoint(ev, m);
        if (span_starts_with_lit(m, "replication connection authorized: "))
            return log_authorized(ev, m);
        if (span_starts_with_lit(m, "received ")) {
            struct span s = cur_skip(m, sizeof("received ") - 1), mode;
            if (!cur_until(&s, LIT(" shutdown request"), &mode))
                return false;
            if (!span_eq_lit(mode, "smart") && !span_eq_lit(mode, "fast") &&
                !span_eq_lit(mode, "immediate"))
                return false;
            ev->kind = EV_SHUTDOWN;
            ev->facts.step = STEP_START;
            ev->facts.cause = mode;
            return true;
        }
        return false;
    case 'a':
        if (span_starts_with_lit(m, "automatic "))
            return log_autovacuum(ev, m);
        return false;
    case 'A':
        if (span_starts_with_lit(m, "AUDIT: "))
            return log_pgaudit(ev, m, a);
        return false;
    default: return false;
    }
}
