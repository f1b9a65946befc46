/* --preflight: before the sweep, every rank sends a few bytes to every other rank and waits,
 * nonblocking, until the deadline (-T if given, else 30 s) to hear from all of them.  On
 * failure rank 0 names the ranks some peer never heard from, the caller's report function
 * writes the header and an error record, and the job ends with exit 1. */
#ifndef SB_PREFLIGHT_H
#define SB_PREFLIGHT_H

#include <jansson.h>

#include "comm.h"

/* Rank 0, on failure: write `header` and the `error` record (both still owned by the caller). */
typedef void (*sb_preflight_report_fn)(json_t *header, json_t *error, void *arg);

/* requested: 1 on, 0 off, -1 auto (on when the ranks span several nodes).  Records in `header`
 * (rank 0; NULL elsewhere) whether it ran and how it went.  Returns 0 when every rank heard from
 * every other (or it did not run); on failure the job is ended and it does not return. */
int sb_preflight(const struct sb_comm *c, const char *prog, int requested, double timeout_s, json_t *header,
                 sb_preflight_report_fn report, void *arg);

#endif
