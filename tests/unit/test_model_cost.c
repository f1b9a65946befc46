/* Collective cost formulas against hand-computed values, and the 8 x H100 prediction. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "catalog.h"
#include "cost.h"
#include "predict.h"

#define near(a, b) assert_true(fabs((a) - (b)) <= 1e-9 * (1 + fabs(b)))

/* alpha 1 us, 1 GB/s (1e-3 us/B), gamma 4 GB/s (2.5e-4 us/B) */
static const struct sbm_tier tier = {1.0, 1e-3, 2.5e-4};

static double one_tier(enum sbm_collective c, enum sbm_algorithm a, int p, double n)
{
    struct sbm_fabric f = {.ranks = p, .domains = 1, .intra = tier, .inter = tier, .in_switch = tier,
                           .intra_reduces = true};
    return sbm_cost_time_us(c, a, &f, n);
}

static void ring_allreduce_matches_patarasuk_yuan(void **state)
{
    (void)state;
    /* 2(p-1) alpha + 2(p-1)/p n beta + (p-1)/p n gamma, p = 8, n = 1000 */
    near(one_tier(SBM_ALLREDUCE, SBM_RING, 8, 1000), 14 + 1.75 + 0.21875);
    near(one_tier(SBM_ALLREDUCE, SBM_RING, 2, 1000), 2 + 1.0 + 0.125);
    near(one_tier(SBM_ALLREDUCE, SBM_RING, 3, 3000), 4 + 4.0 + 0.5);
}

static void one_rank_costs_nothing(void **state)
{
    (void)state;
    for (int a = 0; a < SBM_BEST; a++) {
        enum sbm_collective c = a <= SBM_NVLS ? SBM_ALLREDUCE : SBM_ALLTOALL;
        near(one_tier(c, (enum sbm_algorithm)a, 1, 1e6), 0.0);
    }
}

static void recursive_doubling_rounds_up_log2(void **state)
{
    (void)state;
    near(one_tier(SBM_ALLREDUCE, SBM_RECURSIVE_DOUBLING, 5, 1000), 3 * (1 + 1.0 + 0.25));
    near(one_tier(SBM_ALLREDUCE, SBM_RECURSIVE_DOUBLING, 2, 1000), 1 * (1 + 1.0 + 0.25));
}

static void rabenseifner_pays_two_extra_steps_off_powers_of_two(void **state)
{
    (void)state;
    /* p = 4: 2 log2 4 alpha + 2(3/4) n beta + 3/4 n gamma */
    near(one_tier(SBM_ALLREDUCE, SBM_RABENSEIFNER, 4, 1000), 4 + 1.5 + 0.1875);
    /* p = 6 -> p2 = 4 plus (2 alpha + 2 n beta + n gamma) */
    near(one_tier(SBM_ALLREDUCE, SBM_RABENSEIFNER, 6, 1000), 6 + 3.5 + 0.4375);
}

static void tree_and_nvls(void **state)
{
    (void)state;
    near(one_tier(SBM_ALLREDUCE, SBM_TREE, 8, 1000), 6 + 2.0 + 0.25);
    near(one_tier(SBM_ALLREDUCE, SBM_NVLS, 8, 1000), 1 + 1.125);
    struct sbm_fabric f = {.ranks = 8, .domains = 1, .intra = tier, .in_switch = tier};
    assert_true(sbm_cost_time_us(SBM_ALLREDUCE, SBM_NVLS, &f, 1000) < 0); /* no reducing switch */
}

static void alltoall_pairwise_and_bruck(void **state)
{
    (void)state;
    near(one_tier(SBM_ALLTOALL, SBM_PAIRWISE, 4, 1000), 3 + 0.75);
    near(one_tier(SBM_ALLTOALL, SBM_BRUCK, 5, 1000), 3 + 1.5);
    assert_true(one_tier(SBM_ALLTOALL, SBM_RING, 4, 1000) < 0);
}

static void hierarchical_splits_domains(void **state)
{
    (void)state;
    struct sbm_tier e = {10.0, 1e-2, 0};
    struct sbm_fabric f = {.ranks = 8, .domains = 2, .intra = {1.0, 1e-3, 0}, .inter = e};
    /* g = 4: 6 alpha_i + 1.5 n beta_i; N = 2: 2 alpha_e + (n/4) beta_e */
    near(sbm_cost_time_us(SBM_ALLREDUCE, SBM_HIERARCHICAL, &f, 4000), 6 + 6.0 + 20 + 10.0);
    /* all-to-all: (g-1) alpha_i + (g-1)/p n beta_i + (N-1) alpha_e + (N-1)/N n beta_e */
    near(sbm_cost_time_us(SBM_ALLTOALL, SBM_HIERARCHICAL, &f, 8000), 3 + 3.0 + 10 + 40.0);
    /* a flat ring over both domains runs at the slower tier */
    near(sbm_cost_time_us(SBM_ALLREDUCE, SBM_RING, &f, 8000), 14 * 10 + 1.75 * 80);
    f.domains = 3;
    assert_true(sbm_cost_time_us(SBM_ALLREDUCE, SBM_RING, &f, 8000) < 0); /* 8 % 3 */
}

