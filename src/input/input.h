/* SPDX-License-Identifier: MIT */
/*
 * input - bytes of one log source as numbered lines: plain files, gzip files (any
 * number of members) and stdin, read in large chunks with no allocation per line.
 *
 * Every line carries its 1-based line number and the byte offset of its first byte in
 * the *decoded* stream (for a .gz file: the offset in the uncompressed text). Those two
 * numbers are what the store saves to resume exactly where a previous run stopped:
 * input_open() can start at a saved (offset, line) pair.
 *
 * Owns: the file descriptor (unless it is stdin), the line buffer, the zlib stream.
 * Lines returned by input_next() are borrowed: valid until the next input_next() or
 * input_close() on the same input.
 *
 * Calling sequence:
 *   input_open() -> input_next()* (until INPUT_EOF or INPUT_ERROR) -> input_close()
 *
 * Damaged compressed data (a truncated or corrupt .gz) is not an environment failure:
 * every line decoded before the damage is returned, then input_next() returns
 * INPUT_DAMAGED once (input_damage() says where), then INPUT_EOF. The caller counts it
 * as a reject of the source, so nothing is lost silently.
 */
#ifndef SIFT_INPUT_INPUT_H
#define SIFT_INPUT_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/diag.h"
#include "core/span.h"

/* Default read size: large reads keep the system-call and zlib overhead negligible. */
#define INPUT_CHUNK_BYTES (1u << 20)

struct input_opts {
    const char *path;      /* file to read, or "-" for stdin */
    const char *name;      /* name shown in events and errors; default: path */
    uint64_t start_offset; /* decoded byte offset to start at (a saved checkpoint) */
    uint64_t start_line;   /* line number of the line starting at start_offset; 0 means 1 */
    size_t chunk_bytes;    /* read size; 0 means INPUT_CHUNK_BYTES */
    bool hold_partial;     /* do not return a last line that has no '\n' yet (live files:
                              the writer may still complete it) */
};

struct input_line {
    struct span text;   /* the line without its "\n" (and without a "\r" before it) */
    uint64_t line;      /* 1-based line number */
    uint64_t offset;    /* decoded offset of the line's first byte */
    uint64_t end;       /* decoded offset just past the line's "\n" */
    bool partial;       /* last line of the stream, without "\n" */
    bool truncated;     /* longer than SIFT_MAX_LINE_BYTES: text holds the first bytes */
    struct span source; /* the input's name (borrowed from the input) */
};

enum input_status {
    INPUT_LINE,    /* *line is filled */
    INPUT_EOF,     /* no more data */
    INPUT_DAMAGED, /* compressed data is damaged; see input_damage(); INPUT_EOF follows */
    INPUT_ERROR,   /* read error; @d filled */
};

struct input_damage {
    uint64_t raw_offset;     /* byte offset in the compressed file where decoding stopped */
    uint64_t decoded_offset; /* decoded bytes delivered before the damage */
    char what[160];          /* "truncated gzip data", "corrupt gzip data: <zlib msg>" ... */
};

/* Facts that recognise a file across rotation and compression (the store keeps them). */
struct input_identity {
    uint64_t dev, ino; /* of the open file; 0 for stdin/pipes */
    uint64_t size;     /* raw size in bytes (0 if not a regular file) */
    bool regular;      /* a regular file (seekable) */
    bool compressed;   /* gzip data was detected (known after the first input_next()) */
};

struct input;

/* Open a source. Returns NULL and fills @d (DIAG_IO) when it cannot be opened. */
struct input *input_open(const struct input_opts *opts, struct diag *d);

/* Next line. INPUT_ERROR fills @d (DIAG_IO). */
enum input_status input_next(struct input *in, struct input_line *line, struct diag *d);

/* Where and why decoding stopped; valid after INPUT_DAMAGED, NULL otherwise. */
const struct input_damage *input_damage(const struct input *in);

/* Identity of the open source. */
void input_identity(const struct input *in, struct input_identity *id);

/* Name of the source as given in the options (borrowed). */
const char *input_name(const struct input *in);

/* Decoded bytes delivered so far (the offset just past the last returned line). */
uint64_t input_offset(const struct input *in);

/* Close; accepts NULL. */
void input_close(struct input *in);

/*
 * XXH3-64 of the decoded bytes [from, to) of the file at @path (a .gz file is hashed
 * after decompression, so a rotated file that was compressed later hashes the same as
 * the original). The file may be shorter: *got says how many bytes were hashed.
 * Returns 0, or -1 with @d filled when the file cannot be read. Damage in a .gz file
 * ends the range early (visible in *got).
 */
int input_hash_range(const char *path, uint64_t from, uint64_t to, uint64_t *hash, uint64_t *got,
                     struct diag *d);

#endif
