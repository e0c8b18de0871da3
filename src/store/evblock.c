/* SPDX-License-Identifier: MIT */
/*
 * Packed event blocks: encoder and bounds-checked decoder (evblock.h, docs/store.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define XXH_INLINE_ALL /* short texts hashed per event: no call through the library */
#include <xxhash.h>

#include "core/limits.h"
#include "core/varint.h"
#include "core/xalloc.h"
#include "store/evblock.h"

static const unsigned char col_types[EVB_NCOLS] = {
    [EVB_KIND] = EVB_TEXT,
    [EVB_SEVERITY] = EVB_TEXT,
    [EVB_SQLSTATE] = EVB_TEXT,
    [EVB_DATABASE] = EVB_TEXT,
    [EVB_USERNAME] = EVB_TEXT,
    [EVB_APPLICATION] = EVB_TEXT,
    [EVB_PID] = EVB_INT,
    [EVB_FINGERPRINT] = EVB_INT,
    [EVB_MESSAGE] = EVB_TEXT,
    [EVB_DETAIL] = EVB_TEXT,
    [EVB_WAIT_MS] = EVB_REAL,
    [EVB_LOCK_MODE] = EVB_TEXT,
    [EVB_LOCK_OBJECT] = EVB_TEXT,
    [EVB_TEMP_BYTES] = EVB_INT,
    [EVB_TEMP_PATH] = EVB_TEXT,
    [EVB_BUFFERS] = EVB_INT,
    [EVB_WRITE_S] = EVB_REAL,
    [EVB_SYNC_S] = EVB_REAL,
    [EVB_TOTAL_S] = EVB_REAL,
    [EVB_CAUSE] = EVB_TEXT,
    [EVB_RELATION] = EVB_TEXT,
    [EVB_TUPLES_REMOVED] = EVB_INT,
    [EVB_TUPLES_REMAIN] = EVB_INT,
    [EVB_ELAPSED_S] = EVB_REAL,
    [EVB_HOST] = EVB_TEXT,
    [EVB_STEP] = EVB_TEXT,
    [EVB_LOCK_HOLDERS] = EVB_TEXT,
    [EVB_LOCK_QUEUE] = EVB_TEXT,
    [EVB_BLOCKER_PID] = EVB_INT,
    [EVB_DISTANCE_KB] = EVB_INT,
    [EVB_PORT] = EVB_INT,
    [EVB_SRC] = EVB_TEXT,
    [EVB_ESTIMATE_KB] = EVB_INT,
    [EVB_WAL_ADDED] = EVB_INT,
    [EVB_WAL_REMOVED] = EVB_INT,
    [EVB_WAL_RECYCLED] = EVB_INT,
    [EVB_SYNC_FILES] = EVB_INT,
    [EVB_SYNC_LONGEST_S] = EVB_REAL,
    [EVB_SYNC_AVERAGE_S] = EVB_REAL,
    [EVB_TUPLES_DEAD] = EVB_INT,
    [EVB_INDEX_SCANS] = EVB_INT,
    [EVB_PAGES_REMOVED] = EVB_INT,
    [EVB_PAGES_REMAIN] = EVB_INT,
    [EVB_PAGES_SCANNED] = EVB_INT,
    [EVB_BUFFER_HITS] = EVB_INT,
    [EVB_BUFFER_MISSES] = EVB_INT,
    [EVB_BUFFER_DIRTIED] = EVB_INT,
    [EVB_READ_MB_S] = EVB_REAL,
    [EVB_WRITE_MB_S] = EVB_REAL,
    [EVB_WAL_RECORDS] = EVB_INT,
    [EVB_WAL_FPI] = EVB_INT,
    [EVB_WAL_BYTES] = EVB_INT,
    [EVB_SETUP_MS] = EVB_REAL,
    [EVB_FORK_MS] = EVB_REAL,
    [EVB_AUTH_MS] = EVB_REAL,
};

/* The mask's bytes at @w: the low word, then (wide) a varint of the rest. */
static unsigned char *put_mask(unsigned char *w, uint64_t present)
{
    w[0] = (unsigned char)present;
    w[1] = (unsigned char)(present >> 8);
    w[2] = (unsigned char)(present >> 16);
    w[3] = (unsigned char)(present >> 24);
    return varint_put(w + 4, present >> 32);
}

