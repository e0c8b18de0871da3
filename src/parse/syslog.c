/* SPDX-License-Identifier: MIT */
/*
 * syslog.c - PostgreSQL logs written through syslog (formats.md §5) and Heroku's
 * logplex (§6.4), on top of the stderr record core (stderrlog.h).
 *
 * A line is "<header> [N-M] <piece>": the header is RFC 3164 ("Feb 11 13:15:39 host
 * postgres[10808]: "), RFC 3339 (rsyslog's high-precision "2019-02-11T13:15:39.123456
 * +01:00 host postgres[10808]: "), RFC 5424 ("<134>1 2019-02-11T13:15:39.123456+01:00
 * host postgres 10808 - - "), one of journalctl's (short-precise "Feb 11
 * 13:15:39.123456 ", short-full "Mon 2019-02-11 13:15:39 CET ", short-unix
 * "1549887339.123456 ", then "host postgres[10808]: ") or logplex
 * ("2019-03-14T00:22:56+00:00 app[postgres.4849]: [GREEN] "). PostgreSQL sends each
 * record as one message, cut at every newline and before 900 bytes, each piece numbered
 * [N-M] (N per process and record, M from 1). So records are grouped by (host, ident, pid) and N:
 * piece 1 starts the record, later pieces are sub-lines (DETAIL ...), continuation lines (a TAB,
 * written "#011" by rsyslog) or the rest of a piece cut for length (joined without a
 * separator). Without sequence numbers (syslog_sequence_numbers = off) the stderr rules
 * apply per process. rsyslog's "#ooo" escapes of control characters are decoded.
 *
 * Times: the prefix's %m/%t wins; else the header's. An RFC 3164 header has no year
 * and no zone: the year is the current one (the previous one for a date in the
 * future, and it rolls forward when the month wraps), the zone --tz or else UTC (said
 * once on stderr).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "parse/stderrlog.h"

/* Records of different processes interleave; a record is complete when its process
 * starts the next one, or after this many lines without a piece for it. */
#define SYSLOG_WINDOW 1000u

/* A piece this long or longer that is followed by a piece without a TAB was most
 * likely cut for length (PG_SYSLOG_LIMIT = 900, cut at the last space before it). */
#define SYSLOG_SPLIT_MIN 600u
/* PG_SYSLOG_LIMIT (elog.c write_syslog()): a message is cut into pieces of at most this
 * many bytes, at the last white space before it when there is one; the next piece then
 * starts with that white space. */
#define SYSLOG_PIECE_MAX 900u
/* Bytes pg_mbcliplen() may take off a cut (a character it does not split). */
#define SYSLOG_CLIP_SLACK 8u

struct syslog_hdr {
    int64_t ts_us;
    int ts_frac;
    bool ts_partial; /* no zone (RFC 3164, or a zone --tz must resolve): local fields */
    int year;        /* with ts_partial: the header's year, 0 when it has none */
    int mon, day, hh, mi, ss;
    int64_t sub_us; /* with ts_partial: the fraction of the second */
    struct span host, ident;
    int64_t pid;     /* -1: none in the header (RFC 5424's PROCID "-") */
    bool has_seq;    /* [N-M] */
    bool chunk_only; /* [M]: sequence numbers off, message split */
    uint64_t seq, chunk;
    struct span body;
    struct span raw_body; /* before the [N-M] / [M] was taken off */
};

static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

/* Header times with a zone of their own (RFC 3339, RFC 5424) need none; journalctl's
 * short-full zone abbreviations resolve against it in detection. */
static const struct pgtime_tz utc_tz = { true, 0, NULL };

static bool digits2(const char *s, int *v)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return false;
    *v = (s[0] - '0') * 10 + (s[1] - '0');
    return true;
}

/* Up to 9 digits of a fraction at @s (after the '.'): adds the microseconds to *us and
 * returns how many digits there were (0: none). */
static size_t fraction_digits(const char *s, size_t len, int64_t *us)
{
    size_t k = 0;
    int64_t v = 0;
    while (k < len && k < 9 && s[k] >= '0' && s[k] <= '9') {
        if (k < 6)
            v = v * 10 + (s[k] - '0');
        k++;
    }
    for (size_t i = k; i < 6; i++)
        v *= 10;
    *us = k ? v : 0;
    return k;
}

