/* fakegpu: a test double of libnccl.so.2 that runs on the CPU (tests only; see fakegpu.h).
 * Every value it reports is invented but the version (nccl.h's NCCL_VERSION_CODE); it says
 * nothing about the speed of NCCL or of any GPU.
 *
 * The data move through MPI when the process is an MPI rank (built with FAKEGPU_WITH_MPI, and MPI
 * initialised by the program: ncclCommInitRank is then an MPI_Comm_split of MPI_COMM_WORLD, so
 * every rank of the job must create its communicators at the same time, as the benchmarks do),
 * else between the threads of this one process (one communicator per thread, as the benchmarks'
 * -g N does: a registry of unique ids, barriers, and each rank reading its peers' buffers).  The
 * semantics are NCCL's: buffers must be memory the communicator's GPU can use (cudaMalloc on its
 * device, or pinned host memory), counts, roots, types and ops are checked, the in-place layouts
 * of AllGather and ReduceScatter are NCCL's, ncclAvg is a pre-multiplication by (type)(1/nranks)
 * then a sum for floating types and a sum then a division by nranks for integers, half and
 * bfloat16 are combined in float and rounded at each step, integers wrap.  A call (or the calls
 * between ncclGroupStart and ncclGroupEnd) is work on its stream, as on a GPU: queued, run when
 * the stream gets there (a synchronisation), or recorded when the stream is capturing and run at
 * each cudaGraphLaunch; a failure while it runs is reported by ncclCommGetAsyncError.  Two ranks of one communicator on one GPU are refused as NCCL refuses
 * them ("Duplicate GPU detected").
 *
 *   FAKEGPU_NCCL_FAIL=<function>  that function (e.g. ncclAllReduce) returns ncclSystemError (in
 *                                 the process of rank FAKEGPU_FAIL_RANK only, when that is set)
 *
 * Misuse returns NCCL's error and prints a "fakegpu:" line on stderr. */
#define _GNU_SOURCE
#include <cuda_runtime_api.h>
#include <nccl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef FAKEGPU_WITH_MPI
#include <mpi.h>
#endif

#include "fakegpu.h"

#define COMM_MAGIC 0x4e43434cu
#define ID_MAGIC "FAKEGPU-NCCL-ID"

/* ------------------------------------------------------------------ errors */

static char last_error[512];
static pthread_mutex_t error_lock = PTHREAD_MUTEX_INITIALIZER;

static ncclResult_t nccl_fail(ncclResult_t r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static ncclResult_t nccl_fail(ncclResult_t r, const char *fmt, ...)
{
    char text[480];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&error_lock);
    snprintf(last_error, sizeof last_error, "%s", text);
    pthread_mutex_unlock(&error_lock);
    fakegpu_complain("%s", text);
    return r;
}

/* FAKEGPU_NCCL_FAIL=<function>: that call fails with ncclSystemError (said once per process). */
static bool injected(const char *fn)
{
    static atomic_int said;
    const char *want = getenv("FAKEGPU_NCCL_FAIL");
    if (!want || strcmp(want, fn) != 0 || !fakegpu_fail_here())
        return false;
    pthread_mutex_lock(&error_lock);
    snprintf(last_error, sizeof last_error, "%s: failure injected (FAKEGPU_NCCL_FAIL=%s)", fn, fn);
    pthread_mutex_unlock(&error_lock);
    if (!atomic_exchange(&said, 1))
        fakegpu_complain("%s: failure injected (FAKEGPU_NCCL_FAIL=%s): it returns ncclSystemError", fn, fn);
    return true;
}
#define INJECT(fn)                                                                                                   \
    do {                                                                                                             \
        if (injected(fn))                                                                                            \
            return ncclSystemError;                                                                                  \
    } while (0)

const char *ncclGetErrorString(ncclResult_t result)
{
    switch (result) {
    case ncclSuccess: return "no error";
    case ncclUnhandledCudaError: return "unhandled cuda error (run with NCCL_DEBUG=INFO for details)";
    case ncclSystemError: return "unhandled system error (run with NCCL_DEBUG=INFO for details)";
    case ncclInternalError: return "internal error - please report this issue to the NCCL developers";
    case ncclInvalidArgument: return "invalid argument (run with NCCL_DEBUG=WARN for details)";
    case ncclInvalidUsage: return "invalid usage (run with NCCL_DEBUG=WARN for details)";
    case ncclRemoteError: return "remote process exited or there was a network error";
    case ncclInProgress: return "NCCL operation in progress";
    default: return "unknown result code";
    }
}

const char *ncclGetLastError(ncclComm_t comm)
{
    (void)comm;
    return last_error;
}

ncclResult_t ncclGetVersion(int *version)
{
    INJECT("ncclGetVersion");
    if (!version)
        return nccl_fail(ncclInvalidArgument, "ncclGetVersion: version NULL");
#ifdef FAKEGPU_OLD_NCCL
    *version = 21700; /* an NCCL before ncclCommSplit (2.18) and ncclAlltoAll (2.28) */
#else
    *version = NCCL_VERSION_CODE;
#endif
    return ncclSuccess;
}

/* ------------------------------------------------------------------ element arithmetic */

static enum fakegpu_elem elem_of(ncclDataType_t t)
{
    switch (t) {
    case ncclInt8: return FG_I8;
    case ncclUint8: return FG_U8;
    case ncclInt32: return FG_I32;
    case ncclUint32: return FG_U32;
    case ncclInt64: return FG_I64;
    case ncclUint64: return FG_U64;
    case ncclFloat16: return FG_F16;
    case ncclBfloat16: return FG_BF16;
    case ncclFloat32: return FG_F32;
    default: return FG_F64;
    }
}

static bool is_float(enum fakegpu_elem t) { return t >= FG_F16; }
static bool is_signed(enum fakegpu_elem t) { return t == FG_I8 || t == FG_I32 || t == FG_I64; }

/* Integer element i as its two's complement bits (zero-extended), and back. */
static uint64_t get_bits(enum fakegpu_elem t, const void *b, size_t i)
{
    switch (fakegpu_elem_size(t)) {
    case 1: return ((const uint8_t *)b)[i];
    case 4: return ((const uint32_t *)b)[i];
    default: return ((const uint64_t *)b)[i];
    }
}

static void put_bits(enum fakegpu_elem t, void *b, size_t i, uint64_t v)
{
    switch (fakegpu_elem_size(t)) {
    case 1: ((uint8_t *)b)[i] = (uint8_t)v; break;
    case 4: ((uint32_t *)b)[i] = (uint32_t)v; break;
    default: ((uint64_t *)b)[i] = v; break;
    }
}

static int64_t as_signed(enum fakegpu_elem t, uint64_t v)
{
    switch (fakegpu_elem_size(t)) {
    case 1: return (int8_t)(uint8_t)v;
    case 4: return (int32_t)(uint32_t)v;
    default: return (int64_t)v;
    }
}

static double get_float(enum fakegpu_elem t, const void *b, size_t i)
{
    switch (t) {
    case FG_F16: return fakegpu_half_to_float(((const uint16_t *)b)[i]);
    case FG_BF16: return fakegpu_bf16_to_float(((const uint16_t *)b)[i]);
    case FG_F32: return ((const float *)b)[i];
    default: return ((const double *)b)[i];
    }
}

