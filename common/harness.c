/* sb_main: options, set-up, the sweep over dtypes, ops, sizes and placements, and the exit code. */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "check.h"
#include "collective.h"
#include "comm.h"
#include "gpuinfo.h"
#include "options.h"
#include "placement.h"
#include "preflight.h"
#include "progress.h"
#include "straggler.h"
#include "report.h"
#include "revision.h"
#include "sweep.h"
#include "sysinfo.h"
#include "stdout_status.h"
#include "timing.h"
#include "watchdog.h"
#include "run.h"

static const char *program_name(const char *argv0)
{
    const char *slash = strrchr(argv0, '/');
    return slash ? slash + 1 : argv0;
}

void sb_run_complain(const struct run *run, const char *msg)
{
    if (run->comm.rank == 0) {
        fprintf(stderr, "%s: %s\n", run->prog, msg);
        fflush(stderr);
    }
}

/* A failure that may be on any rank (every rank calls this): one line from rank 0 when it failed
 * too (the usual case: every rank hit the same problem), else from each failing rank. */
static void complain_any(const struct run *run, int rc, const char *msg)
{
    int rank0_failed = rc != 0;
    sb_comm_bcast_int(&run->comm, &rank0_failed);
    if (rc != 0 && (run->comm.rank == 0 || !rank0_failed)) {
        if (run->comm.rank == 0)
            fprintf(stderr, "%s: %s\n", run->prog, msg);
        else
            fprintf(stderr, "%s: rank %d: %s\n", run->prog, run->comm.rank, msg);
        fflush(stderr);
    }
}

static json_t *options_json(const struct sb_options *o)
{
    json_t *dt = json_array(), *ops = json_array();
    for (int t = 0; t < SB_DTYPE_COUNT; t++)
        if (o->dtypes[t])
            json_array_append_new(dt, json_string(sb_dtype_name(t)));
    for (int op = 0; op < SB_OP_COUNT; op++)
        if (o->ops[op])
            json_array_append_new(ops, json_string(sb_op_name(op)));
    json_t *j = json_pack("{s:I, s:I, s:I, s:I, s:i, s:i, s:f, s:f, s:i, s:i, s:o, s:o, s:i, s:b}", "minbytes",
                     (json_int_t)o->min_bytes, "maxbytes", (json_int_t)o->max_bytes, "stepfactor",
                     (json_int_t)o->step_factor, "stepbytes", (json_int_t)o->step_bytes, "iters", o->iters, "warmup",
                     o->warmup, "precision", o->precision, "max_time_s", o->max_time, "min_iters", o->min_iters,
                     "max_iters", o->max_iters, "datatypes", dt, "ops", ops, "inplace", (int)o->inplace, "check",
                     o->check);
    json_t *sizes = o->n_sizes ? json_array() : json_null(); /* --sizes, in place of min..max */
    for (size_t i = 0; i < o->n_sizes; i++)
        json_array_append_new(sizes, json_integer((json_int_t)o->sizes[i]));
    json_object_set_new(j, "sizes", sizes);
    json_object_set_new(j, "bind", json_string(o->bind));
    json_object_set_new(j, "bind_explicit", json_boolean(o->bind_explicit));
    json_object_set_new(j, "mem_node", json_string(o->mem_node));
    json_object_set_new(j, "timeout_s", json_real(o->timeout));
    json_object_set_new(j, "preflight", json_integer(o->preflight));
    json_object_set_new(j, "progress", json_integer(o->progress));
    json_object_set_new(j, "per_rank", json_boolean(o->per_rank));
    json_object_set_new(j, "level", o->level ? json_string(o->level) : json_null());
    json_object_set_new(j, "background", o->background ? json_string(o->background) : json_null());
    json_object_set_new(j, "background_bytes", json_integer((json_int_t)o->background_bytes));
    json_object_set_new(j, "off_cache", o->off_cache_auto ? json_string("auto") : json_integer((json_int_t)o->off_cache));
    json_object_set_new(j, "sync", json_string(o->sync_window ? "window" : "barrier"));
    return j;
}

/* Distinct host names, in rank order of first appearance. */
static json_t *host_list(json_t *ranks)
{
    json_t *hosts = json_array(), *r, *h;
    size_t i, k;
    json_array_foreach(ranks, i, r) {
        const char *name = json_string_value(json_object_get(r, "host"));
        int seen = 0;
        json_array_foreach(hosts, k, h) seen |= name && strcmp(json_string_value(h), name) == 0;
        if (name && !seen)
            json_array_append_new(hosts, json_string(name));
    }
    return hosts;
}

/* What one batch sample is, in the words of the record's `timing`. */
static void batch_timing_label(const struct run *run, char *buf, size_t len)
{
    int n = run->opt.batch;
    if (run->opt.graph > 0)
        snprintf(buf, len, "pipelined: a CUDA graph of %d calls launched once, after a barrier (stream drained), "
                 "CUDA events around it; per-call time = graph time / %d; max over ranks per sample", n, n);
    else if (run->be.time_calls)
        snprintf(buf, len, "pipelined: %d calls back to back on the stream after a barrier (stream drained), one "
                 "synchronisation, CUDA events around them; per-call time = batch time / %d; max over ranks per "
                 "sample", n, n);
    else
        snprintf(buf, len, "pipelined: %d calls back to back after a barrier, host clock around them; per-call "
                 "time = batch time / %d; max over ranks per sample", n, n);
}

