/* SPDX-License-Identifier: MIT */
#include "check.h"
#include "core/opts.h"

/* -Wwrite-strings makes literals const; argv is not. */
#define A(s) ((char *)(s))

static const char *const formats[] = { "table", "json", NULL };

struct vals {
    bool flag;
    int verbose;
    const char *name;
    long n;
    const char *fmt;
};

static int run(struct vals *v, int argc, char **argv, struct diag *d)
{
    const struct opt opts[] = {
        OPT_BOOL_('f', "flag", &v->flag, "a flag"),
        OPT_COUNT_('v', "verbose", &v->verbose, "more"),
        OPT_STRING_(0, "name", &v->name, "NAME", "a name"),
        OPT_LONG_('j', "jobs", &v->n, "N", "jobs", 1, 64),
        OPT_CHOICE_(0, "format", &v->fmt, "F", "output format", formats),
        OPT_END_(),
    };
    return opts_parse(opts, argc, argv, d);
}

static void test_mixed_operands(void)
{
    struct vals v = { 0 };
    struct diag d = DIAG_INIT;
    char *argv[] = { A("a"), A("--flag"),   A("-vv"),  A("--name=x"), A("b"),  A("-j"),
                     A("4"), A("--format"), A("json"), A("-"),        A("--"), A("--flag") };
    int n = run(&v, 12, argv, &d);
    CHECK_EQ_INT(n, 4);
    CHECK_EQ_STR(argv[0], "a");
    CHECK_EQ_STR(argv[1], "b");
    CHECK_EQ_STR(argv[2], "-");
    CHECK_EQ_STR(argv[3], "--flag");
    CHECK(v.flag);
    CHECK_EQ_INT(v.verbose, 2);
    CHECK_EQ_STR(v.name, "x");
    CHECK_EQ_INT(v.n, 4);
    CHECK_EQ_STR(v.fmt, "json");
}

static void test_errors(void)
{
    struct vals v = { 0 };
    struct diag d = DIAG_INIT;
    char *a1[] = { A("--nope") };
    CHECK_EQ_INT(run(&v, 1, a1, &d), -1);
    CHECK_EQ_INT(d.kind, DIAG_USAGE);
    CHECK(strstr(d.msg, "unknown option '--nope'") != NULL);
    CHECK(strstr(d.msg, "--flag, --verbose, --name, --jobs, --format") != NULL);
    CHECK_EQ_INT(diag_exit_code(&d), 2);

    diag_clear(&d);
    char *a2[] = { A("-j"), A("65") };
    CHECK_EQ_INT(run(&v, 2, a2, &d), -1);
    CHECK(strstr(d.msg, "from 1 to 64") != NULL);

    diag_clear(&d);
    char *a3[] = { A("--format=xml") };
    CHECK_EQ_INT(run(&v, 1, a3, &d), -1);
    CHECK(strstr(d.msg, "expected one of: table, json") != NULL);

    diag_clear(&d);
    char *a4[] = { A("--name") };
    CHECK_EQ_INT(run(&v, 1, a4, &d), -1);
    CHECK(strstr(d.msg, "requires a value") != NULL);

    diag_clear(&d);
    char *a5[] = { A("--help") };
    CHECK_EQ_INT(run(&v, 1, a5, &d), -2);

    diag_clear(&d);
    v.flag = true;
    char *a6[] = { A("--no-flag") };
    CHECK_EQ_INT(run(&v, 1, a6, &d), 0);
    CHECK(!v.flag);
}

static void test_diag_first_error_wins(void)
{
    struct diag d = DIAG_INIT;
    CHECK_EQ_INT(diag_set(&d, DIAG_IO, "disk full on '%s'", "x"), -1);
    diag_set(&d, DIAG_DB, "could not commit");
    CHECK_EQ_INT(d.kind, DIAG_IO);
    CHECK_EQ_STR(d.msg, "disk full on 'x'");
    CHECK_EQ_INT(diag_exit_code(&d), 1);
    diag_clear(&d);
    diag_errno(&d, DIAG_NOINPUT, 2, "nothing parsed");
    CHECK_EQ_STR(d.msg, "nothing parsed: No such file or directory");
    CHECK_EQ_INT(diag_exit_code(&d), 3);
}

/* A list option ("K[,K...]") given again joins the lists; a plain string option keeps
 * the last value, as before. Each parse starts over. */
static void test_list_joined(void)
{
    const char *kinds = NULL, *name = NULL;
    const struct opt opts[] = {
        OPT_STRING_(0, "kind", &kinds, "K[,K...]", "kinds"),
        OPT_STRING_(0, "name", &name, "NAME", "a name"),
        OPT_END_(),
    };
    struct diag d = DIAG_INIT;
    char *argv[] = { A("--kind"), A("a,b"), A("--name=x"), A("--kind=c"),
                     A("--name"), A("y"),   A("--kind"),   A("d") };
    CHECK_EQ_INT(opts_parse(opts, 8, argv, &d), 0);
    CHECK_EQ_STR(kinds, "a,b,c,d");
    CHECK_EQ_STR(name, "y");
    char *again[] = { A("--kind"), A("e") };
    CHECK_EQ_INT(opts_parse(opts, 2, again, &d), 0);
    CHECK_EQ_STR(kinds, "e");
}

TEST_LIST = {
    { "mixed_operands", test_mixed_operands },
    { "list_joined", test_list_joined },
    { "errors", test_errors },
    { "diag_first_error_wins", test_diag_first_error_wins },
    { NULL, NULL },
};
