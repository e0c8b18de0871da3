/* SPDX-License-Identifier: MIT */
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/lazylib.h"

/* dlsym() hands out a void *; POSIX guarantees a function pointer is the same size. */
_Static_assert(sizeof(void *) == sizeof(void (*)(void)), "function pointers are not void *");

int lazylib_open(const char *soname, const char *const *names, const size_t *offs, size_t n,
                 void *fns, char *err, size_t errlen)
{
    void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        snprintf(err, errlen, "cannot load %s: %s", soname, why ? why : "unknown error");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        void *p = dlsym(h, names[i]);
        if (!p) {
            snprintf(err, errlen, "%s has no %s: a library too old or not the one expected", soname,
                     names[i]);
            return -1; /* the handle stays open: nothing from it was used */
        }
        memcpy((char *)fns + offs[i], &p, sizeof(p));
    }
    return 0;
}

/* One library: its table, its once-only load, and why that failed ("" when it did not). */
struct lazy {
    const char *const *names;
    const size_t *offs;
    size_t n;
    void *fns;
    pthread_once_t once;
    char err[512];
};

static void lazy_open(struct lazy *l, const char *soname)
{
    lazylib_open(soname, l->names, l->offs, l->n, l->fns, l->err, sizeof(l->err));
}

static const void *lazy_get(struct lazy *l, void (*load)(void), struct diag *d, enum diag_kind kind,
                            const char *needed_by)
{
    pthread_once(&l->once, load);
    if (!l->err[0])
        return l->fns;
    if (d)
        diag_set(d, kind, "%s (%s)", l->err, needed_by);
    return NULL;
}

#define NAME_(field, symbol) #symbol,

/* ---- libcurl ---- */

#define CURL_OFF_(field, symbol) offsetof(struct lib_curl, field),
static const char *const curl_names[] = { LAZYLIB_CURL_FNS(NAME_) };
static const size_t curl_offs[] = { LAZYLIB_CURL_FNS(CURL_OFF_) };
static struct lib_curl curl_fns;
static struct lazy curl = {
    .names = curl_names,
    .offs = curl_offs,
    .n = ARRAY_SIZE(curl_offs),
    .fns = &curl_fns,
    .once = PTHREAD_ONCE_INIT,
};

static void curl_load(void)
{
    /* Tests name a library that is not there, to see the error a host without one gets. */
    const char *so = getenv("SIFT_TEST_LIBCURL");
    if (!so || !*so)
        so = LAZYLIB_CURL_SONAME;
    lazy_open(&curl, so);
    if (curl.err[0])
        return;
    CURLcode rc = curl_fns.global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK)
        snprintf(curl.err, sizeof(curl.err), "cannot initialise %s: %s", so,
                 curl_fns.easy_strerror(rc));
}

const struct lib_curl *lazylib_curl(struct diag *d)
{
    return lazy_get(&curl, curl_load, d, DIAG_NET,
                    "alert delivery needs libcurl; on Debian: apt install libcurl4");
}

/* ---- libcrypto ---- */

#define CRYPTO_OFF_(field, symbol) offsetof(struct lib_crypto, field),
static const char *const crypto_names[] = { LAZYLIB_CRYPTO_FNS(NAME_) };
static const size_t crypto_offs[] = { LAZYLIB_CRYPTO_FNS(CRYPTO_OFF_) };
static struct lib_crypto crypto_fns;
static struct lazy crypto = {
    .names = crypto_names,
    .offs = crypto_offs,
    .n = ARRAY_SIZE(crypto_offs),
    .fns = &crypto_fns,
    .once = PTHREAD_ONCE_INIT,
};

static void crypto_load(void)
{
    lazy_open(&crypto, LAZYLIB_CRYPTO_SONAME);
}

const struct lib_crypto *lazylib_crypto(struct diag *d)
{
    return lazy_get(&crypto, crypto_load, d, DIAG_IO,
                    "webhook signatures and the HTML report need OpenSSL's libcrypto; on "
                    "Debian: apt install libssl3");
}