/* The "run" header record; every rank takes part (the placement records are gathered). */
static json_t *run_header(struct run *run, int argc, char **argv)
{
    json_t *ranks = sb_placement_gather(&run->place, &run->comm);
    if (run->comm.rank != 0)
        return NULL;
    char cpu[256], mpi[256], hw[32], now[32];
    sb_cpu_model(cpu, sizeof cpu);
    sb_comm_library_version(mpi, sizeof mpi);
    sb_hwloc_version(hw, sizeof hw);
    sb_utc_now(now, sizeof now);
    json_t *cmd = json_array();
    for (int i = 0; i < argc; i++)
        json_array_append_new(cmd, json_string(argv[i]));
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s}", "schema", SB_SCHEMA, "type", "run", "benchmark",
                          run->prog, "collective", run->coll->name, "version", PACKAGE_VERSION, "git_revision",
                          SB_GIT_REVISION, "command_line", cmd, "start_time", now);
    json_object_set_new(o, "backend", json_string(run->be.name));
    json_object_set_new(o, "memory", json_string(run->be.memory));
    json_object_set_new(o, "ranks", json_integer(run->comm.size));
    json_object_set_new(o, "nodes", json_integer(run->comm.nodes));
    json_object_set_new(o, "ranks_per_node", json_integer(run->comm.local_size));
    json_object_set_new(o, "hosts", host_list(ranks));
    json_object_set_new(o, "cpu_model", json_string(cpu));
    json_object_set_new(o, "mpi_library", json_string(mpi));
    json_object_set_new(o, "launch", json_string(run->comm.in_process ? "threads" : "mpi"));
    json_object_set_new(o, "hwloc_version", json_string(hw));
    json_object_set_new(o, "jansson_version", json_string(JANSSON_VERSION));
    json_object_set_new(o, "timer", json_string("clock_gettime(CLOCK_MONOTONIC)"));
    json_object_set_new(o, "timing", json_string(run->be.timing));
    static const char *modes[] = {"", "per-call", "batch", "both"};
    json_object_set_new(o, "timing_mode", json_string(modes[run->opt.timing_mode & 3]));
    if (run->opt.timing_mode & SB_TIME_BATCH) {
        char label[320];
        batch_timing_label(run, label, sizeof label);
        json_object_set_new(o, "timing_batch", json_string(label));
    }
    json_object_set_new(o, "off_cache_bytes", json_integer((json_int_t)run->off_cache));
    json_object_set_new(o, "sync", json_string(run->opt.sync_window ? "window" : "barrier"));
    json_object_set_new(o, "rank_placement", ranks ? ranks : json_array());
    json_object_set_new(o, "machine", sb_placement_machine(&run->place));
    json_object_set_new(o, "gpus", sb_gpuinfo_json()); /* rank 0's node: CUDA, NVML (NVLink), NCCL */
    json_object_set_new(o, "options", options_json(&run->opt));
    json_object_set_new(o, "environment", sb_tuning_environment()); /* rank 0's */
    json_object_set_new(o, "batch_job", sb_batch_job());
    return o;
}

/* Largest per-rank footprint the node's memory allows for all its ranks (80% of what is
 * available), agreed on by every rank (the smallest node decides). */
static size_t memory_budget(const struct run *run)
{
    uint64_t avail = sb_available_memory();
    int64_t per_rank = avail ? (int64_t)(avail / 10 * 8 / (uint64_t)run->comm.local_size) : INT64_MAX;
    /* Device buffers: also 80% of what the rank's own GPU has free (host memory still holds
     * the staging copy). */
    size_t device = run->be.free_bytes ? run->be.free_bytes(&run->be) : 0;
    if (device > 0 && (int64_t)(device / 10 * 8) < per_rank)
        per_rank = (int64_t)(device / 10 * 8);
    return (size_t)sb_comm_min_int64(&run->comm, per_rank);
}

/* Drops sizes whose buffers do not fit and says so; returns the new count. */
static size_t cap_to_memory(struct run *run, struct sb_size *sizes, size_t n, size_t elem)
{
    size_t budget = memory_budget(run), kept = 0;
    for (size_t i = 0; i < n; i++) {
        size_t need = sb_sweep_footprint(&sizes[i], elem); /* what ensure_buffers allocates */
        if (run->off_cache && need < 2 * run->off_cache)
            need = 2 * run->off_cache; /* both buffers hold the region (see ensure_buffers) */
        if (need <= budget) {
            sizes[kept++] = sizes[i];
            continue;
        }
        if (run->comm.rank == 0) {
            char line[256];
            snprintf(line, sizeof line,
                     "size %zu skipped: %d ranks on a node need %zu bytes each, %zu available per rank "
                     "(80%% of MemAvailable%s)%s", sizes[i].bytes, run->comm.local_size, need, budget,
                     run->be.free_bytes ? ", and of the GPU's free memory" : "",
                     run->off_cache ? " with --off-cache's region" : "");
            sb_report_note(&run->report, line);
        }
    }
    return kept;
}

/* Drops sizes whose element counts exceed what one call of the backend takes (MPI's int
 * counts: 2^31 - 1 elements, 2 GiB of int8) and says so; returns the new count. */
static size_t cap_to_count(struct run *run, struct sb_size *sizes, size_t n, enum sb_dtype t)
{
    size_t limit = run->be.max_count, kept = 0;
    for (size_t i = 0; i < n; i++) {
        const struct sb_layout *l = &sizes[i].layout;
        size_t most = l->count > l->send_count ? l->count : l->send_count;
        most = most > l->recv_count ? most : l->recv_count;
        if (limit == 0 || most <= limit) {
            sizes[kept++] = sizes[i];
            continue;
        }
        if (run->comm.rank == 0) {
            char line[256];
            snprintf(line, sizeof line, "size %zu skipped: %zu %s elements in one call, more than %s takes (%zu); "
                     "use a wider --datatype or a smaller size", sizes[i].bytes, most, sb_dtype_name(t), run->be.name,
                     limit);
            sb_report_note(&run->report, line);
        }
    }
    return kept;
}

/* (Re)allocates the two buffers for the largest size; every rank agrees on success. */
static void free_buffers(struct run *run, size_t bytes)
{
    run->be.free(&run->be, run->send, bytes);
    run->be.free(&run->be, run->recv, bytes);
    free(run->staging);
    run->send = run->recv = run->staging = NULL;
}

/* Whether the backend fills and checks this collective's buffers itself (on the device). */
static bool checks_on_device(const struct run *run, const struct sb_backend *be)
{
    return be->fill && be->poison && be->count_wrong && run->coll->pattern != SB_PATTERN_NONE;
}

const char *sb_run_check_where(const struct run *run, const struct sb_backend *be)
{
    return checks_on_device(run, be) ? "device" : "host";
}

