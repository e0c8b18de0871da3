/* SPDX-License-Identifier: MIT */
/*
 * lazylib - the two libraries pgsift loads only when a command needs them: libcurl
 * (alert delivery) and libcrypto (webhook signatures, the HTML report's CSP hashes).
 *
 * Linked, they made every start of pgsift map about thirty shared objects (libcurl's
 * TLS, HTTP/2, SSH, LDAP, Kerberos, IDN and RTMP dependencies) and process their
 * relocations: 3.5 ms of CPU in every run, `pgsift top` and each `-j N` ingest alike,
 * and code a log reader never runs mapped beside untrusted input (docs/performance.md).
 * systemd loads its optional libraries the same way.
 *
 * Each library is dlopen()ed once by its soname (pthread_once, so any thread may ask
 * first), with every entry point below resolved at once: a missing library or symbol is
 * one error naming it, never a crash later. The entry points keep the types the
 * libraries' own headers give them (__typeof__), so a call through them is checked like
 * a direct call, minus curl's typecheck-gcc macros. The handles are never closed.
 */
#ifndef SIFT_CORE_LAZYLIB_H
#define SIFT_CORE_LAZYLIB_H

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "core/diag.h"

/* The sonames: libcurl's ABI 4 (since 2006) and the OpenSSL major the headers are from. */
#define LAZYLIB_CURL_SONAME   "libcurl.so.4"
#define LAZYLIB_STR_(x)       #x
#define LAZYLIB_XSTR_(x)      LAZYLIB_STR_(x)
#define LAZYLIB_CRYPTO_SONAME "libcrypto.so." LAZYLIB_XSTR_(OPENSSL_SHLIB_VERSION)

/* X(field, symbol): every libcurl function pgsift calls. */
#define LAZYLIB_CURL_FNS(X)                \
    X(global_init, curl_global_init)       \
    X(version_info, curl_version_info)     \
    X(easy_init, curl_easy_init)           \
    X(easy_setopt, curl_easy_setopt)       \
    X(easy_perform, curl_easy_perform)     \
    X(easy_getinfo, curl_easy_getinfo)     \
    X(easy_cleanup, curl_easy_cleanup)     \
    X(easy_strerror, curl_easy_strerror)   \
    X(slist_append, curl_slist_append)     \
    X(slist_free_all, curl_slist_free_all) \
    X(getdate, curl_getdate)

/* X(field, symbol): every libcrypto function pgsift calls. */
#define LAZYLIB_CRYPTO_FNS(X)                              \
    X(version, OpenSSL_version)                            \
    X(encode_block, EVP_EncodeBlock)                       \
    X(digest, EVP_Digest)                                  \
    X(sha256, EVP_sha256)                                  \
    X(mac_fetch, EVP_MAC_fetch)                            \
    X(mac_free, EVP_MAC_free)                              \
    X(mac_ctx_new, EVP_MAC_CTX_new)                        \
    X(mac_ctx_free, EVP_MAC_CTX_free)                      \
    X(mac_init, EVP_MAC_init)                              \
    X(mac_update, EVP_MAC_update)                          \
    X(mac_final, EVP_MAC_final)                            \
    X(param_utf8_string, OSSL_PARAM_construct_utf8_string) \
    X(param_end, OSSL_PARAM_construct_end)

#define LAZYLIB_FIELD_(field, symbol) __typeof__(symbol) *field;
struct lib_curl {
    LAZYLIB_CURL_FNS(LAZYLIB_FIELD_)
};
struct lib_crypto {
    LAZYLIB_CRYPTO_FNS(LAZYLIB_FIELD_)
};
#undef LAZYLIB_FIELD_

/* The library's entry points, loaded on the first call (libcurl also gets
 * curl_global_init() then). NULL when it cannot be loaded: @d (may be NULL) then says
 * which library, why, and what needs it; every later call fails the same way. */
const struct lib_curl *lazylib_curl(struct diag *d);
const struct lib_crypto *lazylib_crypto(struct diag *d);

/* What both are built on, for tests: dlopen() @soname and resolve @n symbols, writing
 * symbol i's address to the function-pointer slot at byte offset offs[i] of @fns.
 * Returns 0, or -1 with a message in @err (@errlen bytes) naming the soname or symbol. */
int lazylib_open(const char *soname, const char *const *names, const size_t *offs, size_t n,
                 void *fns, char *err, size_t errlen);

#endif
