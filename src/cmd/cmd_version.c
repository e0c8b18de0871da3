/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>
#include <xxhash.h>
#include <yaml.h>
#include <zlib.h>
#include <isa-l.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "cmd/cmd.h"
#include "core/lazylib.h"
#include "core/opts.h"
#include "version.h"

int cmd_version(int argc, char **argv, const struct cli *cli, struct diag *d)
{
    static const struct opt opts[] = { OPT_END_() };
    char pcre[64] = "";
    unsigned xxh = XXH_versionNumber();

    (void)cli;
    int n = opts_parse(opts, argc - 1, argv + 1, d);
    if (n == -2) {
        opts_usage(stdout, "pgsift version", opts);
        return 0;
    }
    if (n < 0)
        return -1;
    if (n > 0)
        return diag_set(d, DIAG_USAGE, "'version' takes no arguments");

    pcre2_config(PCRE2_CONFIG_VERSION, pcre);
    printf("pgsift %s\n", SIFT_VERSION);
    printf("build: %s, %s\n", SIFT_BUILD_TYPE, SIFT_BUILD_FLAGS);
    printf("sqlite %s\n", sqlite3_libversion());
    printf("zlib %s\n", zlibVersion());
    /* (the headers' version: ISA-L has no call that returns the library's) */
    printf("isa-l %d.%d.%d\n", ISAL_MAJOR_VERSION, ISAL_MINOR_VERSION, ISAL_PATCH_VERSION);
    /* Loaded only here and where they are used (core/lazylib.h). */
    struct diag dcurl = DIAG_INIT, dcrypto = DIAG_INIT;
    const struct lib_curl *curl = lazylib_curl(&dcurl);
    const struct lib_crypto *crypto = lazylib_crypto(&dcrypto);
    /* (not found: the loader's reason, which names the library it tried) */
    printf("libcurl %s%s\n", curl ? curl->version_info(CURLVERSION_NOW)->version : "not found: ",
           curl ? "" : dcurl.msg);
    printf("libyaml %s\n", yaml_get_version_string());
    printf("pcre2 %s\n", pcre);
    printf("xxhash %u.%u.%u\n", xxh / 10000, xxh / 100 % 100, xxh % 100);
    printf("jansson %s\n", jansson_version_str());
    printf("openssl %s%s\n",
           crypto ? crypto->version(OPENSSL_VERSION) : "not found: ", crypto ? "" : dcrypto.msg);
    return 0;
}
