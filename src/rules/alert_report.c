/* SPDX-License-Identifier: MIT */
/*
 * alert_report - what operators see: `pgsift alerts` (instances and the delivery log),
 * the `rules test` timeline, and silences. Table output for people, one JSON document
 * for scripts (strings always valid UTF-8).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/utf8.h"
#include "core/ydoc.h"
#include "rules/alertdb_int.h"
#include "rules/deliver_int.h"

bool rules_parse_time_arg(const char *s, int64_t now_us, int64_t *out)
{
    int64_t us;

    if (!s || !*s)
        return false;
    if (clock_parse_rfc3339(span_cstr(s), out))
        return true;
    if (ydoc_parse_duration(span_cstr(s), &us)) {
        *out = now_us - us;
        return true;
    }
    return false;
}

static const char *ts(int64_t us, char *buf)
{
    if (!us)
        return "-";
    return clock_format_rfc3339(us, 0, buf);
}

static json_t *ts_json(int64_t us)
{
    char b[CLOCK_RFC3339_MAX];
    return us ? json_string(clock_format_rfc3339(us, 0, b)) : json_null();
}

/* Make @s (NUL-terminated) safe for a terminal, in place: label values and errors come
 * from logs and receivers. C0 controls and DEL become spaces, and so do the UTF-8
 * sequences a terminal would act on (C1 controls: U+009B is CSI to some; bidirectional
 * formatting characters), byte for byte, as cmd/outfmt.c does for the query tables. */
static void term_safe(char *s)
{
    utf8_defang(s, strlen(s), ' ', false);
}

/* Tables fit a terminal of this many columns (as `pgsift top` and `events` do). */
#define TABLE_WIDTH 100

/* End a table row whose fixed columns took @used columns with its free-text last
 * column @s: after a space on the row when it fits in TABLE_WIDTH, else on a line of its
 * own below, indented. */
static void last_cell(FILE *out, int used, const char *s)
{
    size_t cols = utf8_columns(s);
    if (!cols)
        fputc('\n', out);
    else if (used >= 0 && (size_t)used + 1 + cols <= TABLE_WIDTH)
        fprintf(out, " %s\n", s);
    else
        fprintf(out, "\n    %s\n", s);
}

/* "database=app fingerprint=..." from a labels JSON text, safe for a terminal. */
static void labels_line(const char *labels_json, char *out, size_t len)
{
    json_t *l = json_loads(labels_json, 0, NULL);
    const char *k;
    json_t *v;
    size_t o = 0;

    out[0] = '\0';
    json_object_foreach(l, k, v)
    {
        int n = snprintf(out + o, len - o, "%s%s=%s", o ? " " : "", k, json_string_value(v));
        if (n < 0 || (size_t)n >= len - o)
            break;
        o += (size_t)n;
    }
    json_decref(l);
    term_safe(out);
}

static int emit_json(json_t *doc, FILE *out)
{
    char *s = json_dumps(doc, JSON_INDENT(2) | JSON_ENSURE_ASCII);
    json_decref(doc);
    if (!s)
        return -1;
    fprintf(out, "%s\n", s);
    free(s);
    return 0;
}

