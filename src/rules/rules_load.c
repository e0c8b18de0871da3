/* SPDX-License-Identifier: MIT */
/*
 * rules_load - rule files to struct rule: map every mapping through its field table,
 * then check what a table cannot express (kind/source/metric fit, dimensions, label
 * names, templates), reporting every problem with file:line:col and going on.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/clock.h"
#include "core/limits.h"
#include "core/xalloc.h"
#include "event.h"
#include "rules/rules_int.h"

void rule_set_init(struct rule_set *rs)
{
    memset(rs, 0, sizeof(*rs));
    arena_init(&rs->strings, 64 * 1024);
    sbuf_init(&rs->errors, 1u << 20);
    sbuf_init(&rs->warnings, 1u << 20);
}

void rule_set_release(struct rule_set *rs)
{
    free(rs->rules);
    free(rs->seen);
    arena_release(&rs->strings);
    sbuf_release(&rs->errors);
    sbuf_release(&rs->warnings);
    memset(rs, 0, sizeof(*rs));
}

const struct rule *rule_set_find(const struct rule_set *rs, const char *name)
{
    for (size_t i = 0; i < rs->n; i++)
        if (!strcmp(rs->rules[i].name, name))
            return &rs->rules[i];
    return NULL;
}

/* Loading context for one file. */
struct loader {
    struct rule_set *rs;
    struct ydoc *y;
    yaml_node_t *default_labels; /* defaults.labels of this file, or NULL */
};

static yaml_node_t *map_get(struct ydoc *y, yaml_node_t *map, const char *key, yaml_node_t **k)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *kn = ydoc_node(y, p->key);
        if (span_eq(ydoc_scalar(kn), span_cstr(key))) {
            if (k)
                *k = kn;
            return ydoc_node(y, p->value);
        }
    }
    return NULL;
}

/* The node to point an error about @key at: its value, else the mapping. */
static yaml_node_t *at(struct ydoc *y, yaml_node_t *map, const char *key)
{
    yaml_node_t *v = map_get(y, map, key, NULL);
    return v ? v : map;
}

static const char *dup_span(struct loader *L, struct span s)
{
    return arena_dup(&L->rs->strings, s.p ? s.p : "", s.len).p;
}

static bool is_name(const char *s, bool lower_only)
{
    if (!s || !*s ||
        !((*s >= 'a' && *s <= 'z') || (!lower_only && *s >= 'A' && *s <= 'Z') ||
          (!lower_only && *s == '_')))
        return false;
    for (const char *p = s + 1; *p; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
                  (!lower_only && *p >= 'A' && *p <= 'Z');
        if (!ok)
            return false;
    }
    return true;
}

static bool minutes_ok(int64_t us)
{
    return us >= 60 * USEC_PER_SEC && us % (60 * USEC_PER_SEC) == 0;
}

static void warn_at(struct loader *L, const yaml_node_t *n, const char *fmt, ...) SIFT_PRINTF(3, 4);
static void warn_at(struct loader *L, const yaml_node_t *n, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    for (char *c = msg; *c; c++) /* one warning per line, like errors */
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    L->rs->nwarnings++;
    if (sbuf_addf(&L->rs->warnings, "%s:%zu:%zu: warning: %s\n", L->y->path,
                  n ? n->start_mark.line + 1 : 1, n ? n->start_mark.column + 1 : 1, msg) < 0)
        return;
}

/* A runtime copy of rule_fields without the defaults that `defaults:` may override, so
 * ydoc_map leaves those members as the file's defaults put them. */
static const struct yfield *rule_fields_nodef(void)
{
    static struct yfield copy[64];
    static bool done;

    _Static_assert(sizeof(copy) / sizeof(copy[0]) >= 21, "room for the rule table");
    if (!done) {
        if (rule_nfields > ARRAY_SIZE(copy))
            BUG("rule field table has %zu entries", rule_nfields);
        for (size_t i = 0; i < rule_nfields; i++) {
            copy[i] = rule_fields[i];
            for (const char *const *k = rule_default_keys; *k; k++)
                if (!strcmp(*k, copy[i].name))
                    copy[i].def = NULL;
        }
        done = true;
    }
    return copy;
}

static const struct yfield *defaults_fields(size_t *n)
{
    static struct yfield sub[16];
    static size_t nsub;

    if (!nsub) {
        for (const char *const *k = rule_default_keys; *k; k++) {
            for (size_t i = 0; i < rule_nfields; i++) {
                if (strcmp(*k, rule_fields[i].name))
                    continue;
                if (nsub >= ARRAY_SIZE(sub))
                    BUG("too many default keys");
                sub[nsub++] = rule_fields[i];
            }
        }
    }
    *n = nsub;
    return sub;
}

/* Map a node with built-in defaults only (an empty document). */
static void builtin_defaults(struct loader *L, struct rule_raw *tmpl)
{
    struct ydoc empty;
    size_t n;
    const struct yfield *f = defaults_fields(&n);

    ydoc_load_mem(&empty, "<defaults>", "{}", 2);
    if (ydoc_map(&empty, ydoc_root(&empty), f, n, tmpl, &L->rs->strings))
        BUG("built-in rule defaults do not validate: %s", empty.errors.buf);
    ydoc_release(&empty);
}

