/* SPDX-License-Identifier: MIT */
#include "check.h"

#include "rules/rules.h"

#define MIN INT64_C(60000000)
#define T0  (INT64_C(1764000000) * 1000000) /* a minute boundary */

/* One scenario: evaluations once a minute; `conds` is a string of 1 (true) and 0 (false),
 * `expect` the transition letters per evaluation: . none, p pending, F firing,
 * r recovering, f refiring, R resolved, c cleared. */
struct scenario {
    const char *name;
    int for_min, hold_min;
    const char *conds;
    const char *expect;
};

static char letter(enum alert_transition t)
{
    static const char l[] = ".pFrfRc";
    return l[t];
}

static void run(const struct scenario *sc)
{
    struct alert_status s;
    struct alert_timing t = { sc->for_min * MIN, sc->hold_min * MIN };
    char got[128];
    size_t n = strlen(sc->conds);

    memset(&s, 0, sizeof(s));
    for (size_t i = 0; i < n; i++)
        got[i] = letter(alert_step(&s, &t, T0 + (int64_t)i * MIN, sc->conds[i] == '1', (double)i));
    got[n] = '\0';
    CHECK_MSG(!strcmp(got, sc->expect), "%s: conds %s\n    got      %s\n    expected %s", sc->name,
              sc->conds, got, sc->expect);
}

static void test_scenarios(void)
{
    static const struct scenario sc[] = {
        { "fires at once without for", 0, 0, "0110", ".F.R" },
        { "pending until for has passed", 3, 0, "011110", ".p..FR" },
        { "clears while pending: never notified", 3, 0, "01101110", ".p.cp..c" },
        { "for = 1 evaluation interval", 1, 0, "0110", ".pFR" },
        { "keep_firing_for holds through a dip", 0, 2, "1101100", "F.rf.rR" },
        { "keep_firing_for: resolves hold after the last true", 0, 2, "1000", "FrR." },
        { "flapping never resolves within hold", 0, 3, "1010101000", "Frfrfrfr.R" },
        { "resolved then a new episode", 0, 0, "10010", "FR.FR" },
        { "pending again after resolve", 2, 1, "1110011100", "p.FR.p.FR." },
        { "event rule: resolve_after 15m", 0, 15, "10000000000000000", "Fr.............R." },
        { "event rule: new match inside resolve_after", 0, 5, "1001000000", "Fr.fr...R." },
        { "nothing ever true", 5, 5, "00000", "....." },
    };
    for (size_t i = 0; i < ARRAY_SIZE(sc); i++)
        run(&sc[i]);
}

