/* SPDX-License-Identifier: MIT */
/*
 * outfmt - the --format values of the query commands (table, json, md, csv) and the
 * escaping each needs. One function per context: a terminal table cell, a Markdown table
 * cell, an RFC 4180 CSV field, a JSON string (through jansson, with invalid UTF-8
 * replaced so that the document always parses).
 */
#ifndef SIFT_CMD_OUTFMT_H
#define SIFT_CMD_OUTFMT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum outfmt { OUTFMT_TABLE = 0, OUTFMT_JSON, OUTFMT_MD, OUTFMT_CSV };

/* The --format choices, NULL-terminated, for OPT_CHOICE_. */
extern const char *const outfmt_names[];
enum outfmt outfmt_from_name(const char *name); /* NULL -> table */

/* True when @f is a terminal that wants colour: a TTY, NO_COLOR unset or empty, TERM not
 * "dumb". */
bool outfmt_color(FILE *f);

/* Write @s in at most @width columns: control characters become spaces, white-space
 * runs collapse, an over-long text is cut and ends in "…". Pads to @width when @pad
 * (left-aligned) or @rpad (right-aligned). Returns the columns written. */
size_t outfmt_cell(FILE *f, const char *s, size_t width, bool pad, bool rpad);

/* An RFC 4180 CSV field / a Markdown table cell, escaped by core/escape.h (NULL is
 * written as an empty field). */
void outfmt_csv(FILE *f, const char *s);
void outfmt_md(FILE *f, const char *s);

/* The header of a Markdown table (@md) or a CSV file: @names are plain column names,
 * written as they are. @right (Markdown only; NULL for none) marks the columns to align
 * right, one character per column ('r' right, anything else left). */
void outfmt_delim_header(FILE *f, bool md, const char *const *names, size_t n, const char *right);

/* One row of that table or file, each cell escaped by outfmt_md() or outfmt_csv(); a CSV
 * row ends in CRLF (RFC 4180). */
void outfmt_delim_row(FILE *f, bool md, const char *const *cells, size_t n);

/* A JSON string for @s (NULL -> JSON null); invalid UTF-8 bytes become U+FFFD. */
json_t *outfmt_json_str(const char *s);

/* A JSON number rounded for output: to microseconds (3 decimals of a millisecond value)
 * when @exact, else to 6 significant digits (estimates such as percentiles); rounded as
 * printf rounds, so that it is the number the other formats print. */
json_t *outfmt_json_ms(double ms, bool exact);

/* Dump @doc to stdout as one document and a newline. Returns 0, -1 on failure. */
int outfmt_json_dump(json_t *doc);

/* A duration in a short human form for tables: 0.123ms, 12.3ms, 1.23s, 12.3m, 1.23h. */
const char *outfmt_duration(double ms, char *buf, size_t n);

/* A count in at most 7 characters: 1234567, 12.3M. */
const char *outfmt_count(unsigned long long v, char *buf, size_t n);

#endif
