/* Sizing arithmetic for each catalog system. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sizing.h"

struct fixture {
    struct sbm_catalog cat;
};

static int load(void **state)
{
    static struct fixture f;
    struct sbm_error err;
    if (sbm_catalog_load(SB_CATALOG_DIR, &f.cat, &err) != SBM_OK)
        return -1;
    *state = &f;
    return 0;
}

static int unload(void **state)
{
    sbm_catalog_free(&((struct fixture *)*state)->cat);
    return 0;
}

static double up_value(void **state, const char *system, int tiers, const char *key)
{
    struct fixture *f = *state;
    struct sbm_system sys;
    struct sbm_error err;
    struct sbm_sizing s;
    assert_int_equal(sbm_system_resolve(&f->cat, system, &sys, &err), SBM_OK);
    assert_int_equal(sbm_size_scale_up_tiers(&f->cat, &sys, 0, tiers ? tiers : sys.up.tiers, &s), 0);
    const struct sbm_quantity *q = sbm_sizing_get(&s, key);
    assert_non_null(q);
    return q->value;
}

static void every_system_resolves_and_sizes(void **state)
{
    struct fixture *f = *state;
    const char *key;
    json_t *entry;
    int n = 0;
    json_object_foreach(sbm_catalog_section(&f->cat, "systems"), key, entry) {
        struct sbm_system sys;
        struct sbm_error err;
        struct sbm_sizing up, out;
        (void)entry;
        assert_int_equal(sbm_system_resolve(&f->cat, key, &sys, &err), SBM_OK);
        assert_int_equal(sbm_size_scale_up(&f->cat, &sys, 0, &up), 0);
        assert_int_equal(sbm_size_scale_out(&f->cat, &sys, 0, 0, &out), 0);
        n++;
    }
    assert_true(n >= 9);
}

static void nvl72_one_tier(void **state)
{
    assert_true(up_value(state, "gb200-nvl72", 0, "l1_chips") == 18);
    assert_true(up_value(state, "gb200-nvl72", 0, "l1_trays") == 9);
    assert_true(up_value(state, "gb200-nvl72", 0, "l1_port_use") == 1.0);
    assert_true(up_value(state, "gb200-nvl72", 0, "one_tier_max_gpus") == 72);
}

static void nvl36x2_doubles_tier_one(void **state)
{
    assert_true(up_value(state, "gb200-nvl36x2", 0, "l1_trays") == 18);
    assert_true(up_value(state, "gb200-nvl36x2", 0, "l1_up_fraction") == 0.5);
    /* direct links between racks: one module per up port */
    assert_true(up_value(state, "gb200-nvl36x2", 0, "t2_modules_1600g_per_gpu") == 4.5);
}

static void nvl576_second_tier(void **state)
{
    assert_true(up_value(state, "gb200-nvl576", 0, "l1_chips") == 288);
    assert_true(up_value(state, "gb200-nvl576", 0, "l2_chips") == 144);
    assert_true(up_value(state, "gb200-nvl576", 0, "l2_chips_per_gpu") == 0.25);
    assert_true(up_value(state, "gb200-nvl576", 0, "extra_chips_per_gpu") == 0.5);
    assert_true(up_value(state, "gb200-nvl576", 0, "t2_modules_1600g_per_gpu") == 9);
}

static void gh200_nvl256_needs_nine_800g_modules(void **state)
{
    assert_true(up_value(state, "gh200-nvl256", 0, "t2_modules_800g_per_gpu") == 9);
    assert_true(up_value(state, "gh200-nvl256", 0, "l2_trays") == 36);
    assert_true(fabs(up_value(state, "gh200-nvl256", 0, "gpus_per_l2_tray") - 256.0 / 36) < 1e-12);
}

static void eight_gpu_baseboards(void **state)
{
    assert_true(up_value(state, "hgx-b200", 0, "l1_chips") == 2);
    assert_true(up_value(state, "dgx-h100", 0, "l1_chips") == 3); /* ports bound; HGX uses 4 */
    assert_true(up_value(state, "dgx-h100", 0, "l1_chips_installed") == 4); /* one board of 4 */
    assert_true(up_value(state, "dgx-h100", 0, "gpu_scale_up_gbit_s") == 3600);
}

static void cloudmatrix_is_unverifiable(void **state)
{
    struct fixture *f = *state;
    struct sbm_system sys;
    struct sbm_error err;
    struct sbm_sizing s;
    assert_int_equal(sbm_system_resolve(&f->cat, "cloudmatrix-384", &sys, &err), SBM_OK);
    sbm_size_scale_up(&f->cat, &sys, 0, &s);
    assert_true(s.unverifiable[0] != '\0');
    assert_null(sbm_sizing_get(&s, "l1_chips"));
}

static void fat_tree_of_q3400(void **state)
{
    struct fixture *f = *state;
    struct sbm_system sys;
    struct sbm_error err;
    struct sbm_sizing s;
    assert_true(sbm_fat_tree_capacity(144, 2) == 10368 && sbm_fat_tree_capacity(144, 3) == 746496);
    assert_int_equal(sbm_system_resolve(&f->cat, "gb200-nvl576", &sys, &err), SBM_OK);
    assert_int_equal(sbm_size_scale_out(&f->cat, &sys, 10368, 2, &s), 0);
    assert_true(sbm_sizing_get(&s, "switches")->value == 216);
    assert_true(sbm_sizing_get(&s, "modules_1600g_per_gpu")->value == 2);
    assert_int_equal(sbm_size_scale_out(&f->cat, &sys, 746496, 3, &s), 0);
    assert_true(sbm_sizing_get(&s, "switches")->value == 25920);
    assert_true(sbm_sizing_get(&s, "modules_1600g_per_gpu")->value == 3);
    assert_int_equal(sbm_size_scale_out(&f->cat, &sys, 20000, 2, &s), -1); /* over capacity */
    assert_int_equal(sbm_size_scale_out(&f->cat, &sys, 100, 0, &s), 0);
    assert_true(sbm_sizing_get(&s, "tiers")->value == 1);
}

static void media_by_reach(void **state)
{
    struct fixture *f = *state;
    char name[48];
    double reach;
    assert_int_equal(sbm_medium_for_length(&f->cat, 0.8, name, sizeof name, &reach), 0);
    assert_string_equal(name, "passive-copper");
    sbm_medium_for_length(&f->cat, 2.5, name, sizeof name, &reach);
    assert_string_equal(name, "aec");
    sbm_medium_for_length(&f->cat, 15, name, sizeof name, &reach);
    assert_string_equal(name, "optics");
    assert_int_equal(sbm_medium_for_length(&f->cat, 1e6, name, sizeof name, &reach), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_system_resolves_and_sizes),
        cmocka_unit_test(nvl72_one_tier),
        cmocka_unit_test(nvl36x2_doubles_tier_one),
        cmocka_unit_test(nvl576_second_tier),
        cmocka_unit_test(gh200_nvl256_needs_nine_800g_modules),
        cmocka_unit_test(eight_gpu_baseboards),
        cmocka_unit_test(cloudmatrix_is_unverifiable),
        cmocka_unit_test(fat_tree_of_q3400),
        cmocka_unit_test(media_by_reach),
    };
    return cmocka_run_group_tests(tests, load, unload);
}
