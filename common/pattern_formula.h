/* The data pattern's formulas, written once for the host (pattern.c, check.c) and the device
 * (kernels.cu): plain integer parameters, no function pointers, no library calls, so nvcc
 * compiles the same text as __host__ __device__ code.  pattern.h tells what the values are for. */
#ifndef SB_PATTERN_FORMULA_H
#define SB_PATTERN_FORMULA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __CUDACC__
#define SB_HD __host__ __device__
#else
#define SB_HD
#endif

/* How a collective maps (rank, element index) to the formulas (struct sb_collective.pattern). */
enum sb_pattern_kind {
    SB_PATTERN_NONE,           /* not described: the harness checks on the host */
    SB_PATTERN_REDUCE_ALL,     /* AllReduce: every rank gets the whole reduction */
    SB_PATTERN_REDUCE_SCATTER, /* ReduceScatter: rank r gets block r of the reduction */
    SB_PATTERN_ALL_TO_ALL,     /* block q of rank r's send buffer goes to rank q */
    SB_PATTERN_ALL_GATHER,     /* rank r's block lands at block r of every receive buffer */
    SB_PATTERN_BROADCAST,      /* root 0's buffer reaches every rank; the others start at -1 */
    SB_PATTERN_RING,           /* SendRecv: to rank + 1, from rank - 1 */
    SB_PATTERN_PAIRS,          /* exchange with (rank + ranks / 2) mod ranks */
    SB_PATTERN_KIND_COUNT
};

/* Everything the formulas read, as plain integers (a kernel takes it by value). */
struct sb_pattern_args {
    int64_t ranks;
    int op;            /* enum sb_op: 0 sum, 1 prod, 2 min, 3 max, 4 avg */
    int64_t exact_max; /* sb_dtype_exact_max of the dtype */
    int64_t avg_unit;  /* sb_dtype_avg_unit of the dtype and ranks (read by avg only) */
    uint64_t per_peer; /* layout.count_per_peer */
};

/* sum: m - 1 = min(8, exact_max / ranks), so the sum over all ranks stays exact; 0 when
 * ranks > exact_max (then each element is 1 on exactly one rank). */
SB_HD static inline int64_t sb_formula_sum_modulus(int64_t ranks, int64_t exact_max)
{
    int64_t per_rank = exact_max / ranks;
    if (per_rank < 1)
        return 0;
    return (per_rank < 8 ? per_rank : 8) + 1;
}

/* Sum of (start + j) mod m for j = 0 .. len-1. */
SB_HD static inline int64_t sb_formula_sum_of_mod_run(int64_t start, int64_t len, int64_t m)
{
    int64_t full = len / m, total = full * (m * (m - 1) / 2);
    for (int64_t j = 0; j < len % m; j++)
        total += (start + j) % m;
    return total;
}

/* min/max: the largest value a rank holds before the i mod 5 offset. */
SB_HD static inline int64_t sb_formula_minmax_cap(int64_t ranks, int64_t exact_max)
{
    int64_t cap = exact_max - 4;
    return ranks - 1 < cap ? ranks - 1 : cap;
}

/* avg: one rank, (i mod 1000003) mod ranks, holds unit * 2^(i mod 3) (unit alone when 4 * unit
 * leaves the exact range), every other rank 0: the average is that over ranks, exactly, whether
 * the backend divides the sum (integers) or sums inputs pre-multiplied by 1/ranks (floating
 * types: unit is chosen so that this product rounds to an integer; the zeros add nothing). */
SB_HD static inline int64_t sb_formula_avg_shift(int64_t unit, int64_t exact_max, int64_t idx)
{
    return unit <= exact_max / 4 ? idx % 3 : 0;
}

SB_HD static inline int64_t sb_formula_reduce_input(int op, int64_t ranks, int64_t exact_max, int64_t avg_unit,
                                                    int64_t rank, uint64_t i)
{
    int64_t idx = (int64_t)(i % 1000003), n = ranks;
    if (op == 4)
        return (avg_unit && idx % n == rank) ? avg_unit << sb_formula_avg_shift(avg_unit, exact_max, idx) : 0;
    if (op == 0) {
        int64_t m = sb_formula_sum_modulus(ranks, exact_max);
        return m ? (rank + idx) % m : ((rank + idx) % n == 0);
    }
    if (op == 1)
        return (idx % n == rank) ? 1 + idx % 3 : 1; /* one rank holds 1, 2 or 3; all others 1 */
    int64_t v = (rank + idx) % n, cap = sb_formula_minmax_cap(ranks, exact_max);
    return (v < cap ? v : cap) + idx % 5;
}

