/* The NCCL backend: device buffers (cudaMalloc), one communicator per run (the unique id is
 * broadcast over the harness's MPI control plane), one stream.  Timing is by CUDA events on the
 * stream (time_calls): per call, the events around one call that is then waited for
 * (cudaStreamSynchronize): the blocking latency of one call, as OSU measures it; per batch, N
 * calls issued back to back with one wait at the end (nccl-tests' number), or a CUDA graph of
 * them (--graph N).  The barrier drains the stream first.
 *
 * Data are written and checked outside the timed region: on the device, on the backend's
 * stream, where nvcc built the kernels (fill/poison/count_wrong hooks, common/kernels.cu);
 * otherwise on the host and copied (upload/download hooks). */
#include <cuda_runtime.h>
#include <nccl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "gpu_select.h"

/* Newer than the NCCL a cluster may load at run time (LD_LIBRARY_PATH, a container's NCCL):
 * weak, so that the binaries still start with an older libnccl.so.2, and tested before use.
 * ncclAlltoAll came with 2.28 (else grouped ncclSend/ncclRecv), ncclCommSplit with 2.18. */
#pragma weak ncclAlltoAll
#pragma weak ncclCommSplit
#ifdef SB_HAVE_NVCC
#include "kernels.h"
#include "pattern.h"
#endif

/* Codes this file returns besides ncclResult_t values (which are small non-negative). */
enum { CUDA_ERROR_BASE = 100000 };

/* --graph: the calls captured for the current point, relaunched while the point is the same. */
struct nccl_graph {
    int calls;                  /* N of --graph N (0: no graphs) */
    cudaGraphExec_t exec;       /* NULL until captured */
    const struct sb_collective *coll;
    struct sb_call call;        /* what was captured */
};

struct nccl_state {
    ncclComm_t comm;
    cudaStream_t stream;
    cudaEvent_t start, stop;    /* the device clock of time_calls */
    int deferred;               /* time_calls is issuing a batch (or capturing): calls do not wait */
    int part;                   /* a split of another backend: the stream and events are that one's */
    struct nccl_graph graph;
    int device;
    char device_name[256];
    char pci[32];
};

static struct nccl_state *state_of(const struct sb_backend *be) { return be->state; }

static int cuda_code(cudaError_t e) { return e == cudaSuccess ? 0 : CUDA_ERROR_BASE + (int)e; }

/* Waits for the stream and turns any failure (including an asynchronous NCCL error) into a
 * code the harness can report. */
static int finish(const struct sb_backend *be, ncclResult_t launched)
{
    struct nccl_state *s = state_of(be);
    if (launched != ncclSuccess || s->deferred)
        return (int)launched; /* in a batch, time_calls waits once for all of them */
    int rc = cuda_code(cudaStreamSynchronize(s->stream));
    ncclResult_t async = ncclSuccess;
    if (rc == 0 && ncclCommGetAsyncError(s->comm, &async) == ncclSuccess && async != ncclSuccess)
        rc = (int)async;
    return rc;
}

static ncclDataType_t nccl_type(enum sb_dtype t)
{
    switch (t) {
    case SB_INT8: return ncclInt8;
    case SB_UINT8: return ncclUint8;
    case SB_INT32: return ncclInt32;
    case SB_UINT32: return ncclUint32;
    case SB_INT64: return ncclInt64;
    case SB_UINT64: return ncclUint64;
    case SB_HALF: return ncclFloat16;
    case SB_BFLOAT16: return ncclBfloat16;
    case SB_FLOAT: return ncclFloat32;
    default: return ncclFloat64;
    }
}

static ncclRedOp_t nccl_op(enum sb_op op)
{
    switch (op) {
    case SB_SUM: return ncclSum;
    case SB_PROD: return ncclProd;
    case SB_MIN: return ncclMin;
    case SB_AVG: return ncclAvg;
    default: return ncclMax;
    }
}

static const char *nccl_support(const struct sb_backend *be, enum sb_dtype t, enum sb_op op, const char **why)
{
    (void)be;
    (void)t;
    (void)op;
    *why = NULL;
    return "native"; /* NCCL has every dtype and op scalebench offers */
}

static void *nccl_alloc(const struct sb_backend *be, size_t bytes)
{
    (void)be;
    void *p = NULL;
    return cudaMalloc(&p, bytes ? bytes : 1) == cudaSuccess ? p : NULL;
}