/* "Feb 11 13:15:39 " / "Feb  1 13:15:39 ", and journalctl's "-o short-precise"
 * ("Feb 11 13:15:39.123456 "). Returns the length consumed or 0. */
static size_t rfc3164_time(struct span l, struct syslog_hdr *h)
{
    if (l.len < 16 || l.p[3] != ' ' || l.p[6] != ' ' || l.p[9] != ':' || l.p[12] != ':')
        return 0;
    size_t end = 15;
    if (l.p[15] == '.') {
        size_t k = fraction_digits(l.p + 16, l.len - 16, &h->sub_us);
        if (!k)
            return 0;
        end = 16 + k;
        h->ts_frac = k <= 3 ? 3 : 6;
    }
    if (end >= l.len || l.p[end] != ' ')
        return 0;
    const char *m = NULL;
    for (int i = 0; i < 12 && !m; i++)
        if (!memcmp(l.p, months + 3 * i, 3))
            m = months + 3 * i;
    if (!m)
        return 0;
    h->mon = (int)((m - months) / 3) + 1;
    char dd[2] = { l.p[4] == ' ' ? '0' : l.p[4], l.p[5] };
    if (!digits2(dd, &h->day) || h->day < 1 || h->day > 31 || !digits2(l.p + 7, &h->hh) ||
        !digits2(l.p + 10, &h->mi) || !digits2(l.p + 13, &h->ss) || h->hh > 23 || h->mi > 59 ||
        h->ss > 60)
        return 0;
    h->ts_partial = true;
    return end + 1;
}

/* journalctl's "-o short-full": "Mon 2019-02-11 13:15:39 CET " (a weekday, then the time
 * as PostgreSQL's %t writes it). A zone that @tz cannot resolve (an ambiguous or unknown
 * abbreviation and no --tz) leaves the local fields, as RFC 3164 does. Returns the
 * length consumed or 0. */
static size_t journal_full_time(struct span l, struct syslog_hdr *h, const struct pgtime_tz *tz)
{
    static const char days[] = "MonTueWedThuFriSatSun";
    if (l.len < 28 || l.p[3] != ' ' || l.p[8] != '-' || l.p[14] != ' ' || l.p[17] != ':')
        return 0;
    bool day = false;
    for (int i = 0; i < 7 && !day; i++)
        day = !memcmp(l.p, days + 3 * i, 3);
    if (!day)
        return 0;
    const char *t = l.p + 4;
    size_t n = l.len - 4;
    const char *zone_end = memchr(t + 20, ' ', n - 20 < 16 ? n - 20 : 16);
    if (!zone_end)
        return 0;
    struct span ts = span_make(t, (size_t)(zone_end - t));
    enum pgtime_status st = pgtime_parse(ts, tz, &h->ts_us, &h->ts_frac, NULL);
    if (st == PGTIME_BAD)
        return 0;
    if (st != PGTIME_OK) {
        int yh, yl;
        if (!digits2(t, &yh) || !digits2(t + 2, &yl) || !digits2(t + 5, &h->mon) ||
            !digits2(t + 8, &h->day) || !digits2(t + 11, &h->hh) || !digits2(t + 14, &h->mi) ||
            !digits2(t + 17, &h->ss) || h->mon < 1 || h->mon > 12 || h->day < 1 || h->day > 31 ||
            h->hh > 23 || h->mi > 59 || h->ss > 60)
            return 0;
        h->year = yh * 100 + yl;
        h->ts_us = INT64_MIN;
        h->ts_frac = 0;
        h->ts_partial = true;
    }
    return (size_t)(zone_end - l.p) + 1;
}

/* journalctl's "-o short-unix": "1549887339.123456 " (Unix seconds). Returns the length
 * consumed or 0. */
