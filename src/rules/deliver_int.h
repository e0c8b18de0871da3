/* SPDX-License-Identifier: MIT */
/*
 * deliver_int - private to src/rules/: the pieces the deliverer is made of.
 *
 *   message model (JSON, pgsift_v1 shape) --payload_render()--> body + headers per receiver
 *   body --http_post() / smtp_send()--> result (status, Retry-After, error text)
 *   result --deliver_classify()--> ok | retry | permanent | disable
 *   attempts --deliver_backoff()--> next attempt time (full jitter, Retry-After honoured)
 *
 * Secrets (URLs, signing keys, routing keys, passwords) are read from the environment or
 * files at send time by secret_read() and live only in memory for one attempt; no
 * message built here contains one: errors name the receiver.
 */
#ifndef SIFT_RULES_DELIVER_INT_H
#define SIFT_RULES_DELIVER_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/sbuf.h"
#include "rules/rules.h"

/* ---- secrets ---- */

enum secret_kind { SECRET_URL, SECRET_SIGNING_KEY, SECRET_ROUTING_KEY, SECRET_PASSWORD };

/* Read the receiver's secret of @kind into @out (trailing newline removed). Returns 1 when
 * the receiver has none of that kind configured, 0 when read, -1 with @d when it is
 * configured but missing or unreadable (the message names the variable or file, never the
 * value). A group- or world-readable secret file is refused. */
int secret_read(const struct receiver *r, enum secret_kind kind, struct sbuf *out, struct diag *d);

/* Wipe and release a buffer that held a secret. */
void secret_release(struct sbuf *sb);

/* ---- signatures (Standard Webhooks, GitHub style) ---- */

/* The HMAC key from a secret: "whsec_<base64>" decodes the base64, anything else is used
 * as raw bytes. Returns -1 when the whsec_ part is not valid base64. */
int sign_key_from_secret(struct span secret, struct sbuf *key);

/* "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>" */
int sign_standard_webhooks(struct span key, const char *id, int64_t ts_s, struct span body,
                           struct sbuf *out);

/* "sha256=<hex HMAC-SHA256(key, body)>" */
int sign_github(struct span key, struct span body, struct sbuf *out);

/* Base64 (standard alphabet, padded). Returns -1 on malformed input when decoding. */
int base64_encode(struct span in, struct sbuf *out);
int base64_decode(struct span in, struct sbuf *out);

/* ---- payloads ---- */

/* A rendered request. */
struct payload {
    struct sbuf body;
    struct sbuf subject; /* e-mail */
    const char *content_type;
};

void payload_init(struct payload *p);
void payload_release(struct payload *p);

/*
 * Render the message model @m for receiver @r. The model is the pgsift_v1 document:
 *   { "version": "1", "id": ..., "status": "firing"|"resolved", "receiver": ...,
 *     "group_key": ..., "group_labels": {...}, "truncated_alerts": N,
 *     "alerts": [ { "rule", "status", "severity", "labels", "annotations", "starts_at",
 *                   "ends_at", "value", "dedup_key" } ] }
 * PagerDuty takes exactly one alert per message (trigger or resolve by its status);
 * @routing_key is put into its body. Rendering is deterministic: the same model gives the
 * same bytes (retries re-render); only an e-mail's Date header depends on @now_us. Returns 0, or -1
 * with @d (DIAG_LIMIT when the body would exceed SIFT_MAX_WEBHOOK_BODY even after folding alerts
 * into the digest).
 */
int payload_render(const struct receiver *r, const json_t *m, const char *external_url,
                   struct span routing_key, int64_t now_us, struct payload *out, struct diag *d);

/* A JSON string from bytes that may not be valid UTF-8 (invalid bytes become U+FFFD). */
json_t *json_text(const char *s);

/* E-mail pieces shared by alert messages and plain messages (deliver_message.c).
 * email_head: From (@r->from), To (@r->to), Subject (@subject: one header-safe line,
 * already encoded by the caller), Date (@now_us, RFC 5322, UTC), Message-ID <@id@pgsift>,
 * the MIME headers of an 8-bit text/plain body and the empty line that ends the header.
 * email_text: @text with CRLF line ends, lines cut before 998 bytes (at 900, on a UTF-8
 * boundary), CRs dropped; no CRLF is added after the last line. Both return -1 when @b is
 * full. */
int email_head(struct sbuf *b, const struct receiver *r, const char *subject, const char *id,
               int64_t now_us);
int email_text(struct sbuf *b, struct span text);

/* ---- transport ---- */