static bool get_varint(const unsigned char *p, size_t len, size_t *pos, uint64_t *out);

/* The mask at p[*pos] of a narrow or wide block. False when it is cut off or names a
 * column this version does not have. */
static bool get_mask(const unsigned char *p, size_t len, size_t *pos, bool wide, uint64_t *out)
{
    size_t at = *pos;
    if (len - at < 4)
        return false;
    uint64_t m = (uint64_t)p[at] | (uint64_t)p[at + 1] << 8 | (uint64_t)p[at + 2] << 16 |
                 (uint64_t)p[at + 3] << 24;
    *pos = at + 4;
    if (wide) {
        uint64_t hi;
        if (!get_varint(p, len, pos, &hi) || hi >> (EVB_NCOLS - EVB_NARROW_COLS))
            return false;
        m |= hi << 32;
    }
    *out = m;
    return true;
}

enum evb_type evb_col_type(enum evb_col c)
{
    return (enum evb_type)col_types[c];
}

/* ---- encoding ---- */

void evblock_enc_init(struct evblock_enc *e)
{
    memset(e, 0, sizeof(*e));
    sbuf_init(&e->blob, SIFT_MAX_EVBLOCK_BYTES);
    sbuf_init(&e->tmp, SIFT_MAX_EVBLOCK_BYTES);
    e->share_texts = true;
    e->slots = xcalloc(EVB_TABLE_SLOTS, sizeof(*e->slots));
}

void evblock_enc_release(struct evblock_enc *e)
{
    sbuf_release(&e->blob);
    sbuf_release(&e->tmp);
    free(e->slots);
    memset(e, 0, sizeof(*e));
}

void evblock_enc_start(struct evblock_enc *e, int64_t ts_min)
{
    sbuf_reset(&e->blob);
    e->ts_min = ts_min;
    e->ts_max = ts_min;
    e->n = 0;
    memset(e->memo, 0, sizeof(e->memo));
    memset(e->last_len, 0xff, sizeof(e->last_len));
    if (++e->gen == 0) { /* wrapped: old generations could look current */
        memset(e->slots, 0, EVB_TABLE_SLOTS * sizeof(*e->slots));
        e->gen = 1;
    }
    /* never fails: the cap is far above these few bytes */
    if (sbuf_grow(&e->blob, 19) == 0) {
        unsigned char *w = (unsigned char *)e->blob.buf;
        *w++ = e->line_base ? EVBLOCK_VERSION_BASED : EVBLOCK_VERSION;
        if (e->line_base) {
            memset(w, 0, 8);
            w += 8;
        }
        w = varint_put(w, zigzag_encode(ts_min));
        sbuf_setlen(&e->blob, (size_t)(w - (unsigned char *)e->blob.buf));
    }
}

void evblock_enc_set_line_base(struct evblock_enc *e, uint64_t base)
{
    unsigned char *p = (unsigned char *)e->blob.buf;
    if (!e->line_base || e->blob.len < 9 || p[0] != EVBLOCK_VERSION_BASED)
        BUG("evblock_enc_set_line_base: not a block with a line base");
    for (int k = 0; k < 8; k++)
        p[1 + k] = (unsigned char)(base >> (8 * k));
}

/* The bytes of the literal whose tag starts at @off. */
static const unsigned char *literal_at(const unsigned char *base, uint32_t off)
{
    const unsigned char *lit = base + off;
    while (*lit++ & 0x80)
        ;
    return lit;
}

/* The offset of an earlier literal equal to the text (@here: where it would be written
 * as a new one, entered in the table then), or UINT32_MAX. */
