/* SPDX-License-Identifier: MIT */
/*
 * parse.c - the format table, auto-detection, the event queue, pending records, the
 * resume checkpoint and reject accounting. Formats live in their own files and talk to
 * this one through parse_int.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "core/utf8.h"
#include "core/xalloc.h"
#include "parse/line_prefix.h"
#include "parse/parse_int.h"

/*
 * The format table: --format validation, auto-detection (in this order; ties go to the
 * earlier entry) and the docs all read it. "auto" is not an entry: it means "detect".
 *
 * A new format is one line here plus `extern const struct log_format fmt_<name>;` in
 * parse_int.h. Formats with a strict, cheap sniff (json, csv) come before permissive
 * ones (stderr).
 */
static const struct log_format *const formats[] = {
    &fmt_jsonlog, &fmt_csvlog, &fmt_supabase, &fmt_cloudsql,
    &fmt_cnpg,    &fmt_syslog, &fmt_stderr,   &fmt_pgbouncer,
};

#define NFORMATS ARRAY_SIZE(formats)

size_t parse_format_count(void)
{
    return NFORMATS;
}

const char *parse_format_name(size_t i)
{
    return i < NFORMATS ? formats[i]->name : NULL;
}

const char *parse_format_description(size_t i)
{
    return i < NFORMATS ? formats[i]->description : NULL;
}

static const struct log_format *format_find(const char *name)
{
    for (size_t i = 0; i < NFORMATS; i++)
        if (!strcmp(formats[i]->name, name))
            return formats[i];
    return NULL;
}

/* A line held back while auto-detection collects the first lines. */
struct held_line {
    uint64_t line, offset, end;
    size_t at, len; /* in parser.held_text */
    bool partial, truncated;
};

/* Lines consumed while something is pending, for the checkpoint's skip runs. */
struct ck_run {
    uint64_t offset, line, lines;
    uint64_t owner; /* serial of the pending record the lines belong to; 0: none */
};

enum unit_kind { UNIT_NONE, UNIT_LINE, UNIT_PENDING };

#define PENDING_BUCKETS 8192u

struct parser {
    int64_t newest_us;    /* the newest event time so far (INT64_MIN: none) ... */
    uint64_t newest_line; /* ... of the events up to this first line */
    struct parser_opts opts;
    char *prefix_copy, *tz_copy, *format_copy;
    struct parse_skip *skip;
    size_t nskip, skip_i;
    uint64_t skip_left; /* lines left in the current skip run */
    struct pgtime_tz tz;

    const struct log_format *fmt; /* NULL while detecting or when nothing matched */
    void *fmt_state;
    bool detecting;
    bool resumed; /* the format came from the saved state (parser_resumed()) */
    bool detect_failed;
    size_t detect_lines, detect_bytes; /* detect once this many lines or bytes are held */
    size_t scores[NFORMATS];
    size_t sniffed; /* formats whose sniff ran (the first ones of the table) */
    struct sbuf note;

    struct sbuf held_text;
    struct held_line *held;
    size_t nheld, held_alloc;
    bool release_held; /* held lines were replayed: free them at the next feed */

    struct arena scratch;

    /* Finished events of the current feed. */
    struct event *q;
    size_t qn, qhead, qalloc;
    bool ev_open;
    bool ended;

    /* The unit being accounted. */
    enum unit_kind unit;
    const struct input_line *unit_line;
    struct pending *unit_rec;
    bool unit_done;
    uint64_t line_owner; /* serial of the record the current line joined */
    /* parser_feed_ahead(): the bytes after the fed line, and the line extended over the
     * unit_extra lines of them that the format took (parser_extend()). */
    struct span ahead;
    const char *hint_at; /* parser_hint_line() of the last feed, or NULL */
    size_t hint_len;
    uint64_t unit_extra;
    struct input_line ext_line;

    /* Pending records. */
    struct pending *buckets[PENDING_BUCKETS];
    struct pending *oldest, *newest; /* creation order */
    struct pending *lru_old, *lru_new;
    struct pending *free_list, *done_list;
    size_t npending;
    uint64_t next_serial;
    uint64_t cur_line_no; /* number of the line being handled */

    /* Checkpoint. */
    uint64_t ck_offset, ck_line;
    struct ck_run *runs;
    size_t nruns, runs_head, runs_alloc;
    struct parse_skip *ck_skip;
    size_t ck_nskip, ck_skip_alloc;
    struct sbuf ck_state; /* parse_checkpoint.state: the format's name, '\0', its state */
    bool have_line;
    uint64_t last_end, last_line_no;

    struct parse_stats stats;
    struct event cleared; /* event_clear()'s result, copied into each new slot */
    size_t cleared_size;  /* sizeof(cleared), kept opaque: see event_slot() */
    char *source;         /* name of the source of the last line (for samples) */
    size_t source_len;    /* strlen(source) */
    const char *source_from;
};

/* ------------------------------------------------------------------------------------ */
/* options                                                                              */

static void list_formats(struct sbuf *sb)
{
    if (sbuf_addstr(sb, "auto") < 0)
        return;
    for (size_t i = 0; i < NFORMATS; i++)
        if (sbuf_addf(sb, ", %s", formats[i]->name) < 0)
            return;
}

struct parser *parser_new(const struct parser_opts *o, struct diag *d)
{
    const struct log_format *fmt = NULL;

    if (o->format && strcmp(o->format, "auto") != 0) {
        fmt = format_find(o->format);
        if (!fmt) {
            struct sbuf sb = SBUF_INIT;
            list_formats(&sb);
            diag_set(d, DIAG_USAGE, "unknown log format '%s' (expected one of: %s)", o->format,
                     sb.buf);
            sbuf_release(&sb);
            return NULL;
        }
    }
    return parser_new_format(fmt, o, d);
}

/* The format's state, made new: with what detection noted for it (NULL when forced). */
static void fmt_state_new(struct parser *p)
{
    if (p->fmt_state && p->fmt->release)
        p->fmt->release(p->fmt_state);
    p->fmt_state = p->fmt->init ? p->fmt->init(p, p->note.len ? p->note.buf : NULL) : NULL;
}

/* Empty stats, with the reasons every parser has. */
static void stats_new(struct parser *p)
{
    parse_stats_release(&p->stats);
    p->stats.foreign.reason = xstrdup("foreign line");
    p->stats.damage.reason = xstrdup("damaged input");
}

struct parser *parser_new_format(const struct log_format *fmt, const struct parser_opts *o,
                                 struct diag *d)
{
    struct pgtime_tz tz = { 0 };

    if (o->prefix && strlen(o->prefix) > SIFT_MAX_PREFIX_BYTES) {
        diag_set(d, DIAG_USAGE, "--prefix is longer than %u bytes", SIFT_MAX_PREFIX_BYTES);
        return NULL;
    }
    if (fmt && fmt->check_opts && fmt->check_opts(o, d) < 0)
        return NULL;
    for (size_t i = 0; !fmt && i < NFORMATS; i++)
        if (formats[i]->check_opts && formats[i]->check_opts(o, d) < 0)
            return NULL;
    if (o->tz && pgtime_tz_parse(o->tz, &tz, d) < 0) /* (last: an IANA zone is allocated) */
        return NULL;

