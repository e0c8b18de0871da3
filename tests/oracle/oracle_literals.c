/* SPDX-License-Identifier: MIT */
/*
 * oracle_literals - libpg_query (the PostgreSQL 15.1 parser as a library) as the
 * literal-boundary oracle of the normalizer (docs/fingerprint.md, "Validation").
 *
 * For every statement of the real-server fixtures and every input of the rule case
 * files that PostgreSQL 15 can parse, pg_query_normalize() replaces the constants it
 * finds in the parse tree by $n. The spans it replaced must be exactly spans our lexer
 * calls constants (same start, same end). The only allowed difference is a documented
 * exception class:
 *   utility   - a utility statement (not SELECT/INSERT/UPDATE/DELETE/MERGE/EXPLAIN/
 *               DECLARE/SET/...) where pg_query's tree walker does not look, so it keeps
 *               literals we replace (CREATE TABLE ... DEFAULT 0, FETCH 5, COMMENT ...
 *               IS 'x'): we replace more, never less, and never other boundaries.
 *   uescape   - U&'..' UESCAPE '!': we make the whole clause one constant; pg_query
 *               replaces U&'..' and keeps UESCAPE '!'.
 * A constant pg_query replaced that we did not (a literal we would leak) or a boundary
 * that differs is a failure. Case blocks marked ":oracle-skip REASON" are left out; the
 * reasons are pg_query_normalize bugs it shares with pg_stat_statements (a comment, or
 * a second minus, between a unary minus and its number ends the constant early). Statements
 * PostgreSQL 15 rejects (syntax errors in the fixtures, PostgreSQL 16 syntax such as 0x1F or 1_000
 * in the cases) are counted and skipped.
 *
 *   oracle_literals SOURCE_DIR [-v]
 * exits 0 when every statement agrees or is an allowed exception, 1 otherwise.
 */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <pg_query.h>

#include "cases.h"
#include "core/sbuf.h"
#include "core/xalloc.h"
#include "fixture_sql.h"
#include "normalize/normalize.h"

struct stmts {
    char **v;
    size_t n, alloc;
};

static void add_stmt(struct stmts *s, const char *sql, size_t len)
{
    for (size_t i = 0; i < s->n; i++) /* a few hundred statements: linear dedup is fine */
        if (strlen(s->v[i]) == len && memcmp(s->v[i], sql, len) == 0)
            return;
    XGROW(s->v, s->n + 1, s->alloc);
    s->v[s->n++] = xmemdupz(sql, len);
}

static void on_record(const struct fx_record *r, void *arg)
{
    if (strlen(r->sql) < 100000) /* pg_query handles any size; keep the run short */
        add_stmt(arg, r->sql, strlen(r->sql));
}

static size_t oracle_skipped;

/* Inputs of tests/cases/normalize/ *.cases: lines that are not comments, directives
 * (":same", ...), or expected results ("=> ..."). A block with ":oracle-skip REASON"
 * is left out (the reason documents why libpg_query disagrees). */
static void add_case_file(struct stmts *s, const char *path)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    struct sbuf un = SBUF_INIT;
    struct stmts block = { 0 };
    bool skip = false, eof = false;
    while (f && !eof) {
        n = getline(&line, &cap, f);
        eof = n < 0;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n > 0 && line[0] == '#')
            continue;
        if (n > 0) {
            if (!strncmp(line, ":oracle-skip", 12))
                skip = true;
            else if (line[0] != ':' && strncmp(line, "=>", 2) != 0 &&
                     case_unescape(line, (size_t)n, &un) == 0 && !memchr(un.buf, '\0', un.len))
                add_stmt(&block, un.buf, un.len);
            continue;
        }
        for (size_t i = 0; i < block.n; i++) {
            if (skip)
                oracle_skipped++;
            else
                add_stmt(s, block.v[i], strlen(block.v[i]));
            free(block.v[i]);
        }
        block.n = 0;
        skip = false;
    }
    free(block.v);
    free(line);
    if (f)
        fclose(f);
    sbuf_release(&un);
}

static void add_case_inputs(struct stmts *s, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        size_t nl = strlen(de->d_name);
        if (nl < 6 || strcmp(de->d_name + nl - 6, ".cases") != 0)
            continue;
        char path[8192];
        if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) < (int)sizeof(path))
            add_case_file(s, path);
    }
    if (d)
        closedir(d);
}

