/* SPDX-License-Identifier: MIT */
/*
 * deliver_payload - one message model (the pgsift_v1 document) rendered for each kind of
 * receiver: the webhook document itself, the Alertmanager v4 webhook document, a Slack
 * Block Kit message, a PagerDuty Events v2 event, an RFC 5322 e-mail.
 *
 * The model holds what the outbox stored: rule, status, severity, labels (group_by
 * values and rule labels), rendered annotations (whose `query` is normalized text),
 * times and the instance key. Nothing here sees log lines, literal values or bind
 * parameters, so no receiver can get them.
 */
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/limits.h"
#include "core/utf8.h"
#include "rules/deliver_int.h"

void payload_init(struct payload *p)
{
    sbuf_init(&p->body, SIFT_MAX_WEBHOOK_BODY);
    sbuf_init(&p->subject, 1024);
    p->content_type = "application/json";
}

void payload_release(struct payload *p)
{
    sbuf_release(&p->body);
    sbuf_release(&p->subject);
}

json_t *json_text(const char *s)
{
    struct span in = span_cstr(s ? s : "");

    if (utf8_valid(in))
        return json_stringn(in.p, in.len);
    struct sbuf sb = SBUF_INIT;
    for (size_t i = 0; i < in.len;) {
        uint32_t cp;
        size_t l = utf8_decode((const unsigned char *)in.p + i, in.len - i, &cp);
        char enc[4];
        if (!l) {
            l = 1;
            cp = UTF8_REPLACEMENT;
        }
        if (sbuf_add(&sb, enc, utf8_encode(cp, enc)) < 0)
            break;
        i += l;
    }
    json_t *j = json_stringn(sb.buf, sb.len);
    sbuf_release(&sb);
    return j;
}

static const char *jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* Append a JSON value without its formatting options varying: compact, insertion order. */
static int dump(struct sbuf *out, const json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
    int rc = s ? sbuf_addstr(out, s) : -1;
    free(s);
    return rc;
}

/* The first @n alerts of the model, as a new array. */
static json_t *first_alerts(const json_t *m, size_t n)
{
    const json_t *alerts = json_object_get(m, "alerts");
    json_t *a = json_array();

    for (size_t i = 0; i < json_array_size(alerts) && i < n; i++)
        json_array_append(a, json_array_get(alerts, i));
    return a;
}

static size_t truncated(const json_t *m, size_t listed)
{
    size_t total = json_array_size(json_object_get(m, "alerts"));
    json_int_t before = json_integer_value(json_object_get(m, "truncated_alerts"));
    return (total > listed ? total - listed : 0) + (size_t)(before > 0 ? before : 0);
}

/* ---- generic webhook: pgsift_v1 ---- */

static int render_pgsift(const json_t *m, size_t listed, struct sbuf *out)
{
    json_t *d = json_object();
    static const char *const keys[] = { "version",  "id",        "status",
                                        "receiver", "group_key", "group_labels" };

    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        json_t *v = json_object_get(m, keys[i]);
        if (v)
            json_object_set(d, keys[i], v);
    }
    json_object_set_new(d, "truncated_alerts", json_integer((json_int_t)truncated(m, listed)));
    json_object_set_new(d, "alerts", first_alerts(m, listed));
    int rc = dump(out, d);
    json_decref(d);
    return rc;
}

/* ---- Alertmanager webhook v4 ---- */

static json_t *common_of(const json_t *alerts, const char *key)
{
    json_t *common = NULL;

    for (size_t i = 0; i < json_array_size(alerts); i++) {
        const json_t *o = json_object_get(json_array_get(alerts, i), key);
        if (!common) {
            common = json_deep_copy(o ? o : json_object());
            if (!common)
                common = json_object();
            continue;
        }
        const char *k;
        json_t *v;
        void *tmp;
        json_object_foreach_safe(common, tmp, k, v)
        {
            if (!json_equal(v, json_object_get(o, k)))
                json_object_del(common, k);
        }
    }
    return common ? common : json_object();
}

