/* -T/--timeout: a watchdog thread per rank that ends a hung job with a report naming the
 * ranks that had not finished, instead of letting it hang until the batch system kills it.
 *
 * The main thread marks progress (one relaxed atomic store after every collective call, outside
 * the timed region) and says what it is doing (sb_watchdog_arm: collective, size, dtype).  When
 * a rank sees no progress for `timeout` seconds while armed, its watchdog measures how much CPU
 * the main thread used over the next half second -- a rank blocked inside MPI polls (busy), a
 * rank stuck elsewhere (a hung GPU kernel, a sleep, a page-fault storm) is usually idle -- and
 * sends that to rank 0 over the comm's side channel.  Rank 0's watchdog collects the reports
 * for a grace period, prints them (rank, host, size, elapsed, busy), hands the error record to
 * the harness's callback (which writes it to the JSON Lines), and aborts the job with exit 1.
 *
 * Needs MPI_THREAD_MULTIPLE for the side channel; without it each rank reports only itself. */
#ifndef SB_WATCHDOG_H
#define SB_WATCHDOG_H

#include <jansson.h>
#include <stddef.h>

#include "comm.h"

struct sb_watchdog;

/* Called on rank 0 (from the watchdog thread) with the error record, before the abort. */
typedef void (*sb_watchdog_report_fn)(json_t *error_record, void *arg);

/* Starts the thread (every rank; opens the side channel, so collective).  timeout_s > 0.
 * 0, or 2 with err. */
int sb_watchdog_start(struct sb_watchdog **w, struct sb_comm *c, const char *prog, double timeout_s,
                      sb_watchdog_report_fn report, void *arg, char *err, size_t errlen);
/* From now on, no progress for timeout_s is a hang; `what` describes the work ("AllReduce of
 * 65536 bytes, float sum, out-of-place"), `bytes` its size. */
void sb_watchdog_arm(struct sb_watchdog *w, const char *what, size_t bytes);
/* One collective call completed (cheap: one atomic store). */
void sb_watchdog_progress(struct sb_watchdog *w);
/* Nothing to watch (between sizes, while writing records). */
void sb_watchdog_disarm(struct sb_watchdog *w);
/* Stops and joins the thread, closes the side channel (collective). */
void sb_watchdog_stop(struct sb_watchdog *w, struct sb_comm *c);

/* The fraction of CPU `busy` below which a stuck rank is called idle. */
#define SB_WATCHDOG_IDLE_BELOW 0.2
/* ... and the fraction of the busiest stuck rank's use it must also be under: on an
 * oversubscribed node (more ranks than cores, as in CI) the polling ranks share the cores and
 * each may get less than 20%, which alone would call every rank idle. */
#define SB_WATCHDOG_IDLE_RELATIVE 0.25

/* Whether a stuck rank whose main thread used `busy` of a core (negative: unknown) looks idle
 * next to `busiest`, the highest use among the stuck ranks. */
static inline int sb_watchdog_looks_idle(double busy, double busiest)
{
    return busy >= 0 && busy < SB_WATCHDOG_IDLE_BELOW && busy < SB_WATCHDOG_IDLE_RELATIVE * busiest;
}

#endif
