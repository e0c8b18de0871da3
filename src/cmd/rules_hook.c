/* SPDX-License-Identifier: MIT */
/* The rules engine as a hook of the tail daemon; see rules_hook.h. */
#include <glob.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/ingest.h"
#include "cmd/rules_hook.h"
#include "config.h"
#include "core/clock.h"
#include "core/lazylib.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "rules/rules.h"

/* Evaluate at least this often while idle (the wall clock moves the watermark). */
#define IDLE_EVAL_US (15 * USEC_PER_SEC)

struct rules_hook {
    char *store_path;
    struct alertdb *db;
    struct metric_source *ms;
    struct eval_cache *cache;
    struct rule_set rs;
    struct alert_config cfg;
    bool configured, active, warn;
    int64_t last_commit_us; /* wall clock of the last commit seen (or of the start) */
    int64_t next_eval_us, next_deliver_us;
    uint64_t late_told;   /* late records of the store handle's run already logged */
    int64_t late_told_us; /* wall clock of that warning */
};

/* Records committed after the rules had evaluated past their time: said in the log, at
 * most once a minute (a source that lags would say it at every commit), with the count
 * since the last warning; late_records keeps them all (docs/rules.md, "Late records"). */
static void warn_late(struct rules_hook *h, struct store *s, int64_t now_us, bool last)
{
    struct store_run_counts rc;
    store_run_counts(s, &rc);
    if (rc.late <= h->late_told ||
        (!last && h->late_told_us && now_us - h->late_told_us < 60 * USEC_PER_SEC))
        return;
    ingest_warn_late(rc.late - h->late_told, &rc);
    h->late_told = rc.late;
    h->late_told_us = now_us;
}

struct rules_hook rules_hook_ctx;

static void print_errors(const struct sbuf *sb)
{
    const char *p = sb->buf;
    while (*p) {
        size_t len = strcspn(p, "\n");
        fprintf(stderr, "pgsift: %.*s\n", (int)len, p);
        p += len + (p[len] == '\n');
    }
}

int rules_hook_start(void *ctx, const char *store_path, struct diag *d)
{
    struct rules_hook *h = ctx;

    memset(h, 0, sizeof(*h));
    h->store_path = xstrdup(store_path);
    /* Quiet inputs move the rules by the wall clock only after allowed_lateness without a
     * commit, counted from the start: a backlog written just after it is not late (on a
     * fresh store the rules had evaluated up to the wall clock at once; QA 21a). */
    h->last_commit_us = clock_now_us();
    rule_set_init(&h->rs);
    alert_config_init(&h->cfg);
    if (alertdb_open(&h->db, store_path, true, d) < 0)
        return -1;
    h->ms = metric_store_open(store_path, d);
    return h->ms ? 0 : -1;
}

/* The rule files and the alerting sections of @c, checked; every problem printed.
 * Returns 0, or -1 with @d filled (@rs and @cfg to be released either way). */
static int load(const struct config *c, struct rule_set *rs, struct alert_config *cfg,
                struct diag *d)
{
    unsigned nerr = 0;

    rule_set_init(rs);
    alert_config_init(cfg);
    alert_config_from_yaml(cfg, (struct ydoc *)&c->y, &c->rules, c->receivers, c->route, c->inhibit,
                           c->alerting);
    for (size_t i = 0; i < c->rules.n; i++) {
        glob_t g;
        memset(&g, 0, sizeof(g));
        int grc = glob(c->rules.v[i], 0, NULL, &g);
        if (grc == GLOB_NOMATCH)
            log_warn("%s: rule files '%s': no such file", c->path ? c->path : "configuration",
                     c->rules.v[i]);
        for (size_t k = 0; grc == 0 && k < g.gl_pathc; k++) {
            if (rules_load_path(rs, g.gl_pathv[k], d) < 0) {
                globfree(&g);
                return -1;
            }
        }
        globfree(&g);
    }
    if (cfg->nerrors == 0)
        alert_config_check_rules(cfg, rs);
    /* the secret files too, whatever else is wrong: every problem at once */
    struct sbuf se = SBUF_INIT;
    unsigned nsec = alert_config_check_secret_files(cfg, &se);
    print_errors(&cfg->errors);
    print_errors(&se);
    print_errors(&rs->errors);
    print_errors(&rs->warnings);
    sbuf_release(&se);
    nerr = cfg->nerrors + nsec + rs->nerrors;
    if (nerr)
        return diag_set(d, DIAG_USAGE, "%u error%s in the rules or alerting sections", nerr,
                        nerr == 1 ? "" : "s");
    return 0;
}

int rules_hook_check(const struct config *c, struct diag *d)
{
    struct rule_set rs;
    struct alert_config cfg;
    int rc = load(c, &rs, &cfg, d);
    rule_set_release(&rs);
    alert_config_release(&cfg);
    return rc;
}

