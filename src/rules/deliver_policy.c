/* SPDX-License-Identifier: MIT */
/*
 * deliver_policy - what a send result means (retry, give up, disable), how long to wait
 * before the next attempt, and per-receiver rate limits. Pure functions of their
 * arguments, except deliver_random().
 */
#include <curl/curl.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/clock.h"
#include "rules/deliver_int.h"

const char *deliver_verdict_name(enum deliver_verdict v)
{
    static const char *const n[] = { "ok", "retry", "permanent", "disable" };
    return (unsigned)v < ARRAY_SIZE(n) ? n[v] : "?";
}

enum deliver_verdict deliver_classify(enum receiver_type t, const struct http_result *res)
{
    if (t == RECV_EMAIL) {
        if (res->curl_code == CURLE_OK)
            return DELIVER_OK;
        switch (res->curl_code) {
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
        case CURLE_LOGIN_DENIED:
        case CURLE_USE_SSL_FAILED: /* STARTTLS required but not offered */ return DELIVER_PERMANENT;
        default: break;
        }
        /* SMTP 5xx replies are permanent (RFC 5321 §4.2.1), 4xx transient. */
        return res->status >= 500 && res->status < 600 ? DELIVER_PERMANENT : DELIVER_RETRY;
    }
    if (res->curl_code != CURLE_OK) {
        switch (res->curl_code) {
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT: return DELIVER_PERMANENT;
        default: return DELIVER_RETRY; /* timeouts, refused, DNS, TLS, reset */
        }
    }
    long s = res->status;
    if (s >= 200 && s < 300)
        return DELIVER_OK;
    if (s == 408 || s == 429 || s >= 500)
        return DELIVER_RETRY;
    if (s == 410)
        return DELIVER_DISABLE;
    return DELIVER_PERMANENT; /* 3xx (redirects are not followed), other 4xx */
}

int64_t deliver_backoff(int attempts, int64_t retry_after_us, double rnd)
{
    static const int64_t schedule_s[] = { 5, 30, 120, 600, 1800, 3600 };
    const int64_t max_retry_after = INT64_C(6) * 3600 * USEC_PER_SEC;

    /* The receiver's Retry-After is honoured as given, within [1 s, 6 h]: "0" (or a date
     * already past) waits the backoff's own minimum, not nothing. */
    if (retry_after_us >= 0)
        return retry_after_us > max_retry_after ? max_retry_after
               : retry_after_us < USEC_PER_SEC  ? USEC_PER_SEC
                                                : retry_after_us;
    if (attempts < 1)
        attempts = 1;
    size_t i = (size_t)attempts - 1;
    if (i >= ARRAY_SIZE(schedule_s))
        i = ARRAY_SIZE(schedule_s) - 1;
    int64_t cap = schedule_s[i] * USEC_PER_SEC;
    int64_t d = (int64_t)(rnd * (double)cap);
    return d < USEC_PER_SEC ? USEC_PER_SEC : d;
}

static uint64_t rng_state;

double deliver_random(void)
{
    if (!rng_state) {
        const char *seed = getenv("SIFT_TEST_SEED");
        if (seed && *seed) {
            rng_state = strtoull(seed, NULL, 10) * UINT64_C(0x9E3779B97F4A7C15) + 1;
        } else {
            int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
            if (fd >= 0) {
                if (read(fd, &rng_state, sizeof(rng_state)) != (ssize_t)sizeof(rng_state))
                    rng_state = 0;
                close(fd);
            }
            rng_state ^= (uint64_t)clock_mono_ns() | 1;
        }
    }
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * UINT64_C(2685821657736338717)) >> 11) / 9007199254740992.0;
}

void token_bucket_init(struct token_bucket *b, double burst, int64_t now_us)
{
    b->tokens = burst;
    b->last_us = now_us;
}

int64_t token_bucket_take(struct token_bucket *b, double rate_per_min, double burst, int64_t now_us)
{
    double per_us = rate_per_min / (60.0 * (double)USEC_PER_SEC);

    if (now_us > b->last_us) {
        b->tokens += (double)(now_us - b->last_us) * per_us;
        if (b->tokens > burst)
            b->tokens = burst;
        b->last_us = now_us;
    }
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
        return 0;
    }
    return (int64_t)((1.0 - b->tokens) / per_us) + 1;
}