struct cspan {
    uint32_t a, b;
    bool uescape;
};

/* Our constant spans (a unary minus starts its constant) and the highest $n. */
static size_t our_spans(struct normalizer *nz, const char *sql, struct cspan *sp, size_t max,
                        unsigned *max_param)
{
    struct norm_result r;
    size_t k = 0;
    normalize_fingerprint(nz, span_cstr(sql), &r);
    size_t n = normalize_token_count(nz);
    *max_param = 0;
    for (size_t i = 0; i < n; i++) {
        struct norm_token t, prev;
        normalize_token(nz, i, &t);
        if (!strcmp(t.role, "parameter")) {
            unsigned v = (unsigned)strtoul(sql + t.offset + 1, NULL, 10);
            if (v > *max_param)
                *max_param = v;
        }
        if (strcmp(t.role, "constant") != 0 || k == max)
            continue;
        uint32_t a = t.offset;
        if (i > 0) {
            normalize_token(nz, i - 1, &prev);
            if (!strcmp(prev.role, "sign"))
                a = prev.offset;
        }
        bool u = (sql[t.offset] == 'U' || sql[t.offset] == 'u') && sql[t.offset + 1] == '&';
        const char *ue = u ? strstr(sql + t.offset, "UESCAPE") : NULL;
        sp[k++] = (struct cspan){ a, t.offset + t.length,
                                  ue && (size_t)(ue - sql) < t.offset + t.length };
    }
    return k;
}

/* Our text in pg_query_normalize's format: every constant span replaced. */
static void our_text(const char *sql, const struct cspan *sp, size_t k, unsigned base,
                     struct sbuf *o)
{
    size_t pos = 0;
    sbuf_reset(o);
    for (size_t i = 0; i < k; i++) {
        if (sbuf_add(o, sql + pos, sp[i].a - pos) < 0 || sbuf_addf(o, "$%zu", base + i) < 0)
            abort();
        pos = sp[i].b;
    }
    if (sbuf_addstr(o, sql + pos) < 0)
        abort();
}

/* A placeholder pg_query wrote: $n with n >= base (n is in tree-walk order, e.g. OFFSET
 * before LIMIT, so any such number is accepted). */
static bool placeholder_at(const char *s, unsigned base, size_t *len)
{
    if (s[0] != '$' || !isdigit((unsigned char)s[1]))
        return false;
    char *end;
    unsigned long v = strtoul(s + 1, &end, 10);
    if (v < base)
        return false;
    *len = (size_t)(end - s);
    return true;
}

enum verdict { SAME, EXTRA, UESCAPE_DIFF, MISMATCH };

/*
 * Align pg_query's output with the statement, given our spans: pg_query replaced a
 * subset of them (each with exactly our boundaries) or the verdict is MISMATCH.
 * *extra counts our spans pg_query kept.
 */
static enum verdict align(const char *sql, const char *pg, const struct cspan *sp, size_t k,
                          unsigned base, size_t *extra, bool *uescape_seen)
{
    size_t i = 0, j = 0;
    *extra = 0;
    *uescape_seen = false;
    for (size_t c = 0; c < k; c++) {
        size_t lit = sp[c].a - i, pl;
        if (sp[c].a < i || strncmp(sql + i, pg + j, lit) != 0)
            return MISMATCH;
        i = sp[c].a;
        j += lit;
        size_t ql;
        if (placeholder_at(pg + j, base, &pl) && !placeholder_at(sql + i, base, &ql)) {
            j += pl;
            if (sp[c].uescape) {
                /* pg_query replaced U&'..' only: the UESCAPE clause follows literally. */
                const char *u = strstr(sql + i, "UESCAPE");
                if (!u || (size_t)(u - sql) > sp[c].b)
                    return MISMATCH;
                size_t rest = sp[c].b - (size_t)(u - sql);
                const char *pu = strstr(pg + j, "UESCAPE");
                if (!pu || strncmp(pu, u, rest) != 0)
                    return MISMATCH;
                j = (size_t)(pu - pg) + rest;
                *uescape_seen = true;
            }
            i = sp[c].b;
        } else {
            ++*extra; /* kept by pg_query: compared as literal text below */
        }
    }
    if (strcmp(sql + i, pg + j) != 0)
        return MISMATCH;
    return *extra ? EXTRA : *uescape_seen ? UESCAPE_DIFF : SAME;
}

