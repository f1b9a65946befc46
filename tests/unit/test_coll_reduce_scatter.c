/* The ReduceScatter descriptor: layout, busbw factor, and expected values against a reduction
 * computed here from every rank's input, for every dtype and op. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define main sb_reduce_scatter_main
#include "../../benchmarks/sb_reduce_scatter.c"
#include "avg_reference.h"
#undef main

static void busbw_factor_is_n_minus_one_over_n(void **state)
{
    (void)state;
    assert_true(sb_reduce_scatter.busbw_factor(2) == 0.5);
    assert_true(sb_reduce_scatter.busbw_factor(8) == 0.875);
}

static void layout_sends_all_receives_one_block(void **state)
{
    (void)state;
    struct sb_layout l;
    sb_reduce_scatter.layout(96, 4, &l);
    assert_int_equal(l.count, 96);
    assert_int_equal(l.count_per_peer, 24);
    assert_int_equal(l.send_count, 96);
    assert_int_equal(l.recv_count, 24);
    assert_null(sb_reduce_scatter.in_place_offset); /* MPI leaves the block at the start */
}

static int64_t reduce(enum sb_op op, int64_t a, int64_t b)
{
    switch (op) {
    case SB_SUM: return a + b;
    case SB_PROD: return a * b;
    case SB_MIN: return a < b ? a : b;
    default: return a > b ? a : b;
    }
}

static void expected_equals_reduction_of_the_right_block(void **state)
{
    (void)state;
    for (int t = 0; t < SB_DTYPE_COUNT; t++)
        for (int op = 0; op < SB_OP_COUNT; op++)
            for (int ranks = 1; ranks <= 5; ranks++) {
                struct sb_pattern p = {.ranks = ranks, .dtype = t, .op = op};
                sb_reduce_scatter.layout((size_t)ranks * 7, ranks, &p.layout);
                for (int r = 0; r < ranks; r++)
                    for (size_t j = 0; j < 7; j++) {
                        size_t g = (size_t)r * 7 + j;
                        int64_t in[5];
                        for (int s = 0; s < ranks; s++)
                            in[s] = sb_reduce_scatter.input(&p, s, g);
                        if (op == SB_AVG) {
                            assert_true((double)sb_reduce_scatter.expected(&p, r, j) ==
                                        avg_reference((enum sb_dtype)t, ranks, in));
                            continue;
                        }
                        int64_t v = in[0];
                        for (int s = 1; s < ranks; s++)
                            v = reduce(op, v, in[s]);
                        assert_int_equal(sb_reduce_scatter.expected(&p, r, j), v);
                    }
            }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(busbw_factor_is_n_minus_one_over_n),
        cmocka_unit_test(layout_sends_all_receives_one_block),
        cmocka_unit_test(expected_equals_reduction_of_the_right_block),
    };
    return cmocka_run_group_tests_name("reduce_scatter descriptor", tests, NULL, NULL);
}
