/* fakegpu: a test double of libcudart.so.13 that runs on the CPU (tests only; see fakegpu.h).
 * Every value it reports is invented (device name "FAKEGPU (CPU test double)", memory sizes,
 * clocks, bus widths, PCI ids, versions); it says nothing about the speed of any GPU, and its
 * timings (CUDA events) are the host's clock around host loops.
 *
 *   FAKEGPU_DEVICES=N   devices (default 1); 0 makes cudaGetDeviceCount fail with
 *                       cudaErrorNoDevice, as on a machine without a GPU
 *   CUDA_VISIBLE_DEVICES=i,j,...  as CUDA: only those of the N are visible, renumbered from 0
 *                       (the list ends at the first entry that names no device); UUID and
 *                       PCI id stay the physical device's, so per-rank lists are told apart
 *   FAKEGPU_MEMORY_MB=N each device's memory (default 16384): cudaMalloc beyond it fails with
 *                       cudaErrorMemoryAllocation, as on a full GPU
 *   FAKEGPU_CUDA_FAIL=F[:N[:M]]  runtime function F (cudaMemcpy, cudaStreamSynchronize, ...; a
 *                       kernel launch is __cudaLaunchKernel) fails with cudaErrorUnknown after N
 *                       calls that pass (default 0), M times (default: from then on), to exercise
 *                       the callers' error paths
 *   FAKEGPU_FAIL_RANK=R  FAKEGPU_CUDA_FAIL and FAKEGPU_NCCL_FAIL apply only in the process of MPI
 *                       rank R (OMPI_COMM_WORLD_RANK, PMIX_RANK or PMI_RANK): one rank failing alone
 *   FAKEGPU_LOG=FILE    every "fakegpu:" line is also appended to FILE (tests check that a run
 *                       said nothing)
 *   FAKEGPU_PROTECT=0   device memory stays readable by the host (CUDA-aware MPI emulation:
 *                       the MPI library reads device buffers itself); by default it is
 *                       PROT_NONE except while a fake operation works on it, so host code that
 *                       dereferences a device pointer gets SIGSEGV (with a "fakegpu:" line)
 *
 * Work on a stream waits on the stream's queue until something waits for it (CUDA's ordering
 * between the legacy default stream, blocking and non-blocking streams kept; unordered streams
 * touching the same memory are reported as a race); stream capture records it instead, and
 * cudaGraphLaunch replays it in order.  Work runs on the thread that waits for it.  Kernels compiled by
 * nvcc register their host-side launch functions here (__cudaRegisterFunction); a launch finds a host
 * implementation by the kernel's mangled name, for the kernels of common/kernels.cu and
 * common/local_kernels.cu only (reimplemented here from those files, not their CUDA code).
 * Misuse (a copy kind that does not match the pointers, a device pointer the host cannot use,
 * an unknown kernel, a bad launch configuration, capture rules) returns CUDA's error and prints
 * a "fakegpu:" line on stderr. */
#define _GNU_SOURCE
#include <cuda_runtime_api.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "fakegpu.h"
#include "pattern_formula.h"

/* The nvcc-generated code's entry points (crt/host_runtime.h and crt/device_functions.h declare
 * them in C++ only; these are the same declarations in C). */
void **__cudaRegisterFatBinary(void *fatCubin);
void __cudaRegisterFatBinaryEnd(void **fatCubinHandle);
void __cudaUnregisterFatBinary(void **fatCubinHandle);
void __cudaRegisterFunction(void **fatCubinHandle, const char *hostFun, char *deviceFun, const char *deviceName,
                            int thread_limit, uint3 *tid, uint3 *bid, dim3 *bDim, dim3 *gDim, int *wSize);
unsigned __cudaPushCallConfiguration(dim3 gridDim, dim3 blockDim, size_t sharedMem, struct CUstream_st *stream);
cudaError_t __cudaPopCallConfiguration(dim3 *gridDim, dim3 *blockDim, size_t *sharedMem, void *stream);
cudaError_t __cudaGetKernel(cudaKernel_t *kernel, const void *hostFun);
cudaError_t __cudaLaunchKernel(cudaKernel_t kernel, dim3 gridDim, dim3 blockDim, void **args, size_t sharedMem,
                               cudaStream_t stream);

#define MAX_DEVICES 64
#define DEVICE_MEMORY device_memory /* invented: 16 GiB per device, or FAKEGPU_MEMORY_MB */

/* ------------------------------------------------------------------ configuration, errors */

static pthread_once_t config_once = PTHREAD_ONCE_INIT;
static int n_devices = 1;
static int physical[MAX_DEVICES]; /* visible device -> the FAKEGPU_DEVICES one it is */
static bool protect = true;
static size_t device_memory = 16ULL << 30;

static void read_config(void)
{
    const char *d = getenv("FAKEGPU_DEVICES"), *p = getenv("FAKEGPU_PROTECT");
    if (d && *d) {
        char *end = NULL;
        long n = strtol(d, &end, 10);
        n_devices = (end && *end == '\0' && n >= 0 && n <= MAX_DEVICES) ? (int)n : 1;
    }
    for (int i = 0; i < MAX_DEVICES; i++)
        physical[i] = i;
    const char *visible = getenv("CUDA_VISIBLE_DEVICES");
    if (visible) {
        int shown = 0;
        for (const char *c = visible; *c && shown < n_devices;) {
            char *end = NULL;
            long v = strtol(c, &end, 10);
            if (end == c || v < 0 || v >= n_devices)
                break; /* CUDA ignores the rest of the list from the first bad entry on */
            physical[shown++] = (int)v;
            c = *end == ',' ? end + 1 : end;
            if (*end != ',' && *end != '\0')
                break;
        }
        n_devices = shown;
    }
    protect = !(p && strcmp(p, "0") == 0);
    const char *m = getenv("FAKEGPU_MEMORY_MB");
    if (m && *m) {
        char *end = NULL;
        unsigned long long mb = strtoull(m, &end, 10);
        if (end && *end == '\0' && mb > 0)
            device_memory = (size_t)mb << 20;
    }
}

static int devices(void)
{
    pthread_once(&config_once, read_config);
    return n_devices;
}

/* FAKEGPU_LOG: one line appended (async-signal-safe: the SIGSEGV handler uses it too). */
static void log_line(const char *line)
{
    const char *path = getenv("FAKEGPU_LOG");
    int fd = path && *path ? open(path, O_WRONLY | O_APPEND | O_CREAT, 0644) : -1;
    if (fd < 0)
        return;
    char buf[1100];
    size_t n = strlen(line);
    n = n < sizeof buf - 1 ? n : sizeof buf - 1;
    memcpy(buf, line, n);
    buf[n++] = '\n'; /* one write: lines of several processes do not mix */
    ssize_t w = write(fd, buf, n);
    (void)w;
    close(fd);
}

void fakegpu_complain(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(line, sizeof line, "fakegpu[%d]: ", (int)getpid());
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", line);
    fflush(stderr);
    log_line(line);
}

static _Thread_local cudaError_t last_error = cudaSuccess;
static _Thread_local int current_device = 0;
static cudaError_t sticky[MAX_DEVICES]; /* an execution error: the device's context is broken */

static cudaError_t fail(cudaError_t e)
{
    if (e != cudaSuccess)
        last_error = e;
    return e;
}

int fakegpu_current_device(void) { return current_device; }

/* FAKEGPU_FAIL_RANK: whether failures are injected in this process (its launcher's rank). */
int fakegpu_fail_here(void)
{
    const char *want = getenv("FAKEGPU_FAIL_RANK");
    if (!want || !*want)
        return 1;
    const char *vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
        const char *r = getenv(vars[i]);
        if (r && *r)
            return strcmp(r, want) == 0;
    }
    return strcmp(want, "0") == 0; /* a process without a launcher is rank 0 */
}

/* FAKEGPU_CUDA_FAIL=F[:N[:M]]: whether this call of F is to fail (said once per process). */
static bool injected(const char *fn)
{
    static atomic_long calls;
    static atomic_int said;
    const char *want = getenv("FAKEGPU_CUDA_FAIL");
    size_t len = strlen(fn);
    if (!want || strncmp(want, fn, len) != 0 || (want[len] != '\0' && want[len] != ':') || !fakegpu_fail_here())
        return false;
    char *end = NULL;
    long after = want[len] == ':' ? strtol(want + len + 1, &end, 10) : 0;
    long times = end && *end == ':' ? atol(end + 1) : -1;
    long n = atomic_fetch_add(&calls, 1);
    if (n < after || (times >= 0 && n >= after + times))
        return false;
    if (!atomic_exchange(&said, 1))
        fakegpu_complain("%s: failure injected (FAKEGPU_CUDA_FAIL=%s): it returns cudaErrorUnknown", fn, want);
    return true;
}
#define INJECT(fn)                                                                                                   \
    do {                                                                                                             \
        if (injected(fn))                                                                                            \
            return fail(cudaErrorUnknown);                                                                           \
    } while (0)

/* ------------------------------------------------------------------ the allocation table */

