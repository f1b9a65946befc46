/* Verdicts of the seed's rules, derived from the catalog. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rules.h"

static struct sbm_rule_result one_rule(const char *id)
{
    struct sbm_catalog cat;
    struct sbm_error err;
    struct sbm_rule_result r[SBM_RULES_MAX];
    assert_int_equal(sbm_catalog_load(SB_CATALOG_DIR, &cat, &err), SBM_OK);
    assert_int_equal(sbm_rules_evaluate(&cat, id, r, SBM_RULES_MAX), 1);
    sbm_catalog_free(&cat);
    return r[0];
}

static void r8_modules_are_contradicted_nine_not_eight(void **state)
{
    (void)state;
    struct sbm_rule_result r = one_rule("R8");
    assert_string_equal(r.verdict, "contradicted");
    assert_true(r.has_derived && r.derived_lo == 9 && r.claimed_lo == 8);
    assert_non_null(strstr(r.arithmetic, "2 ends x 18 links x 200 Gb/s / 800"));
}

static void r8b_seven_gpus_per_l2_switch_holds(void **state)
{
    (void)state;
    assert_string_equal(one_rule("R8b").verdict, "holds");
}

static void sizing_rules_hold(void **state)
{
    (void)state;
    static const char *const ids[] = {"R1", "R1b", "R2", "R3", "R3b", "R4", "R5", "R6", "R6b",
                                      "R7", "R7b", "R9", "R9b", "R13"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        struct sbm_rule_result r = one_rule(ids[i]);
        if (strcmp(r.verdict, "holds") != 0)
            fail_msg("%s: %s (%s)", ids[i], r.verdict, r.arithmetic);
    }
}

static void r5_names_its_unit(void **state)
{
    (void)state;
    struct sbm_rule_result r = one_rule("R5");
    assert_true(r.derived_lo == 0.25);
    assert_non_null(strstr(r.arithmetic, "unit counted: tier-2 chips"));
}

static void inference_rules_are_unverifiable_here(void **state)
{
    (void)state;
    for (int n = 10; n <= 12; n++) {
        char id[8];
        snprintf(id, sizeof id, "R%d", n);
        struct sbm_rule_result r = one_rule(id);
        assert_string_equal(r.verdict, "unverifiable");
        assert_false(r.has_derived);
        assert_non_null(strstr(r.arithmetic, "sb_model infer --claims"));
    }
}

static void verdict_uses_five_percent_and_ranges(void **state)
{
    (void)state;
    assert_string_equal(sbm_rule_verdict(8, 8, 9, 9), "contradicted");
    assert_string_equal(sbm_rule_verdict(7, 7, 7.111, 7.111), "holds");
    assert_string_equal(sbm_rule_verdict(30, 48, 28.8, 48), "holds");
    assert_string_equal(sbm_rule_verdict(30, 48, 20, 48), "contradicted");
    assert_string_equal(sbm_rule_verdict(2, 3, 2, 3), "holds");
}

static void every_rule_is_listed(void **state)
{
    (void)state;
    struct sbm_catalog cat;
    struct sbm_error err;
    struct sbm_rule_result r[SBM_RULES_MAX];
    assert_int_equal(sbm_catalog_load(SB_CATALOG_DIR, &cat, &err), SBM_OK);
    int n = sbm_rules_evaluate(&cat, NULL, r, SBM_RULES_MAX);
    sbm_catalog_free(&cat);
    int seen[14] = {0};
    for (int i = 0; i < n; i++)
        seen[atoi(r[i].id + 1)] = 1;
    for (int k = 1; k <= 13; k++)
        assert_true(seen[k]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(r8_modules_are_contradicted_nine_not_eight),
        cmocka_unit_test(r8b_seven_gpus_per_l2_switch_holds),
        cmocka_unit_test(sizing_rules_hold),
        cmocka_unit_test(r5_names_its_unit),
        cmocka_unit_test(inference_rules_are_unverifiable_here),
        cmocka_unit_test(verdict_uses_five_percent_and_ranges),
        cmocka_unit_test(every_rule_is_listed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
