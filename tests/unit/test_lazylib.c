/* SPDX-License-Identifier: MIT */
#include <dlfcn.h>
#include <stddef.h>
#include <string.h>
#include <zlib.h>

#include "check.h"
#include "core/lazylib.h"

static bool is_loaded(const char *soname)
{
    void *h = dlopen(soname, RTLD_NOW | RTLD_NOLOAD);
    if (h)
        dlclose(h); /* drop the reference RTLD_NOLOAD took */
    return h != NULL;
}

/* Nothing maps libcurl or libcrypto until asked: this binary links what pgsift links.
 * Then each loads once, with working entry points. Runs first: nothing has asked yet. */
static void test_loaded_on_first_use(void)
{
    CHECK(!is_loaded(LAZYLIB_CURL_SONAME));
    CHECK(!is_loaded(LAZYLIB_CRYPTO_SONAME));

    struct diag d = DIAG_INIT;
    const struct lib_crypto *L = lazylib_crypto(&d);
    CHECK(L != NULL);
    CHECK_EQ_INT(d.kind, DIAG_OK);
    if (L) {
        CHECK(is_loaded(LAZYLIB_CRYPTO_SONAME));
        CHECK(!is_loaded(LAZYLIB_CURL_SONAME));
        CHECK(lazylib_crypto(NULL) == L);
        /* SHA-256("abc"), FIPS 180-2 appendix B.1, in base64. */
        unsigned char md[EVP_MAX_MD_SIZE], b64[96];
        unsigned int n = 0;
        CHECK(L->digest("abc", 3, md, &n, L->sha256(), NULL) == 1);
        CHECK_EQ_INT(n, 32);
        L->encode_block(b64, md, (int)n);
        CHECK_EQ_STR((const char *)b64, "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
    }

    const struct lib_curl *C = lazylib_curl(&d);
    CHECK(C != NULL);
    if (C) {
        CHECK(is_loaded(LAZYLIB_CURL_SONAME));
        const curl_version_info_data *v = C->version_info(CURLVERSION_NOW);
        CHECK(v && (v->version_num >> 16) == LIBCURL_VERSION_MAJOR);
        CURL *h = C->easy_init();
        CHECK(h != NULL);
        CHECK(C->easy_setopt(h, CURLOPT_URL, "http://127.0.0.1:9/") == CURLE_OK);
        C->easy_cleanup(h);
        CHECK_EQ_STR(C->easy_strerror(CURLE_COULDNT_CONNECT), "Couldn't connect to server");
    }
}

struct zfns {
    __typeof__(zlibVersion) *version;
    __typeof__(crc32) *crc;
};

/* A missing library or symbol is an error that names it. */
static void test_open_errors(void)
{
    static const char *const names[] = { "zlibVersion", "crc32" };
    static const size_t offs[] = { offsetof(struct zfns, version), offsetof(struct zfns, crc) };
    struct zfns z = { 0 };
    char err[256] = "";

    CHECK_EQ_INT(lazylib_open("libz.so.1", names, offs, 2, &z, err, sizeof(err)), 0);
    CHECK(z.version && !strcmp(z.version(), zlibVersion()));
    CHECK(z.crc && z.crc(0, (const Bytef *)"abc", 3) == 0x352441c2);

    CHECK_EQ_INT(lazylib_open("libpgsift-no-such.so.7", names, offs, 2, &z, err, sizeof(err)), -1);
    CHECK(strstr(err, "cannot load libpgsift-no-such.so.7: ") == err);

    static const char *const bad[] = { "zlibVersion", "pgsift_no_such_symbol" };
    CHECK_EQ_INT(lazylib_open("libz.so.1", bad, offs, 2, &z, err, sizeof(err)), -1);
    CHECK(strstr(err, "libz.so.1 has no pgsift_no_such_symbol") == err);
}

TEST_LIST = {
    { "loaded_on_first_use", test_loaded_on_first_use },
    { "open_errors", test_open_errors },
    { NULL, NULL },
};
