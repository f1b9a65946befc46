/* MPI backend on host memory. */
#include "backend.h"

#include <limits.h>
#include <mpi.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MPI_OPS = SB_AVG }; /* the ops before SB_AVG, which MPI has */

struct mpi_state {
    MPI_Comm comm;
    MPI_Datatype half, bf16; /* 2-byte types with user-defined reduction operators */
    MPI_Op half_ops[MPI_OPS], bf16_ops[MPI_OPS]; /* sum, prod, min, max (MPI has no average) */
    struct sb_mem_policy mem; /* where host buffers go (--mem-node) */
    bool part; /* a split of another backend: the types and ops are that one's */
};

static struct mpi_state *state_of(const struct sb_backend *be) { return be->state; }

/* ---- fp16 / bf16 reductions: MPI (Open MPI 4, MPICH 4) has no standard 16-bit float type.
 * Each element is widened to float, combined, and rounded back; the harness's data are small
 * integers, so the result is exact in any order of combination. */
typedef float (*widen_fn)(uint16_t);
typedef uint16_t (*narrow_fn)(float);

static void reduce16(const void *in, void *inout, int n, enum sb_op op, widen_fn widen, narrow_fn narrow)
{
    const uint16_t *a = in;
    uint16_t *b = inout;
    for (int i = 0; i < n; i++) {
        float x = widen(a[i]), y = widen(b[i]), r;
        switch (op) {
        case SB_SUM: r = x + y; break;
        case SB_PROD: r = x * y; break;
        case SB_MIN: r = x < y ? x : y; break;
        default: r = x > y ? x : y; break;
        }
        b[i] = narrow(r);
    }
}

#define DEFINE_OP16(fmt, widen, narrow, opname, opcode)                                       \
    static void fmt##_##opname(void *in, void *inout, int *len, MPI_Datatype *t)              \
    {                                                                                         \
        (void)t;                                                                              \
        reduce16(in, inout, *len, opcode, widen, narrow);                                     \
    }
DEFINE_OP16(half, sb_half_to_float, sb_float_to_half, sum, SB_SUM)
DEFINE_OP16(half, sb_half_to_float, sb_float_to_half, prod, SB_PROD)
DEFINE_OP16(half, sb_half_to_float, sb_float_to_half, min, SB_MIN)
DEFINE_OP16(half, sb_half_to_float, sb_float_to_half, max, SB_MAX)
DEFINE_OP16(bf16, sb_bf16_to_float, sb_float_to_bf16, sum, SB_SUM)
DEFINE_OP16(bf16, sb_bf16_to_float, sb_float_to_bf16, prod, SB_PROD)
DEFINE_OP16(bf16, sb_bf16_to_float, sb_float_to_bf16, min, SB_MIN)
DEFINE_OP16(bf16, sb_bf16_to_float, sb_float_to_bf16, max, SB_MAX)

static MPI_Datatype mpi_type(const struct mpi_state *s, enum sb_dtype t)
{
    switch (t) {
    case SB_INT8: return MPI_INT8_T;
    case SB_UINT8: return MPI_UINT8_T;
    case SB_INT32: return MPI_INT32_T;
    case SB_UINT32: return MPI_UINT32_T;
    case SB_INT64: return MPI_INT64_T;
    case SB_UINT64: return MPI_UINT64_T;
    case SB_HALF: return s->half;
    case SB_BFLOAT16: return s->bf16;
    case SB_FLOAT: return MPI_FLOAT;
    default: return MPI_DOUBLE;
    }
}

static MPI_Op mpi_op(const struct mpi_state *s, enum sb_dtype t, enum sb_op op)
{
    if (t == SB_HALF)
        return s->half_ops[op];
    if (t == SB_BFLOAT16)
        return s->bf16_ops[op];
    switch (op) {
    case SB_SUM: return MPI_SUM;
    case SB_PROD: return MPI_PROD;
    case SB_MIN: return MPI_MIN;
    default: return MPI_MAX;
    }
}

static const char *mpi_support(const struct sb_backend *be, enum sb_dtype t, enum sb_op op, const char **why)
{
    (void)be;
    *why = NULL;
    if (op == SB_AVG) {
        /* A sum followed by a local division would time another operation than ncclAvg's. */
        *why = "MPI has no average reduction (use --op sum, or avg with --backend nccl)";
        return NULL;
    }
    return (t == SB_HALF || t == SB_BFLOAT16) ? "user-defined op" : "native";
}

