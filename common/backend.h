/* The data plane: a small vtable per backend (MPI now; NCCL and device memory later).
 * #ifdef and library types live in the backend files only. */
#ifndef SB_BACKEND_H
#define SB_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "collective.h"
#include "comm.h"
#include "memory.h"

struct sb_backend {
    const char *name;   /* JSON `backend`: "mpi", "mpi-cuda", "mpi-staged", "nccl" */
    const char *memory; /* JSON `memory`: "host", "pinned", "device" */
    const char *timing; /* JSON `timing`: what one sample is */
    const struct sb_comm *comm;
    void *state;
    /* The most elements one call may take (MPI: its int counts), 0 when size_t is the limit. */
    size_t max_count;

    /* Says how a dtype/op pair is done ("native", "user-defined op"), or NULL when it is not
     * supported (then `why` says why). */
    const char *(*support)(const struct sb_backend *be, enum sb_dtype t, enum sb_op op, const char **why);
    void *(*alloc)(const struct sb_backend *be, size_t bytes);
    void (*free)(const struct sb_backend *be, void *p, size_t bytes);
    /* Device memory: copies to and from host staging buffers for filling and checking (NULL
     * for host memory, which the harness reads and writes directly). 0 or an error code. */
    int (*upload)(const struct sb_backend *be, void *dst, const void *host, size_t bytes);
    int (*download)(const struct sb_backend *be, void *host, const void *src, size_t bytes);
    /* Device memory, filled and checked where it is (common/kernels.cu, nvcc builds): the
     * rank's input values (sb_pattern_value of `kind`) into the `count` elements at dst, 0xff
     * bytes, and the number of the `count` elements at src that differ from the expected values.
     * 0 or an error code.  NULL: the harness does it on the host (through upload and download
     * for device memory); it skips the staging copy when a backend has all three. */
    int (*fill)(const struct sb_backend *be, enum sb_pattern_kind kind, const struct sb_pattern *p, int rank,
                void *dst, size_t count);
    int (*poison)(const struct sb_backend *be, void *dst, size_t bytes);
    int (*count_wrong)(const struct sb_backend *be, enum sb_pattern_kind kind, const struct sb_pattern *p, int rank,
                       const void *src, size_t count, int64_t *wrong);
    /* Whether the collective can run in place on this backend (NULL: always). */
    int (*in_place_ok)(const struct sb_backend *be, const char *collective);
    /* Free bytes of the memory the buffers come from when it is not host memory (the GPU's),
     * 0 when unknown; NULL for host memory. */
    size_t (*free_bytes)(const struct sb_backend *be);
    int (*barrier)(const struct sb_backend *be);
    int (*allreduce)(const struct sb_backend *be, const struct sb_call *c);
    int (*alltoall)(const struct sb_backend *be, const struct sb_call *c);
    int (*allgather)(const struct sb_backend *be, const struct sb_call *c);
    int (*reduce_scatter)(const struct sb_backend *be, const struct sb_call *c);
    int (*broadcast)(const struct sb_backend *be, const struct sb_call *c); /* root 0, recv buffer */
    int (*sendrecv)(const struct sb_backend *be, const struct sb_call *c);  /* ring: to rank+1, from rank-1 */
    /* Sends to and receives from c->peer at once (NULL where the backend has no pairwise path). */
    int (*exchange)(const struct sb_backend *be, const struct sb_call *c);
    /* The same data plane on a part of the ranks: `sub` is sb_comm_split of be->comm with the
     * same color and key (so ranks match); 0 with out set up, or an error code.  NULL where the
     * backend cannot be split.  The part is released with out->finalize. */
    int (*split)(const struct sb_backend *be, const struct sb_comm *sub, int color, int key, struct sb_backend *out);
    /* Device backends: issues n calls back to back, without waiting between them, waits for
     * them, and gives their elapsed time in seconds by the device's clock (CUDA events around
     * them on the stream); 0 or an error code.  NULL: the harness times with the host clock
     * around calls that each complete before they return. */
    int (*time_calls)(const struct sb_backend *be, const struct sb_collective *coll, const struct sb_call *c, int n,
                      double *seconds);
    /* --graph N: time_calls of N calls then launches them as one CUDA graph (captured once per
     * point).  0, or an error code; NULL where the backend has no graphs. */
    int (*use_graph)(struct sb_backend *be, int calls);
    /* Text of a backend error code. */
    void (*strerror)(const struct sb_backend *be, int code, char *buf, size_t len);
    void (*finalize)(struct sb_backend *be);
};

/* Sets up the backend --backend names ("mpi", "nccl") on the memory --memory names; 0, or 2
 * with err filled on the ranks that failed (every rank returns the same code). */
int sb_backend_init(struct sb_backend *be, const char *backend, const char *memory, int device,
                    const struct sb_comm *comm, const struct sb_mem_policy *mem, char *err, size_t errlen);

/* The --backend a run gets when it names none: "mpi", or "nccl" in a build without MPI. */
const char *sb_backend_default(void);
/* 0 when this build has --backend `backend`; 2 with the line in err when it has not (mpi in a
 * build without MPI).  Pure: fit for the option checks, before anything is set up. */
int sb_backend_check(const char *backend, char *err, size_t errlen);

/* Sets up the MPI backend on host memory placed by `mem` (--mem-node); 0 or 2 with err filled. */
int sb_backend_mpi_init(struct sb_backend *be, const struct sb_comm *comm, const struct sb_mem_policy *mem,
                        char *err, size_t errlen);

/* The PCI id of the GPU this rank will drive under `backend` on `memory` (so it can be bound near
 * it before anything is allocated); 0 with pci filled, -1 when the backend drives no GPU (host
 * or pinned memory) or none is seen. */
int sb_backend_gpu_pci(const char *backend, const char *memory, int device, const struct sb_comm *comm, char *pci,
                       size_t len);

/* The NCCL backend on device memory: GPU `device`, or local rank modulo the visible GPUs
 * when device < 0 (backend_nccl.c, built with NCCL only). */
int sb_backend_nccl_init(struct sb_backend *be, const struct sb_comm *comm, int device, char *err, size_t errlen);

/* The MPI backend on CUDA memory (backend_mpi_device.c, CUDA builds only): `memory` "device"
 * (cudaMalloc on GPU `device`, or local rank modulo the visible GPUs when device < 0; ranks may
 * share a GPU) or "pinned" (cudaMallocHost).  Device buffers go to MPI directly when it is
 * CUDA-aware (name "mpi-cuda"), else through pinned host copies inside each call ("mpi-staged").
 * The MPI calls are those of an inner sb_backend_mpi_init backend. */
int sb_backend_mpi_device_init(struct sb_backend *be, const char *memory, int device, const struct sb_comm *comm,
                               const struct sb_mem_policy *mem, char *err, size_t errlen);

#endif
