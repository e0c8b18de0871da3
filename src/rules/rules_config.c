/* SPDX-License-Identifier: MIT */
/*
 * rules_config - the alerting part of pgsift.yaml: receivers, route, inhibit and
 * alerting settings, each mapping checked against its field table.
 *
 * Other top-level keys of pgsift.yaml (store, timezone, sources, report, retention)
 * belong to other commands and are accepted here without being checked.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/limits.h"
#include "core/xalloc.h"
#include "core/ydoc.h"
#include "rules/rules_int.h"

#define OFF(st, m) offsetof(struct st, m)

struct config_raw {
    const char *store, *timezone;
    bool keep_literals;
    yaml_node_t *sources, *tail, *receivers, *route, *inhibit, *alerting, *report, *retention;
    struct ylist rules;
};

struct receiver_raw {
    const char *name, *type, *format;
    const char *url, *url_env, *url_file, *secret_env, *secret_file, *routing_key_env,
        *routing_key_file, *username, *password_env, *password_file, *from, *ca_file;
    struct ylist to;
    bool allow_http, tls_verify, starttls, send_resolved, github_signature;
    int64_t timeout, connect_timeout, burst, max_alerts;
    double rate_per_min;
};

struct route_raw {
    struct ylist notify, group_by;
    int64_t group_wait, group_interval, repeat_interval;
    yaml_node_t *routes;
};

struct route_entry_raw {
    yaml_node_t *match;
    struct ylist notify;
    bool cont;
};

struct inhibit_raw {
    yaml_node_t *source, *target;
    struct ylist equal;
};

struct alerting_raw {
    int64_t allowed_lateness, max_delivery_age, max_notify_age;
    const char *external_url;
};

static const char *const receiver_types[] = { "slack", "webhook", "pagerduty", "email", NULL };
static const char *const webhook_formats[] = { "pgsift_v1", "alertmanager_v4", NULL };

static const struct yfield config_fields[] = {
    { "store", YF_STRING, false, NULL, "the SQLite store (checked by the commands that use it)",
      OFF(config_raw, store), NULL },
    { "timezone", YF_STRING, false, NULL, "time zone of report days (checked by `report`)",
      OFF(config_raw, timezone), NULL },
    { "sources", YF_NODE, false, NULL, "log inputs (checked by `tail`)", OFF(config_raw, sources),
      NULL },
    { "keep_literals", YF_BOOL, false, "false", "store literals (checked by `tail`)",
      OFF(config_raw, keep_literals), NULL },
    { "tail", YF_NODE, false, NULL, "how files are followed (checked by `tail`)",
      OFF(config_raw, tail), NULL },
    { "rules", YF_STRING_LIST, false, NULL, "rule files or globs", OFF(config_raw, rules), NULL },
    { "receivers", YF_NODE, false, NULL, "where notifications go (see receiver fields)",
      OFF(config_raw, receivers), NULL },
    { "route", YF_NODE, false, NULL, "which receivers get which alerts (see route fields)",
      OFF(config_raw, route), NULL },
    { "inhibit", YF_NODE, false, NULL, "alerts that mute others (see inhibit fields)",
      OFF(config_raw, inhibit), NULL },
    { "alerting", YF_NODE, false, NULL, "evaluation and delivery settings (see alerting fields)",
      OFF(config_raw, alerting), NULL },
    { "report", YF_NODE, false, NULL, "daily reports (checked by `report`)",
      OFF(config_raw, report), NULL },
    { "retention", YF_NODE, false, NULL, "how long data is kept (checked by the store)",
      OFF(config_raw, retention), NULL },
};

#define RS(x) (1u << RECV_##x)
#define RALL  ((1u << RECV_TYPE_COUNT) - 1)
static const struct yfield receiver_fields[] = {
    { "name", YF_STRING, true, NULL, "receiver name used by `notify:`", OFF(receiver_raw, name),
      NULL },
    { "type", YF_CHOICE, true, NULL, "kind of destination", OFF(receiver_raw, type),
      receiver_types },
    { "url", YF_STRING, false, NULL,
      "endpoint that is not a secret: the PagerDuty events URL (default "
      "https://events.pagerduty.com/v2/enqueue) or the SMTP server (smtps://host:465, "
      "smtp://host:587)",
      OFF(receiver_raw, url), NULL },
    { "url_env", YF_STRING, false, NULL,
      "environment variable holding the URL (a secret for "
      "Slack and most webhooks)",
      OFF(receiver_raw, url_env), NULL },
    { "url_file", YF_STRING, false, NULL, "file holding the URL (mode 0600)",
      OFF(receiver_raw, url_file), NULL },
    { "secret_env", YF_STRING, false, NULL,
      "environment variable holding the Standard Webhooks signing key (`whsec_<base64>` or raw)",
      OFF(receiver_raw, secret_env), NULL },
    { "secret_file", YF_STRING, false, NULL, "file holding the signing key (mode 0600)",
      OFF(receiver_raw, secret_file), NULL },
    { "routing_key_env", YF_STRING, false, NULL,
      "environment variable holding the PagerDuty integration (routing) key",
      OFF(receiver_raw, routing_key_env), NULL },
    { "routing_key_file", YF_STRING, false, NULL, "file holding the routing key (mode 0600)",
      OFF(receiver_raw, routing_key_file), NULL },
    { "username", YF_STRING, false, NULL, "SMTP user for AUTH", OFF(receiver_raw, username), NULL },
    { "password_env", YF_STRING, false, NULL, "environment variable holding the SMTP password",
      OFF(receiver_raw, password_env), NULL },
    { "password_file", YF_STRING, false, NULL, "file holding the SMTP password (mode 0600)",
      OFF(receiver_raw, password_file), NULL },
    { "from", YF_STRING, false, NULL, "sender address", OFF(receiver_raw, from), NULL },
    { "to", YF_STRING_LIST, false, NULL, "recipient addresses", OFF(receiver_raw, to), NULL },
    { "starttls", YF_BOOL, false, "true",
      "smtp:// URLs: refuse to send unless the server upgrades to TLS (smtps:// is TLS from the "
      "start)",
      OFF(receiver_raw, starttls), NULL },
    { "format", YF_CHOICE, false, "pgsift_v1",
      "payload: pgsift_v1 (INTERFACE.md) or alertmanager_v4 (Alertmanager webhook format)",
      OFF(receiver_raw, format), webhook_formats },
    { "github_signature", YF_BOOL, false, "false",
      "also send `X-Pgsift-Signature-256: sha256=<hex>` (GitHub-style receivers)",
      OFF(receiver_raw, github_signature), NULL },
    { "allow_http", YF_BOOL, false, "false",
      "allow plain http:// (and SMTP without TLS); for loopback testing only",
      OFF(receiver_raw, allow_http), NULL },
    { "tls_verify", YF_BOOL, false, "true",
      "verify the server certificate and host name; false only with a reason",
      OFF(receiver_raw, tls_verify), NULL },
    { "ca_file", YF_STRING, false, NULL, "CA bundle to verify the server with",
      OFF(receiver_raw, ca_file), NULL },
    { "send_resolved", YF_BOOL, false, "true", "also notify when an alert resolves",
      OFF(receiver_raw, send_resolved), NULL },
    { "timeout", YF_DURATION, false, "30s", "whole request timeout", OFF(receiver_raw, timeout),
      NULL },
    { "connect_timeout", YF_DURATION, false, "10s", "connection timeout",
      OFF(receiver_raw, connect_timeout), NULL },
    { "rate_per_min", YF_NUMBER, false, NULL,
      "messages per minute (token bucket); default slack 60, pagerduty 120, webhook 600, "
      "email 10",
      OFF(receiver_raw, rate_per_min), NULL },
    { "burst", YF_INT, false, "5", "messages that may go out at once before the rate applies",
      OFF(receiver_raw, burst), NULL },
    { "max_alerts", YF_INT, false, "20",
      "alerts listed in one message; the rest are summed up as \"and N more\"",
      OFF(receiver_raw, max_alerts), NULL },
};
static const unsigned receiver_fields_types[] = {
    RALL,        RALL,          RS(PAGERDUTY) | RS(EMAIL),
    RALL,        RALL,          RS(WEBHOOK),
    RS(WEBHOOK), RS(PAGERDUTY), RS(PAGERDUTY),
    RS(EMAIL),   RS(EMAIL),     RS(EMAIL),
    RS(EMAIL),   RS(EMAIL),     RS(EMAIL),
    RS(WEBHOOK), RS(WEBHOOK),   RALL,
    RALL,        RALL,          RALL,
    RALL,        RALL,          RALL,
    RALL,        RALL,
};
_Static_assert(ARRAY_SIZE(receiver_fields) == ARRAY_SIZE(receiver_fields_types), "types");

static const struct yfield route_fields[] = {
    { "notify", YF_STRING_LIST, false, NULL,
      "default receivers, for alerts no route entry and no rule `notify:` names",
      OFF(route_raw, notify), NULL },
    { "group_by", YF_STRING_LIST, false, "rule",
      "labels whose values make one notification group (one message per group)",
      OFF(route_raw, group_by), NULL },
    { "group_wait", YF_DURATION, false, "30s",
      "wait before the first message of a new group (alerts resolved meanwhile are never "
      "sent)",
      OFF(route_raw, group_wait), NULL },
    { "group_interval", YF_DURATION, false, "5m",
      "wait between messages for changes to the same group", OFF(route_raw, group_interval), NULL },
    { "repeat_interval", YF_DURATION, false, "4h",
      "remind about alerts that are still firing this often", OFF(route_raw, repeat_interval),
      NULL },
    { "routes", YF_NODE, false, NULL, "list of {match, notify, continue}; first match wins",
      OFF(route_raw, routes), NULL },
};

static const struct yfield route_entry_fields[] = {
    { "match", YF_NODE, true, NULL,
      "labels to match: `value`, `\"!value\"` (not), `\"~regex\"`, `\"!~regex\"`",
      OFF(route_entry_raw, match), NULL },
    { "notify", YF_STRING_LIST, true, NULL, "receivers for matching alerts",
      OFF(route_entry_raw, notify), NULL },
    { "continue", YF_BOOL, false, "false", "also try the entries after this one",
      OFF(route_entry_raw, cont), NULL },
};

static const struct yfield inhibit_fields[] = {
    { "source", YF_NODE, true, NULL, "matchers of the alert that mutes (must be firing)",
      OFF(inhibit_raw, source), NULL },
    { "target", YF_NODE, true, NULL, "matchers of the alerts that are muted",
      OFF(inhibit_raw, target), NULL },
    { "equal", YF_STRING_LIST, false, NULL,
      "labels that must have the same value in both (as in Alertmanager, a label an alert lacks "
      "counts as empty: missing from both is equal)",
      OFF(inhibit_raw, equal), NULL },
};

static const struct yfield alerting_fields[] = {
    { "allowed_lateness", YF_DURATION, false, "60s",
      "the watermark trails the newest event time by this much: later lines still count",
      OFF(alerting_raw, allowed_lateness), NULL },
    { "max_delivery_age", YF_DURATION, false, "24h",
      "stop retrying a notification after this long and raise `pgsift_delivery_failed`",
      OFF(alerting_raw, max_delivery_age), NULL },
    { "max_notify_age", YF_DURATION, false, "1h",
      "transitions whose event time is older than this (a replay of old logs) are recorded "
      "but not sent",
      OFF(alerting_raw, max_notify_age), NULL },
    { "external_url", YF_STRING, false, NULL, "link put into notifications (e.g. a dashboard)",
      OFF(alerting_raw, external_url), NULL },
};

/* ------------------------------------------------------------------------------------ */

