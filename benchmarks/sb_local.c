/* sb_local: single-node bandwidths for the cost model (kernels in common/local_bw.c; device
 * reduction kernels in common/local_kernels.cu).  bytes = ONE buffer's size; bandwidth = bytes /
 * median time: a copy's one-way size, and for a reduction (host or device) the reduced vector
 * (what the model's gamma, us per reduced byte, means). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "gpuinfo.h"
#include "local_bw.h"
#include "report.h"
#include "revision.h"
#include "stdout_status.h"
#include "sysinfo.h"
#include "topo.h"

struct run {
    const struct sb_local_options *o;
    FILE *table, *json;
    struct sb_lpool *pool;
    char gpu_name[256], gpu_why[256];
    double gpu_peak;  /* DRAM, from the memory clock and bus width */
    double pcie_peak; /* device 0's PCIe link, one way (NVML), 0 when unknown */
    int points, failed;
    int64_t wrong_total;
    uint64_t host_budget; /* 80% of MemAvailable at the start (0: unknown), for the host tests */
    const char *json_path;
    bool write_failed; /* a record could not be written (said once on stderr): exit 2 */
};

static void write_failed(struct run *r)
{
    if (!r->write_failed)
        fprintf(stderr, "sb_local: cannot write --json '%s': %s (the records from here on are lost)\n", r->json_path,
                strerror(errno ? errno : EIO));
    r->write_failed = true;
}

/* Each record is flushed as it is made, so a crash loses nothing; a failed write (a full
 * disk) is reported, never passed over. */
static void emit(struct run *r, json_t *obj)
{
    if (r->json) {
        errno = 0;
        int failed = json_dumpf(obj, r->json, JSON_COMPACT | JSON_REAL_PRECISION(9)) != 0;
        failed |= fputc('\n', r->json) == EOF;
        failed |= fflush(r->json) != 0;
        if (failed)
            write_failed(r);
    }
    json_decref(obj);
}

static json_t *options_json(const struct sb_local_options *o)
{
    json_t *dt = json_array(), *tests = json_array();
    for (int t = 0; t < SB_DTYPE_COUNT; t++)
        if (o->dtypes[t])
            json_array_append_new(dt, json_string(sb_dtype_name(t)));
    for (int t = 0; t < SB_LT_COUNT; t++)
        if (o->tests[t])
            json_array_append_new(tests, json_string(sb_local_test_name(t)));
    return json_pack("{s:o, s:I, s:I, s:I, s:o, s:i, s:i, s:i, s:i, s:f, s:f, s:i, s:i}", "tests", tests, "minbytes",
                     (json_int_t)o->min_bytes, "maxbytes", (json_int_t)o->max_bytes, "stepfactor",
                     (json_int_t)o->step_factor, "datatypes", dt, "buffers", o->k, "threads", o->threads, "iters",
                     o->iters, "warmup", o->warmup, "precision", o->precision, "max_time_s", o->max_time,
                     "min_iters", o->min_iters, "max_iters", o->max_iters);
}

/* The last-level cache above the core this runs on (hwloc), as {"level", "bytes"}, or null:
 * reductions whose (k+1) x bytes stay inside it time the cache, not DRAM. */
static json_t *last_level_cache(char *line, size_t len)
{
    struct sb_topo *t;
    char err[256];
    unsigned long long bytes = 0;
    int level = 0;
    if (sb_topo_open(&t, NULL, err, sizeof err) == 0) {
        bytes = sb_topo_llc_bytes(t, &level);
        sb_topo_close(t);
    }
    if (!bytes) {
        snprintf(line, len, "not reported by hwloc");
        return json_null();
    }
    snprintf(line, len, "L%d, %.4g MiB (hwloc)", level, bytes / 1048576.0);
    return json_pack("{s:i, s:I}", "level", level, "bytes", (json_int_t)bytes);
}

