/* SPDX-License-Identifier: MIT */
/* The core/limits.h bounds of rules and delivery, at limit - 1, limit and limit + 1. */
#include "check.h"

#include "core/limits.h"
#include "rules/alertdb_int.h"
#include "rules/deliver_int.h"

static unsigned load_errors(const char *text, struct rule_set *rs)
{
    rule_set_init(rs);
    rules_load_mem(rs, "limits.yaml", text, strlen(text));
    return rs->nerrors;
}

static void rule_with_labels(struct sbuf *sb, unsigned nlabels)
{
    sbuf_reset(sb);
    CHECK(sbuf_addstr(sb, "rules:\n  - name: r\n    kind: event\n    where: {type: deadlock}\n"
                          "    labels:\n") == 0);
    for (unsigned i = 0; i < nlabels; i++)
        CHECK(sbuf_addf(sb, "      l%u: v\n", i) == 0);
}

static void test_labels(void)
{
    struct sbuf sb = SBUF_INIT;
    struct rule_set rs;
    unsigned n[] = { SIFT_MAX_RULE_LABELS - 1, SIFT_MAX_RULE_LABELS, SIFT_MAX_RULE_LABELS + 1 };

    for (int i = 0; i < 3; i++) {
        rule_with_labels(&sb, n[i]);
        CHECK_EQ_INT(load_errors(sb.buf, &rs), i == 2 ? 1 : 0);
        if (i == 2)
            CHECK(strstr(rs.errors.buf, "more than 32 labels") != NULL);
        else
            CHECK_EQ_INT(rs.rules[0].nlabels, n[i]);
        rule_set_release(&rs);
    }
    sbuf_release(&sb);
}

static void test_text(void)
{
    struct sbuf sb = SBUF_INIT;
    struct rule_set rs;

    for (int d = -1; d <= 1; d++) {
        size_t len = SIFT_MAX_RULE_TEXT_BYTES + d;
        sbuf_reset(&sb);
        CHECK(sbuf_addstr(&sb, "rules:\n  - {name: r, kind: event, where: {type: deadlock}, "
                               "annotations: {summary: '") == 0);
        for (size_t i = 0; i < len; i++)
            CHECK(sbuf_addch(&sb, 'x') == 0);
        CHECK(sbuf_addstr(&sb, "'}}\n") == 0);
        CHECK_EQ_INT(load_errors(sb.buf, &rs), d == 1 ? 1 : 0);
        if (d == 1)
            CHECK(strstr(rs.errors.buf, "is longer than 4096 bytes") != NULL);
        rule_set_release(&rs);
    }
    sbuf_release(&sb);
}

static void test_windows(void)
{
    struct rule_set rs;
    char y[256];
    const int64_t max_min = SIFT_MAX_RULE_WINDOW_US / (60 * 1000000);
    const int64_t base_min = SIFT_MAX_RULE_BASELINE_US / (60 * 1000000);

    for (int d = -1; d <= 1; d++) {
        snprintf(y, sizeof(y),
                 "rules:\n  - {name: r, kind: threshold, metric: calls, window: %lldm, "
                 "condition: '> 1'}\n",
                 (long long)(max_min + d));
        CHECK_EQ_INT(load_errors(y, &rs), d == 1 ? 1 : 0);
        rule_set_release(&rs);
        snprintf(y, sizeof(y),
                 "rules:\n  - {name: r, kind: baseline, metric: calls, baseline: {window: %lldm},"
                 " condition: {ratio: '> 2'}}\n",
                 (long long)(base_min + d));
        CHECK_EQ_INT(load_errors(y, &rs), d == 1 ? 1 : 0);
        rule_set_release(&rs);
        snprintf(y, sizeof(y), "rules:\n  - {name: r, kind: new_fingerprint, lookback: %lldm}\n",
                 (long long)(base_min + d));
        CHECK_EQ_INT(load_errors(y, &rs), d == 1 ? 1 : 0);
        rule_set_release(&rs);
    }
}

static void test_rule_count(void)
{
    struct sbuf sb;
    struct rule_set rs;

    sbuf_init(&sb, 0);
    for (unsigned n = SIFT_MAX_RULES - 1; n <= SIFT_MAX_RULES + 1; n++) {
        sbuf_reset(&sb);
        CHECK(sbuf_addstr(&sb, "rules:\n") == 0);
        for (unsigned i = 0; i < n; i++)
            CHECK(sbuf_addf(&sb, "  - {name: r%u, kind: event, where: {type: deadlock}}\n", i) ==
                  0);
        CHECK_EQ_INT(load_errors(sb.buf, &rs), n > SIFT_MAX_RULES ? 1 : 0);
        CHECK_EQ_INT(rs.n, n > SIFT_MAX_RULES ? SIFT_MAX_RULES : n);
        rule_set_release(&rs);
    }
    sbuf_release(&sb);
}

