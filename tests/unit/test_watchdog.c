/* The watchdog's "idle in the call" rule: a stuck rank whose main thread barely uses the CPU
 * while the others poll is named; ranks that poll slowly because they share oversubscribed cores
 * are not, and when every rank is idle none stands out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "watchdog.h"

static void a_sleeping_rank_among_pollers_is_idle(void **state)
{
    (void)state;
    assert_true(sb_watchdog_looks_idle(0.0, 0.95));
    assert_true(sb_watchdog_looks_idle(0.1, 0.95));
    assert_false(sb_watchdog_looks_idle(0.9, 0.95));
}

static void pollers_on_oversubscribed_cores_are_not_idle(void **state)
{
    (void)state;
    /* 4 polling ranks and other jobs on 2 cores: each gets about 15% */
    assert_false(sb_watchdog_looks_idle(0.12, 0.17));
    assert_false(sb_watchdog_looks_idle(0.15, 0.17));
    /* ... while the one that sleeps still stands out */
    assert_true(sb_watchdog_looks_idle(0.01, 0.17));
}

static void all_idle_names_nobody_and_unknown_is_not_idle(void **state)
{
    (void)state;
    assert_false(sb_watchdog_looks_idle(0.0, 0.0));
    assert_false(sb_watchdog_looks_idle(-1.0, 0.9));
    /* above the absolute bound, never idle, however busy the others */
    assert_false(sb_watchdog_looks_idle(0.25, 1.0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_sleeping_rank_among_pollers_is_idle),
        cmocka_unit_test(pollers_on_oversubscribed_cores_are_not_idle),
        cmocka_unit_test(all_idle_names_nobody_and_unknown_is_not_idle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
