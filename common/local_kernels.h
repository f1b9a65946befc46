/* sb_local's device kernels (common/local_kernels.cu, built by nvcc): the fill of the reduce
 * inputs and the k-buffer reduction out = in[0] + ... + in[k-1].  Plain C declarations, callable
 * from C and defined extern "C" in the .cu file; no CUDA header is needed to include this one.
 * Every function returns 0 or a cudaError_t value (cudaGetErrorString names it). */
#ifndef SB_LOCAL_KERNELS_H
#define SB_LOCAL_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* The reduce test pattern, one formula for the host fill (local_bw.c) and the device fill kernel:
 * element i of input j is (i + 7 j) mod m, m = sb_local_modulus(dtype, k) (local_bw.h). */
#define SB_LOCAL_PATTERN(i, j, m) (((uint64_t)(i) + 7u * (uint64_t)(j)) % (uint64_t)(m))

#define SB_LOCAL_KERNEL_MAX_K 16

#ifdef __cplusplus
extern "C" {
#endif

/* Writes the pattern into in[0..k-1] (device buffers of count elements of dtype, an enum
 * sb_dtype value) on the device, then waits for it. */
int sb_local_kernel_fill(int dtype, void *const *in, int k, size_t count, uint64_t modulus, int blocks);

/* Launches one reduction (grid-stride, 16-byte vector loads where the buffers allow); does not
 * wait: the caller synchronises.  half and bfloat16 are summed in float and rounded once. */
int sb_local_kernel_reduce(int dtype, void *out, void *const *in, int k, size_t count, int blocks);

#ifdef __cplusplus
}
#endif

#endif
