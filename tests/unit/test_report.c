/* SPDX-License-Identifier: MIT */
/* report: period and buckets across DST, analysis (rankings, regressions, new shapes),
 * redaction, the three writers on the hostile model (checked by parsing), size of a
 * 100 000-shape day, and atomic writes. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cases.h"
#include "check.h"
#include "core/clock.h"
#include "core/utf8.h"
#include "core/ydoc.h"
#include "report/report.h"
#include "report/report_int.h"
#include "report/synth.h"

static int64_t day_start(const char *tzname, int y, unsigned m, unsigned d, struct tz *tz)
{
    struct diag dg = DIAG_INIT;
    CHECK(tz_load(tz, tzname, &dg) == 0);
    return tz_local_midnight(tz, y, m, d);
}

static void period_buckets(const char *tzname, int y, unsigned m, unsigned d, size_t want)
{
    struct report r;
    struct tz tz, tz2;
    report_init(&r);
    int64_t from = day_start(tzname, y, m, d, &tz);
    int64_t days = clock_days_from_civil(y, m, d) + 1;
    int y2;
    unsigned m2, d2;
    clock_civil_from_days(days, &y2, &m2, &d2);
    int64_t to = day_start(tzname, y2, m2, d2, &tz2);
    tz_release(&tz2);
    report_set_period(&r, from, to, &tz, "x");
    CHECK_MSG(r.nbuckets == want, "%s %d-%u-%u: %zu buckets, want %zu", tzname, y, m, d, r.nbuckets,
              want);
    CHECK_EQ_INT(report_bucket_of(&r, from), 0);
    CHECK_EQ_INT(report_bucket_of(&r, from - 1), -1);
    CHECK_EQ_INT(report_bucket_of(&r, to - 1), (int64_t)want - 1);
    CHECK_EQ_INT(report_bucket_of(&r, to), -1);
    report_release(&r);
}

/* Durations in tables: one spelling per value; zero to the microsecond is "0 ms". */
static void test_fmt_ms(void)
{
    static const struct {
        double ms;
        const char *want;
    } cases[] = { { 0, "0 ms" },        { 0.0004, "0 ms" },    { 0.0005, "0.001 ms" },
                  { 0.25, "0.250 ms" }, { 2.5, "2.50 ms" },    { 12.34, "12.3 ms" },
                  { 1500, "1.50 s" },   { 90000, "1.50 min" }, { 5400000, "1.50 h" } };
    char b[FMT_MAX];
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        fmt_ms(b, sizeof(b), cases[i].ms);
        CHECK_EQ_STR(b, cases[i].want);
    }
}

static void test_period(void)
{
    period_buckets("UTC", 2026, 11, 24, 24);
    period_buckets("Europe/Paris", 2026, 3, 29, 23);
    period_buckets("Europe/Paris", 2026, 10, 25, 25);
    period_buckets("Europe/Paris", 2026, 11, 24, 24);
    period_buckets("Asia/Kolkata", 2026, 11, 24, 24);

    /* Longer periods get wider buckets, never more than REPORT_MAX_BUCKETS. */
    struct report r;
    struct tz tz;
    struct diag d = DIAG_INIT;
    report_init(&r);
    CHECK(tz_load(&tz, "UTC", &d) == 0);
    report_set_period(&r, 0, 72 * 3600 * USEC_PER_SEC, &tz, NULL);
    CHECK_EQ_INT(r.nbuckets, 36);
    CHECK_EQ_INT(r.bucket_us, 2 * 3600 * USEC_PER_SEC);
    CHECK_EQ_STR(r.day, "");
    CHECK(tz_load(&tz, "UTC", &d) == 0);
    report_set_period(&r, 0, 365 * USEC_PER_DAY, &tz, NULL);
    CHECK(r.nbuckets <= REPORT_MAX_BUCKETS);
    CHECK_EQ_INT(report_bucket_of(&r, 365 * USEC_PER_DAY - 1), (int64_t)r.nbuckets - 1);
    report_release(&r);
}

static struct report_query *q_add(struct report *r, uint64_t fp, uint64_t calls, double total,
                                  double p95)
{
    struct report_query *q = report_add_query(r);
    q->fingerprint = fp;
    q->text = report_str(r, span_cstr("SELECT $1"));
    q->calls = calls;
    q->total_ms = total;
    q->p95_ms = p95;
    q->p99_ms = p95 * 2;
    q->first_seen_us = r->from_us - USEC_PER_DAY;
    return q;
}