/* Stores v rounded to the element type (half and bfloat16 from float, round to nearest even). */
static void put_float(enum fakegpu_elem t, void *b, size_t i, double v)
{
    switch (t) {
    case FG_F16: ((uint16_t *)b)[i] = fakegpu_float_to_half((float)v); break;
    case FG_BF16: ((uint16_t *)b)[i] = fakegpu_float_to_bf16((float)v); break;
    case FG_F32: ((float *)b)[i] = (float)v; break;
    default: ((double *)b)[i] = v; break;
    }
}

/* inout[i] = in[i] op inout[i] for n elements (op: ncclSum, ncclProd, ncclMin, ncclMax; ncclAvg
 * is reduced as ncclSum). */
static void combine(enum fakegpu_elem t, ncclRedOp_t op, const void *in, void *inout, size_t n)
{
    if (is_float(t)) {
        for (size_t i = 0; i < n; i++) {
            double a = get_float(t, in, i), b = get_float(t, inout, i), r;
            if (t == FG_F32) { /* float arithmetic in float */
                float fa = (float)a, fb = (float)b;
                r = op == ncclProd ? fa * fb : op == ncclMin ? (fa < fb ? fa : fb) : op == ncclMax ? (fa > fb ? fa : fb)
                                                                                                   : fa + fb;
            } else if (t == FG_F64) {
                r = op == ncclProd ? a * b : op == ncclMin ? (a < b ? a : b) : op == ncclMax ? (a > b ? a : b) : a + b;
            } else { /* half, bfloat16: in float, rounded at each step */
                float fa = (float)a, fb = (float)b;
                r = op == ncclProd ? fa * fb : op == ncclMin ? (fa < fb ? fa : fb) : op == ncclMax ? (fa > fb ? fa : fb)
                                                                                                   : fa + fb;
            }
            put_float(t, inout, i, r);
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t a = get_bits(t, in, i), b = get_bits(t, inout, i), r;
        if (op == ncclProd)
            r = a * b;
        else if (op == ncclMin || op == ncclMax) {
            bool less = is_signed(t) ? as_signed(t, a) < as_signed(t, b) : a < b;
            r = (op == ncclMin) == less ? a : b;
        } else
            r = a + b;
        put_bits(t, inout, i, r);
    }
}

/* ncclAvg on floating types: each input multiplied by (type)(1/nranks) before the sum. */
static void premultiply(enum fakegpu_elem t, void *b, size_t n, int nranks)
{
    double s = 1.0 / nranks;
    if (t == FG_F16 || t == FG_BF16) {
        float scalar = t == FG_F16 ? fakegpu_half_to_float(fakegpu_float_to_half((float)s))
                                   : fakegpu_bf16_to_float(fakegpu_float_to_bf16((float)s));
        for (size_t i = 0; i < n; i++)
            put_float(t, b, i, (float)get_float(t, b, i) * scalar);
    } else if (t == FG_F32) {
        for (size_t i = 0; i < n; i++)
            ((float *)b)[i] *= (float)s;
    } else {
        for (size_t i = 0; i < n; i++)
            ((double *)b)[i] *= s;
    }
}

/* ncclAvg on integer types: the (wrapped) sum divided by nranks, rounded toward zero. */
static void postdivide(enum fakegpu_elem t, void *b, size_t n, int nranks)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t v = get_bits(t, b, i);
        put_bits(t, b, i, is_signed(t) ? (uint64_t)(as_signed(t, v) / nranks) : v / (uint64_t)nranks);
    }
}

/* ------------------------------------------------------------------ communicators */

/* Threads of one process: the communicator's shared block. */
struct tgroup {
    int nranks;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int arrived;
    unsigned generation;
    atomic_int refs;
    const void **slot;   /* per rank: what this step shares */
    int *devices;        /* per rank: its GPU */
    /* point-to-point: sends posted and not yet received */
    struct post *posts;
};

struct post {
    int src, dst;
    const void *buf;
    size_t bytes;
    bool taken;
    struct post *next;
};

enum transport { T_THREADS, T_MPI };

struct ncclComm {
    unsigned magic;
    int rank, nranks, device;
    enum transport transport;
    struct tgroup *tg;
#ifdef FAKEGPU_WITH_MPI
    MPI_Comm mpi;
#endif
    ncclResult_t async_error;
};

static bool valid_comm(const struct ncclComm *c) { return c && c->magic == COMM_MAGIC; }

static atomic_int live_comms;

/* Communicators not destroyed are said at exit (a leak the tests can see). */
__attribute__((destructor)) static void report_leaks(void)
{
    int n = atomic_load(&live_comms);
    if (n)
        fakegpu_complain("at exit, not released: %d NCCL communicator(s) (ncclCommDestroy)", n);
}

static void tg_barrier(struct tgroup *g)
{
    pthread_mutex_lock(&g->lock);
    unsigned gen = g->generation;
    if (++g->arrived == g->nranks) {
        g->arrived = 0;
        g->generation++;
        pthread_cond_broadcast(&g->cond);
    } else {
        while (gen == g->generation)
            pthread_cond_wait(&g->cond, &g->lock);
    }
    pthread_mutex_unlock(&g->lock);
}

static struct tgroup *tg_new(int nranks)
{
    struct tgroup *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->nranks = nranks;
    g->slot = calloc((size_t)nranks, sizeof *g->slot);
    g->devices = calloc((size_t)nranks, sizeof *g->devices);
    if (!g->slot || !g->devices) {
        free(g->slot);
        free(g->devices);
        free(g);
        return NULL;
    }
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->cond, NULL);
    atomic_init(&g->refs, nranks);
    return g;
}

static void tg_release(struct tgroup *g)
{
    if (!g || atomic_fetch_sub(&g->refs, 1) != 1)
        return;
    pthread_mutex_destroy(&g->lock);
    pthread_cond_destroy(&g->cond);
    free(g->slot);
    free(g->devices);
    free(g);
}

ncclResult_t ncclGetUniqueId(ncclUniqueId *uniqueId)
{
    INJECT("ncclGetUniqueId");
    if (!uniqueId)
        return nccl_fail(ncclInvalidArgument, "ncclGetUniqueId: uniqueId NULL");
    memset(uniqueId, 0, sizeof *uniqueId);
    memcpy(uniqueId->internal, ID_MAGIC, sizeof ID_MAGIC);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    static atomic_uint serial;
    uint64_t r[3] = {(uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30), (uint64_t)getpid(), atomic_fetch_add(&serial, 1)};
    FILE *f = fopen("/dev/urandom", "rb");
    if (f) {
        if (fread(r, sizeof r[0], 2, f) != 2)
            r[1] ^= (uint64_t)getpid();
        fclose(f);
    }
    memcpy(uniqueId->internal + 32, r, sizeof r);
    return ncclSuccess;
}

static bool valid_id(const ncclUniqueId *id) { return memcmp(id->internal, ID_MAGIC, sizeof ID_MAGIC) == 0; }