/* The table on @out (APRINT_TABLE), or the JSON document in *@docp (APRINT_JSON). */
static int alerts_walk(struct alertdb *db, const char *state, enum alert_print_format f, int limit,
                       FILE *out, json_t **docp, struct diag *d)
{
    static const char inst_sql[] =
        "SELECT instance_key, rule, labels, severity, state, active_since, fired_at, "
        "resolved_at, value, episode, annotations FROM alert_instances "
        "WHERE (?1 IS NULL AND state != 'inactive') OR state = ?1 "
        "ORDER BY CASE state WHEN 'firing' THEN 0 WHEN 'recovering' THEN 1 WHEN 'pending' THEN 2 "
        "ELSE 3 END, rule, instance_key";
    static const char del_sql[] =
        "SELECT id, receiver, status, attempts, created_at, next_attempt_at, delivered_at, "
        "last_error, (SELECT count(*) FROM notifications n WHERE n.delivery_id = x.id) "
        "FROM deliveries x ORDER BY created_at DESC, rowid DESC LIMIT ?";
    static const char att_sql[] = "SELECT attempt, at, duration_ms, status, verdict, error FROM "
                                  "delivery_attempts WHERE delivery_id = ? ORDER BY attempt";
    static const char held_sql[] =
        "SELECT status, count(*) FROM notifications WHERE status IN ('pending', 'silenced', "
        "'inhibited', 'replay', 'dropped', 'failed') GROUP BY status ORDER BY status";
    json_t *doc = json_object(), *insts = json_array(), *dels = json_array(), *held = json_object();
    char b1[CLOCK_RFC3339_MAX], b2[CLOCK_RFC3339_MAX], lbl[1024];
    int rc;

    sqlite3_stmt *st = adb_stmt(db, inst_sql, d);
    if (!st)
        goto fail;
    adb_bind_text(st, 1, state);
    if (f == APRINT_TABLE)
        fprintf(out, "%-10s %-8s %-24s %-20s %-20s %s\n", "STATE", "SEVERITY", "RULE", "SINCE",
                "RESOLVED", "LABELS");
    while ((rc = adb_row(db, st, d)) > 0) {
        int64_t since =
            sqlite3_column_int64(st, 6) ? sqlite3_column_int64(st, 6) : sqlite3_column_int64(st, 5);
        if (f == APRINT_TABLE) {
            labels_line(adb_col_text(st, 2), lbl, sizeof(lbl));
            int used = fprintf(out, "%-10s %-8s %-24s %-20s %-20s", adb_col_text(st, 4),
                               adb_col_text(st, 3), adb_col_text(st, 1), ts(since, b1),
                               ts(sqlite3_column_int64(st, 7), b2));
            last_cell(out, used, lbl);
            continue;
        }
        json_t *i = json_object();
        json_object_set_new(i, "instance_key", json_string(adb_col_text(st, 0)));
        json_object_set_new(i, "rule", json_text(adb_col_text(st, 1)));
        json_t *labels = json_loads(adb_col_text(st, 2), 0, NULL);
        json_object_set_new(i, "labels", labels ? labels : json_object());
        json_object_set_new(i, "severity", json_string(adb_col_text(st, 3)));
        json_object_set_new(i, "state", json_string(adb_col_text(st, 4)));
        json_object_set_new(i, "active_since", ts_json(sqlite3_column_int64(st, 5)));
        json_object_set_new(i, "fired_at", ts_json(sqlite3_column_int64(st, 6)));
        json_object_set_new(i, "resolved_at", ts_json(sqlite3_column_int64(st, 7)));
        json_object_set_new(i, "value", json_real(sqlite3_column_double(st, 8)));
        json_object_set_new(i, "episode", json_integer(sqlite3_column_int64(st, 9)));
        json_t *ann = json_loads(adb_col_text(st, 10), 0, NULL);
        json_object_set_new(i, "annotations", ann ? ann : json_object());
        json_array_append_new(insts, i);
    }
    sqlite3_reset(st);
    if (rc < 0)
        goto fail;

    st = adb_stmt(db, held_sql, d);
    if (!st)
        goto fail;
    while ((rc = adb_row(db, st, d)) > 0)
        json_object_set_new(held, adb_col_text(st, 0), json_integer(sqlite3_column_int64(st, 1)));
    sqlite3_reset(st);
    if (rc < 0)
        goto fail;

    if (f == APRINT_TABLE) {
        const char *k;
        json_t *v;
        fprintf(out, "\nNOTIFICATIONS NOT SENT:");
        if (!json_object_size(held))
            fprintf(out, " none");
        json_object_foreach(held, k, v)
        {
            fprintf(out, " %s %lld", k, (long long)json_integer_value(v));
        }
        /* (a delivery's last error, if any, is on the line below its row) */
        fprintf(out, "\n\nDELIVERIES (newest first)\n%-36s %-16s %-9s %5s %6s %s\n", "ID",
                "RECEIVER", "STATUS", "TRIES", "ALERTS", "CREATED");
    }
    st = adb_stmt(db, del_sql, d);
    if (!st)
        goto fail;
    sqlite3_bind_int(st, 1, limit);
    struct {
        char id[64];
    } ids[256];
    size_t nids = 0;
    while ((rc = adb_row(db, st, d)) > 0) {
        if (f == APRINT_TABLE) {
            snprintf(lbl, sizeof(lbl), "%s", adb_col_text(st, 7));
            term_safe(lbl);
            fprintf(out, "%-36s %-16s %-9s %5d %6d %s\n", adb_col_text(st, 0), adb_col_text(st, 1),
                    adb_col_text(st, 2), sqlite3_column_int(st, 3), sqlite3_column_int(st, 8),
                    ts(sqlite3_column_int64(st, 4), b1));
            if (*lbl)
                fprintf(out, "    last error: %s\n", lbl);
            continue;
        }
        json_t *x = json_object();
        json_object_set_new(x, "id", json_string(adb_col_text(st, 0)));
        json_object_set_new(x, "receiver", json_text(adb_col_text(st, 1)));
        json_object_set_new(x, "status", json_string(adb_col_text(st, 2)));
        json_object_set_new(x, "attempts", json_integer(sqlite3_column_int(st, 3)));
        json_object_set_new(x, "alerts", json_integer(sqlite3_column_int(st, 8)));
        json_object_set_new(x, "created_at", ts_json(sqlite3_column_int64(st, 4)));
        json_object_set_new(x, "next_attempt_at",
                            strcmp(adb_col_text(st, 2), "pending")
                                ? json_null()
                                : ts_json(sqlite3_column_int64(st, 5)));
        json_object_set_new(x, "delivered_at", ts_json(sqlite3_column_int64(st, 6)));
        json_object_set_new(x, "last_error",
                            sqlite3_column_type(st, 7) == SQLITE_NULL
                                ? json_null()
                                : json_text(adb_col_text(st, 7)));
        json_array_append_new(dels, x);
        if (nids < ARRAY_SIZE(ids))
            snprintf(ids[nids++].id, sizeof(ids[0].id), "%s", adb_col_text(st, 0));
    }
    sqlite3_reset(st);
    if (rc < 0)
        goto fail;
    /* Attempts per delivery (JSON only: the table shows the last error). */
    for (size_t i = 0; i < nids; i++) {
        json_t *arr = json_array();
        st = adb_stmt(db, att_sql, d);
        if (!st) {
            json_decref(arr);
            goto fail;
        }
        adb_bind_text(st, 1, ids[i].id);
        while ((rc = adb_row(db, st, d)) > 0) {
            json_t *a = json_object();
            json_object_set_new(a, "attempt", json_integer(sqlite3_column_int(st, 0)));
            json_object_set_new(a, "at", ts_json(sqlite3_column_int64(st, 1)));
            json_object_set_new(a, "duration_ms", json_real(sqlite3_column_double(st, 2)));
            json_object_set_new(a, "status",
                                sqlite3_column_type(st, 3) == SQLITE_NULL
                                    ? json_null()
                                    : json_integer(sqlite3_column_int(st, 3)));
            json_object_set_new(a, "verdict", json_string(adb_col_text(st, 4)));
            json_object_set_new(a, "error",
                                sqlite3_column_type(st, 5) == SQLITE_NULL
                                    ? json_null()
                                    : json_text(adb_col_text(st, 5)));
            json_array_append_new(arr, a);
        }
        sqlite3_reset(st);
        json_object_set_new(json_array_get(dels, i), "attempt_log", arr);
        if (rc < 0)
            goto fail;
    }
    if (f == APRINT_TABLE) {
        json_decref(doc);
        json_decref(insts);
        json_decref(dels);
        json_decref(held);
        return 0;
    }
    json_object_set_new(doc, "instances", insts);
    json_object_set_new(doc, "not_sent", held);
    json_object_set_new(doc, "deliveries", dels);
    *docp = doc;
    return 0;
fail:
    json_decref(doc);
    json_decref(insts);
    json_decref(dels);
    json_decref(held);
    return -1;
}