struct alloc {
    uintptr_t base;
    size_t size, maplen;
    int device; /* -1: pinned host memory */
    int opens;
    struct alloc *next;
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct alloc *table;
static size_t used_bytes[MAX_DEVICES];

static size_t page_size(void)
{
    long ps = sysconf(_SC_PAGESIZE);
    return ps > 0 ? (size_t)ps : 4096;
}

/* The allocation holding p (the table lock held). */
static struct alloc *find(uintptr_t p)
{
    for (struct alloc *a = table; a; a = a->next)
        if (p >= a->base && p < a->base + a->maplen)
            return a;
    return NULL;
}

int fakegpu_classify(const void *p, size_t len, int *device)
{
    uintptr_t u = (uintptr_t)p;
    int kind = FAKEGPU_HOST;
    *device = -1;
    pthread_mutex_lock(&table_lock);
    struct alloc *a = find(u);
    if (a) {
        size_t n = len ? len : 1;
        if (u - a->base > a->size || n > a->size - (u - a->base))
            kind = FAKEGPU_BAD;
        else if (a->device >= 0) {
            kind = FAKEGPU_DEVICE;
            *device = a->device;
        } else
            kind = FAKEGPU_PINNED;
    }
    pthread_mutex_unlock(&table_lock);
    return kind;
}

void fakegpu_open(const void *p)
{
    if (!protect || !p)
        return;
    pthread_mutex_lock(&table_lock);
    struct alloc *a = find((uintptr_t)p);
    if (a && a->device >= 0 && a->opens++ == 0)
        mprotect((void *)a->base, a->maplen, PROT_READ | PROT_WRITE);
    pthread_mutex_unlock(&table_lock);
}

void fakegpu_close(const void *p)
{
    if (!protect || !p)
        return;
    pthread_mutex_lock(&table_lock);
    struct alloc *a = find((uintptr_t)p);
    if (a && a->device >= 0 && a->opens > 0 && --a->opens == 0)
        mprotect((void *)a->base, a->maplen, PROT_NONE);
    pthread_mutex_unlock(&table_lock);
}

/* ---- SIGSEGV: say that the host touched device memory, then let the previous handler act */

static struct sigaction previous_segv;
static atomic_int segv_installed;

static void put_hex(char *buf, size_t *at, uintptr_t v)
{
    char tmp[2 + 2 * sizeof v];
    int n = 0;
    do {
        tmp[n++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    buf[(*at)++] = '0';
    buf[(*at)++] = 'x';
    while (n)
        buf[(*at)++] = tmp[--n];
}

static void put_text(char *buf, size_t *at, const char *s)
{
    while (*s)
        buf[(*at)++] = *s++;
}

static void on_segv(int sig, siginfo_t *info, void *uctx)
{
    (void)sig;
    (void)uctx;
    uintptr_t addr = (uintptr_t)info->si_addr;
    struct alloc *hit = NULL;
    for (struct alloc *a = table; a; a = a->next) /* no lock: the process is going down */
        if (addr >= a->base && addr < a->base + a->maplen && a->device >= 0)
            hit = a;
    if (hit) {
        char msg[400];
        size_t at = 0;
        put_text(msg, &at, "fakegpu: SIGSEGV: host code touched device memory at ");
        put_hex(msg, &at, addr);
        put_text(msg, &at, " (a cudaMalloc buffer at ");
        put_hex(msg, &at, hit->base);
        put_text(msg, &at, "): a GPU's memory is not readable or writable by the host\n");
        ssize_t w = write(2, msg, at);
        (void)w;
        msg[at - 1] = '\0';
        log_line(msg);
    }
    sigaction(SIGSEGV, &previous_segv, NULL); /* the fault repeats and the previous handler acts */
}

static void install_segv_handler(void)
{
    if (atomic_exchange(&segv_installed, 1))
        return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &previous_segv);
}

static cudaError_t map_memory(void **ptr, size_t size, int device)
{
    size_t ps = page_size(), maplen = (size + ps - 1) / ps * ps;
    bool dev = device >= 0;
    if (dev) {
        pthread_mutex_lock(&table_lock);
        bool full = size > DEVICE_MEMORY - used_bytes[device];
        pthread_mutex_unlock(&table_lock);
        if (full)
            return cudaErrorMemoryAllocation;
    }
    void *p = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    struct alloc *a = p == MAP_FAILED ? NULL : malloc(sizeof *a);
    if (!a) {
        if (p != MAP_FAILED)
            munmap(p, maplen);
        return cudaErrorMemoryAllocation;
    }
    memset(p, 0xcd, size); /* as uninitialised as cudaMalloc's memory: never zero by luck */
    if (dev && protect) {
        install_segv_handler();
        mprotect(p, maplen, PROT_NONE);
    }
    *a = (struct alloc){.base = (uintptr_t)p, .size = size, .maplen = maplen, .device = device};
    pthread_mutex_lock(&table_lock);
    a->next = table;
    table = a;
    if (dev)
        used_bytes[device] += size;
    pthread_mutex_unlock(&table_lock);
    *ptr = p;
    return cudaSuccess;
}

/* Unmaps the allocation starting exactly at p of the given kind (device: >= 0, pinned: -1). */
static cudaError_t unmap_memory(void *p, bool want_device, const char *who)
{
    pthread_mutex_lock(&table_lock);
    struct alloc **link = &table, *a = NULL;
    while (*link && (*link)->base != (uintptr_t)p)
        link = &(*link)->next;
    a = *link;
    bool ok = a && (a->device >= 0) == want_device && a->opens == 0;
    if (ok) {
        *link = a->next;
        if (a->device >= 0)
            used_bytes[a->device] -= a->size;
    }
    pthread_mutex_unlock(&table_lock);
    if (!ok) {
        int dev;
        int kind = fakegpu_classify(p, 1, &dev);
        fakegpu_complain("%s(%p): %s", who, p,
                         a && a->opens ? "the buffer is in use by an operation"
                         : kind == FAKEGPU_DEVICE ? (want_device ? "not the start of a cudaMalloc buffer"
                                                                 : "a cudaMalloc buffer (use cudaFree)")
                         : kind == FAKEGPU_PINNED ? (want_device ? "a cudaMallocHost buffer (use cudaFreeHost)"
                                                                 : "not the start of a cudaMallocHost buffer")
                                                  : "not a pointer the CUDA runtime gave out (freed twice?)");
        return cudaErrorInvalidValue;
    }
    munmap((void *)a->base, a->maplen);
    free(a);
    return cudaSuccess;
}

/* ------------------------------------------------------------------ streams and capture */

struct op {
    int (*fn)(void *);
    void *ctx;
    void (*free_ctx)(void *);
    struct fakegpu_access *acc; /* what it touches (for the race check of the graph's launches) */
    int nacc;
};

struct oplist {
    atomic_int refs;
    size_t n, cap;
    struct op *v;
};

static struct oplist *oplist_new(void)
{
    struct oplist *l = calloc(1, sizeof *l);
    if (l)
        atomic_init(&l->refs, 1);
    return l;
}

static void oplist_release(struct oplist *l)
{
    if (!l || atomic_fetch_sub(&l->refs, 1) != 1)
        return;
    for (size_t i = 0; i < l->n; i++) {
        if (l->v[i].free_ctx)
            l->v[i].free_ctx(l->v[i].ctx);
        free(l->v[i].acc);
    }
    free(l->v);
    free(l);
}

static int oplist_add(struct oplist *l, int (*fn)(void *), void *ctx, void (*free_ctx)(void *),
                      const struct fakegpu_access *acc, int nacc)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        struct op *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    struct fakegpu_access *copy = nacc > 0 ? malloc((size_t)nacc * sizeof *acc) : NULL;
    if (nacc > 0 && !copy)
        return -1;
    if (copy)
        memcpy(copy, acc, (size_t)nacc * sizeof *acc);
    l->v[l->n++] = (struct op){fn, ctx, free_ctx, copy, copy ? nacc : 0};
    return 0;
}

/* Runs the ops in order; the first failure is returned (the others still run, as a GPU would). */
static int oplist_run(const struct oplist *l)
{
    int first = 0;
    for (size_t i = 0; i < l->n; i++) {
        int rc = l->v[i].fn(l->v[i].ctx);
        first = first ? first : rc;
    }
    return first;
}

/* Work queued on a stream, not yet run. */
struct pending {
    const char *what;
    int (*fn)(void *);
    void *ctx;
    void (*free_ctx)(void *);
    struct fakegpu_access *acc;
    int nacc;
    struct pending *next;
};

struct CUstream_st {
    unsigned magic;
    int device;
    unsigned flags;
    bool legacy; /* the device's legacy default stream (stream 0) */
    bool capturing, invalidated;
    enum cudaStreamCaptureMode mode;
    pthread_t capture_thread;
    struct oplist *capture;
    struct pending *head, *tail; /* the queue (work_lock) */
    struct CUstream_st *next;
};
#define STREAM_MAGIC 0x5354524du

static pthread_mutex_t stream_lock = PTHREAD_MUTEX_INITIALIZER;
static struct CUstream_st *streams;
static _Thread_local int thread_captures; /* this thread's captures not in relaxed mode */
static atomic_int global_captures;        /* captures in global mode, any thread */

static bool is_default_stream(cudaStream_t s) { return s == NULL || s == cudaStreamLegacy || s == cudaStreamPerThread; }

static bool live_stream(cudaStream_t s)
{
    pthread_mutex_lock(&stream_lock);
    struct CUstream_st *it = streams;
    while (it && it != s)
        it = it->next;
    pthread_mutex_unlock(&stream_lock);
    return it != NULL;
}

int fakegpu_stream_device(cudaStream_t s, int *device)
{
    if (is_default_stream(s)) {
        *device = current_device;
        return cudaSuccess;
    }
    if (!live_stream(s))
        return cudaErrorInvalidResourceHandle;
    *device = s->device;
    return cudaSuccess;
}

/* A capture rule broken while capturing: the capture is invalidated (EndCapture then fails). */
static void invalidate(struct CUstream_st *s) { s->invalidated = true; }

static void invalidate_this_threads_captures(void)
{
    pthread_mutex_lock(&stream_lock);
    for (struct CUstream_st *s = streams; s; s = s->next)
        if (s->capturing && (s->mode == cudaStreamCaptureModeGlobal ||
                             (s->mode == cudaStreamCaptureModeThreadLocal && pthread_equal(s->capture_thread,
                                                                                           pthread_self()))))
            invalidate(s);
    pthread_mutex_unlock(&stream_lock);
}

/* "Potentially unsafe" calls (synchronous copies, cudaMalloc, device synchronisation) are
 * prohibited while this thread has a capture in global or thread-local mode, or any thread one
 * in global mode. */
static cudaError_t unsafe_call(const char *who)
{
    if (thread_captures == 0 && atomic_load(&global_captures) == 0)
        return cudaSuccess;
    fakegpu_complain("%s during stream capture: not permitted (cudaErrorStreamCaptureUnsupported); the capture "
                     "is invalidated", who);
    invalidate_this_threads_captures();
    return cudaErrorStreamCaptureUnsupported;
}

/* Work for the legacy default stream while a blocking stream captures would join the capture
 * implicitly: prohibited (cudaErrorStreamCaptureImplicit). */
static cudaError_t legacy_conflict(cudaStream_t s, const char *who)
{
    if (s != NULL && s != cudaStreamLegacy)
        return cudaSuccess;
    cudaError_t e = cudaSuccess;
    pthread_mutex_lock(&stream_lock);
    for (struct CUstream_st *it = streams; it; it = it->next)
        if (it->capturing && !(it->flags & cudaStreamNonBlocking) && it->device == current_device) {
            invalidate(it);
            e = cudaErrorStreamCaptureImplicit;
        }
    pthread_mutex_unlock(&stream_lock);
    if (e)
        fakegpu_complain("%s on the legacy default stream while a blocking stream is capturing "
                         "(cudaErrorStreamCaptureImplicit)", who);
    return e;
}

/* ---- the streams' queues.  Work runs at the points CUDA makes the host wait for it, in stream
 * order; what CUDA orders between streams is kept: work on the legacy default stream waits for the
 * device's blocking streams and they wait for it, while a stream created with
 * cudaStreamNonBlocking waits for no other stream (and none waits for it). */

static pthread_mutex_t work_lock = PTHREAD_MUTEX_INITIALIZER;
static struct CUstream_st legacy_streams[MAX_DEVICES];
static pthread_once_t legacy_once = PTHREAD_ONCE_INIT;

static void make_legacy_streams(void)
{
    for (int d = 0; d < MAX_DEVICES; d++)
        legacy_streams[d] = (struct CUstream_st){.magic = STREAM_MAGIC, .device = d, .legacy = true};
}

/* The stream work for s goes to (s already checked). */
static struct CUstream_st *resolve(cudaStream_t s)
{
    pthread_once(&legacy_once, make_legacy_streams);
    return is_default_stream(s) ? &legacy_streams[current_device] : s;
}

static const char *stream_kind(const struct CUstream_st *s)
{
    return s->legacy ? "the legacy default stream" : (s->flags & cudaStreamNonBlocking) ? "a non-blocking stream"
                                                                                        : "a blocking stream";
}

/* Runs st's queued work in order. */
static void flush(struct CUstream_st *st)
{
    pthread_mutex_lock(&work_lock);
    struct pending *p = st->head;
    st->head = st->tail = NULL;
    pthread_mutex_unlock(&work_lock);
    while (p) {
        struct pending *next = p->next;
        p->fn(p->ctx); /* execution errors are sticky (run_kernel) */
        if (p->free_ctx)
            p->free_ctx(p->ctx);
        free(p->acc);
        free(p);
        p = next;
    }
}

/* The streams matching `want` (device, and the streams CUDA orders with `st` when st is given),
 * copied out so that their work runs without the stream lock. */
enum { ALL_OF_DEVICE, ORDERED_WITH, ANY_DEVICE };
static int collect(struct CUstream_st **out, int max, int mode, int device, const struct CUstream_st *st)
{
    int n = 0;
    pthread_once(&legacy_once, make_legacy_streams);
    pthread_mutex_lock(&stream_lock);
    for (struct CUstream_st *s = streams; s && n < max; s = s->next) {
        bool take = mode == ANY_DEVICE || s->device == device;
        if (mode == ORDERED_WITH) /* legacy work waits for blocking streams; blocking ones wait for legacy */
            take = take && st->legacy && !(s->flags & cudaStreamNonBlocking);
        if (take)
            out[n++] = s;
    }
    pthread_mutex_unlock(&stream_lock);
    for (int d = 0; d < MAX_DEVICES && n < max; d++) {
        bool take = mode == ANY_DEVICE || d == device;
        if (mode == ORDERED_WITH)
            take = take && !st->legacy && !(st->flags & cudaStreamNonBlocking);
        if (take)
            out[n++] = &legacy_streams[d];
    }
    return n;
}

#define MAX_FLUSH 256
static void flush_many(int mode, int device, const struct CUstream_st *st)
{
    struct CUstream_st *list[MAX_FLUSH];
    int n = collect(list, MAX_FLUSH, mode, device, st);
    for (int i = 0; i < n; i++)
        flush(list[i]);
}

static bool overlaps(const struct fakegpu_access *a, const struct fakegpu_access *b)
{
    uintptr_t x = (uintptr_t)a->p, y = (uintptr_t)b->p;
    return a->bytes && b->bytes && (a->write || b->write) && x < y + b->bytes && y < x + a->bytes;
}

/* Queued work of another stream, not ordered before new work on st, touching what it touches. */
static void check_races(const struct CUstream_st *st, const char *what, const struct fakegpu_access *acc, int nacc)
{
    static atomic_int said;
    struct CUstream_st *list[MAX_FLUSH];
    int n = collect(list, MAX_FLUSH, ANY_DEVICE, 0, NULL);
    pthread_mutex_lock(&work_lock);
    for (int i = 0; i < n; i++) {
        if (list[i] == st)
            continue;
        for (struct pending *p = list[i]->head; p; p = p->next)
            for (int j = 0; j < p->nacc; j++)
                for (int k = 0; k < nacc; k++)
                    if (overlaps(&p->acc[j], &acc[k]) && atomic_fetch_add(&said, 1) < 8)
                        fakegpu_complain("race: %s on %s (device %d) %s %p (%zu bytes), which %s, queued on %s (device "
                                         "%d), %s and may not have run yet: nothing orders the two streams (a "
                                         "non-blocking stream and the legacy default stream do not wait for each "
                                         "other)", what, stream_kind(st), st->device, acc[k].write ? "writes" : "reads",
                                         acc[k].p, acc[k].bytes, p->what, stream_kind(list[i]), list[i]->device,
                                         p->acc[j].write ? "writes" : "reads");
    }
    pthread_mutex_unlock(&work_lock);
}

int fakegpu_submit(cudaStream_t s, const char *what, int (*fn)(void *), void *ctx, void (*free_ctx)(void *),
                   const struct fakegpu_access *acc, int nacc, enum fakegpu_when when)
{
    int device;
    cudaError_t e = (cudaError_t)fakegpu_stream_device(s, &device);
    if (e == cudaSuccess)
        e = legacy_conflict(s, what);
    if (e == cudaSuccess && sticky[device])
        e = sticky[device];
    struct CUstream_st *st = e == cudaSuccess ? resolve(s) : NULL;
    struct pending *p = NULL;
    if (e == cudaSuccess && st->capturing) {
        if (st->invalidated || oplist_add(st->capture, fn, ctx, free_ctx, acc, nacc) != 0) {
            invalidate(st);
            e = cudaErrorStreamCaptureInvalidated;
        } else {
            return cudaSuccess;
        }
    }
    if (e == cudaSuccess && when == FAKEGPU_QUEUED) {
        p = calloc(1, sizeof *p);
        if (p && nacc > 0 && !(p->acc = malloc((size_t)nacc * sizeof *acc))) {
            free(p);
            p = NULL;
        }
        if (!p)
            e = cudaErrorMemoryAllocation;
    }
    if (e != cudaSuccess) {
        if (free_ctx)
            free_ctx(ctx);
        return e;
    }
    flush_many(ORDERED_WITH, device, st);
    if (when == FAKEGPU_NOW)
        flush(st);
    check_races(st, what, acc, nacc);
    if (when == FAKEGPU_NOW) {
        int rc = fn(ctx);
        if (free_ctx)
            free_ctx(ctx);
        return rc;
    }
    *p = (struct pending){.what = what, .fn = fn, .ctx = ctx, .free_ctx = free_ctx, .nacc = nacc, .acc = p->acc};
    if (nacc > 0)
        memcpy(p->acc, acc, (size_t)nacc * sizeof *acc);
    pthread_mutex_lock(&work_lock);
    if (st->tail)
        st->tail->next = p;
    else
        st->head = p;
    st->tail = p;
    pthread_mutex_unlock(&work_lock);
    return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t *pStream, unsigned int flags)
{
    INJECT("cudaStreamCreateWithFlags");
    if (!pStream || (flags & ~(unsigned)cudaStreamNonBlocking))
        return fail(cudaErrorInvalidValue);
    if (devices() == 0)
        return fail(cudaErrorNoDevice);
    struct CUstream_st *s = calloc(1, sizeof *s);
    if (!s)
        return fail(cudaErrorMemoryAllocation);
    s->magic = STREAM_MAGIC;
    s->device = current_device;
    s->flags = flags;
    pthread_mutex_lock(&stream_lock);
    s->next = streams;
    streams = s;
    pthread_mutex_unlock(&stream_lock);
    *pStream = s;
    return cudaSuccess;
}

cudaError_t cudaStreamCreate(cudaStream_t *pStream) { return cudaStreamCreateWithFlags(pStream, cudaStreamDefault); }

cudaError_t cudaStreamDestroy(cudaStream_t stream)
{
    INJECT("cudaStreamDestroy");
    if (is_default_stream(stream))
        return fail(cudaErrorInvalidResourceHandle);
    pthread_mutex_lock(&stream_lock);
    struct CUstream_st **link = &streams;
    while (*link && *link != stream)
        link = &(*link)->next;
    struct CUstream_st *s = *link;
    if (s)
        *link = s->next;
    pthread_mutex_unlock(&stream_lock);
    if (!s) {
        fakegpu_complain("cudaStreamDestroy(%p): not a live stream (destroyed twice?)", (void *)stream);
        return fail(cudaErrorInvalidResourceHandle);
    }
    flush(s); /* its work completes, then the stream goes */
    if (s->capturing) {
        fakegpu_complain("cudaStreamDestroy(%p) while the stream is capturing", (void *)stream);
        if (s->mode != cudaStreamCaptureModeRelaxed)
            thread_captures--;
        if (s->mode == cudaStreamCaptureModeGlobal)
            atomic_fetch_sub(&global_captures, 1);
        oplist_release(s->capture);
    }
    s->magic = 0;
    free(s);
    return cudaSuccess;
}

/* Synchronising a capturing stream is prohibited (and invalidates the capture). */
static cudaError_t sync_stream(cudaStream_t stream, const char *who)
{
    int device;
    cudaError_t e = (cudaError_t)fakegpu_stream_device(stream, &device);
    if (e != cudaSuccess)
        return e;
    if (is_default_stream(stream)) {
        e = unsafe_call(who);
        if (e == cudaSuccess)
            e = legacy_conflict(stream, who);
    } else if (stream->capturing) {
        fakegpu_complain("%s on a capturing stream (cudaErrorStreamCaptureUnsupported); the capture is "
                         "invalidated", who);
        invalidate(stream);
        e = cudaErrorStreamCaptureUnsupported;
    }
    if (e == cudaSuccess)
        flush(resolve(stream));
    return e != cudaSuccess ? e : sticky[device];
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream)
{
    INJECT("cudaStreamSynchronize");
    return fail(sync_stream(stream, "cudaStreamSynchronize"));
}

cudaError_t cudaStreamQuery(cudaStream_t stream) { return fail(sync_stream(stream, "cudaStreamQuery")); }

cudaError_t cudaDeviceSynchronize(void)
{
    INJECT("cudaDeviceSynchronize");
    if (devices() == 0)
        return fail(cudaErrorNoDevice);
    cudaError_t e = unsafe_call("cudaDeviceSynchronize");
    if (e == cudaSuccess) {
        pthread_mutex_lock(&stream_lock);
        for (struct CUstream_st *s = streams; s; s = s->next)
            if (s->capturing && s->device == current_device) {
                invalidate(s);
                e = cudaErrorStreamCaptureUnsupported;
            }
        pthread_mutex_unlock(&stream_lock);
        if (e)
            fakegpu_complain("cudaDeviceSynchronize while a stream of the device is capturing");
    }
    if (e == cudaSuccess)
        flush_many(ALL_OF_DEVICE, current_device, NULL);
    return fail(e != cudaSuccess ? e : sticky[current_device]);
}

cudaError_t cudaStreamBeginCapture(cudaStream_t stream, enum cudaStreamCaptureMode mode)
{
    INJECT("cudaStreamBeginCapture");
    if (is_default_stream(stream)) {
        fakegpu_complain("cudaStreamBeginCapture on the default stream: not permitted");
        return fail(cudaErrorStreamCaptureUnsupported);
    }
    if (!live_stream(stream))
        return fail(cudaErrorInvalidResourceHandle);
    if (mode != cudaStreamCaptureModeGlobal && mode != cudaStreamCaptureModeThreadLocal &&
        mode != cudaStreamCaptureModeRelaxed)
        return fail(cudaErrorInvalidValue);
    if (stream->capturing) {
        fakegpu_complain("cudaStreamBeginCapture on a stream that is already capturing");
        return fail(cudaErrorIllegalState);
    }
    struct oplist *l = oplist_new();
    if (!l)
        return fail(cudaErrorMemoryAllocation);
    stream->capture = l;
    stream->capturing = true;
    stream->invalidated = false;
    stream->mode = mode;
    stream->capture_thread = pthread_self();
    if (mode != cudaStreamCaptureModeRelaxed)
        thread_captures++;
    if (mode == cudaStreamCaptureModeGlobal)
        atomic_fetch_add(&global_captures, 1);
    return cudaSuccess;
}

struct CUgraph_st {
    unsigned magic;
    struct oplist *ops;
};
struct CUgraphExec_st {
    unsigned magic;
    struct oplist *ops;
};
#define GRAPH_MAGIC 0x47524150u
#define EXEC_MAGIC 0x45584543u
static atomic_int live_graphs, live_execs;

cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t *pGraph)
{
    INJECT("cudaStreamEndCapture");
    if (!pGraph)
        return fail(cudaErrorInvalidValue);
    *pGraph = NULL;
    if (is_default_stream(stream) || !live_stream(stream) || !stream->capturing) {
        fakegpu_complain("cudaStreamEndCapture on a stream that is not capturing");
        return fail(is_default_stream(stream) || live_stream(stream) ? cudaErrorIllegalState
                                                                     : cudaErrorInvalidResourceHandle);
    }
    if (stream->mode != cudaStreamCaptureModeRelaxed && !pthread_equal(stream->capture_thread, pthread_self())) {
        fakegpu_complain("cudaStreamEndCapture from another thread than cudaStreamBeginCapture");
        return fail(cudaErrorStreamCaptureWrongThread);
    }
    stream->capturing = false;
    if (stream->mode != cudaStreamCaptureModeRelaxed)
        thread_captures--;
    if (stream->mode == cudaStreamCaptureModeGlobal)
        atomic_fetch_sub(&global_captures, 1);
    struct oplist *l = stream->capture;
    stream->capture = NULL;
    if (stream->invalidated) {
        oplist_release(l);
        return fail(cudaErrorStreamCaptureInvalidated);
    }
    struct CUgraph_st *g = malloc(sizeof *g);
    if (!g) {
        oplist_release(l);
        return fail(cudaErrorMemoryAllocation);
    }
    *g = (struct CUgraph_st){GRAPH_MAGIC, l};
    atomic_fetch_add(&live_graphs, 1);
    *pGraph = g;
    return cudaSuccess;
}