static size_t unix_time(struct span l, struct syslog_hdr *h)
{
    size_t k = 0;
    while (k < l.len && k < 24 && ((l.p[k] >= '0' && l.p[k] <= '9') || l.p[k] == '.'))
        k++;
    if (k < 9 || k >= l.len || l.p[k] != ' ' || !memchr(l.p, '.', k))
        return 0;
    if (pgtime_parse_epoch(span_make(l.p, k), &h->ts_us, &h->ts_frac) != PGTIME_OK)
        return 0;
    return k + 1;
}

/* "2019-03-14T00:22:56+00:00 " (RFC 3339). Returns the length consumed or 0. */
static size_t rfc3339_time(struct span l, struct syslog_hdr *h)
{
    if (l.len < 21 || l.p[4] != '-' || l.p[10] != 'T')
        return 0;
    const char *sp = memchr(l.p, ' ', l.len < 48 ? l.len : 48);
    if (!sp)
        return 0;
    if (pgtime_parse(span_make(l.p, (size_t)(sp - l.p)), &utc_tz, &h->ts_us, &h->ts_frac, NULL) !=
        PGTIME_OK)
        return 0;
    return (size_t)(sp - l.p) + 1;
}

/* "ident[pid]" or "ident[name.pid]" (logplex), optionally followed by ':'. */
static bool ident_pid(struct span tok, struct syslog_hdr *h)
{
    if (tok.len && tok.p[tok.len - 1] == ':')
        tok.len--;
    if (tok.len < 4 || tok.p[tok.len - 1] != ']')
        return false;
    const char *open = memchr(tok.p, '[', tok.len);
    if (!open || open == tok.p)
        return false;
    struct span inside = span_make(open + 1, (size_t)(tok.p + tok.len - 1 - (open + 1)));
    size_t dot = inside.len;
    while (dot > 0 && inside.p[dot - 1] != '.')
        dot--;
    struct span num = span_make(inside.p + dot, inside.len - dot);
    if (!span_to_i64(num, &h->pid) || h->pid < 0)
        return false;
    h->ident = span_make(tok.p, (size_t)(open - tok.p));
    return true;
}

/* The next space-separated token of *@rest (a token of RFC 5424's header: no space in
 * it), taken off with its space; false when there is none. */
static bool next_token(struct span *rest, struct span *tok)
{
    const char *sp = rest->len ? memchr(rest->p, ' ', rest->len) : NULL;
    if (!sp || sp == rest->p)
        return false;
    *tok = span_make(rest->p, (size_t)(sp - rest->p));
    *rest = span_make(sp + 1, rest->len - tok->len - 1);
    return true;
}

/* RFC 5424 after the <PRI>: "1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA "
 * (rsyslog's RSYSLOG_SyslogProtocol23Format, a syslog drain's messages), each field "-"
 * when absent; STRUCTURED-DATA is "-" or "[id name="value" ...]" elements, a value's '"',
 * '\' and ']' escaped with a backslash. The message may start with a byte order mark, and
 * rsyslog's template writes a space before it (the message's own first space).
 * Sets the header's fields and *@rest to the message; false when @rest is not that. */
