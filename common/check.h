/* Filling buffers with the collective's input pattern and counting wrong results (host memory). */
#ifndef SB_CHECK_H
#define SB_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "collective.h"

/* Writes rank's input pattern into the send buffer (send_count elements). */
void sb_fill_input(const struct sb_collective *coll, const struct sb_pattern *p, int rank, void *send);

/* Fills n bytes with 0xff: -1 or the maximum for integers, NaN for floats; no expected value
 * is ever that pattern, so a collective that writes nothing is caught. */
void sb_poison(void *buf, size_t bytes);

/* Number of receive elements (recv_count) that differ from the exact expected value. */
int64_t sb_count_wrong(const struct sb_collective *coll, const struct sb_pattern *p, int rank, const void *recv);

#endif