static json_t *am_labels(const json_t *a)
{
    json_t *l = json_object();
    json_object_set_new(l, "alertname", json_string(jstr(a, "rule")));
    json_object_set_new(l, "severity", json_string(jstr(a, "severity")));
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)json_object_get(a, "labels"), k, v)
    {
        json_object_set(l, k, v);
    }
    return l;
}

static int render_alertmanager(const json_t *m, size_t listed, const char *external_url,
                               struct sbuf *out)
{
    json_t *d = json_object(), *alerts = json_array();
    const json_t *src = json_object_get(m, "alerts");

    for (size_t i = 0; i < json_array_size(src) && i < listed; i++) {
        const json_t *a = json_array_get(src, i);
        json_t *o = json_object();
        const char *ends = jstr(a, "ends_at");
        char fp[17];
        snprintf(fp, sizeof(fp), "%.16s", jstr(a, "dedup_key"));
        json_object_set_new(o, "status", json_string(jstr(a, "status")));
        json_object_set_new(o, "labels", am_labels(a));
        json_object_set(o, "annotations", json_object_get(a, "annotations"));
        json_object_set_new(o, "startsAt", json_string(jstr(a, "starts_at")));
        json_object_set_new(o, "endsAt", json_string(*ends ? ends : "0001-01-01T00:00:00Z"));
        json_object_set_new(o, "generatorURL", json_string(external_url ? external_url : ""));
        json_object_set_new(o, "fingerprint", json_string(fp));
        json_array_append_new(alerts, o);
    }
    json_object_set_new(d, "version", json_string("4"));
    json_object_set_new(d, "groupKey", json_string(jstr(m, "group_key")));
    json_object_set_new(d, "truncatedAlerts", json_integer((json_int_t)truncated(m, listed)));
    json_object_set_new(d, "status", json_string(jstr(m, "status")));
    json_object_set_new(d, "receiver", json_string(jstr(m, "receiver")));
    json_t *gl = json_object_get(m, "group_labels");
    json_object_set(d, "groupLabels", gl ? gl : json_object());
    json_object_set_new(d, "commonLabels", common_of(alerts, "labels"));
    json_object_set_new(d, "commonAnnotations", common_of(alerts, "annotations"));
    json_object_set_new(d, "externalURL", json_string(external_url ? external_url : ""));
    json_object_set_new(d, "alerts", alerts);
    int rc = dump(out, d);
    json_decref(d);
    return rc;
}

/* ---- shared text ---- */

/* "database=app, fingerprint=1f3a..." */
static int labels_text(struct sbuf *sb, const json_t *a)
{
    const char *k;
    json_t *v;
    bool first = true;

    json_object_foreach((json_t *)json_object_get(a, "labels"), k, v)
    {
        if (sbuf_addf(sb, "%s%s=%s", first ? "" : ", ", k, json_string_value(v)) < 0)
            return -1;
        first = false;
    }
    return 0;
}

static int status_word(struct sbuf *sb, const json_t *m, size_t nfiring, size_t nresolved)
{
    if (nfiring && nresolved)
        return sbuf_addf(sb, "FIRING:%zu RESOLVED:%zu", nfiring, nresolved);
    if (nfiring)
        return sbuf_addf(sb, "FIRING:%zu", nfiring);
    (void)m;
    return sbuf_addf(sb, "RESOLVED:%zu", nresolved);
}

static void count_status(const json_t *m, size_t *firing, size_t *resolved)
{
    const json_t *alerts = json_object_get(m, "alerts");
    *firing = *resolved = 0;
    for (size_t i = 0; i < json_array_size(alerts); i++) {
        if (!strcmp(jstr(json_array_get(alerts, i), "status"), "resolved"))
            (*resolved)++;
        else
            (*firing)++;
    }
}