static uint32_t find_text(struct evblock_enc *e, const unsigned char *base, size_t here,
                          const char *s, size_t len, bool memo)
{
    struct evb_memo *m = NULL;
    if (memo) {
        uintptr_t a = (uintptr_t)s;
        m = &e->memo[((a >> 3) ^ (a >> 10) ^ len) & (EVB_MEMO_SLOTS - 1)];
        if (m->s == s && m->len == len)
            return m->off; /* what the table finds */
    }
    if (here > UINT32_MAX || len > UINT32_MAX)
        return UINT32_MAX;
    uint64_t h64 = XXH3_64bits(s, len);
    uint32_t h = (uint32_t)h64;
    uint32_t i = (uint32_t)(h64 >> 32) & (EVB_TABLE_SLOTS - 1);
    for (unsigned probe = 0; probe < 8; probe++, i = (i + 1) & (EVB_TABLE_SLOTS - 1)) {
        struct evb_slot *sl = &e->slots[i];
        if (sl->gen != e->gen) { /* free: this text becomes the literal to refer to */
            *sl = (struct evb_slot){ e->gen, h, (uint32_t)here, (uint32_t)len };
            if (m)
                *m = (struct evb_memo){ s, len, (uint32_t)here };
            return UINT32_MAX;
        }
        if (sl->hash == h && sl->len == len && !memcmp(literal_at(base, sl->off), s, len)) {
            if (m)
                *m = (struct evb_memo){ s, len, sl->off };
            return sl->off;
        }
    }
    return UINT32_MAX;
}

/* Whether @s is the text of column @col's last literal. */
static inline bool last_is(const struct evblock_enc *e, const unsigned char *base, int col,
                           const char *s, size_t len)
{
    return e->last_len[col] == len && !memcmp(literal_at(base, e->last_off[col]), s, len);
}

/* A text at @w (room reserved): a reference to an earlier equal literal, or a literal.
 * @memo: use the memo by address (the texts are stable). @col: the column (its last
 * literal is tried first, then set), or EVB_NCOLS for none. */
static unsigned char *put_text(struct evblock_enc *e, unsigned char *base, unsigned char *w,
                               const char *s, size_t len, bool memo, int col)
{
    size_t here = (size_t)(w - base);
    if (e->share_texts && len >= 2) {
        uint32_t off;
        if (col < EVB_NCOLS && last_is(e, base, col, s, len))
            off = e->last_off[col];
        else
            off = find_text(e, base, here, s, len, memo);
        if (col < EVB_NCOLS && len < UINT32_MAX && (off != UINT32_MAX || here < UINT32_MAX)) {
            e->last_off[col] = off != UINT32_MAX ? off : (uint32_t)here;
            e->last_len[col] = (uint32_t)len;
        }
        if (off != UINT32_MAX)
            return varint_put(w, ((uint64_t)off << 1) | 1);
    }
    w = varint_put(w, (uint64_t)len << 1);
    if (len)
        memcpy(w, s, len);
    w += len;
    *w++ = '\0';
    return w;
}

