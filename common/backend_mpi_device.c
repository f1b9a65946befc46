/* The MPI backend on CUDA memory (CUDA builds only).  It wraps an inner MPI backend
 * (sb_backend_mpi_init, host memory) and hands its calls other pointers:
 *
 *   --memory pinned: cudaMallocHost buffers, passed to MPI as they are      name "mpi"
 *   --memory device, CUDA-aware MPI: cudaMalloc buffers passed to MPI       name "mpi-cuda"
 *   --memory device otherwise: each call copies its input device -> pinned  name "mpi-staged"
 *     host (cudaMemcpy), runs MPI on the pinned copies and copies the result back; the copies
 *     are inside the timed call, because a program without CUDA-aware MPI pays them too.
 *
 * CUDA-aware: SB_MPI_CUDA_AWARE=1 or 0 decides; otherwise Open MPI's MPIX_Query_cuda_support()
 * (mpi-ext.h) says, and a library without that query (MPICH) counts as not aware.  Several ranks
 * may share a GPU (unlike NCCL).
 *
 * Device buffers are filled and checked on the device (default stream) where nvcc built the
 * kernels (common/kernels.cu); pinned buffers are host memory, filled and checked in place. */
#include <cuda_runtime.h>
#include <mpi.h>
#if defined(OPEN_MPI) && OPEN_MPI
#include <mpi-ext.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "gpu_select.h"
#ifdef SB_HAVE_NVCC
#include "kernels.h"
#include "pattern.h"
#endif

/* Codes this file returns besides the inner backend's MPI error codes (small non-negative). */
enum { CUDA_ERROR_BASE = 100000 };

enum mpid_mode { MODE_PINNED, MODE_AWARE, MODE_STAGED };

typedef int (*sb_call_fn)(const struct sb_backend *be, const struct sb_call *c);

struct mpid_state {
    struct sb_backend inner; /* the MPI backend whose calls run on our pointers */
    enum mpid_mode mode;
    struct sb_gpu_choice gpu;
    void *stage_send, *stage_recv; /* MODE_STAGED: pinned host copies of the two buffers */
    size_t stage_bytes;
};

static struct mpid_state *state_of(const struct sb_backend *be) { return be->state; }

static int cuda_code(cudaError_t e) { return e == cudaSuccess ? 0 : CUDA_ERROR_BASE + (int)e; }

/* ---- memory */

static void free_stage(struct mpid_state *s)
{
    if (s->stage_send)
        cudaFreeHost(s->stage_send);
    if (s->stage_recv)
        cudaFreeHost(s->stage_recv);
    s->stage_send = s->stage_recv = NULL;
    s->stage_bytes = 0;
}

/* The pinned copies grow with the largest device buffer (allocated here, never in a call). */
static int grow_stage(struct mpid_state *s, size_t bytes)
{
    if (bytes <= s->stage_bytes)
        return 0;
    free_stage(s);
    if (cudaMallocHost(&s->stage_send, bytes) != cudaSuccess || cudaMallocHost(&s->stage_recv, bytes) != cudaSuccess) {
        free_stage(s);
        return -1;
    }
    s->stage_bytes = bytes;
    return 0;
}

static void *mpid_alloc(const struct sb_backend *be, size_t bytes)
{
    struct mpid_state *s = state_of(be);
    void *p = NULL;
    bytes = bytes ? bytes : 1;
    if (s->mode == MODE_PINNED)
        return cudaMallocHost(&p, bytes) == cudaSuccess ? p : NULL;
    if (cudaMalloc(&p, bytes) != cudaSuccess)
        return NULL;
    if (s->mode == MODE_STAGED && grow_stage(s, bytes) != 0) {
        cudaFree(p);
        return NULL;
    }
    return p;
}

static void mpid_free(const struct sb_backend *be, void *p, size_t bytes)
{
    (void)bytes;
    if (!p)
        return;
    if (state_of(be)->mode == MODE_PINNED)
        cudaFreeHost(p);
    else
        cudaFree(p);
}

/* Device memory only.  Synchronised, so that MPI (which may use streams of its own) sees the
 * data whatever the copy's kind. */
static int mpid_upload(const struct sb_backend *be, void *dst, const void *host, size_t bytes)
{
    (void)be;
    int rc = cuda_code(cudaMemcpy(dst, host, bytes, cudaMemcpyHostToDevice));
    return rc ? rc : cuda_code(cudaDeviceSynchronize());
}

static int mpid_download(const struct sb_backend *be, void *host, const void *src, size_t bytes)
{
    (void)be;
    return cuda_code(cudaMemcpy(host, src, bytes, cudaMemcpyDeviceToHost));
}

#ifdef SB_HAVE_NVCC
/* On the default stream, waited for (MPI may read the buffers from streams of its own). */
static int mpid_fill(const struct sb_backend *be, enum sb_pattern_kind kind, const struct sb_pattern *p, int rank,
                     void *dst, size_t count)
{
    (void)be;
    struct sb_pattern_args a = sb_pattern_args_of(p);
    return cuda_code((cudaError_t)sb_dev_fill(kind, &a, p->dtype, rank, dst, count, NULL));
}

