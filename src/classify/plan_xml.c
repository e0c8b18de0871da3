/* SPDX-License-Identifier: MIT */
/*
 * plan_xml.c - auto_explain XML plans (explain.c EXPLAIN_FORMAT_XML): <explain
 * xmlns="http://www.postgresql.org/2009/explain"> holding elements named after the
 * JSON keys with characters outside [A-Za-z0-9_.] turned into '-' (<Node-Type>,
 * <I-O-Read-Time>), lists as <Plans><Plan>..</Plan></Plans> and <Sort-Key><Item>..
 * </Item></Sort-Key>, text with & < > escaped (ExplainXMLTag(), escape_xml()).
 *
 * A small tag scanner turns elements into plan_events.c events: an element whose first
 * child is <Plan>, <Worker>, <Trigger> or <Item> is a sequence, one with other
 * children a map, one without children a scalar (its decoded text). Attributes,
 * comments, processing instructions and CDATA are skipped.
 */
#include <string.h>

#include "classify/classify_int.h"
#include "classify/plan.h"

/* Element name -> key: '-' -> ' ', with the keys that have other punctuation. */
static struct span xml_key(struct span name, struct arena *a)
{
    static const struct {
        const char *tag, *key;
    } special[] = {
        { "One-Time-Filter", "One-Time Filter" },
        { "I-O-Read-Time", "I/O Read Time" },
        { "I-O-Write-Time", "I/O Write Time" },
        { "Shared-I-O-Read-Time", "Shared I/O Read Time" },
        { "Shared-I-O-Write-Time", "Shared I/O Write Time" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(special); i++)
        if (span_eq(name, span_cstr(special[i].tag)))
            return span_cstr(special[i].key);
    if (span_find_char(name, 0, '-') < 0)
        return name;
    struct span k = arena_dup(a, name.p, name.len);
    char *q = (char *)k.p;
    for (size_t i = 0; i < k.len; i++)
        if (q[i] == '-')
            q[i] = ' ';
    return k;
}

static bool list_item(struct span name)
{
    return span_eq_lit(name, "Plan") || span_eq_lit(name, "Worker") ||
           span_eq_lit(name, "Trigger") || span_eq_lit(name, "Item");
}

struct open_el {
    struct span name;
    const char *text; /* where its text starts */
    bool container;   /* a child element was seen */
    bool seq;
    bool in_seq; /* it is an item of a sequence: no key was sent for it */
};

int plan_parse_xml(struct plan *p, struct span body, struct arena *a)
{
    struct plan_events ev;
    struct open_el *stack = arena_alloc(a, PLAN_EV_FRAMES * sizeof(*stack));
    size_t depth = 0, skipped = 0;
    size_t i = 0;

    plan_reset(p, PLAN_XML);
    plan_events_init(&ev, p, a);
    while (i < body.len) {
        long lt = span_find_char(body, i, '<');
        if (lt < 0)
            break;
        i = (size_t)lt;
        struct span rest = cur_skip(body, i);
        if (span_starts_with_lit(rest, "<!--") || span_starts_with_lit(rest, "<![CDATA[") ||
            span_starts_with_lit(rest, "<?") || span_starts_with_lit(rest, "<!")) {
            const char *end = span_starts_with_lit(rest, "<!--")        ? "-->"
                              : span_starts_with_lit(rest, "<![CDATA[") ? "]]>"
                              : span_starts_with_lit(rest, "<?")        ? "?>"
                                                                        : ">";
            long e = span_find(body, i, span_cstr(end));
            i = e < 0 ? body.len : (size_t)e + strlen(end);
            continue;
        }
        long gt = span_find_char(body, i, '>');
        if (gt < 0) {
            p->error = "XML tag not closed";
            break;
        }
        struct span tag = span_make(body.p + i + 1, (size_t)gt - i - 1);
        i = (size_t)gt + 1;
        bool closing = tag.len && tag.p[0] == '/';
        if (closing)
            tag = cur_skip(tag, 1);
        /* After dropping the closing '/': in "</>" the one '/' must not count twice. */
        bool empty = !closing && tag.len && tag.p[tag.len - 1] == '/';
        if (empty)
            tag.len--;
        size_t nl = 0;
        while (nl < tag.len && tag.p[nl] != ' ' && tag.p[nl] != '\t' && tag.p[nl] != '\n' &&
               tag.p[nl] != '\r' && tag.p[nl] != '/')
            nl++;
        struct span name = span_make(tag.p, nl);
        if (!name.len) {
            p->error = "XML tag without a name";
            break;
        }
        if (closing) {
            if (skipped) {
                skipped--;
                continue;
            }
            if (!depth || !span_eq(stack[depth - 1].name, name)) {
                p->error = "XML end tag does not match";
                break;
            }
            struct open_el *el = &stack[--depth];
            if (depth == 0)
                continue; /* </explain> */
            if (el->container) {
                plan_events_end(&ev);
            } else {
                struct span raw = span_make(el->text, (size_t)(body.p + lt - el->text));
                struct span v = classify_xml_text(span_trim(raw), a);
                if (el->in_seq && !span_eq_lit(name, "Item"))
                    continue; /* an empty <Plan/>-like item: nothing to add */
                plan_events_scalar(&ev, v.p ? v : LIT(""));
            }
            continue;
        }
        /* a start tag */
        if (skipped || depth >= PLAN_EV_FRAMES) {
            if (!empty)
                skipped++;
            p->truncated = true;
            continue;
        }
        if (depth == 0) {
            /* <explain>: the plan object */
            plan_events_map_start(&ev);
            if (!empty)
                stack[depth++] = (struct open_el){ name, body.p + i, true, false, false };
            continue;
        }
        struct open_el *parent = &stack[depth - 1];
        if (!parent->container) {
            /* the parent turns out to be a container: open it now */
            parent->container = true;
            parent->seq = list_item(name);
            if (parent->seq)
                plan_events_seq_start(&ev);
            else
                plan_events_map_start(&ev);
        }
        bool in_seq = parent->seq;
        if (!in_seq)
            plan_events_scalar(&ev, xml_key(name, a)); /* the key */
        if (empty) {
            if (!in_seq)
                plan_events_scalar(&ev, LIT(""));
            continue;
        }
        stack[depth++] = (struct open_el){ name, body.p + i, false, false, in_seq };
        if (in_seq && !span_eq_lit(name, "Item")) {
            /* a list item of a map kind (Plan, Worker, Trigger): it has children */
            stack[depth - 1].container = true;
            plan_events_map_start(&ev);
        }
    }
    plan_events_release(&ev);
    if (p->error)
        p->error_line = 0;
    if (!p->n_nodes) {
        if (!p->error)
            p->error = "no <Plan> element";
        return -1;
    }
    return 0;
}