/* Rules named in the message, "a, b" (first few). */
static int rule_names(struct sbuf *sb, const json_t *m)
{
    const json_t *alerts = json_object_get(m, "alerts");
    size_t shown = 0;

    for (size_t i = 0; i < json_array_size(alerts); i++) {
        const char *r = jstr(json_array_get(alerts, i), "rule");
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++)
            dup = !strcmp(r, jstr(json_array_get(alerts, j), "rule"));
        if (dup)
            continue;
        if (shown == 3)
            return sbuf_addstr(sb, ", ...");
        if (sbuf_addf(sb, "%s%s", shown ? ", " : "", r) < 0)
            return -1;
        shown++;
    }
    return 0;
}

/* Cut @sb to at most @max bytes on a code point boundary, adding an ellipsis. */
static void cut_utf8(struct sbuf *sb, size_t max)
{
    if (sb->len <= max)
        return;
    size_t n = max > 3 ? max - 3 : 0;
    while (n > 0 && ((unsigned char)sb->buf[n] & 0xC0) == 0x80)
        n--;
    sbuf_setlen(sb, n);
    if (sbuf_addstr(sb, "\xE2\x80\xA6") < 0)
        return;
}

/* Slack mrkdwn: &, <, > are control characters (links, mentions). */
static int slack_escape(struct sbuf *sb, const char *s)
{
    for (; *s; s++) {
        int rc = *s == '&'   ? sbuf_addstr(sb, "&amp;")
                 : *s == '<' ? sbuf_addstr(sb, "&lt;")
                 : *s == '>' ? sbuf_addstr(sb, "&gt;")
                             : sbuf_addch(sb, *s);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* cut_utf8() for escaped mrkdwn: never inside an entity (&lt; &gt; &amp;). */
static void cut_slack(struct sbuf *sb, size_t max)
{
    if (sb->len <= max)
        return;
    size_t n = max > 3 ? max - 3 : 0;
    for (size_t k = n; k > 0 && n - k < 5; k--) {
        if (sb->buf[k - 1] == ';')
            break;
        if (sb->buf[k - 1] == '&') {
            n = k - 1;
            break;
        }
    }
    while (n > 0 && ((unsigned char)sb->buf[n] & 0xC0) == 0x80)
        n--;
    sbuf_setlen(sb, n);
    if (sbuf_addstr(sb, "\xE2\x80\xA6") < 0)
        return;
}

static int alert_line(struct sbuf *sb, const json_t *a, bool slack)
{
    struct sbuf t = SBUF_INIT;
    const char *summary = jstr(json_object_get(a, "annotations"), "summary");
    int rc = -1;

    const char *bold = slack ? "*" : ""; /* Slack mrkdwn */
    if (sbuf_addf(&t, "%s%s%s %s [%s]", bold,
                  !strcmp(jstr(a, "status"), "resolved") ? "RESOLVED" : "FIRING", bold,
                  jstr(a, "rule"), jstr(a, "severity")) < 0 ||
        sbuf_addstr(&t, " ") < 0 || labels_text(&t, a) < 0)
        goto out;
    if (*summary && sbuf_addf(&t, "\n%s", summary) < 0)
        goto out;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)json_object_get(a, "annotations"), k, v)
    {
        if (!strcmp(k, "summary"))
            continue;
        if (sbuf_addf(&t, "\n%s: %s", k, json_string_value(v)) < 0)
            goto out;
    }
    if (sbuf_addf(&t, "\nsince %s", jstr(a, "starts_at")) < 0)
        goto out;
    if (*jstr(a, "ends_at") && sbuf_addf(&t, ", resolved %s", jstr(a, "ends_at")) < 0)
        goto out;
    if (slack) {
        /* Slack's limit (3000 characters a section) holds for the escaped text. */
        struct sbuf e = SBUF_INIT;
        if ((rc = slack_escape(&e, t.buf)) == 0) {
            cut_slack(&e, 2900);
            rc = sbuf_addspan(sb, sbuf_span(&e));
        }
        sbuf_release(&e);
    } else {
        rc = sbuf_addspan(sb, sbuf_span(&t));
    }
out:
    sbuf_release(&t);
    return rc;
}

