/* The data patterns: every input and result within the dtype's exact range, and the result
 * equal to the reduction done in the dtype's own arithmetic, for many rank counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "avg_reference.h"
#include "check.h"
#include "pattern.h"

static const int rank_counts[] = {1, 2, 3, 4, 5, 7, 8, 16, 31, 41, 47, 64, 95, 100, 127, 128, 255, 300, 413, 1000, 4096};

/* Reduces the inputs by storing and reloading through the dtype after every step, as a
 * backend working in that dtype would. */
static double reduce_in_dtype(const struct sb_pattern *p, size_t i)
{
    if (p->op == SB_AVG) {
        int64_t in[4096];
        assert_true(p->ranks <= 4096);
        for (int r = 0; r < p->ranks; r++)
            in[r] = sb_pattern_reduce_input(p, r, i);
        return avg_reference(p->dtype, p->ranks, in);
    }
    double acc = 0;
    unsigned char cell[8];
    for (int r = 0; r < p->ranks; r++) {
        double v = (double)sb_pattern_reduce_input(p, r, i);
        if (r == 0)
            acc = v;
        else if (p->op == SB_SUM)
            acc += v;
        else if (p->op == SB_PROD)
            acc *= v;
        else if (p->op == SB_MIN)
            acc = v < acc ? v : acc;
        else
            acc = v > acc ? v : acc;
        sb_dtype_store(p->dtype, cell, 0, (int64_t)acc);
        assert_true(sb_dtype_equals(p->dtype, cell, 0, (int64_t)acc)); /* every partial result is exact */
    }
    return acc;
}

static void reductions_are_exact_for_every_dtype_op_and_rank_count(void **state)
{
    (void)state;
    for (int t = 0; t < SB_DTYPE_COUNT; t++)
        for (int op = 0; op < SB_OP_COUNT; op++)
            for (size_t k = 0; k < sizeof rank_counts / sizeof *rank_counts; k++) {
                struct sb_pattern p = {.ranks = rank_counts[k], .dtype = t, .op = op};
                for (size_t i = 0; i < 40; i++) {
                    int64_t want = sb_pattern_reduce_result(&p, i);
                    assert_true(want >= 0 && want <= sb_dtype_exact_max(t));
                    if ((double)want != reduce_in_dtype(&p, i))
                        fail_msg("%s %s ranks %d index %zu: expected %lld, reduction gives %g", sb_dtype_name(t),
                                 sb_op_name(op), p.ranks, i, (long long)want, reduce_in_dtype(&p, i));
                }
            }
}

static void a_missing_rank_changes_some_result(void **state)
{
    (void)state;
    /* Dropping any one rank's contribution must change at least one element's result. */
    for (int op = 0; op < SB_OP_COUNT; op++) {
        struct sb_pattern p = {.ranks = 4, .dtype = SB_FLOAT, .op = op};
        for (int dropped = 0; dropped < 4; dropped++) {
            int differs = 0;
            for (size_t i = 0; i < 64 && !differs; i++) {
                double acc = op == SB_SUM || op == SB_AVG ? 0 : op == SB_PROD ? 1 : op == SB_MIN ? 1e30 : -1e30;
                for (int r = 0; r < 4; r++) {
                    if (r == dropped)
                        continue;
                    double v = (double)sb_pattern_reduce_input(&p, r, i);
                    acc = op == SB_SUM ? acc + v : op == SB_AVG ? acc + v / 4 : op == SB_PROD ? acc * v
                        : op == SB_MIN ? (v < acc ? v : acc) : (v > acc ? v : acc);
                }
                differs = acc != (double)sb_pattern_reduce_result(&p, i);
            }
            if (!differs)
                fail_msg("op %s: dropping rank %d goes unnoticed", sb_op_name(op), dropped);
        }
    }
}

static void block_codes_tell_blocks_apart(void **state)
{
    (void)state;
    for (int t = 0; t < SB_DTYPE_COUNT; t++) {
        struct sb_pattern p = {.ranks = 8, .dtype = t};
        for (int s = 0; s < 8; s++)
            for (int d = 0; d < 8; d++) {
                int64_t c = sb_pattern_block_code(&p, s, d, 5);
                assert_true(c >= 0 && c < sb_dtype_exact_max(t));
                /* the same offset in another block holds another value */
                int64_t other = sb_pattern_block_code(&p, s, (d + 1) % 8, 5);
                assert_true(c != other);
            }
    }
}

