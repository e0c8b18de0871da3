/* SPDX-License-Identifier: MIT */
#include <stddef.h>

#include "check.h"
#include <unistd.h>

#include "core/ydoc.h"

static const char *const severities[] = { "info", "warning", "critical", NULL };

struct rule {
    const char *name;
    bool enabled;
    int64_t limit;
    int64_t window_us;
    int64_t spill;
    double ratio;
    const char *severity;
    struct ylist notify;
    yaml_node_t *labels;
};

static const struct yfield fields[] = {
    { "name", YF_STRING, true, NULL, "rule name", offsetof(struct rule, name), NULL },
    { "enabled", YF_BOOL, false, "true", "on or off", offsetof(struct rule, enabled), NULL },
    { "limit", YF_INT, false, "10", "a count", offsetof(struct rule, limit), NULL },
    { "window", YF_DURATION, false, "5m", "window", offsetof(struct rule, window_us), NULL },
    { "spill", YF_SIZE, false, "0", "bytes", offsetof(struct rule, spill), NULL },
    { "ratio", YF_NUMBER, false, "2.5", "ratio", offsetof(struct rule, ratio), NULL },
    { "severity", YF_CHOICE, false, "warning", "how bad", offsetof(struct rule, severity),
      severities },
    { "notify", YF_STRING_LIST, false, NULL, "receivers", offsetof(struct rule, notify), NULL },
    { "labels", YF_NODE, false, NULL, "labels", offsetof(struct rule, labels), NULL },
};

static unsigned load(struct ydoc *y, const char *text, struct rule *r, struct arena *a)
{
    memset(r, 0, sizeof(*r));
    ydoc_load_mem(y, "rules/x.yaml", text, strlen(text));
    if (y->nerrors)
        return y->nerrors;
    return ydoc_map(y, ydoc_root(y), fields, ARRAY_SIZE(fields), r, a);
}

static void test_valid_with_defaults(void)
{
    struct ydoc y;
    struct rule r;
    struct arena a = ARENA_INIT;
    CHECK_EQ_INT(load(&y,
                      "name: slow\nwindow: 1h\nspill: 512MB\nnotify: [ops, dba]\n"
                      "labels: {team: db}\n",
                      &r, &a),
                 0);
    CHECK_EQ_STR(r.name, "slow");
    CHECK(r.enabled);
    CHECK_EQ_INT(r.limit, 10);
    CHECK_EQ_INT(r.window_us, INT64_C(3600000000));
    CHECK_EQ_INT(r.spill, INT64_C(512) * 1024 * 1024);
    CHECK(r.ratio == 2.5);
    CHECK_EQ_STR(r.severity, "warning");
    CHECK_EQ_INT(r.notify.n, 2);
    CHECK_EQ_STR(r.notify.v[1], "dba");
    CHECK(r.labels && r.labels->type == YAML_MAPPING_NODE);
    ydoc_release(&y);
    arena_release(&a);
}

static void test_every_error_reported_with_position(void)
{
    struct ydoc y;
    struct rule r;
    struct arena a = ARENA_INIT;
    unsigned n = load(&y,
                      "treshold: 5\n"
                      "window: 5 parsecs\n"
                      "severity: fatal\n"
                      "enabled: maybe\n"
                      "limit: ten\n"
                      "limit: 3\n",
                      &r, &a);
    CHECK_EQ_INT(n, 7);
    const char *e = y.errors.buf;
    CHECK(strstr(e, "rules/x.yaml:1:1: unknown key 'treshold' (expected one of: name, enabled, "
                    "limit, window, spill, ratio, severity, notify, labels)\n") != NULL);
    CHECK(strstr(e, "rules/x.yaml:2:9: 'window' expects a duration") != NULL);
    CHECK(strstr(e, "rules/x.yaml:3:11: invalid value 'fatal' for 'severity' (expected one of: "
                    "info, warning, critical)") != NULL);
    CHECK(strstr(e, "rules/x.yaml:4:10: 'enabled' expects true or false") != NULL);
    CHECK(strstr(e, "rules/x.yaml:5:8: 'limit' expects an integer") != NULL);
    CHECK(strstr(e, "rules/x.yaml:6:1: duplicate key 'limit'") != NULL);
    CHECK(strstr(e, "missing required key 'name'") != NULL);
    ydoc_release(&y);
    arena_release(&a);
}

