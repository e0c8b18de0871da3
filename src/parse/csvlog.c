/* SPDX-License-Identifier: MIT */
/*
 * csvlog.c - PostgreSQL csvlog (formats.md §2): 23 columns (PG ≤ 12), 24 (PG 13) or 26
 * (PG 14+), fields quoted with '"' and '""' for a quote, NULL written as nothing (so
 * `,,` is absent and `,"",` is empty), newlines kept literally inside quoted fields.
 *
 * A record that fits on one line is parsed in place (spans into the line; unescaped
 * copies only for fields containing '""'). A record whose quoted field runs past the
 * end of the line (auto_explain plans, multi-line queries) is, when its remaining lines
 * are already in the input's buffer (parser_ahead()), found by one scan of the quote and
 * newline bytes that follows the rules of the pending path below line by line, and parsed
 * in place as one span of the buffer (parser_extend()): no copy, no per-line calls.
 * Otherwise (the record crosses the end of the buffer, a line of it would be cut, has a
 * "\r\n" inside the record or looks like a record of its own) it becomes a pending
 * record: following lines are appended with the newline until the quote closes, then the
 * joined text is parsed the same way. Both give the same events, rejects and counts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/bytescan.h"
#include "core/xalloc.h"
#include "parse/parse_int.h"

#define CSV_MAX_FIELDS 27 /* one more than the most a record has, to detect extras */

struct csv_field {
    struct span s; /* raw bytes between the quotes, or the unquoted bytes; p NULL = absent */
    bool escaped;  /* contains '""' */
};

enum csv_result {
    CSV_OK,
    CSV_OPEN_QUOTE, /* the text ends inside a quoted field */
    CSV_BAD_QUOTE,  /* something other than ',' after a closing quote */
    CSV_TOO_MANY,   /* more than CSV_MAX_FIELDS - 1 fields */
};

#define CSV_SESSION_START_MAX 32 /* "2026-11-24 17:25:01 UTC" and longer zones */

struct csv_state {
    bool in_quote;    /* the pending record's text ends inside a quoted field */
    bool field_start; /* ... or at the start of a field */
    struct pgtime_cache log_time, session_start; /* columns 1 and 9 */
    /* session_start texts seen lately and what they parsed to: every record of a session
     * repeats its session's start, and sessions' records interleave (the one-entry
     * pgtime_cache sees a different second at every switch). Slot by the text's last
     * seconds digits; an entry is used only when its text is the same. */
    struct csv_session_start {
        unsigned char len; /* 0: empty slot */
        bool ok;
        char text[CSV_SESSION_START_MAX];
        int64_t us;
    } starts[16];
    /* The next line, split while looking past the current one (csv_look_ahead()); used
     * when it is fed as the line at this offset and address, with this length. */
    struct csv_next {
        const char *p; /* NULL: none */
        size_t len;
        uint64_t offset;
        bool plain, ascii;
        size_t nf;
        struct csv_field f[CSV_MAX_FIELDS];
    } next;
};

/* The structural bytes of a record, found 64 bytes at a time (core/bytescan.h): masks
 * of '"' and ',' for the window [base, base + 64) of the text, walked bit by bit, so a
 * field costs a bit scan, not a search of its own. */
struct csv_blocks {
    const char *start, *base, *end; /* start: of the text (readable before base) */
    uint64_t quotes, commas;        /* bits past end are clear */
};

static inline void csv_blocks_load(struct csv_blocks *b, const char *at)
{
    size_t n = (size_t)(b->end - at);
    b->base = at;
    bytescan_mask64(at, n < 64 ? n : 64, b->start, '"', ',', &b->quotes, &b->commas);
}

static inline void csv_blocks_init(struct csv_blocks *b, struct span t)
{
    b->start = t.p;
    b->end = t.p + t.len;
    csv_blocks_load(b, t.p);
}

enum { CSV_QUOTE = 1, CSV_COMMA = 2 };

/* The first of the bytes @which asks for ('"' with CSV_QUOTE, ',' with CSV_COMMA) at or
 * after @p (never before the current window), or NULL. Inlined with a constant @which. */
static inline const char *csv_blocks_find(struct csv_blocks *b, const char *p, int which)
{
    for (;;) {
        if (p >= b->end)
            return NULL;
        size_t off = (size_t)(p - b->base);
        if (off >= 64) {
            csv_blocks_load(b, p);
            off = 0;
        }
        uint64_t m =
            ((which & CSV_QUOTE ? b->quotes : 0) | (which & CSV_COMMA ? b->commas : 0)) >> off;
        if (m)
            return p + __builtin_ctzll(m);
        if (b->end - b->base <= 64)
            return NULL; /* (base + 64 would point past the end of the text) */
        p = b->base + 64;
    }
}