void alert_config_init(struct alert_config *c)
{
    memset(c, 0, sizeof(*c));
    arena_init(&c->strings, 16 * 1024);
    sbuf_init(&c->errors, 1u << 20);
    c->group_wait_us = 30 * USEC_PER_SEC;
    c->group_interval_us = 300 * USEC_PER_SEC;
    c->repeat_interval_us = 4 * 3600 * USEC_PER_SEC;
    c->allowed_lateness_us = 60 * USEC_PER_SEC;
    c->max_delivery_age_us = 24 * 3600 * USEC_PER_SEC;
    c->max_notify_age_us = 3600 * USEC_PER_SEC;
    static const char *const rule_label[] = { "rule" };
    c->group_by = (const char **)rule_label;
    c->ngroup_by = 1;
}

void matcher_set_release(struct matcher_set *ms)
{
    for (size_t i = 0; i < ms->n; i++)
        if (ms->m[i].re)
            pcre2_code_free(ms->m[i].re);
    free(ms->m);
    ms->m = NULL;
    ms->n = 0;
}

void alert_config_release(struct alert_config *c)
{
    for (size_t i = 0; i < c->nroutes; i++)
        matcher_set_release(&c->routes[i].match);
    for (size_t i = 0; i < c->ninhibit; i++) {
        matcher_set_release(&c->inhibit[i].source);
        matcher_set_release(&c->inhibit[i].target);
    }
    free(c->routes);
    free(c->inhibit);
    free(c->receivers);
    free(c->refused);
    arena_release(&c->strings);
    sbuf_release(&c->errors);
    memset(c, 0, sizeof(*c));
}

