// The harness's device kernels (nvcc): fill a device buffer with a rank's input, and count the
// elements of a result that differ from the expected values, without copying the buffer to the
// host.  The values are sb_pattern_value (pattern_formula.h, the host's formulas compiled for the
// device); they are stored and compared exactly as dtype.c does on the host: integers and
// float/double by conversion (compared with ==, so NaN never matches), half and bfloat16 as the
// bits of the round-to-nearest-even conversion of (float)v (compared bit for bit).
#include "kernels.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

namespace {

constexpr int kThreads = 256;       // a multiple of the warp size (the count's warp reduction)
constexpr size_t kMaxBlocks = 8192; // the grid-stride loops do the rest

// S: the stored type; of(v): the element holding v; same(x, v): x is exactly v.
template <class T> struct plain_elem {
    using S = T;
    __device__ static S of(int64_t v) { return static_cast<S>(v); }
    __device__ static bool same(S x, int64_t v) { return x == static_cast<S>(v); }
};

struct half_elem {
    using S = unsigned short;
    __device__ static S of(int64_t v) { return __half_as_ushort(__float2half_rn(static_cast<float>(v))); }
    __device__ static bool same(S x, int64_t v) { return x == of(v); }
};

struct bf16_elem {
    using S = unsigned short;
    __device__ static S of(int64_t v) { return __bfloat16_as_ushort(__float2bfloat16_rn(static_cast<float>(v))); }
    __device__ static bool same(S x, int64_t v) { return x == of(v); }
};

__device__ size_t first_index() { return blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; }
__device__ size_t grid_stride() { return gridDim.x * static_cast<size_t>(blockDim.x); }

template <class E>
__global__ void fill_kernel(sb_pattern_kind kind, sb_pattern_args a, int rank, typename E::S *buf, size_t count)
{
    for (size_t i = first_index(); i < count; i += grid_stride())
        buf[i] = E::of(sb_pattern_value(kind, &a, rank, i, false));
}

// Each thread counts its elements, each warp adds its threads' counts, one atomicAdd per warp.
template <class E>
__global__ void count_kernel(sb_pattern_kind kind, sb_pattern_args a, int rank, const typename E::S *buf,
                             size_t count, unsigned long long *wrong)
{
    unsigned long long mine = 0;
    for (size_t i = first_index(); i < count; i += grid_stride())
        mine += !E::same(buf[i], sb_pattern_value(kind, &a, rank, i, true));
    for (int offset = 16; offset > 0; offset /= 2)
        mine += __shfl_down_sync(0xffffffffu, mine, offset);
    if (threadIdx.x % 32 == 0 && mine)
        atomicAdd(wrong, mine);
}

unsigned grid_for(size_t count)
{
    size_t want = (count + kThreads - 1) / kThreads;
    return static_cast<unsigned>(want < kMaxBlocks ? want : kMaxBlocks);
}

// A launch's error is read with cudaGetLastError, which returns the last error of any runtime
// call of this thread: clear_stale_error() before each launch, so that an earlier call that
// failed and was handled (a device attribute, a property for the header) is not blamed on it.
void clear_stale_error() { (void)cudaGetLastError(); }

int finish(cudaStream_t stream)
{
    cudaError_t e = cudaGetLastError();
    return static_cast<int>(e != cudaSuccess ? e : cudaStreamSynchronize(stream));
}

template <class E>
int launch_fill(sb_pattern_kind kind, const sb_pattern_args &a, int rank, void *buf, size_t count,
                cudaStream_t stream)
{
    clear_stale_error();
    fill_kernel<E><<<grid_for(count), kThreads, 0, stream>>>(kind, a, rank, static_cast<typename E::S *>(buf),
                                                               count);
    return finish(stream);
}

template <class E>
int launch_count(sb_pattern_kind kind, const sb_pattern_args &a, int rank, const void *buf, size_t count,
                 unsigned long long *counter, cudaStream_t stream)
{
    clear_stale_error();
    count_kernel<E><<<grid_for(count), kThreads, 0, stream>>>(
        kind, a, rank, static_cast<const typename E::S *>(buf), count, counter);
    return finish(stream);
}

// The counter on the device, the kernel, the counter back; the counter freed whatever happened.
template <class E>
int count_with_counter(sb_pattern_kind kind, const sb_pattern_args &a, int rank, const void *buf, size_t count,
                       int64_t *wrong, cudaStream_t stream)
{
    unsigned long long *counter = nullptr, host = 0;
    cudaError_t e = cudaMalloc(&counter, sizeof *counter);
    if (e != cudaSuccess)
        return static_cast<int>(e);
    int rc = static_cast<int>(cudaMemsetAsync(counter, 0, sizeof *counter, stream));
    if (rc == 0)
        rc = launch_count<E>(kind, a, rank, buf, count, counter, stream);
    if (rc == 0)
        rc = static_cast<int>(cudaMemcpyAsync(&host, counter, sizeof host, cudaMemcpyDeviceToHost, stream));
    if (rc == 0)
        rc = static_cast<int>(cudaStreamSynchronize(stream));
    cudaFree(counter);
    if (rc == 0)
        *wrong = static_cast<int64_t>(host);
    return rc;
}

bool valid_kind(sb_pattern_kind kind) { return kind > SB_PATTERN_NONE && kind < SB_PATTERN_KIND_COUNT; }

} // namespace

