/* SPDX-License-Identifier: MIT */
/*
 * supabase: the Supabase/Logflare shapes of formats.md §9. We have no real Supabase
 * export: every input here is HAND-MADE from the documented schema (§9.2 field names and
 * nesting, §9.3 export/drain shapes, §9.5 examples). What is documented and what is
 * inferred is said per test; the values are PG 15.20 Observed records re-expressed.
 */
#include "check.h"
#include "parse/parse_int.h"
#include "parsetest.h"

struct run {
    struct sbuf out;
    struct parser *p;
};

static void run(struct run *r, const char *text, const char *format)
{
    sbuf_init(&r->out, 0);
    r->p = pt_run(text, strlen(text), &(struct parser_opts){ .format = format }, &r->out);
}

static void done(struct run *r)
{
    parser_free(r->p);
    sbuf_release(&r->out);
}

#define HAS(r, s) \
    CHECK_MSG(strstr((r)->out.buf, (s)) != NULL, "missing %s in:\n%s", (s), (r)->out.buf)
#define HASNT(r, s) \
    CHECK_MSG(strstr((r)->out.buf, (s)) == NULL, "unexpected %s in:\n%s", (s), (r)->out.buf)

static const struct parse_reason *reason(const struct parser *p, const char *name)
{
    const struct parse_stats *st = parser_stats(p);
    for (size_t i = 0; i < st->nreasons; i++)
        if (!strcmp(st->reasons[i].reason, name))
            return &st->reasons[i];
    return NULL;
}

/* §9.5 (a): a Logs Explorer row (documented nesting: metadata[0].parsed[0]) as "Copy as
 * JSON" pretty-prints it (2-space JSON.stringify, documented in LogSelection.tsx), inside
 * the array that "Copy to clipboard" produces, here pretty-printed (jq .). */
static const char explorer[] =
    "[\n"
    "  {\n"
    "    \"id\": \"5d1c6a0e-8e3f-4c53-9d8e-3b1f2f6a9c11\",\n"
    "    \"timestamp\": 1795541101817000,\n"
    "    \"event_message\": \"duration: 0.631 ms  statement: select id,\\n       v -- comment\\n  "
    "from t\\n where v = 'it''s \\\"q\\\" \xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac'\\n   and id < 10;\",\n"
    "    \"identifier\": \"abcdefghijklmnopqrst\",\n"
    "    \"metadata\": [\n"
    "      {\n"
    "        \"host\": \"db-abcdefghijklmnopqrst\",\n"
    "        \"parsed\": [\n"
    "          {\n"
    "            \"timestamp\": \"2026-11-24 17:25:01.817 UTC\",\n"
    "            \"user_name\": \"postgres\",\n"
    "            \"database_name\": \"app\",\n"
    "            \"process_id\": 3696,\n"
    "            \"connection_from\": \"[local]\",\n"
    "            \"session_id\": \"6b05c86d.e70\",\n"
    "            \"session_line_num\": 3,\n"
    "            \"command_tag\": \"SELECT\",\n"
    "            \"session_start_time\": \"2026-11-24 17:25:01 UTC\",\n"
    "            \"virtual_transaction_id\": \"3/0\",\n"
    "            \"transaction_id\": 0,\n"
    "            \"error_severity\": \"LOG\",\n"
    "            \"sql_state_code\": \"00000\",\n"
    "            \"application_name\": \"psql\",\n"
    "            \"backend_type\": \"client backend\",\n"
    "            \"query_id\": -759572055643369389\n"
    "          }\n"
    "        ]\n"
    "      }\n"
    "    ]\n"
    "  },\n"
    "  {\n"
    "    \"id\": \"0b9f3c1e-1111-4c53-9d8e-3b1f2f6a9c12\",\n"
    "    \"timestamp\": 1795541104532000,\n"
    "    \"event_message\": \"deadlock detected\",\n"
    "    \"metadata\": [{\"host\": \"db-abc\", \"parsed\": [{\"error_severity\": \"ERROR\", "
    "\"sql_state_code\": \"40P01\", \"process_id\": 3749, \"timestamp\": \"2026-11-24 "
    "17:25:04.532 UTC\", \"detail\": \"Process 3749 waits for ShareLock on transaction 804; "
    "blocked by process 3751.\", \"hint\": \"\", \"application_name\": \"\", "
    "\"backend_type\": \"\", \"query\": \"update acct set bal=bal+1 where "
    "id=2\", \"leader_pid\": 0}]}]\n"
    "  }\n"
    "]\n";

static void test_explorer_pretty(void)
{
    struct run r;
    run(&r, explorer, "auto");
    CHECK_EQ_STR(parser_format(r.p), "supabase");
    const struct parse_stats *st = parser_stats(r.p);
    CHECK_EQ_U64(st->events, 2);
    CHECK_EQ_U64(st->rejects, 0);
    CHECK(pt_balanced(st));
    /* the record starts at its first key: "{" alone is structure */
    HAS(&r, "line=3 offset=");
    HAS(&r,
        "ts=2026-11-24T17:25:01.817Z pid=3696 session_id=\"6b05c86d.e70\" session_line=3 "
        "user=\"postgres\" database=\"app\" application=\"psql\" client=\"[local]\" "
        "backend_type=\"client backend\" command_tag=\"SELECT\" "
        "session_start=2026-11-24T17:25:01Z vxid=\"3/0\" txid=0 severity=LOG sqlstate=00000 "
        "message=\"duration: 0.631 ms  statement: select id,\\n       v -- comment\\n  from "
        "t\\n where v = 'it''s \\\"q\\\" \xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac'\\n   and id < 10;\" "
        "query_id=-759572055643369389");
    HAS(&r, "severity=ERROR sqlstate=40P01 message=\"deadlock detected\" detail=\"Process 3749");
    HAS(&r, "statement=\"update acct set bal=bal+1 where id=2\"");
    HASNT(&r, "hint=");            /* "" is absent, like a csvlog NULL */
    HASNT(&r, "application=\"\""); /* (the first record's is psql) */
    HASNT(&r, "backend_type=\"\"");
    HASNT(&r, "leader_pid="); /* 0 = the csv field was empty */
    done(&r);
}