const struct receiver *alert_config_receiver(const struct alert_config *c, const char *name)
{
    for (size_t i = 0; i < c->nreceivers; i++)
        if (!strcmp(c->receivers[i].name, name))
            return &c->receivers[i];
    return NULL;
}

/* ---- matchers ---- */

static bool compile_re(struct matcher *m, char *err, size_t errlen)
{
    int ec;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)m->value, PCRE2_ZERO_TERMINATED,
                                   PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_UTF, &ec, &off, NULL);
    if (!re) {
        PCRE2_UCHAR msg[128];
        pcre2_get_error_message(ec, msg, sizeof(msg));
        snprintf(err, errlen, "invalid regular expression '%s' at offset %zu: %s", m->value,
                 (size_t)off, (const char *)msg);
        return false;
    }
    m->re = re;
    return true;
}

static bool matcher_value(const char *label, const char *v, struct arena *a, struct matcher *out,
                          char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    out->label = label;
    if (!strncmp(v, "!~", 2)) {
        out->op = MATCH_NRE;
        v += 2;
    } else if (v[0] == '~') {
        out->op = MATCH_RE;
        v += 1;
    } else if (v[0] == '!') {
        out->op = MATCH_NE;
        v += 1;
    }
    out->value = arena_dup(a, v, strlen(v)).p;
    if (out->op == MATCH_RE || out->op == MATCH_NRE)
        return compile_re(out, err, errlen);
    return true;
}