/* ---- Slack ---- */

static int render_slack(const json_t *m, size_t listed, struct sbuf *out)
{
    size_t nf, nr, more = truncated(m, listed);
    struct sbuf head = SBUF_INIT, t = SBUF_INIT;
    json_t *d = json_object(), *blocks = json_array();
    const json_t *alerts = json_object_get(m, "alerts");
    int rc = -1;

    count_status(m, &nf, &nr);
    if (sbuf_addch(&head, '[') < 0 || status_word(&head, m, nf, nr) < 0 ||
        sbuf_addstr(&head, "] ") < 0 || rule_names(&head, m) < 0)
        goto out;
    cut_utf8(&head, 140);
    json_object_set_new(d, "text", json_text(head.buf));
    json_t *hb = json_object(), *ht = json_object();
    json_object_set_new(ht, "type", json_string("plain_text"));
    json_object_set_new(ht, "text", json_text(head.buf));
    json_object_set_new(hb, "type", json_string("header"));
    json_object_set_new(hb, "text", ht);
    json_array_append_new(blocks, hb);
    for (size_t i = 0; i < json_array_size(alerts) && i < listed; i++) {
        sbuf_reset(&t);
        if (alert_line(&t, json_array_get(alerts, i), true) < 0)
            goto out;
        json_t *sec = json_object(), *tx = json_object();
        json_object_set_new(tx, "type", json_string("mrkdwn"));
        json_object_set_new(tx, "text", json_text(t.buf));
        json_object_set_new(sec, "type", json_string("section"));
        json_object_set_new(sec, "text", tx);
        json_array_append_new(blocks, sec);
    }
    if (more) {
        sbuf_reset(&t);
        if (sbuf_addf(&t, "and %zu more alert%s", more, more == 1 ? "" : "s") < 0)
            goto out;
        json_t *ctx = json_object(), *els = json_array(), *el = json_object();
        json_object_set_new(el, "type", json_string("mrkdwn"));
        json_object_set_new(el, "text", json_text(t.buf));
        json_array_append_new(els, el);
        json_object_set_new(ctx, "type", json_string("context"));
        json_object_set_new(ctx, "elements", els);
        json_array_append_new(blocks, ctx);
    }
    json_object_set_new(d, "blocks", blocks);
    rc = dump(out, d);
out:
    json_decref(d);
    sbuf_release(&head);
    sbuf_release(&t);
    return rc;
}

/* ---- PagerDuty Events v2 ---- */

static int render_pagerduty(const json_t *m, struct span routing_key, const char *external_url,
                            struct sbuf *out, struct diag *d)
{
    const json_t *alerts = json_object_get(m, "alerts");
    if (json_array_size(alerts) != 1)
        return diag_set(d, DIAG_INTERNAL, "a PagerDuty event carries one alert, not %zu",
                        json_array_size(alerts));
    const json_t *a = json_array_get(alerts, 0);
    bool resolve = !strcmp(jstr(a, "status"), "resolved");
    json_t *e = json_object();