/* §9.3 (3): a drain POST body is "an array of log events" (documented) of plain objects
 * (inferred from Logflare's ingest sample); captured one event per line (NDJSON). Events
 * of other products in the same stream are rejected, counted and sampled. */
static void test_drain_ndjson(void)
{
    struct run r;
    run(&r,
        "{\"id\":\"a\",\"timestamp\":1795541104532000,\"event_message\":\"deadlock "
        "detected\",\"metadata\":{\"host\":\"db-x\",\"parsed\":{\"error_severity\":\"ERROR\","
        "\"sql_state_code\":\"40P01\",\"process_id\":3749,\"connection_from\":\"10.0.0.5:54321\","
        "\"timestamp\":\"2026-11-24 17:25:04.532 UTC\",\"query_id\":-1501324149581294150}}}\n"
        "{\"id\":\"b\",\"timestamp\":1795541104533000,\"event_message\":\"GET "
        "/rest/v1/\",\"metadata\":{\"request\":{\"method\":\"GET\"}}}\n"
        "\n"
        "{\"message\":\"2026-11-24T17:25:04.532000Z checkpoint starting: "
        "time\",\"ddsource\":\"Supabase\",\"service\":\"postgres.logs\",\"data\":{\"event_"
        "message\":"
        "\"checkpoint starting: time\",\"timestamp\":1795541104532000,\"metadata\":{\"parsed\":{"
        "\"error_severity\":\"LOG\",\"backend_type\":\"checkpointer\",\"process_id\":3493}}}}\n",
        "auto");
    CHECK_EQ_STR(parser_format(r.p), "supabase");
    const struct parse_stats *st = parser_stats(r.p);
    CHECK_EQ_U64(st->events, 2);
    CHECK_EQ_U64(st->rejects, 1);
    CHECK_EQ_U64(st->blank_lines, 1);
    CHECK(pt_balanced(st));
    const struct parse_reason *np = reason(r.p, "not a postgres event");
    CHECK(np && np->records == 1 && np->nsamples == 1 && np->samples[0].line == 2);
    HAS(&r, "line=1 offset=0 ts=2026-11-24T17:25:04.532Z pid=3749 client=\"10.0.0.5\" "
            "client_port=54321 severity=ERROR sqlstate=40P01");
    HAS(&r, "query_id=-1501324149581294150");
    /* Datadog wrapper unwrapped; no parsed.timestamp: the top-level µs */
    HAS(&r, "line=4 offset=");
    HAS(&r, "ts=2026-11-24T17:25:04.532000Z pid=3493 backend_type=\"checkpointer\" severity=LOG "
            "sqlstate=00000 "
            "message=\"checkpoint starting: time\"");
    done(&r);
}

/* §9.3 (2): the Management API's {"result": [rows], "error": null} (documented), pretty
 * printed; and a compact array with one row. */
static void test_api_wrapper(void)
{
    struct run r;
    run(&r,
        "{\n"
        "  \"result\": [\n"
        "    {\n"
        "      \"id\": \"a\",\n"
        "      \"timestamp\": 1795541104532000,\n"
        "      \"event_message\": \"checkpoint starting: time\",\n"
        "      \"metadata\": [{\"parsed\": [{\"error_severity\": \"LOG\"}]}]\n"
        "    }, {\n"
        "      \"id\": \"b\",\n"
        "      \"timestamp\": 1795541104533000,\n"
        "      \"event_message\": \"checkpoint starting: wal\",\n"
        "      \"metadata\": [{\"parsed\": [{\"error_severity\": \"LOG\"}]}]\n"
        "    }\n"
        "  ],\n"
        "  \"error\": null\n"
        "}\n",
        "supabase");
    const struct parse_stats *st = parser_stats(r.p);
    CHECK_EQ_U64(st->events, 2);
    CHECK_EQ_U64(st->rejects, 0);
    CHECK(pt_balanced(st));
    HAS(&r, "line=4 offset=");
    HAS(&r, "message=\"checkpoint starting: time\"");
    HAS(&r, "line=9 offset=");
    HAS(&r, "ts=2026-11-24T17:25:04.533000Z severity=LOG sqlstate=00000 message=\"checkpoint "
            "starting: wal\"");
    done(&r);

    run(&r,
        "{\"result\":[{\"id\":\"a\",\"timestamp\":1795541104532000,\"event_message\":\"x\","
        "\"metadata\":[{\"parsed\":[{\"error_severity\":\"LOG\"}]}]}],\"error\":null}\n"
        "[{\"id\":\"b\",\"timestamp\":1795541104,\"event_message\":\"y\",\"metadata\":[{\"parsed\":"
        "["
        "{\"error_severity\":\"LOG\"}]}]}]\n",
        "auto");
    st = parser_stats(r.p);
    CHECK_EQ_STR(parser_format(r.p), "supabase");
    CHECK_EQ_U64(st->events, 2);
    CHECK(pt_balanced(st));
    HAS(&r,
        "line=1 offset=0 ts=2026-11-24T17:25:04.532000Z severity=LOG sqlstate=00000 message=\"x\"");
    HAS(&r, "line=2 offset="); /* 10-digit seconds */
    HAS(&r, "ts=2026-11-24T17:25:04Z severity=LOG sqlstate=00000 message=\"y\"");
    done(&r);
}