/* Split a complete record into fields, from @from (a field start) on with the @n fields
 * before it already split. CSV_OPEN_QUOTE leaves the open field's opening quote in
 * f[*nf - 1].s.p, where splitting a longer text can resume. */
static enum csv_result csv_split_at(struct span t, const char *from, struct csv_field *f, size_t n,
                                    size_t *nf)
{
    const char *p = from, *end = t.p + t.len;
    struct csv_blocks b;

    b.start = t.p;
    b.end = end;
    csv_blocks_load(&b, from);
    for (;;) {
        if (n == CSV_MAX_FIELDS)
            return CSV_TOO_MANY;
        struct csv_field *fl = &f[n++];
        if (p < end && *p == '"') {
            const char *start = ++p;
            bool esc = false;
            for (;;) {
                const char *q = csv_blocks_find(&b, p, CSV_QUOTE);
                if (!q) {
                    fl->s = span_make(start - 1, 0);
                    *nf = n;
                    return CSV_OPEN_QUOTE;
                }
                if (q + 1 < end && q[1] == '"') {
                    esc = true;
                    p = q + 2;
                    continue;
                }
                fl->s = span_make(start, (size_t)(q - start));
                fl->escaped = esc;
                p = q + 1;
                break;
            }
            if (p == end)
                break;
            if (*p != ',') {
                *nf = n;
                return CSV_BAD_QUOTE;
            }
            p++;
        } else if (p < end && *p == ',') {
            /* an empty field (NULL), the commonest: no search */
            fl->s = SPAN_NULL;
            fl->escaped = false;
            p++;
        } else {
            const char *q = csv_blocks_find(&b, p, CSV_COMMA);
            if (!q)
                q = end;
            fl->s = q > p ? span_make(p, (size_t)(q - p)) : SPAN_NULL;
            fl->escaped = false;
            if (q == end)
                break;
            p = q + 1;
        }
    }
    *nf = n;
    return CSV_OK;
}

static enum csv_result csv_split(struct span t, struct csv_field *f, size_t *nf)
{
    return csv_split_at(t, t.p, f, 0, nf);
}

bool csvlog_walk_only;

/* Bit i set iff an odd number of the bits 0..i of @x are set: with @x the quotes of a
 * window, the bytes from an opening quote up to (not including) its closing quote. */
static inline uint64_t prefix_xor(uint64_t x)
{
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    return x;
}

static inline void csv_field_set(struct csv_field *fl, const char *s, size_t a, size_t b, bool esc)
{
    if (a == b)
        fl->s = SPAN_NULL;
    else if (s[a] == '"')
        fl->s = span_make(s + a + 1, b - a - 2); /* (the plain shape: s[b - 1] closes it) */
    else
        fl->s = span_make(s + a, b - a);
    fl->escaped = esc;
}

enum csv_plain {
    CSV_PLAIN,     /* the line is a record of the plain shape: fields set */
    CSV_NOT_PLAIN, /* the line's length is known, its fields are left to csv_split() */
    CSV_NO_LINE,   /* (@need_nl) no usable line end: none within SIFT_MAX_LINE_BYTES, an
                      empty line or one ending "\r\n" (input_next() decides those) */
};

/* csv_split() of a one-line record of the plain shape, by masks alone: each 64-byte
 * window gives the quotes, commas, newlines and bytes >= 0x80 (core/bytescan.h); the
 * quotes' running parity says which bytes are inside a quoted field, so the commas
 * outside are the separators, walked bit by bit with no per-byte or per-quote branches.
 * The plain shape, checked on the masks: every quote either opens a field (at the
 * record's start or after a separator) or follows a closing quote (the second of a '""'
 * pair, which re-opens the field), every closing quote is followed by a separator, a
 * quote or the end, no quote is open at the end, and there are at most
 * CSV_MAX_FIELDS - 1 fields. For such a record the fields are exactly csv_split()'s (a
 * quote anywhere else is what that walk treats specially: text in an unquoted field,
 * text after a closing quote); for any other CSV_NOT_PLAIN, and csv_split() decides.
 *
 * The line is @t up to its first '\n' (*line_len bytes), or all of @t when it has none
 * and !@need_nl (the current line). With @need_nl (@t = the bytes after the current line,
 * readable from @lo on) this is also where input_next() would end the next line: the
 * scan that splits it finds its end, so neither is searched twice. *ascii: no byte
 * >= 0x80 in the line (it needs no UTF-8 check). */
