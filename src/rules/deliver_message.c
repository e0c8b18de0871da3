/* SPDX-License-Identifier: MIT */
/*
 * deliver_message - a plain message (not an alert) to one receiver, outside the outbox:
 * the daily report's summary. Same receivers, secrets, signatures, transport and
 * verdicts as alert messages (deliver_int.h); one attempt per call, the caller retries.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/limits.h"
#include "rules/deliver_int.h"

/* Subject and title: one line of printable ASCII (the caller's title is plain text). */
static int one_line(struct sbuf *sb, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (sbuf_addch(sb, c < 0x20 || c >= 0x7f ? ' ' : (char)c) < 0)
            return -1;
    }
    return 0;
}

static int render_json(const struct receiver *rv, const char *id, const char *title,
                       struct span text, struct sbuf *out)
{
    struct sbuf t = SBUF_INIT;
    json_t *o;
    int rc = -1;

    if (one_line(&t, title) < 0)
        goto out;
    if (rv->type == RECV_SLACK) {
        /* Slack's mrkdwn: the title in bold, then the text as it is. */
        struct sbuf all = SBUF_INIT;
        if (sbuf_addf(&all, "*%s*\n", t.buf) < 0 || sbuf_addspan(&all, text) < 0) {
            sbuf_release(&all);
            goto out;
        }
        o = json_pack("{s:o}", "text", json_text(all.buf));
        sbuf_release(&all);
    } else {
        struct sbuf body = SBUF_INIT;
        if (sbuf_addspan(&body, text) < 0) {
            sbuf_release(&body);
            goto out;
        }
        o = json_pack("{s:s,s:s,s:s,s:o,s:o}", "version", "1", "kind", "message", "id", id, "title",
                      json_text(t.buf), "text", json_text(body.buf ? body.buf : ""));
        sbuf_release(&body);
    }
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (s) {
        rc = sbuf_addstr(out, s);
        free(s);
    }
out:
    sbuf_release(&t);
    return rc;
}

static int render_email(const struct receiver *rv, const char *id, const char *title,
                        struct span text, int64_t now_us, struct sbuf *b)
{
    static const char *const wd[] = { "Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed" };
    static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    int64_t days = now_us / USEC_PER_DAY - (now_us % USEC_PER_DAY < 0);
    int64_t sod = (now_us - days * USEC_PER_DAY) / USEC_PER_SEC;
    int y;
    unsigned mo, dd;
    size_t col = 0;

    clock_civil_from_days(days, &y, &mo, &dd);
    if (sbuf_addf(b, "From: pgsift <%s>\r\nTo: ", rv->from ? rv->from : "") < 0)
        return -1;
    for (size_t i = 0; i < rv->nto; i++)
        if (sbuf_addf(b, "%s<%s>", i ? ", " : "", rv->to[i]) < 0)
            return -1;
    if (sbuf_addstr(b, "\r\nSubject: ") < 0 || one_line(b, title) < 0 ||
        sbuf_addf(b,
                  "\r\nDate: %s, %02u %s %04d %02d:%02d:%02d +0000\r\nMessage-ID: <%s@pgsift>\r\n"
                  "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                  "Content-Transfer-Encoding: 8bit\r\nAuto-Submitted: auto-generated\r\n\r\n",
                  wd[((days % 7) + 7) % 7], dd, mon[mo - 1], y, (int)(sod / 3600),
                  (int)(sod / 60 % 60), (int)(sod % 60), id) < 0)
        return -1;
    /* CRLF line ends, lines kept under the 998-byte limit of RFC 5322. */
    for (size_t j = 0; j < text.len; j++) {
        char c = text.p[j];
        if (c == '\n' || (col >= 900 && ((unsigned char)c & 0xC0) != 0x80)) {
            if (sbuf_addstr(b, "\r\n") < 0)
                return -1;
            col = 0;
            if (c == '\n')
                continue;
        }
        if (c == '\r')
            continue;
        if (sbuf_addch(b, c) < 0)
            return -1;
        col++;
    }
    return sbuf_addstr(b, "\r\n");
}