static void poison_never_matches(void **state)
{
    (void)state;
    unsigned char buf[16 * 8];
    sb_poison(buf, sizeof buf);
    for (int t = 0; t < SB_DTYPE_COUNT; t++)
        for (int64_t v = 0; v < 300 && v <= sb_dtype_exact_max(t); v++)
            assert_false(sb_dtype_equals(t, buf, 1, v));
}

/* avg's unit u = c * ranks: one rank holding u and the others 0 average to exactly c by NCCL's
 * pre-multiplication (the tests' own model) and by division alike, for every rank count. */
static void avg_unit_averages_exactly_for_every_rank_count(void **state)
{
    (void)state;
    static int64_t in[4096];
    for (int t = 0; t < SB_DTYPE_COUNT; t++)
        for (int n = 1; n <= 4096; n++) {
            int64_t u = sb_dtype_avg_unit(t, n);
            if (u == 0)
                continue;
            unsigned char cell[8];
            sb_dtype_store(t, cell, 0, u);
            if (u % n != 0 || !sb_dtype_equals(t, cell, 0, u))
                fail_msg("%s on %d ranks: unit %lld is not a stored multiple of the rank count", sb_dtype_name(t), n,
                         (long long)u);
            in[0] = u;
            for (int r = 1; r < n; r++)
                in[r] = 0;
            if (avg_reference(t, n, in) != (double)(u / n))
                fail_msg("%s on %d ranks: the average of %lld is %g, not %lld", sb_dtype_name(t), n, (long long)u,
                         avg_reference(t, n, in), (long long)(u / n));
        }
    /* Powers of two always average exactly; 41 float ranks need c = 3 (41 * float(1/41) < 1). */
    for (int n = 1; n <= 256; n *= 2)
        for (int t = 0; t < SB_DTYPE_COUNT; t++)
            if (n <= sb_dtype_exact_max(t))
                assert_int_equal(sb_dtype_avg_unit(t, n), n);
    assert_int_equal(sb_dtype_avg_unit(SB_FLOAT, 41), 123);
    assert_int_equal(sb_dtype_avg_unit(SB_INT8, 128), 0);
    /* Every floating dtype has an exact unit for every rank count up to 64 (and float, double
     * for all up to 4096). */
    for (int n = 1; n <= 4096; n++) {
        assert_true(sb_dtype_avg_unit(SB_FLOAT, n) != 0 && sb_dtype_avg_unit(SB_DOUBLE, n) != 0);
        if (n <= 64)
            assert_true(sb_dtype_avg_unit(SB_HALF, n) != 0 && sb_dtype_avg_unit(SB_BFLOAT16, n) != 0);
    }
}

/* The avg results are not all alike: the rank holding the value and its size change with i. */
static void avg_pattern_moves_the_value_between_ranks(void **state)
{
    (void)state;
    struct sb_pattern p = {.ranks = 4, .dtype = SB_FLOAT, .op = SB_AVG};
    int seen[8] = {0}, holders[4] = {0};
    for (size_t i = 0; i < 24; i++) {
        int64_t want = sb_pattern_reduce_result(&p, i);
        assert_true(want == 1 || want == 2 || want == 4);
        seen[want] = 1;
        int nonzero = 0;
        for (int r = 0; r < 4; r++)
            if (sb_pattern_reduce_input(&p, r, i)) {
                nonzero++;
                holders[r] = 1;
            }
        assert_int_equal(nonzero, 1);
    }
    assert_true(seen[1] && seen[2] && seen[4]);
    assert_true(holders[0] && holders[1] && holders[2] && holders[3]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reductions_are_exact_for_every_dtype_op_and_rank_count),
        cmocka_unit_test(a_missing_rank_changes_some_result),
        cmocka_unit_test(block_codes_tell_blocks_apart),
        cmocka_unit_test(poison_never_matches),
        cmocka_unit_test(avg_unit_averages_exactly_for_every_rank_count),
        cmocka_unit_test(avg_pattern_moves_the_value_between_ranks),
    };
    return cmocka_run_group_tests_name("pattern", tests, NULL, NULL);
}