static void test_analyze(void)
{
    struct report r;
    struct tz tz;
    struct diag d = DIAG_INIT;
    report_init(&r);
    CHECK(tz_load(&tz, "UTC", &d) == 0);
    report_set_period(&r, 0, USEC_PER_DAY, &tz, "1970-01-01");
    q_add(&r, 5, 100, 1000, 20);                           /* 0: mean 10 */
    q_add(&r, 3, 10, 5000, 900);                           /* 1: mean 500 */
    q_add(&r, 9, 1000, 1000, 2);                           /* 2: tie on total with 0 */
    struct report_query *q = q_add(&r, 7, 50, 20000, 100); /* 3: regressed */
    q->base_days = 7;
    q->base_calls = 40;
    q->base_total_ms = 2000;
    q->base_p95_ms = 10;
    q = q_add(&r, 1, 30, 300, 5); /* 4: new today */
    q->first_seen_us = 3600 * USEC_PER_SEC;
    q_add(&r, 11, 0, 0, NAN); /* 5: no calls: never ranked */

    struct report_opts o = { .top = 3 };
    report_analyze(&r, &o);
    CHECK_EQ_INT(r.nrank[RR_TOTAL], 3);
    CHECK_EQ_INT(r.rank[RR_TOTAL][0], 3);
    CHECK_EQ_INT(r.rank[RR_TOTAL][1], 1);
    /* Equal totals: the lower fingerprint first, whatever the load order. */
    CHECK_EQ_INT(r.rank[RR_TOTAL][2], 0);
    CHECK_EQ_INT(r.rank[RR_MEAN][0], 1);
    CHECK_EQ_INT(r.rank[RR_CALLS][0], 2);
    CHECK_EQ_INT(r.rank[RR_P95][0], 1);
    CHECK_EQ_INT(r.rank[RR_P99][0], 1);
    /* Regressions: p95 10 -> 100 (x10) and total 2000 -> 20000 (x10). */
    CHECK_EQ_INT(r.nregressions, 2);
    CHECK_EQ_INT(r.regressions[0].query, 3);
    CHECK(r.regressions[0].ratio == 10);
    CHECK_EQ_INT(r.regressions[0].metric, RM_P95);
    CHECK_EQ_INT(r.regressions[1].metric, RM_TOTAL);
    CHECK_EQ_INT(r.nnew, 1);
    CHECK_EQ_INT(r.new_queries[0], 4);
    CHECK_EQ_INT(r.shapes_total, 6);
    /* Shown: every query in some table, by total time. */
    CHECK_EQ_INT(r.nshown, 5);
    CHECK_EQ_INT(r.shown[0], 3);

    /* Too few calls: no regression. */
    r.queries[3].calls = 5;
    report_analyze(&r, &o);
    CHECK_EQ_INT(r.nregressions, 0);
    report_release(&r);
}

static const char *redact(const char *in)
{
    static struct sbuf sb = SBUF_INIT;
    sbuf_reset(&sb);
    CHECK(report_redact(&sb, span_cstr(in)) == 0);
    return sb.buf;
}

static void test_redact(void)
{
    CHECK_EQ_STR(redact("duplicate key value violates unique constraint \"users_pkey\""),
                 "duplicate key value violates unique constraint \"users_pkey\"");
    CHECK_EQ_STR(redact("Key (email)=(bob@example.com) already exists."),
                 "Key (email)=(?) already exists.");
    CHECK_EQ_STR(redact("invalid input syntax for type integer: \"abc\""),
                 "invalid input syntax for type integer: \"?\"");
    CHECK_EQ_STR(redact("relation \"orders\" does not exist"),
                 "relation \"orders\" does not exist");
    CHECK_EQ_STR(
        redact("Process 4242 waits for ShareLock on transaction 777; blocked by process 9."),
        "Process ? waits for ShareLock on transaction ?; blocked by process ?.");
    CHECK_EQ_STR(redact("SELECT * FROM t1 WHERE name = 'O''Brien' AND x = 1.5"),
                 "SELECT * FROM t1 WHERE name = '?' AND x = ?");
    CHECK_EQ_STR(redact("Failing row contains (1, bob, null)."), "Failing row contains (?).");
    CHECK_EQ_STR(redact("password authentication failed for user \"app\""),
                 "password authentication failed for user \"app\"");
    CHECK_EQ_STR(redact("unterminated 'quote"), "unterminated '?'");
    CHECK_EQ_STR(redact("size 10MB and 0x1f"), "size ? and ?");
    CHECK_EQ_STR(redact(""), "");
    /* A store ingested with --keep-literals holds the values as logged (QA 20, texts of
     * PostgreSQL 15): values holding ')' or '"' end where the store's redaction ends
     * them, not at their first ')' or '"'. */
    CHECK_EQ_STR(redact("Key (email)=(a) SECRET_a () already exists."),
                 "Key (email)=(?) already exists.");
    CHECK_EQ_STR(redact("Failing row contains (12, x) SECRET_b (, bad)."),
                 "Failing row contains (?).");
    CHECK_EQ_STR(redact("invalid input syntax for type integer: \"ab\"SECRET_c\""),
                 "invalid input syntax for type integer: \"?\"");
    CHECK_EQ_STR(redact("Partition key of the failing row contains (k) = (SECRET_d)."),
                 "Partition key of the failing row contains (?) = (…).");
}

