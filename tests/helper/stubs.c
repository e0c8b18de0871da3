/* SPDX-License-Identifier: MIT */
/* Loopback HTTP and SMTP stubs for delivery tests; see stubs.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/sbuf.h"
#include "rules/deliver_int.h"
#include "stubs.h"

struct stub_opts {
    const char *port_file, *log, *script;
    long max_requests, max_seconds;
};

static int parse_opts(int argc, char **argv, struct stub_opts *o)
{
    o->max_requests = 100;
    o->max_seconds = 60;
    o->script = NULL;
    for (int i = 1; i < argc; i += 2) { /* --option value pairs */
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            goto bad;
        if (!strcmp(a, "--port-file"))
            o->port_file = v;
        else if (!strcmp(a, "--log"))
            o->log = v;
        else if (!strcmp(a, "--script"))
            o->script = v;
        else if (!strcmp(a, "--max-requests"))
            o->max_requests = strtol(v, NULL, 10);
        else if (!strcmp(a, "--max-seconds"))
            o->max_seconds = strtol(v, NULL, 10);
        else
            goto bad;
    }
    if (o->port_file && o->log)
        return 0;
bad:
    fprintf(stderr,
            "usage: %s --port-file F --log F [--script S] [--max-requests N] "
            "[--max-seconds N]\n",
            argv[0]);
    return -1;
}

static int64_t mono_ms(void)
{
    return clock_mono_ns() / 1000000;
}

static int listen_loopback(const char *port_file)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    int one = 1;

    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
        close(fd);
        return -1;
    }
    /* Write the port atomically: tests poll for the file. */
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        close(fd);
        return -1;
    }
    fprintf(f, "%d\n", ntohs(sa.sin_port));
    fclose(f);
    if (rename(tmp, port_file) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Wait for a connection until @deadline_ms (monotonic). Returns the fd or -1. */
static int accept_until(int lfd, int64_t deadline_ms)
{
    for (;;) {
        int64_t left = deadline_ms - mono_ms();
        if (left <= 0)
            return -1;
        struct pollfd p = { lfd, POLLIN, 0 };
        int rc = poll(&p, 1, (int)(left > 1000 ? 1000 : left));
        if (rc < 0 && errno != EINTR)
            return -1;
        if (rc > 0)
            return accept(lfd, NULL, NULL);
    }
}

/* Read into @buf until @done says the request is complete, EOF, or the deadline. Returns
 * 1 when complete, 0 on EOF/timeout. */
static int read_until(int fd, struct sbuf *buf, int64_t deadline_ms,
                      bool (*done)(const struct sbuf *b, void *ctx), void *ctx)
{
    char chunk[8192];
    while (!done(buf, ctx)) {
        int64_t left = deadline_ms - mono_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = { fd, POLLIN, 0 };
        int rc = poll(&p, 1, (int)(left > 1000 ? 1000 : left));
        if (rc < 0 && errno != EINTR)
            return 0;
        if (rc <= 0)
            continue;
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n <= 0)
            return 0;
        if (sbuf_add(buf, chunk, (size_t)n) < 0)
            return 0;
    }
    return 1;
}

/* What error pages echo of a request (404:echo): "Cannot handle <request line> on
 * <Host>", then what frameworks also show - the last path segment, the query
 * percent- and form-decoded, and the Authorization header. */
static void echo_request(const struct sbuf *req, char *out, size_t cap)
{
    const char *eol = strstr(req->buf, "\r\n");
    const char *host = strstr(req->buf, "\r\nHost: "); /* (as curl sends them) */
    const char *hend = host ? strstr(host + 2, "\r\n") : NULL;
    const char *auth = strstr(req->buf, "\r\nAuthorization: ");
    const char *aend = auth ? strstr(auth + 2, "\r\n") : NULL;
    char target[2048] = "", seg[2048] = "", query[2048] = "";
    size_t n = 0;

    sscanf(req->buf, "%*15s %2047s", target);
    char *q = strchr(target, '?');
    if (q)
        *q++ = '\0';
    char *slash = strrchr(target, '/');
    snprintf(seg, sizeof(seg), "%s", slash ? slash + 1 : target);
    for (const char *p = q; p && *p && n + 1 < sizeof(query); p++) {
        unsigned v;
        if (*p == '%' && sscanf(p + 1, "%2x", &v) == 1) {
            query[n++] = (char)v;
            p += 2;
        } else {
            query[n++] = *p == '+' ? ' ' : *p;
        }
    }
    query[n] = '\0';
    snprintf(out, cap, "Cannot handle %.*s on %.*s; no hook %.500s; query %.500s; auth %.*s",
             (int)(eol - req->buf), req->buf, host && hend ? (int)(hend - host - 8) : 0,
             host && hend ? host + 8 : "", seg, query, auth && aend ? (int)(aend - auth - 17) : 0,
             auth && aend ? auth + 17 : "");
}

