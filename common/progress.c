#include "progress.h"

#include <stdio.h>

#include "timing.h"

void sb_progress_init(struct sb_progress *p, int enabled, size_t total)
{
    *p = (struct sb_progress){.enabled = enabled && total > 1, .start = sb_now(), .total = total};
}

void sb_progress_step(struct sb_progress *p, const char *what)
{
    p->done++;
    if (!p->enabled || p->done >= p->total)
        return;
    double elapsed = sb_now() - p->start;
    /* Sizes grow geometrically, so the estimate from the mean point so far is a lower bound;
     * it is labelled as such. */
    double left = elapsed / (double)p->done * (double)(p->total - p->done);
    fprintf(stderr, "\r\033[K[%zu/%zu points] %.0f s elapsed, >= %.0f s left; last: %s", p->done, p->total, elapsed,
            left, what);
    fflush(stderr);
}

void sb_progress_clear(const struct sb_progress *p)
{
    if (p->enabled) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
}