static int ensure_buffers(struct run *run, size_t bytes)
{
    int ok = 1;
    if (bytes > run->buffer_bytes) {
        free_buffers(run, run->buffer_bytes);
        bool staged = run->be.upload && !checks_on_device(run, &run->be);
        run->send = run->be.alloc(&run->be, bytes);
        run->recv = run->be.alloc(&run->be, bytes);
        run->staging = staged ? malloc(bytes) : NULL;
        ok = run->send && run->recv && (run->staging || !staged);
        if (!ok)
            free_buffers(run, bytes);
        run->buffer_bytes = ok ? bytes : 0;
    }
    return sb_comm_max_int(&run->comm, !ok) ? -1 : 0;
}

/* Where the rank's input goes: the send buffer, or in place its spot in the receive buffer. */
static void *input_buffer(const struct run *run, const struct sb_backend *be, const struct sb_call *call)
{
    if (!call->in_place)
        return (void *)call->send;
    size_t off = run->coll->in_place_offset ? run->coll->in_place_offset(&call->layout, be->comm->rank) : 0;
    return (char *)call->recv + off * sb_dtype_size(call->dtype);
}

/* Host buffers are written and read where they are; device buffers by the backend's kernels, or
 * else through the staging copy. */
static int put_input(struct run *run, const struct sb_backend *be, const struct sb_pattern *pat,
                     const struct sb_call *call)
{
    void *dst = input_buffer(run, be, call);
    if (checks_on_device(run, be))
        return be->fill(be, run->coll->pattern, pat, be->comm->rank, dst, pat->layout.send_count);
    if (!be->upload) {
        sb_fill_input(run->coll, pat, be->comm->rank, dst);
        return 0;
    }
    sb_fill_input(run->coll, pat, be->comm->rank, run->staging);
    return be->upload(be, dst, run->staging, pat->layout.send_count * sb_dtype_size(pat->dtype));
}

static int poison_output(struct run *run, const struct sb_backend *be, const struct sb_pattern *pat,
                         const struct sb_call *call)
{
    size_t bytes = pat->layout.recv_count * sb_dtype_size(pat->dtype);
    if (checks_on_device(run, be))
        return be->poison(be, call->recv, bytes);
    sb_poison(be->upload ? run->staging : call->recv, bytes);
    return be->upload ? be->upload(be, call->recv, run->staging, bytes) : 0;
}

/* Wrong elements on this rank, or -1 with *code (a backend error code) when the result cannot be
 * read. */
static int64_t wrong_here(struct run *run, const struct sb_backend *be, const struct sb_pattern *pat,
                          const struct sb_call *call, int *code)
{
    const void *result = call->recv;
    if (checks_on_device(run, be)) {
        int64_t wrong = 0;
        *code = be->count_wrong(be, run->coll->pattern, pat, be->comm->rank, call->recv, pat->layout.recv_count,
                                &wrong);
        return *code ? -1 : wrong;
    }
    if (be->download) {
        *code = be->download(be, run->staging, call->recv, pat->layout.recv_count * sb_dtype_size(pat->dtype));
        if (*code)
            return -1;
        result = run->staging;
    }
    return sb_count_wrong(run->coll, pat, be->comm->rank, result);
}

/* The untimed verification pass: fresh input, poisoned output, one call, count.  When a rank cannot
 * do it (a copy, the call or the check fails), `error` says so on every rank and -1 is returned:
 * a check that did not happen is an error, not a count of wrong elements. */
int64_t sb_run_verify(struct run *run, const struct sb_backend *be, const struct sb_call *call,
                      const struct sb_pattern *pat, char *error, size_t len)
{
    const char *step = "poisoning the output";
    int rc = poison_output(run, be, pat, call);
    if (rc == 0 && call->in_place) {
        step = "writing the input";
        rc = put_input(run, be, pat, call);
    }
    sb_watchdog_progress(run->watchdog); /* filling a large buffer is progress, not a hang */
    /* every rank makes the checked call, or none: a rank that skipped it would leave the others
     * waiting in the collective */
    int unprepared = sb_comm_max_int(be->comm, rc != 0);
    if (!unprepared) {
        step = "the checked call";
        rc = run->coll->run(be, call);
    }
    sb_watchdog_progress(run->watchdog);
    int64_t wrong = -1;
    if (!unprepared && rc == 0) {
        step = "reading the result";
        wrong = wrong_here(run, be, pat, call, &rc);
    }
    sb_watchdog_progress(run->watchdog);
    int64_t failed = sb_comm_sum_int64(be->comm, rc != 0);
    if (failed > 0) {
        char msg[256] = "";
        if (rc)
            be->strerror(be, rc, msg, sizeof msg);
        snprintf(error, len, "the check failed on %lld rank(s)%s%s%s%s", (long long)failed, rc ? " (" : "",
                 rc ? step : "", rc ? "): " : "", msg);
        return -1;
    }
    return sb_comm_sum_int64(be->comm, wrong);
}

/* --per-rank: every rank's own min, median and p99 to rank 0 (NULL elsewhere), which also
 * counts the ranks slower than the others at this point. */
static double *gather_per_rank(struct run *run, const struct sb_timing *timing)
{
    double mine[3] = {timing->own.min, timing->own.median, timing->own.p99};
    double *all = run->comm.rank == 0 ? malloc(3 * (size_t)run->comm.size * sizeof *all) : NULL;
    if (run->comm.rank == 0 && !all)
        return NULL; /* MPI_Gather needs the buffer on the root only; without it, no report */
    sb_comm_gather_doubles(&run->comm, mine, 3, all);
    if (all && timing->n > 0) {
        double *medians = malloc((size_t)run->comm.size * sizeof *medians);
        for (int r = 0; medians && r < run->comm.size; r++)
            medians[r] = all[3 * r + 1];
        if (medians)
            sb_stragglers_add(&run->stragglers, medians);
        free(medians);
    }
    return all;
}

/* --off-cache: the point's buffers repeat every `stride` bytes (its larger buffer, rounded up
 * to a cache line), as many times as fit in the region (out of place, the send and receive
 * buffers share it); 0 slots when off. */
