/* SPDX-License-Identifier: MIT */
/*
 * deliver_http - the only file that sends through libcurl (loaded on the first send by
 * core/lazylib): one POST (webhooks, Slack, PagerDuty) or one SMTP submission per call.
 *
 * Every handle gets CURLOPT_ERRORBUFFER, a connect and a total timeout, no redirects
 * (a 3xx is a failure, as Standard Webhooks recommends), an explicit protocol list
 * (https only unless the receiver allows http), and certificate verification unless the
 * receiver turned it off. curl's messages can contain the URL, which for Slack and most
 * webhooks is the secret: they are scrubbed before they leave this file.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/lazylib.h"
#include "core/utf8.h"
#include "rules/deliver_int.h"

#define RESPONSE_KEEP 1024

void http_result_init(struct http_result *res)
{
    memset(res, 0, sizeof(*res));
    res->retry_after_us = -1;
    sbuf_init(&res->response, RESPONSE_KEEP);
}

void http_result_release(struct http_result *res)
{
    sbuf_release(&res->response);
}

/* Replace every occurrence of @needle in @s (NUL-terminated, capacity @cap) by @with,
 * and a prefix of @needle (at least 4 bytes) that ends @s: text cut short by a buffer.
 * Out of place, so @with may be longer than @needle; output that does not fit is cut. */
static void replace_all(char *s, size_t cap, const char *needle, size_t nlen, const char *with)
{
    char out[RESPONSE_KEEP + CURL_ERROR_SIZE];
    size_t o = 0, wlen = strlen(with), slen = strlen(s);

    if (cap > sizeof(out)) /* (a caller's buffer this cannot hold would go unscrubbed) */
        BUG("replace_all: a buffer of %zu bytes", cap);
    if (!nlen)
        return;
    for (size_t i = 0; i < slen;) {
        size_t left = slen - i, k = left < nlen ? left : nlen;
        if (!memcmp(s + i, needle, k) && (k == nlen || k >= 4)) {
            for (size_t j = 0; j < wlen && o + 1 < cap; j++)
                out[o++] = with[j];
            i += k;
        } else {
            if (o + 1 < cap)
                out[o++] = s[i];
            i++;
        }
    }
    out[o] = '\0';
    memcpy(s, out, o + 1);
}

/* @s[0..len) percent-decoded into @out (at most @cap bytes), with @form '+' as a space
 * too. Returns the length written. */
static size_t percent_decode(const char *s, size_t len, bool form, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n < cap; i++) {
        if (s[i] == '%' && i + 2 < len && hex_digit(s[i + 1]) >= 0 && hex_digit(s[i + 2]) >= 0) {
            out[n++] = (char)(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]));
            i += 2;
        } else {
            out[n++] = form && s[i] == '+' ? ' ' : s[i];
        }
    }
    return n;
}

/*
 * What a receiver's error page or curl may echo of a request, and so what is removed
 * from their texts (scrub()): a webhook URL is a secret as a whole, and every part of it
 * may be the secret (Slack's path, a token in the query, a service's host name, the
 * credentials of user:password@), echoed as sent or decoded: percent-decoded, as a form
 * ('+' a space), or the credentials as curl's Basic authorization header (base64).
 * Pieces under SCRUB_MIN bytes hide nothing and are left, so that an error stays
 * readable; longer path segments ("hooks") are removed with the rest.
 */
#define SCRUB_MIN   4
#define SCRUB_MAX   64
#define SCRUB_SPACE 16384

struct scrub {
    struct sbuf text; /* the pieces, each NUL-terminated */
    struct {
        size_t off, len;
        const char *with;
    } p[SCRUB_MAX];
    size_t n;
};

static void scrub_add(struct scrub *sc, const char *s, size_t len, const char *with)
{
    if (len < SCRUB_MIN || sc->n == SCRUB_MAX)
        return;
    for (size_t i = 0; i < sc->n; i++)
        if (sc->p[i].len == len && !memcmp(sc->text.buf + sc->p[i].off, s, len))
            return;
    size_t off = sc->text.len;
    if (sbuf_add(&sc->text, s, len) < 0 || sbuf_addch(&sc->text, '\0') < 0) {
        sbuf_setlen(&sc->text, off);
        return;
    }
    sc->p[sc->n].off = off;
    sc->p[sc->n].len = len;
    sc->p[sc->n].with = with;
    sc->n++;
}

/* @s[0..len) as sent, percent-decoded, and with @form also '+' as a space. */
static void scrub_add_decoded(struct scrub *sc, const char *s, size_t len, const char *with,
                              bool form)
{
    char dec[2048];

    scrub_add(sc, s, len, with);
    scrub_add(sc, dec, percent_decode(s, len, false, dec, sizeof(dec)), with);
    if (form)
        scrub_add(sc, dec, percent_decode(s, len, true, dec, sizeof(dec)), with);
}