static void test_instances_per_rule(void)
{
    struct rule_set rs;
    struct metric_result scratch;
    struct eval_out out;
    struct diag d = DIAG_INIT;
    const int64_t t0 = INT64_C(1795514400) * 1000000;

    for (unsigned groups = SIFT_MAX_INSTANCES_PER_RULE - 1;
         groups <= SIFT_MAX_INSTANCES_PER_RULE + 1; groups++) {
        struct metric_source *ms = metric_mem_new();
        for (unsigned i = 0; i < groups; i++) {
            char user[32];
            snprintf(user, sizeof(user), "u%u", i);
            struct mem_record r = { .ts_us = t0 + i,
                                    .kind = "auth_failure",
                                    .severity = "FATAL",
                                    .database = "app",
                                    .user = user,
                                    .duration_ms = -1,
                                    .wait_ms = -1,
                                    .size_bytes = -1 };
            metric_mem_add(ms, &r);
        }
        CHECK_EQ_INT(load_errors("rules:\n  - {name: r, kind: event, where: {type: auth_failure},"
                                 " group_by: [user]}\n",
                                 &rs),
                     0);
        metric_result_init(&scratch);
        eval_out_init(&out);
        CHECK_EQ_INT(eval_rule_at(&rs.rules[0], ms, t0 + 60 * 1000000, &scratch, NULL, &out, &d),
                     0);
        unsigned want = groups > SIFT_MAX_INSTANCES_PER_RULE ? SIFT_MAX_INSTANCES_PER_RULE : groups;
        CHECK_EQ_INT(out.n, want);
        CHECK_EQ_INT(out.dropped, groups - want);
        eval_out_release(&out);
        metric_result_release(&scratch);
        rule_set_release(&rs);
        ms->free(ms);
    }
}

static void test_max_alerts(void)
{
    struct alert_config c;
    char y[256];

    for (int d = -1; d <= 1; d++) {
        alert_config_init(&c);
        snprintf(y, sizeof(y),
                 "receivers:\n  - {name: h, type: webhook, url_env: X, max_alerts: %d}\n",
                 (int)SIFT_MAX_ALERTS_PER_MESSAGE + d);
        alert_config_load_mem(&c, "c.yaml", y, strlen(y));
        CHECK_EQ_INT(c.nerrors, d == 1 ? 1 : 0);
        alert_config_release(&c);
    }
}

/* A message larger than SIFT_MAX_WEBHOOK_BODY lists fewer alerts (folded into the
 * digest count) instead of failing or being cut. */
static void test_webhook_body(void)
{
    struct receiver r;
    struct payload p;
    struct diag d = DIAG_INIT;
    json_t *m = json_pack("{s:s,s:s,s:s,s:s}", "version", "1", "id", "msg_x", "status", "firing",
                          "receiver", "h");
    json_t *alerts = json_array();
    char *big = malloc(4000);

    memset(big, 'q', 3999);
    big[3999] = '\0';
    for (unsigned i = 0; i < SIFT_MAX_ALERTS_PER_MESSAGE; i++)
        json_array_append_new(alerts, json_pack("{s:s,s:s,s:s,s:{},s:{s:s,s:s,s:s}}", "rule", "r",
                                                "status", "firing", "severity", "info", "labels",
                                                "annotations", "a", big, "b", big, "c", big));
    json_object_set_new(m, "alerts", alerts);
    memset(&r, 0, sizeof(r));
    r.name = "h";
    r.type = RECV_WEBHOOK;
    r.max_alerts = SIFT_MAX_ALERTS_PER_MESSAGE;
    payload_init(&p);
    CHECK_EQ_INT(payload_render(&r, m, NULL, SPAN_NULL, 0, &p, &d), 0);
    CHECK(p.body.len <= SIFT_MAX_WEBHOOK_BODY);
    json_t *doc = json_loads(p.body.buf, 0, NULL);
    if (CHECK(doc != NULL)) {
        size_t listed = json_array_size(json_object_get(doc, "alerts"));
        CHECK(listed > 0 && listed < SIFT_MAX_ALERTS_PER_MESSAGE);
        CHECK_EQ_INT(json_integer_value(json_object_get(doc, "truncated_alerts")),
                     SIFT_MAX_ALERTS_PER_MESSAGE - listed);
    }
    json_decref(doc);
    payload_release(&p);
    json_decref(m);
    free(big);
}

TEST_LIST = {
    { "labels", test_labels },
    { "text", test_text },
    { "windows", test_windows },
    { "rule_count", test_rule_count },
    { "instances_per_rule", test_instances_per_rule },
    { "max_alerts", test_max_alerts },
    { "webhook_body", test_webhook_body },
    { NULL, NULL },
};