size_t sb_run_off_cache_slots(const struct run *run, const struct sb_layout *layout, enum sb_dtype t, bool in_place,
                              size_t *stride)
{
    size_t elems = layout->send_count > layout->recv_count ? layout->send_count : layout->recv_count;
    *stride = (elems * sb_dtype_size(t) + 63) / 64 * 64;
    if (!run->off_cache || *stride == 0)
        return 0;
    size_t slots = run->off_cache / (*stride * (in_place ? 1 : 2));
    return slots > 1 ? slots : 1;
}

/* The input of every slot (the first is the call's own): each call starts from the same data. */
static int put_input_slots(struct run *run, const struct sb_backend *be, const struct sb_pattern *pat,
                           const struct sb_call *call, size_t slots, size_t stride)
{
    int rc = put_input(run, be, pat, call);
    for (size_t k = 1; rc == 0 && k < slots; k++) {
        struct sb_call c = *call;
        c.send = (const char *)call->send + k * stride;
        c.recv = (char *)call->recv + k * stride;
        rc = put_input(run, be, pat, &c);
    }
    sb_watchdog_progress(run->watchdog); /* filling a large region is progress, not a hang */
    return rc;
}

void sb_run_time_point(struct run *run, const struct sb_backend *be, const struct sb_pattern *pat,
                       const struct sb_call *call, int calls, struct sb_timing *timing, char *error, size_t len)
{
    size_t stride, slots = sb_run_off_cache_slots(run, &pat->layout, pat->dtype, call->in_place, &stride);
    int staged = put_input_slots(run, be, pat, call, slots, stride);
    struct sb_timing_config cfg = {.iters = run->opt.iters, .warmup = run->opt.warmup,
                                   .min_iters = run->opt.min_iters, .max_iters = run->opt.max_iters,
                                   .precision = run->opt.precision, .max_time = run->opt.max_time,
                                   .watchdog = run->watchdog, .calls_per_sample = calls,
                                   .slots = slots, .slot_stride = stride, .sync_window = run->opt.sync_window};
    if (sb_comm_max_int(be->comm, staged != 0)) {
        memset(timing, 0, sizeof *timing);
        snprintf(error, len, "copying the input to the buffers failed on some rank");
    } else if (sb_time_collective(be, run->coll, call, &cfg, timing) != 0) {
        snprintf(error, len, "out of memory for the timing samples");
    } else if (timing->failed_ranks > 0) {
        char msg[256];
        be->strerror(be, timing->error, msg, sizeof msg);
        snprintf(error, len, "%s failed on %d rank(s)%s%s", run->coll->title, timing->failed_ranks,
                 timing->error ? ": " : "", timing->error ? msg : "");
    }
    timing->slots = slots;
    timing->slot_stride = stride;
    timing->buffers = call->in_place ? 1 : 2;
}

void sb_run_record(struct run *run, const struct sb_record *rec, const char *what)
{
    pthread_mutex_lock(&run->report_lock);
    sb_progress_clear(&run->progress); /* the row takes the progress line's place */
    sb_report_record(&run->report, rec);
    run->points++;
    run->failed_points += rec->error != NULL;
    run->wrong_total += rec->wrong > 0 ? rec->wrong : 0;
    run->busbw_sum += rec->error ? 0.0 : sb_record_busbw(rec);
    sb_progress_step(&run->progress, what);
    pthread_mutex_unlock(&run->report_lock);
}

void sb_run_describe_point(const struct run *run, size_t bytes, enum sb_dtype t, enum sb_op op, bool in_place,
                           char *buf, size_t len)
{
    snprintf(buf, len, "%s of %zu bytes (%s %s, %s)", run->coll->title, bytes, sb_dtype_name(t), sb_op_name(op),
             in_place ? "in-place" : "out-of-place");
}

static void measure_point(struct run *run, const struct sb_size *size, enum sb_dtype t, enum sb_op op,
                          bool in_place, const char *op_impl)
{
    struct sb_pattern pat = {.ranks = run->comm.size, .dtype = t, .op = op, .layout = size->layout};
    struct sb_call call = {.send = in_place ? run->recv : run->send, .recv = run->recv, .in_place = in_place,
                           .dtype = t, .op = op, .layout = size->layout};
    char what[256], error[ERRLEN] = "";
    sb_run_describe_point(run, size->bytes, t, op, in_place, what, sizeof what);
    sb_watchdog_arm(run->watchdog, what, size->bytes);
    /* each call alone, and/or pipelined batches: the record's time_us is the per-call one when
     * measured, else the batch's */
    struct sb_timing timing = {0}, batch = {0};
    bool per_call = run->opt.timing_mode & SB_TIME_PER_CALL, batched = run->opt.timing_mode & SB_TIME_BATCH;
    if (per_call)
        sb_run_time_point(run, &run->be, &pat, &call, 1, &timing, error, sizeof error);
    if (batched && !error[0])
        sb_run_time_point(run, &run->be, &pat, &call, run->opt.batch, &batch, error, sizeof error);
    int64_t wrong = (run->opt.check && !error[0]) ? sb_run_verify(run, &run->be, &call, &pat, error, sizeof error) : -1;
    sb_watchdog_disarm(run->watchdog);
    const struct sb_timing *main_timing = per_call ? &timing : &batch;
    double *per_rank = run->opt.per_rank ? gather_per_rank(run, main_timing) : NULL;
    if (run->comm.rank == 0) {
        char batch_label[320];
        batch_timing_label(run, batch_label, sizeof batch_label);
        struct sb_record rec = {.coll = run->coll, .backend = run->be.name, .memory = run->be.memory,
                                .op_impl = op_impl,
                                .timing_label = run->opt.sync_window ? SB_WINDOW_TIMING
                                                : per_call ? run->be.timing : batch_label,
                                .dtype = t, .op = op, .in_place = in_place, .ranks = run->comm.size,
                                .nodes = run->comm.nodes, .ranks_per_node = run->comm.local_size, .size = size,
                                .timing = main_timing, .warmup = run->opt.warmup, .wrong = wrong,
                                .error = error[0] ? error : NULL, .per_rank = per_rank,
                                .batch = per_call && batched ? &batch : NULL,
                                .batch_label = batched ? batch_label : NULL,
                                .batch_calls = batched ? run->opt.batch : 0, .batch_graph = run->opt.graph > 0,
                                .check = sb_run_check_where(run, &run->be)};
        sb_run_record(run, &rec, what);
    }
    free(per_rank);
    sb_timing_free(&timing);
    sb_timing_free(&batch);
}