/* Each piece of @s[0..len) between separators in @seps, decoded as above. */
static void scrub_add_parts(struct scrub *sc, const char *s, size_t len, const char *seps,
                            const char *with, bool form)
{
    for (size_t i = 0; i < len;) {
        size_t k = i;
        while (k < len && !strchr(seps, s[k]))
            k++;
        scrub_add_decoded(sc, s + i, k - i, with, form);
        i = k + 1;
    }
}

/* The pieces of @url: with @host its host name too (curl's "Could not resolve host",
 * an error page's Host header). @extra: another secret of the receiver (a key or
 * password; may be empty). */
static void scrub_init(struct scrub *sc, const char *url, bool host, struct span extra)
{
    memset(sc, 0, sizeof(*sc));
    sbuf_init(&sc->text, SCRUB_SPACE);
    scrub_add(sc, extra.p, extra.len, "<secret>");
    if (!url || !*url)
        return;
    scrub_add_decoded(sc, url, strlen(url), "<url>", false);
    const char *scheme = strstr(url, "://");
    if (!scheme)
        return;
    /* the authority: [userinfo@]host[:port], up to the path, query or fragment */
    const char *a = scheme + 3, *end = a + strcspn(a, "/?#");
    const char *at = memchr(a, '@', (size_t)(end - a));
    if (at) {
        char user[1024];
        struct sbuf b64 = SBUF_INIT;
        /* user:password, decoded as curl sends it in "Authorization: Basic ..." */
        size_t ul = percent_decode(a, (size_t)(at - a), false, user, sizeof(user));
        if (base64_encode(span_make(user, ul), &b64) == 0)
            scrub_add(sc, b64.buf, b64.len, "<credentials>");
        sbuf_release(&b64);
        explicit_bzero(user, sizeof(user));
        scrub_add_decoded(sc, a, (size_t)(at - a), "<credentials>", false);
        scrub_add_parts(sc, a, (size_t)(at - a), ":", "<credentials>", false);
        a = at + 1;
    }
    if (host) {
        const char *colon = *a == '[' ? memchr(a, ']', (size_t)(end - a)) : a;
        colon = colon ? memchr(colon, ':', (size_t)(end - colon)) : NULL;
        char h[256];
        size_t hl = (size_t)((colon ? colon : end) - a);
        if (hl < sizeof(h)) {
            memcpy(h, a, hl);
            scrub_add(sc, h, hl, "<host>");
            /* and as lower case (a Host header or resolver may fold it) */
            for (size_t i = 0; i < hl; i++)
                if (h[i] >= 'A' && h[i] <= 'Z')
                    h[i] = (char)(h[i] - 'A' + 'a');
            scrub_add(sc, h, hl, "<host>");
        }
    }
    /* the path with its query (the request line), the path, its segments; the query,
     * its parameters and their values */
    const char *path = end, *q = strchr(path, '?'), *frag = path + strcspn(path, "#");
    if (q > frag)
        q = NULL;
    const char *pend = q ? q : frag;
    scrub_add_decoded(sc, path, (size_t)(frag - path), "<path>", true);
    scrub_add_decoded(sc, path, (size_t)(pend - path), "<path>", false);
    scrub_add_parts(sc, path, (size_t)(pend - path), "/", "<path>", false);
    if (q) {
        q++;
        scrub_add_decoded(sc, q, (size_t)(frag - q), "<query>", true);
        scrub_add_parts(sc, q, (size_t)(frag - q), "&;", "<query>", true);
        scrub_add_parts(sc, q, (size_t)(frag - q), "&;=", "<query>", true);
    }
}

static void scrub_release(struct scrub *sc)
{
    if (sc->text.alloc)
        explicit_bzero(sc->text.buf, sc->text.alloc);
    sbuf_release(&sc->text);
}

/* Remove every piece from @s (capacity @cap), the longest first. */
static void scrub(const struct scrub *sc, char *s, size_t cap)
{
    bool done[SCRUB_MAX] = { false };

    for (size_t k = 0; k < sc->n; k++) {
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < sc->n; i++)
            if (!done[i] && (best == SIZE_MAX || sc->p[i].len > sc->p[best].len))
                best = i;
        done[best] = true;
        replace_all(s, cap, sc->text.buf + sc->p[best].off, sc->p[best].len, sc->p[best].with);
    }
}