/* The top-level statement types, from pg_query_parse's JSON ("SelectStmt", ...). */
static bool is_utility(const char *sql)
{
    static const char *const plannable[] = { "SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt",
                                             "MergeStmt" };
    PgQueryParseResult p = pg_query_parse(sql);
    bool utility = false;
    if (!p.error) {
        json_t *root = json_loads(p.parse_tree, 0, NULL);
        json_t *stmts = json_object_get(root, "stmts");
        size_t i;
        json_t *st;
        json_array_foreach(stmts, i, st)
        {
            const char *type;
            json_t *v;
            json_object_foreach(json_object_get(st, "stmt"), type, v)
            {
                bool found = false;
                for (size_t t = 0; t < sizeof(plannable) / sizeof(plannable[0]); t++)
                    found |= strcmp(type, plannable[t]) == 0;
                if (!found)
                    utility = true;
            }
        }
        json_decref(root);
    }
    pg_query_free_parse_result(p);
    return utility;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: oracle_literals SOURCE_DIR [-v]\n");
        return 2;
    }
    bool verbose = argc > 2 && !strcmp(argv[2], "-v");
    struct stmts s = { 0 };
    int files = fixture_sql_foreach(argv[1], on_record, &s);
    if (files < 0)
        return 1;
    size_t from_fixtures = s.n;
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/tests/cases/normalize", argv[1]);
    add_case_inputs(&s, dir);

    struct normalizer *nz = normalize_new(NULL);
    struct sbuf ours = SBUF_INIT;
    size_t parsed = 0, same = 0, extra_stmts = 0, extra_spans = 0, uesc = 0, failed = 0,
           rejected = 0, constants = 0;
    static struct cspan sp[1 << 16];

    for (size_t i = 0; i < s.n; i++) {
        const char *sql = s.v[i];
        PgQueryNormalizeResult pg = pg_query_normalize(sql);
        if (pg.error) {
            rejected++;
            if (verbose)
                printf("skip (PostgreSQL 15 rejects it: %s): %.80s\n", pg.error->message, sql);
            pg_query_free_normalize_result(pg);
            continue;
        }
        parsed++;
        unsigned maxp;
        size_t k = our_spans(nz, sql, sp, sizeof(sp) / sizeof(sp[0]), &maxp);
        constants += k;
        size_t extra;
        bool ues;
        enum verdict v = align(sql, pg.normalized_query, sp, k, maxp + 1, &extra, &ues);
        if (v == EXTRA && !is_utility(sql))
            v = MISMATCH;
        switch (v) {
        case SAME: same++; break;
        case UESCAPE_DIFF: uesc++; break;
        case EXTRA:
            extra_stmts++;
            extra_spans += extra;
            if (verbose)
                printf("utility (we replace %zu more): %.100s\n", extra, sql);
            break;
        case MISMATCH:
            failed++;
            our_text(sql, sp, k, maxp + 1, &ours);
            printf("MISMATCH\n  statement:  %s\n  pg_query:   %s\n  pgsift:     %s\n", sql,
                   pg.normalized_query, ours.buf);
            break;
        }
        pg_query_free_normalize_result(pg);
    }
    printf("literal-boundary oracle (libpg_query %s): %zu statements (%zu from %d fixture "
           "files, %zu from case files; %zu case inputs marked :oracle-skip), %zu rejected by "
           "PostgreSQL 15\n",
           PG_VERSION, s.n, from_fixtures, files, s.n - from_fixtures, oracle_skipped, rejected);
    printf("  %zu parsed: %zu identical, %zu utility statements where we replace %zu more "
           "constants (allowed), %zu UESCAPE clauses (allowed), %zu mismatches; %zu constants "
           "checked\n",
           parsed, same, extra_stmts, extra_spans, uesc, failed, constants);

    normalize_free(nz);
    sbuf_release(&ours);
    for (size_t i = 0; i < s.n; i++)
        free(s.v[i]);
    free(s.v);
    pg_query_exit();
    if (parsed == 0) {
        printf("no statement to check\n");
        return 1;
    }
    return failed ? 1 : 0;
}