/* Where an error about item @i of the list value @list points: the item itself when the
 * value is a sequence, else the value (a list given as one scalar). */
static yaml_node_t *list_item(struct loader *L, yaml_node_t *list, size_t i)
{
    if (list && list->type == YAML_SEQUENCE_NODE &&
        (size_t)(list->data.sequence.items.top - list->data.sequence.items.start) > i)
        return ydoc_node(L->y, list->data.sequence.items.start[i]);
    return list;
}

static void check_list_values(struct loader *L, yaml_node_t *where, enum rule_source src,
                              enum rule_dim d, const struct ylist *l)
{
    yaml_node_t *list = at(L->y, where, rule_dim_name(d));

    for (size_t i = 0; i < l->n; i++) {
        yaml_node_t *n = list_item(L, list, i);
        struct span v = span_cstr(l->v[i]);
        bool ok = true;
        const char *want = NULL;
        switch (d) {
        case DIM_SQLSTATE:
            ok = v.len == 5;
            for (size_t j = 0; ok && j < v.len; j++)
                ok = (v.p[j] >= '0' && v.p[j] <= '9') || (v.p[j] >= 'A' && v.p[j] <= 'Z');
            want = "five digits or upper-case letters, e.g. 40P01";
            break;
        case DIM_SQLSTATE_CLASS:
            ok = v.len == 2;
            for (size_t j = 0; ok && j < v.len; j++)
                ok = (v.p[j] >= '0' && v.p[j] <= '9') || (v.p[j] >= 'A' && v.p[j] <= 'Z');
            want = "two digits or upper-case letters, e.g. 40";
            break;
        case DIM_FINGERPRINT:
            ok = v.len == 16;
            for (size_t j = 0; ok && j < v.len; j++)
                ok = (v.p[j] >= '0' && v.p[j] <= '9') || (v.p[j] >= 'a' && v.p[j] <= 'f');
            want = "16 lower-case hex digits";
            break;
        case DIM_TYPE: {
            enum event_kind k;
            if (src == RSRC_PLANS) {
                ok = span_eq_lit(v, "plan_change");
                want = "plan_change, the only type of source plans";
                break;
            }
            ok = event_kind_from_name(v, &k);
            want = "an event kind such as deadlock, lock_wait, temp_file, auth_failure, "
                   "checkpoint (see INTERFACE.md)";
            break;
        }
        case DIM_SEVERITY: {
            enum event_severity s;
            ok = severity_from_name(v, &s);
            want = "a log severity: DEBUG, INFO, NOTICE, WARNING, LOG, ERROR, FATAL, PANIC";
            break;
        }
        default: ok = v.len > 0; want = "a non-empty name";
        }
        if (!ok)
            ydoc_error(L->y, n, "invalid %s '%s' in 'where' (expected %s)", rule_dim_name(d),
                       l->v[i], want);
    }
}

/* "2x", "1.5x", "2", ">= 2x" (the comparison is always >=). */
static bool parse_factor(const char *text, double *out)
{
    struct span s = span_trim(span_cstr(text));
    if (s.len >= 2 && s.p[0] == '>' && s.p[1] == '=')
        s = span_trim(span_make(s.p + 2, s.len - 2));
    if (s.len && (s.p[s.len - 1] == 'x' || s.p[s.len - 1] == 'X'))
        s.len--;
    char buf[32];
    if (!s.len || s.len >= sizeof(buf))
        return false;
    memcpy(buf, s.p, s.len);
    buf[s.len] = '\0';
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (*end || errno || !(v > 0) || v > 1e9)
        return false;
    *out = v;
    return true;
}

/* A per-event filter of `where:` (wait_ms, size_bytes, ...) from @raw (NULL: absent):
 * a comparison in @unit, at least 0 when @nonneg; else the error "'KEY' expects
 * @expected, not 'RAW'" at the key. */
static void where_cond(struct loader *L, yaml_node_t *wn, const char *key, const char *raw,
                       enum metric_unit unit, bool nonneg, const char *expected,
                       struct rule_cond *out)
{
    if (raw && (!rule_cond_parse(span_cstr(raw), unit, out) || (nonneg && out->value < 0)))
        ydoc_error(L->y, at(L->y, wn, key), "'%s' expects %s, not '%s'", key, expected, raw);
}