/* ---- the writers on the hostile model ---- */

static struct span *hostile(size_t *n, struct sbuf *store)
{
    FILE *f = fopen("fixtures/handmade/hostile/strings.txt", "rb");
    char line[4096];
    size_t offs[256], lens[256], k = 0;
    CHECK(f != NULL);
    if (!f)
        return NULL;
    while (k < 256 && fgets(line, sizeof(line), f)) {
        size_t len = strlen(line);
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        if (!len || line[0] == '#')
            continue;
        struct sbuf one = SBUF_INIT;
        CHECK(case_unescape(line, len, &one) == 0);
        offs[k] = store->len;
        CHECK(sbuf_addspan(store, sbuf_span(&one)) == 0);
        lens[k] = one.len;
        sbuf_release(&one);
        k++;
    }
    fclose(f);
    struct span *v = calloc(k, sizeof(*v));
    for (size_t i = 0; i < k; i++)
        v[i] = span_make(store->buf + offs[i], lens[i]);
    *n = k;
    return v;
}

static void render(struct report *r, unsigned flags, enum report_format fmt, struct sbuf *out)
{
    struct diag d = DIAG_INIT;
    struct report_opts o = { .top = 10, .flags = flags };
    sbuf_reset(out);
    CHECK(report_render(r, &o, fmt, out, &d) == 0);
    CHECK(utf8_valid(sbuf_span(out)));
}

static size_t count_ci(const char *hay, const char *needle)
{
    size_t n = 0, len = strlen(needle);
    for (const char *p = hay; *p; p++)
        if (!strncasecmp(p, needle, len))
            n++;
    return n;
}

/* Markdown: within a table every row has the same number of unescaped pipes. */
static void check_md_tables(const char *md, int min_tables)
{
    int in_table = 0, want = 0, tables = 0;
    size_t lineno = 0;
    for (const char *p = md; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        lineno++;
        if (len && p[0] == '|') {
            int pipes = 0;
            for (size_t i = 0; i < len; i++) {
                if (p[i] == '\\') {
                    i++;
                    continue;
                }
                pipes += p[i] == '|';
            }
            if (!in_table) {
                in_table = 1;
                want = pipes;
                tables++;
            }
            CHECK_MSG(pipes == want, "markdown line %zu: %d cells, table has %d: %.*s", lineno,
                      pipes - 1, want - 1, (int)len, p);
        } else {
            in_table = 0;
        }
        p += len + (nl ? 1 : 0);
    }
    CHECK(tables >= min_tables);
}

/* Every raw '<' in the output starts a tag pgsift wrote (escaped text has none): the
 * element must be one the writer uses, no attribute may be an event handler, links
 * must stay in the page. */
