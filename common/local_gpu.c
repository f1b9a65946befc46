/* sb_local's device side (CUDA runtime only, no kernels): pinned host-to-device, device-to-host
 * and device-to-device cudaMemcpy on device 0.  Compiled only on a CUDA build.  The device
 * reduction (gamma on the GPU) needs kernels: test SB_LT_DREDUCE is handed to local_dreduce.c
 * (built with nvcc), or local_dreduce_none.c, which says why it is absent. */
#include "local_bw.h"

#include <cuda_runtime.h>
#include <stdlib.h>
#include <string.h>

struct gpu_state {
    enum cudaMemcpyKind kind;
    uint8_t *check; /* host copy of the destination for verification */
};

int sb_local_gpu_probe(char *name, size_t namelen, char *why, size_t whylen)
{
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    snprintf(name, namelen, "none");
    if (e != cudaSuccess || n == 0) {
        snprintf(why, whylen, "no CUDA device visible (cudaGetDeviceCount: %s)",
                 e != cudaSuccess ? cudaGetErrorString(e) : "0 devices");
        return -1;
    }
    struct cudaDeviceProp prop;
    if ((e = cudaSetDevice(0)) != cudaSuccess || (e = cudaGetDeviceProperties(&prop, 0)) != cudaSuccess) {
        snprintf(why, whylen, "CUDA device 0 unusable: %s", cudaGetErrorString(e));
        return -1;
    }
    snprintf(name, namelen, "%s", prop.name);
    return 0;
}

/* 2 transfers per clock (DDR/HBM) x bus width: the figure NVIDIA's bandwidthTest quotes. */
double sb_local_gpu_dram_gbps(void)
{
    int clock_khz = 0, bus_bits = 0;
    if (cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, 0) != cudaSuccess ||
        cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, 0) != cudaSuccess)
        return 0;
    return 2.0 * clock_khz * 1e3 * (bus_bits / 8.0) / 1e9;
}

static int fail(char *err, size_t errlen, const char *what, cudaError_t e)
{
    snprintf(err, errlen, "%s: %s", what, cudaGetErrorString(e));
    return -1;
}

/* A source holding the copy pattern (i % 251), by the host fill then one upload when it lives on
 * the device. */
static cudaError_t fill_source(struct sb_local_buf *b, struct gpu_state *g)
{
    for (size_t i = 0; i < b->bytes; i++)
        g->check[i] = (uint8_t)(i % 251);
    if (b->test == SB_LT_H2D)
        return cudaMemcpy(b->in[0], g->check, b->bytes, cudaMemcpyHostToHost);
    return cudaMemcpy(b->in[0], g->check, b->bytes, cudaMemcpyHostToDevice);
}

int sb_local_gpu_init(struct sb_local_buf *b, char *err, size_t errlen)
{
    if (b->test == SB_LT_DREDUCE)
        return sb_local_dreduce_init(b, err, errlen);
    struct gpu_state *g = calloc(1, sizeof *g);
    size_t n = b->bytes ? b->bytes : 1;
    if (!g || !(g->check = malloc(n))) {
        free(g);
        snprintf(err, errlen, "out of host memory");
        return -1;
    }
    b->gpu = g;
    bool src_host = b->test == SB_LT_H2D, dst_host = b->test == SB_LT_D2H;
    g->kind = src_host ? cudaMemcpyHostToDevice : dst_host ? cudaMemcpyDeviceToHost : cudaMemcpyDeviceToDevice;
    cudaError_t e = src_host ? cudaMallocHost(&b->in[0], n) : cudaMalloc(&b->in[0], n);
    if (e != cudaSuccess)
        return fail(err, errlen, src_host ? "cudaMallocHost" : "cudaMalloc", e);
    e = dst_host ? cudaMallocHost(&b->out, n) : cudaMalloc(&b->out, n);
    if (e != cudaSuccess)
        return fail(err, errlen, dst_host ? "cudaMallocHost" : "cudaMalloc", e);
    if ((e = fill_source(b, g)) != cudaSuccess)
        return fail(err, errlen, "filling the source", e);
    return 0;
}

/* One copy; the synchronisation makes the host clock measure its completion. */
int sb_local_gpu_run(struct sb_local_buf *b)
{
    if (b->test == SB_LT_DREDUCE)
        return sb_local_dreduce_run(b);
    struct gpu_state *g = b->gpu;
    if (cudaMemcpy(b->out, b->in[0], b->bytes, g->kind) != cudaSuccess)
        return 1;
    return cudaDeviceSynchronize() == cudaSuccess ? 0 : 1;
}

int64_t sb_local_gpu_verify(struct sb_local_buf *b)
{
    if (b->test == SB_LT_DREDUCE)
        return sb_local_dreduce_verify(b);
    struct gpu_state *g = b->gpu;
    bool dst_host = b->test == SB_LT_D2H;
    cudaError_t e = dst_host ? (memset(b->out, 0xff, b->bytes), cudaSuccess) : cudaMemset(b->out, 0xff, b->bytes);
    if (e != cudaSuccess || sb_local_gpu_run(b) != 0 ||
        cudaMemcpy(g->check, b->out, b->bytes, dst_host ? cudaMemcpyHostToHost : cudaMemcpyDeviceToHost) !=
            cudaSuccess)
        return (int64_t)b->bytes;
    int64_t wrong = 0;
    for (size_t i = 0; i < b->bytes; i++)
        wrong += g->check[i] != (uint8_t)(i % 251);
    return wrong;
}

void sb_local_gpu_free(struct sb_local_buf *b)
{
    if (b->test == SB_LT_DREDUCE) {
        sb_local_dreduce_free(b);
        return;
    }
    struct gpu_state *g = b->gpu;
    if (!g)
        return;
    if (b->in[0])
        b->test == SB_LT_H2D ? cudaFreeHost(b->in[0]) : cudaFree(b->in[0]);
    if (b->out)
        b->test == SB_LT_D2H ? cudaFreeHost(b->out) : cudaFree(b->out);
    b->in[0] = b->out = NULL;
    free(g->check);
    free(g);
    b->gpu = NULL;
}