bool matcher_parse(const char *text, struct arena *a, struct matcher *out, char *err, size_t errlen)
{
    size_t at = strcspn(text, "=!");
    enum matcher_op op;
    size_t oplen;

    if (!text[at] || (text[at] == '!' && text[at + 1] != '=' && text[at + 1] != '~')) {
        snprintf(err, errlen,
                 "matcher '%s' is not label=value, label!=value, label=~regex or label!~regex",
                 text);
        return false;
    }
    if (text[at] == '!') {
        op = text[at + 1] == '~' ? MATCH_NRE : MATCH_NE;
        oplen = 2;
    } else if (text[at + 1] == '~') {
        op = MATCH_RE;
        oplen = 2;
    } else {
        op = MATCH_EQ;
        oplen = 1;
    }
    if (at == 0) {
        snprintf(err, errlen, "matcher '%s' has no label name", text);
        return false;
    }
    memset(out, 0, sizeof(*out));
    out->label = arena_dup(a, text, at).p;
    out->op = op;
    out->value = arena_dup(a, text + at + oplen, strlen(text + at + oplen)).p;
    if (op == MATCH_RE || op == MATCH_NRE)
        return compile_re(out, err, errlen);
    return true;
}

static bool one_matches(const struct matcher *m, const char *v)
{
    bool eq;

    if (!v)
        v = "";
    switch (m->op) {
    case MATCH_EQ: return !strcmp(v, m->value);
    case MATCH_NE: return strcmp(v, m->value) != 0;
    case MATCH_RE:
    case MATCH_NRE: {
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(m->re, NULL);
        int rc = pcre2_match(m->re, (PCRE2_SPTR)v, strlen(v), 0, 0, md, NULL);
        pcre2_match_data_free(md);
        eq = rc >= 0;
        return m->op == MATCH_RE ? eq : !eq;
    }
    }
    return false;
}

bool matcher_set_matches(const struct matcher_set *ms, label_get_fn get, void *ctx)
{
    for (size_t i = 0; i < ms->n; i++)
        if (!one_matches(&ms->m[i], get(ctx, ms->m[i].label)))
            return false;
    return true;
}

static void load_matchers(struct alert_config *c, struct ydoc *y, yaml_node_t *n,
                          struct matcher_set *out, const char *what)
{
    memset(out, 0, sizeof(*out));
    if (!n || n->type != YAML_MAPPING_NODE) {
        ydoc_error(y, n, "'%s' expects a mapping of label names to values", what);
        return;
    }
    size_t cnt = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    out->m = xcalloc(cnt ? cnt : 1, sizeof(*out->m));
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = ydoc_node(y, p->key), *v = ydoc_node(y, p->value);
        struct span ks = ydoc_scalar(k), vs = ydoc_scalar(v);
        char err[256];
        if (!ks.p || !vs.p) {
            ydoc_error(y, k, "'%s' expects a mapping of label names to values", what);
            continue;
        }
        const char *label = arena_dup(&c->strings, ks.p, ks.len).p;
        const char *value = arena_dup(&c->strings, vs.p, vs.len).p;
        if (!matcher_value(label, value, &c->strings, &out->m[out->n], err, sizeof(err))) {
            ydoc_error(y, v, "%s", err);
            continue;
        }
        out->n++;
    }
}

/* ---- loading ---- */

static const char **list_dup(struct alert_config *c, const struct ylist *l)
{
    const char **v = arena_alloc(&c->strings, (l->n ? l->n : 1) * sizeof(*v));
    for (size_t i = 0; i < l->n; i++)
        v[i] = l->v[i];
    return v;
}

static yaml_node_t *value_of(struct ydoc *y, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return map;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++)
        if (span_eq(ydoc_scalar(ydoc_node(y, p->key)), span_cstr(key)))
            return ydoc_node(y, p->value);
    return map;
}

static bool receiver_name_ok(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-'))
            return false;
    return true;
}

