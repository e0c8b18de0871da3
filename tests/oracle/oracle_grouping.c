/* SPDX-License-Identifier: MIT */
/*
 * oracle_grouping - pg_stat_statements as the grouping oracle of the normalizer
 * (docs/fingerprint.md, "Validation").
 *
 * Over the real PostgreSQL 15 fixtures (pgbench in the simple, extended and prepared
 * protocols plus the custom workload), every call - a "duration: ... statement:" or
 * "duration: ... execute <name>:" record with a non-zero query_id, read from jsonlog
 * (fixture_sql.c, without the log parser) - is put in the table
 * (database, fingerprint) x (database, query_id). Multi-statement strings are left out:
 * the server logs one duration with the last statement's id for the whole string.
 *
 * It prints purity (share of calls in the dominant query_id of their fingerprint) and
 * inverse purity (share of calls in the dominant fingerprint of their query_id), and
 * every merge (a fingerprint holding several query ids) and split (a query id under
 * several fingerprints) with its class, found by re-fingerprinting the two statements:
 *   merges (deliberate):
 *     in-list     - the same with keep_lists: IN-list / ARRAY length
 *     values-rows - the same with keep_values_rows: VALUES row count
 *     int-width   - the same with numeric_types: int4 vs int8 vs numeric constants
 *     utility     - both are utility statements: PostgreSQL 15 hashes their text
 *     same-text   - the statements are equal but for literal values (equal samples):
 *                   the same text names other objects (search_path, a re-created
 *                   table); the catalog is not in the log
 *   splits:
 *     qualified   - equal once "schema." / "alias." qualifiers and "AS alias" are
 *                   removed: pg_stat_statements resolves names to OIDs, we cannot
 *     prepared    - SQL PREPARE / EXECUTE: logged with the prepared query's id; the
 *                   EXECUTE text does not contain that query (its DETAIL does)
 *     same-text   - the other side of a same-text merge
 * It fails when a merge or split has no class, when purity or inverse purity over all
 * calls is below 0.99 once the classified differences count as agreements ("modulo
 * the classes"), or when the raw purity or inverse purity of the pgbench calls (the
 * TPC-B-like and custom scripts, application_name pgbench) is below 0.99. The raw
 * numbers over all calls are printed too: the fixture's psql sessions are made of the
 * class cases, so they are far below what a real workload gives.
 *
 *   oracle_grouping SOURCE_DIR     (exit 77 when there are no fixtures)
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sbuf.h"
#include "core/xalloc.h"
#include "fixture_sql.h"
#include "normalize/normalize.h"

struct call {
    uint64_t fp;
    int64_t qid;
    char *db, *sql;
    bool pgbench; /* application_name pgbench: the TPC-B and custom scripts */
};

struct state {
    struct normalizer *nz;
    struct call *v;
    size_t n, alloc;
    size_t multi, no_qid;
};

static void on_record(const struct fx_record *r, void *arg)
{
    struct state *st = arg;
    struct norm_result res;
    if (!r->has_duration || (r->kind != FX_STATEMENT && r->kind != FX_EXECUTE))
        return;
    if (r->query_id == 0) {
        st->no_qid++;
        return;
    }
    normalize_fingerprint(st->nz, span_cstr(r->sql), &res);
    if (res.flags & NORM_MULTI) {
        st->multi++;
        return;
    }
    XGROW(st->v, st->n + 1, st->alloc);
    st->v[st->n++] = (struct call){ res.fingerprint, r->query_id, xstrdup(r->db), xstrdup(r->sql),
                                    !strcmp(r->app, "pgbench") };
}

static uint64_t fp_with(const char *sql, const struct norm_opts *o)
{
    struct normalizer *nz = normalize_new(o);
    struct norm_result r;
    uint64_t fp = normalize_fingerprint(nz, span_cstr(sql), &r);
    normalize_free(nz);
    return fp;
}

static bool utility(const char *sql)
{
    static const char *const dml[] = { "select", "insert", "update", "delete",
                                       "merge",  "with",   "values", "table" };
    while (isspace((unsigned char)*sql))
        sql++;
    for (size_t i = 0; i < sizeof(dml) / sizeof(dml[0]); i++) {
        size_t n = strlen(dml[i]);
        if (!strncasecmp(sql, dml[i], n) && !isalnum((unsigned char)sql[n]))
            return false;
    }
    return true;
}