static void load_where(struct loader *L, struct rule *r, yaml_node_t *wn)
{
    struct where_raw w;

    memset(&w, 0, sizeof(w));
    if (!wn)
        return;
    /* A value of the wrong type is reported by ydoc_map(); the checks below still run,
     * on what did convert (every problem is reported, not the first). */
    (void)ydoc_map(L->y, wn, where_fields, where_nfields, &w, &L->rs->strings);
    /* Keys that do not belong to the rule's source. */
    for (yaml_node_pair_t *p = wn->data.mapping.pairs.start; p < wn->data.mapping.pairs.top; p++) {
        yaml_node_t *k = ydoc_node(L->y, p->key);
        struct span key = ydoc_scalar(k);
        for (size_t i = 0; i < where_nfields; i++) {
            if (!span_eq(key, span_cstr(where_fields[i].name)))
                continue;
            if (!(where_fields_meta[i].mask & SRC_BIT(r->source)))
                ydoc_error(L->y, k, "'where.%s' does not apply to source '%s'",
                           where_fields[i].name, rule_source_name(r->source));
        }
    }
    for (unsigned d = 0; d < DIM_COUNT; d++) {
        check_list_values(L, wn, r->source, (enum rule_dim)d, &w.in[d]);
        r->where.in[d].v = w.in[d].v;
        r->where.in[d].n = w.in[d].n;
    }
    yaml_node_t *steps = at(L->y, wn, "step");
    for (size_t i = 0; i < w.step.n; i++) {
        enum event_step st;
        if (event_step_from_name(span_cstr(w.step.v[i]), &st))
            r->where.steps |= 1u << st;
        else
            ydoc_error(L->y, list_item(L, steps, i),
                       "invalid step '%s' in 'where' (expected start or end)", w.step.v[i]);
    }
    if (w.min_calls < 0)
        ydoc_error(L->y, at(L->y, wn, "min_calls"), "'min_calls' must not be negative");
    if (w.min_total_ms < 0)
        ydoc_error(L->y, at(L->y, wn, "min_total_ms"), "'min_total_ms' must not be negative");
    r->where.min_calls = w.min_calls;
    r->where.min_total_ms = w.min_total_ms;
    where_cond(L, wn, "wait_ms", w.wait_ms, UNIT_MS, false, "a comparison like '> 5000' or '>= 5s'",
               &r->where.wait_ms);
    where_cond(L, wn, "size_bytes", w.size_bytes, UNIT_BYTES, false, "a comparison like '> 1GiB'",
               &r->where.size_bytes);
    where_cond(L, wn, "tuples_dead", w.tuples_dead, UNIT_COUNT, true,
               "a comparison with a count of at least 0, like '> 100000'", &r->where.tuples_dead);
    where_cond(L, wn, "setup_ms", w.setup_ms, UNIT_MS, true,
               "a comparison with a time of at least 0, like '> 500' or '> 1s'",
               &r->where.setup_ms);
    if (w.slower_by && !parse_factor(w.slower_by, &r->where.slower_by))
        ydoc_error(L->y, at(L->y, wn, "slower_by"),
                   "'slower_by' expects a factor above 0 like '2x' or '1.5x', not '%s'",
                   w.slower_by);
}

static void load_condition(struct loader *L, struct rule *r, yaml_node_t *map, yaml_node_t *cn)
{
    enum metric_unit unit = rule_metric_unit(r->metric);

    if (r->kind == RULE_BASELINE) {
        struct bcond_raw b;
        memset(&b, 0, sizeof(b));
        if (!cn) {
            ydoc_error(L->y, map, "kind 'baseline' needs a 'condition' mapping with 'ratio'");
            return;
        }
        if (ydoc_map(L->y, cn, bcond_fields, bcond_nfields, &b, &L->rs->strings))
            return;
        struct rule_cond rc;
        if (!rule_cond_parse(span_cstr(b.ratio), UNIT_COUNT, &rc) || rc.value <= 0)
            ydoc_error(L->y, at(L->y, cn, "ratio"),
                       "'ratio' expects a comparison with a positive number like '>= 2.0', not "
                       "'%s'",
                       b.ratio);
        r->ratio_op = rc.op;
        r->ratio_min = rc.value;
        struct rule_cond md;
        char buf[96];
        snprintf(buf, sizeof(buf), ">= %s", b.min_delta);
        if (!rule_cond_parse(span_cstr(buf), unit, &md))
            ydoc_error(L->y, at(L->y, cn, "min_delta"),
                       "'min_delta' expects a value in the metric's unit (%s), not '%s'",
                       unit == UNIT_MS      ? "a duration like 100ms, or milliseconds"
                       : unit == UNIT_BYTES ? "a size like 512MB"
                                            : "a number",
                       b.min_delta);
        r->min_delta = md.value;
        if (b.min_calls < 0 || b.baseline_min_calls < 0)
            ydoc_error(L->y, cn, "'min_calls' and 'baseline_min_calls' must not be negative");
        r->min_calls = b.min_calls;
        r->baseline_min_calls = b.baseline_min_calls;
        return;
    }
    if (r->kind == RULE_ABSENCE && !cn) {
        r->cond.op = CMP_LT;
        r->cond.value = 1;
        return;
    }
    if (!cn) {
        if (r->kind == RULE_THRESHOLD)
            ydoc_error(L->y, map, "kind 'threshold' needs a 'condition' such as '> 500'");
        return;
    }
    struct span s = ydoc_scalar(cn);
    if (!s.p) {
        ydoc_error(L->y, cn, "'condition' expects a comparison such as '> 500' for kind '%s'",
                   rule_kind_name(r->kind));
        return;
    }
    if (!rule_cond_parse(s, unit, &r->cond))
        ydoc_error(L->y, cn,
                   "'condition' expects an operator (>, >=, <, <=, ==, !=) and %s, not '%.*s'",
                   unit == UNIT_MS      ? "milliseconds or a duration (500, 2s)"
                   : unit == UNIT_BYTES ? "a size (512MB, 1GiB)"
                                        : "a number",
                   (int)s.len, s.p);
}