static void check_tags(const char *html)
{
    static const char *const allowed[] = {
        "html",  "head",  "meta",  "title",  "style",  "body", "header",  "h1",         "h2",
        "h3",    "p",     "time",  "strong", "nav",    "a",    "main",    "section",    "div",
        "table", "thead", "tbody", "tr",     "th",     "td",   "figure",  "figcaption", "svg",
        "line",  "text",  "rect",  "path",   "circle", "span", "article", "pre",        "code",
        "dl",    "dt",    "dd",    "footer", "script",
    };
    for (const char *p = html; (p = strchr(p, '<')); p++) {
        const char *t = p + 1;
        if (*t == '/' || *t == '!')
            continue;
        size_t n = strspn(t, "abcdefghijklmnopqrstuvwxyz0123456789");
        int ok = 0;
        for (size_t i = 0; i < ARRAY_SIZE(allowed); i++)
            ok |= strlen(allowed[i]) == n && !strncmp(t, allowed[i], n);
        CHECK_MSG(ok, "unexpected element <%.*s", (int)(n + 10), t);
        /* Raw text elements: their content is not markup. */
        if ((n == 6 && !strncmp(t, "script", 6)) || (n == 5 && !strncmp(t, "style", 5))) {
            const char *end = strstr(t, n == 6 ? "</script>" : "</style>");
            CHECK(end != NULL);
            if (!end)
                return;
            p = end;
            continue;
        }
        /* Attributes up to the closing '>' (values are quoted, and escaped). */
        const char *a = t + n;
        while (*a && *a != '>') {
            while (*a == ' ' || *a == '/')
                a++;
            size_t an = strcspn(a, "= >");
            CHECK_MSG(!(an >= 2 && (a[0] == 'o' || a[0] == 'O') && (a[1] == 'n' || a[1] == 'N')),
                      "event handler attribute %.*s", (int)an, a);
            int href = an == 4 && !strncmp(a, "href", 4);
            a += an;
            if (*a == '=') {
                a++;
                CHECK_MSG(*a == '"', "unquoted attribute value near %.20s", a);
                const char *end = strchr(a + 1, '"');
                if (!end)
                    break;
                if (href)
                    CHECK_MSG(a[1] == '#', "link out of the page: %.40s", a);
                a = end + 1;
            }
        }
    }
}

static void check_html(const char *html)
{
    check_tags(html);
    /* One script element: pgsift's own, allowed by hash. */
    CHECK_EQ_INT(count_ci(html, "<script"), 1);
    CHECK_EQ_INT(count_ci(html, "</script"), 1);
    CHECK_EQ_INT(count_ci(html, "<svg onload"), 0);
    CHECK_EQ_INT(count_ci(html, "<img"), 0);
    CHECK_EQ_INT(count_ci(html, "<base"), 0);
    CHECK_EQ_INT(count_ci(html, "<style"), 1);
    CHECK_EQ_INT(count_ci(html, "http-equiv=\"refresh"), 0);
    CHECK_EQ_INT(count_ci(html, "<a href=\"http"), 0);
    CHECK_EQ_INT(count_ci(html, "<!--"), 0);
    CHECK(strstr(html, "Content-Security-Policy") != NULL);
}

static void check_json(const char *js, const struct report *r)
{
    json_error_t err;
    json_t *doc = json_loads(js, JSON_ALLOW_NUL, &err);
    CHECK_MSG(doc != NULL, "JSON: %s at line %d col %d", err.text, err.line, err.column);
    if (!doc)
        return;
    static const char *const keys[] = { "period", "totals",  "queries", "errors",
                                        "events", "rejects", "alerts" };
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
        CHECK_MSG(json_object_get(doc, keys[i]) != NULL, "missing key %s", keys[i]);
    json_t *totals = json_object_get(doc, "totals");
    for (int f = 0; f < RF_COUNT; f++) {
        json_t *v = json_object_get(totals, report_figure_key((enum report_figure)f));
        if (isnan(r->totals.v[f]))
            CHECK(json_is_null(v));
        else
            CHECK(v && fabs(json_number_value(v) - r->totals.v[f]) < 1e-3);
    }
    json_t *qs = json_object_get(doc, "queries");
    CHECK_EQ_INT(json_array_size(qs), r->nshown);
    for (size_t i = 0; i < json_array_size(qs) && i < r->nshown; i++) {
        const struct report_query *q = &r->queries[r->shown[i]];
        json_t *o = json_array_get(qs, i);
        CHECK_EQ_U64(json_integer_value(json_object_get(o, "calls")), q->calls);
        CHECK(fabs(json_number_value(json_object_get(o, "total_ms")) - q->total_ms) < 1e-3);
        /* Valid UTF-8 texts come back byte for byte. */
        if (utf8_valid(q->text) && !memchr(q->text.p, 0, q->text.len)) {
            const char *t = json_string_value(json_object_get(o, "query"));
            CHECK(t && strlen(t) == q->text.len && !memcmp(t, q->text.p, q->text.len));
        }
    }
    json_decref(doc);
}