/* "Copy to clipboard" is JSON.stringify(rows): every row on one line. The framework emits
 * one event per line, so the line is rejected as a whole, with the count and the fix. */
static void test_compact_array(void)
{
    struct run r;
    run(&r,
        "[{\"id\":\"a\",\"timestamp\":1795541104532000,\"event_message\":\"x\",\"metadata\":[{"
        "\"parsed\":[{\"error_severity\":\"LOG\"}]}]},{\"id\":\"b\",\"timestamp\":"
        "1795541104532000,\"event_message\":\"y\",\"metadata\":[{\"parsed\":[{\"error_"
        "severity\":\"LOG\"}]}]},{\"id\":\"c\",\"timestamp\":1795541104532000,\"event_message\":"
        "\"z\",\"metadata\":[{\"parsed\":[{\"error_severity\":\"LOG\"}]}]}]\n",
        "supabase");
    const struct parse_stats *st = parser_stats(r.p);
    CHECK_EQ_U64(st->events, 0);
    CHECK_EQ_U64(st->rejects, 1);
    CHECK(pt_balanced(st));
    const struct parse_reason *m = reason(r.p, "several records on one line");
    CHECK(m && m->nsamples == 1 && m->samples[0].detail &&
          strstr(m->samples[0].detail, "3 records") && strstr(m->samples[0].detail, "jq -c"));
    done(&r);
}

/* §9.3 (1): "Download CSV" (CSVButton.tsx: header = the selected columns, objects
 * JSON.stringify-ed; documented), quoting as react-csv does it (every field quoted, '"'
 * doubled: inferred, unverified) and without quotes (formats.md §9.5 (d)); a value
 * with newlines spans lines. */
static void test_csv(void)
{
    struct run r;
    run(&r,
        "\"timestamp\",\"id\",\"event_message\",\"metadata\"\n"
        "\"1795541101817000\",\"5d1c\",\"duration: 0.631 ms  statement: select id,\n"
        "       v\n"
        "  from t where v = 'it''s \"\"q\"\"'\",\"[{\"\"host\"\":\"\"db-abc\"\",\"\"parsed\"\":[{"
        "\"\"error_severity\"\":\"\"LOG\"\",\"\"process_id\"\":3696,\"\"query_id\"\":"
        "-759572055643369389}]}]\"\n"
        "1795541104532000,0b9f,deadlock detected,\"[{\"\"parsed\"\":[{\"\"error_severity\"\":"
        "\"\"ERROR\"\",\"\"sql_state_code\"\":\"\"40P01\"\"}]}]\"\n"
        "1795541104533000,0ba0,too few columns\n",
        "auto");
    CHECK_EQ_STR(parser_format(r.p), "supabase");
    const struct parse_stats *st = parser_stats(r.p);
    CHECK_EQ_U64(st->events, 2);
    CHECK_EQ_U64(st->rejects, 1);
    CHECK_EQ_U64(st->blank_lines, 1); /* the header */
    CHECK(pt_balanced(st));
    HAS(&r, "line=2 offset=");
    HAS(&r, "ts=2026-11-24T17:25:01.817000Z pid=3696 severity=LOG sqlstate=00000 "
            "message=\"duration: 0.631 ms  "
            "statement: select id,\\n       v\\n  from t where v = 'it''s \\\"q\\\"'\" "
            "query_id=-759572055643369389");
    HAS(&r, "line=5 offset=");
    HAS(&r, "severity=ERROR sqlstate=40P01 message=\"deadlock detected\"");
    CHECK(reason(r.p, "wrong number of columns") != NULL);
    done(&r);
}

/* The Explorer's "Download CSV" is react-csv's CSVLink without uFEFF={false}, and
 * react-csv's default is uFEFF: true, so the file starts with a UTF-8 byte order mark
 * (supabase/supabase apps/studio/components/ui/CSVButton.tsx). Hand-made edge case
 * (rev11): the header was not recognised and every row was rejected. */
static void test_csv_bom(void)
{
    struct run r;
    run(&r,
        "\xEF\xBB\xBF\"timestamp\",\"id\",\"event_message\",\"metadata\"\n"
        "\"1795541101817000\",\"5d1c\",\"duration: 0.631 ms  statement: select "
        "1\",\"[{\"\"host\"\":"
        "\"\"db-abc\"\",\"\"parsed\"\":[{\"\"error_severity\"\":\"\"LOG\"\",\"\"process_id\"\":"
        "3696}]}]\"\n",
        "auto");
    CHECK_EQ_STR(parser_format(r.p), "supabase");
    const struct parse_stats *st = parser_stats(r.p);
    CHECK_EQ_U64(st->events, 1);
    CHECK_EQ_U64(st->rejects, 0);
    CHECK(pt_balanced(st));
    HAS(&r,
        "pid=3696 severity=LOG sqlstate=00000 message=\"duration: 0.631 ms  statement: select 1\"");
    done(&r);
}

/* §9.4 local development (inferred from vector.yaml): event_message is the raw stderr
 * line; pid, severity and message are taken from it. */