static void load_labels(struct loader *L, struct rule *r, yaml_node_t *defaults_n, yaml_node_t *n,
                        bool annotations)
{
    yaml_node_t *maps[2] = { defaults_n, n };
    struct rule_label *out = NULL;
    size_t cnt = 0, alloc = 0;
    int from[SIFT_MAX_RULE_LABELS];
    const char *what = annotations ? "annotations" : "labels";

    for (int m = 0; m < 2; m++) {
        yaml_node_t *map = maps[m];
        if (!map)
            continue;
        if (map->type != YAML_MAPPING_NODE) {
            ydoc_error(L->y, map, "'%s' expects a mapping of names to texts", what);
            continue;
        }
        for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
             p++) {
            yaml_node_t *k = ydoc_node(L->y, p->key), *v = ydoc_node(L->y, p->value);
            struct span ks = ydoc_scalar(k), vs = ydoc_scalar(v);
            if (!ks.p || !vs.p) {
                ydoc_error(L->y, ks.p ? v : k, "'%s' expects a mapping of names to texts", what);
                continue;
            }
            const char *key = dup_span(L, ks);
            enum rule_dim dim;
            if (!is_name(key, false)) {
                ydoc_error(L->y, k,
                           "invalid %s name '%s' (expected a letter or _, then letters, digits "
                           "or _)",
                           annotations ? "annotation" : "label", key);
                continue;
            }
            if (!annotations && (!strcmp(key, "rule") || !strcmp(key, "severity") ||
                                 rule_dim_from_name(ks, &dim))) {
                ydoc_error(L->y, k,
                           "label name '%s' is reserved (rule, severity and the dimension "
                           "names are set by pgsift)",
                           key);
                continue;
            }
            if (vs.len > SIFT_MAX_RULE_TEXT_BYTES) {
                ydoc_error(L->y, v, "'%s.%s' is longer than %u bytes", what, key,
                           SIFT_MAX_RULE_TEXT_BYTES);
                continue;
            }
            size_t i;
            for (i = 0; i < cnt; i++)
                if (!strcmp(out[i].key, key))
                    break;
            if (i < cnt && from[i] == m) {
                ydoc_error(L->y, k, "duplicate %s key '%s'", what, key);
                continue;
            }
            if (i == cnt) {
                if (cnt >= SIFT_MAX_RULE_LABELS) {
                    ydoc_error(L->y, k, "more than %u %s", SIFT_MAX_RULE_LABELS, what);
                    break;
                }
                XGROW(out, cnt + 1, alloc);
                cnt++;
            }
            from[i] = m;
            out[i].key = key;
            out[i].value = dup_span(L, vs);
        }
    }
    /* Into the arena, labels sorted by key (the canonical order of the identity). */
    struct rule_label *a = arena_alloc(&L->rs->strings, (cnt ? cnt : 1) * sizeof(*a));
    if (cnt)
        memcpy(a, out, cnt * sizeof(*a));
    free(out);
    if (!annotations) {
        for (size_t i = 1; i < cnt; i++)
            for (size_t j = i; j > 0 && strcmp(a[j - 1].key, a[j].key) > 0; j--) {
                struct rule_label t = a[j];
                a[j] = a[j - 1];
                a[j - 1] = t;
            }
        r->labels = a;
        r->nlabels = cnt;
    } else {
        r->annotations = a;
        r->nannotations = cnt;
    }
}

static bool tmpl_known_cb(void *ctx, struct span name)
{
    return rule_tmpl_var_known(ctx, name);
}

static void check_annotations(struct loader *L, struct rule *r, yaml_node_t *an)
{
    for (size_t i = 0; i < r->nannotations; i++) {
        struct sbuf errs;
        sbuf_init(&errs, 4096);
        if (tmpl_check(r->annotations[i].value, tmpl_known_cb, r, &errs)) {
            yaml_node_t *pos = at(L->y, an, r->annotations[i].key);
            const char *line = errs.buf;
            while (*line) {
                const char *nl = strchr(line, '\n');
                size_t len = nl ? (size_t)(nl - line) : strlen(line);
                ydoc_error(L->y, pos, "annotation '%s': %.*s", r->annotations[i].key, (int)len,
                           line);
                line += len + (nl ? 1 : 0);
            }
        }
        sbuf_release(&errs);
    }
}

