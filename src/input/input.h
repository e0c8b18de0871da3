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
 * Owns: the file descriptor (unless it is stdin), the line buffer or the file's mapping
 * (input_opts.map), the zlib stream, and
 * for a large regular .gz file the thread that decompresses it ahead of the reader (it
 * is stopped and joined by input_close(), wherever the reading stopped).
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

/* A mapped input (input_opts.map) shows at most this much of input_ahead(), the size of
 * the read path's buffer, so the parser's look-ahead scans stay bounded as with read(). */
#define INPUT_MAP_AHEAD_BYTES (2 * INPUT_CHUNK_BYTES)

/* `pgsift ingest` maps plain files of at least this size (smaller ones: read() is as fast). */
#define INPUT_MAP_MIN_BYTES (1u << 20)

/* Where a gzip input is decoded (docs/formats.md, "Input"). */
enum input_gz_mode {
    INPUT_GZ_AUTO = 0, /* a thread for regular files of >= SIFT_GZ_THREAD_MIN_RAW bytes;
                          the environment variable SIFT_GZ_THREAD=0 or =1 forces INLINE
                          or THREAD */
    INPUT_GZ_INLINE,   /* on the reader's thread */
    INPUT_GZ_THREAD,   /* on a thread of its own (regular files of any size) */
};

