/* Filling, poisoning and checking device buffers on the device (common/kernels.cu, built by
 * nvcc), so that a check does not copy the buffer to the host.  The values are those of the host
 * path (check.c): sb_pattern_value of pattern_formula.h, stored in the dtype as sb_dtype_store
 * stores them and compared as sb_dtype_equals compares them.  Plain C declarations, defined
 * extern "C" in the .cu file; no CUDA header is needed to include this one.  `stream` is a
 * cudaStream_t (NULL: the default stream).  Every function waits for its work on the stream and
 * returns 0 or a cudaError_t value (cudaGetErrorString names it). */
#ifndef SB_KERNELS_H
#define SB_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "dtype.h"
#include "pattern_formula.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Element i of buf (count elements of dtype) = rank's input value i of the kind. */
int sb_dev_fill(enum sb_pattern_kind kind, const struct sb_pattern_args *args, enum sb_dtype dtype, int rank,
                void *buf, size_t count, void *stream);

/* 0xff in every byte, as sb_poison does on the host. */
int sb_dev_poison(void *buf, size_t bytes, void *stream);

/* *wrong = the number of elements i < count of buf that differ from rank's expected value i. */
int sb_dev_count_wrong(enum sb_pattern_kind kind, const struct sb_pattern_args *args, enum sb_dtype dtype, int rank,
                       const void *buf, size_t count, int64_t *wrong, void *stream);

#ifdef __cplusplus
}
#endif

#endif