    struct parser *p = xcalloc(1, sizeof(*p));
    p->newest_us = INT64_MIN;
    p->detect_lines = SIFT_DETECT_LINES;
    p->detect_bytes = SIFT_DETECT_BYTES;
    p->opts = *o;
    if (o->prefix)
        p->opts.prefix = p->prefix_copy = xstrdup(o->prefix);
    if (o->tz)
        p->opts.tz = p->tz_copy = xstrdup(o->tz);
    if (o->format)
        p->opts.format = p->format_copy = xstrdup(o->format);
    if (o->nskip) {
        p->skip = xmalloc(o->nskip * sizeof(*p->skip));
        memcpy(p->skip, o->skip, o->nskip * sizeof(*p->skip));
        p->nskip = o->nskip;
    }
    p->opts.skip = p->skip;
    p->tz = tz;
    arena_init(&p->scratch, 64 * 1024);
    event_clear(&p->cleared);
    p->cleared_size = sizeof(p->cleared);
    sbuf_init(&p->note, 4096);
    sbuf_init(&p->held_text, 0);
    sbuf_init(&p->ck_state, 0);
    p->next_serial = 1;
    stats_new(p);
    p->opts.resume_state = SPAN_NULL; /* (the caller's bytes: used here only) */
    struct span rs = o->resume_state, saved = SPAN_NULL;
    const struct log_format *resumed = NULL;
    if (rs.len) {
        const char *nul = memchr(rs.p, '\0', rs.len);
        char name[32];
        size_t nl = nul ? (size_t)(nul - rs.p) : sizeof(name);
        if (nl < sizeof(name)) {
            memcpy(name, rs.p, nl);
            name[nl] = '\0';
            resumed = format_find(name);
            saved = span_sub(rs, nl + 1, rs.len - nl - 1);
        }
        if (!resumed || !resumed->restore) {
            diag_set(d, DIAG_DB, "malformed parser state saved with the position");
            parser_free(p);
            return NULL;
        }
        /* A format forced now that is not the one the state belongs to reads as asked. */
        if (fmt && fmt != resumed)
            resumed = NULL;
    }
    if (resumed) {
        p->fmt = resumed;
        p->resumed = true;
        fmt_state_new(p);
        if (resumed->restore(p->fmt_state, saved) < 0) {
            diag_set(d, DIAG_DB, "malformed %s parser state saved with the position",
                     resumed->name);
            parser_free(p);
            return NULL;
        }
    } else if (fmt) {
        p->fmt = fmt;
        fmt_state_new(p);
    } else {
        p->detecting = true;
    }
    return p;
}

bool parser_splittable(const struct parser *p)
{
    return p->fmt && p->fmt->may_start;
}

bool parser_may_start(const struct parser *p, struct span line)
{
    return p->fmt && p->fmt->may_start && p->fmt->may_start(line);
}

bool parser_resumed(const struct parser *p)
{
    return p->resumed;
}

bool parser_idle(const struct parser *p)
{
    return !p->detecting && !p->oldest;
}

struct parser *parser_fork(const struct parser *p, struct diag *d)
{
    if (!p->fmt)
        BUG("parse: parser_fork() before the format is known");
    struct parser_opts o = p->opts;
    o.skip = NULL;
    o.nskip = 0;
    struct parser *f = parser_new_format(p->fmt, &o, d);
    if (!f)
        return NULL;
    if (p->note.len) {
        /* what detection noted (e.g. the prefix found), as the detecting parser has it */
        if (sbuf_addspan(&f->note, sbuf_span(&p->note)) < 0)
            BUG("parse: note cap");
        fmt_state_new(f);
    }
    return f;
}

bool parser_restart(struct parser *p)
{
    if (!parser_idle(p) || p->qhead < p->qn || p->ev_open)
        return false;
    stats_new(p);
    p->ended = false;
    p->unit = UNIT_NONE;
    p->unit_line = NULL;
    p->unit_rec = NULL;
    p->unit_done = false;
    p->line_owner = 0;
    p->hint_at = NULL;
    p->unit_extra = 0;
    p->ck_offset = p->ck_line = 0;
    p->nruns = p->runs_head = 0;
    p->ck_nskip = 0;
    p->nskip = p->skip_i = 0;
    p->skip_left = 0;
    p->have_line = false;
    p->last_end = p->last_line_no = p->cur_line_no = 0;
    p->qn = p->qhead = 0;
    arena_reset(&p->scratch);
    fmt_state_new(p);
    return true;
}

const struct parser_opts *parser_opts(const struct parser *p)
{
    return &p->opts;
}

const struct pgtime_tz *parser_tz(const struct parser *p)
{
    return &p->tz;
}

struct arena *parser_scratch(struct parser *p)
{
    return &p->scratch;
}

const struct input_line *parser_current_line(const struct parser *p)
{
    return p->unit == UNIT_LINE ? p->unit_line : NULL;
}

const char *parser_format(const struct parser *p)
{
    return p->fmt ? p->fmt->name : NULL;
}

const struct parse_stats *parser_stats(const struct parser *p)
{
    return &p->stats;
}

/* ------------------------------------------------------------------------------------ */
/* rejects and samples                                                                  */

static struct parse_reason *reason_get(struct parse_stats *st, const char *reason)
{
    for (size_t i = 0; i < st->nreasons; i++)
        if (!strcmp(st->reasons[i].reason, reason))
            return &st->reasons[i];
    st->reasons = xrealloc(st->reasons, (st->nreasons + 1) * sizeof(*st->reasons));
    struct parse_reason *r = &st->reasons[st->nreasons++];
    memset(r, 0, sizeof(*r));
    r->reason = xstrdup(reason);
    return r;
}

static void sample_add(struct parse_reason *r, const char *source, uint64_t line, uint64_t offset,
                       const char *detail, struct span text)
{
    if (r->nsamples >= SIFT_MAX_REJECT_SAMPLES)
        return;
    struct parse_sample *s = &r->samples[r->nsamples++];
    s->source = xstrdup(source ? source : "-");
    s->line = line;
    s->offset = offset;
    s->detail = detail && *detail ? xstrdup(detail) : NULL;
    size_t n = text.len < SIFT_MAX_SAMPLE_BYTES ? text.len : SIFT_MAX_SAMPLE_BYTES;
    s->text = xmemdupz(text.p ? text.p : "", n);
    s->text_len = n;
}

static void set_source(struct parser *p, struct span name)
{
    if (p->source && name.p == p->source_from)
        return;
    p->source_from = name.p;
    if (p->source && p->source_len == name.len && !memcmp(p->source, name.p, name.len))
        return;
    free(p->source);
    p->source = xmemdupz(name.p ? name.p : "-", name.p ? name.len : 1);
    p->source_len = strlen(p->source);
}