static void test_hostile_all_formats(void)
{
    struct sbuf store = SBUF_INIT, out = SBUF_INIT;
    size_t n = 0;
    struct span *h = hostile(&n, &store);
    struct report r;
    struct diag d = DIAG_INIT;
    CHECK(n >= 20);
    report_init(&r);
    struct report_synth_opts so = {
        .fingerprints = 60, .hostile = h, .nhostile = n, .tz = "Europe/Paris"
    };
    CHECK(report_synth(&r, &so, &d) == 0);
    report_analyze(&r, &(struct report_opts){ .top = 10 });
    for (unsigned flags = 0; flags <= REPORT_KEEP_LITERALS; flags++) {
        render(&r, flags, REPORT_HTML, &out);
        check_html(out.buf);
        render(&r, flags, REPORT_MD, &out);
        check_md_tables(out.buf, 10);
        CHECK_EQ_INT(count_ci(out.buf, "<script"), 0);
        CHECK_EQ_INT(count_ci(out.buf, "<svg"), 0);
        CHECK(strstr(out.buf, "\xe2\x80\xa8") == NULL);
        render(&r, flags, REPORT_JSON, &out);
        check_json(out.buf, &r);
    }
    report_release(&r);
    free(h);
    sbuf_release(&store);
    sbuf_release(&out);
}

static void test_redaction_in_output(void)
{
    struct report r;
    struct diag d = DIAG_INIT;
    struct sbuf out = SBUF_INIT;
    report_init(&r);
    CHECK(report_synth(&r, &(struct report_synth_opts){ .fingerprints = 30 }, &d) == 0);
    report_analyze(&r, NULL);
    for (int fmt = REPORT_HTML; fmt <= REPORT_JSON; fmt++) {
        /* Markdown escapes '@' (no mentions or mail links from log text). */
        const char *mail = fmt == REPORT_MD ? "user1\\@example.com" : "user1@example.com";
        render(&r, 0, (enum report_format)fmt, &out);
        /* every key of the model is formatted from its own arguments */
        CHECK(strstr(out.buf, "(null)") == NULL);
        CHECK(strstr(out.buf, "app.public.invoices") != NULL);
        CHECK(strstr(out.buf, "user1") == NULL);
        CHECK(strstr(out.buf, "secret-0") == NULL);
        CHECK(strstr(out.buf, "Key (id)=(?)") != NULL);
        render(&r, REPORT_KEEP_LITERALS, (enum report_format)fmt, &out);
        CHECK(strstr(out.buf, mail) != NULL);
        CHECK(strstr(out.buf, "secret-0") != NULL);
    }
    report_release(&r);
    sbuf_release(&out);
}

static void test_empty_report(void)
{
    struct report r;
    struct tz tz;
    struct diag d = DIAG_INIT;
    struct sbuf out = SBUF_INIT;
    report_init(&r);
    CHECK(tz_load(&tz, "UTC", &d) == 0);
    report_set_period(&r, 0, USEC_PER_DAY, &tz, "1970-01-01");
    report_analyze(&r, NULL);
    render(&r, 0, REPORT_HTML, &out);
    check_html(out.buf);
    CHECK(strstr(out.buf, "No statements with a duration in this period.") != NULL);
    render(&r, 0, REPORT_MD, &out);
    check_md_tables(out.buf, 3);
    render(&r, 0, REPORT_JSON, &out);
    check_json(out.buf, &r);
    /* Unknown numbers are null, not 0. */
    CHECK(strstr(out.buf, "\"p95_ms\":null") != NULL);
    report_release(&r);
    sbuf_release(&out);
}

static void test_size_100k(void)
{
    struct report r;
    struct diag d = DIAG_INIT;
    struct sbuf out = SBUF_INIT;
    report_init(&r);
    CHECK(report_synth(&r, &(struct report_synth_opts){ .fingerprints = 100000 }, &d) == 0);
    report_analyze(&r, NULL);
    render(&r, 0, REPORT_HTML, &out);
    CHECK_MSG(out.len <= 2u * 1000 * 1000, "HTML for 100 000 shapes is %zu bytes", out.len);
    check_html(out.buf);
    render(&r, 0, REPORT_MD, &out);
    CHECK(out.len < 300 * 1000);
    report_release(&r);
    sbuf_release(&out);
}