static void test_episode_and_times(void)
{
    struct alert_status s;
    struct alert_timing t = { 2 * MIN, 2 * MIN };

    memset(&s, 0, sizeof(s));
    CHECK_EQ_INT(alert_step(&s, &t, T0, true, 7), ALERT_TO_PENDING);
    CHECK_EQ_INT(s.active_since, T0);
    CHECK_EQ_INT(s.episode, 0);
    CHECK_EQ_INT(alert_step(&s, &t, T0 + 2 * MIN, true, 9), ALERT_TO_FIRING);
    CHECK_EQ_INT(s.fired_at, T0 + 2 * MIN);
    CHECK_EQ_INT(s.episode, 1);
    CHECK(s.value == 9);
    /* Re-running an evaluation (a restart, a replay) changes nothing. */
    struct alert_status before = s;
    CHECK_EQ_INT(alert_step(&s, &t, T0 + 2 * MIN, false, 0), ALERT_TO_NONE);
    CHECK_EQ_INT(alert_step(&s, &t, T0 + 1 * MIN, false, 0), ALERT_TO_NONE);
    CHECK(!memcmp(&before, &s, sizeof(s)));
    CHECK_EQ_INT(alert_step(&s, &t, T0 + 3 * MIN, false, 0), ALERT_TO_RECOVERING);
    CHECK(s.value == 9); /* the value of the last true evaluation */
    CHECK_EQ_INT(alert_step(&s, &t, T0 + 4 * MIN, false, 0), ALERT_TO_RESOLVED);
    CHECK_EQ_INT(s.resolved_at, T0 + 4 * MIN);
    CHECK_EQ_INT(s.state, ALERT_RESOLVED);
    CHECK_EQ_INT(alert_step(&s, &t, T0 + 9 * MIN, true, 1), ALERT_TO_PENDING);
    CHECK_EQ_INT(s.resolved_at, 0);
    CHECK_EQ_INT(s.fired_at, 0);
    CHECK_EQ_INT(alert_step(&s, &t, T0 + 11 * MIN, true, 1), ALERT_TO_FIRING);
    CHECK_EQ_INT(s.episode, 2);
    /* Gaps between evaluations (a rule with every: 5m) use elapsed time, not counts. */
    memset(&s, 0, sizeof(s));
    t.for_us = 10 * MIN;
    CHECK_EQ_INT(alert_step(&s, &t, T0, true, 1), ALERT_TO_PENDING);
    CHECK_EQ_INT(alert_step(&s, &t, T0 + 5 * MIN, true, 1), ALERT_TO_NONE);
    CHECK_EQ_INT(alert_step(&s, &t, T0 + 10 * MIN, true, 1), ALERT_TO_FIRING);
}

/* Every sequence of 10 evaluations for several (for, hold): the invariants hold. */
static void test_exhaustive_invariants(void)
{
    static const int fors[] = { 0, 1, 2, 3 }, holds[] = { 0, 1, 2, 4 };
    const int N = 10;
    unsigned checked = 0;

    for (size_t fi = 0; fi < ARRAY_SIZE(fors); fi++) {
        for (size_t hi = 0; hi < ARRAY_SIZE(holds); hi++) {
            struct alert_timing t = { fors[fi] * MIN, holds[hi] * MIN };
            for (unsigned bits = 0; bits < (1u << N); bits++) {
                struct alert_status s;
                int run_start = -1, last_true = -1, firings = 0, resolves = 0;
                memset(&s, 0, sizeof(s));
                for (int i = 0; i < N; i++) {
                    bool c = (bits >> i) & 1;
                    enum alert_state prev = s.state;
                    int64_t at = T0 + i * MIN;
                    enum alert_transition tr = alert_step(&s, &t, at, c, i);
                    if (c && (i == 0 || !((bits >> (i - 1)) & 1)))
                        run_start = i;
                    bool run_long = c && (i - run_start) * MIN >= t.for_us;
                    /* (a) firing only after `for` of uninterrupted truth */
                    if (tr == ALERT_TO_FIRING && !run_long)
                        CHECK_MSG(0, "fired early: bits %x step %d", bits, i);
                    /* (b) a true long run always means firing */
                    if (run_long && s.state != ALERT_FIRING)
                        CHECK_MSG(0, "not firing after for: bits %x step %d", bits, i);
                    /* (c) resolves only after hold without truth */
                    if (tr == ALERT_TO_RESOLVED && (c || (i - last_true) * MIN < t.hold_us))
                        CHECK_MSG(0, "resolved early: bits %x step %d", bits, i);
                    /* (d) recovering never outlives hold */
                    if (s.state == ALERT_RECOVERING && (i - last_true) * MIN >= t.hold_us && !c)
                        CHECK_MSG(0, "recovering too long: bits %x step %d", bits, i);
                    /* (e) transitions follow the graph */
                    switch (tr) {
                    case ALERT_TO_PENDING:
                        CHECK(prev == ALERT_INACTIVE || prev == ALERT_RESOLVED);
                        break;
                    case ALERT_TO_FIRING:
                        CHECK(prev != ALERT_FIRING && prev != ALERT_RECOVERING);
                        firings++;
                        break;
                    case ALERT_TO_RESOLVED:
                        CHECK(prev == ALERT_FIRING || prev == ALERT_RECOVERING);
                        resolves++;
                        break;
                    case ALERT_TO_CLEARED: CHECK(prev == ALERT_PENDING); break;
                    case ALERT_TO_RECOVERING: CHECK(prev == ALERT_FIRING); break;
                    case ALERT_TO_REFIRING: CHECK(prev == ALERT_RECOVERING); break;
                    case ALERT_TO_NONE: CHECK(prev == s.state); break;
                    case ALERT_TRANSITION_COUNT: CHECK(0); break;
                    }
                    if (c)
                        last_true = i;
                    /* (f) idempotent: the same evaluation again is a no-op */
                    struct alert_status again = s;
                    CHECK_EQ_INT(alert_step(&again, &t, at, !c, 0), ALERT_TO_NONE);
                    CHECK(!memcmp(&again, &s, sizeof(s)));
                    checked++;
                }
                /* (g) every firing is resolved, except possibly the last one */
                CHECK(firings == resolves || firings == resolves + 1);
                CHECK_EQ_INT(s.episode, firings);
                if (firings == resolves + 1)
                    CHECK(s.state == ALERT_FIRING || s.state == ALERT_RECOVERING);
            }
        }
    }
    CHECK_EQ_INT(checked, 16u * 1024 * 10);
}