    json_object_set_new(e, "routing_key", json_stringn(routing_key.p, routing_key.len));
    json_object_set_new(e, "event_action", json_string(resolve ? "resolve" : "trigger"));
    json_object_set_new(e, "dedup_key", json_string(jstr(a, "dedup_key")));
    if (!resolve) {
        struct sbuf s = SBUF_INIT;
        const json_t *labels = json_object_get(a, "labels");
        const char *summary = jstr(json_object_get(a, "annotations"), "summary");
        const char *sev = jstr(a, "severity");
        const char *source = jstr(labels, "database");
        if (!*source)
            source = jstr(labels, "input");
        if (*summary) {
            if (sbuf_addstr(&s, summary) < 0)
                goto fail;
        } else if (sbuf_addf(&s, "%s ", jstr(a, "rule")) < 0 || labels_text(&s, a) < 0) {
            goto fail;
        }
        cut_utf8(&s, 1024);
        json_t *p = json_object(), *cd = json_object();
        json_object_set_new(p, "summary", json_text(s.buf));
        json_object_set_new(p, "source", json_text(*source ? source : "pgsift"));
        json_object_set_new(p, "severity",
                            json_string(!strcmp(sev, "critical")  ? "critical"
                                        : !strcmp(sev, "warning") ? "warning"
                                                                  : "info"));
        json_object_set_new(p, "timestamp", json_string(jstr(a, "starts_at")));
        if (*jstr(labels, "database"))
            json_object_set_new(p, "component", json_string(jstr(labels, "database")));
        json_object_set_new(p, "group", json_string(jstr(a, "rule")));
        json_object_set(cd, "labels", json_object_get(a, "labels"));
        json_object_set(cd, "annotations", json_object_get(a, "annotations"));
        json_t *v = json_object_get(a, "value");
        if (v)
            json_object_set(cd, "value", v);
        json_object_set_new(p, "custom_details", cd);
        json_object_set_new(e, "payload", p);
        json_object_set_new(e, "client", json_string("pgsift"));
        if (external_url)
            json_object_set_new(e, "client_url", json_string(external_url));
        sbuf_release(&s);
        goto done;
    fail:
        sbuf_release(&s);
        json_decref(e);
        return diag_set(d, DIAG_LIMIT, "PagerDuty summary too long");
    }
done:;
    int rc = dump(out, e);
    json_decref(e);
    return rc < 0 ? diag_set(d, DIAG_LIMIT, "PagerDuty event too large") : 0;
}

/* ---- e-mail ---- */

/* A header value: one line, no CR/LF (header injection), printable. */
static int header_text(struct sbuf *sb, const char *s)
{
    for (; *s; s++)
        if (sbuf_addch(sb, (*s == '\r' || *s == '\n' || *s == '\t') ? ' ' : *s) < 0)
            return -1;
    return 0;
}

/* RFC 2047 encoded-word for a subject with non-ASCII bytes. */
static int header_encoded(struct sbuf *sb, const char *s)
{
    bool ascii = true;
    for (const char *p = s; *p; p++)
        ascii &= (unsigned char)*p < 0x80;
    if (ascii)
        return header_text(sb, s);
    struct sbuf clean = SBUF_INIT;
    int rc = header_text(&clean, s);
    if (rc == 0 && sbuf_addstr(sb, "=?UTF-8?B?") == 0 && base64_encode(sbuf_span(&clean), sb) == 0)
        rc = sbuf_addstr(sb, "?=");
    else
        rc = -1;
    sbuf_release(&clean);
    return rc;
}

int email_head(struct sbuf *b, const struct receiver *r, const char *subject, const char *id,
               int64_t now_us)
{
    static const char *const wd[] = { "Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed" };
    static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    int64_t days = now_us / USEC_PER_DAY - (now_us % USEC_PER_DAY < 0);
    int64_t sod = (now_us - days * USEC_PER_DAY) / USEC_PER_SEC;
    int y;
    unsigned mo, dd;

    clock_civil_from_days(days, &y, &mo, &dd);
    if (sbuf_addf(b, "From: pgsift <%s>\r\nTo: ", r->from ? r->from : "") < 0)
        return -1;
    for (size_t i = 0; i < r->nto; i++)
        if (sbuf_addf(b, "%s<%s>", i ? ", " : "", r->to[i]) < 0)
            return -1;
    return sbuf_addf(b,
                     "\r\nSubject: %s\r\nDate: %s, %02u %s %04d %02d:%02d:%02d +0000\r\n"
                     "Message-ID: <%s@pgsift>\r\nMIME-Version: 1.0\r\n"
                     "Content-Type: text/plain; charset=utf-8\r\n"
                     "Content-Transfer-Encoding: 8bit\r\nAuto-Submitted: auto-generated\r\n\r\n",
                     subject, wd[((days % 7) + 7) % 7], dd, mon[mo - 1], y, (int)(sod / 3600),
                     (int)(sod / 60 % 60), (int)(sod % 60), id);
}