static const char *merge_class(const char *a, const char *b)
{
    if (utility(a) && utility(b))
        return "utility";
    if (fp_with(a, &(struct norm_opts){ .keep_lists = true }) !=
        fp_with(b, &(struct norm_opts){ .keep_lists = true }))
        return "in-list";
    if (fp_with(a, &(struct norm_opts){ .keep_values_rows = true }) !=
        fp_with(b, &(struct norm_opts){ .keep_values_rows = true }))
        return "values-rows";
    if (fp_with(a, &(struct norm_opts){ .numeric_types = true }) !=
        fp_with(b, &(struct norm_opts){ .numeric_types = true }))
        return "int-width";
    /* Only when the two texts are the same but for their literal values (their samples
     * are equal) is the difference in the catalog rather than in the text. */
    struct normalizer *nz = normalize_new(NULL);
    struct sbuf sa = SBUF_INIT, sb = SBUF_INIT;
    (void)normalize_redact(nz, span_cstr(a), REDACT_ALL | REDACT_STATEMENT, 0, &sa);
    (void)normalize_redact(nz, span_cstr(b), REDACT_ALL | REDACT_STATEMENT, 0, &sb);
    bool same = !strcmp(sa.buf, sb.buf);
    sbuf_release(&sa);
    sbuf_release(&sb);
    normalize_free(nz);
    return same ? "same-text" : "UNEXPLAINED";
}

static bool word_in(const char *w, size_t len, const char *const *set)
{
    for (; *set; set++)
        if (strlen(*set) == len && !strncmp(w, *set, len))
            return true;
    return false;
}

/* The canonical text without "word." qualifiers and "as word" aliases, and without the
 * table alias the canonical text writes without AS ("from items x where"). */
static void unqualified(const char *sql, struct sbuf *o)
{
    static const char *const table_kw[] = { "from", "join", "update", NULL };
    static const char *const follow_kw[] = {
        "where", "join",      "on",        "left",        "right",  "inner",  "full",
        "cross", "natural",   "group",     "order",       "limit",  "offset", "fetch",
        "for",   "union",     "intersect", "except",      "window", "having", "set",
        "using", "returning", "when",      "tablesample", NULL
    };
    struct normalizer *nz = normalize_new(NULL);
    struct norm_result r;
    normalize_fingerprint(nz, span_cstr(sql), &r);
    const char *s = r.canonical.p, *e = s + r.canonical.len;
    const char *w1 = NULL, *w2 = NULL; /* the last two words written, when adjacent */
    size_t l1 = 0, l2 = 0;
    sbuf_reset(o);
    while (s < e) {
        const char *w = s;
        while (w < e && (isalnum((unsigned char)*w) || *w == '_' || *w == '"'))
            w++;
        if (w > s && w < e && *w == '.') {
            s = w + 1; /* drop "qualifier." */
            continue;
        }
        if (w > s) {
            if (w2 && word_in(w2, l2, table_kw) && w1 && !word_in(w1, l1, follow_kw) &&
                !word_in(s, (size_t)(w - s), follow_kw)) {
                s = w; /* drop the alias of "from items x", and the space before it */
                if (o->len > 0 && o->buf[o->len - 1] == ' ')
                    o->buf[--o->len] = '\0';
                w1 = w2 = NULL;
                continue;
            }
            w2 = w1, l2 = l1;
            w1 = s, l1 = (size_t)(w - s);
        } else if (*s != ' ') {
            w1 = w2 = NULL;
        }
        if (e - s > 4 && !strncmp(s, " as ", 4)) {
            const char *a = s + 4;
            while (a < e && (isalnum((unsigned char)*a) || *a == '_' || *a == '"'))
                a++;
            s = a; /* drop " as alias" */
            continue;
        }
        if (w == s)
            w++;
        if (sbuf_add(o, s, (size_t)(w - s)) < 0)
            abort();
        s = w;
    }
    normalize_free(nz);
}

static bool starts_with_word(const char *sql, const char *w)
{
    while (isspace((unsigned char)*sql))
        sql++;
    size_t n = strlen(w);
    return !strncasecmp(sql, w, n) && !isalnum((unsigned char)sql[n]);
}

static const char *split_class(const char *a, const char *b)
{
    /* SQL-level PREPARE and EXECUTE are logged with the prepared query's id; EXECUTE's
     * text does not hold that query (its DETAIL "prepare: ..." does). */
    if (starts_with_word(b, "prepare") || starts_with_word(b, "execute") ||
        starts_with_word(a, "prepare") || starts_with_word(a, "execute"))
        return "prepared";
    struct sbuf ua = SBUF_INIT, ub = SBUF_INIT;
    unqualified(a, &ua);
    unqualified(b, &ub);
    bool same = !strcmp(ua.buf, ub.buf);
    sbuf_release(&ua);
    sbuf_release(&ub);
    return same ? "qualified" : NULL;
}