cudaError_t cudaStreamIsCapturing(cudaStream_t stream, enum cudaStreamCaptureStatus *pCaptureStatus)
{
    if (!pCaptureStatus)
        return fail(cudaErrorInvalidValue);
    if (is_default_stream(stream)) {
        *pCaptureStatus = cudaStreamCaptureStatusNone;
        return cudaSuccess;
    }
    if (!live_stream(stream))
        return fail(cudaErrorInvalidResourceHandle);
    *pCaptureStatus = !stream->capturing ? cudaStreamCaptureStatusNone
                      : stream->invalidated ? cudaStreamCaptureStatusInvalidated
                                            : cudaStreamCaptureStatusActive;
    return cudaSuccess;
}

cudaError_t cudaGraphInstantiate(cudaGraphExec_t *pGraphExec, cudaGraph_t graph, unsigned long long flags)
{
    INJECT("cudaGraphInstantiate");
    if (!pGraphExec || !graph || graph->magic != GRAPH_MAGIC || flags != 0)
        return fail(cudaErrorInvalidValue);
    struct CUgraphExec_st *x = malloc(sizeof *x);
    if (!x)
        return fail(cudaErrorMemoryAllocation);
    atomic_fetch_add(&graph->ops->refs, 1); /* the exec outlives the graph it came from */
    *x = (struct CUgraphExec_st){EXEC_MAGIC, graph->ops};
    atomic_fetch_add(&live_execs, 1);
    *pGraphExec = x;
    return cudaSuccess;
}

