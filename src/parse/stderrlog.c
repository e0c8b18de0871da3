/* SPDX-License-Identifier: MIT */
/*
 * stderrlog.c - the stderr format (log_destination = 'stderr', with or without the
 * logging collector) and the record-assembly core that syslog.c, cloudsql.c and cnpg.c
 * share (see stderrlog.h).
 *
 * A record is kept as one pending record: its text holds the primary line as read
 * (so the prefix fields are offsets into it), then each sub-line's value and each
 * continuation, appended so that every value (message, detail, ...) is contiguous.
 * Finishing turns the offsets into spans: nothing is copied twice.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xalloc.h"
#include "parse/stderrlog.h"

#define PREFIX_CACHE 8 /* prefixes a file switched between (reloads) */

/* Lines with a keyword that matched no prefix, kept to suggest one at the end. */
#define STDERR_SUGGEST_LINES 20

struct stderr_core {
    struct parser *p;
    struct stderr_core_opts o;
    struct line_prefix *cur;
    struct line_prefix_memo *memo;           /* cur's tails seen (line_prefix.h) */
    struct line_prefix *cache[PREFIX_CACHE]; /* includes cur; oldest evicted */
    size_t ncache;
    struct line_prefix **known; /* compiled line_prefix_known[], lazily */
    size_t nknown;
    bool detect_tried; /* no prefix yet: detection on the fly ran at least once */
    struct sbuf tmp;
    /* the record the previous line went to (a TAB line continues it) */
    bool have_last;
    uint64_t last_key;
    uint64_t last_line;
    /* for the suggestion when nothing matched (stderr_core_end) */
    uint64_t matched;
    char *unmatched[STDERR_SUGGEST_LINES];
    size_t nunmatched;
    uint64_t unmatched_total; /* lines with a keyword no prefix matched */
    /* the seconds of the last %m/%t and %s times (only the fraction changes within one) */
    struct pgtime_cache log_time, session_start;
};

const char *stderr_core_prefix(const struct stderr_core *c)
{
    return c->cur ? line_prefix_text(c->cur) : "";
}

static struct line_prefix *cache_add(struct stderr_core *c, struct span text)
{
    for (size_t i = 0; i < c->ncache; i++)
        if (span_eq(span_cstr(line_prefix_text(c->cache[i])), text))
            return c->cache[i];
    struct line_prefix *lp = line_prefix_new(text, NULL);
    if (!lp)
        return NULL;
    if (c->ncache == PREFIX_CACHE) {
        size_t victim = c->cache[0] == c->cur ? 1 : 0;
        line_prefix_free(c->cache[victim]);
        memmove(c->cache + victim, c->cache + victim + 1,
                (PREFIX_CACHE - victim - 1) * sizeof(*c->cache));
        c->ncache--;
    }
    c->cache[c->ncache++] = lp;
    return lp;
}

static void switch_to(struct stderr_core *c, struct line_prefix *lp, const char *why)
{
    if (c->cur == lp)
        return;
    const struct input_line *ln = parser_current_line(c->p);
    if (c->cur && ln)
        log_verbose("%.*s:%llu: log_line_prefix is now '%s' (%s)", (int)ln->source.len,
                    ln->source.p, (unsigned long long)ln->line, line_prefix_text(lp), why);
    c->cur = lp;
    line_prefix_memo_reset(c->memo);
}

struct stderr_core *stderr_core_new(struct parser *p, const struct stderr_core_opts *o)
{
    struct stderr_core *c = xcalloc(1, sizeof(*c));
    c->p = p;
    c->o = *o;
    c->o.prefix = NULL;
    sbuf_init(&c->tmp, SIFT_MAX_PREFIX_BYTES + 1);
    c->memo = line_prefix_memo_new();
    if (o->prefix)
        c->cur = cache_add(c, span_cstr(o->prefix));
    return c;
}

void stderr_core_free(struct stderr_core *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->ncache; i++)
        line_prefix_free(c->cache[i]);
    line_prefix_memo_free(c->memo);
    for (size_t i = 0; i < c->nknown; i++)
        line_prefix_free(c->known[i]);
    free(c->known);
    for (size_t i = 0; i < c->nunmatched; i++)
        free(c->unmatched[i]);
    sbuf_release(&c->tmp);
    free(c);
}