static ncclResult_t new_comm(struct ncclComm **out, int rank, int nranks, int device, enum transport t)
{
    struct ncclComm *c = calloc(1, sizeof *c);
    if (!c)
        return nccl_fail(ncclSystemError, "out of host memory for a communicator");
    *c = (struct ncclComm){.magic = COMM_MAGIC, .rank = rank, .nranks = nranks, .device = device, .transport = t};
    atomic_fetch_add(&live_comms, 1);
    *out = c;
    return ncclSuccess;
}

/* ---- the threads' registry of communicators being created */

struct pending_init {
    ncclUniqueId id;
    int nranks, arrived, left;
    struct tgroup *tg;
    bool *present;
    struct pending_init *next;
};
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t registry_cond = PTHREAD_COND_INITIALIZER;
static struct pending_init *registry;

static ncclResult_t init_threads(struct ncclComm **out, int nranks, ncclUniqueId id, int rank, int device)
{
    pthread_mutex_lock(&registry_lock);
    struct pending_init *p = registry;
    while (p && memcmp(&p->id, &id, sizeof id) != 0)
        p = p->next;
    if (!p) {
        p = calloc(1, sizeof *p);
        if (p) {
            p->id = id;
            p->nranks = nranks;
            p->tg = tg_new(nranks);
            p->present = calloc((size_t)nranks, sizeof *p->present);
        }
        if (!p || !p->tg || !p->present) {
            pthread_mutex_unlock(&registry_lock);
            return nccl_fail(ncclSystemError, "ncclCommInitRank: out of host memory");
        }
        p->next = registry;
        registry = p;
    }
    if (p->nranks != nranks || p->present[rank]) {
        pthread_mutex_unlock(&registry_lock);
        return nccl_fail(ncclInvalidUsage, "ncclCommInitRank: rank %d of %d: %s", rank, nranks,
                         p->nranks != nranks ? "another rank gave another nranks for this unique id"
                                             : "this rank was given twice for this unique id");
    }
    p->present[rank] = true;
    p->tg->devices[rank] = device;
    p->arrived++;
    pthread_cond_broadcast(&registry_cond);
    while (p->arrived < p->nranks)
        pthread_cond_wait(&registry_cond, &registry_lock);
    struct tgroup *tg = p->tg;
    if (++p->left == p->nranks) { /* the last one out removes the entry */
        struct pending_init **link = &registry;
        while (*link != p)
            link = &(*link)->next;
        *link = p->next;
        free(p->present);
        free(p);
    }
    pthread_mutex_unlock(&registry_lock);
    for (int r = 0; r < nranks; r++)
        if (r != rank && tg->devices[r] == device) {
            tg_release(tg);
            return nccl_fail(ncclInvalidUsage, "ncclCommInitRank: Duplicate GPU detected: rank %d and rank %d both "
                             "on CUDA device %d", rank, r, device);
        }
    ncclResult_t r = new_comm(out, rank, nranks, device, T_THREADS);
    if (r == ncclSuccess)
        (*out)->tg = tg;
    else
        tg_release(tg);
    return r;
}

#ifdef FAKEGPU_WITH_MPI
/* The process is an MPI rank: the program initialised MPI (and has not finalised it). */
static bool use_mpi(void)
{
    int init = 0, fin = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    return init && !fin;
}

/* Every rank's (host, PCI bus id) gathered: NCCL refuses two ranks of a communicator on one GPU,
 * told apart by bus id as NCCL does (not by device index: with a per-rank CUDA_VISIBLE_DEVICES
 * every rank's device 0 is another GPU). */
static ncclResult_t check_devices_mpi(MPI_Comm comm, int rank, int device)
{
    struct {
        char host[64];
        char bus[32];
    } mine, *all;
    int n;
    MPI_Comm_size(comm, &n);
    memset(&mine, 0, sizeof mine);
    gethostname(mine.host, sizeof mine.host - 1);
    if (cudaDeviceGetPCIBusId(mine.bus, (int)sizeof mine.bus, device) != cudaSuccess)
        snprintf(mine.bus, sizeof mine.bus, "device %d", device);
    all = calloc((size_t)n, sizeof *all);
    if (!all)
        return nccl_fail(ncclSystemError, "out of host memory");
    MPI_Allgather(&mine, (int)sizeof mine, MPI_BYTE, all, (int)sizeof mine, MPI_BYTE, comm);
    int dup = -1;
    for (int r = 0; r < n && dup < 0; r++)
        if (r != rank && strcmp(all[r].bus, mine.bus) == 0 && strcmp(all[r].host, mine.host) == 0)
            dup = r;
    free(all);
    if (dup >= 0)
        return nccl_fail(ncclInvalidUsage, "ncclCommInitRank: Duplicate GPU detected: rank %d and rank %d both on "
                         "CUDA device %d (bus %s) of %s", rank, dup, device, mine.bus, mine.host);
    return ncclSuccess;
}

static ncclResult_t init_mpi(struct ncclComm **out, int nranks, ncclUniqueId id, int rank, int device)
{
    uint32_t h = 2166136261u; /* FNV-1a of the id: the split's color */
    for (size_t i = 0; i < sizeof id.internal; i++)
        h = (h ^ (uint8_t)id.internal[i]) * 16777619u;
    MPI_Comm c;
    if (MPI_Comm_split(MPI_COMM_WORLD, (int)(h & 0x3fffffff), rank, &c) != MPI_SUCCESS)
        return nccl_fail(ncclSystemError, "ncclCommInitRank: MPI_Comm_split failed");
    int size = 0, me = -1;
    MPI_Comm_size(c, &size);
    MPI_Comm_rank(c, &me);
    int *ranks = calloc((size_t)size, sizeof *ranks);
    int bad = size != nranks || me != rank || !ranks;
    if (!bad) {
        MPI_Allgather(&rank, 1, MPI_INT, ranks, 1, MPI_INT, c);
        for (int r = 0; r < size; r++)
            bad |= ranks[r] != r;
    }
    free(ranks);
    int any_bad = bad;
    MPI_Allreduce(&bad, &any_bad, 1, MPI_INT, MPI_MAX, c);
    if (any_bad) {
        MPI_Comm_free(&c);
        return nccl_fail(ncclInvalidUsage, "ncclCommInitRank(nranks %d, rank %d): the %d processes that gave this "
                         "unique id do not make ranks 0..%d once each", nranks, rank, size, nranks - 1);
    }
    ncclResult_t r = check_devices_mpi(c, rank, device);
    if (r == ncclSuccess)
        r = new_comm(out, rank, nranks, device, T_MPI);
    if (r != ncclSuccess) {
        MPI_Comm_free(&c);
        return r;
    }
    MPI_Comm_set_errhandler(c, MPI_ERRORS_RETURN);
    (*out)->mpi = c;
    return ncclSuccess;
}
#endif

