/* fakegpu_probe: checks of the CPU test doubles themselves (tests/fakegpu; run by fakegpu.sh with
 * the doubles first on LD_LIBRARY_PATH).  Every value here is invented; nothing is timed.
 *
 *   fakegpu_probe touch   writes to a cudaMalloc buffer from the host: with the doubles'
 *                         protection (the default) that must die of SIGSEGV; FAKEGPU_PROTECT=0
 *                         lets it pass (exit 0)
 *   fakegpu_probe rules   CUDA's and NCCL's error rules as the doubles apply them, and NCCL's
 *                         arithmetic on 1 and 2 in-process ranks: one line "PASS what" or
 *                         "FAIL what: detail" per check; exit 0 when all pass
 *
 * Not an MPI program: the NCCL double moves data between threads here. */
#include <cuda_runtime_api.h>
#include <nccl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

static void expect(const char *what, int ok, const char *fmt, long long got)
{
    if (ok) {
        printf("PASS %s\n", what);
    } else {
        printf("FAIL %s: ", what);
        printf(fmt, got);
        printf("\n");
        failures++;
    }
    fflush(stdout);
}

#define EXPECT_CUDA(what, call, want)                                                                    \
    do {                                                                                                 \
        cudaError_t e_ = (call);                                                                         \
        expect(what, e_ == (want), "got CUDA error %lld", (long long)e_);                               \
    } while (0)
#define EXPECT_NCCL(what, call, want)                                                                    \
    do {                                                                                                 \
        ncclResult_t r_ = (call);                                                                        \
        expect(what, r_ == (want), "got NCCL result %lld", (long long)r_);                              \
    } while (0)

static int touch(void)
{
    unsigned char *p = NULL;
    if (cudaMalloc((void **)&p, 4096) != cudaSuccess)
        return 3;
    p[100] = 1; /* a host write to device memory: a real GPU's memory is not there */
    printf("the host wrote to device memory\n");
    return 0;
}