struct http_result {
    long status;            /* HTTP status or SMTP reply code; 0 if none was received */
    int curl_code;          /* CURLcode, 0 = CURLE_OK */
    int64_t retry_after_us; /* from Retry-After, -1 when absent */
    char error[256];        /* curl's error text, URL-free; "" when none */
    struct sbuf response;   /* first bytes of the response body */
    bool interrupted;       /* ended by deliver_interrupt(), unanswered */
};

void http_result_init(struct http_result *res);
void http_result_release(struct http_result *res);

struct http_request {
    const char *receiver; /* for messages */
    const char *url;      /* secret: never printed */
    struct span secret;   /* the receiver's key, if any: never printed either */
    const char *const *headers;
    size_t nheaders;
    struct span body;
    bool allow_http, tls_verify;
    const char *ca_file;
    int64_t timeout_us, connect_timeout_us;
    int64_t now_us; /* for an HTTP-date Retry-After */
};

/* POST @req->body. Fills @res in every case (transport errors are results, not -1). */
void http_post(const struct http_request *req, struct http_result *res);

struct smtp_request {
    const char *receiver;
    const char *url; /* smtp://host:port or smtps://host:port */
    const char *username, *password;
    const char *from;
    const char *const *to;
    size_t nto;
    struct span message; /* RFC 5322, CRLF line ends */
    bool require_tls;    /* smtp://: STARTTLS required (CURLUSESSL_ALL) */
    bool tls_verify;
    const char *ca_file;
    int64_t timeout_us, connect_timeout_us;
};

void smtp_send(const struct smtp_request *req, struct http_result *res);

/* ---- one attempt (deliver_send.c) ---- */

enum deliver_send_rc {
    SEND_DONE = 0,    /* sent or tried: @res says how it went */
    SEND_NO_TLS = -1, /* smtp:// without starttls (and not allow_http): nothing sent */
    SEND_BAD_KEY = -2 /* the webhook signing secret is not valid whsec_<base64>: nothing sent */
};

/*
 * One attempt to send @body to @rv at @url: an e-mail over SMTP (@password may be NULL),
 * anything else as an HTTP POST of application/json; a webhook gets the Standard Webhooks
 * headers (webhook-id @id, webhook-timestamp @now_us), signed when @secret (its signing
 * key) is not empty, and also X-Pgsift-Signature-256 when @github_signature. @secret is
 * the receiver's key of any type (a PagerDuty routing key too), removed with the URL from
 * the texts of a failure. Fills @res (initialised by the caller) unless it refuses.
 */
enum deliver_send_rc deliver_send(const struct receiver *rv, const char *url, const char *password,
                                  struct span secret, bool github_signature, const char *id,
                                  struct span body, int64_t now_us, struct http_result *res);

/* Why an attempt that did not succeed failed, for a log or the store: the transport's error,
 * else "HTTP|SMTP <status>: <start of the response>", control characters as spaces (the
 * response is somebody else's bytes). @n >= 300 keeps all of it. */
void deliver_failure_text(enum receiver_type t, const struct http_result *res, char *buf, size_t n);

/* ---- policy ---- */

enum deliver_verdict {
    DELIVER_OK = 0,
    DELIVER_RETRY,     /* network error, timeout, 408, 429, 5xx, SMTP 4xx */
    DELIVER_PERMANENT, /* other 4xx, 3xx, SMTP 5xx, bad URL: retrying cannot help */
    DELIVER_DISABLE,   /* 410 Gone: the endpoint was removed */
};

enum deliver_verdict deliver_classify(enum receiver_type t, const struct http_result *res);
const char *deliver_verdict_name(enum deliver_verdict v);

/* The wait before attempt @attempts + 1 after @attempts failed ones: full jitter over an
 * exponential schedule (5 s, 30 s, 2 m, 10 m, 30 m, then hourly), never less than 1 s;
 * a Retry-After (@retry_after_us >= 0) is honoured exactly (capped at 6 h). @rnd is a
 * uniform random number in [0, 1). */
int64_t deliver_backoff(int attempts, int64_t retry_after_us, double rnd);

/* The uniform random source (SIFT_TEST_SEED makes it repeatable). */
double deliver_random(void);

/* Token bucket per receiver: @rate_per_min refill, @burst capacity. */
struct token_bucket {
    double tokens;
    int64_t last_us;
};
void token_bucket_init(struct token_bucket *b, double burst, int64_t now_us);
/* Take one token if available: returns 0; else returns the µs to wait for one. */
int64_t token_bucket_take(struct token_bucket *b, double rate_per_min, double burst,
                          int64_t now_us);

#endif