static void test_render_cap(void)
{
    struct report r;
    struct diag d = DIAG_INIT;
    struct sbuf out;
    report_init(&r);
    CHECK(report_synth(&r, &(struct report_synth_opts){ .fingerprints = 50 }, &d) == 0);
    report_analyze(&r, NULL);
    for (int fmt = REPORT_HTML; fmt <= REPORT_JSON; fmt++) {
        sbuf_init(&out, 4096);
        diag_clear(&d);
        CHECK(report_render(&r, NULL, (enum report_format)fmt, &out, &d) < 0);
        CHECK_EQ_INT(d.kind, DIAG_LIMIT);
        sbuf_release(&out);
    }
    report_release(&r);
}

/* ---- atomic writes ---- */

static void test_write_file(void)
{
    char dir[] = "/tmp/sift-report-XXXXXX";
    char path[256], lock[400];
    struct diag d = DIAG_INIT;
    struct stat st;
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/r.html", dir);
    snprintf(lock, sizeof(lock), "%s.lock", path);

    mode_t old = umask(077);
    CHECK(report_write_file(path, "one", 3, &d) == 0);
    umask(old);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    /* reports carry tenant metadata: owner only, also when the umask takes nothing away */
    old = umask(0);
    CHECK(report_write_file(path, "one", 3, &d) == 0);
    umask(old);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK(access(lock, F_OK) < 0);

    /* A lock held by someone else: refuse, name the lock, leave the file alone. */
    int fd = open(lock, O_CREAT | O_WRONLY, 0600);
    CHECK(fd >= 0);
    close(fd);
    CHECK(report_write_file(path, "two", 3, &d) < 0);
    CHECK_EQ_INT(d.kind, DIAG_IO);
    CHECK(strstr(d.msg, "r.html.lock") != NULL);
    FILE *f = fopen(path, "r");
    char buf[8] = "";
    CHECK(f && fread(buf, 1, sizeof(buf), f) == 3 && !memcmp(buf, "one", 3));
    if (f)
        fclose(f);
    unlink(lock);

    /* Replaced whole. */
    diag_clear(&d);
    CHECK(report_write_file(path, "three", 5, &d) == 0);
    CHECK(stat(path, &st) == 0 && st.st_size == 5);

    /* A directory that does not exist: an I/O error, no lock left behind. */
    char bad[300];
    snprintf(bad, sizeof(bad), "%s/nope/r.html", dir);
    diag_clear(&d);
    CHECK(report_write_file(bad, "x", 1, &d) < 0);
    CHECK(strstr(d.msg, "nope/r.html'") != NULL);

    /* The target is a directory: rename fails, the lock is removed. */
    char sub[300];
    snprintf(sub, sizeof(sub), "%s/sub", dir);
    CHECK(mkdir(sub, 0700) == 0);
    char inner[320];
    snprintf(inner, sizeof(inner), "%s/f", sub);
    CHECK(report_write_file(inner, "x", 1, &d) == 0);
    diag_clear(&d);
    CHECK(report_write_file(sub, "x", 1, &d) < 0);
    snprintf(lock, sizeof(lock), "%s.lock", sub);
    CHECK(access(lock, F_OK) < 0);
    unlink(inner);
    rmdir(sub);
    unlink(path);
    rmdir(dir);
}

static void test_names(void)
{
    enum report_format f;
    CHECK(report_format_from_name("html", &f) && f == REPORT_HTML);
    CHECK(report_format_from_name("md", &f) && f == REPORT_MD);
    CHECK(report_format_from_name("json", &f) && f == REPORT_JSON);
    CHECK(!report_format_from_name("csv", &f));
    CHECK_EQ_STR(report_sqlstate_name("23505"), "unique_violation");
    CHECK_EQ_STR(report_sqlstate_name("40P01"), "deadlock_detected");
    CHECK_EQ_STR(report_sqlstate_name("ZZZZZ"), "");
    CHECK_EQ_STR(report_sqlstate_class("23505"), "integrity constraint violation");
    CHECK_EQ_STR(report_sqlstate_class("4"), "");
    CHECK_EQ_STR(report_figure_key(RF_DURATION_MS), "duration_ms");
    CHECK_EQ_STR(report_rank_key(RR_P99), "p99");
}

static void touch(const char *dir, const char *name)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    CHECK(f != NULL);
    if (f)
        fclose(f);
}

static bool exists(const char *dir, const char *name)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