static void claim(struct parser *p)
{
    if (p->unit == UNIT_NONE)
        BUG("parse: accounting outside of a line or record");
    if (p->unit_done)
        BUG("parse: format '%s' accounted the same %s twice", p->fmt ? p->fmt->name : "?",
            p->unit == UNIT_LINE ? "line" : "record");
    p->unit_done = true;
}

static void reject_unit(struct parser *p, const char *reason, const char *detail)
{
    struct parse_reason *r = reason_get(&p->stats, reason);
    uint64_t lines = 1, line = 0, offset = 0;
    struct span text = SPAN_NULL;

    if (p->unit == UNIT_LINE) {
        lines += p->unit_extra;
        line = p->unit_line->line;
        offset = p->unit_line->offset;
        text = p->unit_line->text;
    } else {
        lines = p->unit_rec->nlines;
        line = p->unit_rec->first_line;
        offset = p->unit_rec->first_offset;
        text = sbuf_span(&p->unit_rec->text);
    }
    r->records++;
    r->lines += lines;
    p->stats.records++;
    p->stats.rejects++;
    p->stats.reject_lines += lines;
    sample_add(r, p->source, line, offset, detail, text);
}

void parser_reject(struct parser *p, const char *reason, const char *fmt, ...)
{
    char detail[256] = "";

    claim(p);
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, sizeof(detail), fmt, ap);
        va_end(ap);
    }
    reject_unit(p, reason, detail);
}

void parser_foreign(struct parser *p)
{
    if (p->unit != UNIT_LINE || p->unit_extra)
        BUG("parse: parser_foreign() outside of a line");
    claim(p);
    p->stats.foreign_lines++;
    p->stats.foreign.records++;
    p->stats.foreign.lines++;
    sample_add(&p->stats.foreign, p->source, p->unit_line->line, p->unit_line->offset, NULL,
               p->unit_line->text);
}

void parser_blank(struct parser *p)
{
    if (p->unit != UNIT_LINE || p->unit_extra)
        BUG("parse: parser_blank() outside of a line");
    claim(p);
    p->stats.blank_lines++;
}

void parser_damage(struct parser *p, const char *source, const struct input_damage *dmg)
{
    struct parse_reason *r = &p->stats.damage;
    char detail[256];

    snprintf(detail, sizeof(detail), "%s at compressed byte %llu (after %llu decoded bytes)",
             dmg->what, (unsigned long long)dmg->raw_offset,
             (unsigned long long)dmg->decoded_offset);
    r->records++;
    p->stats.damaged++;
    sample_add(r, source, 0, dmg->decoded_offset, detail, SPAN_NULL);
}

/* ------------------------------------------------------------------------------------ */
/* events                                                                               */

static struct event *event_slot(struct parser *p)
{
    if (p->ev_open)
        BUG("parse: event begun twice");
    if (p->qn >= p->qalloc)
        XGROW(p->q, p->qn + 1, p->qalloc);
    p->ev_open = true;
    struct event *ev = &p->q[p->qn];
    /* event_clear(ev), one copy instead of a memset and the stores. The size is read
     * from the parser so that the compiler calls memcpy() (vector moves) instead of
     * inlining the constant-size struct copy as `rep movsq`, which is slow to start and
     * was 6 % of stderr parsing. */
    memcpy(ev, &p->cleared, p->cleared_size);
    return ev;
}

struct event *parser_event_begin(struct parser *p, const struct input_line *ln)
{
    struct event *ev = event_slot(p);
    ev->src_name = ln->source;
    ev->src_line = ln->line;
    ev->src_offset = ln->offset;
    if (ln->truncated)
        ev->flags |= EVENT_TRUNCATED;
    return ev;
}

struct event *parser_event_begin_pending(struct parser *p, const struct pending *rec)
{
    struct event *ev = event_slot(p);
    ev->src_name = span_make(p->source, p->source_len);
    ev->src_line = rec->first_line;
    ev->src_offset = rec->first_offset;
    if (rec->truncated_line)
        ev->flags |= EVENT_TRUNCATED;
    return ev;
}

void parser_event_commit(struct parser *p, struct event *ev)
{
    if (!p->ev_open || ev != &p->q[p->qn])
        BUG("parse: commit of an event that was not begun");
    claim(p);
    /* A LOG record whose format does not say its SQLSTATE (stderr without %e, syslog,
     * Supabase) has 00000, as csvlog and jsonlog write it (INTERFACE.md). */
    if (!ev->sqlstate[0] && ev->severity == SEV_LOG)
        memcpy(ev->sqlstate, "00000", 6);
    p->ev_open = false;
    p->qn++;
    p->stats.events++;
    p->stats.records++;
    p->stats.event_lines += p->unit == UNIT_LINE ? 1 + p->unit_extra : p->unit_rec->nlines;
    if (ev->flags & EVENT_INVALID_UTF8)
        p->stats.invalid_utf8++;
    if (ev->flags & EVENT_TRUNCATED)
        p->stats.truncated++;
    /* In the order of the records' first lines (a record of one process can complete
     * after later records of others: those are not compared), is the time going back? */
    if (ev->ts_us == INT64_MIN)
        p->stats.undated++;
    if (ev->ts_us != INT64_MIN && ev->src_line > p->newest_line) {
        p->newest_line = ev->src_line;
        p->stats.dated++;
        if (p->newest_us != INT64_MIN && ev->ts_us < p->newest_us - PARSE_OLDER_US)
            p->stats.older++;
        else if (ev->ts_us > p->newest_us)
            p->newest_us = ev->ts_us;
    }
}

void parser_event_abort(struct parser *p, struct event *ev)
{
    if (!p->ev_open || ev != &p->q[p->qn])
        BUG("parse: abort of an event that was not begun");
    p->ev_open = false;
}

enum parse_status parser_next(struct parser *p, struct event **ev)
{
    if (p->qhead < p->qn) {
        *ev = &p->q[p->qhead++];
        return PARSE_EVENT;
    }
    return p->ended ? PARSE_END : PARSE_NEED_MORE;
}

/* ------------------------------------------------------------------------------------ */
/* pending records                                                                      */

static size_t bucket_of(uint64_t key)
{
    key ^= key >> 33;
    key *= UINT64_C(0xff51afd7ed558ccd);
    key ^= key >> 33;
    return (size_t)(key & (PENDING_BUCKETS - 1));
}

struct pending *pending_find(struct parser *p, uint64_t key)
{
    for (struct pending *r = p->buckets[bucket_of(key)]; r; r = r->hnext)
        if (r->key == key)
            return r;
    return NULL;
}

struct pending *pending_oldest(struct parser *p)
{
    return p->oldest;
}

size_t pending_count(const struct parser *p)
{
    return p->npending;
}

static void lru_unlink(struct parser *p, struct pending *r)
{
    if (r->lru_prev)
        r->lru_prev->lru_next = r->lru_next;
    else
        p->lru_old = r->lru_next;
    if (r->lru_next)
        r->lru_next->lru_prev = r->lru_prev;
    else
        p->lru_new = r->lru_prev;
    r->lru_prev = r->lru_next = NULL;
}

