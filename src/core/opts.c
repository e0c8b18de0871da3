/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/opts.h"
#include "core/sbuf.h"

#define OPTS_MAX 64 /* options of one command noted for repetition */

static void list_valid(struct sbuf *sb, const struct opt *opts)
{
    bool first = true;

    for (const struct opt *o = opts; o->type != OPT_END; o++) {
        if (!o->long_name)
            continue;
        if (sbuf_addstr(sb, first ? "--" : ", --") < 0 || sbuf_addstr(sb, o->long_name) < 0)
            return;
        first = false;
    }
    if (first && sbuf_addstr(sb, "(this command takes no options)") < 0)
        return;
}

static int unknown(const struct opt *opts, const char *arg, struct diag *d)
{
    struct sbuf sb = SBUF_INIT;

    list_valid(&sb, opts);
    /* pgsift's own options go before the command ("pgsift --db X ingest ..."): say so
     * when one is given after it */
    static const char *const global[] = { "--db", "--quiet", "--verbose", "-q", "-v" };
    const char *g = NULL;
    for (size_t i = 0; i < sizeof(global) / sizeof(global[0]) && !g; i++) {
        size_t n = strlen(global[i]);
        if (!strncmp(arg, global[i], n) && (arg[n] == '\0' || arg[n] == '='))
            g = global[i];
    }
    if (g)
        diag_set(d, DIAG_USAGE,
                 "'%s' is an option of pgsift itself: put it before the command (pgsift %s%s "
                 "COMMAND ...)",
                 g, g, !strcmp(g, "--db") ? " PATH" : "");
    else
        diag_set(d, DIAG_USAGE, "unknown option '%s' (expected one of: %s)", arg, sb.buf);
    sbuf_release(&sb);
    return -1;
}

static void choices_list(struct sbuf *sb, const struct opt *o)
{
    for (const char *const *c = o->choices; *c; c++)
        if (sbuf_addstr(sb, c == o->choices ? "" : ", ") < 0 || sbuf_addstr(sb, *c) < 0)
            return;
}

/* A string option whose argument is a list ("K[,K...]" in its help): given again, the
 * lists are joined (--kind a --kind b is --kind a,b), not the last one kept. The joined
 * text lives as long as the process (static: reachable, not a leak). */
static bool is_list(const struct opt *o)
{
    return o->type == OPT_STRING && o->argh && strstr(o->argh, "[,");
}

static int join_list(const struct opt *o, const char *val, bool again, struct diag *d)
{
    static struct {
        const void *value;
        struct sbuf sb;
    } joined[8];
    const char **v = o->value;
    if (!again) {
        *v = val;
        return 0;
    }
    size_t i = 0;
    while (i < ARRAY_SIZE(joined) && joined[i].value && joined[i].value != o->value)
        i++;
    if (i == ARRAY_SIZE(joined))
        return diag_set(d, DIAG_USAGE, "too many list options given more than once");
    if (!joined[i].value) {
        joined[i].value = o->value;
        sbuf_init(&joined[i].sb, 0);
    }
    if (joined[i].sb.buf != *v && (sbuf_reset(&joined[i].sb), sbuf_addstr(&joined[i].sb, *v) < 0))
        return diag_set(d, DIAG_LIMIT, "option list too long");
    if (sbuf_addch(&joined[i].sb, ',') < 0 || sbuf_addstr(&joined[i].sb, val) < 0)
        return diag_set(d, DIAG_LIMIT, "option list too long");
    *v = joined[i].sb.buf;
    return 0;
}

static int set_value(const struct opt *o, const char *name, const char *val, bool again,
                     struct diag *d)
{
    switch (o->type) {
    case OPT_STRING:
        if (is_list(o))
            return join_list(o, val, again, d);
        *(const char **)o->value = val;
        return 0;
    case OPT_LONG: {
        char *end;
        errno = 0;
        long v = strtol(val, &end, 10);
        if (errno || end == val || *end || v < o->min || v > o->max)
            return diag_set(d, DIAG_USAGE, "option '%s' expects a number from %ld to %ld, not '%s'",
                            name, o->min, o->max, val);
        *(long *)o->value = v;
        return 0;
    }
    case OPT_CHOICE:
        for (const char *const *c = o->choices; *c; c++) {
            if (!strcmp(*c, val)) {
                *(const char **)o->value = *c;
                return 0;
            }
        }
        {
            struct sbuf sb = SBUF_INIT;
            choices_list(&sb, o);
            diag_set(d, DIAG_USAGE, "invalid value '%s' for option '%s' (expected one of: %s)", val,
                     name, sb.buf);
            sbuf_release(&sb);
        }
        return -1;
    case OPT_BOOL:
    case OPT_COUNT:
    case OPT_END: break;
    }
    BUG("set_value on option type %d", (int)o->type);
}