/* Page-aligned, every page touched, on the NUMA node(s) --mem-node asked for (memory.h). */
static void *mpi_alloc(const struct sb_backend *be, size_t bytes)
{
    char err[256];
    return sb_mem_alloc(&state_of(be)->mem, bytes ? bytes : 1, err, sizeof err);
}

static void mpi_free(const struct sb_backend *be, void *p, size_t bytes)
{
    (void)be;
    sb_mem_free(p, bytes ? bytes : 1);
}

static int mpi_barrier(const struct sb_backend *be) { return MPI_Barrier(state_of(be)->comm); }

static int mpi_allreduce(const struct sb_backend *be, const struct sb_call *c)
{
    const struct mpi_state *s = state_of(be);
    return MPI_Allreduce(c->in_place ? MPI_IN_PLACE : c->send, c->recv, (int)c->layout.count,
                         mpi_type(s, c->dtype), mpi_op(s, c->dtype, c->op), s->comm);
}

static int mpi_allgather(const struct sb_backend *be, const struct sb_call *c)
{
    const struct mpi_state *s = state_of(be);
    MPI_Datatype t = mpi_type(s, c->dtype);
    int n = (int)c->layout.count_per_peer;
    if (c->in_place)
        return MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, c->recv, n, t, s->comm);
    return MPI_Allgather(c->send, n, t, c->recv, n, t, s->comm);
}

/* In place, MPI takes the whole input from recv and leaves the rank's block at its start. */
static int mpi_reduce_scatter(const struct sb_backend *be, const struct sb_call *c)
{
    const struct mpi_state *s = state_of(be);
    return MPI_Reduce_scatter_block(c->in_place ? MPI_IN_PLACE : c->send, c->recv, (int)c->layout.count_per_peer,
                                    mpi_type(s, c->dtype), mpi_op(s, c->dtype, c->op), s->comm);
}

static int mpi_broadcast(const struct sb_backend *be, const struct sb_call *c)
{
    const struct mpi_state *s = state_of(be);
    return MPI_Bcast(c->recv, (int)c->layout.count, mpi_type(s, c->dtype), 0, s->comm);
}

static int mpi_sendrecv(const struct sb_backend *be, const struct sb_call *c)
{
    const struct mpi_state *s = state_of(be);
    int rank = be->comm->rank, n = be->comm->size, next = (rank + 1) % n, prev = (rank + n - 1) % n;
    int count = (int)c->layout.count;
    MPI_Datatype t = mpi_type(s, c->dtype);
    if (c->in_place)
        return MPI_Sendrecv_replace(c->recv, count, t, next, 0, prev, 0, s->comm, MPI_STATUS_IGNORE);
    return MPI_Sendrecv(c->send, count, t, next, 0, c->recv, count, t, prev, 0, s->comm, MPI_STATUS_IGNORE);
}

static int mpi_exchange(const struct sb_backend *be, const struct sb_call *c)
{
    const struct mpi_state *s = state_of(be);
    int count = (int)c->layout.count;
    MPI_Datatype t = mpi_type(s, c->dtype);
    if (c->in_place)
        return MPI_Sendrecv_replace(c->recv, count, t, c->peer, 0, c->peer, 0, s->comm, MPI_STATUS_IGNORE);
    return MPI_Sendrecv(c->send, count, t, c->peer, 0, c->recv, count, t, c->peer, 0, s->comm, MPI_STATUS_IGNORE);
}

static int mpi_alltoall(const struct sb_backend *be, const struct sb_call *c)
{
    const struct mpi_state *s = state_of(be);
    MPI_Datatype t = mpi_type(s, c->dtype);
    int n = (int)c->layout.count_per_peer;
    if (c->in_place)
        return MPI_Alltoall(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, c->recv, n, t, s->comm);
    return MPI_Alltoall(c->send, n, t, c->recv, n, t, s->comm);
}

static void mpi_strerror(const struct sb_backend *be, int code, char *buf, size_t len)
{
    (void)be;
    char msg[MPI_MAX_ERROR_STRING];
    int n = 0;
    if (MPI_Error_string(code, msg, &n) != MPI_SUCCESS)
        snprintf(msg, sizeof msg, "MPI error %d", code);
    snprintf(buf, len, "%s", msg);
}

