/* fakegpu: test doubles of libcudart.so.13 and libnccl.so.2 that run on the CPU (tests only).
 * Every value they report (names, memory sizes, clocks, bus ids, versions) is invented; they
 * say nothing about the speed of any GPU.  What they are for: running the benchmarks' real GPU
 * code paths on a machine without a GPU, with device memory that host code cannot read (a host
 * dereference of a device pointer is a SIGSEGV), CUDA's error rules (copy kinds, stream capture,
 * events, launch configurations) and NCCL's (device buffers, counts, roots, in-place layouts).
 *
 * This header is the internal interface between fake_cudart.c and fake_nccl.c. */
#ifndef FAKEGPU_H
#define FAKEGPU_H

#include <cuda_runtime_api.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* What a pointer range is to the fake runtime. */
enum fakegpu_kind {
    FAKEGPU_HOST = 0,   /* memory the fake runtime did not allocate (pageable host memory) */
    FAKEGPU_DEVICE = 1, /* cudaMalloc'd memory of *device */
    FAKEGPU_PINNED = 2, /* cudaMallocHost'd memory */
    FAKEGPU_BAD = -1    /* starts in an allocation of the fake runtime but runs past its end */
};

/* The kind of [p, p + len) (len 0 counts as 1); *device for FAKEGPU_DEVICE (else -1). */
int fakegpu_classify(const void *p, size_t len, int *device);

/* Device memory is readable and writable only between open and close (counted, thread-safe);
 * both are no-ops on other memory and with FAKEGPU_PROTECT=0. */
void fakegpu_open(const void *p);
void fakegpu_close(const void *p);

/* The calling thread's current device (cudaSetDevice). */
int fakegpu_current_device(void);

/* 0 when s is a live stream (or the legacy / per-thread default stream), with its device in
 * *device; else a cudaError_t. */
int fakegpu_stream_device(cudaStream_t s, int *device);

/* A range a piece of work reads or writes (for the race check between unordered streams). */
struct fakegpu_access {
    const void *p;
    size_t bytes;
    int write;
};

/* When submitted work runs.  FAKEGPU_NOW: after the work CUDA orders before it (the stream's own
 * queued work, and the legacy default stream's or the blocking streams' as CUDA orders them),
 * at once; the call returns fn's result (NCCL's calls, synchronous copies).  FAKEGPU_QUEUED: on
 * the stream's queue, run at the next point that waits for it (a synchronisation, later
 * work ordered after it), as a GPU runs it some time after the call; 0 is returned. */
enum fakegpu_when { FAKEGPU_NOW, FAKEGPU_QUEUED };

/* Work on stream s (`what` names it in messages).  When s is capturing it is recorded instead,
 * into the capture's graph, and runs at each cudaGraphLaunch (0 is returned).  The work owns ctx:
 * free_ctx(ctx) (if not NULL) is called once it is no longer needed.  acc: the ranges it touches;
 * queued work of another stream that nothing orders before it and that touches the same memory
 * (one of them writing) is a race, said on stderr ("fakegpu: race: ..."), and the work then runs
 * without waiting for the other (as it may on a GPU).  Returns a cudaError_t when s cannot take
 * work (invalid, a capture rule broken, the device's context broken by an earlier error). */
int fakegpu_submit(cudaStream_t s, const char *what, int (*fn)(void *ctx), void *ctx, void (*free_ctx)(void *ctx),
                   const struct fakegpu_access *acc, int nacc, enum fakegpu_when when);

/* 1 when FAKEGPU_FAIL_RANK is unset or names this process's MPI rank (failure injection). */
int fakegpu_fail_here(void);

/* A loud line on stderr: "fakegpu: ..." (tests look for it). */
void fakegpu_complain(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- element types shared by the kernels and the NCCL reductions */

enum fakegpu_elem { FG_I8, FG_U8, FG_I32, FG_U32, FG_I64, FG_U64, FG_F16, FG_BF16, FG_F32, FG_F64, FG_ELEM_COUNT };

static inline size_t fakegpu_elem_size(enum fakegpu_elem t)
{
    static const size_t sizes[FG_ELEM_COUNT] = {1, 1, 4, 4, 8, 8, 2, 2, 4, 8};
    return sizes[t];
}

static inline float fakegpu_bits_to_float(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline uint32_t fakegpu_float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* IEEE binary16 from float, round to nearest even (as __float2half_rn). */
static inline uint16_t fakegpu_float_to_half(float f)
{
    uint32_t x = fakegpu_float_bits(f), sign = (x >> 16) & 0x8000u, mag = x & 0x7fffffffu;
    if (mag > 0x7f800000u)
        return (uint16_t)(sign | 0x7e00u); /* NaN */
    if (mag >= 0x477ff000u)                /* rounds to beyond the largest half: infinity */
        return (uint16_t)(sign | 0x7c00u);
    if (mag < 0x38800000u) { /* below the smallest normal half: subnormal or zero */
        if (mag < 0x33000000u)
            return (uint16_t)sign; /* below half of the smallest subnormal */
        uint32_t m = (mag & 0x007fffffu) | 0x00800000u;
        int shift = 126 - (int)(mag >> 23); /* 14 .. 24 */
        uint32_t q = m >> shift, rem = m & ((1u << shift) - 1), halfway = 1u << (shift - 1);
        if (rem > halfway || (rem == halfway && (q & 1)))
            q++;
        return (uint16_t)(sign | q);
    }
    uint32_t e = (mag >> 23) - 112, m = mag & 0x007fffffu;
    uint32_t h = (e << 10) | (m >> 13), rem = m & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1)))
        h++;
    return (uint16_t)(sign | h);
}

static inline float fakegpu_half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    if (e == 0x1f)
        return fakegpu_bits_to_float(sign | 0x7f800000u | (m << 13));
    if (e == 0) {
        float v = (float)m / 16777216.0f; /* m * 2^-24 */
        return sign ? -v : v;
    }
    return fakegpu_bits_to_float(sign | ((e + 112) << 23) | (m << 13));
}

/* bfloat16 from float, round to nearest even (as __float2bfloat16_rn). */
static inline uint16_t fakegpu_float_to_bf16(float f)
{
    uint32_t x = fakegpu_float_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((x >> 16) | 0x40u); /* quiet NaN */
    uint32_t rounding = 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)((x + rounding) >> 16);
}

static inline float fakegpu_bf16_to_float(uint16_t b) { return fakegpu_bits_to_float((uint32_t)b << 16); }

#endif
