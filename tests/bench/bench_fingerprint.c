/* SPDX-License-Identifier: MIT */
/*
 * bench_fingerprint - statements per second of normalize_fingerprint() and, in the same
 * run on the same statements, of libpg_query's pg_query_fingerprint() when the build
 * found libpg_query (SIFT_HAVE_PG_QUERY). Run it from scripts/bench/fingerprint.sh on a
 * Release build, pinned to one core.
 *
 * The statements are every SQL text of the real-server fixtures in log order
 * (duplicates included, as a log has them): tests/fixtures/pg15/<run>/postgresql.json,
 * or $SIFT_FIXTURES_DIR/pg15/. Each tool gets the same number of passes over them (at
 * least --seconds of CPU time for the slower one) and is timed with the process CPU
 * clock. The fingerprinting loop also counts calls to malloc/calloc/realloc (the binary
 * is linked with --wrap): the steady state must not allocate.
 *
 *   bench_fingerprint SOURCE_DIR [--seconds S]
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef SIFT_HAVE_PG_QUERY
#include <pg_query.h>
#endif

#include "core/xalloc.h"
#include "fixture_sql.h"
#include "normalize/normalize.h"

/* ---- allocation counting (-Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc) ---- */
void *__real_malloc(size_t n);
void *__real_calloc(size_t a, size_t b);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t a, size_t b);
void *__wrap_realloc(void *p, size_t n);
static unsigned long allocations;
void *__wrap_malloc(size_t n)
{
    allocations++;
    return __real_malloc(n);
}
void *__wrap_calloc(size_t a, size_t b)
{
    allocations++;
    return __real_calloc(a, b);
}
void *__wrap_realloc(void *p, size_t n)
{
    allocations++;
    return __real_realloc(p, n);
}

struct corpus {
    char **v;
    size_t *len;
    size_t n, alloc, lalloc, bytes;
};

static void on_record(const struct fx_record *r, void *arg)
{
    struct corpus *c = arg;
    XGROW(c->v, c->n + 1, c->alloc);
    XGROW(c->len, c->n + 1, c->lalloc);
    c->len[c->n] = strlen(r->sql);
    c->bytes += c->len[c->n];
    c->v[c->n++] = xstrdup(r->sql);
}

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t sink;

static double run_pgsift(const struct corpus *c, struct normalizer *nz, size_t passes)
{
    double t0 = cpu_seconds();
    for (size_t p = 0; p < passes; p++)
        for (size_t i = 0; i < c->n; i++) {
            struct norm_result r;
            sink += normalize_fingerprint(nz, span_make(c->v[i], c->len[i]), &r);
        }
    return cpu_seconds() - t0;
}

#ifdef SIFT_HAVE_PG_QUERY
static size_t pg_errors;
static double run_pg_query(const struct corpus *c, size_t passes)
{
    double t0 = cpu_seconds();
    for (size_t p = 0; p < passes; p++)
        for (size_t i = 0; i < c->n; i++) {
            PgQueryFingerprintResult r = pg_query_fingerprint(c->v[i]);
            if (r.error)
                pg_errors += p == 0;
            else
                sink += r.fingerprint;
            pg_query_free_fingerprint_result(r);
        }
    return cpu_seconds() - t0;
}
#endif

int main(int argc, char **argv)
{
    double seconds = 2.0;
    bool only = false;
    if (argc < 2) {
        fprintf(stderr, "usage: bench_fingerprint SOURCE_DIR [--seconds S] [--pgsift-only]\n");
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = strtod(argv[++i], NULL);
        else if (!strcmp(argv[i], "--pgsift-only"))
            only = true; /* for profiling */
    }
    struct corpus c = { 0 };
    int files = fixture_sql_foreach(argv[1], on_record, &c);
    if (files <= 0 || c.n == 0) {
        fprintf(stderr, "bench_fingerprint: no fixture statements under %s/tests/fixtures/pg15\n",
                argv[1]);
        return 1;
    }
    printf("statements: %zu from %d fixture files, %.1f bytes on average\n", c.n, files,
           (double)c.bytes / (double)c.n);

    /* Warm up (buffers grow to the largest statement), then size each run to at least
     * the given CPU time. */
    struct normalizer *nz = normalize_new(NULL);
    double one = run_pgsift(&c, nz, 1);
    size_t passes = 1;
    while ((double)passes * one < seconds)
        passes *= 2;

    unsigned long before = allocations;
    double t = run_pgsift(&c, nz, passes);
    unsigned long allocs = allocations - before;
    double n = (double)c.n * (double)passes;
    double ours = n / t;
    printf("pgsift normalize_fingerprint: %12.0f statements/s  %7.1f MB/s  (%zu passes, %.2f s "
           "CPU, %lu allocations in the timed loop)\n",
           ours, (double)c.bytes * (double)passes / t / 1e6, passes, t, allocs);
#ifdef SIFT_HAVE_PG_QUERY
    if (only)
        goto out;
    double one_pg = run_pg_query(&c, 1);
    size_t pg_passes = 1;
    while ((double)pg_passes * one_pg < seconds)
        pg_passes *= 2;
    double tp = run_pg_query(&c, pg_passes);
    double theirs = (double)c.n * (double)pg_passes / tp;
    printf("libpg_query pg_query_fingerprint: %8.0f statements/s  %7.1f MB/s  (%zu passes, %.2f s "
           "CPU; %zu of %zu statements rejected by its parser)\n",
           theirs, (double)c.bytes * (double)pg_passes / tp / 1e6, pg_passes, tp, pg_errors, c.n);
    printf("ratio: pgsift is %.1fx pg_query_fingerprint\n", ours / theirs);
    pg_query_exit();
out:
#else
    (void)only;
    printf("libpg_query: not found at build time (libpg-query-dev): no comparison\n");
#endif
    normalize_free(nz);
    for (size_t i = 0; i < c.n; i++)
        free(c.v[i]);
    free(c.v);
    free(c.len);
    return allocs == 0 ? 0 : 1;
}