SB_HD static inline int64_t sb_formula_reduce_result(int op, int64_t ranks, int64_t exact_max, int64_t avg_unit,
                                                     uint64_t i)
{
    int64_t idx = (int64_t)(i % 1000003);
    if (op == 4)
        return avg_unit ? (avg_unit / ranks) << sb_formula_avg_shift(avg_unit, exact_max, idx) : 0;
    if (op == 0) {
        int64_t m = sb_formula_sum_modulus(ranks, exact_max);
        return m ? sb_formula_sum_of_mod_run(idx % m, ranks, m) : 1;
    }
    if (op == 1)
        return 1 + idx % 3;
    if (op == 2)
        return idx % 5;
    return sb_formula_minmax_cap(ranks, exact_max) + idx % 5;
}

/* Values cycle through [0, modulus): within a block consecutive offsets differ by one, and blocks
 * start 7919 (a prime) apart, wrapped into the dtype's exact range (at most 2^40). */
SB_HD static inline int64_t sb_formula_block_code(int64_t ranks, int64_t exact_max, int64_t src, int64_t dst,
                                                  uint64_t i)
{
    int64_t modulus = exact_max > ((int64_t)1 << 40) ? ((int64_t)1 << 40) : exact_max;
    int64_t block = src * ranks + dst;
    return (block * 7919 + (int64_t)(i % (uint64_t)modulus)) % modulus;
}

/* The rank's block code (src, dst, offset) for send element i (want_expected false) or
 * receive element i (true) of the block-moving kinds. */
SB_HD static inline int64_t sb_formula_moved(enum sb_pattern_kind kind, const struct sb_pattern_args *a,
                                             int64_t rank, uint64_t i, bool want_expected)
{
    int64_t n = a->ranks, max = a->exact_max;
    uint64_t pp = a->per_peer ? a->per_peer : 1;
    int64_t q = (int64_t)(i / pp);
    switch (kind) {
    case SB_PATTERN_ALL_TO_ALL:
        return want_expected ? sb_formula_block_code(n, max, q, rank, i % pp)
                             : sb_formula_block_code(n, max, rank, q, i % pp);
    case SB_PATTERN_ALL_GATHER:
        return want_expected ? sb_formula_block_code(n, max, q, q, i % pp) : sb_formula_block_code(n, max, rank, rank, i);
    case SB_PATTERN_BROADCAST:
        return (want_expected || rank == 0) ? sb_formula_block_code(n, max, 0, 0, i) : -1;
    case SB_PATTERN_RING:
        return want_expected ? sb_formula_block_code(n, max, (rank + n - 1) % n, rank, i)
                             : sb_formula_block_code(n, max, rank, (rank + 1) % n, i);
    default: { /* SB_PATTERN_PAIRS */
        int64_t peer = (rank + n / 2) % n;
        return want_expected ? sb_formula_block_code(n, max, peer, rank, i) : sb_formula_block_code(n, max, rank, peer, i);
    }
    }
}

/* The exact integer of element `index` of `rank`: its input before the call (want_expected
 * false) or what the call must leave in the receive buffer (true).  The same values as the
 * descriptors' input() and expected() (tests/unit/test_pattern_kind.c proves it). */
SB_HD static inline int64_t sb_pattern_value(enum sb_pattern_kind kind, const struct sb_pattern_args *a, int rank,
                                             uint64_t index, bool want_expected)
{
    switch (kind) {
    case SB_PATTERN_REDUCE_ALL:
    case SB_PATTERN_REDUCE_SCATTER:
        if (!want_expected)
            return sb_formula_reduce_input(a->op, a->ranks, a->exact_max, a->avg_unit, rank, index);
        if (kind == SB_PATTERN_REDUCE_SCATTER)
            index += (uint64_t)rank * a->per_peer;
        return sb_formula_reduce_result(a->op, a->ranks, a->exact_max, a->avg_unit, index);
    case SB_PATTERN_NONE:
    case SB_PATTERN_KIND_COUNT:
        return -1;
    default:
        return sb_formula_moved(kind, a, rank, index, want_expected);
    }
}

#endif