static bool takes_arg(const struct opt *o)
{
    return o->type == OPT_STRING || o->type == OPT_LONG || o->type == OPT_CHOICE;
}

static void set_flag(const struct opt *o, bool on)
{
    if (o->type == OPT_BOOL)
        *(bool *)o->value = on;
    else
        *(int *)o->value += 1;
}

/* set_value() for option @o of @opts, noting it in @seen (a list option given again
 * joins its lists). */
static int set_seen(const struct opt *opts, const struct opt *o, bool *seen, const char *name,
                    const char *val, struct diag *d)
{
    size_t k = (size_t)(o - opts);
    bool again = k < OPTS_MAX && seen[k];
    if (k < OPTS_MAX)
        seen[k] = true;
    return set_value(o, name, val, again, d);
}

static int parse_long(const struct opt *opts, int argc, char **argv, int *i, bool *seen,
                      struct diag *d)
{
    const char *arg = argv[*i] + 2;
    const char *eq = strchr(arg, '=');
    size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
    bool negated = false;

    for (int pass = 0; pass < 2; pass++) {
        for (const struct opt *o = opts; o->type != OPT_END; o++) {
            if (!o->long_name || strlen(o->long_name) != nlen || strncmp(o->long_name, arg, nlen))
                continue;
            if (!takes_arg(o)) {
                if (eq)
                    return diag_set(d, DIAG_USAGE, "option '--%s' takes no value", o->long_name);
                if (negated && o->type != OPT_BOOL)
                    return unknown(opts, argv[*i], d);
                set_flag(o, !negated);
                return 0;
            }
            if (negated)
                return unknown(opts, argv[*i], d);
            if (eq)
                return set_seen(opts, o, seen, argv[*i], eq + 1, d);
            if (*i + 1 >= argc)
                return diag_set(d, DIAG_USAGE, "option '--%s' requires a value", o->long_name);
            ++*i;
            return set_seen(opts, o, seen, argv[*i - 1], argv[*i], d);
        }
        /* Second pass: --no-NAME for booleans. */
        if (pass == 0 && nlen > 3 && !strncmp(arg, "no-", 3)) {
            arg += 3;
            nlen -= 3;
            negated = true;
            continue;
        }
        break;
    }
    if (!strcmp(argv[*i], "--help"))
        return -2;
    return unknown(opts, argv[*i], d);
}

static int parse_short(const struct opt *opts, int argc, char **argv, int *i, bool *seen,
                       struct diag *d)
{
    const char *p = argv[*i] + 1;

    while (*p) {
        const struct opt *o = opts;
        for (; o->type != OPT_END; o++)
            if (o->short_name && o->short_name == *p)
                break;
        if (o->type == OPT_END) {
            if (*p == 'h')
                return -2;
            char bad[3] = { '-', *p, 0 };
            return unknown(opts, bad, d);
        }
        if (!takes_arg(o)) {
            set_flag(o, true);
            p++;
            continue;
        }
        char name[3] = { '-', *p, 0 };
        if (p[1])
            return set_seen(opts, o, seen, name, p + 1, d);
        if (*i + 1 >= argc)
            return diag_set(d, DIAG_USAGE, "option '%s' requires a value", name);
        ++*i;
        return set_seen(opts, o, seen, name, argv[*i], d);
    }
    return 0;
}

int opts_parse(const struct opt *opts, int argc, char **argv, struct diag *d)
{
    int nops = 0;
    bool only_operands = false;
    bool seen[OPTS_MAX] = { false };

    for (int i = 0; i < argc; i++) {
        char *a = argv[i];
        int r = 0;

        if (only_operands || a[0] != '-' || a[1] == '\0') {
            argv[nops++] = a;
            continue;
        }
        if (!strcmp(a, "--")) {
            only_operands = true;
            continue;
        }
        r = a[1] == '-' ? parse_long(opts, argc, argv, &i, seen, d)
                        : parse_short(opts, argc, argv, &i, seen, d);
        if (r < 0)
            return r;
    }
    return nops;
}

void opts_usage(FILE *out, const char *synopsis, const struct opt *opts)
{
    fprintf(out, "usage: %s\n", synopsis);
    if (opts->type != OPT_END)
        fputc('\n', out);
    for (const struct opt *o = opts; o->type != OPT_END; o++) {
        char left[64];
        int n = 0;
        if (o->short_name)
            n = snprintf(left, sizeof(left), "-%c%s", o->short_name, o->long_name ? ", " : "");
        else
            n = snprintf(left, sizeof(left), "    ");
        if (o->long_name)
            n += snprintf(left + n, sizeof(left) - (size_t)n, "--%s", o->long_name);
        if (o->argh && n < (int)sizeof(left))
            snprintf(left + n, sizeof(left) - (size_t)n, " %s", o->argh);
        fprintf(out, "    %-26s %s\n", left, o->help ? o->help : "");
    }
}
