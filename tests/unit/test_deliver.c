/* SPDX-License-Identifier: MIT */
#include <curl/curl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

#include "core/clock.h"
#include "core/limits.h"
#include "rules/deliver_int.h"

static void test_base64(void)
{
    /* RFC 4648 §10 */
    static const char *const v[][2] = { { "", "" },
                                        { "f", "Zg==" },
                                        { "fo", "Zm8=" },
                                        { "foo", "Zm9v" },
                                        { "foob", "Zm9vYg==" },
                                        { "fooba", "Zm9vYmE=" },
                                        { "foobar", "Zm9vYmFy" } };
    for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
        struct sbuf e = SBUF_INIT, d = SBUF_INIT;
        CHECK_EQ_INT(base64_encode(span_cstr(v[i][0]), &e), 0);
        CHECK_EQ_STR(e.buf, v[i][1]);
        CHECK_EQ_INT(base64_decode(span_cstr(v[i][1]), &d), 0);
        CHECK_EQ_STR(d.buf, v[i][0]);
        sbuf_release(&e);
        sbuf_release(&d);
    }
    struct sbuf d = SBUF_INIT;
    CHECK_EQ_INT(base64_decode(span_cstr("Zm9v!"), &d), -1);
    sbuf_reset(&d);
    CHECK_EQ_INT(base64_decode(span_cstr("Zg=a"), &d), -1);
    sbuf_release(&d);
}