static void header(struct run *r, int argc, char **argv, bool gpu_ok)
{
    char host[256], cpu[256], now[64], cmd[4096] = "";
    sb_host_name(host, sizeof host);
    sb_cpu_model(cpu, sizeof cpu);
    sb_utc_now(now, sizeof now);
    for (int i = 0; i < argc; i++)
        snprintf(cmd + strlen(cmd), sizeof cmd - strlen(cmd), "%s%s", i ? " " : "", argv[i]);
    const char *no_reduce = sb_local_dreduce_absent(); /* whether this build has the kernels */
    json_t *gpu = gpu_ok ? json_pack("{s:b, s:s, s:f}", "available", 1, "name", r->gpu_name, "dram_peak_gbps",
                                     r->gpu_peak)
                         : json_pack("{s:b, s:s}", "available", 0, "why", r->gpu_why);
    json_object_set_new(gpu, "device_reduce", json_boolean(no_reduce == NULL));
    if (no_reduce)
        json_object_set_new(gpu, "device_reduce_why", json_string(no_reduce));
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "schema", SB_SCHEMA,
                          "type", "run", "benchmark", "sb_local", "collective", "local", "version", PACKAGE_VERSION,
                          "git_revision", SB_GIT_REVISION, "host", host, "cpu_model", cpu, "command_line", cmd,
                          "start_time", now, "timer", "CLOCK_MONOTONIC", "gpu", gpu, "options", options_json(r->o));
    json_t *gpus = sb_gpuinfo_json();
    r->pcie_peak = sb_gpuinfo_pcie_peak(gpus, 0);
    char gpus_line[1024];
    sb_gpuinfo_summary(gpus, gpus_line, sizeof gpus_line);
    json_object_set_new(o, "gpus", gpus);
    json_t *env = sb_tuning_environment();
    char env_line[2048];
    sb_environment_summary(env, env_line, sizeof env_line);
    json_object_set_new(o, "environment", env);
    json_t *job = sb_batch_job();
    char job_line[512];
    sb_batch_job_summary(job, job_line, sizeof job_line);
    json_object_set_new(o, "batch_job", job);
    char llc_line[128];
    json_object_set_new(o, "last_level_cache", last_level_cache(llc_line, sizeof llc_line));
    emit(r, o);
    fprintf(r->table, "# scalebench %s sb_local on %s; CPU: %s; %d host thread(s)\n", PACKAGE_VERSION, host, cpu,
            r->o->threads);
    fprintf(r->table, "# GPU: %s\n", gpu_ok ? r->gpu_name : r->gpu_why);
    fprintf(r->table, "# GPUs: %s\n", gpus_line);
    if (job_line[0])
        fprintf(r->table, "# Batch job: %s\n", job_line);
    if (env_line[0])
        fprintf(r->table, "# Environment: %s\n", env_line);
    fprintf(r->table, "# Last-level cache: %s; host sizes whose buffers fit in it time the cache, not DRAM\n",
            llc_line);
    if (gpu_ok && no_reduce)
        fprintf(r->table, "# note: no device reduction (dreduce): %s\n", no_reduce);
    fprintf(r->table, "# bytes = one buffer; GB/s = bytes / median time (G = 1e9): a copy's one-way size; for\n"
                      "#   reduce and dreduce (out = in1 + ... + ink, k = %d; host, device) the reduced vector:\n"
                      "#   memory traffic is (k+1) x bytes.  Device: host clock around the call + synchronise.\n"
                      "# wrong = elements (reductions) or bytes (copies) differing, checked in an untimed call.\n",
            r->o->k);
}

static void table_heading(struct run *r, enum sb_local_test t, const char *dtype, const char *memory)
{
    fprintf(r->table, "#\n# %s, dtype %s, %s memory\n# %10s %8s %9s %9s %9s %9s %9s %9s %8s\n",
            sb_local_test_name(t), dtype, memory, "size(B)", "iters", "min_us", "median_us", "mean_us", "p99_us",
            "max_us", "GB/s", "wrong");
}

