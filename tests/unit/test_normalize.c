/* SPDX-License-Identifier: MIT */
/*
 * test_normalize - the public API of normalize/normalize.h: fingerprints and their hex
 * form, the acceptance statements of docs/fingerprint.md, redaction flags and limits,
 * the input bounds, no allocation per statement in the steady state (this binary is
 * linked with --wrap=malloc,calloc,realloc to count them), the token list, and
 * regressions found by fuzz_lexer (named after what they broke).
 */
#include "check.h"
#include "cputime.h"
#include "core/arena.h"
#include "core/limits.h"
#include "core/sbuf.h"
#include "core/xalloc.h"
#include "event.h"
#include "normalize/normalize.h"

/* ---- allocation counting ---- */
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

static uint64_t fp_of(const char *sql, struct norm_result *r)
{
    struct normalizer *nz = normalize_new(NULL);
    struct norm_result tmp;
    uint64_t fp = normalize_fingerprint(nz, span_cstr(sql), r ? r : &tmp);
    normalize_free(nz);
    return fp;
}

static void test_acceptance(void)
{
    struct normalizer *nz = normalize_new(NULL);
    struct norm_result a, b;
    normalize_fingerprint(nz, SPAN_LIT("SELECT * FROM t WHERE id IN (1,2,3) AND name = 'x'"), &a);
    char canon[256];
    snprintf(canon, sizeof(canon), "%.*s", (int)a.canonical.len, a.canonical.p);
    normalize_fingerprint(nz, SPAN_LIT("SELECT * FROM t WHERE id IN (4,5) AND name = 'y'"), &b);
    CHECK_EQ_U64(a.fingerprint, b.fingerprint);
    CHECK_EQ_U64(a.fingerprint_hi, b.fingerprint_hi);
    CHECK_EQ_STR(canon, "select * from t where id in ($1 /*, ... */) and name = $2");
    CHECK(!strstr(canon, "'x'") && !strchr(canon, '\''));
    CHECK_EQ_INT(a.constants, 4);
    CHECK_EQ_INT(a.params, 0);
    CHECK_EQ_INT(a.tokens, 18);
    CHECK(a.flags & NORM_LIST);
    normalize_free(nz);
}

static void test_hex_and_bits(void)
{
    char hex[17];
    normalize_fp_hex(0, hex);
    CHECK_EQ_STR(hex, "0000000000000000");
    normalize_fp_hex(0x0123456789abcdefu, hex);
    CHECK_EQ_STR(hex, "0123456789abcdef");
    struct norm_result r;
    fp_of("SELECT 1", &r);
    CHECK(r.fingerprint != r.fingerprint_hi);
    /* Deterministic across normalizers and calls; different statements differ in both
     * halves. */
    struct norm_result r2;
    fp_of("select   2", &r2);
    CHECK_EQ_U64(r.fingerprint, r2.fingerprint);
    fp_of("SELECT 1, 2", &r2);
    CHECK(r.fingerprint != r2.fingerprint && r.fingerprint_hi != r2.fingerprint_hi);
    CHECK_EQ_INT(NORM_FP_VERSION, 1);
}

static void test_options(void)
{
    struct norm_opts merge = { .merge_params = true };
    struct normalizer *nz = normalize_new(&merge);
    struct norm_result r1, r2;
    normalize_fingerprint(nz, SPAN_LIT("SELECT * FROM t WHERE id = $1"), &r1);
    normalize_fingerprint(nz, SPAN_LIT("SELECT * FROM t WHERE id = 42"), &r2);
    CHECK_EQ_U64(r1.fingerprint, r2.fingerprint);
    normalize_free(nz);
    CHECK(fp_of("SELECT * FROM t WHERE id = $1", NULL) !=
          fp_of("SELECT * FROM t WHERE id = 42", NULL));
    normalize_free(NULL); /* accepts NULL */
}

static void test_flags_and_empty(void)
{
    struct norm_result r;
    struct normalizer *nz = normalize_new(NULL);
    normalize_fingerprint(nz, SPAN_LIT(" -- nothing"), &r);
    CHECK(r.flags & NORM_EMPTY);
    CHECK_EQ_INT(r.canonical.len, 0);
    CHECK(r.canonical.p && r.canonical.p[0] == '\0');
    normalize_fingerprint(nz, SPAN_NULL, &r); /* absent text is empty text */
    CHECK(r.flags & NORM_EMPTY);
    normalize_free(nz);
    fp_of("SELECT 'open", &r);
    CHECK(r.flags & NORM_UNTERMINATED);
    fp_of("SELECT 1; SELECT 2;", &r);
    CHECK(r.flags & NORM_MULTI);
}

