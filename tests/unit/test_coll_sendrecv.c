/* The SendRecv descriptor: rank r receives exactly what rank r-1 sent, and nothing another rank
 * sent would pass as it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define main sb_sendrecv_main
#include "../../benchmarks/sb_sendrecv.c"
#undef main

static void factor_one_and_whole_buffers(void **state)
{
    (void)state;
    assert_true(sb_sendrecv.busbw_factor(2) == 1.0);
    struct sb_layout l;
    sb_sendrecv.layout(33, 4, &l);
    assert_int_equal(l.send_count, 33);
    assert_int_equal(l.recv_count, 33);
}

static void receives_from_the_previous_rank(void **state)
{
    (void)state;
    for (int ranks = 1; ranks <= 6; ranks++) {
        struct sb_pattern p = {.ranks = ranks, .dtype = SB_INT32};
        sb_sendrecv.layout(20, ranks, &p.layout);
        for (int r = 0; r < ranks; r++)
            for (size_t i = 0; i < 20; i++) {
                int prev = (r + ranks - 1) % ranks;
                assert_int_equal(sb_sendrecv.expected(&p, r, i), sb_sendrecv.input(&p, prev, i));
                for (int s = 0; s < ranks; s++)
                    if (s != prev)
                        assert_true(sb_sendrecv.expected(&p, r, i) != sb_sendrecv.input(&p, s, i));
            }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(factor_one_and_whole_buffers),
        cmocka_unit_test(receives_from_the_previous_rank),
    };
    return cmocka_run_group_tests_name("sendrecv descriptor", tests, NULL, NULL);
}
