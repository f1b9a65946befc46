/* --background alltoall: the congestion impact on a collective, in the spirit of GPCNeT.  The
 * even ranks measure; the odd ranks (on the same nodes, sharing their links and NICs) make
 * traffic.  Each point is measured twice on the measuring half: once with the other half idle,
 * once while it runs all-to-all back to back; the record's time is the second, and it carries
 * the first and their ratio (the impact: 1 = no effect, 2 = twice as slow). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

struct sb_congestion {
    bool measuring;                   /* this rank is in the measuring half */
    struct sb_comm half;              /* this rank's half */
    struct sb_backend be;             /* the data plane on it */
    struct sb_call traffic;           /* background ranks: the all-to-all they repeat */
    size_t traffic_bytes;
    int background_ranks;
    double *impacts;                  /* rank 0: one per point */
    size_t points, cap;
};

/* 0, or 2 with the line in err; every rank returns the same. */
static int refuse(const struct run *run, char *err, size_t len)
{
    if (run->comm.size < 4)
        snprintf(err, len, "--background needs at least 4 ranks (half measure, half make traffic); got %d",
                 run->comm.size);
    else if (!run->be.split || !run->be.alltoall)
        snprintf(err, len, "--background needs --backend mpi on host memory, or --backend nccl with NCCL 2.18 or "
                 "later (ncclCommSplit)");
    else if (run->opt.per_rank)
        snprintf(err, len, "--background and --per-rank together are not supported: use one at a time");
    else
        return 0;
    return 2;
}

static int make_traffic_buffers(struct sb_congestion *c)
{
    size_t per_peer = c->traffic_bytes / (size_t)c->background_ranks;
    void *send = c->be.alloc(&c->be, c->traffic_bytes), *recv = c->be.alloc(&c->be, c->traffic_bytes);
    if (!send || !recv) {
        if (send)
            c->be.free(&c->be, send, c->traffic_bytes);
        if (recv)
            c->be.free(&c->be, recv, c->traffic_bytes);
        return -1;
    }
    /* the traffic's content is never checked; device buffers (NCCL) are written by a copy, never
     * by the host */
    int rc = 0;
    if (c->be.upload) {
        void *host = malloc(c->traffic_bytes);
        rc = host ? 0 : -1;
        if (host) {
            memset(host, 0x5a, c->traffic_bytes);
            rc = c->be.upload(&c->be, send, host, c->traffic_bytes);
            free(host);
        }
    } else {
        memset(send, 0x5a, c->traffic_bytes);
    }
    if (rc != 0) {
        c->be.free(&c->be, send, c->traffic_bytes);
        c->be.free(&c->be, recv, c->traffic_bytes);
        return -1;
    }
    c->traffic = (struct sb_call){.send = send, .recv = recv, .dtype = SB_UINT8, .op = SB_SUM,
                                  .layout = {.count = c->traffic_bytes, .count_per_peer = per_peer,
                                             .send_count = c->traffic_bytes, .recv_count = c->traffic_bytes}};
    return 0;
}

int sb_congestion_setup(struct run *run, char *err, size_t len)
{
    if (refuse(run, err, len))
        return 2;
    struct sb_congestion *c = calloc(1, sizeof *c);
    int bad = !c;
    if (sb_comm_max_int(&run->comm, bad)) {
        free(c);
        snprintf(err, len, "out of memory");
        return 2;
    }
    c->measuring = run->comm.rank % 2 == 0;
    int color = !c->measuring, rc = sb_comm_split(&run->comm, color, run->comm.rank, &c->half);
    int brc = rc ? rc : run->be.split(&run->be, &c->half, color, run->comm.rank, &c->be);
    bad = rc != 0 || brc != 0;
    /* whole elements per peer: the size rounds down to a multiple of the background ranks */
    c->background_ranks = run->comm.size / 2;
    size_t per_peer = run->opt.background_bytes / (size_t)c->background_ranks;
    c->traffic_bytes = (per_peer ? per_peer : 1) * (size_t)c->background_ranks;
    if (!bad && !c->measuring)
        bad = make_traffic_buffers(c) != 0;
    run->congestion = c;
    if (sb_comm_max_int(&run->comm, bad)) {
        snprintf(err, len, "--background: cannot split the ranks into two halves or allocate the traffic's buffers");
        return 2;
    }
    return 0;
}

int sb_congestion_measuring_ranks(const struct run *run) { return run->comm.size - run->comm.size / 2; }

void sb_congestion_describe(struct run *run)
{
    struct sb_congestion *c = run->congestion;
    if (run->comm.rank != 0 || !c)
        return;
    char note[256];
    snprintf(note, sizeof note, "--background alltoall: the %d even ranks measure, the %d odd ranks run "
             "all-to-all of %zu bytes per rank back to back; each point alone, then with that traffic",
             run->comm.size - c->background_ranks, c->background_ranks, c->traffic_bytes);
    sb_report_note(&run->report, note);
}

/* Background ranks: all-to-all until every measuring rank has finished (a nonblocking barrier
 * over all ranks, which they enter when done); the halves agree on every step.  Returns the
 * calls made. */
static long long make_traffic(struct run *run, struct sb_congestion *c)
{
    struct sb_comm_request *req = NULL;
    sb_comm_ibarrier(&run->comm, &req);
    long long calls = 0;
    int done = 0;
    while (!done) {
        c->be.alltoall(&c->be, &c->traffic);
        sb_watchdog_progress(run->watchdog); /* -T: a rank making traffic is not hung */
        calls++;
        done = sb_comm_max_int(&c->half, sb_comm_request_done(&req));
    }
    while (!sb_comm_request_done(&req))
        ;
    return calls;
}

