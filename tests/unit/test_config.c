/* SPDX-License-Identifier: MIT */
/*
 * config: defaults of every table, a full file, every problem reported (file:line:col)
 * with the accepted keys, duplicate sources, the include glob by format, command-line
 * paths, and the raw sections handed to other modules.
 */
#include "check.h"
#include "config.h"

static void load(struct config *c, const char *text)
{
    config_init(c);
    config_load_mem(c, "t.yaml", text, strlen(text));
}

static void test_defaults(void)
{
    struct config c;
    load(&c, "sources:\n  - path: /var/log/pg\n");
    CHECK_EQ_INT(config_errors(&c), 0);
    CHECK_EQ_INT(c.nsources, 1);
    CHECK_EQ_STR(c.sources[0].name, "/var/log/pg");
    CHECK_EQ_STR(c.sources[0].format, "auto");
    CHECK(c.sources[0].include == NULL);
    CHECK_EQ_INT(c.tail.commit_records, 10000);
    CHECK_EQ_INT(c.tail.commit_interval_us, 1000000);
    CHECK_EQ_STR(c.tail.watcher, "auto");
    CHECK_EQ_INT(c.tail.poll_interval_us, 250000);
    CHECK_EQ_INT(c.tail.rotate_wait_us, 5000000);
    CHECK_EQ_INT(c.tail.read_budget, 64 << 20);
    CHECK_EQ_INT(c.retention.minutes_us, INT64_C(14) * 86400 * 1000000);
    CHECK(c.store == NULL && !c.keep_literals && c.receivers == NULL && c.report == NULL);
    config_release(&c);
}

static void test_full(void)
{
    struct config c;
    load(&c, "store: /s.db\n"
             "keep_literals: true\n"
             "sources:\n"
             "  - name: main\n"
             "    path: [/a, '/b/*.csv']\n"
             "    format: csvlog\n"
             "  - path: /c\n"
             "    format: stderr\n"
             "    prefix: '%m [%p] '\n"
             "    tz: UTC\n"
             "    include: 'x*'\n"
             "tail: {commit_records: 5, commit_interval: 250ms, watcher: poll, read_budget: 1MB}\n"
             "retention: {minutes: 1d, days: 2y}\n" /* INTERFACE.md's example has 2y */
             "rules: [/r/*.yaml]\n"
             "receivers: [{name: ops}]\n"
             "route: {notify: [ops]}\n"
             "report: {dir: /tmp}\n");
    CHECK_MSG(config_errors(&c) == 0, "%s", config_error_text(&c));
    CHECK_EQ_STR(c.store, "/s.db");
    CHECK(c.keep_literals);
    CHECK_EQ_INT(c.nsources, 2);
    CHECK_EQ_INT(c.sources[0].paths.n, 2);
    CHECK_EQ_STR(c.sources[0].paths.v[1], "/b/*.csv");
    CHECK_EQ_STR(c.sources[0].include, "*.csv*"); /* by format */
    CHECK_EQ_STR(c.sources[1].include, "x*");
    CHECK_EQ_STR(c.sources[1].prefix, "%m [%p] ");
    CHECK_EQ_INT(c.sources[1].line, 7);
    CHECK_EQ_INT(c.tail.commit_records, 5);
    CHECK_EQ_INT(c.tail.commit_interval_us, 250000);
    CHECK_EQ_STR(c.tail.watcher, "poll");
    CHECK_EQ_INT(c.tail.read_budget, 1 << 20);
    CHECK_EQ_INT(c.retention.minutes_us, INT64_C(86400) * 1000000);
    CHECK_EQ_INT(c.retention.hours_us, INT64_C(90) * 86400 * 1000000);
    CHECK_EQ_INT(c.retention.days_us, INT64_C(730) * 86400 * 1000000);
    CHECK_EQ_INT(c.rules.n, 1);
    CHECK(c.receivers && c.receivers->type == YAML_SEQUENCE_NODE);
    CHECK(c.route && c.report && c.report->type == YAML_MAPPING_NODE);
    config_release(&c);
}