static inline __attribute__((always_inline)) enum csv_plain
csv_split_plain_with(struct span t, const char *lo, bool need_nl, struct csv_field *f, size_t *nf,
                     bool *ascii, size_t *line_len, bool avx2)
{
    const char *s = t.p;
    size_t len = t.len, n = 0, fstart = 0, line = 0;
    uint64_t in_carry = 0; /* all ones: the previous window ended inside a quote */
    uint64_t prev_sc = 1;  /* bit 0: the byte before the window is a separator or a closing
                              quote (the record's start counts as a separator) */
    uint64_t prev_close = 0, hi = 0, bad = csvlog_walk_only;
    uint32_t esc = 0; /* fields with a '""' */

    for (size_t base = 0;; base += 64) {
        if (base >= len) {
            if (need_nl)
                return CSV_NO_LINE;
            line = len;
            break;
        }
        if (base > SIFT_MAX_LINE_BYTES)
            return CSV_NO_LINE;
        size_t w = len - base < 64 ? len - base : 64;
        uint64_t q, c, nl;
        uint64_t h;
#ifdef BYTESCAN_HAVE_AVX2
        if (avx2)
            h = bytescan_mask64x_avx2_inline(s + base, w, lo, '"', ',', '\n', &q, &c, &nl);
        else
#endif
            h = bytescan_mask64x(s + base, w, lo, '"', ',', '\n', &q, &c, &nl);
        if (nl) { /* the line ends in this window */
            w = (size_t)__builtin_ctzll(nl);
            uint64_t keep = (UINT64_C(1) << w) - 1;
            q &= keep;
            c &= keep;
            h &= keep;
        }
        hi |= h;
        uint64_t in = in_carry, sep = c;
        if (q) {
            in ^= prefix_xor(q);
            uint64_t open = q & in, close = q & ~in;
            sep = c & ~in;
            uint64_t after_close = close << 1 | prev_close;
            uint64_t valid = w == 64 ? ~UINT64_C(0) : (UINT64_C(1) << w) - 1;
            bad |= open & ~((sep | close) << 1 | prev_sc);
            bad |= after_close & ~(sep | open) & valid;
            for (uint64_t d = open & after_close; d; d &= d - 1) {
                size_t k = n + (size_t)__builtin_popcountll(sep & ((d & -d) - 1));
                if (k < 32)
                    esc |= UINT32_C(1) << k;
            }
            prev_sc = (sep | close) >> 63;
            prev_close = close >> 63;
        } else {
            if (in)
                sep = 0;
            if (w)
                bad |= prev_close & ~sep; /* (bit 0: the byte after a closing quote) */
            prev_sc = sep >> 63;
            prev_close = 0;
        }
        in_carry = (uint64_t)((int64_t)in >> 63);
        for (; sep; sep &= sep - 1) {
            size_t at = base + (size_t)__builtin_ctzll(sep);
            if (n + 2 >= CSV_MAX_FIELDS) {
                bad = 1; /* (the walk counts what is too many) */
                break;
            }
            csv_field_set(&f[n], s, fstart, at, esc >> n & 1);
            n++;
            fstart = at + 1;
        }
        if (nl) {
            line = base + w;
            break;
        }
    }
    if (need_nl && (line == 0 || line > SIFT_MAX_LINE_BYTES || s[line - 1] == '\r'))
        return CSV_NO_LINE;
    *line_len = line;
    if (bad || in_carry || (!need_nl && line != len))
        return CSV_NOT_PLAIN;
    csv_field_set(&f[n], s, fstart, line, esc >> n & 1);
    *nf = n + 1;
    *ascii = hi == 0;
    return CSV_PLAIN;
}

#ifdef BYTESCAN_HAVE_AVX2
/* csv_split_plain() compiled for AVX2, its masks inline: 1.5 % of a csvlog ingest was
 * the call per 64 bytes and its masks passed through memory (docs/performance.md,
 * session 25). */
__attribute__((target("avx2"))) static enum csv_plain
csv_split_plain_avx2(struct span t, const char *lo, bool need_nl, struct csv_field *f, size_t *nf,
                     bool *ascii, size_t *line_len)
{
    return csv_split_plain_with(t, lo, need_nl, f, nf, ascii, line_len, true);
}
#endif