cudaError_t cudaGraphDestroy(cudaGraph_t graph)
{
    INJECT("cudaGraphDestroy");
    if (!graph || graph->magic != GRAPH_MAGIC) {
        fakegpu_complain("cudaGraphDestroy(%p): not a graph (destroyed twice?)", (void *)graph);
        return fail(cudaErrorInvalidValue);
    }
    graph->magic = 0;
    atomic_fetch_sub(&live_graphs, 1);
    oplist_release(graph->ops);
    free(graph);
    return cudaSuccess;
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t graphExec)
{
    INJECT("cudaGraphExecDestroy");
    if (!graphExec || graphExec->magic != EXEC_MAGIC) {
        fakegpu_complain("cudaGraphExecDestroy(%p): not a graph exec (destroyed twice?)", (void *)graphExec);
        return fail(cudaErrorInvalidValue);
    }
    graphExec->magic = 0;
    atomic_fetch_sub(&live_execs, 1);
    oplist_release(graphExec->ops);
    free(graphExec);
    return cudaSuccess;
}

static int replay(void *ctx) { return oplist_run(ctx); }

/* Errors of work that ran (a kernel's illegal access): sticky, reported at the next
 * synchronisation rather than by the launch. */
static bool execution_error(int e)
{
    return e == cudaErrorIllegalAddress || e == cudaErrorMisalignedAddress || e == cudaErrorLaunchFailure;
}

static void release_ops(void *ctx) { oplist_release(ctx); }

cudaError_t cudaGraphLaunch(cudaGraphExec_t graphExec, cudaStream_t stream)
{
    INJECT("cudaGraphLaunch");
    if (!graphExec || graphExec->magic != EXEC_MAGIC)
        return fail(cudaErrorInvalidValue);
    const struct oplist *l = graphExec->ops;
    int nacc = 0;
    for (size_t i = 0; i < l->n; i++)
        nacc += l->v[i].nacc;
    struct fakegpu_access *acc = nacc ? malloc((size_t)nacc * sizeof *acc) : NULL; /* all the graph touches */
    if (nacc && !acc)
        return fail(cudaErrorMemoryAllocation);
    for (size_t i = 0, k = 0; i < l->n; k += (size_t)l->v[i].nacc, i++)
        if (l->v[i].nacc)
            memcpy(acc + k, l->v[i].acc, (size_t)l->v[i].nacc * sizeof *acc);
    atomic_fetch_add(&graphExec->ops->refs, 1);
    int rc = fakegpu_submit(stream, "cudaGraphLaunch", replay, graphExec->ops, release_ops, acc, nacc,
                            FAKEGPU_QUEUED);
    free(acc);
    return execution_error(rc) ? cudaSuccess : fail((cudaError_t)rc);
}

/* ------------------------------------------------------------------ events */

struct CUevent_st {
    unsigned magic;
    unsigned flags;
    bool recorded, in_capture;
    bool queued;                /* recorded on a stream whose queue has not reached it yet */
    int device;                 /* current at its creation: it records on that device's streams only */
    struct CUstream_st *stream; /* where, when queued */
    double t;                   /* seconds, CLOCK_MONOTONIC, when the stream reached it */
};
#define EVENT_MAGIC 0x45564e54u
static atomic_int live_events;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static bool live_event(cudaEvent_t e) { return e && e->magic == EVENT_MAGIC; }

cudaError_t cudaEventCreateWithFlags(cudaEvent_t *event, unsigned int flags)
{
    INJECT("cudaEventCreateWithFlags");
    if (!event)
        return fail(cudaErrorInvalidValue);
    struct CUevent_st *e = calloc(1, sizeof *e);
    if (!e)
        return fail(cudaErrorMemoryAllocation);
    e->magic = EVENT_MAGIC;
    e->flags = flags;
    e->device = current_device;
    atomic_fetch_add(&live_events, 1);
    *event = e;
    return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t *event) { return cudaEventCreateWithFlags(event, cudaEventDefault); }

cudaError_t cudaEventDestroy(cudaEvent_t event)
{
    INJECT("cudaEventDestroy");
    if (!live_event(event)) {
        fakegpu_complain("cudaEventDestroy(%p): not an event (destroyed twice?)", (void *)event);
        return fail(cudaErrorInvalidResourceHandle);
    }
    if (event->queued)
        flush(event->stream); /* its pending record runs before the event goes */
    event->magic = 0;
    atomic_fetch_sub(&live_events, 1);
    free(event);
    return cudaSuccess;
}

static int record_now(void *ctx)
{
    struct CUevent_st *e = ctx;
    if (live_event(e)) {
        e->t = now();
        e->recorded = true;
        e->in_capture = false;
        e->queued = false;
    }
    return 0;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream)
{
    INJECT("cudaEventRecord");
    if (!live_event(event))
        return fail(cudaErrorInvalidResourceHandle);
    int device;
    if (fakegpu_stream_device(stream, &device) == cudaSuccess && device != event->device) {
        fakegpu_complain("cudaEventRecord: an event of device %d on a stream of device %d", event->device, device);
        return fail(cudaErrorInvalidResourceHandle);
    }
    bool capturing = !is_default_stream(stream) && live_stream(stream) && stream->capturing;
    cudaError_t e = (cudaError_t)fakegpu_submit(stream, "cudaEventRecord", record_now, event, NULL, NULL, 0,
                                                FAKEGPU_QUEUED);
    if (e == cudaSuccess && capturing)
        event->in_capture = true;
    if (e == cudaSuccess && !capturing) { /* queued until the stream reaches it */
        struct CUstream_st *st = resolve(stream);
        pthread_mutex_lock(&work_lock);
        bool waiting = false;
        for (struct pending *p = st->head; p; p = p->next)
            waiting = waiting || (p->fn == record_now && p->ctx == event);
        event->queued = waiting;
        event->stream = waiting ? st : NULL;
        pthread_mutex_unlock(&work_lock);
    }
    return fail(e);
}

