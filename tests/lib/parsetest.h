/* SPDX-License-Identifier: MIT */
/*
 * parsetest - run bytes through the parser in a test and render events as text.
 *
 * pt_render() writes one event as "key=value" pairs in a fixed order (strings in C
 * escapes inside double quotes), so tests and case files compare events as text and
 * the events need not outlive the parser's lifetime rule. pt_run() splits a buffer into
 * lines exactly as input/ does ('\n' ends a line, "\r\n" loses the '\r', a last line
 * without '\n' is partial), feeds them, and renders every event, one per line.
 */
#ifndef SIFT_TESTS_PARSETEST_H
#define SIFT_TESTS_PARSETEST_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/sbuf.h"
#include "event.h"
#include "parse/parse.h"

static inline void pt_str(struct sbuf *o, const char *key, struct span s)
{
    if (!s.p)
        return;
    if (sbuf_addf(o, " %s=\"", key) < 0)
        return;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.p[i];
        int r;
        if (c == '\n')
            r = sbuf_addstr(o, "\\n");
        else if (c == '\t')
            r = sbuf_addstr(o, "\\t");
        else if (c == '"' || c == '\\')
            r = sbuf_addf(o, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            r = sbuf_addf(o, "\\x%02x", c);
        else
            r = sbuf_addch(o, (char)c);
        if (r < 0)
            return;
    }
    if (sbuf_addch(o, '"') < 0)
        return;
}

static inline void pt_int(struct sbuf *o, const char *key, int64_t v, int64_t absent)
{
    if (v != absent && sbuf_addf(o, " %s=%" PRId64, key, v) < 0)
        return;
}

static inline void pt_render(const struct event *ev, struct sbuf *o)
{
    char ts[CLOCK_RFC3339_MAX];
    int r = sbuf_addf(o, "line=%" PRIu64 " offset=%" PRIu64, ev->src_line, ev->src_offset);
    if (r == 0 && ev->ts_us != INT64_MIN)
        r = sbuf_addf(o, " ts=%s", clock_format_rfc3339(ev->ts_us, ev->ts_frac, ts));
    if (r < 0)
        return;
    pt_int(o, "pid", ev->pid, -1);
    pt_str(o, "session_id", ev->session_id);
    pt_int(o, "session_line", ev->session_line, -1);
    pt_str(o, "user", ev->user);
    pt_str(o, "database", ev->database);
    pt_str(o, "application", ev->application);
    pt_str(o, "client", ev->client);
    pt_int(o, "client_port", ev->client_port, -1);
    pt_str(o, "backend_type", ev->backend_type);
    pt_str(o, "command_tag", ev->command_tag);
    if (ev->session_start_us != INT64_MIN &&
        sbuf_addf(o, " session_start=%s", clock_format_rfc3339(ev->session_start_us, 0, ts)) < 0)
        return;
    pt_str(o, "vxid", ev->vxid);
    pt_int(o, "txid", ev->txid, -1);
    if (ev->severity != SEV_NONE && sbuf_addf(o, " severity=%s", severity_name(ev->severity)) < 0)
        return;
    if (ev->sqlstate[0] && sbuf_addf(o, " sqlstate=%s", ev->sqlstate) < 0)
        return;
    pt_str(o, "message", ev->message);
    pt_str(o, "detail", ev->detail);
    pt_str(o, "hint", ev->hint);
    pt_str(o, "internal_query", ev->internal_query);
    pt_int(o, "internal_pos", ev->internal_pos, -1);
    pt_str(o, "context", ev->context);
    pt_str(o, "statement", ev->statement);
    pt_int(o, "cursor_pos", ev->cursor_pos, -1);
    pt_str(o, "location", ev->location);
    pt_int(o, "leader_pid", ev->leader_pid, -1);
    if (ev->has_query_id && sbuf_addf(o, " query_id=%" PRId64, ev->query_id) < 0)
        return;
    if ((ev->flags & EVENT_INVALID_UTF8) && sbuf_addstr(o, " invalid_utf8=1") < 0)
        return;
    if ((ev->flags & EVENT_TRUNCATED) && sbuf_addstr(o, " truncated=1") < 0)
        return;
    if (ev->record_key && sbuf_addf(o, " record_key=%016" PRIx64, ev->record_key) < 0)
        return;
}