int rules_hook_configure(void *ctx, const struct config *c, struct store *s, struct diag *d)
{
    struct rules_hook *h = ctx;
    struct rule_set rs;
    struct alert_config cfg;

    (void)s;
    if (load(c, &rs, &cfg, d) < 0)
        goto fail;
    /* Every receiver sends through libcurl: loaded now, a missing library stops the start
     * (or keeps the old configuration on a reload) with its reason, instead of failing
     * the first alert hours later. */
    if (cfg.nreceivers && !lazylib_curl(d))
        goto fail;
    /* In force from now on; cached look-backs belong to the old rules. */
    rule_set_release(&h->rs);
    alert_config_release(&h->cfg);
    h->rs = rs;
    h->cfg = cfg;
    eval_cache_free(h->cache);
    h->cache = eval_cache_new();
    h->configured = true;
    h->active = h->rs.n > 0 || h->cfg.nreceivers > 0;
    h->warn = true;
    h->next_eval_us = 0;
    h->next_deliver_us = 0;
    if (h->active)
        log_note("alerting: %zu rule%s, %zu receiver%s", h->rs.n, h->rs.n == 1 ? "" : "s",
                 h->cfg.nreceivers, h->cfg.nreceivers == 1 ? "" : "s");
    return 0;
fail:
    rule_set_release(&rs);
    alert_config_release(&cfg);
    return -1;
}

static int evaluate(struct rules_hook *h, int64_t now, bool live, struct diag *d)
{
    struct engine_opts o = {
        .rules = &h->rs,
        .config = &h->cfg,
        .source = h->ms,
        .db = h->db,
        .now_us = now,
        .live = live,
        .warn_settings = h->warn,
        .cache = h->cache,
    };
    struct engine_stats st;

    h->warn = false;
    if (!h->rs.n)
        return 0;
    if (engine_run(&o, &st, d) < 0)
        return -1;
    if (st.transitions)
        log_verbose("alerting: %llu transitions, %llu notifications queued",
                    (unsigned long long)st.transitions, (unsigned long long)st.notifications);
    return 0;
}

static int deliver(struct rules_hook *h, int64_t now, struct diag *d)
{
    struct deliver_stats st;

    if (!h->cfg.nreceivers)
        return 0;
    do {
        struct deliver_opts o = { .config = &h->cfg, .db = h->db, .now_us = now };
        if (deliver_pass(&o, &st, d) < 0)
            return -1;
        now = clock_now_us();
    } while (st.more);
    /* Next: the earliest due retry, or a look for new notifications every second. */
    h->next_deliver_us =
        st.next_due_us && st.next_due_us < now + USEC_PER_SEC ? st.next_due_us : now + USEC_PER_SEC;
    return 0;
}

int rules_hook_after_commit(void *ctx, struct store *s, int64_t now_us, struct diag *d)
{
    struct rules_hook *h = ctx;

    if (!h->active)
        return 0;
    warn_late(h, s, now_us, false);
    h->last_commit_us = now_us;
    /* Data time only: a backlog being read must not let the wall clock run ahead. */
    if (evaluate(h, now_us, false, d) < 0)
        return -1;
    return deliver(h, now_us, d);
}

int64_t rules_hook_next_tick(void *ctx, int64_t now_us)
{
    struct rules_hook *h = ctx;

    if (!h->active)
        return INT64_MAX;
    int64_t next = h->next_eval_us ? h->next_eval_us : now_us;
    if (h->cfg.nreceivers && h->next_deliver_us < next)
        next = h->next_deliver_us;
    return next;
}

int rules_hook_tick(void *ctx, struct store *s, int64_t now_us, struct diag *d)
{
    struct rules_hook *h = ctx;
    int rc = 0;

    if (!h->active)
        return 0;
    /* late records counted since the last warning are said once the minute is over, even
     * when no commit follows them (QA 21c: the last ones were never said) */
    warn_late(h, s, now_us, false);
    if (now_us >= h->next_eval_us) {
        /* Idle for longer than the lateness: the inputs are quiet, not behind. */
        bool live = now_us - h->last_commit_us >= h->cfg.allowed_lateness_us;
        rc = evaluate(h, now_us, live, d);
        h->next_eval_us = now_us + IDLE_EVAL_US;
    }
    if (rc == 0 && now_us >= h->next_deliver_us)
        rc = deliver(h, now_us, d);
    return rc;
}

void rules_hook_stop(void *ctx, struct store *s)
{
    struct rules_hook *h = ctx;
    if (h->active) /* late records not said yet (QA 21c: the last ones never were) */
        warn_late(h, s, clock_now_us(), true);
}

void rules_hook_release(void *ctx)
{
    struct rules_hook *h = ctx;

    if (!h->store_path)
        return; /* never started */
    if (h->ms)
        h->ms->free(h->ms);
    alertdb_close(h->db);
    eval_cache_free(h->cache);
    rule_set_release(&h->rs);
    alert_config_release(&h->cfg);
    free(h->store_path);
    memset(h, 0, sizeof(*h));
}
