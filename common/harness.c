/* sb_main: options, set-up, the sweep over dtypes, ops, sizes and placements, and the exit code. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "check.h"
#include "collective.h"
#include "comm.h"
#include "options.h"
#include "report.h"
#include "sweep.h"
#include "sysinfo.h"
#include "timing.h"

#define ERRLEN 512

/* Everything one run of a benchmark holds; passed down instead of globals. */
struct run {
    const struct sb_collective *coll;
    const char *prog;
    struct sb_options opt;
    struct sb_comm comm;
    struct sb_backend be;
    struct sb_report report; /* rank 0 only */
    void *send, *recv;       /* the largest buffers of the sweep, reused by every size */
    size_t buffer_bytes;
    int64_t points, wrong_total, failed_points;
    double busbw_sum;
};

static const char *program_name(const char *argv0)
{
    const char *slash = strrchr(argv0, '/');
    return slash ? slash + 1 : argv0;
}

/* One line on stderr from rank 0. */
static void complain(const struct run *run, const char *msg)
{
    if (run->comm.rank == 0) {
        fprintf(stderr, "%s: %s\n", run->prog, msg);
        fflush(stderr);
    }
}

/* Options this version parses but cannot honour yet are refused rather than ignored. */
static int refuse_unavailable(const struct sb_options *o, char *err, size_t errlen)
{
    if (o->bind_explicit && strcmp(o->bind, "auto") != 0)
        snprintf(err, errlen, "--bind %s is not available in this build (topology support is not linked)", o->bind);
    else if (strcmp(o->mem_node, "local") != 0)
        snprintf(err, errlen, "--mem-node %s is not available in this build (topology support is not linked)",
                 o->mem_node);
    else if (o->timeout > 0)
        snprintf(err, errlen, "--timeout is not available in this build");
    else if (o->preflight == 1)
        snprintf(err, errlen, "--preflight is not available in this build");
    else
        return 0;
    return 2;
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
    return json_pack("{s:I, s:I, s:I, s:I, s:i, s:i, s:f, s:f, s:i, s:i, s:o, s:o, s:i, s:b}", "minbytes",
                     (json_int_t)o->min_bytes, "maxbytes", (json_int_t)o->max_bytes, "stepfactor",
                     (json_int_t)o->step_factor, "stepbytes", (json_int_t)o->step_bytes, "iters", o->iters, "warmup",
                     o->warmup, "precision", o->precision, "max_time_s", o->max_time, "min_iters", o->min_iters,
                     "max_iters", o->max_iters, "datatypes", dt, "ops", ops, "inplace", (int)o->inplace, "check",
                     o->check);
}

/* The "run" header record; every rank takes part (host names are gathered). */
static json_t *run_header(struct run *run, int argc, char **argv)
{
    enum { HOSTLEN = 64 };
    char host[HOSTLEN], *hosts = run->comm.rank == 0 ? calloc((size_t)run->comm.size, HOSTLEN) : NULL;
    sb_host_name(host, sizeof host);
    sb_comm_gather_strings(&run->comm, host, hosts, HOSTLEN);
    if (run->comm.rank != 0)
        return NULL;
    char cpu[256], mpi[256], hw[32], now[32];
    sb_cpu_model(cpu, sizeof cpu);
    sb_comm_library_version(mpi, sizeof mpi);
    sb_hwloc_version(hw, sizeof hw);
    sb_utc_now(now, sizeof now);
    json_t *cmd = json_array(), *host_list = json_array(), *placement = json_array();
    for (int i = 0; i < argc; i++)
        json_array_append_new(cmd, json_string(argv[i]));
    for (int r = 0; r < run->comm.size; r++) {
        const char *h = hosts + (size_t)r * HOSTLEN;
        char line[160];
        snprintf(line, sizeof line, "rank %d: host %s (binding not reported in this build)", r, h);
        json_array_append_new(placement, json_pack("{s:i, s:s, s:s}", "rank", r, "host", h, "summary", line));
        size_t k;
        json_t *v;
        int seen = 0;
        json_array_foreach(host_list, k, v) seen |= strcmp(json_string_value(v), h) == 0;
        if (!seen)
            json_array_append_new(host_list, json_string(h));
    }
    free(hosts);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s}", "schema", SB_SCHEMA, "type", "run", "benchmark",
                          run->prog, "collective", run->coll->name, "version", PACKAGE_VERSION, "git_revision",
                          SB_GIT_REVISION, "command_line", cmd, "start_time", now);
    json_object_set_new(o, "backend", json_string(run->be.name));
    json_object_set_new(o, "memory", json_string(run->be.memory));
    json_object_set_new(o, "ranks", json_integer(run->comm.size));
    json_object_set_new(o, "nodes", json_integer(run->comm.nodes));
    json_object_set_new(o, "ranks_per_node", json_integer(run->comm.local_size));
    json_object_set_new(o, "hosts", host_list);
    json_object_set_new(o, "cpu_model", json_string(cpu));
    json_object_set_new(o, "mpi_library", json_string(mpi));
    json_object_set_new(o, "hwloc_version", json_string(hw));
    json_object_set_new(o, "jansson_version", json_string(JANSSON_VERSION));
    json_object_set_new(o, "timer", json_string("clock_gettime(CLOCK_MONOTONIC)"));
    json_object_set_new(o, "timing", json_string("per-call: barrier, then the call; max over ranks per iteration"));
    json_object_set_new(o, "rank_placement", placement);
    json_object_set_new(o, "options", options_json(&run->opt));
    return o;
}