// One switch per entry point: the dtype picks the element type.
#define SB_DEV_DISPATCH(dtype, fn, args)                                                          \
    switch (dtype) {                                                                               \
    case SB_INT8: return fn<plain_elem<int8_t>> args;                                              \
    case SB_UINT8: return fn<plain_elem<uint8_t>> args;                                            \
    case SB_INT32: return fn<plain_elem<int32_t>> args;                                            \
    case SB_UINT32: return fn<plain_elem<uint32_t>> args;                                          \
    case SB_INT64: return fn<plain_elem<int64_t>> args;                                            \
    case SB_UINT64: return fn<plain_elem<uint64_t>> args;                                          \
    case SB_HALF: return fn<half_elem> args;                                                       \
    case SB_BFLOAT16: return fn<bf16_elem> args;                                                   \
    case SB_FLOAT: return fn<plain_elem<float>> args;                                              \
    case SB_DOUBLE: return fn<plain_elem<double>> args;                                            \
    default: return static_cast<int>(cudaErrorInvalidValue);                                       \
    }

extern "C" int sb_dev_fill(enum sb_pattern_kind kind, const struct sb_pattern_args *args, enum sb_dtype dtype,
                           int rank, void *buf, size_t count, void *stream)
{
    if (!valid_kind(kind) || !args)
        return static_cast<int>(cudaErrorInvalidValue);
    if (count == 0)
        return 0;
    cudaStream_t s = static_cast<cudaStream_t>(stream);
    SB_DEV_DISPATCH(dtype, launch_fill, (kind, *args, rank, buf, count, s))
}

extern "C" int sb_dev_poison(void *buf, size_t bytes, void *stream)
{
    cudaStream_t s = static_cast<cudaStream_t>(stream);
    cudaError_t e = cudaMemsetAsync(buf, 0xff, bytes, s);
    return static_cast<int>(e != cudaSuccess ? e : cudaStreamSynchronize(s));
}

extern "C" int sb_dev_count_wrong(enum sb_pattern_kind kind, const struct sb_pattern_args *args, enum sb_dtype dtype,
                                  int rank, const void *buf, size_t count, int64_t *wrong, void *stream)
{
    if (!valid_kind(kind) || !args || !wrong)
        return static_cast<int>(cudaErrorInvalidValue);
    *wrong = 0;
    if (count == 0)
        return 0;
    cudaStream_t s = static_cast<cudaStream_t>(stream);
    SB_DEV_DISPATCH(dtype, count_with_counter, (kind, *args, rank, buf, count, wrong, s))
}