/* Feed one line of @data[at, at+n) (n excludes the '\n'). */
static inline void pt_feed(struct parser *p, const char *data, size_t at, size_t n, uint64_t lineno,
                           bool partial, struct sbuf *out)
{
    struct input_line ln = { 0 };
    struct event *ev;
    ln.offset = at;
    ln.end = at + n + (partial ? 0 : 1);
    if (n && data[at + n - 1] == '\r')
        n--;
    ln.text = span_make(data + at, n);
    ln.line = lineno;
    ln.partial = partial;
    ln.source = SPAN_LIT("test");
    parser_feed(p, &ln);
    while (parser_next(p, &ev) == PARSE_EVENT) {
        pt_render(ev, out);
        if (sbuf_addch(out, '\n') < 0)
            return;
    }
}

/* The counts and every reject sample of @st as text, to compare two runs. */
static inline void pt_stats_text(const struct parse_stats *st, struct sbuf *o)
{
    if (sbuf_addf(o,
                  "lines=%" PRIu64 " records=%" PRIu64 " events=%" PRIu64 " event_lines=%" PRIu64
                  " rejects=%" PRIu64 " reject_lines=%" PRIu64 " foreign=%" PRIu64 " blank=%" PRIu64
                  " skipped=%" PRIu64 " forced=%" PRIu64 " utf8=%" PRIu64 " truncated=%" PRIu64
                  "\n",
                  st->lines, st->records, st->events, st->event_lines, st->rejects,
                  st->reject_lines, st->foreign_lines, st->blank_lines, st->skipped_lines,
                  st->forced, st->invalid_utf8, st->truncated) < 0)
        return;
    for (size_t i = 0; i < st->nreasons; i++) {
        const struct parse_reason *r = &st->reasons[i];
        if (sbuf_addf(o, "%s: %" PRIu64 " records %" PRIu64 " lines\n", r->reason, r->records,
                      r->lines) < 0)
            return;
        for (size_t k = 0; k < r->nsamples; k++) {
            const struct parse_sample *sm = &r->samples[k];
            if (sbuf_addf(o, "  %" PRIu64 "@%" PRIu64 " %s ", sm->line, sm->offset,
                          sm->detail ? sm->detail : "-") < 0)
                return;
            pt_str(o, "text", span_make(sm->text, sm->text_len));
            if (sbuf_addch(o, '\n') < 0)
                return;
        }
    }
}

/* A checkpoint after a feed. */
struct pt_ck {
    uint64_t offset, line;
    size_t nskip;
};

/* pt_run() that feeds each line with parser_feed_ahead(), passing the next @window bytes
 * after it (at most; SIZE_MAX: all the rest) as what the input has read, and skips the
 * lines a format took with it. @window 0 feeds with parser_feed(), line by line (the
 * reference). After each feed that ends at line L, cks[L] (when @cks is not NULL; one slot
 * per line + 1) is the checkpoint, and *feeds counts the feeds. */