static void nccl_free(const struct sb_backend *be, void *p, size_t bytes)
{
    (void)be;
    (void)bytes;
    if (p)
        cudaFree(p);
}

/* The staging copies run on the backend's stream and are waited for: a plain cudaMemcpy runs on
 * the legacy default stream, which the non-blocking stream of the NCCL calls does not wait for,
 * and from pageable memory it returns before its DMA to the device is done. */
static int stream_copy(const struct sb_backend *be, void *dst, const void *src, size_t bytes,
                       enum cudaMemcpyKind kind)
{
    cudaStream_t stream = state_of(be)->stream;
    int rc = cuda_code(cudaMemcpyAsync(dst, src, bytes, kind, stream));
    return rc ? rc : cuda_code(cudaStreamSynchronize(stream));
}

static int nccl_upload(const struct sb_backend *be, void *dst, const void *host, size_t bytes)
{
    return stream_copy(be, dst, host, bytes, cudaMemcpyHostToDevice);
}

static int nccl_download(const struct sb_backend *be, void *host, const void *src, size_t bytes)
{
    return stream_copy(be, host, src, bytes, cudaMemcpyDeviceToHost);
}

#ifdef SB_HAVE_NVCC
/* Filled, poisoned and checked on the device, on the backend's stream: nothing is copied. */
static int nccl_fill(const struct sb_backend *be, enum sb_pattern_kind kind, const struct sb_pattern *p, int rank,
                     void *dst, size_t count)
{
    struct sb_pattern_args a = sb_pattern_args_of(p);
    return cuda_code((cudaError_t)sb_dev_fill(kind, &a, p->dtype, rank, dst, count, state_of(be)->stream));
}

static int nccl_poison(const struct sb_backend *be, void *dst, size_t bytes)
{
    return cuda_code((cudaError_t)sb_dev_poison(dst, bytes, state_of(be)->stream));
}

static int nccl_count_wrong(const struct sb_backend *be, enum sb_pattern_kind kind, const struct sb_pattern *p,
                            int rank, const void *src, size_t count, int64_t *wrong)
{
    struct sb_pattern_args a = sb_pattern_args_of(p);
    return cuda_code(
        (cudaError_t)sb_dev_count_wrong(kind, &a, p->dtype, rank, src, count, wrong, state_of(be)->stream));
}

static void add_device_checks(struct sb_backend *be)
{
    be->fill = nccl_fill;
    be->poison = nccl_poison;
    be->count_wrong = nccl_count_wrong;
}
#else
static void add_device_checks(struct sb_backend *be) { (void)be; } /* no kernels: the host path */
#endif

/* The stream drained, then the ranks synchronised on the host. */
static int nccl_barrier(const struct sb_backend *be)
{
    int rc = cuda_code(cudaStreamSynchronize(state_of(be)->stream));
    int brc = sb_comm_barrier(be->comm);
    return rc ? rc : brc;
}

static int nccl_allreduce(const struct sb_backend *be, const struct sb_call *c)
{
    struct nccl_state *s = state_of(be);
    return finish(be, ncclAllReduce(c->send, c->recv, c->layout.count, nccl_type(c->dtype), nccl_op(c->op), s->comm,
                                    s->stream));
}

/* Without ncclAlltoAll: block p of the send buffer to rank p, block p of the receive buffer
 * from rank p, in one group (as nccl-tests does). */
static ncclResult_t grouped_alltoall(const struct sb_backend *be, const struct sb_call *c)
{
    struct nccl_state *s = state_of(be);
    ncclDataType_t t = nccl_type(c->dtype);
    size_t block = c->layout.count_per_peer * sb_dtype_size(c->dtype);
    ncclResult_t r = ncclGroupStart();
    for (int p = 0; p < be->comm->size && r == ncclSuccess; p++) {
        r = ncclSend((const char *)c->send + (size_t)p * block, c->layout.count_per_peer, t, p, s->comm, s->stream);
        if (r == ncclSuccess)
            r = ncclRecv((char *)c->recv + (size_t)p * block, c->layout.count_per_peer, t, p, s->comm, s->stream);
    }
    ncclResult_t end = ncclGroupEnd();
    return r != ncclSuccess ? r : end;
}