/* Copy curl's message, scrubbed (above), as one line of valid UTF-8. */
static void scrub_error(const struct lib_curl *C, char *dst, size_t cap, const char *msg,
                        const struct scrub *sc, CURLcode code)
{
    char tmp[CURL_ERROR_SIZE + 1];

    snprintf(tmp, sizeof(tmp), "%s", *msg ? msg : C->easy_strerror(code));
    size_t n = strlen(tmp);
    while (n && (tmp[n - 1] == '\n' || tmp[n - 1] == '\r'))
        tmp[--n] = '\0';
    scrub(sc, tmp, sizeof(tmp));
    size_t o = 0;
    for (size_t i = 0; tmp[i] && o + 4 < cap;) {
        uint32_t cp;
        size_t l = utf8_decode((const unsigned char *)tmp + i, strlen(tmp + i), &cp);
        if (!l || cp < 0x20) {
            dst[o++] = '?';
            i += l ? l : 1;
            continue;
        }
        memcpy(dst + o, tmp + i, l);
        o += l;
        i += l;
    }
    dst[o] = '\0';
}

/* A receiver's error page may echo the request ("Cannot POST /hooks/T0/B0/x"). */
static void scrub_response(struct http_result *res, const struct scrub *sc)
{
    char tmp[RESPONSE_KEEP + 1];

    if (!res->response.len)
        return;
    snprintf(tmp, sizeof(tmp), "%.*s", (int)res->response.len, res->response.buf);
    scrub(sc, tmp, sizeof(tmp));
    sbuf_reset(&res->response);
    if (sbuf_addstr(&res->response, tmp) < 0)
        sbuf_reset(&res->response);
}

struct capture {
    const struct lib_curl *C;
    struct http_result *res;
    int64_t now_us;
};

static size_t on_header(char *buf, size_t size, size_t n, void *ctx)
{
    struct capture *c = ctx;
    size_t len = size * n;
    static const char name[] = "retry-after:";

    if (len > sizeof(name) - 1 && !strncasecmp(buf, name, sizeof(name) - 1)) {
        char v[128];
        size_t vl = len - (sizeof(name) - 1);
        if (vl >= sizeof(v))
            vl = sizeof(v) - 1;
        memcpy(v, buf + sizeof(name) - 1, vl);
        v[vl] = '\0';
        struct span s = span_trim(span_cstr(v));
        int64_t secs;
        if (span_to_i64(s, &secs) && secs >= 0 && secs < INT64_C(1) << 31) {
            c->res->retry_after_us = secs * USEC_PER_SEC;
        } else {
            char d[128];
            snprintf(d, sizeof(d), "%.*s", (int)s.len, s.p);
            time_t t = c->C->getdate(d, NULL);
            if (t != (time_t)-1) {
                int64_t at = (int64_t)t * USEC_PER_SEC - c->now_us;
                c->res->retry_after_us = at > 0 ? at : 0;
            }
        }
    }
    return len;
}

static size_t on_body(char *buf, size_t size, size_t n, void *ctx)
{
    struct capture *c = ctx;
    size_t len = size * n, room = RESPONSE_KEEP - c->res->response.len;

    if (room && sbuf_add(&c->res->response, buf, len < room ? len : room) < 0)
        return len;
    return len; /* read everything, keep the start */
}

static long ms(int64_t us)
{
    int64_t m = us / 1000;
    return m < 1 ? 1 : m > 0x7fffffff ? 0x7fffffff : (long)m;
}

/* libcurl (loaded on first use) and a new handle; NULL with the reason in @res. */
static CURL *start(const struct lib_curl **C, struct http_result *res)
{
    struct diag d = DIAG_INIT;
    CURL *h = NULL;

    *C = lazylib_curl(&d);
    if (*C && !(h = (*C)->easy_init()))
        diag_set(&d, DIAG_NET, "cannot initialise libcurl");
    if (!h) { /* the message is ASCII: dlerror()'s and ours */
        size_t n = strnlen(d.msg, sizeof(res->error) - 1);
        memcpy(res->error, d.msg, n);
        res->error[n] = '\0';
        res->curl_code = CURLE_FAILED_INIT;
    }
    return h;
}

static volatile sig_atomic_t interrupted;

void deliver_interrupt(void)
{
    interrupted = 1;
}

/* libcurl's progress callback, a few times a second while a transfer runs: non-zero
 * aborts it (CURLE_ABORTED_BY_CALLBACK). */
static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)ctx;
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return interrupted != 0;
}

/* Sends end when deliver_interrupt() says the process stops. */
static void interruptible(const struct lib_curl *C, CURL *h)
{
    C->easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    C->easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
}

