/* SPDX-License-Identifier: MIT */
/*
 * cputime.h - the process's CPU time, for the tests that check an algorithm stays linear
 * on hostile input by comparing the time of n and 4n (a ratio: no absolute limit).
 */
#ifndef SIFT_TEST_CPUTIME_H
#define SIFT_TEST_CPUTIME_H

#include <time.h>

static inline double test_cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The least of several runs' times: the machine's other work (another process, a
 * hypervisor taking the CPU, which the guest's clock still counts) makes a run longer,
 * never shorter, so the least is the run's own time. Start *t at TEST_NO_TIME. */
#define TEST_NO_TIME 1e300
static inline void test_least_time(double *t, double run)
{
    if (run < *t)
        *t = run;
}

/* t4 / t1, with t1 taken as at least 0.1 ms (below that the clock says nothing). */
static inline double test_time_ratio(double t1, double t4)
{
    return t4 / (t1 > 1e-4 ? t1 : 1e-4);
}

#endif