static void load_receiver(struct alert_config *c, struct ydoc *y, yaml_node_t *n, size_t *alloc)
{
    struct receiver_raw r;
    unsigned before = y->nerrors;

    memset(&r, 0, sizeof(r));
    r.rate_per_min = -1;
    if (ydoc_map(y, n, receiver_fields, ARRAY_SIZE(receiver_fields), &r, &c->strings) &&
        (!r.type || !r.name))
        return;
    enum receiver_type t = RECV_WEBHOOK;
    for (unsigned i = 0; receiver_types[i]; i++)
        if (!strcmp(receiver_types[i], r.type))
            t = (enum receiver_type)i;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = ydoc_node(y, p->key);
        for (size_t i = 0; i < ARRAY_SIZE(receiver_fields); i++)
            if (span_eq(ydoc_scalar(k), span_cstr(receiver_fields[i].name)) &&
                !(receiver_fields_types[i] & (1u << t)))
                ydoc_error(y, k, "'%s' does not apply to receivers of type '%s'",
                           receiver_fields[i].name, r.type);
    }
    if (!receiver_name_ok(r.name))
        ydoc_error(y, value_of(y, n, "name"),
                   "invalid receiver name '%s' (letters, digits, '_' and '-')", r.name);
    if (alert_config_receiver(c, r.name))
        ydoc_error(y, value_of(y, n, "name"), "duplicate receiver name '%s'", r.name);
    int urls = !!r.url + !!r.url_env + !!r.url_file;
    if (t == RECV_SLACK || t == RECV_WEBHOOK) {
        if (urls != 1)
            ydoc_error(y, n,
                       "receiver '%s' needs exactly one of 'url_env' or 'url_file' (the URL "
                       "is a secret and never written in the file)",
                       r.name);
    } else if (urls > 1) {
        ydoc_error(y, n, "receiver '%s': give only one of 'url', 'url_env', 'url_file'", r.name);
    }
    if (t == RECV_WEBHOOK && !!r.secret_env + !!r.secret_file > 1)
        ydoc_error(y, n, "receiver '%s': give only one of 'secret_env' or 'secret_file'", r.name);
    if (t == RECV_PAGERDUTY && !!r.routing_key_env + !!r.routing_key_file != 1)
        ydoc_error(y, n,
                   "receiver '%s' needs exactly one of 'routing_key_env' or "
                   "'routing_key_file'",
                   r.name);
    if (t == RECV_EMAIL) {
        if (urls != 1)
            ydoc_error(y, n,
                       "receiver '%s' needs the SMTP server: 'url' (smtps://host:465 or "
                       "smtp://host:587), 'url_env' or 'url_file'",
                       r.name);
        if (!r.from)
            ydoc_error(y, n, "receiver '%s' needs 'from'", r.name);
        if (!r.to.n)
            ydoc_error(y, n, "receiver '%s' needs 'to' (one or more addresses)", r.name);
        if ((r.password_env || r.password_file) && !r.username)
            ydoc_error(y, n, "receiver '%s': a password needs 'username'", r.name);
        if (r.password_env && r.password_file)
            ydoc_error(y, n, "receiver '%s': give only one of 'password_env' or 'password_file'",
                       r.name);
        for (size_t i = 0; i < r.to.n; i++)
            if (!strchr(r.to.v[i], '@') || strpbrk(r.to.v[i], "\r\n<>"))
                ydoc_error(y, value_of(y, n, "to"), "invalid e-mail address '%s'", r.to.v[i]);
        if (r.from && (!strchr(r.from, '@') || strpbrk(r.from, "\r\n<>")))
            ydoc_error(y, value_of(y, n, "from"), "invalid e-mail address '%s'", r.from);
    }
    if (r.url) {
        bool ok;
        if (t == RECV_EMAIL)
            ok = !strncmp(r.url, "smtps://", 8) ||
                 (!strncmp(r.url, "smtp://", 7) && (r.starttls || r.allow_http));
        else
            ok = !strncmp(r.url, "https://", 8) || (!strncmp(r.url, "http://", 7) && r.allow_http);
        if (!ok)
            ydoc_error(y, value_of(y, n, "url"),
                       "receiver '%s': URL must be %s (plain text only with 'allow_http: true')",
                       r.name, t == RECV_EMAIL ? "smtps:// or smtp:// with starttls" : "https://");
        /* A literal URL is accepted because it is not a secret: credentials in it
         * (scheme://user:password@host) would be one, written in the file. */
        const char *auth = strstr(r.url, "://");
        if (auth) {
            auth += 3;
            size_t alen = strcspn(auth, "/?#");
            if (memchr(auth, '@', alen))
                ydoc_error(y, value_of(y, n, "url"),
                           "receiver '%s': 'url' must not hold credentials (user:password@): "
                           "give 'username' and 'password_env' or 'password_file'",
                           r.name);
        }
    }
    if (r.timeout <= 0 || r.connect_timeout <= 0)
        ydoc_error(y, n, "receiver '%s': timeouts must be positive", r.name);
    if (r.burst < 1 || r.burst > 1000)
        ydoc_error(y, value_of(y, n, "burst"), "'burst' must be between 1 and 1000");
    if (r.max_alerts < 1 || r.max_alerts > SIFT_MAX_ALERTS_PER_MESSAGE)
        ydoc_error(y, value_of(y, n, "max_alerts"), "'max_alerts' must be between 1 and %u",
                   SIFT_MAX_ALERTS_PER_MESSAGE);
    if (r.rate_per_min == -1) {
        static const double defaults[] = { 60, 600, 120, 10 };
        r.rate_per_min = defaults[t];
    } else if (r.rate_per_min <= 0 || r.rate_per_min > 60000) {
        ydoc_error(y, value_of(y, n, "rate_per_min"),
                   "'rate_per_min' must be above 0 and at most 60000");
    }
    if (y->nerrors != before) {
        XGROW(c->refused, c->nrefused + 1, c->refused_alloc);
        c->refused[c->nrefused++] = r.name;
        return;
    }
    XGROW(c->receivers, c->nreceivers + 1, *alloc);
    struct receiver *o = &c->receivers[c->nreceivers++];
    memset(o, 0, sizeof(*o));
    o->name = r.name;
    o->type = t;
    o->url = r.url;
    o->url_env = r.url_env;
    o->url_file = r.url_file;
    o->secret_env = r.secret_env;
    o->secret_file = r.secret_file;
    o->routing_key_env = r.routing_key_env;
    o->routing_key_file = r.routing_key_file;
    o->username = r.username;
    o->password_env = r.password_env;
    o->password_file = r.password_file;
    o->from = r.from;
    o->to = list_dup(c, &r.to);
    o->nto = r.to.n;
    o->format = r.format && !strcmp(r.format, "alertmanager_v4") ? WEBHOOK_ALERTMANAGER_V4
                                                                 : WEBHOOK_PGSIFT_V1;
    o->allow_http = r.allow_http;
    o->tls_verify = r.tls_verify;
    o->starttls = r.starttls;
    o->send_resolved = r.send_resolved;
    o->github_signature = r.github_signature;
    o->ca_file = r.ca_file;
    o->timeout_us = r.timeout;
    o->connect_timeout_us = r.connect_timeout;
    o->rate_per_min = r.rate_per_min;
    o->burst = r.burst;
    o->max_alerts = r.max_alerts;
    o->file = y->path;
    o->line = (unsigned)n->start_mark.line + 1;
    o->col = (unsigned)n->start_mark.column + 1;
}

