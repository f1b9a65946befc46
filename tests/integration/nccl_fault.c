/* Test-only NCCL wrapper, loaded with LD_PRELOAD by gpu.sh, that corrupts AllReduce results so
 * the suite can prove the device check notices them: with SB_FAULT=corrupt, after the real
 * ncclAllReduce of the rank SB_FAULT_RANK (default 0; -1 = every rank) of the communicator, the
 * first byte of the receive buffer is set to 0x5a on the call's stream (no expected value of
 * the test's int32 and float runs has that low byte). */
#define _GNU_SOURCE
#include <cuda_runtime.h>
#include <dlfcn.h>
#include <nccl.h>
#include <stdlib.h>
#include <string.h>

typedef ncclResult_t (*allreduce_fn)(const void *, void *, size_t, ncclDataType_t, ncclRedOp_t, ncclComm_t,
                                     cudaStream_t);

static int affected(ncclComm_t comm)
{
    const char *fault = getenv("SB_FAULT"), *r = getenv("SB_FAULT_RANK");
    int want = r ? atoi(r) : 0, rank = -1;
    if (!fault || strcmp(fault, "corrupt") != 0 || ncclCommUserRank(comm, &rank) != ncclSuccess)
        return 0;
    return want < 0 || want == rank;
}

ncclResult_t ncclAllReduce(const void *send, void *recv, size_t count, ncclDataType_t type, ncclRedOp_t op,
                           ncclComm_t comm, cudaStream_t stream)
{
    static allreduce_fn real;
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "ncclAllReduce");
    if (!real)
        return ncclSystemError;
    ncclResult_t rc = real(send, recv, count, type, op, comm, stream);
    if (rc == ncclSuccess && count > 0 && affected(comm) && cudaMemsetAsync(recv, 0x5a, 1, stream) != cudaSuccess)
        rc = ncclUnhandledCudaError;
    return rc;
}