static void load_group_by(struct loader *L, struct rule *r, const struct rule_raw *raw,
                          yaml_node_t *map)
{
    yaml_node_t *gn = at(L->y, map, "group_by");
    unsigned seen = 0;

    r->ngroup_by = 0;
    if (!raw->group_by.n) {
        /* Defaults that make sense per kind. */
        if (r->kind == RULE_NEW_FINGERPRINT || r->source == RSRC_PLANS) {
            r->group_by[r->ngroup_by++] = DIM_DATABASE;
            r->group_by[r->ngroup_by++] = DIM_FINGERPRINT;
        } else if (r->kind == RULE_ABSENCE) {
            r->group_by[r->ngroup_by++] = DIM_INPUT;
        }
        return;
    }
    for (size_t i = 0; i < raw->group_by.n; i++) {
        enum rule_dim d;
        struct span s = span_cstr(raw->group_by.v[i]);
        if (!rule_dim_from_name(s, &d) || !(rule_source_dims(r->source) & (1u << d))) {
            struct sbuf sb = SBUF_INIT;
            for (unsigned j = 0; j < DIM_COUNT; j++)
                if (rule_source_dims(r->source) & (1u << j))
                    if (sbuf_addstr(&sb, sb.len ? ", " : "") < 0 ||
                        sbuf_addstr(&sb, rule_dim_name((enum rule_dim)j)) < 0)
                        break;
            ydoc_error(L->y, gn, "cannot group source '%s' by '%s' (expected one of: %s)",
                       rule_source_name(r->source), raw->group_by.v[i], sb.buf);
            sbuf_release(&sb);
            continue;
        }
        if (seen & (1u << d)) {
            ydoc_error(L->y, gn, "'%s' appears twice in 'group_by'", raw->group_by.v[i]);
            continue;
        }
        seen |= 1u << d;
        r->group_by[r->ngroup_by++] = d;
    }
    if (r->kind == RULE_NEW_FINGERPRINT && !(seen & (1u << DIM_FINGERPRINT)))
        ydoc_error(L->y, gn, "kind 'new_fingerprint' must group by 'fingerprint'");
    if (r->source == RSRC_PLANS && !(seen & (1u << DIM_FINGERPRINT)))
        ydoc_error(L->y, gn, "source 'plans' must group by 'fingerprint' (one alert per query)");
    if (r->kind == RULE_ABSENCE && !(seen & (1u << DIM_INPUT)))
        ydoc_error(L->y, gn, "kind 'absence' must group by 'input'");
}

/* The rule's name: its shape, its length, and that no rule before has it (whatever else
 * is wrong with the rule: QA 28, a bad kind hid a bad name until it was mended). */
static void check_rule_name(struct loader *L, struct ydoc *y, yaml_node_t *map,
                            const struct rule *r)
{
    if (!r->name)
        return;
    if (!is_name(r->name, true))
        ydoc_error(y, at(y, map, "name"),
                   "invalid rule name '%s' (expected a lower-case letter, then lower-case "
                   "letters, digits or _)",
                   r->name);
    else if (strlen(r->name) > 64)
        ydoc_error(y, at(y, map, "name"), "rule name '%s' is longer than 64 characters", r->name);
    const struct rule_name_seen *dup = NULL;
    for (size_t i = 0; i < L->rs->nseen && !dup; i++)
        if (!strcmp(L->rs->seen[i].name, r->name))
            dup = &L->rs->seen[i];
    if (dup) {
        ydoc_error(y, at(y, map, "name"), "duplicate rule name '%s' (first defined at %s:%u:%u)",
                   r->name, dup->file, dup->line, dup->col);
    } else {
        XGROW(L->rs->seen, L->rs->nseen + 1, L->rs->seen_alloc);
        L->rs->seen[L->rs->nseen++] = (struct rule_name_seen){ r->name, r->file, r->line, r->col };
    }
}