bool alert_config_defines(const struct alert_config *c, const char *name)
{
    if (alert_config_receiver(c, name))
        return true;
    for (size_t i = 0; i < c->nrefused; i++)
        if (!strcmp(c->refused[i], name))
            return true;
    return false;
}

static void check_receiver_names(struct alert_config *c, struct ydoc *y, yaml_node_t *at_node,
                                 const char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!alert_config_defines(c, names[i]))
            ydoc_error(y, at_node, "unknown receiver '%s'", names[i]);
}

static void load_route(struct alert_config *c, struct ydoc *y, yaml_node_t *n)
{
    struct route_raw r;
    size_t alloc = 0;

    memset(&r, 0, sizeof(r));
    if (ydoc_map(y, n, route_fields, ARRAY_SIZE(route_fields), &r, &c->strings)) {
        /* every problem, not the first: its receivers are checked all the same (QA 28: a
         * bad group_wait hid an unknown receiver until it was mended) */
        check_receiver_names(c, y, value_of(y, n, "notify"), list_dup(c, &r.notify), r.notify.n);
        return;
    }
    c->notify = list_dup(c, &r.notify);
    c->nnotify = r.notify.n;
    check_receiver_names(c, y, value_of(y, n, "notify"), c->notify, c->nnotify);
    c->group_by = list_dup(c, &r.group_by);
    c->ngroup_by = r.group_by.n;
    c->group_wait_us = r.group_wait;
    c->group_interval_us = r.group_interval;
    c->repeat_interval_us = r.repeat_interval;
    if (r.group_interval <= 0 || r.repeat_interval <= 0)
        ydoc_error(y, n, "'group_interval' and 'repeat_interval' must be positive");
    if (!r.routes)
        return;
    if (r.routes->type != YAML_SEQUENCE_NODE) {
        ydoc_error(y, r.routes, "'routes' expects a list of {match, notify}");
        return;
    }
    for (yaml_node_item_t *it = r.routes->data.sequence.items.start;
         it < r.routes->data.sequence.items.top; it++) {
        yaml_node_t *en = ydoc_node(y, *it);
        struct route_entry_raw e;
        memset(&e, 0, sizeof(e));
        if (ydoc_map(y, en, route_entry_fields, ARRAY_SIZE(route_entry_fields), &e, &c->strings))
            continue;
        XGROW(c->routes, c->nroutes + 1, alloc);
        struct route_entry *re = &c->routes[c->nroutes++];
        memset(re, 0, sizeof(*re));
        load_matchers(c, y, e.match, &re->match, "match");
        re->notify = list_dup(c, &e.notify);
        re->nnotify = e.notify.n;
        re->cont = e.cont;
        check_receiver_names(c, y, value_of(y, en, "notify"), re->notify, re->nnotify);
    }
}

