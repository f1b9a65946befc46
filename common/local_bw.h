/* sb_local's kernels: single-node bandwidths that feed the cost model (host memcpy, host reduction
 * of k buffers = the gamma term, and on a CUDA build pinned H2D/D2H and device D2D copies and,
 * where nvcc built the kernels, the device reduction of k buffers = the GPU's gamma), the
 * options, and a one-process timing loop with the harness' adaptive rule. */
#ifndef SB_LOCAL_BW_H
#define SB_LOCAL_BW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dtype.h"
#include "stats.h"

/* Device tests come after SB_LT_REDUCE; SB_LT_DREDUCE is the device reduction. */
enum sb_local_test { SB_LT_MEMCPY, SB_LT_REDUCE, SB_LT_H2D, SB_LT_D2H, SB_LT_D2D, SB_LT_DREDUCE, SB_LT_COUNT };

#define SB_LOCAL_MAX_K 16
#define SB_LOCAL_MAX_THREADS 1024

const char *sb_local_test_name(enum sb_local_test t);
int sb_local_test_parse(const char *name); /* -1 when unknown */
bool sb_local_test_is_device(enum sb_local_test t);
bool sb_local_test_is_reduce(enum sb_local_test t); /* reduce or dreduce: k buffers, a dtype */

struct sb_local_options {
    bool tests[SB_LT_COUNT];
    bool tests_all;           /* "all" was asked (device tests may then be skipped quietly) */
    size_t min_bytes, max_bytes, step_factor;
    bool dtypes[SB_DTYPE_COUNT];
    int k;                    /* buffers reduced */
    int threads;
    int iters;                /* 0 = adaptive */
    int warmup, min_iters, max_iters;
    double precision, max_time;
    const char *json_path;
    bool help, version;
};

/* Fills o from argv (getopt_long).  0, or 2 with one line in err. */
int sb_local_parse(struct sb_local_options *o, int argc, char **argv, char *err, size_t errlen);
void sb_local_usage(FILE *out);

/* ---- host kernels, run by `threads` threads (the caller is thread 0) on disjoint chunks */
struct sb_lpool;
struct sb_lpool *sb_lpool_create(int threads); /* NULL when a thread cannot start */
void sb_lpool_destroy(struct sb_lpool *p);

/* One benchmark point's buffers: inputs in[0..k-1] (src for memcpy), out (dst). */
struct sb_local_buf {
    enum sb_local_test test;
    enum sb_dtype dtype;      /* reduce, dreduce only */
    int k;
    size_t bytes, count;      /* bytes of ONE buffer; count = elements (memcpy: bytes) */
    void *in[SB_LOCAL_MAX_K];
    void *out;
    struct sb_lpool *pool;
    void *gpu;                /* device tests: local_gpu.c's state */
};

/* Allocates and fills (page-aligned, first-touched by the call's threads); 0, or -1. */
int sb_local_buf_init(struct sb_local_buf *b, enum sb_local_test t, enum sb_dtype dtype, int k, size_t bytes,
                      struct sb_lpool *pool);
void sb_local_buf_free(struct sb_local_buf *b);
/* One timed call: memcpy(out, in[0], bytes), or out = in[0] + ... + in[k-1] elementwise. */
int sb_local_run(struct sb_local_buf *b);
/* Poisons out, runs once more and counts what differs: reduce, elements; copies, bytes. */
int64_t sb_local_verify(struct sb_local_buf *b);

/* The exact test pattern: element i of input j is SB_LOCAL_PATTERN(i, j, m) (local_kernels.h,
 * shared with the device fill) with m = sb_local_modulus(t, k), and the sum the reduction (host
 * or device) must produce. */
uint64_t sb_local_modulus(enum sb_dtype t, int k);
int64_t sb_local_value(enum sb_dtype t, int k, int j, size_t i);
int64_t sb_local_expected(enum sb_dtype t, int k, size_t i);
/* The serial reduction of elements [lo, hi) (what each thread runs). */
void sb_local_reduce(enum sb_dtype t, void *out, void *const *in, int k, size_t lo, size_t hi);

/* bytes / seconds in GB/s (G = 1e9); 0 when the time is not positive. */
double sb_local_gbps(size_t bytes, double time_us);

/* ---- timing: warm-up, then batches until the median's 95% interval is within precision (or the
 * time/iteration budget is spent); a fixed count when iters > 0. */
struct sb_local_timing {
    size_t n;
    double *samples_us;
    struct sb_stats stats;
    bool precision_reached;
    int error;
};
int sb_local_time(struct sb_local_buf *b, const struct sb_local_options *o, struct sb_local_timing *out);
void sb_local_timing_free(struct sb_local_timing *t);

/* ---- device side (local_gpu.c on a CUDA build; without CUDA, versions that say so).
 * 0 when a device can be used; else -1 with the reason in why.  name gets the GPU's name. */
int sb_local_gpu_probe(char *name, size_t namelen, char *why, size_t whylen);
/* Nominal DRAM bandwidth of the device in GB/s from its attributes, or 0 when unknown. */
double sb_local_gpu_dram_gbps(void);
int sb_local_gpu_init(struct sb_local_buf *b, char *err, size_t errlen);
int sb_local_gpu_run(struct sb_local_buf *b);
int64_t sb_local_gpu_verify(struct sb_local_buf *b);
void sb_local_gpu_free(struct sb_local_buf *b);

/* The device reduction (local_dreduce.c where nvcc built the kernels; else local_dreduce_none.c).
 * NULL when it is built, else why not.  The others are local_gpu.c's for test SB_LT_DREDUCE. */
const char *sb_local_dreduce_absent(void);
int sb_local_dreduce_init(struct sb_local_buf *b, char *err, size_t errlen);
int sb_local_dreduce_run(struct sb_local_buf *b);
int64_t sb_local_dreduce_verify(struct sb_local_buf *b);
void sb_local_dreduce_free(struct sb_local_buf *b);

#endif