static void cuda_rules(void)
{
    char host[64] = {0}, back[64];
    void *dev = NULL, *pinned = NULL;
    EXPECT_CUDA("cudaMalloc", cudaMalloc(&dev, sizeof host), cudaSuccess);
    EXPECT_CUDA("cudaMallocHost", cudaMallocHost(&pinned, sizeof host), cudaSuccess);
    EXPECT_CUDA("cudaMemcpy HostToDevice into host memory is refused",
                cudaMemcpy(back, host, sizeof host, cudaMemcpyHostToDevice), cudaErrorInvalidValue);
    EXPECT_CUDA("cudaMemcpy DeviceToHost from host memory is refused",
                cudaMemcpy(back, host, sizeof host, cudaMemcpyDeviceToHost), cudaErrorInvalidValue);
    EXPECT_CUDA("cudaMemcpy HostToHost from device memory is refused",
                cudaMemcpy(back, dev, sizeof host, cudaMemcpyHostToHost), cudaErrorInvalidValue);
    EXPECT_CUDA("cudaMemcpy past the end of a device buffer is refused",
                cudaMemcpy(dev, host, 2 * sizeof host, cudaMemcpyHostToDevice), cudaErrorInvalidValue);
    EXPECT_CUDA("cudaMemset of host memory is refused", cudaMemset(host, 0, sizeof host), cudaErrorInvalidValue);
    memset(host, 7, sizeof host);
    EXPECT_CUDA("cudaMemcpyDefault host -> device", cudaMemcpy(dev, host, sizeof host, cudaMemcpyDefault),
                cudaSuccess);
    EXPECT_CUDA("cudaMemcpyDefault device -> pinned", cudaMemcpy(pinned, dev, sizeof host, cudaMemcpyDefault),
                cudaSuccess);
    expect("the data went there and back", memcmp(pinned, host, sizeof host) == 0, "%lld differ", 1);
    EXPECT_CUDA("cudaFree of host memory is refused", cudaFree(host), cudaErrorInvalidValue);
    EXPECT_CUDA("cudaFree of a pinned buffer is refused", cudaFree(pinned), cudaErrorInvalidValue);
    EXPECT_CUDA("cudaFreeHost of a device buffer is refused", cudaFreeHost(dev), cudaErrorInvalidValue);
    EXPECT_CUDA("cudaFree", cudaFree(dev), cudaSuccess);
    EXPECT_CUDA("cudaFree twice is refused", cudaFree(dev), cudaErrorInvalidValue);
    EXPECT_CUDA("cudaFreeHost", cudaFreeHost(pinned), cudaSuccess);
    EXPECT_CUDA("cudaGetLastError returns the last error", cudaGetLastError(), cudaErrorInvalidValue);
    EXPECT_CUDA("and clears it", cudaGetLastError(), cudaSuccess);
    EXPECT_CUDA("cudaSetDevice past the last device is refused", cudaSetDevice(64), cudaErrorInvalidDevice);

    cudaEvent_t a, b;
    float ms = -1;
    cudaEventCreate(&a);
    cudaEventCreate(&b);
    EXPECT_CUDA("cudaEventElapsedTime of unrecorded events is refused", cudaEventElapsedTime(&ms, a, b),
                cudaErrorInvalidResourceHandle);
    cudaEventRecord(a, NULL);
    cudaEventRecord(b, NULL);
    EXPECT_CUDA("cudaEventElapsedTime before anything waited for the events: not ready",
                cudaEventElapsedTime(&ms, a, b), cudaErrorNotReady);
    EXPECT_CUDA("cudaEventSynchronize", cudaEventSynchronize(b), cudaSuccess);
    EXPECT_CUDA("cudaEventElapsedTime of recorded events", cudaEventElapsedTime(&ms, a, b), cudaSuccess);
    expect("elapsed time >= 0", ms >= 0, "%lld", (long long)ms);

    cudaStream_t s;
    cudaGraph_t g = NULL;
    cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking);
    EXPECT_CUDA("cudaStreamBeginCapture", cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal), cudaSuccess);
    EXPECT_CUDA("cudaStreamSynchronize of a capturing stream is refused", cudaStreamSynchronize(s),
                cudaErrorStreamCaptureUnsupported);
    EXPECT_CUDA("cudaStreamEndCapture of an invalidated capture fails", cudaStreamEndCapture(s, &g),
                cudaErrorStreamCaptureInvalidated);
    expect("and gives no graph", g == NULL, "%lld", 0);

    /* a capture replayed: a memset recorded, not run, until each launch */
    unsigned char *d = NULL, out[16];
    cudaGraphExec_t x = NULL;
    cudaMalloc((void **)&d, sizeof out);
    cudaMemset(d, 1, sizeof out);
    cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal);
    cudaMemsetAsync(d, 9, sizeof out, s);
    EXPECT_CUDA("cudaMemcpy (synchronous) while this thread captures is refused",
                cudaMemcpy(out, d, sizeof out, cudaMemcpyDeviceToHost), cudaErrorStreamCaptureUnsupported);
    cudaStreamEndCapture(s, &g);
    cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal);
    cudaMemsetAsync(d, 9, sizeof out, s);
    EXPECT_CUDA("cudaStreamEndCapture", cudaStreamEndCapture(s, &g), cudaSuccess);
    cudaMemcpy(out, d, sizeof out, cudaMemcpyDeviceToHost);
    expect("captured work does not run at capture", out[0] == 1, "byte %lld", out[0]);
    EXPECT_CUDA("cudaGraphInstantiate", cudaGraphInstantiate(&x, g, 0), cudaSuccess);
    EXPECT_CUDA("cudaGraphDestroy (the exec lives on)", cudaGraphDestroy(g), cudaSuccess);
    EXPECT_CUDA("cudaGraphLaunch", cudaGraphLaunch(x, s), cudaSuccess);
    cudaStreamSynchronize(s); /* the legacy stream's copy does not wait for the non-blocking s */
    cudaMemcpy(out, d, sizeof out, cudaMemcpyDeviceToHost);
    expect("a launch runs the captured work", out[15] == 9, "byte %lld", out[15]);
    EXPECT_CUDA("cudaGraphExecDestroy", cudaGraphExecDestroy(x), cudaSuccess);
    /* a race: cudaMemcpy from pageable memory may still be in flight when it returns, and a
     * non-blocking stream does not wait for the legacy stream it ran on */
    memset(out, 5, sizeof out);
    cudaMemcpy(d, out, sizeof out, cudaMemcpyHostToDevice);
    cudaMemsetAsync(d, 6, sizeof out, s);
    cudaStreamSynchronize(s);
    cudaDeviceSynchronize();
    cudaMemcpy(out, d, sizeof out, cudaMemcpyDeviceToHost);
    expect("an unordered upload lands after the non-blocking stream's work (a race, said on stderr)", out[0] == 5,
           "byte %lld", out[0]);
    cudaFree(d);
    cudaStreamDestroy(s);
    EXPECT_CUDA("a destroyed stream is refused", cudaStreamSynchronize(s), cudaErrorInvalidResourceHandle);
    cudaEventDestroy(a);
    cudaEventDestroy(b);
}