static void load_inhibit(struct alert_config *c, struct ydoc *y, yaml_node_t *n)
{
    size_t alloc = 0;

    if (n->type != YAML_SEQUENCE_NODE) {
        ydoc_error(y, n, "'inhibit' expects a list of {source, target, equal}");
        return;
    }
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        yaml_node_t *en = ydoc_node(y, *it);
        struct inhibit_raw e;
        memset(&e, 0, sizeof(e));
        if (ydoc_map(y, en, inhibit_fields, ARRAY_SIZE(inhibit_fields), &e, &c->strings))
            continue;
        XGROW(c->inhibit, c->ninhibit + 1, alloc);
        struct inhibit_rule *ir = &c->inhibit[c->ninhibit++];
        memset(ir, 0, sizeof(*ir));
        load_matchers(c, y, e.source, &ir->source, "source");
        load_matchers(c, y, e.target, &ir->target, "target");
        ir->equal = list_dup(c, &e.equal);
        ir->nequal = e.equal.n;
    }
}

static void load_sections(struct alert_config *c, struct ydoc *y, yaml_node_t *receivers,
                          yaml_node_t *route, yaml_node_t *inhibit, yaml_node_t *alerting)
{
    if (receivers) {
        size_t alloc = 0;
        if (receivers->type != YAML_SEQUENCE_NODE) {
            ydoc_error(y, receivers, "'receivers' expects a list of receivers");
        } else {
            for (yaml_node_item_t *it = receivers->data.sequence.items.start;
                 it < receivers->data.sequence.items.top; it++)
                load_receiver(c, y, ydoc_node(y, *it), &alloc);
        }
    }
    if (route)
        load_route(c, y, route);
    if (inhibit)
        load_inhibit(c, y, inhibit);
    if (alerting) {
        struct alerting_raw a;
        memset(&a, 0, sizeof(a));
        if (!ydoc_map(y, alerting, alerting_fields, ARRAY_SIZE(alerting_fields), &a, &c->strings)) {
            c->allowed_lateness_us = a.allowed_lateness;
            c->max_delivery_age_us = a.max_delivery_age;
            c->max_notify_age_us = a.max_notify_age;
            c->external_url = a.external_url;
            if (a.max_delivery_age <= 0)
                ydoc_error(y, value_of(y, alerting, "max_delivery_age"),
                           "'max_delivery_age' must be positive");
        }
    }
}

static void load_config_doc(struct alert_config *c, struct ydoc *y)
{
    struct config_raw r;
    yaml_node_t *root = ydoc_root(y);

    memset(&r, 0, sizeof(r));
    if (y->nerrors)
        goto out;
    if (!root) {
        ydoc_error(y, NULL, "empty configuration file");
        goto out;
    }
    ydoc_map(y, root, config_fields, ARRAY_SIZE(config_fields), &r, &c->strings);
    c->rule_files = list_dup(c, &r.rules);
    c->nrule_files = r.rules.n;
    c->store = r.store; /* in c->strings */
    /* Refused here as config.c refuses it for tail, ingest and status. */
    if (r.store && !*r.store)
        ydoc_error(y, value_of(y, root, "store"), "'store' is empty");
    load_sections(c, y, r.receivers, r.route, r.inhibit, r.alerting);
out:
    c->nerrors += y->nerrors;
    if (y->errors.len && sbuf_addspan(&c->errors, sbuf_span(&y->errors)) < 0)
        return;
}

void alert_config_from_yaml(struct alert_config *c, struct ydoc *y, const struct ylist *rules,
                            yaml_node_t *receivers, yaml_node_t *route, yaml_node_t *inhibit,
                            yaml_node_t *alerting)
{
    unsigned before = y->nerrors;
    size_t len = y->errors.len;

    if (rules) {
        c->rule_files = list_dup(c, rules);
        c->nrule_files = rules->n;
        for (size_t i = 0; i < rules->n; i++) /* copies: they outlive the document */
            c->rule_files[i] = arena_dup(&c->strings, rules->v[i], strlen(rules->v[i])).p;
    }
    load_sections(c, y, receivers, route, inhibit, alerting);
    c->nerrors += y->nerrors - before;
    if (y->errors.len > len && sbuf_add(&c->errors, y->errors.buf + len, y->errors.len - len) < 0)
        return;
}

