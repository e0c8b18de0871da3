/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/xalloc.h"
#include "core/ydoc.h"

static void verror_at(struct ydoc *y, size_t line, size_t col, const char *fmt, va_list ap)
    SIFT_PRINTF(4, 0);
static void verror_at(struct ydoc *y, size_t line, size_t col, const char *fmt, va_list ap)
{
    char msg[512], esc[4 * sizeof(msg)];
    size_t o = 0;

    vsnprintf(msg, sizeof(msg), fmt, ap);
    /* One error per line: control characters of quoted values (a "\n" escape in a
     * double-quoted YAML scalar) are written as escapes, never as themselves. */
    for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
        if (*p >= 0x20 && *p != 0x7f)
            esc[o++] = (char)*p;
        else if (*p == '\n' || *p == '\t' || *p == '\r')
            o += (size_t)snprintf(esc + o, sizeof(esc) - o, "\\%c",
                                  *p == '\n'   ? 'n'
                                  : *p == '\t' ? 't'
                                               : 'r');
        else
            o += (size_t)snprintf(esc + o, sizeof(esc) - o, "\\x%02x", *p);
    }
    esc[o] = '\0';
    y->nerrors++;
    /* A full error buffer still counts the error; only its text is dropped. */
    if (sbuf_addf(&y->errors, "%s:%zu:%zu: %s\n", y->path, line, col, esc) < 0)
        return;
}

static void error_at(struct ydoc *y, size_t line, size_t col, const char *fmt, ...)
    SIFT_PRINTF(4, 5);
static void error_at(struct ydoc *y, size_t line, size_t col, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    verror_at(y, line, col, fmt, ap);
    va_end(ap);
}

void ydoc_error(struct ydoc *y, const yaml_node_t *n, const char *fmt, ...)
{
    va_list ap;
    size_t line = n ? n->start_mark.line + 1 : 1, col = n ? n->start_mark.column + 1 : 1;

    va_start(ap, fmt);
    verror_at(y, line, col, fmt, ap);
    va_end(ap);
}

static void init(struct ydoc *y, const char *name)
{
    memset(y, 0, sizeof(*y));
    y->path = name;
    sbuf_init(&y->errors, 64 * 1024);
}

void ydoc_load_mem(struct ydoc *y, const char *name, const char *buf, size_t len)
{
    yaml_parser_t parser;

    init(y, name);
    if (!yaml_parser_initialize(&parser)) {
        error_at(y, 1, 1, "cannot initialise the YAML parser");
        return;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    if (!yaml_parser_load(&parser, &y->doc)) {
        error_at(y, parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                 "invalid YAML: %s%s%s", parser.problem ? parser.problem : "syntax error",
                 parser.context ? " " : "", parser.context ? parser.context : "");
    } else {
        y->loaded = true;
    }
    yaml_parser_delete(&parser);
}

int ydoc_load(struct ydoc *y, const char *path, size_t max_bytes, struct diag *d)
{
    struct sbuf buf;
    char chunk[8192];
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    init(y, path);
    if (fd < 0)
        return diag_errno(d, DIAG_IO, errno, "cannot open '%s'", path);
    sbuf_init(&buf, max_bytes);
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            sbuf_release(&buf);
            return diag_errno(d, DIAG_IO, e, "cannot read '%s'", path);
        }
        if (n == 0)
            break;
        if (sbuf_add(&buf, chunk, (size_t)n) < 0) {
            close(fd);
            sbuf_release(&buf);
            error_at(y, 1, 1, "file is larger than %zu bytes", max_bytes);
            return 0;
        }
    }
    close(fd);
    struct ydoc tmp;
    ydoc_load_mem(&tmp, path, buf.buf, buf.len);
    sbuf_release(&y->errors);
    *y = tmp;
    sbuf_release(&buf);
    return 0;
}