/* Largest per-rank footprint the node's memory allows for all its ranks (80% of what is
 * available), agreed on by every rank (the smallest node decides). */
static size_t memory_budget(const struct run *run)
{
    uint64_t avail = sb_available_memory();
    int64_t per_rank = avail ? (int64_t)(avail / 10 * 8 / (uint64_t)run->comm.local_size) : INT64_MAX;
    return (size_t)sb_comm_min_int64(&run->comm, per_rank);
}

/* Drops sizes whose buffers do not fit and says so; returns the new count. */
static size_t cap_to_memory(struct run *run, struct sb_size *sizes, size_t n, size_t elem)
{
    size_t budget = memory_budget(run), kept = 0;
    for (size_t i = 0; i < n; i++) {
        size_t need = sb_sweep_footprint(&sizes[i], elem, run->opt.inplace == SB_IN_PLACE);
        if (need <= budget) {
            sizes[kept++] = sizes[i];
            continue;
        }
        if (run->comm.rank == 0) {
            char line[256];
            snprintf(line, sizeof line,
                     "size %zu skipped: %d ranks on a node need %zu bytes each, %zu available per rank "
                     "(80%% of MemAvailable)", sizes[i].bytes, run->comm.local_size, need, budget);
            sb_report_note(&run->report, line);
        }
    }
    return kept;
}

/* (Re)allocates the two buffers for the largest size; every rank agrees on success. */
static int ensure_buffers(struct run *run, size_t bytes)
{
    int ok = 1;
    if (bytes > run->buffer_bytes) {
        run->be.free(&run->be, run->send);
        run->be.free(&run->be, run->recv);
        run->send = run->be.alloc(&run->be, bytes);
        run->recv = run->be.alloc(&run->be, bytes);
        ok = run->send && run->recv;
        run->buffer_bytes = ok ? bytes : 0;
    }
    return sb_comm_max_int(&run->comm, !ok) ? -1 : 0;
}

/* The untimed verification pass: fresh input, poisoned output, one call, count. */
static int64_t verify(struct run *run, const struct sb_call *call, const struct sb_pattern *pat)
{
    size_t elem = sb_dtype_size(pat->dtype);
    if (call->in_place) {
        sb_fill_input(run->coll, pat, run->comm.rank, call->recv);
    } else {
        sb_poison(call->recv, pat->layout.recv_count * elem);
    }
    int rc = run->coll->run(&run->be, call);
    int64_t wrong = rc ? (int64_t)pat->layout.recv_count : sb_count_wrong(run->coll, pat, run->comm.rank, call->recv);
    return sb_comm_sum_int64(&run->comm, wrong);
}