ncclResult_t ncclCommInitRank(ncclComm_t *comm, int nranks, ncclUniqueId commId, int rank)
{
    INJECT("ncclCommInitRank");
    if (!comm)
        return nccl_fail(ncclInvalidArgument, "ncclCommInitRank: comm NULL");
    *comm = NULL;
    if (nranks < 1 || rank < 0 || rank >= nranks)
        return nccl_fail(ncclInvalidArgument, "ncclCommInitRank: rank %d of nranks %d", rank, nranks);
    if (!valid_id(&commId))
        return nccl_fail(ncclInvalidArgument, "ncclCommInitRank: not a unique id from ncclGetUniqueId");
    int device = -1;
    if (cudaGetDevice(&device) != cudaSuccess)
        return nccl_fail(ncclUnhandledCudaError, "ncclCommInitRank: no CUDA device (cudaGetDevice failed)");
    struct ncclComm *c = NULL;
    ncclResult_t r;
#ifdef FAKEGPU_WITH_MPI
    r = use_mpi() ? init_mpi(&c, nranks, commId, rank, device) : init_threads(&c, nranks, commId, rank, device);
#else
    r = init_threads(&c, nranks, commId, rank, device);
#endif
    if (r == ncclSuccess)
        *comm = c;
    return r;
}

ncclResult_t ncclCommInitRankConfig(ncclComm_t *comm, int nranks, ncclUniqueId commId, int rank, ncclConfig_t *config)
{
    (void)config;
    return ncclCommInitRank(comm, nranks, commId, rank);
}

ncclResult_t ncclCommInitAll(ncclComm_t *comm, int ndev, const int *devlist)
{
    (void)comm;
    (void)ndev;
    (void)devlist;
    return nccl_fail(ncclInternalError, "ncclCommInitAll is not faked (the benchmarks create one communicator per "
                     "rank with ncclCommInitRank)");
}

#ifndef FAKEGPU_OLD_NCCL /* the old variant (lib-old/) has neither ncclCommSplit nor ncclAlltoAll */
/* The threads' split: every rank shares (color, key); the first member of each color makes the
 * part's block and shares it. */
struct split_share {
    int color, key;
    struct tgroup *made;
};

static ncclResult_t split_threads(struct ncclComm *parent, int color, int key, struct ncclComm **out)
{
    struct tgroup *g = parent->tg;
    struct split_share mine = {color, key, NULL};
    g->slot[parent->rank] = &mine;
    tg_barrier(g);
    int n = 0, me = 0, leader = -1;
    for (int r = 0; r < parent->nranks && color >= 0; r++) {
        const struct split_share *s = g->slot[r];
        if (s->color != color)
            continue;
        if (leader < 0)
            leader = r;
        n++;
        if (s->key < key || (s->key == key && r < parent->rank))
            me++;
    }
    if (color >= 0 && leader == parent->rank)
        mine.made = tg_new(n);
    tg_barrier(g);
    struct tgroup *part = color >= 0 ? ((const struct split_share *)g->slot[leader])->made : NULL;
    tg_barrier(g); /* nobody leaves while a peer may still read its share */
    if (color < 0)
        return ncclSuccess;
    if (!part)
        return nccl_fail(ncclSystemError, "ncclCommSplit: out of host memory");
    part->devices[me] = parent->device;
    ncclResult_t r = new_comm(out, me, n, parent->device, T_THREADS);
    if (r == ncclSuccess)
        (*out)->tg = part;
    return r;
}

ncclResult_t ncclCommSplit(ncclComm_t comm, int color, int key, ncclComm_t *newcomm, ncclConfig_t *config)
{
    (void)config;
    INJECT("ncclCommSplit");
    if (!valid_comm(comm) || !newcomm)
        return nccl_fail(ncclInvalidArgument, "ncclCommSplit: %s", newcomm ? "not a communicator" : "newcomm NULL");
    if (color < 0 && color != NCCL_SPLIT_NOCOLOR)
        return nccl_fail(ncclInvalidArgument, "ncclCommSplit: color %d (>= 0, or NCCL_SPLIT_NOCOLOR)", color);
    *newcomm = NULL;
    struct ncclComm *c = NULL;
    ncclResult_t r = ncclSuccess;
    if (comm->transport == T_THREADS) {
        r = split_threads(comm, color, key, &c);
    } else {
#ifdef FAKEGPU_WITH_MPI
        MPI_Comm sub;
        if (MPI_Comm_split(comm->mpi, color >= 0 ? color : MPI_UNDEFINED, key, &sub) != MPI_SUCCESS)
            return nccl_fail(ncclSystemError, "ncclCommSplit: MPI_Comm_split failed");
        if (sub != MPI_COMM_NULL) {
            int me, n;
            MPI_Comm_rank(sub, &me);
            MPI_Comm_size(sub, &n);
            r = new_comm(&c, me, n, comm->device, T_MPI);
            if (r == ncclSuccess) {
                MPI_Comm_set_errhandler(sub, MPI_ERRORS_RETURN);
                c->mpi = sub;
            } else {
                MPI_Comm_free(&sub);
            }
        }
#endif
    }
    if (r == ncclSuccess)
        *newcomm = c;
    return r;
}
#endif

ncclResult_t ncclCommDestroy(ncclComm_t comm)
{
    INJECT("ncclCommDestroy");
    if (!valid_comm(comm))
        return nccl_fail(ncclInvalidArgument, "ncclCommDestroy(%p): not a communicator (destroyed twice?)",
                         (void *)comm);
    comm->magic = 0;
    atomic_fetch_sub(&live_comms, 1);
    if (comm->transport == T_THREADS) {
        tg_release(comm->tg);
    } else {
#ifdef FAKEGPU_WITH_MPI
        int fin = 0;
        MPI_Finalized(&fin);
        if (fin)
            fakegpu_complain("ncclCommDestroy after MPI_Finalize: the communicator's MPI resources leak");
        else
            MPI_Comm_free(&comm->mpi);
#endif
    }
    free(comm);
    return ncclSuccess;
}

ncclResult_t ncclCommFinalize(ncclComm_t comm)
{
    return valid_comm(comm) ? ncclSuccess : nccl_fail(ncclInvalidArgument, "ncclCommFinalize: not a communicator");
}

ncclResult_t ncclCommAbort(ncclComm_t comm) { return ncclCommDestroy(comm); }

ncclResult_t ncclCommGetAsyncError(ncclComm_t comm, ncclResult_t *asyncError)
{
    INJECT("ncclCommGetAsyncError");
    if (!valid_comm(comm) || !asyncError)
        return nccl_fail(ncclInvalidArgument, "ncclCommGetAsyncError: %s", asyncError ? "not a communicator"
                                                                                      : "asyncError NULL");
    *asyncError = comm->async_error;
    return ncclSuccess;
}

ncclResult_t ncclCommCount(const ncclComm_t comm, int *count)
{
    if (!valid_comm(comm) || !count)
        return nccl_fail(ncclInvalidArgument, "ncclCommCount: bad argument");
    *count = comm->nranks;
    return ncclSuccess;
}

ncclResult_t ncclCommUserRank(const ncclComm_t comm, int *rank)
{
    if (!valid_comm(comm) || !rank)
        return nccl_fail(ncclInvalidArgument, "ncclCommUserRank: bad argument");
    *rank = comm->rank;
    return ncclSuccess;
}