static void load_rule(struct loader *L, yaml_node_t *map, const struct rule_raw *tmpl)
{
    struct rule_raw raw = *tmpl;
    struct rule r;
    struct ydoc *y = L->y;
    unsigned errors_before = y->nerrors;

    memset(&r, 0, sizeof(r));
    raw.labels = NULL;
    if (!map || map->type != YAML_MAPPING_NODE) {
        ydoc_error(y, map, "a rule must be a mapping (name, kind, ...)");
        return;
    }
    r.file = y->path;
    r.line = (unsigned)map->start_mark.line + 1;
    r.col = (unsigned)map->start_mark.column + 1;
    ydoc_map(y, map, rule_fields_nodef(), rule_nfields, &raw, &L->rs->strings);
    r.name = raw.name;
    check_rule_name(L, y, map, &r);
    if (!raw.kind)
        return; /* missing or invalid kind: reported; nothing else can be checked */
    rule_kind_from_name(span_cstr(raw.kind), &r.kind);
    r.description = raw.description;
    r.enabled = raw.enabled;

    /* Keys that do not apply to this kind. */
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = ydoc_node(y, p->key);
        struct span key = ydoc_scalar(k);
        for (size_t i = 0; i < rule_nfields; i++) {
            if (!span_eq(key, span_cstr(rule_fields[i].name)))
                continue;
            if (rule_fields_meta[i].mask & KIND_BIT(r.kind))
                break;
            struct sbuf sb = SBUF_INIT;
            for (unsigned j = 0; j < RULE_KIND_COUNT; j++)
                if (rule_fields_meta[i].mask & KIND_BIT(j))
                    if (sbuf_addstr(&sb, sb.len ? ", " : "") < 0 ||
                        sbuf_addstr(&sb, rule_kind_name((enum rule_kind)j)) < 0)
                        break;
            ydoc_error(y, k, "'%s' does not apply to kind '%s' (only to: %s)", rule_fields[i].name,
                       raw.kind, sb.buf);
            sbuf_release(&sb);
        }
    }

    /* Source and metric. */
    r.source = rule_kind_default_source(r.kind);
    if (raw.source)
        rule_source_from_name(span_cstr(raw.source), &r.source);
    if (!(rule_kind_sources(r.kind) & SRC_BIT(r.source))) {
        struct sbuf sb = SBUF_INIT;
        for (unsigned j = 0; j < RSRC_COUNT; j++)
            if (rule_kind_sources(r.kind) & SRC_BIT(j))
                if (sbuf_addstr(&sb, sb.len ? ", " : "") < 0 ||
                    sbuf_addstr(&sb, rule_source_name((enum rule_source)j)) < 0)
                    break;
        ydoc_error(y, at(y, map, "source"),
                   "kind '%s' cannot read source '%s' (expected one of: %s)", raw.kind, raw.source,
                   sb.buf);
        sbuf_release(&sb);
    }
    if (raw.metric) {
        rule_metric_from_name(span_cstr(raw.metric), &r.metric);
        if ((rule_kind_sources(r.kind) & SRC_BIT(r.source)) &&
            !(rule_metric_sources(r.metric) & SRC_BIT(r.source))) {
            struct sbuf sb = SBUF_INIT;
            for (unsigned m = 0; m < MET_COUNT_ALL; m++)
                if (rule_metric_sources((enum rule_metric)m) & SRC_BIT(r.source))
                    if (sbuf_addstr(&sb, sb.len ? ", " : "") < 0 ||
                        sbuf_addstr(&sb, rule_metric_name((enum rule_metric)m)) < 0)
                        break;
            ydoc_error(y, at(y, map, "metric"),
                       "metric '%s' does not exist for source '%s' (expected one of: %s)",
                       raw.metric, rule_source_name(r.source), sb.buf);
            sbuf_release(&sb);
        }
    } else if ((r.kind == RULE_THRESHOLD || r.kind == RULE_BASELINE) &&
               !map_get(y, map, "metric", NULL)) {
        /* (a 'metric' that is not one was said where it is written) */
        ydoc_error(y, map, "kind '%s' needs a 'metric'", raw.kind);
    } else if (r.kind == RULE_ABSENCE) {
        r.metric = MET_LINES;
    } else if (r.kind == RULE_NEW_FINGERPRINT) {
        r.metric = MET_CALLS;
    } else {
        r.metric = MET_COUNT;
    }

    /* Times. */
    r.window_us = raw.window;
    r.every_us = raw.every;
    r.for_us = raw.for_;
    r.lookback_us = raw.lookback;
    r.warmup_us = raw.warmup;
    if (r.kind == RULE_EVENT)
        r.window_us = r.every_us; /* the events since the previous evaluation */
    if (!minutes_ok(r.every_us))
        ydoc_error(y, at(y, map, "every"), "'every' must be a whole number of minutes (1m, 5m)");
    if (r.kind != RULE_EVENT && !minutes_ok(r.window_us))
        ydoc_error(y, at(y, map, "window"), "'window' must be a whole number of minutes (1m, 1h)");
    if (r.window_us > SIFT_MAX_RULE_WINDOW_US)
        ydoc_error(y, at(y, map, "window"), "'window' is longer than %d days",
                   (int)(SIFT_MAX_RULE_WINDOW_US / (86400 * USEC_PER_SEC)));
    if (r.kind != RULE_EVENT && minutes_ok(r.every_us) && r.window_us < r.every_us)
        warn_at(L, at(y, map, "window"),
                "rule '%s': 'window' is shorter than 'every', so some minutes are never looked at",
                r.name ? r.name : "?");
    if (r.kind == RULE_EVENT && r.source != RSRC_PLANS && map_get(y, map, "lookback", NULL))
        ydoc_error(y, at(y, map, "lookback"),
                   "'lookback' applies to kind 'event' only with source 'plans'");
    if ((r.kind == RULE_NEW_FINGERPRINT || r.source == RSRC_PLANS) &&
        (r.lookback_us <= 0 || r.lookback_us > SIFT_MAX_RULE_BASELINE_US))
        ydoc_error(y, at(y, map, "lookback"), "'lookback' must be between 1m and %d days",
                   (int)(SIFT_MAX_RULE_BASELINE_US / (86400 * USEC_PER_SEC)));
    /* keep_firing_for counts, as Prometheus's does, from the first evaluation the condition
     * fails: one `every` after the last that held (every boundary is evaluated). */
    r.hold_us = (r.kind == RULE_EVENT || r.kind == RULE_NEW_FINGERPRINT) ? raw.resolve_after
                : raw.keep_firing_for > 0 ? raw.keep_firing_for + r.every_us
                                          : 0;
    if (r.kind == RULE_BASELINE) {
        struct baseline_raw b;
        yaml_node_t *bn = raw.baseline;
        memset(&b, 0, sizeof(b));
        b.exclude_recent = -1;
        if (bn) {
            ydoc_map(y, bn, baseline_fields, baseline_nfields, &b, &L->rs->strings);
        } else {
            b.window = 7 * 86400 * USEC_PER_SEC;
        }
        r.baseline_window_us = b.window;
        r.baseline_exclude_us = b.exclude_recent < 0 ? r.window_us : b.exclude_recent;
        if (!minutes_ok(r.baseline_window_us) || r.baseline_window_us > SIFT_MAX_RULE_BASELINE_US)
            ydoc_error(y, bn ? at(y, bn, "window") : map,
                       "'baseline.window' must be whole minutes, at most %d days",
                       (int)(SIFT_MAX_RULE_BASELINE_US / (86400 * USEC_PER_SEC)));
        if (r.baseline_exclude_us % (60 * USEC_PER_SEC))
            ydoc_error(y, bn ? at(y, bn, "exclude_recent") : map,
                       "'baseline.exclude_recent' must be whole minutes");
    }

    /* Severity. */
    alert_severity_from_name(span_cstr(raw.severity), &r.severity);

    load_group_by(L, &r, &raw, map);
    load_where(L, &r, raw.where);
    if ((r.metric == MET_P50_MS || r.metric == MET_P95_MS || r.metric == MET_P99_MS) &&
        (rule_metric_sources(r.metric) & SRC_BIT(r.source))) { /* (else said above) */
        /* Percentiles are kept per statement (mergeable sketches per fingerprint and
         * minute); across statements or several databases they cannot be added up. */
        unsigned mask = 0;
        for (size_t i = 0; i < r.ngroup_by; i++)
            mask |= 1u << r.group_by[i];
        if (!(mask & (1u << DIM_FINGERPRINT)))
            ydoc_error(y, at(y, map, "group_by"),
                       "metric '%s' needs 'group_by' to include fingerprint (percentiles are "
                       "kept per statement)",
                       rule_metric_name(r.metric));
        static const enum rule_dim split[] = { DIM_DATABASE, DIM_USER };
        for (size_t i = 0; i < ARRAY_SIZE(split); i++)
            if (r.where.in[split[i]].n > 1 && !(mask & (1u << split[i])))
                ydoc_error(y, at(y, map, "group_by"),
                           "metric '%s' with several 'where.%s' values needs 'group_by' to "
                           "include %s",
                           rule_metric_name(r.metric), rule_dim_name(split[i]),
                           rule_dim_name(split[i]));
    }
    load_condition(L, &r, map, raw.condition);
    if (r.kind == RULE_EVENT && !raw.where && r.source == RSRC_PLANS)
        warn_at(L, map, "rule '%s' has no 'where': every plan change matches, faster or slower",
                r.name ? r.name : "?");
    else if (r.kind == RULE_EVENT && !raw.where)
        warn_at(L, map, "rule '%s' has no 'where': every %s record matches", r.name ? r.name : "?",
                rule_source_name(r.source));
    load_labels(L, &r, L->default_labels, raw.labels, false);
    load_labels(L, &r, NULL, raw.annotations, true);
    check_annotations(L, &r, raw.annotations);

    if (raw.notify.n) {
        r.notify = arena_alloc(&L->rs->strings, raw.notify.n * sizeof(*r.notify));
        for (size_t i = 0; i < raw.notify.n; i++) {
            if (!is_name(raw.notify.v[i], false) && !strchr(raw.notify.v[i], '-'))
                ydoc_error(y, at(y, map, "notify"), "invalid receiver name '%s'", raw.notify.v[i]);
            r.notify[i] = raw.notify.v[i];
        }
        r.nnotify = raw.notify.n;
    }

    if (y->nerrors != errors_before)
        return;
    if (L->rs->n >= SIFT_MAX_RULES) {
        ydoc_error(y, map, "more than %u rules", SIFT_MAX_RULES);
        return;
    }
    XGROW(L->rs->rules, L->rs->n + 1, L->rs->alloc);
    L->rs->rules[L->rs->n++] = r;
}

