/* Exactly checkable data: every input element is a small integer chosen so that the result of
 * every op is exactly representable in every dtype for any rank count, so checks use ==. */
#ifndef SB_PATTERN_H
#define SB_PATTERN_H

#include <stddef.h>
#include <stdint.h>

#include "collective.h"

/* Reductions (AllReduce, ReduceScatter, Reduce): rank r's element i, and the reduced value. */
int64_t sb_pattern_reduce_input(const struct sb_pattern *p, int rank, size_t i);
int64_t sb_pattern_reduce_result(const struct sb_pattern *p, size_t i);

/* Data moved unchanged (AllToAll, AllGather, Broadcast): the element that rank `src` sends to
 * rank `dst` at offset i of that block.  Source, destination and offset all change the value,
 * so a block delivered to the wrong place is detected, not only a wrong value. */
int64_t sb_pattern_block_code(const struct sb_pattern *p, int src, int dst, size_t i);

#endif