static cudaError_t event_usable(cudaEvent_t e, const char *who)
{
    if (!live_event(e))
        return cudaErrorInvalidResourceHandle;
    if (e->in_capture) {
        fakegpu_complain("%s on an event last recorded in a stream capture", who);
        return cudaErrorStreamCaptureUnsupported;
    }
    return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t event)
{
    INJECT("cudaEventSynchronize");
    cudaError_t e = event_usable(event, "cudaEventSynchronize");
    if (e == cudaSuccess && event->queued)
        flush(event->stream);
    return fail(e);
}

/* A GPU completes the work in time: a poll finds it done (the queue runs). */
cudaError_t cudaEventQuery(cudaEvent_t event) { return cudaEventSynchronize(event); }

cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t start, cudaEvent_t end)
{
    INJECT("cudaEventElapsedTime");
    if (!ms)
        return fail(cudaErrorInvalidValue);
    cudaError_t e = event_usable(start, "cudaEventElapsedTime");
    if (e == cudaSuccess)
        e = event_usable(end, "cudaEventElapsedTime");
    if (e != cudaSuccess)
        return fail(e);
    if (start->queued || end->queued) {
        fakegpu_complain("cudaEventElapsedTime on an event its stream has not reached: nothing waited for it "
                         "(cudaErrorNotReady)");
        return fail(cudaErrorNotReady);
    }
    if (!start->recorded || !end->recorded || (start->flags & cudaEventDisableTiming) ||
        (end->flags & cudaEventDisableTiming))
        return fail(cudaErrorInvalidResourceHandle);
    *ms = (float)((end->t - start->t) * 1e3);
    return cudaSuccess;
}

/* ------------------------------------------------------------------ devices */

static cudaError_t check_device(int device)
{
    int n = devices();
    if (n == 0)
        return cudaErrorNoDevice;
    return device >= 0 && device < n ? cudaSuccess : cudaErrorInvalidDevice;
}

cudaError_t cudaGetDeviceCount(int *count)
{
    INJECT("cudaGetDeviceCount");
    if (!count)
        return fail(cudaErrorInvalidValue);
    *count = devices();
    return *count > 0 ? cudaSuccess : fail(cudaErrorNoDevice);
}

cudaError_t cudaSetDevice(int device)
{
    INJECT("cudaSetDevice");
    cudaError_t e = check_device(device);
    if (e == cudaSuccess)
        current_device = device;
    return fail(e);
}

cudaError_t cudaGetDevice(int *device)
{
    if (!device)
        return fail(cudaErrorInvalidValue);
    if (devices() == 0)
        return fail(cudaErrorNoDevice);
    *device = current_device;
    return cudaSuccess;
}

/* Invented PCI bus of device d (distinct per device; 0x1b for device 0, as the fake NVML's
 * first GPU). */
static int pci_bus(int d) { return 0x1b + 0x10 * physical[d]; }

cudaError_t cudaGetDeviceProperties(struct cudaDeviceProp *prop, int device)
{
    INJECT("cudaGetDeviceProperties");
    if (!prop)
        return fail(cudaErrorInvalidValue);
    cudaError_t e = check_device(device);
    if (e != cudaSuccess)
        return fail(e);
    memset(prop, 0, sizeof *prop);
    snprintf(prop->name, sizeof prop->name, "FAKEGPU (CPU test double)");
    for (int i = 0; i < 16; i++)
        prop->uuid.bytes[i] = (char)(0xf0 + physical[device] + i);
    prop->totalGlobalMem = DEVICE_MEMORY;
    prop->sharedMemPerBlock = 48 * 1024;
    prop->warpSize = 32;
    prop->maxThreadsPerBlock = 1024;
    prop->maxThreadsDim[0] = prop->maxThreadsDim[1] = 1024;
    prop->maxThreadsDim[2] = 64;
    prop->maxGridSize[0] = 0x7fffffff;
    prop->maxGridSize[1] = prop->maxGridSize[2] = 65535;
    prop->major = 9;
    prop->minor = 0;
    prop->multiProcessorCount = 4;
    prop->canMapHostMemory = 1;
    prop->concurrentKernels = 1;
    prop->pciBusID = pci_bus(device);
    prop->pciDeviceID = 0;
    prop->pciDomainID = 0;
    prop->asyncEngineCount = 2;
    prop->unifiedAddressing = 1;
    prop->memoryBusWidth = 1024;
    prop->l2CacheSize = 1 << 20;
    return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int *value, enum cudaDeviceAttr attr, int device)
{
    INJECT("cudaDeviceGetAttribute");
    if (!value)
        return fail(cudaErrorInvalidValue);
    cudaError_t e = check_device(device);
    if (e != cudaSuccess)
        return fail(e);
    switch (attr) {
    case cudaDevAttrMultiProcessorCount: *value = 4; break;
    case cudaDevAttrMemoryClockRate: *value = 1000000; break; /* kHz, invented */
    case cudaDevAttrGlobalMemoryBusWidth: *value = 1024; break;
    case cudaDevAttrMaxThreadsPerBlock: *value = 1024; break;
    case cudaDevAttrWarpSize: *value = 32; break;
    case cudaDevAttrComputeCapabilityMajor: *value = 9; break;
    case cudaDevAttrComputeCapabilityMinor: *value = 0; break;
    case cudaDevAttrPciBusId: *value = pci_bus(device); break;
    case cudaDevAttrPciDeviceId: *value = 0; break;
    case cudaDevAttrPciDomainId: *value = 0; break;
    case cudaDevAttrUnifiedAddressing: *value = 1; break;
    default:
        fakegpu_complain("cudaDeviceGetAttribute: attribute %d is not faked", (int)attr);
        return fail(cudaErrorInvalidValue);
    }
    return cudaSuccess;
}

cudaError_t cudaDeviceGetPCIBusId(char *pciBusId, int len, int device)
{
    INJECT("cudaDeviceGetPCIBusId");
    if (!pciBusId || len <= 0)
        return fail(cudaErrorInvalidValue);
    cudaError_t e = check_device(device);
    if (e != cudaSuccess)
        return fail(e);
    snprintf(pciBusId, (size_t)len, "0000:%02X:00.0", pci_bus(device));
    return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t *free_bytes, size_t *total)
{
    INJECT("cudaMemGetInfo");
    if (!free_bytes || !total)
        return fail(cudaErrorInvalidValue);
    if (devices() == 0)
        return fail(cudaErrorNoDevice);
    pthread_mutex_lock(&table_lock);
    *total = DEVICE_MEMORY;
    *free_bytes = DEVICE_MEMORY - used_bytes[current_device];
    pthread_mutex_unlock(&table_lock);
    return cudaSuccess;
}

cudaError_t cudaRuntimeGetVersion(int *runtimeVersion)
{
    if (!runtimeVersion)
        return fail(cudaErrorInvalidValue);
    *runtimeVersion = CUDART_VERSION;
    return cudaSuccess;
}

cudaError_t cudaDriverGetVersion(int *driverVersion)
{
    if (!driverVersion)
        return fail(cudaErrorInvalidValue);
    *driverVersion = CUDART_VERSION; /* invented: a driver for exactly this runtime */
    return cudaSuccess;
}

cudaError_t cudaGetLastError(void)
{
    cudaError_t e = last_error;
    last_error = cudaSuccess;
    if (e == cudaSuccess && devices() > 0 && sticky[current_device])
        e = sticky[current_device];
    return e;
}

cudaError_t cudaPeekAtLastError(void)
{
    if (last_error == cudaSuccess && devices() > 0 && sticky[current_device])
        return sticky[current_device];
    return last_error;
}

static const struct {
    cudaError_t code;
    const char *name, *text;
} error_texts[] = {
    {cudaSuccess, "cudaSuccess", "no error"},
    {cudaErrorInvalidValue, "cudaErrorInvalidValue", "invalid argument"},
    {cudaErrorMemoryAllocation, "cudaErrorMemoryAllocation", "out of memory"},
    {cudaErrorInitializationError, "cudaErrorInitializationError", "initialization error"},
    {cudaErrorInvalidConfiguration, "cudaErrorInvalidConfiguration", "invalid configuration argument"},
    {cudaErrorInvalidDevicePointer, "cudaErrorInvalidDevicePointer", "invalid device pointer"},
    {cudaErrorInvalidMemcpyDirection, "cudaErrorInvalidMemcpyDirection", "invalid copy direction for memcpy"},
    {cudaErrorInsufficientDriver, "cudaErrorInsufficientDriver",
     "CUDA driver version is insufficient for CUDA runtime version"},
    {cudaErrorInvalidDeviceFunction, "cudaErrorInvalidDeviceFunction", "invalid device function"},
    {cudaErrorNoDevice, "cudaErrorNoDevice", "no CUDA-capable device is detected"},
    {cudaErrorInvalidDevice, "cudaErrorInvalidDevice", "invalid device ordinal"},
    {cudaErrorInvalidResourceHandle, "cudaErrorInvalidResourceHandle", "invalid resource handle"},
    {cudaErrorIllegalState, "cudaErrorIllegalState", "the operation cannot be performed in the present state"},
    {cudaErrorNotReady, "cudaErrorNotReady", "device not ready"},
    {cudaErrorIllegalAddress, "cudaErrorIllegalAddress", "an illegal memory access was encountered"},
    {cudaErrorMisalignedAddress, "cudaErrorMisalignedAddress", "misaligned address"},
    {cudaErrorLaunchFailure, "cudaErrorLaunchFailure", "unspecified launch failure"},
    {cudaErrorStreamCaptureUnsupported, "cudaErrorStreamCaptureUnsupported",
     "operation not permitted when stream is capturing"},
    {cudaErrorStreamCaptureInvalidated, "cudaErrorStreamCaptureInvalidated",
     "operation failed due to a previous error during capture"},
    {cudaErrorStreamCaptureImplicit, "cudaErrorStreamCaptureImplicit",
     "operation would make the legacy stream depend on a capturing blocking stream"},
    {cudaErrorStreamCaptureWrongThread, "cudaErrorStreamCaptureWrongThread",
     "attempt to terminate a thread-local capture sequence from another thread"},
    {cudaErrorUnknown, "cudaErrorUnknown", "unknown error"},
};