static void redact(struct normalizer *nz, const char *in, unsigned flags, size_t max,
                   const char *want, int want_rc)
{
    struct sbuf out = SBUF_INIT;
    int rc = normalize_redact(nz, span_cstr(in), flags, max, &out);
    CHECK_EQ_STR(out.buf, want);
    CHECK_EQ_INT(rc, want_rc);
    sbuf_release(&out);
}

static void test_redact(void)
{
    struct normalizer *nz = normalize_new(NULL);
    const char *plan = "Filter: ((name = 'bob'::text) AND (id > -42) AND flag = true)";
    redact(nz, plan, REDACT_ALL, 0, "Filter: ((name = $1::text) AND (id > $2) AND flag = $3)", 0);
    redact(nz, plan, REDACT_STRINGS, 0,
           "Filter: ((name = $1::text) AND (id > -42) AND flag = true)", 0);
    redact(nz, plan, REDACT_NUMBERS, 0,
           "Filter: ((name = 'bob'::text) AND (id > $1) AND flag = true)", 0);
    /* Not a statement: white space and ';' kept, comments still dropped. */
    redact(nz, "  SELECT 1; -- c\n", REDACT_ALL, 0, "  SELECT $1;\n", 0);
    redact(nz, "  SELECT 1; -- c\n", REDACT_ALL | REDACT_STATEMENT, 0, "SELECT $1", 0);
    /* A cap never cuts inside a placeholder, and says it cut. */
    redact(nz, "SELECT 'abc', 'def'", REDACT_ALL, 12, "SELECT $1, ", 1);
    redact(nz, "SELECT 'abc', 'def'", REDACT_ALL, 11, "SELECT $1, ", 1);
    redact(nz, "SELECT 'abc', 'def'", REDACT_ALL, 10, "SELECT $1,", 1);
    redact(nz, "SELECT 'abc', 'def'", REDACT_ALL, 8, "SELECT ", 1);
    /* Appends to what @out holds; the cap counts from there. */
    struct sbuf out = SBUF_INIT;
    CHECK(sbuf_addstr(&out, "plan: ") == 0);
    CHECK_EQ_INT(normalize_redact(nz, SPAN_LIT("x = 'y'"), REDACT_ALL, 6, &out), 0);
    CHECK_EQ_STR(out.buf, "plan: x = $1");
    sbuf_release(&out);
    normalize_free(nz);
}

/* SIFT_MAX_STATEMENT_BYTES at limit-1, limit, limit+1: the result covers the prefix and
 * says so; the sample never holds bytes past the last token read. */
static void test_statement_limit(void)
{
    size_t max = SIFT_MAX_STATEMENT_BYTES;
    char *s = xmalloc(max + 16);
    struct normalizer *nz = normalize_new(NULL);
    for (size_t len = max - 1; len <= max + 1; len++) {
        memset(s, ' ', len);
        memcpy(s, "SELECT 1", 8);
        memcpy(s + len - 3, "'x'", 3); /* a literal that straddles the limit at max+1 */
        struct norm_result r;
        normalize_fingerprint(nz, span_make(s, len), &r);
        CHECK_EQ_INT(!!(r.flags & NORM_TRUNCATED), len > max);
        CHECK_EQ_INT(!!(r.flags & NORM_UNTERMINATED), len > max); /* "'x" cut */
        struct sbuf out = SBUF_INIT;
        int rc = normalize_redact(nz, span_make(s, len), REDACT_ALL | REDACT_STATEMENT, 0, &out);
        CHECK(!strncmp(out.buf, "SELECT $1 ", 10));
        CHECK(out.len > 12 && !strcmp(out.buf + out.len - 3, " $2"));
        CHECK(!strchr(out.buf, '\'') && !strchr(out.buf, 'x'));
        CHECK_EQ_INT(rc, len > max);
        sbuf_release(&out);
    }
    free(s);
    normalize_free(nz);
}

