// sb_local's device kernels (nvcc): the reduce inputs' fill and the k-buffer reduction, the GPU
// side of the model's gamma.  Element types follow the host kernels in local_bw.c exactly:
// integers and float/double summed in their own type, half and bfloat16 (stored as 16-bit words)
// summed in float and rounded once per element.  The inputs are filled here, on the device, with
// the host's pattern (SB_LOCAL_PATTERN): nothing is uploaded, and the host check
// (sb_local_expected) is the same formula the host reduction is checked with.
#include "local_kernels.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "dtype.h"

namespace {

constexpr int kThreads = 256;

struct ptrs {
    void *in[SB_LOCAL_KERNEL_MAX_K];
    void *out;
};

// S: the stored type; A: the accumulator.  load/add/store as the host does them.
template <class T> struct plain_op {
    using S = T;
    using A = T;
    __device__ static A load(S x) { return x; }
    __device__ static A add(A a, A b) { return static_cast<A>(a + b); }
    __device__ static S store(A a) { return a; }
    __device__ static S from_int(uint64_t v) { return static_cast<S>(v); }
};

struct half_op {
    using S = unsigned short;
    using A = float;
    __device__ static A load(S x) { return __half2float(__ushort_as_half(x)); }
    __device__ static A add(A a, A b) { return a + b; }
    __device__ static S store(A a) { return __half_as_ushort(__float2half_rn(a)); }
    __device__ static S from_int(uint64_t v) { return store(static_cast<float>(v)); }
};

struct bf16_op {
    using S = unsigned short;
    using A = float;
    __device__ static A load(S x) { return __bfloat162float(__ushort_as_bfloat16(x)); }
    __device__ static A add(A a, A b) { return a + b; }
    __device__ static S store(A a) { return __bfloat16_as_ushort(__float2bfloat16_rn(a)); }
    __device__ static S from_int(uint64_t v) { return store(static_cast<float>(v)); }
};

// V elements of S moved as one load/store (16 bytes for the vector path, one element otherwise).
template <class S, int V> struct alignas(sizeof(S) * V) pack {
    S v[V];
};

// Pack i (in units of V elements) of out = in[0] + ... + in[k-1], accumulated in input order.
template <class Op, int V> __device__ void reduce_pack(const ptrs &p, int k, size_t i)
{
    using P = pack<typename Op::S, V>;
    typename Op::A acc[V];
    P x = static_cast<const P *>(p.in[0])[i];
#pragma unroll
    for (int l = 0; l < V; l++)
        acc[l] = Op::load(x.v[l]);
    for (int j = 1; j < k; j++) {
        P y = static_cast<const P *>(p.in[j])[i];
#pragma unroll
        for (int l = 0; l < V; l++)
            acc[l] = Op::add(acc[l], Op::load(y.v[l]));
    }
    P o;
#pragma unroll
    for (int l = 0; l < V; l++)
        o.v[l] = Op::store(acc[l]);
    static_cast<P *>(p.out)[i] = o;
}

// Grid-stride over the n_vec whole packs, then the count - n_vec * V elements left, one each.
template <class Op, int V> __global__ void reduce_kernel(ptrs p, int k, size_t n_vec, size_t count)
{
    size_t tid = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x;
    size_t stride = gridDim.x * static_cast<size_t>(blockDim.x);
    for (size_t i = tid; i < n_vec; i += stride)
        reduce_pack<Op, V>(p, k, i);
    for (size_t i = n_vec * V + tid; i < count; i += stride)
        reduce_pack<Op, 1>(p, k, i);
}

template <class Op> __global__ void fill_kernel(ptrs p, int k, size_t count, uint64_t modulus)
{
    size_t stride = gridDim.x * static_cast<size_t>(blockDim.x);
    for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < count; i += stride)
        for (int j = 0; j < k; j++)
            static_cast<typename Op::S *>(p.in[j])[i] = Op::from_int(SB_LOCAL_PATTERN(i, j, modulus));
}