static void test_instance_key(void)
{
    struct rule_label a[] = { { "rule", "slow" }, { "database", "app" }, { "team", "db" } };
    struct rule_label b[] = { { "team", "db" }, { "rule", "slow" }, { "database", "app" } };
    struct rule_label c[] = { { "rule", "slow" }, { "database", "ap" }, { "team", "pdb" } };
    struct rule_label d[] = { { "rule", "slow" }, { "database", "app\0x" }, { "team", "db" } };
    char ka[ALERT_KEY_HEX], kb[ALERT_KEY_HEX], kc[ALERT_KEY_HEX], kd[ALERT_KEY_HEX];

    alert_labels_sort(a, 3);
    alert_labels_sort(b, 3);
    alert_labels_sort(c, 3);
    alert_labels_sort(d, 3);
    CHECK_EQ_STR(a[0].key, "database");
    CHECK_EQ_STR(a[2].key, "team");
    alert_key_hex(a, 3, ka);
    alert_key_hex(b, 3, kb);
    alert_key_hex(c, 3, kc);
    alert_key_hex(d, 3, kd);
    CHECK_EQ_INT(strlen(ka), 32);
    CHECK_EQ_STR(ka, kb);       /* order of the input does not matter */
    CHECK(strcmp(ka, kc) != 0); /* "app"+"db" vs "ap"+"pdb": no concatenation collision */
    CHECK_EQ_STR(ka, kd);       /* C strings end at NUL */
    /* Stable across builds and restarts (XXH3-128 is a specified hash). */
    struct rule_label one[] = { { "rule", "deadlock" } };
    char k1[ALERT_KEY_HEX];
    alert_key_hex(one, 1, k1);
    /* Pinned: a change of the encoding would change every PagerDuty dedup_key and
     * orphan open incidents on upgrade. */
    CHECK_EQ_STR(k1, "bb6be5725cc882d786827af0c20f5536");
}

static void test_names(void)
{
    enum alert_state s;
    CHECK_EQ_STR(alert_state_name(ALERT_RECOVERING), "recovering");
    CHECK(alert_state_from_name(span_cstr("firing"), &s) && s == ALERT_FIRING);
    CHECK(!alert_state_from_name(span_cstr("burning"), &s));
    CHECK_EQ_STR(alert_transition_name(ALERT_TO_CLEARED), "cleared");
}

TEST_LIST = {
    { "scenarios", test_scenarios },
    { "episode_and_times", test_episode_and_times },
    { "exhaustive_invariants", test_exhaustive_invariants },
    { "instance_key", test_instance_key },
    { "names", test_names },
    { NULL, NULL },
};