static void test_token_limit(void)
{
    size_t tmax = SIFT_MAX_TOKENS;
    char *s = xmalloc(2 * (tmax + 1) + 16);
    struct normalizer *nz = normalize_new(NULL);
    for (size_t ntok = tmax - 1; ntok <= tmax + 1; ntok++) {
        for (size_t i = 0; i < ntok; i++)
            memcpy(s + 2 * i, "1 ", 2);
        struct norm_result r;
        normalize_fingerprint(nz, span_make(s, 2 * ntok), &r);
        CHECK_EQ_INT(r.tokens, ntok <= tmax ? ntok : tmax);
        CHECK_EQ_INT(!!(r.flags & NORM_TRUNCATED), ntok > tmax);
    }
    free(s);
    normalize_free(nz);
}

/* normalize.h: "allocates nothing per statement in the steady state". */
static void test_no_allocation(void)
{
    static const char *const mix[] = {
        "SELECT abalance FROM pgbench_accounts WHERE aid = 12345;",
        "UPDATE pgbench_accounts SET abalance = abalance + -4373 WHERE aid = $1",
        "INSERT INTO tags (item_id, tag) VALUES (4, 'd'), (5, 'e'), (6, NULL)",
        "SELECT * FROM items WHERE id = ANY (ARRAY[13, 14]) AND x::numeric(10,2) > 0",
        "PREPARE p (int) AS SELECT $$body$$, E'\\n', U&'x' UESCAPE '!' /* c */",
        "BEGIN",
    };
    struct normalizer *nz = normalize_new(NULL);
    struct norm_result r;
    struct sbuf out = SBUF_INIT;
    for (size_t i = 0; i < ARRAY_SIZE(mix); i++) { /* warm up */
        normalize_fingerprint(nz, span_cstr(mix[i]), &r);
        (void)normalize_redact(nz, span_cstr(mix[i]), REDACT_ALL | REDACT_STATEMENT, 0, &out);
    }
    unsigned long before = allocations;
    for (int k = 0; k < 100; k++)
        for (size_t i = 0; i < ARRAY_SIZE(mix); i++) {
            normalize_fingerprint(nz, span_cstr(mix[i]), &r);
            sbuf_reset(&out);
            (void)normalize_redact(nz, span_cstr(mix[i]), REDACT_ALL | REDACT_STATEMENT, 0, &out);
        }
    CHECK_EQ_INT(allocations - before, 0);
    /* A larger statement grows the buffers once, then no more. */
    char big[8192];
    memset(big, ' ', sizeof(big));
    memcpy(big, "SELECT 1", 8);
    normalize_fingerprint(nz, span_make(big, sizeof(big)), &r);
    before = allocations;
    normalize_fingerprint(nz, span_make(big, sizeof(big)), &r);
    CHECK_EQ_INT(allocations - before, 0);
    sbuf_release(&out);
    normalize_free(nz);
}

static void test_tokens(void)
{
    struct normalizer *nz = normalize_new(NULL);
    struct norm_result r;
    const char *sql = "SELECT x, - 5, 'a', $1 FROM \"T\" ORDER BY 1";
    normalize_fingerprint(nz, span_cstr(sql), &r);
    CHECK_EQ_INT(normalize_token_count(nz), 14);
    struct norm_token t;
    normalize_token(nz, 0, &t);
    CHECK_EQ_STR(t.kind, "keyword");
    CHECK_EQ_STR(t.role, "");
    normalize_token(nz, 3, &t);
    CHECK_EQ_STR(t.kind, "operator");
    CHECK_EQ_STR(t.role, "sign");
    normalize_token(nz, 4, &t);
    CHECK_EQ_STR(t.role, "constant");
    CHECK_EQ_INT(t.offset, 12);
    CHECK_EQ_INT(t.length, 1);
    normalize_token(nz, 6, &t);
    CHECK_EQ_STR(t.kind, "string");
    normalize_token(nz, 8, &t);
    CHECK_EQ_STR(t.kind, "parameter");
    CHECK_EQ_STR(t.role, "parameter");
    normalize_token(nz, 10, &t);
    CHECK_EQ_STR(t.kind, "quoted_identifier");
    normalize_token(nz, 13, &t);
    CHECK_EQ_STR(t.role, "position");
    normalize_free(nz);
}