static void test_local_dev(void)
{
    struct run r;
    run(&r,
        "{\"id\":\"1\",\"timestamp\":1795541366240000,\"project\":\"default\",\"appname\":"
        "\"supabase_db_myproj\",\"event_message\":\"127.0.0.1 2026-11-24 17:29:26.240 UTC "
        "[8050] postgres@app LOG:  duration: 0.341 ms  statement: select 1\",\"metadata\":{"
        "\"host\":\"db-default\",\"parsed\":{\"timestamp\":\"2026-11-24T17:29:26.240512Z\","
        "\"error_severity\":\"LOG\"}}}\n",
        "supabase");
    CHECK_EQ_U64(parser_stats(r.p)->events, 1);
    HAS(&r, "ts=2026-11-24T17:29:26.240512Z pid=8050 severity=LOG sqlstate=00000 "
            "message=\"duration: 0.341 ms  "
            "statement: select 1\"");
    done(&r);

    /* A STATEMENT (DETAIL, HINT ...) line, which stderr attaches to the record before it:
     * an event of its own, with its pid and without the prefix, its label kept (QA 28,
     * hand-made: it kept the whole line, the pid unread). */
    run(&r,
        "{\"id\":\"2\",\"timestamp\":1795541366240000,\"event_message\":\"127.0.0.1 "
        "2026-11-24 17:29:27.000 UTC [8050] postgres@app STATEMENT:  select * from nope\","
        "\"metadata\":{\"parsed\":{\"timestamp\":\"2026-11-24T17:29:26.240515Z\","
        "\"error_severity\":\"LOG\"}}}\n",
        "supabase");
    CHECK_EQ_U64(parser_stats(r.p)->events, 1);
    HAS(&r, "pid=8050 severity=LOG sqlstate=00000 message=\"STATEMENT:  select * from nope\"");
    done(&r);
}

/* Damage: invalid UTF-8 is repaired and flagged; bad JSON, a record cut by the end of the
 * file and text outside JSON are rejects; every line stays accounted for. */
static void test_damage(void)
{
    struct run r;
    run(&r,
        "{\"event_message\":\"caf\xe9\",\"timestamp\":1795541104532000,\"metadata\":{\"parsed\":"
        "{\"error_severity\":\"LOG\"}}}\n"
        "{\"event_message\": oops}\n"
        "garbage\n"
        "{\"event_message\":\"x\",\"timestamp\":\"yesterday\",\"metadata\":{\"parsed\":{"
        "\"error_severity\":\"LOG\"}}}\n"
        "{\n"
        "  \"event_message\": \"cut\",\n",
        "supabase");
    const struct parse_stats *st = parser_stats(r.p);
    CHECK_EQ_U64(st->events, 1);
    CHECK_EQ_U64(st->invalid_utf8, 1);
    CHECK(pt_balanced(st));
    HAS(&r, "message=\"caf\xef\xbf\xbd\" invalid_utf8=1");
    CHECK(reason(r.p, "bad json") && reason(r.p, "bad json")->records == 2);
    CHECK(reason(r.p, "not json") != NULL);
    CHECK(reason(r.p, "bad timestamp") != NULL);
    done(&r);
}