/* ---- NCCL on in-process ranks (threads) */

struct rank_arg {
    ncclUniqueId id;
    int rank, nranks, device;
    ncclResult_t init;
    int32_t i32[2];   /* this rank's inputs */
    float f32[2];
    int32_t avg_i32[2]; /* rank 0: the results */
    float avg_f32[2], sum_f32[2];
    int32_t gathered[4];
    ncclResult_t host_buffer, bad_root, bad_type;
};

static void *rank_main(void *p)
{
    struct rank_arg *a = p;
    ncclComm_t comm;
    cudaStream_t s;
    int32_t *di;
    float *df;
    cudaSetDevice(a->device);
    if ((a->init = ncclCommInitRank(&comm, a->nranks, a->id, a->rank)) != ncclSuccess)
        return NULL;
    cudaStreamCreate(&s);
    cudaMalloc((void **)&di, 16 * sizeof *di);
    cudaMalloc((void **)&df, 2 * sizeof *df);
    cudaMemcpy(di, a->i32, sizeof a->i32, cudaMemcpyHostToDevice);
    cudaMemcpy(df, a->f32, sizeof a->f32, cudaMemcpyHostToDevice);
    ncclAllReduce(di, di, 2, ncclInt32, ncclAvg, comm, s);
    ncclAllReduce(df, df + 0, 2, ncclFloat32, ncclAvg, comm, s);
    cudaMemcpy(a->avg_i32, di, sizeof a->avg_i32, cudaMemcpyDeviceToHost);
    cudaMemcpy(a->avg_f32, df, sizeof a->avg_f32, cudaMemcpyDeviceToHost);
    cudaMemcpy(df, a->f32, sizeof a->f32, cudaMemcpyHostToDevice);
    ncclAllReduce(df, df, 2, ncclFloat32, ncclSum, comm, s);
    cudaMemcpy(a->sum_f32, df, sizeof a->sum_f32, cudaMemcpyDeviceToHost);
    /* in-place AllGather: the rank's block at rank * count of the receive buffer */
    cudaMemcpy(di + 2 * a->rank, a->i32, sizeof a->i32, cudaMemcpyHostToDevice);
    ncclAllGather(di + 2 * a->rank, di, 2, ncclInt32, comm, s);
    cudaMemcpy(a->gathered, di, sizeof a->gathered, cudaMemcpyDeviceToHost);
    a->host_buffer = ncclAllReduce(a->i32, a->i32, 2, ncclInt32, ncclSum, comm, s);
    a->bad_root = ncclBroadcast(di, di, 2, ncclInt32, a->nranks, comm, s);
    a->bad_type = ncclAllReduce(di, di, 2, (ncclDataType_t)99, ncclSum, comm, s);
    cudaFree(di);
    cudaFree(df);
    ncclCommDestroy(comm);
    cudaStreamDestroy(s);
    return NULL;
}

