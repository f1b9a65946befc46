/* sb_local's device reduction, the GPU's gamma (built where configure found nvcc; the kernels are
 * in local_kernels.cu): k inputs and the output in device memory on device 0, the inputs filled
 * by a kernel with the host pattern (no upload), one reduction kernel per timed call followed by
 * cudaDeviceSynchronize, and the check on the host after copying the result back. */
#include <cuda_runtime.h>
#include <stdlib.h>
#include <string.h>

#include "local_bw.h"
#include "local_kernels.h"

_Static_assert(SB_LOCAL_MAX_K <= SB_LOCAL_KERNEL_MAX_K, "the kernels take up to SB_LOCAL_MAX_K inputs");

struct dreduce_state {
    int blocks;   /* grid cap: 8 blocks of 256 threads per SM, the grid-stride loops do the rest */
    void *check;  /* host copy of the output for verification */
};

const char *sb_local_dreduce_absent(void) { return NULL; }

static int fail(char *err, size_t errlen, const char *what, cudaError_t e)
{
    snprintf(err, errlen, "%s: %s", what, cudaGetErrorString(e));
    return -1;
}

static cudaError_t alloc_buffers(struct sb_local_buf *b)
{
    cudaError_t e = cudaSuccess;
    for (int j = 0; j < b->k && e == cudaSuccess; j++)
        e = cudaMalloc(&b->in[j], b->bytes);
    return e == cudaSuccess ? cudaMalloc(&b->out, b->bytes) : e;
}

int sb_local_dreduce_init(struct sb_local_buf *b, char *err, size_t errlen)
{
    struct dreduce_state *g = calloc(1, sizeof *g);
    if (!g || !(g->check = malloc(b->bytes))) {
        free(g);
        snprintf(err, errlen, "out of host memory");
        return -1;
    }
    b->gpu = g;
    int sms = 0;
    cudaError_t e = cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0);
    if (e != cudaSuccess)
        return fail(err, errlen, "cudaDeviceGetAttribute(MultiProcessorCount)", e);
    g->blocks = 8 * (sms > 0 ? sms : 1);
    if ((e = alloc_buffers(b)) != cudaSuccess)
        return fail(err, errlen, "cudaMalloc", e);
    e = (cudaError_t)sb_local_kernel_fill((int)b->dtype, b->in, b->k, b->count, sb_local_modulus(b->dtype, b->k),
                                          g->blocks);
    return e == cudaSuccess ? 0 : fail(err, errlen, "the fill kernel", e);
}

/* One launch; the synchronisation makes the host clock measure its completion. */
int sb_local_dreduce_run(struct sb_local_buf *b)
{
    struct dreduce_state *g = b->gpu;
    if (sb_local_kernel_reduce((int)b->dtype, b->out, b->in, b->k, b->count, g->blocks) != 0)
        return 1;
    return cudaDeviceSynchronize() == cudaSuccess ? 0 : 1;
}

/* Poisons the output (0xff.., never an expected value), reduces once more, copies back and
 * compares with the host's formula. */
int64_t sb_local_dreduce_verify(struct sb_local_buf *b)
{
    struct dreduce_state *g = b->gpu;
    if (cudaMemset(b->out, 0xff, b->bytes) != cudaSuccess || sb_local_dreduce_run(b) != 0 ||
        cudaMemcpy(g->check, b->out, b->bytes, cudaMemcpyDeviceToHost) != cudaSuccess)
        return (int64_t)b->count;
    int64_t wrong = 0;
    for (size_t i = 0; i < b->count; i++)
        wrong += !sb_dtype_equals(b->dtype, g->check, i, sb_local_expected(b->dtype, b->k, i));
    return wrong;
}

void sb_local_dreduce_free(struct sb_local_buf *b)
{
    struct dreduce_state *g = b->gpu;
    for (int j = 0; j < SB_LOCAL_MAX_K; j++)
        if (b->in[j])
            cudaFree(b->in[j]);
    if (b->out)
        cudaFree(b->out);
    memset(b->in, 0, sizeof b->in);
    b->out = NULL;
    if (g)
        free(g->check);
    free(g);
    b->gpu = NULL;
}
