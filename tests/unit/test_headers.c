/* SPDX-License-Identifier: MIT */
/*
 * Every stage's public header in one translation unit: a later stage (report) may include
 * any earlier one (rules, store ...) together, so no two of them may declare the same
 * name. This file failing to compile is the test failing; the checks below make sure the
 * formerly colliding names stay distinct types.
 */
#include "check.h"
#include "input/input.h"
#include "parse/parse.h"
#include "normalize/normalize.h"
#include "classify/classify.h"
#include "store/store.h"
#include "rules/rules.h"
#include "report/report.h"

static void test_formats_distinct(void)
{
    /* rules' output format for `pgsift alerts` and the report's format were once both
     * `enum report_format`. */
    enum alert_print_format a = APRINT_JSON;
    enum report_format r = REPORT_JSON;
    CHECK_EQ_INT((int)a, 1);
    CHECK_EQ_INT((int)r, 2);
    CHECK_EQ_STR(report_format_name(REPORT_MD), "md");
}

TEST_LIST = {
    { "formats_distinct", test_formats_distinct },
    { NULL, NULL },
};