static bool rfc5424_header(struct span *rest, struct syslog_hdr *h)
{
    struct span r = *rest, tok;
    if (r.len < 2 || r.p[0] != '1' || r.p[1] != ' ')
        return false;
    r = span_make(r.p + 2, r.len - 2);
    if (!next_token(&r, &tok))
        return false;
    if (!span_eq_lit(tok, "-")) {
        if (tok.len < 20 || tok.p[4] != '-' || tok.p[10] != 'T' ||
            pgtime_parse(tok, &utc_tz, &h->ts_us, &h->ts_frac, NULL) != PGTIME_OK)
            return false;
    }
    if (!next_token(&r, &tok))
        return false;
    h->host = span_eq_lit(tok, "-") ? SPAN_NULL : tok;
    if (!next_token(&r, &tok))
        return false;
    h->ident = span_eq_lit(tok, "-") ? SPAN_NULL : tok;
    if (!next_token(&r, &tok))
        return false;
    h->pid = -1;
    if (!span_eq_lit(tok, "-") && (!span_to_i64(tok, &h->pid) || h->pid < 0))
        h->pid = -1;           /* a PROCID that is not a process id: the prefix's %p, if any */
    if (!next_token(&r, &tok)) /* MSGID */
        return false;
    if (r.len && r.p[0] == '-') {
        r = span_make(r.p + 1, r.len - 1);
    } else if (r.len && r.p[0] == '[') {
        size_t i = 0;
        while (i < r.len && r.p[i] == '[') {
            bool quoted = false;
            for (i++; i < r.len; i++) {
                if (quoted && r.p[i] == '\\' && i + 1 < r.len)
                    i++;
                else if (r.p[i] == '"')
                    quoted = !quoted;
                else if (!quoted && r.p[i] == ']')
                    break;
            }
            if (i == r.len)
                return false;
            i++;
        }
        r = span_make(r.p + i, r.len - i);
    } else {
        return false;
    }
    if (r.len) {
        if (r.p[0] != ' ')
            return false;
        r = span_make(r.p + 1, r.len - 1);
    }
    /* rsyslog's template puts a space before its msg property, which starts with the space
     * after the sender's "postgres[pid]:": "- -  [3-1] ..." */
    if (r.len && r.p[0] == ' ')
        r = span_make(r.p + 1, r.len - 1);
    if (r.len >= 3 && !memcmp(r.p, "\xEF\xBB\xBF", 3)) {
        r = span_make(r.p + 3, r.len - 3);
        if (r.len && r.p[0] == ' ') /* (the message's own first space after the mark) */
            r = span_make(r.p + 1, r.len - 1);
    }
    *rest = r;
    return true;
}

/* @tz resolves a zone abbreviation in a header (journalctl's short-full); NULL: UTC. */
static bool parse_header(struct span l, struct syslog_hdr *h, const struct pgtime_tz *tz)
{
    memset(h, 0, sizeof(*h));
    h->ts_us = INT64_MIN;
    size_t at = 0;
    if (l.len && l.p[0] == '<') { /* <PRI> of a raw message */
        const char *gt = memchr(l.p, '>', l.len < 6 ? l.len : 6);
        if (!gt)
            return false;
        at = (size_t)(gt - l.p) + 1;
    }
    struct span rest = span_make(l.p + at, l.len - at);
    if (rfc5424_header(&rest, h))
        goto body;
    size_t n = rfc3164_time(rest, h);
    if (!n)
        n = rfc3339_time(rest, h);
    if (!n)
        n = journal_full_time(rest, h, tz ? tz : &utc_tz);
    if (!n)
        n = unix_time(rest, h);
    if (!n)
        return false;
    rest = span_make(rest.p + n, rest.len - n);

    /* [host] ident[pid][:] */
    const char *sp = memchr(rest.p, ' ', rest.len);
    if (!sp)
        return false;
    struct span tok = span_make(rest.p, (size_t)(sp - rest.p));
    if (!ident_pid(tok, h)) {
        h->host = tok;
        rest = span_make(sp + 1, rest.len - tok.len - 1);
        sp = memchr(rest.p, ' ', rest.len);
        if (!sp)
            return false;
        tok = span_make(rest.p, (size_t)(sp - rest.p));
        if (!ident_pid(tok, h))
            return false;
    }
    rest = span_make(sp + 1, rest.len - tok.len - 1);

    /* logplex: "[COLOR] " before the sequence number */
    if (rest.len > 3 && rest.p[0] == '[') {
        size_t k = 1;
        while (k < rest.len && ((rest.p[k] >= 'A' && rest.p[k] <= 'Z') || rest.p[k] == '_'))
            k++;
        if (k > 1 && k + 2 < rest.len && rest.p[k] == ']' && rest.p[k + 1] == ' ' &&
            rest.p[k + 2] == '[')
            rest = span_make(rest.p + k + 2, rest.len - k - 2);
    }
body:
    h->raw_body = rest;
    /* [N-M] or [M] */
    if (rest.len > 3 && rest.p[0] == '[' && rest.p[1] >= '0' && rest.p[1] <= '9') {
        const char *close = memchr(rest.p, ']', rest.len < 48 ? rest.len : 48);
        if (close && (size_t)(close - rest.p) + 1 < rest.len + 1) {
            struct span in = span_make(rest.p + 1, (size_t)(close - rest.p - 1));
            const char *dash = memchr(in.p, '-', in.len);
            int64_t a, b;
            bool ok;
            if (dash) {
                ok = span_to_i64(span_make(in.p, (size_t)(dash - in.p)), &a) &&
                     span_to_i64(span_make(dash + 1, (size_t)(in.p + in.len - dash - 1)), &b) &&
                     a >= 0 && b >= 1;
                if (ok) {
                    h->has_seq = true;
                    h->seq = (uint64_t)a;
                    h->chunk = (uint64_t)b;
                }
            } else {
                ok = span_to_i64(in, &a) && a >= 1;
                if (ok) {
                    h->chunk_only = true;
                    h->chunk = (uint64_t)a;
                }
            }
            if (ok) {
                size_t skip = (size_t)(close - rest.p) + 1;
                if (skip < rest.len && rest.p[skip] == ' ')
                    skip++;
                rest = span_make(rest.p + skip, rest.len - skip);
            }
        }
    }
    h->body = rest;
    return true;
}