static bool in_place_available(const struct run *run)
{
    return !run->be.in_place_ok || run->be.in_place_ok(&run->be, run->coll->name);
}

/* The ranks one call runs on, which the element counts depend on: all of them, or with
 * --background the measuring half (a pair's exchange has the same layout on any count). */
static int measuring_ranks(const struct run *run)
{
    return run->congestion ? sb_congestion_measuring_ranks(run) : run->comm.size;
}

static int sweep_dtype_op(struct run *run, enum sb_dtype t, enum sb_op op)
{
    const char *why = NULL, *impl = run->be.support(&run->be, t, op, &why);
    if (!impl) {
        char msg[ERRLEN];
        snprintf(msg, sizeof msg, "%s %s on %s: %s", sb_dtype_name(t), sb_op_name(op), run->be.name, why);
        sb_run_complain(run, msg);
        return 2;
    }
    struct sb_size sizes[SB_MAX_SWEEP];
    char notes[8192];
    size_t elem = sb_dtype_size(t);
    size_t n = sb_sweep_build(&run->opt, run->coll, elem, measuring_ranks(run), sizes,
                              sizeof sizes / sizeof *sizes, notes, sizeof notes);
    if (run->comm.rank == 0) {
        sb_progress_clear(&run->progress);
        struct sb_table_columns cols = {.background = run->opt.background != NULL,
                                        .batch = run->opt.timing_mode == SB_TIME_BOTH};
        sb_report_table_heading(&run->report, run->coll, t, op, impl, cols);
        for (char *line = strtok(notes, "\n"); line; line = strtok(NULL, "\n"))
            sb_report_note(&run->report, line);
        if (op == SB_AVG && sb_dtype_avg_unit(t, measuring_ranks(run)) == 0)
            sb_report_note(&run->report, "avg: no input of this dtype averages exactly on this many ranks (see "
                                         "README): every element is 0, so the check sees only stray writes");
    }
    n = cap_to_memory(run, sizes, n, elem);
    n = cap_to_count(run, sizes, n, t);
    if (n == 0)
        return 0;
    size_t largest = 0;
    for (size_t i = 0; i < n; i++) {
        size_t b = sizes[i].layout.send_count > sizes[i].layout.recv_count ? sizes[i].layout.send_count
                                                                           : sizes[i].layout.recv_count;
        largest = b * elem > largest ? b * elem : largest;
    }
    if (run->off_cache > largest)
        largest = run->off_cache; /* each buffer holds the slots --off-cache cycles through */
    if (ensure_buffers(run, largest) != 0) {
        char msg[128];
        snprintf(msg, sizeof msg, "cannot allocate two buffers of %zu bytes on some rank", largest);
        sb_run_complain(run, msg);
        return 2;
    }
    bool out_of_place = run->opt.inplace != SB_IN_PLACE && !run->coll->one_buffer;
    bool in_place = run->opt.inplace != SB_OUT_OF_PLACE && in_place_available(run);
    if (run->coll->one_buffer && run->opt.inplace == SB_BOTH_PLACES && run->comm.rank == 0)
        sb_report_note(&run->report, "one buffer (the root's data is broadcast in place): in-place points only");
    if (!in_place_available(run) && run->opt.inplace == SB_BOTH_PLACES && run->comm.rank == 0)
        sb_report_note(&run->report, "not available in place on this backend: out-of-place points only");
    if (run->coll->pairwise)
        return sb_pairwise_sweep(run, t, impl, sizes, n, out_of_place, in_place);
    void (*measure)(struct run *, const struct sb_size *, enum sb_dtype, enum sb_op, bool, const char *) =
        run->opt.background ? sb_congestion_point : measure_point;
    for (size_t i = 0; i < n; i++) {
        if (out_of_place)
            measure(run, &sizes[i], t, op, false, impl);
        if (in_place)
            measure(run, &sizes[i], t, op, true, impl);
    }
    return 0;
}

static bool selected(const struct run *run, int t, int op)
{
    return run->opt.dtypes[t] && (run->coll->reduces ? run->opt.ops[op] : op == SB_SUM);
}

static bool backend_has(const struct run *run, int t, int op)
{
    const char *why = NULL;
    return run->be.support(&run->be, (enum sb_dtype)t, (enum sb_op)op, &why) != NULL;
}

/* Selected, and not an op that --op all chose but this backend lacks (avg on MPI): those are
 * left out with a note (sweep); an op named explicitly is refused before anything is measured. */
static bool wanted(const struct run *run, int t, int op)
{
    return selected(run, t, op) && (!run->opt.ops_all || backend_has(run, t, op));
}

/* Refuses, before the first measurement, a dtype and op the backend lacks and that were asked
 * for by name; notes the ones --op all asked for. */
static int refuse_unsupported(struct run *run)
{
    for (int op = 0; op < SB_OP_COUNT; op++)
        for (int t = 0; t < SB_DTYPE_COUNT; t++) {
            const char *why = NULL;
            if (!selected(run, t, op) || run->be.support(&run->be, (enum sb_dtype)t, (enum sb_op)op, &why))
                continue;
            char msg[ERRLEN];
            snprintf(msg, sizeof msg, "%s %s on %s: %s", sb_dtype_name((enum sb_dtype)t), sb_op_name((enum sb_op)op),
                     run->be.name, why);
            if (!run->opt.ops_all) {
                sb_run_complain(run, msg);
                return 2;
            }
            if (run->comm.rank == 0) {
                char note[ERRLEN + 32];
                snprintf(note, sizeof note, "left out of --op all: %s on %s: %s", sb_op_name((enum sb_op)op),
                         run->be.name, why);
                sb_report_note(&run->report, note);
            }
            break; /* one note per op */
        }
    return 0;
}

/* Points the whole sweep will measure (for the progress line; sizes dropped later for memory
 * only make it finish early). */