static enum csv_plain csv_split_plain(struct span t, const char *lo, bool need_nl,
                                      struct csv_field *f, size_t *nf, bool *ascii,
                                      size_t *line_len)
{
#ifdef BYTESCAN_HAVE_AVX2
    if (bytescan_use_avx2())
        return csv_split_plain_avx2(t, lo, need_nl, f, nf, ascii, line_len);
#endif
    return csv_split_plain_with(t, lo, need_nl, f, nf, ascii, line_len, false);
}

/* Carry the quote state over one more line of a pending record. Byte by byte this is:
 * in a quote, '""' stays in it and '"' leaves it; outside, ',' starts a field, '"' at a
 * field start opens a quote, anything else is field text. */
static void csv_scan(struct span t, struct csv_state *st)
{
    const char *p = t.p, *end = t.p + t.len;
    struct csv_blocks b;

    csv_blocks_init(&b, t);
    while (p < end) {
        if (st->in_quote) {
            const char *q = csv_blocks_find(&b, p, CSV_QUOTE);
            if (!q)
                return;
            if (q + 1 < end && q[1] == '"') {
                p = q + 2;
                continue;
            }
            st->in_quote = false;
            st->field_start = false;
            p = q + 1;
            continue;
        }
        const char *q = csv_blocks_find(&b, p, CSV_QUOTE | CSV_COMMA);
        if (!q) {
            st->field_start = false; /* p < end: field text up to the end */
            return;
        }
        if (q > p)
            st->field_start = false;
        if (*q == ',')
            st->field_start = true;
        else if (st->field_start)
            st->in_quote = true;
        else
            st->field_start = false;
        p = q + 1;
    }
}

/* @k bytes from @src to @dst, 16 at a time when whole chunks of 16 can be read before
 * @end (the last chunk may write up to 15 bytes past dst + k: csv_value() leaves room). */
static inline void csv_copy_run(char *dst, const char *src, size_t k, const char *end)
{
    if ((size_t)(end - src) >= k + 15) {
        for (size_t i = 0; i < k; i += 16)
            memcpy(dst + i, src + i, 16);
    } else {
        memcpy(dst, src, k);
    }
}

/* A field's value: the raw span, or '""' collapsed into a scratch copy. A quoted field
 * holds quotes only in such pairs: the second quote of each is found by the running
 * parity of a 64-byte window's quotes (with the window before's), and the bytes between
 * them are copied in runs, without a search or a call per pair. */
static inline struct span csv_value(struct parser *p, const struct csv_field *f)
{
    if (!f->escaped)
        return f->s;
    const char *s = f->s.p, *end = f->s.p + f->s.len;
    char *out = arena_alloc(parser_scratch(p), f->s.len + 16);
    size_t n = 0, pos = 0, len = f->s.len;
    uint64_t odd = 0; /* all ones: the window before ended between a pair's two quotes */
    for (size_t base = 0; base < len; base += 64) {
        size_t w = len - base < 64 ? len - base : 64;
        uint64_t q, unused;
        bytescan_mask64(s + base, w, s, '"', '"', &q, &unused);
        uint64_t par = prefix_xor(q) ^ odd; /* bit i: an odd number of quotes up to i */
        odd = (uint64_t)0 - ((par >> (w - 1)) & 1);
        for (uint64_t second = q & ~par; second; second &= second - 1) {
            size_t at = base + (size_t)__builtin_ctzll(second);
            csv_copy_run(out + n, s + pos, at - pos, end);
            n += at - pos;
            pos = at + 1;
        }
    }
    csv_copy_run(out + n, s + pos, len - pos, end);
    n += len - pos;
    out[n] = '\0';
    return span_make(out, n);
}

/* A number column; empty ("" from re-quoting tools) counts as absent like NULL. */
static bool int_field(struct span s, int64_t *out)
{
    return s.p && s.len && span_to_i64_short(s, out);
}

/* a[0, n) == b[0, n) for 16 <= n <= 32 (a session start, 23 bytes with "UTC") as four
 * 8-byte compares, the last two overlapping, instead of a memcmp() call per record. */
static inline bool eq_16_32(const char *a, const char *b, size_t n)
{
    uint64_t x[4], y[4];
    memcpy(&x[0], a, 8);
    memcpy(&x[1], a + 8, 8);
    memcpy(&x[2], a + n - 16, 8);
    memcpy(&x[3], a + n - 8, 8);
    memcpy(&y[0], b, 8);
    memcpy(&y[1], b + 8, 8);
    memcpy(&y[2], b + n - 16, 8);
    memcpy(&y[3], b + n - 8, 8);
    return !((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]));
}

