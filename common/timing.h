/* The timing loop, written once: warm-up, then batches of (barrier, t0, call(s), t1) on every rank;
 * after each batch (outside the timed region) the samples are reduced to rank 0, which decides
 * whether to go on. */
#ifndef SB_TIMING_H
#define SB_TIMING_H

#include <stdbool.h>
#include <stddef.h>

#include "backend.h"
#include "stats.h"
#include "watchdog.h"

struct sb_timing_config {
    int iters;        /* fixed count, or 0 for adaptive */
    int warmup;
    int min_iters, max_iters;
    double precision; /* adaptive: target relative half-width of the median's 95% interval */
    double max_time;  /* adaptive: seconds of iterations per size */
    struct sb_watchdog *watchdog; /* told of every completed call (outside the timed region), or NULL */
    int calls_per_sample;  /* 1: each call timed alone; N: a pipelined batch of N calls per sample,
                            * whose time / N is the sample (0 counts as 1) */
    /* --off-cache: call k (warm-up included) runs on buffers moved by (k mod slots) x
     * slot_stride bytes, send and receive alike; slots <= 1: the same buffers every call */
    size_t slots, slot_stride;
    /* --sync window: no barrier; clocks aligned to rank 0 before every chunk of iterations, and
     * iteration k of a chunk starts on every rank at T0 + k x window (rank 0's clock); the sample
     * is the end of the call minus that agreed start, and late-started iterations are dropped */
    bool sync_window;
};

struct sb_timing {
    size_t n;                 /* iterations timed */
    double *max_us;           /* rank 0: per iteration, the slowest rank's time */
    double *mean_us;          /* rank 0: per iteration, the mean over ranks */
    struct sb_stats max, mean;
    struct sb_stats own;      /* every rank: its own per-iteration times (us) */
    bool precision_reached;
    int error;                /* first backend error code on this rank, 0 if none */
    int failed_ranks;         /* ranks that saw an error (same on every rank) */
    size_t slots, slot_stride; /* --off-cache: the buffers cycled through (slots 0: off) */
    /* --sync window (rank 0): the last chunk's window length, the iterations dropped because some
     * rank started them late (after the agreed instant), and the longest of the ranks' best
     * clock-alignment round trips (the alignment is good to about half of it) */
    bool window;
    double window_us, clock_rtt_max_us;
    size_t late_iterations;
    int buffers;               /* buffers per slot: 1 in place, else 2 (send and receive) */
};

/* What one sample is under --sync window (the record's `timing`). */
#define SB_WINDOW_TIMING \
    "per-call, window-synchronised: clocks aligned to rank 0 by ping-pong before every chunk of at most 16 " \
    "iterations, every rank starts iteration k at the agreed instant T0 + k x window, no barrier; sample = end " \
    "of the call - that start; max over ranks per iteration; iterations a rank started late are dropped"

/* Times coll->run(be, call).  Every rank must call it.  Returns 0, or -1 when memory ran out. */
int sb_time_collective(const struct sb_backend *be, const struct sb_collective *coll, const struct sb_call *call,
                       const struct sb_timing_config *cfg, struct sb_timing *out);
void sb_timing_free(struct sb_timing *t);

/* Monotonic seconds. */
double sb_now(void);
/* Sleeps that long (seconds). */
void sb_sleep(double seconds);

#endif
