/* The AllGather descriptor: layout, busbw factor, in-place offset, and expected values against
 * a gather simulated here from every rank's input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define main sb_allgather_main
#include "../../benchmarks/sb_allgather.c"
#undef main

static void busbw_factor_is_n_minus_one_over_n(void **state)
{
    (void)state;
    assert_true(sb_allgather.busbw_factor(1) == 0.0);
    assert_true(sb_allgather.busbw_factor(4) == 0.75);
}

static void layout_sends_one_block_receives_all(void **state)
{
    (void)state;
    struct sb_layout l;
    sb_allgather.layout(96, 3, &l);
    assert_int_equal(l.count, 96);
    assert_int_equal(l.count_per_peer, 32);
    assert_int_equal(l.send_count, 32);
    assert_int_equal(l.recv_count, 96);
    assert_int_equal(sb_allgather.granule(3), 3);
    assert_int_equal(sb_allgather.in_place_offset(&l, 2), 64);
}

static void expected_equals_simulated_gather(void **state)
{
    (void)state;
    for (int t = 0; t < SB_DTYPE_COUNT; t++)
        for (int ranks = 1; ranks <= 6; ranks++) {
            struct sb_pattern p = {.ranks = ranks, .dtype = t};
            sb_allgather.layout((size_t)ranks * 10, ranks, &p.layout);
            for (int r = 0; r < ranks; r++)
                for (int s = 0; s < ranks; s++)
                    for (size_t j = 0; j < 10; j++)
                        assert_int_equal(sb_allgather.expected(&p, r, (size_t)s * 10 + j), sb_allgather.input(&p, s, j));
        }
}

static void a_block_from_the_wrong_rank_is_wrong(void **state)
{
    (void)state;
    struct sb_pattern p = {.ranks = 4, .dtype = SB_INT8};
    sb_allgather.layout(40, 4, &p.layout);
    for (size_t j = 0; j < 10; j++)
        assert_true(sb_allgather.expected(&p, 0, 10 + j) != sb_allgather.input(&p, 2, j));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(busbw_factor_is_n_minus_one_over_n),
        cmocka_unit_test(layout_sends_one_block_receives_all),
        cmocka_unit_test(expected_equals_simulated_gather),
        cmocka_unit_test(a_block_from_the_wrong_rank_is_wrong),
    };
    return cmocka_run_group_tests_name("allgather descriptor", tests, NULL, NULL);
}