static int mpid_poison(const struct sb_backend *be, void *dst, size_t bytes)
{
    (void)be;
    return cuda_code((cudaError_t)sb_dev_poison(dst, bytes, NULL));
}

static int mpid_count_wrong(const struct sb_backend *be, enum sb_pattern_kind kind, const struct sb_pattern *p,
                            int rank, const void *src, size_t count, int64_t *wrong)
{
    (void)be;
    struct sb_pattern_args a = sb_pattern_args_of(p);
    return cuda_code((cudaError_t)sb_dev_count_wrong(kind, &a, p->dtype, rank, src, count, wrong, NULL));
}

static void add_device_checks(struct sb_backend *be)
{
    be->fill = mpid_fill;
    be->poison = mpid_poison;
    be->count_wrong = mpid_count_wrong;
}
#else
static void add_device_checks(struct sb_backend *be) { (void)be; } /* no kernels: the host path */
#endif

/* This rank's share of its GPU's free memory (ranks of a node may share one GPU). */
static size_t mpid_free_bytes(const struct sb_backend *be)
{
    const struct mpid_state *s = state_of(be);
    size_t free_b = 0, total = 0;
    if (cudaMemGetInfo(&free_b, &total) != cudaSuccess)
        return 0;
    return free_b / (size_t)(s->gpu.sharing > 0 ? s->gpu.sharing : 1);
}

/* ---- calls */

static const char *mpid_support(const struct sb_backend *be, enum sb_dtype t, enum sb_op op, const char **why)
{
    const struct sb_backend *inner = &state_of(be)->inner;
    return inner->support(inner, t, op, why);
}

static int mpid_barrier(const struct sb_backend *be)
{
    struct mpid_state *s = state_of(be);
    int rc = s->mode == MODE_PINNED ? 0 : cuda_code(cudaDeviceSynchronize());
    int brc = s->inner.barrier(&s->inner);
    return rc ? rc : brc;
}

/* Device input -> pinned, MPI on the pinned copies, result -> device.  The input is what the
 * call reads: the send buffer, or in place (send == recv) the receive buffer, as long as the
 * longer of the two (in-place ReduceScatter reads a whole send buffer's worth from it).  The MPI
 * call is made even when the copy in failed: the other ranks make it, and would wait for this one. */
static int staged_call(struct mpid_state *s, const struct sb_call *c, sb_call_fn fn)
{
    size_t elem = sb_dtype_size(c->dtype), send = c->layout.send_count, recv = c->layout.recv_count;
    size_t in_bytes = (c->in_place && recv > send ? recv : send) * elem;
    void *in = c->in_place ? s->stage_recv : s->stage_send;
    struct sb_call host = *c;
    host.send = in;
    host.recv = s->stage_recv;
    int rc = cuda_code(cudaMemcpy(in, c->send, in_bytes, cudaMemcpyDeviceToHost));
    int mrc = fn(&s->inner, &host);
    rc = rc ? rc : mrc;
    if (rc == 0)
        rc = cuda_code(cudaMemcpy(c->recv, host.recv, c->layout.recv_count * elem, cudaMemcpyHostToDevice));
    return rc;
}

static int run_call(const struct sb_backend *be, const struct sb_call *c, sb_call_fn fn)
{
    struct mpid_state *s = state_of(be);
    return s->mode == MODE_STAGED ? staged_call(s, c, fn) : fn(&s->inner, c);
}

#define MPID_CALL(opname)                                                                     \
    static int mpid_##opname(const struct sb_backend *be, const struct sb_call *c)            \
    {                                                                                         \
        return run_call(be, c, state_of(be)->inner.opname);                                   \
    }
MPID_CALL(allreduce)
MPID_CALL(alltoall)
MPID_CALL(allgather)
MPID_CALL(reduce_scatter)
MPID_CALL(broadcast)
MPID_CALL(sendrecv)

static void mpid_strerror(const struct sb_backend *be, int code, char *buf, size_t len)
{
    const struct sb_backend *inner = &state_of(be)->inner;
    if (code >= CUDA_ERROR_BASE)
        snprintf(buf, len, "CUDA: %s", cudaGetErrorString((cudaError_t)(code - CUDA_ERROR_BASE)));
    else
        inner->strerror(inner, code, buf, len);
}

static void mpid_finalize(struct sb_backend *be)
{
    struct mpid_state *s = state_of(be);
    if (!s)
        return;
    free_stage(s);
    if (s->inner.finalize)
        s->inner.finalize(&s->inner);
    free(s);
    be->state = NULL;
}

/* ---- set-up */

/* Whether device pointers may go to MPI: SB_MPI_CUDA_AWARE=0|1, else what the library says.
 * 0, or 2 with err filled. */