static void mpi_finalize(struct sb_backend *be)
{
    struct mpi_state *s = state_of(be);
    if (!s)
        return;
    for (int op = 0; op < MPI_OPS && !s->part; op++) {
        MPI_Op_free(&s->half_ops[op]);
        MPI_Op_free(&s->bf16_ops[op]);
    }
    if (!s->part) {
        MPI_Type_free(&s->half);
        MPI_Type_free(&s->bf16);
    }
    MPI_Comm_free(&s->comm);
    free(s);
    be->state = NULL;
}

static int mpi_split(const struct sb_backend *be, const struct sb_comm *sub, int color, int key,
                     struct sb_backend *out)
{
    const struct mpi_state *parent = state_of(be);
    struct mpi_state *s = malloc(sizeof *s);
    if (!s)
        return MPI_ERR_NO_MEM;
    *s = *parent;
    s->part = true;
    int rc = MPI_Comm_split(parent->comm, color >= 0 ? color : MPI_UNDEFINED, key, &s->comm);
    *out = *be;
    out->comm = sub;
    out->state = NULL; /* a rank in no part gets a backend that holds nothing */
    if (rc != MPI_SUCCESS || s->comm == MPI_COMM_NULL) {
        free(s);
        return color >= 0 && rc == MPI_SUCCESS ? MPI_ERR_COMM : rc == MPI_SUCCESS ? 0 : rc;
    }
    MPI_Comm_set_errhandler(s->comm, MPI_ERRORS_RETURN);
    MPI_Comm_set_name(s->comm, "scalebench_measured");
    out->state = s;
    return 0;
}

int sb_backend_mpi_init(struct sb_backend *be, const struct sb_comm *comm, const struct sb_mem_policy *mem,
                        char *err, size_t errlen)
{
    struct mpi_state *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return 2;
    }
    s->mem = *mem;
    /* A communicator of its own, with errors returned rather than fatal, so a failed call
     * becomes a failed record and exit code 1 instead of an abort without a word. */
    MPI_Comm_dup(MPI_COMM_WORLD, &s->comm);
    MPI_Comm_set_errhandler(s->comm, MPI_ERRORS_RETURN);
    /* Named, so tools (and the test-only fault injector) can tell measured calls from the
     * harness's own control traffic, which runs on a different communicator. */
    MPI_Comm_set_name(s->comm, "scalebench_measured");
    MPI_Type_contiguous(2, MPI_BYTE, &s->half);
    MPI_Type_set_name(s->half, "scalebench_fp16");
    MPI_Type_commit(&s->half);
    MPI_Type_contiguous(2, MPI_BYTE, &s->bf16);
    MPI_Type_set_name(s->bf16, "scalebench_bf16");
    MPI_Type_commit(&s->bf16);
    MPI_User_function *half_fns[MPI_OPS] = {half_sum, half_prod, half_min, half_max};
    MPI_User_function *bf16_fns[MPI_OPS] = {bf16_sum, bf16_prod, bf16_min, bf16_max};
    for (int op = 0; op < MPI_OPS; op++) {
        MPI_Op_create(half_fns[op], 1, &s->half_ops[op]);
        MPI_Op_create(bf16_fns[op], 1, &s->bf16_ops[op]);
    }
    *be = (struct sb_backend){
        .name = "mpi",
        .memory = "host",
        .timing = "per-call: barrier, then the call; max over ranks per iteration",
        .comm = comm,
        .state = s,
        .max_count = INT_MAX, /* MPI-3 counts are int (Open MPI 4 has no MPI_Allreduce_c) */
        .support = mpi_support,
        .alloc = mpi_alloc,
        .free = mpi_free,
        .barrier = mpi_barrier,
        .allreduce = mpi_allreduce,
        .alltoall = mpi_alltoall,
        .allgather = mpi_allgather,
        .reduce_scatter = mpi_reduce_scatter,
        .broadcast = mpi_broadcast,
        .sendrecv = mpi_sendrecv,
        .exchange = mpi_exchange,
        .split = mpi_split,
        .strerror = mpi_strerror,
        .finalize = mpi_finalize,
    };
    return 0;
}