void alert_config_load_mem(struct alert_config *c, const char *name, const char *buf, size_t len)
{
    struct ydoc y;

    ydoc_load_mem(&y, arena_dup(&c->strings, name, strlen(name)).p, buf, len);
    load_config_doc(c, &y);
    ydoc_release(&y);
}

int alert_config_load(struct alert_config *c, const char *path, struct diag *d)
{
    struct ydoc y;

    if (ydoc_load(&y, arena_dup(&c->strings, path, strlen(path)).p, SIFT_MAX_CONFIG_FILE_BYTES, d) <
        0) {
        ydoc_release(&y);
        return -1;
    }
    load_config_doc(c, &y);
    ydoc_release(&y);
    return 0;
}

void alert_config_check_rules(const struct alert_config *c, struct rule_set *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        const struct rule *r = &rs->rules[i];
        for (size_t j = 0; j < r->nnotify; j++) {
            if (alert_config_defines(c, r->notify[j]))
                continue;
            rs->nerrors++;
            if (sbuf_addf(&rs->errors, "%s:%u:%u: rule '%s' notifies unknown receiver '%s'\n",
                          r->file, r->line, r->col, r->name, r->notify[j]) < 0)
                return;
        }
    }
}

/* ---- reference ---- */

void rules_config_reference_markdown(FILE *out)
{
    fprintf(out, "\n### pgsift.yaml: top level (alerting keys)\n\n");
    ydoc_fields_markdown(out, config_fields, ARRAY_SIZE(config_fields));
    fprintf(out, "\n### `receivers` fields\n\n");
    ydoc_fields_markdown(out, receiver_fields, ARRAY_SIZE(receiver_fields));
    fprintf(out, "\nReceiver types each key applies to:");
    for (size_t i = 0; i < ARRAY_SIZE(receiver_fields); i++) {
        fprintf(out, "%s `%s`: ", i ? ";" : "", receiver_fields[i].name);
        bool first = true;
        for (unsigned t = 0; t < RECV_TYPE_COUNT; t++) {
            if (!(receiver_fields_types[i] & (1u << t)))
                continue;
            fprintf(out, "%s%s", first ? "" : ", ", receiver_types[t]);
            first = false;
        }
    }
    fprintf(out, ".\n\n### `route` fields\n\n");
    ydoc_fields_markdown(out, route_fields, ARRAY_SIZE(route_fields));
    fprintf(out, "\n### `route.routes` entries\n\n");
    ydoc_fields_markdown(out, route_entry_fields, ARRAY_SIZE(route_entry_fields));
    fprintf(out, "\n### `inhibit` entries\n\n");
    ydoc_fields_markdown(out, inhibit_fields, ARRAY_SIZE(inhibit_fields));
    fprintf(out, "\n### `alerting` fields\n\n");
    ydoc_fields_markdown(out, alerting_fields, ARRAY_SIZE(alerting_fields));
}

static bool explain_table(FILE *out, const char *prefix, const struct yfield *t, size_t n,
                          const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(t[i].name, name))
            continue;
        fprintf(out, "%s%s\n  %s\n", prefix, t[i].name, t[i].help);
        if (t[i].choices) {
            fprintf(out, "  one of:");
            for (const char *const *ch = t[i].choices; *ch; ch++)
                fprintf(out, " %s", *ch);
            fputc('\n', out);
        }
        fprintf(out, "  required: %s", t[i].required ? "yes" : "no");
        if (t[i].def)
            fprintf(out, ", default: %s", t[i].def);
        fputc('\n', out);
        return true;
    }
    return false;
}

bool rules_config_explain(FILE *out, const char *topic)
{
    static const struct {
        const char *prefix;
        const struct yfield *t;
        size_t n;
    } tables[] = {
        { "receiver.", receiver_fields, ARRAY_SIZE(receiver_fields) },
        { "route.", route_fields, ARRAY_SIZE(route_fields) },
        { "routes.", route_entry_fields, ARRAY_SIZE(route_entry_fields) },
        { "inhibit.", inhibit_fields, ARRAY_SIZE(inhibit_fields) },
        { "alerting.", alerting_fields, ARRAY_SIZE(alerting_fields) },
    };
    for (size_t i = 0; i < ARRAY_SIZE(tables); i++) {
        size_t pl = strlen(tables[i].prefix);
        if (strncmp(topic, tables[i].prefix, pl))
            continue;
        if (explain_table(out, tables[i].prefix, tables[i].t, tables[i].n, topic + pl))
            return true;
    }
    return false;
}