static void lru_touch(struct parser *p, struct pending *r)
{
    if (p->lru_new == r)
        return;
    if (r->lru_prev || r->lru_next || p->lru_old == r)
        lru_unlink(p, r);
    r->lru_prev = p->lru_new;
    r->lru_next = NULL;
    if (p->lru_new)
        p->lru_new->lru_next = r;
    else
        p->lru_old = r;
    p->lru_new = r;
}

static void pending_unlink(struct parser *p, struct pending *r)
{
    struct pending **pp = &p->buckets[bucket_of(r->key)];
    while (*pp && *pp != r)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = r->hnext;
    r->hnext = NULL;
    if (r->older)
        r->older->newer = r->newer;
    else
        p->oldest = r->newer;
    if (r->newer)
        r->newer->older = r->older;
    else
        p->newest = r->older;
    r->older = r->newer = NULL;
    lru_unlink(p, r);
    p->npending--;
}

static void account_line_to(struct parser *p, struct pending *r)
{
    const struct input_line *ln = p->unit_line;

    claim(p);
    r->nlines++;
    r->last_line = ln->line;
    if (ln->truncated)
        r->truncated_line = true;
    p->line_owner = r->serial;
    lru_touch(p, r);
}

void pending_append(struct pending *r, struct span bytes)
{
    if (r->overflow || bytes.len == 0)
        return;
    if (sbuf_add(&r->text, bytes.p, bytes.len) < 0)
        r->overflow = true;
}

static void finish_rec(struct parser *p, struct pending *r, bool forced)
{
    /* Finishing is a unit of its own; the line being handled (if any) resumes after. */
    enum unit_kind su = p->unit;
    const struct input_line *sl = p->unit_line;
    struct pending *sr = p->unit_rec;
    bool sd = p->unit_done;

    pending_unlink(p, r);
    if (forced)
        p->stats.forced++;
    p->unit = UNIT_PENDING;
    p->unit_rec = r;
    p->unit_line = NULL;
    p->unit_done = false;
    if (r->overflow) {
        char detail[96];
        snprintf(detail, sizeof(detail), "longer than %u bytes", SIFT_MAX_RECORD_BYTES);
        claim(p);
        reject_unit(p, "record too long", detail);
    } else if (p->fmt && p->fmt->finish) {
        p->fmt->finish(p, p->fmt_state, r);
        if (p->ev_open)
            BUG("parse: format '%s' left an event open", p->fmt->name);
    }
    if (!p->unit_done) {
        claim(p);
        reject_unit(p, "record not handled (parser bug)", NULL);
    }
    p->unit = su;
    p->unit_line = sl;
    p->unit_rec = sr;
    p->unit_done = sd;
    r->next_free = p->done_list;
    p->done_list = r;
}

void pending_finish(struct parser *p, struct pending *r)
{
    finish_rec(p, r, false);
}

struct pending *pending_start(struct parser *p, uint64_t key, struct span bytes)
{
    if (p->unit != UNIT_LINE || p->unit_extra)
        BUG("parse: pending_start() outside of a line");
    struct pending *old = pending_find(p, key);
    if (old)
        finish_rec(p, old, false);
    while (p->npending >= SIFT_MAX_PENDING_RECORDS)
        finish_rec(p, p->lru_old, true);

    struct pending *r = p->free_list;
    if (r) {
        p->free_list = r->next_free;
        sbuf_reset(&r->text);
    } else {
        r = xcalloc(1, sizeof(*r));
        sbuf_init(&r->text, SIFT_MAX_RECORD_BYTES);
        if (p->fmt && p->fmt->pending_size)
            r->data = xmalloc(p->fmt->pending_size);
    }
    if (r->data && p->fmt)
        memset(r->data, 0, p->fmt->pending_size);
    r->key = key;
    r->serial = p->next_serial++;
    r->first_line = p->unit_line->line;
    r->first_offset = p->unit_line->offset;
    r->last_line = p->unit_line->line;
    r->nlines = 0;
    r->overflow = false;
    r->truncated_line = false;
    r->next_free = NULL;
    size_t b = bucket_of(key);
    r->hnext = p->buckets[b];
    p->buckets[b] = r;
    r->older = p->newest;
    r->newer = NULL;
    if (p->newest)
        p->newest->newer = r;
    else
        p->oldest = r;
    p->newest = r;
    p->npending++;
    account_line_to(p, r);
    pending_append(r, bytes);
    return r;
}

void pending_add(struct parser *p, struct pending *r, struct span bytes)
{
    if (p->unit != UNIT_LINE || p->unit_extra)
        BUG("parse: pending_add() outside of a line");
    account_line_to(p, r);
    pending_append(r, bytes);
}

/* Finished records stay readable until the next feed (their events point into them). */
static void recycle_done(struct parser *p)
{
    while (p->done_list) {
        struct pending *r = p->done_list;
        p->done_list = r->next_free;
        if (r->text.alloc > (1u << 20))
            sbuf_release(&r->text); /* do not keep a huge record's buffer around */
        r->next_free = p->free_list;
        p->free_list = r;
    }
}

static void free_pending_list(struct pending *r)
{
    while (r) {
        struct pending *n = r->next_free;
        sbuf_release(&r->text);
        free(r->data);
        free(r);
        r = n;
    }
}

/* ------------------------------------------------------------------------------------ */
/* checkpoint                                                                           */

static void runs_push(struct parser *p, const struct input_line *ln, uint64_t owner)
{
    if (p->nruns > p->runs_head) {
        struct ck_run *last = &p->runs[p->nruns - 1];
        if (last->owner == owner && last->line + last->lines == ln->line) {
            last->lines++;
            return;
        }
    }
    if (p->runs_head > 0 && p->runs_head * 2 >= p->nruns) {
        memmove(p->runs, p->runs + p->runs_head, (p->nruns - p->runs_head) * sizeof(*p->runs));
        p->nruns -= p->runs_head;
        p->runs_head = 0;
    }
    XGROW(p->runs, p->nruns + 1, p->runs_alloc);
    p->runs[p->nruns++] = (struct ck_run){ ln->offset, ln->line, 1, owner };
}

/* After each line: move the checkpoint to the oldest pending record (or past the line)
 * and forget runs before it. */