/* Column 9, session_start, as pgtime_parse_cached() parses it (remembered per text). */
static bool csv_session_start(struct parser *p, struct csv_state *st, struct span t, int64_t *us)
{
    struct csv_session_start *c = NULL;
    if (t.len >= 6 && t.len <= CSV_SESSION_START_MAX) {
        c = &st->starts[((unsigned)(unsigned char)t.p[t.len - 6] * 10u +
                         (unsigned char)t.p[t.len - 5]) &
                        15u];
        if (c->len == t.len &&
            (t.len >= 16 ? eq_16_32(c->text, t.p, t.len) : !memcmp(c->text, t.p, t.len))) {
            *us = c->us;
            return c->ok;
        }
    }
    int frac;
    bool ok =
        pgtime_parse_cached(&st->session_start, t, parser_tz(p), us, &frac, NULL) == PGTIME_OK;
    if (c) {
        c->len = (unsigned char)t.len;
        c->ok = ok;
        memcpy(c->text, t.p, t.len);
        c->us = ok ? *us : 0;
    }
    return ok;
}

/* Fill @ev from the fields; returns NULL or the reject reason (detail in @why). */
static const char *csv_build(struct parser *p, struct csv_state *st, struct event *ev,
                             const struct csv_field *f, size_t nf, const char **why)
{
    int64_t v;

    *why = NULL;
    if (nf != 23 && nf != 24 && nf != 26)
        return "wrong number of columns";
    enum pgtime_status ts = pgtime_parse_cached(&st->log_time, f[0].s.p ? f[0].s : SPAN_LIT(""),
                                                parser_tz(p), &ev->ts_us, &ev->ts_frac, NULL);
    if (ts != PGTIME_OK)
        return pgtime_status_reason(ts);
    if (!int_field(f[3].s, &ev->pid)) {
        *why = "process_id";
        return "bad number";
    }
    ev->user = csv_value(p, &f[1]);
    ev->database = csv_value(p, &f[2]);
    parser_set_client(ev, f[4].s);
    ev->session_id = f[5].s;
    if (int_field(f[6].s, &v))
        ev->session_line = v;
    ev->command_tag = csv_value(p, &f[7]);
    if (f[8].s.p && csv_session_start(p, st, f[8].s, &v))
        ev->session_start_us = v;
    ev->vxid = f[9].s;
    if (int_field(f[10].s, &v))
        ev->txid = v;
    if (f[11].s.p && !parser_severity(f[11].s, &ev->severity))
        ev->severity = SEV_NONE;
    if (f[12].s.p)
        parser_set_sqlstate(ev, f[12].s);
    ev->message = csv_value(p, &f[13]);
    ev->detail = csv_value(p, &f[14]);
    ev->hint = csv_value(p, &f[15]);
    ev->internal_query = csv_value(p, &f[16]);
    if (int_field(f[17].s, &v) && v > 0 && v <= INT32_MAX)
        ev->internal_pos = (int32_t)v;
    ev->context = csv_value(p, &f[18]);
    ev->statement = csv_value(p, &f[19]);
    if (int_field(f[20].s, &v) && v > 0 && v <= INT32_MAX)
        ev->cursor_pos = (int32_t)v;
    ev->location = csv_value(p, &f[21]);
    /* jsonlog omits an empty application_name and csv writes ""; both mean "none", so
     * the two formats give the same event. */
    ev->application = f[22].s.len ? csv_value(p, &f[22]) : SPAN_NULL;
    if (nf >= 24)
        ev->backend_type = csv_value(p, &f[23]);
    if (nf >= 26) {
        if (int_field(f[24].s, &v))
            ev->leader_pid = v;
        if (f[25].s.p && f[25].s.len) {
            if (!span_to_i64(f[25].s, &v)) {
                *why = "query_id";
                return "bad number";
            }
            ev->query_id = v;
            ev->has_query_id = v != 0;
        }
    }
    return NULL;
}

static const char *split_reason(enum csv_result r)
{
    switch (r) {
    case CSV_OPEN_QUOTE: return "unterminated quoted field";
    case CSV_BAD_QUOTE: return "text after closing quote";
    case CSV_TOO_MANY: return "wrong number of columns";
    case CSV_OK: break;
    }
    return "bad csv";
}

