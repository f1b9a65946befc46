/* The fit on synthetic curves with known alpha and beta plus noise. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "fit.h"

/* A deterministic +-amplitude pattern standing in for measurement noise. */
static double noise(int i, double amplitude)
{
    static const double pattern[] = {0.7, -1.0, 0.3, -0.4, 1.0, -0.6, 0.1, -0.2};
    return 1.0 + amplitude * pattern[i % 8];
}

/* Allreduce on p ranks, ring: a = 2(p-1) alpha, b = 2(p-1)/p beta. */
static size_t synthetic_curve(struct sbm_point *pts, int p, double alpha_us, double gbps,
                              double amplitude, size_t n)
{
    double a = 2.0 * (p - 1) * alpha_us, b = 2.0 * (p - 1) / p * 1e-3 / gbps;
    for (size_t i = 0; i < n; i++) {
        memset(&pts[i], 0, sizeof pts[i]);
        strcpy(pts[i].collective, "allreduce");
        strcpy(pts[i].backend, "mpi");
        strcpy(pts[i].memory, "host");
        pts[i].ranks = p;
        pts[i].nodes = 1;
        pts[i].bytes = 1024.0 * (1 << i);
        pts[i].median_us = (a + b * pts[i].bytes) * noise((int)i, amplitude);
    }
    return n;
}

static void exact_line_is_recovered(void **state)
{
    (void)state;
    double x[] = {1, 2, 4, 8}, y[] = {3, 5, 9, 17};
    struct sbm_line l;
    assert_int_equal(sbm_fit_line(x, y, 4, &l), 0);
    assert_true(fabs(l.intercept_us - 1) < 1e-12 && fabs(l.slope_us_per_byte - 2) < 1e-12);
    assert_true(fabs(l.r2 - 1) < 1e-12);
    double one[] = {1, 1};
    assert_int_equal(sbm_fit_line(one, y, 2, &l), -1); /* no two distinct sizes */
}

static void noisy_ring_gives_alpha_and_beta(void **state)
{
    (void)state;
    struct sbm_point pts[12];
    size_t n = synthetic_curve(pts, 4, 5.0, 10.0, 0.02, 12);
    struct sbm_fit_request req = {NULL, 0.15, NULL, 0};
    struct sbm_fit fit;
    struct sbm_error err;
    assert_int_equal(sbm_fit_curve(pts, n, &req, &fit, &err), SBM_OK);
    assert_string_equal(fit.algorithm, "ring");
    assert_true(fabs(fit.alpha_us - 5.0) < 0.5);           /* 10% on the intercept */
    assert_true(fabs(fit.bandwidth_gbps - 10.0) < 0.3);    /* 3% on the bandwidth */
    assert_true(fit.line.r2 > 0.99);
    assert_int_equal(fit.n_used, 12);
}

static void range_stops_where_the_regime_changes(void **state)
{
    (void)state;
    struct sbm_point pts[12];
    size_t n = synthetic_curve(pts, 2, 2.0, 5.0, 0.01, 12);
    for (size_t i = 9; i < n; i++)
        pts[i].median_us *= 5; /* out of cache: five times slower */
    struct sbm_fit_request req = {NULL, 0.15, NULL, 0};
    struct sbm_fit fit;
    struct sbm_error err;
    assert_int_equal(sbm_fit_curve(pts, n, &req, &fit, &err), SBM_OK);
    assert_true(fit.max_bytes <= pts[8].bytes);
    assert_true(fabs(fit.bandwidth_gbps - 5.0) < 0.25);
}