static void test_event(void)
{
    struct normalizer *nz = normalize_new(NULL);
    struct arena a;
    struct event ev;
    arena_init(&a, 4096);

    event_clear(&ev);
    CHECK(!normalize_event(nz, &ev, &a)); /* no SQL: untouched */
    CHECK(!(ev.flags & EVENT_HAS_FINGERPRINT));
    CHECK(!span_present(ev.normalized));

    ev.statement = SPAN_LIT("SELECT 1 FROM t WHERE x = 'err'");
    CHECK(normalize_event(nz, &ev, &a));
    CHECK(ev.flags & EVENT_HAS_FINGERPRINT);
    CHECK_EQ_SPAN(ev.normalized, "select $1 from t where x = $2");
    uint64_t from_statement = ev.fingerprint;

    ev.query = SPAN_LIT("select 2 from T where X = 'ok'"); /* query wins over statement */
    CHECK(normalize_event(nz, &ev, &a));
    CHECK_EQ_U64(ev.fingerprint, from_statement);
    struct norm_result r;
    normalize_fingerprint(nz, SPAN_LIT("SELECT 99"), &r);          /* reuses the normalizer... */
    CHECK_EQ_SPAN(ev.normalized, "select $1 from t where x = $2"); /* ...the copy stays */
    CHECK_EQ_U64(ev.fingerprint_hi,
                 fp_of("SELECT 1 FROM t WHERE x = 3", &r) ? r.fingerprint_hi : 0);
    arena_release(&a);
    normalize_free(nz);
}

/* normalize_event() with a text -> fingerprint cache: the same result as a fresh
 * normalizer for every text, hits only for texts within SIFT_FP_CACHE_TEXT_BYTES, and
 * the cache's entries and bytes within their bounds. */
static void check_event_fp(struct normalizer *nz, struct normalizer *fresh, struct arena *a,
                           struct span sql)
{
    struct event ev;
    struct norm_result r;
    event_clear(&ev);
    ev.query = sql;
    CHECK(normalize_event(nz, &ev, a));
    normalize_fingerprint(fresh, sql, &r);
    CHECK_EQ_U64(ev.fingerprint, r.fingerprint);
    CHECK_EQ_U64(ev.fingerprint_hi, r.fingerprint_hi);
    CHECK(span_eq(ev.normalized, r.canonical));
}

static void cache_len_case(size_t len, bool cached)
{
    struct normalizer *nz = normalize_new(NULL), *fresh = normalize_new(NULL);
    struct arena a;
    struct norm_cache_stats cs;
    arena_init(&a, 4096);
    char *sql = xmalloc(len);
    memset(sql, ' ', len);
    memcpy(sql, "SELECT 42 FROM t", 16);
    for (int i = 0; i < 3; i++)
        check_event_fp(nz, fresh, &a, span_make(sql, len));
    normalize_cache_stats(nz, &cs);
    CHECK_EQ_U64(cs.hits, cached ? 2 : 0);
    CHECK_EQ_U64(cs.misses, cached ? 1 : 3);
    CHECK_EQ_U64(cs.entries, cached ? 1 : 0);
    free(sql);
    arena_release(&a);
    normalize_free(nz);
    normalize_free(fresh);
}