static void checkpoint_update(struct parser *p, const struct input_line *ln, uint64_t owner)
{
    if (!p->oldest) {
        p->ck_offset = ln->end;
        p->ck_line = ln->line + 1;
        p->nruns = p->runs_head = 0;
        return;
    }
    runs_push(p, ln, owner);
    for (;;) {
        if (!p->oldest) {
            p->ck_offset = ln->end;
            p->ck_line = ln->line + 1;
            p->nruns = p->runs_head = 0;
            return;
        }
        p->ck_offset = p->oldest->first_offset;
        p->ck_line = p->oldest->first_line;
        while (p->runs_head < p->nruns && p->runs[p->runs_head].offset < p->ck_offset)
            p->runs_head++;
        if (p->nruns - p->runs_head <= SIFT_MAX_RESUME_RUNS)
            return;
        /* Too much remembered behind the oldest record: complete it, which moves the
         * checkpoint forward. */
        finish_rec(p, p->oldest, true);
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* parse_checkpoint.state: the format's name, a '\0' and what its save() writes. */
static struct span checkpoint_state(struct parser *p)
{
    if (p->detecting || !p->fmt || !p->fmt->save)
        return SPAN_NULL;
    sbuf_reset(&p->ck_state);
    if (sbuf_add(&p->ck_state, p->fmt->name, strlen(p->fmt->name) + 1) < 0)
        BUG("parser state buffer");
    p->fmt->save(p, p->fmt_state, &p->ck_state);
    return sbuf_span(&p->ck_state);
}

void parser_checkpoint(struct parser *p, struct parse_checkpoint *cp)
{
    p->ck_nskip = 0;
    cp->state = checkpoint_state(p);
    if (p->detecting && p->nheld) {
        /* Nothing has been handed to a format yet: restart at the first held line,
         * keeping the caller's own skip runs. */
        cp->offset = p->held[0].offset;
        cp->line = p->held[0].line;
        for (size_t i = 0; i < p->nskip; i++) {
            if (p->skip[i].offset < cp->offset)
                continue;
            XGROW(p->ck_skip, p->ck_nskip + 1, p->ck_skip_alloc);
            p->ck_skip[p->ck_nskip++] = p->skip[i];
        }
        cp->skip = p->ck_skip;
        cp->nskip = p->ck_nskip;
        return;
    }
    cp->offset = p->ck_offset;
    cp->line = p->ck_line;
    if (!p->have_line) {
        cp->line = 0;
        cp->skip = NULL;
        cp->nskip = 0;
        return;
    }
    /* Serials of the records still pending, sorted: their lines are re-read. Serials
     * grow with creation order, so the creation list is already sorted. */
    uint64_t *live = xmalloc((p->npending ? p->npending : 1) * sizeof(*live));
    size_t nlive = 0;
    for (const struct pending *r = p->oldest; r; r = r->newer)
        live[nlive++] = r->serial;
    uint64_t prev_end_line = 0;
    for (size_t i = p->runs_head; i < p->nruns; i++) {
        const struct ck_run *r = &p->runs[i];
        if (r->owner && bsearch(&r->owner, live, nlive, sizeof(*live), cmp_u64))
            continue; /* still pending: re-read on resume */
        if (p->ck_nskip && prev_end_line == r->line) {
            p->ck_skip[p->ck_nskip - 1].lines += r->lines;
        } else {
            XGROW(p->ck_skip, p->ck_nskip + 1, p->ck_skip_alloc);
            p->ck_skip[p->ck_nskip++] = (struct parse_skip){ r->offset, r->lines };
        }
        prev_end_line = r->line + r->lines;
    }
    free(live);
    cp->skip = p->ck_skip;
    cp->nskip = p->ck_nskip;
}

/* ------------------------------------------------------------------------------------ */
/* lines                                                                                */

/* Resume: is this line one an earlier run already accounted for? */
static bool skip_line(struct parser *p, const struct input_line *ln)
{
    if (p->skip_left) {
        p->skip_left--;
        return true;
    }
    while (p->skip_i < p->nskip && p->skip[p->skip_i].offset < ln->offset)
        p->skip_i++;
    if (p->skip_i < p->nskip && p->skip[p->skip_i].offset == ln->offset &&
        p->skip[p->skip_i].lines) {
        p->skip_left = p->skip[p->skip_i].lines - 1;
        p->skip_i++;
        return true;
    }
    return false;
}

static void unhandled_line(struct parser *p)
{
    claim(p);
    reject_unit(p, p->fmt ? "line not handled (parser bug)" : "unrecognised log format", NULL);
}

struct span parser_ahead(const struct parser *p)
{
    struct span a = p->ahead;
    if (p->unit != UNIT_LINE || p->unit_done || p->unit_extra || p->oldest || !a.len ||
        p->skip_left)
        return span_make(a.p, 0);
    if (p->skip_i < p->nskip) {
        /* Resume: lines from the next skip run on were accounted by the earlier run and
         * must each go through skip_line(). (Runs start at line starts after this line.) */
        uint64_t at = p->skip[p->skip_i].offset, from = p->unit_line->end;
        uint64_t room = at > from ? at - from : 0;
        if (room < a.len)
            a.len = (size_t)room;
    }
    return a;
}

void parser_hint_line(struct parser *p, const char *at, size_t len)
{
    if (p->unit != UNIT_LINE || p->unit_extra || !p->ahead.len || at != p->ahead.p ||
        len >= p->ahead.len || len > SIFT_MAX_LINE_BYTES)
        BUG("parse: parser_hint_line() of a line that is not the next one");
    /* (The bytes are read again: a mapped file cut meanwhile reads as zeros. No hint
     * then; the input fails at its next line.) */
    if (at[len] != '\n')
        return;
    p->hint_at = at;
    p->hint_len = len;
}

size_t parser_line_hint(const struct parser *p, const char **at)
{
    *at = p->hint_at;
    return p->hint_at ? p->hint_len : 0;
}

const struct input_line *parser_extend(struct parser *p, size_t bytes, uint64_t lines)
{
    struct span a = parser_ahead(p);
    /* (Whether the last byte is '\n' is not checked again: the format found it so, and a
     * mapped file cut meanwhile reads as zeros; input_consume() then fails the input.) */
    if (!lines || !bytes || bytes > a.len)
        BUG("parse: parser_extend() over bytes that are not lines of parser_ahead()");
    struct input_line *x = &p->ext_line;
    *x = *p->unit_line;
    size_t n = (size_t)(a.p + bytes - 1 - x->text.p);
    if (n && x->text.p[n - 1] == '\r')
        n--;
    x->text = span_make(x->text.p, n);
    x->end += bytes;
    x->partial = false;
    p->unit_line = x;
    p->unit_extra = lines;
    return x;
}

static void process_line(struct parser *p, const struct input_line *ln)
{
    p->stats.lines++;
    p->have_line = true;
    p->last_end = ln->end;
    p->last_line_no = ln->line;
    p->cur_line_no = ln->line;
    p->line_owner = 0;
    p->unit_extra = 0;
    if (skip_line(p, ln)) {
        p->stats.skipped_lines++;
    } else {
        p->unit = UNIT_LINE;
        p->unit_line = ln;
        p->unit_rec = NULL;
        p->unit_done = false;
        if (p->fmt)
            p->fmt->line(p, p->fmt_state, ln);
        else if (!ln->text.len && !ln->truncated)
            parser_blank(p); /* no format recognised: a blank line is still blank */
        if (p->ev_open)
            BUG("parse: format '%s' left an event open", p->fmt->name);
        if (!p->unit_done)
            unhandled_line(p);
        p->unit = UNIT_NONE;
        p->unit_line = NULL;
        if (p->unit_extra) {
            /* The unit took the next lines (parser_extend()): account them here, as if
             * fed one by one (nothing is pending, so the checkpoint moves past them). */
            if (p->oldest)
                BUG("parse: a record was started after parser_extend()");
            p->stats.lines += p->unit_extra;
            p->last_end = p->ext_line.end;
            p->last_line_no = p->cur_line_no = ln->line + p->unit_extra;
            p->ck_offset = p->ext_line.end;
            p->ck_line = p->last_line_no + 1;
            p->nruns = p->runs_head = 0;
            return;
        }
        /* Records idle for too long are complete (the process logged nothing more). */
        while (p->lru_old && ln->line - p->lru_old->last_line > SIFT_MAX_PENDING_AGE_LINES)
            finish_rec(p, p->lru_old, true);
    }
    checkpoint_update(p, ln, p->line_owner);
}

/* Detect the format from the held lines. Returns false when it waits for more lines
 * (none recognised and room to grow, unless @last: the input ends here). */
static bool detect(struct parser *p, bool last)
{
    struct span *lines = xcalloc(p->nheld ? p->nheld : 1, sizeof(*lines));
    size_t n = 0;
    size_t best = 0, best_i = 0;

    for (size_t i = 0; i < p->nheld; i++)
        lines[n++] = span_make(p->held_text.buf + p->held[i].at, p->held[i].len);
    struct sniff_input in = { lines, n, &p->opts };
    struct sbuf note;
    sbuf_init(&note, 4096);
    /* A score counts lines, so none is above n: once a format has every line, no later
     * one can win (ties go to the earlier), and the rest are not sniffed. A jsonlog file
     * then skips the others, stderr's known and inferred prefixes among them (about
     * 5 M instructions a file: docs/performance.md, session 25). */
    p->sniffed = 0;
    for (size_t i = 0; i < NFORMATS && !(best && best >= n); i++) {
        sbuf_reset(&note);
        p->scores[i] = formats[i]->sniff ? formats[i]->sniff(&in, &note) : 0;
        p->sniffed = i + 1;
        if (p->scores[i] > best) {
            best = p->scores[i];
            best_i = i;
            sbuf_reset(&p->note);
            if (sbuf_addspan(&p->note, sbuf_span(&note)) < 0)
                sbuf_reset(&p->note);
        }
    }
    sbuf_release(&note);
    free(lines);
    if (best == 0 && !last && p->nheld * 2 <= SIFT_DETECT_MAX_LINES &&
        p->held_text.len * 2 <= SIFT_DETECT_MAX_BYTES) {
        /* no line recognised yet: go on with twice as many (the sniffs read them all
         * again, so all the tries together cost about what the last one does) */
        p->detect_lines = p->nheld * 2;
        p->detect_bytes = p->held_text.len * 2;
        return false;
    }
    p->detecting = false;
    if (best == 0) {
        p->detect_failed = true;
        return true;
    }
    p->fmt = formats[best_i];
    fmt_state_new(p);
    return true;
}

static void replay_held(struct parser *p, struct span source)
{
    for (size_t i = 0; i < p->nheld; i++) {
        const struct held_line *h = &p->held[i];
        struct input_line ln = {
            .text = span_make(p->held_text.buf + h->at, h->len),
            .line = h->line,
            .offset = h->offset,
            .end = h->end,
            .partial = h->partial,
            .truncated = h->truncated,
            .source = source,
        };
        process_line(p, &ln);
    }
    p->release_held = true;
}

static void begin_feed(struct parser *p)
{
    if (p->qhead < p->qn)
        BUG("parse: %zu events were not pulled before the next feed", p->qn - p->qhead);
    if (p->ev_open)
        BUG("parse: an event is still open");
    p->qn = p->qhead = 0;
    p->hint_at = NULL;
    if (p->scratch.used) /* nothing handed out since the last reset: nothing to do */
        arena_reset(&p->scratch);
    recycle_done(p);
    if (p->release_held) {
        sbuf_release(&p->held_text);
        free(p->held);
        p->held = NULL;
        p->nheld = p->held_alloc = 0;
        p->release_held = false;
    }
}

uint64_t parser_feed_ahead(struct parser *p, struct input_line *ln, struct span ahead)
{
    if (p->detecting || p->ended || !ahead.len || ln->truncated || ln->partial ||
        ln->text.p + (ln->end - ln->offset) != ahead.p) {
        parser_feed(p, ln);
        return 0;
    }
    p->ahead = ahead;
    parser_feed(p, ln);
    p->ahead = span_make(NULL, 0);
    uint64_t n = p->unit_extra;
    if (n || p->oldest)
        p->hint_at = NULL; /* (only for the line right after a one-line unit) */
    if (n) {
        ln->text = p->ext_line.text;
        ln->end = p->ext_line.end;
    }
    return n;
}

void parser_feed(struct parser *p, const struct input_line *ln)
{
    if (p->ended)
        BUG("parse: feed after parser_end()");
    begin_feed(p);
    set_source(p, ln->source);
    if (!p->detecting) {
        process_line(p, ln);
        return;
    }
    XGROW(p->held, p->nheld + 1, p->held_alloc);
    p->held[p->nheld++] =
        (struct held_line){ ln->line,     ln->offset,  ln->end,      p->held_text.len,
                            ln->text.len, ln->partial, ln->truncated };
    if (sbuf_add(&p->held_text, ln->text.p, ln->text.len) < 0)
        BUG("parse: detection buffer overflow");
    if ((p->nheld >= p->detect_lines || p->held_text.len >= p->detect_bytes) && detect(p, false))
        replay_held(p, ln->source);
}

/* parser_end() up to the pending records: format detection ends. */
static void end_detection(struct parser *p)
{
    begin_feed(p);
    if (p->detecting) {
        detect(p, true);
        replay_held(p, span_cstr(p->source ? p->source : "-"));
    }
}

void parser_end_detection(struct parser *p)
{
    if (!p->ended)
        end_detection(p);
}

/* The rest of parser_end(): every pending record finished. */
static void end_pending(struct parser *p)
{
    if (p->fmt && p->fmt->end) {
        p->unit = UNIT_NONE;
        p->fmt->end(p, p->fmt_state);
    }
    while (p->oldest)
        finish_rec(p, p->oldest, false);
    p->nruns = p->runs_head = 0;
    if (p->have_line) {
        p->ck_offset = p->last_end;
        p->ck_line = p->last_line_no + 1;
    }
    p->ended = true;
}

void parser_end(struct parser *p)
{
    if (p->ended)
        return;
    end_detection(p);
    end_pending(p);
}

const char *parser_prefix(const struct parser *p)
{
    return p->fmt && p->fmt->prefix && p->fmt_state ? p->fmt->prefix(p->fmt_state) : NULL;
}

bool parser_unterminated(const struct parser *p)
{
    return p->fmt && p->fmt->unterminated && p->oldest && !p->detecting &&
           p->fmt->unterminated(p, p->fmt_state);
}

bool parser_end_hold(struct parser *p)
{
    if (p->ended)
        return false;
    end_detection(p);
    if (parser_unterminated(p))
        return true;
    end_pending(p);
    return false;
}

/* ------------------------------------------------------------------------------------ */
/* diagnosis                                                                            */

static void add_sample_line(struct sbuf *out, const struct parse_reason *r, size_t *left,
                            int (*redact)(struct sbuf *, struct span), struct sbuf *tmp)
{
    for (size_t i = 0; i < r->nsamples && *left; i++, (*left)--) {
        const struct parse_sample *s = &r->samples[i];
        const char *text = s->text;
        size_t len = s->text_len;
        if (redact && text) {
            sbuf_reset(tmp);
            (void)redact(tmp, span_make(text, len)); /* cut: what was appended is redacted */
            text = tmp->buf;
            len = tmp->len;
        }
        size_t n = len > 120 ? 120 : len;
        while (n < len && n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
            n--; /* not inside a character (a redaction's "…": QA 29) */
        int ok = sbuf_addf(out, "\n    %s:%llu: %s%s%s: ", s->source, (unsigned long long)s->line,
                           r->reason, s->detail ? ": " : "", s->detail ? s->detail : "");
        for (size_t k = 0; ok == 0 && k < n; k++) {
            unsigned char c = (unsigned char)text[k];
            /* (the log's utf8_defang() takes care of C1 and invalid bytes) */
            ok = (c < 0x20 || c == 0x7f) ? sbuf_addf(out, "\\x%02x", c) : sbuf_addch(out, (char)c);
        }
        if (ok == 0 && len > n)
            ok = sbuf_addstr(out, "...");
        if (ok < 0)
            return;
    }
}

/* Did most rejected records fail on their time's zone? (csvlog and jsonlog give
 * pgtime_status_reason() as the reason, "... (pass --tz)"; stderr and cnpg give "time
 * zone" with it as the detail.) Then the hint is --tz, not the format's: the format, and
 * the prefix, were found. */
static bool tz_failed(const struct parse_stats *st)
{
    uint64_t tz = 0, other = 0;
    for (size_t i = 0; i < st->nreasons; i++) {
        const struct parse_reason *r = &st->reasons[i];
        if (r->reason && (strstr(r->reason, "(pass --tz)") || !strcmp(r->reason, "time zone")))
            tz += r->records;
        else
            other += r->records;
    }
    return tz > other;
}

/* With --prefix and no format found: does a known or inferred prefix fit the lines that
 * were not recognised? Then say so, as `--format stderr` says it (stderr_core_end()). */
static int prefix_hint(const struct parser *p, struct sbuf *out)
{
    struct span lines[SIFT_MAX_REJECT_SAMPLES];
    size_t n = 0;
    for (size_t i = 0; i < p->stats.nreasons; i++) {
        const struct parse_reason *r = &p->stats.reasons[i];
        if (!r->reason || strcmp(r->reason, "unrecognised log format"))
            continue;
        for (size_t k = 0; k < r->nsamples && n < ARRAY_SIZE(lines); k++)
            if (r->samples[k].text_len && r->samples[k].text[0] != '\t')
                lines[n++] = span_make(r->samples[k].text, r->samples[k].text_len);
    }
    if (!n)
        return 0;
    struct sbuf sug = SBUF_INIT;
    bool inferred;
    size_t m = line_prefix_detect(lines, n, &sug, &inferred, false);
    int ok = m ? sbuf_addf(out,
                           "\n  hint: no line matched log_line_prefix '%s'; %zu of the first %zu "
                           "lines match '%s' (try --prefix '%s')",
                           p->opts.prefix, m, n, sug.buf, sug.buf)
               : 0;
    sbuf_release(&sug);
    return ok;
}

void parser_diagnose(const struct parser *p, int (*redact)(struct sbuf *, struct span),
                     struct sbuf *out)
{
    struct sbuf tmp = SBUF_INIT;
    const struct parse_stats *st = &p->stats;
    int ok = sbuf_addf(out, "no log record could be parsed from '%s' (%llu lines read",
                       p->source ? p->source : "-", (unsigned long long)st->lines);
    if (ok == 0 && st->foreign_lines)
        ok = sbuf_addf(out, ", %llu foreign", (unsigned long long)st->foreign_lines);
    if (ok == 0)
        ok = sbuf_addstr(out, ")");
    if (ok == 0 && p->fmt && p->opts.format && strcmp(p->opts.format, "auto") != 0) {
        ok = sbuf_addf(out, "\n  format: %s (from --format)", p->fmt->name);
    } else if (ok == 0) {
        ok = sbuf_addstr(out, "\n  formats tried (lines recognised of the first lines):");
        for (size_t i = 0; ok == 0 && i < NFORMATS; i++) {
            char score[24] = "-"; /* not sniffed: an earlier format had every line */
            if (i < p->sniffed)
                snprintf(score, sizeof(score), "%zu", p->scores[i]);
            ok = sbuf_addf(out, " %s %s%s", formats[i]->name, score, i + 1 < NFORMATS ? "," : "");
        }
        if (ok == 0 && p->fmt)
            ok = sbuf_addf(out, "\n  detected: %s%s%s", p->fmt->name, p->note.len ? " " : "",
                           p->note.buf);
    }
    if (ok == 0 && p->opts.prefix)
        ok = sbuf_addf(out, "\n  prefix: '%s'", p->opts.prefix);
    if (ok == 0 && p->opts.tz)
        ok = sbuf_addf(out, "\n  tz: %s", p->opts.tz);
    size_t left = SIFT_DIAG_LINES;
    if (ok == 0 && (st->nreasons || st->foreign.nsamples))
        ok = sbuf_addstr(out, "\n  first failing lines:");
    for (size_t i = 0; ok == 0 && i < st->nreasons; i++)
        add_sample_line(out, &st->reasons[i], &left, redact, &tmp);
    if (ok == 0)
        add_sample_line(out, &st->foreign, &left, redact, &tmp);
    if (ok == 0)
        add_sample_line(out, &st->damage, &left, redact, &tmp);
    sbuf_release(&tmp);
    if (p->fmt && tz_failed(st)) {
        /* the format and its prefix were found; the lines' times are what failed */
        ok = sbuf_addstr(out, "\n  hint: the lines' times have an abbreviation that names "
                              "more than one zone (IST, CST), one pgsift does not know, or no "
                              "zone: pass the server's log_timezone with --tz (SHOW "
                              "log_timezone;), e.g. --tz Asia/Kolkata");
    } else if (p->fmt && p->fmt->hint) {
        ok = sbuf_addf(out, "\n  hint: %s", p->fmt->hint);
    } else if (!p->fmt) {
        if (p->opts.prefix)
            ok = prefix_hint(p, out);
        ok = sbuf_addstr(out, "\n  hint: pass --format (");
        struct sbuf names = SBUF_INIT;
        list_formats(&names);
        if (ok == 0)
            ok = sbuf_addf(out, "%s)", names.buf);
        sbuf_release(&names);
        for (size_t i = 0; ok == 0 && i < NFORMATS; i++)
            if (formats[i]->hint && !formats[i]->no_records)
                ok = sbuf_addf(out, "; %s: %s", formats[i]->name, formats[i]->hint);
    }
    (void)ok; /* a capped buffer just ends the diagnosis early */
}

/* ------------------------------------------------------------------------------------ */
/* stats                                                                                */

static void reason_merge(struct parse_reason *dst, const struct parse_reason *src,
                         uint64_t line_delta)
{
    dst->records += src->records;
    dst->lines += src->lines;
    for (size_t i = 0; i < src->nsamples && dst->nsamples < SIFT_MAX_REJECT_SAMPLES; i++) {
        const struct parse_sample *s = &src->samples[i];
        sample_add(dst, s->source, s->line + line_delta, s->offset, s->detail,
                   span_make(s->text, s->text_len));
    }
}

bool parse_stats_newest_first(const struct parse_stats *st)
{
    return st->older >= 10 && st->older * 2 > st->dated;
}

void parse_stats_merge(struct parse_stats *dst, const struct parse_stats *src)
{
    parse_stats_merge_at(dst, src, 0);
}

void parse_stats_merge_at(struct parse_stats *dst, const struct parse_stats *src,
                          uint64_t line_delta)
{
    dst->lines += src->lines;
    dst->records += src->records;
    dst->events += src->events;
    dst->event_lines += src->event_lines;
    dst->rejects += src->rejects;
    dst->reject_lines += src->reject_lines;
    dst->foreign_lines += src->foreign_lines;
    dst->blank_lines += src->blank_lines;
    dst->skipped_lines += src->skipped_lines;
    dst->forced += src->forced;
    dst->invalid_utf8 += src->invalid_utf8;
    dst->truncated += src->truncated;
    dst->damaged += src->damaged;
    dst->dated += src->dated;
    dst->undated += src->undated;
    dst->older += src->older;
    for (size_t i = 0; i < src->nreasons; i++)
        reason_merge(reason_get(dst, src->reasons[i].reason), &src->reasons[i], line_delta);
    if (!dst->foreign.reason)
        dst->foreign.reason = xstrdup("foreign line");
    if (!dst->damage.reason)
        dst->damage.reason = xstrdup("damaged input");
    reason_merge(&dst->foreign, &src->foreign, line_delta);
    reason_merge(&dst->damage, &src->damage, line_delta);
}

static void reason_release(struct parse_reason *r)
{
    for (size_t i = 0; i < r->nsamples; i++) {
        free(r->samples[i].source);
        free(r->samples[i].detail);
        free(r->samples[i].text);
    }
    free(r->reason);
    memset(r, 0, sizeof(*r));
}

void parse_stats_release(struct parse_stats *st)
{
    for (size_t i = 0; i < st->nreasons; i++)
        reason_release(&st->reasons[i]);
    free(st->reasons);
    reason_release(&st->foreign);
    reason_release(&st->damage);
    memset(st, 0, sizeof(*st));
}

void parser_free(struct parser *p)
{
    if (!p)
        return;
    if (p->fmt && p->fmt->release)
        p->fmt->release(p->fmt_state);
    pgtime_tz_release(&p->tz);
    for (struct pending *r = p->oldest; r;) {
        struct pending *n = r->newer;
        sbuf_release(&r->text);
        free(r->data);
        free(r);
        r = n;
    }
    free_pending_list(p->free_list);
    free_pending_list(p->done_list);
    free(p->runs);
    free(p->ck_skip);
    sbuf_release(&p->ck_state);
    free(p->q);
    free(p->held);
    sbuf_release(&p->held_text);
    sbuf_release(&p->note);
    arena_release(&p->scratch);
    parse_stats_release(&p->stats);
    free(p->skip);
    free(p->prefix_copy);
    free(p->tz_copy);
    free(p->format_copy);
    free(p->source);
    free(p);
}

/* ------------------------------------------------------------------------------------ */
/* helpers for formats                                                                  */

void parser_check_utf8(struct event *ev, struct span s)
{
    if (s.len && !(ev->flags & EVENT_INVALID_UTF8) && !utf8_valid(s))
        ev->flags |= EVENT_INVALID_UTF8;
}

bool parser_set_sqlstate(struct event *ev, struct span s)
{
    ev->sqlstate[0] = '\0';
    if (s.len != 5)
        return false;
    for (size_t i = 0; i < 5; i++) {
        char c = s.p[i];
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')))
            return false;
    }
    memcpy(ev->sqlstate, s.p, 5);
    ev->sqlstate[5] = '\0';
    return true;
}

void parser_record_key(struct event *ev, struct span id)
{
    if (!id.p || !id.len) {
        ev->record_key = 0;
        return;
    }
    /* 64 bits, as fingerprints: a collision (a new record taken for one already counted)
     * needs about 4 billion ids before it is likely at all. Never 0 (no key). */
    uint64_t h = XXH3_64bits_withSeed(id.p, id.len, 0x7265636f72643a31ULL /* "record:1" */);
    ev->record_key = h ? h : 1;
}

bool parser_severity(struct span s, enum event_severity *out)
{
    /* The common ones first, without a table walk (or a call). */
    if (s.len == 3 && s.p[0] == 'L' && s.p[1] == 'O' && s.p[2] == 'G') {
        *out = SEV_LOG;
        return true;
    }
    if (span_eq_lit(s, "ERROR")) {
        *out = SEV_ERROR;
        return true;
    }
    if (severity_from_name(s, out))
        return true;
    /* csvlog and stderr print the severity translated (formats.md §11); these are the
     * translations quoted there. jsonlog is never translated. */
    if (span_eq_lit(s, "FEHLER") || span_eq_lit(s, "ERREUR")) {
        *out = SEV_ERROR;
        return true;
    }
    return false;
}

void parser_set_client(struct event *ev, struct span s)
{
    ev->client = s;
    ev->client_port = -1;
    if (!s.p || s.len == 0 || (s.len >= 1 && s.p[0] == '['))
        return; /* "[local]" */
    long colon = -1;
    for (size_t i = s.len; i-- > 0;) {
        if (s.p[i] == ':') {
            colon = (long)i;
            break;
        }
        if (s.p[i] < '0' || s.p[i] > '9')
            return; /* no numeric port after the last colon */
    }
    if (colon <= 0 || (size_t)colon + 1 >= s.len || s.len - (size_t)colon - 1 > 5)
        return;
    int64_t port;
    if (!span_to_i64_short(span_sub(s, (size_t)colon + 1, s.len - (size_t)colon - 1), &port) ||
        port > 65535)
        return;
    ev->client = span_sub(s, 0, (size_t)colon);
    ev->client_port = (int32_t)port;
}