static bool http_done(const struct sbuf *b, void *ctx)
{
    size_t *hdr_end = ctx;
    const char *e = strstr(b->buf, "\r\n\r\n");
    if (!e)
        return false;
    *hdr_end = (size_t)(e - b->buf) + 4;
    long clen = 0;
    for (const char *p = b->buf; p < e; p = strstr(p, "\r\n") + 2) {
        if (!strncasecmp(p, "content-length:", 15))
            clen = strtol(p + 15, NULL, 10);
        if (!strstr(p, "\r\n"))
            break;
    }
    return b->len >= *hdr_end + (size_t)clen;
}

static void write_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

/* Script steps, comma separated. */
struct step {
    int code;        /* 0: timeout (no answer) */
    int retry_after; /* seconds, -1 none */
    long delay_ms;   /* before answering */
    int echo;        /* answer with the request line echoed, as error pages do */
};

static int parse_script(const char *script, struct step *steps, int max)
{
    int n = 0;
    char *copy = strdup(script ? script : "200"), *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok && n < max; tok = strtok_r(NULL, ",", &save)) {
        struct step s = { 200, -1, 0, 0 };
        if (!strcmp(tok, "timeout")) {
            s.code = 0;
        } else {
            if (!strncmp(tok, "delay=", 6)) {
                s.delay_ms = strtol(tok + 6, &tok, 10);
                if (*tok == ':')
                    tok++;
            }
            s.code = (int)strtol(tok, &tok, 10);
            if (!strncmp(tok, ":retry-after=", 13))
                s.retry_after = (int)strtol(tok + 13, NULL, 10);
            if (!strcmp(tok, ":echo"))
                s.echo = 1;
        }
        steps[n++] = s;
    }
    free(copy);
    return n;
}

static void log_line(FILE *log, json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT);
    fprintf(log, "%s\n", s);
    fflush(log);
    free(s);
}

int stub_http(int argc, char **argv)
{
    struct stub_opts o;
    signal(SIGPIPE, SIG_IGN); /* a client killed mid-request must not kill the stub */
    struct step steps[64];
    if (parse_opts(argc, argv, &o) < 0)
        return 2;
    int nsteps = parse_script(o.script, steps, 64);
    FILE *log = fopen(o.log, "a");
    int lfd = log ? listen_loopback(o.port_file) : -1;
    if (lfd < 0) {
        perror("http-stub");
        return 1;
    }
    int64_t start = mono_ms(), deadline = start + o.max_seconds * 1000;
    for (long n = 1; n <= o.max_requests; n++) {
        int fd = accept_until(lfd, deadline);
        if (fd < 0)
            break;
        struct sbuf req = SBUF_INIT;
        size_t hdr_end = 0;
        int64_t t = mono_ms() - start;
        int complete = read_until(fd, &req, deadline, http_done, &hdr_end);
        struct step s = steps[(n - 1) < nsteps ? n - 1 : nsteps - 1];
        json_t *e = json_object(), *h = json_object();
        json_object_set_new(e, "n", json_integer(n));
        json_object_set_new(e, "t_ms", json_integer(t));
        if (complete) {
            char method[16] = "", path[2048] = "";
            sscanf(req.buf, "%15s %2047s", method, path);
            json_object_set_new(e, "method", json_string(method));
            json_object_set_new(e, "path", json_string(path));
            const char *p = strstr(req.buf, "\r\n") + 2;
            while (p < req.buf + hdr_end - 2) {
                const char *eol = strstr(p, "\r\n"), *colon = memchr(p, ':', (size_t)(eol - p));
                if (colon) {
                    char name[128];
                    size_t nl = (size_t)(colon - p) < sizeof(name) - 1 ? (size_t)(colon - p)
                                                                       : sizeof(name) - 1;
                    for (size_t i = 0; i < nl; i++)
                        name[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] + 32 : p[i]);
                    name[nl] = '\0';
                    const char *v = colon + 1;
                    while (*v == ' ')
                        v++;
                    json_object_set_new(h, name, json_stringn(v, (size_t)(eol - v)));
                }
                p = eol + 2;
            }
            json_object_set_new(e, "body", json_stringn(req.buf + hdr_end, req.len - hdr_end));
        }
        json_object_set_new(e, "headers", h);
        if (complete && s.code) {
            json_object_set_new(e, "answered", json_integer(s.code));
            log_line(log, e); /* logged on receipt: a test can act while we delay */
            if (s.delay_ms) {
                struct timespec ts = { s.delay_ms / 1000, (s.delay_ms % 1000) * 1000000 };
                nanosleep(&ts, NULL);
            }
            char resp[4096], echo[3072];
            const char *body = s.code < 300 ? "ok" : "stub error";
            if (s.echo) {
                echo_request(&req, echo, sizeof(echo));
                body = echo;
            }
            int rn = snprintf(resp, sizeof(resp),
                              "HTTP/1.1 %d Stub\r\nContent-Length: %zu\r\n"
                              "Connection: close\r\n",
                              s.code, strlen(body));
            if (s.retry_after >= 0)
                rn += snprintf(resp + rn, sizeof(resp) - (size_t)rn, "Retry-After: %d\r\n",
                               s.retry_after);
            snprintf(resp + rn, sizeof(resp) - (size_t)rn, "\r\n%s", body);
            write_all(fd, resp, strlen(resp));
        } else {
            json_object_set_new(e, "answered", json_integer(0));
            log_line(log, e);
            /* timeout: hold the connection until the client gives up */
            struct sbuf sink = SBUF_INIT;
            read_until(fd, &sink, deadline, http_done, &hdr_end);
            sbuf_release(&sink);
        }
        json_decref(e);
        sbuf_release(&req);
        close(fd);
    }
    close(lfd);
    fclose(log);
    return 0;
}