static void test_event_cache(void)
{
    cache_len_case(SIFT_FP_CACHE_TEXT_BYTES - 1, true);
    cache_len_case(SIFT_FP_CACHE_TEXT_BYTES, true);
    cache_len_case(SIFT_FP_CACHE_TEXT_BYTES + 1, false);

    /* Many distinct texts, then again: results stay right while entries are replaced. */
    struct normalizer *nz = normalize_new(NULL), *fresh = normalize_new(NULL);
    struct arena a;
    struct norm_cache_stats cs;
    arena_init(&a, 1 << 16);
    char buf[128];
    for (int round = 0; round < 2; round++) {
        for (unsigned i = 0; i < 3 * SIFT_FP_CACHE_SLOTS; i++) {
            int n =
                snprintf(buf, sizeof(buf), "select c%u from t%u where x = %u", i % 997, i, i * 7);
            check_event_fp(nz, fresh, &a, span_make(buf, (size_t)n));
            if (i % 1024 == 0)
                arena_reset(&a);
        }
    }
    normalize_cache_stats(nz, &cs);
    CHECK(cs.entries <= SIFT_FP_CACHE_SLOTS);
    CHECK(cs.bytes <= SIFT_FP_CACHE_BYTES);
    CHECK(cs.entries > SIFT_FP_CACHE_SLOTS / 2);
    CHECK_EQ_U64(cs.hits + cs.misses, 6 * SIFT_FP_CACHE_SLOTS);

    /* Each text twice in a row (the previous record's entry answers the second), then a
     * text of the same length that differs in one byte: right results while entries are
     * replaced under the remembered one, and the same hit count as the table alone. */
    struct norm_cache_stats before;
    normalize_cache_stats(nz, &before);
    for (unsigned i = 0; i < 3 * SIFT_FP_CACHE_SLOTS; i++) {
        int n = snprintf(buf, sizeof(buf), "select r%05u from t where x = 1", i);
        check_event_fp(nz, fresh, &a, span_make(buf, (size_t)n));
        check_event_fp(nz, fresh, &a, span_make(buf, (size_t)n));
        buf[n - 1] = '2';
        check_event_fp(nz, fresh, &a, span_make(buf, (size_t)n));
        if (i % 256 == 0)
            arena_reset(&a);
    }
    normalize_cache_stats(nz, &cs);
    CHECK_EQ_U64(cs.hits - before.hits, 3 * SIFT_FP_CACHE_SLOTS);
    CHECK_EQ_U64(cs.misses - before.misses, 6 * SIFT_FP_CACHE_SLOTS);

    /* Long texts: the byte bound holds (more texts than fit). */
    size_t len = SIFT_FP_CACHE_TEXT_BYTES - 100;
    char *big = xmalloc(len);
    memset(big, ' ', len);
    for (unsigned i = 0; i < 2 * SIFT_FP_CACHE_BYTES / len; i++) {
        int n = snprintf(big, len, "select c%u from t", i);
        big[n] = ' ';
        check_event_fp(nz, fresh, &a, span_make(big, len));
        normalize_cache_stats(nz, &cs);
        CHECK(cs.bytes <= SIFT_FP_CACHE_BYTES);
        arena_reset(&a);
    }
    free(big);
    arena_release(&a);
    normalize_free(nz);
    normalize_free(fresh);
}

/* fuzz_lexer regressions: the canonical text must be a fixed point (parameters merged)
 * and must not depend on literal values. */
static void fixed_point(const char *sql, size_t len)
{
    struct norm_opts o = { .merge_params = true };
    struct normalizer *nz = normalize_new(&o);
    struct norm_result r1, r2;
    normalize_fingerprint(nz, span_make(sql, len), &r1);
    char *c = xmemdupz(r1.canonical.p, r1.canonical.len);
    normalize_fingerprint(nz, span_make(c, r1.canonical.len), &r2);
    CHECK_MSG(r1.fingerprint == r2.fingerprint, "not a fixed point: %s -> %.*s", c,
              (int)r2.canonical.len, r2.canonical.p);
    free(c);
    normalize_free(nz);
}
#define FIXED_POINT(lit) fixed_point((lit), sizeof(lit) - 1)

static void test_fuzz_alias_chain(void)
{
    FIXED_POINT("SELECT id c F");
    FIXED_POINT("SELECT '\\' AS one_ AS u, 'x' e AS v, 1");
    FIXED_POINT("SELECT U&'d' e AS u, 1");
}

static void test_fuzz_position_before_null(void)
{
    FIXED_POINT("SELECT a FROM t ORDER BY 3 DESC, 1 NULL");
}

static void test_fuzz_alias_typmod(void)
{
    FIXED_POINT("SELECT xy AS varchar(20)), z");
}

static void test_fuzz_tokens_that_merge(void)
{
    FIXED_POINT("SELECT a[1: :2], a[1: =2], x. .5, x. 5, 1 .x, ORDER BY 1 .x");
}

static void test_fuzz_invalid_utf8_truncation(void)
{
    char s[128] = "SELECT ";
    memset(s + 7, 0x8f, 70);
    memcpy(s + 77, "U&'d' x", 7);
    fixed_point(s, 84);
    struct norm_result r;
    struct normalizer *nz = normalize_new(NULL);
    normalize_fingerprint(nz, span_make(s, 84), &r);
    CHECK(r.canonical.len > 63); /* the word is cut to 63 bytes, not to nothing */
    normalize_free(nz);
}

/* CPU time of normalizing @reps nested "@open" ... @close, and of 4x as many: linear
 * time is about 4x, quadratic 16x. The least of 5 runs each, taken in turn
 * (test_least_time()). */
