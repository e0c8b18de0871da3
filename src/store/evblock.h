/* SPDX-License-Identifier: MIT */
/*
 * evblock - packed event blocks (private to store/): the events of one batch chunk
 * (up to STORE_EV_CHUNK_ROWS) in one event_blocks row, instead of one SQLite row each.
 *
 * An event is ts (µs, never NULL) and the columns of enum evb_col, each NULL or a value
 * of the column's type (integer, double, text): the 32 columns the old `events` table had,
 * then the facts added since. Every value survives encode/decode exactly: integers and
 * the bits of doubles, texts byte for byte (NUL bytes included), NULL distinct from "".
 *
 * Format (version 1, docs/store.md): byte 1; zigzag varint ts_min; then per event, to
 * the end of the blob: varint ts - ts_min; 32-bit little-endian mask of the present
 * columns; each present column in order: integer = zigzag varint, double = 8 bytes
 * little-endian, text = varint tag (even: a literal of tag/2 bytes follows, then a NUL;
 * odd: a reference to the literal whose tag starts at offset tag/2 of the blob, earlier
 * in it), src = varint line + 1 (0: none) then the text before ":line".
 * Texts repeated in a block are written once (a table of the block's texts by hash).
 * Version 2 is version 1 with a line base: byte 2, the base as 8 bytes little-endian, then
 * as version 1; a src line is the base plus the line written. A block encoded before the
 * numbers of its lines are known (a part of a file parsed on another thread: its lines
 * counted from 1) gets its base once they are (evblock_enc_set_line_base()).
 * Versions 3 and 4 are versions 1 and 2 with a wide mask: the 32-bit little-endian word
 * (columns 0-31) followed by a varint of the columns from 32 on (mask >> 32), so that
 * columns past the first 32 can be present. The encoder writes 3 or 4; the decoder reads
 * all four (a narrow block's events have none of the later columns).
 *
 * Owns: struct evblock_enc owns its blob buffer and its text table. Decoded events
 * borrow their texts from the blob (and src from the event's own buffer).
 */
#ifndef SIFT_STORE_EVBLOCK_H
#define SIFT_STORE_EVBLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compat.h"
#include "core/diag.h"
#include "core/sbuf.h"
#include "core/span.h"

#define EVBLOCK_VERSION_NARROW       1
#define EVBLOCK_VERSION_NARROW_BASED 2
#define EVBLOCK_VERSION              3
#define EVBLOCK_VERSION_BASED        4

/* The columns after ts, in the order of the old events table (SQL_EVENT_COLS). */
enum evb_col {
    EVB_KIND = 0,
    EVB_SEVERITY,
    EVB_SQLSTATE,
    EVB_DATABASE,
    EVB_USERNAME,
    EVB_APPLICATION,
    EVB_PID,
    EVB_FINGERPRINT,
    EVB_MESSAGE,
    EVB_DETAIL,
    EVB_WAIT_MS,
    EVB_LOCK_MODE,
    EVB_LOCK_OBJECT,
    EVB_TEMP_BYTES,
    EVB_TEMP_PATH,
    EVB_BUFFERS,
    EVB_WRITE_S,
    EVB_SYNC_S,
    EVB_TOTAL_S,
    EVB_CAUSE,
    EVB_RELATION,
    EVB_TUPLES_REMOVED,
    EVB_TUPLES_REMAIN,
    EVB_ELAPSED_S,
    EVB_HOST,
    EVB_STEP,
    EVB_LOCK_HOLDERS,
    EVB_LOCK_QUEUE,
    EVB_BLOCKER_PID,
    EVB_DISTANCE_KB,
    EVB_PORT,
    EVB_SRC,
    /* version 3 on (the wide mask): facts added to classify/ since the 32 above */
    EVB_ESTIMATE_KB,
    EVB_WAL_ADDED,
    EVB_WAL_REMOVED,
    EVB_WAL_RECYCLED,
    EVB_SYNC_FILES,
    EVB_SYNC_LONGEST_S,
    EVB_SYNC_AVERAGE_S,
    EVB_TUPLES_DEAD,
    EVB_INDEX_SCANS,
    EVB_PAGES_REMOVED,
    EVB_PAGES_REMAIN,
    EVB_PAGES_SCANNED,
    EVB_BUFFER_HITS,
    EVB_BUFFER_MISSES,
    EVB_BUFFER_DIRTIED,
    EVB_READ_MB_S,
    EVB_WRITE_MB_S,
    EVB_WAL_RECORDS,
    EVB_WAL_FPI,
    EVB_WAL_BYTES,
    EVB_SETUP_MS, /* (schema version 18) */
    EVB_FORK_MS,
    EVB_AUTH_MS,
    EVB_NCOLS
};

/* The columns a narrow block (versions 1 and 2) can hold. */
#define EVB_NARROW_COLS 32

_Static_assert(EVB_SRC == EVB_NARROW_COLS - 1, "the old columns keep their bits");
_Static_assert(EVB_NCOLS < 64, "a 64-bit mask: a bit per column, and evb_bit(EVB_NCOLS)");

static inline uint64_t evb_bit(enum evb_col c)
{
    return UINT64_C(1) << c;
}

enum evb_type { EVB_INT, EVB_REAL, EVB_TEXT };