void ydoc_release(struct ydoc *y)
{
    if (y->loaded)
        yaml_document_delete(&y->doc);
    y->loaded = false;
    sbuf_release(&y->errors);
}

yaml_node_t *ydoc_root(struct ydoc *y)
{
    return y->loaded ? yaml_document_get_root_node(&y->doc) : NULL;
}

yaml_node_t *ydoc_node(struct ydoc *y, int index)
{
    return y->loaded ? yaml_document_get_node(&y->doc, index) : NULL;
}

struct span ydoc_scalar(const yaml_node_t *n)
{
    if (!n || n->type != YAML_SCALAR_NODE)
        return SPAN_NULL;
    return span_make((const char *)n->data.scalar.value, n->data.scalar.length);
}

bool ydoc_parse_bool(struct span s, bool *b)
{
    static const char *const yes[] = { "true", "yes", "on" };
    static const char *const no[] = { "false", "no", "off" };

    for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
        if (span_eq_icase(s, span_cstr(yes[i]))) {
            *b = true;
            return true;
        }
        if (span_eq_icase(s, span_cstr(no[i]))) {
            *b = false;
            return true;
        }
    }
    return false;
}

/* Split "512MB" into number and unit; the number may be fractional ("1.5h"). */
static bool number_unit(struct span s, double *num, struct span *unit)
{
    size_t i = 0;

    while (i < s.len && ((s.p[i] >= '0' && s.p[i] <= '9') || s.p[i] == '.'))
        i++;
    if (i == 0 || !span_to_double(span_sub(s, 0, i), num) || *num < 0)
        return false;
    *unit = span_trim(span_sub(s, i, s.len - i));
    return true;
}

static bool scaled(double num, double scale, int64_t *out)
{
    double v = num * scale;

    if (!isfinite(v) || v > 9.0e18)
        return false;
    *out = (int64_t)llround(v);
    return true;
}

bool ydoc_parse_duration(struct span s, int64_t *us)
{
    static const struct {
        const char *unit;
        double scale;
    } units[] = {
        { "us", 1 },      { "ms", 1e3 },     { "s", 1e6 },
        { "m", 60e6 },    { "min", 60e6 },   { "h", 3600e6 },
        { "d", 86400e6 }, { "w", 604800e6 }, { "y", 365 * 86400e6 },
    }; /* (y: 365 days, as in Prometheus; INTERFACE.md's example has `days: 2y`) */
    double num;
    struct span unit;

    if (!number_unit(span_trim(s), &num, &unit) || unit.len == 0)
        return false; /* a bare number is ambiguous: require a unit */
    for (size_t i = 0; i < ARRAY_SIZE(units); i++)
        if (span_eq(unit, span_cstr(units[i].unit)))
            return scaled(num, units[i].scale, us);
    return false;
}

bool ydoc_parse_size(struct span s, int64_t *bytes)
{
    static const struct {
        const char *unit;
        double scale;
    } units[] = {
        { "", 1 },
        { "B", 1 },
        { "kB", 1024.0 },
        { "KB", 1024.0 },
        { "MB", 1024.0 * 1024 },
        { "GB", 1024.0 * 1024 * 1024 },
        { "TB", 1024.0 * 1024 * 1024 * 1024 },
        { "KiB", 1024.0 },
        { "MiB", 1024.0 * 1024 },
        { "GiB", 1024.0 * 1024 * 1024 },
        { "TiB", 1024.0 * 1024 * 1024 * 1024 },
    };
    double num;
    struct span unit;

    if (!number_unit(span_trim(s), &num, &unit))
        return false;
    for (size_t i = 0; i < ARRAY_SIZE(units); i++)
        if (span_eq(unit, span_cstr(units[i].unit)))
            return scaled(num, units[i].scale, bytes);
    return false;
}

