/* SPDX-License-Identifier: MIT */
/*
 * deliver_sign - webhook signatures (Standard Webhooks 1.0 and GitHub's
 * X-Hub-Signature-256 shape) with OpenSSL's HMAC-SHA256, base64, and the secrets they
 * are made from.
 *
 * OpenSSL's libcrypto (loaded on first use by core/lazylib; libcurl loads it too) does
 * the HMAC: no hand-written SHA-256 in pgsift.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/lazylib.h"
#include "core/limits.h"
#include "core/log.h"
#include "rules/deliver_int.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_encode(struct span in, struct sbuf *out)
{
    const unsigned char *p = (const unsigned char *)in.p;
    size_t i = 0;

    for (; i + 2 < in.len; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        char q[4] = { b64[v >> 18], b64[(v >> 12) & 63], b64[(v >> 6) & 63], b64[v & 63] };
        if (sbuf_add(out, q, 4) < 0)
            return -1;
    }
    if (i < in.len) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < in.len ? (unsigned)p[i + 1] << 8 : 0);
        char q[4] = { b64[v >> 18], b64[(v >> 12) & 63], i + 1 < in.len ? b64[(v >> 6) & 63] : '=',
                      '=' };
        if (sbuf_add(out, q, 4) < 0)
            return -1;
    }
    return 0;
}

static int b64_value(char c)
{
    const char *p = c ? strchr(b64, c) : NULL;
    return p ? (int)(p - b64) : -1;
}

int base64_decode(struct span in, struct sbuf *out)
{
    unsigned acc = 0;
    int bits = 0;
    size_t pad = 0;

    for (size_t i = 0; i < in.len; i++) {
        char c = in.p[i];
        if (c == '=') {
            pad++;
            continue;
        }
        if (pad)
            return -1; /* data after padding */
        int v = b64_value(c);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (sbuf_addch(out, (char)((acc >> bits) & 0xff)) < 0)
                return -1;
        }
    }
    if (pad > 2 || (in.len % 4 != 0 && pad))
        return -1;
    return 0;
}

int sign_key_from_secret(struct span secret, struct sbuf *key)
{
    if (span_starts_with_lit(secret, "whsec_"))
        return base64_decode(span_sub(secret, 6, secret.len), key);
    return sbuf_addspan(key, secret);
}

static int hmac(struct span key, const struct span *parts, size_t nparts, unsigned char out[32])
{
    const struct lib_crypto *L = lazylib_crypto(NULL);
    if (!L)
        return -1;
    EVP_MAC *mac = L->mac_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? L->mac_ctx_new(mac) : NULL;
    OSSL_PARAM params[2];
    size_t outl = 0;
    int rc = -1;

    if (!ctx)
        goto out;
    params[0] = L->param_utf8_string("digest", (char *)"SHA256", 0);
    params[1] = L->param_end();
    /* An empty key is valid HMAC; OpenSSL wants a non-NULL pointer. */
    if (!L->mac_init(ctx, (const unsigned char *)(key.p ? key.p : ""), key.len, params))
        goto out;
    for (size_t i = 0; i < nparts; i++)
        if (parts[i].len && !L->mac_update(ctx, (const unsigned char *)parts[i].p, parts[i].len))
            goto out;
    if (!L->mac_final(ctx, out, &outl, 32) || outl != 32)
        goto out;
    rc = 0;
out:
    L->mac_ctx_free(ctx);
    L->mac_free(mac);
    return rc;
}

int sign_standard_webhooks(struct span key, const char *id, int64_t ts_s, struct span body,
                           struct sbuf *out)
{
    char ts[32];
    unsigned char mac[32];

    snprintf(ts, sizeof(ts), "%lld", (long long)ts_s);
    struct span parts[] = { span_cstr(id), SPAN_LIT("."), span_cstr(ts), SPAN_LIT("."), body };
    if (hmac(key, parts, 5, mac) < 0)
        return -1;
    if (sbuf_addstr(out, "v1,") < 0)
        return -1;
    int rc = base64_encode(span_make((const char *)mac, 32), out);
    explicit_bzero(mac, sizeof(mac));
    return rc;
}

int sign_github(struct span key, struct span body, struct sbuf *out)
{
    unsigned char mac[32];
    static const char hex[] = "0123456789abcdef";

    if (hmac(key, &body, 1, mac) < 0 || sbuf_addstr(out, "sha256=") < 0)
        return -1;
    for (int i = 0; i < 32; i++)
        if (sbuf_addch(out, hex[mac[i] >> 4]) < 0 || sbuf_addch(out, hex[mac[i] & 15]) < 0)
            return -1;
    return 0;
}

/* ---- secrets ---- */

void secret_release(struct sbuf *sb)
{
    if (sb->alloc)
        explicit_bzero(sb->buf, sb->alloc);
    sbuf_release(sb);
}

static int read_secret_file(const char *receiver, const char *what, const char *path,
                            struct sbuf *out, struct diag *d)
{
    /* O_NONBLOCK: a FIFO named as a secret file must not hang a check or the daemon */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    char buf[4096];