/* `parameter "log_line_prefix" changed to "<text>"` in a matched or unmatched line. */
static struct line_prefix *reload_prefix(struct stderr_core *c, struct span text)
{
    static const char needle[] = "parameter \"log_line_prefix\" changed to \"";
    long at = span_find(text, 0, SPAN_LIT(needle));
    if (at < 0)
        return NULL;
    size_t from = (size_t)at + sizeof(needle) - 1;
    if (text.len <= from || text.p[text.len - 1] != '"')
        return NULL;
    return cache_add(c, span_make(text.p + from, text.len - 1 - from));
}

/* Does the line have a keyword somewhere (so it is worth trying other prefixes)? */
static bool has_keyword(struct span text)
{
    for (size_t i = 0; i + 4 <= text.len && i <= SIFT_MAX_PREFIX_BYTES; i++) {
        size_t mo;
        const char *q = memchr(text.p + i, ':', text.len - i);
        if (!q)
            return false;
        size_t colon = (size_t)(q - text.p);
        /* keywords are 3..9 upper-case letters before the ':' */
        size_t k = colon;
        while (k > 0 && colon - k < 9 && text.p[k - 1] >= 'A' && text.p[k - 1] <= 'Z')
            k--;
        if (colon - k >= 3 &&
            line_prefix_keyword(span_make(text.p + k, text.len - k), &mo) != LPK_NONE)
            return true;
        i = colon;
    }
    return false;
}

static bool core_match(struct stderr_core *c, struct span text, struct line_prefix_match *m);

bool stderr_core_match(struct stderr_core *c, struct span text, struct line_prefix_match *m)
{
    if (core_match(c, text, m)) {
        c->matched++;
        return true;
    }
    if (text.len && text.p[0] != '\t' && has_keyword(text)) {
        c->unmatched_total++;
        if (c->nunmatched < STDERR_SUGGEST_LINES)
            c->unmatched[c->nunmatched++] =
                xmemdupz(text.p, text.len < SIFT_MAX_PREFIX_BYTES * 2 ? text.len
                                                                      : SIFT_MAX_PREFIX_BYTES * 2);
    }
    return false;
}

bool stderr_core_match_current(struct stderr_core *c, struct span text, struct line_prefix_match *m)
{
    return c->cur && line_prefix_match(c->cur, text, m);
}

bool stderr_core_has_time(const struct stderr_core *c)
{
    return c->cur && (line_prefix_has(c->cur, LPF_TIME) || line_prefix_has(c->cur, LPF_TIME_MS) ||
                      line_prefix_has(c->cur, LPF_EPOCH));
}

void stderr_core_end(struct stderr_core *c)
{
    if (c->matched && c->unmatched_total) {
        /* Some lines matched, others with a keyword did not: counted as foreign lines,
         * which the summary says, but not why (QA 29: a padded prefix, '%-10u', that
         * detection does not infer, lost 3 of 5 lines with "3 foreign lines" alone). */
        log_note("%" PRIu64 " line%s with a PostgreSQL keyword did not match log_line_prefix "
                 "'%s' (counted as foreign lines): if they are the server's, pass its setting "
                 "with --prefix (SHOW log_line_prefix;)",
                 c->unmatched_total, c->unmatched_total == 1 ? "" : "s", stderr_core_prefix(c));
        return;
    }
    if (c->matched || !c->nunmatched)
        return;
    struct span *lines = xcalloc(c->nunmatched, sizeof(*lines));
    for (size_t i = 0; i < c->nunmatched; i++)
        lines[i] = span_cstr(c->unmatched[i]);
    struct sbuf sug = SBUF_INIT;
    bool inferred;
    size_t n = line_prefix_detect(lines, c->nunmatched, &sug, &inferred, c->o.wrapped);
    if (n)
        log_note("no line matched log_line_prefix '%s'; %zu of the first %zu lines with a "
                 "keyword match '%s' (try --prefix '%s')",
                 stderr_core_prefix(c), n, c->nunmatched, sug.buf, sug.buf);
    else
        log_note("no line matched log_line_prefix '%s' and no known prefix fits the lines; "
                 "pass the server's setting (SHOW log_line_prefix;) with --prefix",
                 stderr_core_prefix(c));
    sbuf_release(&sug);
    free(lines);
}