static double nest_ratio(const char *open, const char *close, size_t reps)
{
    struct normalizer *nz = normalize_new(NULL);
    struct sbuf sql[2] = { SBUF_INIT, SBUF_INIT };
    for (int r = 0; r < 2; r++) {
        size_t n = r ? 4 * reps : reps, ol = strlen(open), cl = strlen(close);
        for (size_t i = 0; i < n; i++)
            CHECK(sbuf_add(&sql[r], open, ol) == 0);
        CHECK(sbuf_addch(&sql[r], 'x') == 0);
        for (size_t i = 0; i < n; i++)
            CHECK(sbuf_add(&sql[r], close, cl) == 0);
    }
    double t[2] = { TEST_NO_TIME, TEST_NO_TIME };
    for (int k = 0; k < 5; k++)
        for (int r = 0; r < 2; r++) {
            struct norm_result res;
            double t0 = test_cpu_seconds();
            normalize_fingerprint(nz, sbuf_span(&sql[r]), &res);
            test_least_time(&t[r], test_cpu_seconds() - t0);
        }
    sbuf_release(&sql[0]);
    sbuf_release(&sql[1]);
    normalize_free(nz);
    return test_time_ratio(t[0], t[1]);
}

/* Hostile statements stay linear: WHERE conditions in parentheses nested ever deeper
 * (each WHERE looks at the pair after it: once a ';' check scanned to its close). */
static void test_linear_time(void)
{
    CHECK(nest_ratio("SELECT 1 WHERE (", ")", 5000) < 10);
    CHECK(nest_ratio("SELECT 1 HAVING ((", "))", 5000) < 10);
}

static void test_command(void)
{
    static const struct {
        const char *sql, *want;
    } cases[] = {
        { "select 1", "select" },
        { "  (SELECT a FROM t) UNION (SELECT b FROM u)", "select" },
        { "TABLE t", "select" },
        { "values ($1), ($2)", "select" },
        { "/* app=web */ -- note\n INSERT INTO t VALUES ($1)", "insert" },
        { "/* nested /* comments */ end here */ update t set a = $1", "update" },
        { "update acct set bal = bal + $1 where id = $2", "update" },
        { "Delete from t", "delete" },
        { "merge into t using s on t.id = s.id when matched then do nothing", "merge" },
        { "COPY t FROM STDIN", "copy" },
        { "with x as (select 1) delete from t", "cte" },
        { "create index on t (a)", "ddl" },
        { "TRUNCATE t", "ddl" },
        { "security label on table t is $1", "ddl" },
        { "begin", "tcl" },
        { "COMMIT", "tcl" },
        { "savepoint s1", "tcl" },
        { "declare c cursor for select 1", "cursor" },
        { "fetch 10 from c", "cursor" },
        { "explain select 1", "other" },
        { "set search_path = $1", "other" },
        { "selectivity", "other" },
        { "select1", "other" },
        { "update_t", "other" },
        { "", "other" },
        { "/* unterminated", "other" },
        { "((((", "other" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        CHECK_EQ_STR(normalize_command(span_cstr(cases[i].sql)), cases[i].want);
    CHECK_EQ_STR(normalize_command(SPAN_NULL), "other");
    /* The list names every kind the function returns. */
    static const char *const all[] = { NORMALIZE_COMMANDS };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *c = normalize_command(span_cstr(cases[i].sql));
        bool found = false;
        for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++)
            found |= !strcmp(all[k], c);
        CHECK(found);
    }
}

TEST_LIST = {
    { "command", test_command },
    { "linear_time", test_linear_time },
    { "acceptance", test_acceptance },
    { "hex_and_bits", test_hex_and_bits },
    { "options", test_options },
    { "flags_and_empty", test_flags_and_empty },
    { "redact", test_redact },
    { "statement_limit", test_statement_limit },
    { "token_limit", test_token_limit },
    { "no_allocation", test_no_allocation },
    { "tokens", test_tokens },
    { "event", test_event },
    { "event_cache", test_event_cache },
    { "fuzz_alias_chain", test_fuzz_alias_chain },
    { "fuzz_position_before_null", test_fuzz_position_before_null },
    { "fuzz_alias_typmod", test_fuzz_alias_typmod },
    { "fuzz_tokens_that_merge", test_fuzz_tokens_that_merge },
    { "fuzz_invalid_utf8_truncation", test_fuzz_invalid_utf8_truncation },
    { NULL, NULL },
};