static const char *memory_of(enum sb_local_test t)
{
    if (t == SB_LT_MEMCPY || t == SB_LT_REDUCE)
        return "host";
    return t == SB_LT_D2D || t == SB_LT_DREDUCE ? "device" : "pinned";
}

static json_t *record(struct run *r, const struct sb_local_buf *b, const struct sb_local_timing *tm, int64_t wrong,
                      const char *error)
{
    const struct sb_stats *s = &tm->stats;
    bool red = sb_local_test_is_reduce(b->test);
    /* the nominal peak where known: DRAM for device copies and reductions, PCIe for h2d/d2h */
    double peak = b->test == SB_LT_D2D || b->test == SB_LT_DREDUCE ? r->gpu_peak
                  : b->test == SB_LT_H2D || b->test == SB_LT_D2H ? r->pcie_peak : 0;
    json_t *time = json_pack("{s:f, s:f, s:f, s:f, s:f, s:f}", "min", s->min, "median", s->median, "mean", s->mean,
                             "p99", s->p99, "max", s->max, "stddev", s->stddev);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:i, s:i, s:i, s:I, s:I, s:i, s:i}", "schema",
                          SB_SCHEMA, "type", "result", "test", sb_local_test_name(b->test), "collective",
                          red ? "local" : sb_local_test_name(b->test), "backend",
                          sb_local_test_is_device(b->test) ? "cuda" : "host", "memory", memory_of(b->test), "dtype",
                          red ? sb_dtype_name(b->dtype) : "none", "op", red ? "sum" : "none", "in_place", 0, "ranks",
                          1, "nodes", 1, "ranks_per_node", 1, "bytes", (json_int_t)b->bytes, "count",
                          (json_int_t)b->count, "buffers", b->k, "threads", r->o->threads);
    json_object_set_new(o, "memory_traffic_bytes", json_integer((json_int_t)(b->bytes * (size_t)(b->k + 1))));
    json_object_set_new(o, "iterations", json_integer((json_int_t)tm->n));
    json_object_set_new(o, "warmup", json_integer(r->o->warmup));
    json_object_set_new(o, "precision_reached", json_boolean(tm->precision_reached));
    json_object_set_new(o, "time_us", time);
    json_object_set_new(o, "bandwidth_gbps", json_real(sb_local_gbps(b->bytes, s->median)));
    json_object_set_new(o, "wrong", json_integer(wrong));
    json_object_set_new(o, "nominal_peak_gbps", peak > 0 ? json_real(peak) : json_null());
    json_object_set_new(o, "timing", json_string("one call (copy, or reduction; device: copy or one reduction "
                                                 "kernel launch, + synchronise), CLOCK_MONOTONIC around it"));
    json_object_set_new(o, "error", error ? json_string(error) : json_null());
    return o;
}

/* One (test, dtype, size) point: set up, time, verify, report. */
static void point(struct run *r, enum sb_local_test t, enum sb_dtype dt, size_t size)
{
    struct sb_local_buf b;
    struct sb_local_timing tm = {0};
    char err[256] = "";
    int64_t wrong = -1;
    int rc = sb_local_buf_init(&b, t, dt, r->o->k, size, r->pool);
    if (rc == 0 && sb_local_test_is_device(t))
        rc = sb_local_gpu_init(&b, err, sizeof err);
    else if (rc != 0)
        snprintf(err, sizeof err, "cannot allocate %d buffers of %zu bytes", b.k + 1, size);
    if (rc == 0 && sb_local_time(&b, r->o, &tm) != 0)
        snprintf(err, sizeof err, "out of memory for the timing samples"), rc = -1;
    if (rc == 0 && tm.error)
        snprintf(err, sizeof err, "a timed call failed"), rc = -1;
    if (rc == 0)
        wrong = sb_local_verify(&b);
    r->points++;
    r->failed += rc != 0;
    r->wrong_total += wrong > 0 ? wrong : 0;
    if (rc == 0)
        fprintf(r->table, "  %10zu %8zu %9.2f %9.2f %9.2f %9.2f %9.2f %9.3f %8lld\n", b.bytes, tm.n, tm.stats.min,
                tm.stats.median, tm.stats.mean, tm.stats.p99, tm.stats.max, sb_local_gbps(b.bytes, tm.stats.median),
                (long long)wrong);
    else
        fprintf(r->table, "  %10zu failed: %s\n", b.bytes, err);
    fflush(r->table);
    emit(r, record(r, &b, &tm, wrong, rc ? err : NULL));
    sb_local_timing_free(&tm);
    sb_local_buf_free(&b);
}