static size_t count_points(const struct run *run)
{
    enum { MAX = SB_MAX_SWEEP };
    struct sb_size *sizes = malloc(MAX * sizeof *sizes);
    char notes[8192];
    size_t total = 0;
    if (!sizes)
        return 0; /* no progress line then */
    int places = (run->opt.inplace == SB_BOTH_PLACES && !run->coll->one_buffer) ? 2 : 1;
    for (int t = 0; t < SB_DTYPE_COUNT; t++)
        for (int op = 0; op < SB_OP_COUNT; op++)
            if (wanted(run, t, op))
                total += places * sb_sweep_build(&run->opt, run->coll, sb_dtype_size((enum sb_dtype)t),
                                                 measuring_ranks(run), sizes, MAX, notes, sizeof notes);
    free(sizes);
    return run->coll->pairwise ? total * (size_t)sb_pairwise_pairs(run) : total;
}

/* The progress line goes to stderr: by default when that is a terminal (a singleton run, srun
 * --pty); mpirun hands ranks a pipe for stderr, hence --progress 1. */
static int progress_wanted(const struct run *run)
{
    if (run->opt.progress >= 0)
        return run->opt.progress;
    return sb_report_table_is_stdout(&run->report) && isatty(fileno(stderr));
}

static int sweep(struct run *run)
{
    int rc = 0;
    if (run->opt.inplace == SB_IN_PLACE && !in_place_available(run)) {
        char msg[ERRLEN];
        snprintf(msg, sizeof msg, "--inplace 1: %s does not run in place on --backend %s: use --inplace 0 or 2",
                 run->coll->title, run->be.name);
        sb_run_complain(run, msg);
        return 2;
    }
    if ((rc = refuse_unsupported(run)) != 0)
        return rc;
    if (run->opt.background)
        sb_congestion_describe(run);
    if (run->comm.rank == 0)
        sb_progress_init(&run->progress, progress_wanted(run), count_points(run));
    for (int t = 0; t < SB_DTYPE_COUNT && rc == 0; t++)
        for (int op = 0; op < SB_OP_COUNT && rc == 0; op++)
            if (wanted(run, t, op))
                rc = sweep_dtype_op(run, (enum sb_dtype)t, (enum sb_op)op);
    if (run->comm.rank == 0)
        sb_progress_clear(&run->progress);
    return rc;
}

/* The flagged ranks with their hosts, and the rule that flagged them. */
static json_t *stragglers_json(const struct run *run)
{
    json_t *ranks = sb_stragglers_json(&run->stragglers), *r;
    size_t i;
    json_array_foreach(ranks, i, r) {
        json_t *host = json_array_get(run->rank_hosts, (size_t)json_integer_value(json_object_get(r, "rank")));
        json_object_set(r, "host", host ? host : json_null());
    }
    json_t *late = sb_stragglers_late_json(&run->stragglers);
    json_array_foreach(late, i, r) {
        json_t *host = json_array_get(run->rank_hosts, (size_t)json_integer_value(json_object_get(r, "rank")));
        json_object_set(r, "host", host ? host : json_null());
    }
    char rule[160], late_rule[200];
    snprintf(rule, sizeof rule, "median > %.0f%% above the other ranks' median at >= %.0f%% of the points (>= %d)",
             100.0 * SB_STRAGGLER_THRESHOLD, 100.0 * SB_STRAGGLER_SHARE, SB_STRAGGLER_MIN_POINTS);
    snprintf(late_rule, sizeof late_rule, "median below %.0f%% of the other ranks' median at >= %.0f%% of the points "
             "(>= %d): it reaches the call late and the others wait for it", 100.0 * SB_LATE_THRESHOLD,
             100.0 * SB_STRAGGLER_SHARE, SB_STRAGGLER_MIN_POINTS);
    return json_pack("{s:o, s:s, s:o, s:s, s:i}", "ranks", ranks, "rule", rule, "late_ranks", late, "late_rule",
                     late_rule, "points", run->stragglers.points);
}

static json_t *summary_record(struct run *run, int exit_code)
{
    char now[32];
    sb_utc_now(now, sizeof now);
    const char *result = exit_code == 0 ? "pass" : exit_code == 1 ? "fail" : "error";
    json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:f, s:i, s:s, s:s}", "schema", SB_SCHEMA, "type", "summary",
                          "points", (json_int_t)run->points, "wrong_total", (json_int_t)run->wrong_total,
                          "failed_points", (json_int_t)run->failed_points, "avg_busbw_gbps",
                          run->points ? run->busbw_sum / (double)run->points : 0.0, "exit_code", exit_code, "result",
                          result, "end_time", now);
    if (!run->opt.check) /* -c 0: nothing was compared, so there is no count to give */
        json_object_set_new(o, "wrong_total", json_null());
    json_object_set_new(o, "checked", json_boolean(run->opt.check));
    if (run->opt.per_rank)
        json_object_set_new(o, "stragglers", stragglers_json(run));
    if (run->coll->pairwise)
        json_object_set_new(o, "pairs", sb_pairwise_verdict(run));
    if (run->opt.background)
        json_object_set_new(o, "congestion", sb_congestion_summary(run));
    return o;
}

/* Rank 0 opens the outputs; every rank learns whether that worked. */
static int open_outputs(struct run *run)
{
    char err[ERRLEN] = "";
    int rc = 0;
    run->report.prog = run->prog; /* names the program in a write error (the CSV header's too) */
    if (run->comm.rank == 0)
        rc = sb_report_open(&run->report, run->opt.json_path, run->opt.csv_path, run->opt.keep_samples, err,
                            sizeof err);
    sb_comm_bcast_int(&run->comm, &rc);
    if (rc)
        sb_run_complain(run, err);
    return rc;
}

/* The watchdog's error record goes into the JSON Lines before it ends the job. */
static void write_timeout_record(json_t *record, void *arg)
{
    struct run *run = arg;
    pthread_mutex_lock(&run->report_lock);
    sb_report_error_record(&run->report, record);
    pthread_mutex_unlock(&run->report_lock);
}