int email_text(struct sbuf *b, struct span text)
{
    size_t col = 0;

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
    return 0;
}

static int render_email(const struct receiver *r, const json_t *m, size_t listed, int64_t now_us,
                        struct payload *out)
{
    size_t nf, nr, more = truncated(m, listed);
    struct sbuf subj = SBUF_INIT, enc = SBUF_INIT, t = SBUF_INIT;
    const json_t *alerts = json_object_get(m, "alerts");
    struct sbuf *b = &out->body;
    int rc = -1;

    count_status(m, &nf, &nr);
    if (sbuf_addstr(&subj, "[pgsift] ") < 0 || status_word(&subj, m, nf, nr) < 0 ||
        sbuf_addch(&subj, ' ') < 0 || rule_names(&subj, m) < 0)
        goto out;
    cut_utf8(&subj, 200);
    if (sbuf_addspan(&out->subject, sbuf_span(&subj)) < 0 || header_encoded(&enc, subj.buf) < 0 ||
        email_head(b, r, enc.buf ? enc.buf : "", jstr(m, "id"), now_us) < 0)
        goto out;
    for (size_t i = 0; i < json_array_size(alerts) && i < listed; i++) {
        sbuf_reset(&t);
        if (alert_line(&t, json_array_get(alerts, i), false) < 0 ||
            email_text(b, sbuf_span(&t)) < 0 || sbuf_addstr(b, "\r\n\r\n") < 0)
            goto out;
    }
    if (more && sbuf_addf(b, "and %zu more alert%s\r\n", more, more == 1 ? "" : "s") < 0)
        goto out;
    out->content_type = "message/rfc822";
    rc = 0;
out:
    sbuf_release(&subj);
    sbuf_release(&enc);
    sbuf_release(&t);
    return rc;
}

int payload_render(const struct receiver *r, const json_t *m, const char *external_url,
                   struct span routing_key, int64_t now_us, struct payload *out, struct diag *d)
{
    size_t total = json_array_size(json_object_get(m, "alerts"));
    size_t listed = total < (size_t)r->max_alerts ? total : (size_t)r->max_alerts;

    if (r->type == RECV_SLACK && listed > 45)
        listed = 45; /* Block Kit: at most 50 blocks per message */
    if (r->type == RECV_PAGERDUTY) {
        sbuf_reset(&out->body);
        return render_pagerduty(m, routing_key, external_url, &out->body, d);
    }
    for (;;) {
        int rc;
        sbuf_reset(&out->body);
        sbuf_reset(&out->subject);
        switch (r->type) {
        case RECV_SLACK: rc = render_slack(m, listed, &out->body); break;
        case RECV_EMAIL: rc = render_email(r, m, listed, now_us, out); break;
        case RECV_WEBHOOK:
        default:
            rc = r->format == WEBHOOK_ALERTMANAGER_V4
                     ? render_alertmanager(m, listed, external_url, &out->body)
                     : render_pgsift(m, listed, &out->body);
        }
        if (rc == 0)
            return 0;
        if (listed <= 1)
            return diag_set(d, DIAG_LIMIT,
                            "notification for receiver '%s' exceeds %u bytes even with one alert",
                            r->name, SIFT_MAX_WEBHOOK_BODY);
        listed /= 2; /* fold more alerts into the digest line */
    }
}
