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

#define NAME_(field, symbol) #symbol,

/* ---- libcurl ---- */

#define CURL_OFF_(field, symbol) offsetof(struct lib_curl, field),
static const char *const curl_names[] = { LAZYLIB_CURL_FNS(NAME_) };
static const size_t curl_offs[] = { LAZYLIB_CURL_FNS(CURL_OFF_) };
static struct lib_curl curl_fns;
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static char curl_err[512];

static void curl_load(void)
{
    /* Tests name a library that is not there, to see the error a host without one gets. */
    const char *so = getenv("SIFT_TEST_LIBCURL");
    if (!so || !*so)
        so = LAZYLIB_CURL_SONAME;
    if (lazylib_open(so, curl_names, curl_offs, ARRAY_SIZE(curl_offs), &curl_fns, curl_err,
                     sizeof(curl_err)) < 0)
        return;
    CURLcode rc = curl_fns.global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK)
        snprintf(curl_err, sizeof(curl_err), "cannot initialise %s: %s", so,
                 curl_fns.easy_strerror(rc));
}

const struct lib_curl *lazylib_curl(struct diag *d)
{
    pthread_once(&curl_once, curl_load);
    if (!curl_err[0])
        return &curl_fns;
    if (d)
        diag_set(d, DIAG_NET, "%s (alert delivery needs libcurl; on Debian: apt install libcurl4)",
                 curl_err);
    return NULL;
}

/* ---- libcrypto ---- */

#define CRYPTO_OFF_(field, symbol) offsetof(struct lib_crypto, field),
static const char *const crypto_names[] = { LAZYLIB_CRYPTO_FNS(NAME_) };
static const size_t crypto_offs[] = { LAZYLIB_CRYPTO_FNS(CRYPTO_OFF_) };
static struct lib_crypto crypto_fns;
static pthread_once_t crypto_once = PTHREAD_ONCE_INIT;
static char crypto_err[512];

static void crypto_load(void)
{
    lazylib_open(LAZYLIB_CRYPTO_SONAME, crypto_names, crypto_offs, ARRAY_SIZE(crypto_offs),
                 &crypto_fns, crypto_err, sizeof(crypto_err));
}

const struct lib_crypto *lazylib_crypto(struct diag *d)
{
    pthread_once(&crypto_once, crypto_load);
    if (!crypto_err[0])
        return &crypto_fns;
    if (d)
        diag_set(d, DIAG_IO,
                 "%s (webhook signatures and the HTML report need OpenSSL's libcrypto; on "
                 "Debian: apt install libssl3)",
                 crypto_err);
    return NULL;
}