const char *cudaGetErrorString(cudaError_t error)
{
    for (size_t i = 0; i < sizeof error_texts / sizeof *error_texts; i++)
        if (error_texts[i].code == error)
            return error_texts[i].text;
    return "unrecognized error code";
}

const char *cudaGetErrorName(cudaError_t error)
{
    for (size_t i = 0; i < sizeof error_texts / sizeof *error_texts; i++)
        if (error_texts[i].code == error)
            return error_texts[i].name;
    return "cudaErrorUnknown";
}

/* ------------------------------------------------------------------ memory */

cudaError_t cudaMalloc(void **devPtr, size_t size)
{
    INJECT("cudaMalloc");
    if (!devPtr)
        return fail(cudaErrorInvalidValue);
    if (devices() == 0)
        return fail(cudaErrorNoDevice);
    cudaError_t e = unsafe_call("cudaMalloc");
    if (e != cudaSuccess)
        return fail(e);
    if (size == 0) {
        *devPtr = NULL;
        return cudaSuccess;
    }
    return fail(map_memory(devPtr, size, current_device));
}

/* cudaFree and cudaFreeHost synchronise the current device: its streams' work completes first. */
cudaError_t cudaFree(void *devPtr)
{
    INJECT("cudaFree");
    if (!devPtr)
        return cudaSuccess;
    flush_many(ALL_OF_DEVICE, current_device, NULL);
    return fail(unmap_memory(devPtr, true, "cudaFree"));
}

cudaError_t cudaMallocHost(void **ptr, size_t size)
{
    INJECT("cudaMallocHost");
    if (!ptr)
        return fail(cudaErrorInvalidValue);
    if (devices() == 0)
        return fail(cudaErrorNoDevice);
    cudaError_t e = unsafe_call("cudaMallocHost");
    if (e != cudaSuccess)
        return fail(e);
    if (size == 0) {
        *ptr = NULL;
        return cudaSuccess;
    }
    return fail(map_memory(ptr, size, -1));
}

cudaError_t cudaHostAlloc(void **pHost, size_t size, unsigned int flags)
{
    (void)flags;
    return cudaMallocHost(pHost, size);
}

cudaError_t cudaFreeHost(void *ptr)
{
    INJECT("cudaFreeHost");
    if (!ptr)
        return cudaSuccess;
    flush_many(ALL_OF_DEVICE, current_device, NULL);
    return fail(unmap_memory(ptr, false, "cudaFreeHost"));
}

static const char *kind_name(int kind)
{
    return kind == FAKEGPU_DEVICE ? "device memory" : kind == FAKEGPU_PINNED ? "pinned host memory"
                                                  : kind == FAKEGPU_BAD    ? "a range past the end of its buffer"
                                                                           : "pageable host memory";
}

static const char *copy_name(enum cudaMemcpyKind k)
{
    static const char *names[] = {"cudaMemcpyHostToHost", "cudaMemcpyHostToDevice", "cudaMemcpyDeviceToHost",
                                  "cudaMemcpyDeviceToDevice", "cudaMemcpyDefault"};
    return (unsigned)k <= cudaMemcpyDefault ? names[k] : "an invalid cudaMemcpyKind";
}

struct copy {
    void *dst;
    const void *src;
    size_t count;
    int value;      /* memset: the byte; copy: -1 */
    void *snapshot; /* a copy from pageable host memory: what it held at the call */
};

static int do_copy(void *ctx)
{
    struct copy *c = ctx;
    fakegpu_open(c->dst);
    if (c->value >= 0) {
        memset(c->dst, c->value, c->count);
    } else {
        const void *src = c->snapshot ? c->snapshot : c->src;
        fakegpu_open(src);
        memmove(c->dst, src, c->count);
        fakegpu_close(src);
    }
    fakegpu_close(c->dst);
    return 0;
}

static void free_copy(void *ctx)
{
    struct copy *c = ctx;
    free(c->snapshot);
    free(c);
}

/* Checks a copy's pointers against its kind; 0 or cudaErrorInvalidValue (with a loud line). */
static cudaError_t check_copy(const char *who, void *dst, const void *src, size_t count, enum cudaMemcpyKind kind)
{
    int ddev, sdev;
    int dk = fakegpu_classify(dst, count, &ddev), sk = fakegpu_classify(src, count, &sdev);
    bool d_dev = dk == FAKEGPU_DEVICE, s_dev = sk == FAKEGPU_DEVICE;
    const char *why = NULL;
    if ((unsigned)kind > cudaMemcpyDefault)
        why = "invalid kind";
    else if (dk == FAKEGPU_BAD || sk == FAKEGPU_BAD)
        why = "the copy runs past the end of a buffer";
    else if (!dst || !src)
        why = "NULL pointer";
    else if ((kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice) && !d_dev)
        why = "the destination is not device memory";
    else if ((kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice) && !s_dev)
        why = "the source is not device memory";
    else if ((kind == cudaMemcpyHostToDevice || kind == cudaMemcpyHostToHost) && s_dev)
        why = "the source is device memory";
    else if ((kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyHostToHost) && d_dev)
        why = "the destination is device memory";
    if (!why)
        return cudaSuccess;
    fakegpu_complain("%s(dst %p = %s, src %p = %s, %zu bytes, %s): %s", who, dst, kind_name(dk), src,
                     kind_name(sk), count, copy_name(kind), why);
    return (unsigned)kind > cudaMemcpyDefault ? cudaErrorInvalidMemcpyDirection : cudaErrorInvalidValue;
}

static cudaError_t check_set(const char *who, void *dst, size_t count)
{
    int dev, k = fakegpu_classify(dst, count, &dev);
    if (k == FAKEGPU_DEVICE)
        return cudaSuccess;
    fakegpu_complain("%s(%p = %s, %zu bytes): not device memory", who, dst, kind_name(k), count);
    return cudaErrorInvalidValue;
}

/* A copy (value < 0) or memset on `stream`, run when CUDA's rules say it completes (see the API
 * synchronisation behaviour in the CUDA documentation): copies to pageable host memory and from
 * pinned host memory to the device, and host-to-host copies, before the call returns; the others
 * (from pageable host memory to the device: once staged, the DMA may still be in flight; device to
 * device; memsets of device memory; anything asynchronous) later, in stream order.  Pageable host
 * memory is read at the call (it is staged then). */
static cudaError_t submit_copy(const char *who, cudaStream_t stream, bool sync_call, void *dst, const void *src,
                               size_t count, int value)
{
    int ddev, sdev;
    int dk = fakegpu_classify(dst, count, &ddev), sk = value >= 0 ? FAKEGPU_DEVICE : fakegpu_classify(src, count, &sdev);
    bool now = dk == FAKEGPU_HOST || (dk == FAKEGPU_PINNED && value < 0 && (sync_call || sk != FAKEGPU_DEVICE)) ||
               (sync_call && value < 0 && sk == FAKEGPU_PINNED && dk == FAKEGPU_DEVICE);
    struct copy *c = calloc(1, sizeof *c);
    if (!c)
        return cudaErrorMemoryAllocation;
    *c = (struct copy){dst, src, count, value, NULL};
    if (value < 0 && sk == FAKEGPU_HOST && !now) {
        if (!(c->snapshot = malloc(count))) {
            free(c);
            return cudaErrorMemoryAllocation;
        }
        memcpy(c->snapshot, src, count);
    }
    struct fakegpu_access acc[2] = {{dst, count, 1}, {value < 0 ? src : NULL, value < 0 ? count : 0, 0}};
    return (cudaError_t)fakegpu_submit(stream, who, do_copy, c, free_copy, acc, 2,
                                       now ? FAKEGPU_NOW : FAKEGPU_QUEUED);
}

cudaError_t cudaMemcpy(void *dst, const void *src, size_t count, enum cudaMemcpyKind kind)
{
    INJECT("cudaMemcpy");
    if (devices() == 0)
        return fail(cudaErrorNoDevice);
    if (count == 0)
        return cudaSuccess;
    cudaError_t e = check_copy("cudaMemcpy", dst, src, count, kind);
    if (e == cudaSuccess)
        e = unsafe_call("cudaMemcpy");
    if (e == cudaSuccess)
        e = sticky[current_device];
    return fail(e != cudaSuccess ? e : submit_copy("cudaMemcpy", NULL, true, dst, src, count, -1));
}

cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t count, enum cudaMemcpyKind kind, cudaStream_t stream)
{
    INJECT("cudaMemcpyAsync");
    if (devices() == 0)
        return fail(cudaErrorNoDevice);
    if (count == 0)
        return cudaSuccess;
    cudaError_t e = check_copy("cudaMemcpyAsync", dst, src, count, kind);
    return fail(e != cudaSuccess ? e : submit_copy("cudaMemcpyAsync", stream, false, dst, src, count, -1));
}

cudaError_t cudaMemset(void *devPtr, int value, size_t count)
{
    INJECT("cudaMemset");
    if (devices() == 0)
        return fail(cudaErrorNoDevice);
    if (count == 0)
        return cudaSuccess;
    cudaError_t e = check_set("cudaMemset", devPtr, count);
    if (e == cudaSuccess)
        e = unsafe_call("cudaMemset");
    if (e == cudaSuccess)
        e = sticky[current_device];
    return fail(e != cudaSuccess ? e : submit_copy("cudaMemset", NULL, true, devPtr, NULL, count, value & 0xff));
}

cudaError_t cudaMemsetAsync(void *devPtr, int value, size_t count, cudaStream_t stream)
{
    INJECT("cudaMemsetAsync");
    if (devices() == 0)
        return fail(cudaErrorNoDevice);
    if (count == 0)
        return cudaSuccess;
    cudaError_t e = check_set("cudaMemsetAsync", devPtr, count);
    return fail(e != cudaSuccess ? e : submit_copy("cudaMemsetAsync", stream, false, devPtr, NULL, count,
                                                   value & 0xff));
}

/* ------------------------------------------------------------------ kernels */

/* The kernels' element conversions (kernels.cu: E::of and E::same; local_kernels.cu: Op::load,
 * Op::store, Op::from_int), on the element at buf[i] of type t. */
static void store_int(enum fakegpu_elem t, void *buf, size_t i, int64_t v)
{
    switch (t) {
    case FG_I8:
    case FG_U8: ((uint8_t *)buf)[i] = (uint8_t)(uint64_t)v; break;
    case FG_I32:
    case FG_U32: ((uint32_t *)buf)[i] = (uint32_t)(uint64_t)v; break;
    case FG_I64:
    case FG_U64: ((uint64_t *)buf)[i] = (uint64_t)v; break;
    case FG_F16: ((uint16_t *)buf)[i] = fakegpu_float_to_half((float)v); break;
    case FG_BF16: ((uint16_t *)buf)[i] = fakegpu_float_to_bf16((float)v); break;
    case FG_F32: ((float *)buf)[i] = (float)v; break;
    default: ((double *)buf)[i] = (double)v; break;
    }
}