/* ---- SMTP ---- */

static bool line_done(const struct sbuf *b, void *ctx)
{
    (void)ctx;
    return strstr(b->buf, "\r\n") != NULL;
}

static bool data_done(const struct sbuf *b, void *ctx)
{
    (void)ctx;
    return b->len >= 5 && (!strcmp(b->buf + b->len - 5, "\r\n.\r\n") || !strcmp(b->buf, ".\r\n"));
}

static void say(int fd, const char *s)
{
    write_all(fd, s, strlen(s));
}

int stub_smtp(int argc, char **argv)
{
    struct stub_opts o;
    signal(SIGPIPE, SIG_IGN);
    struct step steps[64];
    if (parse_opts(argc, argv, &o) < 0)
        return 2;
    int nsteps = parse_script(o.script ? o.script : "250", steps, 64);
    FILE *log = fopen(o.log, "a");
    int lfd = log ? listen_loopback(o.port_file) : -1;
    if (lfd < 0) {
        perror("smtp-stub");
        return 1;
    }
    int64_t start = mono_ms(), deadline = start + o.max_seconds * 1000;
    long n = 0;
    while (n < o.max_requests) {
        int fd = accept_until(lfd, deadline);
        if (fd < 0)
            break;
        json_t *e = json_object(), *rcpt = json_array();
        struct sbuf line = SBUF_INIT;
        say(fd, "220 stub ESMTP\r\n");
        for (;;) {
            sbuf_reset(&line);
            if (!read_until(fd, &line, deadline, line_done, NULL))
                break;
            char *cmd = line.buf;
            if (!strncasecmp(cmd, "EHLO", 4) || !strncasecmp(cmd, "HELO", 4)) {
                say(fd, "250-stub\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n");
            } else if (!strncasecmp(cmd, "AUTH", 4)) {
                /* "AUTH PLAIN <initial response>" or "AUTH PLAIN" then the response. */
                struct sbuf a = SBUF_INIT;
                if (sbuf_addf(&a, "%.*s", (int)strcspn(cmd, "\r"), cmd) < 0)
                    break;
                if (!strchr(cmd + 5, ' ')) {
                    say(fd, "334 \r\n");
                    sbuf_reset(&line);
                    if (!read_until(fd, &line, deadline, line_done, NULL)) {
                        sbuf_release(&a);
                        break;
                    }
                    if (sbuf_addf(&a, " %.*s", (int)strcspn(line.buf, "\r"), line.buf) < 0)
                        break;
                }
                json_object_set_new(e, "auth", json_string(a.buf));
                sbuf_release(&a);
                say(fd, "235 ok\r\n");
            } else if (!strncasecmp(cmd, "MAIL FROM:", 10)) {
                json_object_set_new(e, "from", json_stringn(cmd + 10, strcspn(cmd + 10, "\r")));
                say(fd, "250 ok\r\n");
            } else if (!strncasecmp(cmd, "RCPT TO:", 8)) {
                json_array_append_new(rcpt, json_stringn(cmd + 8, strcspn(cmd + 8, "\r")));
                say(fd, "250 ok\r\n");
            } else if (!strncasecmp(cmd, "DATA", 4)) {
                struct sbuf data = SBUF_INIT;
                say(fd, "354 go on\r\n");
                int ok = read_until(fd, &data, deadline, data_done, NULL);
                n++;
                struct step s = steps[(n - 1) < nsteps ? n - 1 : nsteps - 1];
                json_object_set_new(e, "n", json_integer(n));
                json_object_set_new(e, "t_ms", json_integer(mono_ms() - start));
                json_object_set(e, "rcpt", rcpt);
                json_object_set_new(e, "data", json_stringn(data.buf, data.len));
                json_object_set_new(e, "answered", json_integer(ok ? s.code : 0));
                log_line(log, e);
                sbuf_release(&data);
                if (!ok)
                    break;
                char r[64];
                snprintf(r, sizeof(r), "%d %s\r\n", s.code, s.code < 300 ? "queued" : "no");
                say(fd, r);
            } else if (!strncasecmp(cmd, "QUIT", 4)) {
                say(fd, "221 bye\r\n");
                break;
            } else if (!strncasecmp(cmd, "RSET", 4) || !strncasecmp(cmd, "NOOP", 4)) {
                say(fd, "250 ok\r\n");
            } else {
                say(fd, "502 not implemented\r\n");
            }
        }
        sbuf_release(&line);
        json_decref(rcpt);
        json_decref(e);
        close(fd);
    }
    close(lfd);
    fclose(log);
    return 0;
}