/* ncclAlltoAll (NCCL 2.28) takes the per-peer count; out of place only (nccl_in_place_ok). */
static int nccl_alltoall(const struct sb_backend *be, const struct sb_call *c)
{
    struct nccl_state *s = state_of(be);
    if (!ncclAlltoAll)
        return finish(be, grouped_alltoall(be, c));
    return finish(be, ncclAlltoAll(c->send, c->recv, c->layout.count_per_peer, nccl_type(c->dtype), s->comm,
                                   s->stream));
}

/* In place, NCCL expects the rank's block at its slot of the receive buffer (as MPI does). */
static int nccl_allgather(const struct sb_backend *be, const struct sb_call *c)
{
    struct nccl_state *s = state_of(be);
    size_t block = c->layout.count_per_peer, elem = sb_dtype_size(c->dtype);
    const void *send = c->in_place ? (const char *)c->recv + (size_t)be->comm->rank * block * elem : c->send;
    return finish(be, ncclAllGather(send, c->recv, block, nccl_type(c->dtype), s->comm, s->stream));
}

static int nccl_reduce_scatter(const struct sb_backend *be, const struct sb_call *c)
{
    struct nccl_state *s = state_of(be);
    return finish(be, ncclReduceScatter(c->send, c->recv, c->layout.count_per_peer, nccl_type(c->dtype),
                                        nccl_op(c->op), s->comm, s->stream));
}

static int nccl_broadcast(const struct sb_backend *be, const struct sb_call *c)
{
    struct nccl_state *s = state_of(be);
    return finish(be, ncclBroadcast(c->recv, c->recv, c->layout.count, nccl_type(c->dtype), 0, s->comm, s->stream));
}

/* Both ways with call->peer at once (sb_pairs); out of place only (nccl_in_place_ok). */
static int nccl_exchange(const struct sb_backend *be, const struct sb_call *c)
{
    struct nccl_state *s = state_of(be);
    ncclDataType_t t = nccl_type(c->dtype);
    ncclResult_t r = ncclGroupStart();
    if (r == ncclSuccess)
        r = ncclSend(c->send, c->layout.count, t, c->peer, s->comm, s->stream);
    if (r == ncclSuccess)
        r = ncclRecv(c->recv, c->layout.count, t, c->peer, s->comm, s->stream);
    ncclResult_t end = ncclGroupEnd();
    return finish(be, r != ncclSuccess ? r : end);
}

/* A communicator of the ranks with the same color (ncclCommSplit, NCCL 2.18 on), on the same
 * stream and GPU; a rank in no part gets a backend that holds nothing. */
static int nccl_split(const struct sb_backend *be, const struct sb_comm *sub, int color, int key,
                      struct sb_backend *out)
{
    const struct nccl_state *parent = state_of(be);
    struct nccl_state *s = calloc(1, sizeof *s);
    if (!s)
        return CUDA_ERROR_BASE + (int)cudaErrorMemoryAllocation;
    *s = *parent;
    s->part = 1;
    s->comm = NULL;
    s->graph = (struct nccl_graph){.calls = parent->graph.calls};
    ncclResult_t r = ncclCommSplit(parent->comm, color >= 0 ? color : NCCL_SPLIT_NOCOLOR, key, &s->comm, NULL);
    *out = *be;
    out->comm = sub;
    out->state = color >= 0 && r == ncclSuccess ? s : NULL;
    if (!out->state)
        free(s);
    return r == ncclSuccess ? 0 : (int)r;
}

static int nccl_sendrecv(const struct sb_backend *be, const struct sb_call *c)
{
    struct nccl_state *s = state_of(be);
    int rank = be->comm->rank, n = be->comm->size;
    ncclDataType_t t = nccl_type(c->dtype);
    ncclResult_t r = ncclGroupStart();
    if (r == ncclSuccess)
        r = ncclSend(c->send, c->layout.count, t, (rank + 1) % n, s->comm, s->stream);
    if (r == ncclSuccess)
        r = ncclRecv(c->recv, c->layout.count, t, (rank + n - 1) % n, s->comm, s->stream);
    ncclResult_t end = ncclGroupEnd();
    return finish(be, r != ncclSuccess ? r : end);
}

/* NCCL lays an in-place ReduceScatter out differently from MPI (the result at rank * block, not
 * at the start), defines no in-place AlltoAll, and a send and a receive on one buffer would
 * race (SendRecv, the pairs' exchange): those are measured out of place only. */