/* Turn a split record (a line or a pending record's text) into an event or a reject. */
static void csv_emit(struct parser *p, struct csv_state *st, struct event *ev, struct span text,
                     enum csv_result r, const struct csv_field *f, size_t nf, bool ascii)
{
    const char *why = NULL;
    const char *reason = r != CSV_OK ? split_reason(r) : csv_build(p, st, ev, f, nf, &why);

    if (reason) {
        parser_event_abort(p, ev);
        if (!strcmp(reason, "wrong number of columns"))
            parser_reject(p, reason, "expected 23, 24 or 26, got %s%zu",
                          r == CSV_TOO_MANY ? "more than " : "",
                          r == CSV_TOO_MANY ? (size_t)CSV_MAX_FIELDS - 1 : nf);
        else if (why)
            parser_reject(p, reason, "%s", why);
        else
            parser_reject(p, reason, NULL);
        return;
    }
    if (!ascii)
        parser_check_utf8(ev, text);
    parser_event_commit(p, ev);
}

/* Does this line look like the start of a csvlog record? Timestamp, zone, ',' and at
 * least 12 more commas (the columns up to sql_state_code); used by sniff, and with a
 * quote by csv_may_start(). */
static bool csv_record_start(struct span t)
{
    struct span s = t;
    if (s.len && s.p[0] == '"')
        s = span_sub(s, 1, s.len - 1);
    /* what the checks below imply (a comma at 19 or later after a time starting
     * "dddd-"), first: most lines that get here are a plan's or a query's */
    if (s.len < 20 || s.p[0] < '0' || s.p[0] > '9' || s.p[4] != '-')
        return false;
    long comma = span_find_char(s, 0, ',');
    if (comma < 19 || comma > 40)
        return false;
    struct span ts = span_sub(s, 0, (size_t)comma);
    if (ts.len && ts.p[ts.len - 1] == '"')
        ts.len--;
    int64_t us;
    int frac;
    struct pgtime_tz any = { true, 0 };
    if (pgtime_parse(ts, &any, &us, &frac, NULL) != PGTIME_OK)
        return false;
    size_t commas = 0;
    for (const char *q = s.p; q && commas < 12;) {
        q = memchr(q, ',', (size_t)(s.p + s.len - q));
        if (q) {
            commas++;
            q++;
        }
    }
    return commas >= 12;
}

/* Does @t hold a quote that would close a quoted field open at its start - one that is
 * not half of a '""' pair? */
static bool csv_lone_quote(struct span t)
{
    const char *p = t.p, *end = t.p + t.len;
    while ((p = memchr(p, '"', (size_t)(end - p))) != NULL) {
        const char *q = p;
        while (q < end && *q == '"')
            q++;
        if ((q - p) & 1)
            return true;
        p = q;
    }
    return false;
}

/* Does this line start a csvlog record, even inside a quoted field that never closed?
 * csv_record_start(), and a quote that would close that field: csvlog doubles every
 * quote inside a value, so a line of a statement or message never holds one, whatever
 * the statement says (a line of SQL text that looks like a record is text), while the
 * first line of every record the server writes does (its message is quoted, and so are
 * its user and database). This resynchronises the parser after a damaged or cut record,
 * and is where a file is cut into parts (pipeline_par.c). */
static bool csv_may_start(struct span t)
{
    return csv_record_start(t) && csv_lone_quote(t);
}

/* Would the pending path end a record before the line at @line (one of the lines after
 * the record's first, in a buffer ending at @end)? csv_record_start() of the line as
 * input_next() would return it (csv_may_start()), after a cheap look at its first bytes (a plan's
 * or a query's lines rarely start with a digit and a '-' 4 bytes on). true also when the line does
 * not end in the buffer (the caller then leaves the record to that path). */
static inline bool csv_line_ends_record(const char *line, const char *end)
{
    const char *s = line < end && *line == '"' ? line + 1 : line;
    if (end - s > 4 && (s[0] < '0' || s[0] > '9' || s[4] != '-'))
        return false;
    const char *nl = memchr(line, '\n', (size_t)(end - line));
    if (!nl)
        return true;
    size_t n = (size_t)(nl - line);
    if (n > SIFT_MAX_LINE_BYTES)
        return true;
    if (n && line[n - 1] == '\r')
        n--;
    return csv_may_start(span_make(line, n));
}