static bool core_match(struct stderr_core *c, struct span text, struct line_prefix_match *m)
{
    if (c->cur && line_prefix_match_memo(c->cur, c->memo, text, m)) {
        struct span msg = span_make(text.p + m->msg_off, text.len - m->msg_off);
        if (m->kw == LPK_LOG && msg.len && msg.p[0] == 'p' &&
            span_starts_with_lit(msg, "parameter \"log_line_prefix\"")) {
            /* the reload message comes in the new format already; take it for later */
            struct line_prefix *lp = reload_prefix(c, msg);
            if (lp && lp != c->cur) {
                struct line_prefix_match m2;
                if (line_prefix_match(lp, text, &m2))
                    switch_to(c, lp, "log_line_prefix reloaded");
            }
        }
        return true;
    }
    if (!text.len || text.p[0] == '\t' || !has_keyword(text))
        return false;

    struct line_prefix *lp = reload_prefix(c, text);
    if (lp && line_prefix_match(lp, text, m)) {
        switch_to(c, lp, "log_line_prefix reloaded");
        return true;
    }
    if (c->o.forced)
        return false;
    for (size_t i = 0; i < c->ncache; i++) {
        if (c->cache[i] != c->cur && line_prefix_match(c->cache[i], text, m)) {
            switch_to(c, c->cache[i], "matches an earlier prefix");
            return true;
        }
    }
    if (!c->known) {
        while (line_prefix_known[c->nknown])
            c->nknown++;
        c->known = xcalloc(c->nknown, sizeof(*c->known));
        for (size_t i = 0; i < c->nknown; i++)
            c->known[i] = line_prefix_new(span_cstr(line_prefix_known[i]), NULL);
    }
    /* The known prefix that explains the most of the line with literal text. Only
     * prefixes with a time or process escape: a stray "ERROR:  ..." line of another
     * program must not turn into a record through the empty prefix. */
    size_t best = SIZE_MAX, best_lit = 0;
    for (size_t i = 0; i < c->nknown; i++) {
        struct line_prefix_match mk;
        const struct line_prefix *k = c->known[i];
        if (!k ||
            !(line_prefix_has(k, LPF_TIME) || line_prefix_has(k, LPF_TIME_MS) ||
              line_prefix_has(k, LPF_EPOCH) || line_prefix_has(k, LPF_PID) ||
              line_prefix_has(k, LPF_SESSION)) ||
            !line_prefix_match(k, text, &mk))
            continue;
        size_t lit = mk.kw_off;
        for (int f = 0; f < LPF_COUNT; f++)
            lit -= mk.field[f].len;
        if (best == SIZE_MAX || lit > best_lit) {
            best = i;
            best_lit = lit;
        }
    }
    if (best != SIZE_MAX) {
        lp = cache_add(c, span_cstr(line_prefix_known[best]));
    } else if (!c->cur && !c->detect_tried) {
        /* forced --format stderr without --prefix and nothing known fits: infer from
         * the first line with a keyword */
        c->detect_tried = true;
        if (line_prefix_infer(text, &c->tmp, c->o.wrapped))
            lp = cache_add(c, sbuf_span(&c->tmp));
    }
    if (lp && line_prefix_match(lp, text, m)) {
        switch_to(c, lp, c->cur ? "the previous prefix stopped matching" : "detected");
        return true;
    }
    return false;
}

/* The process id in a session id (%c): "%lx.%x" of the process's start time and its
 * pid, in hex; -1 when @sid is not of that shape. */
