#include "local_bw.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "local_kernels.h"
#include "options.h"
#include "timing.h"

/* ------------------------------------------------------------------ tests and options */

static const char *test_names[SB_LT_COUNT] = {"memcpy", "reduce", "h2d", "d2h", "d2d", "dreduce"};

const char *sb_local_test_name(enum sb_local_test t) { return test_names[t]; }
bool sb_local_test_is_device(enum sb_local_test t) { return t >= SB_LT_H2D; }
bool sb_local_test_is_reduce(enum sb_local_test t) { return t == SB_LT_REDUCE || t == SB_LT_DREDUCE; }

int sb_local_test_parse(const char *name)
{
    for (int t = 0; t < SB_LT_COUNT; t++)
        if (strcasecmp(name, test_names[t]) == 0)
            return t;
    return -1;
}

enum { OPT_TEST = 256, OPT_THREADS, OPT_JSON, OPT_PRECISION, OPT_MAX_TIME, OPT_MIN_ITERS, OPT_MAX_ITERS };

static const struct option long_options[] = {
    {"test", required_argument, NULL, OPT_TEST},
    {"minbytes", required_argument, NULL, 'b'},
    {"maxbytes", required_argument, NULL, 'e'},
    {"stepfactor", required_argument, NULL, 'f'},
    {"datatype", required_argument, NULL, 'd'},
    {"buffers", required_argument, NULL, 'k'},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"json", required_argument, NULL, OPT_JSON},
    {"iters", required_argument, NULL, 'n'},
    {"warmup", required_argument, NULL, 'w'},
    {"precision", required_argument, NULL, OPT_PRECISION},
    {"max-time", required_argument, NULL, OPT_MAX_TIME},
    {"min-iters", required_argument, NULL, OPT_MIN_ITERS},
    {"max-iters", required_argument, NULL, OPT_MAX_ITERS},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

void sb_local_usage(FILE *out)
{
    fprintf(out,
            "Usage: sb_local [options]\n"
            "Single-node bandwidths for the cost model: host memcpy, host reduction of k buffers (the\n"
            "gamma term, \"collective\": \"local\"), and on a CUDA build with a GPU pinned H2D, D2H and D2D\n"
            "copies and the device reduction dreduce (the GPU's gamma; needs a build with nvcc).\n"
            "  --test LIST          memcpy,reduce,h2d,d2h,d2d,dreduce or all (default all; device tests\n"
            "                       are skipped with a note when no GPU can be used)\n"
            "  -b, --minbytes N     smallest buffer (default 1K); -e, --maxbytes N largest (default 64M)\n"
            "  -f, --stepfactor F   multiply the size by F (default 2)\n"
            "  -d, --datatype LIST  reduce, dreduce: %s (default float)\n"
            "  -k, --buffers K      reduce, dreduce: buffers summed, 2..%d (default 2: what the model's gamma means)\n"
            "  --threads N          host threads sharing each call (default 1: per-core bandwidth)\n"
            "  -n, --iters N        fixed iterations (default: adaptive, see --precision, --max-time)\n"
            "  -w, --warmup N       untimed calls first (default 5)\n"
            "  --precision F        adaptive: median 95%% interval half-width target (default 0.02)\n"
            "  --max-time S         adaptive: seconds of iterations per size (default 0.2)\n"
            "  --min-iters N, --max-iters N   adaptive bounds (default 10, 100000)\n"
            "  --json FILE          JSON Lines (scalebench/1); '-' = stdout (the table goes to stderr)\n"
            "  -h, --help; -V, --version\n"
            "Exit: 0 all verified, 1 a wrong or failed point, 2 bad input or nothing to run.\n",
            sb_dtype_names(), SB_LOCAL_MAX_K);
}

static void set_defaults(struct sb_local_options *o)
{
    *o = (struct sb_local_options){
        .tests_all = true, .min_bytes = 1024, .max_bytes = 64u << 20, .step_factor = 2, .k = 2,
        .threads = 1, .warmup = 5, .min_iters = 10, .max_iters = 100000, .precision = 0.02, .max_time = 0.2,
    };
    for (int t = 0; t < SB_LT_COUNT; t++)
        o->tests[t] = true;
    o->dtypes[SB_FLOAT] = true;
}

