/* The round-robin schedule of sb_pairs: every pair exactly once, nobody twice in a round, the
 * partner relation symmetric, one bye per round for odd n, and n - 1 rounds for even n. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "schedule.h"

/* Checks the whole tournament of n members. */
static void check_tournament(int n)
{
    int rounds = sb_schedule_rounds(n);
    assert_int_equal(rounds, n % 2 == 0 ? n - 1 : n);
    int *met = calloc((size_t)n * (size_t)n, sizeof *met);
    assert_non_null(met);
    for (int r = 0; r < rounds; r++) {
        int byes = 0;
        for (int m = 0; m < n; m++) {
            int p = sb_schedule_partner(n, r, m);
            if (p < 0) {
                byes++;
                continue;
            }
            assert_true(p < n);
            assert_int_not_equal(p, m);
            assert_int_equal(sb_schedule_partner(n, r, p), m); /* so nobody is in two pairs */
            met[m * n + p]++;
        }
        assert_int_equal(byes, n % 2); /* odd n: exactly one sits out */
    }
    for (int a = 0; a < n; a++)
        for (int b = 0; b < n; b++)
            assert_int_equal(met[a * n + b], a == b ? 0 : 1); /* every pair exactly once */
    free(met);
}

static void even_counts(void **state)
{
    (void)state;
    for (int n = 2; n <= 64; n += 2)
        check_tournament(n);
    check_tournament(1000);
}

static void odd_counts(void **state)
{
    (void)state;
    for (int n = 3; n <= 63; n += 2)
        check_tournament(n);
    check_tournament(999);
}

static void degenerate_and_out_of_range(void **state)
{
    (void)state;
    assert_int_equal(sb_schedule_rounds(0), 0);
    assert_int_equal(sb_schedule_rounds(1), 0);
    assert_int_equal(sb_schedule_partner(1, 0, 0), -1);
    assert_int_equal(sb_schedule_partner(4, 3, 0), -1);  /* round past the end */
    assert_int_equal(sb_schedule_partner(4, -1, 0), -1);
    assert_int_equal(sb_schedule_partner(4, 0, 4), -1);  /* member past the end */
    assert_int_equal(sb_schedule_partner(2, 0, 0), 1);
    assert_int_equal(sb_schedule_partner(2, 0, 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(even_counts),
        cmocka_unit_test(odd_counts),
        cmocka_unit_test(degenerate_and_out_of_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