static int64_t session_pid(struct span sid)
{
    const char *dot = memchr(sid.p, '.', sid.len);
    if (!dot || dot == sid.p)
        return -1;
    size_t i = (size_t)(dot - sid.p) + 1;
    if (i == sid.len || sid.len - i > 8)
        return -1;
    int64_t pid = 0;
    for (; i < sid.len; i++) {
        int d = hex_digit(sid.p[i]);
        if (d < 0)
            return -1;
        pid = pid * 16 + d;
    }
    return pid;
}

uint64_t stderr_core_key(const struct line_prefix_match *m, struct span text,
                         const struct stderr_ext *ext, uint64_t stream)
{
    (void)text;
    int64_t pid;
    uint64_t k = 0;
    if (m->field[LPF_PID].p && span_to_i64_short(m->field[LPF_PID], &pid)) {
        k = (uint64_t)pid;
    } else if (ext && ext->pid >= 0) {
        k = (uint64_t)ext->pid;
    } else if (m->field[LPF_SESSION].p) {
        /* FNV-1a of the session id; the top bit keeps it apart from pids */
        k = UINT64_C(0xcbf29ce484222325);
        for (size_t i = 0; i < m->field[LPF_SESSION].len; i++)
            k = (k ^ (unsigned char)m->field[LPF_SESSION].p[i]) * UINT64_C(0x100000001b3);
        k |= UINT64_C(1) << 63;
    }
    return k ^ (stream * UINT64_C(0x9e3779b97f4a7c15));
}

static void expire(struct parser *p, struct stderr_core *c, uint64_t key)
{
    const struct input_line *ln = parser_current_line(p);
    struct pending *o;

    (void)key;
    if (c->o.window == 0) {
        /* contiguous records: a primary line ends every record before it */
        while ((o = pending_oldest(p)))
            pending_finish(p, o);
        return;
    }
    while (ln && (o = pending_oldest(p)) && ln->line - o->last_line > c->o.window)
        pending_finish(p, o);
}

struct pending *stderr_rec_begin(struct parser *p, struct stderr_core *c, uint64_t key,
                                 struct span text, const struct line_prefix_match *m,
                                 const struct stderr_ext *ext)
{
    expire(p, c, key);
    struct pending *rec = pending_start(p, key, text);
    struct srec *r = rec->data;
    /* Only the prefix's fields, without a branch per field (which are set varies line
     * by line: %q): an absent field's offset is garbage but its bit is clear, and fld()
     * looks at the bit. */
    uint32_t mask = 0;
    for (uint32_t h = m->has; h; h &= h - 1) {
        int f = __builtin_ctz(h);
        uintptr_t fp = (uintptr_t)m->field[f].p;
        r->fo[f] = (uint32_t)(fp - (uintptr_t)text.p);
        r->fl[f] = (uint32_t)m->field[f].len;
        mask |= (uint32_t)(fp != 0) << f;
    }
    r->fmask = mask;
    r->seg[0] = (struct srec_seg){ (uint8_t)m->kw, (uint32_t)m->msg_off,
                                   (uint32_t)(text.len - m->msg_off) };
    r->nseg = 1;
    r->ext = ext ? *ext : STDERR_EXT_NONE;
    return rec;
}

uint64_t *stderr_rec_wrapper(struct pending *rec)
{
    return ((struct srec *)rec->data)->wrap;
}

static void add_bytes(struct parser *p, struct pending *rec, struct span bytes, bool account)
{
    if (account)
        pending_add(p, rec, bytes);
    else
        pending_append(rec, bytes);
}

bool stderr_rec_subline(struct parser *p, struct pending *rec, struct span text,
                        const struct line_prefix_match *m, bool account)
{
    struct srec *r = rec->data;
    if (r->nseg >= SREC_MAX_SEGS || m->kw <= r->seg[r->nseg - 1].kw)
        return false;
    size_t off = rec->text.len;
    add_bytes(p, rec, span_make(text.p + m->msg_off, text.len - m->msg_off), account);
    r->seg[r->nseg++] =
        (struct srec_seg){ (uint8_t)m->kw, (uint32_t)off, (uint32_t)(rec->text.len - off) };
    return true;
}

