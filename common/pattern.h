/* Exactly checkable data: every input element is a small integer chosen so that the result of
 * every op is exactly representable in every dtype for any rank count, so checks use ==. */
#ifndef SB_PATTERN_H
#define SB_PATTERN_H

#include <stddef.h>
#include <stdint.h>

#include "collective.h"
#include "pattern_formula.h"

/* The formulas' parameters for p (sb_pattern_value, the device kernels). */
struct sb_pattern_args sb_pattern_args_of(const struct sb_pattern *p);

/* sum: input(r, i) = (r + i) mod m, with m - 1 = min(8, exact_max / ranks) so that the sum of
 * all ranks stays exact; when ranks > exact_max (e.g. bf16 on 300 ranks) each element is 1 on
 * exactly one rank, (r + i) mod ranks == 0, and the sum is 1.  prod: one rank per element holds
 * 1, 2 or 3, all others 1.  min/max: input(r, i) = min((r + i) mod ranks, cap) + i mod 5: the
 * rank holding the minimum (and the maximum) changes with i, so a dropped or misplaced
 * contribution shows somewhere.  avg (NCCL only): one rank per element, i mod ranks, holds
 * u * 2^(i mod 3) and all others 0, where u = c * ranks is sb_dtype_avg_unit (see dtype.h):
 * the average is c * 2^(i mod 3) exactly in every dtype, whether computed by division of the
 * sum or by pre-multiplying with the dtype's 1/ranks.  (i is taken mod 1000003.)
 * Reductions (AllReduce, ReduceScatter, Reduce): rank r's element i, and the reduced value. */
int64_t sb_pattern_reduce_input(const struct sb_pattern *p, int rank, size_t i);
int64_t sb_pattern_reduce_result(const struct sb_pattern *p, size_t i);

/* Data moved unchanged (AllToAll, AllGather, Broadcast): the element that rank `src` sends to
 * rank `dst` at offset i of that block.  Source, destination and offset all change the value,
 * so a block delivered to the wrong place is detected, not only a wrong value. */
int64_t sb_pattern_block_code(const struct sb_pattern *p, int src, int dst, size_t i);

#endif
