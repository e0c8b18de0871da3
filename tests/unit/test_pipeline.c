/* SPDX-License-Identifier: MIT */
/*
 * pipeline: exactly once end to end on a real file. A run that "crashes" right after
 * its k-th commit (the sink's events up to that commit are kept, later ones lost, as a
 * store transaction would) and a second run started from that commit's checkpoint
 * together give the events of one uninterrupted run, for plain and gzip input.
 */
#include <stdlib.h>
#include <unistd.h>

#include <zlib.h>

#include "check.h"
#include "core/xalloc.h"
#include "parsetest.h"
#include "pipeline.h"

#define FIXTURE "fixtures/pg15/text-plans/postgresql.csv"

struct run {
    struct sbuf committed; /* events covered by the last commit */
    struct sbuf pending;   /* events since then */
    int commits, crash_at;
    struct parse_checkpoint cp;
    struct parse_skip *skip;
};

static int sink(void *ctx, struct event *ev, struct diag *d)
{
    struct run *r = ctx;
    (void)d;
    pt_render(ev, &r->pending);
    return sbuf_addch(&r->pending, '\n');
}

static int commit(void *ctx, const struct parse_checkpoint *cp, struct diag *d)
{
    struct run *r = ctx;
    if (sbuf_addspan(&r->committed, sbuf_span(&r->pending)) < 0)
        return -1;
    sbuf_reset(&r->pending);
    r->cp = *cp;
    free(r->skip);
    r->skip = NULL;
    if (cp->nskip) {
        r->skip = xmalloc(cp->nskip * sizeof(*r->skip));
        memcpy(r->skip, cp->skip, cp->nskip * sizeof(*r->skip));
    }
    r->cp.skip = r->skip;
    if (++r->commits == r->crash_at)
        return diag_set(d, DIAG_IO, "simulated crash");
    return 0;
}

static uint64_t count_lines(const char *s)
{
    uint64_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void check_crash_resume(const char *path)
{
    struct pipeline_opts o = {
        .format = "csvlog", .sink = sink, .commit = commit, .commit_lines = 97
    };
    struct pipeline_result res;
    struct diag d = DIAG_INIT;
    struct run whole = { .crash_at = -1 };
    sbuf_init(&whole.committed, 0);
    sbuf_init(&whole.pending, 0);
    o.sink_ctx = &whole;
    CHECK(pipeline_run(&o, path, &res, &d) == 0);
    uint64_t events = res.stats.events;
    CHECK(events > 500);
    CHECK_EQ_U64(res.stats.rejects, 0);
    CHECK_EQ_U64(count_lines(whole.committed.buf), events);
    CHECK(whole.commits > 5);
    pipeline_result_release(&res);

    for (int k = 1; k < whole.commits; k += 3) {
        struct run first = { .crash_at = k }, second = { .crash_at = -1 };
        sbuf_init(&first.committed, 0);
        sbuf_init(&first.pending, 0);
        sbuf_init(&second.committed, 0);
        sbuf_init(&second.pending, 0);
        diag_clear(&d);
        o.sink_ctx = &first;
        o.start_offset = 0;
        o.start_line = 0;
        o.skip = NULL;
        o.nskip = 0;
        CHECK(pipeline_run(&o, path, &res, &d) < 0);
        pipeline_result_release(&res);

        o.sink_ctx = &second;
        o.start_offset = first.cp.offset;
        o.start_line = first.cp.line;
        o.skip = first.cp.skip;
        o.nskip = first.cp.nskip;
        diag_clear(&d);
        CHECK(pipeline_run(&o, path, &res, &d) == 0);
        pipeline_result_release(&res);
        CHECK(sbuf_addspan(&first.committed, sbuf_span(&second.committed)) == 0);
        CHECK_MSG(!strcmp(first.committed.buf, whole.committed.buf),
                  "%s: crash after commit %d, resume at line %llu: events differ", path, k,
                  (unsigned long long)first.cp.line);
        sbuf_release(&first.committed);
        sbuf_release(&first.pending);
        sbuf_release(&second.committed);
        sbuf_release(&second.pending);
        free(first.skip);
        free(second.skip);
    }
    sbuf_release(&whole.committed);
    sbuf_release(&whole.pending);
    free(whole.skip);
}

static void test_crash_resume_plain(void)
{
    check_crash_resume(FIXTURE);
}

static void test_crash_resume_gzip(void)
{
    char path[] = "/tmp/sift-pipeline.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    FILE *in = fopen(FIXTURE, "rb");
    gzFile out = gzopen(path, "wb");
    char buf[65536];
    size_t n;
    CHECK(in && out);
    while (in && out && (n = fread(buf, 1, sizeof(buf), in)) > 0)
        CHECK(gzwrite(out, buf, (unsigned)n) == (int)n);
    if (in)
        fclose(in);
    if (out)
        gzclose(out);
    check_crash_resume(path);
    CHECK(unlink(path) == 0);
}

static void test_nothing_parsed(void)
{
    char path[] = "/tmp/sift-pipeline.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0 && write(fd, "not a log\n", 10) == 10);
    close(fd);
    struct pipeline_result res;
    struct diag d = DIAG_INIT;
    CHECK(pipeline_run(&(struct pipeline_opts){ .format = "auto" }, path, &res, &d) == 0);
    CHECK(res.nothing_parsed);
    CHECK_MSG(strstr(res.diagnosis.buf, "no log record could be parsed") != NULL, "%s",
              res.diagnosis.buf);
    CHECK(res.format == NULL);
    pipeline_result_release(&res);
    CHECK(pipeline_check(&(struct pipeline_opts){ .format = "bogus" }, &d) < 0);
    CHECK(unlink(path) == 0);
}

TEST_LIST = {
    { "crash_resume_plain", test_crash_resume_plain },
    { "crash_resume_gzip", test_crash_resume_gzip },
    { "nothing_parsed", test_nothing_parsed },
    { NULL, NULL },
};