void http_post(const struct http_request *req, struct http_result *res)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *hdrs = NULL;
    const struct lib_curl *C;
    CURL *h = start(&C, res);
    struct capture cap = { C, res, req->now_us };

    if (!h)
        return;
    for (size_t i = 0; i < req->nheaders; i++)
        hdrs = C->slist_append(hdrs, req->headers[i]);
    hdrs = C->slist_append(hdrs, "Expect:"); /* no 100-continue round trip */
    C->easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    C->easy_setopt(h, CURLOPT_URL, req->url);
    C->easy_setopt(h, CURLOPT_PROTOCOLS_STR, req->allow_http ? "http,https" : "https");
    C->easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    C->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    C->easy_setopt(h, CURLOPT_TIMEOUT_MS, ms(req->timeout_us));
    C->easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, ms(req->connect_timeout_us));
    C->easy_setopt(h, CURLOPT_SSL_VERIFYPEER, req->tls_verify ? 1L : 0L);
    C->easy_setopt(h, CURLOPT_SSL_VERIFYHOST, req->tls_verify ? 2L : 0L);
    if (req->ca_file)
        C->easy_setopt(h, CURLOPT_CAINFO, req->ca_file);
    C->easy_setopt(h, CURLOPT_USERAGENT, "pgsift");
    C->easy_setopt(h, CURLOPT_POST, 1L);
    C->easy_setopt(h, CURLOPT_POSTFIELDS, req->body.p ? req->body.p : "");
    C->easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body.len);
    C->easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    C->easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    C->easy_setopt(h, CURLOPT_HEADERDATA, &cap);
    C->easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    C->easy_setopt(h, CURLOPT_WRITEDATA, &cap);
    interruptible(C, h);

    CURLcode rc = interrupted ? CURLE_ABORTED_BY_CALLBACK : C->easy_perform(h);
    res->interrupted = rc == CURLE_ABORTED_BY_CALLBACK;
    struct scrub sc;
    scrub_init(&sc, req->url, true, req->secret);
    res->curl_code = (int)rc;
    C->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->status);
    if (rc != CURLE_OK)
        scrub_error(C, res->error, sizeof(res->error), errbuf, &sc, rc);
    scrub_response(res, &sc);
    scrub_release(&sc);
    C->easy_cleanup(h);
    C->slist_free_all(hdrs);
}

struct upload {
    struct span data;
    size_t off;
};

static size_t on_read(char *buf, size_t size, size_t n, void *ctx)
{
    struct upload *u = ctx;
    size_t room = size * n, left = u->data.len - u->off;
    size_t k = left < room ? left : room;

    memcpy(buf, u->data.p + u->off, k);
    u->off += k;
    return k;
}

void smtp_send(const struct smtp_request *req, struct http_result *res)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *rcpt = NULL;
    struct upload up = { req->message, 0 };
    char from[512];
    const struct lib_curl *C;
    CURL *h = start(&C, res);

    if (!h)
        return;
    snprintf(from, sizeof(from), "<%s>", req->from);
    for (size_t i = 0; i < req->nto; i++) {
        char to[512];
        snprintf(to, sizeof(to), "<%s>", req->to[i]);
        rcpt = C->slist_append(rcpt, to);
    }
    C->easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    C->easy_setopt(h, CURLOPT_URL, req->url);
    C->easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    C->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    C->easy_setopt(h, CURLOPT_TIMEOUT_MS, ms(req->timeout_us));
    C->easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, ms(req->connect_timeout_us));
    C->easy_setopt(h, CURLOPT_USE_SSL,
                   req->require_tls ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_NONE);
    C->easy_setopt(h, CURLOPT_SSL_VERIFYPEER, req->tls_verify ? 1L : 0L);
    C->easy_setopt(h, CURLOPT_SSL_VERIFYHOST, req->tls_verify ? 2L : 0L);
    if (req->ca_file)
        C->easy_setopt(h, CURLOPT_CAINFO, req->ca_file);
    if (req->username)
        C->easy_setopt(h, CURLOPT_USERNAME, req->username);
    if (req->password)
        C->easy_setopt(h, CURLOPT_PASSWORD, req->password);
    C->easy_setopt(h, CURLOPT_MAIL_FROM, from);
    C->easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
    C->easy_setopt(h, CURLOPT_UPLOAD, 1L);
    C->easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    C->easy_setopt(h, CURLOPT_READDATA, &up);
    C->easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->message.len);
    interruptible(C, h);

    CURLcode rc = interrupted ? CURLE_ABORTED_BY_CALLBACK : C->easy_perform(h);
    res->interrupted = rc == CURLE_ABORTED_BY_CALLBACK;
    res->curl_code = (int)rc;
    C->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->status);
    if (rc != CURLE_OK) {
        /* the server's name is no secret (a literal url): its host stays */
        struct scrub sc;
        scrub_init(&sc, req->url, false, span_cstr(req->password ? req->password : ""));
        scrub_error(C, res->error, sizeof(res->error), errbuf, &sc, rc);
        scrub_release(&sc);
    }
    C->easy_cleanup(h);
    C->slist_free_all(rcpt);
}
