/* The AllToAll descriptor: layout, busbw factor, and the expected values against an exchange
 * simulated here from every rank's send buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define main sb_alltoall_main
#include "../../benchmarks/sb_alltoall.c"
#undef main

static void busbw_factor_is_n_minus_one_over_n(void **state)
{
    (void)state;
    assert_true(sb_alltoall.busbw_factor(1) == 0.0);
    assert_true(sb_alltoall.busbw_factor(2) == 0.5);
    assert_true(sb_alltoall.busbw_factor(4) == 0.75);
}

static void layout_splits_the_buffer_per_peer(void **state)
{
    (void)state;
    struct sb_layout l;
    sb_alltoall.layout(96, 3, &l);
    assert_int_equal(l.count, 96);
    assert_int_equal(l.count_per_peer, 32);
    assert_int_equal(l.send_count, 96);
    assert_int_equal(l.recv_count, 96);
    assert_int_equal(sb_alltoall.granule(3), 3);
}

static void expected_equals_simulated_exchange(void **state)
{
    (void)state;
    for (int t = 0; t < SB_DTYPE_COUNT; t++)
        for (int ranks = 1; ranks <= 6; ranks++) {
            struct sb_pattern p = {.ranks = ranks, .dtype = t};
            sb_alltoall.layout((size_t)ranks * 10, ranks, &p.layout);
            size_t pp = p.layout.count_per_peer;
            for (int r = 0; r < ranks; r++)
                for (int s = 0; s < ranks; s++)
                    for (size_t j = 0; j < pp; j++) /* block r of sender s lands in block s of rank r */
                        assert_int_equal(sb_alltoall.expected(&p, r, (size_t)s * pp + j),
                                         sb_alltoall.input(&p, s, (size_t)r * pp + j));
        }
}

static void swapped_blocks_would_be_wrong(void **state)
{
    (void)state;
    struct sb_pattern p = {.ranks = 4, .dtype = SB_INT8};
    sb_alltoall.layout(40, 4, &p.layout);
    /* block 1 of rank 0 holding what rank 2 sent is detected at every offset */
    for (size_t j = 0; j < 10; j++)
        assert_true(sb_alltoall.expected(&p, 0, 10 + j) != sb_alltoall.input(&p, 2, j));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(busbw_factor_is_n_minus_one_over_n),
        cmocka_unit_test(layout_splits_the_buffer_per_peer),
        cmocka_unit_test(expected_equals_simulated_exchange),
        cmocka_unit_test(swapped_blocks_would_be_wrong),
    };
    return cmocka_run_group_tests_name("alltoall descriptor", tests, NULL, NULL);
}