static const char *type_name(enum yfield_type t)
{
    switch (t) {
    case YF_STRING: return "string";
    case YF_BOOL: return "boolean";
    case YF_INT: return "integer";
    case YF_NUMBER: return "number";
    case YF_DURATION: return "duration";
    case YF_SIZE: return "size";
    case YF_CHOICE: return "one of";
    case YF_STRING_LIST: return "list of strings";
    case YF_NODE: return "mapping or list";
    }
    return "?";
}

static void choices_text(struct sbuf *sb, const struct yfield *f)
{
    for (const char *const *c = f->choices; c && *c; c++)
        if (sbuf_addstr(sb, c == f->choices ? "" : ", ") < 0 || sbuf_addstr(sb, *c) < 0)
            return;
}

static const char *dup_str(struct arena *a, struct span s)
{
    return arena_dup(a, s.p ? s.p : "", s.len).p;
}

/* Convert one scalar text for @f into @out. Returns false (and records an error at @n)
 * when the value does not fit the type. */
static bool convert(struct ydoc *y, const yaml_node_t *n, struct span v, const struct yfield *f,
                    char *out, struct arena *strings)
{
    void *dst = out + f->offset;

    switch (f->type) {
    case YF_STRING: *(const char **)dst = dup_str(strings, v); return true;
    case YF_BOOL:
        if (ydoc_parse_bool(v, (bool *)dst))
            return true;
        ydoc_error(y, n, "'%s' expects true or false, not '%.*s'", f->name, (int)v.len, v.p);
        return false;
    case YF_INT:
        if (span_to_i64(v, (int64_t *)dst))
            return true;
        ydoc_error(y, n, "'%s' expects an integer, not '%.*s'", f->name, (int)v.len, v.p);
        return false;
    case YF_NUMBER:
        if (span_to_double(v, (double *)dst))
            return true;
        ydoc_error(y, n, "'%s' expects a number, not '%.*s'", f->name, (int)v.len, v.p);
        return false;
    case YF_DURATION:
        if (ydoc_parse_duration(v, (int64_t *)dst))
            return true;
        ydoc_error(y, n, "'%s' expects a duration like 30s, 5m, 1h, 7d or 2y, not '%.*s'", f->name,
                   (int)v.len, v.p);
        return false;
    case YF_SIZE:
        if (ydoc_parse_size(v, (int64_t *)dst))
            return true;
        ydoc_error(y, n, "'%s' expects a size like 512MB or 1GiB, not '%.*s'", f->name, (int)v.len,
                   v.p);
        return false;
    case YF_CHOICE:
        for (const char *const *c = f->choices; c && *c; c++) {
            if (span_eq(v, span_cstr(*c))) {
                *(const char **)dst = *c;
                return true;
            }
        }
        {
            struct sbuf sb = SBUF_INIT;
            choices_text(&sb, f);
            ydoc_error(y, n, "invalid value '%.*s' for '%s' (expected one of: %s)", (int)v.len, v.p,
                       f->name, sb.buf);
            sbuf_release(&sb);
        }
        return false;
    case YF_STRING_LIST: {
        struct ylist *l = dst;
        l->v = arena_alloc(strings, sizeof(*l->v));
        l->v[0] = dup_str(strings, v);
        l->n = 1;
        return true;
    }
    case YF_NODE: break;
    }
    BUG("convert() on field type %d", (int)f->type);
}

