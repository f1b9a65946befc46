/* The descriptor's `pattern` kind, evaluated by sb_pattern_value (the code the device kernels
 * run), equals the descriptor's own input() and expected() for 1..9 ranks, every dtype and op,
 * every element of small buffers and the block boundaries (and index wraps) of large ones.
 * Built once per collective: SB_KIND_FILE names the benchmark file, SB_KIND_DESC its descriptor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#define main sb_kind_benchmark_main
#include SB_KIND_FILE
#undef main

static const struct sb_collective *const coll = &SB_KIND_DESC;

static void check_index(const struct sb_pattern *p, const struct sb_pattern_args *a, int rank, size_t i,
                        bool want_expected)
{
    int64_t want = want_expected ? coll->expected(p, rank, i) : coll->input(p, rank, i);
    int64_t got = sb_pattern_value(coll->pattern, a, rank, i, want_expected);
    if (got != want)
        fail_msg("%s %s %s, %d ranks, count %zu: rank %d %s element %zu: sb_pattern_value %lld, descriptor %lld",
                 coll->name, sb_dtype_name(p->dtype), sb_op_name(p->op), p->ranks, p->layout.count, rank,
                 want_expected ? "expected" : "input", i, (long long)got, (long long)want);
}

/* Every element of both buffers of every rank. */
static void check_all(const struct sb_pattern *p)
{
    struct sb_pattern_args a = sb_pattern_args_of(p);
    for (int r = 0; r < p->ranks; r++) {
        for (size_t i = 0; i < p->layout.send_count; i++)
            check_index(p, &a, r, i, false);
        for (size_t i = 0; i < p->layout.recv_count; i++)
            check_index(p, &a, r, i, true);
    }
}

/* Around index x: x - 2 .. x + 2, those inside a buffer of n elements. */
static void check_around(const struct sb_pattern *p, const struct sb_pattern_args *a, int rank, size_t x, size_t n,
                         bool want_expected)
{
    for (size_t i = x >= 2 ? x - 2 : 0; i <= x + 2 && i < n; i++)
        check_index(p, a, rank, i, want_expected);
}

/* Large buffers: the block starts, the ends, and the places where the formulas wrap (the reduce
 * index at 1000003, the block code at the dtype's exact range). */
static void check_edges(const struct sb_pattern *p)
{
    struct sb_pattern_args a = sb_pattern_args_of(p);
    size_t wraps[] = {0, 1000003, 2000006, (size_t)a.exact_max, (size_t)1 << 40, p->layout.send_count,
                      p->layout.recv_count};
    for (int r = 0; r < p->ranks; r++)
        for (int e = 0; e < 2; e++) {
            size_t n = e ? p->layout.recv_count : p->layout.send_count;
            for (int b = 0; b <= p->ranks; b++)
                check_around(p, &a, r, (size_t)b * p->layout.count_per_peer, n, e);
            for (size_t w = 0; w < sizeof wraps / sizeof *wraps; w++)
                check_around(p, &a, r, wraps[w], n, e);
        }
}

static const size_t per_rank_counts[] = {1, 3, 300};            /* every element checked */
static const size_t large_per_rank[] = {1000003, 3000001, (size_t)1 << 31}; /* edges only */

static void sweep(void (*check)(const struct sb_pattern *), const size_t *counts, size_t n_counts)
{
    for (int ranks = 1; ranks <= 9; ranks++)
        for (int t = 0; t < SB_DTYPE_COUNT; t++)
            for (int op = 0; op < SB_OP_COUNT; op++)
                for (size_t k = 0; k < n_counts; k++) {
                    struct sb_pattern p = {.ranks = ranks, .dtype = t, .op = op};
                    size_t count = counts[k] * coll->granule(ranks);
                    coll->layout(count, ranks, &p.layout);
                    check(&p);
                }
}

static void the_kind_is_set(void **state)
{
    (void)state;
    assert_true(coll->pattern > SB_PATTERN_NONE && coll->pattern < SB_PATTERN_KIND_COUNT);
}

static void every_element_of_small_buffers_matches(void **state)
{
    (void)state;
    sweep(check_all, per_rank_counts, sizeof per_rank_counts / sizeof *per_rank_counts);
}

static void block_boundaries_and_wraps_of_large_buffers_match(void **state)
{
    (void)state;
    sweep(check_edges, large_per_rank, sizeof large_per_rank / sizeof *large_per_rank);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_kind_is_set),
        cmocka_unit_test(every_element_of_small_buffers_matches),
        cmocka_unit_test(block_boundaries_and_wraps_of_large_buffers_match),
    };
    char name[64];
    snprintf(name, sizeof name, "%s pattern kind", coll->name);
    return cmocka_run_group_tests_name(name, tests, NULL, NULL);
}
