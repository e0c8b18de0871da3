/* SPDX-License-Identifier: MIT */
/*
 * deliver_message - a plain message (not an alert) to one receiver, outside the outbox:
 * the daily report's summary. Same receivers, secrets, signatures, transport and
 * verdicts as alert messages (deliver_int.h); one attempt per call, the caller retries.
 */
#include <jansson.h>
#include <stdlib.h>

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
    struct sbuf subject = SBUF_INIT;
    int rc = -1;

    if (one_line(&subject, title) == 0 &&
        email_head(b, rv, subject.buf ? subject.buf : "", id, now_us) == 0 &&
        email_text(b, text) == 0)
        rc = sbuf_addstr(b, "\r\n");
    sbuf_release(&subject);
    return rc;
}

int deliver_message(const struct alert_config *c, const char *receiver, const char *id,
                    const char *title, struct span text, int64_t now_us, struct diag *d)
{
    const struct receiver *rv = alert_config_receiver(c, receiver);
    struct sbuf url = SBUF_INIT, secret = SBUF_INIT, pass = SBUF_INIT, body = SBUF_INIT;
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
    switch (deliver_send(rv, url.buf, pass.len ? pass.buf : NULL, sbuf_span(&secret), false, id,
                         sbuf_span(&body), now_us, &res)) {
    case SEND_NO_TLS:
        diag_set(d, DIAG_USAGE,
                 "receiver '%s': refusing to send e-mail without TLS (set starttls: true)",
                 receiver);
        goto out;
    case SEND_BAD_KEY:
        diag_set(d, DIAG_USAGE, "receiver '%s': signing key is not valid whsec_<base64>", receiver);
        goto out;
    case SEND_DONE: break;
    }
    switch (deliver_classify(rv->type, &res)) {
    case DELIVER_OK: rc = 0; break;
    case DELIVER_RETRY: rc = 1; FALLTHROUGH;
    default: {
        char why[300];
        deliver_failure_text(rv->type, &res, why, sizeof(why));
        diag_set(d, DIAG_IO, "receiver '%s': %s", receiver, why);
    }
    }
out:
    http_result_release(&res);
    secret_release(&url);
    secret_release(&secret);
    secret_release(&pass);
    sbuf_release(&body);
    return rc;
}