int alerts_print(struct alertdb *db, const char *state, enum alert_print_format f, int limit,
                 FILE *out, struct diag *d)
{
    json_t *doc;
    if (f == APRINT_TABLE)
        return alerts_walk(db, state, f, limit, out, NULL, d);
    if (alerts_walk(db, state, f, limit, NULL, &doc, d) < 0)
        return -1;
    return emit_json(doc, out);
}

json_t *alerts_doc(struct alertdb *db, const char *state, int limit, struct diag *d)
{
    json_t *doc;
    return alerts_walk(db, state, APRINT_JSON, limit, NULL, &doc, d) < 0 ? NULL : doc;
}

/* As alerts_walk(), for the history. */
static int timeline_walk(struct alertdb *db, const char *transition, enum alert_print_format f,
                         FILE *out, json_t **docp, struct diag *d)
{
    static const char sql[] =
        "SELECT h.at, h.rule, h.transition, h.value, i.labels, i.severity FROM alert_history h "
        "LEFT JOIN alert_instances i ON i.instance_key = h.instance_key "
        "ORDER BY h.at, h.rule, i.labels, h.id";
    json_t *arr = json_array();
    char b[CLOCK_RFC3339_MAX], lbl[1024];
    int rc;

    sqlite3_stmt *st = adb_stmt(db, sql, d);
    if (!st) {
        json_decref(arr);
        return -1;
    }
    while ((rc = adb_row(db, st, d)) > 0) {
        if (transition && strcmp(adb_col_text(st, 2), transition) != 0)
            continue;
        if (f == APRINT_TABLE) {
            labels_line(adb_col_text(st, 4), lbl, sizeof(lbl));
            /* (one line per transition, however long: `rules test` output is compared
             * with expected timelines, t310) */
            char val[32];
            rule_fmt_value(val, sizeof(val), sqlite3_column_double(st, 3));
            fprintf(out, "%s %-10s %-24s %-8s value=%s %s\n", ts(sqlite3_column_int64(st, 0), b),
                    adb_col_text(st, 2), adb_col_text(st, 1), adb_col_text(st, 5), val, lbl);
            continue;
        }
        json_t *e = json_object();
        json_object_set_new(e, "at", ts_json(sqlite3_column_int64(st, 0)));
        json_object_set_new(e, "rule", json_text(adb_col_text(st, 1)));
        json_object_set_new(e, "transition", json_string(adb_col_text(st, 2)));
        json_object_set_new(e, "severity", json_string(adb_col_text(st, 5)));
        json_object_set_new(e, "value", json_real(sqlite3_column_double(st, 3)));
        json_t *labels = json_loads(adb_col_text(st, 4), 0, NULL);
        json_object_set_new(e, "labels", labels ? labels : json_object());
        json_array_append_new(arr, e);
    }
    sqlite3_reset(st);
    if (rc < 0 || f == APRINT_TABLE) {
        json_decref(arr);
        return rc < 0 ? -1 : 0;
    }
    *docp = json_object();
    json_object_set_new(*docp, "timeline", arr);
    return 0;
}