struct input_opts {
    const char *path;      /* file to read, or "-" for stdin */
    const char *name;      /* name shown in events and errors; default: path */
    uint64_t start_offset; /* decoded byte offset to start at (a saved checkpoint) */
    uint64_t start_line;   /* line number of the line starting at start_offset; 0 means 1 */
    size_t chunk_bytes;    /* read size; 0 means INPUT_CHUNK_BYTES */
    bool hold_partial;     /* live files, whose writer may still complete their end: do
                              not return a last line that has no '\n' yet. Gzip data
                              too, whether it ends inside a member (being compressed
                              right now: the cut is then not reported as damage) or at
                              a member's end (more members may follow: rsyslog's zipped
                              output); input_end_held(). Not after damage. */
    bool have_fd;          /* read the open descriptor @fd instead of opening @path (which
                              is then only the default name): pgsift tail keeps files open
                              across rotation. The input reads through its own duplicate
                              (the caller's descriptor stays open) from start_offset on,
                              wherever the shared file position was. A pipe or device
                              (pgsift ingest of a FIFO) is read on from where it stands. */
    int fd;
    enum input_gz_mode gz_mode;
    /* A plain regular file is read ahead on a thread of its own (the .gz decoder's ring)
     * while this thread parses: `pgsift ingest` with a spare core. Only for files read to
     * their current end once (not followed): the thread stops at the first end it sees. */
    bool read_ahead;
    size_t gz_slot_bytes; /* decoder thread's ring buffers; 0 means SIFT_GZ_SLOT_BYTES
                             (tests use tiny ones to cross every boundary) */
    /* Read a plain (not gzip) regular file opened by path through a read-only mapping
     * instead of read(): lines are spans into the mapping, with no copy (`pgsift ingest`,
     * which never hands out the bytes of a line before its batch commits). Ignored for
     * stdin, gzip data, empty files, and when the environment variable
     * SIFT_NO_MMAP=1 is set; read_ahead is then not used. A file that grows is mapped
     * further at the end of the mapping; a file truncated under the mapping makes
     * input_next() fail (see input_truncated()) instead of raising SIGBUS. */
    bool map;
    /* With map: map at first only this many bytes from start_offset on (0: to the end);
     * the rest is mapped when the reading gets there, as for a file that grew. For a
     * reader of one part of a file (pipeline_par.c), whose pages ahead would be made
     * present for nothing. */
    uint64_t map_bytes;
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
    bool cut;                /* the data ends inside a member: cut short, or still being
                                written (gzip is compressing it right now) */
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

/* The decoded bytes after the last line input_next() returned that are already in the
 * input's buffer: the following lines, the last one possibly incomplete (no read is done;
 * empty at the end of the buffer). For a caller that can use several lines at once (the
 * parser taking a whole multi-line record, parser_feed_ahead()). Borrowed: valid until the
 * next input_next(), input_consume() or input_close(). */
struct span input_ahead(const struct input *in);

/* The caller used the first @bytes of input_ahead(), which hold @lines complete lines (the
 * last one ends with its '\n'): input_next() goes on after them, numbering lines as if it
 * had returned them. If a mapped file was cut meanwhile (those bytes read as zeros now),
 * nothing is consumed and input_next() fails as for any truncation. */
void input_consume(struct input *in, size_t bytes, uint64_t lines);

/* The caller knows that the next line starts at @at, the start of input_ahead(), and is
 * @len bytes long, followed by '\n', with no '\n' among them (the parser found its end
 * while looking ahead: parser_line_hint()): the next input_next() returns it without
 * searching for its end. Ignored unless @at is where input_ahead() starts and the byte
 * after @len is a '\n' in the buffer (then lines at most SIFT_MAX_LINE_BYTES long). */
void input_hint_line(struct input *in, const char *at, size_t len);

/* Where and why decoding stopped; valid after INPUT_DAMAGED, NULL otherwise. */
const struct input_damage *input_damage(const struct input *in);

/* After INPUT_EOF: whether the input's end was left for a later read (hold_partial): a
 * plain input, or gzip data that ends inside a member. Its decoded bytes past the last
 * line returned end at *@end (gzip: what was decoded; plain: not known here, 0). */
bool input_end_held(const struct input *in, uint64_t *end);
/* Whether the data ends inside a gzip member that is still being written (held, and not
 * reported as damage). */
bool input_end_cut(const struct input *in);

/* Identity of the open source. */
void input_identity(const struct input *in, struct input_identity *id);

/* Whether the file starts with the gzip magic bytes (read at offset 0, the descriptor's
 * position untouched; a file that cannot be opened or read is not gzip). */
bool input_fd_is_gzip(int fd);
bool input_path_is_gzip(const char *path);

/* PostgreSQL's logging collector names its csvlog and jsonlog files after log_filename,
 * ".log" replaced by ".csv" / ".json", or those appended when it does not end in ".log"
 * (syslogger.c): a server that logs to several destinations leaves postgresql.log,
 * postgresql.csv and postgresql.json side by side, with the same records. A file is the
 * twin of a better destination of the same server (the csvlog, then the jsonlog) when
 * their names differ only by that extension and have the same rotation suffix (".1",
 * "-20261124", a last ".gz" aside), or when it is the live file while the other's live
 * file is being rotated (both written within SIFT_HOLD_LIVE_SECONDS: not a csvlog left
 * from long ago).
 *
 * Of @n files (@names, their modification times @mtimes in seconds, 0: unknown), for
 * each the index of the best destination it is a twin of (the csvlog before the
 * jsonlog), or SIZE_MAX; a file with @named[i] set (given by name, not found in a
 * directory or by a glob) is never a twin. @named may be NULL. Free the result. */
size_t *input_dest_twins(const char *const *names, const int64_t *mtimes, const bool *named,
                         size_t n);

/* The creation time of the file open on @fd (µs since the epoch), where the filesystem
 * keeps one; false otherwise. input/birth.c. */
bool input_fd_birth_us(int fd, int64_t *us);

/* Whether the mapped file (input_opts.map) was found shorter than what was mapped: it
 * was truncated (copytruncate) while being read. The bytes the input or its caller read
 * since then may be zeros, not the file's: nothing read since the last commit may be
 * committed (ingest checks this before each commit). Sticky; false for unmapped inputs.
 * Mapped inputs install, once per process, a SIGBUS handler (SA_SIGINFO) that turns a
 * fault inside a mapping of the faulting thread's open inputs into zero pages and sets
 * this flag; any other SIGBUS goes to the previous handler (default: the process dies). */
bool input_truncated(const struct input *in);

/* Whether the input reads through a mapping (input_opts.map was honoured). */
bool input_mapped(const struct input *in);

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

/* ---------------------------------------------------------------------------------------
 * tail - the files of several sources, followed across rotation (pgsift tail).
 *
 * A source is a list of paths: files, globs and directories (a directory's own files,
 * not its subdirectories, filtered by an `include` glob on their names). For a plain
 * file path, its rotated siblings in the same directory (`<name>.1`, `<name>.2.gz`,
 * `<name>-20250101` ...) are listed too, marked `sibling`: a reader only continues
 * streams it already knows in them (rotations that happened while pgsift was down).
 *
 * The tail finds the files and keeps a descriptor open on each file that may still be
 * written, so a file renamed away or deleted is still read to its end (Fluent Bit keeps
 * the rotated fd open; GoAccess reopens by name and loses the last lines). It never
 * reads log data itself: the caller reads each changed file (by descriptor or by name)
 * and reports how far it got with tail_file_done().
 *
 * Watcher events (inotify, or a poll timer when inotify is unavailable or not wanted)
 * are only hints that something may have changed. The truth is fstat() of the open
 * descriptors and stat() of the names (Fluent Bit's reconcile_file_state): a name that
 * now points at another file means the old one was rotated (it stays open, under its
 * new name if one is found in its directory), a link count of 0 means deleted while
 * open, a size below what was read means truncated (copytruncate).
 *
 * Owns: the watcher (inotify descriptor and watches), the file list, every descriptor
 * it opened, and each file's user data (freed with tail_opts.user_free).
 *
 * Calling sequence:
 *   tail_new() -> tail_add_source()* -> tail_reconcile()
 *   -> loop { tail_wait() -> tail_reconcile() -> for changed files: tail_file_open(),
 *             read, tail_file_done(); tail_file_close() when drained }
 *   -> tail_free()
 */

enum tail_backend {
    TAIL_AUTO = 0, /* inotify, else polling */
    TAIL_INOTIFY,  /* fail if inotify is unavailable */
    TAIL_POLL,     /* stat() every poll interval */
};

struct tail_opts {
    enum tail_backend backend;
    int64_t poll_interval_us;      /* polling: stat period; 0: 250 ms */
    int64_t rescan_interval_us;    /* list every source again this often even without events
                                      (safety net: new directories under a glob); 0: 60 s */
    int wake_fd;                   /* readable descriptor that ends tail_wait() (the signal
                                      handlers' self-pipe); -1: none */
    void (*user_free)(void *user); /* frees tail_file.user when a file is dropped */
    int64_t hold_recent_us;        /* hold a descriptor on each plain file named by a source
                                      as soon as it is seen, if written within this long
                                      (0: only tail_file_open() opens) */
};

struct tail_source_spec {
    const char *name;         /* for messages */
    const char *const *paths; /* files, globs, directories */
    size_t npaths;
    const char *include; /* glob on names of files in directories; NULL: all */
};

enum tail_file_state {
    TAIL_FILE_LIVE,    /* a name of its source points at it */
    TAIL_FILE_ROTATED, /* renamed away or replaced: no name of its source points at it */
    TAIL_FILE_DELETED, /* no link left: only the open descriptor reaches it */
};

struct tail_file {
    /* Kept up to date by tail_reconcile(); read-only for the caller. */
    char *name;    /* path it is known by (for a deleted file: the last one) */
    size_t source; /* index in the order of tail_add_source() */
    enum tail_file_state state;
    bool sibling; /* found as a rotated sibling of a file path */
    char *origin; /* the file path of the source it was found by (a sibling's or
                     the file's own); NULL for files of globs and directories */
    bool gzip;    /* starts with gzip magic (read by name, never held open) */
    int fd;       /* open descriptor, -1 when not held */
    uint64_t dev, ino;
    uint64_t size;      /* st_size at the last reconcile */
    int64_t mtime_ns;   /* st_mtim */
    int64_t changed_ns; /* monotonic time the file was first seen different from what
                           tail_file_done() recorded; 0 when unchanged */
    int64_t grew_ns;    /* monotonic time its size or mtime last changed */
    int64_t gone_ns;    /* monotonic time it was seen rotated or deleted (0: live): the
                           writer may still be writing to it until it reopens its log */
    void *user;         /* the caller's, freed with tail_opts.user_free */
    /* private */
    uint64_t done_size;
    int64_t done_mtime_ns;
    bool done_valid;
    bool seen;
    bool held_once;      /* opened on discovery once (not again after tail_file_close) */
    unsigned char found; /* how the last rescan found it */
    int wd;
};

struct tail;

/* Start the watcher. TAIL_AUTO falls back to polling (with a note) when inotify cannot
 * be used. Returns NULL with @d filled (DIAG_IO) when the asked back-end fails. */
struct tail *tail_new(const struct tail_opts *o, struct diag *d);
void tail_free(struct tail *t); /* closes every descriptor; NULL is a no-op */

/* "inotify" or "poll". */
const char *tail_backend_name(const struct tail *t);

/* Add a source (copied). Nothing is listed until the next tail_reconcile(). */
void tail_add_source(struct tail *t, const struct tail_source_spec *spec);

/* Forget the sources (a reload adds the new ones). Files keep their entries and
 * descriptors: the next reconcile assigns them to the new sources, or treats them as
 * rotated away (drained, then closed) when no source names them any more. */
void tail_clear_sources(struct tail *t);

/* Wait for a watcher hint (only when @hints), the wake descriptor, the next poll or
 * rescan time, or @timeout_us (< 0: no limit), whichever comes first. Returns 0, or -1
 * with @d filled. Interrupted by signals (returns 0). */
int tail_wait(struct tail *t, int64_t timeout_us, bool hints, struct diag *d);

/* Look at every file again (fstat of descriptors, stat of names), list the sources again
 * when a directory changed, a name moved or the rescan interval passed (or @rescan),
 * and update states, sizes and changed_ns. Files that no name reaches and that are not
 * held open are dropped. Returns 0; -1 with @d on an unexpected error. */
int tail_reconcile(struct tail *t, bool rescan, struct diag *d);

/* The files, in reading order: by source, rotated and deleted ones first, then oldest
 * (mtime) first. Valid until the next tail_reconcile(). */
size_t tail_count(const struct tail *t);
struct tail_file *tail_file_at(struct tail *t, size_t i);

/* Hold a descriptor on @f (a plain file that may still be written). Returns 0 (also
 * when already open), 1 when the name now points at another file (nothing opened: the
 * next reconcile sorts it out), or -1 with @d filled. */
int tail_file_open(struct tail *t, struct tail_file *f, struct diag *d);

/* The caller read @f completely as it was when it had @size bytes and @mtime_ns (take
 * both from the tail_file before reading): it is unchanged until it differs from them. */
void tail_file_done(struct tail *t, struct tail_file *f, uint64_t size, int64_t mtime_ns);

/* Close the descriptor (a drained rotated or deleted file is then dropped at the next
 * reconcile). */
void tail_file_close(struct tail *t, struct tail_file *f);

/* The next monotonic time (ns) tail_reconcile() has work of its own (poll tick, rescan). */
int64_t tail_deadline_ns(const struct tail *t);

#endif
