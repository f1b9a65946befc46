/* The state of one benchmark run, shared by the harness's files (harness.c: options, set-up,
 * the sweep; pairwise.c: sb_pairs' rounds; congestion.c: --background).  Internal to common/. */
#ifndef SB_RUN_H
#define SB_RUN_H

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>

#include "backend.h"
#include "collective.h"
#include "comm.h"
#include "options.h"
#include "placement.h"
#include "progress.h"
#include "report.h"
#include "straggler.h"
#include "sweep.h"
#include "timing.h"
#include "watchdog.h"

#define ERRLEN 512

/* sb_pairs, rank 0: one measured pair at one size, kept for the verdict at the end. */
struct sb_pair_result {
    int a, b;          /* members (nodes or ranks) */
    size_t bytes;
    double bidir_gbps; /* both directions together, all lanes */
    double median_us;
};

struct sb_pairs_log {
    const char *level; /* "node" or "rank" */
    int members;
    char (*names)[96]; /* a host name, or "r3@host" */
    size_t n, cap;
    struct sb_pair_result *v;
};

struct sb_congestion;

/* Everything one run of a benchmark holds; passed down instead of globals. */
struct run {
    const struct sb_collective *coll;
    const char *prog;
    struct sb_options opt;
    struct sb_comm comm;
    struct sb_backend be;
    struct sb_placement place; /* binding and memory policy, applied before any allocation */
    struct sb_report report; /* rank 0 only */
    pthread_mutex_t report_lock; /* the watchdog thread may write the error record */
    struct sb_watchdog *watchdog; /* -T, or NULL */
    struct sb_progress progress;  /* rank 0: the stderr progress line */
    struct sb_stragglers stragglers; /* --per-rank, rank 0 */
    json_t *rank_hosts;           /* rank 0: host name of every rank, for the straggler report */
    void *send, *recv;       /* the largest buffers of the sweep, reused by every size */
    void *staging;           /* device memory: host copy for filling and checking, else NULL */
    size_t buffer_bytes;
    size_t off_cache;        /* --off-cache's region per rank in bytes (auto resolved), 0: off */
    int64_t points, wrong_total, failed_points;
    double busbw_sum;
    struct sb_pairs_log pairs_log; /* rank 0, sb_pairs: every pair's result, for the verdict */
    struct sb_congestion *congestion; /* --background: the two halves and the impacts seen */
};


/* Times one point on the ranks of `be` (the run's backend, or a part of it), `calls` calls per
 * sample (1: each call alone; N: pipelined batches); `error` says why it failed, or stays
 * empty.  Every rank of be->comm calls it. */
void sb_run_time_point(struct run *run, const struct sb_backend *be, const struct sb_pattern *pat,
                       const struct sb_call *call, int calls, struct sb_timing *timing, char *error, size_t len);
/* --off-cache: how many copies of a point's buffers the calls cycle through (0: off; 1: the
 * buffers alone outgrow the region), *stride bytes apart.  The same on every rank. */
size_t sb_run_off_cache_slots(const struct run *run, const struct sb_layout *layout, enum sb_dtype t, bool in_place,
                              size_t *stride);
/* The untimed verification pass on the ranks of `be`: wrong elements summed over them, or -1 with
 * `error` filled (on every rank) when some rank could not check. */
int64_t sb_run_verify(struct run *run, const struct sb_backend *be, const struct sb_call *call,
                      const struct sb_pattern *pat, char *error, size_t len);
/* Rank 0: writes the record and keeps the running totals and the progress line. */
void sb_run_record(struct run *run, const struct sb_record *rec, const char *what);
/* "AllReduce of 64 bytes (float sum, in-place)" for the progress line and the watchdog. */
void sb_run_describe_point(const struct run *run, size_t bytes, enum sb_dtype t, enum sb_op op, bool in_place,
                           char *buf, size_t len);
/* Where results are checked on `be`: "device" (the backend's kernels) or "host". */
const char *sb_run_check_where(const struct run *run, const struct sb_backend *be);
/* One line on stderr from rank 0. */
void sb_run_complain(const struct run *run, const char *msg);

/* sb_pairs (pairwise.c): refuses a job the schedule cannot pair (2, with the line in err); the
 * sweep of one dtype over every round; the number of pairs (for the progress line). */
int sb_pairwise_check(const struct run *run, char *err, size_t len);
int sb_pairwise_sweep(struct run *run, enum sb_dtype t, const char *impl, const struct sb_size *sizes, size_t n,
                      bool out_of_place, bool in_place);
long sb_pairwise_pairs(const struct run *run);
/* Rank 0: the verdict of the whole sweep, for the summary record (and its text lines). */
json_t *sb_pairwise_verdict(struct run *run);

/* --background (congestion.c): sets up the two halves (2 with the line in err when it cannot);
 * measures one point alone and under the background traffic; the summary; tears down. */
int sb_congestion_setup(struct run *run, char *err, size_t len);
void sb_congestion_describe(struct run *run); /* rank 0: the note saying how it is done */
int sb_congestion_measuring_ranks(const struct run *run);
void sb_congestion_point(struct run *run, const struct sb_size *size, enum sb_dtype t, enum sb_op op, bool in_place,
                         const char *op_impl);
json_t *sb_congestion_summary(struct run *run);
void sb_congestion_teardown(struct run *run);

#endif