static void busbw_factors_follow_nccl_tests(void **state)
{
    (void)state;
    near(sbm_busbw_factor(SBM_ALLREDUCE, 8), 1.75);
    near(sbm_busbw_factor(SBM_ALLTOALL, 8), 0.875);
    near(sbm_busbw_factor(SBM_ALLREDUCE, 2), 1.0);
}

static void names_round_trip(void **state)
{
    (void)state;
    enum sbm_algorithm a;
    assert_int_equal(sbm_algorithm_parse("recursive-doubling", &a), 0);
    assert_int_equal(a, SBM_RECURSIVE_DOUBLING);
    assert_int_equal(sbm_algorithm_parse("bogus", &a), -1);
    assert_string_equal(sbm_algorithm_name(SBM_NVLS), "nvls");
}

static void eight_h100_land_near_published_busbw(void **state)
{
    (void)state;
    struct sbm_catalog cat;
    struct sbm_system sys;
    struct sbm_fabric f;
    struct sbm_error err;
    struct sbm_prediction ring, nvls, best;
    assert_int_equal(sbm_catalog_load(SB_CATALOG_DIR, &cat, &err), SBM_OK);
    assert_int_equal(sbm_system_resolve(&cat, "dgx-h100", &sys, &err), SBM_OK);
    assert_int_equal(sbm_fabric_from_system(&sys, 8, 0, &f, &err), SBM_OK);
    double n = 8.0 * (1 << 30);
    assert_int_equal(sbm_predict(SBM_ALLREDUCE, SBM_RING, &f, n, &ring), 0);
    assert_int_equal(sbm_predict(SBM_ALLREDUCE, SBM_NVLS, &f, n, &nvls), 0);
    assert_int_equal(sbm_predict(SBM_ALLREDUCE, SBM_BEST, &f, n, &best), 0);
    assert_true(fabs(ring.busbw_gbps - 370) < 0.05 * 370);   /* nccl-tests: about 370 */
    assert_true(fabs(nvls.busbw_gbps - 478) < 0.05 * 478);   /* nccl-tests: 475-480 */
    assert_int_equal(best.algorithm, SBM_NVLS);
    sbm_catalog_free(&cat);
}

/* A measured job's domains come from its hosts: a DGX is one domain, an NVL72 rack's 18 trays
 * are one. */
static void measured_nodes_set_the_domains(void **state)
{
    (void)state;
    struct sbm_catalog cat;
    struct sbm_system dgx, nvl72;
    struct sbm_error err;
    assert_int_equal(sbm_catalog_load(SB_CATALOG_DIR, &cat, &err), SBM_OK);
    assert_int_equal(sbm_system_resolve(&cat, "dgx-h100", &dgx, &err), SBM_OK);
    assert_int_equal(sbm_system_resolve(&cat, "gb200-nvl72", &nvl72, &err), SBM_OK);
    assert_int_equal(sbm_domains_of_job(&dgx, 8, 1), 1);
    assert_int_equal(sbm_domains_of_job(&dgx, 8, 2), 2);   /* 4 GPUs on each of 2 DGX */
    assert_int_equal(sbm_domains_of_job(&dgx, 16, 1), 2);  /* more ranks than one domain */
    assert_int_equal(sbm_domains_of_job(&dgx, 2, 4), 2);   /* never more domains than ranks */
    assert_int_equal(sbm_domains_of_job(&dgx, 8, 0), 0);   /* unknown: as few as possible */
    assert_int_equal(sbm_domains_of_job(&nvl72, 72, 18), 1);
    assert_int_equal(sbm_domains_of_job(&nvl72, 144, 36), 2);
    assert_int_equal(sbm_domains_of_job(&nvl72, 8, 2), 1);
    struct sbm_fabric one, two;
    struct sbm_prediction p1, p2;
    assert_int_equal(sbm_fabric_from_system(&dgx, 8, sbm_domains_of_job(&dgx, 8, 1), &one, &err), SBM_OK);
    assert_int_equal(sbm_fabric_from_system(&dgx, 8, sbm_domains_of_job(&dgx, 8, 2), &two, &err), SBM_OK);
    assert_int_equal(sbm_predict(SBM_ALLREDUCE, SBM_RING, &one, 1 << 30, &p1), 0);
    assert_int_equal(sbm_predict(SBM_ALLREDUCE, SBM_RING, &two, 1 << 30, &p2), 0);
    assert_true(p2.time_us > 2 * p1.time_us); /* crossing the NICs costs far more than NVLink */
    sbm_catalog_free(&cat);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ring_allreduce_matches_patarasuk_yuan),
        cmocka_unit_test(one_rank_costs_nothing),
        cmocka_unit_test(recursive_doubling_rounds_up_log2),
        cmocka_unit_test(rabenseifner_pays_two_extra_steps_off_powers_of_two),
        cmocka_unit_test(tree_and_nvls),
        cmocka_unit_test(alltoall_pairwise_and_bruck),
        cmocka_unit_test(hierarchical_splits_domains),
        cmocka_unit_test(busbw_factors_follow_nccl_tests),
        cmocka_unit_test(names_round_trip),
        cmocka_unit_test(eight_h100_land_near_published_busbw),
        cmocka_unit_test(measured_nodes_set_the_domains),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