static void nccl_rules(void)
{
    int v = 0;
    EXPECT_NCCL("ncclGetVersion", ncclGetVersion(&v), ncclSuccess);
    expect("the version is nccl.h's", v == NCCL_VERSION_CODE, "%lld", v);
    struct rank_arg r[2];
    memset(r, 0, sizeof r);
    ncclUniqueId id;
    ncclGetUniqueId(&id);
    pthread_t t[2];
    for (int k = 0; k < 2; k++) {
        r[k] = (struct rank_arg){.id = id, .rank = k, .nranks = 2, .device = k, .i32 = {k ? 4 : 3, k ? -4 : -3},
                                 .f32 = {k ? 2.0f : 1.0f, k ? 0.5f : 0.25f}};
        pthread_create(&t[k], NULL, rank_main, &r[k]);
    }
    for (int k = 0; k < 2; k++)
        pthread_join(t[k], NULL);
    expect("ncclCommInitRank on 2 threads", r[0].init == ncclSuccess && r[1].init == ncclSuccess, "%lld",
           r[0].init ? r[0].init : r[1].init);
    expect("int32 avg of 3 and 4 is 3 (sum, then divided, toward zero)", r[1].avg_i32[0] == 3, "%lld",
           r[1].avg_i32[0]);
    expect("int32 avg of -3 and -4 is -3", r[0].avg_i32[1] == -3, "%lld", r[0].avg_i32[1]);
    expect("float avg of 1 and 2 is 1.5 (each times 0.5, then summed)", r[0].avg_f32[0] == 1.5f, "%lld x 1000",
           (long long)(r[0].avg_f32[0] * 1000));
    expect("float sum of 0.25 and 0.5 is 0.75", r[1].sum_f32[1] == 0.75f, "%lld x 1000",
           (long long)(r[1].sum_f32[1] * 1000));
    expect("in-place AllGather", r[1].gathered[0] == 3 && r[1].gathered[1] == -3 && r[1].gathered[2] == 4 &&
                                     r[1].gathered[3] == -4, "first %lld", r[1].gathered[0]);
    expect("a host buffer is refused (ncclInvalidArgument)", r[0].host_buffer == ncclInvalidArgument, "%lld",
           r[0].host_buffer);
    expect("a root out of range is refused", r[1].bad_root == ncclInvalidArgument, "%lld", r[1].bad_root);
    expect("an invalid datatype is refused", r[0].bad_type == ncclInvalidArgument, "%lld", r[0].bad_type);

    /* two ranks of one communicator on one GPU: NCCL's "Duplicate GPU detected" */
    ncclGetUniqueId(&id);
    for (int k = 0; k < 2; k++) {
        r[k] = (struct rank_arg){.id = id, .rank = k, .nranks = 2, .device = 0};
        pthread_create(&t[k], NULL, rank_main, &r[k]);
    }
    for (int k = 0; k < 2; k++)
        pthread_join(t[k], NULL);
    expect("two ranks on one GPU are refused (ncclInvalidUsage)",
           r[0].init == ncclInvalidUsage && r[1].init == ncclInvalidUsage, "%lld", r[0].init);
    ncclComm_t c1 = NULL;
    ncclGetUniqueId(&id);
    cudaSetDevice(0);
    EXPECT_NCCL("a 1-rank communicator", ncclCommInitRank(&c1, 1, id, 0), ncclSuccess);
    EXPECT_NCCL("ncclGroupEnd without ncclGroupStart is refused", ncclGroupEnd(), ncclInvalidUsage);
    EXPECT_NCCL("ncclCommDestroy", ncclCommDestroy(c1), ncclSuccess);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "touch") == 0)
        return touch();
    if (argc != 2 || strcmp(argv[1], "rules") != 0) {
        fprintf(stderr, "usage: fakegpu_probe touch|rules\n");
        return 2;
    }
    cuda_rules();
    nccl_rules();
    return failures ? 1 : 0;
}