ncclResult_t ncclCommCuDevice(const ncclComm_t comm, int *device)
{
    if (!valid_comm(comm) || !device)
        return nccl_fail(ncclInvalidArgument, "ncclCommCuDevice: bad argument");
    *device = comm->device;
    return ncclSuccess;
}

/* ------------------------------------------------------------------ operations */

enum func { F_ALLREDUCE, F_ALLGATHER, F_REDUCE_SCATTER, F_BROADCAST, F_ALLTOALL, F_SEND, F_RECV };
static const char *const func_names[] = {"ncclAllReduce", "ncclAllGather", "ncclReduceScatter", "ncclBroadcast",
                                         "ncclAlltoAll", "ncclSend", "ncclRecv"};

struct task {
    enum func f;
    struct ncclComm *comm;
    const void *send;
    void *recv;
    size_t count;
    enum fakegpu_elem t;
    ncclRedOp_t op;
    int root; /* broadcast: root; send/recv: peer */
    cudaStream_t stream;
};

/* A group: the tasks issued between ncclGroupStart and ncclGroupEnd (or one call outside). */
struct group {
    size_t n, cap;
    struct task *v;
};

static _Thread_local int group_depth;
static _Thread_local struct group current;
static _Thread_local ncclResult_t group_error; /* the first failed call of the open group */

/* Whether [p, p + bytes) is memory the communicator's GPU can use. */
static bool gpu_usable(const struct ncclComm *c, const char *fn, const char *what, const void *p, size_t bytes)
{
    if (bytes == 0)
        return true;
    int dev, kind = fakegpu_classify(p, bytes, &dev);
    if (kind == FAKEGPU_PINNED || (kind == FAKEGPU_DEVICE && dev == c->device))
        return true;
    nccl_fail(ncclInvalidArgument, "%s: %s %p (%zu bytes) is %s, not memory of the communicator's GPU %d (rank %d)",
              fn, what, p, bytes,
              kind == FAKEGPU_DEVICE ? "memory of another GPU"
              : kind == FAKEGPU_BAD  ? "a range past the end of its buffer"
                                     : "host memory",
              c->device, c->rank);
    return false;
}

/* NCCL's argument checks, then the task queued (in a group) or run (alone). */
static ncclResult_t enqueue(struct task t);

static ncclResult_t checked(enum func f, const void *send, void *recv, size_t count, ncclDataType_t type,
                            ncclRedOp_t op, int root, ncclComm_t comm, cudaStream_t stream)
{
    const char *fn = func_names[f];
    INJECT(fn);
    if (!valid_comm(comm))
        return nccl_fail(ncclInvalidArgument, "%s: comm %p is not a communicator", fn, (void *)comm);
    if ((int)type < 0 || (int)type >= ncclNumTypes)
        return nccl_fail(ncclInvalidArgument, "%s: invalid datatype %d", fn, (int)type);
    if (type == ncclFloat8e4m3 || type == ncclFloat8e5m2)
        /* scalebench offers no fp8 dtype, so the double has no fp8 arithmetic: refused loudly */
        return nccl_fail(ncclInvalidArgument, "%s: the fake NCCL has no fp8 arithmetic (scalebench offers no fp8 "
                         "dtype)", fn);
    bool reduces = f == F_ALLREDUCE || f == F_REDUCE_SCATTER;
    if (reduces && ((int)op < 0 || (int)op >= ncclNumOps))
        return nccl_fail(ncclInvalidArgument, "%s: invalid reduction operation %d", fn, (int)op);
    int n = comm->nranks;
    if ((f == F_BROADCAST || f == F_SEND || f == F_RECV) && (root < 0 || root >= n))
        return nccl_fail(ncclInvalidArgument, "%s: %s %d out of range (nranks %d)", fn,
                         f == F_BROADCAST ? "root" : "peer", root, n);
    int sdev;
    if (fakegpu_stream_device(stream, &sdev) != cudaSuccess)
        return nccl_fail(ncclInvalidArgument, "%s: stream %p is not a live CUDA stream", fn, (void *)stream);
    if (sdev != comm->device)
        return nccl_fail(ncclInvalidUsage, "%s: a stream of device %d for a communicator on device %d", fn, sdev,
                         comm->device);
    size_t e = fakegpu_elem_size(elem_of(type)), sbytes = count * e, rbytes = count * e;
    switch (f) {
    case F_ALLGATHER: rbytes *= (size_t)n; break;
    case F_REDUCE_SCATTER: sbytes *= (size_t)n; break;
    case F_ALLTOALL: sbytes *= (size_t)n, rbytes *= (size_t)n; break;
    case F_BROADCAST: sbytes = comm->rank == root ? sbytes : 0; break;
    case F_SEND: rbytes = 0; break;
    case F_RECV: sbytes = 0; break;
    default: break;
    }
    if (!gpu_usable(comm, fn, "sendbuff", send, sbytes) || !gpu_usable(comm, fn, "recvbuff", recv, rbytes))
        return ncclInvalidArgument;
    return enqueue((struct task){.f = f, .comm = comm, .send = send, .recv = recv, .count = count,
                                 .t = elem_of(type), .op = op, .root = root, .stream = stream});
}

static ncclResult_t failed_call(ncclResult_t r);

static ncclResult_t submit(enum func f, const void *send, void *recv, size_t count, ncclDataType_t type,
                           ncclRedOp_t op, int root, ncclComm_t comm, cudaStream_t stream)
{
    ncclResult_t r = checked(f, send, recv, count, type, op, root, comm, stream);
    return r == ncclSuccess ? r : failed_call(r);
}

/* ---- running a group */

/* The collective of one task on the threads' transport: every rank publishes its task, reads
 * what it needs from its peers' buffers into a scratch copy, and after a second meeting (when no
 * peer reads its buffers any more) writes the result. */
static ncclResult_t coll_threads(const struct task *t)
{
    struct ncclComm *c = t->comm;
    struct tgroup *g = c->tg;
    int n = c->nranks, me = c->rank;
    size_t e = fakegpu_elem_size(t->t), cnt = t->count;
    size_t out_elems = t->f == F_ALLGATHER || t->f == F_ALLTOALL ? cnt * (size_t)n : cnt;
    void *tmp = malloc(out_elems * e + 1);
    g->slot[me] = t;
    tg_barrier(g);
    bool ok = tmp != NULL;
    for (int r = 0; r < n && ok; r++) {
        const struct task *p = g->slot[r];
        if (p->f != t->f || p->count != t->count || p->t != t->t || p->op != t->op || p->root != t->root)
            ok = false;
    }
    if (ok) {
        for (int r = 0; r < n; r++) {
            const struct task *p = g->slot[r];
            const char *src = p->send;
            fakegpu_open(src);
            switch (t->f) {
            case F_ALLREDUCE:
            case F_REDUCE_SCATTER: {
                const char *in = src + (t->f == F_REDUCE_SCATTER ? (size_t)me * cnt * e : 0);
                if (r == 0) {
                    memcpy(tmp, in, cnt * e);
                    if (t->op == ncclAvg && is_float(t->t))
                        premultiply(t->t, tmp, cnt, n);
                } else if (t->op == ncclAvg && is_float(t->t)) {
                    void *scaled = malloc(cnt * e + 1);
                    if (scaled) {
                        memcpy(scaled, in, cnt * e);
                        premultiply(t->t, scaled, cnt, n);
                        combine(t->t, ncclSum, scaled, tmp, cnt);
                    }
                    ok = ok && scaled;
                    free(scaled);
                } else {
                    combine(t->t, t->op, in, tmp, cnt);
                }
                break;
            }
            case F_ALLGATHER: memcpy((char *)tmp + (size_t)r * cnt * e, src, cnt * e); break;
            case F_ALLTOALL: memcpy((char *)tmp + (size_t)r * cnt * e, src + (size_t)me * cnt * e, cnt * e); break;
            default: /* broadcast */
                if (r == t->root)
                    memcpy(tmp, src, cnt * e);
                break;
            }
            fakegpu_close(src);
        }
        if (t->op == ncclAvg && !is_float(t->t) && (t->f == F_ALLREDUCE || t->f == F_REDUCE_SCATTER))
            postdivide(t->t, tmp, cnt, n);
    }
    tg_barrier(g);
    if (ok) {
        fakegpu_open(t->recv);
        memcpy(t->recv, tmp, out_elems * e);
        fakegpu_close(t->recv);
    }
    free(tmp);
    if (!ok)
        return nccl_fail(tmp ? ncclInvalidUsage : ncclSystemError, "%s on rank %d: %s", func_names[t->f], me,
                         tmp ? "the ranks called different collectives, counts, types, ops or roots"
                             : "out of host memory");
    return ncclSuccess;
}