/* The end of a record whose quoted field is open at the end of its first line, among the
 * complete lines @a that follow it in the input's buffer (readable from @lo on): one pass
 * over the '"' and '\n' bytes (core/bytescan.h masks) deciding line by line what the
 * pending path (csv_line() with a record pending, csv_scan()) decides. Returns true with
 * the bytes of @a up to and including the '\n' of the record's last line and how many
 * lines that is; false when the pending path must handle the record: it does not end in
 * @a, or on its way a line would be cut (SIFT_MAX_LINE_BYTES), ends in "\r\n" inside the
 * record (the pending text drops the '\r') or looks like a new record (a quote that never
 * closed: the pending path rejects the record and resynchronises there). *close: the
 * quote that closes the first line's open field (the one csv_split_at() would find). */
static bool csv_record_end(struct span a, const char *lo, size_t *bytes, uint64_t *lines,
                           const char **close)
{
    const char *p = a.p, *end = a.p + a.len, *line = a.p, *base = a.p;
    uint64_t quotes = 0, nls = 0, n = 0;
    bool in_quote = true; /* the open field of the first line */

    *close = NULL;
    if (csv_line_ends_record(line, end))
        return false;
    bytescan_mask64(base, a.len < 64 ? a.len : 64, lo, '"', '\n', &quotes, &nls);
    for (;;) {
        size_t off = (size_t)(p - base);
        if (off >= 64) {
            if (p >= end)
                return false;
            base = p;
            off = 0;
            size_t left = (size_t)(end - p);
            bytescan_mask64(base, left < 64 ? left : 64, lo, '"', '\n', &quotes, &nls);
        }
        uint64_t m = (quotes | nls) >> off;
        if (!m) {
            if (end - base <= 64)
                return false;
            p = base + 64;
            continue;
        }
        const char *q = p + __builtin_ctzll(m);
        if (*q == '"') {
            if (in_quote) {
                if (q + 1 >= end)
                    return false;
                if (q[1] == '"') {
                    p = q + 2; /* '""' stays in the quote */
                    continue;
                }
                in_quote = false;
                if (!*close)
                    *close = q;
            } else if (q[-1] == ',') {
                /* (q > line: outside a quote only after a closing quote on this line) */
                in_quote = true; /* a quote at a field start opens a field */
            }
            p = q + 1;
            continue;
        }
        /* the end of a line */
        n++;
        size_t len = (size_t)(q - line);
        if (len > SIFT_MAX_LINE_BYTES)
            return false;
        if (!in_quote) {
            *bytes = (size_t)(q + 1 - a.p);
            *lines = n;
            return true;
        }
        if (len && q[-1] == '\r')
            return false;
        line = q + 1;
        if (csv_line_ends_record(line, end))
            return false;
        p = line;
    }
}

static size_t csv_sniff(const struct sniff_input *in, struct sbuf *note)
{
    size_t n = 0;
    (void)note;
    for (size_t i = 0; i < in->n; i++)
        n += csv_record_start(in->lines[i]);
    return n;
}

static void *csv_init(struct parser *p, const char *note)
{
    (void)p;
    (void)note;
    return xcalloc(1, sizeof(struct csv_state));
}

static void csv_release(void *state)
{
    free(state);
}

/* After the current line @ln (a record, nothing pending): split the next line from the
 * bytes after it (@a, parser_ahead() as it was before the line was accounted) while
 * finding where it ends, keep the fields for its csv_line(), and tell the caller of the
 * feed where it ends (parser_hint_line(): input_next() then need not search for it). */
static void csv_look_ahead(struct parser *p, struct csv_state *st, const struct input_line *ln,
                           struct span a)
{
    struct csv_next *nx = &st->next;
    size_t len = 0;
    if (!a.len)
        return;
    enum csv_plain r = csv_split_plain(a, ln->text.p, true, nx->f, &nx->nf, &nx->ascii, &len);
    if (r == CSV_NO_LINE)
        return;
    nx->p = a.p;
    nx->len = len;
    nx->offset = ln->end;
    nx->plain = r == CSV_PLAIN;
    parser_hint_line(p, a.p, len);
}