static int nccl_in_place_ok(const struct sb_backend *be, const char *collective)
{
    (void)be;
    return strcmp(collective, "reduce_scatter") != 0 && strcmp(collective, "sendrecv") != 0 &&
           strcmp(collective, "alltoall") != 0 && strcmp(collective, "pairs") != 0;
}

static size_t nccl_free_bytes(const struct sb_backend *be)
{
    (void)be;
    size_t free_b = 0, total = 0;
    return cudaMemGetInfo(&free_b, &total) == cudaSuccess ? free_b : 0;
}

static int async_error(struct nccl_state *s)
{
    ncclResult_t async = ncclSuccess;
    return ncclCommGetAsyncError(s->comm, &async) == ncclSuccess ? (int)async : 0;
}

static void drop_graph(struct nccl_graph *g)
{
    if (g->exec)
        cudaGraphExecDestroy(g->exec);
    g->exec = NULL;
}

static int same_point(const struct nccl_graph *g, const struct sb_collective *coll, const struct sb_call *c)
{
    return g->exec && g->coll == coll && memcmp(&g->call, c, sizeof *c) == 0;
}

/* Captures the graph's calls of this point on the stream (NCCL calls can be captured since 2.9). */
static int capture_graph(const struct sb_backend *be, const struct sb_collective *coll, const struct sb_call *c)
{
    struct nccl_state *s = state_of(be);
    struct nccl_graph *g = &s->graph;
    drop_graph(g);
    cudaGraph_t graph = NULL;
    int rc = cuda_code(cudaStreamBeginCapture(s->stream, cudaStreamCaptureModeThreadLocal));
    if (rc == 0) { /* a capture that began is ended, whatever the calls did */
        for (int j = 0; j < g->calls && rc == 0; j++)
            rc = coll->run(be, c);
        int end = cuda_code(cudaStreamEndCapture(s->stream, &graph));
        rc = rc ? rc : end;
    }
    if (rc == 0)
        rc = cuda_code(cudaGraphInstantiate(&g->exec, graph, 0));
    if (rc != 0)
        g->exec = NULL; /* no graph: the calls are made one by one */
    if (graph)
        cudaGraphDestroy(graph);
    g->coll = coll;
    g->call = *c;
    return rc;
}

/* n calls back to back (or the point's graph), CUDA events around them, one wait at the end.  The
 * calls are made whatever failed on this rank before them (an event, the graph's capture or its
 * launch): every other rank makes them, and NCCL would wait for this one forever. */
static int nccl_time_calls(const struct sb_backend *be, const struct sb_collective *coll, const struct sb_call *c,
                           int n, double *seconds)
{
    struct nccl_state *s = state_of(be);
    int use_graph = s->graph.calls > 0 && n == s->graph.calls, rc = 0, launched = 0;
    *seconds = 0;
    s->deferred = 1;
    if (use_graph && !same_point(&s->graph, coll, c))
        rc = capture_graph(be, coll, c);
    int start = cuda_code(cudaEventRecord(s->start, s->stream));
    rc = rc ? rc : start;
    if (use_graph && s->graph.exec) {
        int launch = cuda_code(cudaGraphLaunch(s->graph.exec, s->stream));
        launched = launch == 0;
        rc = rc ? rc : launch;
    }
    for (int j = 0; j < n && !launched; j++) {
        int one = coll->run(be, c);
        rc = rc ? rc : one;
    }
    s->deferred = 0;
    int rec = cuda_code(cudaEventRecord(s->stop, s->stream));
    int wait = cuda_code(cudaStreamSynchronize(s->stream));
    rc = rc ? rc : rec ? rec : wait ? wait : async_error(s);
    float ms = 0;
    if (rc == 0)
        rc = cuda_code(cudaEventElapsedTime(&ms, s->start, s->stop));
    *seconds = ms * 1e-3;
    return rc;
}

static int nccl_use_graph(struct sb_backend *be, int calls)
{
    state_of(be)->graph.calls = calls;
    return 0;
}