static void set_value(struct ydoc *y, yaml_node_t *n, const struct yfield *f, char *out,
                      struct arena *strings)
{
    if (f->type == YF_NODE) {
        *(yaml_node_t **)(out + f->offset) = n;
        return;
    }
    if (f->type == YF_STRING_LIST && n->type == YAML_SEQUENCE_NODE) {
        struct ylist *l = (struct ylist *)(out + f->offset);
        size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
        l->v = arena_alloc(strings, (count ? count : 1) * sizeof(*l->v));
        l->n = 0;
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
             it++) {
            yaml_node_t *item = ydoc_node(y, *it);
            if (!item || item->type != YAML_SCALAR_NODE) {
                ydoc_error(y, item ? item : n, "'%s' expects a list of strings", f->name);
                continue;
            }
            l->v[l->n++] = dup_str(strings, ydoc_scalar(item));
        }
        return;
    }
    if (n->type != YAML_SCALAR_NODE) {
        const char *got = n->type == YAML_MAPPING_NODE ? "mapping" : "list";
        if (f->type == YF_CHOICE) {
            struct sbuf sb = SBUF_INIT;
            choices_text(&sb, f);
            ydoc_error(y, n, "'%s' expects one of %s, not a %s", f->name, sb.buf, got);
            sbuf_release(&sb);
        } else {
            ydoc_error(y, n, "'%s' expects a %s, not a %s", f->name, type_name(f->type), got);
        }
        return;
    }
    convert(y, n, ydoc_scalar(n), f, out, strings);
}

unsigned ydoc_map(struct ydoc *y, yaml_node_t *map, const struct yfield *fields, size_t nfields,
                  void *out, struct arena *strings)
{
    unsigned before = y->nerrors;
    unsigned char seen[256] = { 0 };

    if (nfields > sizeof(seen))
        BUG("field table of %zu entries", nfields);
    if (!map || map->type != YAML_MAPPING_NODE) {
        ydoc_error(y, map, "expected a mapping of keys to values");
        return y->nerrors - before;
    }
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = ydoc_node(y, p->key), *v = ydoc_node(y, p->value);
        struct span key = ydoc_scalar(k);
        size_t i;

        if (!k || !v)
            continue;
        for (i = 0; i < nfields; i++)
            if (span_eq(key, span_cstr(fields[i].name)))
                break;
        if (i == nfields) {
            struct sbuf sb = SBUF_INIT;
            for (size_t j = 0; j < nfields; j++)
                if (sbuf_addstr(&sb, j ? ", " : "") < 0 || sbuf_addstr(&sb, fields[j].name) < 0)
                    break;
            ydoc_error(y, k, "unknown key '%.*s' (expected one of: %s)", (int)key.len,
                       key.p ? key.p : "", sb.buf);
            sbuf_release(&sb);
            continue;
        }
        if (seen[i]++) {
            ydoc_error(y, k, "duplicate key '%s'", fields[i].name);
            continue;
        }
        set_value(y, v, &fields[i], out, strings);
    }
    for (size_t i = 0; i < nfields; i++) {
        const struct yfield *f = &fields[i];
        if (seen[i])
            continue;
        if (f->required)
            ydoc_error(y, map, "missing required key '%s'", f->name);
        else if (f->def && f->type != YF_NODE &&
                 !convert(y, map, span_cstr(f->def), f, out, strings))
            BUG("default '%s' of '%s' does not parse", f->def, f->name);
    }
    return y->nerrors - before;
}

void ydoc_fields_markdown(FILE *out, const struct yfield *fields, size_t nfields)
{
    fprintf(out, "| key | type | required | default | description |\n|---|---|---|---|---|\n");
    for (size_t i = 0; i < nfields; i++) {
        const struct yfield *f = &fields[i];
        struct sbuf sb = SBUF_INIT;
        if (f->type == YF_CHOICE)
            choices_text(&sb, f);
        fprintf(out, "| `%s` | %s%s%s | %s | %s%s%s | %s |\n", f->name, type_name(f->type),
                sb.len ? ": " : "", sb.buf, f->required ? "yes" : "no", f->def ? "`" : "",
                f->def ? f->def : "", f->def ? "`" : "", f->help ? f->help : "");
        sbuf_release(&sb);
    }
}

yaml_node_t *ydoc_map_get(struct ydoc *y, yaml_node_t *map, struct span key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++)
        if (span_eq(ydoc_scalar(ydoc_node(y, p->key)), key))
            return ydoc_node(y, p->value);
    return NULL;
}