/* uint64 -> element (local_kernels.cu's from_int: static_cast<S>(v), or store((float)v)). */
static void store_uint(enum fakegpu_elem t, void *buf, size_t i, uint64_t v)
{
    switch (t) {
    case FG_F16: ((uint16_t *)buf)[i] = fakegpu_float_to_half((float)v); break;
    case FG_BF16: ((uint16_t *)buf)[i] = fakegpu_float_to_bf16((float)v); break;
    case FG_F32: ((float *)buf)[i] = (float)v; break;
    case FG_F64: ((double *)buf)[i] = (double)v; break;
    default: store_int(t, buf, i, (int64_t)v); break;
    }
}

/* Whether buf[i] is exactly what store_int(t, v) stores (floats by value: NaN never equals). */
static bool same_int(enum fakegpu_elem t, const void *buf, size_t i, int64_t v)
{
    switch (t) {
    case FG_I8:
    case FG_U8: return ((const uint8_t *)buf)[i] == (uint8_t)(uint64_t)v;
    case FG_I32:
    case FG_U32: return ((const uint32_t *)buf)[i] == (uint32_t)(uint64_t)v;
    case FG_I64:
    case FG_U64: return ((const uint64_t *)buf)[i] == (uint64_t)v;
    case FG_F16: return ((const uint16_t *)buf)[i] == fakegpu_float_to_half((float)v);
    case FG_BF16: return ((const uint16_t *)buf)[i] == fakegpu_float_to_bf16((float)v);
    case FG_F32: return ((const float *)buf)[i] == (float)v;
    default: return ((const double *)buf)[i] == (double)v;
    }
}

/* One element of the k-buffer sum: accumulated in the type itself (integers wrap as the GPU's
 * do) or, for half and bfloat16, in float and rounded once. */
static void reduce_elem(enum fakegpu_elem t, void *const *in, int k, void *out, size_t i)
{
    switch (t) {
    case FG_I8:
    case FG_U8: {
        uint8_t a = ((const uint8_t *)in[0])[i];
        for (int j = 1; j < k; j++)
            a = (uint8_t)(a + ((const uint8_t *)in[j])[i]);
        ((uint8_t *)out)[i] = a;
        break;
    }
    case FG_I32:
    case FG_U32: {
        uint32_t a = ((const uint32_t *)in[0])[i];
        for (int j = 1; j < k; j++)
            a += ((const uint32_t *)in[j])[i];
        ((uint32_t *)out)[i] = a;
        break;
    }
    case FG_I64:
    case FG_U64: {
        uint64_t a = ((const uint64_t *)in[0])[i];
        for (int j = 1; j < k; j++)
            a += ((const uint64_t *)in[j])[i];
        ((uint64_t *)out)[i] = a;
        break;
    }
    case FG_F16:
    case FG_BF16: {
        bool h = t == FG_F16;
        const uint16_t *s0 = in[0];
        float a = h ? fakegpu_half_to_float(s0[i]) : fakegpu_bf16_to_float(s0[i]);
        for (int j = 1; j < k; j++) {
            uint16_t x = ((const uint16_t *)in[j])[i];
            a += h ? fakegpu_half_to_float(x) : fakegpu_bf16_to_float(x);
        }
        ((uint16_t *)out)[i] = h ? fakegpu_float_to_half(a) : fakegpu_float_to_bf16(a);
        break;
    }
    case FG_F32: {
        float a = ((const float *)in[0])[i];
        for (int j = 1; j < k; j++)
            a += ((const float *)in[j])[i];
        ((float *)out)[i] = a;
        break;
    }
    default: {
        double a = ((const double *)in[0])[i];
        for (int j = 1; j < k; j++)
            a += ((const double *)in[j])[i];
        ((double *)out)[i] = a;
        break;
    }
    }
}

enum kernel_family { K_UNKNOWN, K_FILL, K_COUNT, K_LOCAL_FILL, K_LOCAL_REDUCE };

#define LOCAL_MAX_K 16 /* SB_LOCAL_KERNEL_MAX_K of local_kernels.h */

/* The kernels' parameters, in their order (kernels.cu, local_kernels.cu). */
struct local_ptrs {
    void *in[LOCAL_MAX_K];
    void *out;
};
union kernel_args {
    struct {
        enum sb_pattern_kind kind;
        struct sb_pattern_args a;
        int rank;
        void *buf;
        size_t count;
        unsigned long long *wrong; /* count_kernel only */
    } check;
    struct {
        struct local_ptrs p;
        int k;
        size_t n1; /* fill: count; reduce: n_vec */
        uint64_t n2; /* fill: modulus; reduce: count */
    } local;
};

struct kernel {
    const void *host_fun;
    char name[512];
    enum kernel_family family;
    enum fakegpu_elem elem;
    int vec; /* reduce_kernel's V */
};

#define MAX_KERNELS 256
static struct kernel kernels[MAX_KERNELS];
static int n_kernels;
static pthread_mutex_t kernel_lock = PTHREAD_MUTEX_INITIALIZER;

/* The element type in a mangled template argument: plain_elemIaE / plain_opIaE, half_elem, ... */
static int elem_of(const char *name, enum fakegpu_elem *t)
{
    const char *p = strstr(name, "plain_elemI");
    if (p)
        p += strlen("plain_elemI");
    else if ((p = strstr(name, "plain_opI")) != NULL)
        p += strlen("plain_opI");
    if (p) {
        static const char codes[] = "ahijlmfd";
        static const enum fakegpu_elem of[] = {FG_I8, FG_U8, FG_I32, FG_U32, FG_I64, FG_U64, FG_F32, FG_F64};
        const char *c = *p ? strchr(codes, *p) : NULL;
        if (!c || p[1] != 'E')
            return -1;
        *t = of[c - codes];
        return 0;
    }
    if (strstr(name, "9half_elem") || strstr(name, "7half_op")) {
        *t = FG_F16;
        return 0;
    }
    if (strstr(name, "9bf16_elem") || strstr(name, "7bf16_op")) {
        *t = FG_BF16;
        return 0;
    }
    return -1;
}

/* Which kernel a mangled name is: the harness's fill_kernel and count_kernel (kernels.cu) or
 * sb_local's fill_kernel and reduce_kernel (local_kernels.cu), with their parameter lists. */
static void classify_kernel(struct kernel *k)
{
    const char *n = k->name;
    bool local = strstr(n, "_local_kernels_cu_") != NULL, harness = !local && strstr(n, "_kernels_cu_") != NULL;
    bool check_params = strstr(n, "15sb_pattern_kind15sb_pattern_args") != NULL;
    bool local_params = strstr(n, "4ptrsEimm") != NULL;
    k->family = K_UNKNOWN;
    if (elem_of(n, &k->elem) != 0)
        return;
    if (harness && check_params && strstr(n, "11fill_kernel"))
        k->family = K_FILL;
    else if (harness && check_params && strstr(n, "12count_kernel"))
        k->family = K_COUNT;
    else if (local && local_params && strstr(n, "11fill_kernel"))
        k->family = K_LOCAL_FILL;
    else if (local && local_params && strstr(n, "13reduce_kernel")) {
        const char *v = strstr(n, "ELi");
        k->vec = v ? atoi(v + 3) : 0;
        if (k->vec > 0)
            k->family = K_LOCAL_REDUCE;
    }
}

void **__cudaRegisterFatBinary(void *fatCubin)
{
    void **h = malloc(sizeof *h);
    if (h)
        *h = fatCubin;
    return h;
}

void __cudaRegisterFatBinaryEnd(void **fatCubinHandle) { (void)fatCubinHandle; }

void __cudaUnregisterFatBinary(void **fatCubinHandle) { free(fatCubinHandle); }

void __cudaRegisterFunction(void **fatCubinHandle, const char *hostFun, char *deviceFun, const char *deviceName,
                            int thread_limit, uint3 *tid, uint3 *bid, dim3 *bDim, dim3 *gDim, int *wSize)
{
    (void)fatCubinHandle;
    (void)deviceFun;
    (void)thread_limit;
    (void)tid;
    (void)bid;
    (void)bDim;
    (void)gDim;
    (void)wSize;
    pthread_mutex_lock(&kernel_lock);
    if (n_kernels < MAX_KERNELS) {
        struct kernel *k = &kernels[n_kernels++];
        k->host_fun = hostFun;
        snprintf(k->name, sizeof k->name, "%s", deviceName ? deviceName : "?");
        classify_kernel(k);
    }
    pthread_mutex_unlock(&kernel_lock);
}

cudaError_t __cudaGetKernel(cudaKernel_t *kernel, const void *hostFun)
{
    pthread_mutex_lock(&kernel_lock);
    struct kernel *found = NULL;
    for (int i = 0; i < n_kernels && !found; i++)
        if (kernels[i].host_fun == hostFun)
            found = &kernels[i];
    pthread_mutex_unlock(&kernel_lock);
    if (!found)
        return fail(cudaErrorInvalidDeviceFunction);
    *kernel = (cudaKernel_t)(void *)found;
    return cudaSuccess;
}

struct call_config {
    dim3 grid, block;
    size_t shmem;
    cudaStream_t stream;
};
#define MAX_CONFIGS 16
static _Thread_local struct call_config configs[MAX_CONFIGS];
static _Thread_local int n_configs;

unsigned __cudaPushCallConfiguration(dim3 gridDim, dim3 blockDim, size_t sharedMem, struct CUstream_st *stream)
{
    if (n_configs == MAX_CONFIGS)
        return 1; /* the launch is then skipped */
    configs[n_configs++] = (struct call_config){gridDim, blockDim, sharedMem, stream};
    return 0;
}

cudaError_t __cudaPopCallConfiguration(dim3 *gridDim, dim3 *blockDim, size_t *sharedMem, void *stream)
{
    if (n_configs == 0)
        return cudaErrorInvalidConfiguration;
    struct call_config c = configs[--n_configs];
    *gridDim = c.grid;
    *blockDim = c.block;
    *sharedMem = c.shmem;
    *(cudaStream_t *)stream = c.stream;
    return cudaSuccess;
}

struct launch {
    const struct kernel *k;
    dim3 grid, block;
    int device;
    union kernel_args args;
};