/* rsyslog writes control characters as '#' and three octal digits ("#011" for TAB). */
static struct span decode_escapes(struct parser *p, struct span s)
{
    const char *hash = s.len ? memchr(s.p, '#', s.len) : NULL;
    if (!hash)
        return s;
    char *out = arena_alloc(parser_scratch(p), s.len);
    size_t o = 0;
    for (size_t i = 0; i < s.len; i++) {
        const char *d = s.p + i + 1;
        if (s.p[i] == '#' && i + 3 < s.len && d[0] >= '0' && d[0] <= '1' && d[1] >= '0' &&
            d[1] <= '7' && d[2] >= '0' && d[2] <= '7') {
            int v = (d[0] - '0') * 64 + (d[1] - '0') * 8 + (d[2] - '0');
            if (v < 0x20 || v == 0x7f) {
                out[o++] = (char)v;
                i += 3;
                continue;
            }
        }
        out[o++] = s.p[i];
    }
    return span_make(out, o);
}

/* journalctl shows a TAB as eight spaces (without -a): a piece that starts with eight
 * spaces started with the TAB PostgreSQL writes after every newline of a message. (A
 * piece cut for length starts with one white space, the last before the cut.) */
static struct span journal_tab(struct parser *p, struct span s)
{
    if (s.len < 8 || memcmp(s.p, "        ", 8) != 0)
        return s;
    char *out = arena_alloc(parser_scratch(p), s.len - 7);
    out[0] = '\t';
    memcpy(out + 1, s.p + 8, s.len - 8);
    return span_make(out, s.len - 7);
}

static uint64_t stream_of(const struct syslog_hdr *h)
{
    uint64_t k = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < h->host.len; i++)
        k = (k ^ (unsigned char)h->host.p[i]) * UINT64_C(0x100000001b3);
    k = (k ^ 0xff) * UINT64_C(0x100000001b3);
    for (size_t i = 0; i < h->ident.len; i++)
        k = (k ^ (unsigned char)h->ident.p[i]) * UINT64_C(0x100000001b3);
    return k;
}

/* Processes whose last numbered record was a foreign line (a message in another language,
 * another program's): its later pieces are foreign lines too, not pieces without their
 * record. A slot per (stream, pid) hash. */
#define SYSLOG_FOREIGN_SLOTS 64u

struct syslog_state {
    struct stderr_core *core;
    int year, last_mon; /* RFC 3164 year inference */
    bool year_known;
    bool zone_noted;
    struct {
        uint64_t who, seq; /* who: stream and pid mixed (0: empty) */
    } foreign[SYSLOG_FOREIGN_SLOTS];
};

static uint64_t foreign_who(uint64_t stream, int64_t pid)
{
    uint64_t w = (stream ^ (uint64_t)pid) * UINT64_C(0x9E3779B97F4A7C15);
    return w ? w : 1;
}