/* ["host of rank 0", ...] from the header's placement records. */
static json_t *hosts_by_rank(json_t *header)
{
    json_t *hosts = json_array(), *r;
    size_t i;
    json_array_foreach(json_object_get(header, "rank_placement"), i, r) {
        json_t *h = json_object_get(r, "host");
        json_array_append_new(hosts, h ? json_incref(h) : json_null());
    }
    return hosts;
}

/* Rank 0, a failed preflight: the header, then the error record, into the JSON Lines. */
static void write_preflight_failure(json_t *header, json_t *error, void *arg)
{
    struct run *run = arg;
    json_incref(header); /* sb_report_header takes a reference; the caller still holds one */
    sb_report_header(&run->report, run->coll, header);
    sb_report_error_record(&run->report, error);
}

static int start_watchdog(struct run *run)
{
    if (run->opt.timeout <= 0)
        return 0;
    char err[ERRLEN] = "";
    int mine = sb_watchdog_start(&run->watchdog, &run->comm, run->prog, run->opt.timeout, write_timeout_record,
                                 run, err, sizeof err);
    int rc = sb_comm_max_int(&run->comm, mine);
    if (rc)
        complain_any(run, mine, err);
    else if (!run->comm.threads && run->comm.rank == 0)
        sb_report_note(&run->report, "--timeout: the MPI library gave no MPI_THREAD_MULTIPLE: on a hang each rank "
                                     "reports only itself");
    return rc;
}

static int setup(struct run *run)
{
    char err[ERRLEN] = "";
    /* Bind first, then allocate: first touch places the pages near the cores that use them. */
    char gpu_pci[32];
    sb_backend_gpu_pci(run->opt.backend, run->opt.memory, run->opt.device, &run->comm, gpu_pci, sizeof gpu_pci);
    int mine = sb_placement_setup(&run->place, &run->opt, &run->comm, gpu_pci, err, sizeof err);
    int rc = sb_comm_max_int(&run->comm, mine);
    if (rc) {
        complain_any(run, mine, err);
        return rc;
    }
    err[0] = '\0';
    rc = sb_backend_init(&run->be, run->opt.backend, run->opt.memory, run->opt.device, &run->comm, &run->place.mem,
                         err, sizeof err);
    if (rc) {
        complain_any(run, err[0] ? rc : 0, err);
        return rc;
    }
    return open_outputs(run);
}

/* --off-cache: the region per rank, auto = twice the largest last-level cache any rank sits
 * under (the region must outgrow it for a slot to be evicted before it comes round again).
 * The buffers must be ones the host fills (device ones are refused with the options; a backend
 * that stages or checks on the device is refused here).  0, or 2 with err. */
static int resolve_off_cache(struct run *run, char *err, size_t len)
{
    if (!run->opt.off_cache && !run->opt.off_cache_auto)
        return 0;
    if (run->be.upload || checks_on_device(run, &run->be)) {
        snprintf(err, len, "--off-cache: the %s backend's %s buffers are filled on the device: host or pinned "
                           "memory only", run->be.name, run->be.memory);
        return 2;
    }
    if (!run->opt.off_cache_auto) {
        run->off_cache = run->opt.off_cache;
    } else {
        int level;
        int64_t llc = run->place.topo ? (int64_t)sb_topo_llc_bytes(run->place.topo, &level) : 0;
        int64_t smallest = sb_comm_min_int64(&run->comm, llc), largest = -sb_comm_min_int64(&run->comm, -llc);
        if (smallest <= 0) {
            snprintf(err, len, "--off-cache auto: hwloc reports no cache size on some rank: give a size "
                               "(--off-cache 256M)");
            return 2;
        }
        run->off_cache = 2 * (size_t)largest;
    }
    /* both buffers hold the region (ensure_buffers): one that cannot fit would skip every size */
    size_t budget = memory_budget(run);
    if (run->off_cache > budget / 2) {
        snprintf(err, len, "--off-cache: a region of %zu bytes needs %zu per rank (send and receive buffers), "
                           "%zu available per rank (80%% of MemAvailable): give a smaller region",
                 run->off_cache, 2 * run->off_cache, budget);
        return 2;
    }
    return 0;
}

/* What sb_pairs, --background and --off-cache need of the job, checked before anything is printed. */
static int fits_the_job(struct run *run)
{
    char err[ERRLEN] = "";
    if (resolve_off_cache(run, err, sizeof err) != 0) {
        sb_run_complain(run, err);
        return 2;
    }
    if (run->opt.sync_window && run->be.time_calls) {
        sb_run_complain(run, "--sync window starts calls by the host clock: the nccl backend times them with CUDA "
                             "events (use --sync barrier)");
        return 2;
    }
    if (run->opt.graph > 0) {
        int rc = run->be.use_graph ? run->be.use_graph(&run->be, run->opt.graph) : -1;
        if (sb_comm_max_int(&run->comm, rc != 0)) {
            sb_run_complain(run, run->be.use_graph ? "--graph: this backend could not prepare CUDA graphs"
                                                   : "--graph needs --backend nccl (CUDA graphs of NCCL calls)");
            return 2;
        }
    }
    if ((run->coll->pairwise && sb_pairwise_check(run, err, sizeof err) != 0) ||
        (run->opt.background && sb_congestion_setup(run, err, sizeof err) != 0)) {
        sb_run_complain(run, err);
        return 2;
    }
    return 0;
}