void stderr_rec_cont(struct parser *p, struct pending *rec, struct span sep, struct span text,
                     bool account)
{
    struct srec *r = rec->data;
    pending_append(rec, sep);
    add_bytes(p, rec, text, account);
    struct srec_seg *s = &r->seg[r->nseg - 1];
    s->len = (uint32_t)(rec->text.len - s->off);
}

size_t stderr_rec_last_len(const struct pending *rec)
{
    const struct srec *r = rec->data;
    return r->nseg ? r->seg[r->nseg - 1].len : 0;
}

/* ---- finishing: record -> event --------------------------------------------------- */

static struct span fld(const struct srec *r, const char *t, enum lp_field f)
{
    return (r->fmask & (1u << f)) ? span_make(t + r->fo[f], r->fl[f]) : SPAN_NULL;
}

/* %u %d %a print "[unknown]" before authentication where csvlog/jsonlog print nothing. */
static struct span name_field(struct span s)
{
    if (!s.p || s.len == 0 || span_eq_lit(s, "[unknown]"))
        return SPAN_NULL;
    return s;
}

static struct span opt_field(struct span s)
{
    return s.p && s.len ? s : SPAN_NULL;
}

static enum event_severity kw_severity(enum lp_keyword k)
{
    switch (k) {
    case LPK_DEBUG: return SEV_DEBUG;
    case LPK_LOG: return SEV_LOG;
    case LPK_INFO: return SEV_INFO;
    case LPK_NOTICE: return SEV_NOTICE;
    case LPK_WARNING: return SEV_WARNING;
    case LPK_ERROR: return SEV_ERROR;
    case LPK_FATAL: return SEV_FATAL;
    case LPK_PANIC: return SEV_PANIC;
    default: return SEV_NONE;
    }
}

/* "SQLSTATE: " in front of the message (log_error_verbosity = verbose): five [0-9A-Z]
 * with at least one digit, so an upper-case word ("ABORT: ") is not taken for one. */
static bool verbose_sqlstate(struct span msg)
{
    if (msg.len < 7 || msg.p[5] != ':' || msg.p[6] != ' ')
        return false;
    bool digit = false;
    for (int i = 0; i < 5; i++) {
        char ch = msg.p[i];
        if (ch >= '0' && ch <= '9')
            digit = true;
        else if (ch < 'A' || ch > 'Z')
            return false;
    }
    return digit;
}

/* " at character N" that PostgreSQL appends to a message with a cursor position
 * (formats.md §4.1). Returns N and shortens @msg, or 0. Messages that carry a
 * statement's text are left alone: the text is the user's, not a position. */
static int32_t strip_position(struct span *msg)
{
    static const char tail[] = " at character ";
    /* the tail first: most messages do not end in a digit */
    size_t e = msg->len, d = e;
    while (d > 0 && msg->p[d - 1] >= '0' && msg->p[d - 1] <= '9')
        d--;
    if (d == e || e - d > 9 || d < sizeof(tail) - 1 ||
        memcmp(msg->p + d - (sizeof(tail) - 1), tail, sizeof(tail) - 1) != 0)
        return 0;
    if (span_starts_with_lit(*msg, "duration: ") || span_starts_with_lit(*msg, "statement: ") ||
        span_starts_with_lit(*msg, "execute ") || span_starts_with_lit(*msg, "parse ") ||
        span_starts_with_lit(*msg, "bind "))
        return 0;
    int64_t n;
    if (!span_to_i64(span_make(msg->p + d, e - d), &n) || n <= 0 || n > INT32_MAX)
        return 0;
    msg->len = d - (sizeof(tail) - 1);
    return (int32_t)n;
}

/* %r: "host(port)", "[local]" or a host name. */
static void set_remote(struct event *ev, struct span r)
{
    ev->client = r;
    ev->client_port = -1;
    if (r.len < 4 || r.p[r.len - 1] != ')')
        return;
    long open = -1;
    for (size_t i = r.len - 1; i-- > 0;) {
        if (r.p[i] == '(') {
            open = (long)i;
            break;
        }
        if (r.p[i] < '0' || r.p[i] > '9')
            return;
    }
    int64_t port;
    if (open <= 0 || !span_to_i64(span_make(r.p + open + 1, r.len - (size_t)open - 2), &port) ||
        port > 65535)
        return;
    ev->client = span_make(r.p, (size_t)open);
    ev->client_port = (int32_t)port;
}