static void measure_point(struct run *run, const struct sb_size *size, enum sb_dtype t, enum sb_op op,
                          bool in_place, const char *op_impl)
{
    struct sb_pattern pat = {.ranks = run->comm.size, .dtype = t, .op = op, .layout = size->layout};
    struct sb_call call = {.send = in_place ? run->recv : run->send, .recv = run->recv, .in_place = in_place,
                           .dtype = t, .op = op, .layout = size->layout};
    sb_fill_input(run->coll, &pat, run->comm.rank, in_place ? run->recv : run->send);
    struct sb_timing_config cfg = {.iters = run->opt.iters, .warmup = run->opt.warmup,
                                   .min_iters = run->opt.min_iters, .max_iters = run->opt.max_iters,
                                   .precision = run->opt.precision, .max_time = run->opt.max_time};
    struct sb_timing timing;
    char error[ERRLEN] = "";
    if (sb_time_collective(&run->be, run->coll, &call, &cfg, &timing) != 0)
        snprintf(error, sizeof error, "out of memory for the timing samples");
    else if (timing.failed_ranks > 0) {
        char msg[256];
        run->be.strerror(&run->be, timing.error, msg, sizeof msg);
        snprintf(error, sizeof error, "%s failed on %d rank(s)%s%s", run->coll->title, timing.failed_ranks,
                 timing.error ? ": " : "", timing.error ? msg : "");
    }
    int64_t wrong = (run->opt.check && !error[0]) ? verify(run, &call, &pat) : -1;
    if (run->comm.rank == 0) {
        struct sb_record rec = {.coll = run->coll, .backend = run->be.name, .memory = run->be.memory,
                                .op_impl = op_impl, .dtype = t, .op = op, .in_place = in_place,
                                .ranks = run->comm.size, .nodes = run->comm.nodes,
                                .ranks_per_node = run->comm.local_size, .size = size, .timing = &timing,
                                .warmup = run->opt.warmup, .wrong = wrong, .error = error[0] ? error : NULL};
        sb_report_record(&run->report, &rec);
        run->points++;
        run->failed_points += error[0] != 0;
        run->wrong_total += wrong > 0 ? wrong : 0;
        run->busbw_sum += error[0] ? 0.0 : sb_record_busbw(&rec);
    }
    sb_timing_free(&timing);
}

static int sweep_dtype_op(struct run *run, enum sb_dtype t, enum sb_op op)
{
    const char *why = NULL, *impl = run->be.support(&run->be, t, op, &why);
    if (!impl) {
        char msg[ERRLEN];
        snprintf(msg, sizeof msg, "%s %s on %s: %s", sb_dtype_name(t), sb_op_name(op), run->be.name, why);
        complain(run, msg);
        return 2;
    }
    struct sb_size sizes[SB_MAX_SIZES * 4];
    char notes[8192];
    size_t elem = sb_dtype_size(t);
    size_t n = sb_sweep_build(&run->opt, run->coll, elem, run->comm.size, sizes,
                              sizeof sizes / sizeof *sizes, notes, sizeof notes);
    if (run->comm.rank == 0) {
        sb_report_table_heading(&run->report, run->coll, t, op, impl);
        for (char *line = strtok(notes, "\n"); line; line = strtok(NULL, "\n"))
            sb_report_note(&run->report, line);
    }
    n = cap_to_memory(run, sizes, n, elem);
    if (n == 0)
        return 0;
    size_t largest = 0;
    for (size_t i = 0; i < n; i++) {
        size_t b = sizes[i].layout.send_count > sizes[i].layout.recv_count ? sizes[i].layout.send_count
                                                                           : sizes[i].layout.recv_count;
        largest = b * elem > largest ? b * elem : largest;
    }
    if (ensure_buffers(run, largest) != 0) {
        char msg[128];
        snprintf(msg, sizeof msg, "cannot allocate two buffers of %zu bytes on some rank", largest);
        complain(run, msg);
        return 2;
    }
    for (size_t i = 0; i < n; i++) {
        if (run->opt.inplace != SB_IN_PLACE)
            measure_point(run, &sizes[i], t, op, false, impl);
        if (run->opt.inplace != SB_OUT_OF_PLACE)
            measure_point(run, &sizes[i], t, op, true, impl);
    }
    return 0;
}

