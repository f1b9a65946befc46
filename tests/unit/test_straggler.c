/* The straggler rule of --per-rank: a rank consistently above the others' median is named; noise
 * at one point, or every rank slow together, names nobody. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "straggler.h"

static void one_slow_rank_is_named(void **state)
{
    (void)state;
    struct sb_stragglers s;
    assert_int_equal(sb_stragglers_init(&s, 4), 0);
    for (int p = 0; p < 4; p++) {
        double m[4] = {10, 11, 20, 10.5};
        sb_stragglers_add(&s, m);
    }
    assert_true(sb_stragglers_flagged(&s, 2));
    for (int r = 0; r < 4; r++)
        if (r != 2)
            assert_false(sb_stragglers_flagged(&s, r));
    json_t *j = sb_stragglers_json(&s);
    assert_int_equal(json_array_size(j), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(j, 0), "rank")), 2);
    assert_true(json_real_value(json_object_get(json_array_get(j, 0), "mean_ratio")) > 1.8);
    json_decref(j);
    sb_stragglers_free(&s);
}

static void slow_at_one_point_only_is_noise(void **state)
{
    (void)state;
    struct sb_stragglers s;
    assert_int_equal(sb_stragglers_init(&s, 3), 0);
    double spike[3] = {10, 30, 10}, calm[3] = {10, 10.5, 10.2};
    sb_stragglers_add(&s, spike);
    for (int p = 0; p < 5; p++)
        sb_stragglers_add(&s, calm);
    assert_false(sb_stragglers_flagged(&s, 1));
    sb_stragglers_free(&s);
}

static void everyone_slow_together_names_nobody(void **state)
{
    (void)state;
    struct sb_stragglers s;
    assert_int_equal(sb_stragglers_init(&s, 4), 0);
    for (int p = 0; p < 5; p++) {
        double m[4] = {100 * (p + 1), 101 * (p + 1), 99 * (p + 1), 100 * (p + 1)};
        sb_stragglers_add(&s, m);
    }
    for (int r = 0; r < 4; r++)
        assert_false(sb_stragglers_flagged(&s, r));
    sb_stragglers_free(&s);
}

static void two_ranks_and_too_few_points(void **state)
{
    (void)state;
    struct sb_stragglers s;
    assert_int_equal(sb_stragglers_init(&s, 2), 0);
    double m[2] = {10, 20};
    sb_stragglers_add(&s, m);
    sb_stragglers_add(&s, m);
    assert_false(sb_stragglers_flagged(&s, 1)); /* 2 points < SB_STRAGGLER_MIN_POINTS */
    sb_stragglers_add(&s, m);
    assert_true(sb_stragglers_flagged(&s, 1));
    assert_false(sb_stragglers_flagged(&s, 0));
    sb_stragglers_free(&s);
    assert_int_equal(sb_stragglers_init(&s, 1), 0); /* one rank: nothing to compare with */
    double one[1] = {5};
    for (int p = 0; p < 4; p++)
        sb_stragglers_add(&s, one);
    assert_false(sb_stragglers_flagged(&s, 0));
    sb_stragglers_free(&s);
}

static void a_late_rank_is_a_late_arrival_not_a_straggler(void **state)
{
    (void)state;
    struct sb_stragglers s;
    assert_int_equal(sb_stragglers_init(&s, 4), 0);
    for (int p = 0; p < 4; p++) {
        double m[4] = {310, 305, 12, 320}; /* the others wait ~300 us for rank 2 */
        sb_stragglers_add(&s, m);
    }
    for (int r = 0; r < 4; r++) {
        assert_false(sb_stragglers_flagged(&s, r));
        assert_int_equal(sb_stragglers_late(&s, r), r == 2);
    }
    json_t *j = sb_stragglers_late_json(&s);
    assert_int_equal(json_array_size(j), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(j, 0), "rank")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(j, 0), "late_points")), 4);
    assert_true(json_real_value(json_object_get(json_array_get(j, 0), "mean_ratio")) < 0.05);
    json_decref(j);
    sb_stragglers_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_slow_rank_is_named),
        cmocka_unit_test(slow_at_one_point_only_is_noise),
        cmocka_unit_test(everyone_slow_together_names_nobody),
        cmocka_unit_test(two_ranks_and_too_few_points),
        cmocka_unit_test(a_late_rank_is_a_late_arrival_not_a_straggler),
    };
    return cmocka_run_group_tests_name("stragglers", tests, NULL, NULL);
}