static const char *build(struct parser *p, struct stderr_core *c, struct event *ev,
                         const struct srec *r, struct span text, const char **detail)
{
    const char *t = text.p;
    int64_t v;
    int frac = 0;
    enum pgtime_status st = PGTIME_BAD;
    struct span ts = fld(r, t, LPF_TIME_MS);

    *detail = NULL;
    if (!ts.p)
        ts = fld(r, t, LPF_TIME);
    if (ts.p) {
        st = pgtime_parse_cached(&c->log_time, ts, parser_tz(p), &v, &frac, NULL);
    } else if ((ts = fld(r, t, LPF_EPOCH)).p) {
        st = pgtime_parse_epoch(ts, &v, &frac);
    }
    if (ts.p && st != PGTIME_OK) {
        *detail = pgtime_status_reason(st);
        return st == PGTIME_BAD ? "bad timestamp" : "time zone";
    }
    if (ts.p) {
        ev->ts_us = v;
        ev->ts_frac = frac;
    } else if (r->ext.ts_us != INT64_MIN) {
        ev->ts_us = r->ext.ts_us;
        ev->ts_frac = r->ext.ts_frac;
    }

    struct span s = fld(r, t, LPF_PID);
    ev->session_id = opt_field(fld(r, t, LPF_SESSION));
    if (s.p && span_to_i64_short(s, &v))
        ev->pid = v;
    else if (r->ext.pid >= 0)
        ev->pid = r->ext.pid;
    else if (ev->session_id.p)
        ev->pid = session_pid(ev->session_id);
    if ((s = fld(r, t, LPF_LINE)).p && span_to_i64_short(s, &v))
        ev->session_line = v;
    ev->user = name_field(fld(r, t, LPF_USER));
    ev->database = name_field(fld(r, t, LPF_DB));
    ev->application = name_field(fld(r, t, LPF_APP));
    if ((s = opt_field(fld(r, t, LPF_REMOTE))).p)
        set_remote(ev, s);
    else if ((s = opt_field(fld(r, t, LPF_HOST))).p)
        ev->client = s;
    ev->backend_type = opt_field(fld(r, t, LPF_BACKEND));
    ev->command_tag = opt_field(fld(r, t, LPF_PS));
    if ((s = fld(r, t, LPF_SESSION_START)).p &&
        pgtime_parse_cached(&c->session_start, s, parser_tz(p), &v, &frac, NULL) == PGTIME_OK)
        ev->session_start_us = v;
    ev->vxid = opt_field(fld(r, t, LPF_VXID));
    if ((s = fld(r, t, LPF_XID)).p && span_to_i64_short(s, &v))
        ev->txid = v;
    if ((s = opt_field(fld(r, t, LPF_LEADER))).p && span_to_i64(s, &v))
        ev->leader_pid = v;
    if ((s = fld(r, t, LPF_QUERY_ID)).p && span_to_i64(s, &v)) {
        ev->query_id = v;
        ev->has_query_id = v != 0;
    }
    if ((s = fld(r, t, LPF_SQLSTATE)).p)
        parser_set_sqlstate(ev, s);

    ev->severity = kw_severity((enum lp_keyword)r->seg[0].kw);
    struct span msg = span_make(t + r->seg[0].off, r->seg[0].len);
    if (verbose_sqlstate(msg)) {
        parser_set_sqlstate(ev, span_make(msg.p, 5));
        msg = span_make(msg.p + 7, msg.len - 7);
    }
    bool has_query = false;
    for (size_t i = 1; i < r->nseg; i++) {
        struct span v2 = span_make(t + r->seg[i].off, r->seg[i].len);
        switch ((enum lp_keyword)r->seg[i].kw) {
        case LPK_DETAIL: ev->detail = v2; break;
        case LPK_HINT: ev->hint = v2; break;
        case LPK_QUERY:
            ev->internal_query = v2;
            has_query = true;
            break;
        case LPK_CONTEXT: ev->context = v2; break;
        case LPK_LOCATION: ev->location = v2; break;
        case LPK_STATEMENT: ev->statement = v2; break;
        default: break; /* BACKTRACE: no event field yet */
        }
    }
    int32_t pos = strip_position(&msg);
    if (pos && has_query)
        ev->internal_pos = pos;
    else if (pos)
        ev->cursor_pos = pos;
    ev->message = msg;
    return NULL;
}

