/* SPDX-License-Identifier: MIT */
/*
 * csvlog: real PG 15.20 records (formats.md §2.4, Observed) and the accounting rules.
 * Field-by-field expectations live in tests/cases/parse/csvlog*.cases.
 */
#include "check.h"
#include "parsetest.h"

/* Verbatim from formats.md §2.4 (PG 15.20, Observed): 9 records on 16 lines. */
static const char observed[] =
    "2026-11-24 17:25:01.470 UTC,,,3692,\"[local]\",6b05c86d.e6c,1,\"\",2026-11-24 17:25:01 "
    "UTC,,0,LOG,00000,\"connection received: host=[local]\",,,,,,,,,\"\",\"not "
    "initialized\",,0\n"
    "2026-11-24 17:25:01.817 UTC,\"postgres\",\"app\",3696,\"[local]\",6b05c86d.e70,3,"
    "\"SELECT\",2026-11-24 17:25:01 UTC,3/0,0,LOG,00000,\"duration: 0.631 ms  statement: "
    "select id,\n"
    "       v -- comment\n"
    "  from t\n"
    " where v = 'it''s \"\"q\"\" \xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac'\n"
    "   and id < 10;\",,,,,,,,,\"psql\",\"client backend\",,-759572055643369389\n"
    "2026-11-24 17:25:04.532 UTC,\"postgres\",\"app\",3749,\"[local]\",6b05c86e.ea5,7,"
    "\"UPDATE\",2026-11-24 17:25:02 UTC,3/263,803,ERROR,40P01,\"deadlock detected\",\"Process "
    "3749 waits for ShareLock on transaction 804; blocked by process 3751.\n"
    "Process 3751 waits for ShareLock on transaction 803; blocked by process 3749.\n"
    "Process 3749: update acct set bal=bal+1 where id=2\n"
    "Process 3751: update acct set bal=bal+1 where id=1\",\"See server log for query "
    "details.\",,,\"while updating tuple (0,2) in relation \"\"acct\"\"\",\"update acct set "
    "bal=bal+1 where id=2\",,,\"psql\",\"client backend\",,-1501324149581294150\n";

static void test_observed(void)
{
    struct sbuf out = SBUF_INIT;
    struct parser *p =
        pt_run(observed, sizeof(observed) - 1, &(struct parser_opts){ .format = "csvlog" }, &out);
    CHECK(p != NULL);
    if (!p)
        return;
    const struct parse_stats *st = parser_stats(p);
    CHECK_EQ_U64(st->lines, 10);
    CHECK_EQ_U64(st->events, 3);
    CHECK_EQ_U64(st->rejects, 0);
    CHECK(pt_balanced(st));
    CHECK_MSG(strstr(out.buf, "line=2 offset=") != NULL, "%s", out.buf);
    CHECK_MSG(strstr(out.buf, "where v = 'it''s \\\"q\\\" \xc3\xa9") != NULL, "%s", out.buf);
    CHECK_MSG(strstr(out.buf, "query_id=-1501324149581294150") != NULL, "%s", out.buf);
    CHECK_MSG(strstr(out.buf, "context=\"while updating tuple (0,2) in relation \\\"acct\\\"\"") !=
                  NULL,
              "%s", out.buf);
    parser_free(p);
    sbuf_release(&out);
}

TEST_LIST = {
    { "observed", test_observed },
    { NULL, NULL },
};
