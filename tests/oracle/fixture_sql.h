/* SPDX-License-Identifier: MIT */
/*
 * fixture_sql - SQL statements and their pg_stat_statements query ids from the real
 * PostgreSQL 15 fixtures (tests/fixtures/pg15/<run>/postgresql.json), for the
 * normalizer's oracles and benchmark.
 *
 * Reads the jsonlog files directly with jansson, on purpose without the log parser
 * (parse/): the oracles must not depend on it. From each record it takes the message
 *   "duration: <ms> ms  statement: <sql>"            (simple protocol, a call)
 *   "duration: <ms> ms  execute <name>: <sql>"       (extended protocol, a call)
 *   "duration: <ms> ms  parse <name>: <sql>" / "bind <name>: <sql>"
 *   "statement: <sql>" / "execute <name>: <sql>"     (log_statement = all, no duration)
 * and the "statement" field of other records (errors, temp files: the STATEMENT).
 */
#ifndef SIFT_TESTS_FIXTURE_SQL_H
#define SIFT_TESTS_FIXTURE_SQL_H

#include <stdbool.h>
#include <stdint.h>

enum fx_kind {
    FX_STATEMENT, /* simple protocol statement: message */
    FX_EXECUTE,   /* extended protocol execute step */
    FX_PARSE,
    FX_BIND,
    FX_CONTEXT, /* the STATEMENT field of another record */
};

struct fx_record {
    const char *file;
    unsigned line;
    enum fx_kind kind;
    bool has_duration; /* a "duration:" message: one call (FX_STATEMENT, FX_EXECUTE) */
    double ms;
    int64_t query_id; /* 0 when absent */
    const char *db;   /* "" when absent */
    const char *app;  /* application_name, "" when absent */
    const char *sql;  /* NUL-terminated, valid during the callback */
};

typedef void (*fx_callback)(const struct fx_record *r, void *arg);

/* Feed every statement of every tests/fixtures/pg15/<run>/postgresql.json under
 * @source_dir (or $SIFT_FIXTURES_DIR/pg15/<run>/ when that is set) to @cb, in file order. Returns
 * the number of files read (0: no fixtures), or -1 on an unreadable or malformed file (message on
 * stderr). */
int fixture_sql_foreach(const char *source_dir, fx_callback cb, void *arg);

#endif
