#include "pattern.h"

/* sum: input(r, i) = (r + i) mod m, with m - 1 = min(8, exact_max / ranks) so that the sum of
 * all ranks stays exact; when ranks > exact_max (e.g. bf16 on 300 ranks) each element is 1 on
 * exactly one rank, (r + i) mod ranks == 0, and the sum is 1. */
static int64_t sum_modulus(const struct sb_pattern *p)
{
    int64_t per_rank = sb_dtype_exact_max(p->dtype) / p->ranks;
    if (per_rank < 1)
        return 0;
    return (per_rank < 8 ? per_rank : 8) + 1;
}

/* Sum of (start + j) mod m for j = 0 .. len-1. */
static int64_t sum_of_mod_run(int64_t start, int64_t len, int64_t m)
{
    int64_t full = len / m, total = full * (m * (m - 1) / 2);
    for (int64_t j = 0; j < len % m; j++)
        total += (start + j) % m;
    return total;
}

/* min/max: input(r, i) = min((r + i) mod ranks, cap) + i mod 5: the rank holding the minimum
 * (and the maximum) changes with i, so a dropped or misplaced contribution shows somewhere. */
static int64_t minmax_cap(const struct sb_pattern *p)
{
    int64_t cap = sb_dtype_exact_max(p->dtype) - 4;
    return p->ranks - 1 < cap ? p->ranks - 1 : cap;
}

int64_t sb_pattern_reduce_input(const struct sb_pattern *p, int rank, size_t i)
{
    int64_t r = rank, idx = (int64_t)(i % 1000003), n = p->ranks;
    switch (p->op) {
    case SB_SUM: {
        int64_t m = sum_modulus(p);
        return m ? (r + idx) % m : ((r + idx) % n == 0);
    }
    case SB_PROD:
        /* one rank per element holds 1, 2 or 3; all others 1: the product is that value */
        return (idx % n == r) ? 1 + idx % 3 : 1;
    default: {
        int64_t v = (r + idx) % n, cap = minmax_cap(p);
        return (v < cap ? v : cap) + idx % 5;
    }
    }
}

int64_t sb_pattern_reduce_result(const struct sb_pattern *p, size_t i)
{
    int64_t idx = (int64_t)(i % 1000003), n = p->ranks;
    switch (p->op) {
    case SB_SUM: {
        int64_t m = sum_modulus(p);
        return m ? sum_of_mod_run(idx % m, n, m) : 1;
    }
    case SB_PROD:
        return 1 + idx % 3;
    case SB_MIN:
        return idx % 5;
    default:
        return minmax_cap(p) + idx % 5;
    }
}

int64_t sb_pattern_block_code(const struct sb_pattern *p, int src, int dst, size_t i)
{
    /* Values cycle through [0, modulus): within a block consecutive offsets differ by one, and
     * blocks start 7919 (a prime) apart, wrapped into the dtype's exact range. */
    int64_t modulus = sb_dtype_exact_max(p->dtype);
    if (modulus > ((int64_t)1 << 40))
        modulus = (int64_t)1 << 40;
    int64_t block = (int64_t)src * p->ranks + dst;
    return (block * 7919 + (int64_t)(i % (uint64_t)modulus)) % modulus;
}
