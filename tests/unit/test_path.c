/* SPDX-License-Identifier: MIT */
/*
 * path: the directory of a path as dirname(1) gives it for a file, and the directory sync
 * that a new store and a written report rely on (best effort, never fails the caller).
 */
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "core/path.h"

static void dir_is(const char *path, const char *want)
{
    char *d = path_dirname(path);
    CHECK_EQ_STR(d, want);
    free(d);
}

static void test_dirname(void)
{
    dir_is("pgsift.db", ".");
    dir_is("/pgsift.db", "/");
    dir_is("/var/lib/pgsift/pgsift.db", "/var/lib/pgsift");
    dir_is("data/pgsift.db", "data");
    dir_is("./a", ".");
    dir_is("a/", "a");
    dir_is("", ".");
}

static void test_sync_dir(void)
{
    /* Directories that exist, one that does not, a bare name: none may fail or crash. */
    char tmpl[] = "/tmp/pgsift-path-XXXXXX";
    CHECK(mkdtemp(tmpl) != NULL);
    char file[64];
    snprintf(file, sizeof(file), "%s/x.db", tmpl);
    path_sync_dir(file);
    path_sync_dir("/no/such/dir/x.db");
    path_sync_dir("x.db");
    CHECK(rmdir(tmpl) == 0);
}

TEST_LIST = {
    { "dirname", test_dirname },
    { "sync_dir", test_sync_dir },
    { NULL, NULL },
};