static int sweep(struct run *run)
{
    for (int t = 0; t < SB_DTYPE_COUNT; t++) {
        if (!run->opt.dtypes[t])
            continue;
        for (int op = 0; op < SB_OP_COUNT; op++) {
            if (run->coll->reduces ? !run->opt.ops[op] : op != SB_SUM)
                continue;
            int rc = sweep_dtype_op(run, (enum sb_dtype)t, (enum sb_op)op);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static json_t *summary_record(const struct run *run, int exit_code)
{
    char now[32];
    sb_utc_now(now, sizeof now);
    const char *result = exit_code == 0 ? "pass" : exit_code == 1 ? "fail" : "error";
    return json_pack("{s:s, s:s, s:I, s:I, s:I, s:f, s:i, s:s, s:s}", "schema", SB_SCHEMA, "type", "summary", "points",
                     (json_int_t)run->points, "wrong_total", (json_int_t)run->wrong_total, "failed_points",
                     (json_int_t)run->failed_points, "avg_busbw_gbps",
                     run->points ? run->busbw_sum / (double)run->points : 0.0, "exit_code", exit_code, "result",
                     result, "end_time", now);
}

/* Rank 0 opens the outputs; every rank learns whether that worked. */
static int open_outputs(struct run *run)
{
    char err[ERRLEN] = "";
    int rc = 0;
    if (run->comm.rank == 0)
        rc = sb_report_open(&run->report, run->opt.json_path, run->opt.csv_path, run->opt.keep_samples, err,
                            sizeof err);
    sb_comm_bcast_int(&run->comm, &rc);
    if (rc)
        complain(run, err);
    return rc;
}

static int run_benchmark(struct run *run, int argc, char **argv)
{
    char err[ERRLEN];
    int rc = sb_backend_mpi_init(&run->be, &run->comm, err, sizeof err);
    if (rc) {
        complain(run, err);
        return rc;
    }
    if ((rc = open_outputs(run)) != 0)
        return rc;
    json_t *header = run_header(run, argc, argv);
    if (run->comm.rank == 0)
        sb_report_header(&run->report, run->coll, header);
    rc = sweep(run);
    if (rc == 0)
        rc = (run->wrong_total > 0 || run->failed_points > 0) ? 1 : 0;
    int exit_code = sb_comm_max_int(&run->comm, rc);
    if (run->comm.rank == 0) {
        if (exit_code == 2)
            sb_report_error(&run->report, "the run stopped early; see stderr");
        sb_report_summary(&run->report, summary_record(run, exit_code));
        sb_report_close(&run->report);
    }
    run->be.free(&run->be, run->send);
    run->be.free(&run->be, run->recv);
    run->be.finalize(&run->be);
    return exit_code;
}

int sb_main(const struct sb_collective *coll, int argc, char **argv)
{
    struct run *run = calloc(1, sizeof *run);
    if (!run) {
        fprintf(stderr, "%s: out of memory\n", program_name(argv[0]));
        return 2;
    }
    run->coll = coll;
    run->prog = program_name(argv[0]);
    char err[ERRLEN];
    int rc = sb_comm_init(&run->comm, &argc, &argv, err, sizeof err);
    if (rc) {
        fprintf(stderr, "%s: %s\n", run->prog, err);
        sb_comm_finalize(&run->comm);
        free(run);
        return rc;
    }
    rc = sb_options_parse(&run->opt, coll->reduces, argc, argv, err, sizeof err);
    if (rc == 0)
        rc = refuse_unavailable(&run->opt, err, sizeof err);
    if (rc) {
        complain(run, err);
    } else if (run->opt.help) {
        if (run->comm.rank == 0)
            sb_options_usage(run->prog, coll->title, coll->reduces, stdout);
    } else if (run->opt.version) {
        if (run->comm.rank == 0)
            printf("scalebench %s (%s)\n", PACKAGE_VERSION, SB_GIT_REVISION);
    } else {
        rc = run_benchmark(run, argc, argv);
    }
    sb_comm_finalize(&run->comm);
    free(run);
    return rc;
}
