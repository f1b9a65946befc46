/* The list of message sizes of a run. */
#ifndef SB_SWEEP_H
#define SB_SWEEP_H

#include <stddef.h>

#include "collective.h"
#include "options.h"

struct sb_size {
    size_t requested;       /* what the options asked for */
    size_t bytes;           /* rounded down to whole elements (per peer where that applies) */
    struct sb_layout layout;
};

/* Builds the sizes for one dtype on `ranks` ranks.  Sizes that round down are kept with both
 * numbers; sizes smaller than one granule, and duplicates after rounding, are dropped and
 * said in `notes` (one line per event, may be empty).  Returns the number of sizes. */
size_t sb_sweep_build(const struct sb_options *o, const struct sb_collective *coll, size_t elem_size,
                      int ranks, struct sb_size *out, size_t max_out, char *notes, size_t notes_len);

/* Bytes of memory one rank needs for a size: the harness allocates a send and a receive
 * buffer, both at the larger of the two sizes (in place and for one-buffer collectives too). */
size_t sb_sweep_footprint(const struct sb_size *s, size_t elem_size);

#endif