static void header_time(struct parser *p, struct syslog_state *st, struct syslog_hdr *h)
{
    if (!h->ts_partial)
        return;
    int year = h->year;
    if (year) {
        /* journalctl's short-full with a zone --tz must resolve: the header has the year */
    } else if (!st->year_known) {
        int y;
        unsigned m, d;
        int64_t now = clock_now_us();
        clock_civil_from_days(now / USEC_PER_DAY, &y, &m, &d);
        int64_t guess = clock_days_from_civil(y, (unsigned)h->mon, (unsigned)h->day) * USEC_PER_DAY;
        if (guess > now + 2 * USEC_PER_DAY)
            y--;
        st->year = y;
        st->year_known = true;
        year = y;
    } else {
        if (h->mon < st->last_mon && st->last_mon - h->mon > 6)
            st->year++; /* December -> January */
        year = st->year;
    }
    if (!h->year)
        st->last_mon = h->mon;
    const struct pgtime_tz *tz = parser_tz(p);
    if (!tz->set && !st->zone_noted && !stderr_core_has_time(st->core)) {
        /* once a process: tail reads a file with a new parser each time it grows (QA 29:
         * the note twice a second into the journal) */
        static atomic_bool noted;
        if (!atomic_exchange(&noted, true))
            log_note(h->year ? "syslog header times have a time zone pgsift cannot resolve; "
                               "taking them as UTC (pass --tz)"
                             : "syslog header times have no time zone; taking them as UTC "
                               "(pass --tz)");
        st->zone_noted = true;
    }
    int64_t local = clock_days_from_civil(year, (unsigned)h->mon, (unsigned)h->day) * 86400 +
                    (int64_t)(h->hh * 3600 + h->mi * 60 + h->ss);
    h->ts_us =
        (local - (tz->set ? pgtime_tz_offset_local(tz, local) : 0)) * USEC_PER_SEC + h->sub_us;
}

/* Whether @piece, after a piece of @prev bytes, is the rest of a message cut for length
 * at white space (the piece starts with it): PostgreSQL cut at the last white space
 * before SYSLOG_PIECE_MAX, so no other white space follows before that limit: the word
 * after it reaches (about) the limit. A piece after a newline starts with the TAB
 * PostgreSQL puts after every newline of a message (spaces where a shipper replaced
 * it), or with a prefix (a sub-line): its first word is short. */
static bool cut_at_space(size_t prev, struct span piece)
{
    if (!piece.len || (piece.p[0] != ' ' && piece.p[0] != '\t'))
        return false;
    size_t w = 1;
    while (w < piece.len && piece.p[w] != ' ' && piece.p[w] != '\t')
        w++;
    return prev + w + SYSLOG_CLIP_SLACK >= SYSLOG_PIECE_MAX;
}

/* A piece after the first of a record: a sub-line, a continuation line or the rest of
 * a piece cut for length. */
static void add_piece(struct parser *p, struct syslog_state *st, struct pending *rec,
                      struct span piece, bool account)
{
    struct line_prefix_match m;
    uint64_t *w = stderr_rec_wrapper(rec);
    size_t prev = (size_t)w[1];

    w[1] = piece.len;
    if (piece.len && piece.p[0] != '\t' && stderr_core_match(st->core, piece, &m) &&
        !lp_keyword_is_severity(m.kw) && stderr_rec_subline(p, rec, piece, &m, account))
        return;
    if (cut_at_space(prev, piece)) {
        /* the text goes on, its white space included ("SELECT" " length(...)") */
        stderr_rec_cont(p, rec, SPAN_LIT(""), piece, account);
        return;
    }
    if (piece.len && piece.p[0] == '\t')
        stderr_rec_cont(p, rec, SPAN_LIT("\n"), span_make(piece.p + 1, piece.len - 1), account);
    else
        stderr_rec_cont(p, rec, prev >= SYSLOG_SPLIT_MIN ? SPAN_LIT("") : SPAN_LIT("\n"), piece,
                        account);
}

/* The pieces after the first one of a message with embedded newlines (split off). */
static void more_pieces(struct parser *p, struct syslog_state *st, struct pending *rec,
                        struct span rest)
{
    while (rest.p) {
        const char *nl = memchr(rest.p, '\n', rest.len);
        struct span piece = nl ? span_make(rest.p, (size_t)(nl - rest.p)) : rest;
        add_piece(p, st, rec, piece, false);
        rest = nl ? span_make(nl + 1, rest.len - piece.len - 1) : SPAN_NULL;
    }
}