/* The type of each column (as declared in schema/001_init.sql). */
enum evb_type evb_col_type(enum evb_col c);

/* Longest "file" part of a src split as "file:line"; longer ones are stored whole. */
#define EVB_SRC_FILE_MAX 4096u

struct evb_cell {
    int64_t i;
    double r;
    const char *s; /* text: NUL-terminated, s[len] == '\0' (may hold NULs before) */
    size_t len;
};

struct evblock_event {
    int64_t ts;
    uint64_t present; /* evb_bit(c) per non-NULL column c */
    /* Encoder only (the decoder sets it false): c[EVB_SRC] is given split, the text
     * before ":line" in (s, len <= EVB_SRC_FILE_MAX, else evblock_enc_add() fails) and
     * the line in i (as uint64_t bits), encoded exactly as the joined "file:line" would
     * be, without printing and parsing the number. */
    bool src_split;
    struct evb_cell c[EVB_NCOLS];
    char src_buf[EVB_SRC_FILE_MAX + 24]; /* decoder: the src text put back together */
};

/* ---- encoding ---- */

struct evb_slot {
    uint32_t gen, hash, off, len; /* off: the literal's tag offset in the blob */
};

#define EVB_TABLE_SLOTS 8192u

/* Texts by address (a small table indexed by the address): the literal each was written
 * as or referred to, so the same address again is that reference without hashing the
 * text (only when the caller says its texts are stable, struct evblock_enc.stable_texts). */
#define EVB_MEMO_SLOTS 128u
struct evb_memo {
    const char *s;
    size_t len;
    uint32_t off;
};

struct evblock_enc {
    struct sbuf blob;
    int64_t ts_min, ts_max; /* ts_min: the base of the blob's times (evblock_enc_start()) */
    size_t n;
    uint32_t gen;
    bool share_texts; /* write repeated texts once (default true; off for measuring) */
    /* Set by a caller whose texts stay at their address, unchanged, until the block is
     * written (default false): a text at the address of the column's previous one is the
     * same text. The blob is byte for byte what it would be without. */
    bool stable_texts;
    /* Write version 4, not 3 (set before evblock_enc_start()): a line base, 0 until set. */
    bool line_base;
    struct evb_slot *slots;
    struct evb_memo memo[EVB_MEMO_SLOTS];
    /* Per text column, the literal its last text was written as or referred to
     * (last_len[c] == UINT32_MAX: none yet): a text equal to the column's previous one
     * (databases, users repeat row after row) is that reference after one compare,
     * without hashing, whatever the texts' addresses. */
    uint32_t last_off[EVB_NCOLS], last_len[EVB_NCOLS];
    struct sbuf tmp; /* evblock_enc_rebase(): the blob being rewritten */
};

void evblock_enc_init(struct evblock_enc *e);
void evblock_enc_release(struct evblock_enc *e);
/* A block with a line base (struct evblock_enc.line_base): its src lines are @base plus the
 * lines its events were added with. Any time before the blob is read. */
void evblock_enc_set_line_base(struct evblock_enc *e, uint64_t base);
/* Start a block whose events all have ts >= @ts_min (the base its times are counted
 * from: the oldest event's, or a bound below it). */
void evblock_enc_start(struct evblock_enc *e, int64_t ts_min);
/* Append one event (only the cells of ev->present are read; texts need no NUL). Returns
 * 0, or -1 when ev->ts < ts_min or the blob would exceed SIFT_MAX_EVBLOCK_BYTES. */
SIFT_WUR int evblock_enc_add(struct evblock_enc *e, const struct evblock_event *ev);
/* Count the block's times from @ts_min, below the current base (an event older than
 * every one added so far is coming): the blob is rewritten as if started at @ts_min
 * (the same bytes, but for the times and the offsets they move). Costs a pass over the
 * blob. Returns 0, or -1 (the blob unchanged) when @ts_min is above the base or the
 * blob would exceed SIFT_MAX_EVBLOCK_BYTES. */
SIFT_WUR int evblock_enc_rebase(struct evblock_enc *e, int64_t ts_min);
/* The blob (borrowed until the next start) */
static inline struct span evblock_enc_blob(const struct evblock_enc *e)
{
    return sbuf_span(&e->blob);
}

/* ---- decoding ---- */

struct evblock_reader {
    const unsigned char *p;
    size_t len, pos; /* pos: start of the next event */
    int64_t ts_min;
    uint64_t line_base; /* versions 2 and 4; 0 for 1 and 3 */
    bool wide;          /* versions 3 and 4: the wide mask */
};

/* Check the header. Returns 0, or -1 for a blob of another version or a bad header. */
SIFT_WUR int evblock_open(struct evblock_reader *r, const void *blob, size_t len);
/* Decode the event at r->pos (after evblock_open(), or at an offset a previous next()
 * started at: references are absolute, so any event start can be decoded again).
 * Returns 1 and fills @ev, 0 at the end of the blob, -1 when the blob is corrupt (never
 * reads outside [blob, blob + len)). */
SIFT_WUR int evblock_next(struct evblock_reader *r, struct evblock_event *ev);

/* Same ts, same NULLs, same values: integers, double bits, text bytes (tests, fuzzing). */
bool evblock_event_equal(const struct evblock_event *a, const struct evblock_event *b);

#endif