static void csv_line(struct parser *p, void *state, const struct input_line *ln)
{
    struct csv_state *st = state;
    struct pending *rec = pending_oldest(p);
    const char *next = st->next.p;

    st->next.p = NULL; /* (one line only) */
    if (rec) {
        /* A truncated line loses the quote state; a line that is clearly a new record
         * (csv_may_start()) means the open quote never closed (damaged or cut file).
         * Either way the pending record ends here and is rejected by the split. */
        if (ln->truncated || csv_may_start(ln->text)) {
            pending_finish(p, rec);
            rec = NULL;
        } else {
            pending_append(rec, SPAN_LIT("\n"));
            pending_add(p, rec, ln->text);
            csv_scan(ln->text, st);
            if (!st->in_quote)
                pending_finish(p, rec);
            return;
        }
    }
    if (ln->text.len == 0) {
        parser_blank(p);
        return;
    }
    if (ln->truncated) {
        parser_reject(p, "line too long", "longer than %u bytes", SIFT_MAX_LINE_BYTES);
        return;
    }
    struct span a = parser_ahead(p);
    struct csv_field f[CSV_MAX_FIELDS];
    size_t nf = 0, line;
    bool ascii;
    if (next && next == ln->text.p && st->next.len == ln->text.len &&
        st->next.offset == ln->offset) {
        /* split while the line before was handled */
        if (st->next.plain) {
            csv_emit(p, st, parser_event_begin(p, ln), ln->text, CSV_OK, st->next.f, st->next.nf,
                     st->next.ascii);
            csv_look_ahead(p, st, ln, a);
            return;
        }
    } else if (csv_split_plain(ln->text, ln->text.p, false, f, &nf, &ascii, &line) == CSV_PLAIN) {
        csv_emit(p, st, parser_event_begin(p, ln), ln->text, CSV_OK, f, nf, ascii);
        csv_look_ahead(p, st, ln, a);
        return;
    }
    enum csv_result r = csv_split(ln->text, f, &nf);
    if (r == CSV_OPEN_QUOTE) {
        /* The rest of the record in the buffer already? (A first line ending "\r\n" is
         * left to the pending path, which joins the lines without their '\r'.) */
        size_t bytes;
        uint64_t lines;
        const char *close;
        if (a.len && ln->end - ln->offset == ln->text.len + 1 &&
            csv_record_end(a, ln->text.p, &bytes, &lines, &close) &&
            (size_t)(a.p + bytes - ln->text.p) <= SIFT_MAX_RECORD_BYTES / 2) {
            const struct input_line *x = parser_extend(p, bytes, lines);
            /* The open field ends at the quote csv_record_end() saw close it: what
             * csv_split_at() from its opening quote finds, without walking the field's
             * quotes again (a plan's '""' pairs); a quote inside it is one of a pair. */
            const char *start = f[nf - 1].s.p + 1, *xend = x->text.p + x->text.len;
            f[nf - 1].s = span_make(start, (size_t)(close - start));
            f[nf - 1].escaped = memchr(start, '"', (size_t)(close - start)) != NULL;
            if (close + 1 == xend)
                r = CSV_OK;
            else if (close[1] != ',')
                r = CSV_BAD_QUOTE;
            else
                r = csv_split_at(x->text, close + 2, f, nf, &nf);
            csv_emit(p, st, parser_event_begin(p, x), x->text, r, f, nf, false);
            return;
        }
        st->in_quote = true;
        st->field_start = false;
        pending_start(p, 0, ln->text);
        return;
    }
    csv_emit(p, st, parser_event_begin(p, ln), ln->text, r, f, nf, false);
}

static void csv_finish(struct parser *p, void *state, struct pending *rec)
{
    struct csv_state *st = state;

    struct csv_field f[CSV_MAX_FIELDS];
    size_t nf = 0;
    struct span text = sbuf_span(&rec->text);
    enum csv_result r = csv_split(text, f, &nf);

    st->in_quote = false;
    st->field_start = false;
    csv_emit(p, st, parser_event_begin_pending(p, rec), text, r, f, nf, false);
}

/* The pending record ends inside a quoted field: the rest of it is still to come. */
static bool csv_unterminated(const struct parser *p, const void *state)
{
    const struct csv_state *st = state;
    (void)p;
    return st->in_quote;
}

const struct log_format fmt_csvlog = {
    .name = "csvlog",
    .description = "PostgreSQL csvlog (log_destination = 'csvlog'), PG 9.0-18",
    .hint = "csvlog records start with the log time and have 23, 24 or 26 columns; "
            "for the .log file of the stderr destination use --format stderr",
    .sniff = csv_sniff,
    .init = csv_init,
    .release = csv_release,
    .line = csv_line,
    .finish = csv_finish,
    .unterminated = csv_unterminated,
    .may_start = csv_may_start, /* (the same test that resynchronises the parser) */
};