static void test_errors(void)
{
    struct config c;
    load(&c, "sources:\n"
             "  - name: a\n"
             "    path: /x\n"
             "  - name: a\n"
             "    path: /y\n"
             "    include: 3\n"
             "    extra: 1\n"
             "  - path: ''\n"
             "  - format: csvlog\n"
             "tail:\n"
             "  commit_interval: 2h\n"
             "  poll_interval: 1ms\n"
             "  read_budget: lots\n");
    const char *e = config_error_text(&c);
    CHECK_EQ_INT(config_errors(&c), 6);
    CHECK_MSG(strstr(e, "t.yaml:7:5: unknown key 'extra' (expected one of: name, path,"), "%s", e);
    CHECK_MSG(strstr(e, "t.yaml:8:11: 'path' holds an empty path"), "%s", e);
    CHECK_MSG(strstr(e, "t.yaml:9:5: missing required key 'path'"), "%s", e);
    CHECK_MSG(strstr(e, "t.yaml:11:20: 'commit_interval' must be between 10ms and 1h"), "%s", e);
    CHECK_MSG(strstr(e, "t.yaml:12:18: 'poll_interval' must be between 10ms and 1h"), "%s", e);
    CHECK_MSG(strstr(e, "t.yaml:13:16: 'read_budget' expects a size"), "%s", e);
    config_release(&c);

    load(&c, "sources:\n  - name: a\n    path: /x\n  - name: a\n    path: /y\n");
    CHECK_EQ_INT(config_errors(&c), 1);
    CHECK_MSG(
        strstr(config_error_text(&c), "t.yaml:4:11: duplicate source name 'a' (first at line 2)"),
        "%s", config_error_text(&c));
    config_release(&c);

    load(&c, "- just\n- a list\n");
    CHECK_EQ_INT(config_errors(&c), 1);
    CHECK(strstr(config_error_text(&c), "t.yaml:1:1: expected a mapping"));
    config_release(&c);

    load(&c, "");
    CHECK_EQ_INT(config_errors(&c), 1);
    CHECK(strstr(config_error_text(&c), "empty"));
    config_release(&c);

    load(&c, "sources: {path: /x}\n");
    CHECK(strstr(config_error_text(&c), "t.yaml:1:10: 'sources' expects a list"));
    config_release(&c);

    load(&c, "sources:\n  - path: /x\n    format: stderr\n    tz: Mars/Olympus\n");
    CHECK_EQ_INT(config_errors(&c), 1);
    CHECK_MSG(strstr(config_error_text(&c), "t.yaml:4:9:"), "%s", config_error_text(&c));
    config_release(&c);
}

static void test_paths(void)
{
    struct config c;
    config_init(&c);
    const char *paths[] = { "/var/log/a.json", "/var/log/b" };
    config_set_paths(&c, paths, 2, "jsonlog", NULL, NULL, NULL);
    CHECK_EQ_INT(config_errors(&c), 0);
    /* a source per path, named by it (pgsift status labels each file by its own path) */
    CHECK_EQ_INT(c.nsources, 2);
    CHECK_EQ_STR(c.sources[0].name, "/var/log/a.json");
    CHECK_EQ_STR(c.sources[1].name, "/var/log/b");
    CHECK_EQ_INT(c.sources[1].paths.n, 1);
    CHECK_EQ_STR(c.sources[1].paths.v[0], "/var/log/b");
    CHECK_EQ_STR(c.sources[0].include, "*.json*");
    CHECK_EQ_STR(c.sources[1].format, "jsonlog");
    CHECK_EQ_INT(c.tail.commit_records, 10000); /* defaults without a file */
    config_release(&c);
    config_init(&c);
    config_set_paths(&c, paths, 2, NULL, NULL, NULL, "pg-*");
    CHECK_EQ_STR(c.sources[0].include, "pg-*");
    CHECK_EQ_STR(c.sources[1].include, "pg-*");
    config_release(&c);
    CHECK(config_default_include("stderr") && !strcmp(config_default_include("stderr"), "*.log*"));
    CHECK(config_default_include("syslog") == NULL);
}

TEST_LIST = {
    { "defaults", test_defaults }, { "full", test_full }, { "errors", test_errors },
    { "paths", test_paths },       { NULL, NULL },
};
