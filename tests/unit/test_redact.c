/* SPDX-License-Identifier: MIT */
#include "check.h"
#include "core/limits.h"
#include "normalize/normalize.h"

#define E "\xe2\x80\xa6"

static void expect(int (*fn)(struct sbuf *, struct span), const char *in, const char *want)
{
    struct sbuf out = SBUF_INIT;
    CHECK(fn(&out, span_cstr(in)) == 0);
    CHECK_MSG(!strcmp(out.buf, want), "in:   %s\n    got:  %s\n    want: %s", in, out.buf, want);
    sbuf_release(&out);
}

/* redact_message() gives @want, and redact_message_same() too, with "same" exactly when
 * the output is the input. */
static void check_message(const char *in, const char *want)
{
    expect(redact_message, in, want);
    struct sbuf out = SBUF_INIT;
    bool same = true;
    CHECK(redact_message_same(&out, span_cstr(in), &same) == 0);
    CHECK_EQ_STR(out.buf, want);
    CHECK_MSG(same == !strcmp(in, want), "same=%d for %s", same, in);
    sbuf_release(&out);
}

static void test_messages(void)
{
    static const char *const cases[][2] = {
        { "Key (email)=(alice@example.com) already exists.",
          "Key (email)=(" E ") already exists." },
        { "Key (a, b)=(1, (2)) already exists.", "Key (a, b)=(" E ") already exists." },
        { "Key (id)=(5) is not present in table \"users\".",
          "Key (id)=(" E ") is not present in table \"users\"." },
        { "Key (c)=(x) conflicts with existing key (c)=(y).", "Key (c)=(" E ")." },
        { "Key (email)=(unterminated", "Key (email)=(" E },
        { "Failing row contains (1, null, secret).", "Failing row contains (" E ")." },
        /* translated messages (lc_messages; the texts of postgres-15.mo): a key's values
         * after ")=(" in any language, the failing row by its translated words */
        { "Schlüssel »(email)=(alice.secret@tenant.example)« existiert bereits.",
          "Schlüssel »(email)=(" E ")« existiert bereits." },
        { "La clé « (email)=(bob.secret@tenant.example) » existe déjà.",
          "La clé « (email)=(" E ") » existe déjà." },
        { "キー (id)=(42) はすでに存在します。", "キー (id)=(" E ") はすでに存在します。" },
        { "Fehlgeschlagene Zeile enthält (1, null, geheim).",
          "Fehlgeschlagene Zeile enthält (" E ")." },
        { "La ligne en échec contient (7, secret).", "La ligne en échec contient (" E ")." },
        { "失敗した行は(1, 秘密)を含みます", "失敗した行は(" E ")を含みます" },
        /* an elided word's apostrophe is no literal: the message is kept, the quoted
         * value after it still redacted; SQL's N'...' and E'...' stay literals */
        { "la valeur d'une clé dupliquée rompt la contrainte unique « t_pkey »",
          "la valeur d'une clé dupliquée rompt la contrainte unique « t_pkey »" },
        { "l'index dell'indice 'secret'", "l'index dell'indice '" E "'" },
        { "near N'secret' and E'x'", "near N'" E "' and E'" E "'" },
        { "parameters: $1 = 'alice', $2 = '42'", "parameters: " E },
        { "execute S_1 with parameters: $1 = 'x'", "execute S_1 with parameters: " E },
        { "invalid input syntax for type integer: \"abc\"",
          "invalid input syntax for type integer: \"" E "\"" },
        { "relation \"users\" does not exist", "relation \"users\" does not exist" },
        { "Token \"secret\" is invalid.", "Token \"" E "\" is invalid." },
        { "value 'it''s' is bad", "value '" E "' is bad" },
        { "unterminated 'literal runs to the end", "unterminated '" E },
        { "a 'multi\nline' literal\nnext", "a '" E "' literal\nnext" },
        { "Process 123 waits for ShareLock on transaction 456; blocked by process 789.\n"
          "Process 123: UPDATE t SET v = 'x' WHERE id = 1\n"
          "Process 789: UPDATE t SET v = 'y' WHERE id = 2",
          "Process 123 waits for ShareLock on transaction 456; blocked by process 789.\n"
          "Process 123: UPDATE t SET v = $1 WHERE id = $2\n"
          "Process 789: UPDATE t SET v = $1 WHERE id = $2" },
        { "checkpoint complete: wrote 12 buffers (0.1%)",
          "checkpoint complete: wrote 12 buffers (0.1%)" },
        { "", "" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
        check_message(cases[i][0], cases[i][1]);
    /* texts with the bytes the redactor looks at, nothing to redact: same */
    static const char *const plain[] = {
        "connection authorized: user=app database=shop application_name=psql",
        "disconnection: session time: 0:00:01.234 user=app database=shop host=[local]",
        "Key columns \"a\" and \"b\" are of incompatible types",
        "Failing rows: 3\nparameters without colon\npKF at every position pKF",
        "\"quoted\" at the start, then Token without quote",
    };
    for (size_t i = 0; i < ARRAY_SIZE(plain); i++) {
        struct sbuf out = SBUF_INIT;
        bool same = false;
        CHECK(redact_message_same(&out, span_cstr(plain[i]), &same) == 0);
        CHECK_EQ_STR(out.buf, plain[i]);
        CHECK_MSG(same, "not same: %s", plain[i]);
        sbuf_release(&out);
    }
}

/* Values that PostgreSQL quotes in messages but that the rules above missed: values
 * spanning lines (a text column with a newline), a double quote inside a quoted value,
 * "value \"...\"" and "at or near \"...\"", and the continuation lines of a multi-line
 * statement quoted in a deadlock DETAIL. Not one byte of the value may remain. */
static void test_message_values_leak(void)
{
    static const char *const cases[][2] = {
        { "Key (email)=(SECRET_a\nSECRET_b) already exists.",
          "Key (email)=(" E ") already exists." },
        { "Failing row contains (1, SECRET_a\nSECRET_b, null).", "Failing row contains (" E ")." },
        { "Failing row contains (1, SECRET_a\nSECRET_b", "Failing row contains (" E },
        /* (QA 20, PostgreSQL 15 texts) a bind or PL/pgSQL parameter value with a newline:
         * the list runs to its last value, over lines */
        { "parameters: $1 = 'first\nSECRET_a second', $2 = 'SECRET_b'", "parameters: " E },
        { "parameters: x = 'first\nSECRET_a second'", "parameters: " E },
        { "parameters: $1 = 'a''\nSECRET_a', $2 = NULL, $3 = 'SECRET_b\n'\nnext",
          "parameters: " E "\nnext" },
        { "unnamed portal with parameters: $1 = 'x\nSECRET_a'\nSQL function \"f\"",
          "unnamed portal with parameters: " E "\nSQL function \"f\"" },
        { "parameters: $1 = 'unterminated\nSECRET_a", "parameters: " E },
        /* a list partition's key: "(cols) = (values)" */
        { "Partition key of the failing row contains (k) = (SECRET_a).",
          "Partition key of the failing row contains (k) = (" E ")." },
        { "Partition key of the failing row contains (a, b) = (1, SECRET_a\nSECRET_b).",
          "Partition key of the failing row contains (a, b) = (" E ")." },
        /* libxml echoes the document's line under the error, and marks it */
        { "line 1: Opening and ending tag mismatch: a line 1 and b\n<a>SECRET_a</b>\n"
          "              ^",
          "line 1: Opening and ending tag mismatch: a line 1 and b\n" E "\n              ^" },
        { "line 1: Start tag expected, '<' not found\nSECRET_a\n^",
          "line 1: Start tag expected, '" E "' not found\n" E "\n^" },
        /* ... whatever the document's line holds; but a text's first line with a statement
         * marker is SQL, even when its next line is a '^' alone (the exponent operator) */
        { "line 1: Start tag expected, '<' not found\nstatement: SECRET_a.SECRET_b\n^",
          "line 1: Start tag expected, '" E "' not found\n" E "\n^" },
        { "LOG:  statement: SELECT 'SECRET_a', 2\n^\n3", "LOG:  statement: SELECT $1, $2\n^\n$3" },
        { "invalid input syntax for type integer: \"12\nSECRET_b\"",
          "invalid input syntax for type integer: \"" E "\"" },
        { "invalid input syntax for type integer: \"a\" SECRET_b\"",
          "invalid input syntax for type integer: \"" E "\"" },
        { "value \"SECRET_a\" is out of range for type integer",
          "value \"" E "\" is out of range for type integer" },
        { "invalid value \"SECRET_a\" for \"YYYY\"", "invalid value \"" E "\" for \"YYYY\"" },
        { "syntax error at or near \"424242\"", "syntax error at or near \"" E "\"" },
        /* json/jsonb input errors (PostgreSQL's json_errdetail and report_json_context):
         * the DETAIL quotes the offending token, the CONTEXT the input up to it. */
        { "Expected \":\", but found \"424242\".", "Expected \":\", but found \"" E "\"." },
        { "Expected \",\" or \"}\", but found \"\"SECRET_a\"\".",
          "Expected \",\" or \"}\", but found \"" E "\"." },
        { "JSON data, line 1: {\"SECRET_a\" 424242...", "JSON data, line 1: " E },
        { "JSON data, line 12: ...SECRET_a\nnext", "JSON data, line 12: " E "\nnext" },
        /* float4in/float8in: the message starts with the value */
        { "\"424242e999\" is out of range for type double precision",
          "\"" E "\" is out of range for type double precision" },
        { "\"-1e-999\" is out of range for type real\nnext \"x\"",
          "\"" E "\" is out of range for type real\nnext \"x\"" },
        /* PL/pgSQL error contexts quote the SQL that failed, dynamic SQL (EXECUTE) with
         * its values written in: redacted like a statement. */
        { "SQL statement \"INSERT INTO acct VALUES (424242, 'SECRET_a')\"\n"
          "PL/pgSQL function add_acct(bigint) line 3 at EXECUTE",
          "SQL statement \"INSERT INTO acct VALUES ($1, $2)\"\n"
          "PL/pgSQL function add_acct(bigint) line 3 at EXECUTE" },
        { "SQL statement \"UPDATE \"T\" SET v = 1\nWHERE id = 424242\"\n"
          "PL/pgSQL function f() line 3 at EXECUTE",
          "SQL statement \"UPDATE \"T\" SET v = $1\nWHERE id = $2\"\n"
          "PL/pgSQL function f() line 3 at EXECUTE" },
        { "PL/pgSQL expression \"424242 > x\"", "PL/pgSQL expression \"$1 > x\"" },
        /* statement log lines kept whole (a reject sample is the raw line) */
        { "2026-11-25 17:45:00 XYZ [10] LOG:  statement: SELECT * FROM t WHERE card = 424242",
          "2026-11-25 17:45:00 XYZ [10] LOG:  statement: SELECT * FROM t WHERE card = $1" },
        { "duration: 1.0 ms  statement: SELECT 1\nWHERE a = 424242",
          "duration: 1.0 ms  statement: SELECT $1\nWHERE a = $2" },
        { "LOG:  execute <unnamed>: SELECT 424242", "LOG:  execute <unnamed>: SELECT $1" },
        { "duration: 0.1 ms  execute P_0/C_1: SELECT $1 + 424242",
          "duration: 0.1 ms  execute P_0/C_1: SELECT $1 + $2" },
        { "parse S_1: SELECT 424242", "parse S_1: SELECT $1" },
        { "bind S_1: SELECT 424242", "bind S_1: SELECT $1" },
        { "Process 1 waits for ShareLock on transaction 5; blocked by process 2.\n"
          "Process 1: UPDATE t SET v = v\nWHERE id = 424242\n"
          "Process 2 waits for ShareLock on transaction 6; blocked by process 1.",
          "Process 1 waits for ShareLock on transaction 5; blocked by process 2.\n"
          "Process 1: UPDATE t SET v = v\nWHERE id = $1\n"
          "Process 2 waits for ShareLock on transaction 6; blocked by process 1." },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        CHECK(strcmp(cases[i][0], cases[i][1]) != 0); /* (so check_message() wants !same) */
        check_message(cases[i][0], cases[i][1]);
        CHECK(strstr(cases[i][1], "SECRET") == NULL && strstr(cases[i][1], "424242") == NULL);
    }
}

static void test_sql(void)
{
    static const char *const cases[][2] = {
        { "SELECT * FROM t WHERE id = 42 AND name = 'alice'",
          "SELECT * FROM t WHERE id = $1 AND name = $2" },
        { "SELECT $1, 5 FROM t2 WHERE x = $2", "SELECT $1, $3 FROM t2 WHERE x = $2" },
        { "SELECT E'a\\'b', B'101', X'ff', N'n', U&'d\\0061'", "SELECT $1, $2, $3, $4, $5" },
        { "SELECT $$dollar 'quoted'$$, $tag$x$tag$", "SELECT $1, $2" },
        { "SELECT 1.5e10, .5, 0x1F, 1_000 FROM \"t 1\"", "SELECT $1, $2, $3, $4 FROM \"t 1\"" },
        { "SELECT col1, t2.c3 FROM t2 -- 'comment' 1\n/* nested /* 'x' */ */ LIMIT 10",
          /* comments can carry tenant data (tags, commented-out values): dropped */
          "SELECT col1, t2.c3 FROM t2 LIMIT $1" },
        { "SELECT /* tenant=acme user=bob@example.com */ 1 -- id 42\nFROM t", "SELECT $1\nFROM t" },
        { "SELECT 'unterminated", "SELECT $1" },
        { "SELECT x::int[] FROM a1 WHERE b IN (1, 2, -3)",
          "SELECT x::int[] FROM a1 WHERE b IN ($1, $2, -$3)" },
        /* The lexer of normalize_redact(): an unterminated quoted identifier swallowed
         * the rest (it may hold values); type modifiers and ORDER BY positions are not
         * values; 'a' + newline + 'b' is one string; TRUE/NULL stay. */
        { "SELECT a FROM \"t WHERE x = 'secret'", "SELECT a FROM $1" },
        { "SELECT x::varchar(20), - 5, -/*c*/6, N'n', true, null FROM t ORDER BY 1",
          "SELECT x::varchar(20), - $1, - $2, $3, true, null FROM t ORDER BY 1" },
        { "SELECT 'a'\n'b', 'c' 'd'", "SELECT $1, $2 $3" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
        expect(redact_sql, cases[i][0], cases[i][1]);
}

/* A rejected JSON line (jsonlog, Supabase): keys kept, each string value redacted on its
 * own (QA 28: a spaced object lost everything after its first value, keys included, and
 * a compact jsonlog line kept "Key (email)=(...)" of its detail). Hand-made lines. */
static void test_rejected_json(void)
{
    static const char *const cases[][2] = {
        { "{\"id\": \"x1\", \"event_message\": \"hello\", \"n\": 5, \"metadata\": "
          "{\"level\": \"info\"}}",
          "{\"id\": \"x1\", \"event_message\": \"hello\", \"n\": 5, \"metadata\": "
          "{\"level\": \"info\"}}" },
        { "{\"message\":\"statement: select 1 where e = 'SECRET_a'\",\"detail\":\"Key "
          "(email)=(SECRET_b) already exists.\"}",
          "{\"message\":\"statement: select $1 where e = $2\",\"detail\":\"Key "
          "(email)=(" E ") already exists.\"}" },
        /* an escaped quote stays inside its value; a value cut at the end of the line */
        { "{\"m\": \"a \\\"q\\\" 'SECRET_a'\", \"d\": \"Failing row contains (SECRET_b",
          "{\"m\": \"a \\\"q\\\" '" E "'\", \"d\": \"Failing row contains (" E },
        { "{\"k\" : \"v\", \"key only\"", "{\"k\" : \"v\", \"key only\"" },
        { "{", "{" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
        expect(redact_rejected, cases[i][0], cases[i][1]);
}

/* Rejected text lines: the numbers of the text after the keyword (or a syslog piece
 * number) are values too; the prefix or wrapper keeps its times and pids (QA 29: an
 * orphaned STATEMENT/QUERY/CONTEXT sub-line and a syslog piece without its record kept
 * a card number). Hand-made lines. */
static void test_rejected_text(void)
{
    static const char *const cases[][2] = {
        { "2026-11-28 10:00:00.000 UTC [70] app@shop STATEMENT:  select * from cards where "
          "number = 4111111111111111 and name = 'SECRET_a'",
          "2026-11-28 10:00:00.000 UTC [70] app@shop STATEMENT:  select * from cards where "
          "number = N and name = '" E "'" },
        { "2026-11-28 10:00:00 UTC:10.0.0.1(5432):app@shop:[71]:QUERY:  update t set card = "
          "4222222222222222 where id = 7",
          "2026-11-28 10:00:00 UTC:10.0.0.1(5432):app@shop:[71]:QUERY:  update t set card = N "
          "where id = N" },
        { "2026-11-28 10:00:00.000 UTC [72] CONTEXT:  SQL statement \"update t set card = "
          "4333333333333333\"",
          "2026-11-28 10:00:00.000 UTC [72] CONTEXT:  SQL statement \"update t set card = "
          "$1\"" },
        { "Nov 28 10:00:01 db1 postgres[321]: [5-3] #011and pin = 9876",
          "Nov 28 10:00:01 db1 postgres[321]: [5-3] #011and pin = N" },
        { "2026-11-28 10:00:00.000 UTC [73] DEBUG1:  x1 = 5",
          "2026-11-28 10:00:00.000 UTC [73] DEBUG1:  x1 = N" },
        /* no keyword, no piece number, no blank first: another program's line, shown
         * as redact_message() leaves it */
        { "127.0.0.1 - - [28/Nov/2026:10:00:00 +0000] \"GET /a?b=1\" 200",
          "127.0.0.1 - - [28/Nov/2026:10:00:00 +0000] \"GET /a?b=1\" 200" },
        { "\tAND card = 4111111111111111", "\tAND card = N" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
        expect(redact_rejected, cases[i][0], cases[i][1]);
}

static void test_numbers(void)
{
    expect(redact_numbers, "PID 123 of t_123 waited 4.5 ms on 16384/7",
           "PID N of t_123 waited N ms on N/N");
    expect(redact_numbers, "varchar(255) 2nd", "varchar(N) 2nd");
}

/* redact_numbers() as it was written first, a byte per append: what a capped output
 * must hold when appending in runs passes the cap. */
static bool ident_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80 ||
           (c >= '0' && c <= '9') || c == '$';
}

static int numbers_bytewise(struct sbuf *out, struct span s)
{
    for (size_t i = 0; i < s.len;) {
        unsigned char c = (unsigned char)s.p[i];
        if (c >= '0' && c <= '9' && (i == 0 || !ident_byte((unsigned char)s.p[i - 1]))) {
            size_t j = i;
            while (j < s.len && ((s.p[j] >= '0' && s.p[j] <= '9') || s.p[j] == '.'))
                j++;
            if (j == s.len || !ident_byte((unsigned char)s.p[j])) {
                if (sbuf_addch(out, 'N') < 0)
                    return -1;
            } else if (sbuf_add(out, s.p + i, j - i) < 0) {
                return -1;
            }
            i = j;
            continue;
        }
        if (sbuf_addch(out, (char)c) < 0)
            return -1;
        i++;
    }
    return 0;
}

static void test_numbers_capped(void)
{
    static const char *const in[] = { "PID 123 of t_123 waited 4.5 ms on 16384/7 x",
                                      "varchar(255) 2nd 12abc 7", "no digits at all here" };
    for (size_t k = 0; k < ARRAY_SIZE(in); k++) {
        struct span s = span_cstr(in[k]);
        for (size_t cap = 1; cap <= s.len + 1; cap++) {
            struct sbuf a, b;
            sbuf_init(&a, cap);
            sbuf_init(&b, cap);
            int ra = redact_numbers(&a, s), rb = numbers_bytewise(&b, s);
            CHECK_EQ_INT(ra, rb);
            CHECK_EQ_STR(a.buf, b.buf);
            sbuf_release(&a);
            sbuf_release(&b);
        }
    }
}

static void test_cap(void)
{
    struct sbuf sb = SBUF_INIT;
    CHECK(sbuf_addstr(&sb, "abc\xc3\xa9\xc3\xa9") == 0); /* abcéé: 7 bytes */
    redact_cap(&sb, 7);
    CHECK_EQ_STR(sb.buf, "abc\xc3\xa9\xc3\xa9");
    redact_cap(&sb, 6); /* room for 3 bytes + ellipsis: "abc" */
    CHECK_EQ_STR(sb.buf, "abc" E);
    sbuf_reset(&sb);
    CHECK(sbuf_addstr(&sb, "ab\xc3\xa9xyz") == 0);
    redact_cap(&sb, 6); /* 3 bytes would split é: back up to "ab" */
    CHECK_EQ_STR(sb.buf, "ab" E);
    CHECK(sb.len <= 6);
    sbuf_release(&sb);
}

static void test_capped_output_never_leaks(void)
{
    /* When the output cap is hit mid-literal, what was appended is still redacted. */
    struct sbuf out;
    sbuf_init(&out, 64);
    char in[400];
    memset(in, 'a', sizeof(in));
    memcpy(in + 40, " 'secretsecretsecretsecret' ", 28);
    in[sizeof(in) - 1] = '\0';
    CHECK(redact_message(&out, span_cstr(in)) < 0); /* the cap is hit */
    CHECK(strstr(out.buf, "secret") == NULL);
    sbuf_release(&out);
}

TEST_LIST = {
    { "messages", test_messages },
    { "message_values_leak", test_message_values_leak },
    { "sql", test_sql },
    { "rejected_json", test_rejected_json },
    { "rejected_text", test_rejected_text },
    { "numbers", test_numbers },
    { "numbers_capped", test_numbers_capped },
    { "cap", test_cap },
    { "capped_output_never_leaks", test_capped_output_never_leaks },
    { NULL, NULL },
};