static int run_benchmark(struct run *run, int argc, char **argv)
{
    int rc = setup(run);
    if (rc == 0)
        rc = fits_the_job(run);
    if (rc) {
        sb_congestion_teardown(run);
        if (run->be.finalize)
            run->be.finalize(&run->be);
        sb_placement_close(&run->place);
        return rc;
    }
    json_t *header = run_header(run, argc, argv);
    if (header)
        run->rank_hosts = hosts_by_rank(header);
    if (run->opt.per_rank && sb_stragglers_init(&run->stragglers, run->comm.size) != 0)
        run->opt.per_rank = false; /* out of memory: say nothing rather than something wrong */
    sb_preflight(&run->comm, run->prog, run->opt.preflight, run->opt.timeout, header, write_preflight_failure, run);
    if (run->comm.rank == 0)
        sb_report_header(&run->report, run->coll, header);
    rc = start_watchdog(run);
    if (rc == 0)
        rc = sweep(run);
    sb_watchdog_stop(run->watchdog, &run->comm);
    if (rc == 0)
        rc = (run->wrong_total > 0 || run->failed_points > 0) ? 1 : 0;
    int64_t measured = run->points;
    sb_comm_bcast_bytes(&run->comm, &measured, sizeof measured); /* rank 0 counts the points */
    if (rc == 0 && measured == 0) {
        sb_run_complain(run, "nothing was measured: every size was skipped (see the notes above); choose larger or "
                      "smaller sizes");
        rc = 2;
    }
    int exit_code = sb_comm_max_int(&run->comm, rc);
    if (run->comm.rank == 0) {
        if (exit_code == 2)
            sb_report_error(&run->report, "the run stopped early; see stderr");
        sb_report_summary(&run->report, summary_record(run, exit_code));
        sb_report_close(&run->report);
        if (sb_report_write_error(&run->report) && exit_code < 2)
            exit_code = 2; /* the records are incomplete: rank 0's exit code says so */
    }
    free_buffers(run, run->buffer_bytes);
    sb_congestion_teardown(run);
    free(run->pairs_log.names);
    free(run->pairs_log.v);
    sb_stragglers_free(&run->stragglers);
    json_decref(run->rank_hosts);
    run->be.finalize(&run->be);
    sb_placement_close(&run->place);
    return exit_code;
}

/* Options that do not apply to this benchmark: 2 with the line in err. */
static int options_fit(const struct sb_collective *coll, const struct sb_options *o, char *err, size_t len)
{
    if (coll->one_buffer && o->inplace == SB_OUT_OF_PLACE)
        snprintf(err, len, "--inplace 0: %s has one buffer (the root's is sent in place): use --inplace 1 or 2",
                 coll->title);
    else if (o->level && !coll->pairwise)
        snprintf(err, len, "--level applies to sb_pairs only");
    else if (o->background && coll->pairwise)
        snprintf(err, len, "--background does not apply to sb_pairs (its rounds already run pairs side by side)");
    else if (o->per_rank && coll->pairwise)
        snprintf(err, len, "--per-rank does not apply to sb_pairs: each of its records is one pair already");
    else if (o->sync_window && coll->pairwise)
        snprintf(err, len, "--sync window does not apply to sb_pairs: each pair starts its iterations with a "
                           "barrier of its own");
    else if (o->timing_given && (coll->pairwise || o->background))
        snprintf(err, len, "--timing, --batch and --graph do not apply to %s: it times each call",
                 coll->pairwise ? "sb_pairs" : "--background");
    else
        return 0;
    return 2;
}

/* -g N and --backend against what this build has (pure: checked before the job starts). */
static int launch_fits(const struct sb_options *o, char *err, size_t len)
{
    if (o->gpus != 1 && !sb_comm_in_process()) {
        snprintf(err, len, "-g N is for builds without MPI (one process, N GPUs); under MPI use one rank per GPU");
        return 2;
    }
    return sb_backend_check(o->backend, err, len);
}

/* What every rank starts from: the options, parsed once before the job (getopt is not
 * thread-safe), and their verdict, which rank 0 says once the job runs. */
struct launch {
    const struct sb_collective *coll;
    const char *prog;
    struct sb_options opt;
    int prc;
    char perr[ERRLEN];
    int *argc;    /* as sb_comm_run leaves them (MPI_Init may take its own arguments out) */
    char ***argv;
};

/* One rank: this process under MPI, one of the -g N threads without it. */
static int run_rank(struct sb_comm *comm, void *arg)
{
    const struct launch *l = arg;
    struct run *run = calloc(1, sizeof *run);
    if (!run) {
        fprintf(stderr, "%s: rank %d: out of memory\n", l->prog, comm->rank);
        return 2;
    }
    run->coll = l->coll;
    run->prog = l->prog;
    run->opt = l->opt;
    run->comm = *comm;
    pthread_mutex_init(&run->report_lock, NULL);
    int rc = l->prc;
    if (rc) {
        sb_run_complain(run, l->perr);
    } else if (run->opt.help) {
        if (run->comm.rank == 0)
            sb_options_usage(run->prog, run->coll->title, run->coll->reduces, run->coll->pairwise, stdout);
    } else if (run->opt.version) {
        if (run->comm.rank == 0)
            printf("scalebench %s (%s)\n", PACKAGE_VERSION, SB_GIT_REVISION);
    } else {
        rc = run_benchmark(run, *l->argc, *l->argv);
    }
    *comm = run->comm;
    pthread_mutex_destroy(&run->report_lock);
    free(run);
    return rc;
}

int sb_main(const struct sb_collective *coll, int argc, char **argv)
{
    struct launch *l = calloc(1, sizeof *l);
    if (!l) {
        fprintf(stderr, "%s: out of memory\n", program_name(argv[0]));
        return 2;
    }
    *l = (struct launch){.coll = coll, .prog = program_name(argv[0]), .argc = &argc, .argv = &argv};
    /* Options first (pure, no MPI): -T decides whether MPI must allow a watchdog thread, -g how
     * many ranks this process runs. */
    l->prc = sb_options_parse_for(&l->opt, coll->reduces, sb_backend_default(), argc, argv, l->perr, sizeof l->perr);
    if (l->prc == 0)
        l->prc = options_fit(coll, &l->opt, l->perr, sizeof l->perr);
    if (coll->pairwise || l->opt.background)
        l->opt.timing_mode = SB_TIME_PER_CALL; /* they time each call (options_fit refused asking more) */
    if (l->prc == 0)
        l->prc = launch_fits(&l->opt, l->perr, sizeof l->perr);
    char err[ERRLEN] = "";
    int rc = sb_comm_run(l->prc == 0 ? l->opt.gpus : 1, &argc, &argv, l->prc == 0 && l->opt.timeout > 0, run_rank, l,
                         err, sizeof err);
    if (err[0])
        fprintf(stderr, "%s: %s\n", l->prog, err);
    const char *prog = l->prog; /* points into argv[0] */
    free(l);
    return sb_stdout_status(prog, rc);
}
