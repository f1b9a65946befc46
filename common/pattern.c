/* The pattern's formulas live in pattern_formula.h (shared with the device kernels); these are
 * the host entry points on a struct sb_pattern. */
#include "pattern.h"

/* Only avg reads it (and finding it takes a search the first time). */
static int64_t avg_unit(const struct sb_pattern *p)
{
    return p->op == SB_AVG ? sb_dtype_avg_unit(p->dtype, p->ranks) : 0;
}

struct sb_pattern_args sb_pattern_args_of(const struct sb_pattern *p)
{
    return (struct sb_pattern_args){.ranks = p->ranks, .op = (int)p->op, .exact_max = sb_dtype_exact_max(p->dtype),
                                    .avg_unit = avg_unit(p), .per_peer = p->layout.count_per_peer};
}

int64_t sb_pattern_reduce_input(const struct sb_pattern *p, int rank, size_t i)
{
    return sb_formula_reduce_input((int)p->op, p->ranks, sb_dtype_exact_max(p->dtype),
                                   avg_unit(p), rank, i);
}

int64_t sb_pattern_reduce_result(const struct sb_pattern *p, size_t i)
{
    return sb_formula_reduce_result((int)p->op, p->ranks, sb_dtype_exact_max(p->dtype),
                                    avg_unit(p), i);
}

int64_t sb_pattern_block_code(const struct sb_pattern *p, int src, int dst, size_t i)
{
    return sb_formula_block_code(p->ranks, sb_dtype_exact_max(p->dtype), src, dst, i);
}