static int fail(char *err, size_t errlen, const char *what, const char *arg, const char *accepted)
{
    snprintf(err, errlen, "invalid %s '%s': %s", what, arg, accepted);
    return 2;
}


/* "a,b" or "all" into flags; the parser maps a name to an index or -1. */
static int parse_list(const char *arg, int (*one)(const char *), bool *flags, int count, bool *all)
{
    char buf[256];
    if (strlen(arg) >= sizeof buf)
        return -1;
    strcpy(buf, arg);
    memset(flags, 0, sizeof(bool) * (size_t)count);
    *all = false;
    char *save = NULL;
    int any = 0;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save), any = 1) {
        int v = strcasecmp(tok, "all") == 0 ? count : one(tok);
        if (v < 0)
            return -1;
        if (v == count) {
            *all = true;
            for (int i = 0; i < count; i++)
                flags[i] = true;
        } else
            flags[v] = true;
    }
    return any ? 0 : -1;
}


static int parse_one(struct sb_local_options *o, int c, const char *arg, char *err, size_t errlen)
{
    bool all;
    int v;
    switch (c) {
    case OPT_TEST:
        return parse_list(arg, sb_local_test_parse, o->tests, SB_LT_COUNT, &o->tests_all)
                   ? fail(err, errlen, "--test", arg, "accepted: memcpy, reduce, h2d, d2h, d2d, dreduce, all "
                                                           "(or a comma list)")
                   : 0;
    case 'b':
    case 'e':
        if (sb_parse_size(arg, c == 'b' ? &o->min_bytes : &o->max_bytes) != 0 ||
            (c == 'b' ? o->min_bytes : o->max_bytes) == 0)
            return fail(err, errlen, c == 'b' ? "--minbytes" : "--maxbytes", arg,
                        "expected a positive size in bytes like 8, 64K, 1M, 2G");
        return 0;
    case 'f':
        if (sb_parse_int(arg, 2, 1 << 20, &v) != 0)
            return fail(err, errlen, "--stepfactor", arg, "expected an integer >= 2");
        o->step_factor = (size_t)v;
        return 0;
    case 'd':
        return parse_list(arg, sb_dtype_parse, o->dtypes, SB_DTYPE_COUNT, &all)
                   ? fail(err, errlen, "--datatype", arg, "accepted: int8, uint8, int32, uint32, int64, uint64, "
                                                          "half, bfloat16, float, double, all (or a comma list)")
                   : 0;
    case 'k':
        return sb_parse_int(arg, 2, SB_LOCAL_MAX_K, &o->k) ? fail(err, errlen, "--buffers", arg,
                                                                   "expected an integer from 2 to 16") : 0;
    case OPT_THREADS:
        return sb_parse_int(arg, 1, SB_LOCAL_MAX_THREADS, &o->threads)
                   ? fail(err, errlen, "--threads", arg, "expected an integer from 1 to 1024") : 0;
    case 'n':
        return sb_parse_int(arg, 1, 100000000, &o->iters) ? fail(err, errlen, "--iters", arg,
                                                                  "expected an integer from 1 to 100000000") : 0;
    case 'w':
        return sb_parse_int(arg, 0, 100000000, &o->warmup) ? fail(err, errlen, "--warmup", arg,
                                                                   "expected an integer >= 0") : 0;
    case OPT_MIN_ITERS:
    case OPT_MAX_ITERS:
        return sb_parse_int(arg, 1, 100000000, c == OPT_MIN_ITERS ? &o->min_iters : &o->max_iters)
                   ? fail(err, errlen, c == OPT_MIN_ITERS ? "--min-iters" : "--max-iters", arg,
                          "expected a positive integer") : 0;
    case OPT_PRECISION:
        return sb_parse_double(arg, 1e-6, 1.0, &o->precision) ? fail(err, errlen, "--precision", arg,
                                                                  "expected a fraction in (0, 1], e.g. 0.02") : 0;
    case OPT_MAX_TIME:
        return sb_parse_double(arg, 1e-3, 86400, &o->max_time) ? fail(err, errlen, "--max-time", arg,
                                                                   "expected seconds in [0.001, 86400]") : 0;
    case OPT_JSON:
        o->json_path = arg;
        return 0;
    default:
        return 2;
    }
}