/* Whether size s is measured; a size that is not, or is rounded down, gets a note. */
static bool size_fits(struct run *r, enum sb_local_test t, size_t s, size_t es)
{
    size_t bytes = s / es * es;
    int buffers = (sb_local_test_is_reduce(t) ? r->o->k : 1) + 1;
    if (bytes == 0) {
        fprintf(r->table, "# note: size %zu skipped: smaller than one %zu-byte element\n", s, es);
        return false;
    }
    /* host buffers are touched as they are allocated: one too many for the memory would be
     * the OOM killer's, not a failed point (device tests fail cleanly in cudaMalloc*) */
    if (!sb_local_test_is_device(t) && r->host_budget &&
        (bytes > r->host_budget / (uint64_t)buffers)) {
        fprintf(r->table, "# note: size %zu skipped: %d buffers of it need more than the %llu bytes available "
                          "(80%% of MemAvailable)\n", s, buffers, (unsigned long long)r->host_budget);
        return false;
    }
    if (bytes != s)
        fprintf(r->table, "# note: size %zu rounded down to %zu bytes (whole %zu-byte elements)\n", s, bytes, es);
    return true;
}

static void sweep(struct run *r, enum sb_local_test t, enum sb_dtype dt)
{
    bool red = sb_local_test_is_reduce(t);
    table_heading(r, t, red ? sb_dtype_name(dt) : "none", memory_of(t));
    for (size_t s = r->o->min_bytes; s <= r->o->max_bytes; s *= r->o->step_factor) {
        size_t es = red ? sb_dtype_size(dt) : 1;
        if (size_fits(r, t, s, es))
            point(r, t, dt, s);
        if (s > r->o->max_bytes / r->o->step_factor)
            break;
    }
}

/* Device tests that cannot run: 2 when they were all that was asked by name (before any output). */
static bool only_device_tests(const struct sb_local_options *o)
{
    return !o->tests_all && !o->tests[SB_LT_MEMCPY] && !o->tests[SB_LT_REDUCE];
}

static bool any_device_test(const struct sb_local_options *o)
{
    return o->tests[SB_LT_H2D] || o->tests[SB_LT_D2H] || o->tests[SB_LT_D2D] || o->tests[SB_LT_DREDUCE];
}

/* dreduce asked for by name and nothing else. */
static bool only_dreduce(const struct sb_local_options *o)
{
    for (int t = 0; t < SB_LT_COUNT; t++)
        if (t != SB_LT_DREDUCE && o->tests[t])
            return false;
    return !o->tests_all;
}

static void drop_device_tests(struct run *r, struct sb_local_options *o)
{
    fprintf(r->table, "# note: device tests (h2d, d2h, d2d, dreduce) skipped: %s\n", r->gpu_why);
    o->tests[SB_LT_H2D] = o->tests[SB_LT_D2H] = o->tests[SB_LT_D2D] = o->tests[SB_LT_DREDUCE] = false;
}

/* A GPU but no reduction kernels in this build: dreduce is skipped with the reason. */
static void drop_dreduce(struct run *r, struct sb_local_options *o)
{
    fprintf(r->table, "# note: device test dreduce skipped: %s\n", sb_local_dreduce_absent());
    o->tests[SB_LT_DREDUCE] = false;
}