#ifdef FAKEGPU_WITH_MPI
static bool overlap(const void *a, size_t an, const void *b, size_t bn)
{
    uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    return an && bn && x < y + bn && y < x + an;
}

static MPI_Datatype mpi_types[FG_ELEM_COUNT];
static MPI_Op mpi_ops[4]; /* sum, prod, max, min: the ncclRedOp_t values 0..3 */
static pthread_once_t mpi_once = PTHREAD_ONCE_INIT;

static void mpi_reduce_fn(void *in, void *inout, int *len, MPI_Datatype *dt, ncclRedOp_t op)
{
    for (int t = 0; t < FG_ELEM_COUNT; t++)
        if (*dt == mpi_types[t])
            combine((enum fakegpu_elem)t, op, in, inout, (size_t)*len);
}
static void mpi_sum(void *in, void *inout, int *len, MPI_Datatype *dt) { mpi_reduce_fn(in, inout, len, dt, ncclSum); }
static void mpi_prod(void *in, void *inout, int *len, MPI_Datatype *dt) { mpi_reduce_fn(in, inout, len, dt, ncclProd); }
static void mpi_max(void *in, void *inout, int *len, MPI_Datatype *dt) { mpi_reduce_fn(in, inout, len, dt, ncclMax); }
static void mpi_min(void *in, void *inout, int *len, MPI_Datatype *dt) { mpi_reduce_fn(in, inout, len, dt, ncclMin); }

static void mpi_setup(void)
{
    for (int t = 0; t < FG_ELEM_COUNT; t++) {
        MPI_Type_contiguous((int)fakegpu_elem_size((enum fakegpu_elem)t), MPI_BYTE, &mpi_types[t]);
        MPI_Type_commit(&mpi_types[t]);
    }
    MPI_Op_create(mpi_sum, 1, &mpi_ops[ncclSum]);
    MPI_Op_create(mpi_prod, 1, &mpi_ops[ncclProd]);
    MPI_Op_create(mpi_max, 1, &mpi_ops[ncclMax]);
    MPI_Op_create(mpi_min, 1, &mpi_ops[ncclMin]);
}

/* The collective of one task through MPI, on the buffers themselves (opened for it). */
static ncclResult_t coll_mpi(const struct task *t)
{
    pthread_once(&mpi_once, mpi_setup);
    struct ncclComm *c = t->comm;
    int n = c->nranks, me = c->rank;
    size_t e = fakegpu_elem_size(t->t), cnt = t->count;
    if (cnt > (size_t)0x7fffffff / (size_t)n)
        return nccl_fail(ncclInternalError, "%s: %zu elements: more than the fake's MPI transport takes",
                         func_names[t->f], cnt);
    MPI_Datatype dt = mpi_types[t->t];
    MPI_Op op = mpi_ops[t->op == ncclAvg ? ncclSum : t->op];
    int ic = (int)cnt, rc = MPI_SUCCESS;
    char *recv = t->recv;
    const char *send = t->send;
    void *tmp = NULL;
    size_t in_bytes = cnt * e * (t->f == F_REDUCE_SCATTER || t->f == F_ALLTOALL ? (size_t)n : 1);
    size_t out_bytes = cnt * e * (t->f == F_ALLGATHER || t->f == F_ALLTOALL ? (size_t)n : 1);
    fakegpu_open(send);
    fakegpu_open(recv);
    switch (t->f) {
    case F_ALLREDUCE:
        if (t->op == ncclAvg && is_float(t->t)) {
            memmove(recv, send, cnt * e);
            premultiply(t->t, recv, cnt, n);
            rc = MPI_Allreduce(MPI_IN_PLACE, recv, ic, dt, op, c->mpi);
        } else {
            rc = MPI_Allreduce(send == recv ? MPI_IN_PLACE : send, recv, ic, dt, op, c->mpi);
        }
        break;
    case F_REDUCE_SCATTER:
        /* in place (recvbuff == sendbuff + rank * count) or any other overlap: from a copy */
        if (overlap(send, in_bytes, recv, out_bytes) || (t->op == ncclAvg && is_float(t->t))) {
            tmp = malloc(in_bytes ? in_bytes : 1);
            if (!tmp) {
                rc = MPI_ERR_NO_MEM;
                break;
            }
            memcpy(tmp, send, in_bytes);
            if (t->op == ncclAvg && is_float(t->t))
                premultiply(t->t, tmp, cnt * (size_t)n, n);
            send = tmp;
        }
        rc = MPI_Reduce_scatter_block(send, recv, ic, dt, op, c->mpi);
        break;
    case F_ALLGATHER:
        if (send == recv + (size_t)me * cnt * e)
            rc = MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, recv, ic, dt, c->mpi);
        else if (overlap(send, in_bytes, recv, out_bytes)) {
            if (!(tmp = malloc(in_bytes ? in_bytes : 1))) {
                rc = MPI_ERR_NO_MEM;
                break;
            }
            memcpy(tmp, send, in_bytes);
            rc = MPI_Allgather(tmp, ic, dt, recv, ic, dt, c->mpi);
        } else
            rc = MPI_Allgather(send, ic, dt, recv, ic, dt, c->mpi);
        break;
    case F_BROADCAST:
        if (me == t->root && send != recv)
            memmove(recv, send, cnt * e);
        rc = MPI_Bcast(recv, ic, dt, t->root, c->mpi);
        break;
    default: /* alltoall */
        if (overlap(send, in_bytes, recv, out_bytes)) {
            if (!(tmp = malloc(in_bytes ? in_bytes : 1))) {
                rc = MPI_ERR_NO_MEM;
                break;
            }
            memcpy(tmp, send, in_bytes);
            send = tmp;
        }
        rc = MPI_Alltoall(send, ic, dt, recv, ic, dt, c->mpi);
        break;
    }
    if (rc == MPI_SUCCESS && t->op == ncclAvg && !is_float(t->t) && (t->f == F_ALLREDUCE || t->f == F_REDUCE_SCATTER))
        postdivide(t->t, recv, cnt, n);
    fakegpu_close(recv);
    fakegpu_close(t->send);
    free(tmp);
    if (rc != MPI_SUCCESS) {
        char text[MPI_MAX_ERROR_STRING] = "";
        int len = 0;
        MPI_Error_string(rc, text, &len);
        return nccl_fail(ncclSystemError, "%s on rank %d: MPI failed: %s", func_names[t->f], me, text);
    }
    return ncclSuccess;
}

