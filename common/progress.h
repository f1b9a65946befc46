/* A progress line on stderr for long sweeps (point k of n, elapsed, estimated time left), drawn
 * in place with \r and only when stderr is a terminal that the table does not use. */
#ifndef SB_PROGRESS_H
#define SB_PROGRESS_H

#include <stddef.h>

struct sb_progress {
    int enabled;
    double start;
    size_t done, total;
};

void sb_progress_init(struct sb_progress *p, int enabled, size_t total);
/* One point finished; `what` names it ("AllReduce of 65536 bytes (float sum, in-place)"). */
void sb_progress_step(struct sb_progress *p, const char *what);
/* Erases the line (before the table goes on, and at the end). */
void sb_progress_clear(const struct sb_progress *p);

#endif