static int open_json(struct run *r, const char *path)
{
    r->table = stdout;
    r->json_path = path;
    if (!path)
        return 0;
    if (strcmp(path, "-") == 0) {
        r->json = stdout;
        r->table = stderr;
        return 0;
    }
    if (!(r->json = fopen(path, "w"))) {
        fprintf(stderr, "sb_local: cannot write --json '%s': %s\n", path, strerror(errno));
        return 2;
    }
    return 0;
}

static int run_all(struct run *r, struct sb_local_options *o)
{
    for (int t = 0; t < SB_LT_COUNT; t++) {
        if (!o->tests[t])
            continue;
        bool red = sb_local_test_is_reduce(t);
        if (!red)
            sweep(r, t, SB_FLOAT);
        for (int d = 0; red && d < SB_DTYPE_COUNT; d++)
            if (o->dtypes[d])
                sweep(r, t, d);
    }
    int code = r->failed || r->wrong_total ? 1 : 0;
    if (r->points == 0) {
        fprintf(stderr, "sb_local: nothing was measured: every size was skipped (see the notes)\n");
        code = 2;
    }
    char now[64];
    sb_utc_now(now, sizeof now);
    emit(r, json_pack("{s:s, s:s, s:i, s:I, s:i, s:i, s:s, s:s}", "schema", SB_SCHEMA, "type", "summary", "points",
                      r->points, "wrong_total", (json_int_t)r->wrong_total, "failed_points", r->failed, "exit_code",
                      code, "result", code == 2 ? "error" : code ? "fail" : "pass", "end_time", now));
    fprintf(r->table, "#\n# %d points, %lld wrong, %d failed: %s\n", r->points, (long long)r->wrong_total, r->failed,
            code == 2 ? "error" : code ? "FAIL" : "pass");
    return code;
}

int main(int argc, char **argv)
{
    struct sb_local_options o;
    char err[512];
    if (sb_local_parse(&o, argc, argv, err, sizeof err) != 0) {
        fprintf(stderr, "sb_local: %s\n", err);
        return 2;
    }
    if (o.help || o.version) {
        o.help ? sb_local_usage(stdout) : (void)printf("sb_local (scalebench) %s %s\n", PACKAGE_VERSION,
                                                        SB_GIT_REVISION);
        return 0;
    }
    struct run r = {.o = &o, .host_budget = sb_available_memory() / 10 * 8};
    bool want_gpu = any_device_test(&o);
    bool gpu_ok = sb_local_gpu_probe(r.gpu_name, sizeof r.gpu_name, r.gpu_why, sizeof r.gpu_why) == 0;
    if (gpu_ok)
        r.gpu_peak = sb_local_gpu_dram_gbps();
    if (want_gpu && !gpu_ok && only_device_tests(&o)) {
        fprintf(stderr, "sb_local: cannot run the device tests: %s\n", r.gpu_why);
        return 2;
    }
    if (gpu_ok && o.tests[SB_LT_DREDUCE] && sb_local_dreduce_absent() && only_dreduce(&o)) {
        fprintf(stderr, "sb_local: cannot run dreduce: %s\n", sb_local_dreduce_absent());
        return 2;
    }
    if (open_json(&r, o.json_path) != 0)
        return 2;
    int code = 0;
    if (!(r.pool = sb_lpool_create(o.threads))) {
        fprintf(stderr, "sb_local: cannot start %d threads\n", o.threads);
        code = 2;
    }
    if (code == 0) {
        header(&r, argc, argv, gpu_ok);
        if (want_gpu && !gpu_ok)
            drop_device_tests(&r, &o);
        else if (o.tests[SB_LT_DREDUCE] && sb_local_dreduce_absent())
            drop_dreduce(&r, &o);
        code = run_all(&r, &o);
    }
    sb_lpool_destroy(r.pool);
    errno = 0;
    if (r.json && r.json != stdout && fclose(r.json) != 0)
        write_failed(&r);
    return sb_stdout_status("sb_local", r.write_failed && code < 2 ? 2 : code);
}
