/* SPDX-License-Identifier: MIT */
/*
 * deliver_send - one attempt to send a rendered body to one receiver: the request (SMTP,
 * or an HTTP POST with the Standard Webhooks headers and signatures) and the text of a
 * failure. Shared by the outbox (deliver.c) and plain messages (deliver_message.c); the
 * callers read the secrets, render the body and decide what a verdict means for them.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "core/clock.h"
#include "rules/deliver_int.h"

/* Append "name: v" to the header list @h (its text kept in @storage); a header that does
 * not fit is left out. */
static void headers_add(const char **h, size_t *n, char *storage, size_t *used, size_t cap,
                        const char *name, const char *v)
{
    int k = snprintf(storage + *used, cap - *used, "%s: %s", name, v);
    if (k < 0 || (size_t)k >= cap - *used)
        return;
    h[(*n)++] = storage + *used;
    *used += (size_t)k + 1;
}

static void send_email(const struct receiver *rv, const char *url, const char *password,
                       struct span body, struct http_result *res)
{
    struct smtp_request rq = {
        .receiver = rv->name,
        .url = url,
        .username = rv->username,
        .password = password,
        .from = rv->from,
        .to = rv->to,
        .nto = rv->nto,
        .message = body,
        .require_tls = !strncmp(url, "smtp://", 7) && rv->starttls && !rv->allow_http,
        .tls_verify = rv->tls_verify,
        .ca_file = rv->ca_file,
        .timeout_us = rv->timeout_us,
        .connect_timeout_us = rv->connect_timeout_us,
    };
    smtp_send(&rq, res);
}

enum deliver_send_rc deliver_send(const struct receiver *rv, const char *url, const char *password,
                                  struct span secret, bool github_signature, const char *id,
                                  struct span body, int64_t now_us, struct http_result *res)
{
    if (rv->type == RECV_EMAIL) {
        if (!strncmp(url, "smtp://", 7) && !rv->starttls && !rv->allow_http)
            return SEND_NO_TLS;
        send_email(rv, url, password, body, res);
        return SEND_DONE;
    }

    struct sbuf key = SBUF_INIT, sig = SBUF_INIT, gh = SBUF_INIT;
    enum deliver_send_rc rc = SEND_DONE;
    const char *h[8];
    size_t nh = 0, used = 0;
    char storage[2048], ts[32];

    snprintf(ts, sizeof(ts), "%lld", (long long)(now_us / USEC_PER_SEC));
    headers_add(h, &nh, storage, &used, sizeof(storage), "Content-Type", "application/json");
    if (rv->type == RECV_WEBHOOK) {
        headers_add(h, &nh, storage, &used, sizeof(storage), "webhook-id", id);
        headers_add(h, &nh, storage, &used, sizeof(storage), "webhook-timestamp", ts);
        if (secret.len) {
            if (sign_key_from_secret(secret, &key) < 0 ||
                sign_standard_webhooks(sbuf_span(&key), id, now_us / USEC_PER_SEC, body, &sig) <
                    0) {
                rc = SEND_BAD_KEY;
                goto out;
            }
            headers_add(h, &nh, storage, &used, sizeof(storage), "webhook-signature", sig.buf);
            if (github_signature && sign_github(sbuf_span(&key), body, &gh) == 0)
                headers_add(h, &nh, storage, &used, sizeof(storage), "X-Pgsift-Signature-256",
                            gh.buf);
        }
    }
    struct http_request rq = {
        .receiver = rv->name,
        .url = url,
        .secret = secret,
        .headers = h,
        .nheaders = nh,
        .body = body,
        .allow_http = rv->allow_http,
        .tls_verify = rv->tls_verify,
        .ca_file = rv->ca_file,
        .timeout_us = rv->timeout_us,
        .connect_timeout_us = rv->connect_timeout_us,
        .now_us = now_us,
    };
    http_post(&rq, res);
    if (res->curl_code == CURLE_UNSUPPORTED_PROTOCOL && !rv->allow_http &&
        !strncasecmp(url, "http://", 7))
        snprintf(res->error, sizeof(res->error),
                 "plain http:// URL refused: receivers send over https only unless "
                 "allow_http: true");
out:
    secret_release(&key);
    sbuf_release(&sig);
    sbuf_release(&gh);
    return rc;
}

void deliver_failure_text(enum receiver_type t, const struct http_result *res, char *buf, size_t n)
{
    if (res->error[0])
        snprintf(buf, n, "%s", res->error);
    else
        snprintf(buf, n, "%s %ld: %.200s", t == RECV_EMAIL ? "SMTP" : "HTTP", res->status,
                 res->response.buf ? res->response.buf : "");
    for (char *p = buf; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
}