static void test_daily(void)
{
    char dir[] = "/tmp/sift-daily-XXXXXX";
    struct tz tz;
    struct diag d = DIAG_INIT;
    char day[11];
    int at;

    CHECK(mkdtemp(dir) != NULL);
    CHECK(report_parse_at("06:00", &at) && at == 360);
    CHECK(report_parse_at("23:59", &at) && at == 1439);
    CHECK(!report_parse_at("24:00", &at));
    CHECK(!report_parse_at("6:00", &at));
    CHECK(!report_parse_at("06:60", &at));
    CHECK(!report_parse_at(NULL, &at));

    struct report_daily cfg = { .dir = dir,
                                .at_minute = 360,
                                .keep_days = 3,
                                .formats = (1u << REPORT_HTML) | (1u << REPORT_MD) };
    CHECK(tz_load(&tz, "Europe/Paris", &d) == 0);
    /* 2026-11-25 05:30 in Paris: not yet; 06:00: due for the 24th. */
    int64_t before = INT64_C(1795581000) * USEC_PER_SEC; /* 2026-11-25T04:30:00Z */
    CHECK(!report_daily_due(&cfg, &tz, before, day));
    int64_t now = before + 1800 * USEC_PER_SEC;
    CHECK(report_daily_due(&cfg, &tz, now, day));
    CHECK_EQ_STR(day, "2026-11-24");

    /* Written: no longer due; one format missing: due again. */
    struct report r;
    report_init(&r);
    CHECK(report_synth(&r, &(struct report_synth_opts){ .fingerprints = 20, .tz = "Europe/Paris" },
                       &d) == 0);
    report_analyze(&r, NULL);
    struct sbuf written = SBUF_INIT;
    CHECK(report_daily_write(&r, &cfg, NULL, &written, &d) == 0);
    CHECK(strstr(written.buf, "pgsift-report-2026-11-24.html\n") != NULL);
    CHECK(strstr(written.buf, "pgsift-report-2026-11-24.md\n") != NULL);
    CHECK(strstr(written.buf, ".json") == NULL);
    CHECK(!report_daily_due(&cfg, &tz, now, day));
    char path[512];
    CHECK(report_daily_path(&cfg, "2026-11-24", REPORT_MD, path, sizeof(path)) == 0);
    unlink(path);
    CHECK(report_daily_due(&cfg, &tz, now, day));

    /* Pruning keeps the day and the two before; other names are never touched. */
    touch(dir, "pgsift-report-2026-11-20.html");
    touch(dir, "pgsift-report-2026-11-21.md");
    touch(dir, "pgsift-report-2026-11-22.json");
    touch(dir, "pgsift-report-2026-11-23.html");
    touch(dir, "pgsift-report-2026-11-01.txt");
    touch(dir, "notes-2026-11-01.html");
    touch(dir, "pgsift-report-2026-1-01.html");
    unsigned removed = 0;
    CHECK(report_daily_prune(&cfg, "2026-11-24", &removed, &d) == 0);
    CHECK_EQ_INT(removed, 2);
    CHECK(!exists(dir, "pgsift-report-2026-11-20.html"));
    CHECK(!exists(dir, "pgsift-report-2026-11-21.md"));
    CHECK(exists(dir, "pgsift-report-2026-11-22.json"));
    CHECK(exists(dir, "pgsift-report-2026-11-23.html"));
    CHECK(exists(dir, "pgsift-report-2026-11-24.html"));
    CHECK(exists(dir, "pgsift-report-2026-11-01.txt"));
    CHECK(exists(dir, "notes-2026-11-01.html"));
    CHECK(exists(dir, "pgsift-report-2026-1-01.html"));

    /* The summary is a few Markdown tables with the headline numbers. */
    struct sbuf sum = SBUF_INIT;
    CHECK(report_render_summary(&r, NULL, "/var/lib/pgsift/reports/x.html", &sum) == 0);
    CHECK(strstr(sum.buf, "**PostgreSQL report 2026-11-24** (Europe/Paris, UTC+01:00)") != NULL);
    CHECK(strstr(sum.buf, "| Calls |") != NULL);
    CHECK(strstr(sum.buf, "Full report: /var/lib/pgsift/reports/x.html") != NULL);
    CHECK(sum.len < 4000);
    check_md_tables(sum.buf, 3);

    sbuf_release(&sum);
    sbuf_release(&written);
    report_release(&r);
    tz_release(&tz);
    /* clean up */
    static const char *const left[] = {
        "pgsift-report-2026-11-22.json", "pgsift-report-2026-11-23.html",
        "pgsift-report-2026-11-24.html", "pgsift-report-2026-11-01.txt",
        "notes-2026-11-01.html",         "pgsift-report-2026-1-01.html",
    };
    for (size_t i = 0; i < ARRAY_SIZE(left); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, left[i]);
        unlink(path);
    }
    rmdir(dir);
}

