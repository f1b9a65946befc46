/* Element types and reduction operators: names, sizes, exact integer ranges, conversions. */
#ifndef SB_DTYPE_H
#define SB_DTYPE_H

#include <stddef.h>
#include <stdint.h>

enum sb_dtype {
    SB_INT8, SB_UINT8, SB_INT32, SB_UINT32, SB_INT64, SB_UINT64,
    SB_HALF, SB_BFLOAT16, SB_FLOAT, SB_DOUBLE,
    SB_DTYPE_COUNT
};

/* SB_AVG is NCCL's ncclAvg (MPI has none): for floating types every input times the dtype's
 * 1/ranks, then summed; for integer types the sum divided by ranks. */
enum sb_op { SB_SUM, SB_PROD, SB_MIN, SB_MAX, SB_AVG, SB_OP_COUNT };

const char *sb_dtype_name(enum sb_dtype t);
size_t sb_dtype_size(enum sb_dtype t);
/* Parses a name ("float", "fp32", "half", ...); returns -1 when unknown. */
int sb_dtype_parse(const char *name);
/* Comma-separated list of the accepted canonical names, for error messages. */
const char *sb_dtype_names(void);

const char *sb_op_name(enum sb_op op);
int sb_op_parse(const char *name);
const char *sb_op_names(void);

/* Largest integer k such that every integer in [0, k] is stored exactly and is not the
 * all-ones bit pattern used to poison receive buffers (so 0xff.. never equals an expected value). */
int64_t sb_dtype_exact_max(enum sb_dtype t);

/* avg: the smallest multiple u = c * ranks (1 <= c <= 4096, u stored exactly in t) such that the
 * average of u held by one rank and 0 by all the others is exactly c in dtype t however it is
 * computed: the sum divided by ranks gives c exactly, and for floating types so must NCCL's
 * pre-multiplication by the dtype's 1/ranks (half(float(1/n)), bf16(float(1/n)), float(1/n),
 * 1.0/n): round(u * s) == c.  c = 1 works for most rank counts, but for some (float: 41, 47,
 * 55, ...) s is rounded down far enough that n * s falls one ulp below 1.  For integer types
 * u = ranks.  0 when no c works (int8 beyond 127 ranks, some large half and bfloat16 rank
 * counts): then avg has no exactly checkable input and every element is 0. */
int64_t sb_dtype_avg_unit(enum sb_dtype t, int64_t ranks);

/* Stores the integer v (0 <= v <= sb_dtype_exact_max) at element i of buf. */
void sb_dtype_store(enum sb_dtype t, void *buf, size_t i, int64_t v);
/* 1 when element i of buf holds exactly the integer v. */
int sb_dtype_equals(enum sb_dtype t, const void *buf, size_t i, int64_t v);

/* IEEE binary16 and bfloat16 conversions (round to nearest even). */
uint16_t sb_float_to_half(float f);
float sb_half_to_float(uint16_t h);
uint16_t sb_float_to_bf16(float f);
float sb_bf16_to_float(uint16_t b);

#endif
