/* Order statistics and the median's confidence interval. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "stats.h"

static void single_sample_is_every_statistic(void **state)
{
    (void)state;
    double x = 3.5, scratch;
    struct sb_stats s;
    sb_stats_compute(&x, 1, &scratch, &s);
    assert_true(s.min == 3.5 && s.median == 3.5 && s.mean == 3.5 && s.p99 == 3.5 && s.max == 3.5);
    assert_true(s.stddev == 0.0);
    assert_true(s.median_ci_lo == 3.5 && s.median_ci_hi == 3.5);
}

static void statistics_of_one_to_hundred(void **state)
{
    (void)state;
    double v[100], scratch[100];
    for (int i = 0; i < 100; i++)
        v[i] = 100 - i; /* unsorted input */
    struct sb_stats s;
    sb_stats_compute(v, 100, scratch, &s);
    assert_true(s.min == 1 && s.max == 100);
    assert_true(fabs(s.mean - 50.5) < 1e-12);
    assert_true(fabs(s.median - 50.5) < 1e-12);
    assert_true(fabs(s.p99 - 99.01) < 1e-9); /* 1 + 0.99 * 99 */
    assert_true(fabs(s.stddev - sqrt(841.6666666666666)) < 1e-9);
    assert_true(v[0] == 100); /* input untouched */
}

static void median_interval_ranks_follow_the_binomial_rule(void **state)
{
    (void)state;
    size_t j, k;
    sb_median_ci_ranks(100, &j, &k); /* 50 -+ 9.8: j = floor(40.2) = 40, k = ceil(60.8) = 61 */
    assert_int_equal(j, 40);
    assert_int_equal(k, 61);
    sb_median_ci_ranks(10, &j, &k); /* 5 - 3.099 = 1.9 -> 1; 6 + 3.099 = 9.1 -> 10 */
    assert_int_equal(j, 1);
    assert_int_equal(k, 10);
    sb_median_ci_ranks(2, &j, &k);
    assert_int_equal(j, 1);
    assert_int_equal(k, 2);
}

static void relative_interval_of_a_tight_sample_is_small(void **state)
{
    (void)state;
    double v[1000], scratch[1000];
    for (int i = 0; i < 1000; i++)
        v[i] = 10.0 + (i % 10) * 0.01;
    struct sb_stats s;
    sb_stats_compute(v, 1000, scratch, &s);
    assert_true(sb_stats_relative_ci(&s) < 0.005);
    for (int i = 0; i < 1000; i++)
        v[i] = (i % 2) ? 1.0 : 3.0; /* bimodal: the interval spans both modes */
    sb_stats_compute(v, 1000, scratch, &s);
    assert_true(sb_stats_relative_ci(&s) > 0.4);
}

/* One sample (or five equal ones) has a zero-width [min, max], which is no 95% interval: the
 * adaptive mode must not stop there as if the precision were reached. */
static void too_few_samples_have_no_interval(void **state)
{
    (void)state;
    double v[6] = {2, 2, 2, 2, 2, 2}, scratch[6];
    struct sb_stats s;
    for (size_t n = 1; n < SB_STATS_MIN_CI_SAMPLES; n++) {
        sb_stats_compute(v, n, scratch, &s);
        assert_true(isinf(sb_stats_relative_ci(&s)));
    }
    sb_stats_compute(v, 6, scratch, &s);
    assert_true(sb_stats_relative_ci(&s) == 0.0);
}

static void quantile_interpolates(void **state)
{
    (void)state;
    double sorted[4] = {1, 2, 3, 4};
    assert_true(sb_quantile_sorted(sorted, 4, 0.0) == 1);
    assert_true(sb_quantile_sorted(sorted, 4, 1.0) == 4);
    assert_true(fabs(sb_quantile_sorted(sorted, 4, 0.5) - 2.5) < 1e-12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(single_sample_is_every_statistic),
        cmocka_unit_test(statistics_of_one_to_hundred),
        cmocka_unit_test(median_interval_ranks_follow_the_binomial_rule),
        cmocka_unit_test(relative_interval_of_a_tight_sample_is_small),
        cmocka_unit_test(too_few_samples_have_no_interval),
        cmocka_unit_test(quantile_interpolates),
    };
    return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