static void nccl_strerror(const struct sb_backend *be, int code, char *buf, size_t len)
{
    (void)be;
    if (code >= CUDA_ERROR_BASE)
        snprintf(buf, len, "CUDA: %s", cudaGetErrorString((cudaError_t)(code - CUDA_ERROR_BASE)));
    else
        snprintf(buf, len, "NCCL: %s", ncclGetErrorString((ncclResult_t)code));
}

static void nccl_finalize(struct sb_backend *be)
{
    struct nccl_state *s = state_of(be);
    if (!s)
        return;
    drop_graph(&s->graph);
    if (s->comm)
        ncclCommDestroy(s->comm);
    if (s->start && !s->part)
        cudaEventDestroy(s->start);
    if (s->stop && !s->part)
        cudaEventDestroy(s->stop);
    if (s->stream && !s->part)
        cudaStreamDestroy(s->stream);
    free(s);
    be->state = NULL;
}

static int open_communicator(struct nccl_state *s, const struct sb_comm *comm, char *err, size_t errlen)
{
    ncclUniqueId id;
    memset(&id, 0, sizeof id);
    ncclResult_t r = ncclSuccess;
    if (comm->rank == 0)
        r = ncclGetUniqueId(&id);
    int bad = sb_comm_max_int(comm, r != ncclSuccess);
    if (bad) {
        snprintf(err, errlen, "ncclGetUniqueId failed on rank 0: %s", ncclGetErrorString(r));
        return 2;
    }
    sb_comm_bcast_bytes(comm, &id, sizeof id);
    r = ncclCommInitRank(&s->comm, comm->size, id, comm->rank);
    if (sb_comm_max_int(comm, r != ncclSuccess)) {
        snprintf(err, errlen, "ncclCommInitRank failed on some rank%s%s", r != ncclSuccess ? ": " : "",
                 r != ncclSuccess ? ncclGetErrorString(r) : "");
        s->comm = NULL;
        return 2;
    }
    return 0;
}

int sb_backend_nccl_init(struct sb_backend *be, const struct sb_comm *comm, int device, char *err, size_t errlen)
{
    struct nccl_state *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return 2;
    }
    struct sb_gpu_choice gpu = {.device = -1};
    int rc = sb_gpu_select(comm, device, true, "--backend nccl", &gpu, err, errlen);
    s->device = gpu.device;
    rc = sb_comm_max_int(comm, rc);
    if (rc == 0 && cudaSetDevice(s->device) != cudaSuccess) {
        snprintf(err, errlen, "cudaSetDevice(%d) failed", s->device);
        rc = 2;
    }
    if (rc == 0 && cudaStreamCreateWithFlags(&s->stream, cudaStreamNonBlocking) != cudaSuccess) {
        snprintf(err, errlen, "cudaStreamCreate failed on device %d", s->device);
        rc = 2;
    }
    if (rc == 0 && (cudaEventCreate(&s->start) != cudaSuccess || cudaEventCreate(&s->stop) != cudaSuccess)) {
        snprintf(err, errlen, "cudaEventCreate failed on device %d", s->device);
        rc = 2;
    }
    rc = sb_comm_max_int(comm, rc);
    if (rc == 0)
        rc = open_communicator(s, comm, err, errlen);
    *be = (struct sb_backend){
        .name = "nccl",
        .memory = "device",
        .timing = "per-call: barrier (stream drained), then the call with CUDA events around it on the stream, "
                  "and cudaStreamSynchronize; device clock; max over ranks per iteration",
        .comm = comm,
        .state = s,
        .support = nccl_support,
        .alloc = nccl_alloc,
        .free = nccl_free,
        .upload = nccl_upload,
        .download = nccl_download,
        .in_place_ok = nccl_in_place_ok,
        .free_bytes = nccl_free_bytes,
        .barrier = nccl_barrier,
        .allreduce = nccl_allreduce,
        .alltoall = nccl_alltoall,
        .allgather = nccl_allgather,
        .reduce_scatter = nccl_reduce_scatter,
        .broadcast = nccl_broadcast,
        .sendrecv = nccl_sendrecv,
        .exchange = nccl_exchange,
        .split = ncclCommSplit ? nccl_split : NULL, /* NULL: an NCCL before 2.18 */
        .time_calls = nccl_time_calls,
        .use_graph = nccl_use_graph,
        .strerror = nccl_strerror,
        .finalize = nccl_finalize,
    };
    add_device_checks(be);
    if (rc != 0)
        nccl_finalize(be);
    return rc;
}