void stderr_core_finish(struct parser *p, struct stderr_core *c, struct pending *rec)
{
    const struct srec *r = rec->data;
    struct span text = sbuf_span(&rec->text);
    struct event *ev = parser_event_begin_pending(p, rec);
    const char *detail;
    const char *reason = build(p, c, ev, r, text, &detail);
    if (reason) {
        parser_event_abort(p, ev);
        parser_reject(p, reason, "%s", detail ? detail : "");
        return;
    }
    parser_check_utf8(ev, text);
    parser_event_commit(p, ev);
}

/* ---- detection notes --------------------------------------------------------------- */

size_t stderr_sniff_lines(const struct span *lines, size_t n, const struct parser_opts *opts,
                          struct sbuf *note, bool wrapped)
{
    struct sbuf prefix = SBUF_INIT;
    size_t score = 0;
    bool inferred = false;

    if (opts->prefix) {
        struct line_prefix *lp = line_prefix_new(span_cstr(opts->prefix), NULL);
        for (size_t i = 0; lp && i < n; i++) {
            struct line_prefix_match m;
            if (lines[i].len && lines[i].p[0] != '\t' && line_prefix_match(lp, lines[i], &m))
                score++;
        }
        line_prefix_free(lp);
        if (sbuf_addstr(&prefix, opts->prefix) < 0)
            score = 0;
    } else {
        score = line_prefix_detect(lines, n, &prefix, &inferred, wrapped);
    }
    sbuf_reset(note);
    if (score && sbuf_addf(note, "prefix '%s'%s", prefix.buf, inferred ? " (inferred)" : "") < 0)
        score = 0;
    sbuf_release(&prefix);
    return score;
}

char *stderr_note_prefix(const char *note)
{
    if (!note || strncmp(note, "prefix '", 8) != 0)
        return NULL;
    const char *start = note + 8;
    const char *end = strrchr(start, '\'');
    if (!end)
        return NULL;
    return xmemdupz(start, (size_t)(end - start));
}

static enum stderr_take take(struct parser *p, struct stderr_core *c, struct span text,
                             const struct stderr_ext *ext, bool account);

enum stderr_take stderr_core_take(struct parser *p, struct stderr_core *c, struct span text,
                                  const struct stderr_ext *ext, bool account)
{
    enum stderr_take r = take(p, c, text, ext, account);
    if (r == STDERR_TAKEN || account)
        return r;
    /* a further piece of a line already in a record: it continues the last value */
    const struct input_line *ln = parser_current_line(p);
    struct pending *rec =
        c->have_last && ln && c->last_line == ln->line ? pending_find(p, c->last_key) : NULL;
    if (!rec)
        return r;
    stderr_rec_cont(p, rec, SPAN_LIT("\n"), text, false);
    return STDERR_TAKEN;
}

static enum stderr_take take(struct parser *p, struct stderr_core *c, struct span text,
                             const struct stderr_ext *ext, bool account)
{
    const struct input_line *ln = parser_current_line(p);
    uint64_t lineno = ln ? ln->line : 0;
    struct line_prefix_match m;

    if (text.len && text.p[0] == '\t') {
        struct pending *rec = NULL;
        if (c->have_last && (c->last_line + 1 == lineno || (!account && c->last_line == lineno)))
            rec = pending_find(p, c->last_key);
        if (!rec)
            return STDERR_FOREIGN; /* continues a foreign line, or a record already gone */
        stderr_rec_cont(p, rec, SPAN_LIT("\n"), span_make(text.p + 1, text.len - 1), account);
        c->last_line = lineno;
        return STDERR_TAKEN;
    }
    if (account)
        c->have_last = false;
    if (!stderr_core_match(c, text, &m))
        return STDERR_FOREIGN;
    uint64_t key = stderr_core_key(&m, text, ext, 0);
    if (lp_keyword_is_severity(m.kw)) {
        if (!account)
            return STDERR_FOREIGN;
        stderr_rec_begin(p, c, key, text, &m, ext);
    } else {
        struct pending *rec = pending_find(p, key);
        if (!rec || !stderr_rec_subline(p, rec, text, &m, account))
            return STDERR_ORPHAN;
    }
    c->have_last = true;
    c->last_key = key;
    c->last_line = lineno;
    return STDERR_TAKEN;
}

