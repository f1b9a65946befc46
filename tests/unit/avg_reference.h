/* The tests' own model of ncclAvg, written from NCCL's definition rather than from the pattern:
 * integer types sum then divide by the rank count; floating types multiply every input by the
 * dtype's 1/ranks (half and bfloat16: float(1/n) rounded to the dtype, as NCCL forms it) and
 * sum, rounding to the dtype after every step.  Returns the result as a double. */
#ifndef SB_TEST_AVG_REFERENCE_H
#define SB_TEST_AVG_REFERENCE_H

#include <stdint.h>

#include "dtype.h"

static inline double avg_round_to(enum sb_dtype t, double v)
{
    switch (t) {
    case SB_HALF: return sb_half_to_float(sb_float_to_half((float)v));
    case SB_BFLOAT16: return sb_bf16_to_float(sb_float_to_bf16((float)v));
    case SB_FLOAT: return (float)v;
    default: return v;
    }
}

static inline double avg_reference(enum sb_dtype t, int ranks, const int64_t *inputs)
{
    if (t != SB_HALF && t != SB_BFLOAT16 && t != SB_FLOAT && t != SB_DOUBLE) {
        int64_t sum = 0;
        for (int r = 0; r < ranks; r++)
            sum += inputs[r];
        return (double)(sum / ranks);
    }
    double s = t == SB_DOUBLE ? 1.0 / ranks : avg_round_to(t, (float)(1.0 / ranks)), acc = 0;
    for (int r = 0; r < ranks; r++)
        acc = avg_round_to(t, acc + avg_round_to(t, avg_round_to(t, (double)inputs[r]) * s));
    return acc;
}

#endif