static void test_signatures(void)
{
    struct sbuf key = SBUF_INIT, sig = SBUF_INIT;

    /* RFC 4231 test case 2 (HMAC-SHA256). */
    CHECK_EQ_INT(sign_github(span_cstr("Jefe"), span_cstr("what do ya want for nothing?"), &sig),
                 0);
    CHECK_EQ_STR(sig.buf,
                 "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    sbuf_reset(&sig);

    /* The example of the Standard Webhooks specification. */
    CHECK_EQ_INT(sign_key_from_secret(span_cstr("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), &key),
                 0);
    CHECK_EQ_INT(key.len, 24);
    CHECK_EQ_INT(sign_standard_webhooks(sbuf_span(&key), "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                                        span_cstr("{\"test\": 2432232314}"), &sig),
                 0);
    CHECK_EQ_STR(sig.buf, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    sbuf_reset(&key);
    sbuf_reset(&sig);
    /* A secret without whsec_ is the raw key; a broken whsec_ is refused. */
    CHECK_EQ_INT(sign_key_from_secret(span_cstr("plain secret"), &key), 0);
    CHECK_EQ_STR(key.buf, "plain secret");
    sbuf_reset(&key);
    CHECK_EQ_INT(sign_key_from_secret(span_cstr("whsec_***"), &key), -1);
    sbuf_release(&key);
    sbuf_release(&sig);
}

static struct http_result result(int curl, long status)
{
    struct http_result r;
    memset(&r, 0, sizeof(r));
    r.curl_code = curl;
    r.status = status;
    r.retry_after_us = -1;
    return r;
}

static void test_classify(void)
{
    static const struct {
        int curl;
        long status;
        enum deliver_verdict v;
    } http[] = {
        { CURLE_OK, 200, DELIVER_OK },
        { CURLE_OK, 202, DELIVER_OK },
        { CURLE_OK, 204, DELIVER_OK },
        { CURLE_OK, 301, DELIVER_PERMANENT }, /* redirects are not followed */
        { CURLE_OK, 400, DELIVER_PERMANENT },
        { CURLE_OK, 403, DELIVER_PERMANENT },
        { CURLE_OK, 404, DELIVER_PERMANENT },
        { CURLE_OK, 408, DELIVER_RETRY },
        { CURLE_OK, 410, DELIVER_DISABLE },
        { CURLE_OK, 429, DELIVER_RETRY },
        { CURLE_OK, 500, DELIVER_RETRY },
        { CURLE_OK, 502, DELIVER_RETRY },
        { CURLE_OK, 503, DELIVER_RETRY },
        { CURLE_OPERATION_TIMEDOUT, 0, DELIVER_RETRY },
        { CURLE_COULDNT_CONNECT, 0, DELIVER_RETRY },
        { CURLE_COULDNT_RESOLVE_HOST, 0, DELIVER_RETRY },
        { CURLE_GOT_NOTHING, 0, DELIVER_RETRY },
        { CURLE_PEER_FAILED_VERIFICATION, 0, DELIVER_RETRY },
        { CURLE_UNSUPPORTED_PROTOCOL, 0, DELIVER_PERMANENT }, /* http:// without allow_http */
        { CURLE_URL_MALFORMAT, 0, DELIVER_PERMANENT },
    };
    for (size_t i = 0; i < ARRAY_SIZE(http); i++) {
        struct http_result r = result(http[i].curl, http[i].status);
        CHECK_MSG(deliver_classify(RECV_WEBHOOK, &r) == http[i].v, "curl %d status %ld",
                  http[i].curl, http[i].status);
    }
    struct http_result r = result(CURLE_OK, 250);
    CHECK_EQ_INT(deliver_classify(RECV_EMAIL, &r), DELIVER_OK);
    r = result(CURLE_SEND_ERROR, 451);
    CHECK_EQ_INT(deliver_classify(RECV_EMAIL, &r), DELIVER_RETRY);
    r = result(CURLE_SEND_ERROR, 550);
    CHECK_EQ_INT(deliver_classify(RECV_EMAIL, &r), DELIVER_PERMANENT);
    r = result(CURLE_LOGIN_DENIED, 535);
    CHECK_EQ_INT(deliver_classify(RECV_EMAIL, &r), DELIVER_PERMANENT);
    r = result(CURLE_COULDNT_CONNECT, 0);
    CHECK_EQ_INT(deliver_classify(RECV_EMAIL, &r), DELIVER_RETRY);
    CHECK_EQ_STR(deliver_verdict_name(DELIVER_DISABLE), "disable");
}

static void test_backoff(void)
{
    const int64_t S = USEC_PER_SEC;
    static const int64_t caps[] = { 5, 30, 120, 600, 1800, 3600, 3600, 3600 };

    for (int a = 1; a <= 8; a++) {
        /* full jitter: anywhere in [1 s, cap] */
        CHECK_EQ_INT(deliver_backoff(a, -1, 0.0), S);
        int64_t hi = deliver_backoff(a, -1, 0.999999);
        CHECK(hi > caps[a - 1] * S - caps[a - 1] * 2 && hi <= caps[a - 1] * S);
        CHECK_EQ_INT(deliver_backoff(a, -1, 0.5), caps[a - 1] * S / 2);
    }
    CHECK_EQ_INT(deliver_backoff(0, -1, 0.5), 2500000);
    /* Retry-After wins, exactly, whatever the attempt; within [1 s, 6 h]: "0" is not a
     * retry at once. */
    CHECK_EQ_INT(deliver_backoff(1, 2 * S, 0.9), 2 * S);
    CHECK_EQ_INT(deliver_backoff(7, 0, 0.9), S);
    CHECK_EQ_INT(deliver_backoff(1, S / 2, 0.9), S);
    CHECK_EQ_INT(deliver_backoff(1, S + 1, 0.0), S + 1);
    CHECK_EQ_INT(deliver_backoff(1, 100000 * S, 0.9), 6 * 3600 * S);
    /* The random source is uniform in [0, 1) and repeatable with SIFT_TEST_SEED. */
    double sum = 0;
    for (int i = 0; i < 10000; i++) {
        double x = deliver_random();
        CHECK(x >= 0 && x < 1);
        sum += x;
    }
    CHECK(sum > 4800 && sum < 5200);
}

static void test_token_bucket(void)
{
    struct token_bucket b;
    const int64_t T = INT64_C(1000) * USEC_PER_SEC;

    token_bucket_init(&b, 3, T);
    CHECK_EQ_INT(token_bucket_take(&b, 60, 3, T), 0);
    CHECK_EQ_INT(token_bucket_take(&b, 60, 3, T), 0);
    CHECK_EQ_INT(token_bucket_take(&b, 60, 3, T), 0);
    int64_t wait = token_bucket_take(&b, 60, 3, T); /* burst used up: 1/s refill */
    CHECK(wait > 999000 && wait <= 1000001);
    CHECK_EQ_INT(token_bucket_take(&b, 60, 3, T + USEC_PER_SEC), 0);
    CHECK(token_bucket_take(&b, 60, 3, T + USEC_PER_SEC) > 0);
    /* Idle for long: refills only up to the burst. */
    CHECK_EQ_INT(token_bucket_take(&b, 60, 3, T + 3600 * USEC_PER_SEC), 0);
    CHECK_EQ_INT(token_bucket_take(&b, 60, 3, T + 3600 * USEC_PER_SEC), 0);
    CHECK_EQ_INT(token_bucket_take(&b, 60, 3, T + 3600 * USEC_PER_SEC), 0);
    CHECK(token_bucket_take(&b, 60, 3, T + 3600 * USEC_PER_SEC) > 0);
}

static void test_secrets(void)
{
    struct receiver r;
    struct sbuf out;
    struct diag d = DIAG_INIT;
    char path[] = "/tmp/sift-secret-XXXXXX";
    int fd = mkstemp(path);

    memset(&r, 0, sizeof(r));
    r.name = "ops";
    r.url_env = "SIFT_TEST_HOOK_URL";
    unsetenv("SIFT_TEST_HOOK_URL");
    CHECK_EQ_INT(secret_read(&r, SECRET_URL, &out, &d), -1);
    CHECK(strstr(d.msg, "receiver 'ops': environment variable 'SIFT_TEST_HOOK_URL'") != NULL);
    secret_release(&out);
    setenv("SIFT_TEST_HOOK_URL", "https://hooks.example/T0/B0/secret\n", 1);
    diag_clear(&d);
    CHECK_EQ_INT(secret_read(&r, SECRET_URL, &out, &d), 0);
    CHECK_EQ_STR(out.buf, "https://hooks.example/T0/B0/secret");
    secret_release(&out);
    CHECK_EQ_INT(secret_read(&r, SECRET_SIGNING_KEY, &out, &d), 1); /* none configured */
    secret_release(&out);

    CHECK(write(fd, "whsec_abc\n", 10) == 10);
    close(fd);
    r.secret_file = path;
    chmod(path, 0644);
    diag_clear(&d);
    CHECK_EQ_INT(secret_read(&r, SECRET_SIGNING_KEY, &out, &d), -1);
    CHECK(strstr(d.msg, "readable by group or others (mode 644); chmod 600 it") != NULL);
    CHECK(strstr(d.msg, "whsec") == NULL); /* never the value */
    secret_release(&out);
    chmod(path, 0600);
    diag_clear(&d);
    CHECK_EQ_INT(secret_read(&r, SECRET_SIGNING_KEY, &out, &d), 0);
    CHECK_EQ_STR(out.buf, "whsec_abc");
    secret_release(&out);
    unlink(path);
    diag_clear(&d);
    CHECK_EQ_INT(secret_read(&r, SECRET_SIGNING_KEY, &out, &d), -1);
    CHECK(strstr(d.msg, "receiver 'ops': cannot open signing key file") != NULL);
    secret_release(&out);
    unsetenv("SIFT_TEST_HOOK_URL");
}

static json_t *model(size_t nalerts, const char *status)
{
    json_t *m = json_object(), *alerts = json_array();
    json_object_set_new(m, "version", json_string("1"));
    json_object_set_new(m, "id", json_string("msg_0001"));
    json_object_set_new(m, "status", json_string(status));
    json_object_set_new(m, "receiver", json_string("ops"));
    json_object_set_new(m, "group_key", json_string("{rule=\"deadlock\"}"));
    json_object_set_new(m, "group_labels", json_pack("{s:s}", "rule", "deadlock"));
    for (size_t i = 0; i < nalerts; i++) {
        char db[32];
        snprintf(db, sizeof(db), "db<%zu>&", i);
        json_t *a = json_pack(
            "{s:s,s:s,s:s,s:{s:s,s:s},s:{s:s,s:s},s:s,s:o,s:f,s:s}", "rule", "deadlock", "status",
            status, "severity", "critical", "labels", "database", db, "team", "core", "annotations",
            "summary", "deadlock on \xC3\xA9t\xC3\xA9 SELECT $1", "runbook", "https://wiki/x",
            "starts_at", "2026-11-24T10:00:00Z", "ends_at",
            strcmp(status, "resolved") ? json_null() : json_string("2026-11-24T10:15:00Z"), "value",
            2.0, "dedup_key", "bb6be5725cc882d786827af0c20f5536");
        json_array_append_new(alerts, a);
    }
    json_object_set_new(m, "alerts", alerts);
    return m;
}

static struct receiver recv_of(enum receiver_type t)
{
    static const char *to[] = { "dba@example.com", "oncall@example.com" };
    struct receiver r;
    memset(&r, 0, sizeof(r));
    r.name = "ops";
    r.type = t;
    r.max_alerts = 20;
    r.from = "pgsift@example.com";
    r.to = to;
    r.nto = 2;
    return r;
}

static void test_payload_pgsift_and_alertmanager(void)
{
    struct receiver r = recv_of(RECV_WEBHOOK);
    struct payload p;
    struct diag d = DIAG_INIT;
    json_t *m = model(3, "firing");

    payload_init(&p);
    r.max_alerts = 2;
    CHECK_EQ_INT(payload_render(&r, m, NULL, SPAN_NULL, 0, &p, &d), 0);
    json_t *doc = json_loads(p.body.buf, 0, NULL);
    if (CHECK(doc != NULL)) {
        CHECK_EQ_STR(json_string_value(json_object_get(doc, "version")), "1");
        CHECK_EQ_STR(json_string_value(json_object_get(doc, "status")), "firing");
        CHECK_EQ_INT(json_array_size(json_object_get(doc, "alerts")), 2);
        CHECK_EQ_INT(json_integer_value(json_object_get(doc, "truncated_alerts")), 1);
        json_t *a = json_array_get(json_object_get(doc, "alerts"), 0);
        CHECK(json_is_null(json_object_get(a, "ends_at")));
        CHECK_EQ_STR(json_string_value(json_object_get(a, "dedup_key")),
                     "bb6be5725cc882d786827af0c20f5536");
    }
    json_decref(doc);
    /* Deterministic: the same model renders to the same bytes (retries, restarts). */
    struct payload p2;
    payload_init(&p2);
    CHECK_EQ_INT(payload_render(&r, m, NULL, SPAN_NULL, 99, &p2, &d), 0);
    CHECK_EQ_STR(p.body.buf, p2.body.buf);
    payload_release(&p2);

    r.format = WEBHOOK_ALERTMANAGER_V4;
    r.max_alerts = 20;
    CHECK_EQ_INT(payload_render(&r, m, "https://pgsift.example/", SPAN_NULL, 0, &p, &d), 0);
    doc = json_loads(p.body.buf, 0, NULL);
    if (CHECK(doc != NULL)) {
        CHECK_EQ_STR(json_string_value(json_object_get(doc, "version")), "4");
        CHECK_EQ_STR(json_string_value(json_object_get(doc, "groupKey")), "{rule=\"deadlock\"}");
        CHECK_EQ_INT(json_integer_value(json_object_get(doc, "truncatedAlerts")), 0);
        json_t *a = json_array_get(json_object_get(doc, "alerts"), 2);
        json_t *l = json_object_get(a, "labels");
        CHECK_EQ_STR(json_string_value(json_object_get(l, "alertname")), "deadlock");
        CHECK_EQ_STR(json_string_value(json_object_get(l, "database")), "db<2>&");
        CHECK_EQ_STR(json_string_value(json_object_get(a, "endsAt")), "0001-01-01T00:00:00Z");
        CHECK_EQ_STR(json_string_value(json_object_get(a, "fingerprint")), "bb6be5725cc882d7");
        /* commonLabels: what all alerts share (not the database) */
        json_t *cl = json_object_get(doc, "commonLabels");
        CHECK_EQ_STR(json_string_value(json_object_get(cl, "team")), "core");
        CHECK(json_object_get(cl, "database") == NULL);
        CHECK_EQ_STR(json_string_value(json_object_get(doc, "externalURL")),
                     "https://pgsift.example/");
    }
    json_decref(doc);
    json_decref(m);
    payload_release(&p);
}

static void test_payload_slack(void)
{
    struct receiver r = recv_of(RECV_SLACK);
    struct payload p;
    struct diag d = DIAG_INIT;
    json_t *m = model(60, "firing");

    payload_init(&p);
    CHECK_EQ_INT(payload_render(&r, m, NULL, SPAN_NULL, 0, &p, &d), 0);
    json_t *doc = json_loads(p.body.buf, 0, NULL);
    if (CHECK(doc != NULL)) {
        CHECK_EQ_STR(json_string_value(json_object_get(doc, "text")), "[FIRING:60] deadlock");
        json_t *blocks = json_object_get(doc, "blocks");
        CHECK_EQ_INT(json_array_size(blocks), 1 + 20 + 1); /* header, 20 alerts, digest */
        CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(blocks, 0), "type")),
                     "header");
        const char *sec = json_string_value(
            json_object_get(json_object_get(json_array_get(blocks, 1), "text"), "text"));
        CHECK(strstr(sec, "database=db&lt;0&gt;&amp;") != NULL); /* mrkdwn escaped */
        CHECK(strstr(sec, "deadlock on \xC3\xA9t\xC3\xA9 SELECT $1") != NULL);
        const char *digest = json_string_value(json_object_get(
            json_array_get(json_object_get(json_array_get(blocks, 21), "elements"), 0), "text"));
        CHECK_EQ_STR(digest, "and 40 more alerts");
    }
    json_decref(doc);
    json_decref(m);
    payload_release(&p);
}

/* Slack refuses (400 invalid_blocks, a permanent failure) a section text longer than
 * 3000 characters: the limit holds after mrkdwn escaping, which can triple a summary
 * made of log text full of '<', '>' and '&'. */
static void test_payload_slack_escaped_length(void)
{
    struct receiver r = recv_of(RECV_SLACK);
    struct payload p;
    struct diag d = DIAG_INIT;
    json_t *m = model(1, "firing");
    char summary[2801];

    for (size_t i = 0; i < sizeof(summary) - 1; i++)
        summary[i] = "a<b&"[i % 4];
    summary[sizeof(summary) - 1] = '\0';
    json_object_set_new(
        json_object_get(json_array_get(json_object_get(m, "alerts"), 0), "annotations"), "summary",
        json_string(summary));
    payload_init(&p);
    CHECK_EQ_INT(payload_render(&r, m, NULL, SPAN_NULL, 0, &p, &d), 0);
    json_t *doc = json_loads(p.body.buf, 0, NULL);
    if (CHECK(doc != NULL)) {
        const char *sec = json_string_value(json_object_get(
            json_object_get(json_array_get(json_object_get(doc, "blocks"), 1), "text"), "text"));
        if (CHECK(sec != NULL)) {
            CHECK(strlen(sec) <= 3000);
            CHECK(strstr(sec, "a&lt;b&amp;") != NULL);
            /* never an entity cut in half */
            const char *amp = strrchr(sec, '&');
            CHECK(amp && (strncmp(amp, "&lt;", 4) == 0 || strncmp(amp, "&gt;", 4) == 0 ||
                          strncmp(amp, "&amp;", 5) == 0));
        }
    }
    json_decref(doc);
    json_decref(m);
    payload_release(&p);
}

static void test_payload_pagerduty(void)
{
    struct receiver r = recv_of(RECV_PAGERDUTY);
    struct payload p;
    struct diag d = DIAG_INIT;
    json_t *m = model(1, "firing");

    payload_init(&p);
    CHECK_EQ_INT(payload_render(&r, m, NULL, span_cstr("R0UT1NGKEY"), 0, &p, &d), 0);
    json_t *doc = json_loads(p.body.buf, 0, NULL);
    if (CHECK(doc != NULL)) {
        CHECK_EQ_STR(json_string_value(json_object_get(doc, "event_action")), "trigger");
        CHECK_EQ_STR(json_string_value(json_object_get(doc, "routing_key")), "R0UT1NGKEY");
        CHECK_EQ_STR(json_string_value(json_object_get(doc, "dedup_key")),
                     "bb6be5725cc882d786827af0c20f5536");
        json_t *pl = json_object_get(doc, "payload");
        CHECK_EQ_STR(json_string_value(json_object_get(pl, "severity")), "critical");
        CHECK_EQ_STR(json_string_value(json_object_get(pl, "source")), "db<0>&");
        CHECK_EQ_STR(json_string_value(json_object_get(pl, "summary")),
                     "deadlock on \xC3\xA9t\xC3\xA9 SELECT $1");
    }
    json_decref(doc);
    json_decref(m);
    /* The resolve carries the same dedup_key and no payload. */
    m = model(1, "resolved");
    CHECK_EQ_INT(payload_render(&r, m, NULL, span_cstr("R0UT1NGKEY"), 0, &p, &d), 0);
    doc = json_loads(p.body.buf, 0, NULL);
    if (CHECK(doc != NULL)) {
        CHECK_EQ_STR(json_string_value(json_object_get(doc, "event_action")), "resolve");
        CHECK_EQ_STR(json_string_value(json_object_get(doc, "dedup_key")),
                     "bb6be5725cc882d786827af0c20f5536");
        CHECK(json_object_get(doc, "payload") == NULL);
    }
    json_decref(doc);
    json_decref(m);
    m = model(2, "firing");
    CHECK_EQ_INT(payload_render(&r, m, NULL, span_cstr("K"), 0, &p, &d), -1);
    json_decref(m);
    payload_release(&p);
}

static void test_payload_email(void)
{
    struct receiver r = recv_of(RECV_EMAIL);
    struct payload p;
    struct diag d = DIAG_INIT;
    json_t *m = model(2, "resolved");
    /* Header injection through a label must not create a header. */
    json_object_set_new(json_object_get(json_array_get(json_object_get(m, "alerts"), 0), "labels"),
                        "database", json_string("x\r\nBcc: evil@example.com"));

    payload_init(&p);
    /* 2026-11-24T10:00:00Z is a Tuesday */
    CHECK_EQ_INT(payload_render(&r, m, NULL, SPAN_NULL, INT64_C(1795514400) * 1000000, &p, &d), 0);
    const char *b = p.body.buf;
    CHECK(strstr(b, "From: pgsift <pgsift@example.com>\r\n") == b);
    CHECK(strstr(b, "\r\nTo: <dba@example.com>, <oncall@example.com>\r\n") != NULL);
    CHECK(strstr(b, "\r\nSubject: [pgsift] RESOLVED:2 deadlock\r\n") != NULL);
    CHECK(strstr(b, "\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\n") != NULL);
    CHECK(strstr(b, "\r\nMessage-ID: <msg_0001@pgsift>\r\n") != NULL);
    const char *hdr_end = strstr(b, "\r\n\r\n");
    const char *bcc = strstr(b, "Bcc:");
    CHECK(hdr_end && (!bcc || bcc > hdr_end)); /* only ever body text */
    CHECK(strstr(b, "RESOLVED deadlock [critical]") != NULL);
    /* every line ends in CRLF */
    for (const char *q = strchr(b, '\n'); q; q = strchr(q + 1, '\n'))
        CHECK(q > b && q[-1] == '\r');
    json_decref(m);
    payload_release(&p);
}

static void test_json_text_invalid_utf8(void)
{
    json_t *j = json_text("ok\xff\xfe!");
    CHECK_EQ_STR(json_string_value(j), "ok\xEF\xBF\xBD\xEF\xBF\xBD!");
    json_decref(j);
}

TEST_LIST = {
    { "base64", test_base64 },
    { "signatures", test_signatures },
    { "classify", test_classify },
    { "backoff", test_backoff },
    { "token_bucket", test_token_bucket },
    { "secrets", test_secrets },
    { "payload_pgsift_and_alertmanager", test_payload_pgsift_and_alertmanager },
    { "payload_slack", test_payload_slack },
    { "payload_slack_escaped_length", test_payload_slack_escaped_length },
    { "payload_pagerduty", test_payload_pagerduty },
    { "payload_email", test_payload_email },
    { "json_text_invalid_utf8", test_json_text_invalid_utf8 },
    { NULL, NULL },
};