/* Whether [p, p + bytes) is memory of `device` that a kernel on it may use. */
static bool usable(const struct launch *l, const void *p, size_t bytes, const char *what)
{
    if (bytes == 0)
        return true;
    int dev, kind = fakegpu_classify(p, bytes, &dev);
    if (kind == FAKEGPU_PINNED || (kind == FAKEGPU_DEVICE && dev == l->device))
        return true;
    fakegpu_complain("kernel %s on device %d: %s %p (%zu bytes) is %s%s: an illegal memory access", l->k->name,
                     l->device, what, p, bytes, kind == FAKEGPU_DEVICE ? "memory of another device" : kind_name(kind),
                     kind == FAKEGPU_DEVICE ? "" : ", not device memory");
    return false;
}

static int run_check_kernel(struct launch *l)
{
    const struct kernel *k = l->k;
    size_t elem = fakegpu_elem_size(k->elem), count = l->args.check.count;
    void *buf = l->args.check.buf;
    unsigned long long *wrong = l->args.check.wrong;
    if (!usable(l, buf, count * elem, "buffer") ||
        (k->family == K_COUNT && !usable(l, wrong, sizeof *wrong, "counter")))
        return cudaErrorIllegalAddress;
    if (k->family == K_COUNT && l->block.x % 32 != 0) {
        fakegpu_complain("kernel %s: %u threads per block, not a multiple of 32: its full-warp shuffle is undefined",
                         k->name, l->block.x);
        return cudaErrorLaunchFailure;
    }
    fakegpu_open(buf);
    const struct sb_pattern_args *a = &l->args.check.a;
    int rank = l->args.check.rank;
    enum sb_pattern_kind kind = l->args.check.kind;
    if (k->family == K_FILL) {
        for (size_t i = 0; i < count; i++)
            store_int(k->elem, buf, i, sb_pattern_value(kind, a, rank, i, false));
    } else {
        unsigned long long n = 0;
        for (size_t i = 0; i < count; i++)
            n += !same_int(k->elem, buf, i, sb_pattern_value(kind, a, rank, i, true));
        fakegpu_open(wrong);
        *wrong += n; /* atomicAdd */
        fakegpu_close(wrong);
    }
    fakegpu_close(buf);
    return 0;
}

static int run_local_kernel(struct launch *l)
{
    const struct kernel *k = l->k;
    struct local_ptrs *p = &l->args.local.p;
    int nk = l->args.local.k;
    size_t elem = fakegpu_elem_size(k->elem);
    if (nk < 1 || nk > LOCAL_MAX_K) {
        fakegpu_complain("kernel %s: k = %d inputs", k->name, nk);
        return cudaErrorIllegalAddress;
    }
    size_t count = k->family == K_LOCAL_FILL ? l->args.local.n1 : (size_t)l->args.local.n2;
    size_t n_vec = k->family == K_LOCAL_REDUCE ? l->args.local.n1 : 0;
    bool ok = true;
    for (int j = 0; j < nk && ok; j++)
        ok = usable(l, p->in[j], count * elem, "input");
    if (ok && k->family == K_LOCAL_REDUCE)
        ok = usable(l, p->out, count * elem, "output");
    if (!ok)
        return cudaErrorIllegalAddress;
    if (k->family == K_LOCAL_REDUCE && n_vec > 0) {
        bool aligned = (uintptr_t)p->out % 16 == 0;
        for (int j = 0; j < nk; j++)
            aligned = aligned && (uintptr_t)p->in[j] % 16 == 0;
        if (!aligned || (size_t)k->vec * elem != 16 || n_vec * (size_t)k->vec > count) {
            fakegpu_complain("kernel %s: %zu vectors of %d elements over %zu elements, buffers%s 16-byte aligned",
                             k->name, n_vec, k->vec, count, aligned ? "" : " not");
            return aligned ? cudaErrorIllegalAddress : cudaErrorMisalignedAddress;
        }
    }
    for (int j = 0; j < nk; j++)
        fakegpu_open(p->in[j]);
    if (k->family == K_LOCAL_FILL) {
        uint64_t m = l->args.local.n2;
        for (size_t i = 0; i < count; i++)
            for (int j = 0; j < nk; j++)
                store_uint(k->elem, p->in[j], i, ((uint64_t)i + 7u * (uint64_t)j) % m); /* SB_LOCAL_PATTERN */
    } else {
        fakegpu_open(p->out);
        for (size_t i = 0; i < count; i++)
            reduce_elem(k->elem, p->in, nk, p->out, i);
        fakegpu_close(p->out);
    }
    for (int j = 0; j < nk; j++)
        fakegpu_close(p->in[j]);
    return 0;
}

static int run_kernel(void *ctx)
{
    struct launch *l = ctx;
    int rc = l->k->family == K_FILL || l->k->family == K_COUNT ? run_check_kernel(l) : run_local_kernel(l);
    if (rc)
        sticky[l->device] = (cudaError_t)rc; /* an execution error breaks the context, as on a GPU */
    return rc;
}

cudaError_t __cudaLaunchKernel(cudaKernel_t kernel, dim3 gridDim, dim3 blockDim, void **args, size_t sharedMem,
                               cudaStream_t stream)
{
    INJECT("__cudaLaunchKernel");
    const struct kernel *k = (const struct kernel *)(void *)kernel;
    if (!k || k < kernels || k >= kernels + n_kernels)
        return fail(cudaErrorInvalidDeviceFunction);
    if (k->family == K_UNKNOWN) {
        fakegpu_complain("kernel %s: no host implementation in the fake runtime", k->name);
        return fail(cudaErrorInvalidDeviceFunction);
    }
    unsigned long long threads = (unsigned long long)blockDim.x * blockDim.y * blockDim.z;
    if (gridDim.x == 0 || gridDim.y == 0 || gridDim.z == 0 || threads == 0 || threads > 1024 || blockDim.z > 64 ||
        gridDim.y > 65535 || gridDim.z > 65535 || gridDim.x > 0x7fffffffu || sharedMem > 48 * 1024) {
        fakegpu_complain("kernel %s: launch of %u x %u x %u blocks of %u x %u x %u threads, %zu bytes shared: "
                         "invalid configuration", k->name, gridDim.x, gridDim.y, gridDim.z, blockDim.x, blockDim.y,
                         blockDim.z, sharedMem);
        return fail(cudaErrorInvalidConfiguration);
    }
    int device;
    cudaError_t e = (cudaError_t)fakegpu_stream_device(stream, &device);
    if (e == cudaSuccess && device != current_device) {
        fakegpu_complain("kernel %s launched on device %d into a stream of device %d", k->name, current_device,
                         device);
        e = cudaErrorInvalidResourceHandle;
    }
    struct launch *l = e == cudaSuccess ? calloc(1, sizeof *l) : NULL;
    if (e == cudaSuccess && !l)
        e = cudaErrorMemoryAllocation;
    if (e != cudaSuccess)
        return fail(e);
    *l = (struct launch){.k = k, .grid = gridDim, .block = blockDim, .device = device};
    /* the parameters are copied at launch, as CUDA does */
    if (k->family == K_FILL || k->family == K_COUNT) {
        memcpy(&l->args.check.kind, args[0], sizeof l->args.check.kind);
        memcpy(&l->args.check.a, args[1], sizeof l->args.check.a);
        memcpy(&l->args.check.rank, args[2], sizeof l->args.check.rank);
        memcpy(&l->args.check.buf, args[3], sizeof l->args.check.buf);
        memcpy(&l->args.check.count, args[4], sizeof l->args.check.count);
        if (k->family == K_COUNT)
            memcpy(&l->args.check.wrong, args[5], sizeof l->args.check.wrong);
    } else {
        memcpy(&l->args.local.p, args[0], sizeof l->args.local.p);
        memcpy(&l->args.local.k, args[1], sizeof l->args.local.k);
        memcpy(&l->args.local.n1, args[2], sizeof l->args.local.n1);
        memcpy(&l->args.local.n2, args[3], sizeof l->args.local.n2);
    }
    /* what it touches, for the race check: the check kernels' buffer (and counter), sb_local's inputs
     * and output */
    struct fakegpu_access acc[LOCAL_MAX_K + 2];
    int nacc = 0;
    if (k->family == K_FILL || k->family == K_COUNT) {
        acc[nacc++] = (struct fakegpu_access){l->args.check.buf, l->args.check.count * fakegpu_elem_size(k->elem),
                                              k->family == K_FILL};
        if (k->family == K_COUNT)
            acc[nacc++] = (struct fakegpu_access){l->args.check.wrong, sizeof(unsigned long long), 1};
    } else {
        size_t count = k->family == K_LOCAL_FILL ? l->args.local.n1 : (size_t)l->args.local.n2;
        for (int j = 0; j < l->args.local.k && j < LOCAL_MAX_K; j++)
            acc[nacc++] = (struct fakegpu_access){l->args.local.p.in[j], count * fakegpu_elem_size(k->elem),
                                                  k->family == K_LOCAL_FILL};
        if (k->family == K_LOCAL_REDUCE)
            acc[nacc++] = (struct fakegpu_access){l->args.local.p.out, count * fakegpu_elem_size(k->elem), 1};
    }
    e = (cudaError_t)fakegpu_submit(stream, k->name, run_kernel, l, free, acc, nacc, FAKEGPU_QUEUED);
    /* an execution error shows at the next synchronisation (sticky), a launch error here */
    return execution_error(e) ? cudaSuccess : fail(e);
}

/* ------------------------------------------------------------------ at exit */

/* What the program did not free or destroy is said at its exit (a leak the tests can see). */
__attribute__((destructor)) static void report_leaks(void)
{
    size_t dev = 0, dev_bytes = 0, pinned = 0, pinned_bytes = 0;
    int n_streams = 0;
    pthread_mutex_lock(&table_lock);
    for (const struct alloc *a = table; a; a = a->next) {
        if (a->device >= 0) {
            dev++;
            dev_bytes += a->size;
        } else {
            pinned++;
            pinned_bytes += a->size;
        }
    }
    pthread_mutex_unlock(&table_lock);
    pthread_mutex_lock(&stream_lock);
    for (const struct CUstream_st *s = streams; s; s = s->next)
        n_streams++;
    pthread_mutex_unlock(&stream_lock);
    int ev = atomic_load(&live_events), gr = atomic_load(&live_graphs), ex = atomic_load(&live_execs);
    if (dev || pinned || n_streams || ev || gr || ex)
        fakegpu_complain("at exit, not released: %zu cudaMalloc buffer(s) (%zu bytes), %zu cudaMallocHost buffer(s) "
                         "(%zu bytes), %d stream(s), %d event(s), %d graph(s), %d graph exec(s)", dev, dev_bytes,
                         pinned, pinned_bytes, n_streams, ev, gr, ex);
}