static int cuda_aware(int *aware, char *err, size_t errlen)
{
    const char *env = getenv("SB_MPI_CUDA_AWARE");
    if (env && *env) {
        if (strcmp(env, "0") != 0 && strcmp(env, "1") != 0) {
            snprintf(err, errlen, "SB_MPI_CUDA_AWARE='%s': accepted: 1 (MPI takes device buffers), 0 (stage "
                     "through pinned host buffers), or unset (ask the MPI library)", env);
            return 2;
        }
        *aware = env[0] == '1';
        return 0;
    }
#if defined(MPIX_CUDA_AWARE_SUPPORT)
    *aware = MPIX_Query_cuda_support() == 1;
#else
    *aware = 0; /* no query (MPICH): not aware unless SB_MPI_CUDA_AWARE=1 says so */
#endif
    return 0;
}

/* The usage checks (SB_MPI_CUDA_AWARE, --mem-node), then this rank's GPU, made current. */
static int local_setup(struct mpid_state *s, int pinned, int device, const struct sb_comm *comm,
                       const struct sb_mem_policy *mem, int *aware, char *err, size_t errlen)
{
    int rc = pinned ? 0 : cuda_aware(aware, err, errlen);
    if (rc == 0 && pinned && mem->kind != SB_MEM_LOCAL) {
        char where[64];
        sb_mem_policy_name(mem, where, sizeof where);
        snprintf(err, errlen, "--memory pinned with --mem-node %s: cudaMallocHost places the pages itself (near the "
                 "bound cores): leave --mem-node out or say local", where);
        rc = 2;
    }
    /* collective: every rank, whatever the checks above said (their message is kept) */
    char gpu_err[256] = "";
    int gpu_rc = sb_gpu_select(comm, device, false, pinned ? "--memory pinned" : "--backend mpi --memory device",
                               &s->gpu, gpu_err, sizeof gpu_err);
    if (rc == 0 && gpu_rc != 0) {
        snprintf(err, errlen, "%s", gpu_err);
        rc = gpu_rc;
    }
    if (rc == 0 && cudaSetDevice(s->gpu.device) != cudaSuccess) {
        snprintf(err, errlen, "cudaSetDevice(%d) failed", s->gpu.device);
        rc = 2;
    }
    return rc;
}

static const char *const timing_of[] = {
    [MODE_PINNED] = "per-call: barrier, then the call on pinned (cudaMallocHost) host buffers; max over ranks per "
                    "iteration",
    [MODE_AWARE] = "per-call: barrier (device synchronised), then the MPI call on the device buffers (CUDA-aware "
                   "MPI); host clock; max over ranks per iteration",
    [MODE_STAGED] = "per-call: barrier (device synchronised), then cudaMemcpy of the input device to pinned host, "
                    "the MPI call on the pinned buffers and cudaMemcpy of the result back to the device: the "
                    "staging copies are included; host clock; max over ranks per iteration",
};
static const char *const name_of[] = {[MODE_PINNED] = "mpi", [MODE_AWARE] = "mpi-cuda", [MODE_STAGED] = "mpi-staged"};

static void fill_vtable(struct sb_backend *be, struct mpid_state *s, const struct sb_comm *comm)
{
    int device = s->mode != MODE_PINNED;
    *be = (struct sb_backend){
        .name = name_of[s->mode],
        .memory = device ? "device" : "pinned",
        .timing = timing_of[s->mode],
        .comm = comm,
        .max_count = s->inner.max_count,
        .state = s,
        .support = mpid_support,
        .alloc = mpid_alloc,
        .free = mpid_free,
        .upload = device ? mpid_upload : NULL,
        .download = device ? mpid_download : NULL,
        .free_bytes = device ? mpid_free_bytes : NULL,
        .barrier = mpid_barrier,
        .allreduce = mpid_allreduce,
        .alltoall = mpid_alltoall,
        .allgather = mpid_allgather,
        .reduce_scatter = mpid_reduce_scatter,
        .broadcast = mpid_broadcast,
        .sendrecv = mpid_sendrecv,
        .strerror = mpid_strerror,
        .finalize = mpid_finalize,
    };
    if (device)
        add_device_checks(be);
}

int sb_backend_mpi_device_init(struct sb_backend *be, const char *memory, int device, const struct sb_comm *comm,
                               const struct sb_mem_policy *mem, char *err, size_t errlen)
{
    int pinned = strcmp(memory, "pinned") == 0, aware = 0;
    struct mpid_state *s = calloc(1, sizeof *s), none = {0};
    int rc = local_setup(s ? s : &none, pinned, device, comm, mem, &aware, err, errlen); /* collective */
    if (!s) {
        snprintf(err, errlen, "out of memory");
        rc = 2;
    }
    rc = sb_comm_max_int(comm, rc);
    if (rc == 0)
        rc = sb_backend_mpi_init(&s->inner, comm, mem, err, errlen);
    if (rc != 0) {
        free(s);
        return rc;
    }
    aware = !sb_comm_max_int(comm, !aware); /* device pointers to MPI only where every rank's MPI takes them */
    s->mode = pinned ? MODE_PINNED : aware ? MODE_AWARE : MODE_STAGED;
    fill_vtable(be, s, comm);
    return 0;
}