/* The group's sends and receives on MPI: all posted, then all waited for. */
static ncclResult_t p2p_mpi(const struct group *g)
{
    size_t n = 0;
    for (size_t i = 0; i < g->n; i++)
        n += g->v[i].f == F_SEND || g->v[i].f == F_RECV;
    if (n == 0)
        return ncclSuccess;
    MPI_Request *req = calloc(n, sizeof *req);
    MPI_Status *st = calloc(n, sizeof *st);
    const struct task **of = calloc(n, sizeof *of);
    if (!req || !st || !of) {
        free(req);
        free(st);
        free(of);
        return nccl_fail(ncclSystemError, "out of host memory");
    }
    int rc = MPI_SUCCESS;
    size_t k = 0;
    for (size_t pass = 0; pass < 2; pass++) /* receives first, then sends */
        for (size_t i = 0; i < g->n && rc == MPI_SUCCESS; i++) {
            const struct task *t = &g->v[i];
            size_t bytes = t->count * fakegpu_elem_size(t->t);
            if (bytes > 0x7fffffff) {
                rc = MPI_ERR_COUNT;
                break;
            }
            if (pass == 0 && t->f == F_RECV) {
                fakegpu_open(t->recv);
                rc = MPI_Irecv(t->recv, (int)bytes, MPI_BYTE, t->root, 7, t->comm->mpi, &req[k]);
                of[k++] = t;
            } else if (pass == 1 && t->f == F_SEND) {
                fakegpu_open(t->send);
                rc = MPI_Isend(t->send, (int)bytes, MPI_BYTE, t->root, 7, t->comm->mpi, &req[k]);
                of[k++] = t;
            }
        }
    if (rc == MPI_SUCCESS)
        rc = MPI_Waitall((int)k, req, st);
    const char *why = rc != MPI_SUCCESS ? "MPI failed (a send larger than its receive?)" : NULL;
    for (size_t i = 0; i < k; i++) {
        int got = 0;
        if (!why && of[i]->f == F_RECV && MPI_Get_count(&st[i], MPI_BYTE, &got) == MPI_SUCCESS &&
            (size_t)got != of[i]->count * fakegpu_elem_size(of[i]->t))
            why = "a receive got fewer bytes than it asked for (the send and the receive differ in count or type)";
        fakegpu_close(of[i]->f == F_RECV ? of[i]->recv : of[i]->send);
    }
    free(req);
    free(st);
    free(of);
    return why ? nccl_fail(ncclInvalidUsage, "ncclSend/ncclRecv: %s", why) : ncclSuccess;
}
#endif

/* The group's sends and receives between threads: sends posted, receives taken in order, then
 * the sends waited for until their peers have taken them. */
static ncclResult_t p2p_threads(const struct group *g)
{
    ncclResult_t r = ncclSuccess;
    for (size_t i = 0; i < g->n; i++) {
        const struct task *t = &g->v[i];
        if (t->f != F_SEND)
            continue;
        struct post *p = calloc(1, sizeof *p);
        if (!p)
            return nccl_fail(ncclSystemError, "out of host memory");
        *p = (struct post){.src = t->comm->rank, .dst = t->root, .buf = t->send,
                           .bytes = t->count * fakegpu_elem_size(t->t)};
        struct tgroup *tg = t->comm->tg;
        pthread_mutex_lock(&tg->lock);
        struct post **end = &tg->posts;
        while (*end)
            end = &(*end)->next;
        *end = p;
        pthread_cond_broadcast(&tg->cond);
        pthread_mutex_unlock(&tg->lock);
    }
    for (size_t i = 0; i < g->n; i++) {
        const struct task *t = &g->v[i];
        if (t->f != F_RECV)
            continue;
        struct tgroup *tg = t->comm->tg;
        size_t want = t->count * fakegpu_elem_size(t->t);
        pthread_mutex_lock(&tg->lock);
        struct post *p = NULL;
        for (;;) {
            for (p = tg->posts; p && (p->taken || p->src != t->root || p->dst != t->comm->rank); p = p->next)
                ;
            if (p)
                break;
            pthread_cond_wait(&tg->cond, &tg->lock);
        }
        pthread_mutex_unlock(&tg->lock);
        if (p->bytes != want)
            r = nccl_fail(ncclInvalidUsage, "ncclRecv on rank %d: %zu bytes from rank %d, which sent %zu (the send "
                          "and the receive differ in count or type)", t->comm->rank, want, t->root, p->bytes);
        fakegpu_open(p->buf);
        fakegpu_open(t->recv);
        memcpy(t->recv, p->buf, p->bytes < want ? p->bytes : want);
        fakegpu_close(t->recv);
        fakegpu_close(p->buf);
        pthread_mutex_lock(&tg->lock);
        p->taken = true;
        pthread_cond_broadcast(&tg->cond);
        pthread_mutex_unlock(&tg->lock);
    }
    /* wait for this rank's sends to be taken, and unlink them */
    for (size_t i = 0; i < g->n; i++) {
        const struct task *t = &g->v[i];
        if (t->f != F_SEND)
            continue;
        struct tgroup *tg = t->comm->tg;
        pthread_mutex_lock(&tg->lock);
        for (;;) {
            struct post **link = &tg->posts;
            while (*link && !((*link)->src == t->comm->rank && (*link)->buf == t->send && (*link)->dst == t->root))
                link = &(*link)->next;
            if (!*link)
                break; /* already unlinked by an earlier task of this group with the same buffer */
            if ((*link)->taken) {
                struct post *p = *link;
                *link = p->next;
                free(p);
                break;
            }
            pthread_cond_wait(&tg->cond, &tg->lock);
        }
        pthread_mutex_unlock(&tg->lock);
    }
    return r;
}

static ncclResult_t run_group(const struct group *g)
{
    ncclResult_t r = ncclSuccess;
    bool p2p = false;
    for (size_t i = 0; i < g->n && r == ncclSuccess; i++) {
        const struct task *t = &g->v[i];
        if (t->f == F_SEND || t->f == F_RECV) {
            p2p = true;
            continue;
        }
#ifdef FAKEGPU_WITH_MPI
        r = t->comm->transport == T_MPI ? coll_mpi(t) : coll_threads(t);
#else
        r = coll_threads(t);
#endif
    }
    if (r == ncclSuccess && p2p) {
#ifdef FAKEGPU_WITH_MPI
        r = g->v[0].comm->transport == T_MPI ? p2p_mpi(g) : p2p_threads(g);
#else
        r = p2p_threads(g);
#endif
    }
    return r;
}