// Enough blocks for work threads, at most max_blocks (the grid-stride loops do the rest).
unsigned grid_for(size_t work, int max_blocks)
{
    size_t want = (work + kThreads - 1) / kThreads;
    size_t cap = max_blocks > 0 ? static_cast<size_t>(max_blocks) : 1;
    return static_cast<unsigned>(want < 1 ? 1 : want < cap ? want : cap);
}

bool aligned16(const ptrs &p, int k)
{
    bool ok = reinterpret_cast<uintptr_t>(p.out) % 16 == 0;
    for (int j = 0; j < k; j++)
        ok = ok && reinterpret_cast<uintptr_t>(p.in[j]) % 16 == 0;
    return ok;
}

// cudaGetLastError after a launch returns the last error of any runtime call of this thread: it
// is cleared before each launch, so that an earlier call that failed and was handled (a device
// attribute for the DRAM peak) is not blamed on the kernel.
template <class Op> int launch_reduce(const ptrs &p, int k, size_t count, int blocks)
{
    constexpr int V = 16 / sizeof(typename Op::S);
    size_t n_vec = aligned16(p, k) ? count / V : 0;
    (void)cudaGetLastError();
    reduce_kernel<Op, V><<<grid_for(n_vec > 0 ? n_vec : count, blocks), kThreads>>>(p, k, n_vec, count);
    return static_cast<int>(cudaGetLastError());
}

template <class Op> int launch_fill(const ptrs &p, int k, size_t count, uint64_t modulus, int blocks)
{
    (void)cudaGetLastError();
    fill_kernel<Op><<<grid_for(count, blocks), kThreads>>>(p, k, count, modulus);
    cudaError_t e = cudaGetLastError();
    return static_cast<int>(e != cudaSuccess ? e : cudaDeviceSynchronize());
}

int make_ptrs(void *out, void *const *in, int k, ptrs *p)
{
    if (k < 1 || k > SB_LOCAL_KERNEL_MAX_K)
        return static_cast<int>(cudaErrorInvalidValue);
    *p = ptrs{};
    for (int j = 0; j < k; j++)
        p->in[j] = in[j];
    p->out = out;
    return 0;
}

} // namespace

// One switch per entry point: the dtype picks the element operations.
#define SB_DISPATCH(dtype, fn, args)                                                              \
    switch (dtype) {                                                                               \
    case SB_INT8: return fn<plain_op<int8_t>> args;                                                \
    case SB_UINT8: return fn<plain_op<uint8_t>> args;                                              \
    case SB_INT32: return fn<plain_op<int32_t>> args;                                              \
    case SB_UINT32: return fn<plain_op<uint32_t>> args;                                            \
    case SB_INT64: return fn<plain_op<int64_t>> args;                                              \
    case SB_UINT64: return fn<plain_op<uint64_t>> args;                                            \
    case SB_HALF: return fn<half_op> args;                                                         \
    case SB_BFLOAT16: return fn<bf16_op> args;                                                     \
    case SB_FLOAT: return fn<plain_op<float>> args;                                                \
    case SB_DOUBLE: return fn<plain_op<double>> args;                                              \
    default: return static_cast<int>(cudaErrorInvalidValue);                                       \
    }

extern "C" int sb_local_kernel_fill(int dtype, void *const *in, int k, size_t count, uint64_t modulus, int blocks)
{
    ptrs p;
    int rc = make_ptrs(nullptr, in, k, &p);
    if (rc != 0 || modulus == 0)
        return rc != 0 ? rc : static_cast<int>(cudaErrorInvalidValue);
    SB_DISPATCH(dtype, launch_fill, (p, k, count, modulus, blocks))
}

extern "C" int sb_local_kernel_reduce(int dtype, void *out, void *const *in, int k, size_t count, int blocks)
{
    ptrs p;
    int rc = make_ptrs(out, in, k, &p);
    if (rc != 0)
        return rc;
    SB_DISPATCH(dtype, launch_reduce, (p, k, count, blocks))
}