/* ---- reading the logs ---- */

static json_t *field(json_t *e, const char *name)
{
    if (!strncmp(name, "header.", 7))
        return json_object_get(json_object_get(e, "headers"), name + 7);
    return json_object_get(e, name);
}

int stub_log(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: stub-log FILE FIELD\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    char *line = NULL;
    size_t cap = 0;
    if (!f)
        return 1;
    while (getline(&line, &cap, f) > 0) {
        json_t *e = json_loads(line, 0, NULL);
        json_t *v = e ? field(e, argv[2]) : NULL;
        if (json_is_string(v))
            printf("%s\n", json_string_value(v));
        else if (v) {
            char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            printf("%s\n", s);
            free(s);
        } else {
            printf("\n");
        }
        json_decref(e);
    }
    free(line);
    fclose(f);
    return 0;
}

int stub_webhook_verify(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: webhook-verify FILE SECRET\n");
        return 2;
    }
    struct sbuf key = SBUF_INIT;
    if (sign_key_from_secret(span_cstr(argv[2]), &key) < 0) {
        fprintf(stderr, "bad secret\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    char *line = NULL;
    size_t cap = 0;
    int bad = 0;
    if (!f)
        return 1;
    while (getline(&line, &cap, f) > 0) {
        json_t *e = json_loads(line, 0, NULL);
        const char *id = json_string_value(field(e, "header.webhook-id"));
        const char *ts = json_string_value(field(e, "header.webhook-timestamp"));
        const char *sig = json_string_value(field(e, "header.webhook-signature"));
        const char *body = json_string_value(field(e, "body"));
        struct sbuf want = SBUF_INIT;
        bool ok = false;
        int64_t t;
        if (id && ts && sig && body && span_to_i64(span_cstr(ts), &t) &&
            sign_standard_webhooks(sbuf_span(&key), id, t, span_cstr(body), &want) == 0) {
            /* The header may list several space-separated signatures. */
            for (const char *p = sig; *p;) {
                size_t l = strcspn(p, " ");
                if (l == want.len && !memcmp(p, want.buf, l))
                    ok = true;
                p += l;
                while (*p == ' ')
                    p++;
            }
        }
        printf("%lld %s %s\n", (long long)json_integer_value(field(e, "n")), id ? id : "-",
               ok ? "ok" : "BAD");
        bad |= !ok;
        sbuf_release(&want);
        json_decref(e);
    }
    free(line);
    fclose(f);
    sbuf_release(&key);
    return bad;
}