static inline struct parser *pt_run_ahead(const char *data, size_t len, const struct parser_opts *o,
                                          size_t window, struct sbuf *out, struct pt_ck *cks,
                                          uint64_t *feeds)
{
    struct diag d = DIAG_INIT;
    struct parser *p = parser_new(o, &d);
    struct event *ev;
    size_t at = 0;
    uint64_t lineno = 1;

    *feeds = 0;
    if (!p) {
        fprintf(stderr, "parser_new: %s\n", d.msg);
        return NULL;
    }
    while (at < len) {
        const char *nl = memchr(data + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (data + at)) : len - at;
        struct input_line ln = { 0 };
        ln.offset = at;
        ln.end = at + n + (nl ? 1 : 0);
        ln.text = span_make(data + at, n && data[at + n - 1] == '\r' ? n - 1 : n);
        ln.line = lineno;
        ln.partial = !nl;
        ln.source = SPAN_LIT("test");
        uint64_t took = 0;
        if (window) {
            size_t rest = len - (size_t)ln.end;
            took =
                parser_feed_ahead(p, &ln, span_make(data + ln.end, rest < window ? rest : window));
        } else {
            parser_feed(p, &ln);
        }
        (*feeds)++;
        const char *hint_at;
        size_t hint = parser_line_hint(p, &hint_at);
        if (hint && (took || hint_at != data + ln.end || hint > len - (size_t)ln.end - 1 ||
                     hint >= window || data[ln.end + hint] != '\n' ||
                     memchr(hint_at, '\n', hint) != NULL)) {
            /* parser_line_hint() must be where input_next() would end the next line */
            fprintf(stderr, "pt_run_ahead: wrong line hint %zu after line %" PRIu64 "\n", hint,
                    lineno);
            abort();
        }
        at = (size_t)ln.end;
        lineno += 1 + took;
        while (parser_next(p, &ev) == PARSE_EVENT) {
            pt_render(ev, out);
            if (sbuf_addch(out, '\n') < 0)
                break;
        }
        if (cks) {
            struct parse_checkpoint cp;
            parser_checkpoint(p, &cp);
            cks[lineno - 1] = (struct pt_ck){ cp.offset, cp.line, cp.nskip };
        }
    }
    parser_end(p);
    while (parser_next(p, &ev) == PARSE_EVENT) {
        pt_render(ev, out);
        if (sbuf_addch(out, '\n') < 0)
            break;
    }
    return p;
}

/* Parse a whole buffer line by line; events rendered into @out (one per line). Returns
 * the parser (ended, drained) for stats; the caller frees it. NULL if parser_new failed. */
static inline struct parser *pt_run(const char *data, size_t len, const struct parser_opts *o,
                                    struct sbuf *out)
{
    uint64_t feeds;
    return pt_run_ahead(data, len, o, 0, out, NULL, &feeds);
}

/* The accounting invariant of parse.h: every line is in exactly one of event / reject /
 * foreign / blank / skipped, and records == events + rejects. */
static inline bool pt_balanced(const struct parse_stats *st)
{
    return st->lines == st->event_lines + st->reject_lines + st->foreign_lines + st->blank_lines +
                            st->skipped_lines &&
           st->records == st->events + st->rejects;
}

/* The fuzz targets' check of a parse: the same bytes through two fresh parsers keep the
 * accounting invariant (pt_balanced()) and give the same events and counts (no state leaks
 * from one parser or file into the next: caches, static buffers). Returns false when
 * either fails (the fuzz targets abort then); true when @o gives no parser (bad options:
 * nothing to check). */
static inline bool pt_parse_twice_ok(const char *text, size_t len, const struct parser_opts *o)
{
    struct sbuf e[2] = { SBUF_INIT, SBUF_INIT }, s[2] = { SBUF_INIT, SBUF_INIT };
    bool ran = true, ok = true;
    for (int k = 0; k < 2 && ran; k++) {
        struct parser *q = pt_run(text, len, o, &e[k]);
        ran = q != NULL;
        if (!q)
            break;
        ok = ok && pt_balanced(parser_stats(q));
        pt_stats_text(parser_stats(q), &s[k]);
        parser_free(q);
    }
    if (ran)
        ok = ok && e[0].len == e[1].len && (!e[0].len || !memcmp(e[0].buf, e[1].buf, e[0].len)) &&
             s[0].len == s[1].len && (!s[0].len || !memcmp(s[0].buf, s[1].buf, s[0].len));
    for (int k = 0; k < 2; k++) {
        sbuf_release(&e[k]);
        sbuf_release(&s[k]);
    }
    return ok;
}

#endif