int timeline_print(struct alertdb *db, const char *transition, enum alert_print_format f, FILE *out,
                   struct diag *d)
{
    json_t *doc;
    if (f == APRINT_TABLE)
        return timeline_walk(db, transition, f, out, NULL, d);
    if (timeline_walk(db, transition, f, NULL, &doc, d) < 0)
        return -1;
    return emit_json(doc, out);
}

json_t *timeline_doc(struct alertdb *db, const char *transition, struct diag *d)
{
    json_t *doc;
    return timeline_walk(db, transition, APRINT_JSON, NULL, &doc, d) < 0 ? NULL : doc;
}

int silence_add(struct alertdb *db, const char *const *matchers, size_t n, int64_t starts_us,
                int64_t ends_us, const char *comment, const char *author, int64_t now_us,
                int64_t *id, struct diag *d)
{
    static const char sql[] = "INSERT INTO silences (matchers, starts_at, ends_at, comment, "
                              "created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)";
    struct arena a = ARENA_INIT;
    json_t *arr = json_array();

    if (!n) {
        json_decref(arr);
        return diag_set(d, DIAG_USAGE,
                        "a silence needs at least one MATCHER (label=value, label!=value, "
                        "label=~regex or label!~regex)");
    }
    for (size_t i = 0; i < n; i++) {
        struct matcher m;
        char err[256];
        if (!matcher_parse(matchers[i], &a, &m, err, sizeof(err))) {
            arena_release(&a);
            json_decref(arr);
            return diag_set(d, DIAG_USAGE, "%s", err);
        }
        if (m.re)
            pcre2_code_free_8(m.re);
        json_array_append_new(arr, json_string(matchers[i]));
    }
    arena_release(&a);
    if (ends_us <= starts_us) {
        json_decref(arr);
        return diag_set(d, DIAG_USAGE, "a silence must end after it starts");
    }
    char *text = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    sqlite3_stmt *st = adb_stmt(db, sql, d);
    if (!st) {
        free(text);
        return -1;
    }
    adb_bind_text(st, 1, text);
    sqlite3_bind_int64(st, 2, starts_us);
    sqlite3_bind_int64(st, 3, ends_us);
    adb_bind_text(st, 4, comment);
    adb_bind_text(st, 5, author);
    sqlite3_bind_int64(st, 6, now_us);
    free(text);
    if (adb_done(db, st, d) < 0)
        return -1;
    *id = sqlite3_last_insert_rowid(db->db);
    return 0;
}