static void test_config(void)
{
    static const char yaml[] = "dir: /var/lib/pgsift/reports\nat: \"05:30\"\nkeep_days: 7\n"
                               "formats: [html, json]\nnotify: [ops]\n";
    struct ydoc y;
    struct arena a = ARENA_INIT;
    struct report_config c;
    struct report_daily daily;

    memset(&c, 0, sizeof(c));
    ydoc_load_mem(&y, "pgsift.yaml", yaml, sizeof(yaml) - 1);
    CHECK_EQ_INT(ydoc_map(&y, ydoc_root(&y), report_config_fields, report_config_nfields, &c, &a),
                 0);
    CHECK(report_daily_from_config(&c, &daily) == NULL);
    CHECK_EQ_INT(daily.at_minute, 5 * 60 + 30);
    CHECK_EQ_INT(daily.keep_days, 7);
    CHECK_EQ_INT(daily.formats, (1u << REPORT_HTML) | (1u << REPORT_JSON));
    CHECK_EQ_INT(c.notify.n, 1);
    ydoc_release(&y);

    /* Defaults, and every bad value named. */
    static const char bad[] = "dir: x\nat: \"25:00\"\n";
    memset(&c, 0, sizeof(c));
    ydoc_load_mem(&y, "pgsift.yaml", bad, sizeof(bad) - 1);
    CHECK_EQ_INT(ydoc_map(&y, ydoc_root(&y), report_config_fields, report_config_nfields, &c, &a),
                 0);
    CHECK_EQ_INT(c.keep_days, 30);
    CHECK_EQ_STR(c.at, "25:00");
    const char *why = report_daily_from_config(&c, &daily);
    CHECK(why && strstr(why, "report.at") != NULL);
    ydoc_release(&y);
    static const char fmt[] = "dir: x\nformats: [pdf]\n";
    memset(&c, 0, sizeof(c));
    ydoc_load_mem(&y, "pgsift.yaml", fmt, sizeof(fmt) - 1);
    CHECK_EQ_INT(ydoc_map(&y, ydoc_root(&y), report_config_fields, report_config_nfields, &c, &a),
                 0);
    why = report_daily_from_config(&c, &daily);
    CHECK(why && strstr(why, "report.formats") != NULL);
    ydoc_release(&y);
    static const char only_dir[] = "dir: x\n";
    memset(&c, 0, sizeof(c));
    ydoc_load_mem(&y, "pgsift.yaml", only_dir, sizeof(only_dir) - 1);
    CHECK_EQ_INT(ydoc_map(&y, ydoc_root(&y), report_config_fields, report_config_nfields, &c, &a),
                 0);
    CHECK(report_daily_from_config(&c, &daily) == NULL);
    CHECK_EQ_INT(daily.at_minute, 360);
    CHECK_EQ_INT(daily.formats, (1u << REPORT_HTML) | (1u << REPORT_MD));
    ydoc_release(&y);
    static const char unknown[] = "dir: x\nkeep: 3\n";
    memset(&c, 0, sizeof(c));
    ydoc_load_mem(&y, "pgsift.yaml", unknown, sizeof(unknown) - 1);
    CHECK(ydoc_map(&y, ydoc_root(&y), report_config_fields, report_config_nfields, &c, &a) > 0);
    CHECK(strstr(y.errors.buf, "keep_days") != NULL);
    ydoc_release(&y);
    arena_release(&a);
}

TEST_LIST = {
    { "fmt_ms", test_fmt_ms },
    { "daily", test_daily },
    { "config", test_config },
    { "period", test_period },
    { "analyze", test_analyze },
    { "redact", test_redact },
    { "hostile_all_formats", test_hostile_all_formats },
    { "redaction_in_output", test_redaction_in_output },
    { "empty_report", test_empty_report },
    { "size_100k", test_size_100k },
    { "render_cap", test_render_cap },
    { "write_file", test_write_file },
    { "names", test_names },
    { NULL, NULL },
};