int deliver_message(const struct alert_config *c, const char *receiver, const char *id,
                    const char *title, struct span text, int64_t now_us, struct diag *d)
{
    const struct receiver *rv = alert_config_receiver(c, receiver);
    struct sbuf url = SBUF_INIT, secret = SBUF_INIT, key = SBUF_INIT, pass = SBUF_INIT,
                sig = SBUF_INIT, body = SBUF_INIT;
    struct http_result res;
    int rc = -1;

    if (!rv)
        return diag_set(d, DIAG_USAGE, "no receiver named '%s'", receiver);
    if (rv->type == RECV_PAGERDUTY ||
        (rv->type == RECV_WEBHOOK && rv->format == WEBHOOK_ALERTMANAGER_V4))
        return diag_set(d, DIAG_USAGE, "receiver '%s' takes alerts only, not messages", receiver);
    sbuf_init(&body, SIFT_MAX_WEBHOOK_BODY);
    http_result_init(&res);
    int kr = secret_read(rv, SECRET_URL, &url, d);
    if (kr == 1)
        diag_set(d, DIAG_USAGE, "receiver '%s' has no URL", receiver);
    if (kr != 0 ||
        (rv->type == RECV_WEBHOOK && secret_read(rv, SECRET_SIGNING_KEY, &secret, d) < 0) ||
        (rv->type == RECV_EMAIL && secret_read(rv, SECRET_PASSWORD, &pass, d) < 0)) {
        rc = 1; /* the operator may fix a missing secret */
        goto out;
    }
    if ((rv->type == RECV_EMAIL ? render_email(rv, id, title, text, now_us, &body)
                                : render_json(rv, id, title, text, &body)) < 0) {
        diag_set(d, DIAG_LIMIT, "message for receiver '%s' exceeds %u bytes", receiver,
                 SIFT_MAX_WEBHOOK_BODY);
        goto out;
    }
    if (rv->type == RECV_EMAIL) {
        if (!strncmp(url.buf, "smtp://", 7) && !rv->starttls && !rv->allow_http) {
            diag_set(d, DIAG_USAGE,
                     "receiver '%s': refusing to send e-mail without TLS (set starttls: true)",
                     receiver);
            goto out;
        }
        struct smtp_request rq = {
            .receiver = rv->name,
            .url = url.buf,
            .username = rv->username,
            .password = pass.len ? pass.buf : NULL,
            .from = rv->from,
            .to = rv->to,
            .nto = rv->nto,
            .message = sbuf_span(&body),
            .require_tls = !strncmp(url.buf, "smtp://", 7) && rv->starttls && !rv->allow_http,
            .tls_verify = rv->tls_verify,
            .ca_file = rv->ca_file,
            .timeout_us = rv->timeout_us,
            .connect_timeout_us = rv->connect_timeout_us,
        };
        smtp_send(&rq, &res);
    } else {
        const char *h[4];
        size_t nh = 0;
        char ctype[] = "Content-Type: application/json", hid[160], hts[64], hsig[256];
        h[nh++] = ctype;
        if (rv->type == RECV_WEBHOOK) {
            snprintf(hid, sizeof(hid), "webhook-id: %s", id);
            snprintf(hts, sizeof(hts), "webhook-timestamp: %lld",
                     (long long)(now_us / USEC_PER_SEC));
            h[nh++] = hid;
            h[nh++] = hts;
            if (secret.len) {
                if (sign_key_from_secret(sbuf_span(&secret), &key) < 0 ||
                    sign_standard_webhooks(sbuf_span(&key), id, now_us / USEC_PER_SEC,
                                           sbuf_span(&body), &sig) < 0) {
                    diag_set(d, DIAG_USAGE,
                             "receiver '%s': signing key is not valid whsec_<base64>", receiver);
                    goto out;
                }
                snprintf(hsig, sizeof(hsig), "webhook-signature: %s", sig.buf);
                h[nh++] = hsig;
            }
        }
        struct http_request rq = {
            .receiver = rv->name,
            .url = url.buf,
            .headers = h,
            .nheaders = nh,
            .body = sbuf_span(&body),
            .allow_http = rv->allow_http,
            .tls_verify = rv->tls_verify,
            .ca_file = rv->ca_file,
            .timeout_us = rv->timeout_us,
            .connect_timeout_us = rv->connect_timeout_us,
            .now_us = now_us,
        };
        http_post(&rq, &res);
    }
    switch (deliver_classify(rv->type, &res)) {
    case DELIVER_OK: rc = 0; break;
    case DELIVER_RETRY: rc = 1; FALLTHROUGH;
    default: {
        char why[300];
        if (res.error[0])
            snprintf(why, sizeof(why), "%.280s", res.error);
        else
            snprintf(why, sizeof(why), "%s %ld: %.200s", rv->type == RECV_EMAIL ? "SMTP" : "HTTP",
                     res.status, res.response.buf ? res.response.buf : "");
        for (char *p = why; *p; p++) /* somebody else's bytes: keep them printable */
            if ((unsigned char)*p < 0x20)
                *p = ' ';
        diag_set(d, DIAG_IO, "receiver '%s': %s", receiver, why);
    }
    }
out:
    http_result_release(&res);
    secret_release(&url);
    secret_release(&secret);
    secret_release(&key);
    secret_release(&pass);
    sbuf_release(&sig);
    sbuf_release(&body);
    return rc;
}
