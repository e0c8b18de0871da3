/* SPDX-License-Identifier: MIT */
/*
 * daemon: the hook points for the modules that run inside `pgsift tail` (rules,
 * reports): configure at start (a refusal stops the start), after_commit once records
 * are in the store, tick at the time a hook asks for, release at the end; SIGTERM from
 * inside the loop commits and returns 0.
 */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "cmd/daemon.h"
#include "core/clock.h"

struct seen {
    int configured, commits, ticks, released;
    bool refuse;
    uint64_t calls_at_commit;
};

static int h_configure(void *ctx, const struct config *c, struct store *s, struct diag *d)
{
    struct seen *st = ctx;
    st->configured++;
    CHECK(s != NULL);
    CHECK_EQ_INT(c->nsources, 1);
    if (st->refuse)
        return diag_set(d, DIAG_USAGE, "hook says no");
    return 0;
}

static int h_after_commit(void *ctx, struct store *s, int64_t now_us, struct diag *d)
{
    struct seen *st = ctx;
    struct store_totals tot;
    (void)now_us;
    st->commits++;
    if (store_totals(s, INT64_MIN, INT64_MAX, &tot, d) == 0)
        st->calls_at_commit = tot.calls;
    raise(SIGTERM); /* the daemon must commit what it has and return 0 */
    return 0;
}

static int64_t h_next_tick(void *ctx, int64_t now_us)
{
    struct seen *st = ctx;
    return st->ticks ? INT64_MAX : now_us;
}

static int h_tick(void *ctx, struct store *s, int64_t now_us, struct diag *d)
{
    struct seen *st = ctx;
    (void)s;
    (void)now_us;
    (void)d;
    st->ticks++;
    return 0;
}

static void h_release(void *ctx)
{
    ((struct seen *)ctx)->released++;
}

static void run(struct seen *st, int *rc, struct diag *d)
{
    char dir[] = "/tmp/sift-daemon.XXXXXX";
    if (!mkdtemp(dir))
        abort();
    char log[128], db[128];
    snprintf(log, sizeof(log), "%s/pg.json", dir);
    snprintf(db, sizeof(db), "%s/pgsift.db", dir);
    FILE *f = fopen(log, "w");
    for (int i = 1; i <= 5; i++)
        fprintf(f,
                "{\"timestamp\":\"2026-01-01 00:00:0%d.000 UTC\",\"pid\":1,"
                "\"error_severity\":\"LOG\",\"message\":\"duration: %d.000 ms  statement: "
                "SELECT %d\"}\n",
                i, i, i);
    fclose(f);
    struct daemon_hook hooks[] = {
        { .name = "test",
          .ctx = st,
          .configure = h_configure,
          .after_commit = h_after_commit,
          .next_tick_us = h_next_tick,
          .tick = h_tick,
          .release = h_release },
        { .name = NULL },
    };
    const char *paths[] = { log };
    struct daemon_opts o = { .paths = paths,
                             .npaths = 1,
                             .format = "jsonlog",
                             .db_path = db,
                             .db_explicit = true,
                             .hooks = hooks };
    *rc = daemon_run(&o, d);
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0) /* banned-ok: test cleanup of its own temporary directory */
        abort();
}

static void test_hooks(void)
{
    struct seen st = { 0 };
    struct diag d = DIAG_INIT;
    int rc;
    run(&st, &rc, &d);
    CHECK_MSG(rc == 0, "%s", d.msg);
    CHECK_EQ_INT(st.configured, 1);
    CHECK_EQ_INT(st.commits, 1);
    CHECK_EQ_U64(st.calls_at_commit, 5);
    CHECK_EQ_INT(st.ticks, 1);
    CHECK_EQ_INT(st.released, 1);
}

static void test_refused(void)
{
    struct seen st = { .refuse = true };
    struct diag d = DIAG_INIT;
    int rc;
    run(&st, &rc, &d);
    CHECK_EQ_INT(rc, -1);
    CHECK_EQ_STR(d.msg, "hook says no");
    CHECK_EQ_INT(st.commits, 0);
    CHECK_EQ_INT(st.released, 1);
}

TEST_LIST = {
    { "hooks", test_hooks },
    { "refused", test_refused },
    { NULL, NULL },
};