/* ---- the contingency table: cells (fp label, qid label) -> calls ---- */

struct cell {
    size_t fpl, qidl; /* indexes into the label arrays */
    size_t calls;
    size_t example; /* a call of this cell */
};

struct labels {
    size_t *first; /* index of the first call with that label */
    size_t n, alloc;
};

static size_t label_of(struct labels *l, const struct call *v, size_t i, bool by_fp)
{
    for (size_t k = 0; k < l->n; k++) {
        const struct call *c = &v[l->first[k]];
        if (strcmp(c->db, v[i].db) == 0 && (by_fp ? c->fp == v[i].fp : c->qid == v[i].qid))
            return k;
    }
    XGROW(l->first, l->n + 1, l->alloc);
    l->first[l->n] = i;
    return l->n++;
}

struct scores {
    size_t calls, fps, qids, unexplained;
    double purity, inverse, purity_cls, inverse_cls;
};

static struct {
    const char *name;
    size_t pairs, calls;
} classes[] = { { "in-list", 0, 0 },  { "values-rows", 0, 0 }, { "int-width", 0, 0 },
                { "utility", 0, 0 },  { "same-text", 0, 0 },   { "qualified", 0, 0 },
                { "prepared", 0, 0 }, { "UNEXPLAINED", 0, 0 } };

static void count_class(const char *cls, size_t calls)
{
    for (size_t c = 0; c < sizeof(classes) / sizeof(classes[0]); c++)
        if (!strcmp(classes[c].name, cls)) {
            classes[c].pairs++;
            classes[c].calls += calls;
        }
}

/* The table over the calls with pgbench == only (or all when !restrict); prints every
 * merge and split when verbose. */
static struct scores analyze(const struct state *st, bool restrict_, bool verbose)
{
    struct call *v = st->v;
    struct labels fpl = { 0 }, qidl = { 0 };
    struct cell *cells = NULL;
    size_t ncells = 0, calloc_ = 0, n = 0;
    struct scores sc = { 0 };

    for (size_t i = 0; i < st->n; i++) {
        if (restrict_ && !v[i].pgbench)
            continue;
        n++;
        size_t f = label_of(&fpl, v, i, true), q = label_of(&qidl, v, i, false);
        size_t k = 0;
        while (k < ncells && !(cells[k].fpl == f && cells[k].qidl == q))
            k++;
        if (k == ncells) {
            XGROW(cells, ncells + 1, calloc_);
            cells[ncells++] = (struct cell){ f, q, 0, i };
        }
        cells[k].calls++;
    }
    sc.calls = n;
    sc.fps = fpl.n;
    sc.qids = qidl.n;
    if (n == 0)
        return sc;

    size_t *fp_max = xcalloc(fpl.n + 1, sizeof(size_t)),
           *q_max = xcalloc(qidl.n + 1, sizeof(size_t));
    size_t *fp_dom = xcalloc(fpl.n + 1, sizeof(size_t)),
           *q_dom = xcalloc(qidl.n + 1, sizeof(size_t));
    for (size_t k = 0; k < ncells; k++) {
        if (cells[k].calls > fp_max[cells[k].fpl]) {
            fp_max[cells[k].fpl] = cells[k].calls;
            fp_dom[cells[k].fpl] = k;
        }
        if (cells[k].calls > q_max[cells[k].qidl]) {
            q_max[cells[k].qidl] = cells[k].calls;
            q_dom[cells[k].qidl] = k;
        }
    }
    size_t pur = 0, inv = 0, pur_cls = 0, inv_cls = 0;
    for (size_t f = 0; f < fpl.n; f++)
        pur += fp_max[f];
    for (size_t q = 0; q < qidl.n; q++)
        inv += q_max[q];

