/* The AllReduce descriptor: layout, busbw factor, and the expected values against a reduction
 * simulated here from every rank's input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define main sb_allreduce_main /* the benchmark's one-line main is not the test's */
#include "../../benchmarks/sb_allreduce.c"
#undef main

static void busbw_factor_is_two_n_minus_one_over_n(void **state)
{
    (void)state;
    assert_true(sb_allreduce.busbw_factor(1) == 0.0);
    assert_true(sb_allreduce.busbw_factor(2) == 1.0);
    assert_true(sb_allreduce.busbw_factor(4) == 1.5);
    assert_true(sb_allreduce.busbw_factor(8) == 1.75);
}

static void layout_is_the_whole_vector(void **state)
{
    (void)state;
    struct sb_layout l;
    sb_allreduce.layout(100, 7, &l);
    assert_int_equal(l.count, 100);
    assert_int_equal(l.send_count, 100);
    assert_int_equal(l.recv_count, 100);
    assert_int_equal(sb_allreduce.granule(7), 1);
}

static void expected_equals_simulated_reduction(void **state)
{
    (void)state;
    for (int ranks = 1; ranks <= 9; ranks++)
        for (int op = 0; op < SB_OP_COUNT; op++) {
            struct sb_pattern p = {.ranks = ranks, .dtype = SB_INT32, .op = op};
            sb_allreduce.layout(50, ranks, &p.layout);
            for (size_t i = 0; i < 50; i++) {
                int64_t acc = sb_allreduce.input(&p, 0, i);
                for (int r = 1; r < ranks; r++) {
                    int64_t v = sb_allreduce.input(&p, r, i);
                    acc = op == SB_SUM || op == SB_AVG ? acc + v : op == SB_PROD ? acc * v
                        : op == SB_MIN ? (v < acc ? v : acc) : (v > acc ? v : acc);
                }
                if (op == SB_AVG) /* int32: ncclAvg divides the sum */
                    acc /= ranks;
                for (int r = 0; r < ranks; r++)
                    assert_int_equal(sb_allreduce.expected(&p, r, i), acc);
            }
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(busbw_factor_is_two_n_minus_one_over_n),
        cmocka_unit_test(layout_is_the_whole_vector),
        cmocka_unit_test(expected_equals_simulated_reduction),
    };
    return cmocka_run_group_tests_name("allreduce descriptor", tests, NULL, NULL);
}
