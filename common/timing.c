#include "timing.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double sb_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void sb_sleep(double seconds)
{
    struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static int grow(double **a, size_t need)
{
    double *p = realloc(*a, need * sizeof **a);
    if (!p)
        return -1;
    *a = p;
    return 0;
}

/* One sample: `calls` calls back to back, by the backend's device clock or else the host's;
 * seconds per call. */
static int timed_sample(const struct sb_backend *be, const struct sb_collective *coll, const struct sb_call *call,
                        int calls, double *seconds)
{
    int rc = 0;
    if (be->time_calls) {
        rc = be->time_calls(be, coll, call, calls, seconds);
    } else {
        double t0 = sb_now();
        for (int j = 0; j < calls; j++) {
            int one = coll->run(be, call);
            rc = rc ? rc : one;
        }
        *seconds = sb_now() - t0;
    }
    *seconds /= calls;
    return rc;
}

/* The call of turn k: the buffers of slot k mod slots (--off-cache), else the call itself. */
static struct sb_call call_of_turn(const struct sb_call *call, const struct sb_timing_config *cfg, size_t k)
{
    struct sb_call c = *call;
    if (cfg->slots > 1) {
        size_t shift = (k % cfg->slots) * cfg->slot_stride;
        c.send = (const char *)call->send + shift;
        c.recv = (char *)call->recv + shift;
    }
    return c;
}

/* --sync window: one chunk's schedule.  start0 and length are rank 0's, broadcast; offset is
 * this rank's (rank 0's clock minus its own). */
struct window {
    double offset, start0, length;
    double rtt_max; /* rank 0: the longest of the ranks' best round trips so far */
    double *late;   /* per iteration of the chunk: 1 when this rank arrived after the start */
};

enum { CLOCK_ROUNDS = 8 };
#define WINDOW_MIN_S 10e-6 /* no window shorter than this */
#define WINDOW_LEAD_S 1e-3 /* from rank 0 fixing the chunk's first start to that start */

/* Waits for the agreed instant (this rank's clock); 1 when it had already passed. */
static int wait_until(double start)
{
    double now = sb_now();
    if (now > start)
        return 1;
    while ((now = sb_now()) < start)
        if (start - now > 50e-6)
            sched_yield(); /* far from the start: let another process have the core meanwhile */
    return 0;
}

/* The timed region: nothing but the barrier (or the wait for the agreed start), the clock and
 * the call(s). *turn counts the calls made so far (warm-up included), for --off-cache. */
static int run_batch(const struct sb_backend *be, const struct sb_collective *coll, const struct sb_call *call,
                     double *seconds, size_t n, const struct sb_timing_config *cfg, size_t *turn,
                     struct window *w)
{
    int first_error = 0, calls = cfg->calls_per_sample > 1 ? cfg->calls_per_sample : 1;
    for (size_t k = 0; k < n; k++) {
        struct sb_call c = call_of_turn(call, cfg, (*turn)++);
        int rc;
        if (w) {
            double start = w->start0 + (double)k * w->length - w->offset;
            w->late[k] = wait_until(start);
            rc = coll->run(be, &c);
            seconds[k] = sb_now() - start;
        } else {
            be->barrier(be);
            rc = timed_sample(be, coll, &c, calls, &seconds[k]);
        }
        sb_watchdog_progress(cfg->watchdog);
        if (rc && !first_error)
            first_error = rc;
    }
    return first_error;
}

/* The first window: twice the slowest rank's longest of 5 barrier-started calls (untimed). */
static double pilot_window(const struct sb_backend *be, const struct sb_collective *coll, const struct sb_call *call,
                           const struct sb_timing_config *cfg, size_t *turn)
{
    double longest = 0, slowest = 0, unused = 0;
    for (int k = 0; k < 5; k++) {
        struct sb_call c = call_of_turn(call, cfg, (*turn)++);
        be->barrier(be);
        double t0 = sb_now();
        coll->run(be, &c);
        double t = sb_now() - t0;
        longest = t > longest ? t : longest;
        sb_watchdog_progress(cfg->watchdog);
    }
    sb_comm_reduce_max_sum(be->comm, &longest, &slowest, &unused, 1);
    return 2 * slowest;
}

/* Before each chunk: clocks aligned again (they drift apart), then rank 0 fixes the first
 * start and the length (at least the pilot's, plus the alignment's uncertainty). */
static void plan_window(const struct sb_comm *comm, struct window *w)
{
    double rtt = 0, longest = 0, unused = 0;
    sb_comm_clock_offset(comm, CLOCK_ROUNDS, sb_now, &w->offset, &rtt);
    sb_comm_reduce_max_sum(comm, &rtt, &longest, &unused, 1);
    double plan[2] = {0, 0};
    if (comm->rank == 0) {
        w->rtt_max = longest > w->rtt_max ? longest : w->rtt_max;
        double length = w->length > w->rtt_max + WINDOW_MIN_S ? w->length : w->rtt_max + WINDOW_MIN_S;
        plan[0] = sb_now() + WINDOW_LEAD_S + length;
        plan[1] = length;
    }
    sb_comm_bcast_bytes(comm, plan, sizeof plan);
    w->start0 = plan[0];
    w->length = plan[1];
}

/* After a chunk, rank 0: `late` flags the iterations in which some rank started after the
 * agreed instant; more than a tenth of them late doubles the window for the next chunk (a window
 * shorter than the call and its noise). */
static void review_window(struct window *w, const double *late, size_t n, struct sb_timing *out)
{
    size_t count = 0;
    for (size_t k = 0; k < n; k++)
        count += late[k] > 0;
    out->late_iterations += count;
    out->window_us = w->length * 1e6; /* the window these samples ran with */
    out->clock_rtt_max_us = w->rtt_max * 1e6;
    if (count * 10 > n)
        w->length *= 2; /* for the next chunk, if there is one */
}

enum { WINDOW_CHUNK = 16 }; /* iterations per plan: a window too short is corrected this soon */

/* --sync window: up to `want` kept samples (seconds) into dst, in chunks of at most
 * WINDOW_CHUNK iterations, each planned anew (clocks re-aligned, the window perhaps doubled).
 * An iteration in which some rank started late is dropped on every rank (ReproMPI's rule: its
 * lateness would be in the sample, and a late rank makes the next ones late) and counted on rank
 * 0.  At most 4 x want iterations are tried.  Returns the samples kept; *rc the first call error. */
static size_t collect_windowed(const struct sb_backend *be, const struct sb_collective *coll,
                               const struct sb_call *call, const struct sb_timing_config *cfg, size_t *turn,
                               struct window *w, double *dst, size_t want, struct sb_timing *out, int *rc)
{
    const struct sb_comm *comm = be->comm;
    double sample[WINDOW_CHUNK], late[WINDOW_CHUNK], any[WINDOW_CHUNK], unused[WINDOW_CHUNK];
    size_t kept = 0;
    for (size_t tried = 0; kept < want && tried < 4 * want;) {
        size_t n = want - kept < WINDOW_CHUNK ? want - kept : WINDOW_CHUNK;
        plan_window(comm, w);
        w->late = late;
        int one = run_batch(be, coll, call, sample, n, cfg, turn, w);
        *rc = *rc ? *rc : one;
        sb_comm_reduce_max_sum(comm, late, any, unused, n);
        if (comm->rank == 0)
            review_window(w, any, n, out);
        sb_comm_bcast_bytes(comm, any, n * sizeof *any); /* every rank drops the same iterations */
        for (size_t k = 0; k < n; k++)
            if (any[k] == 0)
                dst[kept++] = sample[k];
        tried += n;
    }
    return kept;
}

/* Rank 0's decision after a batch: the next batch's size, 0 to stop. */
static size_t next_batch(const struct sb_timing_config *cfg, struct sb_timing *t, double *scratch, double spent)
{
    if (cfg->iters > 0)
        return 0; /* a fixed count is done in one batch */
    sb_stats_compute(t->max_us, t->n, scratch, &t->max);
    t->precision_reached = sb_stats_relative_ci(&t->max) <= cfg->precision;
    if ((t->precision_reached && t->n >= (size_t)cfg->min_iters) || t->n >= (size_t)cfg->max_iters ||
        spent >= cfg->max_time)
        return 0;
    /* Double the sample, but not past the iteration cap or the time left at the current pace. */
    size_t want = t->n;
    size_t cap = (size_t)cfg->max_iters - t->n;
    double per_iter = spent / (double)t->n;
    double fits = per_iter > 0 ? (cfg->max_time - spent) / per_iter : (double)want;
    if (fits < (double)want)
        want = fits < 1 ? 1 : (size_t)fits;
    return want < cap ? want : cap;
}

int sb_time_collective(const struct sb_backend *be, const struct sb_collective *coll, const struct sb_call *call,
                       const struct sb_timing_config *cfg, struct sb_timing *out)
{
    const struct sb_comm *comm = be->comm;
    memset(out, 0, sizeof *out);
    int warm_error = 0;
    size_t turn = 0;
    for (int w = 0; w < cfg->warmup; w++) {
        struct sb_call c = call_of_turn(call, cfg, turn++);
        int rc = coll->run(be, &c);
        sb_watchdog_progress(cfg->watchdog);
        if (rc && !warm_error)
            warm_error = rc;
    }
    size_t batch = cfg->iters > 0 ? (size_t)cfg->iters : (size_t)cfg->min_iters;
    double *local = NULL, *scratch = NULL, spent = 0.0;
    int oom = 0;
    out->error = warm_error;
    struct window win = {0};
    if (cfg->sync_window) {
        out->window = true;
        win.length = pilot_window(be, coll, call, cfg, &turn);
    }
    while (batch > 0) {
        size_t need = out->n + batch;
        oom = grow(&local, need) || grow(&scratch, need) ||
              (comm->rank == 0 && (grow(&out->max_us, need) || grow(&out->mean_us, need)));
        if (sb_comm_max_int(comm, oom))
            break;
        double start = sb_now();
        int rc = 0;
        if (cfg->sync_window) {
            batch = collect_windowed(be, coll, call, cfg, &turn, &win, local + out->n, batch, out, &rc);
            need = out->n + batch; /* the late iterations are not in it */
        } else {
            rc = run_batch(be, coll, call, local + out->n, batch, cfg, &turn, NULL);
        }
        if (rc && !out->error)
            out->error = rc;
        spent += sb_now() - start;
        for (size_t k = out->n; k < need; k++)
            local[k] *= 1e6;
        sb_comm_reduce_max_sum(comm, local + out->n, comm->rank == 0 ? out->max_us + out->n : NULL,
                               comm->rank == 0 ? out->mean_us + out->n : NULL, batch);
        out->n = need;
        int next = 0;
        if (comm->rank == 0 && out->n > 0) { /* none yet: every windowed iteration was late */
            for (size_t k = need - batch; k < need; k++)
                out->mean_us[k] /= comm->size;
            next = (int)next_batch(cfg, out, scratch, spent);
        }
        sb_comm_bcast_int(comm, &next);
        batch = (size_t)next;
    }
    out->failed_ranks = (int)sb_comm_sum_int64(comm, out->error != 0);
    if (!oom && out->n > 0)
        sb_stats_compute(local, out->n, scratch, &out->own);
    if (!oom && comm->rank == 0 && out->n > 0) {
        sb_stats_compute(out->max_us, out->n, scratch, &out->max);
        sb_stats_compute(out->mean_us, out->n, scratch, &out->mean);
        if (cfg->iters > 0)
            out->precision_reached = sb_stats_relative_ci(&out->max) <= cfg->precision;
    }
    free(local);
    free(scratch);
    return oom ? -1 : 0;
}

void sb_timing_free(struct sb_timing *t)
{
    free(t->max_us);
    free(t->mean_us);
    t->max_us = t->mean_us = NULL;
}
