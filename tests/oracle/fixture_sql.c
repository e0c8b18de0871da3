/* SPDX-License-Identifier: MIT */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fixture_sql.h"

/* "<word> <name>: <sql>" or "statement: <sql>": the kind and where the SQL starts. */
static const char *statement_part(const char *m, enum fx_kind *kind)
{
    static const struct {
        const char *prefix;
        enum fx_kind kind;
        bool named;
    } forms[] = {
        { "statement: ", FX_STATEMENT, false },
        { "execute ", FX_EXECUTE, true },
        { "parse ", FX_PARSE, true },
        { "bind ", FX_BIND, true },
    };
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        size_t n = strlen(forms[i].prefix);
        if (strncmp(m, forms[i].prefix, n) != 0)
            continue;
        *kind = forms[i].kind;
        if (!forms[i].named)
            return m + n;
        const char *colon = strstr(m + n, ": ");
        return colon ? colon + 2 : NULL;
    }
    return NULL;
}

static int one_file(const char *path, fx_callback cb, void *arg)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: cannot open\n", path);
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned lineno = 0;
    int rc = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        lineno++;
        json_error_t err;
        json_t *o = json_loadb(line, (size_t)n, 0, &err);
        if (!o || !json_is_object(o)) {
            fprintf(stderr, "%s:%u: not a JSON object: %s\n", path, lineno, err.text);
            json_decref(o);
            rc = -1;
            break;
        }
        const char *msg = json_string_value(json_object_get(o, "message"));
        const char *stmt = json_string_value(json_object_get(o, "statement"));
        json_t *qid = json_object_get(o, "query_id");
        const char *db = json_string_value(json_object_get(o, "dbname"));
        const char *app = json_string_value(json_object_get(o, "application_name"));
        struct fx_record r = { .file = path,
                               .line = lineno,
                               .query_id = json_is_integer(qid) ? json_integer_value(qid) : 0,
                               .db = db ? db : "",
                               .app = app ? app : "" };
        const char *sql = NULL;
        if (msg && strncmp(msg, "duration: ", 10) == 0) {
            char *end;
            r.ms = strtod(msg + 10, &end);
            if (strncmp(end, " ms  ", 5) == 0) {
                sql = statement_part(end + 5, &r.kind);
                r.has_duration = sql != NULL;
            }
        } else if (msg) {
            sql = statement_part(msg, &r.kind);
        }
        if (sql) {
            r.sql = sql;
            cb(&r, arg);
        }
        if (stmt) {
            r = (struct fx_record){ .file = path,
                                    .line = lineno,
                                    .kind = FX_CONTEXT,
                                    .query_id = r.query_id,
                                    .db = r.db,
                                    .sql = stmt };
            cb(&r, arg);
        }
        json_decref(o);
    }
    free(line);
    fclose(f);
    return rc;
}

int fixture_sql_foreach(const char *source_dir, fx_callback cb, void *arg)
{
    char pattern[4096];
    glob_t g;
    int files = 0;

    const char *dir = getenv("SIFT_FIXTURES_DIR");
    if (dir && *dir)
        snprintf(pattern, sizeof(pattern), "%s/pg15/*/postgresql.json", dir);
    else
        snprintf(pattern, sizeof(pattern), "%s/tests/fixtures/pg15/*/postgresql.json", source_dir);
    if (glob(pattern, 0, NULL, &g) != 0)
        return 0;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        if (one_file(g.gl_pathv[i], cb, arg) < 0) {
            globfree(&g);
            return -1;
        }
        files++;
    }
    globfree(&g);
    return files;
}