/* Measuring ranks: one timing and check of the point on their half. */
static int64_t measure(struct run *run, struct sb_congestion *c, const struct sb_pattern *pat,
                       const struct sb_call *call, struct sb_timing *timing, char *error, size_t len)
{
    sb_run_time_point(run, &c->be, pat, call, 1, timing, error, len);
    return (run->opt.check && !error[0]) ? sb_run_verify(run, &c->be, call, pat, error, len) : -1;
}

static void keep_impact(struct sb_congestion *c, double impact)
{
    if (c->points == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 32;
        double *v = realloc(c->impacts, cap * sizeof *v);
        if (!v)
            return;
        c->impacts = v;
        c->cap = cap;
    }
    c->impacts[c->points++] = impact;
}

void sb_congestion_point(struct run *run, const struct sb_size *size, enum sb_dtype t, enum sb_op op, bool in_place,
                         const char *op_impl)
{
    struct sb_congestion *c = run->congestion;
    struct sb_pattern pat = {.ranks = c->half.size, .dtype = t, .op = op, .layout = size->layout};
    struct sb_call call = {.send = in_place ? run->recv : run->send, .recv = run->recv, .in_place = in_place,
                           .dtype = t, .op = op, .layout = size->layout};
    char what[256], error[ERRLEN] = "", error2[ERRLEN] = "";
    struct sb_timing alone = {0}, loaded = {0};
    int64_t wrong = -1, wrong2 = -1;
    long long calls = 0;
    sb_run_describe_point(run, size->bytes, t, op, in_place, what, sizeof what);
    sb_watchdog_arm(run->watchdog, what, size->bytes);
    sb_comm_barrier(&run->comm);
    if (c->measuring)
        wrong = measure(run, c, &pat, &call, &alone, error, sizeof error);
    sb_comm_barrier(&run->comm); /* the background starts only now, for the second measurement */
    if (c->measuring) {
        wrong2 = measure(run, c, &pat, &call, &loaded, error2, sizeof error2);
        struct sb_comm_request *req = NULL;
        sb_comm_ibarrier(&run->comm, &req);
        while (!sb_comm_request_done(&req))
            ;
    } else {
        calls = make_traffic(run, c);
    }
    sb_watchdog_disarm(run->watchdog);
    calls = sb_comm_max_int(&run->comm, (int)(calls > 2000000000 ? 2000000000 : calls));
    if (run->comm.rank == 0) {
        struct sb_congestion_info info = {.background = run->opt.background,
                                          .background_ranks = c->background_ranks,
                                          .background_bytes = c->traffic_bytes,
                                          .background_calls = calls, .isolated = alone.max};
        const char *err = error[0] ? error : error2[0] ? error2 : NULL;
        struct sb_record rec = {.coll = run->coll, .backend = run->be.name, .memory = run->be.memory,
                                .op_impl = op_impl, .timing_label = run->opt.sync_window ? SB_WINDOW_TIMING : run->be.timing, .dtype = t, .op = op,
                                .in_place = in_place, .ranks = c->half.size, .nodes = c->half.nodes,
                                .ranks_per_node = c->half.local_size, .size = size, .timing = &loaded,
                                .warmup = run->opt.warmup, .wrong = wrong < 0 || wrong2 < 0 ? -1 : wrong + wrong2,
                                .error = err, .congestion = &info, .check = sb_run_check_where(run, &run->be)};
        sb_run_record(run, &rec, what);
        if (!err && alone.max.median > 0)
            keep_impact(c, loaded.max.median / alone.max.median);
    }
    sb_timing_free(&alone);
    sb_timing_free(&loaded);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

json_t *sb_congestion_summary(struct run *run)
{
    struct sb_congestion *c = run->congestion;
    if (!c || c->points == 0)
        return json_null();
    qsort(c->impacts, c->points, sizeof *c->impacts, cmp_double);
    double median = c->points % 2 ? c->impacts[c->points / 2]
                                  : 0.5 * (c->impacts[c->points / 2 - 1] + c->impacts[c->points / 2]);
    double worst = c->impacts[c->points - 1];
    fprintf(run->report.table, "# congestion impact (--background %s, %d ranks, %zu bytes): median %.2fx, max %.2fx "
                               "over %zu points (time with the traffic / time alone)\n",
            run->opt.background, c->background_ranks, c->traffic_bytes, median, worst, c->points);
    return json_pack("{s:s, s:i, s:I, s:I, s:f, s:f}", "background", run->opt.background, "background_ranks",
                     c->background_ranks, "background_bytes", (json_int_t)c->traffic_bytes, "points",
                     (json_int_t)c->points, "impact_median", median, "impact_max", worst);
}

void sb_congestion_teardown(struct run *run)
{
    struct sb_congestion *c = run->congestion;
    if (!c)
        return;
    if (c->traffic.send) {
        c->be.free(&c->be, (void *)c->traffic.send, c->traffic_bytes);
        c->be.free(&c->be, c->traffic.recv, c->traffic_bytes);
    }
    if (c->be.finalize)
        c->be.finalize(&c->be);
    sb_comm_free(&c->half);
    free(c->impacts);
    free(c);
    run->congestion = NULL;
}