int sb_local_parse(struct sb_local_options *o, int argc, char **argv, char *err, size_t errlen)
{
    set_defaults(o);
    opterr = 0;
    optind = 1; /* callable more than once (tests) */
    int c;
    bool iters_given = false, adaptive_given = false;
    while ((c = getopt_long(argc, argv, ":b:e:f:d:k:n:w:hV", long_options, NULL)) != -1) {
        iters_given |= c == 'n';
        adaptive_given |= c == OPT_PRECISION || c == OPT_MAX_TIME || c == OPT_MIN_ITERS || c == OPT_MAX_ITERS;
        if (c == 'h' || c == 'V') {
            *(c == 'h' ? &o->help : &o->version) = true;
            continue;
        }
        if (c == '?' || c == ':') {
            snprintf(err, errlen, "%s option '%s' (see --help)", c == ':' ? "missing value for" : "unknown",
                     argv[optind - 1]);
            return 2;
        }
        if (parse_one(o, c, optarg, err, errlen) != 0)
            return 2;
    }
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument '%s' (see --help)", argv[optind]);
        return 2;
    }
    if (iters_given && adaptive_given) {
        snprintf(err, errlen, "-n fixes the iteration count: it does not go with --precision, --max-time, "
                              "--min-iters or --max-iters (the adaptive count)");
        return 2;
    }
    if (o->min_bytes > o->max_bytes) {
        snprintf(err, errlen, "--minbytes %zu is larger than --maxbytes %zu", o->min_bytes, o->max_bytes);
        return 2;
    }
    if (o->min_iters > o->max_iters) {
        snprintf(err, errlen, "--min-iters %d is larger than --max-iters %d", o->min_iters, o->max_iters);
        return 2;
    }
    return 0;
}

/* ------------------------------------------------------------------ thread pool */

/* Persistent workers that spin (yielding) on a generation counter, so a call costs a few cache
 * line transfers, not thread creations or futex wake-ups (tens of us, which would dominate the
 * small sizes).  The caller runs chunk 0 itself.  Workers keep their cores busy while idle:
 * --threads should not exceed the free cores. */
typedef void (*sb_lwork_fn)(void *ctx, int id, int n);

struct sb_lworker {
    struct sb_lpool *pool;
    int id;
};

struct sb_lpool {
    int n;
    pthread_t *tids;
    struct sb_lworker *args;
    sb_lwork_fn fn;
    void *ctx;
    atomic_uint gen;     /* bumped (release) to start a call; fn and ctx are then visible */
    atomic_int pending;  /* workers still running the current call */
    atomic_bool quit;
};

static void spin_pause(unsigned *spins)
{
    if (++*spins % 256 == 0)
        sched_yield(); /* let an oversubscribed core's other threads run */
}

