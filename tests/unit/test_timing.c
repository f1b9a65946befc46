/* The timing loop with a fake collective on a 1-rank job (the threads control plane): what
 * --sync window records is what its samples were taken with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "comm.h"
#include "timing.h"

/* Not linked: the watchdog's progress is a no-op here. */
void sb_watchdog_progress(struct sb_watchdog *w) { (void)w; }

enum { PILOT = 5, ITERS = 10 };

/* The fake call: instant in the pilot, then slower than any window the pilot can give, so
 * every timed iteration after the first starts late; it notes when each call ends. */
struct fake {
    int calls;
    double end[PILOT + ITERS];
};

static struct fake *fake_of(const struct sb_backend *be) { return be->state; }

static int fake_run(const struct sb_backend *be, const struct sb_call *call)
{
    (void)call;
    struct fake *f = fake_of(be);
    if (f->calls >= PILOT)
        sb_sleep(500e-6);
    f->end[f->calls < PILOT + ITERS ? f->calls : PILOT + ITERS - 1] = sb_now();
    f->calls++;
    return 0;
}

static int fake_barrier(const struct sb_backend *be)
{
    (void)be;
    return 0;
}

static int window_rank(struct sb_comm *c, void *arg)
{
    struct fake *f = arg;
    struct sb_backend be = {.name = "fake", .comm = c, .state = f, .barrier = fake_barrier};
    struct sb_collective coll = {.name = "fake", .run = fake_run};
    struct sb_call call = {0};
    struct sb_timing_config cfg = {.iters = ITERS, .warmup = 0, .min_iters = 1, .max_iters = ITERS,
                                   .precision = 0.02, .max_time = 1, .sync_window = true};
    struct sb_timing t;
    int rc = sb_time_collective(&be, &coll, &call, &cfg, &t);
    if (rc != 0 || t.n != ITERS || !t.window || f->calls != PILOT + ITERS)
        return 1;
    /* sample k = end of call k - (T0 + k x window): the window the batch ran with is
     * (end1 - end0) - (sample1 - sample0), up to the instants between the call's end and the
     * loop's clock */
    const double *end = f->end + PILOT;
    double used_us = (end[1] - end[0]) * 1e6 - (t.max_us[1] - t.max_us[0]);
    /* (a pilot slowed down by the machine may give a window no call outgrows: then nothing
     * doubles, and the equality still holds) */
    int ok = t.window_us >= 10 && t.window_us < used_us + 5 && t.window_us > used_us - 5;
    if (!ok)
        fprintf(stderr, "late %zu of %zu, window_us %.2f recorded, %.2f used\n", t.late_iterations, t.n, t.window_us,
                used_us);
    sb_timing_free(&t);
    return ok ? 0 : 1;
}

/* A batch with more than a tenth of its iterations late doubles the window for the next
 * batch; the record's window_us is the one the samples were taken with, not that next one
 * (a fixed -n has no next batch). */
static void window_recorded_is_the_one_used(void **state)
{
    (void)state;
    struct fake f = {0};
    char err[128] = "";
    assert_int_equal(sb_comm_run(1, NULL, NULL, 0, window_rank, &f, err, sizeof err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(window_recorded_is_the_one_used),
    };
    return cmocka_run_group_tests_name("timing", tests, NULL, NULL);
}