/* Logflare's digit-count normalisation of integer timestamps (utils.ex). */
static void test_timestamps(void)
{
    static const struct {
        const char *ts;
        const char *want;
    } cases[] = {
        { "1795541104", "ts=2026-11-24T17:25:04Z" },
        { "1795541104532", "ts=2026-11-24T17:25:04.532Z" },
        { "1795541104532123", "ts=2026-11-24T17:25:04.532123Z" },
        { "1795541104532123456", "ts=2026-11-24T17:25:04.532123Z" },
        { "\"2026-11-24T17:25:04.5Z\"", "ts=2026-11-24T17:25:04.500Z" },
        { "\"1795541104532123\"", "ts=2026-11-24T17:25:04.532123Z" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[256];
        struct run r;
        snprintf(buf, sizeof(buf),
                 "{\"timestamp\":%s,\"event_message\":\"x\",\"metadata\":{\"parsed\":{"
                 "\"error_severity\":\"LOG\"}}}\n",
                 cases[i].ts);
        run(&r, buf, "supabase");
        HAS(&r, cases[i].want);
        done(&r);
    }
    struct run r;
    run(&r,
        "{\"timestamp\":12345,\"event_message\":\"x\",\"metadata\":{\"parsed\":{"
        "\"error_severity\":\"LOG\"}}}\n",
        "supabase");
    CHECK(reason(r.p, "bad timestamp") != NULL);
    done(&r);
}

/* Flat rows: a query that selected parsed.* columns by name (the names are documented). */
static void test_flat_row(void)
{
    struct run r;
    run(&r,
        "{\"timestamp\":\"2026-11-24 17:25:20.441 UTC\",\"event_message\":\"sorry, too many "
        "clients "
        "already\",\"error_severity\":\"FATAL\",\"sql_state_code\":\"53300\",\"process_id\":"
        "\"4169\",\"user_name\":\"postgres\"}\n",
        "supabase");
    CHECK_EQ_U64(parser_stats(r.p)->events, 1);
    HAS(&r, "ts=2026-11-24T17:25:20.441Z pid=4169 user=\"postgres\" severity=FATAL "
            "sqlstate=53300");
    done(&r);
}

/* Detection does not take other formats' files. */
static void test_not_detected(void)
{
    struct run r;
    run(&r,
        "{\"timestamp\":\"2026-11-24 17:25:01.470 UTC\",\"pid\":3692,\"session_id\":"
        "\"6b05c86d.e6c\",\"line_num\":1,\"session_start\":\"2026-11-24 17:25:01 UTC\",\"txid\":0,"
        "\"error_severity\":\"LOG\",\"message\":\"connection received: host=[local]\","
        "\"backend_type\":\"not initialized\",\"query_id\":0}\n",
        "auto");
    CHECK_EQ_STR(parser_format(r.p), "jsonlog");
    done(&r);
    run(&r, "2026-11-24 17:25:01 UTC LOG:  statement: select event_message, x from t\n", "auto");
    CHECK(parser_format(r.p) == NULL || strcmp(parser_format(r.p), "supabase") != 0);
    done(&r);
}

/* Hand-made edge cases (session 17 QA): one drain line cut inside a string, one cut
 * inside an object. Each was appended to by every later line (50 events lost to one
 * cut); now each is one reject naming the cut, and the lines after it are records. */
/* The parser's counts: events, rejects, and every line accounted for once. */
static void expect_counts(const struct run *r, uint64_t events, uint64_t rejects)
{
    const struct parse_stats *st = parser_stats(r->p);
    CHECK_EQ_U64(st->events, events);
    CHECK_EQ_U64(st->rejects, rejects);
    CHECK(pt_balanced(st));
}

static void test_cut_records(void)
{
#define ND(id)                                                                          \
    "{\"id\":\"" id "\",\"timestamp\":1795541104532000,\"event_message\":\"m " id "\"," \
    "\"metadata\":{\"parsed\":{\"error_severity\":\"LOG\"}}}\n"
    struct run r;
    run(&r,
        ND("a") "{\"id\":\"cut\",\"event_message\":\"dura\n" ND(
            "b") "{\"id\":\"cut2\",\"metadata\":{\n" ND("c") ND("d"),
        "auto");
#undef ND
    const struct parse_stats *st = parser_stats(r.p);
    CHECK_EQ_STR(parser_format(r.p), "supabase");
    CHECK_EQ_U64(st->events, 4);
    CHECK_EQ_U64(st->rejects, 2);
    CHECK(pt_balanced(st));
    HAS(&r, "message=\"m d\"");
    const struct parse_reason *m = reason(r.p, "bad json");
    CHECK(m && m->records == 2 && m->nsamples == 2 && m->samples[0].line == 2 &&
          !strcmp(m->samples[0].detail, "cut: a line ends inside a string") &&
          m->samples[1].line == 4 &&
          !strcmp(m->samples[1].detail, "cut: the next line starts a record"));
    done(&r);

    /* Text beside a record on its line, one-line or pretty-printed (hand-made): the line
     * is not JSON, rejected as such (the text was dropped without a word). */
    run(&r,
        "{\"id\":\"a\",\"timestamp\":1795541104532000,\"event_message\":\"m\",\"metadata\":"
        "{\"parsed\":{\"error_severity\":\"LOG\"}}} trailing\n"
        "{\n\"id\": \"b\",\n\"timestamp\": 1795541104532000,\n\"event_message\": \"n\",\n"
        "\"metadata\": {\"parsed\": "
        "{\"error_severity\": \"LOG\"}}\n} more\n"
        "{\"id\":\"c\",\"timestamp\":1795541104532000,\"event_message\":\"o\",\"metadata\":"
        "{\"parsed\":{\"error_severity\":\"LOG\"}}}\n",
        "supabase");
    expect_counts(&r, 1, 2);
    HAS(&r, "message=\"o\"");
    const struct parse_reason *nj = reason(r.p, "not json"), *bj = reason(r.p, "bad json");
    CHECK(nj && nj->nsamples == 1 &&
          !strcmp(nj->samples[0].detail, "text outside of a JSON value beside the record"));
    CHECK(bj && bj->nsamples == 1 &&
          !strcmp(bj->samples[0].detail, "text outside of a JSON value after the record"));
    done(&r);

    /* A record of a drain capture cut before records are known to be one per line (QA
     * 20b, hand-made): the next line starts with '{' in its first column, so it starts a
     * record - the cut one does not swallow the rest of the file. Inside a record written
     * over lines, indented, a '{' line is part of it. */
    run(&r,
        "{\"id\":\"p\",\"timestamp\":1795541101000000,\"event_message\":\"o\",\"metadata\":\n"
        "  {\"parsed\":\n"
        "    {\"error_severity\":\"LOG\"}}}\n"
        "{\"id\":\"a1\",\"event_message\":\"m\",\"metadata\":{\"parsed\":{\"error_severity\":"
        "\"LOG\"\n"
        "{\"id\":\"ok\",\"timestamp\":1795541101000000,\"event_message\":\"n\",\"metadata\":"
        "{\"parsed\":{\"error_severity\":\"LOG\"}}}\n",
        "supabase");
    expect_counts(&r, 2, 1);
    HAS(&r, "message=\"n\"");
    HAS(&r, "message=\"o\"");
    bj = reason(r.p, "bad json");
    CHECK(bj && bj->nsamples == 1 && bj->samples[0].line == 4 &&
          !strcmp(bj->samples[0].detail, "cut: the next line starts a record"));
    done(&r);

    /* Two API pages saved one after the other, the first cut inside a record (curl
     * stopped; QA 28, hand-made from the documented wrapper as jq prints it): the next
     * page's '{' in the first column ends the cut record, whose first line was indented,
     * and the next page's records are read (they were all swallowed by the cut one). With
     * no indentation at all (indent=0) a '{' in the first column inside a record is part
     * of it. */
    run(&r,
        "{\n  \"result\": [\n    {\n      \"id\": \"a\",\n      \"timestamp\": "
        "1795541101000000,\n      \"event_message\": \"one\",\n      \"metadata\": [\n        "
        "{\n          \"parsed\": [\n            {\n              \"error_severity\": \"LOG\"\n"
        "            }\n          ]\n        }\n      ]\n    },\n    {\n      \"id\": \"b\",\n"
        "      \"timestamp\": 1795541102000000,\n      \"metadata\": [\n        {\n"
        "{\n  \"result\": [\n    {\n      \"id\": \"c\",\n      \"timestamp\": "
        "1795541103000000,\n      \"event_message\": \"three\",\n      \"metadata\": [\n"
        "        {\n          \"parsed\": [\n            {\n              \"error_severity\": "
        "\"LOG\"\n            }\n          ]\n        }\n      ]\n    }\n  ],\n  \"error\": "
        "null\n}\n"
        "{\n\"result\": [\n{\n\"id\": \"d\",\n\"timestamp\": 1795541104000000,\n"
        "\"event_message\": \"four\",\n\"metadata\": [\n{\n\"parsed\": [\n{\n"
        "\"error_severity\": \"LOG\"\n}\n]\n}\n]\n}\n],\n\"error\": null\n}\n",
        "supabase");
    expect_counts(&r, 3, 1);
    HAS(&r, "message=\"one\"");
    HAS(&r, "message=\"three\"");
    HAS(&r, "message=\"four\"");
    bj = reason(r.p, "bad json");
    CHECK(bj && bj->records == 1 && bj->nsamples == 1 &&
          !strcmp(bj->samples[0].detail, "cut: the next line starts a record"));
    done(&r);
}

/* Lines lost inside a pretty-printed array (QA 28, hand-made, indented as jq does): the
 * next record's '{', indented less than the cut record's keys, ends the cut one, and
 * reading goes on inside the array (the next record was taken into the cut one). A
 * nested '{' indented further is part of its record. */
static void test_lines_lost_in_array(void)
{
    struct run r;
    run(&r,
        "[\n"
        "  {\n"
        "    \"id\": \"a\",\n"
        "    \"timestamp\": 1795541101000000,\n"
        "    \"event_message\": \"one\",\n"
        "    \"metadata\": {\"parsed\": {\"error_severity\": \"LOG\"}}\n"
        "  },\n"
        "  {\n"
        "    \"id\": \"b\",\n"
        "    \"timestamp\": 1795541102000000,\n"
        "  {\n"
        "    \"id\": \"c\",\n"
        "    \"timestamp\": 1795541103000000,\n"
        "    \"event_message\": \"three\",\n"
        "    \"metadata\": [\n"
        "      {\n"
        "        \"parsed\": {\"error_severity\": \"LOG\"}\n"
        "      }\n"
        "    ]\n"
        "  }\n"
        "]\n",
        "supabase");
    expect_counts(&r, 2, 1);
    HAS(&r, "message=\"one\"");
    HAS(&r, "message=\"three\"");
    const struct parse_reason *bj = reason(r.p, "bad json");
    CHECK(bj && bj->nsamples == 1 && bj->samples[0].line == 9 &&
          !strcmp(bj->samples[0].detail, "cut: the next line starts a record"));
    CHECK(pt_balanced(parser_stats(r.p)));
    done(&r);
}

/* An API response page, read alone: no event, @rejects rejects (each an "API error"). */
static void check_api_page(const char *page, size_t i, uint64_t rejects)
{
    struct run r;
    run(&r, page, "auto");
    const struct parse_stats *st = parser_stats(r.p);
    CHECK_MSG(parser_format(r.p) && !strcmp(parser_format(r.p), "supabase"), "page %zu", i);
    CHECK_EQ_U64(st->events, 0);
    CHECK_EQ_U64(st->rejects, rejects);
    const struct parse_reason *e = reason(r.p, "API error");
    CHECK_MSG(rejects ? e && e->records == rejects : !e, "page %zu", i);
    CHECK(pt_balanced(st));
    done(&r);
}

/* An API response whose "error" is not null (hand-made from the documented wrapper,
 * formats.md §9.3: a string or an object): a failed query, rejected and named, not read
 * as a quiet window (QA 28: exit 0, nothing said). */
static void test_api_error(void)
{
    static const char *const pages[] = {
        "{\"result\": [], \"error\": {\"code\": 400, \"message\": \"Invalid SQL\"}}\n",
        "{\n  \"result\": null,\n  \"error\": \"Timestamp range too large\"\n}\n",
        "{\n  \"result\": [],\n  \"error\": {\n    \"code\": 400,\n    \"message\": \"x\"\n  "
        "}\n}\n",
    };
    for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
        check_api_page(pages[i], i, 1);
}

/* A Management API page of a quiet window (hand-made from the documented wrapper): no
 * rows is no record, not an unknown format (it exited 3). */
static void test_empty_api_page(void)
{
    static const char *const pages[] = {
        "{\"result\": [], \"error\": null}\n",
        "{\n  \"result\": [],\n  \"error\": null\n}\n",
        "{\"error\": null, \"result\": []}\n",
    };
    for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
        check_api_page(pages[i], i, 0);
}

/* CSV cells of event_message are the message whatever they hold (hand-made): a RAISE LOG
 * of a JSON document was decoded as JSON and the row rejected ("no event_message"), and
 * a message reading null was dropped. */
static void test_csv_message_is_text(void)
{
    struct run r;
    run(&r,
        "\"timestamp\",\"id\",\"event_message\",\"metadata\"\n"
        "1795541104532000,a,\"{\"\"order\"\": 1}\",\"[{\"\"parsed\"\":[{\"\"error_severity\"\":"
        "\"\"LOG\"\"}]}]\"\n"
        "1795541104533000,b,\"[1,2]\",\"[{\"\"parsed\"\":[{\"\"error_severity\"\":\"\"LOG\"\"}]}]"
        "\"\n"
        "1795541104534000,c,null,\"[{\"\"parsed\"\":[{\"\"error_severity\"\":\"\"LOG\"\"}]}]\"\n",
        "auto");
    const struct parse_stats *st = parser_stats(r.p);
    CHECK_EQ_U64(st->events, 3);
    CHECK_EQ_U64(st->rejects, 0);
    HAS(&r, "message=\"{\\\"order\\\": 1}\"");
    HAS(&r, "message=\"[1,2]\"");
    HAS(&r, "message=\"null\"");
    done(&r);

    /* A row cut inside its quoted message (a download stopped, lines lost; QA 28,
     * hand-made): the next line, a whole row whose first column is a Unix time, is not
     * taken into the open field (the row after a cut was lost with it). A message's own
     * line that starts with digits is not a row. */
    run(&r,
        "\"timestamp\",\"id\",\"event_message\",\"metadata\"\n"
        "\"1795541104532000\",\"a\",\"duration: 1.000 ms  statement: select\n"
        "\"1795541104533000\",\"b\",\"two\",\"[{\"\"parsed\"\":[{\"\"error_severity\"\":"
        "\"\"LOG\"\"}]}]\"\n"
        "\"1795541104534000\",\"c\",\"three\n"
        "1795541104535000 is a number\",\"[{\"\"parsed\"\":[{\"\"error_severity\"\":"
        "\"\"LOG\"\"}]}]\"\n",
        "auto");
    expect_counts(&r, 2, 1);
    HAS(&r, "message=\"two\"");
    HAS(&r, "message=\"three\\n1795541104535000 is a number\"");
    const struct parse_reason *cut = reason(r.p, "bad csv");
    CHECK(cut && cut->nsamples == 1 && cut->samples[0].line == 2 &&
          !strcmp(cut->samples[0].detail, "cut: the next line starts a row"));
    done(&r);

    /* ... and where the first column is the id: a UUID starts a row, other text does not
     * (hand-made). */
    run(&r,
        "\"id\",\"timestamp\",\"event_message\",\"metadata\"\n"
        "\"0b6f9a2e-1c3d-4e5f-8a9b-0c1d2e3f4a5b\",\"1795541104532000\",\"cut\n"
        "\"1a7e0b3f-2d4e-5f60-9bac-1d2e3f4a5b6c\",\"1795541104533000\",\"two\","
        "\"[{\"\"parsed\"\":[{\"\"error_severity\"\":\"\"LOG\"\"}]}]\"\n"
        "\"2b8f1c40-3e5f-6071-acbd-2e3f4a5b6c7d\",\"1795541104534000\",\"three\n"
        "0b6f9a2e-not-a-uuid, more\",\"[{\"\"parsed\"\":[{\"\"error_severity\"\":"
        "\"\"LOG\"\"}]}]\"\n",
        "auto");
    expect_counts(&r, 2, 1);
    HAS(&r, "message=\"two\"");
    HAS(&r, "message=\"three\\n0b6f9a2e-not-a-uuid, more\"");
    cut = reason(r.p, "bad csv");
    CHECK(cut && cut->nsamples == 1 && cut->samples[0].line == 2 &&
          !strcmp(cut->samples[0].detail, "cut: the next line starts a row"));
    done(&r);

    /* metadata that is not JSON is "bad json" (was "not a postgres event"). */
    run(&r,
        "\"timestamp\",\"id\",\"event_message\",\"metadata\"\n"
        "1795541104532000,a,x,\"[{\"\"parsed\"\": [{oops\"\n",
        "auto");
    const struct parse_reason *bad = reason(r.p, "bad json");
    CHECK(parser_stats(r.p)->rejects == 1 && bad && bad->nsamples == 1 &&
          !strncmp(bad->samples[0].detail, "metadata: ", 10));
    done(&r);

    /* A header is saved with every checkpoint: a column name over 256 bytes is refused
     * (hand-made), so what is saved stays small. */
    struct sbuf big = SBUF_INIT;
    CHECK(sbuf_addstr(&big, "\"event_message\",\"") == 0);
    for (int i = 0; i < 300; i++)
        CHECK(sbuf_addch(&big, 'x') == 0);
    CHECK(sbuf_addstr(&big, "\"\n") == 0);
    run(&r, big.buf, "supabase");
    const struct parse_reason *hdr = reason(r.p, "bad csv header");
    CHECK(hdr && hdr->nsamples == 1 &&
          !strcmp(hdr->samples[0].detail, "column 2's name is longer than 256 bytes"));
    done(&r);
    sbuf_release(&big);
}

/* The JSON scanner and jansson read a row alike (supabase_jansson_only routes every row
 * through jansson): the same events, rejects and counts, line by line, for the shapes
 * above and for HAND-MADE rows made to tell them apart - escapes, keys given twice,
 * nesting, numbers as text and reals, wrong types, damaged JSON. */
static const char *const differential[] = {
    explorer,
    "{\"id\":\"a1\",\"timestamp\":1795541104532000,\"event_message\":\"m \\\"q\\\" \\n "
    "x\\u00e9\\ud83d\\ude00\","
    "\"metadata\":{\"host\":\"db\",\"parsed\":{\"error_severity\":\"LOG\",\"process_id\":7,"
    "\"timestamp\":\"2026-11-24 17:25:04.532 UTC\",\"query\":\"select 1\",\"query_id\":-42,"
    "\"user_name\":\"\",\"detail\":null,\"session_line_num\":\"12\",\"leader_pid\":0}}}\n",
    /* metadata and parsed as one-element arrays, more elements after them */
    "{\"metadata\":[{\"parsed\":[{\"sql_state_code\":\"23505\",\"error_severity\":\"ERROR\"},"
    "{\"error_severity\":\"LOG\"}]},{\"parsed\":{}}],\"event_message\":\"dup\",\"id\":12345,"
    "\"timestamp\":1795541104532}\n",
    /* parsed given twice, metadata given twice, Datadog wrapper: jansson decides */
    "{\"event_message\":\"a\",\"timestamp\":1795541104,\"metadata\":{\"parsed\":{\"process_id\":1},"
    "\"parsed\":{\"process_id\":2}}}\n"
    "{\"event_message\":\"b\",\"timestamp\":1795541104,\"metadata\":{\"parsed\":{\"process_id\":1}}"
    ","
    "\"metadata\":{\"parsed\":{\"process_id\":3}}}\n"
    "{\"ddsource\":\"Supabase\",\"data\":{\"event_message\":\"c\",\"timestamp\":1795541104,"
    "\"metadata\":{\"parsed\":{\"session_id\":\"s\"}}}}\n",
    /* keys given twice elsewhere: the last counts */
    "{\"id\":\"x\",\"id\":\"y\",\"event_message\":\"1\",\"event_message\":\"2\",\"timestamp\":"
    "1795541104,"
    "\"metadata\":{\"parsed\":{\"process_id\":1,\"process_id\":9,\"query\":\"a\",\"query\":\"b\"}}}"
    "\n",
    /* flat rows, parsed that is not an object, metadata as text */
    "{\"event_message\":\"f\",\"timestamp\":\"2026-11-24T17:25:04Z\",\"process_id\":\"55\",\"query_"
    "pos\":3}\n"
    "{\"event_message\":\"g\",\"timestamp\":1795541104,\"metadata\":{\"parsed\":\"x\"},\"session_"
    "id\":\"s\"}\n"
    "{\"event_message\":\"h\",\"timestamp\":1795541104,\"metadata\":\"[{}]\",\"process_id\":4}\n"
    "{\"event_message\":\"i\",\"timestamp\":1795541104,\"metadata\":[],\"process_id\":4}\n"
    "{\"event_message\":\"j\",\"timestamp\":1795541104,\"metadata\":[1,{\"parsed\":{\"process_id\":"
    "5}}],"
    "\"process_id\":4}\n",
    /* reals: mapped ones go to jansson, others are skipped */
    "{\"event_message\":\"k\",\"timestamp\":1795541104.0,\"metadata\":{\"parsed\":{\"process_id\":"
    "4.0,"
    "\"query_pos\":1.5}},\"x\":[1.25,-0.5,{\"y\":[true,false,null]}]}\n"
    "{\"event_message\":\"l\",\"timestamp\":1795541104,\"x\":1e999,\"metadata\":{\"parsed\":{"
    "\"process_id\":1}}}\n"
    "{\"event_message\":\"m\",\"timestamp\":1795541104,\"x\":99999999999999999999,\"process_id\":1}"
    "\n",
    /* wrong types, missing parts, damage */
    "{\"event_message\":7,\"timestamp\":1795541104,\"process_id\":1}\n"
    "{\"event_message\":\"n\",\"timestamp\":true,\"process_id\":1}\n"
    "{\"event_message\":\"o\",\"timestamp\":1795541104}\n"
    "{\"event_message\":\"p\",\"timestamp\":1795541104,\"process_id\":1,}\n"
    "{\"event_message\":\"q\\x\",\"timestamp\":1795541104,\"process_id\":1}\n"
    "{\"event_message\":\"r\\ud800\",\"timestamp\":1795541104,\"process_id\":1}\n"
    "{\"event_message\":\"s\\u0000t\",\"timestamp\":1795541104,\"process_id\":1}\n"
    "{\"a\\u0000\":1,\"event_message\":\"u\",\"timestamp\":1795541104,\"process_id\":1}\n"
    "{\"event_message\":\"v\",\"timestamp\":1795541104,\"process_id\":01}\n"
    "{\"event_message\":\"w\xe9\",\"timestamp\":1795541104,\"process_id\":1}\n"
    "{\"event_message\":\"x\",\"timestamp\":1795541104,\"process_id\":1} x\n"
    "{\"event_message\" : \"y\" , \"timestamp\" :\t1795541104 , \"process_id\" : 1 }\n",
};

static void test_scanner_matches_jansson(void)
{
    for (size_t i = 0; i < ARRAY_SIZE(differential); i++) {
        const char *text = differential[i];
        struct sbuf a = SBUF_INIT, b = SBUF_INIT;
        struct parser *p =
            pt_run(text, strlen(text), &(struct parser_opts){ .format = "supabase" }, &a);
        pt_stats_text(parser_stats(p), &a);
        parser_free(p);
        supabase_jansson_only = true;
        p = pt_run(text, strlen(text), &(struct parser_opts){ .format = "supabase" }, &b);
        supabase_jansson_only = false;
        pt_stats_text(parser_stats(p), &b);
        parser_free(p);
        CHECK_MSG(a.buf && b.buf && !strcmp(a.buf, b.buf), "input %zu:\nscanner:\n%s\njansson:\n%s",
                  i, a.buf, b.buf);
        sbuf_release(&a);
        sbuf_release(&b);
    }
}

TEST_LIST = {
    { "explorer_pretty", test_explorer_pretty },
    { "drain_ndjson", test_drain_ndjson },
    { "api_wrapper", test_api_wrapper },
    { "compact_array", test_compact_array },
    { "csv", test_csv },
    { "csv_bom", test_csv_bom },
    { "local_dev", test_local_dev },
    { "damage", test_damage },
    { "timestamps", test_timestamps },
    { "flat_row", test_flat_row },
    { "not_detected", test_not_detected },
    { "cut_records", test_cut_records },
    { "empty_api_page", test_empty_api_page },
    { "api_error", test_api_error },
    { "lines_lost_in_array", test_lines_lost_in_array },
    { "csv_message_is_text", test_csv_message_is_text },
    { "scanner_matches_jansson", test_scanner_matches_jansson },
    { NULL, NULL },
};