static void syslog_line(struct parser *p, void *state, const struct input_line *ln)
{
    struct syslog_state *st = state;
    struct syslog_hdr h;

    if (ln->text.len == 0) {
        parser_blank(p);
        return;
    }
    if (!parse_header(ln->text, &h, parser_tz(p))) {
        parser_foreign(p);
        return;
    }
    header_time(p, st, &h);
    struct line_prefix_match m;
    if (h.chunk_only && !stderr_core_match_current(st->core, h.body, &m) &&
        stderr_core_match(st->core, h.raw_body, &m)) {
        /* "[7] LOG:" with a '[%p] ' prefix: not a piece number. (With the current prefix
         * after the "[N] ", as syslog_split_messages = off writes it, a number it is: the
         * prefix must not turn to another one that takes "[N]" for a host.) */
        h.chunk_only = false;
        h.body = h.raw_body;
    }
    struct span body = decode_escapes(p, h.body);
    const char *nl = memchr(body.p, '\n', body.len);
    struct span first = nl ? span_make(body.p, (size_t)(nl - body.p)) : body;
    struct span rest = nl ? span_make(nl + 1, body.len - first.len - 1) : SPAN_NULL;
    struct stderr_ext ext = { h.ts_us, h.ts_frac, h.ts_partial, h.pid };
    uint64_t stream = stream_of(&h);

    /* "[N] <prefix>LOG:  <message>": with syslog_split_messages = off every message is one line
     * numbered [N] by its sequence number (embedded newlines as #012), not piece N */
    if (h.chunk_only && h.chunk > 1 && stderr_core_match(st->core, first, &m) &&
        lp_keyword_is_severity(m.kw))
        h.chunk_only = false;
    if ((h.has_seq || h.chunk_only) ? h.chunk > 1 : first.len && first.p[0] == ' ')
        first = journal_tab(p, first);
    if ((h.has_seq || h.chunk_only) && h.chunk > 1) {
        struct line_prefix_match m0 = { 0 };
        uint64_t key = stderr_core_key(&m0, first, &ext, stream);
        struct pending *rec = pending_find(p, key);
        if (!rec || (h.has_seq && stderr_rec_wrapper(rec)[0] != h.seq)) {
            uint64_t who = foreign_who(stream, h.pid);
            unsigned slot = (unsigned)(who % SYSLOG_FOREIGN_SLOTS);
            if (h.has_seq && st->foreign[slot].who == who && st->foreign[slot].seq == h.seq) {
                parser_foreign(p); /* a piece of a foreign message */
                return;
            }
            parser_reject(p, "syslog piece without its record", "piece %llu of message %llu",
                          (unsigned long long)h.chunk, (unsigned long long)h.seq);
            return;
        }
        add_piece(p, st, rec, first, true);
        more_pieces(p, st, rec, rest);
        return;
    }
    if (!stderr_core_match(st->core, first, &m)) {
        struct line_prefix_match m0 = { 0 };
        struct pending *rec = NULL;
        if (!h.has_seq && first.len && first.p[0] == '\t')
            rec = pending_find(p, stderr_core_key(&m0, first, &ext, stream));
        if (rec) {
            add_piece(p, st, rec, first, true);
            more_pieces(p, st, rec, rest);
        } else {
            parser_foreign(p); /* another program's message, or an unknown prefix */
            if (h.has_seq && h.chunk == 1) {
                uint64_t who = foreign_who(stream, h.pid);
                unsigned slot = (unsigned)(who % SYSLOG_FOREIGN_SLOTS);
                st->foreign[slot].who = who;
                st->foreign[slot].seq = h.seq;
            }
        }
        return;
    }
    /* the header's pid is the process; the prefix's %p says the same */
    struct line_prefix_match mk = { 0 };
    uint64_t key = stderr_core_key(&mk, first, &ext, stream);
    struct pending *rec;
    if (lp_keyword_is_severity(m.kw)) {
        rec = stderr_rec_begin(p, st->core, key, first, &m, &ext);
        stderr_rec_wrapper(rec)[0] = h.seq;
        stderr_rec_wrapper(rec)[1] = first.len;
    } else {
        rec = h.has_seq ? NULL : pending_find(p, key);
        if (!rec || !stderr_rec_subline(p, rec, first, &m, true)) {
            parser_reject(p, "sub-line without its record", "%s line of process %lld",
                          lp_keyword_name(m.kw), (long long)h.pid);
            return;
        }
        stderr_rec_wrapper(rec)[1] = first.len;
    }
    more_pieces(p, st, rec, rest);
}