    if (fd < 0)
        return diag_errno(d, DIAG_IO, errno, "receiver '%s': cannot open %s file '%s'", receiver,
                          what, path);
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return diag_errno(d, DIAG_IO, e, "receiver '%s': cannot stat '%s'", receiver, path);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return diag_set(d, DIAG_USAGE, "receiver '%s': %s file '%s' is not a regular file",
                        receiver, what, path);
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        close(fd);
        return diag_set(d, DIAG_USAGE,
                        "receiver '%s': %s file '%s' is readable by group or others (mode %03o); "
                        "chmod 600 it",
                        receiver, what, path, (unsigned)(st.st_mode & 0777));
    }
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            explicit_bzero(buf, sizeof(buf));
            return diag_errno(d, DIAG_IO, e, "receiver '%s': cannot read '%s'", receiver, path);
        }
        if (n == 0)
            break;
        if (sbuf_add(out, buf, (size_t)n) < 0) {
            close(fd);
            explicit_bzero(buf, sizeof(buf));
            return diag_set(d, DIAG_USAGE, "receiver '%s': %s file '%s' is too large", receiver,
                            what, path);
        }
    }
    close(fd);
    explicit_bzero(buf, sizeof(buf));
    return 0;
}

int secret_read(const struct receiver *r, enum secret_kind kind, struct sbuf *out, struct diag *d)
{
    static const char *const what[] = { "URL", "signing key", "routing key", "password" };
    const char *env = NULL, *file = NULL, *literal = NULL;

    switch (kind) {
    case SECRET_URL:
        env = r->url_env;
        file = r->url_file;
        literal = r->url; /* only accepted by the loader where it is not a secret */
        break;
    case SECRET_SIGNING_KEY:
        env = r->secret_env;
        file = r->secret_file;
        break;
    case SECRET_ROUTING_KEY:
        env = r->routing_key_env;
        file = r->routing_key_file;
        break;
    case SECRET_PASSWORD:
        env = r->password_env;
        file = r->password_file;
        break;
    }
    sbuf_init(out, 64 * 1024);
    if (literal) {
        if (sbuf_addstr(out, literal) < 0)
            return diag_set(d, DIAG_LIMIT, "receiver '%s': URL too long", r->name);
        return 0;
    }
    if (env) {
        const char *v = getenv(env);
        if (!v || !*v)
            return diag_set(d, DIAG_USAGE,
                            "receiver '%s': environment variable '%s' (its %s) is not set", r->name,
                            env, what[kind]);
        if (sbuf_addstr(out, v) < 0)
            return diag_set(d, DIAG_LIMIT, "receiver '%s': '%s' is too long", r->name, env);
    } else if (file) {
        if (read_secret_file(r->name, what[kind], file, out, d) < 0)
            return -1;
    } else {
        return 1;
    }
    while (out->len && (out->buf[out->len - 1] == '\n' || out->buf[out->len - 1] == '\r' ||
                        out->buf[out->len - 1] == ' '))
        out->buf[--out->len] = '\0';
    if (!out->len)
        return diag_set(d, DIAG_USAGE, "receiver '%s': its %s (%s '%s') is empty", r->name,
                        what[kind], env ? "variable" : "file", env ? env : file);
    return 0;
}

unsigned alert_config_check_secret_files(const struct alert_config *c, struct sbuf *errors)
{
    unsigned n = 0;
    for (size_t i = 0; i < c->nreceivers; i++) {
        const struct receiver *r = &c->receivers[i];
        const struct {
            enum secret_kind kind;
            const char *file;
        } files[] = { { SECRET_URL, r->url_file },
                      { SECRET_SIGNING_KEY, r->secret_file },
                      { SECRET_ROUTING_KEY, r->routing_key_file },
                      { SECRET_PASSWORD, r->password_file } };
        for (size_t k = 0; k < ARRAY_SIZE(files); k++) {
            if (!files[k].file)
                continue;
            struct stat st;
            if (stat(files[k].file, &st) < 0 && errno == ENOENT) {
                /* provisioned later, or checked on another host: said, not refused */
                log_warn("receiver '%s': secret file '%s' does not exist (yet): its alerts "
                         "fail until it does",
                         r->name, files[k].file);
                continue;
            }
            struct receiver only_file = *r; /* the file, even if an env is given too */
            only_file.url = only_file.url_env = only_file.secret_env = NULL;
            only_file.routing_key_env = only_file.password_env = NULL;
            struct sbuf sb;
            struct diag d = DIAG_INIT;
            int rc = secret_read(&only_file, files[k].kind, &sb, &d);
            secret_release(&sb);
            if (rc < 0) {
                /* at the receiver, as the configuration's other problems are */
                (void)!sbuf_addf(errors, "%s:%u:%u: %s\n", r->file ? r->file : "configuration",
                                 r->line, r->col, d.msg);
                n++;
            }
        }
    }
    return n;
}
