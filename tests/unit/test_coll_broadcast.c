/* The Broadcast descriptor: one buffer, busbw factor 1, every rank expects the root's data, and a
 * non-root rank's starting value is never an expected one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define main sb_broadcast_main
#include "../../benchmarks/sb_broadcast.c"
#undef main

static void one_buffer_factor_one(void **state)
{
    (void)state;
    assert_true(sb_broadcast.one_buffer);
    assert_true(sb_broadcast.busbw_factor(7) == 1.0);
    struct sb_layout l;
    sb_broadcast.layout(100, 3, &l);
    assert_int_equal(l.send_count, 100);
    assert_int_equal(l.recv_count, 100);
}

static void every_rank_expects_the_roots_data(void **state)
{
    (void)state;
    for (int t = 0; t < SB_DTYPE_COUNT; t++) {
        struct sb_pattern p = {.ranks = 5, .dtype = t};
        sb_broadcast.layout(300, 5, &p.layout);
        for (int r = 0; r < 5; r++)
            for (size_t i = 0; i < 300; i++) {
                assert_int_equal(sb_broadcast.expected(&p, r, i), sb_broadcast.input(&p, 0, i));
                if (r > 0) { /* an element left as it was is caught */
                    char buf[8];
                    sb_dtype_store(t, buf, 0, sb_broadcast.input(&p, r, i));
                    assert_false(sb_dtype_equals(t, buf, 0, sb_broadcast.expected(&p, r, i)));
                }
            }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_buffer_factor_one),
        cmocka_unit_test(every_rank_expects_the_roots_data),
    };
    return cmocka_run_group_tests_name("broadcast descriptor", tests, NULL, NULL);
}