static void selected_sizes_only(void **state)
{
    (void)state;
    struct sbm_point pts[10];
    size_t n = synthetic_curve(pts, 2, 2.0, 5.0, 0.0, 10);
    struct sbm_selection sel;
    assert_int_equal(sbm_parse_selection("4K,16K:64K", &sel), 0);
    struct sbm_fit_request req = {&sel, 0.15, "recursive-doubling", 0};
    struct sbm_fit fit;
    struct sbm_error err;
    assert_int_equal(sbm_fit_curve(pts, n, &req, &fit, &err), SBM_OK);
    assert_int_equal(fit.n_used, 4);
    assert_true(fit.min_bytes == 4096 && fit.max_bytes == 65536);
    /* the curve's intercept is 2(p-1) x 2 us = 4 us; mapped through recursive doubling,
     * one step of alpha + n beta at p = 2, alpha is the whole intercept */
    assert_true(fabs(fit.alpha_us - 4.0) < 1e-6);
    assert_true(fabs(fit.bandwidth_gbps - 5.0) < 1e-6);
}

static void prediction_on_other_rank_counts_goes_through_the_algorithm(void **state)
{
    (void)state;
    struct sbm_point pts[8];
    size_t n = synthetic_curve(pts, 2, 3.0, 8.0, 0.0, 8);
    struct sbm_fit_request req = {NULL, 0.15, NULL, 0};
    struct sbm_fit fit;
    struct sbm_error err;
    assert_int_equal(sbm_fit_curve(pts, n, &req, &fit, &err), SBM_OK);
    double n8 = 1 << 20, expected = 14 * 3.0 + 1.75 * n8 * 1e-3 / 8.0;
    assert_true(fabs(sbm_fit_predict_us(&fit, 8, n8) - expected) < 1e-6 * expected);
}

static void gamma_from_a_local_curve_is_separated(void **state)
{
    (void)state;
    struct sbm_point pts[8];
    size_t n = synthetic_curve(pts, 4, 1.0, 10.0, 0.0, 8);
    /* add the ring's (p-1)/p n gamma with gamma = 20 GB/s */
    for (size_t i = 0; i < n; i++)
        pts[i].median_us += 0.75 * pts[i].bytes * 1e-3 / 20.0;
    struct sbm_fit_request req = {NULL, 0.15, NULL, 20.0};
    struct sbm_fit fit;
    struct sbm_error err;
    assert_int_equal(sbm_fit_curve(pts, n, &req, &fit, &err), SBM_OK);
    assert_true(fabs(fit.bandwidth_gbps - 10.0) < 1e-6 && fabs(fit.gamma_gbps - 20.0) < 1e-9);
}

/* Equal times gave a slope of rounding noise (1e31 GB/s), falling ones a negative bandwidth:
 * neither is a fit, automatic or on --fit-on sizes. */
static void flat_or_falling_times_are_refused(void **state)
{
    (void)state;
    struct sbm_point pts[10];
    size_t n = synthetic_curve(pts, 4, 2.0, 5.0, 0.0, 10);
    struct sbm_selection sel;
    assert_int_equal(sbm_parse_selection("1K,4K,16K", &sel), 0);
    struct sbm_fit_request automatic = {NULL, 0.15, NULL, 0}, chosen = {&sel, 0.15, NULL, 0};
    struct sbm_fit fit;
    struct sbm_error err;
    for (int falling = 0; falling < 2; falling++) {
        for (size_t i = 0; i < n; i++)
            pts[i].median_us = falling ? 1000 - 10.0 * i : 100;
        assert_int_equal(sbm_fit_curve(pts, n, &automatic, &fit, &err), SBM_BAD_INPUT);
        assert_non_null(strstr(err.msg, "grows with size"));
        assert_int_equal(sbm_fit_curve(pts, n, &chosen, &fit, &err), SBM_BAD_INPUT);
        assert_non_null(strstr(err.msg, "does not grow with size"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exact_line_is_recovered),
        cmocka_unit_test(noisy_ring_gives_alpha_and_beta),
        cmocka_unit_test(range_stops_where_the_regime_changes),
        cmocka_unit_test(selected_sizes_only),
        cmocka_unit_test(prediction_on_other_rank_counts_goes_through_the_algorithm),
        cmocka_unit_test(gamma_from_a_local_curve_is_separated),
        cmocka_unit_test(flat_or_falling_times_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