static void test_syntax_error_and_shapes(void)
{
    struct ydoc y;
    struct rule r;
    struct arena a = ARENA_INIT;
    CHECK_EQ_INT(load(&y, "name: [unclosed\n", &r, &a), 1);
    CHECK(strstr(y.errors.buf, "rules/x.yaml:2:1: invalid YAML") != NULL);
    ydoc_release(&y);

    CHECK_EQ_INT(load(&y, "- just\n- a list\n", &r, &a), 1);
    CHECK(strstr(y.errors.buf, "rules/x.yaml:1:1: expected a mapping") != NULL);
    ydoc_release(&y);

    CHECK_EQ_INT(load(&y, "name: {a: b}\n", &r, &a), 1);
    CHECK(strstr(y.errors.buf, "'name' expects a string, not a mapping") != NULL);
    ydoc_release(&y);

    CHECK_EQ_INT(load(&y, "name: x\nnotify: [ok, {no: 1}]\n", &r, &a), 1);
    CHECK_EQ_INT(r.notify.n, 1);
    ydoc_release(&y);
    arena_release(&a);
}

/* Regression (fuzz_rules_yaml): a quoted value with a "\n" escape kept its newline in
 * the error message, splitting one error over two lines. */
static void test_error_is_one_line(void)
{
    struct ydoc y;
    struct rule r;
    struct arena a = ARENA_INIT;
    CHECK_EQ_INT(load(&y, "name: x\nseverity: \"bad\\nnext\\tx\\u0001\"\n", &r, &a), 1);
    CHECK_EQ_STR(y.errors.buf, "rules/x.yaml:2:11: invalid value 'bad\\nnext\\tx\\x01' for "
                               "'severity' (expected one of: info, warning, critical)\n");
    ydoc_release(&y);
    arena_release(&a);
}

static void test_converters(void)
{
    int64_t v = 0;
    bool b = false;
    CHECK(ydoc_parse_duration(span_cstr("30s"), &v) && v == 30000000);
    CHECK(ydoc_parse_duration(span_cstr("7d"), &v) && v == INT64_C(604800000000));
    CHECK(ydoc_parse_duration(span_cstr("2y"), &v) && v == INT64_C(730) * 86400000000);
    CHECK(ydoc_parse_duration(span_cstr("1w"), &v) && v == INT64_C(604800000000));
    CHECK(!ydoc_parse_duration(span_cstr("999999y"), &v)); /* past int64 microseconds */
    CHECK(ydoc_parse_duration(span_cstr("250ms"), &v) && v == 250000);
    CHECK(ydoc_parse_duration(span_cstr("1.5h"), &v) && v == INT64_C(5400000000));
    CHECK(!ydoc_parse_duration(span_cstr("30"), &v)); /* unit required */
    CHECK(!ydoc_parse_duration(span_cstr("-5m"), &v));
    CHECK(!ydoc_parse_duration(span_cstr("99999999999999d"), &v));
    CHECK(ydoc_parse_size(span_cstr("1GiB"), &v) && v == INT64_C(1073741824));
    CHECK(ydoc_parse_size(span_cstr("64kB"), &v) && v == 65536);
    CHECK(ydoc_parse_size(span_cstr("4096"), &v) && v == 4096);
    CHECK(!ydoc_parse_size(span_cstr("12 apples"), &v));
    CHECK(ydoc_parse_bool(span_cstr("Off"), &b) && !b);
    CHECK(!ydoc_parse_bool(span_cstr("2"), &b));
}

static void test_file_limits(void)
{
    struct ydoc y;
    struct diag d = DIAG_INIT;
    char path[] = "/tmp/sift-ydoc-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK(write(fd, "name: abc\n", 10) == 10);
    close(fd);
    CHECK_EQ_INT(ydoc_load(&y, path, 10, &d), 0); /* exactly at the limit */
    CHECK_EQ_INT(y.nerrors, 0);
    ydoc_release(&y);
    CHECK_EQ_INT(ydoc_load(&y, path, 9, &d), 0); /* one byte over */
    CHECK_EQ_INT(y.nerrors, 1);
    CHECK(strstr(y.errors.buf, "larger than 9 bytes") != NULL);
    ydoc_release(&y);
    unlink(path);
    CHECK_EQ_INT(ydoc_load(&y, path, 100, &d), -1);
    CHECK_EQ_INT(d.kind, DIAG_IO);
    CHECK(strstr(d.msg, "cannot open") != NULL);
    ydoc_release(&y);
}

TEST_LIST = {
    { "valid_with_defaults", test_valid_with_defaults },
    { "every_error_reported_with_position", test_every_error_reported_with_position },
    { "syntax_error_and_shapes", test_syntax_error_and_shapes },
    { "error_is_one_line", test_error_is_one_line },
    { "converters", test_converters },
    { "file_limits", test_file_limits },
    { NULL, NULL },
};