    if (verbose)
        printf("merges (one fingerprint, several query ids):\n");
    for (size_t k = 0; k < ncells; k++) {
        size_t d = fp_dom[cells[k].fpl];
        if (k == d)
            continue;
        const char *a = v[cells[d].example].sql, *b = v[cells[k].example].sql;
        const char *cls = merge_class(a, b);
        if (!strcmp(cls, "UNEXPLAINED"))
            sc.unexplained++;
        else
            pur_cls += cells[k].calls; /* a classified merge counts as agreement */
        if (!verbose)
            continue;
        count_class(cls, cells[k].calls);
        printf("  %-11s %3zu calls of %-21lld with %3zu of %-21lld\n      %.110s\n    vs %.110s\n",
               cls, cells[k].calls, (long long)v[cells[k].example].qid, cells[d].calls,
               (long long)v[cells[d].example].qid, b, a);
    }
    if (verbose)
        printf("splits (one query id, several fingerprints):\n");
    for (size_t k = 0; k < ncells; k++) {
        size_t d = q_dom[cells[k].qidl];
        if (k == d)
            continue;
        const char *a = v[cells[d].example].sql, *b = v[cells[k].example].sql;
        const char *cls = split_class(a, b);
        if (!cls) {
            /* A query id split by a merge elsewhere (same-text: the statement text is the
             * one of another query id) is that merge's consequence. */
            for (size_t j = 0; j < ncells && !cls; j++)
                if (j != k && cells[j].fpl == cells[k].fpl && cells[j].qidl != cells[k].qidl &&
                    !strcmp(merge_class(v[cells[j].example].sql, b), "same-text"))
                    cls = "same-text";
        }
        if (!cls) {
            cls = "UNEXPLAINED";
            sc.unexplained++;
        } else {
            inv_cls += cells[k].calls;
        }
        if (!verbose)
            continue;
        count_class(cls, cells[k].calls);
        printf("  %-11s %3zu calls under %016llx with %3zu under %016llx\n      %.110s\n    vs "
               "%.110s\n",
               cls, cells[k].calls, (unsigned long long)v[cells[k].example].fp, cells[d].calls,
               (unsigned long long)v[cells[d].example].fp, b, a);
    }
    sc.purity = (double)pur / (double)n;
    sc.inverse = (double)inv / (double)n;
    sc.purity_cls = (double)(pur + pur_cls) / (double)n;
    sc.inverse_cls = (double)(inv + inv_cls) / (double)n;
    free(cells);
    free(fpl.first);
    free(qidl.first);
    free(fp_max);
    free(q_max);
    free(fp_dom);
    free(q_dom);
    return sc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: oracle_grouping SOURCE_DIR\n");
        return 2;
    }
    struct state st = { .nz = normalize_new(NULL) };
    int files = fixture_sql_foreach(argv[1], on_record, &st);
    if (files <= 0 || st.n == 0) {
        if (files == 0 || st.n == 0)
            printf("grouping oracle: no fixture calls under %s/tests/fixtures/pg15: skipped\n",
                   argv[1]);
        for (size_t i = 0; i < st.n; i++) {
            free(st.v[i].db);
            free(st.v[i].sql);
        }
        free(st.v);
        normalize_free(st.nz);
        return files < 0 ? 1 : 77;
    }
    printf("grouping oracle: %zu calls from %d fixture files (%zu multi-statement strings and "
           "%zu calls without query_id left out)\n",
           st.n, files, st.multi, st.no_qid);
    struct scores all = analyze(&st, false, true);
    struct scores bench = analyze(&st, true, false);

    printf("classes:");
    for (size_t c = 0; c < sizeof(classes) / sizeof(classes[0]); c++)
        if (classes[c].pairs)
            printf(" %s %zu (%zu calls);", classes[c].name, classes[c].pairs, classes[c].calls);
    printf("\n");
    printf("all calls:     %5zu calls, %3zu fingerprints, %3zu query ids: purity %.4f, inverse "
           "purity %.4f; modulo the classes: %.4f, %.4f\n",
           all.calls, all.fps, all.qids, all.purity, all.inverse, all.purity_cls, all.inverse_cls);
    printf("pgbench calls: %5zu calls, %3zu fingerprints, %3zu query ids: purity %.4f, inverse "
           "purity %.4f\n",
           bench.calls, bench.fps, bench.qids, bench.purity, bench.inverse);

    int rc = 0;
    if (all.unexplained) {
        printf("FAIL: %zu splits or merges have no class\n", all.unexplained);
        rc = 1;
    }
    if (all.purity_cls < 0.99 || all.inverse_cls < 0.99) {
        printf("FAIL: purity or inverse purity modulo the classes below 0.99\n");
        rc = 1;
    }
    if (bench.calls == 0 || bench.purity < 0.99 || bench.inverse < 0.99) {
        printf("FAIL: pgbench purity or inverse purity below 0.99\n");
        rc = 1;
    }
    for (size_t i = 0; i < st.n; i++) {
        free(st.v[i].db);
        free(st.v[i].sql);
    }
    free(st.v);
    normalize_free(st.nz);
    return rc;
}