/* A group as stream work: queued on its stream like a kernel (it runs when the stream gets
 * there), or recorded in a graph and run at each launch; a failure while it runs is the
 * communicators' async error (ncclCommGetAsyncError), as NCCL reports it. */
struct group_work {
    struct group g;
};

static int group_fn(void *ctx)
{
    struct group_work *w = ctx;
    ncclResult_t r = run_group(&w->g);
    if (r != ncclSuccess)
        for (size_t i = 0; i < w->g.n; i++)
            if (valid_comm(w->g.v[i].comm))
                w->g.v[i].comm->async_error = r;
    return 0;
}

static void free_group_work(void *ctx)
{
    struct group_work *w = ctx;
    free(w->g.v);
    free(w);
}

/* Queues the group on its stream, or records it where the stream is capturing. */
static ncclResult_t launch_group(struct group *g)
{
    if (g->n == 0)
        return ncclSuccess;
    enum cudaStreamCaptureStatus first = cudaStreamCaptureStatusNone;
    for (size_t i = 0; i < g->n; i++) {
        enum cudaStreamCaptureStatus s = cudaStreamCaptureStatusNone;
        cudaStreamIsCapturing(g->v[i].stream, &s);
        if (i == 0)
            first = s;
        else if (s != first)
            return nccl_fail(ncclInvalidUsage, "ncclGroupEnd: streams given to a group must either be all uncaptured "
                             "or all captured by the same graph");
    }
    struct fakegpu_access *acc = calloc(2 * g->n, sizeof *acc);
    struct group_work *w = calloc(1, sizeof *w);
    if (!acc || !w) {
        free(acc);
        free(w);
        return nccl_fail(ncclSystemError, "out of host memory");
    }
    for (size_t i = 0; i < g->n; i++) {
        const struct task *t = &g->v[i];
        size_t e = fakegpu_elem_size(t->t), n = (size_t)t->comm->nranks;
        size_t in = t->f == F_RECV ? 0 : t->count * e * (t->f == F_REDUCE_SCATTER || t->f == F_ALLTOALL ? n : 1);
        size_t out = t->f == F_SEND ? 0 : t->count * e * (t->f == F_ALLGATHER || t->f == F_ALLTOALL ? n : 1);
        if (t->f == F_BROADCAST && t->comm->rank != t->root)
            in = 0;
        acc[2 * i] = (struct fakegpu_access){t->send, in, 0};
        acc[2 * i + 1] = (struct fakegpu_access){t->recv, out, 1};
    }
    w->g = *g; /* the work takes the tasks */
    g->v = NULL;
    g->n = g->cap = 0;
    const char *what = func_names[w->g.v[0].f];
    int rc = fakegpu_submit(w->g.v[0].stream, what, group_fn, w, free_group_work, acc, (int)(2 * w->g.n),
                            FAKEGPU_QUEUED);
    free(acc);
    return rc == 0 ? ncclSuccess
                   : nccl_fail(ncclUnhandledCudaError, "%s: the stream refused the work: %s", what,
                               cudaGetErrorString((cudaError_t)rc));
}

static ncclResult_t enqueue(struct task t)
{
    if (current.n == current.cap) {
        size_t cap = current.cap ? 2 * current.cap : 8;
        struct task *v = realloc(current.v, cap * sizeof *v);
        if (!v)
            return nccl_fail(ncclSystemError, "out of host memory");
        current.v = v;
        current.cap = cap;
    }
    current.v[current.n++] = t;
    if (group_depth > 0)
        return ncclSuccess;
    ncclResult_t r = launch_group(&current);
    current.n = 0;
    return r;
}

/* A call that failed its checks: inside a group, the whole group fails at ncclGroupEnd (its
 * other calls are not launched), as in NCCL. */
static ncclResult_t failed_call(ncclResult_t r)
{
    if (group_depth > 0 && group_error == ncclSuccess)
        group_error = r;
    return r;
}

ncclResult_t ncclGroupStart(void)
{
    INJECT("ncclGroupStart");
    if (group_depth++ == 0)
        group_error = ncclSuccess;
    return ncclSuccess;
}

ncclResult_t ncclGroupEnd(void)
{
    INJECT("ncclGroupEnd");
    if (group_depth == 0)
        return nccl_fail(ncclInvalidUsage, "ncclGroupEnd without ncclGroupStart");
    if (--group_depth > 0)
        return ncclSuccess;
    ncclResult_t r = group_error;
    if (r == ncclSuccess)
        r = launch_group(&current);
    else
        fakegpu_complain("ncclGroupEnd: a call of the group failed (%s): none of its calls is launched",
                         ncclGetErrorString(r));
    current.n = 0;
    group_error = ncclSuccess;
    return r;
}

ncclResult_t ncclAllReduce(const void *sendbuff, void *recvbuff, size_t count, ncclDataType_t datatype,
                           ncclRedOp_t op, ncclComm_t comm, cudaStream_t stream)
{
    return submit(F_ALLREDUCE, sendbuff, recvbuff, count, datatype, op, 0, comm, stream);
}

ncclResult_t ncclAllGather(const void *sendbuff, void *recvbuff, size_t sendcount, ncclDataType_t datatype,
                           ncclComm_t comm, cudaStream_t stream)
{
    return submit(F_ALLGATHER, sendbuff, recvbuff, sendcount, datatype, ncclSum, 0, comm, stream);
}

ncclResult_t ncclReduceScatter(const void *sendbuff, void *recvbuff, size_t recvcount, ncclDataType_t datatype,
                               ncclRedOp_t op, ncclComm_t comm, cudaStream_t stream)
{
    return submit(F_REDUCE_SCATTER, sendbuff, recvbuff, recvcount, datatype, op, 0, comm, stream);
}

ncclResult_t ncclBroadcast(const void *sendbuff, void *recvbuff, size_t count, ncclDataType_t datatype, int root,
                           ncclComm_t comm, cudaStream_t stream)
{
    return submit(F_BROADCAST, sendbuff, recvbuff, count, datatype, ncclSum, root, comm, stream);
}

#ifndef FAKEGPU_OLD_NCCL
ncclResult_t ncclAlltoAll(const void *sendbuff, void *recvbuff, size_t count, ncclDataType_t datatype, ncclComm_t comm,
                          cudaStream_t stream)
{
    return submit(F_ALLTOALL, sendbuff, recvbuff, count, datatype, ncclSum, 0, comm, stream);
}
#endif

ncclResult_t ncclSend(const void *sendbuff, size_t count, ncclDataType_t datatype, int peer, ncclComm_t comm,
                      cudaStream_t stream)
{
    return submit(F_SEND, sendbuff, NULL, count, datatype, ncclSum, peer, comm, stream);
}

ncclResult_t ncclRecv(void *recvbuff, size_t count, ncclDataType_t datatype, int peer, ncclComm_t comm,
                      cudaStream_t stream)
{
    return submit(F_RECV, NULL, recvbuff, count, datatype, ncclSum, peer, comm, stream);
}