static void *worker_main(void *arg)
{
    struct sb_lworker *w = arg;
    struct sb_lpool *p = w->pool;
    unsigned seen = 0, spins = 0;
    for (;;) {
        unsigned g;
        while ((g = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen)
            spin_pause(&spins);
        seen = g;
        if (atomic_load(&p->quit))
            return NULL;
        p->fn(p->ctx, w->id, p->n);
        atomic_fetch_sub_explicit(&p->pending, 1, memory_order_release);
    }
}

static void pool_run(struct sb_lpool *p, sb_lwork_fn fn, void *ctx)
{
    if (!p || p->n == 1) {
        fn(ctx, 0, 1);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    atomic_store_explicit(&p->pending, p->n - 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
    fn(ctx, 0, p->n);
    unsigned spins = 0;
    while (atomic_load_explicit(&p->pending, memory_order_acquire) > 0)
        spin_pause(&spins);
}

struct sb_lpool *sb_lpool_create(int threads)
{
    struct sb_lpool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->n = 1; /* until the workers exist */
    p->tids = calloc((size_t)threads, sizeof *p->tids);
    p->args = calloc((size_t)threads, sizeof *p->args);
    if (!p->tids || !p->args) {
        sb_lpool_destroy(p);
        return NULL;
    }
    for (int i = 1; i < threads; i++) {
        p->args[i] = (struct sb_lworker){p, i};
        if (pthread_create(&p->tids[i], NULL, worker_main, &p->args[i]) != 0) {
            sb_lpool_destroy(p);
            return NULL;
        }
        p->n = i + 1;
    }
    return p;
}

void sb_lpool_destroy(struct sb_lpool *p)
{
    if (!p)
        return;
    if (p->n > 1) {
        atomic_store(&p->quit, true);
        atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
        for (int i = 1; i < p->n; i++)
            pthread_join(p->tids[i], NULL);
    }
    free(p->tids);
    free(p->args);
    free(p);
}

/* Thread id's share of count elements, in whole cache lines (align elements) so no two
 * threads write one line. */
static void chunk(size_t count, size_t align, int id, int n, size_t *lo, size_t *hi)
{
    size_t per = (count + (size_t)n - 1) / (size_t)n;
    per = (per + align - 1) / align * align;
    *lo = (size_t)id * per < count ? (size_t)id * per : count;
    *hi = *lo + per < count ? *lo + per : count;
}

/* ------------------------------------------------------------------ kernels */

/* Values stay below exact_max / k, so every partial sum is an exactly representable integer
 * in every type (fp16 up to 2048, bf16 up to 256): the check can be exact. */
uint64_t sb_local_modulus(enum sb_dtype t, int k)
{
    int64_t m = sb_dtype_exact_max(t) / k;
    return m > 65521 ? 65521 : (uint64_t)m;
}

int64_t sb_local_value(enum sb_dtype t, int k, int j, size_t i)
{
    return (int64_t)SB_LOCAL_PATTERN(i, j, sb_local_modulus(t, k));
}

int64_t sb_local_expected(enum sb_dtype t, int k, size_t i)
{
    int64_t s = 0;
    for (int j = 0; j < k; j++)
        s += sb_local_value(t, k, j, i);
    return s;
}

/* Block-wise: out = in0 + in1 over a block that stays in L1, then out += in_j; each input is
 * read once and out written once, and the inner loops vectorise. */
#define SB_BLOCK 2048
#define DEFINE_REDUCE(name, T)                                                                   \
    static void name(void *out, void *const *in, int k, size_t lo, size_t hi)                   \
    {                                                                                            \
        T *restrict o = out;                                                                     \
        for (size_t b = lo; b < hi; b += SB_BLOCK) {                                             \
            size_t e = b + SB_BLOCK < hi ? b + SB_BLOCK : hi;                                    \
            const T *restrict x = in[0], *restrict y = in[1];                                    \
            for (size_t i = b; i < e; i++)                                                       \
                o[i] = (T)(x[i] + y[i]);                                                         \
            for (int j = 2; j < k; j++) {                                                        \
                const T *restrict z = in[j];                                                     \
                for (size_t i = b; i < e; i++)                                                   \
                    o[i] = (T)(o[i] + z[i]);                                                     \
            }                                                                                    \
        }                                                                                        \
    }

DEFINE_REDUCE(reduce_i8, int8_t)
DEFINE_REDUCE(reduce_u8, uint8_t)
DEFINE_REDUCE(reduce_i32, int32_t)
DEFINE_REDUCE(reduce_u32, uint32_t)
DEFINE_REDUCE(reduce_i64, int64_t)
DEFINE_REDUCE(reduce_u64, uint64_t)
DEFINE_REDUCE(reduce_f32, float)
DEFINE_REDUCE(reduce_f64, double)

/* fp16 / bf16 have no C type: summed in float (dtype.h conversions), rounded once per element. */
static void reduce_16(bool half, uint16_t *o, void *const *in, int k, size_t lo, size_t hi)
{
    float acc[SB_BLOCK];
    for (size_t b = lo; b < hi; b += SB_BLOCK) {
        size_t e = b + SB_BLOCK < hi ? b + SB_BLOCK : hi;
        for (size_t i = b; i < e; i++)
            acc[i - b] = 0;
        for (int j = 0; j < k; j++) {
            const uint16_t *x = in[j];
            for (size_t i = b; i < e; i++)
                acc[i - b] += half ? sb_half_to_float(x[i]) : sb_bf16_to_float(x[i]);
        }
        for (size_t i = b; i < e; i++)
            o[i] = half ? sb_float_to_half(acc[i - b]) : sb_float_to_bf16(acc[i - b]);
    }
}

void sb_local_reduce(enum sb_dtype t, void *out, void *const *in, int k, size_t lo, size_t hi)
{
    switch (t) {
    case SB_INT8: reduce_i8(out, in, k, lo, hi); break;
    case SB_UINT8: reduce_u8(out, in, k, lo, hi); break;
    case SB_INT32: reduce_i32(out, in, k, lo, hi); break;
    case SB_UINT32: reduce_u32(out, in, k, lo, hi); break;
    case SB_INT64: reduce_i64(out, in, k, lo, hi); break;
    case SB_UINT64: reduce_u64(out, in, k, lo, hi); break;
    case SB_HALF: reduce_16(true, out, in, k, lo, hi); break;
    case SB_BFLOAT16: reduce_16(false, out, in, k, lo, hi); break;
    case SB_FLOAT: reduce_f32(out, in, k, lo, hi); break;
    case SB_DOUBLE: reduce_f64(out, in, k, lo, hi); break;
    default: break;
    }
}

static size_t elem_size(const struct sb_local_buf *b)
{
    return sb_local_test_is_reduce(b->test) ? sb_dtype_size(b->dtype) : 1;
}

static void work_call(void *ctx, int id, int n)
{
    struct sb_local_buf *b = ctx;
    size_t lo, hi, es = elem_size(b);
    chunk(b->count, 64 / es, id, n, &lo, &hi);
    if (b->test == SB_LT_REDUCE)
        sb_local_reduce(b->dtype, b->out, b->in, b->k, lo, hi);
    else if (hi > lo)
        memcpy((char *)b->out + lo, (const char *)b->in[0] + lo, hi - lo);
}

/* The byte pattern of a copy's source; 0xff never occurs (it is the poison). */
static uint8_t copy_byte(size_t i) { return (uint8_t)(i % 251); }

static void work_fill(void *ctx, int id, int n)
{
    struct sb_local_buf *b = ctx;
    size_t lo, hi, es = elem_size(b);
    chunk(b->count, 64 / es, id, n, &lo, &hi);
    memset((char *)b->out + lo * es, 0, (hi - lo) * es);
    for (size_t i = lo; i < hi; i++) {
        if (b->test != SB_LT_REDUCE)
            ((uint8_t *)b->in[0])[i] = copy_byte(i);
        else
            for (int j = 0; j < b->k; j++)
                sb_dtype_store(b->dtype, b->in[j], i, sb_local_value(b->dtype, b->k, j, i));
    }
}

int sb_local_buf_init(struct sb_local_buf *b, enum sb_local_test t, enum sb_dtype dtype, int k, size_t bytes,
                      struct sb_lpool *pool)
{
    memset(b, 0, sizeof *b);
    b->test = t;
    b->dtype = dtype;
    b->k = sb_local_test_is_reduce(t) ? k : 1;
    b->pool = pool;
    size_t es = elem_size(b);
    b->count = bytes / es;
    b->bytes = b->count * es;
    if (sb_local_test_is_device(t))
        return 0; /* the caller goes on with sb_local_gpu_init */
    size_t alloc = (b->bytes + 4095) / 4096 * 4096;
    if (alloc == 0)
        alloc = 4096;
    for (int j = 0; j < b->k; j++)
        if (!(b->in[j] = aligned_alloc(4096, alloc)))
            goto oom;
    if (!(b->out = aligned_alloc(4096, alloc)))
        goto oom;
    pool_run(pool, work_fill, b); /* first touch by the threads that will use each chunk */
    return 0;
oom:
    sb_local_buf_free(b);
    return -1;
}

void sb_local_buf_free(struct sb_local_buf *b)
{
    if (b->gpu) {
        sb_local_gpu_free(b);
        return;
    }
    for (int j = 0; j < SB_LOCAL_MAX_K; j++)
        free(b->in[j]);
    free(b->out);
    memset(b->in, 0, sizeof b->in);
    b->out = NULL;
}

int sb_local_run(struct sb_local_buf *b)
{
    if (sb_local_test_is_device(b->test))
        return sb_local_gpu_run(b);
    pool_run(b->pool, work_call, b);
    return 0;
}

int64_t sb_local_verify(struct sb_local_buf *b)
{
    if (sb_local_test_is_device(b->test))
        return sb_local_gpu_verify(b);
    memset(b->out, 0xff, b->bytes);
    sb_local_run(b);
    int64_t wrong = 0;
    for (size_t i = 0; i < b->count; i++) {
        if (b->test == SB_LT_REDUCE)
            wrong += !sb_dtype_equals(b->dtype, b->out, i, sb_local_expected(b->dtype, b->k, i));
        else
            wrong += ((const uint8_t *)b->out)[i] != copy_byte(i);
    }
    return wrong;
}

double sb_local_gbps(size_t bytes, double time_us)
{
    return time_us > 0 ? (double)bytes / (time_us * 1e-6) / 1e9 : 0.0;
}

/* ------------------------------------------------------------------ timing */

static int grow(double **a, size_t need)
{
    double *p = realloc(*a, need * sizeof **a);
    if (!p)
        return -1;
    *a = p;
    return 0;
}

/* The harness' rule (timing.c): stop at the precision (after min_iters), the iteration cap or
 * the time budget; else double the sample, within what is left. */
static size_t next_batch(const struct sb_local_options *o, struct sb_local_timing *t, double *scratch, double spent)
{
    if (o->iters > 0)
        return 0;
    sb_stats_compute(t->samples_us, t->n, scratch, &t->stats);
    t->precision_reached = sb_stats_relative_ci(&t->stats) <= o->precision;
    if ((t->precision_reached && t->n >= (size_t)o->min_iters) || t->n >= (size_t)o->max_iters ||
        spent >= o->max_time)
        return 0;
    size_t want = t->n, cap = (size_t)o->max_iters - t->n;
    double per_iter = spent / (double)t->n;
    double fits = per_iter > 0 ? (o->max_time - spent) / per_iter : (double)want;
    if (fits < (double)want)
        want = fits < 1 ? 1 : (size_t)fits;
    return want < cap ? want : cap;
}

int sb_local_time(struct sb_local_buf *b, const struct sb_local_options *o, struct sb_local_timing *out)
{
    memset(out, 0, sizeof *out);
    for (int w = 0; w < o->warmup; w++) {
        int rc = sb_local_run(b);
        if (rc && !out->error)
            out->error = rc;
    }
    size_t batch = o->iters > 0 ? (size_t)o->iters : (size_t)o->min_iters;
    double *scratch = NULL, spent = 0;
    int rc = 0;
    while (batch > 0 && rc == 0) {
        size_t need = out->n + batch;
        if (grow(&out->samples_us, need) || grow(&scratch, need)) {
            rc = -1;
            break;
        }
        double start = sb_now();
        for (size_t i = out->n; i < need; i++) {
            double t0 = sb_now();
            int e = sb_local_run(b);
            out->samples_us[i] = (sb_now() - t0) * 1e6;
            if (e && !out->error)
                out->error = e;
        }
        spent += sb_now() - start;
        out->n = need;
        batch = next_batch(o, out, scratch, spent);
    }
    if (rc == 0) {
        sb_stats_compute(out->samples_us, out->n, scratch, &out->stats);
        out->precision_reached = sb_stats_relative_ci(&out->stats) <= o->precision;
    }
    free(scratch);
    return rc;
}

void sb_local_timing_free(struct sb_local_timing *t)
{
    free(t->samples_us);
    t->samples_us = NULL;
}

/* ------------------------------------------------------------------ no CUDA in this build */
#ifndef SB_HAVE_CUDA
int sb_local_gpu_probe(char *name, size_t namelen, char *why, size_t whylen)
{
    snprintf(name, namelen, "none");
    snprintf(why, whylen, "this build has no CUDA support (configure found no CUDA toolkit)");
    return -1;
}
double sb_local_gpu_dram_gbps(void) { return 0; }
int sb_local_gpu_init(struct sb_local_buf *b, char *err, size_t errlen)
{
    (void)b;
    snprintf(err, errlen, "this build has no CUDA support");
    return -1;
}
int sb_local_gpu_run(struct sb_local_buf *b) { (void)b; return 1; }
int64_t sb_local_gpu_verify(struct sb_local_buf *b) { return (int64_t)b->bytes; }
void sb_local_gpu_free(struct sb_local_buf *b) { b->gpu = NULL; }
#endif