struct msg_line {
    unsigned long line, col;
    size_t seq;
    struct span text;
};

static int msg_line_cmp(const void *a, const void *b)
{
    const struct msg_line *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->col != y->col)
        return x->col < y->col ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Append one file's messages ("path:line:col: ...\n") in file order, so a reader fixes
 * them top to bottom (the checks run field by field, not line by line). */
static void append_sorted(struct sbuf *dst, const struct sbuf *src, const char *path)
{
    struct msg_line *v = NULL;
    size_t n = 0, alloc = 0, plen = strlen(path);
    const char *p = src->buf;

    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
        XGROW(v, n + 1, alloc);
        v[n] = (struct msg_line){ 0, 0, n, span_make(p, len) };
        if (len > plen + 1 && !strncmp(p, path, plen) && p[plen] == ':') {
            char *end;
            v[n].line = strtoul(p + plen + 1, &end, 10);
            if (*end == ':')
                v[n].col = strtoul(end + 1, NULL, 10);
        }
        n++;
        p += len;
    }
    if (n)
        qsort(v, n, sizeof(*v), msg_line_cmp);
    for (size_t i = 0; i < n; i++)
        if (sbuf_addspan(dst, v[i].text) < 0)
            break;
    free(v);
}

static void load_doc(struct rule_set *rs, struct ydoc *y)
{
    struct loader L = { .rs = rs, .y = y };
    struct rules_file_raw f;
    struct rule_raw tmpl;
    yaml_node_t *root = ydoc_root(y);

    rs->nfiles++;
    memset(&f, 0, sizeof(f));
    memset(&tmpl, 0, sizeof(tmpl));
    if (y->nerrors)
        goto out;
    if (!root) {
        ydoc_error(y, NULL, "empty file (expected 'version', 'defaults' and 'rules')");
        goto out;
    }
    /* Pre-fill members the rule table never defaults, so "absent" is visible. */
    tmpl.enabled = true;
    builtin_defaults(&L, &tmpl);
    if (ydoc_map(y, root, rules_file_fields, rules_file_nfields, &f, &rs->strings) && !f.rules &&
        !f.defaults)
        goto out;
    yaml_node_t *vn = at(y, root, "version");
    int64_t vv;
    /* (a version that is no integer was reported by ydoc_map()) */
    if (f.version != 1 &&
        (!vn || (vn->type == YAML_SCALAR_NODE && span_to_i64(ydoc_scalar(vn), &vv))))
        ydoc_error(y, vn, "unsupported version %lld (expected 1)", (long long)f.version);
    if (f.defaults) {
        size_t n;
        const struct yfield *df = defaults_fields(&n);
        ydoc_map(y, f.defaults, df, n, &tmpl, &rs->strings);
        L.default_labels = tmpl.labels;
        if (L.default_labels && L.default_labels->type != YAML_MAPPING_NODE) {
            ydoc_error(y, L.default_labels, "'labels' expects a mapping of names to texts");
            L.default_labels = NULL;
        }
    }
    if (f.rules && f.rules->type != YAML_SEQUENCE_NODE) {
        ydoc_error(y, f.rules, "'rules' expects a list of rules");
    } else if (f.rules) {
        for (yaml_node_item_t *it = f.rules->data.sequence.items.start;
             it < f.rules->data.sequence.items.top; it++)
            load_rule(&L, ydoc_node(y, *it), &tmpl);
        if (f.rules->data.sequence.items.top == f.rules->data.sequence.items.start)
            warn_at(&L, f.rules, "no rules in this file");
    }
out:
    rs->nerrors += y->nerrors;
    append_sorted(&rs->errors, &y->errors, y->path);
}