static size_t syslog_sniff(const struct sniff_input *in, struct sbuf *note)
{
    struct span *bodies = xcalloc(in->n ? in->n : 1, sizeof(*bodies));
    size_t nb = 0, cont = 0;

    for (size_t i = 0; i < in->n; i++) {
        struct syslog_hdr h;
        if (!parse_header(in->lines[i], &h, NULL))
            continue;
        if ((h.has_seq || h.chunk_only) && h.chunk > 1)
            cont++;
        else
            bodies[nb++] = h.body;
    }
    size_t score = nb ? stderr_sniff_lines(bodies, nb, in->opts, note, true) : 0;
    free(bodies);
    if (!score && in->opts->prefix && nb + cont > in->n / 2)
        return 1; /* syslog lines, whose bodies the --prefix given does not fit: read them
                     as syslog, so that the hint is a prefix of the bodies, not one that
                     takes the header for part of the prefix (QA 29) */
    return score ? score + cont : 0;
}

static void *syslog_init(struct parser *p, const char *note)
{
    struct syslog_state *st = xcalloc(1, sizeof(*st));
    const char *given = parser_opts(p)->prefix;
    char *detected = given ? NULL : stderr_note_prefix(note);
    st->core = stderr_core_new(p, &(struct stderr_core_opts){
                                      .prefix = given ? given : detected,
                                      .forced = given != NULL,
                                      .window = SYSLOG_WINDOW,
                                      .wrapped = true,
                                  });
    free(detected);
    return st;
}

static void syslog_release(void *state)
{
    struct syslog_state *st = state;
    if (!st)
        return;
    stderr_core_free(st->core);
    free(st);
}

static void syslog_finish(struct parser *p, void *state, struct pending *rec)
{
    struct syslog_state *st = state;
    stderr_core_finish(p, st->core, rec);
}

/* At the end of a file that may still grow, a pending record may still get pieces:
 * syslog sends each piece as a message of its own, and a daemon writes them as they come.
 * So every pending record is held for the next run (QA 29: the rest of a record read by
 * the next ingest was rejected as pieces without their record, a statement lost its
 * lines and its fingerprint), unless the caller knows the file has been quiet
 * (parser_opts.end_live: tail's flush). */
static bool syslog_unterminated(const struct parser *p, const void *state)
{
    (void)state;
    return !parser_opts(p)->end_live;
}

static int syslog_check_opts(const struct parser_opts *o, struct diag *d)
{
    if (!o->prefix)
        return 0;
    struct line_prefix *lp = line_prefix_new(span_cstr(o->prefix), d);
    if (!lp)
        return -1;
    line_prefix_free(lp);
    return 0;
}

static void syslog_end(struct parser *p, void *state)
{
    (void)p;
    stderr_core_end(((struct syslog_state *)state)->core);
}

static const char *syslog_prefix(const void *state)
{
    return stderr_core_prefix(((const struct syslog_state *)state)->core);
}

const struct log_format fmt_syslog = {
    .name = "syslog",
    .description = "PostgreSQL through syslog (RFC 3164, RFC 3339 or RFC 5424 headers, "
                   "journalctl, [N-M] pieces), Heroku logplex",
    .hint = "syslog lines look like 'Feb 11 13:15:39 host postgres[10808]: [3-1] <prefix>LOG:  "
            "...'; pass the server's log_line_prefix with --prefix",
    .sniff = syslog_sniff,
    .check_opts = syslog_check_opts,
    .init = syslog_init,
    .release = syslog_release,
    .line = syslog_line,
    .finish = syslog_finish,
    .end = syslog_end,
    .unterminated = syslog_unterminated,
    .pending_size = sizeof(struct srec),
    .prefix = syslog_prefix,
};