/* ---- the stderr format ------------------------------------------------------------- */

struct stderr_state {
    struct stderr_core *core;
};

static int stderr_check_opts(const struct parser_opts *o, struct diag *d)
{
    if (!o->prefix)
        return 0;
    struct line_prefix *lp = line_prefix_new(span_cstr(o->prefix), d);
    if (!lp)
        return -1;
    line_prefix_free(lp);
    return 0;
}

static size_t stderr_sniff(const struct sniff_input *in, struct sbuf *note)
{
    return stderr_sniff_lines(in->lines, in->n, in->opts, note, false);
}

static void *stderr_init(struct parser *p, const char *note)
{
    struct stderr_state *st = xcalloc(1, sizeof(*st));
    const char *given = parser_opts(p)->prefix;
    char *detected = given ? NULL : stderr_note_prefix(note);
    st->core = stderr_core_new(p, &(struct stderr_core_opts){
                                      .prefix = given ? given : detected,
                                      .forced = given != NULL,
                                      .window = 0,
                                  });
    free(detected);
    return st;
}

static void stderr_release(void *state)
{
    struct stderr_state *st = state;
    if (!st)
        return;
    stderr_core_free(st->core);
    free(st);
}

static void stderr_line(struct parser *p, void *state, const struct input_line *ln)
{
    struct stderr_state *st = state;

    if (ln->text.len == 0) {
        parser_blank(p);
        return;
    }
    switch (stderr_core_take(p, st->core, ln->text, NULL, true)) {
    case STDERR_TAKEN: break;
    case STDERR_FOREIGN: parser_foreign(p); break;
    case STDERR_ORPHAN:
        parser_reject(p, STDERR_ORPHAN_REASON, "a sub-line of a record that is not in the input");
        break;
    }
}

static void stderr_finish(struct parser *p, void *state, struct pending *rec)
{
    struct stderr_state *st = state;
    stderr_core_finish(p, st->core, rec);
}

/* At the end of a file that may still grow, the pending records are held for the next
 * run: the log collector writes line by line (line-buffered), so a run can end inside a
 * record, or read its first lines before its DETAIL or STATEMENT (QA 29: the rest became
 * a reject, the statement a wrong fingerprint) - unless the caller knows the file has been
 * quiet (parser_opts.end_live: tail's flush). */
static bool stderr_unterminated(const struct parser *p, const void *state)
{
    (void)state;
    return !parser_opts(p)->end_live;
}

static void stderr_end(struct parser *p, void *state)
{
    (void)p;
    stderr_core_end(((struct stderr_state *)state)->core);
}

static const char *stderr_prefix(const void *state)
{
    return stderr_core_prefix(((const struct stderr_state *)state)->core);
}

const struct log_format fmt_stderr = {
    .name = "stderr",
    .description = "PostgreSQL stderr log (log_destination = 'stderr') with any log_line_prefix",
    .hint = "pass the server's log_line_prefix with --prefix (SHOW log_line_prefix;), "
            "e.g. --prefix '%m [%p] %q%u@%d '",
    .sniff = stderr_sniff,
    .check_opts = stderr_check_opts,
    .init = stderr_init,
    .release = stderr_release,
    .line = stderr_line,
    .finish = stderr_finish,
    .end = stderr_end,
    .unterminated = stderr_unterminated,
    .pending_size = sizeof(struct srec),
    .prefix = stderr_prefix,
};