/* Rule strings must outlive the YAML document: ydoc_map copies scalars into the arena,
 * and nothing of the document is kept after load_doc(). */
void rules_load_mem(struct rule_set *rs, const char *name, const char *buf, size_t len)
{
    struct ydoc y;

    ydoc_load_mem(&y, arena_dup(&rs->strings, name, strlen(name)).p, buf, len);
    load_doc(rs, &y);
    ydoc_release(&y);
}

static bool rule_file_name(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' &&
           ((n > 5 && !strcmp(name + n - 5, ".yaml")) || (n > 4 && !strcmp(name + n - 4, ".yml")));
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int rules_load_path(struct rule_set *rs, const char *path, struct diag *d)
{
    struct stat st;
    if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
        return rules_load_file(rs, path, d) < 0 ? -1 : 1;
    DIR *dh = opendir(path);
    if (!dh)
        return diag_set(d, DIAG_IO, "cannot read rule directory '%s': %s", path, strerror(errno));
    char **names = NULL;
    size_t n = 0, alloc = 0;
    struct dirent *de;
    while ((de = readdir(dh)) != NULL) {
        if (!rule_file_name(de->d_name))
            continue;
        XGROW(names, n + 1, alloc);
        names[n++] = xstrdup(de->d_name);
    }
    closedir(dh);
    if (n > 1)
        qsort(names, n, sizeof(*names), name_cmp);
    int rc = (int)n;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(path) + strlen(names[i]) + 2;
        char *full = xmalloc(len);
        bool slash = path[0] && path[strlen(path) - 1] == '/';
        snprintf(full, len, "%s%s%s", path, slash ? "" : "/", names[i]);
        if (rc >= 0 && rules_load_file(rs, full, d) < 0)
            rc = -1;
        free(full);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (rc == 0)
        return diag_set(d, DIAG_USAGE, "rule directory '%s' holds no rule files (*.yaml, *.yml)",
                        path);
    return rc;
}

int rules_load_file(struct rule_set *rs, const char *path, struct diag *d)
{
    struct ydoc y;

    if (ydoc_load(&y, arena_dup(&rs->strings, path, strlen(path)).p, SIFT_MAX_RULE_FILE_BYTES, d) <
        0) {
        ydoc_release(&y);
        return -1;
    }
    load_doc(rs, &y);
    ydoc_release(&y);
    return 0;
}