/* The line of a src "file:line" (a canonical decimal after the last ':'), or -1. */
static int64_t src_line(const char *s, size_t len, size_t *file_len)
{
    size_t i = len;
    while (i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9')
        i--;
    size_t digits = len - i;
    if (!digits || digits > 18 || i == 0 || s[i - 1] != ':' || i > EVB_SRC_FILE_MAX)
        return -1;
    if (digits > 1 && s[i] == '0')
        return -1; /* "007" would not come back */
    int64_t v = 0;
    for (size_t k = i; k < len; k++)
        v = v * 10 + (s[k] - '0');
    *file_len = i - 1;
    return v;
}

int evblock_enc_add(struct evblock_enc *e, const struct evblock_event *ev)
{
    if (ev->ts < e->ts_min)
        return -1;
    /* room: ts, mask, and per column at most a tag or two plus the text and its NUL */
    size_t need = 10 + 4 + 10 + 1;
    uint64_t present = ev->present & (evb_bit(EVB_NCOLS) - 1);
    for (uint64_t m = present; m; m &= m - 1) {
        int c = __builtin_ctzll(m);
        need += 21 + (col_types[c] == EVB_TEXT ? ev->c[c].len : 0);
    }
    if (ev->src_split && (present & evb_bit(EVB_SRC))) {
        if (ev->c[EVB_SRC].len > EVB_SRC_FILE_MAX)
            return -1;
        need += 24; /* ":line" when it is written joined */
    }
    if (sbuf_grow(&e->blob, need) < 0)
        return -1;
    unsigned char *base = (unsigned char *)e->blob.buf;
    unsigned char *w = base + e->blob.len;
    w = varint_put(w, (uint64_t)ev->ts - (uint64_t)e->ts_min);
    w = put_mask(w, present);
    for (uint64_t m = present; m; m &= m - 1) {
        int c = __builtin_ctzll(m);
        const struct evb_cell *v = &ev->c[c];
        bool memo = e->stable_texts;
        if (c == EVB_SRC && ev->src_split) {
            /* what src_line() finds in "file:line": a line of at most 18 digits after a
             * file of less than EVB_SRC_FILE_MAX bytes */
            uint64_t line = (uint64_t)v->i;
            if (line < UINT64_C(1000000000000000000) && v->len < EVB_SRC_FILE_MAX) {
                w = varint_put(w, line + 1);
                w = put_text(e, base, w, v->s, v->len, memo, c);
            } else {
                char joined[EVB_SRC_FILE_MAX + 24]; /* v->len <= EVB_SRC_FILE_MAX (above) */
                memcpy(joined, v->s, v->len);
                int k = snprintf(joined + v->len, sizeof(joined) - v->len, ":%llu",
                                 (unsigned long long)line);
                *w++ = 0;
                w = put_text(e, base, w, joined, v->len + (size_t)k, false, EVB_NCOLS);
            }
            continue;
        }
        if (c == EVB_SRC) {
            size_t flen;
            int64_t line = src_line(v->s, v->len, &flen);
            if (line >= 0) {
                w = varint_put(w, (uint64_t)line + 1);
                w = put_text(e, base, w, v->s, flen, memo, c);
            } else {
                *w++ = 0;
                w = put_text(e, base, w, v->s, v->len, memo, EVB_NCOLS);
            }
            continue;
        }
        switch (col_types[c]) {
        case EVB_INT: w = varint_put(w, zigzag_encode(v->i)); break;
        case EVB_REAL: {
            uint64_t bits;
            memcpy(&bits, &v->r, 8);
            for (int k = 0; k < 8; k++)
                *w++ = (unsigned char)(bits >> (8 * k));
            break;
        }
        default: w = put_text(e, base, w, v->s, v->len, memo, c); break;
        }
    }
    sbuf_setlen(&e->blob, (size_t)(w - base));
    if (ev->ts > e->ts_max)
        e->ts_max = ev->ts;
    e->n++;
    return 0;
}

/* ---- rebasing ---- */

/* Copy the text at p[*pos] to @w: a literal (entered in the table at its new place),
 * or a reference moved with its literal. A literal copied leaves its new offset in the
 * first 4 bytes of its old place (old blob, dropped after): references point back, and
 * only to literals of 2 bytes or more, so tag, text and NUL have those 4 bytes. NULL
 * when the blob is not what the encoder wrote. */
static unsigned char *rebase_text(struct evblock_enc *e, unsigned char *p, size_t len, size_t *pos,
                                  unsigned char *base, unsigned char *w)
{
    size_t at = *pos;
    uint64_t tag;
    if (!get_varint(p, len, pos, &tag))
        return NULL;
    size_t here = (size_t)(w - base);
    if (tag & 1) {
        uint32_t moved;
        if (tag >> 1 >= at || len - (tag >> 1) < 4)
            return NULL;
        memcpy(&moved, p + (tag >> 1), 4);
        return moved < here ? varint_put(w, ((uint64_t)moved << 1) | 1) : NULL;
    }
    uint64_t n = tag >> 1;
    if (n >= len - *pos || here > UINT32_MAX)
        return NULL;
    w = varint_put(w, tag);
    memcpy(w, p + *pos, n + 1); /* with its NUL */
    *pos += n + 1;
    if (e->share_texts && n >= 2) {
        uint32_t moved = (uint32_t)here;
        memcpy(p + at, &moved, 4);
        (void)find_text(e, base, here, (const char *)w, n, false);
    }
    return w + n + 1;
}

int evblock_enc_rebase(struct evblock_enc *e, int64_t ts_min)
{
    if (ts_min > e->ts_min)
        return -1;
    if (ts_min == e->ts_min)
        return 0;
    unsigned char *p = (unsigned char *)e->blob.buf;
    size_t head = e->line_base ? 9 : 1; /* the version and the line base */
    size_t len = e->blob.len, pos = head;
    uint64_t shift = (uint64_t)e->ts_min - (uint64_t)ts_min, u;
    sbuf_reset(&e->tmp);
    /* each event's time may take up to 9 more bytes, the header as many */
    if (len < head + 1 || sbuf_grow(&e->tmp, len + 10 + 10 * e->n) < 0 ||
        !get_varint(p, len, &pos, &u))
        return -1;
    unsigned char *base = (unsigned char *)e->tmp.buf, *w = base;
    memcpy(w, p, head);
    w += head;
    w = varint_put(w, zigzag_encode(ts_min));
    /* the table and memo point into the old blob: a new generation, filled again below */
    if (++e->gen == 0) {
        memset(e->slots, 0, EVB_TABLE_SLOTS * sizeof(*e->slots));
        e->gen = 1;
    }
    memset(e->memo, 0, sizeof(e->memo));
    while (w && pos < len) {
        uint64_t dt;
        uint64_t present;
        if (!get_varint(p, len, &pos, &dt) || !get_mask(p, len, &pos, true, &present))
            BUG("evblock_enc_rebase: a blob the encoder did not write");
        w = varint_put(w, dt + shift);
        w = put_mask(w, present);
        for (uint64_t m = present; m && w; m &= m - 1) {
            int c = __builtin_ctzll(m);
            if (c == EVB_SRC) { /* line + 1 (0: none), then the text */
                if (!get_varint(p, len, &pos, &u))
                    w = NULL;
                else
                    w = rebase_text(e, p, len, &pos, base, varint_put(w, u));
                continue;
            }
            switch (col_types[c]) {
            case EVB_INT:
                if (get_varint(p, len, &pos, &u))
                    w = varint_put(w, u);
                else
                    w = NULL;
                break;
            case EVB_REAL:
                if (len - pos < 8) {
                    w = NULL;
                    break;
                }
                memcpy(w, p + pos, 8);
                w += 8;
                pos += 8;
                break;
            default: w = rebase_text(e, p, len, &pos, base, w); break;
            }
        }
    }
    if (!w)
        BUG("evblock_enc_rebase: a blob the encoder did not write");
    for (int c = 0; c < EVB_NCOLS; c++) /* literals of 2 bytes or more, moved above */
        if (e->last_len[c] != UINT32_MAX)
            memcpy(&e->last_off[c], p + e->last_off[c], 4);
    sbuf_setlen(&e->tmp, (size_t)(w - base));
    struct sbuf t = e->blob;
    e->blob = e->tmp;
    e->tmp = t;
    e->ts_min = ts_min;
    return 0;
}

/* ---- decoding ---- */

static bool get_varint(const unsigned char *p, size_t len, size_t *pos, uint64_t *out)
{
    const unsigned char *q = p + *pos;
    bool ok = varint_get(&q, p + len, out);
    *pos = (size_t)(q - p);
    return ok;
}

/* A literal whose tag is at *pos: its bytes (NUL-terminated in the blob) and length. */
static bool get_literal(const unsigned char *p, size_t len, size_t *pos, const char **s, size_t *n)
{
    uint64_t tag;
    if (!get_varint(p, len, pos, &tag) || (tag & 1))
        return false;
    uint64_t l = tag >> 1;
    if (l >= len - *pos || p[*pos + l] != '\0') /* room for the bytes and the NUL */
        return false;
    *s = (const char *)p + *pos;
    *n = (size_t)l;
    *pos += (size_t)l + 1;
    return true;
}

static bool get_text(const unsigned char *p, size_t len, size_t *pos, const char **s, size_t *n)
{
    size_t at = *pos;
    uint64_t tag;
    if (!get_varint(p, len, pos, &tag))
        return false;
    if (!(tag & 1)) {
        *pos = at;
        return get_literal(p, len, pos, s, n);
    }
    uint64_t off = tag >> 1;
    if (off >= at)
        return false; /* only earlier literals: no loops */
    size_t lp = (size_t)off;
    if (!get_literal(p, at, &lp, s, n)) /* the literal ends before the reference */
        return false;
    return true;
}

int evblock_open(struct evblock_reader *r, const void *blob, size_t len)
{
    memset(r, 0, sizeof(*r));
    const unsigned char *p = blob;
    if (!p || len < 2 || len > SIFT_MAX_EVBLOCK_BYTES || p[0] < EVBLOCK_VERSION_NARROW ||
        p[0] > EVBLOCK_VERSION_BASED)
        return -1;
    size_t pos = 1;
    r->wide = p[0] == EVBLOCK_VERSION || p[0] == EVBLOCK_VERSION_BASED;
    if (p[0] == EVBLOCK_VERSION_NARROW_BASED || p[0] == EVBLOCK_VERSION_BASED) {
        if (len < 10)
            return -1;
        for (int k = 0; k < 8; k++)
            r->line_base |= (uint64_t)p[1 + k] << (8 * k);
        if (r->line_base > (uint64_t)INT64_MAX)
            return -1;
        pos = 9;
    }
    uint64_t u;
    if (!get_varint(p, len, &pos, &u))
        return -1;
    r->p = p;
    r->len = len;
    r->pos = pos;
    r->ts_min = zigzag_decode(u);
    return 0;
}

int evblock_next(struct evblock_reader *r, struct evblock_event *ev)
{
    const unsigned char *p = r->p;
    size_t len = r->len, pos = r->pos;
    uint64_t u;

    if (pos >= len)
        return 0;
    if (!get_varint(p, len, &pos, &u))
        return -1;
    if (u > (uint64_t)INT64_MAX - (uint64_t)r->ts_min)
        return -1; /* beyond INT64_MAX */
    ev->ts = (int64_t)((uint64_t)r->ts_min + u);
    uint64_t present;
    if (!get_mask(p, len, &pos, r->wide, &present))
        return -1;
    ev->present = present;
    ev->src_split = false;
    for (uint64_t m = present; m; m &= m - 1) {
        int c = __builtin_ctzll(m);
        struct evb_cell *v = &ev->c[c];
        if (c == EVB_SRC) {
            uint64_t line1;
            const char *s;
            size_t n;
            if (!get_varint(p, len, &pos, &line1) || !get_text(p, len, &pos, &s, &n))
                return -1;
            if (!line1) {
                v->s = s;
                v->len = n;
                continue;
            }
            if (n > EVB_SRC_FILE_MAX || line1 - 1 > (uint64_t)INT64_MAX - r->line_base)
                return -1;
            char num[24];
            size_t k = sizeof(num);
            uint64_t x = r->line_base + line1 - 1;
            do {
                num[--k] = (char)('0' + x % 10);
                x /= 10;
            } while (x);
            memcpy(ev->src_buf, s, n);
            ev->src_buf[n] = ':';
            memcpy(ev->src_buf + n + 1, num + k, sizeof(num) - k);
            v->len = n + 1 + sizeof(num) - k;
            ev->src_buf[v->len] = '\0';
            v->s = ev->src_buf;
            continue;
        }
        switch (col_types[c]) {
        case EVB_INT:
            if (!get_varint(p, len, &pos, &u))
                return -1;
            v->i = zigzag_decode(u);
            break;
        case EVB_REAL: {
            if (len - pos < 8)
                return -1;
            uint64_t bits = 0;
            for (int k = 0; k < 8; k++)
                bits |= (uint64_t)p[pos + (size_t)k] << (8 * k);
            pos += 8;
            memcpy(&v->r, &bits, 8);
            break;
        }
        default:
            if (!get_text(p, len, &pos, &v->s, &v->len))
                return -1;
            break;
        }
    }
    r->pos = pos;
    return 1;
}

bool evblock_event_equal(const struct evblock_event *a, const struct evblock_event *b)
{
    if (a->ts != b->ts || a->present != b->present)
        return false;
    for (uint64_t m = a->present & (evb_bit(EVB_NCOLS) - 1); m; m &= m - 1) {
        int c = __builtin_ctzll(m);
        const struct evb_cell *x = &a->c[c], *y = &b->c[c];
        switch (col_types[c]) {
        case EVB_INT:
            if (x->i != y->i)
                return false;
            break;
        case EVB_REAL:
            if (memcmp(&x->r, &y->r, sizeof(x->r)))
                return false;
            break;
        default:
            if (x->len != y->len || (x->len && memcmp(x->s, y->s, x->len)))
                return false;
            break;
        }
    }
    return true;
}