int silence_list(struct alertdb *db, bool all, int64_t now_us, enum alert_print_format f, FILE *out,
                 struct diag *d)
{
    static const char sql[] =
        "SELECT id, matchers, starts_at, ends_at, comment, created_by, expired_at FROM "
        "silences WHERE ?1 OR (expired_at IS NULL AND ends_at > ?2) ORDER BY id";
    json_t *arr = json_array();
    char b1[CLOCK_RFC3339_MAX], b2[CLOCK_RFC3339_MAX];
    int rc;

    sqlite3_stmt *st = adb_stmt(db, sql, d);
    if (!st) {
        json_decref(arr);
        return -1;
    }
    sqlite3_bind_int(st, 1, all);
    sqlite3_bind_int64(st, 2, now_us);
    if (f == APRINT_TABLE)
        fprintf(out, "%-5s %-8s %-20s %-20s %-30s %s\n", "ID", "STATE", "STARTS", "ENDS",
                "MATCHERS", "COMMENT");
    while ((rc = adb_row(db, st, d)) > 0) {
        int64_t s = sqlite3_column_int64(st, 2), e = sqlite3_column_int64(st, 3);
        bool expired = sqlite3_column_type(st, 6) != SQLITE_NULL || e <= now_us;
        const char *state = expired ? "expired" : s > now_us ? "pending" : "active";
        if (f == APRINT_TABLE) {
            int used = fprintf(out, "%-5lld %-8s %-20s %-20s %-30s",
                               (long long)sqlite3_column_int64(st, 0), state, ts(s, b1), ts(e, b2),
                               adb_col_text(st, 1));
            last_cell(out, used, adb_col_text(st, 4));
            continue;
        }
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(sqlite3_column_int64(st, 0)));
        json_object_set_new(o, "state", json_string(state));
        json_t *m = json_loads(adb_col_text(st, 1), 0, NULL);
        json_object_set_new(o, "matchers", m ? m : json_array());
        json_object_set_new(o, "starts_at", ts_json(s));
        json_object_set_new(o, "ends_at", ts_json(e));
        json_object_set_new(o, "comment", json_text(adb_col_text(st, 4)));
        json_object_set_new(o, "created_by",
                            sqlite3_column_type(st, 5) == SQLITE_NULL
                                ? json_null()
                                : json_text(adb_col_text(st, 5)));
        json_array_append_new(arr, o);
    }
    sqlite3_reset(st);
    if (rc < 0 || f == APRINT_TABLE) {
        json_decref(arr);
        return rc < 0 ? -1 : 0;
    }
    json_t *doc = json_object();
    json_object_set_new(doc, "silences", arr);
    return emit_json(doc, out);
}

int silence_expire(struct alertdb *db, int64_t id, int64_t now_us, struct diag *d)
{
    static const char sql[] =
        "UPDATE silences SET expired_at = ? WHERE id = ? AND expired_at IS NULL";
    sqlite3_stmt *st = adb_stmt(db, sql, d);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, now_us);
    sqlite3_bind_int64(st, 2, id);
    if (adb_done(db, st, d) < 0)
        return -1;
    if (sqlite3_changes(db->db) == 0)
        return diag_set(d, DIAG_USAGE, "no active silence with id %lld", (long long)id);
    return 0;
}
